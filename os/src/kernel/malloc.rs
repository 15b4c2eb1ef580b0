//! `os.malloc`: the program's allocation calls served by an allocator of the kernel's
//! (`os/src/heap/`), the way a debugger's breakpoint takes over a function.
//!
//! When a process is created under an `os.malloc` other than `libc`, the kernel finds
//! `malloc`, `free`, `calloc`, `realloc`, ... in the program's symbol table
//! ([`Image::alloc_calls`]) and puts an `ebreak` at each function's first instruction, in
//! the image on the disk: the C library's own code there never runs, and every caller —
//! the program, and the C library's own internal callers of the same functions (`strdup`,
//! `fopen`, `printf`'s buffers) — traps into the kernel. The trap handler reads the
//! arguments from `a0`..`a2`, runs the call on the allocator with the process's heap as its
//! memory ([`GuestHeap`]), puts the result in `a0` (and `errno` on failure), and returns to
//! `ra`, as the function would have. The trap, the search and each metadata word are
//! charged in cycles (`os.cost.malloc_*`).
//!
//! The allocator's words are the process's memory: a page it touches that is not in memory
//! faults in as the process's own access would, and the call runs again from the start when
//! the process next runs (its stores are applied only once the call has finished, so a
//! restart finds the heap as it was). A heap exhausted (the break cannot move) makes the
//! call fail with `ENOMEM`; a `free` of a block that is free already, or of a pointer the
//! allocator never returned, ends the process with SIGABRT as glibc's checks do; metadata
//! that points outside the process's memory (an overflow overwrote it) ends it with
//! SIGSEGV.

use std::collections::BTreeMap;

use super::syscalls::{CopyFault, SysResult};
use super::Kernel;
use crate::config::{MallocCoalesce, MallocKind};
use crate::heap::alloc::{run_call, Allocator, Call, CallResult, HeapMem, Journal, Op, Stop};
use crate::heap::buddy::BuddyAlloc;
use crate::heap::fit::{Coalesce, Fit, FitAlloc};
use crate::heap::pool::PoolAlloc;
use crate::heap::segregated::SegregatedAlloc;
use crate::heap::slab::SlabAlloc;
use crate::hw::Hw;
use crate::image::{ErrnoAt, Image};
use crate::process::{Access, Kill, Pid};
use crate::services::Event;

/// `ebreak`, little-endian.
const EBREAK: [u8; 4] = 0x0010_0073u32.to_le_bytes();

/// A process's heap under `os.malloc`.
#[derive(Clone, Debug, Default)]
pub(super) struct HeapState {
    /// The program's allocation functions by address.
    calls: BTreeMap<u64, Call>,
    /// Where its `errno` is.
    errno: Option<ErrnoAt>,
    /// The arena's address, once the first call has set it up.
    arena: Option<u64>,
    /// Where the heap began (the break at the first call).
    base: u64,
    /// Live blocks: requested and granted bytes.
    live: BTreeMap<u64, (u64, u64)>,
    /// Free blocks by size: how many of each (for the largest free block).
    free_sizes: BTreeMap<u64, u64>,
    /// The counters.
    pub stats: HeapStats,
}

/// One process's allocator counters (`os.proc.N.malloc.*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Calls served.
    pub calls: u64,
    /// Blocks allocated.
    pub allocs: u64,
    /// Blocks freed.
    pub frees: u64,
    /// Allocations that failed (`ENOMEM`).
    pub failed: u64,
    /// Search steps.
    pub steps: u64,
    /// Metadata words read or written.
    pub words: u64,
    /// Times a call ran again after a page it touched was brought in.
    pub restarts: u64,
    /// Bytes the live blocks asked for.
    pub live_bytes: u64,
    /// The most `live_bytes` has been.
    pub peak_live_bytes: u64,
    /// Heap bytes the live blocks take (headers and padding included).
    pub granted_bytes: u64,
    /// Bytes in free blocks.
    pub free_bytes: u64,
    /// The largest free block.
    pub largest_free: u64,
    /// The heap's size: from where it began to the break.
    pub heap_bytes: u64,
    /// `granted_bytes - live_bytes` when `live_bytes` last reached its peak.
    pub internal_at_peak: u64,
    /// [`HeapStats::external_permille`] then.
    pub external_at_peak: u64,
}

impl HeapStats {
    /// External fragmentation in thousandths: `1 - largest free / total free`.
    pub fn external_permille(&self) -> u64 {
        (self.largest_free.min(self.free_bytes) * 1000)
            .checked_div(self.free_bytes)
            .map_or(0, |r| 1000 - r)
    }
}

