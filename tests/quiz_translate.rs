//! `vmlab quiz relocation`, `segmentation` and `paging`: snapshots of a few problems and
//! their answers, and the property that matters: for many seeds and knobs, the scenario a
//! problem writes, run by the MMU model behind `vmlab translate`, grades every one of the
//! quiz's own answers (computed by the textbook's arithmetic) correct.

use clap::Parser;
use std::process::Command;
use vmlab::quiz::{QuizKind, Rng};
use vmlab::scenario::Scenario;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    kind: QuizKind,
}

fn quiz(args: &[String]) -> Result<vmlab::quiz::Quiz, String> {
    let mut v = vec!["quiz".to_string()];
    v.extend_from_slice(args);
    let cli = Cli::try_parse_from(v).map_err(|e| e.to_string())?;
    let seed = cli.kind.common().seed;
    cli.kind.generator().generate(seed)
}

fn vmlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run vmlab");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "vmlab {args:?}: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn snapshots() {
    let cases: &[(&str, &[&str])] = &[
        ("relocation-1", &["quiz", "relocation", "--seed", "1"]),
        (
            "relocation-1-answers",
            &["quiz", "relocation", "--seed", "1", "-c"],
        ),
        (
            "relocation-given",
            &[
                "quiz",
                "relocation",
                "-a",
                "1000",
                "-p",
                "4k",
                "-b",
                "3000",
                "-l",
                "200",
                "-n",
                "8",
                "-c",
            ],
        ),
        (
            "segmentation-1-answers",
            &["quiz", "segmentation", "--seed", "1", "-c"],
        ),
        (
            "segmentation-readme",
            &[
                "quiz",
                "segmentation",
                "-a",
                "128",
                "-p",
                "512",
                "-b",
                "0",
                "-l",
                "20",
                "-B",
                "512",
                "-L",
                "20",
                "-c",
            ],
        ),
        (
            "segmentation-1000",
            &[
                "quiz",
                "segmentation",
                "-a",
                "1000",
                "-p",
                "16k",
                "--seed",
                "4",
                "-n",
                "8",
                "-c",
            ],
        ),
        ("paging-1", &["quiz", "paging", "--seed", "1"]),
        ("paging-2-answers", &["quiz", "paging", "--seed", "2", "-c"]),
        (
            "paging-small-pages",
            &[
                "quiz", "paging", "-a", "1k", "-p", "4k", "-P", "64", "-u", "75", "--seed", "5",
                "-c",
            ],
        ),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(*name, vmlab(args));
    }
    for kind in ["relocation", "segmentation", "paging"] {
        let out = vmlab(&["quiz", kind, "--seed", "7", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(v["kind"], kind);
        insta::assert_snapshot!(format!("{kind}-7.json"), out);
    }
    // The scenario a problem writes, as a teacher would read it.
    let q = quiz(&["paging".into(), "--seed".into(), "2".into()]).unwrap();
    insta::assert_snapshot!("paging-2.scenario", q.scenario.unwrap());
    let q = quiz(&[
        "segmentation".into(),
        "-a".into(),
        "1000".into(),
        "--seed".into(),
        "4".into(),
    ])
    .unwrap();
    insta::assert_snapshot!("segmentation-1000.scenario", q.scenario.unwrap());
}

#[test]
fn same_seed_same_problem() {
    for kind in ["relocation", "segmentation", "paging"] {
        let a = quiz(&[kind.into(), "-s".into(), "11".into()]).unwrap();
        let b = quiz(&[kind.into(), "-s".into(), "11".into()]).unwrap();
        let c = quiz(&[kind.into(), "-s".into(), "12".into()]).unwrap();
        assert_eq!(a.problem, b.problem);
        assert_eq!(a.answer, b.answer);
        assert_ne!(a.problem, c.problem, "{kind}");
    }
}

/// Generates the problem, runs its scenario through the MMU, and checks that every answer
/// is graded correct.
fn check(args: Vec<String>, n: usize) {
    let q = quiz(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let text = q.scenario.expect("a scenario");
    let mut s = Scenario::parse(&text, "quiz.toml")
        .unwrap_or_else(|e| panic!("{args:?}: the scenario does not load: {e}\n{text}"));
    let run = vmlab::report::run(&mut s);
    let (wrong, all) = run.expectations();
    assert_eq!((wrong, all), (0, n), "{args:?}\n{text}");
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

#[test]
fn the_mmu_agrees_with_every_relocation_answer() {
    let mut r = Rng::new(100);
    for seed in 0..300u64 {
        let asize = *r.pick(&[1000u64, 1024, 16, 100, 4096, 777, 3]).unwrap();
        let psize = asize + 1 + r.below(asize * 8);
        let mut args = vec![
            s("relocation"),
            s("-s"),
            s(seed),
            s("-a"),
            s(asize),
            s("-p"),
            s(psize),
            s("-n"),
            s(10),
        ];
        if r.chance(0.3) {
            let limit = r.below(psize / 2 + 1);
            let base = r.below(psize - limit + 1);
            args.extend([s("-l"), s(limit), s("-b"), s(base)]);
        }
        check(args, 10);
    }
}

#[test]
fn the_mmu_agrees_with_every_segmentation_answer() {
    let mut r = Rng::new(200);
    for seed in 0..300u64 {
        let asize = *r
            .pick(&[1000u64, 1024, 128, 5, 2, 3, 16384, 999, 64])
            .unwrap();
        let psize = 2 * asize + r.below(asize * 8);
        let mut args = vec![
            s("segmentation"),
            s("-s"),
            s(seed),
            s("-a"),
            s(asize),
            s("-p"),
            s(psize),
            s("-n"),
            s(12),
        ];
        let mut n = 12;
        if r.chance(0.3) {
            // Every address of the space, with registers given: the edges of both segments.
            let (l0, l1) = (r.below(asize / 2 + 1), r.below(asize / 2 + 1));
            let b0 = r.below(psize - asize + 1);
            let top1 = b0 + asize / 2 + l1 + r.below(psize - (b0 + asize / 2 + l1) + 1);
            let all: Vec<String> = (0..asize.min(1000)).map(s).collect();
            n = all.len();
            args.extend([
                s("-b"),
                s(b0),
                s("-l"),
                s(l0),
                s("-B"),
                s(top1),
                s("-L"),
                s(l1),
                s("-A"),
                all.join(","),
            ]);
        }
        check(args, n);
    }
}

#[test]
fn the_mmu_agrees_with_every_paging_answer() {
    let mut r = Rng::new(300);
    for seed in 0..300u64 {
        let abits = 4 + r.below(14) as u32; // 16 bytes to 128 KiB
        let pbits = (2 + r.below(11) as u32).min(abits - 1); // 4 bytes to 4 KiB
        let pbits = pbits.max(abits.saturating_sub(12)); // at most 4096 entries
        let (asize, page) = (1u64 << abits, 1u64 << pbits);
        let psize = asize + page * (1 + r.below(3 * asize / page));
        let used = *r.pick(&[0u64, 10, 50, 90, 100]).unwrap();
        let args = vec![
            s("paging"),
            s("-s"),
            s(seed),
            s("-a"),
            s(asize),
            s("-p"),
            s(psize),
            s("-P"),
            s(page),
            s("-u"),
            s(used),
            s("-n"),
            s(10),
        ];
        check(args, 10);
    }
}
