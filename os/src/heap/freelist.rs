//! A free-list allocator in the model of OSTEP's `malloc.py`.
//!
//! A [`FreeList`] manages the bytes `[base, base + size)`. It starts with one free chunk,
//! the whole heap, and keeps the free chunks in a list whose order [`ListOrder`] decides.
//! The rules, each of which decides an answer of the paper exercise:
//!
//! - **Request size.** An allocation of `n` bytes takes `n` rounded up to a multiple of
//!   the alignment (when there is one), *then* plus the header: with header 4 and
//!   alignment 4, `Alloc(3)` takes 8 bytes and `Alloc(5)` 12. The header is not rounded.
//! - **Search.** The search walks the list from the front and counts every element it
//!   looks at. First fit stops at the first chunk at least as large as the request; best
//!   and worst fit look at every element and keep the first strictly smaller (best) or
//!   strictly larger (worst) chunk that fits, so of equal chunks the one earlier in the
//!   list wins. A failed search has looked at every element.
//! - **Split.** The allocation takes the chosen chunk's low end and returns the chunk's
//!   address (the header's address; the caller's pointer is past the header). The rest
//!   of the chunk stays a free chunk **in the same place in the list**, even when the list
//!   is sorted by size: the list is sorted again only when a chunk is freed. A chunk of
//!   exactly the request's size leaves the list.
//! - **Free.** Freeing an address this allocator returned and has not taken back puts
//!   the chunk (its whole size, header and rounding included) on the list: sorted
//!   orders append it and sort the whole list again, stably (so among equal sizes the
//!   freed chunk goes after the others); insert-front and insert-back put it at the front
//!   or the back. Any other address is refused (`-1`) and changes nothing; this is how a
//!   double free shows.
//! - **Coalescing.** With coalescing on, after each successful free one pass walks the
//!   list from the front and merges every element into the one before it when it starts
//!   where that one ends. Only neighbours *in the list* merge: under an address-sorted list
//!   that is every pair of adjacent chunks, under the other orders only those that happen
//!   to be next to each other in the list.

use super::{HeapConfig, HeapError, ListOrder, Policy};
use std::collections::BTreeMap;

/// A free chunk: its first address and its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The first address.
    pub addr: u64,
    /// The size in bytes.
    pub size: u64,
}

impl Chunk {
    /// The first address past the chunk.
    pub fn end(&self) -> u64 {
        self.addr + self.size
    }
}

/// What an allocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocResult {
    /// The address of the chunk it took (where the header starts), or `None` when no free
    /// chunk was large enough.
    pub addr: Option<u64>,
    /// How many free-list elements the search looked at.
    pub searched: usize,
    /// The bytes the request takes (rounded, header included); `None` when that does not
    /// fit in 64 bits (such a request always fails).
    pub size: Option<u64>,
}

/// What a free did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeResult {
    /// The chunk of this many bytes went back on the list.
    Freed(u64),
    /// The address is not one the allocator returned and still holds (never returned,
    /// or freed already): nothing changed.
    NotAllocated,
}

impl FreeResult {
    /// The code `malloc.py` prints: 0 for a free, -1 for a refused address.
    pub fn code(self) -> i64 {
        match self {
            FreeResult::Freed(_) => 0,
            FreeResult::NotAllocated => -1,
        }
    }
}

/// The allocator: the free list and the chunks handed out.
#[derive(Clone, Debug)]
pub struct FreeList {
    config: HeapConfig,
    free: Vec<Chunk>,
    /// The chunks handed out and not yet freed, by address, with their sizes.
    allocated: BTreeMap<u64, u64>,
}

impl FreeList {
    /// A heap whose free list is the whole range, after checking `config`.
    pub fn new(config: HeapConfig) -> Result<FreeList, HeapError> {
        config.validate()?;
        Ok(FreeList {
            config,
            free: vec![Chunk {
                addr: config.base,
                size: config.size,
            }],
            allocated: BTreeMap::new(),
        })
    }

    /// The parameters.
    pub fn config(&self) -> &HeapConfig {
        &self.config
    }

