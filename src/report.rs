//! Runs a scenario and reports it: as text a teacher would check by hand, or as JSON.
//!
//! [`run`] executes every operation of a [`Scenario`] against its translation unit and
//! memory, recording the steps of each translation; [`human`] and [`json`] render the result.

use crate::scenario::{Expectation, Op, Scenario};
use serde::ser::SerializeMap;
use serde::Serialize;
use std::fmt::Write as _;
use vmlab_mmu::walker::size_name;
use vmlab_mmu::{
    AccessKind, Cycle, Fault, FaultClass, Flush, Format, Mode, Privilege, Request, Segmentation,
    Source, Step, TlbEntry, TlbId, Translation,
};

/// The outcome of one access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It translated.
    Ok {
        /// The translation.
        translation: Translation,
        /// The little-endian value of the accessed bytes at the physical address, if memory is there.
        value: Option<u64>,
    },
    /// It faulted.
    Fault {
        /// The fault.
        fault: Fault,
        /// The cycles spent before the fault was found.
        cycles: Cycle,
    },
}

/// What one operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// A translation or probe.
    Access {
        /// 1-based number of the access (flushes are not counted).
        index: usize,
        /// The request.
        req: Request,
        /// Whether it was a functional probe.
        probe: bool,
        /// The note from the scenario.
        note: Option<String>,
        /// Every step the unit recorded.
        steps: Vec<Step>,
        /// The physical address or the fault.
        outcome: Outcome,
        /// The expected answer from the scenario, and whether the outcome matches it.
        expect: Option<(Expectation, bool)>,
    },
    /// A TLB flush.
    Flush {
        /// Which entries.
        flush: Flush,
        /// The note from the scenario.
        note: Option<String>,
    },
}

/// A finished run: the result of every operation and the final statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// One result per operation, in order.
    pub results: Vec<OpResult>,
    /// Every counter of the unit, in the stable order of `Mmu::for_each_stat`.
    pub stats: Vec<(String, u64)>,
}

impl Run {
    /// How many accesses gave an answer other than their `expect`, and how many had one.
    pub fn expectations(&self) -> (usize, usize) {
        let mut wrong = 0;
        let mut all = 0;
        for r in &self.results {
            if let OpResult::Access {
                expect: Some((_, ok)),
                ..
            } = r
            {
                all += 1;
                wrong += usize::from(!ok);
            }
        }
        (wrong, all)
    }
}

/// Runs every operation of the scenario (mutating its unit and memory).
pub fn run(s: &mut Scenario) -> Run {
    let mut results = Vec::new();
    let mut index = 0;
    for op in s.ops.clone() {
        match op {
            Op::Access(a) => {
                index += 1;
                let mut steps = Vec::new();
                let outcome = if a.probe {
                    match s.mmu.probe_traced(a.req, &s.memory, &mut steps) {
                        Ok(t) => Outcome::Ok {
                            value: crate::scenario::value_at(&s.memory, t.pa, a.req.size),
                            translation: t,
                        },
                        Err(fault) => Outcome::Fault {
                            fault,
                            cycles: Cycle(0),
                        },
                    }
                } else {
                    match s.mmu.translate_traced(a.req, &mut s.memory, &mut steps) {
                        Ok(t) => Outcome::Ok {
                            value: crate::scenario::value_at(&s.memory, t.pa, a.req.size),
                            translation: t,
                        },
                        Err(f) => Outcome::Fault {
                            fault: f.fault,
                            cycles: f.cycles,
                        },
                    }
                };
                let expect = a.expect.map(|e| {
                    let ok = e.matches(&outcome, &steps);
                    (e, ok)
                });
                results.push(OpResult::Access {
                    index,
                    req: a.req,
                    probe: a.probe,
                    note: a.note,
                    steps,
                    outcome,
                    expect,
                });
            }
            Op::Flush { flush, note } => {
                s.mmu.flush(flush);
                results.push(OpResult::Flush { flush, note });
            }
        }
    }
    Run {
        results,
        stats: s.mmu.stat_list(),
    }
}

/// The RISC-V exception code of a fault class for an access kind (`mcause`/`scause`).
pub fn exception_code(class: FaultClass, kind: AccessKind) -> u64 {
    match (class, kind) {
        (FaultClass::Misaligned, AccessKind::Fetch) => 0,
        (FaultClass::AccessFault, AccessKind::Fetch) => 1,
        (FaultClass::Misaligned, AccessKind::Load) => 4,
        (FaultClass::AccessFault, AccessKind::Load) => 5,
        (FaultClass::Misaligned, AccessKind::Store) => 6,
        (FaultClass::AccessFault, AccessKind::Store) => 7,
        (FaultClass::PageFault, AccessKind::Fetch) => 12,
        (FaultClass::PageFault, AccessKind::Load) => 13,
        (FaultClass::PageFault, AccessKind::Store) => 15,
    }
}

