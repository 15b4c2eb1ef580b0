//! RISC-V paging, bit-exact to the privileged specification: Sv32, Sv39, Sv48 and Sv57 walks,
//! superpages, every PTE check in the walker's order, U/S with SUM and MXR, canonical
//! addresses, Svade and Svadu, and PTE accesses outside memory.
mod common;

use common::*;
use vmlab_mmu::*;

/// The four RISC-V formats with a base-page VA and PA for each.
fn riscv() -> Vec<(Format, u64, u64)> {
    vec![
        (Format::sv32(), 0x8123_4567, 0x2_8765_4000),
        (Format::sv39(), 0x12_3456_7abc, 0xab_cdef_1000),
        (Format::sv48(), 0x7f12_3456_7abc, 0xab_cdef_1000),
        (Format::sv57(), 0x1f_f123_4567_89ab, 0xffab_cdef_1000),
    ]
}

const ROOT: u64 = 0x10_0000;

/// A world with one mapping: memory, the table builder, a unit in that paged mode.
fn world(fmt: Format, cfg: MmuConfig) -> (SparseMemory, Pt, Mmu) {
    let pt = Pt::new(fmt, ROOT);
    let mmu = mmu_in(cfg, pt.mode());
    (memory(), pt, mmu)
}

#[test]
fn base_page_walk_each_format() {
    // start_latency 3 and level_latency 2, so the cycle formula is visible:
    // start + levels x (level_latency + port latency).
    let cfg = MmuConfig {
        walker: walker::WalkerConfig {
            start_latency: 3,
            level_latency: 2,
        },
        ..MmuConfig::default()
    };
    let check = |fmt: Format, va: u64, pa_page: u64| {
        let name = fmt.name().to_string();
        let levels = fmt.levels() as u64;
        let (mut mem, mut pt, mut mmu) = world(fmt, cfg.clone());
        pt.map(&mut mem, va, pa_page, 0, RWXAD | U);
        let ctx = Context::user(1);
        let t = mmu.translate(Request::load(va, ctx), &mut mem).unwrap();
        let expect = Translation {
            pa: pa_page | (va & 0xfff),
            cycles: Cycle(3 + levels * (2 + MEM_LAT)),
            source: Source::Walk { level: 0 },
            page_bits: 12,
        };
        assert_eq!(t, expect, "{name}");
        for l in 0..5 {
            let n = stat(&mmu, &format!("mmu.walker.pte_reads.level{l}"));
            assert_eq!(n, (l < levels) as u64, "{name} level {l}");
        }
        assert_eq!(stat(&mmu, "mmu.walker.walks"), 1, "{name}");
        assert_eq!(stat(&mmu, "mmu.walker.cycles"), expect.cycles.0, "{name}");
        assert_eq!(stat(&mmu, "mmu.walker.page_size.4KiB"), 1, "{name}");
        assert_eq!(stat(&mmu, "mmu.dtlb.misses.load"), 1, "{name}");
        assert_eq!(mem.accesses(), (levels, 0), "{name}: one read per level");
        // The same page again is a dTLB hit that costs the lookup latency only.
        let t = mmu
            .translate(Request::load(va ^ 0xff, ctx), &mut mem)
            .unwrap();
        assert_eq!(
            (t.pa, t.cycles, t.source),
            (
                pa_page | ((va ^ 0xff) & 0xfff),
                Cycle(0),
                Source::Tlb { tlb: TlbId::Dtlb }
            ),
            "{name}"
        );
        assert_eq!(stat(&mmu, "mmu.dtlb.hits.load"), 1, "{name}");
    };
    for (f, va, pa) in riscv() {
        check(f, va, pa);
    }
}

