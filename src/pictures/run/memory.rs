//! Physical memory over time (figure `memory`) and, for the contiguous schemes, its
//! fragmentation over the run (figure `fragmentation`).
//!
//! Under paging, user memory is a grid of frames, one cell per frame (several frames per
//! cell when there are more than [`MAX_CELLS`]), coloured by owner and patterned by the area
//! the page belongs to. Under partitions and segmentation it is one bar of blocks and holes;
//! a moment that compacted memory shows each moved block's old place outlined dashed, with
//! a line to its new one.

use super::state::{is_paging, Block, State};
use crate::pictures::html::Table;
use crate::pictures::svg::{
    self, bytes, process_colour, Anchor, Pattern, Svg, CACHE, FREE, INK, KERNEL,
};
use crate::pictures::trace::{Event, Trace};
use serde::Serialize;
use std::collections::BTreeMap;

/// The most cells the frame grid draws; beyond it each cell stands for several frames.
pub const MAX_CELLS: u64 = 1024;

/// Cells per row of the frame grid.
pub const ROW: u64 = 64;

/// One cell of the frame grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The first frame's physical address.
    pub pa: u64,
    /// `free`, `page`, `page-table`, `kernel`, `page-cache` (of the first frame in use).
    pub holds: String,
    /// Its owner.
    pub pid: Option<u32>,
    /// The area of the owner the page belongs to (`page-table` for tables).
    pub area: Option<String>,
    /// The page's virtual address.
    pub va: Option<u64>,
    /// Its mappings.
    pub maps: u64,
    /// Frames in use among those the cell stands for.
    pub used: u64,
}

/// A block or a hole of the contiguous schemes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Piece {
    /// Its first byte.
    pub base: u64,
    /// Its size.
    pub size: u64,
    /// Bytes the owner uses of it (the rest is internal fragmentation).
    pub used: u64,
    /// Its owner (none: a hole).
    pub pid: Option<u32>,
    /// `partition`, `block`, a segment's name, or `hole`.
    pub what: String,
}

/// A block compaction moved (relative to user memory's base).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MoveView {
    /// Its owner.
    pub pid: u32,
    /// Where it was.
    pub from: u64,
    /// Where it went.
    pub to: u64,
    /// Its size.
    pub size: u64,
}

/// The memory figure's data at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemoryModel {
    /// The scheme.
    pub scheme: String,
    /// User memory's first byte.
    pub base: u64,
    /// Its size.
    pub bytes: u64,
    /// Frames per cell (paging).
    pub frames_per_cell: u64,
    /// The frame grid (paging).
    pub cells: Vec<Cell>,
    /// Blocks and holes in address order (contiguous schemes).
    pub pieces: Vec<Piece>,
    /// Compaction's moves since the previous moment.
    pub moves: Vec<MoveView>,
    /// The processes shown: pid and name.
    pub procs: BTreeMap<u32, String>,
}

/// Bytes of process `pid`'s areas (all, or those of `kind`), if it has a layout.
fn extent(s: &State, pid: u32, kind: Option<&str>) -> Option<u64> {
    let l = s.layouts.get(&pid)?;
    Some(
        l.iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .map(|a| a.end.saturating_sub(a.start))
            .fold(0u64, |x, y| x.saturating_add(y)),
    )
}

/// Bytes a placed block's owner uses of `room` bytes (see the fragmentation caption).
fn used(s: &State, b: &Block, room: u64) -> u64 {
    if b.size < room {
        return b.size;
    }
    let kind = match b.what.as_str() {
        "partition" | "block" => None,
        w => Some(w),
    };
    match extent(s, b.pid, kind) {
        Some(e) if e > 0 && e < room => e,
        _ => room,
    }
}

