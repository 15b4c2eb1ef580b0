//! What every part of the kernel uses: the disk driver, the kernel's counters, the trace of
//! kernel events, and the cost accounting.

use crate::config::{Costs, OsConfig};
use crate::hw::Hw;
use crate::process::{Access, Kill, Pid, ProcStats};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use vmlab_devices::disk::DiskFault;
use vmlab_devices::diskctl::{
    CMD_READ, CMD_WRITE, DISK_BLOCK, DISK_COMMAND, DISK_COUNT, DISK_DMA_ADDR, DISK_IRQ_ENABLE,
    DISK_STATUS, DISK_SUBMITTED, STATUS_DONE, STATUS_ERROR,
};

/// One kernel event, as `--trace` writes it (one JSON object a line, with the cycle).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A process was created.
    Spawn {
        /// Its id.
        pid: Pid,
        /// Its program.
        name: String,
    },
    /// A process exited.
    Exit {
        /// Its id.
        pid: Pid,
        /// Its exit code.
        code: u64,
    },
    /// The kernel killed a process.
    Kill {
        /// Its id.
        pid: Pid,
        /// Why.
        #[serde(flatten)]
        kill: Kill,
    },
    /// `os.malloc` served an allocation call (`malloc`, `calloc`, `realloc`, ...).
    Alloc {
        /// The calling process.
        pid: Pid,
        /// The call (its symbol).
        call: &'static str,
        /// The bytes asked for.
        size: u64,
        /// The block (0: the call failed).
        #[serde(serialize_with = "hex::u64")]
        ptr: u64,
        /// The heap bytes the block takes (header and padding included).
        granted: u64,
        /// Search steps the allocator took.
        steps: u64,
    },
    /// `os.malloc` took a block back (`free`, or `realloc` moving it).
    Free {
        /// The process.
        pid: Pid,
        /// The block.
        #[serde(serialize_with = "hex::u64")]
        ptr: u64,
        /// The heap bytes it took.
        granted: u64,
    },
    /// The CPU went to another process.
    Switch {
        /// The process that had it (none after an exit or when idle).
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<Pid>,
        /// The process that has it now.
        to: Pid,
    },
    /// Nothing could run; the CPU waited for the disk.
    Idle {
        /// How long.
        cycles: u64,
    },
    /// A system call completed (or blocked, or ended its process), as `strace` shows it.
    Syscall {
        /// The calling process.
        pid: Pid,
        /// The call's number (`a7`).
        nr: u64,
        /// Its name, or `?` for a call the kernel does not serve.
        name: &'static str,
        /// Its arguments, `a0` to `a5`.
        #[serde(serialize_with = "hex::array")]
        args: [u64; 6],
        /// What it returned (a negative error number on failure); none when it blocked,
        /// will run again, or ended the process.
        #[serde(skip_serializing_if = "Option::is_none")]
        ret: Option<i64>,
    },
    /// A page or segment fault.
    Fault {
        /// The faulting process.
        pid: Pid,
        /// The address.
        #[serde(serialize_with = "hex::u64")]
        va: u64,
        /// The access.
        access: Access,
        /// `minor` (no disk), `major` (a disk read), `stack` (stack growth), `busy` (waits
        /// for a page already in transfer).
        kind: &'static str,
    },
    /// A page or segment was chosen to leave memory.
    Evict {
        /// Its owner.
        pid: Pid,
        /// Its virtual address.
        #[serde(serialize_with = "hex::u64")]
        va: u64,
        /// The frame (or the segment's base) it leaves.
        #[serde(serialize_with = "hex::u64")]
        pa: u64,
        /// It was dirty and is written out first.
        dirty: bool,
        /// The process whose fault needed the room.
        for_pid: Pid,
    },
    /// A disk request started.
    Disk {
        /// The controller's request id.
        id: u64,
        /// `read` or `write`.
        op: &'static str,
        /// The first block.
        block: u64,
        /// How many blocks.
        count: u64,
        /// The RAM buffer.
        #[serde(serialize_with = "hex::u64")]
        pa: u64,
        /// The process it is for.
        pid: Pid,
    },
    /// A disk request finished.
    DiskDone {
        /// The request id.
        id: u64,
        /// How it failed (`read`, `write`, `timeout`, `dma`), if it did; the kernel retries
        /// it or gives up (`disk-failed`).
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'static str>,
    },
    /// The kernel gave up on a disk request: the controller refused it, or it failed on
    /// every try.
    DiskFailed {
        /// The id of its last try (none: refused at submission).
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// `read` or `write`.
        op: &'static str,
        /// The first block.
        block: u64,
        /// The process it was for.
        pid: Pid,
        /// Why, in words.
        error: String,
    },
    /// Memory was given to a process (a partition, a hole, a segment).
    Place {
        /// The process.
        pid: Pid,
        /// What (`partition`, `block`, `text`, `stack`, ...).
        what: &'static str,
        /// The physical base.
        #[serde(serialize_with = "hex::u64")]
        base: u64,
        /// The size in bytes.
        size: u64,
    },
    /// Memory a [`Event::Place`] gave was given back (the process ended, or its segment
    /// left memory).
    Release {
        /// The process.
        pid: Pid,
        /// What (`partition`, `block`, `text`, `stack`, ...).
        what: &'static str,
        /// The physical base.
        #[serde(serialize_with = "hex::u64")]
        base: u64,
        /// The size in bytes.
        size: u64,
    },
    /// Compaction moved blocks.
    Compact {
        /// How many blocks moved.
        moves: u64,
        /// How many bytes were copied.
        bytes: u64,
        /// Each block it moved.
        blocks: Vec<Moved>,
    },
    /// A process's state changed.
    State {
        /// The process.
        pid: Pid,
        /// Its new state (`waiting-memory`, `loading`, `ready`, `running`, `blocked`,
        /// `sleeping`, `exited`, `killed`).
        state: &'static str,
        /// What a blocked process waits for (`disk`, `frame`, `segment`, `file`,
        /// `writeback`).
        #[serde(skip_serializing_if = "Option::is_none")]
        on: Option<&'static str>,
    },
    /// A process's list of areas, whole, after it changed.
    Layout {
        /// The process.
        pid: Pid,
        /// Its areas, in address order.
        areas: Vec<AreaRecord>,
    },
    /// A process's address space got an ASID or a page-table root, or either changed.
    Space {
        /// The process.
        pid: Pid,
        /// Its ASID (paging).
        #[serde(skip_serializing_if = "Option::is_none")]
        asid: Option<u16>,
        /// Its root page table's physical address (paging).
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex::opt")]
        root: Option<u64>,
    },
    /// A frame of user memory changed (paging schemes).
    Frame {
        /// The frame's physical address.
        #[serde(serialize_with = "hex::u64")]
        pa: u64,
        /// What it holds now (`free`, `page`, `page-table`, `kernel`, `page-cache`).
        holds: &'static str,
        /// The process of its first mapping (a page), or whose table it is.
        #[serde(skip_serializing_if = "Option::is_none")]
        pid: Option<Pid>,
        /// The virtual address of its first mapping (a page).
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex::opt")]
        va: Option<u64>,
        /// How many mappings it has, when more than one.
        #[serde(skip_serializing_if = "Option::is_none")]
        maps: Option<u32>,
    },
    /// The kernel wrote a page-table entry.
    Pte {
        /// The process whose tables hold it.
        pid: Pid,
        /// Its table's level, from the root (0).
        level: u8,
        /// The first virtual address it covers.
        #[serde(serialize_with = "hex::u64")]
        va: u64,
        /// The bytes it covers.
        span: u64,
        /// The entry's physical address.
        #[serde(serialize_with = "hex::u64")]
        at: u64,
        /// The value written.
        #[serde(serialize_with = "hex::u64")]
        value: u64,
        /// `invalid`, `table` or `leaf`.
        kind: &'static str,
        /// The next table (`table`) or the frame (`leaf`).
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex::opt")]
        target: Option<u64>,
        /// A leaf's flags, `rwxugad` with `-` for each clear bit.
        #[serde(skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
    },
    /// A process's page references since its last `refs` record, repeats collapsed.
    Refs {
        /// The process.
        pid: Pid,
        /// The virtual page numbers, in order (at most 1024).
        vpns: Vec<u64>,
    },
    /// A timeline sample (one per `os.timeline_interval` instructions).
    Sample {
        /// Instructions retired so far.
        instret: u64,
        /// Page and segment faults so far.
        faults: u64,
        /// Major faults so far.
        major: u64,
        /// Idle cycles so far.
        idle: u64,
        /// Kernel cycles so far.
        kernel: u64,
        /// The live processes' working sets, added up (pages).
        working_set: u64,
        /// Processes ready or running.
        runnable: u64,
        /// Processes blocked or loading.
        blocked: u64,
        /// The heaps under `os.malloc`, added up.
        #[serde(skip_serializing_if = "Option::is_none")]
        heap: Option<crate::kernel::HeapSample>,
        /// Each live process.
        procs: Vec<ProcSample>,
    },
}

