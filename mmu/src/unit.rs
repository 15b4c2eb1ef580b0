//! The translation unit: mode registers, TLBs, walker and statistics behind one interface.

use crate::config::{ConfigError, MmuConfig};
use crate::fault::{Fault, PageFaultReason, SegmentProtection};
use crate::format::Format;
use crate::mode::{Mode, ModeError, Segmentation};
use crate::port::MemoryPort;
use crate::stats::MmuStats;
use crate::tlb::{Flush, Tlb, TlbEntry};
use crate::trace::{NoTrace, Step, TlbId, Tracer};
use crate::types::{AccessKind, Cycle, Privilege, Request};
use crate::walker::{check_leaf, walk, Functional, Timed, WalkInput, WalkMem};
use serde::Serialize;

/// How a successful translation was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// No translation (bare mode, or machine mode).
    Untranslated,
    /// Base-and-bounds relocation.
    Relocated,
    /// A segment register's base.
    Segment {
        /// The segment.
        segment: u8,
    },
    /// A TLB hit.
    Tlb {
        /// Which TLB hit.
        tlb: TlbId,
    },
    /// A page-table walk (after TLB misses, or for a probe).
    Walk {
        /// The level of the leaf PTE.
        level: u8,
    },
}

/// A successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// The physical address.
    pub pa: u64,
    /// The cycles translation cost (0 for a probe).
    pub cycles: Cycle,
    /// How it was answered.
    pub source: Source,
    /// log2 of the page size for paged translations, 0 otherwise.
    pub page_bits: u8,
}

/// A failed translation: the fault and the cycles spent finding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Faulted {
    /// What went wrong.
    pub fault: Fault,
    /// The cycles spent before the fault was detected.
    pub cycles: Cycle,
}

/// The translation unit.
///
/// A timed [`Mmu::translate`] uses and fills the TLBs, updates statistics and (with Svadu)
/// writes A/D bits; a functional [`Mmu::probe`] walks the tables and changes nothing.
#[derive(Clone, Debug)]
pub struct Mmu {
    cfg: MmuConfig,
    mode: Mode,
    itlb: Tlb,
    dtlb: Tlb,
    l2tlb: Option<Tlb>,
    stats: MmuStats,
    /// Values derived from the mode register for the L1-hit fast path (host speed only).
    fast: FastPath,
    /// Whether the host-speed shortcuts (the L1-hit fast path, the TLBs' lookup hints) are
    /// on; off, every request takes the general path (for checking they change nothing).
    shortcuts: bool,
}

/// What [`Mmu::l1_hit`] needs from a paged mode, copied out of the format when the mode is
/// loaded so that the hit path reads no `Arc`. Derived data only: it models nothing.
#[derive(Clone, Copy, Debug, Default)]
struct FastPath {
    /// The fast path may answer (false when the host shortcuts are off).
    on: bool,
    /// The mode is `Paged` (the only mode whose TLB hits the fast path serves).
    paged: bool,
    /// The mode is `Bare` (every access untranslated).
    bare: bool,
    /// `64 - va_bits` (0 when the format translates all 64 bits).
    va_shift: u32,
    /// The format's address check is sign extension (else zero extension).
    canonical: bool,
    /// The low `va_bits` bits set.
    va_mask: u64,
    /// The base-page size in bytes.
    page: u64,
    /// The format has a U bit.
    has_u: bool,
}

impl FastPath {
    fn of(mode: &Mode) -> FastPath {
        match mode {
            Mode::Paged { format, .. } => FastPath {
                on: true,
                paged: true,
                va_shift: 64 - format.va_bits().min(64) as u32,
                canonical: format.spec().va_check == crate::format::VaCheck::Canonical,
                va_mask: format.va_mask(),
                page: 1u64 << format.page_offset_bits(),
                has_u: format.spec().user.is_some(),
                bare: false,
            },
            Mode::Bare => FastPath {
                on: true,
                bare: true,
                ..FastPath::default()
            },
            _ => FastPath {
                on: true,
                ..FastPath::default()
            },
        }
    }

