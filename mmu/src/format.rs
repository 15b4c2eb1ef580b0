//! Page-table formats described as data: levels, index widths, PTE layout, leaf rule.
//!
//! The walker knows nothing about RISC-V in particular; Sv32, Sv39, Sv48, Sv57 and the OSTEP
//! teaching formats are values of [`FormatSpec`], and a user can write any other in TOML.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The most levels a format may have.
pub const MAX_LEVELS: usize = 8;

/// A contiguous bit field inside a PTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitField {
    /// The lowest bit.
    pub lsb: u8,
    /// How many bits.
    pub width: u8,
}

impl BitField {
    /// A mask with the field's bits set (in place).
    pub fn mask(self) -> u64 {
        // A field wholly above bit 63 (not yet validated) has no bits in a u64.
        if self.width == 0 || self.lsb >= 64 {
            0
        } else if self.width >= 64 {
            u64::MAX << self.lsb
        } else {
            ((1u64 << self.width) - 1) << self.lsb
        }
    }

    /// Extracts the field from `value`.
    pub fn get(self, value: u64) -> u64 {
        (value & self.mask()) >> self.lsb
    }
}

/// How the walker tells a leaf PTE from a pointer to the next table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum LeafRule {
    /// RISC-V: a PTE with R or X set is a leaf, otherwise it points to the next level.
    Rwx,
    /// Only the last level holds leaves; every PTE above it is a pointer (OSTEP, classic x86 without PS).
    LastLevel,
    /// A PTE is a leaf if this bit is set (x86's PS bit) or it is at the last level.
    LeafBit(u8),
}

/// How the bits of a virtual address above the translated width must look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VaCheck {
    /// Bits above the top translated bit must all equal it (RISC-V Sv39/48/57).
    Canonical,
    /// Bits above the translated width must be zero (Sv32 on a 32-bit hart, teaching formats).
    Zero,
}

/// What the hardware does when a leaf's accessed bit, or a stored-to page's dirty bit, is clear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdPolicy {
    /// Raise a page fault; software sets the bits (the Svade extension).
    #[default]
    Svade,
    /// The walker writes the bits back to the PTE, which costs a memory write (Svadu).
    Svadu,
}

/// An inclusive range of reserved PTE bits that must be zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitRange {
    /// The lowest reserved bit.
    pub from: u8,
    /// The highest reserved bit.
    pub to: u8,
}

/// A page-table format as written in a configuration file.
///
/// Levels are numbered as the RISC-V specification numbers them: the root table is level
/// `levels - 1` and the last level is level 0. `index_bits` lists the index widths from the
/// root down to level 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpec {
    /// A name for reports (`sv39`, `ostep-2level`, ...).
    pub name: String,
    /// Index bits per level, from the root down to the last level.
    pub index_bits: Vec<u8>,
    /// Page-offset bits (12 for 4 KiB pages).
    pub page_offset_bits: u8,
    /// PTE size in bytes: 1, 2, 4 or 8.
    pub pte_bytes: u8,
    /// Where the physical frame number lies in a PTE.
    pub pfn: BitField,
    /// The valid bit.
    pub valid: u8,
    /// The read-permission bit, if the format has one (absent: every leaf is readable).
    #[serde(default)]
    pub read: Option<u8>,
    /// The write-permission bit, if any (absent: every leaf is writable).
    #[serde(default)]
    pub write: Option<u8>,
    /// The execute-permission bit, if any (absent: every leaf is executable).
    #[serde(default)]
    pub exec: Option<u8>,
    /// The user bit, if any (absent: every page is accessible from U and S).
    #[serde(default)]
    pub user: Option<u8>,
    /// The global bit, if any.
    #[serde(default)]
    pub global: Option<u8>,
    /// The accessed bit, if any.
    #[serde(default)]
    pub accessed: Option<u8>,
    /// The dirty bit, if any.
    #[serde(default)]
    pub dirty: Option<u8>,
    /// Bits that must be zero, else a page fault.
    #[serde(default)]
    pub reserved: Vec<BitRange>,
    /// How leaves are told from pointers.
    pub leaf: LeafRule,
    /// Whether a leaf may appear above the last level.
    #[serde(default)]
    pub superpages: bool,
    /// How the bits above the translated width must look.
    pub va_check: VaCheck,
    /// RISC-V rule: a non-leaf PTE with D, A or U set is a page fault.
    #[serde(default)]
    pub non_leaf_dau_reserved: bool,
}