/// One block compaction moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// Its process.
    pub pid: Pid,
    /// What it is (`block`).
    pub what: &'static str,
    /// Where it was.
    #[serde(serialize_with = "hex::u64")]
    pub from: u64,
    /// Where it is now.
    #[serde(serialize_with = "hex::u64")]
    pub to: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// One area of a [`Event::Layout`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AreaRecord {
    /// `text`, `data`, `heap`, `stack`, `anon`, `file` or `shared-file`.
    pub kind: &'static str,
    /// Its first address.
    #[serde(serialize_with = "hex::u64")]
    pub start: u64,
    /// One past its last address.
    #[serde(serialize_with = "hex::u64")]
    pub end: u64,
    /// `rwx` with `-` for each permission it lacks.
    pub perms: String,
}

/// One process of a [`Event::Sample`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcSample {
    /// The process.
    pub pid: Pid,
    /// Cycles it has run.
    pub cycles: u64,
    /// Instructions it has retired.
    pub instret: u64,
    /// Bytes of memory it holds (its resident pages, its partition, its segments).
    pub resident: u64,
    /// Its resident set size: bytes of the frames its address space maps, page-cache
    /// pages included (`Kernel::memory_use`).
    pub rss: u64,
    /// Its proportional set size: each frame it maps divided among all its mappings
    /// (bytes).
    pub pss: u64,
    /// Its unique set size: bytes of the frames only it maps.
    pub uss: u64,
    /// Kernel cycles charged to it so far (the kernel entries that began while it ran).
    pub kernel: u64,
}

