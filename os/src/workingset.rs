//! Denning's working set over a sliding window of references.
//!
//! The working set `W(t, w)` at time `t` with window `w` is the set of distinct pages among
//! the last `w` references, the reference at `t` included. [`WorkingSet`] follows it as
//! references arrive: after [`WorkingSet::reference`] has been called for references
//! `r_0, ..., r_t`, [`WorkingSet::size`] is the number of distinct pages among
//! `r_{t-w+1}, ..., r_t` (all of them while fewer than `w` references have been made). A
//! window of 0 holds nothing: the size is always 0.
//!
//! Worked example, window 3 over `1,2,1,3,4,4,4`:
//!
//! | reference | last 3 references | working set | size |
//! |-----------|-------------------|-------------|------|
//! | 1         | 1                 | {1}         | 1    |
//! | 2         | 1 2               | {1, 2}      | 2    |
//! | 1         | 1 2 1             | {1, 2}      | 2    |
//! | 3         | 2 1 3             | {1, 2, 3}   | 3    |
//! | 4         | 1 3 4             | {1, 3, 4}   | 3    |
//! | 4         | 3 4 4             | {3, 4}      | 2    |
//! | 4         | 4 4 4             | {4}         | 1    |
//!
//! Each page in the set has a slot holding the time of its latest reference, and a
//! min-heap holds one *registration* per page: a time at or before its latest reference.
//! A reference only writes the time into the page's slot (found through a four-entry list
//! of the most recent pages before the map: a program moves among few pages, so most
//! references are found there). When the earliest registration falls out of the window,
//! its page either left the window (it goes) or was referenced since (it registers again
//! with its latest time). A reference therefore costs O(1) amortised — a heap operation
//! only when a registration expires, once per page per window — and the memory held is
//! proportional to the working-set size, not to the window.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::replace::{KeyMap, PageKey};

/// How many recently referenced pages are checked before the map.
pub const RECENT: usize = 4;

/// In [`WorkingSet::batch`]: the page was not referenced in the batch.
pub const NOT_IN_BATCH: u64 = u64::MAX;

/// An unused entry of the recent pages (no page number is this large: page numbers are
/// addresses shifted right by the page size's bits).
const EMPTY: (PageKey, usize) = (PageKey::MAX, 0);

/// The working set `W(t, window)`: the distinct pages among the last `window` references.
#[derive(Clone, Debug)]
pub struct WorkingSet {
    window: u64,
    references: u64,
    /// The slot of each page in the set.
    index: KeyMap<usize>,
    /// `(page, time of its latest reference)`; a free slot's entry is unused.
    slots: Vec<(PageKey, u64)>,
    free: Vec<usize>,
    /// `(registered time, slot)`: exactly one entry per page in the set.
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    /// `(page, slot)` of the most recently referenced pages, most recent first
    /// ([`EMPTY`] where there is none).
    recent: [(PageKey, usize); RECENT],
    /// The time at which the earliest registration falls out of the window (`u64::MAX`:
    /// none), so that most references look at no heap.
    next_expiry: u64,
}

impl WorkingSet {
    /// An empty working set over the last `window` references (0: always empty).
    pub fn new(window: u64) -> WorkingSet {
        WorkingSet {
            window,
            references: 0,
            index: KeyMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            recent: [EMPTY; RECENT],
            next_expiry: u64::MAX,
        }
    }

    /// Records the next reference, to `page` (O(1) amortised).
    #[inline]
    pub fn reference(&mut self, page: PageKey) {
        let now = self.references;
        self.references += 1;
        if self.window == 0 {
            return;
        }
        match self.recent.iter().position(|r| r.0 == page) {
            Some(i) => {
                let hit = self.recent[i];
                self.slots[hit.1].1 = now;
                let mut j = i;
                while j > 0 {
                    self.recent[j] = self.recent[j - 1];
                    j -= 1;
                }
                self.recent[0] = hit;
            }
            None => self.reference_slow(page, now),
        }
        if now >= self.next_expiry {
            self.expire(now);
        }
    }

    /// The most recently referenced pages, most recent first ([`PageKey::MAX`] where there
    /// is none): all are in the set.
    pub fn recent(&self) -> [PageKey; RECENT] {
        self.recent.map(|r| r.0)
    }