/// A reason a [`FormatSpec`] cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("page-table format `{name}`: {problem}")]
pub struct FormatError {
    /// The format's name.
    pub name: String,
    /// What is wrong and what would be right.
    pub problem: String,
}

/// A validated format with the values the walker needs precomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    spec: FormatSpec,
    levels: u8,
    /// Shift of the index for level i (RISC-V numbering).
    shift: [u8; MAX_LEVELS],
    /// Index width for level i.
    bits: [u8; MAX_LEVELS],
    va_bits: u8,
    pa_bits: u8,
    reserved_mask: u64,
    pte_mask: u64,
}

/// The permission and status bits of a PTE, decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PteFlags {
    /// Valid.
    pub v: bool,
    /// Readable (true when the format has no R bit).
    pub r: bool,
    /// Writable (true when the format has no W bit).
    pub w: bool,
    /// Executable (true when the format has no X bit).
    pub x: bool,
    /// User-accessible (true when the format has no U bit).
    pub u: bool,
    /// Global.
    pub g: bool,
    /// Accessed (true when the format has no A bit).
    pub a: bool,
    /// Dirty (true when the format has no D bit).
    pub d: bool,
}

impl fmt::Display for PteFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}{}{}{}{}{}",
            b(self.d, 'D'),
            b(self.a, 'A'),
            b(self.g, 'G'),
            b(self.u, 'U'),
            b(self.x, 'X'),
            b(self.w, 'W'),
            b(self.r, 'R'),
            b(self.v, 'V')
        )
    }
}

fn err(name: &str, problem: impl Into<String>) -> FormatError {
    FormatError {
        name: name.to_string(),
        problem: problem.into(),
    }
}

