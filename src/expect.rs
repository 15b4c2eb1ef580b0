//! The answer a scenario's access is expected to give (`expect`), so that a student's whole
//! answer is graded: the physical address and the value read there, or the fault and which
//! one.
//!
//! Written as:
//! - `expect = "0x6229"` (or a number): the access translates to that physical address;
//! - `expect = { pa = "0x6229", value = "0x2a" }`: ... and the bytes there hold that value
//!   (little-endian, the access's size);
//! - `expect = "fault"`: the access faults, for whatever reason;
//! - `expect = "fault:WHAT"`, `"fault:WHAT@N"`, or `{ fault = "WHAT", level = N }` /
//!   `{ fault = "WHAT", segment = N }`: it faults for that reason. WHAT is a counter name
//!   of `mmu.faults.*` (`bounds`, `segment_limit`, `segment_not_present`,
//!   `segment_protection`, `page.invalid`, `page.not_writable`, ..., `address_out_of_range`,
//!   `non_canonical`), or a group: `segment` (any segment fault), `page` (any page fault),
//!   `invalid` (an invalid PTE at any level), `pde` (an invalid entry above the last level:
//!   OSTEP's "page directory entry not valid"), `pte` (an invalid last-level entry),
//!   `permission` (a permission check of a page or a segment). `@N` is the PTE's level for
//!   page faults (the root is `levels - 1`, the leaf level 0) and the segment register for
//!   segment faults (OSTEP's `SEG0`/`SEG1` are `@0`/`@1`).
//!
//! An answer may also grade the TLB ([`Expectation`]): `expect = { pa = "0x1234", tlb =
//! "hit" }`, `{ tlb = "miss", set = 1, evicts = "vpn:0x5" }` (or `evicts = "none"`), or only
//! `{ tlb = "miss" }`. The TLB is the first-level one the access uses (the dTLB for loads and
//! stores, the iTLB for fetches): `hit` means its lookup hit; `set` is the set it hit in or
//! filled; `evicts` the VPN (in units of its own page size) of the valid entry the miss's fill
//! replaced, or `none`.

use crate::report::Outcome;
use serde::Deserialize;
use std::fmt;
use std::fmt::Write as _;
use vmlab_mmu::{Fault, FaultCause, PageFaultReason, Step};

/// The expected answer of one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// It translates to `pa` (and, with `value`, the bytes there hold it).
    Pa {
        /// The physical address.
        pa: u64,
        /// The value read there (little-endian, the access's size).
        value: Option<u64>,
    },
    /// It faults (for the reason given, if one is).
    Fault(Option<FaultMatch>),
}

/// Which fault an `expect` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultMatch {
    /// The cause or group.
    pub what: FaultWhat,
    /// `@N`: the PTE level (page faults) or the segment register (segment faults).
    pub at: Option<u8>,
}

/// A fault cause, or a group of causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultWhat {
    /// Exactly this cause (its `mmu.faults.*` name).
    Cause(FaultCause),
    /// Any segment fault (limit, not present, protection).
    Segment,
    /// Any page fault.
    Page,
    /// An invalid PTE at any level.
    Invalid,
    /// An invalid entry above the last level (a page directory entry).
    Pde,
    /// An invalid last-level entry.
    Pte,
    /// A permission check of a page or a segment.
    Permission,
}

const GROUPS: &[(&str, FaultWhat)] = &[
    ("segment", FaultWhat::Segment),
    ("page", FaultWhat::Page),
    ("invalid", FaultWhat::Invalid),
    ("pde", FaultWhat::Pde),
    ("pte", FaultWhat::Pte),
    ("permission", FaultWhat::Permission),
];

impl FaultWhat {
    fn parse(s: &str) -> Result<FaultWhat, String> {
        let s = s.trim().to_ascii_lowercase();
        if let Some((_, w)) = GROUPS.iter().find(|(n, _)| *n == s) {
            return Ok(*w);
        }
        FaultCause::all()
            .find(|c| c.name() == s)
            .map(FaultWhat::Cause)
            .ok_or_else(|| {
                let causes: Vec<String> = FaultCause::all().map(|c| c.name()).collect();
                format!(
                    "unknown fault `{s}`; name a group ({}) or a cause ({})",
                    GROUPS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    causes.join(", ")
                )
            })
    }

