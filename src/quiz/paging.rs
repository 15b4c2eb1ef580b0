//! `vmlab quiz paging`: a linear page table, after OSTEP's `paging-linear-translate.py`.
//!
//! The problem prints a page table, one 32-bit entry per virtual page (bit 31 VALID, the
//! other bits the PFN), and a list of virtual addresses. Each address splits into
//! `VPN = VA / page size` and an offset; if the VPN's entry is valid, `PA = PFN * page size +
//! offset`, otherwise the address is invalid. Knobs: `-a` (address space, 16k), `-p`
//! (physical memory, 64k), `-P` (page size, 4k), `-n` (5), `-u` (percent of the virtual
//! pages that are mapped, 50), `-A` (the addresses). Each page is mapped with probability
//! `-u` percent, to a distinct random frame.

use super::translate_common::{self as tc, hex, size, toml_list};
use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The most entries a page table may have (`-a` / `-P`), so that it prints on a screen or two.
pub const MAX_ENTRIES: u64 = 4096;

/// The options of `vmlab quiz paging`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz paging --seed 1\n  \
vmlab quiz paging --seed 2 --answers\n  \
vmlab quiz paging -a 32k -P 1k -p 512k -u 75 -n 8 -c\n  \
vmlab quiz paging -A 0x3229,0x1369 -c\n  \
vmlab quiz paging --seed 3 --scenario paging.toml\n  \
vmlab translate paging.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// The size of the virtual address space in bytes (a power of two).
    #[arg(short = 'a', long, default_value = "16k", value_parser = crate::num::parse_num)]
    pub asize: u64,
    /// The size of physical memory in bytes (a multiple of the page size, larger than the
    /// address space).
    #[arg(short = 'p', long = "physmem", default_value = "64k", value_parser = crate::num::parse_num)]
    pub psize: u64,
    /// The page size in bytes (a power of two).
    #[arg(short = 'P', long = "pagesize", default_value = "4k", value_parser = crate::num::parse_num)]
    pub pagesize: u64,
    /// How many random virtual addresses to translate (at most 1000; ignored with -A).
    #[arg(short = 'n', long = "num", default_value = "5", value_parser = crate::num::parse_num)]
    pub num: u64,
    /// The percentage of virtual pages that are mapped (0 to 100).
    #[arg(short = 'u', long = "used", default_value = "50", value_parser = crate::num::parse_num)]
    pub used: u64,
    /// The virtual addresses, comma-separated (e.g. 0x3229,4969); -1 or none: -n random ones.
    #[arg(short = 'A', long, allow_hyphen_values = true)]
    pub addresses: Option<String>,
}

/// One address and its answer.
struct Item {
    va: u64,
    vpn: u64,
    offset: u64,
    pte: u32,
    pa: Option<u64>,
}

impl Args {
    fn check(&self) -> Result<(), String> {
        let (a, p, pg) = (self.asize, self.psize, self.pagesize);
        tc::check_sizes(a, p)?;
        tc::check_num(self.num)?;
        if !pg.is_power_of_two() {
            return Err(format!(
                "-P {pg}: the page size must be a power of two, e.g. {}",
                pg.max(1).next_power_of_two()
            ));
        }
        if !a.is_power_of_two() {
            return Err(format!(
                "-a {a}: the address space must be a power of two (a VPN and an offset in bits), e.g. {}",
                a.next_power_of_two()
            ));
        }
        if a <= pg {
            return Err(format!(
                "-a {a} -P {pg}: the address space must hold more than one page; use a smaller -P or a larger -a"
            ));
        }
        if p % pg != 0 {
            return Err(format!(
                "-p {p}: physical memory must be a multiple of the page size ({pg}), e.g. {}",
                p.next_multiple_of(pg)
            ));
        }
        if a / pg > MAX_ENTRIES {
            return Err(format!(
                "-a {a} -P {pg}: {} pages; a page table here has at most {MAX_ENTRIES} entries (use a larger -P or a smaller -a)",
                a / pg
            ));
        }
        if self.used > 100 {
            return Err(format!(
                "-u {}: a percentage of the pages, from 0 to 100",
                self.used
            ));
        }
        Ok(())
    }
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        self.check()?;
        let (asize, psize, page) = (self.asize, self.psize, self.pagesize);
        let pbits = page.trailing_zeros();
        let vpages = asize / page;
        let frames = psize / page;
        let mut rng = Rng::new(seed);
        let mut free: Vec<u64> = (0..frames).collect();
        let table: Vec<u32> = (0..vpages)
            .map(|_| {
                if rng.below(100) < self.used {
                    let i = rng.below(free.len() as u64) as usize;
                    0x8000_0000 | free.swap_remove(i) as u32
                } else {
                    0
                }
            })
            .collect();
        let vas = tc::addresses(self.addresses.as_deref(), self.num, asize, &mut rng)?;
        let items: Vec<Item> = vas
            .iter()
            .map(|&va| {
                let vpn = va >> pbits;
                let offset = va & (page - 1);
                let pte = table[vpn as usize];
                let pa = (pte >> 31 == 1).then(|| (u64::from(pte & 0x7fff_ffff) << pbits) | offset);
                Item {
                    va,
                    vpn,
                    offset,
                    pte,
                    pa,
                }
            })
            .collect();

