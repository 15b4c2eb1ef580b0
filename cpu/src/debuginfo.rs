//! Naming code addresses: the symbols and DWARF line tables of one ELF.
//!
//! [`DebugInfo::parse`] reads a RISC-V ELF64 file's function symbols and, when it has them,
//! its DWARF sections; [`DebugInfo::frame`] then names a code address the way Valgrind does
//! in a call stack: `0x104a6: main (mc_leak.c:12)`, `0x10520: strlen` when the code has no
//! line information, `0x10520: ???` when no symbol covers it. It is what the memory
//! checker uses to print the call stacks of its reports.
//!
//! # Symbols
//!
//! The symbols are those of `.symtab` (or `.dynsym` when there is no `.symtab`) that are
//! defined in an executable section: `STT_FUNC`, `STT_GNU_IFUNC` and any other symbol there
//! except section, file and TLS symbols, RISC-V mapping symbols (`$x`, `$d`, ...) and
//! `.L` local labels. A sized symbol covers `[value, value + size)`; a sizeless one (a label
//! in assembly without `.size`) extends to the next symbol, or to the end of its section.
//! Where symbols nest (a label inside a sized function), a sized symbol is preferred to a
//! sizeless one, and otherwise the one that starts last (the innermost).
//!
//! Several symbols often share an address (glibc has many aliases: `malloc` and
//! `__libc_malloc`, `strlen` and `__strlen`). One name is kept per address, chosen by these
//! rules in order:
//!
//! 1. a sized symbol before a sizeless one;
//! 2. a function (`STT_FUNC`, `STT_GNU_IFUNC`) before any other type;
//! 3. fewer leading underscores (`malloc` before `__libc_malloc`, `strlen` before
//!    `__strlen`), whatever the binding: a static glibc has `malloc` as a *local* alias of
//!    the global `__libc_malloc` and `__malloc`;
//! 4. global before weak before local;
//! 5. the shorter name, and then the alphabetically first, so the choice never depends on
//!    the order of the symbol table.
//!
//! The symbols are sorted once, at parse time, and looked up by binary search.
//!
//! # Lines
//!
//! The line tables and the inlined-function trees of `.debug_info`/`.debug_line` (DWARF 2
//! to 5) are read with the `addr2line` crate, which gives the same answers as GNU
//! `addr2line -f -i`: the file with its directory joined (the full path) and the line, and
//! for code inlined from other functions the chain of inlined calls. [`Frame`] names the
//! innermost function with its own line and keeps the functions it was inlined into in
//! [`Frame::inlined_into`]. The function a frame names outside inlined code is the symbol's
//! (so the alias rules above apply to it too), and DWARF's name only where no symbol covers
//! the address. The line tables are parsed lazily, a compilation unit at a time, and each
//! address's frame is cached, since a checker asks for the same return addresses over and
//! over.
//!
//! # Bad input
//!
//! Nothing here panics on bad input. A file that is not a little-endian ELF64 RISC-V file,
//! one cut short or with malformed headers or symbol table, and malformed DWARF (every unit
//! header, DIE tree and line program is read once at parse time) are refused with an `Err`
//! that says what is wrong. A file without DWARF is symbolized by its symbols alone, and a
//! stripped one (no symbols either) gives `???` for every address. Compressed debug sections
//! (`SHF_COMPRESSED`, `.zdebug_*`) are refused: link without `--compress-debug-sections`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, SectionHeader, SectionTable, Sym};
use object::LittleEndian as LE;

/// The DWARF reader: each section's bytes copied out of the file into shared storage, so
/// that a [`DebugInfo`] does not borrow the file it was parsed from.
type Reader = gimli::EndianArcSlice<gimli::LittleEndian>;

/// How many addresses' frames the cache keeps before it starts over. A program's distinct
/// call sites number far fewer; the bound only keeps a pathological caller from growing the
/// cache without end.
const CACHE_LIMIT: usize = 1 << 16;

/// Offsets in the ELF identification bytes.
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;

/// Symbols and (when present) DWARF line tables of one ELF, for naming code addresses.
///
/// Built by [`DebugInfo::parse`]; every address given to and returned by its methods is a
/// runtime address, the file's address plus the [bias](DebugInfo::with_bias) it was loaded
/// at. See the [module documentation](self) for which symbols count and how aliases are
/// chosen. It can move to another thread (`Send`) but not be shared between threads: its
/// line tables and frame cache fill in as it is asked.
pub struct DebugInfo {
    /// The text symbols, one per start address, sorted by start.
    symbols: Vec<Symbol>,
    /// `max_end[i]`: the largest `end` of `symbols[..=i]`, to find enclosing symbols.
    max_end: Vec<u64>,
    /// The DWARF, when the file has a `.debug_info`.
    dwarf: Option<addr2line::Context<Reader>>,
    /// Whether any line program has a row.
    has_lines: bool,
    /// Added to file addresses to give runtime addresses.
    bias: u64,
    /// Frames already computed, by runtime address.
    cache: RefCell<HashMap<u64, Frame>>,
}

/// One text symbol as kept: the chosen name of the symbols at `start`.
#[derive(Debug)]
struct Symbol {
    /// File address of the first byte.
    start: u64,
    /// File address one past the last byte covered (the next symbol for a sizeless one).
    end: u64,
    /// Whether `st_size` was non-zero.
    sized: bool,
    /// The chosen name.
    name: Box<str>,
}

