//! The instruction table: every 32-bit instruction vmlab knows, with its encoding.
//!
//! The [`instructions!`] list below is the single source of truth: it defines the [`Op`]
//! enum and [`TABLE`] together, so an operation cannot exist without its encoding.

use serde::{Deserialize, Serialize};

/// How an instruction's operands are laid out in its 32-bit word, and which
/// [`Insn`](super::Insn) fields they occupy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// `rd, rs1, rs2` (R-type).
    R,
    /// `rd, rs1, imm` with a signed 12-bit immediate (I-type).
    I,
    /// `rd, imm(rs1)`: loads and `jalr` (I-type).
    Load,
    /// `rs2, imm(rs1)` with a signed 12-bit immediate (S-type).
    S,
    /// `rs1, rs2, offset`: a signed 13-bit, even, pc-relative offset (B-type).
    B,
    /// `rd, imm`: `imm` is the signed 20-bit upper field (the value is `imm << 12`) (U-type).
    U,
    /// `rd, offset`: a signed 21-bit, even, pc-relative offset (J-type).
    J,
    /// `rd, rs1, shamt` with the 6-bit shift amount of RV64.
    Shift,
    /// `rd, rs1, shamt` with a 5-bit shift amount (the `*w` shifts).
    ShiftW,
    /// `rd, csr, rs1`: `csr` in [`Insn::csr`](super::Insn::csr).
    Csr,
    /// `rd, csr, uimm`: a 5-bit unsigned immediate in the `rs1` field, kept in `imm`.
    CsrI,
    /// `rd, rs2, (rs1)` with the `aq` and `rl` ordering bits.
    Amo,
    /// `rd, (rs1)` with `aq` and `rl` (load-reserved).
    Lr,
    /// `pred, succ`: `imm` holds the whole 12-bit field `fm:pred:succ`; `rd` and `rs1` are
    /// kept too, since the specification says implementations ignore them.
    Fence,
    /// No visible operand; `imm`, `rd` and `rs1` are kept as for [`Format::Fence`]
    /// (`fence.i`).
    FenceI,
    /// `rs1, rs2` (`sfence.vma`).
    Sfence,
    /// No operand at all: every bit is fixed (`ecall`, `mret`...).
    None,
    /// `fd, fs1, fs2, rm`: floating-point arithmetic with a rounding mode in `funct3`.
    FR,
    /// `fd, fs1, fs2`: sign injection, minimum and maximum (`funct3` is fixed).
    FSgn,
    /// `rd, fs1, fs2`: comparisons writing an integer register.
    FCmp,
    /// `fd, fs1, rm`: square root and the narrowing `fcvt.s.d`.
    FUnary,
    /// `fd, fs1`: `fcvt.d.s`, which is always exact. The `rm` field is kept in
    /// [`Insn::rm`](super::Insn::rm) but not printed (GNU as 2.40 writes 0 and objdump
    /// hides it); a reserved value is still illegal to execute.
    FUnaryX,
    /// `rd, fs1, rm`: conversions to an integer.
    FToInt,
    /// `fd, rs1, rm`: conversions from an integer.
    FFromInt,
    /// `fd, rs1`: `fcvt.d.w` and `fcvt.d.wu`, which are always exact; `rm` as for
    /// [`Format::FUnaryX`].
    FFromIntX,
    /// `rd, fs1`: `fmv.x.w`, `fmv.x.d` and `fclass`.
    FMvToInt,
    /// `fd, rs1`: `fmv.w.x` and `fmv.d.x`.
    FMvFromInt,
    /// `fd, fs1, fs2, fs3, rm`: the fused multiply-add family (R4-type).
    FR4,
    /// `fd, imm(rs1)`: floating-point loads.
    FLoad,
    /// `fs2, imm(rs1)`: floating-point stores.
    FStore,
}

/// The extension an instruction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ext {
    /// The base integer set, RV64I.
    I,
    /// Integer multiplication and division.
    M,
    /// Atomic instructions.
    A,
    /// Single-precision floating point.
    F,
    /// Double-precision floating point.
    D,
    /// The compressed instructions (RV64C).
    C,
    /// The CSR instructions.
    Zicsr,
    /// The instruction-fetch fence.
    Zifencei,
    /// The privileged instructions (`mret`, `sret`, `wfi`, `sfence.vma`).
    Priv,
}

