//! Fixed-size pools: one pool of equal blocks per size class, no splitting, no coalescing
//! (OSTEP ch. 17's "segregated lists" in their simplest form; the pools of an embedded
//! system's allocator, or a memory pool per object size).
//!
//! The classes are blocks of 32, 64, 128, ..., 4096 bytes, each with a 16-byte header: a
//! request of `n` bytes takes a block of the smallest class with `n + 16` bytes. A pool whose
//! free list is empty grows by a *chunk* (eight blocks, at least a page, in whole pages)
//! taken from the top of the heap (the *bump* pointer, which moves the break), carved into
//! blocks that all go on its free list. A freed block goes back to the front of its pool's
//! list (LIFO: the next request of its class gets it). Blocks never merge or split, so
//! memory given to one class stays with it: two adjacent free 64-byte blocks never serve a
//! 128-byte request.
//!
//! A request larger than the largest class (`n + 16 > 4096`) takes a run of whole pages,
//! `n + 16` rounded up to the page size, from the bump pointer. Freed runs go on one more
//! list, and a later request reuses a run of *exactly* its size (the pool of page multiples;
//! again no splitting or merging) or takes a new run.
//!
//! Everything is in guest memory:
//!
//! ```text
//! arena+0   magic      arena+8   bump: the first byte no chunk or run has taken
//! arena+16  head[0] (32 B blocks) head[1] (64 B) ... head[7] (4096 B)   arena+80  run list
//! bump start (the first page boundary above the header): chunks and runs, in the order
//! they were taken
//!
//! chunk of 64 B blocks: | hdr | payload | hdr | payload | ...  (page-aligned, 64 B apart)
//!
//! block b:  b+0 header: tag | offset/16 << 8 | class << 1 | in use   (class 8: a run)
//!           b+8 a run's size in bytes
//!           free:   b+16 next free block of its pool (0 ends the list)
//!           in use: payload at b+16 (malloc), or at b+offset for memalign, with the word
//!                   `forward tag | offset` just below it (at payload-16)
//! ```

use super::alloc::{Allocator, Block, Freed, Op, Stop};
use super::tags::tagged_header;

/// Fixed-size pools per size class.
#[derive(Clone, Copy, Debug)]
pub struct PoolAlloc {
    /// The page size: chunks and runs are whole pages.
    pub page: u64,
}

/// The number of block classes: 32, 64, ..., 4096 bytes.
pub const CLASSES: u64 = 8;
/// The class number of a run of pages.
const RUN: u64 = CLASSES;
/// The blocks a chunk holds (at least; a chunk is at least a page).
pub const CHUNK_BLOCKS: u64 = 8;
const MAGIC: u64 = 0x6c6f_6f70_626c_6d76; // "vmlbpool"
const BUMP: u64 = 8;
const HEADS: u64 = 16;
const HEADER_END: u64 = HEADS + (CLASSES + 1) * 8;
const TAG: u64 = 0x9001;
const FWD: u64 = 0xf001;

fn header(class: u64, off: u64, used: bool) -> u64 {
    TAG << 48 | (off / 16) << 8 | class << 1 | u64::from(used)
}

/// A block by its metadata: `(block, class, size, payload offset, in use)`.
type Found = (u64, u64, u64, u64, bool);

fn head(arena: u64, class: u64) -> u64 {
    arena + HEADS + class * 8
}

/// The block size of class `c`.
pub fn block_size(c: u64) -> u64 {
    32 << c
}

impl PoolAlloc {
    fn page(&self) -> u64 {
        self.page.max(64).next_power_of_two()
    }

    /// The first byte of the chunks and runs.
    fn first(&self, arena: u64) -> u64 {
        (arena + HEADER_END).next_multiple_of(self.page())
    }

    /// The bytes of a chunk of class `c`.
    fn chunk(&self, c: u64) -> u64 {
        (CHUNK_BLOCKS * block_size(c)).next_multiple_of(self.page())
    }

