//! Cache hit/miss sequences through the memory system: exact latencies and write-back
//! counts under each replacement policy and write policy.

use vmlab_devices::{
    AccessKind, Bus, CacheConfig, DramConfig, MemoryConfig, MemorySystem, Ram, RamConfig,
    Replacement, WritePolicy,
};

const BASE: u64 = 0x8000_0000;

/// A tiny L1 (16-byte lines, `sets` x `ways`, 1-cycle hits), optional L2, DRAM fixed at 100.
fn system(l1d: CacheConfig, l2: Option<CacheConfig>) -> MemorySystem {
    let ram = Ram::new(RamConfig {
        base: BASE,
        size: 1 << 20,
    })
    .unwrap();
    let cfg = MemoryConfig {
        l1d,
        l1i: l1d,
        l2: l2.unwrap_or_else(CacheConfig::l2),
        dram: DramConfig::default(),
        ..MemoryConfig::default()
    };
    MemorySystem::with_bus(Bus::new(ram), &cfg).unwrap()
}

fn l1(sets: u64, ways: u64, replacement: Replacement, write_policy: WritePolicy) -> CacheConfig {
    CacheConfig {
        enabled: true,
        size: sets * ways * 16,
        line: 16,
        ways,
        hit_latency: 1,
        replacement,
        write_policy,
        seed: 1,
    }
}

/// Runs `ops` ("L 0x20" = load, "S 0x20" = store, "F 0x20" = fetch; addresses are offsets
/// from RAM's base), checking each latency, then checks the named counters.
fn check(mem: &mut MemorySystem, ops: &[(&str, u64)], stats: &[(&str, u64)]) {
    for (i, &(op, expect)) in ops.iter().enumerate() {
        let (k, a) = op.split_once(' ').unwrap();
        let addr = BASE + u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap();
        let kind = match k {
            "L" => AccessKind::Load,
            "S" => AccessKind::Store,
            "F" => AccessKind::Fetch,
            _ => panic!("bad op {op}"),
        };
        let (_, c) = mem.access(kind, addr, 4, 0).unwrap();
        assert_eq!(c.0, expect, "op {i} `{op}`");
    }
    let all = mem.stat_list();
    for &(name, v) in stats {
        let got = all.iter().find(|(n, _)| n == name).map(|x| x.1);
        assert_eq!(got, Some(v), "{name}");
    }
}

// Two sets; set 0 holds lines 0x00, 0x20, 0x40, 0x60 (one set bit above the 16-byte line).

#[test]
fn lru() {
    let mut m = system(l1(2, 2, Replacement::Lru, WritePolicy::WriteBack), None);
    check(
        &mut m,
        &[
            ("L 0x00", 101), // miss: 1 + DRAM 100
            ("L 0x20", 101),
            ("L 0x04", 1),   // hit, and 0x00 is now most recent
            ("L 0x40", 101), // evicts 0x20 (least recent)
            ("L 0x00", 1),
            ("L 0x20", 101), // evicts 0x40
            ("L 0x10", 101), // set 1: no effect on set 0
            ("L 0x40", 101), // evicts 0x00
        ],
        &[
            ("cache.l1d.hits.load", 2),
            ("cache.l1d.misses.load", 6),
            ("cache.l1d.evictions", 3),
            ("cache.l1d.writebacks", 0),
            ("dram.reads", 6),
            ("memory.cycles.load", 6 * 101 + 2),
        ],
    );
}

#[test]
fn fifo() {
    let mut m = system(l1(2, 2, Replacement::Fifo, WritePolicy::WriteBack), None);
    check(
        &mut m,
        &[
            ("L 0x00", 101),
            ("L 0x20", 101),
            ("L 0x00", 1),   // a hit does not reorder FIFO
            ("L 0x40", 101), // evicts 0x00, the first in
            ("L 0x20", 1),
            ("L 0x00", 101), // evicts 0x20
            ("L 0x40", 1),
        ],
        &[
            ("cache.l1d.hits.load", 3),
            ("cache.l1d.misses.load", 4),
            ("cache.l1d.evictions", 2),
        ],
    );
}

