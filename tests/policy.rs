//! `vmlab policy` as a user meets it: the built binary's answers on textbook reference
//! strings worked by hand (Belady's anomaly, OSTEP chapter 22), MRU, UNOPT and Clock worked
//! by hand, random's determinism, the transcript and JSON formats, and the messages for
//! impossible parameters.

use serde_json::Value;
use std::process::{Command, Output};

fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .arg("policy")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("the vmlab binary runs")
}

/// Runs `vmlab policy ARGS`, which must succeed with nothing on stderr, and returns stdout.
fn ok(args: &[&str]) -> String {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    assert!(err.is_empty(), "{args:?}: unexpected stderr {err}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `vmlab policy ARGS` with `--json` and parses the report.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let text = ok(&all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

/// Runs `vmlab policy ARGS`, which must fail with exit status 2, nothing on stdout and a
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

/// What one access should show: the page, hit, the victim, memory after it.
type Want<'a> = (u64, bool, Option<u64>, &'a [u64]);

/// Runs `policy` with `frames` frames over `refs` and checks every access and the totals.
fn check(policy: &str, frames: &str, refs: &str, extra: &[&str], want: &[Want], hits: u64) {
    let mut args = vec!["--policy", policy, "--frames", frames, "--refs", refs];
    args.extend_from_slice(extra);
    let report = json(&args);
    let accesses = report["accesses"].as_array().expect("accesses");
    assert_eq!(accesses.len(), want.len(), "{args:?}");
    for (i, (got, &(page, hit, evicted, memory))) in accesses.iter().zip(want).enumerate() {
        let expect = serde_json::json!({
            "page": page,
            "hit": hit,
            "evicted": evicted,
            "memory": memory,
        });
        assert_eq!(got, &expect, "{args:?}, access {i}");
    }
    assert_eq!(report["hits"], hits, "{args:?}");
    assert_eq!(report["misses"], want.len() as u64 - hits, "{args:?}");
}

const BELADY: &str = "1,2,3,4,1,2,5,1,2,3,4,5";

/// Belady's anomaly (Belady, Nelson and Shedler, CACM 1969; Silberschatz 10.4.2): FIFO
/// makes 9 faults with 3 frames and 10 with 4. Memory first in on the left.
#[test]
fn belady_fifo_three_and_four_frames() {
    check(
        "fifo",
        "3",
        BELADY,
        &[],
        &[
            (1, false, None, &[1]),
            (2, false, None, &[1, 2]),
            (3, false, None, &[1, 2, 3]),
            (4, false, Some(1), &[2, 3, 4]),
            (1, false, Some(2), &[3, 4, 1]),
            (2, false, Some(3), &[4, 1, 2]),
            (5, false, Some(4), &[1, 2, 5]),
            (1, true, None, &[1, 2, 5]),
            (2, true, None, &[1, 2, 5]),
            (3, false, Some(1), &[2, 5, 3]),
            (4, false, Some(2), &[5, 3, 4]),
            (5, true, None, &[5, 3, 4]),
        ],
        3,
    );
    check(
        "fifo",
        "4",
        BELADY,
        &[],
        &[
            (1, false, None, &[1]),
            (2, false, None, &[1, 2]),
            (3, false, None, &[1, 2, 3]),
            (4, false, None, &[1, 2, 3, 4]),
            (1, true, None, &[1, 2, 3, 4]),
            (2, true, None, &[1, 2, 3, 4]),
            (5, false, Some(1), &[2, 3, 4, 5]),
            (1, false, Some(2), &[3, 4, 5, 1]),
            (2, false, Some(3), &[4, 5, 1, 2]),
            (3, false, Some(4), &[5, 1, 2, 3]),
            (4, false, Some(5), &[1, 2, 3, 4]),
            (5, false, Some(1), &[2, 3, 4, 5]),
        ],
        2,
    );
}

/// The transcript is paging-policy.py -c's, line for line (its `ARG` header aside).
#[test]
fn belady_transcript() {
    let text = ok(&["--policy", "FIFO", "--frames", "3", "--refs", BELADY]);
    let expected = "\
Policy FIFO, 3 frames
References (12): 1,2,3,4,1,2,5,1,2,3,4,5

Access: 1  MISS FirstIn ->          [1] <- Lastin  Replaced:- [Hits:0 Misses:1]
Access: 2  MISS FirstIn ->       [1, 2] <- Lastin  Replaced:- [Hits:0 Misses:2]
Access: 3  MISS FirstIn ->    [1, 2, 3] <- Lastin  Replaced:- [Hits:0 Misses:3]
Access: 4  MISS FirstIn ->    [2, 3, 4] <- Lastin  Replaced:1 [Hits:0 Misses:4]
Access: 1  MISS FirstIn ->    [3, 4, 1] <- Lastin  Replaced:2 [Hits:0 Misses:5]
Access: 2  MISS FirstIn ->    [4, 1, 2] <- Lastin  Replaced:3 [Hits:0 Misses:6]
Access: 5  MISS FirstIn ->    [1, 2, 5] <- Lastin  Replaced:4 [Hits:0 Misses:7]
Access: 1  HIT  FirstIn ->    [1, 2, 5] <- Lastin  Replaced:- [Hits:1 Misses:7]
Access: 2  HIT  FirstIn ->    [1, 2, 5] <- Lastin  Replaced:- [Hits:2 Misses:7]
Access: 3  MISS FirstIn ->    [2, 5, 3] <- Lastin  Replaced:1 [Hits:2 Misses:8]
Access: 4  MISS FirstIn ->    [5, 3, 4] <- Lastin  Replaced:2 [Hits:2 Misses:9]
Access: 5  HIT  FirstIn ->    [5, 3, 4] <- Lastin  Replaced:- [Hits:3 Misses:9]

FINALSTATS hits 3   misses 9   hitrate 25.00
";
    assert_eq!(text, expected);
    let quiet = ok(&["-p", "FIFO", "-C", "4", "-a", BELADY, "-N"]);
    assert_eq!(
        quiet,
        "Policy FIFO, 4 frames\nReferences (12): 1,2,3,4,1,2,5,1,2,3,4,5\n\n\
         FINALSTATS hits 2   misses 10   hitrate 16.67\n"
    );
}

const OSTEP: &str = "0,1,2,0,1,3,0,3,1,2,1";

/// OSTEP chapter 22, 3 frames: figure 22.1 (OPT: 6 hits, 5 misses; at the last fault 0 and
/// 3 are never used again and the figure, like paging-policy.py, evicts 3) and figure 22.5
/// (LRU, least recently used on the left: 6 hits, 5 misses).
#[test]
fn ostep_opt_and_lru() {
    check(
        "opt",
        "3",
        OSTEP,
        &[],
        &[
            (0, false, None, &[0]),
            (1, false, None, &[0, 1]),
            (2, false, None, &[0, 1, 2]),
            (0, true, None, &[0, 1, 2]),
            (1, true, None, &[0, 1, 2]),
            (3, false, Some(2), &[0, 1, 3]),
            (0, true, None, &[0, 1, 3]),
            (3, true, None, &[0, 1, 3]),
            (1, true, None, &[0, 1, 3]),
            (2, false, Some(3), &[0, 1, 2]),
            (1, true, None, &[0, 1, 2]),
        ],
        6,
    );
    check(
        "lru",
        "3",
        OSTEP,
        &[],
        &[
            (0, false, None, &[0]),
            (1, false, None, &[0, 1]),
            (2, false, None, &[0, 1, 2]),
            (0, true, None, &[1, 2, 0]),
            (1, true, None, &[2, 0, 1]),
            (3, false, Some(2), &[0, 1, 3]),
            (0, true, None, &[1, 3, 0]),
            (3, true, None, &[1, 0, 3]),
            (1, true, None, &[0, 3, 1]),
            (2, false, Some(0), &[3, 1, 2]),
            (1, true, None, &[3, 2, 1]),
        ],
        6,
    );
    // Figure 22.2: FIFO, 4 hits.
    assert_eq!(json(&["-p", "fifo", "-a", OSTEP])["hits"], 4);
}

/// MRU by hand: the list least recently used first, the victim the most recently used
/// (always the previous reference's page).
#[test]
fn mru_by_hand() {
    check(
        "mru",
        "3",
        "1,2,3,4,1,2,5,1",
        &[],
        &[
            (1, false, None, &[1]),
            (2, false, None, &[1, 2]),
            (3, false, None, &[1, 2, 3]),
            (4, false, Some(3), &[1, 2, 4]),
            (1, true, None, &[2, 4, 1]),
            (2, true, None, &[4, 1, 2]),
            (5, false, Some(2), &[4, 1, 5]),
            (1, true, None, &[4, 5, 1]),
        ],
        3,
    );
}

/// UNOPT by hand: the page used soonest goes; with none used again, the earliest in.
#[test]
fn unopt_by_hand() {
    check(
        "unopt",
        "3",
        OSTEP,
        &[],
        &[
            (0, false, None, &[0]),
            (1, false, None, &[0, 1]),
            (2, false, None, &[0, 1, 2]),
            (0, true, None, &[0, 1, 2]),
            (1, true, None, &[0, 1, 2]),
            // Next uses: 0 at 6, 1 at 8, 2 at 9.
            (3, false, Some(0), &[1, 2, 3]),
            // 1 at 8, 2 at 9, 3 at 7.
            (0, false, Some(3), &[1, 2, 0]),
            // 1 at 8, 2 at 9, 0 never.
            (3, false, Some(1), &[2, 0, 3]),
            // 2 at 9, 0 and 3 never.
            (1, false, Some(2), &[0, 3, 1]),
            // 1 at 10.
            (2, false, Some(1), &[0, 3, 2]),
            // None used again: the earliest in.
            (1, false, Some(0), &[3, 2, 1]),
        ],
        2,
    );
}

/// Clock by hand, memory in arrival order as paging-policy.py lists it. With one use bit
/// the hand clears 1, 2, 3 at reference 4 and takes 1; with two levels 1's second use
/// keeps it for one more pass, and 2 goes.
#[test]
fn clock_by_hand() {
    let string = "1,1,2,3,4,1,5";
    check(
        "clock",
        "3",
        string,
        &[],
        &[
            (1, false, None, &[1]),
            (1, true, None, &[1]),
            (2, false, None, &[1, 2]),
            (3, false, None, &[1, 2, 3]),
            (4, false, Some(1), &[2, 3, 4]),
            // The hand is at 2, whose bit it cleared.
            (1, false, Some(2), &[3, 4, 1]),
            (5, false, Some(3), &[4, 1, 5]),
        ],
        1,
    );
    check(
        "clock",
        "3",
        string,
        &["--clockbits", "2"],
        &[
            (1, false, None, &[1]),
            (1, true, None, &[1]),
            (2, false, None, &[1, 2]),
            (3, false, None, &[1, 2, 3]),
            // Counters 1:2 2:1 3:1; the hand takes each down once, 1 twice; 2 is at 0 first.
            (4, false, Some(2), &[1, 3, 4]),
            (1, true, None, &[1, 3, 4]),
            // The hand is at 3, at 0.
            (5, false, Some(3), &[1, 4, 5]),
        ],
        2,
    );
    let text = ok(&["-p", "CLOCK", "-b", "2", "-a", string]);
    assert!(text.starts_with("Policy CLOCK (use counters up to 2), 3 frames\n"));
    assert!(text.contains("Access: 4  MISS Left  ->    [1, 3, 4] <- Right Replaced:2"));
}

/// Random: the same seed gives the same victims; --policy-seed overrides --seed.
#[test]
fn random_is_deterministic_per_seed() {
    let string = "0,1,2,3,4,5,6,7,0,2,4,6,1,3,5,7,0,1,2,3,4,5,6,7";
    let run = |extra: &[&str]| {
        let mut args = vec!["-p", "random", "-C", "4", "-a", string];
        args.extend_from_slice(extra);
        json(&args)
    };
    for seed in ["0", "1", "42"] {
        assert_eq!(
            run(&["--seed", seed]),
            run(&["--seed", seed]),
            "seed {seed}"
        );
        assert_eq!(
            run(&["--seed", seed]),
            run(&["--seed", "99", "--policy-seed", seed]),
            "seed {seed}"
        );
    }
    let victims = |v: &Value| -> Vec<Value> {
        v["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["evicted"].clone())
            .collect()
    };
    let all: Vec<Vec<Value>> = (0..8)
        .map(|s| victims(&run(&["--seed", &s.to_string()])))
        .collect();
    assert!(
        all.iter().any(|v| *v != all[0]),
        "eight seeds chose the same victims"
    );
    // Memory is in arrival order: every fault puts its page on the right.
    for a in run(&["--seed", "3"])["accesses"].as_array().unwrap() {
        if a["hit"] == false {
            assert_eq!(a["memory"].as_array().unwrap().last(), Some(&a["page"]));
        }
    }
    let text = ok(&["-p", "RAND", "-a", "1,2,3,4", "-s", "5"]);
    assert!(
        text.starts_with("Policy RAND (seed 5), 3 frames\n"),
        "{text}"
    );
}

/// Without --refs the string is drawn as paging-policy.py -s 0 draws it (8,7,4,2,5,4,7,3,4,5),
/// and OPT's answers are its answers.
#[test]
fn drawn_string_matches_paging_policy_py() {
    let text = ok(&["-p", "OPT", "-s", "0"]);
    let expected = "\
Policy OPT, 3 frames
References (10 drawn from seed 0, pages 0 to 9): 8,7,4,2,5,4,7,3,4,5

Access: 8  MISS Left  ->          [8] <- Right Replaced:- [Hits:0 Misses:1]
Access: 7  MISS Left  ->       [8, 7] <- Right Replaced:- [Hits:0 Misses:2]
Access: 4  MISS Left  ->    [8, 7, 4] <- Right Replaced:- [Hits:0 Misses:3]
Access: 2  MISS Left  ->    [7, 4, 2] <- Right Replaced:8 [Hits:0 Misses:4]
Access: 5  MISS Left  ->    [7, 4, 5] <- Right Replaced:2 [Hits:0 Misses:5]
Access: 4  HIT  Left  ->    [7, 4, 5] <- Right Replaced:- [Hits:1 Misses:5]
Access: 7  HIT  Left  ->    [7, 4, 5] <- Right Replaced:- [Hits:2 Misses:5]
Access: 3  MISS Left  ->    [4, 5, 3] <- Right Replaced:7 [Hits:2 Misses:6]
Access: 4  HIT  Left  ->    [4, 5, 3] <- Right Replaced:- [Hits:3 Misses:6]
Access: 5  HIT  Left  ->    [4, 5, 3] <- Right Replaced:- [Hits:4 Misses:6]

FINALSTATS hits 4   misses 6   hitrate 40.00
";
    assert_eq!(text, expected);
    // The same string given explicitly gives the same answers.
    assert_eq!(
        json(&["-p", "opt", "-s", "0"]),
        json(&["-p", "opt", "--refs", "8,7,4,2,5,4,7,3,4,5"])
    );
    assert_eq!(
        json(&["-p", "opt", "--refs", "-1", "-s", "0"]),
        json(&["-p", "opt", "-s", "0", "-n", "10", "-m", "10"])
    );
}

/// The JSON report has exactly the documented keys.
#[test]
fn json_shape() {
    let v = json(&["--refs", "1,2,1"]);
    // (serde_json's maps list their keys sorted.)
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["accesses", "hits", "misses"]);
    for a in v["accesses"].as_array().unwrap() {
        let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["evicted", "hit", "memory", "page"]);
    }
    // The text lists each access's keys in the documented order.
    let text = ok(&["--refs", "7", "--json"]);
    let at = |k: &str| text.find(k).unwrap_or_else(|| panic!("{k} in {text}"));
    assert!(at("\"page\"") < at("\"hit\"") && at("\"hit\"") < at("\"evicted\""));
    assert!(at("\"evicted\"") < at("\"memory\"") && at("\"memory\"") < at("\"hits\""));
    assert_eq!(v["accesses"][0]["evicted"], Value::Null);
    assert_eq!(
        (v["hits"].as_u64(), v["misses"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn bad_input_is_refused_with_status_2() {
    refused(
        &["--policy", "lfu", "--refs", "1,2"],
        &[
            "`lfu` is not a replacement policy",
            "fifo, lru, mru, opt, unopt, clock, random or enhanced-clock",
        ],
    );
    refused(
        &["--frames", "0", "--refs", "1,2"],
        &["--frames 0", "give 1 or more"],
    );
    refused(&["--frames", "three"], &["--frames", "not a number"]);
    refused(&["--refs", ""], &["--refs is empty", "--refs 1,2,3,1"]);
    refused(&["--refs", " "], &["--refs is empty"]);
    refused(
        &["--refs", "1,,x"],
        &["--refs: item 2 is empty", "as in `7,0,1,2w`"],
    );
    refused(
        &["--refs", "1,2,x"],
        &[
            "--refs: item 3 `x` is not a page reference",
            "decimal page number",
        ],
    );
    refused(&["--refs", "1,2,"], &["--refs: item 3 is empty"]);
    for k in ["0", "17"] {
        refused(
            &["-p", "clock", "--clockbits", k, "--refs", "1"],
            &[&format!("--clockbits {k} is out of range"), "give 1 to 16"],
        );
    }
    refused(
        &["-p", "fifo", "--clockbits", "2", "--refs", "1"],
        &["--clockbits applies only to --policy clock"],
    );
    refused(
        &["-p", "lru", "--policy-seed", "2", "--refs", "1"],
        &["--policy-seed applies only to --policy random"],
    );
    refused(&["--numaddrs", "0"], &["--numaddrs 0", "give 1 to"]);
    refused(&["--maxpage", "0"], &["--maxpage 0", "give 1 or more"]);
    refused(
        &["--refs", "1,2", "--numaddrs", "4"],
        &["--numaddrs and --maxpage shape a drawn reference string"],
    );
}

/// MRU and UNOPT run only over reference strings: `os.policy` refuses them and says why.
#[test]
fn kernel_refuses_string_only_policies() {
    for (policy, why) in [
        ("mru", "MRU must hear of every reference"),
        ("unopt", "UNOPT needs the recorded future"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
            .args(["config", "--set", &format!("os.policy={policy}")])
            .env_remove("RUST_LOG")
            .output()
            .expect("the vmlab binary runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("runs only over reference strings (`vmlab policy`)"),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
    }
}

/// The worked examples of docs/policy.md are what the command prints.
#[test]
fn the_documented_examples() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/policy.md"))
        .expect("docs/policy.md");
    for command in [
        "vmlab policy --policy fifo --frames 3 --refs 1,2,3,4,1,2,5,1,2,3,4,5",
        "vmlab policy --policy fifo --frames 4 --refs 1,2,3,4,1,2,5,1,2,3,4,5",
        "vmlab policy --policy clock --clockbits 2 --refs 1,1,2,3,4,1,5",
    ] {
        let start = doc
            .find(&format!("$ {command}\n"))
            .unwrap_or_else(|| panic!("docs/policy.md shows `{command}`"));
        let body = doc[start..].split_once('\n').expect("a line").1;
        let shown = &body[..body.find("```").expect("the block ends")];
        let args: Vec<&str> = command.split(' ').skip(2).collect();
        assert_eq!(shown, ok(&args), "{command}");
    }
}

/// `-f FILE` reads the string as paging-policy.py's address file: one page per line
/// (comments and commas allowed); the answers are the --refs answers.
#[test]
fn address_file() {
    let dir = std::env::temp_dir().join(format!("vmlab-policy-f-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("refs.txt");
    std::fs::write(
        &good,
        "# Belady's string\n1\n2\n3\n4\n1, 2\n5\n1 2 3\n4\n5\n",
    )
    .unwrap();
    let from_file = json(&["-p", "fifo", "-C", "3", "-f", good.to_str().unwrap()]);
    let given = json(&["-p", "fifo", "-C", "3", "--refs", "1,2,3,4,1,2,5,1,2,3,4,5"]);
    assert_eq!(from_file, given);
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "1\n2\nthree\n").unwrap();
    refused(
        &["-f", bad.to_str().unwrap()],
        &[
            "bad.txt:3:",
            "`three` is not a page number",
            "one number per line",
        ],
    );
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    refused(&["-f", empty.to_str().unwrap()], &["no page numbers"]);
    refused(&["-f", "/nonexistent/refs.txt"], &["cannot read it"]);
    refused(
        &["-f", good.to_str().unwrap(), "--refs", "1,2"],
        &["cannot be used with"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
