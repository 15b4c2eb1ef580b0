//! The kernel under a disk that fails on purpose (`memory.diskctl.disk.fault_rate`, seeded):
//! over the hosted programs and every scheme, no run hangs, no page is lost silently, and
//! every failure is reported. A request that fails is retried (`os.disk_retries`); one that
//! fails every try kills the process whose memory it was reading (SIGBUS, `io-error`),
//! leaves a page that was being written out in memory, or is reported in the kernel's
//! messages.

use vmlab::hosted::{End, Hosted};
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_cpu::elf::Elf;
use vmlab_os::kernel::Finish;
use vmlab_os::process::State;
use vmlab_os::services::Event;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Outcome {
    end: End,
    states: Vec<State>,
    stats: Vec<(String, u64)>,
    messages: Vec<String>,
    trace: Vec<vmlab_os::services::Record>,
}

impl Outcome {
    fn stat(&self, name: &str) -> u64 {
        self.stats
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }

    /// Failed completions the disk controller reported (every kind).
    fn controller_faults(&self) -> u64 {
        self.stats
            .iter()
            .filter(|(n, _)| n.contains("diskctl") && n.contains(".faults."))
            .map(|(_, v)| v)
            .sum()
    }
}

fn run(programs: &[&str], sets: &[String]) -> Outcome {
    let mut all = sets.to_vec();
    all.push("run.max_cycles=400000000000".into());
    let cfg = apply_set_all("", "(test)", &all).expect("config");
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let layout = vmlab_os::image::Layout::for_scheme(cfg.os.scheme);
    let loaded: Vec<(String, Elf)> = programs
        .iter()
        .map(|p| {
            let (elf, _) =
                load_program_laid_out(&root().join(p), Some(Target::Hosted), ram, layout)
                    .unwrap_or_else(|e| panic!("{e}"));
            (p.rsplit('/').next().unwrap_or(p).to_string(), elf)
        })
        .collect();
    let mut h = Hosted::with_trace(cfg, &loaded, true).unwrap_or_else(|e| panic!("{e}"));
    let end = h.run().clone();
    Outcome {
        end,
        states: h
            .kernel
            .processes()
            .iter()
            .map(|p| p.state.clone())
            .collect(),
        stats: h.stat_list(),
        messages: h.kernel.messages().to_vec(),
        trace: h.take_trace(),
    }
}

/// Runs `programs` under `sets` without faults, then with faults at `rate` for each seed,
/// and checks the promises above. Returns how many requests failed for good in all, and
/// how many pages stayed in memory because their write-out failed.
fn check(programs: &[&str], sets: &[&str], rate: f64, retries: u32, seeds: u64) -> (u64, usize) {
    let base: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let clean = run(programs, &base);
    assert!(
        matches!(clean.end, End::Kernel(Finish::AllEnded { .. })),
        "{sets:?} without faults: {:?}",
        clean.end
    );
    let mut given_up = 0;
    let mut kept = 0;
    for seed in 1..=seeds {
        let mut s = base.clone();
        s.push(format!("memory.diskctl.disk.fault_rate={rate}"));
        s.push(format!("memory.diskctl.disk.fault_seed={seed}"));
        s.push(format!("os.disk_retries={retries}"));
        let r = run(programs, &s);
        let what = format!("{s:?}");
        // No hang: every process ended, none waits for a completion that never comes.
        assert!(
            matches!(r.end, End::Kernel(Finish::AllEnded { .. })),
            "{what}: {:?}: {:?}",
            r.end,
            r.states
        );
        // Every failed completion was retried or given up on, and each is counted.
        let retried = r.stat("os.disk.retries");
        let failed = r.stat("os.disk.failures");
        assert_eq!(r.controller_faults(), retried + failed, "{what}");
        given_up += failed;
        kept += r
            .messages
            .iter()
            .filter(|m| m.contains("stays in memory"))
            .count();
        // No page lost silently: a process either ends as it does on a perfect disk (its
        // exit code covers its own check of its data), or the disk's failure killed it.
        for (i, (want, got)) in clean.states.iter().zip(&r.states).enumerate() {
            match got {
                State::Killed(k) if k.cause == "io-error" => {
                    assert!(
                        k.detail.contains(" from disk block ") && k.detail.contains("failed: "),
                        "{what}: {k}"
                    );
                }
                _ => assert_eq!(got, want, "{what}: process {}", i + 1),
            }
        }
        // Every request given up on is told: its process was killed for it (or had ended
        // already), or the kernel's messages name it.
        for rec in &r.trace {
            let Event::DiskFailed { pid, .. } = rec.event else {
                continue;
            };
            let told = matches!(r.states.get(pid as usize - 1), Some(State::Killed(_)))
                || r.messages
                    .iter()
                    .any(|m| m.contains(&format!("process {pid}:")));
            assert!(told, "{what}: a failure of process {pid} went untold");
        }
        assert_eq!(
            r.stat("os.lost_writes") as usize,
            r.messages.iter().filter(|m| m.contains("misses")).count(),
            "{what}: every lost write is a message"
        );
    }
    (given_up, kept)
}

