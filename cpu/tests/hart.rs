//! The functional execution core: every instruction class with hand-computed results, traps,
//! interrupts, and a never-panic run of random instruction words.

use vmlab_cpu::csr::{addr, irq, mstatus, FsState};
use vmlab_cpu::hart::{FlatMemory, Hart, HartMemory, StepResult};
use vmlab_cpu::isa::{compress, encode, Insn, Op};
use vmlab_cpu::trap::{Exception, Interrupt, Trap};
use vmlab_mmu::{Flush, Privilege};

const BASE: u64 = 0x8000_0000;
const DATA: u64 = BASE + 0x8000;

fn ins(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64) -> Insn {
    Insn::new(op, rd, rs1, rs2, imm)
}

fn bytes(i: &Insn) -> Vec<u8> {
    encode(i)
        .unwrap_or_else(|e| panic!("{i:?}: {e}"))
        .to_bytes()
}

/// A hart at BASE with `code` (each instruction encoded, 4 bytes) loaded there.
fn setup(code: &[Insn]) -> (Hart, FlatMemory) {
    let mut m = FlatMemory::new(BASE, 0x10000);
    let mut at = BASE;
    for i in code {
        let b = bytes(i);
        assert!(m.write_bytes(at, &b));
        at += b.len() as u64;
    }
    (Hart::new(0, BASE), m)
}

fn run(h: &mut Hart, m: &mut FlatMemory, n: usize) {
    for _ in 0..n {
        let r = h.step(m);
        assert_eq!(r, StepResult::Retired, "at pc {:#x}", h.pc);
    }
}

/// Execute one instruction with x1 = a, x2 = b; return rd = x3.
fn exec1(i: Insn, a: u64, b: u64) -> u64 {
    let (mut h, mut m) = setup(&[i]);
    h.x[1] = a;
    h.x[2] = b;
    run(&mut h, &mut m, 1);
    assert_eq!(h.pc, BASE + 4);
    h.x[3]
}

