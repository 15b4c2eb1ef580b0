//! The page cache: file pages in frames of memory, between the file system's pages on the
//! disk and every `read` and `write`.
//!
//! A page of a file is in one of three states: being read from the disk (`Reading`: whoever
//! needs it waits), in memory (`Ready`, clean or dirty), or being written back (`Writing`:
//! its bytes stay readable and writable; a write during the write-back leaves it dirty
//! again). The cache holds its pages in a pool of frames; when the pool is full, the
//! replacement policy the kernel uses for process pages (`os.policy`, the same
//! [`Replacer`] code) chooses a victim among the clean pages in memory; a dirty victim is
//! written back first and its frame reused once the write is done.
//!
//! A shared file mapping maps a cached page itself into the process (the cache keeps the
//! reverse map: which process maps it at which page). Such a page can still be chosen as a
//! victim: the kernel first unmaps it everywhere ([`Room::Unmap`]), folding any store the
//! processes made into the page's dirty bit, and a dirty page is written back before its
//! frame is reused. The processes' A bits are not consulted: a mapped page ages in the
//! policy's order like any other, and a process that still uses it faults it back (a
//! minor fault while it is still cached).
//!
//! This module is the bookkeeping only: the kernel starts the disk transfers, copies the
//! bytes, unmaps pages and blocks processes.

use crate::fs::Ino;
use crate::process::Pid;
use crate::replace::{NoBits, Policy, Replacer};
use std::collections::{BTreeMap, BTreeSet};

/// A file page: the file's inode and the page's index in it.
pub type Key = (Ino, u64);

/// Where a cached page is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// A disk read fills the frame.
    Reading,
    /// In memory.
    Ready,
    /// In memory, and a disk write of it is under way.
    Writing,
}

/// A cached page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// The frame's physical address.
    pub frame: u64,
    /// Where it is.
    pub state: PageState,
    /// Changed since it was read or last written back.
    pub dirty: bool,
    /// Chosen as a victim while dirty: it goes as soon as its write-back ends clean (as
    /// Linux's `PG_reclaim`), so that whoever waits for room gets its frame rather than
    /// the next dirty victim.
    pub reclaim: bool,
}

/// The page cache's counters (`os.page_cache.*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Page lookups that found the page in memory.
    pub hits: u64,
    /// Page lookups that had to bring it in (from the disk, or as zeros).
    pub misses: u64,
    /// Pages read from the disk.
    pub reads: u64,
    /// Dirty pages written back to the disk.
    pub writebacks: u64,
    /// Pages dropped to make room.
    pub evictions: u64,
    /// Frames a process's fault took from the cache (a free one, or a clean page's).
    pub reclaimed: u64,
    /// The most frames the cache has held at once.
    pub peak_frames: u64,
}

/// What [`PageCache::frame_for`] found for a new page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Room {
    /// This frame is free for it.
    Frame(u64),
    /// Every page that could go is dirty: write back this one (its frame comes free when
    /// the write is done), and wait.
    WriteBack(Key),
    /// Every frame is in transfer: wait for one.
    Wait,
    /// The victim is mapped by processes: unmap it from each of
    /// [`PageCache::take_mappers`], then ask [`PageCache::unmapped_victim`].
    Unmap(Key),
    /// The cache may grow: take a free frame of memory if there is one
    /// ([`PageCache::adopt`]), else ask [`PageCache::victim_room`].
    Grow,
}

/// The page cache.
pub struct PageCache {
    /// The page size.
    page: u64,
    /// Frames not holding a page.
    free: Vec<u64>,
    pages: BTreeMap<Key, Page>,
    by_frame: BTreeMap<u64, Key>,
    repl: Replacer,
    /// Frames whose page was evicted while being written back: free when the write ends.
    leaving: BTreeMap<u64, Key>,
    /// The counters.
    pub stats: CacheStats,
    frames: u64,
    /// The reverse map: the pages of processes that map each cached page.
    maps: BTreeMap<Key, Vec<(Pid, u64)>>,
    /// Frames come from the memory processes use, up to `frames` (else: a fixed pool of
    /// `frames` frames of its own).
    elastic: bool,
    /// Frames held now (pages and free ones).
    held: u64,
    /// Frames of pages a system call is working on ([`PageCache::pin`]).
    pinned: Vec<u64>,
    /// Pages a process waits for to map them ([`PageCache::want`]): a fault that
    /// reclaims frames passes them over, or two faults of one instruction could take each
    /// other's frame for ever.
    wanted: BTreeMap<Key, Pid>,
    /// Files a write-back failed for since the last [`PageCache::take_error`] (Linux's
    /// `AS_EIO`: the next `fsync` or `msync` of the file reports it, once).
    errors: BTreeSet<Ino>,
}

