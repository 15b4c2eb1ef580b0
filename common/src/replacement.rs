//! Replacement state for set-associative structures (TLBs, caches).
//!
//! A [`Replacer`] keeps, for `sets x ways` slots numbered set by set, what its [`Policy`]
//! needs: last-use or fill stamps, tree-PLRU bits, a seeded generator. The owner keeps the
//! tags and valid bits and tells the replacer about hits ([`Replacer::touch`]) and fills
//! ([`Replacer::fill`]); [`Replacer::victim`] picks the slot to replace: an invalid slot of
//! the set if there is one (the lowest), else the policy's choice.

use serde::{Deserialize, Serialize};

/// How a full set chooses the slot to replace.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, arbitrary::Arbitrary,
)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Least recently used.
    #[default]
    Lru,
    /// Tree pseudo-LRU (needs a power-of-two number of ways, at most 64).
    #[serde(alias = "tree-plru")]
    Plru,
    /// First in, first out (hits do not change the order).
    Fifo,
    /// A way chosen by a xorshift generator seeded from the configuration.
    Random,
}

impl Policy {
    /// Checks that the policy can manage sets of `ways` slots; the message says what would do.
    pub fn check_ways(self, ways: u64) -> Result<(), String> {
        if self == Policy::Plru && (!ways.is_power_of_two() || ways > 64) {
            return Err(format!(
                "tree-PLRU needs a power-of-two number of ways up to 64, not {ways}; use lru or fifo for {ways} ways"
            ));
        }
        Ok(())
    }
}

/// The replacement state of `sets x ways` slots.
#[derive(Clone, Debug)]
pub struct Replacer {
    policy: Policy,
    ways: usize,
    /// LRU: last use; FIFO: fill time.
    stamps: Vec<u64>,
    /// Tree-PLRU bits per set, heap-numbered from node 1.
    plru: Vec<u64>,
    clock: u64,
    rng: u64,
}

impl Replacer {
    /// State for `sets x ways` slots (callers have checked the ways with [`Policy::check_ways`]);
    /// `seed` seeds the random policy.
    pub fn new(policy: Policy, sets: usize, ways: usize, seed: u64) -> Replacer {
        Replacer {
            policy,
            ways,
            stamps: vec![0; sets * ways],
            plru: vec![0; sets],
            clock: 0,
            rng: splitmix(seed),
        }
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Records a use (a hit) of `slot`.
    #[inline(always)]
    pub fn touch(&mut self, slot: usize) {
        match self.policy {
            Policy::Lru => {
                self.clock += 1;
                self.stamps[slot] = self.clock;
            }
            Policy::Plru => self.plru_touch(slot),
            Policy::Fifo | Policy::Random => {}
        }
    }

    /// Records that `slot` was just filled (its fill time, and a use).
    #[inline]
    pub fn fill(&mut self, slot: usize) {
        self.clock += 1;
        self.stamps[slot] = self.clock;
        self.touch(slot);
    }

    fn plru_touch(&mut self, slot: usize) {
        let set = slot / self.ways;
        let way = slot % self.ways;
        // Each node's bit points to the half to evict next, so a use points every node on
        // the path to this way away from it.
        let (mut node, mut lo, mut span) = (1usize, 0usize, self.ways);
        while span > 1 {
            span /= 2;
            if way >= lo + span {
                self.plru[set] &= !(1 << node);
                lo += span;
                node = node * 2 + 1;
            } else {
                self.plru[set] |= 1 << node;
                node *= 2;
            }
        }
    }

    /// The slot of `set` to fill next: the lowest slot for which `invalid(slot)` holds, else the
    /// policy's choice (advancing the random generator only then).
    pub fn victim(&mut self, set: usize, invalid: impl Fn(usize) -> bool) -> usize {
        let base = set * self.ways;
        let slots = base..base + self.ways;
        if let Some(i) = slots.clone().find(|&i| invalid(i)) {
            return i;
        }
        match self.policy {
            Policy::Lru | Policy::Fifo => {
                // The first slot with the smallest stamp (as `min_by_key` would pick), over
                // the set's stamps as one slice (host speed: no per-slot bounds check).
                let stamps = &self.stamps[slots];
                let min = stamps.iter().fold(u64::MAX, |m, &v| m.min(v));
                base + stamps.iter().position(|&v| v == min).unwrap_or(0)
            }
            Policy::Plru => {
                let (mut node, mut lo, mut span) = (1usize, 0usize, self.ways);
                while span > 1 {
                    span /= 2;
                    if self.plru[set] >> node & 1 == 1 {
                        lo += span;
                        node = node * 2 + 1;
                    } else {
                        node *= 2;
                    }
                }
                base + lo
            }
            Policy::Random => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                base + (self.rng % self.ways as u64) as usize
            }
        }
    }

    /// Forgets the tree-PLRU history (stamps keep their order; the generator keeps its state).
    pub fn reset(&mut self) {
        self.plru.fill(0);
    }
}

/// A non-zero generator state from any seed (splitmix64).
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let z = z ^ (z >> 31);
    if z == 0 {
        1
    } else {
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touches pages in a one-set structure of 4 ways and returns the resident pages.
    fn run(policy: Policy, pages: &[u64]) -> Vec<u64> {
        let mut r = Replacer::new(policy, 1, 4, 7);
        let mut slots: [Option<u64>; 4] = [None; 4];
        for &p in pages {
            match slots.iter().position(|&s| s == Some(p)) {
                Some(i) => r.touch(i),
                None => {
                    let i = r.victim(0, |i| slots[i].is_none());
                    slots[i] = Some(p);
                    r.fill(i);
                }
            }
        }
        let mut v: Vec<u64> = slots.iter().flatten().copied().collect();
        v.sort();
        v
    }

    #[test]
    fn policies_choose_their_victims() {
        let check = |p, expect: &[u64]| assert_eq!(run(p, &[1, 2, 3, 4, 1, 5]), expect, "{p:?}");
        check(Policy::Lru, &[1, 3, 4, 5]);
        check(Policy::Fifo, &[2, 3, 4, 5]);
        // After 1,2,3,4 the root points left and the right pair at way 2; touching 1 (way 0)
        // turns the root right, so 5 replaces way 2 (page 3).
        check(Policy::Plru, &[1, 2, 4, 5]);
        let pages: Vec<u64> = (0..50).map(|i| (i * 7) % 13).collect();
        assert_eq!(run(Policy::Random, &pages), run(Policy::Random, &pages));
    }

    #[test]
    fn plru_needs_power_of_two_ways() {
        assert!(Policy::Plru.check_ways(8).is_ok());
        assert!(Policy::Plru
            .check_ways(3)
            .unwrap_err()
            .contains("power-of-two"));
        assert!(Policy::Plru.check_ways(128).is_err());
        assert!(Policy::Lru.check_ways(3).is_ok());
    }
}