#[test]
fn superpages_every_size() {
    // (format, leaf level, VA of the page, PA of the page, page-size statistic)
    let check = |fmt: Format, level: u8, va: u64, pa: u64, size: &str| {
        let name = format!("{} level {level}", fmt.name());
        let levels = fmt.levels() as u64;
        let bits = fmt.page_bits(level);
        let last = (1u64 << bits) - 1;
        let (mut mem, mut pt, mut mmu) = world(fmt, MmuConfig::default());
        pt.map(&mut mem, va, pa, level, RWXAD);
        let ctx = Context::supervisor(0);
        let t = mmu.translate(Request::load(va, ctx), &mut mem).unwrap();
        assert_eq!(
            t,
            Translation {
                pa,
                cycles: Cycle(1 + (levels - level as u64) * MEM_LAT),
                source: Source::Walk { level },
                page_bits: bits,
            },
            "{name}: first byte"
        );
        assert_eq!(stat(&mmu, &format!("mmu.walker.page_size.{size}")), 1);
        assert_eq!(
            stat(&mmu, &format!("mmu.walker.pte_reads.level{level}")),
            1,
            "{name}"
        );
        if level > 0 {
            assert_eq!(
                stat(&mmu, &format!("mmu.walker.pte_reads.level{}", level - 1)),
                0
            );
        }
        // The last byte hits the superpage entry in the dTLB.
        let t = mmu
            .translate(Request::load(va + last, ctx), &mut mem)
            .unwrap();
        assert_eq!(
            (t.pa, t.source),
            (pa + last, Source::Tlb { tlb: TlbId::Dtlb }),
            "{name}: last byte"
        );
        // A fresh probe agrees on the last byte.
        assert_eq!(
            mmu.probe(Request::load(va + last, ctx), &mem).unwrap().pa,
            pa + last
        );
        // One byte past the page is not mapped by it (the next slot is empty).
        assert_eq!(
            page_fault(mmu.translate(Request::load(va + last + 1, ctx), &mut mem)).0,
            PageFaultReason::Invalid,
            "{name}: past the end"
        );
        // The same leaf with its PPN off by one page is a misaligned superpage.
        if level > 0 {
            let raw = pt.leaf(pa, RWXAD) + (1 << pt.fmt.spec().pfn.lsb);
            pt.set(&mut mem, va, level, raw);
            mmu.flush(Flush::All);
            let r = mmu.translate(Request::load(va + 0x10_000, ctx), &mut mem);
            assert_eq!(
                page_fault(r),
                (PageFaultReason::MisalignedSuperpage, level),
                "{name}"
            );
        }
    };
    type Case = (fn() -> Format, u8, u64, u64, &'static str);
    let cases: &[Case] = &[
        (Format::sv32, 1, 0x8040_0000, 0x3_0040_0000, "4MiB"),
        (Format::sv39, 1, 0x12_3440_0000, 0x8060_0000, "2MiB"),
        (Format::sv39, 2, 0x20_0000_0000, 0x1_c000_0000, "1GiB"),
        (Format::sv48, 1, 0x7f12_3440_0000, 0x8060_0000, "2MiB"),
        (Format::sv48, 2, 0x7f12_4000_0000, 0x1_c000_0000, "1GiB"),
        (Format::sv48, 3, 0x7000_0000_0000, 0x100_0000_0000, "512GiB"),
        (Format::sv57, 1, 0x1f_f123_4560_0000, 0x8060_0000, "2MiB"),
        (Format::sv57, 2, 0x1f_f123_4000_0000, 0x1_c000_0000, "1GiB"),
        (
            Format::sv57,
            3,
            0x1f_f000_0000_0000,
            0x100_0000_0000,
            "512GiB",
        ),
        (
            Format::sv57,
            4,
            0x5_0000_0000_0000,
            0x3_0000_0000_0000,
            "256TiB",
        ),
    ];
    for &(f, level, va, pa, size) in cases {
        check(f(), level, va, pa, size);
    }
}

/// Writes `raw` over the PTE at `level` on the path of a mapped base page and checks the
/// fault reason and level, the PTE address and value in the fault, and the reads it took.
fn check_pte(
    fmt: Format,
    level: u8,
    raw: impl Fn(&Pt, u64) -> u64,
    kind: AccessKind,
    expect: PageFaultReason,
) {
    let name = format!("{} level {level} {expect:?}", fmt.name());
    let levels = fmt.levels();
    let va = riscv()
        .into_iter()
        .find(|(f, ..)| f.name() == fmt.name())
        .unwrap()
        .1;
    let (mut mem, mut pt, mut mmu) = world(fmt, MmuConfig::default());
    pt.map(&mut mem, va, 0x4000_0000, 0, RWXAD);
    let addr = pt.pte_addr(&mem, va, level);
    let old = mem.peek(addr, pt.fmt.pte_bytes()).unwrap();
    let new = raw(&pt, old);
    mem.store(addr, pt.fmt.pte_bytes(), new).unwrap();
    let r = mmu.translate(req(kind, va, Context::supervisor(0)), &mut mem);
    let reads = (levels - level) as u64;
    assert_eq!(
        r,
        Err(Faulted {
            fault: Fault::Page {
                va,
                kind,
                level,
                pte_addr: addr,
                pte: new,
                reason: expect
            },
            cycles: Cycle(1 + reads * MEM_LAT),
        }),
        "{name}"
    );
    assert_eq!(
        stat(&mmu, &format!("mmu.faults.page.{}", expect.name())),
        1,
        "{name}"
    );
    assert_eq!(stat(&mmu, "mmu.walker.faulted_walks"), 1);
    assert_eq!(mem.accesses().0, reads, "{name}");
}

#[test]
fn invalid_at_each_level() {
    for (f, ..) in riscv() {
        for level in 0..f.levels() {
            check_pte(
                f.clone(),
                level,
                |_, old| old & !V,
                Load,
                PageFaultReason::Invalid,
            );
        }
    }
}

#[test]
fn reserved_encodings() {
    use PageFaultReason::*;
    for (f, ..) in riscv() {
        let top = f.levels() - 1;
        let sv32 = f.name() == "sv32";
        // W without R on a leaf and on a pointer (checked before leaf/pointer).
        check_pte(f.clone(), 0, |_, old| old & !R & !X, Load, WriteWithoutRead);
        check_pte(f.clone(), top, |_, old| old | W, Load, WriteWithoutRead);
        // Non-leaf D, A, U are reserved.
        for bit in [D, A, U] {
            check_pte(
                f.clone(),
                top,
                move |_, old| old | bit,
                Load,
                NonLeafReserved,
            );
            check_pte(
                f.clone(),
                1,
                move |_, old| old | bit,
                Store,
                NonLeafReserved,
            );
        }
        // A pointer at level 0 has nowhere to point.
        check_pte(
            f.clone(),
            0,
            |_, old| old & !(R | W | X),
            Fetch,
            PointerAtLastLevel,
        );
        // Bits 63:54 are reserved in the 64-bit formats (Sv32 PTEs have none).
        if !sv32 {
            for bit in [54, 58, 61, 62, 63] {
                check_pte(
                    f.clone(),
                    0,
                    move |_, old| old | 1 << bit,
                    Load,
                    ReservedBits,
                );
                check_pte(
                    f.clone(),
                    top,
                    move |_, old| old | 1 << bit,
                    Load,
                    ReservedBits,
                );
            }
            // Bit 53 is the top of the PPN, not reserved: the leaf now names another frame.
        }
    }
}

#[test]
fn check_order_when_several_fail() {
    use PageFaultReason::*;
    let f = Format::sv39;
    // V clear wins over everything.
    check_pte(f(), 0, |_, _| W | 1 << 60 | U, Store, Invalid);
    // W-without-R is checked before reserved bits.
    check_pte(
        f(),
        0,
        |_, old| (old & !R) | 1 << 60,
        Load,
        WriteWithoutRead,
    );
    // Reserved bits before the leaf/pointer decision.
    check_pte(
        f(),
        0,
        |_, old| (old & !(R | W | X)) | 1 << 63,
        Load,
        ReservedBits,
    );
    // Privilege (U page, S access, SUM clear) before misalignment and A/D.
    check_pte(
        f(),
        1,
        |pt, _| pt.leaf(0x20_1000, V | R | U),
        Load,
        UserPageSumClear,
    );
    // Permission before misalignment.
    check_pte(
        f(),
        1,
        |pt, _| pt.leaf(0x20_1000, V | R),
        Store,
        NotWritable,
    );
    // Misalignment before A/D.
    check_pte(
        f(),
        1,
        |pt, _| pt.leaf(0x20_1000, V | R),
        Load,
        MisalignedSuperpage,
    );
    // A before D.
    check_pte(f(), 0, |_, old| old & !(A | D), Store, AccessedClear);
    check_pte(f(), 0, |_, old| old & !D, Store, DirtyClear);
}

/// Permission checks, on the walk path and again on the TLB-hit path.
#[test]
fn privilege_and_permissions() {
    use PageFaultReason::*;
    let sup = |sum: bool, mxr: bool| Context {
        sum,
        mxr,
        ..Context::supervisor(0)
    };
    let usr = |mxr: bool| Context {
        mxr,
        ..Context::user(0)
    };
    let ok = Ok(());
    // (leaf flags, context, access, expected)
    let cases: &[(u64, Context, AccessKind, Result<(), PageFaultReason>)] = &[
        // User pages.
        (V | R | W | U | A | D, usr(false), Load, ok),
        (V | R | W | U | A | D, usr(false), Store, ok),
        (V | R | X | U | A, usr(false), Fetch, ok),
        (V | R | W | X | A | D, usr(false), Load, Err(SupervisorPage)),
        (
            V | R | W | X | A | D,
            usr(false),
            Fetch,
            Err(SupervisorPage),
        ),
        // Supervisor and user pages: SUM.
        (
            V | R | W | U | A | D,
            sup(false, false),
            Load,
            Err(UserPageSumClear),
        ),
        (
            V | R | W | U | A | D,
            sup(false, false),
            Store,
            Err(UserPageSumClear),
        ),
        (V | R | W | U | A | D, sup(true, false), Load, ok),
        (V | R | W | U | A | D, sup(true, false), Store, ok),
        // S-mode may never fetch from a U page, SUM or not.
        (
            V | R | X | U | A,
            sup(false, false),
            Fetch,
            Err(UserPageFetch),
        ),
        (
            V | R | X | U | A,
            sup(true, false),
            Fetch,
            Err(UserPageFetch),
        ),
        (V | R | X | A, sup(false, false), Fetch, ok),
        // R/W/X.
        (V | R | A | D, sup(false, false), Store, Err(NotWritable)),
        (V | R | A | D, sup(false, false), Fetch, Err(NotExecutable)),
        (
            V | R | W | A | D,
            sup(false, false),
            Fetch,
            Err(NotExecutable),
        ),
        // Execute-only: loads need MXR.
        (V | X | A, sup(false, false), Load, Err(NotReadable)),
        (V | X | A, sup(false, true), Load, ok),
        (V | X | U | A, usr(true), Load, ok),
        (V | X | U | A, usr(false), Load, Err(NotReadable)),
        (V | X | A, sup(false, true), Store, Err(NotWritable)),
        (V | X | A, sup(false, false), Fetch, ok),
        // MXR does not make a U page readable to S without SUM.
        (V | X | U | A, sup(false, true), Load, Err(UserPageSumClear)),
    ];
    let va = 0x12_3456_7abc;
    let pa = 0xab_cdef_1000;
    for (i, &(flags, ctx, kind, expect)) in cases.iter().enumerate() {
        let name = format!("case {i}: {flags:#x} {ctx:?} {kind}");
        let (mut mem, mut pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
        pt.map(&mut mem, va, pa, 0, flags);
        let walked = mmu.translate(req(kind, va, ctx), &mut mem);
        match expect {
            Ok(()) => {
                let t = walked.unwrap();
                assert_eq!(
                    (t.pa, t.source),
                    (pa | 0xabc, Source::Walk { level: 0 }),
                    "{name}"
                )
            }
            Err(reason) => assert_eq!(page_fault(walked), (reason, 0), "{name}"),
        }
        // The same check on a TLB hit: prime the TLB of this access kind with a context
        // that may access the page, then repeat the access.
        let primers = [sup(true, true), usr(true)];
        let primer_kinds: &[AccessKind] = if kind == Fetch {
            &[Fetch]
        } else {
            &[Load, Store]
        };
        let primer = primers
            .iter()
            .flat_map(|c| primer_kinds.iter().map(move |k| req(*k, va, *c)))
            .find(|r| mmu.probe(*r, &mem).is_ok());
        let Some(primer) = primer else { continue };
        let mut mmu = mmu_in(MmuConfig::default(), pt.mode());
        mmu.translate(primer, &mut mem).unwrap();
        let hit = mmu.translate(req(kind, va, ctx), &mut mem);
        let tlb = if kind == Fetch {
            TlbId::Itlb
        } else {
            TlbId::Dtlb
        };
        match expect {
            Ok(()) => assert_eq!(hit.unwrap().source, Source::Tlb { tlb }, "{name} (TLB)"),
            Err(reason) => assert_eq!(page_fault(hit), (reason, 0), "{name} (TLB)"),
        }
        assert_eq!(stat(&mmu, "mmu.walker.walks"), 1, "{name}: no second walk");
    }
}

#[test]
fn machine_mode_is_never_translated() {
    let (mut mem, _pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
    let t = mmu
        .translate(Request::load(0xdead_beef, Context::machine()), &mut mem)
        .unwrap();
    assert_eq!(
        t,
        Translation {
            pa: 0xdead_beef,
            cycles: Cycle(0),
            source: Source::Untranslated,
            page_bits: 0
        }
    );
    assert_eq!(stat(&mmu, "mmu.untranslated"), 1);
    assert_eq!(stat(&mmu, "mmu.walker.walks"), 0);
}

#[test]
fn canonical_edges() {
    // (format, VA, Some(PA) if it translates, else the fault)
    let check = |fmt: Format, va: u64, expect: Result<u64, Fault>| {
        let name = format!("{} {va:#x}", fmt.name());
        let (mut mem, mut pt, mut mmu) = world(fmt, MmuConfig::default());
        if let Ok(pa) = expect {
            pt.map(&mut mem, va, pa & !0xfff, 0, RWXAD);
        }
        let r = mmu
            .translate(Request::load(va, Context::supervisor(0)), &mut mem)
            .map(|t| t.pa)
            .map_err(|f| f.fault);
        assert_eq!(r, expect, "{name}");
        if expect.is_err() {
            assert_eq!(mem.accesses(), (0, 0), "{name}: no PTE read");
        }
    };
    let nc = |va, va_bits| Err(Fault::NonCanonical { va, va_bits });
    check(Format::sv39(), 0x3f_ffff_ffff, Ok(0x5000_0fff));
    check(Format::sv39(), 0x40_0000_0000, nc(0x40_0000_0000, 39));
    check(
        Format::sv39(),
        0xffff_ffbf_ffff_ffff,
        nc(0xffff_ffbf_ffff_ffff, 39),
    );
    check(Format::sv39(), 0xffff_ffc0_0000_0000, Ok(0x6000_0000));
    check(Format::sv39(), u64::MAX, Ok(0x7000_0fff));
    check(
        Format::sv39(),
        0x8000_0000_0000_0000,
        nc(0x8000_0000_0000_0000, 39),
    );
    check(Format::sv48(), 0x7fff_ffff_ffff, Ok(0x5000_0fff));
    check(Format::sv48(), 0x8000_0000_0000, nc(0x8000_0000_0000, 48));
    check(Format::sv48(), 0xffff_8000_0000_0000, Ok(0x6000_0000));
    check(Format::sv57(), 0xff_ffff_ffff_ffff, Ok(0x5000_0fff));
    check(
        Format::sv57(),
        0x100_0000_0000_0000,
        nc(0x100_0000_0000_0000, 57),
    );
    check(Format::sv57(), 0xff00_0000_0000_0000, Ok(0x6000_0000));
    // Sv32 addresses are 32 bits wide; anything above is out of range (zero-extended).
    check(Format::sv32(), 0xffff_ffff, Ok(0x5000_0fff));
    check(
        Format::sv32(),
        0x1_0000_0000,
        Err(Fault::AddressOutOfRange {
            va: 0x1_0000_0000,
            va_bits: 32,
        }),
    );
}

#[test]
fn positive_and_negative_halves_are_different_pages() {
    let (mut mem, mut pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
    pt.map(&mut mem, 0x1000, 0xa000, 0, RWXAD);
    pt.map(&mut mem, 0xffff_ffc0_0000_1000, 0xb000, 0, RWXAD);
    let ctx = Context::supervisor(0);
    for (va, pa) in [(0x1000, 0xa000), (0xffff_ffc0_0000_1000, 0xb000)] {
        assert_eq!(
            mmu.translate(Request::load(va, ctx), &mut mem).unwrap().pa,
            pa
        );
    }
    // Both are now in the TLB and still distinct.
    for (va, pa) in [(0x1008, 0xa008), (0xffff_ffc0_0000_1008, 0xb008)] {
        let t = mmu.translate(Request::load(va, ctx), &mut mem).unwrap();
        assert_eq!((t.pa, t.source), (pa, Source::Tlb { tlb: TlbId::Dtlb }));
    }
}

#[test]
fn svade_faults_when_a_or_d_clear() {
    use PageFaultReason::*;
    // (leaf flags, access, expected)
    let cases: &[(u64, AccessKind, Result<(), PageFaultReason>)] = &[
        (V | R | W | X, Load, Err(AccessedClear)),
        (V | R | W | X, Fetch, Err(AccessedClear)),
        (V | R | W | X, Store, Err(AccessedClear)),
        (V | R | W | X | D, Store, Err(AccessedClear)),
        (V | R | W | X | A, Load, Ok(())),
        (V | R | W | X | A, Fetch, Ok(())),
        (V | R | W | X | A, Store, Err(DirtyClear)),
        (V | R | W | X | A | D, Store, Ok(())),
    ];
    for &(flags, kind, expect) in cases {
        let (mut mem, mut pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
        let addr = pt.map(&mut mem, 0x5000, 0x9000, 0, flags);
        let r = mmu.translate(req(kind, 0x5000, Context::supervisor(0)), &mut mem);
        match expect {
            Ok(()) => assert_eq!(r.unwrap().pa, 0x9000),
            Err(reason) => {
                assert_eq!(page_fault(r), (reason, 0), "{flags:#x} {kind}");
                assert_eq!(stat(&mmu, &format!("mmu.faults.page.{}", reason.name())), 1);
            }
        }
        assert_eq!(
            mem.peek(addr, 8).unwrap() & 0x3ff,
            flags,
            "Svade never writes"
        );
        assert_eq!(mem.accesses().1, 0);
    }
}

#[test]
fn svade_store_to_clean_tlb_entry_faults_without_walking() {
    let (mut mem, mut pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
    pt.map(&mut mem, 0x5000, 0x9000, 0, V | R | W | A);
    let ctx = Context::supervisor(0);
    mmu.translate(Request::load(0x5000, ctx), &mut mem).unwrap();
    let r = mmu.translate(Request::store(0x5008, ctx), &mut mem);
    assert_eq!(page_fault(r), (PageFaultReason::DirtyClear, 0));
    assert_eq!(stat(&mmu, "mmu.walker.walks"), 1);
    assert_eq!(stat(&mmu, "mmu.dtlb.hits.store"), 1);
}

#[test]
fn svadu_writes_a_and_d_back() {
    let cfg = MmuConfig {
        ad: AdPolicy::Svadu,
        ..MmuConfig::default()
    };
    // (leaf flags, access, flags in memory after, whether a write happened)
    let cases: &[(u64, AccessKind, u64, bool)] = &[
        (V | R | W | X, Load, V | R | W | X | A, true),
        (V | R | W | X, Fetch, V | R | W | X | A, true),
        (V | R | W | X, Store, V | R | W | X | A | D, true),
        (V | R | W | X | A, Store, V | R | W | X | A | D, true),
        (V | R | W | X | D, Load, V | R | W | X | A | D, true),
        (V | R | W | X | A, Load, V | R | W | X | A, false),
        (V | R | W | X | A | D, Store, V | R | W | X | A | D, false),
    ];
    for &(flags, kind, after, wrote) in cases {
        let name = format!("{flags:#x} {kind}");
        let (mut mem, mut pt, mut mmu) = world(Format::sv39(), cfg.clone());
        let addr = pt.map(&mut mem, 0x5000, 0x9000, 0, flags);
        let t = mmu
            .translate(req(kind, 0x5000, Context::supervisor(0)), &mut mem)
            .unwrap();
        assert_eq!(t.pa, 0x9000);
        assert_eq!(
            t.cycles,
            Cycle(1 + 3 * MEM_LAT + if wrote { MEM_LAT } else { 0 }),
            "{name}"
        );
        assert_eq!(mem.peek(addr, 8).unwrap(), pt.leaf(0x9000, after), "{name}");
        assert_eq!(stat(&mmu, "mmu.walker.ad_writes"), wrote as u64, "{name}");
        assert_eq!(mem.accesses(), (3, wrote as u64), "{name}");
        assert_eq!(stat(&mmu, "mmu.walker.cycles"), t.cycles.0);
    }
}

#[test]
fn svadu_store_to_clean_tlb_entry_rewalks() {
    let cfg = MmuConfig {
        ad: AdPolicy::Svadu,
        dtlb: tlb::TlbConfig {
            hit_latency: 2,
            ..tlb::TlbConfig::default()
        },
        ..MmuConfig::default()
    };
    let (mut mem, mut pt, mut mmu) = world(Format::sv39(), cfg);
    let addr = pt.map(&mut mem, 0x5000, 0x9000, 0, V | R | W);
    let ctx = Context::supervisor(0);
    // The load walks and sets A (one write).
    let t = mmu.translate(Request::load(0x5000, ctx), &mut mem).unwrap();
    assert_eq!(t.cycles, Cycle(2 + 1 + 3 * MEM_LAT + MEM_LAT));
    assert_eq!(mem.peek(addr, 8).unwrap(), pt.leaf(0x9000, V | R | W | A));
    // The store hits the clean entry and walks again to set D.
    let t = mmu
        .translate(Request::store(0x5010, ctx), &mut mem)
        .unwrap();
    assert_eq!(
        t,
        Translation {
            pa: 0x9010,
            cycles: Cycle(2 + 1 + 3 * MEM_LAT + MEM_LAT),
            source: Source::Walk { level: 0 },
            page_bits: 12
        }
    );
    assert_eq!(
        mem.peek(addr, 8).unwrap(),
        pt.leaf(0x9000, V | R | W | A | D)
    );
    assert_eq!(stat(&mmu, "mmu.walker.dirty_rewalks"), 1);
    assert_eq!(stat(&mmu, "mmu.walker.ad_writes"), 2);
    assert_eq!(stat(&mmu, "mmu.walker.walks"), 2);
    assert_eq!(stat(&mmu, "mmu.dtlb.hits.store"), 1);
    // The refilled entry is dirty: the next store is a plain hit, and the TLB holds one entry.
    let t = mmu
        .translate(Request::store(0x5020, ctx), &mut mem)
        .unwrap();
    assert_eq!(
        (t.source, t.cycles),
        (Source::Tlb { tlb: TlbId::Dtlb }, Cycle(2))
    );
    let valid = mmu
        .tlb(TlbId::Dtlb)
        .unwrap()
        .entries()
        .iter()
        .filter(|e| e.valid)
        .count();
    assert_eq!(valid, 1);
    assert_eq!(stat(&mmu, "mmu.walker.walks"), 2);
}

#[test]
fn pte_outside_memory_is_an_access_fault() {
    // 16 MiB of memory; a level-2 pointer to a table at 1 GiB.
    let mut mem = SparseMemory::new(1 << 24, Cycle(MEM_LAT));
    let mut pt = Pt::new(Format::sv39(), ROOT);
    let va = 0x12_3456_7abc;
    let pointer = pt.pointer(1 << 30);
    let l2 = pt.set(&mut mem, va, 2, pointer);
    assert_eq!(l2, ROOT + 0x48 * 8);
    let mut mmu = mmu_in(MmuConfig::default(), pt.mode());
    let r = mmu.translate(Request::store(va, Context::supervisor(0)), &mut mem);
    let fault = Fault::PteAccess {
        va,
        kind: Store,
        level: 1,
        pte_addr: (1 << 30) + 0x1a2 * 8,
    };
    assert_eq!(
        r,
        Err(Faulted {
            fault,
            cycles: Cycle(1 + MEM_LAT)
        })
    );
    assert_eq!(fault.class(), FaultClass::AccessFault);
    assert_eq!(stat(&mmu, "mmu.faults.pte_access"), 1);
    assert_eq!(stat(&mmu, "mmu.walker.pte_reads.level2"), 1);
    assert_eq!(stat(&mmu, "mmu.walker.pte_reads.level1"), 0);
    // A root outside memory faults at the root level, and probe says the same.
    let mut mmu = mmu_in(
        MmuConfig::default(),
        Mode::Paged {
            format: pt.fmt.clone(),
            root: 1 << 24,
        },
    );
    let fault = Fault::PteAccess {
        va,
        kind: Load,
        level: 2,
        pte_addr: (1 << 24) + 0x48 * 8,
    };
    assert_eq!(
        mmu.probe(Request::load(va, Context::supervisor(0)), &mem),
        Err(fault)
    );
    let r = mmu.translate(Request::load(va, Context::supervisor(0)), &mut mem);
    assert_eq!(r.map_err(|f| f.fault), Err(fault));
}

#[test]
fn page_straddling_access_is_misaligned() {
    let (mut mem, mut pt, mut mmu) = world(Format::sv39(), MmuConfig::default());
    pt.map(&mut mem, 0x5000, 0x9000, 0, RWXAD);
    pt.map(&mut mem, 0x6000, 0x7000, 0, RWXAD);
    let ctx = Context::supervisor(0);
    let ok = mmu
        .translate(Request::new(0x5ff8, Load, 8, ctx), &mut mem)
        .unwrap();
    assert_eq!(ok.pa, 0x9ff8);
    let r = mmu.translate(Request::new(0x5ffc, Load, 8, ctx), &mut mem);
    let fault = Fault::PageStraddle {
        va: 0x5ffc,
        size: 8,
    };
    assert_eq!(r.map_err(|f| f.fault), Err(fault));
    assert_eq!(fault.class(), FaultClass::Misaligned);
    assert_eq!(stat(&mmu, "mmu.faults.page_straddle"), 1);
}

#[test]
fn fault_classes() {
    let page = Fault::Page {
        va: 0,
        kind: Load,
        level: 0,
        pte_addr: 0,
        pte: 0,
        reason: PageFaultReason::Invalid,
    };
    let cases = [
        (page, FaultClass::PageFault),
        (
            Fault::NonCanonical { va: 0, va_bits: 39 },
            FaultClass::PageFault,
        ),
        (
            Fault::AddressOutOfRange { va: 0, va_bits: 32 },
            FaultClass::PageFault,
        ),
        (
            Fault::Bounds {
                va: 0,
                size: 1,
                bounds: 0,
            },
            FaultClass::AccessFault,
        ),
        (
            Fault::SegmentNotPresent { segment: 0 },
            FaultClass::AccessFault,
        ),
        (
            Fault::SegmentProtection {
                segment: 0,
                reason: SegmentProtection::NotWritable,
            },
            FaultClass::AccessFault,
        ),
        (
            Fault::SegmentLimit {
                segment: 0,
                offset: 0,
                size: 1,
                limit: 0,
                grows_down: false,
            },
            FaultClass::AccessFault,
        ),
        (
            Fault::PteAccess {
                va: 0,
                kind: Load,
                level: 0,
                pte_addr: 0,
            },
            FaultClass::AccessFault,
        ),
        (
            Fault::PageStraddle { va: 0, size: 2 },
            FaultClass::Misaligned,
        ),
    ];
    for (f, class) in cases {
        assert_eq!(f.class(), class, "{f:?}");
    }
}
