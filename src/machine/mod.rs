//! The `Machine`: one hart, the translation unit and the memory system wired together, with
//! the pipeline timing model keeping the clock.
//!
//! Each [`Machine::step`] lets the hart execute one instruction (or take one trap, or wait)
//! against a [`port::Port`] that sends every access through the MMU and the memory system
//! and adds up the cycles they report; the timing model turns those cycles and the
//! instruction into the step's cost, and the clock, `mcycle` and the devices advance by it.
//! The run ends when the program writes `tohost`, makes an exit `ecall`, reaches a limit,
//! double-faults or waits for an interrupt that can never come.

pub mod config;
mod epoch;
pub mod fuzz;
pub mod guest_io;
mod kernel_hw;
pub mod port;

pub use config::{apply_set_all, ConfigError, EcallExit, MachineConfig};
pub use guest_io::{GuestIo, Input};
pub use port::MemAccess;

use epoch::Epoch;
use port::{DecodeCache, FetchBuffer, Front, Port, StepNotes};
use std::fmt;
use vmlab_cpu::elf::{Elf, ElfError};
use vmlab_cpu::hart::{Hart, StepResult};
use vmlab_cpu::isa::Insn;
use vmlab_cpu::timing::MemCycles;
use vmlab_cpu::timing::{Class, Pipeline};
use vmlab_cpu::trap::{Exception, Trap};
use vmlab_cpu::vmcsr::{err as vm_err, Formats};
use vmlab_devices::{Console, Cycle, MemorySystem};
use vmlab_mmu::{Mmu, Privilege};

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The program wrote an exit command to `tohost`.
    Tohost {
        /// The exit code (the payload shifted right by one).
        code: u64,
    },
    /// The program made an exit `ecall` (`a7 = 93`).
    Ecall {
        /// The exit code (`a0`).
        code: u64,
    },
    /// `run.max_insns` instructions retired.
    InsnLimit(u64),
    /// The clock reached `run.max_cycles`.
    CycleLimit(u64),
    /// An exception in the first instruction of a trap handler.
    DoubleFault {
        /// The trap being entered.
        first: Trap,
        /// Where the first trap happened.
        first_epc: u64,
        /// The exception the handler raised.
        second: Trap,
        /// The handler's address.
        handler: u64,
    },
    /// `wfi` with no interrupt enabled that any device could ever raise.
    Deadlock {
        /// The pc after the `wfi`.
        pc: u64,
    },
    /// An instruction that jumps to itself, with no enabled interrupt that could ever
    /// arrive: the program would loop there for ever.
    Spin {
        /// The instruction's pc.
        pc: u64,
    },
}

/// The process exit code when a limit stops the run.
pub const EXIT_LIMIT: u8 = 124;
/// The process exit code of a double fault or a deadlock.
pub const EXIT_FAULT: u8 = 125;

impl Stop {
    /// The process exit code: the guest's own (its low 8 bits) when it exited, else
    /// [`EXIT_LIMIT`] or [`EXIT_FAULT`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Stop::Tohost { code } | Stop::Ecall { code } => *code as u8,
            Stop::InsnLimit(_) | Stop::CycleLimit(_) => EXIT_LIMIT,
            Stop::DoubleFault { .. } | Stop::Deadlock { .. } | Stop::Spin { .. } => EXIT_FAULT,
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Tohost { code } => write!(f, "the program exited with code {code} (tohost)"),
            Stop::Ecall { code } => write!(f, "the program exited with code {code} (ecall)"),
            Stop::InsnLimit(n) => write!(f, "stopped after {n} instructions (--max-insns)"),
            Stop::CycleLimit(n) => write!(f, "stopped at cycle {n} (--max-cycles)"),
            Stop::DoubleFault {
                first,
                first_epc,
                second,
                handler,
            } => write!(
                f,
                "double fault: {} at pc {first_epc:#x} entered the handler at {handler:#x}, \
                 which raised {} before retiring an instruction (is mtvec/stvec set?)",
                describe(first),
                describe(second)
            ),
            Stop::Spin { pc } => write!(
                f,
                "infinite loop: the instruction at pc {pc:#x} jumps to itself, and no enabled \
                 interrupt could ever arrive to take the hart elsewhere"
            ),
            Stop::Deadlock { pc } => write!(
                f,
                "deadlock: wfi at pc {:#x} waits for an interrupt, but no device has \
                 anything scheduled that could raise one",
                pc.wrapping_sub(4)
            ),
        }
    }
}

