//! The functional execution core of one hart: [`Hart::step`] fetches, decodes and executes
//! one instruction of RV64IMAFDC, Zicsr, Zifencei and the privileged set, exactly as the
//! specifications say, and takes traps through [`crate::trap`]. There is no pipeline timing
//! here: every step counts one cycle (see [`Hart::count_cycles`]); the timing model adds its
//! own.
//!
//! Memory is reached through [`HartMemory`], with the MMU context from
//! [`Csrs::mmu_context`]. Implementation choices the specification leaves open:
//! - misaligned loads and stores are not emulated: they raise load/store address-misaligned
//!   exceptions (cause 4/6) with `tval` = the address; LR raises load-misaligned, SC and AMOs
//!   store/AMO-misaligned;
//! - an AMO whose read faults reports the store/AMO version of the fault (cause 7 or 15);
//! - the LR/SC reservation set is the exact address of the LR; every SC clears it, and
//!   trap entry and xRET leave it alone;
//! - a 4-byte instruction is fetched as two 2-byte parcels, so one that straddles a page
//!   boundary faults with the address of the parcel that faulted;
//! - a retired instruction adds 1 to `minstret` (and, with [`Hart::count_cycles`], 1 to
//!   `mcycle`); a trap or a waiting step adds only the cycle; a CSR instruction that writes
//!   `minstret` (`mcycle`) suppresses that counter's own increment, so the written value is
//!   what the next instruction reads;
//! - the f registers reset to 0; an F/D instruction with `mstatus.FS` = Off, on a hart
//!   without its extension, or with a reserved rounding mode (also on the always-exact
//!   conversions) is illegal; FS becomes Dirty when an instruction writes an f register or
//!   raises a flag, never otherwise (`docs/fp.md`).

use crate::csr::{addr, CsrOp, Csrs, FsState};
use crate::fp::{self, BinOp, Cmp, FmaOp, IntKind, Rm, Sgn};
use crate::isa::{decode, Ext, Insn, Op};
use crate::trap::{
    check_sfence_vma, check_wfi, mret, pending_interrupt, sfence_flush, sret, take_trap, Exception,
    Trap,
};
use vmlab_mmu::{AccessKind, Context, Flush, Privilege};

/// What a hart needs from the memory side. Sizes are 1, 2, 4 or 8 bytes and addresses are
/// naturally aligned (the hart raises misaligned exceptions itself); `load` returns the value
/// zero-extended. Errors are the exceptions to raise (access and page faults).
pub trait HartMemory {
    /// Fetch the 16-bit instruction parcel at `va`.
    fn fetch(&mut self, va: u64, ctx: Context) -> Result<u16, Exception>;
    /// Load `size` bytes at `va`, zero-extended.
    fn load(&mut self, va: u64, size: u8, ctx: Context) -> Result<u64, Exception>;
    /// Store the low `size` bytes of `value` at `va`.
    fn store(&mut self, va: u64, size: u8, value: u64, ctx: Context) -> Result<(), Exception>;
    /// `sfence.vma` executed: flush the translations it names.
    fn sfence(&mut self, _flush: Flush) {}
    /// `fence.i` executed: later fetches must see earlier stores.
    fn fence_i(&mut self) {}
    /// A CSR instruction wrote `satp` or one of vmlab's custom translation CSRs
    /// ([`crate::csr::changes_translation`]); `csrs` holds the new values.
    fn translation_changed(&mut self, _csrs: &Csrs) {}
    /// Decode the instruction `raw` fetched from `pc` (a host-speed decoded-instruction
    /// cache may stand behind this; the answer must always be `decode(raw)`).
    #[inline]
    fn decode(&mut self, _pc: u64, raw: u32) -> Insn {
        decode(raw)
    }
    /// The platform's `mtime`, read when an instruction reads the `time` CSR (None keeps
    /// the value in [`Csrs::time`]).
    fn time(&mut self) -> Option<u64> {
        None
    }
    /// Fetch the instruction at `pc`: its low parcel, and the high parcel when the low one
    /// says it is a 32-bit instruction. The default fetches parcel by parcel through
    /// [`HartMemory::fetch`]; an implementation may read both at once if the result is the
    /// same.
    #[inline]
    fn fetch_insn(&mut self, pc: u64, ctx: Context) -> Result<u32, Exception> {
        let lo = self.fetch(pc, ctx)?;
        Ok(if lo & 3 == 3 {
            let hi = self.fetch(pc.wrapping_add(2), ctx)?;
            u32::from(lo) | u32::from(hi) << 16
        } else {
            u32::from(lo)
        })
    }
}

