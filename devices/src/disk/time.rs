//! Durations and data rates as a configuration writes them (`"8.5ms"`, `"500MB/s"`), and their
//! exact conversion to cycles.
//!
//! A [`Time`] is either a number of cycles (a bare TOML integer, or a string ending in
//! `cyc`/`cycles`) or a wall duration with a unit (`s`, `ms`, `us`/`µs`, `ns`, `ps`), held
//! exactly in picoseconds. A duration becomes cycles as `round(ps × clock_hz / 10¹²)`,
//! rounding a half up, in 128-bit integer arithmetic: no floating point, the same on every host.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

const PS_PER_S: u128 = 1_000_000_000_000;

/// A duration in a configuration: cycles, or picoseconds of modelled time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Time {
    /// A number of clock cycles (`360`, `"360cyc"`).
    Cycles(u64),
    /// A duration in picoseconds (`"8ms"`, `"12.5us"`, `"300ns"`).
    Picos(u64),
}

impl Default for Time {
    fn default() -> Self {
        Time::Cycles(0)
    }
}

impl Time {
    /// Zero.
    pub const ZERO: Time = Time::Cycles(0);

    /// A duration of `ms` milliseconds.
    pub const fn ms(ms: u64) -> Time {
        Time::Picos(ms * 1_000_000_000)
    }

    /// A duration of `us` microseconds.
    pub const fn us(us: u64) -> Time {
        Time::Picos(us * 1_000_000)
    }

    /// The number of cycles at `clock_hz`: exact for cycles, `round(ps × clock_hz / 10¹²)`
    /// (half up) for durations, saturating at `u64::MAX`.
    pub fn cycles(self, clock_hz: u64) -> u64 {
        match self {
            Time::Cycles(c) => c,
            Time::Picos(p) => ps_to_cycles(p as u128, clock_hz),
        }
    }

    /// Whether the duration is zero.
    pub fn is_zero(self) -> bool {
        matches!(self, Time::Cycles(0) | Time::Picos(0))
    }

    /// Parses `"8ms"`, `"0.5 ms"`, `"12us"`, `"12µs"`, `"300ns"`, `"1s"`, `"40ps"`, `"360cyc"`,
    /// `"360 cycles"` or a plain number of cycles (`"360"`).
    pub fn parse(text: &str) -> Result<Time, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = (t[..split].trim(), t[split..].trim());
        let bad = || {
            format!(
                "`{text}` is not a duration; write e.g. \"8ms\", \"0.5ms\", \"250us\", \"40ns\", \"1s\" or a number of cycles such as 360 or \"360cyc\""
            )
        };
        if num.is_empty() {
            if t.starts_with('-') {
                return Err(format!("`{text}` is negative; durations are at least 0"));
            }
            return Err(bad());
        }
        let scale: u128 = match unit {
            "" | "cyc" | "cycle" | "cycles" => {
                if num.contains('.') {
                    return Err(format!(
                        "`{text}`: a number of cycles is a whole number; for a duration add a unit such as \"ms\""
                    ));
                }
                let v = parse_fixed(num, 1).ok_or_else(bad)?;
                return u64::try_from(v)
                    .map(Time::Cycles)
                    .map_err(|_| format!("`{text}` does not fit in 64 bits"));
            }
            "s" => PS_PER_S,
            "ms" => 1_000_000_000,
            "us" | "µs" | "μs" => 1_000_000,
            "ns" => 1_000,
            "ps" => 1,
            _ => return Err(bad()),
        };
        let ps = parse_fixed(num, scale).ok_or_else(|| {
            format!(
                "`{text}` is not a duration, or is finer than a picosecond or longer than 200 days"
            )
        })?;
        u64::try_from(ps)
            .map(Time::Picos)
            .map_err(|_| format!("`{text}` is too long (at most about 200 days)"))
    }
}

/// `num` (decimal digits, an optional fraction, `_` separators) times `scale`, if the result
/// is a whole number that fits in 96 bits.
fn parse_fixed(num: &str, scale: u128) -> Option<u128> {
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num.as_str(), ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if int.len() > 28 || frac.len() > 18 {
        return None;
    }
    let mut v: u128 = 0;
    for c in int.chars() {
        v = v * 10 + c.to_digit(10)? as u128;
    }
    let mut v = v.checked_mul(scale)?;
    let mut unit = scale;
    for c in frac.chars() {
        let d = c.to_digit(10)? as u128;
        if !unit.is_multiple_of(10) {
            if d != 0 {
                return None;
            }
            continue;
        }
        unit /= 10;
        v = v.checked_add(d * unit)?;
    }
    (v < 1 << 96).then_some(v)
}

