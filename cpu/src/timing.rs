//! The pipeline timing model: a single-issue, in-order, five-stage pipeline (IF, ID, EX,
//! MEM, WB) with full forwarding, as `docs/timing.md` specifies.
//!
//! The model is a cost function over the instruction stream: every retired instruction
//! costs one cycle plus the stalls it causes, and a trap costs a fixed entry penalty plus
//! the memory cycles spent before the fault. The memory side reports its latencies (TLB
//! lookups, page-walk reads through the caches, cache misses, DRAM, device registers) per
//! access; an access that takes `c` cycles holds its stage `c - 1` cycles beyond the one the
//! stage has anyway. The execution core ([`crate::hart`]) stays untimed: the machine
//! measures each step's memory cycles, then asks [`Pipeline::retire`] or
//! [`Pipeline::trap`] what the step cost.

use crate::isa::{Insn, Op};
use serde::{Deserialize, Serialize};

/// How conditional branches are predicted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predictor {
    /// Predict not taken, always (the default): a taken branch pays
    /// [`TimingConfig::branch_penalty`].
    #[default]
    NotTaken,
    /// Backward taken, forward not taken (a static rule decided in ID).
    Btfn,
    /// A table of two-bit saturating counters indexed by `(pc >> 1) mod entries`, all
    /// starting at 1 (weakly not taken).
    Bimodal,
}

/// The pipeline's timing parameters (`[timing]` in a machine file). Every field has a
/// default; `docs/timing.md` explains each rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimingConfig {
    /// Cycles to fill the empty pipeline at reset: the first instruction leaves WB after
    /// `1 + pipeline_fill` cycles (default 4).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub pipeline_fill: u64,
    /// Stall of an instruction that uses the result of the load (or LR, SC, AMO) just before
    /// it (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub load_use_penalty: u64,
    /// Cycles lost to a branch resolved wrongly in EX: a taken branch predicted not taken,
    /// or a not-taken branch predicted taken (default 2).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub branch_penalty: u64,
    /// Cycles lost to a taken branch predicted taken (the target is computed in ID; there is
    /// no branch target buffer) (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub predicted_taken_penalty: u64,
    /// Cycles lost to `jal` (the target is known in ID) (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub jal_penalty: u64,
    /// Cycles lost to `jalr` (the target is known in EX) (default 2).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub jalr_penalty: u64,
    /// The branch predictor (default `not_taken`).
    pub predictor: Predictor,
    /// Counters in the bimodal predictor's table (default 64; a power of two).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub predictor_entries: u64,
    /// Cycles a multiply occupies EX (default 3): it stalls the pipeline `mul_latency - 1`.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub mul_latency: u64,
    /// Cycles a divide or remainder occupies EX (default 20).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub div_latency: u64,
    /// Cycles an FP add or subtract (`fadd`, `fsub`, single or double) occupies EX
    /// (default 4).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_add_latency: u64,
    /// Cycles an FP multiply (`fmul`) occupies EX (default 4).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_mul_latency: u64,
    /// Cycles a fused multiply-add (`fmadd`, `fmsub`, `fnmsub`, `fnmadd`) occupies EX
    /// (default 5).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_fma_latency: u64,
    /// Cycles an FP divide (`fdiv`) occupies EX (default 20).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_div_latency: u64,
    /// Cycles an FP square root (`fsqrt`) occupies EX (default 20).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_sqrt_latency: u64,
    /// Cycles a conversion (every `fcvt`) occupies EX (default 3).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_convert_latency: u64,
    /// Cycles of the other FP operations: moves (`fmv`), sign injection, `fmin`/`fmax`,
    /// comparisons and `fclass` (default 1: no stall).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_misc_latency: u64,
    /// Extra cycles of a serialising instruction (every Zicsr instruction, `fence`,
    /// `fence.i`, `sfence.vma`, `mret`, `sret`, `wfi`): it waits for the older instructions
    /// to drain and the younger ones are refetched after it (default 4).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub serialize_penalty: u64,
    /// Cycles of taking a trap (an exception or an interrupt): flushing the pipeline and
    /// fetching from the trap vector, counted instead of the faulting instruction's own
    /// cycle (default 5).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub trap_penalty: u64,
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            pipeline_fill: 4,
            load_use_penalty: 1,
            branch_penalty: 2,
            predicted_taken_penalty: 1,
            jal_penalty: 1,
            jalr_penalty: 2,
            predictor: Predictor::NotTaken,
            predictor_entries: 64,
            mul_latency: 3,
            div_latency: 20,
            fp_add_latency: 4,
            fp_mul_latency: 4,
            fp_fma_latency: 5,
            fp_div_latency: 20,
            fp_sqrt_latency: 20,
            fp_convert_latency: 3,
            fp_misc_latency: 1,
            serialize_penalty: 4,
            trap_penalty: 5,
        }
    }
}

