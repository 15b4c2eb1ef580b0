//! Set-associative TLBs with LRU, tree-PLRU, FIFO or seeded random replacement.
//!
//! Entries are tagged by virtual page number, ASID (with a global bit) and, in paged-segment
//! mode, segment number. Each entry remembers the size of the page it maps, so superpages and
//! base pages share one structure: a lookup probes one set per page size present.

use crate::format::PteFlags;
use crate::types::{AccessKind, Cycle};
use serde::{Deserialize, Serialize};

/// The replacement policy of a TLB (shared with the caches).
pub use vmlab_common::Policy;
use vmlab_common::Replacer;

/// Configuration of one TLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlbConfig {
    /// Number of sets (1 = fully associative). Need not be a power of two.
    pub sets: u32,
    /// Entries per set.
    pub ways: u32,
    /// Replacement policy.
    pub policy: Policy,
    /// Cycles a lookup costs (paid on hits and misses alike).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub hit_latency: u64,
    /// Seed of the random policy.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub seed: u64,
}

impl Default for TlbConfig {
    fn default() -> Self {
        TlbConfig {
            sets: 1,
            ways: 32,
            policy: Policy::Lru,
            hit_latency: 0,
            seed: 1,
        }
    }
}

impl TlbConfig {
    /// Checks the geometry and the latency (at most [`vmlab_common::MAX_LATENCY`]), naming
    /// the TLB in the message.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        if self.sets == 0 {
            return Err(format!("{name}: `sets` = 0; a TLB needs at least one set"));
        }
        if self.ways == 0 {
            return Err(format!("{name}: `ways` = 0; a TLB needs at least one way"));
        }
        if self.sets as u64 * self.ways as u64 > 1 << 20 {
            return Err(format!(
                "{name}: {} sets x {} ways is over a million entries; use at most 1048576",
                self.sets, self.ways
            ));
        }
        vmlab_common::check_latency(&format!("{name}.hit_latency"), self.hit_latency)?;
        self.policy
            .check_ways(self.ways as u64)
            .map_err(|e| format!("{name}: {e}"))
    }
}

/// One cached translation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlbEntry {
    /// Whether the entry holds a translation.
    pub valid: bool,
    /// The virtual page number: the translated address shifted right by `page_bits`.
    pub vpn: u64,
    /// Address-space identifier (ignored when `global`).
    pub asid: u16,
    /// Segment number (paged segments; 0 otherwise).
    pub seg: u8,
    /// Matches every ASID.
    pub global: bool,
    /// log2 of the page size.
    pub page_bits: u8,
    /// The level of the leaf PTE.
    pub level: u8,
    /// Physical address of the page (aligned to its size).
    pub pa_page: u64,
    /// Physical address of the leaf PTE.
    pub pte_addr: u64,
    /// The leaf PTE's raw value when the entry was filled.
    pub pte: u64,
    /// The leaf PTE's decoded flags.
    pub flags: PteFlags,
}

impl TlbEntry {
    #[inline(always)]
    fn matches(&self, seg: u8, va: u64, asid: u16) -> bool {
        self.valid
            && self.vpn == va >> self.page_bits
            && self.seg == seg
            && (self.global || self.asid == asid)
    }

    #[inline]
    fn covers(&self, seg: u8, va: u64) -> bool {
        self.valid && self.seg == seg && self.vpn == va >> self.page_bits
    }
}

/// Which kind of flush (the four forms of `sfence.vma`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "flush")]
pub enum Flush {
    /// Every entry (`sfence.vma x0, x0`).
    All,
    /// Non-global entries of one ASID (`sfence.vma x0, asid`).
    Asid {
        /// The ASID.
        asid: u16,
    },
    /// Entries of every ASID, global ones included, that map this address (`sfence.vma va, x0`).
    Addr {
        /// The virtual address.
        va: u64,
    },
    /// Non-global entries of one ASID that map this address (`sfence.vma va, asid`).
    AddrAsid {
        /// The virtual address.
        va: u64,
        /// The ASID.
        asid: u16,
    },
}

impl Flush {
    /// An index 0..4 for per-kind counters.
    pub fn index(self) -> usize {
        match self {
            Flush::All => 0,
            Flush::Asid { .. } => 1,
            Flush::Addr { .. } => 2,
            Flush::AddrAsid { .. } => 3,
        }
    }

