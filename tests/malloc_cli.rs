//! `vmlab malloc` as a user meets it: the built binary's transcript with and without the
//! answers, its JSON, its exit status and its messages for impossible parameters, and a
//! snapshot of one full run with the answers.

use std::process::{Command, Output};

fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .arg("malloc")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("the vmlab binary runs")
}

/// Runs `vmlab malloc ARGS`, which must succeed with nothing on stderr, and returns stdout.
fn ok(args: &[&str]) -> String {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    assert!(err.is_empty(), "{args:?}: unexpected stderr {err}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `vmlab malloc ARGS`, which must fail with exit status 2, nothing on stdout and a
/// message containing each of `says`.
fn refused(args: &[&str], says: &[&str]) {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for s in says {
        assert!(err.contains(s), "{args:?}: stderr lacks {s:?}:\n{err}");
    }
}

const HEADER: &str = "seed 0\nsize 100\nbaseAddr 1000\nheaderSize 4\nalignment 4\n\
                      policy BEST\nlistOrder ADDRSORT\ncoalesce False\nnumOps 10\nrange 10\n\
                      percentAlloc 50\nallocList +3,-0,+5,-1,+8\n";

#[test]
fn hidden_answers_by_default() {
    let text = ok(&["-H", "4", "-a", "4", "--ops", "+3,-0,+5,-1,+8"]);
    let expected = format!(
        "{HEADER}compute False\n\n\
         ptr[0] = Alloc(3) returned ?\nList?\n\n\
         Free(ptr[0])\nreturned ?\nList?\n\n\
         ptr[1] = Alloc(5) returned ?\nList?\n\n\
         Free(ptr[1])\nreturned ?\nList?\n\n\
         ptr[2] = Alloc(8) returned ?\nList?\n\n"
    );
    assert_eq!(text, expected);
}

/// The operations of the run published in OSTEP's vm-freespace README, as an explicit list:
/// the same free lists (the README prints `returned 1004` because its random mode shows
/// the pointer past the header; an explicit list shows the chunk's address).
#[test]
fn answers() {
    let text = ok(&["-H", "4", "-a", "4", "-A", "+3,-0,+5,-1,+8", "--answers"]);
    let expected = format!(
        "{HEADER}compute True\n\n\
         ptr[0] = Alloc(3) returned 1000 (searched 1 elements)\n\
         Free List [ Size 1 ]: [ addr:1008 sz:92 ]\n\n\
         Free(ptr[0])\nreturned 0\n\
         Free List [ Size 2 ]: [ addr:1000 sz:8 ][ addr:1008 sz:92 ]\n\n\
         ptr[1] = Alloc(5) returned 1008 (searched 2 elements)\n\
         Free List [ Size 2 ]: [ addr:1000 sz:8 ][ addr:1020 sz:80 ]\n\n\
         Free(ptr[1])\nreturned 0\n\
         Free List [ Size 3 ]: [ addr:1000 sz:8 ][ addr:1008 sz:12 ][ addr:1020 sz:80 ]\n\n\
         ptr[2] = Alloc(8) returned 1008 (searched 3 elements)\n\
         Free List [ Size 2 ]: [ addr:1000 sz:8 ][ addr:1020 sz:80 ]\n\n"
    );
    assert_eq!(text, expected);
    // malloc.py's -c is the same switch.
    assert_eq!(
        ok(&["-H", "4", "-a", "4", "-A", "+3,-0,+5,-1,+8", "-c"]),
        expected
    );
}

#[test]
fn json() {
    let text = ok(&[
        "--ops",
        "+200,+10,-0,-7",
        "--policy",
        "first",
        "--header-size",
        "2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(v["parameters"]["policy"], "FIRST");
    assert_eq!(v["parameters"]["alignment"], serde_json::Value::Null);
    let ops = v["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 4);
    assert_eq!(ops[0]["op"], "alloc");
    assert_eq!(ops[0]["returned"], -1);
    assert_eq!(ops[0]["addr"], serde_json::Value::Null);
    assert_eq!(ops[0]["searched"], 1);
    assert_eq!(ops[1]["addr"], 1000);
    assert_eq!(ops[1]["ptr"], 1002);
    assert_eq!(ops[1]["request"], 12);
    assert_eq!(
        ops[1]["free_list"],
        serde_json::json!([{ "addr": 1012, "size": 88 }])
    );
    // -0 names the failed allocation: its pointer is not one the heap returned.
    assert_eq!(ops[2]["op"], "free");
    assert_eq!(ops[2]["addr"], serde_json::Value::Null);
    assert_eq!(ops[2]["returned"], -1);
    // -7: not below the one allocation that succeeded, skipped as malloc.py does.
    assert_eq!(ops[3], serde_json::json!({ "op": "skipped", "index": 7 }));
    // Random operations: the same seed gives the same document.
    let a = ok(&["--seed", "5", "-n", "20", "--json"]);
    assert_eq!(a, ok(&["--seed", "5", "-n", "20", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&a).expect("JSON");
    assert_eq!(v["operations"].as_array().map(Vec::len), Some(20));
    assert_eq!(v["parameters"]["ops"], serde_json::Value::Null);
}

#[test]
fn impossible_parameters() {
    refused(&["--size", "0"], &["error: the heap size is 0"]);
    refused(
        &["--base", "0xffffffffffffff00", "--size", "0x100"],
        &["would end past the last address"],
    );
    refused(&["--align", "12"], &["alignment 12 is not a power of two"]);
    refused(
        &["--ops", "+10,+x,-0"],
        &[
            "operation 2 `+x`",
            "expected +SIZE",
            "-N (free the N-th allocation",
        ],
    );
    refused(&["--percent-alloc", "120"], &["percent alloc 120"]);
    refused(&["--policy", "next"], &["--policy", "BEST, WORST or FIRST"]);
    refused(&["-A", "+0"], &["asks for 0 bytes"]);
}

#[test]
fn snapshot_of_a_full_run() {
    let text = ok(&[
        "--size",
        "64",
        "--base",
        "0",
        "--header-size",
        "4",
        "--align",
        "8",
        "--policy",
        "worst",
        "--list-order",
        "sizesort-",
        "--coalesce",
        "--ops",
        "+8,+16,+4,+12,-1,-3,-0,+30,-2,+40,-5,-0",
        "--answers",
    ]);
    insta::assert_snapshot!("worst_sizesort_coalesce", text);
}

/// The worked example of docs/heap.md is what the command prints.
#[test]
fn the_documented_example() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/heap.md"))
        .expect("docs/heap.md");
    let block = |command: &str| -> String {
        let start = doc
            .find(&format!("$ {command}\n"))
            .unwrap_or_else(|| panic!("docs/heap.md shows `{command}`"));
        let rest = &doc[start..];
        let body = rest.split_once('\n').expect("a line").1;
        body[..body.find("```").expect("the block ends")].to_string()
    };
    let args = ["-H", "4", "-a", "4", "--ops", "+3,-0,+5,-1,+8"];
    assert_eq!(
        block("vmlab malloc -H 4 -a 4 --ops +3,-0,+5,-1,+8"),
        ok(&args)
    );
    let shown = block("vmlab malloc -H 4 -a 4 --ops +3,-0,+5,-1,+8 --answers");
    let shown = shown.strip_prefix("...\n").expect("an elided header");
    let mut with = args.to_vec();
    with.push("--answers");
    let full = ok(&with);
    assert!(
        full.ends_with(shown),
        "docs/heap.md:\n{shown}\nvmlab:\n{full}"
    );
}
