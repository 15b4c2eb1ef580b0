//! Translation modes and their registers: bare, base and bounds, segments (optionally paged),
//! and multi-level paging.

use crate::format::{Format, VaCheck};
use serde::Serialize;
use std::sync::Arc;

/// One segment register.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SegmentRegister {
    /// Physical base. For a grows-up segment, the address of offset 0; for a grows-down
    /// segment, the address one past its top byte (as in the OSTEP segmentation homework).
    /// Unused when the segment is paged.
    pub base: u64,
    /// Size of the segment in bytes.
    pub limit: u64,
    /// A stack segment: valid offsets are the top `limit` bytes of the segment's range.
    pub grows_down: bool,
    /// Loads allowed.
    pub read: bool,
    /// Stores allowed.
    pub write: bool,
    /// Fetches allowed.
    pub exec: bool,
    /// User mode may access the segment (supervisor mode always may).
    pub user: bool,
    /// The segment is in memory; when clear every access faults with segment-not-present.
    pub present: bool,
    /// If set, the segment is paged: its offsets are translated through the page table rooted
    /// at this physical address (in the [`Segmentation::format`] format) instead of added to `base`.
    pub page_table: Option<u64>,
}

impl SegmentRegister {
    /// A present, user-accessible, grows-up segment with the given permissions.
    pub fn new(base: u64, limit: u64, read: bool, write: bool, exec: bool) -> Self {
        SegmentRegister {
            base,
            limit,
            grows_down: false,
            read,
            write,
            exec,
            user: true,
            present: true,
            page_table: None,
        }
    }

    /// A segment register with nothing in it (not present, size 0).
    pub fn absent() -> Self {
        SegmentRegister {
            present: false,
            ..SegmentRegister::new(0, 0, false, false, false)
        }
    }
}

/// How a virtual address selects its segment register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "select", rename_all = "kebab-case")]
pub enum SegmentSelect {
    /// The top [`Segmentation::selector_bits`] bits select the register; the rest is the
    /// offset, and every segment spans [`Segmentation::max_segment`] bytes.
    #[default]
    TopBits,
    /// Two registers split an address space of any size (at least 2 bytes, not necessarily a
    /// power of two) at its middle, as OSTEP's `segmentation.py -a 1000` does: a VA below
    /// `half = ceil(address_space / 2)` selects segment 0 with offset VA; a VA from `half` to
    /// `address_space - 1` selects segment 1 with offset `VA - half`. Segment 0 spans `half`
    /// bytes and segment 1 `address_space - half`, so a grows-down segment 1 maps
    /// `PA = base + (VA - address_space)` for its top `limit` bytes. Addresses at or above
    /// `address_space` fault as out of range. Paged segments are not supported in this mode.
    Halves {
        /// The size of the virtual address space in bytes.
        address_space: u64,
    },
}

impl SegmentSelect {
    /// Whether this is the default, [`SegmentSelect::TopBits`].
    pub fn is_top_bits(&self) -> bool {
        *self == SegmentSelect::TopBits
    }
}

/// The segment-register file: how a virtual address selects a segment, and the registers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segmentation {
    /// Width of a virtual address; higher bits must be zero.
    pub va_bits: u8,
    /// How many top bits of the virtual address select the segment (1 to 3, so 2 to 8 registers).
    pub selector_bits: u8,
    /// The registers, exactly `2^selector_bits` of them.
    pub registers: Vec<SegmentRegister>,
    /// The page-table format of paged segments (required if any register is paged).
    #[serde(serialize_with = "ser_format_name")]
    pub format: Option<Arc<Format>>,
    /// How an address selects its register (the top bits unless given otherwise). With
    /// [`SegmentSelect::Halves`], `selector_bits` must be 1 and `va_bits` the width of
    /// `address_space - 1`.
    #[serde(flatten, skip_serializing_if = "SegmentSelect::is_top_bits")]
    pub select: SegmentSelect,
}

