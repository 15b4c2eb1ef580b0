//! A program image as the kernel loads it: the loadable segments of an ELF executable, with
//! their permissions, and where the program's memory ends.
//!
//! As Linux's `load_elf_binary` (`fs/binfmt_elf.c`) loads them:
//!
//! - an `ET_EXEC` program loads at its link addresses;
//! - an `ET_DYN` program (a position-independent executable) loads at a *load bias* added to
//!   every address: Linux puts it at `ELF_ET_DYN_BASE`, two thirds of the user address
//!   window (on riscv64 `DEFAULT_MAP_WINDOW / 3 * 2`, for Sv39 `1 << 38`), aligned to the
//!   largest `p_align` of its segments. vmlab's user window is `[0, os.stack_top)` (the
//!   stack at its top, `mmap` below it, everything a program uses below `os.stack_top`), so
//!   the equivalent is two thirds of `os.stack_top`, rounded down to a page
//!   ([`Placement::paged`]; `0x2aaaa000` for the default 1 GiB). The contiguous schemes
//!   address one range from 0 that holds the program, its heap and its stack, so there
//!   a position-independent program goes where a static one is linked, at
//!   [`STATIC_LINK_BASE`] ([`Placement::contiguous`]);
//! - a program that names an interpreter (`PT_INTERP`, the dynamic linker) gets that
//!   interpreter's segments too, at a base of their own, and the process starts at the
//!   interpreter's entry; the auxiliary vector tells it where the program is (`AT_PHDR`,
//!   `AT_ENTRY`) and where it is itself (`AT_BASE`). Linux maps the interpreter with the
//!   first `mmap` of the new process, just below the stack's reach; vmlab's `mmap` hands out
//!   addresses top-down from the stack's lowest reach (`os.stack_top - os.stack_limit`)
//!   skipping every area, so the interpreter goes where that first `mmap` would have put it:
//!   ending at the stack's lowest reach ([`Placement::interp_top`]). Its segments become
//!   areas of the address space, and a whole-page hole between them is reserved by an
//!   inaccessible segment, so `mmap` never hands out any of its range again.
//!
//! The heap (`brk`) starts after the program's last segment, never after the
//! interpreter's ([`Image::end`]).

use vmlab_cpu::elf::Elf;

/// Where vmlab's assembler links programs for the hosted machine (`.text` at this address;
/// page 0 stays unmapped so that a null pointer faults).
pub const HOSTED_TEXT_BASE: u64 = 0x1000;

/// Where GNU ld links a riscv64 executable that is not position-independent (`.text` near
/// this address), and where the contiguous schemes load a position-independent one.
pub const STATIC_LINK_BASE: u64 = 0x1_0000;

/// Where the loader puts what it may place: position-independent programs and the
/// interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// One past the highest address a segment may occupy (the top of the user address
    /// space the scheme gives a program).
    pub limit: u64,
    /// The page size: load biases are multiples of it.
    pub page: u64,
    /// Where an `ET_DYN` program's first segment goes (Linux's `ELF_ET_DYN_BASE`), before
    /// alignment to its segments' `p_align`.
    pub dyn_base: u64,
    /// The interpreter ends at or below this address (where `mmap` starts handing out
    /// addresses, top-down).
    pub interp_top: u64,
}

impl Placement {
    /// For a flat paged address space whose user window ends at `stack_top` (the stack at
    /// the top, growing down to `stack_floor`) with pages of `page` bytes: `ET_DYN` programs
    /// at two thirds of the window (Linux's `ELF_ET_DYN_BASE`), the interpreter just below
    /// the stack's lowest reach, where the first `mmap` would go.
    pub fn paged(stack_top: u64, stack_floor: u64, page: u64) -> Placement {
        let page = page.max(1).next_power_of_two();
        Placement {
            limit: stack_top,
            page,
            dyn_base: (stack_top / 3 * 2) & !(page - 1),
            interp_top: stack_floor & !(page - 1),
        }
    }

    /// For an address space that is one range from 0 up to `limit` (the partition and
    /// segmentation schemes): `ET_DYN` programs at [`STATIC_LINK_BASE`]. These schemes
    /// cannot map files, so no interpreter is ever placed (`interp_top` is `limit`).
    pub fn contiguous(limit: u64) -> Placement {
        Placement {
            limit,
            page: 4096,
            dyn_base: STATIC_LINK_BASE,
            interp_top: limit,
        }
    }
}

