//! The differential oracle under `cargo test`: the committed fuzz corpus, a few thousand
//! seeded cases, and hand-written inputs for behaviour random inputs reach only rarely.
use std::path::PathBuf;
use vmlab_mmu::oracle::*;
use vmlab_mmu::FaultCause;

/// Every input the `translate` fuzz target must keep passing (crashes found and fixed, and a
/// minimised, diverse corpus).
#[test]
fn committed_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/translate");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        eprintln!("replaying {}", f.display());
        check_bytes(&data);
    }
}

#[test]
fn seeded_cases() {
    let s = run_seeded(0x766d_6c61_6201, 3000);
    eprintln!("{s}");
    assert_eq!(s.inputs, 3000);
    assert!(
        s.translated * 5 > s.translations,
        "too few translations succeed: {s}"
    );
    assert!(s.tlb_hits > 1000 && s.walks > 1000, "{s}");
    assert!(s.dirty_rewalks > 0 && s.ad_writes > 0, "{s}");
    assert!(s.flushes.iter().all(|&n| n > 0), "{s}");
    for cause in FaultCause::all() {
        assert!(
            s.faults_of(cause) > 0,
            "no {} fault in the seeded run: {s}",
            cause.name()
        );
    }
}

fn translate(kind: KindPick, size: SizePick, va: VaPick) -> Op {
    Op::Translate(Access { kind, size, va })
}

fn probe(kind: KindPick, size: SizePick, va: VaPick) -> Op {
    Op::Probe(Access { kind, size, va })
}

fn at(map: u8, spot: Spot) -> VaPick {
    VaPick::Map { map, spot }
}

use KindPick::{Fetch, Load, Store};
use SizePick::{Eight, Four, One, Two};