fn ser_format_name<S: serde::Serializer>(f: &Option<Arc<Format>>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_some(f.name()),
        None => s.serialize_none(),
    }
}

impl Segmentation {
    /// Bits of offset within a segment.
    pub fn offset_bits(&self) -> u8 {
        self.va_bits - self.selector_bits
    }

    /// The largest size a segment can have: `2^offset_bits`.
    pub fn max_segment(&self) -> u64 {
        1u64 << self.offset_bits()
    }

    /// Splits a virtual address (already checked with [`Segmentation::va_ok`]) into segment
    /// and offset.
    #[inline]
    pub fn split(&self, va: u64) -> (u8, u64) {
        match self.select {
            SegmentSelect::TopBits => {
                let ob = self.offset_bits();
                ((va >> ob) as u8, va & ((1u64 << ob) - 1))
            }
            SegmentSelect::Halves { address_space } => {
                let half = address_space.div_ceil(2);
                if va < half {
                    (0, va)
                } else {
                    (1, va - half)
                }
            }
        }
    }

    /// Whether a virtual address lies in the address space.
    #[inline]
    pub fn va_ok(&self, va: u64) -> bool {
        match self.select {
            SegmentSelect::TopBits => self.va_bits >= 64 || va >> self.va_bits == 0,
            SegmentSelect::Halves { address_space } => va < address_space,
        }
    }

    /// The range of offsets of `segment`: [`Segmentation::max_segment`] with the top bits
    /// selecting, the size of the segment's half with [`SegmentSelect::Halves`]. A grows-down
    /// segment's valid offsets are the top `limit` of them.
    pub fn span(&self, segment: u8) -> u64 {
        match self.select {
            SegmentSelect::TopBits => self.max_segment(),
            SegmentSelect::Halves { address_space } => {
                let half = address_space.div_ceil(2);
                if segment == 0 {
                    half
                } else {
                    address_space - half
                }
            }
        }
    }

    /// Whether any register is paged.
    pub fn any_paged(&self) -> bool {
        self.registers.iter().any(|r| r.page_table.is_some())
    }
}

/// The translation mode and its registers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Mode {
    /// Physical address = virtual address.
    Bare,
    /// Relocation registers: `pa = base + va` when the access lies below `bounds`.
    BaseBounds {
        /// The base register.
        base: u64,
        /// The bounds register (the size of the address space).
        bounds: u64,
    },
    /// Segment registers (each optionally paged).
    Segmented(Segmentation),
    /// A multi-level page table walked by hardware.
    Paged {
        /// The page-table format.
        #[serde(serialize_with = "ser_format")]
        format: Arc<Format>,
        /// Physical address of the root table.
        root: u64,
    },
}

fn ser_format<S: serde::Serializer>(f: &Arc<Format>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.name())
}

/// A reason a mode's registers cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModeError(pub String);

impl Mode {
    /// A short name: `bare`, `base-bounds`, `segments`, `paged-segments`, or the format's name.
    pub fn name(&self) -> String {
        match self {
            Mode::Bare => "bare".into(),
            Mode::BaseBounds { .. } => "base-bounds".into(),
            Mode::Segmented(s) if s.any_paged() => "paged-segments".into(),
            Mode::Segmented(_) => "segments".into(),
            Mode::Paged { format, .. } => format.name().into(),
        }
    }

    /// Whether translations in this mode go through the TLBs.
    pub fn uses_tlb(&self) -> bool {
        match self {
            Mode::Paged { .. } => true,
            Mode::Segmented(s) => s.any_paged(),
            _ => false,
        }
    }

