//! A process's translation structures (figure `table-PID`): its page table as a tree
//! rebuilt from the `pte` records (paging), its segment table (segmentation), or its base
//! and bounds registers (partitions).
//!
//! The page-table tree is walked from the root: the children of a `table` entry at level
//! L are the current level-L+1 entries lying in the table it points to. Each table lists only
//! its valid entries, long runs of invalid ones collapsed to one line; a table shows at most
//! [`MAX_SHOWN`] entries, and the walk at most [`MAX_TABLES`] tables, so a big process stays
//! readable.

use super::state::{is_paging, is_segmentation, State};
use crate::pictures::html::Table;
use crate::pictures::svg::{bytes, process_colour, Anchor, Svg, FREE, GRID, INK};
use serde::Serialize;
use std::collections::BTreeSet;

/// The most valid entries drawn per table.
pub const MAX_SHOWN: usize = 64;

/// The most tables the walk draws.
pub const MAX_TABLES: usize = 64;

/// A valid entry of a page table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// Its index in its table.
    pub index: u64,
    /// The first virtual address it covers.
    pub va: u64,
    /// The bytes it covers.
    pub span: u64,
    /// `table` or `leaf`.
    pub kind: String,
    /// The next table or the frame.
    pub target: u64,
    /// `rwxugad` (leaves).
    pub flags: String,
    /// A leaf above the last level: a superpage.
    pub superpage: bool,
    /// The table it points to (an index into the model's tables), when drawn.
    pub child: Option<usize>,
}

/// One page table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableNode {
    /// Its level (0 = the root).
    pub level: u64,
    /// Its physical address.
    pub base: u64,
    /// Its valid entries shown, in index order.
    pub entries: Vec<EntryView>,
    /// Its invalid entries.
    pub invalid: u64,
    /// Valid entries not shown (over [`MAX_SHOWN`]).
    pub more: u64,
}

/// A row of a segment table (or the base and bounds of a partition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SegmentRow {
    /// The segment (or `partition`, `block`).
    pub segment: String,
    /// Its base, when in memory.
    pub base: Option<u64>,
    /// Its size (the limit).
    pub size: u64,
    /// `rwx`.
    pub perms: String,
    /// `present`, `swapped`, `absent`.
    pub state: String,
}

/// The table figure's data at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TableModel {
    /// The process.
    pub pid: u32,
    /// `page-table`, `segment-table` or `base-bounds`.
    pub kind: String,
    /// Levels of the page table.
    pub levels: u64,
    /// Entries per table.
    pub per_table: u64,
    /// Bytes per entry.
    pub entry_bytes: u64,
    /// The tables, the root first (paging).
    pub tables: Vec<TableNode>,
    /// Tables the walk did not draw (over [`MAX_TABLES`]).
    pub more_tables: u64,
    /// The segments or the partition (other schemes).
    pub segments: Vec<SegmentRow>,
}

/// Bytes per page-table entry for the machine's format.
fn entry_bytes(s: &State) -> u64 {
    match s.machine.format.as_deref() {
        Some(f) if f.starts_with("sv32") => 4,
        _ => 8,
    }
}

fn table_bytes(s: &State) -> u64 {
    s.machine
        .table_bytes
        .filter(|b| *b > 0)
        .unwrap_or(s.page_size())
}

/// The root of `pid`'s page table: its `space` record's, or the table holding its level-0
/// entries.
fn root(s: &State, pid: u32) -> Option<u64> {
    if let Some(r) = s.roots.get(&pid) {
        return Some(*r);
    }
    let tb = table_bytes(s);
    s.ptes
        .iter()
        .find(|(_, e)| e.pid == pid && e.level == 0)
        .map(|(at, _)| at - at % tb)
}

