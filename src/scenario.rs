//! Scenario files for `vmlab translate`: a translation mode with its registers, a
//! physical-memory image, and a list of accesses to translate.
//!
//! A scenario is a TOML file. The full reference, with every key and its default, is
//! `docs/translate.md`; in short:
//!
//! ```toml
//! title = "Sv39: a walk, a TLB hit, a megapage and three faults"   # optional
//! mode = "paged"        # bare | base-bounds | segments | paged-segments | paged
//!
//! [mmu]                 # vmlab_mmu::MmuConfig: TLB geometry, walker latencies, A/D policy
//! dtlb = { sets = 1, ways = 8 }
//! ad = "svade"          # or "svadu"
//!
//! [memory]
//! size = "4G"           # physical memory (default 4 GiB); addresses 0..size
//! latency = 20          # cycles per PTE read or A/D write (default 20)
//! # ostep_dump = """page   0: 1b 1d ..."""   a page dump as OSTEP prints one
//!
//! [paging]              # mode = "paged"
//! format = "sv39"       # sv32 sv39 sv48 sv57 ostep-2level ostep-linear, or a [[format]] name
//! root = "0x80001000"   # physical address of the root table (or root_pfn / pdbr = page number)
//! asid = 1              # satp.ASID: the default ASID of every access
//! # table = ["0x8000000c", 0]   a one-level table inline, instead of root: vmlab places it
//!
//! [context]             # defaults for every access
//! priv = "u"            # u | s | m
//!
//! [[write]]             # memory contents, applied in order after ostep_dump
//! at = "0x80001008"
//! u64 = ["0x20000801"]  # or bytes, u16, u32, hex = "1b 1d", ptes (the format's PTE width)
//!
//! [[access]]
//! va = "0x40201234"
//! kind = "load"         # load | store | fetch (default load); size = 1 (default)
//! expect = "0x80005234" # optional: the expected PA (and value), or the fault; checked
//!
//! [[access]]
//! flush = "all"         # or { asid = 1 }, { va = "0x..." }, { va = "0x...", asid = 1 }
//! ```
//!
//! Other modes use `[base_bounds]` (`base`, `bounds`) or `[segments]` (`va_bits` or
//! `address_space`, which may be any size for two segments split in halves, `selector_bits`, `format` for paged segments, and `[[segments.register]]`
//! entries with `base`, `limit`, `grows_down`, `perms = "rw-"`, `user`, `present`,
//! `page_table`). Custom page-table formats are `[[format]]` entries
//! ([`vmlab_mmu::FormatSpec`]).
//!
//! Numbers may be TOML integers or strings (`"0x1f"`, `"0b101"`, `"1_000"`, `"16k"`), see
//! [`crate::num`]. Every mistake is reported as a [`ScenarioError`] naming the file, the line
//! and column, what is wrong and what would be right. An address wider than the mode allows
//! (for instance `0x8000` with the 15-bit OSTEP format) is such an input error; a
//! non-canonical Sv39 address is not: it is the architectural page fault, and
//! `vmlab translate` shows it as one.

use crate::num::Num;
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;
use vmlab_mmu::{
    AccessKind, Context, Cycle, Flush, Format, FormatSpec, MemoryPort, Mmu, MmuConfig, Mode,
    Privilege, Request, SegmentRegister, SegmentSelect, Segmentation, SparseMemory,
};

/// The default physical-memory size: 4 GiB.
pub const DEFAULT_MEMORY_SIZE: u64 = 4 << 30;
/// The default cost of one PTE read or A/D write, in cycles.
pub const DEFAULT_MEMORY_LATENCY: u64 = 20;

/// The valid values of `mode`.
pub const MODES: [&str; 5] = ["bare", "base-bounds", "segments", "paged-segments", "paged"];

/// The built-in page-table format names accepted in `format`.
pub const BUILTIN_FORMATS: [&str; 6] = [
    "sv32",
    "sv39",
    "sv48",
    "sv57",
    "ostep-2level",
    "ostep-linear",
];

// ---------------------------------------------------------------------------------------
// Errors

/// Where in the file an error lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// The text of that line.
    pub text: String,
    /// How many characters of the line to underline (at least 1).
    pub width: usize,
}

/// A scenario that cannot be loaded: the file, where, what is wrong, and what would be right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file name as given.
    pub path: String,
    /// The line and column, when known.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// What would be right, when there is more to say than the message.
    pub help: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => {
                writeln!(f, "{}:{}:{}: {}", self.path, l.line, l.col, self.message)?;
                let n = l.line.to_string();
                let pad = " ".repeat(n.len());
                writeln!(f, "{pad} |")?;
                writeln!(f, "{n} | {}", l.text)?;
                write!(
                    f,
                    "{pad} | {}{}",
                    " ".repeat(l.col.saturating_sub(1)),
                    "^".repeat(l.width.max(1))
                )?;
            }
            None => write!(f, "{}: {}", self.path, self.message)?,
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// An error before it is given a file name and a line: a byte span of the source.
#[derive(Debug)]
struct E {
    span: Option<Range<usize>>,
    message: String,
    help: Option<String>,
}

type R<T> = Result<T, E>;

fn e_at(span: Range<usize>, message: impl Into<String>) -> E {
    E {
        span: Some(span),
        message: message.into(),
        help: None,
    }
}

impl E {
    fn help(mut self, help: impl Into<String>) -> E {
        self.help = Some(help.into());
        self
    }

    fn locate(self, path: &str, src: &str) -> ScenarioError {
        let location = self.span.map(|span| locate(src, span));
        ScenarioError {
            path: path.to_string(),
            location,
            message: self.message,
            help: self.help,
        }
    }
}

