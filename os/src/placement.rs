//! Dynamic placement over a hole list: first, next, best and worst fit, coalescing,
//! fragmentation figures and compaction plans.
//!
//! A [`Memory`] manages the physical byte range `[base, base + size)`. At every moment the
//! range is tiled exactly by *blocks* (allocated, each with an owner) and *holes* (free), and
//! no two holes are adjacent: a hole always has a block or an end of the range on each side.
//!
//! # Granule
//!
//! Every block start and size is a multiple of the memory's *granule*, a power of two fixed
//! at construction ([`Memory::new`] uses 1 byte, [`Memory::with_granule`] any power of two; the
//! range's base and size must be multiples of it). A request for `n` bytes is rounded up to the
//! next multiple of the granule; because holes are always granule-aligned too, carving never
//! leaves slivers, and the block's start is aligned to the granule. A request for 0 bytes, or
//! one whose rounding overflows, is never placed (it counts as a failure).
//!
//! # Placement rules
//!
//! Every policy picks one hole that is at least as large as the rounded request, and carves
//! the block from that hole's **low end**; the rest of the hole (if any) stays a hole.
//!
//! - **First fit**: the lowest-addressed hole that fits. The search examines holes in
//!   ascending address order and stops at the first that fits.
//! - **Next fit**: like first fit, but the search starts at the *roving pointer* and wraps
//!   around once. The rover is an address: after every successful placement it is set to the
//!   end of the block just placed (`block base + rounded size`), which is where the remainder of
//!   the chosen hole begins, if it has one (a failed search leaves it alone). A search starts at
//!   the hole `[b, e)` that **contains** the rover (`b <= rover < e`); if there is none (the
//!   rover lies in a block, or at the top of the range), at the lowest hole above the rover;
//!   if there is none either, at the lowest hole. It examines holes in ascending order to the
//!   top of the range, then continues from the lowest hole, examining each hole at most once. Because the rover is an address
//!   rather than a reference to a hole, merges and consumption are covered by the same rule:
//!   if the hole the rover pointed into was merged with a freed neighbour, the search starts at
//!   the merged hole, which is carved from its low end (possibly below the rover); if the hole
//!   was consumed, the search starts at the next hole above. Compaction resets the rover to the
//!   range's base. Frees and resizes leave it where it is.
//! - **Best fit**: the smallest hole that fits, ties to the lowest address. The search examines
//!   every hole.
//! - **Worst fit**: the largest hole (if it fits), ties to the lowest address. The search
//!   examines every hole.
//!
//! "Holes examined" ([`PlaceStats::holes_examined`]) counts, per allocation, the holes looked at
//! by these searches, the chosen one included; a failed search has examined every hole.
//!
//! # Freeing and coalescing
//!
//! [`Memory::free`] takes the base of an allocated block. The freed range merges with the hole
//! directly below it and the hole directly above it, whichever exist; each such merge counts as
//! one coalesce. Any other address is an error that says which mistake it is: a double free
//! (the address was the start of a block that has been freed and nothing has been placed over
//! it since), a stray pointer into a hole, a stray pointer into the middle of a block, or an
//! address outside the range.
//!
//! # Fragmentation
//!
//! [`Fragmentation`] reports the free bytes, the number of holes and the largest hole; its
//! external-fragmentation figure is `1 - largest_hole / free_bytes` (0 when nothing is free):
//! 0 when all free memory is one hole, approaching 1 as it splinters.
//!
//! # Compaction
//!
//! [`Memory::compaction_plan`] packs every block toward the base in address order: the block
//! that starts lowest moves to `base`, the next directly after it, and so on; blocks already in
//! place do not appear. The moves are listed in ascending address order. Every block moves
//! down (or stays), and block `i`'s destination ends at or below its own old end, which is at or
//! below the old start of block `i + 1`, so copying the moves one after another (each as a
//! `memmove`, since a block's source and destination may overlap) never overwrites a block that
//! has not moved yet. Applying the plan leaves one hole at the top (none if memory is full).
//!
//! # Worked example
//!
//! Memory `[0, 1000)`, granule 1, first fit:
//!
//! ```
//! use vmlab_os::placement::{Fit, Memory, Move, Region};
//!
//! let mut mem = Memory::new(0, 1000, Fit::First).unwrap();
//! assert_eq!(mem.allocate(1, 100), Some(0));
//! assert_eq!(mem.allocate(2, 200), Some(100));
//! assert_eq!(mem.allocate(3, 100), Some(300)); // one hole: [400, 1000)
//! mem.free(100).unwrap(); // holes [100, 300), [400, 1000)
//! assert_eq!(mem.allocate(4, 150), Some(100)); // the first hole fits: 1 examined
//! let holes: Vec<Region> = mem.holes().collect();
//! assert_eq!(holes, [Region { base: 250, size: 50 }, Region { base: 400, size: 600 }]);
//!
//! // 650 bytes free in 2 holes, the largest 600: external = 1 - 600/650.
//! let f = mem.fragmentation();
//! assert_eq!((f.free_bytes, f.holes, f.largest_hole), (650, 2, 600));
//! assert!((f.external() - (1.0 - 600.0 / 650.0)).abs() < 1e-12);
//!
//! // Blocks at 0 and 100 are packed already; owner 3 moves down to 250.
//! assert_eq!(mem.compact(), [Move { owner: 3, from: 300, to: 250, size: 100 }]);
//! assert_eq!(mem.holes().collect::<Vec<_>>(), [Region { base: 350, size: 650 }]);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A placement policy: which hole a new block is carved from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fit {
    /// The lowest-addressed hole that fits.
    First,
    /// The first hole that fits, searching from the roving pointer and wrapping once.
    Next,
    /// The smallest hole that fits, ties to the lowest address.
    Best,
    /// The largest hole, ties to the lowest address.
    Worst,
}

