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