/// The allocator `os.malloc` names (`None`: the program's own).
pub(super) fn allocator(
    kind: MallocKind,
    coalesce: MallocCoalesce,
    page: u64,
) -> Option<Box<dyn Allocator>> {
    let coalesce = match coalesce {
        MallocCoalesce::Immediate => Coalesce::Immediate,
        MallocCoalesce::Deferred => Coalesce::Deferred,
    };
    let fit = |fit| -> Option<Box<dyn Allocator>> {
        Some(Box::new(FitAlloc {
            fit,
            coalesce,
            page,
        }))
    };
    match kind {
        MallocKind::Libc => None,
        MallocKind::FirstFit => fit(Fit::First),
        MallocKind::NextFit => fit(Fit::Next),
        MallocKind::BestFit => fit(Fit::Best),
        MallocKind::WorstFit => fit(Fit::Worst),
        MallocKind::Segregated => Some(Box::new(SegregatedAlloc { page })),
        // The region grows 64 KiB at a time.
        MallocKind::Buddy => Some(Box::new(BuddyAlloc { grow_order: 16 })),
        MallocKind::Slab => Some(Box::new(SlabAlloc { page })),
        MallocKind::Pool => Some(Box::new(PoolAlloc { page })),
    }
}

/// The process's heap as the allocator sees it: loads through the process's translation
/// (a page not in memory stops the call), stores held in a journal until the call ends.
struct GuestHeap<'a> {
    k: &'a mut Kernel,
    hw: &'a mut dyn Hw,
    pid: Pid,
    journal: Journal,
    /// An address the process may not touch, which the metadata led to.
    bad: Option<u64>,
    /// A page is being brought in: the call runs again.
    restart: bool,
    words: u64,
}

impl HeapMem for GuestHeap<'_> {
    fn load(&mut self, addr: u64) -> Result<u64, Stop> {
        self.words += 1;
        if let Some(v) = self.journal.get(addr) {
            self.hw.user_access_timed(addr, false);
            return Ok(v);
        }
        match self.k.copy_from_user(self.hw, self.pid, addr, 8) {
            Ok(b) => {
                // The access as the process would make it: TLB, page walk, caches.
                self.hw.user_access_timed(addr, false);
                Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            Err(CopyFault::Restart) => {
                self.restart = true;
                Err(Stop)
            }
            Err(CopyFault::Fault) => {
                self.bad = Some(addr);
                Err(Stop)
            }
        }
    }

    fn store(&mut self, addr: u64, value: u64) -> Result<(), Stop> {
        self.words += 1;
        self.journal.put(addr, value);
        Ok(())
    }

    fn brk(&self) -> u64 {
        self.k.address_space(self.pid).map_or(0, |m| m.brk)
    }

    fn grow_to(&mut self, end: u64) -> bool {
        if end <= self.brk() {
            return true;
        }
        matches!(self.k.sys_brk(self.hw, self.pid, [end, 0, 0, 0, 0, 0]), SysResult::Ret(b) if b >= end)
    }

    fn read_bytes(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, Stop> {
        self.words += len / 8;
        match self.k.copy_from_user(self.hw, self.pid, addr, len) {
            Ok(mut b) => {
                for w in (0..len).step_by(8) {
                    self.hw.user_access_timed(addr + w, false);
                }
                self.journal.overlay(addr, &mut b);
                Ok(b)
            }
            Err(CopyFault::Restart) => {
                self.restart = true;
                Err(Stop)
            }
            Err(CopyFault::Fault) => {
                self.bad = Some(addr);
                Err(Stop)
            }
        }
    }

    fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Stop> {
        self.words += bytes.len() as u64 / 8;
        self.journal.put_run(addr, bytes.to_vec());
        Ok(())
    }
}

impl<'a> GuestHeap<'a> {
    /// `pid`'s heap, with an empty journal.
    fn new(k: &'a mut Kernel, hw: &'a mut dyn Hw, pid: Pid) -> GuestHeap<'a> {
        GuestHeap {
            k,
            hw,
            pid,
            journal: Journal::default(),
            bad: None,
            restart: false,
            words: 0,
        }
    }

    /// Applies the journal's stores, all or none: `false` if one must wait (a page is
    /// brought in; the call runs again) or may not be written (`bad`).
    fn commit(&mut self) -> bool {
        // Every page written must be there (and writable) before anything is written.
        let journal = std::mem::take(&mut self.journal);
        let mut runs = Vec::with_capacity(journal.runs.len());
        for (addr, bytes) in &journal.runs {
            match self.pieces(*addr, bytes.len() as u64) {
                Some(p) => runs.push(p),
                None => return false,
            }
        }
        let mut words = Vec::with_capacity(journal.stores.len());
        for (&addr, &v) in &journal.stores {
            match self.pieces(addr, 8) {
                Some(p) => words.push((p, v)),
                None => return false,
            }
        }
        // The stores' timing, as the process's own stores would take it now that every
        // page is there: TLB, page walk, caches (each word stored once).
        for (addr, bytes) in &journal.runs {
            for w in (0..bytes.len() as u64).step_by(8) {
                self.hw.user_access_timed(addr + w, true);
            }
        }
        for &addr in journal.stores.keys() {
            self.hw.user_access_timed(addr, true);
        }
        for (pieces, (_, bytes)) in runs.into_iter().zip(&journal.runs) {
            Self::write(self.hw, &pieces, bytes);
        }
        for (pieces, v) in words {
            Self::write(self.hw, &pieces, &v.to_le_bytes());
        }
        true
    }

    /// Where `[addr, addr + len)` is in memory for a store, or `None` (a page is coming in,
    /// or the address is not the process's).
    fn pieces(&mut self, addr: u64, len: u64) -> Option<Vec<(u64, u64)>> {
        match self
            .k
            .user_pieces(self.hw, self.pid, addr, len, Access::Store, false)
        {
            Ok(p) => {
                // (The caller writes them: they are dirty, as the program's stores would
                // make them.)
                self.k.mem.stored(self.pid, addr, len);
                Some(p)
            }
            Err(CopyFault::Restart) => {
                self.restart = true;
                None
            }
            Err(CopyFault::Fault) => {
                self.bad = Some(addr);
                None
            }
        }
    }

    fn write(hw: &mut dyn Hw, pieces: &[(u64, u64)], bytes: &[u8]) {
        let mut at = 0usize;
        for &(pa, n) in pieces {
            hw.write_phys(pa, &bytes[at..at + n as usize]);
            at += n as usize;
        }
    }
}