/// A trap in words: `load page fault (cause 13, tval 0x1000)`.
pub fn describe(t: &Trap) -> String {
    format!(
        "{} (cause {}, tval {:#x})",
        trap_name(t),
        t.cause() & !(1 << 63),
        t.tval()
    )
}

/// The specification's name of a trap cause.
pub fn trap_name(t: &Trap) -> &'static str {
    match t {
        Trap::Interrupt(i) => match i.code() {
            1 => "supervisor software interrupt",
            3 => "machine software interrupt",
            5 => "supervisor timer interrupt",
            7 => "machine timer interrupt",
            9 => "supervisor external interrupt",
            11 => "machine external interrupt",
            _ => "interrupt",
        },
        Trap::Exception(e) => match e.code() {
            0 => "instruction address misaligned",
            1 => "instruction access fault",
            2 => "illegal instruction",
            3 => "breakpoint",
            4 => "load address misaligned",
            5 => "load access fault",
            6 => "store/AMO address misaligned",
            7 => "store/AMO access fault",
            8 => "environment call from U-mode",
            9 => "environment call from S-mode",
            11 => "environment call from M-mode",
            12 => "instruction page fault",
            13 => "load page fault",
            15 => "store/AMO page fault",
            _ => "exception",
        },
    }
}

/// A machine that cannot be built or loaded.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// A configuration problem.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The program cannot be loaded.
    #[error("{0}")]
    Elf(#[from] ElfError),
}

/// What one step did, for observers (the commit log, tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// The hart's result.
    pub result: StepResult,
    /// The pc the step started at.
    pub pc: u64,
    /// The privilege the step started in.
    pub privilege: Privilege,
    /// The instruction fetched (Illegal with imm 0 if none was).
    pub insn: Insn,
    /// Its raw bits.
    pub raw: u32,
    /// The cycles the step cost.
    pub cycles: u64,
}

/// The machine.
pub struct Machine {
    /// The hart.
    pub hart: Hart,
    /// The translation unit.
    pub mmu: Mmu,
    /// The physical side.
    pub mem: MemorySystem,
    pipeline: Pipeline,
    cfg: MachineConfig,
    now: u64,
    /// The fetch buffer, the decode cache and the other state each step's port works on.
    front: Front,
    next_event: Option<u64>,
    /// The `mip` bits the devices drive (read again after every device access or tick).
    lines: u64,
    /// The previous step entered a trap handler at this pc, and nothing retired since.
    entering: Option<(Trap, u64, u64)>,
    stop: Option<Stop>,
    output: Vec<u8>,
    /// A hosted guest's standard input, standard error and terminals.
    pub guest_io: GuestIo,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("pc", &self.hart.pc)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// Builds a machine (every unit validated) with the hart at `0x8000_0000` in M-mode.
    pub fn new(cfg: MachineConfig) -> Result<Machine, MachineError> {
        let bad = |e: String| MachineError::Config(ConfigError(e));
        cfg.check_ranges()?;
        let mut mmu = Mmu::new(cfg.mmu.clone()).map_err(|e| bad(format!("mmu: {e}")))?;
        let mut mem = MemorySystem::new(cfg.memory.clone()).map_err(|e| bad(e.to_string()))?;
        mmu.set_host_shortcuts(cfg.host.fast_paths);
        mem.set_host_shortcuts(cfg.host.fast_paths);
        let pipeline = Pipeline::new(cfg.timing.clone()).map_err(|e| bad(e.to_string()))?;
        let formats = Formats::new(cfg.custom_formats()?);
        let fetch_block = if cfg.memory.l1i.enabled {
            cfg.memory.l1i.line
        } else {
            4
        };
        let misa =
            vmlab_cpu::march::parse_isa(&cfg.cpu.isa).map_err(|e| bad(format!("cpu.isa: {e}")))?;
        let mut hart = Hart::new(cfg.cpu.hartid, cfg.cpu.reset_pc.unwrap_or(0x8000_0000));
        hart.csrs.set_misa(misa);
        hart.count_cycles = false;
        hart.misaligned_in_hardware = cfg.cpu.misaligned == config::Misaligned::Hardware;
        Ok(Machine {
            hart,
            mmu,
            next_event: mem.next_event().map(|c| c.0),
            lines: mem.interrupts(),
            mem,
            pipeline,
            front: Front {
                fetch_buf: FetchBuffer::default(),
                epoch: Epoch::FIRST,
                fetch_block,
                decode_cache: DecodeCache::new(cfg.host.decode_cache),
                formats,
                notes: StepNotes::default(),
                log: None,
                probe_check: None,
            },
            cfg,
            now: 0,
            entering: None,
            stop: None,
            output: Vec::new(),
            guest_io: GuestIo::default(),
        })
    }

