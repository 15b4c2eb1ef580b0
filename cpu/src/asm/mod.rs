//! The assembler: GNU as RISC-V syntax to a linked, runnable ELF64 executable.
//!
//! [`assemble`] reads the programs people write for GNU as (`riscv64-unknown-elf-as
//! -march=rv64imac_zicsr_zifencei`): labels and numeric local labels, the usual section,
//! data, alignment and symbol directives, expressions, `%hi`/`%lo`/`%pcrel_hi`/`%pcrel_lo`,
//! the standard pseudo-instructions, explicit `c.*` instructions and, under `.option rvc`
//! (the default), automatic compression exactly where GNU as compresses. It then lays the
//! sections out as `programs/elf/link.ld` does with `ld --no-relax` (`.text` at
//! [`AsmOptions::text_base`], `.rodata` after it, `.tohost`, `.data` and `.bss` from the
//! next 4 KiB page) and resolves every symbol: the result, an [`Object`], is the linked
//! program; [`Object::to_elf`] writes it as an `ET_EXEC` file that
//! [`Elf::parse`](crate::elf::Elf::parse) loads.
//!
//! The accepted syntax, the directives, the pseudo-instructions, the layout and the error
//! format are described in `docs/asm.md`. Conformance: `cpu/tests/asm.rs` assembles every
//! line of the GNU as fixtures in `cpu/tests/fixtures/gnu/` and whole programs whose bytes
//! were produced by GNU as and ld (`cpu/tests/fixtures/asm/`).
//!
//! Errors are data: every problem becomes an [`AsmError`] naming the file, line and
//! column, with the source line and a caret; several are collected before giving up.
//! No input makes the assembler panic or run away: the output is capped at 256 MiB.

mod elf;
mod expr;
mod lex;
mod link;
mod parse;

use std::fmt;

/// Options of [`assemble`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmOptions {
    /// The address of `.text` (the first output section). Default `0x8000_0000`, the start
    /// of RAM.
    pub text_base: u64,
    /// Whether compression (RVC) starts enabled, as with `-march=rv64imac`. `.option rvc`
    /// and `.option norvc` change it within the source. Default `true`.
    pub rvc: bool,
    /// Where the writable sections (`.tohost`, `.data`, `.bss`, ...) start: `None` (the
    /// default) on the 4 KiB page after the read-only ones, as `programs/elf/link.ld` lays
    /// them out; `Some(addr)` at `addr` (for a segmented address space, where data lives
    /// in a segment of its own). It must lie above the read-only sections.
    pub data_base: Option<u64>,
}

impl Default for AsmOptions {
    fn default() -> Self {
        AsmOptions {
            text_base: 0x8000_0000,
            rvc: true,
            data_base: None,
        }
    }
}

/// One output section of the linked program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The name (`.text`, `.rodata`, `.tohost`, `.data`, `.bss`, or the name of another
    /// section the source declared).
    pub name: String,
    /// The address of its first byte (0 for sections that are not loaded).
    pub addr: u64,
    /// Its size in memory.
    pub size: u64,
    /// Its contents (empty when `nobits`).
    pub data: Vec<u8>,
    /// Its alignment in bytes.
    pub align: u64,
    /// Whether it is loaded into memory.
    pub alloc: bool,
    /// Whether it is writable.
    pub write: bool,
    /// Whether it holds code.
    pub exec: bool,
    /// Whether it has no contents in the file (`.bss`).
    pub nobits: bool,
}

/// What a symbol names (its ELF symbol type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// No type given.
    NoType,
    /// `.type sym, @object`.
    Object,
    /// `.type sym, @function`.
    Function,
}

/// A symbol of the linked program: a label, or a value set with `.equ`/`.set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The name.
    pub name: String,
    /// Its value: an address for labels.
    pub value: u64,
    /// The size given by `.size` (or `.comm`), else 0.
    pub size: u64,
    /// Whether it is global (`.globl`, `.weak`, `.comm`).
    pub global: bool,
    /// Whether it is weak.
    pub weak: bool,
    /// Its type.
    pub kind: SymbolKind,
    /// The output section of a label; `None` for absolute values.
    pub section: Option<String>,
}

