//! Faults injected on purpose: a seeded, deterministic choice of which requests fail and how.
//!
//! With `fault_rate > 0` the disk draws one number per accepted request, in submission order,
//! from a splitmix64 generator seeded with `fault_seed`, and decides from it alone whether
//! that request fails and with which [`DiskFault`]. Nothing else — no wall clock, no host
//! randomness, not the scheduler's order — enters the choice, so the same requests give the
//! same faults on every machine. `docs/disk.md` gives the rule precisely enough to predict
//! a request's fate by hand.

use super::{DiskError, DiskOp};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Why a request failed.
///
/// [`DiskFault::Read`], [`DiskFault::Write`] and [`DiskFault::Timeout`] are injected by the
/// disk model (see [`FaultInjector`]); [`DiskFault::Dma`] is never produced by the disk, only
/// by the disk controller, when a request's DMA buffer is not wholly in RAM. Whatever the
/// cause, a failed request moved no data: a read left RAM untouched, a write left the disk's
/// blocks unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiskFault {
    /// A read error: the read took its normal service time, then failed.
    Read,
    /// A write error: the write took its normal service time, then failed.
    Write,
    /// The request occupied the disk for the configured `timeout`, then was reported failed.
    Timeout,
    /// The disk controller could not move the data: the DMA buffer is not wholly in RAM
    /// (never injected; the controller's `ERR_DMA`).
    Dma,
}

impl DiskFault {
    /// The kinds the disk can inject, in the order [`FaultInjector`] indexes them.
    pub const INJECTABLE: [DiskFault; 3] = [DiskFault::Read, DiskFault::Write, DiskFault::Timeout];

    /// `"read"`, `"write"`, `"timeout"` or `"dma"`: the name used in configurations and reports.
    pub fn name(self) -> &'static str {
        match self {
            DiskFault::Read => "read",
            DiskFault::Write => "write",
            DiskFault::Timeout => "timeout",
            DiskFault::Dma => "dma",
        }
    }

    /// A short description for reports: `"read error"`, `"write error"`, `"timeout"`,
    /// `"DMA error"`.
    pub fn description(self) -> &'static str {
        match self {
            DiskFault::Read => "read error",
            DiskFault::Write => "write error",
            DiskFault::Timeout => "timeout",
            DiskFault::Dma => "DMA error",
        }
    }

    /// Whether the disk may inject this kind into a request of `op`: read errors into reads,
    /// write errors into writes, timeouts into both.
    pub fn applies_to(self, op: DiskOp) -> bool {
        matches!(
            (self, op),
            (DiskFault::Read, DiskOp::Read)
                | (DiskFault::Write, DiskOp::Write)
                | (DiskFault::Timeout, _)
        )
    }

    /// Looks an injectable kind up by name (`read`, `write`, `timeout`; any case).
    pub fn from_name(name: &str) -> Result<DiskFault, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(DiskFault::Read),
            "write" => Ok(DiskFault::Write),
            "timeout" => Ok(DiskFault::Timeout),
            "dma" => Err(
                "`dma` is not a fault the disk injects (the controller reports it when a DMA buffer is not in RAM); the kinds are read, write, timeout"
                    .into(),
            ),
            _ => Err(format!(
                "unknown fault kind `{name}`; the kinds are read, write, timeout"
            )),
        }
    }
}

impl fmt::Display for DiskFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for DiskFault {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for DiskFault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DiskFault, D::Error> {
        let s = String::deserialize(d)?;
        DiskFault::from_name(&s).map_err(de::Error::custom)
    }
}

/// `fault_kinds` as a list (`["read", "timeout"]`) or, for `--set`, one string of
/// comma-separated names (`"read,timeout"`).
pub(crate) fn deserialize_kinds<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<DiskFault>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<DiskFault>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of fault kinds such as [\"read\", \"write\", \"timeout\"]")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<DiskFault>, E> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| DiskFault::from_name(s).map_err(E::custom))
                .collect()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<DiskFault>, A::Error> {
            let mut v = Vec::new();
            while let Some(k) = seq.next_element::<DiskFault>()? {
                v.push(k);
            }
            Ok(v)
        }
    }
    d.deserialize_any(V)
}

/// The default `fault_kinds`: every injectable kind.
pub(crate) fn all_kinds() -> Vec<DiskFault> {
    DiskFault::INJECTABLE.to_vec()
}

/// 2⁻⁵³: turns the top 53 bits of a draw into a number in `[0, 1)`, exactly.
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// The seeded choice of faults: one draw per accepted request, in submission order.
///
/// Draw `n` (from 1) is splitmix64: `state = seed + n × 0x9e3779b97f4a7c15` (wrapping),
/// then `z = (state ^ state >> 30) × 0xbf58476d1ce4e5b9`, `z = (z ^ z >> 27) ×
/// 0x94d049bb133111eb`, `x = z ^ z >> 31`. The request fails when `(x >> 11) × 2⁻⁵³ < rate`;
/// its kind is then one of the configured kinds that [apply](DiskFault::applies_to) to its
/// operation, taken in the order read, write, timeout, at index `((x & 0x7ff) × n) >> 11`
/// for `n` applicable kinds. A request to which no configured kind applies (a read when only
/// write errors are configured) never fails, but still uses its draw.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultInjector {
    rate: f64,
    kinds: Vec<DiskFault>,
    state: u64,
    draws: u64,
}

