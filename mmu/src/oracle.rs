//! The differential oracle: the real [`Mmu`] against the
//! [`reference`](mod@crate::reference) translator.
//!
//! An [`OracleInput`] is a recipe: a configuration (page-table formats, A/D policy, TLB
//! geometries and replacement policies, an optional L2 TLB), a memory image built from
//! mapping recipes (so that page-table walks mostly succeed), base-and-bounds and segment
//! registers, and a sequence of [`Op`]s: translations, probes, PTE writes, flushes, mode,
//! root, ASID and context switches. Every value is resolved against the current state and
//! biased towards the edges where translation bugs live: the last byte of a superpage, the
//! top byte of a grows-down segment, the last byte before a bound, canonical-address edges
//! and page boundaries.
//!
//! [`check`] runs the unit on one [`SparseMemory`] and the reference on a copy, and panics
//! with a readable report on the first disagreement: every physical address, page size and
//! [`Fault`] must be equal (cycles are not compared), a probe must agree with the reference
//! and change neither the statistics, the TLBs nor memory, and both memories must receive
//! exactly the same A/D writes (so they stay byte-identical, which is also checked at the end).
//!
//! # The flush rule
//!
//! After a PTE write the unit may legitimately keep a stale TLB entry unless software issues
//! the flush the architecture requires, so the oracle must issue it, and must never issue a
//! narrower one than is sound. The oracle keeps a record of every translation the reference
//! completed since it was last flushed (the path of PTE addresses it read, its page, ASID,
//! global bit and root). The unit can only cache what a successful walk produced, and while
//! the oracle keeps the TLBs coherent each of its walks equals the reference's, so the records
//! are a superset of the TLB contents. A translation can only change if a PTE on its path
//! changes; so after a write the oracle flushes exactly the recorded translations whose path
//! overlaps the written bytes: one `sfence.vma va, asid` per page ([`Flush::Addr`] for a
//! global one), per-ASID flushes or [`Flush::All`] when there are many. Switching to a root
//! with an ASID that was used with another root flushes that ASID first, and global
//! translations recorded under another root are flushed by address. A change of mode or of
//! any segment register flushes every TLB by the unit's documented contract, so the records
//! are cleared then. Finally, an Svadu write-back of A/D to a PTE that another recorded
//! translation also reaches (aliased tables) flushes that translation too: the hardware need
//! not do so, but the other entry would report the PTE's old value in a fault.

use crate::config::MmuConfig;
use crate::fault::{Fault, FaultCause};
use crate::format::{AdPolicy, BitField, Format, FormatSpec, LeafRule, VaCheck};
use crate::mode::{Mode, SegmentRegister, Segmentation};
use crate::port::{MemoryPort, PortError, SparseMemory};
use crate::reference::{self, Outcome};
use crate::tlb::{Flush, Policy, TlbConfig};
use crate::trace::TlbId;
use crate::types::{AccessKind, Context, Cycle, Privilege, Request};
use crate::unit::{Mmu, Translation};
use arbitrary::{Arbitrary, Unstructured};
use std::fmt;
use std::sync::Arc;

/// The most operations one input runs.
pub const MAX_OPS: usize = 160;
/// How many address spaces (page-table trees) an input may build.
pub const SPACES: usize = 3;
/// How many mappings each address space recipe holds.
pub const MAPS: usize = 6;

/// One complete oracle input: a setup and the operations to run on it.
#[derive(Clone, Debug)]
pub struct OracleInput {
    /// The configuration, memory image and registers.
    pub setup: Setup,
    /// The operations, in order (at most [`MAX_OPS`] are run).
    pub ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for OracleInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let setup = Setup::arbitrary(u)?;
        // Operations take the rest of the data: no length prefix or continuation bits, so
        // every byte a fuzzer adds becomes part of some operation.
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < MAX_OPS {
            ops.push(Op::arbitrary(u)?);
        }
        Ok(OracleInput { setup, ops })
    }

    fn arbitrary_take_rest(mut u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::arbitrary(&mut u)
    }
}

/// The configuration, the memory image and the initial registers.
#[derive(Clone, Debug, Arbitrary)]
pub struct Setup {
    /// The A/D policy: false for Svade (fault), true for Svadu (the walker writes the bits).
    pub svadu: bool,
    /// The unit's `flush_on_root_change` option.
    pub flush_on_root_change: bool,
    /// The instruction TLB's geometry.
    pub itlb: TlbPick,
    /// The data TLB's geometry.
    pub dtlb: TlbPick,
    /// The optional shared second-level TLB.
    pub l2tlb: Option<TlbPick>,
    /// How much physical memory there is beyond the page tables: 0 ends memory right after
    /// the last table, 1 leaves one more 4 KiB page, anything else gives at least 1 MiB.
    pub memory: u8,
    /// How many of the address spaces are built: `1 + spaces_used % 3`.
    pub spaces_used: u8,
    /// The address spaces: a page-table format and mappings each.
    pub spaces: [SpaceRecipe; SPACES],
    /// Raw PTE writes applied after the mappings are built, without any flush.
    pub pokes: [Option<PteWrite>; 2],
    /// The segment registers.
    pub segments: SegRecipe,
    /// The base-and-bounds registers.
    pub base_bounds: BoundsRecipe,
    /// The initial mode.
    pub start: ModeSel,
    /// The initial privilege, SUM and MXR.
    pub ctx: CtxPick,
    /// The initial ASID (see [`Op::SetAsid`]).
    pub asid: u8,
}

/// A TLB geometry and replacement policy.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct TlbPick {
    /// Sets: one of 1, 1, 2, 3, 4, 5, 7, 8 (non-powers of two included).
    pub sets: u8,
    /// Ways: 1 to 6 (1, 2, 4 or 8 for tree-PLRU).
    pub ways: u8,
    /// The replacement policy.
    pub policy: PolicyPick,
    /// The random policy's seed.
    pub seed: u8,
}

/// A replacement policy.
#[derive(Clone, Copy, Debug, Arbitrary, PartialEq, Eq)]
pub enum PolicyPick {
    /// Least recently used.
    Lru,
    /// Tree pseudo-LRU.
    Plru,
    /// First in, first out.
    Fifo,
    /// Seeded random.
    Random,
}

impl TlbPick {
    fn config(self) -> TlbConfig {
        let sets = [1, 1, 2, 3, 4, 5, 7, 8][self.sets as usize % 8];
        let (policy, ways) = match self.policy {
            PolicyPick::Lru => (Policy::Lru, 1 + self.ways as u32 % 6),
            PolicyPick::Plru => (Policy::Plru, 1 << (self.ways as u32 % 4)),
            PolicyPick::Fifo => (Policy::Fifo, 1 + self.ways as u32 % 6),
            PolicyPick::Random => (Policy::Random, 1 + self.ways as u32 % 6),
        };
        TlbConfig {
            sets,
            ways,
            policy,
            hit_latency: 1,
            seed: self.seed as u64,
        }
    }
}

/// A page-table format.
#[derive(Clone, Copy, Debug, Arbitrary, PartialEq, Eq)]
pub enum FormatPick {
    /// RISC-V Sv32.
    Sv32,
    /// RISC-V Sv39.
    Sv39,
    /// RISC-V Sv48.
    Sv48,
    /// RISC-V Sv57.
    Sv57,
    /// The OSTEP two-level format (1-byte PTEs, 32-byte pages).
    Ostep2,
    /// An OSTEP linear table: `8 + asize % 13` address bits, pages of 2^4 bytes or more,
    /// at most 1024 entries.
    OstepLinear {
        /// Chooses the address-space size.
        asize: u8,
        /// Chooses the page size.
        page: u8,
    },
    /// `tiny16`: three levels of 3 index bits, 64-byte pages, 2-byte PTEs, a leaf bit with
    /// superpages, canonical 15-bit addresses.
    Tiny16,
    /// `x86ish32`: two levels of 10 bits, 4-byte PTEs without R and X bits, a PS-style leaf
    /// bit but no superpages (a leaf above the last level faults), reserved bits 9 to 11,
    /// zero-extended 32-bit addresses.
    X86ish,
    /// `flat64`: a single level of 63 index bits over 2-byte pages with 8-byte PTEs, so
    /// 64-bit virtual addresses with no width check at all and tables far larger than memory.
    Flat64,
}

impl FormatPick {
    /// The format this pick stands for.
    pub fn format(self) -> Format {
        match self {
            FormatPick::Sv32 => Format::sv32(),
            FormatPick::Sv39 => Format::sv39(),
            FormatPick::Sv48 => Format::sv48(),
            FormatPick::Sv57 => Format::sv57(),
            FormatPick::Ostep2 => Format::ostep_two_level(),
            FormatPick::OstepLinear { asize, page } => {
                let a = 8 + asize % 13;
                let d = 1 + page % (a - 4).min(10);
                Format::ostep_linear(a, a - d).unwrap_or_else(|_| Format::ostep_two_level())
            }
            FormatPick::Tiny16 => Format::new(tiny16()).unwrap_or_else(|_| Format::sv39()),
            FormatPick::X86ish => Format::new(x86ish32()).unwrap_or_else(|_| Format::sv32()),
            FormatPick::Flat64 => Format::new(flat64()).unwrap_or_else(|_| Format::sv39()),
        }
    }
}

