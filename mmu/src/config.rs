//! The translation unit's configuration: TLB geometry, walker latencies, A/D policy.

use crate::format::AdPolicy;
use crate::tlb::TlbConfig;
use crate::walker::WalkerConfig;
use serde::{Deserialize, Serialize};

/// Configuration of the whole translation unit, loadable from TOML (`[mmu]` in a machine or
/// scenario file). Every field has a documented default (see `docs/mmu.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MmuConfig {
    /// Whether the unit has TLBs at all: `"none"` gives a machine without any (every access
    /// walks the page table, as in OSTEP's homework), whose `itlb`, `dtlb` and `l2tlb` are
    /// then unused. Default `"on"` (left out when written, so configurations without the key
    /// print as before).
    #[serde(skip_serializing_if = "TlbPresence::is_on")]
    pub tlb: TlbPresence,
    /// The instruction TLB (default: 32 entries, fully associative, LRU, 0-cycle lookup).
    pub itlb: TlbConfig,
    /// The data TLB (default: as the instruction TLB).
    pub dtlb: TlbConfig,
    /// The optional shared second-level TLB (default: none). A `[mmu.l2tlb]` table enables it;
    /// keys it leaves out take the values of [`MmuConfig::default_l2tlb`], not the L1 defaults.
    #[serde(deserialize_with = "de_l2tlb")]
    pub l2tlb: Option<TlbConfig>,
    /// Walker latencies.
    pub walker: WalkerConfig,
    /// What happens when a leaf's A bit, or a stored-to page's D bit, is clear.
    pub ad: AdPolicy,
    /// Flush every TLB when the page-table root changes. RISC-V does not (entries are
    /// ASID-tagged and software issues `sfence.vma`), so the default is false; set it to model
    /// a machine without ASIDs.
    pub flush_on_root_change: bool,
}

impl Default for MmuConfig {
    fn default() -> Self {
        MmuConfig {
            tlb: TlbPresence::On,
            itlb: TlbConfig::default(),
            dtlb: TlbConfig::default(),
            l2tlb: None,
            walker: WalkerConfig::default(),
            ad: AdPolicy::Svade,
            flush_on_root_change: false,
        }
    }
}

/// Whether a translation unit has TLBs (`tlb = "on"`, the default) or none (`tlb = "none"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlbPresence {
    /// The instruction and data TLBs (and the L2 TLB, if configured) cache translations.
    #[default]
    On,
    /// No TLB at all: every translated access walks the page table, nothing is cached,
    /// `sfence.vma` has nothing to flush, and no TLB counters exist.
    None,
}

impl TlbPresence {
    /// Whether the TLBs are there (the default).
    pub fn is_on(&self) -> bool {
        *self == TlbPresence::On
    }
}

/// An L2 TLB table as written: every key optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialTlb {
    sets: Option<u32>,
    ways: Option<u32>,
    policy: Option<crate::tlb::Policy>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    hit_latency: Option<u64>,
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    seed: Option<u64>,
}

fn de_l2tlb<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TlbConfig>, D::Error> {
    let p: Option<PartialTlb> = Option::deserialize(d)?;
    Ok(p.map(|p| {
        let b = MmuConfig::default_l2tlb();
        TlbConfig {
            sets: p.sets.unwrap_or(b.sets),
            ways: p.ways.unwrap_or(b.ways),
            policy: p.policy.unwrap_or(b.policy),
            hit_latency: p.hit_latency.unwrap_or(b.hit_latency),
            seed: p.seed.unwrap_or(b.seed),
        }
    }))
}

/// A configuration that cannot be built, with what would be right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid mmu configuration: {0}")]
pub struct ConfigError(pub String);

impl MmuConfig {
    /// The default L2 TLB geometry used when a file enables one with `[mmu.l2tlb]` and
    /// no fields: 128 sets x 4 ways, LRU, 4-cycle lookup.
    pub fn default_l2tlb() -> TlbConfig {
        TlbConfig {
            sets: 128,
            ways: 4,
            hit_latency: 4,
            ..TlbConfig::default()
        }
    }

    /// Whether the unit has TLBs (`tlb` is not `"none"`).
    pub fn has_tlb(&self) -> bool {
        self.tlb == TlbPresence::On
    }

    /// Checks every part; every latency is at most [`vmlab_common::MAX_LATENCY`] cycles.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tlb == TlbPresence::None && self.l2tlb.is_some() {
            return Err(ConfigError(
                "mmu.l2tlb with tlb = \"none\": a machine without TLBs has no L2 TLB either; \
                 remove [mmu.l2tlb] or the `tlb = \"none\"`"
                    .into(),
            ));
        }
        self.itlb.validate("mmu.itlb").map_err(ConfigError)?;
        self.dtlb.validate("mmu.dtlb").map_err(ConfigError)?;
        if let Some(l2) = &self.l2tlb {
            l2.validate("mmu.l2tlb").map_err(ConfigError)?;
        }
        vmlab_common::check_latency("mmu.walker.start_latency", self.walker.start_latency)
            .map_err(ConfigError)?;
        vmlab_common::check_latency("mmu.walker.level_latency", self.walker.level_latency)
            .map_err(ConfigError)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A huge latency is refused with a message naming the key.
    #[test]
    fn latencies_have_a_maximum() {
        assert!(MmuConfig::default().validate().is_ok());
        let mut c = MmuConfig::default();
        c.walker.level_latency = vmlab_common::MAX_LATENCY;
        assert!(c.validate().is_ok());
        c.walker.level_latency = u64::MAX;
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("`mmu.walker.level_latency` = 18446744073709551615 is too large"),
            "{e}"
        );
        let c = MmuConfig {
            l2tlb: Some(TlbConfig {
                hit_latency: 1 << 63,
                ..MmuConfig::default_l2tlb()
            }),
            ..MmuConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("`mmu.l2tlb.hit_latency` = 9223372036854775808"),
            "{e}"
        );
    }
}
