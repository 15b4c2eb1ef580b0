//! CSR WARL behaviour, access rules, trap entry and return, interrupts, MPRV context.

use vmlab_cpu::csr::{
    addr::*, irq, mstatus as ms, CsrError, CsrOp, Csrs, SatpMode, MISA as MISA_VALUE,
};
use vmlab_cpu::trap::{
    check_sfence_vma, check_wfi, exception_from_fault, mret, pending_interrupt, sfence_flush, sret,
    take_trap, Exception, Interrupt, Trap, INTERRUPT_BIT,
};
use vmlab_mmu::{AccessKind, Fault, Flush, PageFaultReason, Privilege};

const M: Privilege = Privilege::Machine;
const S: Privilege = Privilege::Supervisor;
const U: Privilege = Privilege::User;

/// Write `value` to `csr` from M-mode on a fresh hart (with `setup` applied), read `csr`
/// back and compare with `expect`.
fn check(table: &[(&str, u16, u64, u64)], setup: impl Fn(&mut Csrs)) {
    for &(name, csr, value, expect) in table {
        let mut c = Csrs::new(0);
        setup(&mut c);
        c.write(csr, M, value)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = c.read(csr, M).unwrap();
        assert_eq!(got, expect, "{name}: wrote {value:#x}, read {got:#x}");
    }
}

#[test]
fn warl_every_csr() {
    let xl = ms::XL64;
    check(
        &[
            // FS is writable (F is present) and Dirty then, so SD reads 1.
            ("mstatus all ones", MSTATUS, !0, xl | 0x7e_79aa | ms::SD),
            ("mstatus zero", MSTATUS, 0, xl),
            ("mstatus MPP=S", MSTATUS, 1 << 11, xl | 1 << 11),
            ("mstatus MPP=2 -> U", MSTATUS, 2 << 11, xl),
            ("mstatus MPP=M", MSTATUS, 3 << 11, xl | 3 << 11),
            (
                "mstatus VS/XS/SD ro, FS Dirty sets SD",
                MSTATUS,
                ms::FS | ms::VS | ms::XS | ms::SD,
                xl | ms::FS | ms::SD,
            ),
            ("mstatus FS Clean", MSTATUS, ms::FS_CLEAN, xl | ms::FS_CLEAN),
            (
                "mstatus FS Initial",
                MSTATUS,
                ms::FS_INITIAL,
                xl | ms::FS_INITIAL,
            ),
            ("mstatus UXL/SXL ro", MSTATUS, 0, xl),
            ("mstatus BE ro", MSTATUS, ms::UBE | ms::SBE | ms::MBE, xl),
            (
                "sstatus all ones",
                SSTATUS,
                !0,
                (2 << 32) | 0xc_6122 | ms::SD,
            ),
            ("misa ro", MISA, 0, MISA_VALUE),
            ("mtvec direct", MTVEC, 0x8000_0100, 0x8000_0100),
            ("mtvec vectored", MTVEC, 0x8000_0101, 0x8000_0101),
            ("mtvec mode 2 -> 0", MTVEC, 0x8000_0102, 0x8000_0100),
            ("mtvec mode 3 -> 1", MTVEC, 0x8000_0103, 0x8000_0101),
            (
                "stvec mode 3 -> 1",
                STVEC,
                0xffff_ffff_ffff_ffff,
                0xffff_ffff_ffff_fffd,
            ),
            ("medeleg", MEDELEG, !0, 0xb3ff),
            ("medeleg bit 11 ro", MEDELEG, 1 << 11, 0),
            ("mideleg", MIDELEG, !0, 0x222),
            ("mie", MIE, !0, 0xaaa),
            ("mip sw bits", MIP, !0, 0x222),
            ("mepc low bit", MEPC, 0x1235, 0x1234),
            (
                "sepc low bit",
                SEPC,
                0xffff_ffff_ffff_ffff,
                0xffff_ffff_ffff_fffe,
            ),
            ("mepc bit 1 kept (IALIGN=16)", MEPC, 0x1236, 0x1236),
            ("mcause", MCAUSE, INTERRUPT_BIT | 7, INTERRUPT_BIT | 7),
            ("scause", SCAUSE, 13, 13),
            ("mtval", MTVAL, !0, !0),
            ("stval", STVAL, 0x1234, 0x1234),
            ("mscratch", MSCRATCH, !0, !0),
            ("sscratch", SSCRATCH, 0x55, 0x55),
            (
                "satp sv39",
                SATP,
                8 << 60 | 0xabcd << 44 | 0x8_0000,
                8 << 60 | 0xabcd << 44 | 0x8_0000,
            ),
            ("satp sv48", SATP, 9 << 60 | 1, 9 << 60 | 1),
            ("satp sv57", SATP, 10 << 60 | 1, 10 << 60 | 1),
            ("satp bare", SATP, 0, 0),
            ("satp mode 1 ignored", SATP, 1 << 60 | 5, 0),
            ("satp mode 11 ignored", SATP, 11 << 60 | 5, 0),
            (
                "satp asid 16 bits",
                SATP,
                8 << 60 | 0xffff << 44,
                8 << 60 | 0xffff << 44,
            ),
            ("mcounteren", MCOUNTEREN, !0, 0xffff_ffff),
            ("scounteren", SCOUNTEREN, !0, 0xffff_ffff),
            ("mcountinhibit", MCOUNTINHIBIT, !0, 0b101),
            ("menvcfg", MENVCFG, !0, 1),
            ("senvcfg", SENVCFG, !0, 1),
            ("mcycle", MCYCLE, 12345, 12345),
            ("minstret", MINSTRET, 777, 777),
            ("mhpmcounter3 zero", MHPMCOUNTER3, 5, 0),
            ("mhpmevent31 zero", MHPMEVENT31, 5, 0),
        ],
        |_| {},
    );
    // A rejected satp MODE leaves the previous value untouched.
    let mut c = Csrs::new(0);
    c.write(SATP, M, 9 << 60 | 42).unwrap();
    c.write(SATP, M, 3 << 60 | 7).unwrap();
    assert_eq!(c.read(SATP, M), Ok(9 << 60 | 42));
    assert_eq!(c.satp_mode(), SatpMode::Sv48);
    assert_eq!(c.satp_root(), 42 << 12);
    // Read-only identification registers.
    let c = Csrs::new(3);
    for (a, v) in [
        (MVENDORID, 0),
        (MARCHID, 0),
        (MIMPID, 0),
        (MHARTID, 3),
        (MCONFIGPTR, 0),
    ] {
        assert_eq!(c.read(a, M), Ok(v), "{a:#x}");
    }
}

