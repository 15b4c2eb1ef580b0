//! Host speed of the memory system's hot paths: L1 hits, misses to DRAM, and MMIO.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use vmlab_devices::{MemoryConfig, MemorySystem};

const BASE: u64 = 0x8000_0000;

fn bench(c: &mut Criterion) {
    let mut m = MemorySystem::new(MemoryConfig::default()).unwrap();
    m.store(BASE, 8, 1).unwrap();
    c.bench_function("load_l1_hit", |b| {
        b.iter(|| m.load(black_box(BASE), 8).unwrap())
    });
    let mut i = 0u64;
    c.bench_function("load_streaming_misses", |b| {
        b.iter(|| {
            i = (i + 64) % (64 << 20);
            m.load(black_box(BASE + i), 8).unwrap()
        })
    });
    c.bench_function("fetch_l1_hit", |b| {
        b.iter(|| m.fetch(black_box(BASE + 4), 4).unwrap())
    });
    c.bench_function("mmio_console_status", |b| {
        b.iter(|| m.load(black_box(0x1000_0008), 4).unwrap())
    });
    c.bench_function("tick", |b| {
        b.iter(|| m.tick(black_box(vmlab_devices::Cycle(5))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
