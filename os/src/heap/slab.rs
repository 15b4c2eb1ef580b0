//! The slab allocator (Bonwick, "The Slab Allocator: An Object-Caching Kernel Memory
//! Allocator", USENIX 1994; OSTEP ch. 17 "Segregated Lists").
//!
//! There is a *cache* per object size: 16, 32, 64, ..., 2048 bytes. A cache owns *slabs*:
//! blocks of `slab` bytes (four pages), aligned to their size, each carved into equal
//! objects after a slab header. A cache keeps its slabs on three lists, by how many of
//! their objects are in use: *full*, *partial* and *empty*. An allocation takes an object
//! from a partial slab, else from an empty one, else from a new slab (taken at the top of
//! the heap, which moves the break); the object comes off the slab's own free list (LIFO: a
//! freed object is the next one handed out). A free finds the slab from the pointer alone
//! (`ptr & !(slab - 1)`); the slab header says which cache the object belongs to and
//! validates the pointer: it must lie on an object boundary, and the slab's bitmap says
//! whether the object is in use (else the free is a double free). Empty slabs stay in their
//! cache (the model does not reap them back to the page level).
//!
//! A request larger than the largest object (2048 bytes) takes a *run* of whole pages with
//! a 16-byte header: the first run of the free-run list (in address order) that is large
//! enough, split at a page boundary, else a new run at the top of the heap; freed runs
//! merge with free neighbouring runs. The pages skipped to align a new slab to its size
//! become a free run too.
//!
//! Everything is in guest memory:
//!
//! ```text
//! arena+0   magic    arena+8   top: the first byte no slab or run has taken
//! arena+16  the free-run list's head
//! arena+24  cache 0 (16 B): empty, partial, full list heads   arena+48  cache 1 (32 B) ...
//! first page boundary above the header: runs and slabs, in the order they were taken
//!
//! slab s (aligned to its size):
//!   s+0  tag | cache    s+8 next slab of its list    s+16 previous    s+24 free-object head
//!   s+32 objects in use   s+40 which list (0 empty, 1 partial, 2 full)   s+48 bitmap (in use)
//!   s + (header rounded up to the object size): object 0, object 1, ... (each aligned to
//!   its size); a free object's first word links the slab's next free object
//!
//! run r:  r+0 header: tag | offset/16 << 8 | in use    r+8 size in bytes
//!         free: r+16 next free run;  in use: payload at r+16, or at r+offset for memalign
//!         with the word `forward tag | offset` at payload-16
//! ```

use super::alloc::{Allocator, Block, Freed, Op, Stop};
use super::tags::{tagged_header, LOW48};

/// A slab allocator.
#[derive(Clone, Copy, Debug)]
pub struct SlabAlloc {
    /// The page size: a slab is four pages, runs are whole pages.
    pub page: u64,
}

/// The number of caches: objects of 16, 32, ..., 2048 bytes.
pub const CACHES: u64 = 8;
/// The pages of a slab.
pub const SLAB_PAGES: u64 = 4;
const MAGIC: u64 = 0x6261_6c73_626c_6d76; // "vmlbslab"
const TOP: u64 = 8;
const RUNS: u64 = 16;
const CACHE: u64 = 24;
const HEADER_END: u64 = CACHE + CACHES * 24;
const SLAB_TAG: u64 = 0x51ab;
const RUN_TAG: u64 = 0x9a9e;
const FWD: u64 = 0xf51a;
const EMPTY: u64 = 0;
const PARTIAL: u64 = 1;
const FULL: u64 = 2;

/// The object size of cache `c`.
pub fn object_size(c: u64) -> u64 {
    16 << c
}

fn run_header(off: u64, used: bool) -> u64 {
    RUN_TAG << 48 | (off / 16) << 8 | u64::from(used)
}

fn list_head(arena: u64, c: u64, list: u64) -> u64 {
    arena + CACHE + c * 24 + list * 8
}

impl SlabAlloc {
    fn page(&self) -> u64 {
        self.page.max(1024).next_power_of_two()
    }

    /// The bytes of a slab.
    pub fn slab(&self) -> u64 {
        self.page() * SLAB_PAGES
    }

    /// The bytes of a slab header (its bitmap has a bit per 16 bytes of slab).
    fn header(&self) -> u64 {
        48 + self.slab() / 128
    }

    /// The offset of object 0 of cache `c` in its slab.
    fn start(&self, c: u64) -> u64 {
        self.header().next_multiple_of(object_size(c))
    }

