//! The functional probe, the statistics walk, and configuration and mode errors.
mod common;

use common::*;
use std::sync::Arc;
use vmlab_mmu::tlb::TlbConfig;
use vmlab_mmu::*;

/// Every statistic of a unit with an L2 TLB, in the order `Mmu::stat_list` gives them before
/// any walk (page sizes, and PTE reads above level 4, are listed once non-zero).
const NAMES: &[&str] = &[
    "mmu.requests.fetch",
    "mmu.requests.load",
    "mmu.requests.store",
    "mmu.untranslated",
    "mmu.mode_changes",
    "mmu.itlb.hits.fetch",
    "mmu.itlb.hits.load",
    "mmu.itlb.hits.store",
    "mmu.itlb.misses.fetch",
    "mmu.itlb.misses.load",
    "mmu.itlb.misses.store",
    "mmu.itlb.fills",
    "mmu.itlb.evictions",
    "mmu.itlb.flushes.all",
    "mmu.itlb.flushes.asid",
    "mmu.itlb.flushes.addr",
    "mmu.itlb.flushes.addr_asid",
    "mmu.itlb.flushed_entries",
    "mmu.dtlb.hits.fetch",
    "mmu.dtlb.hits.load",
    "mmu.dtlb.hits.store",
    "mmu.dtlb.misses.fetch",
    "mmu.dtlb.misses.load",
    "mmu.dtlb.misses.store",
    "mmu.dtlb.fills",
    "mmu.dtlb.evictions",
    "mmu.dtlb.flushes.all",
    "mmu.dtlb.flushes.asid",
    "mmu.dtlb.flushes.addr",
    "mmu.dtlb.flushes.addr_asid",
    "mmu.dtlb.flushed_entries",
    "mmu.l2tlb.hits.fetch",
    "mmu.l2tlb.hits.load",
    "mmu.l2tlb.hits.store",
    "mmu.l2tlb.misses.fetch",
    "mmu.l2tlb.misses.load",
    "mmu.l2tlb.misses.store",
    "mmu.l2tlb.fills",
    "mmu.l2tlb.evictions",
    "mmu.l2tlb.flushes.all",
    "mmu.l2tlb.flushes.asid",
    "mmu.l2tlb.flushes.addr",
    "mmu.l2tlb.flushes.addr_asid",
    "mmu.l2tlb.flushed_entries",
    "mmu.walker.walks",
    "mmu.walker.faulted_walks",
    "mmu.walker.pte_reads.level0",
    "mmu.walker.pte_reads.level1",
    "mmu.walker.pte_reads.level2",
    "mmu.walker.pte_reads.level3",
    "mmu.walker.pte_reads.level4",
    "mmu.walker.ad_writes",
    "mmu.walker.dirty_rewalks",
    "mmu.walker.cycles",
    "mmu.faults.bounds",
    "mmu.faults.address_out_of_range",
    "mmu.faults.non_canonical",
    "mmu.faults.segment_limit",
    "mmu.faults.segment_not_present",
    "mmu.faults.segment_protection",
    "mmu.faults.page.invalid",
    "mmu.faults.page.write_without_read",
    "mmu.faults.page.reserved_bits",
    "mmu.faults.page.non_leaf_reserved",
    "mmu.faults.page.pointer_at_last_level",
    "mmu.faults.page.superpage_not_allowed",
    "mmu.faults.page.supervisor_page",
    "mmu.faults.page.user_page_sum_clear",
    "mmu.faults.page.user_page_fetch",
    "mmu.faults.page.not_readable",
    "mmu.faults.page.not_writable",
    "mmu.faults.page.not_executable",
    "mmu.faults.page.misaligned_superpage",
    "mmu.faults.page.accessed_clear",
    "mmu.faults.page.dirty_clear",
    "mmu.faults.pte_access",
    "mmu.faults.page_straddle",
];

fn with_l2() -> MmuConfig {
    MmuConfig {
        l2tlb: Some(MmuConfig::default_l2tlb()),
        ..MmuConfig::default()
    }
}

