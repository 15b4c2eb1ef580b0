//! RV64C: the 16-bit forms, each expanded to the 32-bit instruction it stands for.
//!
//! [`CTABLE`] has one row per RV64C instruction: its fixed bits, the base operation it
//! expands to, where each base register comes from, and how the immediate's bits are
//! scattered in the parcel. Decoding packs those fields into the base 32-bit word and
//! decodes that through the main table; encoding and [`compress`] go the other way and
//! check the result by expanding it again.
//!
//! Reserved encodings (the all-zero parcel, `c.addi4spn` with a zero immediate,
//! `c.addi16sp`/`c.lui` with a zero immediate, `c.addiw`/`c.lwsp`/`c.ldsp` with `rd = x0`,
//! `c.jr` with `rs1 = x0`, quadrant 0 funct3 `100`, the CA reserved slots) decode to
//! [`Op::Illegal`]. The double-precision forms (`c.fld`, `c.fsd`, `c.fldsp`, `c.fsdsp`)
//! expand to `fld`/`fsd`; `c.flw`/`c.fsw` are RV32-only and so are illegal here. HINTs (`c.nop` with an immediate, `c.addi` with a zero immediate,
//! `c.li`/`c.lui`/`c.mv`/`c.add`/`c.slli` with `rd = x0`, shifts by zero) are legal and
//! expand like their instruction.

use super::{decode32, encode32, pack, EncodeError, Insn, Op};
use serde::{Deserialize, Serialize};

/// Where a base register comes from in a parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CReg {
    /// Always `x0`.
    X0,
    /// Always `ra` (`x1`).
    Ra,
    /// Always `sp` (`x2`).
    Sp,
    /// A full 5-bit field at bits 11:7.
    Full7,
    /// A full 5-bit field at bits 6:2.
    Full2,
    /// A 3-bit field at bits 9:7 naming `x8..x15`.
    Prime7,
    /// A 3-bit field at bits 4:2 naming `x8..x15`.
    Prime2,
    /// The same register as `rd`.
    SameAsRd,
}

/// A compressed immediate: where each run of its bits sits in the parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CImm {
    /// `(high, low, at)`: immediate bits `high..=low` sit at parcel bits starting at `at`.
    pub segs: &'static [(u8, u8, u8)],
    /// Whether the top bit is a sign bit.
    pub signed: bool,
}

/// Which field must not be zero (zero is reserved, or belongs to another instruction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonZero {
    /// No constraint.
    None,
    /// `rd` must not be `x0`.
    Rd,
    /// `rs1` must not be `x0`.
    Rs1,
    /// `rs2` must not be `x0`.
    Rs2,
    /// The immediate must not be zero.
    Imm,
}

/// One row of the RVC table.
#[derive(Clone, Copy, Debug)]
pub struct CDef {
    /// The compressed operation.
    pub cop: COp,
    /// Its mnemonic.
    pub name: &'static str,
    /// Fixed bits: a parcel is this instruction when `parcel & mask == mat`.
    pub mat: u16,
    /// Which bits are fixed.
    pub mask: u16,
    /// The base operation it expands to.
    pub base: Op,
    /// Where the base `rd` comes from.
    pub rd: CReg,
    /// Where the base `rs1` comes from.
    pub rs1: CReg,
    /// Where the base `rs2` comes from.
    pub rs2: CReg,
    /// The immediate, if any (otherwise the base immediate is 0).
    pub imm: Option<CImm>,
    /// A field that must not be zero.
    pub nonzero: NonZero,
}

const CI: CImm = CImm {
    segs: &[(5, 5, 12), (4, 0, 2)],
    signed: true,
};
const CI_U: CImm = CImm {
    segs: &[(5, 5, 12), (4, 0, 2)],
    signed: false,
};
const CL_W: CImm = CImm {
    segs: &[(5, 3, 10), (2, 2, 6), (6, 6, 5)],
    signed: false,
};
const CL_D: CImm = CImm {
    segs: &[(5, 3, 10), (7, 6, 5)],
    signed: false,
};
const CJ: CImm = CImm {
    segs: &[
        (11, 11, 12),
        (4, 4, 11),
        (9, 8, 9),
        (10, 10, 8),
        (6, 6, 7),
        (7, 7, 6),
        (3, 1, 3),
        (5, 5, 2),
    ],
    signed: true,
};
const CB: CImm = CImm {
    segs: &[(8, 8, 12), (4, 3, 10), (7, 6, 5), (2, 1, 3), (5, 5, 2)],
    signed: true,
};