    /// The objects of a slab of cache `c`.
    fn objects(&self, c: u64) -> u64 {
        (self.slab() - self.start(c)) / object_size(c)
    }

    fn first(&self, arena: u64) -> u64 {
        (arena + HEADER_END).next_multiple_of(self.page())
    }

    fn unlink_slab(op: &mut Op, arena: u64, c: u64, s: u64) -> Result<(), Stop> {
        let list = op.load(s + 40)?;
        let next = op.load(s + 8)?;
        let prev = op.load(s + 16)?;
        if prev == 0 {
            op.store(list_head(arena, c, list), next)?;
        } else {
            op.store(prev + 8, next)?;
        }
        if next != 0 {
            op.store(next + 16, prev)?;
        }
        Ok(())
    }

    fn push_slab(op: &mut Op, arena: u64, c: u64, s: u64, list: u64) -> Result<(), Stop> {
        let h = list_head(arena, c, list);
        let first = op.load(h)?;
        op.store(s + 8, first)?;
        op.store(s + 16, 0)?;
        if first != 0 {
            op.store(first + 16, s)?;
        }
        op.store(s + 40, list)?;
        op.store(h, s)
    }

    /// Moves slab `s` to the list its use count says, if it is not on it.
    fn file_slab(&self, op: &mut Op, arena: u64, c: u64, s: u64) -> Result<(), Stop> {
        let used = op.load(s + 32)?;
        let want = if used == 0 {
            EMPTY
        } else if used == self.objects(c) {
            FULL
        } else {
            PARTIAL
        };
        if op.load(s + 40)? != want {
            Self::unlink_slab(op, arena, c, s)?;
            Self::push_slab(op, arena, c, s, want)?;
        }
        Ok(())
    }

    /// Takes `bytes` from the top of the heap at a multiple of `align` (a power of two, at
    /// least a page); the pages skipped become a free run. `None` if the break cannot move.
    fn top(&self, op: &mut Op, arena: u64, bytes: u64, align: u64) -> Result<Option<u64>, Stop> {
        let top = op.load(arena + TOP)?;
        let Some(at) = top.checked_next_multiple_of(align) else {
            return Ok(None);
        };
        let Some(end) = at.checked_add(bytes) else {
            return Ok(None);
        };
        if !op.mem.grow_to(end) {
            return Ok(None);
        }
        op.store(arena + TOP, end)?;
        if at > top {
            self.put_run(op, arena, top, at - top)?;
        }
        Ok(Some(at))
    }

    /// A new, empty slab for cache `c`, on its empty list.
    fn new_slab(&self, op: &mut Op, arena: u64, c: u64) -> Result<Option<u64>, Stop> {
        let Some(s) = self.top(op, arena, self.slab(), self.slab())? else {
            return Ok(None);
        };
        op.store(s, SLAB_TAG << 48 | c)?;
        op.store(s + 32, 0)?;
        for w in 0..self.slab() / 1024 {
            op.store(s + 48 + w * 8, 0)?;
        }
        let (size, n, start) = (object_size(c), self.objects(c), self.start(c));
        // The free list in address order.
        for i in 0..n {
            let o = s + start + i * size;
            op.store(o, if i + 1 < n { o + size } else { 0 })?;
            op.free_added.push(size);
        }
        op.store(s + 24, s + start)?;
        op.store(s + 40, EMPTY)?;
        Self::push_slab(op, arena, c, s, EMPTY)?;
        Ok(Some(s))
    }

    /// An object of cache `c`.
    fn object(&self, op: &mut Op, arena: u64, c: u64) -> Result<Option<u64>, Stop> {
        op.steps += 1;
        let mut s = op.load(list_head(arena, c, PARTIAL))?;
        if s == 0 {
            op.steps += 1;
            s = op.load(list_head(arena, c, EMPTY))?;
        }
        if s == 0 {
            match self.new_slab(op, arena, c)? {
                Some(n) => s = n,
                None => return Ok(None),
            }
        }
        let o = op.load(s + 24)?;
        let next = op.load(o)?;
        op.store(s + 24, next)?;
        let bit = (o - s) / 16;
        let w = s + 48 + bit / 64 * 8;
        let v = op.load(w)?;
        op.store(w, v | 1 << (bit % 64))?;
        let used = op.load(s + 32)?;
        op.store(s + 32, used + 1)?;
        self.file_slab(op, arena, c, s)?;
        op.free_removed.push(object_size(c));
        Ok(Some(o))
    }