    /// The free list, in list order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.free
    }

    /// The chunks handed out and not freed, by address: (address, size).
    pub fn allocated(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.allocated.iter().map(|(&a, &s)| (a, s))
    }

    /// The bytes an allocation of `n` takes: `n` rounded up to the alignment, plus the
    /// header; `None` if that overflows.
    pub fn request_size(&self, n: u64) -> Option<u64> {
        let rounded = match self.config.align {
            Some(a) => n.checked_next_multiple_of(a)?,
            None => n,
        };
        rounded.checked_add(self.config.header)
    }

    /// Allocates `n` bytes (see the module's rules).
    pub fn alloc(&mut self, n: u64) -> AllocResult {
        let size = self.request_size(n);
        let Some(want) = size else {
            return AllocResult {
                addr: None,
                searched: self.free.len(),
                size,
            };
        };
        let mut chosen: Option<usize> = None;
        let mut searched = 0;
        for (i, c) in self.free.iter().enumerate() {
            searched += 1;
            if c.size < want {
                continue;
            }
            let better = match (self.config.policy, chosen) {
                (_, None) => true,
                (Policy::Best, Some(j)) => c.size < self.free[j].size,
                (Policy::Worst, Some(j)) => c.size > self.free[j].size,
                (Policy::First, Some(_)) => false,
            };
            if better {
                chosen = Some(i);
                if self.config.policy == Policy::First {
                    break;
                }
            }
        }
        let Some(i) = chosen else {
            return AllocResult {
                addr: None,
                searched,
                size,
            };
        };
        let c = self.free[i];
        if c.size > want {
            self.free[i] = Chunk {
                addr: c.addr + want,
                size: c.size - want,
            };
        } else {
            self.free.remove(i);
        }
        self.allocated.insert(c.addr, want);
        AllocResult {
            addr: Some(c.addr),
            searched,
            size,
        }
    }

    /// Frees the chunk at `addr` (see the module's rules).
    pub fn free(&mut self, addr: u64) -> FreeResult {
        let Some(size) = self.allocated.remove(&addr) else {
            return FreeResult::NotAllocated;
        };
        let chunk = Chunk { addr, size };
        match self.config.order {
            ListOrder::InsertFront => self.free.insert(0, chunk),
            ListOrder::InsertBack => self.free.push(chunk),
            ListOrder::AddrSort => {
                self.free.push(chunk);
                self.free.sort_by_key(|c| c.addr);
            }
            ListOrder::SizeSortAscending => {
                self.free.push(chunk);
                self.free.sort_by_key(|c| c.size);
            }
            ListOrder::SizeSortDescending => {
                self.free.push(chunk);
                self.free.sort_by_key(|c| std::cmp::Reverse(c.size));
            }
        }
        if self.config.coalesce {
            self.coalesce();
        }
        FreeResult::Freed(size)
    }

    /// One pass over the list, merging each element into the one before it when they
    /// touch in memory.
    fn coalesce(&mut self) {
        let mut merged: Vec<Chunk> = Vec::with_capacity(self.free.len());
        for &c in &self.free {
            match merged.last_mut() {
                Some(last) if last.end() == c.addr => last.size += c.size,
                _ => merged.push(c),
            }
        }
        self.free = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One operation with the answer it must give.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Allocate this many bytes: the chunk address (or `None`) and elements searched.
        Alloc(u64, Option<u64>, usize),
        /// Free this address: the code (0 or -1).
        Free(u64, i64),
    }
    use Op::{Alloc, Free};

    /// Runs `ops` on a heap of `config`, checking each answer, then the free list
    /// (address, size) in list order.
    fn check(config: HeapConfig, ops: &[Op], list: &[(u64, u64)]) {
        let mut h = FreeList::new(config).expect("a valid heap");
        for (step, &op) in ops.iter().enumerate() {
            match op {
                Alloc(n, addr, searched) => {
                    let r = h.alloc(n);
                    assert_eq!(
                        (r.addr, r.searched),
                        (addr, searched),
                        "step {step}: {op:?}"
                    );
                }
                Free(a, code) => assert_eq!(h.free(a).code(), code, "step {step}: {op:?}"),
            }
        }
        let got: Vec<(u64, u64)> = h.chunks().iter().map(|c| (c.addr, c.size)).collect();
        assert_eq!(got, list, "{config:?}: free list after {ops:?}");
    }

    fn cfg(policy: Policy, order: ListOrder, coalesce: bool) -> HeapConfig {
        HeapConfig {
            policy,
            order,
            coalesce,
            ..HeapConfig::default()
        }
    }

    #[test]
    fn request_size_rounds_then_adds_the_header() {
        let h = |header, align| {
            FreeList::new(HeapConfig {
                header,
                align,
                ..HeapConfig::default()
            })
            .expect("valid")
        };
        for (header, align, n, want) in [
            (0, None, 3, Some(3)),
            (4, None, 3, Some(7)),
            (4, Some(4), 3, Some(8)),
            (4, Some(4), 5, Some(12)),
            (4, Some(4), 8, Some(12)),
            (0, Some(8), 0, Some(0)),
            (3, Some(8), 9, Some(19)),
            (0, Some(8), u64::MAX, None),
            (1, None, u64::MAX, None),
        ] {
            assert_eq!(
                h(header, align).request_size(n),
                want,
                "{header} {align:?} {n}"
            );
        }
    }

    #[test]
    fn the_published_run() {
        // OSTEP vm-freespace README: -S 100 -b 1000 -H 4 -a 4 -l ADDRSORT -p BEST, seed 0
        // gives Alloc(3), Free(ptr[0]), Alloc(5), Free(ptr[1]), Alloc(8).
        let c = HeapConfig {
            header: 4,
            align: Some(4),
            ..HeapConfig::default()
        };
        let ops = [
            Alloc(3, Some(1000), 1),
            Free(1000, 0),
            Alloc(5, Some(1008), 2),
            Free(1008, 0),
            Alloc(8, Some(1008), 3),
        ];
        check(c, &ops, &[(1000, 8), (1020, 80)]);
        check(
            HeapConfig {
                coalesce: true,
                ..c
            },
            &[
                Alloc(3, Some(1000), 1),
                Free(1000, 0),
                Alloc(5, Some(1000), 1),
                Free(1000, 0),
                Alloc(8, Some(1000), 1),
            ],
            &[(1012, 88)],
        );
    }

    /// Four allocations (10, 20, 10 and 30 bytes from 1000) on the default 100-byte heap,
    /// then the frees of the two 10-byte ones: under ADDRSORT the free list is 1000/10,
    /// 1030/10, 1070/30 (nothing touches, so coalescing changes nothing).
    fn holes() -> Vec<Op> {
        vec![
            Alloc(10, Some(1000), 1),
            Alloc(20, Some(1010), 1),
            Alloc(10, Some(1030), 1),
            Alloc(30, Some(1040), 1),
            Free(1000, 0),
            Free(1030, 0),
        ]
    }

    #[test]
    fn policies_on_ties_and_sizes() {
        use ListOrder::*;
        use Policy::*;
        // Free list (ADDRSORT): 1000/10, 1030/10, 1070/30.
        let base = holes();
        let with = |extra: &[Op]| {
            let mut v = base.clone();
            v.extend_from_slice(extra);
            v
        };
        // Best: the 10-byte chunks tie; the first in the list wins; all three looked at.
        check(
            cfg(Best, AddrSort, false),
            &with(&[Alloc(8, Some(1000), 3)]),
            &[(1008, 2), (1030, 10), (1070, 30)],
        );
        // Worst: the 30-byte chunk.
        check(
            cfg(Worst, AddrSort, false),
            &with(&[Alloc(8, Some(1070), 3)]),
            &[(1000, 10), (1030, 10), (1078, 22)],
        );
        // First: stops at the first fit.
        check(
            cfg(First, AddrSort, false),
            &with(&[Alloc(12, Some(1070), 3), Alloc(5, Some(1000), 1)]),
            &[(1005, 5), (1030, 10), (1082, 18)],
        );
        // A perfect fit leaves the list; a failure searches everything.
        check(
            cfg(Best, AddrSort, false),
            &with(&[Alloc(30, Some(1070), 3), Alloc(11, None, 2)]),
            &[(1000, 10), (1030, 10)],
        );
        // Worst ties: two equal largest chunks, the first in list order wins.
        check(
            cfg(Worst, InsertBack, false),
            &[
                Alloc(50, Some(1000), 1),
                Free(1000, 0),
                Alloc(10, Some(1050), 2),
            ],
            &[(1060, 40), (1000, 50)],
        );
    }

    #[test]
    fn list_orders_place_the_freed_chunk() {
        use ListOrder::*;
        use Policy::*;
        // After the frees of 1000 (10) and 1030 (10): list order decides the list.
        check(
            cfg(Best, AddrSort, false),
            &holes(),
            &[(1000, 10), (1030, 10), (1070, 30)],
        );
        check(
            cfg(Best, InsertBack, false),
            &holes(),
            &[(1070, 30), (1000, 10), (1030, 10)],
        );
        check(
            cfg(Best, InsertFront, false),
            &holes(),
            &[(1030, 10), (1000, 10), (1070, 30)],
        );
        // SIZESORT+: equal sizes stay in the order they came (stable), the new one after.
        check(
            cfg(Best, SizeSortAscending, false),
            &holes(),
            &[(1000, 10), (1030, 10), (1070, 30)],
        );
        // SIZESORT-: stable too, so 1000 stays before 1030.
        check(
            cfg(Best, SizeSortDescending, false),
            &holes(),
            &[(1070, 30), (1000, 10), (1030, 10)],
        );
        // A split keeps the remainder in place, unsorted, until the next free sorts again.
        let mut ops = holes();
        ops.push(Alloc(25, Some(1070), 3));
        check(
            cfg(Worst, SizeSortDescending, false),
            &ops,
            &[(1095, 5), (1000, 10), (1030, 10)],
        );
        ops.push(Free(1010, 0));
        check(
            cfg(Worst, SizeSortDescending, false),
            &ops,
            &[(1010, 20), (1000, 10), (1030, 10), (1095, 5)],
        );
    }

    #[test]
    fn coalescing_merges_list_neighbours_only() {
        use ListOrder::*;
        use Policy::*;
        let mut ops = holes();
        ops.push(Free(1010, 0));
        // Address order: 1000+10, 1010+20, 1030+10 merge into one 40-byte chunk.
        check(cfg(Best, AddrSort, true), &ops, &[(1000, 40), (1070, 30)]);
        // Insert-back: 1070/30, 1000/10, 1030/10 then 1010/20: 1000 and 1030 are list
        // neighbours but not memory neighbours, 1030 and 1010 are not in order: nothing.
        check(
            cfg(Best, InsertBack, true),
            &ops,
            &[(1070, 30), (1000, 10), (1030, 10), (1010, 20)],
        );
        // Insert-front: 1010/20, 1030/10, 1000/10, 1070/30: 1010 then 1030 merge.
        check(
            cfg(Best, InsertFront, true),
            &ops,
            &[(1010, 30), (1000, 10), (1070, 30)],
        );
        // Size ascending: 1000/10, 1030/10, 1010/20, 1070/30: nothing touches in order.
        check(
            cfg(Best, SizeSortAscending, true),
            &ops,
            &[(1000, 10), (1030, 10), (1010, 20), (1070, 30)],
        );
        // The last allocation freed next to the tail merges with it.
        check(
            cfg(First, AddrSort, true),
            &[
                Alloc(10, Some(1000), 1),
                Alloc(10, Some(1010), 1),
                Free(1010, 0),
            ],
            &[(1010, 90)],
        );
    }

    #[test]
    fn bad_frees_change_nothing() {
        use ListOrder::*;
        use Policy::*;
        check(
            cfg(Best, AddrSort, true),
            &[
                Alloc(10, Some(1000), 1),
                Free(1005, -1),
                Free(999, -1),
                Free(1000, 0),
                Free(1000, -1),
            ],
            &[(1000, 100)],
        );
        // A reused address frees the new allocation, as a pointer in C would.
        check(
            cfg(Best, InsertBack, false),
            &[
                Alloc(10, Some(1000), 1),
                Free(1000, 0),
                Alloc(10, Some(1000), 2),
                Free(1000, 0),
            ],
            &[(1010, 90), (1000, 10)],
        );
    }

    #[test]
    fn headers_alignment_and_failures() {
        let c = HeapConfig {
            header: 8,
            align: Some(8),
            size: 64,
            base: 0,
            ..HeapConfig::default()
        };
        check(
            c,
            &[
                Alloc(1, Some(0), 1),
                Alloc(9, Some(16), 1),
                Alloc(24, None, 1),
                Alloc(16, Some(40), 1),
                Free(16, 0),
            ],
            &[(16, 24)],
        );
        // An empty list searches nothing.
        check(
            HeapConfig {
                size: 10,
                ..HeapConfig::default()
            },
            &[Alloc(10, Some(1000), 1), Alloc(1, None, 0)],
            &[],
        );
        check(
            HeapConfig::default(),
            &[Alloc(u64::MAX, None, 1)],
            &[(1000, 100)],
        );
    }

    #[test]
    fn invalid_configs() {
        let bad = |c: HeapConfig, e: HeapError| {
            assert_eq!(FreeList::new(c).err(), Some(e.clone()));
            assert!(!e.to_string().is_empty());
        };
        bad(
            HeapConfig {
                size: 0,
                ..HeapConfig::default()
            },
            HeapError::EmptyHeap,
        );
        bad(
            HeapConfig {
                base: u64::MAX,
                size: 1,
                ..HeapConfig::default()
            },
            HeapError::Overflow {
                base: u64::MAX,
                size: 1,
            },
        );
        for a in [0, 3, 12] {
            bad(
                HeapConfig {
                    align: Some(a),
                    ..HeapConfig::default()
                },
                HeapError::Alignment(a),
            );
        }
        assert!(FreeList::new(HeapConfig {
            base: u64::MAX - 1,
            size: 1,
            ..HeapConfig::default()
        })
        .is_ok());
    }
}
