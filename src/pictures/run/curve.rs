//! The fault curve: page faults against the number of frames, for FIFO, LRU, Clock and OPT,
//! over the run's own reference string.
//!
//! The reference string is the concatenation of every `refs` record in order; a page is the
//! pair (process, virtual page number). Cold misses count as faults, as the textbooks and
//! `vmlab policy` count them.
//!
//! LRU and OPT are stack algorithms: with `n` frames each keeps the top `n` pages of one
//! stack, so one pass over the string gives the faults for every frame count at once
//! (Mattson, Gecsei, Slutz and Traiger, 1970). [`lru_faults`] finds each reference's LRU
//! stack distance with a Fenwick tree over the times of last use (O(L log L) for a string of
//! L references); [`opt_faults`] keeps Mattson's priority stack, the priority of a page being
//! its next use (found by a backward pass), and carries the displaced page down only as far
//! as the referenced page's depth, and never below the deepest frame count asked for
//! (O(L · min(depth, N))). FIFO and Clock are not stack algorithms (Belady's anomaly), so
//! [`replay_faults`] replays the string through the kernel's own [`Replacer`] once per frame
//! count (O(L) each); [`frame_counts`] chooses which counts when the string is long.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::Serialize;
use vmlab_os::replace::{PageBits, Policy, Replacer};

use super::timefigs::{line_legend, x_axis, y_axis, Scale};
use crate::pictures::html::{Figure, Section, Table};
use crate::pictures::svg::{thousands, Anchor, Svg, INK};
use crate::pictures::trace::{Event, Trace};

/// The most frames the curve goes to.
pub const CAP: usize = 4096;

/// About how many references the FIFO and Clock replays may take in all; a longer string
/// gets fewer frame counts (at least [`MIN_COUNTS`]).
pub const REPLAY_BUDGET: u64 = 40_000_000;

/// The fewest frame counts FIFO and Clock are replayed for (when there are that many).
pub const MIN_COUNTS: usize = 40;

/// The most frame counts FIFO and Clock are replayed for.
pub const MAX_COUNTS: usize = 200;

/// A page of the reference string as one number: the process in the top 12 bits, the
/// virtual page number in the other 52 (for display; the curve itself keys on the pair).
pub fn page_key(pid: u32, vpn: u64) -> u64 {
    (u64::from(pid) << 52) | (vpn & ((1 << 52) - 1))
}

/// The run's reference string: every `refs` record's pages in order, as `(pid, vpn)`.
pub fn reference_string(trace: &Trace) -> Vec<(u32, u64)> {
    let mut v = Vec::new();
    for r in &trace.records {
        if let Event::Refs { pid, vpns } = &r.event {
            v.extend(vpns.iter().map(|&p| (*pid, p)));
        }
    }
    v
}

/// Renames the pages of `refs` to dense numbers `0..distinct` (in the pages' sorted order);
/// returns the renamed string and the number of distinct pages.
pub fn dense<K: Ord + Copy>(refs: &[K]) -> (Vec<u32>, usize) {
    let mut keys: Vec<K> = refs.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let ids = refs
        .iter()
        .map(|k| keys.binary_search(k).unwrap_or(0) as u32)
        .collect();
    (ids, keys.len())
}

/// A Fenwick (binary indexed) tree of counts.
struct Fenwick {
    tree: Vec<i64>,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick {
            tree: vec![0; n + 1],
        }
    }

    /// Adds `v` at position `i` (from 0).
    fn add(&mut self, i: usize, v: i64) {
        let mut i = i + 1;
        while i < self.tree.len() {
            self.tree[i] += v;
            i += i & i.wrapping_neg();
        }
    }

    /// The sum of positions `0..i`.
    fn prefix(&self, i: usize) -> i64 {
        let mut i = i.min(self.tree.len() - 1);
        let mut s = 0;
        while i > 0 {
            s += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        s
    }
}

