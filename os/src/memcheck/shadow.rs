//! Shadow memory: for every byte of a process's address space, whether the program may
//! touch it (*addressable*) and whether its value was ever written (*defined*).
//!
//! Pages are shadowed only when something about them is not the default, which is
//! "addressable and defined" (code, data, bss, file mappings: what the loader and the kernel
//! put there is defined). A page is created on the first change that makes it differ:
//! heap blocks, the allocator's arena (not addressable except for its live blocks), and the
//! stack below the stack pointer. Ranges registered with [`Shadow::set_default_noaccess`]
//! (the stack below its initial pointer) read as not addressable while unshadowed.
//!
//! Each shadow page holds two bit arrays of one bit per byte (the `bitvec` crate). A
//! one-entry cache of the last page answers the common case of consecutive accesses to one
//! page with one compare.

use bitvec::prelude::*;
use std::collections::HashMap;

/// Bytes per shadow page.
pub const PAGE: u64 = 4096;
const NONE: u32 = u32::MAX;

type Bits = BitArr!(for PAGE as usize, in u64, Lsb0);

/// One shadowed page: addressable and defined bits, one per byte.
#[derive(Clone)]
struct Page {
    addressable: Bits,
    defined: Bits,
}

/// The state of one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteState {
    /// The program may access it.
    pub addressable: bool,
    /// Its value was written (or came from the loader or the kernel).
    pub defined: bool,
}

/// A process's shadow memory.
#[derive(Clone, Default)]
pub struct Shadow {
    pages: Vec<Page>,
    index: HashMap<u64, u32>,
    /// Slots of `pages` that forgotten pages left, for new ones.
    spare: Vec<u32>,
    /// Ranges whose unshadowed bytes are not addressable (half-open, sorted, disjoint).
    noaccess: Vec<(u64, u64)>,
    /// The last page looked up and its index ([`NONE`]: not shadowed).
    last: Option<(u64, u32)>,
}

impl Shadow {
    /// Unshadowed bytes in `lo..hi` read as not addressable (the stack below its initial
    /// pointer).
    pub fn set_default_noaccess(&mut self, lo: u64, hi: u64) {
        if lo < hi {
            self.noaccess.push((lo, hi));
            self.noaccess.sort_unstable();
            self.last = None;
        }
    }

    fn default_addressable(&self, va: u64) -> bool {
        !self.noaccess.iter().any(|&(lo, hi)| va >= lo && va < hi)
    }

    #[inline]
    fn lookup(&mut self, page: u64) -> u32 {
        if let Some((p, i)) = self.last {
            if p == page {
                return i;
            }
        }
        let i = self.index.get(&page).copied().unwrap_or(NONE);
        self.last = Some((page, i));
        i
    }

    fn create(&mut self, page: u64) -> u32 {
        let i = self.lookup(page);
        if i != NONE {
            return i;
        }
        let base = page * PAGE;
        let mut p = Page {
            addressable: BitArray::ZERO,
            defined: BitArray::ZERO,
        };
        p.defined.fill(true);
        p.addressable.fill(true);
        for &(lo, hi) in &self.noaccess {
            let (s, e) = (lo.max(base), hi.min(base + PAGE));
            if s < e {
                p.addressable[(s - base) as usize..(e - base) as usize].fill(false);
                p.defined[(s - base) as usize..(e - base) as usize].fill(false);
            }
        }
        let i = match self.spare.pop() {
            Some(i) => {
                self.pages[i as usize] = p;
                i
            }
            None => {
                self.pages.push(p);
                self.pages.len() as u32 - 1
            }
        };
        self.index.insert(page, i);
        self.last = Some((page, i));
        i
    }

    /// The state of the byte at `va`.
    pub fn byte(&mut self, va: u64) -> ByteState {
        let i = self.lookup(va / PAGE);
        if i == NONE {
            let a = self.default_addressable(va);
            return ByteState {
                addressable: a,
                defined: a,
            };
        }
        let p = &self.pages[i as usize];
        let o = (va % PAGE) as usize;
        ByteState {
            addressable: p.addressable[o],
            defined: p.defined[o],
        }
    }

