//! The interface every memory-management scheme gives the kernel.
//!
//! The kernel (`kernel.rs`) knows processes, the scheduler, traps and system calls; how a
//! process's memory is found, filled, protected and given back is its scheme's business,
//! reached only through [`Scheme`]. Each scheme is one file: `paging.rs` (simple paging and
//! demand paging), `contig.rs` (fixed and dynamic partitions), `seg.rs` (simple and
//! virtual-memory segmentation). A seventh scheme implements the trait and is chosen in
//! [`crate::Kernel::boot`]; nothing else in the kernel changes.
//!
//! A scheme's work on behalf of a process gets a [`Cx`], the kernel's state it may use — its
//! counters and trace, the machine, the disk driver, the processes — as Linux's page-fault
//! path gets a `struct vm_fault`.

use crate::config::{OsConfig, SchemeKind};
use crate::hw::Hw;
use crate::image::{Image, Perm};
use crate::paging::{Admit, Finished, OptFuture, Outcome, Tag};
use crate::process::{Access, AddressSpace, AreaKind, Pid, ProcStats, Process, Spaces};
use crate::services::{DiskDriver, Done, Event, Services};
use crate::wait::WaitQueues;

/// What a scheme may use while it works: the kernel's services, the machine, the disk
/// driver and the processes.
pub struct Cx<'a> {
    /// Configuration, counters, trace and messages.
    pub sv: &'a mut Services,
    /// The machine.
    pub hw: &'a mut dyn Hw,
    /// The disk driver.
    pub disk: &'a mut DiskDriver<Tag>,
    /// Every process (ended ones too).
    pub procs: &'a mut [Process],
    /// The wait queues: a process that blocks waits here for the event that ends its wait.
    pub waits: &'a mut WaitQueues,
    /// Every address space.
    pub spaces: &'a mut Spaces,
    /// The page cache, when it shares memory with processes: a fault that finds no free
    /// frame may take one of its frames ([`crate::pagecache::PageCache::reclaim`]).
    pub cache: Option<&'a mut crate::pagecache::PageCache>,
}

impl Cx<'_> {
    /// The address space `pid` runs in.
    pub fn mm(&self, pid: Pid) -> Option<&AddressSpace> {
        let p = self.procs.iter().find(|p| p.pid == pid)?;
        self.spaces.get(&p.space)
    }

    /// Writes the initial stack's bytes that fall in `[va, va + len)` of `pid`'s address
    /// space into the memory at `pa` that backs it ([`AddressSpace::fill_start`]); true if
    /// any did.
    pub fn fill_start(&mut self, pid: Pid, va: u64, pa: u64, len: u64) -> bool {
        let Some(p) = self.procs.iter().find(|p| p.pid == pid) else {
            return false;
        };
        match self.spaces.get(&p.space) {
            Some(m) => m.fill_start(self.hw, va, pa, len),
            None => false,
        }
    }

    /// Counts a fault of the process at `pi` (`pid`) at `va` (`kind`: `minor` or `major`),
    /// in the kernel's and the process's counters and by the kind of area `va` lies in (a
    /// fault below every area grows the stack), and records its trace event.
    pub fn fault(&mut self, pi: usize, pid: Pid, va: u64, access: Access, kind: &'static str) {
        let Some(p) = self.procs.get_mut(pi) else {
            return;
        };
        let slot = self
            .spaces
            .get(&p.space)
            .and_then(|m| m.area(va))
            .map_or(ProcStats::area_slot(&AreaKind::Stack), |a| {
                ProcStats::area_slot(&a.kind)
            });
        if matches!(kind, "minor" | "major" | "cow") {
            p.stats.faults_by_area[slot] += 1;
        }
        self.sv.fault(self.hw, &mut p.stats, pid, va, access, kind);
    }

    /// The address space `pid` runs in, to change.
    pub fn mm_mut(&mut self, pid: Pid) -> Option<&mut AddressSpace> {
        let p = self.procs.iter().find(|p| p.pid == pid)?;
        self.spaces.get_mut(&p.space)
    }
}

/// FNV-1a over `bytes`, continuing from `h` (start with [`FNV_OFFSET`]): how the
/// schemes recognise a program `execve` placed before.
pub fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// FNV-1a's starting value.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