#[test]
fn statistic_names_are_unique_and_stable() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), 0x10_0000);
    pt.map(&mut mem, 0x1000, 0x9000, 0, RWXAD);
    pt.map(&mut mem, 0x20_0000, 0x4000_0000, 1, RWXAD);
    let mut m = mmu_in(with_l2(), Mode::Bare);
    let names = |m: &Mmu| {
        m.stat_list()
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&m), NAMES);
    let unique: std::collections::BTreeSet<_> = NAMES.iter().collect();
    assert_eq!(unique.len(), NAMES.len());
    // Without an L2 TLB its block is absent and nothing else moves.
    let plain = Mmu::new(MmuConfig::default()).unwrap();
    let expect: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| !n.starts_with("mmu.l2tlb."))
        .collect();
    assert_eq!(names(&plain), expect);
    // After walks, the page sizes found appear after the walker cycles, smallest first.
    m.set_mode(pt.mode()).unwrap();
    m.translate(Request::load(0x20_0000, Context::supervisor(0)), &mut mem)
        .unwrap();
    m.translate(Request::load(0x1000, Context::supervisor(0)), &mut mem)
        .unwrap();
    let after = names(&m);
    let at = NAMES
        .iter()
        .position(|n| *n == "mmu.walker.cycles")
        .unwrap()
        + 1;
    let mut expect: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    expect.insert(at, "mmu.walker.page_size.2MiB".into());
    expect.insert(at, "mmu.walker.page_size.4KiB".into());
    assert_eq!(after, expect);
    // for_each_stat walks the same list.
    let mut walked = Vec::new();
    m.for_each_stat(&mut |n, v| walked.push((n.to_string(), v)));
    assert_eq!(walked, m.stat_list());
    // reset_stats zeroes every counter and keeps the TLB contents.
    m.reset_stats();
    assert!(m.stat_list().iter().all(|(_, v)| *v == 0));
    let t = m
        .translate(Request::load(0x1000, Context::supervisor(0)), &mut mem)
        .unwrap();
    assert_eq!(t.source, Source::Tlb { tlb: TlbId::Dtlb });
}

#[test]
fn fault_causes_have_dense_indexes_and_names() {
    let all: Vec<FaultCause> = FaultCause::all().collect();
    assert_eq!(all.len(), FaultCause::COUNT);
    for (i, c) in all.iter().enumerate() {
        assert_eq!(c.index(), i, "{c:?}");
    }
    let listed: Vec<String> = NAMES
        .iter()
        .filter_map(|n| n.strip_prefix("mmu.faults."))
        .map(String::from)
        .collect();
    let names: Vec<String> = all.iter().map(|c| c.name()).collect();
    assert_eq!(listed, names);
}

#[test]
fn faults_counted_by_cause() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), 0x10_0000);
    pt.map(&mut mem, 0x1000, 0x9000, 0, V | R | A | U);
    pt.map(&mut mem, 0x2000, 0x9000, 0, V | R | W | A);
    let mut m = mmu_in(MmuConfig::default(), pt.mode());
    let u = Context::user(0);
    let reqs = [
        Request::store(0x1000, u),
        Request::store(0x1008, u),
        Request::fetch(0x1000, u),
        Request::load(0x2000, u),
        Request::load(0x3000, u),
        Request::load(0x40_0000_0000, u),
        Request::new(0x1ffc, Load, 8, u),
    ];
    for r in reqs {
        m.translate(r, &mut mem).unwrap_err();
    }
    let expect = [
        ("mmu.faults.page.not_writable", 2),
        ("mmu.faults.page.not_executable", 1),
        ("mmu.faults.page.supervisor_page", 1),
        ("mmu.faults.page.invalid", 1),
        ("mmu.faults.non_canonical", 1),
        ("mmu.faults.page_straddle", 1),
    ];
    for (name, v) in expect {
        assert_eq!(stat(&m, name), v, "{name}");
    }
    let total: u64 = m
        .stat_list()
        .iter()
        .filter(|(n, _)| n.starts_with("mmu.faults."))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(total, reqs.len() as u64);
    assert_eq!(m.stats().total_faults(), total);
    assert_eq!(
        m.stats()
            .faults_of(FaultCause::Page(PageFaultReason::NotWritable)),
        2
    );
    // A faulting walk fills no TLB entry, so each of the five page faults walked again;
    // the non-canonical and straddling accesses never reached the walker.
    assert_eq!(stat(&m, "mmu.walker.faulted_walks"), 5);
    assert_eq!(stat(&m, "mmu.walker.walks"), 5);
}

