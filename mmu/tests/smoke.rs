//! A first end-to-end check of the unit: an Sv39 walk, a TLB hit, a megapage, faults.
use std::sync::Arc;
use vmlab_mmu::*;

const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;
const A: u64 = 64;
const D: u64 = 128;

fn pte(pa: u64, flags: u64) -> u64 {
    (pa >> 12) << 10 | flags
}

#[test]
fn sv39_walk_then_hit() {
    let mut mem = SparseMemory::new(1 << 30, Cycle(10));
    // root at 0x1000, level-1 table at 0x2000, level-0 table at 0x3000.
    let va = 0x0000_0020_2030_4567u64;
    let vpn2 = (va >> 30) & 511;
    let vpn1 = (va >> 21) & 511;
    let vpn0 = (va >> 12) & 511;
    mem.store(0x1000 + vpn2 * 8, 8, pte(0x2000, V)).unwrap();
    mem.store(0x2000 + vpn1 * 8, 8, pte(0x3000, V)).unwrap();
    mem.store(0x3000 + vpn0 * 8, 8, pte(0x8000, V | R | W | U | A | D))
        .unwrap();
    // a megapage at vpn1+1
    mem.store(
        0x2000 + (vpn1 + 1) * 8,
        8,
        pte(0x40_0000, V | R | X | U | A),
    )
    .unwrap();
    let mut mmu = Mmu::new(MmuConfig::default()).unwrap();
    mmu.set_mode(Mode::Paged {
        format: Arc::new(Format::sv39()),
        root: 0x1000,
    })
    .unwrap();
    let ctx = Context::user(3);
    let t = mmu.translate(Request::load(va, ctx), &mut mem).unwrap();
    assert_eq!(t.pa, 0x8567);
    assert_eq!(t.source, Source::Walk { level: 0 });
    assert_eq!(t.cycles, Cycle(1 + 30));
    let t = mmu
        .translate(Request::store(va + 1, ctx), &mut mem)
        .unwrap();
    assert_eq!(
        (t.pa, t.source, t.cycles),
        (0x8568, Source::Tlb { tlb: TlbId::Dtlb }, Cycle(0))
    );
    let mva = va + (1 << 21);
    let t = mmu.translate(Request::fetch(mva, ctx), &mut mem).unwrap();
    assert_eq!(t.pa, 0x40_0000 | (mva & 0x1f_ffff));
    assert_eq!(t.page_bits, 21);
    let f = mmu
        .translate(Request::store(mva, ctx), &mut mem)
        .unwrap_err();
    assert!(
        matches!(
            f.fault,
            Fault::Page {
                reason: PageFaultReason::NotWritable,
                level: 1,
                ..
            }
        ),
        "{:?}",
        f
    );
    let f = mmu
        .translate(Request::load(1 << 40, ctx), &mut mem)
        .unwrap_err();
    assert!(matches!(f.fault, Fault::NonCanonical { .. }));
    // probe agrees and changes nothing
    let before = mmu.stat_list();
    assert_eq!(mmu.probe(Request::load(va, ctx), &mem).unwrap().pa, 0x8567);
    assert_eq!(before, mmu.stat_list());
}
