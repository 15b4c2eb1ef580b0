//! Each process's address space (figure `space-PID`): its areas from text (low, at the
//! bottom) to the stack (high, at the top), each page marked resident, shared, swapped out
//! or never touched; the gaps between areas compressed to a break mark with their size.
//!
//! Under the non-paging schemes each area is one bar: placed (in memory), swapped out, or
//! not placed.

use super::memory::outline;
use super::state::{is_paging, Life, State};
use crate::pictures::svg::{bytes, process_colour, Anchor, Pattern, Svg, CACHE, FREE, INK};
use serde::Serialize;

/// The most cells drawn for one area; a bigger area has several pages per cell.
pub const MAX_AREA_CELLS: u64 = 256;

/// Cells per row.
const ROW: u64 = 32;

/// One area of the address space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AreaView {
    /// Its kind.
    pub kind: String,
    /// Its first address.
    pub start: u64,
    /// One past its last.
    pub end: u64,
    /// `rwx`.
    pub perms: String,
    /// Pages per cell (paging).
    pub pages_per_cell: u64,
    /// Each cell's state (paging): `resident`, `shared`, `swapped`, `untouched`.
    pub cells: Vec<String>,
    /// The whole area's state (non-paging): `placed`, `swapped`, `not placed`.
    pub status: Option<String>,
}

/// The address-space figure's data at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpaceModel {
    /// The process.
    pub pid: u32,
    /// Its program.
    pub name: String,
    /// `not started`, `alive`, `ended`.
    pub life: String,
    /// Paging (pages) or not (areas as a whole).
    pub paging: bool,
    /// The page size.
    pub page_size: u64,
    /// Its areas, low to high.
    pub areas: Vec<AreaView>,
}

fn cell_state(s: &State, pid: u32, a: u64, len: u64) -> &'static str {
    let end = a.saturating_add(len);
    let resident = s
        .pages
        .range((pid, a)..(pid, end))
        .next()
        .map(|(_, pa)| *pa)
        .or_else(|| {
            // A leaf starting in the cell, or one starting before it and covering it.
            if let Some(((_, _), (pa, _, _))) = s.leaves.range((pid, a)..(pid, end)).next() {
                return Some(*pa);
            }
            s.resident(pid, a)
        });
    if let Some(pa) = resident {
        let ps = s.page_size();
        let frame = pa - pa % ps;
        return if s.frames.get(&frame).is_some_and(|f| f.maps > 1) {
            "shared"
        } else {
            "resident"
        };
    }
    if s.swapped.range((pid, a)..(pid, end)).next().is_some() {
        return "swapped";
    }
    "untouched"
}

/// The address-space model of process `pid` in state `s` (at most [`MAX_AREA_CELLS`]
/// cells an area).
pub fn model(s: &State, pid: u32) -> SpaceModel {
    model_capped(s, pid, MAX_AREA_CELLS)
}

/// The address-space model of process `pid` in state `s`, with at most `max_cells` cells
/// an area.
pub fn model_capped(s: &State, pid: u32, max_cells: u64) -> SpaceModel {
    let paging = is_paging(&s.machine.scheme);
    let ps = s.page_size();
    let mut m = SpaceModel {
        pid,
        name: s.names.get(&pid).cloned().unwrap_or_default(),
        life: match s.life.get(&pid) {
            None => "not started",
            Some(Life::Alive) => "alive",
            Some(Life::Ended) => "ended",
        }
        .into(),
        paging,
        page_size: if paging { ps } else { 0 },
        areas: Vec::new(),
    };
    let Some(layout) = s.layouts.get(&pid) else {
        return m;
    };
    for a in layout {
        let (start, end) = (a.start, a.end.max(a.start));
        let mut v = AreaView {
            kind: a.kind.clone(),
            start,
            end,
            perms: a.perms.clone(),
            pages_per_cell: 0,
            cells: Vec::new(),
            status: None,
        };
        if paging {
            let first = start - start % ps;
            let pages = (end - first).div_ceil(ps).max(1);
            let per = pages.div_ceil(max_cells.max(1)).max(1);
            v.pages_per_cell = per;
            let len = per.saturating_mul(ps);
            for c in 0..pages.div_ceil(per) {
                let at = first.saturating_add(c.saturating_mul(len));
                v.cells.push(cell_state(s, pid, at, len).into());
            }
        } else {
            let placed = s.blocks.values().any(|b| {
                b.pid == pid && (b.what == a.kind || b.what == "partition" || b.what == "block")
            });
            let swapped = s.swapped_segments.contains(&(pid, a.kind.clone()));
            v.status = Some(
                if placed {
                    "placed"
                } else if swapped {
                    "swapped"
                } else {
                    "not placed"
                }
                .into(),
            );
        }
        m.areas.push(v);
    }
    m
}

