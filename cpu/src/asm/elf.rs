//! A small ELF64 little-endian writer for linked RISC-V executables.
//!
//! File layout: the ELF header, the program headers, then the bytes of each `PT_LOAD`
//! segment at a file offset congruent to its address modulo 4 KiB, then the non-allocated
//! sections, `.symtab`, `.strtab`, `.shstrtab`, and the section header table.

use super::{Object, SymbolKind};

const PAGE: u64 = 0x1000;
const EHDR: u64 = 64;
const PHDR: u64 = 56;
const SHDR: u64 = 64;

struct Sh {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

fn pad_to(out: &mut Vec<u8>, off: u64) {
    if (out.len() as u64) < off {
        out.resize(off as usize, 0);
    }
}

fn align(v: u64, a: u64) -> u64 {
    let a = a.max(1);
    v.div_ceil(a) * a
}

fn strtab_add(tab: &mut Vec<u8>, s: &str) -> u32 {
    let off = tab.len() as u32;
    tab.extend_from_slice(s.as_bytes());
    tab.push(0);
    off
}

/// A `PT_LOAD` segment: sections `first..=last` (indices into `obj.sections`).
struct Seg {
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    flags: u32,
    secs: Vec<usize>,
    offset: u64,
}

pub(crate) fn write(obj: &Object) -> Vec<u8> {
    // Segments: text (R+X: the executable and read-only sections) and data (RW).
    let mut segs: Vec<Seg> = Vec::new();
    for (k, s) in obj.sections.iter().enumerate() {
        if !s.alloc {
            continue;
        }
        let flags = if s.write { 6 } else { 5 };
        match segs.last_mut() {
            Some(g) if g.flags == flags => g.secs.push(k),
            _ => segs.push(Seg {
                vaddr: s.addr,
                filesz: 0,
                memsz: 0,
                flags,
                secs: vec![k],
                offset: 0,
            }),
        }
    }
    for g in &mut segs {
        let first = &obj.sections[g.secs[0]];
        g.vaddr = first.addr;
        let end = g
            .secs
            .iter()
            .map(|&k| obj.sections[k].addr + obj.sections[k].size)
            .max()
            .unwrap_or(g.vaddr);
        g.memsz = end - g.vaddr;
        let file_end = g
            .secs
            .iter()
            .filter(|&&k| !obj.sections[k].nobits)
            .map(|&k| obj.sections[k].addr + obj.sections[k].size)
            .max()
            .unwrap_or(g.vaddr);
        g.filesz = file_end.max(g.vaddr) - g.vaddr;
    }
    segs.retain(|g| g.memsz > 0);

    let phnum = segs.len() as u64;
    let mut out = vec![0u8; (EHDR + phnum * PHDR) as usize];
    let mut shs: Vec<Sh> = vec![Sh {
        name: 0,
        kind: 0,
        flags: 0,
        addr: 0,
        offset: 0,
        size: 0,
        link: 0,
        info: 0,
        align: 0,
        entsize: 0,
    }];
    let mut shstr = vec![0u8];
    let mut sec_index = vec![0u16; obj.sections.len()];
    let mut sec_offset = vec![0u64; obj.sections.len()];

    // Segment contents.
    for g in &mut segs {
        let cur = out.len() as u64;
        let mut off = align(cur, PAGE) - PAGE + g.vaddr % PAGE;
        if off < cur {
            off += PAGE;
        }
        g.offset = off;
        pad_to(&mut out, off + g.filesz);
        for &k in &g.secs {
            let s = &obj.sections[k];
            let o = off + (s.addr - g.vaddr);
            sec_offset[k] = o;
            if !s.nobits {
                let start = o as usize;
                out[start..start + s.data.len()].copy_from_slice(&s.data);
            }
        }
    }
    // Non-allocated sections.
    for (k, s) in obj.sections.iter().enumerate() {
        if s.alloc {
            continue;
        }
        let o = align(out.len() as u64, s.align);
        pad_to(&mut out, o);
        sec_offset[k] = o;
        if !s.nobits {
            out.extend_from_slice(&s.data);
        }
    }
    for (k, s) in obj.sections.iter().enumerate() {
        sec_index[k] = shs.len() as u16;
        let mut flags = 0;
        if s.write {
            flags |= 1;
        }
        if s.alloc {
            flags |= 2;
        }
        if s.exec {
            flags |= 4;
        }
        shs.push(Sh {
            name: strtab_add(&mut shstr, &s.name),
            kind: if s.nobits { 8 } else { 1 },
            flags,
            addr: s.addr,
            offset: sec_offset[k],
            size: s.size,
            link: 0,
            info: 0,
            align: s.align.max(1),
            entsize: 0,
        });
    }

    // Symbols: null, the file, locals, then globals.
    let mut strtab = vec![0u8];
    let mut syms: Vec<u8> = vec![0u8; 24];
    let push_sym = |syms: &mut Vec<u8>, name: u32, info: u8, shndx: u16, value: u64, size: u64| {
        syms.extend_from_slice(&name.to_le_bytes());
        syms.push(info);
        syms.push(0);
        syms.extend_from_slice(&shndx.to_le_bytes());
        syms.extend_from_slice(&value.to_le_bytes());
        syms.extend_from_slice(&size.to_le_bytes());
    };
    if let Some(f) = &obj.file_name {
        let n = strtab_add(&mut strtab, f);
        push_sym(&mut syms, n, 4, 0xfff1, 0, 0);
    }
    let shndx = |s: &super::Symbol| -> u16 {
        match &s.section {
            Some(name) => obj
                .sections
                .iter()
                .position(|x| &x.name == name)
                .map_or(0xfff1, |k| sec_index[k]),
            None => 0xfff1,
        }
    };
    let kind = |s: &super::Symbol| match s.kind {
        SymbolKind::NoType => 0u8,
        SymbolKind::Object => 1,
        SymbolKind::Function => 2,
    };
    for s in obj.symbols.iter().filter(|s| !s.global) {
        let n = strtab_add(&mut strtab, &s.name);
        push_sym(&mut syms, n, kind(s), shndx(s), s.value, s.size);
    }
    let first_global = (syms.len() / 24) as u32;
    for s in obj.symbols.iter().filter(|s| s.global) {
        let n = strtab_add(&mut strtab, &s.name);
        let bind = if s.weak { 2 } else { 1 };
        push_sym(
            &mut syms,
            n,
            (bind << 4) | kind(s),
            shndx(s),
            s.value,
            s.size,
        );
    }
    let symtab_index = shs.len() as u32;
    let o = align(out.len() as u64, 8);
    pad_to(&mut out, o);
    out.extend_from_slice(&syms);
    let symtab_name = strtab_add(&mut shstr, ".symtab");
    shs.push(Sh {
        name: symtab_name,
        kind: 2,
        flags: 0,
        addr: 0,
        offset: o,
        size: syms.len() as u64,
        link: symtab_index + 1,
        info: first_global,
        align: 8,
        entsize: 24,
    });
    let o = out.len() as u64;
    out.extend_from_slice(&strtab);
    let strtab_name = strtab_add(&mut shstr, ".strtab");
    shs.push(Sh {
        name: strtab_name,
        kind: 3,
        flags: 0,
        addr: 0,
        offset: o,
        size: strtab.len() as u64,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    let shstrndx = shs.len() as u16;
    let shstr_name = strtab_add(&mut shstr, ".shstrtab");
    let o = out.len() as u64;
    out.extend_from_slice(&shstr);
    shs.push(Sh {
        name: shstr_name,
        kind: 3,
        flags: 0,
        addr: 0,
        offset: o,
        size: shstr.len() as u64,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
    });
    let shoff = align(out.len() as u64, 8);
    pad_to(&mut out, shoff);
    for s in &shs {
        out.extend_from_slice(&s.name.to_le_bytes());
        out.extend_from_slice(&s.kind.to_le_bytes());
        out.extend_from_slice(&s.flags.to_le_bytes());
        out.extend_from_slice(&s.addr.to_le_bytes());
        out.extend_from_slice(&s.offset.to_le_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
        out.extend_from_slice(&s.link.to_le_bytes());
        out.extend_from_slice(&s.info.to_le_bytes());
        out.extend_from_slice(&s.align.to_le_bytes());
        out.extend_from_slice(&s.entsize.to_le_bytes());
    }

    // The ELF header.
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&obj.entry.to_le_bytes());
    h.extend_from_slice(&(if phnum > 0 { EHDR } else { 0 }).to_le_bytes());
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&obj.flags.to_le_bytes());
    h.extend_from_slice(&(EHDR as u16).to_le_bytes());
    h.extend_from_slice(&(PHDR as u16).to_le_bytes());
    h.extend_from_slice(&(phnum as u16).to_le_bytes());
    h.extend_from_slice(&(SHDR as u16).to_le_bytes());
    h.extend_from_slice(&(shs.len() as u16).to_le_bytes());
    h.extend_from_slice(&shstrndx.to_le_bytes());
    out[..64].copy_from_slice(&h);
    for (k, g) in segs.iter().enumerate() {
        let mut p = Vec::with_capacity(56);
        p.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        p.extend_from_slice(&g.flags.to_le_bytes());
        p.extend_from_slice(&g.offset.to_le_bytes());
        p.extend_from_slice(&g.vaddr.to_le_bytes());
        p.extend_from_slice(&g.vaddr.to_le_bytes());
        p.extend_from_slice(&g.filesz.to_le_bytes());
        p.extend_from_slice(&g.memsz.to_le_bytes());
        p.extend_from_slice(&PAGE.to_le_bytes());
        let at = (EHDR + k as u64 * PHDR) as usize;
        out[at..at + 56].copy_from_slice(&p);
    }
    out
}
