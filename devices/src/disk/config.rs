//! The disk's configuration: the drive (a spinning disk or an SSD), the clock that turns its
//! times into cycles, the scheduler, and the optional image file. Every field has a default
//! (listed in `docs/disk.md`); [`DiskConfig::validate`] says what is wrong and what is right.

use super::fault::{DiskFault, FaultInjector};
use super::time::{Rate, Time};
use super::DiskError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;

/// The default clock: 1 GHz, so one cycle is one nanosecond.
pub const DEFAULT_CLOCK_HZ: u64 = 1_000_000_000;
/// The default block size: 4096 bytes (one page), eight 512-byte sectors.
pub const DEFAULT_BLOCK_SIZE: u64 = 4096;
/// The default rotation speed of a spinning disk.
pub const DEFAULT_RPM: u64 = 7200;
/// The largest number of cylinders, heads or sectors per track accepted.
pub const MAX_GEOMETRY: u64 = 1 << 24;
/// The default `timeout`: a timed-out request occupies the disk for 100 ms (about a dozen
/// ordinary requests of the default disk) before it is reported failed.
pub const DEFAULT_TIMEOUT: Time = Time::ms(100);

/// The whole disk configuration (`[disk]` in a file).
///
/// Give `[disk.hdd]` for a spinning disk or `[disk.ssd]` for a solid-state one; with neither,
/// the disk is the default spinning disk ([`HddConfig::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskConfig {
    /// The clock that converts durations to cycles, in Hz (default 1 GHz).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub clock_hz: u64,
    /// The unit of requests, in bytes (default 4096). On a spinning disk it must be a multiple
    /// of the sector size.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub block_size: u64,
    /// The order in which queued requests are served (default FCFS).
    pub scheduler: Scheduler,
    /// The controller's overhead, paid at the start of every request (default 0).
    pub overhead: Time,
    /// The probability that a request fails, from 0 (never, the default) to 1 (every
    /// request); see [`FaultInjector`] for how the failing requests are chosen.
    ///
    /// The four fault keys are serialised only when they differ from their defaults, so
    /// that a configuration without faults prints (in `vmlab config`, in `vmlab disk
    /// --json`) exactly as it did before faults existed.
    #[serde(skip_serializing_if = "is_default_rate")]
    pub fault_rate: f64,
    /// The seed of the generator that chooses the failing requests (default 0).
    #[serde(skip_serializing_if = "is_default_seed")]
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fault_seed: u64,
    /// The kinds of fault that may be injected (default all three: read errors, write
    /// errors, timeouts). A list in a file (`["read", "timeout"]`), or one comma-separated
    /// string (`"read,timeout"`, handy with `--set`).
    #[serde(
        deserialize_with = "super::fault::deserialize_kinds",
        skip_serializing_if = "is_default_kinds"
    )]
    pub fault_kinds: Vec<DiskFault>,
    /// How long a timed-out request occupies the disk before it is reported failed
    /// (default [`DEFAULT_TIMEOUT`], 100 ms).
    #[serde(skip_serializing_if = "is_default_timeout")]
    pub timeout: Time,
    /// A spinning disk (the default when `ssd` is not given).
    pub hdd: Option<HddConfig>,
    /// A solid-state disk.
    pub ssd: Option<SsdConfig>,
    /// A disk image file holding the data (default: an in-memory image of zeros). Reads see
    /// the file; writes stay in memory until [`crate::disk::Disk::flush`].
    pub image: Option<PathBuf>,
    /// The textbook's time unit (`"1ms"`): one cycle is one tick of this length, so the
    /// clock is `1 s / tick` and `clock_hz` need not be given. Default: none (cycles of
    /// `clock_hz`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tick: Option<Time>,
    /// The scheduling window (OSTEP's `disk.py -w`): the scheduler chooses only among the
    /// first `window` waiting requests in arrival order. Default: none (all of them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            clock_hz: DEFAULT_CLOCK_HZ,
            block_size: DEFAULT_BLOCK_SIZE,
            scheduler: Scheduler::Fcfs,
            overhead: Time::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            fault_kinds: super::fault::all_kinds(),
            timeout: DEFAULT_TIMEOUT,
            hdd: None,
            ssd: None,
            image: None,
            tick: None,
            window: None,
        }
    }
}

