//! The free-list allocators: first fit, next fit, best fit and worst fit over one
//! address-ordered, doubly linked free list, with boundary tags (Knuth's: a header and a
//! footer word per block) and coalescing on free, immediate or deferred (`os.malloc_coalesce`).
//!
//! Everything is in guest memory:
//!
//! ```text
//! arena+0   magic           arena+8  free-list head   arena+16  next fit's rover
//! arena+24  the epilogue's address (the heap's last word)
//! arena+32  the prologue: a footer that says "in use", so that no block coalesces below
//! arena+40  the first block ...                         epilogue: a header "in use, size 0"
//!
//! block b:  b+0 header (size | in use)   b+8 payload (the program's pointer), 16-aligned
//!           free: b+8 next free block, b+16 previous free block (0 ends the list)
//!           b+size-8 footer (the header again)
//! ```
//!
//! A block is at least 32 bytes (header, two links, footer) and a multiple of 16; a request
//! of `n` bytes takes `max(32, n + 16 rounded up to 16)`. The search policies walk the list
//! from its head (next fit: from the rover, where the last search ended, wrapping around);
//! best fit takes the smallest block that fits and worst fit the largest, the lowest address
//! among equals. A block larger than needed by at least 32 bytes is split: the front is
//! allocated and the rest stays in the list in its place. When nothing fits the heap grows
//! (the break moves by the need, in whole pages) and the new space is one free block.
//!
//! Immediate coalescing merges a freed block with free neighbours at once (their boundary
//! tags say whether they are free); deferred coalescing only links it into the list, and
//! merges every run of adjacent free blocks when a search finds nothing, before the heap
//! grows (as `malloc.py`'s `-C` and glibc's fast bins put it off).

use super::alloc::{Allocator, Block, Freed, Op, Stop};
use super::tags::{block_of, carve_aligned, need, set_tags, size_of, MIN, USED};

/// How a free-list allocator chooses among the blocks that fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The first in address order.
    First,
    /// The first after where the last search ended, wrapping around.
    Next,
    /// The smallest.
    Best,
    /// The largest.
    Worst,
}

/// When freed blocks merge with free neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coalesce {
    /// At `free`.
    Immediate,
    /// When a search finds nothing, before the heap grows.
    Deferred,
}

/// A free-list allocator.
#[derive(Clone, Copy, Debug)]
pub struct FitAlloc {
    /// The search policy.
    pub fit: Fit,
    /// When blocks coalesce.
    pub coalesce: Coalesce,
    /// The page size: the heap grows in whole pages.
    pub page: u64,
}

const MAGIC: u64 = 0x7061_6568_626c_6d76; // "vmlbheap"
const HEAD: u64 = 8;
const ROVER: u64 = 16;
const END: u64 = 24;
const FIRST: u64 = 40;

impl FitAlloc {
    /// Unlinks free block `b` from the list (the rover moves on if it was there).
    fn unlink(op: &mut Op, arena: u64, b: u64) -> Result<(), Stop> {
        let next = op.load(b + 8)?;
        let prev = op.load(b + 16)?;
        if prev == 0 {
            op.store(arena + HEAD, next)?;
        } else {
            op.store(prev + 8, next)?;
        }
        if next != 0 {
            op.store(next + 16, prev)?;
        }
        if op.load(arena + ROVER)? == b {
            op.store(arena + ROVER, next)?;
        }
        Ok(())
    }

    /// Puts `new` in the list where `old` was (a split's remainder takes its block's place).
    fn replace(op: &mut Op, arena: u64, old: u64, new: u64) -> Result<(), Stop> {
        let next = op.load(old + 8)?;
        let prev = op.load(old + 16)?;
        op.store(new + 8, next)?;
        op.store(new + 16, prev)?;
        if prev == 0 {
            op.store(arena + HEAD, new)?;
        } else {
            op.store(prev + 8, new)?;
        }
        if next != 0 {
            op.store(next + 16, new)?;
        }
        if op.load(arena + ROVER)? == old {
            op.store(arena + ROVER, new)?;
        }
        Ok(())
    }

    /// Links free block `b` in address order.
    fn insert(op: &mut Op, arena: u64, b: u64) -> Result<(), Stop> {
        let mut prev = 0;
        let mut cur = op.load(arena + HEAD)?;
        while cur != 0 && cur < b {
            op.steps += 1;
            prev = cur;
            cur = op.load(cur + 8)?;
        }
        op.store(b + 8, cur)?;
        op.store(b + 16, prev)?;
        if prev == 0 {
            op.store(arena + HEAD, b)?;
        } else {
            op.store(prev + 8, b)?;
        }
        if cur != 0 {
            op.store(cur + 16, b)?;
        }
        Ok(())
    }

