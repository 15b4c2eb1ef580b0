//! The contiguous schemes: fixed partitioning and dynamic partitioning, both relocating a
//! process with the base-and-bounds registers (`vmbase`, `vmbounds`, `vmmode = 1`).
//!
//! A process's address space is one contiguous range of virtual addresses `[0, size)`:
//! its program from address 0 up (below the lowest segment is unused space), then a heap of
//! `os.heap_reserve` bytes, then a stack of `os.stack_size` bytes at the top. Under base and
//! bounds the MMU adds the base to every address below the bound and refuses any other, so
//! the kernel can catch an access beyond the bound but not a store into text or a jump into
//! data: base and bounds has no per-area permissions (`docs/schemes/`).
//!
//! At admission the process gets memory — under fixed partitioning the best-fitting free
//! partition, under dynamic partitioning a hole chosen by `os.fit`, compacting memory first
//! when the holes together would hold it — and its image is read from the disk into it in
//! one request; the rest of its memory is zeroed. A process that fits nowhere now waits, and
//! one that could never fit is refused.

use crate::config::{OsConfig, SchemeKind};
use crate::hw::Hw;
use crate::image::Image;
use crate::paging::{Admit, Finished, Outcome, Tag};
use crate::partition::Partitions;
use crate::placement::{FragmentationPeaks, Memory};
use crate::process::{Access, AddressSpace, Kill, Pid, Process};
use crate::scheme::{Cx, Forked, Layout, Scheme, UserAddr};
use crate::services::{DiskDriver, DiskOp, Done, Event, Moved, Request, Services};
use std::collections::BTreeMap;
use vmlab_cpu::vmcsr::addr as vm;

/// The placement granule: partitions and blocks start on 4 KiB boundaries.
pub const GRANULE: u64 = 4096;

/// Where one process lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    /// The physical base (the base register).
    base: u64,
    /// The size of its address space (the bound).
    size: u64,
    /// The partition's index (fixed partitioning).
    partition: Option<usize>,
    /// The image read is under way.
    loading: bool,
}

/// The contiguous schemes' counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContigStats {
    /// Processes placed.
    pub placements: u64,
    /// Admissions that had to wait for memory.
    pub waits: u64,
    /// The most internal fragmentation (fixed partitioning) seen at once.
    pub internal_peak: u64,
    /// The worst fragmentation seen (dynamic placement).
    pub peaks: FragmentationPeaks,
    /// Compactions.
    pub compactions: u64,
    /// Bytes compaction copied.
    pub bytes_moved: u64,
    /// Cycles compaction took.
    pub compaction_cycles: u64,
    /// Forks served (a child placed and filled with a copy of its parent).
    pub forks: u64,
    /// Bytes forks copied from a parent's memory into its child's.
    pub fork_bytes: u64,
    /// Cycles forks took: finding the child's memory (compacting, if it had to) and the
    /// copy.
    pub fork_cycles: u64,
}

enum Pool {
    Fixed(Partitions),
    Dynamic(Memory),
}

/// The contiguous schemes' state.
pub struct Contig {
    pool: Pool,
    compaction: bool,
    places: BTreeMap<Pid, Place>,
    /// Each process's image on the disk: first block and block count.
    images: BTreeMap<Pid, (u64, u64)>,
    /// The images `execve` placed, by a hash of their bytes: each distinct program is
    /// written to the disk once (first block, blocks).
    exec_images: BTreeMap<u64, (u64, u64)>,
    next_block: u64,
    /// Where the blocks the file system took from the end of the disk begin (the swap
    /// area stops there).
    disk_end: Option<u64>,
    block_size: u64,
    stats: ContigStats,
}

