//! `vmlab bench`: how fast the simulator runs, in simulated instructions per host second.
//!
//! Each program runs to completion on the full timing model (the host clock is read only
//! here, around whole runs; the model never sees it). With `--check-host` every program also
//! runs with the host-speed shortcuts off, and the two runs must agree on every cycle and
//! statistic.

use crate::machine::{apply_set_all, Machine, MachineConfig};
use crate::run_cmd::load_program;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// The programs `vmlab bench` runs when given none.
pub const DEFAULT_PROGRAMS: &[&str] = &[
    "programs/bench/matmul.elf",
    "programs/bench/crc.elf",
    "programs/bench/sieve.elf",
    "programs/bench/ptrchase.elf",
];

/// One program's measurement.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measurement {
    /// The program.
    pub program: String,
    /// Instructions retired.
    pub instret: u64,
    /// Modelled cycles.
    pub cycles: u64,
    /// The exit code.
    pub exit_code: u8,
    /// Host seconds of the fastest repetition.
    pub seconds: f64,
    /// Simulated instructions per host second (millions).
    pub mips: f64,
    /// Whether the run with host shortcuts off agreed (None: not checked).
    pub host_check: Option<bool>,
}

fn run_once(cfg: &MachineConfig, elf: &vmlab_cpu::elf::Elf) -> Result<(Machine, f64), String> {
    let mut m = Machine::new(cfg.clone()).map_err(|e| format!("error: {e}"))?;
    m.load(elf).map_err(|e| format!("error: {e}"))?;
    let t = Instant::now();
    m.run();
    Ok((m, t.elapsed().as_secs_f64()))
}

/// Measures `program` `repeat` times (keeping the fastest).
pub fn measure(
    program: &str,
    cfg: &MachineConfig,
    repeat: u32,
    check_host: bool,
) -> Result<Measurement, String> {
    let elf = load_program(std::path::Path::new(program))?;
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let (m, s) = run_once(cfg, &elf)?;
        best = best.min(s);
        last = Some(m);
    }
    let m = last.expect("at least one run");
    let host_check = if check_host {
        let mut slow = cfg.clone();
        slow.host.decode_cache = false;
        slow.host.fast_paths = false;
        let (s, _) = run_once(&slow, &elf)?;
        Some(s.stat_list() == m.stat_list() && s.stop_reason() == m.stop_reason())
    } else {
        None
    };
    let instret = m.retired();
    Ok(Measurement {
        program: program.to_string(),
        instret,
        cycles: m.now(),
        exit_code: m.stop_reason().map_or(0, |s| s.exit_code()),
        seconds: best,
        mips: instret as f64 / best.max(1e-9) / 1e6,
        host_check,
    })
}

/// The pairs `vmlab bench --hosted` compares: each benchmark on the bare machine and the
/// same source built as a static Linux program, run under the kernel.
pub const HOSTED_PAIRS: &[(&str, &str)] = &[
    ("programs/bench/matmul.elf", "programs/bench/linux/matmul"),
    ("programs/bench/crc.elf", "programs/bench/linux/crc"),
    ("programs/bench/sieve.elf", "programs/bench/linux/sieve"),
    (
        "programs/bench/ptrchase.elf",
        "programs/bench/linux/ptrchase",
    ),
];

/// Measures the Linux program `program` run under the kernel, `repeat` times (keeping the
/// fastest): the host time of the whole run, the kernel's work included.
pub fn measure_hosted(
    program: &str,
    cfg: &MachineConfig,
    repeat: u32,
) -> Result<Measurement, String> {
    let elf = vmlab_cpu::elf::Elf::open(std::path::Path::new(program))
        .map_err(|e| format!("error: {e}"))?;
    let progs = [(program.to_string(), elf)];
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let mut h =
            crate::hosted::Hosted::new(cfg.clone(), &progs).map_err(|e| format!("error: {e}"))?;
        let t = Instant::now();
        h.run();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(h);
    }
    let h = last.expect("at least one run");
    let instret = h.machine.retired();
    Ok(Measurement {
        program: program.to_string(),
        instret,
        cycles: h.machine.now(),
        exit_code: h.end().map_or(0, |e| e.exit_code()),
        seconds: best,
        mips: instret as f64 / best.max(1e-9) / 1e6,
        host_check: None,
    })
}

