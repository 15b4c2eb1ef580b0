//! The mechanics of a spinning disk: where a block lies, how long the arm takes to get there,
//! how long the platter takes to bring the sector round, and how long the data takes to pass.
//!
//! All times are whole cycles. With a rotation period of `P` cycles and `S` sectors per
//! track, sector slot `k` of a track begins `⌊k·P/S⌋` cycles into the revolution, so a whole
//! track takes exactly `P`. The platter's position at cycle `t` is `(t + phase) mod P`,
//! where `phase` is the start angle in cycles.

use super::config::{HddConfig, SeekCurve, DEFAULT_RPM};
use super::DiskError;

/// The cycles of one revolution: the `rotation` given, or `round(60 × clock_hz / rpm)`.
pub(crate) fn rotation_cycles(h: &HddConfig, clock_hz: u64) -> u64 {
    match (h.rotation, h.rpm) {
        (Some(t), _) => t.cycles(clock_hz),
        (None, rpm) => {
            let rpm = rpm.unwrap_or(DEFAULT_RPM).max(1) as u128;
            let n = (60 * clock_hz as u128 + rpm / 2) / rpm;
            u64::try_from(n).unwrap_or(u64::MAX)
        }
    }
}

/// A seek curve with its times in cycles.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SeekModel {
    Constant(u64),
    Linear {
        settle: u64,
        per: u64,
    },
    SqrtLinear {
        settle: u64,
        sqrt: u64,
        boundary: u64,
        long_settle: u64,
        per: u64,
    },
    ThreePoint {
        single: u64,
        a: f64,
        b: f64,
    },
}

impl SeekModel {
    pub(crate) fn new(c: &SeekCurve, cylinders: u64, hz: u64) -> Result<SeekModel, DiskError> {
        Ok(match c {
            SeekCurve::Constant { time } => SeekModel::Constant(time.cycles(hz)),
            SeekCurve::Linear {
                settle,
                per_cylinder,
            } => SeekModel::Linear {
                settle: settle.cycles(hz),
                per: per_cylinder.cycles(hz),
            },
            SeekCurve::SqrtLinear {
                settle,
                sqrt,
                boundary,
                long_settle,
                per_cylinder,
            } => SeekModel::SqrtLinear {
                settle: settle.cycles(hz),
                sqrt: sqrt.cycles(hz),
                boundary: *boundary,
                long_settle: long_settle.cycles(hz),
                per: per_cylinder.cycles(hz),
            },
            SeekCurve::ThreePoint {
                single,
                average,
                full,
            } => {
                let (s, avg, f) = (single.cycles(hz), average.cycles(hz), full.cycles(hz));
                if !(s <= avg && avg <= f) {
                    return Err(DiskError::Config(format!(
                        "disk.hdd.seek: a three-point curve needs single <= average <= full, not {single} / {average} / {full}"
                    )));
                }
                let (a, b) = fit_three_point(cylinders, s, avg, f)?;
                SeekModel::ThreePoint { single: s, a, b }
            }
        })
    }

    /// The cycles to move the arm `d` cylinders (0 for `d = 0`).
    pub(crate) fn time(&self, d: u64) -> u64 {
        if d == 0 {
            return 0;
        }
        match *self {
            SeekModel::Constant(t) => t,
            SeekModel::Linear { settle, per } => settle.saturating_add(per.saturating_mul(d)),
            SeekModel::SqrtLinear {
                settle,
                sqrt,
                boundary,
                long_settle,
                per,
            } => {
                if d < boundary {
                    settle.saturating_add(round_f64(sqrt as f64 * (d as f64).sqrt()))
                } else {
                    long_settle.saturating_add(per.saturating_mul(d))
                }
            }
            SeekModel::ThreePoint { single, a, b } => {
                let x = (d - 1) as f64;
                single.saturating_add(round_f64(a * x.sqrt() + b * x))
            }
        }
    }
}

/// Rounds a non-negative double to the nearest whole number (half away from zero), saturating.
fn round_f64(v: f64) -> u64 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v.round() as u64
    }
}