/// The frames a shared cache keeps once it has them: a fault never reclaims the last
/// ones, so that a file page and the process page it is copied to can both be in memory.
pub const SHARED_FLOOR: u64 = 2;

impl PageCache {
    /// A cache of `count` frames of `page` bytes from physical address `base`, replacing
    /// with `policy` (seeded with `seed` when random).
    pub fn new(base: u64, count: u64, page: u64, policy: Policy, seed: u64) -> PageCache {
        // OPT needs a future the cache does not have: it replaces in FIFO order.
        let policy = if policy == Policy::Opt {
            Policy::Fifo
        } else {
            policy
        };
        PageCache {
            page,
            free: (0..count).rev().map(|i| base + i * page).collect(),
            pages: BTreeMap::new(),
            by_frame: BTreeMap::new(),
            repl: Replacer::new(policy, seed),
            leaving: BTreeMap::new(),
            stats: CacheStats::default(),
            frames: count,
            maps: BTreeMap::new(),
            elastic: false,
            held: count,
            pinned: Vec::new(),
            wanted: BTreeMap::new(),
            errors: BTreeSet::new(),
        }
    }

    /// A cache that shares memory with processes: it holds no frame at first, takes free
    /// frames of memory as it needs them (up to `max`), and gives frames back when a
    /// process's fault finds no free one ([`PageCache::reclaim`]).
    pub fn shared(max: u64, page: u64, policy: Policy, seed: u64) -> PageCache {
        PageCache {
            elastic: true,
            held: 0,
            frames: max,
            ..PageCache::new(0, 0, page, policy, seed)
        }
    }

    /// Whether the cache shares memory with processes ([`PageCache::shared`]).
    pub fn is_shared(&self) -> bool {
        self.elastic
    }

    /// A frame of memory the cache now holds (after [`Room::Grow`]).
    pub fn adopt(&mut self) {
        self.held += 1;
        self.stats.peak_frames = self.stats.peak_frames.max(self.held);
    }

    /// A frame for a process whose fault found none free: a free frame of the cache, or
    /// the frame of a clean page not in transfer that no process maps or waits for,
    /// dropped (the policy's choice among the first few victims; one it passes over goes
    /// to the back). A mapped page is in use: the process's own policy chooses among its
    /// pages instead (else two faults of one instruction could take each other's frame
    /// for ever). The cache keeps [`SHARED_FLOOR`] frames. `None` if the cache has nothing
    /// to give.
    pub fn reclaim(&mut self) -> Option<u64> {
        if !self.elastic || self.held <= SHARED_FLOOR.min(self.frames) {
            return None;
        }
        if let Some(f) = self.free.pop() {
            self.held -= 1;
            self.stats.reclaimed += 1;
            return Some(f);
        }
        let mut passed = Vec::new();
        let mut got = None;
        for _ in 0..4 {
            let Some(victim) = self.unpinned_victim() else {
                break;
            };
            let Some(&key) = self.by_frame.get(&victim) else {
                continue;
            };
            if self.pages[&key].dirty
                || self.wanted.contains_key(&key)
                || self.maps.contains_key(&key)
            {
                passed.push(victim);
                continue;
            }
            got = Some(key);
            break;
        }
        for f in passed {
            self.repl.inserted(f);
        }
        let key = got?;
        let frame = self.pages[&key].frame;
        self.drop_page(key);
        // (drop_page put the frame on the free list: it leaves the cache.)
        self.free.retain(|&f| f != frame);
        self.held -= 1;
        self.stats.evictions += 1;
        self.stats.reclaimed += 1;
        Some(frame)
    }

