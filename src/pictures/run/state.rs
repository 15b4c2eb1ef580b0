//! The memory state of a run, rebuilt by replaying its trace: who holds each frame, which
//! blocks are placed where, each process's areas, page-table entries, evicted pages.
//!
//! [`State::apply`] takes one record at a time (the replay is a single pass over the trace);
//! [`replay`] calls back at each moment of the slider with the state just after that
//! moment's record, and with what changed since the previous moment, so a figure redraws
//! only when something it shows changed.

use super::Moments;
use crate::pictures::trace::{Area, Event, Machine, Move, Record, Trace};
use std::collections::{BTreeMap, BTreeSet};

/// What a frame of user memory holds (paging schemes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// `page`, `page-table`, `kernel`, `page-cache` (free frames are not kept).
    pub holds: String,
    /// Its owner.
    pub pid: Option<u32>,
    /// The page it holds (its first mapping).
    pub va: Option<u64>,
    /// Its mappings (1 unless shared).
    pub maps: u64,
}

/// A placed partition, block or segment (the contiguous schemes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Its owner.
    pub pid: u32,
    /// `partition`, `block`, or a segment's name.
    pub what: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A page-table entry as last written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pte {
    /// The process.
    pub pid: u32,
    /// Its level (0 = the root).
    pub level: u64,
    /// The first virtual address it covers.
    pub va: u64,
    /// The bytes it covers.
    pub span: u64,
    /// `invalid`, `table` or `leaf`.
    pub kind: String,
    /// The next table or the frame.
    pub target: Option<u64>,
    /// `rwxugad` flags (leaves).
    pub flags: String,
}

/// What became of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Created and not ended.
    Alive,
    /// Exited or killed.
    Ended,
}

/// The memory state at one point of the run.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The machine.
    pub machine: Machine,
    /// Non-free frames by physical address.
    pub frames: BTreeMap<u64, FrameInfo>,
    /// `(pid, page va)` → frame, from the frame records' first mappings and leaf entries.
    pub pages: BTreeMap<(u32, u64), u64>,
    /// Placed blocks by base.
    pub blocks: BTreeMap<u64, Block>,
    /// Each process's areas.
    pub layouts: BTreeMap<u32, Vec<Area>>,
    /// Each process's program name.
    pub names: BTreeMap<u32, String>,
    /// Each process's life.
    pub life: BTreeMap<u32, Life>,
    /// Page-table entries by their physical address.
    pub ptes: BTreeMap<u64, Pte>,
    /// Valid leaves by `(pid, va)`: `(frame, span, flags)`.
    pub leaves: BTreeMap<(u32, u64), (u64, u64, String)>,
    /// Each process's page-table root.
    pub roots: BTreeMap<u32, u64>,
    /// Each process's ASID.
    pub asids: BTreeMap<u32, u64>,
    /// Pages evicted and not brought back: `(pid, page va)`.
    pub swapped: BTreeSet<(u32, u64)>,
    /// Segments swapped out: `(pid, segment name)`.
    pub swapped_segments: BTreeSet<(u32, String)>,
    /// The compactions since the last moment.
    pub compactions: Vec<Move>,
}

/// What changed since the previous moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Physical memory (frames, blocks, or an owner's areas).
    pub memory: bool,
    /// The processes whose address space picture changed.
    pub spaces: BTreeSet<u32>,
    /// The processes whose page/segment table or registers changed.
    pub tables: BTreeSet<u32>,
}

impl Changes {
    fn touch(&mut self, pid: u32) {
        self.spaces.insert(pid);
        self.tables.insert(pid);
    }
}

/// Whether `scheme` is one of the paging schemes.
pub fn is_paging(scheme: &str) -> bool {
    scheme.ends_with("paging")
}

/// Whether `scheme` is one of the segmentation schemes.
pub fn is_segmentation(scheme: &str) -> bool {
    scheme.ends_with("segmentation")
}

impl State {
    /// The state before the first record.
    pub fn new(machine: &Machine) -> State {
        State {
            machine: machine.clone(),
            ..State::default()
        }
    }

    /// The page size (paging; 4096 when the machine record does not say).
    pub fn page_size(&self) -> u64 {
        self.machine.page_size.filter(|p| *p > 0).unwrap_or(4096)
    }

    /// The area of process `pid` holding `va`, if any.
    pub fn area_of(&self, pid: u32, va: u64) -> Option<&Area> {
        self.layouts
            .get(&pid)?
            .iter()
            .find(|a| a.start <= va && va < a.end)
    }