    /// Records `n` more references, each to one of the pages [`WorkingSet::recent`] gave
    /// (with no reference in between): `last[j]` is the index within the `n` of the latest
    /// reference to its page `j`, or [`NOT_IN_BATCH`]. The set after is exactly what `n`
    /// calls of [`WorkingSet::reference`] would leave. No page joins the set on the way
    /// (the pages are in it when the batch begins), so the size cannot pass its value then.
    pub fn batch(&mut self, last: &[u64; RECENT], n: u64) {
        if n == 0 {
            return;
        }
        let base = self.references;
        self.references += n;
        if self.window == 0 {
            return;
        }
        for (r, &l) in self.recent.iter().zip(last) {
            if l != NOT_IN_BATCH && r.0 != PageKey::MAX {
                debug_assert!(l < n);
                self.slots[r.1].1 = base + l;
            }
        }
        // Most recent first again: the pages referenced in the batch by their latest
        // reference, then the others in their order.
        let mut order = [0, 1, 2, 3];
        order.sort_by_key(|&j| {
            std::cmp::Reverse(if last[j] == NOT_IN_BATCH {
                0
            } else {
                last[j] + 1
            })
        });
        self.recent = order.map(|j| self.recent[j]);
        let now = self.references - 1;
        if now >= self.next_expiry {
            self.expire(now);
        }
    }

    /// Registrations that fell out of the window at `now`: their pages go or register
    /// again.
    fn expire(&mut self, now: u64) {
        while let Some(mut top) = self.heap.peek_mut() {
            let Reverse((time, slot)) = *top;
            if now - time < self.window {
                break;
            }
            let (p, last) = self.slots[slot];
            if now - last < self.window {
                // Registers again in place: one sift instead of a pop and a push.
                *top = Reverse((last, slot));
            } else {
                std::collections::binary_heap::PeekMut::pop(top);
                self.index.remove(&p);
                self.free.push(slot);
                for r in &mut self.recent {
                    if r.0 == p {
                        *r = EMPTY;
                    }
                }
            }
        }
        self.next_expiry = self
            .heap
            .peek()
            .map_or(u64::MAX, |&Reverse((t, _))| t.saturating_add(self.window));
    }