#[test]
fn r_type() {
    use Op::*;
    let min = i64::MIN as u64;
    let m1 = u64::MAX;
    let table: &[(Op, u64, u64, u64)] = &[
        (Add, 1, 2, 3),
        (Add, u64::MAX, 1, 0),
        (Add, i64::MAX as u64, 1, min),
        (Sub, 0, 1, m1),
        (Sub, min, 1, i64::MAX as u64),
        (Sll, 1, 63, 1 << 63),
        (Sll, 1, 64, 1),
        (Sll, 1, 65, 2),
        (Srl, min, 63, 1),
        (Srl, min, 64, min),
        (Sra, min, 63, m1),
        (Sra, min, 64 + 4, 0xf800_0000_0000_0000),
        (Slt, m1, 0, 1),
        (Slt, 0, m1, 0),
        (Sltu, m1, 0, 0),
        (Sltu, 0, m1, 1),
        (Xor, 0xff00, 0x0ff0, 0xf0f0),
        (Or, 0xff00, 0x0ff0, 0xfff0),
        (And, 0xff00, 0x0ff0, 0x0f00),
        (Addw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (Addw, 0x1_0000_0001, 0, 1),
        (Subw, 0, 1, m1),
        (Sllw, 1, 31, 0xffff_ffff_8000_0000),
        (Sllw, 1, 32, 1),
        (Srlw, 0xffff_ffff_8000_0000, 31, 1),
        (Srlw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (Sraw, 0x8000_0000, 31, m1),
        (Sraw, 0x8000_0000, 32 + 4, 0xffff_ffff_f800_0000),
        // M
        (Mul, 3, m1, (-3i64) as u64),
        (Mul, min, m1, min),
        (Mulh, m1, m1, 0),
        (Mulh, min, min, 1 << 62),
        (Mulh, min, 2, m1),
        (Mulhsu, m1, m1, m1),
        (Mulhsu, 2, m1, 1),
        (Mulhu, m1, m1, m1 - 1),
        (Mulhu, 1 << 32, 1 << 32, 1),
        (Div, 7, (-2i64) as u64, (-3i64) as u64),
        (Div, 7, 0, m1),
        (Div, min, m1, min),
        (Divu, 7, 2, 3),
        (Divu, 7, 0, m1),
        (Rem, (-7i64) as u64, 2, m1),
        (Rem, 7, 0, 7),
        (Rem, min, m1, 0),
        (Remu, 7, 0, 7),
        (Remu, 7, 4, 3),
        (Mulw, 0x1_0000_0002, 0x4000_0000, 0xffff_ffff_8000_0000),
        (Divw, 0x8000_0000, m1, 0xffff_ffff_8000_0000),
        (Divw, 5, 0, m1),
        (Divw, 0x1_0000_0006, 0xffff_fffd, (-2i64) as u64),
        (Divuw, 0xffff_fffe, 1, m1 - 1),
        (Divuw, 5, 0, m1),
        (Remw, 0x8000_0000, m1, 0),
        (Remw, 0x8000_0005, 0, 0xffff_ffff_8000_0005),
        (Remw, (-7i64) as u64, 2, m1),
        (Remuw, 0xffff_ffff, 0, m1),
        (Remuw, 0x1_0000_0007, 4, 3),
    ];
    for &(op, a, b, want) in table {
        let got = exec1(ins(op, 3, 1, 2, 0), a, b);
        assert_eq!(got, want, "{op:?} {a:#x} {b:#x}: got {got:#x}");
    }
}

#[test]
fn i_type_and_upper() {
    use Op::*;
    let m1 = u64::MAX;
    let table: &[(Op, u64, i64, u64)] = &[
        (Addi, 1, -2, m1),
        (Addi, 0, 2047, 2047),
        (Slti, m1, 0, 1),
        (Slti, 0, -1, 0),
        (Sltiu, 0, -1, 1),
        (Sltiu, 5, 1, 0),
        (Xori, 0xff, -1, !0xff),
        (Ori, 0x100, 0xff, 0x1ff),
        (Andi, m1, -2048, (-2048i64) as u64),
        (Slli, 1, 63, 1 << 63),
        (Srli, 1 << 63, 63, 1),
        (Srai, 1 << 63, 63, m1),
        (Addiw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (Addiw, 0xffff_ffff, 0, m1),
        (Slliw, 1, 31, 0xffff_ffff_8000_0000),
        (Srliw, 0x8000_0000, 31, 1),
        (Srliw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (Sraiw, 0x8000_0000, 31, m1),
    ];
    for &(op, a, imm, want) in table {
        let got = exec1(ins(op, 3, 1, 0, imm), a, 0);
        assert_eq!(got, want, "{op:?} {a:#x} {imm}: got {got:#x}");
    }
    assert_eq!(exec1(ins(Lui, 3, 0, 0, 0x12345), 0, 0), 0x1234_5000);
    assert_eq!(exec1(ins(Lui, 3, 0, 0, -1), 0, 0), 0xffff_ffff_ffff_f000);
    assert_eq!(exec1(ins(Auipc, 3, 0, 0, 1), 0, 0), BASE + 0x1000);
    assert_eq!(
        exec1(ins(Auipc, 3, 0, 0, -0x80000), 0, 0),
        BASE.wrapping_sub(0x8000_0000)
    );
    // x0 stays 0.
    let (mut h, mut m) = setup(&[ins(Addi, 0, 0, 0, 5)]);
    run(&mut h, &mut m, 1);
    assert_eq!(h.reg(0), 0);
    assert_eq!(h.x[0], 0);
}

#[test]
fn branches_and_jumps() {
    use Op::*;
    let m1 = u64::MAX;
    // (op, a, b, taken)
    let table: &[(Op, u64, u64, bool)] = &[
        (Beq, 1, 1, true),
        (Beq, 1, 2, false),
        (Bne, 1, 2, true),
        (Bne, 2, 2, false),
        (Blt, m1, 0, true),
        (Blt, 0, m1, false),
        (Bge, 0, m1, true),
        (Bge, m1, 0, false),
        (Bge, 3, 3, true),
        (Bltu, 0, m1, true),
        (Bltu, m1, 0, false),
        (Bgeu, m1, 0, true),
        (Bgeu, 0, m1, false),
    ];
    for &(op, a, b, taken) in table {
        let (mut h, mut m) = setup(&[ins(op, 0, 1, 2, 12)]);
        h.x[1] = a;
        h.x[2] = b;
        run(&mut h, &mut m, 1);
        let want = if taken { BASE + 12 } else { BASE + 4 };
        assert_eq!(h.pc, want, "{op:?} {a:#x} {b:#x}");
    }
    // Backward branch.
    let (mut h, mut m) = setup(&[ins(Addi, 0, 0, 0, 0), ins(Beq, 0, 0, 0, -4)]);
    run(&mut h, &mut m, 2);
    assert_eq!(h.pc, BASE);

    // jal links pc + 4.
    let (mut h, mut m) = setup(&[ins(Jal, 1, 0, 0, 0x100)]);
    run(&mut h, &mut m, 1);
    assert_eq!((h.pc, h.x[1]), (BASE + 0x100, BASE + 4));
    // jalr clears bit 0 of the target, and reads rs1 before writing rd.
    let (mut h, mut m) = setup(&[ins(Jalr, 5, 5, 0, 3)]);
    h.x[5] = BASE + 0x200;
    run(&mut h, &mut m, 1);
    assert_eq!((h.pc, h.x[5]), (BASE + 0x202, BASE + 4));
    let (mut h, mut m) = setup(&[ins(Jalr, 0, 5, 0, -1)]);
    h.x[5] = BASE + 0x11;
    run(&mut h, &mut m, 1);
    assert_eq!(h.pc, BASE + 0x10);
}

#[test]
fn loads_and_stores() {
    use Op::*;
    let table: &[(Op, u64)] = &[
        (Lb, 0xffff_ffff_ffff_ff88),
        (Lbu, 0x88),
        (Lh, 0xffff_ffff_ffff_8788),
        (Lhu, 0x8788),
        (Lw, 0xffff_ffff_8586_8788),
        (Lwu, 0x8586_8788),
        (Ld, 0x8182_8384_8586_8788),
    ];
    for &(op, want) in table {
        let (mut h, mut m) = setup(&[ins(op, 3, 1, 0, 8)]);
        assert!(m.write(DATA + 8, 8, 0x8182_8384_8586_8788));
        h.x[1] = DATA;
        run(&mut h, &mut m, 1);
        assert_eq!(h.x[3], want, "{op:?}");
    }
    let table: &[(Op, u64)] = &[
        (Sb, 0xeeee_eeee_eeee_ee88),
        (Sh, 0xeeee_eeee_eeee_8788),
        (Sw, 0xeeee_eeee_8586_8788),
        (Sd, 0x8182_8384_8586_8788),
    ];
    for &(op, want) in table {
        let (mut h, mut m) = setup(&[ins(op, 0, 1, 2, -8)]);
        assert!(m.write(DATA, 8, 0xeeee_eeee_eeee_eeee));
        h.x[1] = DATA + 8;
        h.x[2] = 0x8182_8384_8586_8788;
        run(&mut h, &mut m, 1);
        assert_eq!(m.read(DATA, 8), Some(want), "{op:?}");
    }
}

#[test]
fn compressed_execute_as_expansions() {
    use Op::*;
    // (base instruction to compress, x1, x2, register to check, value, pc after)
    let table: &[(Insn, u64, u64, u8, u64, u64)] = &[
        (ins(Addi, 10, 0, 0, 5), 0, 0, 10, 5, BASE + 2),
        (ins(Addi, 1, 1, 0, -1), 7, 0, 1, 6, BASE + 2),
        (ins(Add, 1, 1, 2, 0), 3, 4, 1, 7, BASE + 2),
        (ins(Add, 1, 0, 2, 0), 3, 4, 1, 4, BASE + 2),
        (
            ins(Addiw, 1, 1, 0, 1),
            0x7fff_ffff,
            0,
            1,
            0xffff_ffff_8000_0000,
            BASE + 2,
        ),
        (ins(Slli, 1, 1, 0, 63), 1, 0, 1, 1 << 63, BASE + 2),
        (
            ins(Lui, 1, 0, 0, -1),
            0,
            0,
            1,
            0xffff_ffff_ffff_f000,
            BASE + 2,
        ),
        (ins(Jalr, 0, 1, 0, 0), BASE + 0x40, 0, 0, 0, BASE + 0x40),
        (
            ins(Jalr, 1, 2, 0, 0),
            0,
            BASE + 0x40,
            1,
            BASE + 2,
            BASE + 0x40,
        ),
        (ins(Jal, 0, 0, 0, -2), 0, 0, 0, 0, BASE - 2),
    ];
    for &(base, x1, x2, r, want, pc) in table {
        let parcel = compress(&base).unwrap_or_else(|| panic!("{base:?} not compressible"));
        let mut m = FlatMemory::new(BASE - 0x100, 0x10000);
        assert!(m.write(BASE, 2, u64::from(parcel)));
        let mut h = Hart::new(0, BASE);
        h.x[1] = x1;
        h.x[2] = x2;
        assert_eq!(h.step(&mut m), StepResult::Retired, "{base:?}");
        assert_eq!(h.reg(r), want, "{base:?}");
        assert_eq!(h.pc, pc, "{base:?}");
    }
    // A compressed load and store.
    let mut m = FlatMemory::new(BASE, 0x10000);
    let ld = compress(&ins(Ld, 8, 9, 0, 8)).unwrap();
    let sw = compress(&ins(Sw, 0, 9, 8, 0)).unwrap();
    m.write(BASE, 2, u64::from(ld));
    m.write(BASE + 2, 2, u64::from(sw));
    m.write(DATA + 8, 8, 0x1_2345_6789);
    let mut h = Hart::new(0, BASE);
    h.x[9] = DATA;
    run(&mut h, &mut m, 2);
    assert_eq!(h.x[8], 0x1_2345_6789);
    assert_eq!(m.read(DATA, 8), Some(0x2345_6789));
    assert_eq!(h.pc, BASE + 4);
}

#[test]
fn lr_sc() {
    use Op::*;
    // lr.d x3,(x1); sc.d x4,x2,(x1): success, x4 = 0, memory written.
    let (mut h, mut m) = setup(&[ins(LrD, 3, 1, 0, 0), ins(ScD, 4, 1, 2, 0)]);
    m.write(DATA, 8, 11);
    h.x[1] = DATA;
    h.x[2] = 22;
    h.x[4] = 99;
    run(&mut h, &mut m, 2);
    assert_eq!((h.x[3], h.x[4], m.read(DATA, 8)), (11, 0, Some(22)));
    assert_eq!(h.reservation, None);
    // sc without reservation fails.
    let (mut h, mut m) = setup(&[ins(ScW, 4, 1, 2, 0)]);
    h.x[1] = DATA;
    h.x[2] = 22;
    run(&mut h, &mut m, 1);
    assert_eq!((h.x[4], m.read(DATA, 4)), (1, Some(0)));
    // sc to a different address fails and clears the reservation; a second sc fails too.
    let (mut h, mut m) = setup(&[
        ins(LrW, 3, 1, 0, 0),
        ins(ScW, 4, 5, 2, 0),
        ins(ScW, 6, 1, 2, 0),
    ]);
    m.write(DATA, 4, 0x8000_0000);
    h.x[1] = DATA;
    h.x[5] = DATA + 8;
    h.x[2] = 7;
    run(&mut h, &mut m, 3);
    assert_eq!(h.x[3], 0xffff_ffff_8000_0000, "lr.w sign-extends");
    assert_eq!((h.x[4], h.x[6]), (1, 1));
    assert_eq!(m.read(DATA, 8), Some(0x8000_0000));
    // Misaligned lr: load misaligned; sc: store misaligned.
    let (mut h, mut m) = setup(&[ins(LrD, 3, 1, 0, 0)]);
    h.x[1] = DATA + 4;
    let r = h.step(&mut m);
    assert!(
        matches!(r, StepResult::Trapped { trap: Trap::Exception(Exception::LoadAddressMisaligned { addr }), .. } if addr == DATA + 4)
    );
    let (mut h, mut m) = setup(&[ins(ScW, 3, 1, 2, 0)]);
    h.x[1] = DATA + 2;
    let r = h.step(&mut m);
    assert!(
        matches!(r, StepResult::Trapped { trap: Trap::Exception(Exception::StoreAddressMisaligned { addr }), .. } if addr == DATA + 2)
    );
    assert_eq!(h.csrs.mcause, 6);
}

#[test]
fn amos() {
    use Op::*;
    let m1 = u64::MAX;
    // (op, memory before, rs2, rd (old, sign-extended for .w), memory after)
    let table: &[(Op, u64, u64, u64, u64)] = &[
        (AmoswapD, 5, 9, 5, 9),
        (AmoaddD, m1, 2, m1, 1),
        (AmoxorD, 0b1100, 0b1010, 0b1100, 0b0110),
        (AmoandD, 0b1100, 0b1010, 0b1100, 0b1000),
        (AmoorD, 0b1100, 0b1010, 0b1100, 0b1110),
        (AmominD, m1, 1, m1, m1),
        (AmomaxD, m1, 1, m1, 1),
        (AmominuD, m1, 1, m1, 1),
        (AmomaxuD, m1, 1, m1, m1),
        // .w: the upper word of memory is untouched; rd is the sign-extended old word.
        (
            AmoswapW,
            0xaaaa_aaaa_8000_0000,
            1,
            0xffff_ffff_8000_0000,
            0xaaaa_aaaa_0000_0001,
        ),
        (AmoaddW, 0x0000_0000_ffff_ffff, 2, m1, 0x0000_0000_0000_0001),
        (AmoxorW, 0xf0, 0xff, 0xf0, 0x0f),
        (AmoandW, 0xf0, 0xff, 0xf0, 0xf0),
        (AmoorW, 0xf0, 0x0f, 0xf0, 0xff),
        (AmominW, 0xffff_ffff, 1, m1, 0xffff_ffff),
        (AmomaxW, 0xffff_ffff, 0x1_0000_0000, m1, 0),
        (AmomaxW, 0xffff_ffff, 1, m1, 1),
        (AmominuW, 0xffff_ffff, 1, m1, 1),
        (AmomaxuW, 0xffff_ffff, 1, m1, 0xffff_ffff),
    ];
    for &(op, before, src, rd, after) in table {
        let (mut h, mut m) = setup(&[ins(op, 3, 1, 2, 0)]);
        m.write(DATA, 8, before);
        h.x[1] = DATA;
        h.x[2] = src;
        run(&mut h, &mut m, 1);
        assert_eq!(h.x[3], rd, "{op:?} rd");
        assert_eq!(m.read(DATA, 8), Some(after), "{op:?} memory");
    }
    // Misaligned AMO: store/AMO address misaligned (6); outside memory: store access fault (7).
    let (mut h, mut m) = setup(&[ins(AmoaddW, 3, 1, 2, 0)]);
    h.x[1] = DATA + 1;
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (6, DATA + 1));
    let (mut h, mut m) = setup(&[ins(AmoaddD, 3, 1, 2, 0)]);
    h.x[1] = 0x1000;
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (7, 0x1000));
}

#[test]
fn csr_instructions() {
    use Op::*;
    let csr = |op: Op, rd: u8, rs1: u8, imm: i64, c: u16| Insn {
        csr: c,
        ..ins(op, rd, rs1, 0, imm)
    };
    // (instruction, x1, mscratch before, rd = x3 want, mscratch after)
    let table: &[(Insn, u64, u64, u64, u64)] = &[
        (csr(Csrrw, 3, 1, 0, addr::MSCRATCH), 5, 9, 9, 5),
        (csr(Csrrw, 0, 1, 0, addr::MSCRATCH), 5, 9, 0, 5),
        (
            csr(Csrrs, 3, 1, 0, addr::MSCRATCH),
            0b0110,
            0b1001,
            0b1001,
            0b1111,
        ),
        (
            csr(Csrrs, 3, 0, 0, addr::MSCRATCH),
            0b0110,
            0b1001,
            0b1001,
            0b1001,
        ),
        (
            csr(Csrrc, 3, 1, 0, addr::MSCRATCH),
            0b0110,
            0b1111,
            0b1111,
            0b1001,
        ),
        (
            csr(Csrrc, 3, 0, 0, addr::MSCRATCH),
            0b0110,
            0b1111,
            0b1111,
            0b1111,
        ),
        (csr(Csrrwi, 3, 0, 17, addr::MSCRATCH), 0, 9, 9, 17),
        (
            csr(Csrrsi, 3, 0, 0b0110, addr::MSCRATCH),
            0,
            0b1001,
            0b1001,
            0b1111,
        ),
        (
            csr(Csrrsi, 3, 0, 0, addr::MSCRATCH),
            0,
            0b1001,
            0b1001,
            0b1001,
        ),
        (
            csr(Csrrci, 3, 0, 0b0110, addr::MSCRATCH),
            0,
            0b1111,
            0b1111,
            0b1001,
        ),
        (
            csr(Csrrci, 3, 0, 0, addr::MSCRATCH),
            0,
            0b1111,
            0b1111,
            0b1111,
        ),
    ];
    for &(i, x1, before, rd, after) in table {
        let (mut h, mut m) = setup(&[i]);
        h.x[1] = x1;
        h.csrs.mscratch = before;
        run(&mut h, &mut m, 1);
        assert_eq!((h.reg(3), h.csrs.mscratch), (rd, after), "{i:?}");
    }
    // Reading a read-only CSR with csrrs x0 works; writing it (csrrw, or csrrs with rs1 != 0)
    // is illegal with tval = the instruction bits.
    let (mut h, mut m) = setup(&[csr(Csrrs, 3, 0, 0, addr::MHARTID)]);
    h.csrs.mhartid = 0;
    run(&mut h, &mut m, 1);
    for i in [
        csr(Csrrs, 3, 1, 0, addr::MHARTID),
        csr(Csrrw, 0, 1, 0, addr::MHARTID),
        csr(Csrrsi, 3, 0, 1, addr::CYCLE),
        csr(Csrrs, 3, 0, 0, 0x7ff),
    ] {
        let (mut h, mut m) = setup(&[i]);
        h.x[1] = 1;
        let bits = encode(&i).unwrap().bits();
        assert!(
            matches!(h.step(&mut m), StepResult::Trapped { .. }),
            "{i:?}"
        );
        assert_eq!((h.csrs.mcause, h.csrs.mtval), (2, u64::from(bits)), "{i:?}");
        assert_eq!(h.reg(3), 0, "{i:?}");
    }
    // M-mode CSR from S-mode: illegal.
    let (mut h, mut m) = setup(&[csr(Csrrs, 3, 0, 0, addr::MSCRATCH)]);
    h.privilege = Privilege::Supervisor;
    h.step(&mut m);
    assert_eq!(h.csrs.mcause, 2);
    // satp writes reach the memory side.
    let (mut h, mut m) = setup(&[csr(Csrrw, 0, 1, 0, addr::SATP)]);
    h.x[1] = 8 << 60 | 0x1234;
    run(&mut h, &mut m, 1);
    assert_eq!(m.satp_writes, vec![h.csrs.satp]);
    assert_eq!(h.csrs.satp, 8 << 60 | 0x1234);
    // minstret counts retired instructions; a write to it wins over the increment.
    let (mut h, mut m) = setup(&[
        ins(Addi, 0, 0, 0, 0),
        csr(Csrrs, 3, 0, 0, addr::MINSTRET),
        csr(Csrrs, 6, 0, 0, addr::MINSTRET),
        csr(Csrrwi, 0, 0, 7, addr::MINSTRET),
        csr(Csrrs, 4, 0, 0, addr::INSTRET),
    ]);
    run(&mut h, &mut m, 5);
    assert_eq!((h.x[3], h.x[6], h.x[4], h.csrs.minstret), (1, 2, 7, 8));
}

#[test]
fn ecall_from_u_delegated_to_s_and_mret_back() {
    use Op::*;
    // Program at BASE (U): ecall. S handler at BASE + 0x100: mret is illegal from S, so the
    // test checks the S trap state, then M returns to U through mret at BASE + 0x200.
    let mut m = FlatMemory::new(BASE, 0x10000);
    m.write_bytes(BASE, &bytes(&ins(Ecall, 0, 0, 0, 0)));
    m.write_bytes(BASE + 0x200, &bytes(&ins(Mret, 0, 0, 0, 0)));
    m.write_bytes(BASE + 0x300, &bytes(&ins(Addi, 5, 0, 0, 42)));
    let mut h = Hart::new(0, BASE);
    h.privilege = Privilege::User;
    h.csrs.medeleg = 1 << 8;
    h.csrs.stvec = BASE + 0x100;
    h.csrs.mtvec = BASE + 0x400;
    h.csrs.mstatus |= mstatus::SIE;
    let r = h.step(&mut m);
    assert_eq!(
        r,
        StepResult::Trapped {
            trap: Trap::Exception(Exception::EcallFromU),
            epc: BASE,
            pc: BASE + 0x100,
            privilege: Privilege::Supervisor
        }
    );
    assert_eq!((h.csrs.scause, h.csrs.sepc, h.csrs.stval), (8, BASE, 0));
    assert_eq!(h.csrs.mstatus & mstatus::SPP, 0, "came from U");
    assert_ne!(h.csrs.mstatus & mstatus::SPIE, 0);
    assert_eq!(h.csrs.mstatus & mstatus::SIE, 0);
    assert_eq!(h.csrs.mcause, 0, "M untouched");
    // ecall from M is not delegable: cause 11 in M.
    let (mut h2, mut m2) = setup(&[ins(Ecall, 0, 0, 0, 0)]);
    h2.csrs.medeleg = u64::MAX;
    h2.csrs.mtvec = BASE + 0x40;
    h2.step(&mut m2);
    assert_eq!(
        (h2.csrs.mcause, h2.pc, h2.privilege),
        (11, BASE + 0x40, Privilege::Machine)
    );
    // mret from M to U at mepc.
    h.privilege = Privilege::Machine;
    h.pc = BASE + 0x200;
    h.csrs.mepc = BASE + 0x300;
    h.csrs.mstatus &= !mstatus::MPP; // MPP = U
    assert_eq!(h.step(&mut m), StepResult::Retired);
    assert_eq!((h.pc, h.privilege), (BASE + 0x300, Privilege::User));
    run(&mut h, &mut m, 1);
    assert_eq!(h.x[5], 42);
    // mret from U is illegal.
    h.pc = BASE + 0x200;
    h.step(&mut m);
    assert_eq!(
        (h.csrs.mcause, h.privilege, h.pc),
        (2, Privilege::Machine, BASE + 0x400)
    );
    assert_eq!(h.csrs.mtval, 0x3020_0073);
}

#[test]
fn exceptions_with_tval() {
    use Op::*;
    // An undecodable word: illegal, tval = its bits (here an F-extension flw).
    let mut m = FlatMemory::new(BASE, 0x10000);
    m.write(BASE, 4, 0x0000_a007);
    let mut h = Hart::new(0, BASE);
    h.csrs.mtvec = BASE + 0x80;
    let r = h.step(&mut m);
    assert!(matches!(r, StepResult::Trapped { epc, pc, .. } if epc == BASE && pc == BASE + 0x80));
    assert_eq!(
        (h.csrs.mcause, h.csrs.mtval, h.csrs.mepc),
        (2, 0xa007, BASE)
    );
    // The all-zero parcel (c.unimp) is illegal with tval 0; a 16-bit illegal gives 16 bits.
    let mut m = FlatMemory::new(BASE, 0x10000);
    m.write(BASE, 4, 0xffff_0000);
    let mut h = Hart::new(0, BASE);
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (2, 0));
    // Misaligned loads and stores: tval = the address.
    let table: &[(Insn, u64, u64)] = &[
        (ins(Lw, 3, 1, 0, 2), 4, DATA + 2),
        (ins(Ld, 3, 1, 0, 4), 4, DATA + 4),
        (ins(Lh, 3, 1, 0, 1), 4, DATA + 1),
        (ins(Lbu, 3, 1, 0, -1), 5, DATA - 0x8001),
        (ins(Sd, 0, 1, 2, 1), 6, DATA + 1),
        (ins(Sh, 0, 1, 2, 3), 6, DATA + 3),
        (ins(Sb, 0, 1, 2, -1), 7, DATA - 0x8001),
    ];
    for &(i, cause, tval) in table {
        let (mut h, mut m) = setup(&[i]);
        h.x[1] = if cause == 4 || cause == 6 {
            DATA
        } else {
            DATA - 0x8000
        };
        h.x[3] = 77;
        h.step(&mut m);
        assert_eq!((h.csrs.mcause, h.csrs.mtval), (cause, tval), "{i:?}");
        assert_eq!(h.x[3], 77, "{i:?}: rd untouched");
    }
    // ebreak: tval = pc. Fetch outside memory: instruction access fault.
    let (mut h, mut m) = setup(&[ins(Ebreak, 0, 0, 0, 0)]);
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (3, BASE));
    let (mut h, mut m) = setup(&[ins(Jal, 0, 0, 0, -0x1000)]);
    run(&mut h, &mut m, 1);
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (1, BASE - 0x1000));
    // A 4-byte instruction whose second parcel is outside memory faults at that parcel.
    let mut m = FlatMemory::new(BASE, 0x10);
    m.write(BASE + 0xe, 2, 0x0013);
    let mut h = Hart::new(0, BASE + 0xe);
    h.step(&mut m);
    assert_eq!(
        (h.csrs.mcause, h.csrs.mtval, h.csrs.mepc),
        (1, BASE + 0x10, BASE + 0xe)
    );
}

