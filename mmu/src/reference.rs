//! A deliberately simple reference translator, used only as the oracle of the differential
//! fuzzer in [`crate::oracle`].
//!
//! It follows the privileged specification's "Virtual Address Translation Process" step by
//! step, generalised to the data-described page-table formats, and shares no code with the
//! walker or the translation unit: it reads every PTE bit straight from the [`FormatSpec`]
//! fields, keeps no TLB and no statistics, and recomputes every shift from
//! [`FormatSpec::index_bits`]. Speed is not a goal; being obviously right is.
//!
//! The check order is the one `docs/mmu.md` documents for the unit, so that both produce
//! exactly the same [`Fault`] values:
//!
//! 1. machine mode is never translated; bare mode is the identity;
//! 2. base and bounds: the access must end at or below the bounds;
//! 3. segments: address width, present, limit, protection, then the base (or, for a paged
//!    segment, the page-straddle check and a walk of the segment's table with the offset);
//! 4. paging: address width (canonical or zero-extended), page straddle, then the walk:
//!    valid, W without R, reserved bits, leaf or pointer, superpage allowed, U/S with SUM,
//!    R/W/X with MXR, superpage alignment, A/D (Svade faults, Svadu writes the PTE back).

use crate::fault::{Fault, PageFaultReason, SegmentProtection};
use crate::format::{AdPolicy, Format, FormatSpec, LeafRule, VaCheck};
use crate::mode::{Mode, Segmentation};
use crate::port::MemoryPort;
use crate::types::{AccessKind, Privilege, Request};

/// What a successful page-table walk of the reference found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    /// The segment number (0 outside paged-segment mode).
    pub seg: u8,
    /// The physical address of the root table the walk started from.
    pub root: u64,
    /// The address the table was indexed with: the virtual address reduced to the format's
    /// width, or the segment offset for a paged segment.
    pub tag: u64,
    /// The level of the leaf PTE (the root is `levels - 1`).
    pub level: u8,
    /// log2 of the size of the page the leaf maps.
    pub page_bits: u8,
    /// Whether any PTE on the path had its global bit set.
    pub global: bool,
    /// The physical addresses of every PTE read, from the root down to the leaf.
    pub path: Vec<u64>,
    /// The size of one PTE in bytes.
    pub pte_bytes: u8,
    /// The leaf PTE's value after any A/D update.
    pub leaf_pte: u64,
    /// The value written back to the leaf PTE under Svadu, if one was written.
    pub ad_write: Option<u64>,
}

/// A successful reference translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The physical address.
    pub pa: u64,
    /// The walk, for paged translations (paged mode or a paged segment).
    pub walk: Option<Walked>,
}

impl Outcome {
    /// log2 of the page size for paged translations, 0 otherwise (as the unit reports it).
    pub fn page_bits(&self) -> u8 {
        self.walk.as_ref().map_or(0, |w| w.page_bits)
    }
}

/// An A/D write-back a walk wants to make: the PTE's address, its width, the new value and
/// the level it was found at.
struct Pending {
    addr: u64,
    bytes: u8,
    value: u64,
    level: u8,
}

/// Translates `req` in `mode` as the specification says, writing A/D bits back to `mem`
/// under Svadu. The memory is read with [`MemoryPort::peek`] and written with
/// [`MemoryPort::write`].
pub fn translate<P: MemoryPort>(
    mode: &Mode,
    ad: AdPolicy,
    req: &Request,
    mem: &mut P,
) -> Result<Outcome, Fault> {
    let (mut outcome, pending) = run(mode, ad, req, &*mem)?;
    if let Some(p) = pending {
        if mem.write(p.addr, p.bytes, p.value).is_err() {
            return Err(Fault::PteAccess {
                va: req.va,
                kind: req.kind,
                level: p.level,
                pte_addr: p.addr,
            });
        }
        if let Some(w) = outcome.walk.as_mut() {
            w.ad_write = Some(p.value);
        }
    }
    Ok(outcome)
}

