//! `--report` and `--svg` of `vmlab translate` and `vmlab disk`: every shipped scenario and
//! requests file writes a page with one figure per access (or the disk's figures) and SVG
//! files that parse; an unwritable path is a clear error with exit status 2, after the text
//! report has printed as before.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("vmlab runs")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vmlab-rtd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn tomls(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join(dir))
        .expect("the folder reads")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    v.sort();
    v
}

/// Every SVG file in `dir` parses; returns their stems.
fn svgs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("the SVG folder exists") {
        let p = e.expect("an entry").path();
        let text = std::fs::read_to_string(&p).expect("an SVG reads");
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push(p.file_stem().unwrap().to_string_lossy().into_owned());
    }
    out.sort();
    out
}

#[test]
fn every_translate_scenario() {
    let dir = scratch("translate");
    for f in tomls("programs/translate") {
        let stem = Path::new(&f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let html = dir.join(format!("{stem}.html"));
        let sd = dir.join(&stem);
        let plain = vmlab(&["translate", &f]);
        let out = vmlab(&[
            "translate",
            &f,
            "--report",
            html.to_str().unwrap(),
            "--svg",
            sd.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), plain.status.code(), "{f}");
        assert_eq!(
            out.stdout, plain.stdout,
            "{f}: the text report is unchanged"
        );
        let page = std::fs::read_to_string(&html).expect("the report was written");
        // One figure per access: the text report numbers them `[N] `.
        let text = String::from_utf8_lossy(&plain.stdout);
        let accesses = text
            .lines()
            .filter(|l| l.starts_with('[') && l.contains("] "))
            .count();
        assert!(accesses > 0, "{f}");
        let figs = page.matches("<figure id=\"fig-access-").count();
        assert_eq!(figs, accesses, "{f}: one figure per access");
        assert!(page.contains("<figure id=\"fig-tlb\">"), "{f}");
        assert!(
            !page.contains("src=\"http") && !page.contains("href=\"http"),
            "{f}: nothing is fetched"
        );
        let files = svgs(&sd);
        assert_eq!(files.len(), accesses + 1, "{f}: {files:?}");
        assert!(files.contains(&"tlb".to_string()));
    }
}

#[test]
fn every_disk_file() {
    let dir = scratch("disk");
    for f in tomls("programs/disk") {
        let stem = Path::new(&f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for compare in [false, true] {
            let html = dir.join(format!("{stem}-{compare}.html"));
            let sd = dir.join(format!("{stem}-{compare}"));
            let mut args = vec!["disk", f.as_str()];
            if compare {
                args.push("--compare");
            }
            let plain = vmlab(&args);
            args.extend([
                "--report",
                html.to_str().unwrap(),
                "--svg",
                sd.to_str().unwrap(),
            ]);
            let out = vmlab(&args);
            assert_eq!(out.status.code(), plain.status.code(), "{f}");
            assert_eq!(
                out.stdout, plain.stdout,
                "{f}: the text report is unchanged"
            );
            let page = std::fs::read_to_string(&html).expect("the report was written");
            for id in ["head-path", "time-split", "totals"] {
                assert!(
                    page.contains(&format!("<figure id=\"fig-{id}\">")),
                    "{f} {id}"
                );
            }
            assert_eq!(svgs(&sd), ["head-path", "time-split", "totals"], "{f}");
        }
    }
}

fn unwritable(args: &[&str], what: &str) {
    let plain = vmlab(&args[..2]);
    let out = vmlab(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert_eq!(out.stdout, plain.stdout, "{args:?}: the text still prints");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("error: {what}")),
        "{args:?}: {err}"
    );
}

#[test]
fn unwritable_paths_are_clear_errors() {
    let missing = "/nonexistent-vmlab-folder/x.html";
    unwritable(
        &[
            "translate",
            "programs/translate/sv39.toml",
            "--report",
            missing,
        ],
        &format!("cannot write the report {missing}: "),
    );
    unwritable(
        &["disk", "programs/disk/ostep.toml", "--report", missing],
        &format!("cannot write the report {missing}: "),
    );
    unwritable(
        &[
            "translate",
            "programs/translate/sv39.toml",
            "--svg",
            "/proc/vmlab-svg",
        ],
        "cannot make the folder /proc/vmlab-svg: ",
    );
    unwritable(
        &[
            "disk",
            "programs/disk/ostep.toml",
            "--svg",
            "/proc/vmlab-svg",
        ],
        "cannot make the folder /proc/vmlab-svg: ",
    );
}
