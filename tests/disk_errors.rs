//! Bad input to `vmlab disk`: each case must exit with code 2 and a clear message (file,
//! line and column where known), and never panic.

use std::process::Command;

fn run_args(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run vmlab");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!stderr.contains("panicked"), "vmlab panicked: {stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("disk-errors");
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Writes `input` to a requests file, runs `vmlab disk` on it with `extra` flags, and checks
/// that it fails with exit code 2, no report, and a message containing every fragment.
fn check_with(name: &str, input: &str, extra: &[&str], fragments: &[&str]) {
    let path = dir().join(format!("{name}.toml"));
    std::fs::write(&path, input).expect("write requests file");
    let mut args: Vec<&std::ffi::OsStr> = vec!["disk".as_ref(), path.as_os_str()];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    let (code, stdout, stderr) = run_args(&args);
    assert_eq!(code, 2, "{name}: exit code; stderr: {stderr}");
    assert!(stdout.is_empty(), "{name}: no report on error");
    assert!(stderr.starts_with("error: "), "{name}: {stderr}");
    for f in fragments {
        assert!(stderr.contains(f), "{name}: expected {f:?} in:\n{stderr}");
    }
}

fn check(name: &str, input: &str, fragments: &[&str]) {
    check_with(name, input, &[], fragments)
}

const SMALL: &str =
    "[disk]\nblock_size = 512\n[disk.hdd]\ncylinders = 3\nheads = 1\nsectors_per_track = 12\n";

#[test]
fn data_driven_errors() {
    let cases: &[(&str, String, &[&str])] = &[
        (
            "beyond-last-block",
            format!("{SMALL}\n[[request]]\nblock = 40\n"),
            &[
                "beyond-last-block.toml:9:9:",
                "request 1: blocks 40..40 are beyond the last block 35",
                "help: the disk has 36 blocks of 512 bytes, numbered 0 to 35",
            ],
        ),
        (
            "crosses-the-end",
            format!("{SMALL}\n[[request]]\nblock = 34\ncount = 3\n"),
            &["crosses-the-end.toml:9:9:", "blocks 34..36 are beyond the last block 35"],
        ),
        (
            "too-large",
            "[disk]\nblock_size = 512\n[disk.hdd]\ncylinders = 100000\nheads = 1\nsectors_per_track = 64\n\n[[request]]\nblock = 0\ncount = 5000000\n".into(),
            &["too-large.toml:10:9:", "5000000 blocks is more than one request may move on this disk (at most 4194304); split it"],
        ),
        (
            "zero-count",
            format!("{SMALL}\n[[request]]\nblock = 3\ncount = 0\n"),
            &["zero-count.toml:10:9:", "count = 0; a request moves at least one block"],
        ),
        (
            "unknown-scheduler",
            "[disk]\nscheduler = \"elevater\"\n".into(),
            &[
                "unknown-scheduler.toml:2:13:",
                "unknown scheduler `elevater`; the schedulers are: fcfs, sstf, scan, look, c-scan, c-look, sptf",
            ],
        ),
        (
            "malformed",
            "[disk\nscheduler = \"fcfs\"\n".into(),
            &["malformed.toml:1:6:", "[disk", "^"],
        ),
        (
            "zero-rpm",
            "[disk]\nblock_size = 512\n[disk.hdd]\ncylinders = 3\nrpm = 0\n".into(),
            &["zero-rpm.toml:5:1:", "disk.hdd.rpm = 0; a disk must spin"],
        ),
        (
            "zero-sectors",
            "[disk.hdd]\nsectors_per_track = 0\n".into(),
            &["zero-sectors.toml:2:1:", "disk.hdd.sectors_per_track = 0"],
        ),
        (
            "zero-sectors-inline",
            "[disk]\nhdd = { sectors_per_track = 0 }\n".into(),
            &["zero-sectors-inline.toml:2:", "disk.hdd.sectors_per_track = 0"],
        ),
        (
            "rpm-and-rotation",
            "[disk.hdd]\nrpm = 7200\nrotation = \"8ms\"\n".into(),
            &["rpm-and-rotation.toml:1:1:", "either `rpm` or `rotation`"],
        ),
        (
            "block-not-sectors",
            "[disk]\nblock_size = 1000\n".into(),
            &["block-not-sectors.toml:2:1:", "not a multiple of disk.hdd.sector_size = 512"],
        ),
        (
            "zero-clock",
            "[disk]\nclock_hz = 0\n".into(),
            &["zero-clock.toml:2:1:", "disk.clock_hz = 0"],
        ),
        (
            "hdd-and-ssd",
            "[disk.hdd]\n[disk.ssd]\n".into(),
            &["hdd-and-ssd.toml:", "one or the other"],
        ),
        (
            "ssd-zero-bandwidth",
            "[disk.ssd]\nbandwidth = 0\n".into(),
            &["ssd-zero-bandwidth.toml:2:1:", "disk.ssd.bandwidth = 0"],
        ),
        (
            "bad-rate",
            "[disk.ssd]\nbandwidth = \"fast\"\n".into(),
            &["bad-rate.toml:2:13:", "is not a data rate", "500MB/s"],
        ),
        (
            "unknown-field",
            "[disk.hdd]\ncylinder = 4\n".into(),
            &["unknown-field.toml:2:1:", "unknown field `cylinder`", "`cylinders`"],
        ),
        (
            "unknown-curve",
            "[disk.hdd]\nseek = { curve = \"quadratic\" }\n".into(),
            &["unknown-curve.toml:2:18:", "unknown variant `quadratic`", "`three-point`"],
        ),
        (
            "impossible-three-point",
            "[disk.hdd]\nseek = { curve = \"three-point\", single = \"1ms\", average = \"14ms\", full = \"15ms\" }\n".into(),
            &["impossible-three-point.toml:2:1:", "no curve that grows with distance", "the average must lie between"],
        ),
        (
            "bad-duration",
            "[[request]]\nblock = 1\nat = \"5 min\"\n".into(),
            &["bad-duration.toml:3:6:", "`5 min` is not a duration", "\"8ms\""],
        ),
        (
            "duration-without-unit",
            "[disk.hdd]\nrotation = 8.5\n".into(),
            &["duration-without-unit.toml:2:12:", "8.5 has no unit", "\"8.5ms\""],
        ),
        (
            "negative-block",
            "[[request]]\nblock = -1\n".into(),
            &["negative-block.toml:2:9:", "negative"],
        ),
        (
            "bad-op",
            "[[request]]\nblock = 1\nop = \"wrtie\"\n".into(),
            &["bad-op.toml:3:6:", "unknown op `wrtie`", "\"read\" or \"write\""],
        ),
        (
            "missing-block",
            "[[request]]\nop = \"read\"\n".into(),
            &["missing-block.toml:1:1:", "missing field `block`"],
        ),
        (
            "duplicate-id",
            "[[request]]\nid = 7\nblock = 1\n[[request]]\nid = 7\nblock = 2\n".into(),
            &["duplicate-id.toml:5:6:", "request id 7 is used twice", "request 1 already has id 7"],
        ),
        (
            "start-angle",
            "[disk.hdd]\nstart_angle = 400\n".into(),
            &["start-angle.toml:2:1:", "start_angle = 400"],
        ),
        (
            "missing-image",
            "[disk]\nimage = \"no-such.img\"\n".into(),
            &["missing-image.toml:2:1:", "no-such.img: cannot open"],
        ),
    ];
    for (name, input, fragments) in cases {
        check(name, input, fragments);
    }
}

#[test]
fn scheduler_flag_errors() {
    check_with(
        "flag",
        "[[request]]\nblock = 1\n",
        &["--scheduler", "elevater"],
        &[
            "--scheduler: unknown scheduler `elevater`",
            "fcfs, sstf, scan, look, c-scan, c-look, sptf",
        ],
    );
    // --compare and --scheduler together are a usage error (clap), also exit 2.
    let path = dir().join("flag.toml");
    let (code, _, stderr) = run_args(&[
        "disk".as_ref(),
        path.as_os_str(),
        "--compare".as_ref(),
        "--scheduler".as_ref(),
        "sstf".as_ref(),
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn missing_and_non_utf8_files() {
    let (code, _, stderr) = run_args(&["disk".as_ref(), "no/such/requests.toml".as_ref()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no/such/requests.toml: no such file"),
        "{stderr}"
    );
    assert!(stderr.contains("programs/disk/ostep.toml"), "{stderr}");
    let path = dir().join("latin1.toml");
    std::fs::write(&path, b"title = \"caf\xe9\"\n").expect("write");
    let (code, _, stderr) = run_args(&["disk".as_ref(), path.as_os_str()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the file is not UTF-8 text"), "{stderr}");
}

#[test]
fn requests_bytes_never_panic() {
    // Every prefix (in steps) of every example, and some odd inputs, through the loader,
    // a run and both reports.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/disk");
    for e in std::fs::read_dir(dir).expect("examples") {
        let text = std::fs::read(e.expect("entry").path()).expect("read");
        for end in (0..text.len()).step_by(11) {
            vmlab::disk_cmd::check_requests_bytes(&text[..end]);
        }
        vmlab::disk_cmd::check_requests_bytes(&text);
    }
    for input in [
        &b"\xff\xfe"[..],
        b"[disk]\nclock_hz = 1\n[[request]]\nblock = 0\nat = \"200days\"\n",
        b"[disk]\nclock_hz = 18446744073709551615\n[[request]]\nblock = 0\nat = \"1s\"\n",
        b"[disk.hdd]\ncylinders = 16777216\nheads = 16777216\nsectors_per_track = 16777216\n",
        b"[disk.hdd]\nrotation = 1\nsectors_per_track = 16777216\n[[request]]\nblock = 0\ncount = 100\n",
        b"[disk]\nblock_size = 1073741824\n[disk.ssd]\nblocks = 18446744073709551615\n",
        b"[disk.ssd]\nbandwidth = 1\n[[request]]\nblock = 0\ncount = 65536\n",
        b"[disk.hdd]\nstart_angle = nan\n",
        b"[disk.hdd]\nseek = { curve = \"three-point\", single = 0, average = 0, full = 0 }\n[[request]]\nblock = 9\n",
        b"[disk.hdd]\nseek = { curve = \"sqrt-linear\", settle = 0, sqrt = \"1s\", boundary = 18446744073709551615, long_settle = 0, per_cylinder = 0 }\n[[request]]\nblock = 60000\n",
    ] {
        vmlab::disk_cmd::check_requests_bytes(input);
    }
}

#[test]
fn fault_configuration_errors() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "fault-rate-high",
            "[disk]\nfault_rate = 1.5\n",
            &[
                "fault-rate-high.toml:2:1:",
                "disk.fault_rate = 1.5 is not a probability; use a number from 0",
            ],
        ),
        (
            "fault-rate-nan",
            "[disk]\nscheduler = \"sstf\"\nfault_rate = nan\n",
            &["fault-rate-nan.toml:3:1:", "disk.fault_rate = NaN"],
        ),
        (
            "fault-kinds-empty",
            "[disk]\nfault_rate = 0.1\nfault_kinds = []\n",
            &[
                "fault-kinds-empty.toml:3:1:",
                "disk.fault_kinds is empty but disk.fault_rate = 0.1",
                "or set fault_rate = 0",
            ],
        ),
        (
            "fault-kind-unknown",
            "[disk]\nfault_kinds = [\"read\", \"crc\"]\n",
            &[
                "fault-kind-unknown.toml:2:",
                "unknown fault kind `crc`; the kinds are read, write, timeout",
            ],
        ),
        (
            "fault-timeout-zero",
            "[disk]\nfault_rate = 0.5\ntimeout = 0\n",
            &[
                "fault-timeout-zero.toml:3:1:",
                "disk.timeout = 0cyc is less than one cycle",
            ],
        ),
    ];
    for (name, input, fragments) in cases {
        check(name, input, fragments);
    }
    // Extreme but valid: never a panic.
    for input in [
        &b"[disk]\nfault_rate = 1\ntimeout = 18446744073709551615\n[[request]]\nblock = 0\n[[request]]\nblock = 1\n"[..],
        b"[disk]\nfault_rate = 1\nfault_kinds = \"timeout\"\ntimeout = 1\n[disk.ssd]\nchannels = 3\n[[request]]\nblock = 0\n",
        b"[disk]\nfault_rate = 5e-324\nfault_seed = 18446744073709551615\n[[request]]\nblock = 0\n",
    ] {
        vmlab::disk_cmd::check_requests_bytes(input);
    }
}

/// The textbook keys: zones, the scheduling window, the time unit, degrees per tick, the
/// start sector.
#[test]
fn textbook_key_errors() {
    const OSTEP: &str = "[disk]\ntick = \"1ms\"\nblock_size = 512\n";
    let hdd = |extra: &str| {
        format!(
            "{OSTEP}[disk.hdd]\ncylinders = 3\nheads = 1\nrotate_degrees_per_tick = 1\nseek_ticks_per_track = 40\n{extra}\n[[request]]\nblock = 1\n"
        )
    };
    let cases: &[(&str, String, &[&str])] = &[
        (
            "zones-do-not-add-up",
            hdd("zones = [{ cylinders = 1, sectors_per_track = 12 }, { cylinders = 1, sectors_per_track = 18 }]"),
            &[
                "zones-do-not-add-up.toml:9:1:",
                "disk.hdd.zones cover 2 cylinders but disk.hdd.cylinders = 3",
                "set cylinders = 2",
            ],
        ),
        (
            "zone-without-sectors",
            hdd("zones = [{ cylinders = 2, sectors_per_track = 12 }, { cylinders = 1, sectors_per_track = 0 }]"),
            &[
                "zone-without-sectors.toml:9:1:",
                "zone 2 has sectors_per_track = 0; a zone needs at least one",
            ],
        ),
        (
            "zone-unknown-key",
            hdd("zones = [{ cylinders = 3, sectors = 12 }]"),
            &["zone-unknown-key.toml:9:", "unknown field `sectors`", "sectors_per_track"],
        ),
        (
            "window-zero",
            hdd("").replace("tick = \"1ms\"", "window = 0\ntick = \"1ms\""),
            &["window-zero.toml:2:1:", "disk.window = 0", "at least one request"],
        ),
        (
            "tick-without-unit",
            hdd("").replace("tick = \"1ms\"", "tick = 5"),
            &["tick-without-unit.toml:2:1:", "disk.tick = 5cyc is not a length of time", "tick = \"1ms\""],
        ),
        (
            "tick-not-dividing-a-second",
            hdd("").replace("tick = \"1ms\"", "tick = \"7ms\""),
            &["tick-not-dividing-a-second.toml:2:1:", "does not divide one second"],
        ),
        (
            "tick-and-clock",
            hdd("").replace("tick = \"1ms\"", "tick = \"1ms\"\nclock_hz = 2000"),
            &["tick-and-clock.toml:", "makes the clock 1000 Hz, but disk.clock_hz = 2000"],
        ),
        (
            "degrees-not-dividing-360",
            hdd("").replace("rotate_degrees_per_tick = 1", "rotate_degrees_per_tick = 7"),
            &["degrees-not-dividing-360.toml:7:1:", "rotate_degrees_per_tick = 7", "divides 360"],
        ),
        (
            "degrees-and-rpm",
            hdd("rpm = 7200"),
            &["degrees-and-rpm.toml:", "give one of rotate_degrees_per_tick, rpm and rotation"],
        ),
        (
            "start-sector-past-the-track",
            hdd("sectors_per_track = 12\nstart_sector = 12"),
            &["start-sector-past-the-track.toml:10:1:", "start_sector = 12 is past the end of the start track, which has 12 sectors"],
        ),
        (
            "expect-unknown-part",
            hdd("").replace("block = 1\n", "block = 1\nexpect = { seek = 0, wait = 3 }\n"),
            &["expect-unknown-part.toml:", "unknown field `wait`", "rotation"],
        ),
        (
            "expect-unknown-part",
            hdd("").replace("block = 1\n", "block = 1\nexpect = { seek = 0, wait = 3 }\n"),
            &["expect-unknown-part.toml:", "unknown field `wait`", "rotation"],
        ),
    ];
    for (name, input, fragments) in cases {
        check(name, input, fragments);
    }
}
