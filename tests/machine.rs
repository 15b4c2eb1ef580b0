//! The `Machine` at library level: tiny programs written as instruction words (encoded from
//! `Insn` values), run on machines built from `MachineConfig`, checked for their exact stop,
//! cycle count, registers and statistics. Every expected cycle count is derived by hand from
//! the rules of `docs/timing.md` (`cpu/src/timing.rs`) in a comment: fill 4, load-use 1, taken
//! branch predicted not taken 2, `jal` 1, `jalr` 2, `mul` 3 - 1, `div` 20 - 1, serialising
//! +4, trap 5 (plus the memory cycles before the fault, with no "- 1"), an L1 miss 1 + 100
//! DRAM cycles = a 100-cycle stall, a device register 10 cycles = a 9-cycle stall.
//!
//! Also: the host-speed decoded-instruction cache never changes a modelled number, over every
//! ELF under `programs/`.

use vmlab::machine::{EcallExit, Machine, MachineConfig, Stop};
use vmlab_cpu::csr::addr as csr;
use vmlab_cpu::isa::{encode, Insn, Op};
use vmlab_cpu::trap::{Exception, Trap};
use vmlab_cpu::vmcsr::addr as vm;

const RAM: u64 = 0x8000_0000;

// Register numbers.
const RA: u8 = 1;
const T0: u8 = 5;
const T1: u8 = 6;
const T2: u8 = 7;
const S0: u8 = 8;
const A0: u8 = 10;
const A1: u8 = 11;
const A2: u8 = 12;
const A3: u8 = 13;
const A4: u8 = 14;
const A5: u8 = 15;
const A7: u8 = 17;
const T3: u8 = 28;

fn i(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64) -> Insn {
    Insn::new(op, rd, rs1, rs2, imm)
}

fn addi(rd: u8, rs1: u8, imm: i64) -> Insn {
    i(Op::Addi, rd, rs1, 0, imm)
}

/// `csrrw`/`csrrs`... `rd, csr, rs1`.
fn csr_op(op: Op, rd: u8, c: u16, rs1: u8) -> Insn {
    Insn {
        csr: c,
        ..i(op, rd, rs1, 0, 0)
    }
}

fn csrw(c: u16, rs1: u8) -> Insn {
    csr_op(Op::Csrrw, 0, c, rs1)
}

fn csrr(rd: u8, c: u16) -> Insn {
    csr_op(Op::Csrrs, rd, c, 0)
}

fn op0(op: Op) -> Insn {
    i(op, 0, 0, 0, 0)
}

/// The bytes of `insns` (each a 4-byte word).
fn words(insns: &[Insn]) -> Vec<u8> {
    insns
        .iter()
        .flat_map(|x| {
            encode(x)
                .unwrap_or_else(|e| panic!("{x:?}: {e}"))
                .to_bytes()
        })
        .collect()
}

/// A machine with `cfg`, `code` at `RAM` and each `(address, insns)` of `more` written.
fn machine(cfg: MachineConfig, code: &[Insn], more: &[(u64, Vec<u8>)]) -> Machine {
    let mut m = Machine::new(cfg).expect("a valid machine");
    m.mem
        .ram_mut()
        .write_bytes(RAM, &words(code))
        .expect("code in RAM");
    for (a, bytes) in more {
        m.mem.ram_mut().write_bytes(*a, bytes).expect("in RAM");
    }
    m
}

fn stat(m: &Machine, name: &str) -> u64 {
    m.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no statistic {name}"))
        .1
}

/// One data-driven case: a program, a configuration change, and what must come out.
struct Case {
    name: &'static str,
    cfg: fn(&mut MachineConfig),
    code: Vec<Insn>,
    more: Vec<(u64, Vec<u8>)>,
    stop: Stop,
    /// The modelled cycles at the stop (None: not checked).
    cycles: Option<u64>,
    /// Instructions retired (None: not checked).
    instret: Option<u64>,
    /// Registers that must hold these values.
    regs: Vec<(u8, u64)>,
    /// Statistics that must hold these values.
    stats: Vec<(&'static str, u64)>,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            cfg: |_| {},
            code: vec![],
            more: vec![],
            stop: Stop::Ecall { code: 0 },
            cycles: None,
            instret: None,
            regs: vec![],
            stats: vec![],
        }
    }
}