/// The page-table model of `pid` in `s`.
fn page_tables(s: &State, pid: u32, m: &mut TableModel) {
    let tb = table_bytes(s);
    let eb = entry_bytes(s);
    let levels = s.machine.levels.unwrap_or(0);
    m.levels = levels;
    m.per_table = (tb / eb).max(1);
    m.entry_bytes = eb;
    let Some(root) = root(s, pid) else { return };
    let mut seen = BTreeSet::new();
    // Depth first, so a table's children follow it.
    // (table, level, the entry pointing to it: (table index, entry index)).
    type Todo = (u64, u64, Option<(usize, usize)>);
    let mut stack: Vec<Todo> = vec![(root, 0, None)];
    while let Some((base, level, parent)) = stack.pop() {
        if !seen.insert(base) {
            continue;
        }
        if m.tables.len() >= MAX_TABLES {
            m.more_tables += 1;
            continue;
        }
        let idx = m.tables.len();
        if let Some((t, e)) = parent {
            m.tables[t].entries[e].child = Some(idx);
        }
        let mut node = TableNode {
            level,
            base,
            entries: Vec::new(),
            invalid: 0,
            more: 0,
        };
        let mut valid = 0u64;
        for (at, e) in s.ptes.range(base..base.saturating_add(tb)) {
            if e.level != level || e.kind == "invalid" {
                continue;
            }
            valid += 1;
            if node.entries.len() >= MAX_SHOWN {
                node.more += 1;
                continue;
            }
            node.entries.push(EntryView {
                index: (at - base) / eb,
                va: e.va,
                span: e.span,
                kind: e.kind.clone(),
                target: e.target.unwrap_or(0),
                flags: e.flags.clone(),
                superpage: e.kind == "leaf" && levels > 0 && level + 1 < levels,
                child: None,
            });
        }
        node.invalid = m.per_table.saturating_sub(valid);
        let children: Vec<(u64, usize)> = node
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == "table")
            .map(|(i, e)| (e.target, i))
            .collect();
        m.tables.push(node);
        for (target, i) in children.into_iter().rev() {
            stack.push((target, level + 1, Some((idx, i))));
        }
    }
}

/// The table model of `pid` in `s`.
pub fn model(s: &State, pid: u32) -> TableModel {
    let scheme = s.machine.scheme.as_str();
    let mut m = TableModel {
        pid,
        ..TableModel::default()
    };
    if is_paging(scheme) {
        m.kind = "page-table".into();
        page_tables(s, pid, &mut m);
        return m;
    }
    let perms = |kind: &str| {
        s.layouts
            .get(&pid)
            .and_then(|l| l.iter().find(|a| a.kind == kind))
            .map(|a| a.perms.clone())
            .unwrap_or_default()
    };
    if is_segmentation(scheme) {
        m.kind = "segment-table".into();
        let mut named = BTreeSet::new();
        for (base, b) in s.blocks.iter().filter(|(_, b)| b.pid == pid) {
            named.insert(b.what.clone());
            m.segments.push(SegmentRow {
                segment: b.what.clone(),
                base: Some(*base),
                size: b.size,
                perms: perms(&b.what),
                state: "present".into(),
            });
        }
        if let Some(l) = s.layouts.get(&pid) {
            for a in l {
                if named.insert(a.kind.clone()) {
                    let swapped = s.swapped_segments.contains(&(pid, a.kind.clone()));
                    m.segments.push(SegmentRow {
                        segment: a.kind.clone(),
                        base: None,
                        size: a.end.saturating_sub(a.start),
                        perms: a.perms.clone(),
                        state: if swapped { "swapped" } else { "absent" }.into(),
                    });
                }
            }
        }
    } else {
        m.kind = "base-bounds".into();
        for (base, b) in s.blocks.iter().filter(|(_, b)| b.pid == pid) {
            m.segments.push(SegmentRow {
                segment: b.what.clone(),
                base: Some(*base),
                size: b.size,
                perms: String::new(),
                state: "present".into(),
            });
        }
    }
    m
}

/// Whether the model has anything to show.
pub fn is_empty(m: &TableModel) -> bool {
    m.tables.is_empty() && m.segments.is_empty()
}

/// Every current valid page-table entry of `pid` (or its segments), as a table.
pub fn entries_table(s: &State, pid: u32) -> Table {
    if is_paging(&s.machine.scheme) {
        let mut t = Table::new(
            "entries",
            &[
                "level",
                "entry address",
                "va",
                "span",
                "kind",
                "target",
                "flags",
            ],
        );
        for (at, e) in s
            .ptes
            .iter()
            .filter(|(_, e)| e.pid == pid && e.kind != "invalid")
        {
            t.row(vec![
                e.level.to_string(),
                format!("{at:#x}"),
                format!("{:#x}", e.va),
                e.span.to_string(),
                e.kind.clone(),
                e.target.map(|x| format!("{x:#x}")).unwrap_or_default(),
                e.flags.clone(),
            ]);
        }
        return t;
    }
    let m = model(s, pid);
    let mut t = Table::new("segments", &["segment", "base", "size", "perms", "state"]);
    for r in &m.segments {
        t.row(vec![
            r.segment.clone(),
            r.base.map(|b| format!("{b:#x}")).unwrap_or_default(),
            r.size.to_string(),
            r.perms.clone(),
            r.state.clone(),
        ]);
    }
    t
}

