//! The CPU fuzz oracle: any instruction words in any starting state must run without a
//! panic, stop (at a limit at the latest), and translate every access the same way through
//! the timed path (`Mmu::translate`, TLBs and all) as through the functional one
//! (`Mmu::probe`, straight from the page tables in memory).
//!
//! [`check_cpu_bytes`] decodes its input with `arbitrary` (as `fuzz_target!` does) into a
//! [`CpuInput`]: a machine configuration (TLB geometry, L2 TLB, Svade or Svadu, fetch-block
//! size, decode cache), a starting state (privilege, `mstatus`, delegation, interrupt enables
//! and pending bits, trap vectors into the code, counter enables, `satp` or vmlab's custom
//! translation CSRs), registers (biased to addresses that mean something: data, code, page
//! tables, devices, CSR values), page-table writes on top of a skeleton that maps the code
//! and the data, and a handful of instruction parcels biased to valid encodings (rows of
//! [`TABLE`] and [`CTABLE`] with random fields, Zicsr instructions on the CSRs that matter).
//! [`check_cpu`] builds a [`Machine`], installs all that directly into the hart, RAM and MMU,
//! turns the probe check on and steps the machine to its stop, checking after every step:
//!
//! - no panic anywhere (the machine, the MMU, the devices);
//! - `now()` never decreases, `x0` is 0, the pc is 2-aligned, and the run stops within
//!   `max_cycles + 2` steps (every step that does not stop the run costs at least a cycle);
//! - `probe_mismatches()` is empty: the probe agreed with every timed translation;
//! - at the end, `retired() <= run.max_insns`, and a limit stop is consistent with the clock;
//! - for about half of the inputs, the same input run with the decoded-instruction cache
//!   flipped gives the same stop, statistics, registers and pc (a host-speed shortcut never
//!   changes a modelled number).
//!
//! # Why the probe comparison is sound
//!
//! A TLB may legitimately hold a stale translation: after software changes a PTE, the
//! architecture lets the hardware use the old one until `sfence.vma`. The probe reads the
//! page tables in memory and never the TLBs, so it would disagree with a correct machine
//! whenever a guest writes a page table and keeps using the old mapping. The oracle makes
//! stale entries impossible instead of guessing which ones are legitimate: after every step
//! that could have changed what the page tables (or the translation registers) say, it
//! flushes every TLB (`Flush::All`) before the next step:
//!
//! - a store, SC or AMO (class `Store` or `Atomic`): the guest may have written a PTE, through
//!   any mapping or physically in M-mode (also an HTIF command, which the host answers by
//!   writing RAM during that store);
//! - a Zicsr instruction that writes `satp` or a custom translation CSR: a change of only the
//!   root keeps the TLBs (entries are ASID-tagged; `flush_on_root_change` is off by default),
//!   which is right for the hardware but leaves entries the new tables do not back;
//! - a step in which the walker wrote A/D bits (Svadu): other entries filled from the same PTE
//!   keep its old value, which they would report in a fault;
//! - a step at whose end a device event was due (the machine ticks the devices then): the
//!   disk controller writes RAM by DMA.
//!
//! Nothing else changes memory, so between these points every TLB entry equals what a walk
//! would give, and the timed translation must agree with the probe exactly (same physical
//! address, or the same `Fault` with every field). TLB hits, L2-TLB refills, superpages and
//! the permission checks of the hit path are still exercised between the flushes.

use super::{Machine, MachineConfig, Stop};
use arbitrary::{Arbitrary, Unstructured};
use std::sync::Arc;
use vmlab_cpu::csr::{addr, changes_translation, irq, mstatus};
use vmlab_cpu::isa::compressed::CTABLE;
use vmlab_cpu::isa::{decode, encode, Format as IFormat, Insn, Op, TABLE};
use vmlab_cpu::timing::{class, Class};
use vmlab_cpu::vmcsr::{self, translation_mode, Formats};
use vmlab_mmu::{AdPolicy, Flush, Format, Policy, Privilege, TlbConfig};

/// Where RAM starts.
pub const RAM_BASE: u64 = 0x8000_0000;
/// RAM size (1 MiB).
pub const RAM_SIZE: u64 = 1 << 20;
/// The code page (physical).
pub const CODE: u64 = RAM_BASE;
/// The data pages (physical): eight pages after the code page.
pub const DATA: u64 = RAM_BASE + 0x1000;
/// The page-table pool (physical): [`TABLE_PAGES`] pages.
pub const TABLES: u64 = RAM_BASE + 0x1_0000;
/// How many page-table pages the pool has.
pub const TABLE_PAGES: u64 = 8;
/// The stub M-mode trap handler (physical; in the code page).
pub const M_STUB: u64 = CODE + 0x800;
/// The stub S-mode trap handler (physical; in the code page).
pub const S_STUB: u64 = CODE + 0x840;
/// Instructions the run may retire.
pub const MAX_INSNS: u64 = 200;
/// The clock limit of a run.
pub const MAX_CYCLES: u64 = 30_000;
/// At most this many instruction parcels are written.
pub const MAX_PARCELS: usize = 64;

const HTIF_TOHOST: u64 = 0x0100_0000;
const CLINT: u64 = 0x0200_0000;
const CONSOLE: u64 = 0x1000_0000;
const DISKCTL: u64 = 0x1000_1000;

/// One TLB's geometry.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct TlbPick {
    /// Sets (1 to 4).
    pub sets: u8,
    /// Ways (1 to 4; a power of two for tree-PLRU).
    pub ways: u8,
    /// Replacement policy.
    pub policy: Policy,
}

impl TlbPick {
    fn config(self) -> TlbConfig {
        let ways = match self.policy {
            Policy::Plru => 1 << (self.ways % 3),
            _ => 1 + u32::from(self.ways % 4),
        };
        TlbConfig {
            sets: 1 + u32::from(self.sets % 4),
            ways,
            policy: self.policy,
            hit_latency: u64::from(self.sets >> 7),
            seed: u64::from(self.ways),
        }
    }
}