/// `round(ps × clock_hz / 10¹²)`, half up, saturating.
pub fn ps_to_cycles(ps: u128, clock_hz: u64) -> u64 {
    let n = ps
        .saturating_mul(clock_hz as u128)
        .saturating_add(PS_PER_S / 2)
        / PS_PER_S;
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The modelled duration of `cycles` at `clock_hz`, in picoseconds (rounded half up).
pub fn cycles_to_ps(cycles: u64, clock_hz: u64) -> u128 {
    let hz = clock_hz.max(1) as u128;
    ((cycles as u128) * PS_PER_S + hz / 2) / hz
}

/// Shows a number of picoseconds in the largest unit that keeps it at least 1 (`"8.333 ms"`,
/// `"250 µs"`, `"0"`), with at most three decimals (rounded half up) and no trailing zeros.
pub fn show_ps(ps: u128) -> String {
    if ps == 0 {
        return "0".into();
    }
    let (unit, name) = if ps >= PS_PER_S {
        (PS_PER_S, "s")
    } else if ps >= 1_000_000_000 {
        (1_000_000_000, "ms")
    } else if ps >= 1_000_000 {
        (1_000_000, "µs")
    } else if ps >= 1_000 {
        (1_000, "ns")
    } else {
        (1, "ps")
    };
    let milli = (ps * 1000 + unit / 2) / unit;
    let (i, f) = (milli / 1000, milli % 1000);
    if f == 0 {
        format!("{i} {name}")
    } else {
        let f = format!("{f:03}");
        format!("{i}.{} {name}", f.trim_end_matches('0'))
    }
}

/// Shows `cycles` at `clock_hz` as a duration (see [`show_ps`]).
pub fn show_cycles(cycles: u64, clock_hz: u64) -> String {
    show_ps(cycles_to_ps(cycles, clock_hz))
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Time::Cycles(c) => write!(f, "{c}cyc"),
            Time::Picos(p) => {
                let p = p as u128;
                for (unit, name) in [
                    (PS_PER_S, "s"),
                    (1_000_000_000, "ms"),
                    (1_000_000, "us"),
                    (1_000, "ns"),
                ] {
                    if p >= unit {
                        let (i, r) = (p / unit, p % unit);
                        if r == 0 {
                            return write!(f, "{i}{name}");
                        }
                        let digits = unit.ilog10() as usize;
                        let frac = format!("{r:0digits$}");
                        return write!(f, "{i}.{}{name}", frac.trim_end_matches('0'));
                    }
                }
                write!(f, "{p}ps")
            }
        }
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            // (Past TOML's integers, as a string: vmlab_common::num::any_u64.)
            Time::Cycles(c) => vmlab_common::num::any_u64::serialize(&c, s),
            Time::Picos(_) => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration such as \"8ms\", \"250us\" or \"40ns\", or a number of cycles",
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                u64::try_from(v)
                    .map(Time::Cycles)
                    .map_err(|_| E::custom(format!("{v} is negative; durations are at least 0")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                Ok(Time::Cycles(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Time, E> {
                Err(E::custom(format!(
                    "{v} has no unit; write a duration as a string such as \"{v}ms\", or a whole number of cycles"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                Time::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A data rate in bytes per second (`"500MB/s"`, `"1.5GB/s"`, `"200MiB/s"`, or an integer).
///
/// `k`/`M`/`G` are decimal (10³, 10⁶, 10⁹), `Ki`/`Mi`/`Gi` binary, as drive makers write them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rate(pub u64);

impl Rate {
    /// Bytes per second.
    pub fn bytes_per_second(self) -> u64 {
        self.0
    }

    /// Parses a rate: a number, a unit `B`, `kB`, `KB`, `MB`, `GB`, `KiB`, `MiB`, `GiB`, and an
    /// optional `/s`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim();
        let t = t.strip_suffix("/s").unwrap_or(t).trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = (t[..split].trim(), t[split..].trim());
        let scale: u128 = match unit {
            "" | "B" => 1,
            "k" | "kB" | "KB" => 1_000,
            "M" | "MB" => 1_000_000,
            "G" | "GB" => 1_000_000_000,
            "Ki" | "KiB" => 1 << 10,
            "Mi" | "MiB" => 1 << 20,
            "Gi" | "GiB" => 1 << 30,
            _ => {
                return Err(format!(
                    "`{text}` is not a data rate; write e.g. \"500MB/s\", \"1.5GB/s\", \"200MiB/s\" or a number of bytes per second"
                ))
            }
        };
        let v = parse_fixed(num, scale)
            .ok_or_else(|| format!("`{text}` is not a whole number of bytes per second"))?;
        u64::try_from(v)
            .map(Rate)
            .map_err(|_| format!("`{text}` does not fit in 64 bits"))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        for (unit, name) in [
            (1_000_000_000, "GB/s"),
            (1_000_000, "MB/s"),
            (1_000, "kB/s"),
        ] {
            if v >= unit && v.is_multiple_of(unit / 1000) {
                let (i, r) = (v / unit, v % unit / (unit / 1000));
                return if r == 0 {
                    write!(f, "{i}{name}")
                } else {
                    let frac = format!("{r:03}");
                    write!(f, "{i}.{}{name}", frac.trim_end_matches('0'))
                };
            }
        }
        write!(f, "{v}B/s")
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a data rate such as \"500MB/s\", or a number of bytes per second")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                u64::try_from(v)
                    .map(Rate)
                    .map_err(|_| E::custom(format!("{v} is negative; a rate is at least 0")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                Ok(Rate(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_times() {
        for (s, t) in [
            ("8ms", Time::Picos(8_000_000_000)),
            ("0.5 ms", Time::Picos(500_000_000)),
            ("12.5us", Time::Picos(12_500_000)),
            ("12µs", Time::Picos(12_000_000)),
            ("300ns", Time::Picos(300_000)),
            ("1s", Time::Picos(1_000_000_000_000)),
            ("40ps", Time::Picos(40)),
            ("360cyc", Time::Cycles(360)),
            ("360 cycles", Time::Cycles(360)),
            ("360", Time::Cycles(360)),
            ("1_000ms", Time::Picos(1_000_000_000_000)),
        ] {
            assert_eq!(Time::parse(s), Ok(t), "{s}");
        }
        for s in ["", "ms", "-1ms", "8 min", "1.5cyc", "0.1ps", "9999999999s"] {
            assert!(Time::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn cycles_round_half_up() {
        // 8.3333... ms at 1 GHz.
        assert_eq!(Time::Picos(8_333_333_333).cycles(1_000_000_000), 8_333_333);
        assert_eq!(Time::Picos(1_500).cycles(1_000_000_000), 2); // 1.5 cycles -> 2
        assert_eq!(Time::Picos(1_499).cycles(1_000_000_000), 1);
        assert_eq!(Time::ms(360).cycles(1_000), 360);
        assert_eq!(Time::Cycles(7).cycles(1), 7);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "8ms",
            "0.5ms",
            "12.5us",
            "300ns",
            "1s",
            "40ps",
            "360cyc",
            "8.333333ms",
        ] {
            let t = Time::parse(s).unwrap();
            assert_eq!(Time::parse(&t.to_string()), Ok(t), "{s} -> {t}");
        }
        assert_eq!(Time::parse("0.5ms").unwrap().to_string(), "500us");
    }

    #[test]
    fn show() {
        assert_eq!(show_cycles(8_333_333, 1_000_000_000), "8.333 ms");
        assert_eq!(show_cycles(250_000, 1_000_000_000), "250 µs");
        assert_eq!(show_cycles(105, 1_000), "105 ms");
        assert_eq!(show_cycles(0, 1_000), "0");
        assert_eq!(show_cycles(1, 1_000_000_000), "1 ns");
    }

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("500MB/s"), Ok(Rate(500_000_000)));
        assert_eq!(Rate::parse("1.5GB/s"), Ok(Rate(1_500_000_000)));
        assert_eq!(Rate::parse("200MiB/s"), Ok(Rate(200 << 20)));
        assert_eq!(Rate::parse("4096"), Ok(Rate(4096)));
        assert!(Rate::parse("fast").is_err());
        assert_eq!(Rate(1_500_000_000).to_string(), "1.5GB/s");
        assert_eq!(Rate(4096).to_string(), "4.096kB/s");
        assert_eq!(Rate(4095).to_string(), "4.095kB/s");
        assert_eq!(Rate(999).to_string(), "999B/s");
    }
}