    fn name(self) -> String {
        match self {
            FaultWhat::Cause(c) => c.name(),
            other => GROUPS
                .iter()
                .find(|(_, w)| *w == other)
                .map_or("?", |(n, _)| n)
                .to_string(),
        }
    }

    fn matches(self, f: &Fault) -> bool {
        let page = |r: &PageFaultReason| match f {
            Fault::Page { reason, .. } => reason == r,
            _ => false,
        };
        match self {
            FaultWhat::Cause(c) => f.cause() == c,
            FaultWhat::Segment => matches!(
                f,
                Fault::SegmentLimit { .. }
                    | Fault::SegmentNotPresent { .. }
                    | Fault::SegmentProtection { .. }
            ),
            FaultWhat::Page => matches!(f, Fault::Page { .. }),
            FaultWhat::Invalid => page(&PageFaultReason::Invalid),
            FaultWhat::Pde => page(&PageFaultReason::Invalid) && level(f).is_some_and(|l| l > 0),
            FaultWhat::Pte => page(&PageFaultReason::Invalid) && level(f) == Some(0),
            FaultWhat::Permission => {
                matches!(f, Fault::SegmentProtection { .. })
                    || matches!(
                        f,
                        Fault::Page {
                            reason: PageFaultReason::NotReadable
                                | PageFaultReason::NotWritable
                                | PageFaultReason::NotExecutable
                                | PageFaultReason::WriteWithoutRead
                                | PageFaultReason::SupervisorPage
                                | PageFaultReason::UserPageSumClear
                                | PageFaultReason::UserPageFetch,
                            ..
                        }
                    )
            }
        }
    }
}

/// The PTE level of a page fault.
fn level(f: &Fault) -> Option<u8> {
    match f {
        Fault::Page { level, .. } | Fault::PteAccess { level, .. } => Some(*level),
        _ => None,
    }
}

/// The segment register of a segment fault.
fn segment(f: &Fault) -> Option<u8> {
    match f {
        Fault::SegmentLimit { segment, .. }
        | Fault::SegmentNotPresent { segment }
        | Fault::SegmentProtection { segment, .. } => Some(*segment),
        _ => None,
    }
}

impl FaultMatch {
    fn parse(s: &str) -> Result<FaultMatch, String> {
        let (what, at) = match s.split_once('@') {
            Some((w, n)) => {
                let n = n.trim();
                let n = n
                    .strip_prefix("level")
                    .or_else(|| n.strip_prefix("seg"))
                    .unwrap_or(n)
                    .trim();
                let at: u8 = n.parse().map_err(|_| {
                    format!("`@{n}` is not a level or segment number; write e.g. fault:pde@1 or fault:segment@0")
                })?;
                (w, Some(at))
            }
            None => (s, None),
        };
        Ok(FaultMatch {
            what: FaultWhat::parse(what)?,
            at,
        })
    }

    /// Whether fault `f` is this one.
    pub fn matches(&self, f: &Fault) -> bool {
        self.what.matches(f)
            && self
                .at
                .is_none_or(|n| level(f) == Some(n) || segment(f) == Some(n))
    }
}

impl Expect {
    /// Whether `outcome` is this answer.
    pub fn matches(&self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (
                Expect::Pa { pa, value },
                Outcome::Ok {
                    translation,
                    value: got,
                },
            ) => translation.pa == *pa && value.is_none_or(|v| *got == Some(v)),
            (Expect::Fault(m), Outcome::Fault { fault, .. }) => m.is_none_or(|m| m.matches(fault)),
            _ => false,
        }
    }

    /// The answer in words, for the report (`PA 0x6229 holding 0x2a`, `a page.invalid
    /// fault at level 1`); `num` writes a number as the report does.
    pub fn describe(&self, num: &dyn Fn(u64) -> String) -> String {
        match self {
            Expect::Pa { pa, value: None } => format!("PA {}", num(*pa)),
            Expect::Pa { pa, value: Some(v) } => format!("PA {} holding {v:#x}", num(*pa)),
            Expect::Fault(None) => "a fault".to_string(),
            Expect::Fault(Some(m)) => format!("a {m}"),
        }
    }
}

