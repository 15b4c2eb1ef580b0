//! The kernel: boot, processes, the scheduler, trap dispatch and system calls.
//!
//! The hosted machine calls [`Kernel::boot`] once, then runs the hart; whenever the hart
//! traps into M-mode it calls [`Kernel::trap`], which handles the trap and leaves the hart
//! in U-mode in some process, or reports that every process has ended.

mod checker;
mod execve;
mod files;
mod fork;
mod fsmeta;
mod futex;
mod io;
mod malloc;
mod mapped;
mod pipes;
mod proc;
mod shm;
mod signal;
mod syscalls;
mod thread;
mod time;
mod trace;

pub use syscalls::{lookup as syscall, CopyFault, Handler, SysResult, Syscall, TABLE as SYSCALLS};
pub use trace::{TraceInfo, REFS_BATCH};

use crate::asid::AsidAllocator;
use crate::config::{OsConfig, SchemeKind};
use crate::contig::Contig;
use crate::hw::Hw;
use crate::image::{Image, Perm};
use crate::paging::{Admit, OptFuture, Outcome, Paging, Tag};
use crate::process::{
    Access, AddressSpace, Area, AreaKind, FileTable, FileTables, FilesId, Kill, Pid, ProcStats,
    Process, SpaceId, Spaces, State,
};
use crate::scheme::{Cx, Layout, Scheme};
use crate::seg::Segments;
use crate::services::{DiskDriver, Event, KernelStats, Record, Services};
use crate::wait::{WaitOn, WaitQueues};
use crate::workingset::{WorkingSet, NOT_IN_BATCH, RECENT};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use vmlab_cpu::csr::addr as csr;
use vmlab_cpu::trap::{Exception, Interrupt, Trap};
use vmlab_devices::clint::{CLINT_MTIME, CLINT_MTIMECMP};
use vmlab_mmu::{Flush, Format};

/// Linux RISC-V system call numbers the kernel serves.
pub mod sys {
    /// `read(fd, buf, count)`.
    pub const READ: u64 = 63;
    /// `write(fd, buf, count)`.
    pub const WRITE: u64 = 64;
    /// `exit(code)`.
    pub const EXIT: u64 = 93;
    /// `exit_group(code)`.
    pub const EXIT_GROUP: u64 = 94;
    /// `sched_yield()`.
    pub const SCHED_YIELD: u64 = 124;
    /// `getpid()`.
    pub const GETPID: u64 = 172;
    /// `clone` (`fork`, `vfork`, threads).
    pub const CLONE: u64 = 220;
    /// `brk(addr)`.
    pub const BRK: u64 = 214;
    /// `munmap(addr, len)`.
    pub const MUNMAP: u64 = 215;
    /// `mmap(addr, len, prot, flags, fd, offset)`.
    pub const MMAP: u64 = 222;
    /// `mprotect(addr, len, prot)`.
    pub const MPROTECT: u64 = 226;
    /// `msync(addr, len, flags)`.
    pub const MSYNC: u64 = 227;
    /// `openat(dirfd, path, flags, mode)`.
    pub const OPENAT: u64 = 56;
    /// `close(fd)`.
    pub const CLOSE: u64 = 57;
}

/// Linux error numbers the kernel returns (negated in `a0`).
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: u64 = 1;
    /// Not a directory.
    pub const ENOTDIR: u64 = 20;
    /// Is a directory.
    pub const EISDIR: u64 = 21;
    /// Too many open files.
    pub const EMFILE: u64 = 24;
    /// File too large.
    pub const EFBIG: u64 = 27;
    /// Too many levels of symbolic links.
    pub const ELOOP: u64 = 40;
    /// Operation not supported.
    pub const EOPNOTSUPP: u64 = 95;
    /// No such process.
    pub const ESRCH: u64 = 3;
    /// No child processes.
    pub const ECHILD: u64 = 10;
    /// Argument list too long.
    pub const E2BIG: u64 = 7;
    /// Exec format error.
    pub const ENOEXEC: u64 = 8;
    /// Accessing a corrupted shared library (a dynamic linker that is not an ELF).
    pub const ELIBBAD: u64 = 80;
    /// Try again: a process limit reached (`fork`), a call on a non-blocking descriptor
    /// that would wait.
    pub const EAGAIN: u64 = 11;
    /// Device or resource busy.
    pub const EBUSY: u64 = 16;
    /// Not a terminal.
    pub const ENOTTY: u64 = 25;
    /// Illegal seek.
    pub const ESPIPE: u64 = 29;
    /// A result out of range (a buffer too small).
    pub const ERANGE: u64 = 34;
    /// No such file.
    pub const ENOENT: u64 = 2;
    /// An I/O error (the disk failed a write-back).
    pub const EIO: u64 = 5;
    /// Permission denied.
    pub const EACCES: u64 = 13;
    /// Bad file descriptor.
    pub const EBADF: u64 = 9;
    /// Out of memory.
    pub const ENOMEM: u64 = 12;
    /// Bad address.
    pub const EFAULT: u64 = 14;
    /// No such device (a file mapping the scheme cannot serve).
    pub const ENODEV: u64 = 19;
    /// Invalid argument.
    pub const EINVAL: u64 = 22;
    /// A path longer than `PATH_MAX`.
    pub const ENAMETOOLONG: u64 = 36;
    /// Function not implemented.
    pub const ENOSYS: u64 = 38;
    /// Broken pipe: a write to a pipe no process can read.
    pub const EPIPE: u64 = 32;
    /// Interrupted: a signal handler cut the call short.
    pub const EINTR: u64 = 4;
    /// The time ran out (a futex wait's timeout).
    pub const ETIMEDOUT: u64 = 110;
}

/// Faults per live process in a row, with no instruction retired anywhere, after which the
/// faulting process is killed as livelocked (one instruction touches at most a few pages:
/// its fetch, its data, each possibly straddling, and the A/D updates of each).
const MAX_FAULT_STREAK: u32 = 64;

const MAP_SHARED: u64 = 0x01;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;

/// A process's page references as the kernel follows them.
/// A batch of references to the pages a working set lists as its most recent (all in the
/// set): for each, the index within the batch of its latest reference.
/// The process is the running one: the batch ends when it is switched out.
#[derive(Clone, Debug)]
struct Hot {
    pid: Pid,
    /// The pages ([`NO_PAGE`] where none, and all when references are not batched).
    pages: [u64; RECENT],
    last: [u64; RECENT],
    n: u64,
}

impl Hot {
    const EMPTY: Hot = Hot {
        pid: 0,
        pages: [NO_PAGE; RECENT],
        last: [NOT_IN_BATCH; RECENT],
        n: 0,
    };
}

/// No page: page numbers are addresses shifted right, never this large.
const NO_PAGE: u64 = u64::MAX;

struct RefState {
    /// The page it referenced last (repeats are collapsed).
    last: Option<u64>,
    /// Its working set.
    ws: WorkingSet,
    /// The largest its working set has been.
    peak: u64,
}

/// One point of the timeline: the counters when the sample was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sample {
    /// Instructions retired so far.
    pub instret: u64,
    /// The clock.
    pub cycle: u64,
    /// Page (and segment) faults so far, minor and major.
    pub faults: u64,
    /// Major faults so far.
    pub major: u64,
    /// Idle cycles so far.
    pub idle: u64,
    /// The working-set sizes of the live processes, added up (pages).
    pub working_set: u64,
    /// Processes ready or running.
    pub runnable: u64,
    /// Processes blocked on the disk.
    pub blocked: u64,
    /// The live processes' heaps under `os.malloc`, added up (none under `libc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heap: Option<HeapSample>,
}

/// The heaps at a timeline sample, added up over the live processes (`os.malloc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HeapSample {
    /// Bytes the live blocks asked for.
    pub live: u64,
    /// Heap bytes the live blocks take (live + internal fragmentation).
    pub granted: u64,
    /// Bytes in free blocks.
    pub free: u64,
    /// The largest free block of any of the heaps.
    pub largest_free: u64,
    /// The heaps' sizes.
    pub size: u64,
}

/// A process's memory use when last measured, and the most it reached
/// ([`Kernel::memory_use`]; measured at every timeline sample and when the process ends).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct MemRecord {
    /// The last measure.
    last: crate::scheme::MemUse,
    /// The largest RSS measured (bytes).
    rss_peak: u64,
    /// The largest PSS measured (bytes).
    pss_peak: u64,
}

impl MemRecord {
    /// Takes measure `m`.
    fn note(&mut self, m: crate::scheme::MemUse) {
        self.last = m;
        self.rss_peak = self.rss_peak.max(m.rss);
        self.pss_peak = self.pss_peak.max(m.pss());
    }
}

