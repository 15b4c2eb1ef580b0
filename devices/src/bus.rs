//! The bus: physical address ranges mapped to RAM, memory-mapped devices and the HTIF words.

use crate::device::Device;
use crate::error::{BusError, BusErrorKind, ConfigError};
use crate::htif::{Htif, HtifConfig};
use crate::ram::Ram;
use crate::Cycle;
use serde::Serialize;

/// What a physical address reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    /// RAM (cacheable).
    Ram,
    /// A memory-mapped device (uncached), by its index in [`Bus::devices`].
    Device {
        /// The index.
        index: usize,
    },
    /// An HTIF word (uncached).
    Htif,
    /// Nothing: an access faults.
    Unmapped,
}

/// One entry of the bus map, for reports and the documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    /// The name (`ram`, `htif.tohost`, or the device's name).
    pub name: String,
    /// The first address.
    pub base: u64,
    /// One past the last address.
    pub end: u64,
}

/// The bus's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BusStats {
    /// Timed reads of device registers and HTIF words.
    pub mmio_reads: u64,
    /// Timed writes of device registers and HTIF words.
    pub mmio_writes: u64,
    /// Accesses that faulted (unmapped, bad width, no such register).
    pub faults: u64,
}

impl BusStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.mmio_reads"), self.mmio_reads);
        f(&format!("{prefix}.mmio_writes"), self.mmio_writes);
        f(&format!("{prefix}.faults"), self.faults);
    }
}

struct Mapped {
    base: u64,
    end: u64,
    /// The device's name.
    name: &'static str,
    dev: Box<dyn Device>,
}

/// Physical address space: RAM, devices at their bases, and optionally the HTIF words.
///
/// Overlapping entries are rejected when they are mapped ([`ConfigError::Overlap`]), except
/// that the HTIF words may lie inside RAM (the `.tohost` section of a test program usually
/// does): there they shadow the RAM bytes. An access that reaches nothing, or runs off the
/// end of what it reaches, is a [`BusError`].
pub struct Bus {
    ram: Ram,
    devices: Vec<Mapped>,
    htif: Option<Htif>,
    stats: BusStats,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").field("map", &self.map()).finish()
    }
}

fn check_size(addr: u64, size: u8, write: bool) -> Result<(), BusError> {
    if matches!(size, 1 | 2 | 4 | 8) {
        Ok(())
    } else {
        Err(BusError {
            kind: BusErrorKind::BadSize,
            ..BusError::unmapped(addr, size as u64, write)
        })
    }
}

impl Bus {
    /// A bus with RAM and nothing else.
    pub fn new(ram: Ram) -> Bus {
        Bus {
            ram,
            devices: Vec::new(),
            htif: None,
            stats: BusStats::default(),
        }
    }

    /// The RAM.
    pub fn ram(&self) -> &Ram {
        &self.ram
    }

    /// The RAM, mutably (for loaders).
    pub fn ram_mut(&mut self) -> &mut Ram {
        &mut self.ram
    }

    /// The HTIF host, if mapped.
    pub fn htif(&self) -> Option<&Htif> {
        self.htif.as_ref()
    }

    /// The HTIF host, mutably.
    pub fn htif_mut(&mut self) -> Option<&mut Htif> {
        self.htif.as_mut()
    }

    /// The counters.
    pub fn stats(&self) -> &BusStats {
        &self.stats
    }

    /// Every entry of the map, in address order.
    pub fn map(&self) -> Vec<Region> {
        let mut v = vec![Region {
            name: "ram".into(),
            base: self.ram.base(),
            end: self.ram.end(),
        }];
        for d in &self.devices {
            v.push(Region {
                name: d.name.to_string(),
                base: d.base,
                end: d.end,
            });
        }
        if let Some(h) = &self.htif {
            for (n, b) in [
                ("htif.tohost", h.config().tohost),
                ("htif.fromhost", h.config().fromhost),
            ] {
                v.push(Region {
                    name: n.into(),
                    base: b,
                    end: b.saturating_add(8),
                });
            }
        }
        v.sort_by_key(|r| (r.base, r.end));
        v
    }

    fn overlap(new: &str, nb: u64, ne: u64, old: &Region) -> Option<ConfigError> {
        (nb < old.end && old.base < ne).then(|| ConfigError::Overlap {
            new: new.into(),
            new_base: nb,
            new_end: ne,
            old: old.name.clone(),
            old_base: old.base,
            old_end: old.end,
        })
    }

