//! The schemes before paging: bare, base and bounds, segment registers (with a grows-down
//! stack, as in the OSTEP segmentation homework), and paged segments.
mod common;

use common::*;
use std::sync::Arc;
use vmlab_mmu::*;

/// Translates each request in one unit, in order, and compares the PA and source, or the
/// fault; translations outside paging cost no cycles, and a probe must agree.
/// The expected answer: the PA and how it was found, or the fault.
type Expect = Result<(u64, Source), Fault>;

fn check(mode: Mode, cases: &[(Request, Expect)]) {
    let mut mem = memory();
    let mut m = mmu_in(MmuConfig::default(), mode.clone());
    for (i, &(r, expect)) in cases.iter().enumerate() {
        let got = m.translate(r, &mut mem);
        let name = format!(
            "{} case {i}: {:#x} {} x{}",
            mode.name(),
            r.va,
            r.kind,
            r.size
        );
        match expect {
            Ok((pa, source)) => {
                let t = got.unwrap_or_else(|f| panic!("{name}: {}", f.fault));
                assert_eq!((t.pa, t.source, t.cycles), (pa, source, Cycle(0)), "{name}");
            }
            Err(fault) => assert_eq!(
                got,
                Err(Faulted {
                    fault,
                    cycles: Cycle(0)
                }),
                "{name}"
            ),
        }
        // The functional probe gives the same answer.
        assert_eq!(
            m.probe(r, &mem).map(|t| t.pa),
            expect.map(|e| e.0),
            "{name} (probe)"
        );
    }
    let faults = cases.iter().filter(|c| c.1.is_err()).count() as u64;
    let counted: u64 = m.stats().total_faults();
    assert_eq!(counted, faults, "{}: faults counted", mode.name());
    assert_eq!(stat(&m, "mmu.walker.walks"), 0);
}

fn ld(va: u64, size: u8) -> Request {
    Request::new(va, Load, size, Context::user(0))
}

#[test]
fn bare_is_identity() {
    let u = Source::Untranslated;
    check(
        Mode::Bare,
        &[
            (ld(0, 1), Ok((0, u))),
            (ld(u64::MAX, 1), Ok((u64::MAX, u))),
            (
                Request::store(0x8000_0000, Context::supervisor(3)),
                Ok((0x8000_0000, u)),
            ),
        ],
    );
}

#[test]
fn base_and_bounds() {
    let mode = Mode::BaseBounds {
        base: 0x8000,
        bounds: 0x4000,
    };
    let rel = Source::Relocated;
    let bounds = |va, size| {
        Err(Fault::Bounds {
            va,
            size,
            bounds: 0x4000,
        })
    };
    check(
        mode,
        &[
            (ld(0, 1), Ok((0x8000, rel))),
            (ld(0x3fff, 1), Ok((0xbfff, rel))),
            (ld(0x4000, 1), bounds(0x4000, 1)),
            (ld(0x3ffc, 4), Ok((0xbffc, rel))),
            (ld(0x3ffd, 4), bounds(0x3ffd, 4)),
            (ld(0x3ff8, 8), Ok((0xbff8, rel))),
            (ld(0x3ff9, 8), bounds(0x3ff9, 8)),
            (ld(u64::MAX - 3, 8), bounds(u64::MAX - 3, 8)),
            (Request::store(0x3fff, Context::user(0)), Ok((0xbfff, rel))),
            (Request::fetch(0x3ffc, Context::user(0)), Ok((0xbffc, rel))),
            (Request::fetch(0x3ffe, Context::user(0)), bounds(0x3ffe, 4)),
            // Machine mode bypasses relocation.
            (
                Request::load(0x4000, Context::machine()),
                Ok((0x4000, Source::Untranslated)),
            ),
        ],
    );
}

fn seg(base: u64, limit: u64, rwx: &str) -> SegmentRegister {
    SegmentRegister::new(
        base,
        limit,
        rwx.contains('r'),
        rwx.contains('w'),
        rwx.contains('x'),
    )
}

fn stack(base: u64, limit: u64) -> SegmentRegister {
    SegmentRegister {
        grows_down: true,
        ..seg(base, limit, "rw")
    }
}