/// Serializers that write addresses as lower-case hex strings (`"0x1f000"`), as the trace
/// format asks; the values stay `u64` in memory.
pub mod hex {
    use serde::Serializer;

    /// Writes `v` as `"0x..."`.
    pub fn u64<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:#x}"))
    }

    /// Writes `Some(v)` as `"0x..."` and `None` as null (pair it with
    /// `skip_serializing_if = "Option::is_none"`).
    pub fn opt<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => u64(v, s),
            None => s.serialize_none(),
        }
    }

    /// Writes each value as `"0x..."`.
    pub fn array<S: Serializer, const N: usize>(v: &[u64; N], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| format!("{x:#x}")))
    }
}

/// A trace record: the cycle and the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// When it happened.
    pub cycle: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// The kernel's own counters (per-process ones are in [`crate::process::ProcStats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KernelStats {
    /// Kernel entries (traps handled).
    pub entries: u64,
    /// Cycles spent in the kernel (from each trap's entry to the return to a process; the
    /// trap entry itself is the pipeline's, and idle waiting is counted apart).
    pub kernel_cycles: u64,
    /// Cycles the CPU waited with nothing to run.
    pub idle_cycles: u64,
    /// System calls.
    pub syscalls: u64,
    /// System calls with an unknown number (answered `-ENOSYS`).
    pub unknown_syscalls: u64,
    /// Context switches.
    pub switches: u64,
    /// Timer interrupts.
    pub timer_interrupts: u64,
    /// Disk interrupts.
    pub disk_interrupts: u64,
    /// Minor faults.
    pub minor_faults: u64,
    /// Major faults.
    pub major_faults: u64,
    /// Faults that only asked for a resident page's A or D bit (Svade), counted apart from
    /// the minor faults.
    pub ad_faults: u64,
    /// Pages read from the disk.
    pub pages_in: u64,
    /// Pages written to the disk.
    pub pages_out: u64,
    /// Disk read requests.
    pub disk_reads: u64,
    /// Disk write requests.
    pub disk_writes: u64,
    /// Processes created.
    pub spawned: u64,
    /// Of those, processes created by `fork` (or `vfork`, or `clone` without `CLONE_VM`).
    pub forks: u64,
    /// `fork`s refused (`os.max_processes` reached, or no memory for the child).
    pub forks_failed: u64,
    /// Of the processes created, threads: tasks made by `clone(CLONE_VM)` that run in the
    /// address space of the task that made them.
    pub threads: u64,
    /// Ended processes their parent waited for (`wait4`, `waitid`).
    pub reaped: u64,
    /// Copy-on-write faults: a store to a page shared after a fork (each also counts as a
    /// minor fault).
    pub cow_faults: u64,
    /// Processes that exited.
    pub exited: u64,
    /// Processes killed.
    pub killed: u64,
    /// Stack growths.
    pub stack_growths: u64,
    /// TLB flushes the kernel issued.
    pub tlb_flushes: u64,
    /// PTEs the kernel wrote.
    pub pte_writes: u64,
    /// Disk requests submitted again after they failed.
    pub disk_retries: u64,
    /// Disk requests the kernel gave up on (refused, or failed on every try).
    pub disk_failures: u64,
    /// Pages whose write-back failed with no mapping left to keep them: their data is lost
    /// (each is reported in the kernel's messages).
    pub lost_writes: u64,
    /// Misaligned loads and stores of processes the kernel emulated.
    pub misaligned_emulated: u64,
    /// Floating-point register files saved at a switch (the process had changed them).
    pub fp_saves: u64,
    /// Floating-point register files loaded at a switch.
    pub fp_restores: u64,
    /// `mprotect` calls under a scheme without per-page permissions (the areas record the
    /// change; the hardware cannot enforce it).
    pub mprotect_unenforced: u64,
}

