//! vmlab's physical side: everything that lives at a physical address and everything that
//! gives a physical access its latency.
//!
//! This crate knows nothing about translation: a physical address is all it ever sees.
//! [`Ram`] holds the data; the [`Bus`] maps physical ranges to RAM, to memory-mapped
//! [`Device`]s ([`Console`], [`Clint`], the disk controller) and to the [`Htif`] words;
//! [`Cache`]s and [`Dram`] give each access its latency; [`MemorySystem`] puts them together
//! behind fetch/load/store and implements the MMU's `MemoryPort`, so page-table reads are
//! ordinary data accesses. See `docs/devices.md` for the memory map and timing rules.
#![warn(missing_docs)]

pub mod bus;
pub mod cache;
pub mod clint;
pub mod console;
pub mod device;
pub mod disk;
pub mod diskctl;
pub mod dram;
pub mod error;
pub mod htif;
pub mod memory;
pub mod oracle;
pub mod ram;

pub use bus::{Bus, BusStats, Region, Target};
pub use cache::{Cache, CacheConfig, CacheOp, CacheStats, Replacement, WritePolicy};
pub use clint::{Clint, ClintConfig};
pub use console::{Console, ConsoleConfig};
pub use device::{Device, DeviceError, MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP};
pub use diskctl::{DiskController, DiskCtlConfig};
pub use dram::{Dram, DramConfig, DramModel, DramStats};
pub use error::{BusError, BusErrorKind, ConfigError};
pub use htif::{Htif, HtifConfig};
pub use memory::{AccessKind, MemoryConfig, MemoryStats, MemorySystem};
pub use ram::{Ram, RamConfig};
pub use vmlab_common::Cycle;