/// The `tiny16` custom format (see [`FormatPick::Tiny16`]).
pub fn tiny16() -> FormatSpec {
    FormatSpec {
        name: "tiny16".into(),
        index_bits: vec![3, 3, 3],
        page_offset_bits: 6,
        pte_bytes: 2,
        pfn: BitField { lsb: 9, width: 7 },
        valid: 0,
        read: Some(1),
        write: Some(2),
        exec: Some(3),
        user: Some(4),
        global: Some(5),
        accessed: Some(6),
        dirty: Some(7),
        reserved: vec![],
        leaf: LeafRule::LeafBit(8),
        superpages: true,
        va_check: VaCheck::Canonical,
        non_leaf_dau_reserved: false,
    }
}

/// The `x86ish32` custom format (see [`FormatPick::X86ish`]).
pub fn x86ish32() -> FormatSpec {
    FormatSpec {
        name: "x86ish32".into(),
        index_bits: vec![10, 10],
        page_offset_bits: 12,
        pte_bytes: 4,
        pfn: BitField { lsb: 12, width: 20 },
        valid: 0,
        read: None,
        write: Some(1),
        exec: None,
        user: Some(2),
        global: Some(8),
        accessed: Some(5),
        dirty: Some(6),
        reserved: vec![crate::format::BitRange { from: 9, to: 11 }],
        leaf: LeafRule::LeafBit(7),
        superpages: false,
        va_check: VaCheck::Zero,
        non_leaf_dau_reserved: false,
    }
}

/// The `flat64` custom format (see [`FormatPick::Flat64`]).
pub fn flat64() -> FormatSpec {
    FormatSpec {
        name: "flat64".into(),
        index_bits: vec![63],
        page_offset_bits: 1,
        pte_bytes: 8,
        pfn: BitField { lsb: 8, width: 56 },
        valid: 0,
        read: Some(1),
        write: Some(2),
        exec: Some(3),
        user: Some(4),
        global: Some(5),
        accessed: Some(6),
        dirty: Some(7),
        reserved: vec![],
        leaf: LeafRule::LastLevel,
        superpages: false,
        va_check: VaCheck::Zero,
        non_leaf_dau_reserved: false,
    }
}

/// An address space: a format and the mappings its page tables hold.
#[derive(Clone, Debug, Arbitrary)]
pub struct SpaceRecipe {
    /// The page-table format.
    pub format: FormatPick,
    /// How many of the mapping recipes are installed: `1 + used % 6`.
    pub used: u8,
    /// The mappings.
    pub maps: [MapRecipe; MAPS],
}

/// One mapping to install in an address space's page tables.
#[derive(Clone, Debug, Arbitrary)]
pub struct MapRecipe {
    /// The table index at each level, root first. A byte below 8 is that index, a byte of
    /// 248 or more counts down from the highest index, others are taken modulo the table.
    pub index: [u8; 5],
    /// The leaf's level: a superpage (level 1 or higher) when `level % 4 == 0` and the
    /// format allows superpages, else a base page; in a format without superpages whose
    /// leaf rule can mark a leaf above the last level, 252 or more puts one at level 1.
    pub level: u8,
    /// The permissions: `perm % 8` picks R, RW, RX, RWX, X, R, RW, or bits 3..6 as R, W, X.
    pub perm: u8,
    /// Flag choices: bits 0-1 are A and D (0 and 1 set both, 2 sets A only, 3 neither);
    /// bit 2 sets U; bits 3-4 both set make the leaf global; bits 5-7 all set make the
    /// root's pointer global.
    pub bits: u8,
    /// The physical frame the leaf maps.
    pub frame: FramePick,
    /// A deliberate defect, if `corrupt >= 224` (see `docs/fuzzing.md`).
    pub corrupt: u8,
    /// A byte of 240 or more makes the first table this mapping needs alias an existing one.
    pub alias: u8,
}

/// A leaf's physical frame.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum FramePick {
    /// Aligned to the leaf's page size (the usual case).
    Aligned(u16),
    /// Also aligned (listed twice to make alignment the common case).
    Aligned2(u16),
    /// Aligned, then the lowest PFN bit set (misaligned for any superpage).
    Misaligned(u16),
    /// Any PFN, masked to the format's PFN width.
    Raw(u64),
}

/// A segment-register file recipe.
#[derive(Clone, Debug, Arbitrary)]
pub struct SegRecipe {
    /// Selector bits: `1 + selector_bits % 3`.
    pub selector_bits: u8,
    /// Offset bits: one of 4, 8, 12, 16, 20, 24, 32, 40, reduced to fit the paged format.
    pub offset_bits: u8,
    /// Which address space's format (and default root) paged segments use.
    pub space: u8,
    /// The registers (only the first `2^selector_bits` are used).
    pub registers: [SegRegRecipe; 8],
}

/// One segment register recipe.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct SegRegRecipe {
    /// The physical base (grows-down segments add their limit so the base is never below it).
    pub base: u32,
    /// The limit.
    pub limit: LimitPick,
    /// Bit 0 read, bit 1 write, bit 2 exec, bit 3 user, bits 4-5 present (either set),
    /// bit 6 grows down, bit 7 paged.
    pub flags: u8,
    /// For a paged segment, the address space whose root it uses (if its format matches).
    pub space: u8,
}

/// A segment limit.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum LimitPick {
    /// The whole segment.
    Full,
    /// The whole segment less a few bytes.
    Minus(u8),
    /// A number of 4 KiB pages (capped at the whole segment).
    Pages(u8),
    /// Any limit up to the whole segment.
    Raw(u32),
    /// Empty.
    Zero,
}

/// A base-and-bounds register recipe.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct BoundsRecipe {
    /// The base register.
    pub base: ValuePick,
    /// The bounds register.
    pub bounds: ValuePick,
}

/// A 64-bit register value biased to edges.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum ValuePick {
    /// `16 * x`.
    Small(u16),
    /// `4096 * x`.
    Pages(u8),
    /// `u64::MAX - x`.
    NearTop(u16),
    /// Any value.
    Raw(u64),
}

impl ValuePick {
    fn value(self) -> u64 {
        match self {
            ValuePick::Small(x) => x as u64 * 16,
            ValuePick::Pages(x) => x as u64 * 4096,
            ValuePick::NearTop(x) => u64::MAX - x as u64,
            ValuePick::Raw(x) => x,
        }
    }
}

/// A translation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeSel {
    /// Bare.
    Bare,
    /// Base and bounds from the current base-and-bounds recipe.
    BaseBounds,
    /// Segments from the current segment recipe.
    Segments,
    /// Paged, with the root of address space `n % spaces`.
    Paged(u8),
}

impl<'a> Arbitrary<'a> for ModeSel {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=15 => ModeSel::Bare,
            16..=39 => ModeSel::BaseBounds,
            40..=79 => ModeSel::Segments,
            _ => ModeSel::Paged(u8::arbitrary(u)?),
        })
    }
}

/// A privilege with SUM and MXR.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct CtxPick {
    /// `privilege % 8`: 0-3 user, 4-6 supervisor, 7 machine.
    pub privilege: u8,
    /// `mstatus.SUM`.
    pub sum: bool,
    /// `mstatus.MXR`.
    pub mxr: bool,
}

impl CtxPick {
    fn privilege(self) -> Privilege {
        match self.privilege % 8 {
            0..=3 => Privilege::User,
            4..=6 => Privilege::Supervisor,
            _ => Privilege::Machine,
        }
    }
}

/// An access kind.
#[derive(Clone, Copy, Debug, Arbitrary, PartialEq, Eq)]
pub enum KindPick {
    /// A fetch.
    Fetch,
    /// A load.
    Load,
    /// A store.
    Store,
}

impl KindPick {
    fn kind(self) -> AccessKind {
        match self {
            KindPick::Fetch => AccessKind::Fetch,
            KindPick::Load => AccessKind::Load,
            KindPick::Store => AccessKind::Store,
        }
    }
}

/// An access width.
#[derive(Clone, Copy, Debug)]
pub enum SizePick {
    /// One byte.
    One,
    /// Two bytes.
    Two,
    /// Four bytes.
    Four,
    /// Eight bytes.
    Eight,
    /// Any width, 0 and 255 included.
    Raw(u8),
}

impl<'a> Arbitrary<'a> for SizePick {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=63 => SizePick::One,
            64..=103 => SizePick::Two,
            104..=167 => SizePick::Four,
            168..=231 => SizePick::Eight,
            _ => SizePick::Raw(u8::arbitrary(u)?),
        })
    }
}

impl SizePick {
    fn size(self) -> u8 {
        match self {
            SizePick::One => 1,
            SizePick::Two => 2,
            SizePick::Four => 4,
            SizePick::Eight => 8,
            SizePick::Raw(x) => x,
        }
    }
}

/// Where in a mapped page (or segment, or bounded space) an address falls.
#[derive(Clone, Copy, Debug)]
pub enum Spot {
    /// The first byte.
    Start,
    /// The last `size` bytes (the top of a grows-down segment).
    End,
    /// The last byte (an access wider than a byte straddles).
    LastByte,
    /// Anywhere inside.
    Within(u32),
    /// The first byte after the end.
    Next,
    /// Just before a base-page boundary inside a superpage.
    BaseEdge(u8),
    /// The byte before the start.
    Below,
}

