//! Layout, branch relaxation and emission: from section items to a linked [`Object`].
//!
//! Input sections are gathered into output sections the way `programs/elf/link.ld` does
//! (`.text.init` first, then `.text` and `.text.*`; `.rodata`; on the next 4 KiB page
//! `.tohost`, `.data`, `.bss`), every item gets an address, and branches to labels grow from
//! their shortest form until every one reaches its target. Then the bytes are written with
//! the final symbol values.

use super::expr::{self, Env, Expr, ExprError};
use super::parse::{check_fits, encode_msg, Asm, Fix, Flags, ItemKind, Loc, SymDef};
use super::{Object, Section, Symbol, SymbolKind};
use crate::isa::{self, compress, Insn, Op};
use std::collections::HashMap;

/// An output section: a group of input sections.
struct OutSec {
    name: String,
    rank: u8,
    flags: Flags,
    align: u64,
    inputs: Vec<usize>,
    addr: u64,
    size: u64,
}

/// The rank (order) and output name of an input section.
fn classify(name: &str, f: Flags) -> (u8, String) {
    let is = |p: &str| name == p || name.starts_with(&format!("{p}."));
    if !f.alloc {
        return (10, name.to_string());
    }
    if f.nobits {
        return if is(".bss") || is(".sbss") || name == "COMMON" {
            (7, ".bss".into())
        } else {
            (8, name.to_string())
        };
    }
    if is(".text") {
        (0, ".text".into())
    } else if is(".rodata") || is(".srodata") {
        (2, ".rodata".into())
    } else if name == ".tohost" {
        (4, ".tohost".into())
    } else if is(".data") || is(".sdata") {
        (5, ".data".into())
    } else if f.exec {
        (1, name.to_string())
    } else if !f.write {
        (3, name.to_string())
    } else {
        (6, name.to_string())
    }
}

fn align_up(v: u64, a: u64) -> Option<u64> {
    let a = a.max(1);
    v.checked_add(a - 1).map(|x| x / a * a)
}

/// The final symbol values.
struct FinalEnv<'b> {
    asm: &'b Asm<'b>,
    depth: usize,
    /// Use GNU as's section offsets instead of the final addresses.
    gas: bool,
}

impl Env for FinalEnv<'_> {
    fn symbol(&mut self, name: &str, at: usize) -> Result<Option<i64>, ExprError> {
        let Some(i) = self.asm.sym_id(name) else {
            return Err((at, format!("undefined symbol `{}`", shown(name))));
        };
        match &self.asm.syms[i].def {
            SymDef::Label { sec, item } => {
                let it = &self.asm.secs[*sec].items[*item];
                Ok(Some(if self.gas { it.gas_addr } else { it.addr } as i64))
            }
            SymDef::Const(v) => Ok(Some(*v)),
            SymDef::Value(e) => {
                if self.depth > 64 {
                    return Err((at, format!("symbol `{name}` is defined in terms of itself (or through more than 64 symbols)")));
                }
                self.depth += 1;
                let e = e.clone();
                let r = expr::eval(&e, self, None);
                self.depth -= 1;
                r
            }
            SymDef::Undef if name.contains('\u{2}') => {
                Err((at, format!("undefined local label `{}`", shown(name))))
            }
            SymDef::Undef => Err((at, format!("undefined symbol `{}`", shown(name)))),
        }
    }
}

/// A symbol name as the user wrote it (numeric local labels as `1f`).
fn shown(name: &str) -> String {
    match name.split_once('\u{2}') {
        Some((n, _)) if n != "." => format!("{n}f"),
        _ => name.to_string(),
    }
}

fn eval_final(asm: &Asm, e: &Expr, dot: u64) -> Result<i64, ExprError> {
    eval_with(asm, e, dot, false)
}

fn eval_with(asm: &Asm, e: &Expr, dot: u64, gas: bool) -> Result<i64, ExprError> {
    let mut env = FinalEnv { asm, depth: 0, gas };
    match expr::eval(e, &mut env, Some(dot as i64))? {
        Some(v) => Ok(v),
        None => Err((
            expr::start(e).unwrap_or(0),
            "expression has no value".into(),
        )),
    }
}