/// A configuration that cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimingError(pub String);

impl TimingConfig {
    /// Checks the parameters, with a message that says what would be right. Every latency
    /// and penalty is at most [`vmlab_common::MAX_LATENCY`] cycles, so the cost sums of
    /// [`Pipeline::retire`] and [`Pipeline::trap`] cannot overflow.
    pub fn validate(&self) -> Result<(), TimingError> {
        if self.mul_latency == 0 {
            return Err(TimingError(
                "timing.mul_latency = 0: a multiply needs at least 1 cycle in EX".into(),
            ));
        }
        if self.div_latency == 0 {
            return Err(TimingError(
                "timing.div_latency = 0: a divide needs at least 1 cycle in EX".into(),
            ));
        }
        for (name, v) in [
            ("fp_add_latency", self.fp_add_latency),
            ("fp_mul_latency", self.fp_mul_latency),
            ("fp_fma_latency", self.fp_fma_latency),
            ("fp_div_latency", self.fp_div_latency),
            ("fp_sqrt_latency", self.fp_sqrt_latency),
            ("fp_convert_latency", self.fp_convert_latency),
            ("fp_misc_latency", self.fp_misc_latency),
        ] {
            if v == 0 {
                return Err(TimingError(format!(
                    "timing.{name} = 0: a floating-point operation needs at least 1 cycle in EX"
                )));
            }
        }
        for (key, v) in [
            ("timing.pipeline_fill", self.pipeline_fill),
            ("timing.load_use_penalty", self.load_use_penalty),
            ("timing.branch_penalty", self.branch_penalty),
            (
                "timing.predicted_taken_penalty",
                self.predicted_taken_penalty,
            ),
            ("timing.jal_penalty", self.jal_penalty),
            ("timing.jalr_penalty", self.jalr_penalty),
            ("timing.mul_latency", self.mul_latency),
            ("timing.div_latency", self.div_latency),
            ("timing.fp_add_latency", self.fp_add_latency),
            ("timing.fp_mul_latency", self.fp_mul_latency),
            ("timing.fp_fma_latency", self.fp_fma_latency),
            ("timing.fp_div_latency", self.fp_div_latency),
            ("timing.fp_sqrt_latency", self.fp_sqrt_latency),
            ("timing.fp_convert_latency", self.fp_convert_latency),
            ("timing.fp_misc_latency", self.fp_misc_latency),
            ("timing.serialize_penalty", self.serialize_penalty),
            ("timing.trap_penalty", self.trap_penalty),
        ] {
            vmlab_common::check_latency(key, v).map_err(TimingError)?;
        }
        let e = self.predictor_entries;
        if !e.is_power_of_two() || e > 1 << 20 {
            return Err(TimingError(format!(
                "timing.predictor_entries = {e}: expected a power of two from 1 to 1048576"
            )));
        }
        Ok(())
    }
}

