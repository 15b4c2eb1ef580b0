//! The frame table: one record per physical frame of user memory, as Linux keeps a
//! `struct page` per frame.
//!
//! A record says what the frame holds now (nothing, a process page, a page table, the
//! kernel's own data), every mapping of it (the reverse map: which address space maps it at
//! which page), how many references hold it, and whether a disk transfer is using it. The
//! paging schemes keep it; it answers the questions replacement, write-back, and later
//! copy-on-write, shared memory and a page cache all ask: "whose frame is this", "may it be
//! reused now", "who must be told when its write-back ends".
//!
//! A frame under write-back keeps its bytes until the disk controller has copied them (the
//! controller reads RAM when the write *completes*), so it is never handed to another page
//! before then: [`FrameTable::writeback_begin`] and [`FrameTable::writeback_end`] bracket the
//! transfer, and a frame released meanwhile is parked ([`FrameTable::defer`]) until the end.

use crate::process::Pid;

/// What a frame holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Use {
    /// Nothing: the allocator has it.
    #[default]
    Free,
    /// Pages of processes (see the reverse map).
    Page,
    /// A page table of a process.
    Table {
        /// The process whose tables it is part of.
        pid: Pid,
    },
    /// The kernel's own data.
    Kernel,
    /// A page of the page cache (lent by the paging scheme; the cache's business until a
    /// process's fault reclaims it).
    Cache,
}

impl Use {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Use::Free => "free",
            Use::Page => "page",
            Use::Table { .. } => "page-table",
            Use::Kernel => "kernel",
            Use::Cache => "page-cache",
        }
    }
}

/// One frame's record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame<T> {
    /// What it holds.
    pub holds: Use,
    /// Every mapping of it: (address space, virtual page number).
    pub rmap: Vec<(u64, u64)>,
    /// References that keep it allocated (mappings, and transfers in flight).
    pub refs: u32,
    /// A transfer is filling it (a page-in): its bytes are not yet valid.
    pub busy: bool,
    /// Disk writes reading from it that have not completed.
    pub writeback: u32,
    /// What to do with the frame once its last write-back completes (it was released or
    /// given to another page meanwhile).
    pub deferred: Option<T>,
}

/// The frame table over frames `[first, first + count)` (frame numbers, not addresses).
#[derive(Clone, Debug)]
pub struct FrameTable<T> {
    first: u64,
    page_bits: u32,
    frames: Vec<Frame<T>>,
    /// The changes since the log was last drained (only while logging, for the trace).
    log: Option<Vec<FrameChange>>,
}

/// A frame as one change left it (the trace's `frame` event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameChange {
    /// The frame's physical address.
    pub pa: u64,
    /// What it holds now.
    pub holds: Use,
    /// Its first mapping, address space and page number (a page).
    pub first: Option<(u64, u64)>,
    /// How many mappings it has.
    pub maps: u32,
}

impl<T> FrameTable<T> {
    /// A table of `count` free frames from frame number `first`, with pages of
    /// `2^page_bits` bytes.
    pub fn new(first: u64, count: u64, page_bits: u32) -> FrameTable<T> {
        FrameTable {
            first,
            page_bits,
            frames: (0..count).map(|_| Frame::empty()).collect(),
            log: None,
        }
    }

    /// Starts (or stops) logging changes; starting logs every frame that is not free as
    /// it is now, so that replaying the log from an all-free table gives the table.
    pub fn set_log(&mut self, on: bool) {
        if !on {
            self.log = None;
            return;
        }
        let mut log = Vec::new();
        for i in 0..self.frames.len() {
            if self.frames[i].holds != Use::Free {
                log.push(self.change_at(i));
            }
        }
        self.log = Some(log);
    }

    /// The changes logged since the last call, oldest first.
    pub fn take_log(&mut self) -> Vec<FrameChange> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn change_at(&self, i: usize) -> FrameChange {
        let f = &self.frames[i];
        FrameChange {
            pa: (self.first + i as u64) << self.page_bits,
            holds: f.holds,
            first: f.rmap.first().copied(),
            maps: f.refs,
        }
    }