impl Format {
    /// Validates a spec and precomputes its layout.
    pub fn new(spec: FormatSpec) -> Result<Format, FormatError> {
        let name = spec.name.clone();
        let levels = spec.index_bits.len();
        if levels == 0 || levels > MAX_LEVELS {
            return Err(err(
                &name,
                format!(
                    "has {levels} levels; a format needs 1 to {MAX_LEVELS} entries in `index_bits`"
                ),
            ));
        }
        if spec.index_bits.contains(&0) {
            return Err(err(
                &name,
                "an entry of `index_bits` is 0; every level needs at least 1 index bit",
            ));
        }
        if spec.page_offset_bits == 0 || spec.page_offset_bits > 40 {
            return Err(err(
                &name,
                format!(
                    "`page_offset_bits` = {} is out of range; use 1 to 40",
                    spec.page_offset_bits
                ),
            ));
        }
        if !matches!(spec.pte_bytes, 1 | 2 | 4 | 8) {
            return Err(err(
                &name,
                format!(
                    "`pte_bytes` = {}; a PTE is 1, 2, 4 or 8 bytes",
                    spec.pte_bytes
                ),
            ));
        }
        let va_bits: u32 =
            spec.page_offset_bits as u32 + spec.index_bits.iter().map(|&b| b as u32).sum::<u32>();
        if va_bits > 64 {
            return Err(err(
                &name,
                format!(
                    "the index bits ({}) plus the page offset ({}) make a {va_bits}-bit virtual address; at most 64 bits fit",
                    spec.index_bits.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(" + "),
                    spec.page_offset_bits
                ),
            ));
        }
        let pte_bits = spec.pte_bytes as u32 * 8;
        // Every named field must lie within the PTE and no two may overlap.
        let mut used: u64 = 0;
        let mut fields: Vec<(String, BitField)> = vec![
            ("pfn".into(), spec.pfn),
            (
                "valid".into(),
                BitField {
                    lsb: spec.valid,
                    width: 1,
                },
            ),
        ];
        for (n, b) in [
            ("read", spec.read),
            ("write", spec.write),
            ("exec", spec.exec),
            ("user", spec.user),
            ("global", spec.global),
            ("accessed", spec.accessed),
            ("dirty", spec.dirty),
        ] {
            if let Some(b) = b {
                fields.push((n.into(), BitField { lsb: b, width: 1 }));
            }
        }
        if let LeafRule::LeafBit(b) = spec.leaf {
            fields.push(("leaf bit".into(), BitField { lsb: b, width: 1 }));
        }
        for r in &spec.reserved {
            if r.to < r.from {
                return Err(err(
                    &name,
                    format!(
                        "reserved range {}..={} is backwards; write `from` <= `to`",
                        r.from, r.to
                    ),
                ));
            }
            fields.push((
                format!("reserved {}..={}", r.from, r.to),
                BitField {
                    lsb: r.from,
                    // Saturating: 0..=255 would be 256 bits; the fit check below rejects it.
                    width: (r.to - r.from).saturating_add(1),
                },
            ));
        }
        if spec.pfn.width == 0 {
            return Err(err(&name, "the `pfn` field has width 0"));
        }
        for (i, (n, f)) in fields.iter().enumerate() {
            if f.lsb as u32 + f.width as u32 > pte_bits {
                return Err(err(
                    &name,
                    format!(
                        "field `{n}` (bits {}..={}) does not fit in a {}-byte PTE (bits 0..={})",
                        f.lsb,
                        f.lsb as u32 + f.width as u32 - 1,
                        spec.pte_bytes,
                        pte_bits - 1
                    ),
                ));
            }
            if used & f.mask() != 0 {
                // `used` holds only the fields before this one, so the overlap is with one of
                // them (two equal reserved ranges share a name, so compare positions).
                let other = fields[..i]
                    .iter()
                    .find(|(_, g)| g.mask() & f.mask() != 0)
                    .map(|(m, _)| m.clone())
                    .unwrap_or_default();
                return Err(err(
                    &name,
                    format!("field `{n}` overlaps field `{other}`; PTE fields must not share bits"),
                ));
            }
            used |= f.mask();
        }
        let pa_bits = spec.pfn.width as u32 + spec.page_offset_bits as u32;
        if pa_bits > 64 {
            return Err(err(
                &name,
                format!("a {}-bit PFN with {} offset bits makes a {pa_bits}-bit physical address; at most 64 fit", spec.pfn.width, spec.page_offset_bits),
            ));
        }
        if spec.leaf == LeafRule::Rwx && (spec.read.is_none() || spec.exec.is_none()) {
            return Err(err(
                &name,
                "leaf rule `rwx` needs both a `read` and an `exec` bit",
            ));
        }
        if spec.non_leaf_dau_reserved && spec.leaf != LeafRule::Rwx {
            return Err(err(
                &name,
                "`non_leaf_dau_reserved` only makes sense with leaf rule `rwx`",
            ));
        }
        if spec.superpages && spec.leaf == LeafRule::LastLevel {
            return Err(err(&name, "`superpages = true` needs a leaf rule that can mark a leaf above the last level (`rwx` or a leaf bit)"));
        }
        let mut shift = [0u8; MAX_LEVELS];
        let mut bits = [0u8; MAX_LEVELS];
        let mut s = spec.page_offset_bits;
        for i in 0..levels {
            // index_bits[0] is the root (level levels-1); the last entry is level 0.
            let b = spec.index_bits[levels - 1 - i];
            shift[i] = s;
            bits[i] = b;
            s += b;
        }
        let reserved_mask = spec.reserved.iter().fold(0u64, |m, r| {
            m | BitField {
                lsb: r.from,
                width: r.to - r.from + 1,
            }
            .mask()
        });
        let pte_mask = if pte_bits == 64 {
            u64::MAX
        } else {
            (1u64 << pte_bits) - 1
        };
        Ok(Format {
            levels: levels as u8,
            shift,
            bits,
            va_bits: va_bits as u8,
            pa_bits: pa_bits as u8,
            reserved_mask,
            pte_mask,
            spec,
        })
    }