fn check(case: Case) -> Machine {
    let mut cfg = MachineConfig::default();
    (case.cfg)(&mut cfg);
    let mut m = machine(cfg, &case.code, &case.more);
    let stop = m.run().clone();
    let name = case.name;
    assert_eq!(stop, case.stop, "{name}: stop");
    if let Some(c) = case.cycles {
        assert_eq!(m.now(), c, "{name}: cycles");
        assert_eq!(stat(&m, "cycles"), c, "{name}: the cycles statistic");
    }
    if let Some(n) = case.instret {
        assert_eq!(m.retired(), n, "{name}: instret");
    }
    for (r, v) in &case.regs {
        assert_eq!(m.hart.reg(*r), *v, "{name}: x{r}");
    }
    for (s, v) in &case.stats {
        assert_eq!(stat(&m, s), *v, "{name}: {s}");
    }
    m
}

/// `lui t1, 0x1000` (the HTIF `tohost` word at 0x0100_0000), then `sd code*2+1, 0(t1)`.
fn exit_tohost(code: i64) -> Vec<Insn> {
    vec![
        i(Op::Lui, T1, 0, 0, 0x1000),
        addi(T2, 0, code * 2 + 1),
        i(Op::Sd, 0, T1, T2, 0),
    ]
}

#[test]
fn exits() {
    check(Case {
        name: "ecall exit",
        // addi a0: 1 + fill 4 + fetch stall 100 (the first fetch misses L1I: 1 + 100) = 105
        // addi a7: 1 (the fetch buffer holds the line)
        // ecall: a trap, 5; a7 = 93 and mtvec = 0, so the run ends with a0
        // = 111
        code: vec![addi(A0, 0, 5), addi(A7, 0, 93), op0(Op::Ecall)],
        stop: Stop::Ecall { code: 5 },
        cycles: Some(111),
        instret: Some(2),
        stats: vec![
            ("pipeline.fill", 4),
            ("pipeline.stall.fetch", 100),
            ("pipeline.traps", 1),
            ("pipeline.trap_cycles", 5),
        ],
        ..Case::default()
    });
    check(Case {
        name: "tohost exit",
        // lui: 105 (as above); addi: 1; sd to the HTIF word: 1 + (10 - 1) = 10. = 116
        code: exit_tohost(3),
        stop: Stop::Tohost { code: 3 },
        cycles: Some(116),
        instret: Some(3),
        stats: vec![("pipeline.stall.data", 9)],
        ..Case::default()
    });
}

/// A program that installs a handler (which exits through `tohost` with code 2) when
/// `handler` is set, then makes the exit `ecall` with a0 = 1.
fn ecall_program(handler: bool) -> Vec<Insn> {
    let mut p = vec![
        i(Op::Auipc, T0, 0, 0, 0), // t0 = 0x8000_0000
        addi(T0, T0, 0x20),        // the handler
        if handler {
            csrw(csr::MTVEC, T0)
        } else {
            addi(0, 0, 0)
        },
        addi(A7, 0, 93),
        addi(A0, 0, 1),
        op0(Op::Ecall),  // 0x14
        op0(Op::Ebreak), // 0x18
        op0(Op::Ebreak), // 0x1c
    ];
    p.extend(exit_tohost(2)); // 0x20
    p
}

#[test]
fn ecall_exit_settings() {
    let double = Stop::DoubleFault {
        first: Trap::Exception(Exception::EcallFromM),
        first_epc: RAM + 0x14,
        second: Trap::Exception(Exception::InstructionAccessFault { addr: 0 }),
        handler: 0,
    };
    for (setting, handler, stop) in [
        (EcallExit::Unhandled, true, Stop::Tohost { code: 2 }),
        (EcallExit::Unhandled, false, Stop::Ecall { code: 1 }),
        (EcallExit::Always, true, Stop::Ecall { code: 1 }),
        (EcallExit::Always, false, Stop::Ecall { code: 1 }),
        (EcallExit::Never, true, Stop::Tohost { code: 2 }),
        (EcallExit::Never, false, double.clone()),
    ] {
        let mut cfg = MachineConfig::default();
        cfg.run.ecall_exit = setting;
        let mut m = machine(cfg, &ecall_program(handler), &[]);
        assert_eq!(
            m.run(),
            &stop,
            "ecall_exit = {setting:?}, handler {handler}"
        );
    }
}

