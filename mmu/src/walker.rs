//! The hardware page-table walker, driven entirely by a [`Format`].
//!
//! One function serves both the timed path (reads through the caller's [`MemoryPort`] cost
//! cycles, Svadu writes A/D back) and the functional probe (reads with `peek`, writes nothing).

use crate::fault::{Fault, PageFaultReason};
use crate::format::{AdPolicy, Format, PteFlags, MAX_LEVELS};
use crate::port::{MemoryPort, PortError};
use crate::trace::{Step, Tracer};
use crate::types::{AccessKind, Context, Cycle, Privilege};
use serde::{Deserialize, Serialize};

/// Latencies of the walker itself (memory latencies come from the port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WalkerConfig {
    /// Cycles to start a walk after a TLB miss.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub start_latency: u64,
    /// Cycles per level on top of the PTE read (index arithmetic, checks).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub level_latency: u64,
}

impl Default for WalkerConfig {
    fn default() -> Self {
        WalkerConfig {
            start_latency: 1,
            level_latency: 0,
        }
    }
}

/// The walker's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalkerStats {
    /// Walks started.
    pub walks: u64,
    /// Walks that ended in a fault.
    pub faulted_walks: u64,
    /// PTE reads by level (index = level, root = levels - 1).
    pub pte_reads: [u64; MAX_LEVELS],
    /// A/D write-backs (Svadu).
    pub ad_writes: u64,
    /// Walks caused by a store hitting a TLB entry whose dirty bit is clear (Svadu).
    pub dirty_rewalks: u64,
    /// Cycles spent walking.
    pub cycles: u64,
    /// Successful walks by log2 of the page size they found.
    #[serde(skip)]
    pub pages: [u64; 64],
}

impl Default for WalkerStats {
    fn default() -> Self {
        WalkerStats {
            walks: 0,
            faulted_walks: 0,
            pte_reads: [0; MAX_LEVELS],
            ad_writes: 0,
            dirty_rewalks: 0,
            cycles: 0,
            pages: [0; 64],
        }
    }
}

/// A human name for a page size of `2^bits` bytes: `4KiB`, `2MiB`, `32B`.
pub fn size_name(bits: u8) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let u = (bits / 10) as usize;
    format!("{}{}", 1u64 << (bits % 10), units[u.min(units.len() - 1)])
}

impl WalkerStats {
    /// Calls `f` with each counter's name (below `prefix`) and value, in a stable order.
    ///
    /// PTE reads are listed for levels 0 to 4 always and for higher levels when non-zero;
    /// page sizes are listed when non-zero, smallest first.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        f(&format!("{prefix}.walks"), self.walks);
        f(&format!("{prefix}.faulted_walks"), self.faulted_walks);
        for (l, &n) in self.pte_reads.iter().enumerate() {
            if l < 5 || n > 0 {
                f(&format!("{prefix}.pte_reads.level{l}"), n);
            }
        }
        f(&format!("{prefix}.ad_writes"), self.ad_writes);
        f(&format!("{prefix}.dirty_rewalks"), self.dirty_rewalks);
        f(&format!("{prefix}.cycles"), self.cycles);
        for (b, &n) in self.pages.iter().enumerate() {
            if n > 0 {
                f(&format!("{prefix}.page_size.{}", size_name(b as u8)), n);
            }
        }
    }
}

/// The leaf a successful walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The level of the leaf PTE.
    pub level: u8,
    /// The PTE's value after any A/D update.
    pub pte: u64,
    /// Its physical address.
    pub pte_addr: u64,
    /// Whether any PTE on the path had G set.
    pub global: bool,
    /// The translated physical address.
    pub pa: u64,
    /// The physical address of the page (aligned to its size).
    pub pa_page: u64,
    /// log2 of the page size.
    pub page_bits: u8,
    /// The decoded flags (after any A/D update).
    pub flags: PteFlags,
}

/// Memory as the walker sees it: timed through a port, or functional.
pub(crate) trait WalkMem {
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError>;
    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError>;
    /// Whether this is the timed path (stats and A/D writes happen).
    const TIMED: bool;
}