    /// [`Format::va_ok`] from the copied values.
    #[inline(always)]
    fn va_ok(&self, va: u64) -> bool {
        let n = self.va_shift;
        if n == 0 {
            true
        } else if self.canonical {
            (((va as i64) << n) >> n) as u64 == va
        } else {
            va >> (64 - n) == 0
        }
    }
}

/// Where a paged translation walks: the format, the root, the TLB key.
#[derive(Clone, Copy)]
struct PagedTarget<'a> {
    format: &'a Format,
    root: u64,
    seg: u8,
    /// The address the table is indexed with.
    va: u64,
}

impl Mmu {
    /// Builds a unit in bare mode.
    pub fn new(cfg: MmuConfig) -> Result<Mmu, ConfigError> {
        cfg.validate()?;
        Ok(Mmu {
            itlb: Tlb::new(cfg.itlb),
            dtlb: Tlb::new(cfg.dtlb),
            l2tlb: cfg.l2tlb.map(Tlb::new),
            cfg,
            mode: Mode::Bare,
            stats: MmuStats::default(),
            fast: FastPath::of(&Mode::Bare),
            shortcuts: true,
        })
    }

    /// Turns the host-speed shortcuts (the L1-TLB-hit fast path and the TLBs' lookup hints)
    /// on or off. They never change a translation, a cycle or a statistic; with them off
    /// every request takes the general path, which is how tests prove that.
    pub fn set_host_shortcuts(&mut self, on: bool) {
        self.shortcuts = on;
        self.fast = self.fast_path_of(&self.mode.clone());
        self.itlb.set_hints(on);
        self.dtlb.set_hints(on);
        if let Some(t) = self.l2tlb.as_mut() {
            t.set_hints(on);
        }
    }