    /// A load of `size` bytes (1, 2, 4 or 8, naturally aligned) at `va`: the undefined
    /// bits of the value (each undefined byte gives 8 ones) and a mask of the bytes that are
    /// not addressable (bit i: byte i). Not-addressable bytes count as undefined.
    #[inline]
    pub fn load(&mut self, va: u64, size: u8) -> (u64, u8) {
        let i = self.lookup(va / PAGE);
        if i == NONE {
            if self.noaccess.is_empty() || self.default_addressable(va) {
                return (0, 0);
            }
            return (mask_of(size), (1u16 << size).wrapping_sub(1) as u8);
        }
        let p = &self.pages[i as usize];
        let o = (va % PAGE) as usize;
        let (mut v, mut bad) = (0u64, 0u8);
        for b in 0..usize::from(size.min(8)) {
            if !p.defined[o + b] {
                v |= 0xff << (8 * b);
            }
            if !p.addressable[o + b] {
                bad |= 1 << b;
            }
        }
        (v, bad)
    }

    /// A store of `size` bytes at `va` whose value has the undefined bits `v`: each byte is
    /// defined when its 8 bits are. Returns the mask of bytes that are not addressable
    /// (their state is left alone).
    #[inline]
    pub fn store(&mut self, va: u64, size: u8, v: u64) -> u8 {
        let mut i = self.lookup(va / PAGE);
        if i == NONE {
            if v == 0 && (self.noaccess.is_empty() || self.default_addressable(va)) {
                return 0;
            }
            i = self.create(va / PAGE);
        }
        let p = &mut self.pages[i as usize];
        let o = (va % PAGE) as usize;
        let mut bad = 0u8;
        for b in 0..usize::from(size.min(8)) {
            if p.addressable[o + b] {
                p.defined.set(o + b, (v >> (8 * b)) & 0xff == 0);
            } else {
                bad |= 1 << b;
            }
        }
        bad
    }

    /// Sets every byte of `lo..hi` to `state`.
    pub fn set_range(&mut self, lo: u64, hi: u64, state: ByteState) {
        let mut at = lo;
        while at < hi {
            let page = at / PAGE;
            let end = ((page + 1) * PAGE).min(hi);
            let mut i = self.lookup(page);
            if i == NONE {
                let default = self.default_addressable(at)
                    && self.default_addressable(end - 1)
                    && !self
                        .noaccess
                        .iter()
                        .any(|&(l, h)| l < page * PAGE + PAGE && h > page * PAGE);
                if default && state.addressable && state.defined {
                    at = end;
                    continue;
                }
                i = self.create(page);
            }
            let p = &mut self.pages[i as usize];
            let (s, e) = ((at % PAGE) as usize, (end - page * PAGE) as usize);
            p.addressable[s..e].fill(state.addressable);
            p.defined[s..e].fill(state.defined);
            at = end;
        }
    }

    /// Forgets `lo..hi` (page-aligned): it reads as the default again (an unmapped range
    /// mapped anew).
    pub fn forget(&mut self, lo: u64, hi: u64) {
        let mut page = lo / PAGE;
        while page * PAGE < hi {
            if let Some(i) = self.index.remove(&page) {
                self.spare.push(i);
            }
            page += 1;
        }
        self.last = None;
    }

    /// The defined bits of the `len` bytes at `from`, to move with them (a `realloc` or an
    /// `mremap`, whose old bytes stop being addressable before the new ones are made).
    pub fn defined_bits(&mut self, from: u64, len: u64) -> Vec<bool> {
        (0..len).map(|k| self.byte(from + k).defined).collect()
    }

    /// Gives the bytes from `to` on the defined bits `bits` (from [`Shadow::defined_bits`]),
    /// for those that are addressable.
    pub fn put_defined_bits(&mut self, to: u64, bits: &[bool]) {
        for (k, &defined) in bits.iter().enumerate() {
            let at = to + k as u64;
            let b = self.byte(at);
            if b.addressable && b.defined != defined {
                self.set_range(
                    at,
                    at + 1,
                    ByteState {
                        addressable: true,
                        defined,
                    },
                );
            }
        }
    }

    /// The first byte of `lo..lo+len` that is not addressable, and the first that is not
    /// defined.
    pub fn check(&mut self, lo: u64, len: u64) -> (Option<u64>, Option<u64>) {
        let (mut unaddr, mut undef) = (None, None);
        for k in 0..len {
            let b = self.byte(lo + k);
            if !b.addressable && unaddr.is_none() {
                unaddr = Some(lo + k);
            }
            if !b.defined && undef.is_none() {
                undef = Some(lo + k);
            }
            if unaddr.is_some() && undef.is_some() {
                break;
            }
        }
        (unaddr, undef)
    }

    /// How many pages are shadowed (for the statistics).
    pub fn pages(&self) -> usize {
        self.index.len()
    }
}

