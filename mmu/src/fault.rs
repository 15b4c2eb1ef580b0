//! Faults: every way a translation can fail, as data.

use crate::types::AccessKind;
use serde::Serialize;
use std::fmt;

/// Why a page-table walk (or a TLB hit's permission check) refused an access.
///
/// The walker checks in the order the variants are listed in `docs/mmu.md`
/// ("Check order"), which follows the privileged specification's algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageFaultReason {
    /// The PTE's valid bit is clear.
    Invalid,
    /// The PTE has W set and R clear, an encoding reserved by the specification.
    WriteWithoutRead,
    /// A bit the format reserves (e.g. Sv39 bits 63:54) is set.
    ReservedBits,
    /// A non-leaf PTE has D, A or U set (reserved for non-leaf PTEs by the specification).
    NonLeafReserved,
    /// A pointer PTE was found at the last level: there is no level below to point to.
    PointerAtLastLevel,
    /// A leaf was found above the last level in a format without superpages.
    SuperpageNotAllowed,
    /// A user-mode access to a page without the U bit.
    SupervisorPage,
    /// A supervisor-mode load or store to a U page with `SUM` clear.
    UserPageSumClear,
    /// A supervisor-mode fetch from a U page (never allowed).
    UserPageFetch,
    /// A load from a page that is not readable (and not executable with `MXR` set).
    NotReadable,
    /// A store to a page without W.
    NotWritable,
    /// A fetch from a page without X.
    NotExecutable,
    /// A superpage whose physical page number has non-zero low bits.
    MisalignedSuperpage,
    /// Svade: the accessed bit is clear.
    AccessedClear,
    /// Svade: a store to a page whose dirty bit is clear.
    DirtyClear,
}

impl PageFaultReason {
    /// All reasons, in check order.
    pub const ALL: [PageFaultReason; 15] = [
        PageFaultReason::Invalid,
        PageFaultReason::WriteWithoutRead,
        PageFaultReason::ReservedBits,
        PageFaultReason::NonLeafReserved,
        PageFaultReason::PointerAtLastLevel,
        PageFaultReason::SuperpageNotAllowed,
        PageFaultReason::SupervisorPage,
        PageFaultReason::UserPageSumClear,
        PageFaultReason::UserPageFetch,
        PageFaultReason::NotReadable,
        PageFaultReason::NotWritable,
        PageFaultReason::NotExecutable,
        PageFaultReason::MisalignedSuperpage,
        PageFaultReason::AccessedClear,
        PageFaultReason::DirtyClear,
    ];

    /// The snake_case name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            PageFaultReason::Invalid => "invalid",
            PageFaultReason::WriteWithoutRead => "write_without_read",
            PageFaultReason::ReservedBits => "reserved_bits",
            PageFaultReason::NonLeafReserved => "non_leaf_reserved",
            PageFaultReason::PointerAtLastLevel => "pointer_at_last_level",
            PageFaultReason::SuperpageNotAllowed => "superpage_not_allowed",
            PageFaultReason::SupervisorPage => "supervisor_page",
            PageFaultReason::UserPageSumClear => "user_page_sum_clear",
            PageFaultReason::UserPageFetch => "user_page_fetch",
            PageFaultReason::NotReadable => "not_readable",
            PageFaultReason::NotWritable => "not_writable",
            PageFaultReason::NotExecutable => "not_executable",
            PageFaultReason::MisalignedSuperpage => "misaligned_superpage",
            PageFaultReason::AccessedClear => "accessed_clear",
            PageFaultReason::DirtyClear => "dirty_clear",
        }
    }

    /// A sentence a teacher would write next to the fault.
    pub fn explain(self) -> &'static str {
        match self {
            PageFaultReason::Invalid => "the PTE is not valid (V = 0)",
            PageFaultReason::WriteWithoutRead => "the PTE is writable but not readable (W = 1, R = 0 is reserved)",
            PageFaultReason::ReservedBits => "the PTE has reserved bits set",
            PageFaultReason::NonLeafReserved => "a non-leaf PTE has D, A or U set (reserved)",
            PageFaultReason::PointerAtLastLevel => "the last-level PTE points to a further table",
            PageFaultReason::SuperpageNotAllowed => "a leaf above the last level, but this format has no superpages",
            PageFaultReason::SupervisorPage => "user mode touched a supervisor page (U = 0)",
            PageFaultReason::UserPageSumClear => "supervisor mode touched a user page with SUM = 0",
            PageFaultReason::UserPageFetch => "supervisor mode may never execute from a user page",
            PageFaultReason::NotReadable => "the page is not readable",
            PageFaultReason::NotWritable => "the page is not writable",
            PageFaultReason::NotExecutable => "the page is not executable",
            PageFaultReason::MisalignedSuperpage => "the superpage's physical page number is not aligned to its size",
            PageFaultReason::AccessedClear => "the accessed bit is clear and the hardware does not set it (Svade)",
            PageFaultReason::DirtyClear => "a store to a page whose dirty bit is clear, and the hardware does not set it (Svade)",
        }
    }
}

