//! Page replacement: which resident page to evict when a fault needs a frame.
//!
//! A [`Replacer`] tracks a set of resident pages, each named by an opaque [`PageKey`], and
//! chooses victims under one of eight [`Policy`]s. The kernel runs six of them
//! ([`Policy::ALL`]); it keeps one replacer per process (fixed allocation) or one for the
//! whole machine (global replacement) and tells it what happens: [`Replacer::inserted`]
//! after a fault brought a page in, [`Replacer::referenced`] on every reference (only LRU
//! looks at it there), [`Replacer::removed`] when a page leaves other than by eviction, and
//! [`Replacer::victim`] when a frame is needed. The Accessed (A) and Dirty (D) bits live in
//! page-table entries the hardware writes; the Clock policies read and clear them through
//! the [`PageBits`] trait the kernel implements, and OPT asks a [`Future`] for each page's
//! next use.
//!
//! [`simulate`] drives the same [`Replacer`] over a reference string (see [`parse_refs`]) and
//! records every step, for textbook exercises (`vmlab policy`, `docs/policy.md`) and for
//! checking the policies against each other. Reference strings may also use MRU and UNOPT
//! ([`Policy::STRING_ONLY`]), and [`simulate_with`] the variations of
//! [`ReplacerOptions`]: Clock over use counters of several levels, and OPT breaking ties
//! as OSTEP's `paging-policy.py` does.
//!
//! Every choice is deterministic: it depends only on the sequence of calls (and the seed for
//! [`Policy::Random`]), never on hash-table iteration order.
//!
//! # The policies
//!
//! Each policy keeps the resident pages in one order of its own;
//! [`Replacer::resident_pages`] and [`SimStep::resident`] list them in that order, which is
//! the order used below.
//!
//! ## FIFO
//!
//! A queue in insertion order, oldest first. [`Replacer::inserted`] appends the page at the
//! back, references change nothing, and the victim is the front page (the oldest inserted).
//!
//! ## LRU (exact)
//!
//! A list from the least to the most recently used page. Insertion counts as a reference:
//! [`Replacer::inserted`] appends the page at the back, [`Replacer::referenced`] moves a
//! resident page to the back (O(1): a hash lookup and a doubly-linked-list splice), and the
//! victim is the front page, the one whose last reference is oldest.
//!
//! ## MRU (reference strings only)
//!
//! The same list as LRU, least recently used first, with the same updates; the victim is
//! the *back* page, the most recently used. In a reference string that is always the page
//! of the previous reference. Worked example (3 frames; listed least recently used first):
//!
//! | ref | result | victim | list after |
//! |-----|--------|--------|------------|
//! | 1, 2, 3 | faults |   | `1 2 3`    |
//! | 4   | fault  | 3      | `1 2 4`    |
//! | 1   | hit    |        | `2 4 1`    |
//! | 2   | hit    |        | `4 1 2`    |
//! | 5   | fault  | 2      | `4 1 5`    |
//!
//! ## Clock (second chance)
//!
//! The resident pages sit on a circle with a hand pointing at one of them; the listing
//! starts at the hand and goes round the circle.
//!
//! - **Insertion.** A new page goes *just behind the hand*: it becomes the last page of the
//!   listing, and the hand does not move. While no victim has been taken (frames still
//!   free) this appends pages in insertion order with the hand on the first one. After a
//!   victim the hand points at the page that followed the victim, so the next inserted page
//!   takes exactly the circle position of that victim: the frame-based picture in which the
//!   new page fills the victim's frame and the hand rests at the next frame. (If several
//!   victims are taken before pages are inserted, the new pages all go just behind the
//!   hand, in insertion order.)
//! - **Victim search.** Look at the page at the hand. If its A bit is set, clear it (a
//!   *second chance*: counted in [`ReplaceStats::skipped`] and
//!   [`ReplaceStats::accessed_cleared`]) and advance the hand to the next page; repeat. If
//!   its A bit is clear, that page is the victim: it leaves the circle and the hand rests on
//!   the page that followed it. With `n` resident pages this looks at most `n + 1` pages
//!   (after one full turn every A bit is clear). D bits are never read.
//! - **Removal.** A page removed by [`Replacer::removed`] leaves the circle; if the hand was
//!   on it, the hand moves to the page that followed it.
//!
//! Worked example (3 frames, string `1,2,3,4,2,5,6`, the hardware setting A on every
//! reference including the one that faulted; `*` marks a set A bit; listed from the hand):
//!
//! | ref | result | hand                                        | victim | circle after |
//! |-----|--------|---------------------------------------------|--------|--------------|
//! | 1   | fault  |                                             |        | `1*`         |
//! | 2   | fault  |                                             |        | `1* 2*`      |
//! | 3   | fault  |                                             |        | `1* 2* 3*`   |
//! | 4   | fault  | clears 1, 2, 3; back at 1, A clear: take it | 1      | `2 3 4*`     |
//! | 2   | hit    |                                             |        | `2* 3 4*`    |
//! | 5   | fault  | clears 2; 3 has A clear: take it            | 3      | `4* 2 5*`    |
//! | 6   | fault  | clears 4; 2 has A clear: take it            | 2      | `5* 4 6*`    |
//!
//! FIFO on the same string evicts 1, 2, 3 instead: the reference to 2 saved it.
//!
//! ## Clock with use counters (reference strings only)
//!
//! With [`ReplacerOptions::clock_counter_max`] set to `K`, Clock keeps its own use counter
//! for each page instead of reading A bits, as OSTEP's `paging-policy.py` does with `-b K`:
//! a page enters with the counter at 1, each reference to it adds 1 up to `K`
//! ([`Replacer::referenced`]), and the hand, looking at a page, takes 1 from a non-zero
//! counter and moves on (counted in [`ReplaceStats::skipped`], not in
//! [`ReplaceStats::accessed_cleared`]), or takes the page if its counter is 0. The circle,
//! the insertion rule and removal are Clock's. So a page referenced `k` times since it was
//! last passed survives `min(k, K)` passes of the hand, and `K = 1` is Clock on A bits
//! exactly. (`paging-policy.py` has no hand: each look picks a page at random, which the
//! documentation of `vmlab policy` discusses.) Worked example, `K = 2`, 3 frames, string
//! `1,1,2,3,4,1,5` (counters in brackets, listed from the hand):
//!
//! | ref | result | hand                                             | victim | circle after      |
//! |-----|--------|--------------------------------------------------|--------|-------------------|
//! | 1   | fault  |                                                  |        | `1[1]`            |
//! | 1   | hit    |                                                  |        | `1[2]`            |
//! | 2, 3 | faults |                                                 |        | `1[2] 2[1] 3[1]`  |
//! | 4   | fault  | 1 to 1, 2 to 0, 3 to 0, 1 to 0; 2 is at 0: take it | 2    | `3[0] 1[0] 4[1]`  |
//! | 1   | hit    |                                                  |        | `3[0] 1[1] 4[1]`  |
//! | 5   | fault  | 3 is at 0: take it                               | 3      | `1[1] 4[1] 5[1]`  |
//!
//! Clock on A bits (`K = 1`) makes 6 faults instead of 5: at reference 4 it evicts 1,
//! used twice, whose second use bought it no more than the first.
//!
//! ## Enhanced Clock (A, D classes)
//!
//! The same circle, hand, insertion and removal rules as Clock. Pages fall into four classes
//! by their (A, D) bits, best victim first: (0,0) not recently used and clean, (0,1) not
//! recently used but dirty (evicting it costs a writeback), (1,0), (1,1). With `n` resident
//! pages the search makes up to four passes, each a full turn of `n` pages starting at the
//! hand (an unsuccessful pass leaves the hand where it started):
//!
//! 1. Pass 1 looks for a (0,0) page and changes no bits.
//! 2. Pass 2 looks for a (0,1) page, clearing the A bit of every page it passes whose A bit
//!    is set (each such clearing counts in [`ReplaceStats::accessed_cleared`]).
//! 3. Pass 3 is pass 1 again: every A bit is now clear, so it finds any page that was (1,0).
//! 4. Pass 4 is pass 2 again: every page is now (0,1), so it takes the first page from the
//!    hand.
//!
//! The first page found is the victim; it leaves the circle and the hand rests on the page
//! that followed it. Each pass started counts in [`ReplaceStats::passes`], each page looked
//! at in [`ReplaceStats::examined`], each page passed over in [`ReplaceStats::skipped`].
//!
//! Worked example (3 frames, string `1w,2,3,4,5,6`; `(A,D)` after each page):
//!
//! | ref | hand                                                          | victim | circle after              |
//! |-----|---------------------------------------------------------------|--------|---------------------------|
//! | 1w  |                                                               |        | `1(1,1)`                  |
//! | 2   |                                                               |        | `1(1,1) 2(1,0)`           |
//! | 3   |                                                               |        | `1(1,1) 2(1,0) 3(1,0)`    |
//! | 4   | pass 1: none; pass 2 clears 1, 2, 3: none; pass 3: 1 is (0,1), 2 is (0,0) | 2 | `3(0,0) 1(0,1) 4(1,0)` |
//! | 5   | pass 1: 3 is (0,0)                                            | 3      | `1(0,1) 4(1,0) 5(1,0)`    |
//! | 6   | pass 1: none; pass 2: 1 is (0,1)                              | 1 (writeback) | `4(1,0) 5(1,0) 6(1,0)` |
//!
//! At reference 4 the dirty page 1 is passed over in favour of the clean page 2; plain
//! Clock would have evicted 1 (and written it back) there.
//!
//! Both Clock searches are bounded even if a [`PageBits`] implementation misbehaves (an A
//! bit that stays set after being cleared): Clock stops after `2n + 1` looks and enhanced
//! Clock after its four passes, and each then takes the page at the hand.
//!
//! ## Random
//!
//! The resident pages are kept in a dense candidate array: insertion appends, and a page
//! that leaves (as victim or by removal) is replaced in its slot by the last page of the
//! array. The victim is the page at index `i`, drawn uniformly from `0..n` by the seeded
//! generator: xorshift64* (state `x`; `x ^= x >> 12; x ^= x << 25; x ^= x >> 27`; output
//! `x * 0x2545F4914F6CDD1D`), its state initialised from the seed by the SplitMix64
//! finaliser of `seed + 0x9E3779B97F4A7C15` (replaced by `0x9E3779B97F4A7C15` in the one
//! case it is zero). The index is the high 64 bits of `output * n` (a 128-bit product),
//! with outputs whose low 64 bits fall below `2^64 mod n` rejected, which makes every index
//! exactly equally likely. The same seed and the same calls give the same victims.
//!
//! ## OPT (Belady)
//!
//! Pages are kept in insertion order. The victim is the resident page whose next use, as
//! [`Future::next_use`] reports it, is farthest in the future; pages never used again
//! (`None`) count as farther than any position. Ties go to the earliest inserted page. So
//! among several pages never used again the oldest goes first. Without a [`Future`]
//! (`victim(bits, None)`) OPT falls back to FIFO: the earliest inserted page.
//!
//! With [`ReplacerOptions::opt_ties_to_latest`] ties go to the *latest* inserted page
//! instead, as in OSTEP's `paging-policy.py`: among several pages never used again the
//! newest goes first. Either choice is optimal; only the victims and the resident set
//! differ, never the number of faults.
//!
//! ## UNOPT (reference strings only)
//!
//! OPT turned round, the farthest-from-optimal choice that OSTEP's `paging-policy.py`
//! calls UNOPT: pages kept in insertion order, the victim is the resident page whose next
//! use is *soonest*; pages never used again come after every position, so one of them is
//! taken only when no resident page is used again, and then the earliest inserted. Ties
//! (a [`Future`] may report equal positions) go to the earliest inserted. Without a
//! [`Future`] it falls back to FIFO, as OPT does. Worked example (3 frames, Belady's string
//! `1,2,3,4,1,2,5,1,2,3,4,5`): every reference faults, and the victims are
//! 1, 2, 1, 2, 3, 4, 5, 1, 2.
//!
//! # The reference-string simulator
//!
//! [`simulate`] plays the hardware and the kernel: for each reference, a resident page is a
//! hit (the policy is told it was referenced); otherwise it is a fault, and if the frames
//! are all in use a victim is chosen, then the page is inserted. The hardware then sets the
//! page's A bit, and its D bit on a write. An evicted page that was dirty counts a
//! writeback; its A and D bits are forgotten with it. For OPT and UNOPT the future is
//! computed from the string itself (a [`Lookahead`]): the next use of a page is the 0-based
//! position of its next occurrence after the current reference. With `frames == 0` nothing can be
//! resident: every reference is a fault, nothing is evicted and nothing written back.
//!
//! ```
//! use vmlab_os::replace::{parse_refs, simulate, Policy};
//!
//! // Silberschatz's reference string, 3 frames.
//! let refs = parse_refs("7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1").unwrap();
//! assert_eq!(simulate(Policy::Fifo, 3, &refs, 0).faults, 15);
//! assert_eq!(simulate(Policy::Lru, 3, &refs, 0).faults, 12);
//! assert_eq!(simulate(Policy::Opt, 3, &refs, 0).faults, 9);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An opaque name for a resident page (the kernel packs a pid and a virtual page number).
pub type PageKey = u64;

