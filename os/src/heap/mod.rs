//! The heap lab: a free-list allocator over a byte range, and the paper exercise built on it.
//!
//! - [`freelist`]: [`FreeList`], the allocator. It manages `[base, base + size)` with a
//!   header per allocation, an optional alignment, a search policy ([`Policy`]), an order
//!   in which it keeps the free list ([`ListOrder`]) and optional coalescing, and reports
//!   for each allocation the address (or failure) and how many free-list elements the
//!   search looked at.
//! - [`exercise`]: the operations of a paper exercise (`+SIZE` allocates, `-N` frees the
//!   N-th allocation), given as a list or generated from a seed, run on a [`FreeList`] and
//!   printed as OSTEP's `malloc.py` prints them (`vmlab malloc`, `docs/heap.md`).
//!
//! The allocator reproduces the model of OSTEP's `malloc.py` (Arpaci-Dusseau,
//! "Operating Systems: Three Easy Pieces", chapter "Free-Space Management", homework
//! `vm-freespace`); [`freelist`] states every rule.

pub mod alloc;
pub mod buddy;
pub mod exercise;
pub mod fit;
pub mod freelist;
pub mod pool;
pub mod segregated;
pub mod slab;
pub mod tags;

pub use exercise::{Exercise, Generator, Op, Step, StepKind};
pub use freelist::{AllocResult, Chunk, FreeList, FreeResult};

use std::fmt;

/// How an allocation chooses among the free chunks large enough for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The smallest chunk that fits; of equal ones, the first in list order.
    Best,
    /// The largest chunk that fits; of equal ones, the first in list order.
    Worst,
    /// The first chunk in list order that fits.
    First,
}

impl Policy {
    /// Every policy, in the order `malloc.py`'s help names them.
    pub const ALL: [Policy; 3] = [Policy::Best, Policy::Worst, Policy::First];

    /// The name `malloc.py` uses (`BEST`, `WORST`, `FIRST`).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Best => "BEST",
            Policy::Worst => "WORST",
            Policy::First => "FIRST",
        }
    }

    /// The policy called `name` (any case).
    pub fn from_name(name: &str) -> Result<Policy, HeapError> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| HeapError::Policy(name.to_string()))
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The order the free list is kept in: where a freed chunk goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrder {
    /// Sorted by address, ascending.
    AddrSort,
    /// Sorted by size, ascending (a stable sort: equal sizes keep their order, the freed
    /// chunk after the others of its size).
    SizeSortAscending,
    /// Sorted by size, descending (stable, as for ascending).
    SizeSortDescending,
    /// A freed chunk goes to the front.
    InsertFront,
    /// A freed chunk goes to the back.
    InsertBack,
}

impl ListOrder {
    /// Every order, in the order `malloc.py`'s help names them.
    pub const ALL: [ListOrder; 5] = [
        ListOrder::AddrSort,
        ListOrder::SizeSortAscending,
        ListOrder::SizeSortDescending,
        ListOrder::InsertFront,
        ListOrder::InsertBack,
    ];

    /// The name `malloc.py` uses (`ADDRSORT`, `SIZESORT+`, `SIZESORT-`, `INSERT-FRONT`,
    /// `INSERT-BACK`).
    pub fn name(self) -> &'static str {
        match self {
            ListOrder::AddrSort => "ADDRSORT",
            ListOrder::SizeSortAscending => "SIZESORT+",
            ListOrder::SizeSortDescending => "SIZESORT-",
            ListOrder::InsertFront => "INSERT-FRONT",
            ListOrder::InsertBack => "INSERT-BACK",
        }
    }

    /// The order called `name` (any case).
    pub fn from_name(name: &str) -> Result<ListOrder, HeapError> {
        ListOrder::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| HeapError::ListOrder(name.to_string()))
    }
}