/// Which segment-register check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentProtection {
    /// A load from a segment without read permission.
    NotReadable,
    /// A store to a segment without write permission.
    NotWritable,
    /// A fetch from a segment without execute permission.
    NotExecutable,
    /// A user-mode access to a supervisor-only segment.
    SupervisorOnly,
}

impl SegmentProtection {
    /// A short sentence for reports.
    pub fn explain(self) -> &'static str {
        match self {
            SegmentProtection::NotReadable => "the segment is not readable",
            SegmentProtection::NotWritable => "the segment is not writable",
            SegmentProtection::NotExecutable => "the segment is not executable",
            SegmentProtection::SupervisorOnly => "user mode touched a supervisor-only segment",
        }
    }
}

/// A translation failure, with everything a kernel (or a student) needs to know why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Base and bounds: the access does not lie below the bounds register.
    Bounds {
        /// The virtual address.
        va: u64,
        /// The access width.
        size: u8,
        /// The bounds register.
        bounds: u64,
    },
    /// The virtual address does not fit the mode's address width (upper bits not zero).
    AddressOutOfRange {
        /// The virtual address.
        va: u64,
        /// How many low bits an address of this mode may use.
        va_bits: u8,
    },
    /// A paged mode with sign-extended addresses: bits above the top bit do not all equal it.
    NonCanonical {
        /// The virtual address.
        va: u64,
        /// The number of significant virtual-address bits (39 for Sv39).
        va_bits: u8,
    },
    /// The access is beyond the segment's limit (or below it, for a grows-down segment).
    SegmentLimit {
        /// The segment register number.
        segment: u8,
        /// The offset within the segment.
        offset: u64,
        /// The access width.
        size: u8,
        /// The segment's limit (its size in bytes).
        limit: u64,
        /// Whether the segment grows down.
        grows_down: bool,
    },
    /// The segment's present bit is clear: the kernel may load it and retry.
    SegmentNotPresent {
        /// The segment register number.
        segment: u8,
    },
    /// A segment permission check failed.
    SegmentProtection {
        /// The segment register number.
        segment: u8,
        /// Which check.
        reason: SegmentProtection,
    },
    /// A page-table walk, or a TLB hit's permission check, refused the access.
    Page {
        /// The virtual address.
        va: u64,
        /// The access kind.
        kind: AccessKind,
        /// The level of the PTE that caused the fault (root = levels - 1, leaf level = 0).
        level: u8,
        /// The physical address of that PTE.
        pte_addr: u64,
        /// Its raw value.
        pte: u64,
        /// Which check failed.
        reason: PageFaultReason,
    },
    /// Reading or writing a PTE reached a physical address the memory does not answer.
    PteAccess {
        /// The virtual address.
        va: u64,
        /// The access kind.
        kind: AccessKind,
        /// The level being read.
        level: u8,
        /// The physical address of the PTE.
        pte_addr: u64,
    },
    /// An access in a paged mode crosses a page boundary; the CPU splits or traps such accesses.
    PageStraddle {
        /// The virtual address.
        va: u64,
        /// The access width.
        size: u8,
    },
}

/// The flat cause of a fault, for counters and for mapping to architectural exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultCause {
    /// See [`Fault::Bounds`].
    Bounds,
    /// See [`Fault::AddressOutOfRange`].
    AddressOutOfRange,
    /// See [`Fault::NonCanonical`].
    NonCanonical,
    /// See [`Fault::SegmentLimit`].
    SegmentLimit,
    /// See [`Fault::SegmentNotPresent`].
    SegmentNotPresent,
    /// See [`Fault::SegmentProtection`].
    SegmentProtection,
    /// See [`Fault::Page`], by reason.
    Page(PageFaultReason),
    /// See [`Fault::PteAccess`].
    PteAccess,
    /// See [`Fault::PageStraddle`].
    PageStraddle,
}

impl FaultCause {
    /// Every cause, in the stable order statistics list them.
    pub fn all() -> impl Iterator<Item = FaultCause> {
        [
            FaultCause::Bounds,
            FaultCause::AddressOutOfRange,
            FaultCause::NonCanonical,
            FaultCause::SegmentLimit,
            FaultCause::SegmentNotPresent,
            FaultCause::SegmentProtection,
        ]
        .into_iter()
        .chain(PageFaultReason::ALL.into_iter().map(FaultCause::Page))
        .chain([FaultCause::PteAccess, FaultCause::PageStraddle])
    }

