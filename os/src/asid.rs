//! An ASID allocator with generations, in the manner of Linux's arm64 and riscv allocators.
//!
//! # Why ASIDs, and why flushes
//!
//! The TLB tags each entry it caches with the ASID that was in `satp` when the entry was
//! filled, and a translation only hits entries whose tag matches the current ASID (or that
//! are global). Giving each address space its own ASID therefore lets a context switch keep
//! the TLB: the entries of the space switched out stay, unused and harmless, until that space
//! runs again. The price is that an ASID must never be handed to a second space while the TLB
//! may still hold entries that a first space left under it: the second space would hit them
//! and translate through the first space's page tables. Every ASID handed out must therefore
//! come either *clean* (no entries under it since the TLB was last flushed) or with a flush.
//!
//! # ASID 0
//!
//! ASID 0 is reserved and never handed out when the hardware has ASIDs (`bits > 0`). It is
//! the ASID of everything that is not a user address space: what `satp` holds at reset and
//! while the kernel runs without a user space, and what a machine without ASIDs uses for
//! everything. Keeping it out of circulation means entries tagged 0 never alias a user space.
//! With `bits = 0` it is the only ASID there is: every space runs under ASID 0, so switching
//! to a different space must flush the whole TLB.
//!
//! # Generations and rollover
//!
//! The allocator counts *generations*, starting at 1. Within a generation each of the ASIDs
//! `1..=2^bits - 1` goes to at most one live space at a time, and a space that holds an ASID
//! of the current generation keeps it across any number of activations, without flushes.
//! When a space without one (new, or holding an ASID of an older generation) is activated,
//! it gets a free ASID of the current generation. When none is free the generation *rolls
//! over*: the generation number increments, every ASID becomes free except the one of the
//! *active* space (the space of the latest activation, if it has not been released since),
//! which carries its ASID into the new generation, and the caller must flush the whole TLB.
//! Spaces that held ASIDs of the old generation are not visited: their ASIDs are stale, and
//! each gets a new one lazily, on its next activation. The full flush is what makes this
//! sound: afterwards the TLB holds no entries at all, so every ASID is clean again, and a
//! space that has not run since the rollover cannot have left any entries under any ASID.
//!
//! With only one ASID (`bits = 1`) the active space cannot keep it across a rollover (the
//! space being activated needs it), so there every switch between spaces rolls over.
//!
//! # Released ASIDs
//!
//! Unlike Linux, which lets the ASIDs of dead spaces age out at the next rollover, the
//! allocator takes ASIDs back when a space ends ([`AsidAllocator::release`]). The TLB may
//! still hold entries of the dead space under that ASID, so the allocator remembers it as
//! *released* (not clean) and, when it hands a released ASID out again within the same
//! generation, asks the caller for a flush of that one ASID
//! ([`Activation::flush_asid`]). The caller therefore never has to flush anything when it
//! releases a space, and all flushing decisions live in one place: obey the [`Activation`].
//!
//! # Flush rules
//!
//! Before loading [`Activation::asid`] into `satp`, the caller does exactly this:
//!
//! - `flush_all`: flush the whole TLB (`sfence.vma x0, x0`). Set on a rollover, and with
//!   `bits = 0` on every activation of a space other than the active one.
//! - `flush_asid: Some(a)` (always `a == asid`, never together with `flush_all`): flush the
//!   entries of ASID `a` (`sfence.vma x0, a`). Set when a released ASID is handed out again.
//! - neither: load `satp` and go.
//!
//! The allocator assumes that, when it is built, the TLB holds no entries tagged with the
//! ASIDs it will hand out (`1..=2^bits - 1`), as after reset; a caller that cannot promise
//! that flushes the whole TLB once after [`AsidAllocator::new`]. With `bits = 0` the first
//! activation always flushes.
//!
//! # Choice of ASID
//!
//! Deterministic, with no randomness and no clocks: a space that needs an ASID gets the
//! lowest clean ASID (so within a generation clean ASIDs go out in ascending order), else
//! the lowest released one (with `flush_asid`), else the generation rolls over and it gets
//! the lowest ASID not carried over by the active space.

