//! `vmlab run PROGRAM...`: load ELFs (or assemble `.s` files), run them as processes under
//! the kernel (hosted) or one on the bare machine, stream the output, and report why the
//! run stopped and, on request, every statistic.

use crate::machine::{apply_set_all, Machine, MachineConfig, MachineError, Stop};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use vmlab_cpu::elf::Elf;

/// How `--stats` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// The headline: what ran, the time, the faults, the hit rates, each process.
    Text,
    /// The headline, then every counter under its dotted name (as JSON names it), then the
    /// timeline.
    Full,
    /// One JSON object keyed by the dotted names.
    Json,
}

/// The options of `vmlab run`.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The machine file.
    pub machine: Option<PathBuf>,
    /// `key=value` overrides, in order.
    pub sets: Vec<String>,
    /// `--max-insns`.
    pub max_insns: Option<u64>,
    /// `--max-cycles`.
    pub max_cycles: Option<u64>,
    /// `--stats`.
    pub stats: Option<StatsFormat>,
    /// `--stats-file FILE`: the statistics written to FILE (JSON when it ends in `.json`).
    pub stats_file: Option<PathBuf>,
    /// `--log-commits FILE`.
    pub log_commits: Option<PathBuf>,
    /// `--bare`.
    pub bare: bool,
    /// `--hosted`.
    pub hosted: bool,
    /// `--trace FILE` (hosted runs).
    pub trace: Option<PathBuf>,
    /// `--report FILE.html` (hosted runs).
    pub report: Option<PathBuf>,
    /// `--svg DIR` (hosted runs).
    pub svg: Option<PathBuf>,
    /// `--moments N`: the most moments the report's slider offers (0: the default, 120).
    pub moments: usize,
    /// `--file NAME=PATH`, in order.
    pub files: Vec<String>,
    /// The arguments after `--`, given to every hosted program after its `argv[0]`.
    pub args: Vec<String>,
    /// `--env NAME=VALUE`, in order: the hosted programs' environment.
    pub env: Vec<String>,
    /// `--strict-syscalls`: a system call the kernel does not serve kills the process.
    pub strict_syscalls: bool,
    /// `--memcheck`: the memory checker (sets `os.memcheck`).
    pub memcheck: bool,
    /// `--memcheck-exit N`: the exit status when the checker found errors.
    pub memcheck_exit: Option<u8>,
    /// `--mount HOST:GUEST[:rw]`, in order.
    pub mounts: Vec<String>,
    /// `--sysroot DIR`: the interpreter and libraries of dynamically linked programs, seen
    /// by the guest at `/`.
    pub sysroot: Option<PathBuf>,
    /// `--cwd GUEST`.
    pub cwd: Option<String>,
}

/// Reads the `--mount HOST:GUEST[:rw]` options: host folder, guest path, writable.
pub fn parse_mounts(specs: &[String]) -> Result<Vec<(PathBuf, String, bool)>, String> {
    let mut out = Vec::new();
    for spec in specs {
        let (rest, rw) = match spec.strip_suffix(":rw") {
            Some(r) => (r, true),
            None => (spec.strip_suffix(":ro").unwrap_or(spec), false),
        };
        let Some((host, guest)) = rest.rsplit_once(':') else {
            return Err(format!(
                "--mount {spec}: give the host folder and the guest path, as HOST:GUEST or HOST:GUEST:rw (e.g. --mount programs/linux/data:/data)"
            ));
        };
        if host.is_empty() || !guest.starts_with('/') {
            return Err(format!(
                "--mount {spec}: the guest path must be absolute (start with /), and the host folder given"
            ));
        }
        out.push((PathBuf::from(host), guest.to_string(), rw));
    }
    Ok(out)
}