impl KernelStats {
    /// Walks the counters under `os.NAME` in a stable order.
    pub fn for_each(&self, f: &mut dyn FnMut(&str, u64)) {
        for (n, v) in [
            ("entries", self.entries),
            ("kernel_cycles", self.kernel_cycles),
            ("idle_cycles", self.idle_cycles),
            ("syscalls", self.syscalls),
            ("syscalls.unknown", self.unknown_syscalls),
            ("switches", self.switches),
            ("interrupts.timer", self.timer_interrupts),
            ("interrupts.disk", self.disk_interrupts),
            ("faults.minor", self.minor_faults),
            ("faults.major", self.major_faults),
            ("faults.ad", self.ad_faults),
            ("faults.cow", self.cow_faults),
            ("pages_in", self.pages_in),
            ("pages_out", self.pages_out),
            ("disk.reads", self.disk_reads),
            ("disk.writes", self.disk_writes),
            ("processes.spawned", self.spawned),
            ("processes.forks", self.forks),
            ("processes.forks_failed", self.forks_failed),
            ("processes.threads", self.threads),
            ("processes.reaped", self.reaped),
            ("processes.exited", self.exited),
            ("processes.killed", self.killed),
            ("stack_growths", self.stack_growths),
            ("tlb_flushes", self.tlb_flushes),
            ("pte_writes", self.pte_writes),
            ("disk.retries", self.disk_retries),
            ("disk.failures", self.disk_failures),
            ("lost_writes", self.lost_writes),
            ("misaligned_emulated", self.misaligned_emulated),
            ("fp.saves", self.fp_saves),
            ("fp.restores", self.fp_restores),
            ("mprotect_unenforced", self.mprotect_unenforced),
        ] {
            f(&format!("os.{n}"), v);
        }
    }
}

/// A disk transfer direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskOp {
    /// Disk to RAM.
    Read,
    /// RAM to disk.
    Write,
}

