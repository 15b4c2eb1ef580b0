//! The control and status registers of one RV64 hart with M, S and U modes, as a pure
//! state machine: [`Csrs`] holds the state, [`Csrs::read`], [`Csrs::write`] and [`Csrs::op`]
//! apply the privileged specification's access rules and WARL legalisation.
//!
//! Nothing here executes instructions. The execution core calls [`Csrs::op`] for
//! `csrrw/csrrs/csrrc` (and their immediate forms), telling it whether the instruction
//! writes (`csrrs/csrrc` with `rs1 = x0` or `uimm = 0` do not; `csrrw` with `rd = x0` does
//! not read, which has no side effect here). A refused access returns a [`CsrError`]; the
//! core turns it into an illegal-instruction exception with
//! [`CsrError::exception`]. `docs/csr.md` lists every register and its WARL behaviour.
//!
//! The ranges 0x5C0–0x5FF and 0x9C0–0x9FF (custom supervisor read/write) and 0xDC0–0xDFF
//! (custom supervisor read-only) are reserved for vmlab's custom CSRs selecting the MMU's other modes;
//! they are defined with the execution core and are unimplemented (illegal) here.

use crate::trap::Exception;
use crate::vmcsr::VmCsrs;
use vmlab_mmu::{AccessKind, Context, Privilege};

/// CSR numbers implemented by [`Csrs`].
pub mod addr {
    #![allow(missing_docs)]
    pub const FFLAGS: u16 = 0x001;
    pub const FRM: u16 = 0x002;
    pub const FCSR: u16 = 0x003;
    pub const CYCLE: u16 = 0xC00;
    pub const TIME: u16 = 0xC01;
    pub const INSTRET: u16 = 0xC02;
    pub const HPMCOUNTER3: u16 = 0xC03;
    pub const HPMCOUNTER31: u16 = 0xC1F;

    pub const SSTATUS: u16 = 0x100;
    pub const SIE: u16 = 0x104;
    pub const STVEC: u16 = 0x105;
    pub const SCOUNTEREN: u16 = 0x106;
    pub const SENVCFG: u16 = 0x10A;
    pub const SSCRATCH: u16 = 0x140;
    pub const SEPC: u16 = 0x141;
    pub const SCAUSE: u16 = 0x142;
    pub const STVAL: u16 = 0x143;
    pub const SIP: u16 = 0x144;
    pub const SATP: u16 = 0x180;

    pub const MVENDORID: u16 = 0xF11;
    pub const MARCHID: u16 = 0xF12;
    pub const MIMPID: u16 = 0xF13;
    pub const MHARTID: u16 = 0xF14;
    pub const MCONFIGPTR: u16 = 0xF15;
    pub const MSTATUS: u16 = 0x300;
    pub const MISA: u16 = 0x301;
    pub const MEDELEG: u16 = 0x302;
    pub const MIDELEG: u16 = 0x303;
    pub const MIE: u16 = 0x304;
    pub const MTVEC: u16 = 0x305;
    pub const MCOUNTEREN: u16 = 0x306;
    pub const MENVCFG: u16 = 0x30A;
    pub const MCOUNTINHIBIT: u16 = 0x320;
    pub const MHPMEVENT3: u16 = 0x323;
    pub const MHPMEVENT31: u16 = 0x33F;
    pub const MSCRATCH: u16 = 0x340;
    pub const MEPC: u16 = 0x341;
    pub const MCAUSE: u16 = 0x342;
    pub const MTVAL: u16 = 0x343;
    pub const MIP: u16 = 0x344;
    pub const MCYCLE: u16 = 0xB00;
    pub const MINSTRET: u16 = 0xB02;
    pub const MHPMCOUNTER3: u16 = 0xB03;
    pub const MHPMCOUNTER31: u16 = 0xB1F;
    pub const PMPCFG0: u16 = 0x3A0;
    pub const PMPADDR0: u16 = 0x3B0;
    pub const PMPADDR63: u16 = 0x3EF;
}

