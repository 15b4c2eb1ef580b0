//! Definedness through registers: for each instruction, which bits of its result are
//! undefined, given which bits of its operands are (memcheck's "V bits": a 1 is an undefined
//! bit).
//!
//! The rules are Valgrind memcheck's approximations, which are exact for moves and bitwise
//! logic and safe elsewhere:
//! - moves, `xor` and shifts by a defined amount move the undefined bits with the value;
//! - `and` with a defined 0, or `or` with a defined 1, gives a defined bit whatever the other
//!   side is (so masking off undefined bits makes them defined);
//! - `add`, `sub` and their immediates: a carry can move an undefined bit up, so every bit
//!   from the lowest undefined one upward is undefined ("left");
//! - comparisons give a defined result when every input bit is defined, except `beq`/`bne`
//!   (and `seqz`/`snez` forms), which are decided when the defined bits already differ;
//! - everything else (multiplication, division, shifts by an undefined amount, floating
//!   point) is wholly undefined if any input bit is ("pessimistic cast").
//!
//! Memory moves are left to the caller ([`Effect`]): this module says what a load, a store
//! or an AMO touches and which value bits a store writes.

use vmlab_cpu::isa::{Format, Insn, Op};

/// The undefined bits of the 32 x and 32 f registers.
#[derive(Clone, Debug, Default)]
pub struct VRegs {
    /// x0..x31 (x0 always 0).
    pub x: [u64; 32],
    /// f0..f31.
    pub f: [u64; 32],
}

/// What an instruction asks of memory or the checker after its registers were done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing more.
    None,
    /// A load into `rd` (an f register if `float`): the caller reads the shadow and sets the
    /// register's bits (sign-extending from the top loaded bit when `signed`).
    Load {
        /// Address.
        addr: u64,
        /// Bytes.
        size: u8,
        /// Sign-extending.
        signed: bool,
        /// Destination register.
        rd: u8,
        /// An f register.
        float: bool,
    },
    /// A store of `size` bytes with undefined bits `v`.
    Store {
        /// Address.
        addr: u64,
        /// Bytes.
        size: u8,
        /// The undefined bits of the stored value.
        v: u64,
    },
    /// An AMO (or LR/SC): the caller reads the old value's shadow into `rd` (sign-extended
    /// for word AMOs) and stores `src_v` combined with it, unless `store` is false (LR).
    Atomic {
        /// Address.
        addr: u64,
        /// Bytes.
        size: u8,
        /// Destination register.
        rd: u8,
        /// The undefined bits of the source register.
        src_v: u64,
        /// Whether the value stored is the source itself (swap) rather than a combination.
        swap: bool,
        /// Whether memory is written (false for LR).
        store: bool,
        /// SC: `rd` gets a defined status and the store happens.
        sc: bool,
    },
}

/// What the checker must judge: an undefined value deciding something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uses {
    /// A conditional branch's outcome depends on undefined bits.
    pub branch: bool,
    /// The address of a load, store or AMO has undefined bits.
    pub address: bool,
    /// An indirect jump's target has undefined bits.
    pub jump: bool,
}

/// Every bit from the lowest undefined one upward (a carry's reach).
#[inline]
pub fn left(v: u64) -> u64 {
    v | v.wrapping_neg()
}

/// All undefined if any bit is.
#[inline]
pub fn pcast(v: u64) -> u64 {
    if v != 0 {
        u64::MAX
    } else {
        0
    }
}

#[inline]
fn sext32(v: u64) -> u64 {
    v as u32 as i32 as i64 as u64
}

