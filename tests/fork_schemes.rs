//! `fork` under each of the six memory-management schemes: `programs/os/fork.s` (values in
//! data, heap and stack; the child checks and overwrites them; the parent checks that its
//! own are unchanged) must print the same lines and exit 0 under every scheme, and the
//! statistics must show each scheme's mechanism — copy-on-write sharing under paging, a
//! whole copy of the partition or block under the contiguous schemes, a shared text and
//! copied writable segments under segmentation. A fork that cannot fit gives the program
//! `ENOMEM`; every frame or block is free again at the end. A snapshot keeps what fork.s
//! costs under each scheme (the table of docs/schemes/*.md, "What fork costs").

use std::path::Path;
use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_cpu::elf::Elf;
use vmlab_os::image::Layout;
use vmlab_os::process::State;
use vmlab_os::services::{Event, Record};
use vmlab_os::Finish;

/// What fork.s prints when every check passed.
const FORKED: &str = "child: sees the parent's data, heap and stack; overwrites them\n\
                      parent: the child exited with status 42\n\
                      parent: its data, heap and stack are unchanged\n";

/// What it prints when the fork failed with ENOMEM.
const NO_MEMORY: &str = "parent: fork failed, errno 12\n";

/// The six schemes, each on the default machine.
const SCHEMES: [&str; 6] = [
    "fixed-partitions",
    "dynamic-partitions",
    "simple-segmentation",
    "vm-segmentation",
    "simple-paging",
    "vm-paging",
];

/// A finished run: the machine and kernel, what the processes wrote, the trace.
struct Run {
    h: Hosted,
    out: String,
    err: String,
    trace: Vec<Record>,
}

impl Run {
    /// The statistic `name`; a name the run does not report is a test error.
    fn stat(&self, name: &str) -> u64 {
        self.h
            .stat_list()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no statistic {name}"))
    }

    fn status(&self) -> u8 {
        self.h.end().expect("ended").exit_code()
    }

    /// How process `pid` ended.
    fn state(&self, pid: u32) -> State {
        self.h
            .kernel
            .processes()
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("no process {pid}"))
            .state
            .clone()
    }

    /// The cycles fork.s measured around its fork call (rdcycle before and after the
    /// ecall), from what it wrote to stderr.
    fn fork_call_cycles(&self) -> u64 {
        let line = self
            .err
            .lines()
            .find_map(|l| l.strip_prefix("fork.s: the fork call took (cycles) "))
            .unwrap_or_else(|| panic!("no cycle count on stderr: {:?}", self.err));
        line.trim().parse().expect("a number")
    }

    /// The `place` events of `pid`: what, and the size.
    fn places(&self, pid: u32) -> Vec<(&'static str, u64)> {
        self.trace
            .iter()
            .filter_map(|r| match &r.event {
                Event::Place {
                    pid: p, what, size, ..
                } if *p == pid => Some((*what, *size)),
                _ => None,
            })
            .collect()
    }
}

/// Runs `programs/os/NAME.s` for each name under the default machine with `sets`, to the
/// end (every process ended), with the kernel's trace on.
fn run(names: &[&str], sets: &[&str]) -> Run {
    let mut all: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    all.insert(0, "run.max_cycles=20000000000".into());
    let cfg = apply_set_all("", "(test)", &all).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let layout = Layout::for_scheme(cfg.os.scheme);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let programs: Vec<(String, Elf)> = names
        .iter()
        .map(|n| {
            let p = root.join(format!("programs/os/{n}.s"));
            let (elf, _) = load_program_laid_out(&p, Some(Target::Hosted), ram, layout)
                .unwrap_or_else(|e| panic!("{n}: {e}"));
            (format!("{n}.s"), elf)
        })
        .collect();
    let mut h = Hosted::with_trace(cfg, &programs, true).unwrap_or_else(|e| panic!("{e}"));
    let (mut out, mut err, mut trace) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let done = h.run_for(1 << 16);
        out.extend(h.machine.take_output());
        err.extend(h.machine.take_errors());
        trace.extend(h.take_trace());
        if done {
            break;
        }
    }
    assert!(
        matches!(h.end(), Some(End::Kernel(Finish::AllEnded { .. }))),
        "{names:?} {sets:?}: the run did not end with every process ended: {:?}",
        h.end()
    );
    Run {
        h,
        out: String::from_utf8(out).expect("UTF-8 output"),
        err: String::from_utf8(err).expect("UTF-8 errors"),
        trace,
    }
}

