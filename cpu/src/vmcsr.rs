//! vmlab's custom CSRs for the translation modes RISC-V does not define: base and bounds,
//! segment registers (optionally paged), and paging with a teaching format. They live in
//! the range the privileged specification reserves for custom supervisor read/write CSRs
//! (`0x5C0`–`0x5FF`), plus one read-only status register in the custom supervisor
//! read-only range (`0xDC0`–`0xDFF`). `docs/csr.md` lists them.
//!
//! With `vmmode = 0` (the reset value) translation is exactly what `satp` selects. Any other
//! `vmmode` replaces `satp`'s MODE and PPN (the ASID still tags TLB entries); machine mode is
//! never translated (unless MPRV says otherwise, as for `satp`). After a write to any of
//! these registers or to `satp`, the machine asks [`translation_mode`] for the new
//! [`Mode`]; a combination the MMU refuses (say a base-and-bounds pair that wraps around)
//! leaves the previous mode in force and sets `vmstatus.ERR` with the reason's code.

use crate::csr::SatpMode;
use std::sync::Arc;
use vmlab_mmu::{Format, Mode, SegmentRegister, Segmentation};

/// The custom CSR numbers.
pub mod addr {
    /// `vmmode`: 0 = what `satp` selects, 1 = base and bounds, 2 = segments, 3 = paging in
    /// the format `vmformat` names, rooted at `vmroot`.
    pub const VMMODE: u16 = 0x5C0;
    /// `vmbase`: the base register of base-and-bounds.
    pub const VMBASE: u16 = 0x5C1;
    /// `vmbounds`: the bounds register (the size of the address space).
    pub const VMBOUNDS: u16 = 0x5C2;
    /// `vmsegcfg`: bits 1:0 = selector bits (1–3: 2, 4 or 8 segments), bits 14:8 = the
    /// virtual-address width (selector bits + 1 to 64).
    pub const VMSEGCFG: u16 = 0x5C3;
    /// `vmsegsel`: which segment register (0–7) the next four CSRs show.
    pub const VMSEGSEL: u16 = 0x5C4;
    /// `vmsegbase`: the selected segment's base.
    pub const VMSEGBASE: u16 = 0x5C5;
    /// `vmseglimit`: the selected segment's size in bytes.
    pub const VMSEGLIMIT: u16 = 0x5C6;
    /// `vmsegflags`: the selected segment's flags ([`super::seg`]).
    pub const VMSEGFLAGS: u16 = 0x5C7;
    /// `vmsegpt`: the selected segment's page-table root (physical), used when its PAGED
    /// flag is set.
    pub const VMSEGPT: u16 = 0x5C8;
    /// `vmformat`: the page-table format of `vmmode = 3` and of paged segments:
    /// 0 = Sv39, 1 = Sv48, 2 = Sv57, 3 = Sv32, 4 = OSTEP two-level, 16 + n = the machine's
    /// n-th custom format.
    pub const VMFORMAT: u16 = 0x5C9;
    /// `vmroot`: the physical address of the root table for `vmmode = 3`.
    pub const VMROOT: u16 = 0x5CA;
    /// `vmstatus` (read-only): bit 0 = ERR, the last change was refused and the previous
    /// mode is still in force; bits 15:8 = the reason code ([`super::err`]).
    pub const VMSTATUS: u16 = 0xDC0;
}

/// The bits of `vmsegflags`.
pub mod seg {
    /// Loads allowed.
    pub const R: u64 = 1 << 0;
    /// Stores allowed.
    pub const W: u64 = 1 << 1;
    /// Fetches allowed.
    pub const X: u64 = 1 << 2;
    /// User mode may access the segment.
    pub const U: u64 = 1 << 3;
    /// The segment is present.
    pub const PRESENT: u64 = 1 << 4;
    /// The segment grows down (a stack).
    pub const GROWS_DOWN: u64 = 1 << 5;
    /// The segment is paged through `vmsegpt`.
    pub const PAGED: u64 = 1 << 6;
    /// Every defined bit.
    pub const ALL: u64 = 0x7f;
}