impl<'a> Arbitrary<'a> for Spot {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=49 => Spot::Start,
            50..=89 => Spot::End,
            90..=169 => Spot::Within(u32::arbitrary(u)?),
            170..=189 => Spot::LastByte,
            190..=209 => Spot::Next,
            210..=234 => Spot::BaseEdge(u8::arbitrary(u)?),
            _ => Spot::Below,
        })
    }
}

/// A virtual address, resolved against the current mode.
#[derive(Clone, Copy, Debug)]
pub enum VaPick {
    /// A spot in mapping `map` of the current address space (paged mode), in segment
    /// `map % segments` (segment mode), or relative to the bounds (base and bounds).
    Map {
        /// Chooses the mapping or segment.
        map: u8,
        /// Where in it.
        spot: Spot,
    },
    /// The previous access's address.
    Same,
    /// The previous access's address plus a small signed delta.
    Near(i8),
    /// A mode-specific edge: canonical-address edges, the top of the address width,
    /// segment boundaries, the bounds.
    Edge(u8),
    /// Any address.
    Raw(u64),
}

impl<'a> Arbitrary<'a> for VaPick {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=139 => VaPick::Map {
                map: u8::arbitrary(u)?,
                spot: Spot::arbitrary(u)?,
            },
            140..=179 => VaPick::Same,
            180..=204 => VaPick::Near(i8::arbitrary(u)?),
            205..=234 => VaPick::Edge(u8::arbitrary(u)?),
            _ => VaPick::Raw(u64::arbitrary(u)?),
        })
    }
}

/// One access: a kind, a width and an address.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct Access {
    /// Fetch, load or store.
    pub kind: KindPick,
    /// The width.
    pub size: SizePick,
    /// The address.
    pub va: VaPick,
}

/// Which PTE a write changes.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum PteTarget {
    /// The leaf PTE of mapping `n` (counting the mappings of every space).
    Leaf(u8),
    /// The PTE at path position `level` of mapping `map`.
    Path {
        /// The mapping.
        map: u8,
        /// The position on its path (root first).
        level: u8,
    },
    /// Entry `index` of page table `table` (counting every table built).
    Table {
        /// The table.
        table: u8,
        /// The entry.
        index: u16,
    },
    /// Any 8-byte-aligned address in memory, as a PTE of the current format.
    Raw(u32),
}

/// The new value of a written PTE.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum PteValue {
    /// The old value with one bit flipped.
    Flip(u8),
    /// The old value with flags set: bit 0 R, 1 W, 2 X, 3 U, 4 G, 5 A, 6 D, 7 V.
    Set(u8),
    /// The old value with the same flags cleared.
    Clear(u8),
    /// The old value with V clear.
    Invalidate,
    /// A pointer to page table `n`.
    Pointer(u8),
    /// A fresh leaf.
    Leaf {
        /// Its frame.
        frame: FramePick,
        /// Its permissions, as [`MapRecipe::perm`].
        perm: u8,
        /// Its flags, as [`MapRecipe::bits`].
        bits: u8,
    },
    /// Any value, masked to the PTE width.
    Raw(u64),
    /// Zero.
    Zero,
}

/// A PTE write.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct PteWrite {
    /// Where.
    pub target: PteTarget,
    /// What.
    pub value: PteValue,
}

/// An explicit flush.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum FlushPick {
    /// Everything.
    All,
    /// One ASID's non-global entries.
    Asid(u8),
    /// Every entry for one address.
    Addr(VaPick),
    /// One ASID's non-global entries for one address.
    AddrAsid(VaPick, u8),
}

/// One operation.
#[derive(Clone, Debug)]
pub enum Op {
    /// A timed translation, compared with the reference.
    Translate(Access),
    /// A probe, compared with the reference; it must change nothing.
    Probe(Access),
    /// A PTE write, followed by the flush the architecture requires. `widen % 8` of 6 widens
    /// it to per-ASID flushes, 7 to a full flush.
    WritePte {
        /// The write.
        write: PteWrite,
        /// Widens the flush.
        widen: u8,
    },
    /// An explicit flush.
    Flush(FlushPick),
    /// A mode switch (a root switch, if paged with the same format).
    SetMode(ModeSel),
    /// An ASID switch: `n % 4`, or 0xffff for 255.
    SetAsid(u8),
    /// A change of privilege, SUM and MXR.
    SetContext(CtxPick),
    /// A change of one segment register (effective at once in segment mode).
    SetSegment {
        /// The register.
        index: u8,
        /// Its new contents.
        register: SegRegRecipe,
    },
    /// A change of the base-and-bounds registers (effective at once in that mode).
    SetBaseBounds(BoundsRecipe),
}

impl<'a> Arbitrary<'a> for Op {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=179 => Op::Translate(Access::arbitrary(u)?),
            180..=199 => Op::Probe(Access::arbitrary(u)?),
            200..=215 => Op::WritePte {
                write: PteWrite::arbitrary(u)?,
                widen: u8::arbitrary(u)?,
            },
            216..=225 => Op::Flush(FlushPick::arbitrary(u)?),
            226..=233 => Op::SetMode(ModeSel::arbitrary(u)?),
            234..=240 => Op::SetAsid(u8::arbitrary(u)?),
            241..=250 => Op::SetContext(CtxPick::arbitrary(u)?),
            251..=253 => Op::SetSegment {
                index: u8::arbitrary(u)?,
                register: SegRegRecipe::arbitrary(u)?,
            },
            _ => Op::SetBaseBounds(BoundsRecipe::arbitrary(u)?),
        })
    }
}

/// What one or more oracle runs exercised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Inputs run.
    pub inputs: u64,
    /// Operations run.
    pub ops: u64,
    /// Timed translations compared.
    pub translations: u64,
    /// Of those, how many succeeded.
    pub translated: u64,
    /// Probes compared.
    pub probes: u64,
    /// Faults of the timed translations, by [`FaultCause::index`].
    pub faults: Vec<u64>,
    /// TLB hits (first- and second-level) the unit counted.
    pub tlb_hits: u64,
    /// Page-table walks the unit counted.
    pub walks: u64,
    /// Svadu A/D write-backs the unit counted.
    pub ad_writes: u64,
    /// Svadu walks caused by a store hitting a clean TLB entry.
    pub dirty_rewalks: u64,
    /// PTE writes performed.
    pub pte_writes: u64,
    /// Flushes issued, by [`Flush::index`] (all, asid, addr, addr-asid).
    pub flushes: [u64; 4],
    /// Mode switches the unit accepted.
    pub mode_switches: u64,
}

impl Summary {
    /// Adds another summary's counts to this one.
    pub fn add(&mut self, o: &Summary) {
        self.inputs += o.inputs;
        self.ops += o.ops;
        self.translations += o.translations;
        self.translated += o.translated;
        self.probes += o.probes;
        if self.faults.len() < o.faults.len() {
            self.faults.resize(o.faults.len(), 0);
        }
        for (a, b) in self.faults.iter_mut().zip(&o.faults) {
            *a += b;
        }
        self.tlb_hits += o.tlb_hits;
        self.walks += o.walks;
        self.ad_writes += o.ad_writes;
        self.dirty_rewalks += o.dirty_rewalks;
        self.pte_writes += o.pte_writes;
        for i in 0..4 {
            self.flushes[i] += o.flushes[i];
        }
        self.mode_switches += o.mode_switches;
    }

    /// How many timed translations faulted with `cause`.
    pub fn faults_of(&self, cause: FaultCause) -> u64 {
        self.faults.get(cause.index()).copied().unwrap_or(0)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} inputs, {} ops: {} translations ({} ok), {} probes, {} TLB hits, {} walks, \
             {} A/D writes, {} dirty rewalks, {} PTE writes, flushes all/asid/addr/addr-asid {:?}, \
             {} mode switches",
            self.inputs,
            self.ops,
            self.translations,
            self.translated,
            self.probes,
            self.tlb_hits,
            self.walks,
            self.ad_writes,
            self.dirty_rewalks,
            self.pte_writes,
            self.flushes,
            self.mode_switches
        )?;
        write!(f, "faults:")?;
        for c in FaultCause::all() {
            let n = self.faults_of(c);
            if n > 0 {
                write!(f, " {}={n}", c.name())?;
            }
        }
        Ok(())
    }
}

/// Decodes `data` as an [`OracleInput`] the way `fuzz_target!` does and runs [`check`].
/// Bytes that do not decode are ignored.
pub fn check_bytes(data: &[u8]) {
    if let Ok(input) = OracleInput::arbitrary_take_rest(Unstructured::new(data)) {
        check(&input);
    }
}

/// Runs `cases` inputs decoded from a deterministic byte stream (splitmix64 of `seed`), and
/// returns what they exercised. On a disagreement it prints the case's bytes as hex (so they
/// can be saved to `fuzz/regressions/translate/`) and re-raises the panic.
pub fn run_seeded(seed: u64, cases: usize) -> Summary {
    let mut state = seed;
    let mut total = Summary::default();
    for case in 0..cases {
        let len = 400 + (splitmix64(&mut state) % 1400) as usize;
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            bytes.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        bytes.truncate(len);
        let Ok(input) = OracleInput::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        match r {
            Ok(s) => total.add(&s),
            Err(e) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                eprintln!(
                    "oracle: seeded case {case} of seed {seed:#x} failed; input bytes:\n{hex}"
                );
                std::panic::resume_unwind(e);
            }
        }
    }
    total
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `input` through the unit and the reference and panics with a readable report on
/// the first disagreement. Returns what the run exercised.
pub fn check(input: &OracleInput) -> Summary {
    let mut r = Runner::new(input);
    for (i, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        r.op_index = i;
        r.op(op);
    }
    r.finish()
}

