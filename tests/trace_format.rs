//! `--trace` format v1 (`docs/trace.md`): every scheme's runs give the same cycles,
//! instructions and statistics with the trace on as off, and every line of the trace keeps
//! the format's rules — one JSON object with a cycle that never goes back, `machine` first
//! and `end` last, every address a `"0x..."` string — and says what happened consistently:
//! the `frame` events replayed give the frame table as it is at the end, `release` gives
//! back what `place` gave, compaction's `to` is where the moved block then is, and the
//! `refs` records under paging make up the reference string.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vmlab::hosted::Hosted;
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_cpu::elf::Elf;
use vmlab_os::image::Layout;
use vmlab_os::replace::Policy;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A program (a path under the root) linked for `layout`, named by its file name.
fn program(path: &str, layout: Layout) -> (String, Elf) {
    let p: PathBuf = root().join(path);
    let ram = (0x8000_0000, 128 << 20);
    let (elf, _) = load_program_laid_out(&p, Some(Target::Hosted), ram, layout)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    (name, elf)
}

/// What a run gave: its counters, and the trace's lines (none when it was off).
struct Outcome {
    stats: Vec<(String, u64)>,
    cycles: u64,
    instret: u64,
    output: Vec<u8>,
    lines: Vec<String>,
    census: Option<[u64; 5]>,
    samples: usize,
    timeline: Vec<vmlab_os::kernel::Sample>,
}

/// Runs `paths` (programs) on the default machine with `sets`, to the end, with the trace
/// on or off (OPT's two passes under `os.policy = opt`).
fn run(sets: &[&str], paths: &[&str], trace: bool) -> Outcome {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.insert(0, "run.max_cycles=20000000000".into());
    let cfg = apply_set_all("", "(test)", &sets).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
    let layout = Layout::for_scheme(cfg.os.scheme);
    let programs: Vec<(String, Elf)> = paths.iter().map(|p| program(p, layout)).collect();
    let mut h = if cfg.os.policy == Policy::Opt {
        Hosted::new_opt_with_trace(cfg, &programs, trace)
    } else {
        Hosted::with_trace(cfg, &programs, trace)
    }
    .unwrap_or_else(|e| panic!("{paths:?}: {e}"));
    let mut lines = Vec::new();
    let mut output = Vec::new();
    loop {
        let ended = h.run_for(1 << 16);
        output.extend(h.machine.take_output());
        lines.extend(h.trace_lines());
        if ended {
            break;
        }
    }
    lines.extend(h.trace_lines());
    assert!(h.trace_lines().is_empty(), "nothing after the end");
    Outcome {
        stats: h.stat_list(),
        cycles: h.machine.now(),
        instret: h.machine.retired(),
        output,
        lines,
        census: h.kernel.frame_census(),
        samples: h.kernel.timeline().len(),
        timeline: h.kernel.timeline().to_vec(),
    }
}

/// The keys whose values are addresses (hex strings) wherever they appear (`from`/`to` of
/// `switch` are pids).
const ADDRESS_KEYS: [&str; 14] = [
    "va", "pa", "base", "from", "to", "ptr", "start", "end", "root", "at", "addr", "pc", "target",
    "value",
];

fn is_hex(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.strip_prefix("0x").is_some_and(|h| {
            !h.is_empty()
                && u64::from_str_radix(h, 16).is_ok()
                && h == h.to_lowercase()
                && (h == "0" || !h.starts_with('0'))
        })
    })
}

fn hex(v: &Value) -> u64 {
    assert!(is_hex(v), "an address: {v}");
    u64::from_str_radix(&v.as_str().unwrap()[2..], 16).unwrap()
}

/// Every address field anywhere in `v` is a hex string; no field is null.
fn check_addresses(v: &Value, top: bool, event: &str, line: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(!x.is_null(), "{k} is null (omit it instead): {line}");
                let pid_field = top && event == "switch" && (k == "from" || k == "to");
                if ADDRESS_KEYS.contains(&k.as_str()) && !pid_field {
                    assert!(is_hex(x), "{k} is not a hex address: {line}");
                }
                if k == "args" {
                    let a = x.as_array().expect("args");
                    assert!(a.iter().all(is_hex), "args are hex: {line}");
                }
                check_addresses(x, false, event, line);
            }
        }
        Value::Array(a) => {
            for x in a {
                check_addresses(x, false, event, line);
            }
        }
        _ => {}
    }
}