/// A page-replacement policy.
///
/// The first six ([`Policy::ALL`]) are the kernel's: the values of `os.policy`. MRU and
/// UNOPT ([`Policy::STRING_ONLY`]) run only over reference strings ([`simulate`], `vmlab
/// policy`); a configuration naming them is refused with a message saying so (see the
/// `Deserialize` implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// First in, first out: the oldest inserted page.
    Fifo,
    /// Exact least recently used: the page whose last reference is oldest.
    Lru,
    /// Clock (second chance) over the A bits.
    Clock,
    /// The four-class Clock over the A and D bits.
    EnhancedClock,
    /// A page chosen uniformly by a seeded generator.
    Random,
    /// Belady's optimal policy: the page used farthest in the future.
    Opt,
    /// Most recently used: the page whose last reference is newest (reference strings only).
    Mru,
    /// The farthest-from-optimal choice: the page used soonest in the future (reference
    /// strings only).
    Unopt,
}

/// The valid policy names, as [`UnknownPolicy`] lists them.
const VALID_POLICIES: &str = "fifo, lru, clock, enhanced-clock, random, opt";

/// The names of the kernel's policies, as a configuration spells them.
const KERNEL_NAMES: &[&str] = &["fifo", "lru", "clock", "enhanced-clock", "random", "opt"];

impl Policy {
    /// Every policy the kernel runs (the values of `os.policy`), in the order of the
    /// documentation.
    pub const ALL: [Policy; 6] = [
        Policy::Fifo,
        Policy::Lru,
        Policy::Clock,
        Policy::EnhancedClock,
        Policy::Random,
        Policy::Opt,
    ];

    /// The policies that run only over reference strings, not in the kernel.
    pub const STRING_ONLY: [Policy; 2] = [Policy::Mru, Policy::Unopt];

    /// Every policy: [`Policy::ALL`], then [`Policy::STRING_ONLY`].
    pub const EVERY: [Policy; 8] = [
        Policy::Fifo,
        Policy::Lru,
        Policy::Clock,
        Policy::EnhancedClock,
        Policy::Random,
        Policy::Opt,
        Policy::Mru,
        Policy::Unopt,
    ];

    /// The policy's name, as configuration files and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::Lru => "lru",
            Policy::Clock => "clock",
            Policy::EnhancedClock => "enhanced-clock",
            Policy::Random => "random",
            Policy::Opt => "opt",
            Policy::Mru => "mru",
            Policy::Unopt => "unopt",
        }
    }

    /// The policy of any of [`Policy::EVERY`]'s names, spelt exactly as [`Policy::name`]
    /// spells it; [`FromStr`] knows only the kernel's.
    pub fn from_any_name(name: &str) -> Option<Policy> {
        Policy::EVERY.into_iter().find(|p| p.name() == name)
    }

    /// Whether the kernel runs this policy (it is one of [`Policy::ALL`]).
    pub fn in_kernel(self) -> bool {
        !Policy::STRING_ONLY.contains(&self)
    }

    /// Whether the policy asks a [`Future`] for next uses (OPT and UNOPT).
    pub fn needs_future(self) -> bool {
        matches!(self, Policy::Opt | Policy::Unopt)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy name that is not one of [`Policy::ALL`]'s names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown replacement policy `{name}`; valid policies are: {valid}", valid = VALID_POLICIES)]
pub struct UnknownPolicy {
    /// The name that was given.
    pub name: String,
}

impl FromStr for Policy {
    type Err = UnknownPolicy;

    /// Parses a kernel policy name ([`Policy::ALL`]) exactly as [`Policy::name`] spells it.
    fn from_str(s: &str) -> Result<Policy, UnknownPolicy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPolicy { name: s.to_owned() })
    }
}

/// Reads a kernel policy ([`Policy::ALL`]) from its name: a configuration's `os.policy`.
///
/// An unknown name gets serde's usual "unknown variant" error listing the kernel's names.
/// MRU and UNOPT get their own message: the kernel cannot run them, because MRU needs to
/// hear of every reference (the paging scheme reports references to its replacer only
/// under LRU) and UNOPT needs the recorded future that the hosted run's first pass makes
/// only for OPT.
impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Policy, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Policy;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a replacement policy name ({VALID_POLICIES})")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Policy, E> {
                match Policy::from_any_name(s) {
                    Some(p) if p.in_kernel() => Ok(p),
                    Some(p) => Err(E::custom(format_args!(
                        "the `{p}` policy runs only over reference strings (`vmlab policy`), \
                         not in the kernel: {why}; the kernel's policies are: {VALID_POLICIES}",
                        why = match p {
                            Policy::Mru =>
                                "MRU must hear of every reference, and the paging \
                                            scheme reports references only under lru",
                            _ =>
                                "UNOPT needs the recorded future that a hosted run \
                                  makes only for opt",
                        }
                    ))),
                    None => Err(E::unknown_variant(s, KERNEL_NAMES)),
                }
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// The A and D bits of resident pages, as the hardware keeps them.
///
/// The kernel implements this over its page-table entries in simulated RAM. Only the Clock
/// policies call it.
pub trait PageBits {
    /// Whether the Accessed bit of `page` is set.
    fn accessed(&mut self, page: PageKey) -> bool;
    /// Clears the Accessed bit of `page` (for the kernel: a PTE write and a TLB flush of
    /// that page).
    fn clear_accessed(&mut self, page: PageKey);
    /// Whether the Dirty bit of `page` is set.
    fn dirty(&mut self, page: PageKey) -> bool;
}

/// [`PageBits`] for callers without bits: every A and D bit reads clear.
///
/// Under it Clock and enhanced Clock choose exactly as FIFO does.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBits;

impl PageBits for NoBits {
    fn accessed(&mut self, _page: PageKey) -> bool {
        false
    }

    fn clear_accessed(&mut self, _page: PageKey) {}

    fn dirty(&mut self, _page: PageKey) -> bool {
        false
    }
}

/// Future knowledge for OPT.
///
/// Positions are in any unit that grows with time (a reference count, say); OPT only
/// compares them.
pub trait Future {
    /// The position of the next use of `page` after the current point; `None` if it is never
    /// used again.
    fn next_use(&self, page: PageKey) -> Option<u64>;
}

impl<F: Fn(PageKey) -> Option<u64>> Future for F {
    fn next_use(&self, page: PageKey) -> Option<u64> {
        self(page)
    }
}

/// The [`Future`] of a known reference string, advanced one reference at a time.
///
/// Positions are 0-based indices into the string. Before [`Lookahead::advance`] has been
/// called `k` times, [`Lookahead::next_use`](Future::next_use) of a page is the first
/// position `>= k` where it occurs: the reference being served counts as the current point,
/// so at a fault (when the page being served is not resident) every resident page's answer
/// lies strictly after it.
#[derive(Clone, Debug)]
pub struct Lookahead {
    pages: Vec<PageKey>,
    /// For each position, the position of the page's next occurrence after it.
    next: Vec<Option<u64>>,
    /// Each page's first occurrence at or after `position`.
    upcoming: KeyMap<u64>,
    position: usize,
}

impl Lookahead {
    /// The future of the reference string `pages`, positioned at its first reference.
    pub fn new(pages: &[PageKey]) -> Lookahead {
        let mut next = vec![None; pages.len()];
        let mut upcoming = KeyMap::default();
        for (i, &page) in pages.iter().enumerate().rev() {
            next[i] = upcoming.insert(page, i as u64);
        }
        Lookahead {
            pages: pages.to_vec(),
            next,
            upcoming,
            position: 0,
        }
    }

    /// The position of the reference being served (the number of references passed).
    pub fn position(&self) -> u64 {
        self.position as u64
    }

    /// Moves past the current reference; a no-op at the end of the string.
    pub fn advance(&mut self) {
        let i = self.position;
        let Some(&page) = self.pages.get(i) else {
            return;
        };
        match self.next[i] {
            Some(n) => self.upcoming.insert(page, n),
            None => self.upcoming.remove(&page),
        };
        self.position += 1;
    }
}

impl Future for Lookahead {
    fn next_use(&self, page: PageKey) -> Option<u64> {
        self.upcoming.get(&page).copied()
    }
}

/// Counters kept by a [`Replacer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplaceStats {
    /// Pages inserted (inserting a page already resident does not count).
    pub inserted: u64,
    /// Resident pages removed other than by eviction.
    pub removed: u64,
    /// Victims chosen.
    pub victims: u64,
    /// Pages whose bits a Clock hand looked at (the victim included).
    pub examined: u64,
    /// Pages a Clock hand passed over without taking them: for Clock, each is a second
    /// chance; for enhanced Clock, pass 1 also passes pages without changing their bits.
    pub skipped: u64,
    /// A bits cleared through [`PageBits::clear_accessed`].
    pub accessed_cleared: u64,
    /// Enhanced Clock passes started (1 to 4 per victim).
    pub passes: u64,
}

/// Variations of a [`Replacer`]'s rules that the kernel leaves at their defaults and the
/// reference-string exercises (`vmlab policy`) may choose; the module documentation
/// describes each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplacerOptions {
    /// Clock only: keep a use counter per page, saturating at this value (at least 1),
    /// instead of reading the A bits; `None` (the default) reads the A bits through
    /// [`PageBits`]. With 1 the choices are exactly those of the A-bit Clock under
    /// [`simulate`].
    pub clock_counter_max: Option<u8>,
    /// OPT only: among pages whose next uses tie (in a reference string, only pages never
    /// used again), take the latest inserted, as OSTEP's `paging-policy.py` does, rather
    /// than the earliest (the default).
    pub opt_ties_to_latest: bool,
}

