//! The segmentation schemes: simple segmentation (every segment placed and loaded at
//! start) and virtual-memory segmentation (segments brought in whole on a
//! segment-not-present fault and swapped out whole to make room).
//!
//! A process's address space is 32 bits wide and its top two bits select one of four
//! segment registers (`vmsegcfg`: 2 selector bits, 32-bit addresses), so each segment spans
//! 1 GiB of virtual addresses:
//!
//! | segment | virtual addresses | holds | permissions |
//! |---|---|---|---|
//! | 0 | `0x0000_0000..` | text and read-only data | `r-x` |
//! | 1 | `0x4000_0000..` | data and bss | `rw-` |
//! | 2 | `0x8000_0000..` | the heap (`brk`) | `rw-` |
//! | 3 | `..0x1_0000_0000` | the stack, growing down | `rw-` |
//!
//! (vmlab's assembler links a hosted program that way under these schemes: `.text` at 0,
//! the writable sections at `0x4000_0000`.) Each segment is one contiguous block of physical
//! memory, placed in a hole by `os.fit`; its register holds the block's base, the segment's
//! limit and its permissions, so the MMU checks every access against the limit and the
//! permissions: a store into text, a fetch from data, an offset beyond a segment's end all
//! fault, and the kernel kills the process with the exact cause.

use crate::config::{OsConfig, SchemeKind};
use crate::hw::Hw;
use crate::image::{Image, Perm};
use crate::paging::{Admit, Finished, Outcome, Tag};
use crate::placement::{FragmentationPeaks, Memory};
use crate::process::{Access, AddressSpace, Kill, Pid, State};
use crate::replace::{NoBits, Replacer};
use crate::scheme::{Cx, Forked, Layout, Scheme, UserAddr};
use crate::services::{DiskDriver, DiskOp, Done, Event, Request, Services};
use crate::wait::WaitOn;
use std::collections::BTreeMap;
use vmlab_cpu::vmcsr::{addr as vm, seg as flag};

/// The size of one segment's range of virtual addresses.
pub const SEGMENT_SIZE: u64 = 1 << 30;
/// The width of a virtual address under segmentation.
pub const VA_BITS: u64 = 32;
/// The segment numbers.
pub const TEXT: usize = 0;
/// The data segment.
pub const DATA: usize = 1;
/// The heap segment.
pub const HEAP: usize = 2;
/// The stack segment.
pub const STACK: usize = 3;
/// The segments' names, for reports.
pub const NAMES: [&str; 4] = ["text", "data", "heap", "stack"];
/// Segments are placed on 16-byte boundaries.
pub const GRANULE: u64 = 16;

/// What a finished disk transfer was for (segmentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegTag {
    /// A segment read into memory (its image at start, or a bring-in).
    In {
        /// The owner.
        pid: Pid,
        /// The segment.
        seg: usize,
        /// The memory block it went to.
        block: u64,
    },
    /// A segment written to its swap copy; then its block is free, and `then` may fit.
    Out {
        /// The owner.
        pid: Pid,
        /// The segment.
        seg: usize,
        /// The memory block it left.
        block: u64,
        /// The segment waiting for room.
        then: Option<(Pid, usize)>,
    },
}

/// One segment of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Seg {
    /// The physical block holding it (in memory, or being read into).
    block: Option<u64>,
    /// Bytes allocated for it.
    alloc: u64,
    /// Valid bytes (the limit register).
    limit: u64,
    /// In memory and usable.
    present: bool,
    /// Permissions.
    perm: Perm,
    /// Its swap copy's first block, once written out.
    swap: Option<u64>,
    /// Its image on the disk: first block and block count.
    image: Option<(u64, u64)>,
    /// A transfer is under way.
    busy: bool,
}

#[derive(Clone, Debug, Default)]
struct Space {
    segs: [Seg; 4],
    loading: u32,
}

/// The segmentation schemes' counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegStats {
    /// Segments placed in memory.
    pub placements: u64,
    /// Admissions that had to wait for memory.
    pub waits: u64,
    /// Segments brought in on a fault.
    pub segments_in: u64,
    /// Segments taken out to make room.
    pub segments_out: u64,
    /// Bytes read in for bring-ins.
    pub bytes_in: u64,
    /// Bytes written out.
    pub bytes_out: u64,
    /// The worst fragmentation seen (dynamic placement).
    pub peaks: FragmentationPeaks,
    /// Forks served.
    pub forks: u64,
    /// Text segments a fork shared between parent and child (one block, two registers).
    pub text_shared: u64,
    /// Writable segments a fork copied into a block of the child's own.
    pub segments_copied: u64,
    /// Bytes those copies moved.
    pub fork_bytes: u64,
    /// Swap copies a fork shared (a swapped-out segment both processes hold on the disk).
    pub swap_shared: u64,
    /// Cycles forks took (finding blocks, evicting clean text for room, the copies).
    pub fork_cycles: u64,
    /// Shared text blocks taken out of memory (from every holder at once).
    pub shared_text_out: u64,
    /// Write-outs that took a fresh swap copy because a fork shares the segment's old one.
    pub swap_unshared: u64,
}

/// The segmentation schemes' state.
pub struct Segments {
    vm: bool,
    mem: Memory,
    /// The swap area, in blocks (a block-granular hole list).
    swap: Option<Memory>,
    spaces: BTreeMap<Pid, Space>,
    /// Text blocks that several processes map (after a fork): how many do. A block not
    /// listed has one holder.
    text_sharers: BTreeMap<u64, u32>,
    /// Swap copies that several segments hold (after a fork): how many do. A copy not
    /// listed has one holder.
    swap_holders: BTreeMap<u64, u32>,
    /// The policy's state: one key per block in memory (a shared text block has the key of
    /// one of its holders).
    repl: Replacer,
    /// Segments waiting for room that a write-out under way will free (retried, in order,
    /// whenever one completes).
    room_waiters: Vec<(Pid, usize)>,
    next_block: u64,
    /// Where the blocks the file system took from the end of the disk begin (the swap
    /// area stops there).
    disk_end: Option<u64>,
    block_size: u64,
    stats: SegStats,
}

