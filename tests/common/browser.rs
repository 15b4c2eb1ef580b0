//! Headless Chromium for the report tests: finds the browser, renders a page, and reads
//! what the page's script recorded (`data-ready`, `data-error`, `data-ms` on `<body>`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Chromium (or `VMLAB_CHROMIUM`); none when it is missing and
/// `VMLAB_REQUIRE_CHROMIUM` is not set (with a note), a failure when it is set.
pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("VMLAB_CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
        "/usr/bin/google-chrome".into(),
    ];
    let found = candidates
        .iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("VMLAB_REQUIRE_CHROMIUM").is_err(),
            "VMLAB_REQUIRE_CHROMIUM is set and no Chromium was found (install Debian's chromium)"
        );
        eprintln!("note: no Chromium (/usr/bin/chromium): the browser checks are skipped");
    }
    found
}

/// What the browser made of a page.
#[derive(Debug)]
pub struct Rendered {
    /// Figures drawn with a non-empty box.
    pub ready: usize,
    /// The script's error, if any.
    pub error: Option<String>,
    /// Milliseconds from the navigation's start to the end of the page's script (the
    /// browser's own clock).
    pub ms: Option<u64>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = tag[i..].find('"')? + i;
    Some(tag[i..j].to_string())
}

/// Renders `page` headless (with a fresh profile under `profile`) and reads what its script
/// recorded on `<body>`.
pub fn render(browser: &Path, page: &Path, profile: &Path) -> Rendered {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    let body = dom
        .find("<body")
        .and_then(|i| dom[i..].find('>').map(|j| dom[i..i + j].to_string()))
        .unwrap_or_else(|| {
            panic!(
                "{}: no <body> in Chromium's DOM (status {:?}); stderr:\n{}",
                page.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    Rendered {
        ready: attr(&body, "data-ready")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        error: attr(&body, "data-error"),
        ms: attr(&body, "data-ms").and_then(|v| v.parse().ok()),
    }
}