/// The outcome of one [`Hart::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// One instruction retired normally.
    Retired,
    /// A trap was taken (an exception of the instruction at `epc`, or an interrupt before
    /// it); the hart is now at `pc` in `privilege`.
    Trapped {
        /// The trap.
        trap: Trap,
        /// The pc of the interrupted or faulting instruction.
        epc: u64,
        /// The handler address, now the hart's pc.
        pc: u64,
        /// The privilege the trap went to.
        privilege: Privilege,
    },
    /// The hart is stopped in `wfi` with no interrupt pending. In the step that executed
    /// the `wfi` ([`Hart::last_fetched`] is set) the `wfi` retired: `minstret` counted it and
    /// the pc is past it. A later step spent waiting fetched and retired nothing.
    Waiting,
}

/// The architectural state of one hart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hart {
    /// The integer registers; `x[0]` always reads 0 (writes to it are dropped).
    pub x: [u64; 32],
    /// The program counter.
    pub pc: u64,
    /// The current privilege level.
    pub privilege: Privilege,
    /// The CSR file.
    pub csrs: Csrs,
    /// The LR/SC reservation: the address of the last LR, until an SC.
    pub reservation: Option<u64>,
    /// Stopped in `wfi` until an interrupt is pending (`mip & mie != 0`).
    pub waiting: bool,
    /// Whether each step adds one cycle to `mcycle` (true by default; a timing model that
    /// counts cycles itself turns it off).
    pub count_cycles: bool,
    /// The raw bits of the instruction the last step fetched (retired or trapped; 16 bits
    /// for a compressed one), for the timing model and commit logs; see [`Hart::last_insn`].
    pub last_raw: u32,
    /// Whether the last step fetched an instruction (false after an interrupt, a fetch
    /// fault, or a step spent waiting).
    pub last_fetched: bool,
    /// The floating-point registers `f0..f31`, 64 bits each (a single-precision value is
    /// NaN-boxed: its upper 32 bits are all ones).
    pub f: [u64; 32],
    /// Misaligned loads and stores (not atomics, not fetches) are carried out by the
    /// hardware, one byte at a time in address order, instead of raising an
    /// address-misaligned exception (false by default: they trap, and the kernel emulates
    /// them, as Linux does). The privileged spec allows either; a byte that faults raises
    /// the page or access fault with that byte's address, after the bytes before it were
    /// stored.
    pub misaligned_in_hardware: bool,
}

/// The floating-point state a kernel saves and restores on a context switch: the 32
/// f registers and `fcsr`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FpState {
    /// `f0..f31`, raw 64-bit values.
    pub f: [u64; 32],
    /// `fcsr` (`frm` in bits 7:5, `fflags` in bits 4:0).
    pub fcsr: u64,
}

/// What executing one instruction did, before trap handling.
enum Done {
    /// Continue at this pc.
    Next(u64),
    /// Continue at this pc in this privilege (xRET).
    Switch(Privilege, u64),
    /// `wfi` retired: continue at this pc, waiting.
    Wait(u64),
}

fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

fn sext_size(v: u64, size: u8) -> u64 {
    match size {
        1 => v as i8 as i64 as u64,
        2 => v as i16 as i64 as u64,
        4 => v as i32 as i64 as u64,
        _ => v,
    }
}

fn to_store_fault(e: Exception) -> Exception {
    match e {
        Exception::LoadAccessFault { addr } => Exception::StoreAccessFault { addr },
        Exception::LoadPageFault { addr } => Exception::StorePageFault { addr },
        Exception::LoadAddressMisaligned { addr } => Exception::StoreAddressMisaligned { addr },
        other => other,
    }
}

fn div(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as u64
    }
}

fn rem(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        a as u64
    } else {
        a.wrapping_rem(b) as u64
    }
}

fn divw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as i64 as u64
    }
}

fn remw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        a as i64 as u64
    } else {
        a.wrapping_rem(b) as i64 as u64
    }
}

fn divuw(a: u64, b: u64) -> u64 {
    (a as u32)
        .checked_div(b as u32)
        .map_or(u64::MAX, |q| sext32(u64::from(q)))
}

fn remuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(u64::from(a.checked_rem(b).unwrap_or(a)))
}

/// The value an AMO stores, from the loaded value `old` and the operand `src` (both the
/// raw, zero-extended `size`-byte values).
fn amo_value(op: Op, old: u64, src: u64, word: bool) -> u64 {
    use Op::*;
    let (so, ss) = if word {
        (old as i32 as i64, src as i32 as i64)
    } else {
        (old as i64, src as i64)
    };
    let (uo, us) = if word {
        (old as u32 as u64, src as u32 as u64)
    } else {
        (old, src)
    };
    match op {
        AmoswapW | AmoswapD => src,
        AmoaddW | AmoaddD => old.wrapping_add(src),
        AmoxorW | AmoxorD => old ^ src,
        AmoandW | AmoandD => old & src,
        AmoorW | AmoorD => old | src,
        AmominW | AmominD => so.min(ss) as u64,
        AmomaxW | AmomaxD => so.max(ss) as u64,
        AmominuW | AmominuD => uo.min(us),
        AmomaxuW | AmomaxuD => uo.max(us),
        _ => old,
    }
}