#[test]
fn supervisor_views() {
    // sstatus writes touch only SIE, SPIE, SPP, SUM, MXR.
    let mut c = Csrs::new(0);
    c.write(MSTATUS, M, ms::MIE | ms::MPIE | 3 << 11 | ms::TVM)
        .unwrap();
    c.write(SSTATUS, M, 0).unwrap();
    assert_eq!(
        c.read(MSTATUS, M),
        Ok(ms::XL64 | ms::MIE | ms::MPIE | 3 << 11 | ms::TVM)
    );
    c.write(SSTATUS, S, ms::SIE | ms::SUM | ms::MXR | ms::MIE)
        .unwrap();
    assert_eq!(
        c.read(SSTATUS, S),
        Ok(2 << 32 | ms::SIE | ms::SUM | ms::MXR)
    );

    // sie/sip masked by mideleg.
    check(
        &[
            ("sie undelegated", SIE, !0, 0),
            ("sip undelegated", SIP, !0, 0),
        ],
        |_| {},
    );
    check(
        &[
            ("sie delegated", SIE, !0, irq::S_MASK),
            ("sip ssip only", SIP, !0, irq::SSI),
        ],
        |c| c.mideleg = irq::S_MASK,
    );
    check(&[("sie only STI delegated", SIE, !0, irq::STI)], |c| {
        c.mideleg = irq::STI
    });
    // sie writes leave undelegated mie bits alone.
    let mut c = Csrs::new(0);
    c.mideleg = irq::SSI;
    c.mie = irq::MTI | irq::STI;
    c.write(SIE, S, irq::SSI).unwrap();
    assert_eq!(c.mie, irq::MTI | irq::STI | irq::SSI);
    // sip shows delegated lines; device lines are not writable.
    c.mideleg = irq::S_MASK;
    c.set_line(irq::SEI | irq::MTI, true);
    assert_eq!(c.read(SIP, S), Ok(irq::SEI));
    assert_eq!(c.read(MIP, M), Ok(irq::SEI | irq::MTI));
    c.write(MIP, M, 0).unwrap();
    assert_eq!(c.read(MIP, M), Ok(irq::SEI | irq::MTI));
    // csrrs on mip sets the software SEIP bit from its own value, not the line's.
    c.op(MIP, M, CsrOp::Set, irq::SSI, true).unwrap();
    assert_eq!(c.mip_sw, irq::SSI);
    c.set_line(irq::SEI, false);
    assert_eq!(c.read(MIP, M), Ok(irq::SSI | irq::MTI));
}