/// Solves `a·S + b·L = average − single` and `a·√(D−1) + b·(D−1) = full − single`, where `D`
/// is the full stroke and `S`, `L` are the means of `√(d−1)` and `d−1` over all ordered pairs
/// of distinct cylinders (distance `d` occurs `2·(C−d)` times). With three cylinders the
/// system is singular and the curve is the line through the single and full-stroke points.
fn fit_three_point(cylinders: u64, s: u64, avg: u64, f: u64) -> Result<(f64, f64), DiskError> {
    if cylinders < 3 {
        // Only distance 1 exists (or none): the single-cylinder time is the whole curve.
        return Ok((0.0, 0.0));
    }
    let c = cylinders;
    let (mut w, mut sq, mut li) = (0f64, 0f64, 0f64);
    for d in 1..c {
        let weight = 2.0 * (c - d) as f64;
        w += weight;
        sq += weight * ((d - 1) as f64).sqrt();
        li += weight * (d - 1) as f64;
    }
    let (sq, li) = (sq / w, li / w);
    let full_x = (c - 2) as f64;
    let (ya, yf) = ((avg - s) as f64, (f - s) as f64);
    let det = sq * full_x - li * full_x.sqrt();
    if det.abs() < 1e-12 {
        // Three cylinders: √x and x agree at x = 0 and 1, so the two points fix the line and
        // the average is implied; it is not used.
        return Ok((0.0, yf / full_x));
    }
    let a = (ya * full_x - li * yf) / det;
    let b = (sq * yf - full_x.sqrt() * ya) / det;
    if a < -1e-9 || b < -1e-9 {
        let lo = s as f64 + yf * li / full_x;
        let hi = s as f64 + yf * sq / full_x.sqrt();
        return Err(DiskError::Config(format!(
            "disk.hdd.seek: no curve that grows with distance passes through these three points; with this single and full-stroke seek the average must lie between about {} and {} cycles",
            lo.ceil(),
            hi.floor()
        )));
    }
    Ok((a.max(0.0), b.max(0.0)))
}

/// The position of a sector: cylinder, head, sector on the track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Chs {
    /// The cylinder (0 is the outermost).
    pub cylinder: u64,
    /// The head (surface).
    pub head: u64,
    /// The sector number on its track, before skew.
    pub sector: u64,
}

/// One zone of a validated disk: its cylinders, sectors per track, first sector, and the
/// shift (in cycles) that centres its sector 0 where the outermost zone's sector 0 is centred.
#[derive(Clone, Debug)]
pub(crate) struct ZoneGeom {
    pub first_cyl: u64,
    pub cylinders: u64,
    pub spt: u64,
    pub first_lba: u64,
    pub shift: u64,
}

/// A validated spinning disk, with every time in cycles.
#[derive(Clone, Debug)]
pub(crate) struct Hdd {
    pub cylinders: u64,
    pub heads: u64,
    pub zones: Vec<ZoneGeom>,
    pub sector_size: u64,
    pub sectors_per_block: u64,
    pub period: u64,
    pub phase: u64,
    pub seek: SeekModel,
    pub head_switch: u64,
    pub track_skew: u64,
    pub cylinder_skew: u64,
    pub rate: Option<u64>,
    pub clock_hz: u64,
}

/// Where a request's time goes, as planned from a starting time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub seek: u64,
    pub rotation: u64,
    pub transfer: u64,
    /// Seek plus the rotational wait for the first sector.
    pub positioning: u64,
    pub distance: u64,
    pub end_cylinder: u64,
    pub end_head: u64,
    pub first: Option<Chs>,
}

