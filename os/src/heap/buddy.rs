//! The binary buddy system (Knuth, TAOCP vol. 1, 2.5 "Dynamic Storage Allocation";
//! OSTEP ch. 17 "Buddy Allocation").
//!
//! Every block is `2^k` bytes (`k` its *order*, at least 5: 32 bytes) and lies at an offset
//! from the *origin* that is a multiple of its size; its *buddy* is the block of the same
//! order at `origin + ((b - origin) XOR 2^k)`, the other half of the block of order `k + 1`
//! the two were split from. A request of `n` bytes takes the smallest order with
//! `2^k >= n + 16` (the power-of-two rounding is the buddy system's internal
//! fragmentation): the allocator looks at the free lists from order `k` upwards, takes the
//! first block it finds, and splits it in halves down to order `k`, the upper halves going
//! to the free lists of their orders. A freed block merges with its buddy while the buddy is
//! free and of the same order, and the merged block goes to the list of its order.
//!
//! The origin is aligned to `2^grow_order`, so a block of order up to `grow_order` is at an
//! address that is a multiple of its size. The region grows at its top (the *frontier*,
//! which is the break) in blocks of `2^grow_order` bytes, or one block of the order a larger
//! request needs, aligned to its size (the frontier's gap below it becomes free blocks):
//! the whole space is reserved lazily, as the break moves.
//!
//! Everything is in guest memory:
//!
//! ```text
//! arena+0   magic        arena+8  origin        arena+16  frontier (one past the last block)
//! arena+24  head[5] (32 B)  head[6] (64 B) ... head[61]: the free list of each order
//! ...       (the break stops here until the first block is needed)
//! origin    the blocks:
//!
//!   |  order 5 | order 5 |      order 6      |           order 7 (free)              | ...
//!   origin     +32       +64                 +128                                   +256
//!
//! block b:  b+0  header: tag | offset/16 << 8 | order << 1 | in use
//!           free:   b+16 next free block of its order, b+24 previous (0 ends the list)
//!           in use: payload at b+16 (malloc), or at b+offset for memalign, with the word
//!                   `forward tag | offset` just below it (at payload-16)
//! ```
//!
//! A free checks the tag, the order, the block's alignment and its offset, so that a
//! pointer it never returned is invalid and a block whose header says "free" is a double
//! free. A merged block's upper half keeps its "free" header inside the merged block (as
//! the block it was), so a second free of it is still caught.

use super::alloc::{Allocator, Block, Freed, Op, Stop};
use super::tags::tagged_header;

/// A binary buddy allocator.
#[derive(Clone, Copy, Debug)]
pub struct BuddyAlloc {
    /// The region grows in blocks of `2^grow_order` bytes (taken as 5 to 40: e.g. 16 for
    /// 64 KiB); the origin is aligned to that size.
    pub grow_order: u32,
}

/// The smallest order: blocks of 32 bytes.
pub const MIN_ORDER: u32 = 5;
/// The largest order.
pub const MAX_ORDER: u32 = 61;
const MAGIC: u64 = 0x7964_6462_626c_6d76; // "vmlbbddy"
const ORIGIN: u64 = 8;
const FRONTIER: u64 = 16;
const HEADS: u64 = 24;
const HEADER_END: u64 = HEADS + (MAX_ORDER - MIN_ORDER + 1) as u64 * 8;
const TAG: u64 = 0xb0dd;
const FWD: u64 = 0xf0dd;

fn header(order: u32, off: u64, used: bool) -> u64 {
    TAG << 48 | (off / 16) << 8 | u64::from(order) << 1 | u64::from(used)
}

fn head(arena: u64, order: u32) -> u64 {
    arena + HEADS + u64::from(order - MIN_ORDER) * 8
}

/// The smallest order whose blocks hold `bytes`.
fn order_for(bytes: u64) -> u32 {
    if bytes > 1 << 63 {
        return 64;
    }
    bytes
        .max(1 << MIN_ORDER)
        .next_power_of_two()
        .trailing_zeros()
}

impl BuddyAlloc {
    /// The growth order, within its bounds.
    fn unit(&self) -> u32 {
        self.grow_order.clamp(MIN_ORDER, 40)
    }

    fn push(op: &mut Op, arena: u64, b: u64, order: u32) -> Result<(), Stop> {
        op.store(b, header(order, 0, false))?;
        let h = head(arena, order);
        let first = op.load(h)?;
        op.store(b + 16, first)?;
        op.store(b + 24, 0)?;
        if first != 0 {
            op.store(first + 24, b)?;
        }
        op.store(h, b)
    }