/// Turns a byte span into a line, a column and the line's text.
pub(crate) fn locate(src: &str, span: Range<usize>) -> Location {
    let start = floor_char(src, span.start.min(src.len()));
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let text = src[line_start..line_end].trim_end_matches('\r').to_string();
    let line = src[..start].matches('\n').count() + 1;
    let col = src[line_start..start].chars().count() + 1;
    let end = floor_char(src, span.end.clamp(start, line_end.max(start)));
    let width = src[start..end].chars().count().max(1);
    let width = width.min(text.chars().count().saturating_sub(col - 1).max(1));
    Location {
        line,
        col,
        text,
        width,
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

// ---------------------------------------------------------------------------------------
// The file as written

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    title: Option<String>,
    mode: Spanned<String>,
    // Not `Spanned`: toml 0.8 cannot span a table created implicitly by a dotted header such
    // as `[mmu.l2tlb]` or `[[segments.register]]`; `header_span` finds these tables instead.
    mmu: Option<MmuConfig>,
    /// `tlb = "none"`: a machine without TLBs (the same as `[mmu] tlb = "none"`).
    tlb: Option<Spanned<String>>,
    #[serde(default)]
    memory: Option<Spanned<RawMemory>>,
    base_bounds: Option<Spanned<RawBaseBounds>>,
    segments: Option<RawSegments>,
    paging: Option<Spanned<RawPaging>>,
    #[serde(default)]
    format: Vec<Spanned<FormatSpec>>,
    #[serde(default)]
    context: Option<Spanned<RawContext>>,
    #[serde(default)]
    write: Vec<Spanned<RawWrite>>,
    #[serde(default)]
    access: Vec<Spanned<RawAccess>>,
    /// A compact list of loads (after the `[[access]]` entries): `trace = [0x1cc4, ...]`.
    trace: Option<Spanned<Vec<Spanned<Num>>>>,
    /// The expected answers of `trace`, one per address.
    trace_expect: Option<Spanned<Vec<Expectation>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMemory {
    size: Option<Spanned<Num>>,
    latency: Option<Spanned<Num>>,
    ostep_dump: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseBounds {
    base: Spanned<Num>,
    #[serde(alias = "limit")]
    bounds: Spanned<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegments {
    va_bits: Option<Spanned<Num>>,
    address_space: Option<Spanned<Num>>,
    selector_bits: Option<Spanned<Num>>,
    format: Option<Spanned<String>>,
    page_size: Option<Spanned<Num>>,
    #[serde(default)]
    register: Vec<Spanned<RawSegmentRegister>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegmentRegister {
    name: Option<String>,
    base: Option<Spanned<Num>>,
    #[serde(alias = "size")]
    limit: Option<Spanned<Num>>,
    #[serde(default)]
    grows_down: bool,
    perms: Option<Spanned<String>>,
    user: Option<bool>,
    present: Option<bool>,
    page_table: Option<Spanned<Num>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaging {
    format: Spanned<String>,
    root: Option<Spanned<Num>>,
    #[serde(alias = "pdbr")]
    root_pfn: Option<Spanned<Num>>,
    asid: Option<Spanned<Num>>,
    address_space: Option<Spanned<Num>>,
    page_size: Option<Spanned<Num>>,
    /// A linear table given inline, one PTE per VPN; vmlab places it ([`place_table`]).
    table: Option<Spanned<Vec<Spanned<Num>>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawContext {
    #[serde(rename = "priv", alias = "privilege")]
    privilege: Option<Spanned<String>>,
    asid: Option<Spanned<Num>>,
    sum: Option<bool>,
    mxr: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrite {
    at: Spanned<Num>,
    #[serde(alias = "u8")]
    bytes: Option<Vec<Spanned<Num>>>,
    u16: Option<Vec<Spanned<Num>>>,
    u32: Option<Vec<Spanned<Num>>>,
    u64: Option<Vec<Spanned<Num>>>,
    hex: Option<Spanned<String>>,
    ptes: Option<Vec<Spanned<Num>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    va: Option<Spanned<Num>>,
    kind: Option<Spanned<String>>,
    size: Option<Spanned<Num>>,
    #[serde(rename = "priv", alias = "privilege")]
    privilege: Option<Spanned<String>>,
    asid: Option<Spanned<Num>>,
    sum: Option<bool>,
    mxr: Option<bool>,
    #[serde(default)]
    probe: bool,
    note: Option<String>,
    expect: Option<Expectation>,
    flush: Option<Spanned<RawFlush>>,
}

pub use crate::expect::{Expect, Expectation};

/// `flush = "all"` or `flush = { va = ..., asid = ... }` (either or both).
enum RawFlush {
    All,
    Table { va: Option<Num>, asid: Option<Num> },
}

impl<'de> Deserialize<'de> for RawFlush {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawFlush;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "\"all\", or a table { asid = N }, { va = ADDR } or { va = ADDR, asid = N }",
                )
            }
            fn visit_str<Er: serde::de::Error>(self, v: &str) -> Result<RawFlush, Er> {
                if v == "all" {
                    Ok(RawFlush::All)
                } else {
                    Err(Er::custom(format!(
                        "unknown flush `{v}`; write flush = \"all\", {{ asid = N }}, {{ va = ADDR }} or {{ va = ADDR, asid = N }}"
                    )))
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<RawFlush, A::Error> {
                let (mut va, mut asid) = (None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "va" => va = Some(m.next_value::<Num>()?),
                        "asid" => asid = Some(m.next_value::<Num>()?),
                        other => {
                            return Err(serde::de::Error::custom(format!(
                            "unknown flush field `{other}`; a flush table has `va` and/or `asid`"
                        )))
                        }
                    }
                }
                if va.is_none() && asid.is_none() {
                    return Err(serde::de::Error::custom(
                        "an empty flush table; write flush = \"all\", or give `va` and/or `asid`",
                    ));
                }
                Ok(RawFlush::Table { va, asid })
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// The loaded scenario

/// One translation request of the scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The request (address, kind, size, context).
    pub req: Request,
    /// A functional probe (no TLB, no statistics, no A/D update) instead of a timed translation.
    pub probe: bool,
    /// A note shown next to the access.
    pub note: Option<String>,
    /// The expected answer, if the scenario gives one.
    pub expect: Option<Expectation>,
}

/// One operation of the scenario, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Translate (or probe) an address.
    Access(Access),
    /// Flush TLB entries (`sfence.vma`).
    Flush {
        /// Which entries.
        flush: Flush,
        /// A note shown next to the flush.
        note: Option<String>,
    },
}

/// A loaded, fully validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file name as given.
    pub path: String,
    /// The optional title.
    pub title: Option<String>,
    /// The translation unit, configured and in the scenario's mode.
    pub mmu: Mmu,
    /// The page-table format in use (paged mode, or the format of paged segments).
    pub format: Option<Arc<Format>>,
    /// Physical memory with the scenario's contents.
    pub memory: SparseMemory,
    /// The memory latency in cycles.
    pub memory_latency: u64,
    /// The default context of accesses.
    pub context: Context,
    /// The operations in file order.
    pub ops: Vec<Op>,
    /// The `name` of each segment register (segmented modes), for reports.
    pub segment_names: Vec<Option<String>>,
    /// Where vmlab placed a page table given inline (`table` in `[paging]`), and its size in
    /// bytes.
    pub table_placed: Option<(u64, u64)>,
}

/// Where `vmlab translate` places a linear page table given inline (`table = [...]` in
/// `[paging]`): the lowest page-aligned physical address from which `table_bytes` bytes fit
/// in memory (`memory_size`) without overlapping any of the `used` ranges (the bytes of every
/// `[[write]]`, and every page a valid entry of the table maps). `None` when there is no room.
pub fn place_table(
    memory_size: u64,
    page_size: u64,
    table_bytes: u64,
    used: &[Range<u64>],
) -> Option<u64> {
    let page = page_size.max(1);
    let mut at = 0u64;
    loop {
        let end = at.checked_add(table_bytes)?;
        if end > memory_size {
            return None;
        }
        let blocking = used
            .iter()
            .filter(|r| r.start < end && at < r.end && r.start < r.end)
            .map(|r| r.end)
            .max();
        match blocking {
            None => return Some(at),
            Some(e) => at = e.checked_next_multiple_of(page)?,
        }
    }
}

/// Feeds arbitrary bytes through the scenario loader, as the `config` fuzz target does: bytes
/// that are not UTF-8 are ignored; anything else is parsed and fully validated (the unit is
/// built, the mode set, memory loaded). Never panics.
pub fn check_config_bytes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Scenario::parse(text, "fuzz.toml");
    }
}

/// Reads a TOML input file as text, with the errors every command gives: a missing file
/// (with `example` as the help), an unreadable one, one that is not UTF-8. `what` names the
/// kind of file in messages (`scenario`, `requests file`). Returns the path as shown in
/// messages and the text.
pub(crate) fn read_text(
    path: &Path,
    what: &str,
    example: &str,
) -> Result<(String, String), ScenarioError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let missing = e.kind() == std::io::ErrorKind::NotFound;
        ScenarioError {
            path: name.clone(),
            location: None,
            message: if missing {
                "no such file".to_string()
            } else {
                format!("cannot read the file: {e}")
            },
            help: missing.then(|| format!("give the path of a {what}, e.g. {example}")),
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ScenarioError {
        path: name.clone(),
        location: None,
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
        help: Some(format!("a {what} is a TOML text file")),
    })?;
    Ok((name, text))
}

impl Scenario {
    /// Reads and loads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let (name, text) = read_text(path, "scenario file", "programs/translate/sv39.toml")?;
        Scenario::parse(&text, &name)
    }

    /// Loads a scenario from its text; `path` names it in error messages.
    pub fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        build(text, path).map_err(|e| e.locate(path, text))
    }
}

fn build(text: &str, path: &str) -> R<Scenario> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| E {
        span: e.span(),
        message: toml_message(&e, text),
        help: None,
    })?;

    // [mmu] (a `[mmu.l2tlb]` table takes the documented L2 defaults for keys it leaves out).
    let mmu_span = header_span(text, "mmu");
    let mut cfg = raw.mmu.unwrap_or_default();
    if let Some(t) = &raw.tlb {
        cfg.tlb = match t.get_ref().trim() {
            "none" => vmlab_mmu::TlbPresence::None,
            "on" => vmlab_mmu::TlbPresence::On,
            other => {
                return Err(e_at(
                    t.span(),
                    format!("unknown tlb `{other}`; write tlb = \"none\" (no TLB: every access walks) or \"on\""),
                )
                .help("the TLBs' geometry goes in [mmu]: dtlb = { sets = 4, ways = 2, policy = \"lru\" }"))
            }
        };
    }
    let mut mmu = Mmu::new(cfg).map_err(|e| E {
        span: mmu_span.clone(),
        message: e.to_string(),
        help: None,
    })?;

    // Custom formats.
    let mut customs: Vec<Arc<Format>> = Vec::new();
    for f in &raw.format {
        let spec = f.get_ref();
        if BUILTIN_FORMATS.contains(&spec.name.as_str()) || Format::builtin(&spec.name).is_some() {
            return Err(e_at(
                f.span(),
                format!(
                    "[[format]] `{}` has the name of a built-in format",
                    spec.name
                ),
            )
            .help("give your format another name"));
        }
        if customs.iter().any(|c| c.name() == spec.name) {
            return Err(e_at(
                f.span(),
                format!("[[format]] `{}` is defined twice", spec.name),
            ));
        }
        let fmt = Format::new(spec.clone()).map_err(|e| e_at(f.span(), e.to_string()))?;
        customs.push(Arc::new(fmt));
    }

    // The mode and its registers.
    let mode_name = raw.mode.get_ref().as_str();
    let mode_span = raw.mode.span();
    let stray = |present: bool, section: &str, needs: &str| -> R<()> {
        if present {
            Err(e_at(
                mode_span.clone(),
                format!("mode = \"{mode_name}\" does not use [{section}]"),
            )
            .help(format!(
                "remove [{section}], or set mode = {needs} to use it"
            )))
        } else {
            Ok(())
        }
    };
    let mut default_asid: Option<(u64, Range<usize>)> = None;
    let (mode, format, mode_span) = match mode_name {
        "bare" => {
            stray(raw.base_bounds.is_some(), "base_bounds", "\"base-bounds\"")?;
            stray(
                raw.segments.is_some(),
                "segments",
                "\"segments\" or \"paged-segments\"",
            )?;
            stray(raw.paging.is_some(), "paging", "\"paged\"")?;
            (Mode::Bare, None, mode_span)
        }
        "base-bounds" => {
            stray(
                raw.segments.is_some(),
                "segments",
                "\"segments\" or \"paged-segments\"",
            )?;
            stray(raw.paging.is_some(), "paging", "\"paged\"")?;
            let bb = raw.base_bounds.as_ref().ok_or_else(|| {
                e_at(mode_span.clone(), "mode = \"base-bounds\" needs a [base_bounds] table")
                    .help("add [base_bounds] with `base` and `bounds`, e.g. base = \"0x8000\", bounds = \"16k\"")
            })?;
            let b = bb.get_ref();
            (
                Mode::BaseBounds {
                    base: b.base.get_ref().get(),
                    bounds: b.bounds.get_ref().get(),
                },
                None,
                bb.span(),
            )
        }
        "segments" | "paged-segments" => {
            stray(raw.base_bounds.is_some(), "base_bounds", "\"base-bounds\"")?;
            stray(raw.paging.is_some(), "paging", "\"paged\"")?;
            let s = raw.segments.as_ref().ok_or_else(|| {
                e_at(mode_span.clone(), format!("mode = \"{mode_name}\" needs a [segments] table"))
                    .help("add [segments] with `address_space` (or `va_bits`) and [[segments.register]] entries")
            })?;
            let span = header_span(text, "segments").unwrap_or(mode_span.clone());
            let (seg, fmt) =
                build_segments(s, span.clone(), mode_name == "paged-segments", &customs)?;
            (Mode::Segmented(seg), fmt, span)
        }
        "paged" => {
            stray(raw.base_bounds.is_some(), "base_bounds", "\"base-bounds\"")?;
            stray(
                raw.segments.is_some(),
                "segments",
                "\"segments\" or \"paged-segments\"",
            )?;
            let p = raw.paging.as_ref().ok_or_else(|| {
                e_at(mode_span.clone(), "mode = \"paged\" needs a [paging] table").help(
                    "add [paging] with `format` (e.g. \"sv39\") and `root` (the root table's physical address)",
                )
            })?;
            let pg = p.get_ref();
            let fmt = resolve_format(
                &pg.format,
                pg.address_space.as_ref(),
                pg.page_size.as_ref(),
                &customs,
            )?;
            if let Some(t) = &pg.table {
                if let Some(r) = pg.root.as_ref().or(pg.root_pfn.as_ref()) {
                    return Err(e_at(r.span(), "give either `table` (placed by vmlab) or the root (`root`, `root_pfn`, `pdbr`) of a table written with [[write]], not both")
                        .help("with `table`, vmlab chooses the table's place and the report shows it; remove `root` (or remove `table` and write the entries with [[write]] ptes)"));
                }
                if fmt.levels() != 1 {
                    return Err(e_at(t.span(), format!("`table` lists a linear (one-level) page table, but format `{}` has {} levels", fmt.name(), fmt.levels()))
                        .help("write multi-level tables with [[write]] `ptes` and give `root`; `table` suits format = \"ostep-linear\""));
                }
                let entries = 1u64 << fmt.index_bits(0);
                if t.get_ref().len() as u64 > entries {
                    return Err(e_at(t.span(), format!("`table` has {} entries, but this table has only {entries} (one per virtual page)", t.get_ref().len()))
                        .help("give one PTE per VPN, from VPN 0"));
                }
            }
            let root = match (&pg.root, &pg.root_pfn) {
                _ if pg.table.is_some() => 0,
                (Some(r), None) => r.get_ref().get(),
                (None, Some(pfn)) => {
                    let ob = fmt.page_offset_bits() as u32;
                    let v = pfn.get_ref().get();
                    v.checked_shl(ob)
                        .filter(|r| r >> ob == v)
                        .ok_or_else(|| {
                            e_at(
                                pfn.span(),
                                format!("root page {v:#x} times the page size does not fit in 64 bits"),
                            )
                        })?
                }
                (Some(r), Some(_)) => {
                    return Err(e_at(r.span(), "give either `root` or `root_pfn` (`pdbr`), not both")
                        .help("`root` is a physical address; `root_pfn` (alias `pdbr`) is a page number"))
                }
                (None, None) => {
                    return Err(e_at(p.span(), "[paging] needs the root table: `root` or `root_pfn`")
                        .help("`root = \"0x80001000\"` is a physical address; `root_pfn = 108` (alias `pdbr`, as OSTEP prints it) is a page number"))
                }
            };
            if let Some(a) = &pg.asid {
                default_asid = Some((a.get_ref().get(), a.span()));
            }
            (
                Mode::Paged {
                    format: fmt.clone(),
                    root,
                },
                Some(fmt),
                p.span(),
            )
        }
        other => {
            let mut err = e_at(
                mode_span,
                format!(
                    "unknown mode `{other}`; valid modes are: {}",
                    MODES.join(", ")
                ),
            );
            if Format::builtin(other).is_some()
                || other.starts_with("ostep")
                || customs.iter().any(|c| c.name() == other)
            {
                err = err.help(format!(
                    "`{other}` is a page-table format: write mode = \"paged\" and, under [paging], format = \"{other}\""
                ));
            }
            return Err(err);
        }
    };
    mmu.set_mode(mode)
        .map_err(|e| e_at(mode_span, e.to_string()))?;
    // Statistics count the scenario's accesses, not the setup's mode change.
    mmu.reset_stats();

    // Memory.
    let (mem_raw, mem_span) = match &raw.memory {
        Some(m) => (Some(m.get_ref()), Some(m.span())),
        None => (None, None),
    };
    let size = mem_raw
        .and_then(|m| m.size.as_ref())
        .map_or(DEFAULT_MEMORY_SIZE, |s| s.get_ref().get());
    let latency = match mem_raw.and_then(|m| m.latency.as_ref()) {
        None => DEFAULT_MEMORY_LATENCY,
        Some(l) => {
            let v = l.get_ref().get();
            vmlab_common::check_latency("memory.latency", v).map_err(|m| e_at(l.span(), m))?;
            v
        }
    };
    let mut memory = SparseMemory::new(size, Cycle(latency));
    if let Some(dump) = mem_raw.and_then(|m| m.ostep_dump.as_ref()) {
        let fmt = format.as_ref().ok_or_else(|| {
            e_at(
                dump.span(),
                "`ostep_dump` needs a page-table format to know the page size",
            )
            .help("use mode = \"paged\" with a [paging] format (ostep-2level has 32-byte pages)")
        })?;
        load_dump(text, dump, fmt, &mut memory)?;
    }
    let _ = mem_span;
    let mut written = Vec::new();
    for w in &raw.write {
        written.push(apply_write(w, format.as_deref(), &mut memory)?);
    }
    let table_placed = match raw.paging.as_ref().map(|p| p.get_ref()) {
        Some(RawPaging { table: Some(t), .. }) if raw.mode.get_ref() == "paged" => {
            let fmt = format.clone().ok_or_else(|| e_at(t.span(), "no format"))?;
            let dump = mem_raw.is_some_and(|m| m.ostep_dump.is_some());
            let (root, bytes) = place_inline_table(t, &fmt, &written, &mut memory, dump)?;
            mmu.set_mode(Mode::Paged { format: fmt, root })
                .map_err(|e| e_at(t.span(), e.to_string()))?;
            mmu.reset_stats();
            Some((root, bytes))
        }
        _ => None,
    };

    // Context defaults.
    let ctx_raw = raw.context.as_ref().map(|c| c.get_ref());
    let mut context = Context::user(0);
    if let Some(c) = ctx_raw {
        if let Some(p) = &c.privilege {
            context.privilege = parse_priv(p)?;
        }
        if let Some(a) = &c.asid {
            if let Some((_, span)) = &default_asid {
                return Err(e_at(
                    span.clone(),
                    "the ASID is given twice, in [paging] and in [context]",
                )
                .help("keep one of them"));
            }
            default_asid = Some((a.get_ref().get(), a.span()));
        }
        context.sum = c.sum.unwrap_or(false);
        context.mxr = c.mxr.unwrap_or(false);
    }
    if let Some((a, span)) = default_asid {
        context.asid = asid16(a, span)?;
    }

    let segment_names = raw
        .segments
        .as_ref()
        .map(|s| {
            s.register
                .iter()
                .map(|r| r.get_ref().name.clone())
                .collect()
        })
        .unwrap_or_default();

    // Operations.
    let limit = va_limit(mmu.mode());
    let mut ops = Vec::new();
    for a in &raw.access {
        ops.push(build_op(a, &context, limit.as_ref())?);
    }
    // The trace: one-byte loads in the default context, each with its expected answer.
    let trace: Vec<Spanned<Num>> = raw.trace.map(|t| t.into_inner()).unwrap_or_default();
    if let Some(answers) = &raw.trace_expect {
        if answers.get_ref().len() != trace.len() {
            return Err(e_at(
                answers.span(),
                format!(
                    "trace_expect has {} answers for the {} addresses of trace",
                    answers.get_ref().len(),
                    trace.len()
                ),
            )
            .help("give one answer per address, in order (a physical address, \"fault\", \"fault:pte\", ...)"));
        }
    }
    for (i, v) in trace.iter().enumerate() {
        let va = check_va(v, limit.as_ref())?;
        ops.push(Op::Access(Access {
            req: Request::new(va, AccessKind::Load, 1, context),
            probe: false,
            note: None,
            expect: raw
                .trace_expect
                .as_ref()
                .and_then(|a| a.get_ref().get(i).copied()),
        }));
    }

    Ok(Scenario {
        path: path.to_string(),
        title: raw.title,
        mmu,
        format,
        memory,
        memory_latency: latency,
        context,
        ops,
        segment_names,
        table_placed,
    })
}