fn is_default_rate(r: &f64) -> bool {
    *r == 0.0 && r.is_sign_positive()
}

fn is_default_seed(s: &u64) -> bool {
    *s == 0
}

fn is_default_kinds(k: &[DiskFault]) -> bool {
    k == DiskFault::INJECTABLE
}

fn is_default_timeout(t: &Time) -> bool {
    *t == DEFAULT_TIMEOUT
}

/// A spinning disk (`[disk.hdd]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HddConfig {
    /// Cylinders (default 1024). Cylinder 0 is the outermost.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub cylinders: u64,
    /// Heads, one per surface (default 4).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub heads: u64,
    /// Sectors on every track (default 128).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub sectors_per_track: u64,
    /// Bytes per sector (default 512).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub sector_size: u64,
    /// Revolutions per minute (default 7200 unless `rotation` is given).
    #[serde(default, with = "vmlab_common::num::any_u64_opt")]
    pub rpm: Option<u64>,
    /// The time of one revolution, instead of `rpm` (e.g. `"360cyc"` for OSTEP's disk).
    pub rotation: Option<Time>,
    /// How long the arm takes to move a distance (default: linear, 1 ms + 10 µs per cylinder).
    pub seek: SeekCurve,
    /// The time to switch to another head on the same cylinder (default 0).
    pub head_switch: Time,
    /// Sectors by which each track's sector 0 is shifted from the previous track's (default 0).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub track_skew: u64,
    /// Extra sectors of shift at each new cylinder (default 0).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub cylinder_skew: u64,
    /// The interface rate in bytes per second. Default: none, so a sector takes exactly the
    /// time it takes to pass under the head (rotation ÷ sectors per track).
    pub transfer_rate: Option<Rate>,
    /// The cylinder the arm starts on (default 0).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub start_cylinder: u64,
    /// The head selected at the start (default 0).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub start_head: u64,
    /// Where the platter is at cycle 0, in degrees past the start of sector 0 (default 0).
    pub start_angle: f64,
    /// Zoned recording: the zones from the outside in, each some cylinders with its own
    /// sectors per track (which then replace `sectors_per_track`). Default: none, every
    /// track has `sectors_per_track`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<Zone>,
    /// The rotation as a textbook gives it: degrees the platter turns per cycle (tick), so a
    /// revolution takes `360 / rotate_degrees_per_tick` cycles; instead of `rpm`/`rotation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_degrees_per_tick: Option<f64>,
    /// The seek as a textbook gives it: cycles (ticks) per track crossed, with no settle
    /// time; instead of `seek`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seek_ticks_per_track: Option<u64>,
    /// The start position as a textbook gives it: sectors past the start of sector 0 of the
    /// start track (`6.5` is the middle of sector 6); instead of `start_angle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_sector: Option<f64>,
}

impl HddConfig {
    /// The sectors on each track of cylinder `c` (its zone's, or `sectors_per_track`).
    pub fn track_sectors(&self, c: u64) -> u64 {
        let mut first = 0u64;
        for z in &self.zones {
            if c < first.saturating_add(z.cylinders) {
                return z.sectors_per_track;
            }
            first = first.saturating_add(z.cylinders);
        }
        self.zones
            .last()
            .map_or(self.sectors_per_track, |z| z.sectors_per_track)
    }

