//! Redzones the checker adds around heap blocks (`os.memcheck_redzone`): each allocation
//! asks the allocator for `front + size + back` bytes and the program gets the pointer
//! `front` bytes in, so that `front` bytes before the block and at least `back` after it
//! belong to no block and any access there is reported. `front` is the redzone rounded up
//! to the alignment the call asks for (16 for plain `malloc`, a page for `valloc`), so the
//! pointer the program gets keeps its alignment. Frees and reallocs give the allocator its
//! own pointer back (`ptr - front`).
//!
//! The transformation is the same for the kernel's allocators (applied to the call's
//! arguments before the allocator runs) and for the C library's (applied to the
//! registers at the call's entry and return).

use crate::heap::alloc::Call;

/// The allocator's arguments for `call` with the program's arguments `a`, redzone `rz`
/// (a multiple of 16), and `old_front`, the front redzone of the block a `free`,
/// `realloc` or `malloc_usable_size` names; with the new block's front redzone. `None`
/// when the call is left alone (a size so large that adding the redzones overflows: the
/// allocator then fails it as it would have anyway).
pub fn args(
    call: Call,
    a: [u64; 3],
    rz: u64,
    old_front: u64,
    page: u64,
) -> Option<([u64; 3], u64)> {
    let grow = |n: u64, front: u64| n.checked_add(front)?.checked_add(rz);
    let aligned_front = |align: u64| rz.next_multiple_of(align.max(16));
    Some(match call {
        Call::Malloc => ([grow(a[0], rz)?, a[1], a[2]], rz),
        Call::Calloc => ([1, grow(a[0].checked_mul(a[1])?, rz)?, a[2]], rz),
        // The allocator copies a block from its start, so the new block keeps the old
        // one's front redzone (and with it the data's offset).
        Call::Realloc => {
            let (p, f) = if a[0] == 0 {
                (0, rz)
            } else {
                (a[0] - old_front, old_front)
            };
            let n = if a[1] == 0 && a[0] != 0 {
                0
            } else {
                grow(a[1], f)?
            };
            ([p, n, a[2]], f)
        }
        Call::Reallocarray => {
            let (p, f) = if a[0] == 0 {
                (0, rz)
            } else {
                (a[0] - old_front, old_front)
            };
            let total = a[1].checked_mul(a[2])?;
            let n = if total == 0 && a[0] != 0 {
                0
            } else {
                grow(total, f)?
            };
            ([p, 1, n], f)
        }
        Call::Free | Call::UsableSize => {
            let p = if a[0] == 0 { 0 } else { a[0] - old_front };
            ([p, a[1], a[2]], 0)
        }
        Call::PosixMemalign => {
            if !a[1].is_power_of_two() {
                return None;
            }
            let f = aligned_front(a[1]);
            ([a[0], a[1], grow(a[2], f)?], f)
        }
        Call::AlignedAlloc | Call::Memalign => {
            if !a[0].is_power_of_two() {
                return None;
            }
            let f = aligned_front(a[0]);
            ([a[0], grow(a[1], f)?, a[2]], f)
        }
        Call::Valloc | Call::Pvalloc => {
            let f = aligned_front(page);
            ([grow(a[0], f)?, a[1], a[2]], f)
        }
    })
}

/// The size the program asked for in `call` (what its block holds).
pub fn asked(call: Call, a: [u64; 3]) -> u64 {
    match call {
        Call::Calloc => a[0].saturating_mul(a[1]),
        Call::Realloc | Call::AlignedAlloc | Call::Memalign => a[1],
        Call::Reallocarray => a[1].saturating_mul(a[2]),
        Call::PosixMemalign => a[2],
        _ => a[0],
    }
}

/// Whether `call` returns a pointer in `a0`.
pub fn returns_pointer(call: Call) -> bool {
    !matches!(call, Call::Free | Call::UsableSize | Call::PosixMemalign)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(call: Call, a: [u64; 3], old_front: u64, want: Option<([u64; 3], u64)>) {
        assert_eq!(args(call, a, 16, old_front, 4096), want, "{call:?} {a:?}");
    }

    #[test]
    fn every_call_asks_for_its_redzones() {
        check(Call::Malloc, [10, 0, 0], 0, Some(([42, 0, 0], 16)));
        check(Call::Calloc, [3, 4, 0], 0, Some(([1, 44, 0], 16)));
        check(
            Call::Realloc,
            [0x1010, 100, 0],
            16,
            Some(([0x1000, 132, 0], 16)),
        );
        check(Call::Realloc, [0, 100, 0], 0, Some(([0, 132, 0], 16)));
        // realloc(p, 0) frees: nothing to add
        check(
            Call::Realloc,
            [0x1010, 0, 0],
            16,
            Some(([0x1000, 0, 0], 16)),
        );
        // a block with a larger front keeps it
        check(
            Call::Realloc,
            [0x1040, 100, 0],
            64,
            Some(([0x1000, 180, 0], 64)),
        );
        check(
            Call::Reallocarray,
            [0x1010, 3, 4],
            16,
            Some(([0x1000, 1, 44], 16)),
        );
        check(Call::Free, [0x1040, 0, 0], 64, Some(([0x1000, 0, 0], 0)));
        check(Call::Free, [0, 0, 0], 0, Some(([0, 0, 0], 0)));
        check(
            Call::UsableSize,
            [0x1010, 0, 0],
            16,
            Some(([0x1000, 0, 0], 0)),
        );
        // an alignment above the redzone: the front grows to it
        check(Call::Memalign, [64, 10, 0], 0, Some(([64, 90, 0], 64)));
        check(Call::AlignedAlloc, [8, 10, 0], 0, Some(([8, 42, 0], 16)));
        check(
            Call::PosixMemalign,
            [0x500, 128, 10],
            0,
            Some(([0x500, 128, 154], 128)),
        );
        check(Call::Valloc, [10, 0, 0], 0, Some(([4122, 0, 0], 4096)));
        // overflow: left alone
        check(Call::Malloc, [u64::MAX - 8, 0, 0], 0, None);
        check(Call::Calloc, [u64::MAX, 2, 0], 0, None);
        // a bad alignment: left alone for the allocator to refuse
        check(Call::Memalign, [24, 10, 0], 0, None);
    }
}