pub(crate) struct Timed<'a, P: MemoryPort>(pub &'a mut P);
pub(crate) struct Functional<'a, P: MemoryPort>(pub &'a P);

impl<P: MemoryPort> WalkMem for Timed<'_, P> {
    #[inline]
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError> {
        self.0.read(addr, size)
    }
    #[inline]
    fn write(&mut self, addr: u64, size: u8, value: u64) -> Result<Cycle, PortError> {
        self.0.write(addr, size, value)
    }
    const TIMED: bool = true;
}

impl<P: MemoryPort> WalkMem for Functional<'_, P> {
    fn read(&mut self, addr: u64, size: u8) -> Result<(u64, Cycle), PortError> {
        self.0.peek(addr, size).map(|v| (v, Cycle(0)))
    }
    fn write(&mut self, addr: u64, _size: u8, _value: u64) -> Result<Cycle, PortError> {
        // A probe changes nothing; it only checks that the PTE is writable memory.
        self.0.peek(addr, 1).map(|_| Cycle(0))
    }
    const TIMED: bool = false;
}

/// The privilege and permission checks on a leaf, in the order `docs/mmu.md` gives:
/// U/S (with SUM), then R/W/X (with MXR).
///
/// `has_u` says whether the format has a U bit at all; without one every page is open to
/// both user and supervisor.
#[inline]
pub fn check_leaf(
    flags: &PteFlags,
    has_u: bool,
    kind: AccessKind,
    ctx: &Context,
) -> Result<(), PageFaultReason> {
    match ctx.privilege {
        Privilege::User => {
            if !flags.u {
                return Err(PageFaultReason::SupervisorPage);
            }
        }
        Privilege::Supervisor => {
            if has_u && flags.u {
                if kind == AccessKind::Fetch {
                    return Err(PageFaultReason::UserPageFetch);
                }
                if !ctx.sum {
                    return Err(PageFaultReason::UserPageSumClear);
                }
            }
        }
        Privilege::Machine => {}
    }
    match kind {
        AccessKind::Fetch if !flags.x => Err(PageFaultReason::NotExecutable),
        AccessKind::Load if !(flags.r || (ctx.mxr && flags.x)) => Err(PageFaultReason::NotReadable),
        AccessKind::Store if !flags.w => Err(PageFaultReason::NotWritable),
        _ => Ok(()),
    }
}

/// Everything a walk needs besides memory.
pub(crate) struct WalkInput<'a> {
    pub format: &'a Format,
    pub root: u64,
    /// The address the table is indexed with (the segment offset for paged segments).
    pub va: u64,
    /// The address reported in faults (the full virtual address).
    pub va_report: u64,
    pub kind: AccessKind,
    pub ctx: Context,
    pub ad: AdPolicy,
    pub cfg: WalkerConfig,
}

