//! The memory system: the bus behind L1I, L1D, an optional unified L2 and DRAM timing.
//!
//! Every physical access (fetch, load, store) returns its value and its latency. RAM
//! accesses go through the caches (which hold tags only; the data always lives in RAM);
//! device and HTIF accesses bypass them and cost [`MemoryConfig::mmio_latency`]. The system
//! implements [`vmlab_mmu::MemoryPort`], so the page-table walker's reads are ordinary
//! loads through L1D, and its A/D updates ordinary stores. The exact rules are in
//! `docs/devices.md`.

use crate::bus::{Bus, Target};
use crate::cache::{Cache, CacheConfig, CacheOp, WritePolicy};
use crate::clint::{Clint, ClintConfig};
use crate::console::{Console, ConsoleConfig};
use crate::diskctl::{DiskController, DiskCtlConfig};
use crate::dram::{Dram, DramConfig};
use crate::error::{BusError, BusErrorKind, ConfigError};
use crate::htif::HtifConfig;
use crate::ram::{Ram, RamConfig};
use crate::Cycle;
use serde::{Deserialize, Serialize};
use vmlab_common::{MemoryPort, PortError};

/// What a physical access does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// An instruction fetch (through L1I).
    Fetch,
    /// A data load (through L1D).
    Load,
    /// A data store (through L1D).
    Store,
}

impl AccessKind {
    /// All kinds, in the order statistics list them.
    pub const ALL: [AccessKind; 3] = [AccessKind::Fetch, AccessKind::Load, AccessKind::Store];

    /// The lower-case name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            AccessKind::Fetch => "fetch",
            AccessKind::Load => "load",
            AccessKind::Store => "store",
        }
    }

    fn op(self) -> CacheOp {
        match self {
            AccessKind::Fetch => CacheOp::Fetch,
            AccessKind::Load => CacheOp::Load,
            AccessKind::Store => CacheOp::Store,
        }
    }
}

/// The whole physical side's configuration (`[memory]` in a machine file). Every field has
/// a documented default; the default memory map is in `docs/devices.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// RAM placement (default 128 MiB at `0x8000_0000`).
    pub ram: RamConfig,
    /// The L1 instruction cache (default [`CacheConfig::l1`]).
    pub l1i: CacheConfig,
    /// The L1 data cache (default [`CacheConfig::l1`]).
    pub l1d: CacheConfig,
    /// The unified L2 (default disabled). An `[l2]` table enables it; keys it leaves out take
    /// the values of [`CacheConfig::l2`] (256 KiB, 8 ways, 64-byte lines, 10 cycles).
    #[serde(deserialize_with = "de_l2")]
    pub l2: CacheConfig,
    /// DRAM timing (default fixed, 100 cycles).
    pub dram: DramConfig,
    /// Cycles of an uncached access to a device register or an HTIF word (default 10; at most
    /// [`vmlab_common::MAX_LATENCY`]).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub mmio_latency: u64,
    /// The console (default at `0x1000_0000`).
    pub console: ConsoleConfig,
    /// The CLINT timer (default at `0x0200_0000`, divider 10).
    pub clint: ClintConfig,
    /// The HTIF words (default `tohost` at `0x0100_0000`, `fromhost` at `0x0100_0008`).
    pub htif: HtifConfig,
    /// The disk controller and its disk (default at `0x1000_1000`, interrupt MEIP, the
    /// default disk of `docs/disk.md`).
    pub diskctl: DiskCtlConfig,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            ram: RamConfig::default(),
            l1i: CacheConfig::l1(),
            l1d: CacheConfig::l1(),
            l2: CacheConfig::l2(),
            dram: DramConfig::default(),
            mmio_latency: 10,
            console: ConsoleConfig::default(),
            clint: ClintConfig::default(),
            htif: HtifConfig::default(),
            diskctl: DiskCtlConfig::default(),
        }
    }
}