const STATES: [&str; 8] = [
    "waiting-memory",
    "loading",
    "ready",
    "running",
    "blocked",
    "sleeping",
    "exited",
    "killed",
];

/// Checks the trace of a run (`paged`: under a paging scheme).
fn check_trace(o: &Outcome, paged: bool, what: &str) {
    let records: Vec<Value> = o
        .lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}")))
        .collect();
    assert!(records.len() >= 3, "{what}: a trace");
    let first = &records[0];
    assert_eq!(first["event"], "machine", "{what}: machine first");
    assert_eq!(first["version"], 1, "{what}");
    assert_eq!(records.last().unwrap()["event"], "end", "{what}: end last");
    let end = records.last().unwrap();
    assert_eq!(end["instret"], o.instret, "{what}");
    assert_eq!(end["cycle"], o.cycles, "{what}");
    let mut last = 0;
    let mut frames: BTreeMap<u64, String> = BTreeMap::new();
    let mut placed: BTreeMap<(u64, u64), (String, u64)> = BTreeMap::new();
    let mut moved_to: BTreeMap<u64, u64> = BTreeMap::new();
    let mut refs = 0usize;
    let mut samples = 0usize;
    let mut seen_end = false;
    let mut tlbs = 0;
    for (r, line) in records.iter().zip(&o.lines) {
        let cycle = r["cycle"]
            .as_u64()
            .unwrap_or_else(|| panic!("{what}: no cycle: {line}"));
        assert!(cycle >= last, "{what}: the cycle went back: {line}");
        last = cycle;
        let event = r["event"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no event: {line}"));
        assert!(!seen_end, "{what}: a record after end: {line}");
        check_addresses(r, true, event, line);
        let pid = r["pid"].as_u64().unwrap_or(0);
        match event {
            "machine" => assert!(std::ptr::eq(r, first), "{what}: one machine record"),
            "end" => seen_end = true,
            "tlb" => {
                tlbs += 1;
                for e in r["entries"].as_array().expect("entries") {
                    assert!(e["size"].as_u64().is_some_and(|s| s.is_power_of_two()));
                    assert_eq!(e["perms"].as_str().map(str::len), Some(4), "{line}");
                }
            }
            _ => assert_eq!(tlbs, 0, "{what}: tlb records come just before end: {line}"),
        }
        match event {
            "state" => {
                let s = r["state"].as_str().expect("state");
                assert!(STATES.contains(&s), "{what}: {line}");
                assert_eq!(r.get("on").is_some(), s == "blocked", "{what}: {line}");
            }
            "frame" => {
                frames.insert(hex(&r["pa"]), r["holds"].as_str().unwrap().to_string());
            }
            "place" => {
                let base = hex(&r["base"]);
                let what_ = r["what"].as_str().unwrap().to_string();
                let old = placed.insert((pid, base), (what_, r["size"].as_u64().unwrap()));
                assert!(old.is_none(), "{what}: placed twice: {line}");
            }
            "release" => {
                let base = hex(&r["base"]);
                let (w, _) = placed
                    .remove(&(pid, base))
                    .unwrap_or_else(|| panic!("{what}: released what was not placed: {line}"));
                assert_eq!(r["what"].as_str(), Some(w.as_str()), "{what}: {line}");
                if let Some(to) = moved_to.remove(&pid) {
                    assert_eq!(base, to, "{what}: the block is where compaction put it");
                }
            }
            "compact" => {
                let blocks = r["blocks"].as_array().expect("blocks");
                assert_eq!(r["moves"].as_u64(), Some(blocks.len() as u64), "{line}");
                let bytes: u64 = blocks.iter().map(|b| b["size"].as_u64().unwrap()).sum();
                assert_eq!(r["bytes"].as_u64(), Some(bytes), "{line}");
                for b in blocks {
                    let bpid = b["pid"].as_u64().unwrap();
                    let (from, to) = (hex(&b["from"]), hex(&b["to"]));
                    let entry = placed
                        .remove(&(bpid, from))
                        .unwrap_or_else(|| panic!("{what}: moved what was not placed: {line}"));
                    placed.insert((bpid, to), entry);
                    moved_to.insert(bpid, to);
                }
            }
            "refs" => {
                let v = r["vpns"].as_array().expect("vpns");
                assert!(!v.is_empty() && v.len() <= 1024, "{what}: {line}");
                assert!(v.iter().all(Value::is_u64), "{what}: {line}");
                refs += v.len();
            }
            "sample" => {
                samples += 1;
                assert!(r["procs"].is_array() && r["kernel"].is_u64(), "{line}");
            }
            "pte" => {
                let kind = r["kind"].as_str().unwrap();
                assert!(["invalid", "table", "leaf"].contains(&kind), "{line}");
                assert_eq!(r.get("target").is_some(), kind != "invalid", "{line}");
                assert_eq!(r.get("flags").is_some(), kind == "leaf", "{line}");
                assert!(r["span"].as_u64().is_some_and(|s| s.is_power_of_two()));
            }
            _ => {}
        }
    }
    assert!(tlbs >= 2, "{what}: the itlb and dtlb records");
    assert_eq!(samples, o.samples, "{what}: one sample per timeline point");
    if paged {
        assert!(refs > 0, "{what}: the reference string");
        // Replaying the frame events from an all-free table gives the table at the end.
        let census = o.census.expect("a frame table");
        let total = first["frames"].as_u64().expect("frames");
        assert_eq!(census.iter().sum::<u64>(), total, "{what}");
        let mut replay = [0u64; 5];
        for h in frames.values() {
            let i = ["free", "page", "page-table", "kernel", "page-cache"]
                .iter()
                .position(|k| k == h)
                .unwrap_or_else(|| panic!("{what}: holds {h}"));
            replay[i] += 1;
        }
        replay[0] += total - frames.len() as u64;
        assert_eq!(replay, census, "{what}: the frame events replayed");
    } else {
        assert_eq!(refs, 0, "{what}: refs only under paging");
    }
}