#[test]
fn probe_agrees_and_changes_nothing() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), 0x10_0000);
    pt.map(&mut mem, 0x1000, 0x9000, 0, V | R | W | U);
    pt.map(&mut mem, 0x20_0000, 0x4000_0000, 1, V | R | X | U | A);
    pt.map(&mut mem, 0x3000, 0xa000, 0, V | R | A);
    let u = Context::user(0);
    let reqs = [
        Request::load(0x1234, u),
        Request::store(0x1234, u),
        Request::fetch(0x2f_fffc, u),
        Request::store(0x20_0000, u),
        Request::load(0x3000, u),
        Request::load(0x5000, u),
        Request::load(0x40_0000_0000, u),
        Request::new(0x1fff, Store, 2, u),
    ];
    for ad in [AdPolicy::Svade, AdPolicy::Svadu] {
        let cfg = MmuConfig { ad, ..with_l2() };
        for r in reqs {
            let name = format!("{ad:?} {:#x} {}", r.va, r.kind);
            let mut fresh = mmu_in(cfg.clone(), pt.mode());
            let stats = fresh.stat_list();
            let mem_before = mem.clone();
            let probed = fresh.probe(r, &mem);
            assert_eq!(fresh.stat_list(), stats, "{name}: probe changed statistics");
            assert_eq!(mem, mem_before, "{name}: probe changed memory");
            let tlb_valid = |m: &Mmu| {
                [TlbId::Itlb, TlbId::Dtlb, TlbId::L2tlb]
                    .iter()
                    .map(|&id| {
                        m.tlb(id)
                            .unwrap()
                            .entries()
                            .iter()
                            .filter(|e| e.valid)
                            .count()
                    })
                    .sum::<usize>()
            };
            assert_eq!(tlb_valid(&fresh), 0, "{name}: probe filled a TLB");
            let mut scratch = mem.clone();
            let timed = fresh.translate(r, &mut scratch);
            match (&probed, &timed) {
                (Ok(p), Ok(t)) => {
                    assert_eq!(
                        (p.pa, p.page_bits, p.source),
                        (t.pa, t.page_bits, t.source),
                        "{name}"
                    );
                    assert_eq!(p.cycles, Cycle(0), "{name}");
                }
                (Err(p), Err(t)) => assert_eq!(*p, t.fault, "{name}"),
                _ => panic!("{name}: probe {probed:?} but translate {timed:?}"),
            }
        }
    }
}

#[test]
fn probe_ignores_stale_tlb_entries() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), 0x10_0000);
    let addr = pt.map(&mut mem, 0x1000, 0x9000, 0, RWXAD);
    let mut m = mmu_in(MmuConfig::default(), pt.mode());
    let s = Context::supervisor(0);
    m.translate(Request::load(0x1010, s), &mut mem).unwrap();
    // Remap without sfence.vma: the TLB is stale, the probe reads the tables.
    mem.store(addr, 8, pt.leaf(0xb000, RWXAD)).unwrap();
    let t = m.translate(Request::load(0x1010, s), &mut mem).unwrap();
    assert_eq!((t.pa, t.source), (0x9010, Source::Tlb { tlb: TlbId::Dtlb }));
    assert_eq!(m.probe(Request::load(0x1010, s), &mem).unwrap().pa, 0xb010);
    // Invalidate it: the probe faults, the stale entry still answers.
    mem.store(addr, 8, 0).unwrap();
    assert_eq!(
        m.probe(Request::load(0x1010, s), &mem),
        Err(Fault::Page {
            va: 0x1010,
            kind: Load,
            level: 0,
            pte_addr: addr,
            pte: 0,
            reason: PageFaultReason::Invalid
        })
    );
    assert_eq!(
        m.translate(Request::load(0x1010, s), &mut mem).unwrap().pa,
        0x9010
    );
    // sfence.vma with the address makes translate agree again.
    m.flush(Flush::Addr { va: 0x1000 });
    assert_eq!(
        page_fault(m.translate(Request::load(0x1010, s), &mut mem)),
        (PageFaultReason::Invalid, 0)
    );
}