/// Reads the `--file NAME=PATH` options: each file's name and bytes.
pub fn read_files(specs: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for spec in specs {
        let Some((name, path)) = spec.split_once('=') else {
            return Err(format!(
                "--file {spec}: give the name processes open and the host file, as NAME=PATH (e.g. --file data=programs/os/data.txt)"
            ));
        };
        if name.is_empty() || name.contains('/') {
            return Err(format!(
                "--file {spec}: the name {name:?} must be a plain file name (no '/')"
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("--file {spec}: the name {name:?} is given twice"));
        }
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("--file {spec}: no such file {path}"),
            _ => format!("--file {spec}: cannot read {path}: {e}"),
        })?;
        out.push((name.to_string(), bytes));
    }
    Ok(out)
}

/// Which machine a program runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The bare machine: M-mode, the program handles its own traps.
    Bare,
    /// Under the kernel, as a process.
    Hosted,
}

/// Set by SIGINT (Ctrl-C) once [`catch_interrupts`] has run: the run loops end the run
/// cleanly between chunks of instructions.
static INTERRUPTED: std::sync::OnceLock<std::sync::Arc<AtomicBool>> = std::sync::OnceLock::new();

/// From now on Ctrl-C (SIGINT) ends `vmlab run` cleanly: the loop stops at its next check,
/// and the report so far, the statistics asked for and the stop reason `interrupted` follow
/// (exit status 130). A second Ctrl-C before the loop has seen the first ends vmlab at once.
/// When the handler cannot be installed, Ctrl-C keeps its default effect.
pub fn catch_interrupts() {
    INTERRUPTED.get_or_init(|| {
        use signal_hook::consts::SIGINT;
        let flag = std::sync::Arc::new(AtomicBool::new(false));
        // Registered first, so it sees the flag as the earlier Ctrl-C left it.
        let _ = signal_hook::flag::register_conditional_shutdown(
            SIGINT,
            i32::from(crate::hosted::EXIT_INTERRUPTED),
            std::sync::Arc::clone(&flag),
        );
        let _ = signal_hook::flag::register(SIGINT, std::sync::Arc::clone(&flag));
        flag
    });
}

/// Whether the user has pressed Ctrl-C since [`catch_interrupts`].
fn interrupted() -> bool {
    INTERRUPTED
        .get()
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
}

/// The line that says the user interrupted the run, and where it was.
fn interrupted_line(stats: &[(String, u64)]) -> String {
    let first = |name: &str| stats.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
    format!(
        "interrupted (Ctrl-C) at cycle {} after {} instructions",
        first("cycles"),
        first("instret")
    )
}

/// The stop reason `--stats json` gives an interrupted run.
const STOP_INTERRUPTED: &str = "interrupted";

/// `--stats-file FILE`, created before the run (so a bad path fails at once): the file, its
/// path, and the format its name asks for (JSON for `.json`, the full table otherwise).
type StatsFile = (std::fs::File, PathBuf, StatsFormat);

/// Creates the `--stats-file`, if one is given.
fn create_stats_file(opts: &RunOptions) -> Result<Option<StatsFile>, String> {
    let Some(p) = &opts.stats_file else {
        return Ok(None);
    };
    let format = match p.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => StatsFormat::Json,
        _ => StatsFormat::Full,
    };
    let f = std::fs::File::create(p).map_err(|e| {
        format!(
            "--stats-file {}: cannot create the file: {e} (give a path in a folder you can write)",
            p.display()
        )
    })?;
    Ok(Some((f, p.clone(), format)))
}

/// Prints the statistics `--stats` asks for to stderr and writes those `--stats-file` asks
/// for; `render` makes them in a format. False when the file could not be written (the
/// error is printed).
fn emit_stats(
    stats: Option<StatsFormat>,
    file: Option<StatsFile>,
    render: &dyn Fn(StatsFormat) -> String,
) -> bool {
    if let Some(f) = stats {
        eprint!("{}", render(f));
    }
    if let Some((mut f, p, format)) = file {
        if let Err(e) = f
            .write_all(render(format).as_bytes())
            .and_then(|()| f.flush())
        {
            eprintln!("error: cannot write the statistics to {}: {e}", p.display());
            return false;
        }
    }
    true
}