    fn fast_path_of(&self, mode: &Mode) -> FastPath {
        if self.shortcuts {
            let mut fast = FastPath::of(mode);
            // Without TLBs there is no L1 hit for the fast path to serve.
            fast.paged &= self.cfg.has_tlb();
            fast
        } else {
            FastPath::default()
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MmuConfig {
        &self.cfg
    }

    /// The current mode and its registers.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Loads a mode and its registers. A change of mode, of page-table format, or of any
    /// segment register flushes every TLB; a change of only the page-table root does so only
    /// when `flush_on_root_change` is set (RISC-V relies on ASIDs and `sfence.vma`).
    pub fn set_mode(&mut self, mode: Mode) -> Result<(), ModeError> {
        mode.validate()?;
        if mode == self.mode {
            return Ok(());
        }
        let root_only = matches!(
            (&self.mode, &mode),
            (Mode::Paged { format: a, .. }, Mode::Paged { format: b, .. }) if a == b
        );
        if !root_only || self.cfg.flush_on_root_change {
            self.flush_all_tlbs();
        }
        self.stats.mode_changes += 1;
        tracing::debug!(from = %self.mode.name(), to = %mode.name(), "mode change");
        self.fast = self.fast_path_of(&mode);
        self.mode = mode;
        Ok(())
    }

    fn flush_all_tlbs(&mut self) {
        self.itlb.flush(Flush::All, None);
        self.dtlb.flush(Flush::All, None);
        if let Some(l2) = &mut self.l2tlb {
            l2.flush(Flush::All, None);
        }
    }

    /// The TLB key (segment, tagged address) of a virtual address in the current mode,
    /// or `None` if the mode has no TLB or the address does not fit it.
    fn tlb_key(&self, va: u64) -> Option<(u8, u64)> {
        match &self.mode {
            Mode::Paged { format, .. } => format.va_ok(va).then(|| (0, va & format.va_mask())),
            Mode::Segmented(s) if s.any_paged() => s.va_ok(va).then(|| s.split(va)),
            _ => None,
        }
    }

    /// Flushes TLB entries with the semantics of `sfence.vma` (see [`Flush`]).
    pub fn flush(&mut self, flush: Flush) {
        if !self.cfg.has_tlb() {
            tracing::debug!(?flush, "tlb flush: no TLB, nothing to flush");
            return;
        }
        let key = match flush {
            Flush::Addr { va } | Flush::AddrAsid { va, .. } => self.tlb_key(va),
            _ => None,
        };
        let (itlb, dtlb) = (&mut self.itlb, &mut self.dtlb);
        let n = itlb.flush(flush, key) + dtlb.flush(flush, key);
        let n = n + self.l2tlb.as_mut().map_or(0, |l2| l2.flush(flush, key));
        tracing::debug!(?flush, entries = n, "tlb flush");
    }

    /// The unit's own counters.
    pub fn stats(&self) -> &MmuStats {
        &self.stats
    }

    /// A TLB, if configured (none of them with `tlb = "none"`).
    pub fn tlb(&self, id: TlbId) -> Option<&Tlb> {
        if !self.cfg.has_tlb() {
            return None;
        }
        match id {
            TlbId::Itlb => Some(&self.itlb),
            TlbId::Dtlb => Some(&self.dtlb),
            TlbId::L2tlb => self.l2tlb.as_ref(),
        }
    }

    /// Clears every counter (TLB contents stay).
    pub fn reset_stats(&mut self) {
        self.stats = MmuStats::default();
        self.itlb.reset_stats();
        self.dtlb.reset_stats();
        if let Some(l2) = &mut self.l2tlb {
            l2.reset_stats();
        }
    }

    /// Calls `f` with every counter under its stable dotted name, in a stable order:
    /// requests, the TLBs (itlb, dtlb, l2tlb if configured; none with `tlb = "none"`), the
    /// walker, faults by cause.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        self.stats.for_each_head(f);
        if self.cfg.has_tlb() {
            self.itlb.stats().for_each("mmu.itlb", f);
            self.dtlb.stats().for_each("mmu.dtlb", f);
            if let Some(l2) = &self.l2tlb {
                l2.stats().for_each("mmu.l2tlb", f);
            }
        }
        self.stats.for_each_tail(f);
    }

    /// Every counter as (name, value) pairs, in the order of [`Mmu::for_each_stat`].
    pub fn stat_list(&self) -> Vec<(String, u64)> {
        let mut v = Vec::new();
        self.for_each_stat(&mut |n, x| v.push((n.to_string(), x)));
        v
    }

    /// Translates an access, using and filling the TLBs and charging cycles.
    #[inline]
    pub fn translate<P: MemoryPort>(
        &mut self,
        req: Request,
        port: &mut P,
    ) -> Result<Translation, Faulted> {
        if let Some(hit) = self.l1_hit(&req) {
            return Ok(hit);
        }
        self.translate_untraced(req, port)
    }

    #[inline(never)]
    fn translate_untraced<P: MemoryPort>(
        &mut self,
        req: Request,
        port: &mut P,
    ) -> Result<Translation, Faulted> {
        self.translate_with(req, port, &mut NoTrace)
    }

    /// As [`Mmu::translate`], recording every step into `trace`.
    pub fn translate_traced<P: MemoryPort>(
        &mut self,
        req: Request,
        port: &mut P,
        trace: &mut Vec<Step>,
    ) -> Result<Translation, Faulted> {
        self.translate_with(req, port, trace)
    }

    /// Answers what [`Mmu::translate`] would, from the page tables in memory, without touching
    /// the TLBs, the statistics or memory (no A/D update). The TLBs are not consulted, so the
    /// answer is the architectural one even if a TLB holds a stale entry.
    pub fn probe<P: MemoryPort>(&self, req: Request, port: &P) -> Result<Translation, Fault> {
        self.probe_traced(req, port, &mut NoTrace)
    }

    /// As [`Mmu::probe`], recording every step into `trace`.
    pub fn probe_traced<P: MemoryPort, T: Tracer>(
        &self,
        req: Request,
        port: &P,
        trace: &mut T,
    ) -> Result<Translation, Fault> {
        let mut scratch = MmuStats::default();
        match front(&self.mode, &req, trace) {
            Front::Done(r) => r.map_err(|f| f.fault),
            Front::Paged(target) => {
                let inp = self.walk_input(&req, &target);
                let (r, _) = walk(&inp, &mut Functional(port), &mut scratch.walker, trace);
                r.map(|leaf| {
                    if trace.on() {
                        trace.push(Step::Physical { pa: leaf.pa });
                    }
                    Translation {
                        pa: leaf.pa,
                        cycles: Cycle(0),
                        source: Source::Walk { level: leaf.level },
                        page_bits: leaf.page_bits,
                    }
                })
            }
        }
    }

    fn walk_input<'a>(&self, req: &Request, target: &PagedTarget<'a>) -> WalkInput<'a> {
        WalkInput {
            format: target.format,
            root: target.root,
            va: target.va,
            va_report: req.va,
            kind: req.kind,
            ctx: req.ctx,
            ad: self.cfg.ad,
            cfg: self.cfg.walker,
        }
    }

    /// The untraced L1-TLB hit in paged mode, for host speed (`translate` tries it before the
    /// general path; `translate_traced` never uses it): the same checks in the same
    /// order as [`front`] and [`Tlbs::translate_paged`], and on success exactly the same
    /// changes (the request counter, the L1 TLB's hit counter and replacement state). In
    /// every other case it changes nothing and returns `None`, and the general path runs.
    #[inline(always)]
    fn l1_hit(&mut self, req: &Request) -> Option<Translation> {
        let fast = self.fast;
        if !fast.on {
            return None;
        }
        if fast.bare || req.ctx.privilege == Privilege::Machine {
            // What `front` answers for these, without the general path.
            self.stats.requests[req.kind.index()] += 1;
            self.stats.untranslated += 1;
            return Some(untranslated(req.va));
        }
        if !fast.paged || req.ctx.privilege == Privilege::Machine || !fast.va_ok(req.va) {
            return None;
        }
        let va = req.va & fast.va_mask;
        if (va & (fast.page - 1)) + req.size.max(1) as u64 > fast.page {
            return None;
        }
        // Two copies of the lookup, one per TLB, so neither selects fields at run time.
        let t = if req.kind == AccessKind::Fetch {
            l1_hit_in(&mut self.itlb, TlbId::Itlb, va, req, fast.has_u)
        } else {
            l1_hit_in(&mut self.dtlb, TlbId::Dtlb, va, req, fast.has_u)
        }?;
        self.stats.requests[req.kind.index()] += 1;
        Some(t)
    }

    fn translate_with<P: MemoryPort, T: Tracer>(
        &mut self,
        req: Request,
        port: &mut P,
        t: &mut T,
    ) -> Result<Translation, Faulted> {
        self.stats.requests[req.kind.index()] += 1;
        let r = match front(&self.mode, &req, t) {
            Front::Done(r) => {
                if matches!(
                    r,
                    Ok(Translation {
                        source: Source::Untranslated,
                        ..
                    })
                ) {
                    self.stats.untranslated += 1;
                }
                r
            }
            Front::Paged(target) => {
                let Mmu {
                    cfg,
                    itlb,
                    dtlb,
                    l2tlb,
                    stats,
                    ..
                } = self;
                let mut tlbs = Tlbs {
                    cfg,
                    itlb,
                    dtlb,
                    l2tlb,
                    stats,
                };
                tlbs.translate_paged(&req, &target, port, t)
            }
        };
        if let Err(f) = &r {
            self.stats.faults[f.fault.cause().index()] += 1;
            tracing::debug!(fault = %f.fault, "translation fault");
        }
        r
    }
}