impl Segments {
    /// The scheme for `cfg` over user memory `[base, base + size)`.
    pub fn new(cfg: &OsConfig, base: u64, size: u64) -> Result<Segments, String> {
        let base = base.next_multiple_of(GRANULE);
        let size = size / GRANULE * GRANULE;
        Ok(Segments {
            vm: cfg.scheme == SchemeKind::VmSegmentation,
            mem: Memory::with_granule(base, size, cfg.fit, GRANULE)
                .map_err(|e| format!("user memory: {e}"))?,
            swap: None,
            spaces: BTreeMap::new(),
            text_sharers: BTreeMap::new(),
            swap_holders: BTreeMap::new(),
            repl: Replacer::new(cfg.policy, cfg.seed),
            room_waiters: Vec::new(),
            next_block: 0,
            disk_end: None,
            block_size: 0,
            stats: SegStats::default(),
        })
    }

    fn scheme(&self) -> &'static str {
        if self.vm {
            "vm-segmentation"
        } else {
            "simple-segmentation"
        }
    }

    /// Checks that `image` is linked for segments (text in segment 0, data in segment 1)
    /// and writes its two segments onto the disk (at boot).
    pub fn place_image<T>(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<T>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        if disk.block_size == 0 {
            return Err("the programs' images live on the disk; enable memory.diskctl".into());
        }
        self.block_size = disk.block_size;
        let mut bytes: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        for s in &image.segments {
            let seg = (s.vaddr / SEGMENT_SIZE) as usize;
            let want = if s.perm.write { DATA } else { TEXT };
            if seg != want || (s.end() - 1) / SEGMENT_SIZE != seg as u64 {
                return Err(format!(
                    "{}: the segment at {:#x} ({}) does not lie in the {} segment [{:#x}, {:#x}); the segmentation schemes need text below 0x4000_0000 and data from 0x4000_0000 (vmlab's assembler links .s files so under these schemes)",
                    image.name,
                    s.vaddr,
                    s.perm.text(),
                    NAMES[want],
                    want as u64 * SEGMENT_SIZE,
                    (want as u64 + 1) * SEGMENT_SIZE
                ));
            }
            let off = (s.vaddr - seg as u64 * SEGMENT_SIZE) as usize;
            let b = &mut bytes[seg];
            if b.len() < off + s.data.len() {
                b.resize(off + s.data.len(), 0);
            }
            b[off..off + s.data.len()].copy_from_slice(&s.data);
        }
        let space = self.spaces.entry(pid).or_default();
        for (seg, b) in bytes.iter_mut().enumerate() {
            if b.is_empty() {
                continue;
            }
            b.resize(b.len().next_multiple_of(disk.block_size as usize), 0);
            let count = b.len() as u64 / disk.block_size;
            if self.next_block + count > disk.blocks {
                return Err(format!(
                    "the disk ({} blocks of {} bytes) is too small for the programs' images; enlarge memory.diskctl.disk",
                    disk.blocks, disk.block_size
                ));
            }
            hw.disk_preload(self.next_block, b)?;
            space.segs[seg].image = Some((self.next_block, count));
            self.next_block += count;
        }
        Ok(())
    }

    /// Lays out the swap area on the rest of the disk.
    pub fn layout_swap<T>(&mut self, disk: &DiskDriver<T>) {
        let blocks = self
            .disk_end
            .unwrap_or(disk.blocks)
            .saturating_sub(self.next_block);
        self.swap = Memory::new(self.next_block, blocks, crate::placement::Fit::First).ok();
    }

    /// Sets up `pid`'s segments from its areas; simple segmentation places and loads them.
    pub fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        let (stack_size, heap_reserve) = (cx.sv.cfg.stack_size, cx.sv.cfg.heap_reserve);
        let Some(p) = cx.mm(pid) else {
            return Admit::Refuse("no such process".into());
        };
        let end_in = |seg: usize| {
            p.areas
                .iter()
                .filter(|a| (a.start / SEGMENT_SIZE) as usize == seg)
                .map(|a| a.end - seg as u64 * SEGMENT_SIZE)
                .max()
                .unwrap_or(0)
        };
        let space = self.spaces.entry(pid).or_default();
        let limits = [
            end_in(TEXT),
            end_in(DATA),
            0,
            stack_size.next_multiple_of(GRANULE),
        ];
        let allocs = [
            limits[0],
            limits[1],
            heap_reserve.next_multiple_of(GRANULE),
            limits[3],
        ];
        // A segment's memory is whole disk blocks: it moves to and from the disk by DMA,
        // which transfers whole blocks (the rounding is internal waste).
        let unit = self.block_size.max(GRANULE);
        for s in 0..4 {
            let g = &mut space.segs[s];
            g.limit = limits[s];
            g.alloc = allocs[s].next_multiple_of(unit);
            g.perm = if s == TEXT { Perm::RX } else { Perm::RW };
        }
        if self.vm {
            // Everything starts on the disk (or as nothing yet); the first touch of each
            // segment brings it in.
            return Admit::Ready;
        }
        let total: u64 = self.spaces[&pid].segs.iter().map(|g| g.alloc).sum();
        if total > self.mem.size() {
            return Admit::Refuse(format!(
                "its segments need {total} bytes and user memory holds {}",
                self.mem.size()
            ));
        }
        let mut placed = Vec::new();
        for s in 0..4 {
            let a = self.spaces[&pid].segs[s].alloc;
            if a == 0 {
                continue;
            }
            match self.mem.allocate(seg_owner(pid, s), a) {
                Some(b) => placed.push((s, b)),
                None => {
                    for (_, b) in placed {
                        let _ = self.mem.free(b);
                    }
                    self.stats.waits += 1;
                    return Admit::Wait;
                }
            }
        }
        let mut loading = 0;
        for (s, block) in placed {
            self.stats.placements += 1;
            if self.start_in(cx.sv, cx.hw, cx.disk, pid, s, block) {
                loading += 1;
            } else {
                self.fill_stack_start(cx, pid, s, block);
            }
        }
        self.note();
        if let Some(sp) = self.spaces.get_mut(&pid) {
            sp.loading = loading;
        }
        if loading > 0 {
            Admit::Loading
        } else {
            Admit::Ready
        }
    }

    /// Fills `block` for segment `s` of `pid`: a disk read (true: wait for it) from its swap
    /// copy or its image, or zeros (false: it is present now).
    /// A stack segment made afresh at `block` gets the initial stack's bytes (a segment
    /// that came back from swap has them already).
    fn fill_stack_start(&self, cx: &mut Cx, pid: Pid, s: usize, block: u64) {
        let Some(g) = self.spaces.get(&pid).map(|sp| sp.segs[s]) else {
            return;
        };
        if s != STACK || g.swap.is_some() {
            return;
        }
        let va = STACK as u64 * SEGMENT_SIZE + SEGMENT_SIZE - g.alloc;
        cx.fill_start(pid, va, block, g.alloc);
    }

    fn start_in(
        &mut self,
        sv: &mut Services,
        hw: &mut dyn Hw,
        disk: &mut DiskDriver<Tag>,
        pid: Pid,
        s: usize,
        block: u64,
    ) -> bool {
        let Some(g) = self.spaces.get_mut(&pid).map(|sp| &mut sp.segs[s]) else {
            return false;
        };
        g.block = Some(block);
        let blocks = g.alloc.div_ceil(self.block_size.max(1));
        let from = g.swap.map(|b| (b, blocks)).or(g.image);
        let what = seg_name(s);
        sv.event(
            hw,
            Event::Place {
                pid,
                what,
                base: block,
                size: g.alloc,
            },
        );
        // Zero what the disk does not fill.
        let filled = from.map_or(0, |(_, n)| n * self.block_size);
        if g.alloc > filled {
            let ok = hw.write_phys(block + filled, &vec![0; (g.alloc - filled) as usize]);
            debug_assert!(ok);
            let c = sv
                .cost()
                .zero_page
                .saturating_mul((g.alloc - filled).div_ceil(4096));
            sv.charge(hw, c);
        }
        let Some((first, count)) = from else {
            g.present = true;
            g.busy = false;
            self.repl.inserted(seg_owner(pid, s));
            return false;
        };
        // (Allocations are whole blocks and hold the whole image, so the read fits.)
        let count = count.min(g.alloc / self.block_size.max(1));
        g.busy = true;
        let tag = Tag::Seg(SegTag::In { pid, seg: s, block });
        let req = Request {
            op: DiskOp::Read,
            block: first,
            count,
            pa: block,
            pid,
        };
        // (A refused read is reported by the next poll, as failed reads are.)
        disk.start_or_report(sv, hw, req, tag);
        true
    }

    fn note(&mut self) {
        self.stats.peaks.note(&self.mem.fragmentation());
    }

    /// Loads `pid`'s segment registers (a context switch, or after its segments changed).
    pub fn activate(&self, hw: &mut dyn Hw, pid: Pid) -> Result<(), String> {
        let Some(sp) = self.spaces.get(&pid) else {
            return Err(format!("process {pid} has no segments"));
        };
        hw.write_csr(vm::VMMODE, 0)?;
        hw.write_csr(vm::VMSEGCFG, 2 | VA_BITS << 8)?;
        for (i, g) in sp.segs.iter().enumerate() {
            let present = g.present && g.block.is_some();
            let mut flags = flag::U;
            if g.perm.read {
                flags |= flag::R;
            }
            if g.perm.write {
                flags |= flag::W;
            }
            if g.perm.exec {
                flags |= flag::X;
            }
            if present {
                flags |= flag::PRESENT;
            }
            let base = g.block.unwrap_or(0);
            let (base, limit) = if i == STACK {
                flags |= flag::GROWS_DOWN;
                // Grows down: the register's base is one past the top byte.
                (base + g.alloc, g.limit)
            } else {
                (base, g.limit)
            };
            hw.write_csr(vm::VMSEGSEL, i as u64)?;
            hw.write_csr(vm::VMSEGBASE, base)?;
            hw.write_csr(vm::VMSEGLIMIT, limit)?;
            hw.write_csr(vm::VMSEGFLAGS, flags)?;
        }
        hw.write_csr(vm::VMMODE, 2)
    }

    /// A fault of `pid` at `va`: bring a not-present segment in (virtual-memory
    /// segmentation), or kill the process with the exact cause.
    pub fn fault(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome {
        let scheme = self.scheme();
        let kill = |cause: &'static str, detail: String| {
            Outcome::Kill(Kill {
                addr: va,
                pc,
                access: Some(access),
                cause,
                scheme,
                detail,
            })
        };
        if va >> VA_BITS != 0 {
            return kill(
                "no-mapping",
                format!("segmented addresses are {VA_BITS} bits wide; this one is wider"),
            );
        }
        let s = (va / SEGMENT_SIZE) as usize;
        let off = va % SEGMENT_SIZE;
        let Some(g) = self.spaces.get(&pid).map(|sp| sp.segs[s]) else {
            return Outcome::Resume;
        };
        if !access.allowed_by(g.perm) {
            let what = access.verb();
            return kill(
                "permission",
                format!(
                    "{what} in the {} segment (segment {s}), which is {}",
                    NAMES[s],
                    g.perm.text()
                ),
            );
        }
        let inside = if s == STACK {
            off >= SEGMENT_SIZE - g.limit
        } else {
            off < g.limit
        };
        if !inside {
            let range = if s == STACK {
                format!("[{:#x}, {:#x})", SEGMENT_SIZE - g.limit, SEGMENT_SIZE)
            } else {
                format!("[0, {:#x})", g.limit)
            };
            return kill(
                "segment-limit",
                format!(
                    "offset {off:#x} in the {} segment (segment {s}) is outside its valid offsets {range}",
                    NAMES[s]
                ),
            );
        }
        if g.present {
            // Nothing to do (the registers were stale): load them again.
            let _ = Segments::activate(self, cx.hw, pid);
            return Outcome::Resume;
        }
        if !self.vm {
            return kill(
                "segment-limit",
                format!("the {} segment is not in memory", NAMES[s]),
            );
        }
        if g.busy {
            cx.waits.wait(pid, seg_wait(pid, s));
            return Outcome::Block;
        }
        let outcome = self.bring_in(cx, pid, s);
        let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) else {
            return Outcome::Resume;
        };
        match outcome {
            Ok(true) => {
                cx.waits.wait(pid, seg_wait(pid, s));
                cx.fault(pi, pid, va, access, "major");
                Outcome::Block
            }
            Ok(false) => {
                cx.fault(pi, pid, va, access, "minor");
                let _ = Segments::activate(self, cx.hw, pid);
                Outcome::Resume
            }
            Err(detail) => kill("out-of-memory", detail),
        }
    }

    /// Finds room for segment `s` of `pid` and fills it. `Ok(true)`: the process waits for
    /// the disk (a read, or a write-out that makes room first); `Ok(false)`: present now.
    fn bring_in(&mut self, cx: &mut Cx, pid: Pid, s: usize) -> Result<bool, String> {
        let alloc = self.spaces.get(&pid).map_or(0, |sp| sp.segs[s].alloc);
        if alloc > self.mem.size() {
            return Err(format!(
                "the {} segment needs {alloc} bytes and user memory holds {}",
                NAMES[s],
                self.mem.size()
            ));
        }
        loop {
            if let Some(block) = self.mem.allocate(seg_owner(pid, s), alloc) {
                self.stats.placements += 1;
                self.stats.segments_in += 1;
                self.stats.bytes_in += alloc;
                self.note();
                let wait = self.start_in(cx.sv, cx.hw, cx.disk, pid, s, block);
                if !wait {
                    self.fill_stack_start(cx, pid, s, block);
                }
                return Ok(wait);
            }
            // Make room: the policy's victim among the segments in memory.
            let c = cx.sv.cost().replace;
            cx.sv.charge(cx.hw, c);
            // The policy's choice, passing over the faulting process's own segments (and a
            // text it shares with others after a fork) while another process has one in
            // memory: evicting its text to bring in its data would leave the faulting
            // instruction unable ever to complete.
            let own_text = self.spaces.get(&pid).and_then(|sp| sp.segs[TEXT].block);
            let is_own = |p: Pid, s: usize, g: &Seg| {
                p == pid || (s == TEXT && g.block.is_some() && g.block == own_text)
            };
            let others = self.spaces.iter().any(|(&p, sp)| {
                sp.segs
                    .iter()
                    .enumerate()
                    .any(|(s, g)| g.present && !is_own(p, s, g))
            });
            let mut passed = Vec::new();
            let mut chosen = None;
            while let Some(v) = self.repl.victim(&mut NoBits, None) {
                let (vp, vs) = seg_unowner(v);
                let mine = self
                    .spaces
                    .get(&vp)
                    .is_some_and(|sp| is_own(vp, vs, &sp.segs[vs]));
                if others && mine {
                    passed.push(v);
                    continue;
                }
                chosen = Some(v);
                break;
            }
            for v in passed {
                self.repl.inserted(v);
            }
            let Some(victim) = chosen.or_else(|| self.repl.victim(&mut NoBits, None)) else {
                // Room may be coming: a write-out under way frees its block when done.
                if self.spaces.values().any(|sp| {
                    sp.segs
                        .iter()
                        .any(|g| g.busy && !g.present && g.block.is_some())
                }) {
                    if let Some(g) = self.spaces.get_mut(&pid).map(|sp| &mut sp.segs[s]) {
                        g.busy = true;
                    }
                    self.room_waiters.push((pid, s));
                    return Ok(true);
                }
                return Err(format!(
                    "no hole holds the {} segment ({alloc} bytes) and no segment can be taken out",
                    NAMES[s]
                ));
            };
            let (vpid, vs) = seg_unowner(victim);
            if self.evict(cx, vpid, vs, (pid, s))? {
                // Written out first: the bring-in continues when the write completes.
                if let Some(g) = self.spaces.get_mut(&pid).map(|sp| &mut sp.segs[s]) {
                    g.busy = true;
                }
                return Ok(true);
            }
        }
    }

    /// Takes segment `vs` of `vpid` out of memory. Read-only text is dropped (its image is
    /// on the disk) — from every process that shares its block after a fork, each of which
    /// brings its own copy back from its image when it next needs it; a writable segment is
    /// written to its swap copy first (a fresh one if a fork shares the old one), and the
    /// block is freed when that completes (returns true; `then` continues then). A running
    /// process that shared the text has its registers loaded again.
    fn evict(
        &mut self,
        cx: &mut Cx,
        vpid: Pid,
        vs: usize,
        then: (Pid, usize),
    ) -> Result<bool, String> {
        let Some(g) = self.spaces.get(&vpid).map(|sp| sp.segs[vs]) else {
            return Ok(false);
        };
        let Some(block) = g.block else {
            return Ok(false);
        };
        self.stats.segments_out += 1;
        cx.sv.event(
            cx.hw,
            Event::Evict {
                pid: vpid,
                va: vs as u64 * SEGMENT_SIZE,
                pa: block,
                dirty: g.perm.write,
                for_pid: then.0,
            },
        );
        if let Some(p) = cx.procs.iter_mut().find(|p| p.pid == vpid) {
            p.stats.pages_out += u64::from(g.perm.write);
        }
        if !g.perm.write {
            self.drop_text(cx, vpid, vs, block, then.0);
            // (A victim that is running now — a disk completion retried a bring-in while
            // it ran — must not go on through its stale segment registers.)
            self.reload_running(cx, &[vpid], then.0);
            return Ok(false);
        }
        let blocks = g.alloc.div_ceil(self.block_size.max(1));
        let slot = match g.swap {
            Some(b) if !self.swap_holders.contains_key(&b) => b,
            shared => {
                // A copy a fork shares stays as it is for its other holders: this segment
                // is written to a copy of its own and lets go of the shared one.
                let swap = self.swap.as_mut().ok_or("there is no swap area")?;
                let slot = swap
                    .allocate(seg_owner(vpid, vs), blocks)
                    .ok_or("the swap area is full; enlarge the disk")?;
                if let Some(b) = shared {
                    self.let_go_swap(b, false);
                    self.stats.swap_unshared += 1;
                }
                slot
            }
        };
        if let Some(x) = self.spaces.get_mut(&vpid).map(|sp| &mut sp.segs[vs]) {
            x.present = false;
            x.busy = true;
            x.swap = Some(slot);
        }
        self.reload_running(cx, &[vpid], then.0);
        self.stats.bytes_out += g.alloc;
        let tag = SegTag::Out {
            pid: vpid,
            seg: vs,
            block,
            then: Some(then),
        };
        let req = Request {
            op: DiskOp::Write,
            block: slot,
            count: blocks,
            pa: block,
            pid: vpid,
        };
        // (A refused write is reported by the next poll, as failed writes are.)
        cx.disk.start_or_report(cx.sv, cx.hw, req, Tag::Seg(tag));
        Ok(true)
    }

    /// Drops the read-only segment `vs` of `vpid` at `block` from memory: from every process
    /// whose register maps that block (a text a fork shared), then frees the block once.
    /// `for_pid` is the process the room is for (its registers are loaded as it resumes).
    fn drop_text(&mut self, cx: &mut Cx, vpid: Pid, vs: usize, block: u64, for_pid: Pid) {
        let holders: Vec<Pid> = self
            .spaces
            .iter()
            .filter(|(_, sp)| sp.segs[vs].block == Some(block))
            .map(|(&p, _)| p)
            .collect();
        for &p in &holders {
            if let Some(x) = self.spaces.get_mut(&p).map(|sp| &mut sp.segs[vs]) {
                x.present = false;
                x.block = None;
            }
            if p != vpid {
                // (Only one holder's key is in the policy's state; the victim's left it.)
                self.repl.removed(seg_owner(p, vs));
            }
        }
        self.text_sharers.remove(&block);
        if holders.len() > 1 {
            self.stats.shared_text_out += 1;
        }
        self.free_seg(cx.sv, cx.hw, vpid, vs, block);
        self.note();
        // The other holders lost the text only because they share it: one of them may be
        // the process running now (a completion's retried bring-in evicts for another).
        let others: Vec<Pid> = holders.into_iter().filter(|&p| p != vpid).collect();
        self.reload_running(cx, &others, for_pid);
    }

    /// Loads the segment registers again of the one of `pids` that is running, unless it is
    /// `for_pid` (the process the room is made for, whose registers are loaded as it
    /// resumes): its registers still map a segment that just left memory. (A completion
    /// that retries a waiting bring-in may take a segment of whichever process runs.)
    fn reload_running(&self, cx: &mut Cx, pids: &[Pid], for_pid: Pid) {
        for &p in pids {
            let running = p != for_pid
                && cx
                    .procs
                    .iter()
                    .any(|q| q.pid == p && q.state == State::Running);
            if running {
                let _ = Segments::activate(self, cx.hw, p);
            }
        }
    }

    /// One holder lets go of the swap copy at `slot`; the last one frees it (unless a write
    /// to it is under way, `busy`: that copy stays taken, as a release during a write-out
    /// leaves it).
    fn let_go_swap(&mut self, slot: u64, busy: bool) {
        match self.swap_holders.get_mut(&slot) {
            Some(n) if *n > 2 => *n -= 1,
            Some(_) => {
                self.swap_holders.remove(&slot);
            }
            None => {
                if let (false, Some(swap)) = (busy, self.swap.as_mut()) {
                    let _ = swap.free(slot);
                }
            }
        }
    }

    /// `fork`: gives `child` segments holding what `parent`'s hold. The text (read-only) is
    /// shared: the child's register maps the parent's block, which then has two holders.
    /// Each writable segment in memory is copied into a new block of its own (a timed copy);
    /// one swapped out shares its swap copy until either side writes its segment out again;
    /// one never brought in gets the same image (or nothing). A segment in transfer makes
    /// the parent wait and fork again. No room for a copy: `NoMemory` — under
    /// virtual-memory segmentation after evicting clean text of other processes, the only
    /// room that can be made at once.
    pub fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        let Some(sp) = self.spaces.get(&parent).cloned() else {
            return Forked::NoMemory(format!("process {parent} has no segments"));
        };
        if let Some(s) = (0..4).find(|&s| sp.segs[s].busy) {
            return Forked::Busy(seg_wait(parent, s));
        }
        let start = cx.hw.now();
        // The blocks of the copies first, so that a fork that cannot fit leaves nothing.
        let mut copies: Vec<(usize, u64, u64)> = Vec::new();
        for s in [DATA, HEAP, STACK] {
            let g = sp.segs[s];
            let Some(from) = g.block.filter(|_| g.present) else {
                continue;
            };
            match self.fork_room(cx, parent, child, s, g.alloc) {
                Some(to) => copies.push((s, from, to)),
                None => {
                    for (_, _, to) in copies {
                        let _ = self.mem.free(to);
                    }
                    self.note();
                    let fr = self.mem.fragmentation();
                    return Forked::NoMemory(format!(
                        "no hole holds a copy of the {} segment ({} bytes; {} bytes free, the largest hole {})",
                        NAMES[s], g.alloc, fr.free_bytes, fr.largest_hole
                    ));
                }
            }
        }
        let mut csp = Space {
            segs: sp.segs,
            loading: 0,
        };
        // The text: the same block (or the same image).
        if let (true, Some(b)) = (sp.segs[TEXT].present, sp.segs[TEXT].block) {
            *self.text_sharers.entry(b).or_insert(1) += 1;
            self.stats.text_shared += 1;
        }
        // Swapped-out segments: the same swap copy.
        for s in [DATA, HEAP, STACK] {
            let g = &mut csp.segs[s];
            if g.present {
                g.swap = None;
                continue;
            }
            g.block = None;
            if let Some(slot) = g.swap {
                *self.swap_holders.entry(slot).or_insert(1) += 1;
                self.stats.swap_shared += 1;
            }
        }
        for &(s, from, to) in &copies {
            let g = &mut csp.segs[s];
            g.block = Some(to);
            cx.sv.event(
                cx.hw,
                Event::Place {
                    pid: child,
                    what: seg_name(s),
                    base: to,
                    size: g.alloc,
                },
            );
            cx.hw.copy_phys_timed(from, to, g.alloc);
            let c = cx.sv.cost().copy_byte.saturating_mul(g.alloc);
            cx.sv.charge(cx.hw, c);
            self.stats.placements += 1;
            self.stats.segments_copied += 1;
            self.stats.fork_bytes += g.alloc;
            self.repl.inserted(seg_owner(child, s));
        }
        self.spaces.insert(child, csp);
        self.note();
        self.stats.forks += 1;
        self.stats.fork_cycles += cx.hw.now() - start;
        Forked::Ready
    }

    /// A block of `size` bytes for the copy of segment `s` that `child` gets at a fork.
    /// Under virtual-memory segmentation, when no hole holds it, the clean text of another
    /// process (not the parent's: it runs) leaves memory, in the policy's order, until one
    /// does; a writable segment cannot leave at once (it must be written out first).
    fn fork_room(
        &mut self,
        cx: &mut Cx,
        parent: Pid,
        child: Pid,
        s: usize,
        size: u64,
    ) -> Option<u64> {
        loop {
            if let Some(b) = self.mem.allocate(seg_owner(child, s), size) {
                return Some(b);
            }
            if !self.vm || size > self.mem.size() {
                return None;
            }
            let own_text = self.spaces.get(&parent).and_then(|sp| sp.segs[TEXT].block);
            let mut passed = Vec::new();
            let mut chosen = None;
            while let Some(v) = self.repl.victim(&mut NoBits, None) {
                let (vp, vs) = seg_unowner(v);
                let g = self.spaces.get(&vp).map(|sp| sp.segs[vs]);
                let clean_text = g.is_some_and(|g| {
                    vs == TEXT && !g.perm.write && g.present && !g.busy && g.block != own_text
                });
                if clean_text {
                    chosen = Some((vp, vs, g.and_then(|g| g.block)));
                    break;
                }
                passed.push(v);
            }
            // (The passed keys go back at the newest end, as a fault's passing does.)
            for v in passed {
                self.repl.inserted(v);
            }
            let (vp, vs, Some(block)) = chosen? else {
                return None;
            };
            let c = cx.sv.cost().replace;
            cx.sv.charge(cx.hw, c);
            self.stats.segments_out += 1;
            cx.sv.event(
                cx.hw,
                Event::Evict {
                    pid: vp,
                    va: vs as u64 * SEGMENT_SIZE,
                    pa: block,
                    dirty: false,
                    for_pid: child,
                },
            );
            self.drop_text(cx, vp, vs, block, parent);
        }
    }

    /// A transfer finished, for good (the driver retried a failed one first): what it means
    /// for the processes. A segment read that failed kills its process (SIGBUS); a
    /// write-out that failed leaves the segment in memory, and the segment that needed the
    /// room looks for it again.
    pub fn disk_done(&mut self, cx: &mut Cx, done: Done<Tag>) -> Finished {
        let Tag::Seg(tag) = done.tag else {
            return Finished::default();
        };
        let mut f = Finished::default();
        match done.result {
            Ok(()) => f.woken = self.completed(cx, tag),
            Err(e) => {
                match tag {
                    SegTag::In { pid, seg, .. } => {
                        let pc = cx.procs.iter().find(|p| p.pid == pid).map_or(0, |p| p.pc);
                        f.killed.push((
                            pid,
                            Kill {
                                addr: seg as u64 * SEGMENT_SIZE,
                                pc,
                                access: None,
                                cause: "io-error",
                                scheme: self.scheme(),
                                detail: format!(
                                    "reading its segment {seg} from disk block {} failed: {e}",
                                    done.request.block
                                ),
                            },
                        ));
                        if let Some(sp) = self.spaces.get_mut(&pid) {
                            sp.segs[seg].busy = false;
                        }
                        f.woken.extend(cx.waits.wake_all(seg_wait(pid, seg)));
                    }
                    SegTag::Out { pid, seg, then, .. } => {
                        if let Some(sp) = self.spaces.get_mut(&pid) {
                            let g = &mut sp.segs[seg];
                            g.present = true;
                            g.busy = false;
                            self.repl.inserted(seg_owner(pid, seg));
                            cx.sv.message(
                                cx.hw,
                                format!(
                                    "process {pid}: its segment {seg} could not be written out to disk block {} ({e}); it stays in memory",
                                    done.request.block
                                ),
                            );
                        }
                        f.woken.extend(cx.waits.wake_all(seg_wait(pid, seg)));
                        if let Some(t) = then {
                            self.room_waiters.insert(0, t);
                        }
                    }
                }
                f.woken.extend(self.retry_room(cx));
                f.woken.sort_unstable();
                f.woken.dedup();
            }
        }
        f
    }

    /// A transfer completed and moved its data; returns the processes it readies.
    fn completed(&mut self, cx: &mut Cx, tag: SegTag) -> Vec<Pid> {
        let mut woken = Vec::new();
        match tag {
            SegTag::In { pid, seg, block } => match self.spaces.get_mut(&pid) {
                Some(sp) => {
                    let g = &mut sp.segs[seg];
                    g.present = true;
                    g.busy = false;
                    self.repl.inserted(seg_owner(pid, seg));
                    // A process loading its image runs when the last segment is in; one that
                    // faulted waits on the segment.
                    if sp.loading > 0 {
                        sp.loading -= 1;
                        if sp.loading == 0 {
                            woken.push(pid);
                        }
                    }
                    woken.extend(cx.waits.wake_all(seg_wait(pid, seg)));
                }
                None => {
                    self.free_seg(cx.sv, cx.hw, pid, seg, block);
                }
            },
            SegTag::Out {
                pid,
                seg,
                block,
                then,
            } => {
                self.free_seg(cx.sv, cx.hw, pid, seg, block);
                if let Some(sp) = self.spaces.get_mut(&pid) {
                    let g = &mut sp.segs[seg];
                    g.busy = false;
                    g.block = None;
                }
                woken.extend(cx.waits.wake_all(seg_wait(pid, seg)));
                self.note();
                // The segment that needed this room first.
                if let Some(t) = then {
                    self.room_waiters.insert(0, t);
                }
            }
        }
        woken.extend(self.retry_room(cx));
        woken.sort_unstable();
        woken.dedup();
        woken
    }

    /// Every completion may make room: a write-out frees its block, a finished read makes
    /// a segment evictable. Retries the segments waiting for room, in order; returns the
    /// processes that may run.
    fn retry_room(&mut self, cx: &mut Cx) -> Vec<Pid> {
        let mut woken = Vec::new();
        for (tp, ts) in std::mem::take(&mut self.room_waiters) {
            if !self.spaces.contains_key(&tp) {
                continue;
            }
            if let Some(g) = self.spaces.get_mut(&tp).map(|sp| &mut sp.segs[ts]) {
                g.busy = false;
            }
            match self.bring_in(cx, tp, ts) {
                // Waiting again: for a read, or for room (it queued itself once more).
                Ok(true) => {}
                // In memory now; or it cannot be: its retried access faults again and the
                // kernel kills it with the reason.
                Ok(false) | Err(_) => woken.extend(cx.waits.wake_all(seg_wait(tp, ts))),
            }
        }
        woken.sort_unstable();
        woken.dedup();
        woken
    }

    /// The physical address of `va` in `pid`'s segments, if its segment is present and
    /// `va` lies within its limit; `Err(true)` if the segment exists but is not present.
    pub fn user_pa(&self, pid: Pid, va: u64) -> Result<u64, bool> {
        if va >> VA_BITS != 0 {
            return Err(false);
        }
        let s = (va / SEGMENT_SIZE) as usize;
        let off = va % SEGMENT_SIZE;
        let g = self.spaces.get(&pid).map(|sp| sp.segs[s]).ok_or(false)?;
        let inside = if s == STACK {
            off >= SEGMENT_SIZE - g.limit
        } else {
            off < g.limit
        };
        if !inside {
            return Err(false);
        }
        match (g.present, g.block) {
            (true, Some(b)) if s == STACK => Ok(b + g.alloc - (SEGMENT_SIZE - off)),
            (true, Some(b)) => Ok(b + off),
            _ => Err(true),
        }
    }

    /// Moves `pid`'s heap limit to `bytes` (a `brk`): within its block, or by growing the
    /// block in place, or (not in memory) by growing what it will get. False if it cannot.
    pub fn set_heap(&mut self, hw: &mut dyn Hw, pid: Pid, bytes: u64, current: bool) -> bool {
        let bytes = bytes.min(SEGMENT_SIZE);
        let Some(g) = self.spaces.get(&pid).map(|sp| sp.segs[HEAP]) else {
            return false;
        };
        let need = bytes.next_multiple_of(self.block_size.max(GRANULE));
        if need > g.alloc {
            match (g.block, g.busy) {
                (Some(b), false) => {
                    if self.mem.resize_in_place(b, need).is_err() {
                        return false;
                    }
                    // The new part is zero, as a fresh heap is.
                    let ok = hw.write_phys(b + g.alloc, &vec![0; (need - g.alloc) as usize]);
                    debug_assert!(ok);
                }
                (None, false) if self.vm => {}
                _ => return false,
            }
            if let Some(x) = self.spaces.get_mut(&pid).map(|sp| &mut sp.segs[HEAP]) {
                x.alloc = need;
            }
        }
        if let Some(x) = self.spaces.get_mut(&pid).map(|sp| &mut sp.segs[HEAP]) {
            x.limit = bytes;
        }
        if current {
            let _ = Segments::activate(self, hw, pid);
        }
        true
    }

    /// Frees segment `s` of `pid` at `block`, with its `release` event.
    fn free_seg(&mut self, sv: &mut Services, hw: &dyn Hw, pid: Pid, s: usize, block: u64) {
        if let Ok(r) = self.mem.free(block) {
            sv.event(
                hw,
                Event::Release {
                    pid,
                    what: seg_name(s),
                    base: r.base,
                    size: r.size,
                },
            );
        }
    }

    /// Frees everything `pid` holds.
    pub fn release(&mut self, sv: &mut Services, hw: &dyn Hw, pid: Pid) {
        let Some(sp) = self.spaces.remove(&pid) else {
            return;
        };
        self.room_waiters.retain(|&(p, _)| p != pid);
        for (s, g) in sp.segs.iter().enumerate() {
            let key = seg_owner(pid, s);
            let keyed = self.repl.contains(key);
            self.repl.removed(key);
            if let Some(b) = g.block.filter(|b| self.text_sharers.contains_key(b)) {
                // A text a fork shared: the block stays for its other holders, and (if this
                // process's key stood for it in the policy) another holder's key does now.
                match self.text_sharers.get_mut(&b) {
                    Some(n) if *n > 2 => *n -= 1,
                    _ => {
                        self.text_sharers.remove(&b);
                    }
                }
                let next = self
                    .spaces
                    .iter()
                    .find(|(_, x)| x.segs[s].block == Some(b) && x.segs[s].present)
                    .map(|(&p, _)| p);
                if let (true, Some(q)) = (keyed, next) {
                    self.repl.inserted(seg_owner(q, s));
                }
                continue;
            }
            // A block with a transfer under way is freed when the transfer completes.
            if let (Some(b), false) = (g.block, g.busy) {
                self.free_seg(sv, hw, pid, s, b);
            }
            if let Some(slot) = g.swap {
                self.let_go_swap(slot, g.busy);
            }
        }
        self.note();
    }

    /// Walks the scheme's counters under `os.seg.NAME`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        let fr = self.mem.fragmentation();
        let s = &self.stats;
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
            ("segments_in", s.segments_in),
            ("segments_out", s.segments_out),
            ("bytes_in", s.bytes_in),
            ("bytes_out", s.bytes_out),
            ("forks", s.forks),
            ("text_shared", s.text_shared),
            ("segments_copied", s.segments_copied),
            ("fork_bytes", s.fork_bytes),
            ("swap_shared", s.swap_shared),
            ("fork_cycles", s.fork_cycles),
            ("shared_text_out", s.shared_text_out),
            ("swap_unshared", s.swap_unshared),
        ] {
            f(&format!("os.seg.{n}"), v);
        }
    }
}