#[test]
fn access_rules() {
    use CsrError::{CounterDisabled, FpOff, ReadOnly, TrappedByTvm, Unimplemented};
    type Row = (
        &'static str,
        u16,
        Privilege,
        bool,
        fn(&mut Csrs),
        Result<(), CsrError>,
    );
    let none: fn(&mut Csrs) = |_| {};
    let tvm: fn(&mut Csrs) = |c| c.mstatus |= ms::TVM;
    let men: fn(&mut Csrs) = |c| c.mcounteren = 0b111;
    let both: fn(&mut Csrs) = |c| {
        c.mcounteren = 0b111;
        c.scounteren = 0b101;
    };
    let table: &[Row] = &[
        ("mstatus from M", MSTATUS, M, true, none, Ok(())),
        (
            "mstatus from S",
            MSTATUS,
            S,
            false,
            none,
            Err(CsrError::Privilege {
                addr: MSTATUS,
                required: M,
            }),
        ),
        ("sstatus from S", SSTATUS, S, true, none, Ok(())),
        (
            "sstatus from U",
            SSTATUS,
            U,
            false,
            none,
            Err(CsrError::Privilege {
                addr: SSTATUS,
                required: S,
            }),
        ),
        ("mhartid read", MHARTID, M, false, none, Ok(())),
        (
            "mhartid write",
            MHARTID,
            M,
            true,
            none,
            Err(ReadOnly(MHARTID)),
        ),
        (
            "cycle write from M",
            CYCLE,
            M,
            true,
            none,
            Err(ReadOnly(CYCLE)),
        ),
        (
            "unimplemented 0x7c0",
            0x7c0,
            M,
            false,
            none,
            Err(Unimplemented(0x7c0)),
        ),
        (
            "custom S 0x5e0 (past vmlab's translation CSRs)",
            0x5e0,
            M,
            false,
            none,
            Err(Unimplemented(0x5e0)),
        ),
        (
            "vmmode from U",
            0x5c0,
            U,
            false,
            none,
            Err(CsrError::Privilege {
                addr: 0x5c0,
                required: S,
            }),
        ),
        (
            "vmstatus is read-only",
            0xdc0,
            S,
            true,
            none,
            Err(ReadOnly(0xdc0)),
        ),
        (
            "pmpcfg1 does not exist on RV64",
            0x3a1,
            M,
            false,
            none,
            Err(Unimplemented(0x3a1)),
        ),
        ("fcsr (FS = Off)", 0x003, M, false, none, Err(FpOff(0x003))),
        (
            "mstatush (RV32 only)",
            0x310,
            M,
            false,
            none,
            Err(Unimplemented(0x310)),
        ),
        (
            "utvec (no N)",
            0x005,
            M,
            false,
            none,
            Err(Unimplemented(0x005)),
        ),
        ("satp from S", SATP, S, true, none, Ok(())),
        ("satp from S, TVM", SATP, S, false, tvm, Err(TrappedByTvm)),
        ("satp from M, TVM", SATP, M, true, tvm, Ok(())),
        ("cycle from M", CYCLE, M, false, none, Ok(())),
        (
            "cycle from S, off",
            CYCLE,
            S,
            false,
            none,
            Err(CounterDisabled(CYCLE)),
        ),
        ("cycle from S, on", CYCLE, S, false, men, Ok(())),
        (
            "cycle from U, only m",
            CYCLE,
            U,
            false,
            men,
            Err(CounterDisabled(CYCLE)),
        ),
        ("cycle from U, both", CYCLE, U, false, both, Ok(())),
        (
            "time from U, s off",
            TIME,
            U,
            false,
            both,
            Err(CounterDisabled(TIME)),
        ),
        ("time from S", TIME, S, false, both, Ok(())),
        ("instret from U", INSTRET, U, false, both, Ok(())),
        (
            "hpmcounter3 from S",
            HPMCOUNTER3,
            S,
            false,
            men,
            Err(CounterDisabled(HPMCOUNTER3)),
        ),
        (
            "mcycle from S",
            MCYCLE,
            S,
            false,
            men,
            Err(CsrError::Privilege {
                addr: MCYCLE,
                required: M,
            }),
        ),
    ];
    for (name, a, p, write, setup, expect) in table {
        let mut c = Csrs::new(0);
        setup(&mut c);
        let got = if *write {
            c.write(*a, *p, 0).map(|_| ())
        } else {
            c.read(*a, *p).map(|_| ())
        };
        assert_eq!(got, *expect, "{name}");
    }
    // The floating-point CSRs: illegal with FS = Off, absent without F, and a write sets
    // FS = Dirty (and so SD).
    let mut c = Csrs::new(0);
    assert_eq!(c.read(FFLAGS, U), Err(FpOff(FFLAGS)));
    c.set_fs_state(vmlab_cpu::csr::FsState::Initial);
    assert_eq!(c.read(FCSR, U), Ok(0));
    assert_eq!(c.write(FRM, U, 0xff), Ok(0));
    assert_eq!(c.read(FCSR, U), Ok(0xe0));
    assert_eq!(c.write(FFLAGS, U, 0x3f), Ok(0));
    assert_eq!(c.read(FCSR, U), Ok(0xff));
    assert_eq!(c.write(FCSR, U, 0x1ff), Ok(0xff));
    assert_eq!(c.read(FCSR, U), Ok(0xff));
    assert_eq!(c.read(FRM, U), Ok(7));
    assert_eq!(c.fs_state(), vmlab_cpu::csr::FsState::Dirty);
    assert_eq!(c.read(MSTATUS, M).map(|v| v & ms::SD != 0), Ok(true));
    assert_eq!(
        c.read(SSTATUS, S).map(|v| v & (ms::SD | ms::FS)),
        Ok(ms::SD | ms::FS)
    );
    let mut narrow = Csrs::new(0);
    narrow.set_misa(MISA_VALUE & !((1 << 3) | (1 << 5)));
    assert_eq!(narrow.read(FCSR, M), Err(Unimplemented(FCSR)));
    assert_eq!(narrow.write(MSTATUS, M, ms::FS), Ok(ms::XL64));
    assert_eq!(narrow.read(MSTATUS, M), Ok(ms::XL64));
    assert_eq!(narrow.read(MISA, M), Ok(MISA_VALUE & !0x28));
    // csrrs/csrrc with rs1 = x0 do not write: allowed on read-only CSRs.
    let mut c = Csrs::new(7);
    assert_eq!(c.op(MHARTID, M, CsrOp::Set, 0, false), Ok(7));
    assert_eq!(
        c.op(MHARTID, M, CsrOp::Set, 1, true),
        Err(ReadOnly(MHARTID))
    );
    assert_eq!(c.op(MSCRATCH, M, CsrOp::Write, 0xf0, true), Ok(0));
    assert_eq!(c.op(MSCRATCH, M, CsrOp::Set, 0x0f, true), Ok(0xf0));
    assert_eq!(c.op(MSCRATCH, M, CsrOp::Clear, 0x11, true), Ok(0xff));
    assert_eq!(c.mscratch, 0xee);
    // The error becomes an illegal instruction with the instruction bits.
    assert_eq!(
        ReadOnly(MHARTID).exception(0xf1401073),
        Exception::IllegalInstruction { insn: 0xf1401073 }
    );
    // TVM also traps sfence.vma in S; U never may.
    let mut c = Csrs::new(0);
    assert!(check_sfence_vma(&c, S, 0x1200_0073).is_ok());
    assert!(check_sfence_vma(&c, U, 0x1200_0073).is_err());
    c.mstatus |= ms::TVM;
    assert_eq!(
        check_sfence_vma(&c, S, 0x1200_0073),
        Err(Exception::IllegalInstruction { insn: 0x1200_0073 })
    );
    assert!(check_sfence_vma(&c, M, 0x1200_0073).is_ok());
    // wfi: TW traps it in S; U always traps.
    assert!(check_wfi(&c, S).is_ok());
    assert!(check_wfi(&c, U).is_err());
    c.mstatus |= ms::TW;
    assert!(check_wfi(&c, S).is_err());
    assert!(check_wfi(&c, M).is_ok());
}

