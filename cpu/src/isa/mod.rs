//! The RV64IMAFDC instruction set: one table drives the decoder, the encoder and the
//! disassembler.
//!
//! # The table
//!
//! [`TABLE`] (in `table.rs`) has one row per 32-bit instruction of RV64I, M, A, F, D, Zicsr,
//! Zifencei and the privileged set (161 rows): its mnemonic, its extension ([`Ext`]), its
//! [`Format`], and
//! `mat`/`mask`: a word is the instruction when `word & mask == mat`. The format says where
//! the operands sit in the word, which [`Insn`] fields hold them ([`Format::fields`]), the
//! order an assembler writes them in ([`Format::operands`]) and the immediate's range
//! ([`Format::imm_range`]). When several rows match (`fence.tso` and `fence`), the one with
//! the most fixed bits wins. [`compressed::CTABLE`] does the same for the 37 RV64C
//! instructions, each row naming the base operation it expands to.
//!
//! - [`decode`] finds the row and unpacks the operands by format. A 16-bit parcel (low two
//!   bits not `11`) is looked up in the RVC table, expanded to the 32-bit word it stands
//!   for, and that word goes through the same 32-bit decoder; the result remembers its
//!   compressed form in [`Insn::compressed`], so its length is 2.
//! - [`encode`] packs the operands back after checking registers, immediate ranges and
//!   alignment, and refuses an [`Insn`] that would not decode to itself; with
//!   [`Insn::compressed`] set it produces that 16-bit form or says why it cannot.
//! - [`compress`] returns the 16-bit form GNU as would pick for a base instruction.
//! - [`disassemble`] prints GNU objdump's text, aliases included; a [`Disassembler`] adds
//!   objdump's `# address` comments, which depend on earlier instructions.
//!
//! Floating-point instructions keep their third source register in [`Insn::rs3`] and their
//! rounding-mode field in [`Insn::rm`]; [`Format::float_regs`] says which register fields
//! name f registers. [`extension_of`] names an instruction's mnemonic and extension.
//!
//! Anything else (reserved encodings, unknown opcodes, 48-bit and longer
//! encodings) decodes to [`Op::Illegal`] with the raw bits in [`Insn::imm`]: data, never a
//! panic. HINT encodings are legal and decode to the instruction they are a HINT of.
//!
//! Conformance: the tests check every fixture of GNU as/objdump 2.40 in
//! `cpu/tests/fixtures/gnu/` (decode, disassembly text and re-encoding), every 16-bit
//! parcel, and every row over all registers and boundary immediates.
//!
//! Deliberate differences from objdump: `c.addi16sp` with a zero immediate is reserved by
//! the specification and decodes as illegal (objdump prints `add sp,sp,0`). `fence` and
//! `fence.i` keep the `rd`, `rs1` and `fm` fields the specification says to ignore, so such
//! words still decode as fences (objdump prints them as `.4byte`, and so does
//! [`disassemble`]).
//!
//! # Adding an instruction
//!
//! 1. Add a row to the `instructions!` list in `table.rs` (this also adds the [`Op`]
//!    variant). Use an existing [`Format`] if the operands sit where one puts them;
//!    otherwise add a format, with its arms in `Format::operands`, `Format::fields` and
//!    `Format::imm_range`, and in `unpack` and `pack` in this file.
//! 2. If objdump prints it under an alias, add the rule to `disasm.rs`.
//! 3. If it has a compressed form, add a row to `compressed::CTABLE` (the immediate is
//!    described by where each run of its bits sits in the parcel).
//! 4. Add a known encoding (GNU as's bytes, objdump's text) to the `check` tests below and
//!    the instruction to `cpu/tests/fixtures/gnu/generate.py`; the round-trip tests pick the
//!    new row up by themselves.

pub mod compressed;
mod csr_names;
mod disasm;
mod table;

pub use compressed::{compress, expand, COp};
pub use disasm::{
    csr_name, disassemble, disassemble_no_aliases, Disassembler, FREG_NAMES, REG_NAMES, RM_NAMES,
};
pub use table::{lookup, Def, Ext, Format, Op, Operand, TABLE};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One decoded instruction.
///
/// Fields an instruction's [`Format`] does not use are zero. A compressed instruction is
/// held as the base instruction it expands to, with [`Insn::compressed`] naming its
/// 16-bit form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Insn {
    /// The operation.
    pub op: Op,
    /// The destination register (0..32).
    pub rd: u8,
    /// The first source register (0..32).
    pub rs1: u8,
    /// The second source register (0..32).
    pub rs2: u8,
    /// The immediate, sign-extended where the format's immediate is signed: the byte offset
    /// of loads, stores, branches and jumps; the 20-bit upper field of `lui`/`auipc`; the
    /// shift amount; the 5-bit CSR immediate; the raw `fm:pred:succ` field of fences. For
    /// [`Op::Illegal`], the raw instruction bits.
    pub imm: i64,
    /// The CSR number (Zicsr instructions).
    pub csr: u16,
    /// The acquire bit (A extension).
    pub aq: bool,
    /// The release bit (A extension).
    pub rl: bool,
    /// The 16-bit form this instruction was decoded from, or is to be encoded as.
    pub compressed: Option<COp>,
    /// The third source register (the fused multiply-adds of F and D).
    pub rs3: u8,
    /// The rounding-mode field of floating-point instructions that have one
    /// ([`Format::has_rm`]): 0 `rne`, 1 `rtz`, 2 `rdn`, 3 `rup`, 4 `rmm`, 7 `dyn`; 5 and 6
    /// are reserved (the instruction decodes, and executing it is illegal).
    pub rm: u8,
}

