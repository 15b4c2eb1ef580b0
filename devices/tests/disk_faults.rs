//! Faults injected on purpose (`fault_rate`, `fault_seed`, `fault_kinds`, `timeout`): which
//! requests fail is a function of the seed and the submission order only; a failed request
//! moves no data; a timeout occupies the disk for exactly `timeout`; the configuration is
//! checked; and over many seeds the fraction of failures is near the rate.

use vmlab_devices::disk::{
    Completion, Disk, DiskConfig, DiskFault, DiskOp, DiskRequest, FaultInjector, HddConfig,
    Scheduler, SsdConfig, Time, DEFAULT_TIMEOUT,
};
use vmlab_devices::diskctl::*;
use vmlab_devices::{Cycle, DiskController, MemoryConfig, MemorySystem, MIP_MEIP};

const ALL: [DiskFault; 3] = [DiskFault::Read, DiskFault::Write, DiskFault::Timeout];

fn faulty(rate: f64, seed: u64, kinds: &[DiskFault]) -> DiskConfig {
    DiskConfig {
        fault_rate: rate,
        fault_seed: seed,
        fault_kinds: kinds.to_vec(),
        ..DiskConfig::default()
    }
}

fn ssd(cfg: DiskConfig) -> DiskConfig {
    DiskConfig {
        ssd: Some(SsdConfig::default()),
        ..cfg
    }
}

fn req(id: u64, op: DiskOp, block: u64, arrival: u64) -> DiskRequest {
    DiskRequest {
        id,
        op,
        block,
        count: 1,
        arrival: Cycle(arrival),
    }
}

/// Submits `reqs` in order and drains; the completions sorted by id.
fn run(cfg: DiskConfig, reqs: &[DiskRequest]) -> (Disk, Vec<Completion>) {
    let mut d = Disk::new(cfg).unwrap();
    for r in reqs {
        d.submit(*r).unwrap();
    }
    let mut done = d.drain();
    done.sort_by_key(|c| c.id);
    (d, done)
}

fn mixed(n: u64) -> Vec<DiskRequest> {
    (0..n)
        .map(|i| {
            let op = if i % 2 == 0 {
                DiskOp::Read
            } else {
                DiskOp::Write
            };
            req(i, op, (i * 7919) % 60_000, i * 1_000)
        })
        .collect()
}

#[test]
fn rate_zero_never_fails_and_changes_nothing() {
    let reqs = mixed(200);
    let (plain_disk, plain) = run(DiskConfig::default(), &reqs);
    // Any seed and kinds: with rate 0 the run is the run without faults.
    let (d, done) = run(faulty(0.0, 1234, &[DiskFault::Read]), &reqs);
    assert!(done
        .iter()
        .all(|c| c.fault.is_none() && c.timeout == Cycle(0)));
    assert_eq!(done, plain);
    assert_eq!(d.stats(), plain_disk.stats());
    assert_eq!(d.stat_list(), plain_disk.stat_list());
    assert!(
        !d.stat_list().iter().any(|(n, _)| n.contains("faults")),
        "no fault counters when faults are off"
    );
}

#[test]
fn rate_one_fails_every_request_with_an_allowed_kind() {
    let reqs = mixed(100);
    for kinds in [
        &ALL[..],
        &[DiskFault::Read, DiskFault::Write],
        &[DiskFault::Timeout],
        &[DiskFault::Read, DiskFault::Timeout],
    ] {
        let (d, done) = run(ssd(faulty(1.0, 9, kinds)), &reqs);
        for c in &done {
            let f = c.fault.expect("rate 1: every request fails");
            assert!(kinds.contains(&f), "{f:?} is not in {kinds:?}");
            assert!(f.applies_to(c.op), "{f:?} for a {}", c.op);
        }
        let s = d.stats();
        assert_eq!(s.faults.total(), 100);
        assert_eq!(
            s.read.blocks + s.write.blocks,
            0,
            "no failed request moved a block"
        );
        assert!(d
            .stat_list()
            .iter()
            .any(|(n, _)| n == "disk.faults.timeout"));
    }
    // Only write errors configured: a read has no fault that fits it, so it succeeds.
    let (_, done) = run(ssd(faulty(1.0, 9, &[DiskFault::Write])), &reqs);
    for c in &done {
        match c.op {
            DiskOp::Read => assert_eq!(c.fault, None),
            DiskOp::Write => assert_eq!(c.fault, Some(DiskFault::Write)),
        }
    }
}

