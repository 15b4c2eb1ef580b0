//! The answer a scenario's access is expected to give (`expect`), so that a student's whole
//! answer is graded: the physical address and the value read there, or the fault and which
//! one.
//!
//! Written as:
//! - `expect = "0x6229"` (or a number): the access translates to that physical address;
//! - `expect = { pa = "0x6229", value = "0x2a" }`: ... and the bytes there hold that value
//!   (little-endian, the access's size);
//! - `expect = "fault"`: the access faults, for whatever reason;
//! - `expect = "fault:WHAT"`, `"fault:WHAT@N"`, or `{ fault = "WHAT", level = N }` /
//!   `{ fault = "WHAT", segment = N }`: it faults for that reason. WHAT is a counter name
//!   of `mmu.faults.*` (`bounds`, `segment_limit`, `segment_not_present`,
//!   `segment_protection`, `page.invalid`, `page.not_writable`, ..., `address_out_of_range`,
//!   `non_canonical`), or a group: `segment` (any segment fault), `page` (any page fault),
//!   `invalid` (an invalid PTE at any level), `pde` (an invalid entry above the last level:
//!   OSTEP's "page directory entry not valid"), `pte` (an invalid last-level entry),
//!   `permission` (a permission check of a page or a segment). `@N` is the PTE's level for
//!   page faults (the root is `levels - 1`, the leaf level 0) and the segment register for
//!   segment faults (OSTEP's `SEG0`/`SEG1` are `@0`/`@1`).

use crate::report::Outcome;
use serde::Deserialize;
use std::fmt;
use vmlab_mmu::{Fault, FaultCause, PageFaultReason};

/// The expected answer of one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// It translates to `pa` (and, with `value`, the bytes there hold it).
    Pa {
        /// The physical address.
        pa: u64,
        /// The value read there (little-endian, the access's size).
        value: Option<u64>,
    },
    /// It faults (for the reason given, if one is).
    Fault(Option<FaultMatch>),
}

/// Which fault an `expect` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultMatch {
    /// The cause or group.
    pub what: FaultWhat,
    /// `@N`: the PTE level (page faults) or the segment register (segment faults).
    pub at: Option<u8>,
}

/// A fault cause, or a group of causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultWhat {
    /// Exactly this cause (its `mmu.faults.*` name).
    Cause(FaultCause),
    /// Any segment fault (limit, not present, protection).
    Segment,
    /// Any page fault.
    Page,
    /// An invalid PTE at any level.
    Invalid,
    /// An invalid entry above the last level (a page directory entry).
    Pde,
    /// An invalid last-level entry.
    Pte,
    /// A permission check of a page or a segment.
    Permission,
}

const GROUPS: &[(&str, FaultWhat)] = &[
    ("segment", FaultWhat::Segment),
    ("page", FaultWhat::Page),
    ("invalid", FaultWhat::Invalid),
    ("pde", FaultWhat::Pde),
    ("pte", FaultWhat::Pte),
    ("permission", FaultWhat::Permission),
];

impl FaultWhat {
    fn parse(s: &str) -> Result<FaultWhat, String> {
        let s = s.trim().to_ascii_lowercase();
        if let Some((_, w)) = GROUPS.iter().find(|(n, _)| *n == s) {
            return Ok(*w);
        }
        FaultCause::all()
            .find(|c| c.name() == s)
            .map(FaultWhat::Cause)
            .ok_or_else(|| {
                let causes: Vec<String> = FaultCause::all().map(|c| c.name()).collect();
                format!(
                    "unknown fault `{s}`; name a group ({}) or a cause ({})",
                    GROUPS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    causes.join(", ")
                )
            })
    }

    fn name(self) -> String {
        match self {
            FaultWhat::Cause(c) => c.name(),
            other => GROUPS
                .iter()
                .find(|(_, w)| *w == other)
                .map_or("?", |(n, _)| n)
                .to_string(),
        }
    }

