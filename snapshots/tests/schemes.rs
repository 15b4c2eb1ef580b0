//! Whole-run snapshots of the kernel's six memory-management schemes on shared programs:
//! the end, exit status, output, process reports, cycles and every non-zero statistic
//! (fragmentation figures, faults, placements, compactions, swaps). Review every change: a
//! changed cycle count or figure must be explained in the commit message.

use vmlab_snapshots::hosted_report;

fn check(name: &str, programs: &[&str], sets: &[&str]) {
    insta::assert_snapshot!(name, hosted_report(programs, sets));
}

/// Two short and two long processes (`programs/os/short.s`, `long.s`), and the three
/// kinds of bad access, under each scheme.
#[test]
fn every_scheme() {
    let mix = [
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/long.s",
    ];
    let bad = [
        "programs/os/hello.s",
        "programs/os/segv-text.s",
        "programs/os/segv-null.s",
        "programs/os/exec-data.s",
    ];
    let table: &[(&str, &[&str])] = &[
        (
            "fixed-partitions",
            &[
                "os.scheme=fixed-partitions",
                "os.partitions=[49152,81920,98304]",
            ],
        ),
        (
            "dynamic-partitions",
            &["os.scheme=dynamic-partitions", "os.user_frames=40"],
        ),
        (
            "dynamic-partitions-no-compaction",
            &[
                "os.scheme=dynamic-partitions",
                "os.user_frames=40",
                "os.compaction=false",
            ],
        ),
        (
            "dynamic-partitions-best-fit",
            &[
                "os.scheme=dynamic-partitions",
                "os.user_frames=40",
                "os.fit=best",
            ],
        ),
        ("simple-segmentation", &["os.scheme=simple-segmentation"]),
        (
            "vm-segmentation",
            &["os.scheme=vm-segmentation", "os.user_frames=34"],
        ),
        (
            // Too little memory for whole segments: the processes break each other's
            // text/data pairs while they wait on the disk, and the livelock guard ends it.
            "vm-segmentation-livelock",
            &["os.scheme=vm-segmentation", "os.user_frames=22"],
        ),
        ("simple-paging", &["os.scheme=simple-paging"]),
        ("vm-paging", &["os.scheme=vm-paging", "os.user_frames=48"]),
    ];
    for (name, sets) in table {
        check(&format!("mix-{name}"), &mix, sets);
        check(&format!("bad-{name}"), &bad, sets);
    }
}

/// Thrashing: three copies of long.s fit in 36 frames, a fourth makes every process evict
/// pages the others need (600 times the cycles, the CPU idle on the disk).
#[test]
fn thrashing() {
    let long = "programs/os/long.s";
    check("thrash-3", &[long, long, long], &["os.user_frames=36"]);
    check(
        "thrash-4",
        &[long, long, long, long],
        &["os.user_frames=36"],
    );
}

/// A C program built with the cross toolchain against programs/os/vmlab.h (its sbrk, mmap,
/// write and exit), on a memory small enough to page.
#[test]
fn c_program() {
    check(
        "c-heap",
        &["programs/os/c/heap.elf"],
        &["os.user_frames=12"],
    );
}
