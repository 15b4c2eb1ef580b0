//! The ELF64 RISC-V loader.
//!
//! [`Elf::parse`] reads a RISC-V executable: its type (`ET_EXEC`, or `ET_DYN` for a
//! position-independent executable or a shared object such as the dynamic linker), its entry
//! point, its loadable segments (where each goes, its file bytes, its memory size with the
//! `.bss` tail that reads as zero, its R/W/X flags and alignment), the interpreter its
//! `PT_INTERP` names and whether it has a `PT_DYNAMIC` segment, its symbols, and the HTIF
//! `tohost`/`fromhost` words found by symbol. [`Elf::load_into`] copies the segments of a
//! static `ET_EXEC` into RAM through a callback, after checking that every segment lies
//! inside the RAM range it is given; a program that needs relocating or a dynamic linker is
//! refused there ([`Elf::require_static`]), and the kernel's loader (`vmlab-os`'s `Image`)
//! is the one that loads those.
//!
//! Bad input never panics. A file that is not a little-endian ELF64 RISC-V executable, that is
//! cut short anywhere (header, program headers, segment data, section headers, symbols), or
//! whose segments overlap is refused with an [`ElfError`] that names the file, says what is
//! wrong and what would be right. Segments load at their physical address (`p_paddr`), as
//! Spike does; for bare-metal programs linked by `ld` it equals the virtual address.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader, Sym};
use object::LittleEndian as LE;
use std::collections::BTreeMap;
use thiserror::Error;

/// `e_machine` of RISC-V.
pub const EM_RISCV: u16 = 243;
/// The size of an ELF64 file header.
const EHDR_SIZE: u64 = 64;
/// The size of an ELF64 program header.
const PHDR_SIZE: u64 = 56;
/// The size of an ELF64 section header.
const SHDR_SIZE: u64 = 64;
/// The size of the identification bytes and offsets of fields in them.
const EI_NIDENT: u64 = 16;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const EI_VERSION: usize = 6;

