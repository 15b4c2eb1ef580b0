//! Every scheduler on known request lists, with the service order and the total time worked
//! out by hand in the comments; SSD channels; the event API.

use vmlab_devices::disk::{
    Completion, Disk, DiskConfig, DiskError, DiskOp, DiskRequest, HddConfig, Scheduler, SeekCurve,
    SsdConfig, Time,
};
use vmlab_devices::Cycle;

/// The textbook disk: 200 cylinders of one track of one sector, so block = cylinder. One
/// revolution is one cycle (no rotational wait ever), a sector transfers in one cycle, and
/// the arm moves one cylinder per cycle with no settle time. A request's service time is
/// therefore `|distance| + 1`.
fn textbook(scheduler: Scheduler, start: u64) -> Disk {
    Disk::new(DiskConfig {
        clock_hz: 1_000_000,
        block_size: 512,
        scheduler,
        hdd: Some(HddConfig {
            cylinders: 200,
            heads: 1,
            sectors_per_track: 1,
            rotation: Some(Time::Cycles(1)),
            seek: SeekCurve::Linear {
                settle: Time::ZERO,
                per_cylinder: Time::Cycles(1),
            },
            start_cylinder: start,
            ..HddConfig::default()
        }),
        ..DiskConfig::default()
    })
    .unwrap()
}

/// The queue of the classic example (Silberschatz et al.): head at 53.
const QUEUE: [u64; 8] = [98, 183, 37, 122, 14, 124, 65, 67];

fn read(id: u64, block: u64, at: u64) -> DiskRequest {
    DiskRequest {
        id,
        op: DiskOp::Read,
        block,
        count: 1,
        arrival: Cycle(at),
    }
}

fn run_all(disk: &mut Disk, blocks: &[u64]) -> Vec<Completion> {
    for (i, &b) in blocks.iter().enumerate() {
        disk.submit(read(i as u64, b, 0)).unwrap();
    }
    disk.drain()
}

/// Runs the classic queue and returns the cylinders in service order and the finish time.
fn classic(s: Scheduler) -> (Vec<u64>, u64, u64) {
    let mut d = textbook(s, 53);
    let done = run_all(&mut d, &QUEUE);
    let order: Vec<u64> = done.iter().map(|c| c.block).collect();
    let distance: u64 = done.iter().map(|c| c.seek_distance).sum();
    (order, distance, done.last().unwrap().finish.0)
}

#[test]
fn fcfs() {
    // 53→98→183→37→122→14→124→65→67: 45+85+146+85+108+110+59+2 = 640 cylinders,
    // plus 8 one-cycle transfers: 648 cycles.
    assert_eq!(classic(Scheduler::Fcfs), (QUEUE.to_vec(), 640, 648));
}

#[test]
fn sstf() {
    // 53→65→67→37→14→98→122→124→183: 12+2+30+23+84+24+2+59 = 236; + 8 = 244.
    assert_eq!(
        classic(Scheduler::Sstf),
        (vec![65, 67, 37, 14, 98, 122, 124, 183], 236, 244)
    );
}

#[test]
fn scan() {
    // The arm starts moving up: 53→65→67→98→122→124→183, on to the edge 199, then down to
    // 37→14: 146 + 16 + 162 + 23 = 331 cylinders; + 8 = 339.
    assert_eq!(
        classic(Scheduler::Scan),
        (vec![65, 67, 98, 122, 124, 183, 37, 14], 331, 339)
    );
}

#[test]
fn look() {
    // Up to 183, turn there: 130 + 146 (183→37) + 23 = 299; + 8 = 307.
    assert_eq!(
        classic(Scheduler::Look),
        (vec![65, 67, 98, 122, 124, 183, 37, 14], 299, 307)
    );
}

#[test]
fn c_scan() {
    // Up to 183, on to 199, back to 0, up to 14 and 37: 146 + 199 + 37 = 382; + 8 = 390.
    assert_eq!(
        classic(Scheduler::CScan),
        (vec![65, 67, 98, 122, 124, 183, 14, 37], 382, 390)
    );
}