    /// Checks the registers for consistency, with a message that says what would be right.
    pub fn validate(&self) -> Result<(), ModeError> {
        match self {
            Mode::Bare | Mode::Paged { .. } => Ok(()),
            Mode::BaseBounds { base, bounds } => {
                if base.checked_add(*bounds).is_none()
                    && bounds
                        .checked_sub(1)
                        .and_then(|b| base.checked_add(b))
                        .is_none()
                {
                    return Err(ModeError(format!(
                        "base {base:#x} + bounds {bounds:#x} runs past the end of the 64-bit physical address space"
                    )));
                }
                Ok(())
            }
            Mode::Segmented(s) => {
                if !(1..=3).contains(&s.selector_bits) {
                    return Err(ModeError(format!(
                        "segment selector bits = {}; use 1, 2 or 3 (2 to 8 segment registers)",
                        s.selector_bits
                    )));
                }
                if s.va_bits > 64 || s.va_bits <= s.selector_bits {
                    return Err(ModeError(format!(
                        "a {}-bit virtual address cannot hold {} selector bits and an offset; use {} to 64 bits",
                        s.va_bits,
                        s.selector_bits,
                        s.selector_bits + 1
                    )));
                }
                if s.va_bits == 64 {
                    return Err(ModeError(
                        "segmented virtual addresses may be at most 63 bits wide".into(),
                    ));
                }
                let n = 1usize << s.selector_bits;
                if s.registers.len() != n {
                    return Err(ModeError(format!(
                        "{} selector bits select {n} segment registers, but {} are given; list exactly {n} (mark unused ones not present)",
                        s.selector_bits,
                        s.registers.len()
                    )));
                }
                if let SegmentSelect::Halves { address_space } = s.select {
                    let bits = (64 - address_space.saturating_sub(1).leading_zeros()) as u8;
                    if address_space < 2 || s.selector_bits != 1 || s.va_bits != bits.max(2) {
                        return Err(ModeError(format!(
                            "an address space of {address_space} bytes split in halves needs at least 2 bytes, selector_bits = 1 and va_bits = {}",
                            bits.max(2)
                        )));
                    }
                    if s.any_paged() {
                        return Err(ModeError(
                            "segments split in halves of an address space cannot be paged".into(),
                        ));
                    }
                }
                for (i, r) in s.registers.iter().enumerate() {
                    let max = s.span(i as u8);
                    if r.limit > max {
                        return Err(ModeError(match s.select {
                            SegmentSelect::TopBits => format!(
                                "segment {i}: limit {:#x} exceeds the largest segment a {}-bit offset can address ({max:#x})",
                                r.limit,
                                s.offset_bits()
                            ),
                            SegmentSelect::Halves { .. } => format!(
                                "segment {i}: limit {} exceeds its half of the address space ({max} bytes)",
                                r.limit
                            ),
                        }));
                    }
                    if r.page_table.is_none() {
                        if r.grows_down && r.base < r.limit {
                            return Err(ModeError(format!(
                                "segment {i}: grows down from base {:#x} but its limit {:#x} would reach below physical address 0",
                                r.base, r.limit
                            )));
                        }
                        if !r.grows_down && r.base.checked_add(r.limit).is_none() {
                            return Err(ModeError(format!(
                                "segment {i}: base {:#x} + limit {:#x} overflows the physical address space",
                                r.base, r.limit
                            )));
                        }
                    }
                }
                if s.any_paged() {
                    let Some(f) = &s.format else {
                        return Err(ModeError(
                            "a segment is paged (has `page_table`) but no page-table format is given for paged segments".into(),
                        ));
                    };
                    let need = s.offset_bits();
                    let ok = match f.spec().va_check {
                        VaCheck::Zero => f.va_bits() >= need,
                        VaCheck::Canonical => f.va_bits() > need,
                    };
                    if !ok {
                        return Err(ModeError(format!(
                            "paged segments have {need}-bit offsets but format `{}` translates only {} bits{}",
                            f.name(),
                            f.va_bits(),
                            if f.spec().va_check == VaCheck::Canonical { " (sign-extended, so one more is needed)" } else { "" }
                        )));
                    }
                }
                Ok(())
            }
        }
    }
}