impl Contig {
    /// The scheme for `cfg` over user memory `[base, base + size)`.
    pub fn new(cfg: &OsConfig, base: u64, size: u64) -> Result<Contig, String> {
        let base = base.next_multiple_of(GRANULE);
        let size = size / GRANULE * GRANULE;
        let pool = match cfg.scheme {
            SchemeKind::FixedPartitions => {
                let p = if cfg.partitions.is_empty() {
                    Partitions::equal(base, size / 4 / GRANULE * GRANULE * 4, 4)
                } else {
                    let total: u64 = cfg.partitions.iter().sum();
                    if total > size {
                        return Err(format!(
                            "os.partitions add up to {total} bytes, but user memory holds {size}; shrink them or enlarge memory.ram.size"
                        ));
                    }
                    if let Some(bad) = cfg.partitions.iter().find(|s| **s % GRANULE != 0) {
                        return Err(format!(
                            "os.partitions lists {bad} bytes; partitions are whole multiples of {GRANULE} bytes"
                        ));
                    }
                    Partitions::new(base, &cfg.partitions)
                };
                Pool::Fixed(p.map_err(|e| format!("os.partitions: {e}"))?)
            }
            _ => Pool::Dynamic(
                Memory::with_granule(base, size, cfg.fit, GRANULE)
                    .map_err(|e| format!("user memory: {e}"))?,
            ),
        };
        Ok(Contig {
            pool,
            compaction: cfg.compaction,
            places: BTreeMap::new(),
            images: BTreeMap::new(),
            exec_images: BTreeMap::new(),
            next_block: 0,
            disk_end: None,
            block_size: 0,
            stats: ContigStats::default(),
        })
    }

    /// The size of a process's address space: its program from 0, the heap reserve, the
    /// stack, rounded up to the granule and the disk's block size.
    pub fn space_size(image: &Image, cfg: &OsConfig) -> u64 {
        let program = image.end().next_multiple_of(16);
        (program + cfg.heap_reserve + cfg.stack_size.next_multiple_of(16)).next_multiple_of(GRANULE)
    }

    /// Writes `image` onto the disk as it lies in memory from address 0 (at boot).
    pub fn place_image(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        let bytes = self.image_bytes(disk, image)?;
        let count = bytes.len() as u64 / disk.block_size;
        if self.next_block + count > disk.blocks {
            return Err(format!(
                "the disk ({} blocks of {} bytes) is too small for the programs' images; enlarge memory.diskctl.disk",
                disk.blocks, disk.block_size
            ));
        }
        hw.disk_preload(self.next_block, &bytes)?;
        self.images.insert(pid, (self.next_block, count));
        self.next_block += count;
        Ok(())
    }

    /// The bytes of `image` from address 0 to its end, in whole blocks of `disk` (how a
    /// partition holds a program: it is loaded at the partition's base).
    fn image_bytes(&mut self, disk: &DiskDriver<Tag>, image: &Image) -> Result<Vec<u8>, String> {
        if disk.block_size == 0 {
            return Err("the programs' images live on the disk; enable memory.diskctl".into());
        }
        self.block_size = disk.block_size;
        let end = image.end();
        let mut bytes = vec![0u8; end.next_multiple_of(disk.block_size) as usize];
        for s in &image.segments {
            let at = s.vaddr as usize;
            bytes[at..at + s.data.len()].copy_from_slice(&s.data);
        }
        Ok(bytes)
    }

    /// Writes the image of the program `pid` is about to `execve` after the boot images
    /// (the same program once), for its admission to read.
    pub fn place_exec(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        let bytes = self.image_bytes(disk, image)?;
        let h = crate::scheme::fnv1a(&bytes);
        let placed = match self.exec_images.get(&h) {
            Some(&p) => p,
            None => {
                let count = bytes.len() as u64 / disk.block_size;
                let limit = self.disk_end.unwrap_or(disk.blocks);
                if self.next_block + count > limit {
                    return Err("the disk has no room for the program's image".into());
                }
                hw.disk_preload(self.next_block, &bytes)?;
                let p = (self.next_block, count);
                self.next_block += count;
                self.exec_images.insert(h, p);
                p
            }
        };
        self.images.insert(pid, placed);
        Ok(())
    }

