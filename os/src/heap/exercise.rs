//! The paper exercise of `vmlab malloc`: operations on a [`FreeList`] and their transcript.
//!
//! An operation is `+SIZE` (allocate SIZE bytes; the k-th allocation, counting failed ones,
//! is `ptr[k]`) or `-N` (free `ptr[N]`). An [`Exercise`] runs a list of them given
//! explicitly ([`Exercise::explicit`]) or generated from a seed ([`Exercise::random`]) and
//! keeps each one's answer and the free list after it; [`Exercise::text`] prints them as
//! OSTEP's `malloc.py` does, with or without the answers.
//!
//! For an explicit list the transcript is `malloc.py -A LIST`'s, to the byte, including
//! three of its habits:
//!
//! - an allocation prints the chunk's address (where the header starts), not the pointer
//!   past the header, and `-1` when it fails;
//! - `-N` is refused ("Invalid Free: Skipping", no free list) when N is not below the number
//!   of allocations that have *succeeded* so far, even if `ptr[N]` exists (after a failed
//!   allocation); a refused free counts as no operation;
//! - `-N` of an allocation that was already freed is a free of its old address: `-1` if
//!   nothing holds that address now, `0` (freeing the new owner) if a later allocation got
//!   the same address. Where `malloc.py` stops with a Python error (`-N` of a failed
//!   allocation below that count), vmlab frees the failed pointer and prints `returned -1`.
//!
//! Random operations follow `malloc.py`'s recipe with vmlab's own generator (splitmix64
//! from the seed): each step allocates with probability `percent_alloc`% a size from 1 to
//! `range`, and otherwise frees one of the live allocations chosen uniformly (a step that
//! would free with nothing live is drawn again), until `ops` operations were made. The
//! sequence is deterministic per seed but not the one Python's `random` gives for the same
//! seed. As `malloc.py`'s random mode does, the transcript prints the pointer past the
//! header; a failure prints `-1` (where `malloc.py` prints `-1 + header`).

use super::{Chunk, FreeList, HeapConfig, HeapError};
use std::fmt::Write;

/// The most operations an exercise runs (given or generated).
pub const MAX_OPS: u64 = 100_000;

/// One operation of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `+SIZE`: allocate SIZE bytes.
    Alloc(u64),
    /// `-N`: free the N-th allocation (from 0, failed allocations counted).
    Free(u64),
}

/// Parses an operation list such as `+10,+20,-0` (spaces around an operation are allowed).
/// `+0` is refused when `header` is 0: it would ask for no bytes at all.
pub fn parse_ops(text: &str, header: u64) -> Result<Vec<Op>, HeapError> {
    if text.trim().is_empty() {
        return Err(HeapError::NoOps);
    }
    let mut ops = Vec::new();
    for (i, raw) in text.split(',').enumerate() {
        let position = i + 1;
        let op = raw.trim();
        let bad = |why| HeapError::BadOp {
            position,
            op: op.to_string(),
            why,
        };
        if op.is_empty() {
            return Err(bad("is empty"));
        }
        let (sign, digits) = op.split_at(1);
        if sign != "+" && sign != "-" {
            return Err(bad("does not start with + or -"));
        }
        if digits.is_empty() {
            return Err(bad("has no number"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("is not a sign and a decimal number"));
        }
        let n: u64 = digits.parse().map_err(|_| bad("has a number too large"))?;
        if sign == "+" {
            if n == 0 && header == 0 {
                return Err(HeapError::ZeroRequest {
                    position,
                    op: op.to_string(),
                });
            }
            ops.push(Op::Alloc(n));
        } else {
            ops.push(Op::Free(n));
        }
        if ops.len() as u64 > MAX_OPS {
            return Err(HeapError::TooManyOps(ops.len() as u64));
        }
    }
    Ok(ops)
}

/// The parameters of random operations (`malloc.py`'s `-s`, `-n`, `-r`, `-P`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generator {
    /// The seed.
    pub seed: u64,
    /// How many operations to make.
    pub ops: u64,
    /// The largest allocation size (sizes are 1 to `range`).
    pub range: u64,
    /// The percentage of operations that are allocations.
    pub percent_alloc: u64,
}