use std::collections::{BTreeSet, HashMap};

/// The widest ASID field `satp` has (Sv39 and Sv48 both have 16 ASID bits).
pub const MAX_ASID_BITS: u32 = 16;

/// What the caller must do to switch the hart to an address space.
///
/// The caller performs the flush asked for (at most one of the two is set), then loads
/// `asid` into `satp` together with the space's page-table root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activation {
    /// The ASID to load into `satp`.
    pub asid: u16,
    /// Whether the caller must flush the whole TLB first (a rollover, or with `bits = 0` a
    /// switch to a space other than the active one).
    pub flush_all: bool,
    /// `Some(asid)` when the caller must first flush the entries of this ASID, because it was
    /// released by an ended space earlier in this generation and may still have entries of
    /// that space in the TLB; `None` otherwise (and always `None` when `flush_all` is set).
    pub flush_asid: Option<u16>,
}

/// Counters of an [`AsidAllocator`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsidStats {
    /// Calls of [`AsidAllocator::activate`].
    pub activations: u64,
    /// Activations that gave the space a new ASID of the current generation (with
    /// `bits = 0`: activations that switched to a space other than the active one).
    pub allocations: u64,
    /// Activations in which the space kept the ASID it held, without any flush.
    pub reuses: u64,
    /// Generation rollovers.
    pub rollovers: u64,
    /// Activations that asked for a flush of the whole TLB.
    pub flushes_all: u64,
    /// Activations that asked for a flush of one ASID (a released ASID handed out again).
    pub flushes_asid: u64,
    /// Releases that freed an ASID of the current generation.
    pub releases: u64,
}

impl AsidStats {
    /// Walks the counters under `prefix.NAME` (for example `os.asid.allocations` with prefix
    /// `os.asid`) in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        for (n, v) in [
            ("activations", self.activations),
            ("allocations", self.allocations),
            ("reuses", self.reuses),
            ("rollovers", self.rollovers),
            ("flushes_all", self.flushes_all),
            ("flushes_asid", self.flushes_asid),
            ("releases", self.releases),
        ] {
            f(&format!("{prefix}.{n}"), v);
        }
    }
}

/// The state of one ASID in the current generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Free, and no entries under it since the last full flush.
    Clean,
    /// Held by this space.
    Owned(u64),
    /// Free, but an ended space held it in this generation: it may have entries in the TLB.
    Released,
}

/// The ASID a space holds, and the generation it belongs to.
#[derive(Clone, Copy, Debug)]
struct Held {
    asid: u16,
    generation: u64,
}

/// Hands out ASIDs to address spaces, with generations and rollover (see the module
/// documentation for the scheme and the flush rules).
///
/// Address spaces are named by opaque `u64` keys chosen by the caller (for example
/// `u64::from(pid)`, if each process has its own space). A key that has been released may be
/// used again: it then names a new space.
#[derive(Clone, Debug)]
pub struct AsidAllocator {
    bits: u32,
    /// The highest ASID (`2^bits - 1`; 0 when `bits = 0`).
    max: u16,
    generation: u64,
    /// The ASID each known space holds (possibly of an older generation). Unused with
    /// `bits = 0`.
    spaces: HashMap<u64, Held>,
    /// The state of each ASID in the current generation, indexed by ASID (index 0 unused).
    slots: Vec<Slot>,
    /// No ASID below this one is clean in the current generation.
    next_clean: u32,
    /// The released ASIDs of the current generation.
    released: BTreeSet<u16>,
    /// The number of ASIDs held in the current generation.
    in_use: u32,
    /// The space of the latest activation, unless it has been released since.
    active: Option<u64>,
    stats: AsidStats,
}

