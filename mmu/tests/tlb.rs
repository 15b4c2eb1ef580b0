//! The TLBs as the unit uses them: hits and misses, ASID and global tags, the four
//! `sfence.vma` flushes on base pages and superpages, the L2 TLB, replacement policies,
//! geometry, and which mode changes flush.
mod common;

use common::*;
use vmlab_mmu::tlb::TlbConfig;
use vmlab_mmu::*;

const ROOT: u64 = 0x10_0000;
const ROOT2: u64 = 0x20_0000;

/// Sv39 tables at [`ROOT`] mapping base pages 1..=16 (VA `p << 12`) to PA `0x100_0000 + (p << 12)`,
/// a megapage at 0x20_0000 -> 0x4000_0000, a global page at 0x3000 and a global megapage at
/// 0x40_0000 -> 0x4020_0000 (global pages replace base pages 3 and, for the megapage, none).
fn tables(mem: &mut SparseMemory) -> Pt {
    let mut pt = Pt::new(Format::sv39(), ROOT);
    for p in 1..=16u64 {
        let g = if p == 3 { G } else { 0 };
        pt.map(mem, p << 12, 0x100_0000 + (p << 12), 0, RWXAD | g);
    }
    pt.map(mem, 0x20_0000, 0x4000_0000, 1, RWXAD);
    pt.map(mem, 0x40_0000, 0x4020_0000, 1, RWXAD | G);
    pt
}

fn cfg_dtlb(dtlb: TlbConfig) -> MmuConfig {
    MmuConfig {
        dtlb,
        ..MmuConfig::default()
    }
}

fn s(asid: u16) -> Context {
    Context::supervisor(asid)
}

/// The valid dTLB entries as (tagged VA of the page, ASID, global), sorted.
fn resident(m: &Mmu, id: TlbId) -> Vec<(u64, u16, bool)> {
    let mut v: Vec<_> = m
        .tlb(id)
        .unwrap()
        .entries()
        .iter()
        .filter(|e| e.valid)
        .map(|e| (e.vpn << e.page_bits, e.asid, e.global))
        .collect();
    v.sort();
    v
}

#[test]
fn hit_after_miss_per_tlb() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let cfg = MmuConfig {
        itlb: TlbConfig {
            hit_latency: 1,
            ..TlbConfig::default()
        },
        dtlb: TlbConfig {
            hit_latency: 2,
            ..TlbConfig::default()
        },
        ..MmuConfig::default()
    };
    let mut m = mmu_in(cfg, pt.mode());
    m.reset_stats();
    // (access, VA, expected source, cycles)
    let walk = Source::Walk { level: 0 };
    let itlb = Source::Tlb { tlb: TlbId::Itlb };
    let dtlb = Source::Tlb { tlb: TlbId::Dtlb };
    let steps = [
        (Fetch, 0x1000, walk, 1 + 1 + 3 * MEM_LAT),
        (Fetch, 0x1ffc, itlb, 1),
        // The data TLB is separate: the same page misses there.
        (Load, 0x1000, walk, 2 + 1 + 3 * MEM_LAT),
        (Store, 0x1008, dtlb, 2),
        (Load, 0x1fff, dtlb, 2),
    ];
    for (i, (kind, va, source, cycles)) in steps.into_iter().enumerate() {
        let t = m.translate(req(kind, va, s(0)), &mut mem).unwrap();
        assert_eq!(
            (t.pa, t.source, t.cycles),
            (0x100_0000 + va, source, Cycle(cycles)),
            "step {i}"
        );
    }
    let expect = [
        ("mmu.requests.fetch", 2),
        ("mmu.requests.load", 2),
        ("mmu.requests.store", 1),
        ("mmu.itlb.hits.fetch", 1),
        ("mmu.itlb.misses.fetch", 1),
        ("mmu.itlb.fills", 1),
        ("mmu.dtlb.hits.load", 1),
        ("mmu.dtlb.hits.store", 1),
        ("mmu.dtlb.misses.load", 1),
        ("mmu.dtlb.misses.store", 0),
        ("mmu.dtlb.fills", 1),
        ("mmu.dtlb.evictions", 0),
        ("mmu.walker.walks", 2),
        ("mmu.walker.pte_reads.level0", 2),
        ("mmu.walker.cycles", 2 * (1 + 3 * MEM_LAT)),
    ];
    for (name, v) in expect {
        assert_eq!(stat(&m, name), v, "{name}");
    }
}

