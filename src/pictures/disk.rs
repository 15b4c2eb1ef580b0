//! The pictures of `vmlab disk REQUESTS --report FILE.html`: the head's path across the
//! cylinders over time, one small panel per scheduler run (the classic SCAN / C-LOOK
//! picture, each request a labelled point where it is served), where each request's time
//! goes (queue, overhead, seek, rotation, transfer as stacked bars), and the totals per
//! scheduler.
//!
//! The figures are drawn from a plain data model ([`DiskModel`]) built from the runs first.

use super::html::{Figure, Page, Section, Table};
use super::svg::{ticks, Anchor, Pattern, Svg, CACHE, GRID, INK, PROCESS_COLOURS};
use crate::disk_cmd::{DiskFile, DiskRun};
use serde::Serialize;
use vmlab_devices::disk::time::show_cycles;
use vmlab_devices::disk::{Completion, DiskOp};

/// One request as one scheduler served it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Served {
    /// Its place in the service order (from 1).
    pub order: usize,
    /// The request's id.
    pub id: u64,
    /// `read` or `write`.
    pub op: String,
    /// The first block.
    pub block: u64,
    /// How many blocks.
    pub count: u64,
    /// The cylinder it lies on (a spinning disk), or its block (an SSD).
    pub y: u64,
    /// When it arrived.
    pub arrival: u64,
    /// When service started.
    pub start: u64,
    /// When it finished.
    pub finish: u64,
    /// The split of its time, in cycles: queue, overhead, latency, seek, rotation, transfer,
    /// timeout (in [`COMPONENTS`] order).
    pub parts: [u64; 7],
    /// Cylinders the arm moved for it.
    pub seek_distance: u64,
    /// Why it failed, if it did.
    pub failed: Option<String>,
}

/// The names of the parts of a request's time, in drawing order.
pub const COMPONENTS: [&str; 7] = [
    "queue", "overhead", "latency", "seek", "rotation", "transfer", "timeout",
];

/// One scheduler's run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyModel {
    /// The scheduler's name.
    pub scheduler: String,
    /// The arm's path: `(cycle, cylinder)` corners (empty for an SSD).
    pub path: Vec<(u64, u64)>,
    /// The requests in service order.
    pub served: Vec<Served>,
    /// The totals of each part of the time, in [`COMPONENTS`] order.
    pub totals: [u64; 7],
    /// Cylinders the arm travelled in all.
    pub seek_distance: u64,
    /// When the last request finished.
    pub end: u64,
}

/// The data model of the disk report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskModel {
    /// Whether the disk is an SSD (no arm: the y axis is the block).
    pub ssd: bool,
    /// The y axis's extent: cylinders of a spinning disk, blocks of an SSD.
    pub y_max: u64,
    /// The cylinder the arm starts on.
    pub start_cylinder: u64,
    /// Cycles per second.
    pub hz: u64,
    /// One per scheduler run, in the order given.
    pub policies: Vec<PolicyModel>,
}

fn parts(c: &Completion) -> [u64; 7] {
    [
        c.queue.0,
        c.overhead.0,
        c.latency.0,
        c.seek.0,
        c.rotation.0,
        c.transfer.0,
        c.timeout.0,
    ]
}

/// `a + (b - a) * num / den`, without overflow or division by zero.
fn lerp(a: u64, b: u64, num: u64, den: u64) -> u64 {
    if den == 0 || b <= a {
        return a;
    }
    a + ((b - a) as u128 * num.min(den) as u128 / den as u128) as u64
}