/// The TLB part of [`Mmu::l1_hit`]: finds the entry, checks it as the general path does, and
/// only if it answers the request counts the hit and updates the replacement state.
#[inline(always)]
fn l1_hit_in(l1: &mut Tlb, id: TlbId, va: u64, req: &Request, has_u: bool) -> Option<Translation> {
    let idx = l1.find_hinted(0, va, req.ctx.asid)?;
    let e = &l1.entries()[idx];
    if check_leaf(&e.flags, has_u, req.kind, &req.ctx).is_err()
        || (req.kind == AccessKind::Store && !e.flags.d)
    {
        return None;
    }
    let t = Translation {
        pa: e.pa_page | (va & ((1u64 << e.page_bits) - 1)),
        cycles: l1.latency(),
        source: Source::Tlb { tlb: id },
        page_bits: e.page_bits,
    };
    l1.record_hit(idx, req.kind);
    Some(t)
}

/// Disjoint borrows of the parts of an [`Mmu`] the paged path mutates, so that the
/// format can stay borrowed from the mode register without a clone.
struct Tlbs<'m> {
    cfg: &'m MmuConfig,
    itlb: &'m mut Tlb,
    dtlb: &'m mut Tlb,
    l2tlb: &'m mut Option<Tlb>,
    stats: &'m mut MmuStats,
}

