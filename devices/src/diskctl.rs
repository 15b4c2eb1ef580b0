//! The disk controller: memory-mapped registers through which a guest drives the
//! [`Disk`] by DMA, and a completion interrupt.
//!
//! Every register is 8 bytes; naturally aligned 1-, 2-, 4- and 8-byte accesses within a
//! register work (upper halves of a 64-bit register can be reached with 4-byte accesses).
//!
//! | offset | name | access | meaning |
//! |---|---|---|---|
//! | `0x00` | COMMAND | write | 1 = read blocks into RAM, 2 = write blocks from RAM; submits a request made of BLOCK, DMA_ADDR and COUNT (reads 0) |
//! | `0x08` | BLOCK | read/write | the first block |
//! | `0x10` | DMA_ADDR | read/write | the physical address of the buffer in RAM |
//! | `0x18` | COUNT | read/write | the number of blocks |
//! | `0x20` | STATUS | read; write 1 to clear | bit 0 BUSY (requests outstanding), bit 1 DONE (a completion not yet acknowledged), bit 2 ERROR, bits 15:8 the error code, bits 63:32 the number of outstanding requests. Writing a value clears DONE if its bit 1 is set and ERROR (and the code) if its bit 2 is set |
//! | `0x28` | IRQ_ENABLE | read/write | bit 0: raise the completion interrupt while DONE is set |
//! | `0x30` | BLOCK_SIZE | read | bytes per block |
//! | `0x38` | BLOCKS | read | the disk's size in blocks |
//! | `0x40` | SUBMITTED | read | requests accepted so far; the next request's id |
//! | `0x48` | COMPLETED | read | requests completed so far |
//! | `0x50` | LAST_ID | read | the id of the most recently completed request |
//! | `0x58` | LAST_STATUS | read | the completion status of that request (below); 0 before the first completion |
//! | `0x60` | QUERY_ID | read/write | a request id to look up |
//! | `0x68` | QUERY_STATUS | read | the completion status of request QUERY_ID; 0 while it has not completed (or was never submitted) |
//!
//! A command is submitted to the disk at the cycle of the write (its `arrival`), with the id
//! SUBMITTED had before it; several may be outstanding, so the disk's scheduler matters.
//! When the disk finishes a request (at its `finish` cycle, when the machine ticks there),
//! the controller copies the data — disk to RAM for a read, RAM to disk for a write — sets
//! DONE, increments COMPLETED and, if enabled, raises the interrupt (`mip` bit
//! [`DiskCtlConfig::irq_bit`], MEIP by default).
//!
//! Error codes (STATUS bits 15:8, with ERROR set): 1 = unknown command, 2 = the disk rejected
//! the request (beyond the last block, or zero blocks), 3 = the DMA buffer is not wholly in
//! RAM (the request completed but no data moved), 4 = read error, 5 = write error, 6 =
//! timeout. Codes 4 to 6 are faults the disk injected on purpose (`fault_rate` in the disk's
//! configuration, `docs/disk.md`): the request completed, failed, and moved no data — a
//! failed read leaves RAM untouched, a failed write leaves the disk's blocks unchanged, and
//! the DMA buffer is not even looked at. Codes 3 to 6 are completion errors: they are also
//! the [`DiskFault`] recorded with the completion ([`error_code`] maps one to the other).
//!
//! A completion status (LAST_STATUS, QUERY_STATUS) has bit 1 set (DONE: the request
//! completed) and, if it failed, bit 2 (ERROR) and its error code in bits 15:8 — the layout
//! of STATUS. So a guest with several requests outstanding can write an id to QUERY_ID and
//! read QUERY_STATUS to learn that request's outcome; reading either has no side effect.

use crate::device::{merge, reg64, slice, Device, DeviceError};
use crate::disk::{
    Completion, Disk, DiskConfig, DiskError, DiskFault, DiskOp, DiskRequest, FaultStats,
};
use crate::error::ConfigError;
use crate::ram::Ram;
use crate::Cycle;
use serde::{Deserialize, Serialize};
use std::any::Any;

