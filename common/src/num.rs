//! Numbers in scenario and machine files: TOML integers or strings such as `"0x1f"`, `"0b101"`,
//! `"1_000"`, `"16k"`, `"4K"`, `"1M"`, `"2G"`.
//!
//! Strings are needed because TOML integers are signed 64-bit values, so an address such as
//! `0xffffffc000000000` does not fit in one; as a string it does. Size suffixes are binary
//! (`k` = 1024, `M` = 1024², `G` = 1024³, `T` = 1024⁴), may be followed by `B` or `iB`
//! (`"4KiB"`), and apply to decimal numbers only.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// An unsigned 64-bit number read from a TOML integer or string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Num(pub u64);

impl Num {
    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Parses the text form of a number: decimal, `0x` hex, `0o` octal, `0b` binary, `_` digit
/// separators, and (for decimal) a binary size suffix `k`, `M`, `G`, `T` (either case,
/// optionally followed by `B` or `iB`).
pub fn parse_num(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let bad = |why: &str| {
        format!(
            "`{text}` is not a number: {why}; write e.g. 42, \"0x1f\", \"0b101\", \"1_000\" or \"16k\""
        )
    };
    if t.is_empty() {
        return Err(bad("it is empty"));
    }
    if t.starts_with('-') {
        return Err(format!(
            "`{text}` is negative; addresses, sizes and counts are unsigned"
        ));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else {
        (10, lower.as_str())
    };
    let (digits, mult) = if radix == 10 {
        let d = digits
            .strip_suffix("ib")
            .or_else(|| digits.strip_suffix('b'))
            .unwrap_or(digits);
        let unit = |s: &str, m: u64| d.strip_suffix(s).map(|d| (d, m));
        unit("k", 1 << 10)
            .or_else(|| unit("m", 1 << 20))
            .or_else(|| unit("g", 1 << 30))
            .or_else(|| unit("t", 1 << 40))
            .unwrap_or((digits, 1))
    } else {
        (digits, 1)
    };
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err(bad("it has no digits"));
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c
            .to_digit(radix)
            .ok_or_else(|| bad(&format!("`{c}` is not a base-{radix} digit")))?;
        v = v
            .checked_mul(radix as u64)
            .and_then(|v| v.checked_add(d as u64))
            .ok_or_else(|| {
                format!(
                    "`{text}` does not fit in 64 bits (the largest value is 0xffffffffffffffff)"
                )
            })?;
    }
    v.checked_mul(mult).ok_or_else(|| {
        format!("`{text}` does not fit in 64 bits (the largest value is 16 EiB - 1)")
    })
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer, or a string such as \"0x1f\", \"0b101\", \"1_000\" or \"16k\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                u64::try_from(v).map(Num).map_err(|_| {
                    E::custom(format!(
                        "{v} is negative; addresses, sizes and counts are unsigned"
                    ))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_num(v).map(Num).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A `u64` field of a TOML file that may hold any `u64`: read as [`Num`] (an integer, or a
/// string such as `"18446744073709551615"` or `"0xffffffffffffffff"` for values TOML's
/// signed integers cannot hold), written as an integer when it fits in one and as a decimal
/// string otherwise, so `vmlab config`'s output reads back. Use with
/// `#[serde(with = "vmlab_common::num::any_u64")]`; [`any_u64_opt`] and [`any_u64_vec`] do
/// the same for `Option<u64>` and `Vec<u64>`.
pub mod any_u64 {
    use super::Num;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v`.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*v) {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_str(&v.to_string()),
        }
    }

    /// Reads a `u64`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Num::deserialize(d).map(Num::get)
    }
}

/// [`any_u64`] for an `Option<u64>` (`None` is left out of the file). Use with
/// `#[serde(default, with = "vmlab_common::num::any_u64_opt")]`.
pub mod any_u64_opt {
    use super::Num;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v`.
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::any_u64::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    /// Reads an `Option<u64>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<Num>::deserialize(d).map(|n| n.map(Num::get))
    }
}

/// [`any_u64`] for a `Vec<u64>`. Use with
/// `#[serde(with = "vmlab_common::num::any_u64_vec")]`.
pub mod any_u64_vec {
    use super::Num;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v`.
    pub fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            match i64::try_from(*x) {
                Ok(i) => seq.serialize_element(&i)?,
                Err(_) => seq.serialize_element(&x.to_string())?,
            }
        }
        seq.end()
    }

    /// Reads a `Vec<u64>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        Vec::<Num>::deserialize(d).map(|v| v.into_iter().map(Num::get).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for (s, v) in [
            ("0", 0u64),
            ("42", 42),
            ("0x1f", 0x1f),
            ("0X1F", 0x1f),
            ("0b101", 5),
            ("0o17", 15),
            ("1_000", 1000),
            ("16k", 16384),
            ("4K", 4096),
            ("4KiB", 4096),
            ("4KB", 4096),
            ("1M", 1 << 20),
            ("2G", 2 << 30),
            ("1T", 1 << 40),
            ("0xffff_ffc0_0000_0000", 0xffff_ffc0_0000_0000),
            ("0xffffffffffffffff", u64::MAX),
        ] {
            assert_eq!(parse_num(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn errors() {
        for (s, needle) in [
            ("", "empty"),
            ("-1", "negative"),
            ("0x1_0000_0000_0000_0000", "64 bits"),
            ("0xg", "not a base-16 digit"),
            ("12q", "not a base-10 digit"),
            ("16777216T", "64 bits"),
            ("0x", "no digits"),
            ("k", "no digits"),
        ] {
            let e = parse_num(s).unwrap_err();
            assert!(e.contains(needle), "{s}: {e}");
        }
    }
}