/// Takes `blocks` blocks (0: half of what is free) from the end of a disk of `total`
/// blocks whose first `used` are taken and whose blocks from `*end` on (if set) were taken
/// before; moves `*end` down and returns the first block and the count. The schemes'
/// [`Scheme::reserve_disk`].
pub fn reserve_from_end(
    used: u64,
    end: &mut Option<u64>,
    total: u64,
    blocks: u64,
) -> Option<(u64, u64)> {
    let top = end.unwrap_or(total);
    let left = top.saturating_sub(used);
    let n = if blocks == 0 {
        left / 2
    } else {
        blocks.min(left)
    };
    if n == 0 {
        return None;
    }
    let first = top - n;
    *end = Some(first);
    Some((first, n))
}

/// Where a user address is, for the kernel's copies to and from user memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserAddr {
    /// In memory at physical address `pa`; `len` bytes from there are contiguous (to the
    /// end of the page, segment or address space).
    Mapped {
        /// The physical address.
        pa: u64,
        /// Bytes that follow contiguously, at least 1.
        len: u64,
    },
    /// The process may access it, but it is not in memory: fault it in (as the process's
    /// own access would) and run the system call again.
    Absent,
    /// The process may not access it: `-EFAULT`.
    Invalid,
}

/// What a scheme did for a `fork` ([`Scheme::fork`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forked {
    /// The child's memory is ready: it may run.
    Ready,
    /// The child's memory is being read or copied from the disk: it runs once the scheme's
    /// transfers wake it (as an admitted process that is `Loading`).
    Loading,
    /// The parent's memory is in transfer (a page being written out): the parent waits
    /// for this event, then its `fork` runs again.
    Busy(crate::wait::WaitOn),
    /// The fork cannot be done: no memory for the child now (`ENOMEM`), with why.
    NoMemory(String),
    /// The scheme cannot hold two copies of a process (the reason).
    Unsupported(String),
}

/// Where a new process's heap and stack go in its address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The heap's start (the break starts here).
    pub heap_start: u64,
    /// The most the break may reach.
    pub brk_limit: u64,
    /// One past the stack's highest byte.
    pub stack_top: u64,
    /// The stack's lowest byte at the start.
    pub stack_start: u64,
    /// The lowest the stack may grow down to (`stack_start` when it cannot grow).
    pub stack_floor: u64,
}

/// The fixed-point shift of [`MemUse::pss_frac`]: PSS is accumulated in units of
/// 2^-12 bytes, as Linux's `PSS_SHIFT`, so that a page shared three ways loses nothing
/// before the sum is shifted down.
pub const PSS_SHIFT: u32 = 12;

/// A process's memory use as Linux's `/proc/PID/smaps_rollup` measures it.
///
/// Every mapping of a frame in the process's address space counts: `rss` adds the page
/// size, `pss` the page size divided by the number of mappings of that frame in every
/// address space (copy-on-write sharers after a fork, every process mapping a page-cache
/// page), `uss` the page size if this is the frame's only mapping. So
/// `uss <= pss <= rss`, and the PSS of every address space adds up to the bytes of the
/// frames mapped at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemUse {
    /// Resident set size: bytes of the frames mapped.
    pub rss: u64,
    /// Proportional set size in units of 2^-[`PSS_SHIFT`] bytes ([`MemUse::pss`] gives
    /// bytes).
    pub pss_frac: u64,
    /// Unique set size: bytes of the frames no other mapping shares.
    pub uss: u64,
}

impl MemUse {
    /// All three equal to `bytes`: memory the process holds alone (a partition, a block,
    /// segments, pages no one shares).
    pub fn private(bytes: u64) -> MemUse {
        MemUse {
            rss: bytes,
            pss_frac: bytes << PSS_SHIFT,
            uss: bytes,
        }
    }

    /// Counts one mapping of a frame of `page` bytes that has `mappings` mappings in all
    /// (this one included; 0 is taken as 1).
    pub fn add(&mut self, page: u64, mappings: u64) {
        let n = mappings.max(1);
        self.rss += page;
        self.pss_frac += (page << PSS_SHIFT) / n;
        if n == 1 {
            self.uss += page;
        }
    }

    /// The PSS in bytes (the fixed-point sum shifted down, as Linux reports it).
    pub fn pss(&self) -> u64 {
        self.pss_frac >> PSS_SHIFT
    }

    /// The sum of two measures (a scheme's frames and the page cache's).
    pub fn plus(self, o: MemUse) -> MemUse {
        MemUse {
            rss: self.rss + o.rss,
            pss_frac: self.pss_frac + o.pss_frac,
            uss: self.uss + o.uss,
        }
    }
}