const ROW_H: f64 = 15.0;
/// The headings' fill.
const HEAD: &str = "#EEEEEE";
const COL_W: f64 = 320.0;
const COL_GAP: f64 = 60.0;

/// Draws the model; `prefix` makes the drawing's ids unique.
pub fn draw(m: &TableModel, prefix: &str) -> String {
    match m.kind.as_str() {
        "page-table" => draw_tree(m, prefix),
        _ => draw_segments(m, prefix),
    }
}

fn draw_tree(m: &TableModel, prefix: &str) -> String {
    let depth = m.tables.iter().map(|t| t.level).max().unwrap_or(0) + 1;
    let depth = depth.min(8);
    let width = (20.0 + depth as f64 * (COL_W + COL_GAP)).max(400.0);
    let mut g = Svg::new(
        prefix,
        width,
        100.0,
        &format!("Page table of process {}", m.pid),
    );
    g.text(
        8.0,
        16.0,
        &format!(
            "Process {}: page table, {} levels, {} entries a table (valid entries only)",
            m.pid, m.levels, m.per_table
        ),
        12.0,
        Anchor::Start,
        true,
    );
    if m.tables.is_empty() {
        g.text(8.0, 40.0, "no page table (yet)", 11.0, Anchor::Start, false);
        g.set_height(56.0);
        return g.finish();
    }
    // Lay out: each level a column, tables stacked in walk order.
    let mut col_y = vec![30.0f64; depth as usize];
    let mut pos = Vec::with_capacity(m.tables.len());
    let mut rows_of = Vec::with_capacity(m.tables.len());
    for t in &m.tables {
        let c = (t.level as usize).min(depth as usize - 1);
        // Rows: the heading, entries and the gaps between them, the tail and "more".
        let mut rows: Vec<(String, Option<usize>)> = Vec::new();
        let mut next = 0u64;
        for (i, e) in t.entries.iter().enumerate() {
            if e.index > next {
                rows.push((invalid_run(e.index - next), None));
            }
            let text = if e.kind == "table" {
                format!("[{}] {:#x} → table {:#x}", e.index, e.va, e.target)
            } else if e.superpage {
                format!(
                    "[{}] {:#x} → {:#x} {} ★ {} page",
                    e.index,
                    e.va,
                    e.target,
                    e.flags,
                    bytes(e.span)
                )
            } else {
                format!("[{}] {:#x} → {:#x} {}", e.index, e.va, e.target, e.flags)
            };
            rows.push((text, Some(i)));
            next = e.index.saturating_add(1);
        }
        if t.more > 0 {
            rows.push((format!("and {} more valid entries", t.more), None));
        }
        let tail = m
            .per_table
            .saturating_sub(next.max(t.entries.last().map_or(0, |e| e.index.saturating_add(1))));
        if t.more == 0 && tail > 0 {
            rows.push((invalid_run(tail), None));
        }
        let x = 10.0 + c as f64 * (COL_W + COL_GAP);
        let y = col_y[c];
        col_y[c] = y + (rows.len() as f64 + 1.0) * ROW_H + 14.0;
        pos.push((x, y));
        rows_of.push(rows);
    }
    for (ti, t) in m.tables.iter().enumerate() {
        let (x, y) = pos[ti];
        let rows = &rows_of[ti];
        let h = (rows.len() as f64 + 1.0) * ROW_H + 4.0;
        g.rect(x, y, COL_W, h, FREE, Some(INK), None);
        // The heading: the owner's colour as a stripe, so the text stays on light grey.
        g.rect(x, y, COL_W, ROW_H + 2.0, HEAD, Some(INK), None);
        g.rect(
            x,
            y,
            8.0,
            ROW_H + 2.0,
            process_colour(m.pid),
            Some(INK),
            None,
        );
        g.text(
            x + 12.0,
            y + 12.0,
            &format!("level {} table @ {:#x}", t.level, t.base),
            11.0,
            Anchor::Start,
            true,
        );
        for (r, (text, entry)) in rows.iter().enumerate() {
            let ry = y + (r as f64 + 1.0) * ROW_H + 2.0;
            let tip = entry.map(|i| {
                let e = &t.entries[i];
                format!(
                    "entry {} at {:#x}: va {:#x}, covers {}, {} {:#x}{}",
                    e.index,
                    t.base.saturating_add(e.index.saturating_mul(m.entry_bytes)),
                    e.va,
                    bytes(e.span),
                    if e.kind == "table" {
                        "next table"
                    } else {
                        "frame"
                    },
                    e.target,
                    if e.flags.is_empty() {
                        String::new()
                    } else {
                        format!(", flags {}", e.flags)
                    }
                )
            });
            if entry.is_none() {
                g.text_coloured(
                    x + 6.0,
                    ry + 11.0,
                    text,
                    10.0,
                    Anchor::Start,
                    false,
                    "#666666",
                );
                continue;
            }
            g.open_group(None, tip.as_deref());
            g.rect(x + 1.0, ry, COL_W - 2.0, ROW_H, FREE, Some(GRID), None);
            g.text(x + 6.0, ry + 11.0, text, 10.0, Anchor::Start, false);
            g.close_group();
            if let Some(c) = entry.and_then(|i| t.entries[i].child) {
                let (cx, cy) = pos[c];
                g.line(
                    x + COL_W,
                    ry + ROW_H / 2.0,
                    cx,
                    cy + ROW_H / 2.0,
                    INK,
                    1.0,
                    false,
                );
                g.marker(cx - 2.0, cy + ROW_H / 2.0, 2.5, 0, INK, None);
            }
        }
    }
    let mut y = col_y.iter().cloned().fold(0.0, f64::max);
    if m.more_tables > 0 {
        g.text(
            8.0,
            y + 10.0,
            &format!("and {} more tables not drawn", m.more_tables),
            11.0,
            Anchor::Start,
            false,
        );
        y += 18.0;
    }
    g.text(
        8.0,
        y + 10.0,
        "flags rwxugad: read, write, execute, user, global, accessed, dirty (- clear); ★ a superpage (a leaf above the last level)",
        10.0,
        Anchor::Start,
        false,
    );
    g.set_height(y + 20.0);
    g.finish()
}

