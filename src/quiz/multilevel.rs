//! `vmlab quiz multilevel`: a multi-level page table to walk by hand.
//!
//! The default format is OSTEP's `paging-multilevel-translate.py` problem: 128 physical pages
//! of 32 bytes, 15-bit virtual addresses (5-bit page-directory index, 5-bit page-table index,
//! 5-bit offset), one-byte PDEs and PTEs (valid bit 7, a 7-bit PFN), unused entries 0x7f, a
//! PDBR and a memory dump. `--format sv39` gives a three-level RISC-V Sv39 table in a small
//! memory instead, with megapages, invalid entries and permission faults, answered level by
//! level. The answers are computed here by the textbook walk, not by the model; the scenario
//! (`--scenario`) lets the model grade every one.

use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The page-table formats of the quiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuizFormat {
    /// OSTEP's two-level table with 32-byte pages and one-byte entries.
    Ostep,
    /// RISC-V Sv39: three levels of 512 eight-byte entries, 4 KiB pages, 2 MiB megapages.
    Sv39,
}

/// The options of `vmlab quiz multilevel`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  vmlab quiz multilevel --seed 1
  vmlab quiz multilevel --seed 2 -c
  vmlab quiz multilevel --seed 3 -a 32 -n 5 --json
  vmlab quiz multilevel --seed 4 --scenario ml.toml
  vmlab translate ml.toml
  vmlab quiz multilevel --format sv39 --seed 5 --pages 6 -n 8 -c
  vmlab quiz multilevel --format sv39 --seed 6 --scenario sv.toml
  vmlab translate sv.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// The page-table format: OSTEP's two-level one, or RISC-V Sv39.
    #[arg(long, value_enum, default_value = "ostep")]
    pub format: QuizFormat,
    /// OSTEP format: the number of virtual pages mapped (OSTEP's -a), 1 to 95.
    #[arg(short = 'a', long = "allocated", default_value = "64", value_parser = crate::num::parse_num)]
    pub allocated: u64,
    /// Sv39 format: the number of mapped pages (some of them 2 MiB megapages), 1 to 32.
    #[arg(long, default_value = "4", value_parser = crate::num::parse_num)]
    pub pages: u64,
    /// The number of virtual addresses to translate (OSTEP's -n).
    #[arg(short = 'n', long = "addresses", default_value = "10", value_parser = crate::num::parse_num)]
    pub addresses: u64,
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        if self.addresses == 0 || self.addresses > 100 {
            return Err(format!("-n {}: give 1 to 100 addresses", self.addresses));
        }
        match self.format {
            QuizFormat::Ostep => {
                if self.allocated == 0 || self.allocated > 95 {
                    return Err(format!(
                        "-a {}: give 1 to 95 pages (128 physical pages hold the page directory, up to 32 page-table pages and the data pages)",
                        self.allocated
                    ));
                }
                Ok(ostep(self, seed))
            }
            QuizFormat::Sv39 => {
                if self.pages == 0 || self.pages > 32 {
                    return Err(format!("--pages {}: give 1 to 32 mapped pages", self.pages));
                }
                Ok(sv39(self, seed))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// OSTEP's two-level format

const PAGE: usize = 32;
const PHYS_PAGES: usize = 128;
const INVALID: u8 = 0x7f;

/// One address's walk in the OSTEP format.
enum OstepAnswer {
    PdeInvalid {
        pde_index: u64,
        pde: u8,
    },
    PteInvalid {
        pde_index: u64,
        pde: u8,
        pte_index: u64,
        pte: u8,
    },
    Ok {
        pde_index: u64,
        pde: u8,
        pte_index: u64,
        pte: u8,
        pa: u64,
        value: u8,
    },
}

fn ostep(args: &Args, seed: u64) -> Quiz {
    let mut rng = Rng::new(seed);
    let mut mem = vec![0u8; PAGE * PHYS_PAGES];
    let mut free: Vec<usize> = (0..PHYS_PAGES).collect();
    rng.shuffle(&mut free);
    let mut take = || free.pop().unwrap_or(0);
    let pdbr = take();
    mem[pdbr * PAGE..(pdbr + 1) * PAGE].fill(INVALID);
    let mut vpns: Vec<u64> = (0..1024).collect();
    rng.shuffle(&mut vpns);
    let mapped: Vec<u64> = vpns[..args.allocated as usize].to_vec();
    for &vpn in &mapped {
        let (pdi, pti) = ((vpn >> 5) as usize, (vpn & 31) as usize);
        let pde = mem[pdbr * PAGE + pdi];
        let pt = if pde & 0x80 != 0 {
            (pde & 0x7f) as usize
        } else {
            let pt = take();
            mem[pt * PAGE..(pt + 1) * PAGE].fill(INVALID);
            mem[pdbr * PAGE + pdi] = 0x80 | pt as u8;
            pt
        };
        let data = take();
        for b in &mut mem[data * PAGE..(data + 1) * PAGE] {
            *b = rng.below(31) as u8;
        }
        mem[pt * PAGE + pti] = 0x80 | data as u8;
    }
    // The addresses: about half in mapped pages, the rest anywhere.
    let mut vas = Vec::new();
    for _ in 0..args.addresses {
        let va = if rng.chance(0.5) {
            let vpn = *rng.pick(&mapped).unwrap_or(&0);
            (vpn << 5) | rng.below(32)
        } else {
            rng.below(1 << 15)
        };
        vas.push(va);
    }
    let answers: Vec<OstepAnswer> = vas
        .iter()
        .map(|&va| {
            let pde_index = va >> 10;
            let pde = mem[pdbr * PAGE + pde_index as usize];
            if pde & 0x80 == 0 {
                return OstepAnswer::PdeInvalid { pde_index, pde };
            }
            let pte_index = (va >> 5) & 31;
            let pte = mem[(pde & 0x7f) as usize * PAGE + pte_index as usize];
            if pte & 0x80 == 0 {
                return OstepAnswer::PteInvalid {
                    pde_index,
                    pde,
                    pte_index,
                    pte,
                };
            }
            let pa = ((pte & 0x7f) as u64) << 5 | (va & 31);
            OstepAnswer::Ok {
                pde_index,
                pde,
                pte_index,
                pte,
                pa,
                value: mem[pa as usize],
            }
        })
        .collect();

    let mut dump = String::new();
    for page in 0..PHYS_PAGES {
        let bytes: Vec<String> = mem[page * PAGE..(page + 1) * PAGE]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let _ = writeln!(dump, "page {page:3}: {}", bytes.join(" "));
    }

    let mut p = String::new();
    let _ = writeln!(
        p,
        "A two-level page table (OSTEP's paging-multilevel-translate): 32-byte pages, 128 physical pages,\n\
         15-bit virtual addresses = PDE index (5 bits) | PTE index (5 bits) | offset (5 bits).\n\
         A PDE or PTE is one byte: VALID (bit 7) | PFN (7 bits). Unused entries are 0x7f (not valid).\n"
    );
    let _ = writeln!(
        p,
        "PDBR: {pdbr}  (decimal) [This means the page directory is held in this page]\n"
    );
    p.push_str(&dump);
    p.push('\n');
    for va in &vas {
        let _ = writeln!(
            p,
            "Virtual Address {va:04x}: Translates To What Physical Address (And Fetches what Value)? Or Fault?"
        );
    }

    let pde_line = |a: &mut String, i: u64, pde: u8| {
        let _ = writeln!(
            a,
            "  --> pde index:{i:#x} [decimal {i}] pde contents:{pde:#x} (valid {}, pfn {:#04x} [decimal {}])",
            pde >> 7,
            pde & 0x7f,
            pde & 0x7f
        );
    };
    let pte_line = |a: &mut String, i: u64, pte: u8| {
        let _ = writeln!(
            a,
            "    --> pte index:{i:#x} [decimal {i}] pte contents:{pte:#x} (valid {}, pfn {:#04x} [decimal {}])",
            pte >> 7,
            pte & 0x7f,
            pte & 0x7f
        );
    };
    let mut a = String::new();
    let mut expects = Vec::new();
    let mut janswers = Vec::new();
    for (va, ans) in vas.iter().zip(&answers) {
        let _ = writeln!(a, "Virtual Address {va:04x}:");
        match *ans {
            OstepAnswer::PdeInvalid { pde_index, pde } => {
                pde_line(&mut a, pde_index, pde);
                let _ = writeln!(a, "      --> Fault (page directory entry not valid)");
                expects.push("\"fault:pde\"".to_string());
                janswers.push(json!({ "va": va, "pde_index": pde_index, "pde": pde, "fault": "page directory entry not valid" }));
            }
            OstepAnswer::PteInvalid {
                pde_index,
                pde,
                pte_index,
                pte,
            } => {
                pde_line(&mut a, pde_index, pde);
                pte_line(&mut a, pte_index, pte);
                let _ = writeln!(a, "      --> Fault (page table entry not valid)");
                expects.push("\"fault:pte\"".to_string());
                janswers.push(json!({ "va": va, "pde_index": pde_index, "pde": pde, "pte_index": pte_index, "pte": pte, "fault": "page table entry not valid" }));
            }
            OstepAnswer::Ok {
                pde_index,
                pde,
                pte_index,
                pte,
                pa,
                value,
            } => {
                pde_line(&mut a, pde_index, pde);
                pte_line(&mut a, pte_index, pte);
                let _ = writeln!(
                    a,
                    "      --> Translates to Physical Address {pa:#05x} --> Value: {value:02x}"
                );
                expects.push(format!("{{ pa = {pa:#x}, value = {value:#04x} }}"));
                janswers.push(json!({ "va": va, "pde_index": pde_index, "pde": pde, "pte_index": pte_index, "pte": pte, "pa": pa, "value": value }));
            }
        }
    }

    let mut t = String::new();
    let _ = writeln!(
        t,
        "# vmlab quiz multilevel --seed {seed} -a {} -n {}: OSTEP's paging-multilevel-translate.py problem.\n\
         #\n\
         # 15-bit VA = PDE index (5) | PTE index (5) | offset (5); one-byte entries VALID (bit 7) |\n\
         # PFN (7 bits); the PDBR is the page number of the page directory. `trace` lists the\n\
         # addresses and `trace_expect` the answers (PA and the value there, or `fault:pde` /\n\
         # `fault:pte` for OSTEP's \"page directory/table entry not valid\"). The homework has no\n\
         # TLB, so neither has this machine (tlb = \"none\"): every address walks both levels.\n\
         # Run `vmlab translate` on this file to grade the answers.\n",
        args.allocated, args.addresses
    );
    let _ = writeln!(
        t,
        "title = \"vmlab quiz multilevel, seed {seed}: PDBR {pdbr}\"\nmode = \"paged\"\ntlb = \"none\""
    );
    let vas_s: Vec<String> = vas.iter().map(|v| format!("{v:#06x}")).collect();
    let _ = writeln!(t, "trace = [{}]", vas_s.join(", "));
    let _ = writeln!(t, "trace_expect = [");
    for (va, e) in vas.iter().zip(&expects) {
        let _ = writeln!(
            t,
            "  {e},{}# {va:#06x}",
            " ".repeat(34usize.saturating_sub(e.len()))
        );
    }
    let _ = writeln!(t, "]\n");
    let _ = writeln!(
        t,
        "[paging]\nformat = \"ostep-2level\"\npdbr = {pdbr}\n\n[memory]\nsize = \"4k\"                # 128 pages of 32 bytes\nostep_dump = \"\"\"\n{dump}\"\"\""
    );

    let json = json!({
        "kind": "multilevel",
        "format": "ostep",
        "seed": seed,
        "pdbr": pdbr,
        // One string per physical page, its 32 bytes as hex pairs (as the dump prints them).
        "memory": mem.chunks(PAGE).map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>(),
        "addresses": vas,
        "answers": janswers,
    });
    Quiz {
        problem: p,
        answer: a,
        scenario: Some(t),
        json,
    }
}

// ---------------------------------------------------------------------------------------
// Sv39

const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;
const A: u64 = 64;
const D: u64 = 128;

/// The Sv39 problem's physical layout: the root table, then the other tables, then the data
/// frames; megapages at 2 MiB boundaries above them.
const TABLE_BASE: u64 = 0x8000_0000;
const DATA_BASE: u64 = 0x8010_0000;
const MEGA_BASE: u64 = 0x8040_0000;

/// The kind of an Sv39 access.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Load,
    Store,
    Fetch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Load => "load",
            Kind::Store => "store",
            Kind::Fetch => "fetch",
        }
    }
}