impl Tlbs<'_> {
    fn translate_paged<P: MemoryPort, T: Tracer>(
        &mut self,
        req: &Request,
        target: &PagedTarget<'_>,
        port: &mut P,
        t: &mut T,
    ) -> Result<Translation, Faulted> {
        let PagedTarget {
            format,
            root,
            seg,
            va,
        } = *target;
        let asid = req.ctx.asid;
        let has_u = format.spec().user.is_some();
        let l1_id = if req.kind == AccessKind::Fetch {
            TlbId::Itlb
        } else {
            TlbId::Dtlb
        };
        let l1 = if req.kind == AccessKind::Fetch {
            &mut self.itlb
        } else {
            &mut self.dtlb
        };
        let has_tlb = self.cfg.has_tlb();
        let mut cycles = if has_tlb { l1.latency() } else { Cycle(0) };
        let hit = if has_tlb {
            l1.lookup(seg, va, asid, req.kind)
        } else {
            None
        };
        if has_tlb && t.on() {
            t.push(Step::TlbLookup {
                tlb: l1_id,
                hit: hit.map(|h| h.0),
                entry: hit.map(|h| h.1),
                cycles: l1.latency(),
            });
        }
        let mut found = hit.map(|(_, e)| (e, l1_id));
        if found.is_none() && has_tlb {
            tracing::debug!(tlb = l1_id.name(), va = req.va, "tlb miss");
            if let Some(l2) = &mut self.l2tlb {
                cycles += l2.latency();
                let hit = l2.lookup(seg, va, asid, req.kind);
                if t.on() {
                    t.push(Step::TlbLookup {
                        tlb: TlbId::L2tlb,
                        hit: hit.map(|h| h.0),
                        entry: hit.map(|h| h.1),
                        cycles: l2.latency(),
                    });
                }
                if let Some((_, e)) = hit {
                    let l1 = if req.kind == AccessKind::Fetch {
                        &mut self.itlb
                    } else {
                        &mut self.dtlb
                    };
                    let (slot, evicted) = l1.fill(e);
                    if t.on() {
                        t.push(Step::TlbFill {
                            tlb: l1_id,
                            slot,
                            evicted,
                        });
                    }
                    found = Some((e, TlbId::L2tlb));
                } else {
                    tracing::debug!(tlb = "l2tlb", va = req.va, "tlb miss");
                }
            }
        }
        if let Some((e, from)) = found {
            let fault = |reason| Faulted {
                fault: Fault::Page {
                    va: req.va,
                    kind: req.kind,
                    level: e.level,
                    pte_addr: e.pte_addr,
                    pte: e.pte,
                    reason,
                },
                cycles,
            };
            let perm = check_leaf(&e.flags, has_u, req.kind, &req.ctx);
            if t.on() {
                t.push(Step::Check {
                    what: "privilege and permission",
                    ok: perm.is_ok(),
                });
            }
            perm.map_err(fault)?;
            let dirty_needed = req.kind == AccessKind::Store && !e.flags.d;
            if !dirty_needed {
                let pa = e.pa_page | (va & ((1u64 << e.page_bits) - 1));
                if t.on() {
                    t.push(Step::Physical { pa });
                }
                return Ok(Translation {
                    pa,
                    cycles,
                    source: Source::Tlb { tlb: from },
                    page_bits: e.page_bits,
                });
            }
            if self.cfg.ad == crate::format::AdPolicy::Svade {
                if t.on() {
                    t.push(Step::Check {
                        what: "dirty bit",
                        ok: false,
                    });
                }
                return Err(fault(PageFaultReason::DirtyClear));
            }
            // Svadu: the entry is clean; walk again so the walker sets D in memory.
            self.stats.walker.dirty_rewalks += 1;
        }
        let inp = WalkInput {
            format,
            root,
            va,
            va_report: req.va,
            kind: req.kind,
            ctx: req.ctx,
            ad: self.cfg.ad,
            cfg: self.cfg.walker,
        };
        let (r, wc) = walk(&inp, &mut Timed(port), &mut self.stats.walker, t);
        cycles += wc;
        let leaf = r.map_err(|fault| Faulted { fault, cycles })?;
        let entry = TlbEntry {
            valid: true,
            vpn: va >> leaf.page_bits,
            asid,
            seg,
            global: leaf.global,
            page_bits: leaf.page_bits,
            level: leaf.level,
            pa_page: leaf.pa_page,
            pte_addr: leaf.pte_addr,
            pte: leaf.pte,
            flags: leaf.flags,
        };
        if !has_tlb {
            if t.on() {
                t.push(Step::Physical { pa: leaf.pa });
            }
            return Ok(Translation {
                pa: leaf.pa,
                cycles,
                source: Source::Walk { level: leaf.level },
                page_bits: leaf.page_bits,
            });
        }
        if let Some(l2) = &mut self.l2tlb {
            let (slot, evicted) = l2.fill(entry);
            if t.on() {
                t.push(Step::TlbFill {
                    tlb: TlbId::L2tlb,
                    slot,
                    evicted,
                });
            }
        }
        let l1 = if req.kind == AccessKind::Fetch {
            &mut self.itlb
        } else {
            &mut self.dtlb
        };
        let (slot, evicted) = l1.fill(entry);
        if t.on() {
            t.push(Step::TlbFill {
                tlb: l1_id,
                slot,
                evicted,
            });
            t.push(Step::Physical { pa: leaf.pa });
        }
        Ok(Translation {
            pa: leaf.pa,
            cycles,
            source: Source::Walk { level: leaf.level },
            page_bits: leaf.page_bits,
        })
    }
}

