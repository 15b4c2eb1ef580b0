//! `vmlab quiz relocation`: base and bounds, after OSTEP's `relocation.py`.
//!
//! The problem gives the base and limit (bounds) registers and a list of virtual addresses;
//! each address is valid when it is below the limit, and then translates to `base + VA`.
//! The knobs are relocation.py's: `-a` (address space, 1k), `-p` (physical memory, 16k),
//! `-n` (5 addresses), `-b`/`-l` (the registers, random by default: the limit between a
//! quarter and a half of the address space, the base anywhere the process fits).

use super::translate_common::{self as tc, hex, size, toml_list};
use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The options of `vmlab quiz relocation`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz relocation --seed 1\n  \
vmlab quiz relocation --seed 1 --answers\n  \
vmlab quiz relocation -a 1000 -p 4k -b 3000 -l 200 -n 8 -c\n  \
vmlab quiz relocation --seed 2 --scenario reloc.toml\n  \
vmlab translate reloc.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// The size of the virtual address space in bytes (any size, e.g. 1000 or 1k).
    #[arg(short = 'a', long, default_value = "1k", value_parser = crate::num::parse_num)]
    pub asize: u64,
    /// The size of physical memory in bytes; must exceed the address space.
    #[arg(short = 'p', long = "physmem", default_value = "16k", value_parser = crate::num::parse_num)]
    pub psize: u64,
    /// How many virtual addresses to translate (at most 1000).
    #[arg(short = 'n', long = "num", default_value = "5", value_parser = crate::num::parse_num)]
    pub num: u64,
    /// The base register (random by default: anywhere the process fits in physical memory).
    #[arg(short = 'b', long, value_parser = crate::num::parse_num)]
    pub base: Option<u64>,
    /// The limit (bounds) register (random by default: from a quarter to a half of the
    /// address space).
    #[arg(short = 'l', long, value_parser = crate::num::parse_num)]
    pub limit: Option<u64>,
}

/// One address and its answer: the physical address, or `None` for a violation.
struct Item {
    va: u64,
    pa: Option<u64>,
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        let (asize, psize) = (self.asize, self.psize);
        tc::check_sizes(asize, psize)?;
        tc::check_num(self.num)?;
        let mut rng = Rng::new(seed);
        let limit = match self.limit {
            Some(l) if l > psize => {
                return Err(format!(
                    "-l {l}: the limit is larger than physical memory ({psize} bytes); use at most {psize}"
                ))
            }
            Some(l) => l,
            None => (asize + rng.below(asize)) / 4,
        };
        let base = match self.base {
            Some(b) => b,
            None => rng.below(psize - limit),
        };
        if base.checked_add(limit).is_none_or(|end| end > psize) {
            return Err(format!(
                "base {base} + limit {limit} = {} runs past the end of physical memory ({psize} bytes); \
                 use a base of at most {}",
                base as u128 + limit as u128,
                psize - limit
            ));
        }
        let items: Vec<Item> = (0..self.num)
            .map(|_| {
                let va = rng.below(asize);
                Item {
                    va,
                    pa: (va < limit).then_some(base + va),
                }
            })
            .collect();

        let mut p = String::new();
        let _ = writeln!(p, "ARG seed {seed}");
        let _ = writeln!(p, "ARG address space size {}", size(asize));
        let _ = writeln!(p, "ARG phys mem size {}", size(psize));
        p.push('\n');
        p.push_str("Base-and-Bounds register information:\n\n");
        let _ = writeln!(p, "  Base   : {base:#010x} (decimal {base})");
        let _ = writeln!(p, "  Limit  : {limit}\n");
        p.push_str("Virtual Address Trace\n");
        for (i, it) in items.iter().enumerate() {
            let _ = writeln!(
                p,
                "  VA {i:2}: {:#010x} (decimal: {:4}) --> PA or segmentation violation?",
                it.va, it.va
            );
        }
        p.push_str(
            "\nFor each virtual address, write down the physical address it translates to, or\n\
             that it is out of bounds (a segmentation violation). The address space has\n",
        );
        let _ = writeln!(
            p,
            "{asize} bytes; the hardware checks VA < limit, then adds the base."
        );

