//! A binary buddy allocator over physical frames.
//!
//! A [`Buddy`] manages the frames `[first, first + frames)`. A block of *order* `k` is `2^k`
//! contiguous frames whose first frame number is a multiple of `2^k` (aligned relative to
//! frame 0, so frame numbers themselves are aligned, whatever `first` is). The *buddy* of the
//! block at `f` of order `k` is the block at `f XOR 2^k`; together they make the block of order
//! `k + 1` at `f & !(2^(k+1) - 1)`. No block is larger than `max_order`.
//!
//! # Initial layout
//!
//! The range need not be a power of two nor aligned. It is covered from the bottom up by
//! maximal aligned blocks: starting at `p = first`, the block at `p` has the largest order `k`
//! such that `k <= max_order`, `p` is a multiple of `2^k`, and `p + 2^k <= first + frames`;
//! then `p` advances by `2^k`. For example 11 frames from 0 are blocks 0 (order 3), 8 (order 1)
//! and 10 (order 0); 10 frames from 3 are 3 (order 0), 4 (order 2), 8 (order 2) and 12
//! (order 0). This is exactly the layout that freeing everything coalesces back to.
//!
//! ```
//! use vmlab_os::buddy::Buddy;
//!
//! let mut b = Buddy::new(0, 11, 6).unwrap();
//! assert_eq!(b.free_layout(), [(0, 3), (8, 1), (10, 0)]);
//! // Order 0 takes the free order-0 block, 10; order 1 the order-1 block, 8; order 2 splits
//! // block 0 (order 3) into 0 and 4 and takes 0.
//! assert_eq!(b.alloc(0), Some(10));
//! assert_eq!(b.alloc(1), Some(8));
//! assert_eq!(b.alloc(2), Some(0));
//! assert_eq!((b.free_frames(), b.stats().splits), (4, 1));
//! for (frame, order) in [(10, 0), (8, 1), (0, 2)] {
//!     b.free(frame, order).unwrap();
//! }
//! assert_eq!(b.free_layout(), [(0, 3), (8, 1), (10, 0)]);
//! ```
//!
//! # Allocation
//!
//! [`Buddy::alloc`] takes the smallest order `j >= order` that has a free block, and the
//! lowest-addressed free block of that order. While `j > order` it splits: the block's upper
//! half becomes a free block of order `j - 1` and the lower half is kept (one split each time).
//! The result is the lowest frame of the block, so the lowest-addressed pieces are handed out
//! first. Each order's free blocks are kept in an ordered set, so allocation and freeing cost
//! `O(max_order · log n)`.
//!
//! # Freeing
//!
//! [`Buddy::free`] takes the block's first frame and its order. While the order is below
//! `max_order` and the block's buddy is free at the same order, the two merge (one merge each
//! time). A buddy that lies partly outside the range is never free as a whole block, so blocks
//! at the range's ragged edges never merge past it. A frame that is not the start of an
//! allocated block of that order is an error that says which mistake it is (double free, wrong
//! order, a frame inside a block, a free frame, out of range); nothing changes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The largest order any allocator supports (blocks of `2^63` frames).
pub const MAX_ORDER: u8 = 63;

/// Counters of what a [`Buddy`] has done since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BuddyStats {
    /// Successful allocations.
    pub allocs: u64,
    /// Successful frees.
    pub frees: u64,
    /// Blocks split in two by allocations.
    pub splits: u64,
    /// Buddy pairs merged by frees.
    pub merges: u64,
    /// Allocations refused (no free block large enough, or an order above `max_order`).
    pub failures: u64,
}