impl Kernel {
    /// Sets `image` up for `os.malloc`: its allocation functions trap. An error names what
    /// is missing (a program with no `malloc` of its own: stripped, or dynamically linked).
    pub(super) fn hook_allocator(
        &mut self,
        image: &mut Image,
    ) -> Result<Option<HeapState>, String> {
        if self.cfg.malloc == MallocKind::Libc {
            return Ok(None);
        }
        if let Some(why) = image.missing_malloc() {
            let or_libc = if image.interp.is_none() {
                "; or run it with os.malloc = \"libc\""
            } else {
                ""
            };
            return Err(format!(
                "{}: os.malloc = {:?} replaces the program's malloc, but {why}{or_libc}",
                image.name,
                self.cfg.malloc.name()
            ));
        }
        let mut calls = BTreeMap::new();
        for &(addr, call) in &image.alloc_calls {
            let seg = image.segments.iter_mut().find(|s| {
                s.perm.exec && addr >= s.vaddr && addr + 4 <= s.vaddr + s.data.len() as u64
            });
            let Some(seg) = seg else {
                continue;
            };
            let at = (addr - seg.vaddr) as usize;
            seg.data[at..at + 4].copy_from_slice(&EBREAK);
            calls.insert(addr, call);
        }
        Ok(Some(HeapState {
            calls,
            errno: image.errno,
            ..HeapState::default()
        }))
    }

