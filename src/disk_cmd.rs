//! `vmlab disk REQUESTS.toml`: a disk configuration and a list of requests, simulated and
//! explained request by request.
//!
//! A requests file is TOML (the full reference is `docs/disk.md`):
//!
//! ```toml
//! title = "OSTEP's disk.py -a 10,18"     # optional
//!
//! [disk]                                 # vmlab_devices::disk::DiskConfig
//! clock_hz = 1000                        # 1 cycle = 1 ms
//! block_size = 512
//! scheduler = "fcfs"                     # fcfs sstf scan look c-scan c-look sptf
//!
//! [disk.hdd]                             # or [disk.ssd]
//! cylinders = 3
//! heads = 1
//! sectors_per_track = 12
//! rotation = "360ms"
//! seek = { curve = "linear", per_cylinder = "40ms" }
//! start_angle = 195
//!
//! [[request]]
//! block = 10                             # op = "read" (default) or "write", count = 1,
//! at = 0                                 # arrival: cycles, or a duration such as "5ms"
//! ```
//!
//! [`DiskFile::load`] checks everything up front, so a bad file is a [`ScenarioError`] with
//! the file, line and column; [`run`] then cannot fail. [`human`] and [`json`] render one
//! run; [`compare`], [`human_compare`] and [`json_compare`] run every scheduler. With
//! `fault_rate` set in `[disk]`, every report also says which requests failed and how;
//! without it, the reports are exactly what they were before faults existed.

use crate::num::Num;
use crate::scenario::{header_span, locate, toml_message, ScenarioError};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use vmlab_devices::disk::time::{show_cycles, show_ps};
use vmlab_devices::disk::{
    Completion, Disk, DiskConfig, DiskFault, DiskOp, DiskRequest, DiskStats, FaultStats, Scheduler,
    SeekCurve, Time,
};
use vmlab_devices::Cycle;

// ---------------------------------------------------------------------------------------
// The file

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: Option<String>,
    disk: Option<DiskConfig>,
    #[serde(default)]
    request: Vec<Spanned<RawRequest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    id: Option<Spanned<Num>>,
    at: Option<Spanned<Time>>,
    op: Option<Spanned<String>>,
    block: Spanned<Num>,
    count: Option<Spanned<Num>>,
    note: Option<String>,
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    order: Option<Num>,
    seek: Option<Time>,
    #[serde(alias = "rotate")]
    rotation: Option<Time>,
    transfer: Option<Time>,
}

/// A request's expected answer (`expect = { order = 2, seek = 40, rotation = 260,
/// transfer = 30 }`): its place in the service order (from 1) and its times in cycles
/// (ticks); each part is optional. `vmlab disk` grades it and exits with status 1 when a
/// part is wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// The place in the order the disk serves the requests, from 1.
    pub order: Option<u64>,
    /// The seek, in cycles.
    pub seek: Option<u64>,
    /// The rotational wait, in cycles.
    pub rotation: Option<u64>,
    /// The transfer, in cycles.
    pub transfer: Option<u64>,
}

/// One request of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRequest {
    /// The request as the disk receives it.
    pub req: DiskRequest,
    /// A note shown next to it.
    pub note: Option<String>,
    /// The expected answer, if the file grades one.
    pub expect: Option<Expect>,
}

/// A loaded, fully checked requests file.
#[derive(Clone, Debug)]
pub struct DiskFile {
    /// The file name as given.
    pub path: String,
    /// The optional title.
    pub title: Option<String>,
    /// The disk (an image path is already resolved against the file's folder).
    pub config: DiskConfig,
    /// The requests in file order.
    pub requests: Vec<FileRequest>,
}

fn err(path: &str, src: &str, span: Option<Range<usize>>, msg: String) -> ScenarioError {
    ScenarioError {
        path: path.to_string(),
        location: span.map(|s| locate(src, s)),
        message: msg,
        help: None,
    }
}

fn help(mut e: ScenarioError, h: impl Into<String>) -> ScenarioError {
    e.help = Some(h.into());
    e
}

/// Where the key or table a configuration message names (`disk.hdd.rpm = 0; ...`) is.
fn config_span(text: &str, msg: &str) -> Option<Range<usize>> {
    let name: String = msg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let parts: Vec<&str> = name.split('.').filter(|p| !p.is_empty()).collect();
    if parts.first() != Some(&"disk") {
        return header_span(text, "disk");
    }
    // The key, within the text of its table (or anywhere after `[disk]`).
    for split in (1..parts.len()).rev() {
        let table = parts[..split].join(".");
        let key = parts[split];
        if let Some(h) = header_span(text, &table) {
            let body_end = text[h.end..]
                .find("\n[")
                .map_or(text.len(), |i| h.end + i + 1);
            let mut pos = h.end;
            for line in text[h.end..body_end].split_inclusive('\n') {
                let t = line.trim_start();
                let start = pos + (line.len() - t.len());
                pos += line.len();
                if let Some(rest) = t.strip_prefix(key) {
                    if rest.trim_start().starts_with('=') {
                        return Some(start..start + t.trim_end().len());
                    }
                }
                // An inline table: `hdd = { rpm = 0 }` under [disk].
                if let Some(i) = t
                    .find(&format!("{key} ="))
                    .or_else(|| t.find(&format!("{key}=")))
                {
                    let before = t[..i].chars().last();
                    if matches!(before, Some('{' | ' ' | ',')) {
                        return Some(start + i..start + t.trim_end().len());
                    }
                }
            }
            return Some(h);
        }
    }
    header_span(text, "disk")
}