#[test]
fn privileged_fences_and_wfi() {
    use Op::*;
    let (mut h, mut m) = setup(&[
        ins(Fence, 0, 0, 0, 0xff),
        ins(FenceI, 0, 0, 0, 0),
        ins(SfenceVma, 0, 0, 0, 0),
        ins(SfenceVma, 0, 1, 0, 0),
        ins(SfenceVma, 0, 1, 2, 0),
        ins(SfenceVma, 0, 0, 2, 0),
    ]);
    h.x[1] = 0x4000;
    h.x[2] = 3;
    run(&mut h, &mut m, 6);
    assert_eq!(m.fence_i_count, 1);
    assert_eq!(
        m.flushes,
        vec![
            Flush::All,
            Flush::Addr { va: 0x4000 },
            Flush::AddrAsid {
                va: 0x4000,
                asid: 3
            },
            Flush::Asid { asid: 3 }
        ]
    );
    // sfence.vma from U is illegal; with TVM from S too.
    let (mut h, mut m) = setup(&[ins(SfenceVma, 0, 0, 0, 0)]);
    h.privilege = Privilege::User;
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (2, 0x1200_0073));
    let (mut h, mut m) = setup(&[ins(SfenceVma, 0, 0, 0, 0)]);
    h.privilege = Privilege::Supervisor;
    h.csrs.mstatus |= mstatus::TVM;
    h.step(&mut m);
    assert_eq!(h.csrs.mcause, 2);
    // wfi waits until an interrupt is pending, then resumes (here with interrupts globally
    // disabled, so it continues after the wfi).
    let (mut h, mut m) = setup(&[ins(Wfi, 0, 0, 0, 0), ins(Addi, 5, 0, 0, 1)]);
    h.csrs.mie = irq::MTI;
    assert_eq!(h.step(&mut m), StepResult::Waiting);
    assert_eq!(h.step(&mut m), StepResult::Waiting);
    assert_eq!((h.pc, h.csrs.minstret), (BASE + 4, 1));
    h.csrs.set_line(irq::MTI, true);
    assert_eq!(h.step(&mut m), StepResult::Retired);
    assert_eq!(h.x[5], 1);
    // wfi from U is illegal.
    let (mut h, mut m) = setup(&[ins(Wfi, 0, 0, 0, 0)]);
    h.privilege = Privilege::User;
    h.step(&mut m);
    assert_eq!(h.csrs.mcause, 2);
}