/// Why a [`Buddy`] was not built, or a frame not freed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuddyError {
    /// The range holds no frames.
    #[error("a buddy allocator needs at least one frame")]
    ZeroFrames,
    /// The range runs past the largest frame number.
    #[error("{frames} frames from frame {first:#x} run past the largest frame number")]
    Overflow {
        /// The requested first frame.
        first: u64,
        /// The requested number of frames.
        frames: u64,
    },
    /// The maximum order is larger than [`MAX_ORDER`].
    #[error("a maximum order of {max_order} is too large: at most 63 is supported")]
    MaxOrderTooLarge {
        /// The requested maximum order.
        max_order: u8,
    },
    /// The order is larger than this allocator's maximum, so no such block exists.
    #[error("order {order} is above this allocator's maximum order {max_order}")]
    OrderTooLarge {
        /// The order given.
        order: u8,
        /// The allocator's maximum order.
        max_order: u8,
    },
    /// The frame is outside the managed range.
    #[error("frame {frame:#x} is outside the managed frames [{first:#x}, {end:#x})")]
    OutOfRange {
        /// The offending frame.
        frame: u64,
        /// The first managed frame.
        first: u64,
        /// One past the last managed frame.
        end: u64,
    },
    /// The frame starts an allocated block, but of another order.
    #[error("wrong order: the block at frame {frame:#x} has order {actual}, not {given}")]
    WrongOrder {
        /// The frame given.
        frame: u64,
        /// The order given.
        given: u8,
        /// The block's actual order.
        actual: u8,
    },
    /// The frame was the start of a block that has already been freed.
    #[error("double free: the block at frame {frame:#x} (order {order}) has already been freed")]
    DoubleFree {
        /// The frame given.
        frame: u64,
        /// The order the block had when it was freed.
        order: u8,
    },
    /// The frame lies inside an allocated block but is not its start.
    #[error("frame {frame:#x} is inside the allocated block at frame {block:#x} (order {order}), not at its start")]
    InsideBlock {
        /// The frame given.
        frame: u64,
        /// The first frame of the block it lies in.
        block: u64,
        /// That block's order.
        order: u8,
    },
    /// The frame is free and was not the start of a freed block.
    #[error("frame {frame:#x} is free memory, not the start of an allocated block")]
    NotAllocated {
        /// The frame given.
        frame: u64,
    },
}

/// A binary buddy allocator over a range of frame numbers.
///
/// See the [module documentation](self) for the layout, allocation and freeing rules.
#[derive(Clone, Debug)]
pub struct Buddy {
    first: u64,
    frames: u64,
    max_order: u8,
    /// The free blocks of each order `0..=max_order`, by first frame.
    free: Vec<BTreeSet<u64>>,
    /// The allocated blocks: first frame to order.
    allocated: BTreeMap<u64, u8>,
    /// First frames (and orders) of freed blocks not since covered by an allocation, for
    /// double-free diagnosis.
    freed: BTreeMap<u64, u8>,
    free_frames: u64,
    stats: BuddyStats,
}

impl Buddy {
    /// An allocator over `frames` frames numbered from `first`, all free, laid out as the
    /// maximal aligned blocks of at most `max_order` (see the module documentation).
    ///
    /// Errors for zero frames, a range past the largest frame number (`first + frames` must be
    /// representable), or `max_order` above [`MAX_ORDER`].
    pub fn new(first: u64, frames: u64, max_order: u8) -> Result<Buddy, BuddyError> {
        if frames == 0 {
            return Err(BuddyError::ZeroFrames);
        }
        let end = first
            .checked_add(frames)
            .ok_or(BuddyError::Overflow { first, frames })?;
        if max_order > MAX_ORDER {
            return Err(BuddyError::MaxOrderTooLarge { max_order });
        }
        let mut free = vec![BTreeSet::new(); usize::from(max_order) + 1];
        let mut p = first;
        while p < end {
            // trailing_zeros(0) is 64, capped by max_order <= 63.
            let mut k = max_order.min(p.trailing_zeros() as u8);
            while 1u64 << k > end - p {
                k -= 1;
            }
            free[usize::from(k)].insert(p);
            p += 1u64 << k;
        }
        Ok(Buddy {
            first,
            frames,
            max_order,
            free,
            allocated: BTreeMap::new(),
            freed: BTreeMap::new(),
            free_frames: frames,
            stats: BuddyStats::default(),
        })
    }

    /// The smallest order whose blocks hold `frames` frames: `ceil(log2(frames))`, with
    /// `order_for(0) == order_for(1) == 0`. Counts above `2^63` give 64, which no allocator
    /// can satisfy.
    pub fn order_for(frames: u64) -> u8 {
        match frames.checked_next_power_of_two() {
            Some(p) => p.trailing_zeros() as u8,
            None => 64,
        }
    }

    /// The first managed frame.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The number of managed frames.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// One past the last managed frame.
    pub fn end(&self) -> u64 {
        // Checked at construction.
        self.first + self.frames
    }

    /// The largest block order.
    pub fn max_order(&self) -> u8 {
        self.max_order
    }