    /// The frame process `pid`'s page `va` is in, if resident (a leaf covering it, or a frame
    /// record naming it).
    pub fn resident(&self, pid: u32, va: u64) -> Option<u64> {
        if let Some(pa) = self.pages.get(&(pid, va)) {
            return Some(*pa);
        }
        let ((p, lva), (pa, span, _)) = self.leaves.range(..=(pid, va)).next_back()?;
        (*p == pid && va >= *lva && va - lva < *span).then(|| pa.saturating_add(va - lva))
    }

    /// Applies one record, noting in `ch` what it changed.
    pub fn apply(&mut self, r: &Record, ch: &mut Changes) {
        match &r.event {
            Event::Spawn { pid, name } => {
                self.names.insert(*pid, name.clone());
                self.life.insert(*pid, Life::Alive);
                ch.touch(*pid);
                ch.memory = true;
            }
            Event::Exit { pid, .. } | Event::Kill { pid, .. } => {
                self.life.insert(*pid, Life::Ended);
                self.swapped.retain(|(p, _)| p != pid);
                self.swapped_segments.retain(|(p, _)| p != pid);
                ch.touch(*pid);
                ch.memory = true;
            }
            Event::Layout { pid, areas } => {
                let mut a = areas.clone();
                a.sort_by_key(|x| (x.start, x.end));
                self.layouts.insert(*pid, a);
                self.life.entry(*pid).or_insert(Life::Alive);
                ch.touch(*pid);
                ch.memory = true;
            }
            Event::Space { pid, asid, root } => {
                if let Some(a) = asid {
                    self.asids.insert(*pid, *a);
                }
                if let Some(r) = root {
                    self.roots.insert(*pid, *r);
                }
                ch.tables.insert(*pid);
            }
            Event::Frame {
                pa,
                holds,
                pid,
                va,
                maps,
            } => {
                let same_table = holds == "page-table"
                    && self
                        .frames
                        .get(pa)
                        .is_some_and(|o| o.holds == "page-table" && o.pid == *pid);
                if let Some(old) = self.frames.remove(pa) {
                    if let Some(p) = old.pid {
                        if let Some(v) = old.va {
                            if self.pages.get(&(p, v)) == Some(pa) {
                                self.pages.remove(&(p, v));
                            }
                        }
                        ch.spaces.insert(p);
                    }
                }
                // A frame that stops being a table loses its entries. One that becomes a
                // table keeps what was written in it: its entries were dropped when it was
                // last freed, and the kernel's `frame` record can follow the first `pte`
                // writes into a new table (frame records are stamped when the kernel's call
                // returns, entries when they are written).
                let ps = self.page_size();
                let stale: Vec<u64> = if same_table || holds == "page-table" {
                    Vec::new()
                } else {
                    self.ptes
                        .range(*pa..pa.saturating_add(ps))
                        .map(|(at, _)| *at)
                        .collect()
                };
                for at in stale {
                    if let Some(e) = self.ptes.remove(&at) {
                        if e.kind == "leaf"
                            && self.leaves.get(&(e.pid, e.va)).map(|l| l.0) == e.target
                        {
                            self.leaves.remove(&(e.pid, e.va));
                        }
                        ch.tables.insert(e.pid);
                    }
                }
                if holds != "free" {
                    if let (Some(p), Some(v), "page") = (pid, va, holds.as_str()) {
                        self.pages.insert((*p, *v), *pa);
                        self.swapped.remove(&(*p, *v));
                    }
                    self.frames.insert(
                        *pa,
                        FrameInfo {
                            holds: holds.clone(),
                            pid: *pid,
                            va: *va,
                            maps: maps.unwrap_or(1).max(1),
                        },
                    );
                }
                if let Some(p) = pid {
                    ch.spaces.insert(*p);
                }
                ch.memory = true;
            }
            Event::Pte {
                pid,
                level,
                va,
                span,
                at,
                kind,
                target,
                flags,
                ..
            } => {
                self.ptes.insert(
                    *at,
                    Pte {
                        pid: *pid,
                        level: *level,
                        va: *va,
                        span: *span,
                        kind: kind.clone(),
                        target: *target,
                        flags: flags.clone().unwrap_or_default(),
                    },
                );
                if kind == "leaf" {
                    if let Some(t) = target {
                        self.leaves.insert(
                            (*pid, *va),
                            (*t, (*span).max(1), flags.clone().unwrap_or_default()),
                        );
                        self.swapped.remove(&(*pid, *va));
                    }
                } else {
                    self.leaves.remove(&(*pid, *va));
                }
                ch.touch(*pid);
            }
            Event::Place {
                pid,
                what,
                base,
                size,
            } => {
                self.blocks.insert(
                    *base,
                    Block {
                        pid: *pid,
                        what: what.clone(),
                        size: *size,
                    },
                );
                self.swapped_segments.remove(&(*pid, what.clone()));
                ch.touch(*pid);
                ch.memory = true;
            }
            Event::Release { pid, base, .. } => {
                if let Some(b) = self.blocks.get(base) {
                    if b.pid == *pid {
                        self.blocks.remove(base);
                    }
                }
                ch.touch(*pid);
                ch.memory = true;
            }
            Event::Compact { blocks, .. } => {
                // Take every moved block out first, then put each at its new place: moves
                // may overlap the old places of others.
                let mut moved = Vec::new();
                for m in blocks {
                    let b = self.blocks.remove(&m.from).unwrap_or(Block {
                        pid: m.pid,
                        what: m.what.clone(),
                        size: m.size,
                    });
                    moved.push((m.to, b));
                    ch.touch(m.pid);
                }
                for (to, b) in moved {
                    self.blocks.insert(to, b);
                }
                self.compactions.extend(blocks.iter().cloned());
                ch.memory = true;
            }
            Event::Evict { pid, va, pa, .. } => {
                if is_paging(&self.machine.scheme) {
                    self.swapped.insert((*pid, *va));
                } else {
                    // A segment left memory: name it from the block at its base.
                    let what = pa
                        .and_then(|b| self.blocks.get(&b))
                        .filter(|b| b.pid == *pid)
                        .map(|b| b.what.clone())
                        .or_else(|| self.area_of(*pid, *va).map(|a| a.kind.clone()));
                    if let Some(w) = what {
                        self.swapped_segments.insert((*pid, w));
                    }
                }
                ch.touch(*pid);
                ch.memory = true;
            }
            _ => {}
        }
    }
}

