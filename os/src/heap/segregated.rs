//! Segregated free lists: one free list per size class, with boundary tags and immediate
//! coalescing (OSTEP ch. 17 "Segregated Lists"; the layout of dlmalloc's bins, simplified).
//!
//! Class `i` (`0 <= i < CLASSES - 1`) holds the free blocks of `32 << i` up to
//! `(32 << (i + 1)) - 16` bytes; the last class holds every larger block. A request of `n`
//! bytes needs a block of `need = max(32, n + 16 rounded up to 16)` bytes, whose class is
//! `c`: the allocator searches class `c` first fit (its blocks may be smaller than `need`),
//! then takes the first block of the next non-empty larger class (every block there fits,
//! so it looks at one element), and splits off the rest, which goes to the list of *its*
//! class. When nothing fits the heap grows in whole pages. A freed block merges at once with
//! free neighbours (their boundary tags say whether they are free), and the merged block
//! goes to the list of its new class.
//!
//! Everything is in guest memory:
//!
//! ```text
//! arena+0   magic            arena+8   the epilogue's address (the heap's last word)
//! arena+16  class heads: head[0] (32..48) head[1] (64..112) ... head[9] (16384 and more)
//! arena+96  the prologue: a footer that says "in use", so that no block coalesces below
//! arena+104 the first block ...                        epilogue: a header "in use, size 0"
//!
//! block b:  b+0 header (size | in use)   b+8 payload (the program's pointer), 16-aligned
//!           free: b+8 next free block of its class, b+16 previous (0 ends the list)
//!           b+size-8 footer (the header again)
//!
//! head[0] -> [64 B] <-> [48 B] -> 0        head[3] -> 0       head[4] -> [900 B] -> 0
//! ```
//!
//! Each list is LIFO: a freed (or split-off) block goes to the front of its class's list.

use super::alloc::{Allocator, Block, Freed, Op, Stop};
use super::tags::{block_of, carve_aligned, need, set_tags, size_of, MIN, USED};

/// Segregated free lists over boundary-tagged blocks.
#[derive(Clone, Copy, Debug)]
pub struct SegregatedAlloc {
    /// The page size: the heap grows in whole pages.
    pub page: u64,
}

/// The number of size classes: nine powers of two from 32 bytes, and one for the rest.
pub const CLASSES: u64 = 10;
const MAGIC: u64 = 0x6765_7367_626c_6d76; // "vmlbsegg"
const END: u64 = 8;
const HEADS: u64 = 16;
const FIRST: u64 = HEADS + CLASSES * 8 + 8;

impl SegregatedAlloc {
    /// The class of a block of `size` bytes (at least 32).
    pub fn class_of(size: u64) -> u64 {
        (63 - u64::from((size / MIN).leading_zeros())).min(CLASSES - 1)
    }

    fn head(arena: u64, class: u64) -> u64 {
        arena + HEADS + class * 8
    }

    /// Unlinks free block `b` of `size` bytes from its class's list.
    fn unlink(op: &mut Op, arena: u64, b: u64, size: u64) -> Result<(), Stop> {
        let next = op.load(b + 8)?;
        let prev = op.load(b + 16)?;
        if prev == 0 {
            op.store(Self::head(arena, Self::class_of(size)), next)?;
        } else {
            op.store(prev + 8, next)?;
        }
        if next != 0 {
            op.store(next + 16, prev)?;
        }
        Ok(())
    }

    /// Tags `b` free with `size` bytes and puts it at the front of its class's list.
    fn push(op: &mut Op, arena: u64, b: u64, size: u64) -> Result<(), Stop> {
        set_tags(op, b, size, false)?;
        let head = Self::head(arena, Self::class_of(size));
        let first = op.load(head)?;
        op.store(b + 8, first)?;
        op.store(b + 16, 0)?;
        if first != 0 {
            op.store(first + 16, b)?;
        }
        op.store(head, b)
    }

    /// A free block of at least `need` bytes: first fit in its own class, else the first
    /// block of the next non-empty larger class.
    fn search(op: &mut Op, arena: u64, need: u64) -> Result<Option<u64>, Stop> {
        let c = Self::class_of(need);
        let mut cur = op.load(Self::head(arena, c))?;
        while cur != 0 {
            op.steps += 1;
            if size_of(op.load(cur)?) >= need {
                return Ok(Some(cur));
            }
            cur = op.load(cur + 8)?;
        }
        for k in c + 1..CLASSES {
            op.steps += 1;
            let first = op.load(Self::head(arena, k))?;
            if first != 0 {
                return Ok(Some(first));
            }
        }
        Ok(None)
    }

