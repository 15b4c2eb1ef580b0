//! HTIF, the host-target interface of the RISC-V test suites and Spike: the `tohost` and
//! `fromhost` words.
//!
//! The guest writes a 64-bit command to `tohost`: device = bits 63:56, command = bits 55:48,
//! payload = bits 47:0. The host takes a command when the machine next ticks at or after the
//! write plus [`HtifConfig::latency`], then clears `tohost` (programs wait for that):
//!
//! - device 0, odd payload: exit with code `payload >> 1` ([`Htif::exit_code`]);
//! - device 0, even payload: a pointer to a syscall block (`magic_mem`: eight little-endian
//!   words, number then arguments). 64 = `write(fd, buf, len)` to fd 1 or 2 appends to the
//!   output; 93 = `exit(code)`. The result goes into `magic_mem[0]` (a negative errno on
//!   failure: -9 bad fd, -14 bad buffer, -38 unknown syscall) and `fromhost` becomes 1;
//! - device 1, command 1: print the payload's low byte;
//! - device 1, command 0: read a console byte; answered when input is available by writing
//!   `fromhost = 1 << 56 | 0x100 | byte`.
//!
//! Anything else is counted as unknown and dropped.

use crate::ram::Ram;
use crate::Cycle;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Where the HTIF words are and how quickly the host answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HtifConfig {
    /// Whether the HTIF words are on the bus (default true).
    pub enabled: bool,
    /// The physical address of the 8-byte `tohost` word (default `0x0100_0000`). A loader
    /// that finds an ELF symbol `tohost` moves it there with [`crate::Bus::set_htif`].
    /// It may lie inside RAM: the word then shadows those RAM bytes.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub tohost: u64,
    /// The physical address of the 8-byte `fromhost` word (default `0x0100_0008`).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fromhost: u64,
    /// Cycles from a write of `tohost` until the host takes the command (default 0: at the
    /// next tick).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub latency: u64,
}

impl Default for HtifConfig {
    fn default() -> Self {
        HtifConfig {
            enabled: true,
            tohost: 0x0100_0000,
            fromhost: 0x0100_0008,
            latency: 0,
        }
    }
}

/// HTIF's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HtifStats {
    /// Commands taken from `tohost`.
    pub commands: u64,
    /// Exit commands (device 0 with an odd payload, or syscall 93).
    pub exits: u64,
    /// Syscall blocks served.
    pub syscalls: u64,
    /// Console characters printed (device 1 command 1 and syscall writes).
    pub chars_out: u64,
    /// Console characters delivered to the guest (device 1 command 0).
    pub chars_in: u64,
    /// Commands or syscalls not understood, or whose memory could not be reached.
    pub errors: u64,
}

impl HtifStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.commands"), self.commands);
        f(&format!("{prefix}.exits"), self.exits);
        f(&format!("{prefix}.syscalls"), self.syscalls);
        f(&format!("{prefix}.chars_out"), self.chars_out);
        f(&format!("{prefix}.chars_in"), self.chars_in);
        f(&format!("{prefix}.errors"), self.errors);
    }
}

const SYS_WRITE: u64 = 64;
const SYS_EXIT: u64 = 93;
const EBADF: i64 = 9;
const EFAULT: i64 = 14;
const ENOSYS: i64 = 38;

/// The HTIF words and the host behind them.
#[derive(Clone, Debug)]
pub struct Htif {
    cfg: HtifConfig,
    tohost: u64,
    fromhost: u64,
    /// When `tohost` became non-zero (the command is taken at this + latency).
    written: Option<Cycle>,
    /// A console read waiting for input.
    pending_read: bool,
    exit: Option<u64>,
    output: Vec<u8>,
    input: VecDeque<u8>,
    stats: HtifStats,
}