/// Turns a histogram of stack depths (`hist[d]` references found at depth `d`, from 1;
/// `hist[max + 1]`: deeper or cold) into faults per frame count `0..=max`.
fn faults_from_depths(hist: &[u64], max: usize) -> Vec<u64> {
    let mut out = vec![0; max + 1];
    let mut deeper = hist.get(max + 1).copied().unwrap_or(0);
    for n in (0..=max).rev() {
        out[n] = deeper;
        deeper += hist.get(n).copied().unwrap_or(0);
    }
    out
}

/// LRU's faults for every frame count `0..=max` (index = frames) over `ids` (dense page
/// numbers below `distinct`), in one pass: a reference hits with `n` frames exactly when
/// its stack distance (the number of distinct pages used since its page's last use, plus
/// one) is at most `n`.
pub fn lru_faults(ids: &[u32], distinct: usize, max: usize) -> Vec<u64> {
    let mut bit = Fenwick::new(ids.len());
    let mut last = vec![usize::MAX; distinct];
    let mut hist = vec![0u64; max + 2];
    for (t, &p) in ids.iter().enumerate() {
        let Some(slot) = last.get_mut(p as usize) else {
            hist[max + 1] += 1;
            continue;
        };
        let s = *slot;
        if s == usize::MAX {
            hist[max + 1] += 1;
        } else {
            // Pages used in (s, t), each counted at its latest use.
            let between = bit.prefix(t) - bit.prefix(s + 1);
            let d = (between.max(0) as usize).saturating_add(1);
            hist[d.min(max + 1)] += 1;
            bit.add(s, -1);
        }
        bit.add(t, 1);
        *slot = t;
    }
    faults_from_depths(&hist, max)
}

/// OPT's faults for every frame count `0..=max` over `ids`, in one pass of Mattson's
/// priority stack.
///
/// The stack's top `n` pages are what OPT keeps with `n` frames. On each reference the
/// referenced page goes on top; the old top is carried down, and at each depth above the
/// referenced page's old one the carried page and the page there are compared: the one
/// used sooner (the higher priority) stays, the other is carried on; the last carried page
/// takes the referenced page's old place. A page not in the top `max` is deeper than every
/// frame count asked for, so the stack is kept only `max` deep: what is carried out of it
/// is forgotten. Next uses come from one backward pass; a page never used again is used
/// last, and ties among such pages keep the page in place (any choice is optimal).
pub fn opt_faults(ids: &[u32], distinct: usize, max: usize) -> Vec<u64> {
    const NEVER: usize = usize::MAX;
    const OUT: u32 = u32::MAX;
    let mut next = vec![NEVER; ids.len()];
    let mut seen = vec![NEVER; distinct];
    for (t, &p) in ids.iter().enumerate().rev() {
        if let Some(s) = seen.get_mut(p as usize) {
            next[t] = *s;
            *s = t;
        }
    }
    let mut prio = vec![NEVER; distinct];
    let mut depth = vec![OUT; distinct];
    let mut stack: Vec<u32> = Vec::with_capacity(max.min(distinct));
    let mut hist = vec![0u64; max + 2];
    for (t, &p) in ids.iter().enumerate() {
        let pi = p as usize;
        if pi >= distinct || max == 0 {
            hist[max + 1] += 1;
            continue;
        }
        prio[pi] = next[t];
        let d = depth[pi];
        if d == OUT {
            hist[max + 1] += 1;
        } else {
            hist[d as usize + 1] += 1;
        }
        if d == 0 {
            continue;
        }
        let Some(&top) = stack.first() else {
            stack.push(p);
            depth[pi] = 0;
            continue;
        };
        let end = if d == OUT { stack.len() } else { d as usize };
        stack[0] = p;
        depth[pi] = 0;
        let mut carried = top;
        for (i, here) in stack.iter_mut().enumerate().take(end).skip(1) {
            if prio[carried as usize] < prio[*here as usize] {
                depth[carried as usize] = i as u32;
                std::mem::swap(here, &mut carried);
            }
        }
        if d != OUT {
            stack[end] = carried;
            depth[carried as usize] = end as u32;
        } else if stack.len() < max {
            depth[carried as usize] = stack.len() as u32;
            stack.push(carried);
        } else {
            depth[carried as usize] = OUT;
        }
    }
    faults_from_depths(&hist, max)
}