/// Updates `r` for `insn`, with `pre` the x registers before it ran; returns what it does
/// to memory and which undefined uses it makes.
#[inline]
pub fn step(r: &mut VRegs, insn: &Insn, pre: &[u64; 32]) -> (Effect, Uses) {
    use Op::*;
    let (rd, rs1, rs2) = (insn.rd as usize, insn.rs1 as usize, insn.rs2 as usize);
    let (va, vb) = (r.x[rs1], r.x[rs2]);
    let (a, b) = (pre[rs1], pre[rs2]);
    let imm = insn.imm as u64;
    let mut uses = Uses::default();
    let mut effect = Effect::None;
    let addr = a.wrapping_add(imm);
    let shamt_ok = |mask: u64| vb & mask == 0;
    let out: Option<u64> = match insn.op {
        Lui | Auipc | Jal => Some(0),
        Jalr => {
            uses.jump = va != 0;
            Some(0)
        }
        Beq | Bne => {
            let u = va | vb;
            // Decided by the defined bits when they already differ.
            uses.branch = u != 0 && (a ^ b) & !u == 0;
            None
        }
        Blt | Bge | Bltu | Bgeu => {
            uses.branch = (va | vb) != 0;
            None
        }
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => {
            uses.address = va != 0;
            let (size, signed) = match insn.op {
                Lb => (1, true),
                Lh => (2, true),
                Lw => (4, true),
                Ld => (8, false),
                Lbu => (1, false),
                Lhu => (2, false),
                _ => (4, false),
            };
            effect = Effect::Load {
                addr,
                size,
                signed,
                rd: insn.rd,
                float: false,
            };
            None
        }
        Sb | Sh | Sw | Sd => {
            uses.address = va != 0;
            let size = match insn.op {
                Sb => 1,
                Sh => 2,
                Sw => 4,
                _ => 8,
            };
            effect = Effect::Store { addr, size, v: vb };
            None
        }
        Addi => Some(left(va)),
        Slti | Sltiu => Some(pcast(va) & 1),
        Xori => Some(va),
        Ori => Some(va & !imm),
        Andi => Some(va & imm),
        Slli => Some(va << (imm & 63)),
        Srli => Some(va >> (imm & 63)),
        Srai => Some(((va as i64) >> (imm & 63)) as u64),
        Add | Sub => Some(left(va | vb)),
        Sll if shamt_ok(63) => Some(va << (b & 63)),
        Srl if shamt_ok(63) => Some(va >> (b & 63)),
        Sra if shamt_ok(63) => Some(((va as i64) >> (b & 63)) as u64),
        Sll | Srl | Sra => Some(u64::MAX),
        Slt | Sltu => {
            // `snez rd, rs` is `sltu rd, x0, rs`: decided when a defined bit is 1.
            if insn.op == Sltu && rs1 == 0 && b & !vb != 0 {
                Some(0)
            } else {
                Some(pcast(va | vb) & 1)
            }
        }
        Xor => Some(va | vb),
        Or => Some((va | vb) & (!a | va) & (!b | vb)),
        And => Some((va | vb) & (a | va) & (b | vb)),
        Addiw => Some(sext32(left(va))),
        Slliw => Some(sext32(va << (imm & 31))),
        Srliw => Some(sext32(((va as u32) >> (imm & 31)) as u64)),
        Sraiw => Some(sext32((((va as u32 as i32) >> (imm & 31)) as u32) as u64)),
        Addw | Subw => Some(sext32(left(va | vb))),
        Sllw if shamt_ok(31) => Some(sext32(va << (b & 31))),
        Srlw if shamt_ok(31) => Some(sext32(((va as u32) >> (b & 31)) as u64)),
        Sraw if shamt_ok(31) => Some(sext32((((va as u32 as i32) >> (b & 31)) as u32) as u64)),
        Sllw | Srlw | Sraw => Some(u64::MAX),
        Mul | Mulh | Mulhsu | Mulhu | Div | Divu | Rem | Remu | Mulw | Divw | Divuw | Remw
        | Remuw => Some(pcast(va | vb)),
        LrW | LrD | ScW | ScD => {
            uses.address = va != 0;
            let size = if matches!(insn.op, LrW | ScW) { 4 } else { 8 };
            let sc = matches!(insn.op, ScW | ScD);
            effect = Effect::Atomic {
                addr: a,
                size,
                rd: insn.rd,
                src_v: vb,
                swap: true,
                store: sc,
                sc,
            };
            None
        }
        AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
        | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD
        | AmominuD | AmomaxuD => {
            uses.address = va != 0;
            let word = insn.op.is_word_amo();
            effect = Effect::Atomic {
                addr: a,
                size: if word { 4 } else { 8 },
                rd: insn.rd,
                src_v: vb,
                swap: matches!(insn.op, AmoswapW | AmoswapD),
                store: true,
                sc: false,
            };
            None
        }
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => Some(0),
        Flw | Fld => {
            uses.address = va != 0;
            effect = Effect::Load {
                addr,
                size: if insn.op == Flw { 4 } else { 8 },
                signed: false,
                rd: insn.rd,
                float: true,
            };
            None
        }
        Fsw | Fsd => {
            uses.address = va != 0;
            let size = if insn.op == Fsw { 4 } else { 8 };
            effect = Effect::Store {
                addr,
                size,
                v: r.f[rs2],
            };
            None
        }
        op => return float(r, insn, op, uses),
    };
    if let Some(v) = out {
        if rd != 0 {
            r.x[rd] = v;
        }
    }
    (effect, uses)
}