/// The message of a TOML error on one line, without toml's own location and snippet.
pub(crate) fn toml_message(e: &toml::de::Error, text: &str) -> String {
    let m: Vec<&str> = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if m.is_empty() {
        // Some parse errors carry their text only in the rendered form, after the snippet.
        let full = e.to_string();
        let last = full
            .lines()
            .map(str::trim)
            .rfind(|l| {
                !l.is_empty()
                    && !l.starts_with('|')
                    && !l.contains(" | ")
                    && !l.starts_with("TOML parse error")
                    && !l.chars().all(|c| c == '^' || c == ' ')
            })
            .map(str::to_string);
        let at = e
            .span()
            .and_then(|sp| text.get(sp.start..))
            .and_then(|t| t.chars().next());
        return match (last, at) {
            (Some(l), _) => l,
            (None, Some(c)) if c.is_control() && c != '\n' && c != '\t' => format!(
                "the control character U+{:04X} is not allowed here; TOML text may hold only tabs and newlines",
                c as u32
            ),
            _ => "the file is not valid TOML here".to_string(),
        };
    }
    m.join(": ")
}

/// The span of the header line of a table (`[name]`, `[name.sub]` or `[[name.sub]]`), for
/// errors about tables toml cannot span.
pub(crate) fn header_span(text: &str, name: &str) -> Option<Range<usize>> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let start = pos + (line.len() - t.len());
        pos += line.len();
        let inner = t.trim_start_matches('[').trim_start();
        if t.starts_with('[')
            && inner.starts_with(name)
            && matches!(
                inner[name.len()..].trim_start().chars().next(),
                Some(']' | '.')
            )
        {
            let end = t.find(']').map_or(t.trim_end().len(), |i| {
                i + 1 + usize::from(t[i + 1..].starts_with(']'))
            });
            return Some(start..start + end);
        }
    }
    None
}

