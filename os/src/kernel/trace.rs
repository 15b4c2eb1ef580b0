//! The kernel's side of `--trace` (format v1, `docs/trace.md`): the events that say how
//! processes, address spaces, frames and references change, recorded only while tracing
//! is on; none of this work is modelled (it changes no cycle and no counter).

use super::Kernel;
use crate::config::SchemeKind;
use crate::hw::Hw;
use crate::process::{Area, AreaKind, Pid, State};
use crate::services::{AreaRecord, Event, ProcSample};
use crate::wait::WaitOn;

/// The most page numbers one `refs` record carries.
pub const REFS_BATCH: usize = 1024;

/// What the trace last said of a process's address space, to tell when it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Seen {
    /// Its areas.
    areas: Vec<AreaRecord>,
    /// Its ASID and root table.
    space: Option<(Option<u16>, Option<u64>)>,
}

/// What the kernel knows of the machine, for the trace's `machine` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceInfo {
    /// The scheme's name (`vm-paging`, ...).
    pub scheme: &'static str,
    /// The replacement policy's name, or the placement policy's under the partition schemes.
    pub policy: &'static str,
    /// `global` or `local` frame allocation (paging schemes).
    pub allocation: Option<&'static str>,
    /// The page size (paging schemes).
    pub page_size: Option<u64>,
    /// The first byte of user memory.
    pub user_base: u64,
    /// The bytes of user memory.
    pub user_bytes: u64,
    /// The fixed partitions, base and size each.
    pub partitions: Vec<(u64, u64)>,
    /// The clock's rate.
    pub clock_hz: u64,
    /// `os.timeline_interval`.
    pub timeline_interval: u64,
}

impl Kernel {
    /// What the blocked process `pid` waits for, in the trace's word (`disk`, `pipe`,
    /// `futex`, `child`, `sleeping`, ...); `None` if it is not blocked.
    pub fn blocked_on(&self, pid: Pid) -> Option<&'static str> {
        let p = &self.procs[self.index(pid)?];
        match state_name(&p.state, &self.waits.waiting_on(pid)) {
            ("blocked", on) => on,
            ("sleeping", _) => Some("sleeping"),
            _ => None,
        }
    }
}

/// The trace's name of a process state, and what a blocked one waits for.
fn state_name(state: &State, waits: &[WaitOn]) -> (&'static str, Option<&'static str>) {
    match state {
        State::WaitingForMemory => ("waiting-memory", None),
        State::Loading => ("loading", None),
        State::Ready => ("ready", None),
        State::Running => ("running", None),
        State::Exited(_) => ("exited", None),
        State::Killed(_) => ("killed", None),
        State::Blocked => {
            if !waits.is_empty() && waits.iter().all(|w| matches!(w, WaitOn::Timer { .. })) {
                return ("sleeping", None);
            }
            let on = waits
                .iter()
                .find(|w| !matches!(w, WaitOn::Timer { .. }))
                .map_or("disk", |w| match w {
                    WaitOn::Page { .. } => "disk",
                    WaitOn::Segment { .. } => "segment",
                    WaitOn::CachePage { .. } => "file",
                    WaitOn::CacheRoom | WaitOn::FileSync { .. } => "writeback",
                    WaitOn::Frame => "frame",
                    WaitOn::PipeReadable { .. } | WaitOn::PipeWritable { .. } => "pipe",
                    WaitOn::Timer { .. } => "timer",
                    WaitOn::Child { .. } => "child",
                    WaitOn::Vfork { .. } => "vfork",
                    WaitOn::Futex { .. } => "futex",
                });
            ("blocked", Some(on))
        }
    }
}

/// An area as the trace's `layout` gives it.
fn area_record(a: &Area) -> AreaRecord {
    let kind = match a.kind {
        AreaKind::Text => "text",
        AreaKind::Data => "data",
        AreaKind::Heap => "heap",
        AreaKind::Stack => "stack",
        AreaKind::Anon => "anon",
        AreaKind::Mapped { shared: false, .. } => "file",
        AreaKind::Mapped { shared: true, .. } => "shared-file",
    };
    let b = |on: bool, c: char| if on { c } else { '-' };
    AreaRecord {
        kind,
        start: a.start,
        end: a.end,
        perms: [
            b(a.perm.read, 'r'),
            b(a.perm.write, 'w'),
            b(a.perm.exec, 'x'),
        ]
        .into_iter()
        .collect(),
    }
}

impl Kernel {
    /// Whether the trace is on.
    pub fn trace_on(&self) -> bool {
        self.sv.trace.is_some()
    }

    /// Whether the trace is on.
    pub(super) fn tracing(&self) -> bool {
        self.sv.trace.is_some()
    }

    /// Sets process `pi`'s state, with its `state` event.
    pub(super) fn set_state(&mut self, hw: &dyn Hw, pi: usize, state: State) {
        let Some(p) = self.procs.get_mut(pi) else {
            return;
        };
        p.state = state;
        if self.sv.trace.is_some() {
            self.trace_state(hw, pi);
        }
    }

    /// Records process `pi`'s state as it is.
    pub(super) fn trace_state(&mut self, hw: &dyn Hw, pi: usize) {
        // (The wait reason is looked up in the wait queues: only when tracing.)
        if self.sv.trace.is_none() {
            return;
        }
        let Some(p) = self.procs.get(pi) else {
            return;
        };
        let pid = p.pid;
        let (state, on) = state_name(&p.state, &self.waits.waiting_on(pid));
        self.sv.event(hw, Event::State { pid, state, on });
    }