/// COMMAND's offset.
pub const DISK_COMMAND: u64 = 0x00;
/// BLOCK's offset.
pub const DISK_BLOCK: u64 = 0x08;
/// DMA_ADDR's offset.
pub const DISK_DMA_ADDR: u64 = 0x10;
/// COUNT's offset.
pub const DISK_COUNT: u64 = 0x18;
/// STATUS's offset.
pub const DISK_STATUS: u64 = 0x20;
/// IRQ_ENABLE's offset.
pub const DISK_IRQ_ENABLE: u64 = 0x28;
/// BLOCK_SIZE's offset.
pub const DISK_BLOCK_SIZE: u64 = 0x30;
/// BLOCKS's offset.
pub const DISK_BLOCKS: u64 = 0x38;
/// SUBMITTED's offset.
pub const DISK_SUBMITTED: u64 = 0x40;
/// COMPLETED's offset.
pub const DISK_COMPLETED: u64 = 0x48;
/// LAST_ID's offset.
pub const DISK_LAST_ID: u64 = 0x50;
/// LAST_STATUS's offset: the completion status of request LAST_ID.
pub const DISK_LAST_STATUS: u64 = 0x58;
/// QUERY_ID's offset: the request id QUERY_STATUS describes.
pub const DISK_QUERY_ID: u64 = 0x60;
/// QUERY_STATUS's offset: the completion status of request QUERY_ID.
pub const DISK_QUERY_STATUS: u64 = 0x68;
/// The size of the controller's register window.
pub const DISKCTL_SIZE: u64 = 0x100;

/// COMMAND value: read blocks from the disk into RAM.
pub const CMD_READ: u64 = 1;
/// COMMAND value: write blocks from RAM to the disk.
pub const CMD_WRITE: u64 = 2;
/// STATUS bit: requests are outstanding.
pub const STATUS_BUSY: u64 = 1;
/// STATUS bit: a completion has not been acknowledged.
pub const STATUS_DONE: u64 = 2;
/// STATUS bit: the last error has not been acknowledged (code in bits 15:8).
pub const STATUS_ERROR: u64 = 4;
/// Error code: COMMAND was neither 1 nor 2.
pub const ERR_BAD_COMMAND: u64 = 1;
/// Error code: the disk rejected the request.
pub const ERR_REJECTED: u64 = 2;
/// Error code: the DMA buffer is not wholly in RAM ([`DiskFault::Dma`]).
pub const ERR_DMA: u64 = 3;
/// Error code: the disk failed a read ([`DiskFault::Read`], injected).
pub const ERR_READ: u64 = 4;
/// Error code: the disk failed a write ([`DiskFault::Write`], injected).
pub const ERR_WRITE: u64 = 5;
/// Error code: the request timed out ([`DiskFault::Timeout`], injected).
pub const ERR_TIMEOUT: u64 = 6;

/// The STATUS error code of a failed completion: [`ERR_READ`], [`ERR_WRITE`],
/// [`ERR_TIMEOUT`] or [`ERR_DMA`].
pub fn error_code(fault: DiskFault) -> u64 {
    match fault {
        DiskFault::Read => ERR_READ,
        DiskFault::Write => ERR_WRITE,
        DiskFault::Timeout => ERR_TIMEOUT,
        DiskFault::Dma => ERR_DMA,
    }
}

/// The completion status word of a request's result (as LAST_STATUS and QUERY_STATUS give
/// it): [`STATUS_DONE`], plus [`STATUS_ERROR`] and the error code in bits 15:8 if it failed.
pub fn completion_status(result: Result<(), DiskFault>) -> u64 {
    match result {
        Ok(()) => STATUS_DONE,
        Err(f) => STATUS_DONE | STATUS_ERROR | error_code(f) << 8,
    }
}

/// Where the controller sits, which interrupt it raises, and the disk behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskCtlConfig {
    /// Whether the controller is on the bus (default true).
    pub enabled: bool,
    /// The base address (default `0x1000_1000`).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub base: u64,
    /// The `mip` bit the completion interrupt drives (default 11, MEIP; 9 is SEIP).
    pub irq_bit: u32,
    /// The disk (default [`DiskConfig::default`]; see `docs/disk.md`).
    pub disk: DiskConfig,
}

