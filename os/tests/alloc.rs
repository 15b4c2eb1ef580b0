//! Property tests of the allocators over seeded random operation sequences: placement with
//! compaction, fixed partitions, and the buddy allocator. Each checks the structure's
//! invariants after every operation, and the policy's choice against a direct reading of its
//! rule over the state before the operation.

use std::collections::BTreeMap;

use vmlab_os::buddy::Buddy;
use vmlab_os::partition::{PartitionError, Partitions};
use vmlab_os::placement::{Fit, Memory, Move, PlaceError, Region};

/// SplitMix64: a small deterministic generator for the test sequences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Blocks and holes tile the range exactly, holes are never adjacent, every region is
/// granule-aligned and non-empty, the blocks are the model's, and the figures agree.
fn check_memory(mem: &Memory, model: &BTreeMap<u64, (u64, u64)>, context: &str) {
    let mut regions: Vec<(Region, bool)> = mem
        .blocks()
        .map(|(_, r)| (r, false))
        .chain(mem.holes().map(|r| (r, true)))
        .collect();
    regions.sort_by_key(|(r, _)| r.base);
    let mut at = mem.base();
    let mut previous_hole = false;
    for &(r, hole) in &regions {
        assert_eq!(r.base, at, "{context}: gap or overlap at {at:#x}");
        assert!(r.size > 0, "{context}: empty region at {at:#x}");
        assert_eq!(r.base % mem.granule(), 0, "{context}: misaligned {r}");
        assert_eq!(r.size % mem.granule(), 0, "{context}: ragged {r}");
        assert!(
            !(hole && previous_hole),
            "{context}: adjacent holes at {at:#x}"
        );
        previous_hole = hole;
        at = r.end();
    }
    assert_eq!(at, mem.end(), "{context}: the tiling stops short");
    let blocks: BTreeMap<u64, (u64, u64)> = mem
        .blocks()
        .map(|(owner, r)| (r.base, (owner, r.size)))
        .collect();
    assert_eq!(&blocks, model, "{context}: blocks differ from the model");
    let f = mem.fragmentation();
    let holes: Vec<Region> = mem.holes().collect();
    assert_eq!(f.free_bytes, holes.iter().map(|h| h.size).sum::<u64>());
    assert_eq!(f.holes, holes.len() as u64);
    assert_eq!(
        f.largest_hole,
        holes.iter().map(|h| h.size).max().unwrap_or(0)
    );
    assert_eq!(f.free_bytes + f.allocated_bytes, mem.size());
    assert!((0.0..1.0).contains(&f.external()));
}

/// The hole base each policy must choose for `need` bytes, read directly off the rules.
fn expected_choice(fit: Fit, holes: &[Region], rover: u64, need: u64) -> Option<u64> {
    let fits = |h: &&Region| h.size >= need;
    match fit {
        Fit::First => holes.iter().find(fits).map(|h| h.base),
        Fit::Next => {
            // The hole containing the rover, else the first hole above it, else wrap.
            let start = holes
                .iter()
                .position(|h| h.end() > rover)
                .unwrap_or(holes.len());
            holes[start..]
                .iter()
                .chain(&holes[..start])
                .find(fits)
                .map(|h| h.base)
        }
        Fit::Best => holes
            .iter()
            .filter(fits)
            .min_by_key(|h| (h.size, h.base))
            .map(|h| h.base),
        Fit::Worst => holes
            .iter()
            .filter(fits)
            .max_by_key(|h| (h.size, std::cmp::Reverse(h.base)))
            .map(|h| h.base),
    }
}

