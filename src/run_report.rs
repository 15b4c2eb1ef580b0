//! What `vmlab run` reports after a run: the short headline of `--stats` (what ran, the
//! time, the faults, the hit rates, one line per process), the full table of `--stats full`
//! (every counter under the dotted name `--stats json` uses), and the progress line a long
//! run shows on a terminal.

use std::time::Duration;

/// What ran, for the headline: the facts that are not counters.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The programs' names, in order.
    pub programs: Vec<String>,
    /// Hosted (under the kernel): the scheme, the policy and the frames settings; `None` on
    /// the bare machine.
    pub hosted: Option<HostedInfo>,
    /// The clock, in Hz (`memory.diskctl.disk.clock_hz`), to turn cycles into time.
    pub clock_hz: u64,
    /// How the run ended, in words (as `"stop"` in JSON).
    pub stop: String,
    /// The processes, in pid order (empty on the bare machine).
    pub processes: Vec<ProcInfo>,
}

/// The kernel's settings a headline names.
#[derive(Clone, Debug, Default)]
pub struct HostedInfo {
    /// `os.scheme`.
    pub scheme: String,
    /// `os.policy`.
    pub policy: String,
    /// `os.user_frames` (0: all of RAM).
    pub user_frames: u64,
    /// `os.frames_per_process` (0: global replacement).
    pub frames_per_process: u64,
}

/// One process, for its headline line.
#[derive(Clone, Debug)]
pub struct ProcInfo {
    /// Its pid (its counters are `os.proc.PID.*`).
    pub pid: u64,
    /// Its program's name.
    pub name: String,
    /// How it ended: `exited 0`, `killed by SIGSEGV (...)`, `did not finish (running)`.
    pub end: String,
    /// For a thread (a task of another's thread group): the process's pid.
    pub thread_of: Option<u64>,
}

/// The most process lines a headline shows; the others are counted in one line.
const MAX_PROCESS_LINES: usize = 8;

/// A value of `stats` by name (0 when absent).
fn stat(stats: &[(String, u64)], name: &str) -> u64 {
    stats.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
}