impl Hdd {
    pub(crate) fn new(h: &HddConfig, block_size: u64, clock_hz: u64) -> Result<Hdd, DiskError> {
        let period = rotation_cycles(h, clock_hz).max(1);
        let list: Vec<(u64, u64)> = if h.zones.is_empty() {
            vec![(h.cylinders, h.sectors_per_track)]
        } else {
            h.zones
                .iter()
                .map(|z| (z.cylinders, z.sectors_per_track))
                .collect()
        };
        let half = |spt: u64| period / (2 * spt.max(1));
        let outer = half(list[0].1);
        let (mut first_cyl, mut first_lba) = (0u64, 0u64);
        let mut zones = Vec::new();
        for (cyls, spt) in list {
            zones.push(ZoneGeom {
                first_cyl,
                cylinders: cyls,
                spt,
                first_lba,
                // (In u128: a period near 2^64 cycles must not overflow.)
                shift: ((outer as u128 + period as u128 - (half(spt) % period) as u128)
                    % period as u128) as u64,
            });
            first_cyl = first_cyl.saturating_add(cyls);
            first_lba = first_lba.saturating_add(cyls.saturating_mul(h.heads).saturating_mul(spt));
        }
        let mut d = Hdd {
            cylinders: h.cylinders,
            heads: h.heads,
            zones,
            sector_size: h.sector_size,
            sectors_per_block: block_size / h.sector_size,
            period,
            phase: 0,
            seek: SeekModel::new(&h.seek, h.cylinders, clock_hz)?,
            head_switch: h.head_switch.cycles(clock_hz),
            track_skew: h.track_skew,
            cylinder_skew: h.cylinder_skew,
            rate: h.transfer_rate.map(|r| r.0),
            clock_hz,
        };
        d.phase = match h.start_sector {
            None => round_f64(h.start_angle * period as f64 / 360.0) % period,
            Some(x) => {
                // `x` sectors past sector 0 of the start track: the slot of sector ⌊x⌋, and
                // the fraction of that slot's length.
                let (c, hd) = (h.start_cylinder, h.start_head);
                let spt = d.zone(c).spt;
                let k = d.slot(c, hd, (x.floor() as u64).min(spt - 1));
                let len = d.boundary(c, k + 1) - d.boundary(c, k);
                let frac = round_f64((x - x.floor()) * len as f64);
                (d.boundary(c, k) + frac) % period
            }
        };
        Ok(d)
    }

    /// The zone cylinder `c` lies in.
    pub(crate) fn zone(&self, c: u64) -> &ZoneGeom {
        let i = self
            .zones
            .partition_point(|z| z.first_cyl + z.cylinders <= c)
            .min(self.zones.len() - 1);
        &self.zones[i]
    }

    /// The sectors on a track of cylinder `c`.
    pub(crate) fn spt(&self, c: u64) -> u64 {
        self.zone(c).spt
    }

    /// Total sectors.
    pub(crate) fn sectors(&self) -> u64 {
        self.zones
            .iter()
            .map(|z| z.cylinders * self.heads * z.spt)
            .sum()
    }

    /// The position of sector `lba`.
    pub(crate) fn chs(&self, lba: u64) -> Chs {
        let i = self
            .zones
            .partition_point(|z| z.first_lba <= lba)
            .saturating_sub(1);
        let z = &self.zones[i];
        let (l, spt) = (lba - z.first_lba, z.spt);
        let per_cyl = self.heads * spt;
        Chs {
            cylinder: z.first_cyl + l / per_cyl,
            head: l % per_cyl / spt,
            sector: l % spt,
        }
    }

    /// The slot under which sector `s` of track (`c`, `h`) lies, after skew.
    pub(crate) fn slot(&self, c: u64, h: u64, s: u64) -> u64 {
        let track = c as u128 * self.heads as u128 + h as u128;
        let skew = track * self.track_skew as u128 + c as u128 * self.cylinder_skew as u128;
        ((s as u128 + skew) % self.spt(c) as u128) as u64
    }

