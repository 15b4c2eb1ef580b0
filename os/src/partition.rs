//! Fixed partitioning: memory divided once into partitions, each holding at most one process.
//!
//! [`Partitions`] lays partitions out back to back from a base address, in the order their
//! sizes are given (equal or unequal). A process of `n` bytes goes into the **best-fitting
//! free partition**: the smallest free partition of at least `n` bytes, ties to the lowest
//! index. The process uses `n` bytes of it; the rest, `size - n`, is internal fragmentation
//! (a process of 0 bytes is placed like any other and wastes its whole partition).
//!
//! A request that cannot be placed is one of two cases, which the kernel treats differently:
//! some partition is large enough but every such partition is busy (the process waits:
//! [`PartitionError::AllBusy`]), or no partition at all is large enough (the process can never
//! run: [`PartitionError::TooLarge`]). [`Partitions::fits_any`] answers which.
//!
//! For example, partitions of 100, 500, 200, 300 and 600 bytes at 0, 100, 600, 800 and 1100
//! take requests of 212, 417, 112 and 426 bytes in partitions 3 (300), 1 (500), 2 (200) and
//! 4 (600), wasting 88 + 83 + 88 + 174 = 433 bytes; a further request for 150 waits (the
//! only free partition, 100 bytes, is too small, though the busy ones would do), and one for
//! 700 fits none:
//!
//! ```
//! use vmlab_os::partition::{PartitionError, Partitions};
//!
//! let mut parts = Partitions::new(0, &[100, 500, 200, 300, 600]).unwrap();
//! let placed: Vec<usize> = [212, 417, 112, 426]
//!     .into_iter()
//!     .map(|size| parts.allocate(size, size).unwrap().index)
//!     .collect();
//! assert_eq!(placed, [3, 1, 2, 4]);
//! assert_eq!(parts.internal_fragmentation(), 433);
//! assert!(parts.fits_any(150));
//! assert_eq!(parts.try_allocate(5, 150), Err(PartitionError::AllBusy { size: 150 }));
//! assert!(!parts.fits_any(700));
//! assert_eq!(
//!     parts.try_allocate(6, 700),
//!     Err(PartitionError::TooLarge { size: 700, largest: 600 })
//! );
//! ```

use serde::{Deserialize, Serialize};

/// The process occupying a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Occupant {
    /// Who occupies the partition.
    pub owner: u64,
    /// The bytes the occupant asked for (at most the partition's size).
    pub used: u64,
}

/// One partition and its occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partition {
    /// The partition's position in the layout, from 0 at the base.
    pub index: usize,
    /// The partition's first address.
    pub base: u64,
    /// The partition's size in bytes.
    pub size: u64,
    /// The process in it, if any.
    pub occupant: Option<Occupant>,
}

impl Partition {
    /// The address one past the partition (saturating at `u64::MAX`; the partitions of a
    /// [`Partitions`] never saturate).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// The bytes wasted inside the partition: `size - used` when occupied, 0 when free.
    pub fn waste(&self) -> u64 {
        self.occupant
            .map_or(0, |o| self.size.saturating_sub(o.used))
    }
}

/// Where a process was placed: what a base-and-bounds pair needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartitionSlot {
    /// The partition's index.
    pub index: usize,
    /// The partition's first address (the base register).
    pub base: u64,
    /// The partition's size in bytes.
    pub size: u64,
    /// The bytes the process asked for (the bounds register).
    pub used: u64,
}

/// Counters of what [`Partitions`] has done since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartitionStats {
    /// Successful placements.
    pub allocations: u64,
    /// Requests refused because every large-enough partition was busy.
    pub busy: u64,
    /// Requests refused because no partition is large enough.
    pub too_large: u64,
    /// Successful frees.
    pub frees: u64,
}

