//! The run over time: the timeline (figure `timeline`: one lane per process, a CPU lane, a
//! disk lane, fault marks) and the rates (figure `fault-rate`: faults per 1000 instructions,
//! the working set, each process's resident memory), all on one cycle axis.
//!
//! A long run is aggregated so the drawing stays small: a lane with more than
//! [`MAX_SPANS`] spans is drawn per pixel column, each column in the state that filled most
//! of it; faults are always counted per pixel column and kind; the CPU and disk lanes and
//! the rate series are merged per pixel column past the same limits. Captions say when.

use std::collections::BTreeMap;

use serde::Serialize;

use super::timefigs::{cycles, line_legend, short, x_axis, y_axis, Scale};
use crate::pictures::html::{Figure, Table};
use crate::pictures::svg::{process_colour, thousands, Anchor, Pattern, Svg, GRID, INK, KERNEL};
use crate::pictures::trace::{Event, Trace};

/// The most spans a lane is drawn from before it is drawn per pixel column.
pub const MAX_SPANS: usize = 2000;

/// The plot's width in pixels: one column each.
pub const COLUMNS: u64 = 960;

/// The most points a rate series has before intervals are merged.
pub const MAX_POINTS: usize = 1000;

/// A stretch of time a process spent in one state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Its first cycle.
    pub from: u64,
    /// The cycle it ended.
    pub to: u64,
    /// `running`, `ready`, `blocked: disk`, `waiting-memory`, `loading`, ….
    pub state: String,
}

/// Faults of one kind in one pixel column of a process's lane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FaultMark {
    /// The first fault's cycle.
    pub first: u64,
    /// The last fault's cycle.
    pub last: u64,
    /// `minor`, `major`, `stack`, `cow`, ….
    pub kind: String,
    /// How many.
    pub count: u64,
}

/// One process's lane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lane {
    /// The process.
    pub pid: u32,
    /// Its program.
    pub name: String,
    /// Its states, in order.
    pub spans: Vec<Span>,
    /// Whether `spans` is the per-column aggregate.
    pub merged: bool,
    /// Its faults, per column and kind.
    pub faults: Vec<FaultMark>,
    /// When and how it ended.
    pub ended: Option<(u64, String)>,
    /// Its time in the kernel per sample interval (or per pixel column, merged):
    /// `(from, to, kernel cycles charged to it)`.
    pub kernel: Vec<(u64, u64, u64)>,
}

/// The CPU over one sample interval (or several merged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CpuBar {
    /// Its first cycle.
    pub from: u64,
    /// Its last.
    pub to: u64,
    /// Cycles in user mode.
    pub user: u64,
    /// Cycles in the kernel.
    pub kernel: u64,
    /// Idle cycles.
    pub idle: u64,
}

/// One disk request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskReq {
    /// Its id.
    pub id: u64,
    /// `read` or `write`.
    pub op: String,
    /// The first block.
    pub block: u64,
    /// Blocks.
    pub count: u64,
    /// For whom.
    pub pid: u32,
    /// Started.
    pub from: u64,
    /// Finished (the end of the run when it never did).
    pub to: u64,
    /// Whether it finished.
    pub done: bool,
    /// How it failed.
    pub error: Option<String>,
    /// Its row in the lane (overlapping requests stack).
    pub row: u32,
}

/// Disk requests started in one pixel column (a long run's disk lane).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskBin {
    /// The column's first cycle.
    pub from: u64,
    /// Its last.
    pub to: u64,
    /// Reads started.
    pub reads: u64,
    /// Writes (and other requests) started.
    pub writes: u64,
    /// Cycles the requests took, in all.
    pub busy: u64,
}

/// The timeline: the figure's data model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The run's last cycle (the axis's end).
    pub end: u64,
    /// The processes' lanes, by pid.
    pub lanes: Vec<Lane>,
    /// The CPU lane.
    pub cpu: Vec<CpuBar>,
    /// Whether `cpu` merges sample intervals.
    pub cpu_merged: bool,
    /// The disk requests (empty when binned).
    pub disk: Vec<DiskReq>,
    /// The disk requests binned per column (a long run).
    pub disk_bins: Vec<DiskBin>,
    /// The disk lane's rows.
    pub disk_rows: u32,
}

/// The pixel column of cycle `c` on an axis ending at `end`.
fn column(c: u64, end: u64) -> u64 {
    if end == 0 {
        return 0;
    }
    ((u128::from(c) * u128::from(COLUMNS) / u128::from(end)) as u64).min(COLUMNS - 1)
}

/// The first cycle of column `k`.
fn column_start(k: u64, end: u64) -> u64 {
    (u128::from(k) * u128::from(end)).div_ceil(u128::from(COLUMNS)) as u64
}

/// What a `state` record says, as a lane's state.
fn state_name(state: &str, on: Option<&str>) -> String {
    match (state, on) {
        ("blocked", Some(on)) if !on.is_empty() => format!("blocked: {on}"),
        _ => state.to_string(),
    }
}

/// Draws a lane per pixel column: each column in the state that filled most of it.
fn per_column(spans: &[Span], end: u64) -> Vec<Span> {
    let mut cols: BTreeMap<u64, Vec<(String, u64)>> = BTreeMap::new();
    for s in spans {
        let (a, b) = (
            column(s.from, end),
            column(s.to.saturating_sub(1).max(s.from), end),
        );
        for k in a..=b {
            let lo = s.from.max(column_start(k, end));
            let hi = s.to.min(column_start(k + 1, end));
            let v = cols.entry(k).or_default();
            match v.iter_mut().find(|(st, _)| *st == s.state) {
                Some(x) => x.1 += hi.saturating_sub(lo),
                None => v.push((s.state.clone(), hi.saturating_sub(lo))),
            }
        }
    }
    let first = spans.first().map_or(0, |s| s.from);
    let last = spans.last().map_or(0, |s| s.to);
    let mut out: Vec<Span> = Vec::new();
    for (k, v) in cols {
        // The most cycles; ties to the state met first.
        let Some((state, _)) = v
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, c))| (*c, std::cmp::Reverse(*i)))
            .map(|(_, x)| x)
        else {
            continue;
        };
        let from = column_start(k, end).max(first);
        let to = column_start(k + 1, end).min(last).max(from);
        match out.last_mut() {
            Some(p) if p.state == *state && p.to >= from => p.to = to,
            _ => out.push(Span {
                from,
                to,
                state: state.clone(),
            }),
        }
    }
    out
}