#[test]
fn tlb_config_errors() {
    let ok = TlbConfig::default();
    let check = |cfg: MmuConfig, needle: &str| {
        let e = Mmu::new(cfg).unwrap_err().to_string();
        assert!(e.contains(needle), "{e:?} should mention {needle:?}");
    };
    check(
        MmuConfig {
            dtlb: TlbConfig { ways: 0, ..ok },
            ..MmuConfig::default()
        },
        "mmu.dtlb: `ways` = 0",
    );
    check(
        MmuConfig {
            itlb: TlbConfig { sets: 0, ..ok },
            ..MmuConfig::default()
        },
        "mmu.itlb: `sets` = 0",
    );
    check(
        MmuConfig {
            l2tlb: Some(TlbConfig {
                ways: 3,
                policy: Policy::Plru,
                ..ok
            }),
            ..MmuConfig::default()
        },
        "mmu.l2tlb: tree-PLRU needs a power-of-two number of ways",
    );
    // Odd geometries that are fine.
    for (sets, ways, policy) in [
        (5, 3, Policy::Lru),
        (3, 2, Policy::Fifo),
        (7, 1, Policy::Random),
        (6, 8, Policy::Plru),
    ] {
        let cfg = MmuConfig {
            dtlb: TlbConfig {
                sets,
                ways,
                policy,
                ..ok
            },
            ..MmuConfig::default()
        };
        assert!(Mmu::new(cfg).is_ok(), "{sets}x{ways} {policy:?}");
    }
    // The defaults the documentation lists.
    let d = MmuConfig::default();
    assert_eq!(
        (d.itlb, d.dtlb),
        (
            d.itlb,
            TlbConfig {
                sets: 1,
                ways: 32,
                policy: Policy::Lru,
                hit_latency: 0,
                seed: 1
            }
        )
    );
    assert_eq!(d.itlb, d.dtlb);
    assert_eq!(d.l2tlb, None);
    assert_eq!(
        MmuConfig::default_l2tlb(),
        TlbConfig {
            sets: 128,
            ways: 4,
            policy: Policy::Lru,
            hit_latency: 4,
            seed: 1
        }
    );
    assert_eq!((d.walker.start_latency, d.walker.level_latency), (1, 0));
    assert_eq!((d.ad, d.flush_on_root_change), (AdPolicy::Svade, false));
}

fn segs(va_bits: u8, selector_bits: u8, registers: Vec<SegmentRegister>, paged: bool) -> Mode {
    Mode::Segmented(Segmentation {
        va_bits,
        selector_bits,
        registers,
        format: paged.then(|| Arc::new(Format::sv39())),
        select: Default::default(),
    })
}

#[test]
fn mode_errors() {
    let r = || SegmentRegister::new(0x1000, 0x100, true, true, false);
    let paged = SegmentRegister {
        page_table: Some(0x10_0000),
        ..r()
    };
    let cases: Vec<(Mode, &str)> = vec![
        (
            segs(16, 4, vec![r(); 16], false),
            "selector bits = 4; use 1, 2 or 3",
        ),
        (segs(16, 0, vec![r()], false), "selector bits = 0"),
        (
            segs(16, 2, vec![r(); 3], false),
            "2 selector bits select 4 segment registers, but 3 are given",
        ),
        (segs(16, 1, vec![r(); 4], false), "but 4 are given"),
        (
            segs(
                16,
                2,
                vec![
                    r(),
                    SegmentRegister::new(0, 0x4001, true, false, false),
                    r(),
                    r(),
                ],
                false,
            ),
            "segment 1: limit 0x4001 exceeds the largest segment",
        ),
        (
            segs(16, 1, vec![r(), paged.clone()], false),
            "no page-table format",
        ),
        (
            segs(
                16,
                1,
                vec![
                    r(),
                    SegmentRegister {
                        grows_down: true,
                        base: 0x10,
                        ..r()
                    },
                ],
                false,
            ),
            "would reach below physical address 0",
        ),
        (
            segs(2, 2, vec![r(); 4], false),
            "cannot hold 2 selector bits",
        ),
        (segs(64, 1, vec![r(); 2], false), "at most 63 bits"),
        (
            Mode::Segmented(Segmentation {
                va_bits: 48,
                selector_bits: 1,
                registers: vec![r(), paged.clone()],
                format: Some(Arc::new(Format::sv39())),
                select: Default::default(),
            }),
            "47-bit offsets but format `sv39` translates only 39 bits",
        ),
    ];
    for (mode, needle) in cases {
        let e = mode.validate().unwrap_err().to_string();
        assert!(e.contains(needle), "{e:?} should mention {needle:?}");
        // set_mode refuses it and keeps the current mode.
        let mut m = Mmu::new(MmuConfig::default()).unwrap();
        assert_eq!(m.set_mode(mode).unwrap_err().to_string(), e);
        assert_eq!(*m.mode(), Mode::Bare);
        assert_eq!(stat(&m, "mmu.mode_changes"), 0);
    }
    // The largest segment, and a paged segment with a wide-enough format, are fine.
    assert!(segs(
        16,
        2,
        vec![
            SegmentRegister::new(0, 0x4000, true, false, false),
            r(),
            r(),
            r()
        ],
        false
    )
    .validate()
    .is_ok());
    assert!(segs(32, 1, vec![r(), paged], true).validate().is_ok());
}