impl fmt::Display for FaultMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fault", self.what.name())?;
        if let Some(n) = self.at {
            let seg = matches!(self.what, FaultWhat::Segment)
                || matches!(
                    self.what,
                    FaultWhat::Cause(
                        FaultCause::SegmentLimit
                            | FaultCause::SegmentNotPresent
                            | FaultCause::SegmentProtection
                    )
                );
            write!(f, " {} {n}", if seg { "in segment" } else { "at level" })?;
        }
        Ok(())
    }
}

impl serde::Serialize for Expect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Expect::Fault(None) => s.serialize_str("fault"),
            Expect::Fault(Some(m)) => {
                let mut map = s.serialize_map(Some(1))?;
                let at = m.at.map(|n| format!("@{n}")).unwrap_or_default();
                map.serialize_entry("fault", &format!("{}{at}", m.what.name()))?;
                map.end()
            }
            Expect::Pa { pa, value } => {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("pa", pa)?;
                if let Some(v) = value {
                    map.serialize_entry("value", v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a physical address such as \"0x6229\", \"fault\", \"fault:pte\", or a table { pa = ..., value = ... } / { fault = ..., level = N }",
                )
            }
            fn visit_i64<Er: serde::de::Error>(self, v: i64) -> Result<Expect, Er> {
                u64::try_from(v)
                    .map(|pa| Expect::Pa { pa, value: None })
                    .map_err(|_| {
                        Er::custom(format!("{v} is negative; a physical address is unsigned"))
                    })
            }
            fn visit_str<Er: serde::de::Error>(self, v: &str) -> Result<Expect, Er> {
                let t = v.trim();
                if t.eq_ignore_ascii_case("fault") {
                    return Ok(Expect::Fault(None));
                }
                if let Some(rest) = t
                    .strip_prefix("fault:")
                    .or_else(|| t.strip_prefix("FAULT:"))
                {
                    return FaultMatch::parse(rest)
                        .map(|m| Expect::Fault(Some(m)))
                        .map_err(Er::custom);
                }
                crate::num::parse_num(t)
                    .map(|pa| Expect::Pa { pa, value: None })
                    .map_err(|e| {
                        Er::custom(format!(
                            "{e}; or write expect = \"fault\" (or \"fault:pte\", \"fault:segment@1\", ...) for an access that must fault"
                        ))
                    })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<Expect, A::Error> {
                let raw = RawTable::read(m)?;
                if raw.tlb.is_some() || raw.set.is_some() || raw.evicts.is_some() {
                    return Err(serde::de::Error::custom(
                        "`tlb`, `set` and `evicts` are not allowed here",
                    ));
                }
                raw.answer(false)?.ok_or_else(|| {
                    serde::de::Error::custom("an expect table needs `pa` or `fault`")
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The TLB part of an answer: whether the access's first-level TLB hit, in which set, and
/// what a miss's fill evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbExpect {
    /// True for a hit, false for a miss.
    pub hit: bool,
    /// The set the access hit in or filled, if the answer names it.
    pub set: Option<u32>,
    /// What the miss's fill evicted, if the answer names it.
    pub evicts: Option<Evicts>,
}

/// What a TLB fill evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evicts {
    /// Nothing valid (the way was free, or the access hit or faulted).
    Nothing,
    /// The valid entry of this VPN (in units of the entry's page size).
    Vpn(u64),
}

/// An access's full expected answer: the physical address or fault ([`Expect`]), the TLB's
/// behaviour ([`TlbExpect`]), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The translation or fault, if the answer names one.
    pub answer: Option<Expect>,
    /// The TLB's behaviour, if the answer names it.
    pub tlb: Option<TlbExpect>,
}

impl From<Expect> for Expectation {
    fn from(e: Expect) -> Expectation {
        Expectation {
            answer: Some(e),
            tlb: None,
        }
    }
}

/// What the access's first-level TLB did, read from its recorded steps: (hit, set, evicted
/// VPN), or `None` if no TLB was looked up.
fn tlb_seen(steps: &[Step]) -> Option<(bool, u32, Option<u64>)> {
    let (l1, hit) = steps.iter().find_map(|s| match s {
        Step::TlbLookup { tlb, hit, .. } => Some((*tlb, *hit)),
        _ => None,
    })?;
    if let Some(slot) = hit {
        return Some((true, slot.set, None));
    }
    let fill = steps.iter().find_map(|s| match s {
        Step::TlbFill { tlb, slot, evicted } if *tlb == l1 => Some((*slot, *evicted)),
        _ => None,
    });
    match fill {
        Some((slot, ev)) => Some((false, slot.set, ev.map(|e| e.vpn))),
        // A miss that faulted fills nothing: name the set the page maps to as unknown.
        None => Some((false, u32::MAX, None)),
    }
}

impl TlbExpect {
    /// Whether the recorded steps of an access show this TLB behaviour.
    pub fn matches(&self, steps: &[Step]) -> bool {
        let Some((hit, set, ev)) = tlb_seen(steps) else {
            return false;
        };
        hit == self.hit
            && self.set.is_none_or(|s| s == set)
            && self.evicts.is_none_or(|e| match e {
                Evicts::Nothing => ev.is_none(),
                Evicts::Vpn(v) => ev == Some(v),
            })
    }

    fn describe(&self) -> String {
        let mut out = format!("a TLB {}", if self.hit { "hit" } else { "miss" });
        if let Some(s) = self.set {
            let _ = write!(out, " in set {s}");
        }
        match self.evicts {
            Some(Evicts::Nothing) => out.push_str(" evicting nothing"),
            Some(Evicts::Vpn(v)) => {
                let _ = write!(out, " evicting VPN {v:#x}");
            }
            None => {}
        }
        out
    }
}

impl Expectation {
    /// Whether the access's outcome and recorded steps give this answer.
    pub fn matches(&self, outcome: &Outcome, steps: &[Step]) -> bool {
        self.answer.is_none_or(|a| a.matches(outcome)) && self.tlb.is_none_or(|t| t.matches(steps))
    }

    /// The answer in words, for the report; `num` writes a number as the report does.
    pub fn describe(&self, num: &dyn Fn(u64) -> String) -> String {
        match (&self.answer, &self.tlb) {
            (Some(a), None) => a.describe(num),
            (Some(a), Some(t)) => format!("{}, {}", a.describe(num), t.describe()),
            (None, Some(t)) => t.describe(),
            (None, None) => "anything".to_string(),
        }
    }
}

impl serde::Serialize for Expectation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(t) = &self.tlb else {
            return match &self.answer {
                Some(a) => a.serialize(s),
                None => s.serialize_map(Some(0))?.end(),
            };
        };
        let mut map = s.serialize_map(None)?;
        match &self.answer {
            Some(Expect::Pa { pa, value }) => {
                map.serialize_entry("pa", pa)?;
                if let Some(v) = value {
                    map.serialize_entry("value", v)?;
                }
            }
            Some(Expect::Fault(None)) => map.serialize_entry("fault", "fault")?,
            Some(Expect::Fault(Some(m))) => {
                let at = m.at.map(|n| format!("@{n}")).unwrap_or_default();
                map.serialize_entry("fault", &format!("{}{at}", m.what.name()))?;
            }
            None => {}
        }
        map.serialize_entry("tlb", if t.hit { "hit" } else { "miss" })?;
        if let Some(set) = t.set {
            map.serialize_entry("set", &set)?;
        }
        match t.evicts {
            Some(Evicts::Nothing) => map.serialize_entry("evicts", "none")?,
            Some(Evicts::Vpn(v)) => map.serialize_entry("evicts", &format!("vpn:{v:#x}"))?,
            None => {}
        }
        map.end()
    }
}