    /// Allocates `2^order` contiguous frames aligned to `2^order` and returns the first; `None`
    /// when no free block of that order or larger exists, or `order` exceeds `max_order`.
    pub fn alloc(&mut self, order: u8) -> Option<u64> {
        let found = (order..=self.max_order).find(|&j| !self.free[usize::from(j)].is_empty());
        let Some(mut j) = found else {
            self.stats.failures += 1;
            return None;
        };
        let frame = self.free[usize::from(j)].pop_first()?;
        while j > order {
            j -= 1;
            self.free[usize::from(j)].insert(frame + (1u64 << j));
            self.stats.splits += 1;
        }
        let size = 1u64 << order;
        let covered: Vec<u64> = self
            .freed
            .range(frame..frame + size)
            .map(|(&f, _)| f)
            .collect();
        for f in covered {
            self.freed.remove(&f);
        }
        self.allocated.insert(frame, order);
        self.free_frames -= size;
        self.stats.allocs += 1;
        Some(frame)
    }

    /// Frees the block of `2^order` frames that starts at `frame`, merging it with its buddy
    /// as long as the buddy is free.
    ///
    /// Errors, changing nothing, unless `frame` starts an allocated block of exactly that
    /// order; the error says which mistake it is.
    pub fn free(&mut self, frame: u64, order: u8) -> Result<(), BuddyError> {
        if order > self.max_order {
            return Err(BuddyError::OrderTooLarge {
                order,
                max_order: self.max_order,
            });
        }
        if frame < self.first || frame >= self.end() {
            return Err(BuddyError::OutOfRange {
                frame,
                first: self.first,
                end: self.end(),
            });
        }
        match self.allocated.get(&frame) {
            Some(&actual) if actual == order => {}
            Some(&actual) => {
                return Err(BuddyError::WrongOrder {
                    frame,
                    given: order,
                    actual,
                })
            }
            None => return Err(self.diagnose(frame)),
        }
        self.allocated.remove(&frame);
        self.free_frames += 1u64 << order;
        self.freed.insert(frame, order);
        let (mut block, mut k) = (frame, order);
        while k < self.max_order {
            let buddy = block ^ (1u64 << k);
            if !self.free[usize::from(k)].remove(&buddy) {
                break;
            }
            block = block.min(buddy);
            k += 1;
            self.stats.merges += 1;
        }
        self.free[usize::from(k)].insert(block);
        self.stats.frees += 1;
        Ok(())
    }

    /// The number of free frames.
    pub fn free_frames(&self) -> u64 {
        self.free_frames
    }

    /// The number of allocated frames.
    pub fn allocated_frames(&self) -> u64 {
        self.frames - self.free_frames
    }

    /// The number of free blocks of `order` (0 for an order above `max_order`).
    pub fn free_blocks(&self, order: u8) -> usize {
        self.free.get(usize::from(order)).map_or(0, BTreeSet::len)
    }