/// The RISC-V name of a fault class for an access kind ("load page fault").
pub fn exception_name(class: FaultClass, kind: AccessKind) -> String {
    let k = match kind {
        AccessKind::Fetch => "instruction",
        AccessKind::Load => "load",
        AccessKind::Store => "store/AMO",
    };
    let c = match class {
        FaultClass::PageFault => "page fault",
        FaultClass::AccessFault => "access fault",
        FaultClass::Misaligned => "address misaligned",
    };
    format!("{k} {c}")
}

// ---------------------------------------------------------------------------------------
// Human output

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else if one.ends_with('s') {
        format!("{n} {one}es")
    } else {
        format!("{n} {one}s")
    }
}

fn cyc(c: Cycle) -> String {
    plural(c.0, "cycle")
}

/// How numbers are shown: hex always, decimal too for the OSTEP-style teaching modes.
#[derive(Clone, Copy)]
struct Style {
    decimal: bool,
}

impl Style {
    fn n(self, v: u64) -> String {
        if self.decimal {
            format!("{v:#x} ({v})")
        } else {
            format!("{v:#x}")
        }
    }
}

pub(crate) fn is_riscv(f: &Format) -> bool {
    f.name().starts_with("sv")
        && f.spec().read.is_some()
        && f.spec().exec.is_some()
        && f.spec().valid == 0
}

pub(crate) fn is_ostep(f: &Format) -> bool {
    f.name().starts_with("ostep")
}

/// The flags of a PTE as the format defines them: `DAGUXWRV` letters (with `-` for clear
/// bits) for the bits the format has, or `valid 1` for a format with only a valid bit.
pub(crate) fn pte_flags(f: &Format, pte: u64) -> String {
    let s = f.spec();
    let bits = [
        ('D', s.dirty),
        ('A', s.accessed),
        ('G', s.global),
        ('U', s.user),
        ('X', s.exec),
        ('W', s.write),
        ('R', s.read),
        ('V', Some(s.valid)),
    ];
    if bits[..7].iter().all(|(_, b)| b.is_none()) {
        return format!("valid {}", pte >> s.valid & 1);
    }
    bits.iter()
        .filter_map(|&(c, b)| b.map(|b| if pte >> b & 1 == 1 { c } else { '-' }))
        .collect()
}

pub(crate) fn page_word(f: &Format, level: u8) -> String {
    let size = size_name(f.page_bits(level));
    if level == 0 || !is_riscv(f) {
        return format!("{size} page");
    }
    let w = match level {
        1 => "megapage",
        2 => "gigapage",
        3 => "terapage",
        _ => "petapage",
    };
    format!("{size} {w}")
}

pub(crate) fn level_name(f: &Format, level: u8) -> String {
    if f.levels() == 1 {
        return "PTE".into();
    }
    if is_ostep(f) && f.levels() == 2 {
        return if level == 1 {
            "PDE".into()
        } else {
            "PTE".into()
        };
    }
    format!("level-{level} PTE")
}

fn hexw(v: u64, bytes: u8) -> String {
    format!("{v:#0w$x}", w = 2 + 2 * bytes as usize)
}

pub(crate) fn priv_name(p: Privilege) -> &'static str {
    match p {
        Privilege::User => "U-mode",
        Privilege::Supervisor => "S-mode",
        Privilege::Machine => "M-mode",
    }
}

pub(crate) fn perms(r: &vmlab_mmu::SegmentRegister) -> String {
    format!(
        "{}{}{}",
        if r.read { 'r' } else { '-' },
        if r.write { 'w' } else { '-' },
        if r.exec { 'x' } else { '-' }
    )
}

pub(crate) fn format_line(f: &Format) -> String {
    let s = f.spec();
    let idx: Vec<String> = s.index_bits.iter().map(|b| b.to_string()).collect();
    let va = match s.va_check {
        vmlab_mmu::format::VaCheck::Canonical => format!(
            "{}-bit VA (bits 63..{} must equal bit {})",
            f.va_bits(),
            f.va_bits(),
            f.va_bits() - 1
        ),
        vmlab_mmu::format::VaCheck::Zero => format!("{}-bit VA", f.va_bits()),
    };
    let sp = if s.superpages { ", superpages" } else { "" };
    format!(
        "format {}: {} level{} ({} index bits), {}-bit offset ({} pages), {}-byte PTEs, {va}, {}-bit PA{sp}",
        f.name(),
        f.levels(),
        if f.levels() == 1 { "" } else { "s" },
        idx.join(" + "),
        f.page_offset_bits(),
        size_name(f.page_offset_bits()),
        f.pte_bytes(),
        f.pa_bits()
    )
}

