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
pub fn load_program(path: &Path) -> Result<Elf, String> {
    let shown = path.display().to_string();
    let is_asm = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("s" | "S" | "asm")
    );
    if is_asm {
        let (_, src) = crate::scenario::read_text(path, "program", "programs/asm/hello.s")
            .map_err(|e| e.to_string())?;
        let _ = src;
        Err(format!("{shown}: TODO assembler"))
    } else {
        Elf::open(path).map_err(|e| e.to_string())
    }
}

/// Builds a machine with `cfg` and loads `elf` into it.
pub fn machine_for(cfg: MachineConfig, elf: &Elf) -> Result<Machine, MachineError> {
    let mut m = Machine::new(cfg)?;
    m.load(elf)?;
    Ok(m)
}

/// The readable statistics table.
pub fn stats_text(m: &Machine) -> String {
    let stats = m.stat_list();
    let width = stats.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut s = String::new();
    let cycles = m.now();
    let insns = m.retired();
    s.push_str(&format!("{:width$}  {}\n", "cycles", cycles));
    s.push_str(&format!("{:width$}  {}\n", "instret", insns));
    let ipc = if cycles == 0 {
        0.0
    } else {
        insns as f64 / cycles as f64
    };
    s.push_str(&format!("{:width$}  {:.3}\n", "ipc", ipc));
    for (n, v) in stats.iter().skip(2) {
        s.push_str(&format!("{n:width$}  {v}\n"));
    }
    s
}

/// The statistics as one JSON object keyed by the dotted names (`cycles` and `instret` at
/// the top, `ipc` derived).
pub fn stats_json(m: &Machine) -> String {
    let mut map = serde_json::Map::new();
    for (n, v) in m.stat_list() {
        map.insert(n, serde_json::Value::from(v));
    }
    let ipc = if m.now() == 0 {
        0.0
    } else {
        m.retired() as f64 / m.now() as f64
    };
    map.insert("ipc".into(), serde_json::json!(ipc));
    if let Some(stop) = m.stop_reason() {
        map.insert("stop".into(), serde_json::Value::from(stop.to_string()));
        map.insert(
            "exit_code".into(),
            serde_json::Value::from(stop.exit_code()),
        );
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap_or_default()
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
        Err(e) => return input_error(e),
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
