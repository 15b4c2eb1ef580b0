//! Helpers shared by the translation-unit tests: a page-table builder that works for any
//! [`Format`], RISC-V PTE bits, and small constructors.
#![allow(dead_code)]

use std::sync::Arc;
use vmlab_mmu::*;

/// RISC-V PTE bits (Sv32/39/48/57).
pub const V: u64 = 1 << 0;
pub const R: u64 = 1 << 1;
pub const W: u64 = 1 << 2;
pub const X: u64 = 1 << 3;
pub const U: u64 = 1 << 4;
pub const G: u64 = 1 << 5;
pub const A: u64 = 1 << 6;
pub const D: u64 = 1 << 7;
/// A readable, writable, executable, accessed, dirty leaf.
pub const RWXAD: u64 = V | R | W | X | A | D;

/// The latency of every access to the test memory.
pub const MEM_LAT: u64 = 10;

/// Builds page tables of any format in a [`SparseMemory`], allocating tables upwards from
/// just after the root.
pub struct Pt {
    pub fmt: Arc<Format>,
    pub root: u64,
    next: u64,
}

impl Pt {
    pub fn new(fmt: Format, root: u64) -> Pt {
        let fmt = Arc::new(fmt);
        let mut pt = Pt { fmt, root, next: 0 };
        pt.next = root + pt.table_bytes(pt.fmt.levels() - 1);
        pt
    }

    /// The bytes a table at `level` occupies, rounded up to a base page (tables are named by a PFN).
    pub fn table_bytes(&self, level: u8) -> u64 {
        let page = 1u64 << self.fmt.page_offset_bits();
        let bytes = (1u64 << self.fmt.index_bits(level)) * self.fmt.pte_bytes() as u64;
        bytes.div_ceil(page) * page
    }

    /// The paged mode with this format and root.
    pub fn mode(&self) -> Mode {
        Mode::Paged {
            format: self.fmt.clone(),
            root: self.root,
        }
    }

    /// A PTE naming physical address `pa` with raw flag bits `flags` (V included by the caller).
    pub fn leaf(&self, pa: u64, flags: u64) -> u64 {
        let s = self.fmt.spec();
        ((pa >> s.page_offset_bits) << s.pfn.lsb) | flags
    }

    /// A valid pointer PTE to the table at `table`.
    pub fn pointer(&self, table: u64) -> u64 {
        let s = self.fmt.spec();
        ((table >> s.page_offset_bits) << s.pfn.lsb) | (1 << s.valid)
    }

    /// The address of the PTE slot for `va` at `level`, creating pointer PTEs (and tables)
    /// on the way down as needed.
    pub fn slot(&mut self, mem: &mut SparseMemory, va: u64, level: u8) -> u64 {
        let f = self.fmt.clone();
        let mut table = self.root;
        let mut l = f.levels() - 1;
        loop {
            let addr = table + f.index(va, l) * f.pte_bytes() as u64;
            if l == level {
                return addr;
            }
            let pte = mem.peek(addr, f.pte_bytes()).unwrap();
            if f.flags(pte).v && !f.is_leaf(pte, l) {
                table = f.pfn_address(pte);
            } else {
                let t = self.next;
                self.next += self.table_bytes(l - 1);
                mem.store(addr, f.pte_bytes(), self.pointer(t)).unwrap();
                table = t;
            }
            l -= 1;
        }
    }

    /// Writes a raw PTE at `level` for `va`; returns its address.
    pub fn set(&mut self, mem: &mut SparseMemory, va: u64, level: u8, raw: u64) -> u64 {
        let addr = self.slot(mem, va, level);
        mem.store(addr, self.fmt.pte_bytes(), raw).unwrap();
        addr
    }

    /// Maps the page containing `va` at `level` to `pa`; returns the leaf's address.
    pub fn map(&mut self, mem: &mut SparseMemory, va: u64, pa: u64, level: u8, flags: u64) -> u64 {
        let raw = self.leaf(pa, flags);
        self.set(mem, va, level, raw)
    }

    /// The PTE address at `level` along the existing path of `va` (no allocation).
    pub fn pte_addr(&self, mem: &SparseMemory, va: u64, level: u8) -> u64 {
        let f = &self.fmt;
        let mut table = self.root;
        let mut l = f.levels() - 1;
        loop {
            let addr = table + f.index(va, l) * f.pte_bytes() as u64;
            if l == level {
                return addr;
            }
            table = f.pfn_address(mem.peek(addr, f.pte_bytes()).unwrap());
            l -= 1;
        }
    }
}

/// A large sparse memory with latency [`MEM_LAT`].
pub fn memory() -> SparseMemory {
    SparseMemory::new(1 << 56, Cycle(MEM_LAT))
}

/// A unit with `cfg`, already in `mode`.
pub fn mmu_in(cfg: MmuConfig, mode: Mode) -> Mmu {
    let mut m = Mmu::new(cfg).unwrap();
    m.set_mode(mode).unwrap();
    m
}

/// The value of one named statistic (panics if the name is not listed).
pub fn stat(m: &Mmu, name: &str) -> u64 {
    m.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no statistic named {name}"))
        .1
}

/// The statistic, or 0 when it is not listed (page sizes appear only once counted).
pub fn stat_or0(m: &Mmu, name: &str) -> u64 {
    m.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or(0, |(_, v)| v)
}

/// The page-fault reason and level of a failed translation, or panics.
pub fn page_fault(r: Result<Translation, Faulted>) -> (PageFaultReason, u8) {
    match r {
        Err(Faulted {
            fault: Fault::Page { reason, level, .. },
            ..
        }) => (reason, level),
        other => panic!("expected a page fault, got {other:?}"),
    }
}

/// A request of `kind` and `size` in `ctx`.
pub fn req(kind: AccessKind, va: u64, ctx: Context) -> Request {
    let size = if kind == AccessKind::Fetch { 4 } else { 1 };
    Request::new(va, kind, size, ctx)
}

#[allow(unused_imports)]
pub use AccessKind::{Fetch, Load, Store};