#[test]
fn c_look() {
    // Up to 183, jump to 14, up to 37: 130 + 169 + 23 = 322; + 8 = 330.
    assert_eq!(
        classic(Scheduler::CLook),
        (vec![65, 67, 98, 122, 124, 183, 14, 37], 322, 330)
    );
}

#[test]
fn sptf_on_a_disk_without_rotation_is_sstf() {
    // With no rotational wait, positioning time is seek time.
    let (order, distance, _) = classic(Scheduler::Sptf);
    assert_eq!(
        (order, distance),
        (vec![65, 67, 37, 14, 98, 122, 124, 183], 236)
    );
}

#[test]
fn scan_going_down_first() {
    // After serving 14 the arm is moving down; a new batch then sweeps down to 0 first.
    let mut d = textbook(Scheduler::Scan, 53);
    d.submit(read(0, 14, 0)).unwrap();
    let first = d.drain();
    // 53 is below nothing: the arm goes up to 199 first, then down to 14: 146 + 185 = 331.
    assert_eq!(first[0].seek_distance, 331);
    for (i, b) in [20u64, 5, 60].into_iter().enumerate() {
        d.submit(read(10 + i as u64, b, first[0].finish.0)).unwrap();
    }
    let order: Vec<u64> = d.drain().iter().map(|c| c.block).collect();
    // Moving down from 14: 5, then the edge 0, then up to 20 and 60.
    assert_eq!(order, vec![5, 20, 60]);
}

/// A small disk where rotation matters: 2 cylinders, 1 head, 4 sectors per track, one
/// revolution = 400 cycles (a sector is 100), any seek costs 50. The platter is at angle 0 at
/// cycle 0. Block b is cylinder b / 4, sector b % 4.
fn spinning(s: Scheduler) -> Disk {
    Disk::new(DiskConfig {
        clock_hz: 1_000_000,
        block_size: 512,
        scheduler: s,
        hdd: Some(HddConfig {
            cylinders: 2,
            heads: 1,
            sectors_per_track: 4,
            rotation: Some(Time::Cycles(400)),
            seek: SeekCurve::Constant {
                time: Time::Cycles(50),
            },
            ..HddConfig::default()
        }),
        ..DiskConfig::default()
    })
    .unwrap()
}

#[test]
fn sptf_uses_the_rotational_position() {
    // Submitted in the order B (block 3: cyl 0, sector 3), C (block 2: cyl 0, sector 2),
    // A (block 5: cyl 1, sector 1), all at cycle 0, arm on cylinder 0, platter at 0.
    //
    // SPTF at 0: B needs a 300 wait; C 200; A a 50 seek, then the platter is at 50 and
    // sector 1 starts at 100: 100 in all. A first: 50 + 50 + 100 = finishes at 200.
    // At 200 on cylinder 1: B = seek 50 (angle 250) + wait to 300 = 100; C = 50 + wait to
    // 200 (a whole turn less 50) = 400. B: 200 + 50 + 50 + 100 = 400. Then C at angle 0:
    // wait 200, transfer 100: 700.
    let mut d = spinning(Scheduler::Sptf);
    let done = run_all(&mut d, &[3, 2, 5]);
    let got: Vec<(u64, u64, u64, u64, u64)> = done
        .iter()
        .map(|c| (c.block, c.seek.0, c.rotation.0, c.transfer.0, c.finish.0))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, 50, 50, 100, 200),
            (3, 50, 50, 100, 400),
            (2, 0, 200, 100, 700)
        ]
    );

    // FCFS on the same list: B waits 300 and ends at 400; C (platter at 0) waits 200 and
    // ends at 700; A seeks 50 (angle 350), waits 150 to reach 100, ends at 1000.
    let mut d = spinning(Scheduler::Fcfs);
    let done = run_all(&mut d, &[3, 2, 5]);
    let got: Vec<(u64, u64)> = done.iter().map(|c| (c.block, c.finish.0)).collect();
    assert_eq!(got, vec![(3, 400), (2, 700), (5, 1000)]);
    // SSTF takes B before C (same cylinder, B arrived first), then A: the same as FCFS here.
    let mut d = spinning(Scheduler::Sstf);
    let order: Vec<u64> = run_all(&mut d, &[3, 2, 5])
        .iter()
        .map(|c| c.block)
        .collect();
    assert_eq!(order, vec![3, 2, 5]);
}