impl Hart {
    /// A hart with id `hartid` in M-mode at `pc`, registers and CSRs at their reset values.
    pub fn new(hartid: u64, pc: u64) -> Hart {
        Hart {
            x: [0; 32],
            pc,
            privilege: Privilege::Machine,
            csrs: Csrs::new(hartid),
            reservation: None,
            waiting: false,
            count_cycles: true,
            last_raw: 0,
            last_fetched: false,
            f: [0; 32],
            misaligned_in_hardware: false,
        }
    }

    /// Float register `r` (raw 64 bits).
    pub fn freg(&self, r: u8) -> u64 {
        self.f[usize::from(r & 31)]
    }

    /// Write float register `r` (raw 64 bits), without touching `mstatus.FS`.
    pub fn set_freg(&mut self, r: u8, v: u64) {
        self.f[usize::from(r & 31)] = v;
    }

    /// The floating-point state (all f registers and `fcsr`), for a kernel to save.
    pub fn fp_state(&self) -> FpState {
        FpState {
            f: self.f,
            fcsr: self.csrs.fcsr & 0xff,
        }
    }

    /// Restore the floating-point state, without touching `mstatus.FS` (the kernel sets
    /// FS itself, e.g. to Clean after a restore, with [`Csrs::set_fs_state`]). On a hart
    /// without F it does nothing.
    pub fn set_fp_state(&mut self, s: &FpState) {
        if self.csrs.has_f() {
            self.f = s.f;
            self.csrs.fcsr = s.fcsr & 0xff;
        }
    }

    /// Why the instruction `raw` is illegal on this hart, in words, when the reason is one
    /// a user can act on: its extension is not enabled (`"fmadd.d (D extension) is not
    /// enabled on this hart (cpu.isa lacks d)"`), floating point is off (`mstatus.FS` =
    /// Off), or its rounding mode is reserved. `None` for an encoding no extension defines,
    /// or an instruction this hart would execute.
    pub fn illegal_reason(&self, raw: u32) -> Option<String> {
        let (name, ext) = crate::isa::extension_of(raw)?;
        let letter = ext.name().to_ascii_lowercase();
        if !self.csrs.has_ext(ext) {
            return Some(format!(
                "{name} ({} extension) is not enabled on this hart (cpu.isa lacks {letter})",
                ext.name()
            ));
        }
        if !matches!(ext, Ext::F | Ext::D) {
            return None;
        }
        if !self.csrs.fp_enabled() {
            return Some(format!(
                "{name}: floating point is off (mstatus.FS = Off; set FS to Initial to use it)"
            ));
        }
        let i = decode(raw);
        if i.op.def().is_some_and(|d| d.format.has_rm()) && self.rounding(&i).is_none() {
            return Some(if i.rm == 7 {
                format!(
                    "{name}: dynamic rounding with frm = {}, a reserved rounding mode",
                    self.csrs.frm()
                )
            } else {
                format!("{name}: rounding mode {} is reserved", i.rm)
            });
        }
        None
    }

    /// `mstatus.FS`.
    pub fn fs_state(&self) -> FsState {
        self.csrs.fs_state()
    }

    /// Set `mstatus.FS` (ignored without F).
    pub fn set_fs_state(&mut self, s: FsState) {
        self.csrs.set_fs_state(s);
    }

    /// The instruction the last step fetched, decoded (`Op::Illegal` with `imm = 0` when
    /// it fetched none).
    pub fn last_insn(&self) -> Insn {
        if self.last_fetched {
            decode(self.last_raw)
        } else {
            Insn::default()
        }
    }

    /// Register `r` (x0 reads 0).
    pub fn reg(&self, r: u8) -> u64 {
        if r == 0 {
            0
        } else {
            self.x[usize::from(r & 31)]
        }
    }

    /// Write register `r` (writes to x0 are dropped).
    pub fn set_reg(&mut self, r: u8, v: u64) {
        if r != 0 {
            self.x[usize::from(r & 31)] = v;
        }
    }

    fn tick(&mut self, insns: u64) {
        let cycles = u64::from(self.count_cycles);
        self.csrs.tick(cycles, insns);
    }