#[test]
fn timer_interrupt() {
    use Op::*;
    let (mut h, mut m) = setup(&[ins(Addi, 5, 5, 0, 1), ins(Addi, 5, 5, 0, 1)]);
    h.csrs.mtvec = BASE + 0x101; // vectored
    h.csrs.set_line(irq::MTI, true);
    // Pending but not enabled: nothing happens.
    run(&mut h, &mut m, 1);
    h.csrs.mie = irq::MTI;
    // Enabled in mie but mstatus.MIE = 0 in M: still nothing.
    h.pc = BASE;
    run(&mut h, &mut m, 1);
    h.csrs.mstatus |= mstatus::MIE;
    let r = h.step(&mut m);
    assert_eq!(
        r,
        StepResult::Trapped {
            trap: Trap::Interrupt(Interrupt::MachineTimer),
            epc: BASE + 4,
            pc: BASE + 0x100 + 4 * 7,
            privilege: Privilege::Machine
        }
    );
    assert_eq!(h.csrs.mcause, (1 << 63) | 7);
    assert_eq!(h.csrs.mepc, BASE + 4);
    assert_eq!(h.x[5], 2, "the interrupted instruction did not execute");
    assert_eq!(h.csrs.mstatus & mstatus::MIE, 0);
    assert_ne!(h.csrs.mstatus & mstatus::MPIE, 0);
    // From U the M interrupt is taken even with mstatus.MIE = 0.
    let (mut h, mut m) = setup(&[ins(Addi, 5, 5, 0, 1)]);
    h.privilege = Privilege::User;
    h.csrs.mie = irq::MTI;
    h.csrs.set_line(irq::MTI, true);
    assert!(matches!(h.step(&mut m), StepResult::Trapped { .. }));
    assert_eq!(h.privilege, Privilege::Machine);
}