/// Copies the compaction moves one after another over a cell-per-granule picture of memory,
/// checking that no move overwrites a block that has not moved yet, and that afterwards every
/// block's content sits where the plan put it.
fn check_compaction_copy(mem: &Memory, plan: &[Move]) {
    let g = mem.granule();
    let cells = (mem.size() / g) as usize;
    let cell = |addr: u64| ((addr - mem.base()) / g) as usize;
    // Each cell holds (owner, offset within the block) or None for free memory.
    let mut picture: Vec<Option<(u64, u64)>> = vec![None; cells];
    for (owner, r) in mem.blocks() {
        for i in 0..r.size / g {
            picture[cell(r.base) + i as usize] = Some((owner, i));
        }
    }
    for (i, m) in plan.iter().enumerate() {
        assert!(m.to < m.from, "move {i} does not move down: {m:?}");
        let dest = m.to..m.to + m.size;
        // Blocks not yet moved: later moves' sources, and blocks that stay put.
        for later in &plan[i + 1..] {
            assert!(
                dest.end <= later.from || later.from + later.size <= dest.start,
                "move {i} {m:?} overwrites the unmoved {later:?}"
            );
        }
        let src: Vec<_> = picture[cell(m.from)..cell(m.from + m.size)].to_vec();
        picture[cell(m.to)..cell(m.to + m.size)].copy_from_slice(&src);
    }
    let mut to = mem.base();
    let planned: BTreeMap<u64, u64> = plan.iter().map(|m| (m.from, m.to)).collect();
    for (owner, r) in mem.blocks() {
        let dest = planned.get(&r.base).copied().unwrap_or(r.base);
        assert_eq!(dest, to, "the plan does not pack block {r}");
        for i in 0..r.size / g {
            assert_eq!(picture[cell(dest) + i as usize], Some((owner, i)));
        }
        to += r.size;
    }
}

#[test]
fn placement_properties() {
    for fit in Fit::ALL {
        for seed in 1..=12 {
            let granule = [1, 16, 64][(seed % 3) as usize];
            let size = granule * 1024;
            let base = granule * 256;
            let mut rng = Rng(seed * 7919 + fit as u64);
            let mut mem = Memory::with_granule(base, size, fit, granule).unwrap();
            let mut model: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
            let mut next_owner = 0;
            for step in 0..1500 {
                let context = format!("{fit} seed {seed} step {step}");
                let roll = rng.range(0, 99);
                if roll < 55 || model.is_empty() {
                    let want = rng.range(1, granule * 96);
                    let need = want.div_ceil(granule) * granule;
                    let holes: Vec<Region> = mem.holes().collect();
                    let expected = expected_choice(fit, &holes, mem.rover(), need);
                    next_owner += 1;
                    let got = mem.allocate(next_owner, want);
                    assert_eq!(got, expected, "{context}: allocate {want}");
                    if let Some(at) = got {
                        assert_eq!(mem.rover(), at + need, "{context}: rover");
                        model.insert(at, (next_owner, need));
                    }
                } else if roll < 85 {
                    let k = rng.range(0, model.len() as u64 - 1) as usize;
                    let (&at, &(_, sz)) = model.iter().nth(k).unwrap();
                    assert_eq!(mem.free(at), Ok(Region { base: at, size: sz }), "{context}");
                    model.remove(&at);
                    assert!(
                        matches!(mem.free(at), Err(PlaceError::DoubleFree { .. })),
                        "{context}: second free of {at:#x}"
                    );
                } else if roll < 95 {
                    let k = rng.range(0, model.len() as u64 - 1) as usize;
                    let (&at, &(owner, sz)) = model.iter().nth(k).unwrap();
                    let want = rng.range(1, granule * 128);
                    let need = want.div_ceil(granule) * granule;
                    let room = mem
                        .holes()
                        .find(|h| h.base == at + sz)
                        .map_or(0, |h| h.size);
                    let result = mem.resize_in_place(at, want);
                    if need <= sz + room {
                        assert_eq!(
                            result,
                            Ok(Region {
                                base: at,
                                size: need
                            }),
                            "{context}"
                        );
                        model.insert(at, (owner, need));
                    } else {
                        assert!(
                            matches!(result, Err(PlaceError::NoRoom { .. })),
                            "{context}: {result:?}"
                        );
                    }
                } else {
                    let plan = mem.compaction_plan();
                    check_compaction_copy(&mem, &plan);
                    let moved: u64 = plan.iter().map(|m| m.size).sum();
                    let before = mem.stats().bytes_moved;
                    if rng.chance(50) {
                        mem.apply_compaction(&plan).unwrap();
                    } else {
                        assert_eq!(mem.compact(), plan);
                    }
                    assert_eq!(mem.stats().bytes_moved - before, moved);
                    let planned: BTreeMap<u64, u64> = plan.iter().map(|m| (m.from, m.to)).collect();
                    model = model
                        .into_iter()
                        .map(|(at, v)| (planned.get(&at).copied().unwrap_or(at), v))
                        .collect();
                    let holes: Vec<Region> = mem.holes().collect();
                    assert!(holes.len() <= 1, "{context}: {holes:?}");
                    if let Some(h) = holes.first() {
                        assert_eq!(h.end(), mem.end(), "{context}: the hole is not at the top");
                    }
                    assert!(mem.compaction_plan().is_empty());
                }
                check_memory(&mem, &model, &context);
            }
            let s = mem.stats();
            assert!(s.allocations > 0 && s.frees > 0 && s.compactions > 0);
            // The sequences reach the interesting paths: refusals, both resize outcomes, real
            // moves and merges.
            assert!(s.failures > 0 && s.resize_failures > 0 && s.grows > 0 && s.shrinks > 0);
            assert!(
                s.blocks_moved > 0 && s.coalesces > 0,
                "{fit} seed {seed}: {s:?}"
            );
        }
    }
}