/// The A bits of a replay: every reference sets its page's.
struct Bits(Vec<bool>);

impl PageBits for Bits {
    fn accessed(&mut self, page: u64) -> bool {
        self.0.get(page as usize).copied().unwrap_or(false)
    }

    fn clear_accessed(&mut self, page: u64) {
        if let Some(b) = self.0.get_mut(page as usize) {
            *b = false;
        }
    }

    fn dirty(&mut self, _page: u64) -> bool {
        false
    }
}

/// The faults of `policy` with `frames` frames over `ids`: the string replayed through the
/// kernel's [`Replacer`] exactly as [`vmlab_os::replace::simulate`] does (every reference
/// sets the page's A bit; an evicted page's bits are forgotten; references are reads), but
/// without keeping each step, so a long string costs no memory. Not for OPT (it has no
/// future here: it would fall back to FIFO).
pub fn replay_faults(policy: Policy, frames: usize, ids: &[u32], distinct: usize) -> u64 {
    let mut r = Replacer::new(policy, 0);
    let mut bits = Bits(vec![false; distinct]);
    let mut faults = 0;
    for &p in ids {
        let page = u64::from(p);
        if r.contains(page) {
            r.referenced(page);
        } else {
            faults += 1;
            if frames == 0 {
                continue;
            }
            if r.resident() >= frames {
                if let Some(v) = r.victim(&mut bits, None) {
                    bits.clear_accessed(v);
                }
            }
            r.inserted(page);
        }
        if let Some(b) = bits.0.get_mut(p as usize) {
            *b = true;
        }
    }
    faults
}

/// The frame counts FIFO and Clock are replayed for, out of `1..=max`: every count up to
/// 64, then evenly spaced ones up to `max`, `budget` in all; `max` itself and `run` (the
/// run's own frame count, when within) always among them.
pub fn frame_counts(max: usize, run: Option<usize>, budget: usize) -> Vec<usize> {
    let mut v = BTreeSet::new();
    if max == 0 {
        return Vec::new();
    }
    let budget = budget.max(2);
    let dense = 64.min(max).min(budget * 3 / 5);
    v.extend(1..=dense);
    let rest = budget.saturating_sub(dense).max(1);
    if max > dense {
        for k in 1..=rest {
            v.insert(dense + ((max - dense) * k).div_ceil(rest));
        }
    }
    if let Some(r) = run {
        if (1..=max).contains(&r) {
            v.insert(r);
        }
    }
    v.insert(max);
    v.into_iter().collect()
}

/// How many frame counts to replay a string of `len` references for.
pub fn replay_budget(len: usize) -> usize {
    let per = REPLAY_BUDGET / (len as u64).max(1);
    (per as usize).clamp(MIN_COUNTS, MAX_COUNTS)
}

/// A point where a policy faulted more with more frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// `fifo` or `clock`.
    pub policy: String,
    /// The fewer frames.
    pub fewer: u64,
    /// Their faults.
    pub fewer_faults: u64,
    /// The more frames.
    pub frames: u64,
    /// Their (more) faults.
    pub faults: u64,
}

/// The fault curve: the figure's data model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Curve {
    /// References in the string.
    pub references: u64,
    /// Distinct pages in it.
    pub distinct: u64,
    /// The most frames the curve goes to.
    pub max_frames: u64,
    /// The run's own frame count (machine.frames), if any.
    pub run_frames: Option<u64>,
    /// LRU's faults with 1, 2, …, `max_frames` frames.
    pub lru: Vec<u64>,
    /// OPT's faults with 1, 2, …, `max_frames` frames.
    pub opt: Vec<u64>,
    /// The frame counts FIFO and Clock were replayed for.
    pub sampled: Vec<u64>,
    /// FIFO's faults at each of `sampled`.
    pub fifo: Vec<u64>,
    /// Clock's faults at each of `sampled`.
    pub clock: Vec<u64>,
    /// Where FIFO or Clock faulted more with more frames (among the sampled counts).
    pub anomalies: Vec<Anomaly>,
}