impl DiskFile {
    /// Reads and checks a requests file.
    pub fn load(path: &Path) -> Result<DiskFile, ScenarioError> {
        let (name, text) =
            crate::scenario::read_text(path, "requests file", "programs/disk/ostep.toml")?;
        let mut f = DiskFile::parse(&text, &name)?;
        if let (Some(img), Some(dir)) = (&f.config.image, path.parent()) {
            if img.is_relative() {
                f.config.image = Some(dir.join(img));
            }
        }
        // Open the image once now, so that a missing file is reported here.
        if f.config.image.is_some() {
            Disk::new(f.config.clone()).map_err(|e| {
                err(
                    &name,
                    &text,
                    config_span(&text, "disk.image"),
                    e.to_string(),
                )
            })?;
        }
        Ok(f)
    }

    /// Checks a requests file from its text; `path` names it in error messages. An image
    /// file, if the configuration names one, is not opened here (see [`DiskFile::load`]).
    pub fn parse(text: &str, path: &str) -> Result<DiskFile, ScenarioError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let msg = toml_message(&e, text);
            let mut er = err(path, text, e.span(), msg.clone());
            if msg.contains("unknown scheduler") {
                er = help(
                    er,
                    "or leave `scheduler` out and choose one with --scheduler NAME",
                );
            }
            er
        })?;
        let config = raw.disk.unwrap_or_default();
        let mut probe = config.clone();
        probe.image = None;
        let mut disk = Disk::new(probe).map_err(|e| {
            let msg = e.to_string();
            let inner = msg
                .strip_prefix("invalid disk configuration: ")
                .unwrap_or(&msg);
            err(path, text, config_span(text, inner), msg.clone())
        })?;
        // The textbook keys become the ordinary ones (validated just above).
        let config = config.resolved().unwrap_or(config);
        let hz = config.clock_hz;
        let mut requests = Vec::new();
        let mut ids = std::collections::BTreeMap::new();
        for (i, r) in raw.request.iter().enumerate() {
            let span = r.span();
            let r = r.get_ref();
            let id = r.id.as_ref().map_or(i as u64 + 1, |n| n.get_ref().get());
            if let Some(first) = ids.insert(id, i + 1) {
                let s = r.id.as_ref().map_or(span.clone(), |n| n.span());
                return Err(help(
                    err(path, text, Some(s), format!("request id {id} is used twice")),
                    format!(
                        "request {first} already has id {id}; ids name requests in the report, so give each its own (or leave `id` out)"
                    ),
                ));
            }
            let op = match &r.op {
                None => DiskOp::Read,
                Some(o) => match o.get_ref().to_ascii_lowercase().as_str() {
                    "read" | "r" => DiskOp::Read,
                    "write" | "w" => DiskOp::Write,
                    other => {
                        return Err(err(
                            path,
                            text,
                            Some(o.span()),
                            format!("unknown op `{other}`; write op = \"read\" or \"write\" (or \"r\", \"w\")"),
                        ))
                    }
                },
            };
            let count = r.count.as_ref().map_or(1, |c| c.get_ref().get());
            let at = r.at.as_ref().map_or(0, |t| t.get_ref().cycles(hz));
            let req = DiskRequest {
                id,
                op,
                block: r.block.get_ref().get(),
                count,
                arrival: Cycle(at),
            };
            if let Err(e) = disk.submit(req) {
                let too_large = matches!(e, vmlab_devices::disk::DiskError::TooLarge { .. });
                let s = if count == 0 || too_large {
                    r.count.as_ref().map_or(span.clone(), |c| c.span())
                } else {
                    r.block.span()
                };
                let h = if count == 0 {
                    "count is the number of blocks to move, at least 1".to_string()
                } else if too_large {
                    "give several requests for consecutive blocks instead".to_string()
                } else {
                    format!(
                        "the disk has {} blocks of {} bytes, numbered 0 to {}",
                        disk.blocks(),
                        disk.block_size(),
                        disk.blocks() - 1
                    )
                };
                return Err(help(err(path, text, Some(s), e.to_string()), h));
            }
            requests.push(FileRequest {
                req,
                note: r.note.clone(),
                expect: r.expect.as_ref().map(|e| Expect {
                    order: e.order.map(|n| n.get()),
                    seek: e.seek.map(|t| t.cycles(hz)),
                    rotation: e.rotation.map(|t| t.cycles(hz)),
                    transfer: e.transfer.map(|t| t.cycles(hz)),
                }),
            });
        }
        Ok(DiskFile {
            path: path.to_string(),
            title: raw.title,
            config,
            requests,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Running

/// One simulated run of a file's requests under one scheduler.
#[derive(Clone, Debug)]
pub struct DiskRun {
    /// The scheduler used.
    pub scheduler: Scheduler,
    /// Every request, in the order its service started.
    pub completions: Vec<Completion>,
    /// The disk's counters at the end.
    pub stats: DiskStats,
    /// The counters as (name, value) in their stable order.
    pub stat_list: Vec<(String, u64)>,
    /// The blocks of the disk.
    pub blocks: u64,
    /// Whether faults were injected (`fault_rate > 0`): the reports then say which
    /// requests failed and how.
    pub faults: bool,
}

impl DiskRun {
    /// The time timed-out requests occupied the disk, summed.
    pub fn timeout_cycles(&self) -> u64 {
        self.completions
            .iter()
            .fold(0u64, |a, c| a.saturating_add(c.timeout.0))
    }

    /// The cycle at which the last request finished (0 with no requests).
    pub fn end(&self) -> Cycle {
        self.completions
            .iter()
            .map(|c| c.finish)
            .max()
            .unwrap_or(Cycle(0))
    }
}

/// Builds the file's disk (with `scheduler` instead of the file's, if given), submits every
/// request in arrival order (file order among equals), and runs until all have finished.
pub fn run(file: &DiskFile, scheduler: Option<Scheduler>) -> Result<DiskRun, String> {
    let mut cfg = file.config.clone();
    if let Some(s) = scheduler {
        cfg.scheduler = s;
    }
    let mut disk = Disk::new(cfg).map_err(|e| e.to_string())?;
    let mut reqs: Vec<DiskRequest> = file.requests.iter().map(|r| r.req).collect();
    reqs.sort_by_key(|r| r.arrival);
    for r in reqs {
        disk.submit(r).map_err(|e| e.to_string())?;
    }
    let mut completions = disk.drain();
    completions.sort_by_key(|c| (c.start, c.channel));
    Ok(DiskRun {
        scheduler: disk.scheduler(),
        stats: disk.stats().clone(),
        stat_list: disk.stat_list(),
        blocks: disk.blocks(),
        faults: disk.faults_enabled(),
        completions,
    })
}

/// Each wrong part of the file's expected answers against a run: `(request id, what, expected,
/// got)`, in service order; and how many parts were graded.
pub fn grade(file: &DiskFile, run: &DiskRun) -> (Vec<(u64, &'static str, u64, u64)>, usize) {
    let mut wrong = Vec::new();
    let mut graded = 0;
    for (i, c) in run.completions.iter().enumerate() {
        let Some(e) = file
            .requests
            .iter()
            .find(|r| r.req.id == c.id)
            .and_then(|r| r.expect.as_ref())
        else {
            continue;
        };
        for (what, want, got) in [
            ("order", e.order, i as u64 + 1),
            ("seek", e.seek, c.seek.0),
            ("rotation", e.rotation, c.rotation.0),
            ("transfer", e.transfer, c.transfer.0),
        ] {
            if let Some(w) = want {
                graded += 1;
                if w != got {
                    wrong.push((c.id, what, w, got));
                }
            }
        }
    }
    (wrong, graded)
}

/// Runs the file under every scheduler, in the order of [`Scheduler::ALL`].
pub fn compare(file: &DiskFile) -> Result<Vec<DiskRun>, String> {
    Scheduler::ALL.iter().map(|&s| run(file, Some(s))).collect()
}

// ---------------------------------------------------------------------------------------
// Text

fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn hz_name(hz: u64) -> String {
    for (u, n) in [(1_000_000_000, "GHz"), (1_000_000, "MHz"), (1_000, "kHz")] {
        if hz >= u && hz.is_multiple_of(u) {
            return format!("{} {n}", hz / u);
        }
    }
    format!("{hz} Hz")
}

fn size_name(bytes: u64) -> String {
    for (u, n) in [
        (1u64 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ] {
        if bytes >= u {
            if bytes.is_multiple_of(u) {
                return format!("{} {n}", bytes / u);
            }
            let hundredths = (bytes as u128 * 100 + u as u128 / 2) / u as u128;
            return format!("{}.{:02} {n}", hundredths / 100, hundredths % 100);
        }
    }
    format!("{bytes} bytes")
}

/// A time in display units, with its cycles: `105 ms (105 cycles)`; `0` alone for zero.
fn tc(c: u64, hz: u64) -> String {
    if c == 0 {
        "0".into()
    } else {
        format!("{} ({})", show_cycles(c, hz), plural(c, "cycle"))
    }
}

/// `sum / n` cycles as a duration, exactly to the picosecond before rounding for display.
fn avg_time(sum: u64, n: u64, hz: u64) -> String {
    if n == 0 {
        return "-".into();
    }
    let ps = vmlab_devices::disk::time::cycles_to_ps(sum, hz);
    show_ps((ps + n as u128 / 2) / n as u128)
}

fn blocks_text(block: u64, count: u64) -> String {
    if count == 1 {
        format!("block {block} (1 block)")
    } else {
        format!(
            "blocks {block}..{} ({count} blocks)",
            block.saturating_add(count - 1)
        )
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".into();
    }
    let tenths = (part as u128 * 1000 + whole as u128 / 2) / whole as u128;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn header(file: &DiskFile, disk: &Disk, scheduler: Scheduler, out: &mut String) {
    let cfg = &file.config;
    let hz = cfg.clock_hz;
    if let Some(t) = &file.title {
        let _ = writeln!(out, "  {t}");
    }
    let _ = writeln!(out);
    let bs = cfg.block_size;
    match (&cfg.ssd, cfg.hdd_or_default()) {
        (Some(s), _) => {
            let _ = writeln!(
                out,
                "disk       SSD: {} of {bs} bytes ({}), {}",
                plural(s.blocks, "block"),
                size_name(s.blocks.saturating_mul(bs)),
                plural(s.channels, "channel")
            );
            let _ = writeln!(
                out,
                "latency    read {}, write {}",
                tc(s.read_latency.cycles(hz), hz),
                tc(s.write_latency.cycles(hz), hz)
            );
            let per_block =
                (bs as u128 * hz as u128 + s.bandwidth.0 as u128 / 2) / s.bandwidth.0 as u128;
            let _ = writeln!(
                out,
                "bandwidth  {} per channel: a block moves in {}",
                s.bandwidth,
                tc(per_block as u64, hz)
            );
        }
        (None, Some(h)) => {
            let sectors = h.total_sectors().unwrap_or(0);
            let spb = bs / h.sector_size;
            if h.zones.is_empty() {
                let _ = writeln!(
                    out,
                    "disk       {} x {} x {} of {} bytes = {} ({})",
                    plural(h.cylinders, "cylinder"),
                    plural(h.heads, "head"),
                    plural(h.sectors_per_track, "sector"),
                    h.sector_size,
                    plural(sectors, "sector"),
                    size_name(sectors.saturating_mul(h.sector_size))
                );
            } else {
                let _ = writeln!(
                    out,
                    "disk       {} x {}, zoned, sectors of {} bytes: {} ({})",
                    plural(h.cylinders, "cylinder"),
                    plural(h.heads, "head"),
                    h.sector_size,
                    plural(sectors, "sector"),
                    size_name(sectors.saturating_mul(h.sector_size))
                );
                let mut first = 0u64;
                for (i, z) in h.zones.iter().enumerate() {
                    let last = first + z.cylinders - 1;
                    let cyls = if last == first {
                        format!("cylinder {first}")
                    } else {
                        format!("cylinders {first}-{last}")
                    };
                    let _ = writeln!(
                        out,
                        "           zone {}: {cyls}, {} per track",
                        i + 1,
                        plural(z.sectors_per_track, "sector")
                    );
                    first = last + 1;
                }
            }
            let _ = writeln!(
                out,
                "           {bs}-byte blocks ({} each): {}, 0..{}",
                plural(spb, "sector"),
                plural(disk.blocks(), "block"),
                disk.blocks() - 1
            );
            let p = disk.rotation_cycles().unwrap_or(1);
            let milli_rpm = (60_000u128 * hz as u128 + p as u128 / 2) / p as u128;
            let rpm = if milli_rpm.is_multiple_of(1000) {
                format!("{}", milli_rpm / 1000)
            } else {
                format!("{}.{:03}", milli_rpm / 1000, milli_rpm % 1000)
                    .trim_end_matches('0')
                    .to_string()
            };
            let spt = h.track_sectors(h.start_cylinder);
            let sector = if !h.zones.is_empty() {
                let each: Vec<String> = h
                    .zones
                    .iter()
                    .enumerate()
                    .map(|(i, z)| {
                        let s = z.sectors_per_track;
                        if p.is_multiple_of(s) {
                            format!("zone {}: {}", i + 1, tc(p / s, hz))
                        } else {
                            format!("zone {}: {} or {} cycles", i + 1, p / s, p / s + 1)
                        }
                    })
                    .collect();
                format!(
                    "a sector passes under the head in {} (each zone's sector 0 is centred where zone 1's is)",
                    each.join(", ")
                )
            } else if p.is_multiple_of(spt) {
                format!("a sector passes under the head in {}", tc(p / spt, hz))
            } else {
                format!(
                    "a sector passes under the head in {} or {} cycles (slot k starts at floor(k x {p} / {spt}))",
                    p / spt,
                    p / spt + 1
                )
            };
            let speed = match h.rpm {
                Some(r) => format!("{r} RPM: {} a revolution", tc(p, hz)),
                None => format!("{} a revolution ({rpm} RPM)", tc(p, hz)),
            };
            let _ = writeln!(out, "rotation   {speed}; {sector}");
            if let Some(r) = h.transfer_rate {
                let _ = writeln!(
                    out,
                    "transfer   at the interface rate {r}, not the media rate"
                );
            }
            let seek = |d: u64| disk.seek_cycles(d).unwrap_or(0);
            let t = |x: &Time| tc(x.cycles(hz), hz);
            let curve = match &h.seek {
                SeekCurve::Constant { time } => format!("constant: {} for any distance", t(time)),
                SeekCurve::Linear {
                    settle,
                    per_cylinder,
                } => format!("linear: {} + {} per cylinder", t(settle), t(per_cylinder)),
                SeekCurve::SqrtLinear {
                    settle,
                    sqrt,
                    boundary,
                    long_settle,
                    per_cylinder,
                } => format!(
                    "sqrt-linear: {} + {} x sqrt(d) below {boundary} cylinders, {} + {} x d from there",
                    t(settle),
                    t(sqrt),
                    t(long_settle),
                    t(per_cylinder)
                ),
                SeekCurve::ThreePoint {
                    single,
                    average,
                    full,
                } => format!(
                    "three-point: single {}, average {}, full stroke {}",
                    t(single),
                    t(average),
                    t(full)
                ),
            };
            let full = h.cylinders - 1;
            let mut samples: Vec<String> = [1u64, 10, 100, 1000, 10000]
                .iter()
                .filter(|&&d| d < full)
                .map(|&d| format!("{}: {}", plural(d, "cylinder"), tc(seek(d), hz)))
                .collect();
            if full > 0 {
                samples.push(format!(
                    "full stroke ({}): {}",
                    plural(full, "cylinder"),
                    tc(seek(full), hz)
                ));
            }
            let _ = writeln!(out, "seek       {curve}");
            if !samples.is_empty() {
                let _ = writeln!(out, "           {}", samples.join("; "));
            }
            let _ = writeln!(
                out,
                "heads      switch {}; track skew {}, cylinder skew {}",
                tc(h.head_switch.cycles(hz), hz),
                plural(h.track_skew, "sector"),
                plural(h.cylinder_skew, "sector")
            );
            match h.start_sector {
                Some(x) => {
                    let _ = writeln!(
                        out,
                        "start      arm on cylinder {}, head {}; at cycle 0 the head is {x} sectors past the start of sector 0 of that track (the platter {} into its revolution)",
                        h.start_cylinder,
                        h.start_head,
                        plural(disk.phase_cycles().unwrap_or(0), "cycle")
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "start      arm on cylinder {}, head {}; at cycle 0 the platter is {} degrees ({}) past the start of sector slot 0",
                        h.start_cylinder,
                        h.start_head,
                        h.start_angle,
                        plural(disk.phase_cycles().unwrap_or(0), "cycle")
                    );
                }
            }
        }
        (None, None) => {}
    }
    let _ = writeln!(
        out,
        "controller overhead {} per request",
        tc(cfg.overhead.cycles(hz), hz)
    );
    let tick = if cfg.tick.is_some() {
        "1 tick (the time unit) = "
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "clock      {}: 1 cycle = {tick}{}",
        hz_name(hz),
        show_cycles(1, hz)
    );
    let window = match cfg.window {
        Some(w) => format!(
            "; it chooses among the first {} in arrival order (window {w})",
            plural(w, "waiting request")
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "scheduler  {}: {}{window}",
        scheduler.name(),
        scheduler.description()
    );
    if cfg.faults_enabled() {
        let kinds: Vec<&str> = DiskFault::INJECTABLE
            .iter()
            .filter(|k| cfg.fault_kinds.contains(k))
            .map(|k| k.description())
            .collect();
        let _ = writeln!(
            out,
            "faults     a request fails with probability {} (seed {}): {}",
            cfg.fault_rate,
            cfg.fault_seed,
            kinds.join(", ")
        );
        if cfg.fault_kinds.contains(&DiskFault::Timeout) {
            let _ = writeln!(
                out,
                "           a timed-out request occupies the disk for {}",
                tc(cfg.timeout.cycles(hz), hz)
            );
        }
    }
}

/// What happened to a failed request, for the text report.
fn failure_text(c: &Completion, hz: u64) -> Option<String> {
    Some(match c.fault? {
        DiskFault::Timeout => format!(
            "FAILED: timed out after {}; no data moved",
            show_cycles(c.timeout.0, hz)
        ),
        f => format!(
            "FAILED: {} after its full service time; no data moved",
            f.description()
        ),
    })
}

/// The text report of one run: the disk, every request in service order with its time
/// split, the totals, and the non-zero counters.
pub fn human(file: &DiskFile, run: &DiskRun) -> String {
    let mut out = String::new();
    let hz = file.config.clock_hz;
    let _ = writeln!(out, "vmlab disk {}", file.path);
    let mut cfg = file.config.clone();
    cfg.image = None;
    cfg.scheduler = run.scheduler;
    let Ok(disk) = Disk::new(cfg) else {
        return out;
    };
    header(file, &disk, run.scheduler, &mut out);
    let ssd = disk.is_ssd();
    // With a textbook time unit, a cycle is a tick.
    let word = if file.config.tick.is_some() {
        "ticks"
    } else {
        "cycles"
    };
    let _ = writeln!(out);
    if run.completions.is_empty() {
        let _ = writeln!(out, "no requests");
    } else {
        let _ = writeln!(out, "requests in the order the disk served them");
    }
    for (i, c) in run.completions.iter().enumerate() {
        let note = file
            .requests
            .iter()
            .find(|r| r.req.id == c.id)
            .and_then(|r| r.note.as_deref());
        let place = match c.position {
            Some(p) => format!(
                ", cylinder {} head {} sector {}",
                p.cylinder, p.head, p.sector
            ),
            None if ssd => format!(", channel {}", c.channel),
            None => String::new(),
        };
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "[{}] {} {}{place} (request {})",
            i + 1,
            c.op,
            blocks_text(c.block, c.count),
            c.id
        );
        if let Some(n) = note {
            let _ = writeln!(out, "    # {n}");
        }
        if let Some(f) = failure_text(c, hz) {
            let _ = writeln!(out, "    {f}");
        }
        let _ = writeln!(
            out,
            "    arrived {}, started {}, finished {} (cycles {}, {}, {})",
            show_cycles(c.arrival.0, hz),
            show_cycles(c.start.0, hz),
            show_cycles(c.finish.0, hz),
            c.arrival,
            c.start,
            c.finish
        );
        let parts: Vec<(&str, u64)> = if c.fault == Some(DiskFault::Timeout) {
            vec![("timeout", c.timeout.0)]
        } else if ssd {
            vec![
                ("overhead", c.overhead.0),
                ("latency", c.latency.0),
                ("transfer", c.transfer.0),
            ]
        } else {
            vec![
                ("overhead", c.overhead.0),
                ("seek", c.seek.0),
                ("rotation", c.rotation.0),
                ("transfer", c.transfer.0),
            ]
        };
        let times: Vec<String> = parts
            .iter()
            .map(|(n, v)| format!("{n} {}", show_cycles(*v, hz)))
            .collect();
        let _ = writeln!(
            out,
            "    queue {} | {} = service {}",
            show_cycles(c.queue.0, hz),
            times.join(" + "),
            show_cycles(c.service().0, hz)
        );
        let cyc: Vec<String> = parts.iter().map(|(_, v)| v.to_string()).collect();
        let arm = if ssd {
            String::new()
        } else if c.fault == Some(DiskFault::Timeout) {
            "; the arm did not move".to_string()
        } else {
            format!("; the arm moved {}", plural(c.seek_distance, "cylinder"))
        };
        let _ = writeln!(
            out,
            "    {word} {} | {} = {}{arm}",
            c.queue,
            cyc.join(" + "),
            c.service()
        );
    }
    totals(run, ssd, hz, word, &mut out);
    let _ = writeln!(out);
    let _ = writeln!(out, "statistics (non-zero counters)");
    let w = run
        .stat_list
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, value) in run.stat_list.iter().filter(|(_, v)| *v != 0) {
        let _ = writeln!(out, "  {name:<w$}  {value}");
    }
    out
}

fn totals(run: &DiskRun, ssd: bool, hz: u64, word: &str, out: &mut String) {
    let s = &run.stats;
    let all = s.all();
    let end = run.end().0;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "totals     {} ({} read{}, {} write{}) moving {}; the last finished at {} (cycle {end})",
        plural(all.requests, "request"),
        s.read.requests,
        if s.read.requests == 1 { "" } else { "s" },
        s.write.requests,
        if s.write.requests == 1 { "" } else { "s" },
        plural(all.blocks, "block"),
        show_cycles(end, hz)
    );
    let mut parts: Vec<(&str, u64)> = if ssd {
        vec![
            ("overhead", s.overhead_cycles),
            ("latency", s.latency_cycles),
            ("transfer", s.transfer_cycles),
        ]
    } else {
        vec![
            ("overhead", s.overhead_cycles),
            ("seek", s.seek_cycles),
            ("rotation", s.rotation_cycles),
            ("transfer", s.transfer_cycles),
        ]
    };
    let timeouts = run.timeout_cycles();
    if timeouts > 0 {
        parts.push(("timeout", timeouts));
    }
    let times: Vec<String> = parts
        .iter()
        .map(|(n, v)| format!("{n} {}", show_cycles(*v, hz)))
        .collect();
    let _ = writeln!(
        out,
        "           queue {} | {} = service {}",
        show_cycles(all.queue_cycles, hz),
        times.join(" + "),
        show_cycles(all.service_cycles, hz)
    );
    let cyc: Vec<String> = parts.iter().map(|(_, v)| v.to_string()).collect();
    let _ = writeln!(
        out,
        "           {word} {} | {} = {}",
        all.queue_cycles,
        cyc.join(" + "),
        all.service_cycles
    );
    for (name, o) in [("all", &all), ("reads", &s.read), ("writes", &s.write)] {
        if o.requests == 0 || (name != "all" && o.requests == all.requests) {
            continue;
        }
        let _ = writeln!(
            out,
            "{:<10} service average {}, max {}; queueing average {}, max {}; response average {}",
            if name == "all" { "" } else { name },
            avg_time(o.service_cycles, o.requests, hz),
            show_cycles(o.service_max, hz),
            avg_time(o.queue_cycles, o.requests, hz),
            show_cycles(o.queue_max, hz),
            avg_time(
                o.service_cycles.saturating_add(o.queue_cycles),
                o.requests,
                hz
            ),
        );
    }
    let _ = writeln!(
        out,
        "           busy {} of {} ({})",
        show_cycles(s.busy_cycles, hz),
        show_cycles(end, hz),
        percent(s.busy_cycles, end)
    );
    if run.faults {
        let f = &s.faults;
        let _ = writeln!(
            out,
            "failed     {} of {}: {}, {}, {}",
            f.total(),
            plural(all.requests, "request"),
            plural(f.read, "read error"),
            plural(f.write, "write error"),
            plural(f.timeout, "timeout")
        );
    }
}

/// The text report of [`compare`]: one row per scheduler, then each one's service order.
pub fn human_compare(file: &DiskFile, runs: &[DiskRun]) -> String {
    let mut out = String::new();
    let hz = file.config.clock_hz;
    let _ = writeln!(out, "vmlab disk {} --compare", file.path);
    let mut cfg = file.config.clone();
    cfg.image = None;
    let Ok(disk) = Disk::new(cfg) else {
        return out;
    };
    let sched = file.config.scheduler;
    header(file, &disk, sched, &mut out);
    let _ = writeln!(
        out,
        "\nevery scheduler on the same {} (the file's is marked *)\n",
        plural(file.requests.len() as u64, "request")
    );
    let faults = runs.iter().any(|r| r.faults);
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let all = r.stats.all();
            let mut row = vec![
                format!(
                    "{}{}",
                    r.scheduler.name(),
                    if r.scheduler == sched { " *" } else { "" }
                ),
                show_cycles(r.end().0, hz),
                avg_time(
                    all.service_cycles.saturating_add(all.queue_cycles),
                    all.requests,
                    hz,
                ),
                show_cycles(
                    r.completions
                        .iter()
                        .map(|c| c.response().0)
                        .max()
                        .unwrap_or(0),
                    hz,
                ),
                show_cycles(r.stats.seek_cycles, hz),
                show_cycles(r.stats.rotation_cycles, hz),
                r.stats.seek_distance.to_string(),
            ];
            if faults {
                row.push(r.stats.faults.total().to_string());
            }
            row
        })
        .collect();
    let mut head = vec![
        "scheduler",
        "last finish",
        "avg response",
        "max response",
        "seek",
        "rotation",
        "cylinders",
    ];
    if faults {
        head.push("failed");
    }
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut l = format!("{:<w$}", cells[0], w = w[0]);
        for (i, c) in cells.iter().enumerate().skip(1) {
            let pad = w[i] - c.chars().count();
            let _ = write!(l, "  {}{c}", " ".repeat(pad));
        }
        l
    };
    let head: Vec<String> = head.into_iter().map(String::from).collect();
    let _ = writeln!(out, "{}", line(&head));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    if faults {
        let _ = writeln!(
            out,
            "\nservice order (request ids; ! marks a failed request: the same ones under every scheduler)"
        );
    } else {
        let _ = writeln!(out, "\nservice order (request ids)");
    }
    for r in runs {
        let ids: Vec<String> = r
            .completions
            .iter()
            .map(|c| format!("{}{}", c.id, if c.failed() { "!" } else { "" }))
            .collect();
        let _ = writeln!(out, "  {:<7} {}", r.scheduler.name(), ids.join(" "));
    }
    out
}