/// A memory-management scheme: everything the kernel asks of one.
pub trait Scheme {
    /// Which scheme it is.
    fn kind(&self) -> SchemeKind;

    /// The name reports use (`vm-paging`, ...).
    fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Where a process of `image` keeps its heap and stack, or why it cannot run.
    fn layout(&self, cfg: &OsConfig, image: &Image) -> Result<Layout, String>;

    /// Writes a program's image onto the disk at boot, where admission and faults read it.
    fn place_image(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String>;

    /// Writes the image of a program `pid` is about to `execve` onto the disk, where the
    /// address space `space` it will run in reads it (as [`Scheme::place_image`] does at
    /// boot; the same program placed before is reused). `Err` says why it cannot be (the
    /// disk has no room, or the scheme cannot run such a program): the `execve` fails and
    /// the process goes on with its old image.
    fn place_exec(
        &mut self,
        _hw: &mut dyn Hw,
        _disk: &DiskDriver<Tag>,
        _pid: Pid,
        _space: crate::process::SpaceId,
        _image: &Image,
    ) -> Result<(), String> {
        Err(format!("{} cannot run a program execve names", self.name()))
    }

    /// Lays out the swap area on the disk after the images.
    fn layout_swap(&mut self, _disk: &DiskDriver<Tag>) {}

    /// Takes `blocks` blocks of the disk after what is placed so far (0: half of what is
    /// left) for the file system's data, before the swap area is laid out; the first block
    /// and the count, or `None` if nothing is left.
    fn reserve_disk(&mut self, disk: &DiskDriver<Tag>, blocks: u64) -> Option<(u64, u64)>;

    /// Gives a new process its memory (or says it must wait, or can never fit).
    fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit;

    /// Loads the process's translation registers (a context switch to it), its address
    /// space tagged with `asid` (the kernel flushed what the ASID allocator said).
    fn activate(&mut self, hw: &mut dyn Hw, pid: Pid, asid: u16) -> Result<(), String>;

    /// The kernel stored to `[va, va + len)` of `pid` (a system call's copy to user
    /// memory, straight to the frames): the pages are dirty now, as the process's own store
    /// would have made them through the MMU.
    fn stored(&mut self, _pid: Pid, _va: u64, _len: u64) {}

    /// `fork`: gives `child` (already among the processes, running in an address space of
    /// its own that the kernel copied from `parent`'s: same areas, a new id) memory holding
    /// what `parent`'s holds now, charging what that costs. The paging schemes share every
    /// page copy-on-write; the others copy what they must. On anything but `Ready` or
    /// `Loading` the scheme holds nothing for the child.
    fn fork(&mut self, _cx: &mut Cx, _parent: Pid, _child: Pid) -> Forked {
        Forked::Unsupported(format!("{} cannot fork a process yet", self.name()))
    }

    /// A page, segment or bounds fault of `pid` at `va`.
    fn fault(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome;

    /// A disk request of the scheme finished for good.
    fn disk_done(&mut self, cx: &mut Cx, done: Done<Tag>) -> Finished;

    /// The process ended: everything it holds goes back.
    fn release(&mut self, cx: &mut Cx, pid: Pid);

    /// Whether two tasks can run in one address space ([`Scheme::share_space`]).
    fn shares_spaces(&self) -> bool {
        false
    }

    /// Lets `child` run in the address space of `parent` (a thread, `clone(CLONE_VM)`):
    /// the same translation, the same pages. `Err` says why the scheme cannot (the kernel
    /// then fails the `clone`). A later [`Scheme::release`] of either keeps the space while
    /// the other runs in it.
    fn share_space(&mut self, _cx: &mut Cx, _parent: Pid, _child: Pid) -> Result<(), String> {
        Err(format!(
            "{} keeps one address space per process: two tasks cannot share one",
            self.name()
        ))
    }

    /// Where `va` of `pid` (which runs in `mm`) is, for a copy the kernel makes (`access`
    /// says which way).
    fn user_addr(
        &self,
        hw: &dyn Hw,
        mm: Option<&AddressSpace>,
        pid: Pid,
        va: u64,
        access: Access,
    ) -> UserAddr;

    /// The break moves from `old` to `new` (within the heap's limits): the scheme gives the
    /// heap memory or takes it back, and returns where the heap's area now ends; `None` if
    /// it cannot (the break stays).
    fn set_brk(&mut self, cx: &mut Cx, pid: Pid, old: u64, new: u64) -> Option<u64>;

    /// Where the heap's area would end for a break at `brk` (it grows in whole pages, or
    /// segment granules, or 16 bytes): the kernel checks that end against the other areas
    /// before it moves the break.
    fn heap_end(&self, brk: u64) -> u64;

    /// Walks the scheme's statistics under stable names.
    fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64));