/// A linked program: sections at their addresses, symbols, the entry point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// The output sections in address order (sections that are not loaded last).
    pub sections: Vec<Section>,
    /// The symbols (labels and `.equ` values; numeric local labels and `.L` names are left
    /// out, as GNU as leaves them out).
    pub symbols: Vec<Symbol>,
    /// The entry point: `_start` if it is defined, else the start of `.text`.
    pub entry: u64,
    /// The ELF header's `e_flags`: `EF_RISCV_RVC` (1) when compression was enabled,
    /// soft-float ABI.
    pub flags: u32,
    /// Where instructions are: `(address, length in bytes)` runs, sorted.
    pub code: Vec<(u64, u64)>,
    /// The source file name, written as the ELF `STT_FILE` symbol.
    pub file_name: Option<String>,
}

impl Object {
    /// The output section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The value of the symbol `name`.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value)
    }

    /// The linked program as an ELF64 little-endian RISC-V executable (`ET_EXEC`): one
    /// `PT_LOAD` segment for code and read-only data (R+X), one for writable data (RW),
    /// section headers, `.symtab`, `.strtab` and `.shstrtab`.
    pub fn to_elf(&self) -> Vec<u8> {
        elf::write(self)
    }
}

/// One assembly error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// The file name given to [`assemble`].
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1 (in characters).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The source line.
    pub source_line: String,
}

impl fmt::Display for AsmError {
    /// `file:line:col: error: message`, then the source line and a caret under the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.column, self.message
        )?;
        writeln!(f, "{}", self.source_line)?;
        // Keep tabs so the caret lines up under the column in a terminal.
        let pad: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad}^")
    }
}

/// Every error of one [`assemble`] call (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmErrors(pub Vec<AsmError>);

