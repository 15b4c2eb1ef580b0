//! `vmlab quiz tlb`: a trace of virtual accesses through a small set-associative TLB.
//!
//! The student answers, for each access, its VPN and set (VPN mod sets), hit or miss, and
//! which entry a miss evicts under the replacement policy; the answer also shows the TLB's
//! contents after each access. The answers are computed here by the textbook rule (the
//! lowest free way is filled first; LRU evicts the least recently used entry, FIFO the
//! oldest fill, tree-PLRU the way its bits point to), not by the model; the scenario
//! (`--scenario`) runs the same trace through the model's dTLB and grades every answer.

use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The replacement policies the quiz offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuizPolicy {
    /// Least recently used.
    Lru,
    /// First in, first out (a hit does not change the order).
    Fifo,
    /// Tree pseudo-LRU (a power-of-two number of ways).
    Plru,
}

impl QuizPolicy {
    fn name(self) -> &'static str {
        match self {
            QuizPolicy::Lru => "lru",
            QuizPolicy::Fifo => "fifo",
            QuizPolicy::Plru => "plru",
        }
    }
}

/// The options of `vmlab quiz tlb`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  vmlab quiz tlb --seed 1
  vmlab quiz tlb --seed 2 --sets 1 --ways 4 --policy fifo -c
  vmlab quiz tlb --seed 3 --sets 4 --ways 2 --asids 2 --page-size 1k -n 16 -c
  vmlab quiz tlb --seed 4 --json
  vmlab quiz tlb --seed 5 --policy plru --ways 4 --scenario tlb.toml
  vmlab translate tlb.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// Sets of the TLB (the set of a page is VPN mod sets; 1 = fully associative).
    #[arg(long, default_value = "2", value_parser = crate::num::parse_num)]
    pub sets: u64,
    /// Entries (ways) per set.
    #[arg(long, default_value = "2", value_parser = crate::num::parse_num)]
    pub ways: u64,
    /// The replacement policy.
    #[arg(long, value_enum, default_value = "lru")]
    pub policy: QuizPolicy,
    /// The page size in bytes (a power of two, 16 to 64k; sizes such as 4k are fine).
    #[arg(long, default_value = "4k", value_parser = crate::num::parse_num)]
    pub page_size: u64,
    /// The number of accesses.
    #[arg(short = 'n', long = "accesses", default_value = "12", value_parser = crate::num::parse_num)]
    pub accesses: u64,
    /// The number of distinct pages the accesses are drawn from.
    #[arg(long, default_value = "6", value_parser = crate::num::parse_num)]
    pub pages: u64,
    /// The chance (0 to 1) that an access reuses one of the last three distinct pages used
    /// (locality); otherwise any page of the working set.
    #[arg(long, default_value = "0.6")]
    pub locality: f64,
    /// Address spaces: with more than 1, each access carries an ASID and the TLB's entries
    /// are tagged with it (the same VPN in two ASIDs is two entries).
    #[arg(long, default_value = "1", value_parser = crate::num::parse_num)]
    pub asids: u64,
}

/// The virtual address space: 64 pages (so VPNs stay small enough to reason about).
const VA_PAGES: u64 = 64;

/// One access and its worked answer.
#[derive(Debug, Clone)]
struct Step {
    va: u64,
    asid: u16,
    vpn: u64,
    set: usize,
    hit: bool,
    way: usize,
    evicted: Option<(u64, u16)>,
    /// The TLB after the access: per set, per way, the (VPN, ASID) held.
    after: Vec<Vec<Option<(u64, u16)>>>,
}

/// The textbook TLB: per slot the (VPN, ASID) it holds, its fill and use times, and one
/// tree-PLRU bit word per set.
struct Tlb {
    sets: usize,
    ways: usize,
    policy: QuizPolicy,
    slots: Vec<Option<(u64, u16)>>,
    filled: Vec<u64>,
    used: Vec<u64>,
    plru: Vec<u64>,
    clock: u64,
}