impl Ext {
    /// The extension's name as the ISA manual writes it (`"D"`, `"Zicsr"`, `"privileged"`).
    pub fn name(self) -> &'static str {
        match self {
            Ext::I => "I",
            Ext::M => "M",
            Ext::A => "A",
            Ext::F => "F",
            Ext::D => "D",
            Ext::C => "C",
            Ext::Zicsr => "Zicsr",
            Ext::Zifencei => "Zifencei",
            Ext::Priv => "privileged",
        }
    }
}

/// One operand as an assembler writes it, in order, for a [`Format`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operand {
    /// The destination register.
    Rd,
    /// The first source register.
    Rs1,
    /// The second source register.
    Rs2,
    /// A signed 12-bit immediate.
    Imm12,
    /// A signed 12-bit offset written before `(rs1)`; the register follows as [`Operand::Rs1`].
    Offset12,
    /// A branch target (13-bit even pc-relative offset).
    BranchTarget,
    /// A jump target (21-bit even pc-relative offset).
    JumpTarget,
    /// A 20-bit upper immediate.
    Upper20,
    /// A 6-bit shift amount.
    Shamt6,
    /// A 5-bit shift amount.
    Shamt5,
    /// A CSR number or name.
    Csr,
    /// A 5-bit unsigned immediate (CSR immediate forms).
    Uimm5,
    /// The predecessor set of a fence (`iorw` letters).
    Pred,
    /// The successor set of a fence.
    Succ,
    /// The destination, a floating-point register.
    FRd,
    /// The first source, a floating-point register.
    FRs1,
    /// The second source, a floating-point register.
    FRs2,
    /// The third source, a floating-point register (R4-type).
    FRs3,
    /// An optional rounding mode (`rne`, `rtz`, `rdn`, `rup`, `rmm`, `dyn`; default `dyn`).
    Rm,
}