#[test]
fn limits() {
    let spin = vec![i(Op::Jal, 0, 0, 0, 0)]; // j .
                                             // A jump to itself with no interrupt enabled is an infinite loop: the run stops there.
    check(Case {
        name: "spin",
        code: spin.clone(),
        stop: Stop::Spin { pc: RAM },
        instret: Some(1),
        ..Case::default()
    });
    // With the spin check off, the limits end it.
    check(Case {
        name: "max insns",
        cfg: |c| {
            c.run.max_insns = 10;
            c.run.stop_on_spin = false;
        },
        // the first jal: 1 + fill 4 + fetch stall 100 + jal 1 = 106; nine more at 1 + 1
        // (the fetch buffer holds the target): 106 + 18 = 124
        code: spin.clone(),
        stop: Stop::InsnLimit(10),
        cycles: Some(124),
        instret: Some(10),
        stats: vec![("pipeline.stall.control", 10)],
        ..Case::default()
    });
    check(Case {
        name: "max cycles",
        cfg: |c| {
            c.run.max_cycles = 200;
            c.run.stop_on_spin = false;
        },
        // after k jals the clock is 106 + 2 (k - 1); the check before each step stops at
        // the first clock >= 200: k = 48, clock 200 exactly
        code: spin,
        stop: Stop::CycleLimit(200),
        cycles: Some(200),
        instret: Some(48),
        ..Case::default()
    });
}

#[test]
fn double_fault_and_deadlock() {
    let m = check(Case {
        name: "double fault",
        // RAM holds zeros: the parcel 0x0000 is illegal. Trap 1: fill 4 + 5 + the fetch's
        // 101 memory cycles (no "- 1" for a trap) = 110; mtvec = 0, and fetching address 0
        // hits no device: trap 2 costs 5 (a bus error costs no cycles) = 115
        code: vec![],
        stop: Stop::DoubleFault {
            first: Trap::Exception(Exception::IllegalInstruction { insn: 0 }),
            first_epc: RAM,
            second: Trap::Exception(Exception::InstructionAccessFault { addr: 0 }),
            handler: 0,
        },
        cycles: Some(115),
        instret: Some(0),
        stats: vec![("pipeline.traps", 2), ("pipeline.trap_cycles", 115 - 4)],
        ..Case::default()
    });
    assert_eq!(m.stop_reason().unwrap().exit_code(), 125);
    let m = check(Case {
        name: "deadlock",
        // wfi with nothing enabled and no device event: it retires (fill 4 + 1 + fetch
        // stall 100 + serialise 4 = 109), then the run ends, as nothing can wake it
        code: vec![op0(Op::Wfi)],
        stop: Stop::Deadlock { pc: RAM + 4 },
        cycles: Some(109),
        instret: Some(1),
        ..Case::default()
    });
    assert_eq!(m.stop_reason().unwrap().exit_code(), 125);
    assert!(m.stop_reason().unwrap().to_string().contains("0x80000000"));
}

/// The timer program: mtimecmp = 50 ticks (cycle 500 with the default divider 10), MTIE on,
/// `wfi`, then read `time` and `mcycle` and exit with `time`.
fn timer_program() -> Vec<Insn> {
    vec![
        i(Op::Lui, T0, 0, 0, 0x2004), // 0x0200_4000: the CLINT's mtimecmp
        addi(T1, 0, 50),
        i(Op::Sd, 0, T0, T1, 0),
        addi(T2, 0, 128), // MTIE
        csrw(csr::MIE, T2),
        op0(Op::Wfi),
        csrr(A0, csr::TIME),
        csrr(A1, csr::MCYCLE),
        addi(A7, 0, 93),
        op0(Op::Ecall),
    ]
}

#[test]
fn wfi_wakes_on_the_timer() {
    let m = check(Case {
        name: "wfi + CLINT timer",
        // lui 105; addi 1 (106); sd mtimecmp: a device register, 1 + 9 = 10 (116); addi 1
        // (117); csrw mie: 1 + 4 = 5 (122); wfi: the refetch after the csrw hits L1I (1, no
        // stall), it retires and serialises, 1 + 4 = 5 (127); MTIP is not pending, so the
        // hart waits and the clock skips to the timer's event, cycle 50 x 10 = 500, counted
        // as wait cycles (373); MTIP wakes the hart (mstatus.MIE = 0: no trap, it just
        // continues after the wfi); csrr time: the refetch after the wfi hits L1I, reads
        // mtime = 500 / 10 = 50, 1 + 4 = 5 (505); csrr mcycle: reads 505, 5 (510); addi a7
        // (refetch after the csrr: an L1I hit, 1 cycle, no stall) 1 (511); ecall 5 = 516
        code: timer_program(),
        stop: Stop::Ecall { code: 50 },
        cycles: Some(516),
        // lui, addi, sd, addi, csrw, wfi, csrr, csrr, addi (the ecall traps)
        instret: Some(9),
        regs: vec![(A0, 50), (11, 505)],
        stats: vec![
            ("pipeline.wait_cycles", 373),
            // csrw mie, wfi, csrr time, csrr mcycle
            ("pipeline.stall.serialize", 16),
            // the first fetch misses; the refetches after csrw mie, wfi, csrr time and
            // csrr mcycle hit (the wfi empties the fetch buffer, as every serialising
            // instruction does)
            ("cache.l1i.misses.fetch", 1),
            ("cache.l1i.hits.fetch", 4),
            ("clint.timer_interrupts", 1),
        ],
        ..Case::default()
    });
    assert_eq!(m.retired(), m.hart.csrs.minstret);
}