/// The machine's configuration.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct MachinePick {
    /// Svadu (the walker writes A/D) instead of Svade (A/D clear faults).
    pub svadu: bool,
    /// The instruction TLB.
    pub itlb: TlbPick,
    /// The data TLB.
    pub dtlb: TlbPick,
    /// An L2 TLB.
    pub l2tlb: Option<TlbPick>,
    /// Flush every TLB when only the root changes.
    pub flush_on_root_change: bool,
    /// The L1I line (the fetch block): 0 = L1I disabled (4-byte blocks), else 8 << (n % 4).
    pub l1i_line: u8,
    /// The decoded-instruction cache.
    pub decode_cache: bool,
    /// Also run the input with the decode cache flipped and the fast paths off, and
    /// compare everything.
    pub twin: bool,
}

impl MachinePick {
    /// The machine configuration this pick describes.
    pub fn config(&self) -> MachineConfig {
        let mut c = MachineConfig::default();
        c.memory.ram.base = RAM_BASE;
        c.memory.ram.size = RAM_SIZE;
        c.mmu.itlb = self.itlb.config();
        c.mmu.dtlb = self.dtlb.config();
        c.mmu.l2tlb = self.l2tlb.map(|t| {
            let mut t = t.config();
            t.ways *= 2;
            t
        });
        c.mmu.ad = if self.svadu {
            AdPolicy::Svadu
        } else {
            AdPolicy::Svade
        };
        c.mmu.flush_on_root_change = self.flush_on_root_change;
        match self.l1i_line % 5 {
            0 => c.memory.l1i.enabled = false,
            n => {
                let line = 8u64 << (n - 1);
                c.memory.l1i.line = line;
                c.memory.l1i.ways = 2;
                c.memory.l1i.size = line * 2 * 16;
            }
        }
        c.run.max_insns = MAX_INSNS;
        c.run.max_cycles = MAX_CYCLES;
        c.host.decode_cache = self.decode_cache;
        c
    }
}

/// A privilege level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Arbitrary)]
pub enum PrivPick {
    /// Machine mode.
    M,
    /// Supervisor mode.
    S,
    /// User mode.
    U,
}

impl PrivPick {
    fn privilege(self) -> Privilege {
        match self {
            PrivPick::M => Privilege::Machine,
            PrivPick::S => Privilege::Supervisor,
            PrivPick::U => Privilege::User,
        }
    }
}

/// The starting CSR state (besides translation).
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct StatePick {
    /// The privilege the hart starts in.
    pub privilege: PrivPick,
    /// `mstatus` (the writable bits, legalised).
    pub mstatus: u32,
    /// `mstatus.MPP`, written after `mstatus` (so it is often a real mode).
    pub mpp: PrivPick,
    /// `medeleg`.
    pub medeleg: u16,
    /// `mideleg` (bits 0–5 = SSI, MSI, STI, MTI, SEI, MEI).
    pub mideleg: u8,
    /// `mie`, as `mideleg`.
    pub mie: u8,
    /// The software-writable pending bits of `mip`, as `mideleg`, used when bits 7:6 are set.
    pub mip: u8,
    /// `mtvec`: bits 6:4 = 0–3: the stub handler; 7: 0 (no handler); else a parcel index
    /// into the code (bit 7 = vectored).
    pub mtvec: u8,
    /// `stvec`: bits 6:4 = 0–3: the stub handler; else a parcel index (bit 7 = vectored).
    pub stvec: u8,
    /// `mepc`: a parcel index into the code.
    pub mepc: u8,
    /// `sepc`, as `mepc`.
    pub sepc: u8,
    /// `mcounteren` (low 3 bits).
    pub mcounteren: u8,
    /// `scounteren` (low 3 bits).
    pub scounteren: u8,
    /// `satp.ASID`.
    pub asid: u16,
}

/// The flags of a skeleton leaf (`Right` five times in eight).
#[derive(Clone, Copy, Debug)]
pub enum FlagsPick {
    /// What the starting privilege needs: V, R, W, X, A, D, and U for user mode.
    Right,
    /// As `Right` but A and D clear (faults under Svade, write-backs under Svadu).
    Unaccessed,
    /// As `Right` but the U bit flipped.
    WrongUser,
    /// Any bits: V, R, W, X, U, G, A, D from bit 0 up.
    Bits(u8),
}

impl<'a> Arbitrary<'a> for FlagsPick {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? >> 5 {
            0..=4 => FlagsPick::Right,
            5 => FlagsPick::Unaccessed,
            6 => FlagsPick::WrongUser,
            _ => FlagsPick::Bits(u8::arbitrary(u)?),
        })
    }
}

/// The page tables every paged mode starts from: identity mappings of the code, data and
/// table pages, and an alias of the data pages at virtual address 0.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct Skeleton {
    /// The level of the leaf mapping the code (0 = 4 KiB pages; higher = a superpage if the
    /// format allows it).
    pub leaf_level: u8,
    /// The flags of the code page(s).
    pub code: FlagsPick,
    /// The flags of the data pages.
    pub data: FlagsPick,
    /// The flags of the identity-mapped page-table pages.
    pub tables: FlagsPick,
    /// Global leaves.
    pub global: bool,
}

/// A starting address in one of the interesting places.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum AddrPick {
    /// The start of RAM.
    Ram,
    /// A page below the start of RAM (so virtual 0x1000 is the code).
    BelowRam,
    /// Zero.
    Zero,
    /// A small number.
    Small(u16),
    /// Anything.
    Any(u64),
}

impl AddrPick {
    fn value(self) -> u64 {
        match self {
            AddrPick::Ram => RAM_BASE,
            AddrPick::BelowRam => RAM_BASE - 0x1000,
            AddrPick::Zero => 0,
            AddrPick::Small(n) => u64::from(n) << 4,
            AddrPick::Any(v) => v,
        }
    }
}

/// A segment register.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct SegPick {
    /// Base.
    pub base: AddrPick,
    /// Limit: 0 = 128 KiB, 1 = 4 KiB, 2 = 64 bytes, else (n << 8).
    pub limit: u16,
    /// Flags (R, W, X, U, PRESENT, GROWS_DOWN, PAGED; the oracle usually sets PRESENT).
    pub flags: u8,
}

