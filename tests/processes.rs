//! Processes that share (issue 14): the corpus programs that fork, exec, wait, and talk
//! through pipes (`programs/linux/`, C with static glibc, their output recorded under
//! `qemu-riscv64`; `fork_exec`'s from Linux itself through a host `execve`) give what Linux
//! gave under the paging schemes, also when memory is short enough that pages shared
//! copy-on-write are evicted and swapped while shared; and every frame, page table and swap
//! slot is free again when the run ends (a frame leaked by a reference count would show).

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{check, run, test};
use vmlab::hosted::End;
use vmlab_os::kernel::Finish;

/// The programs of the corpus the kernel serves in full now.
const PROGRAMS: &[&str] = &[
    "fork_cow",
    "pipeline",
    "fork_exec",
    "vfork_exit",
    "sig_eintr",
];

/// The paging schemes, with what a glibc program needs of each (simple paging loads the
/// whole stack at start).
const PAGING: &[&[&str]] = &[
    &["os.scheme=vm-paging"],
    &[
        "os.scheme=simple-paging",
        "os.stack_size=4194304",
        "os.stack_limit=8388608",
    ],
];

/// Shared memory runs: vm-paging, and vm-paging short of memory (40 frames, Clock) so
/// that the shared pages are evicted and read back.
const SHM_SETS: &[&[&str]] = &[
    &["os.scheme=vm-paging"],
    &[
        "os.scheme=vm-paging",
        "os.user_frames=40",
        "os.policy=clock",
    ],
];

#[test]
fn the_process_programs_give_what_linux_gave_under_the_paging_schemes() {
    for name in PROGRAMS {
        let t = test(name);
        let want = t.want();
        for sets in PAGING {
            let r = run(&t, sets);
            check(&r, t.status, &want, &format!("{name} {sets:?}"));
            assert!(r.stat("os.processes.forks") > 0, "{name}: it forks");
        }
    }
}

#[test]
fn shared_anonymous_memory_is_shared_across_fork() {
    // MAP_SHARED | MAP_ANONYMOUS is a mapping of a file of zeros with no name, whose pages
    // are the page cache's: a forked child's stores are the parent's (vm-paging, the
    // scheme that maps files; a private mapping beside it stays private).
    let t = test("shm_anon");
    let r = run(&t, &["os.scheme=vm-paging"]);
    check(&r, 0, &t.want(), "shm_anon");
}

#[test]
fn shared_anonymous_memory_is_shared_across_fork_under_simple_paging() {
    // Simple paging maps no files: a shared anonymous mapping's frames are shared by the
    // fork itself, writable in both (the private mapping beside it is copied on write).
    let t = test("shm_anon");
    let r = run(&t, PAGING[1]);
    check(&r, 0, &t.want(), "shm_anon simple-paging");
    assert!(r.stat("os.processes.forks") > 0);
}

#[test]
fn fork_and_execve_work_under_the_partition_schemes() {
    // The parent's partition is copied at fork; execve writes exec_child's image to the
    // disk after the boot images (once) and admits the process into a partition of the
    // new program's size, as at boot.
    let t = test("fork_exec");
    for scheme in ["fixed-partitions", "dynamic-partitions"] {
        let sets = [&format!("os.scheme={scheme}"), "os.heap_reserve=4194304"];
        let r = run(&t, &sets);
        assert_eq!(
            r.end,
            End::Kernel(Finish::AllEnded { status: t.status }),
            "{scheme}: {:?}",
            r.reports
        );
        assert_eq!(r.stdout, t.want(), "{scheme}: {:?}", r.reports);
        assert!(r.stat("os.processes.forks") > 0, "{scheme}");
    }
}

#[test]
fn madvise_dontneed_keeps_shared_pages_and_drops_private_ones() {
    // A dropped private page reads as zeros; a shared one keeps what it held (the page
    // cache's page under vm-paging; under simple paging the frame is not let go).
    let t = test("shm_madvise");
    for sets in PAGING {
        let r = run(&t, sets);
        check(&r, 0, &t.want(), &format!("shm_madvise {sets:?}"));
    }
}

#[test]
fn system_v_shared_memory_gives_what_linux_gave() {
    // Segments are files with no name, attached as shared mappings: through fork, two
    // attaches in one process, IPC_RMID while attached, the errors of shmget and shmdt;
    // also when memory is short and the segment's pages are evicted and read back.
    let t = test("shm_sysv");
    for sets in SHM_SETS {
        let r = run(&t, sets);
        check(&r, 0, &t.want(), &format!("shm_sysv {sets:?}"));
        if sets.len() > 1 {
            // The segment's pages are the page cache's: evicted (written back) there.
            assert!(r.stat("os.paging.evictions") > 0, "{sets:?}: pressure");
            assert!(r.stat("os.page_cache.evictions") > 0, "{sets:?}: pressure");
        }
    }
}