    /// The bytes of user memory free now (`sysinfo`'s `freeram`), if the scheme keeps
    /// count.
    fn free_bytes(&self) -> Option<u64> {
        None
    }

    /// The page size, for a scheme that maps memory page by page (`mmap`, `munmap`,
    /// `mprotect`, `msync` need one); `None` for the others.
    fn page_size(&self) -> Option<u64> {
        None
    }

    /// Whether the scheme brings pages in on demand (file mappings need it).
    fn demand_paged(&self) -> bool {
        false
    }

    /// Gives `[start, end)` of `pid` memory now, if the scheme does not wait for faults.
    /// False if memory ran out (the pages given so far stay).
    fn populate(&mut self, _cx: &mut Cx, _pid: Pid, _start: u64, _end: u64, _perm: Perm) -> bool {
        true
    }

    /// The populated pages of `[start, end)` of `pid` are a `MAP_SHARED | MAP_ANONYMOUS`
    /// mapping of a scheme that cannot map files (simple paging): a `fork` must share them,
    /// not copy them. The others ignore it.
    fn share_anon(&mut self, _pid: Pid, _start: u64, _end: u64) {}

    /// Releases the pages of `[start, end)` of `pid` (munmap, a shrinking heap).
    fn unmap(&mut self, _cx: &mut Cx, _pid: Pid, _start: u64, _end: u64) {}

    /// Drops the pages of `[start, end)` of `pid` that `madvise(MADV_DONTNEED)` lets go:
    /// a private page comes back as zeros (or the program's bytes), so it goes; a shared
    /// one keeps its contents, which its next access finds again. By default, as `unmap`.
    fn discard(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64) {
        self.unmap(cx, pid, start, end);
    }

    /// Changes the permissions of the resident pages of `[start, end)` of `pid`.
    fn protect(&mut self, _cx: &mut Cx, _pid: Pid, _start: u64, _end: u64, _perm: Perm) {}

    /// Whether the page of `va` of `pid` must be filled from its file: it has no frame, no
    /// swap slot, and no transfer under way (a demand-paged scheme; the kernel then brings
    /// the file page into the page cache and calls [`Scheme::map_cached`] or
    /// [`Scheme::copy_cached`]).
    fn needs_file_page(&self, _pid: Pid, _va: u64) -> bool {
        false
    }

    /// Maps the page-cache frame `frame` at the page of `va` of `pid` (a shared file
    /// mapping: the process's page *is* the cached page), dirty if `store`. The frame
    /// stays the cache's: the scheme never frees, evicts or swaps it.
    fn map_cached(
        &mut self,
        _cx: &mut Cx,
        _pid: Pid,
        _va: u64,
        _frame: u64,
        _store: bool,
    ) -> Outcome {
        Outcome::Resume
    }

    /// Gives the page of `va` of `pid` a frame of its own holding a copy of the page-cache
    /// frame `frame` (a private file mapping). `Outcome::Block` when the frame must first
    /// be written out: the process then faults again once it may run.
    fn copy_cached(
        &mut self,
        _cx: &mut Cx,
        _pid: Pid,
        _va: u64,
        _frame: u64,
        _access: Access,
    ) -> Outcome {
        Outcome::Resume
    }

    /// Unmaps the cached page mapped at page `vpn` of `pid` ([`Scheme::map_cached`]): its
    /// PTE goes (and its TLB entry). Returns whether the process had stored to it since it
    /// was last cleaned; `None` if no cached page is mapped there.
    fn drop_cached(&mut self, _cx: &mut Cx, _pid: Pid, _vpn: u64) -> Option<bool> {
        None
    }

    /// Maps the cached page at page `vpn` of `pid` clean again (its write-back starts: the
    /// next store must fault so that the cache hears of it). Returns whether it was dirty.
    fn clean_cached(&mut self, _cx: &mut Cx, _pid: Pid, _vpn: u64) -> bool {
        false
    }