// ---------------------------------------------------------------------------------------
// Building the world: formats, page tables, registers.
// ---------------------------------------------------------------------------------------

/// A mapping as installed.
#[derive(Clone, Debug)]
struct MapInfo {
    /// The first virtual address of the page (sign-extended for canonical formats).
    va: u64,
    /// log2 of the page size.
    page_bits: u8,
    /// The leaf's level.
    level: u8,
    /// The PTE addresses from the root down to the leaf, as built.
    path: Vec<u64>,
    /// The address space.
    space: usize,
}

#[derive(Clone, Debug)]
struct Space {
    format: Arc<Format>,
    family: usize,
    root: u64,
    maps: Vec<MapInfo>,
}

#[derive(Clone, Copy, Debug)]
struct Table {
    addr: u64,
    family: usize,
}

struct Builder {
    families: Vec<Arc<Format>>,
    tables: Vec<Table>,
    /// PTE address -> the table the builder made it point to.
    pointers: std::collections::BTreeMap<u64, u64>,
    low_ostep: u64,
    low_tiny: u64,
    high: u64,
    mem: SparseMemory,
}

const HIGH_BASE: u64 = 0x2000;
const HIGH_TABLES: u64 = 96;

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn set_bit(v: u64, b: Option<u8>) -> u64 {
    b.map_or(v, |b| v | (1 << b))
}

/// log2 of the page a leaf at `level` maps.
fn page_bits(f: &Format, level: u8) -> u8 {
    f.page_bits(level)
}

fn pte_width_mask(f: &Format) -> u64 {
    mask(f.pte_bytes() as u32 * 8)
}

fn frame_pfn(f: &Format, level: u8, pick: FramePick) -> u64 {
    let low = (page_bits(f, level) - f.page_offset_bits()) as u32;
    let w = f.spec().pfn.width as u32;
    let pfn = match pick {
        FramePick::Aligned(x) | FramePick::Aligned2(x) => (x as u64) << low,
        FramePick::Misaligned(x) => ((x as u64) << low) | 1,
        FramePick::Raw(x) => x,
    };
    pfn & mask(w)
}

fn with_pfn(f: &Format, pte: u64, pfn: u64) -> u64 {
    let field = f.spec().pfn;
    (pte & !field.mask()) | ((pfn << field.lsb) & field.mask())
}

/// A pointer PTE to the table at `table`.
fn pointer_pte(f: &Format, table: u64, global: bool) -> u64 {
    let s = f.spec();
    let mut v = 1u64 << s.valid;
    v = with_pfn(f, v, table >> s.page_offset_bits);
    if global {
        v = set_bit(v, s.global);
    }
    v
}

/// A leaf PTE at `level` from a permission and flag recipe.
fn leaf_pte(f: &Format, level: u8, frame: FramePick, perm: u8, bits: u8) -> u64 {
    let s = f.spec();
    let mut v = 1u64 << s.valid;
    v = with_pfn(f, v, frame_pfn(f, level, frame));
    let (r, w, x) = match perm % 8 {
        0 | 5 => (true, false, false),
        1 | 6 => (true, true, false),
        2 => (true, false, true),
        3 => (true, true, true),
        4 => (false, false, true),
        _ => (perm & 8 != 0, perm & 16 != 0, perm & 32 != 0),
    };
    if r {
        v = set_bit(v, s.read);
    }
    if w {
        v = set_bit(v, s.write);
    }
    if x {
        v = set_bit(v, s.exec);
    }
    match bits & 3 {
        0 | 1 => v = set_bit(set_bit(v, s.accessed), s.dirty),
        2 => v = set_bit(v, s.accessed),
        _ => {}
    }
    if bits & 4 != 0 {
        v = set_bit(v, s.user);
    }
    if bits & 0x18 == 0x18 {
        v = set_bit(v, s.global);
    }
    if let LeafRule::LeafBit(b) = s.leaf {
        if level > 0 {
            v |= 1 << b;
        }
    }
    v
}

fn pick_index(b: u8, bits: u8) -> u64 {
    let max = mask(bits as u32);
    match b {
        0..=7 => (b as u64).min(max),
        248..=255 => max.saturating_sub(255 - b as u64),
        _ => b as u64 & max,
    }
}

/// Sign-extends a translated address for a canonical format.
fn canonical(f: &Format, va: u64) -> u64 {
    let n = f.va_bits() as u32;
    if f.spec().va_check == VaCheck::Canonical && n < 64 && (va >> (n - 1)) & 1 == 1 {
        va | !mask(n)
    } else {
        va
    }
}

impl Builder {
    fn family(&mut self, f: &Format) -> usize {
        if let Some(i) = self.families.iter().position(|g| **g == *f) {
            return i;
        }
        self.families.push(Arc::new(f.clone()));
        self.families.len() - 1
    }

    /// Allocates a zeroed table for a format, or `None` when its region is full.
    fn alloc(&mut self, f: &Format, family: usize) -> Option<u64> {
        // A table larger than 64 KiB (flat64's) is given only its first 64 KiB: the rest
        // lies beyond memory or over other tables, which is what the fuzzer wants anyway.
        let table_bytes = (0..f.levels())
            .map(|l| (1u64 << f.index_bits(l).min(20)) * f.pte_bytes() as u64)
            .max()
            .unwrap_or(4096)
            .min(1 << 16);
        let page = 1u64 << f.page_offset_bits();
        let addr = match f.name() {
            "ostep-2level" => {
                if self.low_ostep + table_bytes > 0x1000 {
                    return None;
                }
                let a = self.low_ostep;
                self.low_ostep += table_bytes.max(page);
                a
            }
            "tiny16" => {
                if self.low_tiny + table_bytes > 0x2000 {
                    return None;
                }
                let a = self.low_tiny;
                self.low_tiny += table_bytes.max(page);
                a
            }
            _ => {
                let align = page.max(64);
                let a = self.high.div_ceil(align) * align;
                if a + table_bytes > HIGH_BASE + HIGH_TABLES * 4096 {
                    return None;
                }
                self.high = a + table_bytes.max(page);
                a
            }
        };
        self.tables.push(Table { addr, family });
        Some(addr)
    }

    fn store(&mut self, f: &Format, addr: u64, value: u64) {
        let _ = self
            .mem
            .store(addr, f.pte_bytes(), value & pte_width_mask(f));
    }

    fn peek(&self, f: &Format, addr: u64) -> u64 {
        self.mem.peek(addr, f.pte_bytes()).unwrap_or(0)
    }

    fn install(&mut self, space: &mut Space, sidx: usize, m: &MapRecipe) {
        let f = space.format.clone();
        let levels = f.levels();
        let leaf_level = if f.spec().superpages && levels > 1 && m.level & 3 == 0 {
            1 + (m.level / 4) % (levels - 1)
        } else if levels > 1 && m.level >= 252 && f.spec().leaf != LeafRule::LastLevel {
            // A leaf above the last level of a format without superpages.
            1
        } else {
            0
        };
        // The translated address: the picked indices at and above the leaf level.
        let mut tag = 0u64;
        for level in leaf_level..levels {
            let pos = (levels - 1 - level) as usize;
            let b = m.index.get(pos).copied().unwrap_or(0);
            tag |= pick_index(b, f.index_bits(level)) << f.page_bits(level);
        }
        let bytes = f.pte_bytes() as u64;
        let mut path = Vec::new();
        let mut table = space.root;
        let mut aliased = false;
        for level in (leaf_level + 1..levels).rev() {
            let addr = table.wrapping_add(f.index(tag, level).wrapping_mul(bytes));
            path.push(addr);
            if let Some(&child) = self.pointers.get(&addr) {
                table = child;
                continue;
            }
            let same: Vec<u64> = self
                .tables
                .iter()
                .filter(|t| t.family == space.family)
                .map(|t| t.addr)
                .collect();
            let child = if m.alias >= 240 && !aliased && !same.is_empty() {
                aliased = true;
                Some(same[m.alias as usize % same.len()])
            } else {
                self.alloc(&f, space.family)
            };
            let child = match child
                .or_else(|| same.get(m.index[0] as usize % same.len().max(1)).copied())
            {
                Some(c) => c,
                None => return,
            };
            let global = level == levels - 1 && m.bits & 0xe0 == 0xe0;
            self.store(&f, addr, pointer_pte(&f, child, global));
            self.pointers.insert(addr, child);
            table = child;
        }
        let leaf_addr = table.wrapping_add(f.index(tag, leaf_level).wrapping_mul(bytes));
        path.push(leaf_addr);
        let mut leaf = leaf_pte(&f, leaf_level, m.frame, m.perm, m.bits);
        self.pointers.remove(&leaf_addr);
        // Deliberate defects.
        if m.corrupt >= 224 {
            let s = f.spec();
            let at = path[(m.alias as usize) % path.len()];
            match m.corrupt & 7 {
                0 => leaf &= !(1 << s.valid),
                1 => {
                    if let Some(r) = s.reserved.first() {
                        leaf |= 1 << r.from;
                    } else {
                        leaf ^= 1 << (m.alias as u32 % (bytes as u32 * 8));
                    }
                }
                2 => {
                    if let (Some(r), Some(w)) = (s.read, s.write) {
                        leaf = (leaf | (1 << w)) & !(1 << r);
                    }
                }
                3 => {
                    if path.len() > 1 {
                        let v = self.peek(&f, path[0]);
                        self.store(&f, path[0], set_bit(set_bit(v, s.accessed), s.user));
                    }
                }
                4 => {
                    if let (Some(r), Some(x)) = (s.read, s.exec) {
                        leaf &= !((1 << r) | (1 << x));
                    }
                }
                5 => {
                    if at != leaf_addr {
                        let v = self.peek(&f, at);
                        self.store(&f, at, with_pfn(&f, v, u64::MAX));
                        self.pointers.remove(&at);
                    }
                }
                6 => {
                    let v = self.peek(&f, path[0]);
                    self.store(&f, path[0], v & !(1 << s.valid));
                    self.pointers.remove(&path[0]);
                }
                _ => leaf ^= 1 << (m.alias as u32 % (bytes as u32 * 8)),
            }
        }
        self.store(&f, leaf_addr, leaf);
        space.maps.push(MapInfo {
            va: canonical(&f, tag),
            page_bits: f.page_bits(leaf_level),
            level: leaf_level,
            path,
            space: sidx,
        });
    }
}