fn segmented(va_bits: u8, selector_bits: u8, registers: Vec<SegmentRegister>) -> Mode {
    Mode::Segmented(Segmentation {
        va_bits,
        selector_bits,
        registers,
        format: None,
        select: Default::default(),
    })
}

fn limit(segment: u8, offset: u64, size: u8, limit: u64, grows_down: bool) -> Expect {
    Err(Fault::SegmentLimit {
        segment,
        offset,
        size,
        limit,
        grows_down,
    })
}

fn at(pa: u64, segment: u8) -> Expect {
    Ok((pa, Source::Segment { segment }))
}

#[test]
fn two_segments_ostep_style() {
    // A 16 KiB address space: bit 13 selects the segment, so each can be 8 KiB (0x2000).
    // Segment 0: code and heap at 0x1000, 0x300 bytes. Segment 1: the stack, growing down
    // from 0x5000, 0x400 bytes; pa = base - (0x2000 - offset).
    let mode = segmented(14, 1, vec![seg(0x1000, 0x300, "rwx"), stack(0x5000, 0x400)]);
    check(
        mode,
        &[
            (ld(0, 1), at(0x1000, 0)),
            (ld(0x2ff, 1), at(0x12ff, 0)),
            (ld(0x300, 1), limit(0, 0x300, 1, 0x300, false)),
            (ld(0x2fe, 2), at(0x12fe, 0)),
            (ld(0x2ff, 2), limit(0, 0x2ff, 2, 0x300, false)),
            (ld(0x1fff, 1), limit(0, 0x1fff, 1, 0x300, false)),
            // The top byte of the stack.
            (ld(0x3fff, 1), at(0x4fff, 1)),
            (ld(0x3ff8, 8), at(0x4ff8, 1)),
            // Exactly `limit` bytes below the top, and one below that.
            (ld(0x3c00, 1), at(0x4c00, 1)),
            (ld(0x3bff, 1), limit(1, 0x1bff, 1, 0x400, true)),
            (ld(0x3bff, 2), limit(1, 0x1bff, 2, 0x400, true)),
            (ld(0x2000, 1), limit(1, 0, 1, 0x400, true)),
            // A two-byte access at the top byte runs past the top.
            (ld(0x3fff, 2), limit(1, 0x1fff, 2, 0x400, true)),
            // The address is wider than 14 bits.
            (
                ld(0x4000, 1),
                Err(Fault::AddressOutOfRange {
                    va: 0x4000,
                    va_bits: 14,
                }),
            ),
        ],
    );
}

#[test]
fn segments_split_in_halves_of_any_size() {
    // segmentation.py -a 1000: VA < 500 is segment 0 (offset = VA), VA >= 500 segment 1,
    // growing down: PA = base + (VA - 1000) for the top `limit` addresses.
    let halves = |asize: u64, bits: u8, regs| {
        Mode::Segmented(Segmentation {
            va_bits: bits,
            selector_bits: 1,
            registers: regs,
            format: None,
            select: SegmentSelect::Halves {
                address_space: asize,
            },
        })
    };
    let mode = halves(1000, 10, vec![seg(3000, 300, "rwx"), stack(9000, 200)]);
    mode.validate().unwrap();
    check(
        mode,
        &[
            (ld(0, 1), at(3000, 0)),
            (ld(299, 1), at(3299, 0)),
            (ld(300, 1), limit(0, 300, 1, 300, false)),
            (ld(499, 1), limit(0, 499, 1, 300, false)),
            (ld(500, 1), limit(1, 0, 1, 200, true)),
            (ld(799, 1), limit(1, 299, 1, 200, true)),
            (ld(800, 1), at(8800, 1)),
            (ld(999, 1), at(8999, 1)),
            (ld(996, 4), at(8996, 1)),
            (ld(999, 2), limit(1, 499, 2, 200, true)),
            (
                ld(1000, 1),
                Err(Fault::AddressOutOfRange {
                    va: 1000,
                    va_bits: 10,
                }),
            ),
        ],
    );
    // An odd size: VA 3 and 4 (>= 5/2) are segment 1; segment 0 spans 0 to 2.
    let mode = halves(5, 3, vec![seg(100, 2, "rwx"), stack(200, 2)]);
    mode.validate().unwrap();
    check(
        mode,
        &[
            (ld(1, 1), at(101, 0)),
            (ld(2, 1), limit(0, 2, 1, 2, false)),
            (ld(3, 1), at(198, 1)),
            (ld(4, 1), at(199, 1)),
        ],
    );
    // A limit larger than the segment's half, paging, or inconsistent widths are refused.
    let bad = halves(1000, 10, vec![seg(0, 501, "rwx"), stack(900, 10)]);
    assert!(bad.validate().unwrap_err().0.contains("exceeds its half"));
    let bad = halves(1000, 12, vec![seg(0, 1, "rwx"), stack(900, 10)]);
    assert!(bad.validate().unwrap_err().0.contains("va_bits = 10"));
    let bad = halves(1, 2, vec![seg(0, 1, "rwx"), stack(900, 10)]);
    assert!(bad.validate().is_err());
}

