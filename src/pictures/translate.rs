//! The pictures of `vmlab translate SCENARIO --report FILE.html`: one figure per access (the
//! virtual address as a bit field split into its fields, then the path of the translation as
//! a vertical flow of boxes — TLB probes, page-table reads, checks — and the physical address
//! built or the fault), and the final contents of every TLB as a grid.
//!
//! Each figure is drawn from a plain data model ([`AccessModel`], [`TlbModel`]) built from the
//! scenario and its [`Run`] first, so the numbers can be checked without reading SVG.

use super::html::{Figure, Page, Section, Table};
use super::svg::{Anchor, Pattern, Svg, CACHE, GRID, INK};
use crate::report::{self, tlb_entry_text, OpResult, Outcome, Run};
use crate::scenario::Scenario;
use serde::Serialize;
use vmlab_mmu::walker::size_name;
use vmlab_mmu::{AccessKind, Format, Mode, Request, SegmentSelect, Step, TlbId};

/// Which part of an address a bit field is, and so its colour and pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// The bits above the translated width (a sign extension, or bits that must be zero).
    Upper,
    /// The segment selector.
    Segment,
    /// A page-table index (a VPN field).
    Vpn,
    /// The page offset (or the segment offset), carried into the physical address.
    Offset,
    /// A whole address used as it is.
    Address,
    /// The physical page number, from the leaf PTE or the TLB entry.
    Page,
    /// A relocation: base register plus offset.
    Base,
}

impl Part {
    fn fill(self) -> &'static str {
        match self {
            Part::Upper => CACHE,
            Part::Segment => "#F5CE80",
            Part::Vpn => "#A9D8F3",
            Part::Offset => "#80CFB9",
            Part::Address => "#FFFFFF",
            Part::Page => "#E6BCD3",
            Part::Base => "#EEAE80",
        }
    }

    fn pattern(self) -> Option<Pattern> {
        match self {
            Part::Upper => Some(Pattern::Horizontal),
            Part::Segment => Some(Pattern::Cross),
            Part::Vpn => Some(Pattern::Diagonal),
            Part::Offset => Some(Pattern::Dots),
            Part::Address => None,
            Part::Page => Some(Pattern::BackDiagonal),
            Part::Base => Some(Pattern::Vertical),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Part::Upper => "upper bits",
            Part::Segment => "segment",
            Part::Vpn => "page-table index",
            Part::Offset => "offset (kept)",
            Part::Address => "whole address",
            Part::Page => "page number (from the PTE/TLB)",
            Part::Base => "base + offset",
        }
    }
}

/// One field of an address: bits `hi..=lo` holding `value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BitField {
    /// Its name (`VPN[2]`, `offset`, `segment`).
    pub name: String,
    /// The highest bit.
    pub hi: u8,
    /// The lowest bit.
    pub lo: u8,
    /// The field's value (shifted down to bit 0).
    pub value: u64,
    /// Which part of the address it is.
    pub part: Part,
}

/// An address drawn as its fields, most significant first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BitLine {
    /// What the line shows (`VA 0x40201234 (Sv39)`).
    pub caption: String,
    /// The fields, most significant first.
    pub fields: Vec<BitField>,
}

/// The kind of a step box, which sets its stripe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// No translation, or a note.
    Info,
    /// A TLB lookup.
    Tlb,
    /// A page-table read.
    Pte,
    /// A check (bounds, limit, permission, canonical form ...).
    Check,
    /// A segment register was selected.
    Segment,
    /// The walker wrote A/D bits back.
    Ad,
    /// A TLB fill.
    Fill,
}

impl StepKind {
    fn fill(self) -> &'static str {
        match self {
            StepKind::Info => CACHE,
            StepKind::Tlb => "#56B4E9",
            StepKind::Pte => "#CC79A7",
            StepKind::Check => "#009E73",
            StepKind::Segment => "#E69F00",
            StepKind::Ad => "#F0E442",
            StepKind::Fill => "#0072B2",
        }
    }

    fn pattern(self) -> Option<Pattern> {
        match self {
            StepKind::Info => None,
            StepKind::Tlb => Some(Pattern::Diagonal),
            StepKind::Pte => Some(Pattern::BackDiagonal),
            StepKind::Check => Some(Pattern::Dots),
            StepKind::Segment => Some(Pattern::Cross),
            StepKind::Ad => Some(Pattern::Horizontal),
            StepKind::Fill => Some(Pattern::Grid),
        }
    }

    fn label(self) -> &'static str {
        match self {
            StepKind::Info => "note",
            StepKind::Tlb => "TLB lookup",
            StepKind::Pte => "page-table read",
            StepKind::Check => "check",
            StepKind::Segment => "segment register",
            StepKind::Ad => "A/D write",
            StepKind::Fill => "TLB fill",
        }
    }
}

/// One box of an access's path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepBox {
    /// Its kind.
    pub kind: StepKind,
    /// Its first line, in bold.
    pub title: String,
    /// A short status shown at its right (`HIT`, `MISS`, `ok`, `FAILED`, `leaf`).
    pub status: String,
    /// Whether it passed (`Some(false)`: the step that failed the access).
    pub ok: Option<bool>,
    /// The details, one per line.
    pub lines: Vec<String>,
    /// The cycles it cost, when the step has a cost.
    pub cycles: Option<u64>,
}

/// How an access ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutcomeBox {
    /// Whether it faulted.
    pub fault: bool,
    /// The headline (`PA 0x80005234`, `FAULT: load page fault (exception 13)`).
    pub title: String,
    /// The details.
    pub lines: Vec<String>,
    /// The physical address as its fields (none for a fault).
    pub pa: Option<BitLine>,
    /// The cycles the access cost.
    pub cycles: u64,
}

/// The expected answer and whether the run gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// The expected answer, in words.
    pub expected: String,
    /// Whether the outcome matched it.
    pub pass: bool,
}

/// The data model of one access's figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessModel {
    /// 1-based number of the access.
    pub index: usize,
    /// The request in words.
    pub heading: String,
    /// The scenario's note.
    pub note: Option<String>,
    /// The virtual address as fields.
    pub va: BitLine,
    /// The path, in order.
    pub steps: Vec<StepBox>,
    /// The physical address or the fault.
    pub outcome: OutcomeBox,
    /// The grading, when the scenario gives an `expect`.
    pub expect: Option<Badge>,
}

/// One TLB entry slot in the final-contents grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbCell {
    /// The set.
    pub set: u32,
    /// The way.
    pub way: u32,
    /// The entry, if valid: (VPN, page size name, ASID or `global`, physical page, flags).
    pub entry: Option<TlbCellEntry>,
}