impl Tlb {
    fn new(sets: usize, ways: usize, policy: QuizPolicy) -> Tlb {
        Tlb {
            sets,
            ways,
            policy,
            slots: vec![None; sets * ways],
            filled: vec![0; sets * ways],
            used: vec![0; sets * ways],
            plru: vec![0; sets],
            clock: 0,
        }
    }

    /// Points every node on the path to `way` away from it.
    fn plru_use(&mut self, set: usize, way: usize) {
        let (mut node, mut lo, mut span) = (1usize, 0usize, self.ways);
        while span > 1 {
            span /= 2;
            let right = way >= lo + span;
            if right {
                self.plru[set] &= !(1 << node);
                lo += span;
                node = node * 2 + 1;
            } else {
                self.plru[set] |= 1 << node;
                node *= 2;
            }
        }
    }

    fn plru_victim(&self, set: usize) -> usize {
        let (mut node, mut lo, mut span) = (1usize, 0usize, self.ways);
        while span > 1 {
            span /= 2;
            if self.plru[set] >> node & 1 == 1 {
                lo += span;
                node = node * 2 + 1;
            } else {
                node *= 2;
            }
        }
        lo
    }

    fn touch(&mut self, set: usize, way: usize) {
        self.clock += 1;
        self.used[set * self.ways + way] = self.clock;
        if self.policy == QuizPolicy::Plru {
            self.plru_use(set, way);
        }
    }

    /// Looks `(vpn, asid)` up, filling it on a miss: (set, hit, way, evicted entry).
    fn access(&mut self, vpn: u64, asid: u16) -> (usize, bool, usize, Option<(u64, u16)>) {
        let set = (vpn % self.sets as u64) as usize;
        let base = set * self.ways;
        if let Some(way) = (0..self.ways).find(|&w| self.slots[base + w] == Some((vpn, asid))) {
            self.touch(set, way);
            return (set, true, way, None);
        }
        let way = match (0..self.ways).find(|&w| self.slots[base + w].is_none()) {
            Some(w) => w,
            None => match self.policy {
                QuizPolicy::Lru => (0..self.ways)
                    .min_by_key(|&w| self.used[base + w])
                    .unwrap_or(0),
                QuizPolicy::Fifo => (0..self.ways)
                    .min_by_key(|&w| self.filled[base + w])
                    .unwrap_or(0),
                QuizPolicy::Plru => self.plru_victim(set),
            },
        };
        let evicted = self.slots[base + way];
        self.slots[base + way] = Some((vpn, asid));
        self.clock += 1;
        self.filled[base + way] = self.clock;
        self.touch(set, way);
        (set, false, way, evicted)
    }

    fn contents(&self) -> Vec<Vec<Option<(u64, u16)>>> {
        self.slots.chunks(self.ways).map(<[_]>::to_vec).collect()
    }
}

impl Args {
    fn check(&self) -> Result<(), String> {
        if self.sets == 0 || self.sets > 64 {
            return Err(format!(
                "--sets {}: give 1 to 64 sets (1 is a fully associative TLB)",
                self.sets
            ));
        }
        if self.ways == 0 || self.ways > 16 {
            return Err(format!("--ways {}: give 1 to 16 ways", self.ways));
        }
        if self.policy == QuizPolicy::Plru && !self.ways.is_power_of_two() {
            return Err(format!(
                "--policy plru needs a power-of-two number of ways (1, 2, 4, 8, 16), not {}; use lru or fifo for {} ways",
                self.ways, self.ways
            ));
        }
        if !self.page_size.is_power_of_two() || !(16..=65536).contains(&self.page_size) {
            return Err(format!(
                "--page-size {}: give a power of two from 16 to 64k (e.g. 4k)",
                self.page_size
            ));
        }
        if self.accesses == 0 || self.accesses > 200 {
            return Err(format!("-n {}: give 1 to 200 accesses", self.accesses));
        }
        if self.pages == 0 || self.pages > VA_PAGES {
            return Err(format!(
                "--pages {}: give 1 to {VA_PAGES} distinct pages (the address space has {VA_PAGES})",
                self.pages
            ));
        }
        if !(0.0..=1.0).contains(&self.locality) {
            return Err(format!(
                "--locality {}: give a chance from 0 to 1 (e.g. 0.6)",
                self.locality
            ));
        }
        if self.asids == 0 || self.asids > 16 {
            return Err(format!(
                "--asids {}: give 1 (no ASIDs) to 16 address spaces",
                self.asids
            ));
        }
        Ok(())
    }
}