impl DiskOp {
    /// `read` or `write`.
    pub fn name(self) -> &'static str {
        match self {
            DiskOp::Read => "read",
            DiskOp::Write => "write",
        }
    }
}

/// One disk transfer: what the kernel asks the controller for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Read or write.
    pub op: DiskOp,
    /// The first block.
    pub block: u64,
    /// How many blocks.
    pub count: u64,
    /// The RAM buffer's physical address.
    pub pa: u64,
    /// The process it is for (reports and the trace).
    pub pid: Pid,
}

/// Why a disk request failed for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskError {
    /// The controller refused it (its error code: 1 unknown command, 2 rejected by the
    /// disk).
    Rejected(u64),
    /// It failed on every try (the first and each retry); the last failure's kind.
    Failed {
        /// How the last try failed.
        fault: DiskFault,
        /// How many tries were made.
        tries: u32,
    },
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::Rejected(code) => {
                write!(
                    f,
                    "the disk controller refused the request (error code {code})"
                )
            }
            DiskError::Failed { fault, tries } => {
                let what = match fault {
                    DiskFault::Read => "a read error",
                    DiskFault::Write => "a write error",
                    DiskFault::Timeout => "a timeout",
                    DiskFault::Dma => "a DMA error",
                };
                let n = if *tries == 1 { "try" } else { "tries" };
                write!(f, "{what}, after {tries} {n}")
            }
        }
    }
}

/// A request that finished, for good: with its tag, and whether it worked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Done<T> {
    /// The controller's id of its last try (none: the controller refused it).
    pub id: Option<u64>,
    /// What it was.
    pub request: Request,
    /// What it was for.
    pub tag: T,
    /// Whether it moved its data.
    pub result: Result<(), DiskError>,
}

/// A request under way.
#[derive(Clone, Debug)]
struct Outstanding<T> {
    request: Request,
    tag: T,
    /// Tries so far, this one included.
    tries: u32,
}

/// The kernel's disk driver: it programs the controller's registers (each a timed MMIO
/// access), takes each request's id from the controller (`SUBMITTED` after the command: a
/// request the controller refused gets none), matches completions from the controller's
/// completion queue to what they were for, and retries a request that failed up to
/// `os.disk_retries` times before it reports the failure.
#[derive(Clone, Debug)]
pub struct DiskDriver<T> {
    base: Option<u64>,
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks on the disk.
    pub blocks: u64,
    /// The controller's `SUBMITTED` as last read.
    submitted: u64,
    /// Completions consumed from the controller's queue.
    seen: usize,
    /// Retries of a failed request before it is given up.
    retries: u32,
    /// Outstanding requests and what each is for, by the controller's id.
    pending: BTreeMap<u64, Outstanding<T>>,
    /// Requests the controller refused, to be reported by the next poll.
    refused: Vec<Done<T>>,
}