/// How a hosted run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Every process ended; the exit status is that of the first process that failed
    /// (its exit code, or 128 + its signal when killed), else 0.
    AllEnded {
        /// The status.
        status: u8,
    },
    /// Processes are left that can never run (each waits for memory no one will free, or
    /// for a device that has nothing scheduled).
    Stuck(String),
}

/// The modelled kernel.
pub struct Kernel {
    cfg: OsConfig,
    procs: Vec<Process>,
    ready: VecDeque<Pid>,
    current: Option<Pid>,
    /// The memory-management scheme.
    mem: Box<dyn Scheme>,
    /// ASIDs for the address spaces.
    asids: AsidAllocator,
    /// What blocked processes wait for.
    waits: WaitQueues,
    /// Every address space, by id.
    spaces: Spaces,
    /// Every file table, by id.
    file_tables: FileTables,
    /// The page size's bits, for a scheme with pages (a page reference is `va >> shift`;
    /// kept here because the hosted loop reports every reference).
    page_shift: Option<u32>,
    /// `page_shift` for [`Kernel::reference`] (0 without pages: nothing is then referenced).
    ref_shift: u32,
    disk: DiskDriver<Tag>,
    sv: Services,
    finish: Option<Finish>,
    /// The timer's `mtime` rate.
    divider: u64,
    clint: u64,
    /// Clock time when the current kernel entry began.
    entered: u64,
    idle_in_entry: u64,
    /// The process that was running when the current kernel entry began (its kernel time is
    /// charged to it, as Linux charges system time to the current task).
    entry_pid: Option<Pid>,
    /// Each process's kernel cycles so far, for the trace's samples (host-side accounting).
    kernel_of: BTreeMap<Pid, u64>,
    /// The last page the running process referenced ([`NO_PAGE`] when none since it was
    /// switched in): the common case of a reference, the same page as the one before, is
    /// answered with one compare.
    last_fast: u64,
    /// References to the running process's most recent pages, counted here in a batch and
    /// given to its working set later ([`Kernel::settle_references`]) when nothing but the
    /// working set follows references: a loop moves among its code page and a few data
    /// pages, and each move is a reference.
    hot: Hot,
    /// The scheme's policy follows references ([`Scheme::wants_references`]: exact LRU,
    /// OPT), so each page reference goes to it too.
    scheme_refs: bool,
    /// The pages each process referenced, repeats collapsed (when recording for OPT).
    recording: Option<BTreeMap<Pid, Vec<u64>>>,
    /// Each process's references, by pid: its last page, its working set, and the largest
    /// the working set has been (a vector: a reference is on the simulator's hot path).
    refs: Vec<Option<RefState>>,
    /// The timeline, and the instruction count of the next sample.
    timeline: Vec<Sample>,
    next_sample: u64,
    /// Each process's RSS, PSS and USS as last measured, and their peaks.
    mem_use: BTreeMap<Pid, MemRecord>,
    /// The livelock guard: faults in a row with no instruction retired, and the retired
    /// count when the streak began.
    fault_streak: u32,
    fault_mark: u64,
    /// The hart's single-letter extensions, for `AT_HWCAP`.
    hwcap: u64,
    /// Each process's heap under `os.malloc` (none under `libc`).
    heaps: BTreeMap<Pid, malloc::HeapState>,
    /// The memory checker (`os.memcheck`).
    memcheck: Option<Box<crate::memcheck::Memcheck>>,
    /// The clock's rate (cycles per second of modelled time).
    clock_hz: u64,
    /// The bytes of RAM given to user memory.
    user_bytes: u64,
    /// The first byte of user memory.
    user_base: u64,
    /// Page references not yet in a `refs` trace record (only while tracing).
    trace_refs: Vec<(Pid, u64)>,
    /// What the trace last said of each process's areas and address space.
    trace_seen: BTreeMap<Pid, trace::Seen>,
    /// `getrandom`'s generator state (seeded from `os.seed`).
    rng: u64,
    /// Sleeping processes by the cycle they wake at (`nanosleep`, and futex waits with a
    /// timeout).
    sleepers: std::collections::BTreeSet<(u64, Pid)>,
    /// The futexes processes sleep on.
    futexes: futex::Futexes,
    /// System calls not served, by number: how many times each was made.
    unserved: BTreeMap<u64, u64>,
    /// Whose floating-point registers the hart holds (none: the initial zeros).
    fp_owner: Option<Pid>,
    /// The guest's file system and page cache (none without a disk).
    fs: Option<files::FileSys>,
    /// Open file descriptions, by id.
    descs: BTreeMap<u64, files::Desc>,
    next_desc: u64,
    /// Every pipe and its open ends.
    pipes: crate::pipe::Pipes,
    /// Pages of guest-file mappings whose process waits for the page cache to read them
    /// (its retried fault is then a major one).
    file_waits: std::collections::BTreeSet<(Pid, u64)>,
    /// Guest files some address space maps (each held open once).
    mapped_inos: std::collections::BTreeSet<u64>,
    /// Bytes a `read` or `write` of a regular file moved before it had to wait: the call
    /// runs again and goes on from there.
    io_carry: BTreeMap<Pid, u64>,
    /// The pid the next forked process gets.
    next_pid: Pid,
    /// How many processes vmlab started (pids 1 to this).
    started: Pid,
    /// How many files `MAP_SHARED | MAP_ANONYMOUS` mappings have made (their names).
    next_shmem: u64,
    /// The System V shared-memory segments.
    shm: shm::ShmTable,
}

impl Kernel {
    /// Boots the kernel on `hw` and creates a process for each image. `formats` resolves
    /// `os.format`. On success the hart is in U-mode in the first process (or the kernel has
    /// already finished, if no process could run).
    pub fn boot(
        cfg: OsConfig,
        hw: &mut dyn Hw,
        images: Vec<Image>,
        format: Arc<Format>,
    ) -> Result<Kernel, String> {
        Kernel::boot_with_files(cfg, hw, images, format, Vec::new())
    }