/// Runs with and without the trace; the counters must not differ, and the trace must keep
/// the rules.
fn same_with_trace(sets: &[&str], paths: &[&str]) -> Outcome {
    let what = format!("{paths:?} {sets:?}");
    let off = run(sets, paths, false);
    let on = run(sets, paths, true);
    assert!(off.lines.is_empty(), "{what}: no trace when off");
    assert_eq!(off.cycles, on.cycles, "{what}: cycles");
    assert_eq!(off.instret, on.instret, "{what}: instructions");
    assert_eq!(off.output, on.output, "{what}: output");
    assert_eq!(off.stats, on.stats, "{what}: statistics");
    assert_eq!(off.timeline, on.timeline, "{what}: the timeline");
    let paged = sets
        .iter()
        .all(|s| !s.starts_with("os.scheme=") || s.ends_with("paging"));
    check_trace(&on, paged, &what);
    on
}

fn events(o: &Outcome, kind: &str) -> Vec<Value> {
    o.lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] == kind)
        .collect()
}

#[test]
fn vm_paging_with_swap() {
    let o = same_with_trace(
        &["os.user_frames=32"],
        &["programs/os/touch.s", "programs/os/hello.s"],
    );
    let m = &serde_json::from_str::<Value>(&o.lines[0]).unwrap();
    assert_eq!(m["scheme"], "vm-paging");
    assert_eq!(m["frames"], 32);
    assert_eq!(m["levels"], 3);
    assert_eq!(m["format"], "sv39");
    assert!(events(&o, "evict").iter().all(|e| e["pa"].is_string()));
    assert!(!events(&o, "evict").is_empty(), "touch is evicted from");
    assert!(!events(&o, "pte").is_empty());
    assert!(!events(&o, "space").is_empty());
    assert!(events(&o, "state")
        .iter()
        .any(|s| s["state"] == "blocked" && s["on"] == "disk"));
}