/// An expect table's keys as written.
#[derive(Default)]
struct RawTable {
    pa: Option<u64>,
    value: Option<u64>,
    fault: Option<String>,
    at: Option<u8>,
    tlb: Option<String>,
    set: Option<u64>,
    evicts: Option<u64>,
    evicts_text: Option<String>,
}

impl RawTable {
    fn read<'de, A: serde::de::MapAccess<'de>>(mut m: A) -> Result<RawTable, A::Error> {
        let mut r = RawTable::default();
        while let Some(k) = m.next_key::<String>()? {
            match k.as_str() {
                "pa" => r.pa = Some(m.next_value::<crate::num::Num>()?.get()),
                "value" => r.value = Some(m.next_value::<crate::num::Num>()?.get()),
                "fault" => r.fault = Some(m.next_value::<String>()?),
                "level" | "segment" => {
                    let n = m.next_value::<crate::num::Num>()?.get();
                    r.at = Some(u8::try_from(n).map_err(|_| {
                        serde::de::Error::custom(format!("{k} {n} is too large"))
                    })?);
                }
                "tlb" => r.tlb = Some(m.next_value::<String>()?),
                "set" => r.set = Some(m.next_value::<crate::num::Num>()?.get()),
                "evicts" => {
                    let v = m.next_value::<toml::Value>()?;
                    match v {
                        toml::Value::String(t) => r.evicts_text = Some(t),
                        toml::Value::Integer(i) if i >= 0 => {
                            r.evicts = Some(i as u64)
                        }
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "evicts = {other} is not a VPN; write evicts = \"vpn:0x5\", a number, or \"none\""
                            )))
                        }
                    }
                }
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unknown expect field `{other}`; an expect table has `pa` and `value`, or `fault` and `level`/`segment`, and optionally `tlb` (\"hit\"/\"miss\"), `set` and `evicts`"
                    )))
                }
            }
        }
        Ok(r)
    }

    /// The PA-or-fault part; `None` when the table names neither (allowed only when
    /// `tlb_given`).
    fn answer<E: serde::de::Error>(&self, tlb_given: bool) -> Result<Option<Expect>, E> {
        let (pa, value, at) = (self.pa, self.value, self.at);
        match (pa, &self.fault) {
            (Some(_), Some(_)) => Err(E::custom(
                "an expect table has `pa` (a translation) or `fault`, not both",
            )),
            (Some(pa), None) if at.is_none() => Ok(Some(Expect::Pa { pa, value })),
            (Some(_), None) => Err(E::custom(
                "`level` and `segment` go with `fault`, not with `pa`",
            )),
            (None, Some(f)) if value.is_none() => {
                let what = if f.eq_ignore_ascii_case("fault") || f.is_empty() {
                    None
                } else {
                    Some(FaultWhat::parse(f).map_err(E::custom)?)
                };
                match (what, at) {
                    (None, None) => Ok(Some(Expect::Fault(None))),
                    (None, Some(_)) => Err(E::custom(
                        "name the fault to give its level or segment, e.g. { fault = \"pde\", level = 1 }",
                    )),
                    (Some(what), at) => Ok(Some(Expect::Fault(Some(FaultMatch { what, at })))),
                }
            }
            (None, Some(_)) => Err(E::custom("`value` goes with `pa`: a fault reads nothing")),
            (None, None) if tlb_given && value.is_none() && at.is_none() => Ok(None),
            (None, None) => Err(E::custom(
                "an expect table needs `pa` (and `value`) or `fault` (and `level`/`segment`)",
            )),
        }
    }

    fn tlb<E: serde::de::Error>(&self) -> Result<Option<TlbExpect>, E> {
        let Some(t) = &self.tlb else {
            if self.set.is_some() || self.evicts.is_some() || self.evicts_text.is_some() {
                return Err(E::custom(
                    "`set` and `evicts` go with `tlb`: write e.g. { tlb = \"miss\", set = 1, evicts = \"vpn:0x5\" }",
                ));
            }
            return Ok(None);
        };
        let hit = match t.trim().to_ascii_lowercase().as_str() {
            "hit" => true,
            "miss" => false,
            other => {
                return Err(E::custom(format!(
                    "tlb = \"{other}\"; write tlb = \"hit\" or tlb = \"miss\""
                )))
            }
        };
        let set = self
            .set
            .map(|s| u32::try_from(s).map_err(|_| E::custom(format!("set {s} is too large"))))
            .transpose()?;
        let evicts = match (&self.evicts, &self.evicts_text) {
            (Some(n), _) => Some(Evicts::Vpn(*n)),
            (None, Some(text)) => {
                let t = text.trim();
                if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("nothing") {
                    Some(Evicts::Nothing)
                } else {
                    let n = t
                        .strip_prefix("vpn:")
                        .or_else(|| t.strip_prefix("VPN:"))
                        .unwrap_or(t)
                        .trim();
                    let v = crate::num::parse_num(n).map_err(|e| {
                        E::custom(format!(
                            "evicts = \"{t}\": {e}; write evicts = \"vpn:0x5\" or \"none\""
                        ))
                    })?;
                    Some(Evicts::Vpn(v))
                }
            }
            (None, None) => None,
        };
        if hit && matches!(evicts, Some(Evicts::Vpn(_))) {
            return Err(E::custom(
                "a TLB hit evicts nothing: give `evicts` with tlb = \"miss\"",
            ));
        }
        Ok(Some(TlbExpect { hit, set, evicts }))
    }
}

impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Expectation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a physical address such as \"0x6229\", \"fault\", \"fault:pte\", or a table { pa = ..., value = ..., tlb = \"hit\" } / { fault = ..., level = N } / { tlb = \"miss\", evicts = \"vpn:0x5\" }",
                )
            }
            fn visit_i64<Er: serde::de::Error>(self, v: i64) -> Result<Expectation, Er> {
                Expect::deserialize(serde::de::value::I64Deserializer::<Er>::new(v)).map(Into::into)
            }
            fn visit_str<Er: serde::de::Error>(self, v: &str) -> Result<Expectation, Er> {
                Expect::deserialize(serde::de::value::StrDeserializer::<Er>::new(v)).map(Into::into)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                m: A,
            ) -> Result<Expectation, A::Error> {
                let raw = RawTable::read(m)?;
                let tlb = raw.tlb()?;
                let answer = raw.answer(tlb.is_some())?;
                Ok(Expectation { answer, tlb })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        expect: Expect,
    }

    fn parse(s: &str) -> Result<Expect, String> {
        toml::from_str::<T>(&format!("expect = {s}"))
            .map(|t| t.expect)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_form_parses() {
        let check = |s: &str, want: Expect| assert_eq!(parse(s), Ok(want), "{s}");
        check(
            "\"0x6229\"",
            Expect::Pa {
                pa: 0x6229,
                value: None,
            },
        );
        check(
            "25129",
            Expect::Pa {
                pa: 25129,
                value: None,
            },
        );
        check(
            "{ pa = \"0x6229\", value = \"0x2a\" }",
            Expect::Pa {
                pa: 0x6229,
                value: Some(0x2a),
            },
        );
        check("\"fault\"", Expect::Fault(None));
        check(
            "\"fault:pde\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Pde,
                at: None,
            })),
        );
        check(
            "\"fault:segment@1\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Segment,
                at: Some(1),
            })),
        );
        check(
            "\"fault:page.invalid@level 2\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::Page(PageFaultReason::Invalid)),
                at: Some(2),
            })),
        );
        check(
            "{ fault = \"bounds\" }",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::Bounds),
                at: None,
            })),
        );
        check(
            "{ fault = \"segment_limit\", segment = 0 }",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::SegmentLimit),
                at: Some(0),
            })),
        );
    }

    #[test]
    fn bad_expectations_say_what_would_be_right() {
        let check = |s: &str, want: &str| {
            let e = parse(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        };
        check("\"fault:nonsense\"", "name a group");
        check("\"fault:pde@x\"", "not a level or segment number");
        check("{ pa = 1, fault = \"pde\" }", "not both");
        check("{ fault = \"pde\", value = 1 }", "a fault reads nothing");
        check("{ level = 1 }", "needs `pa`");
        check("{ fault = \"fault\", level = 1 }", "name the fault");
        check("\"12z\"", "fault:pte");
    }

    #[test]
    fn faults_match_by_cause_group_level_and_segment() {
        let page = |reason, level| Fault::Page {
            va: 0,
            kind: vmlab_mmu::AccessKind::Load,
            level,
            pte_addr: 0,
            pte: 0,
            reason,
        };
        let limit = |segment| Fault::SegmentLimit {
            segment,
            offset: 0,
            size: 1,
            limit: 0,
            grows_down: false,
        };
        let m = |s: &str| FaultMatch::parse(s).expect(s);
        let check = |s: &str, f: &Fault, want: bool| assert_eq!(m(s).matches(f), want, "{s} {f:?}");
        check("pde", &page(PageFaultReason::Invalid, 1), true);
        check("pde", &page(PageFaultReason::Invalid, 0), false);
        check("pte", &page(PageFaultReason::Invalid, 0), true);
        check("invalid@1", &page(PageFaultReason::Invalid, 1), true);
        check("invalid@0", &page(PageFaultReason::Invalid, 1), false);
        check("permission", &page(PageFaultReason::NotWritable, 0), true);
        check(
            "page.not_writable",
            &page(PageFaultReason::NotWritable, 0),
            true,
        );
        check(
            "page.not_readable",
            &page(PageFaultReason::NotWritable, 0),
            false,
        );
        check("segment@1", &limit(1), true);
        check("segment@0", &limit(1), false);
        check("segment_limit", &limit(0), true);
        check("bounds", &limit(0), false);
        check(
            "bounds",
            &Fault::Bounds {
                va: 0,
                size: 1,
                bounds: 0,
            },
            true,
        );
    }

    fn parse_full(s: &str) -> Result<Expectation, String> {
        #[derive(Deserialize)]
        struct F {
            expect: Expectation,
        }
        toml::from_str::<F>(&format!("expect = {s}"))
            .map(|t| t.expect)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tlb_answers_parse_and_say_what_is_wrong() {
        let tlb = |hit, set, evicts| Some(TlbExpect { hit, set, evicts });
        let check = |s: &str, want: Expectation| assert_eq!(parse_full(s), Ok(want), "{s}");
        check(
            "{ pa = \"0x1234\", tlb = \"hit\" }",
            Expectation {
                answer: Some(Expect::Pa {
                    pa: 0x1234,
                    value: None,
                }),
                tlb: tlb(true, None, None),
            },
        );
        check(
            "{ tlb = \"miss\", set = 1, evicts = \"vpn:0x5\" }",
            Expectation {
                answer: None,
                tlb: tlb(false, Some(1), Some(Evicts::Vpn(5))),
            },
        );
        check(
            "{ tlb = \"miss\", evicts = \"none\", fault = \"pte\" }",
            Expectation {
                answer: Some(Expect::Fault(Some(FaultMatch {
                    what: FaultWhat::Pte,
                    at: None,
                }))),
                tlb: tlb(false, None, Some(Evicts::Nothing)),
            },
        );
        check(
            "{ tlb = \"miss\", evicts = 7 }",
            Expectation {
                answer: None,
                tlb: tlb(false, None, Some(Evicts::Vpn(7))),
            },
        );
        check(
            "\"0x10\"",
            Expect::Pa {
                pa: 16,
                value: None,
            }
            .into(),
        );
        let bad = |s: &str, want: &str| {
            let e = parse_full(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        };
        bad(
            "{ tlb = \"maybe\" }",
            "write tlb = \"hit\" or tlb = \"miss\"",
        );
        bad("{ set = 1 }", "go with `tlb`");
        bad(
            "{ tlb = \"hit\", evicts = \"vpn:3\" }",
            "a TLB hit evicts nothing",
        );
        bad("{ tlb = \"miss\", evicts = \"five\" }", "vpn:0x5");
        bad("{ tlb = \"miss\", evicts = true }", "not a VPN");
        bad("{ tlb = \"miss\", color = 1 }", "unknown expect field");
        // A plain expect (an [[access]] of an older form) still refuses TLB keys.
        assert!(parse("{ pa = 1, tlb = \"hit\" }").is_err());
    }

    #[test]
    fn tlb_answers_match_the_recorded_steps() {
        use vmlab_mmu::tlb::Slot;
        let entry = |vpn| vmlab_mmu::TlbEntry {
            valid: true,
            vpn,
            ..Default::default()
        };
        let lookup = |tlb, hit: Option<Slot>| Step::TlbLookup {
            tlb,
            hit,
            entry: hit.map(|_| entry(1)),
            cycles: vmlab_mmu::Cycle(0),
        };
        let slot = |set, way| Slot { set, way };
        let hit = [lookup(vmlab_mmu::TlbId::Dtlb, Some(slot(2, 0)))];
        let miss = [
            lookup(vmlab_mmu::TlbId::Dtlb, None),
            Step::TlbFill {
                tlb: vmlab_mmu::TlbId::Dtlb,
                slot: slot(1, 1),
                evicted: Some(entry(5)),
            },
        ];
        let t = |s: &str| parse_full(s).unwrap().tlb.unwrap();
        assert!(t("{ tlb = \"hit\", set = 2 }").matches(&hit));
        assert!(!t("{ tlb = \"hit\", set = 1 }").matches(&hit));
        assert!(!t("{ tlb = \"miss\" }").matches(&hit));
        assert!(t("{ tlb = \"miss\", set = 1, evicts = \"vpn:5\" }").matches(&miss));
        assert!(!t("{ tlb = \"miss\", evicts = \"none\" }").matches(&miss));
        assert!(!t("{ tlb = \"miss\", evicts = \"vpn:6\" }").matches(&miss));
        // No TLB looked up (a machine without TLBs): no TLB answer is right.
        assert!(!t("{ tlb = \"miss\" }").matches(&[]));
    }
}