        let mut p = String::new();
        let _ = writeln!(p, "ARG seed {seed}");
        let _ = writeln!(p, "ARG address space size {}", size(asize));
        let _ = writeln!(p, "ARG phys mem size {}", size(psize));
        let _ = writeln!(p, "ARG page size {}", size(page));
        p.push_str(
            "\nThe format of the page table is simple: the high-order (left-most) bit is the\n\
             VALID bit. If it is 1, the rest of the entry is the PFN; if it is 0, the page is\n\
             not valid.\n\n\
             Page Table (from entry 0 down to the max size)\n",
        );
        for (v, e) in table.iter().enumerate() {
            let _ = writeln!(p, "  [{v:8}]  {e:#010x}");
        }
        p.push_str("\nVirtual Address Trace\n");
        for it in &items {
            let _ = writeln!(
                p,
                "  VA {:#010x} (decimal: {:8}) --> PA or invalid address?",
                it.va, it.va
            );
        }
        let _ = writeln!(
            p,
            "\nFor each virtual address, write down the physical address it translates to, or\n\
             that it is invalid. A page is {page} bytes, so VPN = VA >> {pbits} and the offset is\n\
             the low {pbits} bits."
        );

        let mut a = String::new();
        for it in &items {
            let head = format!("  VA {:#010x} (decimal: {:8}) --> ", it.va, it.va);
            match it.pa {
                Some(pa) => {
                    let _ = writeln!(a, "{head}{pa:08x} (decimal {pa:8}) [VPN {}]", it.vpn);
                }
                None => {
                    let _ = writeln!(a, "{head}Invalid (VPN {} not valid)", it.vpn);
                }
            }
            let _ = writeln!(
                a,
                "         VPN = {:#x} >> {pbits} = {}, offset = {:#x}; PTE [{}] = {:#010x}: {}",
                it.va,
                it.vpn,
                it.offset,
                it.vpn,
                it.pte,
                match it.pa {
                    Some(pa) => format!(
                        "valid, PFN {}; PA = {} << {pbits} | {:#x} = {pa:#x}",
                        it.pte & 0x7fff_ffff,
                        it.pte & 0x7fff_ffff,
                        it.offset
                    ),
                    None => "not valid".into(),
                }
            );
        }