pub(crate) fn tlb_line(name: &str, c: &vmlab_mmu::TlbConfig) -> String {
    let shape = if c.sets == 1 {
        format!("{} entries, fully associative", c.ways)
    } else {
        format!("{} sets x {} ways", c.sets, c.ways)
    };
    let pol = serde_json::to_value(c.policy)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        "{name} {shape}, {pol}, lookup {}",
        plural(c.hit_latency, "cycle")
    )
}

pub(crate) fn segment_label(s: &Scenario, i: u8) -> String {
    match s.segment_names.get(i as usize).and_then(|n| n.as_deref()) {
        Some(n) => format!("segment {i} ({n})"),
        None => format!("segment {i}"),
    }
}

fn header(s: &Scenario, style: Style, out: &mut String) {
    let mmu = &s.mmu;
    let cfg = mmu.config();
    let _ = writeln!(out, "vmlab translate {}", s.path);
    if let Some(t) = &s.title {
        let _ = writeln!(out, "  {t}");
    }
    let _ = writeln!(out);
    match mmu.mode() {
        Mode::Bare => {
            let _ = writeln!(out, "mode     bare: physical address = virtual address");
        }
        Mode::BaseBounds { base, bounds } => {
            let _ = writeln!(
                out,
                "mode     base-bounds: base {}, bounds {}\n         PA = base + VA, for VA + size <= bounds",
                style.n(*base),
                style.n(*bounds)
            );
        }
        Mode::Segmented(seg) => {
            if let vmlab_mmu::SegmentSelect::Halves { address_space } = seg.select {
                let half = address_space.div_ceil(2);
                let _ = writeln!(
                    out,
                    "mode     {}: an address space of {} bytes, split at its middle {}: VA < {} is segment 0 (offset = VA), VA >= {} is segment 1 (offset = VA - {})",
                    mmu.mode().name(),
                    style.n(address_space),
                    style.n(half),
                    style.n(half),
                    style.n(half),
                    style.n(half)
                );
            } else {
                let _ = writeln!(
                out,
                "mode     {}: {}-bit VA, the top {} bit{} select{} one of {} segments, {}-bit offset (segments up to {} bytes)",
                mmu.mode().name(),
                seg.va_bits,
                seg.selector_bits,
                if seg.selector_bits == 1 { "" } else { "s" },
                if seg.selector_bits == 1 { "s" } else { "" },
                seg.registers.len(),
                seg.offset_bits(),
                style.n(seg.max_segment())
            );
            }
            for (i, r) in seg.registers.iter().enumerate() {
                let label = segment_label(s, i as u8);
                let sel = format!("{:0w$b}", i, w = seg.selector_bits as usize);
                if !r.present {
                    let _ = writeln!(out, "  {label:<20} [{sel}] not present");
                    continue;
                }
                let place = match r.page_table {
                    Some(pt) => format!("page table at {pt:#x}"),
                    None if r.grows_down => format!("base {} (top, exclusive)", style.n(r.base)),
                    None => format!("base {}", style.n(r.base)),
                };
                let _ = writeln!(
                    out,
                    "  {label:<20} [{sel}] {place}, limit {}, grows {}, {} {}",
                    style.n(r.limit),
                    if r.grows_down { "down" } else { "up" },
                    perms(r),
                    if r.user { "user" } else { "supervisor-only" }
                );
            }
            if let Some(f) = &seg.format {
                let _ = writeln!(out, "         paged segments: {}", format_line(f));
            }
        }
        Mode::Paged { format, root } => {
            let _ = writeln!(out, "mode     paged, {}", format_line(format));
            let pfn = root >> format.page_offset_bits();
            let what = if is_ostep(format) && format.levels() == 2 {
                "page directory (PDBR)"
            } else if format.levels() == 1 {
                "page table"
            } else {
                "root table"
            };
            let _ = writeln!(
                out,
                "         {what} at {}, page {}{}",
                style.n(*root),
                style.n(pfn),
                if root & ((1 << format.page_offset_bits()) - 1) != 0 {
                    ", not page-aligned"
                } else {
                    ""
                }
            );
            if let Some((at, bytes)) = s.table_placed {
                let _ = writeln!(
                    out,
                    "         (given inline as `table`: vmlab placed its {} bytes at {}, the lowest page-aligned place clear of every [[write]] and every page the table maps)",
                    style.n(bytes),
                    style.n(at)
                );
            }
        }
    }
    if mmu.mode().uses_tlb() {
        let mut tl = vec![tlb_line("itlb", &cfg.itlb), tlb_line("dtlb", &cfg.dtlb)];
        if let Some(l2) = &cfg.l2tlb {
            tl.push(tlb_line("l2tlb", l2));
        }
        if !cfg.has_tlb() {
            tl = vec!["none (tlb = \"none\"): every access walks the page table".to_string()];
        }
        let _ = writeln!(out, "TLBs     {}", tl.join("\n         "));
        let _ = writeln!(
            out,
            "walker   {} to start a walk, {} per level on top of each PTE read",
            plural(cfg.walker.start_latency, "cycle"),
            plural(cfg.walker.level_latency, "cycle")
        );
        let has_ad = |f: &Format| f.spec().accessed.is_some() || f.spec().dirty.is_some();
        let ad_used = match mmu.mode() {
            Mode::Paged { format, .. } => has_ad(format),
            Mode::Segmented(sg) => sg.format.as_deref().is_some_and(has_ad),
            _ => false,
        };
        if !ad_used {
            // The format has no A or D bits: nothing to set or check.
        } else {
            let _ = writeln!(
            out,
            "A/D      {}",
            match cfg.ad {
                vmlab_mmu::AdPolicy::Svade =>
                    "svade: a clear A bit (or D bit on a store) is a page fault; software sets them",
                vmlab_mmu::AdPolicy::Svadu =>
                    "svadu: the walker sets A (and D on a store) in memory, one write each time",
            }
        );
        }
    } else {
        let _ = writeln!(out, "TLBs     not used in this mode (no page tables)");
    }
    let latency = if mmu.mode().uses_tlb() {
        format!(
            ", {} per PTE read or write",
            plural(s.memory_latency, "cycle")
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "memory   {} bytes ({}){latency}",
        style.n(s.memory.size()),
        human_size(s.memory.size()),
    );
    let c = s.context;
    if mmu.mode().uses_tlb() {
        let _ = writeln!(
            out,
            "context  {}, ASID {}, SUM {}, MXR {} (defaults for every access)",
            priv_name(c.privilege),
            c.asid,
            c.sum as u8,
            c.mxr as u8
        );
    } else {
        let _ = writeln!(
            out,
            "context  {} (the default of every access)",
            priv_name(c.privilege)
        );
    }
}

fn human_size(v: u64) -> String {
    if v.is_power_of_two() {
        size_name(v.trailing_zeros() as u8)
    } else {
        format!("{v} B")
    }
}

/// What the renderer knows about the access being shown.
struct AccessView<'a> {
    s: &'a Scenario,
    style: Style,
    req: Request,
    format: Option<&'a Format>,
    seg: Option<&'a Segmentation>,
    /// The address the table is indexed with (the segment offset for paged segments).
    indexed: u64,
    split_shown: bool,
    page_bits: u8,
    grows_down_base: Option<(u64, u64, u64)>,
    bounds_base: Option<u64>,
}