    /// The first frames of the free blocks of `order`, ascending (none for an order above
    /// `max_order`).
    pub fn free_list(&self, order: u8) -> impl Iterator<Item = u64> + '_ {
        self.free
            .get(usize::from(order))
            .into_iter()
            .flat_map(|set| set.iter().copied())
    }

    /// Every free block as (first frame, order), ascending by frame.
    pub fn free_layout(&self) -> Vec<(u64, u8)> {
        let mut layout: Vec<(u64, u8)> = (0..=self.max_order)
            .flat_map(|k| self.free_list(k).map(move |f| (f, k)))
            .collect();
        layout.sort_unstable();
        layout
    }

    /// The allocated blocks as (first frame, order), ascending by frame.
    pub fn allocated_blocks(&self) -> impl Iterator<Item = (u64, u8)> + '_ {
        self.allocated.iter().map(|(&f, &k)| (f, k))
    }

    /// The largest order with a free block, if any frame is free.
    pub fn largest_free_order(&self) -> Option<u8> {
        (0..=self.max_order)
            .rev()
            .find(|&k| !self.free[usize::from(k)].is_empty())
    }

    /// Whether `frame` lies inside an allocated block (not necessarily at its start).
    pub fn is_allocated(&self, frame: u64) -> bool {
        self.block_containing(frame).is_some()
    }

    /// The order of the allocated block that starts at `frame`, if one does.
    pub fn allocated_order(&self, frame: u64) -> Option<u8> {
        self.allocated.get(&frame).copied()
    }

    /// The counters.
    pub fn stats(&self) -> &BuddyStats {
        &self.stats
    }

    /// The allocated block (first frame, order) that `frame` lies in.
    fn block_containing(&self, frame: u64) -> Option<(u64, u8)> {
        let (&block, &order) = self.allocated.range(..=frame).next_back()?;
        (frame - block < 1u64 << order).then_some((block, order))
    }

    /// Why `frame`, inside the range, does not start an allocated block.
    fn diagnose(&self, frame: u64) -> BuddyError {
        if let Some((block, order)) = self.block_containing(frame) {
            BuddyError::InsideBlock {
                frame,
                block,
                order,
            }
        } else if let Some(&order) = self.freed.get(&frame) {
            BuddyError::DoubleFree { frame, order }
        } else {
            BuddyError::NotAllocated { frame }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step of a buddy script.
    #[derive(Clone, Copy, Debug)]
    enum Op {
        /// Allocate this order: the expected frame.
        Alloc(u8, Option<u64>),
        /// Free (frame, order): must succeed.
        Free(u64, u8),
        /// Free (frame, order): must fail with this message.
        Bad(u64, u8, &'static str),
    }

    /// Builds an allocator, checks its initial free layout, runs `ops`, and checks the final
    /// free layout and (splits, merges).
    fn check(
        (first, frames, max_order): (u64, u64, u8),
        initial: &[(u64, u8)],
        ops: &[Op],
        last: &[(u64, u8)],
        splits_merges: (u64, u64),
    ) {
        let mut b = Buddy::new(first, frames, max_order).unwrap();
        assert_eq!(b.free_layout(), initial, "initial layout");
        for (step, &op) in ops.iter().enumerate() {
            match op {
                Op::Alloc(order, at) => assert_eq!(b.alloc(order), at, "step {step}: {op:?}"),
                Op::Free(frame, order) => b
                    .free(frame, order)
                    .unwrap_or_else(|e| panic!("step {step}: {e}")),
                Op::Bad(frame, order, message) => {
                    let err = b.free(frame, order).unwrap_err();
                    assert_eq!(err.to_string(), message, "step {step}: {op:?}");
                }
            }
            let listed: u64 = b.free_layout().iter().map(|&(_, k)| 1u64 << k).sum();
            assert_eq!(listed, b.free_frames(), "step {step}: free frame count");
        }
        assert_eq!(b.free_layout(), last, "final layout");
        let s = b.stats();
        assert_eq!((s.splits, s.merges), splits_merges, "splits, merges");
    }

    #[test]
    fn sixteen_frames_split_and_coalesce() {
        // Order 0 splits 16 -> 8 + 8, 8 -> 4 + 4, 4 -> 2 + 2, 2 -> 1 + 1 (4 splits), leaving
        // free 1 (o0), 2 (o1), 4 (o2), 8 (o3). Order 1 then takes 2 directly. Freeing 0 finds
        // buddy 1 free (merge to 0/o1) but 2 is allocated; freeing 2 merges 2+0 -> 0/o2,
        // +4 -> 0/o3, +8 -> 0/o4: 4 merges in all.
        let ops = [
            Op::Alloc(0, Some(0)),
            Op::Alloc(1, Some(2)),
            Op::Free(0, 0),
            Op::Free(2, 1),
        ];
        check((0, 16, 4), &[(0, 4)], &ops, &[(0, 4)], (4, 4));
    }

    #[test]
    fn free_blocks_after_the_first_split() {
        let mut b = Buddy::new(0, 16, 4).unwrap();
        assert_eq!(b.alloc(0), Some(0));
        let counts: Vec<usize> = (0..=5).map(|k| b.free_blocks(k)).collect();
        assert_eq!(counts, [1, 1, 1, 1, 0, 0]);
        assert_eq!(b.free_frames(), 15);
        assert!(b.is_allocated(0) && !b.is_allocated(1));
        assert_eq!(b.largest_free_order(), Some(3));
    }

    #[test]
    fn odd_counts_use_maximal_aligned_blocks() {
        // 11 from 0: 0 takes order 3 (8 <= 11); 8 is 8-aligned but 8 + 8 > 11, 8 + 4 > 11,
        // so order 1; 10 + 2 > 11, so order 0.
        check(
            (0, 11, 6),
            &[(0, 3), (8, 1), (10, 0)],
            &[],
            &[(0, 3), (8, 1), (10, 0)],
            (0, 0),
        );
        // 10 from 3 (frames 3..13): 3 is odd (order 0); 4 is 4-aligned and 4 + 4 <= 13 but not
        // 8-aligned (order 2); 8 + 8 > 13 (order 2); 12 + 2 > 13 (order 0).
        // Allocating order 0 twice takes the order-0 blocks 3 and 12; a third splits 4/o2 into
        // 4/o1 kept + 6/o1 free, then 4/o0 kept + 5/o0 free (2 splits). Freeing 4 merges with
        // 5 and 6 back to 4/o2, but its order-2 buddy 0 lies outside the range (2 merges);
        // freeing 3 cannot merge: its buddy 2 is outside.
        let ops = [
            Op::Alloc(0, Some(3)),
            Op::Alloc(0, Some(12)),
            Op::Alloc(0, Some(4)),
            Op::Free(4, 0),
            Op::Free(3, 0),
        ];
        let initial = [(3, 0), (4, 2), (8, 2), (12, 0)];
        check(
            (3, 10, 5),
            &initial,
            &ops,
            &[(3, 0), (4, 2), (8, 2)],
            (2, 2),
        );
        // max_order caps block sizes: 16 frames at most order 2 are four blocks of 4.
        let capped = [(0, 2), (4, 2), (8, 2), (12, 2)];
        check((0, 16, 2), &capped, &[Op::Alloc(3, None)], &capped, (0, 0));
        // Order 0 only: every frame its own block, no splits or merges.
        let ops = [Op::Alloc(0, Some(5)), Op::Alloc(0, Some(6)), Op::Free(5, 0)];
        check(
            (5, 3, 0),
            &[(5, 0), (6, 0), (7, 0)],
            &ops,
            &[(5, 0), (7, 0)],
            (0, 0),
        );
    }

    #[test]
    fn bad_frees_say_what_went_wrong() {
        // 8 frames from 8, max order 3: alloc o1 -> 8 (splits 8/o3 -> 12/o2, 10/o1 free),
        // alloc o0 -> 10 (split 10/o1 -> 11/o0 free).
        let ops = [
            Op::Alloc(1, Some(8)),
            Op::Alloc(0, Some(10)),
            Op::Bad(
                8,
                0,
                "wrong order: the block at frame 0x8 has order 1, not 0",
            ),
            Op::Bad(
                9,
                0,
                "frame 0x9 is inside the allocated block at frame 0x8 (order 1), not at its start",
            ),
            Op::Bad(
                11,
                0,
                "frame 0xb is free memory, not the start of an allocated block",
            ),
            Op::Bad(
                16,
                0,
                "frame 0x10 is outside the managed frames [0x8, 0x10)",
            ),
            Op::Bad(7, 0, "frame 0x7 is outside the managed frames [0x8, 0x10)"),
            Op::Bad(8, 4, "order 4 is above this allocator's maximum order 3"),
            Op::Free(10, 0), // merges with 11 -> 10/o1 (1 merge); 8/o1 is allocated
            Op::Bad(
                10,
                0,
                "double free: the block at frame 0xa (order 0) has already been freed",
            ),
            Op::Bad(
                10,
                1,
                "double free: the block at frame 0xa (order 0) has already been freed",
            ),
            Op::Free(8, 1), // merges 8+10 -> 8/o2, + 12 -> 8/o3 (2 merges)
            // Splits 8/o3 (12/o2 free again: 4 splits in all); covers 8 and 10, so neither is
            // a double free any more.
            Op::Alloc(2, Some(8)),
            Op::Bad(
                10,
                0,
                "frame 0xa is inside the allocated block at frame 0x8 (order 2), not at its start",
            ),
        ];
        check((8, 8, 3), &[(8, 3)], &ops, &[(12, 2)], (4, 3));
    }

    #[test]
    fn construction_errors_and_order_for() {
        assert_eq!(Buddy::new(0, 0, 3).unwrap_err(), BuddyError::ZeroFrames);
        assert_eq!(
            Buddy::new(u64::MAX, 1, 3).unwrap_err(),
            BuddyError::Overflow {
                first: u64::MAX,
                frames: 1
            }
        );
        assert_eq!(
            Buddy::new(0, 8, 64).unwrap_err(),
            BuddyError::MaxOrderTooLarge { max_order: 64 }
        );
        // The whole frame-number space but the last: blocks of every order from 63 down.
        let b = Buddy::new(0, u64::MAX, MAX_ORDER).unwrap();
        assert_eq!(b.free_layout().len(), 64);
        assert_eq!(b.free_frames(), u64::MAX);
        let cases = [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 3),
            (1 << 63, 63),
            (u64::MAX, 64),
        ];
        for (frames, order) in cases {
            assert_eq!(Buddy::order_for(frames), order, "order_for({frames})");
        }
    }

    #[test]
    fn out_of_memory_counts_failures() {
        let mut b = Buddy::new(0, 4, 2).unwrap();
        assert_eq!(b.alloc(3), None); // above max order
        assert_eq!(b.alloc(2), Some(0));
        assert_eq!(b.alloc(0), None); // everything allocated
        assert_eq!(b.stats().failures, 2);
        assert_eq!(b.stats().allocs, 1);
        assert_eq!(b.free_frames(), 0);
    }
}