    /// Every sector of the disk, if the count fits in 64 bits.
    pub fn total_sectors(&self) -> Option<u64> {
        if self.zones.is_empty() {
            return self
                .cylinders
                .checked_mul(self.heads)
                .and_then(|v| v.checked_mul(self.sectors_per_track));
        }
        self.zones.iter().try_fold(0u64, |acc, z| {
            z.cylinders
                .checked_mul(self.heads)
                .and_then(|v| v.checked_mul(z.sectors_per_track))
                .and_then(|v| acc.checked_add(v))
        })
    }
}

/// One zone of a zoned disk: `cylinders` consecutive cylinders whose tracks all hold
/// `sectors_per_track` sectors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// How many cylinders the zone has.
    pub cylinders: u64,
    /// Sectors on each of its tracks.
    pub sectors_per_track: u64,
}

impl Default for HddConfig {
    fn default() -> Self {
        HddConfig {
            cylinders: 1024,
            heads: 4,
            sectors_per_track: 128,
            sector_size: 512,
            rpm: None,
            rotation: None,
            seek: SeekCurve::default(),
            head_switch: Time::ZERO,
            track_skew: 0,
            cylinder_skew: 0,
            transfer_rate: None,
            start_cylinder: 0,
            start_head: 0,
            start_angle: 0.0,
            zones: Vec::new(),
            rotate_degrees_per_tick: None,
            seek_ticks_per_track: None,
            start_sector: None,
        }
    }
}

/// How seek time grows with the distance `d` in cylinders (a seek of 0 cylinders costs 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "curve", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SeekCurve {
    /// Every seek costs `time`.
    Constant {
        /// The cost of any seek of at least one cylinder.
        time: Time,
    },
    /// `settle + d × per_cylinder`.
    Linear {
        /// The fixed part (acceleration, settling).
        #[serde(default)]
        settle: Time,
        /// The cost of each cylinder crossed.
        per_cylinder: Time,
    },
    /// Ruemmler and Wilkes' curve: `settle + sqrt × √d` for `d < boundary`, and
    /// `long_settle + per_cylinder × d` from `boundary` on (the arm accelerates on short
    /// seeks and coasts on long ones).
    SqrtLinear {
        /// The fixed part of a short seek.
        settle: Time,
        /// The coefficient of √d for a short seek.
        sqrt: Time,
        /// The first distance that counts as long.
        boundary: u64,
        /// The fixed part of a long seek.
        long_settle: Time,
        /// The cost of each cylinder of a long seek.
        per_cylinder: Time,
    },
    /// The curve `single + a·√(d−1) + b·(d−1)` fitted to three measured points, as disk
    /// models such as DiskSim do: the single-cylinder seek, the average seek over all pairs
    /// of distinct cylinders, and the full-stroke seek.
    ThreePoint {
        /// A seek of one cylinder.
        single: Time,
        /// The mean seek over all pairs of distinct cylinders.
        average: Time,
        /// A seek across the whole disk (cylinders − 1).
        full: Time,
    },
}

impl Default for SeekCurve {
    fn default() -> Self {
        SeekCurve::Linear {
            settle: Time::ms(1),
            per_cylinder: Time::us(10),
        }
    }
}

impl SeekCurve {
    /// The curve's name as written in `curve = "..."`.
    pub fn name(&self) -> &'static str {
        match self {
            SeekCurve::Constant { .. } => "constant",
            SeekCurve::Linear { .. } => "linear",
            SeekCurve::SqrtLinear { .. } => "sqrt-linear",
            SeekCurve::ThreePoint { .. } => "three-point",
        }
    }
}

/// A solid-state disk (`[disk.ssd]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsdConfig {
    /// Capacity in blocks (default 65536).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub blocks: u64,
    /// The fixed cost of a read (default 25 µs).
    pub read_latency: Time,
    /// The fixed cost of a write (default 200 µs).
    pub write_latency: Time,
    /// The transfer rate of one channel (default 500 MB/s).
    pub bandwidth: Rate,
    /// How many requests may be served at once (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub channels: u64,
}