/// The input section `e` is relative to (a label or `.` plus or minus constants), if any.
fn target_sec(asm: &Asm, e: &Expr, cur: usize) -> Option<usize> {
    match e {
        Expr::Dot => Some(cur),
        Expr::Sym(n, _) => match asm.sym_id(n).map(|i| &asm.syms[i].def) {
            Some(SymDef::Label { sec, .. }) => Some(*sec),
            _ => None,
        },
        Expr::Bin("+", a, b, _) => match (target_sec(asm, a, cur), target_sec(asm, b, cur)) {
            (Some(s), None) | (None, Some(s)) => Some(s),
            _ => None,
        },
        Expr::Bin("-", a, b, _) => match (target_sec(asm, a, cur), target_sec(asm, b, cur)) {
            (Some(s), None) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn fits(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v) && v & 1 == 0
}

/// The length a branch needs at `addr` (GNU as's `relaxed_branch_length`).
fn needed_len(b: &super::parse::Branch, addr: u64, target: Option<i64>, same: bool) -> u8 {
    let jump = b.op == Op::Jal;
    let worst = if jump { 4 } else { 8 };
    let Some(t) = target else {
        return b.len;
    };
    if !same {
        return worst;
    }
    let off = t.wrapping_sub(addr as i64);
    if b.rvc && fits(off, if jump { 12 } else { 9 }) {
        2
    } else if fits(off, 13) || jump {
        4
    } else if b.rvc {
        6
    } else {
        8
    }
}

/// The size of an item at `addr`: in the final layout, or (`gas`) as GNU as lays it out
/// before ld deletes excess alignment padding.
fn item_size(kind: &ItemKind, addr: u64, gas: bool) -> u64 {
    match kind {
        ItemKind::EndPad { align, .. } => (align - addr % align) % align,
        ItemKind::Label => 0,
        ItemKind::Bytes { bytes, .. } => bytes.len() as u64,
        ItemKind::Zero(n) => *n,
        ItemKind::Data { size, .. } => *size as u64,
        ItemKind::Insn { .. } => 4,
        ItemKind::Branch(b) => b.len as u64,
        ItemKind::Align {
            align,
            max,
            relax,
            code,
            ..
        } => {
            let unit = if *code == 2 { 2 } else { 4 };
            if *code != 0 && *align <= unit {
                // In code, GNU as ignores an alignment no larger than an instruction.
                return 0;
            }
            if *relax && gas {
                return align - unit;
            }
            let pad = (align - addr % align) % align;
            if *relax {
                // ld pads to the alignment whatever the maximum said.
                return pad;
            }
            match max {
                Some(m) if pad > *m => 0,
                _ => pad,
            }
        }
    }
}

/// GNU as's nop fill (`riscv_make_nops`): a zero byte if odd, one `c.nop` if needed, then
/// 4-byte nops.
fn gas_nops(n: usize, out: &mut Vec<u8>) {
    let mut i = 0;
    if n % 2 == 1 {
        out.push(0);
        i += 1;
    }
    if (n - i) % 4 == 2 {
        out.extend_from_slice(&[1, 0]);
        i += 2;
    }
    while i + 4 <= n {
        out.extend_from_slice(&[0x13, 0, 0, 0]);
        i += 4;
    }
}

/// Builds the linked object, or returns every error found.
pub(crate) fn link(asm: &mut Asm) -> Result<Object, Vec<(Loc, String)>> {
    let mut errors: Vec<(Loc, String)> = Vec::new();

    // Output sections.
    let mut outs: Vec<OutSec> = Vec::new();
    let mut order: Vec<usize> = (0..asm.secs.len()).collect();
    // `.text.init` goes first in `.text`.
    order.sort_by_key(|&i| asm.secs[i].name != ".text.init");
    for &i in &order {
        let s = &asm.secs[i];
        if s.items.is_empty() && s.name != ".text" {
            // Still an output section if it is declared: keeps labels-only sections.
        }
        let (rank, name) = classify(&s.name, s.flags);
        match outs.iter_mut().find(|o| o.name == name) {
            Some(o) => {
                o.inputs.push(i);
                o.align = o.align.max(s.align);
            }
            None => outs.push(OutSec {
                name,
                rank,
                flags: s.flags,
                align: s.align,
                inputs: vec![i],
                addr: 0,
                size: 0,
            }),
        }
    }
    outs.sort_by_key(|o| o.rank);

    // Layout with branch relaxation.
    let base = asm.opts.text_base;
    let mut iterations = 0;
    loop {
        if let Err(m) = assign(asm, &mut outs, base) {
            errors.push((Loc::default(), m));
            return Err(errors);
        }
        let mut changed = false;
        for si in 0..asm.secs.len() {
            for ii in 0..asm.secs[si].items.len() {
                let (gas, b) = match &asm.secs[si].items[ii] {
                    super::parse::Item {
                        kind: ItemKind::Branch(b),
                        gas_addr,
                        ..
                    } => (*gas_addr, b),
                    _ => continue,
                };
                // GNU as picks the length with its own offsets in the section.
                let same = target_sec(asm, &b.target, si) == Some(si);
                let t = eval_with(asm, &b.target, gas, true).ok();
                let need = needed_len(b, gas, t, same);
                if need > b.len {
                    if let ItemKind::Branch(b) = &mut asm.secs[si].items[ii].kind {
                        b.len = need;
                    }
                    changed = true;
                }
            }
        }
        iterations += 1;
        if !changed || iterations > 200 {
            break;
        }
    }

    // %pcrel_hi values by the address of their auipc.
    let mut pcrel: HashMap<u64, i64> = HashMap::new();
    for s in &asm.secs {
        for it in &s.items {
            if let ItemKind::Insn {
                fix: Fix::PcrelHi(e),
                ..
            } = &it.kind
            {
                if let Ok(v) = eval_final(asm, e, it.addr) {
                    pcrel.insert(it.addr, v);
                }
            }
        }
    }

    // Emission.
    let mut data: Vec<Vec<u8>> = Vec::with_capacity(asm.secs.len());
    let mut code: Vec<(u64, u64)> = Vec::new();
    for s in asm.secs.iter() {
        let mut out: Vec<u8> = Vec::new();
        let nobits = s.flags.nobits;
        let code_before = code.len();
        for it in &s.items {
            let at = |col: usize| Loc {
                line: it.loc.line,
                col,
            };
            let put = |b: &[u8], out: &mut Vec<u8>| {
                if !nobits {
                    out.extend_from_slice(b)
                }
            };
            match &it.kind {
                ItemKind::Label => {}
                ItemKind::Bytes { bytes, code: c } => {
                    if *c {
                        code.push((it.addr, bytes.len() as u64));
                    }
                    put(bytes, &mut out);
                }
                ItemKind::Zero(n) => {
                    if !nobits {
                        out.resize(out.len() + *n as usize, 0);
                    }
                }
                ItemKind::Data { size, expr: e } => {
                    let v = match eval_final(asm, e, it.addr) {
                        Ok(v) => v,
                        Err((c, m)) => {
                            errors.push((at(c), m));
                            0
                        }
                    };
                    if let Err((c, m)) = check_fits(v, *size, it.loc.col) {
                        errors.push((at(c), m));
                    }
                    put(&v.to_le_bytes()[..*size as usize], &mut out);
                }
                ItemKind::Insn { insn, fix } => {
                    let w = match fixed_insn(asm, insn, fix, it.addr, &pcrel) {
                        Ok(w) => w,
                        Err((c, m)) => {
                            errors.push((at(if c == 0 { it.loc.col } else { c }), m));
                            0x13
                        }
                    };
                    code.push((it.addr, 4));
                    put(&w.to_le_bytes(), &mut out);
                }
                ItemKind::Branch(b) => {
                    let bytes = match branch_bytes(asm, b, it.addr) {
                        Ok(v) => v,
                        Err((c, m)) => {
                            errors.push((at(if c == 0 { it.loc.col } else { c }), m));
                            vec![0x13, 0, 0, 0, 0x13, 0, 0, 0][..b.len as usize].to_vec()
                        }
                    };
                    code.push((it.addr, bytes.len() as u64));
                    put(&bytes, &mut out);
                }
                ItemKind::EndPad { nops, .. } => {
                    let mut pad = Vec::new();
                    if *nops {
                        gas_nops(it.size as usize, &mut pad);
                    } else {
                        pad.resize(it.size as usize, 0);
                    }
                    put(&pad, &mut out);
                }
                ItemKind::Align {
                    fill,
                    code: c,
                    relax,
                    align,
                    ..
                } => {
                    let n = it.size as usize;
                    let mut pad = Vec::with_capacity(n);
                    match (fill, c) {
                        (Some(f), _) => pad.resize(n, *f),
                        (None, 0) => pad.resize(n, 0),
                        (None, c) => {
                            let unit = if *c == 2 { 2 } else { 4 };
                            if *relax && n as u64 != align.saturating_sub(unit) {
                                // ld rewrites the padding it shortened: 4-byte nops, then a
                                // c.nop if needed.
                                if n % 2 == 1 {
                                    pad.push(0);
                                }
                                while pad.len() + 4 <= n {
                                    pad.extend_from_slice(&[0x13, 0, 0, 0]);
                                }
                                if pad.len() + 2 <= n {
                                    pad.extend_from_slice(&[1, 0]);
                                }
                            } else {
                                gas_nops(n, &mut pad);
                            }
                            let odd = (n % 2) as u64;
                            if n as u64 > odd {
                                code.push((it.addr + odd, n as u64 - odd));
                            }
                        }
                    }
                    put(&pad, &mut out);
                }
            }
        }
        if !s.flags.alloc {
            // Code that is not loaded is not listed.
            code.truncate(code_before);
        }
        data.push(out);
    }

    // Symbols.
    let mut symbols = Vec::new();
    let sec_out = |si: usize| outs.iter().position(|o| o.inputs.contains(&si));
    for s in &asm.syms {
        if s.hidden() {
            continue;
        }
        let (value, section) = match &s.def {
            // Declared (`.globl x`) but never defined nor used: not in the table. A use
            // of an undefined symbol was reported where it is used.
            SymDef::Undef => continue,
            SymDef::Label { sec, item } => (asm.secs[*sec].items[*item].addr, sec_out(*sec)),
            SymDef::Const(v) => (*v as u64, None),
            // A label plus or minus a constant belongs to the label's section. GNU as makes
            // it a position in the section (ld then moves it as it deletes alignment
            // padding), not the label's final address plus the constant.
            SymDef::Value(e) => match eval_final(asm, e, 0) {
                Ok(v) => match target_sec(asm, e, usize::MAX) {
                    Some(si) => {
                        let v = match eval_with(asm, e, 0, true) {
                            Ok(g) => gas_to_final(asm, si, g as u64),
                            Err(_) => v as u64,
                        };
                        (v, sec_out(si))
                    }
                    None => (v as u64, None),
                },
                Err((c, m)) => {
                    errors.push((
                        Loc {
                            line: s.loc.line,
                            col: c,
                        },
                        m,
                    ));
                    continue;
                }
            },
        };
        let size = match &s.size {
            Some(e) => match eval_final(asm, e, 0) {
                Ok(v) => v as u64,
                Err((c, m)) => {
                    errors.push((
                        Loc {
                            line: s.loc.line,
                            col: c,
                        },
                        m,
                    ));
                    0
                }
            },
            None => 0,
        };
        // A label in an output section ld drops because it is empty: ld drops it if it is
        // local, and keeps a global one as an absolute value.
        let section = match section {
            Some(o) if outs[o].size == 0 => {
                if !s.global {
                    continue;
                }
                None
            }
            other => other,
        };
        symbols.push(Symbol {
            name: s.name.clone(),
            value,
            size,
            global: s.global,
            weak: s.weak,
            kind: match s.kind {
                1 => SymbolKind::Object,
                2 => SymbolKind::Function,
                _ => SymbolKind::NoType,
            },
            section: section.map(|o| outs[o].name.clone()),
        });
    }
    // Undefined symbols that were used are reported where they are used (by the
    // evaluation above); a used symbol that is only declared global is one of them.

    if !errors.is_empty() {
        errors.sort_by_key(|(l, _)| (l.line, l.col));
        errors.dedup();
        return Err(errors);
    }

    // Output sections with their bytes.
    let mut sections = Vec::new();
    for o in &outs {
        let mut bytes = Vec::new();
        for &si in &o.inputs {
            let s = &asm.secs[si];
            if !o.flags.nobits {
                let off = (s.addr - o.addr) as usize;
                bytes.resize(off, 0);
                bytes.extend_from_slice(&data[si]);
            }
        }
        // ld drops empty output sections (their local labels too; see above).
        if o.size == 0 {
            continue;
        }
        if !o.flags.nobits {
            bytes.resize(o.size as usize, 0);
        }
        sections.push(Section {
            name: o.name.clone(),
            addr: o.addr,
            size: o.size,
            data: bytes,
            align: o.align,
            alloc: o.flags.alloc,
            write: o.flags.write,
            exec: o.flags.exec,
            nobits: o.flags.nobits,
        });
    }
    if !sections.iter().any(|s| s.alloc && s.size > 0) {
        return Err(vec![(
            Loc::default(),
            "nothing to load: the program has no instructions or data".into(),
        )]);
    }
    let entry = symbols
        .iter()
        .find(|s| s.name == "_start" && s.section.is_some())
        .map(|s| s.value)
        .or_else(|| sections.iter().find(|s| s.name == ".text").map(|s| s.addr))
        .unwrap_or(base);
    code.sort_unstable();
    Ok(Object {
        sections,
        symbols,
        entry,
        flags: if asm.rvc_ever { 1 } else { 0 },
        code,
        file_name: None,
    })
}

/// The final address of GNU as's offset `g` in input section `si`, as ld moves symbols when
/// it deletes alignment padding (a position inside deleted bytes moves to their start).
fn gas_to_final(asm: &Asm, si: usize, g: u64) -> u64 {
    let sec = &asm.secs[si];
    for it in &sec.items {
        let gsize = item_size(&it.kind, it.gas_addr, true);
        if g >= it.gas_addr && g < it.gas_addr + gsize {
            return it.addr + (g - it.gas_addr).min(it.size);
        }
    }
    // At or past the end: relative to the end.
    let gas_end = sec
        .items
        .last()
        .map_or(0, |it| it.gas_addr + item_size(&it.kind, it.gas_addr, true));
    (sec.addr + sec.size).wrapping_add(g.wrapping_sub(gas_end))
}

/// Gives every output section, input section and item its address.
fn assign(asm: &mut Asm, outs: &mut [OutSec], base: u64) -> Result<(), String> {
    let too_big =
        || "the program does not fit in the 64-bit address space from its base address".to_string();
    let mut cur = base;
    let mut data_started = false;
    for o in outs.iter_mut() {
        let mut a = if o.rank == 10 {
            0
        } else {
            if o.rank >= 4 && !data_started {
                data_started = true;
                cur = match asm.opts.data_base {
                    Some(d) if d >= cur => d,
                    Some(d) => {
                        return Err(format!(
                            "the data base {d:#x} lies below the end of the read-only sections ({cur:#x}); place the data higher"
                        ))
                    }
                    None => align_up(cur, 0x1000).ok_or_else(too_big)?,
                };
            }
            align_up(cur, o.align).ok_or_else(too_big)?
        };
        o.addr = a;
        for &si in &o.inputs {
            let s = &mut asm.secs[si];
            a = align_up(a, s.align).ok_or_else(too_big)?;
            s.addr = a;
            let mut g = 0u64;
            for it in s.items.iter_mut() {
                it.addr = a;
                it.gas_addr = g;
                let gsize = item_size(&it.kind, g, true);
                // Only ld's `R_RISCV_ALIGN` padding follows the final addresses; other
                // padding keeps the size GNU as gave it in its own offsets.
                it.size = match it.kind {
                    ItemKind::EndPad { .. } | ItemKind::Align { relax: false, .. } => gsize,
                    _ => item_size(&it.kind, a, false),
                };
                a = a.checked_add(it.size).ok_or_else(too_big)?;
                g = g.saturating_add(gsize);
            }
            s.size = a - s.addr;
        }
        o.size = a - o.addr;
        if o.size > super::parse::MAX_OUTPUT * 2 {
            return Err(format!(
                "section `{}` is larger than the {} MiB limit",
                o.name,
                super::parse::MAX_OUTPUT >> 20
            ));
        }
        if o.rank != 10 {
            cur = a;
        }
    }
    Ok(())
}

fn sext12(v: i64) -> i64 {
    ((v & 0xfff) ^ 0x800) - 0x800
}

fn hi20(v: i64, what: &str) -> Result<i64, ExprError> {
    let hi = v.wrapping_add(0x800) >> 12;
    if !(-(1 << 19)..(1 << 19)).contains(&hi) {
        return Err((0, format!("{what} value {v:#x} out of range: expected a 32-bit signed value (-0x80000000..=0x7fffffff)")));
    }
    Ok(hi)
}

/// Fills in a deferred immediate and encodes the 32-bit instruction.
fn fixed_insn(
    asm: &Asm,
    insn: &Insn,
    fix: &Fix,
    addr: u64,
    pcrel: &HashMap<u64, i64>,
) -> Result<u32, ExprError> {
    let mut i = *insn;
    let name = i.op.name();
    match fix {
        Fix::Imm(e) => i.imm = eval_final(asm, e, addr)?,
        Fix::Upper(e) => {
            let v = eval_final(asm, e, addr)?;
            if !(0..=0xfffff).contains(&v) {
                return Err((
                    expr::start(e).unwrap_or(0),
                    format!(
                        "immediate {v} out of range for {name}: expected 0..=1048575 (0xfffff)"
                    ),
                ));
            }
            i.imm = (v << 44) >> 44;
        }
        Fix::Lo(e) => i.imm = sext12(eval_final(asm, e, addr)?),
        Fix::Hi(e) => i.imm = hi20(eval_final(asm, e, addr)?, "%hi")?,
        Fix::PcrelHi(e) => {
            let v = eval_final(asm, e, addr)?;
            i.imm = hi20(v.wrapping_sub(addr as i64), "%pcrel_hi offset")?;
        }
        Fix::PcrelLo(e) => {
            let at = eval_final(asm, e, addr)? as u64;
            let Some(t) = pcrel.get(&at) else {
                return Err((
                    expr::start(e).unwrap_or(0),
                    format!("%pcrel_lo needs the label of an `auipc` with %pcrel_hi, but there is none at {at:#x}"),
                ));
            };
            i.imm = sext12(t.wrapping_sub(at as i64));
        }
        Fix::PcrelLoPrev(e) => {
            let auipc = addr.wrapping_sub(4);
            let v = eval_final(asm, e, auipc)?;
            i.imm = sext12(v.wrapping_sub(auipc as i64));
        }
    }
    match isa::encode(&i) {
        Ok(e) => Ok(e.bits()),
        Err(e) => Err((0, encode_msg(&e))),
    }
}

/// Encodes a relaxed branch in its chosen length.
fn branch_bytes(asm: &Asm, b: &super::parse::Branch, addr: u64) -> Result<Vec<u8>, ExprError> {
    let t = eval_final(asm, &b.target, addr)?;
    let off = t.wrapping_sub(addr as i64);
    let col = expr::start(&b.target).unwrap_or(0);
    let range = |lo: i64, hi: i64, what: &str| -> ExprError {
        (
            col,
            format!("{what} target {t:#x} out of range: offset {off} is not within {lo}..={hi}"),
        )
    };
    if off & 1 != 0 {
        return Err((
            col,
            format!("branch target {t:#x} is not 2-byte aligned (offset {off} is odd)"),
        ));
    }
    let mut out = Vec::new();
    let enc = |i: &Insn| -> Result<Vec<u8>, ExprError> {
        isa::encode(i)
            .map(|e| e.to_bytes())
            .map_err(|e| (col, encode_msg(&e)))
    };
    match b.len {
        2 => {
            let i = Insn::new(b.op, b.rd, b.rs1, b.rs2, off);
            match compress(&i) {
                Some(p) => out.extend(p.to_le_bytes()),
                None => {
                    return Err(range(
                        if b.op == Op::Jal { -2048 } else { -256 },
                        if b.op == Op::Jal { 2046 } else { 254 },
                        "compressed branch",
                    ))
                }
            }
        }
        4 => {
            let i = Insn::new(b.op, b.rd, b.rs1, b.rs2, off);
            if b.op == Op::Jal && !fits(off, 21) {
                return Err(range(-(1 << 20), (1 << 20) - 2, "jump"));
            }
            if b.op != Op::Jal && !fits(off, 13) {
                return Err(range(-4096, 4094, "branch"));
            }
            out.extend(enc(&i)?);
        }
        6 | 8 => {
            // The inverted branch over a jump.
            let inv = match b.op {
                Op::Beq => Op::Bne,
                Op::Bne => Op::Beq,
                Op::Blt => Op::Bge,
                Op::Bge => Op::Blt,
                Op::Bltu => Op::Bgeu,
                _ => Op::Bltu,
            };
            let skip = b.len as i64;
            let first = Insn::new(inv, 0, b.rs1, b.rs2, skip);
            if b.len == 6 {
                let p = compress(&first).ok_or_else(|| range(-256, 254, "compressed branch"))?;
                out.extend(p.to_le_bytes());
            } else {
                out.extend(enc(&first)?);
            }
            let jaddr = addr + skip as u64 - 4;
            let joff = t.wrapping_sub(jaddr as i64);
            if !fits(joff, 21) {
                return Err(range(-(1 << 20), (1 << 20) - 2, "branch"));
            }
            out.extend(enc(&Insn::new(Op::Jal, 0, 0, 0, joff))?);
        }
        _ => return Err((col, "internal: bad branch length".into())),
    }
    Ok(out)
}