        // Where `vmlab translate` will place the table: inside physical memory if there is a
        // place clear of the mapped frames, else in room added above it.
        let used: Vec<std::ops::Range<u64>> = table
            .iter()
            .filter(|e| *e >> 31 == 1)
            .map(|e| {
                let pa = u64::from(e & 0x7fff_ffff) << pbits;
                pa..pa + page
            })
            .collect();
        let table_bytes = vpages * 4;
        let memory = if crate::scenario::place_table(psize, page, table_bytes, &used).is_some() {
            psize
        } else {
            psize + table_bytes.next_multiple_of(page)
        };
        let mut sc = tc::comment(&format!(
            "vmlab quiz paging --seed {seed} -a {asize} -p {psize} -P {page} -u {}\n\
             (OSTEP's paging-linear-translate.py: a linear page table)\n\
             \n\
             A {asize}-byte address space with {page}-byte pages: VA = VPN ({} bits) | offset\n\
             ({pbits} bits). Each entry of `table` is one VPN's PTE: bit 31 VALID, the rest the PFN.\n\
             If valid, PA = PFN << {pbits} | offset. vmlab places the table itself in physical\n\
             memory (clear of every mapped page) and the report shows where.{}\n\
             \n\
             Each address of `trace` is graded by its answer in `trace_expect`: the physical\n\
             address, or \"fault:pte\" for an invalid page. Run `vmlab translate` on this file.",
            self.used,
            (vpages).trailing_zeros(),
            if memory > psize {
                format!(
                    "\nNo place in the {psize} bytes of physical memory is clear of the mapped pages,\n\
                     so this file's memory has {} bytes more to hold the table.",
                    memory - psize
                )
            } else {
                String::new()
            }
        ));
        sc.push('\n');
        let _ = writeln!(
            sc,
            "title = \"vmlab quiz paging --seed {seed}: {asize}-byte address space, {page}-byte pages\""
        );
        sc.push_str("mode = \"paged\"\n");
        let vs: Vec<String> = items.iter().map(|i| hex(i.va)).collect();
        let ans: Vec<String> = items
            .iter()
            .map(|i| match i.pa {
                Some(pa) => hex(pa),
                None => "\"fault:pte\"".into(),
            })
            .collect();
        let _ = writeln!(sc, "trace = {}", toml_list(&vs));
        let _ = writeln!(sc, "trace_expect = {}", toml_list(&ans));
        let entries: Vec<String> = table.iter().map(|e| format!("\"{e:#010x}\"")).collect();
        let _ = writeln!(
            sc,
            "\n[paging]\nformat = \"ostep-linear\"\naddress_space = {asize}\npage_size = {page}\n\
             table = {}\n\n[memory]\nsize = {memory}",
            toml_list(&entries)
        );

        let answers: Vec<_> = items
            .iter()
            .map(|i| {
                json!({"va": i.va, "vpn": i.vpn, "offset": i.offset, "pte": i.pte,
                       "valid": i.pa.is_some(), "pa": i.pa})
            })
            .collect();
        let json = json!({
            "kind": "paging",
            "seed": seed,
            "knobs": {"asize": asize, "psize": psize, "pagesize": page, "num": self.num, "used": self.used},
            "problem": {"page_table": table, "addresses": vas},
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
        assert!(e(&["-P", "3000"]).contains("power of two, e.g. 4096"));
        assert!(e(&["-a", "12k"]).contains("address space must be a power of two"));
        assert!(e(&["-a", "64k"]).contains("smaller than physical memory"));
        assert!(e(&["-a", "4k"]).contains("more than one page"));
        assert!(e(&["-p", "65000"]).contains("multiple of the page size"));
        assert!(e(&["-u", "101"]).contains("0 to 100"));
        assert!(e(&["-a", "1m", "-p", "2m", "-P", "16"]).contains("at most 4096 entries"));
        assert!(e(&["-n", "1001"]).contains("at most 1000"));
        assert!(e(&["-A", "0x4000"]).contains("outside the address space"));
    }

    #[test]
    fn frames_are_distinct_and_usage_extremes() {
        let q = gen(&["-u", "100", "-a", "32k", "-p", "36k", "-P", "1k"]).unwrap();
        let t: Vec<u64> = q.json["problem"]["page_table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_u64().unwrap())
            .collect();
        assert!(t.iter().all(|e| e >> 31 == 1));
        let mut f: Vec<u64> = t.iter().map(|e| e & 0x7fff_ffff).collect();
        f.sort();
        f.dedup();
        assert_eq!(f.len(), 32);
        let q = gen(&["-u", "0", "-n", "20"]).unwrap();
        assert!(q.answer.lines().filter(|l| l.contains("Invalid")).count() == 20);
    }
}