// ---------------------------------------------------------------------------------------
// Running.
// ---------------------------------------------------------------------------------------

/// A memory port that records every write (the unit's A/D updates, the reference's).
struct LogPort<'m> {
    mem: &'m mut SparseMemory,
    writes: Vec<(u64, u8, u64)>,
}

impl MemoryPort for LogPort<'_> {
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError> {
        self.mem.read(addr, size)
    }
    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError> {
        self.writes.push((addr, size, value));
        self.mem.write(addr, size, value)
    }
    fn peek(&self, addr: u64, size: u8) -> Result<u64, PortError> {
        self.mem.peek(addr, size)
    }
}

/// A translation the reference completed and the unit may therefore have cached.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Record {
    seg: u8,
    root: u64,
    /// A virtual address inside the page, as the request gave it.
    va: u64,
    tag: u64,
    page_bits: u8,
    asid: u16,
    global: bool,
    path: Vec<u64>,
    pte_bytes: u8,
    fetch: bool,
}

impl Record {
    fn reads(&self, addr: u64, bytes: u8) -> bool {
        self.path.iter().any(|&p| {
            p < addr.saturating_add(bytes as u64) && addr < p.saturating_add(self.pte_bytes as u64)
        })
    }

    fn same_entry(&self, o: &Record) -> bool {
        self.seg == o.seg
            && self.page_bits == o.page_bits
            && self.tag >> self.page_bits == o.tag >> o.page_bits
            && self.asid == o.asid
            && self.global == o.global
            && self.fetch == o.fetch
    }
}

/// One resolved operation, for the report (its fields are read through `Debug`).
#[allow(dead_code)]
#[derive(Clone, Debug)]
enum Event {
    Translate(Request),
    Probe(Request),
    WritePte {
        addr: u64,
        bytes: u8,
        old: u64,
        new: u64,
        flushes: Vec<Flush>,
    },
    Flush(Flush),
    SetMode(String),
    ModeRejected(String),
    Asid(u16, Vec<Flush>),
    Context(Privilege, bool, bool),
}

struct Runner<'a> {
    input: &'a OracleInput,
    spaces: Vec<Space>,
    families: Vec<Arc<Format>>,
    tables: Vec<Table>,
    mmu: Mmu,
    umem: SparseMemory,
    rmem: SparseMemory,
    mode: Mode,
    /// The address space of the current paged mode.
    space: usize,
    ad: AdPolicy,
    flush_on_root_change: bool,
    ctx: Context,
    seg: SegRecipe,
    bounds: BoundsRecipe,
    records: Vec<Record>,
    last_va: u64,
    history: Vec<Event>,
    op_index: usize,
    summary: Summary,
    faults: Vec<u64>,
    /// Every (address, width) written to either memory, for the final comparison.
    written: Vec<(u64, u8)>,
}

fn asid_of(b: u8) -> u16 {
    if b == 255 {
        0xffff
    } else {
        (b % 4) as u16
    }
}

/// Builds the address spaces of a setup into memory of `size` bytes.
fn build(s: &Setup, size: u64) -> (Builder, Vec<Space>) {
    let mut b = Builder {
        families: Vec::new(),
        tables: Vec::new(),
        pointers: Default::default(),
        low_ostep: 0,
        low_tiny: 0x1000,
        high: HIGH_BASE,
        mem: SparseMemory::new(size, Cycle(3)),
    };
    let n = 1 + s.spaces_used as usize % SPACES;
    let mut spaces = Vec::new();
    for (i, sr) in s.spaces.iter().take(n).enumerate() {
        let f = sr.format.format();
        let family = b.family(&f);
        let format = b.families[family].clone();
        let root = match b.alloc(&format, family) {
            Some(r) => r,
            None => b.tables.first().map_or(0, |t| t.addr),
        };
        let mut space = Space {
            format,
            family,
            root,
            maps: Vec::new(),
        };
        for m in sr.maps.iter().take(1 + sr.used as usize % MAPS) {
            b.install(&mut space, i, m);
        }
        spaces.push(space);
    }
    (b, spaces)
}