impl AccessView<'_> {
    fn split(&self) -> String {
        let Some(f) = self.format else {
            return String::new();
        };
        let ob = f.page_offset_bits();
        let va = self.indexed;
        let vpn = va >> ob;
        let off = va & ((1u64 << ob) - 1);
        let what = if self.seg.is_some() {
            "offset".to_string()
        } else if va != self.req.va {
            format!("VA {:#x}: its low {} bits", self.req.va, f.va_bits())
        } else {
            "VA".to_string()
        };
        if f.levels() == 1 {
            return format!(
                "{what} {} = VPN {} | page offset {}",
                self.style.n(va),
                self.style.n(vpn),
                self.style.n(off)
            );
        }
        let parts: Vec<String> = (0..f.levels())
            .rev()
            .map(|l| {
                let name = if is_ostep(f) && f.levels() == 2 {
                    if l == 1 {
                        "PD index".to_string()
                    } else {
                        "PT index".to_string()
                    }
                } else {
                    format!("VPN[{l}]")
                };
                format!("{name} {}", self.style.n(f.index(va, l)))
            })
            .collect();
        format!(
            "{what} {} = VPN {} ({}) | page offset {}",
            self.style.n(va),
            self.style.n(vpn),
            parts.join(", "),
            self.style.n(off)
        )
    }

    fn entry(&self, e: &TlbEntry) -> String {
        tlb_entry_text(e, self.seg.is_some())
    }

    fn step(&mut self, st: &Step, out: &mut Vec<String>) {
        let n = |v| self.style.n(v);
        match st {
            Step::Untranslated { why } => out.push(format!("untranslated: {why}")),
            Step::Bounds { base, bounds, ok } => {
                self.bounds_base = Some(*base);
                let end = self.req.va as u128 + self.req.size as u128;
                out.push(format!(
                    "bounds check: VA + size = {} {} bounds {}: {}",
                    if end > u64::MAX as u128 {
                        "2^64".to_string()
                    } else {
                        n(end as u64)
                    },
                    if *ok { "<=" } else { ">" },
                    n(*bounds),
                    if *ok { "ok" } else { "FAILED" }
                ));
            }
            Step::Segment {
                segment,
                offset,
                register,
            } => {
                let seg = self.seg.expect("segment step in a segmented mode");
                let sel = format!("{:0w$b}", segment, w = seg.selector_bits as usize);
                if let vmlab_mmu::SegmentSelect::Halves { address_space } = seg.select {
                    let half = address_space.div_ceil(2);
                    out.push(if *segment == 0 {
                        format!(
                            "VA {} < {}: {}; offset = VA = {}",
                            n(self.req.va),
                            n(half),
                            segment_label(self.s, *segment),
                            n(*offset)
                        )
                    } else {
                        format!(
                            "VA {} >= {}: {}; offset = VA - {} = {}",
                            n(self.req.va),
                            n(half),
                            segment_label(self.s, *segment),
                            n(half),
                            n(*offset)
                        )
                    });
                } else {
                    out.push(format!(
                        "top {} bit{} = {sel}: {}; offset {}",
                        seg.selector_bits,
                        if seg.selector_bits == 1 { "" } else { "s" },
                        segment_label(self.s, *segment),
                        n(*offset)
                    ));
                }
                if register.grows_down && register.page_table.is_none() {
                    let max = seg.span(*segment);
                    self.grows_down_base = Some((register.base, max, *offset));
                    let neg = max - offset;
                    let (what, a, b) = match seg.select {
                        vmlab_mmu::SegmentSelect::Halves { address_space } => {
                            ("VA - address space", self.req.va, address_space)
                        }
                        _ => ("offset - max segment size", *offset, max),
                    };
                    out.push(format!(
                        "grows down: negative offset = {what} = {} - {} = {}",
                        n(a),
                        n(b),
                        if self.style.decimal {
                            format!("-{neg:#x} (-{neg})")
                        } else {
                            format!("-{neg:#x}")
                        }
                    ));
                }
                self.indexed = *offset;
            }
            Step::Check { what, ok } => {
                let extra = match (*what, self.seg, self.format) {
                    ("segment limit", Some(seg), _) => {
                        let (s, _) = seg.split(self.req.va);
                        let r = &seg.registers[s as usize];
                        if r.grows_down {
                            format!(
                                " (the top {} bytes are valid: offset {} .. {})",
                                n(r.limit),
                                n(seg.span(s) - r.limit),
                                n(seg.span(s) - 1)
                            )
                        } else {
                            format!(" (offset + size <= limit {})", n(r.limit))
                        }
                    }
                    ("segment permissions", Some(seg), _) => {
                        let (s, _) = seg.split(self.req.va);
                        let r = &seg.registers[s as usize];
                        format!(
                            " ({} {} {} a {} segment)",
                            priv_name(self.req.ctx.privilege),
                            self.req.kind,
                            if self.req.kind == AccessKind::Store {
                                "to"
                            } else {
                                "from"
                            },
                            perms(r)
                        )
                    }
                    ("address width", None, Some(f)) => match f.spec().va_check {
                        vmlab_mmu::format::VaCheck::Canonical => {
                            format!(" (bits 63..{} equal bit {})", f.va_bits(), f.va_bits() - 1)
                        }
                        vmlab_mmu::format::VaCheck::Zero => {
                            format!(" (fits in {} bits)", f.va_bits())
                        }
                    },
                    _ => String::new(),
                };
                out.push(format!(
                    "check {what}{extra}: {}",
                    if *ok { "ok" } else { "FAILED" }
                ));
            }
            Step::TlbLookup {
                tlb,
                hit,
                entry,
                cycles,
            } => {
                if !self.split_shown {
                    self.split_shown = true;
                    out.push(self.split());
                }
                match (hit, entry) {
                    (Some(slot), Some(e)) => {
                        self.page_bits = e.page_bits;
                        out.push(format!(
                            "{} lookup: HIT at set {} way {}: {} [{}]",
                            tlb.name(),
                            slot.set,
                            slot.way,
                            self.entry(e),
                            cyc(*cycles)
                        ));
                    }
                    _ => out.push(format!("{} lookup: miss [{}]", tlb.name(), cyc(*cycles))),
                }
            }
            Step::PteRead {
                level,
                addr,
                value,
                cycles,
                ..
            } => {
                if !self.split_shown {
                    self.split_shown = true;
                    out.push(self.split());
                }
                let Some(f) = self.format else {
                    out.push(format!("PTE read at {addr:#x}: {value:#x}"));
                    return;
                };
                let idx = f.index(self.indexed, *level);
                let table = addr.wrapping_sub(idx * f.pte_bytes() as u64);
                out.push(format!(
                    "{} at {} = table {} + index {} x {}: {}  [{}]  PFN {} [{}]",
                    level_name(f, *level),
                    n(*addr),
                    n(table),
                    n(idx),
                    f.pte_bytes(),
                    hexw(*value, f.pte_bytes()),
                    pte_flags(f, *value),
                    n(f.pfn(*value)),
                    cyc(*cycles)
                ));
            }
            Step::Pointer { next, .. } => {
                out.push(format!("  -> points to the next table at {}", n(*next)));
            }
            Step::Leaf { level, page_bits } => {
                self.page_bits = *page_bits;
                let f = self.format.expect("leaf in a paged mode");
                out.push(format!(
                    "  -> leaf at level {level}: maps a {}",
                    page_word(f, *level)
                ));
            }
            Step::AdWrite {
                addr,
                old,
                new,
                cycles,
            } => {
                let f = self.format.expect("A/D write in a paged mode");
                let d = f.d_mask() != 0 && new & f.d_mask() != 0 && old & f.d_mask() == 0;
                let a = f.a_mask() != 0 && new & f.a_mask() != 0 && old & f.a_mask() == 0;
                let what = match (a, d) {
                    (true, true) => "sets A and D",
                    (true, false) => "sets A",
                    (false, true) => "sets D",
                    _ => "no change",
                };
                out.push(format!(
                    "A/D update ({what}): PTE at {} {} -> {}  [{}] [{}]",
                    n(*addr),
                    hexw(*old, f.pte_bytes()),
                    hexw(*new, f.pte_bytes()),
                    pte_flags(f, *new),
                    cyc(*cycles)
                ));
            }
            Step::TlbFill { tlb, slot, evicted } => {
                let ev = match evicted {
                    Some(e) => format!(", evicting {}", self.entry(e)),
                    None => String::new(),
                };
                out.push(format!(
                    "{} fill: set {} way {}{ev}",
                    tlb.name(),
                    slot.set,
                    slot.way
                ));
            }
            Step::Physical { pa } => {
                if let Some(base) = self.bounds_base {
                    out.push(format!(
                        "PA = base + VA = {} + {} = {}",
                        n(base),
                        n(self.req.va),
                        n(*pa)
                    ));
                } else if let Some((base, max, off)) = self.grows_down_base {
                    out.push(format!(
                        "PA = base - (max - offset) = {} - {} = {}",
                        n(base),
                        n(max - off),
                        n(*pa)
                    ));
                } else if self.format.is_some() && self.page_bits > 0 {
                    let mask = (1u64 << self.page_bits) - 1;
                    out.push(format!(
                        "PA = page {} | offset {} = {}",
                        n(pa & !mask),
                        n(self.indexed & mask),
                        n(*pa)
                    ));
                } else if let Some(seg) = self.seg {
                    let (s, off) = seg.split(self.req.va);
                    out.push(format!(
                        "PA = base + offset = {} + {} = {}",
                        n(seg.registers[s as usize].base),
                        n(off),
                        n(*pa)
                    ));
                } else {
                    out.push(format!("PA = {}", n(*pa)));
                }
            }
        }
    }
}

