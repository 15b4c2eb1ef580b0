//! Page-table formats other than RISC-V: the OSTEP teaching formats and a format written as
//! data (an x86-style two-level table with a page-size bit).
mod common;

use common::*;
use std::sync::Arc;
use vmlab_mmu::format::{BitField, LeafRule, VaCheck};
use vmlab_mmu::*;

/// The expected answer: PA, source and cycles, or the fault.
type Expect = Result<(u64, Source, u64), Fault>;

/// Translates each case in order in one unit and compares PA, source and cycles, or the fault.
fn check(mode: Mode, mem: &mut SparseMemory, cases: &[(Request, Expect)]) -> Mmu {
    let mut m = mmu_in(MmuConfig::default(), mode);
    for (i, &(r, expect)) in cases.iter().enumerate() {
        let probe = m.probe(r, mem).map(|t| t.pa);
        let got = m
            .translate(r, mem)
            .map(|t| (t.pa, t.source, t.cycles.0))
            .map_err(|f| f.fault);
        assert_eq!(got, expect, "case {i}: {:#x} {}", r.va, r.kind);
        if !matches!(got, Ok((_, Source::Tlb { .. }, _))) {
            assert_eq!(probe, expect.map(|e| e.0), "case {i}: probe");
        }
    }
    m
}

#[test]
fn ostep_two_level_by_hand() {
    // The example of OSTEP's paging-multilevel-translate README: PDBR = page 108 (0xd80).
    // VA 0x611c = 0b11000_01000_11100: PDE index 0x18, PTE index 0x08, offset 0x1c.
    // PDE at 0xd80 + 0x18 = 0xd98 holds 0xa1 (valid, PFN 0x21: the table is at 0x420);
    // PTE at 0x420 + 0x08 = 0x428 holds 0xb5 (valid, PFN 0x35), so PA = 0x35 * 32 + 0x1c = 0x6bc.
    let f = Arc::new(Format::ostep_two_level());
    let mut mem = SparseMemory::new(1 << 12, Cycle(MEM_LAT));
    mem.store(0xd98, 1, 0xa1).unwrap();
    mem.store(0x428, 1, 0xb5).unwrap();
    // VA 0x3da8: PDE index 0x0f at 0xd8f = 0xd6 (table at 0x56 * 32 = 0xac0); PTE index 0x0d
    // at 0xacd = 0x7f, whose valid bit is clear.
    mem.store(0xd8f, 1, 0xd6).unwrap();
    mem.store(0xacd, 1, 0x7f).unwrap();
    // VA 0x7fff: PDE index 0x1f at 0xd9f = 0x7f, invalid at the directory level.
    mem.store(0xd9f, 1, 0x7f).unwrap();
    let mode = Mode::Paged {
        format: f,
        root: 108 * 32,
    };
    let u = Context::user(0);
    let walk = Source::Walk { level: 0 };
    let page = |va, level, pte_addr, pte| {
        Err(Fault::Page {
            va,
            kind: Load,
            level,
            pte_addr,
            pte,
            reason: PageFaultReason::Invalid,
        })
    };
    let m = check(
        mode,
        &mut mem,
        &[
            (Request::load(0x611c, u), Ok((0x6bc, walk, 1 + 2 * MEM_LAT))),
            (
                Request::load(0x6100, u),
                Ok((0x6a0, Source::Tlb { tlb: TlbId::Dtlb }, 0)),
            ),
            // No permission bits: a store and a fetch are as good as a load, in any mode.
            (
                Request::store(0x611f, Context::supervisor(0)),
                Ok((0x6bf, Source::Tlb { tlb: TlbId::Dtlb }, 0)),
            ),
            (
                Request::fetch(0x6100, u),
                Ok((0x6a0, walk, 1 + 2 * MEM_LAT)),
            ),
            (Request::load(0x3da8, u), page(0x3da8, 0, 0xacd, 0x7f)),
            (Request::load(0x7fff, u), page(0x7fff, 1, 0xd9f, 0x7f)),
            (
                Request::load(0x8000, u),
                Err(Fault::AddressOutOfRange {
                    va: 0x8000,
                    va_bits: 15,
                }),
            ),
        ],
    );
    assert_eq!(stat(&m, "mmu.walker.page_size.32B"), 2);
    assert_eq!(stat(&m, "mmu.walker.pte_reads.level1"), 4);
    assert_eq!(stat(&m, "mmu.walker.pte_reads.level0"), 3);
}

