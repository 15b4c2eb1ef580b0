//! `vmlab quiz disk`: snapshots of a few problems (as a student sees them, with answers, as
//! JSON), disk.py's own answers for the README's examples, and the property that matters:
//! for many seeds and knobs, the requests file the quiz writes, run by the disk model
//! (`vmlab disk`), serves the requests in the quiz's order with the quiz's seek, rotation
//! and transfer times.

use std::process::Command;
use vmlab::disk_cmd::{self, DiskFile};
use vmlab::quiz::disk::Args;
use vmlab::quiz::{render, Common, Generator};

fn args(seed: u64, extra: &[(&str, &str)]) -> Args {
    let mut a = Args {
        common: Common {
            seed,
            answers: false,
            scenario: None,
            json: false,
        },
        addresses: None,
        addr_desc: "5,-1,0".into(),
        policy: "FIFO".into(),
        window: -1,
        zoning: "30,30,30".into(),
        seek_speed: 1.0,
        rotate_speed: 1.0,
        skew: 0,
    };
    for (k, v) in extra {
        match *k {
            "a" => a.addresses = Some(v.to_string()),
            "A" => a.addr_desc = v.to_string(),
            "p" => a.policy = v.to_string(),
            "w" => a.window = v.parse().unwrap(),
            "z" => a.zoning = v.to_string(),
            "S" => a.seek_speed = v.parse().unwrap(),
            "R" => a.rotate_speed = v.parse().unwrap(),
            "o" => a.skew = v.parse().unwrap(),
            _ => panic!("knob {k}"),
        }
    }
    a
}

/// disk.py -c's lines for a request list.
fn answers(extra: &[(&str, &str)]) -> String {
    args(0, extra).generate(0).unwrap().answer
}

#[test]
fn disk_py_readme_examples() {
    // OSTEP's homework answers (disk.py -c), default disk.
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("a", "0")],
            "Block:   0  Seek:  0  Rotate:165  Transfer: 30  Total: 195",
        ),
        (
            &[("a", "6")],
            "Block:   6  Seek:  0  Rotate:345  Transfer: 30  Total: 375",
        ),
        (
            &[("a", "30")],
            "Block:  30  Seek: 80  Rotate:265  Transfer: 30  Total: 375",
        ),
        (
            &[("a", "7,30,8")],
            "TOTALS      Seek:160  Rotate:545  Transfer: 90  Total: 795",
        ),
        (
            &[("a", "7,30,8"), ("p", "SATF")],
            "TOTALS      Seek: 80  Rotate:205  Transfer: 90  Total: 375",
        ),
        (
            &[("a", "10,11,12,13")],
            "TOTALS      Seek: 40  Rotate:425  Transfer:120  Total: 585",
        ),
        (
            &[("a", "10,18")],
            "Block:  18  Seek: 40  Rotate:170  Transfer: 30  Total: 240",
        ),
    ];
    for (knobs, line) in cases {
        let a = answers(knobs);
        assert!(a.contains(line), "{knobs:?}:\n{a}");
    }
}

#[test]
fn snapshots() {
    for (name, seed, knobs) in [
        ("default", 1u64, vec![]),
        ("satf_window", 3, vec![("p", "SATF"), ("w", "2")]),
        (
            "sstf_zoned",
            2,
            vec![
                ("A", "6,-1,0"),
                ("p", "SSTF"),
                ("z", "30,20,10"),
                ("o", "1"),
            ],
        ),
        ("clook", 4, vec![("p", "C-LOOK")]),
    ] {
        let mut a = args(seed, &knobs);
        let q = a.generate(seed).unwrap();
        insta::assert_snapshot!(format!("{name}.problem"), render(&q, &a.common));
        a.common.answers = true;
        insta::assert_snapshot!(format!("{name}.answers"), render(&q, &a.common));
        insta::assert_snapshot!(format!("{name}.scenario"), q.scenario.clone().unwrap());
        a.common.json = true;
        insta::assert_snapshot!(format!("{name}.json"), render(&q, &a.common));
    }
}

#[test]
fn the_disk_model_gives_the_quiz_answers() {
    let policies = ["FIFO", "SSTF", "SATF", "SCAN", "C-SCAN", "LOOK", "C-LOOK"];
    let zonings = [
        "30,30,30",
        "30,20,10",
        "36,30,20",
        "60,30",
        "20,36,12,10",
        "30",
    ];
    let mut checked = 0;
    for seed in 0..300u64 {
        let policy = policies[(seed % 7) as usize];
        let zoning = zonings[(seed / 7 % 6) as usize];
        let window = ["-1", "1", "2", "3"][(seed / 3 % 4) as usize];
        let skew = (seed / 5 % 3).to_string();
        let n = (3 + seed % 6).to_string();
        let seek = ["1", "2", "0.5", "4"][(seed / 11 % 4) as usize];
        let desc = format!("{n},-1,0");
        let knobs = [
            ("p", policy),
            ("z", zoning),
            ("w", window),
            ("o", skew.as_str()),
            ("A", desc.as_str()),
            ("S", seek),
        ];
        let a = args(seed, &knobs);
        let Ok(q) = a.generate(seed) else {
            continue; // no clear-cut problem for these knobs and seed
        };
        let text = q.scenario.unwrap();
        let file = DiskFile::parse(&text, "quiz.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let run = disk_cmd::run(&file, None).unwrap();
        let want = &q.json["answers"]["requests"];
        assert_eq!(
            run.completions.len(),
            want.as_array().unwrap().len(),
            "{text}"
        );
        for (c, w) in run.completions.iter().zip(want.as_array().unwrap()) {
            let got = (c.id, c.block, c.seek.0, c.rotation.0, c.transfer.0);
            let exp = (
                w["request"].as_u64().unwrap(),
                w["block"].as_u64().unwrap(),
                w["seek"].as_u64().unwrap(),
                w["rotate"].as_u64().unwrap(),
                w["transfer"].as_u64().unwrap(),
            );
            assert_eq!(got, exp, "seed {seed} {knobs:?}\n{text}");
        }
        // The file grades itself: every expected answer is right.
        let (wrong, graded) = disk_cmd::grade(&file, &run);
        assert!(
            wrong.is_empty() && graded == 4 * run.completions.len(),
            "{wrong:?}\n{text}"
        );
        checked += 1;
    }
    assert!(checked > 250, "only {checked} problems were clear-cut");
}

#[test]
fn bad_knobs_are_clear_errors() {
    for (knobs, msg) in [
        (vec![("w", "0")], "-w 0"),
        (vec![("z", "25,30")], "even number that divides 360"),
        (vec![("z", "24,30")], "sector boundary"),
        (vec![("z", "")], "not a whole number"),
        (vec![("R", "2")], "-R 2"),
        (vec![("R", "0")], "-R 0"),
        (vec![("S", "3")], "-S 3"),
        (vec![("p", "LIFO")], "unknown policy"),
        (vec![("a", "36")], "not a block"),
        (vec![("A", "5,99,0")], "-A 5,99,0"),
        (vec![("A", "5")], "-A 5"),
    ] {
        let e = args(0, &knobs).generate(0).unwrap_err();
        assert!(e.contains(msg), "{knobs:?}: {e}");
    }
}

#[test]
fn the_command_line_writes_a_scenario_vmlab_disk_runs() {
    let dir = std::env::temp_dir().join(format!("vmlab-quiz-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("q.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(["quiz", "disk", "-a", "7,30,8", "-p", "SATF", "--scenario"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .arg("disk")
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("ticks 120 | 0 + 80 + 205 + 90 = 375"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