    /// The spec this format was built from.
    pub fn spec(&self) -> &FormatSpec {
        &self.spec
    }

    /// The format's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Number of levels.
    pub fn levels(&self) -> u8 {
        self.levels
    }

    /// Significant virtual-address bits.
    pub fn va_bits(&self) -> u8 {
        self.va_bits
    }

    /// Physical-address bits a PTE can name.
    pub fn pa_bits(&self) -> u8 {
        self.pa_bits
    }

    /// Page-offset bits of a base page.
    pub fn page_offset_bits(&self) -> u8 {
        self.spec.page_offset_bits
    }

    /// PTE size in bytes.
    pub fn pte_bytes(&self) -> u8 {
        self.spec.pte_bytes
    }

    /// log2 of the size of a page mapped by a leaf at `level` (12 for level 0 of Sv39, 21 for level 1).
    pub fn page_bits(&self, level: u8) -> u8 {
        self.shift[level as usize]
    }

    /// Index bits of `level`.
    pub fn index_bits(&self, level: u8) -> u8 {
        self.bits[level as usize]
    }

    /// The index into the level-`level` table for `va`.
    #[inline]
    pub fn index(&self, va: u64, level: u8) -> u64 {
        let l = level as usize;
        (va >> self.shift[l]) & ((1u64 << self.bits[l]) - 1)
    }

    /// Checks the bits above `va_bits`. Returns false if the address does not fit.
    #[inline]
    pub fn va_ok(&self, va: u64) -> bool {
        let n = self.va_bits as u32;
        if n >= 64 {
            return true;
        }
        match self.spec.va_check {
            VaCheck::Zero => va >> n == 0,
            VaCheck::Canonical => {
                let top = ((va as i64) << (64 - n)) >> (64 - n);
                top as u64 == va
            }
        }
    }

    /// The low `va_bits` of `va` (the part that is translated and tagged).
    #[inline]
    pub fn va_mask(&self) -> u64 {
        if self.va_bits >= 64 {
            u64::MAX
        } else {
            (1u64 << self.va_bits) - 1
        }
    }

    /// The PFN field of a PTE.
    #[inline]
    pub fn pfn(&self, pte: u64) -> u64 {
        self.spec.pfn.get(pte)
    }

    /// The physical address of the table (or page) a PTE names.
    #[inline]
    pub fn pfn_address(&self, pte: u64) -> u64 {
        self.pfn(pte) << self.spec.page_offset_bits
    }

    /// Whether reserved bits are set.
    #[inline]
    pub fn reserved_set(&self, pte: u64) -> bool {
        pte & self.reserved_mask != 0
    }

    /// Masks a value read from memory to the PTE width.
    #[inline]
    pub fn pte_mask(&self) -> u64 {
        self.pte_mask
    }

    fn bit(pte: u64, b: Option<u8>, absent: bool) -> bool {
        match b {
            Some(b) => pte >> b & 1 == 1,
            None => absent,
        }
    }

    /// Decodes a PTE's flags; absent permission bits read as granted, absent G as clear.
    #[inline]
    pub fn flags(&self, pte: u64) -> PteFlags {
        let s = &self.spec;
        PteFlags {
            v: pte >> s.valid & 1 == 1,
            r: Self::bit(pte, s.read, true),
            w: Self::bit(pte, s.write, true),
            x: Self::bit(pte, s.exec, true),
            u: Self::bit(pte, s.user, true),
            g: Self::bit(pte, s.global, false),
            a: Self::bit(pte, s.accessed, true),
            d: Self::bit(pte, s.dirty, true),
        }
    }