/// A valid TLB entry, as the grid shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbCellEntry {
    /// The virtual page number (in units of its page size).
    pub vpn: u64,
    /// The segment (paged segments; 0 otherwise).
    pub seg: u8,
    /// The page size (`4KiB`).
    pub size: String,
    /// `ASID n` or `global`.
    pub owner: String,
    /// The physical address of the page.
    pub pa_page: u64,
    /// The leaf PTE's flags as the format names them.
    pub flags: String,
}

/// The final contents of one TLB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbGrid {
    /// `itlb`, `dtlb` or `l2tlb`.
    pub name: String,
    /// Its geometry and policy in words.
    pub shape: String,
    /// Sets.
    pub sets: u32,
    /// Ways.
    pub ways: u32,
    /// The slots drawn (all of them for a small TLB; the valid ones for a big one).
    pub cells: Vec<TlbCell>,
    /// How many slots were left out of the drawing (empty ones of a big TLB).
    pub hidden: u64,
}

/// The data model of the TLB figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlbModel {
    /// Every TLB the unit has.
    pub tlbs: Vec<TlbGrid>,
}

/// The headline numbers of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Accesses (probes included).
    pub accesses: u64,
    /// Accesses that faulted.
    pub faults: u64,
    /// TLB lookups that hit (every level).
    pub tlb_hits: u64,
    /// TLB lookups that missed (every level).
    pub tlb_misses: u64,
    /// Page-table entries read.
    pub walk_reads: u64,
    /// Cycles of every access.
    pub cycles: u64,
    /// Expected answers right, and graded.
    pub expect: (u64, u64),
}

fn bits_for(v: u64) -> u8 {
    (64 - v.leading_zeros()).max(1) as u8
}

fn mask(width: u8) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Whether the report shows decimal next to hex (the OSTEP-style teaching modes).
fn decimal(s: &Scenario) -> bool {
    match s.mmu.mode() {
        Mode::BaseBounds { .. } | Mode::Segmented(_) => true,
        Mode::Paged { format, .. } => report::is_ostep(format),
        Mode::Bare => false,
    }
}

struct Num(bool);

impl Num {
    fn n(&self, v: u64) -> String {
        if self.0 {
            format!("{v:#x} ({v})")
        } else {
            format!("{v:#x}")
        }
    }
}

/// The fields of `addr` as `f` splits it (VPN fields and the page offset), limited to
/// `width` bits, with the bits above shown when `upper` says so.
fn paged_fields(f: &Format, addr: u64, width: u8, upper: Option<&str>) -> Vec<BitField> {
    let mut out = Vec::new();
    if let Some(name) = upper {
        if width < 64 {
            out.push(BitField {
                name: name.to_string(),
                hi: 63,
                lo: width,
                value: addr >> width,
                part: Part::Upper,
            });
        }
    }
    let ostep2 = report::is_ostep(f) && f.levels() == 2;
    for level in (0..f.levels()).rev() {
        let lo = f.page_bits(level);
        if lo >= width {
            continue;
        }
        let top = (lo as u32 + f.index_bits(level) as u32).min(width as u32);
        if top <= lo as u32 {
            continue;
        }
        let hi = (top - 1) as u8;
        let name = if f.levels() == 1 {
            "VPN".to_string()
        } else if ostep2 {
            if level == 1 { "PD index" } else { "PT index" }.to_string()
        } else {
            format!("VPN[{level}]")
        };
        out.push(BitField {
            name,
            hi,
            lo,
            value: (addr >> lo) & mask(hi - lo + 1),
            part: Part::Vpn,
        });
    }
    let ob = f.page_offset_bits().min(width);
    if ob > 0 {
        out.push(BitField {
            name: "offset".into(),
            hi: ob - 1,
            lo: 0,
            value: addr & mask(ob),
            part: Part::Offset,
        });
    }
    out
}

/// The virtual address of `req` split as the scenario's mode splits it.
fn va_line(s: &Scenario, req: &Request) -> BitLine {
    let va = req.va;
    let whole = |name: &str, width: u8, part: Part| BitField {
        name: name.to_string(),
        hi: width - 1,
        lo: 0,
        value: va & mask(width),
        part,
    };
    match s.mmu.mode() {
        Mode::Bare => BitLine {
            caption: format!("VA {va:#x}: bare mode, the physical address is the VA"),
            fields: vec![whole(
                "VA = PA",
                bits_for(va.max(s.memory.size().saturating_sub(1))),
                Part::Address,
            )],
        },
        Mode::BaseBounds { bounds, .. } => BitLine {
            caption: format!(
                "VA {va:#x} ({va}): base and bounds, the whole VA is an offset into the address space"
            ),
            fields: vec![whole(
                "VA (offset)",
                bits_for(va.max(bounds.saturating_sub(1))),
                Part::Offset,
            )],
        },
        Mode::Paged { format, .. } => {
            let f = &**format;
            let upper = match f.spec().va_check {
                vmlab_mmu::format::VaCheck::Canonical => Some("sign extension"),
                vmlab_mmu::format::VaCheck::Zero if f.va_bits() < 64 && va >> f.va_bits() != 0 => {
                    Some("must be 0")
                }
                vmlab_mmu::format::VaCheck::Zero => None,
            };
            BitLine {
                caption: format!(
                    "VA {va:#x} as {} splits it ({}-bit VA, {} level{})",
                    f.name(),
                    f.va_bits(),
                    f.levels(),
                    if f.levels() == 1 { "" } else { "s" }
                ),
                fields: paged_fields(f, va, f.va_bits(), upper),
            }
        }
        Mode::Segmented(seg) => {
            if let SegmentSelect::Halves { address_space } = seg.select {
                let half = address_space.div_ceil(2);
                return BitLine {
                    caption: format!(
                        "VA {va:#x} ({va}): an address space of {address_space} bytes split at its middle {half}; VA < {half} is segment 0, the rest segment 1"
                    ),
                    fields: vec![whole(
                        if va < half { "segment 0: offset = VA" } else { "segment 1: VA - half" },
                        seg.va_bits.clamp(1, 64),
                        Part::Offset,
                    )],
                };
            }
            let mut fields = Vec::new();
            let vb = seg.va_bits.clamp(1, 64);
            if vb < 64 && va >> vb != 0 {
                fields.push(BitField {
                    name: "must be 0".into(),
                    hi: 63,
                    lo: vb,
                    value: va >> vb,
                    part: Part::Upper,
                });
            }
            let ob = seg.offset_bits().min(vb);
            if vb > ob {
                fields.push(BitField {
                    name: "segment".into(),
                    hi: vb - 1,
                    lo: ob,
                    value: (va >> ob) & mask(vb - ob),
                    part: Part::Segment,
                });
            }
            let segment = if ob >= 64 { 0 } else { (va >> ob) & mask(vb - ob) };
            let paged = seg
                .registers
                .get(segment as usize)
                .is_some_and(|r| r.page_table.is_some());
            let off = va & mask(ob);
            match (&seg.format, paged) {
                (Some(f), true) if ob > 0 => fields.extend(paged_fields(f, off, ob, None)),
                _ if ob > 0 => fields.push(BitField {
                    name: "offset".into(),
                    hi: ob - 1,
                    lo: 0,
                    value: off,
                    part: Part::Offset,
                }),
                _ => {}
            }
            BitLine {
                caption: format!(
                    "VA {va:#x} ({va}): the top {} bit{} select the segment{}",
                    seg.selector_bits,
                    if seg.selector_bits == 1 { "" } else { "s" },
                    if paged {
                        ", and the paged segment's table splits the offset"
                    } else {
                        ""
                    }
                ),
                fields,
            }
        }
    }
}