    /// [`Kernel::boot`] with the files of `--file NAME=PATH`: each `(name, bytes)` becomes
    /// the file `/NAME` of the guest file system ([`crate::fs::Vfs::add_file`]).
    pub fn boot_with_files(
        cfg: OsConfig,
        hw: &mut dyn Hw,
        images: Vec<Image>,
        format: Arc<Format>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Kernel, String> {
        cfg.validate()?;
        if images.is_empty() {
            return Err("no program to run".into());
        }
        if images.len() > 0xfffe {
            return Err(format!(
                "{} programs is more than the kernel can run (65534)",
                images.len()
            ));
        }
        let dev = hw.devices();
        let Some(clint) = dev.clint else {
            return Err("the hosted machine needs the CLINT timer (memory.clint.enabled = true) for its scheduler".into());
        };
        let (ram_base, ram_size) = hw.ram();
        let page = 1u64 << format.page_offset_bits();
        let reserve = cfg
            .kernel_reserve
            .checked_next_multiple_of(page)
            .unwrap_or(u64::MAX);
        if reserve >= ram_size {
            return Err(format!(
                "os.kernel_reserve = {} leaves no RAM for processes (memory.ram.size = {ram_size})",
                cfg.kernel_reserve
            ));
        }
        // The page cache's frames, at the top of RAM (pages of the file system's size: the
        // page size, or the disk block if that is larger).
        let block = hw.devices().block_size;
        let fs_page = page.max(block).max(1);
        // Under the paging schemes the cache shares the processes' frames (it takes free
        // ones as it grows, up to os.page_cache_frames, and gives clean pages back to a
        // fault that finds none free); the other schemes, and a disk block larger than a
        // page, give it a pool of its own at the top of RAM.
        let shared_cache = matches!(cfg.scheme, SchemeKind::SimplePaging | SchemeKind::VmPaging)
            && fs_page == page;
        let cache_bytes = if block > 0 && !shared_cache {
            cfg.page_cache_frames.saturating_mul(fs_page)
        } else {
            0
        };
        if cache_bytes.saturating_add(reserve).saturating_add(page) > ram_size {
            return Err(format!(
                "os.page_cache_frames = {} ({cache_bytes} bytes) leaves no RAM for processes (memory.ram.size = {ram_size})",
                cfg.page_cache_frames
            ));
        }
        let cache_base = (ram_base + ram_size - cache_bytes) & !(fs_page - 1);
        let avail = (cache_base - ram_base - reserve) / page;
        let frames = if cfg.user_frames == 0 {
            avail
        } else if cfg.user_frames > avail {
            return Err(format!(
                "os.user_frames = {} but RAM above the kernel's {reserve} bytes holds only {avail} frames",
                cfg.user_frames
            ));
        } else {
            cfg.user_frames
        };
        // Trap setup: everything to M (the kernel), the timer and the disk interrupt on.
        let w = |hw: &mut dyn Hw, a: u16, v: u64| hw.write_csr(a, v);
        w(hw, csr::MTVEC, ram_base)?;
        w(hw, csr::MEDELEG, 0)?;
        w(hw, csr::MIDELEG, 0)?;
        w(hw, csr::MIE, 1 << 7 | 1 << 11)?;
        // User programs may read cycle, time and instret (rdcycle, rdtime, rdinstret): with
        // S-mode present, U-mode needs both counter-enable registers to allow them.
        w(hw, csr::MCOUNTEREN, 7)?;
        w(hw, csr::SCOUNTEREN, 7)?;
        // The FP unit on (mstatus.FS = Initial), so that processes may use F and D (on a
        // hart without them the field stays 0).
        let mstatus = hw.read_csr(csr::MSTATUS);
        w(hw, csr::MSTATUS, (mstatus & !(3 << 13)) | 1 << 13)?;
        let disk = DiskDriver::new(hw, cfg.disk_retries);
        let mem = match cfg.scheme {
            SchemeKind::SimplePaging | SchemeKind::VmPaging => {
                if cfg.scheme == SchemeKind::VmPaging && !disk.present() {
                    return Err("vm-paging pages from the disk; enable memory.diskctl".into());
                }
                Box::new(Paging::new(&cfg, format, ram_base + reserve, frames)?)
            }
            other => {
                if !disk.present() {
                    return Err(format!(
                        "{} loads programs from the disk; enable memory.diskctl",
                        other.name()
                    ));
                }
                let (base, size) = (ram_base + reserve, frames * page);
                if matches!(
                    other,
                    SchemeKind::FixedPartitions | SchemeKind::DynamicPartitions
                ) {
                    Box::new(Contig::new(&cfg, base, size)?) as Box<dyn Scheme>
                } else {
                    Box::new(Segments::new(&cfg, base, size)?)
                }
            }
        };
        let sv = Services {
            cfg: cfg.clone(),
            stats: KernelStats::default(),
            trace: None,
            messages: Vec::new(),
        };
        let cfg_seed = cfg.seed;
        let asids = AsidAllocator::new(if cfg.asids { cfg.asid_bits } else { 0 })
            .map_err(|e| format!("os.asid_bits: {e}"))?;
        let mut k = Kernel {
            asids,
            waits: WaitQueues::new(),
            spaces: Spaces::new(),
            file_tables: FileTables::new(),
            page_shift: mem.page_size().map(u64::trailing_zeros),
            ref_shift: mem.page_size().map_or(0, u64::trailing_zeros),
            divider: dev.timer_divider.max(1),
            clint,
            cfg,
            procs: Vec::new(),
            ready: VecDeque::new(),
            current: None,
            mem,
            disk,
            sv,
            finish: None,
            entered: 0,
            idle_in_entry: 0,
            entry_pid: None,
            kernel_of: BTreeMap::new(),
            recording: None,
            refs: Vec::new(),
            last_fast: NO_PAGE,
            heaps: BTreeMap::new(),
            memcheck: None,
            hot: Hot::EMPTY,
            scheme_refs: false,

            timeline: Vec::new(),
            next_sample: 0,
            mem_use: BTreeMap::new(),
            fault_streak: 0,
            fault_mark: 0,
            hwcap: crate::exec::hwcap_from_misa(hw.read_csr(csr::MISA)),
            clock_hz: dev.clock_hz.max(1),
            user_bytes: frames * page,
            user_base: ram_base + reserve,
            trace_refs: Vec::new(),
            trace_seen: BTreeMap::new(),
            rng: cfg_seed ^ 0x005e_ed0f_6e74_7261,
            sleepers: std::collections::BTreeSet::new(),
            futexes: futex::Futexes::default(),
            unserved: BTreeMap::new(),
            fp_owner: None,
            fs: None,
            file_waits: Default::default(),
            mapped_inos: Default::default(),
            io_carry: BTreeMap::new(),
            descs: BTreeMap::new(),
            next_desc: 1,
            next_pid: images.len() as Pid + 1,
            started: images.len() as Pid,
            next_shmem: 0,
            shm: Default::default(),
            pipes: crate::pipe::Pipes::new(),
        };
        if k.cfg.memcheck {
            let mut mc = crate::memcheck::Memcheck::new();
            mc.set_quarantine(k.cfg.memcheck_quarantine);
            mc.set_redzone(k.cfg.memcheck_redzone);
            k.memcheck = Some(Box::new(mc));
        }
        for (i, image) in images.into_iter().enumerate() {
            let pid = i as Pid + 1;
            let p = k.new_process(pid, image)?;
            k.procs.push(p);
        }
        // The programs' images go onto the disk, then the swap area after them.
        if k.disk.present() {
            for p in &k.procs {
                k.mem.place_image(hw, &k.disk, p.pid, &p.image)?;
            }
            // The file system's region of the disk, then the swap area on the rest.
            let bs = k.disk.block_size;
            if bs > 0 && fs_page.is_multiple_of(bs) {
                if let Some((first, blocks)) = k.mem.reserve_disk(&k.disk, k.cfg.fs_blocks) {
                    let vfs = crate::fs::VfsConfig {
                        page_size: fs_page,
                        block_size: bs,
                        first_block: first,
                        blocks,
                    };
                    let frames = if shared_cache {
                        k.cfg.page_cache_frames
                    } else {
                        cache_bytes / fs_page
                    };
                    let seed = k.cfg.seed ^ 0xcac4e;
                    let fs = files::FileSys::new(
                        vfs,
                        cache_base,
                        frames,
                        shared_cache,
                        k.cfg.policy,
                        seed,
                    )?;
                    k.fs = Some(fs);
                }
            }
            // The files of `--file NAME=PATH`, in the root directory of the file system.
            for (name, data) in &files {
                let Some(fs) = k.fs.as_mut() else {
                    return Err(format!(
                        "--file {name}: the guest file system needs a disk whose blocks fit whole pages"
                    ));
                };
                for (block, bytes) in fs
                    .vfs
                    .add_file(name, data)
                    .map_err(|e| format!("--file {name}: {e}"))?
                {
                    hw.disk_preload(block, &bytes)?;
                }
            }
            k.mem.layout_swap(&k.disk);
        } else if let Some((name, _)) = files.first() {
            return Err(format!(
                "--file {name}: files live on the modelled disk; enable memory.diskctl"
            ));
        } else if k
            .procs
            .iter()
            .any(|p| p.image.segments.iter().any(|s| !s.data.is_empty()))
        {
            return Err("the programs' images live on the disk; enable memory.diskctl".into());
        }
        k.scheme_refs = k.mem.wants_references();
        Ok(k)
    }

    /// Turns the trace of kernel events on (drain it with [`Kernel::take_trace`]).
    pub fn set_trace(&mut self, on: bool) {
        self.sv.trace = on.then(Vec::new);
        self.mem.set_frame_log(on);
    }

    /// The events recorded since the last call.
    pub fn take_trace(&mut self) -> Vec<Record> {
        self.sv
            .trace
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Records each process's reference string (the first pass of OPT).
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on.then(BTreeMap::new);
    }

    /// The recorded reference strings.
    pub fn take_recording(&mut self) -> BTreeMap<Pid, Vec<u64>> {
        self.recording.take().unwrap_or_default()
    }

    /// Gives OPT the reference strings of a first pass.
    pub fn set_future(&mut self, strings: &BTreeMap<Pid, Vec<u64>>) {
        self.mem.set_future(OptFuture::new(strings));
        self.scheme_refs = self.mem.wants_references();
    }

    fn new_process(&mut self, pid: Pid, image: Image) -> Result<Process, String> {
        let mut image = image;
        if let Some(h) = self.hook_allocator(&mut image)? {
            self.heaps.insert(pid, h);
        }
        // The dynamic linker maps the libraries with `mmap` of their files, whose pages only
        // a demand-paged scheme can bring in.
        if let Some(i) = &image.interp {
            if self.mem.page_size().is_none() || !self.mem.demand_paged() {
                return Err(format!(
                    "{}: a dynamically linked program needs the vm-paging scheme (os.scheme = \"vm-paging\"): its dynamic linker {} maps the libraries with mmap of their files, which {} cannot do; or link the program with -static",
                    image.name,
                    i.path,
                    self.mem.name()
                ));
            }
        }
        let checking = self.memcheck_image(&image)?;
        let layout = self.mem.layout(&self.cfg, &image)?;
        let p = self.layout(pid, image, layout)?;
        if let Some(c) = checking {
            self.memcheck_start(&p, c);
        }
        Ok(p)
    }

    /// A new process of `image`: an area per segment (text or data by its permissions), an
    /// empty heap at the layout's `heap_start` that `brk` may grow to `brk_limit`, and a
    /// stack `[stack_start, stack_top)` that may grow down to `stack_floor`, starting as
    /// Linux starts a program (`crate::exec`): `sp` at `argc`, above it the arguments, the
    /// environment and the auxiliary vector, which the kernel writes before the process
    /// first runs: the scheme fills the stack's memory with them, instead of zeros, when
    /// the process first touches it.
    fn layout(&mut self, pid: Pid, image: Image, l: Layout) -> Result<Process, String> {
        // Each process starts in an address space of its own, with its pid for id.
        let space = SpaceId::from(pid);
        let (mm, sp) = self.new_space(space, &image, l)?;
        self.spaces.insert(space, mm);
        let comm: Vec<u8> = image.name.bytes().take(15).collect();
        let mut regs = [0u64; 32];
        regs[2] = sp;
        Ok(Process {
            pid,
            pc: image.start_pc(),
            image,
            state: State::Loading,
            regs,
            space,
            asid: 0,
            since: 0,
            insns_since: 0,
            blocked_at: 0,
            files: {
                // Each process starts with a file table of its own, with its pid for id.
                let files = FilesId::from(pid);
                self.file_tables.insert(files, FileTable::default());
                files
            },
            stats: ProcStats::default(),
            task: crate::process::Task {
                comm,
                ..crate::process::Task::new(self.cfg.stack_limit)
            },
            fp: ([0; 32], 0),
            fp_used: false,
            ppid: 0,
            reaped: false,
            exit_signal: 0,
            set_child_tid: 0,
            vfork_parent: None,
            execs: 0,
            tgid: pid,
            sighand: pid,
        })
    }

    /// The address space `space` of a program `image` starts in (its id also seeds its
    /// `AT_RANDOM` bytes), as [`Kernel::layout`] describes, and its initial stack pointer.
    fn new_space(
        &self,
        space: SpaceId,
        image: &Image,
        l: Layout,
    ) -> Result<(AddressSpace, u64), String> {
        let Layout {
            heap_start,
            brk_limit,
            stack_top,
            stack_start,
            stack_floor,
        } = l;
        let mut areas: Vec<Area> = image
            .segments
            .iter()
            .map(|s| Area {
                start: s.vaddr,
                end: s.end(),
                perm: s.perm,
                kind: if s.perm.exec {
                    AreaKind::Text
                } else {
                    AreaKind::Data
                },
            })
            .collect();
        areas.push(Area {
            start: heap_start,
            end: heap_start,
            perm: Perm::RW,
            kind: AreaKind::Heap,
        });
        areas.push(Area {
            start: stack_start,
            end: stack_top,
            perm: Perm::RW,
            kind: AreaKind::Stack,
        });
        areas.sort_by_key(|a| a.start);
        let info = crate::exec::StartInfo {
            argv: image.argv.clone(),
            envp: image.envp.clone(),
            execfn: image
                .argv
                .first()
                .cloned()
                .unwrap_or_else(|| image.name.as_bytes().to_vec()),
            phdr: image.phdr.unwrap_or(0),
            phnum: image.phnum,
            entry: image.entry,
            base: image.interp_base(),
            page_size: self.mem.page_size().unwrap_or(4096),
            hwcap: self.hwcap,
            random: crate::exec::random_bytes(self.cfg.seed, space),
        };
        let start = crate::exec::build(stack_top, &info, stack_top - stack_start)
            .map_err(|e| format!("{}: {e}", image.name))?;
        let sp = start.sp();
        Ok((
            AddressSpace {
                start: Some(start),
                id: space,
                areas,
                heap_start,
                brk: heap_start,
                brk_limit,
                stack_top,
                stack_floor,
            },
            sp,
        ))
    }

    /// Admits every process and starts the first; call once after [`Kernel::boot`].
    pub fn start(&mut self, hw: &mut dyn Hw) {
        self.entered = hw.now();
        self.idle_in_entry = 0;
        self.entry_pid = None;
        for i in 0..self.procs.len() {
            let pid = self.procs[i].pid;
            let c = self.sv.cost().spawn;
            self.sv.charge(hw, c);
            self.sv.stats.spawned += 1;
            let name = self.procs[i].image.name.clone();
            self.sv.event(hw, Event::Spawn { pid, name });
            if self.tracing() {
                self.trace_state(hw, i);
            }
            self.admit(hw, pid);
        }
        self.dispatch(hw);
        self.leave(hw);
    }

    fn admit(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let (mem, mut cx) = self.split(hw);
        let outcome = mem.admit(&mut cx, pid);
        let Some(pi) = self.index(pid) else { return };
        match outcome {
            Admit::Ready => {
                self.set_state(hw, pi, State::Ready);
                self.ready.push_back(pid);
            }
            Admit::Loading => self.set_state(hw, pi, State::Loading),
            Admit::Wait => self.set_state(hw, pi, State::WaitingForMemory),
            Admit::Refuse(why) => {
                let kill = Kill {
                    addr: 0,
                    pc: self.procs[pi].pc,
                    access: None,
                    cause: "out-of-memory",
                    scheme: self.cfg.scheme.name(),
                    detail: format!("the program cannot be loaded: {why}"),
                };
                self.kill(hw, pid, kill);
            }
        }
    }

    /// The scheme, and the context it works in.
    fn split<'a>(&'a mut self, hw: &'a mut dyn Hw) -> (&'a mut dyn Scheme, Cx<'a>) {
        (
            &mut *self.mem,
            Cx {
                sv: &mut self.sv,
                hw,
                disk: &mut self.disk,
                procs: &mut self.procs,
                waits: &mut self.waits,
                spaces: &mut self.spaces,
                cache: self
                    .fs
                    .as_mut()
                    .map(|f| &mut f.cache)
                    .filter(|c| c.is_shared()),
            },
        )
    }

