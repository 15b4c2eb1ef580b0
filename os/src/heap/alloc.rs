//! Allocators that run in place of a program's `malloc` (`os.malloc`): the framework they
//! share.
//!
//! An allocator keeps **all** its state in guest memory — its arena header, block headers,
//! free-list links — read and written through [`HeapMem`] one 8-byte word at a time, so that
//! its page faults are the process's and a buffer overflow corrupts it as it would corrupt a
//! real `malloc`. The [`Allocator`] value itself holds only configuration (`&self`).
//!
//! That makes every operation restartable: when a word it touches is in a page that is not in
//! memory, [`HeapMem`] answers [`Stop`]; the kernel brings the page in and runs the whole
//! operation again later, from the same guest state (the kernel applies an operation's stores
//! only once the operation has finished, [`Journal`]). The break only moves forward and
//! [`HeapMem::grow_to`] asks for an end, not an increment, so a second run asks for what the
//! first already got.
//!
//! What an operation changes that the host must know — the free space for the statistics —
//! it records in [`Op`]: `free_added` and `free_removed` name the free blocks (by size) that
//! appeared and went, so that the kernel keeps the largest free block and the total free
//! bytes (external fragmentation) without reading guest memory.
//!
//! The generic calls (`calloc`, `realloc`, `reallocarray`, `posix_memalign`, ...) are built
//! here on each allocator's four ([`Allocator::malloc`], [`Allocator::memalign`],
//! [`Allocator::free`], [`Allocator::usable_size`]), as the C library builds them.

use std::collections::BTreeMap;

/// The operation must run again: a page it touched is being brought in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop;

/// Guest memory as an allocator sees it.
pub trait HeapMem {
    /// The 8-byte word at `addr` (8-aligned).
    fn load(&mut self, addr: u64) -> Result<u64, Stop>;
    /// Stores `value` at `addr` (8-aligned).
    fn store(&mut self, addr: u64, value: u64) -> Result<(), Stop>;
    /// The break now: one past the heap's last byte.
    fn brk(&self) -> u64;
    /// Moves the break to `end` if it is below (it never moves back); false if the heap
    /// cannot grow that far (the allocation fails: `ENOMEM`).
    fn grow_to(&mut self, end: u64) -> bool;
    /// The `len` bytes at `addr` (8-aligned; `len` a multiple of 8): a block's contents,
    /// for `realloc`.
    fn read_bytes(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::with_capacity(len as usize);
        let mut at = 0;
        while at < len {
            out.extend_from_slice(&self.load(addr + at)?.to_le_bytes());
            at += 8;
        }
        Ok(out)
    }
    /// Stores `bytes` at `addr` (8-aligned; a multiple of 8 bytes): `realloc`'s copy and
    /// `calloc`'s zeros.
    fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Stop> {
        for (i, w) in bytes.chunks(8).enumerate() {
            let mut b = [0u8; 8];
            b[..w.len()].copy_from_slice(w);
            self.store(addr + 8 * i as u64, u64::from_le_bytes(b))?;
        }
        Ok(())
    }
}

/// One operation's context: the memory, and what the host must learn of the operation.
pub struct Op<'a> {
    /// The memory.
    pub mem: &'a mut dyn HeapMem,
    /// Search steps (free-list elements, size classes, buddy levels looked at).
    pub steps: u64,
    /// The sizes of free blocks that appeared (freed, split off, grown into).
    pub free_added: Vec<u64>,
    /// The sizes of free blocks that went (allocated, merged, split).
    pub free_removed: Vec<u64>,
}

impl<'a> Op<'a> {
    /// A fresh operation on `mem`.
    pub fn new(mem: &'a mut dyn HeapMem) -> Op<'a> {
        Op {
            mem,
            steps: 0,
            free_added: Vec::new(),
            free_removed: Vec::new(),
        }
    }

    /// The word at `addr`.
    pub fn load(&mut self, addr: u64) -> Result<u64, Stop> {
        self.mem.load(addr)
    }

    /// Stores `value` at `addr`.
    pub fn store(&mut self, addr: u64, value: u64) -> Result<(), Stop> {
        self.mem.store(addr, value)
    }
}

/// A block an allocation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The address the program gets.
    pub ptr: u64,
    /// The bytes of heap the allocation takes: its header, the payload and any padding
    /// (granted minus requested is its internal fragmentation).
    pub granted: u64,
}