/// Builds the timeline from the trace.
pub fn timeline(trace: &Trace) -> Timeline {
    let end = trace.end_cycle();
    struct P {
        name: String,
        state: String,
        since: u64,
        spans: Vec<Span>,
        ended: Option<(u64, String)>,
        faults: BTreeMap<(u64, String), FaultMark>,
    }
    let mut procs: BTreeMap<u32, P> = BTreeMap::new();
    // Each process's kernel cycles at the last sample, and its kernel bars.
    let mut kernel_at: BTreeMap<u32, u64> = BTreeMap::new();
    let mut kernel_bars: BTreeMap<u32, Vec<(u64, u64, u64)>> = BTreeMap::new();
    fn get(procs: &mut BTreeMap<u32, P>, pid: u32, c: u64) -> &mut P {
        procs.entry(pid).or_insert_with(|| P {
            name: String::new(),
            state: "ready".into(),
            since: c,
            spans: Vec::new(),
            ended: None,
            faults: BTreeMap::new(),
        })
    }
    fn set(p: &mut P, state: String, c: u64) {
        if p.ended.is_some() || p.state == state {
            return;
        }
        if c > p.since {
            p.spans.push(Span {
                from: p.since,
                to: c,
                state: std::mem::replace(&mut p.state, state),
            });
        } else {
            p.state = state;
        }
        p.since = c;
    }
    fn finish(p: &mut P, c: u64, how: String) {
        if let Some((_, was)) = &mut p.ended {
            // A bare `state: exited` first, the `exit` record with its code after it.
            if (was == "exited" || was == "killed") && how.starts_with(was.as_str()) {
                *was = how;
            }
            return;
        }
        set(p, String::new(), c);
        p.ended = Some((c, how));
    }
    let mut cpu = Vec::new();
    let (mut last_c, mut last_k, mut last_i) = (0u64, 0u64, 0u64);
    let mut open: BTreeMap<u64, DiskReq> = BTreeMap::new();
    let mut disk: Vec<DiskReq> = Vec::new();
    for r in &trace.records {
        let c = r.cycle;
        match &r.event {
            Event::Spawn { pid, name } => {
                let p = get(&mut procs, *pid, c);
                p.name = name.clone();
            }
            Event::State { pid, state, on } => {
                let p = get(&mut procs, *pid, c);
                match state.as_str() {
                    "exited" | "killed" => finish(p, c, state.clone()),
                    _ => set(p, state_name(state, on.as_deref()), c),
                }
            }
            Event::Switch { from, to } => {
                if let Some(f) = from.filter(|f| f != to) {
                    let p = get(&mut procs, f, c);
                    if p.state == "running" {
                        set(p, "ready".into(), c);
                    }
                }
                set(get(&mut procs, *to, c), "running".into(), c);
            }
            Event::Exit { pid, code } => {
                finish(get(&mut procs, *pid, c), c, format!("exited {code}"));
            }
            Event::Kill { pid, cause, .. } => {
                finish(get(&mut procs, *pid, c), c, format!("killed: {cause}"));
            }
            Event::Fault { pid, kind, .. } => {
                let p = get(&mut procs, *pid, c);
                let m = p
                    .faults
                    .entry((column(c, end), kind.clone()))
                    .or_insert(FaultMark {
                        first: c,
                        last: c,
                        kind: kind.clone(),
                        count: 0,
                    });
                m.last = c;
                m.count += 1;
            }
            Event::Sample {
                kernel,
                idle,
                procs: samples,
                ..
            } => {
                for ps in samples {
                    let before = kernel_at.insert(ps.pid, ps.kernel).unwrap_or(0);
                    let d = ps.kernel.saturating_sub(before);
                    if d > 0 && c > last_c {
                        let bars = kernel_bars.entry(ps.pid).or_default();
                        match bars.last_mut() {
                            // One bar per pixel column at most.
                            Some(l) if column(l.0, end) == column(last_c, end) => {
                                l.1 = c;
                                l.2 = l.2.saturating_add(d);
                            }
                            _ => bars.push((last_c, c, d)),
                        }
                    }
                }
                let dt = c.saturating_sub(last_c);
                let dk = kernel.saturating_sub(last_k).min(dt);
                let di = idle.saturating_sub(last_i).min(dt - dk);
                if dt > 0 {
                    cpu.push(CpuBar {
                        from: last_c,
                        to: c,
                        user: dt - dk - di,
                        kernel: dk,
                        idle: di,
                    });
                }
                (last_c, last_k, last_i) = (c, *kernel, *idle);
            }
            Event::Disk {
                id,
                op,
                block,
                count,
                pid,
            } => {
                if let Some(old) = open.insert(
                    *id,
                    DiskReq {
                        id: *id,
                        op: op.clone(),
                        block: *block,
                        count: *count,
                        pid: *pid,
                        from: c,
                        to: end,
                        done: false,
                        error: None,
                        row: 0,
                    },
                ) {
                    disk.push(old);
                }
            }
            Event::DiskDone { id, error } => {
                if let Some(mut d) = open.remove(id) {
                    d.to = c;
                    d.done = true;
                    d.error = error.clone();
                    disk.push(d);
                }
            }
            _ => {}
        }
    }
    disk.extend(open.into_values());
    disk.sort_by_key(|d| (d.from, d.id));
    let mut lanes = Vec::new();
    for (pid, mut p) in procs {
        if p.ended.is_none() && end > p.since && !p.state.is_empty() {
            let state = std::mem::take(&mut p.state);
            p.spans.push(Span {
                from: p.since,
                to: end,
                state,
            });
        }
        let merged = p.spans.len() > MAX_SPANS;
        let spans = if merged {
            per_column(&p.spans, end)
        } else {
            p.spans
        };
        lanes.push(Lane {
            pid,
            name: p.name,
            spans,
            merged,
            faults: p.faults.into_values().collect(),
            ended: p.ended,
            kernel: kernel_bars.remove(&pid).unwrap_or_default(),
        });
    }
    let mut t = Timeline {
        end,
        lanes,
        cpu_merged: cpu.len() > MAX_SPANS,
        ..Timeline::default()
    };
    t.cpu = if t.cpu_merged {
        let mut m: Vec<CpuBar> = Vec::new();
        for b in cpu {
            match m.last_mut() {
                Some(l) if column(l.from, end) == column(b.from, end) => {
                    l.to = b.to;
                    l.user += b.user;
                    l.kernel += b.kernel;
                    l.idle += b.idle;
                }
                _ => m.push(b),
            }
        }
        m
    } else {
        cpu
    };
    if disk.len() > MAX_SPANS {
        let mut bins: BTreeMap<u64, DiskBin> = BTreeMap::new();
        for d in &disk {
            let k = column(d.from, end);
            let b = bins.entry(k).or_insert(DiskBin {
                from: column_start(k, end),
                to: column_start(k + 1, end).min(end),
                reads: 0,
                writes: 0,
                busy: 0,
            });
            if d.op == "read" {
                b.reads += 1;
            } else {
                b.writes += 1;
            }
            b.busy = b.busy.saturating_add(d.to.saturating_sub(d.from));
        }
        t.disk_bins = bins.into_values().collect();
        t.disk_rows = 1;
    } else {
        // Stack overlapping requests: each takes the first row free when it starts.
        let mut rows: Vec<u64> = Vec::new();
        for d in &mut disk {
            let r = match rows.iter().position(|&e| e <= d.from) {
                Some(r) => r,
                None if rows.len() < 4 => {
                    rows.push(0);
                    rows.len() - 1
                }
                None => rows.len() - 1,
            };
            rows[r] = rows[r].max(d.to);
            d.row = r as u32;
        }
        t.disk_rows = rows.len().max(1) as u32;
        t.disk = disk;
    }
    t
}