/// Answers what [`translate`] would without writing anything: an A/D write-back that would
/// be needed is only checked to reach memory.
pub fn probe<P: MemoryPort>(
    mode: &Mode,
    ad: AdPolicy,
    req: &Request,
    mem: &P,
) -> Result<Outcome, Fault> {
    let (outcome, pending) = run(mode, ad, req, mem)?;
    if let Some(p) = pending {
        if mem.peek(p.addr, p.bytes).is_err() {
            return Err(Fault::PteAccess {
                va: req.va,
                kind: req.kind,
                level: p.level,
                pte_addr: p.addr,
            });
        }
    }
    Ok(outcome)
}

fn plain(pa: u64) -> Outcome {
    Outcome { pa, walk: None }
}

fn run<P: MemoryPort>(
    mode: &Mode,
    ad: AdPolicy,
    req: &Request,
    mem: &P,
) -> Result<(Outcome, Option<Pending>), Fault> {
    if req.ctx.privilege == Privilege::Machine {
        return Ok((plain(req.va), None));
    }
    match mode {
        Mode::Bare => Ok((plain(req.va), None)),
        Mode::BaseBounds { base, bounds } => match req.va.checked_add(req.size as u64) {
            Some(end) if end <= *bounds => Ok((plain(base.wrapping_add(req.va)), None)),
            _ => Err(Fault::Bounds {
                va: req.va,
                size: req.size,
                bounds: *bounds,
            }),
        },
        Mode::Segmented(s) => segmented(s, ad, req, mem),
        Mode::Paged { format, root } => {
            let spec = format.spec();
            let n = va_width(spec);
            let va = req.va;
            if n < 64 {
                let ok = match spec.va_check {
                    VaCheck::Zero => va >> n == 0,
                    VaCheck::Canonical => {
                        // Bits 63..n-1 must be all zeros or all ones.
                        let top = va >> (n - 1);
                        top == 0 || top == u64::MAX >> (n - 1)
                    }
                };
                if !ok {
                    return Err(match spec.va_check {
                        VaCheck::Zero => Fault::AddressOutOfRange {
                            va,
                            va_bits: n as u8,
                        },
                        VaCheck::Canonical => Fault::NonCanonical {
                            va,
                            va_bits: n as u8,
                        },
                    });
                }
            }
            let tag = if n < 64 { va & ((1u64 << n) - 1) } else { va };
            if straddles(spec, tag, req.size) {
                return Err(Fault::PageStraddle { va, size: req.size });
            }
            walk(format, *root, 0, tag, ad, req, mem)
        }
    }
}

fn segmented<P: MemoryPort>(
    s: &Segmentation,
    ad: AdPolicy,
    req: &Request,
    mem: &P,
) -> Result<(Outcome, Option<Pending>), Fault> {
    let va = req.va;
    if va >> s.va_bits != 0 {
        return Err(Fault::AddressOutOfRange {
            va,
            va_bits: s.va_bits,
        });
    }
    let offset_bits = (s.va_bits - s.selector_bits) as u32;
    let segment = (va >> offset_bits) as u8;
    let offset = va & ((1u64 << offset_bits) - 1);
    let reg = &s.registers[segment as usize];
    if !reg.present {
        return Err(Fault::SegmentNotPresent { segment });
    }
    let size = req.size as u64;
    let max = 1u64 << offset_bits;
    let inside = if reg.grows_down {
        // The valid offsets are the top `limit` ones: max - limit ..= max - 1.
        offset >= max - reg.limit && offset + size <= max
    } else {
        offset + size <= reg.limit
    };
    if !inside {
        return Err(Fault::SegmentLimit {
            segment,
            offset,
            size: req.size,
            limit: reg.limit,
            grows_down: reg.grows_down,
        });
    }
    let refused = if req.ctx.privilege == Privilege::User && !reg.user {
        Some(SegmentProtection::SupervisorOnly)
    } else {
        match req.kind {
            AccessKind::Fetch if !reg.exec => Some(SegmentProtection::NotExecutable),
            AccessKind::Load if !reg.read => Some(SegmentProtection::NotReadable),
            AccessKind::Store if !reg.write => Some(SegmentProtection::NotWritable),
            _ => None,
        }
    };
    if let Some(reason) = refused {
        return Err(Fault::SegmentProtection { segment, reason });
    }
    match (reg.page_table, &s.format) {
        (Some(root), Some(format)) => {
            if straddles(format.spec(), offset, req.size) {
                return Err(Fault::PageStraddle { va, size: req.size });
            }
            walk(format, root, segment, offset, ad, req, mem)
        }
        _ => {
            let pa = if reg.grows_down {
                reg.base - (max - offset)
            } else {
                reg.base + offset
            };
            Ok((plain(pa), None))
        }
    }
}