fn draw_segments(m: &TableModel, prefix: &str) -> String {
    let regs = m.kind == "base-bounds";
    let title = if regs {
        format!("Base and bounds of process {}", m.pid)
    } else {
        format!("Segment table of process {}", m.pid)
    };
    let mut g = Svg::new(prefix, 640.0, 100.0, &title);
    g.text(8.0, 16.0, &title, 12.0, Anchor::Start, true);
    let cols: &[(&str, f64)] = if regs {
        &[
            ("holds", 10.0),
            ("base register", 130.0),
            ("bounds register", 300.0),
            ("last byte", 470.0),
        ]
    } else {
        &[
            ("segment", 10.0),
            ("base", 110.0),
            ("limit", 250.0),
            ("perms", 370.0),
            ("state", 450.0),
        ]
    };
    let y0 = 30.0;
    g.rect(8.0, y0, 620.0, ROW_H + 2.0, HEAD, Some(INK), None);
    g.rect(
        8.0,
        y0,
        6.0,
        ROW_H + 2.0,
        process_colour(m.pid),
        Some(INK),
        None,
    );
    for (c, x) in cols {
        g.text(*x + 6.0, y0 + 12.0, c, 11.0, Anchor::Start, true);
    }
    if m.segments.is_empty() {
        g.text(
            10.0,
            y0 + 32.0,
            "nothing in memory",
            11.0,
            Anchor::Start,
            false,
        );
        g.set_height(y0 + 44.0);
        return g.finish();
    }
    for (r, s) in m.segments.iter().enumerate() {
        let y = y0 + (r as f64 + 1.0) * (ROW_H + 2.0);
        let base = s.base.map_or("—".to_string(), |b| format!("{b:#x}"));
        let cells: Vec<String> = if regs {
            vec![
                s.segment.clone(),
                base,
                format!("{:#x} ({})", s.size, bytes(s.size)),
                s.base.map_or("—".into(), |b| {
                    format!("{:#x}", b.saturating_add(s.size).saturating_sub(1))
                }),
            ]
        } else {
            vec![
                s.segment.clone(),
                base,
                format!("{:#x} ({})", s.size, bytes(s.size)),
                s.perms.clone(),
                s.state.clone(),
            ]
        };
        let tip = format!("{}: {}", s.segment, cells[1..].join(", "));
        g.open_group(None, Some(&tip));
        g.rect(8.0, y, 620.0, ROW_H + 2.0, FREE, Some(GRID), None);
        for ((_, x), v) in cols.iter().zip(cells.iter()) {
            g.text(*x + 6.0, y + 12.0, v, 11.0, Anchor::Start, false);
        }
        g.close_group();
    }
    g.set_height(y0 + (m.segments.len() as f64 + 1.0) * (ROW_H + 2.0) + 10.0);
    g.finish()
}

