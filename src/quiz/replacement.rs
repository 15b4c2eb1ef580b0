//! `vmlab quiz replacement`: the page-replacement exercise of OSTEP's `paging-policy.py`.
//!
//! The reference string is drawn from `--seed` exactly as `paging-policy.py -s SEED -n N -m
//! MAXPAGE` draws it (so the problem is the script's), or, with `--locality`, from a
//! workload where most references go to a few hot pages. The answer is the kernel's own
//! replacement code run over the string ([`crate::policy_cmd`], on
//! [`vmlab_os::replace`]), with each victim's reason worked out from the string: when it
//! came in, when it was last used, when it is next used.

use super::{Common, Generator, Quiz, Rng};
use crate::policy_cmd::{self, Exercise, PolicyArgs};
use serde_json::json;
use std::fmt::Write as _;
use vmlab_os::replace::{Policy, Ref};

/// The most references a problem may have.
const MAX_REFS: u64 = 10_000;

/// The options of `vmlab quiz replacement` (`paging-policy.py`'s short flags where they
/// exist).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz replacement --seed 1\n  \
vmlab quiz replacement --seed 1 --policy lru --answers\n  \
vmlab quiz replacement -p opt -C 4 -n 15 -m 8 -s 7 -c\n  \
vmlab quiz replacement --policy clock --locality 80 --seed 2 --answers --json")]
pub struct Args {
    /// The replacement policy: fifo, lru, mru, opt, unopt, clock, random or enhanced-clock
    /// (any case; RAND means random).
    #[arg(short = 'p', long, default_value = "fifo", value_name = "POLICY")]
    pub policy: String,
    /// How many page frames memory holds (paging-policy.py's cache size).
    #[arg(short = 'C', long, visible_alias = "cachesize", default_value = "3", value_name = "N", value_parser = crate::num::parse_num)]
    pub frames: u64,
    /// How many references.
    #[arg(short = 'n', long, default_value = "10", value_name = "N", value_parser = crate::num::parse_num)]
    pub numaddrs: u64,
    /// Pages are 0 to MAXPAGE-1.
    #[arg(short = 'm', long, default_value = "10", value_name = "MAXPAGE", value_parser = crate::num::parse_num)]
    pub maxpage: u64,
    /// Clock only: a use counter from 0 to K per page instead of one use bit.
    #[arg(short = 'b', long, value_name = "K", value_parser = crate::num::parse_num)]
    pub clockbits: Option<u64>,
    /// Draw a workload with locality instead of paging-policy.py's uniform one: PERCENT of
    /// the references go to the hot fifth of the pages (e.g. 80 for the 80-20 workload).
    #[arg(long, value_name = "PERCENT", value_parser = crate::num::parse_num)]
    pub locality: Option<u64>,
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
}

/// The references of the problem: paging-policy.py's draw, or the locality workload.
fn references(args: &Args, seed: u64) -> Result<Option<Vec<Ref>>, String> {
    let Some(pct) = args.locality else {
        return Ok(None);
    };
    if pct > 100 {
        return Err(format!(
            "--locality {pct}: give the percentage of references (0 to 100) that go to the \
             hot fifth of the pages"
        ));
    }
    let hot = (args.maxpage / 5).max(1);
    let mut rng = Rng::new(seed);
    let refs = (0..args.numaddrs)
        .map(|_| {
            let page = if rng.below(100) < pct || hot >= args.maxpage {
                rng.below(hot)
            } else {
                hot + rng.below(args.maxpage - hot)
            };
            Ref { page, write: false }
        })
        .collect();
    Ok(Some(refs))
}

/// How the memory list is ordered, in words.
fn order_words(policy: Policy) -> &'static str {
    match policy {
        Policy::Fifo => "first in on the left",
        Policy::Lru | Policy::Mru => "least recently used on the left",
        _ => "in the order the pages came in, oldest on the left",
    }
}