fn all_exceptions() -> Vec<Exception> {
    vec![
        Exception::InstructionAddressMisaligned { addr: 0x1002 },
        Exception::InstructionAccessFault { addr: 0x1004 },
        Exception::IllegalInstruction { insn: 0xffff_ffff },
        Exception::Breakpoint { addr: 0x1008 },
        Exception::LoadAddressMisaligned { addr: 0x2001 },
        Exception::LoadAccessFault { addr: 0x2008 },
        Exception::StoreAddressMisaligned { addr: 0x3003 },
        Exception::StoreAccessFault { addr: 0x3008 },
        Exception::EcallFromU,
        Exception::EcallFromS,
        Exception::EcallFromM,
        Exception::InstructionPageFault { addr: 0x4000 },
        Exception::LoadPageFault { addr: 0x5000 },
        Exception::StorePageFault { addr: 0x6000 },
    ]
}

#[test]
fn cause_codes_and_tval() {
    let codes: Vec<u64> = all_exceptions().iter().map(|e| e.code()).collect();
    assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15]);
    let tvals: Vec<u64> = all_exceptions().iter().map(|e| e.tval()).collect();
    assert_eq!(
        tvals,
        [
            0x1002,
            0x1004,
            0xffff_ffff,
            0x1008,
            0x2001,
            0x2008,
            0x3003,
            0x3008,
            0,
            0,
            0,
            0x4000,
            0x5000,
            0x6000
        ]
    );
    let irqs: Vec<u64> = Interrupt::PRIORITY
        .iter()
        .map(|i| Trap::from(*i).cause())
        .collect();
    assert_eq!(irqs, [11, 3, 7, 9, 1, 5].map(|c| INTERRUPT_BIT | c));
    assert_eq!(Trap::from(Interrupt::MachineTimer).tval(), 0);
    assert_eq!(Exception::ecall(S), Exception::EcallFromS);
}