    /// Whether the format has W and R bits and this PTE sets W without R.
    #[inline]
    pub fn write_without_read(&self, pte: u64) -> bool {
        match (self.spec.read, self.spec.write) {
            (Some(r), Some(w)) => pte >> w & 1 == 1 && pte >> r & 1 == 0,
            _ => false,
        }
    }

    /// Whether a valid PTE at `level` is a leaf.
    #[inline]
    pub fn is_leaf(&self, pte: u64, level: u8) -> bool {
        match self.spec.leaf {
            LeafRule::Rwx => {
                Self::bit(pte, self.spec.read, false) || Self::bit(pte, self.spec.exec, false)
            }
            LeafRule::LastLevel => level == 0,
            LeafRule::LeafBit(b) => level == 0 || pte >> b & 1 == 1,
        }
    }

    /// Whether a non-leaf PTE has the D, A or U bits set while the format reserves them.
    #[inline]
    pub fn non_leaf_reserved(&self, pte: u64) -> bool {
        if !self.spec.non_leaf_dau_reserved {
            return false;
        }
        let s = &self.spec;
        Self::bit(pte, s.dirty, false)
            || Self::bit(pte, s.accessed, false)
            || Self::bit(pte, s.user, false)
    }

    /// A pointer PTE at `level` (above 0) to the next-level table at `table_pa`: the valid bit
    /// and the PFN, every other bit clear (under [`LeafRule::Rwx`] that makes it a pointer).
    /// `None` if `table_pa` is not page-aligned or does not fit the PFN field.
    pub fn make_pointer(&self, table_pa: u64) -> Option<u64> {
        let pfn = self.encode_pfn(table_pa)?;
        Some(pfn | 1u64 << self.spec.valid)
    }

    /// A leaf PTE at `level` mapping the page at `pa` with the permission and status bits of
    /// `flags` (bits the format lacks are left out; `flags.v` is ignored: the PTE is valid).
    /// Under [`LeafRule::LeafBit`] a leaf above level 0 gets the leaf bit. `None` if `pa` is not
    /// aligned to the page size of `level`, does not fit the PFN field, or the format could
    /// not tell this PTE from a pointer (a [`LeafRule::Rwx`] leaf with neither R nor X).
    pub fn make_leaf(&self, pa: u64, level: u8, flags: PteFlags) -> Option<u64> {
        if level >= self.levels || pa & ((1u64 << self.shift[level as usize]) - 1) != 0 {
            return None;
        }
        let s = &self.spec;
        let mut pte = self.encode_pfn(pa)? | 1u64 << s.valid;
        let mut set = |bit: Option<u8>, on: bool| {
            if let (Some(b), true) = (bit, on) {
                pte |= 1u64 << b;
            }
        };
        set(s.read, flags.r);
        set(s.write, flags.w);
        set(s.exec, flags.x);
        set(s.user, flags.u);
        set(s.global, flags.g);
        set(s.accessed, flags.a);
        set(s.dirty, flags.d);
        match s.leaf {
            LeafRule::LeafBit(b) if level > 0 => pte |= 1u64 << b,
            LeafRule::Rwx if !self.is_leaf(pte, level) => return None,
            _ => {}
        }
        Some(pte)
    }

    /// The PFN field holding the page number of `pa`, or `None` if `pa` is not page-aligned
    /// or its page number does not fit the field.
    fn encode_pfn(&self, pa: u64) -> Option<u64> {
        let ob = self.spec.page_offset_bits;
        if pa & ((1u64 << ob) - 1) != 0 {
            return None;
        }
        let pfn = pa >> ob;
        let f = self.spec.pfn;
        if f.width < 64 && pfn >> f.width != 0 {
            return None;
        }
        Some(pfn << f.lsb & f.mask())
    }

