//! objdump-style disassembly of whole ELF files, for `vmlab disasm FILE.elf`.
//!
//! [`objdump`] produces, byte for byte, the text `riscv64-unknown-elf-objdump -d FILE`
//! (GNU binutils 2.40) prints for a little-endian ELF64 RISC-V file, and with
//! [`ObjdumpOptions::no_aliases`] what `-M no-aliases` prints:
//!
//! - the header (`\nFILE:     file format elf64-littleriscv\n\n`), then for each section
//!   that is executable (`SHF_EXECINSTR`), has contents and is not empty, in section-header
//!   order, `\nDisassembly of section NAME:\n`;
//! - a label (`\n0000000080000000 <_start>:\n`) at the start of the section and at each
//!   symbol in it. Where several symbols share an address, the one objdump prefers:
//!   functions and objects before other symbols, then global before weak before local,
//!   larger before smaller, names not starting with `.` first, then by name. Section,
//!   file and RISC-V mapping symbols (`$x`, `$d`) are never labels. A section that starts
//!   before its first symbol is labelled from that symbol (`<first-0x10>`), a section
//!   without symbols by its name (`<.text>`);
//! - one line per instruction: the address (as wide as the section's last address needs,
//!   in steps of four digits), the bytes in 16-bit (compressed) or 32-bit chunks padded to
//!   a fixed column, and the text of [`crate::isa::Disassembler`], where branch and jump
//!   targets and the `# address` comments after `lui`/`auipc` pairs get objdump's
//!   `<symbol+0xoffset>`;
//! - bytes the RISC-V mapping symbols mark as data (`$d`) as `.word`/`.short`/`.byte`
//!   chunks (a chunk never runs past the next mapping symbol or the section end); the
//!   bytes of a symbol typed `STT_OBJECT` as a hex and ASCII dump, 16 bytes a line;
//!   encodings no RV64IMAC instruction has as `.2byte`/`.4byte`/`.8byte`/`.byte`;
//! - `\t...\n` for a run of at least 8 zero bytes (rounded down to a multiple of 4 when
//!   more bytes follow) or for fewer than 3 zero bytes ending a block, unless
//!   [`ObjdumpOptions::disassemble_zeroes`] (`-z`) is set;
//! - objdump's `Address 0x... is out of bounds.` where an instruction or data chunk would
//!   run past the next label.
//!
//! Like libopcodes, it decodes only the extensions the architecture in effect includes:
//! that of the last `$x<arch>` mapping symbol, else `Tag_RISCV_arch` of
//! `.riscv.attributes`, else `rv64gc`; an instruction of an extension it lacks (say `mul`
//! in an `rv64i` file) prints as `.4byte`/`.2byte`.
//!
//! Differences from objdump (see `docs/disasm.md`): instructions outside RV64IMAC, Zicsr,
//! Zifencei and the privileged set (floating point, vector, ...) print as
//! `.4byte`/`.2byte`; CSR names do not follow the file's `Tag_RISCV_priv_spec`; the dynamic
//! symbol table and dynamic relocations are not used (static executables have neither).
//!
//! Bad input never panics: a file that is not a little-endian ELF64 RISC-V file, or whose
//! headers, sections or symbols are cut short or inconsistent, is an [`ElfError`] naming the
//! file.

use crate::elf::{ElfError, EM_RISCV};
use crate::isa::{decode, Disassembler, Ext, Format, Insn, Op};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::LittleEndian as LE;
use std::cmp::Ordering;
use std::fmt::Write;

/// What to print, as objdump's command-line options say it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjdumpOptions {
    /// Canonical instruction names instead of aliases (`-M no-aliases`): `addi a0,zero,0`
    /// for `li a0,0`, `c.li a0,0` for its compressed form.
    pub no_aliases: bool,
    /// Disassemble runs of zero bytes instead of printing `...` (`-z`,
    /// `--disassemble-zeroes`).
    pub disassemble_zeroes: bool,
}

/// The text `riscv64-unknown-elf-objdump -d` prints for the ELF file `bytes`, with
/// `file_name` as the name it prints (objdump prints the path it was given).
///
/// Names that are not UTF-8 are printed with U+FFFD replacing the bad bytes; control
/// characters in names print as `^X`, as objdump prints them.
pub fn objdump(bytes: &[u8], file_name: &str, opts: &ObjdumpOptions) -> Result<String, ElfError> {
    if (bytes.as_ptr() as usize) & 7 == 0 {
        return run(bytes, file_name, opts);
    }
    // The `object` crate reads headers in place and needs them aligned.
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    object::pod::bytes_of_slice_mut(&mut words)[..bytes.len()].copy_from_slice(bytes);
    run(
        &object::pod::bytes_of_slice(&words)[..bytes.len()],
        file_name,
        opts,
    )
}

/// Reads the file at `path` and disassembles it as [`objdump`] does, printing `path` as
/// given.
pub fn objdump_file(path: &std::path::Path, opts: &ObjdumpOptions) -> Result<String, ElfError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ElfError::Io {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    objdump(&bytes, &shown, opts)
}