    fn unlink(op: &mut Op, arena: u64, b: u64, order: u32) -> Result<(), Stop> {
        let next = op.load(b + 16)?;
        let prev = op.load(b + 24)?;
        if prev == 0 {
            op.store(head(arena, order), next)?;
        } else {
            op.store(prev + 16, next)?;
        }
        if next != 0 {
            op.store(next + 24, prev)?;
        }
        Ok(())
    }

    /// Block `b` of `order` becomes free: merged with its buddy while the buddy is free and
    /// of the same order, then put on its order's list.
    fn release(op: &mut Op, arena: u64, b: u64, order: u32) -> Result<(), Stop> {
        let origin = op.load(arena + ORIGIN)?;
        let frontier = op.load(arena + FRONTIER)?;
        // Its own header says "free" even where it merges into its buddy below.
        op.store(b, header(order, 0, false))?;
        let (mut b, mut k) = (b, order);
        while k < MAX_ORDER {
            let size = 1u64 << k;
            let buddy = origin + ((b - origin) ^ size);
            if buddy.checked_add(size).is_none_or(|e| e > frontier) {
                break;
            }
            op.steps += 1;
            if op.load(buddy)? != header(k, 0, false) {
                break;
            }
            Self::unlink(op, arena, buddy, k)?;
            op.free_removed.push(size);
            b = b.min(buddy);
            k += 1;
        }
        Self::push(op, arena, b, k)?;
        op.free_added.push(1 << k);
        Ok(())
    }

    /// A free block of `order`, taken off its list: from the list of `order`, else split
    /// from the first larger one.
    fn take(op: &mut Op, arena: u64, order: u32) -> Result<Option<u64>, Stop> {
        for j in order..=MAX_ORDER {
            op.steps += 1;
            let b = op.load(head(arena, j))?;
            if b == 0 {
                continue;
            }
            Self::unlink(op, arena, b, j)?;
            op.free_removed.push(1 << j);
            let mut k = j;
            while k > order {
                k -= 1;
                Self::push(op, arena, b + (1 << k), k)?;
                op.free_added.push(1 << k);
            }
            return Ok(Some(b));
        }
        Ok(None)
    }

    /// Moves the frontier up by a block of `max(order, grow_order)`, aligned to its size;
    /// the gap below it becomes free blocks. False if the break cannot move.
    fn grow(&self, op: &mut Op, arena: u64, order: u32) -> Result<bool, Stop> {
        let t = order.max(self.unit());
        if t > MAX_ORDER {
            return Ok(false);
        }
        let origin = op.load(arena + ORIGIN)?;
        let frontier = op.load(arena + FRONTIER)?;
        let size = 1u64 << t;
        let Some(at) = (frontier - origin)
            .checked_next_multiple_of(size)
            .and_then(|r| r.checked_add(origin))
        else {
            return Ok(false);
        };
        let Some(end) = at.checked_add(size) else {
            return Ok(false);
        };
        if !op.mem.grow_to(end) {
            return Ok(false);
        }
        op.store(arena + FRONTIER, end)?;
        // The gap, in the largest aligned blocks that fit, from below.
        let mut x = frontier;
        while x < at {
            let j = (x - origin)
                .trailing_zeros()
                .min(63 - (at - x).leading_zeros())
                .min(MAX_ORDER);
            Self::release(op, arena, x, j)?;
            x += 1 << j;
        }
        Self::release(op, arena, at, t)?;
        Ok(true)
    }

    /// A block of `order`, or `None` when the heap cannot grow.
    fn block(&self, op: &mut Op, arena: u64, order: u32) -> Result<Option<u64>, Stop> {
        if order > MAX_ORDER {
            return Ok(None);
        }
        if let Some(b) = Self::take(op, arena, order)? {
            return Ok(Some(b));
        }
        if !self.grow(op, arena, order)? {
            return Ok(None);
        }
        Self::take(op, arena, order)
    }

