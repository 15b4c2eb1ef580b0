//! The CPU fuzz oracle (`vmlab::machine::fuzz`, see `docs/fuzzing.md`) under `cargo test`:
//! every committed input of `fuzz/regressions/cpu/`, then a few thousand inputs decoded from a
//! deterministic byte stream. Any panic, probe/translate disagreement, run that does not stop
//! or decode-cache difference fails the test; a seeded failure prints its bytes as hex, ready
//! to be saved as a regression file.

use vmlab::machine::fuzz::{check_cpu_bytes, run_cpu_bytes, Outcome};
use vmlab::machine::Stop;

/// xorshift64*: a small deterministic generator for the seeded inputs.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn bytes(state: &mut u64) -> Vec<u8> {
    let len = 64 + (next(state) % 700) as usize;
    let mut b = Vec::with_capacity(len + 8);
    while b.len() < len {
        b.extend_from_slice(&next(state).to_le_bytes());
    }
    b.truncate(len);
    b
}

#[test]
fn committed_cpu_corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/cpu");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions/cpu exists")
        .map(|e| e.expect("readable directory").path())
        .collect();
    names.sort();
    for path in &names {
        let data = std::fs::read(path).expect("readable file");
        let r = std::panic::catch_unwind(|| check_cpu_bytes(&data));
        assert!(r.is_ok(), "{} failed", path.display());
    }
    assert!(
        names.len() >= 20,
        "expected a real corpus, found {} files in {}",
        names.len(),
        dir.display()
    );
}

/// What a batch of runs reached, so that a generator change that stops reaching something
/// fails here instead of silently weakening the oracle.
#[derive(Debug, Default)]
struct Reach {
    runs: u64,
    tohost: u64,
    ecall: u64,
    insn_limit: u64,
    cycle_limit: u64,
    double_fault: u64,
    deadlock: u64,
    traps: u64,
    user_steps: u64,
    supervisor_steps: u64,
    walks: u64,
    tlb_hits: u64,
    faults: u64,
    flushes: u64,
    modes: std::collections::BTreeMap<String, u64>,
}

impl Reach {
    fn add(&mut self, o: &Outcome) {
        self.runs += 1;
        match o.stop {
            Some(Stop::Tohost { .. }) => self.tohost += 1,
            Some(Stop::Ecall { .. }) => self.ecall += 1,
            Some(Stop::InsnLimit(_)) => self.insn_limit += 1,
            Some(Stop::CycleLimit(_)) => self.cycle_limit += 1,
            Some(Stop::DoubleFault { .. }) => self.double_fault += 1,
            Some(Stop::Deadlock { .. } | Stop::Spin { .. }) => self.deadlock += 1,
            None => {}
        }
        self.traps += o.traps;
        self.user_steps += o.steps_by_privilege[0];
        self.supervisor_steps += o.steps_by_privilege[1];
        self.walks += o.walks;
        self.tlb_hits += o.tlb_hits;
        self.faults += o.faults;
        self.flushes += o.flushes;
        *self.modes.entry(o.start_mode.clone()).or_default() += 1;
    }
}

fn run_seeded(seed: u64, cases: usize) -> Reach {
    let mut state = seed;
    let mut reach = Reach::default();
    for case in 0..cases {
        let data = bytes(&mut state);
        let r = std::panic::catch_unwind(|| run_cpu_bytes(&data));
        match r {
            Ok(Some(o)) => reach.add(&o),
            Ok(None) => {}
            Err(e) => {
                let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
                eprintln!(
                    "cpu oracle: seeded case {case} of seed {seed:#x} failed; input bytes:\n{hex}"
                );
                std::panic::resume_unwind(e);
            }
        }
    }
    reach
}

#[test]
fn seeded_cpu_inputs() {
    let cases = std::env::var("CPU_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed = std::env::var("CPU_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_c0de_2026_1122);
    let r = run_seeded(seed, cases);
    eprintln!("{r:#?}");
    if cases < 2000 {
        return;
    }
    assert!(r.runs as usize > cases * 9 / 10, "{r:#?}");
    for (what, n) in [
        ("tohost exits", r.tohost),
        ("ecall exits", r.ecall),
        ("instruction limits", r.insn_limit),
        ("double faults", r.double_fault),
        ("traps", r.traps),
        ("user-mode steps", r.user_steps),
        ("supervisor-mode steps", r.supervisor_steps),
        ("walks", r.walks),
        ("TLB hits", r.tlb_hits),
        ("translation faults", r.faults),
        ("oracle flushes", r.flushes),
    ] {
        assert!(n > 0, "no {what} in {r:#?}");
    }
    for mode in [
        "bare",
        "base-bounds",
        "segments",
        "sv39",
        "sv48",
        "sv57",
        "sv32",
    ] {
        assert!(
            r.modes.get(mode).copied().unwrap_or(0) > 0,
            "no run started in {mode}: {r:#?}"
        );
    }
}

/// The probe check sees a stale TLB entry (so the oracle must flush after a page-table
/// store, as `check_cpu` does), and the flush makes it agree again.
#[test]
fn a_stale_tlb_entry_is_what_the_flush_rule_prevents() {
    use vmlab::machine::{Machine, MachineConfig};
    use vmlab_cpu::isa::{encode, Insn, Op};
    use vmlab_mmu::{Flush, Format, Mode, Privilege};
    const V_R_W_X_A_D: u64 = 0b1100_1111;
    const V_R_W_A_D: u64 = 0b1100_0111;
    let run = |flush: bool| {
        let mut m = Machine::new(MachineConfig::default()).unwrap();
        let ram = m.mem.ram_mut();
        let (root, mid, leaf) = (0x8001_0000u64, 0x8001_1000u64, 0x8001_2000u64);
        // 0x8000_0000: an identity gigapage (code, tables); 0x4000_0000 -> 0x8000_3000.
        ram.write(root + 2 * 8, 8, (0x8000_0000 >> 12 << 10) | V_R_W_X_A_D)
            .unwrap();
        ram.write(root + 8, 8, (mid >> 12 << 10) | 1).unwrap();
        ram.write(mid, 8, (leaf >> 12 << 10) | 1).unwrap();
        ram.write(leaf, 8, (0x8000_3000u64 >> 12 << 10) | V_R_W_A_D)
            .unwrap();
        let code: Vec<u8> = [
            Insn::new(Op::Ld, 10, 11, 0, 0), // ld a0, 0(a1): walk, fill the dTLB
            Insn::new(Op::Sd, 0, 12, 0, 0),  // sd x0, 0(a2): clear the leaf PTE
            Insn::new(Op::Ld, 10, 11, 0, 0), // ld a0, 0(a1): the TLB still maps it
        ]
        .iter()
        .flat_map(|i| encode(i).unwrap().to_bytes())
        .collect();
        ram.write_bytes(0x8000_0000, &code).unwrap();
        m.mmu
            .set_mode(Mode::Paged {
                format: std::sync::Arc::new(Format::sv39()),
                root,
            })
            .unwrap();
        m.hart.privilege = Privilege::Supervisor;
        m.hart.x[11] = 0x4000_0000;
        m.hart.x[12] = leaf;
        m.set_probe_check(true);
        for _ in 0..3 {
            m.step();
            if flush {
                m.mmu.flush(Flush::All);
            }
        }
        m.probe_mismatches().to_vec()
    };
    let stale = run(false);
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0].contains("probe says Err"), "{stale:?}");
    assert_eq!(run(true), Vec::<String>::new());
}