// ---------------------------------------------------------------------------------------
// JSON

#[derive(Serialize)]
struct JsonRequest<'a> {
    order: usize,
    id: u64,
    op: DiskOp,
    block: u64,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cylinder: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sector: Option<u64>,
    channel: u64,
    arrival: Cycle,
    start: Cycle,
    finish: Cycle,
    queue: Cycle,
    overhead: Cycle,
    latency: Cycle,
    seek: Cycle,
    rotation: Cycle,
    transfer: Cycle,
    service: Cycle,
    seek_distance: u64,
    /// With faults on: the time a timed-out request occupied the disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<Cycle>,
    /// With faults on: `null`, or how the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<Option<DiskFault>>,
}

#[derive(Serialize)]
struct JsonTotals<'a> {
    requests: u64,
    end: Cycle,
    queue: u64,
    overhead: u64,
    latency: u64,
    seek: u64,
    rotation: u64,
    transfer: u64,
    service: u64,
    busy: u64,
    /// With faults on: the time timed-out requests occupied the disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u64>,
    /// With faults on: the failed requests by kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<&'a FaultStats>,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    scheduler: Scheduler,
    config: &'a DiskConfig,
    blocks: u64,
    requests: Vec<JsonRequest<'a>>,
    totals: JsonTotals<'a>,
    stats: serde_json::Map<String, serde_json::Value>,
}