pub(crate) fn source_text(t: &Translation, f: Option<&Format>) -> String {
    match t.source {
        Source::Untranslated => "untranslated".into(),
        Source::Relocated => "relocated by base and bounds".into(),
        Source::Segment { segment } => format!("segment {segment}"),
        Source::Tlb { tlb } => format!(
            "{} hit{}",
            tlb.name(),
            if tlb == TlbId::L2tlb {
                " (refilled the L1 TLB)"
            } else {
                ""
            }
        ),
        Source::Walk { level } => match f {
            Some(f) => format!("page walk, leaf at level {level}, {}", page_word(f, level)),
            None => format!("page walk, leaf at level {level}"),
        },
    }
}

/// The report as text: the configuration, then every access step by step with its physical
/// address or fault, then the non-zero statistics.
pub fn human(s: &Scenario, run: &Run) -> String {
    let style = Style {
        decimal: match s.mmu.mode() {
            Mode::BaseBounds { .. } | Mode::Segmented(_) => true,
            Mode::Paged { format, .. } => is_ostep(format),
            Mode::Bare => false,
        },
    };
    let mut out = String::new();
    header(s, style, &mut out);
    let (mut ok, mut faults, mut cycles) = (0u64, 0u64, Cycle(0));
    for r in &run.results {
        let _ = writeln!(out);
        match r {
            OpResult::Flush { flush, note } => {
                let what = match flush {
                    Flush::All => "every entry of every TLB (sfence.vma x0, x0)".to_string(),
                    Flush::Asid { asid } => {
                        format!("the non-global entries of ASID {asid} (sfence.vma x0, asid)")
                    }
                    Flush::Addr { va } => {
                        format!("every entry mapping {va:#x}, global ones too (sfence.vma va, x0)")
                    }
                    Flush::AddrAsid { va, asid } => format!(
                        "the non-global entries of ASID {asid} mapping {va:#x} (sfence.vma va, asid)"
                    ),
                };
                let _ = writeln!(out, "flush: {what}");
                if let Some(n) = note {
                    let _ = writeln!(out, "    # {n}");
                }
            }
            OpResult::Access {
                index,
                req,
                probe,
                note,
                steps,
                outcome,
                expect,
            } => {
                let (format, seg) = match s.mmu.mode() {
                    Mode::Paged { format, .. } => (Some(&**format), None),
                    Mode::Segmented(sg) => (sg.format.as_deref(), Some(sg)),
                    _ => (None, None),
                };
                let indexed = format.map_or(req.va, |f| req.va & f.va_mask());
                let mut v = AccessView {
                    s,
                    style,
                    req: *req,
                    format,
                    seg,
                    indexed,
                    split_shown: false,
                    page_bits: 0,
                    grows_down_base: None,
                    bounds_base: None,
                };
                let asid = if s.mmu.mode().uses_tlb() {
                    format!(", ASID {}", req.ctx.asid)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "[{index}] {}{} of {} at VA {}, {}{asid}{}{}",
                    if *probe { "probe: " } else { "" },
                    req.kind,
                    plural(req.size as u64, "byte"),
                    style.n(req.va),
                    priv_name(req.ctx.privilege),
                    if req.ctx.sum { ", SUM" } else { "" },
                    if req.ctx.mxr { ", MXR" } else { "" },
                );
                if let Some(n) = note {
                    let _ = writeln!(out, "    # {n}");
                }
                let mut lines = Vec::new();
                for st in steps {
                    v.step(st, &mut lines);
                }
                for l in lines {
                    let _ = writeln!(out, "    {l}");
                }
                match outcome {
                    Outcome::Ok { translation, value } => {
                        ok += 1;
                        cycles += translation.cycles;
                        let val = match value {
                            Some(x) if req.size == 1 => format!("byte there: {x:#04x}"),
                            Some(x) => format!(
                                "value there: {} ({} bytes, little-endian)",
                                hexw(*x, req.size),
                                req.size
                            ),
                            None => "no memory there".into(),
                        };
                        let _ = writeln!(
                            out,
                            "    => PA {} ({val}); {}; {}{}",
                            style.n(translation.pa),
                            source_text(translation, format),
                            cyc(translation.cycles),
                            if *probe {
                                " (a probe: no TLB, no statistics, no A/D update)"
                            } else {
                                ""
                            }
                        );
                    }
                    Outcome::Fault { fault, cycles: c } => {
                        faults += 1;
                        cycles += *c;
                        let _ = writeln!(out, "    => FAULT: {fault}");
                        let _ = writeln!(
                            out,
                            "       {} (RISC-V exception code {}), counted as mmu.faults.{}; {}",
                            exception_name(fault.class(), req.kind),
                            exception_code(fault.class(), req.kind),
                            fault.cause().name(),
                            cyc(*c)
                        );
                    }
                }
                if let Some((e, ok)) = expect {
                    let what = e.describe(&|n| style.n(n));
                    let _ = writeln!(
                        out,
                        "    expected {what}: {}",
                        if *ok { "correct" } else { "WRONG" }
                    );
                }
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "summary  {} translated, {} faulted, {} in all",
        plural(ok, "access"),
        faults,
        cyc(cycles)
    );
    let (wrong, all) = run.expectations();
    if all > 0 {
        let _ = writeln!(
            out,
            "answers  {} of {} as expected{}",
            all - wrong,
            all,
            if wrong > 0 { " (see WRONG above)" } else { "" }
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "statistics (non-zero counters)");
    let w = run
        .stats
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, value) in run.stats.iter().filter(|(_, v)| *v != 0) {
        let _ = writeln!(out, "  {name:<w$}  {value}");
    }
    out
}

// ---------------------------------------------------------------------------------------
// JSON output

struct Stats<'a>(&'a [(String, u64)]);

impl Serialize for Stats<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct JsonFormat<'a> {
    name: &'a str,
    levels: u8,
    va_bits: u8,
    pa_bits: u8,
    page_offset_bits: u8,
    pte_bytes: u8,
    spec: &'a vmlab_mmu::FormatSpec,
}