impl Default for SsdConfig {
    fn default() -> Self {
        SsdConfig {
            blocks: 65536,
            read_latency: Time::us(25),
            write_latency: Time::us(200),
            bandwidth: Rate(500_000_000),
            channels: 1,
        }
    }
}

/// The order in which the disk serves the requests waiting for it.
///
/// Every policy breaks ties by arrival time, then by submission order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheduler {
    /// First come, first served: in arrival order.
    #[default]
    Fcfs,
    /// Shortest seek time first: the request on the nearest cylinder.
    Sstf,
    /// The elevator: the nearest request in the arm's direction; with none left, the arm
    /// travels on to the last (or first) cylinder and turns around.
    Scan,
    /// SCAN that turns around at the last request instead of the edge of the disk.
    Look,
    /// Circular SCAN: serves upwards only; at the top the arm travels to the last cylinder,
    /// returns to cylinder 0, and goes up again.
    CScan,
    /// Circular LOOK: serves upwards only; after the highest request it jumps straight to the
    /// lowest one.
    CLook,
    /// Shortest positioning time first: the request whose seek plus rotational wait is
    /// least, from where the arm and the platter are now.
    Sptf,
}

impl Scheduler {
    /// Every scheduler, in the order reports list them.
    pub const ALL: [Scheduler; 7] = [
        Scheduler::Fcfs,
        Scheduler::Sstf,
        Scheduler::Scan,
        Scheduler::Look,
        Scheduler::CScan,
        Scheduler::CLook,
        Scheduler::Sptf,
    ];

    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Fcfs => "fcfs",
            Scheduler::Sstf => "sstf",
            Scheduler::Scan => "scan",
            Scheduler::Look => "look",
            Scheduler::CScan => "c-scan",
            Scheduler::CLook => "c-look",
            Scheduler::Sptf => "sptf",
        }
    }

    /// A one-line description for reports.
    pub fn description(self) -> &'static str {
        match self {
            Scheduler::Fcfs => "first come, first served",
            Scheduler::Sstf => "shortest seek time first",
            Scheduler::Scan => "elevator: sweep to the edge of the disk, then turn",
            Scheduler::Look => "elevator that turns at the last request",
            Scheduler::CScan => "circular SCAN: sweep up to the edge, return to cylinder 0",
            Scheduler::CLook => "circular LOOK: sweep up, jump back to the lowest request",
            Scheduler::Sptf => "shortest positioning (seek + rotation) time first",
        }
    }

    /// The names of every scheduler, comma-separated, for error messages.
    pub fn names() -> String {
        Scheduler::ALL.map(Scheduler::name).join(", ")
    }

    /// Looks a scheduler up by name (case-insensitive; `fifo`, `elevator`, `cscan`, `clook`
    /// and `satf` are accepted too).
    pub fn from_name(name: &str) -> Result<Scheduler, DiskError> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match n.as_str() {
            "fcfs" | "fifo" => Scheduler::Fcfs,
            "sstf" => Scheduler::Sstf,
            "scan" | "elevator" => Scheduler::Scan,
            "look" => Scheduler::Look,
            "c-scan" | "cscan" => Scheduler::CScan,
            "c-look" | "clook" => Scheduler::CLook,
            "sptf" | "satf" => Scheduler::Sptf,
            _ => return Err(DiskError::UnknownScheduler(name.to_string())),
        })
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scheduler {
    type Err = DiskError;
    fn from_str(s: &str) -> Result<Scheduler, DiskError> {
        Scheduler::from_name(s)
    }
}

impl Serialize for Scheduler {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Scheduler {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scheduler, D::Error> {
        let s = String::deserialize(d)?;
        Scheduler::from_name(&s).map_err(serde::de::Error::custom)
    }
}

fn bad(msg: String) -> DiskError {
    DiskError::Config(msg)
}

impl DiskConfig {
    /// The spinning-disk configuration in use, if the disk is not an SSD.
    pub fn hdd_or_default(&self) -> Option<HddConfig> {
        match (&self.hdd, &self.ssd) {
            (_, Some(_)) => None,
            (Some(h), None) => Some(h.clone()),
            (None, None) => Some(HddConfig::default()),
        }
    }