fn json_run<'a>(file: &'a DiskFile, run: &'a DiskRun) -> JsonRun<'a> {
    let s = &run.stats;
    let all = s.all();
    JsonRun {
        file: &file.path,
        title: file.title.as_deref(),
        scheduler: run.scheduler,
        config: &file.config,
        blocks: run.blocks,
        requests: run
            .completions
            .iter()
            .enumerate()
            .map(|(i, c)| JsonRequest {
                order: i + 1,
                id: c.id,
                op: c.op,
                block: c.block,
                count: c.count,
                note: file
                    .requests
                    .iter()
                    .find(|r| r.req.id == c.id)
                    .and_then(|r| r.note.as_deref()),
                cylinder: c.position.map(|p| p.cylinder),
                head: c.position.map(|p| p.head),
                sector: c.position.map(|p| p.sector),
                channel: c.channel,
                arrival: c.arrival,
                start: c.start,
                finish: c.finish,
                queue: c.queue,
                overhead: c.overhead,
                latency: c.latency,
                seek: c.seek,
                rotation: c.rotation,
                transfer: c.transfer,
                service: c.service(),
                seek_distance: c.seek_distance,
                timeout: run.faults.then_some(c.timeout),
                fault: run.faults.then_some(c.fault),
            })
            .collect(),
        totals: JsonTotals {
            requests: all.requests,
            end: run.end(),
            queue: all.queue_cycles,
            overhead: s.overhead_cycles,
            latency: s.latency_cycles,
            seek: s.seek_cycles,
            rotation: s.rotation_cycles,
            transfer: s.transfer_cycles,
            service: all.service_cycles,
            busy: s.busy_cycles,
            timeout: run.faults.then(|| run.timeout_cycles()),
            failed: run.faults.then_some(&s.faults),
        },
        stats: run
            .stat_list
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(*v)))
            .collect(),
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    s.push('\n');
    s
}