/// The boxes of an access's path, from its recorded steps.
fn step_boxes(s: &Scenario, req: &Request, steps: &[Step], num: &Num) -> Vec<StepBox> {
    let (format, seg) = match s.mmu.mode() {
        Mode::Paged { format, .. } => (Some(&**format), None),
        Mode::Segmented(sg) => (sg.format.as_deref(), Some(sg)),
        _ => (None, None),
    };
    let mut indexed = format.map_or(req.va, |f| req.va & f.va_mask());
    let mut segment = 0u8;
    let mut out: Vec<StepBox> = Vec::new();
    let plain = |kind, title: String, status: &str, ok, lines, cycles| StepBox {
        kind,
        title,
        status: status.to_string(),
        ok,
        lines,
        cycles,
    };
    for st in steps {
        match st {
            Step::Untranslated { why } => out.push(plain(
                StepKind::Info,
                "untranslated".into(),
                "",
                None,
                vec![why.to_string()],
                None,
            )),
            Step::Bounds { base, bounds, ok } => {
                let end = req.va as u128 + req.size as u128;
                let end = if end > u64::MAX as u128 {
                    "2^64".to_string()
                } else {
                    num.n(end as u64)
                };
                out.push(plain(
                    StepKind::Check,
                    "bounds check".into(),
                    if *ok { "ok" } else { "FAILED" },
                    Some(*ok),
                    vec![
                        format!(
                            "VA + size = {end} {} bounds {}",
                            if *ok { "<=" } else { ">" },
                            num.n(*bounds)
                        ),
                        format!("base register {}", num.n(*base)),
                    ],
                    None,
                ))
            }
            Step::Segment {
                segment: sn,
                offset,
                register: r,
            } => {
                segment = *sn;
                indexed = *offset;
                let mut lines = vec![format!("offset {}", num.n(*offset))];
                match r.page_table {
                    Some(pt) => lines.push(format!(
                        "paged: page table at {pt:#x}, limit {}",
                        num.n(r.limit)
                    )),
                    None => lines.push(format!(
                        "base {}, limit {}, grows {}",
                        num.n(r.base),
                        num.n(r.limit),
                        if r.grows_down { "down" } else { "up" }
                    )),
                }
                lines.push(format!(
                    "{} {}{}",
                    report::perms(r),
                    if r.user { "user" } else { "supervisor-only" },
                    if r.present { "" } else { ", not present" }
                ));
                out.push(plain(
                    StepKind::Segment,
                    report::segment_label(s, *sn),
                    "selected",
                    None,
                    lines,
                    None,
                ));
            }
            Step::Check { what, ok } => out.push(plain(
                StepKind::Check,
                format!("check {what}"),
                if *ok { "ok" } else { "FAILED" },
                Some(*ok),
                Vec::new(),
                None,
            )),
            Step::TlbLookup {
                tlb,
                hit,
                entry,
                cycles,
            } => {
                let cfg = s.mmu.tlb(*tlb).map(|t| *t.config());
                let shape = cfg.map(|c| format!("{} set(s) x {} way(s)", c.sets, c.ways));
                let mut lines = Vec::new();
                let status = match (hit, entry) {
                    (Some(slot), Some(e)) => {
                        lines.push(format!("set {}, way {}", slot.set, slot.way));
                        lines.push(tlb_entry_text(e, seg.is_some()));
                        "HIT"
                    }
                    _ => {
                        // The set a base page of this address maps to (as `Tlb::set_of`).
                        if let (Some(f), Some(c)) = (format, cfg) {
                            let vpn = indexed >> f.page_offset_bits().min(63);
                            let key = vpn ^ ((segment as u64) << 7);
                            let set = key % (c.sets.max(1) as u64);
                            lines.push(format!(
                                "set {set} (for {} pages): no way matches",
                                size_name(f.page_offset_bits())
                            ));
                        } else {
                            lines.push("no entry matches".into());
                        }
                        "MISS"
                    }
                };
                if let Some(sh) = shape {
                    lines.push(sh);
                }
                out.push(plain(
                    StepKind::Tlb,
                    format!("{} lookup", tlb.name()),
                    status,
                    None,
                    lines,
                    Some(cycles.0),
                ));
            }
            Step::PteRead {
                level,
                addr,
                value,
                flags,
                cycles,
            } => {
                let mut lines = Vec::new();
                let title = match format {
                    Some(f) => {
                        let idx = f.index(indexed, *level);
                        let table = addr.wrapping_sub(idx.wrapping_mul(f.pte_bytes() as u64));
                        lines.push(format!(
                            "table {} + index {} x {} = PTE at {}",
                            num.n(table),
                            num.n(idx),
                            f.pte_bytes(),
                            num.n(*addr)
                        ));
                        lines.push(format!(
                            "value {:#0w$x}  flags [{}]  PFN {}",
                            value,
                            report::pte_flags(f, *value),
                            num.n(f.pfn(*value)),
                            w = 2 + 2 * f.pte_bytes() as usize
                        ));
                        format!("{} read", report::level_name(f, *level))
                    }
                    None => {
                        lines.push(format!("PTE at {addr:#x}: {value:#x}"));
                        format!("level-{level} PTE read")
                    }
                };
                lines.push(format!(
                    "valid: {}",
                    if flags.v { "yes" } else { "no (V = 0)" }
                ));
                out.push(plain(
                    StepKind::Pte,
                    title,
                    if flags.v { "valid" } else { "invalid" },
                    if flags.v { None } else { Some(false) },
                    lines,
                    Some(cycles.0),
                ));
            }
            Step::Pointer { next, .. } => {
                let line = format!("-> points to the next table at {}", num.n(*next));
                match out.last_mut() {
                    Some(b) if b.kind == StepKind::Pte => {
                        b.lines.push(line);
                        b.status = "pointer".into();
                    }
                    _ => out.push(plain(
                        StepKind::Pte,
                        "pointer".into(),
                        "",
                        None,
                        vec![line],
                        None,
                    )),
                }
            }
            Step::Leaf { level, .. } => {
                let what = match format {
                    Some(f) => report::page_word(f, *level),
                    None => "page".into(),
                };
                let line = format!("-> leaf at level {level}: maps a {what}");
                match out.last_mut() {
                    Some(b) if b.kind == StepKind::Pte => {
                        b.lines.push(line);
                        b.status = "leaf".into();
                    }
                    _ => out.push(plain(
                        StepKind::Pte,
                        "leaf".into(),
                        "",
                        None,
                        vec![line],
                        None,
                    )),
                }
            }
            Step::AdWrite {
                addr,
                old,
                new,
                cycles,
            } => {
                let lines = match format {
                    Some(f) => vec![
                        format!("PTE at {}", num.n(*addr)),
                        format!(
                            "{old:#x} [{}] -> {new:#x} [{}]",
                            report::pte_flags(f, *old),
                            report::pte_flags(f, *new)
                        ),
                    ],
                    None => vec![format!("PTE at {addr:#x}: {old:#x} -> {new:#x}")],
                };
                out.push(plain(
                    StepKind::Ad,
                    "A/D update".into(),
                    "written",
                    None,
                    lines,
                    Some(cycles.0),
                ));
            }
            Step::TlbFill { tlb, slot, evicted } => {
                let mut lines = vec![format!("set {}, way {}", slot.set, slot.way)];
                if let Some(e) = evicted {
                    lines.push(format!("evicting {}", tlb_entry_text(e, seg.is_some())));
                }
                out.push(plain(
                    StepKind::Fill,
                    format!("{} fill", tlb.name()),
                    "filled",
                    None,
                    lines,
                    None,
                ));
            }
            Step::Physical { .. } => {}
        }
    }
    out
}