#[test]
fn vm_paging_lru_working_set_and_local_opt() {
    same_with_trace(
        &[
            "os.user_frames=16",
            "os.policy=lru",
            "os.working_set_window=1000",
            "os.timeline_interval=500",
        ],
        &["programs/os/touch.s", "programs/os/stack.s"],
    );
    let o = same_with_trace(
        &["os.frames_per_process=4", "os.policy=opt"],
        &["programs/os/belady.s"],
    );
    let m = &serde_json::from_str::<Value>(&o.lines[0]).unwrap();
    assert_eq!(m["allocation"], "local");
    assert_eq!(m["policy"], "opt");
}

#[test]
fn simple_paging_and_mmap() {
    same_with_trace(
        &["os.scheme=simple-paging"],
        &["programs/os/touch.s", "programs/os/hello.s"],
    );
    let o = same_with_trace(&[], &["programs/os/mmap.s"]);
    let kinds: Vec<String> = events(&o, "layout")
        .iter()
        .flat_map(|l| {
            l["areas"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["kind"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.iter().any(|k| k == "anon"), "{kinds:?}");
}

#[test]
fn fixed_partitions() {
    let o = same_with_trace(
        &[
            "os.scheme=fixed-partitions",
            "os.partitions=[49152,81920,98304]",
        ],
        &[
            "programs/os/short.s",
            "programs/os/long.s",
            "programs/os/short.s",
            "programs/os/long.s",
        ],
    );
    let m = &serde_json::from_str::<Value>(&o.lines[0]).unwrap();
    assert_eq!(m["partitions"].as_array().map(Vec::len), Some(3));
    assert!(m.get("frames").is_none());
    assert_eq!(events(&o, "release").len(), 4);
}

#[test]
fn dynamic_partitions_compaction() {
    let o = same_with_trace(
        &["os.scheme=dynamic-partitions", "os.user_frames=40"],
        &[
            "programs/os/short.s",
            "programs/os/long.s",
            "programs/os/short.s",
            "programs/os/long.s",
            "programs/os/long.s",
        ],
    );
    let c = events(&o, "compact");
    assert_eq!(c.len(), 1, "one compaction");
    assert_eq!(c[0]["blocks"][0]["size"], 81920);
    assert!(events(&o, "state")
        .iter()
        .any(|s| s["state"] == "waiting-memory"));
}

#[test]
fn segmentation() {
    let o = same_with_trace(
        &["os.scheme=simple-segmentation"],
        &[
            "programs/os/hello.s",
            "programs/os/segv-text.s",
            "programs/os/exec-data.s",
        ],
    );
    let kill = events(&o, "kill");
    assert_eq!(kill.len(), 2);
    assert!(kill
        .iter()
        .all(|k| k["pc"].is_string() && k["addr"].is_string()));
    let o = same_with_trace(
        &["os.scheme=vm-segmentation", "os.user_frames=22"],
        &[
            "programs/os/long.s",
            "programs/os/short.s",
            "programs/os/long.s",
            "programs/os/short.s",
        ],
    );
    assert_eq!(events(&o, "evict").len(), 4);
    assert!(events(&o, "release")
        .iter()
        .any(|r| r["what"] == "text" || r["what"] == "data"));
}

#[test]
fn a_static_linux_program() {
    let o = same_with_trace(&[], &["programs/linux/bin/hello"]);
    let calls = events(&o, "syscall");
    assert!(!calls.is_empty());
    assert!(calls
        .iter()
        .all(|c| c["args"].as_array().is_some_and(|a| a.len() == 6)));
}

#[test]
fn the_binary_writes_the_same_lines() {
    let path = std::env::temp_dir().join(format!("vmlab-trace-v1-{}.jsonl", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .current_dir(root())
        .args([
            "run",
            "programs/os/touch.s",
            "programs/os/hello.s",
            "--set",
            "os.user_frames=32",
            "--trace",
        ])
        .arg(&path)
        .output()
        .expect("vmlab runs");
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).expect("the trace");
    let _ = std::fs::remove_file(&path);
    let lib = run(
        &["os.user_frames=32"],
        &["programs/os/touch.s", "programs/os/hello.s"],
        true,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), lib.lines.len());
    assert_eq!(lines, lib.lines);
}