/// The sequence of `docs/disk.md`'s rule for seed 42, rate 0.5, all kinds, requests
/// alternating read and write — computed independently of this crate.
#[test]
fn a_fixed_seed_gives_a_fixed_sequence() {
    use DiskFault::*;
    let expected = [
        None,
        Some(Write),
        Some(Timeout),
        Some(Write),
        Some(Read),
        None,
        Some(Timeout),
        None,
        Some(Timeout),
        None,
        Some(Read),
        Some(Write),
        None,
        None,
        None,
        Some(Write),
    ];
    for cfg in [faulty(0.5, 42, &ALL), ssd(faulty(0.5, 42, &ALL))] {
        let (_, done) = run(cfg, &mixed(16));
        let got: Vec<Option<DiskFault>> = done.iter().map(|c| c.fault).collect();
        assert_eq!(got, expected);
    }
    let mut f = FaultInjector::new(0.25, 7, &ALL).unwrap();
    let got: Vec<_> = (0..8).map(|_| f.draw(DiskOp::Read)).collect();
    assert_eq!(
        got,
        [
            None,
            Some(Timeout),
            None,
            None,
            None,
            Some(Read),
            None,
            None
        ]
    );
}

#[test]
fn faults_follow_submission_order_not_the_schedule() {
    // The same requests under every scheduler: the same requests fail, the same way.
    let reqs = mixed(60);
    let (_, fcfs) = run(faulty(0.3, 5, &[DiskFault::Read, DiskFault::Write]), &reqs);
    for s in Scheduler::ALL {
        let cfg = DiskConfig {
            scheduler: s,
            ..faulty(0.3, 5, &[DiskFault::Read, DiskFault::Write])
        };
        let (_, done) = run(cfg, &reqs);
        let a: Vec<_> = done.iter().map(|c| (c.id, c.fault)).collect();
        let b: Vec<_> = fcfs.iter().map(|c| (c.id, c.fault)).collect();
        assert_eq!(a, b, "{s}");
    }
    // A refused request takes no draw.
    let mut d = Disk::new(faulty(0.5, 42, &ALL)).unwrap();
    assert!(d.submit(req(99, DiskOp::Read, u64::MAX, 0)).is_err());
    assert_eq!(d.fault_injector().draws(), 0);
}

#[test]
fn read_and_write_errors_take_the_normal_service_time() {
    let reqs = mixed(40);
    let (_, ok) = run(DiskConfig::default(), &reqs);
    let (_, bad) = run(faulty(1.0, 3, &[DiskFault::Read, DiskFault::Write]), &reqs);
    for (a, b) in ok.iter().zip(&bad) {
        assert!(b.fault.is_some());
        let mut b2 = *b;
        b2.fault = None;
        assert_eq!(*a, b2, "same timing, only the result differs");
    }
}

#[test]
fn a_timeout_completes_at_its_start_plus_the_timeout() {
    let cfg = DiskConfig {
        timeout: Time::ms(3),
        ..faulty(1.0, 0, &[DiskFault::Timeout])
    };
    let mut d = Disk::new(cfg).unwrap();
    let arm = d.arm();
    d.submit(req(1, DiskOp::Read, 40_000, 1_000)).unwrap();
    d.submit(req(2, DiskOp::Write, 7, 1_500)).unwrap();
    assert_eq!(d.next_event(), Some(Cycle(1_000 + 3_000_000)));
    let done = d.drain();
    assert_eq!(done.len(), 2);
    // Request 1 starts at its arrival; request 2 waits for it, then times out too.
    let (a, b) = (done[0], done[1]);
    assert_eq!(
        (a.id, a.start, a.finish),
        (1, Cycle(1_000), Cycle(3_001_000))
    );
    assert_eq!((b.id, b.start), (2, a.finish));
    assert_eq!(b.finish.0, b.start.0 + 3_000_000);
    for c in [a, b] {
        assert_eq!(c.fault, Some(DiskFault::Timeout));
        assert_eq!(c.timeout, c.service());
        let parts = [c.overhead, c.latency, c.seek, c.rotation, c.transfer];
        assert!(parts.iter().all(|p| p.0 == 0), "{c:?}");
        assert_eq!(c.seek_distance, 0);
        assert!(
            c.position.is_some(),
            "where the block lies is still reported"
        );
    }
    assert_eq!(d.arm(), arm, "a timed-out request does not move the arm");
    assert_eq!(d.stats().faults.timeout, 2);
    assert_eq!(d.stats().busy_cycles, 6_000_000);

    // The default timeout, on an SSD channel.
    let (_, done) = run(
        ssd(faulty(1.0, 0, &[DiskFault::Timeout])),
        &[req(1, DiskOp::Read, 0, 10)],
    );
    assert_eq!(done[0].finish.0, 10 + DEFAULT_TIMEOUT.cycles(1_000_000_000));
    assert_eq!(DEFAULT_TIMEOUT, Time::ms(100));
}