fn asid16(a: u64, span: Range<usize>) -> R<u16> {
    u16::try_from(a)
        .map_err(|_| e_at(span, format!("ASID {a} does not fit in 16 bits")).help("use 0 to 65535"))
}

fn log2_exact(v: &Spanned<Num>, what: &str) -> R<u8> {
    let x = v.get_ref().get();
    if x < 2 || !x.is_power_of_two() {
        return Err(e_at(
            v.span(),
            format!("{what} {x:#x} ({x}) is not a power of two"),
        )
        .help(format!("use a power of two such as \"4k\" for {what}")));
    }
    Ok(x.trailing_zeros() as u8)
}

fn resolve_format(
    name: &Spanned<String>,
    address_space: Option<&Spanned<Num>>,
    page_size: Option<&Spanned<Num>>,
    customs: &[Arc<Format>],
) -> R<Arc<Format>> {
    let n = name.get_ref().as_str();
    if matches!(n, "ostep-linear" | "linear") {
        let asp = address_space.ok_or_else(|| {
            e_at(name.span(), "format \"ostep-linear\" needs `address_space`")
                .help("add address_space = \"16k\" and page_size = \"4k\" (OSTEP's defaults)")
        })?;
        let ps = page_size.ok_or_else(|| {
            e_at(name.span(), "format \"ostep-linear\" needs `page_size`")
                .help("add page_size = \"4k\" (OSTEP's default)")
        })?;
        let ab = log2_exact(asp, "the address space")?;
        let pb = log2_exact(ps, "the page size")?;
        return Format::ostep_linear(ab, pb)
            .map(Arc::new)
            .map_err(|e| e_at(ps.span(), e.to_string()));
    }
    for (k, v) in [("address_space", address_space), ("page_size", page_size)] {
        if let Some(v) = v {
            return Err(e_at(
                v.span(),
                format!("`{k}` only applies to format = \"ostep-linear\", not \"{n}\""),
            )
            .help(format!("remove `{k}`")));
        }
    }
    if let Some(c) = customs.iter().find(|c| c.name() == n) {
        return Ok(c.clone());
    }
    if let Some(f) = Format::builtin(n) {
        return Ok(Arc::new(f));
    }
    let mut names: Vec<String> = BUILTIN_FORMATS.iter().map(|s| s.to_string()).collect();
    let custom: Vec<String> = customs.iter().map(|c| c.name().to_string()).collect();
    let msg = if custom.is_empty() {
        format!(
            "unknown page-table format `{n}`; the built-in formats are: {} (no [[format]] is defined)",
            names.join(", ")
        )
    } else {
        let list = custom.join(", ");
        names.extend(custom);
        format!(
            "unknown page-table format `{n}`; the built-in formats are: {}; defined by [[format]]: {list}",
            BUILTIN_FORMATS.join(", ")
        )
    };
    Err(e_at(name.span(), msg)
        .help("define your own with a [[format]] table (see docs/translate.md)"))
}