#[test]
fn queueing_time_and_arrivals() {
    // FCFS on the textbook disk, head at 0: request 0 (cylinder 10) at 0 takes 11 cycles;
    // request 1 (cylinder 20) arrives at 5, waits until 11 (queue 6), takes 11: ends at 22;
    // request 2 (cylinder 0) arrives at 100, when the disk is idle: no queue, 21 cycles.
    let mut d = textbook(Scheduler::Fcfs, 0);
    d.submit(read(0, 10, 0)).unwrap();
    d.submit(read(1, 20, 5)).unwrap();
    d.submit(read(2, 0, 100)).unwrap();
    let done = d.drain();
    let got: Vec<(u64, u64, u64, u64)> = done
        .iter()
        .map(|c| (c.id, c.start.0, c.queue.0, c.finish.0))
        .collect();
    assert_eq!(got, vec![(0, 0, 0, 11), (1, 11, 6, 22), (2, 100, 0, 121)]);
    let s = d.stats();
    assert_eq!(s.read.requests, 3);
    assert_eq!(s.read.queue_max, 6);
    assert_eq!(s.read.service_max, 21);
    assert_eq!(s.busy_cycles, 22 + 21);
    assert_eq!(s.read.avg_service(), Some(14)); // (11 + 11 + 21) / 3 = 14.33
}

#[test]
fn a_late_request_sees_the_arm_where_it_is() {
    // SSTF with the head at 53: 60 is served first (nearest); 40 and 100 arrive while it is
    // in service (at 3); from 60, 40 is 20 away and 100 is 40: 40, then 100.
    let mut d = textbook(Scheduler::Sstf, 53);
    d.submit(read(0, 60, 0)).unwrap();
    d.submit(read(1, 100, 3)).unwrap();
    d.submit(read(2, 40, 3)).unwrap();
    let order: Vec<u64> = d.drain().iter().map(|c| c.block).collect();
    assert_eq!(order, vec![60, 40, 100]);
}

fn ssd(channels: u64) -> Disk {
    // 1 cycle = 1 µs; a 4096-byte block moves in 1 µs at 4096 MB/s.
    Disk::new(DiskConfig {
        clock_hz: 1_000_000,
        block_size: 4096,
        ssd: Some(SsdConfig {
            blocks: 1024,
            read_latency: Time::us(10),
            write_latency: Time::us(50),
            bandwidth: vmlab_devices::disk::Rate(4_096_000_000),
            channels,
        }),
        ..DiskConfig::default()
    })
    .unwrap()
}

#[test]
fn ssd_latency_and_bandwidth() {
    // A read of 4 blocks: 10 + 4 = 14 µs; then a write of 1: 50 + 1 = 51, ends at 65.
    let mut d = ssd(1);
    d.submit(DiskRequest {
        count: 4,
        ..read(0, 100, 0)
    })
    .unwrap();
    d.submit(DiskRequest {
        op: DiskOp::Write,
        ..read(1, 7, 0)
    })
    .unwrap();
    let done = d.drain();
    let got: Vec<(u64, u64, u64, u64)> = done
        .iter()
        .map(|c| (c.latency.0, c.transfer.0, c.start.0, c.finish.0))
        .collect();
    assert_eq!(got, vec![(10, 4, 0, 14), (50, 1, 14, 65)]);
    assert_eq!((done[0].seek.0, done[0].rotation.0), (0, 0));
}

