//! Docs as tests: every example every `--help` shows, and the README's first command, must
//! work as written.
//!
//! The examples are the lines under `Examples:` that start with `vmlab ` in `vmlab --help`
//! and in `vmlab SUB --help` for every subcommand `vmlab --help` lists (so a new subcommand's
//! examples are checked without touching this file). Each runs, in the order its help gives
//! them, in a scratch folder where `programs/` is the repository's (what an example writes,
//! such as `hello.elf`, lands there); `> FILE` sends its standard output to FILE. It must
//! end with exit status 0, or with the status its own line documents in a trailing comment
//! (`# exit status 124`). An example of `vmlab bench`, which measures speed by running
//! programs for many seconds, may instead still be running when its time is up: it then
//! counts as working, since every failure it can have (a missing program, a bad flag, a
//! program that fails) shows within the first seconds.
//!
//! Nothing here needs a cross compiler or the network.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `vmlab ARGS`'s standard output (the help texts).
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .output()
        .expect("the vmlab binary runs");
    assert_eq!(out.status.code(), Some(0), "vmlab {args:?}");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The subcommands a help text lists under `Commands:` (or `Kinds:`, as `vmlab quiz`
/// calls them), without `help`.
fn subcommands(top: &str) -> Vec<String> {
    top.lines()
        .skip_while(|l| l.trim() != "Commands:" && l.trim() != "Kinds:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&c| c != "help")
        .map(str::to_string)
        .collect()
}

/// The example lines of a help text: under `Examples:`, the lines starting with `vmlab `.
fn examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t == "Examples:" {
            inside = true;
        } else if t.is_empty() {
            inside = false;
        } else if inside && t.starts_with("vmlab ") {
            out.push(t.to_string());
        }
    }
    out
}

/// One example, ready to run.
struct Example {
    line: String,
    args: Vec<String>,
    stdout_to: Option<String>,
    status: i32,
}

fn parse(line: &str) -> Example {
    let (cmd, comment) = match line.split_once(" #") {
        Some((c, k)) => (c, k),
        None => (line, ""),
    };
    let status = comment
        .split("exit status ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        !cmd.contains(['"', '\'', '|', '<', '$', '*']),
        "{line}: an example this test runs uses no quoting, pipes or globs"
    );
    let mut words: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
    let mut stdout_to = None;
    if let Some(i) = words.iter().position(|w| w == ">") {
        assert_eq!(i + 2, words.len(), "{line}: `> FILE` ends the line");
        stdout_to = Some(words[i + 1].clone());
        words.truncate(i);
    }
    assert_eq!(words[0], "vmlab");
    Example {
        line: line.to_string(),
        args: words[1..].to_vec(),
        stdout_to,
        status,
    }
}

/// Runs `e` in `dir`; an error says what went wrong.
fn run(e: &Example, dir: &Path, bound: Duration, may_outlast: bool) -> Result<(), String> {
    let stdout = match &e.stdout_to {
        Some(f) => Stdio::from(std::fs::File::create(dir.join(f)).map_err(|x| x.to_string())?),
        None => Stdio::null(),
    };
    let err_path = dir.join(format!(".stderr-{}", std::process::id()));
    let stderr = std::fs::File::create(&err_path).map_err(|x| x.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(&e.args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|x| format!("{}: cannot start vmlab: {x}", e.line))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|x| x.to_string())? {
            break Some(s);
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&err_path);
    match status {
        None if may_outlast => Ok(()),
        None => Err(format!(
            "{}: still running after {bound:?}\nstderr:\n{err}",
            e.line
        )),
        Some(s) if s.code() == Some(e.status) => Ok(()),
        Some(s) => Err(format!(
            "{}: exit status {:?}, expected {}\nstderr:\n{err}",
            e.line,
            s.code(),
            e.status
        )),
    }
}

/// A scratch folder whose `programs` is the repository's.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmlab-help-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root().join("programs"), dir.join("programs")).unwrap();
    dir
}

#[test]
fn every_help_example_works() {
    let top = help(&["--help"]);
    let subs = subcommands(&top);
    for want in [
        "run",
        "bench",
        "config",
        "asm",
        "disasm",
        "translate",
        "disk",
        "malloc",
        "policy",
        "quiz",
    ] {
        assert!(subs.iter().any(|s| s == want), "`{want}` in {subs:?}");
    }
    let mut helps = vec![("vmlab".to_string(), top.clone())];
    for s in &subs {
        let text = help(&[s, "--help"]);
        // One level down too: `vmlab quiz KIND --help`.
        for k in subcommands(&text) {
            helps.push((format!("vmlab {s} {k}"), help(&[s, &k, "--help"])));
        }
        helps.push((format!("vmlab {s}"), text));
    }
    // The top-level help starts its examples with the main job.
    let first = examples(&top);
    assert!(
        first.first().is_some_and(|l| l.starts_with("vmlab run ")),
        "vmlab --help's first example should be a `vmlab run`: {first:?}"
    );
    let dir = scratch("examples");
    let mut failures = Vec::new();
    let mut count = 0;
    std::thread::scope(|scope| {
        let mut long = Vec::new();
        for (name, text) in &helps {
            let list = examples(text);
            // Every subcommand with examples names them; run, at least, has some.
            if name == "vmlab run" {
                assert!(!list.is_empty(), "vmlab run --help has no examples");
            }
            for line in list {
                let e = parse(&line);
                count += 1;
                if e.args.first().is_some_and(|a| a == "bench") {
                    // Long by nature: run them side by side, each bounded.
                    let dir = &dir;
                    long.push(scope.spawn(move || run(&e, dir, Duration::from_secs(15), true)));
                } else if let Err(m) = run(&e, &dir, Duration::from_secs(120), false) {
                    failures.push(m);
                }
            }
        }
        for h in long {
            if let Err(m) = h.join().unwrap() {
                failures.push(m);
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(count >= 10, "only {count} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The README opens with two commands: the first (`cargo run --release -- ARGS`) must run
/// as written; the second is `cargo test`, which this very run is.
#[test]
fn readme_first_command_works() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(block.len() >= 2, "the README's first block: {block:?}");
    assert!(block[1].starts_with("cargo test"), "{}", block[1]);
    let first = block[0];
    let cmd = first.split(" #").next().unwrap().trim();
    let args = cmd
        .strip_prefix("cargo run --release -- ")
        .unwrap_or_else(|| panic!("the README's first command runs vmlab through cargo: {first}"));
    let e = parse(&format!("vmlab {args}"));
    let dir = scratch("readme");
    let r = run(&e, &dir, Duration::from_secs(120), false);
    let _ = std::fs::remove_dir_all(&dir);
    r.unwrap();
}