/// `translate` takes a shortcut on L1 hits; `translate_traced` never does. Both must give the
/// same answers and leave the same statistics and TLB contents, access after access.
#[test]
fn traced_and_untraced_agree() {
    let mut mem = memory();
    let mut pt = Pt::new(Format::sv39(), 0x10_0000);
    pt.map(&mut mem, 0x1000, 0x9000, 0, V | R | W | U);
    pt.map(&mut mem, 0x2000, 0xa000, 0, V | R | X | A);
    pt.map(&mut mem, 0x3000, 0xb000, 0, V | X | U | A | G);
    pt.map(&mut mem, 0x20_0000, 0x4000_0000, 1, RWXAD | U);
    let mut sv48 = Pt::new(Format::sv48(), 0x40_0000);
    sv48.map(&mut mem, 0x1000, 0xc000, 0, RWXAD | U);
    let u = Context::user(1);
    let s = Context::supervisor(1);
    let sum = Context {
        sum: true,
        mxr: true,
        ..s
    };
    let reqs = [
        Request::load(0x1000, u),
        Request::load(0x1008, u),
        Request::store(0x1010, u),
        Request::store(0x1010, u),
        Request::load(0x1010, s),
        Request::load(0x1010, sum),
        Request::store(0x1ffc, sum),
        Request::new(0x1ffc, Load, 8, u),
        Request::fetch(0x2000, s),
        Request::fetch(0x2000, s),
        Request::load(0x2000, s),
        Request::load(0x2004, u),
        Request::fetch(0x2004, u),
        Request::load(0x3000, Context { mxr: true, ..u }),
        Request::load(0x3000, u),
        Request::load(0x3000, Context::user(2)),
        Request::load(0x2f_ffff, u),
        Request::load(0x2f_ffff, u),
        Request::store(0x20_0000, u),
        Request::load(0x40_0000_0000, u),
        Request::load(0xffff_ffc0_0000_0000, u),
        Request::load(0x1000, Context::machine()),
        Request::load(0x5000, u),
    ];
    let modes = [pt.mode(), sv48.mode(), Mode::Bare, pt.mode()];
    for ad in [AdPolicy::Svade, AdPolicy::Svadu] {
        let cfg = MmuConfig {
            ad,
            dtlb: TlbConfig {
                sets: 2,
                ways: 2,
                ..TlbConfig::default()
            },
            ..with_l2()
        };
        let mut a = Mmu::new(cfg.clone()).unwrap();
        let mut b = Mmu::new(cfg).unwrap();
        let (mut ma, mut mb) = (mem.clone(), mem.clone());
        for mode in &modes {
            a.set_mode(mode.clone()).unwrap();
            b.set_mode(mode.clone()).unwrap();
            for _ in 0..2 {
                for r in reqs {
                    let name = format!("{ad:?} {} {:#x} {} {:?}", mode.name(), r.va, r.kind, r.ctx);
                    let x = a.translate(r, &mut ma);
                    let y = b.translate_traced(r, &mut mb, &mut Vec::new());
                    assert_eq!(x, y, "{name}");
                    assert_eq!(a.stat_list(), b.stat_list(), "{name}");
                    for id in [TlbId::Itlb, TlbId::Dtlb, TlbId::L2tlb] {
                        assert_eq!(
                            a.tlb(id).unwrap().entries(),
                            b.tlb(id).unwrap().entries(),
                            "{name}"
                        );
                    }
                }
            }
        }
        assert_eq!(ma, mb);
    }
}