/// What an instruction is, as far as timing goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Single-cycle ALU work (also `lui`, `auipc`).
    Alu,
    /// A load: its result is ready after MEM.
    Load,
    /// A store.
    Store,
    /// LR, SC or an AMO: a memory access whose result is ready after MEM.
    Atomic,
    /// A conditional branch.
    Branch,
    /// `jal`.
    Jal,
    /// `jalr`.
    Jalr,
    /// A multiply.
    Mul,
    /// A divide or remainder.
    Div,
    /// A serialising instruction (Zicsr, fences, `sfence.vma`, xRET, `wfi`).
    Serial,
    /// An FP add or subtract.
    FpAdd,
    /// An FP multiply.
    FpMul,
    /// A fused multiply-add.
    FpFma,
    /// An FP divide.
    FpDiv,
    /// An FP square root.
    FpSqrt,
    /// A conversion (`fcvt`).
    FpCvt,
    /// FP moves, sign injection, minimum and maximum, comparisons, `fclass`.
    FpMisc,
    /// `ecall`, `ebreak` and illegal instructions, which always trap.
    Trapping,
}

/// The timing class of `op`.
pub fn class(op: Op) -> Class {
    use Op::*;
    match op {
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Flw | Fld => Class::Load,
        Sb | Sh | Sw | Sd | Fsw | Fsd => Class::Store,
        FAddS | FSubS | FAddD | FSubD => Class::FpAdd,
        FMulS | FMulD => Class::FpMul,
        FMaddS | FMsubS | FNmsubS | FNmaddS | FMaddD | FMsubD | FNmsubD | FNmaddD => Class::FpFma,
        FDivS | FDivD => Class::FpDiv,
        FsqrtS | FsqrtD => Class::FpSqrt,
        FcvtSD | FcvtDS | FcvtWS | FcvtWuS | FcvtLS | FcvtLuS | FcvtSW | FcvtSWu | FcvtSL
        | FcvtSLu | FcvtWD | FcvtWuD | FcvtLD | FcvtLuD | FcvtDW | FcvtDWu | FcvtDL | FcvtDLu => {
            Class::FpCvt
        }
        FSgnjS | FSgnjnS | FSgnjxS | FMinS | FMaxS | FeqS | FltS | FleS | FclassS | FmvXW
        | FmvWX | FSgnjD | FSgnjnD | FSgnjxD | FMinD | FMaxD | FeqD | FltD | FleD | FclassD
        | FmvXD | FmvDX => Class::FpMisc,
        LrW | ScW | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
        | AmominuW | AmomaxuW | LrD | ScD | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD
        | AmominD | AmomaxD | AmominuD | AmomaxuD => Class::Atomic,
        Beq | Bne | Blt | Bge | Bltu | Bgeu => Class::Branch,
        Jal => Class::Jal,
        Jalr => Class::Jalr,
        Mul | Mulh | Mulhsu | Mulhu | Mulw => Class::Mul,
        Div | Divu | Rem | Remu | Divw | Divuw | Remw | Remuw => Class::Div,
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci | Fence | FenceTso | FenceI
        | SfenceVma | Mret | Sret | Wfi => Class::Serial,
        Ecall | Ebreak | Illegal => Class::Trapping,
        _ => Class::Alu,
    }
}

/// A register as the hazard logic names it: `x1..x31` are 1..31, `f0..f31` are 32..63, and
/// 0 is none (x0 never causes a hazard).
fn reg_id(r: u8, float: bool) -> u8 {
    if float {
        32 + (r & 31)
    } else {
        r & 31
    }
}

/// The registers an instruction reads in ID and the one it writes, as [`reg_id`]s:
/// `(src1, src2, src3, rd)`.
fn registers(i: &Insn) -> (u8, u8, u8, u8) {
    let Some(d) = i.op.def() else {
        return (0, 0, 0, 0);
    };
    let (has_rd, rs1, rs2, ..) = d.format.fields();
    let (frd, frs1, frs2) = d.format.float_regs();
    (
        if rs1 { reg_id(i.rs1, frs1) } else { 0 },
        if rs2 { reg_id(i.rs2, frs2) } else { 0 },
        if d.format.has_rs3() {
            reg_id(i.rs3, true)
        } else {
            0
        },
        if has_rd { reg_id(i.rd, frd) } else { 0 },
    )
}