/// The F and D instructions other than loads and stores, by format.
fn float(r: &mut VRegs, insn: &Insn, op: Op, uses: Uses) -> (Effect, Uses) {
    let (rd, rs1, rs2, rs3) = (
        insn.rd as usize,
        insn.rs1 as usize,
        insn.rs2 as usize,
        insn.rs3 as usize,
    );
    let Some(def) = op.def() else {
        return (Effect::None, uses);
    };
    let f = &r.f;
    let set_x = |r: &mut VRegs, v: u64| {
        if rd != 0 {
            r.x[rd] = v;
        }
    };
    match def.format {
        Format::FR | Format::FSgn => r.f[rd] = pcast(f[rs1] | f[rs2]),
        Format::FR4 => r.f[rd] = pcast(f[rs1] | f[rs2] | f[rs3]),
        Format::FUnary | Format::FUnaryX => r.f[rd] = pcast(f[rs1]),
        Format::FCmp => {
            let v = pcast(f[rs1] | f[rs2]) & 1;
            set_x(r, v);
        }
        Format::FToInt => {
            let v = pcast(f[rs1]);
            set_x(r, v);
        }
        Format::FFromInt | Format::FFromIntX => r.f[rd] = pcast(r.x[rs1]),
        Format::FMvToInt => {
            let v = match op {
                Op::FmvXW => sext32(f[rs1]),
                Op::FmvXD => f[rs1],
                _ => pcast(f[rs1]) & 0x3ff,
            };
            set_x(r, v);
        }
        Format::FMvFromInt => {
            r.f[rd] = if op == Op::FmvWX {
                r.x[rs1] & 0xffff_ffff
            } else {
                r.x[rs1]
            }
        }
        _ => {}
    }
    (Effect::None, uses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmlab_cpu::isa::decode;

    /// Runs the instruction with x5 = `a` (undefined bits `va`), x6 = `b` (`vb`) and returns
    /// x7's undefined bits and the uses.
    fn check(insn: u32, a: u64, va: u64, b: u64, vb: u64, want: u64, want_uses: Uses) {
        let mut r = VRegs::default();
        let mut pre = [0u64; 32];
        (pre[5], pre[6]) = (a, b);
        (r.x[5], r.x[6]) = (va, vb);
        let i = decode(insn);
        let (_, uses) = step(&mut r, &i, &pre);
        assert_eq!(r.x[7], want, "{:?}: x7's undefined bits", i.op);
        assert_eq!(uses, want_uses, "{:?}: uses", i.op);
    }

    // Encodings of `op x7, x5, x6` (R-type) and `op x7, x5, imm`.
    fn r(funct7: u32, funct3: u32, opcode: u32) -> u32 {
        funct7 << 25 | 6 << 20 | 5 << 15 | funct3 << 12 | 7 << 7 | opcode
    }
    fn i(imm: i32, funct3: u32, opcode: u32) -> u32 {
        ((imm as u32) & 0xfff) << 20 | 5 << 15 | funct3 << 12 | 7 << 7 | opcode
    }
    fn b(funct3: u32) -> u32 {
        6 << 20 | 5 << 15 | funct3 << 12 | 8 << 7 | 0x63
    }
    const NONE: Uses = Uses {
        branch: false,
        address: false,
        jump: false,
    };
    const BRANCH: Uses = Uses {
        branch: true,
        address: false,
        jump: false,
    };

    #[test]
    fn arithmetic_and_logic() {
        let add = r(0, 0, 0x33);
        check(add, 0, 0, 0, 0, 0, NONE);
        check(add, 0, 0x10, 0, 0, !0xf, NONE);
        let and = r(0, 7, 0x33);
        // a defined 0 in either operand makes the bit defined
        check(and, 0xff00, 0x00ff, 0x0ff0, 0, 0x00f0, NONE);
        let or = r(0, 6, 0x33);
        // a defined 1 makes the bit defined
        check(or, 0, 0x00ff, 0x0ff0, 0, 0x000f, NONE);
        let xor = r(0, 4, 0x33);
        check(xor, 0, 0x1, 0, 0x100, 0x101, NONE);
        let andi = i(0xff, 7, 0x13);
        check(andi, 0, u64::MAX, 0, 0, 0xff, NONE);
        let slli = i(8, 1, 0x13);
        check(slli, 0, 0xff, 0, 0, 0xff00, NONE);
        let srai = i(0x400 | 60, 5, 0x13);
        check(srai, 0, 1 << 63, 0, 0, !0x7, NONE);
        let sll = r(0, 1, 0x33);
        check(sll, 0, 1, 4, 0, 0x10, NONE);
        check(sll, 0, 1, 4, 1, u64::MAX, NONE);
        let mul = r(1, 0, 0x33);
        check(mul, 3, 0, 5, 0x100, u64::MAX, NONE);
        let addw = r(0, 0, 0x3b);
        check(addw, 0, 1 << 31, 0, 0, !0 << 31, NONE);
        let slt = r(0, 2, 0x33);
        check(slt, 0, 1, 0, 0, 1, NONE);
    }

    #[test]
    fn branches_on_undefined_bits() {
        let beq = b(0);
        check(beq, 0, 0, 0, 0, 0, NONE);
        // equal on the defined bits, undefined elsewhere: undecided
        check(beq, 0x10, 0x1, 0x10, 0, 0, BRANCH);
        // the defined bits differ: not equal whatever the rest
        check(beq, 0x10, 0x1, 0x20, 0, 0, NONE);
        let blt = b(4);
        check(blt, 0x10, 0x1, 0x20, 0, 0, BRANCH);
    }

    #[test]
    fn memory_effects() {
        let mut r = VRegs::default();
        let mut pre = [0u64; 32];
        pre[5] = 0x1000;
        r.x[6] = 0xff;
        // sd x6, 8(x5)
        let sd = 6 << 20 | 5 << 15 | 3 << 12 | 8 << 7 | 0x23;
        let (e, u) = step(&mut r, &decode(sd), &pre);
        assert_eq!(
            e,
            Effect::Store {
                addr: 0x1008,
                size: 8,
                v: 0xff
            }
        );
        assert!(!u.address);
        // lw x7, -4(x5) with x5 partly undefined: an undefined address
        r.x[5] = 0x4;
        let lw = i(-4, 2, 0x03);
        let (e, u) = step(&mut r, &decode(lw), &pre);
        assert_eq!(
            e,
            Effect::Load {
                addr: 0xffc,
                size: 4,
                signed: true,
                rd: 7,
                float: false
            }
        );
        assert!(u.address);
    }
}