/// Finds Belady's anomaly in `faults` at `counts` (in increasing order).
fn anomalies(policy: &str, counts: &[u64], faults: &[u64]) -> Vec<Anomaly> {
    let mut v = Vec::new();
    for i in 1..counts.len().min(faults.len()) {
        if faults[i] > faults[i - 1] {
            v.push(Anomaly {
                policy: policy.to_string(),
                fewer: counts[i - 1],
                fewer_faults: faults[i - 1],
                frames: counts[i],
                faults: faults[i],
            });
        }
    }
    v
}

/// How far the curve goes for a string of `len` references to `distinct` pages, and the
/// frame counts FIFO and Clock are replayed for: past the distinct pages every policy
/// faults only on cold misses, but the curve goes a little past the run's own frame count
/// `run` so its line shows; never past [`CAP`].
pub fn plan(distinct: usize, len: usize, run: Option<u64>) -> (usize, Vec<usize>) {
    // Past the distinct pages every policy makes only the cold misses: the curve goes a
    // little further, and on to the run's own count when that is not far off (a run with
    // far more frames than pages is marked in the caption instead).
    let natural = distinct + (distinct / 8).max(2);
    let run = run.map(|r| r.min(CAP as u64) as usize);
    let max = match run {
        Some(r) if r <= natural.saturating_mul(2) => natural.max(r + (r / 8).max(2)),
        _ => natural,
    }
    .min(CAP);
    if len == 0 {
        return (max, Vec::new());
    }
    (max, frame_counts(max, run, replay_budget(len)))
}

/// The curve over the reference string `refs` (any page keys), up to `CAP` frames; `run`
/// is the run's own frame count.
pub fn curve_of<K: Ord + Copy>(refs: &[K], run: Option<u64>) -> Curve {
    let (ids, distinct) = dense(refs);
    let (max, counts) = plan(distinct, ids.len(), run);
    let mut c = Curve {
        references: ids.len() as u64,
        distinct: distinct as u64,
        max_frames: max as u64,
        run_frames: run,
        ..Curve::default()
    };
    if ids.is_empty() || max == 0 {
        return c;
    }
    c.lru = lru_faults(&ids, distinct, max)[1..].to_vec();
    c.opt = opt_faults(&ids, distinct, max)[1..].to_vec();
    for &n in &counts {
        c.sampled.push(n as u64);
        c.fifo.push(replay_faults(Policy::Fifo, n, &ids, distinct));
        c.clock
            .push(replay_faults(Policy::Clock, n, &ids, distinct));
    }
    c.anomalies = anomalies("fifo", &c.sampled, &c.fifo);
    c.anomalies.extend(anomalies("clock", &c.sampled, &c.clock));
    c
}

/// The series of the figure: `(name, colour, marker shape, dashed)`.
const SERIES: [(&str, &str, u8, bool); 4] = [
    ("FIFO", "#E69F00", 0, false),
    ("LRU", "#0072B2", 1, false),
    ("Clock", "#009E73", 2, true),
    ("OPT", "#CC79A7", 3, true),
];

/// At most about `n` indices of `0..len`, evenly spread, the last included.
fn spread(len: usize, n: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let n = n.max(1);
    if len <= n {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..n).map(|k| k * (len - 1) / (n - 1).max(1)).collect();
    v.dedup();
    v
}

