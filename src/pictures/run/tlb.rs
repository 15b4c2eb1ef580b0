//! The TLBs' contents at the end of the run (figure `tlb-NAME`): each set a row, each way
//! a cell; a valid entry shows its translation, ASID, global bit, page size and
//! permissions, marked with its process's colour when the ASID is known.

use crate::pictures::html::Table;
use crate::pictures::svg::{bytes, process_colour, Anchor, Svg, FREE, GRID, INK};
use crate::pictures::trace::{Event, TlbEntry, Trace};
use serde::Serialize;
use std::collections::BTreeMap;

/// The most sets drawn; a bigger TLB's other sets are summed up in a line.
pub const MAX_SETS: u64 = 256;

/// The most ways drawn.
pub const MAX_WAYS: u64 = 64;

/// A way of a set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WayView {
    /// The entry, or none (empty).
    pub entry: Option<EntryView>,
}

/// A valid entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// The page's virtual base.
    pub va: u64,
    /// Its physical base.
    pub pa: u64,
    /// The bytes it covers.
    pub size: u64,
    /// Its ASID.
    pub asid: u64,
    /// Global.
    pub global: bool,
    /// `rwxu`.
    pub perms: String,
    /// The segment (paged segments).
    pub seg: Option<u64>,
    /// The process the ASID belongs to, if known.
    pub pid: Option<u32>,
}

/// A TLB at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbModel {
    /// `itlb`, `dtlb`, `l2tlb`.
    pub name: String,
    /// Its sets.
    pub sets: u64,
    /// Its ways.
    pub ways: u64,
    /// The sets drawn, each with its ways.
    pub rows: Vec<Vec<WayView>>,
    /// Valid entries in sets or ways not drawn.
    pub hidden: u64,
    /// Valid entries.
    pub valid: u64,
}

/// The ASID → process map from the `space` records (the last process to hold each ASID).
pub fn asid_owners(trace: &Trace) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    for r in &trace.records {
        if let Event::Space {
            pid, asid: Some(a), ..
        } = &r.event
        {
            m.insert(*a, *pid);
        }
    }
    m
}

/// The models of every `tlb` record.
pub fn models(trace: &Trace) -> Vec<TlbModel> {
    let owners = asid_owners(trace);
    let mut out = Vec::new();
    for r in &trace.records {
        let Event::Tlb {
            name,
            sets,
            ways,
            entries,
        } = &r.event
        else {
            continue;
        };
        out.push(model(name, *sets, *ways, entries, &owners));
    }
    out
}

fn model(
    name: &str,
    sets: u64,
    ways: u64,
    entries: &[TlbEntry],
    owners: &BTreeMap<u64, u32>,
) -> TlbModel {
    let shown_sets = sets.clamp(1, MAX_SETS);
    let shown_ways = ways.clamp(1, MAX_WAYS);
    let mut rows: Vec<Vec<WayView>> = (0..shown_sets)
        .map(|_| (0..shown_ways).map(|_| WayView { entry: None }).collect())
        .collect();
    let mut hidden = 0;
    for e in entries {
        if e.set >= shown_sets || e.way >= shown_ways {
            hidden += 1;
            continue;
        }
        rows[e.set as usize][e.way as usize].entry = Some(EntryView {
            va: e.va,
            pa: e.pa,
            size: e.size,
            asid: e.asid,
            global: e.global,
            perms: e.perms.clone(),
            seg: e.seg,
            pid: if e.global {
                None
            } else {
                owners.get(&e.asid).copied()
            },
        });
    }
    TlbModel {
        name: name.to_string(),
        sets,
        ways,
        rows,
        hidden,
        valid: entries.len() as u64,
    }
}

/// The entries as a table.
pub fn table(name: &str, trace: &Trace) -> Table {
    let owners = asid_owners(trace);
    let mut t = Table::new(
        name,
        &[
            "set", "way", "va", "pa", "size", "asid", "process", "global", "perms", "seg",
        ],
    );
    for r in &trace.records {
        let Event::Tlb {
            name: n, entries, ..
        } = &r.event
        else {
            continue;
        };
        if n != name {
            continue;
        }
        for e in entries {
            t.row(vec![
                e.set.to_string(),
                e.way.to_string(),
                format!("{:#x}", e.va),
                format!("{:#x}", e.pa),
                e.size.to_string(),
                e.asid.to_string(),
                owners
                    .get(&e.asid)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                e.global.to_string(),
                e.perms.clone(),
                e.seg.map(|s| s.to_string()).unwrap_or_default(),
            ]);
        }
    }
    t
}