    /// The free block the policy chooses for `need` bytes, if one fits.
    fn search(&self, op: &mut Op, arena: u64, need: u64) -> Result<Option<u64>, Stop> {
        let head = op.load(arena + HEAD)?;
        let start = match self.fit {
            Fit::Next => match op.load(arena + ROVER)? {
                0 => head,
                r => r,
            },
            _ => head,
        };
        let mut chosen: Option<(u64, u64)> = None;
        let mut cur = start;
        let mut wrapped = false;
        loop {
            if cur == 0 {
                if self.fit == Fit::Next && !wrapped && start != head {
                    wrapped = true;
                    cur = head;
                    continue;
                }
                break;
            }
            if wrapped && cur == start {
                break;
            }
            op.steps += 1;
            let size = size_of(op.load(cur)?);
            if size >= need {
                match self.fit {
                    Fit::First | Fit::Next => return Ok(Some(cur)),
                    Fit::Best => {
                        if chosen.is_none_or(|(_, s)| size < s) {
                            chosen = Some((cur, size));
                        }
                    }
                    Fit::Worst => {
                        if chosen.is_none_or(|(_, s)| size > s) {
                            chosen = Some((cur, size));
                        }
                    }
                }
            }
            cur = op.load(cur + 8)?;
        }
        Ok(chosen.map(|(b, _)| b))
    }

    /// Merges every run of adjacent free blocks (deferred coalescing).
    fn coalesce_all(op: &mut Op, arena: u64) -> Result<(), Stop> {
        let mut cur = op.load(arena + HEAD)?;
        while cur != 0 {
            op.steps += 1;
            let mut size = size_of(op.load(cur)?);
            loop {
                let next = op.load(cur + 8)?;
                if next == 0 || next != cur + size {
                    break;
                }
                let nsize = size_of(op.load(next)?);
                Self::unlink(op, arena, next)?;
                op.free_removed.push(size);
                op.free_removed.push(nsize);
                size += nsize;
                op.free_added.push(size);
                set_tags(op, cur, size, false)?;
            }
            cur = op.load(cur + 8)?;
        }
        Ok(())
    }

    /// Grows the heap by at least `need` bytes: the new space is a free block at the old
    /// epilogue (merged with a free block just below it when coalescing is immediate).
    /// False if the break cannot move.
    fn grow(&self, op: &mut Op, arena: u64, need: u64) -> Result<bool, Stop> {
        let epilogue = op.load(arena + END)?;
        let add = need.next_multiple_of(self.page.max(16));
        let Some(new_end) = epilogue.checked_add(add + 8) else {
            return Ok(false);
        };
        if !op.mem.grow_to(new_end) {
            return Ok(false);
        }
        op.store(epilogue + add, USED)?;
        op.store(arena + END, epilogue + add)?;
        set_tags(op, epilogue, add, true)?;
        self.release(op, arena, epilogue, add)?;
        Ok(true)
    }

    /// Block `b` of `size` bytes (tagged in use) becomes free: merged with free neighbours
    /// (immediate coalescing) and linked in.
    fn release(&self, op: &mut Op, arena: u64, b: u64, size: u64) -> Result<(), Stop> {
        if self.coalesce == Coalesce::Deferred {
            set_tags(op, b, size, false)?;
            Self::insert(op, arena, b)?;
            op.free_added.push(size);
            return Ok(());
        }
        // The block's own tags say "free" even where it merges into a neighbour, so that a
        // second free of it is caught as one.
        set_tags(op, b, size, false)?;
        let (mut start, mut total) = (b, size);
        let next = b + size;
        let nw = op.load(next)?;
        if nw & USED == 0 {
            let nsize = size_of(nw);
            Self::unlink(op, arena, next)?;
            op.free_removed.push(nsize);
            total += nsize;
        }
        let pw = op.load(b - 8)?;
        if pw & USED == 0 {
            let psize = size_of(pw);
            start = b - psize;
            op.free_removed.push(psize);
            total += psize;
            // The block below stays in the list, only larger.
            set_tags(op, start, total, false)?;
        } else {
            set_tags(op, start, total, false)?;
            Self::insert(op, arena, start)?;
        }
        op.free_added.push(total);
        Ok(())
    }