#[test]
fn delegation_of_every_exception() {
    for e in all_exceptions() {
        for from in [U, S, M] {
            for delegated in [false, true] {
                let mut c = Csrs::new(0);
                c.write(MEDELEG, M, if delegated { !0 } else { 0 }).unwrap();
                c.mtvec = 0x100;
                c.stvec = 0x200;
                let (p, pc) = take_trap(&mut c, from, 0x8000_0000, e);
                // ecall from M can never be delegated (medeleg[11] is read-only zero), and
                // nothing delegates out of M.
                let to_s = delegated && from != M && e.code() != 11;
                let what = format!("{e:?} from {from} delegated={delegated}");
                if to_s {
                    assert_eq!((p, pc), (S, 0x200), "{what}");
                    assert_eq!(
                        (c.scause, c.stval, c.sepc),
                        (e.code(), e.tval(), 0x8000_0000)
                    );
                    assert_eq!((c.mcause, c.mepc), (0, 0), "{what}");
                } else {
                    assert_eq!((p, pc), (M, 0x100), "{what}");
                    assert_eq!(
                        (c.mcause, c.mtval, c.mepc),
                        (e.code(), e.tval(), 0x8000_0000)
                    );
                    assert_eq!(c.scause, 0, "{what}");
                }
            }
        }
    }
}

#[test]
fn trap_entry_state() {
    // (name, cur, mstatus before, medeleg, mideleg, trap, new priv, mstatus after, pc)
    type Row = (
        &'static str,
        Privilege,
        u64,
        u64,
        u64,
        Trap,
        Privilege,
        u64,
        u64,
    );
    let xl = ms::XL64;
    let ill = Trap::from(Exception::IllegalInstruction { insn: 0x13 });
    let mti = Trap::from(Interrupt::MachineTimer);
    let sti = Trap::from(Interrupt::SupervisorTimer);
    let table: &[Row] = &[
        (
            "M->M, MIE=1",
            M,
            xl | ms::MIE,
            0,
            0,
            ill,
            M,
            xl | ms::MPIE | 3 << 11,
            0x100,
        ),
        (
            "M->M, MIE=0 clears MPIE",
            M,
            xl | ms::MPIE,
            0,
            0,
            ill,
            M,
            xl | 3 << 11,
            0x100,
        ),
        (
            "S->M",
            S,
            xl | ms::SIE | ms::MIE,
            0,
            0,
            ill,
            M,
            xl | ms::SIE | ms::MPIE | 1 << 11,
            0x100,
        ),
        ("U->M", U, xl | 3 << 11, 0, 0, ill, M, xl, 0x100),
        (
            "U->S",
            U,
            xl | ms::SIE | ms::SPP,
            4,
            0,
            ill,
            S,
            xl | ms::SPIE,
            0x200,
        ),
        (
            "S->S",
            S,
            xl | ms::MIE,
            4,
            0,
            ill,
            S,
            xl | ms::MIE | ms::SPP,
            0x200,
        ),
        (
            "M stays M though delegated",
            M,
            xl,
            4,
            0,
            ill,
            M,
            xl | 3 << 11,
            0x100,
        ),
        ("MTI vectored", U, xl, 0, 0, mti, M, xl, 0x100 + 4 * 7),
        (
            "STI to M vectored",
            S,
            xl,
            0,
            0,
            sti,
            M,
            xl | 1 << 11,
            0x100 + 4 * 5,
        ),
        (
            "STI delegated vectored",
            U,
            xl,
            0,
            irq::STI,
            sti,
            S,
            xl,
            0x200 + 4 * 5,
        ),
    ];
    for &(name, cur, before, medeleg, mideleg, trap, np, after, npc) in table {
        let mut c = Csrs::new(0);
        c.mstatus = before;
        c.medeleg = medeleg;
        c.mideleg = mideleg;
        c.write(MTVEC, M, 0x101).unwrap(); // vectored
        c.write(STVEC, M, 0x201).unwrap(); // vectored
        let (p, pc) = take_trap(&mut c, cur, 0x4000, trap);
        assert_eq!((p, pc), (np, npc), "{name}");
        assert_eq!(c.mstatus, after, "{name}: mstatus {:#x}", c.mstatus);
        let (cause, tval, epc) = if p == M {
            (c.mcause, c.mtval, c.mepc)
        } else {
            (c.scause, c.stval, c.sepc)
        };
        assert_eq!(
            (cause, tval, epc),
            (trap.cause(), trap.tval(), 0x4000),
            "{name}"
        );
    }
    // Direct mode: interrupts go to BASE too.
    let mut c = Csrs::new(0);
    c.write(MTVEC, M, 0x100).unwrap();
    assert_eq!(
        take_trap(&mut c, U, 0x10, Interrupt::MachineExternal),
        (M, 0x100)
    );
    assert_eq!(c.mcause, INTERRUPT_BIT | 11);
}