/// The outcome box of an access.
fn outcome_box(s: &Scenario, req: &Request, outcome: &Outcome, num: &Num) -> OutcomeBox {
    match outcome {
        Outcome::Fault { fault, cycles } => OutcomeBox {
            fault: true,
            title: format!(
                "FAULT: {} (exception {})",
                report::exception_name(fault.class(), req.kind),
                report::exception_code(fault.class(), req.kind)
            ),
            lines: vec![
                fault.to_string(),
                format!("counted as mmu.faults.{}", fault.cause().name()),
            ],
            pa: None,
            cycles: cycles.0,
        },
        Outcome::Ok { translation, value } => {
            let pa = translation.pa;
            let format = match s.mmu.mode() {
                Mode::Paged { format, .. } => Some(&**format),
                Mode::Segmented(sg) => sg.format.as_deref(),
                _ => None,
            };
            let from = match translation.source {
                vmlab_mmu::Source::Tlb { tlb } => format!("the {} entry", tlb.name()),
                _ => "the leaf PTE".to_string(),
            };
            let mut lines = vec![format!(
                "{}; {} cycle{}",
                report::source_text(translation, format),
                translation.cycles.0,
                if translation.cycles.0 == 1 { "" } else { "s" }
            )];
            lines.push(match value {
                Some(x) => format!(
                    "value there: {x:#x} ({} byte{}, little-endian)",
                    req.size,
                    if req.size == 1 { "" } else { "s" }
                ),
                None => "no memory there".into(),
            });
            let pb = translation.page_bits;
            let fields = match (translation.source, format) {
                (vmlab_mmu::Source::Walk { .. } | vmlab_mmu::Source::Tlb { .. }, Some(f))
                    if pb > 0 && pb < 64 =>
                {
                    let top = bits_for(pa).max(f.pa_bits()).max(pb + 1).min(64);
                    vec![
                        BitField {
                            name: format!("PPN (from {from})"),
                            hi: top - 1,
                            lo: pb,
                            value: pa >> pb,
                            part: Part::Page,
                        },
                        BitField {
                            name: "offset (from the VA)".into(),
                            hi: pb - 1,
                            lo: 0,
                            value: pa & mask(pb),
                            part: Part::Offset,
                        },
                    ]
                }
                (vmlab_mmu::Source::Relocated | vmlab_mmu::Source::Segment { .. }, _) => {
                    let base = pa.wrapping_sub(match s.mmu.mode() {
                        Mode::Segmented(sg) => sg.split(req.va).1,
                        _ => req.va,
                    });
                    lines.push(format!(
                        "PA = base {} + offset, with the offset from the VA",
                        num.n(base)
                    ));
                    vec![BitField {
                        name: "PA = base + offset".into(),
                        hi: bits_for(pa) - 1,
                        lo: 0,
                        value: pa,
                        part: Part::Base,
                    }]
                }
                _ => vec![BitField {
                    name: "PA = VA".into(),
                    hi: bits_for(pa) - 1,
                    lo: 0,
                    value: pa,
                    part: Part::Address,
                }],
            };
            OutcomeBox {
                fault: false,
                title: format!("PA {}", num.n(pa)),
                lines,
                pa: Some(BitLine {
                    caption: format!("PA {pa:#x}"),
                    fields,
                }),
                cycles: translation.cycles.0,
            }
        }
    }
}

fn kind_name(k: AccessKind) -> &'static str {
    match k {
        AccessKind::Fetch => "fetch",
        AccessKind::Load => "load",
        AccessKind::Store => "store",
    }
}

/// The data model of every access's figure, in order.
pub fn access_models(s: &Scenario, run: &Run) -> Vec<AccessModel> {
    let num = Num(decimal(s));
    let mut out = Vec::new();
    for r in &run.results {
        let OpResult::Access {
            index,
            req,
            probe,
            note,
            steps,
            outcome,
            expect,
        } = r
        else {
            continue;
        };
        let asid = if s.mmu.mode().uses_tlb() {
            format!(", ASID {}", req.ctx.asid)
        } else {
            String::new()
        };
        out.push(AccessModel {
            index: *index,
            heading: format!(
                "[{index}] {}{} of {} byte{} at VA {}, {}{asid}",
                if *probe { "probe: " } else { "" },
                kind_name(req.kind),
                req.size,
                if req.size == 1 { "" } else { "s" },
                num.n(req.va),
                report::priv_name(req.ctx.privilege)
            ),
            note: note.clone(),
            va: va_line(s, req),
            steps: step_boxes(s, req, steps, &num),
            outcome: outcome_box(s, req, outcome, &num),
            expect: expect.as_ref().map(|(e, ok)| Badge {
                expected: e.describe(&|v| num.n(v)),
                pass: *ok,
            }),
        });
    }
    out
}

