//! RSS, PSS and USS (`docs/os.md`, "RSS, PSS, USS"): after a fork the parent and the
//! child each count half of every page they share; a copy-on-write copy makes a page each
//! one's own; the PSS of every address space adds up to the bytes of the frames mapped;
//! `USS <= PSS <= RSS` at every step; without sharing the three agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vmlab::hosted::Hosted;
use vmlab::machine::apply_set_all;
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_cpu::elf::Elf;
use vmlab_os::image::Layout;
use vmlab_os::scheme::{MemUse, PSS_SHIFT};

const PAGE: u64 = 4096;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A program (a path under the root) linked for `layout`, named by its file name.
fn program(path: &str, layout: Layout) -> (String, Elf) {
    let p: PathBuf = root().join(path);
    let ram = (0x8000_0000, 128 << 20);
    let (elf, _) = load_program_laid_out(&p, Some(Target::Hosted), ram, layout)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    (name, elf)
}

/// `path` booted on the default machine with `sets`.
fn boot(path: &str, sets: &[&str]) -> Hosted {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.insert(0, "run.max_cycles=20000000000".into());
    let cfg = apply_set_all("", "(test)", &sets).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
    let layout = Layout::for_scheme(cfg.os.scheme);
    Hosted::new(cfg, &[program(path, layout)]).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Each live process's memory use, by pid, with the address space it runs in.
fn uses(h: &Hosted) -> BTreeMap<u32, (u64, MemUse)> {
    h.kernel
        .processes()
        .iter()
        .filter(|p| !p.state.ended())
        .map(|p| (p.pid, (p.space, h.kernel.memory_use(p.pid))))
        .collect()
}

/// Checks `USS <= PSS <= RSS` for every live process, and that the PSS of the address
/// spaces (each once) adds up to the frames holding process pages: exactly when no frame
/// is shared more than two ways (halves are exact), else within a byte per process (each
/// share is rounded down).
fn check_invariants(h: &Hosted, at: u64) {
    let u = uses(h);
    for (pid, (_, m)) in &u {
        assert!(
            m.uss <= m.pss() && m.pss() <= m.rss,
            "step {at}, process {pid}: {m:?}"
        );
        assert_eq!(m.rss % PAGE, 0, "step {at}: {m:?}");
        assert_eq!(m.uss % PAGE, 0, "step {at}: {m:?}");
    }
    let mut spaces = BTreeMap::new();
    for (space, m) in u.values() {
        spaces.insert(*space, *m);
    }
    let pss: u64 = spaces.values().map(|m| m.pss_frac).sum::<u64>() >> PSS_SHIFT;
    let census = h.kernel.frame_census().expect("a paging scheme");
    let frames = census[1] * PAGE;
    assert!(
        pss <= frames && frames - pss <= spaces.len() as u64,
        "step {at}: PSS adds up to {pss}, {} frames hold pages ({census:?}); {u:?}",
        census[1]
    );
}

fn stat(h: &Hosted, name: &str) -> u64 {
    h.stat_list()
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or_else(|| panic!("no statistic {name}"), |(_, v)| v)
}

#[test]
fn a_forked_child_shares_every_page_until_it_copies_some() {
    // t-cow.s: 8 heap pages stored to, then a fork; the child yields, copies 4 pages by
    // storing to them, yields again and exits; the parent waits.
    for scheme in ["vm-paging", "simple-paging"] {
        let set = format!("os.scheme={scheme}");
        let mut h = boot("programs/os/t-cow.s", &[&set]);
        let (mut shared_seen, mut copied_seen) = (false, false);
        let mut step = 0;
        while !h.run_for(1) {
            step += 1;
            check_invariants(&h, step);
            let u = uses(&h);
            let (Some(&(_, parent)), Some(&(_, child))) = (u.get(&1), u.get(&2)) else {
                continue;
            };
            if child.uss == 0 {
                // Before the child stores: every page both map is shared two ways.
                assert_eq!(parent.rss, child.rss, "{scheme} step {step}");
                assert!(
                    parent.rss >= 9 * PAGE,
                    "{scheme}: text and heap: {parent:?}"
                );
                assert_eq!(parent.pss(), parent.rss / 2, "{scheme} step {step}");
                assert_eq!(child.pss(), child.rss / 2, "{scheme} step {step}");
                assert_eq!(parent.uss, 0, "{scheme} step {step}");
                shared_seen = true;
            } else if child.uss == 4 * PAGE {
                // The 4 copies are the child's; the originals are the parent's alone.
                assert_eq!(parent.uss, 4 * PAGE, "{scheme} step {step}");
                let shared = child.rss - 4 * PAGE;
                assert_eq!(child.pss(), 4 * PAGE + shared / 2, "{scheme} step {step}");
                assert_eq!(parent.pss(), child.pss(), "{scheme} step {step}");
                copied_seen = true;
            }
        }
        assert!(shared_seen && copied_seen, "{scheme}: both phases seen");
        assert_eq!(h.end().expect("ended").exit_code(), 0);
        // The statistics: each process's use as it ended, and the peaks.
        let rss = stat(&h, "os.proc.2.rss");
        assert_eq!(stat(&h, "os.proc.2.uss"), 4 * PAGE, "{scheme}");
        assert_eq!(
            stat(&h, "os.proc.2.pss"),
            4 * PAGE + (rss - 4 * PAGE) / 2,
            "{scheme}"
        );
        // The parent ended alone: all three agree; its peak RSS is at least that.
        let p = ["rss", "pss", "uss"].map(|k| stat(&h, &format!("os.proc.1.{k}")));
        assert_eq!(p, [p[0]; 3], "{scheme}");
        assert!(stat(&h, "os.proc.1.rss_peak") >= p[0]);
        assert!(stat(&h, "os.proc.1.pss_peak") >= p[1]);
        assert!(stat(&h, "os.proc.2.pss_peak") <= stat(&h, "os.proc.2.rss_peak"));
    }
}

#[test]
fn pss_adds_up_to_the_frames_through_forks_of_a_c_program() {
    // fork_cow.c: a 1 MiB heap shared with children in sequence and four at once, a
    // grandchild, zombies; the invariants hold at every 256th step.
    let mut h = boot("programs/linux/bin/fork_cow", &["os.scheme=vm-paging"]);
    let mut step = 0;
    let mut most = 0;
    while !h.run_for(256) {
        step += 256;
        check_invariants(&h, step);
        most = most.max(uses(&h).len());
    }
    assert_eq!(
        h.end().expect("ended").exit_code(),
        0,
        "{:?}",
        h.process_reports()
    );
    assert!(most >= 4, "children at once: {most}");
}

#[test]
fn without_sharing_rss_pss_and_uss_agree() {
    // One process, no fork: every frame has one mapping, under every scheme (the others
    // count what the process holds: its partition, block or segments; the partitions
    // give touch.s no room for its heap: it is killed, with its memory counted until then).
    let schemes = [
        "vm-paging",
        "simple-paging",
        "dynamic-partitions",
        "fixed-partitions",
        "simple-segmentation",
        "vm-segmentation",
    ];
    for scheme in schemes {
        let set = format!("os.scheme={scheme}");
        let mut h = boot("programs/os/touch.s", &[&set]);
        let mut seen = 0;
        while !h.run_for(1) {
            for (pid, (_, m)) in uses(&h) {
                assert_eq!((m.pss(), m.uss), (m.rss, m.rss), "{scheme} process {pid}");
                seen = seen.max(m.rss);
            }
        }
        assert!(seen > 0, "{scheme}: memory counted");
        let p = ["rss", "pss", "uss", "rss_peak", "pss_peak"]
            .map(|k| stat(&h, &format!("os.proc.1.{k}")));
        assert_eq!(p, [p[0]; 5], "{scheme}");
        assert!(p[0] >= seen, "{scheme}: {p:?}, {seen}");
    }
}

#[test]
fn page_cache_pages_a_shared_file_mapping_maps_count() {
    // mmap_file.c maps a file MAP_SHARED: the cached pages it maps are its RSS too (the
    // scheme's `resident` leaves them out). It maps the file's second page twice (`s`
    // and `s2`): as in Linux that page has two mappings, so it counts two pages of RSS,
    // one of PSS and none of USS; every other page is the process's alone.
    let sets: Vec<String> = vec![
        "run.max_cycles=20000000000".into(),
        "os.scheme=vm-paging".into(),
        "os.timeline_interval=2000".into(),
    ];
    let cfg = apply_set_all("", "(test)", &sets).expect("config");
    let elf = program("programs/linux/bin/mmap_file", Layout::Flat);
    let mut h = Hosted::with_trace(cfg, &[elf], true).expect("boots");
    let mut lines = Vec::new();
    while !h.run_for(1 << 14) {
        lines.extend(h.trace_lines());
    }
    lines.extend(h.trace_lines());
    assert_eq!(h.end().expect("ended").exit_code(), 0);
    let mut more = 0;
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
        if v["event"] != "sample" {
            continue;
        }
        for p in v["procs"].as_array().expect("procs") {
            let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k} in {l}"));
            let (rss, pss, uss) = (n("rss"), n("pss"), n("uss"));
            assert!(uss <= pss && pss <= rss, "{l}");
            assert!(rss - pss <= PAGE && rss - uss == 2 * (rss - pss), "{l}");
            if n("rss") > n("resident") {
                more += 1;
            }
        }
    }
    assert!(more > 0, "no sample counted cached pages");
}