    /// Names in counter order.
    pub const NAMES: [&'static str; 4] = ["all", "asid", "addr", "addr_asid"];
}

/// A TLB's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TlbStats {
    /// Hits by access kind (fetch, load, store).
    pub hits: [u64; 3],
    /// Misses by access kind.
    pub misses: [u64; 3],
    /// Entries written.
    pub fills: u64,
    /// Valid entries replaced by a fill.
    pub evictions: u64,
    /// Flush operations by kind (all, asid, addr, addr_asid).
    pub flushes: [u64; 4],
    /// Valid entries invalidated by flushes.
    pub flushed_entries: u64,
}

impl TlbStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        for k in AccessKind::ALL {
            f(&format!("{prefix}.hits.{}", k.name()), self.hits[k.index()]);
        }
        for k in AccessKind::ALL {
            f(
                &format!("{prefix}.misses.{}", k.name()),
                self.misses[k.index()],
            );
        }
        f(&format!("{prefix}.fills"), self.fills);
        f(&format!("{prefix}.evictions"), self.evictions);
        for (i, n) in Flush::NAMES.iter().enumerate() {
            f(&format!("{prefix}.flushes.{n}"), self.flushes[i]);
        }
        f(&format!("{prefix}.flushed_entries"), self.flushed_entries);
    }
}

/// Where a lookup found its entry, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// The set.
    pub set: u32,
    /// The way.
    pub way: u32,
}

/// A set-associative TLB.
#[derive(Clone, Debug)]
pub struct Tlb {
    cfg: TlbConfig,
    entries: Vec<TlbEntry>,
    /// Replacement state (policy, stamps, PLRU bits, generator).
    repl: Replacer,
    /// Bit k set when an entry of page size 2^k may be present.
    sizes: u64,
    /// Host speed: `entries[i].vpn` for every slot, so that a scan reads 8 bytes per slot
    /// (a slot whose vpn differs cannot match; one whose vpn agrees is checked in full).
    vpns: Vec<u64>,
    /// Host speed: whether two valid entries might both match one lookup (an entry of one
    /// ASID and a global one for the same page, or pages of different sizes that overlap).
    /// Set (conservatively) by [`Tlb::fill`], cleared when every entry is invalidated. While
    /// it is false a lookup has at most one matching entry, so any entry that matches is the
    /// one [`Tlb::scan`] would return, and the hints below may answer.
    dups: bool,
    /// Host speed: slots recently found for `(va >> min page bits) % HINTS`, each checked
    /// with the full match before use (and used only while `dups` is false).
    hints: [u32; HINTS],
    /// Host speed: the number of valid entries in each set, so that a fill into a full set
    /// skips the search for an invalid slot (which would find none).
    valid_in_set: Vec<u32>,
    /// Host speed: the hints are off ([`Tlb::set_hints`]); `dups` then stays true.
    no_hints: bool,
    stats: TlbStats,
}

/// Hint slots per TLB.
const HINTS: usize = 64;

/// Whether any of `vpns` is `vpn` (without early exit, so that it vectorises).
#[inline(always)]
fn any_equal(vpns: &[u64], vpn: u64) -> bool {
    vpns.iter().fold(false, |a, &v| a | (v == vpn))
}