impl<T> DiskDriver<T> {
    /// A driver for the controller `hw` has, enabling its completion interrupt; a failed
    /// request is retried `retries` times.
    pub fn new(hw: &mut dyn Hw, retries: u32) -> DiskDriver<T> {
        let d = hw.devices();
        let mut submitted = 0;
        if let Some(base) = d.disk {
            hw.mmio_write(base + DISK_IRQ_ENABLE, 1);
            submitted = hw.mmio_read(base + DISK_SUBMITTED);
        }
        DiskDriver {
            base: d.disk,
            block_size: d.block_size,
            blocks: d.blocks,
            submitted,
            seen: 0,
            retries,
            pending: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    /// Whether there is a disk.
    pub fn present(&self) -> bool {
        self.base.is_some()
    }

    /// Requests outstanding (refused ones not yet reported included).
    pub fn outstanding(&self) -> usize {
        self.pending.len() + self.refused.len()
    }

    /// Whether a refused request waits to be reported by [`DiskDriver::poll`].
    pub fn has_refused(&self) -> bool {
        !self.refused.is_empty()
    }

    /// Programs the controller for `r`; returns the id the controller gave it, or why it
    /// refused it (the error is acknowledged).
    fn submit(&mut self, hw: &mut dyn Hw, r: &Request) -> Result<u64, DiskError> {
        let Some(base) = self.base else {
            return Err(DiskError::Rejected(0));
        };
        hw.mmio_write(base + DISK_BLOCK, r.block);
        hw.mmio_write(base + DISK_DMA_ADDR, r.pa);
        hw.mmio_write(base + DISK_COUNT, r.count);
        let cmd = match r.op {
            DiskOp::Read => CMD_READ,
            DiskOp::Write => CMD_WRITE,
        };
        hw.mmio_write(base + DISK_COMMAND, cmd);
        // The controller counts only the requests it accepted: the id is SUBMITTED before
        // the command, and an unchanged SUBMITTED means it refused this one.
        let now = hw.mmio_read(base + DISK_SUBMITTED);
        let before = std::mem::replace(&mut self.submitted, now);
        if now == before.wrapping_add(1) {
            return Ok(before);
        }
        let status = hw.mmio_read(base + DISK_STATUS);
        hw.mmio_write(base + DISK_STATUS, STATUS_ERROR);
        Err(DiskError::Rejected((status >> 8) & 0xff))
    }

    /// Starts `request` for `tag`, as the kernel does it: charges `os.cost.disk_request`,
    /// counts the read or write, and records the `disk` trace event. Returns the id, or why
    /// the controller refused the request (counted, with a `disk-failed` event).
    pub fn start(
        &mut self,
        sv: &mut Services,
        hw: &mut dyn Hw,
        request: Request,
        tag: T,
    ) -> Result<u64, DiskError> {
        self.begin(sv, hw, request, tag).map_err(|(e, _)| e)
    }

    /// [`DiskDriver::start`] for a caller that handles every failure where it handles
    /// completions: a request the controller refuses is reported by the next
    /// [`DiskDriver::poll`] as failed (the kernel polls before it would wait for it).
    pub fn start_or_report(
        &mut self,
        sv: &mut Services,
        hw: &mut dyn Hw,
        request: Request,
        tag: T,
    ) {
        if let Err((e, tag)) = self.begin(sv, hw, request, tag) {
            self.refused.push(Done {
                id: None,
                request,
                tag,
                result: Err(e),
            });
        }
    }

    fn begin(
        &mut self,
        sv: &mut Services,
        hw: &mut dyn Hw,
        request: Request,
        tag: T,
    ) -> Result<u64, (DiskError, T)> {
        let c = sv.cost().disk_request;
        sv.charge(hw, c);
        match self.submit(hw, &request) {
            Ok(id) => {
                sv.disk_started(hw, id, &request);
                self.pending.insert(
                    id,
                    Outstanding {
                        request,
                        tag,
                        tries: 1,
                    },
                );
                Ok(id)
            }
            Err(e) => {
                sv.disk_failed(hw, None, &request, e);
                Err((e, tag))
            }
        }
    }

    /// The requests that finished since the last call — refused ones first, then the
    /// completions in completion order — with their tags and results; acknowledges the
    /// controller's DONE bit. A request that failed is submitted again while it has retries
    /// left (it finishes later, under a new id).
    pub fn poll(&mut self, sv: &mut Services, hw: &mut dyn Hw) -> Vec<Done<T>> {
        let mut out = std::mem::take(&mut self.refused);
        let Some(base) = self.base else {
            return out;
        };
        let done = hw.disk_completed(self.seen);
        if done.is_empty() {
            return out;
        }
        self.seen += done.len();
        hw.mmio_write(base + DISK_STATUS, STATUS_DONE | STATUS_ERROR);
        for (id, result) in done {
            let Some(o) = self.pending.remove(&id) else {
                continue;
            };
            sv.event(
                hw,
                Event::DiskDone {
                    id,
                    error: result.err().map(DiskFault::name),
                },
            );
            let result = match result {
                Ok(()) => Ok(()),
                Err(_) if o.tries <= self.retries => {
                    sv.stats.disk_retries += 1;
                    let c = sv.cost().disk_request;
                    sv.charge(hw, c);
                    match self.submit(hw, &o.request) {
                        Ok(new) => {
                            sv.disk_started(hw, new, &o.request);
                            self.pending.insert(
                                new,
                                Outstanding {
                                    tries: o.tries + 1,
                                    ..o
                                },
                            );
                            continue;
                        }
                        // The retry was refused: that is the failure to report.
                        Err(e) => Err(e),
                    }
                }
                Err(fault) => Err(DiskError::Failed {
                    fault,
                    tries: o.tries,
                }),
            };
            if let Err(e) = result {
                sv.disk_failed(hw, Some(id), &o.request, e);
            }
            out.push(Done {
                id: Some(id),
                request: o.request,
                tag: o.tag,
                result,
            });
        }
        out
    }
}

/// The kernel's shared state: configuration, counters, trace.
#[derive(Clone, Debug)]
pub struct Services {
    /// The configuration.
    pub cfg: OsConfig,
    /// The counters.
    pub stats: KernelStats,
    /// Trace records not yet taken (only while tracing is on).
    pub trace: Option<Vec<Record>>,
    /// The kernel's messages (as `dmesg` shows them): failures that no process's report
    /// tells, such as a write-back whose data was lost.
    pub messages: Vec<String>,
}

impl Services {
    /// The costs.
    pub fn cost(&self) -> &Costs {
        &self.cfg.cost
    }

    /// Charges `cycles` of kernel work (the kernel's cycle count is the clock time it spends,
    /// measured around each entry, so MMIO accesses count too).
    pub fn charge(&mut self, hw: &mut dyn Hw, cycles: u64) {
        if cycles > 0 {
            hw.charge(cycles);
        }
    }

    /// Counts a `minor`, `major` or `ad` (A/D-bit) fault of `pid` (in the kernel's and the
    /// process's counters) and records its trace event; other kinds (`stack`, `busy`) are
    /// only recorded.
    pub fn fault(
        &mut self,
        hw: &dyn Hw,
        ps: &mut ProcStats,
        pid: Pid,
        va: u64,
        access: Access,
        kind: &'static str,
    ) {
        match kind {
            "minor" => {
                self.stats.minor_faults += 1;
                ps.minor_faults += 1;
            }
            "major" => {
                self.stats.major_faults += 1;
                ps.major_faults += 1;
            }
            "ad" => {
                self.stats.ad_faults += 1;
                ps.ad_faults += 1;
            }
            "cow" => {
                // A copy-on-write fault is a minor fault (no disk), counted apart too.
                self.stats.minor_faults += 1;
                self.stats.cow_faults += 1;
                ps.minor_faults += 1;
                ps.cow_faults += 1;
            }
            _ => {}
        }
        self.event(
            hw,
            Event::Fault {
                pid,
                va,
                access,
                kind,
            },
        );
    }

    /// Counts a started request and records its `disk` event.
    fn disk_started(&mut self, hw: &dyn Hw, id: u64, r: &Request) {
        match r.op {
            DiskOp::Read => self.stats.disk_reads += 1,
            DiskOp::Write => self.stats.disk_writes += 1,
        }
        self.event(
            hw,
            Event::Disk {
                id,
                op: r.op.name(),
                block: r.block,
                count: r.count,
                pa: r.pa,
                pid: r.pid,
            },
        );
    }

    /// Counts a request given up on and records its `disk-failed` event.
    fn disk_failed(&mut self, hw: &dyn Hw, id: Option<u64>, r: &Request, e: DiskError) {
        self.stats.disk_failures += 1;
        self.event(
            hw,
            Event::DiskFailed {
                id,
                op: r.op.name(),
                block: r.block,
                pid: r.pid,
                error: e.to_string(),
            },
        );
    }

    /// Adds a kernel message, stamped with the clock.
    pub fn message(&mut self, hw: &dyn Hw, text: String) {
        self.messages.push(format!("[cycle {}] {text}", hw.now()));
    }

    /// Records an event (when tracing).
    pub fn event(&mut self, hw: &dyn Hw, event: Event) {
        if let Some(t) = self.trace.as_mut() {
            t.push(Record {
                cycle: hw.now(),
                event,
            });
        }
    }
}