/// One named code address.
///
/// Its [`Display`](fmt::Display) is Valgrind's: `0x104a6: main (mc_leak.c:12)`, with the
/// file's base name only; `0x10520: strlen` without line information; `0x10520: ???`
/// without a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The (runtime) address named.
    pub addr: u64,
    /// The innermost function at `addr`: the inlined function's name (from DWARF) when
    /// `addr` is in inlined code, else the symbol's name, else DWARF's; `None` when neither
    /// the symbols nor DWARF know the address.
    pub function: Option<String>,
    /// `addr` minus the start of the symbol containing it (the physical function, also for
    /// inlined code); 0 when no symbol contains it.
    pub offset: u64,
    /// The source file of the innermost function's line, as DWARF gives it with its
    /// directory joined (as GNU addr2line prints it), e.g. `/src/mc_leak.c`.
    pub file: Option<String>,
    /// The source line; `None` when unknown (or DWARF's line 0).
    pub line: Option<u32>,
    /// When `addr` is in inlined code, the functions it was inlined into, innermost first:
    /// each with the file and line of its call of the one before. The last is the physical
    /// function (named by its symbol when there is one). Empty outside inlined code.
    pub inlined_into: Vec<InlinedCall>,
}

/// One function that inlined the code of a [`Frame`], and where it called it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlinedCall {
    /// The calling function.
    pub function: Option<String>,
    /// The source file of the call, full path as in [`Frame::file`].
    pub file: Option<String>,
    /// The line of the call.
    pub line: Option<u32>,
}

impl Frame {
    /// A frame that names nothing but its address (`0x...: ???`).
    pub fn unknown(addr: u64) -> Frame {
        Frame {
            addr,
            function: None,
            offset: 0,
            file: None,
            line: None,
            inlined_into: Vec::new(),
        }
    }

    /// The frame and each function it was inlined into as frames of their own at the same
    /// address, innermost first: the way Valgrind prints inlined calls, one `by` line each.
    /// A frame outside inlined code gives just itself.
    pub fn expand_inlined(&self) -> Vec<Frame> {
        let mut frames = vec![Frame {
            inlined_into: Vec::new(),
            ..self.clone()
        }];
        frames.extend(self.inlined_into.iter().map(|call| Frame {
            addr: self.addr,
            function: call.function.clone(),
            offset: self.offset,
            file: call.file.clone(),
            line: call.line,
            inlined_into: Vec::new(),
        }));
        frames
    }
}

/// The last component of a path (`/src/mc_leak.c` gives `mc_leak.c`).
fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#x}: {}",
            self.addr,
            self.function.as_deref().unwrap_or("???")
        )?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " ({}:{line})", base_name(file)),
            (Some(file), None) => write!(f, " ({})", base_name(file)),
            (None, _) => Ok(()),
        }
    }
}

impl fmt::Debug for DebugInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugInfo")
            .field("symbols", &self.symbols.len())
            .field("dwarf", &self.dwarf.is_some())
            .field("has_lines", &self.has_lines)
            .field("bias", &format_args!("{:#x}", self.bias))
            .finish()
    }
}