/// What `free` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freed {
    /// The block went back; it had taken `granted` bytes.
    Ok {
        /// As [`Block::granted`].
        granted: u64,
    },
    /// The block was free already (glibc: "double free detected").
    Double,
    /// Not a pointer this allocator returned (glibc: "free(): invalid pointer").
    Invalid,
}

/// An allocator in guest memory. Every method must be restartable (see the module docs):
/// state lives in guest memory only.
pub trait Allocator: std::fmt::Debug {
    /// Its `os.malloc` name.
    fn name(&self) -> &'static str;
    /// The alignment of every pointer `malloc` returns (16 on RISC-V Linux).
    fn align(&self) -> u64 {
        16
    }
    /// Sets up an empty heap whose arena begins at `base` (the break when the program
    /// first calls malloc; 16-aligned): grows the break and writes the arena's header.
    fn init(&self, op: &mut Op, base: u64) -> Result<bool, Stop>;
    /// `size` bytes (at least one: `malloc(0)` asks for 1), or `None` when the heap cannot
    /// grow.
    fn malloc(&self, op: &mut Op, arena: u64, size: u64) -> Result<Option<Block>, Stop>;
    /// `size` bytes at a multiple of `align` (a power of two, at least 16).
    fn memalign(
        &self,
        op: &mut Op,
        arena: u64,
        align: u64,
        size: u64,
    ) -> Result<Option<Block>, Stop>;
    /// Gives back the block at `ptr` (not null).
    fn free(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Freed, Stop>;
    /// The bytes the program may use at `ptr` (a live block), or `None` if `ptr` is no
    /// live block.
    fn usable_size(&self, op: &mut Op, arena: u64, ptr: u64) -> Result<Option<u64>, Stop>;
}

/// What a call of the program's allocation interface did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// The value in `a0` for the program.
    pub ret: u64,
    /// `errno` to set (`ENOMEM`, `EINVAL`), if any.
    pub errno: Option<u64>,
    /// The blocks the call allocated (`(ptr, requested, granted)`) and freed (`ptr`), in
    /// order, for the statistics and the trace.
    pub allocated: Vec<(u64, u64, u64)>,
    /// As `allocated`.
    pub freed: Vec<(u64, u64)>,
    /// A free the C library would abort on: what it would say, and the pointer.
    pub abort: Option<(&'static str, u64)>,
    /// A word to store for the program (`posix_memalign`'s `*memptr`).
    pub out: Option<(u64, u64)>,
}

impl CallResult {
    fn ret(ret: u64) -> CallResult {
        CallResult {
            ret,
            errno: None,
            allocated: Vec::new(),
            freed: Vec::new(),
            abort: None,
            out: None,
        }
    }

    fn fail(ret: u64, errno: u64) -> CallResult {
        CallResult {
            errno: Some(errno),
            ..CallResult::ret(ret)
        }
    }
}

/// `ENOMEM`.
pub const ENOMEM: u64 = 12;
/// `EINVAL`.
pub const EINVAL: u64 = 22;

/// The allocation calls vmlab redirects, by the symbol the program defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Call {
    /// `malloc(size)`.
    Malloc,
    /// `free(ptr)`.
    Free,
    /// `calloc(n, size)`.
    Calloc,
    /// `realloc(ptr, size)`.
    Realloc,
    /// `reallocarray(ptr, n, size)`.
    Reallocarray,
    /// `posix_memalign(&ptr, align, size)`.
    PosixMemalign,
    /// `aligned_alloc(align, size)`.
    AlignedAlloc,
    /// `memalign(align, size)`.
    Memalign,
    /// `valloc(size)`: page-aligned.
    Valloc,
    /// `pvalloc(size)`: page-aligned, rounded up to whole pages.
    Pvalloc,
    /// `malloc_usable_size(ptr)`.
    UsableSize,
}

