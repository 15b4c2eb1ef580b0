//! Runs `vmlab translate` on every example scenario and snapshots its text and JSON output,
//! plus explicit checks of numbers worked out by hand.

use std::path::Path;
use std::process::Command;
use vmlab::report::{self, OpResult, Outcome};
use vmlab::scenario::Scenario;
use vmlab_mmu::{Fault, FaultCause, PageFaultReason, Source, TlbId};

/// Every example in `programs/translate/`; `every_example_is_tested` keeps this list complete.
mod common;

const EXAMPLES: &[&str] = &[
    "bare",
    "base-bounds",
    "custom-format",
    "linear",
    "linear-inline",
    "ostep-2level",
    "paged-segments",
    "segments",
    "segments-halves",
    "sv39",
    "sv39-svadu",
];

fn vmlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run vmlab")
}

fn snapshot(name: &str) {
    let path = format!("programs/translate/{name}.toml");
    for json in [false, true] {
        let mut args = vec!["translate", path.as_str()];
        if json {
            args.push("--json");
        }
        let out = vmlab(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{path}: {stderr}");
        assert!(stderr.is_empty(), "{path}: unexpected stderr {stderr}");
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
        if json {
            let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
            assert!(v["ops"].is_array() && v["stats"].is_object(), "{path}");
            insta::assert_snapshot!(format!("{name}.json"), stdout);
        } else {
            insta::assert_snapshot!(format!("{name}.txt"), stdout);
        }
    }
}

macro_rules! examples {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { snapshot($name) })*
    };
}

examples! {
    example_bare => "bare",
    example_base_bounds => "base-bounds",
    example_custom_format => "custom-format",
    example_linear => "linear",
    example_linear_inline => "linear-inline",
    example_ostep_2level => "ostep-2level",
    example_paged_segments => "paged-segments",
    example_segments => "segments",
    example_segments_halves => "segments-halves",
    example_sv39 => "sv39",
    example_sv39_svadu => "sv39-svadu",
}

#[test]
fn every_example_is_tested() {
    assert_eq!(
        common::example_stems("translate"),
        EXAMPLES,
        "add new examples to EXAMPLES and examples!"
    );
}

/// Loads and runs an example through the library; returns the per-access outcomes.
fn outcomes(name: &str) -> Vec<(u64, Outcome)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("programs/translate/{name}.toml"));
    let mut s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let run = report::run(&mut s);
    run.results
        .into_iter()
        .filter_map(|r| match r {
            OpResult::Access { req, outcome, .. } => Some((req.va, outcome)),
            OpResult::Flush { .. } => None,
        })
        .collect()
}

fn pa(o: &Outcome) -> (u64, u64) {
    match o {
        Outcome::Ok { translation, .. } => (translation.pa, translation.cycles.0),
        Outcome::Fault { fault, .. } => panic!("expected a translation, got {fault}"),
    }
}

fn fault(o: &Outcome) -> Fault {
    match o {
        Outcome::Fault { fault, .. } => *fault,
        Outcome::Ok { translation, .. } => panic!("expected a fault, got PA {:#x}", translation.pa),
    }
}

#[test]
fn sv39_numbers() {
    let o = outcomes("sv39");
    // dTLB (1) + L2 TLB (4) + walk start (1) + three PTE reads (3 x 20).
    assert_eq!(pa(&o[0].1), (0x8000_5234, 66));
    assert_eq!(pa(&o[1].1), (0x8000_5238, 1));
    // The megapage: PPN 0x80200 at level 1, so PA = 0x80200000 | (VA & 0x1fffff).
    assert_eq!(
        pa(&o[2].1),
        (0x8000_0000 + 0x20_0000 + 0x1_2345, 1 + 4 + 1 + 2 * 20)
    );
    match &o[2].1 {
        Outcome::Ok { translation, .. } => {
            assert_eq!(translation.page_bits, 21);
            assert_eq!(translation.source, Source::Walk { level: 1 });
        }
        _ => unreachable!(),
    }
    assert_eq!(pa(&o[3].1), (0x803f_fffc, 1));
    let f = fault(&o[4].1);
    assert_eq!(f.cause(), FaultCause::Page(PageFaultReason::NotWritable));
    assert_eq!(f.cause(), FaultCause::Page(PageFaultReason::NotWritable));
    assert_eq!(
        fault(&o[5].1).cause(),
        FaultCause::Page(PageFaultReason::UserPageSumClear)
    );
    assert_eq!(pa(&o[6].1), (0x8000_5234, 1));
    assert!(matches!(
        fault(&o[7].1),
        Fault::Page {
            reason: PageFaultReason::Invalid,
            level: 0,
            pte_addr: 0x8000_3010,
            ..
        }
    ));
    // Non-canonical is the architectural page fault, not an input error.
    assert!(matches!(
        fault(&o[8].1),
        Fault::NonCanonical { va_bits: 39, .. }
    ));
    assert!(matches!(
        fault(&o[9].1),
        Fault::Page {
            reason: PageFaultReason::Invalid,
            level: 2,
            pte_addr: 0x8000_1800,
            ..
        }
    ));
    assert_eq!(pa(&o[10].1), (0x8000_5234, 66));
}