#[test]
fn partition_properties() {
    for seed in 1..=20 {
        let mut rng = Rng(seed);
        let sizes: Vec<u64> = (0..rng.range(1, 8))
            .map(|_| rng.range(1, 64) * 16)
            .collect();
        let mut parts = Partitions::new(4096, &sizes).unwrap();
        let mut waste = BTreeMap::new();
        for step in 0..500 {
            let context = format!("seed {seed} step {step}");
            if rng.chance(60) {
                let size = rng.range(0, 1100);
                let before: Vec<_> = parts.partitions().to_vec();
                let best = before
                    .iter()
                    .filter(|p| p.occupant.is_none() && p.size >= size)
                    .min_by_key(|p| (p.size, p.index))
                    .map(|p| p.index);
                match parts.try_allocate(step, size) {
                    Ok(slot) => {
                        assert_eq!(Some(slot.index), best, "{context}");
                        waste.insert(slot.index, slot.size - size);
                    }
                    Err(PartitionError::AllBusy { .. }) => {
                        assert_eq!(best, None, "{context}");
                        assert!(before.iter().any(|p| p.size >= size), "{context}");
                    }
                    Err(PartitionError::TooLarge { .. }) => {
                        assert!(before.iter().all(|p| p.size < size), "{context}");
                    }
                    Err(e) => panic!("{context}: {e}"),
                }
            } else {
                let index = rng.range(0, sizes.len() as u64) as usize;
                match parts.free(index) {
                    Ok(_) => assert!(waste.remove(&index).is_some(), "{context}"),
                    Err(PartitionError::NotOccupied { .. }) => {
                        assert!(!waste.contains_key(&index), "{context}")
                    }
                    Err(PartitionError::NoSuchPartition { .. }) => {
                        assert_eq!(index, sizes.len(), "{context}")
                    }
                    Err(e) => panic!("{context}: {e}"),
                }
            }
            assert_eq!(
                parts.internal_fragmentation(),
                waste.values().sum::<u64>(),
                "{context}"
            );
        }
        let s = parts.stats();
        assert!(
            s.allocations > 0 && s.busy > 0 && s.too_large > 0,
            "seed {seed}: {s:?}"
        );
    }
}