#[test]
fn asids_tag_entries_without_flushing() {
    let mut mem = memory();
    let mut pt1 = Pt::new(Format::sv39(), ROOT);
    let mut pt2 = Pt::new(Format::sv39(), ROOT2);
    pt1.map(&mut mem, 0x5000, 0xa000, 0, RWXAD);
    pt2.map(&mut mem, 0x5000, 0xb000, 0, RWXAD);
    let mut m = mmu_in(MmuConfig::default(), pt1.mode());
    m.reset_stats();
    // (root, ASID, expected PA, expected source)
    let walk = Source::Walk { level: 0 };
    let hit = Source::Tlb { tlb: TlbId::Dtlb };
    let steps = [
        (&pt1, 1, 0xa000, walk),
        (&pt2, 2, 0xb000, walk),
        (&pt1, 1, 0xa000, hit),
        (&pt2, 2, 0xb000, hit),
    ];
    for (i, (pt, asid, pa, source)) in steps.into_iter().enumerate() {
        m.set_mode(pt.mode()).unwrap();
        let t = m
            .translate(Request::load(0x5123, s(asid)), &mut mem)
            .unwrap();
        assert_eq!((t.pa, t.source), (pa + 0x123, source), "step {i}");
    }
    assert_eq!(stat(&m, "mmu.dtlb.flushes.all"), 0);
    assert_eq!(stat(&m, "mmu.mode_changes"), 3);
    assert_eq!(
        resident(&m, TlbId::Dtlb),
        vec![(0x5000, 1, false), (0x5000, 2, false)]
    );
}

#[test]
fn global_entries_match_every_asid() {
    let mut mem = memory();
    let mut pt = tables(&mut mem);
    // A global pointer makes everything below it global, even if the leaf's G is clear.
    let l2 = pt.slot(&mut mem, 0x8000_0000, 2);
    let table = 0x80_0000;
    mem.store(l2, 8, pt.pointer(table) | G).unwrap();
    pt.map(&mut mem, 0x8000_0000, 0x7000_0000, 0, RWXAD);
    let mut m = mmu_in(MmuConfig::default(), pt.mode());
    let hit = Source::Tlb { tlb: TlbId::Dtlb };
    let walk = Source::Walk { level: 0 };
    for va in [0x3000u64, 0x8000_0000] {
        let name = format!("{va:#x}");
        assert_eq!(
            m.translate(Request::load(va, s(1)), &mut mem)
                .unwrap()
                .source,
            walk
        );
        assert_eq!(
            m.translate(Request::load(va, s(2)), &mut mem)
                .unwrap()
                .source,
            hit,
            "{name}: another ASID hits the global entry"
        );
        m.flush(Flush::Asid { asid: 1 });
        m.flush(Flush::AddrAsid { va, asid: 2 });
        assert_eq!(
            m.translate(Request::load(va, s(3)), &mut mem)
                .unwrap()
                .source,
            hit,
            "{name}: ASID flushes leave global entries"
        );
        m.flush(Flush::Addr { va });
        assert_eq!(
            m.translate(Request::load(va, s(3)), &mut mem)
                .unwrap()
                .source,
            walk,
            "{name}: an address flush removes it"
        );
    }
    // A non-global page filled by ASID 1 misses for ASID 2.
    m.translate(Request::load(0x1000, s(1)), &mut mem).unwrap();
    assert_eq!(
        m.translate(Request::load(0x1000, s(2)), &mut mem)
            .unwrap()
            .source,
        walk
    );
}