macro_rules! ctable {
    ($( $cop:ident = $name:literal, $mat:literal, $mask:literal, $base:ident,
        $rd:ident, $rs1:ident, $rs2:ident, $imm:expr, $nz:ident; )*) => {
        /// A compressed (RV64C) operation: one row of [`CTABLE`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum COp {
            $(
                #[doc = concat!("`", $name, "`.")]
                $cop,
            )*
        }

        /// The RVC table in [`COp`] order, which is also the order [`compress`] tries forms
        /// in (GNU as's preference where several fit).
        pub static CTABLE: &[CDef] = &[
            $( CDef {
                cop: COp::$cop, name: $name, mat: $mat, mask: $mask, base: Op::$base,
                rd: CReg::$rd, rs1: CReg::$rs1, rs2: CReg::$rs2, imm: $imm,
                nonzero: NonZero::$nz,
            }, )*
        ];
    };
}

ctable! {
    // Quadrant 0
    CAddi4spn = "c.addi4spn", 0x0000, 0xe003, Addi, Prime2, Sp, X0,
        Some(CImm { segs: &[(5, 4, 11), (9, 6, 7), (2, 2, 6), (3, 3, 5)], signed: false }), Imm;
    CLw = "c.lw", 0x4000, 0xe003, Lw, Prime2, Prime7, X0, Some(CL_W), None;
    CLd = "c.ld", 0x6000, 0xe003, Ld, Prime2, Prime7, X0, Some(CL_D), None;
    CSw = "c.sw", 0xc000, 0xe003, Sw, X0, Prime7, Prime2, Some(CL_W), None;
    CSd = "c.sd", 0xe000, 0xe003, Sd, X0, Prime7, Prime2, Some(CL_D), None;
    CFld = "c.fld", 0x2000, 0xe003, Fld, Prime2, Prime7, X0, Some(CL_D), None;
    CFsd = "c.fsd", 0xa000, 0xe003, Fsd, X0, Prime7, Prime2, Some(CL_D), None;
    // Quadrant 1
    CNop = "c.nop", 0x0001, 0xffff, Addi, X0, X0, X0, None, None;
    CAddi = "c.addi", 0x0001, 0xe003, Addi, Full7, SameAsRd, X0, Some(CI), None;
    CAddiw = "c.addiw", 0x2001, 0xe003, Addiw, Full7, SameAsRd, X0, Some(CI), Rd;
    CLi = "c.li", 0x4001, 0xe003, Addi, Full7, X0, X0, Some(CI), None;
    CAddi16sp = "c.addi16sp", 0x6101, 0xef83, Addi, Sp, Sp, X0,
        Some(CImm { segs: &[(9, 9, 12), (4, 4, 6), (6, 6, 5), (8, 7, 3), (5, 5, 2)], signed: true }), Imm;
    CLui = "c.lui", 0x6001, 0xe003, Lui, Full7, X0, X0, Some(CI), Imm;
    CSrli = "c.srli", 0x8001, 0xec03, Srli, Prime7, SameAsRd, X0, Some(CI_U), None;
    CSrai = "c.srai", 0x8401, 0xec03, Srai, Prime7, SameAsRd, X0, Some(CI_U), None;
    CAndi = "c.andi", 0x8801, 0xec03, Andi, Prime7, SameAsRd, X0, Some(CI), None;
    CSub = "c.sub", 0x8c01, 0xfc63, Sub, Prime7, SameAsRd, Prime2, None, None;
    CXor = "c.xor", 0x8c21, 0xfc63, Xor, Prime7, SameAsRd, Prime2, None, None;
    COr = "c.or", 0x8c41, 0xfc63, Or, Prime7, SameAsRd, Prime2, None, None;
    CAnd = "c.and", 0x8c61, 0xfc63, And, Prime7, SameAsRd, Prime2, None, None;
    CSubw = "c.subw", 0x9c01, 0xfc63, Subw, Prime7, SameAsRd, Prime2, None, None;
    CAddw = "c.addw", 0x9c21, 0xfc63, Addw, Prime7, SameAsRd, Prime2, None, None;
    CJ = "c.j", 0xa001, 0xe003, Jal, X0, X0, X0, Some(CJ), None;
    CBeqz = "c.beqz", 0xc001, 0xe003, Beq, X0, Prime7, X0, Some(CB), None;
    CBnez = "c.bnez", 0xe001, 0xe003, Bne, X0, Prime7, X0, Some(CB), None;
    // Quadrant 2
    CSlli = "c.slli", 0x0002, 0xe003, Slli, Full7, SameAsRd, X0, Some(CI_U), None;
    CLwsp = "c.lwsp", 0x4002, 0xe003, Lw, Full7, Sp, X0,
        Some(CImm { segs: &[(5, 5, 12), (4, 2, 4), (7, 6, 2)], signed: false }), Rd;
    CLdsp = "c.ldsp", 0x6002, 0xe003, Ld, Full7, Sp, X0,
        Some(CImm { segs: &[(5, 5, 12), (4, 3, 5), (8, 6, 2)], signed: false }), Rd;
    CJr = "c.jr", 0x8002, 0xf07f, Jalr, X0, Full7, X0, None, Rs1;
    CMv = "c.mv", 0x8002, 0xf003, Add, Full7, X0, Full2, None, Rs2;
    CEbreak = "c.ebreak", 0x9002, 0xffff, Ebreak, X0, X0, X0, None, None;
    CJalr = "c.jalr", 0x9002, 0xf07f, Jalr, Ra, Full7, X0, None, Rs1;
    CAdd = "c.add", 0x9002, 0xf003, Add, Full7, SameAsRd, Full2, None, Rs2;
    CSwsp = "c.swsp", 0xc002, 0xe003, Sw, X0, Sp, Full2,
        Some(CImm { segs: &[(5, 2, 9), (7, 6, 7)], signed: false }), None;
    CSdsp = "c.sdsp", 0xe002, 0xe003, Sd, X0, Sp, Full2,
        Some(CImm { segs: &[(5, 3, 10), (8, 6, 7)], signed: false }), None;
    CFldsp = "c.fldsp", 0x2002, 0xe003, Fld, Full7, Sp, X0,
        Some(CImm { segs: &[(5, 5, 12), (4, 3, 5), (8, 6, 2)], signed: false }), None;
    CFsdsp = "c.fsdsp", 0xa002, 0xe003, Fsd, X0, Sp, Full2,
        Some(CImm { segs: &[(5, 3, 10), (8, 6, 7)], signed: false }), None;
}

