//! The memory system as the MMU's memory port, DRAM open-row timing through the caches, and
//! configuration from TOML-like data.

use std::sync::Arc;
use vmlab_devices::{
    Bus, CacheConfig, Cycle, DramConfig, DramModel, MemoryConfig, MemorySystem, Ram, RamConfig,
};
use vmlab_mmu::{Context, Flush, Format, MemoryPort, Mmu, MmuConfig, Mode, Request};

const BASE: u64 = 0x8000_0000;

#[test]
fn pte_reads_are_data_accesses_through_l1d() {
    let mut m = MemorySystem::new(MemoryConfig::default()).unwrap();
    let pte = BASE + 0x1000;
    m.ram_mut().write(pte, 8, 0x1234).unwrap();
    // Default: L1D hit 1, DRAM 100.
    assert_eq!(MemoryPort::read(&mut m, pte, 8), Ok((0x1234, Cycle(101))));
    assert_eq!(MemoryPort::read(&mut m, pte, 8), Ok((0x1234, Cycle(1))));
    // peek is functional: same value, no cache state or statistics change.
    let before = m.stat_list();
    assert_eq!(MemoryPort::peek(&m, pte + 8, 8), Ok(0));
    assert_eq!(m.stat_list(), before);
    assert!(!m.l1d().unwrap().contains(pte + 0x40));
    // An A/D update is a store.
    assert_eq!(MemoryPort::write(&mut m, pte, 8, 0x12f4), Ok(Cycle(1)));
    assert!(m.l1d().unwrap().is_dirty(pte));
    assert_eq!(
        MemoryPort::read(&mut m, 0x10, 8),
        Err(vmlab_mmu::PortError { addr: 0x10 })
    );
}

#[test]
fn a_page_walk_hits_l1d_the_second_time() {
    let mut m = MemorySystem::new(MemoryConfig::default()).unwrap();
    // Sv39: the root table at BASE; entry 0 is a 1 GiB leaf mapping VA 0.. to BASE..
    // (V R W X U A D).
    m.ram_mut()
        .write(BASE, 8, (BASE >> 12) << 10 | 0xdf)
        .unwrap();
    let mut mmu = Mmu::new(MmuConfig::default()).unwrap();
    mmu.set_mode(Mode::Paged {
        format: Arc::new(Format::sv39()),
        root: BASE,
    })
    .unwrap();
    let req = Request::load(0x5000, Context::user(0));
    let first = mmu.translate(req, &mut m).unwrap();
    assert_eq!(first.pa, BASE + 0x5000);
    mmu.flush(Flush::All);
    let second = mmu.translate(req, &mut m).unwrap();
    assert_eq!(
        first.cycles.0 - second.cycles.0,
        100,
        "the PTE read missed to DRAM once, then hit in L1D"
    );
    let s = m.l1d().unwrap().stats();
    assert_eq!((s.misses[1], s.hits[1]), (1, 1));
}

#[test]
fn dram_open_row_through_l1() {
    let ram = Ram::new(RamConfig {
        base: BASE,
        size: 1 << 20,
    })
    .unwrap();
    // L1D: 64-byte lines, direct-mapped, 2 sets (so 0x000 and 0x080 conflict).
    // DRAM: 2 banks of 1 KiB rows: row number = addr / 1024, bank = row number % 2.
    let cfg = MemoryConfig {
        l1d: CacheConfig {
            size: 128,
            ways: 1,
            ..CacheConfig::l1()
        },
        dram: DramConfig {
            model: DramModel::OpenRow,
            banks: 2,
            row_size: 1024,
            ..DramConfig::default()
        },
        ..MemoryConfig::default()
    };
    let mut m = MemorySystem::with_bus(Bus::new(ram), &cfg).unwrap();
    let check = |m: &mut MemorySystem, off: u64, store: bool, expect: u64| {
        let c = if store {
            m.store(BASE + off, 8, 1).unwrap()
        } else {
            m.load(BASE + off, 8).unwrap().1
        };
        assert_eq!(
            c,
            Cycle(expect),
            "{} {off:#x}",
            if store { "S" } else { "L" }
        );
    };
    check(&mut m, 0x000, false, 1 + 100); // bank 0 closed: row miss
    check(&mut m, 0x040, false, 1 + 60); // same row open: row hit
    check(&mut m, 0x400, false, 1 + 100); // bank 1 closed
    check(&mut m, 0x800, false, 1 + 140); // bank 0, row 1: conflict (evicts clean 0x000)
    check(&mut m, 0x840, true, 1 + 60); // row 1 open; line now dirty
    check(&mut m, 0x0c0, false, 1 + 60 + 140); // evicts dirty 0x840: write-back hits row 1, then row 0 conflicts
    let d = m.dram().stats();
    assert_eq!(
        (d.reads, d.writes, d.row_hits, d.row_misses, d.row_conflicts),
        (6, 1, 3, 2, 2)
    );
}