/// The fill and pattern of a state.
fn style(state: &str, pid: u32) -> (&'static str, Option<Pattern>) {
    match state {
        "running" => (process_colour(pid), None),
        "ready" => ("#FFFFFF", Some(Pattern::Dots)),
        "waiting-memory" => ("#DDDDDD", Some(Pattern::Vertical)),
        "loading" => ("#DDDDDD", Some(Pattern::Horizontal)),
        "sleeping" => ("#FFFFFF", Some(Pattern::BackDiagonal)),
        s => match s.strip_prefix("blocked") {
            Some(on) => (
                "#999999",
                Some(match on.trim_start_matches(": ") {
                    "disk" => Pattern::Diagonal,
                    "frame" => Pattern::Cross,
                    "page-table" => Pattern::Grid,
                    "writeback" => Pattern::BackDiagonal,
                    "segment" => Pattern::Vertical,
                    _ => Pattern::Horizontal,
                }),
            ),
            None => ("#EEEEEE", None),
        },
    }
}

/// A fault kind's marker: shape and fill.
fn fault_marker(kind: &str) -> (u8, &'static str) {
    match kind {
        "minor" => (0, "#56B4E9"),
        "major" => (1, "#D55E00"),
        "stack" => (2, "#009E73"),
        "cow" => (3, "#CC79A7"),
        _ => (0, "#FFFFFF"),
    }
}

/// The fill and pattern of a disk operation: white and grey with patterns, never a colour a
/// process has (the process a request is for is in its tooltip).
fn disk_style(op: &str) -> (&'static str, Option<Pattern>) {
    if op == "read" {
        ("#FFFFFF", Some(Pattern::Horizontal))
    } else {
        ("#A0A0A0", Some(Pattern::Diagonal))
    }
}

/// CPU shares: user, kernel, idle.
///
/// Greys, so they never look like a process's colour: user light, kernel dark (as the
/// kernel's memory is drawn elsewhere), idle white and dotted.
const CPU: [(&str, &str, Option<Pattern>); 3] = [
    ("user", "#BBBBBB", None),
    ("kernel", KERNEL, None),
    ("idle", "#FFFFFF", Some(Pattern::Dots)),
];

const LEFT: f64 = 130.0;
const WIDTH: f64 = LEFT + COLUMNS as f64 + 20.0;

