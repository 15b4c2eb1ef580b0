//! Threads (issue 14): `clone(CLONE_VM|CLONE_THREAD|...)`, futexes, thread groups. The
//! corpus programs (`programs/linux/`, static glibc, output recorded under
//! `qemu-riscv64`) — a mutex-protected counter, thread-local storage, condition variables
//! and a barrier (`pthread_counter`); `futex(2)` called directly, with its errors
//! (`futex_calls`); how a process with threads ends (`thread_life`) — give what Linux gave,
//! also when memory is short and the threads' shared pages are evicted; every frame,
//! table and swap slot is free at the end. `programs/os/thread.s` makes a thread by hand
//! under every scheme: the paging schemes run it in the same address space, the others
//! refuse with `ENOSYS` (one address space per process).

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{check, run, test, Test};
use std::path::Path;
use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_os::image::Layout;
use vmlab_os::kernel::Finish;

#[test]
fn the_thread_programs_give_what_linux_gave() {
    for name in ["pthread_counter", "futex_calls", "thread_life"] {
        let t = test(name);
        let r = run(&t, &["os.scheme=vm-paging"]);
        check(&r, t.status, &t.want(), name);
        assert!(
            r.stat("os.processes.threads") > 0,
            "{name}: it makes threads"
        );
    }
}

#[test]
fn the_thread_programs_run_under_simple_paging_too() {
    // (futex_calls maps a file, which simple paging cannot.) Thread stacks are mapped
    // PROT_NONE first and made accessible by mprotect, which gives them their frames.
    let sets = [
        "os.scheme=simple-paging",
        "os.stack_size=4194304",
        "os.stack_limit=8388608",
    ];
    for name in ["pthread_counter", "thread_life"] {
        let t = test(name);
        let r = run(&t, &sets);
        check(&r, t.status, &t.want(), &format!("{name} simple-paging"));
    }
}

#[test]
fn threads_share_pages_that_are_evicted_and_swapped() {
    // Few frames: the threads' stacks, the shared data and the counter's page go out
    // and come back while four threads use them.
    let t = test("pthread_counter");
    for policy in ["fifo", "clock", "lru"] {
        let sets = [
            "os.scheme=vm-paging",
            "os.user_frames=48",
            &format!("os.policy={policy}"),
        ];
        let r = run(&t, &sets);
        check(&r, 0, &t.want(), &format!("pthread_counter {policy}"));
        assert!(r.stat("os.pages_out") > 0, "{policy}: memory was short");
    }
    let sets = ["os.scheme=vm-paging", "os.frames_per_process=40"];
    let r = run(&t, &sets);
    check(&r, 0, &t.want(), "pthread_counter, local replacement");
}

#[test]
fn each_thread_has_its_own_counters_and_the_process_one_report() {
    let t = test("pthread_counter");
    let r = run(&t, &["os.scheme=vm-paging"]);
    // Main, 4 adders, 2 players, 4 at the barrier, 1 through the gate.
    assert_eq!(r.stat("os.processes.threads"), 11);
    assert_eq!(r.stat("os.processes.spawned"), 12);
    assert_eq!(r.stat("os.processes.forks"), 0);
    for tid in 2..=5 {
        // Each adder ran 100000 locked increments: millions of instructions.
        assert!(
            r.stat(&format!("os.proc.{tid}.instret")) > 1_000_000,
            "thread {tid}"
        );
    }
    assert!(r.reports.is_empty(), "nothing to report: {:?}", r.reports);
}

/// What `vfork_share` prints on Linux, where a vfork child runs in its parent's memory
/// (qemu-user makes vfork a fork and prints 0 and 1, and 0 for each `posix_spawn`).
const VFORK_SHARE: &str = "the vfork child's stores are the parent's: static 42, heap 43\n\
                           posix_spawn of a missing file: ENOENT\n\
                           posix_spawnp of a name no PATH folder holds: ENOENT\n\
                           posix_spawn of a directory: EACCES\n";