/// The most slots the TLB figure draws per TLB; a bigger TLB shows its valid entries only.
const MAX_CELLS: usize = 256;

/// The data model of the TLB figure: each TLB's final contents.
pub fn tlb_model(s: &Scenario) -> TlbModel {
    let format = match s.mmu.mode() {
        Mode::Paged { format, .. } => Some(&**format),
        Mode::Segmented(sg) => sg.format.as_deref(),
        _ => None,
    };
    let mut tlbs = Vec::new();
    for id in [TlbId::Itlb, TlbId::Dtlb, TlbId::L2tlb] {
        let Some(t) = s.mmu.tlb(id) else { continue };
        let c = *t.config();
        let ways = c.ways.max(1) as usize;
        let all = t.entries();
        let small = all.len() <= MAX_CELLS;
        let mut cells = Vec::new();
        for (i, e) in all.iter().enumerate() {
            if !small && !e.valid {
                continue;
            }
            if cells.len() >= MAX_CELLS {
                break;
            }
            cells.push(TlbCell {
                set: (i / ways) as u32,
                way: (i % ways) as u32,
                entry: e.valid.then(|| TlbCellEntry {
                    vpn: e.vpn,
                    seg: e.seg,
                    size: size_name(e.page_bits),
                    owner: if e.global {
                        "global".into()
                    } else {
                        format!("ASID {}", e.asid)
                    },
                    pa_page: e.pa_page,
                    flags: format.map_or_else(String::new, |f| report::pte_flags(f, e.pte)),
                }),
            });
        }
        tlbs.push(TlbGrid {
            name: id.name().into(),
            shape: report::tlb_line(id.name(), &c),
            sets: c.sets,
            ways: c.ways,
            hidden: (all.len() - cells.len()) as u64,
            cells,
        });
    }
    TlbModel { tlbs }
}

/// The headline numbers of a run, counted from its recorded steps.
pub fn totals(run: &Run) -> Totals {
    let mut t = Totals::default();
    for r in &run.results {
        let OpResult::Access {
            steps,
            outcome,
            expect,
            ..
        } = r
        else {
            continue;
        };
        t.accesses += 1;
        match outcome {
            Outcome::Ok { translation, .. } => t.cycles += translation.cycles.0,
            Outcome::Fault { cycles, .. } => {
                t.faults += 1;
                t.cycles += cycles.0;
            }
        }
        for st in steps {
            match st {
                Step::TlbLookup { hit: Some(_), .. } => t.tlb_hits += 1,
                Step::TlbLookup { hit: None, .. } => t.tlb_misses += 1,
                Step::PteRead { .. } => t.walk_reads += 1,
                _ => {}
            }
        }
        if let Some((_, ok)) = expect {
            t.expect.1 += 1;
            t.expect.0 += u64::from(*ok);
        }
    }
    t
}

// ---------------------------------------------------------------------------------------
// Drawing

const WIDTH: f64 = 820.0;
const MARGIN: f64 = 16.0;
const LINE: f64 = 14.0;

/// Draws an address as its fields from (x, y), `w` wide; returns the y below it.
fn draw_bits(svg: &mut Svg, x: f64, y: f64, w: f64, line: &BitLine) -> f64 {
    svg.text(x, y + 12.0, &line.caption, 12.0, Anchor::Start, false);
    let y = y + 20.0;
    let n = line.fields.len().max(1) as f64;
    let min = 96.0_f64.min(w / n);
    let total: f64 = line
        .fields
        .iter()
        .map(|f| (f.hi.saturating_sub(f.lo) as f64) + 1.0)
        .sum::<f64>()
        .max(1.0);
    let spare = (w - min * n).max(0.0);
    let mut cx = x;
    for f in &line.fields {
        let bits = (f.hi.saturating_sub(f.lo) as f64) + 1.0;
        let fw = min + spare * bits / total;
        let tip = format!(
            "{}: bits {}..{} = {:#x} ({})",
            f.name, f.hi, f.lo, f.value, f.value
        );
        svg.text(cx + fw / 2.0, y + 11.0, &f.name, 11.0, Anchor::Middle, true);
        svg.patterned(
            cx,
            y + 15.0,
            fw,
            36.0,
            f.part.fill(),
            f.part.pattern(),
            Some(&tip),
        );
        // A white plate behind the numbers, so the pattern does not cross them.
        let plate = (fw - 8.0).min(92.0);
        svg.rect(
            cx + (fw - plate) / 2.0,
            y + 18.0,
            plate,
            30.0,
            "#FFFFFF",
            None,
            None,
        );
        svg.text(
            cx + fw / 2.0,
            y + 31.0,
            &format!("{:#x}", f.value),
            11.0,
            Anchor::Middle,
            false,
        );
        svg.text(
            cx + fw / 2.0,
            y + 44.0,
            &f.value.to_string(),
            10.0,
            Anchor::Middle,
            false,
        );
        if f.hi == f.lo {
            svg.text(
                cx + fw / 2.0,
                y + 63.0,
                &f.hi.to_string(),
                9.0,
                Anchor::Middle,
                false,
            );
        } else {
            svg.text(
                cx + 2.0,
                y + 63.0,
                &f.hi.to_string(),
                9.0,
                Anchor::Start,
                false,
            );
            svg.text(
                cx + fw - 2.0,
                y + 63.0,
                &f.lo.to_string(),
                9.0,
                Anchor::End,
                false,
            );
        }
        cx += fw;
    }
    y + 70.0
}

/// A downward arrow from y to y + 14 at x.
fn arrow(svg: &mut Svg, x: f64, y: f64) {
    svg.line(x, y, x, y + 13.0, INK, 1.2, false);
    svg.polyline(
        &[(x - 4.0, y + 8.0), (x, y + 13.0), (x + 4.0, y + 8.0)],
        INK,
        1.2,
        false,
        None,
    );
}