#[test]
fn system_v_shared_memory_at_its_edges() {
    // nattch through fork and exit and across pieces of an attach, shmdt and shmat at
    // given addresses, permission bits, a marked segment attached by id, shmctl's errors,
    // the limit on the number of segments.
    let t = test("shm_edges");
    let want = t.want();
    for sets in SHM_SETS {
        let r = run(&t, sets);
        check(&r, 0, &want, &format!("shm_edges {sets:?}"));
    }
    // Small limits: the sizes Linux's defaults allow fail as Linux fails them (above
    // SHMMAX: EINVAL; beyond SHMALL pages in all: ENOSPC), and the count stops at SHMMNI.
    let r = run(
        &t,
        &[
            "os.scheme=vm-paging",
            "os.shmmax=524288",
            "os.shmall=32",
            "os.shmmni=8",
        ],
    );
    let small = want
        .replace("shmget of 1 MiB: no error", "shmget of 1 MiB: EINVAL")
        .replace("shmget of 64 pages: no error", "shmget of 64 pages: ENOSPC")
        .replace("shmmni 4096", "shmmni 8");
    assert_ne!(small, want);
    check(&r, 0, &small, "shm_edges with small limits");
}

#[test]
fn execve_drops_system_v_attaches() {
    // The exec'd program has none of the child's attaches: nattch falls to the parent's
    // one while it runs, and a marked segment only the child had attached goes.
    let t = test("shm_exec");
    for sets in SHM_SETS {
        let r = run(&t, sets);
        check(&r, 0, &t.want(), &format!("shm_exec {sets:?}"));
    }
}

#[test]
fn system_v_shared_memory_needs_a_scheme_that_maps_files() {
    // Simple paging maps no files (shmat: ENODEV, as mmap of a file); the contiguous
    // schemes have no room for mappings (ENOMEM, as mmap). shmget works in all: the
    // program prints its first line, then its shmat fails (perror, status 1).
    let t = test("shm_sysv");
    for sets in [
        PAGING[1],
        &["os.scheme=dynamic-partitions", "os.heap_reserve=4194304"][..],
    ] {
        let r = run(&t, sets);
        assert_eq!(
            r.stdout, "IPC_STAT after shmget: segsz 65536, mode 600, nattch 0\n",
            "{sets:?}"
        );
        assert_eq!(
            r.end,
            End::Kernel(Finish::AllEnded { status: 1 }),
            "{sets:?}"
        );
    }
}

#[test]
fn posix_shared_memory_gives_what_linux_gave() {
    // shm_open makes a file in /dev/shm (a file system like /tmp): ftruncate, mmap
    // MAP_SHARED, fork, a second shm_open of the name, read and write through the
    // descriptor, shm_unlink; also when memory is short.
    let t = test("shm_posix");
    for sets in SHM_SETS {
        let r = run(&t, sets);
        check(&r, 0, &t.want(), &format!("shm_posix {sets:?}"));
    }
}

#[test]
fn fork_shares_pages_copy_on_write() {
    let t = test("fork_cow");
    let r = run(&t, &["os.scheme=vm-paging"]);
    check(&r, 0, &t.want(), "fork_cow");
    // Pages are shared at each fork, and the stores after it copy some of them (the last
    // sharer of a frame takes it over without a copy).
    assert!(r.stat("os.paging.cow.shared") > 1000, "{:?}", r.stats);
    assert!(r.stat("os.paging.cow.copies") > 0);
    assert!(r.stat("os.paging.cow.reused") > 0);
    // Every copy-on-write fault copies or takes over (a copy that waited for a frame is
    // made when the frame comes, and its fault is not counted twice).
    assert!(
        r.stat("os.paging.cow.copies") + r.stat("os.paging.cow.reused") >= r.stat("os.faults.cow")
    );
    // Every process but the first was forked, and every one was collected.
    let forks = r.stat("os.processes.forks");
    assert_eq!(r.stat("os.processes.spawned"), forks + 1);
    assert!(
        r.stat("os.processes.reaped") >= forks - 1,
        "{:?}",
        r.reports
    );
}

#[test]
fn shared_pages_survive_eviction_and_swap() {
    // Little memory: frames shared copy-on-write are chosen as victims, written once to one
    // swap slot that every sharer then holds, and read back by each.
    for policy in ["fifo", "clock", "lru"] {
        for (name, frames) in [("fork_cow", 160), ("pipeline", 56)] {
            let t = test(name);
            let sets = [
                "os.scheme=vm-paging",
                &format!("os.user_frames={frames}"),
                &format!("os.policy={policy}"),
            ];
            let r = run(&t, &sets);
            let what = format!("{name} {policy}");
            check(&r, t.status, &t.want(), &what);
            assert!(
                r.stat("os.paging.evictions") > 100,
                "{what}: {} evictions",
                r.stat("os.paging.evictions")
            );
            assert!(r.stat("os.paging.writebacks") > 0, "{what}");
        }
    }
}

#[test]
fn local_replacement_hands_shared_frames_on() {
    // Each space has its own policy: a shared frame is in its first mapper's, and passes
    // to the next mapper's when that one lets go.
    let t = test("fork_cow");
    let r = run(
        &t,
        &[
            "os.scheme=vm-paging",
            "os.frames_per_process=48",
            "os.policy=clock",
        ],
    );
    check(&r, 0, &t.want(), "fork_cow local");
    assert!(r.stat("os.paging.evictions") > 0);
}