    /// The class whose blocks hold `bytes` (header included), if one does.
    fn class_for(bytes: u64) -> Option<u64> {
        (0..CLASSES).find(|&c| block_size(c) >= bytes)
    }

    /// `bytes` more from the bump pointer (page-aligned), or `None` if the break cannot
    /// move.
    fn bump(op: &mut Op, arena: u64, bytes: u64) -> Result<Option<u64>, Stop> {
        let at = op.load(arena + BUMP)?;
        let Some(end) = at.checked_add(bytes) else {
            return Ok(None);
        };
        if !op.mem.grow_to(end) {
            return Ok(None);
        }
        op.store(arena + BUMP, end)?;
        Ok(Some(at))
    }

    /// Puts block `b` of class `c` at the front of its list, free.
    fn push(op: &mut Op, arena: u64, c: u64, b: u64) -> Result<(), Stop> {
        op.store(b, header(c, 0, false))?;
        let h = head(arena, c);
        let first = op.load(h)?;
        op.store(b + 16, first)?;
        op.store(h, b)
    }

    /// A block of class `c` (from its list, else from a new chunk), in use.
    fn block(&self, op: &mut Op, arena: u64, c: u64) -> Result<Option<u64>, Stop> {
        let size = block_size(c);
        let h = head(arena, c);
        op.steps += 1;
        let mut b = op.load(h)?;
        if b == 0 {
            let chunk = self.chunk(c);
            let Some(at) = Self::bump(op, arena, chunk)? else {
                return Ok(None);
            };
            // From the top down, so that the list runs in address order.
            for i in (0..chunk / size).rev() {
                Self::push(op, arena, c, at + i * size)?;
                op.free_added.push(size);
            }
            b = at;
        }
        let next = op.load(b + 16)?;
        op.store(h, next)?;
        op.store(b, header(c, 0, true))?;
        op.free_removed.push(size);
        Ok(Some(b))
    }

    /// A run of `bytes` (a page multiple): a free one of exactly that size, else a new one.
    fn run(&self, op: &mut Op, arena: u64, bytes: u64) -> Result<Option<u64>, Stop> {
        let h = head(arena, RUN);
        let mut prev = 0;
        let mut cur = op.load(h)?;
        while cur != 0 {
            op.steps += 1;
            let next = op.load(cur + 16)?;
            if op.load(cur + 8)? == bytes {
                if prev == 0 {
                    op.store(h, next)?;
                } else {
                    op.store(prev + 16, next)?;
                }
                op.store(cur, header(RUN, 0, true))?;
                op.free_removed.push(bytes);
                return Ok(Some(cur));
            }
            prev = cur;
            cur = next;
        }
        let Some(b) = Self::bump(op, arena, bytes)? else {
            return Ok(None);
        };
        op.store(b, header(RUN, 0, true))?;
        op.store(b + 8, bytes)?;
        Ok(Some(b))
    }

    /// A block or run of at least `bytes` (header and offset included) with its payload
    /// at the first multiple of `align` at least 16 bytes in: `(payload, granted)`.
    fn get(
        &self,
        op: &mut Op,
        arena: u64,
        bytes: u64,
        align: u64,
    ) -> Result<Option<(u64, u64)>, Stop> {
        // Blocks are 32-aligned and runs page-aligned, so the payload is at most `align`
        // (or 16) bytes in.
        let (b, granted) = match Self::class_for(bytes) {
            Some(c) => match self.block(op, arena, c)? {
                Some(b) => (b, block_size(c)),
                None => return Ok(None),
            },
            None => {
                let Some(run) = bytes.checked_next_multiple_of(self.page()) else {
                    return Ok(None);
                };
                match self.run(op, arena, run)? {
                    Some(b) => (b, run),
                    None => return Ok(None),
                }
            }
        };
        let p = (b + 16).next_multiple_of(align);
        let off = p - b;
        let w = op.load(b)?;
        op.store(b, w | (off / 16) << 8)?;
        if off > 16 {
            op.store(p - 16, FWD << 48 | off)?;
        }
        Ok(Some((p, granted)))
    }