/// Bits of `mstatus` (and of its `sstatus` view).
pub mod mstatus {
    #![allow(missing_docs)]
    pub const SIE: u64 = 1 << 1;
    pub const MIE: u64 = 1 << 3;
    pub const SPIE: u64 = 1 << 5;
    pub const UBE: u64 = 1 << 6;
    pub const MPIE: u64 = 1 << 7;
    pub const SPP: u64 = 1 << 8;
    pub const VS: u64 = 3 << 9;
    pub const MPP_SHIFT: u32 = 11;
    pub const MPP: u64 = 3 << 11;
    pub const FS: u64 = 3 << 13;
    pub const XS: u64 = 3 << 15;
    pub const MPRV: u64 = 1 << 17;
    pub const SUM: u64 = 1 << 18;
    pub const MXR: u64 = 1 << 19;
    pub const TVM: u64 = 1 << 20;
    pub const TW: u64 = 1 << 21;
    pub const TSR: u64 = 1 << 22;
    pub const UXL: u64 = 3 << 32;
    pub const SXL: u64 = 3 << 34;
    pub const SBE: u64 = 1 << 36;
    pub const MBE: u64 = 1 << 37;
    pub const SD: u64 = 1 << 63;
    /// UXL = SXL = 2 (64-bit), read-only.
    pub const XL64: u64 = (2 << 32) | (2 << 34);
    /// The bits `sstatus` shows.
    pub const SSTATUS_MASK: u64 = SIE | SPIE | UBE | SPP | VS | FS | XS | SUM | MXR | UXL | SD;
    /// The bits a write to `sstatus` may change (FS only on a hart with F).
    pub const SSTATUS_WRITABLE: u64 = SIE | SPIE | SPP | SUM | MXR | FS;
    /// `mstatus.FS` = Off: floating-point instructions are illegal.
    pub const FS_OFF: u64 = 0;
    /// `mstatus.FS` = Initial.
    pub const FS_INITIAL: u64 = 1 << 13;
    /// `mstatus.FS` = Clean.
    pub const FS_CLEAN: u64 = 2 << 13;
    /// `mstatus.FS` = Dirty.
    pub const FS_DIRTY: u64 = 3 << 13;
    /// The bits a write to `mstatus` may change (MPP is further legalised).
    pub const MSTATUS_WRITABLE: u64 =
        SIE | MIE | SPIE | MPIE | SPP | MPP | FS | MPRV | SUM | MXR | TVM | TW | TSR;
}

/// Interrupt bits of `mip`, `mie`, `mideleg`, `sip` and `sie`.
pub mod irq {
    #![allow(missing_docs)]
    pub const SSI: u64 = 1 << 1;
    pub const MSI: u64 = 1 << 3;
    pub const STI: u64 = 1 << 5;
    pub const MTI: u64 = 1 << 7;
    pub const SEI: u64 = 1 << 9;
    pub const MEI: u64 = 1 << 11;
    /// The supervisor-level interrupts: the only ones `mideleg` can delegate.
    pub const S_MASK: u64 = SSI | STI | SEI;
    /// Every interrupt this hart has.
    pub const ALL: u64 = SSI | MSI | STI | MTI | SEI | MEI;
}

/// `misa` of the default hart: MXL = 2 (64-bit) and the extensions A, C, D, F, I, M, S, U.
/// Read-only; a narrower hart ([`Csrs::set_misa`]) lacks F and D.
pub const MISA: u64 = (2 << 62) // MXL = 64-bit
    | 1 // A
    | (1 << 2) // C
    | (1 << 3) // D
    | (1 << 5) // F
    | (1 << 8) // I
    | (1 << 12) // M
    | (1 << 18) // S
    | (1 << 20); // U

/// The `misa` bit of extension `letter` (`'A'`..=`'Z'`).
pub const fn misa_bit(letter: char) -> u64 {
    1 << (letter as u32 - 'A' as u32)
}

/// The writable bits of `medeleg`: every exception cause 0–9, 12, 13, 15 except 11
/// (ecall from M), which is read-only zero; 10 and 14 are reserved (read-only zero).
pub const MEDELEG_WRITABLE: u64 = 0b1011_0011_1111_1111;

/// The width of `satp.ASID` this hart implements (ASIDLEN = 16: all of bits 59:44 are writable).
pub const ASID_BITS: u32 = 16;