/// How addresses are translated at the start (paging in about half of the inputs).
#[derive(Clone, Copy, Debug)]
pub enum SpacePick {
    /// No translation.
    Bare,
    /// `satp` paging: 0 = Sv39, 1 = Sv48, 2 = Sv57.
    Satp {
        /// The mode.
        mode: u8,
        /// The page tables.
        skeleton: Skeleton,
    },
    /// `vmmode = 3`: paging in the format `vmformat` names (0–4, or 16, which this machine
    /// lacks).
    VmPaged {
        /// `vmformat`.
        format: u8,
        /// The page tables.
        skeleton: Skeleton,
    },
    /// `vmmode = 1`: base and bounds.
    BaseBounds {
        /// `vmbase`.
        base: AddrPick,
        /// `vmbounds`: 0 = 128 KiB, 1 = 1 MiB, 2 = 256 bytes, else anything.
        bounds: u64,
    },
    /// `vmmode = 2`: segments; segment 0 covers the code, data and tables at offset 0.
    Segments {
        /// Selector bits (1–3).
        selector_bits: u8,
        /// The virtual-address width: 20, 24, 32, 39, 48 or 64 (or anything).
        va_bits: u8,
        /// Segments 1–3 (segment 0 is made to hold the code; its flags come from `flags0`).
        segs: [SegPick; 3],
        /// Segment 0's flags.
        flags0: u8,
        /// `vmformat` for paged segments.
        format: u8,
        /// The page tables of paged segments.
        skeleton: Skeleton,
    },
    /// Any values in `satp` and the custom CSRs.
    Raw {
        /// `satp`.
        satp: u64,
        /// `vmmode`.
        mode: u8,
        /// `vmbase`, `vmbounds`, `vmsegcfg`, `vmformat`, `vmroot`.
        regs: [u64; 5],
    },
}

impl<'a> Arbitrary<'a> for SpacePick {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? & 15 {
            0 | 1 => SpacePick::Bare,
            2..=6 => SpacePick::Satp {
                mode: u.arbitrary()?,
                skeleton: u.arbitrary()?,
            },
            7..=9 => SpacePick::VmPaged {
                format: u.arbitrary()?,
                skeleton: u.arbitrary()?,
            },
            10 | 11 => SpacePick::BaseBounds {
                base: u.arbitrary()?,
                bounds: u.arbitrary()?,
            },
            12..=14 => SpacePick::Segments {
                selector_bits: u.arbitrary()?,
                va_bits: u.arbitrary()?,
                segs: u.arbitrary()?,
                flags0: u.arbitrary()?,
                format: u.arbitrary()?,
                skeleton: u.arbitrary()?,
            },
            _ => SpacePick::Raw {
                satp: u.arbitrary()?,
                mode: u.arbitrary()?,
                regs: u.arbitrary()?,
            },
        })
    }
}

/// A register's starting value.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum RegValue {
    /// A data address (as the starting mode sees it), 8-aligned.
    Data(u16),
    /// A code address (as the starting mode sees it).
    Code(u8),
    /// A page-table address (as the starting mode sees it).
    Table(u16),
    /// A physical data address (what M-mode sees).
    PhysData(u16),
    /// One of the interesting virtual addresses of the starting mode (aliases, segments).
    Alias(u8, u16),
    /// A device register: HTIF `tohost`, the CLINT's `msip`, `mtimecmp`, `mtime`, the
    /// console, the disk controller.
    Device(u8),
    /// A small signed number.
    Small(i8),
    /// A `satp` value: mode 0/8/9/10 (or anything), the ASID, a table of the pool.
    Satp(u8, u16, u8),
    /// An `mstatus`-like value.
    Status(u32),
    /// Anything.
    Any(u64),
}

/// A page-table entry value.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum PtePick {
    /// A leaf with these flags (as [`FlagsPick::Bits`]) and this frame (a page of RAM).
    Leaf(u8, u8),
    /// A pointer to a table of the pool.
    Pointer(u8),
    /// An invalid entry.
    Invalid,
    /// Anything.
    Raw(u64),
}

/// A page-table write on top of the skeleton.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum PteWrite {
    /// The entry at `level` on the walk of one of the skeleton's mappings.
    Path {
        /// Which mapping (code, data, tables, alias...).
        mapping: u8,
        /// The level, counted up from the leaf's (values below 192: the leaf).
        level: u8,
        /// The value.
        value: PtePick,
    },
    /// Any slot of a table of the pool.
    Slot {
        /// The table.
        table: u8,
        /// The index.
        index: u16,
        /// The value.
        value: PtePick,
    },
}

/// One instruction parcel (or a 32-bit instruction). Mostly valid encodings: a raw word
/// or parcel one time in sixteen each.
#[derive(Clone, Copy, Debug)]
pub enum Parcel {
    /// A row of the instruction table with random operand bits (branch and jump offsets
    /// kept small, load and store offsets multiples of 8 within 1 KiB).
    Op(u8, u32),
    /// A load, store, LR/SC or AMO (rows picked among the memory instructions) on the
    /// registers x5–x15 (which start as `tohost`, an odd value, `mtimecmp` and data
    /// addresses), with an offset of 8 × a small number.
    Mem(u8, u8, u8, i8),
    /// A Zicsr instruction: operation, one of the interesting CSRs, `rd`, `rs1`/`uimm`.
    Csr(u8, u8, u8, u8),
    /// A row of the compressed table with random operand bits.
    C(u8, u16),
    /// Any 32 bits.
    Raw32(u32),
    /// Any 16 bits.
    Raw16(u16),
}

impl<'a> Arbitrary<'a> for Parcel {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? & 15 {
            0..=5 => Parcel::Op(u.arbitrary()?, u.arbitrary()?),
            6..=8 => Parcel::Mem(
                u.arbitrary()?,
                u.arbitrary()?,
                u.arbitrary()?,
                u.arbitrary()?,
            ),
            9 | 10 => Parcel::Csr(
                u.arbitrary()?,
                u.arbitrary()?,
                u.arbitrary()?,
                u.arbitrary()?,
            ),
            11..=13 => Parcel::C(u.arbitrary()?, u.arbitrary()?),
            14 => Parcel::Raw32(u.arbitrary()?),
            _ => Parcel::Raw16(u.arbitrary()?),
        })
    }
}

/// A whole fuzz case. Decoded in order: the machine, the state, the space, a count byte
/// and that many registers (at most 8), a count byte and that many PTE writes (at most 8),
/// then parcels until the bytes run out (at most [`MAX_PARCELS`]).
#[derive(Clone, Debug)]
pub struct CpuInput {
    /// The machine.
    pub machine: MachinePick,
    /// The CSR state.
    pub state: StatePick,
    /// The translation mode.
    pub space: SpacePick,
    /// Register values (register number, value); the others hold data addresses.
    pub regs: Vec<(u8, RegValue)>,
    /// Page-table writes.
    pub ptes: Vec<PteWrite>,
    /// The code, from the entry point on (at most [`MAX_PARCELS`]).
    pub code: Vec<Parcel>,
}