    /// Takes `need` bytes from the front of free block `b`: the bytes it took, and the
    /// free block after it in the list (the remainder, if it split).
    fn take(op: &mut Op, arena: u64, b: u64, need: u64) -> Result<(u64, u64), Stop> {
        let size = size_of(op.load(b)?);
        op.free_removed.push(size);
        if size - need >= MIN {
            let rest = b + need;
            set_tags(op, rest, size - need, false)?;
            Self::replace(op, arena, b, rest)?;
            op.free_added.push(size - need);
            set_tags(op, b, need, true)?;
            Ok((need, rest))
        } else {
            let next = op.load(b + 8)?;
            Self::unlink(op, arena, b)?;
            set_tags(op, b, size, true)?;
            Ok((size, next))
        }
    }

    /// A block of at least `need` bytes, in use: found, found after coalescing, or grown.
    fn block(&self, op: &mut Op, arena: u64, need: u64) -> Result<Option<(u64, u64)>, Stop> {
        let mut found = self.search(op, arena, need)?;
        if found.is_none() && self.coalesce == Coalesce::Deferred {
            Self::coalesce_all(op, arena)?;
            found = self.search(op, arena, need)?;
        }
        if found.is_none() {
            if !self.grow(op, arena, need)? {
                return Ok(None);
            }
            found = self.search(op, arena, need)?;
            if found.is_none() && self.coalesce == Coalesce::Deferred {
                Self::coalesce_all(op, arena)?;
                found = self.search(op, arena, need)?;
            }
        }
        let Some(b) = found else {
            return Ok(None);
        };
        let (granted, after) = Self::take(op, arena, b, need)?;
        if self.fit == Fit::Next {
            // The next search starts where this one ended.
            op.store(arena + ROVER, after)?;
        }
        Ok(Some((b, granted)))
    }

    /// The block of `ptr` if it looks like one this allocator made ([`block_of`]).
    fn block_of(op: &mut Op, arena: u64, ptr: u64) -> Result<Option<(u64, u64, bool)>, Stop> {
        let end = op.load(arena + END)?;
        block_of(op, arena + FIRST, end, ptr)
    }
}