/// Draws the timeline.
pub fn draw(t: &Timeline) -> String {
    let mut svg = Svg::new("timeline", WIDTH, 200.0, "The run over time");
    let x = Scale {
        max: t.end.max(1) as f64,
        from: LEFT,
        len: COLUMNS as f64,
    };
    let px = |c: u64| x.at(c as f64);
    let top = 10.0;
    let mut y = top;
    for lane in &t.lanes {
        let label = if lane.name.is_empty() {
            format!("process {}", lane.pid)
        } else {
            format!("{} {}", lane.pid, lane.name)
        };
        let label: String = label.chars().take(18).collect();
        svg.text(LEFT - 6.0, y + 21.0, &label, 11.0, Anchor::End, false);
        let (bar, h) = (y + 12.0, 14.0);
        svg.rect(LEFT, bar, COLUMNS as f64, h, "#FAFAFA", Some(GRID), None);
        svg.open_group(Some(&format!("lane pid-{}", lane.pid)), None);
        for s in &lane.spans {
            let (fill, pat) = style(&s.state, lane.pid);
            let (a, b) = (px(s.from), px(s.to));
            let tip = format!(
                "process {}: {}{}, {}",
                lane.pid,
                s.state,
                if lane.merged {
                    " (most of this stretch)"
                } else {
                    ""
                },
                cycles(s.from, s.to)
            );
            if b - a >= 3.0 {
                svg.patterned(a, bar, b - a, h, fill, pat, Some(&tip));
            } else {
                // Too thin for an outline: the colour and the pattern alone.
                svg.open_group(None, Some(&tip));
                svg.rect(a, bar, (b - a).max(0.5), h, fill, None, None);
                if let Some(p) = pat {
                    let f = svg.pattern(p);
                    svg.rect(a, bar, (b - a).max(0.5), h, &f, None, None);
                }
                svg.close_group();
            }
        }
        svg.close_group();
        // Its time in the kernel: a dark strip under the lane, as tall as the share of each
        // sample interval the kernel spent on it.
        for &(from, to, k) in &lane.kernel {
            let (a, b) = (px(from), px(to));
            let share = k as f64 / to.saturating_sub(from).max(1) as f64;
            let hk = (5.0 * share.min(1.0)).max(0.8);
            let tip = format!(
                "process {} in the kernel: {} cycles of {} ({:.1}%), {}",
                lane.pid,
                thousands(k),
                thousands(to.saturating_sub(from)),
                100.0 * share.min(1.0),
                cycles(from, to)
            );
            svg.rect(
                a,
                bar + h + 6.0 - hk,
                (b - a).max(0.8),
                hk,
                KERNEL,
                None,
                Some(&tip),
            );
        }
        if let Some((c, how)) = &lane.ended {
            let e = px(*c);
            svg.line(e, bar - 2.0, e, bar + h + 2.0, INK, 2.0, false);
            svg.open_group(
                None,
                Some(&format!(
                    "process {}: {how} at cycle {}",
                    lane.pid,
                    thousands(*c)
                )),
            );
            // How it ended, under its name (a label on the lane would hide the states).
            let how: String = how.chars().take(24).collect();
            svg.text(LEFT - 6.0, bar + h + 7.0, &how, 9.0, Anchor::End, false);
            svg.close_group();
        }
        for f in &lane.faults {
            let (shape, fill) = fault_marker(&f.kind);
            let tip = if f.count == 1 {
                format!(
                    "{} fault, process {}, cycle {}",
                    f.kind,
                    lane.pid,
                    thousands(f.first)
                )
            } else {
                format!(
                    "{} {} faults, process {}, {}",
                    thousands(f.count),
                    f.kind,
                    lane.pid,
                    cycles(f.first, f.last)
                )
            };
            svg.marker(px(f.first), y + 6.0, 3.2, shape, fill, Some(&tip));
        }
        y += 34.0;
    }
    // The CPU lane.
    svg.text(LEFT - 6.0, y + 20.0, "CPU", 11.0, Anchor::End, true);
    let h = 26.0;
    svg.rect(LEFT, y, COLUMNS as f64, h, "#FAFAFA", Some(GRID), None);
    if t.cpu.is_empty() {
        svg.text(
            LEFT + 6.0,
            y + 17.0,
            "no counter samples",
            10.0,
            Anchor::Start,
            false,
        );
    }
    for b in &t.cpu {
        let total = (b.user + b.kernel + b.idle).max(1) as f64;
        let (a, e) = (px(b.from), px(b.to));
        let tip = format!(
            "CPU, {}: user {}, kernel {}, idle {}",
            cycles(b.from, b.to),
            super::timefigs::percent(b.user, b.user + b.kernel + b.idle),
            super::timefigs::percent(b.kernel, b.user + b.kernel + b.idle),
            super::timefigs::percent(b.idle, b.user + b.kernel + b.idle)
        );
        svg.open_group(Some("cpu"), Some(&tip));
        let mut base = y + h;
        for ((_, fill, pat), v) in CPU.iter().zip([b.user, b.kernel, b.idle]) {
            let hh = h * v as f64 / total;
            if hh > 0.0 {
                base -= hh;
                svg.rect(a, base, (e - a).max(0.5), hh, fill, None, None);
                if let Some(p) = pat {
                    let f = svg.pattern(*p);
                    svg.rect(a, base, (e - a).max(0.5), hh, &f, None, None);
                }
            }
        }
        svg.close_group();
    }
    y += h + 10.0;
    // The disk lane.
    svg.text(LEFT - 6.0, y + 12.0, "disk", 11.0, Anchor::End, true);
    let rh = 12.0;
    let dh = rh * f64::from(t.disk_rows.max(1));
    svg.rect(LEFT, y, COLUMNS as f64, dh, "#FAFAFA", Some(GRID), None);
    for d in &t.disk {
        let (fill, pat) = disk_style(&d.op);
        let (a, e) = (px(d.from), px(d.to));
        let tip = format!(
            "disk {} #{}: blocks {}–{} ({} blocks) for process {}, {}{}{}",
            d.op,
            d.id,
            d.block,
            d.block.saturating_add(d.count.saturating_sub(1)),
            d.count,
            d.pid,
            cycles(d.from, d.to),
            if d.done {
                ""
            } else {
                ", unfinished at the end"
            },
            d.error
                .as_ref()
                .map(|e| format!(", failed: {e}"))
                .unwrap_or_default()
        );
        let ry = y + rh * f64::from(d.row);
        svg.patterned(
            a,
            ry + 1.0,
            (e - a).max(1.0),
            rh - 2.0,
            fill,
            pat,
            Some(&tip),
        );
    }
    for b in &t.disk_bins {
        let op = if b.reads >= b.writes { "read" } else { "write" };
        let (fill, pat) = disk_style(op);
        let (a, e) = (px(b.from), px(b.to));
        let tip = format!(
            "{} disk requests started ({} reads, {} writes), {}; {} cycles of requests in all",
            b.reads + b.writes,
            b.reads,
            b.writes,
            cycles(b.from, b.to),
            thousands(b.busy)
        );
        svg.patterned(
            a,
            y + 1.0,
            (e - a).max(1.0),
            rh - 2.0,
            fill,
            pat,
            Some(&tip),
        );
    }
    if t.disk.is_empty() && t.disk_bins.is_empty() {
        svg.text(
            LEFT + 6.0,
            y + 10.0,
            "no disk requests",
            10.0,
            Anchor::Start,
            false,
        );
    }
    y += dh + 6.0;
    x_axis(&mut svg, x, y, top, "cycle", true);
    y += 40.0;
    // Legends: the states present, the fault marks, the CPU and the disk.
    let mut states: Vec<(String, u32)> = Vec::new();
    for l in &t.lanes {
        for s in &l.spans {
            if !states.iter().any(|(n, _)| *n == s.state) {
                states.push((s.state.clone(), l.pid));
            }
        }
    }
    states.sort();
    let mut items: Vec<(String, Option<Pattern>, String)> = states
        .iter()
        .map(|(s, pid)| {
            let (fill, pat) = style(s, *pid);
            let label = if s == "running" {
                "running (in the process's colour)".to_string()
            } else {
                s.clone()
            };
            (fill.to_string(), pat, label)
        })
        .collect();
    if t.lanes.iter().any(|l| !l.kernel.is_empty()) {
        items.push((
            KERNEL.to_string(),
            None,
            "in the kernel (strip under a lane: its share of each interval)".to_string(),
        ));
    }
    for (n, fill, pat) in CPU {
        items.push((fill.to_string(), pat, format!("CPU {n}")));
    }
    for op in ["read", "write"] {
        let (fill, pat) = disk_style(op);
        items.push((fill.to_string(), pat, format!("disk {op}")));
    }
    y = svg.legend(LEFT, y, &items);
    let mut kinds: Vec<&str> = vec!["minor", "major", "stack", "cow"];
    for l in &t.lanes {
        for f in &l.faults {
            if !kinds.contains(&f.kind.as_str()) {
                kinds.push(&f.kind);
            }
        }
    }
    let mut cx = LEFT;
    for k in kinds {
        let (shape, fill) = fault_marker(k);
        svg.marker(cx + 6.0, y + 6.0, 4.0, shape, fill, None);
        let label = format!("{k} fault");
        svg.text(cx + 14.0, y + 10.0, &label, 11.0, Anchor::Start, false);
        cx += 30.0 + 7.0 * label.len() as f64;
    }
    svg.set_height(y + 24.0);
    svg.finish()
}