#[test]
fn xret() {
    let xl = ms::XL64;
    // (name, mstatus before, new priv, mstatus after)
    let mret_table: &[(&str, u64, Privilege, u64)] = &[
        (
            "to M keeps MPRV",
            xl | 3 << 11 | ms::MPRV | ms::MPIE,
            M,
            xl | ms::MIE | ms::MPIE | ms::MPRV,
        ),
        (
            "to S clears MPRV",
            xl | 1 << 11 | ms::MPRV,
            S,
            xl | ms::MPIE,
        ),
        ("to U", xl | ms::MPIE | ms::MIE, U, xl | ms::MIE | ms::MPIE),
        ("MPIE=0 -> MIE=0", xl | ms::MIE | 1 << 11, S, xl | ms::MPIE),
    ];
    for &(name, before, np, after) in mret_table {
        let mut c = Csrs::new(0);
        c.mstatus = before;
        c.mepc = 0x1234;
        assert_eq!(mret(&mut c, M), Ok((np, 0x1234)), "{name}");
        assert_eq!(c.mstatus, after, "{name}: {:#x}", c.mstatus);
    }
    let sret_table: &[(&str, Privilege, u64, Privilege, u64)] = &[
        ("S to U", S, xl | ms::SPIE, U, xl | ms::SIE | ms::SPIE),
        ("S to S", S, xl | ms::SPP | ms::SIE, S, xl | ms::SPIE),
        (
            "M to S clears MPRV",
            M,
            xl | ms::SPP | ms::MPRV,
            S,
            xl | ms::SPIE,
        ),
    ];
    for &(name, cur, before, np, after) in sret_table {
        let mut c = Csrs::new(0);
        c.mstatus = before;
        c.sepc = 0x5678;
        assert_eq!(sret(&mut c, cur), Ok((np, 0x5678)), "{name}");
        assert_eq!(c.mstatus, after, "{name}: {:#x}", c.mstatus);
    }
    let mut c = Csrs::new(0);
    let ill = |bits| Err(Exception::IllegalInstruction { insn: bits });
    assert_eq!(mret(&mut c, S), ill(0x3020_0073));
    assert_eq!(mret(&mut c, U), ill(0x3020_0073));
    assert_eq!(sret(&mut c, U), ill(0x1020_0073));
    c.mstatus |= ms::TSR;
    assert_eq!(sret(&mut c, S), ill(0x1020_0073));
    assert!(sret(&mut c, M).is_ok());
    // Round trip: trap from U to S and back.
    let mut c = Csrs::new(0);
    c.medeleg = 1 << 8;
    c.stvec = 0x300;
    c.mstatus |= ms::SIE;
    let (p, pc) = take_trap(&mut c, U, 0x40, Exception::EcallFromU);
    assert_eq!((p, pc), (S, 0x300));
    c.sepc += 4;
    assert_eq!(sret(&mut c, p), Ok((U, 0x44)));
    assert_eq!(
        c.mstatus & (ms::SIE | ms::SPIE | ms::SPP),
        ms::SIE | ms::SPIE
    );
}

