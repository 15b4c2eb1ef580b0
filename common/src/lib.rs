//! What vmlab's hardware units share without knowing each other.
//!
//! The translation unit (`vmlab-mmu`) and the physical side (`vmlab-devices`) must not depend
//! on one another: the MMU knows nothing of caches or buses, the devices nothing of
//! translation. What both need lives here: modelled time ([`Cycle`]), the port through which
//! the page-table walker reaches physical memory ([`MemoryPort`], implemented by the devices'
//! memory system), and the replacement state of set-associative structures
//! ([`replacement::Replacer`], used by the TLBs and the caches alike).
#![warn(missing_docs)]

pub mod num;
pub mod replacement;

pub use replacement::{Policy, Replacer};

use serde::{Deserialize, Serialize};

/// The largest value a latency key of the configuration accepts, in cycles (`docs/config.md`,
/// "Ranges"): generous for any real study, and small enough that the sums the models form
/// per access and per instruction cannot overflow.
pub const MAX_LATENCY: u64 = 1_000_000;

/// `Err` with a message naming `key` when `value` (a latency in cycles) is above
/// [`MAX_LATENCY`].
pub fn check_latency(key: &str, value: u64) -> Result<(), String> {
    if value > MAX_LATENCY {
        Err(format!(
            "`{key}` = {value} is too large: a latency is at most {MAX_LATENCY} cycles"
        ))
    } else {
        Ok(())
    }
}
use std::fmt;
use std::ops::{Add, AddAssign};

/// A number of modelled clock cycles.
///
/// Every latency in vmlab is a `Cycle`; nothing reads a wall clock. Addition saturates.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cycle(pub u64);

impl Add for Cycle {
    type Output = Cycle;
    fn add(self, rhs: Cycle) -> Cycle {
        Cycle(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Cycle {
    fn add_assign(&mut self, rhs: Cycle) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A physical address the port cannot reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no memory at physical address {addr:#x}")]
pub struct PortError {
    /// The physical address.
    pub addr: u64,
}

/// Physical memory as the page-table walker sees it.
///
/// Values are little-endian and `size` is 1, 2, 4 or 8 bytes. In the full machine the
/// devices crate's memory system implements it, so a PTE read is an ordinary data access
/// through the caches and costs what a load would.
pub trait MemoryPort {
    /// A timed read: the value and the cycles it took.
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError>;
    /// A timed write (for A/D updates): the cycles it took.
    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError>;
    /// A functional read that changes nothing (no cache state, no statistics).
    fn peek(&self, addr: u64, size: u8) -> Result<u64, PortError>;
}