/// Allocated and free blocks are aligned, within range, and tile it exactly; no two free
/// buddies of the same order below the maximum are both free; the counts agree.
fn check_buddy(b: &Buddy, context: &str) {
    let mut blocks: Vec<(u64, u8, bool)> = b
        .allocated_blocks()
        .map(|(f, k)| (f, k, true))
        .chain(b.free_layout().into_iter().map(|(f, k)| (f, k, false)))
        .collect();
    blocks.sort_unstable();
    let mut at = b.first();
    let mut allocated = 0;
    for &(f, k, used) in &blocks {
        assert_eq!(f, at, "{context}: gap or overlap at frame {at}");
        assert_eq!(f % (1u64 << k), 0, "{context}: misaligned block {f}/o{k}");
        assert!(k <= b.max_order(), "{context}");
        if used {
            allocated += 1u64 << k;
            assert!(b.is_allocated(f) && b.is_allocated(f + (1u64 << k) - 1));
        } else {
            assert!(!b.is_allocated(f));
            if k < b.max_order() {
                let buddy = f ^ (1u64 << k);
                assert!(
                    !b.free_list(k).any(|g| g == buddy),
                    "{context}: free buddies {f} and {buddy} of order {k} did not merge"
                );
            }
        }
        at = f + (1u64 << k);
    }
    assert_eq!(at, b.end(), "{context}: the tiling stops short");
    assert_eq!(allocated, b.allocated_frames(), "{context}");
    assert_eq!(b.free_frames() + allocated, b.frames(), "{context}");
}

#[test]
fn buddy_properties() {
    for seed in 1..=40 {
        let mut rng = Rng(seed * 104_729);
        let first = rng.range(0, 100);
        let frames = rng.range(1, 300);
        let max_order = rng.range(0, 6) as u8;
        let mut b = Buddy::new(first, frames, max_order).unwrap();
        let initial = b.free_layout();
        check_buddy(&b, "initial");
        let mut live: Vec<(u64, u8)> = Vec::new();
        for step in 0..800 {
            let context = format!("seed {seed} step {step}");
            if rng.chance(55) || live.is_empty() {
                let order = rng.range(0, u64::from(max_order) + 1) as u8;
                let possible = (order..=max_order).any(|k| b.free_blocks(k) > 0);
                let smallest = (order..=max_order).find(|&k| b.free_blocks(k) > 0);
                let lowest = smallest.and_then(|k| b.free_list(k).next());
                match b.alloc(order) {
                    Some(f) => {
                        assert!(possible, "{context}");
                        assert_eq!(Some(f), lowest, "{context}: not the lowest of the smallest");
                        live.push((f, order));
                    }
                    None => assert!(!possible, "{context}: order {order} refused"),
                }
            } else {
                let i = rng.range(0, live.len() as u64 - 1) as usize;
                let (f, k) = live.swap_remove(i);
                if k > 0 {
                    assert!(b.free(f, k - 1).is_err(), "{context}: wrong order accepted");
                }
                if k > 0 {
                    let inside = f + (1u64 << k) - 1;
                    assert!(
                        b.free(inside, k).is_err(),
                        "{context}: inside frame accepted"
                    );
                }
                assert_eq!(b.free(f, k), Ok(()), "{context}");
                assert!(b.free(f, k).is_err(), "{context}: double free accepted");
            }
            check_buddy(&b, &context);
        }
        for (f, k) in live.drain(..) {
            b.free(f, k).unwrap();
        }
        check_buddy(&b, "all freed");
        assert_eq!(b.free_layout(), initial, "seed {seed}: everything freed");
        assert_eq!(b.free_frames(), frames);
        let s = b.stats();
        assert_eq!(s.allocs, s.frees);
        assert!(s.failures > 0, "seed {seed}: {s:?}");
        assert!(max_order == 0 || s.merges > 0, "seed {seed}: {s:?}");
    }
}
