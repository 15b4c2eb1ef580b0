//! Physical RAM: sparse, little-endian, allocated a 4 KiB page at a time on first write.

use crate::error::{BusError, ConfigError};
use serde::{Deserialize, Serialize};

/// Bytes per RAM page (the allocation unit).
pub const PAGE_SIZE: u64 = 4096;
const PAGE_BITS: u32 = 12;
/// Pages per directory chunk (2 MiB of address space per chunk).
const CHUNK_BITS: u32 = 9;
const CHUNK_PAGES: usize = 1 << CHUNK_BITS;
/// The largest RAM this model accepts (1 TiB).
pub const MAX_RAM: u64 = 1 << 40;

/// Where RAM sits and how big it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RamConfig {
    /// The physical address of the first byte (default `0x8000_0000`, where RISC-V programs
    /// are linked). Must be a multiple of 4096.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub base: u64,
    /// The size in bytes (default 128 MiB). A multiple of 4096, at most 1 TiB. Memory is
    /// allocated only as it is written, so a large size costs nothing until it is used.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub size: u64,
}

impl Default for RamConfig {
    fn default() -> Self {
        RamConfig {
            base: 0x8000_0000,
            size: 128 << 20,
        }
    }
}

impl RamConfig {
    /// Checks the base and size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError::invalid("ram", m));
        if self.size == 0 {
            return err("`size` = 0; RAM needs at least one 4096-byte page".into());
        }
        if (self.size | self.base) & (PAGE_SIZE - 1) != 0 {
            return err(format!(
                "`base` ({:#x}) and `size` ({:#x}) must be multiples of 4096",
                self.base, self.size
            ));
        }
        if self.size > MAX_RAM {
            return err(format!(
                "`size` = {:#x} is over 1 TiB; use at most {MAX_RAM:#x}",
                self.size
            ));
        }
        if self.base.checked_add(self.size).is_none() {
            return err(format!(
                "`base` {:#x} + `size` {:#x} runs past the end of the 64-bit address space",
                self.base, self.size
            ));
        }
        Ok(())
    }
}

type Page = Box<[u8; PAGE_SIZE as usize]>;
type Chunk = Box<[Option<Page>; CHUNK_PAGES]>;

/// RAM's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RamStats {
    /// Timed reads ([`Ram::read`]).
    pub reads: u64,
    /// Timed writes ([`Ram::write`]).
    pub writes: u64,
    /// Bytes copied in by bulk writes (loaders, DMA).
    pub bulk_bytes_in: u64,
    /// Bytes copied out by bulk reads (DMA).
    pub bulk_bytes_out: u64,
}

impl RamStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.reads"), self.reads);
        f(&format!("{prefix}.writes"), self.writes);
        f(&format!("{prefix}.bulk_bytes_in"), self.bulk_bytes_in);
        f(&format!("{prefix}.bulk_bytes_out"), self.bulk_bytes_out);
    }
}

/// Physical RAM addressed by physical address (`base..base + size`).
///
/// Memory that was never written reads as zero. Values are little-endian; any alignment is
/// accepted (alignment rules are the CPU's business). Addresses outside RAM are a
/// [`BusError`].
#[derive(Clone, Debug)]
pub struct Ram {
    cfg: RamConfig,
    dir: Vec<Option<Chunk>>,
    pages: u64,
    stats: RamStats,
    /// Bumped by every write ([`Ram::generation`]).
    generation: u64,
}

impl Ram {
    /// RAM with the given placement, validated.
    pub fn new(cfg: RamConfig) -> Result<Ram, ConfigError> {
        cfg.validate()?;
        let chunks = cfg.size.div_ceil(PAGE_SIZE << CHUNK_BITS) as usize;
        let mut dir = Vec::new();
        dir.resize_with(chunks, || None);
        Ok(Ram {
            cfg,
            dir,
            pages: 0,
            stats: RamStats::default(),
            generation: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RamConfig {
        &self.cfg
    }

    /// The first physical address.
    pub fn base(&self) -> u64 {
        self.cfg.base
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.cfg.size
    }

    /// One past the last physical address.
    pub fn end(&self) -> u64 {
        self.cfg.base + self.cfg.size
    }

    /// Whether `len` bytes at `addr` all lie in RAM.
    #[inline]
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.cfg.base
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= self.cfg.base + self.cfg.size)
    }

    /// How many 4 KiB pages have been allocated (written at least once).
    pub fn allocated_pages(&self) -> u64 {
        self.pages
    }

    /// The counters.
    pub fn stats(&self) -> &RamStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = RamStats::default();
    }

    fn check(&self, addr: u64, len: u64, write: bool) -> Result<u64, BusError> {
        if self.contains(addr, len) {
            Ok(addr - self.cfg.base)
        } else {
            Err(BusError::unmapped(addr, len, write))
        }
    }