#[test]
fn paging_survives_a_failing_disk() {
    let mix = [
        "programs/os/touch.s",
        "programs/os/long.s",
        "programs/os/hello.s",
    ];
    // Retries hide most failures; with one retry at a high rate some are given up on.
    check(&mix, &["os.user_frames=40"], 0.1, 3, 4);
    let (given_up, _) = check(&mix, &["os.user_frames=40"], 0.5, 1, 4);
    assert!(
        given_up > 0,
        "nothing was given up on: the test tests nothing"
    );
    // Fixed allocation, a small memory, and LRU: many swap-outs, some failing for good
    // (their pages stay in memory).
    let (_, kept) = check(
        &mix,
        &[
            "os.user_frames=48",
            "os.frames_per_process=12",
            "os.policy=lru",
        ],
        0.4,
        1,
        3,
    );
    assert!(
        kept > 0,
        "no page-out failed for good: the test tests nothing"
    );
    check(&mix, &["os.scheme=simple-paging"], 0.5, 1, 3);
}

#[test]
fn the_other_schemes_survive_a_failing_disk() {
    let mix = [
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/short.s",
    ];
    for sets in [
        &[
            "os.scheme=fixed-partitions",
            "os.partitions=[49152,81920,98304]",
        ][..],
        &["os.scheme=dynamic-partitions", "os.user_frames=40"][..],
        &["os.scheme=simple-segmentation"][..],
        &["os.scheme=vm-segmentation", "os.user_frames=34"][..],
    ] {
        check(&mix, sets, 0.3, 3, 2);
        let (given_up, _) = check(&mix, sets, 0.6, 1, 2);
        assert!(given_up > 0, "{sets:?}: nothing was given up on");
    }
}

#[test]
fn a_file_write_back_that_fails_is_not_silent() {
    // msync's write fails on every try: msync answers -EIO, filemap.s exits 1. As on
    // Linux the page is clean from then on (nothing retries it), and a kernel message
    // names the page that could not be written.
    let data = std::fs::read(root().join("programs/os/data.txt")).expect("data.txt");
    let sets: Vec<String> = [
        "memory.diskctl.disk.fault_rate=1",
        "memory.diskctl.disk.fault_kinds=write",
        "os.disk_retries=2",
        "run.max_cycles=400000000000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let cfg = apply_set_all("", "(test)", &sets).expect("config");
    let ram = (cfg.memory.ram.base, cfg.memory.ram.size);
    let (elf, _) = load_program_laid_out(
        &root().join("programs/os/filemap.s"),
        Some(Target::Hosted),
        ram,
        vmlab_os::image::Layout::Flat,
    )
    .expect("filemap.s");
    let mut h = Hosted::with_files(
        cfg,
        &[("filemap.s".into(), elf)],
        vec![("data".into(), data.clone())],
        false,
    )
    .expect("boots");
    let end = h.run().clone();
    assert_eq!(end, End::Kernel(Finish::AllEnded { status: 1 }));
    let messages = h.kernel.messages().to_vec();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("page 0 of file /data could not be written back")
            && messages[0].contains("EIO"),
        "{messages:?}"
    );
    // The file on the disk is as it was: nothing half-written.
    assert_eq!(h.file_on_disk("data").expect("on the disk"), data);
    // In memory the store is still there, until the page leaves.
    assert_eq!(&h.file_contents("data").expect("in memory")[..4], b"VMLA");
    assert_eq!(
        h.stat_list()
            .into_iter()
            .find(|(n, _)| n == "os.lost_writes")
            .map(|(_, v)| v),
        Some(1)
    );
}
