//! What every part of the kernel uses: the disk driver, the kernel's counters, the trace of
//! kernel events, and the cost accounting.

use crate::config::{Costs, OsConfig};
use crate::hw::Hw;
use crate::process::{Access, Kill, Pid, ProcStats};
use serde::Serialize;
use std::collections::BTreeMap;
use vmlab_devices::diskctl::{
    CMD_READ, CMD_WRITE, DISK_BLOCK, DISK_COMMAND, DISK_COUNT, DISK_DMA_ADDR, DISK_IRQ_ENABLE,
    DISK_STATUS, STATUS_DONE,
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
    /// The CPU went to another process.
    Switch {
        /// The process that had it (none after an exit or when idle).
        from: Option<Pid>,
        /// The process that has it now.
        to: Pid,
    },
    /// Nothing could run; the CPU waited for the disk.
    Idle {
        /// How long.
        cycles: u64,
    },
    /// A page or segment fault.
    Fault {
        /// The faulting process.
        pid: Pid,
        /// The address.
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
        va: u64,
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
        pa: u64,
        /// The process it is for.
        pid: Pid,
    },
    /// A disk request finished.
    DiskDone {
        /// The request id.
        id: u64,
    },
    /// Memory was given to a process (a partition, a hole, a segment).
    Place {
        /// The process.
        pid: Pid,
        /// What (`partition`, `text`, `stack`, ...).
        what: &'static str,
        /// The physical base.
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
    },
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
            ("pages_in", self.pages_in),
            ("pages_out", self.pages_out),
            ("disk.reads", self.disk_reads),
            ("disk.writes", self.disk_writes),
            ("processes.spawned", self.spawned),
            ("processes.exited", self.exited),
            ("processes.killed", self.killed),
            ("stack_growths", self.stack_growths),
            ("tlb_flushes", self.tlb_flushes),
            ("pte_writes", self.pte_writes),
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

/// The kernel's disk driver: it programs the controller's registers (each a timed MMIO
/// store) and matches completions from the controller's completion queue to what they
/// were for.
#[derive(Clone, Debug)]
pub struct DiskDriver<T> {
    base: Option<u64>,
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks on the disk.
    pub blocks: u64,
    /// The id the next request will get (the controller's SUBMITTED).
    next_id: u64,
    /// Completions consumed from the controller's queue.
    seen: usize,
    /// Outstanding requests and what each is for.
    pending: BTreeMap<u64, T>,
}

impl<T> DiskDriver<T> {
    /// A driver for the controller `hw` has, enabling its completion interrupt.
    pub fn new(hw: &mut dyn Hw) -> DiskDriver<T> {
        let d = hw.devices();
        if let Some(base) = d.disk {
            hw.mmio_write(base + DISK_IRQ_ENABLE, 1);
        }
        DiskDriver {
            base: d.disk,
            block_size: d.block_size,
            blocks: d.blocks,
            next_id: 0,
            seen: 0,
            pending: BTreeMap::new(),
        }
    }

    /// Whether there is a disk.
    pub fn present(&self) -> bool {
        self.base.is_some()
    }

    /// Requests outstanding.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Starts a transfer of `count` blocks from `block` to or from RAM at `pa`, remembering
    /// `tag`; returns the request's id.
    pub fn submit(
        &mut self,
        hw: &mut dyn Hw,
        op: DiskOp,
        block: u64,
        count: u64,
        pa: u64,
        tag: T,
    ) -> Option<u64> {
        let base = self.base?;
        hw.mmio_write(base + DISK_BLOCK, block);
        hw.mmio_write(base + DISK_DMA_ADDR, pa);
        hw.mmio_write(base + DISK_COUNT, count);
        let cmd = match op {
            DiskOp::Read => CMD_READ,
            DiskOp::Write => CMD_WRITE,
        };
        hw.mmio_write(base + DISK_COMMAND, cmd);
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, tag);
        Some(id)
    }

    /// [`DiskDriver::submit`] as the kernel does it: charges `os.cost.disk_request`,
    /// counts the read or write, and records the `disk` trace event for `pid`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        sv: &mut Services,
        hw: &mut dyn Hw,
        op: DiskOp,
        block: u64,
        count: u64,
        pa: u64,
        pid: Pid,
        tag: T,
    ) -> Option<u64> {
        let c = sv.cost().disk_request;
        sv.charge(hw, c);
        let id = self.submit(hw, op, block, count, pa, tag)?;
        let name = match op {
            DiskOp::Read => {
                sv.stats.disk_reads += 1;
                "read"
            }
            DiskOp::Write => {
                sv.stats.disk_writes += 1;
                "write"
            }
        };
        sv.event(
            hw,
            Event::Disk {
                id,
                op: name,
                block,
                count,
                pa,
                pid,
            },
        );
        Some(id)
    }

    /// The requests that completed since the last call, in completion order, with their
    /// tags; acknowledges the controller's DONE bit.
    pub fn poll(&mut self, hw: &mut dyn Hw) -> Vec<(u64, T)> {
        let Some(base) = self.base else {
            return Vec::new();
        };
        let done = hw.disk_completed(self.seen);
        if done.is_empty() {
            return Vec::new();
        }
        self.seen += done.len();
        hw.mmio_write(base + DISK_STATUS, STATUS_DONE);
        done.into_iter()
            .filter_map(|id| self.pending.remove(&id).map(|t| (id, t)))
            .collect()
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

    /// Counts a `minor` or `major` fault of `pid` (in the kernel's and the process's
    /// counters) and records its trace event; other kinds (`stack`, `busy`) are only
    /// recorded.
    #[allow(clippy::too_many_arguments)]
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