/// Blocks and holes of user memory, in address order.
pub fn pieces(s: &State) -> Vec<Piece> {
    let m = &s.machine;
    let lo = m.user_base;
    let hi = m.user_base.saturating_add(m.user_bytes);
    let mut v = Vec::new();
    if m.scheme == "fixed-partitions" && !m.partitions.is_empty() {
        for p in &m.partitions {
            let b = s
                .blocks
                .range(p.base..p.base.saturating_add(p.size.max(1)))
                .next();
            v.push(match b {
                Some((_, b)) => Piece {
                    base: p.base,
                    size: p.size,
                    used: used(s, b, p.size),
                    pid: Some(b.pid),
                    what: b.what.clone(),
                },
                None => Piece {
                    base: p.base,
                    size: p.size,
                    used: 0,
                    pid: None,
                    what: "hole".into(),
                },
            });
        }
        return v;
    }
    let mut at = lo;
    for (base, b) in s.blocks.range(lo..hi) {
        if *base < at {
            continue; // overlapping records: keep the first
        }
        if *base > at {
            v.push(hole(at, base - at));
        }
        let size = b.size.min(hi - base);
        v.push(Piece {
            base: *base,
            size,
            used: used(s, b, size),
            pid: Some(b.pid),
            what: b.what.clone(),
        });
        at = base.saturating_add(size);
    }
    if at < hi {
        v.push(hole(at, hi - at));
    }
    v
}

fn hole(base: u64, size: u64) -> Piece {
    Piece {
        base,
        size,
        used: 0,
        pid: None,
        what: "hole".into(),
    }
}

/// The memory figure's model for the state `s` (at most [`MAX_CELLS`] cells).
pub fn model(s: &State) -> MemoryModel {
    model_capped(s, MAX_CELLS)
}

/// The memory figure's model for the state `s`, with at most `max_cells` cells.
pub fn model_capped(s: &State, max_cells: u64) -> MemoryModel {
    let m = &s.machine;
    let mut out = MemoryModel {
        scheme: m.scheme.clone(),
        base: m.user_base,
        bytes: m.user_bytes,
        ..MemoryModel::default()
    };
    if is_paging(&m.scheme) {
        let ps = s.page_size();
        let frames = m
            .frames
            .filter(|f| *f > 0)
            .unwrap_or(m.user_bytes / ps)
            .min(1 << 40);
        let per = frames.div_ceil(max_cells.max(1)).max(1);
        out.frames_per_cell = per;
        let cells = frames.div_ceil(per);
        for c in 0..cells {
            let pa = m
                .user_base
                .saturating_add(c.saturating_mul(per).saturating_mul(ps));
            let end = pa.saturating_add(per.saturating_mul(ps));
            let mut it = s.frames.range(pa..end);
            let first = it.next();
            let used = first.map_or(0, |_| 1 + it.count() as u64);
            out.cells.push(match first {
                None => Cell {
                    pa,
                    holds: "free".into(),
                    pid: None,
                    area: None,
                    va: None,
                    maps: 0,
                    used,
                },
                Some((_, f)) => {
                    let area = match (f.holds.as_str(), f.pid, f.va) {
                        ("page-table", _, _) => Some("page-table".to_string()),
                        (_, Some(p), Some(v)) => s.area_of(p, v).map(|a| a.kind.clone()),
                        _ => None,
                    };
                    if let Some(p) = f.pid {
                        out.procs
                            .insert(p, s.names.get(&p).cloned().unwrap_or_default());
                    }
                    Cell {
                        pa,
                        holds: f.holds.clone(),
                        pid: f.pid,
                        area,
                        va: f.va,
                        maps: f.maps,
                        used,
                    }
                }
            });
        }
    } else {
        out.pieces = pieces(s);
        for p in out.pieces.iter().filter_map(|p| p.pid) {
            out.procs
                .insert(p, s.names.get(&p).cloned().unwrap_or_default());
        }
        out.moves = s
            .compactions
            .iter()
            .map(|c| MoveView {
                pid: c.pid,
                from: c.from,
                to: c.to,
                size: c.size,
            })
            .collect();
    }
    out
}