/// Reads the machine configuration: the file (if any), then each `--set`, then the limits.
pub fn machine_config(opts: &RunOptions) -> Result<MachineConfig, String> {
    let (path, text) = match &opts.machine {
        Some(p) => {
            crate::scenario::read_text(p, "machine file", "programs/machines/small-tlb.toml")
                .map_err(|e| e.to_string())?
        }
        None => ("(defaults)".to_string(), String::new()),
    };
    let mut sets = opts.sets.clone();
    if let Some(n) = opts.max_insns {
        sets.push(format!("run.max_insns={n}"));
    }
    if let Some(n) = opts.max_cycles {
        sets.push(format!("run.max_cycles={n}"));
    }
    apply_set_all(&text, &path, &sets).map_err(|e| e.to_string())
}

/// Loads PROGRAM: an ELF file, or an assembly file (`.s`/`.S`/`.asm`) assembled on the fly.
///
/// The error is the whole message to print: an assembler error in the compiler's style
/// (`file:line:col: error: ...` with the line and a caret), anything else as `error: ...`.
pub fn load_program(path: &Path) -> Result<Elf, String> {
    load_program_for(path, Some(Target::Bare), (0, 0)).map(|(e, _)| e)
}

/// Loads PROGRAM for `want` (or for the machine it suits, when `None`), with the same errors
/// as [`load_program`]. A program suits the bare machine when it defines `tohost`, or (an
/// ELF) when its entry point lies in RAM (`ram` is its base and size): it was linked to run
/// at physical addresses. Any other program runs hosted; an assembly file is then assembled
/// with `.text` at [`vmlab_os::image::HOSTED_TEXT_BASE`].
pub fn load_program_for(
    path: &Path,
    want: Option<Target>,
    ram: (u64, u64),
) -> Result<(Elf, Target), String> {
    load_program_laid_out(path, want, ram, vmlab_os::image::Layout::Flat)
}

/// [`load_program_for`], linking a hosted assembly program for `layout` (the segmentation
/// schemes need text and data in segments of their own).
pub fn load_program_laid_out(
    path: &Path,
    want: Option<Target>,
    ram: (u64, u64),
    layout: vmlab_os::image::Layout,
) -> Result<(Elf, Target), String> {
    let shown = path.display().to_string();
    let plain = |e: String| format!("error: {e}");
    let is_asm = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm")
    );
    if is_asm {
        let (_, src) = crate::scenario::read_text(path, "program", "programs/asm/hello.s")
            .map_err(|e| plain(e.to_string()))?;
        let assemble = |text_base: u64, data_base: Option<u64>| -> Result<Elf, String> {
            let opts = vmlab_cpu::asm::AsmOptions {
                text_base,
                data_base,
                ..vmlab_cpu::asm::AsmOptions::default()
            };
            let obj = assemble_file(&src, &shown, &opts).map_err(|e| e.to_string())?;
            Elf::parse(&obj.to_elf(), &shown).map_err(|e| plain(e.to_string()))
        };
        let bare = assemble(vmlab_cpu::asm::AsmOptions::default().text_base, None)?;
        let target = want.unwrap_or(if bare.tohost.is_some() {
            Target::Bare
        } else {
            Target::Hosted
        });
        match target {
            Target::Bare => Ok((bare, Target::Bare)),
            Target::Hosted => Ok((
                assemble(layout.text_base(), layout.data_base())?,
                Target::Hosted,
            )),
        }
    } else {
        let elf = Elf::open(path).map_err(|e| plain(e.to_string()))?;
        let in_ram = elf.entry >= ram.0 && elf.entry - ram.0 < ram.1;
        let target = want.unwrap_or(if elf.tohost.is_some() || in_ram {
            Target::Bare
        } else {
            Target::Hosted
        });
        Ok((elf, target))
    }
}

/// Builds a machine with `cfg` and loads `elf` into it.
pub fn machine_for(cfg: MachineConfig, elf: &Elf) -> Result<Machine, MachineError> {
    let mut m = Machine::new(cfg)?;
    m.load(elf)?;
    Ok(m)
}