/// Everything before the TLB: privilege bypass, bare, base and bounds, address width,
/// segment checks. Either answers the request or says where to walk.
#[inline]
fn front<'a, T: Tracer>(mode: &'a Mode, req: &Request, t: &mut T) -> Front<'a> {
    let done = |r: Result<Translation, Fault>| {
        Front::Done(r.map_err(|fault| Faulted {
            fault,
            cycles: Cycle(0),
        }))
    };
    if req.ctx.privilege == Privilege::Machine {
        if t.on() {
            t.push(Step::Untranslated {
                why: "machine mode is never translated",
            });
        }
        return done(Ok(untranslated(req.va)));
    }
    match mode {
        Mode::Bare => {
            if t.on() {
                t.push(Step::Untranslated {
                    why: "bare mode: physical = virtual",
                });
            }
            done(Ok(untranslated(req.va)))
        }
        Mode::BaseBounds { base, bounds } => {
            let ok = req
                .va
                .checked_add(req.size as u64)
                .is_some_and(|end| end <= *bounds);
            if t.on() {
                t.push(Step::Bounds {
                    base: *base,
                    bounds: *bounds,
                    ok,
                });
            }
            if !ok {
                return done(Err(Fault::Bounds {
                    va: req.va,
                    size: req.size,
                    bounds: *bounds,
                }));
            }
            let pa = base.wrapping_add(req.va);
            if t.on() {
                t.push(Step::Physical { pa });
            }
            done(Ok(Translation {
                pa,
                cycles: Cycle(0),
                source: Source::Relocated,
                page_bits: 0,
            }))
        }
        Mode::Segmented(s) => front_segment(s, req, t),
        Mode::Paged { format, root } => {
            let ok = format.va_ok(req.va);
            if t.on() {
                t.push(Step::Check {
                    what: "address width",
                    ok,
                });
            }
            if !ok {
                let va_bits = format.va_bits();
                return done(Err(match format.spec().va_check {
                    crate::format::VaCheck::Canonical => Fault::NonCanonical {
                        va: req.va,
                        va_bits,
                    },
                    crate::format::VaCheck::Zero => Fault::AddressOutOfRange {
                        va: req.va,
                        va_bits,
                    },
                }));
            }
            let va = req.va & format.va_mask();
            if straddles(format, va, req.size) {
                return done(Err(Fault::PageStraddle {
                    va: req.va,
                    size: req.size,
                }));
            }
            Front::Paged(PagedTarget {
                format,
                root: *root,
                seg: 0,
                va,
            })
        }
    }
}

