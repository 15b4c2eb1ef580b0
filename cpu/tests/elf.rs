//! The ELF loader against the programs in `programs/elf/` (built by `programs/elf/build.sh`
//! with the GNU cross binutils and committed), and against every refusal, made by patching
//! bytes of those programs.

use vmlab_cpu::elf::{Elf, ElfError};
use vmlab_devices::{Ram, RamConfig};

const EXIT: &[u8] = include_bytes!("../../programs/elf/exit.elf");
const BIGBSS: &[u8] = include_bytes!("../../programs/elf/bigbss.elf");
const LOWADDR: &[u8] = include_bytes!("../../programs/elf/lowaddr.elf");

/// `riscv64-unknown-elf-nm -n` of each program, as `build.sh` prints it.
const EXIT_NM: &str = "\
0000000080000000 T _start
000000008000002e r message
0000000080001000 D tohost
0000000080001040 D fromhost
0000000080001048 D value
0000000080001050 B counter
0000000080001090 B _end
";
const BIGBSS_NM: &str = "\
0000000080000000 T _start
0000000080001000 D tohost
0000000080001008 D fromhost
0000000080001010 D seed
0000000080002000 B buffer
0000000080102000 B _end
";
const LOWADDR_NM: &str = "\
00000000000100b0 T _start
00000000000110bc T __DATA_BEGIN__
00000000000110bc T __SDATA_BEGIN__
00000000000110bc T __bss_start
00000000000110bc T _edata
00000000000110c0 T __BSS_END__
00000000000110c0 T _end
00000000000118bc A __global_pointer$
";

const RAM_BASE: u64 = 0x8000_0000;
const RAM_SIZE: u64 = 128 << 20;

/// What a good ELF must parse to.
struct Expected {
    entry: u64,
    /// (vaddr, paddr, file size, memory size, flags as readelf shows them)
    segments: &'static [(u64, u64, u64, u64, &'static str)],
    nm: &'static str,
    tohost: Option<u64>,
    fromhost: Option<u64>,
}