#[test]
fn stepping_with_faults_matches_draining() {
    let reqs = mixed(80);
    for cfg in [faulty(0.4, 77, &ALL), ssd(faulty(0.4, 77, &ALL))] {
        let (_, drained) = run(cfg.clone(), &reqs);
        let mut d = Disk::new(cfg).unwrap();
        let mut got = Vec::new();
        for r in &reqs {
            got.extend(d.advance(Cycle(r.arrival.0.saturating_sub(1))));
            d.submit(*r).unwrap();
        }
        while let Some(t) = d.next_event() {
            let batch = d.advance(t);
            assert!(!batch.is_empty());
            got.extend(batch);
        }
        got.sort_by_key(|c| c.id);
        assert_eq!(got, drained);
    }
}

// ---------------------------------------------------------------------------------------
// The controller

const CTL: u64 = 0x1000_1000;
const BUF: u64 = 0x8001_0000;

fn machine(disk: DiskConfig) -> MemorySystem {
    let mut cfg = MemoryConfig::default();
    cfg.diskctl.disk = disk;
    MemorySystem::new(cfg).unwrap()
}

fn ctl(m: &mut MemorySystem) -> &mut DiskController {
    m.bus_mut().device_mut::<DiskController>().unwrap()
}

fn command(m: &mut MemorySystem, cmd: u64, block: u64, dma: u64) {
    m.store(CTL + DISK_BLOCK, 8, block).unwrap();
    m.store(CTL + DISK_DMA_ADDR, 8, dma).unwrap();
    m.store(CTL + DISK_COUNT, 8, 1).unwrap();
    m.store(CTL + DISK_COMMAND, 8, cmd).unwrap();
}

fn drain(m: &mut MemorySystem) {
    while let Some(t) = m.next_event() {
        m.tick(t);
    }
}