#[test]
fn flush_kinds_on_base_pages_and_superpages() {
    // Entries: base page 0x1000 and megapage 0x20_0000 for ASIDs 1 and 2; global base page
    // 0x3000 and global megapage 0x40_0000.
    const ALL: [(u64, u16, bool); 6] = [
        (0x1000, 1, false),
        (0x1000, 2, false),
        (0x3000, 0, true),
        (0x20_0000, 1, false),
        (0x20_0000, 2, false),
        (0x40_0000, 0, true),
    ];
    let check = |flush: Flush, removed: &[usize]| {
        let mut mem = memory();
        let pt = tables(&mut mem);
        // 4 sets x 4 ways: the set is the VPN at the entry's own page size modulo 4, so base
        // page 0x1000 (VPN 1) and megapage 0x20_0000 (VPN 1) share set 1.
        let mut m = mmu_in(
            cfg_dtlb(TlbConfig {
                sets: 4,
                ways: 4,
                ..TlbConfig::default()
            }),
            pt.mode(),
        );
        for (va, asid) in [(0x1000, 1), (0x1000, 2), (0x20_0000, 1), (0x20_0000, 2)] {
            m.translate(Request::load(va + 0x10, s(asid)), &mut mem)
                .unwrap();
        }
        m.translate(Request::load(0x3010, s(7)), &mut mem).unwrap();
        m.translate(Request::load(0x40_0010, s(7)), &mut mem)
            .unwrap();
        // Global entries are tagged with the ASID that filled them, which is then ignored.
        let tag = |e: (u64, u16, bool)| if e.2 { (e.0, 7, true) } else { e };
        let before: Vec<_> = ALL.iter().map(|&e| tag(e)).collect();
        let mut sorted = before.clone();
        sorted.sort();
        assert_eq!(resident(&m, TlbId::Dtlb), sorted);
        m.reset_stats();
        m.flush(flush);
        let mut left: Vec<_> = before
            .iter()
            .enumerate()
            .filter(|(i, _)| !removed.contains(i))
            .map(|(_, e)| *e)
            .collect();
        left.sort();
        assert_eq!(resident(&m, TlbId::Dtlb), left, "{flush:?}");
        let kind = Flush::NAMES[flush.index()];
        assert_eq!(stat(&m, &format!("mmu.dtlb.flushes.{kind}")), 1);
        assert_eq!(stat(&m, &format!("mmu.itlb.flushes.{kind}")), 1);
        assert_eq!(stat(&m, "mmu.dtlb.flushed_entries"), removed.len() as u64);
    };
    check(Flush::All, &[0, 1, 2, 3, 4, 5]);
    check(Flush::Asid { asid: 1 }, &[0, 3]);
    check(Flush::Asid { asid: 7 }, &[]);
    check(Flush::Asid { asid: 9 }, &[]);
    check(Flush::Addr { va: 0x1fff }, &[0, 1]);
    check(Flush::Addr { va: 0x3000 }, &[2]);
    check(Flush::Addr { va: 0x2f_ffff }, &[3, 4]);
    check(Flush::Addr { va: 0x40_1234 }, &[5]);
    check(Flush::Addr { va: 0x60_0000 }, &[]);
    check(
        Flush::AddrAsid {
            va: 0x1234,
            asid: 1,
        },
        &[0],
    );
    check(
        Flush::AddrAsid {
            va: 0x21_0000,
            asid: 2,
        },
        &[4],
    );
    check(
        Flush::AddrAsid {
            va: 0x3000,
            asid: 7,
        },
        &[],
    );
    check(
        Flush::AddrAsid {
            va: 0x40_0000,
            asid: 7,
        },
        &[],
    );
    // A non-canonical address matches nothing.
    check(Flush::Addr { va: 0x40_0000_1000 }, &[]);
}