impl<'a> Arbitrary<'a> for CpuInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let machine = u.arbitrary()?;
        let state = u.arbitrary()?;
        let space = u.arbitrary()?;
        let n = u8::arbitrary(u)? % 9;
        let regs = (0..n)
            .map(|_| u.arbitrary())
            .collect::<arbitrary::Result<_>>()?;
        let n = u8::arbitrary(u)? % 9;
        let ptes = (0..n)
            .map(|_| u.arbitrary())
            .collect::<arbitrary::Result<_>>()?;
        let mut code = Vec::new();
        while !u.is_empty() && code.len() < MAX_PARCELS {
            code.push(u.arbitrary()?);
        }
        Ok(CpuInput {
            machine,
            state,
            space,
            regs,
            ptes,
            code,
        })
    }
}

/// What a run did (for tests that check the generator's reach).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Why it stopped.
    pub stop: Option<Stop>,
    /// Instructions retired.
    pub retired: u64,
    /// Steps that trapped.
    pub traps: u64,
    /// Steps that started in U-mode, S-mode, M-mode.
    pub steps_by_privilege: [u64; 3],
    /// Page-table walks.
    pub walks: u64,
    /// L1 TLB hits (both TLBs, every access kind).
    pub tlb_hits: u64,
    /// Translation faults.
    pub faults: u64,
    /// The non-zero `mmu.faults.*` counters, by cause.
    pub fault_causes: Vec<(String, u64)>,
    /// Full TLB flushes the oracle issued.
    pub flushes: u64,
    /// The mode the MMU started in.
    pub start_mode: String,
}

/// The CSR numbers a generated Zicsr instruction picks from.
const CSRS: &[u16] = &[
    addr::MSTATUS,
    addr::SSTATUS,
    addr::SATP,
    addr::MEPC,
    addr::SEPC,
    addr::MTVEC,
    addr::STVEC,
    addr::MCAUSE,
    addr::SCAUSE,
    addr::MTVAL,
    addr::STVAL,
    addr::MIE,
    addr::MIP,
    addr::SIE,
    addr::SIP,
    addr::MEDELEG,
    addr::MIDELEG,
    addr::MSCRATCH,
    addr::SSCRATCH,
    addr::MCYCLE,
    addr::MINSTRET,
    addr::CYCLE,
    addr::TIME,
    addr::INSTRET,
    addr::MCOUNTEREN,
    addr::SCOUNTEREN,
    addr::MCOUNTINHIBIT,
    addr::MHARTID,
    addr::MISA,
    addr::PMPCFG0,
    addr::PMPADDR0,
    addr::MENVCFG,
    addr::SENVCFG,
    vmcsr::addr::VMMODE,
    vmcsr::addr::VMBASE,
    vmcsr::addr::VMBOUNDS,
    vmcsr::addr::VMSEGCFG,
    vmcsr::addr::VMSEGSEL,
    vmcsr::addr::VMSEGBASE,
    vmcsr::addr::VMSEGLIMIT,
    vmcsr::addr::VMSEGFLAGS,
    vmcsr::addr::VMSEGPT,
    vmcsr::addr::VMFORMAT,
    vmcsr::addr::VMROOT,
    vmcsr::addr::VMSTATUS,
    0x5CB,
    0x7C0,
];

const ZICSR: [Op; 6] = [
    Op::Csrrw,
    Op::Csrrs,
    Op::Csrrc,
    Op::Csrrwi,
    Op::Csrrsi,
    Op::Csrrci,
];

/// The encoding of one parcel: 2 or 4 bytes.
pub fn parcel_bytes(p: &Parcel) -> Vec<u8> {
    match *p {
        Parcel::Op(index, bits) => {
            let def = &TABLE[usize::from(index) % TABLE.len()];
            let word = (bits & !def.mask) | def.mat;
            let mut insn = decode(word);
            match def.format {
                // Keep control flow near the code: an even offset in -128..=126.
                IFormat::B | IFormat::J => insn.imm = i64::from((bits >> 24) as i8) & !1,
                // Aligned accesses near the (8-aligned) data addresses registers hold.
                IFormat::Load | IFormat::S if bits >> 31 == 0 => {
                    insn.imm = i64::from((bits >> 24) as i8 >> 1) * 8;
                }
                _ => {}
            }
            match encode(&insn) {
                Ok(e) => e.to_bytes(),
                Err(_) => word.to_le_bytes().to_vec(),
            }
        }
        Parcel::Mem(op, a, b, imm) => {
            let ops: Vec<&vmlab_cpu::isa::Def> = TABLE
                .iter()
                .filter(|d| matches!(class(d.op), Class::Load | Class::Store | Class::Atomic))
                .collect();
            let def = ops[usize::from(op) % ops.len()];
            let (ra, rb) = (5 + a % 11, 5 + b % 11);
            let mut insn = Insn::new(def.op, ra, rb, ra, 0);
            if matches!(def.format, IFormat::Load | IFormat::S) {
                insn.imm = i64::from(imm >> 2) * 8;
            }
            if matches!(def.format, IFormat::S) {
                insn.rs2 = ra;
                insn.rd = 0;
            }
            match encode(&insn) {
                Ok(e) => e.to_bytes(),
                Err(_) => vec![0x73, 0, 0, 0],
            }
        }
        Parcel::Csr(op, csr, rd, rs1) => {
            let mut insn = Insn::new(ZICSR[usize::from(op) % 6], rd & 31, 0, 0, 0);
            insn.csr = CSRS[usize::from(csr) % CSRS.len()];
            if matches!(insn.op, Op::Csrrwi | Op::Csrrsi | Op::Csrrci) {
                insn.imm = i64::from(rs1 & 31);
            } else {
                insn.rs1 = rs1 & 31;
            }
            match encode(&insn) {
                Ok(e) => e.to_bytes(),
                Err(_) => vec![0x73, 0, 0, 0],
            }
        }
        Parcel::C(index, bits) => {
            let def = &CTABLE[usize::from(index) % CTABLE.len()];
            ((bits & !def.mask) | def.mat).to_le_bytes().to_vec()
        }
        Parcel::Raw32(w) => w.to_le_bytes().to_vec(),
        Parcel::Raw16(h) => h.to_le_bytes().to_vec(),
    }
}

