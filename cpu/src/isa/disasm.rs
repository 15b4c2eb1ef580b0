//! The disassembler: GNU objdump's text (`riscv64-unknown-elf-objdump -d`, binutils 2.40,
//! default options), aliases included.
//!
//! The output is the mnemonic, a tab, and the operands, as objdump prints them between the
//! instruction bytes and any comment. Branch and jump targets are absolute hexadecimal
//! addresses without `0x`; objdump's `<symbol>` annotations and its `# address` comments
//! (which depend on earlier instructions) are not produced.

use super::csr_names::CSR_NAMES;
use super::{COp, Format, Insn, Op};
use std::fmt::Write;

/// ABI names of `x0..x31`, as objdump prints them.
pub const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// ABI names of `f0..f31`, as objdump prints them.
pub const FREG_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// The rounding-mode names objdump prints (`None` for the reserved values 5 and 6).
pub const RM_NAMES: [Option<&str>; 8] = [
    Some("rne"),
    Some("rtz"),
    Some("rdn"),
    Some("rup"),
    Some("rmm"),
    None,
    None,
    Some("dyn"),
];

fn r(n: u8) -> &'static str {
    REG_NAMES.get(n as usize).copied().unwrap_or("?")
}

fn f(n: u8) -> &'static str {
    FREG_NAMES.get(n as usize).copied().unwrap_or("?")
}

/// The `,rm` suffix objdump prints: nothing for `dyn`, `unknown` for 5 and 6.
fn rm_suffix(rm: u8) -> String {
    match rm {
        7 => String::new(),
        _ => format!(
            ",{}",
            RM_NAMES
                .get(rm as usize)
                .copied()
                .flatten()
                .unwrap_or("unknown")
        ),
    }
}

/// Writes the operands of a floating-point format (no aliases).
fn write_fp(s: &mut String, name: &str, i: &Insn, format: Format) -> std::fmt::Result {
    let imm = i.imm;
    let rm = rm_suffix(i.rm);
    match format {
        Format::FR => write!(s, "{name}\t{},{},{}{rm}", f(i.rd), f(i.rs1), f(i.rs2)),
        Format::FSgn => write!(s, "{name}\t{},{},{}", f(i.rd), f(i.rs1), f(i.rs2)),
        Format::FCmp => write!(s, "{name}\t{},{},{}", r(i.rd), f(i.rs1), f(i.rs2)),
        Format::FUnary => write!(s, "{name}\t{},{}{rm}", f(i.rd), f(i.rs1)),
        Format::FUnaryX => write!(s, "{name}\t{},{}", f(i.rd), f(i.rs1)),
        Format::FToInt => write!(s, "{name}\t{},{}{rm}", r(i.rd), f(i.rs1)),
        Format::FFromInt => write!(s, "{name}\t{},{}{rm}", f(i.rd), r(i.rs1)),
        Format::FFromIntX | Format::FMvFromInt => write!(s, "{name}\t{},{}", f(i.rd), r(i.rs1)),
        Format::FMvToInt => write!(s, "{name}\t{},{}", r(i.rd), f(i.rs1)),
        Format::FR4 => write!(
            s,
            "{name}\t{},{},{},{}{rm}",
            f(i.rd),
            f(i.rs1),
            f(i.rs2),
            f(i.rs3)
        ),
        Format::FLoad => write!(s, "{name}\t{},{imm}({})", f(i.rd), r(i.rs1)),
        Format::FStore => write!(s, "{name}\t{},{imm}({})", f(i.rs2), r(i.rs1)),
        _ => Ok(()),
    }
}

/// The name objdump gives CSR `csr`, or its number in hexadecimal (`0x7c0`).
pub fn csr_name(csr: u16) -> String {
    match CSR_NAMES.binary_search_by_key(&csr, |&(n, _)| n) {
        Ok(k) => CSR_NAMES[k].1.to_string(),
        Err(_) => format!("{csr:#x}"),
    }
}