impl DebugInfo {
    /// Parse an ELF file's bytes (RISC-V ELF64). Never panics on bad input: a truncated or
    /// malformed ELF or malformed DWARF gives `Err` with a clear message; an ELF without
    /// `.debug_info`/`.debug_line` is fine (no lines, symbols only); stripped (no `.symtab`)
    /// is fine too.
    pub fn parse(bytes: &[u8]) -> Result<DebugInfo, String> {
        check_ident(bytes)?;
        if (bytes.as_ptr() as usize) & 7 == 0 {
            return Self::parse_aligned(bytes);
        }
        // The `object` crate reads headers in place and needs them aligned: copy the bytes
        // (e.g. from `include_bytes!`) into 8-byte-aligned storage.
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        object::pod::bytes_of_slice_mut(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Self::parse_aligned(&object::pod::bytes_of_slice(&words)[..bytes.len()])
    }

    /// [`parse`](Self::parse) of 8-byte-aligned bytes.
    fn parse_aligned(bytes: &[u8]) -> Result<DebugInfo, String> {
        let file = ElfFile64::<LE>::parse(bytes).map_err(|e| format!("malformed ELF: {e}"))?;
        let machine = file.elf_header().e_machine(LE);
        if machine != crate::elf::EM_RISCV {
            return Err(format!(
                "not a RISC-V ELF: e_machine is {machine}, RISC-V's is {}",
                crate::elf::EM_RISCV
            ));
        }
        let symbols = read_symbols(&file)?;
        let max_end = symbols
            .iter()
            .scan(0, |max, s: &Symbol| {
                *max = s.end.max(*max);
                Some(*max)
            })
            .collect();
        let (dwarf, has_lines) = match load_dwarf(file.elf_section_table(), bytes)? {
            Some(dwarf) => {
                let has_lines = check_dwarf(&dwarf)?;
                let context = addr2line::Context::from_dwarf(dwarf)
                    .map_err(|e| format!("malformed DWARF: {e}"))?;
                (Some(context), has_lines)
            }
            None => (None, false),
        };
        Ok(DebugInfo {
            symbols,
            max_end,
            dwarf,
            has_lines,
            bias: 0,
            cache: RefCell::new(HashMap::new()),
        })
    }

    /// Offset the ELF was loaded at (for `ET_DYN` images the loader's bias; addresses passed
    /// to [`frame`](Self::frame) are runtime addresses). Default 0.
    pub fn with_bias(mut self, bias: u64) -> DebugInfo {
        self.bias = bias;
        self.cache.get_mut().clear();
        self
    }

    /// What is known about the code address `addr` (a runtime address). Cached: asking
    /// again for the same address costs a hash lookup.
    pub fn frame(&self, addr: u64) -> Frame {
        if let Some(frame) = self.cache.borrow().get(&addr) {
            return frame.clone();
        }
        let frame = self.compute_frame(addr);
        let mut cache = self.cache.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(addr, frame.clone());
        frame
    }

    /// Whether any line information was found.
    pub fn has_lines(&self) -> bool {
        self.has_lines
    }

    /// The function symbol (`STT_FUNC`, or any sized text symbol, or a sizeless one up to
    /// the next symbol) containing the runtime address `addr`: its chosen name, its runtime
    /// start and its size (for a sizeless symbol, the distance to the next symbol).
    pub fn function(&self, addr: u64) -> Option<(&str, u64, u64)> {
        let probe = addr.checked_sub(self.bias)?;
        let s = &self.symbols[self.symbol_index(probe)?];
        Some((&s.name, s.start.wrapping_add(self.bias), s.end - s.start))
    }

    /// The index of the symbol containing the file address `probe`: the innermost sized
    /// one, else the sizeless one.
    fn symbol_index(&self, probe: u64) -> Option<usize> {
        let mut i = self
            .symbols
            .partition_point(|s| s.start <= probe)
            .checked_sub(1)?;
        let mut sizeless = None;
        loop {
            let s = &self.symbols[i];
            if probe < s.end {
                if s.sized {
                    return Some(i);
                }
                sizeless = sizeless.or(Some(i));
            }
            // Stop when no earlier symbol reaches `probe`.
            if i == 0 || self.max_end[i - 1] <= probe {
                return sizeless;
            }
            i -= 1;
        }
    }

    /// [`frame`](Self::frame) without the cache.
    fn compute_frame(&self, addr: u64) -> Frame {
        let mut frame = Frame::unknown(addr);
        let Some(probe) = addr.checked_sub(self.bias) else {
            return frame;
        };
        let symbol = self.symbol_index(probe).map(|i| &self.symbols[i]);
        if let Some(s) = symbol {
            frame.offset = probe - s.start;
        }
        let mut levels = self.dwarf_levels(probe);
        // The physical function is named by its symbol when there is one.
        match (levels.last_mut(), symbol) {
            (Some(outer), Some(s)) => outer.function = Some(s.name.to_string()),
            (Some(_), None) => {}
            (None, _) => levels.push(InlinedCall {
                function: symbol.map(|s| s.name.to_string()),
                file: None,
                line: None,
            }),
        }
        let mut levels = levels.into_iter();
        if let Some(inner) = levels.next() {
            frame.function = inner.function;
            frame.file = inner.file;
            frame.line = inner.line;
        }
        frame.inlined_into = levels.collect();
        frame
    }

    /// DWARF's function, file and line at the file address `probe`, innermost first (one
    /// entry outside inlined code), or nothing when DWARF does not cover it. A DWARF error
    /// met here (parse checked the DIEs and lines, so only something addr2line reads
    /// differently) falls back to the line table, then to nothing.
    fn dwarf_levels(&self, probe: u64) -> Vec<InlinedCall> {
        let Some(context) = &self.dwarf else {
            return Vec::new();
        };
        let mut levels = Vec::new();
        if let Ok(mut frames) = context.find_frames(probe).skip_all_loads() {
            loop {
                match frames.next() {
                    Ok(Some(f)) => levels.push(InlinedCall {
                        function: f
                            .function
                            .as_ref()
                            .and_then(|name| name.raw_name().ok())
                            .map(|name| name.into_owned()),
                        file: f.location.as_ref().and_then(|l| l.file.map(str::to_owned)),
                        line: f.location.as_ref().and_then(|l| l.line),
                    }),
                    Ok(None) => break,
                    Err(_) => {
                        levels.clear();
                        break;
                    }
                }
            }
        }
        if levels.is_empty() {
            if let Ok(Some(l)) = context.find_location(probe) {
                levels.push(InlinedCall {
                    function: None,
                    file: l.file.map(str::to_owned),
                    line: l.line,
                });
            }
        }
        levels
    }
}

/// Checks the identification bytes, for messages clearer than the ELF parser's.
fn check_ident(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"\x7fELF") {
        let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(format!(
            "not an ELF file: it starts with [{}], an ELF file with [7f 45 4c 46]",
            start.join(" ")
        ));
    }
    if bytes.len() < 64 {
        return Err(format!(
            "truncated ELF: the file is {} bytes long, shorter than the 64-byte ELF64 header",
            bytes.len()
        ));
    }
    match bytes[EI_CLASS] {
        elf::ELFCLASS64 => {}
        class => {
            return Err(format!(
                "not an ELF64 file: its class (EI_CLASS) is {class}, ELF64's is 2"
            ))
        }
    }
    match bytes[EI_DATA] {
        elf::ELFDATA2LSB => Ok(()),
        data => Err(format!(
            "not a little-endian ELF: its EI_DATA is {data}, little-endian's is 1"
        )),
    }
}

/// A symbol as read, before the aliases at one address are merged.
struct Candidate<'data> {
    start: u64,
    size: u64,
    section_end: u64,
    is_function: bool,
    bind: u8,
    name: &'data str,
}

impl Candidate<'_> {
    /// The sort key of the alias rules (see the module documentation): smaller is better.
    fn rank(&self) -> (bool, bool, usize, u8, usize, &str) {
        let binding = match self.bind {
            elf::STB_GLOBAL => 0,
            elf::STB_WEAK => 1,
            _ => 2,
        };
        (
            self.size == 0,
            !self.is_function,
            self.name.bytes().take_while(|&b| b == b'_').count(),
            binding,
            self.name.len(),
            self.name,
        )
    }
}