/// The dynamic linker loaded with a program that names one (`PT_INTERP`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interp {
    /// Its path as the program names it (the guest's path).
    pub path: String,
    /// Its load bias, which the auxiliary vector's `AT_BASE` gives (for `ld.so`, whose
    /// first segment is linked at 0, its lowest address).
    pub base: u64,
    /// Its lowest address (page-aligned).
    pub start: u64,
    /// One past its highest byte (page-aligned).
    pub end: u64,
    /// Its entry point: where the process starts.
    pub entry: u64,
}

/// How a hosted program is linked: for one flat address space, or for the segmentation
/// schemes' four segments (`crate::seg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Text at [`HOSTED_TEXT_BASE`], data on the next page.
    Flat,
    /// Text at 0 in segment 0, data at the start of segment 1.
    Segmented,
}

impl Layout {
    /// The layout the scheme's programs need.
    pub fn for_scheme(s: crate::config::SchemeKind) -> Layout {
        use crate::config::SchemeKind::*;
        match s {
            SimpleSegmentation | VmSegmentation => Layout::Segmented,
            _ => Layout::Flat,
        }
    }

    /// Where `.text` goes.
    pub fn text_base(self) -> u64 {
        match self {
            Layout::Flat => HOSTED_TEXT_BASE,
            Layout::Segmented => 0,
        }
    }

    /// Where the writable sections go (`None`: the page after the read-only ones).
    pub fn data_base(self) -> Option<u64> {
        match self {
            Layout::Flat => None,
            Layout::Segmented => Some(crate::seg::SEGMENT_SIZE),
        }
    }
}

/// Access permissions of a piece of memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Perm {
    /// Loads allowed.
    pub read: bool,
    /// Stores allowed.
    pub write: bool,
    /// Fetches allowed.
    pub exec: bool,
}

impl Perm {
    /// Read and execute (text).
    pub const RX: Perm = Perm {
        read: true,
        write: false,
        exec: true,
    };
    /// Read and write (data, heap, stack).
    pub const RW: Perm = Perm {
        read: true,
        write: true,
        exec: false,
    };
    /// Read only.
    pub const R: Perm = Perm {
        read: true,
        write: false,
        exec: false,
    };

    /// From `mmap`/`mprotect` PROT_ bits (1 read, 2 write, 4 exec). Write implies read, as
    /// Linux on RISC-V maps it: the hardware reserves a writable, unreadable PTE.
    pub fn from_prot(prot: u64) -> Perm {
        Perm {
            read: prot & 3 != 0,
            write: prot & 2 != 0,
            exec: prot & 4 != 0,
        }
    }

    /// `rwx` with dashes, as `ls` and `/proc/PID/maps` print it.
    pub fn text(self) -> String {
        format!(
            "{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.exec { 'x' } else { '-' }
        )
    }
}

/// One loadable segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSegment {
    /// Its virtual address.
    pub vaddr: u64,
    /// The bytes the file gives (the rest of `mem_size` is zero: `.bss`).
    pub data: Vec<u8>,
    /// Its size in memory.
    pub mem_size: u64,
    /// Its permissions.
    pub perm: Perm,
}

impl ImageSegment {
    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.vaddr + self.mem_size
    }
}