/// `docs/timing.md`: "The `wfi` itself retires (and serialises)" — also when it goes on to
/// wait. The hart counts it in `minstret` once, in the step that executes it, and moves its
/// pc past it (it is not executed again on waking); the machine prices that step as any
/// retired `wfi` (its fetch, its own cycle, the serialising penalty, the fetch buffer
/// emptied) and adds the wait. Whatever ends the wait — an interrupt taken, the cycle
/// limit, nothing at all — the pipeline counts the `wfi` exactly once.
#[test]
fn wfi_retires_as_documented() {
    // Woken by an interrupt that is taken: the trap's epc is the instruction after the
    // wfi, which the handler reports as the exit code.
    let handler = 0x30;
    let m = check(Case {
        name: "wfi woken by a taken interrupt",
        cfg: |c| c.run.ecall_exit = EcallExit::Always,
        code: vec![
            i(Op::Lui, T0, 0, 0, 0x2004), // 0x00 mtimecmp: 1 + fill 4 + fetch 100 = 105
            addi(T1, 0, 50),              // 0x04 1                                  (106)
            i(Op::Sd, 0, T0, T1, 0),      // 0x08 a device register: 1 + 9 = 10     (116)
            i(Op::Auipc, T0, 0, 0, 0),    // 0x0c 1                                  (117)
            addi(T0, T0, handler - 0x0c), // 0x10 1                                  (118)
            csrw(csr::MTVEC, T0),         // 0x14 1 + 4 = 5                          (123)
            addi(T2, 0, 128),             // 0x18 refetch: an L1I hit, 1             (124)
            csrw(csr::MIE, T2),           // 0x1c 5                                  (129)
            Insn {
                csr: csr::MSTATUS,
                ..i(Op::Csrrsi, 0, 0, 0, 8) // 0x20 mstatus.MIE: refetch hit, 5   (134)
            },
            // 0x24 the wfi: refetch hit, 1 + 4 = 5 (139); waits to cycle 500 (361); the
            // step after the wait takes the interrupt: a trap, 5 (505), epc 0x28
            op0(Op::Wfi),
            op0(Op::Ebreak), // 0x28 never runs
            op0(Op::Ebreak), // 0x2c
            // 0x30 the handler: the refetch after the trap is an L1I hit; 1 + 4 = 5 (510)
            csrr(A0, csr::MEPC),
            i(Op::Andi, A0, A0, 0, 0xff), // 0x34 refetch after the csrr: 1           (511)
            addi(A7, 0, 93),              // 0x38 1                                  (512)
            op0(Op::Ecall),               // 0x3c 5                                  (517)
        ],
        stop: Stop::Ecall { code: 0x28 },
        cycles: Some(517),
        // 10 up to the wfi, which is one of them, and csrr, andi, addi in the handler
        instret: Some(13),
        stats: vec![
            ("pipeline.wait_cycles", 361),
            ("pipeline.traps", 2),
            ("pipeline.trap_cycles", 10),
            // csrw mtvec, csrw mie, csrsi mstatus, wfi, csrr mepc
            ("pipeline.stall.serialize", 20),
        ],
        ..Case::default()
    });
    assert_eq!(m.retired(), m.hart.csrs.minstret);

    // The cycle limit ends the wait: the wfi retires at 127 (as in
    // `wfi_wakes_on_the_timer`), and the wait is cut at the limit.
    let m = check(Case {
        name: "wfi cut by max_cycles",
        cfg: |c| c.run.max_cycles = 300,
        code: timer_program(),
        stop: Stop::CycleLimit(300),
        cycles: Some(300),
        instret: Some(6),
        stats: vec![("pipeline.wait_cycles", 300 - 127)],
        ..Case::default()
    });
    assert_eq!(m.retired(), m.hart.csrs.minstret);
    // A limit the wfi's own cost passes: no wait at all; the run stops after the wfi.
    let m = check(Case {
        name: "wfi past max_cycles",
        cfg: |c| c.run.max_cycles = 125,
        code: timer_program(),
        stop: Stop::CycleLimit(127),
        cycles: Some(127),
        instret: Some(6),
        stats: vec![("pipeline.wait_cycles", 0)],
        ..Case::default()
    });
    assert_eq!(m.retired(), m.hart.csrs.minstret);

    // Nothing can ever wake it: the wfi retires, then the run ends (fill 4 + 1 + fetch
    // stall 100 + serialise 4).
    let m = check(Case {
        name: "wfi with no wake event",
        code: vec![op0(Op::Wfi)],
        stop: Stop::Deadlock { pc: RAM + 4 },
        cycles: Some(109),
        instret: Some(1),
        stats: vec![
            ("pipeline.stall.fetch", 100),
            ("pipeline.stall.serialize", 4),
            ("pipeline.wait_cycles", 0),
        ],
        ..Case::default()
    });
    assert_eq!(m.retired(), m.hart.csrs.minstret);
}