impl Fit {
    /// All policies, in the order reports list them.
    pub const ALL: [Fit; 4] = [Fit::First, Fit::Next, Fit::Best, Fit::Worst];

    /// The lower-case name used in configuration files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Fit::First => "first",
            Fit::Next => "next",
            Fit::Best => "best",
            Fit::Worst => "worst",
        }
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a string that names no placement policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown placement policy `{0}`: expected one of first, next, best, worst")]
pub struct ParseFitError(pub String);

impl FromStr for Fit {
    type Err = ParseFitError;

    /// Parses a policy by its [`Fit::name`].
    fn from_str(s: &str) -> Result<Fit, ParseFitError> {
        Fit::ALL
            .into_iter()
            .find(|fit| fit.name() == s)
            .ok_or_else(|| ParseFitError(s.to_string()))
    }
}

/// A range of physical bytes `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    /// The first byte's address.
    pub base: u64,
    /// The number of bytes.
    pub size: u64,
}

impl Region {
    /// The address one past the last byte (saturating at `u64::MAX`; regions handed out by a
    /// [`Memory`] never saturate).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether `addr` lies inside the region.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr < self.end()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.base, self.end())
    }
}

/// An allocated block as [`Memory::block`] describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Block {
    /// Who the block was allocated for.
    pub owner: u64,
    /// Where the block lies; its size is the request rounded up to the granule.
    pub region: Region,
    /// The size asked for (before rounding).
    pub requested: u64,
}

/// One step of a compaction: copy `size` bytes from `from` to `to` (the ranges may overlap,
/// so the copy must behave like `memmove`), then relocate `owner`'s block to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Move {
    /// The owner of the block being moved.
    pub owner: u64,
    /// The block's base before the move.
    pub from: u64,
    /// The block's base after the move (always below `from`).
    pub to: u64,
    /// The block's size in bytes.
    pub size: u64,
}

/// A snapshot of how the free memory is split up, with exact byte counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fragmentation {
    /// The total size of all holes.
    pub free_bytes: u64,
    /// The number of holes.
    pub holes: u64,
    /// The size of the largest hole (0 when there is none).
    pub largest_hole: u64,
    /// The total size of all blocks (after rounding to the granule).
    pub allocated_bytes: u64,
    /// The total of the sizes asked for by the blocks' owners (before rounding).
    pub requested_bytes: u64,
    /// The number of allocated blocks.
    pub blocks: u64,
}

/// The worst fragmentation seen: the most holes, and the highest external fragmentation
/// in thousandths (a scheme notes the figures whenever its memory changes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragmentationPeaks {
    /// The most holes seen at once.
    pub holes: u64,
    /// The highest [`Fragmentation::external_permille`] seen.
    pub external_permille: u64,
}

impl FragmentationPeaks {
    /// Takes the figures of `f` into the peaks.
    pub fn note(&mut self, f: &Fragmentation) {
        self.holes = self.holes.max(f.holes);
        self.external_permille = self.external_permille.max(f.external_permille());
    }
}

impl Fragmentation {
    /// [`Fragmentation::external`] in thousandths, rounded.
    pub fn external_permille(&self) -> u64 {
        (self.external() * 1000.0).round() as u64
    }

    /// External fragmentation: `1 - largest_hole / free_bytes`, or 0 when nothing is free.
    ///
    /// It is 0 when all free memory is one hole and approaches 1 as the free memory splinters
    /// into many small holes; it is the fraction of free memory that a single request could not
    /// use.
    pub fn external(&self) -> f64 {
        if self.free_bytes == 0 {
            0.0
        } else {
            1.0 - self.largest_hole as f64 / self.free_bytes as f64
        }
    }

    /// The bytes lost inside blocks to rounding requests up to the granule:
    /// `allocated_bytes - requested_bytes`.
    pub fn rounding_waste(&self) -> u64 {
        self.allocated_bytes.saturating_sub(self.requested_bytes)
    }
}

/// Counters of what a [`Memory`] has done since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlaceStats {
    /// Successful allocations.
    pub allocations: u64,
    /// Allocation requests that were not placed (no hole fitted, or the size was 0 or
    /// overflowed when rounded).
    pub failures: u64,
    /// Successful frees.
    pub frees: u64,
    /// Merges of a freed range with an adjacent hole (a free between two holes counts 2).
    pub coalesces: u64,
    /// Holes looked at by allocation searches, the chosen hole included.
    pub holes_examined: u64,
    /// Compactions applied.
    pub compactions: u64,
    /// Blocks moved by compactions.
    pub blocks_moved: u64,
    /// Bytes copied by compactions.
    pub bytes_moved: u64,
    /// Successful in-place growths.
    pub grows: u64,
    /// Successful in-place shrinks.
    pub shrinks: u64,
    /// In-place growths refused for lack of an adjacent hole large enough.
    pub resize_failures: u64,
}