impl Format {
    /// The operands an assembler writes for this format, in order. Memory forms list the
    /// offset before the base register (`imm(rs1)`); AMOs list `(rs1)` last.
    pub const fn operands(self) -> &'static [Operand] {
        use Operand::*;
        match self {
            Format::R => &[Rd, Rs1, Rs2],
            Format::I => &[Rd, Rs1, Imm12],
            Format::Load => &[Rd, Offset12, Rs1],
            Format::S => &[Rs2, Offset12, Rs1],
            Format::B => &[Rs1, Rs2, BranchTarget],
            Format::U => &[Rd, Upper20],
            Format::J => &[Rd, JumpTarget],
            Format::Shift => &[Rd, Rs1, Shamt6],
            Format::ShiftW => &[Rd, Rs1, Shamt5],
            Format::Csr => &[Rd, Csr, Rs1],
            Format::CsrI => &[Rd, Csr, Uimm5],
            Format::Amo => &[Rd, Rs2, Rs1],
            Format::Lr => &[Rd, Rs1],
            Format::Fence => &[Pred, Succ],
            Format::FenceI | Format::None => &[],
            Format::Sfence => &[Rs1, Rs2],
            Format::FR => &[FRd, FRs1, FRs2, Rm],
            Format::FSgn => &[FRd, FRs1, FRs2],
            Format::FCmp => &[Rd, FRs1, FRs2],
            Format::FUnary => &[FRd, FRs1, Rm],
            Format::FUnaryX => &[FRd, FRs1],
            Format::FToInt => &[Rd, FRs1, Rm],
            Format::FFromInt => &[FRd, Rs1, Rm],
            Format::FFromIntX => &[FRd, Rs1],
            Format::FMvToInt => &[Rd, FRs1],
            Format::FMvFromInt => &[FRd, Rs1],
            Format::FR4 => &[FRd, FRs1, FRs2, FRs3, Rm],
            Format::FLoad => &[FRd, Offset12, Rs1],
            Format::FStore => &[FRs2, Offset12, Rs1],
        }
    }

    /// Which [`Insn`](super::Insn) fields the format uses: `(rd, rs1, rs2, imm, csr, aq/rl)`.
    /// [`Format::has_rs3`] and [`Format::has_rm`] tell about the floating-point fields.
    pub const fn fields(self) -> (bool, bool, bool, bool, bool, bool) {
        match self {
            Format::R => (true, true, true, false, false, false),
            Format::I | Format::Load | Format::Shift | Format::ShiftW => {
                (true, true, false, true, false, false)
            }
            Format::S | Format::B => (false, true, true, true, false, false),
            Format::U | Format::J => (true, false, false, true, false, false),
            Format::Csr => (true, true, false, false, true, false),
            Format::CsrI => (true, false, false, true, true, false),
            Format::Amo => (true, true, true, false, false, true),
            Format::Lr => (true, true, false, false, false, true),
            Format::Fence | Format::FenceI => (true, true, false, true, false, false),
            Format::Sfence => (false, true, true, false, false, false),
            Format::None => (false, false, false, false, false, false),
            Format::FR | Format::FSgn | Format::FCmp | Format::FR4 => {
                (true, true, true, false, false, false)
            }
            Format::FUnary
            | Format::FUnaryX
            | Format::FToInt
            | Format::FFromInt
            | Format::FFromIntX
            | Format::FMvToInt
            | Format::FMvFromInt => (true, true, false, false, false, false),
            Format::FLoad => (true, true, false, true, false, false),
            Format::FStore => (false, true, true, true, false, false),
        }
    }

    /// Whether the format has an `rs3` field (R4-type).
    pub const fn has_rs3(self) -> bool {
        matches!(self, Format::FR4)
    }

    /// Whether the format has a rounding-mode field (`funct3`) kept in
    /// [`Insn::rm`](super::Insn::rm).
    pub const fn has_rm(self) -> bool {
        matches!(
            self,
            Format::FR
                | Format::FUnary
                | Format::FUnaryX
                | Format::FToInt
                | Format::FFromInt
                | Format::FFromIntX
                | Format::FR4
        )
    }

    /// Which register fields name floating-point registers: `(rd, rs1, rs2)` (`rs3`, when
    /// present, always does).
    pub const fn float_regs(self) -> (bool, bool, bool) {
        match self {
            Format::FR | Format::FSgn | Format::FR4 => (true, true, true),
            Format::FCmp => (false, true, true),
            Format::FUnary | Format::FUnaryX => (true, true, false),
            Format::FToInt | Format::FMvToInt => (false, true, false),
            Format::FFromInt | Format::FFromIntX | Format::FMvFromInt | Format::FLoad => {
                (true, false, false)
            }
            Format::FStore => (false, false, true),
            _ => (false, false, false),
        }
    }

    /// The inclusive range of `imm` and the alignment it needs, for formats with an
    /// immediate.
    pub const fn imm_range(self) -> Option<(i64, i64, i64)> {
        match self {
            Format::I | Format::Load | Format::S | Format::FLoad | Format::FStore => {
                Some((-2048, 2047, 1))
            }
            Format::B => Some((-4096, 4094, 2)),
            Format::J => Some((-(1 << 20), (1 << 20) - 2, 2)),
            Format::U => Some((-(1 << 19), (1 << 19) - 1, 1)),
            Format::Shift => Some((0, 63, 1)),
            Format::ShiftW | Format::CsrI => Some((0, 31, 1)),
            Format::Fence | Format::FenceI => Some((0, 4095, 1)),
            _ => None,
        }
    }
}

/// One row of the instruction table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Def {
    /// The operation.
    pub op: Op,
    /// The mnemonic, as the specification and GNU as spell it.
    pub name: &'static str,
    /// The extension it belongs to.
    pub ext: Ext,
    /// The operand layout.
    pub format: Format,
    /// The fixed bits: a word is this instruction when `word & mask == mat`.
    pub mat: u32,
    /// Which bits are fixed.
    pub mask: u32,
}

macro_rules! instructions {
    ($( $op:ident = $name:literal, $ext:ident, $fmt:ident, $mat:literal, $mask:literal; )*) => {
        /// An operation: one row of [`TABLE`], or [`Op::Illegal`].
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub enum Op {
            $(
                #[doc = concat!("`", $name, "`.")]
                $op,
            )*
            /// Not an instruction vmlab implements (reserved or unknown encodings): [`Insn::imm`](super::Insn::imm) holds the raw bits.
            #[default]
            Illegal,
        }

        /// The instruction table, in [`Op`] order: `TABLE[op as usize].op == op`.
        pub static TABLE: &[Def] = &[
            $( Def { op: Op::$op, name: $name, ext: Ext::$ext, format: Format::$fmt, mat: $mat, mask: $mask }, )*
        ];
    };
}