#[test]
fn interrupt_priority_and_enables() {
    use Interrupt::*;
    // (name, cur, mstatus, mie, lines+sw pending, mideleg, expected)
    type Row = (
        &'static str,
        Privilege,
        u64,
        u64,
        u64,
        u64,
        Option<Interrupt>,
    );
    let all = irq::ALL;
    let table: &[Row] = &[
        ("nothing pending", M, ms::MIE, all, 0, 0, None),
        ("pending but not enabled", M, ms::MIE, 0, all, 0, None),
        ("M, MIE=0", M, 0, all, all, 0, None),
        (
            "M, MIE=1: MEI first",
            M,
            ms::MIE,
            all,
            all,
            0,
            Some(MachineExternal),
        ),
        (
            "MSI over MTI",
            M,
            ms::MIE,
            all,
            irq::MSI | irq::MTI | irq::SEI,
            0,
            Some(MachineSoftware),
        ),
        (
            "MTI over SEI",
            M,
            ms::MIE,
            all,
            irq::MTI | irq::SEI,
            0,
            Some(MachineTimer),
        ),
        (
            "SEI over SSI",
            M,
            ms::MIE,
            all,
            irq::SSI | irq::SEI | irq::STI,
            0,
            Some(SupervisorExternal),
        ),
        (
            "SSI over STI",
            M,
            ms::MIE,
            all,
            irq::SSI | irq::STI,
            0,
            Some(SupervisorSoftware),
        ),
        (
            "STI alone",
            M,
            ms::MIE,
            all,
            irq::STI,
            0,
            Some(SupervisorTimer),
        ),
        (
            "S: M-level taken without MIE",
            S,
            0,
            all,
            irq::MTI,
            0,
            Some(MachineTimer),
        ),
        (
            "U: M-level taken without MIE",
            U,
            0,
            all,
            irq::MSI,
            0,
            Some(MachineSoftware),
        ),
        (
            "M: delegated never taken",
            M,
            ms::MIE | ms::SIE,
            all,
            irq::STI,
            irq::STI,
            None,
        ),
        (
            "S: delegated needs SIE",
            S,
            0,
            all,
            irq::STI,
            irq::STI,
            None,
        ),
        (
            "S: delegated with SIE",
            S,
            ms::SIE,
            all,
            irq::STI,
            irq::STI,
            Some(SupervisorTimer),
        ),
        (
            "U: delegated without SIE",
            U,
            0,
            all,
            irq::SEI,
            irq::S_MASK,
            Some(SupervisorExternal),
        ),
        (
            "M-level before delegated SEI",
            S,
            ms::SIE,
            all,
            irq::SEI | irq::MTI,
            irq::SEI,
            Some(MachineTimer),
        ),
        (
            "undelegated STI over delegated SEI",
            U,
            0,
            all,
            irq::SEI | irq::STI,
            irq::SEI,
            Some(SupervisorTimer),
        ),
        (
            "mie masks",
            S,
            ms::SIE,
            irq::SSI,
            irq::STI,
            irq::S_MASK,
            None,
        ),
    ];
    for &(name, cur, status, mie, pending, mideleg, expect) in table {
        let mut c = Csrs::new(0);
        c.mstatus |= status;
        c.mie = mie;
        c.mideleg = mideleg;
        c.set_line(pending & (irq::MSI | irq::MTI | irq::MEI | irq::SEI), true);
        c.mip_sw = pending & irq::S_MASK;
        assert_eq!(pending_interrupt(&c, cur), expect, "{name}");
    }
}

#[test]
fn fault_to_exception() {
    let page = Fault::Page {
        va: 0x1000,
        kind: AccessKind::Load,
        level: 0,
        pte_addr: 0,
        pte: 0,
        reason: PageFaultReason::Invalid,
    };
    let canon = Fault::NonCanonical {
        va: 1 << 63,
        va_bits: 39,
    };
    let pte = Fault::PteAccess {
        va: 0x2000,
        kind: AccessKind::Store,
        level: 2,
        pte_addr: 0,
    };
    let bounds = Fault::Bounds {
        va: 0x3000,
        size: 8,
        bounds: 0x100,
    };
    let straddle = Fault::PageStraddle {
        va: 0x4ffe,
        size: 4,
    };
    let va = 0xdead_b000;
    let table: &[(&Fault, AccessKind, Exception)] = &[
        (
            &page,
            AccessKind::Fetch,
            Exception::InstructionPageFault { addr: va },
        ),
        (
            &page,
            AccessKind::Load,
            Exception::LoadPageFault { addr: va },
        ),
        (
            &page,
            AccessKind::Store,
            Exception::StorePageFault { addr: va },
        ),
        (
            &canon,
            AccessKind::Load,
            Exception::LoadPageFault { addr: va },
        ),
        (
            &pte,
            AccessKind::Fetch,
            Exception::InstructionAccessFault { addr: va },
        ),
        (
            &pte,
            AccessKind::Load,
            Exception::LoadAccessFault { addr: va },
        ),
        (
            &bounds,
            AccessKind::Store,
            Exception::StoreAccessFault { addr: va },
        ),
        (
            &straddle,
            AccessKind::Fetch,
            Exception::InstructionAddressMisaligned { addr: va },
        ),
        (
            &straddle,
            AccessKind::Load,
            Exception::LoadAddressMisaligned { addr: va },
        ),
        (
            &straddle,
            AccessKind::Store,
            Exception::StoreAddressMisaligned { addr: va },
        ),
    ];
    for (f, k, e) in table {
        assert_eq!(exception_from_fault(f, *k, va), *e, "{f:?} {k}");
    }
}