    /// A breakpoint at `epc`: if it is one of the process's allocation functions, serves the
    /// call and returns true (the process returns to its caller, runs the call again later,
    /// or was killed).
    pub(super) fn alloc_trap(&mut self, hw: &mut dyn Hw, pid: Pid, epc: u64) -> bool {
        let Some(call) = self
            .heaps
            .get(&pid)
            .and_then(|h| h.calls.get(&epc).copied())
        else {
            return false;
        };
        let Some(pi) = self.index(pid) else {
            return true;
        };
        let page = self.mem.page_size().unwrap_or(4096);
        let Some(alloc) = allocator(self.cfg.malloc, self.cfg.malloc_coalesce, page) else {
            return false;
        };
        let regs = self.procs[pi].regs;
        let mut a = [regs[10], regs[11], regs[12]];
        if matches!(call, Call::Free | Call::Realloc | Call::Reallocarray) {
            if let Some(mc) = self.memcheck.as_mut() {
                use crate::memcheck::FreeVerdict;
                match mc.heap_free(pid, epc, a[0], call, regs[1]) {
                    FreeVerdict::Proceed => {}
                    FreeVerdict::Instead(q) => a[0] = q,
                    FreeVerdict::Return => {
                        // A bad pointer never reaches the allocator (as under Valgrind),
                        // nor does a block the quarantine keeps.
                        let p = &mut self.procs[pi];
                        if call != Call::Free {
                            p.regs[10] = 0;
                        }
                        p.pc = p.regs[1];
                        return true;
                    }
                }
            }
        }
        let c = self.cfg.cost.malloc_call;
        self.sv.charge(hw, c);
        self.heaps.entry(self.tgid_of(pid)).or_default().stats.calls += 1;
        // The arena, at the first call.
        let arena = match self.heaps.get(&self.tgid_of(pid)).and_then(|h| h.arena) {
            Some(a) => a,
            None => {
                let base = self
                    .address_space(pid)
                    .map_or(0, |m| m.brk)
                    .next_multiple_of(16);
                let mut g = GuestHeap::new(self, hw, pid);
                let mut op = Op::new(&mut g);
                let r = alloc.init(&mut op, base);
                drop(op);
                let ok = match r {
                    Ok(true) => g.commit(),
                    Ok(false) => {
                        // No room for even the arena: this call fails.
                        let r = CallResult {
                            ret: 0,
                            errno: Some(crate::heap::alloc::ENOMEM),
                            allocated: Vec::new(),
                            freed: Vec::new(),
                            abort: None,
                            out: None,
                        };
                        let (bad, restart) = (g.bad, g.restart);
                        drop(g);
                        return self.alloc_finish(
                            hw,
                            pid,
                            call,
                            a,
                            r,
                            0,
                            0,
                            Vec::new(),
                            Vec::new(),
                            bad,
                            restart,
                            0,
                        );
                    }
                    Err(Stop) => false,
                };
                let (bad, restart, words) = (g.bad, g.restart, g.words);
                drop(g);
                self.charge_words(hw, words);
                if !ok {
                    return self.alloc_stopped(hw, pid, epc, bad, restart);
                }
                let h = self.heaps.entry(self.tgid_of(pid)).or_default();
                h.arena = Some(base);
                h.base = base;
                base
            }
        };
        let errno_at = self.heaps.get(&self.tgid_of(pid)).and_then(|h| h.errno);
        // `--memcheck` with redzones: the allocator is asked for the redzones too, and
        // the program gets the pointer past the front one.
        let (inner, front, old_front) = match self.memcheck.as_deref() {
            Some(mc) if mc.redzone() > 0 => {
                let old_front = mc.front(pid, a[0]);
                match crate::memcheck::redzone::args(call, a, mc.redzone(), old_front, page) {
                    Some((inner, front)) => (inner, front, old_front),
                    None => (a, 0, 0),
                }
            }
            _ => (a, 0, 0),
        };
        let mut g = GuestHeap::new(self, hw, pid);
        let mut op = Op::new(&mut g);
        let r = run_call(alloc.as_ref(), &mut op, arena, call, inner, page);
        let r = r.map(|mut r| {
            if front > 0 || old_front > 0 {
                use crate::memcheck::redzone;
                if redzone::returns_pointer(call) && r.ret != 0 {
                    r.ret += front;
                }
                if let Some((out, v)) = r.out {
                    r.out = Some((out, v + front));
                }
                let asked = redzone::asked(call, a);
                for b in &mut r.allocated {
                    (b.0, b.1) = (b.0 + front, asked);
                }
                for b in &mut r.freed {
                    b.0 += old_front;
                }
                if let Some((_, q)) = r.abort.as_mut() {
                    *q += old_front;
                }
            }
            r
        });
        let (steps, added, removed) = (op.steps, op.free_added, op.free_removed);
        let r = match r {
            Ok(r) => {
                // The call's stores for the program: `*memptr`, and `errno`.
                if let Some((addr, v)) = r.out {
                    let old = g.load(addr & !7).ok();
                    match old {
                        Some(_) if addr.is_multiple_of(8) => g.journal.put(addr, v),
                        _ => g.bad = g.bad.or(Some(addr)),
                    }
                }
                if let Some(e) = r.errno {
                    let at = match errno_at {
                        Some(ErrnoAt::Tls(off)) => Some(regs[4].wrapping_add(off)),
                        Some(ErrnoAt::Global(a)) => Some(a),
                        None => None,
                    };
                    if let Some(at) = at {
                        // errno is an int: the low half of its word.
                        if let Ok(w) = g.load(at & !7) {
                            let shift = (at & 4) * 8;
                            let w = (w & !(0xffff_ffff << shift)) | (e << shift);
                            g.journal.put(at & !7, w);
                        }
                    }
                }
                Some(r)
            }
            Err(Stop) => None,
        };
        let committed = g.bad.is_none() && !g.restart && r.is_some() && g.commit();
        let (bad, restart, words) = (g.bad, g.restart, g.words);
        drop(g);
        self.charge_words(hw, words);
        let c = self.cfg.cost.malloc_step * steps;
        self.sv.charge(hw, c);
        match r {
            Some(r) if committed => self.alloc_finish(
                hw, pid, call, a, r, steps, words, added, removed, None, false, front,
            ),
            _ => self.alloc_stopped(hw, pid, epc, bad, restart),
        }
    }