    /// Notes a page reference of `pid` (repeats already collapsed) for the next `refs`
    /// record.
    #[inline]
    pub(super) fn trace_reference(&mut self, pid: Pid, vpn: u64) {
        if self.sv.trace.is_some() {
            self.trace_refs.push((pid, vpn));
        }
    }

    /// Records the references noted since the last call, in `refs` records of at most
    /// [`REFS_BATCH`] pages of one process each.
    pub(super) fn flush_refs(&mut self, hw: &dyn Hw) {
        if self.trace_refs.is_empty() {
            return;
        }
        let refs = std::mem::take(&mut self.trace_refs);
        let mut i = 0;
        while i < refs.len() {
            let pid = refs[i].0;
            let mut vpns = Vec::new();
            while i < refs.len() && refs[i].0 == pid && vpns.len() < REFS_BATCH {
                vpns.push(refs[i].1);
                i += 1;
            }
            self.sv.event(hw, Event::Refs { pid, vpns });
        }
    }

    /// Records what changed since the last call and is not recorded where it changes: the
    /// frame table's changes, each live process's areas and address space.
    pub(super) fn trace_sync(&mut self, hw: &dyn Hw) {
        if self.sv.trace.is_none() {
            return;
        }
        for e in self.mem.take_frame_events() {
            self.sv.event(hw, e);
        }
        let paged = self.mem.page_size().is_some();
        for pi in 0..self.procs.len() {
            let p = &self.procs[pi];
            if p.state.ended() {
                continue;
            }
            let pid = p.pid;
            let areas: Vec<AreaRecord> = self
                .spaces
                .get(&p.space)
                .map(|m| m.areas.iter().map(area_record).collect())
                .unwrap_or_default();
            let space = paged.then(|| (Some(p.asid), self.mem.root(pid)));
            let seen = self.trace_seen.entry(pid).or_default();
            let mut events = Vec::new();
            if seen.areas != areas {
                seen.areas = areas.clone();
                events.push(Event::Layout { pid, areas });
            }
            if let Some(sp) = space {
                if seen.space != Some(sp) {
                    seen.space = Some(sp);
                    events.push(Event::Space {
                        pid,
                        asid: sp.0,
                        root: sp.1,
                    });
                }
            }
            for e in events {
                self.sv.event(hw, e);
            }
        }
    }

    /// Records everything still pending for the trace (call when the run has ended, however
    /// it ended): the references, the frame table's changes, the areas.
    pub fn trace_flush(&mut self, hw: &dyn Hw) {
        self.flush_refs(hw);
        self.trace_sync(hw);
    }

    /// Records a timeline sample as a `sample` event.
    pub(super) fn trace_sample(&mut self, hw: &dyn Hw, s: &super::Sample) {
        if self.sv.trace.is_none() {
            return;
        }
        let now = hw.now();
        let retired = hw.retired();
        let procs = self
            .procs
            .iter()
            .filter(|p| !p.state.ended())
            .map(|p| {
                let running = self.current == Some(p.pid);
                ProcSample {
                    pid: p.pid,
                    cycles: p.stats.cycles
                        + if running {
                            now.saturating_sub(p.since)
                        } else {
                            0
                        },
                    instret: p.stats.instret
                        + if running {
                            retired.saturating_sub(p.insns_since)
                        } else {
                            0
                        },
                    resident: self.mem.resident_bytes(p.pid),
                    rss: self.mem_use.get(&p.pid).map_or(0, |r| r.last.rss),
                    pss: self.mem_use.get(&p.pid).map_or(0, |r| r.last.pss()),
                    uss: self.mem_use.get(&p.pid).map_or(0, |r| r.last.uss),
                    kernel: self.kernel_of.get(&p.pid).copied().unwrap_or(0),
                }
            })
            .collect();
        self.sv.event(
            hw,
            Event::Sample {
                instret: s.instret,
                faults: s.faults,
                major: s.major,
                idle: s.idle,
                kernel: self.sv.stats.kernel_cycles,
                working_set: s.working_set,
                runnable: s.runnable,
                blocked: s.blocked,
                heap: s.heap,
                procs,
            },
        );
    }

    /// What the trace's `machine` record says of the kernel's side of the machine.
    pub fn trace_info(&self) -> TraceInfo {
        let paged = matches!(
            self.cfg.scheme,
            SchemeKind::SimplePaging | SchemeKind::VmPaging
        );
        let policy = match self.cfg.scheme {
            SchemeKind::FixedPartitions | SchemeKind::DynamicPartitions => self.cfg.fit.name(),
            _ => self.cfg.policy.name(),
        };
        TraceInfo {
            scheme: self.cfg.scheme.name(),
            policy,
            allocation: paged.then_some(if self.cfg.frames_per_process > 0 {
                "local"
            } else {
                "global"
            }),
            page_size: self.mem.page_size().filter(|_| paged),
            user_base: self.user_base,
            user_bytes: self.user_bytes,
            partitions: self.mem.partitions(),
            clock_hz: self.clock_hz,
            timeline_interval: self.cfg.timeline_interval,
        }
    }

    /// How many user frames are free, hold a page, a page table, kernel data, the page
    /// cache, in that order (paging schemes).
    pub fn frame_census(&self) -> Option<[u64; 5]> {
        self.mem.frame_census()
    }
}
