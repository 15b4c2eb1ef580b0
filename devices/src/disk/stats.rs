//! The disk's counters, walked in a stable order under stable dotted names.

use super::{Completion, DiskFault, DiskOp};
use serde::Serialize;

/// Failed requests by kind of fault (the disk's injected faults, or the controller's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    /// Read errors.
    pub read: u64,
    /// Write errors.
    pub write: u64,
    /// Timeouts.
    pub timeout: u64,
}

impl FaultStats {
    /// Counts one fault of kind `f` ([`DiskFault::Dma`] is not counted here: the controller
    /// keeps its own `dma_faults`).
    pub fn count(&mut self, f: DiskFault) {
        match f {
            DiskFault::Read => self.read += 1,
            DiskFault::Write => self.write += 1,
            DiskFault::Timeout => self.timeout += 1,
            DiskFault::Dma => {}
        }
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.read + self.write + self.timeout
    }

    /// Calls `f` with `{prefix}.faults.read`, `{prefix}.faults.write` and
    /// `{prefix}.faults.timeout`, in that order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.faults.read"), self.read);
        f(&format!("{prefix}.faults.write"), self.write);
        f(&format!("{prefix}.faults.timeout"), self.timeout);
    }
}

/// Counters of one kind of request (reads or writes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpStats {
    /// Requests completed (failed ones included).
    pub requests: u64,
    /// Blocks they moved (a failed request moves none).
    pub blocks: u64,
    /// The sum of their service times (start to finish), in cycles.
    pub service_cycles: u64,
    /// The longest service time.
    pub service_max: u64,
    /// The sum of their queueing times (arrival to start), in cycles.
    pub queue_cycles: u64,
    /// The longest queueing time.
    pub queue_max: u64,
}

impl OpStats {
    /// The mean service time in cycles (rounded half up), if any request completed.
    pub fn avg_service(&self) -> Option<u64> {
        avg(self.service_cycles, self.requests)
    }

    /// The mean queueing time in cycles (rounded half up), if any request completed.
    pub fn avg_queue(&self) -> Option<u64> {
        avg(self.queue_cycles, self.requests)
    }
}

fn avg(sum: u64, n: u64) -> Option<u64> {
    (n > 0).then(|| ((sum as u128 + n as u128 / 2) / n as u128) as u64)
}

/// The disk's counters. Derived values (averages, utilisation) are computed by methods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiskStats {
    /// Reads.
    pub read: OpStats,
    /// Writes.
    pub write: OpStats,
    /// Cycles during which at least one request was in service (counted when service starts).
    pub busy_cycles: u64,
    /// Controller overhead, summed over requests.
    pub overhead_cycles: u64,
    /// SSD access latency, summed over requests.
    pub latency_cycles: u64,
    /// Seek time (arm movement and head switches), summed over requests.
    pub seek_cycles: u64,
    /// Rotational waits, summed over requests.
    pub rotation_cycles: u64,
    /// Transfer time, summed over requests.
    pub transfer_cycles: u64,
    /// Requests that moved the arm.
    pub seeks: u64,
    /// Cylinders the arm travelled.
    pub seek_distance: u64,
    /// Requests that failed, by kind.
    pub faults: FaultStats,
}

impl DiskStats {
    /// Counts a completed request.
    pub fn record(&mut self, c: &Completion) {
        let o = match c.op {
            DiskOp::Read => &mut self.read,
            DiskOp::Write => &mut self.write,
        };
        let service = c.service().0;
        o.requests += 1;
        match c.fault {
            None => o.blocks = o.blocks.saturating_add(c.count),
            Some(f) => self.faults.count(f),
        }
        o.service_cycles = o.service_cycles.saturating_add(service);
        o.service_max = o.service_max.max(service);
        o.queue_cycles = o.queue_cycles.saturating_add(c.queue.0);
        o.queue_max = o.queue_max.max(c.queue.0);
        self.overhead_cycles = self.overhead_cycles.saturating_add(c.overhead.0);
        self.latency_cycles = self.latency_cycles.saturating_add(c.latency.0);
        self.seek_cycles = self.seek_cycles.saturating_add(c.seek.0);
        self.rotation_cycles = self.rotation_cycles.saturating_add(c.rotation.0);
        self.transfer_cycles = self.transfer_cycles.saturating_add(c.transfer.0);
        self.seeks += u64::from(c.seek_distance > 0);
        self.seek_distance = self.seek_distance.saturating_add(c.seek_distance);
    }