    /// The A bit mask (0 if the format has none).
    pub fn a_mask(&self) -> u64 {
        self.spec.accessed.map_or(0, |b| 1 << b)
    }

    /// The D bit mask (0 if the format has none).
    pub fn d_mask(&self) -> u64 {
        self.spec.dirty.map_or(0, |b| 1 << b)
    }

    /// Whether a leaf at `level` has a PFN whose low bits (below its page size) are non-zero.
    #[inline]
    pub fn misaligned_superpage(&self, pte: u64, level: u8) -> bool {
        let low = (self.shift[level as usize] - self.spec.page_offset_bits) as u32;
        low > 0 && self.pfn(pte) & ((1u64 << low) - 1) != 0
    }

    /// The physical address for `va` through a leaf at `level`.
    #[inline]
    pub fn leaf_pa(&self, pte: u64, level: u8, va: u64) -> u64 {
        let page_bits = self.shift[level as usize] as u32;
        let base = self.pfn_address(pte);
        let low = (1u64 << page_bits) - 1;
        (base & !low) | (va & low)
    }

    /// RISC-V Sv32: two levels of 10 bits, 4-byte PTEs, 22-bit PPN, 4 MiB megapages.
    pub fn sv32() -> Format {
        Format::new(FormatSpec {
            name: "sv32".into(),
            index_bits: vec![10, 10],
            page_offset_bits: 12,
            pte_bytes: 4,
            pfn: BitField { lsb: 10, width: 22 },
            reserved: vec![],
            va_check: VaCheck::Zero,
            ..riscv_common()
        })
        .expect("built-in format")
    }

    /// RISC-V Sv39: three levels of 9 bits, 8-byte PTEs, 44-bit PPN.
    pub fn sv39() -> Format {
        Self::sv_n("sv39", 3)
    }

    /// RISC-V Sv48: four levels of 9 bits.
    pub fn sv48() -> Format {
        Self::sv_n("sv48", 4)
    }

    /// RISC-V Sv57: five levels of 9 bits.
    pub fn sv57() -> Format {
        Self::sv_n("sv57", 5)
    }

    fn sv_n(name: &str, levels: usize) -> Format {
        Format::new(FormatSpec {
            name: name.into(),
            index_bits: vec![9; levels],
            ..riscv_common()
        })
        .expect("built-in format")
    }

    /// The OSTEP `paging-linear-translate` format: one level, 4-byte PTEs with the valid bit at
    /// bit 31 and the PFN in the low bits, for an address space of `2^asize_bits` bytes and
    /// pages of `2^page_bits` bytes.
    pub fn ostep_linear(asize_bits: u8, page_bits: u8) -> Result<Format, FormatError> {
        let name = format!("ostep-linear-{asize_bits}-{page_bits}");
        if page_bits >= asize_bits {
            return Err(err(&name, format!("the page size (2^{page_bits}) must be smaller than the address space (2^{asize_bits})")));
        }
        Format::new(FormatSpec {
            name,
            index_bits: vec![asize_bits - page_bits],
            page_offset_bits: page_bits,
            pte_bytes: 4,
            pfn: BitField { lsb: 0, width: 31 },
            valid: 31,
            read: None,
            write: None,
            exec: None,
            user: None,
            global: None,
            accessed: None,
            dirty: None,
            reserved: vec![],
            leaf: LeafRule::LastLevel,
            superpages: false,
            va_check: VaCheck::Zero,
            non_leaf_dau_reserved: false,
        })
    }