// Built once per operation and serialized at once, so the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum JsonOp<'a> {
    Access {
        index: usize,
        va: u64,
        va_hex: String,
        kind: AccessKind,
        size: u8,
        context: vmlab_mmu::Context,
        probe: bool,
        note: &'a Option<String>,
        steps: &'a [Step],
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<JsonOk<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        fault: Option<JsonFault<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expect: Option<JsonExpect>,
    },
    Flush {
        flush: &'a Flush,
        note: &'a Option<String>,
    },
}

#[derive(Serialize)]
struct JsonExpect {
    answer: Expectation,
    correct: bool,
}

#[derive(Serialize)]
struct JsonOk<'a> {
    pa: u64,
    pa_hex: String,
    value: Option<u64>,
    #[serde(flatten)]
    translation: &'a Translation,
}

#[derive(Serialize)]
struct JsonFault<'a> {
    message: String,
    class: FaultClass,
    exception: String,
    exception_code: u64,
    cause: String,
    cycles: Cycle,
    detail: &'a Fault,
}

#[derive(Serialize)]
struct JsonMemory {
    size: u64,
    latency: u64,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    scenario: &'a str,
    title: &'a Option<String>,
    /// `bare`, `base-bounds`, `segments`, `paged-segments`, or the format's name.
    mode_name: String,
    mode: &'a Mode,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    segment_names: &'a [Option<String>],
    format: Option<JsonFormat<'a>>,
    mmu: &'a vmlab_mmu::MmuConfig,
    memory: JsonMemory,
    context: vmlab_mmu::Context,
    ops: Vec<JsonOp<'a>>,
    stats: Stats<'a>,
}

