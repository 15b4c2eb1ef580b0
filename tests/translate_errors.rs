//! Bad input to `vmlab translate`: each case must exit with code 2 and a clear message
//! (file, line and column where known), and never panic.

use std::process::Command;

fn run_file(path: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(["translate"])
        .arg(path)
        .env_remove("RUST_LOG")
        .output()
        .expect("run vmlab");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "vmlab panicked: {stderr}");
    assert!(out.stdout.is_empty(), "no report on error");
    (out.status.code().unwrap_or(-1), stderr)
}

/// Writes `input` to a scenario file, runs it, and checks that it fails with exit code 2
/// and a message containing every fragment.
fn check(name: &str, input: &str, fragments: &[&str]) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("translate-errors");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, input).expect("write scenario");
    let (code, stderr) = run_file(&path);
    assert_eq!(code, 2, "{name}: exit code; stderr: {stderr}");
    assert!(stderr.starts_with("error: "), "{name}: {stderr}");
    for f in fragments {
        assert!(stderr.contains(f), "{name}: expected {f:?} in:\n{stderr}");
    }
}

const SV39: &str = "mode = \"paged\"\n[paging]\nformat = \"sv39\"\nroot = \"0x1000\"\n";

#[test]
fn malformed_toml_has_line_and_column() {
    check(
        "malformed",
        "mode = \"paged\"\n[paging\nformat = \"sv39\"\n",
        &["malformed.toml:2:8:", "[paging", "^"],
    );
}

#[test]
fn unknown_field() {
    check(
        "unknown-field",
        "mode = \"bare\"\n\n[[access]]\nva = 0\nkidn = \"load\"\n",
        &[
            "unknown-field.toml:5:1:",
            "unknown field `kidn`",
            "expected one of",
            "`kind`",
        ],
    );
}

#[test]
fn unknown_mode_lists_the_valid_ones() {
    check(
        "unknown-mode",
        "mode = \"pagd\"\n",
        &[
            "unknown-mode.toml:1:8:",
            "unknown mode `pagd`",
            "bare, base-bounds, segments, paged-segments, paged",
        ],
    );
    check(
        "mode-is-a-format",
        "mode = \"sv39\"\n",
        &["help: `sv39` is a page-table format", "mode = \"paged\""],
    );
}

#[test]
fn unknown_format_lists_builtins_and_customs() {
    check(
        "unknown-format",
        "mode = \"paged\"\n[paging]\nformat = \"sv40\"\nroot = 0\n",
        &[
            "unknown-format.toml:3:10:",
            "unknown page-table format `sv40`",
            "sv32, sv39, sv48, sv57, ostep-2level, ostep-linear",
        ],
    );
    let custom = "mode = \"paged\"\n[paging]\nformat = \"mine2\"\nroot = 0\n\n[[format]]\nname = \"mine\"\nindex_bits = [4]\npage_offset_bits = 4\npte_bytes = 1\npfn = { lsb = 0, width = 7 }\nvalid = 7\nleaf = \"last-level\"\nva_check = \"zero\"\n";
    check(
        "unknown-custom-format",
        custom,
        &["defined by [[format]]: mine"],
    );
}

#[test]
fn address_wider_than_the_mode() {
    check(
        "too-wide",
        "mode = \"paged\"\n[paging]\nformat = \"ostep-2level\"\npdbr = 3\n[[access]]\nva = \"0x8000\"\n",
        &["too-wide.toml:6:6:", "0x8000 is wider than the 15-bit addresses", "0x0 to 0x7fff"],
    );
    check(
        "over-64-bits",
        &format!("{SV39}[[access]]\nva = \"0x1_0000_0000_0000_0000\"\n"),
        &["over-64-bits.toml:6:6:", "does not fit in 64 bits"],
    );
    check(
        "segment-too-wide",
        "mode = \"segments\"\n[segments]\naddress_space = \"16k\"\n[[segments.register]]\n[[segments.register]]\n[[access]]\nva = \"16k\"\n",
        &["wider than the 14-bit addresses", "0x0 to 0x3fff"],
    );
}

#[test]
fn zero_way_tlb() {
    check(
        "zero-ways",
        &format!("{SV39}[mmu]\ndtlb = {{ ways = 0 }}\n"),
        &["zero-ways.toml:5:1:", "mmu.dtlb: `ways` = 0"],
    );
}

#[test]
fn overlapping_custom_pte_fields() {
    let input = "mode = \"paged\"\n[paging]\nformat = \"bad\"\nroot = 0\n\n[[format]]\nname = \"bad\"\nindex_bits = [10, 10]\npage_offset_bits = 12\npte_bytes = 4\npfn = { lsb = 10, width = 22 }\nvalid = 0\nwrite = 1\ndirty = 1\nleaf = \"last-level\"\nva_check = \"zero\"\n";
    check(
        "overlap",
        input,
        &["overlap.toml:6:1:", "page-table format `bad`", "overlaps"],
    );
}

