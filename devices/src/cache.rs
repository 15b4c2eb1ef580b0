//! Set-associative caches that model tags and timing only (the data lives in RAM).
//!
//! A [`Cache`] answers "is this line here?", keeps the replacement state and the dirty bits,
//! and counts. How a miss travels to the next level, and what it costs, is the
//! [`MemorySystem`](crate::MemorySystem)'s business (see `docs/devices.md`).

use crate::error::ConfigError;
use serde::{Deserialize, Serialize};

/// How a cache chooses the line to replace in a full set (the policies the TLBs use too).
pub use vmlab_common::Policy as Replacement;
use vmlab_common::Replacer;

/// What a cache does with stores.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, arbitrary::Arbitrary,
)]
#[serde(rename_all = "kebab-case")]
pub enum WritePolicy {
    /// Write-back with write-allocate: a store marks its line dirty (fetching it first on a
    /// miss); a dirty line is written to the next level when it is evicted.
    #[default]
    WriteBack,
    /// Write-through without write-allocate: every store is also sent to the next level;
    /// a store miss does not bring the line in. Lines are never dirty.
    WriteThrough,
}

/// What caused an access to a cache level, for the per-kind counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheOp {
    /// An instruction fetch (or a line fill on its behalf).
    Fetch,
    /// A data load (or a line fill on its behalf; page-table reads are loads).
    Load,
    /// A data store (or a line fill or written-through store on its behalf).
    Store,
    /// A dirty line written back from the level above.
    Writeback,
}

impl CacheOp {
    /// All kinds, in the order statistics list them.
    pub const ALL: [CacheOp; 4] = [
        CacheOp::Fetch,
        CacheOp::Load,
        CacheOp::Store,
        CacheOp::Writeback,
    ];

    /// The lower-case name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            CacheOp::Fetch => "fetch",
            CacheOp::Load => "load",
            CacheOp::Store => "store",
            CacheOp::Writeback => "writeback",
        }
    }

    /// An index 0..4 for per-kind counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Configuration of one cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Whether the cache exists (default true for L1I and L1D, false for L2). A disabled
    /// level costs nothing and passes every access to the next one.
    pub enabled: bool,
    /// Capacity in bytes: must equal sets x ways x line, with sets a power of two
    /// (default 32 KiB for an L1, 256 KiB for the L2).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub size: u64,
    /// Line size in bytes, a power of two from 8 to 4096 (default 64).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub line: u64,
    /// Associativity (default 8; 1 = direct-mapped; size / line = fully associative).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub ways: u64,
    /// Cycles every access to this level costs, hit or miss (default 1 for an L1, 10 for
    /// the L2).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub hit_latency: u64,
    /// Replacement policy (default `lru`).
    pub replacement: Replacement,
    /// Write policy (default `write-back`).
    pub write_policy: WritePolicy,
    /// Seed of the `random` policy (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub seed: u64,
}

/// The largest cache `size`, in bytes (1 GiB).
pub const MAX_CACHE_SIZE: u64 = 1 << 30;

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig::l1()
    }
}

impl CacheConfig {
    /// The default L1 (instruction or data): 32 KiB, 64-byte lines, 8 ways, 1-cycle hits.
    pub fn l1() -> CacheConfig {
        CacheConfig {
            enabled: true,
            size: 32 << 10,
            line: 64,
            ways: 8,
            hit_latency: 1,
            replacement: Replacement::Lru,
            write_policy: WritePolicy::WriteBack,
            seed: 1,
        }
    }

    /// The default L2 geometry (disabled until a configuration enables it): 256 KiB,
    /// 64-byte lines, 8 ways, 10-cycle hits.
    pub fn l2() -> CacheConfig {
        CacheConfig {
            enabled: false,
            size: 256 << 10,
            hit_latency: 10,
            ..CacheConfig::l1()
        }
    }

    /// The number of sets (valid once [`CacheConfig::validate`] has passed).
    pub fn sets(&self) -> u64 {
        self.size / (self.line * self.ways).max(1)
    }