/// A program the kernel can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The name reports use (the file name).
    pub name: String,
    /// The entry point.
    pub entry: u64,
    /// The loadable segments in address order.
    pub segments: Vec<ImageSegment>,
    /// The program headers' address once loaded (`AT_PHDR`), if known.
    pub phdr: Option<u64>,
    /// How many program headers the ELF has (`AT_PHNUM`).
    pub phnum: u64,
    /// The arguments the process starts with, `argv[0]` first (default: the name).
    pub argv: Vec<Vec<u8>>,
    /// The environment it starts with, `NAME=value` strings (default: empty).
    pub envp: Vec<Vec<u8>>,
    /// The load bias added to the program's link addresses (0 for `ET_EXEC`); `entry`,
    /// `phdr` and `segments` already include it.
    pub bias: u64,
    /// The dynamic linker, for a program that names one; its segments are among `segments`.
    pub interp: Option<Interp>,
    /// The program's allocation functions (`malloc`, `free`, ...: the symbols
    /// [`crate::heap::alloc::Call::ALL`] names) by address, for `os.malloc`.
    pub alloc_calls: Vec<(u64, crate::heap::alloc::Call)>,
    /// Where the program's `errno` is: a thread-local offset (from `tp`), or an address.
    pub errno: Option<ErrnoAt>,
    /// The C library's string functions by address, for `--memcheck`.
    pub str_fns: Vec<(u64, crate::memcheck::StrFn)>,
    /// The C library allocator's own state (`main_arena`, `mp_`), which `--memcheck`'s
    /// leak check does not take as roots.
    pub allocator_state: Vec<(u64, u64)>,
    /// The ELF file (symbols and line tables for `--memcheck`).
    pub file: vmlab_cpu::elf::FileBytes,
}

/// Where a program keeps `errno`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrnoAt {
    /// At this offset from the thread pointer (glibc's `errno` is thread-local; on RISC-V
    /// the thread pointer points at the start of the TLS block).
    Tls(u64),
    /// At this address.
    Global(u64),
}