impl Default for DiskCtlConfig {
    fn default() -> Self {
        DiskCtlConfig {
            enabled: true,
            base: 0x1000_1000,
            irq_bit: 11,
            disk: DiskConfig::default(),
        }
    }
}

/// The controller's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiskCtlStats {
    /// Read commands accepted.
    pub reads: u64,
    /// Write commands accepted.
    pub writes: u64,
    /// Commands refused (unknown command, rejected by the disk).
    pub rejected: u64,
    /// Completions whose DMA buffer was not in RAM.
    pub dma_faults: u64,
    /// Bytes copied from the disk into RAM.
    pub dma_bytes_in: u64,
    /// Bytes copied from RAM to the disk.
    pub dma_bytes_out: u64,
    /// Times the interrupt line went from low to high.
    pub interrupts: u64,
    /// Completions that failed because the disk injected a fault, by kind (DMA errors are
    /// `dma_faults`).
    pub faults: FaultStats,
}

/// The disk controller device, owning its [`Disk`].
#[derive(Debug)]
pub struct DiskController {
    cfg_base: u64,
    irq: u64,
    disk: Disk,
    block: u64,
    dma: u64,
    count: u64,
    done: bool,
    error: u64,
    irq_enable: bool,
    submitted: u64,
    completed: u64,
    last_id: u64,
    last_status: u64,
    query_id: u64,
    /// For each request id (they are dense from 0), its index in `log` once it completed.
    logged: Vec<Option<usize>>,
    /// Outstanding requests: (id, op, block, count, dma address).
    outstanding: Vec<(u64, DiskOp, u64, u64, u64)>,
    /// The disk's next completion, recomputed whenever the queue changes (host speed only).
    next: Option<Cycle>,
    /// Completions in the order they happened, for reports and tests.
    log: Vec<Completion>,
    stats: DiskCtlStats,
}

impl DiskController {
    /// A controller over a new disk built from `cfg.disk`.
    pub fn new(cfg: &DiskCtlConfig) -> Result<DiskController, ConfigError> {
        if cfg.irq_bit >= 64 {
            return Err(ConfigError::invalid(
                "diskctl",
                format!(
                    "`irq_bit` = {}; use a mip bit below 64 (11 = MEIP, 9 = SEIP)",
                    cfg.irq_bit
                ),
            ));
        }
        let disk = Disk::new(cfg.disk.clone()).map_err(|e| match e {
            DiskError::Config(m) => ConfigError::invalid("disk", m),
            e => ConfigError::invalid("disk", e.to_string()),
        })?;
        Ok(DiskController::with_disk(disk, cfg.base, cfg.irq_bit))
    }

    /// A controller over an existing disk, raising `mip` bit `irq_bit` (taken modulo 64).
    pub fn with_disk(disk: Disk, base: u64, irq_bit: u32) -> DiskController {
        DiskController {
            cfg_base: base,
            irq: 1u64 << (irq_bit % 64),
            disk,
            block: 0,
            dma: 0,
            count: 0,
            done: false,
            error: 0,
            irq_enable: false,
            submitted: 0,
            completed: 0,
            last_id: 0,
            last_status: 0,
            query_id: 0,
            logged: Vec::new(),
            outstanding: Vec::new(),
            next: None,
            log: Vec::new(),
            stats: DiskCtlStats::default(),
        }
    }

    /// The base address it was configured with.
    pub fn base(&self) -> u64 {
        self.cfg_base
    }

    /// The disk.
    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    /// The disk, mutably (to preload its data, or flush its image).
    pub fn disk_mut(&mut self) -> &mut Disk {
        &mut self.disk
    }

    /// Every completion so far, in order, with the disk's timing breakdown and its result
    /// ([`Completion::fault`], [`Completion::result`]): a fault the disk injected, or
    /// [`DiskFault::Dma`] when the buffer was not wholly in RAM.
    pub fn completions(&self) -> &[Completion] {
        &self.log
    }