/// Why an ELF file was refused. Each variant carries the file's path and the values found,
/// and its message says what would have been right.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ElfError {
    /// The file could not be read.
    #[error("{path}: cannot read the file: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The file does not start with the ELF magic number.
    #[error(
        "{path}: not an ELF file (it starts with {}, an ELF file with 7f 45 4c 46); \
         give vmlab a RISC-V executable, or an assembly file ending in .s",
        hex_bytes(found)
    )]
    NotElf {
        /// The file.
        path: String,
        /// Its first bytes (up to four).
        found: Vec<u8>,
    },
    /// The file ends before a part the header says it holds.
    #[error(
        "{path}: truncated: the file is only {len:#x} bytes long, but bytes {start:#x}..{end:#x} \
         should hold the {what}; rebuild or re-copy the file"
    )]
    Truncated {
        /// The file.
        path: String,
        /// The part that is cut short, e.g. "program headers" or "segment 1 data".
        what: String,
        /// The file offset where the part starts.
        start: u64,
        /// The file offset one past where the part ends (saturating).
        end: u64,
        /// The file's length.
        len: u64,
    },
    /// A 32-bit (or unknown-class) ELF.
    #[error(
        "{path}: ELF class {class} ({}), vmlab runs 64-bit ELF (class 2) executables; \
         build with -march=rv64imac -mabi=lp64",
        class_name(*class)
    )]
    Class {
        /// The file.
        path: String,
        /// `EI_CLASS` (1 = 32-bit, 2 = 64-bit).
        class: u8,
    },
    /// A big-endian (or unknown-encoding) ELF.
    #[error(
        "{path}: ELF data encoding {data} ({}), vmlab runs little-endian (encoding 1) RISC-V \
         executables",
        if *data == 2 { "big-endian" } else { "unknown" }
    )]
    Endian {
        /// The file.
        path: String,
        /// `EI_DATA` (1 = little-endian, 2 = big-endian).
        data: u8,
    },
    /// An ELF for another processor.
    #[error(
        "{path}: ELF for {} (machine {machine}), vmlab runs RISC-V (machine 243) executables",
        machine_name(*machine)
    )]
    Machine {
        /// The file.
        path: String,
        /// `e_machine`.
        machine: u16,
    },
    /// Neither an executable (`ET_EXEC`) nor a position-independent one (`ET_DYN`), or (from
    /// [`Elf::require_static`]) an `ET_DYN` where only `ET_EXEC` can be loaded.
    #[error("{path}: {}", type_message(*e_type))]
    NotExecutable {
        /// The file.
        path: String,
        /// `e_type` (1 = relocatable, 2 = executable, 3 = shared/PIE, 4 = core).
        e_type: u16,
    },
    /// A dynamically linked executable (it has a `PT_INTERP` or `PT_DYNAMIC` segment) where
    /// no dynamic linker can run it: on the bare machine, or under the kernel without
    /// `--sysroot`.
    #[error(
        "{path}: a dynamically linked executable ({}); run it with --sysroot DIR (a folder \
         holding {} and the libraries, e.g. /usr/riscv64-linux-gnu), or link with -static",
        match interp {
            Some(i) => format!("it asks for the interpreter {i}"),
            None => "it asks for dynamic linking".to_string(),
        },
        if interp.is_some() { "that interpreter" } else { "the dynamic linker" }
    )]
    Dynamic {
        /// The file.
        path: String,
        /// The interpreter its `PT_INTERP` names, if it has one.
        interp: Option<String>,
    },
    /// A header field or table that is inconsistent, other than truncation.
    #[error("{path}: malformed ELF: {what}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong, and what would be right.
        what: String,
    },
    /// No `PT_LOAD` segment with any bytes in memory.
    #[error(
        "{path}: the executable has no loadable segment (PT_LOAD); link it with ld so its code \
         is in one"
    )]
    NoSegments {
        /// The file.
        path: String,
    },
    /// The entry point lies in no loadable segment.
    #[error(
        "{path}: the entry point {entry:#x} lies in no loadable segment; link with ENTRY(_start) \
         and a `_start` symbol in .text"
    )]
    EntryOutside {
        /// The file.
        path: String,
        /// `e_entry`.
        entry: u64,
    },
    /// Two segments cover the same memory.
    #[error(
        "{path}: segments {a} ({a_start:#x}..{a_end:#x}) and {b} ({b_start:#x}..{b_end:#x}) \
         overlap in memory; each byte must belong to one segment (check the linker script)"
    )]
    Overlap {
        /// The file.
        path: String,
        /// The index of the first segment among the program headers.
        a: usize,
        /// Its first physical address.
        a_start: u64,
        /// One past its last physical address.
        a_end: u64,
        /// The index of the second segment among the program headers.
        b: usize,
        /// Its first physical address.
        b_start: u64,
        /// One past its last physical address.
        b_end: u64,
    },
    /// A segment's address range wraps past the end of the 64-bit address space.
    #[error(
        "{path}: segment {index} at {start:#x} with memory size {size:#x} runs past the end of \
         the 64-bit address space"
    )]
    Wraps {
        /// The file.
        path: String,
        /// The index of the segment among the program headers.
        index: usize,
        /// Its physical address.
        start: u64,
        /// Its memory size.
        size: u64,
    },
    /// A segment does not fit in RAM.
    #[error(
        "{path}: segment {index} ({start:#x}..{end:#x}) lies outside RAM \
         ({ram_start:#x}..{ram_end:#x}); link the program inside RAM (e.g. at {ram_start:#x} \
         with a linker script) or configure RAM to cover it"
    )]
    OutsideRam {
        /// The file.
        path: String,
        /// The index of the segment among the program headers.
        index: usize,
        /// Its first physical address.
        start: u64,
        /// One past its last physical address.
        end: u64,
        /// The first address of RAM.
        ram_start: u64,
        /// One past the last address of RAM.
        ram_end: u64,
    },
    /// The memory refused a write while loading.
    #[error("{path}: loading {len:#x} bytes at {addr:#x} failed: {message}")]
    Write {
        /// The file.
        path: String,
        /// The physical address written.
        addr: u64,
        /// The number of bytes.
        len: u64,
        /// The memory's message.
        message: String,
    },
}

fn hex_bytes(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.join(" ")
}

fn class_name(class: u8) -> &'static str {
    match class {
        1 => "32-bit",
        2 => "64-bit",
        _ => "unknown",
    }
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        0 => "no machine",
        3 => "x86 (i386)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "s390",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "another architecture",
    }
}