#[test]
fn ostep_linear_table() {
    // A 16 KiB address space of 4 KiB pages: four 4-byte PTEs at the base register 0x8000,
    // valid bit 31, PFN in the low bits. VA 0x3229 is VPN 3, offset 0x229.
    let f = Format::ostep_linear(14, 12).unwrap();
    assert_eq!(f.name(), "ostep-linear-14-12");
    let mut mem = SparseMemory::new(1 << 20, Cycle(MEM_LAT));
    mem.store(0x8000, 4, 0x8000_0011).unwrap();
    mem.store(0x800c, 4, 0x8000_0006).unwrap();
    let mode = Mode::Paged {
        format: Arc::new(f),
        root: 0x8000,
    };
    let u = Context::user(0);
    let walk = Source::Walk { level: 0 };
    check(
        mode,
        &mut mem,
        &[
            (Request::load(0x3229, u), Ok((0x6229, walk, 1 + MEM_LAT))),
            (Request::load(0x0fff, u), Ok((0x11fff, walk, 1 + MEM_LAT))),
            (
                Request::load(0x1000, u),
                Err(Fault::Page {
                    va: 0x1000,
                    kind: Load,
                    level: 0,
                    pte_addr: 0x8004,
                    pte: 0,
                    reason: PageFaultReason::Invalid,
                }),
            ),
            (
                Request::load(0x4000, u),
                Err(Fault::AddressOutOfRange {
                    va: 0x4000,
                    va_bits: 14,
                }),
            ),
        ],
    );
    // Other sizes: 1 KiB pages in a 64 KiB space make 64 PTEs.
    let f = Format::ostep_linear(16, 10).unwrap();
    assert_eq!((f.levels(), f.index_bits(0), f.va_bits()), (1, 6, 16));
    assert!(Format::ostep_linear(12, 12).is_err());
}

/// An x86-style 32-bit format: two levels of 10 bits, 4-byte entries, P (bit 0), W (1),
/// U (2), A (5), D (6), PS (7, a leaf above the last level: 4 MiB pages), G (8), PFN in
/// bits 31:12; no R or X bits.
fn x86_spec() -> FormatSpec {
    FormatSpec {
        name: "x86-32".into(),
        index_bits: vec![10, 10],
        page_offset_bits: 12,
        pte_bytes: 4,
        pfn: BitField { lsb: 12, width: 20 },
        valid: 0,
        read: None,
        write: Some(1),
        exec: None,
        user: Some(2),
        global: Some(8),
        accessed: Some(5),
        dirty: Some(6),
        reserved: vec![],
        leaf: LeafRule::LeafBit(7),
        superpages: true,
        va_check: VaCheck::Zero,
        non_leaf_dau_reserved: false,
    }
}

const P: u64 = 1;
const XW: u64 = 1 << 1;
const XU: u64 = 1 << 2;
const XA: u64 = 1 << 5;
const XD: u64 = 1 << 6;
const PS: u64 = 1 << 7;

#[test]
fn custom_format_with_a_leaf_bit() {
    let f = Format::new(x86_spec()).unwrap();
    assert_eq!((f.va_bits(), f.pa_bits(), f.page_bits(1)), (32, 32, 22));
    let mut mem = memory();
    let mut pt = Pt::new(f, 0x10_0000);
    // A 4 KiB page through a directory entry that has A set (allowed: no DAU rule here).
    let pde = pt.slot(&mut mem, 0x0040_1000, 1);
    pt.map(&mut mem, 0x0040_1000, 0x9000, 0, P | XW | XU | XA | XD);
    let v = mem.peek(pde, 4).unwrap();
    mem.store(pde, 4, v | XA).unwrap();
    // A read-only 4 MiB page, and a misaligned one.
    pt.map(&mut mem, 0x0080_0000, 0x0c00_0000, 1, P | XU | XA | XD | PS);
    let bad = pt.leaf(0x0c00_0000, P | XU | XA | PS) + (1 << 12);
    pt.set(&mut mem, 0x00c0_0000, 1, bad);
    // A page with A clear.
    pt.map(&mut mem, 0x0040_2000, 0xa000, 0, P | XW | XU);
    // A supervisor page.
    pt.map(&mut mem, 0x0040_3000, 0xb000, 0, P | XW | XA | XD);
    let u = Context::user(0);
    let pf = |va, kind, level, reason| (va, kind, level, reason);
    let ok: &[(Request, u64, u8)] = &[
        (Request::load(0x0040_1abc, u), 0x9abc, 0),
        (Request::store(0x0040_1abc, u), 0x9abc, 0),
        (Request::fetch(0x0040_1ab0, u), 0x9ab0, 0),
        (Request::load(0x0080_0000, u), 0x0c00_0000, 1),
        (Request::fetch(0x00bf_fffc, u), 0x0c3f_fffc, 1),
    ];
    let bad: &[(u64, AccessKind, u8, PageFaultReason)] = &[
        pf(0x0080_0010, Store, 1, PageFaultReason::NotWritable),
        pf(0x00c0_0000, Load, 1, PageFaultReason::MisalignedSuperpage),
        pf(0x0040_2000, Load, 0, PageFaultReason::AccessedClear),
        pf(0x0040_3000, Load, 0, PageFaultReason::SupervisorPage),
        pf(0x0100_0000, Load, 1, PageFaultReason::Invalid),
    ];
    let mut m = mmu_in(MmuConfig::default(), pt.mode());
    for &(r, pa, level) in ok {
        m.flush(Flush::All);
        let t = m.translate(r, &mut mem).unwrap();
        assert_eq!(
            (t.pa, t.source, t.page_bits, t.cycles),
            (
                pa,
                Source::Walk { level },
                if level == 1 { 22 } else { 12 },
                Cycle(1 + (2 - level as u64) * MEM_LAT)
            ),
            "{:#x} {}",
            r.va,
            r.kind
        );
    }
    for &(va, kind, level, reason) in bad {
        let r = m.translate(req(kind, va, u), &mut mem);
        assert_eq!(page_fault(r), (reason, level), "{va:#x} {kind}");
    }
    assert_eq!(stat(&m, "mmu.walker.page_size.4MiB"), 2);
    // Supervisor access to a U page follows the RISC-V rule (SUM) since the format has U.
    assert_eq!(
        page_fault(m.translate(Request::load(0x0040_1000, Context::supervisor(0)), &mut mem)),
        (PageFaultReason::UserPageSumClear, 0)
    );
    // The same tables with Svadu: the walker sets A (bit 5) in the 4-byte PTE.
    let mut m = mmu_in(
        MmuConfig {
            ad: AdPolicy::Svadu,
            ..MmuConfig::default()
        },
        pt.mode(),
    );
    let addr = pt.pte_addr(&mem, 0x0040_2000, 0);
    m.translate(Request::load(0x0040_2000, u), &mut mem)
        .unwrap();
    assert_eq!(mem.peek(addr, 4).unwrap(), 0xa000 | P | XW | XU | XA);
}

