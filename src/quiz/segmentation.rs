//! `vmlab quiz segmentation`: two segments, after OSTEP's `segmentation.py`.
//!
//! Segment 0 grows up from VA 0; segment 1 grows down from the top of the address space. An
//! address below half the address space (`VA < asize / 2`, so `VA < ceil(asize / 2)` for an
//! odd size) is in segment 0 and valid while `VA < limit 0`, at `PA = base 0 + VA`; an
//! address at or above it is in segment 1 with the negative offset `VA - asize`, valid while
//! that is at least `-limit 1`, at `PA = base 1 + (VA - asize)`, where base 1 is the address
//! just above the segment (as segmentation.py prints it). The address space need not be a
//! power of two (`-a 1000`). Knobs: `-a` (1k), `-p` (16k), `-n` (5), `-b`/`-l` (segment 0),
//! `-B`/`-L` (segment 1), `-A` (the addresses); the registers are random by default, as
//! segmentation.py draws them (limits from a quarter to a half of the address space, bases
//! anywhere the segments fit without overlapping).

use super::translate_common::{self as tc, size, toml_list};
use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The options of `vmlab quiz segmentation`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz segmentation --seed 1\n  \
vmlab quiz segmentation -a 128 -p 512 -b 0 -l 20 -B 512 -L 20 -c\n  \
vmlab quiz segmentation -a 1000 -p 16k -A 100,499,500,999 -c\n  \
vmlab quiz segmentation --seed 2 --json\n  \
vmlab quiz segmentation -a 1000 --seed 3 --scenario seg.toml\n  \
vmlab translate seg.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// The size of the virtual address space in bytes (at least 2; any size, e.g. 1000).
    #[arg(short = 'a', long, default_value = "1k", value_parser = crate::num::parse_num)]
    pub asize: u64,
    /// The size of physical memory in bytes; must exceed the address space.
    #[arg(short = 'p', long = "physmem", default_value = "16k", value_parser = crate::num::parse_num)]
    pub psize: u64,
    /// How many random virtual addresses to translate (at most 1000; ignored with -A).
    #[arg(short = 'n', long = "num", default_value = "5", value_parser = crate::num::parse_num)]
    pub num: u64,
    /// Segment 0's base register (random by default).
    #[arg(short = 'b', long = "b0", value_parser = crate::num::parse_num)]
    pub base0: Option<u64>,
    /// Segment 0's limit register (random by default: a quarter to a half of the address space).
    #[arg(short = 'l', long = "l0", value_parser = crate::num::parse_num)]
    pub limit0: Option<u64>,
    /// Segment 1's base register: the physical address just above the segment, which grows
    /// down (random by default).
    #[arg(short = 'B', long = "b1", value_parser = crate::num::parse_num)]
    pub base1: Option<u64>,
    /// Segment 1's limit register (random by default).
    #[arg(short = 'L', long = "l1", value_parser = crate::num::parse_num)]
    pub limit1: Option<u64>,
    /// The virtual addresses, comma-separated (e.g. 100,0x1f4); -1 or none: -n random ones.
    #[arg(short = 'A', long, allow_hyphen_values = true)]
    pub addresses: Option<String>,
}

/// One address and its answer.
struct Item {
    va: u64,
    seg: u8,
    pa: Option<u64>,
}

/// Whether `[a, a + la)` and `[b, b + lb)` share a byte.
fn overlap(a: u64, la: u64, b: u64, lb: u64) -> bool {
    la > 0 && lb > 0 && a < b + lb && b < a + la
}