/// Either the parse result, or the exact error message.
enum Expect {
    Good(Expected),
    Refused(&'static str),
}

/// Parses `bytes` as the bare machine loads them (static `ET_EXEC` only).
fn check(path: &str, bytes: &[u8], expected: Expect) {
    let got = Elf::parse(bytes, path).and_then(|e| e.require_static().map(|()| e));
    match (got, expected) {
        (Ok(elf), Expect::Good(x)) => {
            assert_eq!(elf.path, path);
            assert_eq!(elf.entry, x.entry, "{path}: entry");
            let segs: Vec<_> = elf
                .segments
                .iter()
                .map(|s| {
                    (
                        s.vaddr,
                        s.paddr,
                        s.data.len() as u64,
                        s.mem_size,
                        s.flags.to_string(),
                    )
                })
                .collect();
            let want: Vec<_> = x
                .segments
                .iter()
                .map(|&(v, p, f, m, fl)| (v, p, f, m, fl.to_string()))
                .collect();
            assert_eq!(segs, want, "{path}: segments");
            for line in x.nm.lines() {
                let mut it = line.split_whitespace();
                let addr = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                let _kind = it.next().unwrap();
                let name = it.next().unwrap();
                assert_eq!(elf.symbol(name), Some(addr), "{path}: symbol {name}");
            }
            assert_eq!(
                elf.symbols.len(),
                x.nm.lines().count(),
                "{path}: symbols {:?}",
                elf.symbols
            );
            assert_eq!(elf.tohost, x.tohost, "{path}: tohost");
            assert_eq!(elf.fromhost, x.fromhost, "{path}: fromhost");
            // The segment bytes are the file's bytes at the segment's offset.
            for s in &elf.segments {
                let off = 0x1000 * (s.index as u64);
                if s.vaddr >= RAM_BASE {
                    assert_eq!(&s.data[..], &bytes[off as usize..][..s.data.len()]);
                }
            }
        }
        (Err(e), Expect::Refused(msg)) => assert_eq!(e.to_string(), msg, "{path}"),
        (Ok(elf), Expect::Refused(msg)) => panic!("{path}: accepted {elf:?}, expected {msg}"),
        (Err(e), Expect::Good(_)) => panic!("{path}: refused: {e}"),
    }
}

#[test]
fn good_programs() {
    check(
        "programs/elf/exit.elf",
        EXIT,
        Expect::Good(Expected {
            entry: 0x8000_0000,
            segments: &[
                (0x8000_0000, 0x8000_0000, 0x34, 0x34, "R E"),
                (0x8000_1000, 0x8000_1000, 0x50, 0x90, "RW "),
            ],
            nm: EXIT_NM,
            tohost: Some(0x8000_1000),
            fromhost: Some(0x8000_1040),
        }),
    );
    check(
        "programs/elf/bigbss.elf",
        BIGBSS,
        Expect::Good(Expected {
            entry: 0x8000_0000,
            segments: &[
                (0x8000_0000, 0x8000_0000, 0x1e, 0x1e, "R E"),
                (0x8000_1000, 0x8000_1000, 0x18, 0x10_1000, "RW "),
            ],
            nm: BIGBSS_NM,
            tohost: Some(0x8000_1000),
            fromhost: Some(0x8000_1008),
        }),
    );
    check(
        "programs/elf/lowaddr.elf",
        LOWADDR,
        Expect::Good(Expected {
            entry: 0x100b0,
            segments: &[(0x10000, 0x10000, 0xbc, 0xbc, "R E")],
            nm: LOWADDR_NM,
            tohost: None,
            fromhost: None,
        }),
    );
}

fn patched(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v[at..at + value.len()].copy_from_slice(value);
    v
}

/// The file offset of program header `i` of `bytes` (e_phoff + 56 i).
fn phdr(bytes: &[u8], i: usize) -> usize {
    u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize + 56 * i
}

#[test]
fn refusals() {
    let p = "programs/x.elf";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"#!/bin/sh\n".to_vec(),
            "programs/x.elf: not an ELF file (it starts with 23 21 2f 62, an ELF file with \
             7f 45 4c 46); give vmlab a RISC-V executable, or an assembly file ending in .s",
        ),
        (
            Vec::new(),
            "programs/x.elf: truncated: the file is only 0x0 bytes long, but bytes 0x0..0x10 \
             should hold the ELF identification; rebuild or re-copy the file",
        ),
        (
            patched(EXIT, 18, &62u16.to_le_bytes()),
            "programs/x.elf: ELF for x86-64 (machine 62), vmlab runs RISC-V (machine 243) \
             executables",
        ),
        (
            patched(EXIT, 18, &183u16.to_le_bytes()),
            "programs/x.elf: ELF for AArch64 (machine 183), vmlab runs RISC-V (machine 243) \
             executables",
        ),
        (
            patched(EXIT, 4, &[1]),
            "programs/x.elf: ELF class 1 (32-bit), vmlab runs 64-bit ELF (class 2) executables; \
             build with -march=rv64imac -mabi=lp64",
        ),
        (
            patched(EXIT, 5, &[2]),
            "programs/x.elf: ELF data encoding 2 (big-endian), vmlab runs little-endian \
             (encoding 1) RISC-V executables",
        ),
        (
            patched(EXIT, 16, &1u16.to_le_bytes()),
            "programs/x.elf: a relocatable object (ET_REL, type 1), not an executable; link it \
             first, e.g. `riscv64-unknown-elf-ld -T link.ld -o prog.elf prog.o`",
        ),
        (
            patched(EXIT, 16, &3u16.to_le_bytes()),
            "programs/x.elf: a shared object or position-independent executable (ET_DYN, type \
             3), and the bare machine loads executables at their link addresses (ET_EXEC, type \
             2); run it under the kernel (leave out --bare), or link with -static -no-pie, or \
             with ld without -pie/-shared",
        ),
        (
            EXIT[..40].to_vec(),
            "programs/x.elf: truncated: the file is only 0x28 bytes long, but bytes 0x0..0x40 \
             should hold the ELF header; rebuild or re-copy the file",
        ),
        (
            EXIT[..100].to_vec(),
            "programs/x.elf: truncated: the file is only 0x64 bytes long, but bytes 0x40..0xe8 \
             should hold the program headers; rebuild or re-copy the file",
        ),
        (
            EXIT[..0x1010].to_vec(),
            "programs/x.elf: truncated: the file is only 0x1010 bytes long, but bytes \
             0x1000..0x1034 should hold the segment 1 data; rebuild or re-copy the file",
        ),
        (
            EXIT[..EXIT.len() - 1].to_vec(),
            "programs/x.elf: truncated: the file is only 0x2557 bytes long, but bytes \
             0x22d8..0x2558 should hold the section headers; rebuild or re-copy the file",
        ),
        (
            // The data segment moved onto the code segment.
            patched(
                &patched(EXIT, phdr(EXIT, 2) + 16, &0x8000_0010u64.to_le_bytes()),
                phdr(EXIT, 2) + 24,
                &0x8000_0010u64.to_le_bytes(),
            ),
            "programs/x.elf: segments 1 (0x80000000..0x80000034) and 2 (0x80000010..0x800000a0) \
             overlap in memory; each byte must belong to one segment (check the linker script)",
        ),
        (
            // p_filesz 0x100 > p_memsz 0x90.
            patched(EXIT, phdr(EXIT, 2) + 32, &0x100u64.to_le_bytes()),
            "programs/x.elf: malformed ELF: segment 2: file size 0x100 is larger than its memory \
             size 0x90 (p_filesz must be at most p_memsz)",
        ),
        (
            // The code segment made PT_INTERP: its bytes are no path.
            patched(EXIT, phdr(EXIT, 1), &3u32.to_le_bytes()),
            "programs/x.elf: malformed ELF: segment 1 (PT_INTERP) does not hold an absolute \
             path of the interpreter (it holds 2 bytes starting 97 12)",
        ),
        (
            // The attributes header made PT_INTERP, its bytes an interpreter's path.
            patched(
                &patched(EXIT, phdr(EXIT, 0), &3u32.to_le_bytes()),
                0x2050,
                b"/lib/ld-linux-riscv64-lp64d.so.1\0",
            ),
            "programs/x.elf: a dynamically linked executable (it asks for the interpreter \
             /lib/ld-linux-riscv64-lp64d.so.1); run it with --sysroot DIR (a folder holding that \
             interpreter and the libraries, e.g. /usr/riscv64-linux-gnu), or link with -static",
        ),
        (
            // The attributes header made PT_DYNAMIC, with no interpreter.
            patched(EXIT, phdr(EXIT, 0), &2u32.to_le_bytes()),
            "programs/x.elf: a dynamically linked executable (it asks for dynamic linking); run \
             it with --sysroot DIR (a folder holding the dynamic linker and the libraries, e.g. \
             /usr/riscv64-linux-gnu), or link with -static",
        ),
        (
            // The only loadable segment made PT_NULL.
            patched(LOWADDR, phdr(LOWADDR, 1), &0u32.to_le_bytes()),
            "programs/x.elf: the executable has no loadable segment (PT_LOAD); link it with ld \
             so its code is in one",
        ),
        (
            patched(EXIT, 24, &0x9000_0000u64.to_le_bytes()),
            "programs/x.elf: the entry point 0x90000000 lies in no loadable segment; link with \
             ENTRY(_start) and a `_start` symbol in .text",
        ),
        (
            patched(EXIT, 54, &32u16.to_le_bytes()),
            "programs/x.elf: malformed ELF: program header size e_phentsize = 32 (ELF64 uses 56)",
        ),
        (
            patched(EXIT, phdr(EXIT, 2) + 40, &u64::MAX.to_le_bytes()),
            "programs/x.elf: segment 2 at 0x80001000 with memory size 0xffffffffffffffff runs \
             past the end of the 64-bit address space",
        ),
    ];
    for (bytes, msg) in cases {
        check(p, &bytes, Expect::Refused(msg));
    }
}