    /// Block `b` of `size` bytes (tagged in use) becomes free: merged with free neighbours
    /// and put on its class's list.
    fn release(op: &mut Op, arena: u64, b: u64, size: u64) -> Result<(), Stop> {
        // The block's own tags say "free" even where it merges into a neighbour, so that a
        // second free of it is caught as one.
        set_tags(op, b, size, false)?;
        let (mut start, mut total) = (b, size);
        let nw = op.load(b + size)?;
        if nw & USED == 0 {
            let nsize = size_of(nw);
            Self::unlink(op, arena, b + size, nsize)?;
            op.free_removed.push(nsize);
            total += nsize;
        }
        let pw = op.load(b - 8)?;
        if pw & USED == 0 {
            let psize = size_of(pw);
            start = b - psize;
            Self::unlink(op, arena, start, psize)?;
            op.free_removed.push(psize);
            total += psize;
        }
        Self::push(op, arena, start, total)?;
        op.free_added.push(total);
        Ok(())
    }

    /// Grows the heap by at least `need` bytes, in whole pages: the new space is a free
    /// block at the old epilogue (merged with a free block below it). False if the break
    /// cannot move.
    fn grow(&self, op: &mut Op, arena: u64, need: u64) -> Result<bool, Stop> {
        let epilogue = op.load(arena + END)?;
        let Some(add) = need.checked_next_multiple_of(self.page.max(16)) else {
            return Ok(false);
        };
        let Some(new_end) = epilogue.checked_add(add).and_then(|e| e.checked_add(8)) else {
            return Ok(false);
        };
        if !op.mem.grow_to(new_end) {
            return Ok(false);
        }
        op.store(epilogue + add, USED)?;
        op.store(arena + END, epilogue + add)?;
        set_tags(op, epilogue, add, true)?;
        Self::release(op, arena, epilogue, add)?;
        Ok(true)
    }

    /// A block of at least `need` bytes, in use, and the bytes it has.
    fn block(&self, op: &mut Op, arena: u64, need: u64) -> Result<Option<(u64, u64)>, Stop> {
        let mut found = Self::search(op, arena, need)?;
        if found.is_none() {
            if !self.grow(op, arena, need)? {
                return Ok(None);
            }
            found = Self::search(op, arena, need)?;
        }
        let Some(b) = found else {
            return Ok(None);
        };
        let size = size_of(op.load(b)?);
        Self::unlink(op, arena, b, size)?;
        op.free_removed.push(size);
        if size - need >= MIN {
            Self::push(op, arena, b + need, size - need)?;
            op.free_added.push(size - need);
            set_tags(op, b, need, true)?;
            Ok(Some((b, need)))
        } else {
            set_tags(op, b, size, true)?;
            Ok(Some((b, size)))
        }
    }

    /// The block of `ptr` if it looks like one this allocator made ([`block_of`]).
    fn block_of(op: &mut Op, arena: u64, ptr: u64) -> Result<Option<(u64, u64, bool)>, Stop> {
        let end = op.load(arena + END)?;
        block_of(op, arena + FIRST, end, ptr)
    }
}

