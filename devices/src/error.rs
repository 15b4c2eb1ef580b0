//! The crate's error values: access faults on the bus and configuration errors.

use crate::device::DeviceError;

/// Why a physical access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusErrorKind {
    /// Nothing is mapped at the address (or the access runs past the end of what is).
    #[error("nothing is mapped there")]
    Unmapped,
    /// The width is not 1, 2, 4 or 8 bytes.
    #[error("an access must be 1, 2, 4 or 8 bytes wide")]
    BadSize,
    /// A device has no register of that width at that offset.
    #[error("device `{device}`: {error}")]
    Device {
        /// The device's name.
        device: &'static str,
        /// What the device said.
        error: DeviceError,
    },
}

/// An access fault: a physical access that reached no memory or register.
///
/// This is data for the CPU to turn into an access-fault trap, never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("access fault: {size}-byte {} at physical address {addr:#x}: {kind}", if *.write { "write" } else { "read" })]
pub struct BusError {
    /// The physical address of the first byte.
    pub addr: u64,
    /// The access width in bytes.
    pub size: u64,
    /// Whether the access was a write.
    pub write: bool,
    /// Why it failed.
    pub kind: BusErrorKind,
}

impl BusError {
    pub(crate) fn unmapped(addr: u64, size: u64, write: bool) -> BusError {
        BusError {
            addr,
            size,
            write,
            kind: BusErrorKind::Unmapped,
        }
    }
}

/// A configuration that cannot be built, with a message that says what would be right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A unit's settings are impossible.
    #[error("invalid {unit} configuration: {message}")]
    Invalid {
        /// The unit, as its statistics prefix names it (`cache.l1d`, `dram`, `ram`...).
        unit: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// Two entries of the bus map overlap.
    #[error(
        "bus map: `{new}` at {new_base:#x}..{new_end:#x} overlaps `{old}` at {old_base:#x}..{old_end:#x}; \
         move one of them so that their ranges do not intersect"
    )]
    Overlap {
        /// The entry being added.
        new: String,
        /// Its first address.
        new_base: u64,
        /// One past its last address.
        new_end: u64,
        /// The entry already mapped.
        old: String,
        /// Its first address.
        old_base: u64,
        /// One past its last address.
        old_end: u64,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `unit`.
    pub fn invalid(unit: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            unit: unit.into(),
            message: message.into(),
        }
    }
}
