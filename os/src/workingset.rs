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
//! Each page in the set remembers the time of its latest reference, and a queue holds
//! `(page, time)` entries in time order; entries superseded by a later reference to the
//! same page are dropped lazily (when they reach the front, or in a compaction once they
//! outnumber the live ones). A reference therefore costs O(1) amortised, and the memory
//! held is proportional to the working-set size, not to the window.

use std::collections::VecDeque;

use crate::replace::{KeyMap, PageKey};

/// The working set `W(t, window)`: the distinct pages among the last `window` references.
#[derive(Clone, Debug)]
pub struct WorkingSet {
    window: u64,
    references: u64,
    /// The time of the latest reference of each page in the set.
    last: KeyMap<u64>,
    /// `(page, time)` for references in the window, oldest first; an entry whose time is not
    /// `last[page]` is stale.
    queue: VecDeque<(PageKey, u64)>,
    /// The number of stale entries in `queue`.
    stale: usize,
}

impl WorkingSet {
    /// An empty working set over the last `window` references (0: always empty).
    pub fn new(window: u64) -> WorkingSet {
        WorkingSet {
            window,
            references: 0,
            last: KeyMap::default(),
            queue: VecDeque::new(),
            stale: 0,
        }
    }

    /// Records the next reference, to `page` (O(1) amortised).
    pub fn reference(&mut self, page: PageKey) {
        let now = self.references;
        self.references += 1;
        if self.window == 0 {
            return;
        }
        if self.last.insert(page, now).is_some() {
            self.stale += 1;
        }
        self.queue.push_back((page, now));
        // Keep the references at times now - window + 1 ..= now.
        while let Some(&(old, time)) = self.queue.front() {
            if now - time < self.window {
                break;
            }
            self.queue.pop_front();
            if self.last.get(&old) == Some(&time) {
                self.last.remove(&old);
            } else {
                self.stale = self.stale.saturating_sub(1);
            }
        }
        if self.stale > self.last.len() {
            let last = &self.last;
            self.queue.retain(|(p, t)| last.get(p) == Some(t));
            self.stale = 0;
        }
    }

    /// The number of distinct pages among the last `window` references.
    pub fn size(&self) -> usize {
        self.last.len()
    }

    /// Whether `page` is among the last `window` references.
    pub fn contains(&self, page: PageKey) -> bool {
        self.last.contains_key(&page)
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
        for _ in 0..400 {
            let window = next(12);
            let pages = 1 + next(15);
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
                assert!(ws.queue.len() <= 2 * ws.size() + 2, "{}", ws.queue.len());
            }
        }
    }
}
