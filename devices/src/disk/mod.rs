//! A block device whose every request has a modelled service time.
//!
//! A [`Disk`] is a spinning disk (cylinders, heads, sectors per track, a rotation speed, a
//! seek curve, head switches, track skew) or an SSD (fixed read and write latencies, a
//! bandwidth, parallel channels), with a controller overhead, a request queue served in the
//! order of a [`Scheduler`], statistics, and the data itself.
//!
//! The arm's cylinder and the platter's angle are state: the angle is a function of modelled
//! time (`(t + phase) mod rotation`), so two requests in a row cost what they would on a real
//! drive. Everything is integer cycles and deterministic; `docs/disk.md` gives the rules
//! precisely enough to compute a request's time by hand.
//!
//! Time only moves when the owner says so:
//!
//! ```
//! use vmlab_devices::disk::{Disk, DiskConfig, DiskOp, DiskRequest};
//! use vmlab_devices::Cycle;
//!
//! let mut disk = Disk::new(DiskConfig::default()).unwrap();
//! disk.submit(DiskRequest { id: 1, op: DiskOp::Read, block: 10, count: 1, arrival: Cycle(0) })
//!     .unwrap();
//! let when = disk.next_event().unwrap();      // the cycle request 1 will finish
//! let done = disk.advance(when);              // everything finished by then
//! assert_eq!(done[0].id, 1);
//! assert_eq!(done[0].finish, when);
//! let mut buf = vec![0u8; disk.block_size() as usize];
//! disk.read_blocks(10, &mut buf).unwrap();    // the data, separately from the timing
//! ```

mod config;
mod fault;
mod hdd;
mod stats;
mod storage;
pub mod time;

pub use config::{
    DiskConfig, HddConfig, Scheduler, SeekCurve, SsdConfig, Zone, DEFAULT_BLOCK_SIZE,
    DEFAULT_CLOCK_HZ, DEFAULT_RPM, DEFAULT_TIMEOUT, MAX_GEOMETRY,
};
pub use fault::{DiskFault, FaultInjector};
pub use hdd::Chs;
pub use stats::{DiskStats, FaultStats, OpStats};
pub use time::{Rate, Time};

use crate::Cycle;

/// The most sectors one request may move on a spinning disk (2 GiB of 512-byte sectors):
/// a request is modelled track by track, so this bounds the work one request costs.
pub const MAX_REQUEST_SECTORS: u64 = 1 << 22;
use hdd::Hdd;
use serde::Serialize;
use std::fmt;
use storage::Storage;

/// Whether a request reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskOp {
    /// Read blocks from the disk.
    Read,
    /// Write blocks to the disk.
    Write,
}

impl DiskOp {
    /// `"read"` or `"write"`.
    pub fn name(self) -> &'static str {
        match self {
            DiskOp::Read => "read",
            DiskOp::Write => "write",
        }
    }
}

impl fmt::Display for DiskOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request to the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct DiskRequest {
    /// The owner's name for the request, returned in its [`Completion`].
    pub id: u64,
    /// Read or write.
    pub op: DiskOp,
    /// The first block.
    pub block: u64,
    /// How many consecutive blocks (at least 1).
    pub count: u64,
    /// When the request reaches the disk.
    pub arrival: Cycle,
}