    /// The OSTEP `paging-multilevel-translate` format: 32-byte pages, a 15-bit virtual address
    /// (5-bit directory index, 5-bit table index, 5-bit offset), 1-byte PDEs and PTEs holding a
    /// valid bit (bit 7) and a 7-bit PFN, so a 12-bit physical address.
    pub fn ostep_two_level() -> Format {
        Format::new(FormatSpec {
            name: "ostep-2level".into(),
            index_bits: vec![5, 5],
            page_offset_bits: 5,
            pte_bytes: 1,
            pfn: BitField { lsb: 0, width: 7 },
            valid: 7,
            read: None,
            write: None,
            exec: None,
            user: None,
            global: None,
            accessed: None,
            dirty: None,
            reserved: vec![],
            leaf: LeafRule::LastLevel,
            superpages: false,
            va_check: VaCheck::Zero,
            non_leaf_dau_reserved: false,
        })
        .expect("built-in format")
    }

    /// Looks up a built-in format by name: `sv32`, `sv39`, `sv48`, `sv57`, `ostep-2level`.
    pub fn builtin(name: &str) -> Option<Format> {
        Some(match name {
            "sv32" => Self::sv32(),
            "sv39" => Self::sv39(),
            "sv48" => Self::sv48(),
            "sv57" => Self::sv57(),
            "ostep-2level" | "ostep-two-level" | "ostep-multilevel" => Self::ostep_two_level(),
            _ => return None,
        })
    }
}