/// Everything [`Pipeline::retire`] needs to know about an instruction, derived from it alone
/// by [`TimingInfo::of`]. A host may compute it once per decoded instruction and keep it with
/// the decoded form (host speed only: [`Pipeline::retire_info`] with `TimingInfo::of(insn)`
/// is exactly [`Pipeline::retire`] of `insn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimingInfo {
    /// The timing class ([`class`]).
    pub class: Class,
    /// The first register read in ID (0 = none; `f` registers are 32..63).
    pub src1: u8,
    /// The second register read in ID (0 = none).
    pub src2: u8,
    /// The third register read in ID (`rs3` of a fused multiply-add; 0 = none).
    pub src3: u8,
    /// The destination register (0 = none; `f` registers are 32..63).
    pub rd: u8,
    /// `rd` if the result comes from MEM (a load, LR, SC or AMO: a later reader may stall),
    /// else 0.
    pub mem_rd: u8,
    /// The length in bytes (2 or 4).
    pub len: u8,
    /// The immediate is negative (a backward branch, for `btfn`).
    pub backward: bool,
}

impl TimingInfo {
    /// The timing facts of `insn`.
    pub fn of(insn: &Insn) -> TimingInfo {
        let (src1, src2, src3, rd) = registers(insn);
        let class = class(insn.op);
        TimingInfo {
            class,
            src1,
            src2,
            src3,
            rd,
            mem_rd: if matches!(class, Class::Load | Class::Atomic) {
                rd
            } else {
                0
            },
            len: insn.byte_len() as u8,
            backward: insn.imm < 0,
        }
    }
}

/// The memory cycles one step spent, as the machine measured them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemCycles {
    /// Cycles of instruction fetch accesses (translation plus the memory system), summed
    /// over the fetch-block accesses the step made (0 when the fetch buffer held the
    /// instruction).
    pub fetch: u64,
    /// Fetch-block accesses the step made (0, 1 or 2).
    pub fetch_accesses: u64,
    /// Cycles of data accesses (translation plus the memory system), summed.
    pub data: u64,
    /// Data accesses the step made (0, 1 or 2 for an AMO's read and write).
    pub data_accesses: u64,
}

/// The pipeline's counters (`pipeline.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PipelineStats {
    /// Cycles of pipeline fill at reset.
    pub fill: u64,
    /// Instructions retired through [`Pipeline::retire`].
    pub retired: u64,
    /// Stall cycles waiting for instruction fetch (iTLB, walks, L1I misses...).
    pub fetch_stall: u64,
    /// Stall cycles waiting for data accesses (dTLB, walks, L1D misses, devices...).
    pub data_stall: u64,
    /// Load-use stall cycles.
    pub load_use: u64,
    /// Conditional branches executed.
    pub branches: u64,
    /// Conditional branches taken.
    pub taken: u64,
    /// Conditional branches the predictor got wrong.
    pub mispredicts: u64,
    /// Cycles lost to branches and jumps.
    pub control: u64,
    /// Extra cycles of multiplies and divides in EX.
    pub muldiv: u64,
    /// Extra cycles of floating-point operations in EX.
    pub fp: u64,
    /// Extra cycles of serialising instructions.
    pub serialize: u64,
    /// Traps taken.
    pub traps: u64,
    /// Cycles of trap entry (the penalty, memory stalls before the fault included).
    pub trap_cycles: u64,
    /// Cycles spent stopped in `wfi`.
    pub wait: u64,
}

impl PipelineStats {
    /// Every counter under `prefix` (normally `pipeline`), in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        let items = [
            ("fill", self.fill),
            ("retired", self.retired),
            ("stall.fetch", self.fetch_stall),
            ("stall.data", self.data_stall),
            ("stall.load_use", self.load_use),
            ("stall.control", self.control),
            ("stall.muldiv", self.muldiv),
            ("stall.fp", self.fp),
            ("stall.serialize", self.serialize),
            ("branches", self.branches),
            ("branches.taken", self.taken),
            ("branches.mispredicted", self.mispredicts),
            ("traps", self.traps),
            ("trap_cycles", self.trap_cycles),
            ("wait_cycles", self.wait),
        ];
        for (n, v) in items {
            f(&format!("{prefix}.{n}"), v);
        }
    }
}