/// Draws a cell (or a whole non-paged area) in state `st`.
fn draw_state(
    g: &mut Svg,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    st: &str,
    pid: u32,
    kind: &str,
    tip: &str,
) {
    let pat = Pattern::for_area(kind);
    match st {
        "resident" | "placed" => g.patterned(x, y, w, h, process_colour(pid), pat, Some(tip)),
        "shared" => {
            g.patterned(x, y, w, h, process_colour(pid), pat, Some(tip));
            outline(g, x + 1.0, y + 1.0, w - 2.0, h - 2.0, 2.0, false);
        }
        "swapped" => {
            g.open_group(None, Some(tip));
            g.rect(x, y, w, h, CACHE, Some(INK), None);
            g.line(x, y, x + w, y + h, INK, 1.0, false);
            g.line(x + w, y, x, y + h, INK, 1.0, false);
            g.close_group();
        }
        _ => g.rect(x, y, w, h, FREE, Some(INK), Some(tip)),
    }
}

/// Draws the model; `prefix` makes the drawing's ids unique.
pub fn draw(m: &SpaceModel, prefix: &str) -> String {
    let width = 720.0;
    let mut g = Svg::new(
        prefix,
        width,
        100.0,
        &format!("Address space of process {}", m.pid),
    );
    let who = if m.name.is_empty() {
        format!("Process {}", m.pid)
    } else {
        format!("Process {} ({})", m.pid, m.name)
    };
    g.text(
        8.0,
        16.0,
        &format!("{who} — {}", m.life),
        12.0,
        Anchor::Start,
        true,
    );
    let mut y = 30.0;
    if m.areas.is_empty() {
        let why = if m.life == "not started" {
            "not started yet"
        } else {
            "no areas known (no layout record)"
        };
        g.text(8.0, 44.0, why, 11.0, Anchor::Start, false);
        g.set_height(60.0);
        return g.finish();
    }
    let (x0, cs) = (250.0, 13.0);
    // High addresses first: the stack on top, the text at the bottom.
    for (i, a) in m.areas.iter().enumerate().rev() {
        let size = a.end - a.start;
        g.text(
            8.0,
            y + 11.0,
            &format!("{} {}", a.kind, a.perms),
            11.0,
            Anchor::Start,
            true,
        );
        g.text(
            8.0,
            y + 24.0,
            &format!("{:#x}–{:#x} ({})", a.start, a.end, bytes(size)),
            10.0,
            Anchor::Start,
            false,
        );
        let rows;
        if m.paging {
            let n = a.cells.len() as u64;
            rows = n.div_ceil(ROW).max(1);
            // Low addresses at the bottom-left, as in the whole picture.
            for (k, st) in a.cells.iter().enumerate() {
                let k = k as u64;
                let (r, c) = (rows - 1 - k / ROW, k % ROW);
                let va = (a.start - a.start % m.page_size.max(1)).saturating_add(
                    k.saturating_mul(a.pages_per_cell)
                        .saturating_mul(m.page_size),
                );
                let tip = if a.pages_per_cell > 1 {
                    format!("pages {va:#x}… ({} pages): {st}", a.pages_per_cell)
                } else {
                    format!("page {va:#x} ({}): {st}", a.kind)
                };
                draw_state(
                    &mut g,
                    x0 + c as f64 * cs,
                    y + r as f64 * cs,
                    cs,
                    cs,
                    st,
                    m.pid,
                    &a.kind,
                    &tip,
                );
            }
            if a.pages_per_cell > 1 {
                g.text(
                    x0 + ROW as f64 * cs + 6.0,
                    y + 11.0,
                    &format!("{} pages a cell", a.pages_per_cell),
                    10.0,
                    Anchor::Start,
                    false,
                );
            }
        } else {
            rows = 2;
            let st = a.status.as_deref().unwrap_or("not placed");
            draw_state(
                &mut g,
                x0,
                y,
                ROW as f64 * cs,
                2.0 * cs,
                st,
                m.pid,
                &a.kind,
                &format!("{} {:#x}–{:#x}: {st}", a.kind, a.start, a.end),
            );
            g.text(
                x0 + ROW as f64 * cs + 6.0,
                y + 17.0,
                st,
                11.0,
                Anchor::Start,
                false,
            );
        }
        y += (rows as f64 * cs).max(28.0) + 6.0;
        // The gap below this area (to the next lower one), compressed.
        if i > 0 {
            let below = &m.areas[i - 1];
            let gap = a.start.saturating_sub(below.end);
            if gap > 0 {
                let mut zig = Vec::new();
                for k in 0..=16 {
                    let x = x0 + k as f64 * ROW as f64 * cs / 16.0;
                    zig.push((x, y + if k % 2 == 0 { 4.0 } else { 10.0 }));
                }
                g.polyline(
                    &zig,
                    INK,
                    1.0,
                    false,
                    Some(&format!("gap of {}", bytes(gap))),
                );
                g.text(
                    8.0,
                    y + 11.0,
                    &format!("≈ gap of {}", bytes(gap)),
                    10.0,
                    Anchor::Start,
                    false,
                );
                y += 20.0;
            } else {
                y += 4.0;
            }
        }
    }
    y += 8.0;
    let pat = |k: &str| Pattern::for_area(k);
    let colour = process_colour(m.pid).to_string();
    let mut items: Vec<(String, Option<Pattern>, String)> = Vec::new();
    if m.paging {
        items.push((colour.clone(), None, "resident".into()));
    } else {
        items.push((colour.clone(), None, "placed in memory".into()));
    }
    for k in ["text", "data", "heap", "stack", "anon", "file"] {
        if m.areas.iter().any(|a| pat(&a.kind) == pat(k)) {
            items.push((FREE.into(), pat(k), k.into()));
        }
    }
    if m.paging {
        items.push((FREE.into(), None, "never touched".into()));
    } else {
        items.push((FREE.into(), None, "not placed".into()));
    }
    y = g.legend(8.0, y, &items);
    // Two keys the legend's swatches cannot show: crossed grey and a thick outline.
    let mut x = 8.0;
    draw_state(
        &mut g,
        x,
        y,
        14.0,
        12.0,
        "swapped",
        m.pid,
        "",
        "swapped out",
    );
    g.text(
        x + 19.0,
        y + 10.5,
        "swapped out (grey, crossed)",
        11.0,
        Anchor::Start,
        false,
    );
    x += 220.0;
    if m.paging {
        draw_state(
            &mut g,
            x,
            y,
            14.0,
            12.0,
            "shared",
            m.pid,
            "",
            "shared frame",
        );
        g.text(
            x + 19.0,
            y + 10.5,
            "shared frame (thick outline)",
            11.0,
            Anchor::Start,
            false,
        );
    }
    g.set_height(y + 22.0);
    g.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::run::moments;
    use crate::pictures::run::state::{replay, tests as st};

    #[test]
    fn paging_space() {
        let t = st::trace("vm-paging", st::PAGING_MACHINE, st::PAGING);
        let m = moments(&t, 100);
        let mut last = None;
        let mut first = None;
        replay(&t, &m, |k, s, _| {
            if k == 0 {
                first = Some(model(s, 2));
            }
            last = Some(model(s, 1));
        });
        let last = last.unwrap();
        insta::assert_json_snapshot!("space_paging", last);
        assert_eq!(last.areas[0].cells, vec!["shared", "swapped"]);
        assert_eq!(first.unwrap().life, "not started");
        let svg = draw(&last, "space-1-0");
        let d = roxmltree::Document::parse(&svg).unwrap();
        let titles: Vec<&str> = d
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text())
            .collect();
        assert!(titles.contains(&"page 0x11000 (text): swapped"));
        assert!(titles.contains(&"page 0x3fff000 (stack): untouched"));
        assert!(titles.iter().any(|t| t.starts_with("gap of ")));
    }

    #[test]
    fn segmentation_space() {
        let t = st::trace("vm-segmentation", r#","user_bytes":65536"#, st::SEGMENTS);
        let m = moments(&t, 100);
        let mut last = None;
        replay(&t, &m, |_, s, _| last = Some(model(s, 1)));
        let last = last.unwrap();
        insta::assert_json_snapshot!("space_segments", last);
        let st: Vec<_> = last
            .areas
            .iter()
            .map(|a| a.status.clone().unwrap())
            .collect();
        assert_eq!(st, vec!["placed", "swapped"]);
        let svg = draw(&last, "space-1-0");
        roxmltree::Document::parse(&svg).unwrap();
        assert!(svg.contains("data 0x10000–0x10800: swapped"));
    }
}
