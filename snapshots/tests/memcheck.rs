//! `--memcheck` on the classic heap errors: each `programs/linux/src/mc_*.c` (static glibc,
//! `-g`) runs under the checker and its whole report is a snapshot: what the program wrote,
//! every report the checker wrote, its summary line and the exit status. Beside each
//! snapshot, the test checks the facts that matter on their own (the kind of each error and
//! the source line it names), so a snapshot cannot silently drift into a wrong answer.
//! Review every snapshot change; the reports name addresses, which move when the program or
//! the allocator lays memory out differently.

use vmlab::hosted::{Hosted, Setup};
use vmlab::machine::apply_set_all;
use vmlab_cpu::elf::Elf;
use vmlab_snapshots::root;

/// Runs `programs/linux/bin/NAME` under the checker with `sets`; returns the report and
/// the hosted run.
fn run(name: &str, sets: &[&str]) -> (String, Hosted) {
    let mut all: Vec<String> = vec!["os.memcheck=true".into()];
    all.extend(sets.iter().map(|s| s.to_string()));
    let cfg = apply_set_all("", "(defaults)", &all).expect("config");
    let elf = Elf::open(&root().join("programs/linux/bin").join(name)).expect("elf");
    let mut h = Hosted::with_setup(
        cfg,
        &[(name.to_string(), elf)],
        Vec::new(),
        false,
        &Setup::default(),
    )
    .expect("boots");
    let status = h.run().exit_code();
    let out = String::from_utf8_lossy(&h.machine.take_output()).into_owned();
    let mut report = format!(
        "program: {name}\nsettings: {}\nstatus: {status}\n",
        all.join(" ")
    );
    report.push_str("--- stdout\n");
    report.push_str(&out);
    report.push_str("--- memcheck\n");
    for l in h.take_memcheck() {
        report.push_str(&l);
        report.push('\n');
    }
    let summary = h.kernel.memcheck().map(|m| m.summary()).unwrap_or_default();
    report.push_str(&summary);
    report.push('\n');
    (report, h)
}

/// The program's report, snapshot, and each of `want` found in it in order.
fn check(name: &str, want: &[&str]) {
    let (report, _) = run(name, &[]);
    let mut rest = report.as_str();
    for w in want {
        match rest.find(w) {
            Some(i) => rest = &rest[i + w.len()..],
            None => panic!("{name}: expected {w:?} (in this order) in\n{report}"),
        }
    }
    insta::assert_snapshot!(name, report);
}

#[test]
fn allocating_too_little_and_reading_past_an_array() {
    check(
        "mc_overflow",
        &[
            "Invalid write of size 1 (by strcpy)",
            "by 0x",
            "main (mc_overflow.c:24)",
            "is 0 bytes after a block of size 13 alloc'd",
            "main (mc_overflow.c:22)",
            "Invalid read of size 4",
            "main (mc_overflow.c:32)",
            "is 0 bytes after a block of size 36 alloc'd",
            "ERROR SUMMARY: 2 errors from 2 contexts; leaked 0 bytes",
        ],
    );
}

#[test]
fn use_after_free() {
    check(
        "mc_use_after_free",
        &[
            "Invalid read of size 4",
            "main (mc_use_after_free.c:23)",
            "is 20 bytes inside a block of size 32 free'd",
            "free",
            "main (mc_use_after_free.c:",
            "Block was alloc'd at",
            "malloc",
            "Invalid write of size 4",
            "main (mc_use_after_free.c:24)",
            "is 24 bytes inside a block of size 32 free'd",
            "ERROR SUMMARY: 2 errors from 2 contexts",
        ],
    );
}

#[test]
fn double_free_is_reported_and_stopped() {
    // Under the checker the second free never reaches glibc, which would abort (134).
    check(
        "mc_double_free",
        &[
            "freed twice",
            "Invalid free(): double free of",
            "main (mc_double_free.c:24)",
            "is 0 bytes inside a block of size 24 free'd",
            "ERROR SUMMARY: 1 errors from 1 contexts",
        ],
    );
}

