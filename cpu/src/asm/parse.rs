//! Statements to section items: labels, directives and instructions.
//!
//! Every statement becomes items of the current section: fixed bytes, zero runs, data whose
//! value needs the final symbol addresses, 32-bit instructions with a deferred immediate,
//! branches and jumps whose length depends on the distance to their target, and
//! alignments. `link.rs` lays them out and fills them in.

use super::expr::{self, Env, Expr, ExprError, Parser};
use super::lex::{Stmt, Tk, Tok};
use super::AsmOptions;
use crate::isa::compressed::{CReg, CTABLE};
use crate::isa::{
    self, compress, csr_name, COp, EncodeError, Format, Insn, Op, FREG_NAMES, REG_NAMES, RM_NAMES,
};
use std::collections::HashMap;

/// The largest output the assembler builds (all sections together).
pub(crate) const MAX_OUTPUT: u64 = 256 << 20;
/// The largest alignment `.align`/`.p2align`/`.balign` accept.
pub(crate) const MAX_ALIGN: u64 = 1 << 16;
const MAX_ERRORS: usize = 100;

/// A place in the source: line (0-based) and byte offset in the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub line: usize,
    pub col: usize,
}

/// A deferred immediate of a 32-bit instruction.
#[derive(Clone, Debug)]
pub(crate) enum Fix {
    /// The value itself, range-checked by the encoder.
    Imm(Expr),
    /// A `lui`/`auipc` value, 0..=0xfffff.
    Upper(Expr),
    /// `%lo(expr)`.
    Lo(Expr),
    /// `%hi(expr)`.
    Hi(Expr),
    /// `%pcrel_hi(expr)`.
    PcrelHi(Expr),
    /// `%pcrel_lo(label)`: the low part of the `%pcrel_hi` of the `auipc` at `label`.
    PcrelLo(Expr),
    /// The low part of `expr` relative to the `auipc` 4 bytes before (pseudo-instructions).
    PcrelLoPrev(Expr),
}

/// A branch or jump whose length depends on the distance to its target.
#[derive(Clone, Debug)]
pub(crate) struct Branch {
    /// `Jal` or one of the conditional branches.
    pub op: Op,
    /// `jal`'s link register.
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub target: Expr,
    /// Whether the 16-bit form (`c.j`, `c.beqz`, `c.bnez`) may be used.
    pub rvc: bool,
    /// The current length: 2, 4, 6 or 8.
    pub len: u8,
}

/// What an item is.
#[derive(Clone, Debug)]
pub(crate) enum ItemKind {
    /// A label (the symbol's definition points here).
    Label,
    /// Bytes; `code` when they are instructions.
    Bytes {
        bytes: Vec<u8>,
        code: bool,
    },
    Zero(u64),
    /// A little-endian value of `size` bytes.
    Data {
        size: u8,
        expr: Expr,
    },
    Insn {
        insn: Insn,
        fix: Fix,
    },
    Branch(Branch),
    /// Padding to a multiple of `align` with `fill`, skipped if more than `max` bytes would
    /// be needed. `code` is nonzero for an alignment without a fill in a code section: 2
    /// when RVC was on (instructions are 2-byte aligned), 1 when it was off; such padding
    /// is nops unless `fill` was set to zero at the end (GNU as does that when relaxation
    /// is on at the end of the file), and an alignment no larger than an instruction is
    /// ignored, as GNU as ignores it.
    ///
    /// `relax` models GNU as with linker relaxation on (its default): in code it emits the
    /// worst case (`align` minus the instruction alignment) in nops with an `R_RISCV_ALIGN`
    /// relocation, and ld (even with `--no-relax`) deletes the excess and rewrites the nops.
    Align {
        align: u64,
        fill: Option<u8>,
        max: Option<u64>,
        code: u8,
        relax: bool,
    },
    /// GNU as's padding of the end of a code section to the section's alignment, measured
    /// in its own offsets (ld keeps it as it is): nops without relaxation, zeros with.
    EndPad {
        align: u64,
        nops: bool,
    },
}

/// One item of a section.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub kind: ItemKind,
    pub loc: Loc,
    /// Set by the layout: the address, and the size.
    pub addr: u64,
    pub size: u64,
    /// The offset in its input section GNU as gives the item before ld deletes alignment
    /// padding (branch lengths are chosen with these, as GNU as chooses them).
    pub gas_addr: u64,
}

/// Section flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub alloc: bool,
    pub write: bool,
    pub exec: bool,
    pub nobits: bool,
}

/// An input section, in order of first appearance.
#[derive(Clone, Debug)]
pub(crate) struct InSec {
    pub name: String,
    pub flags: Flags,
    pub align: u64,
    pub items: Vec<Item>,
    /// The layout's address of the section.
    pub addr: u64,
    pub size: u64,
}

/// How a symbol is defined.
#[derive(Clone, Debug)]
pub(crate) enum SymDef {
    Undef,
    Label { sec: usize, item: usize },
    Const(i64),
    Value(Expr),
}

/// A symbol.
#[derive(Clone, Debug)]
pub(crate) struct Sym {
    pub name: String,
    pub def: SymDef,
    pub global: bool,
    pub weak: bool,
    /// ELF symbol type: 0 none, 1 object, 2 function.
    pub kind: u8,
    pub size: Option<Expr>,
    /// Where it was defined (labels) or first named.
    pub loc: Loc,
    /// Where it was first used in an expression.
    pub used_at: Option<Loc>,
}

impl Sym {
    /// Whether the symbol is left out of the symbol table (numeric local labels, `.L`
    /// names, the assembler's own).
    pub fn hidden(&self) -> bool {
        self.name.contains('\u{2}') || self.name.starts_with(".L")
    }
}

#[derive(Clone, Copy, Debug)]
struct Opts {
    rvc: bool,
    relax: bool,
    pic: bool,
}

/// A `.comm` or `.lcomm` symbol, allocated at the end (`.lcomm` at the end of `.bss`,
/// `.comm` after it, as GNU as and ld place them).
struct Common {
    name: String,
    size: u64,
    align: u64,
    global: bool,
    loc: Loc,
}

/// The assembler's state while reading statements.
pub(crate) struct Asm<'a> {
    pub opts: &'a AsmOptions,
    pub errors: Vec<(Loc, String)>,
    pub secs: Vec<InSec>,
    cur: usize,
    prev: usize,
    sec_stack: Vec<(usize, usize)>,
    pub syms: Vec<Sym>,
    sym_index: HashMap<String, usize>,
    local_counts: HashMap<u64, u64>,
    o: Opts,
    opt_stack: Vec<Opts>,
    /// Whether RVC was ever enabled (sets the ELF's RVC flag, as GNU as does).
    pub rvc_ever: bool,
    commons: Vec<Common>,
    /// The total size requested so far (guards against huge outputs).
    total: u64,
    /// The statement's end offset (for missing operands).
    stmt_end: usize,
    line: usize,
    stopped: bool,
}

type R<T> = Result<T, ExprError>;

fn err<T>(col: usize, msg: impl Into<String>) -> R<T> {
    Err((col, msg.into()))
}

/// The register numbered by an ABI name, `xN` or `fp`.
pub(crate) fn reg_num(name: &str) -> Option<u8> {
    if let Some(n) = name.strip_prefix('x') {
        if n == "0" || (!n.starts_with('0') && !n.is_empty()) {
            if let Ok(v) = n.parse::<u8>() {
                if v < 32 {
                    return Some(v);
                }
            }
        }
        return None;
    }
    if name == "fp" {
        return Some(8);
    }
    REG_NAMES.iter().position(|r| *r == name).map(|p| p as u8)
}

/// The floating-point register named `name` (`f0`..`f31` or an ABI name such as `fa0`).
pub(crate) fn freg_num(name: &str) -> Option<u8> {
    if let Some(n) = name.strip_prefix('f') {
        if n == "0"
            || (!n.starts_with('0') && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            if let Ok(v) = n.parse::<u8>() {
                if v < 32 {
                    return Some(v);
                }
            }
            return None;
        }
    }
    FREG_NAMES.iter().position(|r| *r == name).map(|p| p as u8)
}

/// The CSR numbered by `name` (objdump's names and a few that GNU as also accepts).
pub(crate) fn csr_num(name: &str) -> Option<u16> {
    static MAP: std::sync::OnceLock<HashMap<String, u16>> = std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = HashMap::new();
        for n in 0..4096u16 {
            let s = csr_name(n);
            if !s.starts_with("0x") {
                m.insert(s, n);
            }
        }
        for (a, n) in [
            ("sbadaddr", 0x143),
            ("mbadaddr", 0x343),
            ("ubadaddr", 0x043),
            ("sptbr", 0x180),
            ("dscratch", 0x7b2),
            // Names GNU as 2.40 accepts that objdump 2.40 prints as numbers.
            ("senvcfg", 0x10a),
            ("menvcfg", 0x30a),
            ("menvcfgh", 0x31a),
            ("mconfigptr", 0xf15),
            ("mseccfg", 0x747),
            ("mseccfgh", 0x757),
        ] {
            m.entry(a.to_string()).or_insert(n);
        }
        m
    });
    map.get(name).copied()
}

/// GNU as's `li` expansion of a constant that does not fit in 12 bits (`load_const`).
pub(crate) fn load_const(rd: u8, v: i64, out: &mut Vec<Insn>) {
    let lower = ((v & 0xfff) ^ 0x800) - 0x800;
    let upper = v.wrapping_sub(lower);
    if v != v as i32 as i64 {
        let mut shift = 12;
        while shift < 63 && (upper >> shift) & 1 == 0 {
            shift += 1;
        }
        load_const(rd, upper >> shift, out);
        out.push(Insn::new(Op::Slli, rd, rd, 0, shift));
        if lower != 0 {
            out.push(Insn::new(Op::Addi, rd, rd, 0, lower));
        }
    } else {
        let mut hi_reg = 0;
        if upper != 0 {
            let u = (upper as u32 >> 12) as i64;
            out.push(Insn::new(Op::Lui, rd, 0, 0, (u << 44) >> 44));
            hi_reg = rd;
        }
        if lower != 0 || hi_reg == 0 {
            out.push(Insn::new(Op::Addiw, rd, hi_reg, 0, lower));
        }
    }
}

/// GNU as's `li`: `addi` for a 12-bit value, otherwise [`load_const`].
pub(crate) fn li_seq(rd: u8, v: i64) -> Vec<Insn> {
    if (-2048..=2047).contains(&v) {
        return vec![Insn::new(Op::Addi, rd, 0, 0, v)];
    }
    let mut out = Vec::new();
    load_const(rd, v, &mut out);
    out
}

/// The message for an encoder error.
pub(crate) fn encode_msg(e: &EncodeError) -> String {
    match e {
        EncodeError::Range {
            op,
            value,
            min,
            max,
        } => format!("immediate {value} out of range for {op}: expected {min}..={max}"),
        EncodeError::Misaligned { op, value, align } => {
            format!("immediate {value} for {op} is not a multiple of {align}")
        }
        other => other.to_string(),
    }
}

/// An immediate operand: an expression with an optional `%modifier`.
struct ImmArg {
    modifier: Option<String>,
    expr: Expr,
    col: usize,
}

/// A value known now, or one that needs the final addresses.
enum Val {
    Const(i64),
    Later(Expr),
}

/// The parse-time view of symbols: constants (and expressions of constants) only.
struct ParseEnv<'b> {
    syms: &'b [Sym],
    index: &'b HashMap<String, usize>,
    depth: usize,
}