fn perm_name(pte: u64) -> String {
    let f = |b: u64, c: char| if pte & b != 0 { c } else { '-' };
    format!("{}{}{}", f(R, 'r'), f(W, 'w'), f(X, 'x'))
}

fn sv39(args: &Args, seed: u64) -> Quiz {
    let mut rng = Rng::new(seed);
    // Tables as (physical address -> 512 entries), the root first.
    let mut tables: Vec<(u64, Vec<u64>)> = vec![(TABLE_BASE, vec![0; 512])];
    let mut data_frames: Vec<u64> = (0..256).map(|i| DATA_BASE + i * 0x1000).collect();
    rng.shuffle(&mut data_frames);
    let mut megas: Vec<u64> = (0..8).map(|i| MEGA_BASE + i * 0x20_0000).collect();
    rng.shuffle(&mut megas);
    let perms = [R, R | W, R | X, R | W | X, X];
    // Where to map: VPN[2] in 0..2, VPN[1] in 0..4, so the tables share levels.
    let mut mapped: Vec<(u64, u8)> = Vec::new(); // (page-aligned VA, leaf level)
    let table_of = |tables: &mut Vec<(u64, Vec<u64>)>, t: usize, idx: usize| -> Option<usize> {
        let pte = tables[t].1[idx];
        if pte & V != 0 {
            if pte & (R | W | X) != 0 {
                return None; // a leaf is already there
            }
            let pa = (pte >> 10) << 12;
            return tables.iter().position(|(a, _)| *a == pa);
        }
        let pa = TABLE_BASE + tables.len() as u64 * 0x1000;
        tables.push((pa, vec![0; 512]));
        tables[t].1[idx] = ((pa >> 12) << 10) | V;
        Some(tables.len() - 1)
    };
    let mut tries = 0;
    while (mapped.len() as u64) < args.pages && tries < 1000 {
        tries += 1;
        let (i2, i1, i0) = (rng.below(2), rng.below(4), rng.below(512));
        let mega = rng.chance(0.2) && !megas.is_empty();
        let Some(l1) = table_of(&mut tables, 0, i2 as usize) else {
            continue;
        };
        let perm = *rng.pick(&perms).unwrap_or(&R);
        if mega {
            if tables[l1].1[i1 as usize] & V != 0 {
                continue;
            }
            let pa = megas.pop().unwrap_or(MEGA_BASE);
            tables[l1].1[i1 as usize] = ((pa >> 12) << 10) | perm | U | A | D | V;
            mapped.push(((i2 << 30) | (i1 << 21), 1));
        } else {
            let Some(l0) = table_of(&mut tables, l1, i1 as usize) else {
                continue;
            };
            if tables[l0].1[i0 as usize] & V != 0 {
                continue;
            }
            let pa = data_frames.pop().unwrap_or(DATA_BASE);
            tables[l0].1[i0 as usize] = ((pa >> 12) << 10) | perm | U | A | D | V;
            mapped.push(((i2 << 30) | (i1 << 21) | (i0 << 12), 0));
        }
    }
    // The accesses: mostly in mapped pages (with a random kind, so some break a
    // permission), the rest near them but unmapped.
    let mut accesses: Vec<(u64, Kind)> = Vec::new();
    for _ in 0..args.addresses {
        let kind = match rng.below(4) {
            0 => Kind::Store,
            1 => Kind::Fetch,
            _ => Kind::Load,
        };
        let va = if rng.chance(0.7) && !mapped.is_empty() {
            let (base, level) = *rng.pick(&mapped).unwrap_or(&(0, 0));
            let span = if level == 1 { 0x20_0000 } else { 0x1000 };
            base | (rng.below(span) & !3)
        } else {
            (rng.below(2) << 30)
                | (rng.below(8) << 21)
                | (rng.below(512) << 12)
                | (rng.below(0x1000) & !3)
        };
        accesses.push((va, kind));
    }
    let read = |pa: u64| -> u64 {
        let t = pa & !0xfff;
        tables
            .iter()
            .find(|(a, _)| *a == t)
            .map_or(0, |(_, e)| e[((pa & 0xfff) / 8) as usize])
    };

    let mut p = String::new();
    let _ = writeln!(
        p,
        "An Sv39 page table (RISC-V): 39-bit VA = VPN[2] (9 bits) | VPN[1] (9) | VPN[0] (9) | offset (12).\n\
         satp points to the root table at {TABLE_BASE:#x}; each PTE is 8 bytes, PPN in bits 53..10, flags\n\
         D A G U X W R V in bits 7..0. A PTE with R, W or X set is a leaf (at level 1 it maps a 2 MiB\n\
         megapage); one with only V points to the next table at PPN x 4096; V clear is invalid.\n\
         Every access is from U-mode and every mapped page has U, A and D set.\n"
    );
    let _ = writeln!(p, "Non-zero PTEs in memory:");
    for (base, entries) in &tables {
        for (i, &e) in entries.iter().enumerate() {
            if e != 0 {
                let _ = writeln!(p, "  {:#x}: {e:#018x}", base + i as u64 * 8);
            }
        }
    }
    let _ = writeln!(p, "\nAccesses (what physical address, or which fault?):");
    for (i, (va, kind)) in accesses.iter().enumerate() {
        let _ = writeln!(p, "  [{:2}] {:5} VA {va:#x}", i + 1, kind.name());
    }

    let mut a = String::new();
    let mut expects = Vec::new();
    let mut janswers = Vec::new();
    for (i, &(va, kind)) in accesses.iter().enumerate() {
        let vpn = [(va >> 12) & 511, (va >> 21) & 511, (va >> 30) & 511];
        let _ = writeln!(
            a,
            "  [{:2}] {} VA {va:#x}: VPN[2] = {}, VPN[1] = {}, VPN[0] = {}, offset {:#x}",
            i + 1,
            kind.name(),
            vpn[2],
            vpn[1],
            vpn[0],
            va & 0xfff
        );
        let mut table = TABLE_BASE;
        let mut levels = Vec::new();
        let mut result = None;
        for level in (0..3u8).rev() {
            let addr = table + vpn[level as usize] * 8;
            let pte = read(addr);
            levels.push(json!({ "level": level, "pte_addr": addr, "pte": pte }));
            let head = format!(
                "       level {level}: PTE at {table:#x} + {} x 8 = {addr:#x}: {pte:#018x}",
                vpn[level as usize]
            );
            if pte & V == 0 {
                let _ = writeln!(a, "{head}, not valid");
                let _ = writeln!(a, "       => page fault (invalid PTE at level {level})");
                result = Some((
                    format!("\"fault:invalid@{level}\""),
                    json!({ "fault": "invalid", "level": level }),
                ));
                break;
            }
            if pte & (R | W | X) == 0 {
                let next = (pte >> 10) << 12;
                let _ = writeln!(a, "{head}, a pointer to the table at {next:#x}");
                table = next;
                continue;
            }
            let page_bits = 12 + 9 * level as u32;
            let _ = writeln!(
                a,
                "{head}, a leaf ({}) mapping a {} page",
                perm_name(pte),
                if level == 1 { "2 MiB" } else { "4 KiB" }
            );
            let allowed = match kind {
                Kind::Load => pte & R != 0,
                Kind::Store => pte & W != 0,
                Kind::Fetch => pte & X != 0,
            };
            if !allowed {
                let reason = match kind {
                    Kind::Load => "not_readable",
                    Kind::Store => "not_writable",
                    Kind::Fetch => "not_executable",
                };
                let _ = writeln!(
                    a,
                    "       => page fault: a {} needs {} ({reason})",
                    kind.name(),
                    match kind {
                        Kind::Load => "R",
                        Kind::Store => "W",
                        Kind::Fetch => "X",
                    }
                );
                result = Some((
                    format!("\"fault:page.{reason}\""),
                    json!({ "fault": format!("page.{reason}"), "level": level }),
                ));
                break;
            }
            let pa = ((pte >> 10) << 12) | (va & ((1u64 << page_bits) - 1));
            let _ = writeln!(
                a,
                "       => PA = {:#x} | offset {:#x} = {pa:#x}",
                (pte >> 10) << 12,
                va & ((1u64 << page_bits) - 1)
            );
            result = Some((format!("\"{pa:#x}\""), json!({ "pa": pa, "level": level })));
            break;
        }
        let (e, j) = result.unwrap_or_else(|| ("\"fault\"".into(), json!({ "fault": "?" })));
        expects.push(e);
        janswers.push(json!({ "va": va, "kind": kind.name(), "levels": levels, "result": j }));
    }

    let mut t = String::new();
    let _ = writeln!(
        t,
        "# vmlab quiz multilevel --format sv39 --seed {seed} --pages {} -n {}: an Sv39 walk by hand.\n\
         #\n\
         # satp's root table is at {TABLE_BASE:#x}; the [[write]] entries below are the page tables\n\
         # (u64 PTEs). Each [[access]] has the answer as its expect: the physical address, or\n\
         # the fault (`fault:invalid@N`: an invalid PTE at level N; `fault:page.not_writable`,\n\
         # ...: a permission). The machine has no TLB, so every access walks from the root.\n\
         # Run `vmlab translate` on this file to grade the answers.\n",
        args.pages, args.addresses
    );
    let _ = writeln!(
        t,
        "title = \"vmlab quiz multilevel --format sv39, seed {seed}\"\nmode = \"paged\"\ntlb = \"none\"\n"
    );
    let _ = writeln!(
        t,
        "[paging]\nformat = \"sv39\"\nroot = \"{TABLE_BASE:#x}\"\n\n[context]\npriv = \"u\"\n"
    );
    for (base, entries) in &tables {
        for (i, &e) in entries.iter().enumerate() {
            if e != 0 {
                let _ = writeln!(
                    t,
                    "[[write]]\nat = \"{:#x}\"\nu64 = [\"{e:#x}\"]\n",
                    base + i as u64 * 8
                );
            }
        }
    }
    for (i, ((va, kind), e)) in accesses.iter().zip(&expects).enumerate() {
        let _ = writeln!(
            t,
            "[[access]]            # [{}]\nva = \"{va:#x}\"\nkind = \"{}\"\nsize = 4\nexpect = {e}\n",
            i + 1,
            kind.name()
        );
    }

    let json = json!({
        "kind": "multilevel",
        "format": "sv39",
        "seed": seed,
        "root": TABLE_BASE,
        "ptes": tables.iter().flat_map(|(base, e)| e.iter().enumerate().filter(|(_, v)| **v != 0).map(move |(i, v)| json!({ "addr": base + i as u64 * 8, "pte": v }))).collect::<Vec<_>>(),
        "accesses": accesses.iter().map(|(va, k)| json!({ "va": va, "kind": k.name() })).collect::<Vec<_>>(),
        "answers": janswers,
    });
    Quiz {
        problem: p,
        answer: a,
        scenario: Some(t),
        json,
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
        check("-a 0", "give 1 to 95 pages");
        check("-a 96", "give 1 to 95 pages");
        check("-n 0", "give 1 to 100 addresses");
        check("--format sv39 --pages 0", "give 1 to 32 mapped pages");
    }

    #[test]
    fn ostep_problem_has_the_homework_shape() {
        let q = args("").generate(0).unwrap();
        assert!(q.problem.contains("PDBR: "), "{}", q.problem);
        assert_eq!(q.problem.matches("\npage ").count(), 128);
        assert_eq!(q.problem.matches("Virtual Address ").count(), 10);
        assert_eq!(q.answer.matches("Virtual Address ").count(), 10);
    }
}