#[test]
fn timing_rules() {
    check(Case {
        name: "timing rules",
        code: vec![
            i(Op::Auipc, A1, 0, 0, 1), // 0x00 a1 = 0x8000_1000: 1 + fill 4 + fetch 100 = 105
            i(Op::Ld, A2, A1, 0, 0),   // 0x04 L1D miss: 1 + (101 - 1) = 101           (206)
            addi(A3, A2, 1),           // 0x08 load-use: 1 + 1 = 2                         (208)
            i(Op::Mul, A4, A3, A3, 0), // 0x0c 1 + (3 - 1) = 3                             (211)
            i(Op::Div, A5, A4, A3, 0), // 0x10 1 + (20 - 1) = 20                           (231)
            i(Op::Beq, 0, 0, 0, 8),    // 0x14 taken, predicted not taken: 1 + 2 = 3       (234)
            op0(Op::Ebreak),           // 0x18 skipped
            i(Op::Jal, RA, 0, 0, 8),   // 0x1c 1 + 1 = 2; ra = 0x8000_0020                 (236)
            op0(Op::Ebreak),           // 0x20 skipped
            i(Op::Jalr, 0, RA, 0, 12), // 0x24 to 0x8000_002c: 1 + 2 = 3                   (239)
            op0(Op::Ebreak),           // 0x28 skipped
            csrr(S0, csr::MCYCLE),     // 0x2c reads 239 (the clock before it); 1 + 4 = 5  (244)
            i(Op::Ld, A3, A1, 0, 8),   // 0x30 refetch: L1I hit (1, no stall); L1D hit: 1 (245)
            i(Op::Bne, 0, 0, 0, 8),    // 0x34 not taken: 1                                (246)
            addi(A0, S0, 0),           // 0x38 1                                           (247)
            addi(A7, 0, 93),           // 0x3c 1                                           (248)
            op0(Op::Ecall),            // 0x40 a new L1I line: the fetch misses (101 cycles)
                                       //      before the trap: 5 + 101 = 106              (354)
        ],
        stop: Stop::Ecall { code: 239 },
        cycles: Some(354),
        instret: Some(13),
        regs: vec![(S0, 239), (A3, 0), (A4, 1), (A5, 1), (RA, RAM + 0x20)],
        stats: vec![
            ("pipeline.fill", 4),
            ("pipeline.stall.fetch", 100),
            ("pipeline.stall.data", 100),
            ("pipeline.stall.load_use", 1),
            // beq 2 + jal 1 + jalr 2
            ("pipeline.stall.control", 5),
            // mul 2 + div 19
            ("pipeline.stall.muldiv", 21),
            ("pipeline.stall.serialize", 4),
            ("pipeline.branches", 2),
            ("pipeline.branches.taken", 1),
            ("pipeline.trap_cycles", 106),
        ],
        ..Case::default()
    });
}

#[test]
fn time_reads_the_clint() {
    check(Case {
        name: "time = cycles / 10",
        // addi a7: 105; csrr time: the clock before it is 105, mtime = 105 / 10 = 10;
        // 1 + 4 = 5 (110); ecall: the refetch after the serialising csrr is an L1I hit, 1
        // memory cycle before the trap: 5 + 1 = 6 (116)
        code: vec![addi(A7, 0, 93), csrr(A0, csr::TIME), op0(Op::Ecall)],
        stop: Stop::Ecall { code: 10 },
        cycles: Some(116),
        ..Case::default()
    });
    check(Case {
        name: "a slower timer",
        cfg: |c| c.memory.clint.divider = 7,
        // as above: mtime = 105 / 7 = 15
        code: vec![addi(A7, 0, 93), csrr(A0, csr::TIME), op0(Op::Ecall)],
        stop: Stop::Ecall { code: 15 },
        cycles: Some(116),
        ..Case::default()
    });
}