impl COp {
    /// The table row.
    pub fn def(self) -> &'static CDef {
        &CTABLE[self as usize]
    }

    /// The mnemonic, e.g. `"c.addi"`.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Whether `i` (an instruction of this form) is one of the HINT encodings: legal, but
    /// never emitted by GNU as.
    pub fn is_hint(self, i: &Insn) -> bool {
        match self {
            COp::CAddi => i.rd == 0 || i.imm == 0,
            COp::CLi | COp::CLui | COp::CMv | COp::CAdd => i.rd == 0,
            COp::CSlli => i.rd == 0 || i.imm == 0,
            COp::CSrli | COp::CSrai => i.imm == 0,
            _ => false,
        }
    }
}

/// The row a parcel matches, preferring the most specific mask.
pub fn clookup(parcel: u16) -> Option<&'static CDef> {
    CTABLE
        .iter()
        .filter(|d| parcel & d.mask == d.mat)
        .max_by_key(|d| d.mask.count_ones())
}

fn reg_field(parcel: u16, r: CReg, rd: u8) -> u8 {
    let p = parcel as u32;
    match r {
        CReg::X0 => 0,
        CReg::Ra => 1,
        CReg::Sp => 2,
        CReg::Full7 => ((p >> 7) & 31) as u8,
        CReg::Full2 => ((p >> 2) & 31) as u8,
        CReg::Prime7 => 8 + ((p >> 7) & 7) as u8,
        CReg::Prime2 => 8 + ((p >> 2) & 7) as u8,
        CReg::SameAsRd => rd,
    }
}