/// The code bytes of an input, and the byte offset of each parcel.
pub fn code_bytes(code: &[Parcel]) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for p in code.iter().take(MAX_PARCELS) {
        offsets.push(bytes.len() as u64);
        bytes.extend(parcel_bytes(p));
    }
    (bytes, offsets)
}

/// The virtual view of the starting mode: how a physical address of the code, data or table
/// pages is seen, and the extra interesting virtual addresses.
struct View {
    /// Subtract from a physical address to get its virtual address (0 for identity).
    offset: u64,
    /// Extra virtual addresses (aliases, segments).
    aliases: Vec<u64>,
}

impl View {
    fn va(&self, pa: u64) -> u64 {
        pa.wrapping_sub(self.offset)
    }
}

/// Builds page tables in the pool: pointers allocated as needed, leaves as asked.
struct TableBuilder<'a> {
    format: &'a Format,
    root: u64,
    next: u64,
    /// The PTE addresses of each mapping's walk, from the root down.
    paths: Vec<Vec<u64>>,
    writes: Vec<(u64, u64)>,
}

impl<'a> TableBuilder<'a> {
    fn new(format: &'a Format) -> Self {
        TableBuilder {
            format,
            root: TABLES,
            next: 1,
            paths: Vec::new(),
            writes: Vec::new(),
        }
    }

    fn read(&self, pa: u64) -> Option<u64> {
        self.writes
            .iter()
            .rev()
            .find(|(a, _)| *a == pa)
            .map(|(_, v)| *v)
    }

    fn pte(&self, flags: u8, global: bool, pfn: u64) -> u64 {
        let s = self.format.spec();
        let mask = 1u64
            .checked_shl(u32::from(s.pfn.width))
            .map_or(u64::MAX, |b| b - 1);
        let mut v = (pfn & mask).checked_shl(u32::from(s.pfn.lsb)).unwrap_or(0);
        let bits = [
            Some(s.valid),
            s.read,
            s.write,
            s.exec,
            s.user,
            s.global,
            s.accessed,
            s.dirty,
        ];
        for (i, b) in bits.iter().enumerate() {
            if let Some(b) = b {
                if flags >> i & 1 != 0 || (i == 5 && global) {
                    v |= 1 << b;
                }
            }
        }
        v
    }

    fn pointer(&self, table: u64) -> u64 {
        self.pte(1, false, table >> self.format.page_offset_bits())
    }

    fn fits(&self, pa: u64) -> bool {
        let s = self.format.spec();
        s.pfn.width < 64 && (pa >> self.format.page_offset_bits()) >> s.pfn.width == 0
    }

    /// Maps `va` to `pa` with a leaf at `leaf_level`; records the walk as a new mapping.
    fn map(&mut self, va: u64, pa: u64, leaf_level: u8, flags: u8, global: bool) {
        let f = self.format;
        let levels = f.levels();
        let leaf_level = if f.spec().superpages {
            leaf_level.min(levels - 1)
        } else {
            0
        };
        let mut table = self.root;
        let mut path = Vec::new();
        let pte_bytes = u64::from(f.pte_bytes());
        for level in (0..levels).rev() {
            let slot = table + f.index(va, level) * pte_bytes;
            path.push(slot);
            if level == leaf_level {
                let page = pa >> f.page_bits(level) << (f.page_bits(level) - f.page_offset_bits());
                let v = self.pte(flags, global, page);
                self.writes.push((slot, v));
                break;
            }
            let existing = self.read(slot);
            table = match existing {
                Some(p) if p >> f.spec().valid & 1 != 0 && !f.is_leaf(p, level) => f.pfn_address(p),
                // A superpage already maps this address (identity mappings agree).
                Some(p) if p >> f.spec().valid & 1 != 0 => break,
                _ => {
                    if self.next >= TABLE_PAGES {
                        break;
                    }
                    let t = TABLES + self.next * 0x1000;
                    self.next += 1;
                    self.writes.push((slot, self.pointer(t)));
                    t
                }
            };
        }
        self.paths.push(path);
    }
}

fn leaf_flags(pick: FlagsPick, user: bool) -> u8 {
    // Bits: V R W X U G A D.
    let right = 0b1100_1111 | if user { 0x10 } else { 0 };
    match pick {
        FlagsPick::Right => right,
        FlagsPick::Unaccessed => right & 0x3f,
        FlagsPick::WrongUser => right ^ 0x10,
        FlagsPick::Bits(b) => b,
    }
}

fn irq_bits(b: u8) -> u64 {
    [irq::SSI, irq::MSI, irq::STI, irq::MTI, irq::SEI, irq::MEI]
        .iter()
        .enumerate()
        .filter(|(i, _)| b >> i & 1 != 0)
        .fold(0, |a, (_, m)| a | m)
}

/// The format `vmformat = n` names on the fuzz machine (no custom formats).
fn vm_format(formats: &Formats, n: u8) -> (u64, Option<Arc<Format>>) {
    let n = u64::from(n % 6);
    let n = if n == 5 { 16 } else { n };
    (n, formats.get(n).cloned())
}