/// Appends `auipc rd; addi rd` loading `target` (code at `RAM`, so the pc is known).
fn la(p: &mut Vec<Insn>, rd: u8, target: u64) {
    let pc = RAM + 4 * p.len() as u64;
    let off = target.wrapping_sub(pc) as i64;
    let hi = (off + 0x800) >> 12;
    p.push(i(Op::Auipc, rd, 0, 0, hi));
    p.push(addi(rd, rd, off - (hi << 12)));
}

/// M-mode code that loads the translation CSRs (`setup`), installs a handler that exits
/// with `mcause` through `tohost`, and `mret`s to U-mode at virtual address 0.
fn to_user(setup: &[Insn]) -> Vec<Insn> {
    let mut p = setup.to_vec();
    let handler = 0x100;
    let here = 4 * p.len() as i64;
    p.push(i(Op::Auipc, T0, 0, 0, 0));
    p.push(addi(T0, T0, handler - here));
    p.push(csrw(csr::MTVEC, T0));
    p.push(csrw(csr::MEPC, 0)); // U-mode starts at virtual address 0 (MPP = U at reset)
    p.push(op0(Op::Mret));
    while p.len() < handler as usize / 4 {
        p.push(op0(Op::Ebreak));
    }
    p.extend([
        csrr(A0, csr::MCAUSE),
        i(Op::Slli, A0, A0, 0, 1),
        i(Op::Ori, A0, A0, 0, 1),
        i(Op::Lui, T1, 0, 0, 0x1000),
        i(Op::Sd, 0, T1, A0, 0),
    ]);
    p
}

#[test]
fn base_and_bounds_from_guest_code() {
    let mut setup = vec![];
    la(&mut setup, T0, RAM + 0x2000);
    setup.extend([
        csrw(vm::VMBASE, T0),
        i(Op::Lui, T1, 0, 0, 1), // 0x1000
        csrw(vm::VMBOUNDS, T1),
        addi(T2, 0, 1),
        csrw(vm::VMMODE, T2), // base and bounds
    ]);
    let user = words(&[
        i(Op::Ld, A1, 0, 0, 0x7f8), // in bounds: PA 0x8000_27f8
        i(Op::Lui, A2, 0, 0, 1),    // 0x1000 = the bounds
        addi(A4, A2, -8),
        i(Op::Ld, A5, A4, 0, 0), // 0xff8: the last doubleword in bounds
        i(Op::Ld, A3, A2, 0, 0), // 0x1000: load access fault (cause 5)
        op0(Op::Ebreak),
    ]);
    let m = check(Case {
        name: "base and bounds",
        code: to_user(&setup),
        more: vec![
            (RAM + 0x2000, user),
            (RAM + 0x27f8, 0x1234u64.to_le_bytes().to_vec()),
            (RAM + 0x2ff8, 0x5678u64.to_le_bytes().to_vec()),
        ],
        stop: Stop::Tohost { code: 5 },
        regs: vec![(A1, 0x1234), (A5, 0x5678)],
        stats: vec![("mmu.faults.bounds", 1)],
        ..Case::default()
    });
    assert_eq!(m.hart.csrs.mtval, 0x1000);
    assert_eq!(m.hart.csrs.mepc, 0x10);
    assert_eq!(m.hart.csrs.vm.status, 0);
    assert_eq!(m.mmu.mode().name(), "base-bounds");
}

