//! The three programs docs/timing.md counts by hand: their cycle counts, exit codes and the
//! statistics the page quotes. If a timing rule changes, update the page with the test.

use vmlab::machine::{Machine, MachineConfig};
use vmlab_cpu::elf::Elf;

fn run(program: &str) -> (Machine, u8) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(program);
    let elf = Elf::open(&path).expect("the example loads");
    let mut m = Machine::new(MachineConfig::default()).expect("the default machine");
    m.load(&elf).expect("load");
    let code = m.run().exit_code();
    (m, code)
}

/// Checks the exit code and each `(statistic, value)` the documentation quotes.
fn check(program: &str, exit: u8, stats: &[(&str, u64)]) {
    let (m, code) = run(program);
    assert_eq!(code, exit, "{program}: exit code");
    let all = m.stat_list();
    for (name, want) in stats {
        let got = all
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{program}: no statistic {name}"))
            .1;
        assert_eq!(got, *want, "{program}: {name}");
    }
}

#[test]
fn sum_takes_384_cycles() {
    check(
        "programs/asm/sum.elf",
        36,
        &[
            ("cycles", 384),
            ("instret", 49),
            ("pipeline.stall.fetch", 100),
            ("pipeline.stall.data", 209),
            ("pipeline.stall.load_use", 8),
            ("pipeline.stall.control", 14),
        ],
    );
}

#[test]
fn muldiv_takes_146_cycles_and_measures_28() {
    check(
        "programs/asm/muldiv.elf",
        28,
        &[
            ("cycles", 146),
            ("instret", 8),
            ("pipeline.stall.muldiv", 21),
            ("pipeline.stall.serialize", 8),
            ("pipeline.trap_cycles", 5),
        ],
    );
}

#[test]
fn sv39_takes_772_cycles() {
    check(
        "programs/asm/sv39.elf",
        0,
        &[
            ("cycles", 772),
            ("instret", 40),
            ("pipeline.stall.load_use", 1),
            ("pipeline.stall.fetch", 302),
            ("pipeline.stall.data", 404),
            ("mmu.walker.walks", 2),
            ("mmu.walker.cycles", 6),
            ("mmu.walker.pte_reads.level2", 2),
            ("mmu.walker.page_size.1GiB", 1),
            ("mmu.walker.page_size.4KiB", 1),
            ("cache.l1i.misses.fetch", 3),
            ("cache.l1d.misses.store", 4),
            ("dram.reads", 7),
        ],
    );
}