#[test]
fn counters() {
    let (mut h, mut m) = setup(&[ins(Op::Addi, 1, 1, 0, 1); 10]);
    run(&mut h, &mut m, 10);
    assert_eq!((h.csrs.minstret, h.csrs.mcycle), (10, 10));
    h.count_cycles = false;
    h.pc = BASE;
    run(&mut h, &mut m, 2);
    assert_eq!((h.csrs.minstret, h.csrs.mcycle), (12, 10));
}

/// A tiny deterministic generator (xorshift64*).
fn rng(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
fn random_words_never_panic() {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut m = FlatMemory::new(BASE, 0x1000);
    // VMLAB_HART_FUZZ_ROUNDS=N runs a longer search.
    let rounds = std::env::var("VMLAB_HART_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for round in 0..rounds {
        // Random machine state too: mstatus (MPRV, TVM, TW, TSR...), delegation, enables.
        let mstatus_bits = rng(&mut s);
        let deleg = rng(&mut s);
        for a in (0..0x1000).step_by(8) {
            m.write(BASE + a, 8, rng(&mut s));
        }
        let mut h = Hart::new(0, BASE);
        for r in 1..32 {
            // Registers point into memory half the time, so loads and stores hit it.
            h.x[r] = if rng(&mut s) & 1 == 0 {
                BASE + (rng(&mut s) & 0xfff)
            } else {
                rng(&mut s)
            };
        }
        h.csrs.mtvec = BASE + (rng(&mut s) & 0xffc);
        h.csrs.stvec = BASE + (rng(&mut s) & 0xffc);
        // Random f registers (boxed or not) and fcsr; odd rounds' random mstatus turns FS on
        // three times in four, so the FP paths run too.
        for r in 0..32 {
            h.f[r] = match rng(&mut s) % 3 {
                0 => 0xffff_ffff_0000_0000 | (rng(&mut s) >> 32),
                _ => rng(&mut s),
            };
        }
        h.csrs.fcsr = rng(&mut s) & 0xff;
        h.privilege = [Privilege::User, Privilege::Supervisor, Privilege::Machine][round % 3];
        if round % 2 == 1 {
            let _ = h
                .csrs
                .write(addr::MSTATUS, Privilege::Machine, mstatus_bits);
            let _ = h.csrs.write(addr::MEDELEG, Privilege::Machine, deleg);
            let _ = h.csrs.write(addr::MIDELEG, Privilege::Machine, deleg >> 16);
            let _ = h.csrs.write(addr::MIE, Privilege::Machine, deleg >> 32);
            h.csrs.set_line(irq::ALL, deleg & 1 == 1);
        }
        for _ in 0..500 {
            let _ = h.step(&mut m);
            assert_eq!(h.reg(0), 0);
            assert_eq!(h.pc & 1, 0);
        }
    }
}

/// `HartMemory` is object-safe enough for a generic wrapper: a counting memory.
#[test]
fn custom_memory() {
    struct Counting(FlatMemory, u64);
    impl HartMemory for Counting {
        fn fetch(&mut self, va: u64, ctx: vmlab_mmu::Context) -> Result<u16, Exception> {
            self.1 += 1;
            self.0.fetch(va, ctx)
        }
        fn load(&mut self, va: u64, size: u8, ctx: vmlab_mmu::Context) -> Result<u64, Exception> {
            self.0.load(va, size, ctx)
        }
        fn store(
            &mut self,
            va: u64,
            size: u8,
            value: u64,
            ctx: vmlab_mmu::Context,
        ) -> Result<(), Exception> {
            self.0.store(va, size, value, ctx)
        }
    }
    let (mut h, m) = setup(&[ins(Op::Addi, 1, 1, 0, 1)]);
    let mut c = Counting(m, 0);
    assert_eq!(h.step(&mut c), StepResult::Retired);
    assert_eq!(c.1, 2, "a 4-byte instruction is fetched as two parcels");
}

#[test]
fn sret_and_delegated_interrupt() {
    use Op::*;
    // sret from S returns to U at sepc (SPP = 0), SIE = SPIE.
    let (mut h, mut m) = setup(&[ins(Sret, 0, 0, 0, 0)]);
    h.privilege = Privilege::Supervisor;
    h.csrs.sepc = BASE + 0x40;
    h.csrs.mstatus |= mstatus::SPIE;
    assert_eq!(h.step(&mut m), StepResult::Retired);
    assert_eq!((h.pc, h.privilege), (BASE + 0x40, Privilege::User));
    assert_ne!(h.csrs.mstatus & mstatus::SIE, 0);
    // sret from S with TSR is illegal; from U always.
    let (mut h, mut m) = setup(&[ins(Sret, 0, 0, 0, 0)]);
    h.privilege = Privilege::Supervisor;
    h.csrs.mstatus |= mstatus::TSR;
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (2, 0x1020_0073));
    // A supervisor timer interrupt delegated to S, taken from U.
    let (mut h, mut m) = setup(&[ins(Addi, 5, 5, 0, 1)]);
    h.privilege = Privilege::User;
    h.csrs.mideleg = irq::STI;
    h.csrs.mie = irq::STI;
    h.csrs.stvec = BASE + 0x200;
    h.csrs.set_line(irq::STI, true);
    let r = h.step(&mut m);
    assert_eq!(
        r,
        StepResult::Trapped {
            trap: Trap::Interrupt(Interrupt::SupervisorTimer),
            epc: BASE,
            pc: BASE + 0x200,
            privilege: Privilege::Supervisor
        }
    );
    assert_eq!((h.csrs.scause, h.csrs.sepc), ((1 << 63) | 5, BASE));
    // In S with SIE = 0 it stays pending: the next step executes the handler's first
    // parcel (zero memory: c.unimp, illegal, to M).
    let r = h.step(&mut m);
    assert_eq!(
        r,
        StepResult::Trapped {
            trap: Trap::Exception(Exception::IllegalInstruction { insn: 0 }),
            epc: BASE + 0x200,
            pc: 0,
            privilege: Privilege::Machine
        }
    );
}

