//! Property tests over many random disks and request lists, decoded with `arbitrary` from
//! seeded byte streams (deterministic: the same seeds every run).
//!
//! For every case: every accepted request completes exactly once; `finish >= start >=
//! arrival`; the parts of a request's time add up to its service time; completions come in
//! finishing order; a spinning disk serves one request at a time and an SSD at most
//! `channels`; FCFS serves in arrival order; the statistics agree with the completions; and
//! driving the disk step by step with `next_event`/`advance` gives the same result as
//! submitting everything and draining.

use arbitrary::{Arbitrary, Unstructured};
use std::collections::BTreeMap;
use vmlab_devices::disk::{
    Completion, Disk, DiskConfig, DiskOp, DiskRequest, HddConfig, Rate, Scheduler, SeekCurve,
    SsdConfig, Time,
};
use vmlab_devices::Cycle;

/// A splitmix64 byte stream.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

fn time(u: &mut Unstructured, max: u64) -> arbitrary::Result<Time> {
    Ok(if bool::arbitrary(u)? {
        Time::Cycles(u.int_in_range(0..=max)?)
    } else {
        // Picoseconds at the 1 MHz..1 GHz clocks below: up to `max` µs.
        Time::Picos(u.int_in_range(0..=max * 1_000_000)?)
    })
}

fn config(u: &mut Unstructured) -> arbitrary::Result<DiskConfig> {
    let clock_hz = *u.choose(&[1_000, 1_000_000, 1_000_000_000])?;
    let scheduler = *u.choose(&Scheduler::ALL)?;
    let overhead = time(u, 50)?;
    if u.ratio(1, 4)? {
        let block_size = *u.choose(&[512, 4096])?;
        return Ok(DiskConfig {
            clock_hz,
            block_size,
            scheduler,
            overhead,
            ssd: Some(SsdConfig {
                blocks: u.int_in_range(1..=500)?,
                read_latency: time(u, 100)?,
                write_latency: time(u, 400)?,
                bandwidth: Rate(u.int_in_range(1..=4_000_000_000)?),
                channels: u.int_in_range(1..=4)?,
            }),
            ..DiskConfig::default()
        });
    }
    let sector_size = *u.choose(&[256, 512])?;
    let spb = u.int_in_range(1..=4)?;
    let cylinders = u.int_in_range(1..=80)?;
    let heads = u.int_in_range(1..=4)?;
    let spt = u.int_in_range(spb.max(1)..=40)?;
    let seek = match u.int_in_range(0..=3)? {
        0 => SeekCurve::Constant { time: time(u, 20)? },
        1 => SeekCurve::Linear {
            settle: time(u, 20)?,
            per_cylinder: time(u, 3)?,
        },
        2 => SeekCurve::SqrtLinear {
            settle: time(u, 20)?,
            sqrt: time(u, 5)?,
            boundary: u.int_in_range(0..=100)?,
            long_settle: time(u, 30)?,
            per_cylinder: time(u, 2)?,
        },
        _ => {
            let single = u.int_in_range(0..=10)?;
            let full = single + u.int_in_range(0..=100)?;
            // Keep the average inside the range a growing curve allows.
            let average = single + (full - single) * u.int_in_range(35..=60)? / 100;
            SeekCurve::ThreePoint {
                single: Time::Cycles(single),
                average: Time::Cycles(average),
                full: Time::Cycles(full),
            }
        }
    };
    let (rpm, rotation) = if bool::arbitrary(u)? {
        (None, Some(Time::Cycles(u.int_in_range(1..=5_000)?)))
    } else {
        (Some(*u.choose(&[5400, 7200, 15000])?), None)
    };
    Ok(DiskConfig {
        clock_hz: if rpm.is_some() { 1_000_000 } else { clock_hz },
        block_size: sector_size * spb,
        scheduler,
        overhead,
        hdd: Some(HddConfig {
            cylinders,
            heads,
            sectors_per_track: spt,
            sector_size,
            rpm,
            rotation,
            seek,
            head_switch: time(u, 10)?,
            track_skew: u.int_in_range(0..=5)?,
            cylinder_skew: u.int_in_range(0..=5)?,
            transfer_rate: if u.ratio(1, 5)? {
                Some(Rate(u.int_in_range(1_000..=100_000_000)?))
            } else {
                None
            },
            start_cylinder: u.int_in_range(0..=cylinders - 1)?,
            start_head: u.int_in_range(0..=heads - 1)?,
            start_angle: u.int_in_range(0..=359u32)? as f64,
            ..HddConfig::default()
        }),
        ..DiskConfig::default()
    })
}