fn draw_step(svg: &mut Svg, x: f64, y: f64, w: f64, b: &StepBox) -> f64 {
    let h = 22.0 + LINE * b.lines.len() as f64;
    let failed = b.ok == Some(false);
    let tip = format!("{}: {}", b.kind.label(), b.title);
    svg.open_group(
        Some(&format!(
            "step step-{}",
            b.kind.label().replace(['/', ' '], "-")
        )),
        Some(&tip),
    );
    svg.rect(
        x,
        y,
        w,
        h,
        "#FFFFFF",
        Some(if failed { "#D55E00" } else { INK }),
        None,
    );
    if failed {
        svg.rect(
            x + 1.0,
            y + 1.0,
            w - 2.0,
            h - 2.0,
            "none",
            Some("#D55E00"),
            None,
        );
    }
    svg.patterned(x, y, 10.0, h, b.kind.fill(), b.kind.pattern(), None);
    svg.text(x + 18.0, y + 15.0, &b.title, 12.0, Anchor::Start, true);
    let status = match (b.ok, b.cycles) {
        (Some(false), _) => format!("\u{2717} {}", b.status),
        (Some(true), _) => format!("\u{2713} {}", b.status),
        (None, Some(c)) if !b.status.is_empty() => format!("{} \u{b7} {c} cyc", b.status),
        (None, Some(c)) => format!("{c} cyc"),
        (None, None) => b.status.clone(),
    };
    svg.text_coloured(
        x + w - 8.0,
        y + 15.0,
        &status,
        11.0,
        Anchor::End,
        true,
        if failed { "#A03A00" } else { INK },
    );
    for (i, l) in b.lines.iter().enumerate() {
        svg.text(
            x + 18.0,
            y + 29.0 + LINE * i as f64,
            l,
            11.0,
            Anchor::Start,
            false,
        );
    }
    svg.close_group();
    y + h
}

/// Draws one access's figure.
pub fn access_svg(m: &AccessModel) -> String {
    let mut svg = Svg::new(
        &format!("access-{}", m.index),
        WIDTH,
        100.0,
        &format!("Access {}: {}", m.index, m.heading),
    );
    let w = WIDTH - 2.0 * MARGIN;
    let x = MARGIN;
    let mut y = MARGIN;
    svg.text(x, y + 12.0, &m.heading, 13.0, Anchor::Start, true);
    if let Some(b) = &m.expect {
        let label = if b.pass {
            "\u{2713} PASS"
        } else {
            "\u{2717} FAIL"
        };
        let (fill, ink) = if b.pass {
            ("#CDEBE1", "#00573F")
        } else {
            ("#F5C9AD", "#8A3000")
        };
        svg.open_group(
            Some(if b.pass { "badge pass" } else { "badge fail" }),
            Some(&format!("expected {}", b.expected)),
        );
        svg.rect(WIDTH - MARGIN - 78.0, y, 78.0, 18.0, fill, Some(ink), None);
        svg.text_coloured(
            WIDTH - MARGIN - 39.0,
            y + 13.0,
            label,
            11.0,
            Anchor::Middle,
            true,
            ink,
        );
        svg.close_group();
    }
    y += 18.0;
    if let Some(n) = &m.note {
        svg.text(x, y + 11.0, &format!("# {n}"), 11.0, Anchor::Start, false);
        y += 16.0;
    }
    if let Some(b) = &m.expect {
        svg.text(
            x,
            y + 11.0,
            &format!(
                "expected {}: {}",
                b.expected,
                if b.pass { "correct" } else { "WRONG" }
            ),
            11.0,
            Anchor::Start,
            false,
        );
        y += 16.0;
    }
    y = draw_bits(&mut svg, x, y + 4.0, w, &m.va);
    let bx = x + 24.0;
    let bw = w - 48.0;
    for b in &m.steps {
        arrow(&mut svg, WIDTH / 2.0, y + 2.0);
        y = draw_step(&mut svg, bx, y + 16.0, bw, b);
    }
    arrow(&mut svg, WIDTH / 2.0, y + 2.0);
    y += 16.0;
    let o = &m.outcome;
    let h = 22.0 + LINE * o.lines.len() as f64;
    let (fill, ink) = if o.fault {
        ("#F5C9AD", "#D55E00")
    } else {
        ("#CDEBE1", "#009E73")
    };
    svg.open_group(
        Some(if o.fault {
            "outcome fault"
        } else {
            "outcome ok"
        }),
        Some(&o.title),
    );
    svg.rect(bx, y, bw, h, fill, Some(ink), None);
    if o.fault {
        let p = svg.pattern(Pattern::BackDiagonal);
        svg.rect(bx, y, 10.0, h, &p, None, None);
    }
    svg.text(bx + 18.0, y + 15.0, &o.title, 12.0, Anchor::Start, true);
    svg.text(
        bx + bw - 8.0,
        y + 15.0,
        &format!("{} cyc", o.cycles),
        11.0,
        Anchor::End,
        true,
    );
    for (i, l) in o.lines.iter().enumerate() {
        svg.text(
            bx + 18.0,
            y + 29.0 + LINE * i as f64,
            l,
            11.0,
            Anchor::Start,
            false,
        );
    }
    svg.close_group();
    y += h;
    if let Some(pa) = &o.pa {
        y = draw_bits(&mut svg, x, y + 8.0, w, pa);
    }
    // The legend: the parts of the addresses and the kinds of box drawn.
    let mut items: Vec<(String, Option<Pattern>, String)> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    for f in
        m.va.fields
            .iter()
            .chain(o.pa.iter().flat_map(|p| p.fields.iter()))
    {
        if !parts.contains(&f.part) {
            parts.push(f.part);
        }
    }
    for p in parts {
        items.push((p.fill().into(), p.pattern(), p.label().into()));
    }
    let mut kinds: Vec<StepKind> = Vec::new();
    for b in &m.steps {
        if !kinds.contains(&b.kind) {
            kinds.push(b.kind);
        }
    }
    for k in kinds {
        items.push((k.fill().into(), k.pattern(), k.label().into()));
    }
    y = svg.legend(x, y + 10.0, &items);
    svg.set_height(y + 4.0);
    svg.finish()
}