    /// Whether requests may fail (`fault_rate > 0`).
    pub fn faults_enabled(&self) -> bool {
        self.fault_rate > 0.0
    }

    /// The fault injector this configuration describes (checked as [`DiskConfig::validate`]
    /// checks it).
    pub fn fault_injector(&self) -> Result<FaultInjector, DiskError> {
        FaultInjector::new(self.fault_rate, self.fault_seed, &self.fault_kinds)
    }

    fn validate_faults(&self) -> Result<(), DiskError> {
        super::fault::check(self.fault_rate, &self.fault_kinds)?;
        if self.faults_enabled()
            && self.fault_kinds.contains(&DiskFault::Timeout)
            && self.timeout.cycles(self.clock_hz) == 0
        {
            return Err(bad(format!(
                "disk.timeout = {} is less than one cycle at {} Hz; a timed-out request occupies the disk for a while, e.g. timeout = \"100ms\" (or leave timeout out of disk.fault_kinds)",
                self.timeout, self.clock_hz
            )));
        }
        Ok(())
    }

    /// Checks every field, naming it in the message and saying what would be right.
    pub fn validate(&self) -> Result<(), DiskError> {
        self.resolved()?.validate_resolved()
    }

    /// The configuration with its textbook keys (`tick`, `rotate_degrees_per_tick`,
    /// `seek_ticks_per_track`) turned into the ordinary ones (`clock_hz`, `rotation`,
    /// `seek`), after checking them; a configuration without them is returned unchanged.
    /// (`start_sector` and `zones` stay: the disk needs its geometry to place them.)
    pub fn resolved(&self) -> Result<DiskConfig, DiskError> {
        let mut c = self.clone();
        if let Some(t) = self.tick {
            let ps = match t {
                Time::Picos(p) if p > 0 => p as u128,
                _ => {
                    return Err(bad(format!(
                        "disk.tick = {t} is not a length of time; give the textbook's time unit with a unit, e.g. tick = \"1ms\""
                    )))
                }
            };
            let per_s: u128 = 1_000_000_000_000;
            if !per_s.is_multiple_of(ps) {
                return Err(bad(format!(
                    "disk.tick = {t} does not divide one second; use e.g. \"1ms\", \"100us\" or \"1us\""
                )));
            }
            let hz = (per_s / ps) as u64;
            if self.clock_hz != DEFAULT_CLOCK_HZ && self.clock_hz != hz {
                return Err(bad(format!(
                    "disk.tick = {t} makes the clock {hz} Hz, but disk.clock_hz = {}; give one of them",
                    self.clock_hz
                )));
            }
            c.clock_hz = hz;
        }
        if self.window == Some(0) {
            return Err(bad(
                "disk.window = 0; the scheduler needs at least one request to choose from (leave window out for all of them)"
                    .into(),
            ));
        }
        if let Some(h) = c.hdd.as_mut() {
            if let Some(r) = h.rotate_degrees_per_tick {
                if h.rpm.is_some() || h.rotation.is_some() {
                    return Err(bad(
                        "disk.hdd: give one of rotate_degrees_per_tick, rpm and rotation, not several"
                            .into(),
                    ));
                }
                let ticks = 360.0 / r;
                if !(r.is_finite() && r > 0.0 && ticks.is_finite())
                    || (ticks - ticks.round()).abs() > 1e-9 * ticks.max(1.0)
                    || ticks.round() < 1.0
                    || ticks > 1e15
                {
                    return Err(bad(format!(
                        "disk.hdd.rotate_degrees_per_tick = {r}; a revolution must be a whole number of ticks, so use a number that divides 360 (1, 2, 3, 0.5, ...)"
                    )));
                }
                h.rotation = Some(Time::Cycles(ticks.round() as u64));
                h.rotate_degrees_per_tick = None;
            }
            if let Some(n) = h.seek_ticks_per_track {
                if h.seek != SeekCurve::default() {
                    return Err(bad(
                        "disk.hdd: give seek_ticks_per_track or seek, not both".into()
                    ));
                }
                h.seek = SeekCurve::Linear {
                    settle: Time::ZERO,
                    per_cylinder: Time::Cycles(n),
                };
                h.seek_ticks_per_track = None;
            }
            if let Some(s) = h.start_sector {
                if h.start_angle != 0.0 {
                    return Err(bad(
                        "disk.hdd: give start_sector or start_angle, not both".into()
                    ));
                }
                if !(s.is_finite() && s >= 0.0) {
                    return Err(bad(format!(
                        "disk.hdd.start_sector = {s} is not a position; use a number of sectors from 0, e.g. 6.5 for the middle of sector 6"
                    )));
                }
            }
        }
        Ok(c)
    }