/// The timeline's tables: the drawn spans, the CPU bars, the disk requests, the fault marks.
pub fn tables(t: &Timeline) -> Vec<Table> {
    let mut states = Table::new("states", &["pid", "from", "to", "state"]);
    let mut faults = Table::new("faults", &["pid", "kind", "first", "last", "count"]);
    for l in &t.lanes {
        for s in &l.spans {
            states.row(vec![
                l.pid.to_string(),
                s.from.to_string(),
                s.to.to_string(),
                s.state.clone(),
            ]);
        }
        for f in &l.faults {
            faults.row(vec![
                l.pid.to_string(),
                f.kind.clone(),
                f.first.to_string(),
                f.last.to_string(),
                f.count.to_string(),
            ]);
        }
    }
    let mut cpu = Table::new("cpu", &["from", "to", "user", "kernel", "idle"]);
    for b in &t.cpu {
        cpu.row(
            [b.from, b.to, b.user, b.kernel, b.idle]
                .iter()
                .map(u64::to_string)
                .collect(),
        );
    }
    let mut disk = Table::new(
        "disk",
        &[
            "id", "op", "block", "count", "pid", "from", "to", "done", "error",
        ],
    );
    for d in &t.disk {
        disk.row(vec![
            d.id.to_string(),
            d.op.clone(),
            d.block.to_string(),
            d.count.to_string(),
            d.pid.to_string(),
            d.from.to_string(),
            d.to.to_string(),
            d.done.to_string(),
            d.error.clone().unwrap_or_default(),
        ]);
    }
    let mut v = vec![states, faults, cpu, disk];
    if !t.disk_bins.is_empty() {
        let mut b = Table::new(
            "disk-per-column",
            &["from", "to", "reads", "writes", "busy"],
        );
        for d in &t.disk_bins {
            b.row(
                [d.from, d.to, d.reads, d.writes, d.busy]
                    .iter()
                    .map(u64::to_string)
                    .collect(),
            );
        }
        v.push(b);
    }
    v
}

/// The timeline figure.
pub fn timeline_figure(trace: &Trace) -> Figure {
    let t = timeline(trace);
    let mut cap = String::from(
        "One lane per process over the whole run (x: cycle): running in the process's colour, \
         ready dotted, blocked grey with a pattern per wait reason, waiting for memory and \
         loading light grey; a thick tick where the process ended. Marks above a lane are its \
         faults, a shape per kind. The CPU lane stacks user, kernel and idle cycles per sample \
         interval; the disk lane draws each request from start to finish (reads \
         horizontal-lined, writes diagonal), overlapping requests on rows of their own. Faults \
         are counted per pixel column and kind (the tooltip gives the count).",
    );
    let merged: Vec<String> = t
        .lanes
        .iter()
        .filter(|l| l.merged)
        .map(|l| l.pid.to_string())
        .collect();
    if !merged.is_empty() {
        cap.push_str(&format!(
            " Aggregated: the lanes of process{} {} had more than {MAX_SPANS} state changes and \
             are drawn per pixel column, each column in the state that filled most of it.",
            if merged.len() > 1 { "es" } else { "" },
            merged.join(", ")
        ));
    }
    if t.cpu_merged {
        cap.push_str(" The CPU lane merges the sample intervals that share a pixel column.");
    }
    if !t.disk_bins.is_empty() {
        cap.push_str(&format!(
            " The disk lane counts the requests started in each pixel column (more than \
             {MAX_SPANS} requests)."
        ));
    }
    let mut f = Figure::fixed("timeline", &cap, draw(&t));
    f.tables = tables(&t);
    f
}

/// One point of the rate figure: a sample interval (or several merged).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatePoint {
    /// Its first cycle.
    pub from: u64,
    /// Its last.
    pub to: u64,
    /// Instructions retired in it.
    pub instructions: u64,
    /// Faults other than major ones in it.
    pub minor: u64,
    /// Major faults in it.
    pub major: u64,
    /// Minor faults per 1000 instructions.
    pub minor_rate: f64,
    /// Major faults per 1000 instructions.
    pub major_rate: f64,
    /// The working set (pages) at its end.
    pub working_set: u64,
}

/// The rates: the figure's data model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// The run's last cycle.
    pub end: u64,
    /// The points.
    pub points: Vec<RatePoint>,
    /// How many sample intervals each point merges (1: none).
    pub merged: u64,
    /// Each process's resident bytes at each sample: `pid → [(cycle, bytes)]`.
    pub resident: BTreeMap<u32, Vec<(u64, u64)>>,
    /// Each process's PSS at each sample, for the processes whose PSS was below their
    /// resident bytes at some sample (they shared frames: after a fork, through a shared
    /// file mapping): `pid → [(cycle, bytes)]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pss: BTreeMap<u32, Vec<(u64, u64)>>,
}