    /// Finds memory for `pid` and starts reading its image into it.
    pub fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        let Some(size) = cx.mm(pid).map(|m| m.stack_top) else {
            return Admit::Refuse("no such process".into());
        };
        let placed = match &mut self.pool {
            Pool::Fixed(parts) => match parts.allocate(u64::from(pid), size) {
                Some(slot) => Some((slot.base, Some(slot.index))),
                None if parts.fits_any(size) => None,
                None => {
                    return Admit::Refuse(format!(
                        "it needs {size} bytes and the largest partition holds {}",
                        parts.largest()
                    ))
                }
            },
            Pool::Dynamic(mem) => {
                if size > mem.size() {
                    return Admit::Refuse(format!(
                        "it needs {size} bytes and user memory holds {}",
                        mem.size()
                    ));
                }
                match mem.allocate(u64::from(pid), size) {
                    Some(b) => Some((b, None)),
                    // (Not while an image is being read: its DMA would land at the old base.)
                    None if self.compaction
                        && mem.free_bytes() >= size
                        && !self.places.values().any(|p| p.loading) =>
                    {
                        self.compact(cx.sv, cx.hw, cx.procs);
                        match &mut self.pool {
                            Pool::Dynamic(mem) => {
                                mem.allocate(u64::from(pid), size).map(|b| (b, None))
                            }
                            Pool::Fixed(_) => None,
                        }
                    }
                    None => None,
                }
            }
        };
        let Some((base, partition)) = placed else {
            self.stats.waits += 1;
            return Admit::Wait;
        };
        self.stats.placements += 1;
        self.note_fragmentation();
        cx.sv.event(
            cx.hw,
            Event::Place {
                pid,
                what: if partition.is_some() {
                    "partition"
                } else {
                    "block"
                },
                base,
                size,
            },
        );
        // Zero what the image does not cover, then read the image.
        let (block, count) = self.images.get(&pid).copied().unwrap_or((0, 0));
        let image_bytes = count * self.block_size;
        if size > image_bytes {
            let ok = cx
                .hw
                .write_phys(base + image_bytes, &vec![0; (size - image_bytes) as usize]);
            debug_assert!(ok, "partitions lie in RAM");
            let c = cx
                .sv
                .cost()
                .zero_page
                .saturating_mul((size - image_bytes).div_ceil(GRANULE));
            cx.sv.charge(cx.hw, c);
        }
        // The initial stack (above the image, which the read does not reach).
        cx.fill_start(pid, 0, base, size);
        self.places.insert(
            pid,
            Place {
                base,
                size,
                partition,
                loading: count > 0,
            },
        );
        if count == 0 {
            return Admit::Ready;
        }
        let tag = Tag::Load {
            pid,
            vpn: 0,
            frame: base,
        };
        let req = Request {
            op: DiskOp::Read,
            block,
            count,
            pa: base,
            pid,
        };
        match cx.disk.start(cx.sv, cx.hw, req, tag) {
            Ok(_) => Admit::Loading,
            Err(e) => Admit::Refuse(format!("reading its image from the disk failed: {e}")),
        }
    }

    /// Packs every process toward the bottom of memory (a real, timed copy) and moves their
    /// base registers with them.
    fn compact(&mut self, sv: &mut Services, hw: &mut dyn Hw, procs: &[Process]) {
        let Pool::Dynamic(mem) = &mut self.pool else {
            return;
        };
        let start = hw.now();
        let plan = mem.compaction_plan();
        let mut bytes = 0;
        for m in &plan {
            hw.copy_phys_timed(m.from, m.to, m.size);
            let c = sv.cost().copy_byte.saturating_mul(m.size);
            sv.charge(hw, c);
            bytes += m.size;
            if let Some(p) = self.places.get_mut(&(m.owner as Pid)) {
                p.base = m.to;
            }
        }
        let _ = mem.apply_compaction(&plan);
        self.stats.compactions += 1;
        self.stats.bytes_moved += bytes;
        self.stats.compaction_cycles += hw.now() - start;
        sv.event(
            hw,
            Event::Compact {
                moves: plan.len() as u64,
                bytes,
                blocks: plan
                    .iter()
                    .map(|m| Moved {
                        pid: m.owner as Pid,
                        what: "block",
                        from: m.from,
                        to: m.to,
                        size: m.size,
                    })
                    .collect(),
            },
        );
        let _ = procs;
    }

    /// `fork`: gives `child` memory of `parent`'s size — under fixed partitioning the
    /// best-fitting free partition, under dynamic partitioning a hole chosen by `os.fit`
    /// (compacting first if the holes together would hold it and no image is being read,
    /// as admission does) — and copies the parent's whole address space into it with a
    /// timed copy. No room: `Forked::NoMemory` (the parent gets `ENOMEM`; it does not
    /// wait). Compaction may move the parent, which is running: its base register is loaded
    /// again.
    pub fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        let Some(pp) = self.places.get(&parent).copied() else {
            return Forked::NoMemory(format!("process {parent} has no memory"));
        };
        let size = pp.size;
        let start = cx.hw.now();
        let mut compacted = false;
        let placed = match &mut self.pool {
            Pool::Fixed(parts) => match parts.allocate(u64::from(child), size) {
                Some(slot) => Some((slot.base, Some(slot.index))),
                None => {
                    return Forked::NoMemory(format!(
                    "no free partition holds the child's {size} bytes ({} of {} partitions free)",
                    parts.free_count(),
                    parts.partitions().len()
                ))
                }
            },
            Pool::Dynamic(mem) => match mem.allocate(u64::from(child), size) {
                Some(b) => Some((b, None)),
                None if self.compaction
                    && mem.free_bytes() >= size
                    && !self.places.values().any(|p| p.loading) =>
                {
                    self.compact(cx.sv, cx.hw, cx.procs);
                    compacted = true;
                    match &mut self.pool {
                        Pool::Dynamic(mem) => {
                            mem.allocate(u64::from(child), size).map(|b| (b, None))
                        }
                        Pool::Fixed(_) => None,
                    }
                }
                None => None,
            },
        };
        let Some((base, partition)) = placed else {
            let free = match &self.pool {
                Pool::Dynamic(m) => m.fragmentation(),
                Pool::Fixed(_) => Default::default(),
            };
            return Forked::NoMemory(format!(
                "no hole holds the child's {size} bytes ({} bytes free, the largest hole {})",
                free.free_bytes, free.largest_hole
            ));
        };
        // The parent's base after any compaction.
        let from = self.places.get(&parent).map_or(pp.base, |p| p.base);
        if compacted {
            // The parent runs: its base register must follow its memory.
            let _ = Contig::activate(self, cx.hw, parent);
        }
        self.stats.placements += 1;
        self.note_fragmentation();
        cx.sv.event(
            cx.hw,
            Event::Place {
                pid: child,
                what: if partition.is_some() {
                    "partition"
                } else {
                    "block"
                },
                base,
                size,
            },
        );
        cx.hw.copy_phys_timed(from, base, size);
        let c = cx.sv.cost().copy_byte.saturating_mul(size);
        cx.sv.charge(cx.hw, c);
        self.places.insert(
            child,
            Place {
                base,
                size,
                partition,
                loading: false,
            },
        );
        self.stats.forks += 1;
        self.stats.fork_bytes += size;
        self.stats.fork_cycles += cx.hw.now() - start;
        Forked::Ready
    }

    fn note_fragmentation(&mut self) {
        match &self.pool {
            Pool::Fixed(p) => {
                self.stats.internal_peak = self.stats.internal_peak.max(p.internal_fragmentation())
            }
            Pool::Dynamic(m) => {
                self.stats.peaks.note(&m.fragmentation());
            }
        }
    }

    /// Loads `pid`'s base and bound (a context switch); the bound register last but one,
    /// and the mode last, as docs/csr.md advises.
    pub fn activate(&self, hw: &mut dyn Hw, pid: Pid) -> Result<(), String> {
        let Some(p) = self.places.get(&pid) else {
            return Err(format!("process {pid} has no memory"));
        };
        hw.write_csr(vm::VMMODE, 0)?;
        hw.write_csr(vm::VMBASE, p.base)?;
        hw.write_csr(vm::VMBOUNDS, p.size)?;
        hw.write_csr(vm::VMMODE, 1)
    }

    /// A fault under base and bounds: the access was beyond the bound (nothing else
    /// faults), so the process dies.
    pub fn fault(
        &self,
        pid: Pid,
        va: u64,
        access: Access,
        pc: u64,
        scheme: &'static str,
    ) -> Outcome {
        let (base, size) = self.places.get(&pid).map_or((0, 0), |p| (p.base, p.size));
        Outcome::Kill(Kill {
            addr: va,
            pc,
            access: Some(access),
            cause: "bounds",
            scheme,
            detail: format!(
                "the address space is [0, {size:#x}) (base {base:#x}, bound {size:#x}) and this is beyond the bound"
            ),
        })
    }

    /// The image read finished: the process may run, or, if the read failed on every try,
    /// it dies (SIGBUS, with the disk's error).
    pub fn disk_done(&mut self, done: Done<Tag>) -> Finished {
        let mut f = Finished::default();
        let Tag::Load { pid, .. } = done.tag else {
            return f;
        };
        let Some(p) = self.places.get_mut(&pid) else {
            return f;
        };
        p.loading = false;
        match done.result {
            Ok(()) => f.woken.push(pid),
            Err(e) => f.killed.push((
                pid,
                Kill {
                    addr: 0,
                    pc: 0,
                    access: None,
                    cause: "io-error",
                    scheme: self.scheme_name(),
                    detail: format!(
                        "reading its image from disk block {} failed: {e}",
                        done.request.block
                    ),
                },
            )),
        }
        f
    }

    /// The physical address of `va` in `pid`'s space, if it lies below the bound.
    pub fn user_pa(&self, pid: Pid, va: u64) -> Option<u64> {
        let p = self.places.get(&pid)?;
        (va < p.size).then(|| p.base + va)
    }

    /// Frees `pid`'s memory.
    pub fn release(&mut self, pid: Pid) {
        let Some(p) = self.places.remove(&pid) else {
            return;
        };
        match &mut self.pool {
            Pool::Fixed(parts) => {
                if let Some(i) = p.partition {
                    let _ = parts.free(i);
                }
            }
            Pool::Dynamic(mem) => {
                let _ = mem.free(p.base);
            }
        }
        self.note_fragmentation();
        // A read still under way lands in memory that is free again; nothing maps it.
    }

    fn scheme_name(&self) -> &'static str {
        match self.pool {
            Pool::Fixed(_) => SchemeKind::FixedPartitions.name(),
            Pool::Dynamic(_) => SchemeKind::DynamicPartitions.name(),
        }
    }

    /// Walks the scheme's counters: `os.partitions.NAME` or `os.dynamic.NAME`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        let s = &self.stats;
        match &self.pool {
            Pool::Fixed(p) => {
                let busy = p
                    .partitions()
                    .iter()
                    .filter(|x| x.occupant.is_some())
                    .count();
                for (n, v) in [
                    ("count", p.partitions().len() as u64),
                    ("busy", busy as u64),
                    ("internal_fragmentation", p.internal_fragmentation()),
                    ("internal_fragmentation_peak", s.internal_peak),
                    ("placements", s.placements),
                    ("waits", s.waits),
                    ("forks", s.forks),
                    ("fork_bytes", s.fork_bytes),
                    ("fork_cycles", s.fork_cycles),
                ] {
                    f(&format!("os.partitions.{n}"), v);
                }
            }
            Pool::Dynamic(m) => {
                let fr = m.fragmentation();
                let ps = m.stats();
                for (n, v) in [
                    ("free_bytes", fr.free_bytes),
                    ("holes", fr.holes),
                    ("largest_hole", fr.largest_hole),
                    ("external_fragmentation_permille", fr.external_permille()),
                    (
                        "external_fragmentation_peak_permille",
                        s.peaks.external_permille,
                    ),
                    ("holes_peak", s.peaks.holes),
                    ("placements", s.placements),
                    ("waits", s.waits),
                    ("holes_examined", ps.holes_examined),
                    ("coalesces", ps.coalesces),
                    ("compactions", s.compactions),
                    ("bytes_moved", s.bytes_moved),
                    ("compaction_cycles", s.compaction_cycles),
                    ("forks", s.forks),
                    ("fork_bytes", s.fork_bytes),
                    ("fork_cycles", s.fork_cycles),
                ] {
                    f(&format!("os.dynamic.{n}"), v);
                }
            }
        }
    }
}

