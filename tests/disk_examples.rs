//! Runs `vmlab disk` on every example in `programs/disk/` and snapshots its text and JSON
//! output (and the `--compare` table), plus explicit checks of numbers worked out by hand in
//! `docs/disk.md` and the examples' comments.

use std::path::Path;
use std::process::Command;
use vmlab::disk_cmd::{self, DiskFile, DiskRun};
use vmlab_devices::disk::Scheduler;

/// Every example in `programs/disk/`; `every_example_is_tested` keeps this list complete.
mod common;

const EXAMPLES: &[&str] = &[
    "faults",
    "ostep",
    "random",
    "schedulers",
    "sequential",
    "sptf",
    "ssd",
    "tracks",
    "zoned",
];

fn vmlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run vmlab");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: unexpected stderr {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn snapshot(name: &str) {
    let path = format!("programs/disk/{name}.toml");
    let text = vmlab(&["disk", &path]);
    insta::assert_snapshot!(format!("{name}.txt"), text);
    let json = vmlab(&["disk", &path, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert!(v["requests"].is_array() && v["stats"].is_object(), "{path}");
    insta::assert_snapshot!(format!("{name}.json"), json);
}

macro_rules! examples {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { snapshot($name) })*
    };
}

examples! {
    example_faults => "faults",
    example_ostep => "ostep",
    example_random => "random",
    example_schedulers => "schedulers",
    example_sequential => "sequential",
    example_sptf => "sptf",
    example_ssd => "ssd",
    example_tracks => "tracks",
    example_zoned => "zoned",
}

#[test]
fn zoned_example_by_hand() {
    // disk.py -z 30,20,10 -o 1 -a 5,40,12,20 -p SATF -w 2, worked with disk.py's rules:
    // blocks 0-11 (30 degrees), 12-29 (20), 30-65 (10); each sector 0 centred at 180 and
    // skewed one sector per track; the head at angle 0 on the outer track.
    // Window {5, 40}: 5 starts at 315 (seek 0 + wait 315); 40 (track 2, sector 10 + skew 2,
    // centred at 300, starting at 295) after a seek of 80: wait 215. 40 first.
    // Window {5, 12} at 305: 12 (centred at 200, starting at 190) from 345: 205. Then
    // {5, 20} at 570 (angle 210): 5 after a seek of 40 waits 65; 20 (starting at 350)
    // waits 140. Last 20 from 705 + 40 (angle 25): 325.
    assert_eq!(
        split(&run("zoned", None)),
        [
            (40, 80, 215, 10, 305),
            (12, 40, 205, 20, 570),
            (5, 40, 65, 30, 705),
            (20, 40, 325, 20, 1090)
        ]
    );
}

