//! `vmlab run` as a user meets it: the built binary on good and bad input, its exit status,
//! its stdout and its stderr. Temporary files live in the system temporary directory under
//! names unique to this process and test, and are removed at the end of each test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `vmlab ARGS` in the crate root.
fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the vmlab binary runs")
}

/// A temporary file that removes itself.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, bytes: &[u8]) -> Temp {
        let p = std::env::temp_dir().join(format!("vmlab-run-cli-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).expect("the temporary directory is writable");
        Temp(p)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Checks the exit status and that stderr contains every one of `stderr` (and stdout every
/// one of `stdout`).
fn check(args: &[&str], status: i32, stderr: &[&str], stdout: &[&str]) -> Output {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(status),
        "vmlab {args:?}: exit status\nstderr: {err}\nstdout: {text}"
    );
    for s in stderr {
        assert!(
            err.contains(s),
            "vmlab {args:?}: stderr lacks {s:?}:\n{err}"
        );
    }
    for s in stdout {
        assert!(
            text.contains(s),
            "vmlab {args:?}: stdout lacks {s:?}:\n{text}"
        );
    }
    out
}

#[test]
fn programs_that_cannot_be_loaded() {
    check(
        &["run", "programs/asm/no-such-program.elf"],
        2,
        &[
            "error: programs/asm/no-such-program.elf",
            "cannot read the file",
        ],
        &[],
    );
    let sum = std::fs::read(root().join("programs/asm/sum.elf")).expect("sum.elf");
    let truncated = Temp::new("truncated.elf", &sum[..100]);
    check(
        &["run", truncated.path()],
        2,
        &[truncated.path(), "truncated", "rebuild or re-copy the file"],
        &[],
    );
    let text = Temp::new("notes.elf", b"# not a program\n");
    check(
        &["run", text.path()],
        2,
        &["not an ELF file", "give vmlab a RISC-V executable"],
        &[],
    );
    // An assembly error reads as the assembler prints it, once: file:line:col: error: ...
    let bad = Temp::new("bad.s", b"start:\n  addi x1, x2\n");
    let out = check(
        &["run", bad.path()],
        2,
        &[
            ":2:14: error: wrong number of operands for addi",
            "  addi x1, x2\n",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(bad.path()), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    // The host's own binary: an ELF file, but not for RISC-V.
    let host = env!("CARGO_BIN_EXE_vmlab");
    check(
        &["run", host],
        2,
        &["vmlab runs RISC-V (machine 243) executables"],
        &[],
    );
}

#[test]
fn bad_machine_files() {
    let syntax = Temp::new("syntax.toml", b"[run]\nmax_insns = 3\n[memory\n");
    check(
        &["run", "programs/asm/sum.elf", "--machine", syntax.path()],
        2,
        &[&format!("{}:3:8:", syntax.path()), "[memory"],
        &[],
    );
    let unknown = Temp::new("unknown.toml", b"[run]\nmax_insn = 3\n");
    check(
        &["run", "programs/asm/sum.elf", "--machine", unknown.path()],
        2,
        &[
            &format!("{}:2:1:", unknown.path()),
            "unknown field `max_insn`",
            "max_insns",
        ],
        &[],
    );
    let impossible = Temp::new("impossible.toml", b"[memory.l1d]\nways = 0\n");
    check(
        &[
            "run",
            "programs/asm/sum.elf",
            "--machine",
            impossible.path(),
        ],
        2,
        &["l1d", "`ways` = 0", "use 1 (direct-mapped) to 1024 ways"],
        &[],
    );
    check(
        &[
            "run",
            "programs/asm/sum.elf",
            "--machine",
            "programs/machines/no-such-machine.toml",
        ],
        2,
        &["no-such-machine.toml"],
        &[],
    );
}

#[test]
fn bad_set_options() {
    check(
        &["run", "programs/asm/sum.elf", "--set", "run.max_insns"],
        2,
        &["--set run.max_insns: expected KEY=VALUE"],
        &[],
    );
    check(
        &["run", "programs/asm/sum.elf", "--set", "run.nope=1"],
        2,
        &["--set run.nope=1", "unknown field `nope`"],
        &[],
    );
    check(
        &["run", "programs/asm/sum.elf", "--set", "run.max_insns=abc"],
        2,
        &["--set run.max_insns=abc", "`abc` is not a number"],
        &[],
    );
    check(
        &["run", "programs/asm/sum.elf", "--set", "memory.l1d.ways=0"],
        2,
        &["`ways` = 0"],
        &[],
    );
}

#[test]
fn stops() {
    check(
        &["run", "programs/asm/sum.elf", "--max-insns", "10"],
        124,
        &["vmlab: stopped after 10 instructions (--max-insns)"],
        &[],
    );
    check(
        &["run", "programs/asm/sum.elf", "--max-cycles", "200"],
        124,
        &["vmlab: stopped at cycle", "(--max-cycles)"],
        &[],
    );
    check(
        &["run", "programs/asm/wild.elf"],
        125,
        &["vmlab: double fault:", "is mtvec/stvec set?"],
        &[],
    );
    let out = check(&["run", "programs/asm/sum.elf"], 36, &[], &[]);
    assert!(
        out.stderr.is_empty(),
        "a clean exit prints nothing: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = check(
        &["run", "programs/asm/hello.elf"],
        0,
        &[],
        &["hello, world"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "hello, world"
    );
}

/// `--max-insns`, `--max-cycles` and their `run.*` keys take any u64 (documented as u64),
/// beyond TOML's signed integers too.
#[test]
fn limits_take_any_u64() {
    for args in [
        &["--max-insns", "9223372036854775808"][..],
        &["--max-insns", "18446744073709551615"],
        &["--max-cycles", "18446744073709551615"],
        &["--set", "run.max_insns=18446744073709551615"],
        &["--set", "run.max_cycles=0xffffffffffffffff"],
    ] {
        let mut a = vec!["run", "programs/asm/sum.elf"];
        a.extend_from_slice(args);
        check(&a, 36, &[], &[]);
    }
    check(
        &["config", "--set", "run.max_insns=18446744073709551615"],
        0,
        &[],
        &["max_insns = \"18446744073709551615\""],
    );
    check(
        &[
            "run",
            "programs/asm/sum.elf",
            "--max-insns",
            "18446744073709551616",
        ],
        2,
        &["18446744073709551616"],
        &[],
    );
}

#[test]
fn stats() {
    let out = check(
        &["run", "programs/asm/sum.elf", "--stats", "json"],
        36,
        &[],
        &[],
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("--stats json prints valid JSON to stderr");
    // docs/timing.md counts sum.s by hand: 384 cycles, 49 instructions.
    assert_eq!(v["cycles"], 384, "{v}");
    assert_eq!(v["instret"], 49, "{v}");
    assert_eq!(v["exit_code"], 36, "{v}");
    assert!(v["mmu.requests.load"].is_u64(), "{v}");
    let keys: Vec<&String> = v.as_object().expect("an object").keys().collect();
    assert!(keys.len() > 50, "{keys:?}");

    check(
        &["run", "programs/asm/sum.elf", "--stats"],
        36,
        &[
            "sum.elf: the bare machine",
            "384 cycles = 384 ns at 1 GHz",
            "49, IPC 0.128",
            "L1D 75.0% of 8",
        ],
        &[],
    );
}

/// `--stats` (text) is a short headline: what ran, the time, the faults, the hit rates,
/// the idle share and one line per process, in a screenful.
#[test]
fn stats_headline_is_short() {
    let out = check(
        &[
            "run",
            "programs/os/touch.s",
            "programs/os/hello.s",
            "--set",
            "os.user_frames=32",
            "--stats",
        ],
        0,
        &[
            "touch.s, hello.s: hosted, scheme vm-paging, policy fifo, 32 user frames",
            "every process ended (status 0)",
            "2076562972 cycles = 2.077 s at 1 GHz",
            "1067, IPC",
            "267 page faults (64 minor, 203 major), 0 A/D-bit faults, 0 processes killed",
            "iTLB 92.7% of 274, dTLB 0.0% of 514",
            "L1I 96.2% of 264, L1D 85.0% of 1855",
            "CPU idle      100.0% of the cycles",
            "process 1     touch.s: exited 0; 1053 instructions, 265 page faults (64 minor, 201 major), working set peak 65 pages; at the end RSS 116 KiB, PSS 116 KiB, USS 116 KiB (peak RSS 116 KiB, PSS 116 KiB)",
            "process 2     hello.s: exited 0; 14 instructions, 2 page faults",
            "--stats full",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let n = err.lines().count();
    assert!((8..=25).contains(&n), "{n} lines:\n{err}");
    // No counter table, no timeline.
    assert!(!err.contains("mmu.itlb.hits.fetch"), "{err}");
    assert!(!err.contains("timeline"), "{err}");
}

/// Every key of `--stats json` is in `--stats full` under the same dotted name with the
/// same value, so a name from the docs greps in either; and `--stats-file` of a non-JSON
/// file writes that full table.
#[test]
fn stats_full_names_every_json_key() {
    for (args, code) in [
        (&["programs/asm/sum.elf"][..], 36),
        (
            &[
                "programs/os/touch.s",
                "programs/os/hello.s",
                "--set",
                "os.user_frames=32",
            ][..],
            0,
        ),
    ] {
        let run = |fmt: &str| {
            let mut a = vec!["run"];
            a.extend_from_slice(args);
            a.extend_from_slice(&["--stats", fmt]);
            let out = vmlab(&a);
            assert_eq!(out.status.code(), Some(code), "{a:?}");
            String::from_utf8(out.stderr).expect("UTF-8")
        };
        let json: serde_json::Value = serde_json::from_str(&run("json")).expect("JSON");
        let full = run("full");
        let table: std::collections::HashMap<&str, &str> = full
            .lines()
            .filter_map(|l| {
                let (name, value) = l.split_once(' ')?;
                (!name.is_empty()).then(|| (name, value.trim()))
            })
            .collect();
        let obj = json.as_object().expect("an object");
        for (k, v) in obj {
            if k == "os.timeline" {
                assert!(full.contains("timeline"), "{full}");
                continue;
            }
            let Some(t) = table.get(k.as_str()) else {
                panic!("--stats full lacks {k}:\n{full}");
            };
            match v {
                serde_json::Value::String(s) => assert_eq!(t, s, "{k}"),
                serde_json::Value::Number(n) if n.is_f64() => {
                    let x: f64 = t.parse().expect("a number");
                    assert_eq!(x, n.as_f64().unwrap(), "{k}");
                }
                other => assert_eq!(*t, other.to_string(), "{k}"),
            }
        }
        assert!(obj.len() > 100, "{}", obj.len());
        assert!(full.starts_with("summary\n"), "{full}");
    }
}

/// `-v` logging has no colour codes when stderr is not a terminal (here a pipe), and
/// nothing else vmlab prints there has any either.
#[test]
fn no_escape_codes_into_a_pipe() {
    for args in [
        &["-v", "run", "programs/os/hello.s", "--stats", "full"][..],
        &["-vv", "run", "programs/os/hello.s", "--stats"][..],
    ] {
        let out = vmlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("DEBUG"), "{args:?}: the log is there: {err}");
        assert!(!err.contains('\x1b'), "{args:?}: {err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    }
}

#[test]
fn commit_log() {
    let log = Temp::new("commits.log", b"");
    check(
        &["run", "programs/asm/sum.elf", "--log-commits", log.path()],
        36,
        &[],
        &[],
    );
    let text = std::fs::read_to_string(&log.0).expect("the log was written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "core   0: 3 0x0000000080000000 (0x00001597) x11 0x0000000080001000"
    );
    // c.li a2,8 is logged with its 16-bit parcel.
    assert_eq!(
        lines[2],
        "core   0: 3 0x0000000080000008 (0x4621) x12 0x0000000000000008"
    );
    // One line per retired instruction: 49 (docs/timing.md).
    assert_eq!(lines.len(), 49, "{text}");
    assert!(
        lines.iter().any(|l| l.contains(" mem 0x0000000080001010")),
        "the loads are logged: {text}"
    );

    check(
        &[
            "run",
            "programs/asm/sum.elf",
            "--log-commits",
            "/nonexistent-dir-for-vmlab/log.txt",
        ],
        2,
        &["cannot create /nonexistent-dir-for-vmlab/log.txt"],
        &[],
    );
}

/// `--stats-file FILE`: the statistics in FILE, JSON for `.json` and the table otherwise,
/// with stderr left to the program and the report.
#[test]
fn stats_file() {
    let json = Temp::new("stats.json", b"");
    let out = check(
        &["run", "programs/asm/sum.elf", "--stats-file", json.path()],
        36,
        &[],
        &[],
    );
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json.0).unwrap()).expect("the file is JSON");
    assert_eq!(v["cycles"], 384, "{v}");
    assert_eq!(v["exit_code"], 36, "{v}");
    let text = Temp::new("stats.txt", b"");
    check(
        &[
            "run",
            "programs/os/hello.s",
            "--stats-file",
            text.path(),
            "--stats",
            "json",
        ],
        0,
        &["\"cycles\""],
        &["hello from process 1"],
    );
    let t = std::fs::read_to_string(&text.0).unwrap();
    assert!(t.starts_with("summary\n"), "{t}");
    assert!(t.contains("\ninstret  "), "{t}");
    // The full table: zero counters too, under their dotted names.
    assert!(t.contains("\nos.faults.ad  "), "{t}");
    check(
        &[
            "run",
            "programs/asm/sum.elf",
            "--stats-file",
            "/nonexistent-dir/s.json",
        ],
        2,
        &["--stats-file /nonexistent-dir/s.json: cannot create the file"],
        &[],
    );
}

/// Ctrl-C (SIGINT) ends a long run cleanly, bare and hosted: status 130, the stop reason
/// `interrupted`, the statistics so far.
#[cfg(unix)]
#[test]
fn ctrl_c_interrupts_cleanly() {
    // About 2^40 iterations: it would run for days.
    let spin = Temp::new(
        "spin.s",
        b"    .text\n    .globl _start\n_start:\n    li t0, 0x10000000000\n1:  addi t0, t0, -1\n    bnez t0, 1b\n    li a0, 0\n    li a7, 93\n    ecall\n",
    );
    for mode in ["--bare", "--hosted"] {
        let stats = Temp::new(&format!("int{mode}.json"), b"");
        let child = Command::new(env!("CARGO_BIN_EXE_vmlab"))
            .args(["run", mode, spin.path(), "--stats-file", stats.path()])
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the vmlab binary runs");
        // Past the 2 s after which a terminal would show the progress line: stderr is a
        // pipe here, so it must not appear.
        std::thread::sleep(std::time::Duration::from_millis(2600));
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{mode}: {err}");
        assert!(
            err.contains("vmlab: interrupted (Ctrl-C) at cycle "),
            "{mode}: {err}"
        );
        if mode == "--hosted" {
            assert!(err.contains("did not finish (running)"), "{err}");
        }
        assert!(
            !err.contains("MIPS") && !err.contains('\x1b') && !err.contains('\r'),
            "{mode}: no progress line into a pipe: {err}"
        );
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stats.0).unwrap()).expect("JSON");
        assert_eq!(v["stop"], "interrupted", "{mode}");
        assert_eq!(v["exit_code"], 130, "{mode}");
        assert!(v["instret"].as_u64().unwrap() > 0, "{mode}");
    }
}