/// The text symbols of `.symtab` (or `.dynsym`), one per address, sorted.
fn read_symbols(file: &ElfFile64<'_, LE>) -> Result<Vec<Symbol>, String> {
    let sections = file.elf_section_table();
    // The address range of each executable section, by section index.
    let text: Vec<Option<(u64, u64)>> = sections
        .iter()
        .map(|sh| {
            let flags = sh.sh_flags(LE);
            let wanted = u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR);
            (flags & wanted == wanted).then(|| {
                let start = sh.sh_addr(LE);
                (start, start.saturating_add(sh.sh_size(LE)))
            })
        })
        .collect();
    let table = if file.elf_symbol_table().is_empty() {
        file.elf_dynamic_symbol_table()
    } else {
        file.elf_symbol_table()
    };
    let mut candidates = Vec::new();
    for (index, sym) in table.enumerate() {
        let kind = sym.st_type();
        if matches!(kind, elf::STT_SECTION | elf::STT_FILE | elf::STT_TLS) {
            continue;
        }
        let section = table
            .symbol_section(LE, sym, index)
            .map_err(|e| format!("malformed ELF symbol table: symbol {}: {e}", index.0))?;
        let Some((_, section_end)) = section.and_then(|s| text.get(s.0).copied().flatten()) else {
            continue;
        };
        let name = table
            .symbol_name(LE, sym)
            .map_err(|e| format!("malformed ELF symbol table: symbol {}: {e}", index.0))?;
        // A name that is not UTF-8 cannot be printed as it is: such symbols are skipped.
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if name.is_empty() || name.starts_with('$') || name.starts_with(".L") {
            continue;
        }
        candidates.push(Candidate {
            start: sym.st_value(LE),
            size: sym.st_size(LE),
            section_end,
            is_function: matches!(kind, elf::STT_FUNC | elf::STT_GNU_IFUNC),
            bind: sym.st_bind(),
            name,
        });
    }
    candidates.sort_unstable_by(|a, b| a.start.cmp(&b.start).then_with(|| a.rank().cmp(&b.rank())));
    candidates.dedup_by_key(|c| c.start);
    let mut symbols = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        let end = if c.size != 0 {
            c.start.saturating_add(c.size)
        } else {
            let next = candidates.get(i + 1).map_or(u64::MAX, |n| n.start);
            next.min(c.section_end)
        };
        if end > c.start {
            symbols.push(Symbol {
                start: c.start,
                end,
                sized: c.size != 0,
                name: c.name.into(),
            });
        }
    }
    Ok(symbols)
}

/// The DWARF sections, or `None` when the file has no `.debug_info`.
fn load_dwarf<'data>(
    sections: &SectionTable<'data, elf::FileHeader64<LE>, &'data [u8]>,
    bytes: &'data [u8],
) -> Result<Option<gimli::Dwarf<Reader>>, String> {
    let load = |id: gimli::SectionId| -> Result<Reader, String> {
        let name = id.name();
        let empty = || Reader::new(Arc::from(&[][..]), gimli::LittleEndian);
        let Some((_, sh)) = sections.section_by_name(LE, name.as_bytes()) else {
            let zname = format!(".zdebug{}", name.trim_start_matches(".debug"));
            if name.starts_with(".debug")
                && sections.section_by_name(LE, zname.as_bytes()).is_some()
            {
                return Err(format!(
                    "compressed debug section {zname}: not supported; \
                     link without --compress-debug-sections"
                ));
            }
            return Ok(empty());
        };
        if sh.sh_flags(LE) & u64::from(elf::SHF_COMPRESSED) != 0 {
            return Err(format!(
                "compressed debug section {name} (SHF_COMPRESSED): not supported; \
                 link without --compress-debug-sections"
            ));
        }
        if sh.sh_type(LE) == elf::SHT_NOBITS {
            return Ok(empty());
        }
        let data = sh
            .data(LE, bytes)
            .map_err(|e| format!("malformed ELF: section {name}: {e}"))?;
        Ok(Reader::new(Arc::from(data), gimli::LittleEndian))
    };
    if sections.section_by_name(LE, b".debug_info").is_none()
        && sections.section_by_name(LE, b".zdebug_info").is_none()
    {
        return Ok(None);
    }
    gimli::Dwarf::load(load).map(Some)
}

