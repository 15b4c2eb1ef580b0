//! A UART-style console: a transmit register whose bytes the run prints, a receive register
//! fed from an input buffer, and a status register.
//!
//! | offset | width | access | meaning |
//! |---|---|---|---|
//! | `0x0` | 4 | write | TX: a write at offset 0 appends its low byte to the output (reads 0) |
//! | `0x4` | 4 | read | RX: a read at offset 4 returns the next input byte and removes it (0 if none) |
//! | `0x8` | 4 | read | STATUS: bit 0 = input available, bit 1 = ready to transmit (always 1) |
//!
//! Accesses are 1, 2 or 4 bytes, naturally aligned, below offset `0xc`; anything else is an
//! access fault. Writes to RX and STATUS, and to TX's upper bytes, are ignored; the upper
//! bytes read as zero. The console drives no interrupt: a guest polls STATUS.

use crate::device::{Device, DeviceError};
use crate::Cycle;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::collections::VecDeque;

/// The TX register's offset.
pub const CONSOLE_TX: u64 = 0x0;
/// The RX register's offset.
pub const CONSOLE_RX: u64 = 0x4;
/// The STATUS register's offset.
pub const CONSOLE_STATUS: u64 = 0x8;
/// STATUS bit: an input byte is available.
pub const STATUS_RX_READY: u64 = 1;
/// STATUS bit: the transmitter accepts a byte (always set).
pub const STATUS_TX_READY: u64 = 2;
/// The size of the console's register window.
pub const CONSOLE_SIZE: u64 = 0x100;

/// Where the console sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Whether the console is on the bus (default true).
    pub enabled: bool,
    /// The base address (default `0x1000_0000`).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub base: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: true,
            base: 0x1000_0000,
        }
    }
}

/// The console's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConsoleStats {
    /// Bytes written to TX.
    pub tx_bytes: u64,
    /// Bytes read from RX.
    pub rx_bytes: u64,
    /// Reads of RX while no input was available.
    pub rx_empty: u64,
}

/// The console device.
#[derive(Clone, Debug, Default)]
pub struct Console {
    output: Vec<u8>,
    input: VecDeque<u8>,
    stats: ConsoleStats,
}

impl Console {
    /// A console with empty buffers.
    pub fn new() -> Console {
        Console::default()
    }

    /// The bytes written and not yet taken.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Takes the bytes written so far (the run prints them).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Appends bytes to the input buffer.
    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// How many input bytes are waiting.
    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// The counters.
    pub fn stats(&self) -> &ConsoleStats {
        &self.stats
    }

    fn status(&self) -> u64 {
        STATUS_TX_READY
            | if self.input.is_empty() {
                0
            } else {
                STATUS_RX_READY
            }
    }

    /// The register an access falls in: 1, 2 or 4 bytes, naturally aligned, below 0xc.
    fn check(offset: u64, size: u8) -> Result<u64, DeviceError> {
        if !matches!(size, 1 | 2 | 4) || offset & (size as u64 - 1) != 0 || offset >= 0xc {
            return Err(DeviceError { offset, size });
        }
        Ok(offset & !3)
    }
}

impl Device for Console {
    fn name(&self) -> &'static str {
        "console"
    }

    fn size(&self) -> u64 {
        CONSOLE_SIZE
    }

    fn read(&mut self, offset: u64, size: u8, _now: Cycle) -> Result<u64, DeviceError> {
        match Self::check(offset, size)? {
            CONSOLE_RX if offset == CONSOLE_RX => match self.input.pop_front() {
                Some(b) => {
                    self.stats.rx_bytes += 1;
                    Ok(b as u64)
                }
                None => {
                    self.stats.rx_empty += 1;
                    Ok(0)
                }
            },
            _ => self.peek(offset, size),
        }
    }

    fn write(&mut self, offset: u64, size: u8, value: u64, _now: Cycle) -> Result<(), DeviceError> {
        if Self::check(offset, size)? == CONSOLE_TX && offset == CONSOLE_TX {
            self.output.push(value as u8);
            self.stats.tx_bytes += 1;
        }
        Ok(())
    }

    fn peek(&self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        Ok(match Self::check(offset, size)? {
            CONSOLE_RX if offset == CONSOLE_RX => self.input.front().map_or(0, |&b| b as u64),
            CONSOLE_STATUS if offset == CONSOLE_STATUS => self.status(),
            _ => 0,
        })
    }

    fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.tx_bytes"), self.stats.tx_bytes);
        f(&format!("{prefix}.rx_bytes"), self.stats.rx_bytes);
        f(&format!("{prefix}.rx_empty"), self.stats.rx_empty);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