/// The arm's path for a run: it rests until a request's seek starts, then moves to the
/// request's cylinder — by way of the edge when the seek distance says it went there (SCAN
/// and C-SCAN run to the last cylinder; C-SCAN then returns to cylinder 0).
fn arm_path(run: &DiskRun, start: u64, last: u64) -> Vec<(u64, u64)> {
    let mut pos = start;
    let mut t = 0u64;
    let mut path = vec![(0, start)];
    for c in &run.completions {
        let Some(chs) = c.position else { continue };
        let to = chs.cylinder;
        let s0 = c
            .start
            .0
            .saturating_add(c.overhead.0)
            .saturating_add(c.latency.0)
            .max(t);
        let s1 = s0.saturating_add(c.seek.0);
        let d = c.seek_distance;
        if to != pos || d > 0 {
            path.push((s0, pos));
            let up = last
                .saturating_sub(pos)
                .saturating_add(last.saturating_sub(to));
            let down = pos.saturating_add(to);
            let circ = last
                .saturating_sub(pos)
                .saturating_add(last)
                .saturating_add(to);
            if d == pos.abs_diff(to) || d == 0 {
                path.push((s1, to));
            } else if d == up {
                path.push((lerp(s0, s1, last - pos.min(last), d), last));
                path.push((s1, to));
            } else if d == down {
                path.push((lerp(s0, s1, pos, d), 0));
                path.push((s1, to));
            } else if d == circ {
                let a = last.saturating_sub(pos);
                path.push((lerp(s0, s1, a, d), last));
                path.push((lerp(s0, s1, a.saturating_add(last), d), 0));
                path.push((s1, to));
            } else {
                path.push((s1, to));
            }
        }
        pos = to;
        t = s1.max(c.finish.0);
    }
    path.push((t, pos));
    path.dedup();
    path
}

/// The data model: every run of the file, in the order given.
pub fn model(file: &DiskFile, runs: &[DiskRun]) -> DiskModel {
    let hdd = file.config.hdd_or_default();
    let ssd = hdd.is_none();
    let (y_max, start) = match &hdd {
        Some(h) => {
            let zoned: u64 = h.zones.iter().map(|z| z.cylinders).sum();
            (h.cylinders.max(zoned).max(1), h.start_cylinder)
        }
        None => (runs.iter().map(|r| r.blocks).max().unwrap_or(1).max(1), 0),
    };
    let policies = runs
        .iter()
        .map(|r| {
            let mut totals = [0u64; 7];
            let served: Vec<Served> = r
                .completions
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let p = parts(c);
                    for (t, v) in totals.iter_mut().zip(p) {
                        *t = t.saturating_add(v);
                    }
                    Served {
                        order: i + 1,
                        id: c.id,
                        op: match c.op {
                            DiskOp::Read => "read".into(),
                            DiskOp::Write => "write".into(),
                        },
                        block: c.block,
                        count: c.count,
                        y: c.position.map_or(c.block, |p| p.cylinder),
                        arrival: c.arrival.0,
                        start: c.start.0,
                        finish: c.finish.0,
                        parts: p,
                        seek_distance: c.seek_distance,
                        failed: c.fault.map(|f| format!("{f:?}").to_lowercase()),
                    }
                })
                .collect();
            PolicyModel {
                scheduler: r.scheduler.name().into(),
                path: if ssd {
                    Vec::new()
                } else {
                    arm_path(r, start, y_max - 1)
                },
                seek_distance: r
                    .completions
                    .iter()
                    .fold(0u64, |a, c| a.saturating_add(c.seek_distance)),
                end: r.end().0,
                served,
                totals,
            }
        })
        .collect();
    DiskModel {
        ssd,
        y_max,
        start_cylinder: start,
        hz: file.config.clock_hz.max(1),
        policies,
    }
}

fn fill(i: usize) -> &'static str {
    [
        CACHE, "#F0E442", "#CC79A7", "#E69F00", "#56B4E9", "#009E73", "#D55E00",
    ][i % 7]
}

fn pattern(i: usize) -> Option<Pattern> {
    [
        Some(Pattern::Horizontal),
        Some(Pattern::Dots),
        Some(Pattern::Cross),
        Some(Pattern::Diagonal),
        Some(Pattern::BackDiagonal),
        Some(Pattern::Vertical),
        Some(Pattern::Grid),
    ][i % 7]
}

const WIDTH: f64 = 860.0;