impl<'a> Runner<'a> {
    fn new(input: &'a OracleInput) -> Runner<'a> {
        let s = &input.setup;
        // Build once to learn where the tables end, then again into memory of the chosen
        // size (the builder is deterministic, and copying whole pages would be slow).
        let (b, _) = build(s, u64::MAX);
        let end = b.high.div_ceil(4096) * 4096;
        let size = match s.memory {
            0 => end,
            1 => end + 4096,
            x => end.max(1 << 20) + x as u64 * 4096,
        };
        let (b, spaces) = build(s, size);
        let mem = b.mem;
        let cfg = MmuConfig {
            tlb: Default::default(),
            itlb: s.itlb.config(),
            dtlb: s.dtlb.config(),
            l2tlb: s.l2tlb.map(|t| {
                let mut c = t.config();
                c.hit_latency = 4;
                c
            }),
            ad: if s.svadu {
                AdPolicy::Svadu
            } else {
                AdPolicy::Svade
            },
            flush_on_root_change: s.flush_on_root_change,
            ..MmuConfig::default()
        };
        let mmu = match Mmu::new(cfg.clone()) {
            Ok(m) => m,
            Err(e) => panic!("oracle: generated an invalid configuration: {e}\n{cfg:#?}"),
        };
        let mut r = Runner {
            input,
            spaces,
            families: b.families,
            tables: b.tables,
            mmu,
            rmem: mem.clone(),
            umem: mem,
            mode: Mode::Bare,
            space: 0,
            ad: cfg.ad,
            flush_on_root_change: cfg.flush_on_root_change,
            ctx: Context {
                privilege: s.ctx.privilege(),
                asid: asid_of(s.asid),
                sum: s.ctx.sum,
                mxr: s.ctx.mxr,
            },
            seg: s.segments.clone(),
            bounds: s.base_bounds,
            records: Vec::new(),
            last_va: 0,
            history: Vec::new(),
            op_index: 0,
            summary: Summary::default(),
            faults: vec![0; FaultCause::COUNT],
            written: Vec::new(),
        };
        for p in s.pokes.iter().flatten() {
            if let Some((addr, bytes, _, new)) = r.resolve_write(p) {
                let _ = r.umem.store(addr, bytes, new);
                let _ = r.rmem.store(addr, bytes, new);
                r.written.push((addr, bytes));
            }
        }
        r.set_mode(s.start);
        r
    }

    fn finish(mut self) -> Summary {
        if let Some(addr) = mem_diff(&self.umem, &self.rmem, &self.written) {
            self.fail(
                "after the last operation the two memories differ",
                format!("unit byte at {addr:#x} = {:#04x}", self.umem.byte(addr)),
                format!("reference byte = {:#04x}", self.rmem.byte(addr)),
            );
        }
        let st = self.mmu.stats();
        let requests: u64 = st.requests.iter().sum();
        if requests != self.summary.translations || st.total_faults() != self.faults.iter().sum() {
            self.fail(
                "the unit's statistics do not count what it was asked",
                format!(
                    "requests {requests}, faults {} ({:?})",
                    st.total_faults(),
                    st.faults
                ),
                format!(
                    "translations {}, faults {} ({:?})",
                    self.summary.translations,
                    self.faults.iter().sum::<u64>(),
                    self.faults
                ),
            );
        }
        let mut hits = 0;
        for id in [TlbId::Itlb, TlbId::Dtlb, TlbId::L2tlb] {
            if let Some(t) = self.mmu.tlb(id) {
                hits += t.stats().hits.iter().sum::<u64>();
            }
        }
        let st = self.mmu.stats();
        self.summary.tlb_hits = hits;
        self.summary.walks = st.walker.walks;
        self.summary.ad_writes = st.walker.ad_writes;
        self.summary.dirty_rewalks = st.walker.dirty_rewalks;
        self.summary.inputs = 1;
        self.summary.faults = self.faults.clone();
        self.summary.clone()
    }

    fn push(&mut self, e: Event) {
        if self.history.len() >= 24 {
            self.history.remove(0);
        }
        self.history.push(e);
    }

    #[cold]
    fn fail(&self, what: &str, unit: String, reference: String) -> ! {
        let mut h = String::new();
        for e in &self.history {
            h.push_str(&format!("\n    {e:?}"));
        }
        panic!(
            "vmlab-mmu oracle: the unit and the reference disagree\n  \
             at op #{}: {:?}\n  what: {what}\n  unit:      {unit}\n  reference: {reference}\n  \
             mode: {}\n  ctx: {:?}\n  ad: {:?}\n  recent ops (oldest first):{h}\n  mode registers: {:?}",
            self.op_index,
            self.input.ops.get(self.op_index),
            self.mode.name(),
            self.ctx,
            self.ad,
            self.mode
        );
    }

    fn op(&mut self, op: &Op) {
        self.summary.ops += 1;
        match op {
            Op::Translate(a) => self.translate(a),
            Op::Probe(a) => self.probe(a),
            Op::WritePte { write, widen } => self.write_pte(write, *widen),
            Op::Flush(f) => {
                let f = match *f {
                    FlushPick::All => Flush::All,
                    FlushPick::Asid(a) => Flush::Asid { asid: asid_of(a) },
                    FlushPick::Addr(v) => Flush::Addr {
                        va: self.resolve_va(v, 1),
                    },
                    FlushPick::AddrAsid(v, a) => Flush::AddrAsid {
                        va: self.resolve_va(v, 1),
                        asid: asid_of(a),
                    },
                };
                self.flush(f);
                self.push(Event::Flush(f));
            }
            Op::SetMode(m) => self.set_mode(*m),
            Op::SetAsid(a) => {
                self.ctx.asid = asid_of(*a);
                let flushes = self.switch_flushes();
                self.push(Event::Asid(self.ctx.asid, flushes));
            }
            Op::SetContext(c) => {
                self.ctx.privilege = c.privilege();
                self.ctx.sum = c.sum;
                self.ctx.mxr = c.mxr;
                self.push(Event::Context(self.ctx.privilege, c.sum, c.mxr));
            }
            Op::SetSegment { index, register } => {
                self.seg.registers[*index as usize % 8] = *register;
                if matches!(self.mode, Mode::Segmented(_)) {
                    self.set_mode(ModeSel::Segments);
                }
            }
            Op::SetBaseBounds(b) => {
                self.bounds = *b;
                if matches!(self.mode, Mode::BaseBounds { .. }) {
                    self.set_mode(ModeSel::BaseBounds);
                }
            }
        }
    }

    // --- modes -----------------------------------------------------------------------

    fn segmentation(&self) -> Segmentation {
        let s = &self.seg;
        let selector_bits = 1 + s.selector_bits % 3;
        let mut offset_bits = [4u8, 8, 12, 16, 20, 24, 32, 40][s.offset_bits as usize % 8];
        let home = &self.spaces[s.space as usize % self.spaces.len()];
        let f = home.format.clone();
        let fit = match f.spec().va_check {
            VaCheck::Zero => f.va_bits(),
            VaCheck::Canonical => f.va_bits() - 1,
        };
        let any_paged = s
            .registers
            .iter()
            .take(1 << selector_bits)
            .any(|r| r.flags & 0x80 != 0);
        if any_paged {
            offset_bits = offset_bits.min(fit);
        }
        let max = 1u64 << offset_bits;
        let registers = s
            .registers
            .iter()
            .take(1 << selector_bits)
            .map(|r| {
                let limit = match r.limit {
                    LimitPick::Full => max,
                    LimitPick::Minus(x) => max.saturating_sub(x as u64),
                    LimitPick::Pages(x) => (x as u64 * 4096).min(max),
                    LimitPick::Raw(x) => x as u64 % (max + 1),
                    LimitPick::Zero => 0,
                };
                let grows_down = r.flags & 0x40 != 0;
                let page_table = if r.flags & 0x80 != 0 {
                    let sp = &self.spaces[r.space as usize % self.spaces.len()];
                    Some(if sp.format == f { sp.root } else { home.root })
                } else {
                    None
                };
                SegmentRegister {
                    base: if grows_down {
                        limit + r.base as u64
                    } else {
                        r.base as u64
                    },
                    limit,
                    grows_down,
                    read: r.flags & 1 != 0,
                    write: r.flags & 2 != 0,
                    exec: r.flags & 4 != 0,
                    user: r.flags & 8 != 0,
                    present: r.flags & 0x30 != 0,
                    page_table,
                }
            })
            .collect();
        Segmentation {
            va_bits: selector_bits + offset_bits,
            selector_bits,
            registers,
            format: any_paged.then_some(f),
            select: Default::default(),
        }
    }

    fn set_mode(&mut self, sel: ModeSel) {
        let (mode, space) = match sel {
            ModeSel::Bare => (Mode::Bare, self.space),
            ModeSel::BaseBounds => (
                Mode::BaseBounds {
                    base: self.bounds.base.value(),
                    bounds: self.bounds.bounds.value(),
                },
                self.space,
            ),
            ModeSel::Segments => (Mode::Segmented(self.segmentation()), self.space),
            ModeSel::Paged(n) => {
                let i = n as usize % self.spaces.len();
                let sp = &self.spaces[i];
                (
                    Mode::Paged {
                        format: sp.format.clone(),
                        root: sp.root,
                    },
                    i,
                )
            }
        };
        // The unit's contract: any change but a root-only one flushes every TLB; a root-only
        // change does so only with `flush_on_root_change`.
        let root_only = matches!((&self.mode, &mode),
            (Mode::Paged { format: a, .. }, Mode::Paged { format: b, .. }) if a == b);
        let changes = mode != self.mode;
        match self.mmu.set_mode(mode.clone()) {
            Ok(()) => {
                if changes && (!root_only || self.flush_on_root_change) {
                    self.records.clear();
                }
                if changes {
                    self.summary.mode_switches += 1;
                }
                self.mode = mode;
                self.space = space;
                if self.mmu.mode() != &self.mode {
                    self.fail(
                        "the mode the unit holds after set_mode",
                        format!("{:?}", self.mmu.mode()),
                        format!("{:?}", self.mode),
                    );
                }
                self.push(Event::SetMode(self.mode.name()));
                if root_only {
                    let f = self.switch_flushes();
                    if !f.is_empty() {
                        self.push(Event::Asid(self.ctx.asid, f));
                    }
                }
            }
            Err(e) => {
                if mode.validate().is_ok() {
                    self.fail(
                        "set_mode refused a valid mode",
                        e.to_string(),
                        format!("{mode:?}"),
                    );
                }
                self.push(Event::ModeRejected(e.to_string()));
            }
        }
    }

    /// The flushes the architecture requires when the (root, ASID) pair changes: the ASID's
    /// entries from another root, and global entries from another root.
    fn switch_flushes(&mut self) -> Vec<Flush> {
        let Mode::Paged { root, .. } = self.mode else {
            return Vec::new();
        };
        let asid = self.ctx.asid;
        let mut out = Vec::new();
        if self
            .records
            .iter()
            .any(|r| !r.global && r.asid == asid && r.root != root)
        {
            out.push(Flush::Asid { asid });
        }
        let mut globals: Vec<Flush> = Vec::new();
        for r in self.records.iter().filter(|r| r.global && r.root != root) {
            let f = Flush::Addr { va: r.va };
            if !globals.contains(&f) {
                globals.push(f);
            }
        }
        if globals.len() > 8 {
            out = vec![Flush::All];
        } else {
            out.extend(globals);
        }
        for &f in &out {
            self.flush(f);
        }
        out
    }

    // --- flushes ---------------------------------------------------------------------

    /// The TLB key (segment, tagged address) of `va` in the current mode.
    fn key(&self, va: u64) -> Option<(u8, u64)> {
        match &self.mode {
            Mode::Paged { format, .. } => {
                let n = format.va_bits() as u32;
                let ok = match format.spec().va_check {
                    VaCheck::Zero => n >= 64 || va >> n == 0,
                    VaCheck::Canonical => canonical(format, va & mask(n)) == va,
                };
                ok.then_some((0, va & mask(n)))
            }
            Mode::Segmented(s) => {
                if va >> s.va_bits != 0 {
                    return None;
                }
                let ob = s.va_bits - s.selector_bits;
                Some(((va >> ob) as u8, va & mask(ob as u32)))
            }
            _ => None,
        }
    }

    fn removes(&self, f: Flush, r: &Record) -> bool {
        let covers = |va: u64| {
            self.key(va)
                .is_some_and(|(s, t)| s == r.seg && t >> r.page_bits == r.tag >> r.page_bits)
        };
        match f {
            Flush::All => true,
            Flush::Asid { asid } => !r.global && r.asid == asid,
            Flush::Addr { va } => covers(va),
            Flush::AddrAsid { va, asid } => !r.global && r.asid == asid && covers(va),
        }
    }

    fn flush(&mut self, f: Flush) {
        self.mmu.flush(f);
        self.summary.flushes[f.index()] += 1;
        let records = std::mem::take(&mut self.records);
        self.records = records
            .into_iter()
            .filter(|r| !self.removes(f, r))
            .collect();
    }

    /// The narrowest sound flushes for the given records.
    fn flushes_for(&self, affected: &[&Record], widen: u8) -> Vec<Flush> {
        if widen % 8 == 7 {
            return vec![Flush::All];
        }
        if affected.is_empty() {
            return Vec::new();
        }
        let all_private = affected.iter().all(|r| !r.global);
        let per_asid = || {
            let mut v: Vec<Flush> = Vec::new();
            for r in affected {
                let f = Flush::Asid { asid: r.asid };
                if !v.contains(&f) {
                    v.push(f);
                }
            }
            v
        };
        if widen % 8 == 6 && all_private {
            return per_asid();
        }
        let mut v: Vec<Flush> = Vec::new();
        for r in affected {
            let f = if r.global {
                Flush::Addr { va: r.va }
            } else {
                Flush::AddrAsid {
                    va: r.va,
                    asid: r.asid,
                }
            };
            if !v.contains(&f) {
                v.push(f);
            }
        }
        if v.len() > 8 {
            return if all_private {
                per_asid()
            } else {
                vec![Flush::All]
            };
        }
        v
    }

    // --- PTE writes ------------------------------------------------------------------

    fn current_format(&self) -> Arc<Format> {
        match &self.mode {
            Mode::Paged { format, .. } => format.clone(),
            Mode::Segmented(Segmentation {
                format: Some(f), ..
            }) => f.clone(),
            _ => self.spaces[self.space].format.clone(),
        }
    }

    fn all_maps(&self) -> impl Iterator<Item = &MapInfo> {
        self.spaces.iter().flat_map(|s| s.maps.iter())
    }

    /// Resolves a PTE write to (address, width, old value, new value).
    fn resolve_write(&self, w: &PteWrite) -> Option<(u64, u8, u64, u64)> {
        let nmaps = self.all_maps().count();
        let (addr, format, level) = match w.target {
            PteTarget::Leaf(m) if nmaps > 0 => {
                let m = self.all_maps().nth(m as usize % nmaps)?;
                let f = self.spaces[m.space].format.clone();
                (*m.path.last()?, f, m.level)
            }
            PteTarget::Path { map, level } if nmaps > 0 => {
                let m = self.all_maps().nth(map as usize % nmaps)?;
                let f = self.spaces[m.space].format.clone();
                let i = level as usize % m.path.len();
                let lvl = f.levels() - 1 - i as u8;
                (m.path[i], f, lvl)
            }
            PteTarget::Table { table, index } if !self.tables.is_empty() => {
                let t = self.tables[table as usize % self.tables.len()];
                let f = self.families[t.family].clone();
                let entries = 1u64 << f.index_bits(0).min(16);
                (
                    t.addr + (index as u64 % entries) * f.pte_bytes() as u64,
                    f,
                    0,
                )
            }
            _ => {
                let f = self.current_format();
                let size = self.umem.size().max(8);
                let raw = match w.target {
                    PteTarget::Raw(a) => a as u64,
                    PteTarget::Leaf(x) | PteTarget::Path { map: x, .. } => x as u64,
                    PteTarget::Table { index, .. } => index as u64,
                };
                let b = f.pte_bytes() as u64;
                ((raw % size) / b * b, f, 0)
            }
        };
        let bytes = format.pte_bytes();
        let old = self.umem.peek(addr, bytes).ok()?;
        let s = format.spec();
        let flag_mask = |x: u8| {
            let mut m = 0u64;
            for (i, b) in [
                s.read,
                s.write,
                s.exec,
                s.user,
                s.global,
                s.accessed,
                s.dirty,
                Some(s.valid),
            ]
            .into_iter()
            .enumerate()
            {
                if x >> i & 1 == 1 {
                    m = set_bit(m, b);
                }
            }
            m
        };
        let new = match w.value {
            PteValue::Flip(b) => old ^ (1u64 << (b as u32 % (bytes as u32 * 8))),
            PteValue::Set(x) => old | flag_mask(x),
            PteValue::Clear(x) => old & !flag_mask(x),
            PteValue::Invalidate => old & !(1u64 << s.valid),
            PteValue::Pointer(t) => {
                let same: Vec<u64> = self
                    .tables
                    .iter()
                    .filter(|t| *self.families[t.family] == *format)
                    .map(|t| t.addr)
                    .collect();
                let to = if same.is_empty() {
                    0
                } else {
                    same[t as usize % same.len()]
                };
                pointer_pte(&format, to, false)
            }
            PteValue::Leaf { frame, perm, bits } => leaf_pte(&format, level, frame, perm, bits),
            PteValue::Raw(v) => v,
            PteValue::Zero => 0,
        } & pte_width_mask(&format);
        Some((addr, bytes, old, new))
    }

    fn write_pte(&mut self, w: &PteWrite, widen: u8) {
        let Some((addr, bytes, old, new)) = self.resolve_write(w) else {
            return;
        };
        if self.umem.store(addr, bytes, new).is_err() || self.rmem.store(addr, bytes, new).is_err()
        {
            return;
        }
        self.summary.pte_writes += 1;
        self.written.push((addr, bytes));
        let affected: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| r.reads(addr, bytes))
            .collect();
        let flushes = self.flushes_for(&affected, widen);
        for &f in &flushes {
            self.flush(f);
        }
        self.push(Event::WritePte {
            addr,
            bytes,
            old,
            new,
            flushes,
        });
    }