fn front_segment<'a, T: Tracer>(s: &'a Segmentation, req: &Request, t: &mut T) -> Front<'a> {
    let done = |r: Result<Translation, Fault>| {
        Front::Done(r.map_err(|fault| Faulted {
            fault,
            cycles: Cycle(0),
        }))
    };
    if !s.va_ok(req.va) {
        if t.on() {
            t.push(Step::Check {
                what: "address width",
                ok: false,
            });
        }
        return done(Err(Fault::AddressOutOfRange {
            va: req.va,
            va_bits: s.va_bits,
        }));
    }
    let (segment, offset) = s.split(req.va);
    let r = &s.registers[segment as usize];
    if t.on() {
        t.push(Step::Segment {
            segment,
            offset,
            register: r.clone(),
        });
    }
    if !r.present {
        if t.on() {
            t.push(Step::Check {
                what: "segment present",
                ok: false,
            });
        }
        return done(Err(Fault::SegmentNotPresent { segment }));
    }
    let size = req.size as u64;
    let max = s.span(segment);
    let in_limit = if r.grows_down {
        offset >= max - r.limit && offset + size <= max
    } else {
        offset + size <= r.limit
    };
    if t.on() {
        t.push(Step::Check {
            what: "segment limit",
            ok: in_limit,
        });
    }
    if !in_limit {
        return done(Err(Fault::SegmentLimit {
            segment,
            offset,
            size: req.size,
            limit: r.limit,
            grows_down: r.grows_down,
        }));
    }
    let prot = if req.ctx.privilege == Privilege::User && !r.user {
        Some(SegmentProtection::SupervisorOnly)
    } else {
        match req.kind {
            AccessKind::Fetch if !r.exec => Some(SegmentProtection::NotExecutable),
            AccessKind::Load if !r.read => Some(SegmentProtection::NotReadable),
            AccessKind::Store if !r.write => Some(SegmentProtection::NotWritable),
            _ => None,
        }
    };
    if t.on() {
        t.push(Step::Check {
            what: "segment permissions",
            ok: prot.is_none(),
        });
    }
    if let Some(reason) = prot {
        return done(Err(Fault::SegmentProtection { segment, reason }));
    }
    match (r.page_table, &s.format) {
        (Some(root), Some(format)) => {
            if straddles(format, offset, req.size) {
                return done(Err(Fault::PageStraddle {
                    va: req.va,
                    size: req.size,
                }));
            }
            Front::Paged(PagedTarget {
                format,
                root,
                seg: segment,
                va: offset,
            })
        }
        _ => {
            let pa = if r.grows_down {
                r.base - (max - offset)
            } else {
                r.base + offset
            };
            if t.on() {
                t.push(Step::Physical { pa });
            }
            done(Ok(Translation {
                pa,
                cycles: Cycle(0),
                source: Source::Segment { segment },
                page_bits: 0,
            }))
        }
    }
}

enum Front<'a> {
    Done(Result<Translation, Faulted>),
    Paged(PagedTarget<'a>),
}

fn untranslated(va: u64) -> Translation {
    Translation {
        pa: va,
        cycles: Cycle(0),
        source: Source::Untranslated,
        page_bits: 0,
    }
}

/// Whether an access of `size` bytes at `va` crosses a base-page boundary of `format`.
#[inline]
fn straddles(format: &Format, va: u64, size: u8) -> bool {
    let page = 1u64 << format.page_offset_bits();
    (va & (page - 1)) + size.max(1) as u64 > page
}

// Keep the WalkMem trait in scope for the generic bounds above.
#[allow(unused_imports)]
use WalkMem as _;