impl AsidAllocator {
    /// An allocator for hardware with `bits` ASID bits (0 to 16; 0: no ASIDs).
    ///
    /// It hands out ASIDs `1..=2^bits - 1` and starts in generation 1. It fails, saying what
    /// is allowed, when `bits` is more than 16.
    pub fn new(bits: u32) -> Result<AsidAllocator, String> {
        if bits > MAX_ASID_BITS {
            return Err(format!(
                "an ASID width of {bits} bits is not possible: satp (Sv39/Sv48) has at most \
                 {MAX_ASID_BITS} ASID bits; use 0 to {MAX_ASID_BITS} (0: no ASIDs, flush on \
                 every switch)"
            ));
        }
        let max = ((1u32 << bits) - 1) as u16;
        Ok(AsidAllocator {
            bits,
            max,
            generation: 1,
            spaces: HashMap::new(),
            slots: vec![Slot::Clean; usize::from(max) + 1],
            next_clean: 1,
            released: BTreeSet::new(),
            in_use: 0,
            active: None,
            stats: AsidStats::default(),
        })
    }

    /// The ASID width it was built with.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// How many ASIDs it hands out: `2^bits - 1` (ASID 0 is reserved), 0 when `bits = 0`.
    pub fn capacity(&self) -> u16 {
        self.max
    }

    /// The current generation (1 at first, incremented by each rollover).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The space of the latest activation, unless it has been released since.
    pub fn active(&self) -> Option<u64> {
        self.active
    }

    /// The number of ASIDs held by spaces in the current generation.
    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Its counters.
    pub fn stats(&self) -> &AsidStats {
        &self.stats
    }

    /// The ASID under which the TLB may hold entries of `space`, or `None` if it holds none.
    ///
    /// With ASIDs this is the ASID `space` holds in the current generation; a space whose
    /// ASID is from an older generation has not run since the rollover's full flush, so the
    /// TLB holds nothing of it. With `bits = 0` it is `Some(0)` for the active space and
    /// `None` for any other. A caller that changes a space's page tables flushes the entries
    /// of this ASID (`sfence.vma addr, asid`), and need flush nothing when it is `None`.
    pub fn current(&self, space: u64) -> Option<u16> {
        if self.max == 0 {
            return (self.active == Some(space)).then_some(0);
        }
        self.spaces
            .get(&space)
            .filter(|h| h.generation == self.generation)
            .map(|h| h.asid)
    }

    /// Makes `space` the active space and says which ASID to run it under and what to flush
    /// first (see [`Activation`] and the module documentation for the rules).
    ///
    /// A space that holds an ASID of the current generation keeps it, with no flush. One
    /// that does not gets the lowest clean ASID (no flush), else the lowest released ASID
    /// (`flush_asid`), else the generation rolls over (`flush_all`). With `bits = 0` the ASID
    /// is always 0, and `flush_all` is set unless `space` is already the active space.
    pub fn activate(&mut self, space: u64) -> Activation {
        self.stats.activations += 1;
        if self.max == 0 {
            let flush_all = self.active != Some(space);
            self.active = Some(space);
            if flush_all {
                self.stats.allocations += 1;
                self.stats.flushes_all += 1;
            } else {
                self.stats.reuses += 1;
            }
            return Activation {
                asid: 0,
                flush_all,
                flush_asid: None,
            };
        }
        if let Some(asid) = self.current(space) {
            self.active = Some(space);
            self.stats.reuses += 1;
            return Activation {
                asid,
                flush_all: false,
                flush_asid: None,
            };
        }
        let act = if let Some(asid) = self.take_clean() {
            Activation {
                asid,
                flush_all: false,
                flush_asid: None,
            }
        } else if let Some(asid) = self.released.pop_first() {
            self.stats.flushes_asid += 1;
            Activation {
                asid,
                flush_all: false,
                flush_asid: Some(asid),
            }
        } else {
            self.rollover();
            let asid = self
                .take_clean()
                .expect("a rollover leaves at least one ASID clean");
            Activation {
                asid,
                flush_all: true,
                flush_asid: None,
            }
        };
        self.slots[usize::from(act.asid)] = Slot::Owned(space);
        self.in_use += 1;
        self.spaces.insert(
            space,
            Held {
                asid: act.asid,
                generation: self.generation,
            },
        );
        self.active = Some(space);
        self.stats.allocations += 1;
        act
    }