fn type_message(e_type: u16) -> String {
    match e_type {
        1 => "a relocatable object (ET_REL, type 1), not an executable; link it first, e.g. \
              `riscv64-unknown-elf-ld -T link.ld -o prog.elf prog.o`"
            .into(),
        3 => "a shared object or position-independent executable (ET_DYN, type 3), and the bare \
              machine loads executables at their link addresses (ET_EXEC, type 2); run it under \
              the kernel (leave out --bare), or link with -static -no-pie, or with ld without \
              -pie/-shared"
            .into(),
        4 => "a core dump (ET_CORE, type 4), not an executable (ET_EXEC, type 2)".into(),
        t => format!(
            "ELF type {t}, not an executable (ET_EXEC, type 2); link the program with \
             riscv64-unknown-elf-ld"
        ),
    }
}

/// The access rights of a segment (`p_flags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SegmentFlags {
    /// Readable (`PF_R`).
    pub read: bool,
    /// Writable (`PF_W`).
    pub write: bool,
    /// Executable (`PF_X`).
    pub execute: bool,
}

impl SegmentFlags {
    /// The flags of a raw `p_flags` value.
    pub fn from_bits(p_flags: u32) -> SegmentFlags {
        SegmentFlags {
            read: p_flags & elf::PF_R != 0,
            write: p_flags & elf::PF_W != 0,
            execute: p_flags & elf::PF_X != 0,
        }
    }
}

impl std::fmt::Display for SegmentFlags {
    /// Formats as `readelf` does: `R`, `W`, `E` or a space for each.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = |on: bool, ch: char| if on { ch } else { ' ' };
        write!(
            f,
            "{}{}{}",
            c(self.read, 'R'),
            c(self.write, 'W'),
            c(self.execute, 'E')
        )
    }
}

/// One loadable (`PT_LOAD`) segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The index of its program header.
    pub index: usize,
    /// Where its bytes start in the file (`p_offset`).
    pub offset: u64,
    /// The virtual address (`p_vaddr`).
    pub vaddr: u64,
    /// The physical address it loads at (`p_paddr`).
    pub paddr: u64,
    /// The bytes the file holds (`p_filesz` of them).
    pub data: Vec<u8>,
    /// The size in memory (`p_memsz`, at least `data.len()`); the tail past the file bytes
    /// (`.bss`) reads as zero.
    pub mem_size: u64,
    /// Its access rights.
    pub flags: SegmentFlags,
    /// Its alignment (`p_align`: 0 or 1 for none, else a power of two that the virtual
    /// address and the file offset agree modulo).
    pub align: u64,
}

impl Segment {
    /// One past the last physical address.
    pub fn paddr_end(&self) -> u64 {
        self.paddr.saturating_add(self.mem_size)
    }

    /// Whether the physical address `pa` lies in the segment.
    pub fn contains_paddr(&self, pa: u64) -> bool {
        pa >= self.paddr && pa - self.paddr < self.mem_size
    }

    /// Whether the virtual address `va` lies in the segment.
    pub fn contains_vaddr(&self, va: u64) -> bool {
        va >= self.vaddr && va - self.vaddr < self.mem_size
    }
}

/// A symbol's value and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Symbol {
    /// The address (`st_value`).
    pub addr: u64,
    /// The size in bytes (`st_size`; 0 for plain labels).
    pub size: u64,
    /// A thread-local variable (`STT_TLS`): `addr` is its offset in the TLS block.
    pub tls: bool,
}