#[test]
fn four_segments() {
    // 16-bit addresses, 2 selector bits: segments of up to 0x4000 bytes.
    let mode = segmented(
        16,
        2,
        vec![
            seg(0x10_0000, 0x1000, "rx"),
            seg(0x20_0000, 0x4000, "rw"),
            SegmentRegister::absent(),
            stack(0x40_0000, 0x800),
        ],
    );
    check(
        mode,
        &[
            (Request::fetch(0x0ffc, Context::user(0)), at(0x10_0ffc, 0)),
            (ld(0x4000, 1), at(0x20_0000, 1)),
            (ld(0x7fff, 1), at(0x20_3fff, 1)),
            (ld(0x8000, 1), Err(Fault::SegmentNotPresent { segment: 2 })),
            (ld(0xffff, 1), at(0x3f_ffff, 3)),
            (ld(0xf800, 1), at(0x3f_f800, 3)),
            (ld(0xf7ff, 1), limit(3, 0x37ff, 1, 0x800, true)),
        ],
    );
}

#[test]
fn eight_segments() {
    // 32-bit addresses, 3 selector bits: segments of up to 512 MiB (0x2000_0000).
    let mut regs: Vec<SegmentRegister> = (0..8)
        .map(|i| seg(0x1_0000_0000 * (i + 1), 0x1000 * (i + 1), "rw"))
        .collect();
    regs[7] = stack(0x10_0000_0000, 0x2000_0000);
    let mode = segmented(32, 3, regs);
    let mut cases: Vec<(Request, Expect)> = (0..7u64)
        .flat_map(|i| {
            let va = i << 29;
            let lim = 0x1000 * (i + 1);
            [
                (
                    ld(va + lim - 1, 1),
                    at(0x1_0000_0000 * (i + 1) + lim - 1, i as u8),
                ),
                (ld(va + lim, 1), limit(i as u8, lim, 1, lim, false)),
            ]
        })
        .collect();
    // A grows-down segment as large as a segment can be covers every offset.
    cases.push((ld(0xe000_0000, 1), at(0x10_0000_0000 - 0x2000_0000, 7)));
    cases.push((ld(0xffff_ffff, 1), at(0xf_ffff_ffff, 7)));
    check(mode, &cases);
}