/// The most requests labelled in one panel, and drawn as bars per scheduler.
const MAX_LABELS: usize = 60;
const MAX_BARS: usize = 100;

/// The head-path figure: one panel per scheduler, x = time, y = cylinder (block for an SSD).
pub fn path_svg(m: &DiskModel) -> String {
    let cols = if m.policies.len() > 1 { 2 } else { 1 };
    let pw = (WIDTH - 20.0) / cols as f64;
    let ph = 230.0;
    let rows = m.policies.len().div_ceil(cols).max(1);
    let mut svg = Svg::new(
        "head-path",
        WIDTH,
        rows as f64 * ph + 50.0,
        if m.ssd {
            "Requests served over time, by block"
        } else {
            "The head's path across the cylinders over time, per scheduler"
        },
    );
    let t_max = m.policies.iter().map(|p| p.end).max().unwrap_or(0).max(1) as f64;
    let y_top = m.y_max.saturating_sub(1).max(1) as f64;
    for (k, p) in m.policies.iter().enumerate() {
        let ox = 10.0 + (k % cols) as f64 * pw;
        let oy = 10.0 + (k / cols) as f64 * ph;
        let (l, r, t, b) = (ox + 52.0, ox + pw - 12.0, oy + 22.0, oy + ph - 36.0);
        let x = |c: u64| l + (r - l) * (c as f64 / t_max).min(1.0);
        let y = |v: u64| b - (b - t) * (v as f64 / y_top).min(1.0);
        svg.text(
            ox + 4.0,
            oy + 12.0,
            &format!(
                "{}: {}finished at {}",
                p.scheduler,
                if m.ssd {
                    String::new()
                } else {
                    format!("{} cylinders moved, ", p.seek_distance)
                },
                show_cycles(p.end, m.hz)
            ),
            12.0,
            Anchor::Start,
            true,
        );
        svg.rect(l, t, r - l, b - t, "#FFFFFF", Some(GRID), None);
        for v in ticks(y_top, 4) {
            let yy = y(v as u64);
            svg.line(l, yy, r, yy, GRID, 0.5, false);
            svg.text(
                l - 4.0,
                yy + 3.0,
                &format!("{}", v as u64),
                9.0,
                Anchor::End,
                false,
            );
        }
        for v in ticks(t_max, 4) {
            let xx = x(v as u64);
            svg.line(xx, b, xx, b + 3.0, INK, 0.75, false);
            svg.text(
                xx,
                b + 13.0,
                &show_cycles(v as u64, m.hz),
                9.0,
                Anchor::Middle,
                false,
            );
        }
        svg.text((l + r) / 2.0, b + 26.0, "time", 10.0, Anchor::Middle, false);
        svg.text(
            ox + 4.0,
            (t + b) / 2.0,
            if m.ssd { "block" } else { "cyl." },
            10.0,
            Anchor::Start,
            false,
        );
        if !p.path.is_empty() {
            let pts: Vec<(f64, f64)> = p.path.iter().map(|&(c, v)| (x(c), y(v))).collect();
            svg.polyline(
                &pts,
                PROCESS_COLOURS[0],
                1.5,
                false,
                Some(&format!("{}: the arm's path", p.scheduler)),
            );
        }
        for s in &p.served {
            // Where it is served: when its transfer starts (the data is under the head).
            let at = s
                .finish
                .saturating_sub(s.parts[5])
                .saturating_sub(s.parts[6]);
            let shape = if s.failed.is_some() {
                2
            } else if s.op == "write" {
                1
            } else {
                0
            };
            let tip = format!(
                "{} #{}: request {} ({} block {}{}) on {} {}, served {} at {}{}",
                p.scheduler,
                s.order,
                s.id,
                s.op,
                s.block,
                if s.count > 1 {
                    format!("+{}", s.count - 1)
                } else {
                    String::new()
                },
                if m.ssd { "block" } else { "cylinder" },
                s.y,
                s.order,
                show_cycles(at, m.hz),
                s.failed
                    .as_ref()
                    .map_or(String::new(), |f| format!(", failed: {f}"))
            );
            svg.marker(
                x(at),
                y(s.y),
                3.5,
                shape,
                if s.failed.is_some() {
                    "#D55E00"
                } else {
                    "#E69F00"
                },
                Some(&tip),
            );
            if s.order <= MAX_LABELS {
                svg.text(
                    x(at) + 4.0,
                    y(s.y) - 4.0,
                    &s.y.to_string(),
                    9.0,
                    Anchor::Start,
                    false,
                );
            }
        }
    }
    let ly = 10.0 + rows as f64 * ph;
    let mut lx = 16.0;
    for (shape, label) in [(0u8, "read served"), (1, "write served"), (2, "failed")] {
        svg.marker(
            lx + 4.0,
            ly + 8.0,
            4.0,
            shape,
            if shape == 2 { "#D55E00" } else { "#E69F00" },
            None,
        );
        svg.text(lx + 12.0, ly + 12.0, label, 11.0, Anchor::Start, false);
        lx += 110.0;
    }
    if !m.ssd {
        svg.line(
            lx,
            ly + 8.0,
            lx + 20.0,
            ly + 8.0,
            PROCESS_COLOURS[0],
            1.5,
            false,
        );
        svg.text(lx + 26.0, ly + 12.0, "the arm", 11.0, Anchor::Start, false);
    }
    svg.text(
        16.0,
        ly + 30.0,
        "Labels: the request's cylinder (block on an SSD).",
        10.0,
        Anchor::Start,
        false,
    );
    svg.finish()
}