/// Writes the skeleton's tables (and the extra PTE writes) for `format`; returns the
/// aliases it made.
fn build_tables(
    m: &mut Machine,
    format: &Format,
    sk: &Skeleton,
    user: bool,
    ptes: &[PteWrite],
    data_alias_va: u64,
) -> Vec<u64> {
    let mut b = TableBuilder::new(format);
    let mut aliases = Vec::new();
    if b.fits(RAM_BASE + RAM_SIZE) {
        let code_flags = leaf_flags(sk.code, user);
        b.map(CODE, CODE, sk.leaf_level % 4, code_flags, sk.global);
        let data_flags = leaf_flags(sk.data, user);
        for k in 0..8 {
            b.map(
                DATA + k * 0x1000,
                DATA + k * 0x1000,
                0,
                data_flags,
                sk.global,
            );
        }
        let table_flags = leaf_flags(sk.tables, user);
        for k in 0..TABLE_PAGES {
            let t = TABLES + k * 0x1000;
            b.map(t, t, 0, table_flags, sk.global);
        }
        if format.va_ok(data_alias_va) {
            for k in 0..4 {
                b.map(
                    data_alias_va + k * 0x1000,
                    DATA + k * 0x1000,
                    0,
                    data_flags,
                    false,
                );
            }
            aliases.push(data_alias_va);
        }
    }
    let pte_bytes = u64::from(format.pte_bytes());
    let entries = (0x1000 / pte_bytes).min(1 << format.index_bits(format.levels() - 1));
    for w in ptes.iter().take(16) {
        let (slot, value) = match *w {
            PteWrite::Path {
                mapping,
                level,
                value,
            } => {
                if b.paths.is_empty() {
                    continue;
                }
                let path = &b.paths[usize::from(mapping) % b.paths.len()];
                // Mostly the leaf: the entries above it are shared by many mappings.
                let up = if level < 192 { 0 } else { usize::from(level) };
                let i = path.len().saturating_sub(1 + up % path.len());
                (path[i], value)
            }
            PteWrite::Slot {
                table,
                index,
                value,
            } => (
                TABLES
                    + u64::from(table) % TABLE_PAGES * 0x1000
                    + u64::from(index) % entries * pte_bytes,
                value,
            ),
        };
        let v = match value {
            PtePick::Leaf(flags, frame) => b.pte(flags, false, (RAM_BASE >> 12) + u64::from(frame)),
            PtePick::Pointer(t) => b.pointer(TABLES + u64::from(t) % TABLE_PAGES * 0x1000),
            PtePick::Invalid => 0,
            PtePick::Raw(v) => v,
        };
        b.writes.push((slot, v));
    }
    let ram = m.mem.ram_mut();
    for (pa, v) in &b.writes {
        let _ = ram.write(*pa, format.pte_bytes(), *v);
    }
    aliases
}