instructions! {
    // RV64I
    Lui = "lui", I, U, 0x00000037, 0x0000007f;
    Auipc = "auipc", I, U, 0x00000017, 0x0000007f;
    Jal = "jal", I, J, 0x0000006f, 0x0000007f;
    Jalr = "jalr", I, Load, 0x00000067, 0x0000707f;
    Beq = "beq", I, B, 0x00000063, 0x0000707f;
    Bne = "bne", I, B, 0x00001063, 0x0000707f;
    Blt = "blt", I, B, 0x00004063, 0x0000707f;
    Bge = "bge", I, B, 0x00005063, 0x0000707f;
    Bltu = "bltu", I, B, 0x00006063, 0x0000707f;
    Bgeu = "bgeu", I, B, 0x00007063, 0x0000707f;
    Lb = "lb", I, Load, 0x00000003, 0x0000707f;
    Lh = "lh", I, Load, 0x00001003, 0x0000707f;
    Lw = "lw", I, Load, 0x00002003, 0x0000707f;
    Ld = "ld", I, Load, 0x00003003, 0x0000707f;
    Lbu = "lbu", I, Load, 0x00004003, 0x0000707f;
    Lhu = "lhu", I, Load, 0x00005003, 0x0000707f;
    Lwu = "lwu", I, Load, 0x00006003, 0x0000707f;
    Sb = "sb", I, S, 0x00000023, 0x0000707f;
    Sh = "sh", I, S, 0x00001023, 0x0000707f;
    Sw = "sw", I, S, 0x00002023, 0x0000707f;
    Sd = "sd", I, S, 0x00003023, 0x0000707f;
    Addi = "addi", I, I, 0x00000013, 0x0000707f;
    Slti = "slti", I, I, 0x00002013, 0x0000707f;
    Sltiu = "sltiu", I, I, 0x00003013, 0x0000707f;
    Xori = "xori", I, I, 0x00004013, 0x0000707f;
    Ori = "ori", I, I, 0x00006013, 0x0000707f;
    Andi = "andi", I, I, 0x00007013, 0x0000707f;
    Slli = "slli", I, Shift, 0x00001013, 0xfc00707f;
    Srli = "srli", I, Shift, 0x00005013, 0xfc00707f;
    Srai = "srai", I, Shift, 0x40005013, 0xfc00707f;
    Add = "add", I, R, 0x00000033, 0xfe00707f;
    Sub = "sub", I, R, 0x40000033, 0xfe00707f;
    Sll = "sll", I, R, 0x00001033, 0xfe00707f;
    Slt = "slt", I, R, 0x00002033, 0xfe00707f;
    Sltu = "sltu", I, R, 0x00003033, 0xfe00707f;
    Xor = "xor", I, R, 0x00004033, 0xfe00707f;
    Srl = "srl", I, R, 0x00005033, 0xfe00707f;
    Sra = "sra", I, R, 0x40005033, 0xfe00707f;
    Or = "or", I, R, 0x00006033, 0xfe00707f;
    And = "and", I, R, 0x00007033, 0xfe00707f;
    Addiw = "addiw", I, I, 0x0000001b, 0x0000707f;
    Slliw = "slliw", I, ShiftW, 0x0000101b, 0xfe00707f;
    Srliw = "srliw", I, ShiftW, 0x0000501b, 0xfe00707f;
    Sraiw = "sraiw", I, ShiftW, 0x4000501b, 0xfe00707f;
    Addw = "addw", I, R, 0x0000003b, 0xfe00707f;
    Subw = "subw", I, R, 0x4000003b, 0xfe00707f;
    Sllw = "sllw", I, R, 0x0000103b, 0xfe00707f;
    Srlw = "srlw", I, R, 0x0000503b, 0xfe00707f;
    Sraw = "sraw", I, R, 0x4000503b, 0xfe00707f;
    Fence = "fence", I, Fence, 0x0000000f, 0x0000707f;
    FenceTso = "fence.tso", I, Fence, 0x8330000f, 0xfff0707f;
    Ecall = "ecall", I, None, 0x00000073, 0xffffffff;
    Ebreak = "ebreak", I, None, 0x00100073, 0xffffffff;
    // M
    Mul = "mul", M, R, 0x02000033, 0xfe00707f;
    Mulh = "mulh", M, R, 0x02001033, 0xfe00707f;
    Mulhsu = "mulhsu", M, R, 0x02002033, 0xfe00707f;
    Mulhu = "mulhu", M, R, 0x02003033, 0xfe00707f;
    Div = "div", M, R, 0x02004033, 0xfe00707f;
    Divu = "divu", M, R, 0x02005033, 0xfe00707f;
    Rem = "rem", M, R, 0x02006033, 0xfe00707f;
    Remu = "remu", M, R, 0x02007033, 0xfe00707f;
    Mulw = "mulw", M, R, 0x0200003b, 0xfe00707f;
    Divw = "divw", M, R, 0x0200403b, 0xfe00707f;
    Divuw = "divuw", M, R, 0x0200503b, 0xfe00707f;
    Remw = "remw", M, R, 0x0200603b, 0xfe00707f;
    Remuw = "remuw", M, R, 0x0200703b, 0xfe00707f;
    // A
    LrW = "lr.w", A, Lr, 0x1000202f, 0xf9f0707f;
    ScW = "sc.w", A, Amo, 0x1800202f, 0xf800707f;
    AmoswapW = "amoswap.w", A, Amo, 0x0800202f, 0xf800707f;
    AmoaddW = "amoadd.w", A, Amo, 0x0000202f, 0xf800707f;
    AmoxorW = "amoxor.w", A, Amo, 0x2000202f, 0xf800707f;
    AmoandW = "amoand.w", A, Amo, 0x6000202f, 0xf800707f;
    AmoorW = "amoor.w", A, Amo, 0x4000202f, 0xf800707f;
    AmominW = "amomin.w", A, Amo, 0x8000202f, 0xf800707f;
    AmomaxW = "amomax.w", A, Amo, 0xa000202f, 0xf800707f;
    AmominuW = "amominu.w", A, Amo, 0xc000202f, 0xf800707f;
    AmomaxuW = "amomaxu.w", A, Amo, 0xe000202f, 0xf800707f;
    LrD = "lr.d", A, Lr, 0x1000302f, 0xf9f0707f;
    ScD = "sc.d", A, Amo, 0x1800302f, 0xf800707f;
    AmoswapD = "amoswap.d", A, Amo, 0x0800302f, 0xf800707f;
    AmoaddD = "amoadd.d", A, Amo, 0x0000302f, 0xf800707f;
    AmoxorD = "amoxor.d", A, Amo, 0x2000302f, 0xf800707f;
    AmoandD = "amoand.d", A, Amo, 0x6000302f, 0xf800707f;
    AmoorD = "amoor.d", A, Amo, 0x4000302f, 0xf800707f;
    AmominD = "amomin.d", A, Amo, 0x8000302f, 0xf800707f;
    AmomaxD = "amomax.d", A, Amo, 0xa000302f, 0xf800707f;
    AmominuD = "amominu.d", A, Amo, 0xc000302f, 0xf800707f;
    AmomaxuD = "amomaxu.d", A, Amo, 0xe000302f, 0xf800707f;
    // Zicsr
    Csrrw = "csrrw", Zicsr, Csr, 0x00001073, 0x0000707f;
    Csrrs = "csrrs", Zicsr, Csr, 0x00002073, 0x0000707f;
    Csrrc = "csrrc", Zicsr, Csr, 0x00003073, 0x0000707f;
    Csrrwi = "csrrwi", Zicsr, CsrI, 0x00005073, 0x0000707f;
    Csrrsi = "csrrsi", Zicsr, CsrI, 0x00006073, 0x0000707f;
    Csrrci = "csrrci", Zicsr, CsrI, 0x00007073, 0x0000707f;
    // Zifencei
    FenceI = "fence.i", Zifencei, FenceI, 0x0000100f, 0x0000707f;
    // Privileged
    Sret = "sret", Priv, None, 0x10200073, 0xffffffff;
    Mret = "mret", Priv, None, 0x30200073, 0xffffffff;
    Wfi = "wfi", Priv, None, 0x10500073, 0xffffffff;
    SfenceVma = "sfence.vma", Priv, Sfence, 0x12000073, 0xfe007fff;
    // F
    Flw = "flw", F, FLoad, 0x00002007, 0x0000707f;
    Fsw = "fsw", F, FStore, 0x00002027, 0x0000707f;
    FAddS = "fadd.s", F, FR, 0x00000053, 0xfe00007f;
    FSubS = "fsub.s", F, FR, 0x08000053, 0xfe00007f;
    FMulS = "fmul.s", F, FR, 0x10000053, 0xfe00007f;
    FDivS = "fdiv.s", F, FR, 0x18000053, 0xfe00007f;
    FsqrtS = "fsqrt.s", F, FUnary, 0x58000053, 0xfff0007f;
    FSgnjS = "fsgnj.s", F, FSgn, 0x20000053, 0xfe00707f;
    FSgnjnS = "fsgnjn.s", F, FSgn, 0x20001053, 0xfe00707f;
    FSgnjxS = "fsgnjx.s", F, FSgn, 0x20002053, 0xfe00707f;
    FMinS = "fmin.s", F, FSgn, 0x28000053, 0xfe00707f;
    FMaxS = "fmax.s", F, FSgn, 0x28001053, 0xfe00707f;
    FcvtSD = "fcvt.s.d", D, FUnary, 0x40100053, 0xfff0007f;
    FeqS = "feq.s", F, FCmp, 0xa0002053, 0xfe00707f;
    FltS = "flt.s", F, FCmp, 0xa0001053, 0xfe00707f;
    FleS = "fle.s", F, FCmp, 0xa0000053, 0xfe00707f;
    FclassS = "fclass.s", F, FMvToInt, 0xe0001053, 0xfff0707f;
    FcvtWS = "fcvt.w.s", F, FToInt, 0xc0000053, 0xfff0007f;
    FcvtWuS = "fcvt.wu.s", F, FToInt, 0xc0100053, 0xfff0007f;
    FcvtLS = "fcvt.l.s", F, FToInt, 0xc0200053, 0xfff0007f;
    FcvtLuS = "fcvt.lu.s", F, FToInt, 0xc0300053, 0xfff0007f;
    FcvtSW = "fcvt.s.w", F, FFromInt, 0xd0000053, 0xfff0007f;
    FcvtSWu = "fcvt.s.wu", F, FFromInt, 0xd0100053, 0xfff0007f;
    FcvtSL = "fcvt.s.l", F, FFromInt, 0xd0200053, 0xfff0007f;
    FcvtSLu = "fcvt.s.lu", F, FFromInt, 0xd0300053, 0xfff0007f;
    FmvXW = "fmv.x.w", F, FMvToInt, 0xe0000053, 0xfff0707f;
    FmvWX = "fmv.w.x", F, FMvFromInt, 0xf0000053, 0xfff0707f;
    FMaddS = "fmadd.s", F, FR4, 0x00000043, 0x0600007f;
    FMsubS = "fmsub.s", F, FR4, 0x00000047, 0x0600007f;
    FNmsubS = "fnmsub.s", F, FR4, 0x0000004b, 0x0600007f;
    FNmaddS = "fnmadd.s", F, FR4, 0x0000004f, 0x0600007f;
    // D
    Fld = "fld", D, FLoad, 0x00003007, 0x0000707f;
    Fsd = "fsd", D, FStore, 0x00003027, 0x0000707f;
    FAddD = "fadd.d", D, FR, 0x02000053, 0xfe00007f;
    FSubD = "fsub.d", D, FR, 0x0a000053, 0xfe00007f;
    FMulD = "fmul.d", D, FR, 0x12000053, 0xfe00007f;
    FDivD = "fdiv.d", D, FR, 0x1a000053, 0xfe00007f;
    FsqrtD = "fsqrt.d", D, FUnary, 0x5a000053, 0xfff0007f;
    FSgnjD = "fsgnj.d", D, FSgn, 0x22000053, 0xfe00707f;
    FSgnjnD = "fsgnjn.d", D, FSgn, 0x22001053, 0xfe00707f;
    FSgnjxD = "fsgnjx.d", D, FSgn, 0x22002053, 0xfe00707f;
    FMinD = "fmin.d", D, FSgn, 0x2a000053, 0xfe00707f;
    FMaxD = "fmax.d", D, FSgn, 0x2a001053, 0xfe00707f;
    FcvtDS = "fcvt.d.s", D, FUnaryX, 0x42000053, 0xfff0007f;
    FeqD = "feq.d", D, FCmp, 0xa2002053, 0xfe00707f;
    FltD = "flt.d", D, FCmp, 0xa2001053, 0xfe00707f;
    FleD = "fle.d", D, FCmp, 0xa2000053, 0xfe00707f;
    FclassD = "fclass.d", D, FMvToInt, 0xe2001053, 0xfff0707f;
    FcvtWD = "fcvt.w.d", D, FToInt, 0xc2000053, 0xfff0007f;
    FcvtWuD = "fcvt.wu.d", D, FToInt, 0xc2100053, 0xfff0007f;
    FcvtLD = "fcvt.l.d", D, FToInt, 0xc2200053, 0xfff0007f;
    FcvtLuD = "fcvt.lu.d", D, FToInt, 0xc2300053, 0xfff0007f;
    FcvtDW = "fcvt.d.w", D, FFromIntX, 0xd2000053, 0xfff0007f;
    FcvtDWu = "fcvt.d.wu", D, FFromIntX, 0xd2100053, 0xfff0007f;
    FcvtDL = "fcvt.d.l", D, FFromInt, 0xd2200053, 0xfff0007f;
    FcvtDLu = "fcvt.d.lu", D, FFromInt, 0xd2300053, 0xfff0007f;
    FmvXD = "fmv.x.d", D, FMvToInt, 0xe2000053, 0xfff0707f;
    FmvDX = "fmv.d.x", D, FMvFromInt, 0xf2000053, 0xfff0707f;
    FMaddD = "fmadd.d", D, FR4, 0x02000043, 0x0600007f;
    FMsubD = "fmsub.d", D, FR4, 0x02000047, 0x0600007f;
    FNmsubD = "fnmsub.d", D, FR4, 0x0200004b, 0x0600007f;
    FNmaddD = "fnmadd.d", D, FR4, 0x0200004f, 0x0600007f;
}