impl Tlb {
    /// A TLB with the given configuration (validated by the caller via [`TlbConfig::validate`]).
    pub fn new(cfg: TlbConfig) -> Tlb {
        let n = (cfg.sets as usize) * (cfg.ways as usize);
        Tlb {
            cfg,
            entries: vec![TlbEntry::default(); n],
            repl: Replacer::new(cfg.policy, cfg.sets as usize, cfg.ways as usize, cfg.seed),
            sizes: 0,
            vpns: vec![0; n],
            dups: false,
            hints: [0; HINTS],
            valid_in_set: vec![0; cfg.sets as usize],
            no_hints: false,
            stats: TlbStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TlbConfig {
        &self.cfg
    }

    /// The lookup latency.
    pub fn latency(&self) -> Cycle {
        Cycle(self.cfg.hit_latency)
    }

    /// The counters.
    pub fn stats(&self) -> &TlbStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = TlbStats::default();
    }

    /// All entries, set by set.
    pub fn entries(&self) -> &[TlbEntry] {
        &self.entries
    }

    /// The entry at a slot.
    pub fn entry(&self, slot: Slot) -> &TlbEntry {
        &self.entries[self.index(slot)]
    }

    fn index(&self, slot: Slot) -> usize {
        slot.set as usize * self.cfg.ways as usize + slot.way as usize
    }

    fn slot(&self, idx: usize) -> Slot {
        Slot {
            set: (idx / self.cfg.ways as usize) as u32,
            way: (idx % self.cfg.ways as usize) as u32,
        }
    }

    #[inline]
    fn set_of(&self, seg: u8, vpn: u64) -> usize {
        let key = vpn ^ ((seg as u64) << 7);
        let sets = self.cfg.sets as u64;
        if sets.is_power_of_two() {
            // The same value as the remainder below, without a division (host speed only).
            (key & (sets - 1)) as usize
        } else {
            (key % sets) as usize
        }
    }

    /// Looks up a translation; on a hit updates the replacement state and counts the hit,
    /// on a miss counts the miss.
    #[inline]
    pub fn lookup(
        &mut self,
        seg: u8,
        va: u64,
        asid: u16,
        kind: AccessKind,
    ) -> Option<(Slot, TlbEntry)> {
        let found = self.find_hinted(seg, va, asid);
        match found {
            Some(idx) => {
                self.record_hit(idx, kind);
                Some((self.slot(idx), self.entries[idx]))
            }
            None => {
                self.stats.misses[kind.index()] += 1;
                None
            }
        }
    }

    /// Counts a hit on the entry at `idx` (an index into [`Tlb::entries`] that [`Tlb::find`]
    /// returned) and updates the replacement state, exactly as a hitting [`Tlb::lookup`] does.
    #[inline]
    pub fn record_hit(&mut self, idx: usize, kind: AccessKind) {
        self.stats.hits[kind.index()] += 1;
        self.touch(idx);
    }

    /// Turns the lookup hints on or off (host speed only: off, every lookup scans).
    pub fn set_hints(&mut self, on: bool) {
        self.no_hints = !on;
        self.dups |= self.no_hints;
    }

    /// The hint slot of `va`.
    #[inline(always)]
    fn hint_slot(&self, va: u64) -> usize {
        ((va >> (self.sizes.trailing_zeros() & 63)) as usize) % HINTS
    }

    /// Finds a matching entry without changing anything.
    #[inline(always)]
    pub fn find(&self, seg: u8, va: u64, asid: u16) -> Option<usize> {
        if !self.dups {
            let idx = self.hints[self.hint_slot(va)] as usize;
            if self
                .entries
                .get(idx)
                .is_some_and(|e| e.matches(seg, va, asid))
            {
                return Some(idx);
            }
        }
        self.scan(seg, va, asid)
    }

    /// [`Tlb::find`], remembering what a scan found as the hint for `va` (host speed only:
    /// the answer is that of [`Tlb::find`]).
    #[inline(always)]
    pub fn find_hinted(&mut self, seg: u8, va: u64, asid: u16) -> Option<usize> {
        let h = self.hint_slot(va);
        if !self.dups {
            let idx = self.hints[h] as usize;
            if let Some(e) = self.entries.get(idx) {
                if e.matches(seg, va, asid) {
                    return Some(idx);
                }
            }
        }
        let found = self.scan(seg, va, asid);
        if let Some(idx) = found {
            self.hints[h] = idx as u32;
        }
        found
    }

    /// The set-by-set search behind [`Tlb::find`]: the first matching entry, smaller pages
    /// first, then by way.
    fn scan(&self, seg: u8, va: u64, asid: u16) -> Option<usize> {
        let ways = self.cfg.ways as usize;
        let mut sizes = self.sizes;
        while sizes != 0 {
            let bits = sizes.trailing_zeros() as u8;
            sizes &= sizes - 1;
            let vpn = va >> bits;
            let base = self.set_of(seg, vpn) * ways;
            let vpns = &self.vpns[base..base + ways];
            if !any_equal(vpns, vpn) {
                continue;
            }
            for (w, &v) in vpns.iter().enumerate() {
                if v != vpn {
                    continue;
                }
                let idx = base + w;
                let e = &self.entries[idx];
                if e.page_bits == bits && e.matches(seg, va, asid) {
                    return Some(idx);
                }
            }
        }
        None
    }

    #[inline(always)]
    fn touch(&mut self, idx: usize) {
        self.repl.touch(idx);
    }

    fn victim(&mut self, set: usize) -> usize {
        if self.valid_in_set[set] as usize == self.cfg.ways as usize {
            // Every slot of the set is valid: the search for an invalid one finds none.
            return self.repl.victim(set, |_| false);
        }
        let entries = &self.entries;
        self.repl.victim(set, |i| !entries[i].valid)
    }

    /// Inserts an entry (replacing any entry for the same page), choosing a victim by the
    /// policy. Returns the slot and the valid entry it evicted, if any.
    pub fn fill(&mut self, entry: TlbEntry) -> (Slot, Option<TlbEntry>) {
        debug_assert!(entry.valid);
        self.stats.fills += 1;
        let bits = entry.page_bits;
        let ways = self.cfg.ways as usize;
        let set = self.set_of(entry.seg, entry.vpn);
        let base = set * ways;
        // A refill of a page already present (e.g. after a dirty-bit update) replaces the
        // entry a lookup in the filling ASID would match: a global entry whatever ASID filled
        // it, or a non-global entry of the same ASID. Otherwise a store from another ASID to a
        // clean global page would leave two entries for one page.
        let candidates = any_equal(&self.vpns[base..base + ways], entry.vpn);
        let same = (base..base + ways)
            .take(if candidates { ways } else { 0 })
            .find(|&i| {
                let e = &self.entries[i];
                self.vpns[i] == entry.vpn
                    && e.valid
                    && e.page_bits == bits
                    && e.vpn == entry.vpn
                    && e.seg == entry.seg
                    && (e.global || e.asid == entry.asid)
            });
        let idx = match same {
            Some(i) => i,
            None => self.victim(set),
        };
        let old = self.entries[idx];
        if !old.valid {
            self.valid_in_set[set] += 1;
        }
        let evicted = if old.valid && same.is_none() {
            self.stats.evictions += 1;
            Some(old)
        } else {
            None
        };
        if !self.dups && self.may_duplicate(idx, &entry) {
            self.dups = true;
        }
        self.entries[idx] = entry;
        self.vpns[idx] = entry.vpn;
        self.sizes |= 1u64 << bits;
        self.repl.fill(idx);
        let h = self.hint_slot(entry.vpn << bits);
        self.hints[h] = idx as u32;
        (self.slot(idx), evicted)
    }

    /// Whether `entry`, about to be written to slot `idx`, might match some lookup that
    /// another valid entry also matches (conservative: true when unsure).
    fn may_duplicate(&self, idx: usize, entry: &TlbEntry) -> bool {
        let bits = entry.page_bits;
        let overlaps = |e: &TlbEntry| {
            e.valid && e.seg == entry.seg && (e.global || entry.global || e.asid == entry.asid) && {
                // Their address ranges intersect when the larger page contains the
                // smaller one's start.
                let big = e.page_bits.max(bits).min(63);
                (e.vpn << e.page_bits.min(63)) >> big == (entry.vpn << bits.min(63)) >> big
            }
        };
        let others = self.sizes & !(1u64 << bits);
        if others == 0 {
            // Only entries of this size: a duplicate has the same vpn, hence the same set.
            let ways = self.cfg.ways as usize;
            let base = (idx / ways) * ways;
            any_equal(&self.vpns[base..base + ways], entry.vpn)
                && (base..base + ways)
                    .any(|i| i != idx && self.vpns[i] == entry.vpn && overlaps(&self.entries[i]))
        } else if self.entries.len() <= 256 {
            self.entries
                .iter()
                .enumerate()
                .any(|(i, e)| i != idx && overlaps(e))
        } else {
            true
        }
    }

    /// Applies a flush, where `va` has already been reduced to the tagged part (and its
    /// segment). Returns how many valid entries it invalidated.
    pub fn flush(&mut self, flush: Flush, seg_va: Option<(u8, u64)>) -> u64 {
        self.stats.flushes[flush.index()] += 1;
        let mut n = 0;
        let ways = self.cfg.ways as usize;
        for (i, e) in self.entries.iter_mut().enumerate() {
            if !e.valid {
                continue;
            }
            let hit = match flush {
                Flush::All => true,
                Flush::Asid { asid } => !e.global && e.asid == asid,
                Flush::Addr { .. } => seg_va.is_some_and(|(s, va)| e.covers(s, va)),
                Flush::AddrAsid { asid, .. } => {
                    !e.global && e.asid == asid && seg_va.is_some_and(|(s, va)| e.covers(s, va))
                }
            };
            if hit {
                e.valid = false;
                self.valid_in_set[i / ways] -= 1;
                n += 1;
            }
        }
        if flush == Flush::All {
            self.sizes = 0;
            self.dups = self.no_hints;
        }
        self.stats.flushed_entries += n;
        n
    }

    /// Invalidates everything without counting a flush (used on reset).
    pub fn clear(&mut self) {
        for e in self.entries.iter_mut() {
            e.valid = false;
        }
        self.valid_in_set.fill(0);
        self.sizes = 0;
        self.dups = self.no_hints;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(vpn: u64, asid: u16) -> TlbEntry {
        TlbEntry {
            valid: true,
            vpn,
            asid,
            page_bits: 12,
            pa_page: vpn << 12,
            ..TlbEntry::default()
        }
    }

    /// Runs a sequence of page touches against a 1-set TLB and returns the pages present after.
    fn run(policy: Policy, ways: u32, pages: &[u64]) -> Vec<u64> {
        let mut t = Tlb::new(TlbConfig {
            sets: 1,
            ways,
            policy,
            ..TlbConfig::default()
        });
        for &p in pages {
            if t.lookup(0, p << 12, 0, AccessKind::Load).is_none() {
                t.fill(entry(p, 0));
            }
        }
        let mut v: Vec<u64> = t
            .entries()
            .iter()
            .filter(|e| e.valid)
            .map(|e| e.vpn)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replacement_policies() {
        let check = |policy, pages: &[u64], expect: &[u64]| {
            assert_eq!(run(policy, 4, pages), expect, "{policy:?} on {pages:?}");
        };
        // 1,2,3,4 fill; touch 1; 5 evicts the LRU (2) under LRU, the oldest fill (1) under FIFO.
        check(Policy::Lru, &[1, 2, 3, 4, 1, 5], &[1, 3, 4, 5]);
        check(Policy::Fifo, &[1, 2, 3, 4, 1, 5], &[2, 3, 4, 5]);
        // Tree-PLRU: after 1,2,3,4 the root points left and the right pair at way 2; touching 1
        // (way 0) turns the root right, so 5 replaces way 2 (page 3) although 2 is older.
        check(Policy::Plru, &[1, 2, 3, 4, 1, 5], &[1, 2, 4, 5]);
    }

    #[test]
    fn random_is_seeded() {
        let pages: Vec<u64> = (0..50).map(|i| (i * 7) % 13).collect();
        assert_eq!(
            run(Policy::Random, 4, &pages),
            run(Policy::Random, 4, &pages)
        );
    }

    #[test]
    fn asid_and_global_flushes() {
        let mut t = Tlb::new(TlbConfig {
            sets: 3,
            ways: 2,
            ..TlbConfig::default()
        });
        t.fill(entry(1, 1));
        t.fill(entry(2, 2));
        t.fill(TlbEntry {
            global: true,
            ..entry(3, 1)
        });
        assert!(t.find(0, 3 << 12, 7).is_some(), "global matches any ASID");
        assert!(
            t.find(0, 1 << 12, 2).is_none(),
            "ASID 1 entry does not match ASID 2"
        );
        assert_eq!(t.flush(Flush::Asid { asid: 1 }, None), 1);
        assert!(
            t.find(0, 3 << 12, 1).is_some(),
            "global entries survive an ASID flush"
        );
        assert_eq!(
            t.flush(
                Flush::AddrAsid {
                    va: 3 << 12,
                    asid: 1
                },
                Some((0, 3 << 12))
            ),
            0
        );
        assert_eq!(t.flush(Flush::Addr { va: 3 << 12 }, Some((0, 3 << 12))), 1);
        assert_eq!(t.flush(Flush::All, None), 1);
        assert_eq!(t.stats().flushes, [1, 1, 1, 1]);
    }

    #[test]
    fn superpage_entries_cover_their_range() {
        let mut t = Tlb::new(TlbConfig {
            sets: 4,
            ways: 2,
            ..TlbConfig::default()
        });
        let va = 0x4020_0000u64;
        t.fill(TlbEntry {
            page_bits: 21,
            vpn: va >> 21,
            pa_page: 0x8000_0000,
            ..entry(0, 0)
        });
        assert!(t.find(0, va + 0x1f_ffff, 0).is_some());
        assert!(t.find(0, va + 0x20_0000, 0).is_none());
        assert_eq!(
            t.flush(Flush::Addr { va: va + 0x1234 }, Some((0, va + 0x1234))),
            1
        );
    }

    /// The host-speed shortcuts (hints, the vpn mirror, per-set valid counts) answer every
    /// lookup exactly as a plain search of the entries would, duplicates included.
    #[test]
    fn shortcuts_agree_with_a_plain_search() {
        let plain = |t: &Tlb, seg: u8, va: u64, asid: u16| {
            let mut best: Option<usize> = None;
            for bits in 0..64u8 {
                if t.sizes >> bits & 1 == 0 {
                    continue;
                }
                let base = t.set_of(seg, va >> bits) * t.cfg.ways as usize;
                for idx in base..base + t.cfg.ways as usize {
                    let e = &t.entries[idx];
                    if e.page_bits == bits && e.matches(seg, va, asid) {
                        best = Some(idx);
                        break;
                    }
                }
                if best.is_some() {
                    break;
                }
            }
            best
        };
        let mut rng = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for (sets, ways) in [(1, 4), (2, 2), (4, 8), (1, 32)] {
            let mut t = Tlb::new(TlbConfig {
                sets,
                ways,
                ..TlbConfig::default()
            });
            for _ in 0..20_000 {
                let r = next();
                let page_bits = if r & 7 == 0 { 21 } else { 12 };
                let va = (r >> 8) % (8 << 21);
                let asid = (r >> 40) as u16 % 3;
                match r % 11 {
                    0..=3 => {
                        t.fill(TlbEntry {
                            page_bits,
                            vpn: va >> page_bits,
                            global: (r >> 50) & 3 == 0,
                            asid,
                            pa_page: va >> page_bits << page_bits,
                            ..entry(0, 0)
                        });
                    }
                    4 if r >> 60 == 0 => {
                        t.flush(Flush::All, None);
                    }
                    5 if (r >> 58) & 3 == 0 => {
                        t.flush(Flush::Addr { va }, Some((0, va)));
                    }
                    _ => {
                        let want = plain(&t, 0, va, asid);
                        assert_eq!(t.find(0, va, asid), want);
                        assert_eq!(t.find_hinted(0, va, asid), want);
                        let e = t.lookup(0, va, asid, AccessKind::Load);
                        assert_eq!(e.map(|(s, _)| t.index(s)), want);
                    }
                }
            }
        }
    }

    #[test]
    fn config_validation() {
        let ok = TlbConfig {
            sets: 5,
            ways: 3,
            ..TlbConfig::default()
        };
        assert!(ok.validate("dtlb").is_ok());
        for (c, needle) in [
            (TlbConfig { ways: 0, ..ok }, "ways"),
            (TlbConfig { sets: 0, ..ok }, "sets"),
            (
                TlbConfig {
                    policy: Policy::Plru,
                    ..ok
                },
                "power-of-two",
            ),
        ] {
            let e = c.validate("dtlb").unwrap_err();
            assert!(e.contains(needle) && e.starts_with("dtlb"), "{e}");
        }
        let slow = TlbConfig {
            hit_latency: u64::MAX,
            ..ok
        };
        assert_eq!(
            slow.validate("mmu.dtlb").unwrap_err(),
            "`mmu.dtlb.hit_latency` = 18446744073709551615 is too large: a latency is at most 1000000 cycles"
        );
    }
}