/// The MMU context of every access reaches the memory: fetches at the current privilege,
/// loads/stores/AMOs at MPP when MPRV = 1, with SUM and MXR from mstatus.
#[test]
fn contexts_reach_memory() {
    use vmlab_mmu::Context;
    #[derive(Default)]
    struct Recording(Vec<(char, Context)>);
    impl HartMemory for Recording {
        fn fetch(&mut self, va: u64, ctx: Context) -> Result<u16, Exception> {
            self.0.push(('x', ctx));
            // `ld x3, 0(x1)` then `amoadd.d x3, x2, (x1)`, as parcels.
            let ld = encode(&ins(Op::Ld, 3, 1, 0, 0)).unwrap().bits();
            let amo = encode(&ins(Op::AmoaddD, 3, 1, 2, 0)).unwrap().bits();
            Ok(match va - BASE {
                0 => ld as u16,
                2 => (ld >> 16) as u16,
                4 => amo as u16,
                _ => (amo >> 16) as u16,
            })
        }
        fn load(&mut self, _va: u64, _size: u8, ctx: Context) -> Result<u64, Exception> {
            self.0.push(('r', ctx));
            Ok(0)
        }
        fn store(&mut self, _va: u64, _s: u8, _v: u64, ctx: Context) -> Result<(), Exception> {
            self.0.push(('w', ctx));
            Ok(())
        }
    }
    let mut h = Hart::new(0, BASE);
    h.csrs.mstatus |= mstatus::MPRV | mstatus::SUM | mstatus::MXR;
    h.csrs.mstatus = (h.csrs.mstatus & !mstatus::MPP) | (1 << mstatus::MPP_SHIFT); // MPP = S
    h.csrs.satp = (8 << 60) | (5 << 44);
    let mut m = Recording::default();
    assert_eq!(h.step(&mut m), StepResult::Retired);
    assert_eq!(h.step(&mut m), StepResult::Retired);
    let kinds: String = m.0.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, "xxrxxrw");
    for (k, ctx) in &m.0 {
        let want = if *k == 'x' {
            Privilege::Machine
        } else {
            Privilege::Supervisor
        };
        assert_eq!(ctx.privilege, want, "{k}");
        assert_eq!((ctx.asid, ctx.sum, ctx.mxr), (5, true, true), "{k}");
    }
}

/// Executes one FP instruction on a hart with FS = Initial, f1/f2/f3 and x1 set; returns the
/// step result and the hart after it.
fn exec_fp(i: Insn, f: [u64; 3], x1: u64, setup_hart: impl Fn(&mut Hart)) -> (StepResult, Hart) {
    let (mut h, mut m) = setup(&[i]);
    h.set_fs_state(FsState::Initial);
    h.f[1..4].copy_from_slice(&f);
    h.x[1] = x1;
    setup_hart(&mut h);
    let r = h.step(&mut m);
    (r, h)
}

fn fpi(op: Op, rd: u8, rs1: u8, rs2: u8, rm: u8) -> Insn {
    Insn {
        rm,
        ..ins(op, rd, rs1, rs2, 0)
    }
}

fn is_illegal(r: StepResult) -> bool {
    matches!(
        r,
        StepResult::Trapped {
            trap: Trap::Exception(Exception::IllegalInstruction { .. }),
            ..
        }
    )
}