    /// Checks the geometry (a size of at most [`MAX_CACHE_SIZE`]) and the hit latency (at
    /// most [`vmlab_common::MAX_LATENCY`] cycles), naming the cache (`cache.l1d`...) in the
    /// message.
    pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError::invalid(name, m));
        if !self.line.is_power_of_two() || !(8..=4096).contains(&self.line) {
            return err(format!(
                "`line` = {}; the line size must be a power of two from 8 to 4096 bytes (e.g. 64)",
                self.line
            ));
        }
        if self.ways == 0 || self.ways > 1024 {
            return err(format!(
                "`ways` = {}; use 1 (direct-mapped) to 1024 ways",
                self.ways
            ));
        }
        if self.size > MAX_CACHE_SIZE {
            return err(format!(
                "`size` = {} is too large: a cache is at most {MAX_CACHE_SIZE} bytes (1 GiB)",
                self.size
            ));
        }
        vmlab_common::check_latency("hit_latency", self.hit_latency).or_else(err)?;
        let way_bytes = self.line * self.ways;
        let sets = self.size / way_bytes;
        if self.size == 0 || sets * way_bytes != self.size || !sets.is_power_of_two() {
            let lo = if sets == 0 {
                1
            } else {
                1u64 << (63 - sets.leading_zeros())
            };
            return err(format!(
                "`size` = {} is not sets x ways x line with a power-of-two number of sets: \
                 with {} ways of {}-byte lines the size must be {} x a power of two, \
                 e.g. {} ({} set{}) or {} ({} sets)",
                self.size,
                self.ways,
                self.line,
                way_bytes,
                way_bytes * lo,
                lo,
                if lo == 1 { "" } else { "s" },
                way_bytes * lo * 2,
                lo * 2
            ));
        }
        if sets * self.ways > 1 << 24 {
            return err(format!(
                "{sets} sets x {} ways is {} lines; use at most 16777216 lines",
                self.ways,
                sets * self.ways
            ));
        }
        self.replacement.check_ways(self.ways).or_else(err)
    }
}

/// A cache's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Hits by kind (fetch, load, store, writeback).
    pub hits: [u64; 4],
    /// Misses by kind.
    pub misses: [u64; 4],
    /// Lines brought in.
    pub fills: u64,
    /// Valid lines replaced by a fill.
    pub evictions: u64,
    /// Dirty lines written to the next level.
    pub writebacks: u64,
    /// Stores passed on to the next level by write-through.
    pub write_throughs: u64,
}

impl CacheStats {
    /// All hits.
    pub fn total_hits(&self) -> u64 {
        self.hits.iter().sum()
    }

    /// All misses.
    pub fn total_misses(&self) -> u64 {
        self.misses.iter().sum()
    }

    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order:
    /// `hits.{fetch,load,store,writeback}`, `misses.*`, `fills`, `evictions`, `writebacks`,
    /// `write_throughs`.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        for k in CacheOp::ALL {
            f(&format!("{prefix}.hits.{}", k.name()), self.hits[k.index()]);
        }
        for k in CacheOp::ALL {
            f(
                &format!("{prefix}.misses.{}", k.name()),
                self.misses[k.index()],
            );
        }
        f(&format!("{prefix}.fills"), self.fills);
        f(&format!("{prefix}.evictions"), self.evictions);
        f(&format!("{prefix}.writebacks"), self.writebacks);
        f(&format!("{prefix}.write_throughs"), self.write_throughs);
    }
}

/// A line pushed out by a fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Victim {
    /// The address of the line's first byte.
    pub addr: u64,
    /// Whether it was dirty (and so must be written to the next level).
    pub dirty: bool,
}

/// A set-associative cache of tags.
#[derive(Clone, Debug)]
pub struct Cache {
    cfg: CacheConfig,
    line_bits: u32,
    set_mask: u64,
    ways: usize,
    /// Line number (address >> line_bits) per slot.
    tags: Vec<u64>,
    valid: Vec<bool>,
    dirty: Vec<bool>,
    /// Replacement state (policy, stamps, PLRU bits, generator).
    repl: Replacer,
    /// Host speed: the number of valid lines in each set, so that a fill into a full set
    /// skips the search for an invalid slot (which would find none).
    valid_in_set: Vec<u32>,
    /// The slot that hit or was filled last, checked first (host speed only: the outcome and
    /// the replacement update are those of a full search).
    last: usize,
    stats: CacheStats,
}