    fn trap(&mut self, trap: Trap) -> StepResult {
        let epc = self.pc;
        let (privilege, pc) = take_trap(&mut self.csrs, self.privilege, epc, trap);
        self.privilege = privilege;
        self.pc = pc;
        self.waiting = false;
        self.tick(0);
        StepResult::Trapped {
            trap,
            epc,
            pc,
            privilege,
        }
    }

    /// Execute one instruction (or take one pending interrupt, or wait in `wfi`).
    pub fn step(&mut self, mem: &mut impl HartMemory) -> StepResult {
        self.last_fetched = false;
        self.csrs.fp_events = 0;
        if let Some(i) = pending_interrupt(&self.csrs, self.privilege) {
            return self.trap(Trap::Interrupt(i));
        }
        if self.waiting {
            if self.csrs.mip() & self.csrs.mie == 0 {
                self.tick(0);
                return StepResult::Waiting;
            }
            self.waiting = false;
        }
        let raw = match self.fetch(mem) {
            Ok(f) => f,
            Err(e) => return self.trap(Trap::Exception(e)),
        };
        let insn = mem.decode(self.pc, raw);
        self.last_raw = raw;
        self.last_fetched = true;
        // Counter CSR writes suppress that counter's increment for the writing instruction.
        let (mut cycles, mut insns) = (u64::from(self.count_cycles), 1);
        let csr_writes = match insn.op {
            Op::Csrrw | Op::Csrrwi => true,
            Op::Csrrs | Op::Csrrc => insn.rs1 != 0,
            Op::Csrrsi | Op::Csrrci => insn.imm != 0,
            _ => false,
        };
        if csr_writes {
            match insn.csr {
                addr::MCYCLE => cycles = 0,
                addr::MINSTRET => insns = 0,
                _ => {}
            }
        }
        match self.execute(mem, raw, &insn) {
            Ok(done) => {
                self.csrs.tick(cycles, insns);
                match done {
                    Done::Next(pc) => {
                        self.pc = pc;
                        StepResult::Retired
                    }
                    Done::Switch(p, pc) => {
                        self.privilege = p;
                        self.pc = pc;
                        StepResult::Retired
                    }
                    Done::Wait(pc) => {
                        self.pc = pc;
                        if self.csrs.mip() & self.csrs.mie == 0 {
                            self.waiting = true;
                            StepResult::Waiting
                        } else {
                            StepResult::Retired
                        }
                    }
                }
            }
            Err(e) => self.trap(Trap::Exception(e)),
        }
    }

    /// Fetch and decode the instruction at pc: its raw bits (16 for a compressed parcel) and
    /// the decoded instruction.
    /// Fetch the raw bits of the instruction at pc (16 bits for a compressed parcel).
    fn fetch(&mut self, mem: &mut impl HartMemory) -> Result<u32, Exception> {
        let pc = self.pc;
        if pc & 1 != 0 {
            return Err(Exception::InstructionAddressMisaligned { addr: pc });
        }
        let ctx = self.csrs.mmu_context(self.privilege, AccessKind::Fetch);
        mem.fetch_insn(pc, ctx)
    }

    fn jump(&self, target: u64) -> Result<u64, Exception> {
        // With C (IALIGN = 16) only bit 0 can misalign a target.
        if target & 1 != 0 {
            Err(Exception::InstructionAddressMisaligned { addr: target })
        } else {
            Ok(target)
        }
    }

    fn data_ctx(&self, kind: AccessKind) -> Context {
        self.csrs.mmu_context(self.privilege, kind)
    }

    fn load(&self, mem: &mut impl HartMemory, va: u64, size: u8) -> Result<u64, Exception> {
        if va & (u64::from(size) - 1) != 0 {
            if !self.misaligned_in_hardware {
                return Err(Exception::LoadAddressMisaligned { addr: va });
            }
            let ctx = self.data_ctx(AccessKind::Load);
            let mut value = 0u64;
            for i in 0..u64::from(size) {
                let b = mem.load(va.wrapping_add(i), 1, ctx)?;
                value |= (b & 0xff) << (8 * i);
            }
            return Ok(value);
        }
        mem.load(va, size, self.data_ctx(AccessKind::Load))
    }

    fn store(
        &self,
        mem: &mut impl HartMemory,
        va: u64,
        size: u8,
        value: u64,
    ) -> Result<(), Exception> {
        if va & (u64::from(size) - 1) != 0 {
            if !self.misaligned_in_hardware {
                return Err(Exception::StoreAddressMisaligned { addr: va });
            }
            let ctx = self.data_ctx(AccessKind::Store);
            for i in 0..u64::from(size) {
                mem.store(va.wrapping_add(i), 1, (value >> (8 * i)) & 0xff, ctx)?;
            }
            return Ok(());
        }
        mem.store(va, size, value, self.data_ctx(AccessKind::Store))
    }