fn imm_bits(imm: &CImm) -> (u8, u8) {
    let hi = imm.segs.iter().map(|s| s.0).max().unwrap_or(0);
    let lo = imm.segs.iter().map(|s| s.1).min().unwrap_or(0);
    (hi, lo)
}

fn imm_unpack(parcel: u16, imm: &CImm) -> i64 {
    let mut v: u64 = 0;
    for &(hi, lo, at) in imm.segs {
        let width = hi - lo + 1;
        let bits = (parcel as u64 >> at) & ((1 << width) - 1);
        v |= bits << lo;
    }
    let (hi, _) = imm_bits(imm);
    if imm.signed {
        let shift = 63 - hi as u32;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    }
}

fn imm_pack(value: i64, imm: &CImm) -> u16 {
    let v = value as u64;
    let mut p: u16 = 0;
    for &(hi, lo, at) in imm.segs {
        let width = hi - lo + 1;
        p |= (((v >> lo) & ((1 << width) - 1)) as u16) << at;
    }
    p
}

/// Decodes a 16-bit parcel (low two bits not `11`).
pub(crate) fn decode16(parcel: u16) -> Insn {
    match expand(parcel) {
        Some(i) => i,
        None => Insn::illegal(parcel as u32),
    }
}

/// Expands a parcel to the base instruction it stands for (with `compressed` set), or
/// `None` when it is reserved or not an RV64C instruction.
pub fn expand(parcel: u16) -> Option<Insn> {
    let d = clookup(parcel)?;
    let rd = reg_field(parcel, d.rd, 0);
    let rs1 = reg_field(parcel, d.rs1, rd);
    let rs2 = reg_field(parcel, d.rs2, rd);
    let imm = d.imm.as_ref().map_or(0, |m| imm_unpack(parcel, m));
    let zero = match d.nonzero {
        NonZero::None => false,
        NonZero::Rd => rd == 0,
        NonZero::Rs1 => rs1 == 0,
        NonZero::Rs2 => rs2 == 0,
        NonZero::Imm => imm == 0,
    };
    if zero {
        return None;
    }
    // The same path as a 32-bit instruction: build the word the parcel stands for and
    // decode it through the main table.
    let fields = Insn::new(d.base, rd, rs1, rs2, imm);
    let word = pack(d.base.def()?, &fields);
    let mut i = decode32(word);
    if i.op != d.base {
        return None;
    }
    i.compressed = Some(d.cop);
    Some(i)
}

fn not_compressible(d: &CDef, i: &Insn, reason: String) -> EncodeError {
    EncodeError::NotCompressible {
        form: d.name,
        op: i.op.name(),
        reason,
    }
}