#[test]
fn float_instructions_on_the_hart() {
    use Op::*;
    let one_s = 0xffff_ffff_3f80_0000u64;
    let two_s = 0xffff_ffff_4000_0000u64;
    let one_d = 0x3ff0_0000_0000_0000u64;
    let none = |_: &mut Hart| {};
    // (instruction, f1 f2 f3, x1) -> (f4 or x4, fflags)
    type Case = (Insn, [u64; 3], u64, Option<u64>, Option<u64>, u64);
    let cases: Vec<Case> = vec![
        // fadd.s: boxed result, no flags.
        (
            fpi(FAddS, 4, 1, 2, 7),
            [one_s, two_s, 0],
            0,
            Some(0xffff_ffff_4040_0000),
            None,
            0,
        ),
        // An improperly boxed single reads as the canonical NaN.
        (
            fpi(FAddS, 4, 1, 2, 0),
            [one_d, two_s, 0],
            0,
            Some(0xffff_ffff_7fc0_0000),
            None,
            0,
        ),
        // fmv.x.w sign-extends the low 32 bits, whatever the boxing.
        (
            fpi(FmvXW, 4, 1, 0, 0),
            [0x0000_0000_8000_0001, 0, 0],
            0,
            None,
            Some(0xffff_ffff_8000_0001),
            0,
        ),
        (
            fpi(FmvWX, 4, 1, 0, 0),
            [0; 3],
            0x1234_5678_3f80_0000,
            Some(one_s),
            None,
            0,
        ),
        (
            fpi(FmvDX, 4, 1, 0, 0),
            [0; 3],
            0x1234,
            Some(0x1234),
            None,
            0,
        ),
        // fcvt.w.s of NaN: 2^31 - 1 with NV; fcvt.wu.d of 2^32 - 1 sign-extended.
        (
            fpi(FcvtWS, 4, 1, 0, 1),
            [0xffff_ffff_7fc0_0000, 0, 0],
            0,
            None,
            Some(0x7fff_ffff),
            0x10,
        ),
        (
            fpi(FcvtWuD, 4, 1, 0, 1),
            [0x41ef_ffff_ffe0_0000, 0, 0],
            0,
            None,
            Some(u64::MAX),
            0,
        ),
        (
            fpi(FDivD, 4, 1, 2, 7),
            [one_d, 0, 0],
            0,
            Some(0x7ff0_0000_0000_0000),
            None,
            0x08,
        ),
        (
            fpi(FeqS, 4, 1, 2, 0),
            [one_s, one_s, 0],
            0,
            None,
            Some(1),
            0,
        ),
        (
            fpi(FltD, 4, 1, 2, 0),
            [0x7ff8_0000_0000_0000, one_d, 0],
            0,
            None,
            Some(0),
            0x10,
        ),
        (
            fpi(FclassD, 4, 1, 0, 0),
            [0x8000_0000_0000_0000, 0, 0],
            0,
            None,
            Some(1 << 3),
            0,
        ),
        (
            fpi(FcvtDS, 4, 1, 0, 0),
            [one_s, 0, 0],
            0,
            Some(one_d),
            None,
            0,
        ),
        (
            fpi(FcvtSD, 4, 1, 0, 7),
            [one_d, 0, 0],
            0,
            Some(one_s),
            None,
            0,
        ),
        (
            fpi(FSgnjnD, 4, 1, 1, 0),
            [one_d, 0, 0],
            0,
            Some(one_d | 1 << 63),
            None,
            0,
        ),
    ];
    for (i, f, x1, want_f, want_x, want_flags) in cases {
        let (r, h) = exec_fp(i, f, x1, none);
        assert_eq!(r, StepResult::Retired, "{i:?}");
        if let Some(v) = want_f {
            assert_eq!(h.f[4], v, "{i:?}: f4 = {:#x}", h.f[4]);
            assert_eq!(h.fs_state(), FsState::Dirty, "{i:?}");
        }
        if let Some(v) = want_x {
            assert_eq!(h.x[4], v, "{i:?}: x4 = {:#x}", h.x[4]);
        }
        assert_eq!(h.csrs.fcsr & 0x1f, want_flags, "{i:?}");
        let sd = h.csrs.read(addr::MSTATUS, Privilege::Machine).unwrap() >> 63;
        assert_eq!(
            sd == 1,
            h.fs_state() == FsState::Dirty,
            "{i:?}: SD follows FS"
        );
    }
    // A comparison that raises nothing leaves FS alone.
    let (_, h) = exec_fp(fpi(FeqS, 4, 1, 2, 0), [one_s, one_s, 0], 0, none);
    assert_eq!(h.fs_state(), FsState::Initial);
    // The dynamic rounding mode comes from frm.
    let third = |rm_frm: u64| {
        let (r, h) = exec_fp(
            fpi(FDivS, 4, 1, 2, 7),
            [one_s, 0xffff_ffff_4040_0000, 0],
            0,
            |h| h.csrs.fcsr = rm_frm << 5,
        );
        assert_eq!(r, StepResult::Retired);
        h.f[4] as u32
    };
    assert_eq!(third(0), 0x3eaa_aaab); // rne
    assert_eq!(third(1), 0x3eaa_aaaa); // rtz
    assert_eq!(third(3), 0x3eaa_aaab); // rup
}

#[test]
fn float_instructions_are_illegal_when_off_absent_or_badly_rounded() {
    use Op::*;
    let add = fpi(FAddD, 4, 1, 2, 7);
    // FS = Off: any FP instruction, loads and stores and CSR accesses included.
    for i in [
        add,
        ins(Fld, 4, 0, 0, 0),
        ins(Fsw, 0, 0, 4, 0),
        fpi(FmvXD, 4, 1, 0, 0),
        Insn {
            csr: addr::FCSR,
            ..ins(Csrrs, 4, 0, 0, 0)
        },
    ] {
        let (mut h, mut m) = setup(&[i]);
        assert!(is_illegal(h.step(&mut m)), "{i:?} with FS = Off");
    }
    // Reserved rm values, and dyn with a reserved frm.
    for (rm, frm) in [(5, 0), (6, 0), (7, 5), (7, 6), (7, 7)] {
        let (r, _) = exec_fp(fpi(FAddD, 4, 1, 2, rm), [0; 3], 0, |h| {
            h.csrs.fcsr = frm << 5
        });
        assert!(is_illegal(r), "rm {rm} frm {frm}");
    }
    // The always-exact conversions too (their rm field exists, though objdump hides it).
    for op in [FcvtDS, FcvtDW, FcvtSD] {
        let (r, _) = exec_fp(fpi(op, 4, 1, 0, 5), [0; 3], 0, |_| {});
        assert!(is_illegal(r), "{op:?}");
    }
    // A hart without F and D (misa narrowed): illegal even with FS written.
    let (r, h) = exec_fp(add, [0; 3], 0, |h| {
        h.csrs.set_misa(vmlab_cpu::csr::MISA & !0x28);
    });
    assert!(is_illegal(r));
    assert_eq!(h.fs_state(), FsState::Off);
    // Without D only: F works, D does not.
    let (r, _) = exec_fp(fpi(FAddS, 4, 1, 2, 7), [0; 3], 0, |h| {
        h.csrs.set_misa(vmlab_cpu::csr::MISA & !0x8);
    });
    assert_eq!(r, StepResult::Retired);
    let (r, _) = exec_fp(add, [0; 3], 0, |h| {
        h.csrs.set_misa(vmlab_cpu::csr::MISA & !0x8)
    });
    assert!(is_illegal(r));
}