/// Draws the TLB figure.
pub fn tlb_svg(m: &TlbModel) -> String {
    const COLS: usize = 4;
    const CW: f64 = 196.0;
    const CH: f64 = 46.0;
    // Wide enough for a row of COLS ways after the set labels.
    let width = WIDTH.max(MARGIN + 52.0 + COLS as f64 * (CW + 4.0) + MARGIN);
    let mut svg = Svg::new("tlb", width, 100.0, "The TLBs after the last access");
    let mut y = MARGIN;
    if m.tlbs.is_empty() {
        svg.text(
            MARGIN,
            y + 14.0,
            "This unit has no TLB (tlb = \"none\", or a mode without page tables).",
            12.0,
            Anchor::Start,
            false,
        );
        svg.set_height(y + 30.0);
        return svg.finish();
    }
    let x0 = MARGIN + 52.0;
    for t in &m.tlbs {
        svg.text(MARGIN, y + 13.0, &t.shape, 12.0, Anchor::Start, true);
        y += 22.0;
        if t.hidden > 0 {
            svg.text(
                MARGIN,
                y + 10.0,
                &format!(
                    "{} slots not drawn (empty, or past the first {MAX_CELLS} valid ones)",
                    t.hidden
                ),
                10.0,
                Anchor::Start,
                false,
            );
            y += 16.0;
        }
        // Rows: one set per row (wrapping every COLS ways), ways as columns.
        let mut row_of_set: Vec<(u32, Vec<&TlbCell>)> = Vec::new();
        for c in &t.cells {
            match row_of_set.last_mut() {
                Some((s, v)) if *s == c.set => v.push(c),
                _ => row_of_set.push((c.set, vec![c])),
            }
        }
        if row_of_set.is_empty() {
            svg.text(
                MARGIN,
                y + 12.0,
                "(no valid entries)",
                11.0,
                Anchor::Start,
                false,
            );
            y += 20.0;
        }
        for (set, cells) in row_of_set {
            svg.text(
                MARGIN,
                y + 16.0,
                &format!("set {set}"),
                10.0,
                Anchor::Start,
                true,
            );
            for (k, c) in cells.iter().enumerate() {
                let cx = x0 + (k % COLS) as f64 * (CW + 4.0);
                let cy = y + (k / COLS) as f64 * (CH + 4.0);
                let tip = match &c.entry {
                    Some(e) => format!(
                        "{} set {} way {}: VPN {:#x} ({}, {}) -> page {:#x} [{}]",
                        t.name, c.set, c.way, e.vpn, e.size, e.owner, e.pa_page, e.flags
                    ),
                    None => format!("{} set {} way {}: empty", t.name, c.set, c.way),
                };
                match &c.entry {
                    Some(e) => {
                        svg.patterned(cx, cy, CW, CH, StepKind::Fill.fill(), None, Some(&tip));
                        svg.rect(
                            cx + 2.0,
                            cy + 2.0,
                            CW - 4.0,
                            CH - 4.0,
                            "#FFFFFF",
                            None,
                            None,
                        );
                        svg.text(
                            cx + 5.0,
                            cy + 13.0,
                            &format!(
                                "way {}: VPN {:#x}{}",
                                c.way,
                                e.vpn,
                                if e.seg > 0 {
                                    format!(" seg {}", e.seg)
                                } else {
                                    String::new()
                                }
                            ),
                            10.0,
                            Anchor::Start,
                            true,
                        );
                        svg.text(
                            cx + 5.0,
                            cy + 26.0,
                            &format!("-> page {:#x} ({})", e.pa_page, e.size),
                            10.0,
                            Anchor::Start,
                            false,
                        );
                        svg.text(
                            cx + 5.0,
                            cy + 39.0,
                            &format!("{} {}", e.owner, e.flags),
                            10.0,
                            Anchor::Start,
                            false,
                        );
                    }
                    None => {
                        svg.rect(cx, cy, CW, CH, "#FFFFFF", Some(GRID), Some(&tip));
                        svg.text_coloured(
                            cx + 5.0,
                            cy + 13.0,
                            &format!("way {}: empty", c.way),
                            10.0,
                            Anchor::Start,
                            false,
                            "#666666",
                        );
                    }
                }
            }
            let rows = cells.len().div_ceil(COLS).max(1);
            y += rows as f64 * (CH + 4.0) + 4.0;
        }
        y += 10.0;
    }
    svg.set_height(y + 4.0);
    svg.finish()
}