/// `satp.MODE` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SatpMode {
    /// No translation (MODE = 0).
    Bare,
    /// Three-level paging (MODE = 8).
    Sv39,
    /// Four-level paging (MODE = 9).
    Sv48,
    /// Five-level paging (MODE = 10).
    Sv57,
}

impl SatpMode {
    /// The mode for a `satp.MODE` field value, `None` for an unsupported one.
    pub fn from_bits(mode: u64) -> Option<SatpMode> {
        match mode {
            0 => Some(SatpMode::Bare),
            8 => Some(SatpMode::Sv39),
            9 => Some(SatpMode::Sv48),
            10 => Some(SatpMode::Sv57),
            _ => None,
        }
    }

    /// The `satp.MODE` field value.
    pub fn bits(self) -> u64 {
        match self {
            SatpMode::Bare => 0,
            SatpMode::Sv39 => 8,
            SatpMode::Sv48 => 9,
            SatpMode::Sv57 => 10,
        }
    }
}

/// The 2-bit encoding of a privilege level (U = 0, S = 1, M = 3).
pub fn priv_bits(p: Privilege) -> u64 {
    match p {
        Privilege::User => 0,
        Privilege::Supervisor => 1,
        Privilege::Machine => 3,
    }
}

/// The privilege level for a legal 2-bit encoding; the reserved value 2 maps to `None`.
pub fn priv_from_bits(b: u64) -> Option<Privilege> {
    match b & 3 {
        0 => Some(Privilege::User),
        1 => Some(Privilege::Supervisor),
        3 => Some(Privilege::Machine),
        _ => None,
    }
}

/// Why a CSR access is refused. Every refusal is an illegal-instruction exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    /// The CSR number is not implemented by this hart.
    #[error("CSR {0:#05x} is not implemented")]
    Unimplemented(u16),
    /// The current privilege is below the CSR's (address bits 9:8).
    #[error("CSR {addr:#05x} needs {required} mode")]
    Privilege {
        /// The CSR.
        addr: u16,
        /// The lowest privilege that may access it.
        required: Privilege,
    },
    /// A write to a read-only CSR (address bits 11:10 = 0b11).
    #[error("CSR {0:#05x} is read-only")]
    ReadOnly(u16),
    /// `satp` accessed in S-mode while `mstatus.TVM` = 1.
    #[error("satp access trapped by mstatus.TVM")]
    TrappedByTvm,
    /// A counter read refused by `mcounteren` (from S or U) or `scounteren` (from U).
    #[error("counter CSR {0:#05x} not enabled by mcounteren/scounteren")]
    CounterDisabled(u16),
    /// `fflags`, `frm` or `fcsr` accessed while `mstatus.FS` is Off.
    #[error("floating-point CSR {0:#05x} accessed with mstatus.FS = Off")]
    FpOff(u16),
}

impl CsrError {
    /// The exception to raise: illegal instruction, with `tval` = the instruction's bits
    /// (`insn`, as fetched; for a compressed instruction the 16-bit parcel).
    pub fn exception(self, insn: u32) -> Exception {
        Exception::IllegalInstruction {
            insn: u64::from(insn),
        }
    }
}

/// The floating-point unit's state as `mstatus.FS` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsState {
    /// Off: every floating-point instruction and `fcsr` access is illegal.
    Off,
    /// Initial: the registers hold their initial values.
    Initial,
    /// Clean: the registers match a saved copy.
    Clean,
    /// Dirty: the registers were written since the state was last saved.
    Dirty,
}

impl FsState {
    /// The state of the 2-bit field value `v`.
    pub fn from_bits(v: u64) -> FsState {
        match v & 3 {
            0 => FsState::Off,
            1 => FsState::Initial,
            2 => FsState::Clean,
            _ => FsState::Dirty,
        }
    }

    /// The 2-bit field value.
    pub fn bits(self) -> u64 {
        match self {
            FsState::Off => 0,
            FsState::Initial => 1,
            FsState::Clean => 2,
            FsState::Dirty => 3,
        }
    }
}

/// The operation of a Zicsr instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CsrOp {
    /// `csrrw`/`csrrwi`: write the operand.
    Write,
    /// `csrrs`/`csrrsi`: set the operand's bits.
    Set,
    /// `csrrc`/`csrrci`: clear the operand's bits.
    Clear,
}