#[test]
fn segments_from_guest_code() {
    let r = vmlab_cpu::vmcsr::seg::R;
    let w = vmlab_cpu::vmcsr::seg::W;
    let x = vmlab_cpu::vmcsr::seg::X;
    let u = vmlab_cpu::vmcsr::seg::U;
    let p = vmlab_cpu::vmcsr::seg::PRESENT;
    let mut setup = vec![
        i(Op::Lui, T0, 0, 0, 1), // 0x1000 = 16 << 8: 16-bit addresses
        addi(T0, T0, 1),         // one selector bit: 2 segments
        csrw(vm::VMSEGCFG, T0),
        csrw(vm::VMSEGSEL, 0),
    ];
    la(&mut setup, T0, RAM + 0x2000); // segment 0: the user code
    setup.extend([
        csrw(vm::VMSEGBASE, T0),
        i(Op::Lui, T1, 0, 0, 1),
        csrw(vm::VMSEGLIMIT, T1),
        addi(T2, 0, (r | x | u | p) as i64),
        csrw(vm::VMSEGFLAGS, T2),
        addi(T0, 0, 1),
        csrw(vm::VMSEGSEL, T0),
    ]);
    la(&mut setup, T0, RAM + 0x3000); // segment 1: 0x100 bytes of data
    setup.extend([
        csrw(vm::VMSEGBASE, T0),
        addi(T1, 0, 0x100),
        csrw(vm::VMSEGLIMIT, T1),
        addi(T2, 0, (r | w | u | p) as i64),
        csrw(vm::VMSEGFLAGS, T2),
        addi(T2, 0, 2),
        csrw(vm::VMMODE, T2), // segments
    ]);
    let user = words(&[
        i(Op::Lui, A2, 0, 0, 8), // 0x8000: segment 1, offset 0
        addi(A1, 0, 42),
        i(Op::Sd, 0, A2, A1, 0xf8),  // offset 0xf8: the last doubleword
        i(Op::Sd, 0, A2, A1, 0x100), // offset 0x100: store access fault (cause 7)
        op0(Op::Ebreak),
    ]);
    let mut m = check(Case {
        name: "segments",
        code: to_user(&setup),
        more: vec![(RAM + 0x2000, user)],
        stop: Stop::Tohost { code: 7 },
        stats: vec![("mmu.faults.segment_limit", 1)],
        ..Case::default()
    });
    assert_eq!(m.hart.csrs.mtval, 0x8100);
    assert_eq!(m.mem.ram_mut().read(RAM + 0x30f8, 8).unwrap(), 42);
    assert_eq!(m.mmu.mode().name(), "segments");
}

#[test]
fn vmstatus_reports_refused_configurations() {
    let m = check(Case {
        name: "vmstatus",
        code: vec![
            addi(T0, 0, -16), // base 0xffff_ffff_ffff_fff0
            csrw(vm::VMBASE, T0),
            addi(T1, 0, 0x100),
            csrw(vm::VMBOUNDS, T1),
            addi(T2, 0, 1),
            csrw(vm::VMMODE, T2), // base + bounds wraps: refused
            csrr(A0, vm::VMSTATUS),
            csrr(A1, vm::VMMODE),
            addi(T3, 0, 7),
            csrw(vm::VMFORMAT, T3),
            addi(T2, 0, 3),
            csrw(vm::VMMODE, T2), // paging in format 7: no such format
            csrr(A2, vm::VMSTATUS),
            csrw(vm::VMFORMAT, 0), // Sv39: accepted
            csrr(A3, vm::VMSTATUS),
            addi(A7, 0, 93),
            op0(Op::Ecall),
        ],
        stop: Stop::Ecall { code: 0x201 },
        regs: vec![(A0, 0x201), (A1, 1), (A2, 0x101), (A3, 0)],
        ..Case::default()
    });
    assert_eq!(m.mmu.mode().name(), "sv39");
}

/// Every ELF under `programs/`.
fn elfs() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "elf") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs"),
        &mut v,
    );
    v.sort();
    v
}

#[test]
fn host_shortcuts_never_change_a_modelled_number() {
    // 2M instructions per program and setting take about a minute in a debug build;
    // MACHINE_ELF_INSNS chooses another limit.
    let limit = std::env::var("MACHINE_ELF_INSNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let mut ran = 0;
    for path in elfs() {
        let Ok(elf) = vmlab_cpu::elf::Elf::open(&path) else {
            continue;
        };
        let run = |shortcuts: bool| {
            let mut cfg = MachineConfig::default();
            cfg.run.max_insns = limit;
            cfg.host.decode_cache = shortcuts;
            cfg.host.fast_paths = shortcuts;
            let mut m = Machine::new(cfg).expect("the default machine");
            m.load(&elf).ok()?;
            let stop = m.run().clone();
            let out = m.take_output();
            Some((stop, m.stat_list(), m.hart.x, m.hart.pc, out))
        };
        let (Some(on), Some(off)) = (run(true), run(false)) else {
            continue;
        };
        let p = path.display();
        assert_eq!(on.0, off.0, "{p}: stop");
        assert_eq!(on.1, off.1, "{p}: statistics");
        assert_eq!(on.2, off.2, "{p}: registers");
        assert_eq!(on.3, off.3, "{p}: pc");
        assert_eq!(on.4, off.4, "{p}: output");
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} programs ran");
}

/// The translation epoch (`src/machine/epoch.rs`) advances on each change that can alter a
/// cached translation — a translation CSR load, `sfence.vma`, a privilege change — and on
/// nothing else: not on the TLB fills of a walk.
#[test]
fn translation_epoch_counts_translation_changes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/asm/sv39.elf");
    let elf = vmlab_cpu::elf::Elf::open(&path).expect("the example loads");
    let mut m = Machine::new(MachineConfig::default()).expect("the default machine");
    m.load(&elf).expect("load");
    assert_eq!(m.translation_epoch(), 0);
    assert_eq!(m.run().exit_code(), 0);
    // csrw satp (1), mret to S-mode (2), the exit ecall back to M-mode (3); the two walks
    // (the iTLB and dTLB fills) and the stores that built the page tables count nothing
    assert_eq!(m.translation_epoch(), 3);
    assert_eq!(stat(&m, "mmu.walker.walks"), 2);
}

