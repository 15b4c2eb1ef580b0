//! DRAM timing: a fixed latency, or a simple open-row (open-page) model.
//!
//! Open-row: the address space is cut into rows of `row_size` bytes, interleaved across
//! `banks` banks: row number `n = addr / row_size`, bank `n % banks`, row `n / banks`. Each
//! bank keeps its last row open. An access to the open row costs `row_hit`; to a bank with
//! no open row (the first access) `row_miss`; to a bank with another row open
//! `row_conflict` (precharge, then activate). Time between accesses is not modelled: rows
//! stay open until a conflicting access closes them.

use crate::error::ConfigError;
use crate::Cycle;
use serde::{Deserialize, Serialize};

/// Which DRAM timing model.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, arbitrary::Arbitrary,
)]
#[serde(rename_all = "kebab-case")]
pub enum DramModel {
    /// Every access costs `latency`.
    #[default]
    Fixed,
    /// Banks with an open row each: `row_hit`, `row_miss` or `row_conflict`.
    OpenRow,
}

/// DRAM configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DramConfig {
    /// The model (default `fixed`).
    pub model: DramModel,
    /// Cycles per access in the fixed model (default 100).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub latency: u64,
    /// Banks in the open-row model (default 8), 1 to 1024.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub banks: u64,
    /// Bytes per row in the open-row model (default 2048), a power of two of at least 64.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub row_size: u64,
    /// Cycles for an access to the open row (default 60).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub row_hit: u64,
    /// Cycles for an access to a bank with no open row (default 100).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub row_miss: u64,
    /// Cycles for an access to a bank with another row open (default 140).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub row_conflict: u64,
}

impl Default for DramConfig {
    fn default() -> Self {
        DramConfig {
            model: DramModel::Fixed,
            latency: 100,
            banks: 8,
            row_size: 2048,
            row_hit: 60,
            row_miss: 100,
            row_conflict: 140,
        }
    }
}

impl DramConfig {
    /// Checks the open-row geometry and the latencies (each at most
    /// [`vmlab_common::MAX_LATENCY`] cycles).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError::invalid("dram", m));
        if self.banks == 0 || self.banks > 1024 {
            return err(format!("`banks` = {}; use 1 to 1024 banks", self.banks));
        }
        if !self.row_size.is_power_of_two() || self.row_size < 64 {
            return err(format!(
                "`row_size` = {}; a row must be a power of two of at least 64 bytes (e.g. 2048)",
                self.row_size
            ));
        }
        for (key, v) in [
            ("latency", self.latency),
            ("row_hit", self.row_hit),
            ("row_miss", self.row_miss),
            ("row_conflict", self.row_conflict),
        ] {
            vmlab_common::check_latency(key, v).or_else(err)?;
        }
        Ok(())
    }
}

/// DRAM's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DramStats {
    /// Reads that reached DRAM (line fills).
    pub reads: u64,
    /// Writes (write-backs and written-through stores).
    pub writes: u64,
    /// Accesses to an open row (open-row model).
    pub row_hits: u64,
    /// Accesses to a bank with no open row (open-row model).
    pub row_misses: u64,
    /// Accesses to a bank with another row open (open-row model).
    pub row_conflicts: u64,
    /// Cycles spent in DRAM accesses.
    pub cycles: u64,
}

impl DramStats {
    /// All accesses.
    pub fn accesses(&self) -> u64 {
        self.reads + self.writes
    }

    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.reads"), self.reads);
        f(&format!("{prefix}.writes"), self.writes);
        f(&format!("{prefix}.row_hits"), self.row_hits);
        f(&format!("{prefix}.row_misses"), self.row_misses);
        f(&format!("{prefix}.row_conflicts"), self.row_conflicts);
        f(&format!("{prefix}.cycles"), self.cycles);
    }
}

/// DRAM timing state.
#[derive(Clone, Debug)]
pub struct Dram {
    cfg: DramConfig,
    row_bits: u32,
    /// The open row of each bank.
    open: Vec<Option<u64>>,
    stats: DramStats,
}

impl Dram {
    /// DRAM with every bank closed.
    pub fn new(cfg: DramConfig) -> Result<Dram, ConfigError> {
        cfg.validate()?;
        Ok(Dram {
            row_bits: cfg.row_size.trailing_zeros(),
            open: vec![None; cfg.banks as usize],
            stats: DramStats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DramConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &DramStats {
        &self.stats
    }

    /// Clears the counters.
    pub fn reset_stats(&mut self) {
        self.stats = DramStats::default();
    }

    /// The (bank, row) an address falls in under the open-row mapping.
    pub fn bank_row(&self, addr: u64) -> (usize, u64) {
        let n = addr >> self.row_bits;
        ((n % self.cfg.banks) as usize, n / self.cfg.banks)
    }

    /// One access (a line fill, a write-back, a written-through store): its latency.
    pub fn access(&mut self, addr: u64, write: bool) -> Cycle {
        if write {
            self.stats.writes += 1;
        } else {
            self.stats.reads += 1;
        }
        let c = match self.cfg.model {
            DramModel::Fixed => self.cfg.latency,
            DramModel::OpenRow => {
                let (bank, row) = self.bank_row(addr);
                match self.open[bank].replace(row) {
                    Some(r) if r == row => {
                        self.stats.row_hits += 1;
                        self.cfg.row_hit
                    }
                    None => {
                        self.stats.row_misses += 1;
                        self.cfg.row_miss
                    }
                    Some(_) => {
                        self.stats.row_conflicts += 1;
                        self.cfg.row_conflict
                    }
                }
            }
        };
        self.stats.cycles += c;
        Cycle(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_row_timing() {
        let mut d = Dram::new(DramConfig {
            model: DramModel::OpenRow,
            banks: 2,
            row_size: 1024,
            ..DramConfig::default()
        })
        .unwrap();
        let check = |d: &mut Dram, addr: u64, expect: u64| {
            assert_eq!(d.access(addr, false), Cycle(expect), "{addr:#x}");
        };
        check(&mut d, 0x0000, 100); // bank 0 row 0: closed
        check(&mut d, 0x0040, 60); // same row
        check(&mut d, 0x0400, 100); // bank 1 row 0: closed
        check(&mut d, 0x0800, 140); // bank 0 row 1: conflict
        check(&mut d, 0x0010, 140); // bank 0 row 0 again: conflict
        check(&mut d, 0x07ff, 60); // bank 1 row 0: still open
        let s = d.stats();
        assert_eq!((s.row_hits, s.row_misses, s.row_conflicts), (2, 2, 2));
        assert_eq!(s.cycles, 600);
    }

    #[test]
    fn fixed_and_errors() {
        let mut d = Dram::new(DramConfig::default()).unwrap();
        assert_eq!(d.access(0x8000_0000, true), Cycle(100));
        assert_eq!(d.stats().writes, 1);
        let e = Dram::new(DramConfig {
            row_size: 100,
            ..DramConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("power of two"), "{e}");
        assert!(Dram::new(DramConfig {
            banks: 0,
            ..DramConfig::default()
        })
        .is_err());
        let e = Dram::new(DramConfig {
            row_conflict: u64::MAX,
            ..DramConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "invalid dram configuration: `row_conflict` = 18446744073709551615 is too large: \
             a latency is at most 1000000 cycles"
        );
    }
}