/// The replacement state of a set of resident pages under one [`Policy`].
#[derive(Clone, Debug)]
pub struct Replacer {
    policy: Policy,
    options: ReplacerOptions,
    store: Store,
    rng: Rng,
    stats: ReplaceStats,
    /// Each resident page's use counter, under Clock with
    /// [`ReplacerOptions::clock_counter_max`] (empty otherwise).
    counters: KeyMap<u8>,
}

/// How the resident pages are kept.
#[derive(Clone, Debug)]
enum Store {
    /// FIFO, LRU, MRU, Clock, enhanced Clock, OPT, UNOPT: a circular list whose head is the
    /// front of the queue (FIFO, OPT, UNOPT), the least recently used page (LRU, MRU) or
    /// the hand (the Clocks).
    Ring(Ring),
    /// Random: a dense array.
    Dense(Dense),
}

impl Replacer {
    /// An empty replacer; `seed` seeds the generator of [`Policy::Random`] (the other
    /// policies ignore it).
    pub fn new(policy: Policy, seed: u64) -> Replacer {
        Replacer::with_options(policy, seed, ReplacerOptions::default())
    }

    /// An empty replacer with `options` (options that do not concern `policy` are ignored).
    pub fn with_options(policy: Policy, seed: u64, options: ReplacerOptions) -> Replacer {
        let store = match policy {
            Policy::Random => Store::Dense(Dense::default()),
            _ => Store::Ring(Ring::default()),
        };
        Replacer {
            policy,
            options,
            store,
            rng: Rng::new(seed),
            stats: ReplaceStats::default(),
            counters: KeyMap::default(),
        }
    }

    /// The options.
    pub fn options(&self) -> ReplacerOptions {
        self.options
    }

    /// The cap of the use counters, when this replacer keeps them (Clock with
    /// [`ReplacerOptions::clock_counter_max`]).
    fn counter_max(&self) -> Option<u8> {
        match self.policy {
            Policy::Clock => self.options.clock_counter_max.map(|m| m.max(1)),
            _ => None,
        }
    }

    /// A resident page's use counter (Clock with counters only; `None` otherwise).
    pub fn use_counter(&self, page: PageKey) -> Option<u8> {
        self.counter_max()?;
        self.counters.get(&page).copied()
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Records that `page` became resident (after a fault brought it in).
    ///
    /// A page that is already resident keeps its place and the call counts as a reference
    /// to it ([`Replacer::referenced`]).
    pub fn inserted(&mut self, page: PageKey) {
        let fresh = match &mut self.store {
            Store::Ring(ring) => ring.push_back(page),
            Store::Dense(dense) => dense.push(page),
        };
        if fresh {
            self.stats.inserted += 1;
            if self.counter_max().is_some() {
                self.counters.insert(page, 1);
            }
        } else {
            self.referenced(page);
        }
    }

    /// Records a reference to `page`.
    ///
    /// LRU and MRU use it (O(1): the page moves to the most recently used end), and Clock
    /// with use counters (the page's counter goes up by one, up to its cap); the other
    /// policies return at once, and a page that is not resident is ignored.
    #[inline]
    pub fn referenced(&mut self, page: PageKey) {
        match self.policy {
            Policy::Lru | Policy::Mru => {
                if let Store::Ring(ring) = &mut self.store {
                    ring.move_to_back(page);
                }
            }
            Policy::Clock => {
                if let Some(max) = self.counter_max() {
                    if let Some(c) = self.counters.get_mut(&page) {
                        *c = c.saturating_add(1).min(max);
                    }
                }
            }
            _ => {}
        }
    }

    /// Records that `page` left memory other than by eviction (munmap, process exit); a no-op
    /// if it is not resident.
    pub fn removed(&mut self, page: PageKey) {
        let was = match &mut self.store {
            Store::Ring(ring) => ring.remove(page),
            Store::Dense(dense) => dense.remove(page),
        };
        if was {
            self.stats.removed += 1;
            self.counters.remove(&page);
        }
    }

    /// Chooses a victim among the resident pages, removes it from the resident set and
    /// returns it; `None` when nothing is resident.
    ///
    /// Clock and enhanced Clock read and clear A bits (and enhanced Clock reads D bits)
    /// through `bits` (Clock with use counters reads its own counters instead); the other
    /// policies do not touch it. OPT and UNOPT ask `future` for next uses and, when it is
    /// `None`, fall back to FIFO (the earliest inserted page). The module documentation
    /// gives each policy's exact rule.
    pub fn victim(
        &mut self,
        bits: &mut dyn PageBits,
        future: Option<&dyn Future>,
    ) -> Option<PageKey> {
        let stats = &mut self.stats;
        let counter_max = match self.policy {
            Policy::Clock => self.options.clock_counter_max.map(|m| m.max(1)),
            _ => None,
        };
        let victim = match &mut self.store {
            Store::Dense(dense) => {
                if dense.pages.is_empty() {
                    None
                } else {
                    let i = self.rng.below(dense.pages.len() as u64) as usize;
                    Some(dense.take_at(i))
                }
            }
            Store::Ring(ring) => match (self.policy, future) {
                (Policy::Clock, _) => match counter_max {
                    Some(max) => ring.counter_victim(&mut self.counters, max, stats),
                    None => ring.clock_victim(bits, stats),
                },
                (Policy::EnhancedClock, _) => ring.enhanced_victim(bits, stats),
                (Policy::Opt, Some(future)) if self.options.opt_ties_to_latest => {
                    ring.opt_victim_latest(future)
                }
                (Policy::Opt, Some(future)) => ring.opt_victim(future),
                (Policy::Unopt, Some(future)) => ring.unopt_victim(future),
                (Policy::Mru, _) => ring.pop_back(),
                _ => ring.pop_front(),
            },
        };
        if let Some(v) = victim {
            self.stats.victims += 1;
            self.counters.remove(&v);
        }
        victim
    }

    /// The number of resident pages.
    pub fn resident(&self) -> usize {
        match &self.store {
            Store::Ring(ring) => ring.len(),
            Store::Dense(dense) => dense.pages.len(),
        }
    }

    /// Whether `page` is resident.
    pub fn contains(&self, page: PageKey) -> bool {
        match &self.store {
            Store::Ring(ring) => ring.index.contains_key(&page),
            Store::Dense(dense) => dense.index.contains_key(&page),
        }
    }

    /// The resident pages in the policy's own order: FIFO, OPT and UNOPT oldest inserted
    /// first, LRU and MRU least recently used first, the Clocks round the circle starting
    /// at the hand, Random in candidate-array order.
    pub fn resident_pages(&self) -> Vec<PageKey> {
        match &self.store {
            Store::Ring(ring) => ring.pages(),
            Store::Dense(dense) => dense.pages.clone(),
        }
    }

    /// The counters: victims chosen, A bits cleared, pages skipped by the hand, and so on.
    pub fn stats(&self) -> &ReplaceStats {
        &self.stats
    }
}

/// A hash map keyed by pages, with a cheap deterministic hash (a SplitMix64 finaliser):
/// lookups sit on the per-reference path, and nothing iterates these maps to make a choice.
pub(crate) type KeyMap<V> = HashMap<PageKey, V, BuildHasherDefault<KeyHasher>>;

/// The hasher of [`KeyMap`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = mix64(self.0);
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = mix64(self.0 ^ x);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The SplitMix64 finaliser: a bijection of `u64` that spreads every input bit over the
/// output.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The xorshift64* generator of [`Policy::Random`].
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    /// A generator whose (non-zero) state is the SplitMix64 finaliser of `seed + GOLDEN`.
    fn new(seed: u64) -> Rng {
        let state = mix64(seed.wrapping_add(GOLDEN));
        Rng(if state == 0 { GOLDEN } else { state })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A uniform integer in `0..n` (`n > 0`), by multiply-and-reject.
    fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        // 2^64 mod n: products whose low half falls below it would make the low indices
        // slightly more likely.
        let reject = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if m as u64 >= reject {
                return (m >> 64) as u64;
            }
        }
    }
}

/// A node of a [`Ring`].
#[derive(Clone, Copy, Debug)]
struct Node {
    page: PageKey,
    prev: usize,
    next: usize,
}

/// A circular doubly linked list of pages over a slab of nodes, with an index from page to
/// node. `push_back` inserts just before the head, which is the tail of a queue starting at
/// the head, and just behind a Clock hand at the head.
#[derive(Clone, Debug, Default)]
struct Ring {
    nodes: Vec<Node>,
    free: Vec<usize>,
    index: KeyMap<usize>,
    head: Option<usize>,
}

impl Ring {
    fn len(&self) -> usize {
        self.index.len()
    }