/// The CSR state of one hart. Fields are public for the execution core and for tests; writing
/// them directly bypasses WARL legalisation, so software-visible writes go through
/// [`Csrs::write`] / [`Csrs::op`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Csrs {
    /// `mstatus` (also seen as `sstatus`).
    pub mstatus: u64,
    /// `mhartid`.
    pub mhartid: u64,
    /// `medeleg`.
    pub medeleg: u64,
    /// `mideleg`.
    pub mideleg: u64,
    /// `mie` (also seen as `sie`).
    pub mie: u64,
    /// The software-writable bits of `mip` (SSIP, STIP, SEIP).
    pub mip_sw: u64,
    /// The interrupt lines driven by devices (MSIP, MTIP, MEIP and the external SEIP); ORed into
    /// `mip` on read.
    pub mip_lines: u64,
    /// `mtvec`.
    pub mtvec: u64,
    /// `stvec`.
    pub stvec: u64,
    /// `mcounteren` (32 bits).
    pub mcounteren: u64,
    /// `scounteren` (32 bits).
    pub scounteren: u64,
    /// `menvcfg`.
    pub menvcfg: u64,
    /// `senvcfg`.
    pub senvcfg: u64,
    /// `mcountinhibit` (CY and IR only).
    pub mcountinhibit: u64,
    /// `mscratch`.
    pub mscratch: u64,
    /// `sscratch`.
    pub sscratch: u64,
    /// `mepc`.
    pub mepc: u64,
    /// `sepc`.
    pub sepc: u64,
    /// `mcause`.
    pub mcause: u64,
    /// `scause`.
    pub scause: u64,
    /// `mtval`.
    pub mtval: u64,
    /// `stval`.
    pub stval: u64,
    /// `satp`.
    pub satp: u64,
    /// `mcycle` (also `cycle`).
    pub mcycle: u64,
    /// `minstret` (also `instret`).
    pub minstret: u64,
    /// The value `time` reads (the core copies the platform's `mtime` here).
    pub time: u64,
    /// vmlab's custom translation CSRs ([`crate::vmcsr`]).
    pub vm: VmCsrs,
    /// `fcsr`: `frm` in bits 7:5, `fflags` in bits 4:0 (zero without F).
    pub fcsr: u64,
    /// `misa` (read-only to software; [`MISA`] unless narrowed by [`Csrs::set_misa`]).
    pub misa: u64,
    /// What the current step did to the floating-point state, for commit logs: bit 0
    /// ([`FP_EVENT_FLAGS`]) an instruction accrued exception flags, bit 1
    /// ([`FP_EVENT_DIRTIED`]) `mstatus.FS` became Dirty. The hart clears it at the start of
    /// every step; it changes no architectural state.
    pub fp_events: u8,
}

/// [`Csrs::fp_events`]: exception flags were accrued into `fflags`.
pub const FP_EVENT_FLAGS: u8 = 1;
/// [`Csrs::fp_events`]: `mstatus.FS` changed to Dirty.
pub const FP_EVENT_DIRTIED: u8 = 2;

impl Default for Csrs {
    fn default() -> Self {
        Csrs::new(0)
    }
}

impl Csrs {
    /// The reset state of hart `hartid`: every register zero except the read-only
    /// `mstatus.UXL`/`SXL` (= 2); in particular MIE = MPRV = 0 as the spec's reset rules
    /// require, and `satp` is Bare. The hart itself resets into M-mode.
    pub fn new(hartid: u64) -> Self {
        Csrs {
            mstatus: mstatus::XL64,
            mhartid: hartid,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip_sw: 0,
            mip_lines: 0,
            mtvec: 0,
            stvec: 0,
            mcounteren: 0,
            scounteren: 0,
            menvcfg: 0,
            senvcfg: 0,
            mcountinhibit: 0,
            mscratch: 0,
            sscratch: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            satp: 0,
            mcycle: 0,
            minstret: 0,
            time: 0,
            vm: VmCsrs::default(),
            fcsr: 0,
            misa: MISA,
            fp_events: 0,
        }
    }