    /// Cycles from the start of a revolution to the start of slot `k` of a track on cylinder
    /// `c` (which may exceed the sectors per track: slot `S + j` is slot `j` one revolution
    /// later), including the zone's shift.
    pub(crate) fn boundary(&self, c: u64, k: u64) -> u64 {
        let z = self.zone(c);
        let (p, s) = (self.period as u128, z.spt as u128);
        let k = k as u128;
        let v = k / s * p + (k % s) * p / s + z.shift as u128;
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// The platter's position at cycle `t`, in cycles into the revolution.
    pub(crate) fn angle(&self, t: u64) -> u64 {
        ((t as u128 + self.phase as u128) % self.period as u128) as u64
    }

    /// The cycles from `t` until the start of `slot` of a track on cylinder `c` is under
    /// the head.
    pub(crate) fn wait(&self, t: u64, c: u64, slot: u64) -> u64 {
        let b = self.boundary(c, slot) % self.period;
        let a = self.angle(t);
        // (In u128: a period near 2^64 cycles must not overflow.)
        ((b as u128 + self.period as u128 - a as u128) % self.period as u128) as u64
    }

    /// The cycles to transfer `n` sectors starting at `slot`.
    fn transfer(&self, c: u64, slot: u64, n: u64) -> u64 {
        match self.rate {
            Some(rate) => {
                let bytes = n as u128 * self.sector_size as u128;
                let r = rate as u128;
                let v = (bytes * self.clock_hz as u128 + r / 2) / r;
                u64::try_from(v).unwrap_or(u64::MAX)
            }
            None => self.boundary(c, slot + n) - self.boundary(c, slot),
        }
    }

    /// Plans a request for `count` blocks at `block`, with the arm at (`cyl`, `head`) and
    /// passing through the cylinders of `route` first, starting to move at cycle `t0`.
    pub(crate) fn plan(
        &self,
        cyl: u64,
        head: u64,
        route: &[u64],
        block: u64,
        count: u64,
        t0: u64,
    ) -> Plan {
        let first = self.chs(block * self.sectors_per_block);
        let mut p = Plan {
            first: Some(first),
            ..Plan::default()
        };
        let mut cur = cyl;
        for &w in route.iter().chain(std::iter::once(&first.cylinder)) {
            let d = cur.abs_diff(w);
            p.distance += d;
            p.seek = p.seek.saturating_add(self.seek.time(d));
            cur = w;
        }
        if p.distance == 0 && head != first.head {
            p.seek = p.seek.saturating_add(self.head_switch);
        }
        let mut t = t0.saturating_add(p.seek);
        let mut remaining = count.saturating_mul(self.sectors_per_block);
        let (mut c, mut h, mut s) = (first.cylinder, first.head, first.sector);
        let mut first_track = true;
        loop {
            let slot = self.slot(c, h, s);
            let w = self.wait(t, c, slot);
            if first_track {
                p.positioning = p.seek.saturating_add(w);
                first_track = false;
            }
            p.rotation = p.rotation.saturating_add(w);
            t = t.saturating_add(w);
            let n = remaining.min(self.spt(c) - s);
            let x = self.transfer(c, slot, n);
            p.transfer = p.transfer.saturating_add(x);
            t = t.saturating_add(x);
            remaining -= n;
            if remaining == 0 || (c + 1 == self.cylinders && h + 1 == self.heads) {
                break;
            }
            s = 0;
            h += 1;
            let switch = if h == self.heads {
                h = 0;
                c += 1;
                p.distance += 1;
                self.seek.time(1)
            } else {
                self.head_switch
            };
            p.seek = p.seek.saturating_add(switch);
            t = t.saturating_add(switch);
        }
        p.end_cylinder = c;
        p.end_head = h;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::super::time::Time;
    use super::*;

    fn ms(v: u64) -> Time {
        Time::ms(v)
    }

    #[test]
    fn constant_and_linear_curves() {
        let c = SeekModel::new(&SeekCurve::Constant { time: ms(5) }, 100, 1000).unwrap();
        assert_eq!((c.time(0), c.time(1), c.time(99)), (0, 5, 5));
        let l = SeekModel::new(
            &SeekCurve::Linear {
                settle: ms(2),
                per_cylinder: ms(3),
            },
            100,
            1000,
        )
        .unwrap();
        // 0 -> 0; 1 -> 2 + 3 = 5; 10 -> 2 + 30 = 32.
        assert_eq!((l.time(0), l.time(1), l.time(10)), (0, 5, 32));
    }

    #[test]
    fn sqrt_linear_curve() {
        // Ruemmler and Wilkes' HP 97560 in µs at 1 MHz: 3.24 + 0.400·√d ms below 383
        // cylinders, 8.00 + 0.008·d ms from 383 on.
        let m = SeekModel::new(
            &SeekCurve::SqrtLinear {
                settle: Time::us(3240),
                sqrt: Time::us(400),
                boundary: 383,
                long_settle: Time::us(8000),
                per_cylinder: Time::us(8),
            },
            1962,
            1_000_000,
        )
        .unwrap();
        assert_eq!(m.time(1), 3640); // 3240 + 400·1
        assert_eq!(m.time(100), 7240); // 3240 + 400·10
        assert_eq!(m.time(2), 3806); // 3240 + round(400·1.41421) = 3240 + 566
        assert_eq!(m.time(383), 11064); // 8000 + 8·383
        assert_eq!(m.time(1961), 23688);
    }

    #[test]
    fn three_point_curve_passes_through_its_points() {
        let m = SeekModel::new(
            &SeekCurve::ThreePoint {
                single: ms(1),
                average: ms(8),
                full: ms(15),
            },
            1000,
            1_000_000,
        )
        .unwrap();
        assert_eq!(m.time(1), 1000);
        assert_eq!(m.time(999), 15000);
        // The mean over all pairs of distinct cylinders is the average (within rounding).
        let (mut sum, mut n) = (0u128, 0u128);
        for d in 1..1000u64 {
            let w = 2 * (1000 - d) as u128;
            sum += w * m.time(d) as u128;
            n += w;
        }
        assert!((sum / n).abs_diff(8000) <= 1, "{}", sum / n);
        // It grows with distance.
        assert!((1..999).all(|d| m.time(d) <= m.time(d + 1)));
        // An average above what a growing curve allows is refused.
        assert!(SeekModel::new(
            &SeekCurve::ThreePoint {
                single: ms(1),
                average: ms(14),
                full: ms(15)
            },
            1000,
            1_000_000
        )
        .is_err());
    }

    fn ostep() -> Hdd {
        // OSTEP's disk.py: 3 tracks of 12 sectors, 360 time units a revolution, 40 units a
        // track of seek, head halfway through sector 6 at time 0.
        let cfg = HddConfig {
            cylinders: 3,
            heads: 1,
            sectors_per_track: 12,
            sector_size: 512,
            rotation: Some(Time::Cycles(360)),
            seek: SeekCurve::Linear {
                settle: Time::ZERO,
                per_cylinder: Time::Cycles(40),
            },
            start_angle: 195.0,
            ..HddConfig::default()
        };
        Hdd::new(&cfg, 512, 1000).unwrap()
    }

    #[test]
    fn ostep_single_request() {
        let d = ostep();
        // Sector 10 starts at 300; the head is at 195: wait 105, transfer 30.
        let p = d.plan(0, 0, &[], 10, 1, 0);
        assert_eq!((p.seek, p.rotation, p.transfer), (0, 105, 30));
    }

    #[test]
    fn rotation_is_state_two_requests_in_a_row() {
        let d = ostep();
        let a = d.plan(0, 0, &[], 10, 1, 0);
        let t = a.seek + a.rotation + a.transfer; // 135: the head is at the end of sector 10
                                                  // Sector 18 is slot 6 of track 1, starting at 180; at 135 + 40 = 175 the platter is
                                                  // at (175 + 195) mod 360 = 10: wait 170.
        let b = d.plan(a.end_cylinder, a.end_head, &[], 18, 1, t);
        assert_eq!((b.seek, b.rotation, b.transfer), (40, 170, 30));
        // Sector 11 right after sector 10: no wait at all.
        let c = d.plan(0, 0, &[], 11, 1, t);
        assert_eq!((c.seek, c.rotation, c.transfer), (0, 0, 30));
    }

    #[test]
    fn multi_track_transfer_pays_the_switch() {
        let mut d = ostep();
        d.heads = 2;
        d.zones[0].cylinders = 3;
        d.head_switch = 5;
        d.track_skew = 1;
        // Sectors 11 and 12: slot 11 on track 0, then sector 0 of head 1, which lies under
        // slot 1 (skew 1). Start at time 165 (angle 0): wait 330 to slot 11, transfer 30,
        // switch 5 (angle 5), wait 25 to slot 1 (30), transfer 30.
        let p = d.plan(0, 0, &[], 11, 2, 165);
        assert_eq!((p.seek, p.rotation, p.transfer), (5, 355, 60));
        assert_eq!((p.end_cylinder, p.end_head), (0, 1));
    }
}
