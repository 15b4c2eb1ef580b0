//! Every self-checking test program (programs/tests, written to the specifications and
//! checked on Spike), every C program and the small benchmark builds must pass on vmlab:
//! exit code 0, within an instruction limit, with the output they print.

use std::path::{Path, PathBuf};
use vmlab::machine::{apply_set_all, Machine, Stop};
use vmlab_cpu::elf::Elf;

fn elfs(dir: &str, filter: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "elf")
                && filter(&p.file_name().unwrap_or_default().to_string_lossy())
        })
        .collect();
    v.sort();
    v
}

/// Runs `path` on the default machine (with `sets`) and returns the stop reason and output.
fn run(path: &Path, sets: &[&str]) -> (Stop, String) {
    let elf = Elf::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.push("run.max_insns=5000000".into());
    let cfg = apply_set_all("", "test", &sets).expect("configuration");
    let mut m = Machine::new(cfg).expect("machine");
    m.load(&elf).expect("load");
    let stop = m.run().clone();
    let out = String::from_utf8_lossy(&m.take_output()).into_owned();
    (stop, out)
}

fn check_all(dir: &str, filter: impl Fn(&str) -> bool, sets: &[&str], at_least: usize) {
    let list = elfs(dir, filter);
    assert!(
        list.len() >= at_least,
        "{dir}: only {} programs",
        list.len()
    );
    let mut failed = Vec::new();
    for p in &list {
        let (stop, out) = run(p, sets);
        if stop.exit_code() != 0 || !matches!(stop, Stop::Tohost { .. } | Stop::Ecall { .. }) {
            failed.push(format!("{}: {stop}\n{out}", p.display()));
        }
    }
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
}

#[test]
fn test_programs_pass() {
    // See programs/tests/README.md for what each covers; a failing check N exits with N
    // (N + 128 for an unexpected trap in check N).
    check_all("programs/tests", |_| true, &[], 19);
}

#[test]
fn c_programs_pass() {
    check_all("programs/c", |_| true, &[], 3);
}

#[test]
fn small_benchmarks_pass() {
    check_all("programs/bench", |n| n.ends_with("-small.elf"), &[], 4);
}

/// The same programs on other designs: the results must not depend on timing parameters.
#[test]
fn test_programs_pass_on_other_designs() {
    for sets in [
        &["memory.l1i.enabled=false", "memory.l1d.enabled=false"][..],
        &[
            "mmu.dtlb.sets=2",
            "mmu.dtlb.ways=1",
            "mmu.itlb.ways=1",
            "mmu.l2tlb.sets=2",
        ][..],
        &[
            "timing.predictor=bimodal",
            "memory.l2.enabled=true",
            "memory.dram.model=open-row",
        ][..],
    ] {
        check_all("programs/tests", |_| true, sets, 19);
    }
}

#[test]
fn hello_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (stop, out) = run(&root.join("programs/asm/hello.elf"), &[]);
    assert_eq!(stop, Stop::Tohost { code: 0 });
    assert_eq!(out, "hello, world\n");
    let (stop, out) = run(&root.join("programs/c/hello.elf"), &[]);
    assert_eq!(stop.exit_code(), 0);
    assert!(!out.is_empty(), "the C hello prints");
}