/// The owner key of segment `s` of `pid` (for the placement map and the policy).
/// The wait-queue event of segment `s` of `pid`'s address space.
fn seg_wait(pid: Pid, s: usize) -> WaitOn {
    WaitOn::Segment {
        space: u64::from(pid),
        seg: s,
    }
}

/// The name of segment `s` in the trace (`text`, `data`, `heap`, `stack`).
fn seg_name(s: usize) -> &'static str {
    match s {
        TEXT => "text",
        DATA => "data",
        HEAP => "heap",
        _ => "stack",
    }
}

fn seg_owner(pid: Pid, s: usize) -> u64 {
    u64::from(pid) << 2 | s as u64
}

fn seg_unowner(k: u64) -> (Pid, usize) {
    ((k >> 2) as Pid, (k & 3) as usize)
}

impl Scheme for Segments {
    fn kind(&self) -> SchemeKind {
        if self.vm {
            SchemeKind::VmSegmentation
        } else {
            SchemeKind::SimpleSegmentation
        }
    }

    /// Text in segment 0, data in 1, the heap at the start of 2, the stack at the top of 3.
    fn layout(&self, cfg: &OsConfig, _image: &Image) -> Result<Layout, String> {
        let heap_start = HEAP as u64 * SEGMENT_SIZE;
        let top = 4 * SEGMENT_SIZE;
        let stack_start = top - cfg.stack_size.next_multiple_of(GRANULE);
        Ok(Layout {
            heap_start,
            brk_limit: heap_start + cfg.heap_limit.min(SEGMENT_SIZE),
            stack_top: top,
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
        Segments::place_image(self, hw, disk, pid, image)
    }

    fn layout_swap(&mut self, disk: &DiskDriver<Tag>) {
        Segments::layout_swap(self, disk)
    }

    fn reserve_disk(&mut self, disk: &DiskDriver<Tag>, blocks: u64) -> Option<(u64, u64)> {
        // From the end of the disk: the swap area keeps its place right after the images.
        crate::scheme::reserve_from_end(self.next_block, &mut self.disk_end, disk.blocks, blocks)
    }

    fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        Segments::admit(self, cx, pid)
    }

    fn activate(&mut self, hw: &mut dyn Hw, pid: Pid, _asid: u16) -> Result<(), String> {
        Segments::activate(self, hw, pid)
    }

    fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        Segments::fork(self, cx, parent, child)
    }