/// The components drawn: the ones some request of some run has.
fn used(m: &DiskModel) -> Vec<usize> {
    (0..7)
        .filter(|&i| m.policies.iter().any(|p| p.totals[i] > 0))
        .collect()
}

/// The time-split figure: each request's time as a stacked horizontal bar, grouped by
/// scheduler, on one shared scale.
pub fn split_svg(m: &DiskModel) -> String {
    let comps = used(m);
    let rows: usize = m
        .policies
        .iter()
        .map(|p| p.served.len().min(MAX_BARS) + 2)
        .sum();
    let bh = 12.0;
    let mut svg = Svg::new(
        "time-split",
        WIDTH,
        rows as f64 * (bh + 3.0) + 90.0,
        "Where each request's time goes, per scheduler",
    );
    let (l, r) = (150.0, WIDTH - 20.0);
    let t_max = m
        .policies
        .iter()
        .flat_map(|p| p.served.iter())
        .map(|s| s.parts.iter().fold(0u64, |a, v| a.saturating_add(*v)))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut y = 14.0;
    for v in ticks(t_max, 6) {
        let xx = l + (r - l) * v / t_max;
        svg.text(
            xx,
            y,
            &show_cycles(v as u64, m.hz),
            9.0,
            Anchor::Middle,
            false,
        );
    }
    y += 8.0;
    for p in &m.policies {
        svg.text(10.0, y + 11.0, &p.scheduler, 12.0, Anchor::Start, true);
        y += bh + 6.0;
        for s in p.served.iter().take(MAX_BARS) {
            svg.text(
                l - 6.0,
                y + bh - 2.0,
                &format!(
                    "#{} req {} ({} {})",
                    s.order,
                    s.id,
                    if m.ssd { "blk" } else { "cyl" },
                    s.y
                ),
                9.0,
                Anchor::End,
                false,
            );
            stacked(
                &mut svg,
                l,
                y,
                (r - l) / t_max,
                bh,
                &comps,
                &s.parts,
                |i, v| {
                    format!(
                        "{} request {}: {} {} ({v} cycles)",
                        p.scheduler,
                        s.id,
                        COMPONENTS[i],
                        show_cycles(v, m.hz)
                    )
                },
            );
            y += bh + 3.0;
        }
        if p.served.len() > MAX_BARS {
            svg.text(
                l,
                y + 9.0,
                &format!(
                    "... {} more requests (in the table)",
                    p.served.len() - MAX_BARS
                ),
                9.0,
                Anchor::Start,
                false,
            );
        }
        y += bh;
    }
    let items: Vec<(String, Option<Pattern>, String)> = comps
        .iter()
        .map(|&i| (fill(i).to_string(), pattern(i), COMPONENTS[i].to_string()))
        .collect();
    let y = svg.legend(10.0, y + 6.0, &items);
    svg.set_height(y + 6.0);
    svg.finish()
}