/// A finished request, where its time went, and whether it failed.
///
/// `start − arrival = queue`, and `finish − start = overhead + latency + seek + rotation +
/// transfer + timeout`: the controller's overhead comes first, then (on a spinning disk) the
/// seek, the wait for the first sector, and the transfer (with any head switches and
/// track-to-track seeks of a request that crosses tracks counted as seek, and their
/// rotational waits as rotation); on an SSD the access latency, then the transfer.
///
/// A request whose [`fault`](Completion::fault) is set failed: its owner must move no data
/// (a failed read leaves the destination untouched, a failed write leaves the disk's blocks
/// unchanged; the disk controller keeps to this). A read or write error took the normal
/// service time; a [`DiskFault::Timeout`] took exactly the configured `timeout`, all of it in
/// [`Completion::timeout`], with every other part 0 (the arm did not move).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Completion {
    /// The request's id.
    pub id: u64,
    /// Read or write.
    pub op: DiskOp,
    /// The first block.
    pub block: u64,
    /// How many blocks.
    pub count: u64,
    /// When it arrived.
    pub arrival: Cycle,
    /// When the disk started on it.
    pub start: Cycle,
    /// When it finished.
    pub finish: Cycle,
    /// Time waiting in the queue (`start − arrival`).
    pub queue: Cycle,
    /// The controller's overhead.
    pub overhead: Cycle,
    /// The SSD's access latency (0 on a spinning disk).
    pub latency: Cycle,
    /// Arm movement and head switches (0 on an SSD).
    pub seek: Cycle,
    /// Waiting for the platter to bring the sectors round (0 on an SSD).
    pub rotation: Cycle,
    /// Moving the data.
    pub transfer: Cycle,
    /// Cylinders the arm moved (0 on an SSD).
    pub seek_distance: u64,
    /// Where the first block lies (`None` on an SSD).
    pub position: Option<Chs>,
    /// The SSD channel that served it (0 on a spinning disk).
    pub channel: u64,
    /// The time a timed-out request occupied the disk (0 unless `fault` is a timeout).
    pub timeout: Cycle,
    /// Why the request failed, or `None` if it succeeded. The disk sets
    /// [`DiskFault::Read`], [`DiskFault::Write`] or [`DiskFault::Timeout`] when it injects a
    /// fault; the disk controller's log also records [`DiskFault::Dma`].
    pub fault: Option<DiskFault>,
}

impl Completion {
    /// `finish − start`.
    pub fn service(&self) -> Cycle {
        Cycle(self.finish.0 - self.start.0)
    }

    /// `finish − arrival`: queueing plus service.
    pub fn response(&self) -> Cycle {
        Cycle(self.finish.0 - self.arrival.0)
    }

    /// `Ok(())` if the request succeeded, or the fault that failed it.
    pub fn result(&self) -> Result<(), DiskFault> {
        self.fault.map_or(Ok(()), Err)
    }

    /// Whether the request failed.
    pub fn failed(&self) -> bool {
        self.fault.is_some()
    }
}

