//! Step-by-step records of one translation, for `vmlab translate` and the debugger.
//!
//! Recording is opt-in through the [`Tracer`] trait: the untraced path uses [`NoTrace`],
//! whose methods compile to nothing.

use crate::format::PteFlags;
use crate::mode::SegmentRegister;
use crate::tlb::{Slot, TlbEntry};
use crate::types::Cycle;
use serde::Serialize;

/// Which TLB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlbId {
    /// The instruction TLB.
    Itlb,
    /// The data TLB.
    Dtlb,
    /// The shared second-level TLB.
    L2tlb,
}

impl TlbId {
    /// The name used in statistics (`itlb`, `dtlb`, `l2tlb`).
    pub fn name(self) -> &'static str {
        match self {
            TlbId::Itlb => "itlb",
            TlbId::Dtlb => "dtlb",
            TlbId::L2tlb => "l2tlb",
        }
    }
}

/// One thing the translation unit did or checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// No translation: bare mode, or machine mode.
    Untranslated {
        /// Why.
        why: &'static str,
    },
    /// The base-and-bounds check and relocation.
    Bounds {
        /// The base register.
        base: u64,
        /// The bounds register.
        bounds: u64,
        /// Whether the access lies below the bounds.
        ok: bool,
    },
    /// The top bits selected a segment register.
    Segment {
        /// Its number.
        segment: u8,
        /// The offset within the segment.
        offset: u64,
        /// The register's contents.
        register: SegmentRegister,
    },
    /// A named check passed or failed (segment limit, permissions, address width ...).
    Check {
        /// What was checked.
        what: &'static str,
        /// Whether it passed.
        ok: bool,
    },
    /// A TLB was probed.
    TlbLookup {
        /// Which TLB.
        tlb: TlbId,
        /// Where it hit, if it did.
        hit: Option<Slot>,
        /// The entry that hit.
        entry: Option<TlbEntry>,
        /// The lookup latency.
        cycles: Cycle,
    },
    /// The walker read a PTE.
    PteRead {
        /// The level (root = levels - 1).
        level: u8,
        /// Its physical address.
        addr: u64,
        /// The raw value.
        value: u64,
        /// Its decoded flags.
        flags: PteFlags,
        /// What the read cost.
        cycles: Cycle,
    },
    /// The PTE points to the next table.
    Pointer {
        /// The level of the PTE.
        level: u8,
        /// The physical address of the next table.
        next: u64,
    },
    /// The PTE is a leaf.
    Leaf {
        /// Its level.
        level: u8,
        /// log2 of the page size it maps.
        page_bits: u8,
    },
    /// The walker set A (and D) in a PTE (Svadu).
    AdWrite {
        /// The PTE address.
        addr: u64,
        /// The old value.
        old: u64,
        /// The new value.
        new: u64,
        /// What the write cost.
        cycles: Cycle,
    },
    /// A translation was written into a TLB.
    TlbFill {
        /// Which TLB.
        tlb: TlbId,
        /// Where.
        slot: Slot,
        /// The valid entry it replaced, if any.
        evicted: Option<TlbEntry>,
    },
    /// The physical address was formed.
    Physical {
        /// The physical address.
        pa: u64,
    },
}

/// Receives steps while a translation runs.
pub trait Tracer {
    /// Whether steps are wanted (callers skip building them when false).
    fn on(&self) -> bool;
    /// Records a step.
    fn push(&mut self, step: Step);
}

/// The tracer of the fast path: records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn on(&self) -> bool {
        false
    }
    #[inline(always)]
    fn push(&mut self, _: Step) {}
}

impl Tracer for Vec<Step> {
    fn on(&self) -> bool {
        true
    }
    fn push(&mut self, step: Step) {
        Vec::push(self, step)
    }
}