/// The totals figure: one stacked bar per scheduler, the sum of each part of the time.
pub fn totals_svg(m: &DiskModel) -> String {
    let comps = used(m);
    let bh = 18.0;
    let mut svg = Svg::new(
        "totals",
        WIDTH,
        m.policies.len() as f64 * (bh + 6.0) + 80.0,
        "Total time per scheduler, by part",
    );
    let (l, r) = (90.0, WIDTH - 150.0);
    let sum = |p: &PolicyModel| p.totals.iter().fold(0u64, |a, v| a.saturating_add(*v));
    let t_max = m.policies.iter().map(sum).max().unwrap_or(0).max(1) as f64;
    let mut y = 14.0;
    for v in ticks(t_max, 6) {
        let xx = l + (r - l) * v / t_max;
        svg.text(
            xx,
            y,
            &show_cycles(v as u64, m.hz),
            9.0,
            Anchor::Middle,
            false,
        );
    }
    y += 8.0;
    for p in &m.policies {
        svg.text(l - 6.0, y + bh - 5.0, &p.scheduler, 11.0, Anchor::End, true);
        let cx = stacked(
            &mut svg,
            l,
            y,
            (r - l) / t_max,
            bh,
            &comps,
            &p.totals,
            |i, v| {
                format!(
                    "{}: {} {} in all",
                    p.scheduler,
                    COMPONENTS[i],
                    show_cycles(v, m.hz)
                )
            },
        );
        svg.text(
            cx + 6.0,
            y + bh - 5.0,
            &format!(
                "{} (end {})",
                show_cycles(sum(p), m.hz),
                show_cycles(p.end, m.hz)
            ),
            10.0,
            Anchor::Start,
            false,
        );
        y += bh + 6.0;
    }
    let items: Vec<(String, Option<Pattern>, String)> = comps
        .iter()
        .map(|&i| (fill(i).to_string(), pattern(i), COMPONENTS[i].to_string()))
        .collect();
    let y = svg.legend(10.0, y + 6.0, &items);
    svg.set_height(y + 6.0);
    svg.finish()
}

