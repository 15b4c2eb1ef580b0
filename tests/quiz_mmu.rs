//! `vmlab quiz multilevel` and `vmlab quiz tlb`: snapshots of a few problems (as a student
//! sees them, with the answers, and as JSON), and the property that for many seeds and
//! knobs the scenario each writes is graded all-correct by the model (the MMU behind
//! `vmlab translate`): the quiz's textbook answers and the model agree.

use vmlab::quiz::multilevel::{self, QuizFormat};
use vmlab::quiz::tlb::{self, QuizPolicy};
use vmlab::quiz::{render, Common, Generator, Quiz};

fn common(answers: bool, json: bool) -> Common {
    Common {
        seed: 0,
        answers,
        scenario: None,
        json,
    }
}

fn tlb_args(sets: u64, ways: u64, policy: QuizPolicy) -> tlb::Args {
    tlb::Args {
        common: common(false, false),
        sets,
        ways,
        policy,
        page_size: 4096,
        accesses: 12,
        pages: 6,
        locality: 0.6,
        asids: 1,
    }
}

fn ml_args(format: QuizFormat) -> multilevel::Args {
    multilevel::Args {
        common: common(false, false),
        format,
        allocated: 64,
        pages: 4,
        addresses: 10,
    }
}

/// The three views of a problem, as `vmlab quiz` prints them.
fn snap(name: &str, q: &Quiz) {
    insta::assert_snapshot!(format!("{name}_problem"), render(q, &common(false, false)));
    insta::assert_snapshot!(format!("{name}_answers"), render(q, &common(true, false)));
    insta::assert_snapshot!(format!("{name}_json"), render(q, &common(false, true)));
}

#[test]
fn tlb_snapshots() {
    snap(
        "tlb_seed1",
        &tlb_args(2, 2, QuizPolicy::Lru).generate(1).unwrap(),
    );
    let mut a = tlb_args(1, 4, QuizPolicy::Fifo);
    a.asids = 2;
    a.page_size = 1024;
    snap("tlb_seed2_fifo_asids", &a.generate(2).unwrap());
}

#[test]
fn multilevel_snapshots() {
    snap(
        "multilevel_seed1",
        &ml_args(QuizFormat::Ostep).generate(1).unwrap(),
    );
    let mut a = ml_args(QuizFormat::Ostep);
    a.allocated = 16;
    a.addresses = 5;
    snap("multilevel_seed2_small", &a.generate(2).unwrap());
    let mut s = ml_args(QuizFormat::Sv39);
    s.addresses = 6;
    snap("multilevel_seed3_sv39", &s.generate(3).unwrap());
}

/// Runs a quiz's scenario through the model: every access must have an answer, and every
/// answer must be right.
fn graded(q: &Quiz, what: &str, accesses: usize) {
    let text = q.scenario.as_deref().expect("a scenario");
    let mut s = vmlab::scenario::Scenario::parse(text, "quiz.toml")
        .unwrap_or_else(|e| panic!("{what}: the scenario does not load: {e}\n{text}"));
    let run = vmlab::report::run(&mut s);
    let (wrong, all) = run.expectations();
    if wrong != 0 || all != accesses {
        panic!(
            "{what}: {wrong} wrong of {all} (want 0 of {accesses})\n{}",
            vmlab::report::human(&s, &run)
        );
    }
}

#[test]
fn tlb_answers_agree_with_the_model() {
    let shapes: [(u64, u64); 9] = [
        (1, 1),
        (1, 2),
        (1, 4),
        (2, 2),
        (4, 2),
        (3, 2),
        (2, 3),
        (8, 1),
        (2, 4),
    ];
    let policies = [QuizPolicy::Lru, QuizPolicy::Fifo, QuizPolicy::Plru];
    let mut n = 0;
    for seed in 0..300u64 {
        let (sets, ways) = shapes[seed as usize % shapes.len()];
        let policy = policies[(seed / 3) as usize % policies.len()];
        if policy == QuizPolicy::Plru && !ways.is_power_of_two() {
            continue;
        }
        let mut a = tlb_args(sets, ways, policy);
        a.accesses = 10 + seed % 20;
        a.pages = 2 + seed % 10;
        a.asids = 1 + seed % 3;
        a.page_size = 16 << (seed % 13);
        a.locality = (seed % 5) as f64 / 4.0;
        let q = a.generate(seed).unwrap();
        graded(&q, &format!("tlb seed {seed} {a:?}"), a.accesses as usize);
        n += 1;
    }
    assert!(n > 250, "{n} problems checked");
}

#[test]
fn multilevel_answers_agree_with_the_model() {
    for seed in 0..300u64 {
        let mut a = ml_args(QuizFormat::Ostep);
        a.allocated = 1 + seed % 95;
        a.addresses = 1 + seed % 30;
        let q = a.generate(seed).unwrap();
        graded(&q, &format!("ostep seed {seed}"), a.addresses as usize);

        let mut s = ml_args(QuizFormat::Sv39);
        s.pages = 1 + seed % 32;
        s.addresses = 1 + seed % 20;
        let q = s.generate(seed).unwrap();
        graded(&q, &format!("sv39 seed {seed}"), s.addresses as usize);
    }
}

#[test]
fn the_same_seed_gives_the_same_problem() {
    let a = tlb_args(2, 2, QuizPolicy::Lru);
    assert_eq!(
        a.generate(7).unwrap().problem,
        a.generate(7).unwrap().problem
    );
    assert_ne!(
        a.generate(7).unwrap().problem,
        a.generate(8).unwrap().problem
    );
    let m = ml_args(QuizFormat::Sv39);
    assert_eq!(
        m.generate(7).unwrap().scenario,
        m.generate(7).unwrap().scenario
    );
}

#[test]
fn tlb_none_in_a_scenario() {
    let base = "mode = \"paged\"\n[paging]\nformat = \"ostep-2level\"\npdbr = 0\n[[access]]\nva = 0\n[[access]]\nva = 1\n";
    for text in [
        format!("tlb = \"none\"\n{base}"),
        base.replace("[paging]", "[mmu]\ntlb = \"none\"\n[paging]"),
    ] {
        let mut s = vmlab::scenario::Scenario::parse(&text, "t.toml").unwrap();
        let run = vmlab::report::run(&mut s);
        assert!(run.stats.iter().all(|(n, _)| !n.contains("tlb")), "{text}");
        assert!(vmlab::report::human(&s, &run).contains("TLBs     none"));
    }
    let e = vmlab::scenario::Scenario::parse(&format!("tlb = \"off\"\n{base}"), "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t.toml:1:7") && e.contains("write tlb = \"none\""),
        "{e}"
    );
}