    /// The address space `pid` runs in.
    pub fn address_space(&self, pid: Pid) -> Option<&AddressSpace> {
        let i = self.index(pid)?;
        self.spaces.get(&self.procs[i].space)
    }

    /// The file table `pid` uses, to change.
    fn files_mut(&mut self, pid: Pid) -> Option<&mut FileTable> {
        let i = self.index(pid)?;
        self.file_tables.get_mut(&self.procs[i].files)
    }

    /// The address space `pid` runs in, to change.
    fn mm_mut(&mut self, pid: Pid) -> Option<&mut AddressSpace> {
        let i = self.index(pid)?;
        self.spaces.get_mut(&self.procs[i].space)
    }

    fn index(&self, pid: Pid) -> Option<usize> {
        self.procs.iter().position(|p| p.pid == pid)
    }

    /// The processes.
    pub fn processes(&self) -> &[Process] {
        &self.procs
    }

    /// How the run ended, once it has.
    pub fn finished(&self) -> Option<&Finish> {
        self.finish.as_ref()
    }

    /// The kernel's counters.
    pub fn stats(&self) -> &KernelStats {
        &self.sv.stats
    }

    /// The kernel's messages, oldest first (as `dmesg` shows them): failures that no
    /// process's report tells, such as a write-back whose data was lost.
    pub fn messages(&self) -> &[String] {
        &self.sv.messages
    }

    /// Whether the hosted loop should report every page reference ([`Kernel::reference`]).
    pub fn wants_references(&self) -> bool {
        self.mem.page_size().is_some()
            && (self.mem.wants_references()
                || self.recording.is_some()
                || self.sv.trace.is_some()
                || self.cfg.working_set_window > 0)
    }

    /// The running process referenced `va` (an instruction fetch or a data access).
    #[inline]
    pub fn reference(&mut self, va: u64) {
        let vpn = va >> self.ref_shift;
        if vpn == self.last_fast {
            return;
        }
        let h = &mut self.hot;
        if let Some(j) = h.pages.iter().position(|&p| p == vpn) {
            h.last[j] = h.n;
            h.n += 1;
            self.last_fast = vpn;
            return;
        }
        self.reference_page(va);
    }

    /// Gives the working set the batch of references to its recent pages (it then holds
    /// every reference made), and starts a new batch.
    fn settle_references(&mut self) {
        let h = &mut self.hot;
        if h.n == 0 {
            return;
        }
        if let Some(Some(r)) = self.refs.get_mut(h.pid as usize) {
            // References among pages of the set add none to it, so the size cannot pass
            // what it was when the batch began, and the peak stands.
            r.ws.batch(&h.last, h.n);
            r.last = Some(r.ws.recent()[0]);
            h.pages = r.ws.recent();
        }
        h.n = 0;
        h.last = [NOT_IN_BATCH; RECENT];
    }

    /// The running process changes (switched in or out): its batch of references ends.
    fn switch_references(&mut self) {
        self.settle_references();
        self.hot = Hot::EMPTY;
        self.last_fast = NO_PAGE;
    }