/// The number of translated virtual-address bits of a format: the page offset plus every
/// level's index.
fn va_width(spec: &FormatSpec) -> u32 {
    spec.page_offset_bits as u32 + spec.index_bits.iter().map(|&b| b as u32).sum::<u32>()
}

/// Whether an access crosses a base-page boundary (a zero-byte access counts as one byte).
fn straddles(spec: &FormatSpec, va: u64, size: u8) -> bool {
    let page = 1u64 << spec.page_offset_bits;
    (va & (page - 1)) + size.max(1) as u64 > page
}

/// A mask of the low `n` bits.
fn low_mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Bit `b` of `pte`, or `absent` when the format has no such bit.
fn bit(pte: u64, b: Option<u8>, absent: bool) -> bool {
    match b {
        Some(b) => (pte >> b) & 1 == 1,
        None => absent,
    }
}

/// The shift of the index of `level` (level 0 is the last): the page offset plus the index
/// bits of every level below it. It is also log2 of the size of a page mapped at `level`.
fn shift(spec: &FormatSpec, level: u8) -> u32 {
    let n = spec.index_bits.len();
    let below = &spec.index_bits[n - level as usize..];
    spec.page_offset_bits as u32 + below.iter().map(|&b| b as u32).sum::<u32>()
}

/// The width of the index of `level` (`index_bits` lists the root first).
fn width(spec: &FormatSpec, level: u8) -> u32 {
    spec.index_bits[spec.index_bits.len() - 1 - level as usize] as u32
}