    fn charge_words(&mut self, hw: &mut dyn Hw, words: u64) {
        let c = self.cfg.cost.malloc_word * words;
        self.sv.charge(hw, c);
    }

    /// A call that could not finish: it runs again (a page is coming in), or its metadata
    /// led outside the process's memory (SIGSEGV).
    fn alloc_stopped(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        epc: u64,
        bad: Option<u64>,
        restart: bool,
    ) -> bool {
        if let Some(addr) = bad {
            let k = Kill {
                addr,
                pc: epc,
                access: Some(Access::Load),
                cause: "no-mapping",
                scheme: self.cfg.scheme.name(),
                detail: format!(
                    "the {} allocator's metadata led to {addr:#x}, outside the process's memory: the heap is corrupt (a write past a block's end?)",
                    self.cfg.malloc.name()
                ),
            };
            self.kill(hw, pid, k);
            return true;
        }
        if restart {
            self.heaps
                .entry(self.tgid_of(pid))
                .or_default()
                .stats
                .restarts += 1;
        }
        // The pc stays at the function's entry: the call runs again.
        true
    }

    /// A call that finished: the statistics, the trace, and the return to the caller (or
    /// SIGABRT for a bad free).
    #[allow(clippy::too_many_arguments)]
    fn alloc_finish(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        call: Call,
        a: [u64; 3],
        r: CallResult,
        steps: u64,
        words: u64,
        added: Vec<u64>,
        removed: Vec<u64>,
        bad: Option<u64>,
        restart: bool,
        front: u64,
    ) -> bool {
        if bad.is_some() || restart {
            return self.alloc_stopped(hw, pid, 0, bad, restart);
        }
        let brk = self.address_space(pid).map_or(0, |m| m.brk);
        let h = self.heaps.entry(self.tgid_of(pid)).or_default();
        let s = &mut h.stats;
        s.steps += steps;
        s.words += words;
        for size in added {
            *h.free_sizes.entry(size).or_default() += 1;
            s.free_bytes += size;
        }
        for size in removed {
            if let Some(n) = h.free_sizes.get_mut(&size) {
                *n -= 1;
                if *n == 0 {
                    h.free_sizes.remove(&size);
                }
            }
            s.free_bytes = s.free_bytes.saturating_sub(size);
        }
        s.largest_free = h.free_sizes.keys().next_back().copied().unwrap_or(0);
        s.heap_bytes = brk.saturating_sub(h.base);
        let mut events = Vec::new();
        for &(ptr, granted) in &r.freed {
            if let Some((req, gr)) = h.live.remove(&ptr) {
                s.live_bytes -= req;
                s.granted_bytes -= gr;
            }
            s.frees += 1;
            events.push(Event::Free { pid, ptr, granted });
        }
        for &(ptr, req, granted) in &r.allocated {
            h.live.insert(ptr, (req, granted));
            s.live_bytes += req;
            s.granted_bytes += granted;
            s.allocs += 1;
            if s.live_bytes > s.peak_live_bytes {
                s.peak_live_bytes = s.live_bytes;
                s.internal_at_peak = s.granted_bytes - s.live_bytes.min(s.granted_bytes);
                s.external_at_peak = s.external_permille();
            }
        }
        let asked = match call {
            Call::Calloc => a[0].saturating_mul(a[1]),
            Call::Realloc | Call::AlignedAlloc | Call::Memalign => a[1],
            Call::Reallocarray => a[1].saturating_mul(a[2]),
            Call::PosixMemalign => a[2],
            _ => a[0],
        };
        let allocating = !matches!(call, Call::Free | Call::UsableSize);
        if allocating && r.allocated.is_empty() && r.errno.is_some() {
            s.failed += 1;
        }
        if allocating && !(call == Call::Realloc && a[1] == 0) {
            let (ptr, granted) = r.allocated.first().map_or((0, 0), |&(p, _, g)| (p, g));
            events.insert(
                0,
                Event::Alloc {
                    pid,
                    call: call.symbol(),
                    size: asked,
                    ptr,
                    granted,
                    steps,
                },
            );
        }
        for e in events {
            self.sv.event(hw, e);
        }
        if let Some((what, ptr)) = r.abort {
            let pc = self.index(pid).map_or(0, |pi| self.procs[pi].regs[1]);
            let k = Kill {
                addr: ptr,
                pc,
                access: None,
                cause: Kill::signal_cause(6),
                scheme: self.cfg.scheme.name(),
                detail: format!(
                    "{what}: {}({ptr:#x}) under os.malloc = {} (the C library aborts the same way)",
                    call.symbol(),
                    self.cfg.malloc.name()
                ),
            };
            self.kill(hw, pid, k);
            return true;
        }
        if self.memcheck.is_some() {
            let h = self.heaps.get(&self.tgid_of(pid));
            let entry = h
                .and_then(|h| h.calls.iter().find(|&(_, c)| *c == call))
                .map_or(0, |(&at, _)| at);
            let base = h.map_or(0, |h| h.base);
            let ra = self.index(pid).map_or(0, |pi| self.procs[pi].regs[1]);
            let mut allocated: Vec<(u64, u64)> =
                r.allocated.iter().map(|&(q, n, _)| (q, n)).collect();
            let mut freed: Vec<u64> = r.freed.iter().map(|&(q, _)| q).collect();
            // A realloc kept in place: the block has its new size.
            if matches!(call, Call::Realloc | Call::Reallocarray)
                && allocated.is_empty()
                && a[0] != 0
                && r.ret == a[0]
            {
                allocated.push((a[0], asked));
                freed.push(a[0]);
            }
            if let Some(mc) = self.memcheck.as_mut() {
                mc.heap_extent(pid, base, brk);
                mc.heap_call(pid, entry, call, a, &allocated, &freed, front, ra);
            }
        }
        if let Some(pi) = self.index(pid) {
            let p = &mut self.procs[pi];
            p.regs[10] = r.ret;
            p.pc = p.regs[1];
        }
        true
    }