/// `vmstatus` reason codes (bits 15:8).
pub mod err {
    /// `vmformat` names no format this machine has.
    pub const NO_FORMAT: u64 = 1;
    /// The MMU refused the registers (wrapping base and bounds, a segment larger than the
    /// offset width...).
    pub const INVALID: u64 = 2;
}

/// The values of the custom CSRs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VmCsrs {
    /// `vmmode` (0–3).
    pub mode: u64,
    /// `vmbase`.
    pub base: u64,
    /// `vmbounds`.
    pub bounds: u64,
    /// `vmsegcfg`.
    pub segcfg: u64,
    /// `vmsegsel` (0–7).
    pub segsel: u64,
    /// The eight segment registers: base, limit, flags, page-table root.
    pub segs: [[u64; 4]; 8],
    /// `vmformat`.
    pub format: u64,
    /// `vmroot`.
    pub root: u64,
    /// `vmstatus`.
    pub status: u64,
}

impl VmCsrs {
    /// Whether `addr` is one of these CSRs.
    pub fn implemented(a: u16) -> bool {
        (addr::VMMODE..=addr::VMROOT).contains(&a) || a == addr::VMSTATUS
    }

    /// The value of CSR `a`.
    pub fn read(&self, a: u16) -> u64 {
        let s = &self.segs[self.segsel as usize & 7];
        match a {
            addr::VMMODE => self.mode,
            addr::VMBASE => self.base,
            addr::VMBOUNDS => self.bounds,
            addr::VMSEGCFG => self.segcfg,
            addr::VMSEGSEL => self.segsel,
            addr::VMSEGBASE => s[0],
            addr::VMSEGLIMIT => s[1],
            addr::VMSEGFLAGS => s[2],
            addr::VMSEGPT => s[3],
            addr::VMFORMAT => self.format,
            addr::VMROOT => self.root,
            addr::VMSTATUS => self.status,
            _ => 0,
        }
    }

    /// Write CSR `a` with WARL legalisation: `vmmode` keeps its value on a write above 3,
    /// `vmsegsel` keeps bits 2:0, `vmsegcfg` bits 1:0 and 14:8, `vmsegflags` the defined
    /// flags; `vmstatus` is read-only.
    pub fn write(&mut self, a: u16, v: u64) {
        let sel = self.segsel as usize & 7;
        match a {
            addr::VMMODE if v <= 3 => self.mode = v,
            addr::VMBASE => self.base = v,
            addr::VMBOUNDS => self.bounds = v,
            addr::VMSEGCFG => self.segcfg = v & 0x7f03,
            addr::VMSEGSEL => self.segsel = v & 7,
            addr::VMSEGBASE => self.segs[sel][0] = v,
            addr::VMSEGLIMIT => self.segs[sel][1] = v,
            addr::VMSEGFLAGS => self.segs[sel][2] = v & seg::ALL,
            addr::VMSEGPT => self.segs[sel][3] = v,
            addr::VMFORMAT => self.format = v,
            addr::VMROOT => self.root = v,
            _ => {}
        }
    }
}

/// The page-table formats a machine offers: the RISC-V ones, OSTEP's two-level one, and
/// the custom formats of its configuration (numbered from 16 in `vmformat`).
#[derive(Clone, Debug)]
pub struct Formats {
    builtin: [Arc<Format>; 5],
    custom: Vec<Arc<Format>>,
}

impl Formats {
    /// The built-in formats plus `custom`.
    pub fn new(custom: Vec<Arc<Format>>) -> Formats {
        Formats {
            builtin: [
                Arc::new(Format::sv39()),
                Arc::new(Format::sv48()),
                Arc::new(Format::sv57()),
                Arc::new(Format::sv32()),
                Arc::new(Format::ostep_two_level()),
            ],
            custom,
        }
    }

    /// The format `vmformat = n` names.
    pub fn get(&self, n: u64) -> Option<&Arc<Format>> {
        match n {
            0..=4 => Some(&self.builtin[n as usize]),
            16.. => self.custom.get((n - 16) as usize),
            _ => None,
        }
    }