    /// A dense index for counter arrays.
    pub fn index(self) -> usize {
        match self {
            FaultCause::Bounds => 0,
            FaultCause::AddressOutOfRange => 1,
            FaultCause::NonCanonical => 2,
            FaultCause::SegmentLimit => 3,
            FaultCause::SegmentNotPresent => 4,
            FaultCause::SegmentProtection => 5,
            FaultCause::Page(r) => 6 + r as usize,
            FaultCause::PteAccess => 6 + PageFaultReason::ALL.len(),
            FaultCause::PageStraddle => 7 + PageFaultReason::ALL.len(),
        }
    }

    /// How many distinct causes there are.
    pub const COUNT: usize = 8 + PageFaultReason::ALL.len();

    /// The dotted-name suffix used in statistics (`mmu.faults.<name>`).
    pub fn name(self) -> String {
        match self {
            FaultCause::Bounds => "bounds".into(),
            FaultCause::AddressOutOfRange => "address_out_of_range".into(),
            FaultCause::NonCanonical => "non_canonical".into(),
            FaultCause::SegmentLimit => "segment_limit".into(),
            FaultCause::SegmentNotPresent => "segment_not_present".into(),
            FaultCause::SegmentProtection => "segment_protection".into(),
            FaultCause::Page(r) => format!("page.{}", r.name()),
            FaultCause::PteAccess => "pte_access".into(),
            FaultCause::PageStraddle => "page_straddle".into(),
        }
    }
}

/// How the RISC-V privileged architecture classifies a fault (for the CPU's trap cause).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    /// An instruction, load or store page fault (causes 12, 13, 15).
    PageFault,
    /// An instruction, load or store access fault (causes 1, 5, 7).
    AccessFault,
    /// An address-misaligned exception (causes 0, 4, 6).
    Misaligned,
}

impl Fault {
    /// The flat cause of this fault.
    pub fn cause(&self) -> FaultCause {
        match *self {
            Fault::Bounds { .. } => FaultCause::Bounds,
            Fault::AddressOutOfRange { .. } => FaultCause::AddressOutOfRange,
            Fault::NonCanonical { .. } => FaultCause::NonCanonical,
            Fault::SegmentLimit { .. } => FaultCause::SegmentLimit,
            Fault::SegmentNotPresent { .. } => FaultCause::SegmentNotPresent,
            Fault::SegmentProtection { .. } => FaultCause::SegmentProtection,
            Fault::Page { reason, .. } => FaultCause::Page(reason),
            Fault::PteAccess { .. } => FaultCause::PteAccess,
            Fault::PageStraddle { .. } => FaultCause::PageStraddle,
        }
    }

    /// The architectural class: page faults for paging and canonical-address failures,
    /// access faults for PTE accesses that reach no memory and for the non-RISC-V schemes
    /// (base and bounds, segments), misaligned for page-straddling accesses.
    pub fn class(&self) -> FaultClass {
        match self {
            Fault::NonCanonical { .. } | Fault::Page { .. } | Fault::AddressOutOfRange { .. } => {
                FaultClass::PageFault
            }
            Fault::PageStraddle { .. } => FaultClass::Misaligned,
            _ => FaultClass::AccessFault,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::Bounds { va, size, bounds } => write!(
                f,
                "bounds violation: {size}-byte access at {va:#x} is not below the bounds {bounds:#x}"
            ),
            Fault::AddressOutOfRange { va, va_bits } => write!(
                f,
                "address out of range: {va:#x} does not fit in {va_bits} bits"
            ),
            Fault::NonCanonical { va, va_bits } => write!(
                f,
                "non-canonical address: bits 63..{va_bits} of {va:#x} must all equal bit {}",
                va_bits - 1
            ),
            Fault::SegmentLimit {
                segment,
                offset,
                size,
                limit,
                grows_down,
            } => {
                if grows_down {
                    write!(
                        f,
                        "segment limit: {size}-byte access at offset {offset:#x} of grows-down segment {segment} lies outside its top {limit:#x} bytes"
                    )
                } else {
                    write!(
                        f,
                        "segment limit: {size}-byte access at offset {offset:#x} of segment {segment} is not below its limit {limit:#x}"
                    )
                }
            }
            Fault::SegmentNotPresent { segment } => {
                write!(f, "segment not present: segment {segment}")
            }
            Fault::SegmentProtection { segment, reason } => {
                write!(f, "segment protection: segment {segment}: {}", reason.explain())
            }
            Fault::Page {
                va,
                kind,
                level,
                pte_addr,
                pte,
                reason,
            } => write!(
                f,
                "{kind} page fault at {va:#x}: {} (level {level} PTE at {pte_addr:#x} = {pte:#x})",
                reason.explain()
            ),
            Fault::PteAccess {
                va,
                kind,
                level,
                pte_addr,
            } => write!(
                f,
                "{kind} access fault at {va:#x}: the level {level} PTE at {pte_addr:#x} is not in physical memory"
            ),
            Fault::PageStraddle { va, size } => write!(
                f,
                "misaligned: the {size}-byte access at {va:#x} crosses a page boundary"
            ),
        }
    }
}

impl std::error::Error for Fault {}