#[test]
fn invalid_frees() {
    check(
        "mc_invalid_free",
        &[
            "Invalid free():",
            "is not the start of a block malloc gave",
            "main (mc_invalid_free.c:31)",
            "is 4 bytes inside a block of size 32 alloc'd",
            "main (mc_invalid_free.c:34)",
            "not stack'd, malloc'd or (recently) free'd",
            "main (mc_invalid_free.c:37)",
            "bytes above the stack pointer",
            "ERROR SUMMARY: 3 errors from 3 contexts",
        ],
    );
}

#[test]
fn uninitialised_values_that_decide_something() {
    let (report, _) = run("mc_uninit", &[]);
    assert!(
        !report.contains("mc_uninit.c:49"),
        "a copy that decides nothing is not an error:\n{report}"
    );
    check(
        "mc_uninit",
        &[
            "Conditional jump or move depends on uninitialised value(s)",
            "main (mc_uninit.c:35)",
            "Use of uninitialised value of size 8 (as an address)",
            "main (mc_uninit.c:40)",
            "Syscall param write(buf) points to uninitialised byte(s)",
            "main (mc_uninit.c:45)",
            "is 4 bytes inside the 8 bytes at",
            "ERROR SUMMARY: 3 errors from 3 contexts",
        ],
    );
}

#[test]
fn leaks_definitely_indirectly_and_still_reachable() {
    check(
        "mc_leak",
        &[
            "16 bytes in 1 blocks are indirectly lost",
            "(mc_leak.c:31)",
            "40 bytes in 1 blocks are definitely lost",
            "(mc_leak.c:28)",
            "definitely lost: 40 bytes in 1 blocks",
            "indirectly lost: 16 bytes in 1 blocks",
            "ERROR SUMMARY: 2 errors from 2 contexts; leaked 56 bytes in 2 blocks",
        ],
    );
}

#[test]
fn a_pointer_never_given_memory() {
    check(
        "mc_wild",
        &[
            "Invalid write of size 1",
            "main (mc_wild.c:25)",
            "not stack'd, malloc'd or (recently) free'd",
            "ERROR SUMMARY: 1 errors from 1 contexts",
        ],
    );
}

#[test]
fn reading_a_dead_stack_frame() {
    check(
        "mc_stack",
        &[
            "Invalid read of size 4",
            "main (mc_stack.c:28)",
            "bytes below the stack pointer",
            "ERROR SUMMARY: 1 errors from 1 contexts",
        ],
    );
}

/// The correct allocation-heavy program (glibc's word-at-a-time string functions
/// included) gets no report under any allocator, and the checker leaves the cycles alone.
#[test]
fn a_correct_program_reports_nothing_under_every_allocator() {
    check(
        "mc_clean",
        &["ERROR SUMMARY: 0 errors from 0 contexts; leaked 0 bytes"],
    );
    for m in [
        "libc",
        "first-fit",
        "next-fit",
        "best-fit",
        "worst-fit",
        "segregated",
        "buddy",
        "slab",
        "pool",
    ] {
        let set = format!("os.malloc={m}");
        let (report, checked) = run("mc_clean", &[&set]);
        assert!(
            report.contains("ERROR SUMMARY: 0 errors from 0 contexts; leaked 0 bytes in 0 blocks"),
            "{m}:\n{report}"
        );
        // The same run without the checker: the same cycles, instructions and output.
        let cfg = apply_set_all("", "(defaults)", std::slice::from_ref(&set)).expect("config");
        let elf = Elf::open(&root().join("programs/linux/bin/mc_clean")).expect("elf");
        let mut plain = Hosted::with_setup(
            cfg,
            &[("mc_clean".to_string(), elf)],
            Vec::new(),
            false,
            &Setup::default(),
        )
        .expect("boots");
        plain.run();
        assert_eq!(plain.machine.now(), checked.machine.now(), "{m}: cycles");
        assert_eq!(plain.machine.retired(), checked.machine.retired(), "{m}");
    }
}