#[test]
fn segment_protection_and_order() {
    let sup_only = SegmentRegister {
        user: false,
        ..seg(0x1000, 0x1000, "rwx")
    };
    let absent_but_sized = SegmentRegister {
        present: false,
        ..seg(0x9000, 0x1000, "rwx")
    };
    let mode = segmented(
        16,
        2,
        vec![
            seg(0x1000, 0x1000, "x"),
            seg(0x1000, 0x1000, "r"),
            sup_only,
            absent_but_sized,
        ],
    );
    let prot = |segment, reason| Err(Fault::SegmentProtection { segment, reason });
    let u = Context::user(0);
    let s = Context::supervisor(0);
    use SegmentProtection::*;
    check(
        mode,
        &[
            (Request::load(0x10, u), prot(0, NotReadable)),
            (Request::store(0x10, u), prot(0, NotWritable)),
            (Request::fetch(0x10, u), at(0x1010, 0)),
            (Request::store(0x4010, u), prot(1, NotWritable)),
            (Request::fetch(0x4010, u), prot(1, NotExecutable)),
            (Request::load(0x4010, u), at(0x1010, 1)),
            // The user bit: user mode is refused whatever the access; supervisor passes.
            (Request::load(0x8010, u), prot(2, SupervisorOnly)),
            (Request::fetch(0x8010, u), prot(2, SupervisorOnly)),
            (Request::load(0x8010, s), at(0x1010, 2)),
            (Request::store(0x8010, s), at(0x1010, 2)),
            // Supervisor mode still obeys R/W/X.
            (Request::store(0x4010, s), prot(1, NotWritable)),
            // Order: present, then limit, then protection.
            (
                Request::store(0xc010, u),
                Err(Fault::SegmentNotPresent { segment: 3 }),
            ),
            (
                Request::store(0x5000, u),
                limit(1, 0x1000, 1, 0x1000, false),
            ),
        ],
    );
}

#[test]
fn segment_fault_counters() {
    let mode = segmented(
        14,
        1,
        vec![seg(0x1000, 0x300, "r"), SegmentRegister::absent()],
    );
    let mut mem = memory();
    let mut m = mmu_in(MmuConfig::default(), mode);
    let u = Context::user(0);
    for r in [
        Request::load(0x400, u),
        Request::load(0x2000, u),
        Request::load(0x2001, u),
        Request::store(0x10, u),
        Request::load(0x8000, u),
    ] {
        m.translate(r, &mut mem).unwrap_err();
    }
    let expect = [
        ("mmu.faults.segment_limit", 1),
        ("mmu.faults.segment_not_present", 2),
        ("mmu.faults.segment_protection", 1),
        ("mmu.faults.address_out_of_range", 1),
        ("mmu.requests.load", 4),
        ("mmu.requests.store", 1),
    ];
    for (name, v) in expect {
        assert_eq!(stat(&m, name), v, "{name}");
    }
}

/// Paged segments: 32-bit addresses, 2 selector bits, 30-bit offsets translated by Sv39 tables.
/// Segment 0 is a plain segment; 1 and 2 are paged with their own tables; 3 is absent.
fn paged_segments(mem: &mut SparseMemory) -> (Mode, Pt, Pt) {
    let mut pt1 = Pt::new(Format::sv39(), 0x10_0000);
    let mut pt2 = Pt::new(Format::sv39(), 0x20_0000);
    pt1.map(mem, 0x1000, 0xa000, 0, RWXAD | U);
    pt2.map(mem, 0x1000, 0xb000, 0, RWXAD | U);
    pt2.map(mem, 0x20_0000, 0x4000_0000, 1, V | R | A | U);
    pt2.map(mem, 0x40_0000, 0x4040_0000, 1, RWXAD);
    let paged = |root, limit| SegmentRegister {
        page_table: Some(root),
        ..seg(0, limit, "rwx")
    };
    let mode = Mode::Segmented(Segmentation {
        va_bits: 32,
        selector_bits: 2,
        registers: vec![
            seg(0x1000_0000, 0x1000_0000, "rwx"),
            paged(0x10_0000, 0x10_0000),
            paged(0x20_0000, 0x4000_0000),
            SegmentRegister::absent(),
        ],
        format: Some(Arc::new(Format::sv39())),
        select: Default::default(),
    });
    (mode, pt1, pt2)
}