    /// The block of payload `ptr`, if its metadata says it is one: `(block, order, offset,
    /// in use)`.
    fn block_of(op: &mut Op, arena: u64, ptr: u64) -> Result<Option<(u64, u32, u64, bool)>, Stop> {
        let origin = op.load(arena + ORIGIN)?;
        let frontier = op.load(arena + FRONTIER)?;
        if !ptr.is_multiple_of(16) || ptr < origin + 16 || ptr >= frontier {
            return Ok(None);
        }
        let Some((b, off, h)) = tagged_header(op, ptr, origin, TAG, FWD)? else {
            return Ok(None);
        };
        let k = ((h >> 1) & 0x7f) as u32;
        if !(MIN_ORDER..=MAX_ORDER).contains(&k)
            || !(b - origin).is_multiple_of(1 << k)
            || b + (1 << k) > frontier
        {
            return Ok(None);
        }
        if h & 1 == 0 {
            return Ok(Some((b, k, off, false)));
        }
        if ((h >> 8) & ((1 << 40) - 1)) * 16 != off || ptr >= b + (1 << k) {
            return Ok(None);
        }
        Ok(Some((b, k, off, true)))
    }
}

impl Allocator for BuddyAlloc {
    fn name(&self) -> &'static str {
        "buddy"
    }

    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop> {
        let Some(origin) = (base + HEADER_END).checked_next_multiple_of(1 << self.unit()) else {
            return Ok(false);
        };
        if !op.mem.grow_to(base + HEADER_END) {
            return Ok(false);
        }
        op.store(base, MAGIC)?;
        op.store(base + ORIGIN, origin)?;
        op.store(base + FRONTIER, origin)?;
        for k in MIN_ORDER..=MAX_ORDER {
            op.store(head(base, k), 0)?;
        }
        Ok(true)
    }

    fn malloc(&self, op: &mut Op, arena: u64, size: u64) -> Result<Option<Block>, Stop> {
        let k = order_for(size.saturating_add(16));
        let Some(b) = self.block(op, arena, k)? else {
            return Ok(None);
        };
        op.store(b, header(k, 16, true))?;
        Ok(Some(Block {
            ptr: b + 16,
            granted: 1 << k,
        }))
    }

    fn memalign(
        &self,
        op: &mut Op,
        arena: u64,
        align: u64,
        size: u64,
    ) -> Result<Option<Block>, Stop> {
        if align <= 16 {
            return self.malloc(op, arena, size);
        }
        if align >= 1 << 44 {
            return Ok(None);
        }
        // Blocks are 32-aligned, so the first aligned payload with room for a header below
        // it is at most `align` bytes in.
        let k = order_for(size.saturating_add(align));
        let Some(b) = self.block(op, arena, k)? else {
            return Ok(None);
        };
        let p = (b + 16).next_multiple_of(align);
        let off = p - b;
        op.store(b, header(k, off, true))?;
        if off > 16 {
            op.store(p - 16, FWD << 48 | off)?;
        }
        Ok(Some(Block {
            ptr: p,
            granted: 1 << k,
        }))
    }

    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop> {
        match Self::block_of(op, arena, ptr)? {
            None => Ok(Freed::Invalid),
            Some((.., false)) => Ok(Freed::Double),
            Some((b, k, _, true)) => {
                Self::release(op, arena, b, k)?;
                Ok(Freed::Ok { granted: 1 << k })
            }
        }
    }

    fn usable_size(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<u64>, Stop> {
        Ok(match Self::block_of(op, arena, ptr)? {
            Some((_, k, off, true)) => Some((1 << k) - off),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::alloc::testing::{call, check_allocator, init, VecMem};
    use super::super::alloc::Call;
    use super::*;

    const A: BuddyAlloc = BuddyAlloc { grow_order: 16 };

    fn word(m: &VecMem, addr: u64) -> u64 {
        m.words[((addr - m.base) / 8) as usize]
    }

    /// The free blocks of each order, as `(order, address)`.
    fn free_blocks(m: &VecMem, arena: u64) -> Vec<(u32, u64)> {
        let mut v = Vec::new();
        for k in MIN_ORDER..=MAX_ORDER {
            let mut cur = word(m, head(arena, k));
            while cur != 0 {
                v.push((k, cur));
                cur = word(m, cur + 16);
            }
        }
        v
    }

    fn malloc(m: &mut VecMem, arena: u64, n: u64) -> (u64, u64) {
        let r = call(&A, m, arena, Call::Malloc, [n, 0, 0]).0;
        (r.ret, r.allocated[0].2)
    }

    #[test]
    fn passes_the_checker() {
        for seed in 0..3 {
            check_allocator(&A, 0xb0dd + seed, 25);
        }
        check_allocator(&BuddyAlloc { grow_order: 12 }, 0xb0dd, 20);
    }

    #[test]
    fn requests_round_up_to_powers_of_two() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        for (n, granted) in [
            (1, 32),
            (16, 32),
            (17, 64),
            (100, 128),
            (113, 256),
            (4000, 4096),
        ] {
            assert_eq!(malloc(&mut m, arena, n).1, granted, "{n}");
        }
        // Larger than a growth block: one block of its own order.
        assert_eq!(malloc(&mut m, arena, 100_000).1, 1 << 17);
    }

    #[test]
    fn a_block_is_aligned_to_its_size() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        for n in [1, 40, 300, 20, 2000, 5000, 100, 16, 9000, 60] {
            let (p, granted) = malloc(&mut m, arena, n);
            assert_eq!(
                (p - 16) % granted,
                0,
                "{n}: block {:#x} of {granted}",
                p - 16
            );
        }
    }

    #[test]
    fn a_split_leaves_one_free_block_per_order() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let (r, added, removed, _) = call(&A, &mut m, arena, Call::Malloc, [10, 0, 0]);
        let origin = word(&m, arena + ORIGIN);
        assert_eq!(r.ret, origin + 16);
        // The 64 KiB block appeared, went, and left halves of 32 KiB .. 32 B.
        assert_eq!(removed, vec![1 << 16]);
        let mut want: Vec<u64> = vec![1 << 16];
        want.extend((5..16).rev().map(|k| 1u64 << k));
        assert_eq!(added, want);
        let free = free_blocks(&m, arena);
        assert_eq!(free.len(), 11);
        for (k, b) in free {
            assert_eq!(b, origin + (1 << k), "order {k}");
        }
    }

    #[test]
    fn buddies_merge_back_into_the_block_they_came_from() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let origin = word(&m, arena + ORIGIN);
        let (a, _) = malloc(&mut m, arena, 16);
        let (b, _) = malloc(&mut m, arena, 16);
        assert_eq!(
            (a, b),
            (origin + 16, origin + 48),
            "buddies at origin and origin+32"
        );
        // Freeing one: its buddy is in use, so it stays of order 5.
        let (_, added, removed, _) = call(&A, &mut m, arena, Call::Free, [a, 0, 0]);
        assert_eq!((added, removed), (vec![32], vec![]));
        assert!(free_blocks(&m, arena).contains(&(5, origin)));
        // Freeing the other: it merges with its buddy, and upwards, into the 64 KiB block.
        let (_, added, removed, _) = call(&A, &mut m, arena, Call::Free, [b, 0, 0]);
        assert_eq!(added, vec![1 << 16]);
        assert_eq!(removed.iter().sum::<u64>(), (1 << 16) - 32);
        assert_eq!(free_blocks(&m, arena), vec![(16, origin)]);
        // Both are double frees now, and a pointer into a block is invalid.
        for p in [a, b] {
            let r = call(&A, &mut m, arena, Call::Free, [p, 0, 0]).0;
            assert_eq!(r.abort.map(|x| x.0), Some("free(): double free detected"));
        }
        // (The program fills its block: stale headers inside it are gone.)
        let (c, _) = malloc(&mut m, arena, 100);
        for i in 0..12 {
            m.words[((c + 8 * i - m.base) / 8) as usize] = 0x4141_4141_4141_4141;
        }
        let r = call(&A, &mut m, arena, Call::Free, [c + 32, 0, 0]).0;
        assert_eq!(r.abort.map(|x| x.0), Some("free(): invalid pointer"));
    }

    #[test]
    fn memalign_and_exhaustion() {
        let mut m = VecMem::new(0x1_0000, 0x1_0000 + (1 << 17));
        let arena = init(&A, &mut m);
        let r = call(&A, &mut m, arena, Call::Memalign, [256, 100, 0]).0;
        assert_eq!(r.ret % 256, 0);
        let u = call(&A, &mut m, arena, Call::UsableSize, [r.ret, 0, 0])
            .0
            .ret;
        assert!(u >= 100);
        assert!(call(&A, &mut m, arena, Call::Free, [r.ret, 0, 0])
            .0
            .abort
            .is_none());
        // The header and origin take the first 64 KiB: no room for 128 KiB.
        let (r, ..) = call(&A, &mut m, arena, Call::Malloc, [70_000, 0, 0]);
        assert_eq!((r.ret, r.errno), (0, Some(12)));
    }
}