    fn fault(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome {
        Segments::fault(self, cx, pid, va, access, pc)
    }

    fn disk_done(&mut self, cx: &mut Cx, done: Done<Tag>) -> Finished {
        Segments::disk_done(self, cx, done)
    }

    fn release(&mut self, cx: &mut Cx, pid: Pid) {
        Segments::release(self, cx.sv, cx.hw, pid)
    }

    fn resident_bytes(&self, pid: Pid) -> u64 {
        self.spaces.get(&pid).map_or(0, |sp| {
            sp.segs
                .iter()
                .filter(|g| g.block.is_some())
                .map(|g| g.alloc)
                .sum()
        })
    }

    fn user_addr(
        &self,
        _hw: &dyn Hw,
        _mm: Option<&AddressSpace>,
        pid: Pid,
        va: u64,
        access: Access,
    ) -> UserAddr {
        let s = (va / SEGMENT_SIZE) as usize;
        let allowed = s < 4
            && self
                .spaces
                .get(&pid)
                .is_some_and(|sp| access.allowed_by(sp.segs[s].perm));
        if !allowed {
            return UserAddr::Invalid;
        }
        match self.user_pa(pid, va) {
            Ok(pa) => {
                // The valid bytes run to the limit (the stack: to the segment's top).
                let off = va % SEGMENT_SIZE;
                let end = match self.spaces.get(&pid) {
                    Some(_) if s == STACK => SEGMENT_SIZE,
                    Some(sp) => sp.segs[s].limit,
                    None => off + 1,
                };
                UserAddr::Mapped {
                    pa,
                    len: end.saturating_sub(off).max(1),
                }
            }
            Err(true) => UserAddr::Absent,
            Err(false) => UserAddr::Invalid,
        }
    }

    fn set_brk(&mut self, cx: &mut Cx, pid: Pid, _old: u64, new: u64) -> Option<u64> {
        let running = cx
            .procs
            .iter()
            .any(|p| p.pid == pid && p.state == State::Running);
        let bytes = new - cx.mm(pid)?.heap_start;
        Segments::set_heap(self, cx.hw, pid, bytes, running).then_some(new)
    }

    fn heap_end(&self, brk: u64) -> u64 {
        brk.next_multiple_of(GRANULE)
    }

    fn free_bytes(&self) -> Option<u64> {
        Some(self.mem.free_bytes())
    }

    fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        Segments::for_each_stat(self, f)
    }
}