    #[inline]
    fn page(&self, off: u64) -> Option<&Page> {
        let pn = (off >> PAGE_BITS) as usize;
        self.dir[pn >> CHUNK_BITS].as_ref()?[pn & (CHUNK_PAGES - 1)].as_ref()
    }

    #[inline]
    fn page_if_allocated_mut(&mut self, off: u64) -> Option<&mut Page> {
        let pn = (off >> PAGE_BITS) as usize;
        self.dir[pn >> CHUNK_BITS].as_mut()?[pn & (CHUNK_PAGES - 1)].as_mut()
    }

    #[inline]
    fn page_mut(&mut self, off: u64) -> &mut Page {
        let pn = (off >> PAGE_BITS) as usize;
        let chunk = self.dir[pn >> CHUNK_BITS].get_or_insert_with(|| {
            let v: Vec<Option<Page>> = (0..CHUNK_PAGES).map(|_| None).collect();
            v.into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!())
        });
        let slot = &mut chunk[pn & (CHUNK_PAGES - 1)];
        if slot.is_none() {
            self.pages += 1;
        }
        slot.get_or_insert_with(|| Box::new([0; PAGE_SIZE as usize]))
    }

    /// A functional read of `size` bytes (1, 2, 4 or 8), little-endian; counts nothing.
    #[inline]
    pub fn peek(&self, addr: u64, size: u8) -> Result<u64, BusError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(BusError {
                kind: crate::error::BusErrorKind::BadSize,
                ..BusError::unmapped(addr, size as u64, false)
            });
        }
        let off = self.check(addr, size as u64, false)?;
        let po = (off % PAGE_SIZE) as usize;
        let n = size as usize;
        if po + n <= PAGE_SIZE as usize {
            return Ok(self.page(off).map_or(0, |p| {
                // One fixed-size copy per width (host speed: no call to a general copy).
                let mut b = [0u8; 8];
                match n {
                    1 => b[0] = p[po],
                    2 => b[..2].copy_from_slice(&p[po..po + 2]),
                    4 => b[..4].copy_from_slice(&p[po..po + 4]),
                    _ => b.copy_from_slice(&p[po..po + 8]),
                }
                u64::from_le_bytes(b)
            }));
        }
        let mut b = [0u8; 8];
        self.copy_out(off, &mut b[..n]);
        Ok(u64::from_le_bytes(b))
    }

    /// A timed read of `size` bytes (1, 2, 4 or 8), little-endian; counted in the statistics.
    #[inline]
    pub fn read(&mut self, addr: u64, size: u8) -> Result<u64, BusError> {
        let v = self.peek(addr, size)?;
        self.stats.reads += 1;
        Ok(v)
    }

    /// Stores the low `size` bytes (1, 2, 4 or 8) of `value`, little-endian.
    #[inline]
    pub fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<(), BusError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(BusError {
                kind: crate::error::BusErrorKind::BadSize,
                ..BusError::unmapped(addr, size as u64, true)
            });
        }
        let off = self.check(addr, size as u64, true)?;
        self.stats.writes += 1;
        let bytes = value.to_le_bytes();
        let po = (off % PAGE_SIZE) as usize;
        if po + size as usize <= PAGE_SIZE as usize {
            if let Some(p) = self.page_if_allocated_mut(off) {
                // What `copy_in` does for bytes inside one allocated page, with one
                // fixed-size copy per width (host speed).
                match size {
                    1 => p[po] = bytes[0],
                    2 => p[po..po + 2].copy_from_slice(&bytes[..2]),
                    4 => p[po..po + 4].copy_from_slice(&bytes[..4]),
                    _ => p[po..po + 8].copy_from_slice(&bytes),
                }
                self.generation = self.generation.wrapping_add(1);
                return Ok(());
            }
        }
        self.copy_in(off, &bytes[..size as usize]);
        Ok(())
    }

    /// Copies `buf.len()` bytes starting at `addr` into `buf` (for DMA and debuggers).
    pub fn read_bytes(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), BusError> {
        let off = self.check(addr, buf.len() as u64, false)?;
        self.copy_out(off, buf);
        self.stats.bulk_bytes_out += buf.len() as u64;
        Ok(())
    }

    /// As [`Ram::read_bytes`] without counting (a functional read).
    pub fn peek_bytes(&self, addr: u64, buf: &mut [u8]) -> Result<(), BusError> {
        let off = self.check(addr, buf.len() as u64, false)?;
        self.copy_out(off, buf);
        Ok(())
    }

    /// Copies `bytes` into RAM starting at `addr` (for loaders and DMA). Nothing is written
    /// unless all of it fits.
    pub fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), BusError> {
        let off = self.check(addr, bytes.len() as u64, true)?;
        self.copy_in(off, bytes);
        self.stats.bulk_bytes_in += bytes.len() as u64;
        Ok(())
    }

    fn copy_out(&self, mut off: u64, mut buf: &mut [u8]) {
        while !buf.is_empty() {
            let po = (off % PAGE_SIZE) as usize;
            let n = buf.len().min(PAGE_SIZE as usize - po);
            let (head, rest) = buf.split_at_mut(n);
            match self.page(off) {
                Some(p) => head.copy_from_slice(&p[po..po + n]),
                None => head.fill(0),
            }
            off += n as u64;
            buf = rest;
        }
    }

    fn copy_in(&mut self, mut off: u64, mut bytes: &[u8]) {
        self.generation = self.generation.wrapping_add(1);
        while !bytes.is_empty() {
            let po = (off % PAGE_SIZE) as usize;
            let n = bytes.len().min(PAGE_SIZE as usize - po);
            let (head, rest) = bytes.split_at(n);
            // Writing zeros to a page never written leaves it unallocated (reads stay zero).
            if self.page(off).is_some() || head.iter().any(|&b| b != 0) {
                self.page_mut(off)[po..po + n].copy_from_slice(head);
            }
            off += n as u64;
            bytes = rest;
        }
    }

    /// A number that changes whenever any byte of RAM may have been written (every write,
    /// store or bulk copy adds one). Host-side caches of RAM contents compare it to know
    /// they are still exact; it is not a modelled quantity.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The physical addresses of all allocated pages, in order.
    pub fn allocated(&self) -> Vec<u64> {
        let mut v = Vec::new();
        for (c, chunk) in self.dir.iter().enumerate() {
            if let Some(chunk) = chunk {
                for (i, p) in chunk.iter().enumerate() {
                    if p.is_some() {
                        let pn = ((c << CHUNK_BITS) | i) as u64;
                        v.push(self.cfg.base + pn * PAGE_SIZE);
                    }
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram() -> Ram {
        Ram::new(RamConfig {
            base: 0x8000_0000,
            size: 0x10_0000_0000,
        })
        .unwrap()
    }

    #[test]
    fn little_endian_any_width_and_page_crossing() {
        let mut r = ram();
        r.write(0x8000_0ffc, 8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(r.peek(0x8000_0ffc, 8), Ok(0x1122_3344_5566_7788));
        assert_eq!(r.peek(0x8000_1000, 4), Ok(0x1122_3344));
        assert_eq!(r.peek(0x8000_0ffc, 1), Ok(0x88));
        assert_eq!(r.peek(0x8000_0ffd, 2), Ok(0x6677));
        assert_eq!(r.allocated(), vec![0x8000_0000, 0x8000_1000]);
        assert_eq!(r.stats().writes, 1);
    }

    #[test]
    fn sparse_large_space_and_bounds() {
        let mut r = ram();
        let top = r.end() - 8;
        r.write(top, 8, u64::MAX).unwrap();
        assert_eq!(r.peek(top, 8), Ok(u64::MAX));
        assert_eq!(r.allocated_pages(), 1);
        assert_eq!(r.peek(0x9000_0000, 8), Ok(0), "never written reads zero");
        assert!(r.peek(top + 1, 8).is_err());
        assert!(r.peek(0x7fff_ffff, 1).is_err());
        assert!(r.peek(u64::MAX, 8).is_err());
        assert!(r.write(0x8000_0000, 3, 0).is_err());
    }

    #[test]
    fn bulk_copies() {
        let mut r = ram();
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        r.write_bytes(0x8000_0100, &data).unwrap();
        let mut back = vec![0; data.len()];
        r.read_bytes(0x8000_0100, &mut back).unwrap();
        assert_eq!(back, data);
        assert!(r.write_bytes(r.end() - 4, &[1; 8]).is_err());
        r.write_bytes(0x8100_0000, &[0; 4096]).unwrap();
        assert_eq!(r.allocated_pages(), 3, "zeros do not allocate");
    }

    #[test]
    fn config_errors_say_what_is_right() {
        for (cfg, needle) in [
            (
                RamConfig {
                    size: 0,
                    ..RamConfig::default()
                },
                "at least one",
            ),
            (
                RamConfig {
                    size: 100,
                    ..RamConfig::default()
                },
                "multiples of 4096",
            ),
            (
                RamConfig {
                    size: 1 << 41,
                    ..RamConfig::default()
                },
                "at most",
            ),
            (
                RamConfig {
                    base: u64::MAX - 4095,
                    size: 8192,
                },
                "past the end",
            ),
        ] {
            let e = Ram::new(cfg).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