#[test]
fn compare_tables() {
    for name in ["schedulers", "random"] {
        let path = format!("programs/disk/{name}.toml");
        insta::assert_snapshot!(
            format!("{name}.compare.txt"),
            vmlab(&["disk", &path, "--compare"])
        );
    }
    let json = vmlab(&[
        "disk",
        "programs/disk/schedulers.toml",
        "--compare",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let runs = v["runs"].as_array().expect("runs");
    let names: Vec<&str> = runs
        .iter()
        .map(|r| r["scheduler"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["fcfs", "sstf", "scan", "look", "c-scan", "c-look", "sptf"]
    );
    insta::assert_snapshot!("schedulers.compare.json", json);
}

#[test]
fn scheduler_flag_overrides_the_file() {
    let text = vmlab(&["disk", "programs/disk/sptf.toml", "--scheduler", "FCFS"]);
    assert!(
        text.contains("scheduler  fcfs: first come, first served"),
        "{text}"
    );
    insta::assert_snapshot!("sptf.fcfs.txt", text);
}

#[test]
fn every_example_is_tested() {
    assert_eq!(
        common::example_stems("disk"),
        EXAMPLES,
        "add new examples to EXAMPLES and examples!"
    );
}

fn load(name: &str) -> DiskFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("programs/disk/{name}.toml"));
    DiskFile::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(name: &str, s: Option<Scheduler>) -> DiskRun {
    disk_cmd::run(&load(name), s).expect("runs")
}

/// (block, seek, rotation, transfer, finish) of each request in service order.
fn split(r: &DiskRun) -> Vec<(u64, u64, u64, u64, u64)> {
    r.completions
        .iter()
        .map(|c| (c.block, c.seek.0, c.rotation.0, c.transfer.0, c.finish.0))
        .collect()
}

#[test]
fn worked_example_of_docs_disk_md() {
    // docs/disk.md, "A worked example": OSTEP's `disk.py -a 10,18`, which prints
    //   Sector:  10  Seek:  0  Rotate:105  Transfer: 30  Total: 135
    //   Sector:  18  Seek: 40  Rotate:170  Transfer: 30  Total: 240
    // Request 2 by hand: it starts at 135; a 1-cylinder seek costs 40, so the head is over
    // cylinder 1 at 175, when the platter is at (175 + 195) mod 360 = 10. Sector 18 is
    // sector 6 of cylinder 1, whose slot starts at 6 x 360 / 12 = 180: a wait of 170. One
    // sector takes 360 / 12 = 30. Finish: 135 + 40 + 170 + 30 = 375.
    let r = run("ostep", None);
    assert_eq!(
        split(&r),
        vec![(10, 0, 105, 30, 135), (18, 40, 170, 30, 375)]
    );
    let c = &r.completions[1];
    assert_eq!((c.start.0, c.queue.0, c.service().0), (135, 135, 240));
    let p = c.position.expect("a spinning disk");
    assert_eq!((p.cylinder, p.head, p.sector), (1, 0, 6));
}

#[test]
fn sptf_beats_fcfs_on_ostep_7_30_8() {
    // SPTF: 7 (wait 15 from 195 to 210, transfer 30: 45), then 8 right behind it (30: 75),
    // then 30 on the inner track: seek 80 to 155, platter at (155 + 195) mod 360 = 350,
    // sector 30 is slot 6 at 180: wait 190, transfer 30: 375.
    let sptf = run("sptf", None);
    assert_eq!(
        split(&sptf),
        vec![
            (7, 0, 15, 30, 45),
            (8, 0, 0, 30, 75),
            (30, 80, 190, 30, 375)
        ]
    );
    // FCFS: 7 (45), then 30: seek 80 to 125, platter at 320, wait 220, transfer: 375; then
    // back to 8: seek 80 to 455, platter at 290, slot 8 at 240: wait 310, transfer: 795.
    let fcfs = run("sptf", Some(Scheduler::Fcfs));
    assert_eq!(
        split(&fcfs),
        vec![
            (7, 0, 15, 30, 45),
            (30, 80, 220, 30, 375),
            (8, 80, 310, 30, 795)
        ]
    );
}

#[test]
fn textbook_head_movements() {
    // The cylinders each scheduler moves the arm on the classic queue (see schedulers.toml).
    for (s, cylinders) in [
        (Scheduler::Fcfs, 640),
        (Scheduler::Sstf, 236),
        (Scheduler::Scan, 331),
        (Scheduler::Look, 299),
        (Scheduler::CScan, 382),
        (Scheduler::CLook, 322),
    ] {
        assert_eq!(
            run("schedulers", Some(s)).stats.seek_distance,
            cylinders,
            "{s}"
        );
    }
}

#[test]
fn tracks_example_by_hand() {
    // Request 1 (tracks.toml): overhead 3; head switch 0 -> 1: 4 (t = 7, platter at 7).
    // Sector 6 of head 1 is slot 7 (skew 1 x track 1): wait 63 to 70, 4 sectors to 110.
    // Cylinder switch: seek 5 to 115 (platter 15); cylinder 1 head 0 is track 2, sector 0 in
    // slot 2 (20): wait 5, 4 sectors to 160. Seek 4 + 5 = 9, rotation 68, transfer 80.
    let r = run("tracks", None);
    let c = &r.completions[0];
    assert_eq!(
        (
            c.overhead.0,
            c.seek.0,
            c.rotation.0,
            c.transfer.0,
            c.finish.0
        ),
        (3, 9, 68, 80, 160)
    );
}

#[test]
fn ssd_channels_example() {
    // Request 5 waits for the first channel to free up (request 2 or 3 at 35.192 µs).
    let r = run("ssd", None);
    let c = r.completions.iter().find(|c| c.id == 5).expect("request 5");
    assert_eq!((c.start.0, c.queue.0, c.finish.0), (35_192, 35_192, 70_384));
}

#[test]
fn faults_example_by_hand() {
    use vmlab_devices::disk::DiskFault::*;
    // faults.toml: seed 14 at rate 0.3 fails draws 2 (a write), 3 (a read) and 7 (a write
    // that times out); docs/disk.md gives the rule.
    let r = run("faults", None);
    let by_id = |id: u64| *r.completions.iter().find(|c| c.id == id).expect("request");
    let faults: Vec<_> = (1..=8).map(|id| by_id(id).fault).collect();
    assert_eq!(
        faults,
        [
            None,
            Some(Write),
            Some(Read),
            None,
            None,
            None,
            Some(Timeout),
            None
        ]
    );
    // The write error took exactly the time ostep.toml's request 2 takes to succeed.
    let c = by_id(2);
    assert_eq!(
        (c.start.0, c.seek.0, c.rotation.0, c.transfer.0, c.finish.0),
        (135, 40, 170, 30, 375)
    );
    // The timeout starts when request 6 finishes and takes exactly timeout = 1 s (1000
    // cycles at 1 kHz), with the arm left on cylinder 0 for request 8.
    let t = by_id(7);
    assert_eq!((t.start.0, t.finish.0, t.timeout.0), (1485, 2485, 1000));
    assert_eq!(
        by_id(8).seek_distance,
        1,
        "from cylinder 0 (request 6) to 1"
    );
    assert_eq!(r.stats.faults.total(), 3);
    assert_eq!(r.stats.read.blocks + r.stats.write.blocks, 5);

    // The same failures under every scheduler.
    for s in Scheduler::ALL {
        let other = run("faults", Some(s));
        let mut f: Vec<_> = other.completions.iter().map(|c| (c.id, c.fault)).collect();
        f.sort_by_key(|x| x.0);
        let want: Vec<_> = (1..=8).zip(faults.iter().copied()).collect();
        assert_eq!(f, want, "{s}");
    }

    // Without faults, the same file runs as before: the same schedule up to the request
    // that timed out.
    let mut file = load("faults");
    file.config.fault_rate = 0.0;
    let plain = disk_cmd::run(&file, None).expect("runs");
    assert!(plain.completions.iter().all(|c| c.fault.is_none()));
    assert_eq!(split(&plain)[..6], split(&r)[..6]);
    let text = disk_cmd::human(&file, &plain);
    assert!(!text.contains("FAILED") && !text.contains("\nfaults ") && !text.contains("\nfailed "));
    insta::assert_snapshot!(
        "faults.compare.txt",
        vmlab(&["disk", "programs/disk/faults.toml", "--compare"])
    );
}

#[test]
fn faults_in_json() {
    let json = vmlab(&["disk", "programs/disk/faults.toml", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["config"]["fault_rate"], 0.3);
    assert_eq!(v["config"]["fault_seed"], 14);
    let reqs = v["requests"].as_array().expect("requests");
    let failed: Vec<(u64, &str)> = reqs
        .iter()
        .filter(|r| !r["fault"].is_null())
        .map(|r| (r["id"].as_u64().unwrap(), r["fault"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, [(2, "write"), (3, "read"), (7, "timeout")]);
    assert!(reqs.iter().all(|r| r.get("fault").is_some()));
    assert_eq!(v["totals"]["failed"]["timeout"], 1);
    assert_eq!(v["totals"]["timeout"], 1000);
    assert_eq!(v["stats"]["disk.faults.read"], 1);
    // Without faults, none of these keys appear (the other examples' snapshots hold that).
    let plain = vmlab(&["disk", "programs/disk/ostep.toml", "--json"]);
    assert!(!plain.contains("fault") && !plain.contains("timeout"));
}