/// Draws the curve.
pub fn draw(c: &Curve) -> String {
    let width = 900.0;
    let mut svg = Svg::new("fault-curve", width, 440.0, "Page faults against frames");
    let items: Vec<(&str, u8, bool, String)> = SERIES
        .iter()
        .map(|(n, col, sh, d)| (*col, *sh, *d, n.to_string()))
        .collect();
    let top = line_legend(&mut svg, 70.0, 8.0, &items) + 22.0;
    let bottom = 380.0;
    let ymax = c
        .lru
        .iter()
        .chain(&c.opt)
        .chain(&c.fifo)
        .chain(&c.clock)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = Scale {
        max: c.max_frames.max(1) as f64,
        from: 70.0,
        len: width - 100.0,
    };
    let y = Scale {
        max: ymax,
        from: bottom,
        len: -(bottom - top),
    };
    y_axis(&mut svg, y, x.from, x.from + x.len, "page faults");
    x_axis(&mut svg, x, bottom, top, "frames", false);
    let every: Vec<u64> = (1..=c.max_frames).collect();
    let series: [(&[u64], &[u64]); 4] = [
        (&c.sampled, &c.fifo),
        (&every, &c.lru),
        (&c.sampled, &c.clock),
        (&every, &c.opt),
    ];
    for ((name, colour, shape, dashed), (xs, ys)) in SERIES.iter().zip(series) {
        let pts: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys)
            .map(|(&n, &f)| (x.at(n as f64), y.at(f as f64)))
            .collect();
        svg.polyline(&pts, colour, 1.75, *dashed, Some(name));
        let n = xs.len().min(ys.len());
        for i in spread(n, 24) {
            let tip = format!("{name}: {} frames, {} faults", xs[i], thousands(ys[i]));
            svg.marker(pts[i].0, pts[i].1, 3.5, *shape, colour, Some(&tip));
        }
    }
    if let Some(r) = c.run_frames.filter(|r| (1..=c.max_frames).contains(r)) {
        let px = x.at(r as f64);
        svg.line(px, top - 4.0, px, bottom, INK, 1.25, true);
        let at = |v: &[u64]| v.get(r as usize - 1).copied().unwrap_or(0);
        svg.open_group(
            None,
            Some(&format!(
                "this run: {r} frames — LRU {} faults, OPT {}",
                thousands(at(&c.lru)),
                thousands(at(&c.opt))
            )),
        );
        svg.text(
            px + 4.0,
            top + 8.0,
            &format!("this run ({r} frames)"),
            11.0,
            Anchor::Start,
            true,
        );
        svg.close_group();
    }
    // Belady's anomalies: a numbered circle at each point, the numbers explained in a list
    // at the top right (labels beside the points would overlap where they crowd).
    let shown = c.anomalies.len().min(8);
    for (k, a) in c.anomalies.iter().take(shown).enumerate() {
        let (px, py) = (x.at(a.frames as f64), y.at(a.faults as f64));
        let tip = format!(
            "Belady's anomaly ({}): {} faults with {} frames, {} with {}",
            a.policy,
            thousands(a.faults),
            a.frames,
            thousands(a.fewer_faults),
            a.fewer
        );
        svg.open_group(Some("anomaly"), Some(&tip));
        svg.marker(px, py, 7.0, 0, "none", None);
        svg.text(
            px,
            py - 10.0 - 10.0 * (k % 2) as f64,
            &(k + 1).to_string(),
            10.0,
            Anchor::Middle,
            true,
        );
        svg.text(
            width - 20.0,
            top + 8.0 + 14.0 * k as f64,
            &format!(
                "{}: Belady ({}): {} frames → {} faults (> {} with {})",
                k + 1,
                a.policy,
                a.frames,
                thousands(a.faults),
                thousands(a.fewer_faults),
                a.fewer
            ),
            10.0,
            Anchor::End,
            false,
        );
        svg.close_group();
    }
    if c.anomalies.len() > shown {
        svg.text(
            width - 20.0,
            top + 8.0 + 14.0 * shown as f64,
            &format!(
                "… {} anomalies in all (the table has every point)",
                c.anomalies.len()
            ),
            10.0,
            Anchor::End,
            false,
        );
    }
    svg.finish()
}