impl Default for Generator {
    /// `malloc.py`'s defaults: seed 0, 10 operations, sizes up to 10, half allocations.
    fn default() -> Generator {
        Generator {
            seed: 0,
            ops: 10,
            range: 10,
            percent_alloc: 50,
        }
    }
}

/// What one operation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// `ptr[index] = Alloc(size)`.
    Alloc {
        /// The allocation's number.
        index: u64,
        /// The bytes asked for.
        size: u64,
        /// The bytes the request takes (rounded, header included); `None` if that overflows.
        request: Option<u64>,
        /// The chunk's address, or `None` when the allocation failed.
        addr: Option<u64>,
        /// How many free-list elements the search looked at.
        searched: usize,
    },
    /// `Free(ptr[index])`.
    Free {
        /// The allocation freed.
        index: u64,
        /// The address freed (`None`: the allocation had failed).
        addr: Option<u64>,
        /// 0, or -1 when the address is not allocated.
        result: i64,
    },
    /// `-index` refused: not below the number of successful allocations so far.
    Skipped {
        /// The allocation named.
        index: u64,
    },
}

/// One operation's answer and the free list after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What the operation did.
    pub kind: StepKind,
    /// The free list after it, in list order (unchanged for a skipped free).
    pub free_list: Vec<Chunk>,
}

/// A run of the exercise: its parameters and every operation's answer.
#[derive(Clone, Debug)]
pub struct Exercise {
    /// The heap.
    pub config: HeapConfig,
    /// The random parameters (printed in the header even for an explicit list).
    pub generator: Generator,
    /// The explicit operation list as given, or `None` for random operations.
    pub ops_text: Option<String>,
    /// The operations, in order.
    pub steps: Vec<Step>,
}

impl Exercise {
    /// Runs the operations of `ops_text` (see [`parse_ops`]).
    pub fn explicit(
        config: HeapConfig,
        generator: Generator,
        ops_text: &str,
    ) -> Result<Exercise, HeapError> {
        check_percent(&generator)?;
        let mut heap = FreeList::new(config)?;
        let ops = parse_ops(ops_text, config.header)?;
        // addrs[k]: what ptr[k] holds (None for a failed allocation).
        let mut addrs: Vec<Option<u64>> = Vec::new();
        let mut succeeded = 0u64;
        let mut steps = Vec::with_capacity(ops.len());
        for op in ops {
            let kind = match op {
                Op::Alloc(size) => {
                    let r = heap.alloc(size);
                    succeeded += u64::from(r.addr.is_some());
                    addrs.push(r.addr);
                    StepKind::Alloc {
                        index: addrs.len() as u64 - 1,
                        size,
                        request: r.size,
                        addr: r.addr,
                        searched: r.searched,
                    }
                }
                Op::Free(index) if index >= succeeded => StepKind::Skipped { index },
                Op::Free(index) => {
                    // index < succeeded <= addrs.len().
                    let addr = addrs[index as usize];
                    let result = addr.map_or(-1, |a| heap.free(a).code());
                    StepKind::Free {
                        index,
                        addr,
                        result,
                    }
                }
            };
            steps.push(Step {
                kind,
                free_list: heap.chunks().to_vec(),
            });
        }
        Ok(Exercise {
            config,
            generator,
            ops_text: Some(ops_text.to_string()),
            steps,
        })
    }

    /// Makes and runs `generator.ops` random operations (see the module's description).
    pub fn random(config: HeapConfig, generator: Generator) -> Result<Exercise, HeapError> {
        check_percent(&generator)?;
        if generator.ops > MAX_OPS {
            return Err(HeapError::TooManyOps(generator.ops));
        }
        if generator.ops > 0 {
            if generator.percent_alloc == 0 {
                return Err(HeapError::PercentZero);
            }
            if generator.range == 0 {
                return Err(HeapError::RangeZero);
            }
        }
        let mut heap = FreeList::new(config)?;
        let mut rng = Rng(generator.seed);
        // The live allocations, in the order they were made: (index, address).
        let mut live: Vec<(u64, u64)> = Vec::new();
        let mut next = 0u64;
        let mut steps = Vec::new();
        while (steps.len() as u64) < generator.ops {
            let kind = if rng.below(100) < generator.percent_alloc {
                let size = rng.below(generator.range) + 1;
                let r = heap.alloc(size);
                let index = next;
                next += 1;
                if let Some(a) = r.addr {
                    live.push((index, a));
                }
                StepKind::Alloc {
                    index,
                    size,
                    request: r.size,
                    addr: r.addr,
                    searched: r.searched,
                }
            } else if live.is_empty() {
                continue;
            } else {
                let (index, addr) = live.remove(rng.below(live.len() as u64) as usize);
                StepKind::Free {
                    index,
                    addr: Some(addr),
                    result: heap.free(addr).code(),
                }
            };
            steps.push(Step {
                kind,
                free_list: heap.chunks().to_vec(),
            });
        }
        Ok(Exercise {
            config,
            generator,
            ops_text: None,
            steps,
        })
    }

