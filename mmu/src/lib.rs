//! vmlab's translation unit.
//!
//! Every instruction fetch and every load and store of the modelled CPU goes through
//! [`Mmu::translate`]: bare, base and bounds, segment registers (optionally paged), or a
//! multi-level page table walked by hardware in any [`Format`] (RISC-V Sv32/Sv39/Sv48/Sv57,
//! the OSTEP teaching formats, or one written in a configuration file), cached by
//! set-associative TLBs. The unit never reads CPU state: each [`Request`] carries a
//! [`Context`] value. Faults are data ([`Fault`]). A [`Mmu::probe`] answers the same question
//! without changing anything. [`reference`](mod@reference) is a deliberately simple translator used as the
//! oracle of the differential fuzzer in [`oracle`].
#![warn(missing_docs)]

pub mod config;
pub mod fault;
pub mod format;
pub mod mode;
pub mod oracle;
pub mod port;
pub mod reference;
pub mod stats;
pub mod tlb;
pub mod trace;
pub mod types;
mod unit;
pub mod walker;

pub use config::{ConfigError, MmuConfig, TlbPresence};
pub use fault::{Fault, FaultCause, FaultClass, PageFaultReason, SegmentProtection};
pub use format::{AdPolicy, Format, FormatError, FormatSpec};
pub use mode::{Mode, ModeError, SegmentRegister, SegmentSelect, Segmentation};
pub use port::{MemoryPort, PortError, SparseMemory};
pub use stats::MmuStats;
pub use tlb::{Flush, Policy, Tlb, TlbConfig, TlbEntry};
pub use trace::{Step, TlbId, Tracer};
pub use types::{AccessKind, Context, Cycle, Privilege, Request};
pub use unit::{Faulted, Mmu, Source, Translation};