    /// [`Kernel::reference`] of a page other than the last one referenced.
    #[inline(never)]
    fn reference_page(&mut self, va: u64) {
        let (Some(pid), Some(shift)) = (self.current, self.page_shift) else {
            return;
        };
        let vpn = va >> shift;
        self.settle_references();
        self.last_fast = vpn;
        // (Batching is off while recording or tracing: both need every reference in order.)
        let batch = !self.scheme_refs && self.recording.is_none() && self.sv.trace.is_none();
        let i = pid as usize;
        let r = match self.refs.get_mut(i) {
            Some(Some(r)) => r,
            _ => {
                if self.refs.len() <= i {
                    self.refs.resize_with(i + 1, || None);
                }
                let window = self.cfg.working_set_window;
                self.refs[i].get_or_insert_with(|| RefState {
                    last: None,
                    ws: WorkingSet::new(window),
                    peak: 0,
                })
            }
        };
        let repeat = r.last == Some(vpn);
        if !repeat {
            r.last = Some(vpn);
            r.ws.reference(vpn);
        }
        // The next references to the set's most recent pages wait in a batch.
        self.hot = if batch && r.ws.window() > 0 {
            Hot {
                pid,
                pages: r.ws.recent(),
                last: [NOT_IN_BATCH; RECENT],
                n: 0,
            }
        } else {
            Hot::EMPTY
        };
        if repeat {
            return;
        }
        let size = r.ws.size() as u64;
        if size > r.peak {
            r.peak = size;
        }
        if self.scheme_refs {
            self.mem.referenced(pid, va);
        }
        if let Some(rec) = self.recording.as_mut() {
            rec.entry(pid).or_default().push(vpn);
        }
        self.trace_reference(pid, vpn);
    }

    /// The reference state of `pid`, if it referenced anything.
    fn ref_state(&self, pid: Pid) -> Option<&RefState> {
        self.refs.get(pid as usize).and_then(Option::as_ref)
    }

    /// The running process just executed an instruction at `pc` that jumps to itself. If
    /// nothing else could ever run or arrive — no other process ready, blocked or waiting,
    /// no disk request under way — it would spin for ever: the kernel kills it.
    pub fn spin(&mut self, hw: &mut dyn Hw, pc: u64) {
        let Some(pid) = self.current else { return };
        let others = self.procs.iter().any(|p| {
            p.pid != pid
                && matches!(
                    p.state,
                    State::Ready | State::Blocked | State::Loading | State::WaitingForMemory
                )
        });
        if others || self.disk.outstanding() > 0 {
            return;
        }
        self.entered = hw.now();
        self.idle_in_entry = 0;
        self.entry_pid = self.current;
        let k = Kill {
            addr: pc,
            pc,
            access: None,
            cause: "infinite-loop",
            scheme: self.cfg.scheme.name(),
            detail: "infinite loop: the instruction jumps to itself, and no other process or device could ever interrupt it".into(),
        };
        if let Some(pi) = self.index(pid) {
            self.procs[pi].regs = hw.regs();
            self.procs[pi].pc = pc;
        }
        self.kill(hw, pid, k);
        self.dispatch(hw);
        self.leave(hw);
    }

    /// Handles a trap the hart took into M-mode at `epc` (the pc of the trapping instruction,
    /// or of the interrupted one).
    pub fn trap(&mut self, hw: &mut dyn Hw, trap: Trap, epc: u64) {
        if self.trace_refs.len() >= REFS_BATCH {
            self.flush_refs(hw);
        }
        self.sample(hw, false);
        self.entered = hw.now();
        self.idle_in_entry = 0;
        self.entry_pid = self.current;
        self.sv.stats.entries += 1;
        let c = self.sv.cost().handler;
        self.sv.charge(hw, c);
        self.wake_sleepers(hw);
        let Some(pid) = self.current else {
            // (Nothing runs in M-mode but the kernel; a trap without a process is ignored.)
            self.dispatch(hw);
            self.leave(hw);
            return;
        };
        if let Some(pi) = self.index(pid) {
            let p = &mut self.procs[pi];
            p.regs = hw.regs();
            p.pc = epc;
        }
        match trap {
            Trap::Interrupt(Interrupt::MachineTimer) => {
                self.sv.stats.timer_interrupts += 1;
                if self.ready.is_empty() {
                    // Nobody else can run: a new slice, no switch.
                    self.arm_timer(hw);
                } else {
                    // Preempt: to the back of the queue.
                    self.switch_out(hw, pid, State::Ready);
                    self.ready.push_back(pid);
                }
            }
            Trap::Interrupt(Interrupt::MachineExternal) => {
                self.sv.stats.disk_interrupts += 1;
                self.poll_disk(hw);
            }
            Trap::Interrupt(_) => {}
            Trap::Exception(e) => self.exception(hw, pid, e, epc),
        }
        self.dispatch(hw);
        self.leave(hw);
    }

    /// Accounts the kernel time of this entry.
    fn leave(&mut self, hw: &mut dyn Hw) {
        self.trace_sync(hw);
        let spent = hw.now().saturating_sub(self.entered);
        let kernel = spent.saturating_sub(self.idle_in_entry);
        self.sv.stats.kernel_cycles += kernel;
        if let Some(pid) = self.entry_pid.take() {
            // (Only the trace's samples use it.)
            if self.sv.trace.is_some() {
                *self.kernel_of.entry(pid).or_default() += kernel;
            }
        }
    }