impl Image {
    /// Why the program's own `malloc` and `free` cannot be found by symbol (for
    /// `os.malloc` and `--memcheck`, which need them), or `None` when they can.
    pub fn missing_malloc(&self) -> Option<&'static str> {
        use crate::heap::alloc::Call;
        let has = |c: Call| self.alloc_calls.iter().any(|&(_, x)| x == c);
        if has(Call::Malloc) && has(Call::Free) {
            None
        } else if self.interp.is_some() {
            Some("it is dynamically linked, and its malloc is in the C library's shared object; link it with -static")
        } else {
            Some("its symbol table has no malloc and free (stripped? build it without -s)")
        }
    }

    /// The image of a parsed static ELF executable (an `ET_EXEC` at its link addresses, or
    /// a static `ET_DYN` placed as [`Placement::paged`] places it in a window ending at
    /// `limit`), checked for what a user process needs: at least one segment, segments that
    /// do not overlap, an entry point inside an executable segment, and nothing at or above
    /// `limit` (the top of the user address space). A program that needs a dynamic linker
    /// is refused ([`Image::load`] loads those).
    pub fn from_elf(elf: &Elf, name: &str, limit: u64) -> Result<Image, String> {
        Image::load(elf, None, name, &Placement::paged(limit, limit, 4096))
    }

    /// The image of `elf` with `interp`, the interpreter it names (`None` for a static
    /// program: one that names an interpreter is then refused, with a message that says
    /// how to give one), placed as `place` says. The process starts at the interpreter's
    /// entry if there is one, else at the program's.
    pub fn load(
        elf: &Elf,
        interp: Option<&Elf>,
        name: &str,
        place: &Placement,
    ) -> Result<Image, String> {
        let page = place.page.max(1).next_power_of_two();
        if interp.is_none() {
            elf.refuse_dynamic().map_err(|e| e.to_string())?;
        }
        let interp = interp.filter(|_| elf.needs_interp());
        let bias = if elf.is_dyn {
            let low = elf.segments.iter().map(|s| s.vaddr).min().unwrap_or(0) & !(page - 1);
            let base = place.dyn_base & !(align_of(elf, page) - 1);
            base.checked_sub(low).ok_or_else(|| {
                format!(
                    "{name}: the position-independent program is linked at {low:#x}, above where it would load ({base:#x})"
                )
            })?
        } else {
            0
        };
        let mut segments = biased_segments(elf, bias, name)?;
        let program_end = segments.iter().map(ImageSegment::end).max().unwrap_or(0);
        // Every segment's end fits in 64 bits, and the entry lies in a segment.
        let entry = elf.entry.saturating_add(bias);
        let interp = match interp {
            None => None,
            Some(i) => {
                let what = format!("{name}: the interpreter {}", i.path);
                if i.needs_interp() {
                    return Err(format!(
                        "{what} itself asks for an interpreter ({}); an interpreter must be static (the dynamic linker ld.so)",
                        i.interp.as_deref().unwrap_or("dynamic linking")
                    ));
                }
                let low = i.segments.iter().map(|s| s.vaddr).min().unwrap_or(0) & !(page - 1);
                let high = i
                    .segments
                    .iter()
                    .map(|s| s.vaddr.saturating_add(s.mem_size))
                    .max()
                    .unwrap_or(0);
                let Some(span) = high.checked_next_multiple_of(page).map(|h| h - low) else {
                    return Err(format!(
                        "{what} has a segment that ends past the address space"
                    ));
                };
                let ibias = if i.is_dyn {
                    let start = place
                        .interp_top
                        .checked_sub(span)
                        .map(|s| s & !(align_of(i, page) - 1))
                        .ok_or_else(|| {
                            format!(
                                "{what} ({span} bytes) does not fit below {:#x}",
                                place.interp_top
                            )
                        })?;
                    start - low
                } else {
                    0
                };
                let mut isegs = biased_segments(i, ibias, &what)?;
                isegs.sort_by_key(|s| s.vaddr);
                // Each segment's last page is the interpreter's to the page's end, as Linux
                // maps it (ld.so's first allocations use the rest of the page after its
                // `.bss`): the area reaches the page's end, which reads as zero.
                let starts: Vec<u64> = isegs.iter().skip(1).map(|s| s.vaddr).collect();
                for (s, next) in isegs
                    .iter_mut()
                    .zip(starts.into_iter().map(Some).chain([None]))
                {
                    let end = s.end().next_multiple_of(page);
                    let end = next.map_or(end, |n| end.min(n));
                    s.mem_size = s.mem_size.max(end - s.vaddr);
                }
                // A whole-page hole between its segments stays reserved: nothing readable,
                // and not an address `mmap` hands out.
                let mut holes = Vec::new();
                for w in isegs.windows(2) {
                    let (a, b) = (w[0].end().next_multiple_of(page), w[1].vaddr & !(page - 1));
                    if a < b {
                        holes.push(ImageSegment {
                            vaddr: a,
                            data: Vec::new(),
                            mem_size: b - a,
                            perm: Perm::default(),
                        });
                    }
                }
                let ientry = i.entry.checked_add(ibias).unwrap_or(0);
                if !isegs
                    .iter()
                    .any(|s| s.perm.exec && (s.vaddr..s.end()).contains(&ientry))
                {
                    return Err(format!(
                        "{what}: its entry point {:#x} is not in an executable segment",
                        i.entry
                    ));
                }
                segments.extend(isegs);
                segments.extend(holes);
                Some(Interp {
                    path: elf.interp.clone().unwrap_or_else(|| i.path.clone()),
                    base: ibias,
                    start: low + ibias,
                    end: low + ibias + span,
                    entry: ientry,
                })
            }
        };
        segments.sort_by_key(|s| s.vaddr);
        if segments.is_empty() {
            return Err(format!("{name}: the program has no loadable segment"));
        }
        for w in segments.windows(2) {
            if w[0].end() > w[1].vaddr {
                return Err(format!(
                    "{name}: segments at {:#x} and {:#x} overlap",
                    w[0].vaddr, w[1].vaddr
                ));
            }
        }
        let Some(last) = segments.last() else {
            return Err(format!("{name}: the program has no loadable segment"));
        };
        if last.end() > place.limit {
            return Err(format!(
                "{name}: the segment at {:#x} ({} bytes) ends above the user address space, which ends at {:#x}; link the program lower (vmlab's assembler puts .text at {HOSTED_TEXT_BASE:#x} for the hosted machine)",
                last.vaddr, last.mem_size, place.limit
            ));
        }
        if let Some(i) = &interp {
            let heap_could_reach = program_end.next_multiple_of(page);
            if heap_could_reach > i.start {
                return Err(format!(
                    "{name}: the program ends at {program_end:#x}, above the interpreter {} at {:#x}; link it lower",
                    i.path, i.start
                ));
            }
        }
        let entry_ok = segments
            .iter()
            .any(|s| s.perm.exec && (s.vaddr..s.end()).contains(&entry));
        if !entry_ok {
            return Err(format!(
                "{name}: the entry point {:#x} is not in an executable segment",
                elf.entry
            ));
        }
        Ok(Image {
            name: name.to_string(),
            entry,
            segments,
            phdr: elf.phdr.and_then(|p| p.checked_add(bias)),
            phnum: elf.phnum,
            argv: vec![name.as_bytes().to_vec()],
            envp: Vec::new(),
            bias,
            interp,
            alloc_calls: crate::heap::alloc::Call::ALL
                .iter()
                .filter_map(|&(c, name)| Some((elf.symbols.get(name)?.addr.checked_add(bias)?, c)))
                .filter(|&(a, _)| a != 0)
                .collect(),
            str_fns: crate::memcheck::STR_FNS
                .iter()
                .filter_map(|&(f, name)| Some((elf.symbols.get(name)?.addr.checked_add(bias)?, f)))
                .filter(|&(a, _)| a != 0)
                .collect(),
            allocator_state: ["main_arena", "mp_"]
                .iter()
                .filter_map(|n| elf.symbols.get(*n))
                .map(|s| {
                    (
                        s.addr.wrapping_add(bias),
                        s.addr.wrapping_add(bias) + s.size,
                    )
                })
                .collect(),
            file: elf.file.clone(),
            errno: elf.symbols.get("errno").map(|s| {
                if s.tls {
                    ErrnoAt::Tls(s.addr)
                } else {
                    ErrnoAt::Global(s.addr.wrapping_add(bias))
                }
            }),
        })
    }

    /// Where the process starts: the interpreter's entry point if there is one, else the
    /// program's.
    pub fn start_pc(&self) -> u64 {
        self.interp.as_ref().map_or(self.entry, |i| i.entry)
    }

    /// The interpreter's load bias for the auxiliary vector's `AT_BASE` (0 without one).
    pub fn interp_base(&self) -> u64 {
        self.interp.as_ref().map_or(0, |i| i.base)
    }

    /// One past the highest byte of the program's own segments, not the interpreter's
    /// (where the heap starts, page-aligned).
    pub fn end(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| {
                self.interp
                    .as_ref()
                    .is_none_or(|i| !(i.start..i.end).contains(&s.vaddr))
            })
            .map(ImageSegment::end)
            .max()
            .unwrap_or(0)
    }

    /// The lowest virtual address of any segment.
    pub fn start(&self) -> u64 {
        self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0)
    }
}