    /// Maps a device at `base` (its window is `base..base + device.size()`).
    pub fn map_device(&mut self, base: u64, device: Box<dyn Device>) -> Result<(), ConfigError> {
        let name = device.name();
        let size = device.size();
        if size == 0 {
            return Err(ConfigError::invalid(
                name,
                "the device's register window is empty",
            ));
        }
        let Some(end) = base.checked_add(size) else {
            return Err(ConfigError::invalid(
                name,
                format!("base {base:#x} + size {size:#x} runs past the end of the address space"),
            ));
        };
        if self.devices.iter().any(|d| d.name == name) {
            return Err(ConfigError::invalid(
                name,
                "a device of that name is already mapped; give each device its own name",
            ));
        }
        for r in self.map() {
            if let Some(e) = Self::overlap(name, base, end, &r) {
                return Err(e);
            }
        }
        let pos = self.devices.partition_point(|d| d.base < base);
        self.devices.insert(
            pos,
            Mapped {
                base,
                end,
                name,
                dev: device,
            },
        );
        Ok(())
    }

    /// Maps the HTIF words (replacing any earlier placement). They may lie inside RAM but not
    /// on a device or on each other.
    pub fn map_htif(&mut self, cfg: HtifConfig) -> Result<(), ConfigError> {
        self.check_htif(cfg.tohost, cfg.fromhost)?;
        self.htif = Some(Htif::new(cfg));
        Ok(())
    }

    /// Moves the HTIF words (e.g. to the addresses of an ELF's `tohost` and `fromhost`
    /// symbols), keeping the host's state. Fails if HTIF is not mapped or the words overlap
    /// a device or each other.
    pub fn set_htif(&mut self, tohost: u64, fromhost: u64) -> Result<(), ConfigError> {
        self.check_htif(tohost, fromhost)?;
        match &mut self.htif {
            Some(h) => {
                h.set_addresses(tohost, fromhost);
                Ok(())
            }
            None => Err(ConfigError::invalid(
                "htif",
                "HTIF is disabled; enable it to give it addresses",
            )),
        }
    }