fn stat(m: &MemorySystem, name: &str) -> Option<u64> {
    m.stat_list()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[test]
fn a_failed_read_leaves_ram_untouched() {
    let mut m = machine(faulty(1.0, 0, &[DiskFault::Read]));
    ctl(&mut m)
        .disk_mut()
        .write_blocks(5, &[0x11; 4096])
        .unwrap();
    m.ram_mut().write_bytes(BUF, &[0xee; 4096]).unwrap();
    m.store(CTL + DISK_IRQ_ENABLE, 8, 1).unwrap();
    command(&mut m, CMD_READ, 5, BUF);
    drain(&mut m);
    let mut got = vec![0u8; 4096];
    m.ram().peek_bytes(BUF, &mut got).unwrap();
    assert!(got.iter().all(|&b| b == 0xee), "no data moved into RAM");
    assert_eq!(
        m.interrupts() & MIP_MEIP,
        MIP_MEIP,
        "the completion is signalled"
    );
    assert_eq!(
        m.load(CTL + DISK_STATUS, 8).unwrap().0,
        STATUS_DONE | STATUS_ERROR | ERR_READ << 8
    );
    let st = STATUS_DONE | STATUS_ERROR | ERR_READ << 8;
    assert_eq!(m.load(CTL + DISK_LAST_STATUS, 8).unwrap().0, st);
    assert_eq!(m.load(CTL + DISK_QUERY_STATUS, 8).unwrap().0, st, "id 0");
    let c = ctl(&mut m);
    assert_eq!(c.completions()[0].fault, Some(DiskFault::Read));
    assert_eq!(c.result(0), Some(Err(DiskFault::Read)));
    assert_eq!(c.stats().faults.read, 1);
    assert_eq!(stat(&m, "diskctl.faults.read"), Some(1));
    assert_eq!(stat(&m, "disk.faults.read"), Some(1));
    assert_eq!(stat(&m, "diskctl.dma_bytes_in"), Some(0));
    assert_eq!(stat(&m, "disk.blocks_read"), Some(0));
}

#[test]
fn a_failed_write_leaves_the_disk_untouched() {
    for kind in [DiskFault::Write, DiskFault::Timeout] {
        let mut m = machine(faulty(1.0, 0, &[kind]));
        ctl(&mut m)
            .disk_mut()
            .write_blocks(9, &[0x22; 4096])
            .unwrap();
        m.ram_mut().write_bytes(BUF, &[0x99; 4096]).unwrap();
        m.set_now(Cycle(500));
        command(&mut m, CMD_WRITE, 9, BUF);
        drain(&mut m);
        let mut got = vec![0u8; 4096];
        ctl(&mut m).disk_mut().read_blocks(9, &mut got).unwrap();
        assert!(
            got.iter().all(|&b| b == 0x22),
            "{kind:?}: the block is unchanged"
        );
        let code = error_code(kind);
        assert_eq!(
            m.load(CTL + DISK_STATUS, 8).unwrap().0,
            STATUS_DONE | STATUS_ERROR | code << 8
        );
        let c = ctl(&mut m);
        assert_eq!(c.result(0), Some(Err(kind)));
        if kind == DiskFault::Timeout {
            let done = c.completions()[0];
            assert_eq!(done.finish.0, 500 + DEFAULT_TIMEOUT.cycles(1_000_000_000));
        }
        assert_eq!(stat(&m, "diskctl.dma_bytes_out"), Some(0));
        assert_eq!(stat(&m, &format!("diskctl.faults.{kind}")), Some(1));
    }
}

#[test]
fn each_completion_id_can_be_matched_to_its_outcome() {
    // Seed 42, rate 0.5: alternating read and write requests fail as in
    // `a_fixed_seed_gives_a_fixed_sequence` (ids from 0 here).
    let mut m = machine(faulty(0.5, 42, &ALL));
    for i in 0..6u64 {
        let cmd = if i % 2 == 0 { CMD_READ } else { CMD_WRITE };
        command(&mut m, cmd, i, BUF + i * 4096);
    }
    // Before anything completes, every query answers "not completed".
    m.store(CTL + DISK_QUERY_ID, 8, 2).unwrap();
    assert_eq!(m.load(CTL + DISK_QUERY_ID, 8).unwrap().0, 2);
    assert_eq!(m.load(CTL + DISK_QUERY_STATUS, 8).unwrap().0, 0);
    assert_eq!(m.load(CTL + DISK_LAST_STATUS, 8).unwrap().0, 0);
    drain(&mut m);
    use DiskFault::*;
    let expected = [
        Ok(()),
        Err(Write),
        Err(Timeout),
        Err(Write),
        Err(Read),
        Ok(()),
    ];
    for (id, want) in expected.iter().enumerate() {
        m.store(CTL + DISK_QUERY_ID, 8, id as u64).unwrap();
        let status = m.load(CTL + DISK_QUERY_STATUS, 8).unwrap().0;
        assert_eq!(status, completion_status(*want), "request {id}");
        assert_eq!(ctl(&mut m).result(id as u64), Some(*want));
        assert_eq!(ctl(&mut m).completion(id as u64).unwrap().id, id as u64);
    }
    // An id never submitted.
    m.store(CTL + DISK_QUERY_ID, 8, 6).unwrap();
    assert_eq!(m.load(CTL + DISK_QUERY_STATUS, 8).unwrap().0, 0);
    assert_eq!(ctl(&mut m).result(6), None);
    // LAST_STATUS describes LAST_ID.
    let last = m.load(CTL + DISK_LAST_ID, 8).unwrap().0;
    let want = completion_status(expected[last as usize]);
    assert_eq!(m.load(CTL + DISK_LAST_STATUS, 8).unwrap().0, want);
    // The log in completion order, each with its result.
    let log: Vec<(u64, Result<(), DiskFault>)> = ctl(&mut m)
        .completions()
        .iter()
        .map(|c| (c.id, c.result()))
        .collect();
    assert_eq!(log.len(), 6);
    for (id, r) in log {
        assert_eq!(r, expected[id as usize]);
    }
    assert_eq!(stat(&m, "diskctl.faults.write"), Some(2));
    assert_eq!(stat(&m, "diskctl.faults.timeout"), Some(1));
    assert_eq!(stat(&m, "diskctl.faults.read"), Some(1));
    // Acknowledging ERROR clears the code, as for any error.
    m.store(CTL + DISK_STATUS, 8, STATUS_ERROR | STATUS_DONE)
        .unwrap();
    assert_eq!(m.load(CTL + DISK_STATUS, 8).unwrap().0, 0);
}

#[test]
fn a_dma_error_is_recorded_with_the_completion() {
    let mut m = machine(DiskConfig::default());
    command(&mut m, CMD_READ, 0, 0x1000);
    drain(&mut m);
    assert_eq!(ctl(&mut m).result(0), Some(Err(DiskFault::Dma)));
    assert_eq!(
        m.load(CTL + DISK_LAST_STATUS, 8).unwrap().0,
        STATUS_DONE | STATUS_ERROR | ERR_DMA << 8
    );
    assert_eq!(error_code(DiskFault::Dma), ERR_DMA);
    // Faults off: the controller walks no fault counters.
    assert_eq!(stat(&m, "diskctl.faults.read"), None);
    assert_eq!(stat(&m, "disk.faults.read"), None);
}

// ---------------------------------------------------------------------------------------
// Configuration

fn config_error(cfg: DiskConfig) -> String {
    let e = Disk::new(cfg.clone()).unwrap_err().to_string();
    assert_eq!(cfg.validate().unwrap_err().to_string(), e);
    e
}

#[test]
fn bad_fault_configurations_say_what_would_be_right() {
    for rate in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let e = config_error(faulty(rate, 0, &ALL));
        assert!(e.contains("disk.fault_rate = "), "{e}");
        assert!(e.contains("use a number from 0"), "{e}");
    }
    let e = config_error(faulty(0.1, 0, &[]));
    assert!(
        e.contains("disk.fault_kinds is empty but disk.fault_rate = 0.1")
            && e.contains("list at least one of \"read\", \"write\", \"timeout\""),
        "{e}"
    );
    // An empty list is fine while nothing fails.
    Disk::new(faulty(0.0, 0, &[])).unwrap();
    let e = config_error(faulty(0.1, 0, &[DiskFault::Read, DiskFault::Read]));
    assert!(e.contains("lists `read` twice"), "{e}");
    let e = config_error(faulty(0.1, 0, &[DiskFault::Dma]));
    assert!(e.contains("`dma`, which the disk cannot inject"), "{e}");
    let e = config_error(DiskConfig {
        timeout: Time::ZERO,
        ..faulty(0.1, 0, &ALL)
    });
    assert!(
        e.contains("disk.timeout = 0cyc is less than one cycle") && e.contains("\"100ms\""),
        "{e}"
    );
    // A zero timeout is fine when no timeout can happen.
    Disk::new(DiskConfig {
        timeout: Time::ZERO,
        ..faulty(0.1, 0, &[DiskFault::Read])
    })
    .unwrap();
    // The SSD path checks the fault keys too.
    assert!(Disk::new(ssd(faulty(2.0, 0, &ALL))).is_err());
    // On a spinning disk with its own table, too.
    let e = config_error(DiskConfig {
        hdd: Some(HddConfig::default()),
        ..faulty(f64::NAN, 0, &ALL)
    });
    assert!(e.contains("NaN"), "{e}");
}