impl Insn {
    /// An instruction with the given operation and registers and every other field zero.
    pub fn new(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64) -> Insn {
        Insn {
            op,
            rd,
            rs1,
            rs2,
            imm,
            ..Insn::default()
        }
    }

    /// The illegal instruction `raw` (a 16-bit parcel when its low two bits are not `11`).
    pub fn illegal(raw: u32) -> Insn {
        let raw = if raw & 3 == 3 { raw } else { raw & 0xffff };
        Insn {
            op: Op::Illegal,
            imm: raw as i64,
            ..Insn::default()
        }
    }

    /// The length of the instruction in bytes: 2 or 4.
    pub fn byte_len(&self) -> u64 {
        if self.op == Op::Illegal {
            if self.imm & 3 == 3 {
                4
            } else {
                2
            }
        } else if self.compressed.is_some() {
            2
        } else {
            4
        }
    }

    /// Whether the instruction is [`Op::Illegal`].
    pub fn is_illegal(&self) -> bool {
        self.op == Op::Illegal
    }

    /// The same instruction without its compressed form (the 32-bit instruction it means).
    pub fn base(&self) -> Insn {
        Insn {
            compressed: None,
            ..*self
        }
    }
}

/// An encoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// A 32-bit word.
    Base(u32),
    /// A 16-bit parcel.
    Compressed(u16),
}

impl Encoding {
    /// The bits, zero-extended.
    pub fn bits(self) -> u32 {
        match self {
            Encoding::Base(w) => w,
            Encoding::Compressed(h) => h as u32,
        }
    }

    /// The length in bytes.
    pub fn byte_len(self) -> usize {
        match self {
            Encoding::Base(_) => 4,
            Encoding::Compressed(_) => 2,
        }
    }

    /// The little-endian bytes, as they sit in memory.
    pub fn to_bytes(self) -> Vec<u8> {
        self.bits().to_le_bytes()[..self.byte_len()].to_vec()
    }
}