#[test]
fn a_vfork_child_borrows_its_parents_memory_under_paging() {
    let t = Test::bin("vfork_share", &[]);
    for sets in [
        &["os.scheme=vm-paging"][..],
        &[
            "os.scheme=simple-paging",
            "os.stack_size=4194304",
            "os.stack_limit=8388608",
        ][..],
    ] {
        let r = run(&t, sets);
        check(&r, 0, VFORK_SHARE, &format!("vfork_share {sets:?}"));
        // Four vforks (one of them posix_spawn's), none a thread, and no copy-on-write:
        // the children ran in the parent's pages.
        assert_eq!(r.stat("os.processes.forks"), 4, "{sets:?}");
        assert_eq!(r.stat("os.processes.threads"), 0, "{sets:?}");
        assert_eq!(r.stat("os.paging.cow.shared"), 0, "{sets:?}");
    }
}

/// Runs `programs/os/NAME.s` under the default machine with `sets`; its exit status.
fn run_s(name: &str, sets: &[&str]) -> u8 {
    match run_s_end(&[name], sets).0 {
        End::Kernel(Finish::AllEnded { status }) => status,
        other => panic!("{name} {sets:?}: {other:?}"),
    }
}

/// Runs `programs/os/NAME.s` for each of `names` (pids 1, 2, ...) under the default
/// machine with `sets`: how the run ended, and what the processes wrote.
fn run_s_end(names: &[&str], sets: &[&str]) -> (End, String) {
    let mut all: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    all.insert(0, "run.max_cycles=2000000000".into());
    let cfg = apply_set_all("", "(test)", &all).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let layout = Layout::for_scheme(cfg.os.scheme);
    let programs: Vec<_> = names
        .iter()
        .map(|name| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("programs/os/{name}.s"));
            let (elf, _) = load_program_laid_out(&p, Some(Target::Hosted), ram, layout)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (format!("{name}.s"), elf)
        })
        .collect();
    let mut h = Hosted::with_trace(cfg, &programs, false).unwrap_or_else(|e| panic!("{e}"));
    let end = h.run().clone();
    let out = String::from_utf8_lossy(&h.machine.take_output()).into_owned();
    (end, out)
}

#[test]
fn a_thread_by_hand_shares_the_space_under_paging_and_is_refused_elsewhere() {
    for (scheme, want) in [
        ("vm-paging", 42),
        ("simple-paging", 42),
        ("fixed-partitions", 38),
        ("dynamic-partitions", 38),
        ("simple-segmentation", 38),
        ("vm-segmentation", 38),
    ] {
        let status = run_s("thread", &[&format!("os.scheme={scheme}")]);
        assert_eq!(status, want, "{scheme}: 42 the thread stored, 38 ENOSYS");
    }
}

#[test]
fn a_futex_wait_no_one_will_wake_ends_the_run_as_stuck_and_says_where() {
    let (end, _) = run_s_end(&["t-futexstuck"], &["os.scheme=vm-paging"]);
    let End::Kernel(Finish::Stuck(why)) = end else {
        panic!("{end:?}");
    };
    assert!(
        why.contains("task 1 of process 1 (t-futexstuck.s) waits on the futex at 0x"),
        "{why}"
    );
}

#[test]
fn a_fork_waiting_for_frames_no_one_will_free_fails_with_enomem() {
    // fork.s's fork must wait for a frame for the child's page tables; the only other
    // process holding frames sleeps on a futex for ever. The fork fails with ENOMEM (as
    // Linux's would) instead of the parent being killed, and the run ends stuck on the
    // futex.
    for frames in [11, 12, 14, 16] {
        let sets = [format!("os.user_frames={frames}")];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let (end, out) = run_s_end(&["t-futexstuck", "fork"], &sets);
        assert_eq!(out, "parent: fork failed, errno 12\n", "{frames} frames");
        let End::Kernel(Finish::Stuck(why)) = end else {
            panic!("{frames} frames: {end:?}");
        };
        assert!(why.contains("waits on the futex"), "{why}");
    }
}
