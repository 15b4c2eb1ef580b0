//! `vmlab run PROGRAM`: load an ELF (or assemble a `.s` file) on the bare machine, run it,
//! stream its output, and report why it stopped and, on request, every statistic.

use crate::machine::{apply_set_all, Machine, MachineConfig, MachineError, Stop};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vmlab_cpu::elf::Elf;

/// How `--stats` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    /// A readable table.
    Text,
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
    /// `--log-commits FILE`.
    pub log_commits: Option<PathBuf>,
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
    let shown = path.display().to_string();
    let plain = |e: String| format!("error: {e}");
    let is_asm = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm")
    );
    if is_asm {
        let (_, src) = crate::scenario::read_text(path, "program", "programs/asm/hello.s")
            .map_err(|e| plain(e.to_string()))?;
        let obj = vmlab_cpu::asm::assemble(&src, &shown, &vmlab_cpu::asm::AsmOptions::default())
            .map_err(|e| e.to_string())?;
        Elf::parse(&obj.to_elf(), &shown).map_err(|e| plain(e.to_string()))
    } else {
        Elf::open(path).map_err(|e| plain(e.to_string()))
    }
}

/// Builds a machine with `cfg` and loads `elf` into it.
pub fn machine_for(cfg: MachineConfig, elf: &Elf) -> Result<Machine, MachineError> {
    let mut m = Machine::new(cfg)?;
    m.load(elf)?;
    Ok(m)
}

/// The readable statistics table: the run's totals and derived rates, then every non-zero
/// counter grouped by unit (`--stats json` lists the zero ones too).
pub fn stats_text(m: &Machine) -> String {
    let stats = m.stat_list();
    let get = |prefix: &str| -> u64 {
        stats
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    };
    let cycles = m.now();
    let insns = m.retired();
    let mut s = String::new();
    s.push_str(&format!("{:<34}{cycles}\n", "cycles"));
    s.push_str(&format!("{:<34}{insns}\n", "instret"));
    if cycles > 0 {
        s.push_str(&format!(
            "{:<34}{:.3}\n",
            "ipc",
            insns as f64 / cycles as f64
        ));
    }
    if insns > 0 {
        s.push_str(&format!(
            "{:<34}{:.3}\n",
            "cpi",
            cycles as f64 / insns as f64
        ));
    }
    for (name, prefix) in [
        ("itlb", "mmu.itlb"),
        ("dtlb", "mmu.dtlb"),
        ("l2tlb", "mmu.l2tlb"),
        ("l1i", "cache.l1i"),
        ("l1d", "cache.l1d"),
        ("l2", "cache.l2"),
    ] {
        let hits = get(&format!("{prefix}.hits."));
        let misses = get(&format!("{prefix}.misses."));
        if hits + misses > 0 {
            s.push_str(&format!(
                "{:<34}{:.1}% of {}\n",
                format!("{name} hit rate"),
                100.0 * hits as f64 / (hits + misses) as f64,
                hits + misses
            ));
        }
    }
    let mut group = "";
    for (n, v) in stats.iter().skip(2) {
        if *v == 0 {
            continue;
        }
        let g = n.split('.').next().unwrap_or("");
        if g != group {
            s.push_str(&format!("{g}\n"));
            group = g;
        }
        s.push_str(&format!("  {:<32}{v}\n", &n[g.len() + 1..]));
    }
    s.push_str("(counters that are zero are not shown; --stats json lists every one)\n");
    s
}

/// The statistics as one JSON object keyed by the dotted names, in the machine's stable
/// order: `cycles` and `instret` first, then `ipc`, `stop` and `exit_code`, then every
/// counter.
pub fn stats_json(m: &Machine) -> String {
    let ipc = if m.now() == 0 {
        0.0
    } else {
        m.retired() as f64 / m.now() as f64
    };
    let mut fields: Vec<(String, serde_json::Value)> = Vec::new();
    let stats = m.stat_list();
    for (n, v) in stats.iter().take(2) {
        fields.push((n.clone(), (*v).into()));
    }
    fields.push(("ipc".into(), serde_json::json!(ipc)));
    if let Some(stop) = m.stop_reason() {
        fields.push(("stop".into(), stop.to_string().into()));
        fields.push(("exit_code".into(), stop.exit_code().into()));
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
pub fn main(program: &Path, opts: &RunOptions) -> ExitCode {
    let input_error = |msg: String| {
        eprintln!("error: {msg}");
        ExitCode::from(crate::cli::EXIT_INPUT)
    };
    let cfg = match machine_config(opts) {
        Ok(c) => c,
        Err(e) => return input_error(e),
    };
    let elf = match load_program(program) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
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
    loop {
        let stopped = match log.as_mut() {
            Some((w, p)) => {
                let mut stopped = false;
                for _ in 0..4096 {
                    match m.step() {
                        Some(info) => {
                            if let Err(e) = crate::commit_log::write(w, &m, &info) {
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
            let _ = out.write_all(&o);
            let _ = out.flush();
        }
        if stopped {
            break;
        }
    }
    if let Some((mut w, p)) = log {
        if let Err(e) = w.flush() {
            eprintln!("error: cannot write {}: {e}", p.display());
        }
    }
    let stop = m.stop_reason().cloned().expect("stopped");
    if !matches!(stop, Stop::Tohost { .. } | Stop::Ecall { .. }) {
        eprintln!("vmlab: {stop}");
    }
    if let Some(f) = opts.stats {
        let text = match f {
            StatsFormat::Text => stats_text(&m),
            StatsFormat::Json => stats_json(&m) + "\n",
        };
        eprint!("{text}");
    }
    ExitCode::from(stop.exit_code())
}