impl FaultInjector {
    /// An injector failing requests with probability `rate` (in `[0, 1]`) with one of
    /// `kinds`, seeded with `seed`. Refuses what [`crate::disk::DiskConfig::validate`]
    /// refuses.
    pub fn new(rate: f64, seed: u64, kinds: &[DiskFault]) -> Result<FaultInjector, DiskError> {
        check(rate, kinds)?;
        Ok(FaultInjector {
            rate,
            kinds: DiskFault::INJECTABLE
                .into_iter()
                .filter(|k| kinds.contains(k))
                .collect(),
            state: seed,
            draws: 0,
        })
    }

    /// Whether any request can fail (`rate > 0`).
    pub fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// How many draws have been made (requests decided so far).
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// The next number of the splitmix64 sequence.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Decides the fate of the next accepted request, a request of `op`: `None` to succeed,
    /// or the fault it will have. Uses exactly one draw.
    pub fn draw(&mut self, op: DiskOp) -> Option<DiskFault> {
        let x = self.next();
        self.draws += 1;
        if (x >> 11) as f64 * UNIT >= self.rate {
            return None;
        }
        let fits = || self.kinds.iter().copied().filter(|k| k.applies_to(op));
        let n = fits().count() as u64;
        fits().nth((((x & 0x7ff) * n) >> 11) as usize)
    }
}

/// The checks of `fault_rate` and `fault_kinds`, with messages naming the key.
pub(crate) fn check(rate: f64, kinds: &[DiskFault]) -> Result<(), DiskError> {
    let bad = |m: String| Err(DiskError::Config(m));
    if !(0.0..=1.0).contains(&rate) {
        return bad(format!(
            "disk.fault_rate = {rate} is not a probability; use a number from 0 (no request fails, the default) to 1 (every request fails), e.g. 0.01"
        ));
    }
    if let Some(k) = kinds.iter().find(|k| !DiskFault::INJECTABLE.contains(k)) {
        return bad(format!(
            "disk.fault_kinds lists `{k}`, which the disk cannot inject; use read, write and timeout"
        ));
    }
    for (i, k) in kinds.iter().enumerate() {
        if kinds[..i].contains(k) {
            return bad(format!(
                "disk.fault_kinds lists `{k}` twice; name each kind once, e.g. [\"read\", \"write\", \"timeout\"]"
            ));
        }
    }
    if kinds.is_empty() && rate > 0.0 {
        return bad(format!(
            "disk.fault_kinds is empty but disk.fault_rate = {rate}; list at least one of \"read\", \"write\", \"timeout\", or set fault_rate = 0"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs of splitmix64 seeded with 0 (as in Vigna's reference code).
        let mut f = FaultInjector::new(0.0, 0, &[]).unwrap();
        assert_eq!(f.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(f.next(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(f.next(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn rate_zero_never_fails_and_rate_one_always_does() {
        let mut never = FaultInjector::new(0.0, 7, &all_kinds()).unwrap();
        let mut always = FaultInjector::new(1.0, 7, &all_kinds()).unwrap();
        for i in 0..10_000 {
            let op = if i % 3 == 0 {
                DiskOp::Write
            } else {
                DiskOp::Read
            };
            assert_eq!(never.draw(op), None);
            let f = always.draw(op).expect("rate 1 fails every request");
            assert!(f.applies_to(op), "{f:?} for a {op}");
        }
        assert_eq!((never.draws(), always.draws()), (10_000, 10_000));
        assert!(!never.enabled() && always.enabled());
    }

    #[test]
    fn only_kinds_that_fit_the_operation() {
        let mut w = FaultInjector::new(1.0, 3, &[DiskFault::Write]).unwrap();
        assert_eq!(
            w.draw(DiskOp::Read),
            None,
            "a read cannot get a write error"
        );
        assert_eq!(w.draw(DiskOp::Write), Some(DiskFault::Write));
        assert_eq!(w.draws(), 2, "the read used its draw all the same");
        let mut t = FaultInjector::new(1.0, 3, &[DiskFault::Timeout]).unwrap();
        assert_eq!(t.draw(DiskOp::Read), Some(DiskFault::Timeout));
        assert_eq!(t.draw(DiskOp::Write), Some(DiskFault::Timeout));
    }

    #[test]
    fn the_order_of_the_kinds_list_does_not_matter() {
        let mut a = FaultInjector::new(0.5, 11, &[DiskFault::Timeout, DiskFault::Read]).unwrap();
        let mut b = FaultInjector::new(0.5, 11, &[DiskFault::Read, DiskFault::Timeout]).unwrap();
        for _ in 0..1000 {
            assert_eq!(a.draw(DiskOp::Read), b.draw(DiskOp::Read));
        }
    }

    #[test]
    fn names_and_bad_kinds() {
        for k in DiskFault::INJECTABLE {
            assert_eq!(DiskFault::from_name(k.name()), Ok(k));
        }
        assert_eq!(DiskFault::from_name(" Timeout "), Ok(DiskFault::Timeout));
        assert!(DiskFault::from_name("dma")
            .unwrap_err()
            .contains("controller"));
        assert!(DiskFault::from_name("crc")
            .unwrap_err()
            .contains("the kinds are read, write, timeout"));
    }
}