impl Cache {
    /// A cold cache; `name` (`cache.l1d`...) appears in configuration errors.
    pub fn new(cfg: CacheConfig, name: &str) -> Result<Cache, ConfigError> {
        cfg.validate(name)?;
        let sets = cfg.sets() as usize;
        let n = sets * cfg.ways as usize;
        Ok(Cache {
            line_bits: cfg.line.trailing_zeros(),
            set_mask: sets as u64 - 1,
            ways: cfg.ways as usize,
            tags: vec![0; n],
            valid: vec![false; n],
            dirty: vec![false; n],
            repl: Replacer::new(cfg.replacement, sets, cfg.ways as usize, cfg.seed),
            valid_in_set: vec![0; sets],
            last: 0,
            stats: CacheStats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = CacheStats::default();
    }

    /// The address of the first byte of the line holding `addr`.
    #[inline]
    pub fn line_of(&self, addr: u64) -> u64 {
        addr & !(self.cfg.line - 1)
    }

    #[inline]
    fn set_base(&self, addr: u64) -> usize {
        (((addr >> self.line_bits) & self.set_mask) as usize) * self.ways
    }

    /// The slot holding the line of `addr`, without changing anything.
    #[inline]
    pub fn find(&self, addr: u64) -> Option<usize> {
        let tag = addr >> self.line_bits;
        if self.valid[self.last] && self.tags[self.last] == tag {
            return Some(self.last);
        }
        let base = self.set_base(addr);
        (base..base + self.ways).find(|&i| self.valid[i] && self.tags[i] == tag)
    }

    /// Whether the line of `addr` is present (changes nothing).
    pub fn contains(&self, addr: u64) -> bool {
        self.find(addr).is_some()
    }

    /// Whether the line of `addr` is present and dirty (changes nothing).
    pub fn is_dirty(&self, addr: u64) -> bool {
        self.find(addr).is_some_and(|i| self.dirty[i])
    }

    /// Looks up the line of `addr`: on a hit counts it, updates the replacement state and,
    /// for a write under write-back, marks the line dirty; on a miss counts the miss.
    pub fn lookup(&mut self, addr: u64, op: CacheOp, write: bool) -> bool {
        match self.find(addr) {
            Some(i) => {
                self.record_hit(i, op, write);
                true
            }
            None => {
                self.stats.misses[op.index()] += 1;
                false
            }
        }
    }

    /// What a hitting [`Cache::lookup`] does once it has found the line at slot `i` (an index
    /// [`Cache::find`] returned): counts the hit, updates the replacement state and, for a
    /// write under write-back, marks the line dirty.
    #[inline]
    pub fn record_hit(&mut self, i: usize, op: CacheOp, write: bool) {
        self.stats.hits[op.index()] += 1;
        self.last = i;
        self.touch(i);
        if write && self.cfg.write_policy == WritePolicy::WriteBack {
            self.dirty[i] = true;
        }
    }

    /// log2 of the line size.
    #[inline]
    pub fn line_bits(&self) -> u32 {
        self.line_bits
    }

    /// Counts a store passed on to the next level by write-through.
    pub fn count_write_through(&mut self) {
        self.stats.write_throughs += 1;
    }

    /// Brings in the line of `addr` (which must be absent), dirty or clean, choosing a victim
    /// by the policy. Returns the valid line it evicted; a dirty one counts as a write-back.
    pub fn fill(&mut self, addr: u64, dirty: bool) -> Option<Victim> {
        let base = self.set_base(addr);
        let i = self.victim(base);
        let old = self.valid[i].then(|| Victim {
            addr: self.tags[i] << self.line_bits,
            dirty: self.dirty[i],
        });
        if let Some(v) = old {
            self.stats.evictions += 1;
            if v.dirty {
                self.stats.writebacks += 1;
            }
        }
        self.stats.fills += 1;
        if !self.valid[i] {
            self.valid_in_set[i / self.ways] += 1;
        }
        self.tags[i] = addr >> self.line_bits;
        self.valid[i] = true;
        self.dirty[i] = dirty && self.cfg.write_policy == WritePolicy::WriteBack;
        self.repl.fill(i);
        self.last = i;
        old
    }

    /// Invalidates every line without writing anything back or counting (a reset).
    pub fn clear(&mut self) {
        self.valid.fill(false);
        self.valid_in_set.fill(0);
        self.dirty.fill(false);
        self.repl.reset();
    }

    #[inline]
    fn touch(&mut self, i: usize) {
        self.repl.touch(i);
    }

    fn victim(&mut self, base: usize) -> usize {
        let set = base / self.ways;
        if self.valid_in_set[set] as usize == self.ways {
            // Every line of the set is valid: the search for an invalid one finds none.
            return self.repl.victim(set, |_| false);
        }
        let valid = &self.valid;
        self.repl.victim(set, |i| !valid[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_message() {
        // docs/devices.md quotes this message.
        let c = CacheConfig {
            size: 1000,
            ..CacheConfig::l1()
        };
        assert_eq!(
            c.validate("cache.l1d").unwrap_err().to_string(),
            "invalid cache.l1d configuration: `size` = 1000 is not sets x ways x line with a \
             power-of-two number of sets: with 8 ways of 64-byte lines the size must be 512 x a \
             power of two, e.g. 512 (1 set) or 1024 (2 sets)"
        );
    }

    #[test]
    fn geometry_errors_say_what_is_right() {
        let c = CacheConfig {
            size: 3000,
            ..CacheConfig::l1()
        };
        let e = c.validate("cache.l1d").unwrap_err().to_string();
        assert!(
            e.contains("cache.l1d") && e.contains("sets x ways x line"),
            "{e}"
        );
        assert!(e.contains("512 x a power of two"), "{e}");
        let c = CacheConfig {
            size: 3 * 512,
            ..CacheConfig::l1()
        };
        let e = c.validate("cache.l2").unwrap_err().to_string();
        assert!(e.contains("e.g. 1024 (2 sets) or 2048 (4 sets)"), "{e}");
        for (c, needle) in [
            (
                CacheConfig {
                    line: 48,
                    ..CacheConfig::l1()
                },
                "power of two from 8",
            ),
            (
                CacheConfig {
                    ways: 0,
                    ..CacheConfig::l1()
                },
                "`ways` = 0",
            ),
            (
                CacheConfig {
                    size: 0,
                    ..CacheConfig::l1()
                },
                "`size` = 0",
            ),
            (
                CacheConfig {
                    ways: 6,
                    size: 6 * 64 * 4,
                    replacement: Replacement::Plru,
                    ..CacheConfig::l1()
                },
                "tree-PLRU needs a power-of-two",
            ),
        ] {
            let e = c.validate("cache.l1i").unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        assert!(CacheConfig::l1().validate("x").is_ok());
        assert!(CacheConfig::l2().validate("x").is_ok());
    }

    #[test]
    fn sizes_and_latencies_have_a_maximum() {
        for (c, want) in [
            (
                CacheConfig {
                    size: u64::MAX,
                    ..CacheConfig::l1()
                },
                "invalid cache.l1d configuration: `size` = 18446744073709551615 is too large: \
                 a cache is at most 1073741824 bytes (1 GiB)",
            ),
            (
                CacheConfig {
                    hit_latency: 1 << 32,
                    ..CacheConfig::l1()
                },
                "invalid cache.l1d configuration: `hit_latency` = 4294967296 is too large: \
                 a latency is at most 1000000 cycles",
            ),
        ] {
            assert_eq!(c.validate("cache.l1d").unwrap_err().to_string(), want);
        }
        let big = CacheConfig {
            size: MAX_CACHE_SIZE,
            hit_latency: vmlab_common::MAX_LATENCY,
            ..CacheConfig::l1()
        };
        assert!(big.validate("cache.l2").is_ok());
    }

    #[test]
    fn fill_reports_dirty_victims() {
        let mut c = Cache::new(
            CacheConfig {
                size: 128,
                line: 64,
                ways: 1,
                ..CacheConfig::l1()
            },
            "t",
        )
        .unwrap();
        assert!(!c.lookup(0x1000, CacheOp::Store, true));
        assert_eq!(c.fill(0x1000, true), None);
        assert!(c.is_dirty(0x1010));
        assert!(!c.lookup(0x1080, CacheOp::Load, false));
        assert_eq!(
            c.fill(0x1080, false),
            Some(Victim {
                addr: 0x1000,
                dirty: true
            })
        );
        assert_eq!(c.stats().writebacks, 1);
        assert_eq!(c.stats().evictions, 1);
    }
}