    /// Puts run `r` of `size` bytes on the free-run list in address order, merged with
    /// free runs just below and above it.
    fn put_run(&self, op: &mut Op, arena: u64, r: u64, size: u64) -> Result<(), Stop> {
        // Its own header says "free" even where it merges into the run below.
        op.store(r, run_header(0, false))?;
        op.store(r + 8, size)?;
        let mut prev = 0;
        let mut cur = op.load(arena + RUNS)?;
        while cur != 0 && cur < r {
            op.steps += 1;
            prev = cur;
            cur = op.load(cur + 16)?;
        }
        let (mut start, mut total, mut next) = (r, size, cur);
        if cur != 0 && cur == r + size {
            let nsize = op.load(cur + 8)?;
            op.free_removed.push(nsize);
            total += nsize;
            next = op.load(cur + 16)?;
        }
        if prev != 0 {
            let psize = op.load(prev + 8)?;
            if prev + psize == r {
                op.free_removed.push(psize);
                start = prev;
                total += psize;
            }
        }
        op.store(start + 8, total)?;
        op.store(start + 16, next)?;
        if start != prev {
            if prev == 0 {
                op.store(arena + RUNS, start)?;
            } else {
                op.store(prev + 16, start)?;
            }
        }
        op.free_added.push(total);
        Ok(())
    }

    /// A run of `bytes` (a page multiple), in use: the first free run large enough (its
    /// front; the rest stays free), else a new one at the top.
    fn run(&self, op: &mut Op, arena: u64, bytes: u64) -> Result<Option<u64>, Stop> {
        let mut prev = 0;
        let mut cur = op.load(arena + RUNS)?;
        while cur != 0 {
            op.steps += 1;
            let size = op.load(cur + 8)?;
            let next = op.load(cur + 16)?;
            if size >= bytes {
                op.free_removed.push(size);
                let after = if size > bytes {
                    let rest = cur + bytes;
                    op.store(rest, run_header(0, false))?;
                    op.store(rest + 8, size - bytes)?;
                    op.store(rest + 16, next)?;
                    op.free_added.push(size - bytes);
                    rest
                } else {
                    next
                };
                if prev == 0 {
                    op.store(arena + RUNS, after)?;
                } else {
                    op.store(prev + 16, after)?;
                }
                op.store(cur + 8, bytes)?;
                return Ok(Some(cur));
            }
            prev = cur;
            cur = next;
        }
        self.top(op, arena, bytes, self.page())
    }

    /// A run for `size` bytes at a multiple of `align`: `(payload, granted)`.
    fn large(
        &self,
        op: &mut Op,
        arena: u64,
        size: u64,
        align: u64,
    ) -> Result<Option<(u64, u64)>, Stop> {
        // Runs are page-aligned: the payload is at most `align` (or 16) bytes in.
        let Some(bytes) = size
            .checked_add(align.max(16))
            .and_then(|b| b.checked_next_multiple_of(self.page()))
        else {
            return Ok(None);
        };
        let Some(r) = self.run(op, arena, bytes)? else {
            return Ok(None);
        };
        let p = (r + 16).next_multiple_of(align.max(16));
        let off = p - r;
        op.store(r, run_header(off, true))?;
        op.store(r + 8, bytes)?;
        if off > 16 {
            op.store(p - 16, FWD << 48 | off)?;
        }
        Ok(Some((p, bytes)))
    }