/// Assembles `src` (the file `shown`), reading `.include`d files relative to the directory
/// of the file that includes them.
pub fn assemble_file(
    src: &str,
    shown: &str,
    opts: &vmlab_cpu::asm::AsmOptions,
) -> Result<vmlab_cpu::asm::Object, vmlab_cpu::asm::AsmErrors> {
    let resolve = |from: &str, name: &str| -> Result<(String, String), String> {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let path = base.join(name);
        let shown = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => Ok((shown, t)),
                Err(_) => Err(format!("{shown} is not UTF-8 text")),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
                "no such file {shown} (an include is read relative to the including file)"
            )),
            Err(e) => Err(format!("cannot read {shown}: {e}")),
        }
    };
    vmlab_cpu::asm::assemble_with_includes(src, shown, opts, &resolve)
}

/// The name reports give a program: its file name.
fn display_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A hosted run: the kernel runs every program as a process.
fn hosted_main(
    cfg: MachineConfig,
    programs: &[(String, Elf)],
    argv0: &[String],
    opts: &RunOptions,
    stats_file: Option<StatsFile>,
) -> ExitCode {
    if opts.log_commits.is_some() {
        eprintln!("error: --log-commits is for the bare machine; a hosted run writes its kernel events with --trace");
        return ExitCode::from(crate::cli::EXIT_INPUT);
    }
    let opt = cfg.os.policy == vmlab_os::replace::Policy::Opt;
    let drawing = opts.report.is_some() || opts.svg.is_some();
    let tracing = opts.trace.is_some() || drawing;
    // The report's file is made now, so that a path that cannot be written is said before
    // the run rather than after it.
    if let Some(p) = &opts.report {
        if let Err(e) = std::fs::File::create(p) {
            eprintln!("error: cannot write the report {}: {e}", p.display());
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    }
    let files = match read_files(&opts.files) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    for e in &opts.env {
        if !e.contains('=') || e.starts_with('=') {
            eprintln!("error: --env {e}: give the variable as NAME=VALUE (e.g. --env HOME=/tmp)");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    }
    let mut cfg = cfg;
    if opts.strict_syscalls {
        cfg.os.strict_syscalls = true;
    }
    if opts.memcheck {
        cfg.os.memcheck = true;
    }
    use std::io::IsTerminal;
    let mounts = match parse_mounts(&opts.mounts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    let setup = crate::hosted::Setup {
        mounts,
        sysroot: opts.sysroot.clone(),
        cwd: opts.cwd.clone(),
        argv0: argv0.to_vec(),
        args: opts.args.clone(),
        env: opts.env.clone(),
        stdin: crate::hosted::StdinSource::Host,
        terminal: [
            std::io::stdin().is_terminal(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ],
    };
    let built = if opt {
        crate::hosted::Hosted::new_opt_with_setup(cfg, programs, files, tracing, &setup)
    } else {
        crate::hosted::Hosted::with_setup(cfg, programs, files, tracing, &setup)
    };
    let mut h = match built {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    let mut trace = match &opts.trace {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some((std::io::BufWriter::new(f), p.clone())),
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", p.display());
                return ExitCode::from(crate::cli::EXIT_INPUT);
            }
        },
        None => None,
    };
    // The report reads the very lines the trace holds.
    let mut pictures = drawing.then(|| crate::pictures::trace::Builder::new("the run's trace"));
    let mut picture_error: Option<String> = None;
    let mut draw = |line: &str, pictures: &mut Option<crate::pictures::trace::Builder>| {
        if let Some(b) = pictures.as_mut() {
            if let Err(e) = b.push_line(line) {
                picture_error.get_or_insert(e.to_string());
            }
        }
    };
    let mut out = std::io::stdout().lock();
    let mut progress = crate::run_report::Progress::for_stderr();
    loop {
        let ended = h.run_for(1 << 16);
        let o = h.machine.take_output();
        if !o.is_empty() {
            progress.suspend(|| {
                let _ = out.write_all(&o);
                let _ = out.flush();
            });
        }
        let e = h.machine.take_errors();
        let checked = h.take_memcheck();
        if !e.is_empty() || !checked.is_empty() {
            progress.suspend(|| {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(&e);
                for l in checked {
                    let _ = writeln!(err, "{l}");
                }
                let _ = err.flush();
            });
        }
        progress.tick(h.machine.retired(), h.machine.now());
        if tracing {
            for line in h.trace_lines() {
                draw(&line, &mut pictures);
                if let Some((w, p)) = trace.as_mut() {
                    if let Err(e) = writeln!(w, "{line}") {
                        progress.clear();
                        eprintln!("error: cannot write {}: {e}", p.display());
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
        if ended {
            break;
        }
        if interrupted() {
            h.interrupt();
            break;
        }
    }
    progress.clear();
    // The rest: after an interruption, the kernel's last records; always the `tlb` records
    // and `end`.
    let rest = if tracing { h.trace_lines() } else { Vec::new() };
    for line in &rest {
        draw(line, &mut pictures);
    }
    if let Some((mut w, p)) = trace {
        let mut written = Ok(());
        for line in &rest {
            written = written.and_then(|()| writeln!(w, "{line}"));
        }
        if let Err(e) = written.and_then(|()| w.flush()) {
            eprintln!("error: cannot write {}: {e}", p.display());
        }
    }
    let mut report_failed = false;
    if let Some(b) = pictures {
        let built = match picture_error {
            Some(e) => Err(e),
            None => b.finish().map_err(|e| e.to_string()),
        };
        let moments = if opts.moments == 0 { 120 } else { opts.moments };
        let written = built.and_then(|t| {
            let page = crate::pictures::run::build(&t, &crate::pictures::run::Options { moments });
            crate::report_cmd::write(&page, opts.report.as_deref(), opts.svg.as_deref())
        });
        if let Err(e) = written {
            eprintln!("error: {e}");
            report_failed = true;
        }
    }
    for line in h.kernel.messages() {
        eprintln!("vmlab: kernel: {line}");
    }
    if let Some(line) = h.unserved_report() {
        eprintln!("vmlab: kernel: {line}");
    }
    match h.sync_files() {
        Ok(lines) => {
            for l in lines {
                eprintln!("vmlab: host: {l}");
            }
        }
        Err(e) => eprintln!("vmlab: host: writing the mounts' changes back failed: {e}"),
    }
    for line in h.process_reports() {
        eprintln!("vmlab: {line}");
    }
    let end = h.end().cloned().expect("ended");
    match &end {
        crate::hosted::End::Kernel(vmlab_os::Finish::AllEnded { .. }) => {}
        crate::hosted::End::Kernel(vmlab_os::Finish::Stuck(why)) => eprintln!("vmlab: {why}"),
        crate::hosted::End::Limit(s) => eprintln!("vmlab: {s}"),
        crate::hosted::End::Interrupted => {
            eprintln!("vmlab: {}", interrupted_line(&h.stat_list()))
        }
    }
    let mut status = end.exit_code();
    if let Some(mc) = h.kernel.memcheck() {
        for l in mc.take_output() {
            eprintln!("{l}");
        }
        eprintln!("vmlab: {}", mc.summary());
        if let (Some(n), true) = (opts.memcheck_exit, mc.errors() > 0) {
            status = n;
        }
    }
    let stats = h.stat_list();
    let stop = match &end {
        crate::hosted::End::Kernel(vmlab_os::Finish::AllEnded { status }) => {
            format!("every process ended (status {status})")
        }
        crate::hosted::End::Kernel(vmlab_os::Finish::Stuck(w)) => w.clone(),
        crate::hosted::End::Limit(s) => s.to_string(),
        crate::hosted::End::Interrupted => STOP_INTERRUPTED.to_string(),
    };
    let info = crate::run_report::RunInfo {
        programs: programs.iter().map(|(n, _)| n.clone()).collect(),
        hosted: Some(crate::run_report::HostedInfo {
            scheme: h.machine.config().os.scheme.name().to_string(),
            policy: h.machine.config().os.policy.name().to_string(),
            user_frames: h.machine.config().os.user_frames,
            frames_per_process: h.machine.config().os.frames_per_process,
        }),
        clock_hz: h.machine.config().memory.diskctl.disk.clock_hz,
        stop: stop.clone(),
        processes: h.process_infos(),
    };
    let render = |f: StatsFormat| match f {
        StatsFormat::Text => headline_text(&stats, &info),
        StatsFormat::Full => {
            crate::run_report::headline(&stats, &info)
                + "\n"
                + &crate::run_report::counters_table(&stats, Some((&stop, end.exit_code())))
                + &timeline_text(h.kernel.timeline())
        }
        StatsFormat::Json => {
            let mut j = stats_json_of(&stats, Some((stop.clone(), end.exit_code())));
            // The timeline, as one more key: an array of samples.
            if let Ok(t) = serde_json::to_string(h.kernel.timeline()) {
                j.truncate(j.len() - 2);
                j.push_str(&format!(",\n  \"os.timeline\": {t}\n}}"));
            }
            j + "\n"
        }
    };
    if !emit_stats(opts.stats, stats_file, &render) {
        return ExitCode::FAILURE;
    }
    if report_failed {
        return ExitCode::from(crate::cli::EXIT_INPUT);
    }
    ExitCode::from(status)
}

/// The fault-rate timeline as a table: per interval between samples, the page faults per
/// thousand instructions (all and major), the share of cycles the CPU idled, the summed
/// working set, and how many processes could run or waited for the disk.
pub fn timeline_text(t: &[vmlab_os::kernel::Sample]) -> String {
    if t.len() < 2 {
        return String::new();
    }
    let mut s = String::from(
        "timeline (per interval: faults per 1000 instructions, idle share, working set)\n",
    );
    s.push_str(&format!(
        "  {:>12} {:>14} {:>10} {:>10} {:>7} {:>8} {:>9} {:>8}",
        "instret", "cycle", "faults/k", "major/k", "idle", "wset", "runnable", "blocked"
    ));
    // Under os.malloc: the heaps' size and live bytes (KiB), and both fragmentations.
    let heaps = t.iter().any(|x| x.heap.is_some());
    if heaps {
        s.push_str(&format!(
            " {:>9} {:>9} {:>8} {:>8}",
            "heap KiB", "live KiB", "int.frag", "ext.frag"
        ));
    }
    s.push('\n');
    // At most 40 rows: every k-th sample (and the last), each row covering the interval
    // since the row before (--stats json lists every sample).
    let k = t.len().div_ceil(40);
    let rows: Vec<&vmlab_os::kernel::Sample> = t
        .iter()
        .enumerate()
        .filter(|(i, _)| i % k == 0 || *i == t.len() - 1)
        .map(|(_, x)| x)
        .collect();
    let mut prev = vmlab_os::kernel::Sample::default();
    for x in rows {
        let di = x.instret.saturating_sub(prev.instret);
        let dc = x.cycle.saturating_sub(prev.cycle);
        let per_k = |n: u64| {
            if di == 0 {
                "-".to_string()
            } else {
                format!("{:.2}", n as f64 * 1000.0 / di as f64)
            }
        };
        let idle = if dc == 0 {
            "-".to_string()
        } else {
            format!(
                "{:.1}%",
                100.0 * x.idle.saturating_sub(prev.idle) as f64 / dc as f64
            )
        };
        s.push_str(&format!(
            "  {:>12} {:>14} {:>10} {:>10} {:>7} {:>8} {:>9} {:>8}",
            x.instret,
            x.cycle,
            per_k(x.faults.saturating_sub(prev.faults)),
            per_k(x.major.saturating_sub(prev.major)),
            idle,
            x.working_set,
            x.runnable,
            x.blocked
        ));
        if heaps {
            let h = x.heap.unwrap_or_default();
            let ext = (h.largest_free.min(h.free) * 1000)
                .checked_div(h.free)
                .map_or(0, |r| 1000 - r);
            s.push_str(&format!(
                " {:>9} {:>9} {:>8} {:>7.1}%",
                h.size / 1024,
                h.live / 1024,
                h.granted.saturating_sub(h.live),
                ext as f64 / 10.0
            ));
        }
        // The row's line ends here (the format above left it open).
        s.push('\n');
        prev = *x;
    }
    s
}

/// `--stats` (text): the headline, and where the counters are.
fn headline_text(stats: &[(String, u64)], info: &crate::run_report::RunInfo) -> String {
    crate::run_report::headline(stats, info)
        + "(every counter: --stats full, or --stats json; docs/run.md)\n"
}

/// The statistics as one JSON object keyed by the dotted names, in the machine's stable
/// order: `cycles` and `instret` first, then `ipc`, `stop` and `exit_code`, then every
/// counter.
pub fn stats_json(m: &Machine) -> String {
    let stop = m.stop_reason().map(|s| (s.to_string(), s.exit_code()));
    stats_json_of(&m.stat_list(), stop)
}

/// [`stats_json`] of a statistics list that starts with `cycles` and `instret`, with the
/// stop reason and exit code when the run has stopped.
pub fn stats_json_of(stats: &[(String, u64)], stop: Option<(String, u8)>) -> String {
    let first = |name: &str| stats.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
    let (cycles, insns) = (first("cycles"), first("instret"));
    let ipc = if cycles == 0 {
        0.0
    } else {
        insns as f64 / cycles as f64
    };
    let mut fields: Vec<(String, serde_json::Value)> = Vec::new();
    for (n, v) in stats.iter().take(2) {
        fields.push((n.clone(), (*v).into()));
    }
    fields.push(("ipc".into(), serde_json::json!(ipc)));
    if let Some((stop, code)) = stop {
        fields.push(("stop".into(), stop.into()));
        fields.push(("exit_code".into(), code.into()));
    }
    for (n, v) in stats.iter().skip(2) {
        fields.push((n.clone(), (*v).into()));
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("  {}: {v}", serde_json::Value::from(k.as_str())))
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

/// `vmlab run`.
pub fn main(programs: &[PathBuf], opts: &RunOptions) -> ExitCode {
    let input_error = |msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(crate::cli::EXIT_INPUT)
    };
    let cfg = match machine_config(opts) {
        Ok(c) => c,
        Err(e) => return input_error(e),
    };
    let stats_file = match create_stats_file(opts) {
        Ok(f) => f,
        Err(e) => return input_error(e),
    };
    catch_interrupts();
    let want = if opts.bare {
        Some(Target::Bare)
    } else if opts.hosted || programs.len() > 1 {
        Some(Target::Hosted)
    } else {
        None
    };
    if opts.bare && programs.len() > 1 {
        return input_error(format!(
            "--bare runs one program, and {} were given; leave out --bare to run them as processes",
            programs.len()
        ));
    }
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let mut loaded = Vec::new();
    for p in programs {
        let layout = vmlab_os::image::Layout::for_scheme(cfg.os.scheme);
        match load_program_laid_out(p, want, ram, layout) {
            Ok(x) => loaded.push((p, x)),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(crate::cli::EXIT_INPUT);
            }
        }
    }
    if loaded.iter().any(|(_, (_, t))| *t == Target::Hosted) {
        let argv0: Vec<String> = loaded
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        let progs: Vec<(String, Elf)> = loaded
            .into_iter()
            .map(|(p, (e, _))| (display_name(p), e))
            .collect();
        return hosted_main(cfg, &progs, &argv0, opts, stats_file);
    }
    if opts.trace.is_some() {
        return input_error(
            "--trace records the kernel's events, and this program runs on the bare machine; use --log-commits for its instructions".into(),
        );
    }
    if opts.report.is_some() || opts.svg.is_some() {
        return input_error(
            "--report and --svg draw the kernel's memory management, and this program runs on the bare machine (run it under the kernel, or draw one translation with `vmlab translate SCENARIO --report FILE.html`)".into(),
        );
    }
    if !opts.files.is_empty() {
        return input_error(
            "--file gives files to processes under the kernel, and this program runs on the bare machine".into(),
        );
    }
    if !opts.args.is_empty()
        || !opts.env.is_empty()
        || opts.strict_syscalls
        || opts.memcheck
        || !opts.mounts.is_empty()
        || opts.cwd.is_some()
        || opts.sysroot.is_some()
    {
        return input_error(
            "arguments after --, --env, --mount, --cwd, --sysroot, --strict-syscalls and --memcheck are for processes under the kernel, and this program runs on the bare machine".into(),
        );
    }
    let Some((_, (elf, _))) = loaded.into_iter().next() else {
        return input_error("no program given".into());
    };
    let mut m = match machine_for(cfg, &elf) {
        Ok(m) => m,
        Err(e) => return input_error(e.to_string()),
    };
    let mut log = match &opts.log_commits {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => {
                m.set_access_log(true);
                Some((std::io::BufWriter::new(f), p.clone()))
            }
            Err(e) => return input_error(format!("cannot create {}: {e}", p.display())),
        },
        None => None,
    };
    let mut out = std::io::stdout().lock();
    let mut was_interrupted = false;
    let mut progress = crate::run_report::Progress::for_stderr();
    loop {
        let stopped = match log.as_mut() {
            Some((w, p)) => {
                let mut stopped = false;
                for _ in 0..4096 {
                    match m.step() {
                        Some(info) => {
                            if let Err(e) = crate::commit_log::write(w, &m, &info) {
                                progress.clear();
                                eprintln!("error: cannot write {}: {e}", p.display());
                                return ExitCode::FAILURE;
                            }
                        }
                        None => {
                            stopped = true;
                            break;
                        }
                    }
                }
                stopped || m.stop_reason().is_some()
            }
            None => m.run_for(1 << 16),
        };
        let o = m.take_output();
        if !o.is_empty() {
            progress.suspend(|| {
                let _ = out.write_all(&o);
                let _ = out.flush();
            });
        }
        progress.tick(m.retired(), m.now());
        if stopped {
            break;
        }
        if interrupted() {
            was_interrupted = true;
            break;
        }
    }
    progress.clear();
    if let Some((mut w, p)) = log {
        if let Err(e) = w.flush() {
            eprintln!("error: cannot write {}: {e}", p.display());
        }
    }
    let stop = if was_interrupted {
        eprintln!("vmlab: {}", interrupted_line(&m.stat_list()));
        None
    } else {
        let stop = m.stop_reason().cloned().expect("stopped");
        if !matches!(stop, Stop::Tohost { .. } | Stop::Ecall { .. }) {
            eprintln!("vmlab: {stop}");
        }
        Some(stop)
    };
    let status = stop
        .as_ref()
        .map_or(crate::hosted::EXIT_INTERRUPTED, Stop::exit_code);
    let reason = match &stop {
        Some(s) => s.to_string(),
        None => STOP_INTERRUPTED.to_string(),
    };
    let stats = m.stat_list();
    let info = crate::run_report::RunInfo {
        programs: programs.iter().map(|p| display_name(p)).collect(),
        hosted: None,
        clock_hz: m.config().memory.diskctl.disk.clock_hz,
        stop: reason.clone(),
        processes: Vec::new(),
    };
    let render = |f: StatsFormat| match f {
        StatsFormat::Text => headline_text(&stats, &info),
        StatsFormat::Full => {
            crate::run_report::headline(&stats, &info)
                + "\n"
                + &crate::run_report::counters_table(&stats, Some((&reason, status)))
        }
        StatsFormat::Json => stats_json_of(&stats, Some((reason.clone(), status))) + "\n",
    };
    if !emit_stats(opts.stats, stats_file, &render) {
        return ExitCode::FAILURE;
    }
    ExitCode::from(status)
}