/// The line standing for `n` invalid entries in a row.
fn invalid_run(n: u64) -> String {
    if n == 1 {
        "… 1 invalid entry".into()
    } else {
        format!("… {n} invalid entries")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::run::moments;
    use crate::pictures::run::state::{replay, tests as st};

    fn last(t: &crate::pictures::trace::Trace, pid: u32) -> (TableModel, Table) {
        let m = moments(t, 100);
        let mut out = None;
        replay(t, &m, |_, s, _| {
            out = Some((model(s, pid), entries_table(s, pid)))
        });
        out.unwrap()
    }

    #[test]
    fn two_level_tree() {
        let t = st::trace("vm-paging", st::PAGING_MACHINE, st::PAGING);
        let (m, tab) = last(&t, 1);
        insta::assert_json_snapshot!("table_paging", m);
        assert_eq!(m.tables.len(), 2);
        assert_eq!(m.tables[0].entries[0].child, Some(1));
        assert_eq!(m.tables[1].invalid, 511);
        assert_eq!(tab.rows.len(), 2);
        let svg = draw(&m, "table-1-0");
        let d = roxmltree::Document::parse(&svg).unwrap();
        let texts = crate::pictures::testing::texts(&d);
        assert!(texts.contains(&"… 16 invalid entries"), "{texts:?}");
        assert!(texts.contains(&"[16] 0x10000 → 0x80002000 r-xu-a-"));
        assert!(texts.contains(&"… 495 invalid entries"));
        // A process without entries gets an empty model.
        let (m2, _) = last(&t, 2);
        assert!(is_empty(&m2));
    }

    #[test]
    fn superpage_and_cap() {
        let mut body = String::from(
            r#"{"cycle":1,"event":"pte","pid":1,"level":0,"va":"0x0","span":1073741824,"at":"0x80000000","value":"0x1","kind":"table","target":"0x80001000"}
{"cycle":1,"event":"pte","pid":1,"level":0,"va":"0x40000000","span":1073741824,"at":"0x80000008","value":"0xcf","kind":"leaf","target":"0xc0000000","flags":"rwxu-ad"}
"#,
        );
        for i in 0..100u64 {
            body.push_str(&format!(
                "{{\"cycle\":2,\"event\":\"pte\",\"pid\":1,\"level\":1,\"va\":\"{:#x}\",\"span\":2097152,\"at\":\"{:#x}\",\"value\":\"0x1\",\"kind\":\"leaf\",\"target\":\"{:#x}\",\"flags\":\"rw-u-a-\"}}\n",
                i << 21,
                0x8000_1000u64 + i * 8,
                0x9000_0000u64 + (i << 21)
            ));
        }
        body.push_str(r#"{"cycle":3,"event":"end","status":0}"#);
        let t = st::trace(
            "vm-paging",
            r#","page_size":4096,"format":"sv39","table_bytes":4096,"levels":3,"user_bytes":4096"#,
            &body,
        );
        let (m, tab) = last(&t, 1);
        assert!(m.tables[0].entries[1].superpage);
        assert_eq!(m.tables[1].entries.len(), MAX_SHOWN);
        assert_eq!(m.tables[1].more, 36);
        assert_eq!(tab.rows.len(), 102);
        let svg = draw(&m, "t");
        roxmltree::Document::parse(&svg).unwrap();
        assert!(svg.contains("and 36 more valid entries"));
        assert!(svg.contains("★ 1 GiB page"));
    }

    #[test]
    fn segment_table_and_registers() {
        let t = st::trace(
            "simple-segmentation",
            r#","user_bytes":65536"#,
            st::SEGMENTS,
        );
        let (m, tab) = last(&t, 1);
        insta::assert_json_snapshot!("table_segments", m);
        assert_eq!(tab.rows.len(), 2);
        let svg = draw(&m, "table-1-0");
        roxmltree::Document::parse(&svg).unwrap();
        assert!(svg.contains("swapped"));
        let t = st::trace(
            "dynamic-partitions",
            r#","user_bytes":4096"#,
            r#"{"cycle":1,"event":"place","pid":1,"what":"block","base":"0x80000400","size":1024}
{"cycle":3,"event":"end","status":0}"#,
        );
        let (m, _) = last(&t, 1);
        assert_eq!(m.kind, "base-bounds");
        let svg = draw(&m, "table-1-0");
        roxmltree::Document::parse(&svg).unwrap();
        assert!(svg.contains("0x800007ff"));
    }
}
