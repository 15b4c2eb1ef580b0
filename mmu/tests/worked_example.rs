//! The worked example of `docs/mmu.md` ("A translation by hand"), asserted number by number
//! so that the chapter cannot drift from the code. If this test changes, change the chapter.
use std::sync::Arc;
use vmlab_mmu::*;

/// The page tables of the example: root at 0x8020_0000, then 0x8020_1000 and 0x8020_2000.
fn example_memory() -> SparseMemory {
    let mut mem = SparseMemory::new(1 << 32, Cycle(20));
    mem.store(0x8020_0240, 8, 0x2008_0401).unwrap(); // level 2: pointer to 0x8020_1000
    mem.store(0x8020_1d10, 8, 0x2008_0801).unwrap(); // level 1: pointer to 0x8020_2000
    mem.store(0x8020_2b38, 8, 0x21d9_50d7).unwrap(); // level 0: leaf, page 0x8765_4000, DAU-WRV
    mem
}

#[test]
fn sv39_by_hand() {
    let va: u64 = 0x12_3456_7abc;
    // The VPN split.
    assert_eq!(
        (
            va >> 30 & 0x1ff,
            va >> 21 & 0x1ff,
            va >> 12 & 0x1ff,
            va & 0xfff
        ),
        (0x48, 0x1a2, 0x167, 0xabc)
    );
    let mut mem = example_memory();
    let mut mmu = Mmu::new(MmuConfig::default()).unwrap();
    mmu.set_mode(Mode::Paged {
        format: Arc::new(Format::sv39()),
        root: 0x8020_0000,
    })
    .unwrap();
    let ctx = Context::user(1);
    let mut steps = Vec::new();
    let t = mmu
        .translate_traced(
            Request::new(va, AccessKind::Load, 8, ctx),
            &mut mem,
            &mut steps,
        )
        .unwrap();
    // dTLB lookup 0 + walker start 1 + 3 PTE reads x 20.
    assert_eq!(
        t,
        Translation {
            pa: 0x8765_4abc,
            cycles: Cycle(61),
            source: Source::Walk { level: 0 },
            page_bits: 12,
        }
    );
    let reads: Vec<(u8, u64, u64, Cycle)> = steps
        .iter()
        .filter_map(|s| match *s {
            Step::PteRead {
                level,
                addr,
                value,
                cycles,
                ..
            } => Some((level, addr, value, cycles)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reads,
        vec![
            (2, 0x8020_0240, 0x2008_0401, Cycle(20)),
            (1, 0x8020_1d10, 0x2008_0801, Cycle(20)),
            (0, 0x8020_2b38, 0x21d9_50d7, Cycle(20)),
        ]
    );
    let pointers: Vec<(u8, u64)> = steps
        .iter()
        .filter_map(|s| match *s {
            Step::Pointer { level, next } => Some((level, next)),
            _ => None,
        })
        .collect();
    assert_eq!(pointers, vec![(2, 0x8020_1000), (1, 0x8020_2000)]);
    // Every step, in order (what `vmlab translate` prints for this access).
    let kinds: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Check { what, ok } => format!("check {what}: {ok}"),
            Step::TlbLookup { tlb, hit, .. } => format!(
                "{} {}",
                tlb.name(),
                if hit.is_some() { "hit" } else { "miss" }
            ),
            Step::PteRead { level, .. } => format!("read level {level}"),
            Step::Pointer { level, .. } => format!("pointer at level {level}"),
            Step::Leaf { level, page_bits } => {
                format!("leaf at level {level}, 2^{page_bits} bytes")
            }
            Step::TlbFill { tlb, evicted, .. } => {
                format!("fill {} evicting {}", tlb.name(), evicted.is_some())
            }
            Step::Physical { pa } => format!("pa {pa:#x}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "check address width: true",
            "dtlb miss",
            "read level 2",
            "pointer at level 2",
            "read level 1",
            "pointer at level 1",
            "read level 0",
            "leaf at level 0, 2^12 bytes",
            "check privilege and permission: true",
            "fill dtlb evicting false",
            "pa 0x87654abc",
        ]
    );
    assert_eq!(steps.last(), Some(&Step::Physical { pa: 0x8765_4abc }));
    // The statistics the chapter quotes.
    let stats: Vec<(String, u64)> = mmu
        .stat_list()
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .collect();
    let expect = [
        ("mmu.requests.load", 1),
        ("mmu.mode_changes", 1),
        ("mmu.dtlb.misses.load", 1),
        ("mmu.dtlb.fills", 1),
        ("mmu.dtlb.flushes.all", 1),
        ("mmu.itlb.flushes.all", 1),
        ("mmu.walker.walks", 1),
        ("mmu.walker.pte_reads.level0", 1),
        ("mmu.walker.pte_reads.level1", 1),
        ("mmu.walker.pte_reads.level2", 1),
        ("mmu.walker.cycles", 61),
        ("mmu.walker.page_size.4KiB", 1),
    ];
    let mut expect: Vec<(String, u64)> = expect.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    let order = |n: &str| stats.iter().position(|(m, _)| m == n).unwrap_or(usize::MAX);
    expect.sort_by_key(|(n, _)| order(n));
    assert_eq!(stats, expect);
    // A store to the same page hits the dTLB (D is already set): 0 cycles.
    let t = mmu
        .translate(Request::store(va + 8, ctx), &mut mem)
        .unwrap();
    assert_eq!(
        (t.pa, t.cycles, t.source),
        (0x8765_4ac4, Cycle(0), Source::Tlb { tlb: TlbId::Dtlb })
    );
    // A fetch misses the iTLB and walks again: the page has no X bit.
    let f = mmu
        .translate(Request::fetch(va, ctx), &mut mem)
        .unwrap_err();
    assert_eq!(
        f,
        Faulted {
            fault: Fault::Page {
                va,
                kind: AccessKind::Fetch,
                level: 0,
                pte_addr: 0x8020_2b38,
                pte: 0x21d9_50d7,
                reason: PageFaultReason::NotExecutable,
            },
            cycles: Cycle(61),
        }
    );
    // Supervisor mode with SUM clear may not load from this U page.
    let r = mmu.translate(Request::load(va, Context::supervisor(1)), &mut mem);
    assert!(matches!(
        r,
        Err(Faulted {
            fault: Fault::Page {
                reason: PageFaultReason::UserPageSumClear,
                ..
            },
            cycles: Cycle(0)
        })
    ));
}

#[test]
fn same_walk_with_an_l2_tlb_and_svadu() {
    // The chapter's variant: 1-cycle L1 TLBs, the default L2 TLB (4 cycles), level latency 2,
    // Svadu, and the leaf's A and D bits clear, on a store.
    let mut mem = example_memory();
    mem.store(0x8020_2b38, 8, 0x21d9_5017).unwrap(); // ---U-WRV
    let l1 = tlb::TlbConfig {
        hit_latency: 1,
        ..tlb::TlbConfig::default()
    };
    let cfg = MmuConfig {
        tlb: Default::default(),
        itlb: l1,
        dtlb: l1,
        l2tlb: Some(MmuConfig::default_l2tlb()),
        walker: walker::WalkerConfig {
            start_latency: 1,
            level_latency: 2,
        },
        ad: AdPolicy::Svadu,
        flush_on_root_change: false,
    };
    let mut mmu = Mmu::new(cfg).unwrap();
    mmu.set_mode(Mode::Paged {
        format: Arc::new(Format::sv39()),
        root: 0x8020_0000,
    })
    .unwrap();
    let va = 0x12_3456_7abc;
    let t = mmu
        .translate(Request::store(va, Context::user(1)), &mut mem)
        .unwrap();
    // 1 (dTLB) + 4 (L2 TLB) + 1 (start) + 3 x (2 + 20) + 20 (A/D write) = 92.
    assert_eq!((t.pa, t.cycles), (0x8765_4abc, Cycle(92)));
    assert_eq!(mem.peek(0x8020_2b38, 8), Ok(0x21d9_50d7));
    // The next access to the page hits the dTLB: 1 cycle.
    let t = mmu
        .translate(Request::load(va, Context::user(1)), &mut mem)
        .unwrap();
    assert_eq!(
        (t.cycles, t.source),
        (Cycle(1), Source::Tlb { tlb: TlbId::Dtlb })
    );
}