    /// The completion of request `id`, once it has completed.
    pub fn completion(&self, id: u64) -> Option<&Completion> {
        let i = (*self.logged.get(usize::try_from(id).ok()?)?)?;
        self.log.get(i)
    }

    /// The result of request `id`: `None` while it has not completed (or if it was never
    /// accepted), else `Some(Ok(()))` or `Some(Err(fault))`.
    pub fn result(&self, id: u64) -> Option<Result<(), DiskFault>> {
        self.completion(id).map(Completion::result)
    }

    /// The controller's counters.
    pub fn stats(&self) -> &DiskCtlStats {
        &self.stats
    }

    fn status(&self) -> u64 {
        let n = self.outstanding.len() as u64;
        (if n > 0 { STATUS_BUSY } else { 0 })
            | (if self.done { STATUS_DONE } else { 0 })
            | (if self.error != 0 { STATUS_ERROR } else { 0 })
            | (self.error & 0xff) << 8
            | n << 32
    }

    fn value(&self, reg: u64) -> u64 {
        match reg * 8 {
            DISK_BLOCK => self.block,
            DISK_DMA_ADDR => self.dma,
            DISK_COUNT => self.count,
            DISK_STATUS => self.status(),
            DISK_IRQ_ENABLE => self.irq_enable as u64,
            DISK_BLOCK_SIZE => self.disk.block_size(),
            DISK_BLOCKS => self.disk.blocks(),
            DISK_SUBMITTED => self.submitted,
            DISK_COMPLETED => self.completed,
            DISK_LAST_ID => self.last_id,
            DISK_LAST_STATUS => self.last_status,
            DISK_QUERY_ID => self.query_id,
            DISK_QUERY_STATUS => self.result(self.query_id).map_or(0, completion_status),
            _ => 0,
        }
    }

    fn locate(offset: u64, size: u8) -> Result<(u64, u64), DeviceError> {
        match reg64(offset, size) {
            Some((reg, shift)) if reg * 8 <= DISK_QUERY_STATUS => Ok((reg, shift)),
            _ => Err(DeviceError { offset, size }),
        }
    }

    fn command(&mut self, cmd: u64, now: Cycle) {
        let op = match cmd {
            CMD_READ => DiskOp::Read,
            CMD_WRITE => DiskOp::Write,
            _ => {
                self.stats.rejected += 1;
                self.error = ERR_BAD_COMMAND;
                return;
            }
        };
        let id = self.submitted;
        let req = DiskRequest {
            id,
            op,
            block: self.block,
            count: self.count,
            arrival: now,
        };
        match self.disk.submit(req) {
            Ok(()) => {
                self.submitted += 1;
                match op {
                    DiskOp::Read => self.stats.reads += 1,
                    DiskOp::Write => self.stats.writes += 1,
                }
                self.outstanding
                    .push((id, op, self.block, self.count, self.dma));
                self.logged.push(None);
                self.next = self.disk.next_event();
            }
            Err(e) => {
                tracing::debug!(%e, "disk controller: request rejected");
                self.stats.rejected += 1;
                self.error = ERR_REJECTED;
            }
        }
    }