    /// Whether the operations were generated from the seed.
    pub fn is_random(&self) -> bool {
        self.ops_text.is_none()
    }

    /// The pointer the transcript prints for a chunk at `addr`: the chunk's address for an
    /// explicit list, the address past the header for random operations (as `malloc.py`).
    pub fn shown_pointer(&self, addr: u64) -> u64 {
        if self.is_random() {
            addr + self.config.header
        } else {
            addr
        }
    }

    /// The transcript: the parameters, then each operation and (with `answers`) its result
    /// and the free list, or `?` placeholders for a student to fill in.
    pub fn text(&self, answers: bool) -> String {
        let c = &self.config;
        let g = &self.generator;
        let py = |b: bool| if b { "True" } else { "False" };
        let mut out = String::new();
        let _ = writeln!(out, "seed {}", g.seed);
        let _ = writeln!(out, "size {}", c.size);
        let _ = writeln!(out, "baseAddr {}", c.base);
        let _ = writeln!(out, "headerSize {}", c.header);
        match c.align {
            Some(a) => _ = writeln!(out, "alignment {a}"),
            None => _ = writeln!(out, "alignment -1"),
        }
        let _ = writeln!(out, "policy {}", c.policy);
        let _ = writeln!(out, "listOrder {}", c.order);
        let _ = writeln!(out, "coalesce {}", py(c.coalesce));
        let _ = writeln!(out, "numOps {}", g.ops);
        let _ = writeln!(out, "range {}", g.range);
        let _ = writeln!(out, "percentAlloc {}", g.percent_alloc);
        let _ = writeln!(out, "allocList {}", self.ops_text.as_deref().unwrap_or(""));
        let _ = writeln!(out, "compute {}", py(answers));
        out.push('\n');
        for step in &self.steps {
            match step.kind {
                StepKind::Skipped { .. } => {
                    out.push_str("Invalid Free: Skipping\n");
                    continue;
                }
                StepKind::Alloc {
                    index,
                    size,
                    addr,
                    searched,
                    ..
                } => {
                    let _ = write!(out, "ptr[{index}] = Alloc({size})");
                    if answers {
                        let shown =
                            addr.map_or("-1".to_string(), |a| self.shown_pointer(a).to_string());
                        let _ = writeln!(out, " returned {shown} (searched {searched} elements)");
                    } else {
                        out.push_str(" returned ?\n");
                    }
                }
                StepKind::Free { index, result, .. } => {
                    let _ = writeln!(out, "Free(ptr[{index}])");
                    if answers {
                        let _ = writeln!(out, "returned {result}");
                    } else {
                        out.push_str("returned ?\n");
                    }
                }
            }
            if answers {
                out.push_str(&free_list_text(&step.free_list));
                out.push('\n');
            } else {
                out.push_str("List?\n");
            }
            out.push('\n');
        }
        out
    }
}

/// A free list as `malloc.py` prints it: `Free List [ Size 2 ]: [ addr:1000 sz:8 ][ addr:1008 sz:92 ]`.
pub fn free_list_text(list: &[Chunk]) -> String {
    let mut s = format!("Free List [ Size {} ]: ", list.len());
    for c in list {
        let _ = write!(s, "[ addr:{} sz:{} ]", c.addr, c.size);
    }
    s
}

fn check_percent(g: &Generator) -> Result<(), HeapError> {
    if g.percent_alloc > 100 {
        return Err(HeapError::Percent(g.percent_alloc));
    }
    Ok(())
}