    /// Inserts `page` just before the head; false (and no change) if it is present.
    fn push_back(&mut self, page: PageKey) -> bool {
        if self.index.contains_key(&page) {
            return false;
        }
        let node = Node {
            page,
            prev: 0,
            next: 0,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.link_before_head(idx);
        self.index.insert(page, idx);
        true
    }

    fn link_before_head(&mut self, idx: usize) {
        match self.head {
            None => {
                self.nodes[idx].prev = idx;
                self.nodes[idx].next = idx;
                self.head = Some(idx);
            }
            Some(h) => {
                let tail = self.nodes[h].prev;
                self.nodes[idx].prev = tail;
                self.nodes[idx].next = h;
                self.nodes[tail].next = idx;
                self.nodes[h].prev = idx;
            }
        }
    }

    /// Unlinks node `idx` from the circle (keeping its slot); the head moves on if it was
    /// there.
    fn detach(&mut self, idx: usize) {
        let Node { prev, next, .. } = self.nodes[idx];
        if next == idx {
            self.head = None;
        } else {
            self.nodes[prev].next = next;
            self.nodes[next].prev = prev;
            if self.head == Some(idx) {
                self.head = Some(next);
            }
        }
    }

    /// Removes node `idx` and returns its page.
    fn take(&mut self, idx: usize) -> PageKey {
        self.detach(idx);
        let page = self.nodes[idx].page;
        self.index.remove(&page);
        self.free.push(idx);
        page
    }

    /// Removes node `idx` as a Clock hand does: the head (hand) moves to the node after it.
    fn take_passing(&mut self, idx: usize) -> PageKey {
        self.head = Some(self.nodes[idx].next);
        self.take(idx)
    }

    fn remove(&mut self, page: PageKey) -> bool {
        match self.index.get(&page) {
            Some(&idx) => {
                self.take(idx);
                true
            }
            None => false,
        }
    }

    fn pop_front(&mut self) -> Option<PageKey> {
        let head = self.head?;
        Some(self.take(head))
    }

    /// Removes the last page (just before the head).
    fn pop_back(&mut self) -> Option<PageKey> {
        let head = self.head?;
        Some(self.take(self.nodes[head].prev))
    }

    /// Moves `page`, if present, to just before the head (the back of the queue).
    fn move_to_back(&mut self, page: PageKey) {
        let (Some(&idx), Some(head)) = (self.index.get(&page), self.head) else {
            return;
        };
        if idx == head {
            // Rotating the head by one makes the old head the last node.
            self.head = Some(self.nodes[head].next);
        } else if self.nodes[idx].next != head {
            self.detach(idx);
            self.link_before_head(idx);
        }
    }

    /// The pages from the head round the circle.
    fn pages(&self) -> Vec<PageKey> {
        let mut out = Vec::with_capacity(self.len());
        if let Some(head) = self.head {
            let mut cur = head;
            for _ in 0..self.len() {
                out.push(self.nodes[cur].page);
                cur = self.nodes[cur].next;
            }
        }
        out
    }

    /// Clock's victim search, with the hand at the head.
    fn clock_victim(
        &mut self,
        bits: &mut dyn PageBits,
        stats: &mut ReplaceStats,
    ) -> Option<PageKey> {
        let n = self.len();
        for _ in 0..=2 * n {
            let hand = self.head?;
            let page = self.nodes[hand].page;
            stats.examined += 1;
            if bits.accessed(page) {
                bits.clear_accessed(page);
                stats.accessed_cleared += 1;
                stats.skipped += 1;
                self.head = Some(self.nodes[hand].next);
            } else {
                return Some(self.take_passing(hand));
            }
        }
        // Only if the bits misbehave: A bits that stay set after being cleared.
        let hand = self.head?;
        Some(self.take_passing(hand))
    }

    /// Clock's victim search over use counters capped at `max`, with the hand at the head.
    fn counter_victim(
        &mut self,
        counters: &mut KeyMap<u8>,
        max: u8,
        stats: &mut ReplaceStats,
    ) -> Option<PageKey> {
        // Every look but the last takes one from a counter, and the counters add up to at
        // most `max * n`.
        let looks = usize::from(max) * self.len() + 1;
        for _ in 0..looks {
            let hand = self.head?;
            let page = self.nodes[hand].page;
            stats.examined += 1;
            match counters.get_mut(&page) {
                Some(c) if *c > 0 => {
                    *c -= 1;
                    stats.skipped += 1;
                    self.head = Some(self.nodes[hand].next);
                }
                _ => return Some(self.take_passing(hand)),
            }
        }
        // Unreachable while the counters stay within their cap.
        let hand = self.head?;
        Some(self.take_passing(hand))
    }

    /// Enhanced Clock's victim search, with the hand at the head.
    fn enhanced_victim(
        &mut self,
        bits: &mut dyn PageBits,
        stats: &mut ReplaceStats,
    ) -> Option<PageKey> {
        let start = self.head?;
        let n = self.len();
        for pass in 0..4 {
            stats.passes += 1;
            let want_dirty = pass % 2 == 1;
            let mut cur = start;
            for _ in 0..n {
                let page = self.nodes[cur].page;
                stats.examined += 1;
                if bits.accessed(page) {
                    if want_dirty {
                        bits.clear_accessed(page);
                        stats.accessed_cleared += 1;
                    }
                } else if bits.dirty(page) == want_dirty {
                    return Some(self.take_passing(cur));
                }
                stats.skipped += 1;
                cur = self.nodes[cur].next;
            }
        }
        // Only if the bits misbehave: A bits that stay set after being cleared.
        Some(self.take_passing(start))
    }

    /// The page from the head on whose next use `better` prefers to the best so far
    /// (`None`: never used again); the scan stops early once `done` holds of the best.
    fn future_victim(
        &mut self,
        future: &dyn Future,
        better: impl Fn(Option<u64>, Option<u64>) -> bool,
        done: impl Fn(Option<u64>) -> bool,
    ) -> Option<PageKey> {
        let head = self.head?;
        let mut best = head;
        let mut best_use = future.next_use(self.nodes[head].page);
        let mut cur = self.nodes[head].next;
        while cur != head && !done(best_use) {
            let next_use = future.next_use(self.nodes[cur].page);
            if better(next_use, best_use) {
                best = cur;
                best_use = next_use;
            }
            cur = self.nodes[cur].next;
        }
        Some(self.take(best))
    }

    /// OPT's choice: the farthest next use, never used again first, ties to the earliest
    /// inserted (the first from the head).
    fn opt_victim(&mut self, future: &dyn Future) -> Option<PageKey> {
        self.future_victim(
            future,
            |next, best| match (next, best) {
                (None, Some(_)) => true,
                (Some(a), Some(b)) => a > b,
                _ => false,
            },
            |best| best.is_none(),
        )
    }

    /// OPT's choice with ties to the latest inserted: the farthest next use, never used
    /// again first, among equals the last from the head.
    fn opt_victim_latest(&mut self, future: &dyn Future) -> Option<PageKey> {
        self.future_victim(
            future,
            |next, best| match (next, best) {
                (None, _) => true,
                (Some(a), Some(b)) => a >= b,
                (Some(_), None) => false,
            },
            |_| false,
        )
    }

    /// UNOPT's choice: the soonest next use (pages never used again last), ties to the
    /// earliest inserted (the first from the head).
    fn unopt_victim(&mut self, future: &dyn Future) -> Option<PageKey> {
        self.future_victim(
            future,
            |next, best| match (next, best) {
                (Some(_), None) => true,
                (Some(a), Some(b)) => a < b,
                (None, _) => false,
            },
            |_| false,
        )
    }
}

/// Random's candidate array, with an index from page to slot.
#[derive(Clone, Debug, Default)]
struct Dense {
    pages: Vec<PageKey>,
    index: KeyMap<usize>,
}

impl Dense {
    fn push(&mut self, page: PageKey) -> bool {
        if self.index.contains_key(&page) {
            return false;
        }
        self.index.insert(page, self.pages.len());
        self.pages.push(page);
        true
    }

    fn remove(&mut self, page: PageKey) -> bool {
        match self.index.get(&page) {
            Some(&i) => {
                self.take_at(i);
                true
            }
            None => false,
        }
    }

    /// Removes the page in slot `i` (which must exist); the last page moves into the slot.
    fn take_at(&mut self, i: usize) -> PageKey {
        let page = self.pages.swap_remove(i);
        self.index.remove(&page);
        if let Some(&moved) = self.pages.get(i) {
            self.index.insert(moved, i);
        }
        page
    }
}

/// One reference of a reference string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ref {
    /// The page referenced.
    pub page: PageKey,
    /// Whether the reference writes the page (sets its D bit).
    pub write: bool,
}

impl fmt::Display for Ref {
    /// Writes the reference as [`parse_refs`] reads it: `7`, or `7w` for a write.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.page, if self.write { "w" } else { "" })
    }
}

/// Why [`parse_refs`] rejected a reference string. Positions count items from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// Two commas with nothing between them, or a comma at either end.
    #[error(
        "item {position} is empty: separate page references with one comma or with spaces, as in `7,0,1,2w`"
    )]
    Empty {
        /// The position of the missing item.
        position: usize,
    },
    /// An item that is not a page number with an optional `w`.
    #[error(
        "item {position} `{item}` is not a page reference: write a decimal page number (`7`) or a hex one (`0x1f`), optionally followed by `w` for a write (`7w`)"
    )]
    Invalid {
        /// The position of the item.
        position: usize,
        /// The item as written.
        item: String,
    },
    /// A page number that does not fit in 64 bits.
    #[error(
        "item {position} `{item}` is too large: page numbers go up to 18446744073709551615 (0xffffffffffffffff)"
    )]
    TooLarge {
        /// The position of the item.
        position: usize,
        /// The item as written.
        item: String,
    },
}

/// Parses a reference string such as `"7,0,1,2,0w,3"`.
///
/// Items are separated by a comma (with any whitespace around it) or by whitespace alone.
/// Each item is a page number, decimal (`7`) or hex with a `0x` or `0X` prefix (`0x1f`),
/// optionally followed by `w` or `W` to mark a write (`7w`, `0x1fw`). A string that is empty
/// or all whitespace is the empty reference string; an empty item between two commas, or
/// a comma at either end, is an error.
pub fn parse_refs(s: &str) -> Result<Vec<Ref>, RefError> {
    let mut refs = Vec::new();
    if s.trim().is_empty() {
        return Ok(refs);
    }
    for chunk in s.split(',') {
        let before = refs.len();
        for item in chunk.split_whitespace() {
            refs.push(parse_ref(item, refs.len() + 1)?);
        }
        if refs.len() == before {
            return Err(RefError::Empty {
                position: before + 1,
            });
        }
    }
    Ok(refs)
}

/// Parses one item of a reference string, the `position`-th.
fn parse_ref(item: &str, position: usize) -> Result<Ref, RefError> {
    let (number, write) = match item.strip_suffix(['w', 'W']) {
        Some(number) => (number, true),
        None => (item, false),
    };
    let (digits, radix) = match number
        .strip_prefix("0x")
        .or_else(|| number.strip_prefix("0X"))
    {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(RefError::Invalid {
            position,
            item: item.to_owned(),
        });
    }
    match u64::from_str_radix(digits, radix) {
        Ok(page) => Ok(Ref { page, write }),
        Err(_) => Err(RefError::TooLarge {
            position,
            item: item.to_owned(),
        }),
    }
}

/// One step of a [`simulate`] run: what one reference did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStep {
    /// The page referenced.
    pub page: PageKey,
    /// Whether the reference was a write.
    pub write: bool,
    /// Whether the page was resident (no fault).
    pub hit: bool,
    /// The page evicted to make room, if any.
    pub evicted: Option<PageKey>,
    /// Whether the evicted page was dirty and so written back.
    pub writeback: bool,
    /// The resident pages after the step, in the policy's order (see
    /// [`Replacer::resident_pages`]).
    pub resident: Vec<PageKey>,
}

/// The result of a [`simulate`] run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sim {
    /// References that found their page not resident.
    pub faults: u64,
    /// References that found their page resident.
    pub hits: u64,
    /// Dirty pages evicted.
    pub writebacks: u64,
    /// One step per reference, in order.
    pub steps: Vec<SimStep>,
    /// The replacer's counters at the end.
    pub stats: ReplaceStats,
}

impl Sim {
    /// The evicted pages, in eviction order.
    pub fn victims(&self) -> Vec<PageKey> {
        self.steps.iter().filter_map(|s| s.evicted).collect()
    }
}

/// The A and D bits as [`simulate`]'s hardware keeps them.
#[derive(Default)]
struct SimBits(KeyMap<(bool, bool)>);

impl SimBits {
    /// The hardware's side of a reference: A set, and D on a write.
    fn touch(&mut self, page: PageKey, write: bool) {
        let bits = self.0.entry(page).or_default();
        bits.0 = true;
        bits.1 |= write;
    }

    /// Forgets an evicted page's bits, returning its D bit.
    fn evict(&mut self, page: PageKey) -> bool {
        self.0.remove(&page).is_some_and(|(_, d)| d)
    }
}

impl PageBits for SimBits {
    fn accessed(&mut self, page: PageKey) -> bool {
        self.0.get(&page).is_some_and(|b| b.0)
    }

    fn clear_accessed(&mut self, page: PageKey) {
        if let Some(b) = self.0.get_mut(&page) {
            b.0 = false;
        }
    }

    fn dirty(&mut self, page: PageKey) -> bool {
        self.0.get(&page).is_some_and(|b| b.1)
    }
}

/// Runs `refs` through a [`Replacer`] under `policy` with `frames` frames (`seed` seeds
/// [`Policy::Random`]).
///
/// See the module documentation for what each step does. With `frames == 0` every
/// reference is a fault and nothing is ever resident.
pub fn simulate(policy: Policy, frames: usize, refs: &[Ref], seed: u64) -> Sim {
    simulate_with(policy, frames, refs, seed, ReplacerOptions::default())
}