fn entry_name(e: Option<(u64, u16)>, asids: bool) -> String {
    match e {
        None => "-".to_string(),
        Some((vpn, a)) if asids => format!("{vpn}/a{a}"),
        Some((vpn, _)) => vpn.to_string(),
    }
}

fn contents_line(after: &[Vec<Option<(u64, u16)>>], asids: bool) -> String {
    after
        .iter()
        .enumerate()
        .map(|(s, ways)| {
            let w: Vec<String> = ways.iter().map(|e| entry_name(*e, asids)).collect();
            format!("set {s}: [{}]", w.join(", "))
        })
        .collect::<Vec<_>>()
        .join("  ")
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        self.check()?;
        let mut rng = Rng::new(seed);
        let (sets, ways) = (self.sets as usize, self.ways as usize);
        let page_bits = self.page_size.trailing_zeros();
        let with_asids = self.asids > 1;

        // The working set: distinct pages of the 64-page address space.
        let mut all: Vec<u64> = (0..VA_PAGES).collect();
        rng.shuffle(&mut all);
        let pool: Vec<u64> = all[..self.pages as usize].to_vec();
        let mut recent: Vec<(u64, u16)> = Vec::new();
        let mut asid: u16 = 1;
        let mut tlb = Tlb::new(sets, ways, self.policy);
        let mut steps = Vec::new();
        for _ in 0..self.accesses {
            if with_asids && rng.chance(0.2) {
                asid = rng.range(1, self.asids) as u16;
            }
            let mut reuse: Vec<u64> = Vec::new();
            for (v, _) in recent.iter().rev().filter(|(_, a)| *a == asid) {
                if reuse.len() == 3 {
                    break;
                }
                if !reuse.contains(v) {
                    reuse.push(*v);
                }
            }
            let vpn = if !reuse.is_empty() && rng.chance(self.locality) {
                *rng.pick(&reuse).unwrap_or(&pool[0])
            } else {
                *rng.pick(&pool).unwrap_or(&0)
            };
            recent.push((vpn, asid));
            let offset = rng.below(self.page_size);
            let va = (vpn << page_bits) | offset;
            let (set, hit, way, evicted) = tlb.access(vpn, asid);
            steps.push(Step {
                va,
                asid,
                vpn,
                set,
                hit,
                way,
                evicted,
                after: tlb.contents(),
            });
        }

        let hits = steps.iter().filter(|s| s.hit).count();
        let pol = match self.policy {
            QuizPolicy::Lru => "LRU (a miss in a full set evicts the least recently used entry)",
            QuizPolicy::Fifo => "FIFO (a miss in a full set evicts the entry filled first; hits change nothing)",
            QuizPolicy::Plru => "tree pseudo-LRU (a miss in a full set evicts the way the set's tree bits point to; each use points the bits on its path away from it)",
        };
        let va_bits = 6 + page_bits;
        let mut p = String::new();
        let _ = writeln!(
            p,
            "TLB: {sets} set{} x {ways} way{} ({} entries), {pol}.",
            if sets == 1 { "" } else { "s" },
            if ways == 1 { "" } else { "s" },
            sets * ways
        );
        let _ = writeln!(
            p,
            "Pages of {} bytes: VPN = VA >> {page_bits}; the set of a page is VPN mod {sets}. A miss fills the lowest free way of its set first.",
            self.page_size
        );
        let _ = writeln!(
            p,
            "Virtual addresses have {va_bits} bits ({VA_PAGES} pages). The TLB starts empty."
        );
        if with_asids {
            let _ = writeln!(
                p,
                "Entries are tagged with the ASID: a page hits only in the address space that filled it (written VPN/aN below)."
            );
        }
        let _ = writeln!(p, "\nVirtual address trace:");
        for (i, s) in steps.iter().enumerate() {
            let a = if with_asids {
                format!("  ASID {}", s.asid)
            } else {
                String::new()
            };
            let _ = writeln!(
                p,
                "  [{:2}] VA 0x{:04x} (decimal {:5}){a}",
                i + 1,
                s.va,
                s.va
            );
        }
        let _ = writeln!(
            p,
            "\nFor each access: its VPN and set, hit or miss, and on a miss which entry (if any) it evicts. What does the TLB hold after each access?"
        );

        let mut a = String::new();
        for (i, s) in steps.iter().enumerate() {
            let asid = if with_asids {
                format!(", ASID {}", s.asid)
            } else {
                String::new()
            };
            let what = if s.hit {
                format!("HIT (way {})", s.way)
            } else {
                match s.evicted {
                    None => format!("MISS, fills free way {}, evicts nothing", s.way),
                    Some(e) => format!(
                        "MISS, evicts {} from way {}",
                        entry_name(Some(e), with_asids),
                        s.way
                    ),
                }
            };
            let _ = writeln!(
                a,
                "  [{:2}] VA 0x{:04x}: VPN {} (0x{:x}){asid}, set {} mod {sets} = {}: {what}",
                i + 1,
                s.va,
                s.vpn,
                s.vpn,
                s.vpn,
                s.set
            );
            let _ = writeln!(a, "       TLB: {}", contents_line(&s.after, with_asids));
        }
        let n = steps.len();
        let _ = writeln!(
            a,
            "\n{hits} hit{}, {} miss{} out of {n}: hit rate {:.1}%",
            if hits == 1 { "" } else { "s" },
            n - hits,
            if n - hits == 1 { "" } else { "es" },
            100.0 * hits as f64 / n as f64
        );

        let scenario = self.scenario(seed, &steps);
        let json = json!({
            "kind": "tlb",
            "seed": seed,
            "sets": sets,
            "ways": ways,
            "policy": self.policy.name(),
            "page_size": self.page_size,
            "asids": self.asids,
            "accesses": steps.iter().map(|s| {
                let mut v = json!({ "va": s.va });
                if with_asids { v["asid"] = json!(s.asid); }
                v
            }).collect::<Vec<_>>(),
            "answers": steps.iter().map(|s| json!({
                "va": s.va,
                "asid": s.asid,
                "vpn": s.vpn,
                "set": s.set,
                "hit": s.hit,
                "way": s.way,
                "evicts": s.evicted.map(|(vpn, asid)| json!({ "vpn": vpn, "asid": asid })),
                "tlb": s.after.iter().map(|w| w.iter().map(|e| e.map(|(vpn, asid)| json!({ "vpn": vpn, "asid": asid }))).collect::<Vec<_>>()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "hits": hits,
            "misses": n - hits,
        });
        Ok(Quiz {
            problem: p,
            answer: a,
            scenario: Some(scenario),
            json,
        })
    }
}

impl Args {
    /// The scenario: OSTEP's linear page table mapping every page of the address space to
    /// the frame of the same number (an identity map), the TLB as the dTLB, and every access
    /// a load whose `expect` names the PA, hit or miss, the set and the eviction.
    fn scenario(&self, seed: u64, steps: &[Step]) -> String {
        let with_asids = self.asids > 1;
        let space = VA_PAGES * self.page_size;
        let root = space.max(0x1000);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "# vmlab quiz tlb --seed {seed} --sets {} --ways {} --policy {} --page-size {} -n {} --pages {} --locality {} --asids {}",
            self.sets, self.ways, self.policy.name(), self.page_size, self.accesses, self.pages, self.locality, self.asids
        );
        let _ = writeln!(
            t,
            "#\n# Every access is a one-byte load through the data TLB ({} sets x {} ways, {}).\n# Its expect is the answer: the physical address, tlb = \"hit\" or \"miss\", the set\n# (VPN mod {}), and on a miss the entry its fill evicts (\"none\" for a free way).\n# The page table maps every page to the frame of the same number (PA = VA), so only\n# the TLB is in question. Run `vmlab translate` on this file to grade it.",
            self.sets, self.ways, self.policy.name(), self.sets
        );
        if with_asids {
            let _ = writeln!(
                t,
                "# One page table serves every ASID; the TLB tags its entries with the access's ASID,\n# and `evicts` names the evicted entry's VPN (whatever its ASID)."
            );
        }
        let _ = writeln!(
            t,
            "\ntitle = \"vmlab quiz tlb, seed {seed}: {} sets x {} ways, {}\"\nmode = \"paged\"\n",
            self.sets,
            self.ways,
            self.policy.name()
        );
        let _ = writeln!(
            t,
            "[mmu]\ndtlb = {{ sets = {}, ways = {}, policy = \"{}\" }}\n",
            self.sets,
            self.ways,
            self.policy.name()
        );
        let _ = writeln!(
            t,
            "[paging]\nformat = \"ostep-linear\"    # one level: PTE = valid (bit 31) | PFN\naddress_space = {space}\npage_size = {}\nroot = \"{root:#x}\"\n",
            self.page_size
        );
        let _ = writeln!(t, "[memory]\nsize = \"{:#x}\"\n", root + VA_PAGES * 4);
        let ptes: Vec<String> = (0..VA_PAGES)
            .map(|v| format!("\"{:#x}\"", 0x8000_0000u64 | v))
            .collect();
        let _ = writeln!(
            t,
            "[[write]]             # the identity map: page N -> frame N"
        );
        let _ = writeln!(t, "at = \"{root:#x}\"");
        let _ = writeln!(t, "ptes = [");
        for chunk in ptes.chunks(8) {
            let _ = writeln!(t, "  {},", chunk.join(", "));
        }
        let _ = writeln!(t, "]");
        for (i, s) in steps.iter().enumerate() {
            let _ = writeln!(t, "\n[[access]]            # [{}]", i + 1);
            let _ = writeln!(t, "va = \"{:#x}\"", s.va);
            if with_asids {
                let _ = writeln!(t, "asid = {}", s.asid);
            }
            let tlb = if s.hit {
                format!("tlb = \"hit\", set = {}", s.set)
            } else {
                let ev = match s.evicted {
                    None => "none".to_string(),
                    Some((vpn, _)) => format!("vpn:{vpn:#x}"),
                };
                format!("tlb = \"miss\", set = {}, evicts = \"{ev}\"", s.set)
            };
            let _ = writeln!(t, "expect = {{ pa = \"{:#x}\", {tlb} }}", s.va);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Args {
        let words: Vec<&str> = line.split_whitespace().collect();
        crate::quiz::testing::parse(&words).expect(line)
    }

    #[test]
    fn bad_knobs_say_what_would_be_right() {
        let check = |line: &str, want: &str| {
            let e = args(line).generate(1).expect_err(line);
            assert!(e.contains(want), "{line}: {e}");
        };
        check("--sets 0", "give 1 to 64 sets");
        check("--ways 0", "give 1 to 16 ways");
        check("--ways 3 --policy plru", "power-of-two number of ways");
        check("--page-size 100", "power of two from 16 to 64k");
        check("-n 0", "give 1 to 200 accesses");
        check("--pages 65", "give 1 to 64 distinct pages");
        check("--locality 2", "from 0 to 1");
        check("--asids 0", "give 1 (no ASIDs)");
    }

    #[test]
    fn textbook_policies() {
        // One set of two ways, pages 1 2 1 3: LRU evicts 2, FIFO evicts 1.
        for (policy, victim) in [(QuizPolicy::Lru, 2), (QuizPolicy::Fifo, 1)] {
            let mut t = Tlb::new(1, 2, policy);
            for p in [1, 2, 1] {
                t.access(p, 0);
            }
            assert_eq!(t.access(3, 0).3, Some((victim, 0)), "{policy:?}");
        }
        // Tree-PLRU over 4 ways: after 0 1 2 3 the bits point at way 0; a use of 0 moves
        // them to way 2.
        let mut t = Tlb::new(1, 4, QuizPolicy::Plru);
        for p in [10, 11, 12, 13, 10] {
            t.access(p, 0);
        }
        assert_eq!(t.access(14, 0), (0, false, 2, Some((12, 0))));
    }
}