fn build_segments(
    r: &RawSegments,
    span: Range<usize>,
    paged: bool,
    customs: &[Arc<Format>],
) -> R<(Segmentation, Option<Arc<Format>>)> {
    let va_bits = match (&r.va_bits, &r.address_space) {
        (Some(v), None) => {
            let b = v.get_ref().get();
            if !(2..=63).contains(&b) {
                return Err(e_at(v.span(), format!("va_bits = {b} is out of range"))
                    .help("segmented virtual addresses are 2 to 63 bits wide"));
            }
            b as u8
        }
        // Not a power of two (or 2, too small for a selector bit and an offset): halves.
        (None, Some(a))
            if a.get_ref().get() >= 2
                && (a.get_ref().get() == 2 || !a.get_ref().get().is_power_of_two()) =>
        {
            return build_segment_halves(r, a, span, paged);
        }
        (None, Some(a)) => {
            let b = log2_exact(a, "the address space")?;
            if b > 63 {
                return Err(e_at(
                    a.span(),
                    "the address space is too large; segmented addresses are at most 63 bits wide",
                ));
            }
            b
        }
        (Some(v), Some(_)) => {
            return Err(e_at(
                v.span(),
                "give either `va_bits` or `address_space`, not both",
            ))
        }
        (None, None) => {
            return Err(e_at(
                span.clone(),
                "[segments] needs the address width: `address_space` or `va_bits`",
            )
            .help("e.g. address_space = \"16k\" (a 14-bit virtual address) or va_bits = 14"))
        }
    };
    let n = r.register.len();
    let selector_bits = match &r.selector_bits {
        Some(b) => {
            let v = b.get_ref().get();
            if !(1..=3).contains(&v) {
                return Err(
                    e_at(b.span(), format!("selector_bits = {v} is out of range"))
                        .help("use 1, 2 or 3 (2 to 8 segment registers)"),
                );
            }
            v as u8
        }
        None => {
            if matches!(n, 2 | 4 | 8) {
                n.trailing_zeros() as u8
            } else {
                return Err(e_at(
                    span.clone(),
                    format!("{n} [[segments.register]] entries given; there must be 2, 4 or 8"),
                )
                .help("list one register per selector value (mark unused ones present = false), or set selector_bits"));
            }
        }
    };
    if va_bits <= selector_bits {
        return Err(e_at(
            span.clone(),
            format!(
                "a {va_bits}-bit address cannot hold {selector_bits} selector bits and an offset"
            ),
        ));
    }
    let format = match (&r.format, paged) {
        (Some(f), true) => {
            let offset_bits = va_bits - selector_bits;
            let fmt = if matches!(f.get_ref().as_str(), "ostep-linear" | "linear") {
                let ps = r.page_size.as_ref().ok_or_else(|| {
                    e_at(
                        f.span(),
                        "format \"ostep-linear\" in paged segments needs `page_size`",
                    )
                    .help("its address space is the segment size; add page_size, e.g. \"1k\"")
                })?;
                let pb = log2_exact(ps, "the page size")?;
                Arc::new(
                    Format::ostep_linear(offset_bits, pb)
                        .map_err(|e| e_at(ps.span(), e.to_string()))?,
                )
            } else {
                resolve_format(f, None, r.page_size.as_ref(), customs)?
            };
            Some(fmt)
        }
        (Some(f), false) => {
            return Err(e_at(f.span(), "`format` applies only to paged segments")
                .help("set mode = \"paged-segments\", or remove `format`"))
        }
        (None, true) => {
            return Err(e_at(
                span.clone(),
                "mode = \"paged-segments\" needs the page-table format of the segments",
            )
            .help("add format = \"sv39\" (or another format) to [segments]"))
        }
        (None, false) => {
            if let Some(p) = &r.page_size {
                return Err(e_at(p.span(), "`page_size` applies only to paged segments"));
            }
            None
        }
    };
    let registers = segment_registers(r, paged)?;
    Ok((
        Segmentation {
            va_bits,
            selector_bits,
            registers,
            format: format.clone(),
            select: SegmentSelect::TopBits,
        },
        format,
    ))
}