impl Op {
    /// The table row of this operation (`None` for [`Op::Illegal`]).
    pub fn def(self) -> Option<&'static Def> {
        TABLE.get(self as usize)
    }

    /// Whether this is one of the 32-bit AMOs (`amoswap.w` ... `amomaxu.w`).
    pub fn is_word_amo(self) -> bool {
        use Op::*;
        matches!(
            self,
            AmoswapW
                | AmoaddW
                | AmoxorW
                | AmoandW
                | AmoorW
                | AmominW
                | AmomaxW
                | AmominuW
                | AmomaxuW
        )
    }

    /// The mnemonic (`"illegal"` for [`Op::Illegal`]).
    pub fn name(self) -> &'static str {
        self.def().map_or("illegal", |d| d.name)
    }

    /// The extension the operation belongs to (`None` for [`Op::Illegal`]).
    pub fn ext(self) -> Option<Ext> {
        self.def().map(|d| d.ext)
    }

    /// Looks an operation up by its mnemonic.
    pub fn from_name(name: &str) -> Option<Op> {
        TABLE.iter().find(|d| d.name == name).map(|d| d.op)
    }
}

/// The rows whose opcode (bits 6:2) is each value, most specific mask first.
fn buckets() -> &'static [Vec<&'static Def>; 32] {
    static B: std::sync::OnceLock<[Vec<&'static Def>; 32]> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let mut b: [Vec<&'static Def>; 32] = Default::default();
        for d in TABLE {
            b[((d.mat >> 2) & 31) as usize].push(d);
        }
        for v in &mut b {
            v.sort_by_key(|d| std::cmp::Reverse(d.mask.count_ones()));
        }
        b
    })
}

/// The row a 32-bit word matches, preferring the most specific mask (so `fence.tso` wins
/// over `fence`), or `None`.
pub fn lookup(word: u32) -> Option<&'static Def> {
    if word & 3 != 3 {
        return None;
    }
    buckets()[((word >> 2) & 31) as usize]
        .iter()
        .copied()
        .find(|d| word & d.mask == d.mat)
}