    fn execute(
        &mut self,
        mem: &mut impl HartMemory,
        raw: u32,
        i: &Insn,
    ) -> Result<Done, Exception> {
        use Op::*;
        let pc = self.pc;
        let next = pc.wrapping_add(i.byte_len());
        let a = self.reg(i.rs1);
        let b = self.reg(i.rs2);
        let imm = i.imm as u64;
        let illegal = Exception::IllegalInstruction {
            insn: u64::from(raw),
        };
        let value: u64 = match i.op {
            Lui => imm << 12,
            Auipc => pc.wrapping_add(imm << 12),
            Jal => {
                let t = self.jump(pc.wrapping_add(imm))?;
                self.set_reg(i.rd, next);
                return Ok(Done::Next(t));
            }
            Jalr => {
                let t = self.jump(a.wrapping_add(imm) & !1)?;
                self.set_reg(i.rd, next);
                return Ok(Done::Next(t));
            }
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                let taken = match i.op {
                    Beq => a == b,
                    Bne => a != b,
                    Blt => (a as i64) < (b as i64),
                    Bge => (a as i64) >= (b as i64),
                    Bltu => a < b,
                    _ => a >= b,
                };
                let t = if taken {
                    self.jump(pc.wrapping_add(imm))?
                } else {
                    next
                };
                return Ok(Done::Next(t));
            }
            Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => {
                let (size, signed) = match i.op {
                    Lb => (1, true),
                    Lh => (2, true),
                    Lw => (4, true),
                    Ld => (8, true),
                    Lbu => (1, false),
                    Lhu => (2, false),
                    _ => (4, false),
                };
                let v = self.load(mem, a.wrapping_add(imm), size)?;
                if signed {
                    sext_size(v, size)
                } else {
                    v
                }
            }
            Sb | Sh | Sw | Sd => {
                let size = match i.op {
                    Sb => 1,
                    Sh => 2,
                    Sw => 4,
                    _ => 8,
                };
                self.store(mem, a.wrapping_add(imm), size, b)?;
                return Ok(Done::Next(next));
            }
            Addi => a.wrapping_add(imm),
            Slti => u64::from((a as i64) < i.imm),
            Sltiu => u64::from(a < imm),
            Xori => a ^ imm,
            Ori => a | imm,
            Andi => a & imm,
            Slli => a << (imm & 63),
            Srli => a >> (imm & 63),
            Srai => ((a as i64) >> (imm & 63)) as u64,
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Sll => a << (b & 63),
            Slt => u64::from((a as i64) < (b as i64)),
            Sltu => u64::from(a < b),
            Xor => a ^ b,
            Srl => a >> (b & 63),
            Sra => ((a as i64) >> (b & 63)) as u64,
            Or => a | b,
            And => a & b,
            Addiw => sext32(a.wrapping_add(imm)),
            Slliw => sext32(u64::from((a as u32) << (imm & 31))),
            Srliw => sext32(u64::from((a as u32) >> (imm & 31))),
            Sraiw => ((a as i32) >> (imm & 31)) as i64 as u64,
            Addw => sext32(a.wrapping_add(b)),
            Subw => sext32(a.wrapping_sub(b)),
            Sllw => sext32(u64::from((a as u32) << (b & 31))),
            Srlw => sext32(u64::from((a as u32) >> (b & 31))),
            Sraw => ((a as i32) >> (b & 31)) as i64 as u64,
            Mul => a.wrapping_mul(b),
            Mulh => ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64,
            Mulhsu => ((i128::from(a as i64) * i128::from(b)) >> 64) as u64,
            Mulhu => ((u128::from(a) * u128::from(b)) >> 64) as u64,
            Div => div(a, b),
            Divu => a.checked_div(b).unwrap_or(u64::MAX),
            Rem => rem(a, b),
            Remu => a.checked_rem(b).unwrap_or(a),
            Mulw => sext32(a.wrapping_mul(b)),
            Divw => divw(a, b),
            Divuw => divuw(a, b),
            Remw => remw(a, b),
            Remuw => remuw(a, b),
            LrW | LrD => {
                let size = if i.op == LrW { 4 } else { 8 };
                let v = self.load(mem, a, size)?;
                self.reservation = Some(a);
                sext_size(v, size)
            }
            ScW | ScD => {
                let size = if i.op == ScW { 4 } else { 8 };
                if a & (u64::from(size) - 1) != 0 {
                    return Err(Exception::StoreAddressMisaligned { addr: a });
                }
                let ok = self.reservation == Some(a);
                self.reservation = None;
                if ok {
                    self.store(mem, a, size, b)?;
                    0
                } else {
                    1
                }
            }
            AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
            | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD
            | AmominuD | AmomaxuD => {
                let word = i.op.is_word_amo();
                let size = if word { 4 } else { 8 };
                if a & (u64::from(size) - 1) != 0 {
                    return Err(Exception::StoreAddressMisaligned { addr: a });
                }
                let old = mem
                    .load(a, size, self.data_ctx(AccessKind::Store))
                    .map_err(to_store_fault)?;
                let new = amo_value(i.op, old, b, word);
                self.store(mem, a, size, new)?;
                sext_size(old, size)
            }
            Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => {
                let (op, operand, writes) = match i.op {
                    Csrrw => (CsrOp::Write, a, true),
                    Csrrs => (CsrOp::Set, a, i.rs1 != 0),
                    Csrrc => (CsrOp::Clear, a, i.rs1 != 0),
                    Csrrwi => (CsrOp::Write, imm, true),
                    Csrrsi => (CsrOp::Set, imm, imm != 0),
                    _ => (CsrOp::Clear, imm, imm != 0),
                };
                if i.csr == addr::TIME {
                    if let Some(t) = mem.time() {
                        self.csrs.time = t;
                    }
                }
                let old = self
                    .csrs
                    .op(i.csr, self.privilege, op, operand, writes)
                    .map_err(|e| e.exception(raw))?;
                if writes && crate::csr::changes_translation(i.csr) {
                    mem.translation_changed(&self.csrs);
                }
                old
            }
            Fence | FenceTso => return Ok(Done::Next(next)),
            FenceI => {
                mem.fence_i();
                return Ok(Done::Next(next));
            }
            Ecall => return Err(Exception::ecall(self.privilege)),
            Ebreak => return Err(Exception::Breakpoint { addr: pc }),
            Mret => {
                let (p, t) = mret(&mut self.csrs, self.privilege)?;
                return Ok(Done::Switch(p, t));
            }
            Sret => {
                let (p, t) = sret(&mut self.csrs, self.privilege)?;
                return Ok(Done::Switch(p, t));
            }
            Wfi => {
                check_wfi(&self.csrs, self.privilege)?;
                return Ok(Done::Wait(next));
            }
            SfenceVma => {
                check_sfence_vma(&self.csrs, self.privilege, raw)?;
                mem.sfence(sfence_flush(i.rs1 == 0, a, i.rs2 == 0, b));
                return Ok(Done::Next(next));
            }
            Illegal => return Err(illegal),
            _ => return self.execute_fp(mem, raw, i).map(|()| Done::Next(next)),
        };
        self.set_reg(i.rd, value);
        Ok(Done::Next(next))
    }

    /// The rounding mode of `i`: its `rm` field, or `frm` for `dyn`; `None` (an illegal
    /// instruction) for the reserved values.
    fn rounding(&self, i: &Insn) -> Option<Rm> {
        match i.rm {
            7 => Rm::from_bits(self.csrs.frm()),
            rm => Rm::from_bits(u64::from(rm)),
        }
    }

    fn set_f32(&mut self, r: u8, v: u32) {
        self.set_f64(r, fp::box32(v));
    }

    fn set_f64(&mut self, r: u8, v: u64) {
        self.f[usize::from(r & 31)] = v;
        self.csrs.set_fs_dirty();
    }

    fn f32(&self, r: u8) -> u32 {
        fp::unbox32(self.freg(r))
    }

    /// Executes an F or D instruction (or anything else not handled by `execute`, which is
    /// illegal). Checks the extension, `mstatus.FS` and the rounding mode first.
    #[inline(never)]
    fn execute_fp(
        &mut self,
        mem: &mut impl HartMemory,
        raw: u32,
        i: &Insn,
    ) -> Result<(), Exception> {
        use Op::*;
        let illegal = Exception::IllegalInstruction {
            insn: u64::from(raw),
        };
        let Some(def) = i.op.def() else {
            return Err(illegal);
        };
        if !matches!(def.ext, Ext::F | Ext::D)
            || !self.csrs.has_ext(def.ext)
            || !self.csrs.fp_enabled()
        {
            return Err(illegal);
        }
        // A reserved rm (or dyn with a reserved frm) is illegal on every instruction with
        // an rm field, the always-exact conversions included (as Spike does).
        let rm = if def.format.has_rm() {
            self.rounding(i).ok_or(illegal)?
        } else {
            Rm::Rne
        };
        let a = self.reg(i.rs1);
        let (s1, s2, s3) = (self.f32(i.rs1), self.f32(i.rs2), self.f32(i.rs3));
        let (d1, d2, d3) = (self.freg(i.rs1), self.freg(i.rs2), self.freg(i.rs3));
        let kind = |op: Op| match op {
            FcvtWS | FcvtWD | FcvtSW | FcvtDW => IntKind::W,
            FcvtWuS | FcvtWuD | FcvtSWu | FcvtDWu => IntKind::Wu,
            FcvtLS | FcvtLD | FcvtSL | FcvtDL => IntKind::L,
            _ => IntKind::Lu,
        };
        let bin = |op: Op| match op {
            FAddS | FAddD => BinOp::Add,
            FSubS | FSubD => BinOp::Sub,
            FMulS | FMulD => BinOp::Mul,
            _ => BinOp::Div,
        };
        let fma_op = |op: Op| match op {
            FMaddS | FMaddD => FmaOp::Madd,
            FMsubS | FMsubD => FmaOp::Msub,
            FNmsubS | FNmsubD => FmaOp::Nmsub,
            _ => FmaOp::Nmadd,
        };
        let sgn = |op: Op| match op {
            FSgnjS | FSgnjD => Sgn::J,
            FSgnjnS | FSgnjnD => Sgn::Jn,
            _ => Sgn::Jx,
        };
        let cmp = |op: Op| match op {
            FeqS | FeqD => Cmp::Eq,
            FltS | FltD => Cmp::Lt,
            _ => Cmp::Le,
        };
        let flags = match i.op {
            Flw | Fld => {
                let size = if i.op == Flw { 4 } else { 8 };
                let v = self.load(mem, a.wrapping_add(i.imm as u64), size)?;
                if size == 4 {
                    self.set_f32(i.rd, v as u32);
                } else {
                    self.set_f64(i.rd, v);
                }
                0
            }
            Fsw | Fsd => {
                let size = if i.op == Fsw { 4 } else { 8 };
                self.store(mem, a.wrapping_add(i.imm as u64), size, d2)?;
                0
            }
            FAddS | FSubS | FMulS | FDivS => {
                let (v, f) = fp::binop32(bin(i.op), s1, s2, rm);
                self.set_f32(i.rd, v);
                f
            }
            FAddD | FSubD | FMulD | FDivD => {
                let (v, f) = fp::binop64(bin(i.op), d1, d2, rm);
                self.set_f64(i.rd, v);
                f
            }
            FMaddS | FMsubS | FNmsubS | FNmaddS => {
                let (v, f) = fp::fma32(fma_op(i.op), s1, s2, s3, rm);
                self.set_f32(i.rd, v);
                f
            }
            FMaddD | FMsubD | FNmsubD | FNmaddD => {
                let (v, f) = fp::fma64(fma_op(i.op), d1, d2, d3, rm);
                self.set_f64(i.rd, v);
                f
            }
            FsqrtS => {
                let (v, f) = fp::sqrt32(s1, rm);
                self.set_f32(i.rd, v);
                f
            }
            FsqrtD => {
                let (v, f) = fp::sqrt64(d1, rm);
                self.set_f64(i.rd, v);
                f
            }
            FSgnjS | FSgnjnS | FSgnjxS => {
                let v = fp::sign_inject(u64::from(s1), u64::from(s2), sgn(i.op), false);
                self.set_f32(i.rd, v as u32);
                0
            }
            FSgnjD | FSgnjnD | FSgnjxD => {
                let v = fp::sign_inject(d1, d2, sgn(i.op), true);
                self.set_f64(i.rd, v);
                0
            }
            FMinS | FMaxS => {
                let (v, f) = fp::min_max(u64::from(s1), u64::from(s2), i.op == FMaxS, false);
                self.set_f32(i.rd, v as u32);
                f
            }
            FMinD | FMaxD => {
                let (v, f) = fp::min_max(d1, d2, i.op == FMaxD, true);
                self.set_f64(i.rd, v);
                f
            }
            FcvtSD => {
                let (v, f) = fp::f64_to_f32(d1, rm);
                self.set_f32(i.rd, v);
                f
            }
            FcvtDS => {
                let (v, f) = fp::f32_to_f64(s1);
                self.set_f64(i.rd, v);
                f
            }
            FeqS | FltS | FleS => {
                let (v, f) = fp::compare(u64::from(s1), u64::from(s2), cmp(i.op), false);
                self.set_reg(i.rd, v);
                f
            }
            FeqD | FltD | FleD => {
                let (v, f) = fp::compare(d1, d2, cmp(i.op), true);
                self.set_reg(i.rd, v);
                f
            }
            FclassS => {
                self.set_reg(i.rd, fp::classify(u64::from(s1), false));
                0
            }
            FclassD => {
                self.set_reg(i.rd, fp::classify(d1, true));
                0
            }
            FcvtWS | FcvtWuS | FcvtLS | FcvtLuS => {
                let (v, f) = fp::f32_to_int(s1, kind(i.op), rm);
                self.set_reg(i.rd, v);
                f
            }
            FcvtWD | FcvtWuD | FcvtLD | FcvtLuD => {
                let (v, f) = fp::f64_to_int(d1, kind(i.op), rm);
                self.set_reg(i.rd, v);
                f
            }
            FcvtSW | FcvtSWu | FcvtSL | FcvtSLu => {
                let (v, f) = fp::int_to_f32(a, kind(i.op), rm);
                self.set_f32(i.rd, v);
                f
            }
            FcvtDW | FcvtDWu | FcvtDL | FcvtDLu => {
                let (v, f) = fp::int_to_f64(a, kind(i.op), rm);
                self.set_f64(i.rd, v);
                f
            }
            // fmv.x.w takes the low 32 bits whatever the boxing, sign-extended.
            FmvXW => {
                self.set_reg(i.rd, d1 as u32 as i32 as i64 as u64);
                0
            }
            FmvXD => {
                self.set_reg(i.rd, d1);
                0
            }
            FmvWX => {
                self.set_f32(i.rd, a as u32);
                0
            }
            FmvDX => {
                self.set_f64(i.rd, a);
                0
            }
            _ => return Err(illegal),
        };
        self.csrs.accrue_fflags(flags);
        Ok(())
    }
}