impl Call {
    /// Every call with the symbol it is found by.
    pub const ALL: [(Call, &'static str); 11] = [
        (Call::Malloc, "malloc"),
        (Call::Free, "free"),
        (Call::Calloc, "calloc"),
        (Call::Realloc, "realloc"),
        (Call::Reallocarray, "reallocarray"),
        (Call::PosixMemalign, "posix_memalign"),
        (Call::AlignedAlloc, "aligned_alloc"),
        (Call::Memalign, "memalign"),
        (Call::Valloc, "valloc"),
        (Call::Pvalloc, "pvalloc"),
        (Call::UsableSize, "malloc_usable_size"),
    ];

    /// The symbol's name.
    pub fn symbol(self) -> &'static str {
        Call::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("?", |(_, s)| s)
    }
}

/// The largest request served: larger ones fail with `ENOMEM` (glibc's `PTRDIFF_MAX`).
pub const MAX_REQUEST: u64 = i64::MAX as u64 / 2;

/// Runs call `call` with the program's arguments `a` (a0..a2) on `alloc`, as the C library
/// defines it on top of the allocator's primitives. `page` is the page size (`valloc`).
pub fn run_call(
    alloc: &dyn Allocator,
    op: &mut Op,
    arena: u64,
    call: Call,
    a: [u64; 3],
    page: u64,
) -> Result<CallResult, Stop> {
    let malloc = |op: &mut Op, size: u64| -> Result<CallResult, Stop> {
        if size > MAX_REQUEST {
            return Ok(CallResult::fail(0, ENOMEM));
        }
        Ok(match alloc.malloc(op, arena, size.max(1))? {
            Some(b) => CallResult {
                allocated: vec![(b.ptr, size, b.granted)],
                ..CallResult::ret(b.ptr)
            },
            None => CallResult::fail(0, ENOMEM),
        })
    };
    let aligned = |op: &mut Op, align: u64, size: u64| -> Result<CallResult, Stop> {
        if size > MAX_REQUEST || align > MAX_REQUEST {
            return Ok(CallResult::fail(0, ENOMEM));
        }
        let align = align.max(alloc.align());
        Ok(match alloc.memalign(op, arena, align, size.max(1))? {
            Some(b) => CallResult {
                allocated: vec![(b.ptr, size, b.granted)],
                ..CallResult::ret(b.ptr)
            },
            None => CallResult::fail(0, ENOMEM),
        })
    };
    match call {
        Call::Malloc => malloc(op, a[0]),
        Call::Free => free(alloc, op, arena, a[0]),
        Call::Calloc => {
            let Some(bytes) = a[0].checked_mul(a[1]) else {
                return Ok(CallResult::fail(0, ENOMEM));
            };
            let r = malloc(op, bytes)?;
            if r.ret != 0 {
                // Fresh memory from the break is zeros, but a reused block is not.
                let usable = alloc.usable_size(op, arena, r.ret)?.unwrap_or(bytes);
                let len = usable.min(bytes.next_multiple_of(8)) & !7;
                op.mem.write_bytes(r.ret, &vec![0u8; len as usize])?;
            }
            Ok(r)
        }
        Call::Realloc => realloc(alloc, op, arena, a[0], a[1]),
        Call::Reallocarray => match a[1].checked_mul(a[2]) {
            Some(bytes) => realloc(alloc, op, arena, a[0], bytes),
            None => Ok(CallResult::fail(0, ENOMEM)),
        },
        Call::PosixMemalign => {
            let (out, align, size) = (a[0], a[1], a[2]);
            if !align.is_power_of_two() || !align.is_multiple_of(8) {
                return Ok(CallResult::ret(EINVAL));
            }
            let mut r = aligned(op, align, size)?;
            if r.ret == 0 {
                return Ok(CallResult::ret(ENOMEM));
            }
            r.out = Some((out, r.ret));
            r.ret = 0;
            Ok(r)
        }
        Call::AlignedAlloc | Call::Memalign => {
            let (align, size) = (a[0], a[1]);
            if !align.is_power_of_two() {
                return Ok(CallResult::fail(0, EINVAL));
            }
            aligned(op, align, size)
        }
        Call::Valloc => aligned(op, page, a[0]),
        Call::Pvalloc => aligned(op, page, a[0].max(1).next_multiple_of(page)),
        Call::UsableSize => Ok(CallResult::ret(if a[0] == 0 {
            0
        } else {
            alloc.usable_size(op, arena, a[0])?.unwrap_or(0)
        })),
    }
}