    /// Loads `elf` into RAM, moves the HTIF words to its `tohost`/`fromhost` symbols, and
    /// puts the hart at its entry point (or `cpu.reset_pc`).
    pub fn load(&mut self, elf: &Elf) -> Result<(), MachineError> {
        let (base, size) = (self.mem.ram().base(), self.mem.ram().size());
        let ram = self.mem.ram_mut();
        let entry = elf.load_into(base, size, &mut |pa, bytes| {
            ram.write_bytes(pa, bytes).map_err(|e| e.to_string())
        })?;
        if let Some(tohost) = elf.tohost {
            let fromhost = elf.fromhost.unwrap_or(tohost + 8);
            self.mem
                .bus_mut()
                .set_htif(tohost, fromhost)
                .map_err(|e| ConfigError(format!("{}: tohost/fromhost: {e}", elf.path)))?;
        }
        self.hart.pc = self.cfg.cpu.reset_pc.unwrap_or(entry);
        self.next_event = self.mem.next_event().map(|c| c.0);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &MachineConfig {
        &self.cfg
    }

    /// The modelled clock: cycles since reset.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Instructions retired (`minstret` counts the same unless software wrote it).
    pub fn retired(&self) -> u64 {
        self.pipeline.stats().retired
    }

    /// Why the run stopped, once it has.
    pub fn stop_reason(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// What hosted processes wrote to standard error since the last call.
    pub fn take_errors(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.guest_io.errors)
    }

    /// Console and HTIF output produced since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Record every data access of each step (for the commit log).
    pub fn set_access_log(&mut self, on: bool) {
        self.front.log = on.then(Vec::new);
    }

    /// Answer every access with `Mmu::probe` too and record where it disagrees with the
    /// timed translation (for the CPU fuzz oracle; slow).
    pub fn set_probe_check(&mut self, on: bool) {
        self.front.probe_check = on.then(Vec::new);
    }

    /// The disagreements the probe check found so far.
    pub fn probe_mismatches(&self) -> &[String] {
        self.front.probe_check.as_deref().unwrap_or(&[])
    }

    /// The data accesses of the last step (empty unless the access log is on).
    pub fn last_accesses(&self) -> &[MemAccess] {
        self.front.log.as_deref().unwrap_or(&[])
    }

    /// The translation epoch: how many changes that can alter a cached translation (a
    /// translation CSR load, `sfence.vma`, a privilege change) the machine has seen. A
    /// translation cached on the machine's side (the fetch buffer's) is used only in the
    /// epoch it was made in.
    pub fn translation_epoch(&self) -> u64 {
        self.front.epoch.count()
    }

    /// The pipeline model (its statistics).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Runs until the program stops or a limit is reached; returns why.
    pub fn run(&mut self) -> &Stop {
        while self.stop.is_none() {
            self.advance();
        }
        self.stop.as_ref().expect("stopped")
    }

    /// Runs at most `n` more steps (so the caller can print output as it comes); returns
    /// whether the run has stopped.
    pub fn run_for(&mut self, n: u64) -> bool {
        for _ in 0..n {
            if self.stop.is_some() {
                break;
            }
            self.advance();
        }
        self.stop.is_some()
    }

    /// One step: an instruction, a trap, or a wait. Does nothing once the run has stopped.
    pub fn step(&mut self) -> Option<StepInfo> {
        let (result, pc, privilege, cycles) = self.advance()?;
        Some(StepInfo {
            result,
            pc,
            privilege,
            insn: self.hart.last_insn(),
            raw: if self.hart.last_fetched {
                self.hart.last_raw
            } else {
                0
            },
            cycles,
        })
    }

    /// [`Machine::step`] without building its report: the result, the pc and privilege the
    /// step started at, and its cycles.
    #[inline(always)]
    pub(crate) fn advance(&mut self) -> Option<(StepResult, u64, Privilege, u64)> {
        if self.stop.is_some() {
            return None;
        }
        let limits = &self.cfg.run;
        if limits.max_insns != 0 && self.pipeline.stats().retired >= limits.max_insns {
            self.stop = Some(Stop::InsnLimit(self.pipeline.stats().retired));
            return None;
        }
        if limits.max_cycles != 0 && self.now >= limits.max_cycles {
            self.stop = Some(Stop::CycleLimit(self.now));
            return None;
        }
        // The interrupt lines, as the devices drive them since their last change.
        self.hart.csrs.mip_lines = self.lines;
        let pc = self.hart.pc;
        let privilege = self.hart.privilege;
        if let Some(log) = self.front.log.as_mut() {
            log.clear();
        }
        // A fresh record for this step (`mode` was taken by the last one).
        let notes = &mut self.front.notes;
        notes.mem = MemCycles::default();
        notes.mmio = false;
        notes.flush = None;
        self.mem.set_now(Cycle(self.now));
        let mut port = Port {
            mmu: &mut self.mmu,
            mem: &mut self.mem,
            front: &mut self.front,
            now: self.now,
        };
        let result = self.hart.step(&mut port);
        let notes = &mut self.front.notes;
        let mem_cycles = notes.mem;
        let mmio = notes.mmio;
        // (Tested in place: taking the whole record out every step would copy it.)
        let mode_changed = notes.mode.is_some();
        let mut wrote_mcycle = false;
        let cycles = match result {
            StepResult::Retired => {
                self.entering = None;
                if self.hart.pc == pc && self.cfg.run.stop_on_spin && !self.interruptible() {
                    // A jump to itself that nothing can ever interrupt: it would spin for
                    // ever (checked only for a jump to itself, so it costs one compare).
                    self.stop = Some(Stop::Spin { pc });
                }
                let (cost, wrote) = self.retire(pc, mem_cycles, privilege);
                wrote_mcycle = wrote;
                cost
            }
            StepResult::Trapped {
                trap,
                epc,
                pc: handler,
                privilege: to,
            } => {
                self.front.fetch_buf.flush();
                if to != privilege {
                    // A fetch translates at the current privilege.
                    self.front.epoch.advance();
                }
                if let Some(code) = self.ecall_exit(&trap, to) {
                    self.stop = Some(Stop::Ecall { code });
                }
                if let (Some((first, first_epc, h)), Trap::Exception(_)) = (self.entering, trap) {
                    if h == epc && self.cfg.run.stop_on_double_fault {
                        self.stop = Some(Stop::DoubleFault {
                            first,
                            first_epc,
                            second: trap,
                            handler: h,
                        });
                    }
                }
                self.entering = Some((trap, epc, handler));
                self.pipeline.trap(mem_cycles)
            }
            StepResult::Waiting => {
                // The step that executed the `wfi` retired it (the hart counted it in
                // `minstret` and moved the pc past it): it is priced as any retired `wfi`
                // is, then the wait follows. Later steps spent waiting fetch nothing.
                let cost = if self.hart.last_fetched {
                    self.entering = None;
                    self.retire_wfi(pc, mem_cycles, privilege)
                } else {
                    0
                };
                // Skip to the next device event: nothing else can wake the hart. A step
                // must move the clock: a waiting step that retired nothing waits at least 1.
                let at = self.now.saturating_add(cost);
                let floor = at.saturating_add(u64::from(cost == 0));
                match self.mem.next_event() {
                    Some(Cycle(t)) => {
                        let mut t = t.max(floor);
                        if self.cfg.run.max_cycles != 0 {
                            t = t.min(self.cfg.run.max_cycles.max(floor));
                        }
                        let d = t - at;
                        if d > 0 {
                            self.pipeline.wait(d);
                        }
                        cost + d
                    }
                    None => {
                        self.stop = Some(Stop::Deadlock { pc: self.hart.pc });
                        cost
                    }
                }
            }
        };
        if mode_changed {
            if let Some(mode) = self.front.notes.mode.take() {
                self.apply_mode(mode);
            }
        }
        // A write to mcycle sets it; otherwise it counts this step's cycles.
        if !wrote_mcycle {
            self.hart.csrs.tick(cycles, 0);
        }
        self.now = self.now.saturating_add(cycles);
        if mmio {
            self.next_event = self.mem.next_event().map(|c| c.0);
        }
        if self.next_event.is_some_and(|e| e <= self.now) {
            self.mem.tick(Cycle(self.now));
            self.next_event = self.mem.next_event().map(|c| c.0);
            self.lines = self.mem.interrupts();
            self.collect_output();
        } else if mmio {
            self.lines = self.mem.interrupts();
            self.collect_output();
        }
        Some((result, pc, privilege, cycles))
    }

    /// Whether an interrupt could ever be taken from here: one is enabled in `mie` at a
    /// level the current privilege lets through, and one is pending or some device has an
    /// event scheduled that could raise one. (The kernel of the hosted machine asks the
    /// same question with its own knowledge.)
    pub fn interruptible(&self) -> bool {
        let c = &self.hart.csrs;
        let mstatus = c.mstatus;
        let m_ok = self.hart.privilege != Privilege::Machine
            || mstatus & vmlab_cpu::csr::mstatus::MIE != 0;
        let s_ok = match self.hart.privilege {
            Privilege::User => true,
            Privilege::Supervisor => mstatus & vmlab_cpu::csr::mstatus::SIE != 0,
            Privilege::Machine => false,
        };
        let m_enabled = c.mie & !c.mideleg != 0 && m_ok;
        let s_enabled = c.mie & c.mideleg != 0 && s_ok;
        if !(m_enabled || s_enabled) {
            return false;
        }
        let pending = (c.mip_lines | c.mip_sw) & c.mie != 0;
        pending || self.mem.next_event().is_some()
    }

    /// Gathers console and HTIF output, and notices an HTIF exit.
    fn collect_output(&mut self) {
        let bus = self.mem.bus_mut();
        if let Some(c) = bus.device_mut::<Console>() {
            let out = c.take_output();
            self.output.extend_from_slice(&out);
        }
        if let Some(h) = bus.htif_mut() {
            let out = h.take_output();
            self.output.extend_from_slice(&out);
            if let Some(code) = h.exit_code() {
                if self.stop.is_none() {
                    self.stop = Some(Stop::Tohost { code });
                }
            }
        }
    }

    /// Whether this trap is an exit `ecall` under `run.ecall_exit`; its code if so.
    fn ecall_exit(&self, trap: &Trap, to: Privilege) -> Option<u64> {
        let Trap::Exception(e) = trap else {
            return None;
        };
        if !matches!(
            e,
            Exception::EcallFromU | Exception::EcallFromS | Exception::EcallFromM
        ) || self.hart.reg(17) != 93
        {
            return None;
        }
        let unhandled = {
            let c = &self.hart.csrs;
            match to {
                Privilege::Supervisor => c.stvec & !3 == 0,
                _ => c.mtvec & !3 == 0,
            }
        };
        match self.cfg.run.ecall_exit {
            EcallExit::Always => Some(self.hart.reg(10)),
            EcallExit::Unhandled if unhandled => Some(self.hart.reg(10)),
            _ => None,
        }
    }

    /// Prices the instruction the hart just retired at `pc` (`mem`: the memory cycles the
    /// step noted): its cost, and whether it wrote `mcycle`. A serialising instruction
    /// refetches what follows it, so it empties the fetch buffer.
    /// An xRET (serialising) that changed the privilege (`from`: the privilege before the
    /// step) starts a new translation epoch: a fetch translates at the current privilege.
    #[inline(always)]
    fn retire(&mut self, pc: u64, mem: MemCycles, from: Privilege) -> (u64, bool) {
        let d = self.front.decode_cache.last_for(self.hart.last_raw);
        if d.info.class == Class::Serial {
            self.front.fetch_buf.flush();
            if self.hart.privilege != from {
                self.front.epoch.advance();
            }
        }
        let cost = self.pipeline.retire_info(&d.info, pc, self.hart.pc, mem);
        (cost, d.writes_mcycle)
    }

    /// [`Machine::retire`] for the `wfi` that starts a wait: out of line, so that the hot
    /// path keeps the pipeline model inlined.
    #[cold]
    #[inline(never)]
    fn retire_wfi(&mut self, pc: u64, mem: MemCycles, from: Privilege) -> u64 {
        self.retire(pc, mem, from).0
    }

    /// Loads the MMU with the mode the translation CSRs now select; a refused combination
    /// keeps the old mode and sets `vmstatus`.
    fn apply_mode(&mut self, mode: Result<vmlab_mmu::Mode, u64>) {
        let status = match mode {
            Ok(m) => {
                if *self.mmu.mode() == m {
                    0
                } else {
                    match self.mmu.set_mode(m) {
                        Ok(()) => 0,
                        Err(_) => 1 | vm_err::INVALID << 8,
                    }
                }
            }
            Err(code) => 1 | code << 8,
        };
        self.hart.csrs.vm.status = status;
        // Whatever was loaded (even the same mode again, or nothing when refused), the
        // translation registers were written: a new translation epoch.
        self.front.epoch.advance();
    }

    /// Every statistic under its dotted name, in a stable order: `cycles`, `instret`, then the
    /// pipeline, the MMU and the memory system.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        f("cycles", self.now);
        f("instret", self.pipeline.stats().retired);
        self.pipeline.stats().for_each("pipeline", f);
        self.mmu.for_each_stat(f);
        self.mem.for_each_stat(f);
    }

    /// The statistics as a list.
    pub fn stat_list(&self) -> Vec<(String, u64)> {
        let mut v = Vec::new();
        self.for_each_stat(&mut |n, x| v.push((n.to_string(), x)));
        v
    }
}