    /// Logs the frame at `pa` as it is now (when logging).
    fn note(&mut self, pa: u64) {
        if self.log.is_none() {
            return;
        }
        if let Some(i) = self.index(pa) {
            let c = self.change_at(i);
            if let Some(l) = self.log.as_mut() {
                l.push(c);
            }
        }
    }

    fn index(&self, pa: u64) -> Option<usize> {
        let n = (pa >> self.page_bits).checked_sub(self.first)?;
        (n < self.frames.len() as u64).then_some(n as usize)
    }

    /// The record of the frame at physical address `pa`, if it is a user frame.
    pub fn get(&self, pa: u64) -> Option<&Frame<T>> {
        self.frames.get(self.index(pa)?)
    }

    fn get_mut(&mut self, pa: u64) -> Option<&mut Frame<T>> {
        let i = self.index(pa)?;
        self.frames.get_mut(i)
    }

    /// The frame came from the allocator to hold `holds`.
    pub fn claim(&mut self, pa: u64, holds: Use) {
        if let Some(f) = self.get_mut(pa) {
            *f = Frame::empty();
            f.holds = holds;
        }
        self.note(pa);
    }

    /// The frame went back to the allocator.
    pub fn release(&mut self, pa: u64) {
        if let Some(f) = self.get_mut(pa) {
            *f = Frame::empty();
        }
        self.note(pa);
    }

    /// Page `vpn` of address space `space` maps the frame (a page frame).
    pub fn map(&mut self, pa: u64, space: u64, vpn: u64) {
        if let Some(f) = self.get_mut(pa) {
            f.holds = Use::Page;
            if !f.rmap.contains(&(space, vpn)) {
                f.rmap.push((space, vpn));
                f.refs += 1;
            }
        }
        self.note(pa);
    }

    /// Page `vpn` of address space `space` no longer maps the frame.
    pub fn unmap(&mut self, pa: u64, space: u64, vpn: u64) {
        if let Some(f) = self.get_mut(pa) {
            if let Some(i) = f.rmap.iter().position(|&m| m == (space, vpn)) {
                f.rmap.remove(i);
                f.refs = f.refs.saturating_sub(1);
            }
        }
        self.note(pa);
    }

    /// Marks the frame as being filled by a transfer (or not).
    pub fn set_busy(&mut self, pa: u64, busy: bool) {
        if let Some(f) = self.get_mut(pa) {
            f.busy = busy;
        }
    }

    /// A disk write from the frame started.
    pub fn writeback_begin(&mut self, pa: u64) {
        if let Some(f) = self.get_mut(pa) {
            f.writeback += 1;
        }
    }

    /// A disk write from the frame completed. Returns what was deferred until the frame's
    /// last write-back ended, if this was the last one.
    pub fn writeback_end(&mut self, pa: u64) -> Option<T> {
        let f = self.get_mut(pa)?;
        f.writeback = f.writeback.saturating_sub(1);
        if f.writeback == 0 {
            f.deferred.take()
        } else {
            None
        }
    }

    /// Whether a disk write is still reading the frame (it must not be reused).
    pub fn under_writeback(&self, pa: u64) -> bool {
        self.get(pa).is_some_and(|f| f.writeback > 0)
    }

    /// Parks `then` until the frame's write-backs end ([`FrameTable::writeback_end`] returns
    /// it). The caller checked [`FrameTable::under_writeback`].
    pub fn defer(&mut self, pa: u64, then: T) {
        if let Some(f) = self.get_mut(pa) {
            f.deferred = Some(then);
        }
    }

    /// The frames holding process pages, in address order, each with its first mapping.
    pub fn pages(&self) -> impl Iterator<Item = (u64, (u64, u64))> + '_ {
        self.frames.iter().enumerate().filter_map(move |(i, f)| {
            let m = *f.rmap.first()?;
            (f.holds == Use::Page).then_some(((self.first + i as u64) << self.page_bits, m))
        })
    }

    /// The first mapping of the frame at `pa` (its owner: address space and page), if it
    /// holds a page.
    pub fn owner(&self, pa: u64) -> Option<(u64, u64)> {
        self.get(pa).and_then(|f| f.rmap.first().copied())
    }

    /// How many mappings the frame at `pa` has (more than one: address spaces share it).
    pub fn maps(&self, pa: u64) -> u32 {
        self.get(pa).map_or(0, |f| f.refs)
    }

    /// Frames by what they hold: free, page, page-table, kernel, page cache.
    pub fn census(&self) -> [u64; 5] {
        let mut n = [0u64; 5];
        for f in &self.frames {
            let i = match f.holds {
                Use::Free => 0,
                Use::Page => 1,
                Use::Table { .. } => 2,
                Use::Kernel => 3,
                Use::Cache => 4,
            };
            n[i] += 1;
        }
        n
    }
}