/// Rounds to three decimals (stable snapshots, short tables).
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Builds the rates from the samples.
pub fn rates(trace: &Trace) -> Rates {
    let mut samples = Vec::new();
    let mut resident: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    let mut pss: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    for r in &trace.records {
        if let Event::Sample {
            instret,
            faults,
            major,
            working_set,
            procs,
            ..
        } = &r.event
        {
            samples.push((r.cycle, *instret, *faults, *major, *working_set));
            for p in procs {
                resident
                    .entry(p.pid)
                    .or_default()
                    .push((r.cycle, p.resident));
                pss.entry(p.pid).or_default().push((r.cycle, p.pss));
            }
        }
    }
    let merged = samples.len().div_ceil(MAX_POINTS).max(1);
    let mut points = Vec::new();
    let mut prev = (0u64, 0u64, 0u64, 0u64);
    for chunk in samples.chunks(merged) {
        let Some(&(c, i, f, m, ws)) = chunk.last() else {
            continue;
        };
        let di = i.saturating_sub(prev.1);
        let dm = m.saturating_sub(prev.3);
        let df = f.saturating_sub(prev.2);
        let minor = df.saturating_sub(dm);
        let per = |n: u64| {
            if di == 0 {
                0.0
            } else {
                round3(n as f64 * 1000.0 / di as f64)
            }
        };
        points.push(RatePoint {
            from: prev.0,
            to: c,
            instructions: di,
            minor,
            major: dm,
            minor_rate: per(minor),
            major_rate: per(dm),
            working_set: ws,
        });
        prev = (c, i, f, m);
    }
    // Only the processes that shared frames (traces from before PSS was recorded have
    // none).
    pss.retain(|pid, v| {
        let res = resident.get(pid).map_or(&[][..], Vec::as_slice);
        v.iter().zip(res).any(|(p, r)| p.1 > 0 && p.1 < r.1)
    });
    for v in resident.values_mut().chain(pss.values_mut()) {
        if v.len() > MAX_POINTS {
            let k = v.len().div_ceil(MAX_POINTS);
            *v = v.chunks(k).filter_map(|c| c.last().copied()).collect();
        }
    }
    Rates {
        end: trace.end_cycle(),
        points,
        merged: merged as u64,
        resident,
        pss,
    }
}

/// A line series: `(label, colour, marker shape, dashed, (cycle, value) points)`.
type Series<'a> = (String, &'a str, u8, bool, Vec<(u64, f64)>);

/// Draws one panel of line series.
fn panel(svg: &mut Svg, x: Scale, top: f64, title: &str, series: &[Series]) -> f64 {
    let items: Vec<(&str, u8, bool, String)> = series
        .iter()
        .map(|(l, c, s, d, _)| (*c, *s, *d, l.clone()))
        .collect();
    let top = line_legend(svg, LEFT, top, &items) + 16.0;
    let h = 130.0;
    let ymax = series
        .iter()
        .flat_map(|s| s.4.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let y = Scale {
        max: if ymax < 1.0 { 1.0 } else { ymax },
        from: top + h,
        len: -h,
    };
    y_axis(svg, y, LEFT, LEFT + COLUMNS as f64, title);
    svg.line(
        LEFT,
        top + h,
        LEFT + COLUMNS as f64,
        top + h,
        INK,
        1.0,
        false,
    );
    for (label, colour, shape, dashed, pts) in series {
        let p: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(c, v)| (x.at(c as f64), y.at(v)))
            .collect();
        svg.polyline(&p, colour, 1.5, *dashed, Some(label));
        let every = pts.len().div_ceil(40).max(1);
        for (i, (&(c, v), &(a, b))) in pts.iter().zip(&p).enumerate() {
            if i % every == 0 || i + 1 == pts.len() {
                let tip = format!("{label}: {} at cycle {}", short(v), thousands(c));
                svg.marker(a, b, 3.0, *shape, colour, Some(&tip));
            }
        }
    }
    if series.iter().all(|s| s.4.is_empty()) {
        svg.text(
            LEFT + 6.0,
            top + h / 2.0,
            "no samples",
            10.0,
            Anchor::Start,
            false,
        );
    }
    top + h
}

/// Draws the rates: three panels on the timeline's cycle axis.
pub fn draw_rates(r: &Rates) -> String {
    let mut svg = Svg::new(
        "fault-rate",
        WIDTH,
        700.0,
        "Fault rate, working set and resident memory",
    );
    let x = Scale {
        max: r.end.max(1) as f64,
        from: LEFT,
        len: COLUMNS as f64,
    };
    let at_end = |p: &RatePoint| p.to;
    let minor: Vec<(u64, f64)> = r.points.iter().map(|p| (at_end(p), p.minor_rate)).collect();
    let major: Vec<(u64, f64)> = r.points.iter().map(|p| (at_end(p), p.major_rate)).collect();
    let ws: Vec<(u64, f64)> = r
        .points
        .iter()
        .map(|p| (p.to, p.working_set as f64))
        .collect();
    let mut y = panel(
        &mut svg,
        x,
        8.0,
        "faults per 1000 instructions",
        &[
            (
                "minor faults / 1000 instructions".into(),
                "#0072B2",
                0,
                false,
                minor,
            ),
            (
                "major faults / 1000 instructions".into(),
                "#D55E00",
                1,
                true,
                major,
            ),
        ],
    );
    y = panel(
        &mut svg,
        x,
        y + 14.0,
        "working set (pages)",
        &[("working set (pages)".into(), "#009E73", 2, false, ws)],
    );
    let mut res: Vec<Series> = r
        .resident
        .iter()
        .map(|(pid, v)| {
            (
                format!("process {pid} resident (KiB)"),
                process_colour(*pid),
                (*pid % 4) as u8,
                pid % 2 == 0,
                v.iter().map(|&(c, b)| (c, b as f64 / 1024.0)).collect(),
            )
        })
        .collect();
    // A process that shares frames also gets its PSS, dashed the other way.
    res.extend(r.pss.iter().map(|(pid, v)| {
        (
            format!("process {pid} PSS (KiB)"),
            process_colour(*pid),
            (*pid % 4) as u8,
            pid % 2 != 0,
            v.iter().map(|&(c, b)| (c, b as f64 / 1024.0)).collect(),
        )
    }));
    y = panel(&mut svg, x, y + 14.0, "resident memory (KiB)", &res);
    x_axis(
        &mut svg,
        x,
        y,
        y,
        "cycle (at the end of each sample interval)",
        false,
    );
    svg.set_height(y + 40.0);
    svg.finish()
}

