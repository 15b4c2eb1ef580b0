//! The translation epoch: one counter that says when a translation cached on the machine's
//! side of the MMU may no longer be what the MMU would answer.
//!
//! The machine keeps one [`Epoch`] (in its front end) and advances it on every change that can
//! alter the translation of an address the hart uses:
//!
//! - the translation CSRs are loaded into the MMU (`satp` or a custom translation CSR,
//!   written by a guest instruction or by the kernel: `Machine::apply_mode`, whether or not
//!   the mode actually changed);
//! - `sfence.vma` of any scope, by a guest instruction (`Port::sfence`) or by the kernel
//!   (`Hw::sfence`);
//! - the hart's privilege changes (a trap, `mret`/`sret`, the kernel's return to a process):
//!   a fetch translates at the current privilege.
//!
//! It is not advanced when `mstatus.MPRV`, `SUM` or `MXR` change: a fetch ignores all three
//! (only loads and stores see them, and each load or store carries them to the MMU in its own
//! `Context`). Nor is it advanced by a TLB fill or eviction: a fill changes no translation, and
//! an eviction only forgets one that the page tables still give; the architecture lets a
//! cached translation stand until `sfence.vma`, and the modelled fetch buffer, like a real
//! one, keeps its block's translation until a flush. Nor by a store to a page table: without
//! `sfence.vma` the old translation may still be used.
//!
//! Every cached translation records the epoch it was made in and is used only while the epoch
//! is unchanged. Today that is the fetch buffer (`port::FetchBuffer`). The decode cache
//! caches nothing translation-dependent (it is indexed by the pc and checked against the
//! fetched bits), so it needs no epoch. A future host TLB (a virtual page to physical page
//! cache in front of `Mmu::translate`) would stamp its entries with the current epoch in the
//! same way; since each of its hits would have to stand for a hit of the modelled TLBs, with
//! their statistics and replacement update, it would also have to drop an entry the MMU
//! evicts, which the epoch deliberately leaves out (the MMU would have to report evictions).
//!
//! Emptying the fetch buffer for reasons other than translation (a pipeline flush: a trap, a
//! serialising instruction, `fence.i`, the kernel writing RAM) is `FetchBuffer::flush`, not
//! an epoch change.

/// A translation epoch: a count of the changes that can alter a cached translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Epoch(u64);

impl Epoch {
    /// The epoch at reset.
    pub const FIRST: Epoch = Epoch(0);
    /// A stamp no epoch is ever equal to: an empty cache entry. (Reaching it would take
    /// 2^64 - 1 changes.)
    pub const NONE: Epoch = Epoch(u64::MAX);

    /// Starts a new epoch: every translation cached before it is stale.
    #[inline]
    pub fn advance(&mut self) {
        self.0 += 1;
    }

    /// The count of changes so far.
    pub fn count(self) -> u64 {
        self.0
    }
}