#[test]
fn tree_plru() {
    // One set of four ways: lines 0x00, 0x10, 0x20, 0x30 fill ways 0..3. Touching 0x00 (way 0)
    // points the root at the right half, whose node points at way 2 (0x20): 0x40 replaces it,
    // although 0x10 is older.
    let mut m = system(l1(1, 4, Replacement::Plru, WritePolicy::WriteBack), None);
    check(
        &mut m,
        &[
            ("L 0x00", 101),
            ("L 0x10", 101),
            ("L 0x20", 101),
            ("L 0x30", 101),
            ("L 0x00", 1),
            ("L 0x40", 101),
            ("L 0x10", 1),
            ("L 0x30", 1),
            ("L 0x20", 101),
        ],
        &[("cache.l1d.hits.load", 3), ("cache.l1d.evictions", 2)],
    );
}

#[test]
fn random_is_seeded_and_deterministic() {
    let run = |seed| {
        let mut m = system(
            CacheConfig {
                seed,
                ..l1(1, 4, Replacement::Random, WritePolicy::WriteBack)
            },
            None,
        );
        (0..200u64)
            .map(|i| m.load(BASE + ((i * 7) % 11) * 16, 4).unwrap().1 .0)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(
        run(1),
        run(2),
        "a different seed gives a different victim sequence"
    );
}

#[test]
fn write_back_write_allocate() {
    let mut m = system(l1(2, 2, Replacement::Lru, WritePolicy::WriteBack), None);
    check(
        &mut m,
        &[
            ("S 0x00", 101), // miss: allocate (fetch the line), mark dirty
            ("S 0x04", 1),   // hit
            ("L 0x20", 101),
            ("L 0x40", 201), // evicts dirty 0x00: 1 + write-back 100 + fill 100
            ("L 0x00", 101), // evicts clean 0x20
            ("S 0x40", 1),   // dirty again
            ("L 0x00", 1),   // so 0x40 is least recent
            ("L 0x60", 201), // evicts 0x40 (dirty)
        ],
        &[
            ("cache.l1d.hits.store", 2),
            ("cache.l1d.misses.store", 1),
            ("cache.l1d.misses.load", 4),
            ("cache.l1d.hits.load", 1),
            ("cache.l1d.writebacks", 2),
            ("cache.l1d.evictions", 3),
            ("cache.l1d.write_throughs", 0),
            ("dram.reads", 5),
            ("dram.writes", 2),
        ],
    );
}

#[test]
fn write_through_no_write_allocate() {
    let mut m = system(l1(2, 2, Replacement::Lru, WritePolicy::WriteThrough), None);
    check(
        &mut m,
        &[
            ("S 0x00", 101), // miss: straight to DRAM, not allocated
            ("L 0x00", 101), // so this misses
            ("S 0x00", 101), // hit, but written through: 1 + 100
            ("L 0x00", 1),
            ("L 0x20", 101),
            ("L 0x40", 101), // evicts 0x00, clean: no write-back
        ],
        &[
            ("cache.l1d.misses.store", 1),
            ("cache.l1d.hits.store", 1),
            ("cache.l1d.write_throughs", 2),
            ("cache.l1d.writebacks", 0),
            ("dram.writes", 2),
            ("dram.reads", 3),
        ],
    );
}

#[test]
fn two_levels() {
    // L1: 2 sets x 1 way; L2: 4 sets x 2 ways, 10-cycle hits, write-back.
    let l2 = CacheConfig {
        hit_latency: 10,
        ..l1(4, 2, Replacement::Lru, WritePolicy::WriteBack)
    };
    let mut m = system(l1(2, 1, Replacement::Lru, WritePolicy::WriteBack), Some(l2));
    check(
        &mut m,
        &[
            ("L 0x00", 111), // 1 + L2 10 + DRAM 100
            ("S 0x20", 111), // L1 set 0 conflict: 0x00 (clean) evicted; L2 miss too
            ("L 0x00", 21),  // L1 miss; dirty 0x20 written back to L2 (hit, 10); L2 hit (10)
            ("L 0x20", 11),  // L1 miss, L2 hit (0x20 is dirty in L2 now)
            ("F 0x00", 11),  // L1I miss, L2 hit
            ("F 0x00", 1),
        ],
        &[
            ("cache.l1d.writebacks", 1),
            ("cache.l2.hits.writeback", 1),
            ("cache.l2.hits.load", 2),
            ("cache.l2.misses.load", 1),
            ("cache.l2.misses.store", 1),
            ("cache.l2.hits.fetch", 1),
            ("cache.l1i.misses.fetch", 1),
            ("cache.l1i.hits.fetch", 1),
            ("dram.reads", 2),
            ("dram.writes", 0),
        ],
    );
    assert!(m.l2().unwrap().is_dirty(BASE + 0x20));
}

#[test]
fn line_crossing_access_costs_both_lines() {
    let mut m = system(l1(2, 2, Replacement::Lru, WritePolicy::WriteBack), None);
    let (_, c) = m.load(BASE + 0x0e, 4).unwrap();
    assert_eq!(c.0, 202, "two line misses");
    assert_eq!(m.load(BASE + 0x0c, 8).unwrap().1 .0, 2, "two line hits");
}

#[test]
fn disabled_caches_go_straight_to_dram() {
    let off = CacheConfig {
        enabled: false,
        ..CacheConfig::l1()
    };
    let mut m = system(off, None);
    assert_eq!(m.load(BASE, 8).unwrap().1 .0, 100);
    assert_eq!(m.store(BASE, 8, 1).unwrap().0, 100);
    assert!(m.stat_list().iter().all(|(n, _)| !n.starts_with("cache.")));
}

/// A reference LRU / FIFO cache written plainly: each set is a list, most recent (or newest)
/// last. Returns (latency, evicted-dirty) per access, with the same timing rule.
fn reference(sets: u64, ways: usize, fifo: bool, ops: &[(bool, u64)]) -> (Vec<u64>, u64) {
    let mut content: Vec<Vec<(u64, bool)>> = vec![Vec::new(); sets as usize];
    let mut lat = Vec::new();
    let mut wbs = 0;
    for &(store, addr) in ops {
        let line = addr / 16;
        let set = &mut content[(line % sets) as usize];
        if let Some(p) = set.iter().position(|e| e.0 == line) {
            let mut e = set[p];
            e.1 |= store;
            if fifo {
                set[p] = e;
            } else {
                set.remove(p);
                set.push(e);
            }
            lat.push(1);
        } else {
            let mut l = 101;
            if set.len() == ways {
                let (_, dirty) = set.remove(0);
                if dirty {
                    l += 100;
                    wbs += 1;
                }
            }
            set.push((line, store));
            lat.push(l);
        }
    }
    (lat, wbs)
}

#[test]
fn lru_and_fifo_match_a_reference_model() {
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (fifo, repl) in [(false, Replacement::Lru), (true, Replacement::Fifo)] {
        for _ in 0..20 {
            let ops: Vec<(bool, u64)> = (0..300)
                .map(|_| (next() % 3 == 0, (next() % 64) * 8))
                .collect();
            let mut m = system(l1(4, 3, repl, WritePolicy::WriteBack), None);
            let got: Vec<u64> = ops
                .iter()
                .map(|&(s, a)| {
                    let k = if s {
                        AccessKind::Store
                    } else {
                        AccessKind::Load
                    };
                    m.access(k, BASE + a, 8, 0).unwrap().1 .0
                })
                .collect();
            let (want, wbs) = reference(4, 3, fifo, &ops);
            assert_eq!(got, want, "{repl:?}");
            assert_eq!(m.l1d().unwrap().stats().writebacks, wbs);
        }
    }
}