    fn complete(&mut self, mut c: Completion, ram: &mut Ram) {
        let Some(pos) = self.outstanding.iter().position(|o| o.0 == c.id) else {
            return;
        };
        let (_, op, block, count, dma) = self.outstanding.remove(pos);
        let bs = self.disk.block_size();
        let len = count.checked_mul(bs).filter(|&l| ram.contains(dma, l));
        match (c.fault, len) {
            (Some(f), _) => {
                // The disk failed the request: no data moves either way.
                tracing::debug!(
                    id = c.id,
                    fault = f.name(),
                    "disk controller: request failed"
                );
                self.stats.faults.count(f);
                self.error = error_code(f);
            }
            (None, Some(len)) => {
                let mut buf = vec![0u8; len as usize];
                let moved = match op {
                    DiskOp::Read => self
                        .disk
                        .read_blocks(block, &mut buf)
                        .is_ok()
                        .then(|| ram.write_bytes(dma, &buf).is_ok()),
                    DiskOp::Write => ram
                        .read_bytes(dma, &mut buf)
                        .is_ok()
                        .then(|| self.disk.write_blocks(block, &buf).is_ok()),
                };
                if moved == Some(true) {
                    match op {
                        DiskOp::Read => self.stats.dma_bytes_in += len,
                        DiskOp::Write => self.stats.dma_bytes_out += len,
                    }
                } else {
                    self.stats.dma_faults += 1;
                    self.error = ERR_DMA;
                    c.fault = Some(DiskFault::Dma);
                }
            }
            (None, None) => {
                self.stats.dma_faults += 1;
                self.error = ERR_DMA;
                c.fault = Some(DiskFault::Dma);
            }
        }
        self.completed += 1;
        self.last_id = c.id;
        self.last_status = completion_status(c.result());
        if let Some(slot) = usize::try_from(c.id)
            .ok()
            .and_then(|i| self.logged.get_mut(i))
        {
            *slot = Some(self.log.len());
        }
        if !self.done && self.irq_enable {
            self.stats.interrupts += 1;
        }
        self.done = true;
        self.log.push(c);
    }
}

impl Device for DiskController {
    fn name(&self) -> &'static str {
        "diskctl"
    }

    fn size(&self) -> u64 {
        DISKCTL_SIZE
    }

    fn read(&mut self, offset: u64, size: u8, _now: Cycle) -> Result<u64, DeviceError> {
        self.peek(offset, size)
    }

    fn write(&mut self, offset: u64, size: u8, value: u64, now: Cycle) -> Result<(), DeviceError> {
        let (reg, shift) = Self::locate(offset, size)?;
        let new = merge(self.value(reg), shift, size, value);
        match reg * 8 {
            DISK_COMMAND => self.command(merge(0, shift, size, value), now),
            DISK_BLOCK => self.block = new,
            DISK_DMA_ADDR => self.dma = new,
            DISK_COUNT => self.count = new,
            DISK_QUERY_ID => self.query_id = new,
            DISK_STATUS => {
                let bits = merge(0, shift, size, value);
                if bits & STATUS_DONE != 0 {
                    self.done = false;
                }
                if bits & STATUS_ERROR != 0 {
                    self.error = 0;
                }
            }
            DISK_IRQ_ENABLE => {
                let on = new & 1 == 1;
                if on && !self.irq_enable && self.done {
                    self.stats.interrupts += 1;
                }
                self.irq_enable = on;
            }
            _ => {}
        }
        Ok(())
    }

    fn peek(&self, offset: u64, size: u8) -> Result<u64, DeviceError> {
        let (reg, shift) = Self::locate(offset, size)?;
        Ok(slice(self.value(reg), shift, size))
    }

    fn tick(&mut self, now: Cycle, ram: &mut Ram) {
        if self.next.is_none_or(|t| t > now) {
            return;
        }
        for c in self.disk.advance(now) {
            self.complete(c, ram);
        }
        self.next = self.disk.next_event();
    }

    fn next_event(&self) -> Option<Cycle> {
        self.next
    }

    fn interrupts(&self) -> u64 {
        if self.done && self.irq_enable {
            self.irq
        } else {
            0
        }
    }

    fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        let s = &self.stats;
        f(&format!("{prefix}.reads"), s.reads);
        f(&format!("{prefix}.writes"), s.writes);
        f(&format!("{prefix}.rejected"), s.rejected);
        f(&format!("{prefix}.dma_faults"), s.dma_faults);
        if self.disk.faults_enabled() {
            s.faults.for_each(prefix, f);
        }
        f(&format!("{prefix}.dma_bytes_in"), s.dma_bytes_in);
        f(&format!("{prefix}.dma_bytes_out"), s.dma_bytes_out);
        f(&format!("{prefix}.interrupts"), s.interrupts);
        self.disk.for_each_stat(f);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