/// Encodes `i` in the compressed form `cop`, or says why it does not fit.
pub(crate) fn encode16(cop: COp, i: &Insn) -> Result<u16, EncodeError> {
    let d = cop.def();
    if i.op != d.base {
        return Err(not_compressible(
            d,
            i,
            format!("{} expands to `{}`", d.name, d.base.name()),
        ));
    }
    // The base instruction must itself be valid.
    encode32(&i.base())?;
    let mut p = d.mat;
    for (r, value, field) in [
        (d.rd, i.rd, "rd"),
        (d.rs1, i.rs1, "rs1"),
        (d.rs2, i.rs2, "rs2"),
    ] {
        let err = |what: &str| not_compressible(d, i, format!("{field} must be {what}"));
        match r {
            CReg::X0 if value != 0 => return Err(err("x0")),
            CReg::Ra if value != 1 => return Err(err("ra")),
            CReg::Sp if value != 2 => return Err(err("sp")),
            CReg::SameAsRd if value != i.rd => return Err(err("the same register as rd")),
            CReg::Prime7 | CReg::Prime2 if !(8..=15).contains(&value) => {
                return Err(err("one of x8..x15 (s0, s1, a0..a5)"))
            }
            CReg::Full7 => p |= (value as u16 & 31) << 7,
            CReg::Full2 => p |= (value as u16 & 31) << 2,
            CReg::Prime7 => p |= (value as u16 & 7) << 7,
            CReg::Prime2 => p |= (value as u16 & 7) << 2,
            _ => {}
        }
    }
    match &d.imm {
        Some(m) => {
            let (hi, lo) = imm_bits(m);
            let (min, max) = if m.signed {
                (-(1i64 << hi), (1i64 << hi) - (1 << lo))
            } else {
                (0, (1i64 << (hi + 1)) - (1 << lo))
            };
            if i.imm < min || i.imm > max {
                return Err(not_compressible(
                    d,
                    i,
                    format!("immediate {} is out of range {min}..={max}", i.imm),
                ));
            }
            if i.imm % (1 << lo) != 0 {
                return Err(not_compressible(
                    d,
                    i,
                    format!("immediate {} is not a multiple of {}", i.imm, 1 << lo),
                ));
            }
            p |= imm_pack(i.imm, m);
        }
        None if i.imm != 0 => {
            return Err(not_compressible(d, i, "it has no immediate".into()));
        }
        None => {}
    }
    let zero = match d.nonzero {
        NonZero::None => None,
        NonZero::Rd => (i.rd == 0).then_some("rd must not be x0"),
        NonZero::Rs1 => (i.rs1 == 0).then_some("rs1 must not be x0"),
        NonZero::Rs2 => (i.rs2 == 0).then_some("rs2 must not be x0"),
        NonZero::Imm => (i.imm == 0).then_some("the immediate must not be zero"),
    };
    if let Some(reason) = zero {
        return Err(not_compressible(d, i, reason.into()));
    }
    match expand(p) {
        Some(back)
            if back
                == Insn {
                    compressed: Some(cop),
                    ..*i
                } =>
        {
            Ok(p)
        }
        other => Err(not_compressible(
            d,
            i,
            format!(
                "the parcel {p:#06x} means {}",
                other.map_or("an illegal instruction", |b| b
                    .compressed
                    .map_or("?", |c| c.name()))
            ),
        )),
    }
}

/// The 16-bit form GNU as (with RVC enabled) emits for a base instruction, or `None` when
/// there is none. HINT encodings are never chosen. Besides forms whose expansion is exactly
/// `i`, it applies GNU's equivalences: `addi rd, rs1, 0` becomes `c.mv rd, rs1` (which
/// expands to `add rd, x0, rs1`), and `and`/`or`/`xor`/`addw`/`add` with `rd == rs2`
/// become the compressed form with the sources swapped. `jalr` is compressed whatever its
/// syntax; GNU as compresses only the `jr`/`jalr rs`/`ret` spellings.
pub fn compress(i: &Insn) -> Option<u16> {
    let base = i.base();
    let exact = |b: &Insn| {
        CTABLE
            .iter()
            .filter(|d| d.base == b.op)
            .find_map(|d| encode16(d.cop, b).ok().filter(|_| !d.cop.is_hint(b)))
    };
    if let Some(p) = exact(&base) {
        return Some(p);
    }
    match base.op {
        Op::Addi if base.imm == 0 && base.rd != 0 && base.rs1 != 0 => {
            exact(&Insn::new(Op::Add, base.rd, 0, base.rs1, 0))
        }
        Op::And | Op::Or | Op::Xor | Op::Addw | Op::Add if base.rd == base.rs2 => exact(&Insn {
            rs1: base.rs2,
            rs2: base.rs1,
            ..base
        }),
        _ => None,
    }
}