    /// What `ptr` is, by the metadata.
    fn lookup(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Thing, Stop> {
        let first = self.first(arena);
        let top = op.load(arena + TOP)?;
        if !ptr.is_multiple_of(16) || ptr < first + 16 || ptr >= top {
            return Ok(Thing::Nothing);
        }
        let s = ptr & !(self.slab() - 1);
        if s >= first {
            let h = op.load(s)?;
            if h >> 48 == SLAB_TAG && h & LOW48 < CACHES {
                let c = h & LOW48;
                let (size, start) = (object_size(c), self.start(c));
                if ptr < s + start || !(ptr - s - start).is_multiple_of(size) {
                    return Ok(Thing::Nothing);
                }
                let bit = (ptr - s) / 16;
                let w = op.load(s + 48 + bit / 64 * 8)?;
                return Ok(Thing::Object {
                    slab: s,
                    cache: c,
                    used: w & 1 << (bit % 64) != 0,
                });
            }
        }
        let Some((r, off, h)) = tagged_header(op, ptr, first, RUN_TAG, FWD)? else {
            return Ok(Thing::Nothing);
        };
        if !(r - first).is_multiple_of(self.page()) {
            return Ok(Thing::Nothing);
        }
        let size = op.load(r + 8)?;
        if size == 0 || !size.is_multiple_of(self.page()) || size > top - r {
            return Ok(Thing::Nothing);
        }
        if h & 1 == 0 {
            return Ok(Thing::Run {
                run: r,
                size,
                off,
                used: false,
            });
        }
        if ((h >> 8) & ((1 << 40) - 1)) * 16 != off || ptr >= r + size {
            return Ok(Thing::Nothing);
        }
        Ok(Thing::Run {
            run: r,
            size,
            off,
            used: true,
        })
    }
}

/// What a pointer is.
enum Thing {
    Nothing,
    Object {
        slab: u64,
        cache: u64,
        used: bool,
    },
    Run {
        run: u64,
        size: u64,
        off: u64,
        used: bool,
    },
}

impl Allocator for SlabAlloc {
    fn name(&self) -> &'static str {
        "slab"
    }

    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop> {
        if !op.mem.grow_to(base + HEADER_END) {
            return Ok(false);
        }
        op.store(base, MAGIC)?;
        op.store(base + TOP, self.first(base))?;
        op.store(base + RUNS, 0)?;
        for c in 0..CACHES {
            for list in [EMPTY, PARTIAL, FULL] {
                op.store(list_head(base, c, list), 0)?;
            }
        }
        Ok(true)
    }

    fn malloc(&self, op: &mut Op, arena: u64, size: u64) -> Result<Option<Block>, Stop> {
        self.memalign(op, arena, 16, size)
    }

    fn memalign(
        &self,
        op: &mut Op,
        arena: u64,
        align: u64,
        size: u64,
    ) -> Result<Option<Block>, Stop> {
        // Objects are aligned to their size.
        let want = size.max(align);
        if let Some(c) = (0..CACHES).find(|&c| object_size(c) >= want) {
            return Ok(self.object(op, arena, c)?.map(|ptr| Block {
                ptr,
                granted: object_size(c),
            }));
        }
        if align >= 1 << 44 {
            return Ok(None);
        }
        Ok(self
            .large(op, arena, size, align)?
            .map(|(ptr, granted)| Block { ptr, granted }))
    }

    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop> {
        match self.lookup(op, arena, ptr)? {
            Thing::Nothing => Ok(Freed::Invalid),
            Thing::Object { used: false, .. } | Thing::Run { used: false, .. } => Ok(Freed::Double),
            Thing::Object { slab, cache, .. } => {
                let bit = (ptr - slab) / 16;
                let w = slab + 48 + bit / 64 * 8;
                let v = op.load(w)?;
                op.store(w, v & !(1 << (bit % 64)))?;
                let head = op.load(slab + 24)?;
                op.store(ptr, head)?;
                op.store(slab + 24, ptr)?;
                let used = op.load(slab + 32)?;
                op.store(slab + 32, used - 1)?;
                self.file_slab(op, arena, cache, slab)?;
                op.free_added.push(object_size(cache));
                Ok(Freed::Ok {
                    granted: object_size(cache),
                })
            }
            Thing::Run { run, size, .. } => {
                self.put_run(op, arena, run, size)?;
                Ok(Freed::Ok { granted: size })
            }
        }
    }