/// The fields Sv39/48/57 share (Sv32 overrides width, PPN and reserved bits).
fn riscv_common() -> FormatSpec {
    FormatSpec {
        name: String::new(),
        index_bits: vec![],
        page_offset_bits: 12,
        pte_bytes: 8,
        pfn: BitField { lsb: 10, width: 44 },
        valid: 0,
        read: Some(1),
        write: Some(2),
        exec: Some(3),
        user: Some(4),
        global: Some(5),
        accessed: Some(6),
        dirty: Some(7),
        // Bits 63:54: N (Svnapot), PBMT (Svpbmt) and reserved; none of those extensions is
        // implemented, so all must be zero.
        reserved: vec![BitRange { from: 54, to: 63 }],
        leaf: LeafRule::Rwx,
        superpages: true,
        va_check: VaCheck::Canonical,
        non_leaf_dau_reserved: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_spec_widths() {
        let check = |f: Format, va: u8, pa: u8, levels: u8, pte: u8| {
            assert_eq!(
                (f.va_bits(), f.pa_bits(), f.levels(), f.pte_bytes()),
                (va, pa, levels, pte),
                "{}",
                f.name()
            );
        };
        check(Format::sv32(), 32, 34, 2, 4);
        check(Format::sv39(), 39, 56, 3, 8);
        check(Format::sv48(), 48, 56, 4, 8);
        check(Format::sv57(), 57, 56, 5, 8);
        check(Format::ostep_two_level(), 15, 12, 2, 1);
        check(Format::ostep_linear(14, 12).unwrap(), 14, 43, 1, 4);
    }

    #[test]
    fn page_sizes_by_level() {
        let f = Format::sv39();
        assert_eq!(
            [f.page_bits(0), f.page_bits(1), f.page_bits(2)],
            [12, 21, 30]
        );
        let f = Format::sv32();
        assert_eq!([f.page_bits(0), f.page_bits(1)], [12, 22]);
    }

    #[test]
    fn canonical_check() {
        let f = Format::sv39();
        for (va, ok) in [
            (0u64, true),
            (0x3f_ffff_ffff, true),
            (0x40_0000_0000, false),
            (0xffff_ffc0_0000_0000, true),
            (0xffff_ff80_0000_0000, false),
            (u64::MAX, true),
        ] {
            assert_eq!(f.va_ok(va), ok, "{va:#x}");
        }
        let f = Format::ostep_two_level();
        assert!(f.va_ok(0x7fff));
        assert!(!f.va_ok(0x8000));
    }

    #[test]
    fn rejects_bad_specs() {
        let base = Format::sv39().spec().clone();
        let check = |spec: FormatSpec, needle: &str| {
            let e = Format::new(spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} should mention {needle:?}");
        };
        check(
            FormatSpec {
                index_bits: vec![],
                ..base.clone()
            },
            "levels",
        );
        check(
            FormatSpec {
                index_bits: vec![20, 20, 20],
                ..base.clone()
            },
            "at most 64 bits",
        );
        check(
            FormatSpec {
                pte_bytes: 3,
                ..base.clone()
            },
            "pte_bytes",
        );
        check(
            FormatSpec {
                dirty: Some(5),
                ..base.clone()
            },
            "overlaps",
        );
        check(
            FormatSpec {
                pfn: BitField { lsb: 10, width: 60 },
                ..base.clone()
            },
            "does not fit",
        );
        check(
            FormatSpec {
                read: None,
                ..base.clone()
            },
            "rwx",
        );
        check(
            FormatSpec {
                index_bits: vec![9, 0, 9],
                ..base.clone()
            },
            "at least 1",
        );
    }

    #[test]
    fn superpage_alignment_and_pa() {
        let f = Format::sv39();
        // A megapage (level 1) with PPN 0x200 (aligned to 512 pages) maps va 0x2_0012_3456.
        let pte = (0x200u64 << 10) | 0xcf;
        assert!(!f.misaligned_superpage(pte, 1));
        assert_eq!(f.leaf_pa(pte, 1, 0x40_0012_3456), 0x20_0000 | 0x12_3456);
        let bad = (0x201u64 << 10) | 0xcf;
        assert!(f.misaligned_superpage(bad, 1));
        assert!(!f.misaligned_superpage(bad, 0));
    }

    #[test]
    fn encoded_ptes_decode_to_what_was_asked() {
        // Sv39: a 4 KiB leaf, a megapage leaf and a pointer, in the specification's layout.
        let f = Format::sv39();
        let rw = PteFlags {
            r: true,
            w: true,
            u: true,
            a: true,
            ..PteFlags::default()
        };
        let leaf = f.make_leaf(0x8020_3000, 0, rw).unwrap();
        // PPN 0x80203 at bit 10; A(6) U(4) W(2) R(1) V(0).
        assert_eq!(leaf, 0x80203 << 10 | 0x57);
        assert!(f.is_leaf(leaf, 0));
        assert_eq!(f.pfn_address(leaf), 0x8020_3000);
        assert_eq!(f.flags(leaf), PteFlags { v: true, ..rw });
        let mega = f.make_leaf(0x8040_0000, 1, rw).unwrap();
        assert!(f.is_leaf(mega, 1) && !f.misaligned_superpage(mega, 1));
        assert_eq!(f.make_leaf(0x8020_3000, 1, rw), None, "misaligned megapage");
        assert_eq!(f.make_leaf(0x8020_3000, 3, rw), None, "no level 3 in Sv39");
        let ptr = f.make_pointer(0x8000_1000).unwrap();
        assert_eq!(ptr, 0x80001 << 10 | 1);
        assert!(!f.is_leaf(ptr, 2) && !f.non_leaf_reserved(ptr));
        assert_eq!(f.make_pointer(0x8000_1004), None, "unaligned table");
        // Neither R nor X: an Rwx format could not tell it from a pointer.
        let w_only = PteFlags {
            w: true,
            ..PteFlags::default()
        };
        assert_eq!(f.make_leaf(0x1000, 0, w_only), None);
        // Sv32's 22-bit PPN: a page above 2^34 does not fit.
        assert_eq!(Format::sv32().make_leaf(1 << 34, 0, rw), None);
        // OSTEP two-level: no permission bits; only the valid bit and the PFN.
        let o = Format::ostep_two_level();
        let l = o.make_leaf(0x5 << 5, 0, rw).unwrap();
        assert!(o.is_leaf(l, 0) && o.flags(l).v);
        assert_eq!(o.pfn_address(l), 0x5 << 5);
        let p = o.make_pointer(0x7 << 5).unwrap();
        assert_eq!(o.pfn_address(p), 0x7 << 5);
    }
}