/// A closed outline (a box drawn as a polyline, so it can be thick or dashed).
pub fn outline(g: &mut Svg, x: f64, y: f64, w: f64, h: f64, width: f64, dashed: bool) {
    g.polyline(
        &[(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)],
        INK,
        width,
        dashed,
        None,
    );
}

/// The fill of a cell or piece: its colour and pattern.
fn look(holds: &str, pid: Option<u32>, area: Option<&str>) -> (&'static str, Option<Pattern>) {
    match holds {
        "free" | "hole" => (FREE, None),
        "kernel" => (KERNEL, None),
        "page-cache" => (CACHE, None),
        _ => (
            pid.map_or(CACHE, process_colour),
            area.and_then(Pattern::for_area),
        ),
    }
}

fn proc_name(m: &MemoryModel, pid: u32) -> String {
    match m.procs.get(&pid).map(String::as_str) {
        Some(n) if !n.is_empty() => format!("process {pid} ({n})"),
        _ => format!("process {pid}"),
    }
}

fn legend_items(m: &MemoryModel, paging: bool) -> Vec<(String, Option<Pattern>, String)> {
    let mut items: Vec<(String, Option<Pattern>, String)> = m
        .procs
        .keys()
        .map(|p| (process_colour(*p).to_string(), None, proc_name(m, *p)))
        .collect();
    for (k, l) in [
        ("text", "text"),
        ("data", "data"),
        ("heap", "heap"),
        ("stack", "stack"),
        ("anon", "anonymous"),
        ("file", "file"),
    ] {
        items.push((FREE.into(), Pattern::for_area(k), l.into()));
    }
    if paging {
        items.push((FREE.into(), Some(Pattern::Grid), "page table".into()));
        items.push((KERNEL.into(), None, "kernel".into()));
        items.push((CACHE.into(), None, "page cache".into()));
        items.push((FREE.into(), None, "free".into()));
    } else {
        items.push((FREE.into(), None, "hole (free)".into()));
    }
    items
}

/// Draws the memory model; `prefix` makes the drawing's ids unique.
pub fn draw(m: &MemoryModel, prefix: &str) -> String {
    if is_paging(&m.scheme) {
        draw_grid(m, prefix)
    } else {
        draw_bar(m, prefix)
    }
}

fn draw_grid(m: &MemoryModel, prefix: &str) -> String {
    let cols = (m.cells.len() as u64).clamp(1, ROW);
    let rows = (m.cells.len() as u64).div_ceil(cols).max(1);
    // Bigger cells for a small memory, so each reads.
    let cs = match m.cells.len() {
        0..=128 => 22.0,
        129..=512 => 17.0,
        _ => 14.0,
    };
    let x0 = 96.0;
    let y0 = 28.0;
    let width = (x0 + cols as f64 * cs + 20.0).max(640.0);
    let mut g = Svg::new(prefix, width, 100.0, "Physical memory: user frames");
    let per = m.frames_per_cell.max(1);
    g.text(
        8.0,
        16.0,
        &format!(
            "User memory {:#x}, {} — {}",
            m.base,
            bytes(m.bytes),
            if per == 1 {
                "one cell per frame".to_string()
            } else {
                format!("one cell per {per} frames")
            }
        ),
        12.0,
        Anchor::Start,
        true,
    );
    for (i, c) in m.cells.iter().enumerate() {
        let (r, k) = (i as u64 / cols, i as u64 % cols);
        let x = x0 + k as f64 * cs;
        let y = y0 + r as f64 * cs;
        if k == 0 {
            g.text(
                x0 - 4.0,
                y + cs - 3.0,
                &format!("{:#x}", c.pa),
                10.0,
                Anchor::End,
                false,
            );
        }
        let (fill, p) = look(&c.holds, c.pid, c.area.as_deref());
        let mut tip = format!("frame {:#x}: ", c.pa);
        match c.holds.as_str() {
            "free" => tip.push_str("free"),
            "page" | "page-table" => {
                if let Some(p) = c.pid {
                    tip.push_str(&proc_name(m, p));
                }
                tip.push_str(&format!(", {}", c.area.as_deref().unwrap_or(&c.holds)));
                if let Some(v) = c.va {
                    tip.push_str(&format!(", page {v:#x}"));
                }
                if c.maps > 1 {
                    tip.push_str(&format!(", shared by {} mappings", c.maps));
                }
            }
            h => tip.push_str(h),
        }
        if per > 1 {
            tip.push_str(&format!(" ({} of {per} frames in use)", c.used));
        }
        g.patterned(x, y, cs, cs, fill, p, Some(&tip));
        if c.maps > 1 {
            outline(&mut g, x + 1.0, y + 1.0, cs - 2.0, cs - 2.0, 2.0, false);
        }
    }
    let mut y = y0 + rows as f64 * cs + 14.0;
    y = g.legend(8.0, y, &legend_items(m, true));
    // A key the legend's swatches cannot show: the thick outline.
    g.rect(8.0, y, 14.0, 12.0, FREE, Some(INK), None);
    outline(&mut g, 9.0, y + 1.0, 12.0, 10.0, 2.0, false);
    g.text(
        27.0,
        y + 10.5,
        "thick outline: a frame shared by several mappings",
        11.0,
        Anchor::Start,
        false,
    );
    g.set_height(y + 22.0);
    g.finish()
}