    fn matches(self, f: &Fault) -> bool {
        let page = |r: &PageFaultReason| match f {
            Fault::Page { reason, .. } => reason == r,
            _ => false,
        };
        match self {
            FaultWhat::Cause(c) => f.cause() == c,
            FaultWhat::Segment => matches!(
                f,
                Fault::SegmentLimit { .. }
                    | Fault::SegmentNotPresent { .. }
                    | Fault::SegmentProtection { .. }
            ),
            FaultWhat::Page => matches!(f, Fault::Page { .. }),
            FaultWhat::Invalid => page(&PageFaultReason::Invalid),
            FaultWhat::Pde => page(&PageFaultReason::Invalid) && level(f).is_some_and(|l| l > 0),
            FaultWhat::Pte => page(&PageFaultReason::Invalid) && level(f) == Some(0),
            FaultWhat::Permission => {
                matches!(f, Fault::SegmentProtection { .. })
                    || matches!(
                        f,
                        Fault::Page {
                            reason: PageFaultReason::NotReadable
                                | PageFaultReason::NotWritable
                                | PageFaultReason::NotExecutable
                                | PageFaultReason::WriteWithoutRead
                                | PageFaultReason::SupervisorPage
                                | PageFaultReason::UserPageSumClear
                                | PageFaultReason::UserPageFetch,
                            ..
                        }
                    )
            }
        }
    }
}

/// The PTE level of a page fault.
fn level(f: &Fault) -> Option<u8> {
    match f {
        Fault::Page { level, .. } | Fault::PteAccess { level, .. } => Some(*level),
        _ => None,
    }
}

/// The segment register of a segment fault.
fn segment(f: &Fault) -> Option<u8> {
    match f {
        Fault::SegmentLimit { segment, .. }
        | Fault::SegmentNotPresent { segment }
        | Fault::SegmentProtection { segment, .. } => Some(*segment),
        _ => None,
    }
}

impl FaultMatch {
    fn parse(s: &str) -> Result<FaultMatch, String> {
        let (what, at) = match s.split_once('@') {
            Some((w, n)) => {
                let n = n.trim();
                let n = n
                    .strip_prefix("level")
                    .or_else(|| n.strip_prefix("seg"))
                    .unwrap_or(n)
                    .trim();
                let at: u8 = n.parse().map_err(|_| {
                    format!("`@{n}` is not a level or segment number; write e.g. fault:pde@1 or fault:segment@0")
                })?;
                (w, Some(at))
            }
            None => (s, None),
        };
        Ok(FaultMatch {
            what: FaultWhat::parse(what)?,
            at,
        })
    }

    /// Whether fault `f` is this one.
    pub fn matches(&self, f: &Fault) -> bool {
        self.what.matches(f)
            && self
                .at
                .is_none_or(|n| level(f) == Some(n) || segment(f) == Some(n))
    }
}

impl Expect {
    /// Whether `outcome` is this answer.
    pub fn matches(&self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (
                Expect::Pa { pa, value },
                Outcome::Ok {
                    translation,
                    value: got,
                },
            ) => translation.pa == *pa && value.is_none_or(|v| *got == Some(v)),
            (Expect::Fault(m), Outcome::Fault { fault, .. }) => m.is_none_or(|m| m.matches(fault)),
            _ => false,
        }
    }

    /// The answer in words, for the report (`PA 0x6229 holding 0x2a`, `a page.invalid
    /// fault at level 1`); `num` writes a number as the report does.
    pub fn describe(&self, num: &dyn Fn(u64) -> String) -> String {
        match self {
            Expect::Pa { pa, value: None } => format!("PA {}", num(*pa)),
            Expect::Pa { pa, value: Some(v) } => format!("PA {} holding {v:#x}", num(*pa)),
            Expect::Fault(None) => "a fault".to_string(),
            Expect::Fault(Some(m)) => format!("a {m}"),
        }
    }
}