/// `[segments]` with an `address_space` that is not a power of two (segmentation.py's
/// `-a 1000`): two registers that split the address space at its middle.
fn build_segment_halves(
    r: &RawSegments,
    a: &Spanned<Num>,
    span: Range<usize>,
    paged: bool,
) -> R<(Segmentation, Option<Arc<Format>>)> {
    let asize = a.get_ref().get();
    if paged || r.format.is_some() || r.page_size.is_some() {
        return Err(e_at(
            a.span(),
            format!("address_space = {asize} is not a power of two, which only plain segments (mode = \"segments\") allow"),
        )
        .help("paged segments need a power-of-two address space such as \"16k\""));
    }
    if let Some(b) = &r.selector_bits {
        if b.get_ref().get() != 1 {
            return Err(e_at(
                b.span(),
                format!("an address space of {asize} bytes (not a power of two) is split in two halves by its middle, not by selector bits"),
            )
            .help("remove selector_bits (or write selector_bits = 1) and give two registers"));
        }
    }
    if r.register.len() != 2 {
        return Err(e_at(
            span,
            format!(
                "{} [[segments.register]] entries given; an address space of {asize} bytes (not a power of two) has exactly 2 segments",
                r.register.len()
            ),
        )
        .help(format!("give two registers: segment 0 for VA 0 .. {}, segment 1 (usually grows_down = true) above", asize.div_ceil(2) - 1)));
    }
    let registers = segment_registers(r, false)?;
    let va_bits = (64 - (asize - 1).leading_zeros()).max(2) as u8;
    Ok((
        Segmentation {
            va_bits,
            selector_bits: 1,
            registers,
            format: None,
            select: SegmentSelect::Halves {
                address_space: asize,
            },
        },
        None,
    ))
}

fn segment_registers(r: &RawSegments, paged: bool) -> R<Vec<SegmentRegister>> {
    let mut registers = Vec::new();
    for (i, reg) in r.register.iter().enumerate() {
        let g = reg.get_ref();
        let (read, write, exec) = match &g.perms {
            Some(p) => parse_perms(p)?,
            None => (true, true, true),
        };
        let page_table =
            match &g.page_table {
                Some(pt) if !paged => return Err(e_at(
                    pt.span(),
                    format!("segment {i} has a `page_table`, but mode = \"segments\""),
                )
                .help(
                    "set mode = \"paged-segments\" (with a format in [segments]) to page segments",
                )),
                Some(pt) => Some(pt.get_ref().get()),
                None => None,
            };
        registers.push(SegmentRegister {
            base: g.base.as_ref().map_or(0, |b| b.get_ref().get()),
            limit: g.limit.as_ref().map_or(0, |b| b.get_ref().get()),
            grows_down: g.grows_down,
            read,
            write,
            exec,
            user: g.user.unwrap_or(true),
            present: g.present.unwrap_or(true),
            page_table,
        });
    }
    Ok(registers)
}

fn parse_perms(p: &Spanned<String>) -> R<(bool, bool, bool)> {
    let s = p.get_ref();
    let c: Vec<char> = s.chars().collect();
    let ok = c.len() == 3
        && matches!(c[0], 'r' | '-')
        && matches!(c[1], 'w' | '-')
        && matches!(c[2], 'x' | '-');
    if !ok {
        return Err(e_at(p.span(), format!("perms = \"{s}\" is not a permission string"))
            .help("write three characters r, w, x in that order, with - for a missing one: \"r-x\", \"rw-\", \"rwx\", \"---\""));
    }
    Ok((c[0] == 'r', c[1] == 'w', c[2] == 'x'))
}

fn parse_priv(p: &Spanned<String>) -> R<Privilege> {
    match p.get_ref().to_ascii_lowercase().as_str() {
        "u" | "user" => Ok(Privilege::User),
        "s" | "supervisor" => Ok(Privilege::Supervisor),
        "m" | "machine" => Ok(Privilege::Machine),
        other => Err(e_at(
            p.span(),
            format!("unknown privilege `{other}`; use \"u\" (user), \"s\" (supervisor) or \"m\" (machine)"),
        )),
    }
}

fn parse_kind(k: &Spanned<String>) -> R<AccessKind> {
    match k.get_ref().to_ascii_lowercase().as_str() {
        "load" | "read" | "r" => Ok(AccessKind::Load),
        "store" | "write" | "w" => Ok(AccessKind::Store),
        "fetch" | "exec" | "execute" | "x" => Ok(AccessKind::Fetch),
        other => Err(e_at(
            k.span(),
            format!("unknown access kind `{other}`; use \"load\", \"store\" or \"fetch\""),
        )),
    }
}

/// The widest address in bits, the thing that has it, and the size of an address space that
/// is not a power of two.
type VaLimit = (u8, String, Option<u64>);

/// The widest virtual address a mode accepts as input, as a bit count, when addresses above
/// it are an input error rather than an architectural fault (formats whose upper bits must
/// be zero, and segments). `None`: any 64-bit address is a valid input.
fn va_limit(mode: &Mode) -> Option<VaLimit> {
    match mode {
        Mode::Paged { format, .. }
            if format.spec().va_check == vmlab_mmu::format::VaCheck::Zero =>
        {
            Some((format.va_bits(), format!("format {}", format.name()), None))
        }
        Mode::Segmented(s) => {
            let size = match s.select {
                SegmentSelect::Halves { address_space } => Some(address_space),
                SegmentSelect::TopBits => None,
            };
            Some((s.va_bits, "the segmented address space".to_string(), size))
        }
        _ => None,
    }
}