/// Why the policy chose `victim` at step `t` (0-based), worked out from the string.
fn why(ex: &Exercise, t: usize, victim: u64) -> String {
    let pages: Vec<u64> = ex.refs.iter().map(|r| r.page).collect();
    let last_use = pages[..t].iter().rposition(|&p| p == victim).map(|i| i + 1);
    let next_use = pages[t + 1..]
        .iter()
        .position(|&p| p == victim)
        .map(|i| t + 2 + i);
    // The step at which the victim last came into memory: its last miss before `t`.
    let came_in = ex.sim.steps[..t]
        .iter()
        .rposition(|s| s.page == victim && !s.hit)
        .map(|i| i + 1);
    let at = |n: Option<usize>| n.map_or("?".to_owned(), |n| format!("access {n}"));
    match ex.policy {
        Policy::Fifo => format!("{victim} came in first ({})", at(came_in)),
        Policy::Lru => format!("{victim} was used least recently ({})", at(last_use)),
        Policy::Mru => format!("{victim} was used most recently ({})", at(last_use)),
        Policy::Opt => match next_use {
            Some(n) => format!("{victim} is needed again farthest ahead (access {n})"),
            None => {
                // Others never needed again: the tie goes to the latest in.
                let before = if t == 0 {
                    &[][..]
                } else {
                    &ex.memory[t - 1][..]
                };
                let tied: Vec<String> = before
                    .iter()
                    .filter(|&&p| p != victim && !pages[t + 1..].contains(&p))
                    .map(u64::to_string)
                    .collect();
                if tied.is_empty() {
                    format!("{victim} is never needed again")
                } else {
                    format!(
                        "{victim} is never needed again, nor is {}: {victim} came in last",
                        tied.join(" or ")
                    )
                }
            }
        },
        Policy::Unopt => match next_use {
            Some(n) => format!("{victim} is needed again soonest (access {n})"),
            None => format!("{victim}: no resident page is needed again"),
        },
        Policy::Clock => clock_sweeps(ex)
            .get(t)
            .cloned()
            .flatten()
            .filter(|(v, _)| *v == victim)
            .map_or(
                format!("the hand found {victim}'s use count at 0"),
                |(_, s)| s,
            ),
        Policy::EnhancedClock => {
            format!("the hand found {victim} in the lowest (use, dirty) class")
        }
        Policy::Random => format!("{victim} drawn at random (seed {})", ex.policy_seed),
    }
}

/// Clock's sweeps, replayed from the string to explain each victim: for each step that
/// evicts, the victim and what the hand did (`None` for the other steps). The counters work
/// as the kernel's: 1 on the way in, +1 per hit up to the cap, the hand takes 1 off each
/// non-zero counter it passes and evicts the first page at 0, leaving the new page in its
/// frame and moving on. (The caller checks the replayed victim against the kernel's.)
fn clock_sweeps(ex: &Exercise) -> Vec<Option<(u64, String)>> {
    let cap = ex.clockbits.map_or(1, u32::from);
    let frames = usize::try_from(ex.frames).unwrap_or(usize::MAX);
    let mut ring: Vec<(u64, u32)> = Vec::new();
    let mut hand = 0usize;
    let mut out = Vec::new();
    for r in &ex.refs {
        if let Some(slot) = ring.iter_mut().find(|(p, _)| *p == r.page) {
            slot.1 = (slot.1 + 1).min(cap);
            out.push(None);
            continue;
        }
        if ring.len() < frames {
            ring.push((r.page, 1));
            out.push(None);
            continue;
        }
        let mut passed = Vec::new();
        let victim = loop {
            let (p, c) = ring[hand];
            if c == 0 {
                ring[hand] = (r.page, 1);
                hand = (hand + 1) % frames;
                break p;
            }
            ring[hand].1 = c - 1;
            passed.push(format!("{p} {c}->{}", c - 1));
            hand = (hand + 1) % frames;
        };
        let text = if passed.is_empty() {
            format!("the hand points at {victim}, whose count is 0")
        } else {
            format!(
                "the hand passes {} and stops at {victim} (count 0)",
                passed.join(", ")
            )
        };
        out.push(Some((victim, text)));
    }
    out
}