/// Reads every unit header, DIE tree and line program once, so that malformed DWARF is
/// refused at parse time; gives whether any line program has a row.
fn check_dwarf(dwarf: &gimli::Dwarf<Reader>) -> Result<bool, String> {
    let mut has_lines = false;
    let mut headers = dwarf.units();
    loop {
        let header = match headers.next() {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(has_lines),
            Err(e) => return Err(format!("malformed DWARF: .debug_info: {e}")),
        };
        let at = header.offset().as_debug_info_offset().map_or(0, |o| o.0);
        let bad = |e: gimli::Error| {
            format!("malformed DWARF: the unit at .debug_info offset {at:#x}: {e}")
        };
        let unit = dwarf.unit(header).map_err(bad)?;
        let mut entries = unit.entries();
        while entries.next_dfs().map_err(bad)?.is_some() {}
        if let Some(program) = unit.line_program.clone() {
            let mut rows = program.rows();
            while rows.next_row().map_err(bad)?.is_some() {
                has_lines = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built by tests/fixtures/debuginfo/build.sh from fixture.c (-g -O0).
    const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/debuginfo/fixture.elf");
    /// The same, `strip --strip-debug`: symbols, no DWARF.
    const NODEBUG: &[u8] = include_bytes!("../tests/fixtures/debuginfo/fixture.nodebug.elf");
    /// The same, `strip`: neither symbols nor DWARF.
    const STRIPPED: &[u8] = include_bytes!("../tests/fixtures/debuginfo/fixture.stripped.elf");
    /// GNU `addr2line -a -f -i` for every instruction of the fixture's `.text`.
    const GNU: &str = include_str!("../tests/fixtures/debuginfo/addr2line.tsv");

    /// Where the fixture's sources are recorded (build.sh's -ffile-prefix-map).
    const SRC: &str = "/vmlab-fixtures/debuginfo/fixture.c";

    fn fixture() -> DebugInfo {
        DebugInfo::parse(FIXTURE).expect("the fixture parses")
    }

    /// The file address of a symbol kept under `name`.
    fn symbol(di: &DebugInfo, name: &str) -> u64 {
        di.symbols
            .iter()
            .find(|s| &*s.name == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .start
    }

    /// `"name+0x12"` or `"name"` to a file address.
    fn at(di: &DebugInfo, spec: &str) -> u64 {
        match spec.split_once('+') {
            Some((name, off)) => {
                let off = u64::from_str_radix(off.trim_start_matches("0x"), 16).unwrap();
                symbol(di, name) + off
            }
            None => symbol(di, spec),
        }
    }

    /// A section's file address and bytes, and its header's file offset.
    fn section(bytes: &[u8], name: &str) -> (u64, Vec<u8>, usize) {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        object::pod::bytes_of_slice_mut(&mut words)[..bytes.len()].copy_from_slice(bytes);
        let bytes = &object::pod::bytes_of_slice(&words)[..bytes.len()];
        let file = ElfFile64::<LE>::parse(bytes).unwrap();
        let (index, sh) = file
            .elf_section_table()
            .section_by_name(LE, name.as_bytes())
            .unwrap();
        let shoff = file.elf_header().e_shoff(LE) as usize;
        (
            sh.sh_addr(LE),
            sh.data(LE, bytes).unwrap().to_vec(),
            shoff + index.0 * 64,
        )
    }

    /// The start of every instruction of `.text` (RVC: 2 bytes when the low bits are not
    /// 0b11, else 4).
    fn text_instructions(bytes: &[u8]) -> Vec<u64> {
        let (addr, data, _) = section(bytes, ".text");
        let mut out = Vec::new();
        let mut off = 0;
        while off < data.len() {
            out.push(addr + off as u64);
            off += if data[off] & 3 == 3 { 4 } else { 2 };
        }
        out
    }

    /// One function-with-line as GNU addr2line prints it: `name@file:line`, with `??` and
    /// `?`/`0` for unknowns.
    fn gnu_level(text: &str) -> (Option<String>, Option<String>, Option<u32>) {
        let (name, place) = text.split_once('@').unwrap();
        let (file, line) = place.rsplit_once(':').unwrap();
        let known = |s: &str| (s != "??").then(|| s.to_string());
        (
            known(name),
            known(file),
            line.parse().ok().filter(|&l| l != 0),
        )
    }

    /// Names GNU addr2line takes from DWARF where the symbolizer prefers an alias (the
    /// physical function only; the alias rules of the module documentation).
    const ALIASES: &[(&str, &str)] = &[("__impl_square", "square")];

    #[test]
    fn agrees_with_gnu_addr2line_on_every_instruction() {
        let di = fixture();
        assert!(di.has_lines());
        let table: Vec<(u64, &str)> = GNU
            .lines()
            .map(|l| {
                let (addr, chain) = l.split_once('\t').unwrap();
                (u64::from_str_radix(addr, 16).unwrap(), chain)
            })
            .collect();
        // The table covers the text, every instruction of it.
        let addrs: Vec<u64> = table.iter().map(|&(a, _)| a).collect();
        assert_eq!(addrs, text_instructions(FIXTURE));
        let mut inlined = 0;
        for &(addr, chain) in &table {
            let mut want: Vec<_> = chain.split(" | ").map(gnu_level).collect();
            let outer = want.last_mut().unwrap();
            if let Some(&(_, alias)) = ALIASES
                .iter()
                .find(|(gnu, _)| outer.0.as_deref() == Some(gnu))
            {
                outer.0 = Some(alias.to_string());
            }
            let frame = di.frame(addr);
            let got: Vec<_> = frame
                .expand_inlined()
                .into_iter()
                .map(|f| (f.function, f.file, f.line))
                .collect();
            assert_eq!(got, want, "{addr:#x}: {frame}");
            // The offset is from the physical function's symbol.
            let (_, start, size) = di.function(addr).unwrap();
            assert_eq!(frame.offset, addr - start);
            assert!(addr < start + size);
            inlined += usize::from(!frame.inlined_into.is_empty());
        }
        assert!(inlined > 0, "the fixture has inlined code");
    }

    /// Checks `frame(at(spec))`: its Display without the address, and then each function it
    /// was inlined into, joined by " <- ".
    fn check(di: &DebugInfo, spec: &str, want: &str) {
        let addr = at(di, spec);
        let frame = di.frame(addr);
        let got: Vec<String> = frame
            .expand_inlined()
            .iter()
            .map(|f| {
                let text = f.to_string();
                let prefix = format!("{addr:#x}: ");
                text.strip_prefix(&prefix).unwrap().to_string()
            })
            .collect();
        assert_eq!(got.join(" <- "), want, "{spec} ({addr:#x})");
    }

    #[test]
    fn frames_name_function_file_and_line() {
        let di = fixture();
        for (spec, want) in [
            ("add", "add (fixture.c:15)"),
            ("add+0xe", "add (fixture.c:16)"),
            ("sum_to+0x18", "sum_to (fixture.c:23)"),
            // twice() inlined into uses_inline(): the innermost function with its line,
            // then its caller at the call's line.
            (
                "uses_inline+0x12",
                "twice (fixture.c:9) <- uses_inline (fixture.c:29)",
            ),
            (
                "uses_inline+0x36",
                "twice (fixture.c:11) <- uses_inline (fixture.c:29)",
            ),
            ("uses_inline+0x3a", "uses_inline (fixture.c:29)"),
            // Three symbols at one address (square, _square, __impl_square); DWARF says
            // __impl_square.
            ("square", "square (fixture.c:35)"),
            ("exit_with+0x12", "exit_with (fixture.c:46)"),
            // A label without size or type; the line table's last row reaches it.
            ("sizeless", "sizeless (fixture.c:46)"),
            ("sizeless+4", "sizeless (fixture.c:46)"),
            ("_start", "_start (fixture.c:58)"),
        ] {
            check(&di, spec, want);
        }
        let frame = di.frame(at(&di, "uses_inline+0x12"));
        assert_eq!(frame.file.as_deref(), Some(SRC));
        assert_eq!(frame.offset, 0x12);
        assert_eq!(
            frame.inlined_into,
            vec![InlinedCall {
                function: Some("uses_inline".into()),
                file: Some(SRC.into()),
                line: Some(29),
            }]
        );
        // Outside the text: nothing.
        let (text, data, _) = section(FIXTURE, ".text");
        let end = text + data.len() as u64;
        for addr in [
            0,
            text - 2,
            end,
            end + 0x100,
            symbol(&di, "_start") + 0x10_0000,
        ] {
            assert_eq!(di.frame(addr), Frame::unknown(addr));
            assert_eq!(di.frame(addr).to_string(), format!("{addr:#x}: ???"));
        }
        assert_eq!(
            di.frame(at(&di, "add+0xe")).to_string(),
            format!("{:#x}: add (fixture.c:16)", at(&di, "add+0xe"))
        );
    }

    #[test]
    fn function_symbols() {
        let di = fixture();
        let (text, data, _) = section(FIXTURE, ".text");
        let end = text + data.len() as u64;
        for (spec, name, size) in [
            ("add", "add", 32),
            ("add+0x1e", "add", 32),
            ("sum_to+4", "sum_to", 76),
            ("uses_inline+0x12", "uses_inline", 76),
            // Aliases: square over _square and __impl_square.
            ("square+2", "square", 26),
            ("exit_with", "exit_with", 24),
            // Sizeless: up to the next symbol (_start).
            ("sizeless+2", "sizeless", 6),
            ("_start+0x44", "_start", 70),
        ] {
            let addr = at(&di, spec);
            let start = symbol(&di, name);
            assert_eq!(di.function(addr), Some((name, start, size)), "{spec}");
        }
        // Mapping symbols ($x...) and data symbols are not functions; nothing past the text.
        assert!(di.symbols.iter().all(|s| !s.name.starts_with('$')));
        assert!(!di.symbols.iter().any(|s| &*s.name == "counter"));
        // One name per address.
        for alias in ["_square", "__impl_square"] {
            assert!(!di.symbols.iter().any(|s| &*s.name == alias));
        }
        assert_eq!(di.function(end), None);
        assert_eq!(di.function(text - 1), None);
        assert_eq!(di.function(0), None);
        assert_eq!(di.function(u64::MAX), None);
    }

    /// A candidate for the alias rules: (name, binding, type, size).
    fn best(symbols: &[(&'static str, u8, u8, u64)]) -> &'static str {
        let mut c: Vec<Candidate<'static>> = symbols
            .iter()
            .map(|&(name, bind, kind, size)| Candidate {
                start: 0x1000,
                size,
                section_end: 0x2000,
                is_function: matches!(kind, elf::STT_FUNC | elf::STT_GNU_IFUNC),
                bind,
                name,
            })
            .collect();
        c.sort_by(|a, b| a.rank().cmp(&b.rank()));
        c[0].name
    }

    #[test]
    fn alias_rules() {
        use elf::{STB_GLOBAL as G, STB_LOCAL as L, STB_WEAK as W};
        use elf::{STT_FUNC as F, STT_GNU_IFUNC as I, STT_NOTYPE as N, STT_OBJECT as O};
        for (symbols, want) in [
            // A static glibc's malloc: a local alias of two globals.
            (
                &[
                    ("__libc_malloc", G, F, 8),
                    ("malloc", L, F, 8),
                    ("__malloc", G, F, 8),
                ][..],
                "malloc",
            ),
            (&[("__strlen", G, F, 8), ("strlen", W, F, 8)], "strlen"),
            (
                &[
                    ("__libc_write", G, F, 8),
                    ("__write", W, F, 8),
                    ("write", W, F, 8),
                ],
                "write",
            ),
            (
                &[
                    ("memcpy", W, F, 8),
                    ("memcpy", G, F, 8),
                    ("memmove", G, F, 8),
                ],
                "memcpy",
            ),
            (
                &[
                    ("_square", G, F, 8),
                    ("square", G, F, 8),
                    ("__impl_square", G, F, 8),
                ],
                "square",
            ),
            // Sized before sizeless, function before other types; global before weak
            // before local.
            (&[("label", G, N, 0), ("__f", G, F, 8)], "__f"),
            (&[("table", G, O, 8), ("__f", G, F, 8)], "__f"),
            (&[("resolver", G, N, 8), ("__ifunc", G, I, 8)], "__ifunc"),
            (&[("f", L, F, 8), ("__f", W, F, 8)], "f"),
            (&[("f", L, F, 8), ("g", W, F, 8), ("h", G, F, 8)], "h"),
            (&[("f", L, F, 8), ("g", W, F, 8)], "g"),
            // Same rank but length, then the name.
            (&[("fooo", G, F, 8), ("foo", G, F, 8)], "foo"),
            (
                &[("bar", G, F, 8), ("baz", G, F, 8), ("abc", G, F, 8)],
                "abc",
            ),
        ] {
            assert_eq!(best(symbols), want, "{symbols:?}");
            let mut reversed = symbols.to_vec();
            reversed.reverse();
            assert_eq!(best(&reversed), want, "order does not matter: {symbols:?}");
        }
    }

    /// A DebugInfo with the given symbols (start, end, sized, name), sorted, and no DWARF.
    fn with_symbols(symbols: &[(u64, u64, bool, &str)]) -> DebugInfo {
        let symbols: Vec<Symbol> = symbols
            .iter()
            .map(|&(start, end, sized, name)| Symbol {
                start,
                end,
                sized,
                name: name.into(),
            })
            .collect();
        let max_end = symbols
            .iter()
            .scan(0, |m, s| {
                *m = s.end.max(*m);
                Some(*m)
            })
            .collect();
        DebugInfo {
            symbols,
            max_end,
            dwarf: None,
            has_lines: false,
            bias: 0,
            cache: RefCell::new(HashMap::new()),
        }
    }

    #[test]
    fn nested_symbols() {
        // f is sized [0x100, 0x200) with a label inside and a sized g inside too; a
        // sizeless m alone further on.
        let di = with_symbols(&[
            (0x100, 0x200, true, "f"),
            (0x150, 0x160, false, "label"),
            (0x160, 0x170, true, "g"),
            (0x300, 0x400, false, "m"),
        ]);
        for (addr, want) in [
            (0xff, None),
            (0x100, Some("f")),
            (0x155, Some("f")), // sized over sizeless
            (0x160, Some("g")), // the innermost
            (0x16f, Some("g")),
            (0x170, Some("f")), // back out to the enclosing one
            (0x1ff, Some("f")),
            (0x200, None),
            (0x300, Some("m")),
            (0x3ff, Some("m")),
            (0x400, None),
        ] {
            assert_eq!(di.function(addr).map(|f| f.0), want, "{addr:#x}");
        }
    }

    #[test]
    fn bias_moves_every_address() {
        const BIAS: u64 = 0x4000_0000;
        let plain = fixture();
        let di = fixture().with_bias(BIAS);
        let add = symbol(&di, "add");
        assert_eq!(di.function(add + BIAS + 4), Some(("add", add + BIAS, 32)));
        let frame = di.frame(add + BIAS + 0xe);
        assert_eq!(
            frame.to_string(),
            format!("{:#x}: add (fixture.c:16)", add + BIAS + 0xe)
        );
        assert_eq!(frame.offset, 0xe);
        // Every address names the same as without bias, moved.
        for addr in text_instructions(FIXTURE) {
            let want = Frame {
                addr: addr + BIAS,
                ..plain.frame(addr)
            };
            assert_eq!(di.frame(addr + BIAS), want);
        }
        // Below the bias (or the unbiased address): nothing.
        for addr in [0, add, BIAS - 1] {
            assert_eq!(di.frame(addr), Frame::unknown(addr));
            assert_eq!(di.function(addr), None);
        }
    }

    #[test]
    fn without_dwarf_symbols_only() {
        let di = DebugInfo::parse(NODEBUG).unwrap();
        assert!(!di.has_lines());
        assert!(di.dwarf.is_none());
        let full = fixture();
        for addr in text_instructions(NODEBUG) {
            let frame = di.frame(addr);
            let (name, start, _) = di.function(addr).unwrap();
            assert_eq!(di.function(addr), full.function(addr));
            let want = Frame {
                function: Some(name.to_string()),
                offset: addr - start,
                ..Frame::unknown(addr)
            };
            assert_eq!(frame, want);
            assert_eq!(frame.to_string(), format!("{addr:#x}: {name}"));
        }
    }

    #[test]
    fn stripped_names_nothing() {
        let di = DebugInfo::parse(STRIPPED).unwrap();
        assert!(!di.has_lines());
        assert!(di.symbols.is_empty());
        for addr in text_instructions(STRIPPED) {
            assert_eq!(di.function(addr), None);
            assert_eq!(di.frame(addr), Frame::unknown(addr));
            assert_eq!(di.frame(addr).to_string(), format!("{addr:#x}: ???"));
        }
    }

    /// Parses `bytes`; when it parses, names every text address of the fixture.
    fn parse_and_use(bytes: &[u8]) -> Result<(), String> {
        let di = DebugInfo::parse(bytes)?;
        for addr in text_instructions(FIXTURE) {
            let frame = di.frame(addr);
            let _ = (frame.to_string(), di.function(addr));
        }
        Ok(())
    }

    #[test]
    fn truncated_files_never_panic() {
        for elf in [FIXTURE, NODEBUG, STRIPPED] {
            // Every prefix (the fixtures are small), which covers the first 512 bytes.
            let mut refused = 0;
            for len in 0..elf.len() {
                if let Err(e) = parse_and_use(&elf[..len]) {
                    assert!(!e.is_empty());
                    refused += 1;
                }
            }
            // The section headers are at the end: almost every cut loses them.
            assert!(refused > elf.len() * 9 / 10, "{refused} of {}", elf.len());
            assert!(parse_and_use(elf).is_ok());
        }
        for (len, want) in [
            (0, "not an ELF file: it starts with []"),
            (3, "not an ELF file: it starts with [7f 45 4c]"),
            (40, "truncated ELF: the file is 40 bytes long"),
            (100, "malformed ELF"),
            (FIXTURE.len() - 1, "malformed ELF"),
        ] {
            let e = DebugInfo::parse(&FIXTURE[..len]).unwrap_err();
            assert!(e.starts_with(want), "{len}: {e}");
        }
    }

    /// A fixed xorshift stream, for garbage.
    fn garbage(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn garbage_is_refused() {
        let patched = |at: usize, bytes: &[u8]| {
            let mut elf = FIXTURE.to_vec();
            elf[at..at + bytes.len()].copy_from_slice(bytes);
            elf
        };
        let mut elf_garbage = b"\x7fELF\x02\x01\x01".to_vec();
        elf_garbage.extend(garbage(7, 4096));
        for (bytes, want) in [
            (
                b"hello, world".to_vec(),
                "not an ELF file: it starts with [68 65 6c 6c]",
            ),
            (garbage(1, 4096), "not an ELF file"),
            (garbage(2, 64), "not an ELF file"),
            (elf_garbage, "malformed ELF"),
            (
                patched(4, &[1]),
                "not an ELF64 file: its class (EI_CLASS) is 1",
            ),
            (
                patched(5, &[2]),
                "not a little-endian ELF: its EI_DATA is 2",
            ),
            (
                patched(18, &62u16.to_le_bytes()),
                "not a RISC-V ELF: e_machine is 62",
            ),
            // The section headers said to lie past the end of the file.
            (patched(40, &u64::MAX.to_le_bytes()), "malformed ELF"),
        ] {
            let e = DebugInfo::parse(&bytes).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        for seed in 0..64 {
            let mut bytes = FIXTURE[..64].to_vec();
            bytes.extend(garbage(seed, 2048));
            let _ = parse_and_use(&bytes);
        }
    }

    #[test]
    fn malformed_dwarf_is_refused() {
        let (_, info, _) = section(FIXTURE, ".debug_info");
        let info_at = FIXTURE.windows(info.len()).position(|w| w == info).unwrap();
        let (_, line, _) = section(FIXTURE, ".debug_line");
        let line_at = FIXTURE.windows(line.len()).position(|w| w == line).unwrap();
        let (_, _, info_header) = section(FIXTURE, ".debug_info");
        let patched = |at: usize, bytes: &[u8]| {
            let mut elf = FIXTURE.to_vec();
            elf[at..at + bytes.len()].copy_from_slice(bytes);
            elf
        };
        for (bytes, want) in [
            // A unit length past the section's end.
            (
                patched(info_at, &0x7fff_0000u32.to_le_bytes()),
                "malformed DWARF",
            ),
            // A DWARF version that does not exist.
            (patched(info_at + 4, &9u16.to_le_bytes()), "malformed DWARF"),
            // The line program's version.
            (patched(line_at + 4, &9u16.to_le_bytes()), "malformed DWARF"),
            // .debug_info marked SHF_COMPRESSED (sh_flags is 8 bytes into the header).
            (
                patched(
                    info_header + 8,
                    &u64::from(elf::SHF_COMPRESSED).to_le_bytes(),
                ),
                "compressed debug section .debug_info",
            ),
        ] {
            let e = DebugInfo::parse(&bytes).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
    }

    #[test]
    fn corrupted_dwarf_never_panics() {
        // Every byte of every DWARF section set to 0x00, 0xff and flipped in its top bit:
        // refused or parsed, never a panic, and every frame still answers.
        let mut parsed = 0;
        let mut refused = 0;
        for name in [
            ".debug_info",
            ".debug_abbrev",
            ".debug_line",
            ".debug_aranges",
            ".debug_str",
            ".debug_line_str",
        ] {
            let (_, data, _) = section(FIXTURE, name);
            let at = FIXTURE.windows(data.len()).position(|w| w == data).unwrap();
            for i in at..at + data.len() {
                for change in [|_| 0x00, |_| 0xff, |b| b ^ 0x80] {
                    let mut elf = FIXTURE.to_vec();
                    elf[i] = change(elf[i]);
                    match parse_and_use(&elf) {
                        Ok(()) => parsed += 1,
                        Err(e) => {
                            assert!(e.starts_with("malformed DWARF"), "{e}");
                            refused += 1;
                        }
                    }
                }
            }
        }
        assert!(
            parsed > 0 && refused > 0,
            "{parsed} parsed, {refused} refused"
        );
    }

    #[test]
    fn frames_are_cached() {
        let di = fixture();
        let addr = at(&di, "uses_inline+0x12");
        let first = di.frame(addr);
        assert_eq!(di.cache.borrow().len(), 1);
        assert_eq!(di.frame(addr), first);
        assert_eq!(di.cache.borrow().len(), 1);
        // The checker may hand the symbolizer to another thread.
        fn send<T: Send>() {}
        send::<DebugInfo>();
    }

    #[test]
    fn display_is_valgrinds() {
        let frame = |function: Option<&str>, file: Option<&str>, line: Option<u32>| Frame {
            function: function.map(str::to_owned),
            file: file.map(str::to_owned),
            line,
            ..Frame::unknown(0x104a6)
        };
        for (frame, want) in [
            (
                frame(Some("main"), Some("/home/u/mc_leak.c"), Some(12)),
                "0x104a6: main (mc_leak.c:12)",
            ),
            (
                frame(Some("main"), Some("mc_leak.c"), Some(12)),
                "0x104a6: main (mc_leak.c:12)",
            ),
            (frame(Some("strlen"), None, None), "0x104a6: strlen"),
            (
                frame(Some("f"), Some("/src/dir/f.c"), None),
                "0x104a6: f (f.c)",
            ),
            (frame(None, Some("/a/b.c"), Some(3)), "0x104a6: ??? (b.c:3)"),
            (frame(None, None, None), "0x104a6: ???"),
        ] {
            assert_eq!(frame.to_string(), want);
        }
    }

    /// A static glibc program with -g: parse time, main named with its line, libc's
    /// functions by their symbols. Needs the cross compiler, so it is run by hand:
    /// `cargo test --release -p vmlab-cpu debuginfo -- --ignored --nocapture`.
    #[test]
    #[ignore = "needs riscv64-linux-gnu-gcc"]
    fn static_glibc_program() {
        let dir = std::env::temp_dir().join(format!("vmlab-debuginfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("t.c");
        let exe = dir.join("t");
        std::fs::write(
            &src,
            "#include <stdlib.h>\n#include <string.h>\nint main(int argc, char **argv)\n{\n    \
             char *p = malloc(strlen(argv[0]) + 1);\n    free(p);\n    return 0;\n}\n",
        )
        .unwrap();
        let status = std::process::Command::new("riscv64-linux-gnu-gcc")
            .args(["-g", "-static", "-o"])
            .arg(&exe)
            .arg(&src)
            .status()
            .expect("riscv64-linux-gnu-gcc");
        assert!(status.success());
        let bytes = std::fs::read(&exe).unwrap();
        let t = std::time::Instant::now();
        let di = DebugInfo::parse(&bytes).unwrap();
        let parsed = t.elapsed();
        eprintln!(
            "{} bytes, {} text symbols: parsed in {parsed:?}",
            bytes.len(),
            di.symbols.len()
        );
        let main = symbol(&di, "main");
        let frame = di.frame(main + 8);
        eprintln!("{frame}");
        assert_eq!(frame.function.as_deref(), Some("main"));
        assert_eq!(frame.file.as_deref().map(base_name), Some("t.c"));
        assert!(frame.line.is_some());
        for name in ["malloc", "strlen", "free", "memcpy"] {
            let addr = symbol(&di, name);
            let frame = di.frame(addr + 4);
            eprintln!("{frame}");
            assert_eq!(frame.function.as_deref(), Some(name));
            assert_eq!(frame.line, None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