/// Why a [`Memory`] operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// The managed range would be empty.
    #[error("a managed memory range needs a non-zero size")]
    ZeroSize,
    /// The managed range runs past the end of the address space.
    #[error("the range of {size:#x} bytes at {base:#x} runs past the end of the address space")]
    RangeOverflow {
        /// The requested base.
        base: u64,
        /// The requested size.
        size: u64,
    },
    /// The granule is not a power of two.
    #[error("the granule {granule} is not a power of two")]
    BadGranule {
        /// The requested granule.
        granule: u64,
    },
    /// The range's base or size is not a multiple of the granule.
    #[error(
        "the range of {size:#x} bytes at {base:#x} is not aligned to the granule {granule:#x}: \
         both base and size must be multiples of it"
    )]
    Misaligned {
        /// The requested base.
        base: u64,
        /// The requested size.
        size: u64,
        /// The requested granule.
        granule: u64,
    },
    /// The address lies outside the managed range.
    #[error("{addr:#x} is outside the managed range {range}")]
    OutOfRange {
        /// The offending address.
        addr: u64,
        /// The managed range.
        range: Region,
    },
    /// The address was the start of a block that has already been freed.
    #[error(
        "double free: the block at {addr:#x} has already been freed (it lies in the hole {hole})"
    )]
    DoubleFree {
        /// The offending address.
        addr: u64,
        /// The hole it lies in.
        hole: Region,
    },
    /// The address lies in a hole and was not the start of a freed block.
    #[error("stray pointer: {addr:#x} lies in the hole {hole}, not in an allocated block")]
    StrayInHole {
        /// The offending address.
        addr: u64,
        /// The hole it lies in.
        hole: Region,
    },
    /// The address lies inside an allocated block but is not its start.
    #[error(
        "stray pointer: {addr:#x} is inside the block {block} of owner {owner}, not at its start"
    )]
    StrayInBlock {
        /// The offending address.
        addr: u64,
        /// The block it lies in.
        block: Region,
        /// The block's owner.
        owner: u64,
    },
    /// A block cannot be resized to 0 bytes (free it instead).
    #[error("the block at {base:#x} cannot be resized to 0 bytes; free it instead")]
    ZeroResize {
        /// The block's base.
        base: u64,
    },
    /// The new size overflows when rounded up to the granule.
    #[error("a size of {size:#x} bytes overflows when rounded up to the granule")]
    SizeOverflow {
        /// The requested size.
        size: u64,
    },
    /// The block cannot grow in place: the memory directly above it is not a large enough hole.
    #[error(
        "the block at {base:#x} cannot grow in place from {size:#x} to {wanted:#x} bytes: \
         only {available:#x} free bytes follow it"
    )]
    NoRoom {
        /// The block's base.
        base: u64,
        /// The block's current (rounded) size.
        size: u64,
        /// The rounded size asked for.
        wanted: u64,
        /// The size of the hole directly above the block (0 if there is none).
        available: u64,
    },
    /// The compaction plan given does not match the current block layout.
    #[error("the compaction plan is stale: it does not match the current block layout")]
    StalePlan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    owner: u64,
    size: u64,
    requested: u64,
}

/// A managed physical range `[base, base + size)` with its allocated blocks and holes.
///
/// See the [module documentation](self) for the placement, coalescing and compaction rules.
#[derive(Clone, Debug)]
pub struct Memory {
    base: u64,
    size: u64,
    granule: u64,
    fit: Fit,
    /// Allocated blocks by base.
    blocks: BTreeMap<u64, Entry>,
    /// Holes by base, with their sizes.
    holes: BTreeMap<u64, u64>,
    /// Bases of freed blocks not yet covered by a later block (for double-free diagnosis).
    freed: BTreeSet<u64>,
    /// Next fit's roving pointer.
    rover: u64,
    stats: PlaceStats,
}

impl Memory {
    /// A memory over `[base, base + size)` with a granule of 1 byte, all of it one hole.
    ///
    /// Errors for a zero size or a range whose end `base + size` is not representable.
    pub fn new(base: u64, size: u64, fit: Fit) -> Result<Memory, PlaceError> {
        Memory::with_granule(base, size, fit, 1)
    }

    /// A memory over `[base, base + size)` whose blocks are multiples of `granule` bytes (a
    /// power of two) and start on multiples of it; `base` and `size` must be multiples too.
    pub fn with_granule(
        base: u64,
        size: u64,
        fit: Fit,
        granule: u64,
    ) -> Result<Memory, PlaceError> {
        if size == 0 {
            return Err(PlaceError::ZeroSize);
        }
        if base.checked_add(size).is_none() {
            return Err(PlaceError::RangeOverflow { base, size });
        }
        if !granule.is_power_of_two() {
            return Err(PlaceError::BadGranule { granule });
        }
        if !base.is_multiple_of(granule) || !size.is_multiple_of(granule) {
            return Err(PlaceError::Misaligned {
                base,
                size,
                granule,
            });
        }
        Ok(Memory {
            base,
            size,
            granule,
            fit,
            blocks: BTreeMap::new(),
            holes: BTreeMap::from([(base, size)]),
            freed: BTreeSet::new(),
            rover: base,
            stats: PlaceStats::default(),
        })
    }

    /// The first address of the managed range.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The size of the managed range in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The address one past the managed range.
    pub fn end(&self) -> u64 {
        // Checked at construction.
        self.base + self.size
    }

    /// The managed range as a region.
    pub fn range(&self) -> Region {
        Region {
            base: self.base,
            size: self.size,
        }
    }

    /// The granule every block start and size is a multiple of.
    pub fn granule(&self) -> u64 {
        self.granule
    }

    /// The placement policy.
    pub fn fit(&self) -> Fit {
        self.fit
    }

    /// Next fit's roving pointer: the end of the most recent placement (the base after a
    /// compaction or before any placement). It is maintained under every policy but only next
    /// fit consults it.
    pub fn rover(&self) -> u64 {
        self.rover
    }

    /// Places a block of `size` bytes for `owner`, rounded up to the granule, in the hole the
    /// policy chooses, and returns the block's base; `None` when no hole fits (or `size` is 0,
    /// or rounding it overflows).
    pub fn allocate(&mut self, owner: u64, size: u64) -> Option<u64> {
        let Some(need) = self.round(size) else {
            self.stats.failures += 1;
            return None;
        };
        let (examined, chosen) = self.search(need);
        self.stats.holes_examined += examined;
        let Some((hole, hole_size)) = chosen else {
            self.stats.failures += 1;
            return None;
        };
        self.holes.remove(&hole);
        if hole_size > need {
            self.holes.insert(hole + need, hole_size - need);
        }
        self.forget_freed(hole, need);
        self.blocks.insert(
            hole,
            Entry {
                owner,
                size: need,
                requested: size,
            },
        );
        self.rover = hole + need;
        self.stats.allocations += 1;
        Some(hole)
    }