fn free(alloc: &dyn Allocator, op: &mut Op, arena: u64, ptr: u64) -> Result<CallResult, Stop> {
    if ptr == 0 {
        return Ok(CallResult::ret(0));
    }
    Ok(match alloc.free(op, arena, ptr)? {
        Freed::Ok { granted } => CallResult {
            freed: vec![(ptr, granted)],
            ..CallResult::ret(0)
        },
        Freed::Double => CallResult {
            abort: Some(("free(): double free detected", ptr)),
            ..CallResult::ret(0)
        },
        Freed::Invalid => CallResult {
            abort: Some(("free(): invalid pointer", ptr)),
            ..CallResult::ret(0)
        },
    })
}

fn realloc(
    alloc: &dyn Allocator,
    op: &mut Op,
    arena: u64,
    ptr: u64,
    size: u64,
) -> Result<CallResult, Stop> {
    if ptr == 0 {
        if size > MAX_REQUEST {
            return Ok(CallResult::fail(0, ENOMEM));
        }
        return Ok(match alloc.malloc(op, arena, size.max(1))? {
            Some(b) => CallResult {
                allocated: vec![(b.ptr, size, b.granted)],
                ..CallResult::ret(b.ptr)
            },
            None => CallResult::fail(0, ENOMEM),
        });
    }
    if size == 0 {
        // glibc frees and returns NULL.
        return free(alloc, op, arena, ptr);
    }
    let Some(usable) = alloc.usable_size(op, arena, ptr)? else {
        return Ok(CallResult {
            abort: Some(("realloc(): invalid pointer", ptr)),
            ..CallResult::ret(0)
        });
    };
    if size > MAX_REQUEST {
        return Ok(CallResult::fail(0, ENOMEM));
    }
    // A new block, the bytes, and the old block goes (the C standard's model; it keeps the
    // block when it is large enough and not much too large).
    if usable >= size && usable / 2 <= size.max(alloc.align()) {
        return Ok(CallResult::ret(ptr));
    }
    let Some(b) = alloc.malloc(op, arena, size)? else {
        return Ok(CallResult::fail(0, ENOMEM));
    };
    let keep = usable.min(size.next_multiple_of(8)) & !7;
    let bytes = op.mem.read_bytes(ptr, keep)?;
    op.mem.write_bytes(b.ptr, &bytes)?;
    let mut r = free(alloc, op, arena, ptr)?;
    r.allocated.insert(0, (b.ptr, size, b.granted));
    r.ret = b.ptr;
    Ok(r)
}

/// Guest memory stores of an operation, held back until it finishes: loads see them, and
/// the kernel applies them all at once (or none, when the operation stops). Byte runs
/// (`realloc`'s copy, `calloc`'s zeros) are kept whole; a word stored after a run is in
/// `stores`, and a run removes the earlier word stores it covers, so applying the runs in
/// order and then the words gives the operation's memory.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    /// The word stores, by address (the latest value of each word).
    pub stores: BTreeMap<u64, u64>,
    /// The byte runs, in order: address and bytes.
    pub runs: Vec<(u64, Vec<u8>)>,
}

impl Journal {
    /// The journal's value for `addr`, if the operation stored there.
    pub fn get(&self, addr: u64) -> Option<u64> {
        if let Some(&v) = self.stores.get(&addr) {
            return Some(v);
        }
        let (run_at, bytes) = self
            .runs
            .iter()
            .rev()
            .find(|(a, b)| *a <= addr && addr + 8 <= a + b.len() as u64)?;
        let i = (addr - run_at) as usize;
        Some(u64::from_le_bytes(bytes[i..i + 8].try_into().ok()?))
    }

    /// Records a word store.
    pub fn put(&mut self, addr: u64, value: u64) {
        self.stores.insert(addr, value);
    }

    /// Records a byte run at `addr` (8-aligned, whole words), which the operation read
    /// through the journal (so earlier stores to its source are in it).
    pub fn put_run(&mut self, addr: u64, bytes: Vec<u8>) {
        let end = addr + bytes.len() as u64;
        let covered: Vec<u64> = self.stores.range(addr..end).map(|(&a, _)| a).collect();
        for a in covered {
            self.stores.remove(&a);
        }
        self.runs.push((addr, bytes));
    }

