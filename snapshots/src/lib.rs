//! Whole-run snapshots: each program under `programs/` runs on the bare machine and its
//! stop reason, cycle count and every non-zero statistic are compared with an insta
//! snapshot in `tests/snapshots/`. A changed cycle count is a changed snapshot; the commit
//! that changes it must say why.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use vmlab::machine::{apply_set_all, Machine};
use vmlab_cpu::elf::Elf;

/// The repository's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the snapshots crate lives in the repository")
        .to_path_buf()
}

/// Runs `program` (an ELF file; a path relative to the repository root) with the `sets` applied to the default machine, and returns the
/// report that is snapshot: the stop reason, the exit code, then `name value` for `cycles`,
/// `instret` and every non-zero statistic, in the machine's stable order.
pub fn run_report(program: &str, sets: &[&str]) -> String {
    run_report_on(program, None, sets)
}

/// As [`run_report`], on the machine `machine` (a machine file relative to the repository
/// root) with `sets` applied after it.
pub fn run_report_on(program: &str, machine: Option<&str>, sets: &[&str]) -> String {
    let path = root().join(program);
    let elf = Elf::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.push("run.max_insns=20000000".into());
    let (text, name) = match machine {
        Some(m) => (
            std::fs::read_to_string(root().join(m)).expect("the machine file"),
            m.to_string(),
        ),
        None => (String::new(), "(defaults)".to_string()),
    };
    let cfg = apply_set_all(&text, &name, &sets).expect("a valid configuration");
    let mut m = Machine::new(cfg).expect("a machine");
    m.load(&elf).expect("the program loads");
    let stop = m.run().clone();
    let mut out = format!(
        "program: {program}\nmachine: {}\nsettings: {}\nstop: {stop}\nexit code: {}\n",
        machine.unwrap_or("(defaults)"),
        if sets.len() > 1 {
            sets[..sets.len() - 1].join(" ")
        } else {
            "(defaults)".into()
        },
        stop.exit_code()
    );
    let output = String::from_utf8_lossy(&m.take_output()).into_owned();
    if !output.is_empty() {
        out.push_str(&format!("output: {output:?}\n"));
    }
    for (i, (name, value)) in m.stat_list().into_iter().enumerate() {
        if i < 2 || value != 0 {
            out.push_str(&format!("{name} {value}\n"));
        }
    }
    out
}

/// Runs `programs` (assembly or ELF files, paths relative to the repository root) as
/// processes under the kernel with the `sets` applied to the default machine, and returns
/// the report that is snapshot: how the run ended, vmlab's exit status, the output, one
/// line per process that did not exit 0, then `name value` for `cycles`, `instret` and
/// every non-zero statistic (the machine's, then the kernel's), in their stable order.
pub fn hosted_report(programs: &[&str], sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    // A limit far above any of these runs, so that a kernel that never finishes fails
    // (the limit is not part of the report's settings).
    let mut all = sets.clone();
    all.push("run.max_cycles=200000000000".into());
    let cfg = apply_set_all("", "(defaults)", &all).expect("a valid configuration");
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let layout = vmlab_os::image::Layout::for_scheme(cfg.os.scheme);
    let loaded: Vec<(String, Elf)> = programs
        .iter()
        .map(|p| {
            let (elf, _) = vmlab::run_cmd::load_program_laid_out(
                &root().join(p),
                Some(vmlab::run_cmd::Target::Hosted),
                ram,
                layout,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let name = p.rsplit('/').next().unwrap_or(p).to_string();
            (name, elf)
        })
        .collect();
    let mut h = if cfg.os.policy == vmlab_os::replace::Policy::Opt {
        vmlab::hosted::Hosted::new_opt(cfg, &loaded)
    } else {
        vmlab::hosted::Hosted::new(cfg, &loaded)
    }
    .unwrap_or_else(|e| panic!("{e}"));
    let end = h.run().clone();
    let mut out = format!(
        "programs: {}\nsettings: {}\nend: {end:?}\nexit code: {}\n",
        programs.join(" "),
        if sets.is_empty() {
            "(defaults)".to_string()
        } else {
            sets.join(" ")
        },
        end.exit_code()
    );
    let output = String::from_utf8_lossy(&h.machine.take_output()).into_owned();
    if !output.is_empty() {
        out.push_str(&format!("output: {output:?}\n"));
    }
    for line in h.process_reports() {
        out.push_str(&format!("report: {line}\n"));
    }
    for (i, (name, value)) in h.stat_list().into_iter().enumerate() {
        if i < 2 || value != 0 {
            out.push_str(&format!("{name} {value}\n"));
        }
    }
    out
}
