//! The report of a hosted run (`vmlab run ... --report FILE.html`, `vmlab report TRACE`):
//! built from the trace alone.
//!
//! The page's slider stops at *moments*: points of the run just after memory changed (a
//! frame, a partition or a segment changed hands, an area grew, compaction moved blocks, a
//! process started or ended). Records at the same cycle are one moment. A run with more such
//! points than [`Options::moments`] gets that many, evenly spaced over them (the last point
//! always among them), so the page stays small however long the run.

pub mod curve;
pub mod header;
pub mod memfigs;
pub mod memory;
pub mod space;
pub mod state;
pub mod tables;
pub mod timefigs;
pub mod timeline;
pub mod tlb;

use super::html::Moment;
use super::trace::{Event, Record, Trace};

/// How a run's report is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The most moments the slider offers.
    pub moments: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { moments: 120 }
    }
}

/// The moments of the slider: each is the state after record `index` (inclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moments {
    /// `(index of the last record included, the moment)`, in order.
    pub list: Vec<(usize, Moment)>,
    /// The moment the page opens at: the last one with the most memory in use (at the end
    /// of a run every process has given its memory back, which is not worth a first look).
    pub busiest: usize,
}

impl Moments {
    /// How many.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Whether `e` changes what the memory figures show.
pub fn changes_memory(e: &Event) -> bool {
    matches!(
        e,
        Event::Frame { .. }
            | Event::Place { .. }
            | Event::Release { .. }
            | Event::Compact { .. }
            | Event::Evict { .. }
            | Event::Layout { .. }
            | Event::Pte { .. }
            | Event::Spawn { .. }
            | Event::Exit { .. }
            | Event::Kill { .. }
            | Event::End { .. }
    )
}

/// Says what `e` was, in a few words, for the slider.
pub fn describe(e: &Event) -> String {
    match e {
        Event::Frame {
            pa, holds, pid, va, ..
        } => match (pid, va) {
            (Some(p), Some(v)) => format!("frame {pa:#x} holds process {p}'s page {v:#x}"),
            (Some(p), None) => format!("frame {pa:#x} holds a {holds} of process {p}"),
            _ => format!("frame {pa:#x} is {holds}"),
        },
        Event::Place {
            pid,
            what,
            base,
            size,
        } => {
            format!("process {pid}'s {what} placed at {base:#x} ({size} bytes)")
        }
        Event::Release {
            pid, what, base, ..
        } => {
            format!("process {pid}'s {what} at {base:#x} released")
        }
        Event::Compact { moves, bytes, .. } => {
            format!("compaction moved {moves} blocks ({bytes} bytes)")
        }
        Event::Evict { pid, va, dirty, .. } => format!(
            "process {pid}'s page {va:#x} evicted{}",
            if *dirty { " (dirty: written out)" } else { "" }
        ),
        Event::Layout { pid, .. } => format!("process {pid}'s areas changed"),
        Event::Pte {
            pid,
            level,
            va,
            kind,
            ..
        } => {
            format!("process {pid}: level-{level} entry for {va:#x} now {kind}")
        }
        Event::Spawn { pid, name } => format!("process {pid} ({name}) created"),
        Event::Exit { pid, code } => format!("process {pid} exited ({code})"),
        Event::Kill { pid, cause, .. } => format!("process {pid} killed ({cause})"),
        Event::Fault {
            pid,
            va,
            access,
            kind,
        } => {
            format!("{kind} fault: process {pid} {access} at {va:#x}")
        }
        Event::End { reason, .. } => format!("the end: {reason}"),
        _ => "an event".into(),
    }
}

/// Chooses the slider's moments over `trace` (at most `cap`, at least one: the end).
pub fn moments(trace: &Trace, cap: usize) -> Moments {
    let recs: &[Record] = &trace.records;
    // Candidate points: the last memory-changing record of each cycle.
    let mut points: Vec<usize> = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        if !changes_memory(&r.event) {
            continue;
        }
        let same_cycle_follows = recs[i + 1..]
            .iter()
            .take_while(|n| n.cycle == r.cycle)
            .any(|n| changes_memory(&n.event));
        if !same_cycle_follows {
            points.push(i);
        }
    }
    if points.is_empty() && !recs.is_empty() {
        points.push(recs.len() - 1);
    }
    let cap = cap.max(1);
    let chosen: Vec<usize> = if points.len() <= cap {
        points
    } else {
        // Evenly spaced, the last always included.
        let n = points.len();
        let mut v: Vec<usize> = (0..cap)
            .map(|k| points[((k + 1) * n).div_ceil(cap) - 1])
            .collect();
        v.dedup();
        v
    };
    // Memory in use after each record: frames that hold something, and placed blocks.
    let busiest = {
        let mut used_frames: std::collections::BTreeSet<u64> = Default::default();
        let mut placed: std::collections::BTreeMap<(u32, u64), u64> = Default::default();
        let page = trace.machine.page_size.unwrap_or(4096);
        let mut best = (0u64, 0usize);
        let mut k = 0;
        for (i, r) in recs.iter().enumerate() {
            match &r.event {
                Event::Frame { pa, holds, .. } => {
                    if holds == "free" {
                        used_frames.remove(pa);
                    } else {
                        used_frames.insert(*pa);
                    }
                }
                Event::Place {
                    pid, base, size, ..
                } => {
                    placed.insert((*pid, *base), *size);
                }
                Event::Release { pid, base, .. } => {
                    placed.remove(&(*pid, *base));
                }
                Event::Compact { blocks, .. } => {
                    for b in blocks {
                        if let Some(s) = placed.remove(&(b.pid, b.from)) {
                            placed.insert((b.pid, b.to), s);
                        }
                    }
                }
                _ => {}
            }
            if chosen.get(k) == Some(&i) {
                let used = (used_frames.len() as u64)
                    .saturating_mul(page)
                    .saturating_add(placed.values().fold(0u64, |a, s| a.saturating_add(*s)));
                if used >= best.0 {
                    best = (used, k);
                }
                k += 1;
            }
        }
        best.1
    };
    let list = chosen
        .into_iter()
        .map(|i| {
            // Say what the cycle's most telling record was: a fault or the memory change.
            let cycle = recs[i].cycle;
            let first = recs[..=i]
                .iter()
                .rposition(|r| r.cycle != cycle)
                .map_or(0, |p| p + 1);
            let telling = recs[first..=i]
                .iter()
                .find(|r| {
                    matches!(
                        r.event,
                        Event::Fault { .. } | Event::Compact { .. } | Event::Spawn { .. }
                    )
                })
                .unwrap_or(&recs[i]);
            (
                i,
                Moment {
                    cycle,
                    label: describe(&telling.event),
                },
            )
        })
        .collect();
    Moments { list, busiest }
}