    /// Overlays this journal's stores on `bytes`, read from memory at `addr`.
    pub fn overlay(&self, addr: u64, bytes: &mut [u8]) {
        let end = addr + bytes.len() as u64;
        for (run_at, run) in &self.runs {
            let (from, to) = ((*run_at).max(addr), (run_at + run.len() as u64).min(end));
            if from < to {
                bytes[(from - addr) as usize..(to - addr) as usize]
                    .copy_from_slice(&run[(from - run_at) as usize..(to - run_at) as usize]);
            }
        }
        for (&a, &v) in self.stores.range(addr.saturating_sub(7)..end) {
            for (k, b) in v.to_le_bytes().iter().enumerate() {
                let at = a + k as u64;
                if at >= addr && at < end {
                    bytes[(at - addr) as usize] = *b;
                }
            }
        }
    }
}

/// Test support: a heap in a host vector, and a checker every allocator must pass.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// Memory from `base` with a break and a limit; loads outside `[base, brk)` panic (an
    /// allocator must not touch memory it does not own).
    #[derive(Debug)]
    pub struct VecMem {
        /// The first address.
        pub base: u64,
        /// The words.
        pub words: Vec<u64>,
        /// The break.
        pub brk: u64,
        /// The most the break may reach.
        pub limit: u64,
        /// When set, the n-th access from now stops (to test restarts).
        pub stop_after: Option<u64>,
    }

    impl VecMem {
        /// An empty heap at `base` that may grow to `limit`.
        pub fn new(base: u64, limit: u64) -> VecMem {
            VecMem {
                base,
                words: Vec::new(),
                brk: base,
                limit,
                stop_after: None,
            }
        }

        fn tick(&mut self) -> Result<(), Stop> {
            if let Some(n) = self.stop_after.as_mut() {
                if *n == 0 {
                    self.stop_after = None;
                    return Err(Stop);
                }
                *n -= 1;
            }
            Ok(())
        }
    }

    impl HeapMem for VecMem {
        fn load(&mut self, addr: u64) -> Result<u64, Stop> {
            assert!(addr.is_multiple_of(8), "unaligned load at {addr:#x}");
            assert!(
                addr >= self.base && addr < self.brk,
                "load at {addr:#x} outside the heap [{:#x}, {:#x})",
                self.base,
                self.brk
            );
            self.tick()?;
            Ok(self.words[((addr - self.base) / 8) as usize])
        }

        fn store(&mut self, addr: u64, value: u64) -> Result<(), Stop> {
            assert!(addr.is_multiple_of(8), "unaligned store at {addr:#x}");
            assert!(
                addr >= self.base && addr < self.brk,
                "store at {addr:#x} outside the heap [{:#x}, {:#x})",
                self.base,
                self.brk
            );
            self.tick()?;
            self.words[((addr - self.base) / 8) as usize] = value;
            Ok(())
        }

        fn brk(&self) -> u64 {
            self.brk
        }

        fn grow_to(&mut self, end: u64) -> bool {
            if end <= self.brk {
                return true;
            }
            if end > self.limit {
                return false;
            }
            self.brk = end;
            self.words.resize(((end - self.base) / 8) as usize, 0);
            true
        }
    }

    /// A journal over a [`VecMem`], as the kernel runs operations: stores wait in the
    /// journal until the operation finishes.
    pub struct Journaled<'a> {
        /// The memory.
        pub mem: &'a mut VecMem,
        /// The held-back stores.
        pub journal: Journal,
    }

    impl HeapMem for Journaled<'_> {
        fn load(&mut self, addr: u64) -> Result<u64, Stop> {
            if let Some(v) = self.journal.get(addr) {
                return Ok(v);
            }
            self.mem.load(addr)
        }

        fn store(&mut self, addr: u64, value: u64) -> Result<(), Stop> {
            assert!(
                addr >= self.mem.base && addr < self.mem.brk,
                "store at {addr:#x} outside the heap"
            );
            self.mem.tick()?;
            self.journal.put(addr, value);
            Ok(())
        }

        fn brk(&self) -> u64 {
            self.mem.brk
        }

        fn grow_to(&mut self, end: u64) -> bool {
            self.mem.grow_to(end)
        }

        fn read_bytes(&mut self, addr: u64, len: u64) -> Result<Vec<u8>, Stop> {
            self.mem.tick()?;
            let mut out = Vec::with_capacity(len as usize);
            let mut at = 0;
            while at < len {
                out.extend_from_slice(&self.mem.load(addr + at)?.to_le_bytes());
                at += 8;
            }
            self.journal.overlay(addr, &mut out);
            Ok(out)
        }

        fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Stop> {
            assert!(addr >= self.mem.base && addr + bytes.len() as u64 <= self.mem.brk);
            self.mem.tick()?;
            self.journal.put_run(addr, bytes.to_vec());
            Ok(())
        }
    }

    /// Applies `journal` to `mem`: the runs in order, then the words.
    fn apply(mem: &mut VecMem, journal: Journal) {
        for (addr, bytes) in journal.runs {
            for (i, w) in bytes.chunks(8).enumerate() {
                let a = addr + 8 * i as u64;
                mem.words[((a - mem.base) / 8) as usize] =
                    u64::from_le_bytes(w.try_into().unwrap());
            }
        }
        for (addr, v) in journal.stores {
            mem.words[((addr - mem.base) / 8) as usize] = v;
        }
    }

    /// Runs `call` as the kernel does: through a journal, again from the start each time it
    /// stops, then applies its stores. Returns the result and the operation's free-space
    /// changes.
    pub fn call(
        alloc: &dyn Allocator,
        mem: &mut VecMem,
        arena: u64,
        call: Call,
        a: [u64; 3],
    ) -> (CallResult, Vec<u64>, Vec<u64>, u64) {
        loop {
            let mut j = Journaled {
                mem,
                journal: Journal::default(),
            };
            let mut op = Op::new(&mut j);
            let r = run_call(alloc, &mut op, arena, call, a, 4096);
            let (added, removed, steps) = (op.free_added, op.free_removed, op.steps);
            let journal = j.journal;
            if let Ok(r) = r {
                apply(mem, journal);
                return (r, added, removed, steps);
            }
        }
    }

    /// Sets up an arena at the start of `mem` as the kernel does.
    pub fn init(alloc: &dyn Allocator, mem: &mut VecMem) -> u64 {
        let base = mem.brk.next_multiple_of(16);
        loop {
            let mut j = Journaled {
                mem,
                journal: Journal::default(),
            };
            let mut op = Op::new(&mut j);
            let r = alloc.init(&mut op, base);
            let journal = j.journal;
            if let Ok(ok) = r {
                assert!(ok, "the arena does not fit");
                apply(mem, journal);
                return base;
            }
        }
    }

    /// Checks `alloc` on random sequences of every call, with stops injected: pointers are
    /// aligned, inside the heap and never overlap a live block; a block keeps its bytes
    /// until it is freed (and across realloc); usable sizes cover the request; double and
    /// invalid frees are caught; the free-space changes never make the free bytes negative.
    pub fn check_allocator(alloc: &dyn Allocator, seed: u64, rounds: usize) {
        let mut x = seed | 1;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n.max(1)
        };
        for round in 0..rounds {
            let mut mem = VecMem::new(0x10_0000, 0x10_0000 + (1 << 22));
            let arena = init(alloc, &mut mem);
            // ptr -> (requested, fill word)
            let mut live: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
            // ptr -> usable bytes: what a stale header of a freed block may lie inside.
            let mut spans: BTreeMap<u64, u64> = BTreeMap::new();
            // The live blocks that came from an aligned call.
            let mut aligned = std::collections::BTreeSet::new();
            let mut free_bytes: i128 = 0;
            let mut freed_ptrs: Vec<u64> = Vec::new();
            for step in 0..200 {
                if next(7) == 0 {
                    mem.stop_after = Some(next(40));
                }
                let pick = next(100);
                let size = match next(4) {
                    0 => next(24),
                    1 => 1 + next(200),
                    2 => 1 + next(2000),
                    _ => 1 + next(9000),
                };
                let (call, a) = if live.is_empty() || pick < 40 {
                    (Call::Malloc, [size, 0, 0])
                } else if pick < 45 {
                    (Call::Calloc, [1 + next(30), 1 + next(64), 0])
                } else if pick < 52 {
                    let align = 16 << next(9);
                    match next(5) {
                        0 => (Call::Memalign, [align, size, 0]),
                        1 => (Call::AlignedAlloc, [align, size, 0]),
                        2 => (Call::PosixMemalign, [0x8, align, size]),
                        3 => (Call::Valloc, [size, 0, 0]),
                        _ => (Call::Pvalloc, [size, 0, 0]),
                    }
                } else if pick < 62 {
                    let k = *live.keys().nth(next(live.len() as u64) as usize).unwrap();
                    if next(4) == 0 {
                        (Call::Reallocarray, [k, 1 + next(8), size / 8 + 1])
                    } else {
                        (Call::Realloc, [k, size, 0])
                    }
                } else if pick < 64 && !freed_ptrs.is_empty() {
                    // A double free: the block must still be free (not reused).
                    let p = freed_ptrs[next(freed_ptrs.len() as u64) as usize];
                    if spans.iter().any(|(&q, &u)| q <= p + 16 && p <= q + u + 16) {
                        continue;
                    }
                    (Call::Free, [p, 0, 0])
                } else if pick < 65 {
                    // A pointer it never returned: below every block, or inside a live one.
                    let inside = spans.iter().find(|(_, &u)| u >= 64).map(|(&q, _)| q + 32);
                    match inside {
                        Some(q) if next(2) == 0 => (Call::Free, [q, 0, 0]),
                        _ => (Call::Free, [arena + 8, 0, 0]),
                    }
                } else {
                    let k = *live.keys().nth(next(live.len() as u64) as usize).unwrap();
                    (Call::Free, [k, 0, 0])
                };
                let before: Vec<(u64, (u64, u64))> = live.iter().map(|(&k, &v)| (k, v)).collect();
                let (r, added, removed, _) = call_checked(alloc, &mut mem, arena, call, a);
                free_bytes += added.iter().map(|&s| s as i128).sum::<i128>();
                free_bytes -= removed.iter().map(|&s| s as i128).sum::<i128>();
                assert!(
                    free_bytes >= 0,
                    "{}: round {round} step {step}: free bytes below 0",
                    alloc.name()
                );
                let ctx = format!(
                    "{}: round {round} step {step}: {call:?}{a:x?}",
                    alloc.name()
                );
                match call {
                    Call::Free if a[0] == arena + 8 || !live.contains_key(&a[0]) => {
                        assert!(r.abort.is_some(), "{ctx}: a bad free went unnoticed");
                        continue;
                    }
                    _ => assert!(r.abort.is_none(), "{ctx}: {:?}", r.abort),
                }
                // realloc by another name.
                let (call, a) = match call {
                    Call::Reallocarray => (Call::Realloc, [a[0], a[1] * a[2], 0]),
                    c => (c, a),
                };
                // Every live block still holds its fill (except the one realloc moved).
                for (p, (req, fill)) in &before {
                    if (call == Call::Free || call == Call::Realloc) && *p == a[0] {
                        continue;
                    }
                    check_fill(&mut mem, *p, *req, *fill, &ctx);
                }
                match call {
                    Call::Free => {
                        live.remove(&a[0]);
                        spans.remove(&a[0]);
                        freed_ptrs.push(a[0]);
                        if next(4) == 0 {
                            // Freed again at once: caught, and called a double free when
                            // the block came from plain malloc (an aligned block's header
                            // is found through words the free may have reused).
                            let (r, ..) = call_checked(alloc, &mut mem, arena, Call::Free, a);
                            let what = r.abort.map(|x| x.0).unwrap_or("nothing");
                            let plain = !aligned.contains(&a[0]);
                            assert!(
                                what.contains("double free") || (!plain && r.abort.is_some()),
                                "{ctx}: freed again: {what}"
                            );
                        }
                        aligned.remove(&a[0]);
                    }
                    Call::Realloc if a[1] == 0 => {
                        // realloc(p, 0) frees p and returns NULL, as glibc's.
                        assert_eq!(r.ret, 0, "{ctx}");
                        live.remove(&a[0]);
                        spans.remove(&a[0]);
                        freed_ptrs.push(a[0]);
                    }
                    Call::Realloc => {
                        let (req, fill) = live[&a[0]];
                        if r.ret != 0 {
                            let keep = req.min(a[1]);
                            check_fill(&mut mem, r.ret, keep, fill, &ctx);
                            live.remove(&a[0]);
                            spans.remove(&a[0]);
                            if r.ret != a[0] {
                                freed_ptrs.push(a[0]);
                            }
                            let fill = next(u64::MAX) | 1;
                            fill_block(&mut mem, r.ret, a[1], fill);
                            live.insert(r.ret, (a[1], fill));
                            let usable = call_checked(
                                alloc,
                                &mut mem,
                                arena,
                                Call::UsableSize,
                                [r.ret, 0, 0],
                            )
                            .0
                            .ret;
                            spans.insert(r.ret, usable);
                        }
                    }
                    _ => {
                        // The block, the bytes asked for, and the alignment promised.
                        let (ptr, req, align) = match call {
                            Call::Calloc => (r.ret, a[0] * a[1], 16),
                            Call::Memalign | Call::AlignedAlloc => (r.ret, a[1], a[0]),
                            Call::PosixMemalign => {
                                assert_eq!(r.ret == 0, r.out.is_some(), "{ctx}: {r:?}");
                                (r.out.map_or(0, |o| o.1), a[2], a[1])
                            }
                            Call::Valloc => (r.ret, a[0], 4096),
                            Call::Pvalloc => (r.ret, a[0].next_multiple_of(4096), 4096),
                            _ => (r.ret, a[0], 16),
                        };
                        if ptr == 0 {
                            continue;
                        }
                        let r = CallResult { ret: ptr, ..r };
                        assert_eq!(r.ret % align, 0, "{ctx}: {:#x} not aligned", r.ret);
                        if call == Call::Calloc {
                            check_fill(&mut mem, r.ret, req, 0, &ctx);
                        }
                        let end = r.ret + req;
                        assert!(r.ret >= arena && end <= mem.brk, "{ctx}: outside the heap");
                        for (&p, &(q, _)) in &live {
                            assert!(
                                end <= p || p + q.max(1) <= r.ret,
                                "{ctx}: {:#x} overlaps {p:#x}",
                                r.ret
                            );
                        }
                        let usable =
                            call_checked(alloc, &mut mem, arena, Call::UsableSize, [r.ret, 0, 0])
                                .0
                                .ret;
                        assert!(usable >= req, "{ctx}: usable {usable} < {req}");
                        let fill = next(u64::MAX) | 1;
                        fill_block(&mut mem, r.ret, req, fill);
                        live.insert(r.ret, (req, fill));
                        spans.insert(r.ret, usable);
                        if align > 16 {
                            aligned.insert(r.ret);
                        }
                        freed_ptrs.retain(|&f| f != r.ret);
                    }
                }
            }
            // Freeing everything gives every byte back to free space or leaves none in use.
            for p in live.keys().copied().collect::<Vec<_>>() {
                let (r, added, removed, _) =
                    call_checked(alloc, &mut mem, arena, Call::Free, [p, 0, 0]);
                assert!(r.abort.is_none());
                free_bytes += added.iter().map(|&s| s as i128).sum::<i128>();
                free_bytes -= removed.iter().map(|&s| s as i128).sum::<i128>();
            }
            assert!(free_bytes >= 0);
        }
    }

    fn call_checked(
        alloc: &dyn Allocator,
        mem: &mut VecMem,
        arena: u64,
        c: Call,
        a: [u64; 3],
    ) -> (CallResult, Vec<u64>, Vec<u64>, u64) {
        call(alloc, mem, arena, c, a)
    }

    /// Writes `fill ^ offset` into the whole words of `[p, p + req)`.
    fn fill_block(mem: &mut VecMem, p: u64, req: u64, fill: u64) {
        let mut at = p;
        while at + 8 <= p + req {
            mem.words[((at - mem.base) / 8) as usize] = fill ^ (at - p);
            at += 8;
        }
    }

    /// Checks [`fill_block`]'s words (a `fill` of 0: zeros).
    fn check_fill(mem: &mut VecMem, p: u64, req: u64, fill: u64, ctx: &str) {
        let mut at = p;
        while at + 8 <= p + req {
            let w = mem.words[((at - mem.base) / 8) as usize];
            let want = if fill == 0 { 0 } else { fill ^ (at - p) };
            assert_eq!(
                w, want,
                "{ctx}: the block at {p:#x} lost its bytes at {at:#x}"
            );
            at += 8;
        }
    }
}
