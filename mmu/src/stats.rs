//! The translation unit's counters, walked under stable dotted names.

use crate::fault::FaultCause;
use crate::types::AccessKind;
use crate::walker::WalkerStats;
use serde::Serialize;

/// Counters of the unit itself (each TLB keeps its own; see [`crate::Mmu::for_each_stat`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MmuStats {
    /// Translation requests by access kind.
    pub requests: [u64; 3],
    /// Requests answered without translation (bare mode or machine mode).
    pub untranslated: u64,
    /// Translation mode changes.
    pub mode_changes: u64,
    /// The walker's counters.
    pub walker: WalkerStats,
    /// Faults by cause (indexed by [`FaultCause::index`]).
    pub faults: [u64; FaultCause::COUNT],
}

impl Default for MmuStats {
    fn default() -> Self {
        MmuStats {
            requests: [0; 3],
            untranslated: 0,
            mode_changes: 0,
            walker: WalkerStats::default(),
            faults: [0; FaultCause::COUNT],
        }
    }
}

impl MmuStats {
    /// The number of faults of one cause.
    pub fn faults_of(&self, cause: FaultCause) -> u64 {
        self.faults[cause.index()]
    }

    /// All faults.
    pub fn total_faults(&self) -> u64 {
        self.faults.iter().sum()
    }

    pub(crate) fn for_each_head(&self, f: &mut dyn FnMut(&str, u64)) {
        for k in AccessKind::ALL {
            f(
                &format!("mmu.requests.{}", k.name()),
                self.requests[k.index()],
            );
        }
        f("mmu.untranslated", self.untranslated);
        f("mmu.mode_changes", self.mode_changes);
    }

    pub(crate) fn for_each_tail(&self, f: &mut dyn FnMut(&str, u64)) {
        self.walker.for_each("mmu.walker", f);
        for c in FaultCause::all() {
            f(&format!("mmu.faults.{}", c.name()), self.faults[c.index()]);
        }
    }
}