/// The random operations' generator: splitmix64 over the seed.
struct Rng(u64);

impl Rng {
    /// A uniform integer in `0..n` (`n > 0`), by multiply-and-reject.
    fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        let reject = n.wrapping_neg() % n;
        loop {
            let m = u128::from(crate::exec::splitmix64(&mut self.0)) * u128::from(n);
            if m as u64 >= reject {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{ListOrder, Policy};

    /// Runs `ops` on the heap `config` and compares the whole transcript (with answers) to
    /// `expected`; also checks the transcript without answers hides every answer.
    fn check(config: HeapConfig, ops: &str, expected: &str) {
        let ex = Exercise::explicit(config, Generator::default(), ops)
            .unwrap_or_else(|e| panic!("{ops}: {e}"));
        let got = ex.text(true);
        assert_eq!(got, expected, "{config:?} {ops}\n{got}");
        let hidden = ex.text(false);
        assert!(!hidden.contains("Free List"), "{hidden}");
        assert!(!hidden.contains("searched"), "{hidden}");
        assert_eq!(
            hidden.matches("returned ?").count(),
            ex.steps
                .iter()
                .filter(|s| !matches!(s.kind, StepKind::Skipped { .. }))
                .count()
        );
    }

    fn header(config: &HeapConfig, ops: &str) -> String {
        format!(
            "seed 0\nsize {}\nbaseAddr {}\nheaderSize {}\nalignment {}\npolicy {}\nlistOrder {}\n\
             coalesce {}\nnumOps 10\nrange 10\npercentAlloc 50\nallocList {ops}\ncompute True\n\n",
            config.size,
            config.base,
            config.header,
            config.align.map_or(-1, |a| a as i64),
            config.policy,
            config.order,
            if config.coalesce { "True" } else { "False" },
        )
    }

    /// Each case: the heap, the operations, and the transcript after the header; every
    /// transcript here was compared with `malloc.py -A OPS -c` and the same parameters.
    #[test]
    fn transcripts() {
        let d = HeapConfig::default();
        let cases: &[(HeapConfig, &str, &str)] = &[
            (
                d,
                "+10,+10,+10,-0,-2",
                "ptr[0] = Alloc(10) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1010 sz:90 ]\n\
                 \n\
                 ptr[1] = Alloc(10) returned 1010 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1020 sz:80 ]\n\
                 \n\
                 ptr[2] = Alloc(10) returned 1020 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1030 sz:70 ]\n\
                 \n\
                 Free(ptr[0])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1000 sz:10 ][ addr:1030 sz:70 ]\n\
                 \n\
                 Free(ptr[2])\n\
                 returned 0\n\
                 Free List [ Size 3 ]: [ addr:1000 sz:10 ][ addr:1020 sz:10 ][ addr:1030 sz:70 ]\n\
                 \n",
            ),
            (
                HeapConfig { header: 4, align: Some(8), policy: Policy::First, order: ListOrder::InsertFront, coalesce: true, ..d },
                "+10,+20,+3,-1,+50,-0,+15,-2,+60",
                "ptr[0] = Alloc(10) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1020 sz:80 ]\n\
                 \n\
                 ptr[1] = Alloc(20) returned 1020 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1048 sz:52 ]\n\
                 \n\
                 ptr[2] = Alloc(3) returned 1048 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1060 sz:40 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1020 sz:28 ][ addr:1060 sz:40 ]\n\
                 \n\
                 ptr[3] = Alloc(50) returned -1 (searched 2 elements)\n\
                 Free List [ Size 2 ]: [ addr:1020 sz:28 ][ addr:1060 sz:40 ]\n\
                 \n\
                 Free(ptr[0])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1000 sz:48 ][ addr:1060 sz:40 ]\n\
                 \n\
                 ptr[4] = Alloc(15) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 2 ]: [ addr:1020 sz:28 ][ addr:1060 sz:40 ]\n\
                 \n\
                 Free(ptr[2])\n\
                 returned 0\n\
                 Free List [ Size 3 ]: [ addr:1048 sz:12 ][ addr:1020 sz:28 ][ addr:1060 sz:40 ]\n\
                 \n\
                 ptr[5] = Alloc(60) returned -1 (searched 3 elements)\n\
                 Free List [ Size 3 ]: [ addr:1048 sz:12 ][ addr:1020 sz:28 ][ addr:1060 sz:40 ]\n\
                 \n",
            ),
            (
                HeapConfig { size: 64, base: 0, policy: Policy::Worst, order: ListOrder::SizeSortDescending, coalesce: true, ..d },
                "+8,+16,+4,+12,-1,-3,-0,+10,-2",
                "ptr[0] = Alloc(8) returned 0 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:8 sz:56 ]\n\
                 \n\
                 ptr[1] = Alloc(16) returned 8 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:24 sz:40 ]\n\
                 \n\
                 ptr[2] = Alloc(4) returned 24 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:28 sz:36 ]\n\
                 \n\
                 ptr[3] = Alloc(12) returned 28 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:40 sz:24 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:40 sz:24 ][ addr:8 sz:16 ]\n\
                 \n\
                 Free(ptr[3])\n\
                 returned 0\n\
                 Free List [ Size 3 ]: [ addr:40 sz:24 ][ addr:8 sz:16 ][ addr:28 sz:12 ]\n\
                 \n\
                 Free(ptr[0])\n\
                 returned 0\n\
                 Free List [ Size 4 ]: [ addr:40 sz:24 ][ addr:8 sz:16 ][ addr:28 sz:12 ][ addr:0 sz:8 ]\n\
                 \n\
                 ptr[4] = Alloc(10) returned 40 (searched 4 elements)\n\
                 Free List [ Size 4 ]: [ addr:50 sz:14 ][ addr:8 sz:16 ][ addr:28 sz:12 ][ addr:0 sz:8 ]\n\
                 \n\
                 Free(ptr[2])\n\
                 returned 0\n\
                 Free List [ Size 5 ]: [ addr:8 sz:16 ][ addr:50 sz:14 ][ addr:28 sz:12 ][ addr:0 sz:8 ][ addr:24 sz:4 ]\n\
                 \n",
            ),
            (
                HeapConfig { header: 2, order: ListOrder::SizeSortAscending, ..d },
                "+5,+5,+5,-1,-1,+5,-1,-0,+20",
                "ptr[0] = Alloc(5) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1007 sz:93 ]\n\
                 \n\
                 ptr[1] = Alloc(5) returned 1007 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1014 sz:86 ]\n\
                 \n\
                 ptr[2] = Alloc(5) returned 1014 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1021 sz:79 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1007 sz:7 ][ addr:1021 sz:79 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned -1\n\
                 Free List [ Size 2 ]: [ addr:1007 sz:7 ][ addr:1021 sz:79 ]\n\
                 \n\
                 ptr[3] = Alloc(5) returned 1007 (searched 2 elements)\n\
                 Free List [ Size 1 ]: [ addr:1021 sz:79 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1007 sz:7 ][ addr:1021 sz:79 ]\n\
                 \n\
                 Free(ptr[0])\n\
                 returned 0\n\
                 Free List [ Size 3 ]: [ addr:1007 sz:7 ][ addr:1000 sz:7 ][ addr:1021 sz:79 ]\n\
                 \n\
                 ptr[4] = Alloc(20) returned 1021 (searched 3 elements)\n\
                 Free List [ Size 3 ]: [ addr:1007 sz:7 ][ addr:1000 sz:7 ][ addr:1043 sz:57 ]\n\
                 \n",
            ),
            (
                HeapConfig { size: 40, header: 1, align: Some(2), order: ListOrder::InsertBack, coalesce: true, ..d },
                "+9,+9,+9,-1,-0,+30,-2,+30",
                "ptr[0] = Alloc(9) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1011 sz:29 ]\n\
                 \n\
                 ptr[1] = Alloc(9) returned 1011 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1022 sz:18 ]\n\
                 \n\
                 ptr[2] = Alloc(9) returned 1022 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1033 sz:7 ]\n\
                 \n\
                 Free(ptr[1])\n\
                 returned 0\n\
                 Free List [ Size 2 ]: [ addr:1033 sz:7 ][ addr:1011 sz:11 ]\n\
                 \n\
                 Free(ptr[0])\n\
                 returned 0\n\
                 Free List [ Size 3 ]: [ addr:1033 sz:7 ][ addr:1011 sz:11 ][ addr:1000 sz:11 ]\n\
                 \n\
                 ptr[3] = Alloc(30) returned -1 (searched 3 elements)\n\
                 Free List [ Size 3 ]: [ addr:1033 sz:7 ][ addr:1011 sz:11 ][ addr:1000 sz:11 ]\n\
                 \n\
                 Free(ptr[2])\n\
                 returned 0\n\
                 Free List [ Size 4 ]: [ addr:1033 sz:7 ][ addr:1011 sz:11 ][ addr:1000 sz:11 ][ addr:1022 sz:11 ]\n\
                 \n\
                 ptr[4] = Alloc(30) returned -1 (searched 4 elements)\n\
                 Free List [ Size 4 ]: [ addr:1033 sz:7 ][ addr:1011 sz:11 ][ addr:1000 sz:11 ][ addr:1022 sz:11 ]\n\
                 \n",
            ),
            (
                d,
                "+200,+10,-1",
                "ptr[0] = Alloc(200) returned -1 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1000 sz:100 ]\n\
                 \n\
                 ptr[1] = Alloc(10) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1010 sz:90 ]\n\
                 \n\
                 Invalid Free: Skipping\n",
            ),
            (
                HeapConfig { header: 4, ..d },
                "+3,-0,+5,-7,-0",
                "ptr[0] = Alloc(3) returned 1000 (searched 1 elements)\n\
                 Free List [ Size 1 ]: [ addr:1007 sz:93 ]\n\n\
                 Free(ptr[0])\nreturned 0\n\
                 Free List [ Size 2 ]: [ addr:1000 sz:7 ][ addr:1007 sz:93 ]\n\n\
                 ptr[1] = Alloc(5) returned 1007 (searched 2 elements)\n\
                 Free List [ Size 2 ]: [ addr:1000 sz:7 ][ addr:1016 sz:84 ]\n\n\
                 Invalid Free: Skipping\n\
                 Free(ptr[0])\nreturned -1\n\
                 Free List [ Size 2 ]: [ addr:1000 sz:7 ][ addr:1016 sz:84 ]\n\n",
            ),
        ];
        for (config, ops, body) in cases {
            check(*config, ops, &format!("{}{body}", header(config, ops)));
        }
    }

    /// Where `malloc.py` stops with a Python error (freeing a failed allocation below the
    /// count of successful ones), vmlab frees the failed pointer: `returned -1`.
    #[test]
    fn free_of_a_failed_allocation() {
        let d = HeapConfig::default();
        let ops = "+200,+10,+5,-0";
        let body = "ptr[0] = Alloc(200) returned -1 (searched 1 elements)\n\
                    Free List [ Size 1 ]: [ addr:1000 sz:100 ]\n\n\
                    ptr[1] = Alloc(10) returned 1000 (searched 1 elements)\n\
                    Free List [ Size 1 ]: [ addr:1010 sz:90 ]\n\n\
                    ptr[2] = Alloc(5) returned 1010 (searched 1 elements)\n\
                    Free List [ Size 1 ]: [ addr:1015 sz:85 ]\n\n\
                    Free(ptr[0])\nreturned -1\n\
                    Free List [ Size 1 ]: [ addr:1015 sz:85 ]\n\n";
        check(d, ops, &format!("{}{body}", header(&d, ops)));
    }

    #[test]
    fn hidden_answers() {
        let ex = Exercise::explicit(HeapConfig::default(), Generator::default(), "+3,-0,-5")
            .expect("runs");
        let text = ex.text(false);
        let body = text.split_once("compute False\n\n").expect("header").1;
        assert_eq!(
            body,
            "ptr[0] = Alloc(3) returned ?\nList?\n\n\
             Free(ptr[0])\nreturned ?\nList?\n\n\
             Invalid Free: Skipping\n"
        );
    }

    fn parse_err(text: &str, header: u64) -> String {
        parse_ops(text, header)
            .err()
            .unwrap_or_else(|| panic!("{text} parses"))
            .to_string()
    }

    #[test]
    fn operation_lists() {
        assert_eq!(
            parse_ops(" +10, -0 ,+007", 0),
            Ok(vec![Op::Alloc(10), Op::Free(0), Op::Alloc(7)])
        );
        assert_eq!(parse_ops("+0", 4), Ok(vec![Op::Alloc(0)]));
        for (text, header, says) in [
            ("", 0, "the operation list is empty"),
            ("+10,", 0, "operation 2 `` is empty"),
            ("+10,x3", 0, "operation 2 `x3` does not start with + or -"),
            ("-", 0, "operation 1 `-` has no number"),
            (
                "+1e3",
                0,
                "operation 1 `+1e3` is not a sign and a decimal number",
            ),
            ("--1", 0, "operation 1 `--1` is not a sign"),
            ("+99999999999999999999", 0, "has a number too large"),
            ("+5,+0", 0, "operation 2 `+0` asks for 0 bytes"),
        ] {
            let e = parse_err(text, header);
            assert!(e.contains(says), "{text}: {e}");
            if !text.is_empty() {
                assert!(e.contains("expected +SIZE") || e.contains("0 bytes"), "{e}");
            }
        }
    }

    #[test]
    fn random_operations() {
        let d = HeapConfig {
            header: 4,
            align: Some(4),
            ..HeapConfig::default()
        };
        let g = Generator {
            ops: 40,
            seed: 7,
            ..Generator::default()
        };
        let a = Exercise::random(d, g).expect("runs");
        let b = Exercise::random(d, g).expect("runs");
        assert_eq!(a.steps, b.steps, "the same seed gives the same operations");
        assert_eq!(a.steps.len(), 40);
        let c = Exercise::random(d, Generator { seed: 8, ..g }).expect("runs");
        assert_ne!(a.steps, c.steps, "another seed gives others");
        let mut allocs = 0;
        for s in &a.steps {
            match s.kind {
                StepKind::Alloc { index, size, .. } => {
                    assert_eq!(index, allocs);
                    assert!((1..=10).contains(&size));
                    allocs += 1;
                }
                // Random frees only free live allocations.
                StepKind::Free { result, .. } => assert_eq!(result, 0),
                StepKind::Skipped { .. } => panic!("random operations never skip"),
            }
        }
        assert!(allocs > 0 && allocs < 40);
        // Pointers past the header, as malloc.py's random mode prints them.
        let text = a.text(true);
        assert!(text.contains("allocList \n"), "{text}");
        assert!(
            text.contains(" returned 1004 (searched 1 elements)"),
            "{text}"
        );
        let all = Exercise::random(
            d,
            Generator {
                percent_alloc: 100,
                ..g
            },
        )
        .expect("runs");
        assert!(all
            .steps
            .iter()
            .all(|s| matches!(s.kind, StepKind::Alloc { .. })));
    }

    #[test]
    fn impossible_parameters() {
        let d = HeapConfig::default();
        let g = Generator::default();
        let err = |r: Result<Exercise, HeapError>| r.expect_err("refused");
        assert_eq!(
            err(Exercise::random(
                d,
                Generator {
                    percent_alloc: 101,
                    ..g
                }
            )),
            HeapError::Percent(101)
        );
        assert_eq!(
            err(Exercise::explicit(
                d,
                Generator {
                    percent_alloc: 101,
                    ..g
                },
                "+1"
            )),
            HeapError::Percent(101)
        );
        assert_eq!(
            err(Exercise::random(
                d,
                Generator {
                    percent_alloc: 0,
                    ..g
                }
            )),
            HeapError::PercentZero
        );
        assert_eq!(
            err(Exercise::random(d, Generator { range: 0, ..g })),
            HeapError::RangeZero
        );
        assert_eq!(
            err(Exercise::random(
                d,
                Generator {
                    ops: MAX_OPS + 1,
                    ..g
                }
            )),
            HeapError::TooManyOps(MAX_OPS + 1)
        );
        assert_eq!(
            err(Exercise::explicit(HeapConfig { size: 0, ..d }, g, "+1")),
            HeapError::EmptyHeap
        );
        // Zero operations is a valid (empty) exercise.
        assert!(Exercise::random(
            d,
            Generator {
                ops: 0,
                percent_alloc: 0,
                ..g
            }
        )
        .expect("runs")
        .steps
        .is_empty());
    }
}