    /// The block of payload `ptr`, if its metadata says it is one: `(block, class, size,
    /// offset, in use)`.
    fn block_of(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<Found>, Stop> {
        let first = self.first(arena);
        let bump = op.load(arena + BUMP)?;
        if !ptr.is_multiple_of(16) || ptr < first + 16 || ptr >= bump {
            return Ok(None);
        }
        let Some((b, off, h)) = tagged_header(op, ptr, first, TAG, FWD)? else {
            return Ok(None);
        };
        if !(b - first).is_multiple_of(32) {
            return Ok(None);
        }
        let c = (h >> 1) & 0x7f;
        let size = if c < CLASSES {
            block_size(c)
        } else if c == RUN {
            let size = op.load(b + 8)?;
            if size == 0
                || !size.is_multiple_of(self.page())
                || !(b - first).is_multiple_of(self.page())
            {
                return Ok(None);
            }
            size
        } else {
            return Ok(None);
        };
        if size > bump - b {
            return Ok(None);
        }
        if h & 1 == 0 {
            return Ok(Some((b, c, size, off, false)));
        }
        if ((h >> 8) & ((1 << 40) - 1)) * 16 != off || ptr >= b + size {
            return Ok(None);
        }
        Ok(Some((b, c, size, off, true)))
    }
}

impl Allocator for PoolAlloc {
    fn name(&self) -> &'static str {
        "pool"
    }

    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop> {
        if !op.mem.grow_to(base + HEADER_END) {
            return Ok(false);
        }
        op.store(base, MAGIC)?;
        op.store(base + BUMP, self.first(base))?;
        for c in 0..=CLASSES {
            op.store(head(base, c), 0)?;
        }
        Ok(true)
    }

    fn malloc(&self, op: &mut Op, arena: u64, size: u64) -> Result<Option<Block>, Stop> {
        Ok(self
            .get(op, arena, size.saturating_add(16), 16)?
            .map(|(ptr, granted)| Block { ptr, granted }))
    }

    fn memalign(
        &self,
        op: &mut Op,
        arena: u64,
        align: u64,
        size: u64,
    ) -> Result<Option<Block>, Stop> {
        if align >= 1 << 44 {
            return Ok(None);
        }
        let bytes = size.saturating_add(align.max(16));
        Ok(self
            .get(op, arena, bytes, align.max(16))?
            .map(|(ptr, granted)| Block { ptr, granted }))
    }

    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop> {
        match self.block_of(op, arena, ptr)? {
            None => Ok(Freed::Invalid),
            Some((.., false)) => Ok(Freed::Double),
            Some((b, c, size, _, true)) => {
                // Back to the front of its list (a run keeps its size word at b+8).
                Self::push(op, arena, c, b)?;
                op.free_added.push(size);
                Ok(Freed::Ok { granted: size })
            }
        }
    }