fn fence_set(bits: i64) -> String {
    if bits & 15 == 0 {
        return "unknown".into();
    }
    let mut s = String::new();
    for (bit, c) in [(8, 'i'), (4, 'o'), (2, 'r'), (1, 'w')] {
        if bits & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn aqrl(i: &Insn) -> &'static str {
    match (i.aq, i.rl) {
        (false, false) => "",
        (true, false) => ".aq",
        (false, true) => ".rl",
        (true, true) => ".aqrl",
    }
}

/// Disassembles `i`, at address `pc`, as objdump prints it (mnemonic, tab, operands).
/// A compressed instruction prints as objdump prints its 16-bit form: usually the base
/// instruction's alias (`li a0,1` for `c.li`), with the `c.` names objdump keeps for HINTs.
pub fn disassemble(i: &Insn, pc: u64) -> String {
    let mut s = String::new();
    if let Some(c) = i.compressed {
        if let Some(t) = compressed_special(c, i) {
            return t;
        }
    }
    let _ = write_base(&mut s, i, pc);
    s
}

/// Whether `i` is a CSR instruction that objdump prints under a floating-point alias
/// (`frcsr`, `fsrm`, `fsflagsi`...), which it uses only when the architecture has F.
fn fp_csr_alias(i: &Insn) -> bool {
    if !matches!(i.csr, 1..=3) {
        return false;
    }
    match i.op {
        Op::Csrrs => i.rs1 == 0,
        Op::Csrrw => true,
        Op::Csrrwi => i.csr != 3,
        _ => false,
    }
}

/// Disassembles `i` as `objdump -M no-aliases` prints it: the instruction's own mnemonic
/// and every operand; compressed instructions under their `c.` names.
pub fn disassemble_no_aliases(i: &Insn, pc: u64) -> String {
    let mut s = String::new();
    let _ = match i.compressed {
        Some(c) => write_compressed_raw(&mut s, c, i, pc),
        None => write_raw(&mut s, i, pc),
    };
    s
}

fn write_raw(s: &mut String, i: &Insn, pc: u64) -> std::fmt::Result {
    let Some(def) = i.op.def() else {
        if i.imm == 0 {
            return write!(s, "c.unimp");
        }
        return write_base(s, i, pc);
    };
    let (rd, rs1, rs2, imm) = (r(i.rd), r(i.rs1), r(i.rs2), i.imm);
    let target = pc.wrapping_add(imm as u64);
    let name = def.name;
    match def.format {
        Format::R => write!(s, "{name}\t{rd},{rs1},{rs2}"),
        Format::I => write!(s, "{name}\t{rd},{rs1},{imm}"),
        Format::Load => write!(s, "{name}\t{rd},{imm}({rs1})"),
        Format::S => write!(s, "{name}\t{rs2},{imm}({rs1})"),
        Format::B => write!(s, "{name}\t{rs1},{rs2},{target:x}"),
        Format::U => write!(s, "{name}\t{rd},{:#x}", imm & 0xfffff),
        Format::J => write!(s, "{name}\t{rd},{target:x}"),
        Format::Shift | Format::ShiftW => write!(s, "{name}\t{rd},{rs1},{imm:#x}"),
        Format::Csr if i.op == Op::Csrrw && i.rd == 0 && i.rs1 == 0 && i.csr == 0xc00 => {
            write!(s, "unimp")
        }
        Format::Csr => write!(s, "{name}\t{rd},{},{rs1}", csr_name(i.csr)),
        Format::CsrI => write!(s, "{name}\t{rd},{},{imm}", csr_name(i.csr)),
        Format::Amo => write!(s, "{name}{}\t{rd},{rs2},({rs1})", aqrl(i)),
        Format::Lr => write!(s, "{name}{}\t{rd},({rs1})", aqrl(i)),
        Format::Fence if i.op == Op::Fence && i.rd == 0 && i.rs1 == 0 && imm >> 8 == 0 => {
            write!(s, "fence\t{},{}", fence_set(imm >> 4), fence_set(imm))
        }
        Format::Sfence => write!(s, "{name}\t{rs1},{rs2}"),
        Format::Fence | Format::FenceI | Format::None => write_base(s, i, pc),
        fp => write_fp(s, name, i, fp),
    }
}

fn write_compressed_raw(s: &mut String, c: COp, i: &Insn, pc: u64) -> std::fmt::Result {
    let (rd, rs1, rs2, imm) = (r(i.rd), r(i.rs1), r(i.rs2), i.imm);
    let target = pc.wrapping_add(imm as u64);
    let name = c.name();
    match c {
        COp::CNop => write!(s, "c.addi\tzero,0"),
        COp::CEbreak => write!(s, "c.ebreak"),
        COp::CAddi4spn => write!(s, "{name}\t{rd},sp,{imm}"),
        COp::CLw | COp::CLd | COp::CLwsp | COp::CLdsp => write!(s, "{name}\t{rd},{imm}({rs1})"),
        COp::CSw | COp::CSd | COp::CSwsp | COp::CSdsp => write!(s, "{name}\t{rs2},{imm}({rs1})"),
        COp::CAddi if i.rd == 0 && imm != 0 => write!(s, "c.addi\tzero,{imm}"),
        COp::CSlli | COp::CSrli | COp::CSrai if imm == 0 => write!(s, "{name}64\t{rd}"),
        COp::CAddi | COp::CAddiw | COp::CLi | COp::CAndi => write!(s, "{name}\t{rd},{imm}"),
        COp::CAddi16sp => write!(s, "{name}\tsp,{imm}"),
        COp::CLui => write!(s, "{name}\t{rd},{:#x}", imm & 0xfffff),
        COp::CSrli | COp::CSrai | COp::CSlli => write!(s, "{name}\t{rd},{imm:#x}"),
        COp::CSub
        | COp::CXor
        | COp::COr
        | COp::CAnd
        | COp::CSubw
        | COp::CAddw
        | COp::CMv
        | COp::CAdd => write!(s, "{name}\t{rd},{rs2}"),
        COp::CJ => write!(s, "{name}\t{target:x}"),
        COp::CBeqz | COp::CBnez => write!(s, "{name}\t{rs1},{target:x}"),
        COp::CJr | COp::CJalr => write!(s, "{name}\t{rs1}"),
        COp::CFld | COp::CFldsp => write!(s, "{name}\t{},{imm}({rs1})", f(i.rd)),
        COp::CFsd | COp::CFsdsp => write!(s, "{name}\t{},{imm}({rs1})", f(i.rs2)),
    }
}

/// The compressed forms objdump does not print as their base instruction's alias.
fn compressed_special(c: COp, i: &Insn) -> Option<String> {
    Some(match c {
        COp::CAddi if i.rd == 0 => format!("c.nop\t{}", i.imm),
        COp::CAddi if i.imm == 0 => format!("add\t{0},{0},0", r(i.rd)),
        COp::CLi if i.rd == 0 => format!("c.li\tzero,{}", i.imm),
        COp::CLui if i.rd == 0 => format!("c.lui\tzero,{:#x}", i.imm & 0xfffff),
        COp::CSlli if i.imm == 0 => format!("c.slli64\t{}", r(i.rd)),
        COp::CSlli if i.rd == 0 => format!("c.slli\tzero,{:#x}", i.imm),
        COp::CSrli if i.imm == 0 => format!("c.srli64\t{}", r(i.rd)),
        COp::CSrai if i.imm == 0 => format!("c.srai64\t{}", r(i.rd)),
        COp::CMv if i.rd == 0 => format!("c.mv\tzero,{}", r(i.rs2)),
        COp::CMv => format!("mv\t{},{}", r(i.rd), r(i.rs2)),
        COp::CAdd if i.rd == 0 => format!("c.add\tzero,{}", r(i.rs2)),
        _ => return None,
    })
}

fn write_base(s: &mut String, i: &Insn, pc: u64) -> std::fmt::Result {
    let (rd, rs1, rs2, imm) = (r(i.rd), r(i.rs1), r(i.rs2), i.imm);
    let target = pc.wrapping_add(imm as u64);
    let name = i.op.name();
    match i.op {
        Op::Illegal => {
            if imm & 3 == 3 {
                write!(s, ".4byte\t{imm:#x}")
            } else if imm == 0 {
                write!(s, "unimp")
            } else {
                write!(s, ".2byte\t{imm:#x}")
            }
        }
        Op::Lui | Op::Auipc => write!(s, "{name}\t{rd},{:#x}", imm & 0xfffff),
        Op::Jal => match i.rd {
            0 => write!(s, "j\t{target:x}"),
            1 => write!(s, "jal\t{target:x}"),
            _ => write!(s, "jal\t{rd},{target:x}"),
        },
        Op::Jalr => match (i.rd, i.rs1, imm) {
            (0, 1, 0) => write!(s, "ret"),
            (0, _, 0) => write!(s, "jr\t{rs1}"),
            (0, _, _) => write!(s, "jr\t{imm}({rs1})"),
            (1, _, 0) => write!(s, "jalr\t{rs1}"),
            (1, _, _) => write!(s, "jalr\t{imm}({rs1})"),
            (_, _, 0) => write!(s, "jalr\t{rd},{rs1}"),
            _ => write!(s, "jalr\t{rd},{imm}({rs1})"),
        },
        Op::Beq | Op::Bne if i.rs2 == 0 => write!(s, "{name}z\t{rs1},{target:x}"),
        Op::Blt if i.rs2 == 0 => write!(s, "bltz\t{rs1},{target:x}"),
        Op::Blt if i.rs1 == 0 => write!(s, "bgtz\t{rs2},{target:x}"),
        Op::Bge if i.rs1 == 0 => write!(s, "blez\t{rs2},{target:x}"),
        Op::Bge if i.rs2 == 0 => write!(s, "bgez\t{rs1},{target:x}"),
        Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu => {
            write!(s, "{name}\t{rs1},{rs2},{target:x}")
        }
        Op::Lb | Op::Lh | Op::Lw | Op::Ld | Op::Lbu | Op::Lhu | Op::Lwu => {
            write!(s, "{name}\t{rd},{imm}({rs1})")
        }
        Op::Sb | Op::Sh | Op::Sw | Op::Sd => write!(s, "{name}\t{rs2},{imm}({rs1})"),
        Op::Addi => match (i.rd, i.rs1, imm) {
            (0, 0, 0) => write!(s, "nop"),
            (_, 0, _) => write!(s, "li\t{rd},{imm}"),
            (_, _, 0) => write!(s, "mv\t{rd},{rs1}"),
            _ => write!(s, "add\t{rd},{rs1},{imm}"),
        },
        Op::Sltiu if imm == 1 => write!(s, "seqz\t{rd},{rs1}"),
        Op::Xori if imm == -1 => write!(s, "not\t{rd},{rs1}"),
        Op::Andi if imm == 255 => write!(s, "zext.b\t{rd},{rs1}"),
        Op::Addiw if imm == 0 => write!(s, "sext.w\t{rd},{rs1}"),
        Op::Slti | Op::Sltiu => write!(s, "{name}\t{rd},{rs1},{imm}"),
        Op::Xori | Op::Ori | Op::Andi => write!(s, "{}\t{rd},{rs1},{imm}", &name[..name.len() - 1]),
        Op::Addiw => write!(s, "addw\t{rd},{rs1},{imm}"),
        Op::Slli | Op::Srli | Op::Srai | Op::Slliw | Op::Srliw | Op::Sraiw => {
            let short = name.replacen('i', "", 1);
            write!(s, "{short}\t{rd},{rs1},{imm:#x}")
        }
        Op::Sub if i.rs1 == 0 => write!(s, "neg\t{rd},{rs2}"),
        Op::Subw if i.rs1 == 0 => write!(s, "negw\t{rd},{rs2}"),
        Op::Slt if i.rs2 == 0 => write!(s, "sltz\t{rd},{rs1}"),
        Op::Slt if i.rs1 == 0 => write!(s, "sgtz\t{rd},{rs2}"),
        Op::Sltu if i.rs1 == 0 => write!(s, "snez\t{rd},{rs2}"),
        Op::Fence => {
            if i.rd != 0 || i.rs1 != 0 || imm >> 8 != 0 {
                write!(s, ".4byte\t{:#x}", raw(i))
            } else if imm == 0xff {
                write!(s, "fence")
            } else {
                write!(s, "fence\t{},{}", fence_set(imm >> 4), fence_set(imm))
            }
        }
        Op::FenceTso | Op::FenceI
            if i.rd != 0 || i.rs1 != 0 || (i.op == Op::FenceI && imm != 0) =>
        {
            write!(s, ".4byte\t{:#x}", raw(i))
        }
        Op::FenceTso | Op::FenceI | Op::Ecall | Op::Ebreak | Op::Mret | Op::Sret | Op::Wfi => {
            write!(s, "{name}")
        }
        Op::SfenceVma => match (i.rs1, i.rs2) {
            (0, 0) => write!(s, "sfence.vma"),
            (_, 0) => write!(s, "sfence.vma\t{rs1}"),
            _ => write!(s, "sfence.vma\t{rs1},{rs2}"),
        },
        Op::LrW | Op::LrD => write!(s, "{name}{}\t{rd},({rs1})", aqrl(i)),
        Op::ScW | Op::ScD => write!(s, "{name}{}\t{rd},{rs2},({rs1})", aqrl(i)),
        op if op.def().is_some_and(|d| d.format == Format::Amo) => {
            write!(s, "{name}{}\t{rd},{rs2},({rs1})", aqrl(i))
        }
        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => write_csr(s, i),
        Op::FSgnjS | Op::FSgnjD | Op::FSgnjnS | Op::FSgnjnD | Op::FSgnjxS | Op::FSgnjxD
            if i.rs1 == i.rs2 =>
        {
            let alias = match i.op {
                Op::FSgnjS => "fmv.s",
                Op::FSgnjD => "fmv.d",
                Op::FSgnjnS => "fneg.s",
                Op::FSgnjnD => "fneg.d",
                Op::FSgnjxS => "fabs.s",
                _ => "fabs.d",
            };
            write!(s, "{alias}\t{},{}", f(i.rd), f(i.rs1))
        }
        op if op
            .def()
            .is_some_and(|d| d.format.float_regs() != (false, false, false)) =>
        {
            write_fp(s, name, i, op.def().map_or(Format::None, |d| d.format))
        }
        _ => write!(s, "{name}\t{rd},{rs1},{rs2}"),
    }
}

fn write_csr(s: &mut String, i: &Insn) -> std::fmt::Result {
    write_csr_with(s, i, true)
}

fn write_csr_with(s: &mut String, i: &Insn, fp_aliases: bool) -> std::fmt::Result {
    let csr = csr_name(i.csr);
    let rd = r(i.rd);
    let imm_form = matches!(i.op, Op::Csrrwi | Op::Csrrsi | Op::Csrrci);
    // The source: a register, or the 5-bit immediate printed in decimal.
    let src = if imm_form {
        i.imm.to_string()
    } else {
        r(i.rs1).to_string()
    };
    let short = match i.op {
        Op::Csrrw | Op::Csrrwi => "w",
        Op::Csrrs | Op::Csrrsi => "s",
        _ => "c",
    };
    // The floating-point CSR aliases of GNU objdump 2.40.
    let fp_alias = match i.csr {
        0x001 => Some("flags"),
        0x002 => Some("rm"),
        0x003 => Some("csr"),
        _ => None,
    };
    if let Some(a) = fp_alias.filter(|_| fp_aliases) {
        match i.op {
            Op::Csrrs if i.rs1 == 0 => return write!(s, "fr{a}\t{rd}"),
            Op::Csrrw if i.rd == 0 => return write!(s, "fs{a}\t{src}"),
            Op::Csrrw => return write!(s, "fs{a}\t{rd},{src}"),
            Op::Csrrwi if i.csr != 0x003 => return write!(s, "fs{a}i\t{rd},{src}"),
            _ => {}
        }
    }
    match i.op {
        Op::Csrrw if i.rd == 0 && i.rs1 == 0 && i.csr == 0xc00 => write!(s, "unimp"),
        Op::Csrrs if i.rs1 == 0 && matches!(i.csr, 0xc00..=0xc02) => write!(s, "rd{csr}\t{rd}"),
        Op::Csrrs if i.rs1 == 0 => write!(s, "csrr\t{rd},{csr}"),
        _ if i.rd == 0 => write!(s, "csr{short}\t{csr},{src}"),
        _ => write!(s, "csrr{short}\t{rd},{csr},{src}"),
    }
}

/// The 32-bit word of a table instruction (for the `.4byte` objdump prints).
fn raw(i: &Insn) -> u32 {
    i.op.def().map_or(0, |d| super::pack(d, i))
}

/// A disassembler that also prints the `# address` comments objdump adds to loads, stores,
/// `jalr`, `addi` and `addiw`: it remembers the value `lui`/`auipc` (or `c.lui`) put in each
/// register, and the first later use of that register as a base prints the address it
/// forms (the value is then forgotten, as objdump does). A base of `zero` or `tp` always
/// prints its offset. Feed it instructions in address order; one instance per objdump run.
#[derive(Clone, Debug, Default)]
pub struct Disassembler {
    hi: [Option<u64>; 32],
    /// Print as `objdump -M no-aliases` does ([`disassemble_no_aliases`]).
    pub no_aliases: bool,
    /// The value of `gp` (objdump takes it from `__global_pointer$`), if known.
    pub gp: Option<u64>,
    /// Print `fcsr`/`frm`/`fflags` accesses as plain CSR instructions rather than
    /// `frcsr`/`fsrm`/... (objdump does so for an architecture without F).
    pub no_fp_aliases: bool,
}

impl Disassembler {
    /// A disassembler that knows no register value.
    pub fn new() -> Disassembler {
        Disassembler::default()
    }

    /// A disassembler printing as `objdump -M no-aliases` does.
    pub fn no_aliases() -> Disassembler {
        Disassembler {
            no_aliases: true,
            ..Disassembler::default()
        }
    }

    /// Disassembles `i` at `pc` as [`disassemble`] (or [`disassemble_no_aliases`]) does, with objdump's address comment.
    pub fn disassemble(&mut self, i: &Insn, pc: u64) -> String {
        let mut text = if self.no_aliases {
            disassemble_no_aliases(i, pc)
        } else if self.no_fp_aliases && fp_csr_alias(i) {
            let mut s = String::new();
            let _ = write_csr_with(&mut s, i, false);
            s
        } else {
            disassemble(i, pc)
        };
        if let Some(addr) = self.track(i, pc) {
            let _ = write!(text, " # {addr:x}");
        }
        text
    }

    /// Updates the remembered values for `i` and returns the address to print, if any.
    fn track(&mut self, i: &Insn, pc: u64) -> Option<u64> {
        let upper = (i.imm << 12) as u64;
        match i.op {
            Op::Lui => {
                self.hi[i.rd as usize & 31] = Some(upper);
                None
            }
            Op::Auipc => {
                self.hi[i.rd as usize & 31] = Some(pc.wrapping_add(upper));
                None
            }
            // objdump comments no compressed load, store or jump: only c.addi and c.addiw.
            _ if i.compressed.is_some()
                && !matches!(i.compressed, Some(COp::CAddi | COp::CAddiw)) =>
            {
                None
            }
            // objdump prints `ret` bare and leaves `ra`'s value alone.
            Op::Jalr if !self.no_aliases && i.rd == 0 && i.rs1 == 1 && i.imm == 0 => None,
            Op::Lb
            | Op::Lh
            | Op::Lw
            | Op::Ld
            | Op::Lbu
            | Op::Lhu
            | Op::Lwu
            | Op::Sb
            | Op::Sh
            | Op::Sw
            | Op::Sd
            | Op::Flw
            | Op::Fld
            | Op::Fsw
            | Op::Fsd
            | Op::Jalr => self.address(i.rs1, i.imm, false),
            // Only when objdump prints the immediate (not as `mv` or `sext.w`).
            Op::Addi
                if i.rs1 != 0
                    && (i.imm != 0 || i.compressed == Some(COp::CAddi) || self.no_aliases) =>
            {
                self.address(i.rs1, i.imm, false)
            }
            Op::Addiw if i.rs1 != 0 && (i.imm != 0 || self.no_aliases) => {
                self.address(i.rs1, i.imm, true)
            }
            _ => None,
        }
    }

    fn address(&mut self, base: u8, offset: i64, wide: bool) -> Option<u64> {
        let base = base as usize & 31;
        let addr = if let Some(v) = self.hi[base].take() {
            if base != 0 { v } else { 0 }.wrapping_add(offset as u64)
        } else if base == 3 && self.gp.is_some() {
            self.gp?.wrapping_add(offset as u64)
        } else if base == 4 || base == 0 {
            offset as u64
        } else {
            return None;
        };
        Some(if wide {
            addr as i32 as i64 as u64
        } else {
            addr
        })
    }
}
