//! Signal handlers under the kernel: the corpus's signal programs (`programs/linux`,
//! `needs = ["signals"]`) give qemu-riscv64's output under the paging schemes, and
//! `sig_kernel` does in each of its modes what Linux does where qemu cannot say (its
//! expected output is here). The programs are static glibc binaries, committed.

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{manifest, root, Test};
use vmlab::hosted::{Hosted, Setup, StdinSource};
use vmlab::machine::apply_set_all;
use vmlab_cpu::elf::Elf;

/// The corpus's tests that need signal handlers.
fn signal_tests() -> Vec<Test> {
    manifest()
        .into_iter()
        .filter(|t| t.needs.iter().any(|n| n == "signals"))
        // (The programs that fork, exec or make threads as well are tests/processes.rs's
        // and tests/threads.rs's: they need their mounts.)
        .filter(|t| {
            !t.needs
                .iter()
                .any(|n| n == "fork" || n == "exec" || n == "threads")
        })
        .collect()
}

/// What a run gave.
struct Run {
    stdout: String,
    status: u8,
    reports: Vec<String>,
    stats: Vec<(String, u64)>,
    /// The trace's lines (`docs/trace.md`), when asked for.
    trace: Vec<String>,
}

/// Runs `bin/ELF` with `args` and the configuration `sets` (with the corpus's 8 MiB stack
/// limit) to its end.
fn run(elf: &str, args: &[&str], sets: &[&str]) -> Run {
    run_traced(elf, args, sets, false)
}

/// [`run`], with the kernel's trace when `trace`.
fn run_traced(elf: &str, args: &[&str], sets: &[&str], trace: bool) -> Run {
    run_all(&[elf], args, sets, trace)
}

/// Runs each of `elfs` as a process (pids 1, 2, ... in order), all with `args`.
fn run_all(elfs: &[&str], args: &[&str], sets: &[&str], trace: bool) -> Run {
    let mut all = vec![
        "run.max_insns=100000000".to_string(),
        "os.stack_limit=8388608".to_string(),
    ];
    all.extend(sets.iter().map(|s| s.to_string()));
    let cfg = apply_set_all("", "(test)", &all).expect("config");
    let programs: Vec<(String, Elf)> = elfs
        .iter()
        .map(|elf| {
            let program = Elf::open(&root().join(elf)).unwrap_or_else(|e| panic!("{elf}: {e}"));
            (elf.rsplit('/').next().unwrap_or(elf).to_string(), program)
        })
        .collect();
    let elf = elfs.join(" ");
    let setup = Setup {
        argv0: elfs.iter().map(|e| e.to_string()).collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        stdin: StdinSource::Empty,
        terminal: [false; 3],
        mounts: Vec::new(),
        cwd: None,
        sysroot: None,
    };
    let mut h = Hosted::with_setup(cfg, &programs, Vec::new(), trace, &setup)
        .unwrap_or_else(|e| panic!("{elf}: {e}"));
    let mut lines = Vec::new();
    while !h.run_for(1_000_000) {
        lines.extend(h.trace_lines());
    }
    let status = h.run().exit_code();
    lines.extend(h.trace_lines());
    Run {
        stdout: String::from_utf8_lossy(&h.machine.take_output()).into_owned(),
        status,
        reports: h.process_reports(),
        stats: h.stat_list(),
        trace: lines,
    }
}

fn stat(r: &Run, name: &str) -> u64 {
    r.stats
        .iter()
        .find(|(n, _)| n == name)
        .map_or_else(|| panic!("no statistic {name}"), |&(_, v)| v)
}

/// The schemes with per-page protection, as tests/linux.rs runs the corpus under them.
const PAGED: [&[&str]; 2] = [
    &["os.scheme=vm-paging"],
    &[
        "os.scheme=simple-paging",
        "os.stack_size=4194304",
        "os.stack_limit=8388608",
    ],
];

#[test]
fn the_corpus_signal_programs_give_qemus_output_under_both_paging_schemes() {
    let tests = signal_tests();
    assert!(tests.len() >= 3, "{tests:?}");
    for t in &tests {
        let want = std::fs::read_to_string(root().join(&t.stdout)).expect("expected stdout");
        for sets in PAGED {
            // (Simple paging cannot map files.)
            if sets[0] == "os.scheme=simple-paging" && t.needs.iter().any(|n| n == "file mmap") {
                continue;
            }
            let args: Vec<&str> = t.args.iter().map(String::as_str).collect();
            let r = run(&t.elf, &args, sets);
            assert_eq!(r.stdout, want, "{} {sets:?}: {:?}", t.name, r.reports);
            assert_eq!(r.status, t.status, "{} {sets:?}: {:?}", t.name, r.reports);
        }
    }
}