    /// Frees the block that starts at `base` and returns its region; the freed range coalesces
    /// with the holes directly below and above it.
    ///
    /// Errors for an address that is not the start of an allocated block, saying whether it is
    /// a double free, a stray pointer into a hole or into a block, or outside the range.
    pub fn free(&mut self, base: u64) -> Result<Region, PlaceError> {
        let Some(entry) = self.blocks.remove(&base) else {
            return Err(self.diagnose(base));
        };
        self.release(base, entry.size);
        self.freed.insert(base);
        self.stats.frees += 1;
        Ok(Region {
            base,
            size: entry.size,
        })
    }

    /// Frees every block of `owner`, in ascending address order, and returns their regions.
    pub fn free_owner(&mut self, owner: u64) -> Vec<Region> {
        let bases: Vec<u64> = self
            .blocks
            .iter()
            .filter(|(_, e)| e.owner == owner)
            .map(|(&b, _)| b)
            .collect();
        bases
            .into_iter()
            .filter_map(|b| self.free(b).ok())
            .collect()
    }

    /// Grows or shrinks the block at `base` in place to `new_size` bytes (rounded up to the
    /// granule) and returns its new region.
    ///
    /// Shrinking returns the tail to the hole list (coalescing with a hole above). Growing
    /// takes the low end of the hole directly above the block, and fails with
    /// [`PlaceError::NoRoom`] when there is no such hole or it is too small; the block is then
    /// unchanged. Also errors for a base that is not the start of a block (as [`Memory::free`]
    /// does), a zero size, or a size that overflows when rounded.
    pub fn resize_in_place(&mut self, base: u64, new_size: u64) -> Result<Region, PlaceError> {
        let Some(&entry) = self.blocks.get(&base) else {
            return Err(self.diagnose(base));
        };
        if new_size == 0 {
            return Err(PlaceError::ZeroResize { base });
        }
        let need = self
            .round(new_size)
            .ok_or(PlaceError::SizeOverflow { size: new_size })?;
        if need < entry.size {
            self.release(base + need, entry.size - need);
            self.stats.shrinks += 1;
        } else if need > entry.size {
            let above = base + entry.size;
            let extra = need - entry.size;
            match self.holes.get(&above).copied() {
                Some(available) if available >= extra => {
                    self.holes.remove(&above);
                    if available > extra {
                        self.holes.insert(above + extra, available - extra);
                    }
                    self.forget_freed(above, extra);
                    self.stats.grows += 1;
                }
                available => {
                    self.stats.resize_failures += 1;
                    return Err(PlaceError::NoRoom {
                        base,
                        size: entry.size,
                        wanted: need,
                        available: available.unwrap_or(0),
                    });
                }
            }
        }
        self.blocks.insert(
            base,
            Entry {
                size: need,
                requested: new_size,
                ..entry
            },
        );
        Ok(Region { base, size: need })
    }

    /// The allocated block that starts at `base`, if there is one.
    pub fn block(&self, base: u64) -> Option<Block> {
        self.blocks.get(&base).map(|e| Block {
            owner: e.owner,
            region: Region { base, size: e.size },
            requested: e.requested,
        })
    }