/// The curve as a table: one row per frame count; FIFO and Clock are blank where they were
/// not replayed.
pub fn table(c: &Curve) -> Table {
    let mut t = Table::new("fault-curve", &["frames", "fifo", "lru", "clock", "opt"]);
    let mut s = 0;
    for n in 1..=c.max_frames {
        let i = (n - 1) as usize;
        let (fifo, clock) = if c.sampled.get(s) == Some(&n) {
            s += 1;
            (
                c.fifo.get(s - 1).map(u64::to_string),
                c.clock.get(s - 1).map(u64::to_string),
            )
        } else {
            (None, None)
        };
        t.row(vec![
            n.to_string(),
            fifo.unwrap_or_default(),
            c.lru.get(i).map(u64::to_string).unwrap_or_default(),
            clock.unwrap_or_default(),
            c.opt.get(i).map(u64::to_string).unwrap_or_default(),
        ]);
    }
    t
}

/// What the figure's caption says about how the curve was computed.
fn caption(c: &Curve) -> String {
    let mut s = format!(
        "Page faults, cold misses included, that the run's reference string — {} references to \
         {} distinct pages (a page is a process and a virtual page number), in the order the \
         run interleaved them — makes with 1 to {} frames. LRU and OPT are computed for every \
         frame count in one pass each (Mattson's stack algorithms). FIFO and Clock are not \
         stack algorithms: the string is replayed through the kernel's own replacement code \
         at {} frame counts (",
        thousands(c.references),
        thousands(c.distinct),
        c.max_frames,
        c.sampled.len()
    );
    if c.sampled.len() as u64 == c.max_frames {
        s.push_str("every one");
    } else {
        s.push_str("every count up to the first few dozen, then evenly spaced");
        if c.run_frames.is_some() {
            s.push_str(", the run's own count always among them");
        }
    }
    s.push_str("; markers show some of the points, the table has them all). ");
    match c.run_frames {
        Some(r) if r <= c.max_frames => {
            let _ = write!(
                s,
                "The dashed line marks this run's {r} frames (the curve treats them as one \
                 pool shared by every process, with the interleaving this run had). "
            );
        }
        Some(r) => {
            let _ = write!(
                s,
                "This run had {r} frames, more than the {} distinct pages it touched: there \
                 every policy makes only the cold misses, as at the right end of the curve. ",
                c.distinct
            );
        }
        None => {}
    }
    if c.anomalies.is_empty() {
        s.push_str("Neither FIFO nor Clock shows Belady's anomaly at the counts replayed.");
    } else {
        let _ = write!(
            s,
            "Numbered circles: Belady's anomaly (listed at the top right), {} places where FIFO or Clock faults more with \
             more frames.",
            c.anomalies.len()
        );
    }
    s
}

/// The fault-curve section: the figure and its table, or, without `refs` records (the
/// partition and segmentation schemes), a paragraph saying there is no reference string.
pub fn section(trace: &Trace) -> Section {
    let refs = reference_string(trace);
    let mut s = Section {
        id: "fault-curve".into(),
        title: "Faults against frames".into(),
        intro: "How many page faults the run's own reference string would make with more or \
                fewer frames, under four replacement policies."
            .into(),
        figures: Vec::new(),
    };
    if refs.is_empty() {
        s.intro = format!(
            "This run has no reference string: the trace has no page references (`refs` \
             records), which only the paging schemes record (this run: {}), so there is no \
             fault curve.",
            if trace.machine.scheme.is_empty() {
                "scheme not given"
            } else {
                trace.machine.scheme.as_str()
            }
        );
        return s;
    }
    let c = curve_of(
        &refs,
        trace.machine.frames_per_process.or(trace.machine.frames),
    );
    let mut cap = caption(&c);
    if trace.refs_left_out > 0 {
        cap = format!(
            "{cap} The string is the run's first {} references: the {} after them are left \
             out to keep the report's memory bounded, so this is the curve of the run's \
             beginning.",
            refs.len(),
            trace.refs_left_out
        );
    }
    let mut f = Figure::fixed("fault-curve", &cap, draw(&c));
    f.tables.push(table(&c));
    s.figures.push(f);
    s
}

