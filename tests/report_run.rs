//! `vmlab run --report` and `vmlab report`: the report of a run is built from its trace alone
//! (the two commands write the same page), drawing it never changes a modelled cycle or
//! counter, the figures are well-formed SVG, the page fetches nothing, and bad input gets a
//! clear error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmlab-report-run-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The runs of the check: one per scheme family.
const RUNS: [&[&str]; 4] = [
    &[
        "programs/os/touch.s",
        "programs/os/hello.s",
        "--set",
        "os.user_frames=32",
    ],
    &[
        "programs/os/belady.s",
        "--set",
        "os.frames_per_process=4",
        "--set",
        "os.policy=fifo",
    ],
    &[
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/long.s",
        "--set",
        "os.scheme=dynamic-partitions",
        "--set",
        "os.user_frames=40",
    ],
    &[
        "programs/os/long.s",
        "programs/os/short.s",
        "programs/os/long.s",
        "programs/os/short.s",
        "--set",
        "os.scheme=vm-segmentation",
        "--set",
        "os.user_frames=22",
    ],
];

#[test]
fn drawing_changes_no_cycle_and_the_trace_rebuilds_the_page() {
    for (i, run) in RUNS.iter().enumerate() {
        let page = tmp(&format!("run{i}.html"));
        let again = tmp(&format!("again{i}.html"));
        let trace = tmp(&format!("run{i}.jsonl"));
        let svg = tmp(&format!("svg{i}"));
        let mut plain: Vec<&str> = vec!["run"];
        plain.extend_from_slice(run);
        plain.extend(["--stats", "json"]);
        let base = vmlab(&plain);
        let mut drawn = plain.clone();
        let (p, t, d) = (s(&page), s(&trace), s(&svg));
        drawn.extend(["--report", &p, "--trace", &t, "--svg", &d]);
        let with = vmlab(&drawn);
        assert_eq!(base.status.code(), with.status.code(), "{run:?}");
        assert!(
            String::from_utf8_lossy(&base.stderr).contains("\"cycles\""),
            "{run:?}: no statistics to compare"
        );
        assert_eq!(
            base.stdout, with.stdout,
            "{run:?}: the program's output changed"
        );
        assert_eq!(
            String::from_utf8_lossy(&base.stderr),
            String::from_utf8_lossy(&with.stderr),
            "{run:?}: the statistics changed when the report was drawn"
        );
        // `vmlab report` draws exactly the same page from the trace file.
        let a = s(&again);
        let out = vmlab(&["report", &t, "-o", &a]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            html == std::fs::read_to_string(&again).unwrap(),
            "{run:?}: pages differ"
        );
        // Self-contained: no script, style, image or link is fetched.
        for bad in ["src=\"http", "href=\"http", "url(http", "@import", "<link "] {
            assert!(!html.contains(bad), "{run:?}: the page refers to {bad}");
        }
        assert!(html.contains("<svg"), "{run:?}: no figure");
        // Every figure gives its numbers (a table with a CSV download).
        for fig in html.split("<figure ").skip(1) {
            let fig = &fig[..fig.find("</figure>").unwrap_or(fig.len())];
            let id = &fig[..fig.find('>').unwrap_or(0)];
            assert!(
                fig.contains("<summary>numbers: ") && fig.contains("data:text/csv"),
                "{run:?}: figure {id} has no numbers"
            );
        }
        // Every figure file is well-formed XML whose root is an SVG element.
        let mut n = 0;
        for e in std::fs::read_dir(&svg).unwrap() {
            let f = e.unwrap().path();
            let text = std::fs::read_to_string(&f).unwrap();
            let doc = roxmltree::Document::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!(
                doc.root_element().tag_name().name(),
                "svg",
                "{}",
                f.display()
            );
            n += 1;
        }
        assert!(n >= 4, "{run:?}: only {n} figure files");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let check = |args: &[&str], want: &str| {
        let out = vmlab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err:?} lacks {want:?}");
    };
    // An unwritable report path is said before the run.
    check(
        &[
            "run",
            "programs/os/hello.s",
            "--report",
            "/nonexistent-folder/r.html",
        ],
        "error: cannot write the report /nonexistent-folder/r.html",
    );
    let file = tmp("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = format!("{}/figures", s(&file));
    check(
        &["run", "programs/os/hello.s", "--svg", &under],
        "cannot make the folder",
    );
    check(
        &[
            "run",
            "--bare",
            "programs/asm/hello.s",
            "--report",
            "/tmp/x.html",
        ],
        "runs on the bare machine",
    );
    // Traces: missing, not a trace, cut in a record, cut between records.
    let out = s(&tmp("out.html"));
    check(
        &["report", "/nonexistent.jsonl", "-o", &out],
        "/nonexistent.jsonl: cannot read it",
    );
    check(
        &["report", "Cargo.toml", "-o", &out],
        "Cargo.toml:1: not a trace record",
    );
    let trace = tmp("t.jsonl");
    let st = vmlab(&[
        "run",
        "programs/os/touch.s",
        "--set",
        "os.user_frames=32",
        "--trace",
        &s(&trace),
    ]);
    assert!(st.status.success());
    let text = std::fs::read_to_string(&trace).unwrap();
    let cut = tmp("cut.jsonl");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let lines = text[..text.len() / 2].lines().count();
    check(
        &["report", &s(&cut), "-o", &out],
        &format!("cut.jsonl:{lines}: the record is cut short"),
    );
    let whole: String = text
        .lines()
        .take(lines - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cut, whole).unwrap();
    check(
        &["report", &s(&cut), "-o", &out],
        "the trace has no `end` record",
    );
    check(&["report", &s(&trace)], "say where to write the pictures");
    check(
        &["report", &s(&trace), "-o", "/nonexistent-folder/r.html"],
        "cannot write the report /nonexistent-folder/r.html",
    );
}