impl Scheme for Contig {
    fn kind(&self) -> SchemeKind {
        match self.pool {
            Pool::Fixed(_) => SchemeKind::FixedPartitions,
            Pool::Dynamic(_) => SchemeKind::DynamicPartitions,
        }
    }

    /// One range `[0, size)`: the program, the heap reserve, the stack at the top.
    fn layout(&self, cfg: &OsConfig, image: &Image) -> Result<Layout, String> {
        let size = Contig::space_size(image, cfg);
        let stack_start = size - cfg.stack_size.next_multiple_of(16);
        Ok(Layout {
            heap_start: image.end().next_multiple_of(16),
            brk_limit: stack_start,
            stack_top: size,
            stack_start,
            stack_floor: stack_start,
        })
    }

    fn place_image(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        Contig::place_image(self, hw, disk, pid, image)
    }

    fn place_exec(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        _space: crate::process::SpaceId,
        image: &Image,
    ) -> Result<(), String> {
        Contig::place_exec(self, hw, disk, pid, image)
    }

    fn reserve_disk(&mut self, disk: &DiskDriver<Tag>, blocks: u64) -> Option<(u64, u64)> {
        // From the end of the disk: the swap area keeps its place right after the images.
        crate::scheme::reserve_from_end(self.next_block, &mut self.disk_end, disk.blocks, blocks)
    }

    fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        Contig::admit(self, cx, pid)
    }

    fn activate(&mut self, hw: &mut dyn Hw, pid: Pid, _asid: u16) -> Result<(), String> {
        Contig::activate(self, hw, pid)
    }

    fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        Contig::fork(self, cx, parent, child)
    }

    fn fault(&mut self, _cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome {
        Contig::fault(self, pid, va, access, pc, self.scheme_name())
    }

    fn disk_done(&mut self, _cx: &mut Cx, done: Done<Tag>) -> Finished {
        Contig::disk_done(self, done)
    }

    fn release(&mut self, cx: &mut Cx, pid: Pid) {
        if let Some(p) = self.places.get(&pid) {
            let what = if p.partition.is_some() {
                "partition"
            } else {
                "block"
            };
            let (base, size) = (p.base, p.size);
            cx.sv.event(
                cx.hw,
                Event::Release {
                    pid,
                    what,
                    base,
                    size,
                },
            );
        }
        Contig::release(self, pid)
    }

    fn resident_bytes(&self, pid: Pid) -> u64 {
        self.places.get(&pid).map_or(0, |p| p.size)
    }

    fn partitions(&self) -> Vec<(u64, u64)> {
        match &self.pool {
            Pool::Fixed(parts) => parts
                .partitions()
                .iter()
                .map(|p| (p.base, p.size))
                .collect(),
            Pool::Dynamic(_) => Vec::new(),
        }
    }

    /// Base and bounds has no per-area permissions: everything below the bound is the
    /// process's.
    fn user_addr(
        &self,
        _hw: &dyn Hw,
        _mm: Option<&AddressSpace>,
        pid: Pid,
        va: u64,
        _access: Access,
    ) -> UserAddr {
        match (self.user_pa(pid, va), self.places.get(&pid)) {
            (Some(pa), Some(p)) => UserAddr::Mapped {
                pa,
                len: p.size - va,
            },
            _ => UserAddr::Invalid,
        }
    }

    /// The heap was reserved when the process was placed: moving the break costs nothing.
    fn set_brk(&mut self, _cx: &mut Cx, _pid: Pid, _old: u64, new: u64) -> Option<u64> {
        Some(self.heap_end(new))
    }

    fn heap_end(&self, brk: u64) -> u64 {
        brk.next_multiple_of(16)
    }

    fn free_bytes(&self) -> Option<u64> {
        match &self.pool {
            Pool::Dynamic(m) => Some(m.free_bytes()),
            Pool::Fixed(_) => None,
        }
    }

    fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        Contig::for_each_stat(self, f)
    }
}