#[test]
fn paged_segments_translate_through_their_own_tables() {
    let mut mem = memory();
    let (mode, pt1, pt2) = paged_segments(&mut mem);
    assert_eq!(mode.name(), "paged-segments");
    let mut m = mmu_in(MmuConfig::default(), mode);
    let u = Context::user(0);
    let walk = |level| Source::Walk { level };
    let hit = Source::Tlb { tlb: TlbId::Dtlb };
    let seg1 = 0x4000_0000u64;
    let seg2 = 0x8000_0000u64;
    // (request, PA and source, or the fault)
    type Timed = Result<(u64, Source, u64), Fault>;
    let cases: Vec<(Request, Timed)> = vec![
        // Segment 0 is not paged.
        (
            Request::load(0x123, u),
            Ok((0x1000_0123, Source::Segment { segment: 0 }, 0)),
        ),
        // The same offset 0x1000 in segments 1 and 2: different tables, different PAs, and
        // separate TLB entries (tagged by segment).
        (
            Request::load(seg1 + 0x1234, u),
            Ok((0xa234, walk(0), 1 + 3 * MEM_LAT)),
        ),
        (
            Request::load(seg2 + 0x1234, u),
            Ok((0xb234, walk(0), 1 + 3 * MEM_LAT)),
        ),
        (Request::load(seg1 + 0x1ff0, u), Ok((0xaff0, hit, 0))),
        (Request::load(seg2 + 0x1ff0, u), Ok((0xbff0, hit, 0))),
        // A megapage inside segment 2.
        (
            Request::load(seg2 + 0x3f_ffff, u),
            Ok((0x401f_ffff, walk(1), 1 + 2 * MEM_LAT)),
        ),
        // PTE checks still apply: the megapage is read-only, and 0x40_0000 is not a U page.
        (
            Request::store(seg2 + 0x20_0000, u),
            Err(Fault::Page {
                va: seg2 + 0x20_0000,
                kind: Store,
                level: 1,
                pte_addr: pt2.pte_addr(&mem, 0x20_0000, 1),
                pte: pt2.leaf(0x4000_0000, V | R | A | U),
                reason: PageFaultReason::NotWritable,
            }),
        ),
        (
            Request::load(seg2 + 0x40_0000, u),
            Err(Fault::Page {
                va: seg2 + 0x40_0000,
                kind: Load,
                level: 1,
                pte_addr: pt2.pte_addr(&mem, 0x40_0000, 1),
                pte: pt2.leaf(0x4040_0000, RWXAD),
                reason: PageFaultReason::SupervisorPage,
            }),
        ),
        // A fault inside segment 1's table reports the full virtual address.
        (
            Request::load(seg1 + 0x2000, u),
            Err(Fault::Page {
                va: seg1 + 0x2000,
                kind: Load,
                level: 0,
                pte_addr: pt1.pte_addr(&mem, 0x2000, 0),
                pte: 0,
                reason: PageFaultReason::Invalid,
            }),
        ),
        // The limit is checked before the table: no walk.
        (
            Request::load(seg1 + 0x10_0000, u),
            Err(Fault::SegmentLimit {
                segment: 1,
                offset: 0x10_0000,
                size: 1,
                limit: 0x10_0000,
                grows_down: false,
            }),
        ),
        (
            Request::load(0xc000_0000, u),
            Err(Fault::SegmentNotPresent { segment: 3 }),
        ),
    ];
    for (i, (r, expect)) in cases.into_iter().enumerate() {
        let walks = stat(&m, "mmu.walker.walks");
        let got = m.translate(r, &mut mem);
        match expect {
            Ok((pa, source, cycles)) => {
                let t = got.unwrap_or_else(|f| panic!("case {i}: {}", f.fault));
                assert_eq!(
                    (t.pa, t.source, t.cycles),
                    (pa, source, Cycle(cycles)),
                    "case {i}"
                );
            }
            Err(fault) => {
                assert_eq!(got.map_err(|f| f.fault), Err(fault), "case {i}");
                if !matches!(fault, Fault::Page { .. }) {
                    assert_eq!(stat(&m, "mmu.walker.walks"), walks, "case {i}: no walk");
                }
            }
        }
    }
    // An address flush names the full virtual address: it removes segment 1's entry only.
    m.flush(Flush::Addr { va: seg1 + 0x1000 });
    let src = |m: &mut Mmu, mem: &mut SparseMemory, va| {
        m.translate(Request::load(va, u), mem).unwrap().source
    };
    assert_eq!(src(&mut m, &mut mem, seg2 + 0x1000), hit);
    assert_eq!(src(&mut m, &mut mem, seg1 + 0x1000), walk(0));
}