#[test]
fn l2_tlb_hit_refills_l1() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let tiny = TlbConfig {
        sets: 1,
        ways: 1,
        hit_latency: 1,
        ..TlbConfig::default()
    };
    let cfg = MmuConfig {
        itlb: tiny,
        dtlb: tiny,
        l2tlb: Some(MmuConfig::default_l2tlb()),
        ..MmuConfig::default()
    };
    let mut m = mmu_in(cfg, pt.mode());
    m.reset_stats();
    let walk = 1 + 4 + 1 + 3 * MEM_LAT;
    let l2 = Source::Tlb { tlb: TlbId::L2tlb };
    let l1 = Source::Tlb { tlb: TlbId::Dtlb };
    // (access, VA, source, cycles)
    let steps = [
        (Load, 0x1000, Source::Walk { level: 0 }, walk),
        (Load, 0x2000, Source::Walk { level: 0 }, walk),
        (Load, 0x1008, l2, 1 + 4),
        (Load, 0x1010, l1, 1),
        (Store, 0x2000, l2, 1 + 4),
        // The L2 TLB is shared: a fetch from a page loaded before hits there.
        (Fetch, 0x1000, l2, 1 + 4),
        (Fetch, 0x1000, Source::Tlb { tlb: TlbId::Itlb }, 1),
    ];
    for (i, (kind, va, source, cycles)) in steps.into_iter().enumerate() {
        let t = m.translate(req(kind, va, s(0)), &mut mem).unwrap();
        assert_eq!(
            (t.pa, t.source, t.cycles),
            (0x100_0000 + va, source, Cycle(cycles)),
            "step {i}"
        );
    }
    let expect = [
        ("mmu.dtlb.hits.load", 1),
        ("mmu.dtlb.misses.load", 3),
        ("mmu.dtlb.misses.store", 1),
        ("mmu.dtlb.fills", 4),
        ("mmu.dtlb.evictions", 3),
        ("mmu.itlb.fills", 1),
        ("mmu.l2tlb.hits.load", 1),
        ("mmu.l2tlb.hits.store", 1),
        ("mmu.l2tlb.hits.fetch", 1),
        ("mmu.l2tlb.misses.load", 2),
        ("mmu.l2tlb.fills", 2),
        ("mmu.l2tlb.evictions", 0),
        ("mmu.walker.walks", 2),
    ];
    for (name, v) in expect {
        assert_eq!(stat(&m, name), v, "{name}");
    }
}

/// Runs page touches against a 1-set, 4-way dTLB with `policy`; returns the hit pattern and
/// the resident pages.
fn run_policy(policy: Policy, seed: u64, pages: &[u64]) -> (String, Vec<u64>) {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let mut m = mmu_in(
        cfg_dtlb(TlbConfig {
            sets: 1,
            ways: 4,
            policy,
            seed,
            ..TlbConfig::default()
        }),
        pt.mode(),
    );
    let mut pattern = String::new();
    for &p in pages {
        let t = m.translate(Request::load(p << 12, s(0)), &mut mem).unwrap();
        pattern.push(if matches!(t.source, Source::Tlb { .. }) {
            'h'
        } else {
            'm'
        });
    }
    let left = resident(&m, TlbId::Dtlb)
        .into_iter()
        .map(|e| e.0 >> 12)
        .collect();
    (pattern, left)
}

