//! Whole-run snapshots of the hosted machine: programs from `programs/os/` as processes under
//! the kernel. Each records the settings, how the run ended, vmlab's exit status, what the
//! processes wrote, the report of each process that did not exit 0, then `cycles`,
//! `instret` and every non-zero statistic (the machine's, then the kernel's), in their
//! stable order. Review every change: a changed count must be explained in the commit
//! message (`docs/os.md` says what the kernel charges and counts).

use vmlab_snapshots::hosted_report;

/// Runs `programs/os/NAME.s` for each of `names` as processes with `sets` (OPT's two
/// passes under `os.policy=opt`) and returns the report.
fn report(names: &[&str], sets: &[&str]) -> String {
    let paths: Vec<String> = names.iter().map(|n| format!("programs/os/{n}.s")).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    hosted_report(&paths, sets)
}

fn check(name: &str, names: &[&str], sets: &[&str]) {
    insta::assert_snapshot!(name, report(names, sets));
}

/// Every replacement policy on touch.s (64 pages swept in order, 4 times) beside
/// t-pattern.s (24 pages touched in a seeded irregular order): globally among 40 user
/// frames, and with a fixed allocation of 12 frames each.
/// (`policy-enhanced-clock-global-40` once recorded t-pattern.s exiting 1 — a dirty page's
/// D bit lost when its cleared A bit was set again — and `policy-opt-global-40` once took
/// more faults than LRU, when global OPT compared positions instead of distances.)
#[test]
fn replacement_policies() {
    for policy in ["fifo", "lru", "clock", "enhanced-clock", "random", "opt"] {
        let p = format!("os.policy={policy}");
        check(
            &format!("policy-{policy}-global-40"),
            &["touch", "t-pattern"],
            &[&p, "os.user_frames=40"],
        );
        check(
            &format!("policy-{policy}-fixed-12"),
            &["touch", "t-pattern"],
            &[&p, "os.frames_per_process=12"],
        );
    }
}

/// Simple paging (everything loaded at start, no faults) against demand paging.
#[test]
fn paging_schemes() {
    for scheme in ["simple-paging", "vm-paging"] {
        check(
            scheme,
            &["hello", "touch"],
            &[&format!("os.scheme={scheme}")],
        );
    }
}

/// Belady's anomaly: FIFO takes 13 faults with 4 frames and 14 with 5.
#[test]
fn belady() {
    for frames in [4, 5] {
        check(
            &format!("belady-fifo-{frames}"),
            &["belady"],
            &[&format!("os.frames_per_process={frames}")],
        );
    }
}

/// Three compute loops on a short time slice, with ASIDs and without (every switch flushes
/// the TLB).
#[test]
fn asids() {
    for (name, asids) in [("spin3-asids", "true"), ("spin3-no-asids", "false")] {
        check(
            name,
            &["t-spin", "t-spin", "t-spin"],
            &[
                "os.time_slice=5000",
                // An SSD, so that the three run side by side (on the default disk each
                // finishes before the next one's first page arrives).
                "memory.diskctl.disk.ssd.read_latency=\"25us\"",
                &format!("os.asids={asids}"),
            ],
        );
    }
}

/// A process killed beside one that runs on.
#[test]
fn isolation() {
    check("segv-text-hello", &["segv-text", "hello"], &[]);
}