/// The bits of a `size`-byte value.
#[inline]
pub fn mask_of(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNDEF: ByteState = ByteState {
        addressable: true,
        defined: false,
    };
    const NOACCESS: ByteState = ByteState {
        addressable: false,
        defined: false,
    };
    const OK: ByteState = ByteState {
        addressable: true,
        defined: true,
    };

    #[test]
    fn unshadowed_memory_is_addressable_and_defined() {
        let mut s = Shadow::default();
        assert_eq!(s.load(0x1000, 8), (0, 0));
        assert_eq!(s.store(0x1000, 8, 0), 0);
        assert_eq!(
            s.pages(),
            0,
            "a defined store to a default page shadows nothing"
        );
    }

    #[test]
    fn loads_see_undefined_and_unaddressable_bytes() {
        let mut s = Shadow::default();
        s.set_range(0x2000, 0x2010, NOACCESS);
        s.set_range(0x2004, 0x200a, UNDEF);
        // bytes 0x2000..0x2004 no access, 0x2004..0x200a undefined, 0x200a.. no access
        let check = |s: &mut Shadow, va: u64, size: u8, want: (u64, u8)| {
            assert_eq!(s.load(va, size), want, "load {size} at {va:#x}");
        };
        check(&mut s, 0x2000, 8, (u64::MAX, 0x0f));
        check(&mut s, 0x2008, 8, (u64::MAX, 0xfc));
        check(&mut s, 0x2004, 4, (0xffff_ffff, 0));
        check(&mut s, 0x2010, 8, (0, 0));
        // a store defines the addressable bytes it writes
        assert_eq!(s.store(0x2004, 4, 0x0000_ff00), 0);
        check(&mut s, 0x2004, 4, (0x0000_ff00, 0));
        assert_eq!(s.store(0x2008, 4, 0), 0b1100);
        check(&mut s, 0x2008, 2, (0, 0));
    }

    #[test]
    fn default_noaccess_ranges_and_ranges_across_pages() {
        let mut s = Shadow::default();
        s.set_default_noaccess(0x10_0000, 0x10_3000);
        assert!(!s.byte(0x10_0000).addressable);
        assert!(s.byte(0x10_3000).addressable);
        s.set_range(0x10_0ff0, 0x10_2010, UNDEF);
        assert_eq!(s.byte(0x10_0fef), NOACCESS);
        assert_eq!(s.byte(0x10_0ff0), UNDEF);
        assert_eq!(s.byte(0x10_1800), UNDEF);
        assert_eq!(s.byte(0x10_200f), UNDEF);
        assert_eq!(s.byte(0x10_2010), NOACCESS);
        assert_eq!(s.check(0x10_0ff0, 0x20), (None, Some(0x10_0ff0)));
        assert_eq!(s.check(0x10_0fe0, 0x20), (Some(0x10_0fe0), Some(0x10_0fe0)));
        s.set_range(0x10_1000, 0x10_2000, OK);
        assert_eq!(s.check(0x10_1000, 0x1000), (None, None));
        s.forget(0x10_0000, 0x10_3000);
        assert_eq!(s.byte(0x10_1800), NOACCESS, "forgotten: the default again");
    }

    #[test]
    fn forgotten_pages_are_reused() {
        let mut s = Shadow::default();
        for round in 0..3u64 {
            s.set_range(0x40_0000, 0x40_4000, UNDEF);
            assert_eq!(s.byte(0x40_2000), UNDEF, "round {round}");
            s.forget(0x40_0000, 0x40_4000);
            assert_eq!(s.byte(0x40_2000), OK);
        }
        assert_eq!(s.pages.len(), 4, "the four slots are used again");
    }

    #[test]
    fn defined_bits_move_with_their_bytes() {
        let mut s = Shadow::default();
        s.set_range(0x5000, 0x5010, UNDEF);
        s.set_range(0x6000, 0x6010, UNDEF);
        s.store(0x5000, 2, 0);
        let bits = s.defined_bits(0x5000, 4);
        s.set_range(0x5000, 0x5010, NOACCESS);
        s.put_defined_bits(0x6000, &bits);
        assert_eq!(s.load(0x6000, 4), (0xffff_0000, 0));
        // an undefined byte moved into defined memory makes it undefined
        s.put_defined_bits(0x7000, &bits);
        assert_eq!(s.load(0x7000, 4), (0xffff_0000, 0));
        // unaddressable bytes are left alone
        s.put_defined_bits(0x5000, &bits);
        assert_eq!(s.load(0x5000, 4), (0xffff_ffff, 0x0f));
    }
}