    // --- accesses --------------------------------------------------------------------

    fn resolve_va(&self, pick: VaPick, size: u8) -> u64 {
        let size = size.max(1) as u64;
        match pick {
            VaPick::Same => self.last_va,
            VaPick::Near(d) => self.last_va.wrapping_add(d as i64 as u64),
            VaPick::Raw(v) => v,
            VaPick::Edge(e) => {
                let edges: Vec<u64> = match &self.mode {
                    Mode::Paged { format, .. } => {
                        let n = format.va_bits() as u32;
                        let half = 1u64 << (n - 1);
                        let page = 1u64 << format.page_offset_bits();
                        vec![
                            half - 1,
                            half,
                            half.wrapping_neg(),
                            half.wrapping_neg().wrapping_sub(1),
                            mask(n),
                            mask(n).wrapping_add(1),
                            u64::MAX,
                            0,
                            half.wrapping_sub(size),
                            page - 1,
                            page.wrapping_sub(size),
                            half.wrapping_neg().wrapping_add(page - 1),
                        ]
                    }
                    Mode::Segmented(s) => {
                        let ob = s.va_bits - s.selector_bits;
                        let k = (e as u64 >> 4) % (1 << s.selector_bits);
                        vec![
                            mask(s.va_bits as u32),
                            mask(s.va_bits as u32) + 1,
                            (k << ob).wrapping_sub(1),
                            (k << ob).wrapping_sub(size),
                            k << ob,
                            (k << ob).wrapping_add(1 << ob).wrapping_sub(size),
                        ]
                    }
                    Mode::BaseBounds { bounds, .. } => vec![
                        bounds.wrapping_sub(1),
                        *bounds,
                        bounds.wrapping_sub(size),
                        u64::MAX,
                        u64::MAX - size + 1,
                        0,
                    ],
                    Mode::Bare => vec![0, u64::MAX, u64::MAX - size + 1],
                };
                edges[e as usize % edges.len()]
            }
            VaPick::Map { map, spot } => match &self.mode {
                Mode::Segmented(s) => {
                    let ob = s.va_bits - s.selector_bits;
                    let max = 1u64 << ob;
                    let seg = map as u64 % s.registers.len() as u64;
                    let r = &s.registers[seg as usize];
                    let (lo, hi) = if r.grows_down {
                        (max - r.limit, max)
                    } else {
                        (0, r.limit)
                    };
                    let span = (hi - lo).max(1);
                    let off = match spot {
                        Spot::Start => lo,
                        Spot::End => hi.wrapping_sub(size),
                        Spot::LastByte => hi.wrapping_sub(1),
                        Spot::Within(x) => {
                            let maps =
                                &self.spaces[self.seg.space as usize % self.spaces.len()].maps;
                            if r.page_table.is_some() && x & 1 == 1 && !maps.is_empty() {
                                let maps =
                                    &self.spaces[self.seg.space as usize % self.spaces.len()].maps;
                                let m = &maps[(x as usize >> 1) % maps.len().max(1)];
                                (m.va & (max - 1)) + ((x as u64 >> 8) % (1 << m.page_bits))
                            } else {
                                lo + x as u64 % span
                            }
                        }
                        Spot::Next => hi,
                        Spot::BaseEdge(k) => {
                            (lo + ((k as u64 + 1) << 12).min(span)).wrapping_sub((size / 2).max(1))
                        }
                        Spot::Below => lo.wrapping_sub(1),
                    };
                    (seg << ob).wrapping_add(off)
                }
                Mode::BaseBounds { bounds, .. } => {
                    let b = *bounds;
                    match spot {
                        Spot::Start => 0,
                        Spot::End => b.wrapping_sub(size),
                        Spot::LastByte => b.wrapping_sub(1),
                        Spot::Within(x) => x as u64 % b.max(1),
                        Spot::Next => b,
                        Spot::BaseEdge(k) => b.wrapping_sub(k as u64),
                        Spot::Below => b.wrapping_sub(size + 1),
                    }
                }
                _ => {
                    let sp = &self.spaces[self.space];
                    if sp.maps.is_empty() {
                        return 0;
                    }
                    let m = &sp.maps[map as usize % sp.maps.len()];
                    let page = 1u64 << m.page_bits;
                    let base_page = 1u64 << sp.format.page_offset_bits();
                    let va = m.va;
                    match spot {
                        Spot::Start => va,
                        Spot::End => va.wrapping_add(page).wrapping_sub(size),
                        Spot::LastByte => va.wrapping_add(page - 1),
                        Spot::Within(x) => va.wrapping_add(x as u64 % page),
                        Spot::Next => va.wrapping_add(page),
                        Spot::BaseEdge(k) => {
                            let n = (page / base_page).max(1);
                            va.wrapping_add(((k as u64 % n) + 1) * base_page)
                                .wrapping_sub((size / 2).max(1))
                        }
                        Spot::Below => va.wrapping_sub(1),
                    }
                }
            },
        }
    }

