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
        }
    }

    /// Which [`Insn`](super::Insn) fields the format uses: `(rd, rs1, rs2, imm, csr, aq/rl)`.
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
        }
    }

    /// The inclusive range of `imm` and the alignment it needs, for formats with an
    /// immediate.
    pub const fn imm_range(self) -> Option<(i64, i64, i64)> {
        match self {
            Format::I | Format::Load | Format::S => Some((-2048, 2047, 1)),
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
    /// The operand layout.
    pub format: Format,
    /// The fixed bits: a word is this instruction when `word & mask == mat`.
    pub mat: u32,
    /// Which bits are fixed.
    pub mask: u32,
}

macro_rules! instructions {
    ($( $op:ident = $name:literal, $fmt:ident, $mat:literal, $mask:literal; )*) => {
        /// An operation: one row of [`TABLE`], or [`Op::Illegal`].
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub enum Op {
            $(
                #[doc = concat!("`", $name, "`.")]
                $op,
            )*
            /// Not an instruction vmlab implements (floating point, reserved or unknown
            /// encodings): [`Insn::imm`](super::Insn::imm) holds the raw bits.
            #[default]
            Illegal,
        }

        /// The instruction table, in [`Op`] order: `TABLE[op as usize].op == op`.
        pub static TABLE: &[Def] = &[
            $( Def { op: Op::$op, name: $name, format: Format::$fmt, mat: $mat, mask: $mask }, )*
        ];
    };
}

instructions! {
    // RV64I
    Lui = "lui", U, 0x00000037, 0x0000007f;
    Auipc = "auipc", U, 0x00000017, 0x0000007f;
    Jal = "jal", J, 0x0000006f, 0x0000007f;
    Jalr = "jalr", Load, 0x00000067, 0x0000707f;
    Beq = "beq", B, 0x00000063, 0x0000707f;
    Bne = "bne", B, 0x00001063, 0x0000707f;
    Blt = "blt", B, 0x00004063, 0x0000707f;
    Bge = "bge", B, 0x00005063, 0x0000707f;
    Bltu = "bltu", B, 0x00006063, 0x0000707f;
    Bgeu = "bgeu", B, 0x00007063, 0x0000707f;
    Lb = "lb", Load, 0x00000003, 0x0000707f;
    Lh = "lh", Load, 0x00001003, 0x0000707f;
    Lw = "lw", Load, 0x00002003, 0x0000707f;
    Ld = "ld", Load, 0x00003003, 0x0000707f;
    Lbu = "lbu", Load, 0x00004003, 0x0000707f;
    Lhu = "lhu", Load, 0x00005003, 0x0000707f;
    Lwu = "lwu", Load, 0x00006003, 0x0000707f;
    Sb = "sb", S, 0x00000023, 0x0000707f;
    Sh = "sh", S, 0x00001023, 0x0000707f;
    Sw = "sw", S, 0x00002023, 0x0000707f;
    Sd = "sd", S, 0x00003023, 0x0000707f;
    Addi = "addi", I, 0x00000013, 0x0000707f;
    Slti = "slti", I, 0x00002013, 0x0000707f;
    Sltiu = "sltiu", I, 0x00003013, 0x0000707f;
    Xori = "xori", I, 0x00004013, 0x0000707f;
    Ori = "ori", I, 0x00006013, 0x0000707f;
    Andi = "andi", I, 0x00007013, 0x0000707f;
    Slli = "slli", Shift, 0x00001013, 0xfc00707f;
    Srli = "srli", Shift, 0x00005013, 0xfc00707f;
    Srai = "srai", Shift, 0x40005013, 0xfc00707f;
    Add = "add", R, 0x00000033, 0xfe00707f;
    Sub = "sub", R, 0x40000033, 0xfe00707f;
    Sll = "sll", R, 0x00001033, 0xfe00707f;
    Slt = "slt", R, 0x00002033, 0xfe00707f;
    Sltu = "sltu", R, 0x00003033, 0xfe00707f;
    Xor = "xor", R, 0x00004033, 0xfe00707f;
    Srl = "srl", R, 0x00005033, 0xfe00707f;
    Sra = "sra", R, 0x40005033, 0xfe00707f;
    Or = "or", R, 0x00006033, 0xfe00707f;
    And = "and", R, 0x00007033, 0xfe00707f;
    Addiw = "addiw", I, 0x0000001b, 0x0000707f;
    Slliw = "slliw", ShiftW, 0x0000101b, 0xfe00707f;
    Srliw = "srliw", ShiftW, 0x0000501b, 0xfe00707f;
    Sraiw = "sraiw", ShiftW, 0x4000501b, 0xfe00707f;
    Addw = "addw", R, 0x0000003b, 0xfe00707f;
    Subw = "subw", R, 0x4000003b, 0xfe00707f;
    Sllw = "sllw", R, 0x0000103b, 0xfe00707f;
    Srlw = "srlw", R, 0x0000503b, 0xfe00707f;
    Sraw = "sraw", R, 0x4000503b, 0xfe00707f;
    Fence = "fence", Fence, 0x0000000f, 0x0000707f;
    FenceTso = "fence.tso", Fence, 0x8330000f, 0xfff0707f;
    Ecall = "ecall", None, 0x00000073, 0xffffffff;
    Ebreak = "ebreak", None, 0x00100073, 0xffffffff;
    // M
    Mul = "mul", R, 0x02000033, 0xfe00707f;
    Mulh = "mulh", R, 0x02001033, 0xfe00707f;
    Mulhsu = "mulhsu", R, 0x02002033, 0xfe00707f;
    Mulhu = "mulhu", R, 0x02003033, 0xfe00707f;
    Div = "div", R, 0x02004033, 0xfe00707f;
    Divu = "divu", R, 0x02005033, 0xfe00707f;
    Rem = "rem", R, 0x02006033, 0xfe00707f;
    Remu = "remu", R, 0x02007033, 0xfe00707f;
    Mulw = "mulw", R, 0x0200003b, 0xfe00707f;
    Divw = "divw", R, 0x0200403b, 0xfe00707f;
    Divuw = "divuw", R, 0x0200503b, 0xfe00707f;
    Remw = "remw", R, 0x0200603b, 0xfe00707f;
    Remuw = "remuw", R, 0x0200703b, 0xfe00707f;
    // A
    LrW = "lr.w", Lr, 0x1000202f, 0xf9f0707f;
    ScW = "sc.w", Amo, 0x1800202f, 0xf800707f;
    AmoswapW = "amoswap.w", Amo, 0x0800202f, 0xf800707f;
    AmoaddW = "amoadd.w", Amo, 0x0000202f, 0xf800707f;
    AmoxorW = "amoxor.w", Amo, 0x2000202f, 0xf800707f;
    AmoandW = "amoand.w", Amo, 0x6000202f, 0xf800707f;
    AmoorW = "amoor.w", Amo, 0x4000202f, 0xf800707f;
    AmominW = "amomin.w", Amo, 0x8000202f, 0xf800707f;
    AmomaxW = "amomax.w", Amo, 0xa000202f, 0xf800707f;
    AmominuW = "amominu.w", Amo, 0xc000202f, 0xf800707f;
    AmomaxuW = "amomaxu.w", Amo, 0xe000202f, 0xf800707f;
    LrD = "lr.d", Lr, 0x1000302f, 0xf9f0707f;
    ScD = "sc.d", Amo, 0x1800302f, 0xf800707f;
    AmoswapD = "amoswap.d", Amo, 0x0800302f, 0xf800707f;
    AmoaddD = "amoadd.d", Amo, 0x0000302f, 0xf800707f;
    AmoxorD = "amoxor.d", Amo, 0x2000302f, 0xf800707f;
    AmoandD = "amoand.d", Amo, 0x6000302f, 0xf800707f;
    AmoorD = "amoor.d", Amo, 0x4000302f, 0xf800707f;
    AmominD = "amomin.d", Amo, 0x8000302f, 0xf800707f;
    AmomaxD = "amomax.d", Amo, 0xa000302f, 0xf800707f;
    AmominuD = "amominu.d", Amo, 0xc000302f, 0xf800707f;
    AmomaxuD = "amomaxu.d", Amo, 0xe000302f, 0xf800707f;
    // Zicsr
    Csrrw = "csrrw", Csr, 0x00001073, 0x0000707f;
    Csrrs = "csrrs", Csr, 0x00002073, 0x0000707f;
    Csrrc = "csrrc", Csr, 0x00003073, 0x0000707f;
    Csrrwi = "csrrwi", CsrI, 0x00005073, 0x0000707f;
    Csrrsi = "csrrsi", CsrI, 0x00006073, 0x0000707f;
    Csrrci = "csrrci", CsrI, 0x00007073, 0x0000707f;
    // Zifencei
    FenceI = "fence.i", FenceI, 0x0000100f, 0x0000707f;
    // Privileged
    Sret = "sret", None, 0x10200073, 0xffffffff;
    Mret = "mret", None, 0x30200073, 0xffffffff;
    Wfi = "wfi", None, 0x10500073, 0xffffffff;
    SfenceVma = "sfence.vma", Sfence, 0x12000073, 0xfe007fff;
}

impl Op {
    /// The table row of this operation (`None` for [`Op::Illegal`]).
    pub fn def(self) -> Option<&'static Def> {
        TABLE.get(self as usize)
    }

    /// The mnemonic (`"illegal"` for [`Op::Illegal`]).
    pub fn name(self) -> &'static str {
        self.def().map_or("illegal", |d| d.name)
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