/// The fetch buffer holds its block only in the translation epoch it was translated in: the
/// kernel's `sfence.vma` or translation CSR write (through `Hw`, between steps, with no
/// pipeline flush of its own) makes the next fetch an access again; a write to another CSR
/// does not.
#[test]
fn a_new_translation_epoch_empties_the_fetch_buffer() {
    use vmlab_os::Hw;
    let code: Vec<Insn> = (0..6).map(|_| addi(A0, A0, 1)).collect();
    let mut m = machine(MachineConfig::default(), &code, &[]);
    let fetches = |m: &Machine| stat(m, "memory.accesses.fetch");
    // the first fetch misses L1I: 1 + fill 4 + 100; the block is buffered
    assert_eq!(m.step().expect("a step").cycles, 105);
    assert_eq!(fetches(&m), 1);
    // from the buffer
    assert_eq!(m.step().expect("a step").cycles, 1);
    assert_eq!(fetches(&m), 1);

    Hw::sfence(&mut m, vmlab_mmu::Flush::All);
    assert_eq!(m.translation_epoch(), 1);
    // refetched: an L1I hit, 1 cycle, no stall
    assert_eq!(m.step().expect("a step").cycles, 1);
    assert_eq!(fetches(&m), 2);

    // satp written with the mode it already has: still a translation CSR load
    Hw::write_csr(&mut m, csr::SATP, 0).expect("bare satp");
    assert_eq!(m.translation_epoch(), 2);
    m.step();
    assert_eq!(fetches(&m), 3);

    // not a translation CSR: the buffer keeps its block
    Hw::write_csr(&mut m, csr::MSCRATCH, 7).expect("mscratch");
    assert_eq!(m.translation_epoch(), 2);
    m.step();
    assert_eq!(fetches(&m), 3);
}

/// `cpu.isa` narrows the hart: without F and D an FP instruction is illegal even with
/// `mstatus.FS` set, and `misa` lacks F and D; a bad string is a clear configuration error.
#[test]
fn cpu_isa_narrows_the_hart() {
    // mstatus.FS = Initial (1 << 13), then read misa and try fadd.d.
    let code = vec![
        addi(5, 0, 1),
        i(Op::Slli, 5, 5, 0, 13),
        csr_op(Op::Csrrs, 0, csr::MSTATUS, 5),
        csrr(6, csr::MISA),
        Insn {
            rm: 7,
            ..i(Op::FAddD, 1, 2, 3, 0)
        },
    ];
    for (isa, fd) in [("rv64imafdc", true), ("rv64imac", false), ("rv64gc", true)] {
        let mut cfg = MachineConfig::default();
        cfg.cpu.isa = isa.into();
        let mut m = machine(cfg, &code, &[]);
        for _ in 0..5 {
            m.step().expect("a step");
        }
        assert_eq!(
            m.hart.x[6] & 0x28 != 0,
            fd,
            "{isa}: misa {:#x}",
            m.hart.x[6]
        );
        if fd {
            assert_eq!(m.hart.pc, RAM + 20, "{isa}: fadd.d retired");
        } else {
            assert_eq!(m.hart.csrs.mcause, 2, "{isa}: illegal instruction");
        }
    }
    let mut cfg = MachineConfig::default();
    cfg.cpu.isa = "rv64imadc".into();
    let Err(e) = Machine::new(cfg) else {
        panic!("rv64imadc accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("cpu.isa") && e.contains("\"d\" without \"f\""),
        "{e}"
    );
}