/// The pipeline's state between instructions.
#[derive(Clone, Debug)]
pub struct Pipeline {
    cfg: TimingConfig,
    /// The destination of the previous instruction if its result comes from MEM (a load,
    /// LR, SC or AMO), else 0.
    load_rd: u8,
    /// Whether the pipeline has been filled since reset.
    filled: bool,
    /// The bimodal predictor's counters.
    counters: Vec<u8>,
    /// The EX stall (latency − 1) of each FP class, from `Class::FpAdd` on, in `Class`
    /// order (computed once from the configuration).
    fp_extra: [u64; 7],
    stats: PipelineStats,
}

impl Pipeline {
    /// A pipeline at reset (empty: the first instruction pays the fill).
    pub fn new(cfg: TimingConfig) -> Result<Pipeline, TimingError> {
        cfg.validate()?;
        let n = if cfg.predictor == Predictor::Bimodal {
            cfg.predictor_entries as usize
        } else {
            0
        };
        let fp_extra = [
            cfg.fp_add_latency - 1,
            cfg.fp_mul_latency - 1,
            cfg.fp_fma_latency - 1,
            cfg.fp_div_latency - 1,
            cfg.fp_sqrt_latency - 1,
            cfg.fp_convert_latency - 1,
            cfg.fp_misc_latency - 1,
        ];
        Ok(Pipeline {
            cfg,
            load_rd: 0,
            filled: false,
            counters: vec![1; n],
            fp_extra,
            stats: PipelineStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TimingConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    fn fill(&mut self) -> u64 {
        if self.filled {
            0
        } else {
            self.filled = true;
            self.stats.fill = self.cfg.pipeline_fill;
            self.cfg.pipeline_fill
        }
    }

    /// The cycles of an instruction that retired: `insn` at `pc`, continuing at `next_pc`,
    /// having spent `mem` in the memory side.
    #[inline]
    pub fn retire(&mut self, insn: &Insn, pc: u64, next_pc: u64, mem: MemCycles) -> u64 {
        self.retire_info(&TimingInfo::of(insn), pc, next_pc, mem)
    }

    /// [`Pipeline::retire`] of the instruction whose [`TimingInfo`] is `info`.
    #[inline]
    pub fn retire_info(&mut self, info: &TimingInfo, pc: u64, next_pc: u64, mem: MemCycles) -> u64 {
        let cfg = &self.cfg;
        let s = &mut self.stats;
        s.retired += 1;
        let mut cost = 1;
        let fetch_stall = mem.fetch.saturating_sub(mem.fetch_accesses.min(1));
        let data_stall = mem.data.saturating_sub(mem.data_accesses.min(1));
        s.fetch_stall += fetch_stall;
        s.data_stall += data_stall;
        cost += fetch_stall + data_stall;
        if self.load_rd != 0
            && (info.src1 == self.load_rd || info.src2 == self.load_rd || info.src3 == self.load_rd)
        {
            s.load_use += cfg.load_use_penalty;
            cost += cfg.load_use_penalty;
        }
        let class = info.class;
        let extra = match class {
            Class::Alu | Class::Load | Class::Store | Class::Atomic | Class::Trapping => 0,
            Class::Branch => {
                let taken = next_pc != pc.wrapping_add(u64::from(info.len));
                s.branches += 1;
                s.taken += u64::from(taken);
                let predicted = match cfg.predictor {
                    Predictor::NotTaken => false,
                    Predictor::Btfn => info.backward,
                    Predictor::Bimodal => {
                        let slot = ((pc >> 1) as usize) & (self.counters.len() - 1);
                        let c = &mut self.counters[slot];
                        let p = *c >= 2;
                        *c = if taken {
                            (*c + 1).min(3)
                        } else {
                            c.saturating_sub(1)
                        };
                        p
                    }
                };
                let penalty = match (predicted, taken) {
                    (false, false) => 0,
                    (true, true) => cfg.predicted_taken_penalty,
                    _ => {
                        s.mispredicts += 1;
                        cfg.branch_penalty
                    }
                };
                s.control += penalty;
                penalty
            }
            Class::Jal => {
                s.control += cfg.jal_penalty;
                cfg.jal_penalty
            }
            Class::Jalr => {
                s.control += cfg.jalr_penalty;
                cfg.jalr_penalty
            }
            Class::Mul => {
                s.muldiv += cfg.mul_latency - 1;
                cfg.mul_latency - 1
            }
            Class::Div => {
                s.muldiv += cfg.div_latency - 1;
                cfg.div_latency - 1
            }
            Class::Serial => {
                s.serialize += cfg.serialize_penalty;
                cfg.serialize_penalty
            }
            Class::FpAdd
            | Class::FpMul
            | Class::FpFma
            | Class::FpDiv
            | Class::FpSqrt
            | Class::FpCvt
            | Class::FpMisc => {
                let extra = self.fp_extra[class as usize - Class::FpAdd as usize];
                s.fp += extra;
                extra
            }
        };
        cost += extra;
        self.load_rd = info.mem_rd;
        if self.filled {
            cost
        } else {
            cost + self.fill()
        }
    }

    /// The cycles of taking a trap, `mem` being what the trapping step spent in the memory
    /// side before the fault was found (a fetch or a walk that faulted, say).
    pub fn trap(&mut self, mem: MemCycles) -> u64 {
        let cost = self.cfg.trap_penalty + mem.fetch + mem.data;
        self.stats.traps += 1;
        self.stats.trap_cycles += cost;
        self.load_rd = 0;
        cost + self.fill()
    }

    /// Count `cycles` spent stopped in `wfi`.
    pub fn wait(&mut self, cycles: u64) {
        self.stats.wait += cycles;
        self.load_rd = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::decode;

    fn insn(word: u32) -> Insn {
        decode(word)
    }

    /// Runs `(word, pc, next_pc, mem)` steps through a pipeline and checks each cost.
    fn check(cfg: TimingConfig, steps: &[(u32, u64, u64, MemCycles, u64)]) {
        let mut p = Pipeline::new(cfg).unwrap();
        for (n, &(w, pc, next, mem, want)) in steps.iter().enumerate() {
            let got = p.retire(&insn(w), pc, next, mem);
            assert_eq!(got, want, "step {n}: {w:08x}");
        }
    }

    const HIT: MemCycles = MemCycles {
        fetch: 1,
        fetch_accesses: 1,
        data: 0,
        data_accesses: 0,
    };
    const ADDI_A0: u32 = 0x00150513; // addi a0,a0,1
    const LD_A0: u32 = 0x0005b503; // ld a0,0(a1)
    const LD_HIT: MemCycles = MemCycles {
        fetch: 1,
        fetch_accesses: 1,
        data: 1,
        data_accesses: 1,
    };

    #[test]
    fn fill_then_one_per_instruction() {
        check(
            TimingConfig::default(),
            &[
                (ADDI_A0, 0, 4, HIT, 5),
                (ADDI_A0, 4, 8, HIT, 1),
                (ADDI_A0, 8, 12, MemCycles::default(), 1),
            ],
        );
    }

    #[test]
    fn load_use_and_memory_stalls() {
        let miss = MemCycles {
            fetch: 1,
            fetch_accesses: 1,
            data: 101,
            data_accesses: 1,
        };
        check(
            TimingConfig::default(),
            &[
                (LD_A0, 0, 4, LD_HIT, 5),
                (ADDI_A0, 4, 8, HIT, 2),      // uses a0: load-use
                (LD_A0, 8, 12, miss, 101),    // 100-cycle data stall
                (0x00158593, 12, 16, HIT, 1), // addi a1,a1,1: independent
            ],
        );
    }

    #[test]
    fn branches_and_predictors() {
        let bne_back = 0xfe051ee3; // bne a0,zero,-4
        let cfg = TimingConfig::default();
        check(
            cfg.clone(),
            &[
                (ADDI_A0, 0, 4, HIT, 5),
                (bne_back, 4, 0, HIT, 3),
                (bne_back, 4, 8, HIT, 1),
            ],
        );
        let btfn = TimingConfig {
            predictor: Predictor::Btfn,
            ..cfg.clone()
        };
        check(
            btfn,
            &[
                (ADDI_A0, 0, 4, HIT, 5),
                (bne_back, 4, 0, HIT, 2),
                (bne_back, 4, 8, HIT, 3),
            ],
        );
        let bimodal = TimingConfig {
            predictor: Predictor::Bimodal,
            ..cfg
        };
        check(
            bimodal,
            &[
                (ADDI_A0, 0, 4, HIT, 5),
                (bne_back, 4, 0, HIT, 3), // counter 1: predicted not taken
                (bne_back, 4, 0, HIT, 2), // counter 2: predicted taken
                (bne_back, 4, 8, HIT, 3), // counter 3 -> mispredict
            ],
        );
    }

    #[test]
    fn muldiv_serial_and_traps() {
        let mut p = Pipeline::new(TimingConfig::default()).unwrap();
        assert_eq!(p.retire(&insn(0x02b50533), 0, 4, HIT), 5 + 2); // mul
        assert_eq!(p.retire(&insn(0x02b54533), 4, 8, HIT), 20); // div
        assert_eq!(p.retire(&insn(0x30002573), 8, 12, HIT), 5); // csrr a0,mstatus
        assert_eq!(
            p.trap(MemCycles {
                fetch: 30,
                fetch_accesses: 1,
                ..MemCycles::default()
            }),
            35
        );
        assert_eq!(p.stats().traps, 1);
    }

    #[test]
    fn float_latencies_and_float_load_use() {
        const FLD_FA0: u32 = 0x0005b507; // fld fa0,0(a1)
        const FADD_FA1: u32 = 0x02a575d3; // fadd.d fa1,fa0,fa0
        const FMADD_FA2: u32 = 0x52b5f643; // fmadd.d fa2,fa1,fa1,fa0
        const FDIV_FA2: u32 = 0x1ab5f653; // fdiv.d fa2,fa1,fa1
        const FMV_FA2: u32 = 0x22b58653; // fmv.d fa2,fa1
        const FCVT_FA2: u32 = 0xd2257653; // fcvt.d.l fa2,a0
        check(
            TimingConfig::default(),
            &[
                (FLD_FA0, 0, 4, LD_HIT, 5),
                (ADDI_A0, 4, 8, HIT, 1), // reads x10, not f10: no load-use stall
                (FLD_FA0, 8, 12, LD_HIT, 1),
                (FADD_FA1, 12, 16, HIT, 1 + 1 + 3), // f10 load-use, then 4 cycles in EX
                (FLD_FA0, 16, 20, LD_HIT, 1),
                (FMADD_FA2, 20, 24, HIT, 1 + 1 + 4), // rs3 = fa0: load-use too
                (FDIV_FA2, 24, 28, HIT, 20),
                (FMV_FA2, 28, 32, HIT, 1),
                (FCVT_FA2, 32, 36, HIT, 3),
            ],
        );
        let fast = TimingConfig {
            fp_add_latency: 1,
            fp_div_latency: 7,
            ..TimingConfig::default()
        };
        let mut p = Pipeline::new(fast).unwrap();
        assert_eq!(p.retire(&insn(FADD_FA1), 0, 4, HIT), 5);
        assert_eq!(p.retire(&insn(FDIV_FA2), 4, 8, HIT), 7);
        assert_eq!(p.stats().fp, 6);
    }

    #[test]
    fn bad_configs() {
        for (cfg, msg) in [
            (
                TimingConfig {
                    mul_latency: 0,
                    ..TimingConfig::default()
                },
                "mul_latency = 0",
            ),
            (
                TimingConfig {
                    fp_sqrt_latency: 0,
                    ..TimingConfig::default()
                },
                "timing.fp_sqrt_latency = 0",
            ),
            (
                TimingConfig {
                    predictor_entries: 12,
                    ..TimingConfig::default()
                },
                "predictor_entries = 12",
            ),
            (
                TimingConfig {
                    pipeline_fill: u64::MAX,
                    ..TimingConfig::default()
                },
                "`timing.pipeline_fill` = 18446744073709551615 is too large: a latency is at most 1000000 cycles",
            ),
            (
                TimingConfig {
                    trap_penalty: 1_000_001,
                    ..TimingConfig::default()
                },
                "`timing.trap_penalty` = 1000001 is too large",
            ),
        ] {
            let e = Pipeline::new(cfg).unwrap_err();
            assert!(e.0.contains(msg), "{e}");
        }
    }
}