/// The report page of a `vmlab translate` run: the header facts (the scenario, the mode and
/// format, the TLBs), the headline numbers, one figure per access (`access-N`) and the TLB
/// contents after the last access (`tlb`). `file` is the scenario's path as given.
pub fn page(s: &Scenario, run: &Run, file: &str) -> Page {
    let t = totals(run);
    let mode = s.mmu.mode();
    let mut facts = vec![("scenario".to_string(), file.to_string())];
    if let Some(title) = &s.title {
        facts.push(("title".into(), title.clone()));
    }
    facts.push(("mode".into(), mode.name()));
    let format = match mode {
        Mode::Paged { format, .. } => Some(&**format),
        Mode::Segmented(sg) => sg.format.as_deref(),
        _ => None,
    };
    if let Some(f) = format {
        facts.push(("format".into(), report::format_line(f)));
    }
    match mode {
        Mode::Paged { root, .. } => facts.push(("root table".into(), format!("{root:#x}"))),
        Mode::BaseBounds { base, bounds } => facts.push((
            "registers".into(),
            format!("base {base:#x} ({base}), bounds {bounds:#x} ({bounds})"),
        )),
        Mode::Segmented(sg) => {
            for (i, r) in sg.registers.iter().enumerate() {
                let place = match r.page_table {
                    Some(pt) => format!("page table at {pt:#x}"),
                    None => format!("base {:#x}", r.base),
                };
                facts.push((
                    report::segment_label(s, i as u8),
                    if r.present {
                        format!(
                            "{place}, limit {:#x}, grows {}, {}",
                            r.limit,
                            if r.grows_down { "down" } else { "up" },
                            report::perms(r)
                        )
                    } else {
                        "not present".into()
                    },
                ));
            }
        }
        Mode::Bare => {}
    }
    let cfg = s.mmu.config();
    let tlbs = if !mode.uses_tlb() {
        "not used in this mode".to_string()
    } else if !cfg.has_tlb() {
        "none: every access walks the page table".to_string()
    } else {
        let mut v = vec![
            report::tlb_line("itlb", &cfg.itlb),
            report::tlb_line("dtlb", &cfg.dtlb),
        ];
        if let Some(l2) = &cfg.l2tlb {
            v.push(report::tlb_line("l2tlb", l2));
        }
        v.join("; ")
    };
    facts.push(("TLBs".into(), tlbs));
    let mut headline = vec![
        ("accesses".to_string(), t.accesses.to_string()),
        ("faults".into(), t.faults.to_string()),
        ("TLB hits".into(), t.tlb_hits.to_string()),
        ("TLB misses".into(), t.tlb_misses.to_string()),
        ("walk reads".into(), t.walk_reads.to_string()),
        ("total cycles".into(), t.cycles.to_string()),
    ];
    if t.expect.1 > 0 {
        headline.push((
            "answers as expected".into(),
            format!("{} of {}", t.expect.0, t.expect.1),
        ));
    }
    let models = access_models(s, run);
    let mut table = Table::new(
        "accesses",
        &[
            "access",
            "kind",
            "va",
            "outcome",
            "pa",
            "exception",
            "cycles",
            "expected",
            "correct",
        ],
    );
    let mut figures = Vec::new();
    for (m, r) in models.iter().zip(
        run.results
            .iter()
            .filter(|r| matches!(r, OpResult::Access { .. })),
    ) {
        if let OpResult::Access {
            req,
            outcome,
            expect,
            ..
        } = r
        {
            let (what, pa, exc, cyc) = match outcome {
                Outcome::Ok { translation, .. } => (
                    "ok",
                    format!("{:#x}", translation.pa),
                    String::new(),
                    translation.cycles.0,
                ),
                Outcome::Fault { fault, cycles } => (
                    "fault",
                    String::new(),
                    report::exception_name(fault.class(), req.kind),
                    cycles.0,
                ),
            };
            table.row(vec![
                m.index.to_string(),
                kind_name(req.kind).into(),
                format!("{:#x}", req.va),
                what.into(),
                pa,
                exc,
                cyc.to_string(),
                m.expect
                    .as_ref()
                    .map_or(String::new(), |b| b.expected.clone()),
                expect.map_or(String::new(), |(_, ok)| ok.to_string()),
            ]);
        }
        let f = Figure::fixed(
            &format!("access-{}", m.index),
            &format!(
                "Access {}: the virtual address split into its fields (bit positions under each, the value in hex and decimal inside), then every step of the translation top to bottom, then {}.",
                m.index,
                if m.outcome.fault {
                    "the fault and why"
                } else {
                    "the physical address, its parts shaded as the parts they came from"
                }
            ),
            access_svg(m),
        );
        figures.push(f);
    }
    // The accesses table goes with the first figure, complete.
    if let Some(f) = figures.first_mut() {
        f.tables = vec![table];
    }
    let tm = tlb_model(s);
    let mut tt = Table::new(
        "tlb",
        &[
            "tlb", "set", "way", "valid", "vpn", "seg", "size", "owner", "pa_page", "flags",
        ],
    );
    for g in &tm.tlbs {
        for c in &g.cells {
            match &c.entry {
                Some(e) => tt.row(vec![
                    g.name.clone(),
                    c.set.to_string(),
                    c.way.to_string(),
                    "true".into(),
                    format!("{:#x}", e.vpn),
                    e.seg.to_string(),
                    e.size.clone(),
                    e.owner.clone(),
                    format!("{:#x}", e.pa_page),
                    e.flags.clone(),
                ]),
                None => tt.row(vec![
                    g.name.clone(),
                    c.set.to_string(),
                    c.way.to_string(),
                    "false".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]),
            }
        }
    }
    let mut tf = Figure::fixed(
        "tlb",
        "The TLBs after the last access: one row per set, one box per way, each valid entry with its virtual page number, the physical page it maps, its page size, its ASID (or global) and the leaf PTE's flags.",
        tlb_svg(&tm),
    );
    tf.tables.push(tt);
    let mut notes = Vec::new();
    if models.is_empty() {
        notes.push("The scenario has no accesses.".to_string());
    }
    Page {
        title: format!("vmlab translate {file}"),
        facts,
        headline,
        notes,
        moments: Vec::new(),
        current: 0,
        sections: vec![
            Section {
                id: "accesses".into(),
                title: "Accesses".into(),
                intro: "Each access from its virtual address to its physical address or fault, step by step. A badge at the top right grades the access against the scenario's `expect`.".into(),
                figures,
            },
            Section {
                id: "tlbs".into(),
                title: "TLB contents".into(),
                intro: String::new(),
                figures: vec![tf],
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(name: &str) -> (Scenario, Run) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("programs/translate")
            .join(name);
        let mut s = Scenario::load(&p).expect("the scenario loads");
        let run = report::run(&mut s);
        (s, run)
    }

    #[test]
    fn sv39_models() {
        let (s, run) = scenario("sv39.toml");
        let models = access_models(&s, &run);
        assert!(!models.is_empty());
        insta::assert_json_snapshot!("sv39_accesses", models);
        insta::assert_json_snapshot!("sv39_tlb", tlb_model(&s));
        insta::assert_json_snapshot!("sv39_totals", totals(&run));
    }

    #[test]
    fn sv39_first_access_fields() {
        let (s, run) = scenario("sv39.toml");
        let m = &access_models(&s, &run)[0];
        let names: Vec<&str> = m.va.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["sign extension", "VPN[2]", "VPN[1]", "VPN[0]", "offset"]
        );
        assert_eq!((m.va.fields[1].hi, m.va.fields[1].lo), (38, 30));
        assert_eq!(m.va.fields[4].value, 0x234);
        let pa = m.outcome.pa.as_ref().expect("it translates");
        assert_eq!(pa.fields[0].value, 0x80005);
        assert_eq!(pa.fields[0].part, Part::Page);
        assert_eq!(pa.fields[1].part, Part::Offset);
    }

    #[test]
    fn every_scenario_draws_valid_svg() {
        let names = crate::pictures::testing::examples("translate");
        for n in names {
            let (s, run) = scenario(&n);
            let p = page(&s, &run, &n);
            let accesses = run
                .results
                .iter()
                .filter(|r| matches!(r, OpResult::Access { .. }))
                .count();
            assert_eq!(p.figures().count(), accesses + 1, "{n}");
            for f in p.figures() {
                let svg = f.last().expect("a drawing");
                let doc =
                    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{n} {}: {e}", f.id));
                if f.id.starts_with("access-") {
                    // One box per step, and the outcome.
                    let groups = doc
                        .descendants()
                        .filter(|d| {
                            d.attribute("class")
                                .is_some_and(|c| c.starts_with("step") || c.starts_with("outcome"))
                        })
                        .count();
                    assert!(groups >= 1, "{n} {}", f.id);
                }
            }
        }
    }

    #[test]
    fn badge_shows_the_grade() {
        let (s, run) = scenario("ostep-2level.toml");
        let models = access_models(&s, &run);
        if let Some(m) = models.iter().find(|m| m.expect.is_some()) {
            let svg = access_svg(m);
            let doc = roxmltree::Document::parse(&svg).expect("valid SVG");
            assert!(doc
                .descendants()
                .any(|d| d.attribute("class").is_some_and(|c| c.starts_with("badge"))));
        }
    }

    #[test]
    fn odd_fields_do_not_panic() {
        let line = BitLine {
            caption: "x".into(),
            fields: vec![BitField {
                name: "all".into(),
                hi: 63,
                lo: 0,
                value: u64::MAX,
                part: Part::Address,
            }],
        };
        let mut svg = Svg::new("t", 100.0, 100.0, "t");
        draw_bits(&mut svg, 0.0, 0.0, 10.0, &line);
        let empty = BitLine {
            caption: String::new(),
            fields: Vec::new(),
        };
        draw_bits(&mut svg, 0.0, 0.0, 10.0, &empty);
        roxmltree::Document::parse(&svg.finish()).expect("valid SVG");
        assert!(!tlb_svg(&TlbModel { tlbs: Vec::new() }).is_empty());
    }
}
