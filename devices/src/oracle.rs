//! A self-checking run of the memory system over arbitrary cache geometries, DRAM models and
//! access sequences, for `cargo test` (seeded inputs) and `cargo fuzz` alike.
//!
//! [`check_bytes`] decodes its input with [`arbitrary`], builds a [`MemorySystem`] (an
//! impossible configuration must be a clean error), runs the accesses and checks that:
//! nothing panics; loads return what a plain byte map says memory holds (caches hold no data);
//! `peek` agrees with `load` and changes nothing; every RAM access costs at least the first
//! level's hit latency and at most what its misses could cost; and the cache counters add up
//! to the number of line accesses made.

use crate::cache::{CacheConfig, Replacement, WritePolicy};
use crate::dram::{DramConfig, DramModel};
use crate::memory::{AccessKind, MemoryConfig, MemorySystem};
use crate::ram::RamConfig;
use arbitrary::{Arbitrary, Unstructured};
use std::collections::HashMap;

const BASE: u64 = 0x8000_0000;
const SPAN: u64 = 0x4000;

/// One cache's geometry as a fuzzer writes it (small numbers, mapped onto valid ranges
/// mostly, but not always).
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct FuzzCache {
    enabled: bool,
    sets_log2: u8,
    ways: u8,
    line_log2: u8,
    hit_latency: u8,
    replacement: Replacement,
    write_policy: WritePolicy,
    seed: u8,
    /// An arbitrary size, used when `seed` is 255, to exercise validation.
    odd_size: Option<u16>,
}

impl FuzzCache {
    fn config(self) -> CacheConfig {
        let line = 1u64 << (3 + self.line_log2 % 5);
        let ways = 1 + self.ways as u64 % 5;
        let sets = 1u64 << (self.sets_log2 % 5);
        CacheConfig {
            enabled: self.enabled,
            size: match self.odd_size {
                Some(s) if self.seed == 0xff => s as u64,
                _ => sets * ways * line,
            },
            line,
            ways,
            hit_latency: self.hit_latency as u64 % 20,
            replacement: self.replacement,
            write_policy: self.write_policy,
            seed: self.seed as u64,
        }
    }
}

/// One access.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct FuzzOp {
    kind: u8,
    offset: u16,
    size_log2: u8,
    value: u64,
}

/// A whole case.
#[derive(Clone, Debug, Arbitrary)]
pub struct FuzzCase {
    l1i: FuzzCache,
    l1d: FuzzCache,
    l2: FuzzCache,
    dram: DramModel,
    banks: u8,
    row_log2: u8,
    /// The accesses (decoded from the rest of the input by [`check_bytes`]).
    ops: Vec<FuzzOp>,
}

/// Decodes `data` as a [`FuzzCase`] and checks it, panicking on any violation. Returns how
/// many accesses succeeded (0 when the input does not decode or the configuration is refused).
pub fn check_bytes(data: &[u8]) -> usize {
    let mut u = Unstructured::new(data);
    let Ok(mut case) = FuzzCase::arbitrary(&mut u) else {
        return 0;
    };
    // The rest of the input is the access list, one fixed-size op after another (the derived
    // `Vec` decoding would stop after a couple of elements on random bytes).
    while !u.is_empty() {
        match FuzzOp::arbitrary(&mut u) {
            Ok(op) => case.ops.push(op),
            Err(_) => break,
        }
    }
    check(&case)
}