/// Everything that can go wrong with a disk: a bad configuration or a bad request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiskError {
    /// The configuration cannot be built; the message says what would be right.
    #[error("invalid disk configuration: {0}")]
    Config(String),
    /// A scheduler name that does not exist.
    #[error("unknown scheduler `{0}`; the schedulers are: {names}", names = Scheduler::names())]
    UnknownScheduler(String),
    /// A request that reaches past the last block.
    #[error(
        "{}blocks {block}..{} are beyond the last block {} (the disk has {blocks} blocks, 0..{})",
        id.map(|i| format!("request {i}: ")).unwrap_or_default(),
        block.saturating_add(*count).saturating_sub(1),
        blocks.saturating_sub(1),
        blocks.saturating_sub(1)
    )]
    OutOfRange {
        /// The request's id, if it came from a request.
        id: Option<u64>,
        /// The first block.
        block: u64,
        /// The number of blocks.
        count: u64,
        /// The disk's size in blocks.
        blocks: u64,
    },
    /// A request for more sectors than one request may move on a spinning disk.
    #[error("request {id}: {count} blocks is more than one request may move on this disk (at most {max}); split it")]
    TooLarge {
        /// The request's id.
        id: u64,
        /// The number of blocks asked for.
        count: u64,
        /// The most blocks one request may move.
        max: u64,
    },
    /// A request for no blocks.
    #[error("request {id}: count = 0; a request moves at least one block")]
    ZeroCount {
        /// The request's id.
        id: u64,
    },
    /// A data buffer that is not a whole number of blocks.
    #[error("a buffer of {len} bytes is not a whole, non-zero number of {block_size}-byte blocks")]
    Buffer {
        /// The buffer's length.
        len: u64,
        /// The block size.
        block_size: u64,
    },
    /// The image file cannot be read or written.
    #[error("disk image {path}: {message}")]
    Image {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// The drive behind the queue.
#[derive(Clone, Debug)]
enum Model {
    Hdd(Hdd),
    Ssd {
        blocks: u64,
        read: u64,
        write: u64,
        bandwidth: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct Queued {
    req: DiskRequest,
    seq: u64,
    /// The position schedulers sort by: the first block's cylinder (the block on an SSD).
    cyl: u64,
    /// The fault drawn for it when it was submitted.
    fault: Option<DiskFault>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Server {
    busy: Option<Completion>,
    free_at: u64,
}

/// The timing state: queue, arm, channels. Cloned to look ahead in [`Disk::next_event`].
#[derive(Clone, Debug)]
struct Engine {
    model: Model,
    block_size: u64,
    clock_hz: u64,
    overhead: u64,
    /// The cycles a timed-out request occupies the disk.
    timeout: u64,
    scheduler: Scheduler,
    /// The scheduling window: choose among the first `window` waiting requests only.
    window: Option<usize>,
    pending: Vec<Queued>,
    servers: Vec<Server>,
    cyl: u64,
    head: u64,
    up: bool,
    seq: u64,
    /// No request starts before this cycle: decisions up to it have been made.
    horizon: u64,
    busy_until: u64,
    busy: u64,
    /// A look-ahead copy: logs nothing.
    quiet: bool,
}

/// What a start decision chose.
struct Choice {
    index: usize,
    route: Vec<u64>,
    up: bool,
}

impl Engine {
    fn edge(&self) -> u64 {
        match &self.model {
            Model::Hdd(h) => h.cylinders - 1,
            Model::Ssd { blocks, .. } => blocks - 1,
        }
    }

    /// Picks the next request among `cands` (indices into `pending`, all arrived by `t`).
    fn choose(&self, cands: &[usize], t: u64) -> Choice {
        let p = &self.pending;
        let key = |i: usize| (p[i].req.arrival, p[i].seq);
        let dist = |i: usize| p[i].cyl.abs_diff(self.cyl);
        let pick = |f: &dyn Fn(usize) -> u64| -> usize {
            *cands
                .iter()
                .min_by_key(|&&i| (f(i), key(i)))
                .expect("candidates")
        };
        let ahead = |up: bool| -> Vec<usize> {
            cands
                .iter()
                .copied()
                .filter(|&i| {
                    if up {
                        p[i].cyl >= self.cyl
                    } else {
                        p[i].cyl <= self.cyl
                    }
                })
                .collect()
        };
        let nearest = |v: &[usize]| -> usize {
            *v.iter()
                .min_by_key(|&&i| (dist(i), key(i)))
                .expect("candidates")
        };
        let simple = |index: usize| Choice {
            index,
            route: Vec::new(),
            up: if p[index].cyl == self.cyl {
                self.up
            } else {
                p[index].cyl > self.cyl
            },
        };
        match self.scheduler {
            Scheduler::Fcfs => simple(pick(&|_| 0)),
            Scheduler::Sstf => simple(pick(&dist)),
            Scheduler::Look | Scheduler::Scan => {
                let a = ahead(self.up);
                if !a.is_empty() {
                    return Choice {
                        index: nearest(&a),
                        route: Vec::new(),
                        up: self.up,
                    };
                }
                let b = ahead(!self.up);
                let index = nearest(&b);
                let edge = if self.up { self.edge() } else { 0 };
                let route = if self.scheduler == Scheduler::Scan
                    && matches!(self.model, Model::Hdd(_))
                    && self.cyl != edge
                {
                    vec![edge]
                } else {
                    Vec::new()
                };
                Choice {
                    index,
                    route,
                    up: !self.up,
                }
            }
            Scheduler::CScan | Scheduler::CLook => {
                let a = ahead(true);
                if !a.is_empty() {
                    return Choice {
                        index: nearest(&a),
                        route: Vec::new(),
                        up: true,
                    };
                }
                let index = pick(&|i| p[i].cyl);
                let mut route = Vec::new();
                if self.scheduler == Scheduler::CScan && matches!(self.model, Model::Hdd(_)) {
                    if self.cyl != self.edge() {
                        route.push(self.edge());
                    }
                    route.push(0);
                }
                Choice {
                    index,
                    route,
                    up: true,
                }
            }
            Scheduler::Sptf => match &self.model {
                Model::Hdd(h) => {
                    let t0 = t.saturating_add(self.overhead);
                    simple(pick(&|i| {
                        let r = &p[i].req;
                        h.plan(self.cyl, self.head, &[], r.block, 1, t0).positioning
                    }))
                }
                Model::Ssd { .. } => simple(pick(&|_| 0)),
            },
        }
    }

    /// Starts the chosen request on server `s` at cycle `t`.
    fn start(&mut self, s: usize, t: u64, choice: Choice) {
        let q = self.pending.remove(choice.index);
        let r = q.req;
        let t0 = t.saturating_add(self.overhead);
        let mut c = Completion {
            id: r.id,
            op: r.op,
            block: r.block,
            count: r.count,
            arrival: r.arrival,
            start: Cycle(t),
            finish: Cycle(t),
            queue: Cycle(t - r.arrival.0),
            overhead: Cycle(self.overhead),
            latency: Cycle(0),
            seek: Cycle(0),
            rotation: Cycle(0),
            transfer: Cycle(0),
            seek_distance: 0,
            position: None,
            channel: s as u64,
            timeout: Cycle(0),
            fault: q.fault,
        };
        if q.fault == Some(DiskFault::Timeout) {
            // The drive hangs on the request: nothing moves, and after `timeout` the
            // request is reported failed.
            c.overhead = Cycle(0);
            c.timeout = Cycle(self.timeout);
            if let Model::Hdd(h) = &self.model {
                c.position = Some(h.chs(c.block * h.sectors_per_block));
            }
        } else {
            self.plan(&mut c, &choice, t0);
            self.up = choice.up;
        }
        let f = [
            c.overhead, c.latency, c.seek, c.rotation, c.transfer, c.timeout,
        ]
        .iter()
        .fold(t, |acc, x| acc.saturating_add(x.0));
        c.finish = Cycle(f);
        if !self.quiet {
            tracing::debug!(
                id = c.id,
                op = c.op.name(),
                block = c.block,
                count = c.count,
                start = t,
                finish = f,
                queue = c.queue.0,
                seek = c.seek.0,
                rotation = c.rotation.0,
                transfer = c.transfer.0,
                fault = c.fault.map(DiskFault::name),
                scheduler = self.scheduler.name(),
                "disk request starts"
            );
        }
        self.busy += f.saturating_sub(t.max(self.busy_until));
        self.busy_until = self.busy_until.max(f);
        self.servers[s].busy = Some(c);
    }

    /// Fills in where a request's time goes on the drive, starting after the overhead at
    /// `t0`, and moves the arm to where it ends.
    fn plan(&mut self, c: &mut Completion, choice: &Choice, t0: u64) {
        match &self.model {
            Model::Hdd(h) => {
                let p = h.plan(self.cyl, self.head, &choice.route, c.block, c.count, t0);
                c.seek = Cycle(p.seek);
                c.rotation = Cycle(p.rotation);
                c.transfer = Cycle(p.transfer);
                c.seek_distance = p.distance;
                c.position = p.first;
                self.cyl = p.end_cylinder;
                self.head = p.end_head;
            }
            Model::Ssd {
                read,
                write,
                bandwidth,
                ..
            } => {
                c.latency = Cycle(match c.op {
                    DiskOp::Read => *read,
                    DiskOp::Write => *write,
                });
                let bytes = c.count as u128 * self.block_size as u128;
                let bw = *bandwidth as u128;
                let x = (bytes * self.clock_hz as u128 + bw / 2) / bw;
                c.transfer = Cycle(u64::try_from(x).unwrap_or(u64::MAX));
                self.cyl = c.block.saturating_add(c.count - 1);
            }
        }
    }

    /// Runs events up to and including cycle `now`; with `first`, stops after the first
    /// completion. Returns the completions in finishing order.
    fn run(&mut self, now: u64, first: bool) -> Vec<Completion> {
        let mut out = Vec::new();
        loop {
            let fin = self
                .servers
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.busy.map(|c| (c.finish.0, i)))
                .min();
            let idle = self
                .servers
                .iter()
                .enumerate()
                .filter(|(_, s)| s.busy.is_none())
                .map(|(i, s)| (s.free_at, i))
                .min();
            let arrival = self.pending.iter().map(|q| q.req.arrival.0).min();
            let start = match (idle, arrival) {
                (Some((free, i)), Some(a)) => Some((free.max(a).max(self.horizon), i)),
                _ => None,
            };
            match (fin, start) {
                (Some((f, i)), st) if st.is_none_or(|(s, _)| f <= s) => {
                    if f > now {
                        break;
                    }
                    let c = self.servers[i].busy.take().expect("busy");
                    self.servers[i].free_at = f;
                    out.push(c);
                    if first {
                        break;
                    }
                }
                (_, Some((t, i))) => {
                    if t > now {
                        break;
                    }
                    let mut cands: Vec<usize> = (0..self.pending.len())
                        .filter(|&k| self.pending[k].req.arrival.0 <= t)
                        .collect();
                    if let Some(w) = self.window {
                        // The first `w` waiting requests in arrival order.
                        cands.sort_by_key(|&k| (self.pending[k].req.arrival, self.pending[k].seq));
                        cands.truncate(w);
                    }
                    let choice = self.choose(&cands, t);
                    self.start(i, t, choice);
                }
                _ => break,
            }
        }
        out
    }
}

/// A disk: the timing model, its queue, its statistics and its data.
#[derive(Debug)]
pub struct Disk {
    cfg: DiskConfig,
    engine: Engine,
    faults: FaultInjector,
    blocks: u64,
    stats: DiskStats,
    storage: Storage,
}

impl Disk {
    /// Builds a disk, checking the configuration (and opening the image file, if one is given).
    pub fn new(cfg: DiskConfig) -> Result<Disk, DiskError> {
        cfg.validate()?;
        let cfg = cfg.resolved()?;
        let faults = cfg.fault_injector()?;
        let hz = cfg.clock_hz;
        let (model, blocks, servers, cyl, head) = match (&cfg.ssd, cfg.hdd_or_default()) {
            (Some(s), _) => (
                Model::Ssd {
                    blocks: s.blocks,
                    read: s.read_latency.cycles(hz),
                    write: s.write_latency.cycles(hz),
                    bandwidth: s.bandwidth.0,
                },
                s.blocks,
                s.channels as usize,
                0,
                0,
            ),
            (None, Some(h)) => {
                let d = Hdd::new(&h, cfg.block_size, hz)?;
                let blocks = d.sectors() / d.sectors_per_block;
                (Model::Hdd(d), blocks, 1, h.start_cylinder, h.start_head)
            }
            (None, None) => unreachable!("hdd_or_default gives a disk when there is no SSD"),
        };
        let storage = match &cfg.image {
            Some(p) => Storage::open(p, cfg.block_size, blocks)?,
            None => Storage::memory(cfg.block_size, blocks),
        };
        Ok(Disk {
            engine: Engine {
                model,
                block_size: cfg.block_size,
                clock_hz: hz,
                overhead: cfg.overhead.cycles(hz),
                timeout: cfg.timeout.cycles(hz),
                scheduler: cfg.scheduler,
                window: cfg.window.map(|w| w as usize),
                pending: Vec::new(),
                servers: vec![Server::default(); servers],
                cyl,
                head,
                up: true,
                seq: 0,
                horizon: 0,
                busy_until: 0,
                busy: 0,
                quiet: false,
            },
            faults,
            cfg,
            blocks,
            stats: DiskStats::default(),
            storage,
        })
    }

    /// The configuration, resolved (see [`DiskConfig::resolved`]).
    pub fn config(&self) -> &DiskConfig {
        &self.cfg
    }

    /// Bytes per block.
    pub fn block_size(&self) -> u64 {
        self.cfg.block_size
    }

    /// The number of blocks (on a spinning disk, whole blocks of its sectors).
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// The clock frequency that turns durations into cycles.
    pub fn clock_hz(&self) -> u64 {
        self.cfg.clock_hz
    }

    /// Whether the disk is an SSD.
    pub fn is_ssd(&self) -> bool {
        matches!(self.engine.model, Model::Ssd { .. })
    }

    /// The scheduler in use.
    pub fn scheduler(&self) -> Scheduler {
        self.engine.scheduler
    }

    /// Changes the scheduler; requests already in service are not affected.
    pub fn set_scheduler(&mut self, s: Scheduler) {
        self.engine.scheduler = s;
        self.cfg.scheduler = s;
    }

    /// Where block `block` begins (cylinder, head, sector), on a spinning disk.
    pub fn position(&self, block: u64) -> Option<Chs> {
        match &self.engine.model {
            Model::Hdd(h) if block < self.blocks => Some(h.chs(block * h.sectors_per_block)),
            _ => None,
        }
    }

    /// The cycles of one revolution (spinning disk).
    pub fn rotation_cycles(&self) -> Option<u64> {
        match &self.engine.model {
            Model::Hdd(h) => Some(h.period),
            Model::Ssd { .. } => None,
        }
    }

    /// The platter's angle at cycle 0, in cycles into the revolution (spinning disk).
    pub fn phase_cycles(&self) -> Option<u64> {
        match &self.engine.model {
            Model::Hdd(h) => Some(h.phase),
            Model::Ssd { .. } => None,
        }
    }

    /// The cycles of a seek of `distance` cylinders (spinning disk).
    pub fn seek_cycles(&self, distance: u64) -> Option<u64> {
        match &self.engine.model {
            Model::Hdd(h) => Some(h.seek.time(distance)),
            Model::Ssd { .. } => None,
        }
    }

    /// The cycle at which sector slot `slot` (0-based, after skew) begins, within a revolution.
    pub fn slot_start_cycles(&self, slot: u64) -> Option<u64> {
        match &self.engine.model {
            Model::Hdd(h) => Some(h.boundary(0, slot)),
            Model::Ssd { .. } => None,
        }
    }

    /// The cylinder the arm is on, and the selected head (the last block served, on an SSD).
    pub fn arm(&self) -> (u64, u64) {
        (self.engine.cyl, self.engine.head)
    }

    /// Queues a request. It is refused if it has no blocks, reaches past the last block, or
    /// (on a spinning disk) moves more than [`MAX_REQUEST_SECTORS`] sectors.
    ///
    /// Submit requests in the order they arrive. A request never starts before its arrival,
    /// nor before the last cycle given to [`Disk::advance`] (decisions up to then are made).
    ///
    /// Every accepted request takes the next draw of the fault injector (a refused one takes
    /// none), which decides now whether it will fail and how (see [`FaultInjector`]).
    pub fn submit(&mut self, req: DiskRequest) -> Result<(), DiskError> {
        if req.count == 0 {
            return Err(DiskError::ZeroCount { id: req.id });
        }
        if req
            .block
            .checked_add(req.count)
            .is_none_or(|end| end > self.blocks)
        {
            return Err(DiskError::OutOfRange {
                id: Some(req.id),
                block: req.block,
                count: req.count,
                blocks: self.blocks,
            });
        }
        if let Model::Hdd(h) = &self.engine.model {
            let max = (MAX_REQUEST_SECTORS / h.sectors_per_block).max(1);
            if req.count > max {
                return Err(DiskError::TooLarge {
                    id: req.id,
                    count: req.count,
                    max,
                });
            }
        }
        let cyl = match &self.engine.model {
            Model::Hdd(h) => h.chs(req.block * h.sectors_per_block).cylinder,
            Model::Ssd { .. } => req.block,
        };
        let seq = self.engine.seq;
        self.engine.seq += 1;
        let fault = self.faults.draw(req.op);
        self.engine.pending.push(Queued {
            req,
            seq,
            cyl,
            fault,
        });
        Ok(())
    }

    /// The cycle at which the next request will finish, if no other request is submitted
    /// before then; `None` when nothing is queued or in service.
    pub fn next_event(&self) -> Option<Cycle> {
        let mut e = self.engine.clone();
        e.quiet = true;
        e.run(u64::MAX, true).first().map(|c| c.finish)
    }

    /// Runs the disk up to cycle `now` and returns every request that finished by then (in
    /// finishing order), counting them in the statistics.
    pub fn advance(&mut self, now: Cycle) -> Vec<Completion> {
        let out = self.engine.run(now.0, false);
        self.engine.horizon = self.engine.horizon.max(now.0);
        for c in &out {
            self.stats.record(c);
        }
        self.stats.busy_cycles = self.engine.busy;
        out
    }

    /// Runs until every submitted request has finished.
    pub fn drain(&mut self) -> Vec<Completion> {
        let out = self.engine.run(u64::MAX, false);
        for c in &out {
            self.stats.record(c);
        }
        self.stats.busy_cycles = self.engine.busy;
        out
    }

    /// Requests waiting (not yet started).
    pub fn queued(&self) -> usize {
        self.engine.pending.len()
    }

    /// Requests in service.
    pub fn in_service(&self) -> usize {
        self.engine
            .servers
            .iter()
            .filter(|s| s.busy.is_some())
            .count()
    }

    /// Whether nothing is queued or in service.
    pub fn is_idle(&self) -> bool {
        self.queued() == 0 && self.in_service() == 0
    }

    /// Reads whole blocks starting at `block` into `buf` (its length is a multiple of the
    /// block size). This moves data only; the time is modelled by requests.
    pub fn read_blocks(&mut self, block: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.storage.read(block, buf)
    }

    /// Writes whole blocks starting at `block` from `buf`. With an image file the data stays
    /// in memory until [`Disk::flush`].
    pub fn write_blocks(&mut self, block: u64, buf: &[u8]) -> Result<(), DiskError> {
        self.storage.write(block, buf)
    }

    /// Writes the blocks written since the last flush to the image file, atomically (a
    /// temporary file beside it, synced, then renamed over it). Without an image file this
    /// does nothing.
    pub fn flush(&mut self) -> Result<(), DiskError> {
        self.storage.flush()
    }

    /// The image file, if the disk has one.
    pub fn image(&self) -> Option<&std::path::Path> {
        self.storage.image_path()
    }

    /// Blocks written but not yet flushed to the image file.
    pub fn dirty_blocks(&self) -> usize {
        self.storage.dirty_blocks()
    }

    /// The counters.
    pub fn stats(&self) -> &DiskStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = DiskStats::default();
        self.engine.busy = 0;
    }

    /// Calls `f` with every counter under `disk.`, in the stable order of
    /// [`DiskStats::for_each`], followed — only when fault injection is on (`fault_rate >
    /// 0`) — by `disk.faults.{read,write,timeout}` ([`DiskStats::for_each_fault`]).
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        self.stats.for_each("disk", f);
        if self.faults_enabled() {
            self.stats.for_each_fault("disk", f);
        }
    }

    /// Every counter as (name, value) pairs, in the order of [`Disk::for_each_stat`].
    pub fn stat_list(&self) -> Vec<(String, u64)> {
        let mut v = Vec::new();
        self.for_each_stat(&mut |n, x| v.push((n.to_string(), x)));
        v
    }

    /// Whether requests may fail (`fault_rate > 0`).
    pub fn faults_enabled(&self) -> bool {
        self.faults.enabled()
    }

    /// The fault injector: how many draws it has made.
    pub fn fault_injector(&self) -> &FaultInjector {
        &self.faults
    }
}

#[cfg(test)]
mod textbook_tests {
    //! Zones, the scheduling window and the textbook's units (OSTEP's disk.py).
    use super::*;

    /// disk.py's disk in textbook units: 1 ms ticks, 1 degree a tick, 40 ticks a track, the
    /// head in the middle of sector 6; `zones` sectors per track from the outside in.
    fn ostep(zones: &[u64], scheduler: Scheduler, window: Option<u64>) -> DiskConfig {
        DiskConfig {
            tick: Some(Time::ms(1)),
            block_size: 512,
            scheduler,
            window,
            hdd: Some(HddConfig {
                cylinders: zones.len() as u64,
                heads: 1,
                sectors_per_track: 12,
                zones: zones
                    .iter()
                    .map(|&s| Zone {
                        cylinders: 1,
                        sectors_per_track: s,
                    })
                    .collect(),
                rotate_degrees_per_tick: Some(1.0),
                seek_ticks_per_track: Some(40),
                start_sector: Some(6.5),
                ..HddConfig::default()
            }),
            ..DiskConfig::default()
        }
    }

    /// (block, seek, rotation, transfer) of each request in service order.
    fn serve(cfg: DiskConfig, blocks: &[u64]) -> Vec<(u64, u64, u64, u64)> {
        let mut d = Disk::new(cfg).unwrap();
        for (i, &b) in blocks.iter().enumerate() {
            d.submit(DiskRequest {
                id: i as u64,
                op: DiskOp::Read,
                block: b,
                count: 1,
                arrival: Cycle(0),
            })
            .unwrap();
        }
        let mut done = d.drain();
        done.sort_by_key(|c| c.start);
        done.iter()
            .map(|c| (c.block, c.seek.0, c.rotation.0, c.transfer.0))
            .collect()
    }

    #[test]
    fn units_give_the_old_ostep_disk() {
        let d = Disk::new(ostep(&[12, 12, 12], Scheduler::Fcfs, None)).unwrap();
        assert_eq!(d.clock_hz(), 1000);
        assert_eq!(d.rotation_cycles(), Some(360));
        assert_eq!(d.phase_cycles(), Some(195));
        assert_eq!(d.seek_cycles(2), Some(80));
        // disk.py -a 10,18: 0/105/30 and 40/170/30.
        assert_eq!(
            serve(ostep(&[12, 12, 12], Scheduler::Fcfs, None), &[10, 18]),
            [(10, 0, 105, 30), (18, 40, 170, 30)]
        );
        // Unzoned, the same: sectors_per_track 12 without zones.
        let mut c = ostep(&[12, 12, 12], Scheduler::Fcfs, None);
        c.hdd.as_mut().unwrap().zones.clear();
        assert_eq!(serve(c, &[10, 18]), [(10, 0, 105, 30), (18, 40, 170, 30)]);
    }

    #[test]
    fn zones_place_blocks_and_centre_sector_zero() {
        // disk.py -z 30,20,10: 12, 18 and 36 sectors; blocks 0-11, 12-29, 30-65.
        let cfg = ostep(&[12, 18, 36], Scheduler::Fcfs, None);
        let d = Disk::new(cfg.clone()).unwrap();
        assert_eq!(d.blocks(), 66);
        assert_eq!(
            d.position(29),
            Some(Chs {
                cylinder: 1,
                head: 0,
                sector: 17
            })
        );
        assert_eq!(d.position(30).map(|p| p.cylinder), Some(2));
        // Block 12 (sector 0 of the middle track, centred at disk.py's 180, so starting at
        // 170): seek 40, wait from 40 to 170, a 20-degree sector. Then block 30 (starting
        // at 175) from 230 after a 40 seek: 305, and a 10-degree sector.
        assert_eq!(
            serve(cfg, &[12, 30]),
            [(12, 40, 130, 20), (30, 40, 305, 10)]
        );
    }

    #[test]
    fn window_limits_the_choice() {
        // disk.py -a 7,30,8 -p SATF: 7, 8, 30 with a full window. With -w 1 the scheduler
        // sees one request at a time: arrival order. With -w 2 it chooses 7 among 7 and 30,
        // then 8 (right after 7) among 30 and 8.
        let all = serve(ostep(&[12, 12, 12], Scheduler::Sptf, None), &[7, 30, 8]);
        assert_eq!(all.iter().map(|x| x.0).collect::<Vec<_>>(), [7, 8, 30]);
        let one = serve(ostep(&[12, 12, 12], Scheduler::Sptf, Some(1)), &[7, 30, 8]);
        assert_eq!(one.iter().map(|x| x.0).collect::<Vec<_>>(), [7, 30, 8]);
        let two = serve(ostep(&[12, 12, 12], Scheduler::Sptf, Some(2)), &[7, 30, 8]);
        assert_eq!(two.iter().map(|x| x.0).collect::<Vec<_>>(), [7, 8, 30]);
    }

    #[test]
    fn bad_textbook_keys_are_refused() {
        let msg = |c: DiskConfig| Disk::new(c).unwrap_err().to_string();
        assert!(msg(ostep(&[12, 12, 12], Scheduler::Fcfs, Some(0))).contains("disk.window = 0"));
        let mut c = ostep(&[12, 12], Scheduler::Fcfs, None);
        c.hdd.as_mut().unwrap().cylinders = 3;
        assert!(msg(c).contains("zones cover 2 cylinders"));
        let mut c = ostep(&[12, 0, 12], Scheduler::Fcfs, None);
        c.hdd.as_mut().unwrap().cylinders = 3;
        assert!(msg(c).contains("zone 2 has sectors_per_track = 0"));
        let mut c = ostep(&[12, 12, 12], Scheduler::Fcfs, None);
        c.hdd.as_mut().unwrap().rotate_degrees_per_tick = Some(7.0);
        assert!(msg(c).contains("divides 360"));
        let mut c = ostep(&[12, 12, 12], Scheduler::Fcfs, None);
        c.tick = Some(Time::Cycles(3));
        assert!(msg(c).contains("disk.tick"));
        let mut c = ostep(&[12, 12, 12], Scheduler::Fcfs, None);
        c.hdd.as_mut().unwrap().start_sector = Some(12.0);
        assert!(msg(c).contains("start_sector = 12"));
        // Resolving twice changes nothing.
        let r = ostep(&[12, 12, 12], Scheduler::Fcfs, None)
            .resolved()
            .unwrap();
        assert_eq!(r.resolved().unwrap(), r);
    }
}