impl Allocator for FitAlloc {
    fn name(&self) -> &'static str {
        match self.fit {
            Fit::First => "first-fit",
            Fit::Next => "next-fit",
            Fit::Best => "best-fit",
            Fit::Worst => "worst-fit",
        }
    }

    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop> {
        if !op.mem.grow_to(base + FIRST + 8) {
            return Ok(false);
        }
        op.store(base, MAGIC)?;
        op.store(base + HEAD, 0)?;
        op.store(base + ROVER, 0)?;
        op.store(base + END, base + FIRST)?;
        op.store(base + 32, USED)?;
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
            self.release(op, arena, b, s)
        })?;
        Ok(Some(block))
    }

    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop> {
        match Self::block_of(op, arena, ptr)? {
            None => Ok(Freed::Invalid),
            Some((_, _, false)) => Ok(Freed::Double),
            Some((b, size, true)) => {
                self.release(op, arena, b, size)?;
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

    fn all() -> Vec<FitAlloc> {
        let mut v = Vec::new();
        for fit in [Fit::First, Fit::Next, Fit::Best, Fit::Worst] {
            for coalesce in [Coalesce::Immediate, Coalesce::Deferred] {
                v.push(FitAlloc {
                    fit,
                    coalesce,
                    page: 4096,
                });
            }
        }
        v
    }

    #[test]
    fn every_policy_passes_the_checker() {
        for (i, a) in all().into_iter().enumerate() {
            check_allocator(&a, 0x5eed + i as u64, 30);
        }
    }

    /// Lays out three blocks with a gap pattern and checks which one each policy picks.
    #[test]
    fn the_policies_choose_as_their_names_say() {
        let pick = |fit: Fit| {
            let a = FitAlloc {
                fit,
                coalesce: Coalesce::Immediate,
                page: 4096,
            };
            let mut m = VecMem::new(0x1000, 0x100000);
            let arena = init(&a, &mut m);
            // Blocks: A(100) x(16) B(300) y(16) C(200) z(16), then free A, B, C: free
            // blocks of 128, 320 and 224 bytes with in-use blocks between.
            let mut ptrs = Vec::new();
            for n in [100, 16, 300, 16, 200, 16] {
                ptrs.push(call(&a, &mut m, arena, Call::Malloc, [n, 0, 0]).0.ret);
            }
            for i in [0, 2, 4] {
                call(&a, &mut m, arena, Call::Free, [ptrs[i], 0, 0]);
            }
            let got = call(&a, &mut m, arena, Call::Malloc, [90, 0, 0]).0.ret;
            let which = ptrs.iter().position(|&p| p == got);
            (which, ptrs)
        };
        assert_eq!(pick(Fit::First).0, Some(0));
        assert_eq!(pick(Fit::Best).0, Some(0));
        // Worst fit takes the largest: the rest of the page after z (larger than B).
        let (w, ptrs) = pick(Fit::Worst);
        assert!(w.is_none() || w == Some(2), "{w:?} {ptrs:x?}");
        let best_for_200 = {
            let a = FitAlloc {
                fit: Fit::Best,
                coalesce: Coalesce::Immediate,
                page: 4096,
            };
            let mut m = VecMem::new(0x1000, 0x100000);
            let arena = init(&a, &mut m);
            let mut ptrs = Vec::new();
            for n in [100, 16, 300, 16, 200, 16] {
                ptrs.push(call(&a, &mut m, arena, Call::Malloc, [n, 0, 0]).0.ret);
            }
            for i in [0, 2, 4] {
                call(&a, &mut m, arena, Call::Free, [ptrs[i], 0, 0]);
            }
            (
                call(&a, &mut m, arena, Call::Malloc, [180, 0, 0]).0.ret,
                ptrs[4],
            )
        };
        assert_eq!(
            best_for_200.0, best_for_200.1,
            "best fit takes C (224) for 180"
        );
    }

    #[test]
    fn immediate_coalescing_merges_neighbours_and_deferred_waits() {
        for (coalesce, blocks_after) in [(Coalesce::Immediate, 1), (Coalesce::Deferred, 4)] {
            let a = FitAlloc {
                fit: Fit::First,
                coalesce,
                page: 4096,
            };
            let mut m = VecMem::new(0x1000, 0x100000);
            let arena = init(&a, &mut m);
            let p: Vec<u64> = (0..3)
                .map(|_| call(&a, &mut m, arena, Call::Malloc, [48, 0, 0]).0.ret)
                .collect();
            for &x in &p {
                call(&a, &mut m, arena, Call::Free, [x, 0, 0]);
            }
            // Count the list.
            let mut n = 0;
            let mut cur = m.words[((arena + HEAD - m.base) / 8) as usize];
            while cur != 0 {
                n += 1;
                cur = m.words[((cur + 8 - m.base) / 8) as usize];
            }
            assert_eq!(n, blocks_after, "{coalesce:?}");
        }
    }

    #[test]
    fn an_exhausted_heap_fails_and_bad_frees_are_caught() {
        let a = FitAlloc {
            fit: Fit::First,
            coalesce: Coalesce::Immediate,
            page: 4096,
        };
        let mut m = VecMem::new(0x1000, 0x1000 + 3 * 4096);
        let arena = init(&a, &mut m);
        let (r, ..) = call(&a, &mut m, arena, Call::Malloc, [3 * 4096, 0, 0]);
        assert_eq!((r.ret, r.errno), (0, Some(12)));
        let p = call(&a, &mut m, arena, Call::Malloc, [100, 0, 0]).0.ret;
        assert_ne!(p, 0);
        assert!(call(&a, &mut m, arena, Call::Free, [p, 0, 0])
            .0
            .abort
            .is_none());
        assert_eq!(
            call(&a, &mut m, arena, Call::Free, [p, 0, 0])
                .0
                .abort
                .map(|x| x.0),
            Some("free(): double free detected")
        );
        assert_eq!(
            call(&a, &mut m, arena, Call::Free, [p + 16, 0, 0])
                .0
                .abort
                .map(|x| x.0),
            Some("free(): invalid pointer")
        );
        // calloc's overflow and posix_memalign's bad alignment.
        let (r, ..) = call(&a, &mut m, arena, Call::Calloc, [u64::MAX / 2, 4, 0]);
        assert_eq!((r.ret, r.errno), (0, Some(12)));
        let (r, ..) = call(&a, &mut m, arena, Call::PosixMemalign, [0x8000, 24, 10]);
        assert_eq!(r.ret, 22);
    }
}