fn walk<P: MemoryPort>(
    format: &Format,
    root: u64,
    seg: u8,
    tag: u64,
    ad: AdPolicy,
    req: &Request,
    mem: &P,
) -> Result<(Outcome, Option<Pending>), Fault> {
    let spec = format.spec();
    let levels = spec.index_bits.len() as u8;
    let bytes = spec.pte_bytes;
    let pte_mask = low_mask(bytes as u32 * 8);
    let page_fault = |level: u8, pte_addr: u64, pte: u64, reason: PageFaultReason| Fault::Page {
        va: req.va,
        kind: req.kind,
        level,
        pte_addr,
        pte,
        reason,
    };
    let mut table = root;
    let mut global = false;
    let mut path = Vec::with_capacity(levels as usize);
    let mut level = levels - 1;
    loop {
        // Step 2: read the PTE at table + index * PTESIZE.
        let index = (tag >> shift(spec, level)) & low_mask(width(spec, level));
        let pte_addr = table.wrapping_add(index.wrapping_mul(bytes as u64));
        let pte = match mem.peek(pte_addr, bytes) {
            Ok(v) => v & pte_mask,
            Err(_) => {
                return Err(Fault::PteAccess {
                    va: req.va,
                    kind: req.kind,
                    level,
                    pte_addr,
                })
            }
        };
        path.push(pte_addr);
        // Step 3: V = 0, or W = 1 with R = 0, or reserved bits set.
        if !bit(pte, Some(spec.valid), false) {
            return Err(page_fault(level, pte_addr, pte, PageFaultReason::Invalid));
        }
        if let (Some(r), Some(w)) = (spec.read, spec.write) {
            if bit(pte, Some(w), false) && !bit(pte, Some(r), false) {
                return Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::WriteWithoutRead,
                ));
            }
        }
        let reserved = spec
            .reserved
            .iter()
            .any(|r| (r.from..=r.to).any(|b| b < 64 && (pte >> b) & 1 == 1));
        if reserved {
            return Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::ReservedBits,
            ));
        }
        global |= bit(pte, spec.global, false);
        // Step 4: a leaf, or a pointer to the next level.
        let leaf = match spec.leaf {
            LeafRule::Rwx => bit(pte, spec.read, false) || bit(pte, spec.exec, false),
            LeafRule::LastLevel => level == 0,
            LeafRule::LeafBit(b) => level == 0 || bit(pte, Some(b), false),
        };
        let pfn = (pte >> spec.pfn.lsb) & low_mask(spec.pfn.width as u32);
        if !leaf {
            if level == 0 {
                return Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::PointerAtLastLevel,
                ));
            }
            let dau = bit(pte, spec.dirty, false)
                || bit(pte, spec.accessed, false)
                || bit(pte, spec.user, false);
            if spec.non_leaf_dau_reserved && dau {
                return Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::NonLeafReserved,
                ));
            }
            table = pfn << spec.page_offset_bits;
            level -= 1;
            continue;
        }
        // Step 5: a leaf. Above the last level only with superpages.
        if level > 0 && !spec.superpages {
            return Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::SuperpageNotAllowed,
            ));
        }
        // U/S, with SUM; a format without a U bit opens every page to both.
        let u = bit(pte, spec.user, true);
        match req.ctx.privilege {
            Privilege::User if !u => {
                return Err(page_fault(
                    level,
                    pte_addr,
                    pte,
                    PageFaultReason::SupervisorPage,
                ))
            }
            Privilege::Supervisor if spec.user.is_some() && u => {
                if req.kind == AccessKind::Fetch {
                    return Err(page_fault(
                        level,
                        pte_addr,
                        pte,
                        PageFaultReason::UserPageFetch,
                    ));
                }
                if !req.ctx.sum {
                    return Err(page_fault(
                        level,
                        pte_addr,
                        pte,
                        PageFaultReason::UserPageSumClear,
                    ));
                }
            }
            _ => {}
        }
        // R/W/X, with MXR; an absent permission bit grants the permission.
        let r = bit(pte, spec.read, true);
        let w = bit(pte, spec.write, true);
        let x = bit(pte, spec.exec, true);
        let refused = match req.kind {
            AccessKind::Fetch => (!x).then_some(PageFaultReason::NotExecutable),
            AccessKind::Load => {
                (!(r || (req.ctx.mxr && x))).then_some(PageFaultReason::NotReadable)
            }
            AccessKind::Store => (!w).then_some(PageFaultReason::NotWritable),
        };
        if let Some(reason) = refused {
            return Err(page_fault(level, pte_addr, pte, reason));
        }
        // Step 6: a superpage's PPN must be aligned to its size.
        let page_bits = shift(spec, level);
        let low = page_bits - spec.page_offset_bits as u32;
        if pfn & low_mask(low) != 0 {
            return Err(page_fault(
                level,
                pte_addr,
                pte,
                PageFaultReason::MisalignedSuperpage,
            ));
        }
        // Step 7: A and D.
        let need_a = spec.accessed.is_some() && !bit(pte, spec.accessed, false);
        let store = req.kind == AccessKind::Store;
        let need_d = store && spec.dirty.is_some() && !bit(pte, spec.dirty, false);
        let mut pending = None;
        let mut leaf_pte = pte;
        if need_a || need_d {
            match ad {
                AdPolicy::Svade => {
                    let reason = if need_a {
                        PageFaultReason::AccessedClear
                    } else {
                        PageFaultReason::DirtyClear
                    };
                    return Err(page_fault(level, pte_addr, pte, reason));
                }
                AdPolicy::Svadu => {
                    let mut value = pte;
                    if let Some(a) = spec.accessed {
                        value |= 1 << a;
                    }
                    if let (true, Some(d)) = (store, spec.dirty) {
                        value |= 1 << d;
                    }
                    leaf_pte = value;
                    pending = Some(Pending {
                        addr: pte_addr,
                        bytes,
                        value,
                        level,
                    });
                }
            }
        }
        // Step 8: the physical address: the PPN above the page, the address below it.
        let page_mask = low_mask(page_bits);
        let pa = ((pfn << spec.page_offset_bits) & !page_mask) | (tag & page_mask);
        let walked = Walked {
            seg,
            root,
            tag,
            level,
            page_bits: page_bits as u8,
            global,
            path,
            pte_bytes: bytes,
            leaf_pte,
            ad_write: None,
        };
        return Ok((
            Outcome {
                pa,
                walk: Some(walked),
            },
            pending,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::SparseMemory;
    use crate::types::{Context, Cycle};
    use std::sync::Arc;

    #[test]
    fn sv39_megapage_and_faults() {
        let mut mem = SparseMemory::new(1 << 20, Cycle(1));
        // Root at 0x1000: entry 0 points to 0x2000; there entry 1 is a megapage at 0x20_0000.
        mem.store(0x1000, 8, (0x2u64 << 10) | 1).unwrap();
        mem.store(0x2008, 8, (0x200u64 << 10) | 0xcf).unwrap();
        let mode = Mode::Paged {
            format: Arc::new(Format::sv39()),
            root: 0x1000,
        };
        let ctx = Context::supervisor(0);
        let o = translate(
            &mode,
            AdPolicy::Svade,
            &Request::load(0x20_1234, ctx),
            &mut mem,
        )
        .unwrap();
        assert_eq!(o.pa, 0x20_1234);
        assert_eq!(o.page_bits(), 21);
        assert_eq!(o.walk.unwrap().path, vec![0x1000, 0x2008]);
        let f = translate(&mode, AdPolicy::Svade, &Request::load(0, ctx), &mut mem).unwrap_err();
        assert!(matches!(
            f,
            Fault::Page {
                reason: PageFaultReason::Invalid,
                level: 1,
                pte_addr: 0x2000,
                ..
            }
        ));
        let f = probe(&mode, AdPolicy::Svade, &Request::load(1 << 38, ctx), &mem).unwrap_err();
        assert!(matches!(f, Fault::NonCanonical { va_bits: 39, .. }));
    }

    #[test]
    fn svadu_writes_back() {
        let mut mem = SparseMemory::new(1 << 20, Cycle(1));
        mem.store(0x1000, 8, (0x2u64 << 10) | 1).unwrap();
        mem.store(0x2000, 8, (0x3u64 << 10) | 1).unwrap();
        mem.store(0x3000, 8, (0x80u64 << 10) | 0x07).unwrap();
        let mode = Mode::Paged {
            format: Arc::new(Format::sv39()),
            root: 0x1000,
        };
        let req = Request::store(0x10, Context::supervisor(0));
        assert_eq!(
            probe(&mode, AdPolicy::Svadu, &req, &mem).unwrap().pa,
            0x80010
        );
        assert_eq!(mem.peek(0x3000, 8).unwrap() & 0xc0, 0);
        let o = translate(&mode, AdPolicy::Svadu, &req, &mut mem).unwrap();
        assert_eq!(o.walk.unwrap().ad_write, Some((0x80u64 << 10) | 0xc7));
        assert_eq!(mem.peek(0x3000, 8).unwrap() & 0xc0, 0xc0);
    }
}