/// An L2 table as written: every key optional, `enabled` true unless said otherwise.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialCache {
    enabled: Option<bool>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    size: Option<u64>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    line: Option<u64>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    ways: Option<u64>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    hit_latency: Option<u64>,
    replacement: Option<crate::cache::Replacement>,
    write_policy: Option<WritePolicy>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    seed: Option<u64>,
}

fn de_l2<'de, D: serde::Deserializer<'de>>(d: D) -> Result<CacheConfig, D::Error> {
    let p = PartialCache::deserialize(d)?;
    let b = CacheConfig::l2();
    Ok(CacheConfig {
        enabled: p.enabled.unwrap_or(true),
        size: p.size.unwrap_or(b.size),
        line: p.line.unwrap_or(b.line),
        ways: p.ways.unwrap_or(b.ways),
        hit_latency: p.hit_latency.unwrap_or(b.hit_latency),
        replacement: p.replacement.unwrap_or(b.replacement),
        write_policy: p.write_policy.unwrap_or(b.write_policy),
        seed: p.seed.unwrap_or(b.seed),
    })
}

/// The memory system's own counters (each cache, DRAM and the bus keep theirs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemoryStats {
    /// Accesses by kind (fetch, load, store), faults included.
    pub accesses: [u64; 3],
    /// Cycles by kind.
    pub cycles: [u64; 3],
    /// Accesses that reached a device register or an HTIF word.
    pub mmio: u64,
    /// Accesses that faulted.
    pub faults: u64,
}

impl MemoryStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        for k in AccessKind::ALL {
            f(
                &format!("{prefix}.accesses.{}", k.name()),
                self.accesses[k as usize],
            );
        }
        for k in AccessKind::ALL {
            f(
                &format!("{prefix}.cycles.{}", k.name()),
                self.cycles[k as usize],
            );
        }
        f(&format!("{prefix}.mmio"), self.mmio);
        f(&format!("{prefix}.faults"), self.faults);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    L1i,
    L1d,
    L2,
    Dram,
}

/// RAM, devices, caches and DRAM behind one interface.
#[derive(Debug)]
pub struct MemorySystem {
    bus: Bus,
    l1i: Option<Cache>,
    l1d: Option<Cache>,
    l2: Option<Cache>,
    dram: Dram,
    mmio_latency: u64,
    /// The line size that splits fetches and data accesses: that of the first enabled level
    /// on each path (derived from the configuration).
    fetch_line: Option<u64>,
    data_line: Option<u64>,
    now: Cycle,
    stats: MemoryStats,
    /// Whether the host-speed L1-hit shortcut of [`MemorySystem::access`] is on.
    shortcuts: bool,
}

impl MemorySystem {
    /// Builds RAM, the default devices the configuration enables, the caches and DRAM.
    pub fn new(cfg: MemoryConfig) -> Result<MemorySystem, ConfigError> {
        let mut bus = Bus::new(Ram::new(cfg.ram)?);
        if cfg.console.enabled {
            bus.map_device(cfg.console.base, Box::new(Console::new()))?;
        }
        if cfg.clint.enabled {
            bus.map_device(cfg.clint.base, Box::new(Clint::new(cfg.clint)?))?;
        }
        if cfg.diskctl.enabled {
            bus.map_device(
                cfg.diskctl.base,
                Box::new(DiskController::new(&cfg.diskctl)?),
            )?;
        }
        if cfg.htif.enabled {
            bus.map_htif(cfg.htif)?;
        }
        MemorySystem::with_bus(bus, &cfg)
    }