#[test]
fn a_write_barrier_handler_sees_each_first_store_and_returns_through_rt_sigreturn() {
    let r = run_traced("bin/sig_segv_mprotect", &[], &["os.scheme=vm-paging"], true);
    assert_eq!(r.status, 0, "{:?}", r.reports);
    assert!(r.reports.is_empty(), "{:?}", r.reports);
    assert_eq!(stat(&r, "os.processes.killed"), 0);
    // 4 + 8 + 3 + 3 faults went to the handler, and each handler returned through the
    // trampoline: one rt_sigreturn system call each, and no fault recorded there.
    let count = |what: &str| r.trace.iter().filter(|l| l.contains(what)).count();
    assert_eq!(count("\"name\":\"rt_sigreturn\""), 18, "{}", r.stdout);
    let trampoline_faults = r
        .trace
        .iter()
        .filter(|l| l.contains("\"event\":\"fault\"") && l.contains("0xfffffffffffff000"))
        .count();
    assert_eq!(trampoline_faults, 0);
}

/// `sig_kernel MODE`: its standard output and exit status, as Linux gives them, and a
/// piece of the kernel's report when the process is killed.
const KERNEL_MODES: &[(&str, &str, u8, &str)] = &[
    (
        "mask",
        "inside: SIGUSR1 1 SIGUSR2 1 SIGTERM 0\nafter: SIGUSR1 0 SIGUSR2 0\n",
        0,
        "",
    ),
    ("blocked", "faulting\n", 139, "store at 0x10: no-mapping"),
    ("ignored", "faulting\n", 139, "store at 0x10: no-mapping"),
    (
        "badframe",
        "raising\n",
        139,
        "could not be read back by rt_sigreturn",
    ),
    (
        "nostack",
        "raising on a bad stack\n",
        139,
        "signal frame at 0xfffffffffffffc00 could not be written",
    ),
    ("ucontext", "calls 1, a0 after the call 4242\n", 0, ""),
    (
        "resethand",
        "first: calls 1\n",
        138,
        "SIGUSR1 (10) was sent to it, and its default action ends the process",
    ),
];

#[test]
fn the_kernel_does_with_signals_what_linux_does() {
    for sets in PAGED {
        for &(mode, out, status, report) in KERNEL_MODES {
            let r = run("bin/sig_kernel", &[mode], sets);
            assert_eq!(r.stdout, out, "{mode} {sets:?}: {:?}", r.reports);
            assert_eq!(r.status, status, "{mode} {sets:?}: {:?}", r.reports);
            let reports = r.reports.join("\n");
            if report.is_empty() {
                assert!(r.reports.is_empty(), "{mode}: {reports}");
            } else {
                assert!(reports.contains(report), "{mode}: {reports}");
            }
        }
    }
}

#[test]
fn handlers_return_through_the_trampoline_under_base_and_bounds() {
    // No page tables: the return's fetch at the trampoline is past the bound, and it is
    // rt_sigreturn all the same.
    let sets = ["os.scheme=dynamic-partitions", "os.heap_reserve=4194304"];
    for mode in ["mask", "ucontext", "resethand"] {
        let &(_, out, status, _) = KERNEL_MODES.iter().find(|m| m.0 == mode).expect(mode);
        let r = run("bin/sig_kernel", &[mode], &sets);
        assert_eq!(r.stdout, out, "{mode}: {:?}", r.reports);
        assert_eq!(r.status, status, "{mode}: {:?}", r.reports);
    }
}

#[test]
fn a_handled_signal_cuts_a_sleep_short_with_eintr() {
    // Process 1 sleeps 2 s with a SIGUSR1 handler (SA_RESTART, which sleeps ignore);
    // process 2 wakes after 1 ms and sends it SIGUSR1.
    let r = run_all(
        &["bin/sig_kernel", "bin/sig_kernel"],
        &["sleep"],
        &["os.scheme=vm-paging"],
        false,
    );
    assert_eq!(
        r.stdout, "sender: kill 0\nsleeper: nanosleep -1 (EINTR), rem 1.x s, handler calls 1\n",
        "{:?}",
        r.reports
    );
    assert_eq!(r.status, 0, "{:?}", r.reports);
}

#[test]
fn sigsuspend_takes_a_pending_signal_at_once_and_waits_for_one_sent_later() {
    // Process 1: SIGUSR1 blocked and pending, sigsuspend(empty) takes it; then sigsuspend
    // waits until process 2 sends SIGUSR1 after 2 s. Each time: EINTR after the handler,
    // which runs with SIGUSR1 blocked, and the mask from before the call comes back.
    let r = run_all(
        &["bin/sig_kernel", "bin/sig_kernel"],
        &["suspend"],
        &["os.scheme=vm-paging"],
        false,
    );
    let line = |n: u32| {
        format!(
            "suspend {n}: sigsuspend -1 (EINTR), handler calls {n}, SIGUSR1 blocked inside 1, after 1\n"
        )
    };
    let want = format!("{}{}sender: kill 0\n", line(1), line(2));
    assert_eq!(r.stdout, want, "{:?}", r.reports);
    assert_eq!(r.status, 0, "{:?}", r.reports);
}