impl fmt::Display for ListOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The parameters of a heap. [`FreeList::new`] validates them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapConfig {
    /// The heap's first address.
    pub base: u64,
    /// The heap's size in bytes (at least 1; `base + size` must not overflow).
    pub size: u64,
    /// The bytes of header each allocation takes in front of what it asked for.
    pub header: u64,
    /// Round each request up to a multiple of this (a power of two), before the header is
    /// added; `None` for no rounding (`malloc.py`'s `-a -1`).
    pub align: Option<u64>,
    /// How an allocation chooses its chunk.
    pub policy: Policy,
    /// How the free list is ordered.
    pub order: ListOrder,
    /// Whether a free merges chunks that are next to each other in the list and in memory.
    pub coalesce: bool,
}

impl Default for HeapConfig {
    /// `malloc.py`'s defaults: 100 bytes at 1000, no header, no alignment, best fit, sorted
    /// by address, no coalescing.
    fn default() -> HeapConfig {
        HeapConfig {
            base: 1000,
            size: 100,
            header: 0,
            align: None,
            policy: Policy::Best,
            order: ListOrder::AddrSort,
            coalesce: false,
        }
    }
}

impl HeapConfig {
    /// Checks the parameters: a non-empty heap that ends within the address space, and an
    /// alignment that is a power of two.
    pub fn validate(&self) -> Result<(), HeapError> {
        if self.size == 0 {
            return Err(HeapError::EmptyHeap);
        }
        if self.base.checked_add(self.size).is_none() {
            return Err(HeapError::Overflow {
                base: self.base,
                size: self.size,
            });
        }
        if let Some(a) = self.align {
            if !a.is_power_of_two() {
                return Err(HeapError::Alignment(a));
            }
        }
        Ok(())
    }
}

/// A parameter or operation the heap lab cannot work with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeapError {
    /// A heap of 0 bytes.
    #[error("the heap size is 0: give a heap of at least 1 byte")]
    EmptyHeap,
    /// `base + size` does not fit in 64 bits.
    #[error("a heap of {size} bytes at {base} would end past the last address (2^64 - 1)")]
    Overflow {
        /// The base asked for.
        base: u64,
        /// The size asked for.
        size: u64,
    },
    /// An alignment that is not a power of two.
    #[error("alignment {0} is not a power of two: give 1, 2, 4, 8, ..., or -1 for none")]
    Alignment(u64),
    /// An unknown policy name.
    #[error("unknown policy `{0}`: expected BEST, WORST or FIRST")]
    Policy(String),
    /// An unknown list order name.
    #[error(
        "unknown list order `{0}`: expected ADDRSORT, SIZESORT+, SIZESORT-, INSERT-FRONT or INSERT-BACK"
    )]
    ListOrder(String),
    /// An operation list with nothing in it.
    #[error("the operation list is empty: give operations such as +10,+20,-0, or none at all for random ones")]
    NoOps,
    /// An operation that does not parse.
    #[error("operation {position} `{op}` {why}: expected +SIZE (allocate SIZE bytes) or -N (free the N-th allocation, counting from 0)")]
    BadOp {
        /// Its position in the list, from 1.
        position: usize,
        /// Its text.
        op: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `+0` on a heap without headers: a request for no bytes at all.
    #[error("operation {position} `{op}` asks for 0 bytes and the header is 0 bytes: an allocation must take at least 1 byte")]
    ZeroRequest {
        /// Its position in the list, from 1.
        position: usize,
        /// Its text.
        op: String,
    },
    /// A percentage above 100.
    #[error("percent alloc {0} is not a percentage: give 0 to 100")]
    Percent(u64),
    /// Random operations that could never include an allocation.
    #[error("percent alloc 0 generates no allocations, and so nothing to free: give 1 to 100")]
    PercentZero,
    /// Random allocations of at most 0 bytes.
    #[error("range 0: random allocations ask for 1 to RANGE bytes, so give a range of at least 1")]
    RangeZero,
    /// More operations than the lab runs.
    #[error("{0} operations are more than the {max} this exercise runs", max = exercise::MAX_OPS)]
    TooManyOps(u64),
}