    /// The holes, in ascending address order.
    pub fn holes(&self) -> impl Iterator<Item = Region> + '_ {
        self.holes
            .iter()
            .map(|(&base, &size)| Region { base, size })
    }

    /// The allocated blocks with their owners, in ascending address order.
    pub fn blocks(&self) -> impl Iterator<Item = (u64, Region)> + '_ {
        self.blocks
            .iter()
            .map(|(&base, e)| (e.owner, Region { base, size: e.size }))
    }

    /// The total size of all holes.
    pub fn free_bytes(&self) -> u64 {
        self.holes.values().sum()
    }

    /// The current fragmentation figures.
    pub fn fragmentation(&self) -> Fragmentation {
        let mut f = Fragmentation::default();
        for &size in self.holes.values() {
            f.free_bytes += size;
            f.holes += 1;
            f.largest_hole = f.largest_hole.max(size);
        }
        for e in self.blocks.values() {
            f.allocated_bytes += e.size;
            f.requested_bytes += e.requested;
            f.blocks += 1;
        }
        f
    }

    /// The moves that pack every block toward the base in address order, listed in ascending
    /// address order (safe to copy one after another); blocks already in place are left out.
    pub fn compaction_plan(&self) -> Vec<Move> {
        let mut to = self.base;
        let mut plan = Vec::new();
        for (&from, e) in &self.blocks {
            if from != to {
                plan.push(Move {
                    owner: e.owner,
                    from,
                    to,
                    size: e.size,
                });
            }
            to += e.size;
        }
        plan
    }

    /// Applies a plan from [`Memory::compaction_plan`] (after the caller has copied the bytes):
    /// every block is relocated, one hole remains at the top, and the rover returns to the
    /// base. Errors, changing nothing, if the plan is not the current one.
    pub fn apply_compaction(&mut self, plan: &[Move]) -> Result<(), PlaceError> {
        if plan != self.compaction_plan().as_slice() {
            return Err(PlaceError::StalePlan);
        }
        self.pack(plan);
        Ok(())
    }

    /// Computes the compaction plan, applies it, and returns it (for the caller to copy the
    /// bytes in the order given).
    pub fn compact(&mut self) -> Vec<Move> {
        let plan = self.compaction_plan();
        self.pack(&plan);
        plan
    }

    /// The counters.
    pub fn stats(&self) -> &PlaceStats {
        &self.stats
    }

    /// Rounds a request up to the granule; `None` for 0 or on overflow.
    fn round(&self, size: u64) -> Option<u64> {
        if size == 0 {
            return None;
        }
        let mask = self.granule - 1;
        size.checked_add(mask).map(|s| s & !mask)
    }

    /// The policy's search: how many holes it examined, and the chosen hole (base, size).
    fn search(&self, need: u64) -> (u64, Option<(u64, u64)>) {
        let mut examined = 0;
        match self.fit {
            Fit::First => {
                for (&base, &size) in &self.holes {
                    examined += 1;
                    if size >= need {
                        return (examined, Some((base, size)));
                    }
                }
                (examined, None)
            }
            Fit::Next => {
                let start = self.next_fit_start();
                let order = self.holes.range(start..).chain(self.holes.range(..start));
                for (&base, &size) in order {
                    examined += 1;
                    if size >= need {
                        return (examined, Some((base, size)));
                    }
                }
                (examined, None)
            }
            Fit::Best | Fit::Worst => {
                let mut chosen: Option<(u64, u64)> = None;
                for (&base, &size) in &self.holes {
                    examined += 1;
                    if size < need {
                        continue;
                    }
                    let better = match chosen {
                        None => true,
                        Some((_, current)) if self.fit == Fit::Best => size < current,
                        Some((_, current)) => size > current,
                    };
                    if better {
                        chosen = Some((base, size));
                    }
                }
                (examined, chosen)
            }
        }
    }

    /// The base of the hole next fit's search starts at: the hole containing the rover, else
    /// the lowest hole above it, else the lowest hole (wrap-around). The search then covers
    /// `start..` followed by `..start`, so the exact key need only be a lower bound.
    fn next_fit_start(&self) -> u64 {
        match self.holes.range(..=self.rover).next_back() {
            Some((&base, &size)) if base + size > self.rover => base,
            _ => self.rover,
        }
    }

    /// Returns `[start, start + len)` to the hole list, merging with the holes on both sides.
    fn release(&mut self, start: u64, len: u64) {
        let end = start + len;
        let (mut start, mut len) = (start, len);
        if let Some((&below, &below_size)) = self.holes.range(..start).next_back() {
            if below + below_size == start {
                self.holes.remove(&below);
                start = below;
                len += below_size;
                self.stats.coalesces += 1;
            }
        }
        if let Some(above_size) = self.holes.remove(&end) {
            len += above_size;
            self.stats.coalesces += 1;
        }
        self.holes.insert(start, len);
    }

    /// Drops double-free markers inside `[start, start + len)`, now covered by a block.
    fn forget_freed(&mut self, start: u64, len: u64) {
        let covered: Vec<u64> = self.freed.range(start..start + len).copied().collect();
        for addr in covered {
            self.freed.remove(&addr);
        }
    }

    /// Why `addr` is not the start of an allocated block.
    fn diagnose(&self, addr: u64) -> PlaceError {
        if !self.range().contains(addr) {
            return PlaceError::OutOfRange {
                addr,
                range: self.range(),
            };
        }
        if let Some((&base, e)) = self.blocks.range(..=addr).next_back() {
            let block = Region { base, size: e.size };
            if block.contains(addr) {
                return PlaceError::StrayInBlock {
                    addr,
                    block,
                    owner: e.owner,
                };
            }
        }
        // Blocks and holes tile the range, so `addr` lies in a hole.
        let hole = self
            .holes
            .range(..=addr)
            .next_back()
            .map(|(&base, &size)| Region { base, size })
            .unwrap_or(Region {
                base: addr,
                size: 0,
            });
        if self.freed.contains(&addr) {
            PlaceError::DoubleFree { addr, hole }
        } else {
            PlaceError::StrayInHole { addr, hole }
        }
    }

    /// Relocates every block as the compaction plan says and rebuilds the hole list.
    fn pack(&mut self, plan: &[Move]) {
        let mut packed = BTreeMap::new();
        let mut to = self.base;
        for e in self.blocks.values() {
            packed.insert(to, *e);
            to += e.size;
        }
        self.blocks = packed;
        self.holes.clear();
        if to < self.end() {
            self.holes.insert(to, self.end() - to);
        }
        self.freed.clear();
        self.rover = self.base;
        self.stats.compactions += 1;
        self.stats.blocks_moved += plan.len() as u64;
        self.stats.bytes_moved += plan.iter().map(|m| m.size).sum::<u64>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: u64 = 1024;

    /// One step of a placement script, with what it must produce.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Allocate `size` bytes for `owner`: the expected base and holes examined.
        Alloc(u64, u64, Option<u64>, u64),
        /// Free the block at this base (must succeed).
        Free(u64),
    }

    /// Runs `ops` on `mem`, checking every placement address and search cost, then checks the
    /// final holes (base, size).
    fn check(mem: &mut Memory, ops: &[Op], holes: &[(u64, u64)]) {
        for (step, &op) in ops.iter().enumerate() {
            match op {
                Op::Alloc(owner, size, at, examined) => {
                    let before = mem.stats().holes_examined;
                    assert_eq!(mem.allocate(owner, size), at, "step {step}: {op:?}");
                    let cost = mem.stats().holes_examined - before;
                    assert_eq!(cost, examined, "step {step}: holes examined by {op:?}");
                }
                Op::Free(base) => {
                    mem.free(base)
                        .unwrap_or_else(|e| panic!("step {step}: {e}"));
                }
            }
        }
        let got: Vec<(u64, u64)> = mem.holes().map(|h| (h.base, h.size)).collect();
        assert_eq!(got, holes, "final holes");
    }

    /// The Silberschatz layout in KB: holes of 100, 500, 200, 300, 600 at 0, 110, 620, 830,
    /// 1140, separated by allocated 10 KB blocks at 100, 610, 820, 1130 (owners 91, 93, 95,
    /// 97). It is built by carving all nine pieces from the single hole, then freeing five.
    fn silberschatz(fit: Fit) -> Memory {
        let mut mem = Memory::with_granule(0, 1740 * K, fit, K).unwrap();
        let layout = [100, 10, 500, 10, 200, 10, 300, 10, 600];
        let mut at = 0;
        for (i, &kb) in layout.iter().enumerate() {
            assert_eq!(mem.allocate(90 + i as u64, kb * K), Some(at * K));
            at += kb;
        }
        for base in [0, 110, 620, 830, 1140] {
            mem.free(base * K).unwrap();
        }
        mem
    }

    #[test]
    fn silberschatz_first_fit() {
        // 212 -> 110 (hole 500; examined 100, 500); the rest is [322, 610).
        // 417 -> 1140 (examined 100, 288, 200, 300, 600); rest [1557, 1740).
        // 112 -> 322 (examined 100, 288); rest [434, 610).
        // 426 waits: holes 100, 176, 200, 300, 183, all 5 examined.
        let mut mem = silberschatz(Fit::First);
        let ops = [
            Op::Alloc(1, 212 * K, Some(110 * K), 2),
            Op::Alloc(2, 417 * K, Some(1140 * K), 5),
            Op::Alloc(3, 112 * K, Some(322 * K), 2),
            Op::Alloc(4, 426 * K, None, 5),
        ];
        let holes = [(0, 100), (434, 176), (620, 200), (830, 300), (1557, 183)];
        check(&mut mem, &ops, &holes.map(|(b, s)| (b * K, s * K)));
        assert_eq!(mem.stats().failures, 1);
    }

    #[test]
    fn silberschatz_best_fit() {
        // Every search examines all 5 holes.
        // 212 -> 830 (300 is the smallest >= 212); rest [1042, 1130) = 88.
        // 417 -> 110 (500); rest [527, 610) = 83.
        // 112 -> 620 (200; the 88 and 83 remnants are too small); rest [732, 820) = 88.
        // 426 -> 1140 (600); rest [1566, 1740) = 174.
        let mut mem = silberschatz(Fit::Best);
        let ops = [
            Op::Alloc(1, 212 * K, Some(830 * K), 5),
            Op::Alloc(2, 417 * K, Some(110 * K), 5),
            Op::Alloc(3, 112 * K, Some(620 * K), 5),
            Op::Alloc(4, 426 * K, Some(1140 * K), 5),
        ];
        let holes = [(0, 100), (527, 83), (732, 88), (1042, 88), (1566, 174)];
        check(&mut mem, &ops, &holes.map(|(b, s)| (b * K, s * K)));
    }

    #[test]
    fn silberschatz_worst_fit() {
        // 212 -> 1140 (600); rest [1352, 1740) = 388.
        // 417 -> 110 (500, now the largest); rest [527, 610) = 83.
        // 112 -> 1352 (388 beats 300); rest [1464, 1740) = 276.
        // 426 waits: the largest hole is 300.
        let mut mem = silberschatz(Fit::Worst);
        let ops = [
            Op::Alloc(1, 212 * K, Some(1140 * K), 5),
            Op::Alloc(2, 417 * K, Some(110 * K), 5),
            Op::Alloc(3, 112 * K, Some(1352 * K), 5),
            Op::Alloc(4, 426 * K, None, 5),
        ];
        let holes = [(0, 100), (527, 83), (620, 200), (830, 300), (1464, 276)];
        check(&mut mem, &ops, &holes.map(|(b, s)| (b * K, s * K)));
    }

    #[test]
    fn silberschatz_next_fit() {
        // Building the layout left the rover at 1740, the end of the last block placed (the
        // 600 KB one, since freed), which is the top: the first search wraps to the lowest hole.
        // 212 -> 110 (examined 100, 500); rover 322, inside the rest [322, 610).
        // 417: starts at [322, 610) = 288, then 200, 300, 600 -> 1140 (4 examined); rover 1557.
        // 112: starts at [1557, 1740) = 183 -> 1557 (1 examined; first fit would take 322).
        // 426: 71 at [1669, 1740), wraps: 100, 288, 200, 300: waits after 5.
        let mut mem = silberschatz(Fit::Next);
        assert_eq!(mem.rover(), 1740 * K);
        let ops = [
            Op::Alloc(1, 212 * K, Some(110 * K), 2),
            Op::Alloc(2, 417 * K, Some(1140 * K), 4),
            Op::Alloc(3, 112 * K, Some(1557 * K), 1),
            Op::Alloc(4, 426 * K, None, 5),
        ];
        let holes = [(0, 100), (322, 288), (620, 200), (830, 300), (1669, 71)];
        check(&mut mem, &ops, &holes.map(|(b, s)| (b * K, s * K)));
    }

    #[test]
    fn next_fit_rover_follows_merges_and_consumption() {
        let mut mem = Memory::new(0, 1000, Fit::Next).unwrap();
        let ops = [
            Op::Alloc(1, 100, Some(0), 1),   // rover 100
            Op::Alloc(2, 100, Some(100), 1), // rover 200
            Op::Alloc(3, 100, Some(200), 1), // rover 300; hole [300, 1000)
            Op::Free(100),                   // holes [100, 200), [300, 1000)
            // The rover (300) starts the search at [300, 1000): first fit would take 100.
            Op::Alloc(4, 50, Some(300), 1), // rover 350; holes [100, 200), [350, 1000)
            // Freeing 300 merges [300, 350) with [350, 1000): the rover (350) now lies inside
            // the merged hole [300, 1000), which is carved from its low end.
            Op::Free(300),
            Op::Alloc(5, 30, Some(300), 1), // rover 330; holes [100, 200), [330, 1000)
            // Consume the hole the rover is in exactly: rover 1000 = the top.
            Op::Alloc(6, 670, Some(330), 1),
            // The rover is at the top: wrap to the lowest hole, [100, 200).
            Op::Alloc(7, 60, Some(100), 1), // rover 160; hole [160, 200)
            // Too big for the only hole: examined once (wrapping stops at the start).
            Op::Alloc(8, 41, None, 1),
            Op::Free(200), // [160, 200) + [200, 300): one hole [160, 300)
            // Rover 160 is the merged hole's base.
            Op::Alloc(9, 140, Some(160), 1), // consumed; rover 300 lies in a block
            Op::Free(0),                     // hole [0, 100)
            // No hole contains or lies above the rover (300): wrap to [0, 100).
            Op::Alloc(10, 100, Some(0), 1),
        ];
        check(&mut mem, &ops, &[]);
    }

    #[test]
    fn next_fit_starts_at_the_hole_above_a_rover_inside_a_block() {
        let mut mem = Memory::new(0, 1000, Fit::Next).unwrap();
        let ops = [
            Op::Alloc(1, 100, Some(0), 1),
            Op::Alloc(2, 100, Some(100), 1),
            Op::Alloc(3, 100, Some(200), 1),
            Op::Alloc(4, 100, Some(300), 1),
            Op::Free(0),
            Op::Free(200), // holes [0, 100), [200, 300), [400, 1000); rover 400
            // Rover 400 is the base of [400, 1000).
            Op::Alloc(5, 600, Some(400), 1), // consumed; rover 1000
            Op::Alloc(6, 50, Some(0), 1),    // wrap; rover 50 inside [50, 100)
            Op::Alloc(7, 50, Some(50), 1),   // consumed; rover 100 is block 2's base
            Op::Free(50),                    // hole [50, 100) below the rover
            // The rover lies in a block: start at the lowest hole above it, [200, 300), not at
            // [50, 100) as first fit would.
            Op::Alloc(8, 10, Some(200), 1),
        ];
        check(&mut mem, &ops, &[(50, 50), (210, 90)]);
    }

    #[test]
    fn frees_coalesce_on_both_sides() {
        let mut mem = Memory::new(0x1000, 600, Fit::First).unwrap();
        let ops = [
            Op::Alloc(1, 100, Some(0x1000), 1),
            Op::Alloc(2, 100, Some(0x1000 + 100), 1),
            Op::Alloc(3, 100, Some(0x1000 + 200), 1),
            Op::Alloc(4, 100, Some(0x1000 + 300), 1),
            Op::Free(0x1000 + 100), // no neighbouring hole: no coalesce
            Op::Free(0x1000 + 300), // merges with the top hole [+400, +600): 1
            Op::Free(0x1000 + 200), // merges below and above: 2
        ];
        check(&mut mem, &ops, &[(0x1000 + 100, 500)]);
        assert_eq!(mem.stats().coalesces, 3);
        mem.free(0x1000).unwrap(); // merges above: 4, one hole over the whole range
        assert_eq!(mem.holes().collect::<Vec<_>>(), [mem.range()]);
        assert_eq!(mem.stats().coalesces, 4);
        assert_eq!(mem.stats().frees, 4);
    }

    #[test]
    fn bad_frees_say_what_went_wrong() {
        let mut mem = Memory::new(0x100, 0x300, Fit::First).unwrap();
        let a = mem.allocate(7, 0x80).unwrap();
        let b = mem.allocate(8, 0x80).unwrap();
        mem.free(a).unwrap();
        let cases: [(u64, &str); 5] = [
            (a, "double free: the block at 0x100 has already been freed (it lies in the hole [0x100, 0x180))"),
            (a + 4, "stray pointer: 0x104 lies in the hole [0x100, 0x180), not in an allocated block"),
            (b + 8, "stray pointer: 0x188 is inside the block [0x180, 0x200) of owner 8, not at its start"),
            (0x50, "0x50 is outside the managed range [0x100, 0x400)"),
            (0x400, "0x400 is outside the managed range [0x100, 0x400)"),
        ];
        for (addr, message) in cases {
            let err = mem.free(addr).unwrap_err();
            assert_eq!(err.to_string(), message, "free({addr:#x})");
        }
        // Once a block is placed at the freed base, it is an ordinary block again.
        assert_eq!(mem.allocate(9, 0x10), Some(a)); // hole [0x110, 0x180)
        mem.free(b).unwrap(); // one hole [0x110, 0x400)
        assert!(matches!(mem.free(b), Err(PlaceError::DoubleFree { .. })));
        // A block placed over the freed base's address (not at it) makes it a stray pointer.
        assert_eq!(mem.allocate(10, 0x100), Some(0x110)); // [0x110, 0x210) covers 0x180
        assert!(matches!(
            mem.free(b),
            Err(PlaceError::StrayInBlock { owner: 10, .. })
        ));
        mem.free(a).unwrap();
        assert_eq!(mem.stats().frees, 3);
    }

    #[test]
    fn fragmentation_figures() {
        // [0, 1000): ten blocks of 100, then frees at 100, 300, 400, 600, 800, 900 leave
        // blocks at 0, 200, 500, 700 and holes [100, 200) 100, [300, 500) 200 (two frees
        // merged), [600, 700) 100, [800, 1000) 200 (merged).
        // Free 600 bytes in 4 holes, the largest 200: external = 1 - 200/600 = 2/3.
        let mut mem = Memory::new(0, 1000, Fit::First).unwrap();
        for owner in 0..10 {
            assert_eq!(mem.allocate(owner, 100), Some(owner * 100));
        }
        for base in [100, 300, 400, 600, 800, 900] {
            mem.free(base).unwrap();
        }
        let holes: Vec<_> = mem.holes().map(|h| (h.base, h.size)).collect();
        assert_eq!(holes, [(100, 100), (300, 200), (600, 100), (800, 200)]);
        let f = mem.fragmentation();
        assert_eq!(
            f,
            Fragmentation {
                free_bytes: 600,
                holes: 4,
                largest_hole: 200,
                allocated_bytes: 400,
                requested_bytes: 400,
                blocks: 4,
            }
        );
        assert!((f.external() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f.rounding_waste(), 0);
        // Nothing free: 0 by definition; one hole: 0.
        assert_eq!(Fragmentation::default().external(), 0.0);
        mem.compact();
        assert_eq!(mem.fragmentation().external(), 0.0);
    }

    #[test]
    fn granule_rounding_and_waste() {
        // Granule 64: 1 -> 64, 65 -> 128, 64 -> 64. Waste = 63 + 63 + 0.
        let mut mem = Memory::with_granule(0x1000, 0x1000, Fit::First, 64).unwrap();
        assert_eq!(mem.allocate(1, 1), Some(0x1000));
        assert_eq!(mem.allocate(2, 65), Some(0x1040));
        assert_eq!(mem.allocate(3, 64), Some(0x10c0));
        let f = mem.fragmentation();
        assert_eq!((f.allocated_bytes, f.requested_bytes), (256, 130));
        assert_eq!(f.rounding_waste(), 126);
        assert_eq!(mem.allocate(4, 0), None);
        assert_eq!(mem.allocate(4, u64::MAX), None);
        assert_eq!(mem.stats().failures, 2);
    }

    #[test]
    fn construction_errors() {
        let cases: [(u64, u64, u64, PlaceError); 5] = [
            (0, 0, 1, PlaceError::ZeroSize),
            (
                u64::MAX,
                1,
                1,
                PlaceError::RangeOverflow {
                    base: u64::MAX,
                    size: 1,
                },
            ),
            (0, 96, 3, PlaceError::BadGranule { granule: 3 }),
            (
                8,
                64,
                16,
                PlaceError::Misaligned {
                    base: 8,
                    size: 64,
                    granule: 16,
                },
            ),
            (
                0,
                40,
                16,
                PlaceError::Misaligned {
                    base: 0,
                    size: 40,
                    granule: 16,
                },
            ),
        ];
        for (base, size, granule, err) in cases {
            let got = Memory::with_granule(base, size, Fit::First, granule).unwrap_err();
            assert_eq!(got, err);
        }
        // The range may end exactly at u64::MAX.
        assert!(Memory::new(u64::MAX - 16, 16, Fit::Worst).is_ok());
    }

    #[test]
    fn resize_in_place() {
        let mut mem = Memory::new(0, 1000, Fit::First).unwrap();
        let a = mem.allocate(1, 100).unwrap();
        let b = mem.allocate(2, 100).unwrap(); // hole [200, 1000)
        assert_eq!(
            mem.resize_in_place(b, 300),
            Ok(Region {
                base: 100,
                size: 300
            })
        );
        assert_eq!(
            mem.holes().next(),
            Some(Region {
                base: 400,
                size: 600
            })
        );
        // a has block b directly above it.
        assert_eq!(
            mem.resize_in_place(a, 101),
            Err(PlaceError::NoRoom {
                base: 0,
                size: 100,
                wanted: 101,
                available: 0
            })
        );
        assert_eq!(
            mem.resize_in_place(b, 901),
            Err(PlaceError::NoRoom {
                base: 100,
                size: 300,
                wanted: 901,
                available: 600
            })
        );
        // Grow to exactly the end (the hole above is consumed), then shrink: the tail becomes
        // the top hole again.
        assert_eq!(mem.resize_in_place(b, 900).map(|r| r.end()), Ok(1000));
        assert_eq!(mem.holes().count(), 0);
        assert_eq!(
            mem.resize_in_place(b, 50),
            Ok(Region {
                base: 100,
                size: 50
            })
        );
        assert_eq!(
            mem.holes().collect::<Vec<_>>(),
            [Region {
                base: 150,
                size: 850
            }]
        );
        assert!(matches!(
            mem.resize_in_place(b + 1, 10),
            Err(PlaceError::StrayInBlock { .. })
        ));
        assert_eq!(
            mem.resize_in_place(b, 0),
            Err(PlaceError::ZeroResize { base: b })
        );
        let s = mem.stats();
        assert_eq!((s.grows, s.shrinks, s.resize_failures), (2, 1, 2));
        assert_eq!(mem.block(b).map(|blk| blk.requested), Some(50));
    }

    #[test]
    fn compaction_hand_example() {
        // [0, 1000): A [0, 100), B [150, 350), C [400, 450), holes at 100, 350, 450.
        // A stays; B 150 -> 100; C 400 -> 300; one hole [350, 1000); 250 bytes moved.
        let mut mem = Memory::new(0, 1000, Fit::Next).unwrap();
        for (owner, size) in [(1, 100), (9, 50), (2, 200), (9, 50), (3, 50)] {
            mem.allocate(owner, size).unwrap();
        }
        mem.free(100).unwrap();
        mem.free(350).unwrap();
        let plan = mem.compaction_plan();
        let expected = [
            Move {
                owner: 2,
                from: 150,
                to: 100,
                size: 200,
            },
            Move {
                owner: 3,
                from: 400,
                to: 300,
                size: 50,
            },
        ];
        assert_eq!(plan, expected);
        assert_eq!(mem.apply_compaction(&plan[..1]), Err(PlaceError::StalePlan));
        mem.apply_compaction(&plan).unwrap();
        let blocks: Vec<_> = mem.blocks().map(|(o, r)| (o, r.base, r.size)).collect();
        assert_eq!(blocks, [(1, 0, 100), (2, 100, 200), (3, 300, 50)]);
        assert_eq!(
            mem.holes().collect::<Vec<_>>(),
            [Region {
                base: 350,
                size: 650
            }]
        );
        assert_eq!(mem.rover(), 0);
        let s = mem.stats();
        assert_eq!((s.compactions, s.blocks_moved, s.bytes_moved), (1, 2, 250));
        // Already compact: an empty plan.
        assert!(mem.compact().is_empty());
        assert_eq!(mem.stats().compactions, 2);
    }

    #[test]
    fn fit_names_round_trip() {
        for fit in Fit::ALL {
            assert_eq!(fit.name().parse::<Fit>(), Ok(fit));
            assert_eq!(fit.to_string(), fit.name());
        }
        let err = "first-fit".parse::<Fit>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown placement policy `first-fit`: expected one of first, next, best, worst"
        );
    }
}