    /// A reference to a page not among the recent ones.
    fn reference_slow(&mut self, page: PageKey, now: u64) {
        let slot = match self.index.get(&page) {
            Some(&slot) => {
                self.slots[slot].1 = now;
                slot
            }
            None => {
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.slots[s] = (page, now);
                        s
                    }
                    None => {
                        self.slots.push((page, now));
                        self.slots.len() - 1
                    }
                };
                self.index.insert(page, slot);
                self.heap.push(Reverse((now, slot)));
                self.next_expiry = self.next_expiry.min(now.saturating_add(self.window));
                slot
            }
        };
        let mut j = RECENT - 1;
        while j > 0 {
            self.recent[j] = self.recent[j - 1];
            j -= 1;
        }
        self.recent[0] = (page, slot);
    }

    /// The number of distinct pages among the last `window` references.
    pub fn size(&self) -> usize {
        self.index.len()
    }

    /// Whether `page` is among the last `window` references.
    pub fn contains(&self, page: PageKey) -> bool {
        self.index.contains_key(&page)
    }

    /// The window, in references.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The number of references recorded so far.
    pub fn references(&self) -> u64 {
        self.references
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// References `pages` in order with `window`, checking the size after each.
    fn check(window: u64, pages: &[PageKey], sizes: &[usize]) {
        let mut ws = WorkingSet::new(window);
        let got: Vec<usize> = pages
            .iter()
            .map(|&p| {
                ws.reference(p);
                ws.size()
            })
            .collect();
        assert_eq!(got, sizes, "window {window} over {pages:?}");
        assert_eq!(ws.window(), window);
        assert_eq!(ws.references(), pages.len() as u64);
    }

    #[test]
    fn hand_examples() {
        // The worked example of the module docs.
        check(3, &[1, 2, 1, 3, 4, 4, 4], &[1, 2, 2, 3, 3, 2, 1]);
        check(0, &[1, 2, 3], &[0, 0, 0]);
        check(1, &[1, 1, 2, 3, 3], &[1, 1, 1, 1, 1]);
        check(2, &[1, 2, 1, 1, 3], &[1, 2, 2, 1, 2]);
        check(u64::MAX, &[5, 6, 5, 7, 6], &[1, 2, 2, 3, 3]);
        // Silberschatz's working-set figure (Operating System Concepts, "Working-Set Model",
        // window 10): WS(t1) = {1,2,5,6,7} after the 10th reference, WS(t2) = {3,4} after
        // the 26th (both rechecked by hand).
        let s = [
            2, 6, 1, 5, 7, 7, 7, 7, 5, 1, 6, 2, 3, 4, 1, 2, 3, 4, 4, 4, 3, 4, 3, 4, 4, 4, 1, 3, 2,
            3, 4, 4, 4, 3, 4, 4, 4,
        ];
        let mut ws = WorkingSet::new(10);
        for &p in &s[..10] {
            ws.reference(p);
        }
        assert_eq!(ws.size(), 5);
        assert!([1, 2, 5, 6, 7].iter().all(|&p| ws.contains(p)));
        for &p in &s[10..26] {
            ws.reference(p);
        }
        assert_eq!(ws.size(), 2);
        assert!(ws.contains(3) && ws.contains(4) && !ws.contains(2));
        // The rest of the string: 2 comes back into the last 10 references.
        for &p in &s[26..] {
            ws.reference(p);
        }
        assert_eq!(ws.size(), 3);
    }

    #[test]
    fn matches_naive_recomputation() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            // xorshift64 for test inputs.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for round in 0..800 {
            // Few pages (found among the recent ones) and many (through the map).
            let (w, n) = if round % 2 == 0 { (12, 15) } else { (40, 90) };
            let window = next(w);
            let pages = 1 + next(n);
            let len = next(200) as usize;
            let string: Vec<PageKey> = (0..len).map(|_| next(pages)).collect();
            let mut ws = WorkingSet::new(window);
            for t in 0..len {
                ws.reference(string[t]);
                let from = (t + 1).saturating_sub(window as usize);
                let mut naive = string[from..=t].to_vec();
                naive.sort_unstable();
                naive.dedup();
                assert_eq!(ws.size(), naive.len(), "window {window}, t {t}, {string:?}");
                assert!(naive.iter().all(|&p| ws.contains(p)));
                // Memory stays proportional to the set, not the window.
                assert_eq!(ws.heap.len(), ws.size());
                assert!(ws.slots.len() <= pages as usize);
            }
        }
    }

    #[test]
    fn a_batch_is_the_same_as_one_by_one() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..800 {
            let window = next(40);
            let pages = 1 + next(30);
            let mut one = WorkingSet::new(window);
            let mut batched = WorkingSet::new(window);
            let mut last: Option<PageKey> = None;
            for _ in 0..next(12) {
                // A stretch of references anywhere, then a batch among the recent pages.
                for _ in 0..next(20) {
                    let p = next(pages);
                    if last == Some(p) {
                        continue;
                    }
                    one.reference(p);
                    batched.reference(p);
                    last = Some(p);
                }
                let recent = batched.recent();
                let live: Vec<usize> = (0..RECENT).filter(|&j| recent[j] != PageKey::MAX).collect();
                if live.is_empty() {
                    continue;
                }
                let mut marks = [NOT_IN_BATCH; RECENT];
                let mut n = 0;
                for _ in 0..next(3 * window + 3) {
                    let j = live[next(live.len() as u64) as usize];
                    if last == Some(recent[j]) {
                        continue;
                    }
                    one.reference(recent[j]);
                    marks[j] = n;
                    n += 1;
                    last = Some(recent[j]);
                }
                batched.batch(&marks, n);
                assert_eq!(one.references(), batched.references());
                assert_eq!(one.size(), batched.size(), "window {window}, n {n}");
                for p in 0..pages {
                    assert_eq!(one.contains(p), batched.contains(p), "page {p}");
                }
                assert_eq!(one.recent(), batched.recent());
            }
        }
    }
}