/// Loads `elf` into a map of written bytes through `load_into`.
fn load(elf: &Elf, base: u64, size: u64) -> Result<Vec<(u64, Vec<u8>)>, ElfError> {
    let mut writes = Vec::new();
    elf.load_into(base, size, &mut |pa, bytes| {
        writes.push((pa, bytes.to_vec()));
        Ok(())
    })?;
    Ok(writes)
}

#[test]
fn outside_ram_is_refused_before_anything_is_written() {
    let low = Elf::parse(LOWADDR, "programs/elf/lowaddr.elf").unwrap();
    assert_eq!(
        load(&low, RAM_BASE, RAM_SIZE).unwrap_err().to_string(),
        "programs/elf/lowaddr.elf: segment 1 (0x10000..0x100bc) lies outside RAM \
         (0x80000000..0x88000000); link the program inside RAM (e.g. at 0x80000000 with a \
         linker script) or configure RAM to cover it"
    );
    // RAM at 0 covers it.
    assert!(load(&low, 0, 1 << 20).is_ok());
    let exit = Elf::parse(EXIT, "programs/elf/exit.elf").unwrap();
    let mut writes = 0;
    let err = exit
        .load_into(RAM_BASE, 0x1000, &mut |_, _| {
            writes += 1;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(writes, 0);
    assert!(
        matches!(err, ElfError::OutsideRam { index: 2, .. }),
        "{err}"
    );
    let big = Elf::parse(BIGBSS, "programs/elf/bigbss.elf").unwrap();
    let err = load(&big, RAM_BASE, 1 << 20).unwrap_err();
    assert!(
        matches!(
            err,
            ElfError::OutsideRam {
                start: 0x8000_1000,
                end: 0x8010_2000,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn write_errors_name_the_address() {
    let exit = Elf::parse(EXIT, "programs/elf/exit.elf").unwrap();
    let err = exit
        .load_into(RAM_BASE, RAM_SIZE, &mut |_, _| Err("bus error".into()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "programs/elf/exit.elf: loading 0x34 bytes at 0x80000000 failed: bus error"
    );
}

#[test]
fn loads_into_ram_with_zeroed_bss() {
    for (name, bytes) in [("exit", EXIT), ("bigbss", BIGBSS)] {
        let elf = Elf::parse(bytes, name).unwrap();
        let mut ram = Ram::new(RamConfig::default()).unwrap();
        // Dirty the .bss first: loading must zero it.
        let last = elf.segments.last().unwrap();
        ram.write_bytes(last.paddr_end() - 8, &[0xaa; 8]).unwrap();
        let entry = elf
            .load_into(ram.base(), ram.size(), &mut |pa, b| {
                ram.write_bytes(pa, b).map_err(|e| e.to_string())
            })
            .unwrap();
        assert_eq!(entry, elf.entry);
        for s in &elf.segments {
            let mut buf = vec![0xffu8; s.mem_size as usize];
            ram.peek_bytes(s.paddr, &mut buf).unwrap();
            assert_eq!(&buf[..s.data.len()], &s.data[..], "{name}");
            assert!(buf[s.data.len()..].iter().all(|&b| b == 0), "{name}: bss");
        }
        // The .bss zeros allocate nothing beyond the pages the file bytes and the dirtied
        // word touch.
        assert!(
            ram.allocated_pages() <= 3,
            "{name}: {}",
            ram.allocated_pages()
        );
    }
    let exit = Elf::parse(EXIT, "exit").unwrap();
    let mut ram = Ram::new(RamConfig::default()).unwrap();
    exit.load_into(ram.base(), ram.size(), &mut |pa, b| {
        ram.write_bytes(pa, b).map_err(|e| e.to_string())
    })
    .unwrap();
    // `value` is 42, and the first instruction is auipc t0 (0x...297).
    assert_eq!(ram.peek(exit.symbol("value").unwrap(), 8).unwrap(), 42);
    assert_eq!(ram.peek(exit.entry, 2).unwrap() & 0x7f, 0x17);
}

#[test]
fn open_reads_files_and_reports_missing_ones() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../programs/elf/");
    let elf = Elf::open(std::path::Path::new(&format!("{dir}exit.elf"))).unwrap();
    assert_eq!(elf.tohost, Some(0x8000_1000));
    let err = Elf::open(std::path::Path::new(&format!("{dir}missing.elf"))).unwrap_err();
    assert!(matches!(err, ElfError::Io { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("missing.elf: cannot read the file"));
}

/// Parses damaged bytes: an error or a parse, never a panic; a successful parse also loads.
fn survive(bytes: &[u8]) -> bool {
    match Elf::parse(bytes, "fuzz") {
        Ok(elf) => {
            let _ = elf.load_into(RAM_BASE, RAM_SIZE, &mut |_, _| Ok(()));
            true
        }
        Err(_) => false,
    }
}

#[test]
fn every_truncation_is_refused() {
    for bytes in [EXIT, BIGBSS, LOWADDR] {
        for len in 0..bytes.len() {
            assert!(
                !survive(&bytes[..len]),
                "a file cut to {len} bytes was accepted"
            );
        }
        assert!(survive(bytes));
    }
}

#[test]
fn flipped_bytes_never_panic() {
    for bytes in [EXIT, BIGBSS, LOWADDR] {
        let mut v = bytes.to_vec();
        for i in 0..v.len() {
            for pattern in [0x01u8, 0x80, 0xff] {
                v[i] ^= pattern;
                survive(&v);
                v[i] ^= pattern;
            }
            let old = v[i];
            v[i] = 0;
            survive(&v);
            v[i] = old;
        }
    }
}

#[test]
fn a_position_independent_dynamic_executable_parses_with_its_interpreter() {
    // `riscv64-linux-gnu-gcc -O2 hello.c` (programs/linux/build.sh): ET_DYN, PT_INTERP,
    // PT_DYNAMIC, PT_PHDR; its addresses are relative to a load bias.
    let bytes = include_bytes!("../../programs/linux/bin/hello-dyn");
    let elf = Elf::parse(bytes, "hello-dyn").expect("parses");
    assert!(elf.is_dyn);
    assert!(elf.dynamic);
    assert!(elf.needs_interp());
    assert_eq!(
        elf.interp.as_deref(),
        Some("/lib/ld-linux-riscv64-lp64d.so.1")
    );
    assert_eq!(elf.entry, 0x5c8);
    assert_eq!(elf.phdr, Some(0x40));
    assert_eq!(elf.phnum, 10);
    let segs: Vec<_> = elf
        .segments
        .iter()
        .map(|s| (s.vaddr, s.data.len() as u64, s.mem_size, s.align))
        .collect();
    assert_eq!(
        segs,
        [(0, 0x6e4, 0x6e4, 0x1000), (0x1e08, 0x248, 0x250, 0x1000)]
    );
    // The bare machine cannot load it, and says why and what to do.
    let e = elf
        .load_into(RAM_BASE, RAM_SIZE, &mut |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "hello-dyn: a dynamically linked executable (it asks for the interpreter \
         /lib/ld-linux-riscv64-lp64d.so.1); run it with --sysroot DIR (a folder holding that \
         interpreter and the libraries, e.g. /usr/riscv64-linux-gnu), or link with -static"
    );
    assert_eq!(elf.refuse_dynamic(), Err(e));
}

#[test]
fn a_static_executable_needs_no_interpreter() {
    let elf = Elf::parse(EXIT, "exit.elf").expect("parses");
    assert!(!elf.is_dyn && !elf.dynamic && elf.interp.is_none());
    assert!(!elf.needs_interp());
    assert_eq!(elf.refuse_dynamic(), Ok(()));
    assert_eq!(elf.require_static(), Ok(()));
}