#[test]
fn not_utf8() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("translate-errors");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("latin1.toml");
    std::fs::write(&path, b"mode = \"bare\"\ntitle = \"caf\xe9\"\n").expect("write");
    let (code, stderr) = run_file(&path);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("latin1.toml: the file is not UTF-8 text"),
        "{stderr}"
    );
}

#[test]
fn missing_file() {
    let (code, stderr) = run_file(std::path::Path::new("no/such/scenario.toml"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no/such/scenario.toml: no such file"),
        "{stderr}"
    );
}

#[test]
fn wrong_type() {
    check(
        "wrong-type",
        &format!("{SV39}[[access]]\nva = true\n"),
        &[
            "wrong-type.toml:6:6:",
            "invalid type: boolean `true`",
            "0x1f",
        ],
    );
    check(
        "negative",
        &format!("{SV39}[[access]]\nva = -4\n"),
        &["negative.toml:6:6:", "negative"],
    );
}

#[test]
fn other_mistakes() {
    check(
        "dump-short-page",
        "mode = \"paged\"\n[paging]\nformat = \"ostep-2level\"\npdbr = 0\n[memory]\nostep_dump = \"\"\"\npage   0: 00 01 02\n\"\"\"\n",
        &["dump-short-page.toml:7:1:", "page 0 has 3 bytes", "32-byte pages"],
    );
    check(
        "write-past-end",
        "mode = \"bare\"\n[memory]\nsize = \"4k\"\n[[write]]\nat = \"0xfff\"\nu16 = [1]\n",
        &[
            "write-past-end.toml:5:6:",
            "runs past the end of physical memory",
        ],
    );
    check(
        "byte-too-big",
        "mode = \"bare\"\n[[write]]\nat = 0\nbytes = [1, 256]\n",
        &["byte-too-big.toml:4:13:", "0x100 does not fit in 8 bits"],
    );
    check(
        "bad-perms",
        "mode = \"segments\"\n[segments]\nva_bits = 14\n[[segments.register]]\nperms = \"rwz\"\n[[segments.register]]\n",
        &["bad-perms.toml:5:9:", "not a permission string", "\"r-x\""],
    );
    check(
        "flush-and-va",
        &format!("{SV39}[[access]]\nva = 0\nflush = \"all\"\n"),
        &["either `va` or `flush`"],
    );
    check(
        "stray-section",
        "mode = \"bare\"\n[paging]\nformat = \"sv39\"\nroot = 0\n",
        &["stray-section.toml:1:8:", "does not use [paging]"],
    );
    check(
        "no-root",
        "mode = \"paged\"\n[paging]\nformat = \"sv39\"\n",
        &["needs the root table"],
    );
    check(
        "bad-kind",
        &format!("{SV39}[[access]]\nva = 0\nkind = \"lod\"\n"),
        &[
            "unknown access kind `lod`",
            "\"load\", \"store\" or \"fetch\"",
        ],
    );
    check(
        "control-char",
        "mode = \"bare\"\n# \u{0}\n",
        &["control-char.toml:2:3:"],
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .output()
        .expect("run vmlab");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(["translate", "x.toml", "--jsn"])
        .output()
        .expect("run vmlab");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_bytes_never_panic() {
    // Every prefix (in steps) of every example, and some garbage, through the fuzz entry point.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("programs/translate");
    for e in std::fs::read_dir(dir).expect("examples") {
        let text = std::fs::read(e.expect("entry").path()).expect("read");
        for end in (0..text.len()).step_by(7) {
            vmlab::scenario::check_config_bytes(&text[..end]);
            // Whatever loads must also run and render without a panic.
            if let Ok(t) = std::str::from_utf8(&text[..end]) {
                if let Ok(mut s) = vmlab::scenario::Scenario::parse(t, "prefix.toml") {
                    let run = vmlab::report::run(&mut s);
                    let _ = vmlab::report::human(&s, &run);
                    let _ = vmlab::report::json(&s, &run);
                }
            }
        }
        vmlab::scenario::check_config_bytes(&text);
    }
    for input in [
        &b"\xff\xfe"[..],
        b"mode = \"segments\"\n[segments]\nva_bits = 1\n",
        b"mode = \"segments\"\n[segments]\nva_bits = 64\n",
        b"mode = \"segments\"\n[segments]\nva_bits = 63\nselector_bits = 3\n",
        b"mode = \"paged\"\n[paging]\nformat = \"ostep-linear\"\naddress_space = \"16E\"\npage_size = 1\nroot = 0\n",
        b"mode = \"paged\"\n[paging]\nformat = \"ostep-linear\"\naddress_space = 2\npage_size = 4\nroot = 0\n",
        b"mode = \"paged\"\n[paging]\nformat = \"sv39\"\nroot_pfn = \"0xffffffffffffffff\"\n",
        b"mode = \"base-bounds\"\n[base_bounds]\nbase = \"0xffffffffffffffff\"\nbounds = \"0xffffffffffffffff\"\n",
        b"mode = \"paged\"\n[paging]\nformat = \"ostep-2level\"\nroot = 0\n[memory]\nsize = 0\nostep_dump = \"page 18446744073709551615: 00\"\n",
    ] {
        vmlab::scenario::check_config_bytes(input);
    }
}

#[test]
fn a_wrong_expect_exits_1_after_the_report() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("translate-errors");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("wrong-answer.toml");
    let input = "mode = \"base-bounds\"\n[base_bounds]\nbase = 100\nbounds = 10\n\
                 [[access]]\nva = 3\nexpect = 103\n\
                 [[access]]\nva = 9\nexpect = \"fault\"\n\
                 [[access]]\nva = 10\nexpect = \"fault\"\n";
    std::fs::write(&path, input).expect("write scenario");
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .arg("translate")
        .arg(&path)
        .output()
        .expect("run vmlab");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("expected PA 0x67 (103): correct"),
        "{stdout}"
    );
    assert!(stdout.contains("expected a fault: WRONG"), "{stdout}");
    assert!(stdout.contains("answers  2 of 3 as expected"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 of 3 accesses"), "{stderr}");
    check(
        "bad-expect",
        "mode = \"bare\"\n[[access]]\nva = 0\nexpect = \"faul\"\n",
        &["bad-expect.toml:4:10:", "or write expect = \"fault\""],
    );
}

/// `trace` and `trace_expect`: one answer per address, answers in the forms `expect` takes.
#[test]
fn trace_answers_must_match_the_trace() {
    let base = "mode = \"base-bounds\"\n";
    check(
        "trace-count",
        &format!("trace = [1, 2, 3]\ntrace_expect = [\"fault\", \"0x10\"]\n{base}[base_bounds]\nbase = 0\nbounds = 16\n"),
        &["trace_expect has 2 answers for the 3 addresses of trace", "one answer per address"],
    );
    check(
        "trace-bad-fault",
        &format!("trace = [1]\ntrace_expect = [\"fault:sideways\"]\n{base}[base_bounds]\nbase = 0\nbounds = 16\n"),
        &["unknown fault `sideways`", "pde", "segment_limit"],
    );
    check(
        "expect-both",
        &format!("{base}[base_bounds]\nbase = 0\nbounds = 16\n[[access]]\nva = 1\nexpect = {{ pa = 1, fault = \"bounds\" }}\n"),
        &["not both"],
    );
}

#[test]
fn segments_in_halves_of_an_address_space() {
    let two = "[[segments.register]]\nlimit = 100\n[[segments.register]]\nbase = 900\nlimit = 100\ngrows_down = true\n";
    check(
        "halves-three-registers",
        &format!(
            "mode = \"segments\"\n[segments]\naddress_space = 1000\n{two}[[segments.register]]\n"
        ),
        &[
            "3 [[segments.register]] entries given",
            "exactly 2 segments",
            "VA 0 .. 499",
        ],
    );
    check(
        "halves-selector-bits",
        &format!("mode = \"segments\"\n[segments]\naddress_space = 1000\nselector_bits = 2\n{two}"),
        &["halves-selector-bits.toml:4:17:", "split in two halves"],
    );
    check(
        "halves-paged",
        "mode = \"paged-segments\"\n[segments]\naddress_space = 1000\nformat = \"sv39\"\n[[segments.register]]\n[[segments.register]]\n",
        &["halves-paged.toml:3:17:", "not a power of two", "only plain segments"],
    );
    check(
        "halves-limit",
        "mode = \"segments\"\n[segments]\naddress_space = 1000\n[[segments.register]]\nlimit = 501\n[[segments.register]]\n",
        &["limit 501 exceeds its half of the address space (500 bytes)"],
    );
    check(
        "halves-address",
        &format!("trace = [1000]\nmode = \"segments\"\n[segments]\naddress_space = 1000\n{two}"),
        &[
            "halves-address.toml:1:10:",
            "outside the address space of 1000 bytes",
            "from 0 to 999",
        ],
    );
}

#[test]
fn inline_linear_tables() {
    let head = "mode = \"paged\"\n[paging]\nformat = \"ostep-linear\"\naddress_space = \"16k\"\npage_size = \"4k\"\n";
    check(
        "table-and-root",
        &format!("{head}table = [0]\nroot = \"0x1000\"\n"),
        &[
            "table-and-root.toml:7:8:",
            "either `table` (placed by vmlab) or the root",
        ],
    );
    check(
        "table-multilevel",
        "mode = \"paged\"\n[paging]\nformat = \"sv39\"\ntable = [0]\n",
        &[
            "table-multilevel.toml:4:9:",
            "linear (one-level)",
            "has 3 levels",
        ],
    );
    check(
        "table-too-long",
        &format!("{head}table = [0, 0, 0, 0, 0]\n"),
        &["`table` has 5 entries, but this table has only 4"],
    );
    check(
        "table-no-room",
        &format!("{head}table = [\"0x80000000\", \"0x80000001\", \"0x80000002\", \"0x80000003\"]\n[memory]\nsize = \"16k\"\n"),
        &["no room for the 16-byte table in 16384 bytes", "make [memory] size larger"],
    );
    check(
        "table-pte-too-wide",
        &format!("{head}table = [\"0x100000000\"]\n"),
        &["table-pte-too-wide.toml:6:10:", "does not fit in 32 bits"],
    );
}
