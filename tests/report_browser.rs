//! The reports in a real browser: every shipped example's report (runs under each scheme,
//! the translate scenarios, the disk request files) is rendered by headless Chromium, which
//! must run the page's script without an error and draw every visible figure (the script
//! marks `<body data-ready="N">` with the number of figures whose box is not empty).
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it and sets
//! `VMLAB_REQUIRE_CHROMIUM=1`, which makes a missing browser a failure); without it, and
//! without that variable, the test says so and passes.

#[path = "common/browser.rs"]
mod browser;

use browser::{chromium, render};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs vmlab with `args`; it must succeed (or end with one of `ok` statuses).
fn vmlab(args: &[&str], ok: &[i32]) {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || ok.contains(&code),
        "vmlab {args:?} failed ({code}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shipped examples: a run under every scheme (as docs/schemes/ runs them), each
/// translate scenario, each disk request file. `(name, arguments before --report)`.
fn examples() -> Vec<(String, Vec<String>, Vec<i32>)> {
    let mut v: Vec<(String, Vec<String>, Vec<i32>)> = Vec::new();
    let mut run = |name: &str, args: &str, ok: &[i32]| {
        v.push((
            name.to_string(),
            args.split_whitespace().map(String::from).collect(),
            ok.to_vec(),
        ))
    };
    run(
        "vm-paging",
        "run programs/os/touch.s programs/os/hello.s --set os.user_frames=32",
        &[],
    );
    run(
        "belady",
        "run programs/os/belady.s --set os.frames_per_process=4 --set os.policy=fifo",
        &[],
    );
    run(
        "simple-paging",
        "run programs/os/touch.s programs/os/hello.s --set os.scheme=simple-paging",
        &[],
    );
    run(
        "dynamic-partitions",
        "run programs/os/short.s programs/os/long.s programs/os/short.s programs/os/long.s programs/os/long.s --set os.scheme=dynamic-partitions --set os.user_frames=40",
        &[],
    );
    run(
        "fixed-partitions",
        "run programs/os/short.s programs/os/long.s programs/os/short.s programs/os/long.s --set os.scheme=fixed-partitions --set os.partitions=[49152,81920,98304]",
        &[],
    );
    run(
        "simple-segmentation",
        "run programs/os/hello.s programs/os/segv-text.s programs/os/exec-data.s --set os.scheme=simple-segmentation",
        &[139],
    );
    run(
        "vm-segmentation",
        "run programs/os/long.s programs/os/short.s programs/os/long.s programs/os/short.s --set os.scheme=vm-segmentation --set os.user_frames=22",
        &[],
    );
    run("mmap", "run programs/os/mmap.s", &[]);
    run(
        "filemap",
        "run programs/os/filemap.s --file data=programs/os/data.txt",
        &[],
    );
    run("linux", "run programs/linux/bin/printf_float", &[]);
    for dir in ["programs/translate", "programs/disk"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            let rel = f.strip_prefix(root()).unwrap().display().to_string();
            let cmd = if dir.ends_with("translate") {
                "translate"
            } else {
                "disk"
            };
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            // A scenario whose expectations fail (on purpose) exits 1.
            v.push((format!("{cmd}-{stem}"), vec![cmd.into(), rel], vec![1]));
        }
    }
    v
}

#[test]
fn every_example_renders_in_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = std::env::temp_dir().join(format!("vmlab-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("profile");
    let mut failures = Vec::new();
    for (name, args, ok) in examples() {
        let page = dir.join(format!("{name}.html"));
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        let p = page.display().to_string();
        a.extend(["--report", &p]);
        vmlab(&a, &ok);
        let r = render(&browser, &page, &profile);
        eprintln!(
            "{name}: {} figures drawn in {} ms{}",
            r.ready,
            r.ms.unwrap_or(0),
            r.error
                .as_deref()
                .map(|e| format!(", error: {e}"))
                .unwrap_or_default()
        );
        if r.error.is_some() || r.ready == 0 {
            failures.push(format!("{name}: {r:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "pages that failed in Chromium:\n{}",
        failures.join("\n")
    );
}