#[test]
fn replacement_policies() {
    let check = |policy, pages: &[u64], pattern: &str, left: &[u64]| {
        let got = run_policy(policy, 1, pages);
        assert_eq!(
            got,
            (pattern.to_string(), left.to_vec()),
            "{policy:?} on {pages:?}"
        );
    };
    // Fill 1..4, touch 1, then 5 evicts: LRU the least recently used (2), FIFO the first
    // filled (1), tree-PLRU the way its bits point at (page 3: touching way 0 turned the root
    // to the right half, whose bit points at way 2).
    let seq = [1, 2, 3, 4, 1, 5];
    check(Policy::Lru, &seq, "mmmmhm", &[1, 3, 4, 5]);
    check(Policy::Fifo, &seq, "mmmmhm", &[2, 3, 4, 5]);
    check(Policy::Plru, &seq, "mmmmhm", &[1, 2, 4, 5]);
    // Then 2: LRU misses (2 was evicted) and evicts 3; FIFO hits; PLRU hits.
    let seq = [1, 2, 3, 4, 1, 5, 2, 3];
    check(Policy::Lru, &seq, "mmmmhmmm", &[1, 2, 3, 5]);
    check(Policy::Fifo, &seq, "mmmmhmhh", &[2, 3, 4, 5]);
    check(Policy::Plru, &seq, "mmmmhmhm", &[1, 2, 3, 5]);
    // Random: the same seed gives the same run; four entries stay and the newest is one.
    let seq: Vec<u64> = (0..40).map(|i| 1 + (i * 7) % 9).collect();
    let a = run_policy(Policy::Random, 42, &seq);
    assert_eq!(a, run_policy(Policy::Random, 42, &seq));
    assert_eq!(a.1.len(), 4);
    assert!(a.1.contains(seq.last().unwrap()));
    let outcomes: std::collections::BTreeSet<_> = (1..10)
        .map(|seed| run_policy(Policy::Random, seed, &seq))
        .collect();
    assert!(outcomes.len() > 1, "different seeds give different victims");
}

#[test]
fn non_power_of_two_sets() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let geometry = TlbConfig {
        sets: 3,
        ways: 2,
        ..TlbConfig::default()
    };
    let mut m = mmu_in(cfg_dtlb(geometry), pt.mode());
    // The set is the VPN modulo 3: pages 3, 6, 9 share set 0; 1 and 4 set 1; 2 set 2.
    for p in [3, 1, 6, 2, 9, 4] {
        m.translate(Request::load(p << 12, s(0)), &mut mem).unwrap();
    }
    let sets: Vec<Vec<u64>> = m
        .tlb(TlbId::Dtlb)
        .unwrap()
        .entries()
        .chunks(2)
        .map(|set| {
            let mut v: Vec<u64> = set.iter().filter(|e| e.valid).map(|e| e.vpn).collect();
            v.sort();
            v
        })
        .collect();
    assert_eq!(sets, vec![vec![6, 9], vec![1, 4], vec![2]]);
    assert_eq!(stat(&m, "mmu.dtlb.evictions"), 1);
    // Page 3 was evicted; 1 is still there.
    let src = |m: &mut Mmu, mem: &mut SparseMemory, p: u64| {
        m.translate(Request::load(p << 12, s(0)), mem)
            .unwrap()
            .source
    };
    assert_eq!(src(&mut m, &mut mem, 3), Source::Walk { level: 0 });
    assert_eq!(src(&mut m, &mut mem, 1), Source::Tlb { tlb: TlbId::Dtlb });
}

#[test]
fn superpages_and_base_pages_share_a_set_associative_tlb() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let mut m = mmu_in(
        cfg_dtlb(TlbConfig {
            sets: 8,
            ways: 2,
            ..TlbConfig::default()
        }),
        pt.mode(),
    );
    let steps: [(u64, u64, Source); 6] = [
        (0x20_0000, 0x4000_0000, Source::Walk { level: 1 }),
        (0x1000, 0x100_1000, Source::Walk { level: 0 }),
        (0x3f_ffff, 0x401f_ffff, Source::Tlb { tlb: TlbId::Dtlb }),
        (0x2a_b123, 0x400a_b123, Source::Tlb { tlb: TlbId::Dtlb }),
        (0x1fff, 0x100_1fff, Source::Tlb { tlb: TlbId::Dtlb }),
        (0x40_0001, 0x4020_0001, Source::Walk { level: 1 }),
    ];
    for (i, (va, pa, source)) in steps.into_iter().enumerate() {
        let t = m.translate(Request::load(va, s(0)), &mut mem).unwrap();
        assert_eq!((t.pa, t.source), (pa, source), "step {i}");
    }
    assert_eq!(stat(&m, "mmu.walker.page_size.2MiB"), 2);
    assert_eq!(stat(&m, "mmu.walker.page_size.4KiB"), 1);
}

