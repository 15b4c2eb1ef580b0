//! The memory figures of a run's report, all from one replay of the trace: physical memory
//! over time (and its fragmentation, for the contiguous schemes), each process's address
//! space, its page table, segment table or base and bounds, and the TLBs at the end.
//!
//! A figure that changes over the run gets a drawing at each moment where what it shows
//! changed (the page shows the latest drawing at or before the slider's moment); a moment
//! that changed nothing it shows reuses the previous drawing.

use super::state::{is_paging, processes, replay, State};
use super::{memory, space, tables, tlb, Moments};
use crate::pictures::html::{Figure, Moment, Section, Table};
use crate::pictures::trace::{Event, Trace};
use std::collections::{BTreeMap, BTreeSet};

/// A figure built moment by moment: its drawings and the model of the last one.
struct Frames<M> {
    frames: Vec<(usize, String)>,
    last: Option<M>,
}

impl<M: PartialEq> Frames<M> {
    fn new() -> Frames<M> {
        Frames {
            frames: Vec::new(),
            last: None,
        }
    }

    /// Adds the drawing of `m` at moment `k` unless it shows what the previous one did.
    fn push(&mut self, k: usize, m: M, draw: impl FnOnce(&M) -> String) {
        if self.last.as_ref() == Some(&m) {
            return;
        }
        self.frames.push((k, draw(&m)));
        self.last = Some(m);
    }
}

/// About the most frame-grid cells the memory figure's drawings hold together.
const MEMORY_BUDGET: u64 = 1 << 15;

/// About the most cells an area of an address-space figure holds over all its drawings.
const SPACE_BUDGET: u64 = 1 << 13;

fn contiguous(scheme: &str) -> bool {
    !is_paging(scheme)
}

/// The numbers behind the memory figure at a moment: every frame that holds something
/// (paging), or every placed block.
fn memory_numbers(s: &State) -> Table {
    if !s.frames.is_empty() || s.blocks.is_empty() {
        let mut t = Table::new(
            "frames",
            &["frame", "holds", "process", "page", "area", "mappings"],
        );
        for (pa, f) in &s.frames {
            let area = match (f.pid, f.va) {
                (Some(p), Some(v)) => s
                    .layouts
                    .get(&p)
                    .and_then(|a| a.iter().find(|x| (x.start..x.end).contains(&v)))
                    .map_or(String::new(), |x| x.kind.clone()),
                _ => String::new(),
            };
            t.row(vec![
                format!("{pa:#x}"),
                f.holds.clone(),
                f.pid.map_or(String::new(), |p| p.to_string()),
                f.va.map_or(String::new(), |v| format!("{v:#x}")),
                area,
                f.maps.to_string(),
            ]);
        }
        t
    } else {
        let mut t = Table::new("blocks", &["base", "size", "process", "what"]);
        for (base, b) in &s.blocks {
            t.row(vec![
                format!("{base:#x}"),
                b.size.to_string(),
                b.pid.to_string(),
                b.what.clone(),
            ]);
        }
        t
    }
}

/// The numbers behind a process's address space at a moment: its areas, with how many of
/// their pages are resident and swapped out (paging).
fn space_numbers(s: &State, pid: u32) -> Table {
    let mut t = Table::new(
        "areas",
        &[
            "area",
            "start",
            "end",
            "perms",
            "resident pages",
            "swapped-out pages",
        ],
    );
    for a in s.layouts.get(&pid).into_iter().flatten() {
        let (lo, hi) = ((pid, a.start), (pid, a.end));
        let resident = if a.start < a.end {
            s.pages.range(lo..hi).count()
        } else {
            0
        };
        let swapped = if a.start < a.end {
            s.swapped.range(lo..hi).count()
        } else {
            0
        };
        t.row(vec![
            a.kind.clone(),
            format!("{:#x}", a.start),
            format!("{:#x}", a.end),
            a.perms.clone(),
            resident.to_string(),
            swapped.to_string(),
        ]);
    }
    t
}