#[test]
fn mprv_context() {
    let xl = ms::XL64;
    // (name, cur, mstatus, kind, effective privilege, sum, mxr)
    type Row = (
        &'static str,
        Privilege,
        u64,
        AccessKind,
        Privilege,
        bool,
        bool,
    );
    let table: &[Row] = &[
        ("M load, no MPRV", M, xl, AccessKind::Load, M, false, false),
        (
            "M load, MPRV MPP=U",
            M,
            xl | ms::MPRV,
            AccessKind::Load,
            U,
            false,
            false,
        ),
        (
            "M store, MPRV MPP=S",
            M,
            xl | ms::MPRV | 1 << 11,
            AccessKind::Store,
            S,
            false,
            false,
        ),
        (
            "M fetch ignores MPRV",
            M,
            xl | ms::MPRV,
            AccessKind::Fetch,
            M,
            false,
            false,
        ),
        (
            "M load MPRV MPP=M",
            M,
            xl | ms::MPRV | 3 << 11,
            AccessKind::Load,
            M,
            false,
            false,
        ),
        (
            "S load SUM",
            S,
            xl | ms::SUM,
            AccessKind::Load,
            S,
            true,
            false,
        ),
        (
            "U load MXR",
            U,
            xl | ms::MXR,
            AccessKind::Load,
            U,
            false,
            true,
        ),
        (
            "S fetch",
            S,
            xl | ms::SUM | ms::MXR,
            AccessKind::Fetch,
            S,
            true,
            true,
        ),
    ];
    for &(name, cur, status, kind, p, sum, mxr) in table {
        let mut c = Csrs::new(0);
        c.mstatus = status;
        c.write(SATP, M, 8 << 60 | 0x1234 << 44 | 0x80).unwrap();
        let ctx = c.mmu_context(cur, kind);
        assert_eq!(
            (ctx.privilege, ctx.asid, ctx.sum, ctx.mxr),
            (p, 0x1234, sum, mxr),
            "{name}"
        );
    }
}

#[test]
fn counters_and_sfence() {
    let mut c = Csrs::new(0);
    c.tick(10, 3);
    assert_eq!((c.read(CYCLE, M), c.read(INSTRET, M)), (Ok(10), Ok(3)));
    c.write(MCOUNTINHIBIT, M, 1).unwrap();
    c.tick(10, 3);
    assert_eq!((c.mcycle, c.minstret), (10, 6));
    c.time = 99;
    assert_eq!(c.read(TIME, M), Ok(99));
    assert_eq!(sfence_flush(true, 5, true, 7), Flush::All);
    assert_eq!(sfence_flush(true, 5, false, 7), Flush::Asid { asid: 7 });
    assert_eq!(sfence_flush(false, 5, true, 7), Flush::Addr { va: 5 });
    assert_eq!(
        sfence_flush(false, 5, false, 7),
        Flush::AddrAsid { va: 5, asid: 7 }
    );
}

#[test]
fn delegation_of_every_interrupt() {
    for i in Interrupt::PRIORITY {
        for from in [U, S, M] {
            for delegated in [false, true] {
                let mut c = Csrs::new(0);
                c.write(MIDELEG, M, if delegated { !0 } else { 0 }).unwrap();
                c.write(MTVEC, M, 0x101).unwrap();
                c.write(STVEC, M, 0x201).unwrap();
                let (p, pc) = take_trap(&mut c, from, 0x8000_0000, i);
                // Only the supervisor interrupts can be delegated, and never out of M.
                let to_s = delegated && from != M && i.bit() & irq::S_MASK != 0;
                let what = format!("{i:?} from {from} delegated={delegated}");
                if to_s {
                    assert_eq!((p, pc), (S, 0x200 + 4 * i.code()), "{what}");
                    assert_eq!(
                        (c.scause, c.stval, c.sepc),
                        (INTERRUPT_BIT | i.code(), 0, 0x8000_0000)
                    );
                } else {
                    assert_eq!((p, pc), (M, 0x100 + 4 * i.code()), "{what}");
                    assert_eq!(
                        (c.mcause, c.mtval, c.mepc),
                        (INTERRUPT_BIT | i.code(), 0, 0x8000_0000)
                    );
                }
            }
        }
    }
}

/// PMP: vmlab implements zero PMP entries, so (as the privileged spec allows) every
/// `pmpcfg`/`pmpaddr` CSR exists, reads zero and ignores writes.
#[test]
fn pmp_csrs_are_read_only_zero() {
    let mut c = Csrs::new(0);
    for a in (0x3a0..=0x3ae).step_by(2).chain(0x3b0..=0x3ef) {
        assert_eq!(c.write(a, M, u64::MAX), Ok(0), "{a:#x}");
        assert_eq!(c.read(a, M), Ok(0), "{a:#x}");
        assert!(c.read(a, S).is_err(), "{a:#x} from S");
    }
}
