//! `vmlab quiz replacement` and `vmlab quiz malloc`: snapshots of a few seeds, and for many
//! seeds the answers checked against the textbook definitions, written here independently
//! of the kernel's replacement code and of the heap allocator that produce them.

use clap::Parser;
use serde_json::Value;
use vmlab::quiz::{render, QuizArgs, QuizKind};

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    quiz: QuizArgs,
}

/// The quiz a command line (`replacement --seed 3 ...`) makes.
fn quiz(line: &str) -> (QuizKind, vmlab::quiz::Quiz) {
    let words = std::iter::once("quiz").chain(line.split_whitespace());
    let cmd = Cmd::try_parse_from(words).unwrap_or_else(|e| panic!("{line}: {e}"));
    let kind = cmd.quiz.kind;
    let q = kind
        .generator()
        .generate(kind.common().seed)
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    (kind, q)
}

fn text(line: &str) -> String {
    let (kind, q) = quiz(line);
    render(&q, kind.common())
}

#[test]
fn replacement_snapshots() {
    for (name, line) in [
        ("fifo_seed0", "replacement --seed 0 --answers"),
        ("lru_seed1", "replacement -p lru -s 1 -c"),
        ("opt_seed7", "replacement -p opt -C 4 -n 15 -m 8 -s 7 -c"),
        (
            "clock_locality",
            "replacement -p clock --locality 80 -n 12 -s 2 -c",
        ),
        ("fifo_problem_only", "replacement --seed 5"),
    ] {
        insta::assert_snapshot!(format!("replacement_{name}"), text(line), line);
    }
    insta::assert_snapshot!(
        "replacement_json",
        text("replacement -p unopt -s 3 --json"),
        "replacement -p unopt -s 3 --json"
    );
}

#[test]
fn malloc_snapshots() {
    for (name, line) in [
        ("best_seed0", "malloc --seed 0 --answers"),
        (
            "first_coalesce",
            "malloc -n 8 -H 4 -a 4 -p first -l insert-front -C -s 5 -c",
        ),
        ("worst_problem_only", "malloc -p worst -s 2"),
    ] {
        insta::assert_snapshot!(format!("malloc_{name}"), text(line), line);
    }
}

/// The textbook policies, one step at a time: memory as a list, the victim chosen by the
/// definition. Returns each access's (hit, victim).
fn textbook(policy: &str, frames: usize, refs: &[u64]) -> Vec<(bool, Option<u64>)> {
    let mut mem: Vec<u64> = Vec::new(); // insertion order (FIFO, OPT) or recency (LRU, MRU)
    let mut use_bit: Vec<bool> = Vec::new(); // clock: parallel to `ring`
    let mut ring: Vec<u64> = Vec::new();
    let mut hand = 0usize;
    let mut out = Vec::new();
    for (t, &p) in refs.iter().enumerate() {
        if policy == "clock" {
            if let Some(i) = ring.iter().position(|&q| q == p) {
                use_bit[i] = true;
                out.push((true, None));
                continue;
            }
            if ring.len() < frames {
                ring.push(p);
                use_bit.push(true);
                out.push((false, None));
                continue;
            }
            loop {
                if use_bit[hand] {
                    use_bit[hand] = false;
                    hand = (hand + 1) % frames;
                } else {
                    let v = ring[hand];
                    ring[hand] = p;
                    use_bit[hand] = true;
                    hand = (hand + 1) % frames;
                    out.push((false, Some(v)));
                    break;
                }
            }
            continue;
        }
        if let Some(i) = mem.iter().position(|&q| q == p) {
            if policy == "lru" || policy == "mru" {
                mem.remove(i);
                mem.push(p);
            }
            out.push((true, None));
            continue;
        }
        let mut victim = None;
        if mem.len() == frames {
            let next = |q: u64| refs[t + 1..].iter().position(|&r| r == q);
            let i = match policy {
                "fifo" | "lru" => 0,
                "mru" => mem.len() - 1,
                "opt" => {
                    // Farthest next use; never used again counts as farthest, and among
                    // those the latest in goes (paging-policy.py's tie rule).
                    let mut best = 0;
                    for i in 0..mem.len() {
                        let (a, b) = (next(mem[i]), next(mem[best]));
                        let later = match (a, b) {
                            (None, _) => true,
                            (Some(_), None) => false,
                            (Some(x), Some(y)) => x > y,
                        };
                        if later {
                            best = i;
                        }
                    }
                    best
                }
                _ => unreachable!(),
            };
            victim = Some(mem.remove(i));
        }
        mem.push(p);
        out.push((false, victim));
    }
    out
}