#[test]
fn mode_changes_flush_every_tlb() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let mut pt48 = Pt::new(Format::sv48(), ROOT2);
    pt48.map(&mut mem, 0x1000, 0x100_1000, 0, RWXAD);
    pt48.map(&mut mem, 0x2000, 0x100_2000, 0, RWXAD);
    let cfg = MmuConfig {
        l2tlb: Some(MmuConfig::default_l2tlb()),
        ..MmuConfig::default()
    };
    // (mode to switch to before the access, whether the access then hits)
    let bare_then_back = [(Mode::Bare, None), (pt.mode(), Some(false))];
    let other_format = [(pt48.mode(), Some(false)), (pt.mode(), Some(false))];
    let same_mode = [(pt.mode(), Some(true))];
    let base_bounds = [
        (
            Mode::BaseBounds {
                base: 0,
                bounds: 1 << 20,
            },
            None,
        ),
        (pt.mode(), Some(false)),
    ];
    for (i, seq) in [&bare_then_back[..], &other_format, &same_mode, &base_bounds]
        .into_iter()
        .enumerate()
    {
        let mut m = mmu_in(cfg.clone(), pt.mode());
        m.translate(Request::load(0x1000, s(0)), &mut mem).unwrap();
        m.translate(Request::fetch(0x2000, s(0)), &mut mem).unwrap();
        m.reset_stats();
        let mut changes = 0;
        for (mode, hits) in seq {
            changes += (*mode != *m.mode()) as u64;
            m.set_mode(mode.clone()).unwrap();
            if let Some(hits) = hits {
                // Different pages, so neither access fills the shared L2 for the other.
                for (kind, va) in [(Load, 0x1000), (Fetch, 0x2000)] {
                    let t = m.translate(req(kind, va, s(0)), &mut mem).unwrap();
                    assert_eq!(t.pa, 0x100_0000 + va);
                    assert_eq!(
                        matches!(t.source, Source::Tlb { .. }),
                        *hits,
                        "sequence {i} {kind}"
                    );
                }
            }
        }
        assert_eq!(stat(&m, "mmu.mode_changes"), changes, "sequence {i}");
        for t in ["itlb", "dtlb", "l2tlb"] {
            assert_eq!(
                stat(&m, &format!("mmu.{t}.flushes.all")),
                changes,
                "sequence {i} {t}"
            );
        }
    }
}

#[test]
fn root_change_keeps_entries_unless_configured() {
    let mut mem = memory();
    let mut pt1 = Pt::new(Format::sv39(), ROOT);
    let mut pt2 = Pt::new(Format::sv39(), ROOT2);
    pt1.map(&mut mem, 0x5000, 0xa000, 0, RWXAD);
    pt2.map(&mut mem, 0x5000, 0xb000, 0, RWXAD);
    for (flush, pa, source) in [
        (false, 0xa000, Source::Tlb { tlb: TlbId::Dtlb }),
        (true, 0xb000, Source::Walk { level: 0 }),
    ] {
        let cfg = MmuConfig {
            flush_on_root_change: flush,
            ..MmuConfig::default()
        };
        let mut m = mmu_in(cfg, pt1.mode());
        m.translate(Request::load(0x5000, s(1)), &mut mem).unwrap();
        m.set_mode(pt2.mode()).unwrap();
        // Same ASID, new root: RISC-V keeps the (now stale) entry until sfence.vma.
        let t = m.translate(Request::load(0x5000, s(1)), &mut mem).unwrap();
        assert_eq!(
            (t.pa, t.source),
            (pa, source),
            "flush_on_root_change = {flush}"
        );
        assert_eq!(stat(&m, "mmu.dtlb.flushes.all"), 1 + flush as u64);
        // After sfence.vma the new tables are used either way.
        m.flush(Flush::Asid { asid: 1 });
        let t = m.translate(Request::load(0x5000, s(1)), &mut mem).unwrap();
        assert_eq!(t.pa, 0xb000);
    }
}

