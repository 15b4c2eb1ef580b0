//! The memory port through which the walker reads and updates PTEs.
//!
//! The caller supplies the port; in the full machine it is the devices crate's bus behind the
//! data caches, so every PTE read costs what a load would. [`SparseMemory`] is a simple port
//! with a fixed latency, used by `vmlab translate`, the tests and the fuzz oracle.

use crate::types::Cycle;
use std::collections::BTreeMap;

pub use vmlab_common::{MemoryPort, PortError};

const PAGE: u64 = 4096;

/// Sparse, byte-addressed physical memory with a fixed access latency.
///
/// Memory that was never written reads as zero. Addresses at or above `size` are not
/// memory and fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseMemory {
    pages: BTreeMap<u64, Box<[u8; PAGE as usize]>>,
    size: u64,
    latency: Cycle,
    reads: u64,
    writes: u64,
}

impl SparseMemory {
    /// Memory of `size` bytes (addresses `0..size`) where every access costs `latency`.
    pub fn new(size: u64, latency: Cycle) -> Self {
        SparseMemory {
            pages: BTreeMap::new(),
            size,
            latency,
            reads: 0,
            writes: 0,
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many timed reads and writes the port has served.
    pub fn accesses(&self) -> (u64, u64) {
        (self.reads, self.writes)
    }

    fn check(&self, addr: u64, size: u8) -> Result<(), PortError> {
        match addr.checked_add(size as u64) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(PortError { addr }),
        }
    }

    /// Reads one byte (zero if never written; no bounds check).
    pub fn byte(&self, addr: u64) -> u8 {
        self.pages
            .get(&(addr / PAGE))
            .map_or(0, |p| p[(addr % PAGE) as usize])
    }

    /// Writes one byte, failing outside memory.
    pub fn set_byte(&mut self, addr: u64, value: u8) -> Result<(), PortError> {
        self.check(addr, 1)?;
        let page = self
            .pages
            .entry(addr / PAGE)
            .or_insert_with(|| Box::new([0; PAGE as usize]));
        page[(addr % PAGE) as usize] = value;
        Ok(())
    }

    /// Writes `bytes` starting at `addr`.
    pub fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), PortError> {
        self.check(addr, 0)?;
        for (i, &b) in bytes.iter().enumerate() {
            self.set_byte(addr + i as u64, b)?;
        }
        Ok(())
    }

    /// Stores a little-endian value of `size` bytes without counting an access.
    pub fn store(&mut self, addr: u64, size: u8, value: u64) -> Result<(), PortError> {
        self.check(addr, size)?;
        for i in 0..size as u64 {
            self.set_byte(addr + i, (value >> (8 * i)) as u8)?;
        }
        Ok(())
    }

    /// The addresses of all 4 KiB pages that have been written, in order.
    pub fn touched_pages(&self) -> impl Iterator<Item = u64> + '_ {
        self.pages.keys().map(|p| p * PAGE)
    }
}

impl MemoryPort for SparseMemory {
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError> {
        let v = self.peek(addr, size)?;
        self.reads += 1;
        Ok((v, self.latency))
    }

    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError> {
        self.store(addr, size, value)?;
        self.writes += 1;
        Ok(self.latency)
    }

    fn peek(&self, addr: u64, size: u8) -> Result<u64, PortError> {
        self.check(addr, size)?;
        let off = (addr % PAGE) as usize;
        if off + size as usize <= PAGE as usize {
            // Within one page: one map lookup instead of one per byte (host speed only).
            return Ok(self.pages.get(&(addr / PAGE)).map_or(0, |p| {
                p[off..off + size as usize]
                    .iter()
                    .rev()
                    .fold(0u64, |v, &b| v << 8 | b as u64)
            }));
        }
        let mut v = 0u64;
        for i in 0..size as u64 {
            v |= (self.byte(addr + i) as u64) << (8 * i);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_endian_and_bounds() {
        let mut m = SparseMemory::new(0x2000, Cycle(7));
        m.store(0xff8, 8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(m.peek(0xff8, 8), Ok(0x1122_3344_5566_7788));
        assert_eq!(m.peek(0xffc, 2), Ok(0x3344));
        assert_eq!(m.read(0xff8, 1), Ok((0x88, Cycle(7))));
        assert_eq!(m.peek(0x1ffc, 8), Err(PortError { addr: 0x1ffc }));
        assert_eq!(m.peek(u64::MAX, 8), Err(PortError { addr: u64::MAX }));
        assert_eq!(m.accesses(), (1, 0));
    }
}