fn check_va(v: &Spanned<Num>, limit: Option<&VaLimit>) -> R<u64> {
    let va = v.get_ref().get();
    if let Some((_, _, Some(size))) = limit {
        if va >= *size {
            return Err(e_at(
                v.span(),
                format!(
                    "virtual address {va:#x} ({va}) is outside the address space of {size} bytes"
                ),
            )
            .help(format!("use an address from 0 to {}", size - 1)));
        }
    } else if let Some((bits, what, _)) = limit {
        if *bits < 64 && va >> bits != 0 {
            return Err(e_at(
                v.span(),
                format!("virtual address {va:#x} is wider than the {bits}-bit addresses of {what}"),
            )
            .help(format!(
                "use an address from 0x0 to {:#x}",
                (1u64 << bits) - 1
            )));
        }
    }
    Ok(va)
}

fn build_op(a: &Spanned<RawAccess>, ctx: &Context, limit: Option<&VaLimit>) -> R<Op> {
    let r = a.get_ref();
    match (&r.va, &r.flush) {
        (Some(_), Some(f)) => Err(e_at(
            f.span(),
            "an [[access]] has either `va` or `flush`, not both",
        )
        .help("put the flush in its own [[access]] entry")),
        (None, None) => Err(e_at(
            a.span(),
            "an [[access]] needs `va` (an address to translate) or `flush`",
        )),
        (None, Some(f)) => {
            let extra = r.kind.is_some()
                || r.size.is_some()
                || r.privilege.is_some()
                || r.asid.is_some()
                || r.sum.is_some()
                || r.mxr.is_some()
                || r.expect.is_some()
                || r.probe;
            if extra {
                return Err(e_at(a.span(), "a flush entry takes only `flush` (and `note`)")
                    .help("write the ASID and address inside the flush: flush = { va = \"0x1000\", asid = 1 }"));
            }
            let flush = match f.get_ref() {
                RawFlush::All => Flush::All,
                RawFlush::Table { va, asid } => {
                    let asid = asid.map(|x| asid16(x.get(), f.span())).transpose()?;
                    let va = va
                        .map(|x| check_va(&Spanned::new(f.span(), x), limit))
                        .transpose()?;
                    match (va, asid) {
                        (Some(va), Some(asid)) => Flush::AddrAsid { va, asid },
                        (Some(va), None) => Flush::Addr { va },
                        (None, Some(asid)) => Flush::Asid { asid },
                        (None, None) => Flush::All,
                    }
                }
            };
            Ok(Op::Flush {
                flush,
                note: r.note.clone(),
            })
        }
        (Some(v), None) => {
            let va = check_va(v, limit)?;
            let kind = r
                .kind
                .as_ref()
                .map(parse_kind)
                .transpose()?
                .unwrap_or(AccessKind::Load);
            let size = match &r.size {
                Some(s) => {
                    let n = s.get_ref().get();
                    if !matches!(n, 1 | 2 | 4 | 8) {
                        return Err(e_at(
                            s.span(),
                            format!("access size {n} is not 1, 2, 4 or 8 bytes"),
                        ));
                    }
                    n as u8
                }
                None => 1,
            };
            let mut c = *ctx;
            if let Some(p) = &r.privilege {
                c.privilege = parse_priv(p)?;
            }
            if let Some(x) = &r.asid {
                c.asid = asid16(x.get_ref().get(), x.span())?;
            }
            if let Some(x) = r.sum {
                c.sum = x;
            }
            if let Some(x) = r.mxr {
                c.mxr = x;
            }
            Ok(Op::Access(Access {
                req: Request::new(va, kind, size, c),
                probe: r.probe,
                note: r.note.clone(),
                expect: r.expect,
            }))
        }
    }
}

fn write_range(mem: &SparseMemory, at: &Spanned<Num>, len: u64) -> R<u64> {
    let a = at.get_ref().get();
    match a.checked_add(len) {
        Some(end) if end <= mem.size() => Ok(a),
        _ => Err(e_at(
            at.span(),
            format!(
                "a write of {len} bytes at {a:#x} runs past the end of physical memory ({:#x} bytes)",
                mem.size()
            ),
        )
        .help("move the write, or raise [memory] size")),
    }
}

fn values(v: &[Spanned<Num>], width: u8) -> R<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len() * width as usize);
    for x in v {
        let n = x.get_ref().get();
        if width < 8 && n >> (8 * width as u32) != 0 {
            return Err(e_at(
                x.span(),
                format!("{n:#x} does not fit in {} bits", 8 * width as u32),
            )
            .help(format!(
                "each value of this list is {width} byte{} wide: 0x0 to {:#x}",
                if width == 1 { "" } else { "s" },
                (1u64 << (8 * width as u32)) - 1
            )));
        }
        out.extend_from_slice(&n.to_le_bytes()[..width as usize]);
    }
    Ok(out)
}

/// Places a table given inline ([`place_table`]) and writes its entries; returns its address
/// and size in bytes.
fn place_inline_table(
    t: &Spanned<Vec<Spanned<Num>>>,
    fmt: &Format,
    written: &[Range<u64>],
    mem: &mut SparseMemory,
    dump: bool,
) -> R<(u64, u64)> {
    if dump {
        return Err(
            e_at(t.span(), "`table` cannot be combined with `ostep_dump`")
                .help("a dump already gives the memory: put the table in it and give `root`"),
        );
    }
    let page = 1u64 << fmt.page_offset_bits();
    let bytes = (1u64 << fmt.index_bits(0)) * fmt.pte_bytes() as u64;
    let data = values(t.get_ref(), fmt.pte_bytes())?;
    let mut used = written.to_vec();
    for v in t.get_ref() {
        let pte = v.get_ref().get();
        if fmt.flags(pte).v {
            let pa = fmt.pfn_address(pte);
            used.push(pa..pa.saturating_add(page));
        }
    }
    let at = place_table(mem.size(), page, bytes, &used).ok_or_else(|| {
        e_at(
            t.span(),
            format!(
                "no room for the {bytes}-byte table in {} bytes of memory: every page-aligned place overlaps a [[write]] or a page the table maps",
                mem.size()
            ),
        )
        .help("make [memory] size larger, or write the table yourself with [[write]] ptes and give `root`")
    })?;
    mem.write_bytes(at, &data)
        .map_err(|e| e_at(t.span(), e.to_string()))?;
    Ok((at, bytes))
}