fn run(bytes: &[u8], path: &str, opts: &ObjdumpOptions) -> Result<String, ElfError> {
    let file = parse(bytes, path)?;
    let mut out = String::new();
    let _ = write!(
        out,
        "\n{}:     file format elf64-littleriscv\n\n",
        sanitize(path.as_bytes())
    );
    let mut dis = if opts.no_aliases {
        Disassembler::no_aliases()
    } else {
        Disassembler::new()
    };
    // riscv-dis.c takes gp from the last `__global_pointer$` among the sorted symbols.
    dis.gp = file
        .sorted
        .iter()
        .rev()
        .map(|&k| &file.syms[k])
        .find(|s| s.name == b"__global_pointer$")
        .map(|s| s.value);
    let mut dumper = Dumper {
        file: &file,
        opts,
        dis,
        out,
        bytes_per_chunk: 0,
        maps: Vec::new(),
        arch: file.arch,
    };
    for sec in 0..file.sections.len() {
        let s = &file.sections[sec];
        if s.code && s.has_contents && s.size > 0 {
            dumper.section(sec);
        }
    }
    Ok(dumper.out)
}

/// objdump's `sanitize_string`: control characters as `^` and the character 0x40 above.
fn sanitize(name: &[u8]) -> String {
    let mut b = Vec::with_capacity(name.len());
    for &c in name {
        if c < 0x20 || c == 0x7f {
            b.push(b'^');
            b.push(c.wrapping_add(0x40));
        } else {
            b.push(c);
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// A section as BFD sees it.
struct Section {
    name: Vec<u8>,
    addr: u64,
    size: u64,
    /// The file bytes (empty unless it is a code section with contents).
    data: Vec<u8>,
    /// `SHF_EXECINSTR` (BFD's `SEC_CODE`).
    code: bool,
    /// Not `SHT_NOBITS` (BFD's `SEC_HAS_CONTENTS`).
    has_contents: bool,
}

/// A symbol as BFD sees it, after objdump's `remove_useless_symbols`.
struct Symbol {
    name: Vec<u8>,
    value: u64,
    size: u64,
    /// The index of its section header, or `None` for absolute symbols.
    section: Option<usize>,
    local: bool,
    global: bool,
    function: bool,
    object: bool,
}

impl Symbol {
    /// RISC-V mapping symbols (`riscv_elf_is_mapping_symbols`).
    fn is_mapping(&self) -> bool {
        self.name == b"$x" || self.name == b"$d" || self.name.starts_with(b"$xrv")
    }

    /// `riscv_symbol_is_valid`: neither the assembler's fake label nor a mapping symbol.
    fn is_valid(&self) -> bool {
        self.name != b".L0 " && !self.is_mapping()
    }

    /// The mapping state this symbol starts, if it is a mapping symbol.
    fn map_state(&self) -> Option<Map> {
        if self.name == b"$d" {
            Some(Map::Data)
        } else if self.name == b"$x" || self.name.starts_with(b"$xrv") {
            Some(Map::Insn)
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Map {
    Insn,
    Data,
}

/// The parts of the file the disassembly needs.
struct File {
    sections: Vec<Section>,
    syms: Vec<Symbol>,
    /// Indices into `syms` in objdump's `compare_symbols` order.
    sorted: Vec<usize>,
    /// Relocations against the symbol table exist (BFD's `HAS_RELOC`).
    has_reloc: bool,
    /// The architecture of `Tag_RISCV_arch` in `.riscv.attributes` (objdump's default
    /// when no mapping symbol says otherwise), or `rv64gc` without one.
    arch: Arch,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// objdump's `compare_symbols` for one file (no debugging or section symbols remain).
fn compare_symbols(a: &Symbol, b: &Symbol) -> Ordering {
    let by = |x: bool, y: bool| match (x, y) {
        (true, false) => Some(Ordering::Less),
        (false, true) => Some(Ordering::Greater),
        _ => None,
    };
    if a.value != b.value {
        return a.value.cmp(&b.value);
    }
    let compiled =
        |s: &Symbol| contains(&s.name, b"gnu_compiled") || contains(&s.name, b"gcc2_compiled");
    // Put the less useful symbols (compiler markers, file names) last.
    if let Some(o) = by(!compiled(a), !compiled(b)) {
        return o;
    }
    let file = |s: &Symbol| {
        let n = &s.name;
        n.len() > 2 && n[n.len() - 2] == b'.' && matches!(n[n.len() - 1], b'o' | b'a')
    };
    if let Some(o) = by(!file(a), !file(b)) {
        return o;
    }
    let flags = [
        by(a.function, b.function),
        by(a.object, b.object),
        by(!a.local, !b.local),
        by(a.global, b.global),
    ];
    if let Some(o) = flags.into_iter().flatten().next() {
        return o;
    }
    if a.size != b.size {
        return b.size.cmp(&a.size);
    }
    let dot = |s: &Symbol| s.name.first() == Some(&b'.');
    if let Some(o) = by(!dot(a), !dot(b)) {
        return o;
    }
    a.name.cmp(&b.name)
}

struct Parser<'a> {
    bytes: &'a [u8],
    path: &'a str,
}

impl Parser<'_> {
    fn malformed(&self, what: impl Into<String>) -> ElfError {
        ElfError::Malformed {
            path: self.path.into(),
            what: what.into(),
        }
    }

    fn need(&self, what: impl Into<String>, start: u64, size: u64) -> Result<(), ElfError> {
        let len = self.bytes.len() as u64;
        match start.checked_add(size) {
            Some(end) if end <= len => Ok(()),
            _ => Err(ElfError::Truncated {
                path: self.path.into(),
                what: what.into(),
                start,
                end: start.saturating_add(size),
                len,
            }),
        }
    }

    fn object_err(&self, context: &str) -> impl Fn(object::read::Error) -> ElfError + '_ {
        let context = context.to_string();
        move |e| self.malformed(format!("{context}: {e}"))
    }
}

fn parse(b: &[u8], path: &str) -> Result<File, ElfError> {
    let p = Parser { bytes: b, path };
    let magic = &b[..b.len().min(4)];
    if magic != &elf::ELFMAG[..magic.len()] || magic.is_empty() {
        return Err(ElfError::NotElf {
            path: path.into(),
            found: magic.to_vec(),
        });
    }
    p.need("ELF identification", 0, 16)?;
    if b[4] != elf::ELFCLASS64 {
        return Err(ElfError::Class {
            path: path.into(),
            class: b[4],
        });
    }
    if b[5] != elf::ELFDATA2LSB {
        return Err(ElfError::Endian {
            path: path.into(),
            data: b[5],
        });
    }
    p.need("ELF header", 0, 64)?;
    let e = LE;
    let hdr = elf::FileHeader64::<LE>::parse(b).map_err(p.object_err("ELF header"))?;
    let machine = hdr.e_machine(e);
    if machine != EM_RISCV {
        return Err(ElfError::Machine {
            path: path.into(),
            machine,
        });
    }
    let e_type = hdr.e_type(e);
    let mut file = File {
        sections: Vec::new(),
        syms: Vec::new(),
        sorted: Vec::new(),
        has_reloc: false,
        arch: Arch::RV64GC,
    };
    let shoff = hdr.e_shoff(e);
    if shoff == 0 {
        return Ok(file);
    }
    if hdr.e_shentsize(e) != 64 {
        return Err(p.malformed(format!(
            "section header size e_shentsize = {} (ELF64 uses 64)",
            hdr.e_shentsize(e)
        )));
    }
    p.need("section header 0", shoff, 64)?;
    let shnum = hdr.shnum(e, b).map_err(p.object_err("section count"))?;
    p.need("section headers", shoff, (shnum as u64).saturating_mul(64))?;
    let table = hdr
        .sections(e, b)
        .map_err(p.object_err("section headers"))?;
    let mut symtab_index = None;
    for (i, sh) in table.iter().enumerate() {
        let name = table
            .section_name(e, sh)
            .map_err(p.object_err(&format!("section {i} name")))?
            .to_vec();
        let (kind, flags) = (sh.sh_type(e), sh.sh_flags(e));
        let code = flags & u64::from(elf::SHF_EXECINSTR) != 0;
        let has_contents = kind != elf::SHT_NOBITS && kind != elf::SHT_NULL;
        let size = sh.sh_size(e);
        let data = if code && has_contents && size > 0 {
            p.need(format!("section {i} data"), sh.sh_offset(e), size)?;
            // `need` checked the range, so the conversions and the slice are in bounds.
            let start = sh.sh_offset(e) as usize;
            b[start..start + size as usize].to_vec()
        } else {
            Vec::new()
        };
        if name == b".riscv.attributes" && kind != elf::SHT_NOBITS {
            let range = sh
                .sh_offset(e)
                .checked_add(size)
                .filter(|&end| end <= b.len() as u64);
            if let Some(end) = range {
                let attrs = &b[sh.sh_offset(e) as usize..end as usize];
                if let Some(arch) = attribute_arch(attrs).and_then(Arch::parse) {
                    file.arch = arch;
                }
            }
        }
        if kind == elf::SHT_SYMTAB && symtab_index.is_none() {
            symtab_index = Some(i);
        }
        file.sections.push(Section {
            name,
            addr: sh.sh_addr(e),
            size,
            data,
            code,
            has_contents,
        });
    }
    let Some(symtab_index) = symtab_index else {
        return Ok(file);
    };
    file.has_reloc = table.iter().any(|sh| {
        matches!(sh.sh_type(e), elf::SHT_RELA | elf::SHT_REL)
            && sh.sh_link(e) as usize == symtab_index
            && sh.sh_info(e) != 0
            && sh.sh_flags(e) & u64::from(elf::SHF_ALLOC) == 0
    });
    let symbols = table
        .symbols(e, b, elf::SHT_SYMTAB)
        .map_err(p.object_err("symbol table"))?;
    for (index, sym) in symbols.iter().enumerate().skip(1) {
        let (kind, bind, shndx) = (sym.st_type(), sym.st_bind(), sym.st_shndx(e));
        if matches!(kind, elf::STT_SECTION | elf::STT_FILE)
            || shndx == elf::SHN_UNDEF
            || shndx == elf::SHN_COMMON
        {
            continue;
        }
        let name = symbols
            .symbol_name(e, sym)
            .map_err(p.object_err(&format!("symbol {index} name")))?;
        if name.is_empty() {
            continue;
        }
        let section = if shndx == elf::SHN_XINDEX {
            symbols
                .shndx(e, object::SymbolIndex(index))
                .map(|i| i as usize)
        } else if shndx < elf::SHN_LORESERVE {
            Some(shndx as usize)
        } else {
            None
        }
        .filter(|&i| i < file.sections.len());
        let mut value = sym.st_value(e);
        if e_type == elf::ET_REL {
            if let Some(s) = section {
                value = value.wrapping_add(file.sections[s].addr);
            }
        }
        file.syms.push(Symbol {
            name: name.to_vec(),
            value,
            size: sym.st_size(e),
            section,
            local: bind == elf::STB_LOCAL,
            global: bind == elf::STB_GLOBAL || bind == elf::STB_GNU_UNIQUE,
            function: matches!(kind, elf::STT_FUNC | elf::STT_GNU_IFUNC),
            object: kind == elf::STT_OBJECT,
        });
    }
    file.sorted = (0..file.syms.len()).collect();
    let syms = &file.syms;
    file.sorted
        .sort_by(|&a, &b| compare_symbols(&syms[a], &syms[b]));
    Ok(file)
}

/// The disassembly of one file in progress.
struct Dumper<'a> {
    file: &'a File,
    opts: &'a ObjdumpOptions,
    dis: Disassembler,
    out: String,
    /// libopcodes' `bytes_per_chunk`, which outlives the instruction that set it (objdump
    /// uses the stale value for the hex dump of object symbols).
    bytes_per_chunk: u64,
    /// The mapping symbols of the section being disassembled: address and state, in
    /// sorted-symbol order.
    maps: Vec<(u64, Map, Option<Arch>)>,
    /// The architecture in effect: libopcodes keeps the last one a `$x<arch>` mapping
    /// symbol named, across sections.
    arch: Arch,
}

/// How one read by the RISC-V disassembler ended.
struct Decoded {
    /// The text, or objdump's memory error (ending in a newline).
    text: String,
    /// The bytes consumed (5, EIO, after a memory error, as libopcodes returns it).
    len: u64,
    /// `bytes_per_line` set by the disassembler (0 after a memory error).
    bytes_per_line: u64,
}

impl Dumper<'_> {
    fn sym(&self, place: usize) -> &Symbol {
        &self.file.syms[self.file.sorted[place]]
    }

    fn value(&self, place: usize) -> u64 {
        self.sym(place).value
    }

    /// objdump's `sym_ok`.
    fn sym_ok(&self, want_section: bool, place: usize, sec: usize) -> bool {
        let s = self.sym(place);
        if want_section && s.section != Some(sec) {
            return false;
        }
        s.is_valid()
    }

    /// objdump's `find_symbol_for_address`: the index in the sorted symbols of the symbol
    /// to show `vma` relative to, while disassembling section `sec`.
    fn find_symbol(&self, vma: u64, sec: usize, require_sec: bool) -> Option<usize> {
        let n = self.file.sorted.len();
        if n == 0 {
            return None;
        }
        let (mut min, mut max) = (0, n);
        while min + 1 < max {
            let t = (max + min) / 2;
            let v = self.value(t);
            match v.cmp(&vma) {
                Ordering::Greater => max = t,
                Ordering::Less => min = t,
                Ordering::Equal => {
                    min = t;
                    break;
                }
            }
        }
        let mut place = min;
        while place > 0 && self.value(place) == self.value(place - 1) {
            place -= 1;
        }
        // Prefer a symbol of this section among those with the same value.
        let mut min = place;
        while min < max && self.value(min) == self.value(place) {
            if self.sym_ok(true, min, sec) {
                return Some(min);
            }
            min += 1;
        }
        let s = &self.file.sections[sec];
        let want_section = require_sec
            || (self.file.has_reloc && vma >= s.addr && vma < s.addr.wrapping_add(s.size));
        if !self.sym_ok(want_section, place, sec) {
            let mut newplace = n;
            for i in (0..min).rev() {
                if self.sym_ok(want_section, i, sec) {
                    if newplace == n {
                        newplace = i;
                    }
                    if self.value(i) != self.value(newplace) {
                        break;
                    }
                    newplace = i;
                }
            }
            if newplace != n {
                place = newplace;
            } else if let Some(i) = (place + 1..n).find(|&i| self.sym_ok(want_section, i, sec)) {
                place = i;
            }
            if !self.sym_ok(want_section, place, sec) {
                return None;
            }
        }
        Some(place)
    }

    /// objdump's `objdump_print_addr_with_sym`.
    fn addr_with_sym(&self, sec: usize, sym: Option<usize>, vma: u64, skip_zeroes: bool) -> String {
        let mut s = if skip_zeroes {
            format!("{vma:x} <")
        } else {
            format!("{vma:016x} <")
        };
        let (name, base) = match sym {
            None => {
                let sec = &self.file.sections[sec];
                (sanitize(&sec.name), sec.addr)
            }
            Some(place) => (sanitize(&self.sym(place).name), self.value(place)),
        };
        s.push_str(&name);
        match base.cmp(&vma) {
            Ordering::Equal => {}
            Ordering::Greater => {
                let _ = write!(s, "-0x{:x}", base - vma);
            }
            Ordering::Less => {
                let _ = write!(s, "+0x{:x}", vma - base);
            }
        }
        s.push('>');
        s
    }

    /// objdump's `objdump_print_address`, for operands and comments.
    fn print_address(&self, sec: usize, vma: u64) -> String {
        if self.file.sorted.is_empty() {
            return format!("0x{vma:x}");
        }
        let sym = self.find_symbol(vma, sec, false);
        self.addr_with_sym(sec, sym, vma, true)
    }

    /// objdump's `disassemble_section`.
    fn section(&mut self, sec: usize) {
        let file = self.file;
        let section = &file.sections[sec];
        let vma = section.addr;
        let stop_offset = section.data.len() as u64;
        let n = file.sorted.len();
        let _ = write!(
            self.out,
            "\nDisassembly of section {}:\n",
            sanitize(&section.name)
        );
        self.maps = file
            .sorted
            .iter()
            .map(|&k| &file.syms[k])
            .filter(|s| s.section == Some(sec))
            .filter_map(|s| {
                let arch = s.name.strip_prefix(b"$x").and_then(Arch::parse);
                Some((s.value, s.map_state()?, arch))
            })
            .collect();
        let mut sym = self.find_symbol(vma, sec, true);
        let mut place = sym.unwrap_or(0);
        let mut addr_offset = 0u64;
        while addr_offset < stop_offset {
            let addr = vma.wrapping_add(addr_offset);
            let label = self.addr_with_sym(sec, sym, addr, false);
            let _ = write!(self.out, "\n{label}:\n");
            let nextsym = match sym {
                Some(s) if self.value(s) > addr => Some(s),
                None => None,
                Some(s) => {
                    let current = self.value(s);
                    while place < n && !self.is_valid_next_sym(place, current, sec) {
                        place += 1;
                    }
                    (place < n).then_some(place)
                }
            };
            let mut nextstop_offset = match (sym, nextsym) {
                (Some(s), _) if self.value(s) > addr => self.value(s).wrapping_sub(vma),
                (_, None) => stop_offset,
                (_, Some(s)) => self.value(s).wrapping_sub(vma),
            };
            if nextstop_offset > stop_offset || nextstop_offset <= addr_offset {
                nextstop_offset = stop_offset;
            }
            // A symbol typed as an object (and not a function) is dumped as bytes.
            let insns = match sym {
                None => true,
                Some(s) => {
                    let s = self.sym(s);
                    s.section != Some(sec)
                        || s.value > addr
                        || (!s.object
                            && !contains(&s.name, b"gnu_compiled")
                            && !contains(&s.name, b"gcc2_compiled"))
                        || s.function
                }
            };
            self.bytes(sec, insns, addr_offset, nextstop_offset);
            addr_offset = nextstop_offset;
            sym = nextsym;
        }
    }

    /// objdump's `is_valid_next_sym`: a valid symbol of a section with this section's
    /// name, above the current symbol's value.
    fn is_valid_next_sym(&self, place: usize, current: u64, sec: usize) -> bool {
        let s = self.sym(place);
        let same_name = s
            .section
            .is_some_and(|i| self.file.sections[i].name == self.file.sections[sec].name);
        same_name && s.value > current && s.is_valid()
    }

    /// objdump's `disassemble_bytes` for `[start, stop)` of section `sec` (offsets).
    fn bytes(&mut self, sec: usize, insns: bool, start: u64, stop: u64) {
        let section = &self.file.sections[sec];
        let data = &section.data;
        let vma = section.addr;
        let mut octets_per_line: u64 = if insns { 4 } else { 16 };
        // Leading zeros of the address dropped in steps of four, keeping at least one.
        let last = format!("{:016x}", vma.wrapping_add(section.size));
        let mut skip_addr_chars = last.bytes().take_while(|&c| c == b'0').count();
        if skip_addr_chars == last.len() && vma != 0 {
            skip_addr_chars = 0;
        }
        if skip_addr_chars != 0 {
            skip_addr_chars = (skip_addr_chars - 1) & !3;
        }
        let addr_text = |a: u64| {
            let full = format!("{a:016x}");
            let tail = &full[skip_addr_chars..];
            let zeros = tail.bytes().take_while(|&c| c == b'0').count();
            if zeros == tail.len() {
                format!("{}0", " ".repeat(zeros - 1))
            } else {
                format!("{}{}", " ".repeat(zeros), &tail[zeros..])
            }
        };
        let byte = |j: u64| data.get(j as usize).copied().unwrap_or(0);
        let mut addr_offset = start;
        while addr_offset < stop {
            let mut octets = 0u64;
            if !self.opts.disassemble_zeroes {
                while addr_offset + octets < stop && byte(addr_offset + octets) == 0 {
                    octets += 1;
                }
            }
            if !self.opts.disassemble_zeroes
                && (octets >= 8 || (addr_offset + octets == stop && octets < 3))
            {
                if addr_offset + octets != stop {
                    octets &= !3;
                }
                self.out.push_str("\t...\n");
                addr_offset += octets;
                continue;
            }
            let pc = vma.wrapping_add(addr_offset);
            let _ = write!(self.out, "{}:\t", addr_text(pc));
            let text;
            if insns {
                self.bytes_per_chunk = 0;
                let d = self.decode(sec, pc, stop);
                if d.bytes_per_line != 0 {
                    octets_per_line = d.bytes_per_line;
                }
                octets = d.len;
                text = d.text;
            } else {
                octets = octets_per_line.min(stop - addr_offset);
                text = (addr_offset..addr_offset + octets)
                    .map(|j| {
                        let c = byte(j);
                        if (0x20..0x7f).contains(&c) {
                            c as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
            }
            let bpc = if self.bytes_per_chunk != 0 {
                self.bytes_per_chunk
            } else {
                1
            };
            let mut pb = octets.min(octets_per_line);
            let chunks = |out: &mut String, from: u64, to: u64| {
                let mut j = from;
                while j < to {
                    if j + bpc <= stop {
                        for k in (0..bpc).rev() {
                            let _ = write!(out, "{:02x}", byte(j + k));
                        }
                    }
                    out.push(' ');
                    j += bpc;
                }
            };
            chunks(&mut self.out, addr_offset, addr_offset + pb);
            let mut pad = pb;
            while pad < octets_per_line {
                for _ in 0..bpc {
                    self.out.push_str("  ");
                }
                self.out.push(' ');
                pad += bpc;
            }
            self.out.push_str(if insns { "\t" } else { "    " });
            self.out.push_str(&text);
            while pb < octets {
                self.out.push('\n');
                let j = addr_offset + pb;
                let _ = write!(self.out, "{}:\t", addr_text(vma.wrapping_add(j)));
                pb = (pb + octets_per_line).min(octets);
                chunks(&mut self.out, j, addr_offset + pb);
            }
            self.out.push('\n');
            addr_offset += octets;
        }
    }

    /// The mapping state at `addr`: that of the last mapping symbol of the section at or
    /// below it, instructions if there is none.
    fn map_state(&self, addr: u64) -> Map {
        let k = self.maps.partition_point(|&(v, _, _)| v <= addr);
        if k == 0 {
            Map::Insn
        } else {
            self.maps[k - 1].1
        }
    }

    /// Sets the architecture in effect at `addr`: that of the last `$x<arch>` mapping
    /// symbol of the section at or below it, or the one in effect before.
    fn update_arch(&mut self, addr: u64) {
        let k = self.maps.partition_point(|&(v, _, _)| v <= addr);
        if let Some(arch) = self.maps[..k].iter().rev().find_map(|m| m.2) {
            self.arch = arch;
        }
        self.dis.no_fp_aliases = !self.arch.f;
    }

    /// Whether the architecture in effect has `i` (riscv-dis.c skips the opcodes of
    /// extensions it lacks, and prints the bits as data when none is left).
    fn supported(&self, i: &Insn) -> bool {
        let a = &self.arch;
        if i.compressed.is_some() || (i.op == Op::Illegal && i.imm == 0) {
            // c.fld, c.fsd, c.fldsp and c.fsdsp need D as well as C.
            return a.c && (i.op.ext() != Some(Ext::D) || a.d);
        }
        match i.op.ext() {
            Some(Ext::F) => return a.f,
            Some(Ext::D) => return a.d,
            _ => {}
        }
        match i.op {
            Op::Mul | Op::Mulh | Op::Mulhsu | Op::Mulhu | Op::Mulw => a.m || a.zmmul,
            Op::Div
            | Op::Divu
            | Op::Rem
            | Op::Remu
            | Op::Divw
            | Op::Divuw
            | Op::Remw
            | Op::Remuw => a.m,
            Op::FenceI => a.zifencei,
            // `unimp` is a base instruction, and so are the `rdcycle`, `rdtime` and
            // `rdinstret` aliases.
            Op::Csrrw if i.rd == 0 && i.rs1 == 0 && i.csr == 0xc00 => true,
            Op::Csrrs if !self.dis.no_aliases && i.rs1 == 0 && (0xc00..=0xc02).contains(&i.csr) => {
                true
            }
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => a.zicsr,
            op if op
                .def()
                .is_some_and(|d| matches!(d.format, Format::Amo | Format::Lr)) =>
            {
                a.a
            }
            _ => true,
        }
    }

    /// riscv-dis.c's `riscv_data_length`: up to 4 bytes, not past the next mapping symbol
    /// or the section end, and 2 rather than 3.
    fn data_length(&self, sec: usize, addr: u64) -> u64 {
        let section = &self.file.sections[sec];
        let k = self.maps.partition_point(|&(v, _, _)| v <= addr);
        let limit = match self.maps.get(k) {
            Some(&(v, _, _)) => v - addr,
            None => section.addr.wrapping_add(section.size).wrapping_sub(addr),
        };
        match limit.min(4) {
            3 => 2,
            l => l,
        }
    }

    /// libopcodes' `print_insn_riscv` at `pc`, reading no further than block offset `stop`.
    fn decode(&mut self, sec: usize, pc: u64, stop: u64) -> Decoded {
        let section = &self.file.sections[sec];
        let data = &section.data;
        let offset = pc.wrapping_sub(section.addr);
        let readable = |len: u64| offset.checked_add(len).is_some_and(|end| end <= stop);
        let error = Decoded {
            text: format!("Address 0x{pc:x} is out of bounds.\n"),
            len: 5,
            bytes_per_line: 0,
        };
        let read = |len: u64| -> u64 {
            (0..len).rev().fold(0u64, |v, k| {
                (v << 8) | u64::from(data[(offset + k) as usize])
            })
        };
        if self.map_state(pc) == Map::Data {
            let len = self.data_length(sec, pc);
            self.bytes_per_chunk = len;
            if len == 0 || !readable(len) {
                return error;
            }
            let v = read(len);
            let (text, bytes_per_line) = match len {
                1 => (format!(".byte\t0x{v:02x}"), 6),
                2 => (format!(".short\t0x{v:04x}"), 8),
                _ => (format!(".word\t0x{v:08x}"), 8),
            };
            return Decoded {
                text,
                len,
                bytes_per_line,
            };
        }
        self.update_arch(pc);
        if !readable(2) {
            return error;
        }
        let len = insn_length(read(2) as u16);
        if !readable(len) {
            return error;
        }
        self.bytes_per_chunk = if len & 3 == 0 { 4 } else { 2 };
        let text = match len {
            2 if read(2) & 3 == 3 => format!(".2byte\t0x{:x}", read(2)),
            2 | 4 => {
                let bits = read(len);
                let insn = decode(bits as u32);
                if self.supported(&insn) {
                    let text = self.dis.disassemble(&insn, pc);
                    self.annotate(sec, &insn, pc, text)
                } else {
                    format!(".{len}byte\t{bits:#x}")
                }
            }
            8 => format!(".8byte\t0x{:x}", read(8)),
            _ => {
                let bytes: Vec<String> = (0..len)
                    .map(|k| format!("0x{:02x}", data[(offset + k) as usize]))
                    .collect();
                format!(".byte\t{}", bytes.join(", "))
            }
        };
        Decoded {
            text,
            len,
            bytes_per_line: 8,
        }
    }

    /// Replaces the bare addresses the instruction text ends with (a branch or jump
    /// target, or the `# address` comment) by objdump's `address <symbol+0xoffset>`.
    fn annotate(&self, sec: usize, insn: &Insn, pc: u64, mut text: String) -> String {
        let is_target = insn.op == Op::Jal || insn.op.def().is_some_and(|d| d.format == Format::B);
        let addr = if is_target {
            Some(pc.wrapping_add(insn.imm as u64))
        } else {
            text.rfind(" # ")
                .and_then(|at| u64::from_str_radix(&text[at + 3..], 16).ok())
        };
        if let Some(addr) = addr {
            let bare = format!("{addr:x}");
            if text.ends_with(&bare) {
                text.truncate(text.len() - bare.len());
                text.push_str(&self.print_address(sec, addr));
            }
        }
        text
    }
}

/// The length of the instruction whose first 16-bit parcel is `parcel`
/// (`riscv_insn_length`: 2, 4, 6, 8, 10..22, or 2 for the reserved longest encodings).
fn insn_length(parcel: u16) -> u64 {
    let p = u64::from(parcel);
    if p & 3 != 3 {
        2
    } else if p & 0x1f != 0x1f {
        4
    } else if p & 0x3f == 0x1f {
        6
    } else if p & 0x7f == 0x3f {
        8
    } else if p & 0x7f == 0x7f && p & 0x7000 != 0x7000 {
        10 + ((p >> 11) & 0xe)
    } else {
        2
    }
}

/// The extensions of an architecture string that decide what RV64IMAFDC code objdump
/// decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Arch {
    c: bool,
    f: bool,
    d: bool,
    m: bool,
    zmmul: bool,
    a: bool,
    zicsr: bool,
    zifencei: bool,
}

impl Arch {
    /// libopcodes' default without `.riscv.attributes`.
    const RV64GC: Arch = Arch {
        c: true,
        f: true,
        d: true,
        m: true,
        zmmul: true,
        a: true,
        zicsr: true,
        zifencei: true,
    };

    /// Parses an ISA string such as `rv64i2p1_m2p0_c2p0_zicsr2p0`, adding the extensions
    /// binutils implies: `g` (IMAFD, Zicsr, Zifencei), `m` (Zmmul), `f`/`d`/`q` (Zicsr),
    /// and I before version 2.1 (Zicsr, Zifencei). `None` if it is not an ISA string.
    fn parse(s: &[u8]) -> Option<Arch> {
        let s = std::str::from_utf8(s).ok()?.to_ascii_lowercase();
        let rest = ["rv32", "rv64", "rv128"]
            .iter()
            .find_map(|p| s.strip_prefix(p))?;
        let mut arch = Arch {
            c: false,
            f: false,
            d: false,
            m: false,
            zmmul: false,
            a: false,
            zicsr: false,
            zifencei: false,
        };
        let mut old_i = false;
        for part in rest.split('_').filter(|p| !p.is_empty()) {
            if part.starts_with(['z', 's', 'x']) {
                // Without its version (`zicsr2p0`): digits and `p` at the end.
                let name = part.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'p');
                match name {
                    "zicsr" => arch.zicsr = true,
                    "zifencei" => arch.zifencei = true,
                    "zmmul" => arch.zmmul = true,
                    _ => {}
                }
                continue;
            }
            let b = part.as_bytes();
            let mut k = 0;
            while k < b.len() {
                let ext = b[k];
                if !ext.is_ascii_alphabetic() {
                    return None;
                }
                k += 1;
                let digits = |k: &mut usize| {
                    let start = *k;
                    while *k < b.len() && b[*k].is_ascii_digit() {
                        *k += 1;
                    }
                    part[start..*k].parse::<u32>().ok()
                };
                let major = digits(&mut k);
                let mut minor = None;
                if major.is_some() && k < b.len() && b[k] == b'p' {
                    k += 1;
                    minor = digits(&mut k);
                }
                match ext {
                    b'i' => {
                        old_i = major.is_some_and(|m| m < 2 || (m == 2 && minor.unwrap_or(0) < 1))
                    }
                    b'g' => {
                        arch.m = true;
                        arch.a = true;
                        arch.f = true;
                        arch.d = true;
                        arch.zicsr = true;
                        arch.zifencei = true;
                    }
                    b'm' => arch.m = true,
                    b'a' => arch.a = true,
                    b'c' => arch.c = true,
                    b'f' => {
                        arch.f = true;
                        arch.zicsr = true;
                    }
                    // D implies F, and Q implies D (binutils adds them).
                    b'd' | b'q' => {
                        arch.f = true;
                        arch.d = true;
                        arch.zicsr = true;
                    }
                    _ => {}
                }
            }
        }
        arch.zmmul |= arch.m;
        if old_i {
            arch.zicsr = true;
            arch.zifencei = true;
        }
        Some(arch)
    }
}

/// Reads an unsigned LEB128 number at `*at`.
fn uleb(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// `Tag_RISCV_arch` (5) of the file-level attributes of a `.riscv.attributes` section.
fn attribute_arch(b: &[u8]) -> Option<&[u8]> {
    let le32 = |at: usize| {
        let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(u32::from_le_bytes(w) as usize)
    };
    if b.first() != Some(&b'A') {
        return None;
    }
    let mut at = 1;
    while at < b.len() {
        let len = le32(at)?;
        let end = at.checked_add(len).filter(|&e| e <= b.len() && len > 4)?;
        let vendor_end = at + 4 + b.get(at + 4..end)?.iter().position(|&c| c == 0)?;
        if &b[at + 4..vendor_end] == b"riscv" {
            let mut sub = vendor_end + 1;
            while sub < end {
                let mut p = sub;
                let tag = uleb(b, &mut p)?;
                let size = le32(p)?;
                let sub_end = sub.checked_add(size).filter(|&e| e <= end && size > 0)?;
                p += 4;
                if tag == 1 {
                    while p < sub_end {
                        let attr = uleb(b, &mut p)?;
                        if attr & 1 == 0 {
                            uleb(b, &mut p)?;
                        } else {
                            let n = b.get(p..sub_end)?.iter().position(|&c| c == 0)?;
                            if attr == 5 {
                                return Some(&b[p..p + n]);
                            }
                            p += n + 1;
                        }
                    }
                }
                sub = sub_end;
            }
        }
        at = end;
    }
    None
}