/// [`simulate`] with a [`Replacer`] made with `options`.
///
/// The simulated hardware is the same: A and D bits for the Clocks, the string's own
/// future for OPT and UNOPT. Under Clock with [`ReplacerOptions::clock_counter_max`] every
/// hit is reported to the replacer ([`Replacer::referenced`]), which counts it.
pub fn simulate_with(
    policy: Policy,
    frames: usize,
    refs: &[Ref],
    seed: u64,
    options: ReplacerOptions,
) -> Sim {
    let mut replacer = Replacer::with_options(policy, seed, options);
    let mut bits = SimBits::default();
    let mut future = policy.needs_future().then(|| {
        let pages: Vec<PageKey> = refs.iter().map(|r| r.page).collect();
        Lookahead::new(&pages)
    });
    let mut sim = Sim {
        faults: 0,
        hits: 0,
        writebacks: 0,
        steps: Vec::with_capacity(refs.len()),
        stats: ReplaceStats::default(),
    };
    for r in refs {
        let hit = replacer.contains(r.page);
        let mut evicted = None;
        let mut writeback = false;
        if hit {
            sim.hits += 1;
            replacer.referenced(r.page);
            bits.touch(r.page, r.write);
        } else {
            sim.faults += 1;
            if frames > 0 {
                if replacer.resident() >= frames {
                    evicted = replacer.victim(&mut bits, future.as_ref().map(|f| f as _));
                    if let Some(v) = evicted {
                        writeback = bits.evict(v);
                        sim.writebacks += u64::from(writeback);
                    }
                }
                replacer.inserted(r.page);
                bits.touch(r.page, r.write);
            }
        }
        if let Some(f) = future.as_mut() {
            f.advance();
        }
        sim.steps.push(SimStep {
            page: r.page,
            write: r.write,
            hit,
            evicted,
            writeback,
            resident: replacer.resident_pages(),
        });
    }
    sim.stats = *replacer.stats();
    sim
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn refs(s: &str) -> Vec<Ref> {
        parse_refs(s).unwrap_or_else(|e| panic!("test string {s:?}: {e}"))
    }

    /// A seeded stream of test inputs (the module's own generator).
    fn random_refs(rng: &mut Rng, pages: u64, max_len: u64, writes: bool) -> Vec<Ref> {
        let len = rng.below(max_len + 1);
        (0..len)
            .map(|_| Ref {
                page: rng.below(pages),
                write: writes && rng.below(3) == 0,
            })
            .collect()
    }

    // ---- Policy names -------------------------------------------------------------------

    /// `name` parses back to `policy`, and `Display` agrees with `name`.
    fn check_name(policy: Policy, name: &str) {
        assert_eq!(policy.name(), name);
        assert_eq!(policy.to_string(), name);
        assert_eq!(name.parse::<Policy>(), Ok(policy));
    }

    #[test]
    fn policy_names() {
        check_name(Policy::Fifo, "fifo");
        check_name(Policy::Lru, "lru");
        check_name(Policy::Clock, "clock");
        check_name(Policy::EnhancedClock, "enhanced-clock");
        check_name(Policy::Random, "random");
        check_name(Policy::Opt, "opt");
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.join(", "), VALID_POLICIES);
        assert_eq!(
            "LRU".parse::<Policy>().map_err(|e| e.to_string()),
            Err("unknown replacement policy `LRU`; valid policies are: \
                 fifo, lru, clock, enhanced-clock, random, opt"
                .to_owned())
        );
        assert!("".parse::<Policy>().is_err());
    }

    // ---- Reference strings ----------------------------------------------------------------

    /// Parses `input`, expecting the pages (`w` suffix = write) or the exact error message.
    fn check_parse(input: &str, expect: Result<&[(PageKey, bool)], &str>) {
        let got = parse_refs(input)
            .map(|v| v.iter().map(|r| (r.page, r.write)).collect::<Vec<_>>())
            .map_err(|e| e.to_string());
        let want = expect.map(<[_]>::to_vec).map_err(str::to_owned);
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn parse_reference_strings() {
        check_parse("", Ok(&[]));
        check_parse("  \n ", Ok(&[]));
        check_parse(
            "7,0,1,2,0w,3",
            Ok(&[
                (7, false),
                (0, false),
                (1, false),
                (2, false),
                (0, true),
                (3, false),
            ]),
        );
        check_parse(
            " 7 0\t1\n2W ",
            Ok(&[(7, false), (0, false), (1, false), (2, true)]),
        );
        check_parse(
            "1 , 2,3 4",
            Ok(&[(1, false), (2, false), (3, false), (4, false)]),
        );
        check_parse(
            "0x1f,0X10w,0xAw",
            Ok(&[(31, false), (16, true), (10, true)]),
        );
        check_parse(
            "18446744073709551615,0xffffffffffffffffw",
            Ok(&[(u64::MAX, false), (u64::MAX, true)]),
        );
        check_parse(
            "1,,2",
            Err("item 2 is empty: separate page references with one comma or with spaces, as in `7,0,1,2w`"),
        );
        check_parse(
            "1,2,",
            Err("item 3 is empty: separate page references with one comma or with spaces, as in `7,0,1,2w`"),
        );
        check_parse(
            ",1",
            Err("item 1 is empty: separate page references with one comma or with spaces, as in `7,0,1,2w`"),
        );
        let invalid = |pos: usize, item: &str| {
            format!(
                "item {pos} `{item}` is not a page reference: write a decimal page number (`7`) \
                 or a hex one (`0x1f`), optionally followed by `w` for a write (`7w`)"
            )
        };
        for (input, pos, item) in [
            ("1,2,x", 3, "x"),
            ("1 2r", 2, "2r"),
            ("w", 1, "w"),
            ("0x", 1, "0x"),
            ("0xw", 1, "0xw"),
            ("3ww", 1, "3ww"),
            ("-1", 1, "-1"),
            ("+1", 1, "+1"),
            ("0x1g", 1, "0x1g"),
            ("1.5", 1, "1.5"),
            ("７", 1, "７"),
        ] {
            check_parse(input, Err(&invalid(pos, item)));
        }
        check_parse(
            "1,18446744073709551616",
            Err(
                "item 2 `18446744073709551616` is too large: page numbers go up to \
                 18446744073709551615 (0xffffffffffffffff)",
            ),
        );
        check_parse(
            "0x10000000000000000w",
            Err(
                "item 1 `0x10000000000000000w` is too large: page numbers go up to \
                 18446744073709551615 (0xffffffffffffffff)",
            ),
        );
    }

    #[test]
    fn refs_display_round_trips() {
        let mut rng = Rng::new(5);
        let r = random_refs(&mut rng, 1000, 50, true);
        let text: Vec<String> = r.iter().map(Ref::to_string).collect();
        assert_eq!(parse_refs(&text.join(",")), Ok(r));
    }

    // ---- Reference-string simulations with textbook answers -------------------------------

    /// Simulates `string` and checks the fault and writeback counts and, when given, the
    /// victims in order.
    fn check_sim(
        policy: Policy,
        frames: usize,
        string: &str,
        faults: u64,
        writebacks: u64,
        victims: Option<&[PageKey]>,
    ) {
        let r = refs(string);
        let sim = simulate(policy, frames, &r, 0);
        let what = format!("{policy} with {frames} frames over {string}");
        assert_eq!(sim.faults, faults, "faults: {what}");
        assert_eq!(sim.hits + sim.faults, r.len() as u64, "{what}");
        assert_eq!(sim.writebacks, writebacks, "writebacks: {what}");
        if let Some(v) = victims {
            assert_eq!(sim.victims(), v, "victims: {what}");
        }
    }

    /// Silberschatz, Galvin and Gagne, *Operating System Concepts*, section 10.4 (9.4 in
    /// older editions): FIFO 15, OPT 9, LRU 12 faults with 3 frames.
    const SILBERSCHATZ: &str = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1";

    #[test]
    fn silberschatz_string() {
        // Victim lists worked by hand (queue / recency order / farthest next use).
        check_sim(
            Policy::Fifo,
            3,
            SILBERSCHATZ,
            15,
            0,
            Some(&[7, 0, 1, 2, 3, 0, 4, 2, 3, 0, 1, 2]),
        );
        check_sim(
            Policy::Lru,
            3,
            SILBERSCHATZ,
            12,
            0,
            Some(&[7, 1, 2, 3, 0, 4, 0, 3, 2]),
        );
        check_sim(
            Policy::Opt,
            3,
            SILBERSCHATZ,
            9,
            0,
            Some(&[7, 1, 0, 4, 3, 2]),
        );
    }

    #[test]
    fn silberschatz_lru_steps() {
        // The resident list, least recently used first, after each reference (by hand).
        let sim = simulate(Policy::Lru, 3, &refs(SILBERSCHATZ), 0);
        let lists: Vec<Vec<PageKey>> = sim.steps.iter().map(|s| s.resident.clone()).collect();
        let want: [&[PageKey]; 20] = [
            &[7],
            &[7, 0],
            &[7, 0, 1],
            &[0, 1, 2],
            &[1, 2, 0],
            &[2, 0, 3],
            &[2, 3, 0],
            &[3, 0, 4],
            &[0, 4, 2],
            &[4, 2, 3],
            &[2, 3, 0],
            &[2, 0, 3],
            &[0, 3, 2],
            &[3, 2, 1],
            &[3, 1, 2],
            &[1, 2, 0],
            &[2, 0, 1],
            &[0, 1, 7],
            &[1, 7, 0],
            &[7, 0, 1],
        ];
        assert_eq!(lists, want.map(<[_]>::to_vec));
    }

    /// Belady, Nelson and Shedler, "An anomaly in space-time characteristics of certain
    /// programs running in a paging machine" (CACM 1969), as in Silberschatz: FIFO makes 9
    /// faults with 3 frames and 10 with 4.
    const BELADY: &str = "1,2,3,4,1,2,5,1,2,3,4,5";

    #[test]
    fn belady_anomaly() {
        check_sim(Policy::Fifo, 3, BELADY, 9, 0, Some(&[1, 2, 3, 4, 1, 2]));
        check_sim(Policy::Fifo, 4, BELADY, 10, 0, Some(&[1, 2, 3, 4, 5, 1]));
        // The stack algorithms do not suffer it (worked by hand).
        check_sim(Policy::Lru, 3, BELADY, 10, 0, None);
        check_sim(Policy::Lru, 4, BELADY, 8, 0, None);
        check_sim(Policy::Opt, 3, BELADY, 7, 0, None);
        check_sim(Policy::Opt, 4, BELADY, 6, 0, None);
    }

    /// Stallings, *Operating Systems: Internals and Design Principles*, figure "Behavior of
    /// four page replacement algorithms": after the 3 frames fill, OPT 3 faults, LRU 4, FIFO
    /// 6, Clock 5 (the totals below add the 3 faults that fill the frames). Stallings sets
    /// the use bit when a page is loaded, as `simulate` does. Victims worked by hand.
    const STALLINGS: &str = "2,3,2,1,5,2,4,5,3,2,5,2";

    #[test]
    fn stallings_string() {
        check_sim(Policy::Opt, 3, STALLINGS, 6, 0, Some(&[1, 2, 3]));
        check_sim(Policy::Lru, 3, STALLINGS, 7, 0, Some(&[3, 1, 2, 4]));
        check_sim(Policy::Fifo, 3, STALLINGS, 9, 0, Some(&[2, 3, 1, 5, 2, 4]));
        check_sim(Policy::Clock, 3, STALLINGS, 8, 0, Some(&[2, 3, 1, 5, 4]));
    }

    #[test]
    fn clock_and_enhanced_clock_strings() {
        // The worked Clock example of the module docs.
        check_sim(Policy::Clock, 3, "1,2,3,4,2,5,6", 6, 0, Some(&[1, 3, 2]));
        check_sim(Policy::Fifo, 3, "1,2,3,4,2,5,6", 6, 0, Some(&[1, 2, 3]));
        // The worked enhanced Clock example of the module docs: the dirty page 1 is passed
        // over at reference 4; plain Clock evicts it there.
        check_sim(
            Policy::EnhancedClock,
            3,
            "1w,2,3,4,5,6",
            6,
            1,
            Some(&[2, 3, 1]),
        );
        check_sim(Policy::Clock, 3, "1w,2,3,4,5,6", 6, 1, Some(&[1, 2, 3]));
    }

    #[test]
    fn clock_example_steps_and_counters() {
        let sim = simulate(Policy::Clock, 3, &refs("1,2,3,4,2,5,6"), 0);
        let lists: Vec<Vec<PageKey>> = sim.steps.iter().map(|s| s.resident.clone()).collect();
        let want: [&[PageKey]; 7] = [
            &[1],
            &[1, 2],
            &[1, 2, 3],
            &[2, 3, 4],
            &[2, 3, 4],
            &[4, 2, 5],
            &[5, 4, 6],
        ];
        assert_eq!(lists, want.map(<[_]>::to_vec));
        // Second chances: 3 at reference 4, 1 at 5, 1 at 6; looks: 4 + 2 + 2.
        assert_eq!(sim.stats.accessed_cleared, 5);
        assert_eq!(sim.stats.skipped, 5);
        assert_eq!(sim.stats.examined, 8);
        assert_eq!(sim.stats.victims, 3);
        assert_eq!(sim.stats.inserted, 6);
    }

    #[test]
    fn enhanced_clock_example_steps_and_counters() {
        let sim = simulate(Policy::EnhancedClock, 3, &refs("1w,2,3,4,5,6"), 0);
        let lists: Vec<Vec<PageKey>> = sim.steps.iter().map(|s| s.resident.clone()).collect();
        let want: [&[PageKey]; 6] = [
            &[1],
            &[1, 2],
            &[1, 2, 3],
            &[3, 1, 4],
            &[1, 4, 5],
            &[4, 5, 6],
        ];
        assert_eq!(lists, want.map(<[_]>::to_vec));
        let wb: Vec<bool> = sim.steps.iter().map(|s| s.writeback).collect();
        assert_eq!(wb, [false, false, false, false, false, true]);
        // Reference 4: passes 1-3, 8 looks, 3 A bits cleared; 5: 1 pass, 1 look; 6: 2
        // passes, 4 looks.
        assert_eq!(sim.stats.passes, 6);
        assert_eq!(sim.stats.examined, 13);
        assert_eq!(sim.stats.skipped, 10);
        assert_eq!(sim.stats.accessed_cleared, 3);
    }

    #[test]
    fn zero_frames_fault_every_time() {
        for policy in Policy::ALL {
            let sim = simulate(policy, 0, &refs("1,1w,2,1"), 3);
            assert_eq!(
                (sim.faults, sim.hits, sim.writebacks),
                (4, 0, 0),
                "{policy}"
            );
            assert!(sim
                .steps
                .iter()
                .all(|s| !s.hit && s.evicted.is_none() && s.resident.is_empty()));
            assert_eq!(sim.stats, ReplaceStats::default());
        }
        assert_eq!(simulate(Policy::Opt, 3, &[], 0).steps, []);
    }

    // ---- The reference-string-only policies and options ------------------------------------

    #[test]
    fn string_only_policy_names() {
        check_name(Policy::Fifo, "fifo");
        for (policy, name) in [(Policy::Mru, "mru"), (Policy::Unopt, "unopt")] {
            assert_eq!(policy.name(), name);
            assert_eq!(policy.to_string(), name);
            assert_eq!(Policy::from_any_name(name), Some(policy));
            assert!(!policy.in_kernel());
            // FromStr reads kernel names only.
            assert!(name.parse::<Policy>().is_err());
        }
        assert_eq!(Policy::from_any_name("MRU"), None);
        let every: Vec<Policy> = Policy::ALL.into_iter().chain(Policy::STRING_ONLY).collect();
        assert_eq!(every, Policy::EVERY);
        assert!(Policy::ALL.iter().all(|p| p.in_kernel()));
        let future: Vec<Policy> = Policy::EVERY
            .into_iter()
            .filter(|p| p.needs_future())
            .collect();
        assert_eq!(future, [Policy::Opt, Policy::Unopt]);
    }

    /// `os.policy` reads the kernel's names; MRU and UNOPT are refused saying why.
    #[test]
    fn configuration_reads_kernel_policies_only() {
        use serde::de::value::{Error, StrDeserializer};
        let read = |s: &str| {
            Policy::deserialize(StrDeserializer::<Error>::new(s)).map_err(|e| e.to_string())
        };
        for p in Policy::ALL {
            assert_eq!(read(p.name()), Ok(p));
        }
        let mru = read("mru").unwrap_err();
        assert!(mru.starts_with("the `mru` policy runs only over reference strings (`vmlab policy`), not in the kernel"), "{mru}");
        assert!(
            mru.ends_with(
                "the kernel's policies are: fifo, lru, clock, enhanced-clock, random, opt"
            ),
            "{mru}"
        );
        let unopt = read("unopt").unwrap_err();
        assert!(unopt.contains("UNOPT needs the recorded future"), "{unopt}");
        assert_eq!(
            read("lfu"),
            Err(
                "unknown variant `lfu`, expected one of `fifo`, `lru`, `clock`, \
                 `enhanced-clock`, `random`, `opt`"
                    .to_owned()
            )
        );
    }

    /// Simulates `string` with `options` and checks the resident list after each reference,
    /// and the victims.
    fn check_steps(
        policy: Policy,
        options: ReplacerOptions,
        frames: usize,
        string: &str,
        lists: &[&[PageKey]],
        victims: &[PageKey],
    ) -> Sim {
        let sim = simulate_with(policy, frames, &refs(string), 0, options);
        let got: Vec<Vec<PageKey>> = sim.steps.iter().map(|s| s.resident.clone()).collect();
        let want: Vec<Vec<PageKey>> = lists.iter().map(|l| l.to_vec()).collect();
        assert_eq!(got, want, "{policy} {options:?} over {string}");
        assert_eq!(sim.victims(), victims, "{policy} {options:?} over {string}");
        sim
    }

    #[test]
    fn mru_worked_by_hand() {
        // The module docs' example, then Belady's string through: the list least recently
        // used first, the victim always the page of the previous reference.
        let sim = check_steps(
            Policy::Mru,
            ReplacerOptions::default(),
            3,
            BELADY,
            &[
                &[1],
                &[1, 2],
                &[1, 2, 3],
                &[1, 2, 4],
                &[2, 4, 1],
                &[4, 1, 2],
                &[4, 1, 5],
                &[4, 5, 1],
                &[4, 5, 2],
                &[4, 5, 3],
                &[5, 3, 4],
                &[3, 4, 5],
            ],
            &[3, 2, 1, 2],
        );
        assert_eq!((sim.hits, sim.faults), (5, 7));
        check_sim(Policy::Mru, 3, "1,2,3,4,1,2,5", 5, 0, Some(&[3, 2]));
    }

    #[test]
    fn unopt_worked_by_hand() {
        // Belady's string: at each fault the page used soonest goes; from reference 10 on
        // no resident page is used again and the earliest inserted goes.
        let sim = check_steps(
            Policy::Unopt,
            ReplacerOptions::default(),
            3,
            BELADY,
            &[
                &[1],
                &[1, 2],
                &[1, 2, 3],
                &[2, 3, 4],
                &[3, 4, 1],
                &[3, 4, 2],
                &[3, 4, 5],
                &[4, 5, 1],
                &[5, 1, 2],
                &[1, 2, 3],
                &[2, 3, 4],
                &[3, 4, 5],
            ],
            &[1, 2, 1, 2, 3, 4, 5, 1, 2],
        );
        assert_eq!((sim.hits, sim.faults), (0, 12));
        // OSTEP's chapter 22 string: UNOPT keeps evicting what comes next.
        check_sim(Policy::Unopt, 3, OSTEP, 9, 0, Some(&[0, 3, 1, 2, 1, 0]));
        // Without a future UNOPT is FIFO, as OPT is.
        let mut r = Replacer::new(Policy::Unopt, 0);
        for p in [4, 9, 2] {
            r.inserted(p);
        }
        assert_eq!(r.victim(&mut NoBits, None), Some(4));
        // Equal positions: the earliest inserted.
        let same = |_: PageKey| Some(5);
        assert_eq!(r.victim(&mut NoBits, Some(&same)), Some(9));
    }

    /// OSTEP, *Operating Systems: Three Easy Pieces*, chapter 22: the string of figures
    /// 22.1 (OPT), 22.2 (FIFO) and 22.5 (LRU), 3 frames.
    const OSTEP: &str = "0,1,2,0,1,3,0,3,1,2,1";

    #[test]
    fn ostep_chapter_22() {
        // Figure 22.5: LRU, 6 hits and 5 misses; the cache least recently used first.
        let lru = check_steps(
            Policy::Lru,
            ReplacerOptions::default(),
            3,
            OSTEP,
            &[
                &[0],
                &[0, 1],
                &[0, 1, 2],
                &[1, 2, 0],
                &[2, 0, 1],
                &[0, 1, 3],
                &[1, 3, 0],
                &[1, 0, 3],
                &[0, 3, 1],
                &[3, 1, 2],
                &[3, 2, 1],
            ],
            &[2, 0],
        );
        assert_eq!((lru.hits, lru.faults), (6, 5));
        // Figure 22.2: FIFO, 4 hits and 7 misses.
        check_sim(Policy::Fifo, 3, OSTEP, 7, 0, Some(&[0, 1, 2, 3]));
        // Figure 22.1: OPT, 6 hits and 5 misses. At the last fault 0 and 3 are never used
        // again: the figure (and paging-policy.py) evicts 3, the later inserted; the
        // kernel's rule evicts 0, the earlier. Both are optimal.
        let latest = ReplacerOptions {
            opt_ties_to_latest: true,
            ..ReplacerOptions::default()
        };
        let mut lists: [&[PageKey]; 11] = [
            &[0],
            &[0, 1],
            &[0, 1, 2],
            &[0, 1, 2],
            &[0, 1, 2],
            &[0, 1, 3],
            &[0, 1, 3],
            &[0, 1, 3],
            &[0, 1, 3],
            &[0, 1, 2],
            &[0, 1, 2],
        ];
        let opt = check_steps(Policy::Opt, latest, 3, OSTEP, &lists, &[2, 3]);
        assert_eq!((opt.hits, opt.faults), (6, 5));
        lists[9] = &[1, 3, 2];
        lists[10] = &[1, 3, 2];
        let opt = check_steps(
            Policy::Opt,
            ReplacerOptions::default(),
            3,
            OSTEP,
            &lists,
            &[2, 0],
        );
        assert_eq!((opt.hits, opt.faults), (6, 5));
    }

    #[test]
    fn counter_clock_worked_by_hand() {
        let two = ReplacerOptions {
            clock_counter_max: Some(2),
            ..ReplacerOptions::default()
        };
        // The module docs' example: listed from the hand.
        let sim = check_steps(
            Policy::Clock,
            two,
            3,
            "1,1,2,3,4,1,5",
            &[
                &[1],
                &[1],
                &[1, 2],
                &[1, 2, 3],
                &[3, 1, 4],
                &[3, 1, 4],
                &[1, 4, 5],
            ],
            &[2, 3],
        );
        assert_eq!((sim.hits, sim.faults), (2, 5));
        // Reference 4: four decrements, then the victim; 5: one look.
        assert_eq!(sim.stats.examined, 6);
        assert_eq!(sim.stats.skipped, 4);
        assert_eq!(sim.stats.accessed_cleared, 0);
        // A bits (one level) evict 1 first, and fault on it again.
        check_sim(Policy::Clock, 3, "1,1,2,3,4,1,5", 6, 0, Some(&[1, 2, 3]));

        // The counters as the replacer keeps them: capped at K, down by one per pass.
        let mut r = Replacer::with_options(Policy::Clock, 0, two);
        r.inserted(7);
        r.inserted(8);
        assert_eq!(r.use_counter(7), Some(1));
        for _ in 0..5 {
            r.referenced(7);
        }
        assert_eq!(r.use_counter(7), Some(2));
        // 7: 2 to 1; 8: 1 to 0; 7: 1 to 0; 8 taken.
        assert_eq!(r.victim(&mut NoBits, None), Some(8));
        assert_eq!(r.use_counter(7), Some(0));
        assert_eq!(r.use_counter(8), None);
        r.removed(7);
        assert_eq!(r.use_counter(7), None);
        assert_eq!(Replacer::new(Policy::Clock, 0).use_counter(7), None);
        // A cap of 0 counts as 1; the option means nothing to other policies.
        let zero = ReplacerOptions {
            clock_counter_max: Some(0),
            ..ReplacerOptions::default()
        };
        let r = refs("1,2,3,1,4,2,5,1,2,3");
        assert_eq!(
            simulate_with(Policy::Clock, 3, &r, 0, zero).steps,
            simulate(Policy::Clock, 3, &r, 0).steps
        );
        assert_eq!(
            simulate_with(Policy::Fifo, 3, &r, 0, two),
            simulate(Policy::Fifo, 3, &r, 0)
        );
    }

    /// Clock over one-level counters is Clock over A bits; more levels never leave a
    /// counter above its cap, and the search ends within `K * n + 1` looks.
    #[test]
    fn counter_clock_properties() {
        let mut rng = Rng::new(7);
        for case in 0..1500 {
            let r = random_refs(&mut rng, 10, 80, true);
            let frames = rng.below(6) as usize;
            let one = ReplacerOptions {
                clock_counter_max: Some(1),
                ..ReplacerOptions::default()
            };
            let a = simulate(Policy::Clock, frames, &r, case);
            let c = simulate_with(Policy::Clock, frames, &r, case, one);
            assert_eq!(a.steps, c.steps, "{frames} frames over {r:?}");
            assert_eq!(
                (a.stats.examined, a.stats.skipped, a.stats.victims),
                (c.stats.examined, c.stats.skipped, c.stats.victims)
            );
            let max = 1 + rng.below(16) as u8;
            let opts = ReplacerOptions {
                clock_counter_max: Some(max),
                ..ReplacerOptions::default()
            };
            let mut rep = Replacer::with_options(Policy::Clock, 0, opts);
            for rf in &r {
                if rep.contains(rf.page) {
                    rep.referenced(rf.page);
                } else if frames > 0 {
                    if rep.resident() >= frames {
                        let before = rep.stats().examined;
                        assert!(rep.victim(&mut NoBits, None).is_some());
                        let looks = rep.stats().examined - before;
                        assert!(looks <= u64::from(max) * frames as u64 + 1);
                    }
                    rep.inserted(rf.page);
                }
                for p in rep.resident_pages() {
                    assert!(rep.use_counter(p).is_some_and(|c| c <= max));
                }
            }
        }
    }

    /// Invariants of the string-only policies and the options, as `simulation_invariants`
    /// checks the kernel's; and OPT with either tie rule makes the fewest faults.
    #[test]
    fn string_only_invariants() {
        let mut rng = Rng::new(4);
        let latest = ReplacerOptions {
            opt_ties_to_latest: true,
            ..ReplacerOptions::default()
        };
        for case in 0..1500 {
            let r = random_refs(&mut rng, 12, 80, false);
            let frames = rng.below(7) as usize;
            let max = 1 + rng.below(16) as u8;
            let counters = ReplacerOptions {
                clock_counter_max: Some(max),
                ..ReplacerOptions::default()
            };
            let opt = simulate(Policy::Opt, frames, &r, 0);
            let runs = [
                simulate(Policy::Mru, frames, &r, case),
                simulate(Policy::Unopt, frames, &r, case),
                simulate_with(Policy::Opt, frames, &r, case, latest),
                simulate_with(Policy::Clock, frames, &r, case, counters),
            ];
            for (i, sim) in runs.iter().enumerate() {
                let what = format!("run {i}, {frames} frames, {r:?}");
                let mut prev: Vec<PageKey> = Vec::new();
                for (step, rf) in sim.steps.iter().zip(&r) {
                    assert_eq!(step.hit, prev.contains(&rf.page), "{what}");
                    if let Some(v) = step.evicted {
                        assert!(prev.contains(&v) && v != rf.page, "{what}");
                        assert!(!step.resident.contains(&v), "{what}");
                        assert_eq!(prev.len(), frames, "evicted before full: {what}");
                    }
                    if frames > 0 {
                        assert!(step.resident.contains(&rf.page), "{what}");
                    }
                    assert!(step.resident.len() <= frames, "{what}");
                    prev.clone_from(&step.resident);
                }
                assert!(opt.faults <= sim.faults, "{what}");
            }
            assert_eq!(runs[2].faults, opt.faults, "OPT's tie rule, {r:?}");
        }
    }

    // ---- Replacer scripts with explicit bits -----------------------------------------------

    /// Bits a test sets by hand.
    #[derive(Default)]
    struct TestBits(BTreeMap<PageKey, (bool, bool)>);

    impl PageBits for TestBits {
        fn accessed(&mut self, page: PageKey) -> bool {
            self.0.get(&page).is_some_and(|b| b.0)
        }
        fn clear_accessed(&mut self, page: PageKey) {
            if let Some(b) = self.0.get_mut(&page) {
                b.0 = false;
            }
        }
        fn dirty(&mut self, page: PageKey) -> bool {
            self.0.get(&page).is_some_and(|b| b.1)
        }
    }

    /// One step of a script.
    enum Op {
        /// `inserted`.
        Ins(PageKey),
        /// `referenced`.
        Ref(PageKey),
        /// `removed`.
        Rem(PageKey),
        /// Sets the (A, D) bits of a page.
        Bits(PageKey, bool, bool),
        /// `victim` (without a future) must return this; the victim's bits are forgotten.
        Victim(Option<PageKey>),
        /// `resident_pages` must be this.
        Order(&'static [PageKey]),
        /// (accessed_cleared, skipped, passes) must be these.
        Counts(u64, u64, u64),
    }

    fn check_script(policy: Policy, ops: &[Op]) {
        use Op::*;
        let mut r = Replacer::new(policy, 1);
        let mut bits = TestBits::default();
        for (i, op) in ops.iter().enumerate() {
            let at = format!("{policy}, op {i}");
            match *op {
                Ins(p) => r.inserted(p),
                Ref(p) => r.referenced(p),
                Rem(p) => r.removed(p),
                Bits(p, a, d) => {
                    bits.0.insert(p, (a, d));
                }
                Victim(want) => {
                    let got = r.victim(&mut bits, None);
                    assert_eq!(got, want, "victim at {at}");
                    if let Some(v) = got {
                        bits.0.remove(&v);
                        assert!(!r.contains(v), "{at}");
                    }
                }
                Order(want) => assert_eq!(r.resident_pages(), want, "order at {at}"),
                Counts(cleared, skipped, passes) => {
                    let s = r.stats();
                    assert_eq!(
                        (s.accessed_cleared, s.skipped, s.passes),
                        (cleared, skipped, passes),
                        "counters at {at}"
                    );
                }
            }
            assert_eq!(r.resident(), r.resident_pages().len(), "{at}");
        }
    }

    #[test]
    fn clock_insertion_rule() {
        use Op::*;
        check_script(
            Policy::Clock,
            &[
                // No victim yet: appended in order, the hand on the first.
                Ins(1),
                Ins(2),
                Ins(3),
                Order(&[1, 2, 3]),
                Victim(Some(1)),
                Order(&[2, 3]),
                // The new page takes the victim's place, just behind the hand.
                Ins(4),
                Order(&[2, 3, 4]),
                Victim(Some(2)),
                Ins(5),
                Order(&[3, 4, 5]),
                // 3 gets a second chance; 4 goes; 3 now sits behind 5.
                Bits(3, true, false),
                Victim(Some(4)),
                Order(&[5, 3]),
                Ins(6),
                Order(&[5, 3, 6]),
                Counts(1, 1, 0),
                Victim(Some(5)),
                Victim(Some(3)),
                Victim(Some(6)),
                Victim(None),
                Order(&[]),
                // Empty again: the next page starts a new circle with the hand on it.
                Ins(7),
                Ins(8),
                Order(&[7, 8]),
            ],
        );
    }

    #[test]
    fn clock_second_chances_clear_a_bits() {
        use Op::*;
        check_script(
            Policy::Clock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                Ins(4),
                Bits(1, true, true),
                Bits(2, false, true),
                Bits(3, true, false),
                Bits(4, false, false),
                // 1 is spared (A cleared), 2 goes although dirty: Clock ignores D.
                Victim(Some(2)),
                Order(&[3, 4, 1]),
                Counts(1, 1, 0),
                // 3 is spared, 4 goes.
                Victim(Some(4)),
                Order(&[1, 3]),
                Counts(2, 2, 0),
                // Every A set: a full turn clears them all and the first comes round again.
                Bits(1, true, false),
                Bits(3, true, false),
                Victim(Some(1)),
                Order(&[3]),
                Counts(4, 4, 0),
            ],
        );
    }

    #[test]
    fn clock_removal_at_the_hand() {
        use Op::*;
        check_script(
            Policy::Clock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                Ins(4),
                Victim(Some(1)),
                Order(&[2, 3, 4]),
                // The hand was on 2: it moves on to 3.
                Rem(2),
                Order(&[3, 4]),
                Ins(5),
                Order(&[3, 4, 5]),
                // Removing a page behind the hand leaves the hand alone.
                Rem(5),
                Rem(5),
                Rem(99),
                Order(&[3, 4]),
                Victim(Some(3)),
            ],
        );
    }

    #[test]
    fn enhanced_clock_prefers_clean_pages() {
        use Op::*;
        check_script(
            Policy::EnhancedClock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                Bits(1, false, true),
                Bits(2, false, true),
                Bits(3, false, false),
                // Pass 1 passes the dirty 1 and 2 and takes the clean 3.
                Victim(Some(3)),
                Order(&[1, 2]),
                Counts(0, 2, 1),
                Ins(4),
                Order(&[1, 2, 4]),
                // 4 is (1,0); 1 and 2 (0,1): pass 1 finds nothing, pass 2 takes 1.
                Bits(4, true, false),
                Victim(Some(1)),
                Order(&[2, 4]),
                Counts(0, 5, 3),
            ],
        );
    }

    #[test]
    fn enhanced_clock_passes_clear_a_bits() {
        use Op::*;
        check_script(
            Policy::EnhancedClock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                // Pass 1: none is (0,0). Pass 2: clears 1, 2, 3, none was (0,1) when looked
                // at. Pass 3: 1 is (0,1), 2 is (0,0) now.
                Bits(1, true, true),
                Bits(2, true, false),
                Bits(3, true, true),
                Victim(Some(2)),
                Order(&[3, 1]),
                Counts(3, 7, 3),
            ],
        );
        check_script(
            Policy::EnhancedClock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                // All (1,1): four passes, and the page at the hand goes.
                Bits(1, true, true),
                Bits(2, true, true),
                Bits(3, true, true),
                Victim(Some(1)),
                Order(&[2, 3]),
                Counts(3, 9, 4),
            ],
        );
        check_script(
            Policy::EnhancedClock,
            &[
                Ins(1),
                Ins(2),
                Ins(3),
                // Pass 2 clears 1, then finds 2 (0,1); 3 keeps its A bit.
                Bits(1, true, false),
                Bits(2, false, true),
                Bits(3, true, true),
                Victim(Some(2)),
                Order(&[3, 1]),
                Counts(1, 4, 2),
                // 1 is (0,0) now.
                Victim(Some(1)),
            ],
        );
    }

    #[test]
    fn fifo_lru_opt_scripts() {
        use Op::*;
        check_script(
            Policy::Fifo,
            &[
                Victim(None),
                Ins(1),
                Ins(2),
                Ins(1),
                Ref(1),
                Ref(9),
                Rem(9),
                Order(&[1, 2]),
                Victim(Some(1)),
                Victim(Some(2)),
                Victim(None),
            ],
        );
        check_script(
            Policy::Lru,
            &[
                Victim(None),
                Ins(1),
                Ins(2),
                Ins(3),
                Ref(1),
                Order(&[2, 3, 1]),
                // Referencing the most recent page, or a page not resident, changes nothing.
                Ref(1),
                Ref(42),
                Order(&[2, 3, 1]),
                // Re-inserting a resident page counts as a reference.
                Ins(2),
                Order(&[3, 1, 2]),
                Ref(3),
                Order(&[1, 2, 3]),
                Rem(2),
                Order(&[1, 3]),
                Victim(Some(1)),
                Ref(3),
                Victim(Some(3)),
                Victim(None),
                Ref(3),
                Order(&[]),
            ],
        );
        // OPT without a future is FIFO; references do not matter.
        check_script(
            Policy::Opt,
            &[
                Ins(5),
                Ins(6),
                Ins(7),
                Ref(5),
                Victim(Some(5)),
                Victim(Some(6)),
            ],
        );
    }

    #[test]
    fn opt_ties_go_to_the_earliest_inserted() {
        let mut r = Replacer::new(Policy::Opt, 0);
        for p in [4, 9, 2, 7] {
            r.inserted(p);
        }
        let next = |p: PageKey| match p {
            4 => Some(10),
            9 => None,
            2 => Some(30),
            _ => None,
        };
        // 9 and 7 are never used again: 9, inserted first, goes first.
        assert_eq!(r.victim(&mut NoBits, Some(&next)), Some(9));
        assert_eq!(r.victim(&mut NoBits, Some(&next)), Some(7));
        assert_eq!(r.victim(&mut NoBits, Some(&next)), Some(2));
        // Equal positions (a Future may report them): the earliest inserted.
        r.inserted(8);
        let same = |_: PageKey| Some(5);
        assert_eq!(r.victim(&mut NoBits, Some(&same)), Some(4));
        assert_eq!(r.victim(&mut NoBits, Some(&same)), Some(8));
        assert_eq!(r.victim(&mut NoBits, Some(&same)), None);
        assert_eq!(r.stats().victims, 5);
    }

    #[test]
    fn lookahead_positions() {
        let mut f = Lookahead::new(&[3, 1, 3, 2, 1]);
        let uses = |f: &Lookahead| [1, 2, 3, 4].map(|p| f.next_use(p));
        assert_eq!(uses(&f), [Some(1), Some(3), Some(0), None]);
        f.advance();
        assert_eq!(uses(&f), [Some(1), Some(3), Some(2), None]);
        f.advance();
        assert_eq!(uses(&f), [Some(4), Some(3), Some(2), None]);
        f.advance();
        assert_eq!(uses(&f), [Some(4), Some(3), None, None]);
        f.advance();
        f.advance();
        assert_eq!(f.position(), 5);
        assert_eq!(uses(&f), [None; 4]);
        f.advance();
        assert_eq!(f.position(), 5);
    }

    #[test]
    fn misbehaving_bits_do_not_hang() {
        /// A bits that never clear.
        struct Stuck;
        impl PageBits for Stuck {
            fn accessed(&mut self, _: PageKey) -> bool {
                true
            }
            fn clear_accessed(&mut self, _: PageKey) {}
            fn dirty(&mut self, _: PageKey) -> bool {
                true
            }
        }
        // Clock gives up after 2n + 1 = 7 looks, the hand having gone round to 2; enhanced
        // Clock after four passes, the hand back at 1. Each takes the page at the hand.
        for (policy, victim, left) in [
            (Policy::Clock, 2, [3, 1]),
            (Policy::EnhancedClock, 1, [2, 3]),
        ] {
            let mut r = Replacer::new(policy, 0);
            for p in 1..=3 {
                r.inserted(p);
            }
            assert_eq!(r.victim(&mut Stuck, None), Some(victim), "{policy}");
            assert_eq!(r.resident_pages(), left, "{policy}");
        }
    }

    // ---- Random -----------------------------------------------------------------------------

    #[test]
    fn random_is_deterministic_per_seed() {
        let r = refs("0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,2,4,6,8,1,3,5,7,9");
        let runs: Vec<Sim> = (0..8)
            .map(|seed| simulate(Policy::Random, 4, &r, seed))
            .collect();
        for (seed, run) in runs.iter().enumerate() {
            assert_eq!(*run, simulate(Policy::Random, 4, &r, seed as u64));
        }
        assert!(
            runs.iter().any(|run| run.victims() != runs[0].victims()),
            "eight seeds all chose the same victims"
        );
    }

    #[test]
    fn random_draws_are_uniform() {
        let mut rng = Rng::new(11);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        // Expect 10 000 each; a fair generator stays well within 5%.
        assert!(
            counts.iter().all(|&c| (9_500..=10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(Rng::new(0).below(1), 0);
        let mut big = Rng::new(3);
        assert!((0..100).all(|_| big.below(u64::MAX) < u64::MAX));
    }

    // ---- Properties over seeded random strings ---------------------------------------------

    /// Invariants every policy keeps on any string.
    #[test]
    fn simulation_invariants() {
        let mut rng = Rng::new(1);
        for case in 0..1500 {
            let r = random_refs(&mut rng, 12, 80, true);
            let frames = rng.below(7) as usize;
            for policy in Policy::ALL {
                let sim = simulate(policy, frames, &r, case);
                let what = format!("{policy}, {frames} frames, case {case}");
                let mut prev: Vec<PageKey> = Vec::new();
                let mut dirty: Vec<PageKey> = Vec::new();
                let mut writebacks = 0;
                for (step, rf) in sim.steps.iter().zip(&r) {
                    assert_eq!(step.hit, prev.contains(&rf.page), "{what}");
                    if let Some(v) = step.evicted {
                        assert!(prev.contains(&v) && v != rf.page, "{what}");
                        assert!(!step.resident.contains(&v), "{what}");
                        assert_eq!(prev.len(), frames, "evicted before full: {what}");
                        assert_eq!(step.writeback, dirty.contains(&v), "{what}");
                        writebacks += u64::from(step.writeback);
                        dirty.retain(|&d| d != v);
                    } else {
                        assert!(!step.writeback, "{what}");
                    }
                    if frames > 0 {
                        assert!(step.resident.contains(&rf.page), "{what}");
                        if rf.write && !dirty.contains(&rf.page) {
                            dirty.push(rf.page);
                        }
                    }
                    assert!(step.resident.len() <= frames, "{what}");
                    let mut sorted = step.resident.clone();
                    sorted.sort_unstable();
                    sorted.dedup();
                    assert_eq!(sorted.len(), step.resident.len(), "duplicate: {what}");
                    prev.clone_from(&step.resident);
                }
                assert_eq!(sim.writebacks, writebacks, "{what}");
                assert_eq!(sim.stats.victims, sim.victims().len() as u64, "{what}");
            }
        }
    }

    /// OPT never faults more than any policy on the same string and frame count.
    #[test]
    fn opt_is_optimal() {
        let mut rng = Rng::new(2);
        for case in 0..3000 {
            let r = random_refs(&mut rng, 10, 60, true);
            let frames = 1 + rng.below(6) as usize;
            let opt = simulate(Policy::Opt, frames, &r, 0).faults;
            for policy in Policy::ALL {
                let other = simulate(policy, frames, &r, case).faults;
                assert!(
                    opt <= other,
                    "OPT {opt} > {policy} {other}, {frames} frames, {r:?}"
                );
            }
        }
    }

    /// LRU and OPT are stack algorithms: more frames never mean more faults. For LRU the
    /// resident set with `f` frames is moreover the `f` most recently used pages.
    #[test]
    fn stack_algorithms_have_no_anomaly() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let r = random_refs(&mut rng, 10, 80, false);
            for policy in [Policy::Lru, Policy::Opt] {
                let runs: Vec<Sim> = (1..=8).map(|f| simulate(policy, f, &r, 0)).collect();
                for pair in runs.windows(2) {
                    assert!(pair[1].faults <= pair[0].faults, "{policy} over {r:?}");
                }
            }
            let lru: Vec<Sim> = (1..=8).map(|f| simulate(Policy::Lru, f, &r, 0)).collect();
            for pair in lru.windows(2) {
                for (small, large) in pair[0].steps.iter().zip(&pair[1].steps) {
                    let tail = large.resident.len().saturating_sub(small.resident.len());
                    assert_eq!(small.resident[..], large.resident[tail..], "LRU over {r:?}");
                }
            }
        }
    }

    #[test]
    fn key_hasher_spreads_packed_keys() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<KeyHasher>::default();
        // Same page number in different processes (the pid in the high bits): the low bits
        // of the hashes, which pick the bucket, must differ.
        let low: std::collections::BTreeSet<u64> = (0..64u64)
            .map(|pid| build.hash_one((pid << 48) | 5) & 0xfff)
            .collect();
        assert!(low.len() > 60, "{}", low.len());
        let mut h = KeyHasher::default();
        h.write(b"abc");
        assert_ne!(h.finish(), 0);
    }
}
