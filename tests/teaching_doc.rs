//! Docs as tests: every command of `docs/teaching.md` runs as written.
//!
//! The commands are the lines starting with `vmlab ` inside its ```sh blocks. Each runs
//! from the repository's root and must end with exit status 0, or with the status a
//! trailing comment documents (`# exit status 139`). Arguments are split on spaces, with
//! single or double quotes grouping, as a shell would for these simple lines.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `vmlab` lines of the ```sh blocks of `text`.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            inside = t == "```sh";
        } else if inside && t.starts_with("vmlab ") {
            out.push(t.to_string());
        }
    }
    out
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

#[test]
fn every_command_of_the_teaching_page_runs() {
    let text = std::fs::read_to_string(root().join("docs/teaching.md")).expect("docs/teaching.md");
    let cmds = commands(&text);
    assert!(cmds.len() >= 20, "the page's commands were found: {cmds:?}");
    for line in cmds {
        let (cmd, comment) = line.split_once(" #").unwrap_or((&line, ""));
        let want: i32 = comment
            .trim()
            .strip_prefix("exit status ")
            .map_or(0, |n| n.trim().parse().expect("a status number"));
        let args = words(cmd.trim());
        let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
            .args(&args[1..])
            .current_dir(root())
            .output()
            .expect("vmlab runs");
        assert_eq!(
            out.status.code(),
            Some(want),
            "{line}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
