//! Exceptions, interrupts, trap entry and return, as pure functions of [`Csrs`].
//!
//! [`take_trap`] performs trap entry with delegation (`medeleg`/`mideleg`: a trap goes to S
//! only if it is delegated and occurs in S or U), [`mret`] and [`sret`] return,
//! [`pending_interrupt`] decides which interrupt (if any) is taken now, and
//! [`exception_from_fault`] maps an MMU [`Fault`] to its architectural exception.

use crate::csr::{irq, mstatus, priv_bits, Csrs};
use vmlab_mmu::{AccessKind, Fault, FaultClass, Flush, Privilege};

/// A synchronous exception, carrying what `xtval` receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exception {
    /// Cause 0; tval = the misaligned target address.
    InstructionAddressMisaligned {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 1; tval = the faulting virtual address.
    InstructionAccessFault {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 2; tval = the instruction bits.
    IllegalInstruction {
        /// The instruction bits (zero-extended; a compressed instruction's 16 bits).
        insn: u64,
    },
    /// Cause 3 (`ebreak`); tval = the address of the `ebreak` (as Spike does).
    Breakpoint {
        /// The `ebreak`'s virtual address.
        addr: u64,
    },
    /// Cause 4; tval = the faulting virtual address.
    LoadAddressMisaligned {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 5; tval = the faulting virtual address.
    LoadAccessFault {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 6 (store or AMO); tval = the faulting virtual address.
    StoreAddressMisaligned {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 7 (store or AMO); tval = the faulting virtual address.
    StoreAccessFault {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 8; tval = 0.
    EcallFromU,
    /// Cause 9; tval = 0.
    EcallFromS,
    /// Cause 11; tval = 0.
    EcallFromM,
    /// Cause 12; tval = the faulting virtual address.
    InstructionPageFault {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 13; tval = the faulting virtual address.
    LoadPageFault {
        /// The faulting virtual address.
        addr: u64,
    },
    /// Cause 15 (store or AMO); tval = the faulting virtual address.
    StorePageFault {
        /// The faulting virtual address.
        addr: u64,
    },
}

impl Exception {
    /// The exception code (`xcause` without the interrupt bit).
    pub fn code(&self) -> u64 {
        match self {
            Exception::InstructionAddressMisaligned { .. } => 0,
            Exception::InstructionAccessFault { .. } => 1,
            Exception::IllegalInstruction { .. } => 2,
            Exception::Breakpoint { .. } => 3,
            Exception::LoadAddressMisaligned { .. } => 4,
            Exception::LoadAccessFault { .. } => 5,
            Exception::StoreAddressMisaligned { .. } => 6,
            Exception::StoreAccessFault { .. } => 7,
            Exception::EcallFromU => 8,
            Exception::EcallFromS => 9,
            Exception::EcallFromM => 11,
            Exception::InstructionPageFault { .. } => 12,
            Exception::LoadPageFault { .. } => 13,
            Exception::StorePageFault { .. } => 15,
        }
    }

    /// The value written to `xtval`.
    pub fn tval(&self) -> u64 {
        match *self {
            Exception::InstructionAddressMisaligned { addr }
            | Exception::InstructionAccessFault { addr }
            | Exception::Breakpoint { addr }
            | Exception::LoadAddressMisaligned { addr }
            | Exception::LoadAccessFault { addr }
            | Exception::StoreAddressMisaligned { addr }
            | Exception::StoreAccessFault { addr }
            | Exception::InstructionPageFault { addr }
            | Exception::LoadPageFault { addr }
            | Exception::StorePageFault { addr } => addr,
            Exception::IllegalInstruction { insn } => insn,
            Exception::EcallFromU | Exception::EcallFromS | Exception::EcallFromM => 0,
        }
    }

    /// The environment call from privilege `p`.
    pub fn ecall(p: Privilege) -> Exception {
        match p {
            Privilege::User => Exception::EcallFromU,
            Privilege::Supervisor => Exception::EcallFromS,
            Privilege::Machine => Exception::EcallFromM,
        }
    }
}

/// An interrupt this hart has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interrupt {
    /// Supervisor software interrupt (1).
    SupervisorSoftware,
    /// Machine software interrupt (3).
    MachineSoftware,
    /// Supervisor timer interrupt (5).
    SupervisorTimer,
    /// Machine timer interrupt (7).
    MachineTimer,
    /// Supervisor external interrupt (9).
    SupervisorExternal,
    /// Machine external interrupt (11).
    MachineExternal,
}

impl Interrupt {
    /// The interrupts in decreasing priority: MEI, MSI, MTI, SEI, SSI, STI.
    pub const PRIORITY: [Interrupt; 6] = [
        Interrupt::MachineExternal,
        Interrupt::MachineSoftware,
        Interrupt::MachineTimer,
        Interrupt::SupervisorExternal,
        Interrupt::SupervisorSoftware,
        Interrupt::SupervisorTimer,
    ];

    /// The exception code (`xcause` without the interrupt bit).
    pub fn code(self) -> u64 {
        match self {
            Interrupt::SupervisorSoftware => 1,
            Interrupt::MachineSoftware => 3,
            Interrupt::SupervisorTimer => 5,
            Interrupt::MachineTimer => 7,
            Interrupt::SupervisorExternal => 9,
            Interrupt::MachineExternal => 11,
        }
    }

    /// Its bit in `mip`/`mie`/`mideleg`.
    pub fn bit(self) -> u64 {
        1 << self.code()
    }
}

/// A trap: an exception or an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trap {
    /// A synchronous exception.
    Exception(Exception),
    /// An asynchronous interrupt.
    Interrupt(Interrupt),
}

impl From<Exception> for Trap {
    fn from(e: Exception) -> Trap {
        Trap::Exception(e)
    }
}

impl From<Interrupt> for Trap {
    fn from(i: Interrupt) -> Trap {
        Trap::Interrupt(i)
    }
}

/// The interrupt bit of `xcause`.
pub const INTERRUPT_BIT: u64 = 1 << 63;

impl Trap {
    /// The `xcause` value (bit 63 set for an interrupt).
    pub fn cause(&self) -> u64 {
        match self {
            Trap::Exception(e) => e.code(),
            Trap::Interrupt(i) => INTERRUPT_BIT | i.code(),
        }
    }

    /// The `xtval` value (zero for interrupts).
    pub fn tval(&self) -> u64 {
        match self {
            Trap::Exception(e) => e.tval(),
            Trap::Interrupt(_) => 0,
        }
    }

    /// Whether this is an interrupt.
    pub fn is_interrupt(&self) -> bool {
        matches!(self, Trap::Interrupt(_))
    }
}

/// The handler address for `tvec`: BASE, plus 4 × cause for an interrupt in vectored mode.
fn handler(tvec: u64, trap: &Trap) -> u64 {
    let base = tvec & !3;
    match trap {
        Trap::Interrupt(i) if tvec & 3 == 1 => base.wrapping_add(4 * i.code()),
        _ => base,
    }
}

/// Which privilege level handles `trap` raised at `cur`: S if the trap is delegated
/// (`medeleg`/`mideleg`) and `cur` is S or U, M otherwise.
pub fn trap_target(csrs: &Csrs, cur: Privilege, trap: &Trap) -> Privilege {
    let deleg = match trap {
        Trap::Exception(e) => csrs.medeleg >> e.code() & 1,
        Trap::Interrupt(i) => csrs.mideleg >> i.code() & 1,
    };
    if deleg != 0 && cur != Privilege::Machine {
        Privilege::Supervisor
    } else {
        Privilege::Machine
    }
}

/// Take `trap` raised at privilege `cur` with the trapping instruction at `pc` (for an
/// interrupt, the address of the next instruction to execute). Writes `xepc`, `xcause`,
/// `xtval`, stacks `xIE` into `xPIE`, clears `xIE`, records `cur` in `xPP`, and returns the new
/// privilege and pc.
pub fn take_trap(
    csrs: &mut Csrs,
    cur: Privilege,
    pc: u64,
    trap: impl Into<Trap>,
) -> (Privilege, u64) {
    let trap = trap.into();
    let target = trap_target(csrs, cur, &trap);
    let s = &mut csrs.mstatus;
    if target == Privilege::Supervisor {
        csrs.sepc = pc & !1;
        csrs.scause = trap.cause();
        csrs.stval = trap.tval();
        let sie = *s & mstatus::SIE != 0;
        *s &= !(mstatus::SPIE | mstatus::SIE | mstatus::SPP);
        if sie {
            *s |= mstatus::SPIE;
        }
        if cur == Privilege::Supervisor {
            *s |= mstatus::SPP;
        }
        (Privilege::Supervisor, handler(csrs.stvec, &trap))
    } else {
        csrs.mepc = pc & !1;
        csrs.mcause = trap.cause();
        csrs.mtval = trap.tval();
        let mie = *s & mstatus::MIE != 0;
        *s &= !(mstatus::MPIE | mstatus::MIE | mstatus::MPP);
        if mie {
            *s |= mstatus::MPIE;
        }
        *s |= priv_bits(cur) << mstatus::MPP_SHIFT;
        (Privilege::Machine, handler(csrs.mtvec, &trap))
    }
}

/// The encoding of `mret`, reported as tval when it is illegal.
pub const MRET: u32 = 0x3020_0073;
/// The encoding of `sret`, reported as tval when it is illegal.
pub const SRET: u32 = 0x1020_0073;
/// The encoding of `wfi`, reported as tval when it is illegal.
pub const WFI: u32 = 0x1050_0073;

fn illegal(insn: u32) -> Exception {
    Exception::IllegalInstruction {
        insn: u64::from(insn),
    }
}

/// `mret` at privilege `cur`: illegal below M. Returns to `mstatus.MPP` at `mepc`, with
/// MIE = MPIE, MPIE = 1, MPP = U, and MPRV cleared when returning below M.
pub fn mret(csrs: &mut Csrs, cur: Privilege) -> Result<(Privilege, u64), Exception> {
    if cur != Privilege::Machine {
        return Err(illegal(MRET));
    }
    let new = csrs.mpp();
    let s = &mut csrs.mstatus;
    let mpie = *s & mstatus::MPIE != 0;
    *s &= !(mstatus::MIE | mstatus::MPP);
    if mpie {
        *s |= mstatus::MIE;
    }
    *s |= mstatus::MPIE;
    if new != Privilege::Machine {
        *s &= !mstatus::MPRV;
    }
    Ok((new, csrs.mepc))
}

/// `sret` at privilege `cur`: illegal in U, and in S when `mstatus.TSR` = 1. Returns to
/// `sstatus.SPP` at `sepc`, with SIE = SPIE, SPIE = 1, SPP = U, and MPRV cleared (the new
/// privilege is never M).
pub fn sret(csrs: &mut Csrs, cur: Privilege) -> Result<(Privilege, u64), Exception> {
    match cur {
        Privilege::User => return Err(illegal(SRET)),
        Privilege::Supervisor if csrs.mstatus & mstatus::TSR != 0 => return Err(illegal(SRET)),
        _ => {}
    }
    let s = &mut csrs.mstatus;
    let new = if *s & mstatus::SPP != 0 {
        Privilege::Supervisor
    } else {
        Privilege::User
    };
    let spie = *s & mstatus::SPIE != 0;
    *s &= !(mstatus::SIE | mstatus::SPP | mstatus::MPRV);
    if spie {
        *s |= mstatus::SIE;
    }
    *s |= mstatus::SPIE;
    Ok((new, csrs.sepc))
}

/// Whether `sfence.vma` may execute at `cur`: illegal in U, and in S when `mstatus.TVM` = 1.
/// `insn` is the instruction's bits, reported as tval.
pub fn check_sfence_vma(csrs: &Csrs, cur: Privilege, insn: u32) -> Result<(), Exception> {
    match cur {
        Privilege::User => Err(illegal(insn)),
        Privilege::Supervisor if csrs.mstatus & mstatus::TVM != 0 => Err(illegal(insn)),
        _ => Ok(()),
    }
}

/// Whether `wfi` may execute at `cur`: always in M; in S unless `mstatus.TW` = 1; never in U
/// (the spec allows U-mode `wfi` to trap; vmlab, like Spike, always traps it).
pub fn check_wfi(csrs: &Csrs, cur: Privilege) -> Result<(), Exception> {
    match cur {
        Privilege::Machine => Ok(()),
        Privilege::Supervisor if csrs.mstatus & mstatus::TW == 0 => Ok(()),
        _ => Err(illegal(WFI)),
    }
}

/// The TLB flush `sfence.vma rs1, rs2` asks for: `va` is the value of `rs1` (ignored when
/// `rs1` is x0) and `asid` the value of `rs2` (ignored when `rs2` is x0).
pub fn sfence_flush(rs1_is_x0: bool, va: u64, rs2_is_x0: bool, asid: u64) -> Flush {
    let asid = asid as u16;
    match (rs1_is_x0, rs2_is_x0) {
        (true, true) => Flush::All,
        (true, false) => Flush::Asid { asid },
        (false, true) => Flush::Addr { va },
        (false, false) => Flush::AddrAsid { va, asid },
    }
}

/// The interrupt to take now at privilege `cur`, if any. An interrupt is pending and enabled
/// when its bit is set in both `mip` and `mie`. One not delegated by `mideleg` goes to M and is
/// taken when `cur` < M, or `cur` = M and `mstatus.MIE` = 1. A delegated one goes to S and is
/// taken when `cur` = U, or `cur` = S and `mstatus.SIE` = 1 (never in M). Interrupts for M are
/// taken before those for S; within each, the order is MEI, MSI, MTI, SEI, SSI, STI.
#[inline]
pub fn pending_interrupt(csrs: &Csrs, cur: Privilege) -> Option<Interrupt> {
    let pending = csrs.mip() & csrs.mie & irq::ALL;
    if pending == 0 {
        return None;
    }
    let m_enabled = match cur {
        Privilege::Machine => csrs.mstatus & mstatus::MIE != 0,
        _ => true,
    };
    let s_enabled = match cur {
        Privilege::Machine => false,
        Privilege::Supervisor => csrs.mstatus & mstatus::SIE != 0,
        Privilege::User => true,
    };
    let m = if m_enabled {
        pending & !csrs.mideleg
    } else {
        0
    };
    let s = if s_enabled { pending & csrs.mideleg } else { 0 };
    let set = if m != 0 { m } else { s };
    Interrupt::PRIORITY.into_iter().find(|i| set & i.bit() != 0)
}

/// The exception for an MMU fault on an access of `kind` to virtual address `va`: page
/// faults (12, 13, 15), access faults (1, 5, 7) or misaligned (0, 4, 6) by
/// [`Fault::class`], with tval = `va`. Stores include AMOs and SC.
pub fn exception_from_fault(fault: &Fault, kind: AccessKind, va: u64) -> Exception {
    let addr = va;
    match (fault.class(), kind) {
        (FaultClass::PageFault, AccessKind::Fetch) => Exception::InstructionPageFault { addr },
        (FaultClass::PageFault, AccessKind::Load) => Exception::LoadPageFault { addr },
        (FaultClass::PageFault, AccessKind::Store) => Exception::StorePageFault { addr },
        (FaultClass::AccessFault, AccessKind::Fetch) => Exception::InstructionAccessFault { addr },
        (FaultClass::AccessFault, AccessKind::Load) => Exception::LoadAccessFault { addr },
        (FaultClass::AccessFault, AccessKind::Store) => Exception::StoreAccessFault { addr },
        (FaultClass::Misaligned, AccessKind::Fetch) => {
            Exception::InstructionAddressMisaligned { addr }
        }
        (FaultClass::Misaligned, AccessKind::Load) => Exception::LoadAddressMisaligned { addr },
        (FaultClass::Misaligned, AccessKind::Store) => Exception::StoreAddressMisaligned { addr },
    }
}