    /// The page size.
    pub fn page_size(&self) -> u64 {
        self.page
    }

    /// The frames the cache may hold (a shared cache's limit; a pool's size).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The frames the cache holds now.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// The page `key`, if cached.
    pub fn get(&self, key: Key) -> Option<Page> {
        self.pages.get(&key).copied()
    }

    /// A use of cached page `key` (a hit): the policy hears of it.
    pub fn touch(&mut self, key: Key) {
        if let Some(p) = self.pages.get(&key) {
            self.repl.referenced(p.frame);
        }
    }

    /// A frame for a new page: a free one, or a clean page's the policy gives up (dropped),
    /// or else the dirty victim to write back first.
    pub fn frame_for(&mut self) -> Room {
        if let Some(f) = self.free.pop() {
            return Room::Frame(f);
        }
        if self.elastic && self.held < self.frames {
            return Room::Grow;
        }
        self.victim_room()
    }

    /// The policy's victim among the pages not pinned ([`PageCache::pin`]); the pinned
    /// ones it names keep their place.
    fn unpinned_victim(&mut self) -> Option<u64> {
        if self.pinned.is_empty() {
            return self.repl.victim(&mut NoBits, None);
        }
        let mut kept = Vec::new();
        let mut got = None;
        while let Some(v) = self.repl.victim(&mut NoBits, None) {
            if self.pinned.contains(&v) {
                kept.push(v);
                continue;
            }
            got = Some(v);
            break;
        }
        // Back in their order (the policy sees them as inserted again, oldest first).
        for v in kept {
            self.repl.inserted(v);
        }
        got
    }

    /// Pins the frame of a page a system call is working on: no victim is taken from the
    /// pinned pages until [`PageCache::unpin_all`] (the end of the call).
    pub fn pin(&mut self, frame: u64) {
        if !self.pinned.contains(&frame) {
            self.pinned.push(frame);
        }
    }

    /// Unpins every page.
    pub fn unpin_all(&mut self) {
        self.pinned.clear();
    }

    /// `pid` waits for page `key` to map it: [`PageCache::reclaim`] leaves it until
    /// [`PageCache::got`].
    pub fn want(&mut self, key: Key, pid: Pid) {
        self.wanted.insert(key, pid);
    }

    /// `pid` has the page it wanted (or no longer wants any: `key` `None`, at its end).
    pub fn got(&mut self, key: Option<Key>, pid: Pid) {
        match key {
            Some(k) => {
                if self.wanted.get(&k) == Some(&pid) {
                    self.wanted.remove(&k);
                }
            }
            None => self.wanted.retain(|_, p| *p != pid),
        }
    }

    /// A frame from a victim (the cache may not, or cannot, grow): as
    /// [`PageCache::frame_for`] without growing.
    pub fn victim_room(&mut self) -> Room {
        if let Some(f) = self.free.pop() {
            return Room::Frame(f);
        }
        // The policy's set holds only pages in memory and not in transfer (their frames);
        // the cache's pages have no page-table entries, so Clock-like policies see no A
        // bits and keep their order. A dirty victim is written first.
        let Some(victim) = self.unpinned_victim() else {
            return Room::Wait;
        };
        let Some(&key) = self.by_frame.get(&victim) else {
            return Room::Wait;
        };
        if self.maps.contains_key(&key) {
            return Room::Unmap(key);
        }
        self.unmapped_victim(key)
    }

    /// The victim `key` (from [`Room::Unmap`], now mapped nowhere): a dirty one is
    /// written back first ([`Room::WriteBack`]), a clean one goes and its frame is free.
    pub fn unmapped_victim(&mut self, key: Key) -> Room {
        let Some(page) = self.pages.get(&key).copied() else {
            return Room::Wait;
        };
        if page.dirty {
            if let Some(p) = self.pages.get_mut(&key) {
                p.reclaim = true;
            }
            return Room::WriteBack(key);
        }
        self.drop_page(key);
        self.stats.evictions += 1;
        match self.free.pop() {
            Some(f) => Room::Frame(f),
            None => Room::Wait,
        }
    }