/// The report page of a `vmlab disk` run: `runs` are the scheduler runs drawn (one, or
/// every scheduler with `--compare`). Figures: `head-path` (the arm over time, one panel per
/// scheduler), `time-split` (each request's time by part), `totals` (per scheduler).
pub fn page(file: &DiskFile, runs: &[DiskRun]) -> Page {
    let m = model(file, runs);
    let cfg = &file.config;
    let mut facts = vec![("requests file".to_string(), file.path.clone())];
    if let Some(t) = &file.title {
        facts.push(("title".into(), t.clone()));
    }
    match (&cfg.ssd, cfg.hdd_or_default()) {
        (Some(s), _) => facts.push((
            "disk".into(),
            format!("SSD: {} blocks of {} bytes, {} channel(s)", s.blocks, cfg.block_size, s.channels),
        )),
        (None, Some(h)) => facts.push((
            "disk".into(),
            format!(
                "{} cylinders x {} heads x {} sectors per track{}, blocks of {} bytes; the arm starts on cylinder {}",
                h.cylinders,
                h.heads,
                h.sectors_per_track,
                if h.zones.is_empty() { "" } else { " (zoned)" },
                cfg.block_size,
                h.start_cylinder
            ),
        )),
        (None, None) => {}
    }
    facts.push(("clock".into(), format!("{} Hz", cfg.clock_hz)));
    facts.push((
        "schedulers".into(),
        m.policies
            .iter()
            .map(|p| p.scheduler.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let mut headline = vec![("requests".to_string(), file.requests.len().to_string())];
    if let [p] = m.policies.as_slice() {
        headline.push(("finished at".into(), show_cycles(p.end, m.hz)));
        if !m.ssd {
            headline.push(("cylinders moved".into(), p.seek_distance.to_string()));
        }
        for (i, name) in COMPONENTS.iter().enumerate() {
            if p.totals[i] > 0 {
                headline.push((format!("{name} in all"), show_cycles(p.totals[i], m.hz)));
            }
        }
    } else if let Some(best) = m.policies.iter().min_by_key(|p| p.end) {
        headline.push(("schedulers compared".into(), m.policies.len().to_string()));
        headline.push((
            "finishes first".into(),
            format!("{} ({})", best.scheduler, show_cycles(best.end, m.hz)),
        ));
        if !m.ssd {
            if let Some(least) = m.policies.iter().min_by_key(|p| p.seek_distance) {
                headline.push((
                    "least arm travel".into(),
                    format!("{} ({} cylinders)", least.scheduler, least.seek_distance),
                ));
            }
        }
    }
    let mut req = Table::new(
        "requests",
        &[
            "scheduler",
            "order",
            "id",
            "op",
            "block",
            "count",
            "cylinder_or_block",
            "arrival",
            "start",
            "finish",
            "queue",
            "overhead",
            "latency",
            "seek",
            "rotation",
            "transfer",
            "timeout",
            "seek_distance",
            "failed",
        ],
    );
    for p in &m.policies {
        for s in &p.served {
            let mut row = vec![
                p.scheduler.clone(),
                s.order.to_string(),
                s.id.to_string(),
                s.op.clone(),
                s.block.to_string(),
                s.count.to_string(),
                s.y.to_string(),
                s.arrival.to_string(),
                s.start.to_string(),
                s.finish.to_string(),
            ];
            row.extend(s.parts.iter().map(|v| v.to_string()));
            row.push(s.seek_distance.to_string());
            row.push(s.failed.clone().unwrap_or_default());
            req.row(row);
        }
    }
    let mut tot = Table::new(
        "totals",
        &[
            "scheduler",
            "requests",
            "end",
            "seek_distance",
            "queue",
            "overhead",
            "latency",
            "seek",
            "rotation",
            "transfer",
            "timeout",
        ],
    );
    for p in &m.policies {
        let mut row = vec![
            p.scheduler.clone(),
            p.served.len().to_string(),
            p.end.to_string(),
            p.seek_distance.to_string(),
        ];
        row.extend(p.totals.iter().map(|v| v.to_string()));
        tot.row(row);
    }
    let mut path = Figure::fixed(
        "head-path",
        if m.ssd {
            "An SSD has no arm: each panel shows when each request was served (x, time) and its block (y). Circles are reads, squares writes, triangles failed requests."
        } else {
            "The arm's path across the cylinders over time (x, time from the first arrival; y, cylinder), one panel per scheduler on the same scales: flat while it rotates and transfers, sloped while it seeks. Each point is a request where its data passes under the head, labelled with its cylinder: circles are reads, squares writes, triangles failed requests."
        },
        path_svg(&m),
    );
    path.tables.push(tot.clone());
    let mut split = Figure::fixed(
        "time-split",
        "Each request's time, in service order, as one bar split into its parts: waiting in the queue, the controller's overhead, the SSD's latency, the seek, the rotational wait and the transfer (patterns say which, for print). All bars share one scale.",
        split_svg(&m),
    );
    split.tables.push(req);
    let mut totals = Figure::fixed(
        "totals",
        "The parts of the time summed over every request, one bar per scheduler.",
        totals_svg(&m),
    );
    totals.tables.push(tot);
    let mut notes = Vec::new();
    if m.policies.iter().any(|p| p.served.len() > MAX_BARS) {
        notes.push(format!(
            "The time-split figure draws the first {MAX_BARS} requests of each scheduler; the tables have them all."
        ));
    }
    Page {
        title: format!("vmlab disk {}", file.path),
        facts,
        headline,
        notes,
        moments: Vec::new(),
        current: 0,
        sections: vec![
            Section {
                id: "path".into(),
                title: if m.ssd {
                    "Service over time"
                } else {
                    "The head's path"
                }
                .into(),
                intro: String::new(),
                figures: vec![path],
            },
            Section {
                id: "time".into(),
                title: "Where the time goes".into(),
                intro: String::new(),
                figures: vec![split, totals],
            },
        ],
    }
}

/// One stacked bar from `x` at `y`: the components `comps` of `parts`, each `scale` pixels
/// a cycle, in its fill and pattern, with the tooltip `tip(component, cycles)`; returns
/// where the bar ends.
fn stacked(
    svg: &mut Svg,
    x: f64,
    y: f64,
    scale: f64,
    h: f64,
    comps: &[usize],
    parts: &[u64],
    tip: impl Fn(usize, u64) -> String,
) -> f64 {
    let mut cx = x;
    for &i in comps {
        let v = parts.get(i).copied().unwrap_or(0);
        if v == 0 {
            continue;
        }
        let w = scale * v as f64;
        svg.patterned(cx, y, w, h, fill(i), pattern(i), Some(&tip(i, v)));
        cx += w;
    }
    cx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk_cmd;
    use std::path::Path;

    fn load(name: &str) -> DiskFile {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("programs/disk")
            .join(name);
        DiskFile::load(&p).expect("the file loads")
    }

    #[test]
    fn schedulers_model() {
        let f = load("schedulers.toml");
        let runs = disk_cmd::compare(&f).expect("it runs");
        let m = model(&f, &runs);
        // The textbook's head movements.
        let moved: Vec<(&str, u64)> = m
            .policies
            .iter()
            .map(|p| (p.scheduler.as_str(), p.seek_distance))
            .collect();
        assert_eq!(moved[0], ("fcfs", 640));
        assert_eq!(moved[2], ("scan", 331));
        // SCAN's arm reaches the last cylinder; C-SCAN's returns to cylinder 0.
        assert!(m.policies[2].path.iter().any(|&(_, c)| c == 199));
        assert!(m.policies[4].path.iter().any(|&(_, c)| c == 0));
        insta::assert_json_snapshot!("disk_schedulers", m);
    }

    #[test]
    fn every_file_draws_valid_svg() {
        let names = crate::pictures::testing::examples("disk");
        for n in names {
            let f = load(&n);
            for runs in [
                vec![disk_cmd::run(&f, None).expect("it runs")],
                disk_cmd::compare(&f).expect("it runs"),
            ] {
                let p = page(&f, &runs);
                assert_eq!(p.figures().count(), 3, "{n}");
                for fig in p.figures() {
                    let doc = roxmltree::Document::parse(fig.last().expect("a drawing"))
                        .unwrap_or_else(|e| panic!("{n} {}: {e}", fig.id));
                    if fig.id == "head-path" {
                        let points = doc
                            .descendants()
                            .filter(|d| {
                                matches!(d.tag_name().name(), "circle" | "rect" | "path")
                                    && d.children().any(|c| c.tag_name().name() == "title")
                            })
                            .count();
                        let served: usize = runs.iter().map(|r| r.completions.len()).sum();
                        assert_eq!(points, served, "{n}: one point per request served");
                    }
                }
            }
        }
    }

    #[test]
    fn empty_runs_do_not_panic() {
        let f = load("ostep.toml");
        let p = page(&f, &[]);
        for fig in p.figures() {
            roxmltree::Document::parse(fig.last().expect("a drawing")).expect("valid SVG");
        }
        assert_eq!(lerp(5, 1, 3, 0), 5);
    }
}