#[test]
fn leaf_bit_without_superpages_faults() {
    let f = Format::new(FormatSpec {
        superpages: false,
        ..x86_spec()
    })
    .unwrap();
    let mut mem = memory();
    let mut pt = Pt::new(f, 0x10_0000);
    pt.map(&mut mem, 0x0080_0000, 0x0c00_0000, 1, P | XU | XA | XD | PS);
    let mut m = mmu_in(MmuConfig::default(), pt.mode());
    let r = m.translate(Request::load(0x0080_0000, Context::user(0)), &mut mem);
    assert_eq!(page_fault(r), (PageFaultReason::SuperpageNotAllowed, 1));
    assert_eq!(stat(&m, "mmu.faults.page.superpage_not_allowed"), 1);
}

#[test]
fn format_spec_errors() {
    let check = |spec: FormatSpec, needle: &str| {
        let e = Format::new(spec).unwrap_err();
        assert_eq!(e.name, "x86-32");
        assert!(
            e.to_string().contains(needle),
            "{e} should mention {needle:?}"
        );
    };
    let base = x86_spec();
    check(
        FormatSpec {
            index_bits: vec![30, 30],
            ..base.clone()
        },
        "at most 64 bits",
    );
    check(
        FormatSpec {
            global: Some(7),
            ..base.clone()
        },
        "overlaps",
    );
    check(
        FormatSpec {
            dirty: Some(32),
            ..base.clone()
        },
        "does not fit",
    );
    check(
        FormatSpec {
            pte_bytes: 3,
            ..base.clone()
        },
        "pte_bytes",
    );
    check(
        FormatSpec {
            leaf: LeafRule::LastLevel,
            ..base.clone()
        },
        "superpages",
    );
    check(
        FormatSpec {
            leaf: LeafRule::Rwx,
            ..base.clone()
        },
        "rwx",
    );
    check(
        FormatSpec {
            non_leaf_dau_reserved: true,
            ..base.clone()
        },
        "non_leaf_dau_reserved",
    );
    check(
        FormatSpec {
            page_offset_bits: 0,
            ..base.clone()
        },
        "page_offset_bits",
    );
    check(
        FormatSpec {
            index_bits: vec![],
            ..base.clone()
        },
        "levels",
    );
    assert!(Format::new(base).is_ok());
}

#[test]
fn builtin_lookup() {
    for (name, levels, va_bits, pte_bytes) in [
        ("sv32", 2, 32, 4),
        ("sv39", 3, 39, 8),
        ("sv48", 4, 48, 8),
        ("sv57", 5, 57, 8),
        ("ostep-2level", 2, 15, 1),
    ] {
        let f = Format::builtin(name).unwrap();
        assert_eq!(
            (f.name(), f.levels(), f.va_bits(), f.pte_bytes()),
            (name, levels, va_bits, pte_bytes)
        );
    }
    assert!(Format::builtin("sv64").is_none());
}