impl Env for ParseEnv<'_> {
    fn symbol(&mut self, name: &str, at: usize) -> Result<Option<i64>, ExprError> {
        let Some(&i) = self.index.get(name) else {
            return Ok(None);
        };
        match &self.syms[i].def {
            SymDef::Const(v) => Ok(Some(*v)),
            SymDef::Value(e) => {
                if self.depth > 64 {
                    return err(at, format!("symbol `{name}` is defined in terms of itself (or through more than 64 symbols)"));
                }
                self.depth += 1;
                let e = e.clone();
                let r = expr::eval(&e, self, None);
                self.depth -= 1;
                r
            }
            _ => Ok(None),
        }
    }
}

/// The flags a section gets from its name alone.
fn default_flags(name: &str) -> Flags {
    let f = |write, exec, nobits| Flags {
        alloc: true,
        write,
        exec,
        nobits,
    };
    let is = |p: &str| name == p || name.starts_with(&format!("{p}."));
    if is(".text") {
        f(false, true, false)
    } else if is(".data") || is(".sdata") || name == ".tohost" {
        f(true, false, false)
    } else if is(".bss") || is(".sbss") {
        f(true, false, true)
    } else if is(".rodata") || is(".srodata") {
        f(false, false, false)
    } else {
        Flags::default()
    }
}

impl<'a> Asm<'a> {
    pub(crate) fn new(opts: &'a AsmOptions) -> Asm<'a> {
        let o = Opts {
            rvc: opts.rvc,
            relax: true,
            pic: false,
        };
        let mut a = Asm {
            opts,
            errors: Vec::new(),
            secs: Vec::new(),
            cur: 0,
            prev: 0,
            sec_stack: Vec::new(),
            syms: Vec::new(),
            sym_index: HashMap::new(),
            local_counts: HashMap::new(),
            o,
            opt_stack: Vec::new(),
            rvc_ever: opts.rvc,
            commons: Vec::new(),
            total: 0,
            stmt_end: 0,
            line: 0,
            stopped: false,
        };
        // GNU as creates these three first, in this order; ld takes input sections in
        // the order of the object file.
        for name in [".text", ".data", ".bss", ".text"] {
            a.switch(name, default_flags(name));
        }
        a.prev = a.cur;
        a
    }

    pub(crate) fn error(&mut self, loc: Loc, msg: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push((loc, msg.into()));
        }
    }

    fn loc(&self, col: usize) -> Loc {
        Loc {
            line: self.line,
            col,
        }
    }

    // ---- sections and items ----

