//! A CLINT-style timer: `mtime` counting modelled cycles through a divider, `mtimecmp`
//! raising the machine timer interrupt (MTIP), and `msip` raising the software interrupt.
//!
//! | offset | width | meaning |
//! |---|---|---|
//! | `0x0000` | 4 | `msip`: bit 0 drives MSIP (other bits read 0) |
//! | `0x4000` | 8 (or two 4) | `mtimecmp` (reset value all ones) |
//! | `0xbff8` | 8 (or two 4) | `mtime` |
//!
//! `mtime` at cycle `now` is `m0 + (now - c0) / divider`, where `m0` is the value last
//! written to `mtime` (0 at reset) and `c0` the cycle it was written at (0 at reset).
//! MTIP is pending while `mtime >= mtimecmp`: the first cycle that holds is
//! `c0 + (mtimecmp - m0) * divider`, which [`Device::next_event`] reports; the interrupt line
//! changes when the machine ticks there. Writing `mtimecmp` re-evaluates MTIP at once.

use crate::device::{merge, reg64, slice, Device, DeviceError, MIP_MSIP, MIP_MTIP};
use crate::error::ConfigError;
use crate::ram::Ram;
use crate::Cycle;
use serde::{Deserialize, Serialize};
use std::any::Any;

/// The offset of `msip`.
pub const CLINT_MSIP: u64 = 0x0000;
/// The offset of `mtimecmp`.
pub const CLINT_MTIMECMP: u64 = 0x4000;
/// The offset of `mtime`.
pub const CLINT_MTIME: u64 = 0xbff8;
/// The size of the CLINT's register window.
pub const CLINT_SIZE: u64 = 0x1_0000;

/// Where the timer sits and how fast it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClintConfig {
    /// Whether the CLINT is on the bus (default true).
    pub enabled: bool,
    /// The base address (default `0x0200_0000`).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub base: u64,
    /// Modelled CPU cycles per `mtime` tick (default 10). At least 1.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub divider: u64,
}

impl Default for ClintConfig {
    fn default() -> Self {
        ClintConfig {
            enabled: true,
            base: 0x0200_0000,
            divider: 10,
        }
    }
}

/// The CLINT's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClintStats {
    /// Times MTIP went from clear to pending.
    pub timer_interrupts: u64,
    /// Writes to `mtimecmp`.
    pub mtimecmp_writes: u64,
    /// Writes to `msip`.
    pub msip_writes: u64,
}

/// The timer device.
#[derive(Clone, Debug)]
pub struct Clint {
    cfg: ClintConfig,
    m0: u64,
    c0: Cycle,
    mtimecmp: u64,
    msip: bool,
    mtip: bool,
    stats: ClintStats,
}

impl Clint {
    /// A timer at reset (`mtime` = 0 at cycle 0, `mtimecmp` all ones).
    pub fn new(cfg: ClintConfig) -> Result<Clint, ConfigError> {
        if cfg.divider == 0 {
            return Err(ConfigError::invalid(
                "clint",
                "`divider` = 0; mtime needs at least 1 cycle per tick (1 counts every cycle)",
            ));
        }
        Ok(Clint {
            cfg,
            m0: 0,
            c0: Cycle(0),
            mtimecmp: u64::MAX,
            msip: false,
            mtip: false,
            stats: ClintStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClintConfig {
        &self.cfg
    }

    /// `mtime` at cycle `now`.
    pub fn mtime(&self, now: Cycle) -> u64 {
        self.m0
            .wrapping_add(now.0.saturating_sub(self.c0.0) / self.cfg.divider)
    }

    /// The current `mtimecmp`.
    pub fn mtimecmp(&self) -> u64 {
        self.mtimecmp
    }

    /// The counters.
    pub fn stats(&self) -> &ClintStats {
        &self.stats
    }

    fn set_mtip(&mut self, now: Cycle) {
        let p = self.mtime(now) >= self.mtimecmp;
        if p && !self.mtip {
            self.stats.timer_interrupts += 1;
        }
        self.mtip = p;
    }

    /// The register index (0 = msip, 1 = mtimecmp, 2 = mtime) and byte shift of an access.
    fn locate(offset: u64, size: u8) -> Result<(u8, u64), DeviceError> {
        let err = DeviceError { offset, size };
        let (_, shift) = reg64(offset, size).ok_or(err)?;
        match offset & !7 {
            CLINT_MSIP if shift + size as u64 <= 4 => Ok((0, shift)),
            CLINT_MTIMECMP => Ok((1, shift)),
            CLINT_MTIME => Ok((2, shift)),
            _ => Err(err),
        }
    }

    fn value(&self, reg: u8, now: Cycle) -> u64 {
        match reg {
            0 => self.msip as u64,
            1 => self.mtimecmp,
            _ => self.mtime(now),
        }
    }
}

impl Device for Clint {
    fn name(&self) -> &'static str {
        "clint"
    }

    fn size(&self) -> u64 {
        CLINT_SIZE
    }

    fn read(&mut self, offset: u64, size: u8, now: Cycle) -> Result<u64, DeviceError> {
        let (reg, shift) = Self::locate(offset, size)?;
        Ok(slice(self.value(reg, now), shift, size))
    }

    fn write(&mut self, offset: u64, size: u8, value: u64, now: Cycle) -> Result<(), DeviceError> {
        let (reg, shift) = Self::locate(offset, size)?;
        let new = merge(self.value(reg, now), shift, size, value);
        match reg {
            0 => {
                self.stats.msip_writes += 1;
                self.msip = new & 1 == 1;
            }
            1 => {
                self.stats.mtimecmp_writes += 1;
                self.mtimecmp = new;
            }
            _ => {
                self.m0 = new;
                self.c0 = now;
            }
        }
        self.set_mtip(now);
        Ok(())
    }

    fn peek(&self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        // Without a clock, a functional read of mtime reports its value at the last write.
        let (reg, shift) = Self::locate(offset, size)?;
        Ok(slice(self.value(reg, self.c0), shift, size))
    }

    fn tick(&mut self, now: Cycle, _ram: &mut Ram) {
        self.set_mtip(now);
    }

    fn next_event(&self) -> Option<Cycle> {
        if self.mtip {
            return None;
        }
        if self.mtimecmp <= self.m0 {
            return Some(self.c0);
        }
        (self.mtimecmp - self.m0)
            .checked_mul(self.cfg.divider)
            .and_then(|d| d.checked_add(self.c0.0))
            .map(Cycle)
    }

    fn interrupts(&self) -> u64 {
        (if self.msip { MIP_MSIP } else { 0 }) | (if self.mtip { MIP_MTIP } else { 0 })
    }

    fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(
            &format!("{prefix}.timer_interrupts"),
            self.stats.timer_interrupts,
        );
        f(
            &format!("{prefix}.mtimecmp_writes"),
            self.stats.mtimecmp_writes,
        );
        f(&format!("{prefix}.msip_writes"), self.stats.msip_writes);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