/// Why a partition layout was not built, or a request or free refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// The layout lists no partitions.
    #[error("fixed partitioning needs at least one partition")]
    NoPartitions,
    /// A partition has no bytes.
    #[error("partition {index} has a size of 0 bytes; every partition needs a size")]
    ZeroSize {
        /// The partition's index.
        index: usize,
    },
    /// The partitions run past the end of the address space.
    #[error(
        "the partitions from {base:#x} run past the end of the address space at partition {index}"
    )]
    Overflow {
        /// The layout's base.
        base: u64,
        /// The first partition that does not fit.
        index: usize,
    },
    /// Equal partitions need a count of at least 1.
    #[error("equal partitioning needs at least one partition, not 0")]
    ZeroCount,
    /// The total does not divide into equal partitions.
    #[error("{total} bytes do not divide into {count} equal partitions")]
    Uneven {
        /// The total bytes.
        total: u64,
        /// The number of partitions.
        count: u64,
    },
    /// Too many partitions to hold in memory.
    #[error("{count} partitions are too many to keep track of")]
    TooMany {
        /// The number of partitions.
        count: u64,
    },
    /// No partition with this index exists.
    #[error("there is no partition {index} (there are {count})")]
    NoSuchPartition {
        /// The index given.
        index: usize,
        /// The number of partitions.
        count: usize,
    },
    /// The partition is already free.
    #[error("partition {index} is not occupied (a double free?)")]
    NotOccupied {
        /// The index given.
        index: usize,
    },
    /// Every partition large enough is busy; the request may be placed later.
    #[error("every partition that holds {size} bytes is busy")]
    AllBusy {
        /// The request's size.
        size: u64,
    },
    /// No partition is large enough; the request can never be placed.
    #[error("{size} bytes fit in no partition: the largest holds {largest}")]
    TooLarge {
        /// The request's size.
        size: u64,
        /// The largest partition's size.
        largest: u64,
    },
}

/// Memory divided into fixed partitions, each free or holding one process.
///
/// See the [module documentation](self) for the placement rule.
#[derive(Clone, Debug)]
pub struct Partitions {
    parts: Vec<Partition>,
    stats: PartitionStats,
}

impl Partitions {
    /// Partitions laid out back to back from `base` with the given sizes, in order, all free.
    ///
    /// Errors for an empty list, a zero size, or partitions that end past `u64::MAX`.
    pub fn new(base: u64, sizes: &[u64]) -> Result<Partitions, PartitionError> {
        if sizes.is_empty() {
            return Err(PartitionError::NoPartitions);
        }
        let mut parts = Vec::new();
        parts
            .try_reserve_exact(sizes.len())
            .map_err(|_| PartitionError::TooMany {
                count: sizes.len() as u64,
            })?;
        let mut at = base;
        for (index, &size) in sizes.iter().enumerate() {
            if size == 0 {
                return Err(PartitionError::ZeroSize { index });
            }
            let end = at
                .checked_add(size)
                .ok_or(PartitionError::Overflow { base, index })?;
            parts.push(Partition {
                index,
                base: at,
                size,
                occupant: None,
            });
            at = end;
        }
        Ok(Partitions {
            parts,
            stats: PartitionStats::default(),
        })
    }

    /// `count` equal partitions of `total / count` bytes from `base`.
    ///
    /// Errors for a count of 0, a total that `count` does not divide (so that no memory is
    /// silently left over), partitions of 0 bytes, overflow, or more partitions than can be
    /// kept in memory.
    pub fn equal(base: u64, total: u64, count: u64) -> Result<Partitions, PartitionError> {
        if count == 0 {
            return Err(PartitionError::ZeroCount);
        }
        if !total.is_multiple_of(count) {
            return Err(PartitionError::Uneven { total, count });
        }
        let size = total / count;
        if size == 0 {
            return Err(PartitionError::ZeroSize { index: 0 });
        }
        let n = usize::try_from(count).map_err(|_| PartitionError::TooMany { count })?;
        let mut sizes = Vec::new();
        sizes
            .try_reserve_exact(n)
            .map_err(|_| PartitionError::TooMany { count })?;
        sizes.resize(n, size);
        Partitions::new(base, &sizes)
    }

    /// Places `owner`, needing `size` bytes, in the best-fitting free partition (the smallest
    /// free one of at least `size` bytes, ties to the lowest index) and returns the slot.
    ///
    /// `None` when there is no such partition; [`Partitions::fits_any`] tells whether the
    /// request may be placed later, and [`Partitions::try_allocate`] says so in its error.
    pub fn allocate(&mut self, owner: u64, size: u64) -> Option<PartitionSlot> {
        self.try_allocate(owner, size).ok()
    }