/// Runs one case, panicking on any violation. Returns how many accesses succeeded.
pub fn check(case: &FuzzCase) -> usize {
    let cfg = MemoryConfig {
        ram: RamConfig {
            base: BASE,
            size: SPAN,
        },
        l1i: case.l1i.config(),
        l1d: case.l1d.config(),
        l2: case.l2.config(),
        dram: DramConfig {
            model: case.dram,
            // Usually valid; 255 picks an invalid geometry to exercise validation.
            banks: if case.banks == 255 {
                0
            } else {
                1 + case.banks as u64 % 4
            },
            row_size: if case.row_log2 == 255 {
                48
            } else {
                1 << (6 + case.row_log2 % 6)
            },
            ..DramConfig::default()
        },
        ..MemoryConfig::default()
    };
    let mut m = match MemorySystem::new(cfg.clone()) {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return 0;
        }
    };
    // A twin without the host-speed shortcuts must answer every access identically.
    let mut twin = MemorySystem::new(cfg.clone()).expect("the same configuration");
    twin.set_host_shortcuts(false);
    let mut shadow: HashMap<u64, u8> = HashMap::new();
    let mut line_accesses = [0u64; 3];
    let mut done = 0;
    for op in case.ops.iter().take(2000) {
        let kind = AccessKind::ALL[op.kind as usize % 3];
        let size = 1u8 << (op.size_log2 % 4);
        // Mostly inside RAM, sometimes just past its end.
        let addr = BASE + op.offset as u64 % (SPAN + 16);
        let first = match kind {
            AccessKind::Fetch => &cfg.l1i,
            _ => &cfg.l1d,
        };
        let level = if first.enabled {
            Some(first)
        } else if cfg.l2.enabled {
            Some(&cfg.l2)
        } else {
            None
        };
        let before = m.peek(addr, size);
        let got = m.access(kind, addr, size, op.value);
        assert_eq!(
            twin.access(kind, addr, size, op.value),
            got,
            "{kind:?} {addr:#x}+{size}: the shortcut changed the answer"
        );
        let in_ram = addr + size as u64 <= BASE + SPAN;
        assert_eq!(got.is_ok(), in_ram, "{kind:?} {addr:#x}+{size}: {got:?}");
        let Ok((v, cycles)) = got else { continue };
        done += 1;
        if let Some(l) = level {
            let lines = if (addr & !(l.line - 1)) != ((addr + size as u64 - 1) & !(l.line - 1)) {
                2
            } else {
                1
            };
            if first.enabled {
                line_accesses[kind as usize] += lines;
            }
            assert!(
                cycles.0 >= lines * l.hit_latency,
                "{cycles:?} below the hit latency"
            );
        }
        // Worst case per line: every level misses with a dirty victim, both at most 200 DRAM.
        let worst = 2
            * (cfg.l1i.hit_latency.max(cfg.l1d.hit_latency) + cfg.l2.hit_latency + 1)
            * 4
            * (cfg.dram.latency.max(cfg.dram.row_conflict) + 1);
        assert!(cycles.0 <= worst, "{cycles:?} above any possible cost");
        if kind == AccessKind::Store {
            for i in 0..size as u64 {
                shadow.insert(addr + i, (op.value >> (8 * i)) as u8);
            }
        } else {
            let mut want = 0u64;
            for i in (0..size as u64).rev() {
                want = want << 8 | *shadow.get(&(addr + i)).unwrap_or(&0) as u64;
            }
            assert_eq!(v, want, "{kind:?} {addr:#x}+{size}");
            assert_eq!(before, Ok(v), "peek agrees with load");
        }
    }
    for (c, kinds) in [
        (m.l1i(), [AccessKind::Fetch].as_slice()),
        (m.l1d(), [AccessKind::Load, AccessKind::Store].as_slice()),
    ] {
        if let Some(c) = c {
            let s = c.stats();
            let n: u64 = kinds.iter().map(|k| line_accesses[*k as usize]).sum();
            let seen: u64 = kinds
                .iter()
                .map(|k| s.hits[*k as usize] + s.misses[*k as usize])
                .sum();
            assert_eq!(seen, n, "hits + misses = line accesses");
            assert!(s.evictions <= s.fills && s.writebacks <= s.evictions);
        }
    }
    let stats = m.stat_list();
    assert_eq!(twin.stat_list(), stats, "the shortcut changed a statistic");
    let before = m.stat_list();
    let _ = m.peek(BASE, 8);
    assert_eq!(before, stats);
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_cases() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut total = 0;
        let mut built = 0;
        for len in 0..300usize {
            let bytes: Vec<u8> = (0..len * 8)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let n = check_bytes(&bytes);
            total += n;
            built += (n > 0) as usize;
        }
        assert!(
            built > 30 && total > 10_000,
            "{built} cases ran {total} accesses"
        );
    }
}