    fn switch(&mut self, name: &str, flags: Flags) -> usize {
        let i = match self.secs.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                // GNU as gives `.text` 2-byte alignment (4 without RVC), others 1.
                let align = match name {
                    ".text" if self.opts.rvc => 2,
                    ".text" => 4,
                    _ => 1,
                };
                self.secs.push(InSec {
                    name: name.to_string(),
                    flags,
                    align,
                    items: Vec::new(),
                    addr: 0,
                    size: 0,
                });
                self.secs.len() - 1
            }
        };
        if i != self.cur {
            self.prev = self.cur;
        }
        self.cur = i;
        i
    }

    fn push(&mut self, kind: ItemKind, loc: Loc) {
        self.secs[self.cur].items.push(Item {
            kind,
            loc,
            addr: 0,
            size: 0,
            gas_addr: 0,
        });
    }

    /// Accounts for `n` more output bytes, or fails when the output would exceed the cap.
    fn grow(&mut self, n: u64, col: usize) -> R<()> {
        match self.total.checked_add(n) {
            Some(t) if t <= MAX_OUTPUT => {
                self.total = t;
                Ok(())
            }
            _ => err(
                col,
                format!(
                    "{n} more bytes would make the output larger than the {} MiB limit",
                    MAX_OUTPUT >> 20
                ),
            ),
        }
    }

    fn push_bytes(&mut self, bytes: Vec<u8>, code: bool, col: usize) -> R<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.secs[self.cur].flags.nobits && bytes.iter().any(|&b| b != 0) {
            return err(
                col,
                format!(
                    "non-zero data in `{}`, which has no contents: expected .zero or .space",
                    self.secs[self.cur].name
                ),
            );
        }
        self.grow(bytes.len() as u64, col)?;
        let loc = self.loc(col);
        // Merge with the previous data bytes (keeps item counts small).
        if !code {
            if let Some(Item {
                kind:
                    ItemKind::Bytes {
                        bytes: b,
                        code: false,
                    },
                ..
            }) = self.secs[self.cur].items.last_mut()
            {
                b.extend_from_slice(&bytes);
                return Ok(());
            }
        }
        self.push(ItemKind::Bytes { bytes, code }, loc);
        Ok(())
    }

    // ---- symbols ----

    fn sym(&mut self, name: &str, loc: Loc) -> usize {
        if let Some(&i) = self.sym_index.get(name) {
            return i;
        }
        self.syms.push(Sym {
            name: name.to_string(),
            def: SymDef::Undef,
            global: false,
            weak: false,
            kind: 0,
            size: None,
            loc,
            used_at: None,
        });
        self.sym_index.insert(name.to_string(), self.syms.len() - 1);
        self.syms.len() - 1
    }

    pub(crate) fn sym_id(&self, name: &str) -> Option<usize> {
        self.sym_index.get(name).copied()
    }

    fn define_label(&mut self, name: &str, col: usize) -> R<()> {
        let loc = self.loc(col);
        let i = self.sym(name, loc);
        if !matches!(self.syms[i].def, SymDef::Undef) {
            return err(col, format!("symbol `{name}` is already defined"));
        }
        let item = self.secs[self.cur].items.len();
        self.syms[i].def = SymDef::Label {
            sec: self.cur,
            item,
        };
        self.syms[i].loc = loc;
        self.push(ItemKind::Label, loc);
        Ok(())
    }

    /// Parses `toks` as one whole expression, replacing constant symbols by their values
    /// now (so that a later `.set` does not change what this use meant).
    fn expr(&mut self, toks: &[Tok], end: usize) -> R<Expr> {
        let counts = &self.local_counts;
        let parsed = {
            let mut p = Parser::new(toks, end, |n, f, col| {
                let count = counts.get(&n).copied().unwrap_or(0);
                if f {
                    Ok(format!("{n}\u{2}{count}"))
                } else if count == 0 {
                    Err((
                        col,
                        format!("`{n}b` refers to no earlier local label `{n}:`"),
                    ))
                } else {
                    Ok(format!("{n}\u{2}{}", count - 1))
                }
            });
            let e = p.parse()?;
            if let Some(t) = p.rest().first() {
                return err(
                    t.col,
                    format!("unexpected {} after the expression", describe(t)),
                );
            }
            e
        };
        let e = self.fold(parsed);
        self.note_uses(&e);
        Ok(e)
    }

    fn note_uses(&mut self, e: &Expr) {
        let mut v = Vec::new();
        expr::symbols(e, &mut v);
        for (n, at) in v {
            let loc = self.loc(at);
            let i = self.sym(n, loc);
            if self.syms[i].used_at.is_none() {
                self.syms[i].used_at = Some(loc);
            }
        }
    }

    fn fold(&self, e: Expr) -> Expr {
        match e {
            Expr::Sym(ref n, _) => match self.sym_index.get(n).map(|&i| &self.syms[i].def) {
                Some(SymDef::Const(v)) => Expr::Num(*v),
                _ => e,
            },
            Expr::Un(op, a) => Expr::Un(op, Box::new(self.fold(*a))),
            Expr::Bin(op, a, b, at) => {
                Expr::Bin(op, Box::new(self.fold(*a)), Box::new(self.fold(*b)), at)
            }
            e => e,
        }
    }

    /// The value of `e` now, if it is a constant.
    fn const_now(&self, e: &Expr) -> R<Option<i64>> {
        if expr::has_dot(e) {
            return Ok(None);
        }
        let mut env = ParseEnv {
            syms: &self.syms,
            index: &self.sym_index,
            depth: 0,
        };
        match expr::eval(e, &mut env, None)? {
            Some(v) => Ok(Some(v)),
            // A difference of two labels of one section with only fixed-size items between
            // them is a constant to GNU as (`.equ LEN, end - start`; `li t0, LEN`).
            None => match self.expand(e, 0) {
                Some(x) => expr::eval(&self.fold_diffs(x), &mut env, None),
                None => Ok(None),
            },
        }
    }

    /// `e` with every symbol defined by an expression (`.equ`/`.set`) replaced by that
    /// expression, to a depth of 64 (`None` past it).
    fn expand(&self, e: &Expr, depth: usize) -> Option<Expr> {
        if depth > 64 {
            return None;
        }
        Some(match e {
            Expr::Sym(n, _) => match self.sym_index.get(n).map(|&i| &self.syms[i].def) {
                Some(SymDef::Value(v)) => self.expand(v, depth + 1)?,
                _ => e.clone(),
            },
            Expr::Un(op, a) => Expr::Un(op, Box::new(self.expand(a, depth)?)),
            Expr::Bin(op, a, b, at) => Expr::Bin(
                op,
                Box::new(self.expand(a, depth)?),
                Box::new(self.expand(b, depth)?),
                *at,
            ),
            e => e.clone(),
        })
    }

    /// Replaces `a - b` of two labels by its value where [`Self::label_diff`] knows it.
    fn fold_diffs(&self, e: Expr) -> Expr {
        match e {
            Expr::Bin("-", a, b, at) => {
                if let (Expr::Sym(x, _), Expr::Sym(y, _)) = (&*a, &*b) {
                    if let Some(d) = self.label_diff(x, y) {
                        return Expr::Num(d);
                    }
                }
                Expr::Bin(
                    "-",
                    Box::new(self.fold_diffs(*a)),
                    Box::new(self.fold_diffs(*b)),
                    at,
                )
            }
            Expr::Bin(op, a, b, at) => Expr::Bin(
                op,
                Box::new(self.fold_diffs(*a)),
                Box::new(self.fold_diffs(*b)),
                at,
            ),
            Expr::Un(op, a) => Expr::Un(op, Box::new(self.fold_diffs(*a))),
            e => e,
        }
    }

    /// `a - b` for two labels defined in the same section with only fixed-size items
    /// (bytes, zeros, data, instructions already chosen) between them; `None` otherwise
    /// (a branch or an alignment between them is sized only by the layout).
    fn label_diff(&self, a: &str, b: &str) -> Option<i64> {
        let pos = |n: &str| match self.sym_index.get(n).map(|&i| &self.syms[i].def) {
            Some(SymDef::Label { sec, item }) => Some((*sec, *item)),
            _ => None,
        };
        let (sa, ia) = pos(a)?;
        let (sb, ib) = pos(b)?;
        if sa != sb {
            return None;
        }
        let (lo, hi) = (ia.min(ib), ia.max(ib));
        let mut n: i64 = 0;
        for it in &self.secs[sa].items[lo..hi] {
            n += match &it.kind {
                ItemKind::Label => 0,
                ItemKind::Bytes { bytes, .. } => bytes.len() as i64,
                ItemKind::Zero(z) => i64::try_from(*z).ok()?,
                ItemKind::Data { size, .. } => i64::from(*size),
                ItemKind::Insn { insn, .. } => insn.byte_len() as i64,
                _ => return None,
            };
        }
        Some(if ia >= ib { n } else { -n })
    }

    fn value(&self, e: Expr) -> R<Val> {
        Ok(match self.const_now(&e)? {
            Some(v) => Val::Const(v),
            None => Val::Later(e),
        })
    }

    /// A constant expression (required now).
    fn constant(&mut self, toks: &[Tok], end: usize, what: &str) -> R<i64> {
        let col = toks.first().map_or(end, |t| t.col);
        let e = self.expr(toks, end)?;
        match self.const_now(&e)? {
            Some(v) => Ok(v),
            None => err(
                col,
                format!(
                    "expected a constant {what} (symbols must be defined with .equ before this line)"
                ),
            ),
        }
    }

    /// Replaces `.` by a label at the current position.
    fn pin_dot(&mut self, e: Expr) -> Expr {
        if !expr::has_dot(&e) {
            return e;
        }
        let name = format!(".\u{2}{}", self.syms.len());
        let _ = self.define_label(&name, 0);
        replace_dot(e, &name)
    }

    // ---- statements ----

    pub(crate) fn statement(&mut self, st: &Stmt) {
        if self.stopped {
            return;
        }
        self.line = st.line;
        self.stmt_end = st.end;
        if let Err((col, msg)) = self.statement_inner(&st.toks) {
            let loc = self.loc(col);
            self.error(loc, msg);
        }
    }

    fn statement_inner(&mut self, mut toks: &[Tok]) -> R<()> {
        // Labels.
        while toks.len() >= 2 && toks[1].kind == Tk::P(":") {
            match &toks[0].kind {
                Tk::Ident(name) if name != "." => {
                    let name = name.clone();
                    self.define_label(&name, toks[0].col)?;
                }
                Tk::Num(n) => {
                    let n = *n;
                    let count = self.local_counts.get(&n).copied().unwrap_or(0);
                    let name = format!("{n}\u{2}{count}");
                    self.define_label(&name, toks[0].col)?;
                    self.local_counts.insert(n, count + 1);
                }
                _ => {
                    return err(
                        toks[0].col,
                        format!(
                            "expected a label name before `:`, found {}",
                            describe(&toks[0])
                        ),
                    )
                }
            }
            toks = &toks[2..];
        }
        let Some(first) = toks.first() else {
            return Ok(());
        };
        let Tk::Ident(name) = &first.kind else {
            return err(
                first.col,
                format!(
                    "expected a label, directive or instruction, found {}",
                    describe(first)
                ),
            );
        };
        let name = name.clone();
        if toks.len() >= 2 && toks[1].kind == Tk::P("=") {
            return self.set(&name, first.col, &toks[2..], toks[1].end, false);
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with('.') {
            self.directive(&lower, first, &toks[1..])
        } else {
            self.instruction(&lower, first, &toks[1..])
        }
    }

    fn set(&mut self, name: &str, col: usize, toks: &[Tok], end: usize, equiv: bool) -> R<()> {
        if name == "." {
            return err(
                col,
                "assigning to `.` is not supported: expected .space or .align",
            );
        }
        if toks.is_empty() {
            return err(end, format!("expected an expression for `{name}`"));
        }
        let e = self.expr(toks, self.stmt_end)?;
        let e = self.pin_dot(e);
        let loc = self.loc(col);
        let i = self.sym(name, loc);
        match self.syms[i].def {
            SymDef::Label { .. } => {
                return err(
                    col,
                    format!("symbol `{name}` is already defined as a label"),
                )
            }
            SymDef::Const(_) | SymDef::Value(_) if equiv => {
                return err(col, format!("symbol `{name}` is already defined"))
            }
            _ => {}
        }
        let mut refs = Vec::new();
        expr::symbols(&e, &mut refs);
        if refs.iter().any(|(n, _)| *n == name) {
            return err(
                col,
                format!("symbol `{name}` is defined in terms of itself"),
            );
        }
        self.syms[i].def = match self.const_now(&e)? {
            Some(v) => SymDef::Const(v),
            None => SymDef::Value(e),
        };
        self.syms[i].loc = loc;
        Ok(())
    }

    // ---- directives ----

    fn directive(&mut self, name: &str, first: &Tok, args: &[Tok]) -> R<()> {
        let ops = split_commas(args);
        let col = first.col;
        let end = self.stmt_end;
        let nargs = ops.len();
        let need = |n: usize, what: &str| -> R<()> {
            if nargs < n {
                err(end, format!("{name} expects {what}"))
            } else {
                Ok(())
            }
        };
        match name {
            ".text" | ".data" | ".bss" | ".rodata" => {
                if !ops.is_empty() {
                    return err(ops[0].col, format!("{name} takes no operands"));
                }
                self.switch(name, default_flags(name));
            }
            ".section" | ".pushsection" => {
                need(1, "a section name")?;
                if name == ".pushsection" {
                    self.sec_stack.push((self.cur, self.prev));
                }
                self.section(&ops)?;
            }
            ".popsection" => match self.sec_stack.pop() {
                Some((c, p)) => {
                    self.cur = c;
                    self.prev = p;
                }
                None => return err(col, ".popsection without a matching .pushsection"),
            },
            ".previous" => std::mem::swap(&mut self.cur, &mut self.prev),
            ".byte" | ".half" | ".short" | ".2byte" | ".word" | ".long" | ".int" | ".4byte"
            | ".dword" | ".quad" | ".8byte" => {
                let size = match name {
                    ".byte" => 1,
                    ".half" | ".short" | ".2byte" => 2,
                    ".word" | ".long" | ".int" | ".4byte" => 4,
                    _ => 8,
                };
                need(1, "at least one value")?;
                for op in &ops {
                    self.data_value(op, size)?;
                }
            }
            ".ascii" | ".asciz" | ".string" => {
                need(1, "a string")?;
                for op in &ops {
                    match op.toks {
                        [Tok {
                            kind: Tk::Str(s), ..
                        }] => {
                            let mut b = s.clone();
                            if name != ".ascii" {
                                b.push(0);
                            }
                            self.push_bytes(b, false, op.col)?;
                        }
                        _ => {
                            return err(
                                op.col,
                                format!("{name} expects a string in double quotes"),
                            )
                        }
                    }
                }
            }
            ".space" | ".skip" | ".zero" => {
                need(1, "a size")?;
                let max = if name == ".zero" { 1 } else { 2 };
                if ops.len() > max {
                    return err(ops[max].col, format!("too many operands for {name}"));
                }
                let n = self.constant(ops[0].toks, ops[0].end, "size")?;
                let fill = match ops.get(1) {
                    Some(op) => self.constant(op.toks, op.end, "fill byte")?,
                    None => 0,
                };
                self.space(n, fill, ops[0].col)?;
            }
            ".fill" => {
                need(1, "a repeat count")?;
                let rep = self.constant(ops[0].toks, ops[0].end, "repeat count")?;
                let size = match ops.get(1) {
                    Some(op) => self.constant(op.toks, op.end, "size")?,
                    None => 1,
                };
                let value = match ops.get(2) {
                    Some(op) => self.constant(op.toks, op.end, "value")?,
                    None => 0,
                };
                if rep < 0 {
                    return err(ops[0].col, format!("repeat count {rep} is negative"));
                }
                if !(0..=8).contains(&size) {
                    return err(
                        ops[1].col,
                        format!("size {size} out of range for .fill: expected 0..=8"),
                    );
                }
                let total = (rep as u64).saturating_mul(size as u64);
                if value == 0 || total == 0 {
                    self.space(total.min(i64::MAX as u64) as i64, 0, ops[0].col)?;
                } else {
                    self.grow(total, ops[0].col)?;
                    self.total -= total;
                    let unit = &value.to_le_bytes()[..size as usize];
                    self.push_bytes(unit.repeat(rep as usize), false, ops[0].col)?;
                }
            }
            ".align" | ".p2align" | ".balign" => {
                need(1, "an alignment")?;
                let v = self.constant(ops[0].toks, ops[0].end, "alignment")?;
                let align = if name == ".balign" {
                    if v <= 0 || v & (v - 1) != 0 || v as u64 > MAX_ALIGN {
                        return err(
                            ops[0].col,
                            format!("alignment {v} out of range: expected a power of 2 up to {MAX_ALIGN}"),
                        );
                    }
                    v as u64
                } else {
                    if !(0..=16).contains(&v) {
                        return err(
                            ops[0].col,
                            format!("alignment 2^{v} out of range: expected a power 0..=16"),
                        );
                    }
                    1u64 << v
                };
                let fill = match ops.get(1) {
                    Some(op) if !op.toks.is_empty() => {
                        Some(self.constant(op.toks, op.end, "fill byte")? as u8)
                    }
                    _ => None,
                };
                let max = match ops.get(2) {
                    Some(op) => Some(self.constant(op.toks, op.end, "maximum skip")?.max(0) as u64),
                    None => None,
                };
                self.grow(align, ops[0].col)?;
                self.align(align, fill, max, col);
            }
            ".globl" | ".global" | ".local" | ".weak" | ".hidden" | ".protected"
            | ".internal" => {
                need(1, "a symbol name")?;
                for op in &ops {
                    let (n, c) = ident(op)?;
                    let loc = self.loc(c);
                    let i = self.sym(&n, loc);
                    match name {
                        ".globl" | ".global" => self.syms[i].global = true,
                        ".weak" => {
                            self.syms[i].global = true;
                            self.syms[i].weak = true
                        }
                        ".local" => self.syms[i].global = false,
                        _ => {}
                    }
                }
            }
            ".equ" | ".set" | ".equiv" => {
                need(2, "a symbol name and a value")?;
                let (n, c) = ident(&ops[0])?;
                let rest = &args[ops[0].toks.len() + 1..];
                self.set(&n, c, rest, ops[1].col, name == ".equiv")?;
            }
            ".type" => {
                need(2, "a symbol and a type")?;
                let (n, c) = ident(&ops[0])?;
                let kind = match ops[1].toks.last().map(|t| &t.kind) {
                    Some(Tk::Ident(t)) | Some(Tk::Mod(t)) => match t.as_str() {
                        "function" | "STT_FUNC" => 2,
                        "object" | "STT_OBJECT" => 1,
                        "notype" | "STT_NOTYPE" => 0,
                        other => {
                            return err(
                                ops[1].col,
                                format!("unknown symbol type `{other}`: expected @function, @object or @notype"),
                            )
                        }
                    },
                    _ => {
                        return err(
                            ops[1].col,
                            "expected a symbol type: @function, @object or @notype",
                        )
                    }
                };
                let loc = self.loc(c);
                let i = self.sym(&n, loc);
                self.syms[i].kind = kind;
            }
            ".size" => {
                need(2, "a symbol and a size")?;
                let (n, c) = ident(&ops[0])?;
                let e = self.expr(ops[1].toks, ops[1].end)?;
                let e = self.pin_dot(e);
                let loc = self.loc(c);
                let i = self.sym(&n, loc);
                self.syms[i].size = Some(e);
            }
            ".comm" | ".lcomm" => {
                need(2, "a symbol and a size")?;
                let (n, c) = ident(&ops[0])?;
                let size = self.constant(ops[1].toks, ops[1].end, "size")?;
                if size < 0 {
                    return err(ops[1].col, format!("size {size} is negative"));
                }
                let limit = if name == ".comm" { 16 } else { 8 };
                let align = match ops.get(2) {
                    Some(op) => self.constant(op.toks, op.end, "alignment")?,
                    None => {
                        let mut a = 1;
                        while a * 2 <= size && a * 2 <= limit {
                            a *= 2;
                        }
                        a
                    }
                };
                if align <= 0 || align & (align - 1) != 0 || align as u64 > MAX_ALIGN {
                    return err(
                        ops.get(2).map_or(ops[1].col, |o| o.col),
                        format!("alignment {align} out of range: expected a power of 2 up to {MAX_ALIGN}"),
                    );
                }
                self.grow(size as u64 + align as u64, ops[1].col)?;
                if self.sym_id(&n).is_some_and(|i| !matches!(self.syms[i].def, SymDef::Undef)) {
                    return err(c, format!("symbol `{n}` is already defined"));
                }
                let loc = self.loc(c);
                self.sym(&n, loc);
                self.commons.push(Common {
                    name: n,
                    size: size as u64,
                    align: align as u64,
                    global: name == ".comm",
                    loc,
                });
            }
            ".option" => {
                need(1, "an option")?;
                let (o, c) = ident(&ops[0])?;
                match o.as_str() {
                    "rvc" => {
                        self.o.rvc = true;
                        self.rvc_ever = true;
                    }
                    "norvc" => self.o.rvc = false,
                    "relax" => self.o.relax = true,
                    "norelax" => self.o.relax = false,
                    "pic" => self.o.pic = true,
                    "nopic" => self.o.pic = false,
                    "push" => self.opt_stack.push(self.o),
                    "pop" => match self.opt_stack.pop() {
                        Some(o) => self.o = o,
                        None => {
                            return err(c, ".option pop without a matching .option push")
                        }
                    },
                    "arch" => {
                        // `.option arch, +c`, `-c` or a whole ISA string: only C matters.
                        let text: String = ops[1..]
                            .iter()
                            .flat_map(|o| o.toks.iter())
                            .map(|t| match &t.kind {
                                Tk::Ident(s) => s.clone(),
                                Tk::P(p) => p.to_string(),
                                Tk::Num(n) => n.to_string(),
                                _ => String::new(),
                            })
                            .collect::<String>()
                            .to_ascii_lowercase();
                        if text.contains("+c") {
                            self.o.rvc = true;
                        } else if text.contains("-c") {
                            self.o.rvc = false;
                        } else if let Some(base) =
                            text.strip_prefix("rv64").or(text.strip_prefix("rv32"))
                        {
                            let exts = base.split('_').next().unwrap_or("");
                            self.o.rvc = exts.contains('c');
                        } else {
                            return err(
                                ops.get(1).map_or(self.stmt_end, |o| o.col),
                                "expected an ISA string (rv64imac) or +ext/-ext after `.option arch,`",
                            );
                        }
                        self.rvc_ever |= self.o.rvc;
                    }
                    other => {
                        return err(
                            c,
                            format!("unknown .option `{other}`: expected rvc, norvc, push, pop, relax, norelax, pic, nopic or arch"),
                        )
                    }
                }
            }
            ".file" | ".ident" | ".attribute" | ".addrsig" | ".addrsig_sym" | ".loc" => {}
            ".end" => self.stopped = true,
            n if n.starts_with(".cfi_") => {}
            _ => {
                return err(
                    col,
                    format!("unknown or unsupported directive `{name}` (docs/asm.md lists the accepted ones)"),
                )
            }
        }
        Ok(())
    }

    fn align(&mut self, align: u64, fill: Option<u8>, max: Option<u64>, col: usize) {
        let rvc = self.o.rvc;
        let sec = &mut self.secs[self.cur];
        sec.align = sec.align.max(align);
        let code = match (sec.flags.exec && fill.is_none(), rvc) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => 2,
        };
        // GNU as hands code alignment to ld when relaxing, ignoring a maximum skip.
        let relax = self.o.relax && code != 0;
        let loc = self.loc(col);
        self.push(
            ItemKind::Align {
                align,
                fill,
                max,
                code,
                relax,
            },
            loc,
        );
    }

    fn section(&mut self, ops: &[Operand]) -> R<()> {
        // The name: identifiers and punctuation glued together (`.text.init`).
        let name: String = match ops[0].toks {
            [Tok {
                kind: Tk::Str(s), ..
            }] => String::from_utf8_lossy(s).into_owned(),
            toks => {
                let mut s = String::new();
                for t in toks {
                    match &t.kind {
                        Tk::Ident(x) => s.push_str(x),
                        Tk::P(p @ ("-" | "+")) => s.push_str(p),
                        Tk::Num(n) => s.push_str(&n.to_string()),
                        _ => {
                            return err(
                                t.col,
                                format!("expected a section name, found {}", describe(t)),
                            )
                        }
                    }
                }
                s
            }
        };
        if name.is_empty() || name.len() > 200 || name.contains('\0') {
            return err(ops[0].col, "expected a section name");
        }
        let mut flags = default_flags(&name);
        if let Some(op) = ops.get(1) {
            match op.toks {
                [Tok {
                    kind: Tk::Str(s), ..
                }] => {
                    flags = Flags::default();
                    for &c in s {
                        match c {
                            b'a' => flags.alloc = true,
                            b'w' => flags.write = true,
                            b'x' => flags.exec = true,
                            b'M' | b'S' | b'G' | b'T' | b'o' | b'R' | b'd' | b'y' | b'e' => {}
                            _ => {
                                return err(
                                    op.col,
                                    format!(
                                        "unknown section flag `{}`: expected a, w or x",
                                        c as char
                                    ),
                                )
                            }
                        }
                    }
                    flags.nobits = default_flags(&name).nobits;
                }
                _ => {
                    return err(
                        op.col,
                        "expected section flags in double quotes, such as \"ax\"",
                    )
                }
            }
        }
        if let Some(op) = ops.get(2) {
            match op.toks.last().map(|t| &t.kind) {
                Some(Tk::Ident(t)) | Some(Tk::Mod(t)) if t == "progbits" => flags.nobits = false,
                Some(Tk::Ident(t)) | Some(Tk::Mod(t)) if t == "nobits" => flags.nobits = true,
                Some(Tk::Ident(t)) | Some(Tk::Mod(t))
                    if t == "note" || t == "init_array" || t == "fini_array" => {}
                _ => return err(op.col, "expected a section type: @progbits or @nobits"),
            }
        }
        // A section keeps the attributes it was first given (GNU as warns and does too).
        self.switch(&name, flags);
        Ok(())
    }

    fn space(&mut self, n: i64, fill: i64, col: usize) -> R<()> {
        if n < 0 {
            return err(col, format!("size {n} is negative"));
        }
        let n = n as u64;
        self.grow(n, col)?;
        if fill as u8 == 0 {
            let loc = self.loc(col);
            self.push(ItemKind::Zero(n), loc);
            Ok(())
        } else {
            self.total -= n;
            self.push_bytes(vec![fill as u8; n as usize], false, col)
        }
    }

    fn data_value(&mut self, op: &Operand, size: u8) -> R<()> {
        if op.toks.is_empty() {
            return err(op.col, "expected a value");
        }
        let e = self.expr(op.toks, op.end)?;
        match self.const_now(&e)? {
            Some(v) => {
                check_fits(v, size, op.col)?;
                self.push_bytes(v.to_le_bytes()[..size as usize].to_vec(), false, op.col)
            }
            None => {
                if self.secs[self.cur].flags.nobits {
                    return err(
                        op.col,
                        format!(
                            "data in `{}`, which has no contents",
                            self.secs[self.cur].name
                        ),
                    );
                }
                self.grow(size as u64, op.col)?;
                let loc = self.loc(op.col);
                self.push(ItemKind::Data { size, expr: e }, loc);
                Ok(())
            }
        }
    }

    /// Allocates `.lcomm` and `.comm` symbols and pads code sections as GNU as does;
    /// called after the last statement.
    pub(crate) fn finish(&mut self) {
        let nops = !self.o.relax;
        for s in self.secs.iter_mut() {
            // GNU as fills code alignment it did not hand to ld with nops only if
            // relaxation is off at the end of the file; otherwise with zeros.
            if !nops {
                for it in s.items.iter_mut() {
                    if let ItemKind::Align {
                        relax: false,
                        fill: fill @ None,
                        ..
                    } = &mut it.kind
                    {
                        *fill = Some(0);
                    }
                }
            }
            if s.flags.exec && s.align > 1 {
                let loc = s.items.last().map_or(Loc::default(), |i| i.loc);
                s.items.push(Item {
                    kind: ItemKind::EndPad {
                        align: s.align,
                        nops,
                    },
                    loc,
                    addr: 0,
                    size: 0,
                    gas_addr: 0,
                });
            }
        }
        let commons = std::mem::take(&mut self.commons);
        for c in &commons {
            let sec = if c.global { "COMMON" } else { ".bss" };
            self.switch(sec, default_flags(".bss"));
            self.line = c.loc.line;
            self.align(c.align, None, None, c.loc.col);
            let i = self.sym_index[&c.name];
            if !matches!(self.syms[i].def, SymDef::Undef) {
                self.error(c.loc, format!("symbol `{}` is already defined", c.name));
                continue;
            }
            let item = self.secs[self.cur].items.len();
            self.syms[i].def = SymDef::Label {
                sec: self.cur,
                item,
            };
            self.syms[i].global |= c.global;
            self.syms[i].kind = 1;
            self.syms[i].size = Some(Expr::Num(c.size as i64));
            self.push(ItemKind::Label, c.loc);
            self.push(ItemKind::Zero(c.size), c.loc);
        }
    }

    // ---- instructions ----

    fn check_code_section(&self, col: usize) -> R<()> {
        if self.secs[self.cur].flags.nobits {
            return err(
                col,
                format!(
                    "instruction in `{}`, which has no contents",
                    self.secs[self.cur].name
                ),
            );
        }
        Ok(())
    }

    /// Emits constant instructions, each compressed (under RVC) when `compressible`.
    fn emit(&mut self, insns: &[Insn], compressible: bool, col: usize) -> R<()> {
        let mut bytes = Vec::new();
        for i in insns {
            let enc = match (self.o.rvc && compressible).then(|| compress(i)).flatten() {
                Some(p) => isa::Encoding::Compressed(p),
                None => isa::encode(i).map_err(|e| (col, encode_msg(&e)))?,
            };
            bytes.extend(enc.to_bytes());
        }
        self.push_code(bytes, col)
    }

    fn push_code(&mut self, bytes: Vec<u8>, col: usize) -> R<()> {
        self.check_code_section(col)?;
        self.push_bytes(bytes, true, col)
    }

    fn emit_fix(&mut self, insn: Insn, fix: Fix, col: usize) -> R<()> {
        self.check_code_section(col)?;
        self.grow(4, col)?;
        let loc = self.loc(col);
        self.push(ItemKind::Insn { insn, fix }, loc);
        Ok(())
    }

    fn emit_branch(&mut self, b: Branch, col: usize) -> R<()> {
        self.check_code_section(col)?;
        self.grow(8, col)?;
        let loc = self.loc(col);
        self.push(ItemKind::Branch(b), loc);
        Ok(())
    }

    fn reg(&self, op: &Operand) -> R<u8> {
        match op.toks {
            [Tok {
                kind: Tk::Ident(n), ..
            }] => reg_num(n).ok_or_else(|| (op.col, format!("expected a register, found `{n}`"))),
            [] => err(op.col, "expected a register"),
            [t, ..] => err(
                t.col,
                format!("expected a register, found {}", describe_toks(op.toks)),
            ),
        }
    }

    fn freg(&self, op: &Operand) -> R<u8> {
        match op.toks {
            [Tok {
                kind: Tk::Ident(n), ..
            }] => freg_num(n).ok_or_else(|| {
                (
                    op.col,
                    format!("expected a floating-point register, found `{n}`"),
                )
            }),
            [] => err(op.col, "expected a floating-point register"),
            [t, ..] => err(
                t.col,
                format!(
                    "expected a floating-point register, found {}",
                    describe_toks(op.toks)
                ),
            ),
        }
    }

    /// The optional rounding-mode operand at `ops[at]` (`dyn`, 7, when absent).
    fn rm(&self, ops: &[Operand], at: usize) -> R<u8> {
        let Some(op) = ops.get(at) else {
            return Ok(7);
        };
        match op.toks {
            [Tok {
                kind: Tk::Ident(n), ..
            }] => RM_NAMES
                .iter()
                .position(|r| *r == Some(n.as_str()))
                .map(|p| p as u8)
                .ok_or_else(|| {
                    (
                        op.col,
                        format!("expected a rounding mode (rne, rtz, rdn, rup, rmm or dyn), found `{n}`"),
                    )
                }),
            _ => err(
                op.col,
                format!(
                    "expected a rounding mode (rne, rtz, rdn, rup, rmm or dyn), found {}",
                    describe_toks(op.toks)
                ),
            ),
        }
    }

    fn is_reg(op: &Operand) -> bool {
        matches!(op.toks, [Tok { kind: Tk::Ident(n), .. }] if reg_num(n).is_some())
    }

    /// Parses `[imm](reg)`: the offset (if any) and the register; `None` if `op` has
    /// another shape.
    fn mem(&mut self, op: &Operand) -> R<Option<(Option<ImmArg>, u8)>> {
        let t = op.toks;
        let n = t.len();
        if n >= 3 && t[n - 1].kind == Tk::P(")") && t[n - 3].kind == Tk::P("(") {
            if let Tk::Ident(r) = &t[n - 2].kind {
                let Some(r) = reg_num(r) else {
                    return err(
                        t[n - 2].col,
                        format!("expected a base register in parentheses, found `{r}`"),
                    );
                };
                let off = if n == 3 {
                    None
                } else {
                    let sub = Operand {
                        toks: &t[..n - 3],
                        col: op.col,
                        end: t[n - 3].col,
                    };
                    Some(self.imm_arg(&sub)?)
                };
                return Ok(Some((off, r)));
            }
        }
        Ok(None)
    }

    fn imm_arg(&mut self, op: &Operand) -> R<ImmArg> {
        let t = op.toks;
        if t.is_empty() {
            return err(op.col, "expected an immediate");
        }
        if let Tk::Mod(m) = &t[0].kind {
            let n = t.len();
            if n >= 3 && t[1].kind == Tk::P("(") && t[n - 1].kind == Tk::P(")") {
                if !["hi", "lo", "pcrel_hi", "pcrel_lo"].contains(&m.as_str()) {
                    return err(
                        t[0].col,
                        format!(
                            "unknown relocation `%{m}`: expected %hi, %lo, %pcrel_hi or %pcrel_lo"
                        ),
                    );
                }
                let e = self.expr(&t[2..n - 1], t[n - 1].col)?;
                return Ok(ImmArg {
                    modifier: Some(m.clone()),
                    expr: e,
                    col: op.col,
                });
            }
            return err(t[0].col, format!("expected `%{m}(expression)`"));
        }
        if let [Tok {
            kind: Tk::Ident(n), ..
        }] = t
        {
            let digits = n.strip_prefix('x').unwrap_or("");
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && self.sym_id(n).is_none()
            {
                return err(op.col, format!("`{n}` is not a register: expected x0..x31"));
            }
            if reg_num(n).is_some() {
                return err(
                    op.col,
                    format!("expected an immediate, found the register `{n}`"),
                );
            }
        }
        let e = self.expr(t, op.end)?;
        Ok(ImmArg {
            modifier: None,
            expr: e,
            col: op.col,
        })
    }

    fn no_mod(&self, a: &ImmArg) -> R<()> {
        match &a.modifier {
            Some(m) => err(a.col, format!("`%{m}` is not allowed here")),
            None => Ok(()),
        }
    }

    /// A 12-bit immediate (I and S formats): `Ok(v)` when constant now, else a fix.
    fn imm12(&mut self, a: ImmArg) -> R<Result<i64, Fix>> {
        match a.modifier.as_deref() {
            None => Ok(match self.value(a.expr)? {
                Val::Const(v) => Ok(v),
                Val::Later(e) => Err(Fix::Imm(e)),
            }),
            // GNU as never compresses an instruction with a relocation operator.
            Some("lo") => Ok(Err(Fix::Lo(a.expr))),
            Some("pcrel_lo") => Ok(Err(Fix::PcrelLo(a.expr))),
            Some(m) => err(
                a.col,
                format!("`%{m}` is not allowed here: expected %lo or %pcrel_lo"),
            ),
        }
    }

    fn const_imm(&mut self, op: &Operand, what: &str) -> R<i64> {
        let a = self.imm_arg(op)?;
        self.no_mod(&a)?;
        match self.const_now(&a.expr)? {
            Some(v) => Ok(v),
            None => err(op.col, format!("expected a constant {what}")),
        }
    }

    fn csr(&mut self, op: &Operand) -> R<u16> {
        if let [Tok {
            kind: Tk::Ident(n), ..
        }] = op.toks
        {
            if let Some(c) = csr_num(n) {
                return Ok(c);
            }
            if reg_num(n).is_some() || self.sym_id(n).is_none() {
                return err(
                    op.col,
                    format!("unknown CSR `{n}`: expected a CSR name or a number 0..=4095"),
                );
            }
        }
        let v = self.const_imm(op, "CSR number")?;
        if !(0..=4095).contains(&v) {
            return err(
                op.col,
                format!("CSR number {v} out of range: expected 0..=4095"),
            );
        }
        Ok(v as u16)
    }

    fn fence_set(&self, op: &Operand) -> R<i64> {
        let bad = || {
            (
                op.col,
                "expected a fence set: some of i, o, r, w in that order (e.g. `rw`)".to_string(),
            )
        };
        match op.toks {
            [Tok {
                kind: Tk::Ident(s), ..
            }] => {
                let mut v = 0;
                let mut last = 16;
                for c in s.chars() {
                    let bit = match c {
                        'i' => 8,
                        'o' => 4,
                        'r' => 2,
                        'w' => 1,
                        _ => return Err(bad()),
                    };
                    if bit >= last {
                        return Err(bad());
                    }
                    last = bit;
                    v |= bit;
                }
                Ok(v)
            }
            _ => Err(bad()),
        }
    }

    fn target(&mut self, op: &Operand) -> R<Expr> {
        let a = self.imm_arg(op)?;
        self.no_mod(&a)?;
        Ok(a.expr)
    }

    /// Checks the operand count against `n` (any of them).
    fn count(&self, ops: &[Operand], n: &[usize], mn: &str, form: &str) -> R<()> {
        if n.contains(&ops.len()) {
            return Ok(());
        }
        let max = n.iter().copied().max().unwrap_or(0);
        let col = if ops.len() > max {
            ops[max].col
        } else {
            self.stmt_end
        };
        let form = if form.is_empty() {
            mn.to_string()
        } else {
            format!("{mn} {form}")
        };
        err(
            col,
            format!("wrong number of operands for {mn}: expected `{form}`"),
        )
    }

    fn instruction(&mut self, mn: &str, first: &Tok, args: &[Tok]) -> R<()> {
        let ops = split_commas(args);
        for op in &ops {
            if op.toks.is_empty() {
                return err(op.col, "expected an operand");
            }
        }
        let col = first.col;
        if mn.starts_with("c.") {
            return self.compressed(mn, &ops, col);
        }
        let rvc = self.o.rvc;
        let z = 0u8;
        // Pseudo-instructions first.
        match mn {
            "nop" => {
                self.count(&ops, &[0], mn, "")?;
                return self.emit(&[Insn::new(Op::Addi, 0, 0, 0, 0)], true, col);
            }
            "li" => {
                self.count(&ops, &[2], mn, "rd, value")?;
                let rd = self.reg(&ops[0])?;
                let v = self.const_imm(
                    &ops[1],
                    "value for li (symbols must be defined with .equ before this line)",
                )?;
                let seq = li_seq(rd, v);
                // `li zero, 0` keeps 32 bits (c.li needs rd != zero; c.nop is `nop`).
                let keep = seq.len() == 1 && rd == 0;
                return self.emit(&seq, !keep, ops[1].col);
            }
            "fmv.s" | "fmv.d" | "fneg.s" | "fneg.d" | "fabs.s" | "fabs.d" => {
                self.count(&ops, &[2], mn, "fd, fs")?;
                let (rd, rs) = (self.freg(&ops[0])?, self.freg(&ops[1])?);
                let op = match mn {
                    "fmv.s" => Op::FSgnjS,
                    "fmv.d" => Op::FSgnjD,
                    "fneg.s" => Op::FSgnjnS,
                    "fneg.d" => Op::FSgnjnD,
                    "fabs.s" => Op::FSgnjxS,
                    _ => Op::FSgnjxD,
                };
                return self.emit(&[Insn::new(op, rd, rs, rs, 0)], false, col);
            }
            "fgt.s" | "fgt.d" | "fge.s" | "fge.d" => {
                self.count(&ops, &[3], mn, "rd, fs1, fs2")?;
                let rd = self.reg(&ops[0])?;
                let (a, b) = (self.freg(&ops[1])?, self.freg(&ops[2])?);
                let op = match mn {
                    "fgt.s" => Op::FltS,
                    "fgt.d" => Op::FltD,
                    "fge.s" => Op::FleS,
                    _ => Op::FleD,
                };
                return self.emit(&[Insn::new(op, rd, b, a, 0)], false, col);
            }
            "fmv.x.s" | "fmv.s.x" => {
                let op = if mn == "fmv.x.s" {
                    Op::FmvXW
                } else {
                    Op::FmvWX
                };
                let format = op.def().map_or(Format::FMvToInt, |d| d.format);
                return self.base(mn, op, format, &ops, (false, false), col);
            }
            "frcsr" | "frrm" | "frflags" => {
                self.count(&ops, &[1], mn, "rd")?;
                let rd = self.reg(&ops[0])?;
                let c = fp_csr(mn);
                return self.emit(&[csr_insn(Op::Csrrs, rd, 0, c)], false, col);
            }
            "fscsr" | "fsrm" | "fsflags" => {
                self.count(&ops, &[1, 2], mn, "[rd,] rs")?;
                let (rd, rs) = if ops.len() == 2 {
                    (self.reg(&ops[0])?, self.reg(&ops[1])?)
                } else {
                    (0, self.reg(&ops[0])?)
                };
                let c = fp_csr(mn);
                return self.emit(&[csr_insn(Op::Csrrw, rd, rs, c)], false, col);
            }
            "fsrmi" | "fsflagsi" => {
                self.count(&ops, &[1, 2], mn, "[rd,] uimm")?;
                let (rd, v) = if ops.len() == 2 {
                    (self.reg(&ops[0])?, &ops[1])
                } else {
                    (0, &ops[0])
                };
                let v_col = v.col;
                let v = self.const_imm(v, "CSR immediate")?;
                if !(0..=31).contains(&v) {
                    return err(
                        v_col,
                        format!("immediate {v} out of range for {mn}: expected 0..=31"),
                    );
                }
                let c = fp_csr(&mn[..mn.len() - 1]);
                let i = Insn {
                    csr: c,
                    ..Insn::new(Op::Csrrwi, rd, 0, 0, v)
                };
                return self.emit(&[i], false, col);
            }
            "mv" => {
                self.count(&ops, &[2], mn, "rd, rs")?;
                let (rd, rs) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                return self.emit(&[Insn::new(Op::Addi, rd, rs, 0, 0)], rs != 0, col);
            }
            "not" | "neg" | "negw" | "sext.w" | "seqz" | "snez" | "sltz" | "sgtz" => {
                self.count(&ops, &[2], mn, "rd, rs")?;
                let (rd, rs) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let i = match mn {
                    "not" => Insn::new(Op::Xori, rd, rs, 0, -1),
                    "neg" => Insn::new(Op::Sub, rd, 0, rs, 0),
                    "negw" => Insn::new(Op::Subw, rd, 0, rs, 0),
                    "sext.w" => Insn::new(Op::Addiw, rd, rs, 0, 0),
                    "seqz" => Insn::new(Op::Sltiu, rd, rs, 0, 1),
                    "snez" => Insn::new(Op::Sltu, rd, 0, rs, 0),
                    "sltz" => Insn::new(Op::Slt, rd, rs, 0, 0),
                    _ => Insn::new(Op::Slt, rd, 0, rs, 0),
                };
                return self.emit(&[i], true, col);
            }
            "zext.b" | "zext.h" | "zext.w" | "sext.b" | "sext.h" => {
                self.count(&ops, &[2], mn, "rd, rs")?;
                let (rd, rs) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let seq = match mn {
                    "zext.b" => vec![Insn::new(Op::Andi, rd, rs, 0, 255)],
                    _ => {
                        let (sh, op) = match mn {
                            "zext.h" => (48, Op::Srli),
                            "zext.w" => (32, Op::Srli),
                            "sext.b" => (56, Op::Srai),
                            _ => (48, Op::Srai),
                        };
                        vec![
                            Insn::new(Op::Slli, rd, rs, 0, sh),
                            Insn::new(op, rd, rd, 0, sh),
                        ]
                    }
                };
                return self.emit(&seq, true, col);
            }
            "beqz" | "bnez" | "blez" | "bgez" | "bltz" | "bgtz" => {
                self.count(&ops, &[2], mn, "rs, target")?;
                let rs = self.reg(&ops[0])?;
                let t = self.target(&ops[1])?;
                let (op, a, b) = match mn {
                    "beqz" => (Op::Beq, rs, z),
                    "bnez" => (Op::Bne, rs, z),
                    "blez" => (Op::Bge, z, rs),
                    "bgez" => (Op::Bge, rs, z),
                    "bltz" => (Op::Blt, rs, z),
                    _ => (Op::Blt, z, rs),
                };
                return self.cond_branch(op, a, b, t, rvc, ops[1].col);
            }
            "bgt" | "ble" | "bgtu" | "bleu" => {
                self.count(&ops, &[3], mn, "rs, rt, target")?;
                let (a, b) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let t = self.target(&ops[2])?;
                let op = match mn {
                    "bgt" => Op::Blt,
                    "ble" => Op::Bge,
                    "bgtu" => Op::Bltu,
                    _ => Op::Bgeu,
                };
                return self.cond_branch(op, b, a, t, false, ops[2].col);
            }
            "j" => {
                self.count(&ops, &[1], mn, "target")?;
                let t = self.target(&ops[0])?;
                return self.jump(0, t, rvc, ops[0].col);
            }
            "jal" => {
                self.count(&ops, &[1, 2], mn, "[rd,] target")?;
                let (rd, top) = if ops.len() == 2 {
                    (self.reg(&ops[0])?, &ops[1])
                } else {
                    (1, &ops[0])
                };
                let t = self.target(top)?;
                return self.jump(rd, t, false, top.col);
            }
            "jr" | "jalr" => return self.jalr(mn, &ops, col),
            "ret" => {
                self.count(&ops, &[0], mn, "")?;
                return self.emit(&[Insn::new(Op::Jalr, 0, 1, 0, 0)], true, col);
            }
            "call" | "tail" | "jump" => {
                let (rd, rt, top) = match (mn, ops.len()) {
                    ("call", 1) => (1, 1, &ops[0]),
                    ("call", 2) => {
                        let r = self.reg(&ops[0])?;
                        (r, r, &ops[1])
                    }
                    ("tail", 1) => (0, 6, &ops[0]),
                    ("jump", 2) => (0, self.reg(&ops[1])?, &ops[0]),
                    _ => {
                        let (n, form): (&[usize], _) = match mn {
                            "call" => (&[1, 2], "[rd,] symbol"),
                            "tail" => (&[1], "symbol"),
                            _ => (&[2], "symbol, temp-register"),
                        };
                        return self.count(&ops, n, mn, form);
                    }
                };
                let t = self.target(top)?;
                self.emit_fix(
                    Insn::new(Op::Auipc, rt, 0, 0, 0),
                    Fix::PcrelHi(t.clone()),
                    top.col,
                )?;
                return self.emit_fix(
                    Insn::new(Op::Jalr, rd, rt, 0, 0),
                    Fix::PcrelLoPrev(t),
                    top.col,
                );
            }
            "la" | "lla" => {
                self.count(&ops, &[2], mn, "rd, symbol")?;
                let rd = self.reg(&ops[0])?;
                let t = self.target(&ops[1])?;
                if let Some(v) = self.const_now(&t)? {
                    // GNU as loads a constant address with its `li` sequence (`addiw`
                    // even for small values).
                    let mut seq = Vec::new();
                    load_const(rd, v, &mut seq);
                    return self.emit(&seq, true, ops[1].col);
                }
                self.emit_fix(
                    Insn::new(Op::Auipc, rd, 0, 0, 0),
                    Fix::PcrelHi(t.clone()),
                    ops[1].col,
                )?;
                return self.emit_fix(
                    Insn::new(Op::Addi, rd, rd, 0, 0),
                    Fix::PcrelLoPrev(t),
                    ops[1].col,
                );
            }
            "csrr" => {
                self.count(&ops, &[2], mn, "rd, csr")?;
                let rd = self.reg(&ops[0])?;
                let c = self.csr(&ops[1])?;
                return self.emit(&[csr_insn(Op::Csrrs, rd, 0, c)], false, col);
            }
            "csrw" | "csrs" | "csrc" | "csrwi" | "csrsi" | "csrci" => {
                self.count(&ops, &[2], mn, "csr, rs")?;
                let c = self.csr(&ops[0])?;
                let base = &mn[..4];
                let i = if mn.ends_with('i') || !Self::is_reg(&ops[1]) {
                    let v = self.const_imm(&ops[1], "CSR immediate")?;
                    if !(0..=31).contains(&v) {
                        return err(
                            ops[1].col,
                            format!("immediate {v} out of range for {mn}: expected 0..=31"),
                        );
                    }
                    let op = match base {
                        "csrw" => Op::Csrrwi,
                        "csrs" => Op::Csrrsi,
                        _ => Op::Csrrci,
                    };
                    Insn {
                        csr: c,
                        ..Insn::new(op, 0, 0, 0, v)
                    }
                } else {
                    let rs = self.reg(&ops[1])?;
                    let op = match base {
                        "csrw" => Op::Csrrw,
                        "csrs" => Op::Csrrs,
                        _ => Op::Csrrc,
                    };
                    csr_insn(op, 0, rs, c)
                };
                return self.emit(&[i], false, col);
            }
            "rdcycle" | "rdtime" | "rdinstret" => {
                self.count(&ops, &[1], mn, "rd")?;
                let rd = self.reg(&ops[0])?;
                let c = match mn {
                    "rdcycle" => 0xc00,
                    "rdtime" => 0xc01,
                    _ => 0xc02,
                };
                return self.emit(&[csr_insn(Op::Csrrs, rd, 0, c)], false, col);
            }
            "unimp" => {
                self.count(&ops, &[0], mn, "")?;
                if rvc {
                    return self.push_code(vec![0, 0], col);
                }
                return self.emit(&[csr_insn(Op::Csrrw, 0, 0, 0xc00)], false, col);
            }
            "fence" => {
                let imm = match ops.len() {
                    0 => 0xff,
                    2 => (self.fence_set(&ops[0])? << 4) | self.fence_set(&ops[1])?,
                    _ => return self.count(&ops, &[0, 2], mn, "[pred, succ]"),
                };
                return self.emit(&[Insn::new(Op::Fence, 0, 0, 0, imm)], false, col);
            }
            "fence.tso" => {
                self.count(&ops, &[0], mn, "")?;
                return self.emit(&[Insn::new(Op::FenceTso, 0, 0, 0, 0x833)], false, col);
            }
            "sfence.vma" => {
                self.count(&ops, &[0, 1, 2], mn, "[rs1[, rs2]]")?;
                let rs1 = match ops.first() {
                    Some(o) => self.reg(o)?,
                    None => 0,
                };
                let rs2 = match ops.get(1) {
                    Some(o) => self.reg(o)?,
                    None => 0,
                };
                return self.emit(&[Insn::new(Op::SfenceVma, 0, rs1, rs2, 0)], false, col);
            }
            _ => {}
        }
        // Base instructions, with `.aq`/`.rl`/`.aqrl` on atomics.
        let (base, aq, rl) = match mn.rsplit_once('.') {
            Some((b, "aq")) => (b, true, false),
            Some((b, "rl")) => (b, false, true),
            Some((b, "aqrl")) => (b, true, true),
            _ => (mn, false, false),
        };
        let unknown = || (col, unknown_msg(mn));
        let op = Op::from_name(base).ok_or_else(unknown)?;
        let def = op.def().ok_or_else(unknown)?;
        if (aq || rl) && !matches!(def.format, Format::Amo | Format::Lr) {
            return Err(unknown());
        }
        self.base(mn, op, def.format, &ops, (aq, rl), col)
    }

    fn base(
        &mut self,
        mn: &str,
        op: Op,
        format: Format,
        ops: &[Operand],
        (aq, rl): (bool, bool),
        col: usize,
    ) -> R<()> {
        match format {
            Format::R => {
                self.count(ops, &[3], mn, "rd, rs1, rs2")?;
                let (rd, rs1) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                if !Self::is_reg(&ops[2]) {
                    // GNU as accepts `add rd, rs, imm` for the instructions with an
                    // immediate form.
                    let iop = match op {
                        Op::Add => Some(Op::Addi),
                        Op::And => Some(Op::Andi),
                        Op::Or => Some(Op::Ori),
                        Op::Xor => Some(Op::Xori),
                        Op::Slt => Some(Op::Slti),
                        Op::Sltu => Some(Op::Sltiu),
                        Op::Sll => Some(Op::Slli),
                        Op::Srl => Some(Op::Srli),
                        Op::Sra => Some(Op::Srai),
                        Op::Addw => Some(Op::Addiw),
                        Op::Sllw => Some(Op::Slliw),
                        Op::Srlw => Some(Op::Srliw),
                        Op::Sraw => Some(Op::Sraiw),
                        _ => None,
                    };
                    if let Some(d) = iop.and_then(|o| o.def()) {
                        return self.base(d.name, d.op, d.format, ops, (false, false), col);
                    }
                }
                let rs2 = self.reg(&ops[2])?;
                self.emit(&[Insn::new(op, rd, rs1, rs2, 0)], true, col)
            }
            Format::I => {
                self.count(ops, &[3], mn, "rd, rs1, imm")?;
                let (rd, rs1) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let a = self.imm_arg(&ops[2])?;
                let acol = a.col;
                match self.imm12(a)? {
                    Ok(v) => {
                        if !(-2048..=2047).contains(&v) {
                            return err(
                                acol,
                                format!(
                                    "immediate {v} out of range for {mn}: expected -2048..=2047"
                                ),
                            );
                        }
                        self.emit(&[Insn::new(op, rd, rs1, 0, v)], true, col)
                    }
                    Err(f) => self.emit_fix(Insn::new(op, rd, rs1, 0, 0), f, acol),
                }
            }
            Format::Shift | Format::ShiftW => {
                self.count(ops, &[3], mn, "rd, rs1, shamt")?;
                let (rd, rs1) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let v = self.const_imm(&ops[2], "shift amount")?;
                let max = if format == Format::Shift { 63 } else { 31 };
                if !(0..=max).contains(&v) {
                    return err(
                        ops[2].col,
                        format!("shift amount {v} out of range for {mn}: expected 0..={max}"),
                    );
                }
                self.emit(&[Insn::new(op, rd, rs1, 0, v)], true, col)
            }
            Format::Load | Format::S | Format::FLoad | Format::FStore => {
                if op == Op::Jalr {
                    return self.jalr(mn, ops, col);
                }
                let store = matches!(format, Format::S | Format::FStore);
                let fp = matches!(format, Format::FLoad | Format::FStore);
                let n = ops.len();
                let form = if store {
                    "rs2, offset(rs1)"
                } else {
                    "rd, offset(rs1)"
                };
                if !(n == 2 || ((store || fp) && n == 3)) {
                    return self.count(ops, &[2], mn, form);
                }
                let r = if fp {
                    self.freg(&ops[0])?
                } else {
                    self.reg(&ops[0])?
                };
                let mk = |base: u8, imm: i64| {
                    if store {
                        Insn::new(op, 0, base, r, imm)
                    } else {
                        Insn::new(op, r, base, 0, imm)
                    }
                };
                match self.mem(&ops[1])? {
                    Some((off, base)) => {
                        if n == 3 {
                            return err(ops[2].col, format!("too many operands for {mn}"));
                        }
                        let Some(a) = off else {
                            return self.emit(&[mk(base, 0)], true, col);
                        };
                        let acol = a.col;
                        match self.imm12(a)? {
                            Ok(v) => {
                                if !(-2048..=2047).contains(&v) {
                                    return err(
                                        acol,
                                        format!("offset {v} out of range for {mn}: expected -2048..=2047"),
                                    );
                                }
                                self.emit(&[mk(base, v)], true, col)
                            }
                            Err(f) => self.emit_fix(mk(base, 0), f, acol),
                        }
                    }
                    None => {
                        // `lw rd, symbol` / `sw rs, symbol, rt`: auipc + the access.
                        if Self::is_reg(&ops[1]) {
                            return err(
                                ops[1].col,
                                format!("expected `offset(register)` or a symbol for {mn}"),
                            );
                        }
                        let a = self.imm_arg(&ops[1])?;
                        if a.modifier.is_some() {
                            return err(
                                ops[1].col,
                                format!("expected `offset(register)` for {mn}"),
                            );
                        }
                        if store && n != 3 {
                            return err(
                                self.stmt_end,
                                format!("{mn} to a symbol needs a temporary register: expected `{mn} rs2, symbol, rt`"),
                            );
                        }
                        if fp && n != 3 {
                            return err(
                                self.stmt_end,
                                format!("{mn} from a symbol needs a temporary register: expected `{mn} fd, symbol, rt`"),
                            );
                        }
                        let rt = if store || fp { self.reg(&ops[2])? } else { r };
                        self.emit_fix(
                            Insn::new(Op::Auipc, rt, 0, 0, 0),
                            Fix::PcrelHi(a.expr.clone()),
                            a.col,
                        )?;
                        self.emit_fix(mk(rt, 0), Fix::PcrelLoPrev(a.expr), a.col)
                    }
                }
            }
            Format::B => {
                self.count(ops, &[3], mn, "rs1, rs2, target")?;
                let (a, b) = (self.reg(&ops[0])?, self.reg(&ops[1])?);
                let t = self.target(&ops[2])?;
                self.cond_branch(op, a, b, t, true, ops[2].col)
            }
            Format::U => {
                self.count(ops, &[2], mn, "rd, imm")?;
                let rd = self.reg(&ops[0])?;
                let a = self.imm_arg(&ops[1])?;
                let acol = a.col;
                let want = if op == Op::Lui { "hi" } else { "pcrel_hi" };
                match a.modifier.as_deref() {
                    None => match self.value(a.expr)? {
                        Val::Const(v) => {
                            if !(0..=0xfffff).contains(&v) {
                                return err(
                                    acol,
                                    format!("immediate {v} out of range for {mn}: expected 0..=1048575 (0xfffff)"),
                                );
                            }
                            self.emit(&[Insn::new(op, rd, 0, 0, (v << 44) >> 44)], true, col)
                        }
                        Val::Later(e) => {
                            self.emit_fix(Insn::new(op, rd, 0, 0, 0), Fix::Upper(e), acol)
                        }
                    },
                    Some(m) if m == want => {
                        if op == Op::Lui {
                            match self.value(a.expr)? {
                                // Of a constant, GNU as takes the 20 bits without a check.
                                Val::Const(v) => {
                                    let hi = (v.wrapping_add(0x800) >> 12) & 0xfffff;
                                    let i = Insn::new(op, rd, 0, 0, (hi << 44) >> 44);
                                    self.emit(&[i], false, col)
                                }
                                Val::Later(e) => {
                                    self.emit_fix(Insn::new(op, rd, 0, 0, 0), Fix::Hi(e), acol)
                                }
                            }
                        } else {
                            self.emit_fix(Insn::new(op, rd, 0, 0, 0), Fix::PcrelHi(a.expr), acol)
                        }
                    }
                    Some(m) => err(
                        acol,
                        format!("`%{m}` is not allowed in {mn}: expected %{want}"),
                    ),
                }
            }
            Format::Csr => {
                self.count(ops, &[3], mn, "rd, csr, rs1")?;
                let rd = self.reg(&ops[0])?;
                let c = self.csr(&ops[1])?;
                if !Self::is_reg(&ops[2]) {
                    let iop = match op {
                        Op::Csrrw => Op::Csrrwi,
                        Op::Csrrs => Op::Csrrsi,
                        _ => Op::Csrrci,
                    };
                    return self.base(iop.name(), iop, Format::CsrI, ops, (false, false), col);
                }
                let rs1 = self.reg(&ops[2])?;
                self.emit(&[csr_insn(op, rd, rs1, c)], false, col)
            }
            Format::CsrI => {
                self.count(ops, &[3], mn, "rd, csr, uimm")?;
                let rd = self.reg(&ops[0])?;
                let c = self.csr(&ops[1])?;
                let v = self.const_imm(&ops[2], "CSR immediate")?;
                if !(0..=31).contains(&v) {
                    return err(
                        ops[2].col,
                        format!("immediate {v} out of range for {mn}: expected 0..=31"),
                    );
                }
                let i = Insn {
                    csr: c,
                    ..Insn::new(op, rd, 0, 0, v)
                };
                self.emit(&[i], false, col)
            }
            Format::Amo | Format::Lr => {
                let lr = format == Format::Lr;
                let n = if lr { 2 } else { 3 };
                let form = if lr { "rd, (rs1)" } else { "rd, rs2, (rs1)" };
                self.count(ops, &[n], mn, form)?;
                let rd = self.reg(&ops[0])?;
                let rs2 = if lr { 0 } else { self.reg(&ops[1])? };
                let m = &ops[n - 1];
                let Some((off, rs1)) = self.mem(m)? else {
                    return err(m.col, format!("expected `(register)` for {mn}"));
                };
                if let Some(a) = off {
                    self.no_mod(&a)?;
                    if self.const_now(&a.expr)? != Some(0) {
                        return err(
                            a.col,
                            format!("{mn} takes no offset: expected `(register)` or `0(register)`"),
                        );
                    }
                }
                let i = Insn {
                    aq,
                    rl,
                    ..Insn::new(op, rd, rs1, rs2, 0)
                };
                self.emit(&[i], false, col)
            }
            Format::FR | Format::FSgn | Format::FCmp | Format::FR4 => {
                let (fr_d, _, _) = format.float_regs();
                let (n, form) = match format {
                    Format::FR => (3, "fd, fs1, fs2[, rm]"),
                    Format::FSgn => (3, "fd, fs1, fs2"),
                    Format::FCmp => (3, "rd, fs1, fs2"),
                    _ => (4, "fd, fs1, fs2, fs3[, rm]"),
                };
                let counts: &[usize] = if format.has_rm() { &[n, n + 1] } else { &[n] };
                self.count(ops, counts, mn, form)?;
                let rd = if fr_d {
                    self.freg(&ops[0])?
                } else {
                    self.reg(&ops[0])?
                };
                let (rs1, rs2) = (self.freg(&ops[1])?, self.freg(&ops[2])?);
                let mut i = Insn::new(op, rd, rs1, rs2, 0);
                if format == Format::FR4 {
                    i.rs3 = self.freg(&ops[3])?;
                }
                if format.has_rm() {
                    i.rm = self.rm(ops, n)?;
                }
                self.emit(&[i], false, col)
            }
            Format::FUnary
            | Format::FUnaryX
            | Format::FToInt
            | Format::FFromInt
            | Format::FFromIntX
            | Format::FMvToInt
            | Format::FMvFromInt => {
                let (fr_d, fr_s, _) = format.float_regs();
                let with_rm = matches!(format, Format::FUnary | Format::FToInt | Format::FFromInt);
                let form = match (fr_d, fr_s) {
                    (true, true) => "fd, fs1",
                    (false, true) => "rd, fs1",
                    _ => "fd, rs1",
                };
                if with_rm {
                    self.count(ops, &[2, 3], mn, &format!("{form}[, rm]"))?;
                } else {
                    self.count(ops, &[2], mn, form)?;
                }
                let rd = if fr_d {
                    self.freg(&ops[0])?
                } else {
                    self.reg(&ops[0])?
                };
                let rs1 = if fr_s {
                    self.freg(&ops[1])?
                } else {
                    self.reg(&ops[1])?
                };
                let mut i = Insn::new(op, rd, rs1, 0, 0);
                if with_rm {
                    i.rm = self.rm(ops, 2)?;
                }
                // The always-exact conversions keep rm = 0 (rne), as GNU as 2.40 writes them.
                self.emit(&[i], false, col)
            }
            Format::Fence | Format::FenceI | Format::None | Format::Sfence | Format::J => {
                // `fence`, `fence.tso`, `sfence.vma` and `jal` are handled above.
                self.count(ops, &[0], mn, "")?;
                self.emit(&[Insn::new(op, 0, 0, 0, 0)], true, col)
            }
        }
    }

    fn cond_branch(
        &mut self,
        op: Op,
        rs1: u8,
        rs2: u8,
        target: Expr,
        rvc: bool,
        col: usize,
    ) -> R<()> {
        // GNU as's c.beqz/c.bnez patterns: `beqz rs'`, `beq rs', zero` (and bne).
        let rvc = rvc
            && self.o.rvc
            && rs2 == 0
            && (8..16).contains(&rs1)
            && matches!(op, Op::Beq | Op::Bne);
        self.emit_branch(
            Branch {
                op,
                rd: 0,
                rs1,
                rs2,
                target,
                rvc,
                len: if rvc { 2 } else { 4 },
            },
            col,
        )
    }

    fn jump(&mut self, rd: u8, target: Expr, rvc: bool, col: usize) -> R<()> {
        let rvc = rvc && self.o.rvc && rd == 0;
        self.emit_branch(
            Branch {
                op: Op::Jal,
                rd,
                rs1: 0,
                rs2: 0,
                target,
                rvc,
                len: if rvc { 2 } else { 4 },
            },
            col,
        )
    }

    fn jalr(&mut self, mn: &str, ops: &[Operand], col: usize) -> R<()> {
        // jr rs | jr off(rs) | jr rs, off ; jalr rs | jalr off(rs) | jalr rs, off |
        // jalr rd, rs | jalr rd, off(rs) | jalr rd, rs, off. GNU as compresses only the
        // forms without an offset.
        let jr = mn == "jr";
        let form = if jr {
            "rs | offset(rs) | rs, offset"
        } else {
            "[rd,] rs | [rd,] offset(rs) | rd, rs, offset"
        };
        let default_rd = if jr { 0 } else { 1 };
        let (rd, rs1, off, compressible) = match ops.len() {
            1 => match self.mem(&ops[0])? {
                Some((off, rs)) => (default_rd, rs, off, false),
                None => (default_rd, self.reg(&ops[0])?, None, true),
            },
            2 if !jr && Self::is_reg(&ops[0]) && Self::is_reg(&ops[1]) => {
                (self.reg(&ops[0])?, self.reg(&ops[1])?, None, true)
            }
            2 if !jr => {
                let first = self.reg(&ops[0])?;
                match self.mem(&ops[1])? {
                    Some((off, rs)) => (first, rs, off, false),
                    None => {
                        // `jalr rs, off` (rd = ra).
                        let a = self.imm_arg(&ops[1])?;
                        (1, first, Some(a), false)
                    }
                }
            }
            2 => {
                let rs = self.reg(&ops[0])?;
                let a = self.imm_arg(&ops[1])?;
                (0, rs, Some(a), false)
            }
            3 if !jr => {
                let rd = self.reg(&ops[0])?;
                let rs = self.reg(&ops[1])?;
                let a = self.imm_arg(&ops[2])?;
                (rd, rs, Some(a), false)
            }
            _ => return self.count(ops, &[], mn, form),
        };
        let mk = |imm| Insn::new(Op::Jalr, rd, rs1, 0, imm);
        match off {
            None => self.emit(&[mk(0)], compressible, col),
            Some(a) => {
                let acol = a.col;
                match self.imm12(a)? {
                    Ok(v) => {
                        if !(-2048..=2047).contains(&v) {
                            return err(
                                acol,
                                format!("offset {v} out of range for {mn}: expected -2048..=2047"),
                            );
                        }
                        self.emit(&[mk(v)], false, col)
                    }
                    Err(f) => self.emit_fix(mk(0), f, acol),
                }
            }
        }
    }

    fn compressed(&mut self, mn: &str, ops: &[Operand], col: usize) -> R<()> {
        let known = mn == "c.unimp" || CTABLE.iter().any(|d| d.name == mn);
        if known && !self.o.rvc {
            return err(
                col,
                format!("{mn} is a compressed instruction, but compression is off: expected `.option rvc` before it"),
            );
        }
        if mn == "c.unimp" {
            self.count(ops, &[0], mn, "")?;
            return self.push_code(vec![0, 0], col);
        }
        let Some(cdef) = CTABLE.iter().find(|d| d.name == mn) else {
            return err(col, unknown_msg(mn));
        };
        let cop = cdef.cop;
        use COp::*;
        let fixed = |r: CReg| match r {
            CReg::Ra => 1,
            CReg::Sp => 2,
            _ => 0,
        };
        let mut i = Insn::new(
            cdef.base,
            fixed(cdef.rd),
            fixed(cdef.rs1),
            fixed(cdef.rs2),
            0,
        );
        let same = |i: &mut Insn| {
            if cdef.rs1 == CReg::SameAsRd {
                i.rs1 = i.rd;
            }
            if cdef.rs2 == CReg::SameAsRd {
                i.rs2 = i.rd;
            }
        };
        match cop {
            CNop | CEbreak => self.count(ops, &[0], mn, "")?,
            CAddi4spn => {
                self.count(ops, &[3], mn, "rd', sp, imm")?;
                i.rd = self.reg(&ops[0])?;
                if self.reg(&ops[1])? != 2 {
                    return err(ops[1].col, format!("{mn} adds to sp: expected `sp`"));
                }
                i.imm = self.const_imm(&ops[2], "immediate")?;
            }
            CLw | CLd | CLwsp | CLdsp | CSw | CSd | CSwsp | CSdsp | CFld | CFsd | CFldsp
            | CFsdsp => {
                self.count(ops, &[2], mn, "reg, offset(base)")?;
                let r = if matches!(cop, CFld | CFsd | CFldsp | CFsdsp) {
                    self.freg(&ops[0])?
                } else {
                    self.reg(&ops[0])?
                };
                let Some((off, base)) = self.mem(&ops[1])? else {
                    return err(ops[1].col, format!("expected `offset(register)` for {mn}"));
                };
                if matches!(cop, CSw | CSd | CSwsp | CSdsp | CFsd | CFsdsp) {
                    i.rs2 = r;
                } else {
                    i.rd = r;
                }
                i.rs1 = base;
                if let Some(a) = off {
                    self.no_mod(&a)?;
                    i.imm = self
                        .const_now(&a.expr)?
                        .ok_or((a.col, "expected a constant offset".to_string()))?;
                }
            }
            CAddi | CAddiw | CLi | CSlli | CSrli | CSrai | CAndi | CLui => {
                self.count(ops, &[2], mn, "rd, imm")?;
                i.rd = self.reg(&ops[0])?;
                if Self::is_reg(&ops[1]) {
                    return err(
                        ops[1].col,
                        format!("expected an immediate for {mn}, found a register"),
                    );
                }
                let v = self.const_imm(&ops[1], "immediate")?;
                if cop == CLui && i.rd == 2 {
                    return err(
                        ops[0].col,
                        "c.lui cannot write sp (that encoding is c.addi16sp): expected another register",
                    );
                }
                i.imm = if cop == CLui {
                    if !(0..=0xfffff).contains(&v) {
                        return err(
                            ops[1].col,
                            format!("immediate {v} out of range for c.lui: expected 1..=31 or 0xfffe0..=0xfffff"),
                        );
                    }
                    (v << 44) >> 44
                } else {
                    v
                };
                same(&mut i);
            }
            CAddi16sp => {
                self.count(ops, &[2], mn, "sp, imm")?;
                if self.reg(&ops[0])? != 2 {
                    return err(ops[0].col, format!("{mn} adds to sp: expected `sp`"));
                }
                i.imm = self.const_imm(&ops[1], "immediate")?;
            }
            CSub | CXor | COr | CAnd | CSubw | CAddw | CMv | CAdd => {
                self.count(ops, &[2], mn, "rd, rs2")?;
                i.rd = self.reg(&ops[0])?;
                i.rs2 = self.reg(&ops[1])?;
                same(&mut i);
            }
            CJr | CJalr => {
                self.count(ops, &[1], mn, "rs1")?;
                i.rs1 = self.reg(&ops[0])?;
            }
            CJ => {
                self.count(ops, &[1], mn, "target")?;
                let t = self.target(&ops[0])?;
                let b = Branch {
                    op: Op::Jal,
                    rd: 0,
                    rs1: 0,
                    rs2: 0,
                    target: t,
                    rvc: true,
                    len: 2,
                };
                return self.emit_branch(b, ops[0].col);
            }
            CBeqz | CBnez => {
                self.count(ops, &[2], mn, "rs1', target")?;
                let r = self.reg(&ops[0])?;
                if !(8..16).contains(&r) {
                    return err(
                        ops[0].col,
                        format!(
                            "{mn} needs one of x8..x15 (s0, s1, a0..a5), found `{}`",
                            REG_NAMES[r as usize]
                        ),
                    );
                }
                let t = self.target(&ops[1])?;
                let b = Branch {
                    op: cdef.base,
                    rd: 0,
                    rs1: r,
                    rs2: 0,
                    target: t,
                    rvc: true,
                    len: 2,
                };
                return self.emit_branch(b, ops[1].col);
            }
        }
        i.compressed = Some(cop);
        let at = ops.first().map_or(col, |o| o.col);
        let enc = isa::encode(&i).map_err(|e| (at, encode_msg(&e)))?;
        self.push_code(enc.to_bytes(), col)
    }
}