fn draw_bar(m: &MemoryModel, prefix: &str) -> String {
    let width = 960.0;
    let (x0, bw) = (20.0, 920.0);
    let total = m.bytes.max(1) as f64;
    let xs = |a: u64| x0 + (a.saturating_sub(m.base) as f64 / total).min(1.0) * bw;
    let mut g = Svg::new(prefix, width, 100.0, "Physical memory: blocks and holes");
    g.text(
        8.0,
        16.0,
        &format!(
            "User memory {:#x}, {} ({})",
            m.base,
            bytes(m.bytes),
            m.scheme
        ),
        12.0,
        Anchor::Start,
        true,
    );
    let lane = 26.0;
    let bar_y = if m.moves.is_empty() {
        30.0
    } else {
        30.0 + lane + 30.0
    };
    let bh = 46.0;
    if !m.moves.is_empty() {
        g.text(
            x0,
            40.0,
            "before compaction (dashed):",
            11.0,
            Anchor::Start,
            false,
        );
        for mv in &m.moves {
            let (fx, tx) = (xs(mv.from), xs(mv.to));
            let w = (xs(mv.from.saturating_add(mv.size)) - fx).max(2.0);
            let tw = (xs(mv.to.saturating_add(mv.size)) - tx).max(2.0);
            let oy = 46.0;
            outline(&mut g, fx, oy, w, lane, 1.25, true);
            g.text(
                fx + w / 2.0,
                oy + 17.0,
                &format!("P{}", mv.pid),
                10.0,
                Anchor::Middle,
                true,
            );
            g.line(
                fx + w / 2.0,
                oy + lane,
                tx + tw / 2.0,
                bar_y,
                INK,
                1.25,
                false,
            );
            g.marker(
                tx + tw / 2.0,
                bar_y - 3.0,
                3.0,
                3,
                INK,
                Some(&format!(
                    "process {} moved from {:#x} to {:#x} ({})",
                    mv.pid,
                    mv.from,
                    mv.to,
                    bytes(mv.size)
                )),
            );
        }
    }
    for p in &m.pieces {
        let x = xs(p.base);
        let w = (xs(p.base.saturating_add(p.size)) - x).max(1.0);
        let area = match p.what.as_str() {
            "partition" | "block" | "hole" => None,
            a => Some(a),
        };
        let (fill, pat) = look(if p.pid.is_some() { "page" } else { "hole" }, p.pid, area);
        let mut tip = format!(
            "{:#x}–{:#x} ({})",
            p.base,
            p.base.saturating_add(p.size),
            bytes(p.size)
        );
        match p.pid {
            Some(pid) => {
                tip.push_str(&format!(": {}, {}", proc_name(m, pid), p.what));
                if p.used < p.size {
                    tip.push_str(&format!(
                        ", uses {}, {} unused inside",
                        bytes(p.used),
                        bytes(p.size - p.used)
                    ));
                }
            }
            None => tip.push_str(": hole (free)"),
        }
        // The used part in the owner's colour; an unused tail inside it white, outlined.
        let uw = if p.pid.is_some() && p.size > 0 {
            (w * p.used as f64 / p.size as f64).clamp(1.0, w)
        } else {
            w
        };
        g.open_group(None, Some(&tip));
        g.patterned(x, bar_y, uw, bh, fill, pat, None);
        if uw < w {
            g.rect(x + uw, bar_y, w - uw, bh, FREE, Some(INK), None);
            g.line(
                x + uw,
                bar_y + bh / 2.0,
                x + w,
                bar_y + bh / 2.0,
                INK,
                0.75,
                true,
            );
        }
        g.close_group();
        if w > 44.0 {
            let label = match p.pid {
                Some(pid) => format!("P{pid} {}", p.what),
                None => "hole".into(),
            };
            g.text(
                x + w / 2.0,
                bar_y + bh + 12.0,
                &label,
                10.0,
                Anchor::Middle,
                false,
            );
        }
    }
    outline(&mut g, x0, bar_y, bw, bh, 1.0, false);
    let ty = bar_y + bh + 28.0;
    for k in 0..=4u64 {
        let a = m.base.saturating_add(m.bytes / 4 * k);
        let x = x0 + bw * k as f64 / 4.0;
        g.line(x, bar_y + bh, x, bar_y + bh + 4.0, INK, 1.0, false);
        let anchor = match k {
            0 => Anchor::Start,
            4 => Anchor::End,
            _ => Anchor::Middle,
        };
        g.text(x, ty, &format!("{a:#x}"), 10.0, anchor, false);
    }
    let y = g.legend(8.0, ty + 12.0, &legend_items(m, false));
    // A key the legend's swatches cannot show: the unused tail of a block.
    g.rect(8.0, y, 14.0, 12.0, FREE, Some(INK), None);
    g.line(8.0, y + 6.0, 22.0, y + 6.0, INK, 0.75, true);
    g.text(
        27.0,
        y + 10.5,
        "white with a dashed line: unused inside a block (internal fragmentation)",
        11.0,
        Anchor::Start,
        false,
    );
    g.set_height(y + 22.0);
    g.finish()
}