/// The report page of `trace`: the header, then memory (physical memory over time, the
/// address spaces, the tables, the TLBs), then time (timelines, fault rate) and the fault
/// curve.
pub fn build(trace: &Trace, opts: &Options) -> super::html::Page {
    let m = moments(trace, opts.moments);
    let mut page = super::html::Page::default();
    timefigs::header(trace, &mut page);
    page.moments = m.list.iter().map(|(_, x)| x.clone()).collect();
    page.current = m.busiest;
    page.sections = memfigs::sections(trace, &m);
    page.sections.extend(timefigs::sections(trace));
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::trace::parse;

    fn trace(body: &str) -> Trace {
        let head = r#"{"cycle":0,"event":"machine","version":1,"scheme":"vm-paging","policy":"fifo","user_base":"0x80000000","user_bytes":8192,"frames":2,"page_size":4096}"#;
        parse("t", &format!("{head}\n{body}")).unwrap()
    }

    #[test]
    fn one_moment_per_cycle_and_a_cap() {
        let t = trace(
            r#"{"cycle":1,"event":"spawn","pid":1,"name":"a"}
{"cycle":5,"event":"fault","pid":1,"va":"0x1000","access":"load","kind":"major"}
{"cycle":5,"event":"frame","pa":"0x80000000","holds":"page","pid":1,"va":"0x1000"}
{"cycle":5,"event":"pte","pid":1,"level":0,"va":"0x1000","span":4096,"at":"0x80001008","value":"0x1","kind":"leaf","target":"0x80000000","flags":"rw-u-a-"}
{"cycle":7,"event":"switch","to":1}
{"cycle":9,"event":"end","status":0}"#,
        );
        let m = moments(&t, 100);
        let idx: Vec<usize> = m.list.iter().map(|x| x.0).collect();
        assert_eq!(idx, vec![0, 3, 5]);
        assert_eq!(m.list[1].1.label, "major fault: process 1 load at 0x1000");
        let m = moments(&t, 2);
        assert_eq!(m.list.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 5]);
        let m = moments(&t, 1);
        assert_eq!(m.list.iter().map(|x| x.0).collect::<Vec<_>>(), vec![5]);
    }
}