/// A note for the page's header on how the curve was sampled: the string of `len`
/// references to `distinct` pages, the run's `run` frames.
pub fn note(distinct: usize, len: usize, run: Option<u64>) -> String {
    let (max, counts) = plan(distinct, len, run);
    format!(
        "The fault curve: LRU and OPT at every frame count from 1 to {max}; FIFO and Clock \
         replayed at {} of them{}.",
        counts.len(),
        if counts.len() == max {
            ""
        } else {
            " (every count up to the first few dozen, then evenly spaced, the run's own \
             count included)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmlab_os::replace::{simulate, Ref};

    /// A small seeded generator (xorshift64*).
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
        }
    }

    fn as_refs(s: &[u64]) -> Vec<Ref> {
        s.iter().map(|&page| Ref { page, write: false }).collect()
    }

    /// Checks every way of counting against the kernel's simulator on `string`, for
    /// every frame count up to `max`; returns the curve.
    fn check(string: &[u64], max: usize) -> Curve {
        let (ids, distinct) = dense(string);
        let lru = lru_faults(&ids, distinct, max);
        let opt = opt_faults(&ids, distinct, max);
        let refs = as_refs(string);
        for n in 0..=max {
            let want = |p| simulate(p, n, &refs, 0).faults;
            assert_eq!(lru[n], want(Policy::Lru), "LRU, {n} frames, {string:?}");
            assert_eq!(opt[n], want(Policy::Opt), "OPT, {n} frames, {string:?}");
            for p in [Policy::Fifo, Policy::Clock] {
                assert_eq!(
                    replay_faults(p, n, &ids, distinct),
                    want(p),
                    "{p:?}, {n} frames, {string:?}"
                );
            }
        }
        curve_of(string, None)
    }

    #[test]
    fn textbook_strings() {
        let belady = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
        let c = check(&belady, 6);
        assert_eq!(c.fifo[2], 9);
        assert_eq!(c.fifo[3], 10);
        assert!(c.anomalies.contains(&Anomaly {
            policy: "fifo".into(),
            fewer: 3,
            fewer_faults: 9,
            frames: 4,
            faults: 10
        }));
        // Silberschatz: 15 / 12 / 9 with 3 frames.
        let s = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];
        let c = check(&s, 8);
        assert_eq!((c.fifo[2], c.lru[2], c.opt[2]), (15, 12, 9));
        check(&[], 3);
        check(&[5], 3);
        check(&[5, 5, 5], 2);
        insta::assert_json_snapshot!("curve_belady", curve_of(&belady, Some(3)));
    }

    #[test]
    fn random_strings_agree_with_the_simulator() {
        let mut g = Gen(0x1234_5678_9abc_def1);
        for round in 0..300 {
            let pages = 1 + g.below(12);
            let len = g.below(60);
            // Some strings with locality: a drifting window.
            let s: Vec<u64> = (0..len)
                .map(|i| {
                    if round % 2 == 0 {
                        g.below(pages)
                    } else {
                        i / 4 + g.below(3)
                    }
                })
                .collect();
            check(&s, 14);
        }
    }

    #[test]
    fn frame_counts_and_cap() {
        assert_eq!(frame_counts(5, Some(3), 40), vec![1, 2, 3, 4, 5]);
        let v = frame_counts(1000, Some(777), 40);
        assert!(v.len() <= 42, "{}", v.len());
        assert!(v.contains(&777) && v.contains(&1000) && v.contains(&1));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        let v = frame_counts(4096, None, 200);
        assert_eq!(&v[..64], &(1..=64).collect::<Vec<_>>()[..]);
        assert!(v.len() <= 200);
        assert_eq!(frame_counts(0, Some(3), 40), Vec::<usize>::new());
        assert_eq!(replay_budget(1_000_000), 40);
        assert_eq!(replay_budget(10), 200);
        // The curve runs a little past the run's frame count, and never past the cap.
        let c = curve_of(&[1u64, 2, 3], Some(10));
        assert_eq!(c.max_frames, 12);
        assert_eq!(c.lru.len(), 12);
        assert_eq!(c.lru[11], 3);
        // A run with far more frames than pages: the curve stops a little past the pages.
        let c = curve_of(&[1u64, 2], Some(u64::MAX));
        assert_eq!(c.max_frames, 4);
        let c = curve_of(&(0..10_000u64).collect::<Vec<_>>(), Some(9_000));
        assert_eq!(c.max_frames, CAP as u64);
        assert_eq!(page_key(1, 5), (1 << 52) | 5);
    }

    #[test]
    fn the_figure() {
        let belady = [1u64, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
        let c = curve_of(&belady, Some(3));
        let svg = draw(&c);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("polyline"))
                .count(),
            4
        );
        let texts = crate::pictures::testing::texts(&doc);
        for want in [
            "this run (3 frames)",
            "1: Belady (fifo): 4 frames → 10 faults (> 9 with 3)",
            "2: Belady (clock): 4 frames → 10 faults (> 9 with 3)",
            "FIFO",
            "LRU",
            "Clock",
            "OPT",
            "frames",
            "page faults",
        ] {
            assert!(texts.contains(&want), "{want} missing from {texts:?}");
        }
        let anomalies = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("anomaly"))
            .count();
        assert_eq!(anomalies, 2);
        let t = table(&c);
        assert_eq!(t.rows.len(), 7);
        assert_eq!(t.rows[3], vec!["4", "10", "8", "10", "6"]);
        // A sampled curve leaves FIFO and Clock blank where they were not replayed.
        let s: Vec<u64> = (0..3000).map(|i| i % 400).collect();
        let c = curve_of(&s, Some(5));
        assert_eq!(c.max_frames, 450);
        let t = table(&c);
        assert_eq!(t.rows.len(), 450);
        assert!(c.sampled.len() <= MAX_COUNTS + 1 && c.sampled.contains(&5));
        assert!(t.rows.iter().any(|r| r[1].is_empty()));
        assert!(caption(&c).contains("evenly spaced"));
        // A trace without references: the section says so.
        let tr = crate::pictures::trace::parse(
            "t",
            "{\"cycle\":0,\"event\":\"machine\",\"version\":1,\"scheme\":\"dynamic-partitions\"}\n{\"cycle\":1,\"event\":\"end\"}",
        )
        .unwrap();
        let sec = section(&tr);
        assert!(sec.figures.is_empty());
        assert!(sec.intro.contains("no reference string"));
        assert!(sec.intro.contains("dynamic-partitions"));
    }

    /// A million references over 3000 pages (run with `--ignored` to time it).
    #[test]
    #[ignore]
    fn a_million_references() {
        let mut g = Gen(11);
        let s: Vec<(u32, u64)> = (0..1_000_000u64)
            .map(|i| ((i / 5000 % 3) as u32, (i / 300 + g.below(200)) % 1000))
            .collect();
        let c = curve_of(&s, Some(256));
        assert_eq!(c.references, 1_000_000);
        // No locality at all: OPT's carries go deep.
        let s: Vec<u64> = (0..1_000_000u64).map(|_| g.below(3000)).collect();
        let c = curve_of(&s, Some(256));
        assert_eq!(c.distinct, 3000);
        assert!(c.sampled.len() <= MIN_COUNTS + 2);
    }

    #[test]
    fn a_long_string_is_quick() {
        // 200k references over 2000 pages with locality; the debug-build test stays quick.
        let mut g = Gen(7);
        let s: Vec<u64> = (0..200_000u64)
            .map(|i| (i / 100 + g.below(40)) % 2000)
            .collect();
        let c = curve_of(&s, Some(64));
        assert_eq!(c.references, 200_000);
        assert!(c.sampled.len() <= MAX_COUNTS);
        // Stack algorithms: never more faults with more frames.
        assert!(c.lru.windows(2).all(|w| w[0] >= w[1]));
        assert!(c.opt.windows(2).all(|w| w[0] >= w[1]));
        assert!(c.opt.iter().zip(&c.lru).all(|(o, l)| o <= l));
    }
}
