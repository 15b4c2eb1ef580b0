//! `vmlab quiz disk`: OSTEP's disk.py. A queue of requests to a three-track disk (or as many
//! tracks as `-z` lists), a scheduling policy and window; the student works out the order the
//! requests are served in and each one's seek, rotation and transfer time.
//!
//! The disk is disk.py's: track `t` is split into sectors of `z[t]` degrees (`-z`, from the
//! outside in), numbered on from the track outside it; every track's sector 0 is centred at
//! 180 degrees, shifted round by `t × skew` sectors (`-o`); the head starts over the outer
//! track at angle 0. The platter turns `R` degrees a time unit (`-R`), the arm crosses a
//! track in `40 / S` units (`-S`). The answer is computed here by that arithmetic (angle
//! differences, tracks × seek time, sectors × transfer time), not by the disk model; the
//! scenario (`--scenario`) states the same disk in the model's textbook units, and
//! `tests/quiz_disk.rs` checks over many seeds that `vmlab disk` gives the same answer.

use super::{Common, Generator, Quiz, Rng};
use serde_json::json;
use std::fmt::Write as _;

/// The options of `vmlab quiz disk` (disk.py's flags).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  vmlab quiz disk --seed 1\n  \
vmlab quiz disk -a 10,18 --answers\n  \
vmlab quiz disk -a 7,30,8 -p SATF -c\n  \
vmlab quiz disk --seed 2 -A 6,-1,0 -p SSTF -z 30,20,10 -o 1 -c\n  \
vmlab quiz disk --seed 3 -p SATF -w 2 --json\n  \
vmlab quiz disk --seed 4 -p C-LOOK --scenario quiz-disk.toml\n  \
vmlab disk quiz-disk.toml")]
pub struct Args {
    /// The options every kind has.
    #[command(flatten)]
    pub common: Common,
    /// The requests, blocks separated by commas (`10,18`); default: drawn as `-A` says.
    #[arg(short = 'a', long = "addresses", value_name = "LIST")]
    pub addresses: Option<String>,
    /// Random requests: how many, the largest block (-1: the last block), the smallest.
    #[arg(
        short = 'A',
        long = "addr-desc",
        value_name = "NUM,MAX,MIN",
        default_value = "5,-1,0",
        allow_hyphen_values = true
    )]
    pub addr_desc: String,
    /// The policy: FIFO, SSTF, SATF (or SPTF), and vmlab's SCAN, C-SCAN, LOOK, C-LOOK.
    #[arg(short = 'p', long, default_value = "FIFO")]
    pub policy: String,
    /// The scheduling window: choose among the first N waiting requests (-1: all).
    #[arg(
        short = 'w',
        long,
        default_value = "-1",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub window: i64,
    /// Degrees per sector on each track, from the outside in (even numbers dividing 360).
    #[arg(short = 'z', long, default_value = "30,30,30", value_name = "LIST")]
    pub zoning: String,
    /// Seek speed: the arm crosses a track (40 units wide) in 40 / S time units.
    #[arg(
        short = 'S',
        long = "seek-speed",
        default_value = "1",
        value_name = "S"
    )]
    pub seek_speed: f64,
    /// Rotation speed: degrees the platter turns per time unit.
    #[arg(
        short = 'R',
        long = "rotate-speed",
        default_value = "1",
        value_name = "R"
    )]
    pub rotate_speed: f64,
    /// Skew: each track's sector 0 lies this many sectors further round than the one outside.
    #[arg(
        short = 'o',
        long = "skew",
        default_value = "0",
        value_name = "SECTORS"
    )]
    pub skew: u64,
}

/// A policy: disk.py's three, and the elevators of the disk model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    Fifo,
    Sstf,
    Satf,
    Scan,
    CScan,
    Look,
    CLook,
}