    fn request(&mut self, a: &Access) -> Request {
        let size = a.size.size();
        let va = self.resolve_va(a.va, size);
        self.last_va = va;
        Request::new(va, a.kind.kind(), size, self.ctx)
    }

    fn translate(&mut self, a: &Access) {
        let req = self.request(a);
        self.push(Event::Translate(req));
        let mut up = LogPort {
            mem: &mut self.umem,
            writes: Vec::new(),
        };
        // Every fourth translation goes through the traced path, which must answer the same.
        let u = if self.summary.translations % 4 == 3 {
            let mut steps = Vec::new();
            self.mmu.translate_traced(req, &mut up, &mut steps)
        } else {
            self.mmu.translate(req, &mut up)
        };
        let uw = up.writes;
        let mut rp = LogPort {
            mem: &mut self.rmem,
            writes: Vec::new(),
        };
        let r = reference::translate(&self.mode, self.ad, &req, &mut rp);
        let rw = rp.writes;
        self.written
            .extend(uw.iter().chain(&rw).map(|&(a, n, _)| (a, n)));
        self.summary.translations += 1;
        self.compare(&u.map_err(|f| f.fault), &r);
        if uw != rw {
            self.fail(
                "the A/D writes to memory",
                format!("{uw:x?}"),
                format!("{rw:x?}"),
            );
        }
        match r {
            Ok(o) => {
                self.summary.translated += 1;
                if let Some(w) = o.walk {
                    self.record(&req, w);
                }
            }
            Err(f) => self.faults[f.cause().index()] += 1,
        }
    }

    fn record(&mut self, req: &Request, w: reference::Walked) {
        let rec = Record {
            seg: w.seg,
            root: w.root,
            va: req.va,
            tag: w.tag,
            page_bits: w.page_bits,
            asid: req.ctx.asid,
            global: w.global,
            path: w.path,
            pte_bytes: w.pte_bytes,
            fetch: req.kind == AccessKind::Fetch,
        };
        if w.ad_write.is_some() {
            // Other entries that read this PTE hold its old value. The walk refreshed this
            // page's entry in its own first-level TLB (and the L2 TLB); but with an L2 TLB
            // the other first-level TLB may hold a copy taken from the L2 TLB even by an
            // access that then faulted, so then every entry that reads the PTE is flushed.
            let l2 = self.mmu.tlb(TlbId::L2tlb).is_some();
            let leaf = *rec.path.last().unwrap_or(&0);
            let affected: Vec<&Record> = self
                .records
                .iter()
                .filter(|r| (l2 || !r.same_entry(&rec)) && r.reads(leaf, rec.pte_bytes))
                .collect();
            let flushes = self.flushes_for(&affected, 0);
            for f in flushes {
                self.flush(f);
                self.push(Event::Flush(f));
            }
        }
        if !self.records.contains(&rec) {
            self.records.push(rec);
        }
    }

    fn probe(&mut self, a: &Access) {
        let req = self.request(a);
        self.push(Event::Probe(req));
        let snapshot = |m: &Mmu| {
            let tlbs: Vec<_> = [TlbId::Itlb, TlbId::Dtlb, TlbId::L2tlb]
                .into_iter()
                .filter_map(|id| m.tlb(id))
                .map(|t| (t.stats().clone(), t.entries().to_vec()))
                .collect();
            (m.stats().clone(), tlbs)
        };
        let before = snapshot(&self.mmu);
        let accesses = self.umem.accesses();
        let u = if self.summary.probes % 2 == 1 {
            let mut steps = Vec::new();
            self.mmu.probe_traced(req, &self.umem, &mut steps)
        } else {
            self.mmu.probe(req, &self.umem)
        };
        let r = reference::probe(&self.mode, self.ad, &req, &self.rmem);
        self.summary.probes += 1;
        self.compare(&u, &r);
        if snapshot(&self.mmu) != before || self.umem.accesses() != accesses {
            self.fail(
                "a probe changed the unit's statistics, TLBs or memory",
                "changed".into(),
                "unchanged".into(),
            );
        }
    }

    fn compare(&self, u: &Result<Translation, Fault>, r: &Result<Outcome, Fault>) {
        let same = match (u, r) {
            (Ok(t), Ok(o)) => t.pa == o.pa && t.page_bits == o.page_bits(),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !same {
            let us = match u {
                Ok(t) => format!(
                    "Ok(pa {:#x}, page_bits {}, {:?})",
                    t.pa, t.page_bits, t.source
                ),
                Err(f) => format!("Err({f:x?}): {f}"),
            };
            let rs = match r {
                Ok(o) => format!(
                    "Ok(pa {:#x}, page_bits {}) {:x?}",
                    o.pa,
                    o.page_bits(),
                    o.walk
                ),
                Err(f) => format!("Err({f:x?}): {f}"),
            };
            self.fail("the translation", us, rs);
        }
    }
}

/// The first address at which two memories differ, if any: both start as the same image
/// and every write is logged, so comparing the written ranges and the set of touched pages
/// compares the whole memories.
fn mem_diff(a: &SparseMemory, b: &SparseMemory, written: &[(u64, u8)]) -> Option<u64> {
    if !a.touched_pages().eq(b.touched_pages()) {
        let first = a
            .touched_pages()
            .zip(b.touched_pages())
            .find(|(x, y)| x != y)
            .map_or(0, |(x, y)| x.min(y));
        return Some(first);
    }
    written
        .iter()
        .flat_map(|&(addr, n)| addr..addr.saturating_add(n as u64))
        .find(|&addr| a.byte(addr) != b.byte(addr))
}

impl Setup {
    /// A setup for hand-written inputs: one address space of `format` holding `maps`,
    /// starting in paged mode in supervisor mode with ASID 1, Svadu if `svadu`, small TLBs
    /// (a 2 x 2 LRU instruction TLB, a 3 x 2 FIFO data TLB, no L2 TLB) and 1 MiB of memory.
    /// Segment registers: two fully-sized read-write segments, the second growing down.
    pub fn paged(format: FormatPick, svadu: bool, maps: &[MapRecipe]) -> Setup {
        let mut recipes: [MapRecipe; MAPS] = std::array::from_fn(|_| MapRecipe::page([0; 5], 0, 0));
        for (slot, m) in recipes.iter_mut().zip(maps) {
            *slot = m.clone();
        }
        let space = SpaceRecipe {
            format,
            used: (maps.len().clamp(1, MAPS) - 1) as u8,
            maps: recipes,
        };
        let seg = SegRegRecipe {
            base: 0x10_0000,
            limit: LimitPick::Full,
            flags: 0x1b,
            space: 0,
        };
        Setup {
            svadu,
            flush_on_root_change: false,
            itlb: TlbPick {
                sets: 2,
                ways: 1,
                policy: PolicyPick::Lru,
                seed: 1,
            },
            dtlb: TlbPick {
                sets: 3,
                ways: 1,
                policy: PolicyPick::Fifo,
                seed: 1,
            },
            l2tlb: None,
            memory: 2,
            spaces_used: 0,
            spaces: [space.clone(), space.clone(), space],
            pokes: [None, None],
            segments: SegRecipe {
                selector_bits: 0,
                offset_bits: 2,
                space: 0,
                registers: [
                    seg,
                    SegRegRecipe { flags: 0x5b, ..seg },
                    seg,
                    seg,
                    seg,
                    seg,
                    seg,
                    seg,
                ],
            },
            base_bounds: BoundsRecipe {
                base: ValuePick::Pages(16),
                bounds: ValuePick::Pages(4),
            },
            start: ModeSel::Paged(0),
            ctx: CtxPick {
                privilege: 4,
                sum: false,
                mxr: false,
            },
            asid: 1,
        }
    }
}

impl MapRecipe {
    /// A valid, accessed and dirty mapping of supervisor pages with permission `perm`
    /// (see [`MapRecipe::perm`]) at the given table indices (root first), mapping an aligned
    /// frame. As in [`MapRecipe::level`], `level` 1 gives a base page and, in a format with
    /// superpages, `level` 0 a level-1 superpage and `level` 4 a level-2 one.
    pub fn page(index: [u8; 5], level: u8, perm: u8) -> MapRecipe {
        MapRecipe {
            index,
            level,
            perm,
            bits: 0,
            frame: FramePick::Aligned(3),
            corrupt: 0,
            alias: 0,
        }
    }
}