/// The message for a mnemonic the assembler does not know, with a hint for the usual
/// suspects.
fn unknown_msg(mn: &str) -> String {
    let hint = if matches!(
        mn,
        "c.jal" | "rdcycleh" | "rdtimeh" | "rdinstreth" | "c.flw" | "c.fsw" | "c.flwsp" | "c.fswsp"
    ) {
        " (it exists only on RV32)"
    } else {
        ""
    };
    format!("unknown instruction `{mn}`{hint}")
}

/// The CSR a floating-point CSR pseudo-instruction names (`frcsr`, `fsrm`, `frflags`...).
fn fp_csr(mn: &str) -> u16 {
    if mn.ends_with("flags") {
        0x001
    } else if mn.ends_with("rm") {
        0x002
    } else {
        0x003
    }
}

fn csr_insn(op: Op, rd: u8, rs1: u8, csr: u16) -> Insn {
    Insn {
        csr,
        ..Insn::new(op, rd, rs1, 0, 0)
    }
}

/// Checks that `v` fits in `size` bytes as a signed or an unsigned value.
pub(crate) fn check_fits(v: i64, size: u8, col: usize) -> R<()> {
    if size >= 8 {
        return Ok(());
    }
    let bits = size as u32 * 8;
    let min = -(1i64 << (bits - 1));
    let max = (1i64 << bits) - 1;
    if v < min || v > max {
        let s = if size == 1 { "" } else { "s" };
        return err(
            col,
            format!("value {v} does not fit in {size} byte{s}: expected {min}..={max}"),
        );
    }
    Ok(())
}