#[test]
fn fault_keys_in_a_file() {
    let cfg: DiskConfig = toml::from_str(
        "fault_rate = 0.25\nfault_seed = 9\nfault_kinds = [\"timeout\", \"read\"]\ntimeout = \"2ms\"\n",
    )
    .unwrap();
    assert_eq!(cfg.fault_rate, 0.25);
    assert_eq!(cfg.fault_seed, 9);
    assert_eq!(cfg.fault_kinds, [DiskFault::Timeout, DiskFault::Read]);
    assert_eq!(cfg.timeout, Time::ms(2));
    // A whole number is a rate too, and `--set` may give the kinds as one string.
    let cfg: DiskConfig =
        toml::from_str("fault_rate = 1\nfault_kinds = \"write, timeout\"").unwrap();
    assert_eq!(cfg.fault_rate, 1.0);
    assert_eq!(cfg.fault_kinds, [DiskFault::Write, DiskFault::Timeout]);
    // Defaults.
    let cfg: DiskConfig = toml::from_str("").unwrap();
    assert_eq!(
        (
            cfg.fault_rate,
            cfg.fault_seed,
            cfg.fault_kinds.as_slice(),
            cfg.timeout
        ),
        (0.0, 0, &ALL[..], DEFAULT_TIMEOUT)
    );
    assert!(!cfg.faults_enabled());
    // Unknown kinds are refused with the list of kinds.
    let e = toml::from_str::<DiskConfig>("fault_kinds = [\"crc\"]")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown fault kind `crc`; the kinds are read, write, timeout"),
        "{e}"
    );
    let e = toml::from_str::<DiskConfig>("fault_kinds = [\"dma\"]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a fault the disk injects"), "{e}");
    // The configuration round-trips.
    let cfg = faulty(0.5, 3, &[DiskFault::Read]);
    let text = toml::to_string(&cfg).unwrap();
    assert_eq!(toml::from_str::<DiskConfig>(&text).unwrap(), cfg);
}