/// The sum of the counters whose names start with `prefix`.
fn sum_prefix(stats: &[(String, u64)], prefix: &str) -> u64 {
    stats
        .iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

/// `n` cycles as time at `hz`, in the unit that suits it (`2.077 s`, `384 ns`).
pub fn modelled_time(cycles: u64, hz: u64) -> String {
    let s = cycles as f64 / hz.max(1) as f64;
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.3} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

/// A clock rate in words: `1 GHz`, `100 MHz`, `1000 Hz`.
fn rate(hz: u64) -> String {
    for (u, n) in [(1_000_000_000, "GHz"), (1_000_000, "MHz"), (1_000, "kHz")] {
        if hz >= u && hz.is_multiple_of(u) {
            return format!("{} {n}", hz / u);
        }
    }
    format!("{hz} Hz")
}

/// `n thing` or `n things`, as `n` asks (`1 page`, `2 pages`, `1 process`, `0 processes`).
fn plural(n: u64, thing: &str) -> String {
    match (n, thing.ends_with('s')) {
        (1, _) => format!("1 {thing}"),
        (_, true) => format!("{n} {thing}es"),
        _ => format!("{n} {thing}s"),
    }
}

/// `bytes` in KiB: whole, or with one decimal.
fn kib(bytes: u64) -> String {
    if bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// `part` of `whole` as a percentage with one decimal.
fn percent(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// The hit rates of the units of `units` (label, counter prefix) that saw any access:
/// `iTLB 92.7% of 274`.
fn hit_rates(stats: &[(String, u64)], units: &[(&str, &str)]) -> Option<String> {
    let parts: Vec<String> = units
        .iter()
        .filter_map(|(label, prefix)| {
            let hits = sum_prefix(stats, &format!("{prefix}.hits."));
            let misses = sum_prefix(stats, &format!("{prefix}.misses."));
            (hits + misses > 0).then(|| {
                format!(
                    "{label} {} of {}",
                    percent(hits, hits + misses),
                    hits + misses
                )
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The headline: a dozen lines that say what ran and how it went, before any counter.
pub fn headline(stats: &[(String, u64)], info: &RunInfo) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| lines.push((k.to_string(), v));
    let cycles = stat(stats, "cycles");
    let insns = stat(stats, "instret");
    let what = match &info.hosted {
        None => "the bare machine".to_string(),
        Some(h) => {
            let mut w = format!("hosted, scheme {}", h.scheme);
            if matches!(h.scheme.as_str(), "vm-paging" | "vm-segmentation") {
                w.push_str(&format!(", policy {}", h.policy));
            }
            let frames = stat(stats, "os.paging.frames");
            if frames > 0 {
                w.push_str(&format!(", {frames} user frames"));
            } else if h.user_frames > 0 {
                w.push_str(&format!(", {} user frames", h.user_frames));
            }
            if h.frames_per_process > 0 {
                w.push_str(&format!(" ({} per process)", h.frames_per_process));
            }
            w
        }
    };
    add("ran", format!("{}: {what}", info.programs.join(", ")));
    add("ended", info.stop.clone());
    add(
        "time",
        format!(
            "{cycles} cycles = {} at {}",
            modelled_time(cycles, info.clock_hz),
            rate(info.clock_hz)
        ),
    );
    let ipc = match (cycles, insns) {
        (0, _) | (_, 0) => String::new(),
        _ => {
            let ipc = insns as f64 / cycles as f64;
            if ipc >= 0.01 {
                format!(", IPC {ipc:.3}")
            } else {
                // Mostly waiting: the cycles per instruction say it better.
                format!(", IPC {ipc:.1e} (CPI {:.1})", cycles as f64 / insns as f64)
            }
        }
    };
    add("instructions", format!("{insns}{ipc}"));
    if info.hosted.is_some() {
        let (minor, major, ad) = (
            stat(stats, "os.faults.minor"),
            stat(stats, "os.faults.major"),
            stat(stats, "os.faults.ad"),
        );
        add(
            "faults",
            format!(
                "{} ({minor} minor, {major} major), {}, {} killed",
                plural(minor + major, "page fault"),
                plural(ad, "A/D-bit fault"),
                plural(stat(stats, "os.processes.killed"), "process"),
            ),
        );
    } else {
        add(
            "traps",
            format!(
                "{} ({} translation faults)",
                stat(stats, "pipeline.traps"),
                sum_prefix(stats, "mmu.faults.")
            ),
        );
    }
    if let Some(t) = hit_rates(
        stats,
        &[
            ("iTLB", "mmu.itlb"),
            ("dTLB", "mmu.dtlb"),
            ("L2 TLB", "mmu.l2tlb"),
        ],
    ) {
        add("TLB hits", t);
    }
    if let Some(t) = hit_rates(
        stats,
        &[
            ("L1I", "cache.l1i"),
            ("L1D", "cache.l1d"),
            ("L2", "cache.l2"),
        ],
    ) {
        add("cache hits", t);
    }
    if info.hosted.is_some() && cycles > 0 {
        let idle = stat(stats, "os.idle_cycles");
        add(
            "CPU idle",
            format!(
                "{} of the cycles ({idle}), waiting for the disk",
                percent(idle, cycles)
            ),
        );
    }
    for p in info.processes.iter().take(MAX_PROCESS_LINES) {
        let n = |k: &str| stat(stats, &format!("os.proc.{}.{k}", p.pid));
        let (minor, major) = (n("faults.minor"), n("faults.major"));
        let mut line = format!(
            "{}: {}; {}",
            p.name,
            p.end,
            plural(n("instret"), "instruction")
        );
        if minor + major > 0 {
            line.push_str(&format!(
                ", {} ({minor} minor, {major} major)",
                plural(minor + major, "page fault")
            ));
        }
        if n("working_set_peak") > 0 {
            line.push_str(&format!(
                ", working set peak {}",
                plural(n("working_set_peak"), "page")
            ));
        }
        if n("rss_peak") > 0 {
            // As it ended (or when the run stopped), and the most measured (docs/os.md).
            line.push_str(&format!(
                "; at the end RSS {}, PSS {}, USS {} (peak RSS {}, PSS {})",
                kib(n("rss")),
                kib(n("pss")),
                kib(n("uss")),
                kib(n("rss_peak")),
                kib(n("pss_peak"))
            ));
        }
        match p.thread_of {
            Some(tgid) => add(
                &format!("thread {}", p.pid),
                format!("of process {tgid}, {line}"),
            ),
            None => add(&format!("process {}", p.pid), line),
        }
    }
    if info.processes.len() > MAX_PROCESS_LINES {
        add(
            "processes",
            format!(
                "{} more (their os.proc.N.* counters are in --stats full)",
                info.processes.len() - MAX_PROCESS_LINES
            ),
        );
    }
    let mut s = String::from("summary\n");
    for (k, v) in lines {
        s.push_str(&format!("  {k:<14}{v}\n"));
    }
    s
}

/// The width of the name column of the full table.
const NAME_WIDTH: usize = 40;

/// The full table: every counter of `stats` (zeros too), one a line, under the dotted name
/// `--stats json` uses and with the same value, in the same order: `cycles`, `instret`,
/// `ipc`, `stop` and `exit_code`, then the units' counters.
pub fn counters_table(stats: &[(String, u64)], stop: Option<(&str, u8)>) -> String {
    let mut s = String::new();
    let mut row = |name: &str, value: &dyn std::fmt::Display| {
        // A name as long as the column still gets a space before its value.
        s.push_str(&format!("{name:<w$} {value}\n", w = NAME_WIDTH - 1));
    };
    for (n, v) in stats.iter().take(2) {
        row(n, v);
    }
    let (cycles, insns) = (stat(stats, "cycles"), stat(stats, "instret"));
    let ipc = if cycles == 0 {
        0.0
    } else {
        insns as f64 / cycles as f64
    };
    row("ipc", &ipc);
    if let Some((why, code)) = stop {
        row("stop", &why);
        row("exit_code", &code);
    }
    for (n, v) in stats.iter().skip(2) {
        row(n, v);
    }
    s
}

/// How long a run goes before its progress line appears.
pub const PROGRESS_AFTER: Duration = Duration::from_secs(2);

/// The progress line after `elapsed` host time with `insns` instructions retired and the
/// clock at `cycles`, or `None` while the run is younger than [`PROGRESS_AFTER`].
pub fn progress_line(elapsed: Duration, insns: u64, cycles: u64) -> Option<String> {
    if elapsed < PROGRESS_AFTER {
        return None;
    }
    let mips = insns as f64 / elapsed.as_secs_f64() / 1e6;
    Some(format!(
        "running: {insns} instructions, {cycles} cycles, {mips:.1} MIPS ({:.0} s)",
        elapsed.as_secs_f64()
    ))
}

/// The progress line of a long run on a terminal (stderr): it appears after
/// [`PROGRESS_AFTER`], is redrawn a few times a second, and is cleared before anything else
/// is written to the terminal and before the final report. It reads the counters and the
/// host clock, and never changes the model.
pub struct Progress {
    /// The start of the run (host time).
    start: std::time::Instant,
    /// The line, once shown; `None` when stderr is no terminal.
    bar: Option<indicatif::ProgressBar>,
    /// Whether the progress line is wanted at all.
    enabled: bool,
    /// When the line was last redrawn.
    last: Option<std::time::Instant>,
}

impl Progress {
    /// A progress line for a run starting now, shown only when `enabled` (stderr is a
    /// terminal: [`Progress::for_stderr`]).
    pub fn new(enabled: bool) -> Progress {
        Progress {
            start: std::time::Instant::now(),
            bar: None,
            enabled,
            last: None,
        }
    }

    /// A progress line shown only when stderr is a terminal.
    pub fn for_stderr() -> Progress {
        use std::io::IsTerminal;
        Progress::new(std::io::stderr().is_terminal())
    }

    /// Called between chunks of the run (every few thousand instructions): redraws the line
    /// at most four times a second once the run is old enough.
    pub fn tick(&mut self, insns: u64, cycles: u64) {
        if !self.enabled {
            return;
        }
        let now = std::time::Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < Duration::from_millis(250))
        {
            return;
        }
        let Some(line) = progress_line(now.duration_since(self.start), insns, cycles) else {
            return;
        };
        self.last = Some(now);
        let bar = self.bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b
        });
        bar.set_message(line);
        bar.tick();
    }

    /// Runs `f` (which writes to the terminal) with the line cleared, then redraws it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Clears the line for good (before the final report).
    pub fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_waits_two_seconds() {
        assert_eq!(progress_line(Duration::from_millis(1999), 5, 9), None);
        assert_eq!(
            progress_line(Duration::from_secs(4), 20_000_000, 90_000_000).as_deref(),
            Some("running: 20000000 instructions, 90000000 cycles, 5.0 MIPS (4 s)")
        );
    }

    #[test]
    fn progress_off_without_a_terminal() {
        let mut p = Progress::new(false);
        p.start -= Duration::from_secs(10);
        p.tick(1, 1);
        assert!(p.bar.is_none() && p.last.is_none());
    }

    #[test]
    fn modelled_time_units() {
        assert_eq!(modelled_time(2_076_562_972, 1_000_000_000), "2.077 s");
        assert_eq!(modelled_time(384, 1_000_000_000), "384 ns");
        assert_eq!(modelled_time(17_704_511, 1_000_000_000), "17.705 ms");
        assert_eq!(rate(1_000_000_000), "1 GHz");
        assert_eq!(rate(1000), "1 kHz");
        assert_eq!(plural(1, "page"), "1 page");
        assert_eq!(plural(0, "process"), "0 processes");
        assert_eq!(plural(3, "page fault"), "3 page faults");
    }

    #[test]
    fn table_names_every_counter() {
        let stats = vec![
            ("cycles".to_string(), 10),
            ("instret".to_string(), 5),
            ("mmu.itlb.hits.fetch".to_string(), 0),
        ];
        let t = counters_table(&stats, Some(("done", 0)));
        assert!(
            t.contains("\nmmu.itlb.hits.fetch                     0\n"),
            "{t}"
        );
        assert!(
            t.contains("\nipc                                     0.5\n"),
            "{t}"
        );
    }
}
