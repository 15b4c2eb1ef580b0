//! Huge values of every integer key must never crash a run. Since every `u64` key takes any
//! value up to 2^64 - 1 (`tests/config_u64.rs`), a huge latency, cost or size reached the
//! models' arithmetic and `vmlab run` panicked (an overflow in a debug build) or stopped
//! for the wrong reason ("blocked: disk"). Now each key has a documented maximum
//! (`docs/config.md`, "Ranges") checked when the machine is built.
//!
//! For every integer key `vmlab config` prints (and the optional ones it leaves out), this
//! runs the built binary with `--set KEY=VALUE` for huge values and asserts that it never
//! panics, never hangs, and either runs or is refused (exit status 2) with a message that
//! names the key.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const VALUES: [&str; 2] = ["18446744073709551615", "9223372036854775808"];
const TIMEOUT: Duration = Duration::from_secs(20);

/// Every key whose value is an integer in `text` (a machine file), as `table.key`.
fn integer_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut table = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.to_string();
            continue;
        }
        let Some((k, v)) = line.split_once(" = ") else {
            continue;
        };
        let v = v.trim_matches('"');
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            keys.push(if table.is_empty() {
                k.to_string()
            } else {
                format!("{table}.{k}")
            });
        }
    }
    keys
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_vmlab")
}

/// The keys to try: what `vmlab config` prints, plus keys of optional tables and durations
/// of the disk (a plain number is cycles).
fn keys() -> Vec<String> {
    let out = Command::new(exe()).arg("config").output().unwrap();
    assert!(out.status.success());
    let mut keys = integer_keys(&String::from_utf8_lossy(&out.stdout));
    for k in [
        "mmu.l2tlb.hit_latency",
        "memory.diskctl.disk.timeout",
        "memory.diskctl.disk.hdd.rotation",
        "memory.diskctl.disk.hdd.head_switch",
        "memory.diskctl.disk.ssd.read_latency",
        "memory.diskctl.disk.ssd.write_latency",
    ] {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    }
    assert!(keys.len() > 90, "{keys:?}");
    keys
}

/// Runs `args` with a time limit: (exit status, stderr), or an error saying what went wrong.
fn run(args: &[String], tag: usize) -> Result<(Option<i32>, String), String> {
    let err_path: PathBuf = std::env::temp_dir().join(format!(
        "vmlab-config-ranges-{}-{tag}.err",
        std::process::id()
    ));
    let err_file = std::fs::File::create(&err_path).unwrap();
    let mut child = Command::new(exe())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&err_path);
            return Err(format!("did not finish within {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&err_path);
    Ok((status.code(), stderr))
}

/// What is wrong with `vmlab ARGS --set KEY=VALUE`'s outcome, if anything.
fn judge(key: &str, outcome: Result<(Option<i32>, String), String>) -> Option<String> {
    let (code, stderr) = match outcome {
        Ok(o) => o,
        Err(e) => return Some(e),
    };
    let first = stderr.lines().next().unwrap_or("").to_string();
    if code == Some(101) || stderr.contains("panicked") {
        return Some(format!("panicked: {stderr}"));
    }
    if code.is_none() {
        return Some(format!("killed by a signal: {first}"));
    }
    if stderr.contains("blocked: disk") {
        return Some(format!("stopped for the wrong reason: {first}"));
    }
    if code == Some(2) {
        // The message names the key: in full, or the unit and the leaf
        // ("invalid cache.l1d configuration: `size` = ...").
        let mut parts = key.rsplit('.');
        let leaf = parts.next().unwrap();
        let unit = parts.next().unwrap_or(leaf);
        if !(stderr.contains(key) || (stderr.contains(unit) && stderr.contains(leaf))) {
            return Some(format!("refused without naming the key: {first}"));
        }
    }
    None
}

/// Runs every (arguments, key) case on a few threads; returns the failures.
fn run_all(cases: Vec<(Vec<String>, String)>) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((args, key)) = cases.get(i) else {
                    break;
                };
                if let Some(why) = judge(key, run(args, i)) {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("vmlab {}: {why}", args.join(" ")));
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn huge_values_of_every_integer_key_never_crash_a_run() {
    let keys = keys();
    let mut cases = Vec::new();
    for key in &keys {
        for v in VALUES {
            let set = vec!["--set".to_string(), format!("{key}={v}")];
            let hosted = ["run", "programs/os/hello.s"].map(String::from);
            cases.push(([hosted.to_vec(), set.clone()].concat(), key.clone()));
        }
        if !key.starts_with("os.") {
            let bare = ["run", "--bare", "programs/asm/sv39.s"].map(String::from);
            let set = vec!["--set".to_string(), format!("{key}={}", VALUES[0])];
            cases.push(([bare.to_vec(), set].concat(), key.clone()));
        }
    }
    assert!(cases.len() > 250, "only {} runs", cases.len());
    let failures = run_all(cases);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The example, with its message.
#[test]
fn a_huge_pipeline_fill_is_refused_with_its_range() {
    let out = Command::new(exe())
        .args([
            "run",
            "programs/os/hello.s",
            "--set",
            "timing.pipeline_fill=18446744073709551615",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "`timing.pipeline_fill` = 18446744073709551615 is too large: \
             a latency is at most 1000000 cycles"
        ),
        "{err}"
    );
}