impl fmt::Display for FaultMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fault", self.what.name())?;
        if let Some(n) = self.at {
            let seg = matches!(self.what, FaultWhat::Segment)
                || matches!(
                    self.what,
                    FaultWhat::Cause(
                        FaultCause::SegmentLimit
                            | FaultCause::SegmentNotPresent
                            | FaultCause::SegmentProtection
                    )
                );
            write!(f, " {} {n}", if seg { "in segment" } else { "at level" })?;
        }
        Ok(())
    }
}

impl serde::Serialize for Expect {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Expect::Fault(None) => s.serialize_str("fault"),
            Expect::Fault(Some(m)) => {
                let mut map = s.serialize_map(Some(1))?;
                let at = m.at.map(|n| format!("@{n}")).unwrap_or_default();
                map.serialize_entry("fault", &format!("{}{at}", m.what.name()))?;
                map.end()
            }
            Expect::Pa { pa, value } => {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("pa", pa)?;
                if let Some(v) = value {
                    map.serialize_entry("value", v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Expect;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a physical address such as \"0x6229\", \"fault\", \"fault:pte\", or a table { pa = ..., value = ... } / { fault = ..., level = N }",
                )
            }
            fn visit_i64<Er: serde::de::Error>(self, v: i64) -> Result<Expect, Er> {
                u64::try_from(v)
                    .map(|pa| Expect::Pa { pa, value: None })
                    .map_err(|_| {
                        Er::custom(format!("{v} is negative; a physical address is unsigned"))
                    })
            }
            fn visit_str<Er: serde::de::Error>(self, v: &str) -> Result<Expect, Er> {
                let t = v.trim();
                if t.eq_ignore_ascii_case("fault") {
                    return Ok(Expect::Fault(None));
                }
                if let Some(rest) = t
                    .strip_prefix("fault:")
                    .or_else(|| t.strip_prefix("FAULT:"))
                {
                    return FaultMatch::parse(rest)
                        .map(|m| Expect::Fault(Some(m)))
                        .map_err(Er::custom);
                }
                crate::num::parse_num(t)
                    .map(|pa| Expect::Pa { pa, value: None })
                    .map_err(|e| {
                        Er::custom(format!(
                            "{e}; or write expect = \"fault\" (or \"fault:pte\", \"fault:segment@1\", ...) for an access that must fault"
                        ))
                    })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Expect, A::Error> {
                let (mut pa, mut value, mut fault, mut at) = (None, None, None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "pa" => pa = Some(m.next_value::<crate::num::Num>()?.get()),
                        "value" => value = Some(m.next_value::<crate::num::Num>()?.get()),
                        "fault" => fault = Some(m.next_value::<String>()?),
                        "level" | "segment" => {
                            let n = m.next_value::<crate::num::Num>()?.get();
                            at = Some(u8::try_from(n).map_err(|_| {
                                serde::de::Error::custom(format!("{k} {n} is too large"))
                            })?);
                        }
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "unknown expect field `{other}`; an expect table has `pa` and `value`, or `fault` and `level`/`segment`"
                            )))
                        }
                    }
                }
                match (pa, fault) {
                    (Some(_), Some(_)) => Err(serde::de::Error::custom(
                        "an expect table has `pa` (a translation) or `fault`, not both",
                    )),
                    (Some(pa), None) if at.is_none() => Ok(Expect::Pa { pa, value }),
                    (Some(_), None) => Err(serde::de::Error::custom(
                        "`level` and `segment` go with `fault`, not with `pa`",
                    )),
                    (None, Some(f)) if value.is_none() => {
                        let what = if f.eq_ignore_ascii_case("fault") || f.is_empty() {
                            None
                        } else {
                            Some(FaultWhat::parse(&f).map_err(serde::de::Error::custom)?)
                        };
                        match (what, at) {
                            (None, None) => Ok(Expect::Fault(None)),
                            (None, Some(_)) => Err(serde::de::Error::custom(
                                "name the fault to give its level or segment, e.g. { fault = \"pde\", level = 1 }",
                            )),
                            (Some(what), at) => Ok(Expect::Fault(Some(FaultMatch { what, at }))),
                        }
                    }
                    (None, Some(_)) => Err(serde::de::Error::custom(
                        "`value` goes with `pa`: a fault reads nothing",
                    )),
                    (None, None) => Err(serde::de::Error::custom(
                        "an expect table needs `pa` (and `value`) or `fault` (and `level`/`segment`)",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        expect: Expect,
    }

    fn parse(s: &str) -> Result<Expect, String> {
        toml::from_str::<T>(&format!("expect = {s}"))
            .map(|t| t.expect)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_form_parses() {
        let check = |s: &str, want: Expect| assert_eq!(parse(s), Ok(want), "{s}");
        check(
            "\"0x6229\"",
            Expect::Pa {
                pa: 0x6229,
                value: None,
            },
        );
        check(
            "25129",
            Expect::Pa {
                pa: 25129,
                value: None,
            },
        );
        check(
            "{ pa = \"0x6229\", value = \"0x2a\" }",
            Expect::Pa {
                pa: 0x6229,
                value: Some(0x2a),
            },
        );
        check("\"fault\"", Expect::Fault(None));
        check(
            "\"fault:pde\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Pde,
                at: None,
            })),
        );
        check(
            "\"fault:segment@1\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Segment,
                at: Some(1),
            })),
        );
        check(
            "\"fault:page.invalid@level 2\"",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::Page(PageFaultReason::Invalid)),
                at: Some(2),
            })),
        );
        check(
            "{ fault = \"bounds\" }",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::Bounds),
                at: None,
            })),
        );
        check(
            "{ fault = \"segment_limit\", segment = 0 }",
            Expect::Fault(Some(FaultMatch {
                what: FaultWhat::Cause(FaultCause::SegmentLimit),
                at: Some(0),
            })),
        );
    }

    #[test]
    fn bad_expectations_say_what_would_be_right() {
        let check = |s: &str, want: &str| {
            let e = parse(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        };
        check("\"fault:nonsense\"", "name a group");
        check("\"fault:pde@x\"", "not a level or segment number");
        check("{ pa = 1, fault = \"pde\" }", "not both");
        check("{ fault = \"pde\", value = 1 }", "a fault reads nothing");
        check("{ level = 1 }", "needs `pa`");
        check("{ fault = \"fault\", level = 1 }", "name the fault");
        check("\"12z\"", "fault:pte");
    }

    #[test]
    fn faults_match_by_cause_group_level_and_segment() {
        let page = |reason, level| Fault::Page {
            va: 0,
            kind: vmlab_mmu::AccessKind::Load,
            level,
            pte_addr: 0,
            pte: 0,
            reason,
        };
        let limit = |segment| Fault::SegmentLimit {
            segment,
            offset: 0,
            size: 1,
            limit: 0,
            grows_down: false,
        };
        let m = |s: &str| FaultMatch::parse(s).expect(s);
        let check = |s: &str, f: &Fault, want: bool| assert_eq!(m(s).matches(f), want, "{s} {f:?}");
        check("pde", &page(PageFaultReason::Invalid, 1), true);
        check("pde", &page(PageFaultReason::Invalid, 0), false);
        check("pte", &page(PageFaultReason::Invalid, 0), true);
        check("invalid@1", &page(PageFaultReason::Invalid, 1), true);
        check("invalid@0", &page(PageFaultReason::Invalid, 1), false);
        check("permission", &page(PageFaultReason::NotWritable, 0), true);
        check(
            "page.not_writable",
            &page(PageFaultReason::NotWritable, 0),
            true,
        );
        check(
            "page.not_readable",
            &page(PageFaultReason::NotWritable, 0),
            false,
        );
        check("segment@1", &limit(1), true);
        check("segment@0", &limit(1), false);
        check("segment_limit", &limit(0), true);
        check("bounds", &limit(0), false);
        check(
            "bounds",
            &Fault::Bounds {
                va: 0,
                size: 1,
                bounds: 0,
            },
            true,
        );
    }
}