    /// A free frame of user memory for the page cache, which then holds it (a scheme whose
    /// frames the cache may share; `None`: none is free, or the scheme lends none). With
    /// `must` (the cache holds no frame at all) a clean process page is evicted for it if
    /// no frame is free.
    fn lend_frame(&mut self, _cx: &mut Cx, _must: bool) -> Option<u64> {
        None
    }

    /// Whether the hosted loop must report every page reference ([`Scheme::referenced`]).
    fn wants_references(&self) -> bool {
        false
    }

    /// The running process referenced `va`.
    fn referenced(&mut self, _pid: Pid, _va: u64) {}

    /// Gives OPT the future (its second pass).
    fn set_future(&mut self, _future: OptFuture) {}

    /// The bytes of memory `pid` holds now: its resident pages, its partition or block,
    /// its segments in memory (the trace's samples).
    fn resident_bytes(&self, _pid: Pid) -> u64 {
        0
    }

    /// `pid`'s RSS, PSS and USS ([`MemUse`]) over the frames the scheme itself maps for it
    /// (page-cache pages a shared file mapping maps are the kernel's to add: their
    /// reverse map is the page cache's). By default all three are
    /// [`Scheme::resident_bytes`]: the process holds its memory alone. A scheme whose
    /// processes share memory (copy-on-write pages, shared text segments) overrides it.
    fn memory_use(&self, pid: Pid) -> MemUse {
        MemUse::private(self.resident_bytes(pid))
    }

    /// The fixed partitions, base and size each, in order (empty under other schemes).
    fn partitions(&self) -> Vec<(u64, u64)> {
        Vec::new()
    }

    /// The physical address of `pid`'s root page table (paging schemes).
    fn root(&self, _pid: Pid) -> Option<u64> {
        None
    }

    /// Starts (or stops) logging the frame table's changes for the trace; starting logs
    /// every frame that is not free as it is now.
    fn set_frame_log(&mut self, _on: bool) {}

    /// The `frame` events of the frame table's changes since the last call, oldest first.
    fn take_frame_events(&mut self) -> Vec<Event> {
        Vec::new()
    }

    /// How many user frames are free, hold a page, a page table, kernel data, the page
    /// cache (paging schemes).
    fn frame_census(&self) -> Option<[u64; 5]> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_divides_each_page_among_its_mappings() {
        // (mappings of each page this process maps) → (rss, pss, uss) for 4 KiB pages.
        let cases: &[(&[u64], u64, u64, u64)] = &[
            (&[], 0, 0, 0),
            (&[1, 1, 1], 12288, 12288, 12288),
            (&[2, 2], 8192, 4096, 0),
            (&[1, 2], 8192, 6144, 4096),
            // Three sharers: each share is ⌊4096·2^12/3⌋ units of 2^-12 bytes; three make
            // 2^24 − 1 units, shifted down to 4095 bytes (as Linux shows them).
            (&[3, 3, 3], 12288, 4095, 0),
            (&[3, 3, 3, 3, 3, 3], 24576, 8191, 0),
            (&[3], 4096, 1365, 0),
            (&[0], 4096, 4096, 4096),
        ];
        for &(maps, rss, pss, uss) in cases {
            let mut m = MemUse::default();
            for &n in maps {
                m.add(4096, n);
            }
            assert_eq!((m.rss, m.pss(), m.uss), (rss, pss, uss), "{maps:?}");
            assert!(m.uss <= m.pss() && m.pss() <= m.rss);
        }
    }

    #[test]
    fn sharers_pss_adds_up_to_the_frames() {
        // A frame shared by three processes and one shared by two: every sharer's PSS
        // adds up to the two frames' bytes (within the rounding of each shift).
        let (mut a, mut b, mut c) = (MemUse::default(), MemUse::default(), MemUse::default());
        for m in [&mut a, &mut b, &mut c] {
            m.add(4096, 3);
        }
        a.add(4096, 2);
        b.add(4096, 2);
        let total = a.pss_frac + b.pss_frac + c.pss_frac;
        assert_eq!(total >> PSS_SHIFT, 8191); // 3 × ⌊4096·2^12/3⌋ loses 1/2^12 byte
        assert!(8192 - (a.pss() + b.pss() + c.pss()) <= 3);
        assert_eq!(a.plus(c).rss, 12288);
        assert_eq!(MemUse::private(8192).pss(), 8192);
    }
}