fn apply_write(
    w: &Spanned<RawWrite>,
    format: Option<&Format>,
    mem: &mut SparseMemory,
) -> R<Range<u64>> {
    let r = w.get_ref();
    let given = [
        r.bytes.is_some(),
        r.u16.is_some(),
        r.u32.is_some(),
        r.u64.is_some(),
        r.hex.is_some(),
        r.ptes.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if given != 1 {
        return Err(e_at(
            w.span(),
            format!(
                "a [[write]] needs exactly one of `bytes`, `u16`, `u32`, `u64`, `hex`, `ptes` ({given} given)"
            ),
        ));
    }
    let data = if let Some(v) = &r.bytes {
        values(v, 1)?
    } else if let Some(v) = &r.u16 {
        values(v, 2)?
    } else if let Some(v) = &r.u32 {
        values(v, 4)?
    } else if let Some(v) = &r.u64 {
        values(v, 8)?
    } else if let Some(h) = &r.hex {
        parse_hex(h.get_ref()).map_err(|m| {
            e_at(h.span(), m)
                .help("write hex byte pairs, optionally separated by spaces: \"1b 1d 80\"")
        })?
    } else if let Some(v) = &r.ptes {
        let f = format.ok_or_else(|| {
            e_at(
                w.span(),
                "`ptes` needs a page-table format to know the PTE width",
            )
            .help("use `u32` or `u64`, or a paged mode")
        })?;
        values(v, f.pte_bytes())?
    } else {
        Vec::new()
    };
    let at = write_range(mem, &r.at, data.len() as u64)?;
    mem.write_bytes(at, &data)
        .map_err(|e| e_at(r.at.span(), e.to_string()))?;
    Ok(at..at + data.len() as u64)
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(c) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("`{c}` is not a hex digit"));
    }
    if digits.len() & 1 != 0 {
        return Err(format!(
            "{} hex digits is an odd number; every byte is two digits",
            digits.len()
        ));
    }
    Ok(digits
        .chunks(2)
        .map(|p| (p[0].to_digit(16).unwrap_or(0) * 16 + p[1].to_digit(16).unwrap_or(0)) as u8)
        .collect())
}

/// Loads a page dump in the style of OSTEP's `paging-multilevel-translate.py`:
/// one line per page, `page N:` followed by the page's bytes as hex pairs (with or
/// without spaces between them).
fn load_dump(text: &str, dump: &Spanned<String>, fmt: &Format, mem: &mut SparseMemory) -> R<()> {
    let page = 1u64 << fmt.page_offset_bits();
    let span = dump.span();
    // Find a dump line in the source to point errors at it.
    let line_span = |line: &str| -> Range<usize> {
        let hay = &text[span.clone()];
        match hay.find(line.trim()) {
            Some(i) => span.start + i..span.start + i + line.trim().len(),
            None => span.clone(),
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for line in dump.get_ref().lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let bad = |m: String| {
            e_at(line_span(line), m).help(format!(
                "each line is `page N:` and then the page's {page} bytes as hex pairs, e.g. `page   3: 1b 1d 05 ...`"
            ))
        };
        let rest = t
            .strip_prefix("page")
            .ok_or_else(|| bad("a dump line must start with `page`".into()))?;
        let (num, bytes) = rest
            .split_once(':')
            .ok_or_else(|| bad("missing `:` after the page number".into()))?;
        let n: u64 = num
            .trim()
            .parse()
            .map_err(|_| bad(format!("`{}` is not a decimal page number", num.trim())))?;
        if !seen.insert(n) {
            return Err(bad(format!("page {n} appears twice")));
        }
        let data = parse_hex(bytes).map_err(|m| bad(format!("page {n}: {m}")))?;
        if data.len() as u64 != page {
            return Err(bad(format!(
                "page {n} has {} bytes, but format {} has {page}-byte pages",
                data.len(),
                fmt.name()
            )));
        }
        let at = n
            .checked_mul(page)
            .filter(|a| a.checked_add(page).is_some_and(|e| e <= mem.size()))
            .ok_or_else(|| {
                bad(format!(
                    "page {n} lies beyond physical memory ({:#x} bytes)",
                    mem.size()
                ))
            })?;
        mem.write_bytes(at, &data).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// Reads `size` bytes at `pa` as a little-endian value, if memory is there.
pub fn value_at(mem: &SparseMemory, pa: u64, size: u8) -> Option<u64> {
    mem.peek(pa, size).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2tlb_table_takes_the_documented_defaults() {
        let s =
            Scenario::parse("mode = \"bare\"\n[mmu.l2tlb]\nhit_latency = 7\n", "t.toml").unwrap();
        let l2 = s.mmu.config().l2tlb.unwrap();
        let d = MmuConfig::default_l2tlb();
        assert_eq!((l2.sets, l2.ways, l2.hit_latency), (d.sets, d.ways, 7));
    }

    #[test]
    fn locations_are_one_based_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        let l = locate(src, 12..15);
        assert_eq!(
            (l.line, l.col, l.text.as_str(), l.width),
            (2, 6, "bé = \"x\"", 3)
        );
        let l = locate(src, 100..200);
        assert_eq!(l.line, 3);
    }

    #[test]
    fn implicit_tables_work_and_are_located() {
        let text = "mode = \"segments\"\n[mmu.dtlb]\nways = 2\n[[segments.register]]\n[[segments.register]]\n";
        let e = Scenario::parse(text, "t.toml").unwrap_err();
        let l = e.location.clone().expect("located");
        assert_eq!((l.line, l.col, l.width), (4, 1, 21), "{e}");
        assert!(e.message.contains("address width"), "{e}");
        assert_eq!(header_span("x = 1\n [ mmu ]\n", "mmu"), Some(7..14));
        assert_eq!(header_span("[mmux]\n", "mmu"), None);
    }

    #[test]
    fn a_huge_memory_latency_is_refused() {
        let e = Scenario::parse(
            "mode = \"bare\"\n[memory]\nlatency = \"18446744073709551615\"\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(
            e.message.contains(
                "`memory.latency` = 18446744073709551615 is too large: a latency is at most 1000000 cycles"
            ),
            "{e}"
        );
    }

    #[test]
    fn defaults_and_context() {
        let s = Scenario::parse(
            "mode = \"paged\"\n[paging]\nformat = \"sv39\"\nroot = 0\nasid = 3\n[context]\npriv = \"S\"\nsum = true\n[[access]]\nva = 1\n[[access]]\nva = 2\npriv = \"m\"\nasid = 9\nkind = \"x\"\nsize = 4\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(s.memory.size(), DEFAULT_MEMORY_SIZE);
        assert_eq!(s.memory_latency, DEFAULT_MEMORY_LATENCY);
        assert_eq!(s.context.asid, 3);
        assert_eq!(s.context.privilege, Privilege::Supervisor);
        let Op::Access(a) = &s.ops[1] else { panic!() };
        assert_eq!(a.req.kind, AccessKind::Fetch);
        assert_eq!(a.req.size, 4);
        assert_eq!(a.req.ctx.asid, 9);
        assert_eq!(a.req.ctx.privilege, Privilege::Machine);
        assert!(a.req.ctx.sum);
        assert_eq!(s.mmu.stats().mode_changes, 0, "setup is not counted");
    }
}