    /// As [`Partitions::allocate`], but says why a request was refused:
    /// [`PartitionError::AllBusy`] (it would fit, later) or [`PartitionError::TooLarge`]
    /// (it never will).
    pub fn try_allocate(&mut self, owner: u64, size: u64) -> Result<PartitionSlot, PartitionError> {
        let best = self
            .parts
            .iter()
            .filter(|p| p.occupant.is_none() && p.size >= size)
            .min_by_key(|p| (p.size, p.index))
            .map(|p| p.index);
        let Some(index) = best else {
            return Err(if self.fits_any(size) {
                self.stats.busy += 1;
                PartitionError::AllBusy { size }
            } else {
                self.stats.too_large += 1;
                PartitionError::TooLarge {
                    size,
                    largest: self.largest(),
                }
            });
        };
        let part = &mut self.parts[index];
        part.occupant = Some(Occupant { owner, used: size });
        self.stats.allocations += 1;
        Ok(PartitionSlot {
            index,
            base: part.base,
            size: part.size,
            used: size,
        })
    }

    /// Whether some partition, free or busy, is large enough for `size` bytes.
    pub fn fits_any(&self, size: u64) -> bool {
        self.largest() >= size
    }

    /// The largest partition's size.
    pub fn largest(&self) -> u64 {
        self.parts.iter().map(|p| p.size).max().unwrap_or(0)
    }

    /// Frees partition `index` and returns where its occupant was.
    ///
    /// Errors for an index out of range or a partition that is already free.
    pub fn free(&mut self, index: usize) -> Result<PartitionSlot, PartitionError> {
        let count = self.parts.len();
        let part = self
            .parts
            .get_mut(index)
            .ok_or(PartitionError::NoSuchPartition { index, count })?;
        let occupant = part
            .occupant
            .take()
            .ok_or(PartitionError::NotOccupied { index })?;
        self.stats.frees += 1;
        Ok(PartitionSlot {
            index,
            base: part.base,
            size: part.size,
            used: occupant.used,
        })
    }

    /// The index of the first partition `owner` occupies, if any.
    pub fn find(&self, owner: u64) -> Option<usize> {
        self.parts
            .iter()
            .position(|p| p.occupant.is_some_and(|o| o.owner == owner))
    }

    /// The internal fragmentation: the sum over occupied partitions of `size - used`.
    pub fn internal_fragmentation(&self) -> u64 {
        self.parts.iter().map(Partition::waste).sum()
    }

    /// The number of free partitions.
    pub fn free_count(&self) -> usize {
        self.parts.iter().filter(|p| p.occupant.is_none()).count()
    }

    /// Every partition with its occupant, in address order.
    pub fn partitions(&self) -> &[Partition] {
        &self.parts
    }

    /// The counters.
    pub fn stats(&self) -> &PartitionStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step of a partition script.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Place (owner, size): the expected partition index, or the refusal.
        Alloc(u64, u64, Result<usize, Refused>),
        /// Free this partition (must succeed).
        Free(usize),
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Refused {
        Busy,
        TooLarge,
    }

    /// Runs `ops` on `parts`, checking each placement, then the internal fragmentation.
    fn check(parts: &mut Partitions, ops: &[Op], internal: u64) {
        for (step, &op) in ops.iter().enumerate() {
            match op {
                Op::Alloc(owner, size, want) => {
                    let got = parts.try_allocate(owner, size);
                    let got = match got {
                        Ok(slot) => {
                            let p = parts.partitions()[slot.index];
                            assert_eq!((slot.base, slot.size, slot.used), (p.base, p.size, size));
                            Ok(slot.index)
                        }
                        Err(PartitionError::AllBusy { .. }) => Err(Refused::Busy),
                        Err(PartitionError::TooLarge { .. }) => Err(Refused::TooLarge),
                        Err(e) => panic!("step {step}: unexpected {e}"),
                    };
                    assert_eq!(got, want, "step {step}: {op:?}");
                    assert_eq!(parts.fits_any(size), want != Err(Refused::TooLarge));
                }
                Op::Free(index) => {
                    parts
                        .free(index)
                        .unwrap_or_else(|e| panic!("step {step}: {e}"));
                }
            }
        }
        assert_eq!(
            parts.internal_fragmentation(),
            internal,
            "internal fragmentation"
        );
    }