impl fmt::Display for AsmErrors {
    /// Each error as [`AsmError`] shows it, separated by newlines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, e) in self.0.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AsmErrors {}

/// Reads the file an `.include` names: given the including file's name and the quoted
/// name, the included file's name (for messages and nested includes) and its text.
pub type IncludeResolver<'a> = &'a dyn Fn(&str, &str) -> Result<(String, String), String>;

/// How deep `.include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The quoted file name of a line that is an `.include "name"` directive (optionally
/// followed by a `#` comment).
fn include_target(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix(".include")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('"')?;
    let (name, tail) = rest.split_once('"')?;
    let tail = tail.trim();
    (tail.is_empty() || tail.starts_with('#')).then_some(name)
}

/// Splices every `.include "name"` line of `source` (and of the files it includes) in
/// place, recording for each line of the result the file and line it came from.
fn expand_includes(
    source: &str,
    file_name: &str,
    resolve: IncludeResolver,
    depth: usize,
    out: &mut Vec<(String, usize, String)>,
    errors: &mut Vec<(usize, usize, String)>,
) {
    for (i, line) in source.split('\n').enumerate() {
        let Some(name) = include_target(line) else {
            out.push((file_name.to_string(), i, line.to_string()));
            continue;
        };
        let at = out.len();
        // The directive's own line stays (as a blank), so the included text follows it.
        out.push((file_name.to_string(), i, line.to_string()));
        if depth >= MAX_INCLUDE_DEPTH {
            errors.push((at, 0, format!("`.include` nested more than {MAX_INCLUDE_DEPTH} deep; is a file including itself?")));
            continue;
        }
        match resolve(file_name, name) {
            Ok((path, text)) => expand_includes(&text, &path, resolve, depth + 1, out, errors),
            Err(e) => errors.push((at, 0, format!("cannot include \"{name}\": {e}"))),
        }
    }
}

/// Assembles and links `source`; `file_name` names it in errors and in the ELF symbol
/// table. An `.include` is an error (use [`assemble_with_includes`]).
pub fn assemble(source: &str, file_name: &str, opts: &AsmOptions) -> Result<Object, AsmErrors> {
    let refuse = |_: &str, _: &str| -> Result<(String, String), String> {
        Err("this assembly has no files to include from".into())
    };
    assemble_with_includes(source, file_name, opts, &refuse)
}

/// [`assemble`], with `.include "name"` lines (each alone on its line) replaced by the text
/// `resolve` gives for them, as GNU as does; errors in an included file name that file and
/// its line.
pub fn assemble_with_includes(
    source: &str,
    file_name: &str,
    opts: &AsmOptions,
    resolve: IncludeResolver,
) -> Result<Object, AsmErrors> {
    let mut expanded = Vec::new();
    let mut include_errors = Vec::new();
    let has_include = source.split('\n').any(|l| include_target(l).is_some());
    let joined;
    let source = if has_include {
        expand_includes(
            source,
            file_name,
            resolve,
            0,
            &mut expanded,
            &mut include_errors,
        );
        // The directive lines themselves assemble to nothing.
        joined = expanded
            .iter()
            .map(|(_, _, l)| {
                if include_target(l).is_some() {
                    ""
                } else {
                    l.as_str()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        joined.as_str()
    } else {
        source
    };
    let lines: Vec<&str> = if has_include {
        expanded.iter().map(|(_, _, l)| l.as_str()).collect()
    } else {
        source.split('\n').collect()
    };
    let origin = |line: usize| -> (String, usize) {
        match expanded.get(line) {
            Some((f, l, _)) => (f.clone(), *l),
            None => (file_name.to_string(), line),
        }
    };
    let make = |errs: Vec<(parse::Loc, String)>| {
        AsmErrors(
            errs.into_iter()
                .map(|(loc, message)| {
                    let line = lines
                        .get(loc.line)
                        .copied()
                        .unwrap_or("")
                        .trim_end_matches('\r');
                    let col = loc.col.min(line.len());
                    let col = (0..=col)
                        .rev()
                        .find(|&c| line.is_char_boundary(c))
                        .unwrap_or(0);
                    let (file, line_no) = origin(loc.line);
                    AsmError {
                        file,
                        line: line_no + 1,
                        column: line[..col].chars().count() + 1,
                        message,
                        source_line: line.to_string(),
                    }
                })
                .collect(),
        )
    };
    if !include_errors.is_empty() {
        let errs = include_errors
            .into_iter()
            .map(|(line, col, m)| (parse::Loc { line, col }, m))
            .collect();
        return Err(make(errs));
    }
    let (stmts, lex_errors) = lex::lex(source);
    let mut asm = parse::Asm::new(opts);
    for e in lex_errors {
        asm.error(
            parse::Loc {
                line: e.0,
                col: e.1,
            },
            e.2,
        );
    }
    for st in &stmts {
        asm.statement(st);
    }
    asm.finish();
    if !asm.errors.is_empty() {
        let mut errs = std::mem::take(&mut asm.errors);
        errs.sort_by_key(|(l, _)| (l.line, l.col));
        return Err(make(errs));
    }
    match link::link(&mut asm) {
        Ok(mut obj) => {
            obj.file_name = Some(file_name.to_string());
            Ok(obj)
        }
        Err(errs) => Err(make(errs)),
    }
}

/// The fuzz oracle: any bytes, read as (lossy UTF-8) assembly source, must assemble or be
/// refused with errors, never panic; a program that assembles must give an ELF that
/// [`Elf::parse`](crate::elf::Elf::parse) accepts, and every instruction in it must
/// decode to a legal instruction (the `c.unimp`/`unimp` parcel `0000` aside). Panics when
/// a property does not hold.
pub fn fuzz_check(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let Ok(obj) = assemble(&src, "fuzz.s", &AsmOptions::default()) else {
        return;
    };
    let bytes = obj.to_elf();
    let elf = crate::elf::Elf::parse(&bytes, "fuzz.elf")
        .unwrap_or_else(|e| panic!("the assembler's ELF does not load: {e}\nsource:\n{src}"));
    assert_eq!(elf.entry, obj.entry);
    for &(addr, len) in &obj.code {
        let Some(sec) = obj
            .sections
            .iter()
            .find(|s| s.alloc && !s.nobits && s.addr <= addr && addr + len <= s.addr + s.size)
        else {
            panic!("instructions at {addr:#x} are outside every section");
        };
        let mut at = (addr - sec.addr) as usize;
        let end = at + len as usize;
        while at < end {
            let b = &sec.data[at..];
            let parcel = u16::from_le_bytes([b[0], b.get(1).copied().unwrap_or(0)]) as u32;
            let word = if parcel & 3 == 3 {
                assert!(
                    at + 4 <= end,
                    "a 32-bit instruction at {:#x} runs past its code",
                    sec.addr + at as u64
                );
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            } else {
                parcel
            };
            let i = crate::isa::decode(word);
            assert!(
                !i.is_illegal() || word == 0,
                "illegal instruction {word:#x} at {:#x}\nsource:\n{src}",
                sec.addr + at as u64
            );
            at += i.byte_len() as usize;
        }
    }
}