/// A simple [`HartMemory`] for tests: `bytes` at physical address `base`, bare translation
/// (the context is ignored), access faults outside it. It records the fences it sees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlatMemory {
    /// The address of `bytes[0]`.
    pub base: u64,
    /// The memory.
    pub bytes: Vec<u8>,
    /// Every `sfence.vma` flush, in order.
    pub flushes: Vec<Flush>,
    /// How many `fence.i` were executed.
    pub fence_i_count: u64,
    /// The value of `satp` after every write to a translation CSR, in order.
    pub satp_writes: Vec<u64>,
}

impl FlatMemory {
    /// `size` zero bytes at `base`.
    pub fn new(base: u64, size: usize) -> FlatMemory {
        FlatMemory {
            base,
            bytes: vec![0; size],
            ..FlatMemory::default()
        }
    }

    /// The index range of `size` bytes at `va`, if all inside.
    fn range(&self, va: u64, size: u64) -> Option<std::ops::Range<usize>> {
        let off = va.checked_sub(self.base)?;
        let end = off.checked_add(size)?;
        if end > self.bytes.len() as u64 {
            return None;
        }
        Some(off as usize..end as usize)
    }

    /// Read `size` (≤ 8) bytes at `va` little-endian, or `None` outside the memory.
    pub fn read(&self, va: u64, size: u8) -> Option<u64> {
        let r = self.range(va, u64::from(size.min(8)))?;
        let mut buf = [0u8; 8];
        buf[..r.len()].copy_from_slice(&self.bytes[r]);
        Some(u64::from_le_bytes(buf))
    }