/// A store from another ASID to a clean global page rewalks (Svadu) and refills: the refill
/// must replace the clean global entry, not add a second entry for the same page.
#[test]
fn dirty_rewalk_of_a_global_page_replaces_its_entry() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), ROOT);
    let addr = pt.map(&mut mem, 0x7000, 0xe000, 0, V | R | W | G | A);
    let cfg = MmuConfig {
        ad: AdPolicy::Svadu,
        l2tlb: Some(MmuConfig::default_l2tlb()),
        ..MmuConfig::default()
    };
    let mut m = mmu_in(cfg, pt.mode());
    m.translate(Request::load(0x7000, s(1)), &mut mem).unwrap();
    let t = m.translate(Request::store(0x7008, s(2)), &mut mem).unwrap();
    assert_eq!((t.pa, t.source), (0xe008, Source::Walk { level: 0 }));
    assert_eq!(
        mem.peek(addr, 8).unwrap(),
        pt.leaf(0xe000, V | R | W | G | A | D)
    );
    for id in [TlbId::Dtlb, TlbId::L2tlb] {
        assert_eq!(resident(&m, id), vec![(0x7000, 2, true)], "{id:?}");
    }
    // Every ASID now stores through the dirty global entry without walking.
    for asid in [1, 3, 2] {
        let t = m
            .translate(Request::store(0x7010, s(asid)), &mut mem)
            .unwrap();
        assert_eq!(t.source, Source::Tlb { tlb: TlbId::Dtlb }, "ASID {asid}");
    }
    assert_eq!(stat(&m, "mmu.walker.dirty_rewalks"), 1);
    assert_eq!(stat(&m, "mmu.dtlb.evictions"), 0);
}

#[test]
fn without_tlbs_every_access_walks_and_no_tlb_is_counted() {
    let mut mem = memory();
    let pt = tables(&mut mem);
    let cfg = MmuConfig {
        tlb: TlbPresence::None,
        ..MmuConfig::default()
    };
    for shortcuts in [true, false] {
        let mut m = mmu_in(cfg.clone(), pt.mode());
        m.set_host_shortcuts(shortcuts);
        m.reset_stats();
        for (kind, va) in [
            (Fetch, 0x1000),
            (Fetch, 0x1004),
            (Load, 0x1000),
            (Store, 0x1008),
        ] {
            let t = m
                .translate(Request::new(va, kind, 4, s(0)), &mut mem)
                .unwrap();
            assert_eq!(t.source, Source::Walk { level: 0 }, "{va:#x}");
            // A walk's start and three PTE reads; no lookup is paid.
            assert_eq!(t.cycles, Cycle(1 + 3 * MEM_LAT), "{va:#x}");
        }
        // sfence.vma has nothing to flush; the next access walks again.
        m.flush(Flush::All);
        let t = m
            .translate(Request::new(0x1000, Load, 4, s(0)), &mut mem)
            .unwrap();
        assert_eq!(t.source, Source::Walk { level: 0 });
        assert!(m.tlb(TlbId::Dtlb).is_none() && m.tlb(TlbId::Itlb).is_none());
        let stats = m.stat_list();
        assert!(
            stats.iter().all(|(n, _)| !n.contains("tlb")),
            "no TLB counters: {stats:?}"
        );
        let walks: u64 = stats
            .iter()
            .filter(|(n, _)| n.starts_with("mmu.walker.pte_reads"))
            .map(|(_, v)| v)
            .sum();
        assert_eq!(walks, 5 * 3, "{stats:?}");
    }
    // An L2 TLB in a machine without TLBs is a configuration error that says what to do.
    let bad = MmuConfig {
        tlb: TlbPresence::None,
        l2tlb: Some(MmuConfig::default_l2tlb()),
        ..MmuConfig::default()
    };
    let e = Mmu::new(bad).unwrap_err().to_string();
    assert!(e.contains("remove [mmu.l2tlb]"), "{e}");
}