    /// All requests completed.
    pub fn requests(&self) -> u64 {
        self.read.requests + self.write.requests
    }

    /// Reads and writes together.
    pub fn all(&self) -> OpStats {
        let (r, w) = (&self.read, &self.write);
        OpStats {
            requests: r.requests + w.requests,
            blocks: r.blocks.saturating_add(w.blocks),
            service_cycles: r.service_cycles.saturating_add(w.service_cycles),
            service_max: r.service_max.max(w.service_max),
            queue_cycles: r.queue_cycles.saturating_add(w.queue_cycles),
            queue_max: r.queue_max.max(w.queue_max),
        }
    }

    /// Calls `f` with each counter's name (below `prefix`, e.g. `disk`) and value, in a
    /// stable order: `disk.reads`, `disk.writes`, `disk.blocks_read`, `disk.blocks_written`,
    /// `disk.busy_cycles`, `disk.service_cycles.{read,write,max,max_read,max_write}`,
    /// `disk.queue_cycles.{read,write,max,max_read,max_write}`, `disk.overhead_cycles`,
    /// `disk.latency_cycles`, `disk.seek_cycles`, `disk.rotation_cycles`,
    /// `disk.transfer_cycles`, `disk.seeks`, `disk.seek_distance`.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        let (r, w) = (&self.read, &self.write);
        f(&format!("{prefix}.reads"), r.requests);
        f(&format!("{prefix}.writes"), w.requests);
        f(&format!("{prefix}.blocks_read"), r.blocks);
        f(&format!("{prefix}.blocks_written"), w.blocks);
        f(&format!("{prefix}.busy_cycles"), self.busy_cycles);
        for (name, rs, ws, rm, wm) in [
            (
                "service_cycles",
                r.service_cycles,
                w.service_cycles,
                r.service_max,
                w.service_max,
            ),
            (
                "queue_cycles",
                r.queue_cycles,
                w.queue_cycles,
                r.queue_max,
                w.queue_max,
            ),
        ] {
            f(&format!("{prefix}.{name}.read"), rs);
            f(&format!("{prefix}.{name}.write"), ws);
            f(&format!("{prefix}.{name}.max"), rm.max(wm));
            f(&format!("{prefix}.{name}.max_read"), rm);
            f(&format!("{prefix}.{name}.max_write"), wm);
        }
        f(&format!("{prefix}.overhead_cycles"), self.overhead_cycles);
        f(&format!("{prefix}.latency_cycles"), self.latency_cycles);
        f(&format!("{prefix}.seek_cycles"), self.seek_cycles);
        f(&format!("{prefix}.rotation_cycles"), self.rotation_cycles);
        f(&format!("{prefix}.transfer_cycles"), self.transfer_cycles);
        f(&format!("{prefix}.seeks"), self.seeks);
        f(&format!("{prefix}.seek_distance"), self.seek_distance);
    }

    /// Calls `f` with the fault counters, `disk.faults.{read,write,timeout}` (walked by
    /// [`crate::disk::Disk::for_each_stat`] only when fault injection is on).
    pub fn for_each_fault(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        self.faults.for_each(prefix, f);
    }

    /// Every counter as (name, value) pairs in the order of [`DiskStats::for_each`] (without
    /// the fault counters; [`crate::disk::Disk::stat_list`] adds them when faults are on).
    pub fn list(&self, prefix: &str) -> Vec<(String, u64)> {
        let mut v = Vec::new();
        self.for_each(prefix, &mut |n, x| v.push((n.to_string(), x)));
        v
    }
}