/// `vmlab bench --hosted`: each pair of [`HOSTED_PAIRS`], and how fast the hosted run
/// simulates relative to the bare one (simulated instructions per host second).
pub fn main_hosted(sets: &[String], repeat: u32, json: bool) -> ExitCode {
    let cfg = match apply_set_all("", "(defaults)", sets) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    let mut rows = Vec::new();
    for (bare, hosted) in HOSTED_PAIRS {
        let b = measure(bare, &cfg, repeat, false);
        let h = measure_hosted(hosted, &cfg, repeat);
        let (b, h) = match (b, h) {
            (Ok(b), Ok(h)) => (b, h),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("{e}");
                return ExitCode::from(crate::cli::EXIT_INPUT);
            }
        };
        let ratio = h.mips / b.mips.max(1e-9);
        if !json {
            println!(
                "{:<30} bare {:>8.1} MIPS   {:<30} hosted {:>8.1} MIPS   {:>5.1}%",
                b.program,
                b.mips,
                h.program,
                h.mips,
                100.0 * ratio
            );
        }
        rows.push(serde_json::json!({ "bare": b, "hosted": h, "ratio": ratio }));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    ExitCode::SUCCESS
}

/// The programs `vmlab bench --memcheck` runs: allocation-heavy Linux programs.
pub const MEMCHECK_PROGRAMS: &[&str] = &[
    "programs/linux/bin/mc_clean",
    "programs/linux/bin/malloc_ds",
];

/// `vmlab bench --memcheck`: each of [`MEMCHECK_PROGRAMS`] under the kernel without and
/// with the memory checker: simulated instructions per host second, and how many times
/// longer the checked run takes.
pub fn main_memcheck(sets: &[String], repeat: u32, json: bool) -> ExitCode {
    let mut rows = Vec::new();
    for program in MEMCHECK_PROGRAMS {
        let mut both = Vec::new();
        for on in [false, true] {
            let mut all = sets.to_vec();
            all.push(format!("os.memcheck={on}"));
            let cfg = match apply_set_all("", "(defaults)", &all) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(crate::cli::EXIT_INPUT);
                }
            };
            match measure_hosted(program, &cfg, repeat) {
                Ok(m) => both.push(m),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(crate::cli::EXIT_INPUT);
                }
            }
        }
        let (plain, checked) = (&both[0], &both[1]);
        let slowdown = checked.seconds / plain.seconds.max(1e-9);
        if !json {
            println!(
                "{:<32} {:>8.1} MIPS   with --memcheck {:>8.1} MIPS   {:>5.2}x the host time   cycles {}",
                plain.program,
                plain.mips,
                checked.mips,
                slowdown,
                if plain.cycles == checked.cycles { "equal" } else { "DIFFER" }
            );
        }
        rows.push(serde_json::json!({ "plain": plain, "memcheck": checked, "slowdown": slowdown }));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    ExitCode::SUCCESS
}

/// `vmlab bench`.
pub fn main(
    programs: &[PathBuf],
    sets: &[String],
    repeat: u32,
    check_host: bool,
    json: bool,
) -> ExitCode {
    let cfg = match apply_set_all("", "(defaults)", sets) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(crate::cli::EXIT_INPUT);
        }
    };
    let list: Vec<String> = if programs.is_empty() {
        DEFAULT_PROGRAMS.iter().map(|s| s.to_string()).collect()
    } else {
        programs.iter().map(|p| p.display().to_string()).collect()
    };
    let mut results = Vec::new();
    for p in &list {
        match measure(p, &cfg, repeat, check_host) {
            Ok(m) => {
                if !json {
                    println!(
                        "{:<34} {:>12} insns {:>13} cycles {:>8.3} s {:>8.1} MIPS{}",
                        m.program,
                        m.instret,
                        m.cycles,
                        m.seconds,
                        m.mips,
                        match m.host_check {
                            Some(true) => "  (host shortcuts off: identical)",
                            Some(false) => "  (host shortcuts off: DIFFERENT)",
                            None => "",
                        }
                    );
                }
                results.push(m);
            }
            Err(e) => {
                // (The message says `error:` itself, in the assembler's style for `.s` files.)
                eprintln!("{e}");
                return ExitCode::from(crate::cli::EXIT_INPUT);
            }
        }
    }
    let insns: u64 = results.iter().map(|m| m.instret).sum();
    let secs: f64 = results.iter().map(|m| m.seconds).sum();
    let total = insns as f64 / secs.max(1e-9) / 1e6;
    if json {
        let v = serde_json::json!({ "programs": results, "total_mips": total });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "{:<34} {insns:>12} insns {:>20} {secs:>8.3} s {total:>8.1} MIPS",
            "total", ""
        );
    }
    if results.iter().any(|m| m.host_check == Some(false)) {
        eprintln!("error: a host-speed shortcut changed a modelled number");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