    /// The format of a `satp` mode (None for Bare).
    pub fn satp(&self, m: SatpMode) -> Option<&Arc<Format>> {
        match m {
            SatpMode::Bare => None,
            SatpMode::Sv39 => Some(&self.builtin[0]),
            SatpMode::Sv48 => Some(&self.builtin[1]),
            SatpMode::Sv57 => Some(&self.builtin[2]),
        }
    }
}

/// The translation mode `satp` and the custom CSRs select, or the `vmstatus` reason code
/// when they select none. (The MMU may still refuse the mode: see [`Mode::validate`].)
pub fn translation_mode(
    satp_mode: SatpMode,
    satp_root: u64,
    vm: &VmCsrs,
    formats: &Formats,
) -> Result<Mode, u64> {
    match vm.mode {
        1 => Ok(Mode::BaseBounds {
            base: vm.base,
            bounds: vm.bounds,
        }),
        2 => {
            let selector_bits = (vm.segcfg & 3) as u8;
            let va_bits = ((vm.segcfg >> 8) & 0x7f) as u8;
            if selector_bits == 0 || va_bits <= selector_bits || va_bits > 64 {
                return Err(err::INVALID);
            }
            let n = 1usize << selector_bits;
            let registers: Vec<SegmentRegister> = vm.segs[..n]
                .iter()
                .map(|&[base, limit, f, pt]| SegmentRegister {
                    base,
                    limit,
                    grows_down: f & seg::GROWS_DOWN != 0,
                    read: f & seg::R != 0,
                    write: f & seg::W != 0,
                    exec: f & seg::X != 0,
                    user: f & seg::U != 0,
                    present: f & seg::PRESENT != 0,
                    page_table: (f & seg::PAGED != 0).then_some(pt),
                })
                .collect();
            let format = if registers.iter().any(|r| r.page_table.is_some()) {
                Some(formats.get(vm.format).ok_or(err::NO_FORMAT)?.clone())
            } else {
                None
            };
            Ok(Mode::Segmented(Segmentation {
                va_bits,
                selector_bits,
                registers,
                format,
                select: Default::default(),
            }))
        }
        3 => Ok(Mode::Paged {
            format: formats.get(vm.format).ok_or(err::NO_FORMAT)?.clone(),
            root: vm.root,
        }),
        _ => Ok(match formats.satp(satp_mode) {
            None => Mode::Bare,
            Some(f) => Mode::Paged {
                format: f.clone(),
                root: satp_root,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vm: &VmCsrs, want: Result<&str, u64>) {
        let f = Formats::new(vec![]);
        let got = translation_mode(SatpMode::Bare, 0, vm, &f).map(|m| m.name());
        assert_eq!(got.as_deref().map_err(|e| *e), want, "{vm:?}");
    }

    #[test]
    fn modes_from_registers() {
        let mut vm = VmCsrs::default();
        check(&vm, Ok("bare"));
        vm.write(addr::VMMODE, 1);
        check(&vm, Ok("base-bounds"));
        vm.write(addr::VMMODE, 9); // WARL: ignored
        assert_eq!(vm.read(addr::VMMODE), 1);
        vm.write(addr::VMMODE, 2);
        check(&vm, Err(err::INVALID)); // selector bits 0
        vm.write(addr::VMSEGCFG, (14 << 8) | 2);
        check(&vm, Ok("segments"));
        vm.write(addr::VMSEGSEL, 9);
        assert_eq!(vm.read(addr::VMSEGSEL), 1);
        vm.write(addr::VMSEGFLAGS, 0xffff);
        assert_eq!(vm.read(addr::VMSEGFLAGS), seg::ALL);
        check(&vm, Ok("paged-segments"));
        vm.write(addr::VMFORMAT, 7);
        check(&vm, Err(err::NO_FORMAT));
        vm.write(addr::VMMODE, 3);
        vm.write(addr::VMFORMAT, 4);
        check(&vm, Ok("ostep-2level"));
        vm.write(addr::VMSTATUS, 5);
        assert_eq!(vm.read(addr::VMSTATUS), 0);
    }
}