/// The memory sections of the report of `trace`, at the slider's `moments`.
pub fn sections(trace: &Trace, moments: &Moments) -> Vec<Section> {
    let scheme = trace.machine.scheme.clone();
    let paging = is_paging(&scheme);
    // No moments (an empty run): one, at the end.
    let single;
    let moments = if moments.is_empty() {
        single = Moments {
            list: vec![(
                trace.records.len().saturating_sub(1),
                Moment {
                    cycle: trace.end_cycle(),
                    label: "the end".into(),
                },
            )],
            busiest: 0,
        };
        &single
    } else {
        moments
    };
    let procs = processes(trace);
    // Which processes get a table figure: under paging those with page-table entries, else
    // those that were placed in memory.
    let mut with_table = BTreeSet::new();
    for r in &trace.records {
        match &r.event {
            Event::Pte { pid, .. } if paging => {
                with_table.insert(*pid);
            }
            Event::Place { pid, .. } if !paging => {
                with_table.insert(*pid);
            }
            _ => {}
        }
    }
    let mut mem = Frames::new();
    let mut spaces: BTreeMap<u32, Frames<space::SpaceModel>> =
        procs.keys().map(|p| (*p, Frames::new())).collect();
    let mut tabs: BTreeMap<u32, Frames<tables::TableModel>> =
        with_table.iter().map(|p| (*p, Frames::new())).collect();
    let mut final_tables: BTreeMap<u32, Table> = BTreeMap::new();
    let mut memory_table: Option<Table> = None;
    let mut space_tables: BTreeMap<u32, Table> = BTreeMap::new();
    // The numbers of each table: at the moment the page opens at.
    let table_k = moments.busiest.min(moments.len().saturating_sub(1));
    let at_open = moments.list.get(table_k).map_or(String::new(), |(_, m)| {
        format!(
            "at moment {} (cycle {}), where the page opens",
            table_k + 1,
            m.cycle
        )
    });
    // The page's size: a figure redrawn at many moments gets coarser cells (the same for
    // all its drawings), so its drawings together hold about `BUDGET` cells.
    let n = moments.len().max(1) as u64;
    let mem_cells = (MEMORY_BUDGET / n).clamp(256, memory::MAX_CELLS);
    let area_cells = (SPACE_BUDGET / n).clamp(64, space::MAX_AREA_CELLS);
    replay(trace, moments, |k, s: &State, ch| {
        if k == 0 || ch.memory {
            mem.push(k, memory::model_capped(s, mem_cells), |m| {
                memory::draw(m, &format!("memory-f{k}"))
            });
        }
        for (pid, f) in spaces.iter_mut() {
            if k == 0 || ch.spaces.contains(pid) {
                f.push(k, space::model_capped(s, *pid, area_cells), |m| {
                    space::draw(m, &format!("space-{pid}-f{k}"))
                });
            }
        }
        for (pid, f) in tabs.iter_mut() {
            if k == 0 || ch.tables.contains(pid) {
                f.push(k, tables::model(s, *pid), |m| {
                    tables::draw(m, &format!("table-{pid}-f{k}"))
                });
            }
            if k == table_k {
                final_tables.insert(*pid, tables::entries_table(s, *pid));
            }
        }
        if k == table_k {
            memory_table = Some(memory_numbers(s));
            for pid in procs.keys() {
                space_tables.insert(*pid, space_numbers(s, *pid));
            }
        }
    });
    let name = |pid: u32| match procs.get(&pid).map(String::as_str) {
        Some(n) if !n.is_empty() => format!("process {pid} ({n})"),
        _ => format!("process {pid}"),
    };
    let mut out = Vec::new();

    // Physical memory.
    let mut figs = vec![Figure {
        id: "memory".into(),
        caption: if paging {
            "User memory frame by frame at the chosen moment: each cell a frame (its address at \
             the start of each row), coloured by the process that owns it and patterned by the \
             area its page belongs to (a grid pattern: a page table); dark: the kernel, grey: \
             the page cache, white: free; a thick outline marks a frame shared by several \
             mappings. Hover a cell for its address, owner, area, page and sharing."
                .into()
        } else {
            "User memory as one bar at the chosen moment: each block (partition, block or \
             segment) coloured by its owner and patterned by its segment's area; white: holes; \
             a dashed white tail inside a block is space it holds but does not use. At a moment \
             that compacted memory, dashed outlines above the bar mark the moved blocks' old \
             places, each with a line to its new one."
                .into()
        },
        frames: mem.frames,
        tables: memory_table.into_iter().collect(),
    }];
    if contiguous(&scheme) {
        let pts = memory::fragmentation(trace);
        let mut f = Figure::fixed(
            "fragmentation",
            "Fragmentation over the whole run (x: cycle). External: the free bytes in holes, \
             the largest hole and the number of holes (under fixed partitions a hole is a free \
             partition). Internal: bytes inside placed partitions, blocks or segments that their \
             process does not use — the placed block's size minus the process's need, where the \
             need is the size the kernel placed when smaller than the partition, else the total \
             size of the process's areas (of the segment's areas, for a segment); a block whose \
             process has no known areas counts as fully used.",
            memory::draw_fragmentation(&pts, "fragmentation"),
        );
        f.tables.push(memory::fragmentation_table(&pts));
        figs.push(f);
    }
    out.push(Section {
        id: "memory".into(),
        title: "Physical memory".into(),
        intro: format!(
            "Who holds user memory ({}), moment by moment: move the slider to see it change.",
            scheme
        ),
        figures: figs,
    });

    // Address spaces.
    if !spaces.is_empty() {
        let figures = spaces
            .into_iter()
            .map(|(pid, f)| Figure {
                id: format!("space-{pid}"),
                caption: if paging {
                    format!(
                        "The address space of {}: its areas from text (bottom, low addresses) to \
                         the stack (top), each cell a page (or several, as marked) — filled: \
                         resident; thick outline: in a shared frame; grey and crossed: swapped \
                         out (evicted, not yet faulted back); white: never touched. The gaps \
                         between areas are not to scale: a zigzag marks each, with its size.",
                        name(pid)
                    )
                } else {
                    format!(
                        "The address space of {}: its areas from text (bottom) to the stack \
                         (top), each marked placed in memory (filled), swapped out (grey, \
                         crossed) or not placed (white). Gaps between areas are compressed.",
                        name(pid)
                    )
                },
                frames: f.frames,
                tables: space_tables.remove(&pid).into_iter().collect(),
            })
            .collect();
        out.push(Section {
            id: "spaces".into(),
            title: "Address spaces".into(),
            intro: "Each process's areas and where their pages are at the chosen moment.".into(),
            figures,
        });
    }

    // Tables.
    if !tabs.is_empty() {
        let what = if paging {
            "page table"
        } else if scheme.ends_with("segmentation") {
            "segment table"
        } else {
            "base and bounds registers"
        };
        let figures = tabs
            .into_iter()
            .map(|(pid, f)| Figure {
                id: format!("table-{pid}"),
                caption: if paging {
                    format!(
                        "The page table of {} at the chosen moment, rebuilt from the entries the \
                         kernel wrote: levels left to right, each table listing its valid \
                         entries (index, virtual address, target, flags rwxugad) with a line to \
                         the table an entry points to; runs of invalid entries are collapsed, \
                         at most {} entries are drawn per table; ★ marks a superpage. The \
                         numbers: every valid entry {at_open}.",
                        name(pid),
                        tables::MAX_SHOWN
                    )
                } else {
                    format!(
                        "The {what} of {} at the chosen moment. The numbers: {at_open}.",
                        name(pid)
                    )
                },
                frames: f.frames,
                tables: final_tables.remove(&pid).into_iter().collect(),
            })
            .collect();
        out.push(Section {
            id: "tables".into(),
            title: if paging {
                "Page tables".into()
            } else if scheme.ends_with("segmentation") {
                "Segment tables".into()
            } else {
                "Base and bounds".into()
            },
            intro: format!("How each process's addresses are translated: its {what}."),
            figures,
        });
    }

    // TLBs.
    let tlbs = tlb::models(trace);
    if !tlbs.is_empty() {
        let mut seen = BTreeSet::new();
        let figures = tlbs
            .iter()
            .filter(|m| seen.insert(m.name.clone()))
            .map(|m| {
                let id = format!("tlb-{}", m.name);
                let mut f = Figure::fixed(
                    &id,
                    &format!(
                        "The {} at the end of the run: each set a row, each way a cell; a valid \
                         entry shows its page's virtual → physical address, ASID (G: global), \
                         page size and permissions, with a stripe in its process's colour when \
                         its ASID is known; empty ways are blank.",
                        m.name
                    ),
                    tlb::draw(m, &id),
                );
                f.tables.push(tlb::table(&m.name, trace));
                f
            })
            .collect();
        out.push(Section {
            id: "tlbs".into(),
            title: "TLBs at the end".into(),
            intro: "What the translation caches held when the run ended.".into(),
            figures,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::run::moments;
    use crate::pictures::run::state::tests as st;

    fn ids(s: &[Section]) -> Vec<String> {
        s.iter()
            .flat_map(|s| s.figures.iter().map(|f| f.id.clone()))
            .collect()
    }

    /// Every drawing parses, and no id repeats across the page's drawings.
    fn check(s: &[Section]) {
        let mut all = BTreeSet::new();
        for f in s.iter().flat_map(|s| s.figures.iter()) {
            assert!(!f.frames.is_empty(), "{}", f.id);
            assert!(f.frames.windows(2).all(|w| w[0].0 < w[1].0));
            for (_, svg) in &f.frames {
                let d = roxmltree::Document::parse(svg).unwrap();
                for n in d.descendants() {
                    if let Some(id) = n.attribute("id") {
                        assert!(all.insert(id.to_string()), "{id} twice");
                    }
                }
            }
        }
    }

    #[test]
    fn paging_sections() {
        let t = st::trace("vm-paging", st::PAGING_MACHINE, st::PAGING);
        let m = moments(&t, 100);
        let s = sections(&t, &m);
        assert_eq!(
            ids(&s),
            vec!["memory", "space-1", "space-2", "table-1", "tlb-dtlb"]
        );
        check(&s);
        let frames: Vec<usize> = s[0].figures[0].frames.iter().map(|f| f.0).collect();
        insta::assert_json_snapshot!("sections_paging_memory_frames", frames);
    }

    #[test]
    fn every_scheme() {
        for (scheme, extra, body) in [
            (
                "dynamic-partitions",
                r#","user_bytes":4096"#,
                super::super::memory::tests::DYNAMIC,
            ),
            (
                "simple-segmentation",
                r#","user_bytes":65536"#,
                st::SEGMENTS,
            ),
            ("vm-segmentation", r#","user_bytes":65536"#, st::SEGMENTS),
            ("simple-paging", st::PAGING_MACHINE, st::PAGING),
            (
                "fixed-partitions",
                r#","user_bytes":4096,"partitions":[{"base":"0x80000000","size":4096}]"#,
                r#"{"cycle":1,"event":"place","pid":1,"what":"partition","base":"0x80000000","size":4096}
{"cycle":2,"event":"end","status":0}"#,
            ),
        ] {
            let t = st::trace(scheme, extra, body);
            let s = sections(&t, &moments(&t, 100));
            check(&s);
            let ids = ids(&s);
            assert_eq!(ids[0], "memory");
            if !is_paging(scheme) {
                assert_eq!(ids[1], "fragmentation");
            }
            assert!(ids.contains(&"table-1".to_string()), "{scheme}: {ids:?}");
        }
    }

    #[test]
    fn sparse_traces() {
        // Nothing but the end: a memory figure, no processes, no tables.
        let t = st::trace(
            "vm-paging",
            r#","user_bytes":8192"#,
            r#"{"cycle":2,"event":"end","status":0}"#,
        );
        let s = sections(&t, &moments(&t, 100));
        assert_eq!(ids(&s), vec!["memory"]);
        check(&s);
        let s = sections(&t, &Moments::default());
        check(&s);
        // Processes but no `pte` records: no page-table figure.
        let t = st::trace(
            "vm-paging",
            r#","user_bytes":8192"#,
            r#"{"cycle":1,"event":"spawn","pid":3,"name":"x"}
{"cycle":1,"event":"frame","pa":"0x80000000","holds":"page","pid":3,"va":"0x1000"}
{"cycle":2,"event":"end","status":0}"#,
        );
        let s = sections(&t, &moments(&t, 100));
        assert_eq!(ids(&s), vec!["memory", "space-3"]);
        check(&s);
    }

    /// A big paging run (100,000 frames, 300,000 records) replays once: every drawing is
    /// capped, and the page stays a few megabytes.
    #[test]
    fn big_run_stays_small() {
        use std::fmt::Write;
        let frames = 100_000u64;
        let mut body = String::new();
        let _ = writeln!(
            body,
            r#"{{"cycle":1,"event":"spawn","pid":1,"name":"big"}}"#
        );
        let _ = writeln!(
            body,
            r#"{{"cycle":1,"event":"layout","pid":1,"areas":[{{"kind":"heap","start":"0x100000","end":"{:#x}","perms":"rw-"}}]}}"#,
            0x10_0000 + frames * 4096
        );
        for i in 0..frames {
            let pa = 0x8000_0000 + i * 4096;
            let va = 0x10_0000 + i * 4096;
            let c = 2 + i;
            let _ = writeln!(
                body,
                r#"{{"cycle":{c},"event":"frame","pa":"{pa:#x}","holds":"page","pid":1,"va":"{va:#x}"}}"#
            );
            let _ = writeln!(
                body,
                r#"{{"cycle":{c},"event":"pte","pid":1,"level":2,"va":"{va:#x}","span":4096,"at":"{:#x}","value":"0x1","kind":"leaf","target":"{pa:#x}","flags":"rw-u-a-"}}"#,
                0x1_0000_0000u64 + i * 8
            );
            if i % 2 == 1 {
                let _ = writeln!(
                    body,
                    r#"{{"cycle":{c},"event":"evict","pid":1,"va":"{va:#x}","pa":"{pa:#x}","dirty":false}}"#
                );
            }
        }
        let _ = write!(
            body,
            r#"{{"cycle":{},"event":"end","status":0}}"#,
            frames + 10
        );
        let t = st::trace(
            "vm-paging",
            &format!(
                r#","page_size":4096,"format":"sv39","table_bytes":4096,"levels":3,"user_bytes":{},"frames":{frames}"#,
                frames * 4096
            ),
            &body,
        );
        let m = moments(&t, 120);
        let s = sections(&t, &m);
        let size: usize = s
            .iter()
            .flat_map(|s| s.figures.iter())
            .flat_map(|f| f.frames.iter())
            .map(|(_, svg)| svg.len())
            .sum();
        assert!(size < 12 << 20, "{size} bytes of SVG");
        let table = &s[2].figures[0].tables[0];
        assert_eq!(table.rows.len(), frames as usize);
    }

    /// Odd values (huge addresses and sizes, inverted areas, a table pointing to itself,
    /// entries at absurd levels, TLB entries outside their sets) never panic, in any scheme.
    #[test]
    fn odd_values_never_panic() {
        let body = r#"{"cycle":1,"event":"spawn","pid":4294967295,"name":"<&>"}
{"cycle":1,"event":"layout","pid":4294967295,"areas":[{"kind":"weird","start":"0xffffffffffffffff","end":"0x0","perms":""},{"kind":"stack","start":"0x0","end":"0xffffffffffffffff","perms":"rw-"}]}
{"cycle":1,"event":"space","pid":4294967295,"asid":18446744073709551615,"root":"0xfffffffffffff000"}
{"cycle":1,"event":"pte","pid":4294967295,"level":18446744073709551615,"va":"0xffffffffffffffff","span":18446744073709551615,"at":"0xfffffffffffff000","value":"0x1","kind":"table","target":"0xfffffffffffff000"}
{"cycle":1,"event":"pte","pid":4294967295,"level":0,"va":"0x0","span":0,"at":"0xfffffffffffffff8","value":"0x1","kind":"leaf","target":"0xffffffffffffffff","flags":"rwxugad"}
{"cycle":2,"event":"frame","pa":"0xffffffffffffffff","holds":"page","pid":4294967295,"va":"0xffffffffffffffff","maps":18446744073709551615}
{"cycle":2,"event":"place","pid":4294967295,"what":"stack","base":"0xfffffffffffffff0","size":18446744073709551615}
{"cycle":2,"event":"place","pid":1,"what":"block","base":"0x0","size":0}
{"cycle":3,"event":"evict","pid":4294967295,"va":"0x0","pa":"0xfffffffffffffff0","dirty":true}
{"cycle":3,"event":"compact","moves":1,"bytes":1,"blocks":[{"pid":7,"what":"block","from":"0x1","to":"0xffffffffffffffff","size":18446744073709551615}]}
{"cycle":3,"event":"release","pid":9,"what":"block","base":"0x5","size":1}
{"cycle":4,"event":"tlb","name":"l2tlb","sets":18446744073709551615,"ways":0,"entries":[{"set":99999,"way":99,"va":"0x0","pa":"0x0","size":0,"asid":1,"global":false,"perms":""},{"set":0,"way":0,"va":"0xffffffffffffffff","pa":"0xffffffffffffffff","size":18446744073709551615,"asid":18446744073709551615,"global":true,"perms":"rwxu","seg":3}]}
{"cycle":4,"event":"exit","pid":4294967295,"code":1}
{"cycle":5,"event":"end","status":0}"#;
        for scheme in [
            "fixed-partitions",
            "dynamic-partitions",
            "simple-segmentation",
            "vm-segmentation",
            "simple-paging",
            "vm-paging",
            "",
        ] {
            for extra in [
                r#","user_base":"0xffffffffffff0000","user_bytes":18446744073709551615,"page_size":1,"table_bytes":1,"levels":18446744073709551615,"frames":18446744073709551615,"format":"sv32","partitions":[{"base":"0xffffffffffffffff","size":18446744073709551615},{"base":"0x0","size":0}]"#,
                r#","user_bytes":0,"page_size":0,"table_bytes":0,"levels":0,"frames":0"#,
            ] {
                let text = format!(
                    r#"{{"cycle":0,"event":"machine","version":1,"scheme":"{scheme}"{extra}}}"#
                );
                let t = crate::pictures::trace::parse("t", &format!("{text}\n{body}")).unwrap();
                for cap in [1, 3, 100] {
                    let s = sections(&t, &moments(&t, cap));
                    check(&s);
                }
            }
        }
    }
}