    /// Write the low `size` (≤ 8) bytes of `value` at `va`; false outside the memory.
    pub fn write(&mut self, va: u64, size: u8, value: u64) -> bool {
        match self.range(va, u64::from(size.min(8))) {
            Some(r) => {
                let n = r.len();
                self.bytes[r].copy_from_slice(&value.to_le_bytes()[..n]);
                true
            }
            None => false,
        }
    }

    /// Copy `data` to `va`; false (and nothing written) if it does not fit.
    pub fn write_bytes(&mut self, va: u64, data: &[u8]) -> bool {
        match self.range(va, data.len() as u64) {
            Some(r) => {
                self.bytes[r].copy_from_slice(data);
                true
            }
            None => false,
        }
    }
}

impl HartMemory for FlatMemory {
    fn fetch(&mut self, va: u64, _ctx: Context) -> Result<u16, Exception> {
        self.read(va, 2)
            .map(|v| v as u16)
            .ok_or(Exception::InstructionAccessFault { addr: va })
    }

    fn load(&mut self, va: u64, size: u8, _ctx: Context) -> Result<u64, Exception> {
        self.read(va, size)
            .ok_or(Exception::LoadAccessFault { addr: va })
    }

    fn store(&mut self, va: u64, size: u8, value: u64, _ctx: Context) -> Result<(), Exception> {
        if self.write(va, size, value) {
            Ok(())
        } else {
            Err(Exception::StoreAccessFault { addr: va })
        }
    }

    fn sfence(&mut self, flush: Flush) {
        self.flushes.push(flush);
    }

    fn fence_i(&mut self) {
        self.fence_i_count += 1;
    }

    fn translation_changed(&mut self, csrs: &Csrs) {
        self.satp_writes.push(csrs.satp);
    }
}
