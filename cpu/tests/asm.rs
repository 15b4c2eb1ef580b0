//! The assembler against GNU as: every line of the GNU fixture corpus
//! (`fixtures/gnu/*.tsv`), whole programs assembled and linked by GNU as and ld
//! (`fixtures/asm/`), the ELF it writes, and the fuzz regressions.

use std::path::PathBuf;
use vmlab_cpu::asm::{assemble, fuzz_check, AsmOptions, Object};
use vmlab_cpu::elf::Elf;

fn fixture_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// The bytes of `words` as the fixtures write them (`00a50533 4501`).
fn words_to_bytes(words: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words.split_whitespace() {
        let v = u32::from_str_radix(w, 16).expect("hex word");
        if w.len() == 4 {
            out.extend_from_slice(&(v as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

fn bytes_to_words(mut b: &[u8]) -> String {
    let mut out = Vec::new();
    while b.len() >= 2 {
        let p = u16::from_le_bytes([b[0], b[1]]);
        if p & 3 == 3 && b.len() >= 4 {
            out.push(format!(
                "{:08x}",
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            ));
            b = &b[4..];
        } else {
            out.push(format!("{p:04x}"));
            b = &b[2..];
        }
    }
    out.join(" ")
}

/// Assembles one source line under `.option norvc` or `rvc` and returns the words of
/// `.text`, or the error text.
fn assemble_line(line: &str, rvc: bool) -> Result<String, String> {
    let src = format!(".option {}\n{line}\n", if rvc { "rvc" } else { "norvc" });
    let obj = assemble(&src, "case.s", &AsmOptions::default()).map_err(|e| e.to_string())?;
    let text = obj
        .section(".text")
        .map(|s| s.data.clone())
        .unwrap_or_default();
    Ok(bytes_to_words(&text))
}

/// Checks that `line` assembles to `words`; returns a description of the mismatch.
fn check(line: &str, words: &str, rvc: bool) -> Result<(), String> {
    let want = bytes_to_words(&words_to_bytes(words));
    match assemble_line(line, rvc) {
        Ok(got) if got == want => Ok(()),
        Ok(got) => Err(format!("`{line}`: got {got}, want {want}")),
        Err(e) => Err(format!("`{line}`: refused, want {want}:\n{e}")),
    }
}

fn corpus(file: &str, rvc: bool) {
    let path = fixture_dir("gnu").join(file);
    let text = std::fs::read_to_string(&path).expect("the GNU fixtures are committed");
    let (mut total, mut bad) = (0, Vec::new());
    for (n, l) in text.lines().enumerate() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        total += 1;
        if let Err(e) = check(f[0], f[1], rvc) {
            bad.push(format!("{file}:{}: {e}", n + 1));
        }
    }
    assert!(total > 1000, "{file}: only {total} cases");
    assert!(
        bad.is_empty(),
        "{} of {total} cases of {file} differ from GNU as:\n{}",
        bad.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn gnu_corpus_norvc() {
    corpus("norvc.tsv", false);
}

#[test]
fn gnu_corpus_rvc() {
    corpus("rvc.tsv", true);
}

#[test]
fn gnu_corpus_explicit_compressed() {
    corpus("compressed.tsv", true);
}

#[test]
fn gnu_corpus_rejected_lines_are_errors() {
    let text = std::fs::read_to_string(fixture_dir("gnu").join("rejected.tsv")).unwrap();
    let mut bad = Vec::new();
    let mut total = 0;
    for (n, l) in text.lines().enumerate() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        total += 1;
        match assemble_line(f[1], true) {
            Ok(words) => bad.push(format!(
                "rejected.tsv:{}: `{}` assembled to {words}; GNU: {}",
                n + 1,
                f[1],
                f[2]
            )),
            Err(e) => {
                // Every message names the place and shows the line.
                assert!(e.starts_with("case.s:2:"), "{e}");
                assert!(e.contains(f[1]), "{e}");
            }
        }
    }
    assert!(total > 50);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ---- whole programs against GNU as + ld ----

/// The sections GNU produced for a fixture program: `name addr hex` lines.
fn gnu_sections(name: &str) -> Vec<(String, u64, Vec<u8>)> {
    let text = std::fs::read_to_string(fixture_dir("asm").join(format!("{name}.expected")))
        .expect("fixture");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("symbol ") && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = u64::from_str_radix(f[1], 16).unwrap();
            let hex = f.get(2).copied().unwrap_or("");
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (f[0].to_string(), addr, bytes)
        })
        .collect()
}

fn program(name: &str) -> Object {
    let src = std::fs::read_to_string(fixture_dir("asm").join(format!("{name}.s"))).unwrap();
    assemble(&src, &format!("{name}.s"), &AsmOptions::default())
        .unwrap_or_else(|e| panic!("{name}.s:\n{e}"))
}

fn check_program(name: &str) {
    let obj = program(name);
    for (sec, addr, bytes) in gnu_sections(name) {
        if sec == "symbol" {
            continue;
        }
        let s = obj.section(&sec).unwrap_or_else(|| {
            panic!(
                "{name}: no section {sec}; have {:?}",
                obj.sections.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
        assert_eq!(s.addr, addr, "{name}: address of {sec}");
        if s.nobits {
            assert_eq!(s.size, bytes.len() as u64, "{name}: size of {sec}");
            continue;
        }
        if s.data != bytes {
            let diff = s
                .data
                .iter()
                .zip(&bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(s.data.len().min(bytes.len()));
            panic!(
                "{name}: {sec} differs from GNU at {:#x} (ours {} bytes, GNU {}):\nours {}\nGNU  {}",
                addr + diff as u64,
                s.data.len(),
                bytes.len(),
                bytes_to_words(&s.data[diff & !1..(diff & !1) + 16.min(s.data.len() - (diff & !1))]),
                bytes_to_words(&bytes[diff & !1..(diff & !1) + 16.min(bytes.len() - (diff & !1))]),
            );
        }
    }
    // Symbols GNU's nm listed.
    let text =
        std::fs::read_to_string(fixture_dir("asm").join(format!("{name}.expected"))).unwrap();
    for l in text.lines().filter(|l| l.starts_with("symbol ")) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let want = u64::from_str_radix(f[2], 16).unwrap();
        assert_eq!(obj.symbol(f[1]), Some(want), "{name}: symbol {}", f[1]);
    }
    // The ELF loads, with the same entry point.
    let elf = Elf::parse(&obj.to_elf(), name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(elf.entry, obj.entry);
}

#[test]
fn programs_match_gnu_as_and_ld() {
    let dir = fixture_dir("asm");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".expected").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for n in &names {
        check_program(n);
    }
}

#[test]
fn elf_loads_with_segments_symbols_and_tohost() {
    let obj = program("htif");
    let elf = Elf::parse(&obj.to_elf(), "htif").unwrap();
    assert_eq!(elf.entry, obj.symbol("_start").unwrap());
    assert_eq!(elf.flags, 1);
    assert_eq!(elf.tohost, obj.symbol("tohost"));
    assert_eq!(elf.tohost.unwrap() % 0x1000, 0);
    assert_eq!(elf.segments.len(), 2);
    assert!(elf.segments[0].flags.execute && !elf.segments[0].flags.write);
    assert!(elf.segments[1].flags.write && !elf.segments[1].flags.execute);
    for s in &obj.symbols {
        assert_eq!(elf.symbol(&s.name), Some(s.value), "{}", s.name);
    }
}

#[test]
fn api_basics() {
    let src = "
        .equ N, 3
        .globl _start
        .type _start, @function
_start: li a0, N
        la a1, msg
1:      addi a0, a0, -1
        bnez a0, 1b
        .size _start, . - _start
        .section .rodata
msg:    .asciz \"hi\"
        .bss
buf:    .zero 16
";
    let obj = assemble(src, "t.s", &AsmOptions::default()).unwrap();
    let text = obj.section(".text").unwrap();
    assert_eq!(text.addr, 0x8000_0000);
    assert_eq!(obj.entry, 0x8000_0000);
    let start = obj.symbols.iter().find(|s| s.name == "_start").unwrap();
    assert!(start.global);
    assert_eq!(start.size, text.size);
    assert_eq!(obj.symbol("N"), Some(3));
    let rodata = obj.section(".rodata").unwrap();
    assert_eq!(obj.symbol("msg"), Some(rodata.addr));
    assert_eq!(rodata.data, b"hi\0");
    let bss = obj.section(".bss").unwrap();
    assert_eq!(bss.addr % 0x1000, 0);
    assert_eq!(bss.size, 16);
    // No numeric local labels in the symbol table.
    assert!(obj.symbols.iter().all(|s| !s.name.starts_with('1')));
    // A different base.
    let o2 = assemble(
        src,
        "t.s",
        &AsmOptions {
            text_base: 0x1000,
            ..AsmOptions::default()
        },
    )
    .unwrap();
    assert_eq!(o2.section(".text").unwrap().addr, 0x1000);
    // Data in a segment of its own.
    let o3 = assemble(
        src,
        "t.s",
        &AsmOptions {
            text_base: 0,
            data_base: Some(0x4000_0000),
            ..AsmOptions::default()
        },
    )
    .unwrap();
    assert_eq!(o3.section(".text").unwrap().addr, 0);
    if let Some(d) = o3.section(".data") {
        assert!(d.addr >= 0x4000_0000, "{:#x}", d.addr);
    }
    let below = assemble(
        src,
        "t.s",
        &AsmOptions {
            text_base: 0x1000,
            data_base: Some(0x10),
            ..AsmOptions::default()
        },
    );
    assert!(below.is_err());
}

#[test]
fn huge_requests_are_errors_not_allocations() {
    for src in [
        ".space 1<<60",
        ".zero 0x7fffffffffffffff",
        ".fill 1<<40, 8, 1",
        ".p2align 60",
        ".balign 1<<40",
        ".rept 10\n.endr",
        ".space 200<<20\n.space 200<<20",
    ] {
        let e = assemble(src, "big.s", &AsmOptions::default()).expect_err(src);
        assert!(e.to_string().contains("big.s:"), "{e}");
    }
    // Deep or long expressions are refused before they can exhaust the stack.
    let long = format!("li a0, {}1", "1+".repeat(5000));
    let deep = format!("li a0, {}1{}", "(".repeat(500), ")".repeat(500));
    let neg = format!("li a0, {}1", "-~".repeat(5000));
    for src in [long, deep, neg] {
        let e = assemble(&src, "big.s", &AsmOptions::default()).expect_err("too long");
        assert!(e.to_string().contains("big.s:"), "{e}");
    }
}

#[test]
fn fuzz_regressions_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/asm");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz/regressions/asm is committed") {
        let p = e.unwrap().path();
        fuzz_check(&std::fs::read(&p).unwrap());
        n += 1;
    }
    assert!(n > 0);
    // And every program fixture and the corpus lines through the oracle.
    for e in std::fs::read_dir(fixture_dir("asm")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "s") {
            fuzz_check(&std::fs::read(&p).unwrap());
        }
    }
}

/// With `VMLAB_ASM_DUMP=dir`, writes the ELF of every program fixture there (for checking
/// with `riscv64-unknown-elf-readelf -a` and `objdump -d`).
#[test]
fn dump_elfs_for_binutils() {
    let Ok(dir) = std::env::var("VMLAB_ASM_DUMP") else {
        return;
    };
    // With `VMLAB_ASM_SRC=dir` too, assembles every `.s` file of that folder instead,
    // writing `NAME.ours.elf` or `NAME.ours.err` (for comparisons with GNU as).
    if let Ok(src) = std::env::var("VMLAB_ASM_SRC") {
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "s") {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&p).unwrap();
                let out = PathBuf::from(&dir).join(&name);
                match assemble(&text, &format!("{name}.s"), &AsmOptions::default()) {
                    Ok(o) => std::fs::write(out.with_extension("ours.elf"), o.to_elf()).unwrap(),
                    Err(e) => {
                        std::fs::write(out.with_extension("ours.err"), e.to_string()).unwrap()
                    }
                }
            }
        }
        return;
    }
    for e in std::fs::read_dir(fixture_dir("asm")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "s") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let elf = program(&name).to_elf();
            std::fs::write(PathBuf::from(&dir).join(format!("{name}.elf")), elf).unwrap();
        }
    }
}