/// A parsed ELF64 RISC-V executable, ready to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elf {
    /// The path given to [`Elf::parse`], used in error messages.
    pub path: String,
    /// Whether it is `ET_DYN` (a position-independent executable, or a shared object such as
    /// the dynamic linker), whose addresses are relative to a load bias the loader chooses;
    /// `false` for `ET_EXEC`, which loads at its link addresses.
    pub is_dyn: bool,
    /// The interpreter (dynamic linker) its `PT_INTERP` names, e.g.
    /// `/lib/ld-linux-riscv64-lp64d.so.1`.
    pub interp: Option<String>,
    /// Whether it has a `PT_DYNAMIC` segment (dynamic linking information; a static PIE has
    /// one too, and relocates itself with it).
    pub dynamic: bool,
    /// The entry point (`e_entry`).
    pub entry: u64,
    /// The virtual address of the program headers once loaded (`PT_PHDR`, else where a
    /// loadable segment holds them), as the auxiliary vector's `AT_PHDR` gives it.
    pub phdr: Option<u64>,
    /// How many program headers there are (`AT_PHNUM`; each is 56 bytes, `AT_PHENT`).
    pub phnum: u64,
    /// `e_flags` (RISC-V: RVC, float ABI, RVE, TSO bits).
    pub flags: u32,
    /// The loadable segments with a non-zero memory size, in program-header order.
    pub segments: Vec<Segment>,
    /// The named symbols (not sections, files or RISC-V mapping symbols such as `$x`), by
    /// name. When a name occurs more than once (local labels of several objects), a global
    /// definition wins, then the first one.
    pub symbols: BTreeMap<String, Symbol>,
    /// The address of the `tohost` symbol, if there is one.
    pub tohost: Option<u64>,
    /// The address of the `fromhost` symbol, if there is one.
    pub fromhost: Option<u64>,
    /// The whole file, for what reads more than the loader does (the memory checker's
    /// symbols and line tables, [`crate::debuginfo`]).
    pub file: FileBytes,
}

/// The bytes of an ELF file, shared; its `Debug` shows only the length.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FileBytes(pub std::sync::Arc<Vec<u8>>);

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileBytes({} bytes)", self.0.len())
    }
}

/// The memory [`Elf::load_into`] writes through: `write(pa, bytes)` stores `bytes` at the
/// physical address `pa`, or says why it cannot.
pub type LoadWrite<'a> = dyn FnMut(u64, &[u8]) -> Result<(), String> + 'a;

/// A zero page for writing `.bss` tails.
static ZEROS: [u8; 4096] = [0; 4096];

impl Elf {
    /// Reads and parses the file at `path`.
    pub fn open(path: &std::path::Path) -> Result<Elf, ElfError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ElfError::Io {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Elf::parse(&bytes, &shown)
    }

    /// Parses the ELF file `bytes`; `path` names it in error messages.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Elf, ElfError> {
        if (bytes.as_ptr() as usize) & 7 == 0 {
            return Parser { bytes, path }.parse();
        }
        // The `object` crate reads headers in place and needs them aligned: copy the bytes
        // (e.g. from `include_bytes!`) into 8-byte-aligned storage.
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        object::pod::bytes_of_slice_mut(&mut words)[..bytes.len()].copy_from_slice(bytes);
        let aligned = &object::pod::bytes_of_slice(&words)[..bytes.len()];
        Parser {
            bytes: aligned,
            path,
        }
        .parse()
    }

    /// The address of the symbol `name`.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).map(|s| s.addr)
    }

    /// The total number of bytes the segments occupy in memory.
    pub fn mem_size(&self) -> u64 {
        self.segments
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.mem_size))
    }

    /// Whether it needs a dynamic linker: it names an interpreter, or it is an `ET_EXEC` with
    /// dynamic linking information (an `ET_DYN` without an interpreter is a static PIE, which
    /// relocates itself).
    pub fn needs_interp(&self) -> bool {
        self.interp.is_some() || (self.dynamic && !self.is_dyn)
    }

    /// Checks that the program loads at its link addresses with nothing to link or relocate
    /// it at run time, as the bare machine loads programs: an `ET_EXEC` without `PT_INTERP`
    /// or `PT_DYNAMIC`. Otherwise [`ElfError::Dynamic`] (naming the interpreter) or
    /// [`ElfError::NotExecutable`] (a position-independent executable).
    pub fn require_static(&self) -> Result<(), ElfError> {
        if self.needs_interp() {
            return Err(ElfError::Dynamic {
                path: self.path.clone(),
                interp: self.interp.clone(),
            });
        }
        if self.is_dyn {
            return Err(ElfError::NotExecutable {
                path: self.path.clone(),
                e_type: elf::ET_DYN,
            });
        }
        Ok(())
    }

    /// [`ElfError::Dynamic`] for this program if it needs a dynamic linker
    /// ([`Elf::needs_interp`]), for a loader that has none to give it.
    pub fn refuse_dynamic(&self) -> Result<(), ElfError> {
        if self.needs_interp() {
            return Err(ElfError::Dynamic {
                path: self.path.clone(),
                interp: self.interp.clone(),
            });
        }
        Ok(())
    }

    /// Checks that every segment lies inside RAM at `ram_base` of `ram_size` bytes.
    pub fn check_fits(&self, ram_base: u64, ram_size: u64) -> Result<(), ElfError> {
        let ram_end = ram_base.saturating_add(ram_size);
        for s in &self.segments {
            if s.paddr < ram_base || s.paddr_end() > ram_end {
                return Err(ElfError::OutsideRam {
                    path: self.path.clone(),
                    index: s.index,
                    start: s.paddr,
                    end: s.paddr_end(),
                    ram_start: ram_base,
                    ram_end,
                });
            }
        }
        Ok(())
    }

    /// Loads every segment into RAM at `ram_base` of `ram_size` bytes: `write(pa, bytes)`
    /// receives the file bytes of each segment, then its zero tail in pieces of at most
    /// 4096 bytes (a sparse RAM can skip zeros it never allocated). Nothing is written unless
    /// the program is static ([`Elf::require_static`]) and every segment fits. Returns the
    /// entry point.
    pub fn load_into(
        &self,
        ram_base: u64,
        ram_size: u64,
        write: &mut LoadWrite<'_>,
    ) -> Result<u64, ElfError> {
        self.require_static()?;
        self.check_fits(ram_base, ram_size)?;
        let mut put = |addr: u64, bytes: &[u8]| {
            write(addr, bytes).map_err(|message| ElfError::Write {
                path: self.path.clone(),
                addr,
                len: bytes.len() as u64,
                message,
            })
        };
        for s in &self.segments {
            if !s.data.is_empty() {
                put(s.paddr, &s.data)?;
            }
            let mut addr = s.paddr.saturating_add(s.data.len() as u64);
            let end = s.paddr_end();
            while addr < end {
                let n = (end - addr).min(ZEROS.len() as u64);
                put(addr, &ZEROS[..n as usize])?;
                addr += n;
            }
        }
        Ok(self.entry)
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    path: &'a str,
}