    /// Builds the caches and DRAM of `cfg` around a bus the caller has populated (its RAM,
    /// devices and HTIF are kept; `cfg.ram`, `console`, `clint`, `htif` and `diskctl` are
    /// ignored).
    pub fn with_bus(bus: Bus, cfg: &MemoryConfig) -> Result<MemorySystem, ConfigError> {
        vmlab_common::check_latency("mmio_latency", cfg.mmio_latency)
            .map_err(|m| ConfigError::invalid("memory", m))?;
        let cache = |c: &CacheConfig, name: &str| -> Result<Option<Cache>, ConfigError> {
            if c.enabled {
                Cache::new(*c, name).map(Some)
            } else {
                Ok(None)
            }
        };
        let first = |l1: &CacheConfig| {
            [l1, &cfg.l2]
                .into_iter()
                .find(|c| c.enabled)
                .map(|c| c.line)
        };
        Ok(MemorySystem {
            fetch_line: first(&cfg.l1i),
            data_line: first(&cfg.l1d),
            l1i: cache(&cfg.l1i, "cache.l1i")?,
            l1d: cache(&cfg.l1d, "cache.l1d")?,
            l2: cache(&cfg.l2, "cache.l2")?,
            dram: Dram::new(cfg.dram)?,
            mmio_latency: cfg.mmio_latency,
            bus,
            now: Cycle(0),
            stats: MemoryStats::default(),
            shortcuts: true,
        })
    }

    /// The bus (RAM, devices, HTIF).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The bus, mutably (loaders, console input, mapping extra devices).
    pub fn bus_mut(&mut self) -> &mut Bus {
        &mut self.bus
    }

    /// The RAM.
    pub fn ram(&self) -> &Ram {
        self.bus.ram()
    }

    /// The RAM, mutably (loaders write here without touching caches or statistics).
    pub fn ram_mut(&mut self) -> &mut Ram {
        self.bus.ram_mut()
    }

    /// The L1 instruction cache, if enabled.
    pub fn l1i(&self) -> Option<&Cache> {
        self.l1i.as_ref()
    }

    /// The L1 data cache, if enabled.
    pub fn l1d(&self) -> Option<&Cache> {
        self.l1d.as_ref()
    }

    /// The L2, if enabled.
    pub fn l2(&self) -> Option<&Cache> {
        self.l2.as_ref()
    }

    /// DRAM timing state.
    pub fn dram(&self) -> &Dram {
        &self.dram
    }

    /// The memory system's own counters.
    pub fn stats(&self) -> &MemoryStats {
        &self.stats
    }

    /// The current cycle, as last given to [`MemorySystem::tick`] or
    /// [`MemorySystem::set_now`].
    pub fn now(&self) -> Cycle {
        self.now
    }

    /// Sets the cycle that device accesses see, without advancing the devices.
    pub fn set_now(&mut self, now: Cycle) {
        self.now = now;
    }

    /// Sets the current cycle and advances every device to it (completions, DMA, timer and
    /// HTIF). Call it at least whenever `now` reaches [`MemorySystem::next_event`].
    pub fn tick(&mut self, now: Cycle) {
        self.now = now;
        self.bus.tick(now);
    }

    /// The earliest cycle at which some device has something to do. It can change after any
    /// access, so ask again after each one.
    pub fn next_event(&self) -> Option<Cycle> {
        self.bus.next_event()
    }

    /// The `mip` bits the devices drive.
    pub fn interrupts(&self) -> u64 {
        self.bus.interrupts()
    }

    /// An instruction fetch of `size` bytes (2 or 4 for RISC-V, though any of 1/2/4/8 works).
    pub fn fetch(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), BusError> {
        self.access(AccessKind::Fetch, addr, size, 0)
    }

    /// A data load.
    pub fn load(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), BusError> {
        self.access(AccessKind::Load, addr, size, 0)
    }

