//! Host-time cost of `Mmu::translate` on its three paths: an L1 dTLB hit, an L2-TLB hit
//! (L1 miss), and a full Sv39 walk. Each path is checked (by its `Source`) before it is
//! measured. Throughput is one translation per iteration, so criterion also reports
//! simulated translations per second. Each iteration consumes the answer as the CPU model
//! does, keeping the physical address and the cycles (see [`used`]); `harness_floor`
//! measures that plumbing alone.
//!
//! Run with `cargo bench -p vmlab-mmu --bench translate`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use vmlab_mmu::tlb::TlbConfig;
use vmlab_mmu::*;

const ROOT: u64 = 0x10_0000;
/// Pages mapped for the walk benchmark (far more than any TLB below holds).
const PAGES: u64 = 4096;

/// Sv39 tables mapping VA `p << 12` to PA `0x1000_0000 + (p << 12)` for `p` in `0..PAGES`.
fn memory() -> SparseMemory {
    let mut mem = SparseMemory::new(1 << 32, Cycle(10));
    let f = Format::sv39();
    let pte = |pa: u64, flags: u64| (pa >> 12) << 10 | flags;
    // One level-1 table at ROOT + 0x1000; level-0 tables from ROOT + 0x2000, 512 PTEs each.
    mem.store(ROOT, 8, pte(ROOT + 0x1000, 1)).unwrap();
    for p in 0..PAGES {
        let va = p << 12;
        let l0 = ROOT + 0x2000 + f.index(va, 1) * 0x1000;
        mem.store(ROOT + 0x1000 + f.index(va, 1) * 8, 8, pte(l0, 1))
            .unwrap();
        mem.store(l0 + f.index(va, 0) * 8, 8, pte(0x1000_0000 + va, 0xd7))
            .unwrap();
    }
    mem
}

fn unit(cfg: MmuConfig) -> Mmu {
    let mut m = Mmu::new(cfg).unwrap();
    m.set_mode(Mode::Paged {
        format: Arc::new(Format::sv39()),
        root: ROOT,
    })
    .unwrap();
    m
}

/// What the CPU keeps of an answer: the physical address (or a fault marker) and the cycles.
#[inline(always)]
fn used(r: Result<Translation, Faulted>) -> (u64, u64) {
    match r {
        Ok(t) => (t.pa, t.cycles.0),
        Err(f) => (u64::MAX, f.cycles.0),
    }
}

fn tiny() -> TlbConfig {
    TlbConfig {
        sets: 1,
        ways: 1,
        hit_latency: 1,
        ..TlbConfig::default()
    }
}

fn bench(c: &mut Criterion) {
    let ctx = Context::user(1);
    let mut g = c.benchmark_group("translate");
    g.throughput(Throughput::Elements(1));

    // 0. The harness floor: pass a request in and a translation out through `black_box`, as
    // every benchmark below does, without translating. Subtract it to see the unit's own cost.
    {
        let r = Request::new(0x5678, AccessKind::Load, 8, ctx);
        let out: Result<Translation, Faulted> = Ok(Translation {
            pa: 0x1000_5678,
            cycles: Cycle(0),
            source: Source::Tlb { tlb: TlbId::Dtlb },
            page_bits: 12,
        });
        g.bench_function("harness_floor", |b| {
            b.iter(|| {
                black_box(black_box(r));
                used(black_box(out))
            })
        });
    }

    // 1. L1 dTLB hit: the default 32-entry fully associative dTLB, one page.
    {
        let mut mem = memory();
        let mut m = unit(MmuConfig::default());
        let r = Request::new(0x5678, AccessKind::Load, 8, ctx);
        m.translate(r, &mut mem).unwrap();
        let t = m.translate(r, &mut mem).unwrap();
        assert_eq!(t.source, Source::Tlb { tlb: TlbId::Dtlb });
        assert_eq!(t.pa, 0x1000_5678);
        g.bench_function("dtlb_hit", |b| {
            b.iter(|| used(m.translate(black_box(r), &mut mem)))
        });
        // A hit in a 16-set x 4-way dTLB holding 48 pages, touched in turn.
        let mut m = unit(MmuConfig {
            dtlb: TlbConfig {
                sets: 16,
                ways: 4,
                ..TlbConfig::default()
            },
            ..MmuConfig::default()
        });
        let reqs: Vec<Request> = (0..48)
            .map(|p| Request::new(p << 12 | 0x10, AccessKind::Load, 8, ctx))
            .collect();
        for r in &reqs {
            m.translate(*r, &mut mem).unwrap();
        }
        for r in &reqs {
            let t = m.translate(*r, &mut mem).unwrap();
            assert_eq!(t.source, Source::Tlb { tlb: TlbId::Dtlb });
        }
        let mut i = 0;
        g.bench_function("dtlb_hit_16x4_rotating", |b| {
            b.iter(|| {
                i = (i + 1) % reqs.len();
                used(m.translate(black_box(reqs[i]), &mut mem))
            })
        });
    }

    // 2. L2-TLB hit: a 1-entry dTLB and two pages used alternately, so every access misses
    // the dTLB (it holds the other page), hits the L2 TLB, and refills the dTLB.
    {
        let mut mem = memory();
        let mut m = unit(MmuConfig {
            dtlb: tiny(),
            l2tlb: Some(MmuConfig::default_l2tlb()),
            ..MmuConfig::default()
        });
        let reqs = [
            Request::new(0x1008, AccessKind::Load, 8, ctx),
            Request::new(0x2008, AccessKind::Load, 8, ctx),
        ];
        for r in reqs {
            m.translate(r, &mut mem).unwrap();
        }
        for _ in 0..3 {
            for r in reqs {
                let t = m.translate(r, &mut mem).unwrap();
                assert_eq!(t.source, Source::Tlb { tlb: TlbId::L2tlb });
                assert_eq!(t.cycles, Cycle(1 + 4));
            }
        }
        let mut i = 0;
        g.bench_function("l2tlb_hit", |b| {
            b.iter(|| {
                i ^= 1;
                used(m.translate(black_box(reqs[i]), &mut mem))
            })
        });
    }

    // 3. Full Sv39 walk: a 1-entry dTLB, no L2, and 4096 pages touched in turn, so every
    // access walks three levels (three PTE reads from memory).
    {
        let mut mem = memory();
        let mut m = unit(MmuConfig {
            dtlb: tiny(),
            ..MmuConfig::default()
        });
        let reqs: Vec<Request> = (0..PAGES)
            .map(|p| Request::new(p << 12 | 0x40, AccessKind::Load, 8, ctx))
            .collect();
        for _ in 0..2 {
            for r in &reqs {
                let t = m.translate(*r, &mut mem).unwrap();
                assert_eq!(t.source, Source::Walk { level: 0 });
                assert_eq!(t.cycles, Cycle(1 + 1 + 3 * 10));
            }
        }
        let mut i = 0;
        g.bench_function("sv39_walk", |b| {
            b.iter(|| {
                i = (i + 1) % reqs.len();
                used(m.translate(black_box(reqs[i]), &mut mem))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