/// Fragmentation at one point of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FragPoint {
    /// The cycle.
    pub cycle: u64,
    /// Free bytes in holes.
    pub free: u64,
    /// The largest hole.
    pub largest: u64,
    /// Holes.
    pub holes: u64,
    /// Bytes placed but unused inside blocks/partitions.
    pub internal: u64,
}

/// Fragmentation over the run: a point after each cycle that placed, released, compacted
/// or changed a layout.
pub fn fragmentation(trace: &Trace) -> Vec<FragPoint> {
    let mut s = State::new(&trace.machine);
    let mut ch = super::state::Changes::default();
    let mut out: Vec<FragPoint> = Vec::new();
    let point = |s: &State, cycle: u64| {
        let ps = pieces(s);
        let mut f = FragPoint {
            cycle,
            ..FragPoint::default()
        };
        for p in &ps {
            if p.pid.is_none() {
                f.free = f.free.saturating_add(p.size);
                f.largest = f.largest.max(p.size);
                f.holes += 1;
            } else {
                f.internal = f.internal.saturating_add(p.size.saturating_sub(p.used));
            }
        }
        f
    };
    out.push(point(&s, 0));
    for r in &trace.records {
        let relevant = matches!(
            r.event,
            Event::Place { .. }
                | Event::Release { .. }
                | Event::Compact { .. }
                | Event::Layout { .. }
                | Event::Exit { .. }
                | Event::Kill { .. }
                | Event::End { .. }
        );
        s.apply(r, &mut ch);
        s.compactions.clear();
        if !relevant {
            continue;
        }
        let f = point(&s, r.cycle);
        match out.last_mut() {
            Some(l) if l.cycle == r.cycle => *l = f,
            Some(l)
                if (l.free, l.largest, l.holes, l.internal)
                    == (f.free, f.largest, f.holes, f.internal) => {}
            _ => out.push(f),
        }
    }
    // The end: the last value carries on to the run's end.
    let end = trace.end_cycle();
    if let Some(l) = out.last().cloned() {
        if l.cycle < end {
            out.push(FragPoint { cycle: end, ..l });
        }
    }
    out
}