// ---------------------------------------------------------------------------------------
// Over many seeds

#[test]
fn the_fraction_of_failures_is_near_the_rate() {
    for rate in [0.001, 0.01, 0.1, 0.25, 0.5, 0.9, 0.999] {
        let n: u64 = 2_000;
        let seeds = 200;
        let mut total = 0u64;
        let mut kinds = [0u64; 3];
        for seed in 0..seeds {
            let mut f = FaultInjector::new(rate, seed, &ALL).unwrap();
            let mut failed = 0u64;
            for i in 0..n {
                let op = if i % 2 == 0 {
                    DiskOp::Read
                } else {
                    DiskOp::Write
                };
                if let Some(k) = f.draw(op) {
                    failed += 1;
                    kinds[k as usize] += 1;
                }
            }
            // Each seed: within 6 standard deviations of the binomial mean (plus 2 for the
            // smallest rates).
            let mean = rate * n as f64;
            let sd = (n as f64 * rate * (1.0 - rate)).sqrt();
            assert!(
                (failed as f64 - mean).abs() <= 6.0 * sd + 2.0,
                "rate {rate}, seed {seed}: {failed} of {n} failed"
            );
            total += failed;
        }
        // All seeds together (400,000 requests): within 5 standard deviations, which is
        // within 0.5% of the rate from 0.1 up.
        let all = (n * seeds) as f64;
        let frac = total as f64 / all;
        let sd = (rate * (1.0 - rate) / all).sqrt();
        assert!((frac - rate).abs() <= 5.0 * sd, "rate {rate}: {frac}");
        // Reads get read errors or timeouts and writes write errors or timeouts, evenly:
        // timeouts are about half of all faults, read and write errors a quarter each.
        let t = total as f64;
        for (k, share) in [(0, 0.25), (1, 0.25), (2, 0.5)] {
            let got = kinds[k] as f64 / t;
            let sd = (share * (1.0 - share) / t).sqrt();
            assert!(
                (got - share).abs() <= 5.0 * sd,
                "rate {rate}: kind {k}: {got}"
            );
        }
    }
}

#[test]
fn many_seeds_through_the_disk() {
    // The rule holds through the whole disk too: the completions' faults are the
    // injector's draws, the statistics count them, and timing invariants hold.
    let reqs = mixed(50);
    let mut failed = 0u64;
    for seed in 0..100 {
        for cfg in [faulty(0.2, seed, &ALL), ssd(faulty(0.2, seed, &ALL))] {
            let (d, done) = run(cfg.clone(), &reqs);
            let mut f = cfg.fault_injector().unwrap();
            let s = d.stats();
            let mut blocks = 0;
            for (c, r) in done.iter().zip(&reqs) {
                assert_eq!(c.id, r.id);
                assert_eq!(c.fault, f.draw(r.op), "seed {seed}, request {}", r.id);
                let parts = c.overhead.0
                    + c.latency.0
                    + c.seek.0
                    + c.rotation.0
                    + c.transfer.0
                    + c.timeout.0;
                assert_eq!(c.service().0, parts, "seed {seed}: {c:?}");
                if c.fault == Some(DiskFault::Timeout) {
                    assert_eq!(c.timeout.0, DEFAULT_TIMEOUT.cycles(cfg.clock_hz));
                } else {
                    assert_eq!(c.timeout.0, 0);
                }
                if c.fault.is_none() {
                    blocks += c.count;
                }
            }
            assert_eq!(s.read.blocks + s.write.blocks, blocks);
            let n = done.iter().filter(|c| c.failed()).count() as u64;
            assert_eq!(s.faults.total(), n);
            failed += n;
        }
    }
    // 10,000 requests at rate 0.2.
    assert!((1_800..=2_200).contains(&failed), "{failed}");
}
