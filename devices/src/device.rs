//! The interface every memory-mapped device implements, and the interrupt lines it drives.

use crate::ram::Ram;
use crate::Cycle;
use std::any::Any;

/// The machine-software interrupt pending bit in `mip` (MSIP, bit 3).
pub const MIP_MSIP: u64 = 1 << 3;
/// The machine-timer interrupt pending bit in `mip` (MTIP, bit 7).
pub const MIP_MTIP: u64 = 1 << 7;
/// The supervisor-external interrupt pending bit in `mip` (SEIP, bit 9).
pub const MIP_SEIP: u64 = 1 << 9;
/// The machine-external interrupt pending bit in `mip` (MEIP, bit 11).
pub const MIP_MEIP: u64 = 1 << 11;

/// A device refused an access: there is no register of that width at that offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no {size}-byte register at offset {offset:#x}")]
pub struct DeviceError {
    /// The offset within the device's window.
    pub offset: u64,
    /// The access width in bytes.
    pub size: u8,
}

/// A memory-mapped device on the [`Bus`](crate::Bus).
///
/// Offsets are relative to the device's base address; values are little-endian and `size` is
/// 1, 2, 4 or 8. A write to a read-only register is ignored, as on most hardware; an access
/// where the device has no register of that width is a [`DeviceError`], which the bus turns
/// into an access fault.
///
/// Time: `now` is the machine's current cycle. The machine calls [`Device::tick`] whenever
/// `now` reaches [`Device::next_event`] (calling it more often is harmless), and reads the
/// interrupt lines with [`Device::interrupts`] after ticking. A tick receives the RAM so
/// that a device can copy data to and from memory (DMA) when a request completes.
pub trait Device {
    /// A short name, used in error messages and as the prefix of its statistics.
    fn name(&self) -> &'static str;

    /// The size in bytes of the device's register window.
    fn size(&self) -> u64;

    /// A timed read of a register (may have side effects, e.g. popping a receive buffer).
    fn read(&mut self, offset: u64, size: u8, now: Cycle) -> Result<u64, DeviceError>;

    /// A write to a register.
    fn write(&mut self, offset: u64, size: u8, value: u64, now: Cycle) -> Result<(), DeviceError>;

    /// A functional read that changes nothing (for debuggers and the page-table probe).
    fn peek(&self, offset: u64, size: u8) -> Result<u64, DeviceError>;

    /// Advances the device to `now`: finishes whatever is due, copying data through `ram`.
    fn tick(&mut self, now: Cycle, ram: &mut Ram) {
        let _ = (now, ram);
    }

    /// The cycle of the device's next internal event, if it has one scheduled.
    fn next_event(&self) -> Option<Cycle> {
        None
    }

    /// The `mip` bits this device currently drives (see [`MIP_MTIP`] and friends).
    fn interrupts(&self) -> u64 {
        0
    }

    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64));

    /// The device as [`Any`], so the machine can reach its concrete type.
    fn as_any(&self) -> &dyn Any;

    /// The device as mutable [`Any`].
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Reads `size` bytes of `value` starting `shift` bytes in: the sub-word view of a register.
pub(crate) fn slice(value: u64, shift: u64, size: u8) -> u64 {
    let v = value >> (8 * shift);
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (8 * size as u32)) - 1)
    }
}

/// Replaces `size` bytes of `reg` starting `shift` bytes in with the low bytes of `value`.
pub(crate) fn merge(reg: u64, shift: u64, size: u8, value: u64) -> u64 {
    let mask = if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size as u32)) - 1
    };
    let mask = mask << (8 * shift);
    (reg & !mask) | ((value << (8 * shift)) & mask)
}

/// Finds the 8-byte register an aligned access of `size` bytes at `offset` falls in:
/// returns (register index, byte shift within it), or `None` if misaligned or too wide.
pub(crate) fn reg64(offset: u64, size: u8) -> Option<(u64, u64)> {
    if !matches!(size, 1 | 2 | 4 | 8) || offset & (size as u64 - 1) != 0 {
        return None;
    }
    Some((offset / 8, offset % 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_word_helpers() {
        assert_eq!(slice(0x1122_3344_5566_7788, 4, 4), 0x1122_3344);
        assert_eq!(slice(0x1122_3344_5566_7788, 1, 1), 0x77);
        assert_eq!(
            merge(0x1122_3344_5566_7788, 4, 2, 0xabcd),
            0x1122_abcd_5566_7788
        );
        assert_eq!(merge(0, 0, 8, u64::MAX), u64::MAX);
        assert_eq!(reg64(0x0c, 4), Some((1, 4)));
        assert_eq!(reg64(0x0c, 8), None);
        assert_eq!(reg64(0x00, 3), None);
    }
}