fn list(pages: &[u64]) -> String {
    let items: Vec<String> = pages.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(", "))
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        if self.numaddrs == 0 || self.numaddrs > MAX_REFS {
            return Err(format!(
                "--numaddrs {}: give 1 to {MAX_REFS} references",
                self.numaddrs
            ));
        }
        if self.maxpage == 0 {
            return Err("--maxpage 0: pages are 0 to MAXPAGE-1, so give 1 or more".to_owned());
        }
        let drawn = references(self, seed)?;
        let refs_text = drawn.as_ref().map(|r| {
            r.iter()
                .map(|x| x.page.to_string())
                .collect::<Vec<_>>()
                .join(",")
        });
        let pargs = PolicyArgs {
            policy: self.policy.clone(),
            frames: self.frames,
            refs: refs_text,
            file: None,
            seed,
            numaddrs: drawn.is_none().then_some(self.numaddrs),
            maxpage: drawn.is_none().then_some(self.maxpage),
            clockbits: self.clockbits,
            policy_seed: None,
            notrace: false,
            compute: false,
            json: false,
        };
        let ex = policy_cmd::exercise(&pargs)?;
        let pages: Vec<u64> = ex.refs.iter().map(|r| r.page).collect();
        let page_list = pages
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let detail = match (ex.policy, ex.clockbits) {
            (Policy::Clock, Some(k)) => format!(" (use counters up to {k})"),
            (Policy::Clock, None) => {
                " (one use bit per page, the hand starting at the first frame)".to_owned()
            }
            (Policy::Random, _) => format!(" (seed {})", ex.policy_seed),
            _ => String::new(),
        };
        let frames = self.frames;
        let mut problem = String::new();
        let _ = writeln!(
            problem,
            "Page replacement: policy {}{detail}, {frames} page frame{}, memory empty at the start.",
            ex.policy.to_string().to_uppercase(),
            if frames == 1 { "" } else { "s" }
        );
        let _ = match self.locality {
            None => writeln!(
                problem,
                "References ({}, pages 0 to {}, drawn as paging-policy.py -s {seed} -n {} -m {} draws them):",
                pages.len(),
                self.maxpage - 1,
                self.numaddrs,
                self.maxpage
            ),
            Some(p) => writeln!(
                problem,
                "References ({}, pages 0 to {}, {p}% of them to pages 0 to {}):",
                pages.len(),
                self.maxpage - 1,
                (self.maxpage / 5).max(1) - 1
            ),
        };
        let _ = writeln!(problem, "  {page_list}");
        let _ = writeln!(
            problem,
            "\nFor each access: does it hit or miss, which page does a miss evict (if any), and\n\
             what does memory hold after it ({})?\nThen the hits, misses and hit rate.",
            order_words(ex.policy)
        );
        if ex.policy == Policy::Opt {
            let _ = writeln!(
                problem,
                "When several pages are never needed again, OPT evicts the one that came in last \
                 (as paging-policy.py does)."
            );
        }
        problem.push('\n');
        let width = pages.len().to_string().len().max(1);
        let _ = writeln!(
            problem,
            "  {:>width$}  Access  Hit/Miss?  Evicted?  Memory?",
            "#"
        );
        for (i, p) in pages.iter().enumerate() {
            let _ = writeln!(problem, "  {:>width$}  {p:>6}", i + 1);
        }

        let mut answer = String::new();
        let mem_width = ex
            .memory
            .iter()
            .map(|m| list(m).len())
            .max()
            .unwrap_or(2)
            .max(12);
        let _ = writeln!(
            answer,
            "  {:>width$}  Access  Result  Evicted  {:<mem_width$}  Why",
            "#", "Memory after"
        );
        let mut accesses = Vec::new();
        for (t, (step, memory)) in ex.sim.steps.iter().zip(&ex.memory).enumerate() {
            let reason = match (step.hit, step.evicted) {
                (true, _) => format!("{} is in memory", step.page),
                (false, None) => "a frame is free".to_owned(),
                (false, Some(v)) => why(&ex, t, v),
            };
            let _ = writeln!(
                answer,
                "  {:>width$}  {:>6}  {:<6}  {:<7}  {:<mem_width$}  {reason}",
                t + 1,
                step.page,
                if step.hit { "HIT" } else { "MISS" },
                step.evicted.map_or("-".to_owned(), |v| v.to_string()),
                list(memory),
            );
            accesses.push(json!({
                "page": step.page,
                "hit": step.hit,
                "evicted": step.evicted,
                "memory": memory,
                "why": reason,
            }));
        }
        let total = ex.sim.hits + ex.sim.faults;
        let rate = 100.0 * ex.sim.hits as f64 / total as f64;
        let _ = writeln!(
            answer,
            "\nHits {}, misses {}: hit rate {} / {total} = {rate:.2}%",
            ex.sim.hits, ex.sim.faults, ex.sim.hits
        );
        let json = json!({
            "kind": "replacement",
            "seed": seed,
            "policy": ex.policy.to_string(),
            "frames": frames,
            "clockbits": ex.clockbits,
            "refs": pages,
            "accesses": accesses,
            "hits": ex.sim.hits,
            "misses": ex.sim.faults,
        });
        Ok(Quiz {
            problem,
            answer,
            scenario: None,
            json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(policy: &str) -> Args {
        Args {
            policy: policy.into(),
            frames: 3,
            numaddrs: 10,
            maxpage: 10,
            clockbits: None,
            locality: None,
            common: Common {
                seed: 0,
                answers: true,
                scenario: None,
                json: false,
            },
        }
    }

    #[test]
    fn the_problem_is_paging_policy_pys_draw() {
        let q = args("fifo").generate(0).unwrap();
        let drawn: Vec<u64> = policy_cmd::draw(0, 10, 10).iter().map(|r| r.page).collect();
        assert_eq!(q.json["refs"], json!(drawn));
        assert!(q.problem.contains("Hit/Miss?"));
        assert!(!q.problem.contains("MISS"), "the problem shows no answers");
    }

    #[test]
    fn bad_knobs_are_refused() {
        let check = |f: &dyn Fn(&mut Args), want: &str| {
            let mut a = args("fifo");
            f(&mut a);
            let e = a.generate(1).unwrap_err();
            assert!(e.contains(want), "{e} lacks {want}");
        };
        check(&|a| a.numaddrs = 0, "--numaddrs 0");
        check(&|a| a.maxpage = 0, "--maxpage 0");
        check(&|a| a.frames = 0, "--frames 0");
        check(&|a| a.locality = Some(101), "--locality 101");
        check(&|a| a.policy = "nope".into(), "not a replacement policy");
        check(&|a| a.clockbits = Some(2), "--clockbits applies only");
    }

    #[test]
    fn locality_sends_most_references_to_the_hot_pages() {
        let mut a = args("lru");
        a.numaddrs = 1000;
        a.maxpage = 50;
        a.locality = Some(80);
        let q = a.generate(3).unwrap();
        let hot = q.json["refs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.as_u64().unwrap() < 10)
            .count();
        assert!((750..=850).contains(&hot), "{hot} of 1000 hot");
    }
}