    #[test]
    fn unequal_partitions_best_fit() {
        // Partitions 0..4 of 100, 500, 200, 300, 600 at 0, 100, 600, 800, 1100.
        // 212 -> 3 (300 is the smallest free >= 212), 417 -> 1 (500), 112 -> 2 (200),
        // 426 -> 4 (600). 150: only partition 0 (100) is free: busy, since 200..600 would do.
        // 700: larger than 600: too large. 90 -> 0 (100).
        // Waste: 88 + 83 + 88 + 174 + 10 = 443.
        let mut parts = Partitions::new(0, &[100, 500, 200, 300, 600]).unwrap();
        let bases: Vec<u64> = parts.partitions().iter().map(|p| p.base).collect();
        assert_eq!(bases, [0, 100, 600, 800, 1100]);
        let ops = [
            Op::Alloc(1, 212, Ok(3)),
            Op::Alloc(2, 417, Ok(1)),
            Op::Alloc(3, 112, Ok(2)),
            Op::Alloc(4, 426, Ok(4)),
            Op::Alloc(5, 150, Err(Refused::Busy)),
            Op::Alloc(6, 700, Err(Refused::TooLarge)),
            Op::Alloc(7, 90, Ok(0)),
        ];
        check(&mut parts, &ops, 443);
        assert_eq!(parts.find(2), Some(1));
        assert_eq!(parts.free_count(), 0);
        // Freeing partition 3 (waste 88) lets 150 in (waste 150).
        check(
            &mut parts,
            &[Op::Free(3), Op::Alloc(5, 150, Ok(3))],
            443 - 88 + 150,
        );
        let s = parts.stats();
        assert_eq!((s.allocations, s.busy, s.too_large, s.frees), (6, 1, 1, 1));
    }

    #[test]
    fn ties_go_to_the_lowest_index() {
        // Equal partitions of 250: each request takes the lowest free one.
        let mut parts = Partitions::equal(0x1000, 1000, 4).unwrap();
        let bases: Vec<u64> = parts.partitions().iter().map(|p| p.base).collect();
        assert_eq!(bases, [0x1000, 0x1000 + 250, 0x1000 + 500, 0x1000 + 750]);
        let ops = [
            Op::Alloc(1, 10, Ok(0)),
            Op::Alloc(2, 250, Ok(1)),
            Op::Alloc(3, 0, Ok(2)),
            Op::Free(0),
            Op::Alloc(4, 100, Ok(0)),
            Op::Alloc(5, 251, Err(Refused::TooLarge)),
            Op::Alloc(6, 1, Ok(3)),
            Op::Alloc(7, 1, Err(Refused::Busy)),
        ];
        // Waste: 150 + 0 + 250 + 249.
        check(&mut parts, &ops, 649);
    }

    #[test]
    fn errors() {
        let cases: [(u64, &[u64], PartitionError); 4] = [
            (0, &[], PartitionError::NoPartitions),
            (0, &[10, 0, 10], PartitionError::ZeroSize { index: 1 }),
            (
                u64::MAX - 10,
                &[5, 5, 1],
                PartitionError::Overflow {
                    base: u64::MAX - 10,
                    index: 2,
                },
            ),
            (
                1,
                &[u64::MAX],
                PartitionError::Overflow { base: 1, index: 0 },
            ),
        ];
        for (base, sizes, err) in cases {
            assert_eq!(Partitions::new(base, sizes).unwrap_err(), err, "{sizes:?}");
        }
        assert!(Partitions::new(u64::MAX - 10, &[5, 5]).is_ok());
        assert_eq!(
            Partitions::equal(0, 1000, 3).unwrap_err(),
            PartitionError::Uneven {
                total: 1000,
                count: 3
            }
        );
        assert_eq!(
            Partitions::equal(0, 1000, 0).unwrap_err(),
            PartitionError::ZeroCount
        );
        assert_eq!(
            Partitions::equal(0, 0, 4).unwrap_err(),
            PartitionError::ZeroSize { index: 0 }
        );
        assert!(matches!(
            Partitions::equal(0, u64::MAX, u64::MAX / 3),
            Err(PartitionError::TooMany { .. })
        ));

        let mut parts = Partitions::new(0, &[100, 200]).unwrap();
        let slot = parts.allocate(9, 150).unwrap();
        assert_eq!(
            slot,
            PartitionSlot {
                index: 1,
                base: 100,
                size: 200,
                used: 150
            }
        );
        assert_eq!(parts.free(1), Ok(slot));
        assert_eq!(
            parts.free(1).unwrap_err().to_string(),
            "partition 1 is not occupied (a double free?)"
        );
        assert_eq!(
            parts.free(2).unwrap_err().to_string(),
            "there is no partition 2 (there are 2)"
        );
        assert_eq!(
            parts.try_allocate(1, 201).unwrap_err().to_string(),
            "201 bytes fit in no partition: the largest holds 200"
        );
        assert_eq!(parts.stats().frees, 1);
    }
}