/// Why an instruction cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A register number is not 0..32.
    #[error("{op}: register {field} = {value} is not a register (use x0..x31)")]
    Register {
        /// The mnemonic.
        op: &'static str,
        /// The field (`rd`, `rs1`, `rs2`).
        field: &'static str,
        /// The value given.
        value: u8,
    },
    /// An immediate is out of range.
    #[error("{op}: immediate {value} is out of range {min}..={max}")]
    Range {
        /// The mnemonic.
        op: &'static str,
        /// The value given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// An offset or immediate is not a multiple of what the encoding can hold.
    #[error("{op}: {value} is not a multiple of {align}")]
    Misaligned {
        /// The mnemonic.
        op: &'static str,
        /// The value given.
        value: i64,
        /// The required multiple.
        align: i64,
    },
    /// A CSR number is not 0..4096.
    #[error("{op}: CSR number {value:#x} is not 0..0x1000")]
    Csr {
        /// The mnemonic.
        op: &'static str,
        /// The value given.
        value: u16,
    },
    /// A field the instruction has no room for is not zero.
    #[error("{op}: has no `{field}` operand, but it is set")]
    UnusedField {
        /// The mnemonic.
        op: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The operands select a different instruction (e.g. `fence` with the field of
    /// `fence.tso`).
    #[error("{op}: these operands encode `{other}` instead")]
    Shadowed {
        /// The mnemonic.
        op: &'static str,
        /// What the bits decode as.
        other: &'static str,
    },
    /// A field whose value the encoding fixes has another value.
    #[error("{op}: `{field}` is fixed by the encoding and must be {value:#x}")]
    Fixed {
        /// The mnemonic.
        op: &'static str,
        /// The field.
        field: &'static str,
        /// The only value it can have.
        value: i64,
    },
    /// The compressed form asked for cannot hold this instruction.
    #[error("{form}: cannot encode `{op}` with these operands: {reason}")]
    NotCompressible {
        /// The compressed mnemonic.
        form: &'static str,
        /// The base mnemonic.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An illegal instruction whose raw bits are not a 16-bit parcel or a 32-bit word.
    #[error(
        "illegal instruction with raw bits {0:#x} is neither a 16-bit parcel nor a 32-bit word"
    )]
    BadRaw(i64),
}

/// The mnemonic and extension of the instruction `word` (as [`decode`] reads it), whether
/// or not the configured hart implements that extension, or `None` for an encoding no
/// extension defines. A compressed instruction names its `c.` form and, for the
/// floating-point loads and stores, the D extension it also needs (otherwise C). The kernel
/// uses it to say, for example, "fmadd.d (D extension) is not enabled".
pub fn extension_of(word: u32) -> Option<(&'static str, Ext)> {
    let i = decode(word);
    let def = i.op.def()?;
    Some(match i.compressed {
        Some(c) if matches!(def.ext, Ext::F | Ext::D) => (c.name(), def.ext),
        Some(c) => (c.name(), Ext::C),
        None => (def.name, def.ext),
    })
}

/// Decodes one instruction. `word` holds 4 bytes read little-endian from the instruction's
/// address; when its low two bits are not `11` only the low 16 bits (a compressed parcel)
/// are used. Never panics: unknown encodings give [`Op::Illegal`].
pub fn decode(word: u32) -> Insn {
    if word & 3 != 3 {
        compressed::decode16(word as u16)
    } else {
        decode32(word)
    }
}

/// Decodes a 32-bit word (`word & 3 == 3`) through the table.
pub(crate) fn decode32(word: u32) -> Insn {
    match lookup(word) {
        Some(def) => unpack(def, word),
        None => Insn::illegal(word),
    }
}

fn sext(value: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((value as i64) << shift) >> shift
}

fn unpack(def: &Def, w: u32) -> Insn {
    let (has_rd, has_rs1, has_rs2, _, _, _) = def.format.fields();
    let mut i = Insn {
        op: def.op,
        ..Insn::default()
    };
    if has_rd {
        i.rd = ((w >> 7) & 31) as u8;
    }
    if has_rs1 {
        i.rs1 = ((w >> 15) & 31) as u8;
    }
    if has_rs2 {
        i.rs2 = ((w >> 20) & 31) as u8;
    }
    match def.format {
        Format::I | Format::Load => i.imm = sext(w >> 20, 12),
        Format::S => i.imm = sext(((w >> 25) << 5) | ((w >> 7) & 31), 12),
        Format::B => {
            let v = ((w >> 31) << 12)
                | (((w >> 7) & 1) << 11)
                | (((w >> 25) & 0x3f) << 5)
                | (((w >> 8) & 0xf) << 1);
            i.imm = sext(v, 13);
        }
        Format::U => i.imm = sext(w >> 12, 20),
        Format::J => {
            let v = ((w >> 31) << 20)
                | (((w >> 12) & 0xff) << 12)
                | (((w >> 20) & 1) << 11)
                | (((w >> 21) & 0x3ff) << 1);
            i.imm = sext(v, 21);
        }
        Format::Shift => i.imm = ((w >> 20) & 63) as i64,
        Format::ShiftW => i.imm = ((w >> 20) & 31) as i64,
        Format::Csr => i.csr = (w >> 20) as u16,
        Format::CsrI => {
            i.csr = (w >> 20) as u16;
            i.imm = ((w >> 15) & 31) as i64;
        }
        Format::Amo | Format::Lr => {
            i.aq = w & (1 << 26) != 0;
            i.rl = w & (1 << 25) != 0;
        }
        Format::Fence | Format::FenceI => i.imm = (w >> 20) as i64,
        Format::FLoad => i.imm = sext(w >> 20, 12),
        Format::FStore => i.imm = sext(((w >> 25) << 5) | ((w >> 7) & 31), 12),
        _ => {}
    }
    if def.format.has_rm() {
        i.rm = ((w >> 12) & 7) as u8;
    }
    if def.format.has_rs3() {
        i.rs3 = ((w >> 27) & 31) as u8;
    }
    i
}

/// Packs the fields of `i` into `def`'s word, truncating each to its width (no checks).
pub(crate) fn pack(def: &Def, i: &Insn) -> u32 {
    let (has_rd, has_rs1, has_rs2, _, _, _) = def.format.fields();
    let mut w = def.mat;
    let imm = i.imm as u32;
    if has_rd {
        w |= (i.rd as u32 & 31) << 7;
    }
    if has_rs1 {
        w |= (i.rs1 as u32 & 31) << 15;
    }
    if has_rs2 {
        w |= (i.rs2 as u32 & 31) << 20;
    }
    w |= match def.format {
        Format::I | Format::Load | Format::FLoad => (imm & 0xfff) << 20,
        Format::S | Format::FStore => ((imm >> 5) & 0x7f) << 25 | (imm & 31) << 7,
        Format::B => {
            ((imm >> 12) & 1) << 31
                | ((imm >> 5) & 0x3f) << 25
                | ((imm >> 1) & 0xf) << 8
                | ((imm >> 11) & 1) << 7
        }
        Format::U => (imm & 0xfffff) << 12,
        Format::J => {
            ((imm >> 20) & 1) << 31
                | ((imm >> 1) & 0x3ff) << 21
                | ((imm >> 11) & 1) << 20
                | ((imm >> 12) & 0xff) << 12
        }
        Format::Shift => (imm & 63) << 20,
        Format::ShiftW => (imm & 31) << 20,
        Format::Csr => (i.csr as u32 & 0xfff) << 20,
        Format::CsrI => (i.csr as u32 & 0xfff) << 20 | (imm & 31) << 15,
        Format::Amo | Format::Lr => (i.aq as u32) << 26 | (i.rl as u32) << 25,
        Format::Fence | Format::FenceI => (imm & 0xfff) << 20,
        _ => 0,
    };
    if def.format.has_rm() {
        w |= (i.rm as u32 & 7) << 12;
    }
    if def.format.has_rs3() {
        w |= (i.rs3 as u32 & 31) << 27;
    }
    w
}

/// Checks `i`'s fields against its format and encodes it as a 32-bit word.
pub(crate) fn encode32(i: &Insn) -> Result<u32, EncodeError> {
    let Some(def) = i.op.def() else {
        return Err(EncodeError::BadRaw(i.imm));
    };
    let op = def.name;
    let (has_rd, has_rs1, has_rs2, has_imm, has_csr, has_aqrl) = def.format.fields();
    for (has, field, value) in [
        (has_rd, "rd", i.rd),
        (has_rs1, "rs1", i.rs1),
        (has_rs2, "rs2", i.rs2),
    ] {
        if has && value > 31 {
            return Err(EncodeError::Register { op, field, value });
        }
        if !has && value != 0 {
            return Err(EncodeError::UnusedField { op, field });
        }
    }
    if !has_imm && i.imm != 0 {
        return Err(EncodeError::UnusedField { op, field: "imm" });
    }
    if !has_csr && i.csr != 0 {
        return Err(EncodeError::UnusedField { op, field: "csr" });
    }
    if has_csr && i.csr > 0xfff {
        return Err(EncodeError::Csr { op, value: i.csr });
    }
    if !has_aqrl && (i.aq || i.rl) {
        return Err(EncodeError::UnusedField { op, field: "aq/rl" });
    }
    if def.format.has_rs3() && i.rs3 > 31 {
        return Err(EncodeError::Register {
            op,
            field: "rs3",
            value: i.rs3,
        });
    }
    if !def.format.has_rs3() && i.rs3 != 0 {
        return Err(EncodeError::UnusedField { op, field: "rs3" });
    }
    if def.format.has_rm() && i.rm > 7 {
        return Err(EncodeError::Range {
            op,
            value: i64::from(i.rm),
            min: 0,
            max: 7,
        });
    }
    if !def.format.has_rm() && i.rm != 0 {
        return Err(EncodeError::UnusedField { op, field: "rm" });
    }
    if let Some((min, max, align)) = def.format.imm_range() {
        if i.imm < min || i.imm > max {
            return Err(EncodeError::Range {
                op,
                value: i.imm,
                min,
                max,
            });
        }
        if i.imm % align != 0 {
            return Err(EncodeError::Misaligned {
                op,
                value: i.imm,
                align,
            });
        }
    }
    let w = pack(def, i);
    let back = decode32(w);
    if back.op != i.op {
        return Err(EncodeError::Shadowed {
            op,
            other: back.op.name(),
        });
    }
    if back != i.base() {
        // Only fixed fields (fence.tso's `fm:pred:succ`) can disagree once the checks above
        // pass.
        return Err(EncodeError::Fixed {
            op,
            field: "imm",
            value: back.imm,
        });
    }
    Ok(w)
}

/// Encodes an instruction: as its 16-bit form when [`Insn::compressed`] names one
/// (an error if the operands do not fit it), otherwise as a 32-bit word. An
/// [`Op::Illegal`] instruction encodes to its raw bits.
pub fn encode(i: &Insn) -> Result<Encoding, EncodeError> {
    if i.op == Op::Illegal {
        return match i.imm {
            r if (0..=0xffff).contains(&r) && r & 3 != 3 => Ok(Encoding::Compressed(r as u16)),
            r if (0..=0xffff_ffff).contains(&r) && r & 3 == 3 => Ok(Encoding::Base(r as u32)),
            r => Err(EncodeError::BadRaw(r)),
        };
    }
    match i.compressed {
        Some(c) => compressed::encode16(c, i).map(Encoding::Compressed),
        None => encode32(i).map(Encoding::Base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes `i`, checks the bits and the objdump text (at pc 0x1000), and decodes the
    /// bits back to `i`.
    fn check(i: Insn, bits: u32, text: &str) {
        let e = encode(&i).unwrap_or_else(|e| panic!("{i:?}: {e}"));
        assert_eq!(e.bits(), bits, "{i:?}: got {:#x}, want {bits:#x}", e.bits());
        assert_eq!(decode(bits), i, "{bits:#x}");
        assert_eq!(disassemble(&i, 0x1000), text, "{bits:#x}");
    }

    fn op(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64) -> Insn {
        Insn::new(op, rd, rs1, rs2, imm)
    }

    fn c(i: Insn, cop: COp) -> Insn {
        Insn {
            compressed: Some(cop),
            ..i
        }
    }

    // Expected words and texts are GNU as / objdump 2.40 output.
    #[test]
    fn known_base_encodings() {
        use Op::*;
        for (i, bits, text) in [
            // R
            (op(Add, 10, 11, 12, 0), 0x00c58533, "add\ta0,a1,a2"),
            (op(Sub, 10, 0, 12, 0), 0x40c00533, "neg\ta0,a2"),
            (op(Sltu, 10, 0, 11, 0), 0x00b03533, "snez\ta0,a1"),
            (op(Remuw, 10, 11, 12, 0), 0x02c5f53b, "remuw\ta0,a1,a2"),
            (op(Mulhsu, 10, 11, 12, 0), 0x02c5a533, "mulhsu\ta0,a1,a2"),
            // I
            (op(Addi, 0, 0, 0, 0), 0x00000013, "nop"),
            (op(Addi, 10, 0, 0, 5), 0x00500513, "li\ta0,5"),
            (op(Addi, 10, 11, 0, -2048), 0x80058513, "add\ta0,a1,-2048"),
            (op(Sltiu, 10, 11, 0, 1), 0x0015b513, "seqz\ta0,a1"),
            (op(Xori, 10, 11, 0, -1), 0xfff5c513, "not\ta0,a1"),
            (op(Addiw, 10, 11, 0, 0), 0x0005851b, "sext.w\ta0,a1"),
            (op(Ld, 10, 9, 0, 8), 0x0084b503, "ld\ta0,8(s1)"),
            (op(Lb, 10, 2, 0, -1), 0xfff10503, "lb\ta0,-1(sp)"),
            (op(Jalr, 0, 1, 0, 0), 0x00008067, "ret"),
            (op(Jalr, 5, 15, 0, 8), 0x008782e7, "jalr\tt0,8(a5)"),
            // Shifts: 6-bit and 5-bit amounts
            (op(Srai, 10, 11, 0, 63), 0x43f5d513, "sra\ta0,a1,0x3f"),
            (op(Slliw, 10, 11, 0, 31), 0x01f5951b, "sllw\ta0,a1,0x1f"),
            // S
            (op(Sd, 0, 12, 10, -8), 0xfea63c23, "sd\ta0,-8(a2)"),
            (op(Sb, 0, 12, 10, 8), 0x00a60423, "sb\ta0,8(a2)"),
            // B (targets relative to 0x1000)
            (op(Beq, 0, 10, 11, -20), 0xfeb506e3, "beq\ta0,a1,fec"),
            (op(Blt, 0, 0, 10, -36), 0xfca04ee3, "bgtz\ta0,fdc"),
            (op(Bge, 0, 10, 0, -4096), 0x80055063, "bgez\ta0,0"),
            // U, J
            (op(Lui, 10, 0, 0, 0x12345), 0x12345537, "lui\ta0,0x12345"),
            (op(Lui, 10, 0, 0, -1), 0xfffff537, "lui\ta0,0xfffff"),
            (op(Auipc, 5, 0, 0, 1), 0x00001297, "auipc\tt0,0x1"),
            (op(Jal, 1, 0, 0, 12), 0x00c000ef, "jal\t100c"),
            (op(Jal, 0, 0, 0, 8), 0x0080006f, "j\t1008"),
            (op(Jal, 5, 0, 0, 4), 0x004002ef, "jal\tt0,1004"),
            // Fences and system
            (op(Fence, 0, 0, 0, 0xff), 0x0ff0000f, "fence"),
            (op(Fence, 0, 0, 0, 0x21), 0x0210000f, "fence\tr,w"),
            (op(Fence, 0, 0, 0, 0x30), 0x0300000f, "fence\trw,unknown"),
            (op(FenceTso, 0, 0, 0, 0x833), 0x8330000f, "fence.tso"),
            (op(FenceI, 0, 0, 0, 0), 0x0000100f, "fence.i"),
            (op(Ecall, 0, 0, 0, 0), 0x00000073, "ecall"),
            (op(Ebreak, 0, 0, 0, 0), 0x00100073, "ebreak"),
            (op(Mret, 0, 0, 0, 0), 0x30200073, "mret"),
            (op(Sret, 0, 0, 0, 0), 0x10200073, "sret"),
            (op(Wfi, 0, 0, 0, 0), 0x10500073, "wfi"),
            (op(SfenceVma, 0, 10, 11, 0), 0x12b50073, "sfence.vma\ta0,a1"),
            (op(SfenceVma, 0, 10, 0, 0), 0x12050073, "sfence.vma\ta0"),
        ] {
            check(i, bits, text);
        }
    }

    #[test]
    fn known_csr_and_atomic_encodings() {
        let csr = |o, rd, rs1, imm, csr| Insn {
            csr,
            ..op(o, rd, rs1, 0, imm)
        };
        let amo = |o, rd, rs1, rs2, aq, rl| Insn {
            aq,
            rl,
            ..op(o, rd, rs1, rs2, 0)
        };
        use Op::*;
        for (i, bits, text) in [
            (csr(Csrrw, 0, 10, 0, 0x300), 0x30051073, "csrw\tmstatus,a0"),
            (
                csr(Csrrw, 11, 10, 0, 0x300),
                0x300515f3,
                "csrrw\ta1,mstatus,a0",
            ),
            (csr(Csrrs, 11, 0, 0, 0x300), 0x300025f3, "csrr\ta1,mstatus"),
            (csr(Csrrs, 10, 0, 0, 0xc00), 0xc0002573, "rdcycle\ta0"),
            (csr(Csrrs, 10, 0, 0, 0x7c0), 0x7c002573, "csrr\ta0,0x7c0"),
            (csr(Csrrc, 0, 10, 0, 0x300), 0x30053073, "csrc\tmstatus,a0"),
            (csr(Csrrwi, 0, 0, 5, 0x300), 0x3002d073, "csrw\tmstatus,5"),
            (
                csr(Csrrsi, 10, 0, 5, 0x300),
                0x3002e573,
                "csrrs\ta0,mstatus,5",
            ),
            (csr(Csrrci, 0, 0, 5, 0x300), 0x3002f073, "csrc\tmstatus,5"),
            (csr(Csrrw, 0, 0, 0, 0xc00), 0xc0001073, "unimp"),
            (
                csr(Csrrw, 10, 11, 0, 0x180),
                0x18059573,
                "csrrw\ta0,satp,a1",
            ),
            (
                amo(LrW, 10, 11, 0, false, false),
                0x1005a52f,
                "lr.w\ta0,(a1)",
            ),
            (
                amo(LrD, 10, 11, 0, true, false),
                0x1405b52f,
                "lr.d.aq\ta0,(a1)",
            ),
            (
                amo(ScD, 10, 11, 12, false, true),
                0x1ac5b52f,
                "sc.d.rl\ta0,a2,(a1)",
            ),
            (
                amo(AmoaddD, 10, 11, 12, true, true),
                0x06c5b52f,
                "amoadd.d.aqrl\ta0,a2,(a1)",
            ),
            (
                amo(AmomaxuD, 10, 11, 12, false, false),
                0xe0c5b52f,
                "amomaxu.d\ta0,a2,(a1)",
            ),
            (
                amo(AmoswapW, 10, 11, 12, false, false),
                0x08c5a52f,
                "amoswap.w\ta0,a2,(a1)",
            ),
        ] {
            check(i, bits, text);
        }
    }

    #[test]
    fn known_compressed_encodings() {
        use COp::*;
        use Op::*;
        for (i, bits, text) in [
            (c(op(Addi, 2, 2, 0, -16), CAddi), 0x1141, "add\tsp,sp,-16"),
            (
                c(op(Addi, 8, 2, 0, 1020), CAddi4spn),
                0x1fe0,
                "add\ts0,sp,1020",
            ),
            (
                c(op(Addi, 2, 2, 0, -512), CAddi16sp),
                0x7101,
                "add\tsp,sp,-512",
            ),
            (c(op(Addi, 10, 0, 0, -32), CLi), 0x5501, "li\ta0,-32"),
            (c(op(Addi, 0, 0, 0, 0), CNop), 0x0001, "nop"),
            (c(op(Addi, 0, 0, 0, 4), CAddi), 0x0011, "c.nop\t4"),
            (c(op(Addiw, 10, 10, 0, 0), CAddiw), 0x2501, "sext.w\ta0,a0"),
            (c(op(Lui, 10, 0, 0, -32), CLui), 0x7501, "lui\ta0,0xfffe0"),
            (c(op(Lui, 10, 0, 0, 31), CLui), 0x657d, "lui\ta0,0x1f"),
            (c(op(Srai, 8, 8, 0, 63), CSrai), 0x947d, "sra\ts0,s0,0x3f"),
            (c(op(Srli, 8, 8, 0, 0), CSrli), 0x8001, "c.srli64\ts0"),
            (c(op(Andi, 10, 10, 0, -1), CAndi), 0x997d, "and\ta0,a0,-1"),
            (c(op(Subw, 10, 10, 11, 0), CSubw), 0x9d0d, "subw\ta0,a0,a1"),
            (c(op(And, 10, 10, 11, 0), CAnd), 0x8d6d, "and\ta0,a0,a1"),
            (c(op(Add, 10, 0, 11, 0), CMv), 0x852e, "mv\ta0,a1"),
            (c(op(Add, 10, 10, 11, 0), CAdd), 0x952e, "add\ta0,a0,a1"),
            (c(op(Add, 0, 0, 1, 0), CMv), 0x8006, "c.mv\tzero,ra"),
            (c(op(Lw, 10, 11, 0, 4), CLw), 0x41c8, "lw\ta0,4(a1)"),
            (c(op(Sd, 0, 11, 10, 248), CSd), 0xfde8, "sd\ta0,248(a1)"),
            (c(op(Ld, 10, 2, 0, 8), CLdsp), 0x6522, "ld\ta0,8(sp)"),
            (c(op(Sd, 0, 2, 10, 504), CSdsp), 0xffaa, "sd\ta0,504(sp)"),
            (c(op(Sw, 0, 2, 10, 4), CSwsp), 0xc22a, "sw\ta0,4(sp)"),
            (c(op(Slli, 10, 10, 0, 3), CSlli), 0x050e, "sll\ta0,a0,0x3"),
            (c(op(Slli, 0, 0, 0, 32), CSlli), 0x1002, "c.slli\tzero,0x20"),
            (c(op(Jalr, 0, 10, 0, 0), CJr), 0x8502, "jr\ta0"),
            (c(op(Jalr, 1, 10, 0, 0), CJalr), 0x9502, "jalr\ta0"),
            (c(op(Ebreak, 0, 0, 0, 0), CEbreak), 0x9002, "ebreak"),
            (c(op(Beq, 0, 10, 0, 0), CBeqz), 0xc101, "beqz\ta0,1000"),
            (c(op(Bne, 0, 10, 0, -2), CBnez), 0xfd7d, "bnez\ta0,ffe"),
            (c(op(Jal, 0, 0, 0, -4), CJ), 0xbff5, "j\tffc"),
        ] {
            check(i, bits, text);
        }
    }

    // Expected words and texts are GNU as / objdump 2.40 output (-march=rv64imafdc).
    #[test]
    fn known_float_encodings() {
        let fp = |o, rd, rs1, rs2, rs3, rm| Insn {
            rs3,
            rm,
            ..op(o, rd, rs1, rs2, 0)
        };
        let mem = |o, r, base, imm| match o {
            Op::Fsw | Op::Fsd => op(o, 0, base, r, imm),
            _ => op(o, r, base, 0, imm),
        };
        use Op::*;
        for (i, bits, text) in [
            (
                fp(FAddS, 10, 11, 12, 0, 7),
                0x00c5f553,
                "fadd.s\tfa0,fa1,fa2",
            ),
            (
                fp(FAddS, 10, 11, 12, 0, 0),
                0x00c58553,
                "fadd.s\tfa0,fa1,fa2,rne",
            ),
            (
                fp(FAddD, 10, 11, 12, 0, 1),
                0x02c59553,
                "fadd.d\tfa0,fa1,fa2,rtz",
            ),
            (
                fp(FAddS, 10, 11, 12, 0, 5),
                0x00c5d553,
                "fadd.s\tfa0,fa1,fa2,unknown",
            ),
            (fp(FcvtDS, 10, 11, 0, 0, 0), 0x42058553, "fcvt.d.s\tfa0,fa1"),
            (fp(FcvtDW, 10, 11, 0, 0, 0), 0xd2058553, "fcvt.d.w\tfa0,a1"),
            (
                fp(FcvtDWu, 10, 11, 0, 0, 0),
                0xd2158553,
                "fcvt.d.wu\tfa0,a1",
            ),
            (fp(FcvtDL, 10, 11, 0, 0, 7), 0xd225f553, "fcvt.d.l\tfa0,a1"),
            (fp(FcvtSD, 10, 11, 0, 0, 7), 0x4015f553, "fcvt.s.d\tfa0,fa1"),
            (fp(FcvtWS, 10, 11, 0, 0, 7), 0xc005f553, "fcvt.w.s\ta0,fa1"),
            (
                fp(FcvtWD, 10, 11, 0, 0, 1),
                0xc2059553,
                "fcvt.w.d\ta0,fa1,rtz",
            ),
            (fp(FcvtSW, 10, 10, 0, 0, 7), 0xd0057553, "fcvt.s.w\tfa0,a0"),
            (
                fp(FMaddD, 10, 11, 12, 13, 7),
                0x6ac5f543,
                "fmadd.d\tfa0,fa1,fa2,fa3",
            ),
            (
                fp(FNmsubS, 10, 11, 12, 13, 4),
                0x68c5c54b,
                "fnmsub.s\tfa0,fa1,fa2,fa3,rmm",
            ),
            (fp(FSgnjD, 10, 11, 11, 0, 0), 0x22b58553, "fmv.d\tfa0,fa1"),
            (fp(FSgnjnD, 10, 11, 11, 0, 0), 0x22b59553, "fneg.d\tfa0,fa1"),
            (fp(FSgnjxS, 10, 11, 11, 0, 0), 0x20b5a553, "fabs.s\tfa0,fa1"),
            (
                fp(FSgnjD, 10, 11, 12, 0, 0),
                0x22c58553,
                "fsgnj.d\tfa0,fa1,fa2",
            ),
            (fp(FmvXW, 10, 11, 0, 0, 0), 0xe0058553, "fmv.x.w\ta0,fa1"),
            (fp(FmvXD, 10, 11, 0, 0, 0), 0xe2058553, "fmv.x.d\ta0,fa1"),
            (fp(FmvWX, 10, 11, 0, 0, 0), 0xf0058553, "fmv.w.x\tfa0,a1"),
            (fp(FmvDX, 10, 11, 0, 0, 0), 0xf2058553, "fmv.d.x\tfa0,a1"),
            (fp(FclassD, 10, 10, 0, 0, 0), 0xe2051553, "fclass.d\ta0,fa0"),
            (fp(FeqD, 10, 10, 11, 0, 0), 0xa2b52553, "feq.d\ta0,fa0,fa1"),
            (fp(FltS, 10, 10, 11, 0, 0), 0xa0b51553, "flt.s\ta0,fa0,fa1"),
            (fp(FleS, 10, 10, 11, 0, 0), 0xa0b50553, "fle.s\ta0,fa0,fa1"),
            (mem(Flw, 10, 11, 8), 0x0085a507, "flw\tfa0,8(a1)"),
            (mem(Fld, 8, 2, -8), 0xff813407, "fld\tfs0,-8(sp)"),
            (mem(Fsw, 10, 11, 8), 0x00a5a427, "fsw\tfa0,8(a1)"),
            (mem(Fsd, 0, 2, 0), 0x00013027, "fsd\tft0,0(sp)"),
            (
                fp(FMinD, 10, 11, 12, 0, 0),
                0x2ac58553,
                "fmin.d\tfa0,fa1,fa2",
            ),
            (fp(FsqrtD, 10, 11, 0, 0, 7), 0x5a05f553, "fsqrt.d\tfa0,fa1"),
            (
                fp(FsqrtS, 10, 11, 0, 0, 3),
                0x5805b553,
                "fsqrt.s\tfa0,fa1,rup",
            ),
            (c(mem(Fld, 10, 11, 8), COp::CFld), 0x2588, "fld\tfa0,8(a1)"),
            (
                c(mem(Fsd, 9, 15, 248), COp::CFsd),
                0xbfe4,
                "fsd\tfs1,248(a5)",
            ),
            (c(mem(Fld, 10, 2, 8), COp::CFldsp), 0x2522, "fld\tfa0,8(sp)"),
            (
                c(mem(Fsd, 0, 2, 504), COp::CFsdsp),
                0xbf82,
                "fsd\tft0,504(sp)",
            ),
        ] {
            check(i, bits, text);
        }
        let csr = |o, rd, rs1, imm, csr| Insn {
            csr,
            ..op(o, rd, rs1, 0, imm)
        };
        for (i, text) in [
            (csr(Csrrs, 10, 0, 0, 3), "frcsr\ta0"),
            (csr(Csrrw, 0, 11, 0, 3), "fscsr\ta1"),
            (csr(Csrrw, 10, 11, 0, 3), "fscsr\ta0,a1"),
            (csr(Csrrs, 10, 0, 0, 2), "frrm\ta0"),
            (csr(Csrrw, 0, 10, 0, 2), "fsrm\ta0"),
            (csr(Csrrwi, 0, 0, 3, 2), "fsrmi\tzero,3"),
            (csr(Csrrwi, 10, 0, 3, 2), "fsrmi\ta0,3"),
            (csr(Csrrs, 10, 0, 0, 1), "frflags\ta0"),
            (csr(Csrrw, 0, 10, 0, 1), "fsflags\ta0"),
            (csr(Csrrwi, 0, 0, 1, 1), "fsflagsi\tzero,1"),
        ] {
            assert_eq!(disassemble(&i, 0), text);
        }
    }

    #[test]
    fn extension_of_names_the_extension() {
        for (bits, want) in [
            (0x6ac5f543u32, Some(("fmadd.d", Ext::D))),
            (0x00c5f553, Some(("fadd.s", Ext::F))),
            (0x4015f553, Some(("fcvt.s.d", Ext::D))),
            (0x2588, Some(("c.fld", Ext::D))),
            (0x02c5f533, Some(("remu", Ext::M))),
            (0x952e, Some(("c.add", Ext::C))),
            (0x00c58533, Some(("add", Ext::I))),
            (0x30200073, Some(("mret", Ext::Priv))),
            (0xffffffff, None),
        ] {
            assert_eq!(extension_of(bits), want, "{bits:#x}");
        }
    }

    #[test]
    fn reserved_and_unknown_encodings_are_illegal_data() {
        for (bits, text) in [
            (0x0000u32, "unimp"),           // all-zero parcel
            (0x0004, ".2byte\t0x4"),        // c.addi4spn with a zero immediate
            (0x6101, ".2byte\t0x6101"),     // c.addi16sp with a zero immediate
            (0x6001, ".2byte\t0x6001"),     // c.lui with a zero immediate
            (0x2001, ".2byte\t0x2001"),     // c.addiw x0
            (0x6002, ".2byte\t0x6002"),     // c.ldsp x0
            (0x8002, ".2byte\t0x8002"),     // c.jr x0
            (0x8000, ".2byte\t0x8000"),     // quadrant 0, funct3 100
            (0x9c41, ".2byte\t0x9c41"),     // reserved CA slot
            (0x00004007, ".4byte\t0x4007"), // LOAD-FP with width 100 (no Q)
            (0xffffffff, ".4byte\t0xffffffff"),
            (0x10100073, ".4byte\t0x10100073"),
        ] {
            let i = decode(bits);
            assert!(i.is_illegal(), "{bits:#x} decoded as {i:?}");
            assert_eq!(i.imm, bits as i64);
            assert_eq!(encode(&i).map(Encoding::bits), Ok(bits));
            assert_eq!(disassemble(&i, 0), text, "{bits:#x}");
        }
    }

    #[test]
    fn fence_fields_the_spec_says_to_ignore_are_kept() {
        // rd, rs1 and unknown fm values of FENCE are reserved and ignored: still a fence,
        // printed as objdump prints it.
        for (bits, rd, rs1, imm, text) in [
            (0x0ff5000fu32, 0, 10, 0xff, ".4byte\t0xff5000f"),
            (0x0ff0050f, 10, 0, 0xff, ".4byte\t0xff0050f"),
            (0x8000000f, 0, 0, 0x800, ".4byte\t0x8000000f"),
        ] {
            let i = decode(bits);
            assert_eq!((i.op, i.rd, i.rs1, i.imm), (Op::Fence, rd, rs1, imm));
            assert_eq!(disassemble(&i, 0), text);
            assert_eq!(encode(&i), Ok(Encoding::Base(bits)));
        }
    }

    #[test]
    fn encode_errors_say_what_is_wrong() {
        use Op::*;
        for (i, msg) in [
            (op(Addi, 1, 1, 0, 2048), "addi: immediate 2048 is out of range -2048..=2047"),
            (op(Beq, 0, 1, 2, 3), "beq: 3 is not a multiple of 2"),
            (op(Jal, 0, 0, 0, 1 << 20), "jal: immediate 1048576 is out of range -1048576..=1048574"),
            (op(Add, 32, 1, 2, 0), "add: register rd = 32 is not a register (use x0..x31)"),
            (op(Slliw, 1, 1, 0, 32), "slliw: immediate 32 is out of range 0..=31"),
            (op(Ecall, 1, 0, 0, 0), "ecall: has no `rd` operand, but it is set"),
            (op(Fence, 0, 0, 0, 0x833), "fence: these operands encode `fence.tso` instead"),
            (op(FenceTso, 0, 0, 0, 0), "fence.tso: `imm` is fixed by the encoding and must be 0x833"),
            (
                c(op(Addi, 16, 2, 0, 16), COp::CAddi4spn),
                "c.addi4spn: cannot encode `addi` with these operands: rd must be one of x8..x15 (s0, s1, a0..a5)",
            ),
            (
                c(op(Lw, 8, 9, 0, 2), COp::CLw),
                "c.lw: cannot encode `lw` with these operands: immediate 2 is not a multiple of 4",
            ),
            (
                c(op(Addi, 2, 2, 0, 0), COp::CAddi16sp),
                "c.addi16sp: cannot encode `addi` with these operands: the immediate must not be zero",
            ),
            (
                c(op(Jalr, 0, 0, 0, 0), COp::CJr),
                "c.jr: cannot encode `jalr` with these operands: rs1 must not be x0",
            ),
        ] {
            let e = encode(&i).expect_err(msg);
            assert_eq!(e.to_string(), msg);
        }
    }

    #[test]
    fn compress_picks_what_gnu_as_picks() {
        use Op::*;
        // GNU as 2.40 with RVC enabled.
        for (i, want) in [
            (op(Addi, 2, 2, 0, 16), Some(0x0141)),
            (op(Addi, 2, 2, 0, 48), Some(0x6145)),
            (op(Addi, 10, 2, 0, 16), Some(0x0808)),
            (op(Addi, 10, 10, 0, 0), Some(0x852a)), // written as c.mv a0,a0
            (op(Addi, 2, 10, 0, 0), Some(0x812a)),
            (op(Addi, 0, 0, 0, 1), None), // a HINT: GNU keeps 32 bits
            (op(Addi, 10, 0, 0, 0), Some(0x4501)),
            (op(Add, 10, 11, 10, 0), Some(0x952e)), // add a0,a1,a0 = c.add a0,a1
            (op(And, 10, 11, 10, 0), Some(0x8d6d)),
            (op(Subw, 10, 11, 10, 0), None),
            (op(Add, 10, 11, 0, 0), None),
            (op(Slli, 10, 10, 0, 0), None),
            (op(Lui, 2, 0, 0, 1), None), // rd = sp is c.addi16sp's slot
            (op(Lui, 10, 0, 0, 31), Some(0x657d)),
            (op(Andi, 10, 10, 0, 0), Some(0x8901)),
            (op(Jal, 1, 0, 0, 0), None), // c.jal is RV32-only
        ] {
            assert_eq!(compress(&i), want, "{i:?}");
        }
    }
}