/// The JSON report of one run: the configuration, every request (in service order, all
/// times in cycles), the totals and every counter.
pub fn json(file: &DiskFile, run: &DiskRun) -> String {
    to_json(&json_run(file, run))
}

/// The JSON report of [`compare`]: one run per scheduler, as [`json`] gives it.
pub fn json_compare(file: &DiskFile, runs: &[DiskRun]) -> String {
    #[derive(Serialize)]
    struct Compare<'a> {
        file: &'a str,
        runs: Vec<JsonRun<'a>>,
    }
    to_json(&Compare {
        file: &file.path,
        runs: runs.iter().map(|r| json_run(file, r)).collect(),
    })
}

/// Feeds arbitrary bytes through the requests-file loader and, when it loads, through a run
/// and both reports. Never panics.
pub fn check_requests_bytes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = DiskFile::parse(text, "fuzz.toml") {
            if f.requests.len() <= 64 {
                if let Ok(r) = run(&f, None) {
                    let _ = human(&f, &r);
                    let _ = json(&f, &r);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The command

/// Runs `vmlab disk`: loads the file, runs it (or every scheduler with `compare`), prints
/// the report, writes the pictures (`report`: an HTML page; `svg`: a folder of SVG files) of
/// the runs printed, and returns the exit code (2 for bad input or a report that cannot be
/// written, 1 for a wrong expected answer).
pub fn main(
    path: &Path,
    json_out: bool,
    scheduler: Option<&str>,
    compare_all: bool,
    report: Option<&Path>,
    svg: Option<&Path>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    let input = ExitCode::from(crate::cli::EXIT_INPUT);
    let sched = match scheduler.map(Scheduler::from_name).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --scheduler: {e}");
            return input;
        }
    };
    let file = match DiskFile::load(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return input;
        }
    };
    let runs = if compare_all {
        compare(&file)
    } else {
        run(&file, sched).map(|r| vec![r])
    };
    let runs = match runs {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", file.path);
            return input;
        }
    };
    let pictures = || -> Result<(), String> {
        if report.is_none() && svg.is_none() {
            return Ok(());
        }
        let page = crate::pictures::disk::page(&file, &runs);
        crate::pictures::html::write_outputs(&page, report, svg)
    };
    if compare_all {
        let text = if json_out {
            json_compare(&file, &runs)
        } else {
            human_compare(&file, &runs)
        };
        let code = crate::cli::write_out(&text);
        if code != ExitCode::SUCCESS {
            return code;
        }
        if let Err(e) = pictures() {
            eprintln!("error: {e}");
            return input;
        }
        return ExitCode::SUCCESS;
    }
    let Some(r) = runs.first() else {
        return input;
    };
    let (wrong, graded) = grade(&file, r);
    let mut text = if json_out {
        json(&file, r)
    } else {
        human(&file, r)
    };
    if graded > 0 && !json_out {
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "expect     {} of {graded} expected answers right",
            graded - wrong.len()
        );
        for (id, what, want, got) in &wrong {
            let _ = writeln!(
                text,
                "           WRONG: request {id}: {what} expected {want}, the disk gives {got}"
            );
        }
    }
    let code = crate::cli::write_out(&text);
    if code != ExitCode::SUCCESS {
        return code;
    }
    if let Err(e) = pictures() {
        eprintln!("error: {e}");
        return input;
    }
    if !wrong.is_empty() {
        for (id, what, want, got) in &wrong {
            eprintln!(
                "error: {}: request {id}: {what} expected {want}, the disk gives {got}",
                file.path
            );
        }
        return ExitCode::from(crate::cli::EXIT_EXPECT);
    }
    ExitCode::SUCCESS
}