impl<T> Frame<T> {
    fn empty() -> Frame<T> {
        Frame {
            holds: Use::Free,
            rmap: Vec::new(),
            refs: 0,
            busy: false,
            writeback: 0,
            deferred: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_frame_under_writeback_keeps_what_waits_for_it() {
        let mut t: FrameTable<&str> = FrameTable::new(0x80, 4, 12);
        let pa = 0x81 << 12;
        t.claim(pa, Use::Page);
        t.map(pa, 1, 5);
        assert_eq!(t.owner(pa), Some((1, 5)));
        t.writeback_begin(pa);
        t.writeback_begin(pa);
        assert!(t.under_writeback(pa));
        t.unmap(pa, 1, 5);
        t.defer(pa, "give it to (2, 7)");
        assert_eq!(t.writeback_end(pa), None, "one write is still reading it");
        assert_eq!(t.writeback_end(pa), Some("give it to (2, 7)"));
        assert!(!t.under_writeback(pa));
        // A frame outside the table has no record.
        assert!(t.get(0x84 << 12).is_none());
        assert!(t.get(0x7f << 12).is_none());
    }

    #[test]
    fn the_reverse_map_and_census() {
        let mut t: FrameTable<()> = FrameTable::new(0, 3, 12);
        t.claim(0x1000, Use::Page);
        t.map(0x1000, 1, 3);
        t.map(0x1000, 2, 9);
        t.map(0x1000, 2, 9);
        assert_eq!(t.get(0x1000).map(|f| f.refs), Some(2));
        t.claim(0x2000, Use::Table { pid: 1 });
        assert_eq!(t.census(), [1, 1, 1, 0, 0]);
        assert_eq!(t.pages().collect::<Vec<_>>(), vec![(0x1000, (1, 3))]);
        t.unmap(0x1000, 1, 3);
        assert_eq!(t.owner(0x1000), Some((2, 9)));
        t.release(0x1000);
        assert_eq!(t.census(), [2, 0, 1, 0, 0]);
    }

    /// The model of one frame [`FrameTable`] keeps: what it holds, its mappings in the
    /// order they came (the first is the owner), its write-backs and what waits for them.
    #[derive(Clone, Debug, Default)]
    struct ModelFrame {
        holds: Use,
        maps: Vec<(u64, u64)>,
        writeback: u32,
        deferred: Option<u64>,
    }

    /// Random sequences of claim, map, unmap, release and write-backs over a few frames
    /// (and addresses outside the table) against the model: after every operation each
    /// frame's references are its mappings, its owner is its first mapping still there,
    /// the census adds up to the table's size and counts what the model holds, `pages`
    /// lists exactly the page frames that have a mapping, and replaying the change log
    /// from an all-free table gives the table.
    #[test]
    fn random_operations_keep_the_table_as_the_model_says() {
        const FIRST: u64 = 0x80;
        const COUNT: u64 = 5;
        for seed in 0..300u64 {
            let mut rng = seed;
            let mut draw = |n: u64| crate::exec::splitmix64(&mut rng) % n;
            let mut t: FrameTable<u64> = FrameTable::new(FIRST, COUNT, 12);
            t.set_log(true);
            let mut log = Vec::new();
            let mut model = vec![ModelFrame::default(); COUNT as usize];
            for step in 0..200 {
                // Frame numbers one beyond each end of the table too: they have no record.
                let n = FIRST - 1 + draw(COUNT + 2);
                let pa = n << 12;
                let inside = (FIRST..FIRST + COUNT).contains(&n);
                let i = n.wrapping_sub(FIRST) as usize;
                let (space, vpn) = (draw(3), draw(3));
                let op = draw(8);
                match op {
                    0 => {
                        let holds = match draw(4) {
                            0 => Use::Page,
                            1 => Use::Table { pid: 7 },
                            2 => Use::Kernel,
                            _ => Use::Cache,
                        };
                        t.claim(pa, holds);
                        if inside {
                            model[i] = ModelFrame {
                                holds,
                                ..ModelFrame::default()
                            };
                        }
                    }
                    1 => {
                        t.release(pa);
                        if inside {
                            model[i] = ModelFrame::default();
                        }
                    }
                    2 | 3 => {
                        t.map(pa, space, vpn);
                        if inside {
                            model[i].holds = Use::Page;
                            if !model[i].maps.contains(&(space, vpn)) {
                                model[i].maps.push((space, vpn));
                            }
                        }
                    }
                    4 | 5 => {
                        t.unmap(pa, space, vpn);
                        if inside {
                            model[i].maps.retain(|&m| m != (space, vpn));
                        }
                    }
                    6 => {
                        t.writeback_begin(pa);
                        if inside {
                            model[i].writeback += 1;
                            if draw(2) == 0 {
                                t.defer(pa, step);
                                model[i].deferred = Some(step);
                            }
                        }
                    }
                    _ => {
                        let got = t.writeback_end(pa);
                        let want = if inside {
                            let m = &mut model[i];
                            m.writeback = m.writeback.saturating_sub(1);
                            if m.writeback == 0 {
                                m.deferred.take()
                            } else {
                                None
                            }
                        } else {
                            None
                        };
                        assert_eq!(got, want, "seed {seed} step {step}: writeback_end");
                    }
                }
                log.extend(t.take_log());
                let what = format!("seed {seed} step {step} op {op} frame {n:#x}");
                assert_eq!(t.get(pa).is_some(), inside, "{what}");
                let mut census = [0u64; 5];
                for (k, m) in model.iter().enumerate() {
                    let pa = (FIRST + k as u64) << 12;
                    let f = t.get(pa).expect("a record");
                    assert_eq!(f.holds, m.holds, "{what}: frame {k}");
                    assert_eq!(f.rmap, m.maps, "{what}: frame {k}'s mappings");
                    assert_eq!(f.refs as usize, m.maps.len(), "{what}: frame {k}'s refs");
                    assert_eq!(t.maps(pa) as usize, m.maps.len(), "{what}");
                    assert_eq!(t.owner(pa), m.maps.first().copied(), "{what}");
                    assert_eq!(t.under_writeback(pa), m.writeback > 0, "{what}");
                    assert_eq!(f.writeback, m.writeback, "{what}");
                    census[match m.holds {
                        Use::Free => 0,
                        Use::Page => 1,
                        Use::Table { .. } => 2,
                        Use::Kernel => 3,
                        Use::Cache => 4,
                    }] += 1;
                }
                assert_eq!(t.census(), census, "{what}");
                assert_eq!(t.census().iter().sum::<u64>(), COUNT, "{what}");
                let pages: Vec<(u64, (u64, u64))> = model
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.holds == Use::Page && !m.maps.is_empty())
                    .map(|(k, m)| ((FIRST + k as u64) << 12, m.maps[0]))
                    .collect();
                assert_eq!(t.pages().collect::<Vec<_>>(), pages, "{what}");
            }
            // The log replayed from an all-free table: each frame as the table has it.
            let mut replay: BTreeMap<u64, FrameChange> = BTreeMap::new();
            for c in log {
                replay.insert(c.pa, c);
            }
            for k in 0..COUNT {
                let pa = (FIRST + k) << 12;
                let f = t.get(pa).expect("a record");
                let (holds, first, maps) = replay
                    .get(&pa)
                    .map_or((Use::Free, None, 0), |c| (c.holds, c.first, c.maps));
                assert_eq!(holds, f.holds, "seed {seed}: replayed frame {k}");
                assert_eq!(
                    first,
                    f.rmap.first().copied(),
                    "seed {seed}: replayed frame {k}"
                );
                assert_eq!(maps, f.refs, "seed {seed}: replayed frame {k}");
            }
        }
    }
}