    fn usable_size(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<u64>, Stop> {
        Ok(match self.block_of(op, arena, ptr)? {
            Some((_, _, size, off, true)) => Some(size - off),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::alloc::testing::{call, check_allocator, init, VecMem};
    use super::super::alloc::Call;
    use super::*;

    const A: PoolAlloc = PoolAlloc { page: 4096 };

    fn malloc(m: &mut VecMem, arena: u64, n: u64) -> (u64, u64) {
        let r = call(&A, m, arena, Call::Malloc, [n, 0, 0]).0;
        (r.ret, r.allocated.first().map_or(0, |x| x.2))
    }

    fn free(m: &mut VecMem, arena: u64, p: u64) -> Option<&'static str> {
        call(&A, m, arena, Call::Free, [p, 0, 0])
            .0
            .abort
            .map(|x| x.0)
    }

    #[test]
    fn passes_the_checker() {
        for seed in 0..3 {
            check_allocator(&A, 0x9001 + seed, 25);
        }
    }

    #[test]
    fn requests_take_a_block_of_their_class() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        for (n, granted) in [(1, 32), (16, 32), (17, 64), (100, 128), (4080, 4096)] {
            assert_eq!(malloc(&mut m, arena, n).1, granted, "{n}");
        }
        // A new pool grows by a chunk: a page of 32-byte blocks, 128 blocks appear.
        let mut m2 = VecMem::new(0x1_0000, 0x40_0000);
        let arena2 = init(&A, &mut m2);
        let (_, added, removed, _) = call(&A, &mut m2, arena2, Call::Malloc, [10, 0, 0]);
        assert_eq!((added.len(), removed), (128, vec![32]));
        let (a, _) = malloc(&mut m, arena, 16);
        let (b, _) = malloc(&mut m, arena, 16);
        assert_eq!(b, a + 32, "the next block of the same chunk");
        // Larger than 4096 with its header: a run of whole pages.
        assert_eq!(malloc(&mut m, arena, 4081).1, 8192);
        assert_eq!(malloc(&mut m, arena, 10_000).1, 12288);
    }

    #[test]
    fn a_freed_block_is_reused_first_and_never_coalesces() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let (a, _) = malloc(&mut m, arena, 48);
        let (b, _) = malloc(&mut m, arena, 48);
        assert_eq!(b, a + 64, "adjacent 64-byte blocks");
        assert_eq!(free(&mut m, arena, a), None);
        let (_, added, removed, _) = call(&A, &mut m, arena, Call::Free, [b, 0, 0]);
        assert_eq!((added, removed), (vec![64], vec![]), "no merge");
        // 128 bytes of adjacent free space do not serve a 100-byte request: it takes a
        // block of the 128-byte pool, from a new chunk.
        let (c, granted) = malloc(&mut m, arena, 100);
        assert_eq!(granted, 128);
        assert!(
            c < a || c >= b + 64,
            "{c:#x} inside the freed 64-byte blocks"
        );
        // LIFO: the last freed 64-byte block comes back first, then the other.
        assert_eq!(malloc(&mut m, arena, 40).0, b);
        assert_eq!(malloc(&mut m, arena, 40).0, a);
    }

    #[test]
    fn runs_are_reused_at_their_exact_size() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let (r1, g1) = malloc(&mut m, arena, 10_000);
        assert_eq!((r1 - 16) % 4096, 0);
        assert_eq!(free(&mut m, arena, r1), None);
        // A run of another size does not take it (no splitting) ...
        let (r2, g2) = malloc(&mut m, arena, 5000);
        assert_eq!(g2, 8192);
        assert_ne!(r2, r1);
        // ... a run of its size does.
        let (r3, g3) = malloc(&mut m, arena, 9000);
        assert_eq!((r3, g3), (r1, g1));
    }

    #[test]
    fn bad_frees_memalign_and_exhaustion() {
        let mut m = VecMem::new(0x1_0000, 0x1_0000 + 6 * 4096);
        let arena = init(&A, &mut m);
        let (a, _) = malloc(&mut m, arena, 100);
        assert_eq!(free(&mut m, arena, a), None);
        assert_eq!(free(&mut m, arena, a), Some("free(): double free detected"));
        let (a, _) = malloc(&mut m, arena, 100);
        assert_eq!(free(&mut m, arena, a + 32), Some("free(): invalid pointer"));
        assert_eq!(
            free(&mut m, arena, arena + 8),
            Some("free(): invalid pointer")
        );
        let r = call(&A, &mut m, arena, Call::Memalign, [256, 100, 0]).0;
        assert_eq!(r.ret % 256, 0);
        assert_eq!(free(&mut m, arena, r.ret), None);
        assert_eq!(
            free(&mut m, arena, r.ret),
            Some("free(): double free detected")
        );
        let (r, ..) = call(&A, &mut m, arena, Call::Malloc, [5 * 4096, 0, 0]);
        assert_eq!((r.ret, r.errno), (0, Some(12)));
    }
}