#[test]
fn ssd_channels_serve_in_parallel() {
    // Four 11-µs reads at 0. One channel: 11, 22, 33, 44. Two: 11, 11, 22, 22, on channels
    // 0, 1, 0, 1; the disk is busy 22 µs.
    let mut one = ssd(1);
    let f1: Vec<u64> = run_all(&mut one, &[1, 2, 3, 4])
        .iter()
        .map(|c| c.finish.0)
        .collect();
    assert_eq!(f1, vec![11, 22, 33, 44]);
    let mut two = ssd(2);
    let done = run_all(&mut two, &[1, 2, 3, 4]);
    let f2: Vec<(u64, u64, u64)> = done.iter().map(|c| (c.id, c.channel, c.finish.0)).collect();
    assert_eq!(f2, vec![(0, 0, 11), (1, 1, 11), (2, 0, 22), (3, 1, 22)]);
    assert_eq!(two.stats().busy_cycles, 22);
    assert_eq!(one.stats().busy_cycles, 44);
}

#[test]
fn next_event_and_advance() {
    let mut d = textbook(Scheduler::Fcfs, 0);
    assert_eq!(d.next_event(), None);
    d.submit(read(7, 10, 0)).unwrap();
    d.submit(read(8, 15, 0)).unwrap();
    // Request 7 ends at 11 (10 cylinders + 1), request 8 at 11 + 6 = 17.
    assert_eq!(d.next_event(), Some(Cycle(11)));
    assert!(d.advance(Cycle(10)).is_empty());
    assert_eq!(d.in_service(), 1);
    let a = d.advance(Cycle(11));
    assert_eq!(a.iter().map(|c| c.id).collect::<Vec<_>>(), vec![7]);
    assert_eq!(d.next_event(), Some(Cycle(17)));
    // A request submitted now (at 12) cannot start before 17, when the disk frees up.
    d.submit(read(9, 15, 12)).unwrap();
    let b = d.advance(Cycle(100));
    let got: Vec<(u64, u64, u64)> = b.iter().map(|c| (c.id, c.start.0, c.finish.0)).collect();
    assert_eq!(got, vec![(8, 11, 17), (9, 17, 18)]);
    assert!(d.is_idle());
    assert_eq!(d.next_event(), None);
    // Arriving in the past: the request starts at the horizon (100), not before.
    d.submit(read(10, 15, 50)).unwrap();
    let c = d.drain();
    assert_eq!((c[0].start.0, c[0].queue.0), (100, 50));
}

#[test]
fn bad_requests() {
    let mut d = textbook(Scheduler::Fcfs, 0);
    assert_eq!(
        d.submit(DiskRequest {
            count: 0,
            ..read(1, 0, 0)
        }),
        Err(DiskError::ZeroCount { id: 1 })
    );
    let e = d.submit(read(2, 200, 0)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "request 2: blocks 200..200 are beyond the last block 199 (the disk has 200 blocks, 0..199)"
    );
    assert!(d
        .submit(DiskRequest {
            count: u64::MAX,
            ..read(3, 5, 0)
        })
        .is_err());
    assert!(d.is_idle());
    let e = Scheduler::from_name("elevater").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown scheduler `elevater`; the schedulers are: fcfs, sstf, scan, look, c-scan, c-look, sptf"
    );
    assert_eq!(Scheduler::from_name("C_LOOK"), Ok(Scheduler::CLook));
    assert_eq!(Scheduler::from_name("elevator"), Ok(Scheduler::Scan));
}