/// Draws a TLB; `prefix` makes the drawing's ids unique.
pub fn draw(m: &TlbModel, prefix: &str) -> String {
    let (cw, ch) = (210.0, 30.0);
    let x0 = 60.0;
    let ways = m.rows.first().map_or(1, |r| r.len()).max(1);
    // A set of many ways (a fully associative TLB is one set) wraps into lines of at most
    // `per` ways, so the figure stays readable on a page.
    let per = ways.min(8);
    let lines = ways.div_ceil(per);
    let width = (x0 + per as f64 * cw + 20.0).max(480.0);
    let mut g = Svg::new(prefix, width, 100.0, &format!("{} at the end", m.name));
    g.text(
        8.0,
        16.0,
        &format!(
            "{}: {} × {}, {} valid {} at the end",
            m.name,
            plural(m.sets, "set"),
            plural(m.ways, "way"),
            m.valid,
            if m.valid == 1 { "entry" } else { "entries" }
        ),
        12.0,
        Anchor::Start,
        true,
    );
    let y0 = 40.0;
    for w in 0..per {
        g.text(
            x0 + w as f64 * cw + cw / 2.0,
            y0 - 6.0,
            &if lines > 1 {
                format!("ways {w}, {}, …", w + per)
            } else {
                format!("way {w}")
            },
            10.0,
            Anchor::Middle,
            false,
        );
    }
    let set_h = lines as f64 * ch + if lines > 1 { 6.0 } else { 0.0 };
    for (s, row) in m.rows.iter().enumerate() {
        let top = y0 + s as f64 * set_h;
        g.text(
            x0 - 6.0,
            top + ch / 2.0 + 4.0,
            &format!("set {s}"),
            10.0,
            Anchor::End,
            false,
        );
        for (w, way) in row.iter().enumerate() {
            let x = x0 + (w % per) as f64 * cw;
            let y = top + (w / per) as f64 * ch;
            match &way.entry {
                None => g.rect(
                    x,
                    y,
                    cw,
                    ch,
                    FREE,
                    Some(GRID),
                    Some(&format!("set {s} way {w}: empty")),
                ),
                Some(e) => {
                    let owner = match e.pid {
                        Some(p) => format!("process {p}"),
                        None if e.global => "global".into(),
                        None => "unknown process".into(),
                    };
                    let tip = format!(
                        "set {s} way {w}: va {:#x} → pa {:#x}, {} page, ASID {} ({owner}){}, perms {}{}",
                        e.va,
                        e.pa,
                        bytes(e.size),
                        e.asid,
                        if e.global { ", global" } else { "" },
                        e.perms,
                        e.seg.map(|x| format!(", segment {x}")).unwrap_or_default()
                    );
                    g.open_group(None, Some(&tip));
                    g.rect(x, y, cw, ch, FREE, Some(INK), None);
                    // The owner's colour as a stripe, so the text stays on white.
                    let stripe = e.pid.map_or(GRID, process_colour);
                    g.rect(x, y, 7.0, ch, stripe, Some(INK), None);
                    g.text(
                        x + 11.0,
                        y + 12.0,
                        &format!("{:#x}→{:#x}", e.va, e.pa),
                        10.0,
                        Anchor::Start,
                        false,
                    );
                    g.text(
                        x + 11.0,
                        y + 25.0,
                        &format!(
                            "ASID {}{} {} {}{}",
                            e.asid,
                            if e.global { " G" } else { "" },
                            bytes(e.size),
                            e.perms,
                            e.pid.map(|p| format!(" P{p}")).unwrap_or_default()
                        ),
                        10.0,
                        Anchor::Start,
                        false,
                    );
                    g.close_group();
                }
            }
        }
    }
    let mut y = y0 + m.rows.len() as f64 * set_h + 16.0;
    if m.sets > m.rows.len() as u64 || m.hidden > 0 {
        g.text(
            8.0,
            y,
            &format!(
                "only the first {} and {} are drawn; {} valid {} not shown",
                plural(m.rows.len() as u64, "set"),
                plural(ways as u64, "way"),
                m.hidden,
                if m.hidden == 1 { "entry" } else { "entries" }
            ),
            11.0,
            Anchor::Start,
            false,
        );
        y += 16.0;
    }
    g.text(
        8.0,
        y,
        "the stripe: the owner process's colour (grey: global or unknown ASID); G = global",
        10.0,
        Anchor::Start,
        false,
    );
    g.set_height(y + 10.0);
    g.finish()
}

/// `n` and the noun, plural when `n` is not 1 (`1 set`, `4 sets`).
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::run::state::tests as st;

    #[test]
    fn dtlb() {
        let t = st::trace("vm-paging", st::PAGING_MACHINE, st::PAGING);
        let ms = models(&t);
        assert_eq!(ms.len(), 1);
        insta::assert_json_snapshot!("tlb_dtlb", ms[0]);
        let svg = draw(&ms[0], "tlb-dtlb");
        let d = roxmltree::Document::parse(&svg).unwrap();
        let empty = d
            .descendants()
            .filter(|n| n.has_tag_name("title") && n.text().is_some_and(|x| x.ends_with("empty")))
            .count();
        assert_eq!(empty, 2);
        assert!(svg.contains("0x10000→0x80002000"));
        assert!(svg.contains("ASID 9 G 2 MiB"));
        assert_eq!(table("dtlb", &t).rows.len(), 2);
        // Odd sizes: no sets, entries out of range.
        let m = model("x", 0, 0, &[], &BTreeMap::new());
        roxmltree::Document::parse(&draw(&m, "x")).unwrap();
    }
}