    fn check_htif(&self, tohost: u64, fromhost: u64) -> Result<(), ConfigError> {
        for (n, b) in [("htif.tohost", tohost), ("htif.fromhost", fromhost)] {
            if b & 7 != 0 || b.checked_add(8).is_none() {
                return Err(ConfigError::invalid(
                    "htif",
                    format!("`{n}` at {b:#x} must be 8-byte aligned and below the top of the address space"),
                ));
            }
        }
        if tohost == fromhost {
            return Err(ConfigError::Overlap {
                new: "htif.fromhost".into(),
                new_base: fromhost,
                new_end: fromhost + 8,
                old: "htif.tohost".into(),
                old_base: tohost,
                old_end: tohost + 8,
            });
        }
        for (n, b) in [("htif.tohost", tohost), ("htif.fromhost", fromhost)] {
            for d in &self.devices {
                let r = Region {
                    name: d.name.into(),
                    base: d.base,
                    end: d.end,
                };
                if let Some(e) = Self::overlap(n, b, b + 8, &r) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The mapped devices, in address order: (base, device).
    pub fn devices(&self) -> impl Iterator<Item = (u64, &dyn Device)> {
        self.devices.iter().map(|d| (d.base, &*d.dev))
    }

    /// The first device of type `T`, if one is mapped.
    pub fn device<T: Device + 'static>(&self) -> Option<&T> {
        self.devices
            .iter()
            .find_map(|d| d.dev.as_any().downcast_ref::<T>())
    }

    /// The first device of type `T`, mutably.
    pub fn device_mut<T: Device + 'static>(&mut self) -> Option<&mut T> {
        self.devices
            .iter_mut()
            .find_map(|d| d.dev.as_any_mut().downcast_mut::<T>())
    }

    /// The device named `name`, if mapped.
    pub fn device_named(&self, name: &str) -> Option<&dyn Device> {
        self.devices
            .iter()
            .find(|d| d.name == name)
            .map(|d| &*d.dev)
    }

    /// What an access of `len` bytes at `addr` reaches. An access that starts in an entry
    /// but runs past its end reaches nothing.
    #[inline]
    pub fn target(&self, addr: u64, len: u64) -> Target {
        if let Some(h) = &self.htif {
            if h.touches(addr, len) {
                return if h.word(addr, len).is_some() {
                    Target::Htif
                } else {
                    Target::Unmapped
                };
            }
        }
        if self.ram.contains(addr, len) {
            return Target::Ram;
        }
        let i = self.devices.partition_point(|d| d.base <= addr);
        if i > 0 {
            let d = &self.devices[i - 1];
            if addr.checked_add(len).is_some_and(|e| e <= d.end) {
                return Target::Device { index: i - 1 };
            }
        }
        Target::Unmapped
    }

    fn fault(&mut self, e: BusError) -> BusError {
        self.stats.faults += 1;
        e
    }

    /// A timed read of `size` bytes (1, 2, 4 or 8) at `addr`.
    pub fn read(&mut self, addr: u64, size: u8, now: Cycle) -> Result<u64, BusError> {
        check_size(addr, size, false).map_err(|e| self.fault(e))?;
        match self.target(addr, size as u64) {
            Target::Ram => self.ram.read(addr, size),
            Target::Device { index } => {
                self.stats.mmio_reads += 1;
                let d = &mut self.devices[index];
                let name = d.name;
                d.dev
                    .read(addr - d.base, size, now)
                    .map_err(|error| self.fault(dev_err(addr, size, false, name, error)))
            }
            Target::Htif => {
                self.stats.mmio_reads += 1;
                let h = self.htif.as_ref().expect("target is htif");
                let (w, s) = h.word(addr, size as u64).expect("target is htif");
                Ok(h.read(w, s, size))
            }
            Target::Unmapped => Err(self.fault(BusError::unmapped(addr, size as u64, false))),
        }
    }

    /// A timed write of the low `size` bytes (1, 2, 4 or 8) of `value` at `addr`.
    pub fn write(&mut self, addr: u64, size: u8, value: u64, now: Cycle) -> Result<(), BusError> {
        check_size(addr, size, true).map_err(|e| self.fault(e))?;
        match self.target(addr, size as u64) {
            Target::Ram => self.ram.write(addr, size, value),
            Target::Device { index } => {
                self.stats.mmio_writes += 1;
                let d = &mut self.devices[index];
                let name = d.name;
                d.dev
                    .write(addr - d.base, size, value, now)
                    .map_err(|error| self.fault(dev_err(addr, size, true, name, error)))
            }
            Target::Htif => {
                self.stats.mmio_writes += 1;
                let h = self.htif.as_mut().expect("target is htif");
                let (w, s) = h.word(addr, size as u64).expect("target is htif");
                h.write(w, s, size, value, now);
                Ok(())
            }
            Target::Unmapped => Err(self.fault(BusError::unmapped(addr, size as u64, true))),
        }
    }

    /// A functional read: no side effects, no statistics.
    pub fn peek(&self, addr: u64, size: u8) -> Result<u64, BusError> {
        check_size(addr, size, false)?;
        match self.target(addr, size as u64) {
            Target::Ram => self.ram.peek(addr, size),
            Target::Device { index } => {
                let d = &self.devices[index];
                d.dev
                    .peek(addr - d.base, size)
                    .map_err(|error| dev_err(addr, size, false, d.name, error))
            }
            Target::Htif => {
                let h = self.htif.as_ref().expect("target is htif");
                let (w, s) = h.word(addr, size as u64).expect("target is htif");
                Ok(h.read(w, s, size))
            }
            Target::Unmapped => Err(BusError::unmapped(addr, size as u64, false)),
        }
    }

    /// Counts and returns the fault of an access to an unmapped address.
    pub(crate) fn read_or_write_fault<T>(
        &mut self,
        addr: u64,
        size: u8,
        write: bool,
    ) -> Result<T, BusError> {
        Err(self.fault(BusError::unmapped(addr, size as u64, write)))
    }

    /// Advances every device (and the HTIF host) to `now`.
    pub fn tick(&mut self, now: Cycle) {
        for d in &mut self.devices {
            d.dev.tick(now, &mut self.ram);
        }
        if let Some(h) = &mut self.htif {
            h.tick(now, &mut self.ram);
        }
    }

    /// The earliest next event of any device. It can change after any access, so ask again
    /// after each one.
    pub fn next_event(&self) -> Option<Cycle> {
        self.devices
            .iter()
            .filter_map(|d| d.dev.next_event())
            .chain(self.htif.as_ref().and_then(|h| h.next_event()))
            .min()
    }

    /// The `mip` bits all devices drive, ORed together.
    pub fn interrupts(&self) -> u64 {
        self.devices.iter().fold(0, |m, d| m | d.dev.interrupts())
    }

    /// Calls `f` with every counter of the bus, RAM, devices and HTIF, in a stable order:
    /// `bus.*`, `ram.*`, each device under its name in address order, then `htif.*`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        self.stats.for_each("bus", f);
        self.ram.stats().for_each("ram", f);
        for d in &self.devices {
            d.dev.for_each_stat(d.name, f);
        }
        if let Some(h) = &self.htif {
            h.stats().for_each("htif", f);
        }
    }
}

fn dev_err(
    addr: u64,
    size: u8,
    write: bool,
    device: &'static str,
    error: crate::device::DeviceError,
) -> BusError {
    BusError {
        addr,
        size: size as u64,
        write,
        kind: BusErrorKind::Device { device, error },
    }
}