    /// Narrow the hart to the extensions of `misa` (a subset of [`MISA`]'s bits). Without
    /// F, `mstatus.FS` reads zero and cannot be written, and the floating-point CSRs do not
    /// exist.
    pub fn set_misa(&mut self, misa: u64) {
        self.misa = misa & MISA;
        if !self.has_f() {
            self.mstatus &= !mstatus::FS;
            self.fcsr = 0;
        }
    }

    /// Whether the hart has the F extension.
    pub fn has_f(&self) -> bool {
        self.misa & misa_bit('F') != 0
    }

    /// Whether the hart implements extension `ext` (F and D follow `misa`; the others are
    /// always present).
    pub fn has_ext(&self, ext: crate::isa::Ext) -> bool {
        use crate::isa::Ext;
        match ext {
            Ext::F => self.has_f(),
            Ext::D => self.has_d(),
            _ => true,
        }
    }

    /// Whether the hart has the D extension.
    pub fn has_d(&self) -> bool {
        self.misa & misa_bit('D') != 0
    }

    /// `mstatus.FS` (one of the `mstatus::FS_*` values).
    pub fn fs(&self) -> u64 {
        self.mstatus & mstatus::FS
    }

    /// `mstatus.FS` as a state.
    pub fn fs_state(&self) -> FsState {
        FsState::from_bits(self.fs() >> 13)
    }

    /// Set `mstatus.FS` (ignored on a hart without F, where FS is read-only Off).
    pub fn set_fs_state(&mut self, s: FsState) {
        if self.has_f() {
            self.mstatus = (self.mstatus & !mstatus::FS) | (s.bits() << 13);
        }
    }

    /// Whether floating-point instructions may execute: F is present and `mstatus.FS` is
    /// not Off.
    pub fn fp_enabled(&self) -> bool {
        self.has_f() && self.fs() != mstatus::FS_OFF
    }

    /// Set `mstatus.FS` to Dirty (an instruction wrote an f register, `fflags` or `frm`).
    pub fn set_fs_dirty(&mut self) {
        if self.mstatus & mstatus::FS != mstatus::FS_DIRTY {
            self.mstatus |= mstatus::FS_DIRTY;
            self.fp_events |= FP_EVENT_DIRTIED;
        }
    }

    /// Accrue exception flags into `fflags` (marking FS Dirty when any is raised).
    pub fn accrue_fflags(&mut self, flags: u8) {
        if flags != 0 {
            self.fcsr |= u64::from(flags & 0x1f);
            self.fp_events |= FP_EVENT_FLAGS;
            self.set_fs_dirty();
        }
    }

    /// `frm`, the dynamic rounding mode (bits 7:5 of `fcsr`).
    pub fn frm(&self) -> u64 {
        (self.fcsr >> 5) & 7
    }

    /// `mstatus` as software reads it: with SD set when FS (or XS/VS) is Dirty.
    fn mstatus_read(&self) -> u64 {
        let dirty = self.mstatus & mstatus::FS == mstatus::FS_DIRTY
            || self.mstatus & mstatus::XS == mstatus::XS
            || self.mstatus & mstatus::VS == mstatus::VS;
        (self.mstatus & !mstatus::SD) | if dirty { mstatus::SD } else { 0 }
    }

    /// `mip` as software reads it: the software bits ORed with the device lines.
    pub fn mip(&self) -> u64 {
        (self.mip_sw | self.mip_lines) & irq::ALL
    }

    /// Drive an interrupt line (a device's MSIP, MTIP, MEIP or external SEIP; `bit` is one of
    /// the [`irq`] masks).
    pub fn set_line(&mut self, bit: u64, level: bool) {
        if level {
            self.mip_lines |= bit & irq::ALL;
        } else {
            self.mip_lines &= !bit;
        }
    }

    /// `satp.MODE`. Always a supported mode: writes of other modes are ignored.
    pub fn satp_mode(&self) -> SatpMode {
        SatpMode::from_bits(self.satp >> 60).unwrap_or(SatpMode::Bare)
    }

    /// `satp.ASID`.
    pub fn asid(&self) -> u16 {
        (self.satp >> 44) as u16
    }

    /// `satp.PPN` (the root page table's physical page number).
    pub fn satp_ppn(&self) -> u64 {
        self.satp & ((1 << 44) - 1)
    }