/// fork.s under `scheme` (and `sets`).
fn fork_under(scheme: &str, sets: &[&str]) -> Run {
    let mut all = vec![format!("os.scheme={scheme}")];
    all.extend(sets.iter().map(|s| s.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    run(&["fork"], &all)
}

/// Every frame, partition, block or segment is free again once every process ended.
fn all_free(r: &Run, scheme: &str) {
    match scheme {
        "fixed-partitions" => assert_eq!(r.stat("os.partitions.busy"), 0, "{scheme}"),
        "dynamic-partitions" => assert_eq!(
            r.stat("os.dynamic.free_bytes"),
            r.stat("os.dynamic.largest_hole"),
            "{scheme}: one hole"
        ),
        "simple-segmentation" | "vm-segmentation" => assert_eq!(
            r.stat("os.seg.free_bytes"),
            r.stat("os.seg.largest_hole"),
            "{scheme}: one hole"
        ),
        _ => assert_eq!(
            r.stat("os.paging.frames_free"),
            r.stat("os.paging.frames"),
            "{scheme}"
        ),
    }
    if matches!(scheme, "dynamic-partitions") {
        assert_eq!(r.stat("os.dynamic.holes"), 1, "{scheme}");
    }
    if scheme.ends_with("segmentation") {
        assert_eq!(r.stat("os.seg.holes"), 1, "{scheme}");
    }
}

/// fork.s prints the same report and exits 0 under every scheme; the child exits 42.
#[test]
fn fork_runs_under_every_scheme() {
    for scheme in SCHEMES {
        let r = fork_under(scheme, &[]);
        assert_eq!(r.out, FORKED, "{scheme}: output");
        assert_eq!(r.status(), 0, "{scheme}: status");
        assert_eq!(r.state(1), State::Exited(0), "{scheme}");
        assert_eq!(r.state(2), State::Exited(42), "{scheme}");
        assert_eq!(r.stat("os.processes.forks"), 1, "{scheme}");
        assert_eq!(r.stat("os.processes.forks_failed"), 0, "{scheme}");
        assert!(r.fork_call_cycles() > 0, "{scheme}");
        all_free(&r, scheme);
    }
}

/// Paging shares every page copy-on-write; the child's and the parent's stores then copy.
#[test]
fn paging_shares_pages_copy_on_write() {
    for scheme in ["simple-paging", "vm-paging"] {
        let r = fork_under(scheme, &[]);
        assert!(r.stat("os.paging.cow.shared") > 0, "{scheme}");
        assert!(r.stat("os.faults.cow") > 0, "{scheme}");
        // The child stores to data, heap and stack: three COW faults of its own.
        assert_eq!(r.stat("os.proc.2.faults.cow"), 3, "{scheme}");
    }
}

/// The contiguous schemes copy the parent's whole address space (its partition's bound,
/// its block) into the child's: the bytes copied are the size placed for each.
#[test]
fn partitions_copy_the_whole_space() {
    for (scheme, prefix, what) in [
        ("fixed-partitions", "os.partitions", "partition"),
        ("dynamic-partitions", "os.dynamic", "block"),
    ] {
        let r = fork_under(scheme, &[]);
        let parent = r.places(1);
        let child = r.places(2);
        assert_eq!(parent.len(), 1, "{scheme}: {parent:?}");
        assert_eq!(
            child, parent,
            "{scheme}: the child's {what} is the parent's size"
        );
        assert_eq!(parent[0].0, what);
        assert_eq!(r.stat(&format!("{prefix}.forks")), 1, "{scheme}");
        assert_eq!(
            r.stat(&format!("{prefix}.fork_bytes")),
            parent[0].1,
            "{scheme}: bytes copied"
        );
        assert_eq!(r.stat(&format!("{prefix}.placements")), 2, "{scheme}");
        assert!(r.stat(&format!("{prefix}.fork_cycles")) > 0, "{scheme}");
    }
}

/// Segmentation shares the text block and copies the data, heap and stack segments, each
/// into a block of the child's own (their `place` events; none for the text).
#[test]
fn segmentation_shares_text_and_copies_the_rest() {
    for scheme in ["simple-segmentation", "vm-segmentation"] {
        let r = fork_under(scheme, &[]);
        assert_eq!(r.stat("os.seg.forks"), 1, "{scheme}");
        assert_eq!(r.stat("os.seg.text_shared"), 1, "{scheme}");
        assert_eq!(r.stat("os.seg.segments_copied"), 3, "{scheme}");
        let child = r.places(2);
        let kinds: Vec<&str> = child.iter().map(|(w, _)| *w).collect();
        assert_eq!(kinds, ["data", "heap", "stack"], "{scheme}");
        let parent: Vec<(&str, u64)> = r.places(1);
        for (w, size) in &child {
            assert!(
                parent.contains(&(*w, *size)),
                "{scheme}: the child's {w} ({size} bytes) is the parent's size: {parent:?}"
            );
        }
        let copied: u64 = child.iter().map(|(_, s)| s).sum();
        assert_eq!(r.stat("os.seg.fork_bytes"), copied, "{scheme}");
        assert_eq!(r.stat("os.seg.swap_shared"), 0, "{scheme}");
    }
}

/// A fork that cannot fit: the program gets ENOMEM (errno 12, which it prints), exits 1,
/// and the run ends cleanly with everything free.
#[test]
fn fork_without_room_is_enomem() {
    let table: &[(&str, &[&str])] = &[
        // One partition: the parent's.
        ("fixed-partitions", &["os.partitions=[65536]"]),
        // 64 KiB: the parent's 44 KiB block, and no room for a second.
        ("dynamic-partitions", &["os.user_frames=16"]),
        // 48 KiB: the parent's four segments (40 KiB), and no room for the copies.
        ("simple-segmentation", &["os.user_frames=12"]),
        // The same; no clean text of another process to take out for room.
        ("vm-segmentation", &["os.user_frames=12"]),
        // No frame for the child's page tables.
        ("vm-paging", &["os.user_frames=11"]),
    ];
    for (scheme, sets) in table {
        let r = fork_under(scheme, sets);
        assert_eq!(r.out, NO_MEMORY, "{scheme}: output");
        assert_eq!(r.status(), 1, "{scheme}: status");
        assert_eq!(r.stat("os.processes.forks"), 0, "{scheme}");
        assert_eq!(r.stat("os.processes.forks_failed"), 1, "{scheme}");
        assert_eq!(r.h.kernel.processes().len(), 1, "{scheme}: no child stays");
        all_free(&r, scheme);
    }
}

/// Virtual-memory segmentation under pressure: long.s takes fork's segments out while it
/// yields, so the fork shares swap copies; later the shared text is taken out of both
/// holders at once, and (under random replacement) a segment whose swap copy is shared is
/// written to a fresh one. Both processes see the right values, long.s's data comes back intact,
/// and all memory is free at the end.
#[test]
fn vm_segmentation_shares_swap_copies_and_evicts_shared_text() {
    let sets = [
        "os.scheme=vm-segmentation",
        "os.user_frames=13",
        "os.stack_size=4096",
        "os.heap_reserve=4096",
    ];
    let r = run(&["t-forkswap", "long"], &sets);
    assert_eq!(r.out, FORKED);
    assert_eq!(r.status(), 0);
    assert_eq!(r.state(1), State::Exited(0));
    assert_eq!(r.state(2), State::Exited(0), "long.s's data came back");
    assert_eq!(r.state(3), State::Exited(42));
    assert_eq!(r.stat("os.seg.forks"), 1);
    assert!(r.stat("os.seg.swap_shared") > 0, "a swap copy was shared");
    assert!(r.stat("os.seg.shared_text_out") > 0, "a shared text left");
    all_free(&r, "vm-segmentation");
    // Random replacement: the child's data, brought in from the copy it shares with the
    // parent and overwritten, goes out again while the parent still holds that copy, so it
    // is written to a fresh one (the parent then reads its own values back).
    let mut random = sets.to_vec();
    random.push("os.policy=random");
    let r = run(&["t-forkswap", "long"], &random);
    assert_eq!(r.out, FORKED);
    assert_eq!(r.status(), 0);
    assert_eq!(r.state(3), State::Exited(42));
    assert!(r.stat("os.seg.swap_shared") > 0);
    assert!(
        r.stat("os.seg.swap_unshared") > 0,
        "a write-out took a fresh copy"
    );
    all_free(&r, "vm-segmentation");
    // Heavier: 12 frames, hundreds of segments in and out.
    let mut sets = sets;
    sets[1] = "os.user_frames=12";
    let r = run(&["t-forkswap", "long"], &sets);
    assert_eq!(r.out, FORKED);
    assert_eq!(r.state(2), State::Exited(0));
    assert!(r.stat("os.seg.segments_out") > 100);
    all_free(&r, "vm-segmentation");
}

/// What fork.s's fork costs under each scheme (docs/schemes/*.md, "What fork costs"): the
/// cycles of the fork call, the whole run's, and the statistics that show the mechanism.
#[test]
fn fork_costs_snapshot() {
    let mut text = String::new();
    for scheme in SCHEMES {
        let r = fork_under(scheme, &[]);
        text.push_str(&format!(
            "{scheme}: fork call {} cycles, run {} cycles\n",
            r.fork_call_cycles(),
            r.stat("cycles")
        ));
        for (name, value) in r.h.stat_list() {
            let shown = name.contains("fork")
                || name.contains("cow")
                || name.starts_with("os.seg.text_shared")
                || name.starts_with("os.seg.segments_copied")
                || name.starts_with("os.seg.swap_shared")
                || name == "os.pte_writes"
                || name == "os.disk.reads"
                || name == "os.disk.writes"
                || name == "os.kernel_cycles";
            if shown && value != 0 && !name.starts_with("os.proc.") {
                text.push_str(&format!("  {name} {value}\n"));
            }
        }
    }
    insta::assert_snapshot!("fork_costs", text);
}

/// Dynamic partitioning compacts memory for the child when the holes together hold it, and
/// the parent that compaction moved runs on at its new base: short.s leaves a 48 KiB hole
/// below the first t-forksleep.s, the second takes 44 KiB of it, and when the first wakes
/// and forks only a 4 KiB hole and a 40 KiB one are left. Both parents then see their own
/// values (a parent still relocated by its old base would read its child's stack).
#[test]
fn dynamic_fork_compacts_and_moves_the_parent() {
    let r = run(
        &["short", "t-forksleep", "t-forksleep"],
        &["os.scheme=dynamic-partitions", "os.user_frames=33"],
    );
    assert_eq!(r.out, format!("{FORKED}{FORKED}"));
    assert_eq!(r.status(), 0);
    assert_eq!(r.stat("os.dynamic.forks"), 2);
    assert_eq!(r.stat("os.dynamic.compactions"), 1);
    let moved: Vec<u32> = r
        .trace
        .iter()
        .filter_map(|rec| match &rec.event {
            Event::Compact { blocks, .. } => Some(blocks.iter().map(|b| b.pid)),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(moved, [2], "the compaction moved the forking parent");
    all_free(&r, "dynamic-partitions");
}