/// An assembled program runs on the hart: loaded through `Elf::parse` and `load_into`, it
/// sums an array with a called function and reports through `tohost`.
#[test]
fn assembled_program_runs_on_the_hart() {
    use vmlab_cpu::hart::{FlatMemory, Hart};
    let src = r#"
        .equ    COUNT, 11
        .section .text.init, "ax", @progbits
        .globl _start
_start: la      sp, stack_top
        la      a0, array
        li      a1, COUNT
        call    sum
        slli    a0, a0, 1
        ori     a0, a0, 1
        la      t0, tohost
        sd      a0, 0(t0)
1:      j       1b

        .text
        .type   sum, @function
sum:    addi    sp, sp, -16
        sd      ra, 8(sp)
        li      t0, 0
2:      beqz    a1, 3f
        ld      t1, 0(a0)
        add     t0, t0, t1
        addi    a0, a0, 8
        addi    a1, a1, -1
        j       2b
3:      mv      a0, t0
        ld      ra, 8(sp)
        addi    sp, sp, 16
        ret
        .size   sum, . - sum

        .data
        .p2align 3
array:  .dword  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x100000000
        .dword  (. - array) / 8     # 11, not summed
        .bss
        .balign 16
        .space  256
stack_top:
        .section .tohost, "aw", @progbits
        .align  6
        .globl  tohost
tohost: .dword  0
"#;
    let obj = assemble(src, "sum.s", &AsmOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let elf = Elf::parse(&obj.to_elf(), "sum.elf").unwrap();
    let base = 0x8000_0000;
    let mut mem = FlatMemory::new(base, 0x10000);
    let entry = elf
        .load_into(base, 0x10000, &mut |pa, bytes| {
            if mem.write_bytes(pa, bytes) {
                Ok(())
            } else {
                Err("outside".into())
            }
        })
        .unwrap();
    let tohost = elf.tohost.unwrap();
    let mut hart = Hart::new(0, entry);
    for _ in 0..10_000 {
        hart.step(&mut mem);
        let v = mem.read(tohost, 8).unwrap();
        if v != 0 {
            assert_eq!(v >> 1, 55 + 0x1_0000_0000);
            return;
        }
    }
    panic!("the program did not write tohost; pc {:#x}", hart.pc);
}

/// A difference of two labels of one section, with only fixed-size items between them, is a
/// constant as soon as both are defined (GNU as treats it so): `li` can use it.
#[test]
fn label_differences_are_constants() {
    let src = "    .section .rodata\nmsg: .ascii \"hello\\n\"\n    .dword 7\nend:\n    .equ LEN, end - msg\n    .text\n_start:\n    li a0, LEN\n    li a1, msg - end\n";
    let obj = assemble(src, "len.s", &AsmOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let text = obj.section(".text").expect("text");
    // c.li a0, 14 = 0x4539; c.li a1, -14 = 0x55c9
    assert_eq!(text.data[..4], [0x39, 0x45, 0xc9, 0x55], "{:x?}", text.data);
    // A branch between the labels is sized by the layout: not a constant for li.
    let src = "_start:\na:\n    beqz a0, a\nb:\n    li a0, b - a\n";
    let e = assemble(src, "br.s", &AsmOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("br.s:5:"), "{e}");
}

/// `.include "name"` splices a file in place (through the resolver), nests, and errors in an
/// included file name that file and line; a missing file and an include cycle are errors on
/// the directive's line.
#[test]
fn include_splices_files_and_locates_their_errors() {
    use vmlab_cpu::asm::{assemble, assemble_with_includes, AsmOptions};
    let files = |from: &str, name: &str| -> Result<(String, String), String> {
        let text = match name {
            "nums.s" => ".equ SEVEN, 7\n.include \"more.s\"\n",
            "more.s" => ".equ EIGHT, 8 # a comment\n",
            "bad.s" => "\n  addi x1, x2\n",
            "self.s" => ".include \"self.s\"\n",
            _ => return Err(format!("no file {name} (from {from})")),
        };
        Ok((format!("inc/{name}"), text.to_string()))
    };
    let opts = AsmOptions::default();
    let with = assemble_with_includes(
        ".include \"nums.s\"   # numbers\n_start: li a0, SEVEN + EIGHT\n",
        "main.s",
        &opts,
        &files,
    )
    .expect("assembles");
    let plain = assemble("_start: li a0, 15\n", "main.s", &opts).expect("assembles");
    let text = |o: &Object| {
        o.sections
            .iter()
            .find(|s| s.name == ".text")
            .map(|s| s.data.clone())
    };
    assert_eq!(text(&with), text(&plain), "the included values are used");

    let err = assemble_with_includes(".include \"bad.s\"\nnop\n", "main.s", &opts, &files)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("inc/bad.s:2:14: error: wrong number of operands"),
        "{err}"
    );
    let err = assemble_with_includes("nop\n.include \"gone.s\"\n", "main.s", &opts, &files)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("main.s:2:1: error: cannot include \"gone.s\": no file gone.s"),
        "{err}"
    );
    let err = assemble_with_includes(".include \"self.s\"\n", "main.s", &opts, &files)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested more than 16 deep"), "{err}");
    // Plain `assemble` has nothing to include from.
    let err = assemble(".include \"nums.s\"\n", "main.s", &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot include \"nums.s\""), "{err}");
}