fn requests(u: &mut Unstructured, blocks: u64) -> arbitrary::Result<Vec<DiskRequest>> {
    let n = u.int_in_range(0..=40)?;
    let mut t = 0u64;
    let mut v = Vec::new();
    for id in 0..n {
        t += u.int_in_range(0..=3_000)? * u64::from(u.ratio(2, 3)?);
        let block = u.int_in_range(0..=blocks + 2)?;
        v.push(DiskRequest {
            id: 1000 + id,
            op: if bool::arbitrary(u)? {
                DiskOp::Read
            } else {
                DiskOp::Write
            },
            block,
            count: u.int_in_range(0..=3)?,
            arrival: Cycle(t),
        });
    }
    Ok(v)
}

/// Runs one case; returns how many requests completed (0 when the bytes gave no case).
fn check_case(seed: u64) -> usize {
    let data = bytes(seed, 2048);
    let mut u = Unstructured::new(&data);
    let Ok(cfg) = config(&mut u) else {
        return 0;
    };
    let mut disk = match Disk::new(cfg.clone()) {
        Ok(d) => d,
        // Three random points need not admit a curve that grows with distance.
        Err(e) if e.to_string().contains("three points") => return 0,
        Err(e) => panic!("seed {seed}: {e}"),
    };
    let Ok(reqs) = requests(&mut u, disk.blocks()) else {
        return 0;
    };

    // Submit everything, then drain.
    let mut accepted = Vec::new();
    for r in &reqs {
        let ok = disk.submit(*r).is_ok();
        let valid = r.count > 0 && r.block + r.count <= disk.blocks();
        assert_eq!(ok, valid, "seed {seed}: {r:?}");
        if ok {
            accepted.push(*r);
        }
    }
    let done = disk.drain();
    check_completions(seed, &cfg, &accepted, &done);
    let s = disk.stats();
    assert_eq!(s.requests(), accepted.len() as u64, "seed {seed}");
    assert_eq!(
        s.read.blocks + s.write.blocks,
        accepted.iter().map(|r| r.count).sum::<u64>()
    );
    let service: u64 = done.iter().map(|c| c.service().0).sum();
    assert_eq!(s.read.service_cycles + s.write.service_cycles, service);
    assert!(s.busy_cycles <= service, "seed {seed}");

    // Step by step: advance to just before each arrival, submit, then follow next_event.
    let mut stepped = Disk::new(cfg.clone()).unwrap();
    let mut got = Vec::new();
    for r in &accepted {
        if r.arrival.0 > 0 {
            got.extend(stepped.advance(Cycle(r.arrival.0 - 1)));
        }
        stepped.submit(*r).unwrap();
    }
    let mut last = 0;
    while let Some(t) = stepped.next_event() {
        assert!(t.0 >= last, "seed {seed}: next_event went back in time");
        last = t.0;
        let batch = stepped.advance(t);
        assert!(
            !batch.is_empty(),
            "seed {seed}: next_event promised a completion at {t}"
        );
        assert!(batch.iter().all(|c| c.finish <= t));
        got.extend(batch);
    }
    assert!(stepped.is_idle());
    assert_eq!(got, done, "seed {seed}: stepping differs from draining");
    assert_eq!(stepped.stats(), disk.stats(), "seed {seed}");

    // Deterministic.
    let mut again = Disk::new(cfg).unwrap();
    for r in &accepted {
        again.submit(*r).unwrap();
    }
    assert_eq!(again.drain(), done, "seed {seed}: not deterministic");
    done.len()
}