#[test]
fn illegal_reasons_name_the_instruction_and_extension() {
    let mut h = Hart::new(0, BASE);
    let fmadd_d = 0x6ac5f543; // fmadd.d fa0,fa1,fa2,fa3
    assert_eq!(
        h.illegal_reason(fmadd_d).as_deref(),
        Some("fmadd.d: floating point is off (mstatus.FS = Off; set FS to Initial to use it)")
    );
    h.set_fs_state(FsState::Initial);
    assert_eq!(h.illegal_reason(fmadd_d), None);
    assert_eq!(
        h.illegal_reason(0x6ac5d543).as_deref(), // rm = 5
        Some("fmadd.d: rounding mode 5 is reserved")
    );
    h.csrs.fcsr = 6 << 5;
    assert_eq!(
        h.illegal_reason(fmadd_d).as_deref(),
        Some("fmadd.d: dynamic rounding with frm = 6, a reserved rounding mode")
    );
    h.csrs.set_misa(vmlab_cpu::csr::MISA & !0x28);
    assert_eq!(
        h.illegal_reason(fmadd_d).as_deref(),
        Some("fmadd.d (D extension) is not enabled on this hart (cpu.isa lacks d)")
    );
    assert_eq!(
        h.illegal_reason(0x2588).as_deref(), // c.fld fa0,8(a1)
        Some("c.fld (D extension) is not enabled on this hart (cpu.isa lacks d)")
    );
    assert_eq!(
        h.illegal_reason(0x00c5f553).as_deref(), // fadd.s
        Some("fadd.s (F extension) is not enabled on this hart (cpu.isa lacks f)")
    );
    assert_eq!(h.illegal_reason(0xffff_ffff), None);
    assert_eq!(h.illegal_reason(0x00c58533), None); // add
}

#[test]
fn float_loads_stores_and_state_api() {
    use Op::*;
    let (mut h, mut m) = setup(&[
        ins(Flw, 4, 1, 0, 0),
        ins(Fsd, 0, 1, 4, 8),
        ins(Fld, 5, 1, 0, 8),
    ]);
    h.set_fs_state(FsState::Clean);
    h.x[1] = DATA;
    assert!(m.write(DATA, 4, 0x3f80_0000));
    run(&mut h, &mut m, 3);
    assert_eq!(h.f[4], 0xffff_ffff_3f80_0000);
    assert_eq!(m.read(DATA + 8, 8), Some(0xffff_ffff_3f80_0000));
    assert_eq!(h.f[5], 0xffff_ffff_3f80_0000);
    assert_eq!(h.fs_state(), FsState::Dirty);
    let mut saved = h.fp_state();
    saved.fcsr = 0x1ff;
    saved.f[31] = 7;
    h.set_fp_state(&saved);
    assert_eq!(h.fp_state().fcsr, 0xff);
    assert_eq!(h.freg(31), 7);
    h.set_fs_state(FsState::Clean);
    assert_eq!(h.fs_state(), FsState::Clean);
}

/// Random F/D instruction words (every FP opcode, random fields, random operands and
/// `frm`) with FP on: nothing panics, and thousands of them retire (many encodings are
/// reserved, and a random `rm` or `frm` is reserved three times in eight).
#[test]
fn random_float_words_never_panic() {
    let mut s = 0x0f0f_1234_5678_9abcu64;
    let mut m = FlatMemory::new(BASE, 0x1000);
    let opcodes = [
        0x07u64, 0x27, 0x43, 0x47, 0x4b, 0x4f, 0x53, 0x53, 0x53, 0x53,
    ];
    let mut retired = 0;
    for _ in 0..200 {
        for a in (0..0x1000).step_by(4) {
            let w = (rng(&mut s) & !0x7f) | opcodes[(rng(&mut s) % 10) as usize];
            m.write(BASE + a, 4, w & 0xffff_ffff);
        }
        let mut h = Hart::new(0, BASE);
        h.set_fs_state(FsState::Initial);
        h.csrs.mtvec = BASE;
        h.csrs.fcsr = rng(&mut s) & 0xff;
        for r in 0..32 {
            h.f[r] = if rng(&mut s) & 1 == 0 {
                0xffff_ffff_0000_0000 | (rng(&mut s) >> 32)
            } else {
                rng(&mut s)
            };
            h.x[r] = if rng(&mut s) & 1 == 0 {
                BASE + (rng(&mut s) & 0xff8)
            } else {
                rng(&mut s)
            };
        }
        h.x[0] = 0;
        for _ in 0..500 {
            if h.step(&mut m) == StepResult::Retired {
                retired += 1;
            }
        }
    }
    assert!(retired > 5_000, "only {retired} retired");
}

/// Zicntr from U-mode: `rdcycle`, `rdtime` and `rdinstret` read the counters when both
/// `mcounteren` and `scounteren` enable them, and are illegal otherwise.
#[test]
fn zicntr_from_user_mode() {
    let csrr = |c: u16| Insn {
        csr: c,
        ..ins(Op::Csrrs, 5, 0, 0, 0)
    };
    for (c, bit, want) in [
        (addr::CYCLE, 0, 40),
        (addr::TIME, 1, 7),
        (addr::INSTRET, 2, 30),
    ] {
        for (men, sen, ok) in [
            (0u64, 0u64, false),
            (1, 0, false),
            (0, 1, false),
            (1, 1, true),
        ] {
            let (mut h, mut m) = setup(&[csrr(c)]);
            h.privilege = Privilege::User;
            h.csrs.mcounteren = men << bit;
            h.csrs.scounteren = sen << bit;
            h.csrs.mcycle = 40;
            h.csrs.minstret = 30;
            h.csrs.time = 7;
            let r = h.step(&mut m);
            if ok {
                assert_eq!(r, StepResult::Retired, "{c:#x}");
                assert_eq!(h.x[5], want, "{c:#x}");
            } else {
                assert!(
                    is_illegal(r),
                    "{c:#x} with mcounteren {men} scounteren {sen}"
                );
            }
        }
    }
}

#[test]
fn misaligned_loads_and_stores_in_hardware_are_done_byte_by_byte() {
    use Op::*;
    // With misaligned_in_hardware the same accesses retire: a store then loads of every
    // width read the bytes back little-endian, sign- or zero-extended as the opcode says.
    let code = [
        ins(Sd, 0, 1, 2, 3),
        ins(Ld, 3, 1, 0, 3),
        ins(Lw, 4, 1, 0, 5),
        ins(Lhu, 5, 1, 0, 9),
        ins(Lh, 6, 1, 0, 9),
        ins(Sh, 0, 1, 2, 0x11),
        ins(Lwu, 7, 1, 0, 0x0f),
    ];
    let (mut h, mut m) = setup(&code);
    h.misaligned_in_hardware = true;
    h.x[1] = DATA;
    h.x[2] = 0x8877_6655_4433_2211;
    run(&mut h, &mut m, code.len());
    assert_eq!(h.x[3], 0x8877_6655_4433_2211);
    assert_eq!(h.x[4], 0x6655_4433);
    assert_eq!(h.x[5], 0x8877);
    assert_eq!(h.x[6], 0xffff_ffff_ffff_8877);
    assert_eq!(m.read(DATA + 3, 1), Some(0x11));
    assert_eq!(m.read(DATA + 0x11, 2), Some(0x2211));
    assert_eq!(h.x[7], 0x2211_0000);
    // Atomics still trap (store/AMO address misaligned).
    let (mut h, mut m) = setup(&[ins(AmoaddW, 3, 1, 2, 0)]);
    h.misaligned_in_hardware = true;
    h.x[1] = DATA + 2;
    h.step(&mut m);
    assert_eq!((h.csrs.mcause, h.csrs.mtval), (6, DATA + 2));
}