    /// Forgets `space`, which has ended, and frees the ASID it held in the current generation.
    ///
    /// Returns that ASID, or `None` if the space held none of the current generation (never
    /// activated, its ASID was from an older generation, or `bits = 0`). The caller need not
    /// flush anything: when the ASID is handed out again in this generation, the activation
    /// asks for a flush of it ([`Activation::flush_asid`]), and a rollover flushes everything.
    /// If `space` was the active space there is no active space afterwards (with `bits = 0`
    /// the next activation therefore flushes, even of a new space under the same key). The
    /// caller must not return to user mode under the released space's `satp`.
    pub fn release(&mut self, space: u64) -> Option<u16> {
        if self.active == Some(space) {
            self.active = None;
        }
        let held = self.spaces.remove(&space)?;
        if held.generation != self.generation {
            return None;
        }
        let slot = &mut self.slots[usize::from(held.asid)];
        debug_assert_eq!(*slot, Slot::Owned(space));
        *slot = Slot::Released;
        self.released.insert(held.asid);
        self.in_use -= 1;
        self.stats.releases += 1;
        Some(held.asid)
    }

    /// Walks its counters (see [`AsidStats::for_each`]) and then the gauges
    /// `prefix.generation` and `prefix.in_use`, in a stable order.
    pub fn for_each_stat(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        self.stats.for_each(prefix, f);
        f(&format!("{prefix}.generation"), self.generation);
        f(&format!("{prefix}.in_use"), u64::from(self.in_use));
    }

    /// Takes the lowest clean ASID, if any.
    fn take_clean(&mut self) -> Option<u16> {
        while self.next_clean <= u32::from(self.max) {
            let asid = self.next_clean as u16;
            self.next_clean += 1;
            if self.slots[usize::from(asid)] == Slot::Clean {
                return Some(asid);
            }
        }
        None
    }