    fn exception(&mut self, hw: &mut dyn Hw, pid: Pid, e: Exception, epc: u64) {
        let fault = |addr: u64, access: Access| Some((addr, access));
        let mem_fault = match e {
            Exception::InstructionPageFault { addr }
            | Exception::InstructionAccessFault { addr } => fault(addr, Access::Fetch),
            Exception::LoadPageFault { addr } | Exception::LoadAccessFault { addr } => {
                fault(addr, Access::Load)
            }
            Exception::StorePageFault { addr } | Exception::StoreAccessFault { addr } => {
                fault(addr, Access::Store)
            }
            _ => None,
        };
        if let Some((va, access)) = mem_fault {
            if self.sigreturn_fetch(hw, pid, va, access, epc) {
                return;
            }
            let c = self.sv.cost().fault;
            self.sv.charge(hw, c);
            // Livelock guard: when the whole machine retires no instruction over a long run
            // of faults, the processes need more pages (or segments) at once than memory
            // holds and evict each other's for ever; the faulting process is killed to
            // free memory for the others.
            if hw.retired() == self.fault_mark {
                self.fault_streak += 1;
            } else {
                self.fault_streak = 1;
                self.fault_mark = hw.retired();
            }
            let live = self.procs.iter().filter(|p| !p.state.ended()).count() as u32;
            if self.fault_streak > MAX_FAULT_STREAK * live.max(1) {
                self.fault_streak = 0;
                let k = Kill {
                    addr: va,
                    pc: epc,
                    access: Some(access),
                    cause: "out-of-memory",
                    scheme: self.cfg.scheme.name(),
                    detail: format!(
                        "no process completed an instruction over {} faults: the processes need more memory at once than there is (os.user_frames, os.frames_per_process), so this one goes",
                        MAX_FAULT_STREAK * live.max(1)
                    ),
                };
                self.kill(hw, pid, k);
                return;
            }
            let outcome = self.serve_fault(hw, pid, va, access, epc);
            match outcome {
                Outcome::Resume => {}
                Outcome::Block => self.block(hw, pid),
                Outcome::Kill(k) => self.kill(hw, pid, k),
            }
            return;
        }
        let scheme = self.cfg.scheme.name();
        let kill = |cause: &'static str, addr: u64, access: Option<Access>, detail: String| Kill {
            addr,
            pc: epc,
            access,
            cause,
            scheme,
            detail,
        };
        match e {
            Exception::EcallFromU => {
                if let Some(pi) = self.index(pid) {
                    self.procs[pi].pc = epc.wrapping_add(4);
                }
                self.syscall(hw, pid);
            }
            Exception::IllegalInstruction { insn } => {
                // SYSTEM-opcode instructions other than ecall/ebreak: CSR accesses, xRET,
                // wfi, sfence.vma.
                let reason = hw.illegal_reason(insn as u32);
                let detail = if let Some(r) = reason {
                    format!("the instruction {insn:#x}: {r}")
                } else if insn & 0x7f == 0x73 && insn != 0x73 && insn != 0x0010_0073 {
                    format!("the instruction {insn:#x} is a CSR or privileged instruction, which U-mode may not execute")
                } else {
                    format!("the instruction {insn:#x} is not an instruction this hart runs")
                };
                let k = kill("illegal-instruction", epc, None, detail);
                self.kill(hw, pid, k);
            }
            Exception::Breakpoint { .. } if self.alloc_trap(hw, pid, epc) => {}
            Exception::Breakpoint { addr } => {
                let k = kill(
                    "breakpoint",
                    addr,
                    None,
                    "ebreak with no debugger attached".into(),
                );
                self.kill(hw, pid, k);
            }
            Exception::InstructionAddressMisaligned { addr } => {
                let k = kill(
                    "misaligned",
                    addr,
                    Some(Access::Fetch),
                    "a jump to an odd address".into(),
                );
                self.kill(hw, pid, k);
            }
            Exception::LoadAddressMisaligned { addr }
            | Exception::StoreAddressMisaligned { addr } => {
                let access = if matches!(e, Exception::LoadAddressMisaligned { .. }) {
                    Access::Load
                } else {
                    Access::Store
                };
                if let Err(detail) = self.emulate_misaligned(hw, pid, addr, epc) {
                    let k = kill("misaligned", addr, Some(access), detail);
                    self.kill(hw, pid, k);
                }
            }
            other => {
                let k = kill(
                    "illegal-instruction",
                    epc,
                    None,
                    format!("unexpected exception {} in U-mode", other.code()),
                );
                self.kill(hw, pid, k);
            }
        }
    }

    /// Emulates the misaligned load or store at `epc` of `pid`, as Linux does on harts that
    /// trap them: the instruction is read and decoded, its bytes moved one piece at a time
    /// through the process's memory, the register written, and the process goes on after
    /// it. A page not in memory is brought in first (the instruction then runs again).
    /// `Err` says why it cannot be emulated (an atomic, an instruction that is not a load or
    /// store, memory the process may not touch): the process gets SIGBUS.
    fn emulate_misaligned(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        addr: u64,
        epc: u64,
    ) -> Result<(), String> {
        use vmlab_cpu::isa::Op;
        let c = self.sv.cost().misaligned;
        self.sv.charge(hw, c);
        let Some(pi) = self.index(pid) else {
            return Ok(());
        };
        let word = match self.copy_from_user(hw, pid, epc, 2) {
            Ok(b) if b[0] & 3 != 3 => u32::from(u16::from_le_bytes([b[0], b[1]])),
            Ok(_) => match self.copy_from_user(hw, pid, epc, 4) {
                Ok(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                Err(CopyFault::Restart) => return Ok(()),
                Err(CopyFault::Fault) => return Err("its instruction cannot be read".into()),
            },
            Err(CopyFault::Restart) => return Ok(()),
            Err(CopyFault::Fault) => return Err("its instruction cannot be read".into()),
        };
        let insn = vmlab_cpu::isa::decode(word);
        let len = if word & 3 == 3 { 4 } else { 2 };
        // An FP load or store moves an f register (a single NaN-boxed in its 64 bits).
        let fp = matches!(insn.op, Op::Flw | Op::Fld | Op::Fsw | Op::Fsd);
        let load = match insn.op {
            Op::Flw => Some((4, false)),
            Op::Fld => Some((8, false)),
            Op::Lb | Op::Lbu => Some((1, insn.op == Op::Lb)),
            Op::Lh | Op::Lhu => Some((2, insn.op == Op::Lh)),
            Op::Lw | Op::Lwu => Some((4, insn.op == Op::Lw)),
            Op::Ld => Some((8, true)),
            _ => None,
        };
        let store = match insn.op {
            Op::Fsw => Some(4),
            Op::Fsd => Some(8),
            Op::Sb => Some(1),
            Op::Sh => Some(2),
            Op::Sw => Some(4),
            Op::Sd => Some(8),
            _ => None,
        };
        if let Some((n, signed)) = load {
            let bytes = match self.copy_from_user(hw, pid, addr, n) {
                Ok(b) => b,
                Err(CopyFault::Restart) => return Ok(()),
                Err(CopyFault::Fault) => {
                    return Err(format!(
                        "a misaligned {n}-byte load from memory it may not read"
                    ))
                }
            };
            let mut raw = [0u8; 8];
            raw[..n as usize].copy_from_slice(&bytes);
            let mut v = u64::from_le_bytes(raw);
            if signed && n < 8 {
                let shift = 64 - 8 * n;
                v = (((v << shift) as i64) >> shift) as u64;
            }
            let Some(pi) = self.index(pid) else {
                return Ok(());
            };
            if fp {
                let (mut f, fcsr) = hw.fp_regs();
                f[insn.rd as usize] = if n == 4 { v | 0xffff_ffff_0000_0000 } else { v };
                hw.set_fp_regs(&f, fcsr);
                let mstatus = hw.read_csr(vmlab_cpu::csr::addr::MSTATUS);
                let _ = hw.write_csr(vmlab_cpu::csr::addr::MSTATUS, mstatus | 3 << 13);
            } else if insn.rd != 0 {
                self.procs[pi].regs[insn.rd as usize] = v;
            }
        } else if let Some(n) = store {
            let v = if fp {
                hw.fp_regs().0[insn.rs2 as usize].to_le_bytes()
            } else {
                self.procs[pi].regs[insn.rs2 as usize].to_le_bytes()
            };
            match self.copy_to_user(hw, pid, addr, &v[..n]) {
                Ok(()) => {}
                Err(CopyFault::Restart) => return Ok(()),
                Err(CopyFault::Fault) => {
                    return Err(format!(
                        "a misaligned {n}-byte store to memory it may not write"
                    ))
                }
            }
        } else {
            return Err(format!(
                "the misaligned access of {} cannot be emulated (Linux emulates only plain loads and stores; atomics must be aligned)",
                insn.op.name()
            ));
        }
        if let Some(pi) = self.index(pid) {
            self.procs[pi].pc = epc + len;
        }
        self.sv.stats.misaligned_emulated += 1;
        Ok(())
    }

    /// The scheme serves the fault of `pid` at `va` (it counts it, by area too:
    /// `Cx::fault`).
    pub(super) fn serve_fault(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        access: Access,
        epc: u64,
    ) -> Outcome {
        if let Some(out) = self.file_fault(hw, pid, va, access, epc) {
            return out;
        }
        let (mem, mut cx) = self.split(hw);
        mem.fault(&mut cx, pid, va, access, epc)
    }

    fn block(&mut self, hw: &mut dyn Hw, pid: Pid) {
        if let Some(pi) = self.index(pid) {
            self.procs[pi].blocked_at = hw.now();
        }
        self.switch_out(hw, pid, State::Blocked);
    }

    /// Takes `pid` off the CPU into `state`.
    fn switch_out(&mut self, hw: &mut dyn Hw, pid: Pid, state: State) {
        if self.current == Some(pid) {
            self.save_fp(hw, pid);
            self.switch_references();
            self.flush_refs(hw);
        }
        if let Some(pi) = self.index(pid) {
            let p = &mut self.procs[pi];
            if self.current == Some(pid) {
                p.stats.cycles += hw.now().saturating_sub(p.since);
                p.stats.instret += hw.retired().saturating_sub(p.insns_since);
                p.stats.switches += 1;
                self.current = None;
            }
            self.set_state(hw, pi, state);
        }
    }

    fn kill(&mut self, hw: &mut dyn Hw, pid: Pid, kill: Kill) {
        if self.fault_signal(hw, pid, &kill) {
            return;
        }
        self.sv.stats.killed += 1;
        self.sv.event(
            hw,
            Event::Kill {
                pid,
                kill: kill.clone(),
            },
        );
        // The whole process dies: every task of its thread group.
        self.end_other_tasks(hw, pid, State::Killed(kill.clone()));
        self.end(hw, pid, State::Killed(kill));
    }

    /// The task `pid` ends in `state`: what it alone holds goes back (its address space
    /// and file table, unless other tasks still use them), and its process's parent hears
    /// of it when it was the process's last task.
    fn end(&mut self, hw: &mut dyn Hw, pid: Pid, state: State) {
        self.switch_out(hw, pid, state);
        let space_shared = self.space_shared(pid);
        if !space_shared {
            self.memcheck_exit(hw, pid);
        }
        self.waits.cancel(pid);
        self.futexes.remove(pid);
        // Its descriptors close, unless other tasks share its file table.
        let open = if self.files_shared(pid) {
            Vec::new()
        } else {
            self.files_mut(pid)
                .map(|t| t.close_all())
                .unwrap_or_default()
        };
        for f in open {
            self.release_desc(hw, f);
        }
        self.sleepers.retain(|&(_, p)| p != pid);
        self.ready.retain(|&p| p != pid);
        self.file_waits.retain(|&(p, _)| p != pid);
        self.io_carry.remove(&pid);
        if let Some(fs) = self.fs.as_mut() {
            fs.cache.got(None, pid);
        }
        // Its memory use as it ends (before its pages go), for its stats and peaks.
        self.note_memory(pid);
        self.drop_space(hw, pid);
        // Memory came free: processes waiting for a frame for a page table try again, in
        // the order they began to wait, and a process waiting for admission may fit now.
        for w in self.waits.wake_all(WaitOn::Frame) {
            self.wake(hw, w);
        }
        // Its parent hears of it (when it was its process's last task); its children are
        // adopted.
        self.task_ended(hw, pid);
        let waiting: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| p.state == State::WaitingForMemory)
            .map(|p| p.pid)
            .collect();
        for w in waiting {
            self.admit(hw, w);
        }
    }

    /// `pid`'s address space goes (it ended, or execs another program): cached pages it
    /// maps stay in the cache (dirty if it stored to them), the scheme takes its memory
    /// back, files no space maps any more are let go, and its ASID goes back to the
    /// allocator, which flushes it before it is used again.
    /// While other tasks still run in the space, only `pid` leaves it.
    fn drop_space(&mut self, hw: &mut dyn Hw, pid: Pid) {
        if self.space_shared(pid) {
            let (mem, mut cx) = self.split(hw);
            mem.release(&mut cx, pid);
            return;
        }
        self.unmap_cached(hw, pid, 0, u64::MAX);
        let (mem, mut cx) = self.split(hw);
        mem.release(&mut cx, pid);
        self.release_unmapped();
        self.shm_space_gone(hw, pid);
        if let Some(i) = self.index(pid) {
            let space = self.procs[i].space;
            self.asids.release(space);
        }
    }

    fn poll_disk(&mut self, hw: &mut dyn Hw) {
        let done = self.disk.poll(&mut self.sv, hw);
        for d in done {
            if matches!(d.tag, Tag::Cache { .. }) {
                self.cache_done(hw, d);
                continue;
            }
            let (mem, mut cx) = self.split(hw);
            let finished = mem.disk_done(&mut cx, d);
            for (pid, k) in finished.killed {
                if self
                    .index(pid)
                    .is_some_and(|i| !self.procs[i].state.ended())
                {
                    self.kill(hw, pid, k);
                }
            }
            for pid in finished.woken {
                self.wake(hw, pid);
            }
        }
    }

    /// `pid` may run again: a process loading its image, or a blocked one that waits for
    /// nothing more on the wait queues, goes to the back of the ready queue.
    fn wake(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(pi) = self.index(pid) else { return };
        let p = &mut self.procs[pi];
        match p.state {
            State::Blocked if !self.waits.waits(pid) => {
                p.stats.blocked_cycles += hw.now().saturating_sub(p.blocked_at);
                self.set_state(hw, pi, State::Ready);
                self.ready.push_back(pid);
            }
            State::Loading => {
                self.set_state(hw, pi, State::Ready);
                self.ready.push_back(pid);
            }
            _ => {}
        }
    }

    /// Puts a process on the CPU, or idles until one can run, or finishes.
    fn dispatch(&mut self, hw: &mut dyn Hw) {
        if let Some(pid) = self.current {
            // The same process goes on.
            if let Some(pi) = self.index(pid) {
                let p = &self.procs[pi];
                hw.set_regs(&p.regs);
                hw.enter_user(p.pc);
                return;
            }
        }
        loop {
            if self.disk.has_refused() {
                // A request the controller refused: its process learns of it now, not after
                // a wait for a completion that will never come.
                self.poll_disk(hw);
            }
            if let Some(pid) = self.ready.pop_front() {
                if self.switch_in(hw, pid) {
                    return;
                }
                continue;
            }
            if self.procs.iter().all(|p| p.state.ended()) {
                // Shut down like a kernel: write the page cache's dirty pages back, and
                // finish the disk writes still under way (file pages written back at
                // munmap or exit) before the machine stops.
                self.flush_cache(hw, 0, None);
                while self.disk.outstanding() > 0 {
                    match hw.idle() {
                        Some(c) => {
                            self.sv.stats.idle_cycles += c;
                            self.idle_in_entry += c;
                            self.poll_disk(hw);
                        }
                        None => break,
                    }
                }
                // (Only the processes vmlab started count: a forked child's status is its
                // parent's business.)
                let started = self.started;
                let status = self
                    .procs
                    .iter()
                    .filter(|p| p.pid <= started)
                    .find_map(|p| match &p.state {
                        State::Exited(c) if *c & 0xff != 0 => Some(*c as u8),
                        State::Killed(k) => Some(128 + k.signal()),
                        _ => None,
                    })
                    .unwrap_or(0);
                self.sample(hw, true);
                self.finish = Some(Finish::AllEnded { status });
                return;
            }
            let io = self
                .procs
                .iter()
                .any(|p| matches!(p.state, State::Blocked | State::Loading));
            if !io {
                // Only processes waiting for memory that nothing running will free.
                let stuck: Vec<Pid> = self
                    .procs
                    .iter()
                    .filter(|p| p.state == State::WaitingForMemory)
                    .map(|p| p.pid)
                    .collect();
                for pid in stuck {
                    let pc = self.index(pid).map_or(0, |i| self.procs[i].pc);
                    let k = Kill {
                        addr: 0,
                        pc,
                        access: None,
                        cause: "out-of-memory",
                        scheme: self.cfg.scheme.name(),
                        detail: "it waited for memory, and no process is left to free any".into(),
                    };
                    self.kill(hw, pid, k);
                }
                continue;
            }
            if self.disk.outstanding() == 0 && self.sleepers.is_empty() {
                // Nothing will wake anyone: a process waiting for a frame for a page table
                // waits for processes that wait for something that cannot happen. The
                // first to wait goes, and frees its frames for the others.
                let frame_waiter = self
                    .procs
                    .iter()
                    .find(|p| self.waits.waiting_on(p.pid).contains(&WaitOn::Frame))
                    .map(|p| (p.pid, p.pc));
                if let Some((pid, pc)) = frame_waiter {
                    // A parent waiting inside `clone` for a frame for its child's page
                    // tables gets ENOMEM, as Linux's fork fails, rather than dying.
                    if self.fail_waiting_fork(hw, pid) {
                        continue;
                    }
                    let k = Kill {
                        addr: 0,
                        pc,
                        access: None,
                        cause: "out-of-memory",
                        scheme: self.cfg.scheme.name(),
                        detail: "it waited for a frame for a page table, and every process holding frames waits for something that cannot happen (a deadlock)".into(),
                    };
                    self.kill(hw, pid, k);
                    continue;
                }
                // A process waits on a pipe that no process that can run will serve, or
                // on a futex no one will wake.
                if let Some(why) = self.pipe_deadlock().or_else(|| self.futex_deadlock()) {
                    self.finish = Some(Finish::Stuck(why));
                    return;
                }
            }
            if let Some(tick) = self.next_wake_tick() {
                // The timer wakes the CPU for the earliest sleeper.
                hw.mmio_write(self.clint + CLINT_MTIMECMP, tick);
            }
            self.trace_sync(hw);
            match hw.idle() {
                Some(c) => {
                    self.sv.stats.idle_cycles += c;
                    self.idle_in_entry += c;
                    self.sv.event(hw, Event::Idle { cycles: c });
                    self.poll_disk(hw);
                    self.wake_sleepers(hw);
                }
                None => {
                    self.finish = Some(Finish::Stuck(
                        "processes wait for the disk, but it has nothing scheduled".into(),
                    ));
                    return;
                }
            }
        }
    }

    /// Puts `pid` on the CPU; false if it could not run after all (its start needed a
    /// page it must wait for, or it died), and another must be chosen.
    fn switch_in(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        let c = self.sv.cost().context_switch;
        self.sv.charge(hw, c);
        self.sv.stats.switches += 1;
        let from = self.last_running();
        self.sv.event(hw, Event::Switch { from, to: pid });
        // The address space's ASID, flushing what the allocator says must go: everything
        // (no ASIDs, or a new generation) or the stale entries of a reused ASID.
        let space = self
            .index(pid)
            .map_or(SpaceId::from(pid), |i| self.procs[i].space);
        let act = self.asids.activate(space);
        if act.flush_all {
            hw.sfence(Flush::All);
            self.sv.stats.tlb_flushes += 1;
        } else if let Some(asid) = act.flush_asid {
            hw.sfence(Flush::Asid { asid });
            self.sv.stats.tlb_flushes += 1;
        }
        if let Some(pi) = self.index(pid) {
            self.procs[pi].asid = act.asid;
        }
        let activated = self.mem.activate(hw, pid, act.asid);
        if let Err(e) = activated {
            let k = Kill {
                addr: 0,
                pc: 0,
                access: None,
                cause: "out-of-memory",
                scheme: self.cfg.scheme.name(),
                detail: format!("its translation could not be loaded: {e}"),
            };
            self.kill(hw, pid, k);
            return false;
        }
        // A forked child writes its tid where CLONE_CHILD_SETTID asked, in its own memory,
        // before it first runs (it may have to wait for the page).
        if self
            .index(pid)
            .is_some_and(|i| self.procs[i].set_child_tid != 0)
            && !self.child_settid(hw, pid)
        {
            return false;
        }
        self.restore_fp(hw, pid);
        self.arm_timer(hw);
        let Some(pi) = self.index(pid) else {
            return false;
        };
        self.switch_references();
        self.flush_refs(hw);
        self.set_state(hw, pi, State::Running);
        let p = &mut self.procs[pi];
        p.since = hw.now();
        p.insns_since = hw.retired();
        // (The last page each process referenced is kept across switches: a process's
        // reference string must not depend on when it was scheduled, or OPT's two passes
        // would see different strings.)
        self.current = Some(pid);
        if !self.signals_on_entry(hw, pid) {
            return false;
        }
        let p = &self.procs[pi];
        hw.set_regs(&p.regs);
        hw.enter_user(p.pc);
        true
    }

    /// Saves the running process's floating-point registers if it changed them since they
    /// were last saved or restored (`mstatus.FS` is Dirty), and marks them Clean: a process
    /// that does not touch the FP unit costs nothing at a switch (lazy FP switching, as
    /// Linux's `__switch_to` does it on RISC-V).
    fn save_fp(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let mstatus = hw.read_csr(csr::MSTATUS);
        if (mstatus >> 13) & 3 != 3 {
            return;
        }
        let (f, fcsr) = hw.fp_regs();
        if let Some(pi) = self.index(pid) {
            let p = &mut self.procs[pi];
            p.fp = (f, fcsr);
            p.fp_used = true;
        }
        self.fp_owner = Some(pid);
        let c = self.sv.cost().fp_save;
        self.sv.charge(hw, c);
        self.sv.stats.fp_saves += 1;
        let _ = hw.write_csr(csr::MSTATUS, (mstatus & !(3 << 13)) | 2 << 13);
    }

    /// Puts `pid`'s floating-point registers in the hart unless they are there already (it
    /// was the last to use them, or neither it nor the last owner ever changed them), and
    /// sets `mstatus.FS` to Clean (Initial for a process that never used the FP unit).
    fn restore_fp(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(pi) = self.index(pid) else { return };
        let used = self.procs[pi].fp_used;
        let owner_used = self
            .fp_owner
            .and_then(|o| self.index(o))
            .is_some_and(|i| self.procs[i].fp_used);
        if self.fp_owner != Some(pid) && (used || owner_used) {
            let (f, fcsr) = self.procs[pi].fp;
            hw.set_fp_regs(&f, fcsr);
            let c = self.sv.cost().fp_restore;
            self.sv.charge(hw, c);
            self.sv.stats.fp_restores += 1;
        }
        if used || owner_used {
            self.fp_owner = Some(pid);
        }
        let mstatus = hw.read_csr(csr::MSTATUS);
        let fs = if used { 2 } else { 1 };
        let _ = hw.write_csr(csr::MSTATUS, (mstatus & !(3 << 13)) | fs << 13);
    }

    /// Starts a time slice: mtimecmp = mtime + slice (in mtime ticks, rounded up).
    fn arm_timer(&mut self, hw: &mut dyn Hw) {
        let mtime = hw.mmio_read(self.clint + CLINT_MTIME);
        let ticks = self.cfg.time_slice.div_ceil(self.divider);
        let mut at = mtime.saturating_add(ticks);
        if let Some(wake) = self.next_wake_tick() {
            // A sleeper's time comes first: the slice ends early so that it can run.
            at = at.min(wake.max(mtime + 1));
        }
        hw.mmio_write(self.clint + CLINT_MTIMECMP, at);
    }

    fn last_running(&self) -> Option<Pid> {
        self.current
    }

    /// `pid`'s RSS, PSS and USS now: the frames its scheme maps for it
    /// ([`Scheme::memory_use`]), and the page-cache pages its address space maps through
    /// shared file mappings, each shared among the mappings the page cache's reverse map
    /// lists (the pages every live process running in that space maps count).
    pub fn memory_use(&self, pid: Pid) -> crate::scheme::MemUse {
        let mut m = self.mem.memory_use(pid);
        let (Some(fs), Some(page), Some(i)) = (&self.fs, self.mem.page_size(), self.index(pid))
        else {
            return m;
        };
        let space = self.procs[i].space;
        for q in &self.procs {
            if q.space != space || (q.pid != pid && q.state.ended()) {
                continue;
            }
            for (key, _) in fs.cache.mapped_by(q.pid, 0, u64::MAX) {
                m.add(page, fs.cache.mappers(key).len() as u64);
            }
        }
        m
    }

    /// Measures `pid`'s memory use ([`Kernel::memory_use`]) for its stats and peaks.
    fn note_memory(&mut self, pid: Pid) {
        let m = self.memory_use(pid);
        self.mem_use.entry(pid).or_default().note(m);
    }

    /// Walks every kernel statistic under stable names: the kernel's, the scheme's, then
    /// each process's under `os.proc.PID`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        self.sv.stats.for_each(f);
        if let Some(fs) = &self.fs {
            fs.cache.for_each_stat(f);
        }
        self.asids.for_each_stat("os.asid", f);
        self.mem.for_each_stat(f);
        for p in &self.procs {
            let prefix = format!("os.proc.{}", p.pid);
            p.stats.for_each(&prefix, f);
            f(
                &format!("{prefix}.working_set_peak"),
                self.ref_state(p.pid).map_or(0, |r| r.peak),
            );
            // RSS, PSS, USS now (as it ended, for an ended process) and their peaks.
            let mut r = self.mem_use.get(&p.pid).copied().unwrap_or_default();
            if !p.state.ended() {
                r.note(self.memory_use(p.pid));
            }
            f(&format!("{prefix}.rss"), r.last.rss);
            f(&format!("{prefix}.pss"), r.last.pss());
            f(&format!("{prefix}.uss"), r.last.uss);
            f(&format!("{prefix}.rss_peak"), r.rss_peak);
            f(&format!("{prefix}.pss_peak"), r.pss_peak);
            // The stack's high-water mark: its area only grows (by faults just below it
            // under demand paging; `os.stack_size` from the start elsewhere).
            let stack = self.spaces.get(&p.space).and_then(|m| {
                m.area_of(&AreaKind::Stack)
                    .map(|i| m.areas[i].end - m.areas[i].start)
            });
            f(&format!("{prefix}.stack_bytes"), stack.unwrap_or(0));
            self.for_each_heap_stat(p.pid, &prefix, f);
        }
    }

    /// Takes a timeline sample when `os.timeline_interval` more instructions have retired
    /// (or always, when `last`).
    fn sample(&mut self, hw: &dyn Hw, last: bool) {
        let every = self.cfg.timeline_interval;
        if every == 0 || (!last && hw.retired() < self.next_sample) {
            return;
        }
        self.settle_references();
        self.next_sample = (hw.retired() / every + 1) * every;
        let live: Vec<Pid> = self
            .procs
            .iter()
            .filter(|p| !p.state.ended())
            .map(|p| p.pid)
            .collect();
        for pid in live {
            self.note_memory(pid);
        }
        let st = &self.sv.stats;
        let live = |p: &&Process| !p.state.ended();
        let s = Sample {
            instret: hw.retired(),
            cycle: hw.now(),
            faults: st.minor_faults + st.major_faults,
            major: st.major_faults,
            idle: st.idle_cycles,
            working_set: self
                .procs
                .iter()
                .filter(live)
                .map(|p| self.ref_state(p.pid).map_or(0, |r| r.ws.size() as u64))
                .sum(),
            heap: self.heap_sample(),
            runnable: self
                .procs
                .iter()
                .filter(|p| matches!(p.state, State::Ready | State::Running))
                .count() as u64,
            blocked: self
                .procs
                .iter()
                .filter(|p| matches!(p.state, State::Blocked | State::Loading))
                .count() as u64,
        };
        if self
            .timeline
            .last()
            .is_some_and(|l| l.instret == s.instret && !last)
        {
            return;
        }
        self.timeline.push(s);
        self.trace_sample(hw, &s);
    }

    /// The timeline samples (the last one taken when the run ended).
    pub fn timeline(&self) -> &[Sample] {
        &self.timeline
    }

    /// Closes the books when the machine stops early (a limit): the running process's
    /// cycles up to now.
    pub fn settle(&mut self, hw: &mut dyn Hw) {
        if let Some(pid) = self.current {
            if let Some(pi) = self.index(pid) {
                let p = &mut self.procs[pi];
                p.stats.cycles += hw.now().saturating_sub(p.since);
                p.stats.instret += hw.retired().saturating_sub(p.insns_since);
                p.since = hw.now();
                p.insns_since = hw.retired();
            }
        }
        self.sample(hw, true);
    }
}