/// Replays `trace`, calling `at(k, state, changes)` at each moment `k` with the state just
/// after that moment's record and what changed since moment `k - 1` (everything, for the
/// first). The state's compactions are those since the previous moment.
pub fn replay(trace: &Trace, moments: &Moments, mut at: impl FnMut(usize, &State, &Changes)) {
    let mut s = State::new(&trace.machine);
    let mut ch = Changes {
        memory: true,
        ..Changes::default()
    };
    let mut next = 0;
    for (i, r) in trace.records.iter().enumerate() {
        if next >= moments.list.len() {
            break;
        }
        s.apply(r, &mut ch);
        while next < moments.list.len() && moments.list[next].0 <= i {
            at(next, &s, &ch);
            ch = Changes::default();
            s.compactions.clear();
            next += 1;
        }
    }
    // Moments past the last record (a malformed moment list): the final state.
    while next < moments.list.len() {
        at(next, &s, &ch);
        ch = Changes::default();
        next += 1;
    }
}

/// Every process the trace names (spawned, or with areas), in order of pid.
pub fn processes(trace: &Trace) -> BTreeMap<u32, String> {
    let mut m = BTreeMap::new();
    for r in &trace.records {
        match &r.event {
            Event::Spawn { pid, name } => {
                m.insert(*pid, name.clone());
            }
            Event::Layout { pid, .. } | Event::Place { pid, .. } | Event::Space { pid, .. } => {
                m.entry(*pid).or_insert_with(String::new);
            }
            _ => {}
        }
    }
    m
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pictures::run::moments;
    use crate::pictures::trace::parse;

    /// A trace of scheme `scheme` with `extra` machine fields and `body` records.
    pub fn trace(scheme: &str, extra: &str, body: &str) -> Trace {
        let head = format!(
            r#"{{"cycle":0,"event":"machine","version":1,"scheme":"{scheme}","policy":"fifo","user_base":"0x80000000"{extra}}}"#
        );
        parse("t", &format!("{head}\n{body}")).unwrap()
    }

    /// A paging run: a fault, a 2-level table, a shared frame, an eviction.
    pub const PAGING: &str = r#"{"cycle":1,"event":"spawn","pid":1,"name":"a"}
{"cycle":1,"event":"layout","pid":1,"areas":[{"kind":"text","start":"0x10000","end":"0x12000","perms":"r-x"},{"kind":"stack","start":"0x3fff000","end":"0x4000000","perms":"rw-"}]}
{"cycle":1,"event":"space","pid":1,"asid":1,"root":"0x80000000"}
{"cycle":1,"event":"frame","pa":"0x80000000","holds":"page-table","pid":1}
{"cycle":1,"event":"frame","pa":"0x80001000","holds":"page-table","pid":1}
{"cycle":1,"event":"pte","pid":1,"level":0,"va":"0x0","span":2097152,"at":"0x80000000","value":"0x20000401","kind":"table","target":"0x80001000"}
{"cycle":2,"event":"spawn","pid":2,"name":"b"}
{"cycle":2,"event":"layout","pid":2,"areas":[{"kind":"text","start":"0x10000","end":"0x11000","perms":"r-x"}]}
{"cycle":2,"event":"space","pid":2,"asid":2}
{"cycle":5,"event":"fault","pid":1,"va":"0x10000","access":"fetch","kind":"major"}
{"cycle":5,"event":"frame","pa":"0x80002000","holds":"page","pid":1,"va":"0x10000"}
{"cycle":5,"event":"pte","pid":1,"level":1,"va":"0x10000","span":4096,"at":"0x80001080","value":"0x2000080b","kind":"leaf","target":"0x80002000","flags":"r-xu-a-"}
{"cycle":6,"event":"frame","pa":"0x80002000","holds":"page","pid":1,"va":"0x10000","maps":2}
{"cycle":6,"event":"frame","pa":"0x80003000","holds":"page","pid":1,"va":"0x11000"}
{"cycle":6,"event":"pte","pid":1,"level":1,"va":"0x11000","span":4096,"at":"0x80001088","value":"0x20000c0b","kind":"leaf","target":"0x80003000","flags":"r-xu-a-"}
{"cycle":7,"event":"frame","pa":"0x80004000","holds":"kernel"}
{"cycle":8,"event":"evict","pid":1,"va":"0x11000","pa":"0x80003000","dirty":false,"for_pid":2}
{"cycle":8,"event":"pte","pid":1,"level":1,"va":"0x11000","span":4096,"at":"0x80001088","value":"0x0","kind":"invalid"}
{"cycle":8,"event":"frame","pa":"0x80003000","holds":"free"}
{"cycle":9,"event":"switch","to":1}
{"cycle":10,"event":"tlb","name":"dtlb","sets":2,"ways":2,"entries":[{"set":0,"way":1,"va":"0x10000","pa":"0x80002000","size":4096,"asid":1,"global":false,"perms":"r-xu"},{"set":1,"way":0,"va":"0x200000","pa":"0x80200000","size":2097152,"asid":9,"global":true,"perms":"rw--"}]}
{"cycle":10,"event":"end","status":0}"#;

    /// A segmentation run: two segments, the data segment swapped out.
    pub const SEGMENTS: &str = r#"{"cycle":1,"event":"spawn","pid":1,"name":"s"}
{"cycle":1,"event":"layout","pid":1,"areas":[{"kind":"text","start":"0x0","end":"0x1000","perms":"r-x"},{"kind":"data","start":"0x10000","end":"0x10800","perms":"rw-"}]}
{"cycle":1,"event":"place","pid":1,"what":"text","base":"0x80000000","size":4096}
{"cycle":1,"event":"place","pid":1,"what":"data","base":"0x80001000","size":2048}
{"cycle":3,"event":"evict","pid":1,"va":"0x10000","pa":"0x80001000","dirty":true,"for_pid":2}
{"cycle":3,"event":"release","pid":1,"what":"data","base":"0x80001000","size":2048}
{"cycle":4,"event":"end","status":0}"#;

    /// The machine fields of the paging run.
    pub const PAGING_MACHINE: &str = r#","page_size":4096,"format":"sv39","table_bytes":4096,"levels":2,"user_bytes":32768,"frames":8"#;

    #[test]
    fn paging_replay() {
        let t = trace("vm-paging", PAGING_MACHINE, PAGING);
        let m = moments(&t, 100);
        let mut seen = Vec::new();
        replay(&t, &m, |k, s, ch| {
            seen.push((
                k,
                s.frames.len(),
                s.swapped.len(),
                ch.memory,
                ch.spaces.iter().copied().collect::<Vec<_>>(),
            ));
            if k + 1 == m.len() {
                assert_eq!(s.resident(1, 0x10000), Some(0x8000_2000));
                assert_eq!(s.resident(1, 0x11000), None);
                assert!(s.swapped.contains(&(1, 0x11000)));
                assert_eq!(s.frames[&0x8000_2000].maps, 2);
                assert_eq!(s.asids.get(&2), Some(&2));
            }
        });
        assert_eq!(seen.len(), m.len());
        assert!(seen[0].3);
    }

    #[test]
    fn compaction_moves_blocks() {
        let t = trace(
            "dynamic-partitions",
            r#","user_bytes":4096"#,
            r#"{"cycle":1,"event":"place","pid":1,"what":"block","base":"0x80000400","size":1024}
{"cycle":2,"event":"compact","moves":1,"bytes":1024,"blocks":[{"pid":1,"what":"block","from":"0x80000400","to":"0x80000000","size":1024}]}
{"cycle":3,"event":"end","status":0}"#,
        );
        let m = moments(&t, 100);
        let mut last = None;
        replay(&t, &m, |_, s, _| {
            last = Some((
                s.blocks.keys().copied().collect::<Vec<_>>(),
                s.compactions.len(),
            ))
        });
        assert_eq!(last, Some((vec![0x8000_0000], 0)));
    }
}