    fn usable_size(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<u64>, Stop> {
        Ok(match self.lookup(op, arena, ptr)? {
            Thing::Object {
                cache, used: true, ..
            } => Some(object_size(cache)),
            Thing::Run {
                size,
                off,
                used: true,
                ..
            } => Some(size - off),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::alloc::testing::{call, check_allocator, init, VecMem};
    use super::super::alloc::Call;
    use super::*;

    const A: SlabAlloc = SlabAlloc { page: 4096 };

    fn word(m: &VecMem, addr: u64) -> u64 {
        m.words[((addr - m.base) / 8) as usize]
    }

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

    /// The slabs on a list of cache `c`.
    fn slabs(m: &VecMem, arena: u64, c: u64, list: u64) -> Vec<u64> {
        let mut v = Vec::new();
        let mut s = word(m, list_head(arena, c, list));
        while s != 0 {
            v.push(s);
            s = word(m, s + 8);
        }
        v
    }

    #[test]
    fn passes_the_checker() {
        for seed in 0..3 {
            check_allocator(&A, 0x51ab + seed, 25);
        }
    }

    #[test]
    fn objects_of_a_class_share_a_slab_and_are_aligned_to_their_size() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let slab = A.slab();
        let p: Vec<(u64, u64)> = [20, 30, 17, 32]
            .iter()
            .map(|&n| malloc(&mut m, arena, n))
            .collect();
        for &(q, g) in &p {
            assert_eq!(g, 32);
            assert_eq!(q % 32, 0);
            assert_eq!(q & !(slab - 1), p[0].0 & !(slab - 1), "one slab");
        }
        assert_eq!(p[1].0, p[0].0 + 32, "consecutive objects");
        // Another class has a slab of its own.
        let (q, g) = malloc(&mut m, arena, 100);
        assert_eq!(g, 128);
        assert_ne!(q & !(slab - 1), p[0].0 & !(slab - 1));
        let s = p[0].0 & !(slab - 1);
        assert_eq!(s % slab, 0);
        assert_eq!(slabs(&m, arena, 1, PARTIAL), vec![s]);
        assert_eq!(word(&m, s + 32), 4, "four objects in use");
    }

    #[test]
    fn a_freed_object_is_reused_first() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let p: Vec<u64> = (0..5).map(|_| malloc(&mut m, arena, 64).0).collect();
        assert_eq!(free(&mut m, arena, p[1]), None);
        assert_eq!(free(&mut m, arena, p[3]), None);
        assert_eq!(malloc(&mut m, arena, 50).0, p[3]);
        assert_eq!(malloc(&mut m, arena, 64).0, p[1]);
        assert_eq!(malloc(&mut m, arena, 64).0, p[4] + 64);
    }

    #[test]
    fn slabs_move_between_the_full_partial_and_empty_lists() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let c = 7; // 2048-byte objects
        let n = A.objects(c);
        assert_eq!(n, 7);
        let p: Vec<u64> = (0..n).map(|_| malloc(&mut m, arena, 2000).0).collect();
        let s = p[0] & !(A.slab() - 1);
        assert_eq!(slabs(&m, arena, c, FULL), vec![s]);
        // The next object needs a second slab.
        let q = malloc(&mut m, arena, 2048).0;
        let s2 = q & !(A.slab() - 1);
        assert_ne!(s2, s);
        assert_eq!(slabs(&m, arena, c, PARTIAL), vec![s2]);
        free(&mut m, arena, p[2]);
        assert_eq!(slabs(&m, arena, c, PARTIAL), vec![s, s2]);
        assert_eq!(slabs(&m, arena, c, FULL), Vec::<u64>::new());
        free(&mut m, arena, q);
        assert_eq!(slabs(&m, arena, c, EMPTY), vec![s2]);
        // A partial slab serves before the empty one.
        assert_eq!(malloc(&mut m, arena, 2048).0, p[2]);
    }

    #[test]
    fn bad_frees_are_caught() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let (a, _) = malloc(&mut m, arena, 64);
        let (b, _) = malloc(&mut m, arena, 64);
        assert_eq!(free(&mut m, arena, a), None);
        assert_eq!(free(&mut m, arena, a), Some("free(): double free detected"));
        assert_eq!(free(&mut m, arena, b + 16), Some("free(): invalid pointer"));
        assert_eq!(
            free(&mut m, arena, arena + 8),
            Some("free(): invalid pointer")
        );
        let (r, g) = malloc(&mut m, arena, 5000);
        assert_eq!((g, (r - 16) % 4096), (8192, 0), "a run of two pages");
        assert_eq!(free(&mut m, arena, r), None);
        assert_eq!(free(&mut m, arena, r), Some("free(): double free detected"));
        assert_eq!(
            free(&mut m, arena, r + 4096),
            Some("free(): invalid pointer")
        );
    }

    #[test]
    fn large_runs_split_and_merge() {
        let mut m = VecMem::new(0x1_0000, 0x40_0000);
        let arena = init(&A, &mut m);
        let (a, _) = malloc(&mut m, arena, 3 * 4096);
        let (b, _) = malloc(&mut m, arena, 4096);
        let (_c, _) = malloc(&mut m, arena, 4096);
        assert_eq!(b, a + 4 * 4096);
        free(&mut m, arena, a);
        let (_, added, removed, _) = call(&A, &mut m, arena, Call::Free, [b, 0, 0]);
        assert_eq!((added, removed), (vec![6 * 4096], vec![4 * 4096]));
        // A 2-page run is the front of the merged run.
        let (d, g) = malloc(&mut m, arena, 5000);
        assert_eq!((d, g), (a, 8192));
        let r = call(&A, &mut m, arena, Call::Memalign, [8192, 5000, 0]).0;
        assert_eq!(r.ret % 8192, 0);
        assert_eq!(free(&mut m, arena, r.ret), None);
    }
}