    /// Page `vpn` of `pid` maps cached page `key`.
    pub fn map(&mut self, key: Key, pid: Pid, vpn: u64) {
        let m = self.maps.entry(key).or_default();
        if !m.contains(&(pid, vpn)) {
            m.push((pid, vpn));
        }
    }

    /// Page `vpn` of `pid` no longer maps cached page `key`.
    pub fn unmap(&mut self, key: Key, pid: Pid, vpn: u64) {
        if let Some(m) = self.maps.get_mut(&key) {
            m.retain(|&x| x != (pid, vpn));
            if m.is_empty() {
                self.maps.remove(&key);
            }
        }
    }

    /// The pages that map cached page `key`, which no longer map it from here (the kernel
    /// unmaps them).
    pub fn take_mappers(&mut self, key: Key) -> Vec<(Pid, u64)> {
        self.maps.remove(&key).unwrap_or_default()
    }

    /// The pages that map cached page `key`.
    pub fn mappers(&self, key: Key) -> &[(Pid, u64)] {
        self.maps.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Every cached page `pid` maps in pages `[first, last)`: the page's key and the
    /// process's page.
    pub fn mapped_by(&self, pid: Pid, first: u64, last: u64) -> Vec<(Key, u64)> {
        self.maps
            .iter()
            .flat_map(|(&k, m)| {
                m.iter()
                    .filter(move |&&(p, v)| p == pid && (first..last).contains(&v))
                    .map(move |&(_, v)| (k, v))
            })
            .collect()
    }

    /// Puts page `key` in `frame` (from [`PageCache::frame_for`]) in `state`.
    pub fn insert(&mut self, key: Key, frame: u64, state: PageState, dirty: bool) {
        self.pages.insert(
            key,
            Page {
                frame,
                state,
                dirty,
                reclaim: false,
            },
        );
        self.by_frame.insert(frame, key);
        if state == PageState::Ready {
            self.repl.inserted(frame);
        }
    }

    /// Page `key`'s read finished (`ok`: its bytes are in the frame; else the page goes).
    pub fn read_done(&mut self, key: Key, ok: bool) {
        if ok {
            if let Some(p) = self.pages.get_mut(&key) {
                p.state = PageState::Ready;
                self.repl.inserted(p.frame);
            }
            self.stats.reads += 1;
        } else {
            self.drop_page(key);
        }
    }

    /// Marks page `key` dirty.
    pub fn set_dirty(&mut self, key: Key) {
        if let Some(p) = self.pages.get_mut(&key) {
            p.dirty = true;
        }
    }

    /// Page `key`'s write-back starts: it is clean from here (a later write makes it dirty
    /// again).
    pub fn write_started(&mut self, key: Key) {
        if let Some(p) = self.pages.get_mut(&key) {
            p.state = PageState::Writing;
            p.dirty = false;
            self.repl.removed(p.frame);
            self.stats.writebacks += 1;
        }
    }

    /// The write-back from `frame` finished (`ok`: on the disk; else the page stays clean
    /// and its file has an error for [`PageCache::take_error`]).
    pub fn write_done(&mut self, frame: u64, ok: bool) {
        if let Some(key) = self.leaving.remove(&frame) {
            if !ok {
                self.errors.insert(key.0);
            }
            self.free.push(frame);
            return;
        }
        let Some(&key) = self.by_frame.get(&frame) else {
            return;
        };
        if !ok {
            // As Linux does: the page is clean all the same (retrying a write that failed
            // after the driver's retries could go on for ever), and the file carries the
            // error until an fsync or msync reports it. The page's changes are lost when it
            // leaves memory.
            self.errors.insert(key.0);
        }
        let mapped = self.maps.contains_key(&key);
        if let Some(p) = self.pages.get_mut(&key) {
            p.state = PageState::Ready;
            if p.reclaim && !p.dirty && !mapped {
                // The victim is clean now: it goes, and its frame is free for the waiter.
                self.drop_page(key);
                self.stats.evictions += 1;
                return;
            }
            p.reclaim = false;
            self.repl.inserted(frame);
        }
    }

    /// The dirty pages of `ino` (every file's with `None`) in memory and not in transfer.
    pub fn dirty_pages(&self, ino: Option<Ino>) -> Vec<(Key, u64)> {
        self.pages
            .iter()
            .filter(|(k, p)| p.dirty && p.state == PageState::Ready && ino.is_none_or(|i| k.0 == i))
            .map(|(&k, p)| (k, p.frame))
            .collect()
    }

    /// Whether a write-back of `ino` failed since the last call (which then forgets it).
    pub fn take_error(&mut self, ino: Ino) -> bool {
        self.errors.remove(&ino)
    }

    /// How many pages of `ino` the cache holds now.
    pub fn pages_of(&self, ino: Ino) -> u64 {
        self.pages.range((ino, 0)..=(ino, u64::MAX)).count() as u64
    }

    /// Whether any page of `ino` is being written back.
    pub fn writing(&self, ino: Ino) -> bool {
        self.pages
            .range((ino, 0)..=(ino, u64::MAX))
            .any(|(_, p)| p.state == PageState::Writing)
    }

    /// Drops the pages of `ino` at index `from` and beyond (a truncate, or every page of a
    /// file that is gone), dirty or not. A page in transfer leaves when its transfer ends.
    /// Returns the process pages that mapped them, which the kernel must unmap before
    /// anything else uses the frames.
    #[must_use]
    pub fn drop_from(&mut self, ino: Ino, from: u64) -> Vec<(Pid, u64)> {
        let keys: Vec<Key> = self
            .pages
            .range((ino, from)..=(ino, u64::MAX))
            .map(|(&k, _)| k)
            .collect();
        let mut mappers = Vec::new();
        for k in keys {
            mappers.extend(self.take_mappers(k));
            self.drop_page(k);
        }
        mappers
    }

    fn drop_page(&mut self, key: Key) {
        let Some(p) = self.pages.remove(&key) else {
            return;
        };
        self.maps.remove(&key);
        self.by_frame.remove(&p.frame);
        self.repl.removed(p.frame);
        match p.state {
            PageState::Ready => self.free.push(p.frame),
            // The transfer still uses the frame.
            PageState::Writing | PageState::Reading => {
                self.leaving.insert(p.frame, key);
            }
        }
    }

    /// A read into `frame` ended for a page that was dropped meanwhile: the frame is free.
    pub fn read_abandoned(&mut self, frame: u64) {
        if self.leaving.remove(&frame).is_some() {
            self.free.push(frame);
        }
    }

    /// Pages in memory now.
    pub fn resident(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Walks the counters under `os.page_cache.`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        let s = &self.stats;
        f("os.page_cache.frames", self.frames);
        if self.elastic {
            f("os.page_cache.held", self.held);
            f("os.page_cache.peak_frames", s.peak_frames);
            f("os.page_cache.reclaimed", s.reclaimed);
        }
        f("os.page_cache.hits", s.hits);
        f("os.page_cache.misses", s.misses);
        f("os.page_cache.reads", s.reads);
        f("os.page_cache.writebacks", s.writebacks);
        f("os.page_cache.evictions", s.evictions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(n: u64) -> PageCache {
        PageCache::new(0x1000_0000, n, 4096, Policy::Fifo, 1)
    }

    #[test]
    fn frames_come_free_then_clean_pages_go_in_policy_order() {
        let mut c = cache(2);
        let Room::Frame(a) = c.frame_for() else {
            panic!()
        };
        c.insert((7, 0), a, PageState::Ready, false);
        let Room::Frame(b) = c.frame_for() else {
            panic!()
        };
        c.insert((7, 1), b, PageState::Ready, false);
        assert_ne!(a, b);
        // Full: FIFO gives up page 0, the first in.
        assert_eq!(c.frame_for(), Room::Frame(a));
        assert!(c.get((7, 0)).is_none());
        assert_eq!(c.stats.evictions, 1);
    }

    #[test]
    fn a_dirty_victim_is_written_back_first() {
        let mut c = cache(1);
        let Room::Frame(a) = c.frame_for() else {
            panic!()
        };
        c.insert((3, 5), a, PageState::Ready, true);
        assert_eq!(c.frame_for(), Room::WriteBack((3, 5)));
        c.write_started((3, 5));
        // In transfer: nothing can go.
        assert_eq!(c.frame_for(), Room::Wait);
        // Written, and clean: the victim goes at once, its frame free for the waiter.
        c.write_done(a, true);
        assert!(c.get((3, 5)).is_none());
        assert_eq!(c.stats.evictions, 1);
        assert_eq!(c.frame_for(), Room::Frame(a));
    }

    #[test]
    fn a_failed_write_back_leaves_the_page_clean_and_the_file_with_an_error() {
        let mut c = cache(1);
        assert_eq!(c.frame_for(), Room::Frame(0x1000_0000));
        c.insert((3, 0), 0x1000_0000, PageState::Ready, true);
        c.write_started((3, 0));
        assert!(!c.get((3, 0)).unwrap().dirty);
        c.write_done(0x1000_0000, false);
        // Not retried (a disk that always fails would keep an fsync waiting for ever).
        assert!(!c.get((3, 0)).unwrap().dirty);
        assert_eq!(c.dirty_pages(Some(3)).len(), 0);
        // The error is the file's, reported once.
        assert!(!c.take_error(4));
        assert!(c.take_error(3));
        assert!(!c.take_error(3));
        // A page evicted during its failed write leaves the error too.
        assert!(c.drop_from(3, 0).is_empty());
        assert_eq!(c.frame_for(), Room::Frame(0x1000_0000));
        c.insert((5, 0), 0x1000_0000, PageState::Ready, true);
        c.write_started((5, 0));
        assert!(c.drop_from(5, 0).is_empty());
        c.write_done(0x1000_0000, false);
        assert!(c.take_error(5));
    }

    #[test]
    fn a_page_dropped_in_transfer_frees_its_frame_when_the_transfer_ends() {
        let mut c = cache(1);
        assert_eq!(c.frame_for(), Room::Frame(0x1000_0000));
        c.insert((9, 0), 0x1000_0000, PageState::Ready, true);
        c.write_started((9, 0));
        assert!(c.drop_from(9, 0).is_empty());
        assert!(c.get((9, 0)).is_none());
        assert_eq!(c.frame_for(), Room::Wait);
        c.write_done(0x1000_0000, true);
        assert_eq!(c.frame_for(), Room::Frame(0x1000_0000));
    }

    #[test]
    fn a_mapped_victim_is_unmapped_first_and_dropped_pages_name_their_mappers() {
        let mut c = cache(1);
        let Room::Frame(a) = c.frame_for() else {
            panic!()
        };
        c.insert((4, 0), a, PageState::Ready, false);
        c.map((4, 0), 1, 0x10);
        c.map((4, 0), 2, 0x20);
        c.map((4, 0), 2, 0x20);
        assert_eq!(c.mappers((4, 0)), &[(1, 0x10), (2, 0x20)]);
        assert_eq!(c.mapped_by(2, 0, 0x100), vec![((4, 0), 0x20)]);
        assert!(c.mapped_by(2, 0x21, 0x100).is_empty());
        // The only page is mapped: it must be unmapped before its frame is reused.
        assert_eq!(c.frame_for(), Room::Unmap((4, 0)));
        assert_eq!(c.take_mappers((4, 0)), vec![(1, 0x10), (2, 0x20)]);
        // A process stored to it meanwhile: written back first.
        c.set_dirty((4, 0));
        assert_eq!(c.unmapped_victim((4, 0)), Room::WriteBack((4, 0)));
        c.write_started((4, 0));
        c.write_done(a, true);
        assert_eq!(c.frame_for(), Room::Frame(a));
        // A truncated page's mappers are handed back to be unmapped.
        c.insert((5, 3), a, PageState::Ready, false);
        c.map((5, 3), 7, 0x33);
        assert_eq!(c.drop_from(5, 1), vec![(7, 0x33)]);
        assert!(c.mappers((5, 3)).is_empty());
        c.unmap((5, 3), 7, 0x33);
    }
}