#[test]
fn sv39_base_page_walk_then_hits() {
    // perm 3 = RWX; index 1 at level 1 and 2 at level 0 under root entry 0.
    let setup = Setup::paged(
        FormatPick::Sv39,
        false,
        &[MapRecipe::page([0, 1, 2, 0, 0], 1, 3)],
    );
    let ops = vec![
        translate(Load, Eight, at(0, Spot::Start)),
        translate(Store, Eight, at(0, Spot::End)),
        translate(Fetch, Four, at(0, Spot::Within(0x123))),
        translate(Load, Two, at(0, Spot::LastByte)),
        probe(Load, One, at(0, Spot::LastByte)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!((s.translated, s.probes), (3, 1), "{s}");
    assert_eq!(s.faults_of(FaultCause::PageStraddle), 1, "{s}");
    assert_eq!((s.walks, s.tlb_hits), (2, 1), "{s}");
}

#[test]
fn svadu_dirty_rewalks() {
    // A read-write page with A set and D clear (bits = 2), and one with neither (bits = 3).
    let clean = MapRecipe {
        bits: 2,
        ..MapRecipe::page([0, 0, 5, 0, 0], 1, 1)
    };
    let untouched = MapRecipe {
        bits: 3,
        ..MapRecipe::page([0, 0, 6, 0, 0], 1, 1)
    };
    let setup = Setup::paged(FormatPick::Sv39, true, &[clean, untouched]);
    let ops = vec![
        // A load fills a clean entry; the store hits it, walks again and sets D.
        translate(Load, Eight, at(0, Spot::Start)),
        translate(Store, Eight, at(0, Spot::Start)),
        translate(Store, Four, at(0, Spot::End)),
        // The walker sets A on the first load, then A and D on the first store.
        translate(Load, One, at(1, Spot::Within(77))),
        translate(Store, One, at(1, Spot::Within(78))),
        translate(Load, One, at(1, Spot::Within(79))),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translated, 6, "{s}");
    assert_eq!(s.dirty_rewalks, 2, "{s}");
    assert_eq!(s.ad_writes, 3, "{s}");
    assert!(s.tlb_hits >= 2, "{s}");
}

#[test]
fn sv39_megapage_edges() {
    // level 0 in the recipe is a level-1 leaf: a 2 MiB megapage.
    let setup = Setup::paged(
        FormatPick::Sv39,
        false,
        &[MapRecipe::page([0, 3, 0, 0, 0], 0, 3)],
    );
    let ops = vec![
        translate(Load, Eight, at(0, Spot::End)),
        translate(Fetch, Four, at(0, Spot::Start)),
        translate(Load, One, at(0, Spot::Within(0x1f_f123))),
        translate(Store, Two, at(0, Spot::BaseEdge(9))),
        translate(Load, One, at(0, Spot::Next)),
        translate(Load, One, at(0, Spot::Below)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translated, 3, "{s}");
    assert_eq!(s.faults_of(FaultCause::PageStraddle), 1, "{s}");
    assert_eq!(s.tlb_hits, 1, "{s}");
    // A misaligned megapage faults.
    let bad = MapRecipe {
        frame: FramePick::Misaligned(4),
        ..MapRecipe::page([0, 3, 0, 0, 0], 0, 3)
    };
    let setup = Setup::paged(FormatPick::Sv39, false, &[bad]);
    let s = check(&OracleInput {
        setup,
        ops: vec![translate(Load, One, at(0, Spot::Start))],
    });
    assert_eq!(
        s.faults_of(FaultCause::Page(
            vmlab_mmu::PageFaultReason::MisalignedSuperpage
        )),
        1
    );
}

#[test]
fn grows_down_segment_top_byte() {
    let mut setup = Setup::paged(FormatPick::Sv39, false, &[MapRecipe::page([0; 5], 1, 3)]);
    setup.start = ModeSel::Segments;
    // Segment 1 grows down and holds the top page of its 4 KiB range... all of it here;
    // make it one 256-byte stack instead.
    setup.segments.registers[1].limit = LimitPick::Raw(256);
    let ops = vec![
        translate(Store, One, at(1, Spot::LastByte)),
        translate(Load, Eight, at(1, Spot::End)),
        translate(Load, One, at(1, Spot::Start)),
        translate(Load, One, at(1, Spot::Below)),
        translate(Load, Two, at(1, Spot::LastByte)),
        translate(Fetch, Four, at(1, Spot::Start)),
        translate(Load, Four, at(0, Spot::End)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translated, 4, "{s}");
    assert_eq!(s.faults_of(FaultCause::SegmentLimit), 2, "{s}");
    assert_eq!(s.faults_of(FaultCause::SegmentProtection), 1, "{s}");
}

#[test]
fn global_mapping_survives_asid_flush() {
    // bits 0x18: a global leaf with A and D set.
    let global = MapRecipe {
        bits: 0x18,
        ..MapRecipe::page([1, 2, 3, 0, 0], 1, 1)
    };
    let private = MapRecipe::page([1, 2, 4, 0, 0], 1, 1);
    let setup = Setup::paged(FormatPick::Sv39, false, &[global, private]);
    let ops = vec![
        translate(Load, Eight, at(0, Spot::Start)),
        translate(Load, Eight, at(1, Spot::Start)),
        Op::Flush(FlushPick::Asid(1)),
        // The global entry hits; the private one walks again.
        translate(Load, Eight, at(0, Spot::Within(8))),
        translate(Load, Eight, at(1, Spot::Within(8))),
        // A global entry matches every ASID.
        Op::SetAsid(2),
        translate(Store, Four, at(0, Spot::End)),
        // An address flush of every ASID removes it.
        Op::Flush(FlushPick::Addr(at(0, Spot::Start))),
        translate(Load, One, at(0, Spot::Start)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translated, 6, "{s}");
    assert_eq!((s.tlb_hits, s.walks), (2, 4), "{s}");
}

#[test]
fn pte_writes_get_the_flush_they_need() {
    let setup = Setup::paged(
        FormatPick::Sv48,
        false,
        &[MapRecipe::page([0, 0, 1, 2, 0], 1, 3)],
    );
    let ops = vec![
        translate(Load, Eight, at(0, Spot::Start)),
        // Clear the leaf's V bit: the entry must be flushed (sfence.vma va, asid).
        Op::WritePte {
            write: PteWrite {
                target: PteTarget::Leaf(0),
                value: PteValue::Invalidate,
            },
            widen: 0,
        },
        translate(Load, Eight, at(0, Spot::Start)),
        // Make it valid again: nothing is cached, so no flush is needed.
        Op::WritePte {
            write: PteWrite {
                target: PteTarget::Leaf(0),
                value: PteValue::Set(0x80),
            },
            widen: 0,
        },
        translate(Load, Eight, at(0, Spot::Start)),
        // Break a pointer on the path: every page below it is flushed.
        Op::WritePte {
            write: PteWrite {
                target: PteTarget::Path { map: 0, level: 1 },
                value: PteValue::Zero,
            },
            widen: 0,
        },
        translate(Load, Eight, at(0, Spot::Start)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translated, 2, "{s}");
    assert_eq!(
        s.faults_of(FaultCause::Page(vmlab_mmu::PageFaultReason::Invalid)),
        2,
        "{s}"
    );
    assert_eq!(s.flushes, [0, 0, 0, 2], "{s}");
}

#[test]
fn flat64_wide_index_wraps() {
    // One level of 63 index bits with 8-byte PTEs: index x 8 overflows 64 bits, and the PTE
    // address wraps (the walker once panicked here in debug builds).
    let setup = Setup::paged(
        FormatPick::Flat64,
        true,
        &[
            MapRecipe::page([3, 0, 0, 0, 0], 1, 3),
            MapRecipe::page([250, 0, 0, 0, 0], 1, 3),
        ],
    );
    let ops = vec![
        translate(Load, One, VaPick::Raw(u64::MAX)),
        translate(Load, One, VaPick::Raw(1 << 63)),
        translate(Store, Two, at(0, Spot::Start)),
        translate(Load, One, at(1, Spot::LastByte)),
        translate(Fetch, Four, at(0, Spot::Start)),
    ];
    let s = check(&OracleInput { setup, ops });
    assert_eq!(s.translations, 5, "{s}");
    assert!(s.translated >= 1, "{s}");
}

/// A longer seeded run for soak testing, e.g.
/// `ORACLE_CASES=200000 ORACLE_SEED=7 cargo test --release -p vmlab-mmu --test oracle -- --ignored`.
#[test]
#[ignore = "soak test: set ORACLE_CASES (and ORACLE_SEED) and run with --ignored"]
fn seeded_soak() {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let s = run_seeded(var("ORACLE_SEED", 1), var("ORACLE_CASES", 100_000) as usize);
    eprintln!("{s}");
}