/// Draws a base for a segment of `len` bytes that avoids `[other, other + olen)`: random
/// tries as segmentation.py does, then the first place that fits.
fn place(rng: &mut Rng, psize: u64, len: u64, other: Option<(u64, u64)>) -> Option<u64> {
    let fits = |b: u64| other.is_none_or(|(o, ol)| !overlap(b, len, o, ol));
    for _ in 0..1000 {
        let b = rng.below(psize - len + 1);
        if fits(b) {
            return Some(b);
        }
    }
    (0..=psize - len).find(|&b| fits(b))
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        let (asize, psize) = (self.asize, self.psize);
        if asize < 2 {
            return Err(format!(
                "-a {asize}: two segments need an address space of at least 2 bytes"
            ));
        }
        tc::check_sizes(asize, psize)?;
        tc::check_num(self.num)?;
        let mut rng = Rng::new(seed);
        let half = asize.div_ceil(2);
        let mut lim = |given: Option<u64>, flag: &str| -> Result<u64, String> {
            match given {
                Some(l) if l * 2 > asize => Err(format!(
                    "{flag} {l}: a segment's limit may be at most half the address space ({})",
                    asize / 2
                )),
                Some(l) => Ok(l),
                None => Ok((asize + rng.below(asize)) / 4),
            }
        };
        let len0 = lim(self.limit0, "-l")?;
        let len1 = lim(self.limit1, "-L")?;
        // Segment 1 as a range: [low1, low1 + len1), with base 1 = low1 + len1.
        let low1_given = match self.base1 {
            Some(b) if b < len1 => {
                return Err(format!(
                    "-B {b}: segment 1 grows down from its base, so the base must be at least its limit ({len1})"
                ))
            }
            Some(b) if b > psize => {
                return Err(format!(
                    "-B {b}: segment 1's base lies beyond physical memory ({psize} bytes)"
                ))
            }
            Some(b) => Some(b - len1),
            None => None,
        };
        let no_room = |which: u8| {
            format!(
                "no room for segment {which} in physical memory ({psize} bytes) beside the other; \
                 give -b/-B or a larger -p"
            )
        };
        let base0 = match self.base0 {
            Some(b) => {
                if b.checked_add(len0).is_none_or(|e| e > psize) {
                    return Err(format!(
                        "-b {b}: segment 0 ({b} + limit {len0}) runs past the end of physical memory ({psize} bytes)"
                    ));
                }
                b
            }
            None => place(&mut rng, psize, len0, low1_given.map(|l| (l, len1)))
                .ok_or_else(|| no_room(0))?,
        };
        let low1 = match low1_given {
            Some(l) => l,
            None => place(&mut rng, psize, len1, Some((base0, len0))).ok_or_else(|| no_room(1))?,
        };
        if overlap(base0, len0, low1, len1) {
            return Err(format!(
                "the segments overlap in physical memory: segment 0 is {base0} .. {}, segment 1 is {low1} .. {}",
                base0 + len0 - 1,
                low1 + len1 - 1
            ));
        }
        let base1 = low1 + len1;
        let vas = tc::addresses(self.addresses.as_deref(), self.num, asize, &mut rng)?;
        let items: Vec<Item> = vas
            .iter()
            .map(|&va| {
                if va < half {
                    Item {
                        va,
                        seg: 0,
                        pa: (va < len0).then_some(base0 + va),
                    }
                } else {
                    Item {
                        va,
                        seg: 1,
                        pa: (asize - va <= len1).then(|| base1 - (asize - va)),
                    }
                }
            })
            .collect();

        let mut p = String::new();
        let _ = writeln!(p, "ARG seed {seed}");
        let _ = writeln!(p, "ARG address space size {}", size(asize));
        let _ = writeln!(p, "ARG phys mem size {}", size(psize));
        p.push_str("\nSegment register information:\n\n");
        let _ = writeln!(
            p,
            "  Segment 0 base  (grows positive) : {base0:#010x} (decimal {base0})"
        );
        let _ = writeln!(p, "  Segment 0 limit                  : {len0}\n");
        let _ = writeln!(
            p,
            "  Segment 1 base  (grows negative) : {base1:#010x} (decimal {base1})"
        );
        let _ = writeln!(p, "  Segment 1 limit                  : {len1}\n");
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
             that it is a segmentation violation. There are two segments: an address in the\n",
        );
        let _ = writeln!(
            p,
            "lower half of the address space (VA < {half}) is in segment 0, which grows up; one in\n\
             the upper half (VA >= {half}) is in segment 1, which grows down from its base."
        );

        let mut a = String::new();
        for (i, it) in items.iter().enumerate() {
            let head = format!("  VA {i:2}: {:#010x} (decimal: {:4}) --> ", it.va, it.va);
            let seg = it.seg;
            match it.pa {
                Some(pa) => {
                    let _ = writeln!(a, "{head}VALID in SEG{seg}: {pa:#010x} (decimal: {pa:4})");
                }
                None => {
                    let _ = writeln!(a, "{head}SEGMENTATION VIOLATION (SEG{seg})");
                }
            }
            if seg == 0 {
                let _ = writeln!(
                    a,
                    "         {} < {half}: segment 0, offset {}; {}",
                    it.va,
                    it.va,
                    match it.pa {
                        Some(pa) => format!(
                            "{} < limit {len0}: PA = base 0 + offset = {base0} + {} = {pa}",
                            it.va, it.va
                        ),
                        None => format!("{} >= limit {len0}: out of bounds", it.va),
                    }
                );
            } else {
                let neg = asize - it.va;
                let _ = writeln!(
                    a,
                    "         {} >= {half}: segment 1, negative offset = VA - asize = {} - {asize} = -{neg}; {}",
                    it.va,
                    it.va,
                    match it.pa {
                        Some(pa) => format!(
                            "-{neg} >= -{len1} (minus limit 1): PA = base 1 - {neg} = {base1} - {neg} = {pa}"
                        ),
                        None => format!("-{neg} < -{len1} (minus limit 1): out of bounds"),
                    }
                );
            }
        }

        let mut sc = tc::comment(&format!(
            "vmlab quiz segmentation --seed {seed} -a {asize} -p {psize} -b {base0} -l {len0} -B {base1} -L {len1}\n\
             (OSTEP's segmentation.py: two segments)\n\
             \n\
             An address space of {asize} bytes, split at its middle {half}:\n\
             \x20 VA < {half}:  segment 0, grows up: offset = VA, valid while VA < limit 0,\n\
             \x20             PA = base 0 + VA\n\
             \x20 VA >= {half}: segment 1, grows down: negative offset = VA - {asize}, valid while\n\
             \x20             it is at least -limit 1, PA = base 1 + (VA - {asize})\n\
             {}\n\
             Each address of `trace` is graded by its answer in `trace_expect`: the physical\n\
             address, or \"fault:segment@0\" / \"fault:segment@1\" for a segmentation violation\n\
             (SEG0 / SEG1). Run `vmlab translate` on this file to see each step.",
            if asize.is_power_of_two() && asize > 2 {
                "The size is a power of two, so the top address bit selects the segment."
            } else {
                "The size is not a power of two: the MMU's segment unit splits it in halves."
            }
        ));
        sc.push('\n');
        let _ = writeln!(
            sc,
            "title = \"vmlab quiz segmentation --seed {seed}: {asize}-byte address space\""
        );
        sc.push_str("mode = \"segments\"\n");
        let vas: Vec<String> = items.iter().map(|i| i.va.to_string()).collect();
        let ans: Vec<String> = items
            .iter()
            .map(|i| match i.pa {
                Some(pa) => pa.to_string(),
                None => format!("\"fault:segment@{}\"", i.seg),
            })
            .collect();
        let _ = writeln!(sc, "trace = {}", toml_list(&vas));
        let _ = writeln!(sc, "trace_expect = {}", toml_list(&ans));
        let _ = writeln!(
            sc,
            "\n[segments]\naddress_space = {asize}\n\n\
             [[segments.register]]\nname = \"seg0\"\nbase = {base0}\nlimit = {len0}\n\n\
             [[segments.register]]\nname = \"seg1\"\nbase = {base1}            # just above the segment\n\
             limit = {len1}\ngrows_down = true\n\n[memory]\nsize = {psize}"
        );

        let answers: Vec<_> = items
            .iter()
            .map(|i| {
                let offset: i64 = if i.seg == 0 {
                    i.va as i64
                } else {
                    i.va as i64 - asize as i64
                };
                json!({"va": i.va, "segment": i.seg, "offset": offset,
                       "valid": i.pa.is_some(), "pa": i.pa})
            })
            .collect();
        let json = json!({
            "kind": "segmentation",
            "seed": seed,
            "knobs": {"asize": asize, "psize": psize, "num": self.num},
            "problem": {"base0": base0, "limit0": len0, "base1": base1, "limit1": len1,
                        "addresses": vas.iter().map(|v| v.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>()},
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
        assert!(e(&["-a", "1"]).contains("at least 2 bytes"));
        assert!(e(&["-a", "16k", "-p", "8k"]).contains("smaller than physical memory"));
        assert!(e(&["-l", "513"]).contains("at most half the address space (512)"));
        assert!(e(&["-B", "10", "-L", "20"]).contains("at least its limit"));
        assert!(e(&["-b", "100", "-l", "100", "-B", "150", "-L", "100"]).contains("overlap"));
        assert!(e(&["-b", "16380", "-l", "10"]).contains("runs past the end"));
        assert!(e(&["-A", "1024"]).contains("outside the address space"));
        assert!(e(&["-n", "1001"]).contains("at most 1000"));
    }

    #[test]
    fn the_readme_example() {
        // segmentation.py -a 128 -p 512 -b 0 -l 20 -B 512 -L 20: VA 108 -> 492 (stack),
        // 97 -> violation in SEG1, 53 -> violation in SEG0.
        let q = gen(&[
            "-a", "128", "-p", "512", "-b", "0", "-l", "20", "-B", "512", "-L", "20",
        ])
        .unwrap();
        let q2 = gen(&[
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
            "-A",
            "108,97,53,33,19",
        ])
        .unwrap();
        assert!(q.answer.contains("VALID in SEG") || q.answer.contains("VIOLATION"));
        let a: Vec<_> = q2.json["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["segment"].as_u64().unwrap(), a["pa"].as_u64()))
            .collect();
        assert_eq!(
            a,
            [
                (1, Some(492)),
                (1, None),
                (0, None),
                (0, None),
                (0, Some(19))
            ]
        );
        // An odd address space: 5 bytes, VA 2 is segment 0, VA 3 segment 1.
        let q = gen(&[
            "-a", "5", "-p", "64", "-b", "10", "-l", "2", "-B", "40", "-L", "2", "-A", "2,3,4",
        ])
        .unwrap();
        let a: Vec<_> = q.json["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["segment"].as_u64().unwrap(),
                    a["offset"].as_i64().unwrap(),
                    a["pa"].as_u64(),
                )
            })
            .collect();
        assert_eq!(a, [(0, 2, None), (1, -2, Some(38)), (1, -1, Some(39))]);
    }
}
