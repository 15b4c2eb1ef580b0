//! Whole-run snapshots of the programs in `programs/`: stop reason, exit code, cycles and
//! every non-zero statistic. Review every change: a changed cycle count must be explained in
//! the commit message (`docs/timing.md` says how counts follow from the rules).

use vmlab_snapshots::{run_report, run_report_on};

/// One snapshot per program, named after it.
fn check(name: &str, program: &str, sets: &[&str]) {
    let report = run_report(program, sets);
    insta::assert_snapshot!(name, report);
}

#[test]
fn example_programs() {
    for p in ["hello", "sum", "muldiv", "trap", "wild", "sv39"] {
        check(p, &format!("programs/asm/{p}.elf"), &[]);
    }
}

/// Programs that need a machine file: i386.s selects a custom page-table format that
/// programs/machines/i386.toml defines; sv39.s on the teaching machine (no caches).
#[test]
fn machine_files() {
    let table: &[(&str, &str, &str)] = &[
        (
            "i386",
            "programs/asm/i386.elf",
            "programs/machines/i386.toml",
        ),
        (
            "sv39-teaching",
            "programs/asm/sv39.elf",
            "programs/machines/teaching.toml",
        ),
        (
            "sv39-small-tlb",
            "programs/asm/sv39.elf",
            "programs/machines/small-tlb.toml",
        ),
    ];
    for (name, program, machine) in table {
        insta::assert_snapshot!(*name, run_report_on(program, Some(machine), &[]));
    }
    // Without the machine file there is no format 16: vmstatus reports it, translation
    // stays bare, and the S-mode store to VA 0x1000 reaches no memory.
    insta::assert_snapshot!(
        "i386-without-format",
        run_report("programs/asm/i386.elf", &[])
    );
}

/// The same program on other memory-system and pipeline designs.
#[test]
fn designs() {
    let table: &[(&str, &str, &[&str])] = &[
        (
            "sum-btfn",
            "programs/asm/sum.elf",
            &["timing.predictor=btfn"],
        ),
        (
            "sum-bimodal",
            "programs/asm/sum.elf",
            &["timing.predictor=bimodal"],
        ),
        (
            "sum-no-caches",
            "programs/asm/sum.elf",
            &["memory.l1i.enabled=false", "memory.l1d.enabled=false"],
        ),
        (
            "sum-l2",
            "programs/asm/sum.elf",
            &["memory.l2.enabled=true"],
        ),
        (
            "sv39-l2tlb-slow-walker",
            "programs/asm/sv39.elf",
            &["mmu.walker.level_latency=3", "mmu.l2tlb.sets=4"],
        ),
    ];
    for (name, program, sets) in table {
        check(name, program, sets);
    }
}

/// The ELF files of one folder of `programs/`, by stem, sorted.
fn stems(dir: &str, filter: impl Fn(&str) -> bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(vmlab_snapshots::root().join(dir))
        .expect("the folder exists")
        .filter_map(|e| {
            let p = e.expect("an entry").path();
            let name = p.file_name()?.to_str()?.to_string();
            let stem = name.strip_suffix(".elf")?.to_string();
            filter(&stem).then_some(stem)
        })
        .collect();
    v.sort();
    v
}

/// The self-checking test programs, the C programs and the small benchmark builds.
#[test]
fn test_c_and_bench_programs() {
    for (dir, prefix) in [("programs/tests", "tests"), ("programs/c", "c")] {
        for stem in stems(dir, |_| true) {
            check(
                &format!("{prefix}-{stem}"),
                &format!("{dir}/{stem}.elf"),
                &[],
            );
        }
    }
    for stem in stems("programs/bench", |s| s.ends_with("-small")) {
        check(
            &format!("bench-{stem}"),
            &format!("programs/bench/{stem}.elf"),
            &[],
        );
    }
}