impl Htif {
    /// The host side with the given placement (checked by the bus when it is mapped).
    pub fn new(cfg: HtifConfig) -> Htif {
        Htif {
            cfg,
            tohost: 0,
            fromhost: 0,
            written: None,
            pending_read: false,
            exit: None,
            output: Vec::new(),
            input: VecDeque::new(),
            stats: HtifStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HtifConfig {
        &self.cfg
    }

    pub(crate) fn set_addresses(&mut self, tohost: u64, fromhost: u64) {
        self.cfg.tohost = tohost;
        self.cfg.fromhost = fromhost;
    }

    /// The exit code once the guest has asked to exit.
    pub fn exit_code(&self) -> Option<u64> {
        self.exit
    }

    /// The bytes the guest has printed and that have not been taken.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Takes the printed bytes.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Queues bytes for console reads (device 1 command 0).
    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// The current `tohost` value.
    pub fn tohost(&self) -> u64 {
        self.tohost
    }

    /// The current `fromhost` value.
    pub fn fromhost(&self) -> u64 {
        self.fromhost
    }

    /// The counters.
    pub fn stats(&self) -> &HtifStats {
        &self.stats
    }

    /// Which word (0 = tohost, 1 = fromhost) and byte shift an access of `len` bytes at
    /// `addr` falls in, if it lies wholly inside one of them.
    pub(crate) fn word(&self, addr: u64, len: u64) -> Option<(u8, u64)> {
        for (i, base) in [self.cfg.tohost, self.cfg.fromhost].into_iter().enumerate() {
            if addr >= base && addr - base < 8 {
                let shift = addr - base;
                return (shift + len <= 8).then_some((i as u8, shift));
            }
        }
        None
    }

    /// Whether any byte of `addr..addr+len` touches either word.
    pub(crate) fn touches(&self, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        [self.cfg.tohost, self.cfg.fromhost]
            .into_iter()
            .any(|b| addr < b.saturating_add(8) && b < end)
    }

    pub(crate) fn read(&self, word: u8, shift: u64, size: u8) -> u64 {
        let v = if word == 0 {
            self.tohost
        } else {
            self.fromhost
        };
        crate::device::slice(v, shift, size)
    }

    pub(crate) fn write(&mut self, word: u8, shift: u64, size: u8, value: u64, now: Cycle) {
        if word == 0 {
            self.tohost = crate::device::merge(self.tohost, shift, size, value);
            if self.tohost != 0 && self.written.is_none() {
                self.written = Some(now);
            }
        } else {
            self.fromhost = crate::device::merge(self.fromhost, shift, size, value);
        }
    }

    /// When the host will take the pending command or answer a pending read.
    pub fn next_event(&self) -> Option<Cycle> {
        match self.written {
            Some(t) => Some(t + Cycle(self.cfg.latency)),
            None if self.pending_read && !self.input.is_empty() && self.fromhost == 0 => {
                Some(Cycle(0))
            }
            None => None,
        }
    }

    /// Takes a due command, if any, serving it through `ram`.
    pub fn tick(&mut self, now: Cycle, ram: &mut Ram) {
        if self.pending_read && self.fromhost == 0 {
            if let Some(b) = self.input.pop_front() {
                self.pending_read = false;
                self.stats.chars_in += 1;
                self.fromhost = 1 << 56 | 0x100 | b as u64;
            }
        }
        let Some(t) = self.written else { return };
        if now < t + Cycle(self.cfg.latency) {
            return;
        }
        let cmd = self.tohost;
        self.tohost = 0;
        self.written = None;
        self.stats.commands += 1;
        let (dev, op, payload) = (cmd >> 56, (cmd >> 48) & 0xff, cmd & ((1 << 48) - 1));
        match (dev, op) {
            (0, 0) if payload & 1 == 1 => self.exit(payload >> 1),
            (0, 0) => self.syscall(payload, ram),
            (1, 1) => {
                self.output.push(payload as u8);
                self.stats.chars_out += 1;
            }
            (1, 0) => self.pending_read = true,
            _ => {
                tracing::debug!(cmd, "unknown HTIF command");
                self.stats.errors += 1;
            }
        }
    }

    fn exit(&mut self, code: u64) {
        self.stats.exits += 1;
        if self.exit.is_none() {
            self.exit = Some(code);
        }
    }

    fn syscall(&mut self, block: u64, ram: &mut Ram) {
        let mut words = [0u8; 64];
        if ram.read_bytes(block, &mut words).is_err() {
            self.stats.errors += 1;
            self.fromhost = 1;
            return;
        }
        self.stats.syscalls += 1;
        let w = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&words[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b)
        };
        let ret: i64 = match w(0) {
            SYS_WRITE => {
                let (fd, buf, len) = (w(1), w(2), w(3));
                if fd != 1 && fd != 2 {
                    -EBADF
                } else if len > ram.size() || !ram.contains(buf, len) {
                    -EFAULT
                } else {
                    let mut bytes = vec![0u8; len as usize];
                    match ram.read_bytes(buf, &mut bytes) {
                        Ok(()) => {
                            self.stats.chars_out += len;
                            self.output.extend_from_slice(&bytes);
                            len as i64
                        }
                        Err(_) => -EFAULT,
                    }
                }
            }
            SYS_EXIT => {
                self.exit(w(1));
                0
            }
            _ => {
                self.stats.errors += 1;
                -ENOSYS
            }
        };
        if ram.write(block, 8, ret as u64).is_err() {
            self.stats.errors += 1;
        }
        self.fromhost = 1;
    }
}