#[test]
fn ostep_two_level_numbers() {
    // Worked by hand from the dump: PDBR 30 -> page directory at 30 * 32 = 0x3c0.
    let o = outcomes("ostep-2level");
    assert_eq!(pa(&o[0].1).0, 0x051); // PDE[20] = 0xf3 -> page 0x73; PTE[14] = 0x82 -> PFN 2
    assert_eq!(pa(&o[1].1), (0x040, 41)); // no TLB (tlb = "none"): a walk again, 1 + 2 x 20
    assert!(matches!(
        fault(&o[2].1),
        Fault::Page {
            level: 1,
            pte_addr: 0x3c1,
            pte: 0x7f,
            ..
        }
    ));
    assert!(matches!(
        fault(&o[3].1),
        Fault::Page {
            level: 0,
            pte_addr: 0xe63,
            pte: 0x7f,
            ..
        }
    ));
    assert_eq!(pa(&o[4].1).0, 0xc7f);
    assert_eq!(pa(&o[5].1).0, 0x432);
    match &o[5].1 {
        Outcome::Ok { value, .. } => assert_eq!(*value, Some(0x03)),
        _ => unreachable!(),
    }
}

#[test]
fn linear_matches_the_ostep_readme() {
    let o = outcomes("linear");
    assert_eq!(pa(&o[0].1).0, 0x6229);
    for (_, o) in &o[1..4] {
        assert!(matches!(
            fault(o),
            Fault::Page {
                reason: PageFaultReason::Invalid,
                ..
            }
        ));
    }
    assert_eq!(pa(&o[4].1).0, 0x6a1e);
    assert!(matches!(
        &o[4].1,
        Outcome::Ok { translation, .. } if translation.source == Source::Tlb { tlb: TlbId::Dtlb }
    ));
    assert_eq!(pa(&o[5].1).0, 0xc000);
}

#[test]
fn segments_match_the_book() {
    let o = outcomes("segments");
    assert_eq!(pa(&o[1].1).0, 34920); // VA 4200 in the heap
    assert_eq!(pa(&o[4].1).0, 27 * 1024); // VA 15K in the stack
    assert_eq!(pa(&o[5].1).0, 28 * 1024 - 1); // the top byte of the stack
    assert_eq!(pa(&o[7].1).0, 26 * 1024); // the lowest valid stack byte
    assert!(matches!(
        fault(&o[8].1),
        Fault::SegmentLimit { segment: 3, .. }
    ));
    assert!(matches!(
        fault(&o[9].1),
        Fault::SegmentProtection { segment: 0, .. }
    ));
    assert!(matches!(
        fault(&o[10].1),
        Fault::SegmentNotPresent { segment: 2 }
    ));
}

#[test]
fn base_bounds_edges() {
    let o = outcomes("base-bounds");
    assert_eq!(pa(&o[1].1).0, 12418 + 430);
    assert_eq!(pa(&o[2].1).0, 12418 + 471);
    assert!(matches!(fault(&o[3].1), Fault::Bounds { va: 472, .. }));
    assert_eq!(pa(&o[4].1).0, 12418 + 468);
    assert!(matches!(
        fault(&o[5].1),
        Fault::Bounds {
            va: 469,
            size: 4,
            ..
        }
    ));
}

#[test]
fn help_is_helpful() {
    let out = vmlab(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("translate") && text.contains("--verbose"),
        "{text}"
    );
    let out = vmlab(&["translate", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--json") && text.contains("docs/translate.md"),
        "{text}"
    );
}

#[test]
fn verbose_logs_to_stderr_only() {
    let out = vmlab(&["-v", "translate", "programs/translate/linear.toml"]);
    assert!(out.status.success());
    let plain = vmlab(&["translate", "programs/translate/linear.toml"]);
    assert_eq!(out.stdout, plain.stdout);
    assert!(String::from_utf8_lossy(&out.stderr).contains("tlb miss"));
}