#[test]
fn bad_configurations() {
    let hdd = |h: HddConfig| DiskConfig {
        block_size: 512,
        hdd: Some(h),
        ..DiskConfig::default()
    };
    for (cfg, needle) in [
        (
            hdd(HddConfig {
                rpm: Some(0),
                ..HddConfig::default()
            }),
            "disk.hdd.rpm = 0; a disk must spin",
        ),
        (
            hdd(HddConfig {
                sectors_per_track: 0,
                ..HddConfig::default()
            }),
            "disk.hdd.sectors_per_track = 0",
        ),
        (
            hdd(HddConfig {
                cylinders: 0,
                ..HddConfig::default()
            }),
            "disk.hdd.cylinders = 0",
        ),
        (
            hdd(HddConfig {
                rpm: Some(7200),
                rotation: Some(Time::ms(8)),
                ..HddConfig::default()
            }),
            "either `rpm` or `rotation`",
        ),
        (
            hdd(HddConfig {
                start_angle: 360.0,
                ..HddConfig::default()
            }),
            "start_angle = 360",
        ),
        (
            hdd(HddConfig {
                start_cylinder: 5000,
                ..HddConfig::default()
            }),
            "past the last cylinder (1023)",
        ),
        (
            DiskConfig {
                block_size: 1000,
                ..DiskConfig::default()
            },
            "not a multiple of disk.hdd.sector_size = 512",
        ),
        (
            DiskConfig {
                clock_hz: 0,
                ..DiskConfig::default()
            },
            "disk.clock_hz = 0",
        ),
        (
            DiskConfig {
                hdd: Some(HddConfig::default()),
                ssd: Some(SsdConfig::default()),
                ..DiskConfig::default()
            },
            "one or the other",
        ),
        (
            DiskConfig {
                ssd: Some(SsdConfig {
                    channels: 0,
                    ..SsdConfig::default()
                }),
                ..DiskConfig::default()
            },
            "disk.ssd.channels = 0",
        ),
        (
            hdd(HddConfig {
                seek: SeekCurve::ThreePoint {
                    single: Time::ms(1),
                    average: Time::ms(14),
                    full: Time::ms(15),
                },
                ..HddConfig::default()
            }),
            "no curve that grows with distance",
        ),
    ] {
        let e = Disk::new(cfg).unwrap_err().to_string();
        assert!(e.contains(needle), "expected {needle:?} in {e:?}");
    }
}

#[test]
fn default_disk() {
    // 1024 cylinders x 4 heads x 128 sectors of 512 bytes, 4096-byte blocks: 65536 blocks.
    let d = Disk::new(DiskConfig::default()).unwrap();
    assert_eq!((d.blocks(), d.block_size()), (65536, 4096));
    // 7200 RPM at 1 GHz: 60e9 / 7200 = 8333333.3 -> 8333333 cycles.
    assert_eq!(d.rotation_cycles(), Some(8_333_333));
    // Linear: 1 ms + 10 µs per cylinder.
    assert_eq!(d.seek_cycles(100), Some(2_000_000));
}

#[test]
fn stat_names_are_stable() {
    let mut d = textbook(Scheduler::Fcfs, 0);
    d.submit(read(0, 10, 0)).unwrap();
    d.submit(DiskRequest {
        op: DiskOp::Write,
        count: 2,
        ..read(1, 20, 0)
    })
    .unwrap();
    d.drain();
    let mut got = Vec::new();
    d.for_each_stat(&mut |n, v| got.push(format!("{n}={v}")));
    // Read: 10 cylinders + 1 = 11. Write of blocks 20 and 21: 10 cylinders, 1 sector, then a
    // one-cylinder switch (1) and the second sector: 13, queued 11. Seek 10 + 11 = 21.
    assert_eq!(
        got,
        [
            "disk.reads=1",
            "disk.writes=1",
            "disk.blocks_read=1",
            "disk.blocks_written=2",
            "disk.busy_cycles=24",
            "disk.service_cycles.read=11",
            "disk.service_cycles.write=13",
            "disk.service_cycles.max=13",
            "disk.service_cycles.max_read=11",
            "disk.service_cycles.max_write=13",
            "disk.queue_cycles.read=0",
            "disk.queue_cycles.write=11",
            "disk.queue_cycles.max=11",
            "disk.queue_cycles.max_read=0",
            "disk.queue_cycles.max_write=11",
            "disk.overhead_cycles=0",
            "disk.latency_cycles=0",
            "disk.seek_cycles=21",
            "disk.rotation_cycles=0",
            "disk.transfer_cycles=3",
            "disk.seeks=2",
            "disk.seek_distance=21",
        ]
    );
    d.reset_stats();
    assert_eq!(d.stats().requests(), 0);
}