    /// A data store of the low `size` bytes of `value`.
    pub fn store(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, BusError> {
        self.access(AccessKind::Store, addr, size, value)
            .map(|(_, c)| c)
    }

    /// Turns the host-speed L1-hit shortcut of [`MemorySystem::access`] on or off. It never
    /// changes a value, a cycle or a statistic; off, every access takes the general path,
    /// which is how tests prove that.
    pub fn set_host_shortcuts(&mut self, on: bool) {
        self.shortcuts = on;
    }

    /// One physical access of `size` bytes (1, 2, 4 or 8; any alignment in RAM): the value
    /// (the stored value for a store) and the cycles it took. A fault costs no cycles.
    #[inline]
    pub fn access(
        &mut self,
        kind: AccessKind,
        addr: u64,
        size: u8,
        value: u64,
    ) -> Result<(u64, Cycle), BusError> {
        if let Some(r) = self.l1_hit(kind, addr, size, value) {
            return r;
        }
        self.access_general(kind, addr, size, value)
    }

    /// Host speed: a RAM access of a valid size within one line of an enabled L1 that hits
    /// there, when the access is not a written-through store. The general path
    /// ([`MemorySystem::access_general`]) would make exactly these changes for it: count
    /// the access and its cycles, count the L1 hit (replacement state, dirty bit), and read
    /// or write RAM; the cycles are the L1's `hit_latency`. Anything else changes nothing
    /// and returns `None`.
    #[inline(always)]
    fn l1_hit(
        &mut self,
        kind: AccessKind,
        addr: u64,
        size: u8,
        value: u64,
    ) -> Option<Result<(u64, Cycle), BusError>> {
        let write = kind == AccessKind::Store;
        if !self.shortcuts || !matches!(size, 1 | 2 | 4 | 8) {
            return None;
        }
        let l1 = if kind == AccessKind::Fetch {
            self.l1i.as_mut()?
        } else {
            self.l1d.as_mut()?
        };
        let last = addr.wrapping_add(size as u64 - 1);
        if (addr ^ last) >> l1.line_bits() != 0
            || (write && l1.config().write_policy == WritePolicy::WriteThrough)
        {
            return None;
        }
        let i = l1.find(addr)?;
        if self.bus.target(addr, size as u64) != Target::Ram {
            return None;
        }
        let lat = l1.config().hit_latency;
        l1.record_hit(i, kind.op(), write);
        self.stats.accesses[kind as usize] += 1;
        let ram = self.bus.ram_mut();
        let v = if write {
            ram.write(addr, size, value).map(|()| value)
        } else {
            ram.read(addr, size)
        };
        // (RAM never refuses an access the bus sent it; if it did, the general path would
        // count the fault after the same cache update, as here.)
        Some(match v {
            Ok(v) => {
                self.stats.cycles[kind as usize] += lat;
                Ok((v, Cycle(lat)))
            }
            Err(e) => {
                self.stats.faults += 1;
                Err(e)
            }
        })
    }

    /// [`MemorySystem::access`] without the L1-hit shortcut.
    fn access_general(
        &mut self,
        kind: AccessKind,
        addr: u64,
        size: u8,
        value: u64,
    ) -> Result<(u64, Cycle), BusError> {
        self.stats.accesses[kind as usize] += 1;
        let write = kind == AccessKind::Store;
        if !matches!(size, 1 | 2 | 4 | 8) {
            self.stats.faults += 1;
            return Err(BusError {
                addr,
                size: size as u64,
                write,
                kind: BusErrorKind::BadSize,
            });
        }
        let target = self.bus.target(addr, size as u64);
        let result = match target {
            Target::Ram => {
                let cycles = self.timed(kind, addr, size as u64);
                let v = if write {
                    self.bus.ram_mut().write(addr, size, value).map(|()| value)
                } else {
                    self.bus.ram_mut().read(addr, size)
                };
                v.map(|v| (v, cycles))
            }
            Target::Device { .. } | Target::Htif => {
                self.stats.mmio += 1;
                let v = if write {
                    self.bus.write(addr, size, value, self.now).map(|()| value)
                } else {
                    self.bus.read(addr, size, self.now)
                };
                v.map(|v| (v, Cycle(self.mmio_latency)))
            }
            Target::Unmapped => self.bus.read_or_write_fault(addr, size, write),
        };
        match &result {
            Ok((_, c)) => self.stats.cycles[kind as usize] += c.0,
            Err(_) => self.stats.faults += 1,
        }
        result
    }

    /// A functional read: the value, with no cache state, statistics or device side effects.
    pub fn peek(&self, addr: u64, size: u8) -> Result<u64, BusError> {
        self.bus.peek(addr, size)
    }

    /// The latency of a RAM access through the caches: one access per line it touches, at
    /// the line size of the first enabled level.
    fn timed(&mut self, kind: AccessKind, addr: u64, size: u64) -> Cycle {
        let (first, line) = if kind == AccessKind::Fetch {
            (Level::L1i, self.fetch_line)
        } else {
            (Level::L1d, self.data_line)
        };
        let write = kind == AccessKind::Store;
        let op = kind.op();
        let Some(line) = line else {
            return Cycle(self.level(Level::Dram, addr, op, write, size));
        };
        let last = addr + size - 1;
        let mut cycles = self.level(first, addr, op, write, size);
        if last & !(line - 1) != addr & !(line - 1) {
            let second = last & !(line - 1);
            cycles += self.level(first, second, op, write, last + 1 - second);
        }
        Cycle(cycles)
    }

    fn cache_mut(&mut self, l: Level) -> Option<&mut Cache> {
        match l {
            Level::L1i => self.l1i.as_mut(),
            Level::L1d => self.l1d.as_mut(),
            Level::L2 => self.l2.as_mut(),
            Level::Dram => None,
        }
    }

    /// One access of `bytes` bytes at `addr` to a level: its cycles, including everything
    /// it causes below (fills, write-backs, written-through stores).
    fn level(&mut self, l: Level, addr: u64, op: CacheOp, write: bool, bytes: u64) -> u64 {
        let next = match l {
            Level::L1i | Level::L1d => Level::L2,
            _ => Level::Dram,
        };
        if l == Level::Dram {
            return self.dram.access(addr, write).0;
        }
        let Some(c) = self.cache_mut(l) else {
            return self.level(next, addr, op, write, bytes);
        };
        let cfg = *c.config();
        let mut lat = cfg.hit_latency;
        let hit = c.lookup(addr, op, write);
        if write && cfg.write_policy == WritePolicy::WriteThrough {
            // Hit or miss, the store goes on; a miss does not allocate.
            c.count_write_through();
            return lat + self.level(next, addr, op, true, bytes);
        }
        if hit {
            return lat;
        }
        let line = c.line_of(addr);
        // A write-back of a whole line needs no fetch: it overwrites every byte.
        let whole = op == CacheOp::Writeback && bytes >= cfg.line;
        let victim = c.fill(line, write);
        if let Some(v) = victim.filter(|v| v.dirty) {
            lat += self.level(next, v.addr, CacheOp::Writeback, true, cfg.line);
        }
        if !whole {
            lat += self.level(next, line, op, false, cfg.line);
        }
        lat
    }

    /// Calls `f` with every counter in a stable order: `memory.*`, `cache.l1i.*`,
    /// `cache.l1d.*`, `cache.l2.*` (enabled caches only), `dram.*`, then the bus's
    /// (`bus.*`, `ram.*`, each device, `htif.*`).
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        self.stats.for_each("memory", f);
        for (c, n) in [
            (&self.l1i, "cache.l1i"),
            (&self.l1d, "cache.l1d"),
            (&self.l2, "cache.l2"),
        ] {
            if let Some(c) = c {
                c.stats().for_each(n, f);
            }
        }
        self.dram.stats().for_each("dram", f);
        self.bus.for_each_stat(f);
    }

    /// Every counter as (name, value) pairs, in the order of [`MemorySystem::for_each_stat`].
    pub fn stat_list(&self) -> Vec<(String, u64)> {
        let mut v = Vec::new();
        self.for_each_stat(&mut |n, x| v.push((n.to_string(), x)));
        v
    }
}

impl MemoryPort for MemorySystem {
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError> {
        self.load(addr, size)
            .map_err(|e| PortError { addr: e.addr })
    }

    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError> {
        self.store(addr, size, value)
            .map_err(|e| PortError { addr: e.addr })
    }

    fn peek(&self, addr: u64, size: u8) -> Result<u64, PortError> {
        MemorySystem::peek(self, addr, size).map_err(|e| PortError { addr: e.addr })
    }
}