    /// The root page table's physical address (`satp.PPN << 12`).
    pub fn satp_root(&self) -> u64 {
        self.satp_ppn() << 12
    }

    /// Advance the counters by `cycles` and `insns`, unless `mcountinhibit` stops them.
    pub fn tick(&mut self, cycles: u64, insns: u64) {
        if self.mcountinhibit & 1 == 0 {
            self.mcycle = self.mcycle.wrapping_add(cycles);
        }
        if self.mcountinhibit & 4 == 0 {
            self.minstret = self.minstret.wrapping_add(insns);
        }
    }

    /// The context the MMU needs for an access of `kind` made at privilege `cur`: for loads
    /// and stores with `mstatus.MPRV` = 1 the effective privilege is `mstatus.MPP`; fetches
    /// always use `cur`. The ASID comes from `satp`, SUM and MXR from `mstatus`.
    pub fn mmu_context(&self, cur: Privilege, kind: AccessKind) -> Context {
        let privilege = if kind != AccessKind::Fetch && self.mstatus & mstatus::MPRV != 0 {
            self.mpp()
        } else {
            cur
        };
        Context {
            privilege,
            asid: self.asid(),
            sum: self.mstatus & mstatus::SUM != 0,
            mxr: self.mstatus & mstatus::MXR != 0,
        }
    }

    /// `mstatus.MPP` (always a legal value).
    pub fn mpp(&self) -> Privilege {
        priv_from_bits(self.mstatus >> mstatus::MPP_SHIFT).unwrap_or(Privilege::User)
    }

    /// Check the access rules for `addr` at privilege `cur`; `write` says whether the
    /// instruction writes.
    fn check(&self, addr: u16, cur: Privilege, write: bool) -> Result<(), CsrError> {
        if !implemented(addr) {
            return Err(CsrError::Unimplemented(addr));
        }
        let required = match (addr >> 8) & 3 {
            0 => Privilege::User,
            1 | 2 => Privilege::Supervisor,
            _ => Privilege::Machine,
        };
        if priv_bits(cur) < priv_bits(required) {
            return Err(CsrError::Privilege { addr, required });
        }
        if write && (addr >> 10) & 3 == 3 {
            return Err(CsrError::ReadOnly(addr));
        }
        if matches!(addr, addr::FFLAGS..=addr::FCSR) && !self.fp_enabled() {
            return Err(if self.has_f() {
                CsrError::FpOff(addr)
            } else {
                CsrError::Unimplemented(addr)
            });
        }
        if addr == addr::SATP && cur == Privilege::Supervisor && self.mstatus & mstatus::TVM != 0 {
            return Err(CsrError::TrappedByTvm);
        }
        if (addr::CYCLE..=addr::HPMCOUNTER31).contains(&addr) {
            let bit = 1u64 << (addr - addr::CYCLE);
            let ok = match cur {
                Privilege::Machine => true,
                Privilege::Supervisor => self.mcounteren & bit != 0,
                Privilege::User => self.mcounteren & self.scounteren & bit != 0,
            };
            if !ok {
                return Err(CsrError::CounterDisabled(addr));
            }
        }
        Ok(())
    }

    /// Read CSR `addr` at privilege `cur` (a `csrrs/csrrc` with `rs1 = x0`, or any read).
    pub fn read(&self, addr: u16, cur: Privilege) -> Result<u64, CsrError> {
        self.check(addr, cur, false)?;
        Ok(self.raw_read(addr))
    }

    /// Write `value` to CSR `addr` at privilege `cur` (a `csrrw` or a writing `csrrs/csrrc`
    /// whose new value the caller computed). Returns the old value. For `mip`/`sip` use
    /// [`Csrs::op`], which applies set/clear to the software-writable SEIP bit as the spec
    /// requires.
    pub fn write(&mut self, addr: u16, cur: Privilege, value: u64) -> Result<u64, CsrError> {
        self.check(addr, cur, true)?;
        let old = self.raw_read(addr);
        self.raw_write(addr, value);
        Ok(old)
    }