    /// The checks of [`DiskConfig::validate`] on a resolved configuration.
    fn validate_resolved(&self) -> Result<(), DiskError> {
        if self.clock_hz == 0 {
            return Err(bad(
                "disk.clock_hz = 0; the clock needs a frequency, e.g. 1000000000 (1 GHz)".into(),
            ));
        }
        if self.block_size == 0 {
            return Err(bad(
                "disk.block_size = 0; a block holds at least one byte (e.g. 512 or 4096)".into(),
            ));
        }
        if self.block_size > 1 << 30 {
            return Err(bad(format!(
                "disk.block_size = {} is over 1 GiB; use at most 1073741824",
                self.block_size
            )));
        }
        self.validate_faults()?;
        if self.hdd.is_some() && self.ssd.is_some() {
            return Err(bad(
                "both [disk.hdd] and [disk.ssd] are given; a disk is one or the other".into(),
            ));
        }
        if let Some(s) = &self.ssd {
            if s.blocks == 0 {
                return Err(bad(
                    "disk.ssd.blocks = 0; an SSD holds at least one block".into()
                ));
            }
            if s.bandwidth.0 == 0 {
                return Err(bad(
                    "disk.ssd.bandwidth = 0; give a rate such as \"500MB/s\"".into(),
                ));
            }
            if s.channels == 0 || s.channels > 1024 {
                return Err(bad(format!(
                    "disk.ssd.channels = {}; use 1 to 1024",
                    s.channels
                )));
            }
            if s.blocks.checked_mul(self.block_size).is_none() {
                return Err(bad(format!(
                    "disk.ssd: {} blocks of {} bytes do not fit in 64 bits",
                    s.blocks, self.block_size
                )));
            }
            return Ok(());
        }
        let h = self.hdd_or_default().unwrap_or_default();
        for (name, v) in [
            ("cylinders", h.cylinders),
            ("heads", h.heads),
            ("sectors_per_track", h.sectors_per_track),
            ("sector_size", h.sector_size),
        ] {
            if v == 0 {
                return Err(bad(format!(
                    "disk.hdd.{name} = 0; a disk needs at least one"
                )));
            }
            if v > MAX_GEOMETRY {
                return Err(bad(format!(
                    "disk.hdd.{name} = {v} is too large; use at most {MAX_GEOMETRY}"
                )));
            }
        }
        if !h.zones.is_empty() {
            let mut total = 0u64;
            for (i, z) in h.zones.iter().enumerate() {
                for (name, v) in [
                    ("cylinders", z.cylinders),
                    ("sectors_per_track", z.sectors_per_track),
                ] {
                    if v == 0 {
                        return Err(bad(format!(
                            "disk.hdd.zones: zone {} has {name} = 0; a zone needs at least one",
                            i + 1
                        )));
                    }
                    if v > MAX_GEOMETRY {
                        return Err(bad(format!(
                            "disk.hdd.zones: zone {} has {name} = {v}, too large; use at most {MAX_GEOMETRY}",
                            i + 1
                        )));
                    }
                }
                total = total.saturating_add(z.cylinders);
            }
            if total != h.cylinders {
                return Err(bad(format!(
                    "disk.hdd.zones cover {total} cylinders but disk.hdd.cylinders = {} (1024 unless given); the zones must add up to the cylinders, so set cylinders = {total}",
                    h.cylinders
                )));
            }
        }
        let sectors = h.total_sectors();
        if sectors.and_then(|s| s.checked_mul(h.sector_size)).is_none() {
            return Err(bad(format!(
                "disk.hdd: {} x {} x {} sectors of {} bytes do not fit in 64 bits",
                h.cylinders, h.heads, h.sectors_per_track, h.sector_size
            )));
        }
        if !self.block_size.is_multiple_of(h.sector_size) {
            return Err(bad(format!(
                "disk.block_size = {} is not a multiple of disk.hdd.sector_size = {}; a block is a whole number of sectors",
                self.block_size, h.sector_size
            )));
        }
        if self.block_size / h.sector_size > sectors.unwrap_or(0) {
            return Err(bad(format!(
                "disk.block_size = {} is larger than the whole disk",
                self.block_size
            )));
        }
        match (h.rpm, h.rotation) {
            (Some(_), Some(_)) => return Err(bad(
                "disk.hdd: give either `rpm` or `rotation` (the time of one revolution), not both"
                    .into(),
            )),
            (Some(0), None) => {
                return Err(bad(
                    "disk.hdd.rpm = 0; a disk must spin (e.g. rpm = 7200, or 5400, 10000, 15000)"
                        .into(),
                ))
            }
            (None, Some(t)) if t.cycles(self.clock_hz) == 0 => {
                return Err(bad(format!(
                "disk.hdd.rotation = {t} is less than one cycle at {} Hz; a revolution takes time",
                self.clock_hz
            )))
            }
            _ => {}
        }
        if h.rpm.is_some_and(|r| r > 1_000_000) {
            return Err(bad(format!(
                "disk.hdd.rpm = {} is not a disk speed; use at most 1000000",
                h.rpm.unwrap_or(0)
            )));
        }
        let period = super::hdd::rotation_cycles(&h, self.clock_hz);
        if period == 0 {
            return Err(bad(format!(
                "disk.hdd: one revolution at {} RPM is less than one cycle at {} Hz; raise clock_hz",
                h.rpm.unwrap_or(DEFAULT_RPM),
                self.clock_hz
            )));
        }
        if h.transfer_rate.is_some_and(|r| r.0 == 0) {
            return Err(bad(
                "disk.hdd.transfer_rate = 0; give a rate such as \"100MB/s\", or leave it out to use the media rate"
                    .into(),
            ));
        }
        if !(h.start_angle.is_finite() && (0.0..360.0).contains(&h.start_angle)) {
            return Err(bad(format!(
                "disk.hdd.start_angle = {} is not an angle; use 0 up to (not including) 360 degrees",
                h.start_angle
            )));
        }
        if h.start_cylinder >= h.cylinders {
            return Err(bad(format!(
                "disk.hdd.start_cylinder = {} is past the last cylinder ({})",
                h.start_cylinder,
                h.cylinders - 1
            )));
        }
        if let Some(s) = h.start_sector {
            let spt = h.track_sectors(h.start_cylinder);
            if s >= spt as f64 {
                return Err(bad(format!(
                    "disk.hdd.start_sector = {s} is past the end of the start track, which has {spt} sectors; use 0 up to (not including) {spt}"
                )));
            }
        }
        if h.start_head >= h.heads {
            return Err(bad(format!(
                "disk.hdd.start_head = {} is past the last head ({})",
                h.start_head,
                h.heads - 1
            )));
        }
        super::hdd::SeekModel::new(&h.seek, h.cylinders, self.clock_hz)?;
        Ok(())
    }
}
