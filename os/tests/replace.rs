//! The replacement policies driven through the public API only, the way the kernel drives
//! them: page keys packing a pid and a page number, bits kept in "page-table entries", pages
//! leaving on process exit.

use std::collections::BTreeMap;

use vmlab_os::replace::{
    parse_refs, simulate, Future, Lookahead, PageBits, PageKey, Policy, Replacer,
};
use vmlab_os::workingset::WorkingSet;

fn key(pid: u64, vpn: u64) -> PageKey {
    (pid << 48) | vpn
}

/// PTE bits, counting the PTE writes that clearing A costs.
#[derive(Default)]
struct Ptes {
    bits: BTreeMap<PageKey, (bool, bool)>,
    writes: u64,
}

impl Ptes {
    fn access(&mut self, page: PageKey, write: bool) {
        let b = self.bits.entry(page).or_default();
        b.0 = true;
        b.1 |= write;
    }
}

impl PageBits for Ptes {
    fn accessed(&mut self, page: PageKey) -> bool {
        self.bits.get(&page).is_some_and(|b| b.0)
    }
    fn clear_accessed(&mut self, page: PageKey) {
        if let Some(b) = self.bits.get_mut(&page) {
            b.0 = false;
            self.writes += 1;
        }
    }
    fn dirty(&mut self, page: PageKey) -> bool {
        self.bits.get(&page).is_some_and(|b| b.1)
    }
}

/// A tiny kernel: global replacement over `frames` frames for interleaved processes.
fn run(policy: Policy, frames: usize, refs: &[(u64, u64, bool)]) -> (Vec<PageKey>, Replacer, u64) {
    let mut r = Replacer::new(policy, 9);
    let mut ptes = Ptes::default();
    let keys: Vec<PageKey> = refs.iter().map(|&(p, v, _)| key(p, v)).collect();
    let mut future = Lookahead::new(&keys);
    let mut victims = Vec::new();
    for &(pid, vpn, write) in refs {
        let k = key(pid, vpn);
        if r.contains(k) {
            r.referenced(k);
        } else {
            if r.resident() == frames {
                let fut: Option<&dyn Future> = (policy == Policy::Opt).then_some(&future);
                let v = r.victim(&mut ptes, fut).expect("frames are full");
                ptes.bits.remove(&v);
                victims.push(v);
            }
            r.inserted(k);
        }
        ptes.access(k, write);
        future.advance();
    }
    (victims, r, ptes.writes)
}

#[test]
fn kernel_style_global_replacement() {
    // Two processes with the same page numbers; the keys keep them apart.
    let refs = [
        (1, 0, false),
        (2, 0, true),
        (1, 1, false),
        (2, 0, false),
        (1, 2, false),
        (2, 1, false),
        (1, 0, false),
    ];
    // Worked by hand; a = (1,0), b = (2,0) (written), c = (1,1), d = (1,2), e = (2,1).
    let (a, b, c) = (key(1, 0), key(2, 0), key(1, 1));
    let (v, _, _) = run(Policy::Fifo, 3, &refs);
    assert_eq!(v, [a, b, c]);
    // LRU: the hit on b at the fourth reference saves it until the last fault.
    let (v, _, _) = run(Policy::Lru, 3, &refs);
    assert_eq!(v, [a, c, b]);
    // Clock: at d every A is set, a full turn clears all three and a goes; then b and c
    // have A clear and go in circle order.
    let (v, r, writes) = run(Policy::Clock, 3, &refs);
    assert_eq!(v, [a, b, c]);
    assert_eq!(r.stats().accessed_cleared, writes);
    assert_eq!(writes, 3);
    // Enhanced Clock: at e the hand passes the dirty b, (0,1), for the clean c, (0,0).
    let (v, _, _) = run(Policy::EnhancedClock, 3, &refs);
    assert_eq!(v, [a, c, b]);
    // Every policy agrees with the simulator when the keys are plain numbers.
    let flat: Vec<_> = refs.iter().map(|&(p, v, w)| (0, p * 10 + v, w)).collect();
    let text: Vec<String> = flat
        .iter()
        .map(|&(_, v, w)| format!("{v}{}", if w { "w" } else { "" }))
        .collect();
    let parsed = parse_refs(&text.join(" ")).expect("valid string");
    for policy in Policy::ALL {
        let (v, _, _) = run(policy, 3, &flat);
        assert_eq!(v, simulate(policy, 3, &parsed, 9).victims(), "{policy}");
    }
}

#[test]
fn process_exit_removes_its_pages() {
    for policy in Policy::ALL {
        let mut r = Replacer::new(policy, 1);
        for vpn in 0..4 {
            r.inserted(key(1, vpn));
            r.inserted(key(2, vpn));
        }
        for vpn in 0..4 {
            r.removed(key(1, vpn));
        }
        r.removed(key(3, 0));
        assert_eq!(r.resident(), 4, "{policy}");
        assert_eq!(r.stats().removed, 4, "{policy}");
        let mut left = Vec::new();
        while let Some(v) = r.victim(&mut Ptes::default(), None) {
            left.push(v);
        }
        left.sort_unstable();
        assert_eq!(
            left,
            (0..4).map(|v| key(2, v)).collect::<Vec<_>>(),
            "{policy}"
        );
    }
}

#[test]
fn working_set_of_one_process() {
    let mut ws = WorkingSet::new(4);
    let sizes: Vec<usize> = [1, 2, 3, 1, 1, 1, 1, 2]
        .into_iter()
        .map(|p| {
            ws.reference(p);
            ws.size()
        })
        .collect();
    assert_eq!(sizes, [1, 2, 3, 3, 3, 2, 1, 2]);
}