    /// Execute a Zicsr instruction on `addr` at privilege `cur`: returns the old value (for
    /// `rd`). `writes` is false for `csrrs/csrrc` with `rs1 = x0` (or `uimm = 0`), which then
    /// only read and so may target a read-only CSR.
    pub fn op(
        &mut self,
        addr: u16,
        cur: Privilege,
        op: CsrOp,
        operand: u64,
        writes: bool,
    ) -> Result<u64, CsrError> {
        self.check(addr, cur, writes)?;
        let old = self.raw_read(addr);
        if writes {
            // csrrs/csrrc on mip/sip modify the software-writable SEIP bit, not the value
            // ORed with the external line.
            let base = match addr {
                addr::MIP => self.mip_sw,
                addr::SIP => self.mip_sw & self.mideleg,
                _ => old,
            };
            let new = match op {
                CsrOp::Write => operand,
                CsrOp::Set => base | operand,
                CsrOp::Clear => base & !operand,
            };
            self.raw_write(addr, new);
        }
        Ok(old)
    }

    /// The value of an implemented CSR, without access checks.
    pub fn raw_read(&self, addr: u16) -> u64 {
        use addr::*;
        match addr {
            CYCLE | MCYCLE => self.mcycle,
            TIME => self.time,
            INSTRET | MINSTRET => self.minstret,
            FFLAGS => self.fcsr & 0x1f,
            FRM => self.frm(),
            FCSR => self.fcsr & 0xff,
            SSTATUS => self.mstatus_read() & mstatus::SSTATUS_MASK,
            SIE => self.mie & self.mideleg,
            STVEC => self.stvec,
            SCOUNTEREN => self.scounteren,
            SENVCFG => self.senvcfg,
            SSCRATCH => self.sscratch,
            SEPC => self.sepc,
            SCAUSE => self.scause,
            STVAL => self.stval,
            SIP => self.mip() & self.mideleg,
            SATP => self.satp,
            MHARTID => self.mhartid,
            MSTATUS => self.mstatus_read(),
            MISA => self.misa,
            MEDELEG => self.medeleg,
            MIDELEG => self.mideleg,
            MIE => self.mie,
            MTVEC => self.mtvec,
            MCOUNTEREN => self.mcounteren,
            MENVCFG => self.menvcfg,
            MCOUNTINHIBIT => self.mcountinhibit,
            MSCRATCH => self.mscratch,
            MEPC => self.mepc,
            MCAUSE => self.mcause,
            MTVAL => self.mtval,
            MIP => self.mip(),
            a if VmCsrs::implemented(a) => self.vm.read(a),
            // mvendorid, marchid, mimpid, mconfigptr, the hpm counters and events: zero.
            _ => 0,
        }
    }