/// The fragmentation numbers as a table.
pub fn fragmentation_table(points: &[FragPoint]) -> Table {
    let mut t = Table::new(
        "fragmentation",
        &[
            "cycle",
            "free bytes in holes",
            "largest hole",
            "holes",
            "internal fragmentation bytes",
        ],
    );
    for p in points {
        t.row(vec![
            p.cycle.to_string(),
            p.free.to_string(),
            p.largest.to_string(),
            p.holes.to_string(),
            p.internal.to_string(),
        ]);
    }
    t
}

/// At most `n` points spread over `v` (the first and the last kept).
fn thin<T: Clone>(v: &[T], n: usize) -> Vec<T> {
    if v.len() <= n || n < 2 {
        return v.to_vec();
    }
    (0..n)
        .map(|k| v[k * (v.len() - 1) / (n - 1)].clone())
        .collect()
}

/// Draws the fragmentation charts: bytes (free, largest hole, internal) and holes.
pub fn draw_fragmentation(points: &[FragPoint], prefix: &str) -> String {
    let width = 960.0;
    let (x0, pw, ph) = (90.0, 820.0, 170.0);
    let mut g = Svg::new(prefix, width, 100.0, "Fragmentation over the run");
    let pts = thin(points, 1000);
    let end = pts.iter().map(|p| p.cycle).max().unwrap_or(0).max(1) as f64;
    let xs = |c: u64| x0 + c as f64 / end * pw;
    let max_b = pts
        .iter()
        .map(|p| p.free.max(p.internal).max(p.largest))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let max_h = pts.iter().map(|p| p.holes).max().unwrap_or(0).max(1) as f64;
    type Get = fn(&FragPoint) -> u64;
    /// A series: its name, value, colour, marker shape and dashing.
    type Series = (&'static str, Get, &'static str, u8, bool);
    let charts: [(&str, f64, bool, Vec<Series>); 2] = [
        (
            "bytes",
            max_b,
            true,
            vec![
                (
                    "free bytes in holes (external)",
                    |p| p.free,
                    "#0072B2",
                    0,
                    false,
                ),
                ("largest hole", |p| p.largest, "#E69F00", 1, true),
                (
                    "unused inside blocks (internal)",
                    |p| p.internal,
                    "#009E73",
                    2,
                    false,
                ),
            ],
        ),
        (
            "holes",
            max_h,
            false,
            vec![("number of holes", |p| p.holes, "#CC79A7", 3, false)],
        ),
    ];
    let mut y0 = 30.0;
    for (name, max, is_bytes, series) in charts.iter() {
        g.text(
            8.0,
            y0 - 10.0,
            &format!("{name} (x: cycle)"),
            12.0,
            Anchor::Start,
            true,
        );
        // Bytes tick in whole units (B, KiB, MiB, ...); counts in whole numbers.
        let unit = if *is_bytes {
            let mut u = 1.0f64;
            while *max / u >= 1024.0 && u < 1e15 {
                u *= 1024.0;
            }
            u
        } else {
            1.0
        };
        let ticks: Vec<f64> = svg::ticks(*max / unit, 4)
            .into_iter()
            .filter(|t| *is_bytes || t.fract() == 0.0)
            .map(|t| t * unit)
            .collect();
        let top = ticks.last().copied().unwrap_or(1.0).max(*max).max(1.0);
        let ys = |v: u64| y0 + ph - v as f64 / top * ph;
        for t in &ticks {
            let y = y0 + ph - t / top * ph;
            g.line(x0, y, x0 + pw, y, svg::GRID, 0.75, false);
            let l = if *is_bytes {
                bytes(*t as u64)
            } else {
                svg::thousands(*t as u64)
            };
            g.text(x0 - 4.0, y + 3.5, &l, 10.0, Anchor::End, false);
        }
        g.line(x0, y0 + ph, x0 + pw, y0 + ph, INK, 1.0, false);
        g.line(x0, y0, x0, y0 + ph, INK, 1.0, false);
        for t in svg::ticks(end, 6) {
            let x = x0 + t / end * pw;
            g.line(x, y0 + ph, x, y0 + ph + 4.0, INK, 1.0, false);
            g.text(
                x,
                y0 + ph + 15.0,
                &svg::thousands(t as u64),
                10.0,
                Anchor::Middle,
                false,
            );
        }
        for (label, get, colour, shape, dashed) in series {
            // A step line: the value holds until the next point.
            let mut line = Vec::with_capacity(pts.len() * 2);
            for (i, p) in pts.iter().enumerate() {
                if i > 0 {
                    line.push((xs(p.cycle), ys(get(&pts[i - 1]))));
                }
                line.push((xs(p.cycle), ys(get(p))));
            }
            g.polyline(&line, colour, 1.75, *dashed, Some(label));
            for p in thin(&pts, 40) {
                let v = get(&p);
                let tip = format!(
                    "{label} at cycle {}: {}",
                    svg::thousands(p.cycle),
                    if *is_bytes { bytes(v) } else { v.to_string() }
                );
                g.marker(xs(p.cycle), ys(v), 3.5, *shape, colour, Some(&tip));
            }
        }
        // The legend of the chart's series: marker shape and name.
        let mut lx = x0;
        for (label, _, colour, shape, _) in series {
            g.marker(lx + 5.0, y0 + ph + 32.0, 4.0, *shape, colour, None);
            g.text(lx + 14.0, y0 + ph + 36.0, label, 11.0, Anchor::Start, false);
            lx += 30.0 + 7.0 * label.len() as f64;
        }
        y0 += ph + 70.0;
    }
    g.set_height(y0 - 20.0);
    g.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pictures::run::moments;
    use crate::pictures::run::state::{replay, tests as st};

    fn last_model(t: &Trace) -> Vec<MemoryModel> {
        let m = moments(t, 100);
        let mut v = Vec::new();
        replay(t, &m, |_, s, ch| {
            if ch.memory {
                v.push(model(s));
            }
        });
        v
    }

    #[test]
    fn paging_grid() {
        let t = st::trace("vm-paging", st::PAGING_MACHINE, st::PAGING);
        let models = last_model(&t);
        let last = models.last().unwrap();
        insta::assert_json_snapshot!("memory_paging", last);
        let svg = draw(last, "memory-0");
        let d = roxmltree::Document::parse(&svg).unwrap();
        let cells = d
            .descendants()
            .filter(|n| {
                n.has_tag_name("title") && n.text().is_some_and(|t| t.starts_with("frame 0x"))
            })
            .count();
        assert_eq!(cells, 8);
        assert!(svg.contains("shared by 2 mappings"));
        assert!(svg.contains("page table"));
    }

    pub const DYNAMIC: &str = r#"{"cycle":1,"event":"spawn","pid":1,"name":"a"}
{"cycle":1,"event":"layout","pid":1,"areas":[{"kind":"text","start":"0x0","end":"0x300","perms":"r-x"}]}
{"cycle":1,"event":"place","pid":1,"what":"block","base":"0x80000000","size":1024}
{"cycle":2,"event":"spawn","pid":2,"name":"b"}
{"cycle":2,"event":"place","pid":2,"what":"block","base":"0x80000400","size":1024}
{"cycle":3,"event":"place","pid":3,"what":"block","base":"0x80000800","size":1024}
{"cycle":4,"event":"exit","pid":1,"code":0}
{"cycle":4,"event":"release","pid":1,"what":"block","base":"0x80000000","size":1024}
{"cycle":5,"event":"compact","moves":2,"bytes":2048,"blocks":[{"pid":2,"what":"block","from":"0x80000400","to":"0x80000000","size":1024},{"pid":3,"what":"block","from":"0x80000800","to":"0x80000400","size":1024}]}
{"cycle":6,"event":"end","status":0}"#;

    #[test]
    fn dynamic_compaction() {
        let t = st::trace("dynamic-partitions", r#","user_bytes":4096"#, DYNAMIC);
        let models = last_model(&t);
        let compacted = models.iter().find(|m| !m.moves.is_empty()).unwrap();
        insta::assert_json_snapshot!("memory_compaction", compacted);
        let svg = draw(compacted, "memory-3");
        let d = roxmltree::Document::parse(&svg).unwrap();
        let dashed = d
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-dasharray").is_some())
            .count();
        assert_eq!(dashed, 2);
        assert!(svg.contains("moved from 0x80000800 to 0x80000400"));
        let f = fragmentation(&t);
        insta::assert_json_snapshot!("fragmentation_dynamic", f);
        let fs = draw_fragmentation(&f, "fragmentation");
        let d = roxmltree::Document::parse(&fs).unwrap();
        assert!(
            d.descendants()
                .filter(|n| n.has_tag_name("polyline"))
                .count()
                >= 4
        );
        assert_eq!(fragmentation_table(&f).rows.len(), f.len());
    }

    #[test]
    fn fixed_partitions() {
        let t = st::trace(
            "fixed-partitions",
            r#","user_bytes":4096,"partitions":[{"base":"0x80000000","size":1024},{"base":"0x80000400","size":3072}]"#,
            r#"{"cycle":1,"event":"spawn","pid":1,"name":"a"}
{"cycle":1,"event":"layout","pid":1,"areas":[{"kind":"text","start":"0x0","end":"0x100","perms":"r-x"},{"kind":"stack","start":"0x300","end":"0x400","perms":"rw-"}]}
{"cycle":1,"event":"place","pid":1,"what":"partition","base":"0x80000000","size":1024}
{"cycle":2,"event":"end","status":0}"#,
        );
        let models = last_model(&t);
        let last = models.last().unwrap();
        insta::assert_json_snapshot!("memory_fixed", last);
        assert_eq!(last.pieces[0].used, 512);
        let svg = draw(last, "memory-1");
        roxmltree::Document::parse(&svg).unwrap();
        let f = fragmentation(&t);
        assert_eq!(f.last().unwrap().internal, 512);
        assert_eq!(f.last().unwrap().free, 3072);
    }

    #[test]
    fn odd_machines_do_not_panic() {
        for scheme in [
            "vm-paging",
            "dynamic-partitions",
            "fixed-partitions",
            "nonsense",
        ] {
            let t = st::trace(
                scheme,
                r#","user_bytes":18446744073709551615,"page_size":0,"frames":0"#,
                r#"{"cycle":1,"event":"place","pid":1,"what":"block","base":"0xffffffffffffffff","size":18446744073709551615}
{"cycle":1,"event":"frame","pa":"0xffffffffffffffff","holds":"page","pid":1,"va":"0x0"}
{"cycle":2,"event":"end","status":0}"#,
            );
            for m in last_model(&t) {
                let svg = draw(&m, "x");
                roxmltree::Document::parse(&svg).unwrap();
                assert!(m.cells.len() as u64 <= MAX_CELLS);
            }
            draw_fragmentation(&fragmentation(&t), "f");
        }
    }
}