    /// The live processes' heaps added up, for a timeline sample (`None` under `libc`).
    pub(super) fn heap_sample(&self) -> Option<super::HeapSample> {
        if self.cfg.malloc == MallocKind::Libc {
            return None;
        }
        let mut h = super::HeapSample::default();
        for p in self.procs.iter().filter(|p| !p.state.ended()) {
            if let Some(s) = self.heaps.get(&p.pid).map(|x| x.stats) {
                h.live += s.live_bytes;
                h.granted += s.granted_bytes;
                h.free += s.free_bytes;
                h.largest_free = h.largest_free.max(s.largest_free);
                h.size += s.heap_bytes;
            }
        }
        Some(h)
    }

    /// Each process's allocator counters, for the statistics.
    pub(super) fn for_each_heap_stat(&self, pid: Pid, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        if self.cfg.malloc == MallocKind::Libc {
            return;
        }
        let s = self
            .heaps
            .get(&self.tgid_of(pid))
            .map(|h| h.stats)
            .unwrap_or_default();
        let p = format!("{prefix}.malloc");
        for (n, v) in [
            ("calls", s.calls),
            ("allocs", s.allocs),
            ("frees", s.frees),
            ("failed", s.failed),
            ("steps", s.steps),
            ("words", s.words),
            ("restarts", s.restarts),
            ("live_bytes", s.live_bytes),
            ("peak_live_bytes", s.peak_live_bytes),
            ("granted_bytes", s.granted_bytes),
            (
                "internal_frag_bytes",
                s.granted_bytes - s.live_bytes.min(s.granted_bytes),
            ),
            ("free_bytes", s.free_bytes),
            ("largest_free", s.largest_free),
            ("external_frag_permille", s.external_permille()),
            ("heap_bytes", s.heap_bytes),
            ("internal_frag_at_peak", s.internal_at_peak),
            ("external_frag_at_peak_permille", s.external_at_peak),
        ] {
            f(&format!("{p}.{n}"), v);
        }
    }
}