/// The alignment an `ET_DYN` file's load bias keeps: the largest power-of-two `p_align` of
/// its segments (as Linux's `maximum_alignment`), at least a page.
fn align_of(elf: &Elf, page: u64) -> u64 {
    elf.segments
        .iter()
        .map(|s| s.align)
        .filter(|a| a.is_power_of_two() && *a < (1 << 40))
        .fold(page, u64::max)
}

/// `elf`'s segments with `bias` added to their addresses; `what` names it in errors.
fn biased_segments(elf: &Elf, bias: u64, what: &str) -> Result<Vec<ImageSegment>, String> {
    elf.segments
        .iter()
        .filter(|s| s.mem_size > 0)
        .map(|s| {
            let vaddr = s
                .vaddr
                .checked_add(bias)
                .filter(|v| v.checked_add(s.mem_size).is_some());
            let Some(vaddr) = vaddr else {
                return Err(format!(
                    "{what}: the segment at {:#x} moved by {bias:#x} runs past the address space",
                    s.vaddr
                ));
            };
            Ok(ImageSegment {
                vaddr,
                data: s.data.clone(),
                mem_size: s.mem_size,
                perm: Perm {
                    read: s.flags.read,
                    write: s.flags.write,
                    exec: s.flags.execute,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmlab_cpu::elf::{Segment, SegmentFlags};

    /// A parsed ELF made by hand: `segs` are (vaddr, file bytes, memory size, p_flags).
    fn elf(path: &str, is_dyn: bool, entry: u64, segs: &[(u64, u64, u64, u32)]) -> Elf {
        Elf {
            path: path.into(),
            is_dyn,
            interp: None,
            dynamic: is_dyn,
            entry,
            phdr: Some(segs[0].0 + 0x40),
            phnum: 9,
            flags: 5,
            segments: segs
                .iter()
                .enumerate()
                .map(|(index, &(vaddr, file, mem, flags))| Segment {
                    index,
                    offset: vaddr,
                    vaddr,
                    paddr: vaddr,
                    data: vec![0x5a; file as usize],
                    mem_size: mem,
                    flags: SegmentFlags::from_bits(flags),
                    align: 0x1000,
                })
                .collect(),
            symbols: Default::default(),
            tohost: None,
            fromhost: None,
            file: Default::default(),
        }
    }

    const RX: u32 = 5;
    const RW: u32 = 6;

    /// hello-dyn's layout: a PIE with text at 0 and data at 0x1e08, naming ld.so.
    fn pie() -> Elf {
        let mut e = elf(
            "hello-dyn",
            true,
            0x5c8,
            &[(0, 0x6e4, 0x6e4, RX), (0x1e08, 0x248, 0x250, RW)],
        );
        e.interp = Some("/lib/ld-linux-riscv64-lp64d.so.1".into());
        e
    }

    /// ld.so's layout (glibc 2.36, riscv64).
    fn ldso() -> Elf {
        elf(
            "/sysroot/lib/ld-linux-riscv64-lp64d.so.1",
            true,
            0x102b6,
            &[(0, 0x1b5fc, 0x1b5fc, RX), (0x1c070, 0x20a8, 0x2240, RW)],
        )
    }

    #[test]
    fn elf_et_dyn_base_is_two_thirds_of_the_user_window() {
        // Linux on Sv39: DEFAULT_MAP_WINDOW = 1 << 38, ELF_ET_DYN_BASE = 0x2a_aaaa_aaaa
        // rounded to a page.
        let p = Placement::paged(1 << 38, (1 << 38) - (1 << 20), 4096);
        assert_eq!(p.dyn_base, 0x2a_aaaa_a000);
        // vmlab's default window ends at os.stack_top = 1 GiB.
        let p = Placement::paged(0x4000_0000, 0x3ff0_0000, 4096);
        assert_eq!(p.dyn_base, 0x2aaa_a000);
        assert_eq!(p.interp_top, 0x3ff0_0000);
        assert_eq!(p.limit, 0x4000_0000);
    }

    #[test]
    fn a_dynamic_program_loads_at_the_bias_with_its_interpreter_below_the_stack() {
        let place = Placement::paged(0x4000_0000, 0x3ff0_0000, 4096);
        let img = Image::load(&pie(), Some(&ldso()), "hello-dyn", &place).unwrap();
        assert_eq!(img.bias, 0x2aaa_a000);
        assert_eq!(
            img.entry, 0x2aaa_a5c8,
            "AT_ENTRY: the program's biased entry"
        );
        assert_eq!(img.phdr, Some(0x2aaa_a040), "AT_PHDR: biased");
        assert_eq!(img.phnum, 9);
        // ld.so spans 0x1f000 bytes (to the page after 0x1c070 + 0x2240 = 0x1e2b0), and
        // ends at the stack's lowest reach.
        let i = img.interp.clone().unwrap();
        assert_eq!(i.base, 0x3ff0_0000 - 0x1f000);
        assert_eq!((i.start, i.end), (0x3fee_1000, 0x3ff0_0000));
        assert_eq!(i.entry, 0x3fee_1000 + 0x102b6);
        assert_eq!(i.path, "/lib/ld-linux-riscv64-lp64d.so.1");
        assert_eq!(
            img.start_pc(),
            i.entry,
            "the process starts in the interpreter"
        );
        assert_eq!(img.interp_base(), i.base, "AT_BASE");
        let segs: Vec<_> = img
            .segments
            .iter()
            .map(|s| (s.vaddr, s.data.len() as u64, s.mem_size, s.perm.text()))
            .collect();
        assert_eq!(
            segs,
            [
                (0x2aaa_a000, 0x6e4, 0x6e4, "r-x".to_string()),
                (0x2aaa_be08, 0x248, 0x250, "rw-".into()),
                (0x3fee_1000, 0x1b5fc, 0x1c000, "r-x".into()),
                // The data segment reaches the end of its last page.
                (0x3fef_d070, 0x20a8, 0x2f90, "rw-".into()),
            ]
        );
        // The heap starts after the program, not after the interpreter.
        assert_eq!(img.end(), 0x2aaa_c058);
        assert_eq!(img.start(), 0x2aaa_a000);
    }

    #[test]
    fn a_static_pie_loads_at_the_bias_and_starts_at_its_own_entry() {
        let place = Placement::paged(0x4000_0000, 0x3ff0_0000, 4096);
        let mut e = pie();
        e.interp = None;
        let img = Image::load(&e, None, "spie", &place).unwrap();
        assert_eq!(img.bias, 0x2aaa_a000);
        assert_eq!(img.start_pc(), 0x2aaa_a5c8);
        assert_eq!(img.interp_base(), 0, "AT_BASE of a static program");
        assert_eq!(img.end(), 0x2aaa_c058);
        // Under a contiguous scheme it goes where a static program is linked.
        let img = Image::load(&e, None, "spie", &Placement::contiguous(1 << 32)).unwrap();
        assert_eq!(img.bias, STATIC_LINK_BASE);
        assert_eq!(img.entry, 0x105c8);
    }

    #[test]
    fn a_static_exec_loads_at_its_link_addresses() {
        let e = elf("s", false, 0x10100, &[(0x10000, 0x200, 0x200, RX)]);
        let img = Image::from_elf(&e, "s", 0x4000_0000).unwrap();
        assert_eq!((img.bias, img.entry, img.phdr), (0, 0x10100, Some(0x10040)));
        assert!(img.interp.is_none());
    }

    #[test]
    fn the_bias_keeps_the_largest_segment_alignment() {
        let mut e = pie();
        e.interp = None;
        for s in &mut e.segments {
            s.align = 0x10_0000;
        }
        let img = Image::load(&e, None, "big", &Placement::paged(0x4000_0000, 0, 4096)).unwrap();
        assert_eq!(img.bias, 0x2aa0_0000);
    }

    #[test]
    fn a_hole_between_the_interpreters_segments_stays_reserved() {
        let place = Placement::paged(0x4000_0000, 0x3ff0_0000, 4096);
        let i = elf(
            "ld",
            true,
            0x10,
            &[(0, 0x1000, 0x1000, RX), (0x5000, 0x10, 0x1000, RW)],
        );
        let img = Image::load(&pie(), Some(&i), "p", &place).unwrap();
        let hole = img
            .segments
            .iter()
            .find(|s| s.perm == Perm::default())
            .expect("a reserved hole");
        let base = img.interp_base();
        assert_eq!((hole.vaddr, hole.end()), (base + 0x1000, base + 0x5000));
        assert!(hole.data.is_empty());
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let place = Placement::paged(0x4000_0000, 0x3ff0_0000, 4096);
        // No interpreter given for a program that needs one.
        let e = Image::load(&pie(), None, "hello-dyn", &place).unwrap_err();
        assert!(
            e.contains("/lib/ld-linux-riscv64-lp64d.so.1") && e.contains("--sysroot DIR"),
            "{e}"
        );
        // An interpreter that itself names one.
        let mut bad = ldso();
        bad.interp = Some("/lib/other.so".into());
        let e = Image::load(&pie(), Some(&bad), "hello-dyn", &place).unwrap_err();
        assert_eq!(
            e,
            "hello-dyn: the interpreter /sysroot/lib/ld-linux-riscv64-lp64d.so.1 itself asks \
             for an interpreter (/lib/other.so); an interpreter must be static (the dynamic \
             linker ld.so)"
        );
        // An interpreter too big for the room below the stack.
        let tight = Placement {
            interp_top: 0x1000,
            ..place
        };
        let e = Image::load(&pie(), Some(&ldso()), "hello-dyn", &tight).unwrap_err();
        assert!(e.contains("does not fit below 0x1000"), "{e}");
        // A program linked above where the interpreter goes.
        let high = elf("h", false, 0x3ff0_0100, &[(0x3ff0_0000, 0x200, 0x200, RX)]);
        let mut high = high;
        high.interp = Some("/lib/ld.so".into());
        let e = Image::load(&high, Some(&ldso()), "h", &place).unwrap_err();
        assert!(e.contains("above the interpreter"), "{e}");
    }
}