impl Parser<'_> {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn truncated(&self, what: impl Into<String>, start: u64, size: u64) -> ElfError {
        ElfError::Truncated {
            path: self.path.into(),
            what: what.into(),
            start,
            end: start.saturating_add(size),
            len: self.len(),
        }
    }

    fn malformed(&self, what: impl Into<String>) -> ElfError {
        ElfError::Malformed {
            path: self.path.into(),
            what: what.into(),
        }
    }

    /// Checks that `size` bytes at `start` lie in the file.
    fn need(&self, what: impl Into<String>, start: u64, size: u64) -> Result<(), ElfError> {
        match start.checked_add(size) {
            Some(end) if end <= self.len() => Ok(()),
            _ => Err(self.truncated(what, start, size)),
        }
    }

    fn object_err(&self, context: &str) -> impl Fn(object::read::Error) -> ElfError + '_ {
        let context = context.to_string();
        move |e| self.malformed(format!("{context}: {e}"))
    }

    fn parse(&self) -> Result<Elf, ElfError> {
        let b = self.bytes;
        let path = self.path.to_string();
        // The identification bytes, one check at a time so that each message is precise.
        let magic = &b[..b.len().min(4)];
        if magic != &elf::ELFMAG[..magic.len()] {
            return Err(ElfError::NotElf {
                path,
                found: magic.to_vec(),
            });
        }
        self.need("ELF identification", 0, EI_NIDENT)?;
        if b[EI_CLASS] != elf::ELFCLASS64 {
            let class = b[EI_CLASS];
            return Err(ElfError::Class { path, class });
        }
        if b[EI_DATA] != elf::ELFDATA2LSB {
            let data = b[EI_DATA];
            return Err(ElfError::Endian { path, data });
        }
        if b[EI_VERSION] != elf::EV_CURRENT {
            return Err(self.malformed(format!(
                "identification version {} (expected 1)",
                b[EI_VERSION]
            )));
        }
        self.need("ELF header", 0, EHDR_SIZE)?;
        let hdr = elf::FileHeader64::<LE>::parse(b).map_err(self.object_err("ELF header"))?;
        let e = LE;
        let machine = hdr.e_machine(e);
        if machine != EM_RISCV {
            return Err(ElfError::Machine { path, machine });
        }
        let e_type = hdr.e_type(e);
        if e_type != elf::ET_EXEC && e_type != elf::ET_DYN {
            return Err(ElfError::NotExecutable { path, e_type });
        }
        if hdr.e_version(e) != u32::from(elf::EV_CURRENT) {
            return Err(self.malformed(format!("e_version {} (expected 1)", hdr.e_version(e))));
        }

        let phoff = hdr.e_phoff(e);
        let e_phnum = hdr.e_phnum(e);
        let phnum = if e_phnum == 0 {
            0
        } else {
            if hdr.e_phentsize(e) as u64 != PHDR_SIZE {
                return Err(self.malformed(format!(
                    "program header size e_phentsize = {} (ELF64 uses {PHDR_SIZE})",
                    hdr.e_phentsize(e)
                )));
            }
            hdr.phnum(e, b)
                .map_err(self.object_err("program header count"))?
        };
        let size = (phnum as u64).saturating_mul(PHDR_SIZE);
        if phnum > 0 {
            self.need("program headers", phoff, size)?;
        }
        let phdrs = hdr
            .program_headers(e, b)
            .map_err(self.object_err("program headers"))?;

        let mut segments = Vec::new();
        let mut phdr = None;
        let mut interp = None;
        let mut dynamic = false;
        for (index, ph) in phdrs.iter().enumerate() {
            match ph.p_type(e) {
                elf::PT_LOAD => {}
                elf::PT_INTERP => {
                    interp = Some(self.interp(index, ph)?);
                    continue;
                }
                elf::PT_DYNAMIC => {
                    dynamic = true;
                    continue;
                }
                elf::PT_PHDR => {
                    phdr = Some(ph.p_vaddr(e));
                    continue;
                }
                // PT_NOTE, PT_PHDR, PT_GNU_STACK, PT_RISCV_ATTRIBUTES, ...: nothing to load.
                _ => continue,
            }
            let (offset, filesz, memsz) = (ph.p_offset(e), ph.p_filesz(e), ph.p_memsz(e));
            let paddr = ph.p_paddr(e);
            if filesz > memsz {
                return Err(self.malformed(format!(
                    "segment {index}: file size {filesz:#x} is larger than its memory size \
                     {memsz:#x} (p_filesz must be at most p_memsz)"
                )));
            }
            self.need(format!("segment {index} data"), offset, filesz)?;
            if memsz == 0 {
                continue;
            }
            if paddr.checked_add(memsz).is_none() || ph.p_vaddr(e).checked_add(memsz).is_none() {
                return Err(ElfError::Wraps {
                    path,
                    index,
                    start: paddr,
                    size: memsz,
                });
            }
            // `need` checked the range, so these conversions and the slice are in bounds.
            let data = b[offset as usize..(offset + filesz) as usize].to_vec();
            segments.push(Segment {
                index,
                offset,
                vaddr: ph.p_vaddr(e),
                paddr,
                data,
                mem_size: memsz,
                flags: SegmentFlags::from_bits(ph.p_flags(e)),
                align: ph.p_align(e),
            });
        }
        if segments.is_empty() {
            return Err(ElfError::NoSegments { path });
        }
        let mut by_addr: Vec<&Segment> = segments.iter().collect();
        by_addr.sort_by_key(|s| (s.paddr, s.index));
        for w in by_addr.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b.paddr < a.paddr_end() {
                return Err(ElfError::Overlap {
                    path,
                    a: a.index,
                    a_start: a.paddr,
                    a_end: a.paddr_end(),
                    b: b.index,
                    b_start: b.paddr,
                    b_end: b.paddr_end(),
                });
            }
        }
        // Where the program headers are in memory: PT_PHDR says, else the loadable segment
        // whose file bytes hold them (as Linux's loader computes AT_PHDR).
        let phdr = phdr.or_else(|| {
            segments
                .iter()
                .find(|s| phoff >= s.offset && phoff + size <= s.offset + s.data.len() as u64)
                .map(|s| s.vaddr + (phoff - s.offset))
        });
        let entry = hdr.e_entry(e);
        if !segments.iter().any(|s| s.contains_vaddr(entry)) {
            return Err(ElfError::EntryOutside { path, entry });
        }

        // The section headers (needed for the symbols), after the segments so that a file
        // cut inside a segment is reported as such.
        let shoff = hdr.e_shoff(e);
        if shoff != 0 {
            if hdr.e_shentsize(e) as u64 != SHDR_SIZE {
                return Err(self.malformed(format!(
                    "section header size e_shentsize = {} (ELF64 uses {SHDR_SIZE})",
                    hdr.e_shentsize(e)
                )));
            }
            self.need("section header 0", shoff, SHDR_SIZE)?;
            let shnum = hdr.shnum(e, b).map_err(self.object_err("section count"))?;
            let size = shnum.saturating_mul(SHDR_SIZE as usize);
            self.need("section headers", shoff, size as u64)?;
        }

        let symbols = if shoff != 0 {
            self.symbols(hdr)?
        } else {
            BTreeMap::new()
        };
        let tohost = symbols.get("tohost").map(|s| s.addr);
        let fromhost = symbols.get("fromhost").map(|s| s.addr);
        Ok(Elf {
            path,
            is_dyn: e_type == elf::ET_DYN,
            interp,
            dynamic,
            entry,
            phdr,
            phnum: phnum as u64,
            flags: hdr.e_flags(e),
            segments,
            symbols,
            tohost,
            fromhost,
            file: FileBytes(std::sync::Arc::new(self.bytes.to_vec())),
        })
    }

    /// The interpreter path the `PT_INTERP` header `ph` (number `index`) names: its bytes up
    /// to the first NUL, which must be an absolute path of printable UTF-8.
    fn interp(&self, index: usize, ph: &elf::ProgramHeader64<LE>) -> Result<String, ElfError> {
        let e = LE;
        let (off, len) = (ph.p_offset(e), ph.p_filesz(e));
        self.need(format!("segment {index} (PT_INTERP) data"), off, len)?;
        // `need` checked the range.
        let bytes = &self.bytes[off as usize..(off + len) as usize];
        let bytes = bytes.split(|&b| b == 0).next().unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(p) if p.starts_with('/') && p.len() < 4096 && !p.chars().any(char::is_control) => {
                Ok(p.to_string())
            }
            _ => Err(self.malformed(format!(
                "segment {index} (PT_INTERP) does not hold an absolute path of the interpreter \
                 (it holds {} bytes starting {})",
                bytes.len(),
                hex_bytes(&bytes[..bytes.len().min(8)])
            ))),
        }
    }

    fn symbols(&self, hdr: &elf::FileHeader64<LE>) -> Result<BTreeMap<String, Symbol>, ElfError> {
        let (e, b) = (LE, self.bytes);
        let sections = hdr
            .sections(e, b)
            .map_err(self.object_err("section headers"))?;
        for (i, sh) in sections.iter().enumerate() {
            if sh.sh_type(e) != elf::SHT_NOBITS && sh.sh_type(e) != elf::SHT_NULL {
                self.need(format!("section {i} data"), sh.sh_offset(e), sh.sh_size(e))?;
            }
        }
        let table = sections
            .symbols(e, b, elf::SHT_SYMTAB)
            .map_err(self.object_err("symbol table"))?;
        let mut symbols: BTreeMap<String, (Symbol, bool)> = BTreeMap::new();
        for sym in table.iter() {
            if matches!(sym.st_type(), elf::STT_SECTION | elf::STT_FILE) || sym.st_name(e) == 0 {
                continue;
            }
            let name = table
                .symbol_name(e, sym)
                .map_err(self.object_err("symbol name"))?;
            // RISC-V mapping symbols (`$x`, `$xrv64i2p1...`, `$d`) mark code and data; `nm`
            // hides them, and so does the loader.
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if name.starts_with("$x") || name.starts_with("$d") {
                continue;
            }
            let global = sym.st_bind() != elf::STB_LOCAL;
            let value = Symbol {
                addr: sym.st_value(e),
                size: sym.st_size(e),
                tls: sym.st_type() == elf::STT_TLS,
            };
            match symbols.get(name) {
                Some((_, true)) => {}
                Some((_, false)) if !global => {}
                _ => {
                    symbols.insert(name.to_string(), (value, global));
                }
            }
        }
        Ok(symbols.into_iter().map(|(k, (v, _))| (k, v)).collect())
    }
}