#[test]
fn replacement_answers_follow_the_textbook_definitions() {
    let mut checked = 0;
    for seed in 0..150u64 {
        for policy in ["fifo", "lru", "mru", "opt", "clock"] {
            let frames = 1 + seed % 5;
            let maxpage = 3 + seed % 9;
            let locality = if seed % 3 == 0 {
                format!(" --locality {}", 50 + seed % 50)
            } else {
                String::new()
            };
            let line = format!(
                "replacement -p {policy} -C {frames} -n 30 -m {maxpage} -s {seed}{locality}"
            );
            let (_, q) = quiz(&line);
            let refs: Vec<u64> = q.json["refs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let want = textbook(policy, frames as usize, &refs);
            let got: Vec<(bool, Option<u64>)> = q.json["accesses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["hit"].as_bool().unwrap(), a["evicted"].as_u64()))
                .collect();
            assert_eq!(got, want, "{line}: refs {refs:?}");
            let hits = want.iter().filter(|(h, _)| *h).count() as u64;
            assert_eq!(q.json["hits"], Value::from(hits), "{line}");
            checked += 1;
        }
    }
    assert_eq!(checked, 750);
}

/// Every malloc answer, checked by invariants of the definition: the free chunks and the
/// live allocations tile the heap exactly; the chunk taken is one the policy may take from
/// the list before it (best: no smaller chunk fits; worst: no larger one; first: no earlier
/// one fits); a failed allocation had no chunk big enough.
#[test]
fn malloc_answers_keep_the_heap_whole_and_follow_the_policy() {
    for seed in 0..200u64 {
        let policy = ["best", "worst", "first"][(seed % 3) as usize];
        let order = [
            "addrsort",
            "sizesort+",
            "sizesort-",
            "insert-front",
            "insert-back",
        ][(seed % 5) as usize];
        let coalesce = if seed % 2 == 0 { " -C" } else { "" };
        let line = format!(
            "malloc -n 20 -S 64 -H {} -a {} -p {policy} -l {order}{coalesce} -P 60 -s {seed}",
            seed % 3 * 2,
            [1, 2, 4, 8][(seed % 4) as usize]
        );
        let (_, q) = quiz(&line);
        let (base, size) = (1000u64, 64u64);
        let mut live: Vec<(u64, u64, u64)> = Vec::new(); // (index, addr, bytes)
        let mut before: Vec<(u64, u64)> = vec![(base, size)];
        let mut next_index = 0u64;
        for op in q.json["operations"].as_array().unwrap() {
            let list: Vec<(u64, u64)> = op["free_list"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|c| (c["addr"].as_u64().unwrap(), c["size"].as_u64().unwrap()))
                        .collect()
                })
                .unwrap_or_else(|| before.clone());
            match op["op"].as_str().unwrap() {
                "alloc" => {
                    let need = op["request"].as_u64().unwrap();
                    let fits: Vec<&(u64, u64)> = before.iter().filter(|c| c.1 >= need).collect();
                    match op["addr"].as_u64() {
                        None => assert!(fits.is_empty(), "{line}: failed with {fits:?} free"),
                        Some(a) => {
                            let i = before.iter().position(|c| c.0 == a).expect("from the list");
                            let c = before[i];
                            assert!(c.1 >= need, "{line}");
                            let ok = match policy {
                                "best" => fits.iter().all(|f| f.1 >= c.1),
                                "worst" => fits.iter().all(|f| f.1 <= c.1),
                                _ => before[..i].iter().all(|f| f.1 < need),
                            };
                            assert!(ok, "{line}: {policy} took {c:?} from {before:?}");
                            live.push((next_index, a, need));
                        }
                    }
                    next_index += 1;
                }
                "free" => {
                    let index = op["index"].as_u64().unwrap();
                    if op["returned"] == 0 {
                        let k = live.iter().position(|l| l.0 == index).expect("live");
                        live.remove(k);
                    }
                }
                _ => {}
            }
            // Free chunks and live blocks tile [base, base + size).
            let mut all: Vec<(u64, u64)> = list.clone();
            all.extend(live.iter().map(|l| (l.1, l.2)));
            all.sort();
            let mut at = base;
            for (a, s) in &all {
                assert_eq!(*a, at, "{line}: a gap or an overlap at {at}: {all:?}");
                at += s;
            }
            assert_eq!(at, base + size, "{line}: {all:?}");
            before = list;
        }
    }
}

#[test]
fn bad_knobs_give_clear_errors() {
    let err = |line: &str| {
        let words = std::iter::once("quiz").chain(line.split_whitespace());
        let cmd = Cmd::try_parse_from(words).unwrap();
        let kind = cmd.quiz.kind;
        kind.generator().generate(0).unwrap_err()
    };
    assert!(err("replacement -C 0").contains("--frames 0"));
    assert!(err("replacement -n 0").contains("--numaddrs 0"));
    assert!(err("malloc -n 0").contains("--num-ops 0"));
    assert!(err("malloc -p nope").contains("--policy"));
}