impl Policy {
    fn parse(s: &str) -> Result<Policy, String> {
        Ok(match s.trim().to_ascii_uppercase().replace('_', "-").as_str() {
            "FIFO" | "FCFS" => Policy::Fifo,
            "SSTF" => Policy::Sstf,
            "SATF" | "SPTF" => Policy::Satf,
            "SCAN" | "ELEVATOR" => Policy::Scan,
            "C-SCAN" | "CSCAN" => Policy::CScan,
            "LOOK" => Policy::Look,
            "C-LOOK" | "CLOOK" => Policy::CLook,
            _ => {
                return Err(format!(
                    "-p {s}: unknown policy; use FIFO, SSTF, SATF (or SPTF), SCAN, C-SCAN, LOOK or C-LOOK"
                ))
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "FIFO",
            Policy::Sstf => "SSTF",
            Policy::Satf => "SATF",
            Policy::Scan => "SCAN",
            Policy::CScan => "C-SCAN",
            Policy::Look => "LOOK",
            Policy::CLook => "C-LOOK",
        }
    }

    /// The disk model's scheduler of the same name.
    fn model(self) -> &'static str {
        match self {
            Policy::Fifo => "fcfs",
            Policy::Sstf => "sstf",
            Policy::Satf => "sptf",
            Policy::Scan => "scan",
            Policy::CScan => "c-scan",
            Policy::Look => "look",
            Policy::CLook => "c-look",
        }
    }
}

/// The disk in time units (ticks).
#[derive(Clone, Debug)]
struct Geometry {
    /// Degrees per sector of each track (`-z`).
    degrees: Vec<u64>,
    /// Sectors on each track.
    sectors: Vec<u64>,
    /// The first block of each track.
    first: Vec<u64>,
    /// Ticks a revolution (`360 / R`).
    period: u64,
    /// Ticks of a sector on each track.
    width: Vec<u64>,
    /// Ticks of half a sector on each track.
    half: Vec<u64>,
    /// Ticks of 180 degrees.
    base: u64,
    /// Ticks a track of seek (`40 / S`).
    seek: u64,
    skew: u64,
    blocks: u64,
}

/// `v` as a whole number, if it is one (to a part in 10⁹).
fn whole(v: f64) -> Option<u64> {
    let r = v.round();
    (v.is_finite() && r >= 0.0 && (v - r).abs() <= 1e-9 * r.max(1.0) && r < 1e12)
        .then_some(r as u64)
}

impl Geometry {
    fn new(a: &Args) -> Result<Geometry, String> {
        let degrees: Vec<u64> = a
            .zoning
            .split(',')
            .map(|z| {
                z.trim().parse::<u64>().map_err(|_| {
                    format!(
                        "-z {}: `{}` is not a whole number of degrees; write e.g. -z 30,30,30",
                        a.zoning,
                        z.trim()
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if degrees.is_empty() || degrees.len() > 16 {
            return Err(format!(
                "-z {}: give 1 to 16 tracks' degrees per sector",
                a.zoning
            ));
        }
        for &d in &degrees {
            if d == 0 || !d.is_multiple_of(2) || !360u64.is_multiple_of(d) {
                return Err(format!(
                    "-z {}: {d} degrees per sector; use an even number that divides 360 (2, 4, 6, 10, 12, 20, 30, 36, 60, 90, ...)",
                    a.zoning
                ));
            }
        }
        let d0 = degrees[0];
        if (180 - d0 / 2).is_multiple_of(d0) {
            return Err(format!(
                "-z {}: with {d0} degrees per sector on the outer track the head starts exactly at a sector boundary, where disk.py waits a whole revolution for a sector the textbook reaches at once; use e.g. 30, 36, 20 or 60 for the outer track",
                a.zoning
            ));
        }
        let r = a.rotate_speed;
        if !(r.is_finite() && r > 0.0) {
            return Err(format!("-R {r}: the platter must turn; use e.g. -R 1"));
        }
        let ticks = |deg: f64| whole(deg / r);
        let period = ticks(360.0);
        let base = ticks(180.0);
        let half: Option<Vec<u64>> = degrees.iter().map(|&d| ticks(d as f64 / 2.0)).collect();
        let (Some(period), Some(base), Some(half)) = (period, base, half) else {
            return Err(format!(
                "-R {r}: every sector must begin at a whole time unit, so R must divide 180 and half of every sector's degrees (-z {}); use e.g. -R 1",
                a.zoning
            ));
        };
        if period == 0 {
            return Err(format!("-R {r}: at most 360 degrees a time unit"));
        }
        let s = a.seek_speed;
        let seek = whole(40.0 / s).filter(|_| s.is_finite() && s > 0.0);
        let Some(seek) = seek else {
            return Err(format!(
                "-S {s}: a track is 40 units wide and a seek must take a whole number of time units, so S must divide 40 (1, 2, 4, 5, 8, 10, 20, 40, or 0.5, ...)"
            ));
        };
        if a.skew > 1000 {
            return Err(format!("-o {}: use a skew of at most 1000 sectors", a.skew));
        }
        let sectors: Vec<u64> = degrees.iter().map(|&d| 360 / d).collect();
        let mut first = Vec::new();
        let mut n = 0;
        for &s in &sectors {
            first.push(n);
            n += s;
        }
        Ok(Geometry {
            width: half.iter().map(|h| 2 * h).collect(),
            half,
            degrees,
            sectors,
            first,
            period,
            base,
            seek,
            skew: a.skew,
            blocks: n,
        })
    }

    fn track(&self, block: u64) -> usize {
        self.first.partition_point(|&f| f <= block) - 1
    }

    /// The tick (within a revolution) at which `block` begins to pass under the head.
    fn start(&self, block: u64) -> u64 {
        let t = self.track(block);
        let k = block - self.first[t] + t as u64 * self.skew;
        (self.base + k % self.sectors[t] * self.width[t] + self.period - self.half[t]) % self.period
    }

    /// Where the head starts, in sectors past the start of the outer track's sector 0.
    fn start_sector(&self) -> f64 {
        // Angle 0 is 180 + d/2 degrees past the start of sector 0 (centred at 180).
        (180.0 + self.degrees[0] as f64 / 2.0) / self.degrees[0] as f64
    }
}

/// One request served, as the answer gives it.
#[derive(Clone, Debug)]
struct Served {
    /// Its position in the queue (0-based).
    index: usize,
    block: u64,
    seek: u64,
    rotate: u64,
    transfer: u64,
}

/// The times of serving `block` from track `arm` at tick `now`, via the tracks of `route`.
fn times(g: &Geometry, arm: usize, route: &[usize], block: u64, now: u64) -> (u64, u64, u64) {
    let target = g.track(block);
    let mut dist = 0;
    let mut cur = arm;
    for &w in route.iter().chain(std::iter::once(&target)) {
        dist += cur.abs_diff(w) as u64;
        cur = w;
    }
    let seek = dist * g.seek;
    let at = (now + seek) % g.period;
    let rotate = (g.start(block) + g.period - at) % g.period;
    (seek, rotate, g.width[target])
}

/// The answer: the requests in the order served, and whether the choice at some step is
/// ambiguous (a tie in disk.py's rule, or a step where disk.py's rule and the disk model's
/// differ), with what happened.
fn solve(
    g: &Geometry,
    policy: Policy,
    window: Option<usize>,
    reqs: &[u64],
) -> (Vec<Served>, Option<String>) {
    let mut waiting: Vec<usize> = (0..reqs.len()).collect();
    let (mut arm, mut now, mut up) = (0usize, 0u64, true);
    let mut out = Vec::new();
    let mut doubt = None;
    let last = g.sectors.len() - 1;
    while !waiting.is_empty() {
        let cands: Vec<usize> = match window {
            Some(w) => waiting.iter().copied().take(w).collect(),
            None => waiting.clone(),
        };
        let track = |i: usize| g.track(reqs[i]);
        let dist = |i: usize| track(i).abs_diff(arm);
        // disk.py's estimate: seek + rotation + transfer.
        let total = |i: usize| {
            let (s, r, x) = times(g, arm, &[], reqs[i], now);
            s + r + x
        };
        let positioning = |i: usize| {
            let (s, r, _) = times(g, arm, &[], reqs[i], now);
            s + r
        };
        let first_min = |set: &[usize], f: &dyn Fn(usize) -> u64| -> usize {
            let mut best = set[0];
            for &i in set {
                if f(i) < f(best) {
                    best = i;
                }
            }
            best
        };
        let tie = |set: &[usize], f: &dyn Fn(usize) -> u64, pick: usize| {
            set.iter()
                .any(|&i| i != pick && f(i) == f(pick) && reqs[i] != reqs[pick])
        };
        let (pick, route): (usize, Vec<usize>) = match policy {
            Policy::Fifo => (waiting[0], Vec::new()),
            Policy::Satf => {
                let p = first_min(&cands, &total);
                let m = first_min(&cands, &positioning);
                if doubt.is_none() && (tie(&cands, &total, p) || reqs[m] != reqs[p]) {
                    doubt = Some(format!(
                        "request {} onwards: SATF's choice is not clear-cut (a tie, or the disk model's SPTF, which compares seek + rotation only, chooses block {})",
                        out.len() + 1,
                        reqs[m]
                    ));
                }
                (p, Vec::new())
            }
            Policy::Sstf => {
                // disk.py: every request on the nearest track(s), then SATF among them.
                let d = cands.iter().map(|&i| dist(i)).min().unwrap_or(0);
                let near: Vec<usize> = cands.iter().copied().filter(|&i| dist(i) == d).collect();
                let p = first_min(&near, &total);
                // The disk model: the nearest cylinder, ties by arrival.
                let m = first_min(&cands, &|i| dist(i) as u64);
                if doubt.is_none() && (tie(&near, &total, p) || reqs[m] != reqs[p]) {
                    doubt = Some(format!(
                        "request {} onwards: SSTF's choice is not clear-cut (disk.py chooses by access time among the nearest tracks, the disk model the earliest request on the nearest cylinder: block {})",
                        out.len() + 1,
                        reqs[m]
                    ));
                }
                (p, Vec::new())
            }
            Policy::Scan | Policy::Look | Policy::CScan | Policy::CLook => {
                let circular = matches!(policy, Policy::CScan | Policy::CLook);
                let dir = up || circular;
                let ahead: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&i| {
                        if dir {
                            track(i) >= arm
                        } else {
                            track(i) <= arm
                        }
                    })
                    .collect();
                if !ahead.is_empty() {
                    up = dir;
                    (first_min(&ahead, &|i| dist(i) as u64), Vec::new())
                } else if circular {
                    let p = first_min(&cands, &|i| track(i) as u64);
                    let mut route = Vec::new();
                    if policy == Policy::CScan {
                        if arm != last {
                            route.push(last);
                        }
                        route.push(0);
                    }
                    (p, route)
                } else {
                    let p = first_min(&cands, &|i| dist(i) as u64);
                    let edge = if up { last } else { 0 };
                    let route = if policy == Policy::Scan && arm != edge {
                        vec![edge]
                    } else {
                        Vec::new()
                    };
                    up = !up;
                    (p, route)
                }
            }
        };
        if matches!(policy, Policy::Fifo | Policy::Sstf | Policy::Satf) {
            let t = g.track(reqs[pick]);
            if t != arm {
                up = t > arm;
            }
        }
        let (seek, rotate, transfer) = times(g, arm, &route, reqs[pick], now);
        if seek == 0 && rotate == 0 && doubt.is_none() {
            // disk.py only starts a transfer at once when the block follows the last one.
            let follows = out.last().is_some_and(|p: &Served| {
                let t = g.track(p.block);
                g.track(reqs[pick]) == t
                    && (p.block + 1 == reqs[pick]
                        || (p.block == g.first[t] + g.sectors[t] - 1 && reqs[pick] == g.first[t]))
            });
            if !follows {
                doubt = Some(format!(
                    "request {}: block {} is under the head at once, where disk.py would wait a whole revolution",
                    out.len() + 1,
                    reqs[pick]
                ));
            }
        }
        now += seek + rotate + transfer;
        arm = g.track(reqs[pick]);
        waiting.retain(|&i| i != pick);
        out.push(Served {
            index: pick,
            block: reqs[pick],
            seek,
            rotate,
            transfer,
        });
    }
    (out, doubt)
}

/// Parses `-A NUM,MAX,MIN`.
fn addr_desc(s: &str, blocks: u64) -> Result<(u64, u64, u64), String> {
    let bad = || {
        format!(
            "-A {s}: write how many requests, the largest block (-1: the last) and the smallest, e.g. -A 5,-1,0"
        )
    };
    let v: Vec<i64> = s
        .split(',')
        .map(|x| x.trim().parse::<i64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [n, max, min] = v[..] else {
        return Err(bad());
    };
    if !(1..=100).contains(&n) {
        return Err(format!("-A {s}: draw 1 to 100 requests"));
    }
    if min < 0 || (max < 0 && max != -1) {
        return Err(bad());
    }
    let max = if max == -1 { blocks as i64 - 1 } else { max };
    if min > max || max as u64 >= blocks {
        return Err(format!(
            "-A {s}: the blocks must lie in 0..{} with the smallest at most the largest",
            blocks - 1
        ));
    }
    Ok((n as u64, max as u64, min as u64))
}

fn answer_lines(served: &[Served]) -> String {
    let mut out = String::new();
    let (mut s, mut r, mut x) = (0, 0, 0);
    for p in served {
        let _ = writeln!(
            out,
            "Block: {:3}  Seek:{:3}  Rotate:{:3}  Transfer:{:3}  Total:{:4}",
            p.block,
            p.seek,
            p.rotate,
            p.transfer,
            p.seek + p.rotate + p.transfer
        );
        s += p.seek;
        r += p.rotate;
        x += p.transfer;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "TOTALS      Seek:{s:3}  Rotate:{r:3}  Transfer:{x:3}  Total:{:4}",
        s + r + x
    );
    out
}

impl Args {
    /// disk.py's command line for this problem.
    fn command(&self, policy: Policy, reqs: &[u64]) -> String {
        let list: Vec<String> = reqs.iter().map(u64::to_string).collect();
        let mut c = format!("disk.py -a {} -p {}", list.join(","), policy.name());
        if self.window > 0 {
            let _ = write!(c, " -w {}", self.window);
        }
        if self.zoning.replace(' ', "") != "30,30,30" {
            let _ = write!(c, " -z {}", self.zoning.replace(' ', ""));
        }
        if self.seek_speed != 1.0 {
            let _ = write!(c, " -S {}", self.seek_speed);
        }
        if self.rotate_speed != 1.0 {
            let _ = write!(c, " -R {}", self.rotate_speed);
        }
        if self.skew != 0 {
            let _ = write!(c, " -o {}", self.skew);
        }
        c
    }
}

/// A problem and its answer.
struct Solution {
    reqs: Vec<u64>,
    served: Vec<Served>,
    doubt: Option<String>,
}

fn scenario(
    a: &Args,
    g: &Geometry,
    policy: Policy,
    window: Option<usize>,
    sol: &Solution,
    seed: u64,
) -> String {
    let (reqs, served, doubt) = (&sol.reqs, &sol.served, &sol.doubt);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# vmlab quiz disk --seed {seed}: {}",
        a.command(policy, reqs)
    );
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# The same disk in vmlab's textbook units: one tick is one of disk.py's time units."
    );
    let _ = writeln!(
        s,
        "# `vmlab disk` on this file grades each request's expected answer (its place in the order,\n# its seek, rotation and transfer in ticks) and exits with status 1 if one is wrong."
    );
    if let Some(d) = doubt {
        let _ = writeln!(s, "# NOTE: {d}; the disk model may differ from here on.");
    }
    let _ = writeln!(s, "#");
    let _ = writeln!(s, "# The answer (disk.py -c):");
    for l in answer_lines(served).lines() {
        if l.is_empty() {
            let _ = writeln!(s, "#");
        } else {
            let _ = writeln!(s, "#   {l}");
        }
    }
    let _ = writeln!(s, "title = \"{}\"", a.command(policy, reqs));
    let _ = writeln!(s);
    let _ = writeln!(s, "[disk]");
    let _ = writeln!(s, "tick = \"1ms\"                # disk.py's time unit");
    let _ = writeln!(s, "block_size = 512            # one block = one sector");
    let _ = writeln!(s, "scheduler = \"{}\"", policy.model());
    if let Some(w) = window {
        let _ = writeln!(s, "window = {w}                  # -w");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "[disk.hdd]");
    let _ = writeln!(s, "cylinders = {}", g.sectors.len());
    let _ = writeln!(s, "heads = 1");
    if g.sectors.iter().all(|&n| n == g.sectors[0]) {
        let _ = writeln!(
            s,
            "sectors_per_track = {}      # -z: {} degrees a sector",
            g.sectors[0], g.degrees[0]
        );
    } else {
        let _ = writeln!(s, "zones = [                   # -z {}", a.zoning);
        for (n, d) in g.sectors.iter().zip(&g.degrees) {
            let _ = writeln!(
                s,
                "    {{ cylinders = 1, sectors_per_track = {n} }},   # {d} degrees a sector"
            );
        }
        let _ = writeln!(s, "]");
    }
    if g.skew != 0 {
        let _ = writeln!(s, "track_skew = {}              # -o", g.skew);
    }
    let _ = writeln!(s, "rotate_degrees_per_tick = {} # -R", a.rotate_speed);
    let _ = writeln!(
        s,
        "seek_ticks_per_track = {}   # a track is 40 wide, -S {}",
        g.seek, a.seek_speed
    );
    let _ = writeln!(
        s,
        "start_sector = {}          # the head at disk.py's angle 0",
        g.start_sector()
    );
    for (i, &b) in reqs.iter().enumerate() {
        let _ = writeln!(s);
        let _ = writeln!(s, "[[request]]");
        let _ = writeln!(s, "block = {b}");
        if let Some((n, p)) = served.iter().enumerate().find(|(_, p)| p.index == i) {
            let _ = writeln!(
                s,
                "expect = {{ order = {}, seek = {}, rotation = {}, transfer = {} }}",
                n + 1,
                p.seek,
                p.rotate,
                p.transfer
            );
        }
    }
    s
}

impl Generator for Args {
    fn generate(&self, seed: u64) -> Result<Quiz, String> {
        let g = Geometry::new(self)?;
        let policy = Policy::parse(&self.policy)?;
        let window = match self.window {
            -1 => None,
            w if w >= 1 => Some(w as usize),
            w => {
                return Err(format!(
                    "-w {w}: the window is at least 1 request, or -1 for all of them"
                ))
            }
        };
        let sol = match &self.addresses {
            Some(list) => {
                let reqs: Vec<u64> = list
                    .split(',')
                    .map(|b| {
                        b.trim()
                            .parse::<u64>()
                            .ok()
                            .filter(|&v| v < g.blocks)
                            .ok_or_else(|| {
                                format!(
                                    "-a {list}: `{}` is not a block of this disk (0 to {})",
                                    b.trim(),
                                    g.blocks - 1
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?;
                if reqs.len() > 100 {
                    return Err(format!("-a: {} requests; give at most 100", reqs.len()));
                }
                let (served, doubt) = solve(&g, policy, window, &reqs);
                Solution {
                    reqs,
                    served,
                    doubt,
                }
            }
            None => {
                let (n, max, min) = addr_desc(&self.addr_desc, g.blocks)?;
                let mut rng = Rng::new(seed);
                let mut found = None;
                for _ in 0..500 {
                    let reqs: Vec<u64> = (0..n).map(|_| rng.range(min, max)).collect();
                    let (served, doubt) = solve(&g, policy, window, &reqs);
                    if doubt.is_none() {
                        found = Some(Solution {
                            reqs,
                            served,
                            doubt: None,
                        });
                        break;
                    }
                }
                found.ok_or_else(|| {
                    "every problem drawn has a choice that is not clear-cut (ties, or disk.py's rule and the disk model's disagree); try another seed, fewer requests or another -A range".to_string()
                })?
            }
        };
        let sc = scenario(self, &g, policy, window, &sol, seed);
        let Solution {
            reqs,
            served,
            doubt,
        } = sol;
        let list: Vec<String> = reqs.iter().map(u64::to_string).collect();
        let mut p = String::new();
        let _ = writeln!(
            p,
            "vmlab quiz disk --seed {seed}: {}",
            self.command(policy, &reqs)
        );
        let _ = writeln!(p);
        let _ = writeln!(
            p,
            "The disk: {} tracks, the outer one first; degrees per sector {} (-z), so",
            g.sectors.len(),
            self.zoning.replace(' ', "")
        );
        for (t, (n, f)) in g.sectors.iter().zip(&g.first).enumerate() {
            let _ = writeln!(
                p,
                "  track {t}: {n} sectors, blocks {f}-{}{}",
                f + n - 1,
                if g.skew > 0 && t > 0 {
                    let k = t as u64 * g.skew;
                    format!(
                        " (sector 0 skewed {k} sector{} round)",
                        if k == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(
            p,
            "The platter turns {} degree{} a time unit: a revolution takes {} units.",
            self.rotate_speed,
            if self.rotate_speed == 1.0 { "" } else { "s" },
            g.period
        );
        let _ = writeln!(
            p,
            "The arm crosses a track in {} units; the head starts over track 0, {} sectors past the start of block 0.",
            g.seek,
            g.start_sector()
        );
        let _ = writeln!(
            p,
            "Policy {}, scheduling window {}.",
            policy.name(),
            window.map_or("all requests".to_string(), |w| format!(
                "the first {w} waiting requests"
            ))
        );
        let _ = writeln!(p);
        let _ = writeln!(p, "REQUESTS [{}]", list.join(", "));
        let _ = writeln!(p);
        let _ = writeln!(
            p,
            "In what order are the requests served, and what are each one's seek, rotation and"
        );
        let _ = writeln!(p, "transfer times? (--answers shows them.)");
        let mut answer = answer_lines(&served);
        if let Some(d) = &doubt {
            let _ = writeln!(answer);
            let _ = writeln!(answer, "Note: {d}.");
        }
        let json = json!({
            "kind": "disk",
            "seed": seed,
            "problem": {
                "command": self.command(policy, &reqs),
                "requests": reqs,
                "policy": policy.name(),
                "window": window,
                "zoning": g.degrees,
                "sectors_per_track": g.sectors,
                "seek_speed": self.seek_speed,
                "rotate_speed": self.rotate_speed,
                "skew": g.skew,
                "rotation_ticks": g.period,
                "seek_ticks_per_track": g.seek,
            },
            "answers": {
                "order": served.iter().map(|s| s.block).collect::<Vec<_>>(),
                "requests": served.iter().map(|s| json!({
                    "request": s.index + 1,
                    "block": s.block,
                    "seek": s.seek,
                    "rotate": s.rotate,
                    "transfer": s.transfer,
                    "total": s.seek + s.rotate + s.transfer,
                })).collect::<Vec<_>>(),
                "totals": {
                    "seek": served.iter().map(|s| s.seek).sum::<u64>(),
                    "rotate": served.iter().map(|s| s.rotate).sum::<u64>(),
                    "transfer": served.iter().map(|s| s.transfer).sum::<u64>(),
                    "total": served.iter().map(|s| s.seek + s.rotate + s.transfer).sum::<u64>(),
                },
                "note": doubt,
            },
        });
        Ok(Quiz {
            problem: p,
            answer,
            scenario: Some(sc),
            json,
        })
    }
}