        let mut a = String::new();
        for (i, it) in items.iter().enumerate() {
            let head = format!("  VA {i:2}: {:#010x} (decimal: {:4}) --> ", it.va, it.va);
            match it.pa {
                Some(pa) => {
                    let _ = writeln!(a, "{head}VALID: {pa:#010x} (decimal: {pa:4})");
                    let _ = writeln!(
                        a,
                        "         {} < limit {limit}: in bounds; PA = base + VA = {base} + {} = {pa}",
                        it.va, it.va
                    );
                }
                None => {
                    let _ = writeln!(a, "{head}SEGMENTATION VIOLATION");
                    let _ = writeln!(a, "         {} >= limit {limit}: out of bounds", it.va);
                }
            }
        }

        let mut sc = tc::comment(&format!(
            "vmlab quiz relocation --seed {seed} -a {asize} -p {psize} -n {} -b {base} -l {limit}\n\
             (OSTEP's relocation.py: base and bounds)\n\
             \n\
             The process's address space is {asize} bytes. The MMU checks every virtual address\n\
             against the limit (bounds) register and, if VA < limit, adds the base register:\n\
             \n\
             \x20   PA = base + VA    when VA < limit, otherwise a segmentation violation\n\
             \n\
             base = {base:#x} ({base}), limit = {limit}. Each address of `trace` is graded by its\n\
             answer in `trace_expect`: the physical address, or \"fault:bounds\" for a violation.\n\
             Run `vmlab translate` on this file to see each translation step by step.",
            self.num
        ));
        sc.push('\n');
        let _ = writeln!(
            sc,
            "title = \"vmlab quiz relocation --seed {seed}: base {base}, limit {limit}\""
        );
        sc.push_str("mode = \"base-bounds\"\n");
        let vas: Vec<String> = items.iter().map(|i| i.va.to_string()).collect();
        let ans: Vec<String> = items
            .iter()
            .map(|i| match i.pa {
                Some(pa) => pa.to_string(),
                None => "\"fault:bounds\"".into(),
            })
            .collect();
        let _ = writeln!(sc, "trace = {}", toml_list(&vas));
        let _ = writeln!(sc, "trace_expect = {}", toml_list(&ans));
        let _ = writeln!(
            sc,
            "\n[base_bounds]\nbase = {}   # {base}\nbounds = {limit}\n\n[memory]\nsize = {psize}",
            hex(base)
        );

        let answers: Vec<_> = items
            .iter()
            .map(|i| json!({"va": i.va, "valid": i.pa.is_some(), "pa": i.pa}))
            .collect();
        let json = json!({
            "kind": "relocation",
            "seed": seed,
            "knobs": {"asize": asize, "psize": psize, "num": self.num},
            "problem": {"base": base, "limit": limit,
                        "addresses": items.iter().map(|i| i.va).collect::<Vec<_>>()},
            "answers": answers,
        });
        Ok(Quiz {
            problem: p,
            answer: a,
            scenario: Some(sc),
            json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(args: &[&str]) -> Result<Quiz, String> {
        let a: Args = crate::quiz::testing::parse(args)?;
        a.generate(a.common.seed)
    }

    #[test]
    fn knobs_are_checked() {
        assert!(gen(&[]).is_ok());
        let e = |a: &[&str]| gen(a).err().unwrap_or_default();
        assert!(e(&["-a", "16k", "-p", "16k"]).contains("smaller than physical memory"));
        assert!(e(&["-n", "5000"]).contains("at most 1000"));
        assert!(e(&["-b", "16000", "-l", "500"]).contains("runs past the end"));
        assert!(e(&["-l", "20k"]).contains("larger than physical memory"));
        assert!(e(&["-a", "0"]).contains("at least one byte"));
    }

    #[test]
    fn answers_by_hand() {
        let q = gen(&["-b", "12418", "-l", "472", "-n", "20", "-s", "3"]).unwrap();
        for a in q.json["answers"].as_array().unwrap() {
            let va = a["va"].as_u64().unwrap();
            if va < 472 {
                assert_eq!(a["pa"].as_u64(), Some(12418 + va));
            } else {
                assert!(a["pa"].is_null());
            }
        }
        // Random registers: the limit is a quarter to a half of the address space.
        for s in 0..200 {
            let q = gen(&["-s", &s.to_string()]).unwrap();
            let l = q.json["problem"]["limit"].as_u64().unwrap();
            let b = q.json["problem"]["base"].as_u64().unwrap();
            assert!((256..512).contains(&l) && b + l <= 16384, "{l} {b}");
        }
    }
}