    /// Write an implemented CSR with WARL legalisation, without access checks.
    pub fn raw_write(&mut self, addr: u16, v: u64) {
        use addr::*;
        match addr {
            MCYCLE => self.mcycle = v,
            MINSTRET => self.minstret = v,
            FFLAGS => {
                self.fcsr = (self.fcsr & !0x1f) | (v & 0x1f);
                self.set_fs_dirty();
            }
            FRM => {
                self.fcsr = (self.fcsr & 0x1f) | ((v & 7) << 5);
                self.set_fs_dirty();
            }
            FCSR => {
                self.fcsr = v & 0xff;
                self.set_fs_dirty();
            }
            SSTATUS => {
                let w = mstatus::SSTATUS_WRITABLE & self.status_writable();
                self.mstatus = (self.mstatus & !w) | (v & w);
            }
            MSTATUS => {
                let w = mstatus::MSTATUS_WRITABLE & self.status_writable();
                let mut v = v;
                // MPP is WARL over {U, S, M}: the reserved value 2 becomes U (as Spike does).
                if (v & mstatus::MPP) >> mstatus::MPP_SHIFT == 2 {
                    v &= !mstatus::MPP;
                }
                self.mstatus = (self.mstatus & !w) | (v & w);
            }
            SIE => self.mie = (self.mie & !self.mideleg) | (v & self.mideleg),
            MIE => self.mie = v & irq::ALL,
            // sip: only SSIP is writable, and only when delegated.
            SIP => {
                let w = irq::SSI & self.mideleg;
                self.mip_sw = (self.mip_sw & !w) | (v & w);
            }
            // mip: SSIP, STIP (no Sstc) and the software SEIP are writable; MSIP, MTIP, MEIP
            // come from devices.
            MIP => self.mip_sw = v & irq::S_MASK,
            STVEC => self.stvec = legal_tvec(v),
            MTVEC => self.mtvec = legal_tvec(v),
            SCOUNTEREN => self.scounteren = v & 0xFFFF_FFFF,
            MCOUNTEREN => self.mcounteren = v & 0xFFFF_FFFF,
            // Only FIOM (bit 0) is implemented in either envcfg.
            SENVCFG => self.senvcfg = v & 1,
            MENVCFG => self.menvcfg = v & 1,
            // CY and IR; bit 1 (TM) is read-only zero, the hpm counters are hard-wired zero.
            MCOUNTINHIBIT => self.mcountinhibit = v & 0b101,
            SSCRATCH => self.sscratch = v,
            MSCRATCH => self.mscratch = v,
            // IALIGN = 16 (C is always on): bit 0 reads zero.
            SEPC => self.sepc = v & !1,
            MEPC => self.mepc = v & !1,
            SCAUSE => self.scause = v,
            MCAUSE => self.mcause = v,
            STVAL => self.stval = v,
            MTVAL => self.mtval = v,
            // A write selecting an unsupported MODE has no effect at all.
            SATP if SatpMode::from_bits(v >> 60).is_some() => self.satp = v,
            MEDELEG => self.medeleg = v & MEDELEG_WRITABLE,
            MIDELEG => self.mideleg = v & irq::S_MASK,
            a if VmCsrs::implemented(a) => self.vm.write(a, v),
            // misa is read-only (writes ignored); the rest are read-only zero.
            _ => {}
        }
    }
}

impl Csrs {
    /// The `mstatus` bits this hart's extensions allow writing (FS only with F).
    fn status_writable(&self) -> u64 {
        if self.has_f() {
            !0
        } else {
            !mstatus::FS
        }
    }
}

/// [`Csrs::read`] as a free function.
pub fn csr_read(csrs: &Csrs, addr: u16, cur: Privilege) -> Result<u64, CsrError> {
    csrs.read(addr, cur)
}

/// [`Csrs::write`] as a free function.
pub fn csr_write(csrs: &mut Csrs, addr: u16, cur: Privilege, value: u64) -> Result<u64, CsrError> {
    csrs.write(addr, cur, value)
}

/// `xtvec` legalisation: MODE (bits 1:0) is WARL over {0 = direct, 1 = vectored}; the values
/// 2 and 3 have bit 1 cleared (3 becomes vectored, 2 direct), as Spike does. BASE (bits 63:2)
/// is fully writable and so always 4-byte aligned.
fn legal_tvec(v: u64) -> u64 {
    v & !2
}

/// Whether this hart implements CSR `addr`.
pub fn implemented(addr: u16) -> bool {
    use addr::*;
    matches!(
        addr,
        FFLAGS..=FCSR
            | CYCLE..=HPMCOUNTER31
            | SSTATUS
            | SIE
            | STVEC
            | SCOUNTEREN
            | SENVCFG
            | SSCRATCH
            | SEPC
            | SCAUSE
            | STVAL
            | SIP
            | SATP
            | MVENDORID..=MCONFIGPTR
            | MSTATUS
            | MISA
            | MEDELEG
            | MIDELEG
            | MIE
            | MTVEC
            | MCOUNTEREN
            | MENVCFG
            | MCOUNTINHIBIT
            | MHPMEVENT3..=MHPMEVENT31
            | MSCRATCH
            | MEPC
            | MCAUSE
            | MTVAL
            | MIP
            | MCYCLE
            | MINSTRET
            | MHPMCOUNTER3..=MHPMCOUNTER31
            | PMPADDR0..=PMPADDR63
    ) || (addr & !0xE) == PMPCFG0
        || VmCsrs::implemented(addr)
}

/// Whether a write to CSR `addr` can change how addresses translate (`satp` and the
/// custom translation CSRs), so that the machine must recompute the MMU's mode.
pub fn changes_translation(addr: u16) -> bool {
    addr == addr::SATP || VmCsrs::implemented(addr)
}