#[test]
fn mmio_and_faults_in_the_stats() {
    let mut m = MemorySystem::new(MemoryConfig {
        mmio_latency: 7,
        ..MemoryConfig::default()
    })
    .unwrap();
    assert_eq!(m.load(0x1000_0008, 4), Ok((2, Cycle(7))));
    assert!(m.load(0x4000_0000, 8).is_err());
    assert!(m.fetch(BASE, 3).is_err());
    let names: Vec<String> = m.stat_list().into_iter().map(|(n, _)| n).collect();
    // A stable order: memory, caches, dram, bus, ram, devices by address, htif.
    let pos = |p: &str| names.iter().position(|n| n.starts_with(p)).unwrap();
    assert!(pos("memory.") < pos("cache.l1i."));
    assert!(pos("cache.l1i.") < pos("cache.l1d."));
    assert!(pos("cache.l1d.") < pos("dram."));
    assert!(pos("dram.") < pos("bus."));
    assert!(pos("clint.") < pos("console.") && pos("console.") < pos("diskctl."));
    assert!(pos("diskctl.") < pos("htif."));
    assert!(
        !names.iter().any(|n| n.starts_with("cache.l2.")),
        "L2 off by default"
    );
    let get = |n: &str| m.stat_list().into_iter().find(|(k, _)| k == n).unwrap().1;
    assert_eq!(get("memory.faults"), 2);
    assert_eq!(get("memory.cycles.load"), 7);
    assert_eq!(get("memory.accesses.fetch"), 1);
}

#[test]
fn the_default_memory_map() {
    let m = MemorySystem::new(MemoryConfig::default()).unwrap();
    let map: Vec<(String, u64, u64)> = m
        .bus()
        .map()
        .into_iter()
        .map(|r| (r.name, r.base, r.end))
        .collect();
    assert_eq!(
        map,
        [
            ("htif.tohost".to_string(), 0x0100_0000, 0x0100_0008),
            ("htif.fromhost".to_string(), 0x0100_0008, 0x0100_0010),
            ("clint".to_string(), 0x0200_0000, 0x0201_0000),
            ("console".to_string(), 0x1000_0000, 0x1000_0100),
            ("diskctl".to_string(), 0x1000_1000, 0x1000_1100),
            ("ram".to_string(), 0x8000_0000, 0x8800_0000),
        ]
    );
}

#[test]
fn config_errors_name_the_unit() {
    let check = |cfg: MemoryConfig, needle: &str| {
        let e = MemorySystem::new(cfg).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    };
    let mut c = MemoryConfig::default();
    c.l1d.size = 1000;
    check(
        c,
        "invalid cache.l1d configuration: `size` = 1000 is not sets x ways x line",
    );
    let mut c = MemoryConfig::default();
    c.l2.enabled = true;
    c.l2.line = 3;
    check(c, "invalid cache.l2 configuration");
    let mut c = MemoryConfig::default();
    c.console.base = 0x0200_8000;
    check(c, "`console` at 0x2008000..0x2008100");
    let mut c = MemoryConfig::default();
    c.dram.row_size = 0;
    check(c, "invalid dram configuration");
    let mut c = MemoryConfig::default();
    c.ram.size = 0;
    check(c, "invalid ram configuration");
    let mut c = MemoryConfig::default();
    c.diskctl.disk.block_size = 0;
    let e = MemorySystem::new(c).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid disk configuration: ") && e.matches("invalid").count() == 1,
        "{e}"
    );
    let mut c = MemoryConfig::default();
    c.diskctl.irq_bit = 64;
    check(c, "`irq_bit` = 64");
}

#[test]
fn config_from_toml() {
    let cfg: MemoryConfig = toml::from_str(
        r#"
        mmio_latency = 4
        [l2]
        hit_latency = 12
        [l1d]
        write_policy = "write-through"
        replacement = "tree-plru"
        [dram]
        model = "open-row"
        row_hit = 30
        [clint]
        divider = 1
        "#,
    )
    .unwrap();
    assert!(cfg.l2.enabled, "an [l2] table enables the L2");
    assert_eq!(cfg.l2.size, 256 << 10, "with the L2 defaults");
    assert_eq!(cfg.l2.hit_latency, 12);
    assert_eq!(cfg.l1d.size, 32 << 10);
    assert_eq!(cfg.dram.row_miss, 100);
    let mut m = MemorySystem::new(cfg.clone()).unwrap();
    assert_eq!(m.load(BASE, 8).unwrap().1, Cycle(1 + 12 + 100));
    // Round trip.
    let text = toml::to_string(&cfg).unwrap();
    let again: MemoryConfig = toml::from_str(&text).unwrap();
    assert_eq!(again, cfg);
    let off: MemoryConfig =
        toml::from_str(&toml::to_string(&MemoryConfig::default()).unwrap()).unwrap();
    assert!(!off.l2.enabled);
    // Unknown keys are errors.
    let e = toml::from_str::<MemoryConfig>("[l1d]\nsize_kb = 4\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `size_kb`"), "{e}");
    let e = toml::from_str::<MemoryConfig>("[l2]\nwayz = 4\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `wayz`"), "{e}");
}
