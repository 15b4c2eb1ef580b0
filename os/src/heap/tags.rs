//! Block formats the allocators share: boundary tags (Knuth, TAOCP vol. 1, 2.5) for the
//! free-list allocators (`fit.rs`) and the segregated lists (`segregated.rs`), and the
//! tagged header with a forward word for aligned payloads ([`tagged_header`]) that the
//! buddy, pool and slab allocators use.
//!
//! ```text
//! block b:  b+0 header (size | in use)   b+8 payload (the program's pointer), 16-aligned
//!           b+size-8 footer (the header again)
//! ```
//!
//! A block is at least [`MIN`] bytes (header, two free-list links, footer) and a multiple
//! of 16. A neighbour's tag says at once whether it is free, which is what coalescing on
//! free needs.

use super::alloc::{Block, Op, Stop};

/// The smallest block: a header, two links and a footer.
pub const MIN: u64 = 32;
/// The in-use bit of a tag.
pub const USED: u64 = 1;

/// A tag's size.
pub fn size_of(word: u64) -> u64 {
    word & !15
}

/// The block size a request of `n` bytes takes: `n` and the two tags, rounded up to 16,
/// at least [`MIN`].
pub fn need(n: u64) -> u64 {
    (n + 16).next_multiple_of(16).max(MIN)
}

/// Writes block `b`'s header and footer.
pub fn set_tags(op: &mut Op, b: u64, size: u64, used: bool) -> Result<(), Stop> {
    let w = size | u64::from(used);
    op.store(b, w)?;
    op.store(b + size - 8, w)
}

/// The block of `ptr` — `(block, size, in use)` — if it looks like one the allocator made:
/// on the 16-byte grid from `first` (the first block) and below `end` (the epilogue), with a
/// sane size, and, in use, a footer that repeats its header. A freed block may have merged
/// into a neighbour whose footer now lies elsewhere; its header still says "free", which is
/// how a second free of it is caught.
pub fn block_of(
    op: &mut Op,
    first: u64,
    end: u64,
    ptr: u64,
) -> Result<Option<(u64, u64, bool)>, Stop> {
    let Some(b) = ptr.checked_sub(8) else {
        return Ok(None);
    };
    if b < first || b >= end || !(b - first).is_multiple_of(16) {
        return Ok(None);
    }
    let w = op.load(b)?;
    let size = size_of(w);
    if size < MIN || w & 14 != 0 || size > end - b {
        return Ok(None);
    }
    if w & USED != 0 && op.load(b + size - 8)? != w {
        return Ok(None);
    }
    Ok(Some((b, size, w & USED != 0)))
}

/// Carves a block of `need` bytes whose payload is a multiple of `align` out of the in-use
/// block `[b, b + got)` (taken for `need + align + MIN` bytes): the lead before it and the
/// tail after it (when at least [`MIN`]) go back through `release(op, block, size)`, each
/// tagged in use first.
pub fn carve_aligned(
    op: &mut Op,
    b: u64,
    got: u64,
    align: u64,
    need: u64,
    release: &mut dyn FnMut(&mut Op, u64, u64) -> Result<(), Stop>,
) -> Result<Block, Stop> {
    let mut p = (b + 8).next_multiple_of(align);
    if p - 8 != b && p - 8 - b < MIN {
        p += align;
    }
    let start = p - 8;
    let end = b + got;
    // The aligned block's tags first: releasing the lead looks at the block above it.
    set_tags(op, start, end - start, true)?;
    if start > b {
        set_tags(op, b, start - b, true)?;
        release(op, b, start - b)?;
    }
    let mut size_here = end - start;
    if size_here - need >= MIN {
        set_tags(op, start, need, true)?;
        set_tags(op, start + need, size_here - need, true)?;
        release(op, start + need, size_here - need)?;
        size_here = need;
    }
    Ok(Block {
        ptr: p,
        granted: size_here,
    })
}

/// The low 48 bits of a tagged header or forward word.
pub const LOW48: u64 = (1 << 48) - 1;

/// The header of the block whose payload is `ptr`, for allocators whose headers carry `tag`
/// in their top 16 bits: the word just below a payload is either the header itself (a
/// payload 16 bytes into its block) or a *forward word* (`fwd << 48 | offset`, put there by
/// `memalign`) giving the payload's offset from its block. `low` is the lowest address a
/// block may start at. Returns `(block, offset, header)`, or `None` when the words say
/// `ptr` is no payload (the header's tag is checked too).
pub fn tagged_header(
    op: &mut Op,
    ptr: u64,
    low: u64,
    tag: u64,
    fwd: u64,
) -> Result<Option<(u64, u64, u64)>, Stop> {
    let w = op.load(ptr - 16)?;
    let (b, off, h) = match w >> 48 {
        t if t == tag => (ptr - 16, 16, w),
        f if f == fwd => {
            let off = w & LOW48;
            if off < 32 || !off.is_multiple_of(16) || off > ptr - low {
                return Ok(None);
            }
            (ptr - off, off, op.load(ptr - off)?)
        }
        _ => return Ok(None),
    };
    Ok((h >> 48 == tag).then_some((b, off, h)))
}