fn replace_dot(e: Expr, name: &str) -> Expr {
    match e {
        Expr::Dot => Expr::Sym(name.to_string(), 0),
        Expr::Un(op, a) => Expr::Un(op, Box::new(replace_dot(*a, name))),
        Expr::Bin(op, a, b, at) => Expr::Bin(
            op,
            Box::new(replace_dot(*a, name)),
            Box::new(replace_dot(*b, name)),
            at,
        ),
        e => e,
    }
}

/// One comma-separated operand.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operand<'t> {
    pub toks: &'t [Tok],
    /// Where it starts.
    pub col: usize,
    /// Where it ends.
    pub end: usize,
}

fn split_commas(toks: &[Tok]) -> Vec<Operand<'_>> {
    let mut out = Vec::new();
    if toks.is_empty() {
        return out;
    }
    let mut depth = 0i32;
    let mut start = 0;
    let mut start_col = toks[0].col;
    for (k, t) in toks.iter().enumerate() {
        match t.kind {
            Tk::P("(") => depth += 1,
            Tk::P(")") => depth -= 1,
            Tk::P(",") if depth <= 0 => {
                out.push(Operand {
                    toks: &toks[start..k],
                    col: if start < k { toks[start].col } else { t.col },
                    end: t.col,
                });
                start = k + 1;
                start_col = toks.get(k + 1).map_or(t.end, |n| n.col);
            }
            _ => {}
        }
    }
    out.push(Operand {
        toks: &toks[start..],
        col: start_col,
        end: toks.last().map_or(start_col, |t| t.end),
    });
    out
}

fn ident(op: &Operand) -> R<(String, usize)> {
    match op.toks {
        [Tok {
            kind: Tk::Ident(n),
            col,
            ..
        }] if n != "." => Ok((n.clone(), *col)),
        [Tok {
            kind: Tk::Str(s),
            col,
            ..
        }] => Ok((String::from_utf8_lossy(s).into_owned(), *col)),
        _ => err(
            op.col,
            format!("expected a symbol name, found {}", describe_toks(op.toks)),
        ),
    }
}

fn describe(t: &Tok) -> String {
    match &t.kind {
        Tk::Ident(s) => format!("`{s}`"),
        Tk::Num(n) => format!("`{n}`"),
        Tk::Str(_) => "a string".into(),
        Tk::LocalRef(n, f) => format!("`{n}{}`", if *f { 'f' } else { 'b' }),
        Tk::Mod(m) => format!("`%{m}`"),
        Tk::P(p) => format!("`{p}`"),
    }
}

fn describe_toks(t: &[Tok]) -> String {
    match t {
        [] => "nothing".into(),
        [one] => describe(one),
        [first, ..] => format!("{} ...", describe(first)),
    }
}