/// Installs the input's state, code and tables into a fresh machine and loads the MMU with
/// the mode the CSRs select. `Machine` has no public way to re-derive the MMU's mode from
/// CSRs written directly (its `apply_mode` is private), so the last step repeats what it does
/// after a CSR write: `translation_mode`, then `Mmu::set_mode`, and `vmstatus` on a refusal.
/// Nothing here touches a device register: the machine caches the devices' next event and
/// would not see such a change until the guest's first device access.
fn install(m: &mut Machine, input: &CpuInput) -> String {
    let st = &input.state;
    let privilege = st.privilege.privilege();
    let user =
        privilege == Privilege::User || (privilege == Privilege::Machine && st.mpp == PrivPick::U);
    let formats = Formats::new(Vec::new());
    let c = &mut m.hart.csrs;
    let m_ = Privilege::Machine;
    let _ = c.write(
        addr::MSTATUS,
        m_,
        u64::from(st.mstatus) & mstatus::MSTATUS_WRITABLE,
    );
    let mpp = vmlab_cpu::csr::priv_bits(st.mpp.privilege());
    c.mstatus = c.mstatus & !mstatus::MPP | mpp << mstatus::MPP_SHIFT;
    let _ = c.write(addr::MEDELEG, m_, u64::from(st.medeleg));
    let _ = c.write(addr::MIDELEG, m_, irq_bits(st.mideleg));
    let _ = c.write(addr::MIE, m_, irq_bits(st.mie));
    // Pending bits one time in four (else interrupts would end most runs at once).
    if st.mip & 0xc0 == 0xc0 {
        let _ = c.write(addr::MIP, m_, irq_bits(st.mip));
    }
    let _ = c.write(addr::MCOUNTEREN, m_, u64::from(st.mcounteren & 7));
    let _ = c.write(addr::SCOUNTEREN, m_, u64::from(st.scounteren & 7));

    let (code, offsets) = code_bytes(&input.code);
    let n = offsets.len().max(1);
    let at = |i: u8| offsets.get(usize::from(i) % n).copied().unwrap_or(0);

    // Translation.
    let asid = u64::from(st.asid);
    let mut view = View {
        offset: 0,
        aliases: Vec::new(),
    };
    match input.space {
        SpacePick::Bare => {}
        SpacePick::Satp { mode, skeleton } => {
            let (bits, f) = match mode % 3 {
                0 => (8, Format::sv39()),
                1 => (9, Format::sv48()),
                _ => (10, Format::sv57()),
            };
            let satp = bits << 60 | asid << 44 | TABLES >> 12;
            let _ = m.hart.csrs.write(addr::SATP, m_, satp);
            view.aliases = build_tables(m, &f, &skeleton, user, &input.ptes, 0);
        }
        SpacePick::VmPaged { format, skeleton } => {
            let (n, f) = vm_format(&formats, format);
            let vm = &mut m.hart.csrs.vm;
            vm.write(vmcsr::addr::VMMODE, 3);
            vm.write(vmcsr::addr::VMFORMAT, n);
            vm.write(vmcsr::addr::VMROOT, TABLES);
            let _ = m.hart.csrs.write(addr::SATP, m_, asid << 44);
            if let Some(f) = f {
                view.aliases = build_tables(m, &f, &skeleton, user, &input.ptes, 0);
            }
        }
        SpacePick::BaseBounds { base, bounds } => {
            let base = base.value();
            let bounds = match bounds {
                0 => 0x2_0000,
                1 => RAM_SIZE,
                2 => 0x100,
                b => b,
            };
            let vm = &mut m.hart.csrs.vm;
            vm.write(vmcsr::addr::VMMODE, 1);
            vm.write(vmcsr::addr::VMBASE, base);
            vm.write(vmcsr::addr::VMBOUNDS, bounds);
            view.offset = base;
        }
        SpacePick::Segments {
            selector_bits,
            va_bits,
            segs,
            flags0,
            format,
            skeleton,
        } => {
            let sel = 1 + u64::from(selector_bits % 3);
            let va_bits = match va_bits % 8 {
                0 => 20,
                1 => 24,
                2 => 32,
                3 => 39,
                4 => 48,
                5 => 64,
                _ => u64::from(va_bits >> 1),
            };
            let (fnum, f) = vm_format(&formats, format);
            let vm = &mut m.hart.csrs.vm;
            vm.write(vmcsr::addr::VMMODE, 2);
            vm.write(vmcsr::addr::VMSEGCFG, va_bits << 8 | sel);
            vm.write(vmcsr::addr::VMFORMAT, fnum);
            let off_bits = va_bits.saturating_sub(sel).min(63);
            // Segment 0: the code, data and tables at offset 0.
            let flags0 = if flags0 & 0x80 == 0 {
                vmcsr::seg::R
                    | vmcsr::seg::W
                    | vmcsr::seg::X
                    | vmcsr::seg::PRESENT
                    | if user { vmcsr::seg::U } else { 0 }
            } else {
                u64::from(flags0)
            };
            vm.segs[0] = [RAM_BASE, 0x2_0000, flags0 & vmcsr::seg::ALL, TABLES];
            for (i, s) in segs.iter().enumerate() {
                let mut limit = match s.limit {
                    0 => 0x2_0000,
                    1 => 0x1000,
                    2 => 64,
                    l => u64::from(l) << 8,
                };
                let mut flags = u64::from(s.flags) & vmcsr::seg::ALL;
                let mut base = s.base.value();
                if s.flags & 0x80 == 0 {
                    // Mostly a segment the MMU accepts: present, within the offset width,
                    // not reaching below 0 or past the top.
                    flags |= vmcsr::seg::PRESENT;
                    limit = limit.min(1u64 << off_bits);
                    if flags & vmcsr::seg::GROWS_DOWN != 0 {
                        base = base.max(limit);
                    } else {
                        base = base.min(u64::MAX - limit);
                    }
                }
                vm.segs[i + 1] = [base, limit, flags, TABLES];
                if va_bits > sel && va_bits <= 64 {
                    view.aliases.push((i as u64 + 1) << off_bits);
                }
            }
            view.offset = RAM_BASE;
            let _ = m.hart.csrs.write(addr::SATP, m_, asid << 44);
            if let Some(f) = f {
                // Paged segments walk with the segment offset: map offset 0 onwards.
                build_tables(m, &f, &skeleton, user, &input.ptes, 0);
            }
        }
        SpacePick::Raw { satp, mode, regs } => {
            let _ = m.hart.csrs.write(addr::SATP, m_, satp);
            let vm = &mut m.hart.csrs.vm;
            vm.write(vmcsr::addr::VMMODE, u64::from(mode % 5));
            vm.write(vmcsr::addr::VMBASE, regs[0]);
            vm.write(vmcsr::addr::VMBOUNDS, regs[1]);
            vm.write(vmcsr::addr::VMSEGCFG, regs[2]);
            vm.write(vmcsr::addr::VMFORMAT, regs[3]);
            vm.write(vmcsr::addr::VMROOT, regs[4]);
        }
    }
    // A privilege below M sees the code through the translation; M-mode does not.
    let code_va = |off: u64| view.va(CODE + off);
    let c = &mut m.hart.csrs;
    let tvec = |i: u8| (i & 0x80 != 0) as u64;
    // Half the time a stub handler that skips 4 bytes and returns; one time in eight no
    // M-mode handler (`mtvec` = 0: the ecall exit convention applies); else a parcel.
    let mtvec = match st.mtvec >> 4 & 7 {
        0..=3 => M_STUB,
        7 => 0,
        _ => (CODE + at(st.mtvec)) | tvec(st.mtvec),
    };
    let _ = c.write(addr::MTVEC, m_, mtvec);
    let stvec = match st.stvec >> 4 & 7 {
        0..=3 => code_va(S_STUB - CODE),
        _ => code_va(at(st.stvec)) | tvec(st.stvec),
    };
    let _ = c.write(addr::STVEC, m_, stvec);
    let _ = c.write(addr::MEPC, m_, code_va(at(st.mepc)));
    let _ = c.write(addr::SEPC, m_, code_va(at(st.sepc)));

    // The MMU's mode, as the machine would set it after a CSR write.
    let mode = translation_mode(c.satp_mode(), c.satp_root(), &c.vm, &formats);
    c.vm.status = match mode {
        Ok(mode) => match m.mmu.set_mode(mode) {
            Ok(()) => 0,
            Err(_) => 1 | vmcsr::err::INVALID << 8,
        },
        Err(code) => 1 | code << 8,
    };
    let start_mode = m.mmu.mode().name();

    // Registers.
    for r in 1..32u64 {
        m.hart.x[r as usize] = view.va(DATA + r * 0x100);
    }
    m.hart.x[5] = HTIF_TOHOST;
    m.hart.x[6] = 3;
    m.hart.x[7] = CLINT + 0x4000;
    m.hart.x[17] = 93;
    for &(r, v) in input.regs.iter().take(32) {
        let value = match v {
            RegValue::Data(o) => view.va(DATA + (u64::from(o) & 0x7ff8)),
            RegValue::Code(i) => view.va(CODE + at(i)),
            RegValue::Table(o) => view.va(TABLES + u64::from(o) % (TABLE_PAGES * 0x1000)),
            RegValue::PhysData(o) => DATA + (u64::from(o) & 0x7ff8),
            RegValue::Alias(i, o) => match view.aliases.len() {
                0 => u64::from(o),
                n => view.aliases[usize::from(i) % n] + u64::from(o & 0x3ff8),
            },
            RegValue::Device(d) => [
                HTIF_TOHOST,
                CLINT,
                CLINT + 0x4000,
                CLINT + 0xbff8,
                CONSOLE,
                DISKCTL,
                DISKCTL + 8,
                DISKCTL + 16,
            ][usize::from(d) % 8],
            RegValue::Small(s) => s as i64 as u64,
            RegValue::Satp(mode, asid, t) => {
                let mode = match mode % 5 {
                    0 => 0,
                    1 => 8,
                    2 => 9,
                    3 => 10,
                    _ => u64::from(mode >> 4),
                };
                mode << 60
                    | u64::from(asid) << 44
                    | (TABLES + u64::from(t) % TABLE_PAGES * 0x1000) >> 12
            }
            RegValue::Status(s) => u64::from(s),
            RegValue::Any(v) => v,
        };
        m.hart.set_reg(r & 31, value);
    }

    // Code, and the timer.
    let _ = m.mem.ram_mut().write_bytes(CODE, &code);
    let _ = m
        .mem
        .ram_mut()
        .write_bytes(M_STUB, &stub(addr::MSCRATCH, addr::MEPC, Op::Mret));
    let _ = m
        .mem
        .ram_mut()
        .write_bytes(S_STUB, &stub(addr::SSCRATCH, addr::SEPC, Op::Sret));
    m.hart.privilege = privilege;
    m.hart.pc = if privilege == Privilege::Machine {
        CODE
    } else {
        code_va(0)
    };
    start_mode
}

