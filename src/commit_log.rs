//! `--log-commits FILE`: one line per retired instruction in the format of Spike's
//! `--log-commits`, so a run can be compared with Spike's line by line:
//!
//! ```text
//! core   0: 3 0x0000000080000000 (0x00001297) x5  0x0000000080001000
//! core   0: 3 0x000000008000000a (0x00a2b5af) x11 0x0000000000000000 mem 0x0000000080001010 mem 0x0000000080001010 0x0000000000000003
//! core   0: 3 0x0000000080000018 (0x34059073) c832_mscratch 0x0000000000000006
//! ```
//!
//! The privilege the instruction ran in, its pc, its bits (4 hex digits for a compressed
//! one), then what it wrote, in Spike's order (by register number, an x register before
//! an f register before a CSR of the same number): the destination register (`x10`, or
//! `f10` with the raw 64 bits, NaN box included), the CSRs (as `c<number>_<name>` with the
//! value after the write; `fflags` when an FP instruction raised flags, `mstatus` when it
//! made `mstatus.FS` Dirty), each memory read (`mem ADDR`) and write (`mem ADDR VALUE`,
//! as many digits as bytes written). Trapping instructions are not logged, as in Spike.
//! `docs/run.md` lists where the two logs can legitimately differ.

use crate::machine::{Machine, StepInfo};
use std::io::{self, Write};
use vmlab_cpu::csr::{addr, FP_EVENT_DIRTIED, FP_EVENT_FLAGS};
use vmlab_cpu::hart::StepResult;
use vmlab_cpu::isa::{csr_name, Format, Op};
use vmlab_mmu::Privilege;

fn priv_digit(p: Privilege) -> u8 {
    match p {
        Privilege::User => 0,
        Privilege::Supervisor => 1,
        Privilege::Machine => 3,
    }
}

/// The CSRs a retired instruction wrote, as Spike names them (views of `mstatus` and `mie`
/// are logged as Spike logs them; `fcsr` as `fflags` and `frm`). An instruction that
/// accrued FP exception flags wrote `fflags`, and one that made `mstatus.FS` Dirty wrote
/// `mstatus`.
fn csr_writes(info: &StepInfo, m: &Machine) -> Vec<u16> {
    let mut out = csr_instruction_writes(info);
    let events = m.hart.csrs.fp_events;
    if events & FP_EVENT_FLAGS != 0 {
        out.push(addr::FFLAGS);
    }
    if events & FP_EVENT_DIRTIED != 0 {
        out.push(addr::MSTATUS);
    }
    out
}

/// The CSRs a Zicsr instruction or an xRET wrote.
fn csr_instruction_writes(info: &StepInfo) -> Vec<u16> {
    let i = &info.insn;
    let writes = match i.op {
        Op::Csrrw | Op::Csrrwi => true,
        Op::Csrrs | Op::Csrrc => i.rs1 != 0,
        Op::Csrrsi | Op::Csrrci => i.imm != 0,
        Op::Mret | Op::Sret => return vec![addr::MSTATUS],
        _ => false,
    };
    if !writes {
        return vec![];
    }
    match i.csr {
        // Hard-wired zero: nothing is written, and Spike logs nothing.
        0xB03..=0xB1F | 0x323..=0x33F => vec![],
        addr::SSTATUS => vec![addr::MSTATUS],
        addr::SIE => vec![addr::SIE, addr::MIE],
        addr::SIP => vec![addr::MIP],
        addr::FCSR => vec![addr::FFLAGS, addr::FRM],
        c => vec![c],
    }
}

/// A CSR's name as Spike writes it (a few names GNU objdump 2.40 does not know, which the
/// disassembler therefore prints as numbers).
fn spike_csr_name(c: u16) -> String {
    match c {
        0x30a => "menvcfg".into(),
        0x10a => "senvcfg".into(),
        0xf15 => "mconfigptr".into(),
        _ => csr_name(c),
    }
}

fn writes_rd(f: Format) -> bool {
    !matches!(
        f,
        Format::S | Format::B | Format::Fence | Format::FenceI | Format::Sfence | Format::None
    )
}

/// Appends the log line of `info` (if it is a retired instruction) to `w`; `m` is the machine
/// after the step.
pub fn write(w: &mut impl Write, m: &Machine, info: &StepInfo) -> io::Result<()> {
    let retired = match info.result {
        StepResult::Retired => true,
        StepResult::Waiting => info.insn.op == Op::Wfi,
        StepResult::Trapped { .. } => false,
    };
    if !retired {
        return Ok(());
    }
    let i = &info.insn;
    let raw = if i.compressed.is_some() {
        format!("0x{:04x}", info.raw & 0xffff)
    } else {
        format!("0x{:08x}", info.raw)
    };
    let mut line = format!(
        "core {:3}: {} 0x{:016x} ({raw})",
        m.hart.csrs.mhartid,
        priv_digit(info.privilege),
        info.pc
    );
    // Spike orders a line's register writes by (number << 4 | kind): x = 0, f = 1, CSR = 4.
    let mut writes: Vec<(u64, String)> = Vec::new();
    if let Some(d) = i.op.def() {
        let (float_rd, ..) = d.format.float_regs();
        if writes_rd(d.format) && float_rd {
            let v = m.hart.freg(i.rd);
            writes.push((
                u64::from(i.rd) << 4 | 1,
                format!(" f{:<2} 0x{v:016x}", i.rd),
            ));
        } else if writes_rd(d.format) && i.rd != 0 {
            let v = m.hart.reg(i.rd);
            writes.push((u64::from(i.rd) << 4, format!(" x{:<2} 0x{v:016x}", i.rd)));
        }
    }
    for c in csr_writes(info, m) {
        let value = m.hart.csrs.raw_read(c);
        writes.push((
            u64::from(c) << 4 | 4,
            format!(" c{c}_{} 0x{value:016x}", spike_csr_name(c)),
        ));
    }
    writes.sort_by_key(|w| w.0);
    writes.dedup_by_key(|w| w.0);
    for (_, text) in writes {
        line.push_str(&text);
    }
    for a in m.last_accesses() {
        if a.write {
            let digits = usize::from(a.size) * 2;
            let value = if a.size >= 8 {
                a.value
            } else {
                a.value & ((1u64 << (8 * a.size)) - 1)
            };
            line.push_str(&format!(" mem 0x{:016x} 0x{value:0digits$x}", a.addr));
        } else {
            line.push_str(&format!(" mem 0x{:016x}", a.addr));
        }
    }
    line.push('\n');
    w.write_all(line.as_bytes())
}