/// Walks the table. Returns the leaf or the fault, with the cycles spent either way.
pub(crate) fn walk<M: WalkMem, T: Tracer>(
    inp: &WalkInput<'_>,
    mem: &mut M,
    stats: &mut WalkerStats,
    t: &mut T,
) -> (Result<Leaf, Fault>, Cycle) {
    let f = inp.format;
    let mut cycles = Cycle(inp.cfg.start_latency);
    if M::TIMED {
        stats.walks += 1;
    }
    let page_fault = |level: u8, pte_addr: u64, pte: u64, reason: PageFaultReason| Fault::Page {
        va: inp.va_report,
        kind: inp.kind,
        level,
        pte_addr,
        pte,
        reason,
    };
    let mut table = inp.root;
    let mut global = false;
    let mut level = f.levels() - 1;
    let result = loop {
        // Wrapping: a format may index with up to 63 bits, and 2^63 x 8 bytes overflows.
        let pte_addr =
            table.wrapping_add(f.index(inp.va, level).wrapping_mul(f.pte_bytes() as u64));
        let (raw, c) = match mem.read(pte_addr, f.pte_bytes()) {
            Ok(r) => r,
            Err(_) => {
                break Err(Fault::PteAccess {
                    va: inp.va_report,
                    kind: inp.kind,
                    level,
                    pte_addr,
                });
            }
        };
        let pte = raw & f.pte_mask();
        cycles += c + Cycle(inp.cfg.level_latency);
        if M::TIMED {
            stats.pte_reads[level as usize] += 1;
        }
        let flags = f.flags(pte);
        if t.on() {
            t.push(Step::PteRead {
                level,
                addr: pte_addr,
                value: pte,
                flags,
                cycles: c,
            });
        }
        tracing::trace!(level, pte_addr, pte, "walk step");
        if !flags.v {
            break Err(page_fault(level, pte_addr, pte, PageFaultReason::Invalid));
        }
        if f.write_without_read(pte) {
            break Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::WriteWithoutRead,
            ));
        }
        if f.reserved_set(pte) {
            break Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::ReservedBits,
            ));
        }
        global |= flags.g;
        if !f.is_leaf(pte, level) {
            if level == 0 {
                break Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::PointerAtLastLevel,
                ));
            }
            if f.non_leaf_reserved(pte) {
                break Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::NonLeafReserved,
                ));
            }
            table = f.pfn_address(pte);
            if t.on() {
                t.push(Step::Pointer { level, next: table });
            }
            level -= 1;
            continue;
        }
        // A leaf.
        if t.on() {
            t.push(Step::Leaf {
                level,
                page_bits: f.page_bits(level),
            });
        }
        if level > 0 && !f.spec().superpages {
            break Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::SuperpageNotAllowed,
            ));
        }
        let perm = check_leaf(&flags, f.spec().user.is_some(), inp.kind, &inp.ctx);
        if t.on() {
            t.push(Step::Check {
                what: "privilege and permission",
                ok: perm.is_ok(),
            });
        }
        if let Err(reason) = perm {
            break Err(page_fault(level, pte_addr, pte, reason));
        }
        if f.misaligned_superpage(pte, level) {
            if t.on() {
                t.push(Step::Check {
                    what: "superpage alignment",
                    ok: false,
                });
            }
            break Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::MisalignedSuperpage,
            ));
        }
        let mut pte = pte;
        let need_a = !flags.a;
        let need_d = inp.kind == AccessKind::Store && !flags.d;
        if need_a || need_d {
            match inp.ad {
                AdPolicy::Svade => {
                    let reason = if need_a {
                        PageFaultReason::AccessedClear
                    } else {
                        PageFaultReason::DirtyClear
                    };
                    if t.on() {
                        t.push(Step::Check {
                            what: if need_a { "accessed bit" } else { "dirty bit" },
                            ok: false,
                        });
                    }
                    break Err(page_fault(level, pte_addr, pte, reason));
                }
                AdPolicy::Svadu => {
                    let new = pte
                        | f.a_mask()
                        | if inp.kind == AccessKind::Store {
                            f.d_mask()
                        } else {
                            0
                        };
                    match mem.write(pte_addr, f.pte_bytes(), new) {
                        Ok(c) => {
                            cycles += c;
                            if M::TIMED {
                                stats.ad_writes += 1;
                            }
                            if t.on() {
                                t.push(Step::AdWrite {
                                    addr: pte_addr,
                                    old: pte,
                                    new,
                                    cycles: c,
                                });
                            }
                            pte = new;
                        }
                        Err(_) => {
                            break Err(Fault::PteAccess {
                                va: inp.va_report,
                                kind: inp.kind,
                                level,
                                pte_addr,
                            })
                        }
                    }
                }
            }
        }
        let page_bits = f.page_bits(level);
        let pa = f.leaf_pa(pte, level, inp.va);
        let pa_page = pa & !((1u64 << page_bits) - 1);
        break Ok(Leaf {
            level,
            pte,
            pte_addr,
            global,
            pa,
            pa_page,
            page_bits,
            flags: f.flags(pte),
        });
    };
    if M::TIMED {
        stats.cycles += cycles.0;
        match &result {
            Ok(l) => stats.pages[l.page_bits as usize] += 1,
            Err(_) => stats.faulted_walks += 1,
        }
    }
    (result, cycles)
}