/// A trap handler that returns to the instruction 4 bytes after the trapping one, keeping
/// every register: `csrrw x31, scratch, x31; csrr x31, epc; addi x31, x31, 4;
/// csrw epc, x31; csrrw x31, scratch, x31; xret`.
fn stub(scratch: u16, epc: u16, ret: Op) -> Vec<u8> {
    let csr = |op, rd, rs1, csr| Insn {
        csr,
        ..Insn::new(op, rd, rs1, 0, 0)
    };
    [
        csr(Op::Csrrw, 31, 31, scratch),
        csr(Op::Csrrs, 31, 0, epc),
        Insn::new(Op::Addi, 31, 31, 0, 4),
        csr(Op::Csrrw, 0, 31, epc),
        csr(Op::Csrrw, 31, 31, scratch),
        Insn::new(ret, 0, 0, 0, 0),
    ]
    .iter()
    .flat_map(|i| encode(i).expect("the stub encodes").to_bytes())
    .collect()
}

fn csr_writes(i: &Insn) -> bool {
    match i.op {
        Op::Csrrw | Op::Csrrwi => true,
        Op::Csrrs | Op::Csrrc => i.rs1 != 0,
        Op::Csrrsi | Op::Csrrci => i.imm != 0,
        _ => false,
    }
}

/// Runs one input, with the decode cache flipped and the fast paths off when `twin`;
/// checks every step.
fn run_one(input: &CpuInput, twin: bool) -> (Outcome, Machine) {
    let mut pick = input.machine;
    pick.decode_cache ^= twin;
    let mut cfg = pick.config();
    cfg.host.fast_paths = !twin;
    let mut m = Machine::new(cfg).expect("the fuzz machine's configuration is valid");
    let start_mode = install(&mut m, input);
    m.set_probe_check(true);
    let mut out = Outcome {
        start_mode,
        ..Outcome::default()
    };
    let mut prev = m.now();
    let mut steps = 0u64;
    loop {
        let event = m.mem.next_event();
        let ad_writes = m.mmu.stats().walker.ad_writes;
        let privilege = m.hart.privilege;
        let Some(info) = m.step() else { break };
        steps += 1;
        out.steps_by_privilege[match privilege {
            Privilege::User => 0,
            Privilege::Supervisor => 1,
            Privilege::Machine => 2,
        }] += 1;
        if matches!(info.result, vmlab_cpu::hart::StepResult::Trapped { .. }) {
            out.traps += 1;
        }
        assert!(
            m.now() >= prev,
            "the clock went back from {prev} to {}",
            m.now()
        );
        prev = m.now();
        assert_eq!(m.hart.x[0], 0, "x0 is not 0 after {info:?}");
        assert_eq!(m.hart.pc & 1, 0, "odd pc after {info:?}");
        assert!(
            m.probe_mismatches().is_empty(),
            "probe and translate disagree at step {steps} ({info:?}), mode {}:\n{}",
            m.mmu.mode().name(),
            m.probe_mismatches().join("\n")
        );
        assert!(
            steps <= MAX_CYCLES + 2,
            "no stop after {steps} steps (clock {})",
            m.now()
        );
        // Make stale TLB entries impossible (see the module documentation).
        let stale = matches!(class(info.insn.op), Class::Store | Class::Atomic)
            || (csr_writes(&info.insn) && changes_translation(info.insn.csr))
            || m.mmu.stats().walker.ad_writes != ad_writes
            || event.is_some_and(|e| e.0 <= m.now());
        if stale {
            m.mmu.flush(Flush::All);
            out.flushes += 1;
        }
    }
    let stop = m.stop_reason().cloned().expect("the run stopped");
    assert!(m.retired() <= MAX_INSNS, "{} retired", m.retired());
    match stop {
        Stop::InsnLimit(n) => assert_eq!(n, MAX_INSNS),
        Stop::CycleLimit(n) => assert!(n >= MAX_CYCLES && n == m.now()),
        _ => {}
    }
    let stats = m.mmu.stats();
    out.stop = Some(stop);
    out.retired = m.retired();
    out.walks = stats.walker.walks;
    out.faults = stats.total_faults();
    let list = m.mmu.stat_list();
    out.fault_causes = list
        .iter()
        .filter(|(n, v)| *v != 0 && n.starts_with("mmu.faults."))
        .map(|(n, v)| (n["mmu.faults.".len()..].to_string(), *v))
        .collect();
    out.tlb_hits = list
        .iter()
        .filter(|(n, _)| n.starts_with("mmu.itlb.hits") || n.starts_with("mmu.dtlb.hits"))
        .map(|(_, v)| v)
        .sum();
    (out, m)
}

/// Runs one input and checks everything the module documentation lists; panics on a
/// disagreement.
pub fn check_cpu(input: &CpuInput) -> Outcome {
    let (out, m) = run_one(input, false);
    if input.machine.twin {
        let (out2, m2) = run_one(input, true);
        assert_eq!(out.stop, out2.stop, "the host shortcuts changed the stop");
        assert_eq!(
            m.stat_list(),
            m2.stat_list(),
            "the host shortcuts changed a statistic"
        );
        assert_eq!(m.hart.x, m2.hart.x, "the host shortcuts changed a register");
        assert_eq!(m.hart.pc, m2.hart.pc, "the host shortcuts changed the pc");
    }
    out
}

/// Decodes `data` as a [`CpuInput`] the way `fuzz_target!` does and runs [`check_cpu`].
/// Bytes that do not decode are ignored.
pub fn check_cpu_bytes(data: &[u8]) {
    if let Ok(input) = CpuInput::arbitrary_take_rest(Unstructured::new(data)) {
        check_cpu(&input);
    }
}

/// As [`check_cpu_bytes`], returning what the run did (None when the bytes do not decode).
pub fn run_cpu_bytes(data: &[u8]) -> Option<Outcome> {
    CpuInput::arbitrary_take_rest(Unstructured::new(data))
        .ok()
        .map(|input| check_cpu(&input))
}