/// The errors are found under the kernel's allocators too (their headers are the redzones).
#[test]
fn errors_are_found_under_the_kernels_allocators() {
    for m in ["first-fit", "buddy", "slab", "pool"] {
        let set = format!("os.malloc={m}");
        for (name, want) in [
            ("mc_overflow", "Invalid write of size 1 (by strcpy)"),
            ("mc_use_after_free", "free'd"),
            ("mc_double_free", "double free"),
            ("mc_leak", "definitely lost: 40 bytes in 1 blocks"),
        ] {
            let (report, _) = run(name, &[&set]);
            assert!(report.contains(want), "{m} {name}:\n{report}");
        }
    }
}

/// A use after free that comes after the memory was given out again: invisible without a
/// quarantine (the old pointer writes into the new block, which is allowed), reported with
/// one under every allocator, where the freed block is held back and the new one lies
/// elsewhere.
#[test]
fn the_quarantine_catches_a_use_after_reuse() {
    let (report, _) = run("mc_reuse", &[]);
    assert!(report.contains("same memory: yes"), "{report}");
    assert!(report.contains("ERROR SUMMARY: 0 errors"), "{report}");
    let q = "os.memcheck_quarantine=1048576";
    for m in ["libc", "first-fit", "buddy", "slab", "pool"] {
        let set = format!("os.malloc={m}");
        let (report, _) = run("mc_reuse", &[q, &set]);
        for want in [
            "same memory: no",
            "Invalid write of size 4",
            "main (mc_reuse.c:25)",
            "is 8 bytes inside a block of size 24 free'd",
            "main (mc_reuse.c:21)",
            "Block was alloc'd at",
            "main (mc_reuse.c:18)",
            "ERROR SUMMARY: 1 errors from 1 contexts; leaked 0 bytes",
        ] {
            assert!(report.contains(want), "{m}: {want:?} in\n{report}");
        }
        if m == "libc" {
            insta::assert_snapshot!("mc_reuse-quarantine", report);
        }
    }
}

/// With redzones and a quarantine (which change the heap's layout, as Valgrind's do) every
/// error is still found with the same kind, block and lines, the correct program still
/// gives its own output and no report, and `malloc_usable_size` and `posix_memalign` still
/// hand the program its own pointers (mc_clean uses both).
#[test]
fn redzones_and_quarantine_keep_every_answer() {
    let expected_clean =
        std::fs::read_to_string(root().join("programs/linux/expected/mc_clean.out")).expect("out");
    for m in ["libc", "first-fit", "buddy", "slab"] {
        let sets = [
            "os.memcheck_redzone=32",
            "os.memcheck_quarantine=65536",
            &format!("os.malloc={m}"),
        ];
        let (report, _) = run("mc_clean", &sets);
        assert!(report.contains(&expected_clean), "{m}:\n{report}");
        assert!(
            report.contains("ERROR SUMMARY: 0 errors from 0 contexts; leaked 0 bytes"),
            "{m}:\n{report}"
        );
        for (name, want) in [
            (
                "mc_overflow",
                &[
                    "(by strcpy)",
                    "0 bytes after a block of size 13",
                    "mc_overflow.c:32",
                    "0 bytes after a block of size 36",
                ][..],
            ),
            (
                "mc_use_after_free",
                &[
                    "20 bytes inside a block of size 32 free'd",
                    "24 bytes inside a block of size 32 free'd",
                ][..],
            ),
            (
                "mc_reuse",
                &[
                    "same memory: no",
                    "8 bytes inside a block of size 24 free'd",
                ][..],
            ),
            (
                "mc_double_free",
                &["double free", "0 bytes inside a block of size 24 free'd"][..],
            ),
            (
                "mc_invalid_free",
                &[
                    "4 bytes inside a block of size 32 alloc'd",
                    "ERROR SUMMARY: 3 errors",
                ][..],
            ),
            (
                "mc_leak",
                &[
                    "definitely lost: 40 bytes in 1 blocks",
                    "indirectly lost: 16 bytes in 1 blocks",
                ][..],
            ),
        ] {
            let (report, _) = run(name, &sets);
            for w in want {
                assert!(report.contains(w), "{m} {name}: {w:?} in\n{report}");
            }
        }
    }
}
