//! Docs as tests: every command in the README and in docs/ runs as written.
//!
//! The commands are the lines starting with `vmlab ` (or `cargo run --release -- `, which
//! runs the same binary) inside the ```sh blocks of README.md and of every page under
//! docs/. Each page's commands run in order in a scratch folder whose `programs/` is the
//! repository's (so what one command writes, the next can read), and each must end with
//! exit status 0, or with the status a trailing comment documents (`# exit status 139`).
//! Arguments are split on spaces, with single or double quotes grouping, as a shell would
//! for these simple lines; `> FILE` and `2> FILE` redirect as a shell would. A block that
//! also runs another program (a cross compiler, a shell loop) is left out, since its
//! `vmlab` lines depend on what that made. A line whose
//! comment says `not run` is an illustration (a program of the reader's own, a shell loop)
//! and is skipped; a line needing Debian's riscv64 C library (`--sysroot
//! /usr/riscv64-linux-gnu`) is skipped where it is missing, unless VMLAB_REQUIRE_SYSROOT is
//! set; `vmlab bench` lines, which measure speed for many seconds, count as working if
//! they are still running after 15 seconds.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The command lines of the ```sh blocks of `text`, as `vmlab ...`. A block that also
/// runs something else (a cross compiler, a shell loop) depends on it and is left out.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Option<(Vec<String>, bool)> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            match block.take() {
                Some((cmds, false)) => out.extend(cmds),
                Some((_, true)) => {}
                None if t == "```sh" => block = Some((Vec::new(), false)),
                None => {}
            }
            if t == "```" || t == "```sh" {
                continue;
            }
        } else if let Some((cmds, other)) = &mut block {
            if t.starts_with("vmlab ") {
                cmds.push(t.to_string());
            } else if let Some(rest) = t.strip_prefix("cargo run --release -- ") {
                cmds.push(format!("vmlab {rest}"));
            } else if !t.is_empty() && !t.starts_with('#') {
                *other = true;
            }
        }
    }
    out
}

#[test]
fn blocks_that_build_first_are_left_out() {
    let page = "```sh\nvmlab a\n# note\ncargo run --release -- b\n```\n\
                ```sh\ngcc x.c\nvmlab c\n```\n```text\nvmlab d\n```\n";
    assert_eq!(commands(page), ["vmlab a", "vmlab b"]);
}

/// Shell-like words: spaces split, quotes group (and are dropped).
fn words(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ') => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

#[test]
fn words_split_like_a_shell() {
    assert_eq!(words("a  'b c' d\"e\"f"), ["a", "b c", "def"]);
    assert_eq!(words("x ''"), ["x", ""]);
}

/// The pages: README.md and every Markdown file under docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("docs/ reads")
            .map(|e| e.expect("an entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    let mut out = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut out);
    out
}

/// A scratch folder whose `programs` is the repository's.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmlab-docs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root().join("programs"), dir.join("programs")).unwrap();
    dir
}

/// Runs one documented line in `dir`; an error says what went wrong.
fn run(line: &str, dir: &Path) -> Result<(), String> {
    let (cmd, comment) = line.split_once(" #").unwrap_or((line, ""));
    let want: i32 = comment
        .split("exit status ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut args = words(cmd.trim());
    let (mut stdout, mut stderr) = (Stdio::null(), Stdio::piped());
    while let Some(i) = args
        .iter()
        .position(|w| w == ">" || w == "2>" || w.starts_with("2>"))
    {
        let (target, n) = if args[i] == ">" || args[i] == "2>" {
            (
                args.get(i + 1)
                    .cloned()
                    .ok_or(format!("{line}: a redirection without a file"))?,
                2,
            )
        } else {
            (args[i][2..].to_string(), 1)
        };
        let file = std::fs::File::create(dir.join(&target)).map_err(|e| e.to_string())?;
        if args[i].starts_with("2>") {
            stderr = Stdio::from(file);
        } else {
            stdout = Stdio::from(file);
        }
        args.drain(i..i + n);
    }
    let bench = args.get(1).is_some_and(|a| a == "bench");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(&args[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("{line}: cannot start vmlab: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return if status.code() == Some(want) {
                Ok(())
            } else {
                Err(format!(
                    "{line}: exit status {:?}, expected {want}\nstderr:\n{err}",
                    status.code()
                ))
            };
        }
        if bench && start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{line}: still running after ten minutes"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sysroot_present() -> bool {
    Path::new("/usr/riscv64-linux-gnu/lib/libc.so.6").exists()
        || std::env::var_os("VMLAB_REQUIRE_SYSROOT").is_some()
}

#[test]
fn every_documented_command_runs() {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut pages_with_commands = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("the page reads");
        let cmds = commands(&text);
        if cmds.is_empty() {
            continue;
        }
        pages_with_commands += 1;
        let name = page
            .strip_prefix(root())
            .unwrap_or(&page)
            .display()
            .to_string();
        let dir = scratch(&name.replace('/', "_"));
        for line in cmds {
            let comment = line.split_once(" #").map_or("", |(_, c)| c);
            if comment.contains("not run")
                || (line.contains("--sysroot /usr/riscv64-linux-gnu") && !sysroot_present())
            {
                continue;
            }
            count += 1;
            if let Err(e) = run(&line, &dir) {
                failures.push(format!("{name}: {e}"));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(pages_with_commands >= 8, "the pages' commands were found");
    assert!(count >= 40, "only {count} commands ran");
}

#[test]
fn the_teaching_page_has_a_semester_of_commands() {
    let text = std::fs::read_to_string(root().join("docs/teaching.md")).expect("docs/teaching.md");
    assert!(commands(&text).len() >= 20);
}