/// The report as one JSON document: the configuration, every operation with its steps and
/// its result or fault, and every counter (zeros included) in the stable order.
pub fn json(s: &Scenario, run: &Run) -> String {
    let ops = run
        .results
        .iter()
        .map(|r| match r {
            OpResult::Flush { flush, note } => JsonOp::Flush { flush, note },
            OpResult::Access {
                index,
                req,
                probe,
                note,
                steps,
                outcome,
                expect,
            } => {
                let (result, fault) = match outcome {
                    Outcome::Ok { translation, value } => (
                        Some(JsonOk {
                            pa: translation.pa,
                            pa_hex: format!("{:#x}", translation.pa),
                            value: *value,
                            translation,
                        }),
                        None,
                    ),
                    Outcome::Fault { fault, cycles } => (
                        None,
                        Some(JsonFault {
                            message: fault.to_string(),
                            class: fault.class(),
                            exception: exception_name(fault.class(), req.kind),
                            exception_code: exception_code(fault.class(), req.kind),
                            cause: fault.cause().name(),
                            cycles: *cycles,
                            detail: fault,
                        }),
                    ),
                };
                JsonOp::Access {
                    index: *index,
                    va: req.va,
                    va_hex: format!("{:#x}", req.va),
                    kind: req.kind,
                    size: req.size,
                    context: req.ctx,
                    probe: *probe,
                    note,
                    steps,
                    result,
                    fault,
                    expect: expect.map(|(answer, correct)| JsonExpect { answer, correct }),
                }
            }
        })
        .collect();
    let report = JsonReport {
        scenario: &s.path,
        title: &s.title,
        mode_name: s.mmu.mode().name(),
        mode: s.mmu.mode(),
        segment_names: &s.segment_names,
        format: s.format.as_deref().map(|f| JsonFormat {
            name: f.name(),
            levels: f.levels(),
            va_bits: f.va_bits(),
            pa_bits: f.pa_bits(),
            page_offset_bits: f.page_offset_bits(),
            pte_bytes: f.pte_bytes(),
            spec: f.spec(),
        }),
        mmu: s.mmu.config(),
        memory: JsonMemory {
            size: s.memory.size(),
            latency: s.memory_latency,
        },
        context: s.context,
        ops,
        stats: Stats(&run.stats),
    };
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    text.push('\n');
    text
}

/// A TLB entry in words: its segment (under segmentation), VPN, page size, ASID or global,
/// and the physical page (`vmlab translate`'s text and its picture say it alike).
pub(crate) fn tlb_entry_text(e: &TlbEntry, segmented: bool) -> String {
    let who = if e.global {
        "global".to_string()
    } else {
        format!("ASID {}", e.asid)
    };
    let seg = if segmented {
        format!("segment {}, ", e.seg)
    } else {
        String::new()
    };
    format!(
        "{seg}VPN {:#x} ({}, {who}) -> page {:#x}",
        e.vpn,
        size_name(e.page_bits),
        e.pa_page
    )
}