    /// Starts a new generation in which every ASID is clean, except the one the active space
    /// carries over (when there are at least two ASIDs, so one is left for the space being
    /// activated). The caller flushes the whole TLB.
    fn rollover(&mut self) {
        let old = self.generation;
        self.generation += 1;
        self.stats.rollovers += 1;
        self.stats.flushes_all += 1;
        self.slots.fill(Slot::Clean);
        self.released.clear();
        self.next_clean = 1;
        self.in_use = 0;
        if self.max >= 2 {
            if let Some(space) = self.active {
                if let Some(h) = self.spaces.get_mut(&space) {
                    if h.generation == old {
                        h.generation = self.generation;
                        self.slots[usize::from(h.asid)] = Slot::Owned(space);
                        self.in_use = 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// One step of a scripted scenario.
    enum Op {
        /// Activate the space; expect (asid, flush_all, flush_asid).
        Act(u64, u16, bool, Option<u16>),
        /// Release the space; expect this result.
        Rel(u64, Option<u16>),
    }
    use Op::{Act, Rel};

    fn run(name: &str, bits: u32, ops: &[Op]) -> AsidAllocator {
        let mut a = AsidAllocator::new(bits).unwrap();
        for (i, op) in ops.iter().enumerate() {
            match *op {
                Act(space, asid, flush_all, flush_asid) => {
                    let got = a.activate(space);
                    let want = Activation {
                        asid,
                        flush_all,
                        flush_asid,
                    };
                    assert_eq!(got, want, "{name}: step {i}: activate({space})");
                    assert_eq!(a.current(space), Some(asid), "{name}: step {i}");
                    assert_eq!(a.active(), Some(space), "{name}: step {i}");
                }
                Rel(space, want) => {
                    assert_eq!(a.release(space), want, "{name}: step {i}: release({space})");
                    assert_eq!(a.current(space), None, "{name}: step {i}");
                }
            }
        }
        a
    }

    #[test]
    fn scripted_scenarios() {
        let cases: &[(&str, u32, &[Op], u64)] = &[
            (
                "a space keeps its ASID across activations",
                4,
                &[
                    Act(10, 1, false, None),
                    Act(10, 1, false, None),
                    Act(20, 2, false, None),
                    Act(10, 1, false, None),
                    Act(20, 2, false, None),
                ],
                1,
            ),
            (
                "bits = 2: the fourth space rolls over, the active space keeps its ASID",
                2,
                &[
                    Act(1, 1, false, None),
                    Act(2, 2, false, None),
                    Act(3, 3, false, None),
                    // Rollover: 3 is active and carries ASID 3; 4 gets the lowest, 1.
                    Act(4, 1, true, None),
                    Act(3, 3, false, None),
                    // 1 held ASID 1 of generation 1: it gets a new one, clean, no flush.
                    Act(1, 2, false, None),
                    // 2 needs one, none is free: rollover, 1 (active) carries ASID 2.
                    Act(2, 1, true, None),
                    // 3 and 4 are of an older generation now.
                    Act(4, 3, false, None),
                    Act(1, 2, false, None),
                    Act(2, 1, false, None),
                ],
                3,
            ),
            (
                "a released ASID is reused only when no clean one is left, with a flush",
                3,
                &[
                    Act(1, 1, false, None),
                    Act(2, 2, false, None),
                    Rel(1, Some(1)),
                    Act(3, 3, false, None),
                    Act(4, 4, false, None),
                    Act(5, 5, false, None),
                    Act(6, 6, false, None),
                    Act(7, 7, false, None),
                    // No clean ASID is left: the released ASID 1 comes with its flush.
                    Act(8, 1, false, Some(1)),
                    Rel(2, Some(2)),
                    Rel(5, Some(5)),
                    // The lowest released first.
                    Act(9, 2, false, Some(2)),
                    Act(1, 5, false, Some(5)),
                    Act(10, 1, true, None),
                ],
                2,
            ),
            (
                "release of a space of an older generation frees nothing",
                2,
                &[
                    Act(1, 1, false, None),
                    Act(2, 2, false, None),
                    Act(3, 3, false, None),
                    Act(4, 1, true, None),
                    Rel(1, None),
                    Rel(2, None),
                    Rel(3, Some(3)),
                    Rel(99, None),
                    // In generation 2, ASID 2 is clean and ASID 3 released.
                    Act(5, 2, false, None),
                    Act(6, 3, false, Some(3)),
                ],
                2,
            ),
            (
                "a released key names a new space",
                2,
                &[
                    Act(1, 1, false, None),
                    Act(2, 2, false, None),
                    Rel(1, Some(1)),
                    Act(1, 3, false, None),
                    Act(7, 1, false, Some(1)),
                ],
                1,
            ),
            (
                "bits = 1: every switch between spaces rolls over",
                1,
                &[
                    Act(1, 1, false, None),
                    Act(1, 1, false, None),
                    Act(2, 1, true, None),
                    Act(2, 1, false, None),
                    Act(1, 1, true, None),
                    Rel(1, Some(1)),
                    Act(3, 1, false, Some(1)),
                ],
                3,
            ),
            (
                "bits = 0: ASID 0 always, flush unless the active space again",
                0,
                &[
                    Act(1, 0, true, None),
                    Act(1, 0, false, None),
                    Act(2, 0, true, None),
                    Act(1, 0, true, None),
                    Rel(2, None),
                    Act(1, 0, false, None),
                    Rel(1, None),
                    Act(1, 0, true, None),
                ],
                1,
            ),
        ];
        for (name, bits, ops, generation) in cases {
            let a = run(name, *bits, ops);
            assert_eq!(a.generation(), *generation, "{name}: generation");
        }
    }

    #[test]
    fn distinct_live_spaces_never_share_an_asid() {
        for bits in [1, 2, 3, 8] {
            let mut a = AsidAllocator::new(bits).unwrap();
            let cap = u64::from(a.capacity());
            for space in 0..cap {
                let act = a.activate(space);
                assert_eq!(act.asid, space as u16 + 1, "bits {bits}: ascending order");
                assert!(!act.flush_all && act.flush_asid.is_none());
            }
            let held: HashSet<u16> = (0..cap).filter_map(|s| a.current(s)).collect();
            assert_eq!(held.len() as u64, cap, "bits {bits}");
            assert!(!held.contains(&0), "bits {bits}: ASID 0 is reserved");
            assert_eq!(a.in_use(), cap as u32);
            assert_eq!(a.stats().rollovers, 0);
        }
    }

    #[test]
    fn sixteen_bits_roll_over_after_65535_spaces() {
        let mut a = AsidAllocator::new(16).unwrap();
        assert_eq!(a.capacity(), u16::MAX);
        for space in 0..u64::from(u16::MAX) {
            let act = a.activate(space);
            assert_eq!(u64::from(act.asid), space + 1);
            assert!(!act.flush_all);
        }
        let last = u64::from(u16::MAX) - 1;
        let act = a.activate(1 << 40);
        assert_eq!((act.asid, act.flush_all), (1, true));
        assert_eq!(a.generation(), 2);
        assert_eq!(
            a.current(last),
            Some(u16::MAX),
            "the active space carries its ASID"
        );
        assert_eq!(a.current(0), None);
        assert_eq!(a.in_use(), 2);
    }

    #[test]
    fn widths_are_validated() {
        for bits in 0..=16 {
            let a = AsidAllocator::new(bits).unwrap();
            assert_eq!(u32::from(a.capacity()), (1u32 << bits) - 1);
            assert_eq!(a.bits(), bits);
            assert_eq!(a.generation(), 1);
        }
        for bits in [17, 32, u32::MAX] {
            let e = AsidAllocator::new(bits).unwrap_err();
            assert!(e.contains(&bits.to_string()), "{e}");
            assert!(e.contains("at most 16"), "{e}");
            assert!(e.contains("0 to 16"), "{e}");
        }
    }

    #[test]
    fn counters_are_walked_under_stable_names() {
        let mut a = AsidAllocator::new(1).unwrap();
        a.activate(1); // allocation
        a.activate(1); // reuse
        a.activate(2); // rollover
        a.release(2); // release
        a.activate(3); // released ASID: flush_asid
        let mut seen = Vec::new();
        a.for_each_stat("os.asid", &mut |n, v| seen.push((n.to_string(), v)));
        let want = [
            ("os.asid.activations", 4),
            ("os.asid.allocations", 3),
            ("os.asid.reuses", 1),
            ("os.asid.rollovers", 1),
            ("os.asid.flushes_all", 1),
            ("os.asid.flushes_asid", 1),
            ("os.asid.releases", 1),
            ("os.asid.generation", 2),
            ("os.asid.in_use", 1),
        ];
        let want: Vec<(String, u64)> = want.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(seen, want);
    }

    /// A hand-written xorshift64 generator, for fixed-seed pseudo-random sequences.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Drives the allocator with a long pseudo-random sequence against a model TLB that holds,
    /// for each ASID, the `(space, incarnation)` of every space that has run under it since it
    /// was last flushed, and checks that no space could ever hit another's entries.
    #[test]
    fn random_sequences_never_expose_stale_entries() {
        // (ASID bits, number of space keys, seed, steps)
        for (bits, keys, seed, steps) in [
            (0, 6, 0x9e37_79b9_7f4a_7c15u64, 20_000),
            (1, 5, 1, 20_000),
            (2, 6, 0xdead_beef, 40_000),
            (2, 3, 7, 20_000),
            (3, 12, 0x1234_5678_9abc_def0, 40_000),
            (4, 40, 42, 40_000),
            (4, 10, 99, 20_000),
            (8, 300, 5, 10_000),
        ] {
            let mut a = AsidAllocator::new(bits).unwrap();
            let mut rng = XorShift(seed);
            let mut tlb: HashMap<u16, HashSet<(u64, u64)>> = HashMap::new();
            let mut incarnation: HashMap<u64, u64> = HashMap::new();
            let mut flushes_all = 0;
            let mut flushes_asid = 0;
            for step in 0..steps {
                let ctx = || format!("bits {bits} seed {seed} step {step}");
                let space = rng.below(keys);
                let inc = *incarnation.entry(space).or_insert(0);
                let before = a.current(space);
                let holders = a.in_use();
                let generation = a.generation();
                if rng.below(10) < 8 {
                    let act = a.activate(space);
                    assert!(!(act.flush_all && act.flush_asid.is_some()), "{}", ctx());
                    if let Some(f) = act.flush_asid {
                        assert_eq!(f, act.asid, "{}", ctx());
                    }
                    if bits == 0 {
                        assert_eq!(act.asid, 0, "{}", ctx());
                        assert_eq!(act.flush_all, before.is_none(), "{}", ctx());
                    } else {
                        assert!((1..=a.capacity()).contains(&act.asid), "{}", ctx());
                        if let Some(kept) = before {
                            let want = Activation {
                                asid: kept,
                                flush_all: false,
                                flush_asid: None,
                            };
                            assert_eq!(act, want, "{}: a held ASID is kept", ctx());
                        }
                        // A rollover happens exactly when every ASID is held.
                        assert_eq!(act.flush_all, a.generation() != generation, "{}", ctx());
                        if act.flush_all {
                            assert_eq!(holders, u32::from(a.capacity()), "{}", ctx());
                            assert_eq!(a.generation(), generation + 1, "{}", ctx());
                        }
                    }
                    if act.flush_all {
                        tlb.clear();
                        flushes_all += 1;
                    }
                    if let Some(f) = act.flush_asid {
                        tlb.remove(&f);
                        flushes_asid += 1;
                    }
                    // The invariant: nothing under this ASID but the space's own entries.
                    for &(s, i) in tlb.get(&act.asid).into_iter().flatten() {
                        assert!(
                            (s, i) == (space, inc),
                            "{}: space {space} runs under ASID {} over stale entries of \
                             space {s} (incarnation {i})",
                            ctx(),
                            act.asid
                        );
                    }
                    // It runs, filling the TLB.
                    tlb.entry(act.asid).or_default().insert((space, inc));
                    assert_eq!(a.current(space), Some(act.asid), "{}", ctx());
                    assert_eq!(a.active(), Some(space), "{}", ctx());
                } else {
                    let freed = a.release(space);
                    if bits == 0 {
                        assert_eq!(freed, None, "{}", ctx());
                    } else {
                        assert_eq!(freed, before, "{}", ctx());
                    }
                    assert_eq!(a.current(space), None, "{}", ctx());
                    *incarnation.get_mut(&space).unwrap() += 1;
                }
                // No two spaces hold the same ASID in the current generation.
                let held: Vec<u16> = (0..keys).filter_map(|s| a.current(s)).collect();
                let distinct: HashSet<u16> = held.iter().copied().collect();
                assert_eq!(held.len(), distinct.len(), "{}: {held:?}", ctx());
                if bits > 0 {
                    assert_eq!(held.len() as u32, a.in_use(), "{}", ctx());
                } else {
                    assert!(held.len() <= 1, "{}", ctx());
                }
            }
            let s = *a.stats();
            assert_eq!(s.activations, s.allocations + s.reuses, "bits {bits}");
            assert_eq!(s.flushes_all, flushes_all, "bits {bits}");
            assert_eq!(s.flushes_asid, flushes_asid, "bits {bits}");
            if bits > 0 {
                assert_eq!(s.rollovers, a.generation() - 1, "bits {bits}");
                assert_eq!(s.rollovers, s.flushes_all, "bits {bits}");
            }
            // Every generation and flush kind is exercised where it can happen.
            if bits > 0 && u64::from(a.capacity()) < keys {
                assert!(s.rollovers > 0, "bits {bits} keys {keys}: {s:?}");
            }
            if bits > 0 {
                assert!(s.flushes_asid > 0 && s.releases > 0, "bits {bits}: {s:?}");
            }
            assert!(s.reuses > 0, "bits {bits}: {s:?}");
        }
    }
}