impl Allocator for SegregatedAlloc {
    fn name(&self) -> &'static str {
        "segregated"
    }

    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop> {
        if !op.mem.grow_to(base + FIRST + 8) {
            return Ok(false);
        }
        op.store(base, MAGIC)?;
        op.store(base + END, base + FIRST)?;
        for c in 0..CLASSES {
            op.store(Self::head(base, c), 0)?;
        }
        op.store(base + FIRST - 8, USED)?;
        op.store(base + FIRST, USED)?;
        Ok(true)
    }

    fn malloc(&self, op: &mut Op, arena: u64, size: u64) -> Result<Option<Block>, Stop> {
        let need = need(size);
        Ok(self.block(op, arena, need)?.map(|(b, granted)| Block {
            ptr: b + 8,
            granted,
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
        let need = need(size);
        // Room for a leading free block of at least MIN before the aligned payload.
        let Some((b, got)) = self.block(op, arena, need + align + MIN)? else {
            return Ok(None);
        };
        let block = carve_aligned(op, b, got, align, need, &mut |op, b, s| {
            Self::release(op, arena, b, s)
        })?;
        Ok(Some(block))
    }

    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop> {
        match Self::block_of(op, arena, ptr)? {
            None => Ok(Freed::Invalid),
            Some((_, _, false)) => Ok(Freed::Double),
            Some((b, size, true)) => {
                Self::release(op, arena, b, size)?;
                Ok(Freed::Ok { granted: size })
            }
        }
    }

    fn usable_size(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<u64>, Stop> {
        Ok(match Self::block_of(op, arena, ptr)? {
            Some((_, size, true)) => Some(size - 16),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::alloc::testing::{call, check_allocator, init, VecMem};
    use super::super::alloc::Call;
    use super::*;

    fn word(m: &VecMem, addr: u64) -> u64 {
        m.words[((addr - m.base) / 8) as usize]
    }

    /// The sizes on class `c`'s list, in list order.
    fn list(m: &VecMem, arena: u64, c: u64) -> Vec<u64> {
        let mut v = Vec::new();
        let mut cur = word(m, SegregatedAlloc::head(arena, c));
        while cur != 0 {
            v.push(size_of(word(m, cur)));
            cur = word(m, cur + 8);
        }
        v
    }

    const A: SegregatedAlloc = SegregatedAlloc { page: 4096 };

    #[test]
    fn passes_the_checker() {
        for seed in 0..3 {
            check_allocator(&A, 0x5e9 + seed, 25);
        }
    }

    #[test]
    fn classes_are_powers_of_two_from_32() {
        assert_eq!(SegregatedAlloc::class_of(32), 0);
        assert_eq!(SegregatedAlloc::class_of(48), 0);
        assert_eq!(SegregatedAlloc::class_of(64), 1);
        assert_eq!(SegregatedAlloc::class_of(127 & !15), 1);
        assert_eq!(SegregatedAlloc::class_of(128), 2);
        assert_eq!(SegregatedAlloc::class_of(16384), 9);
        assert_eq!(SegregatedAlloc::class_of(1 << 30), 9);
    }

    /// A small request is served from its own class even when a larger free block lies
    /// lower in memory (first fit over one address-ordered list would take that one).
    #[test]
    fn a_request_is_served_from_its_own_class() {
        let mut m = VecMem::new(0x1000, 0x100000);
        let arena = init(&A, &mut m);
        let mut p = Vec::new();
        // big(496 B block) sep small(64 B block) sep
        for n in [480, 16, 48, 16] {
            p.push(call(&A, &mut m, arena, Call::Malloc, [n, 0, 0]).0.ret);
        }
        call(&A, &mut m, arena, Call::Free, [p[0], 0, 0]);
        call(&A, &mut m, arena, Call::Free, [p[2], 0, 0]);
        assert_eq!(list(&m, arena, 1), vec![64]);
        assert_eq!(list(&m, arena, 3), vec![496]);
        let (r, _, removed, steps) = call(&A, &mut m, arena, Call::Malloc, [40, 0, 0]);
        assert_eq!(r.ret, p[2], "the 64-byte block of class 1");
        assert_eq!(removed, vec![64]);
        assert_eq!(steps, 1, "one list element looked at");
        assert_eq!(list(&m, arena, 1), Vec::<u64>::new());
        // Class 1 is empty now: the next 64-byte request splits the 496-byte block of
        // class 3 (class 2 is empty), and the 432-byte rest goes back to class 3.
        let (r, added, removed, _) = call(&A, &mut m, arena, Call::Malloc, [40, 0, 0]);
        assert_eq!(r.ret, p[0]);
        assert_eq!((added, removed), (vec![432], vec![496]));
        assert_eq!(list(&m, arena, 2), Vec::<u64>::new());
        assert_eq!(list(&m, arena, 3), vec![432]);
        // A 200-byte block (class 2) comes from the 432 of class 3: 224 B, the rest of
        // 208 B goes to class 2.
        let (r, added, _, _) = call(&A, &mut m, arena, Call::Malloc, [200, 0, 0]);
        assert_eq!(r.ret, p[0] + 64);
        assert_eq!(added, vec![208]);
        assert_eq!(list(&m, arena, 2), vec![208]);
    }

    #[test]
    fn freed_neighbours_coalesce_into_the_class_of_their_sum() {
        let mut m = VecMem::new(0x1000, 0x100000);
        let arena = init(&A, &mut m);
        let p: Vec<u64> = [48, 48, 48, 16]
            .iter()
            .map(|&n| call(&A, &mut m, arena, Call::Malloc, [n, 0, 0]).0.ret)
            .collect();
        call(&A, &mut m, arena, Call::Free, [p[0], 0, 0]);
        call(&A, &mut m, arena, Call::Free, [p[2], 0, 0]);
        assert_eq!(list(&m, arena, 1), vec![64, 64]);
        let (_, added, removed, _) = call(&A, &mut m, arena, Call::Free, [p[1], 0, 0]);
        assert_eq!(added, vec![192]);
        assert_eq!(removed.len(), 2);
        assert_eq!(list(&m, arena, 1), Vec::<u64>::new());
        assert_eq!(list(&m, arena, 2), vec![192]);
        // A second free is a double free; a pointer inside a block is invalid.
        let r = call(&A, &mut m, arena, Call::Free, [p[1], 0, 0]).0;
        assert_eq!(r.abort.map(|x| x.0), Some("free(): double free detected"));
        let r = call(&A, &mut m, arena, Call::Free, [p[3] + 16, 0, 0]).0;
        assert_eq!(r.abort.map(|x| x.0), Some("free(): invalid pointer"));
    }

    #[test]
    fn an_exhausted_heap_fails() {
        let mut m = VecMem::new(0x1000, 0x1000 + 3 * 4096);
        let arena = init(&A, &mut m);
        let (r, ..) = call(&A, &mut m, arena, Call::Malloc, [3 * 4096, 0, 0]);
        assert_eq!((r.ret, r.errno), (0, Some(12)));
        assert_ne!(call(&A, &mut m, arena, Call::Malloc, [100, 0, 0]).0.ret, 0);
    }
}