/// The rate figure.
pub fn rate_figure(trace: &Trace) -> Figure {
    let r = rates(trace);
    let mut cap = String::from(
        "Per sample interval, at its end: minor and major faults per 1000 instructions retired \
         in it (minor: every fault but the major ones), the working set of the live processes \
         in pages, and each live process's resident memory. Markers show some of the points \
         (at most about 40 per series); the tables have them all.",
    );
    if !r.pss.is_empty() {
        cap.push_str(
            " A process that shares frames (after a fork, through a shared file mapping) \
             also shows its PSS: each frame it maps divided among all its mappers.",
        );
    }
    if r.merged > 1 {
        cap.push_str(&format!(
            " Aggregated: each point merges {} sample intervals (at most {MAX_POINTS} points).",
            r.merged
        ));
    }
    let samples = trace
        .records
        .iter()
        .filter(|x| matches!(x.event, Event::Sample { .. }))
        .count();
    if samples < 10 {
        cap.push_str(&format!(
            " This run has only {samples} sample{}: the kernel samples every \
             os.timeline_interval instructions ({} here); run it again with a smaller one \
             (for example --set os.timeline_interval=100) for a finer line — sampling never \
             changes a cycle.",
            if samples == 1 { "" } else { "s" },
            trace.machine.timeline_interval
        ));
    }
    let mut f = Figure::fixed("fault-rate", &cap, draw_rates(&r));
    let mut t = Table::new(
        "rates",
        &[
            "from",
            "to",
            "instructions",
            "minor",
            "major",
            "minor_per_1000",
            "major_per_1000",
            "working_set",
        ],
    );
    for p in &r.points {
        t.row(vec![
            p.from.to_string(),
            p.to.to_string(),
            p.instructions.to_string(),
            p.minor.to_string(),
            p.major.to_string(),
            p.minor_rate.to_string(),
            p.major_rate.to_string(),
            p.working_set.to_string(),
        ]);
    }
    let mut res = Table::new("resident", &["cycle", "pid", "bytes"]);
    for (pid, v) in &r.resident {
        for (c, b) in v {
            res.row(vec![c.to_string(), pid.to_string(), b.to_string()]);
        }
    }
    f.tables = vec![t, res];
    if !r.pss.is_empty() {
        let mut pss = Table::new("pss", &["cycle", "pid", "bytes"]);
        for (pid, v) in &r.pss {
            for (c, b) in v {
                pss.row(vec![c.to_string(), pid.to_string(), b.to_string()]);
            }
        }
        f.tables.push(pss);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::trace::parse;

    const HEAD: &str = r#"{"cycle":0,"event":"machine","version":1,"programs":["a","b"],"scheme":"vm-paging","policy":"clock","page_size":4096,"user_base":"0x80000000","user_bytes":65536,"frames":16,"clock_hz":1000000000,"timeline_interval":100}"#;

    fn trace(body: &str) -> Trace {
        parse("t", &format!("{HEAD}\n{body}")).unwrap()
    }

    const RUN: &str = r#"{"cycle":0,"event":"spawn","pid":1,"name":"a"}
{"cycle":0,"event":"spawn","pid":2,"name":"b"}
{"cycle":0,"event":"state","pid":1,"state":"loading"}
{"cycle":10,"event":"state","pid":1,"state":"ready"}
{"cycle":10,"event":"switch","to":1}
{"cycle":20,"event":"fault","pid":1,"va":"0x1000","access":"load","kind":"major"}
{"cycle":20,"event":"state","pid":1,"state":"blocked","on":"disk"}
{"cycle":20,"event":"disk","id":1,"op":"read","block":8,"count":8,"pid":1}
{"cycle":21,"event":"switch","from":1,"to":2}
{"cycle":25,"event":"fault","pid":2,"va":"0x2000","access":"store","kind":"minor"}
{"cycle":26,"event":"fault","pid":2,"va":"0x3000","access":"store","kind":"cow"}
{"cycle":30,"event":"disk","id":2,"op":"write","block":40,"count":8,"pid":2}
{"cycle":50,"event":"disk-done","id":1}
{"cycle":50,"event":"state","pid":1,"state":"ready"}
{"cycle":60,"event":"sample","instret":40,"faults":3,"major":1,"idle":5,"kernel":15,"working_set":3,"runnable":2,"blocked":0,"procs":[{"pid":1,"cycles":20,"instret":10,"resident":8192},{"pid":2,"cycles":30,"instret":30,"resident":4096}]}
{"cycle":70,"event":"switch","from":2,"to":1}
{"cycle":80,"event":"state","pid":2,"state":"exited"}
{"cycle":80,"event":"exit","pid":2,"code":0}
{"cycle":90,"event":"fault","pid":1,"va":"0x4000","access":"store","kind":"stack"}
{"cycle":100,"event":"kill","pid":1,"addr":"0x0","cause":"segfault","detail":"x"}
{"cycle":120,"event":"sample","instret":90,"faults":5,"major":1,"idle":45,"kernel":25,"working_set":1,"runnable":0,"blocked":0,"procs":[]}
{"cycle":120,"event":"end","status":0,"instret":90,"reason":"all processes ended"}"#;

    #[test]
    fn timeline_of_a_small_run() {
        let t = trace(RUN);
        let tl = timeline(&t);
        insta::assert_json_snapshot!("timeline_small", tl);
        // The second disk request never finished: drawn to the end, on a row of its own.
        assert_eq!(tl.disk[1].to, 120);
        assert!(!tl.disk[1].done);
        assert_eq!(tl.disk_rows, 2);
        let svg = draw(&tl);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lanes = doc
            .descendants()
            .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("lane ")))
            .count();
        assert_eq!(lanes, 2);
        let titles: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert!(titles
            .iter()
            .any(|t| t.starts_with("process 1: blocked: disk")));
        assert!(titles.iter().any(|t| t.starts_with("disk write #2")));
        assert!(titles.iter().any(|t| t.starts_with("cow fault, process 2")));
        assert!(titles.iter().any(|t| t.starts_with("CPU, cycles 0–60")));
        let texts = crate::pictures::testing::texts(&doc);
        for want in [
            "1 a",
            "2 b",
            "CPU",
            "disk",
            "blocked: disk",
            "major fault",
            "cycle",
        ] {
            assert!(texts.contains(&want), "{want} missing from {texts:?}");
        }
        let f = timeline_figure(&t);
        assert_eq!(f.tables.len(), 4);
        assert!(!f.caption.contains("Aggregated"));
    }

    #[test]
    fn each_process_kernel_time_per_interval() {
        let t = trace(
            r#"{"cycle":0,"event":"spawn","pid":1,"name":"a"}
{"cycle":0,"event":"switch","to":1}
{"cycle":100,"event":"sample","instret":10,"kernel":30,"idle":0,"procs":[{"pid":1,"cycles":100,"instret":10,"resident":0,"kernel":30}]}
{"cycle":200,"event":"sample","instret":20,"kernel":30,"idle":0,"procs":[{"pid":1,"cycles":200,"instret":20,"resident":0,"kernel":30}]}
{"cycle":400,"event":"sample","instret":30,"kernel":80,"idle":0,"procs":[{"pid":1,"cycles":400,"instret":30,"resident":0,"kernel":80}]}
{"cycle":500,"event":"end","status":0}"#,
        );
        let m = timeline(&t);
        // No kernel time in 100..200: no bar there.
        assert_eq!(m.lanes[0].kernel, vec![(0, 100, 30), (200, 400, 50)]);
        let svg = draw(&m);
        assert!(svg.contains("process 1 in the kernel: 50 cycles of 200 (25.0%)"));
        roxmltree::Document::parse(&svg).unwrap();
    }

    #[test]
    fn rates_of_a_small_run() {
        let t = trace(RUN);
        let r = rates(&t);
        insta::assert_json_snapshot!("rates_small", r);
        let svg = draw_rates(&r);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        // Three panels: three y axes' titles.
        let texts = crate::pictures::testing::texts(&doc);
        for want in [
            "faults per 1000 instructions",
            "working set (pages)",
            "resident memory (KiB)",
            "process 2 resident (KiB)",
        ] {
            assert!(texts.contains(&want), "{want} missing");
        }
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("polyline"))
                .count(),
            5
        );
    }

    #[test]
    fn a_long_run_is_aggregated() {
        let mut body = String::from("{\"cycle\":0,\"event\":\"spawn\",\"pid\":1,\"name\":\"a\"}\n");
        let n = 30_000u64;
        for i in 0..n {
            let c = i * 10;
            body.push_str(&format!(
                "{{\"cycle\":{c},\"event\":\"switch\",\"to\":1}}\n{{\"cycle\":{},\"event\":\"state\",\"pid\":1,\"state\":\"blocked\",\"on\":\"{}\"}}\n",
                c + 1 + i % 2,
                if i % 3 == 0 { "frame" } else { "disk" }
            ));
            if i % 5 == 0 {
                body.push_str(&format!(
                    "{{\"cycle\":{},\"event\":\"fault\",\"pid\":1,\"va\":\"0x1000\",\"access\":\"load\",\"kind\":\"minor\"}}\n{{\"cycle\":{},\"event\":\"disk\",\"id\":{i},\"op\":\"read\",\"block\":1,\"count\":1,\"pid\":1}}\n{{\"cycle\":{},\"event\":\"disk-done\",\"id\":{i}}}\n{{\"cycle\":{},\"event\":\"sample\",\"instret\":{},\"faults\":{},\"kernel\":{},\"idle\":{}}}\n",
                    c + 7, c + 7, c + 8, c + 9, i * 2, i / 5, i, i
                ));
            }
        }
        body.push_str(&format!("{{\"cycle\":{},\"event\":\"end\"}}", n * 10));
        let t = trace(&body);
        let tl = timeline(&t);
        assert!(tl.lanes[0].merged);
        assert!(tl.lanes[0].spans.len() <= COLUMNS as usize);
        assert!(tl.lanes[0].faults.len() <= COLUMNS as usize);
        assert_eq!(
            tl.lanes[0].faults.iter().map(|f| f.count).sum::<u64>(),
            n / 5
        );
        assert!(tl.cpu_merged && tl.cpu.len() <= COLUMNS as usize);
        assert!(tl.disk.is_empty() && tl.disk_bins.len() <= COLUMNS as usize);
        // Blocked on disk fills most of each column.
        assert!(tl.lanes[0].spans.iter().all(|s| s.state == "blocked: disk"));
        let f = timeline_figure(&t);
        assert!(f.caption.contains("Aggregated"));
        let r = rates(&t);
        assert!(r.points.len() <= MAX_POINTS && r.merged == 6);
        roxmltree::Document::parse(f.last().unwrap()).unwrap();
    }

    #[test]
    fn processes_that_share_frames_show_their_pss() {
        // Process 1 alone (PSS = resident), then a fork: both map the same 3 pages, each
        // counting half; process 3 never shares. Only 1 and 2 get a PSS series and rows.
        let t = trace(
            r#"{"cycle":10,"event":"sample","instret":5,"procs":[{"pid":1,"resident":12288,"rss":12288,"pss":12288,"uss":12288},{"pid":3,"resident":4096,"rss":4096,"pss":4096,"uss":4096}]}
{"cycle":20,"event":"sample","instret":9,"procs":[{"pid":1,"resident":12288,"rss":12288,"pss":6144,"uss":0},{"pid":2,"resident":12288,"rss":12288,"pss":6144,"uss":0},{"pid":3,"resident":4096,"rss":4096,"pss":4096,"uss":4096}]}
{"cycle":30,"event":"end"}"#,
        );
        let r = rates(&t);
        assert_eq!(r.pss.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(r.pss[&1], vec![(10, 12288), (20, 6144)]);
        assert_eq!(r.pss[&2], vec![(20, 6144)]);
        let f = rate_figure(&t);
        let svg = f.last().unwrap();
        assert!(svg.contains("process 2 PSS (KiB)") && !svg.contains("process 3 PSS"));
        roxmltree::Document::parse(svg).unwrap();
        assert!(f.caption.contains("PSS"), "{}", f.caption);
        let pss = f
            .tables
            .iter()
            .find(|t| t.name == "pss")
            .expect("a pss table");
        assert_eq!(pss.rows.len(), 3);
        // Without sharing (or in a trace from before PSS was recorded): no series.
        assert!(rates(&trace(RUN)).pss.is_empty());
    }

    #[test]
    fn odd_traces_do_not_panic() {
        for body in [
            r#"{"cycle":0,"event":"end"}"#,
            r#"{"cycle":0,"event":"disk-done","id":9}
{"cycle":0,"event":"switch","from":3,"to":3}
{"cycle":5,"event":"sample","instret":0,"kernel":99,"idle":99}
{"cycle":5,"event":"state","pid":4000000000,"state":"blocked"}
{"cycle":5,"event":"end"}"#,
            r#"{"cycle":18446744073709551615,"event":"fault","pid":1,"va":"0x0","access":"load","kind":"weird"}
{"cycle":18446744073709551615,"event":"end"}"#,
        ] {
            let t = trace(body);
            let f = timeline_figure(&t);
            roxmltree::Document::parse(f.last().unwrap()).unwrap();
            let f = rate_figure(&t);
            roxmltree::Document::parse(f.last().unwrap()).unwrap();
        }
    }
}