fn check_completions(seed: u64, cfg: &DiskConfig, accepted: &[DiskRequest], done: &[Completion]) {
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for c in done {
        *seen.entry(c.id).or_default() += 1;
        let r = accepted
            .iter()
            .find(|r| r.id == c.id)
            .unwrap_or_else(|| panic!("seed {seed}: unknown id {}", c.id));
        assert_eq!(
            (c.op, c.block, c.count, c.arrival),
            (r.op, r.block, r.count, r.arrival)
        );
        assert!(
            c.start >= c.arrival && c.finish >= c.start,
            "seed {seed}: {c:?}"
        );
        assert_eq!(c.queue.0, c.start.0 - c.arrival.0);
        let parts = c.overhead.0 + c.latency.0 + c.seek.0 + c.rotation.0 + c.transfer.0;
        assert_eq!(c.service().0, parts, "seed {seed}: {c:?}");
        if cfg.ssd.is_none() {
            // A rotational wait is less than a revolution for each track touched.
            assert_eq!(c.latency.0, 0);
        } else {
            assert_eq!((c.seek.0, c.rotation.0), (0, 0));
        }
    }
    assert_eq!(
        seen.len(),
        accepted.len(),
        "seed {seed}: not every request completed"
    );
    assert!(
        seen.values().all(|&n| n == 1),
        "seed {seed}: a request completed twice"
    );
    assert!(
        done.windows(2).all(|w| w[0].finish <= w[1].finish),
        "seed {seed}"
    );
    let servers = cfg.ssd.as_ref().map_or(1, |s| s.channels) as usize;
    // At no start are more than `servers` requests in service.
    for c in done {
        let busy = done
            .iter()
            .filter(|o| o.start <= c.start && o.finish > c.start)
            .count();
        assert!(
            busy <= servers,
            "seed {seed}: {busy} requests at once at {}",
            c.start
        );
    }
    if cfg.scheduler == Scheduler::Fcfs && servers == 1 {
        let order: Vec<u64> = done.iter().map(|c| c.id).collect();
        let mut by_arrival = order.clone();
        by_arrival.sort();
        assert_eq!(order, by_arrival, "seed {seed}: FCFS out of order");
    }
}

#[test]
fn random_disks_and_request_lists() {
    let mut completed = 0;
    let mut cases = 0;
    for seed in 0..600 {
        let n = check_case(seed);
        completed += n;
        cases += usize::from(n > 0);
    }
    // The generator really produces work: most cases run, with many requests each.
    assert!(
        cases > 450 && completed > 5000,
        "{cases} cases, {completed} requests"
    );
}

#[test]
fn config_bytes_never_panic() {
    // Arbitrary (even nonsensical) configurations are errors, never panics.
    for seed in 0..300 {
        let data = bytes(seed ^ 0xdead_beef, 512);
        let mut u = Unstructured::new(&data);
        let h = HddConfig {
            cylinders: u.int_in_range(0..=3).unwrap_or(0),
            heads: u.int_in_range(0..=3).unwrap_or(0),
            sectors_per_track: u.int_in_range(0..=3).unwrap_or(0),
            sector_size: *u.choose(&[0, 1, 512, u64::MAX]).unwrap_or(&512),
            rpm: if u.ratio(1, 2).unwrap_or(false) {
                Some(u.int_in_range(0..=2_000_000).unwrap_or(0))
            } else {
                None
            },
            rotation: if u.ratio(1, 2).unwrap_or(false) {
                Some(Time::Picos(u.int_in_range(0..=10_000).unwrap_or(0)))
            } else {
                None
            },
            start_angle: *u
                .choose(&[0.0, -1.0, 359.9, f64::NAN, 1e300])
                .unwrap_or(&0.0),
            start_cylinder: u.int_in_range(0..=4).unwrap_or(0),
            ..HddConfig::default()
        };
        let cfg = DiskConfig {
            clock_hz: *u.choose(&[0, 1, 1_000_000_000]).unwrap_or(&1),
            block_size: *u.choose(&[0, 1, 512, 4096, u64::MAX]).unwrap_or(&512),
            hdd: Some(h),
            ..DiskConfig::default()
        };
        if let Ok(mut d) = Disk::new(cfg) {
            let blocks = d.blocks();
            let _ = d.submit(DiskRequest {
                id: 0,
                op: DiskOp::Read,
                block: blocks.saturating_sub(1),
                count: 1,
                arrival: Cycle(u64::MAX - 5),
            });
            let c = d.drain();
            assert!(c.iter().all(|c| c.finish >= c.start));
        }
    }
}
