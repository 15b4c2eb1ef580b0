//! `vmlab_cpu::objdump` against GNU objdump 2.40: every ELF in `fixtures/objdump/` (built
//! by `fixtures/objdump/regen.sh` from the sources there) and in `programs/elf/`, disassembled
//! with default options and with `-M no-aliases`, must give exactly the text objdump printed
//! (`NAME.txt`, `NAME.no-aliases.txt`, committed so that CI needs no cross toolchain). Bad
//! input (truncated files, random bytes, other architectures) must give an error, never a
//! panic.

use std::path::{Path, PathBuf};
use vmlab_cpu::elf::ElfError;
use vmlab_cpu::objdump::{objdump, objdump_file, ObjdumpOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/objdump")
}

fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs/elf")
}

/// Every ELF with objdump's output: (ELF path, the name objdump printed, fixture stem).
fn elfs() -> Vec<(PathBuf, String, String)> {
    let mut elfs = Vec::new();
    for name in [
        "mixed.elf",
        "data.elf",
        "syms.elf",
        "arch.elf",
        "arch-stripped.elf",
        "relaxed.elf",
        "stripped.elf",
        "mixed-rel.o",
        "cprog.elf",
    ] {
        elfs.push((fixtures().join(name), name.to_string(), name.to_string()));
    }
    for name in ["exit.elf", "bigbss.elf", "lowaddr.elf"] {
        elfs.push((
            programs().join(name),
            name.to_string(),
            format!("programs-{name}"),
        ));
    }
    elfs
}

/// Every comparison: (ELF path, name, options, fixture file name). Each ELF with default
/// options (`STEM.txt`) and `-M no-aliases` (`STEM.no-aliases.txt`); `data.elf` also with
/// `-z` (`data.elf.zeroes.txt`).
fn cases() -> Vec<(PathBuf, String, ObjdumpOptions, String)> {
    let no_aliases = ObjdumpOptions {
        no_aliases: true,
        ..ObjdumpOptions::default()
    };
    let zeroes = ObjdumpOptions {
        disassemble_zeroes: true,
        ..ObjdumpOptions::default()
    };
    let mut cases = Vec::new();
    for (elf, name, stem) in elfs() {
        cases.push((
            elf.clone(),
            name.clone(),
            ObjdumpOptions::default(),
            format!("{stem}.txt"),
        ));
        cases.push((
            elf.clone(),
            name.clone(),
            no_aliases,
            format!("{stem}.no-aliases.txt"),
        ));
        if stem == "data.elf" {
            cases.push((elf, name, zeroes, format!("{stem}.zeroes.txt")));
        }
    }
    cases
}

/// A diff-friendly report of the first difference between objdump's text and ours.
fn first_difference(want: &str, got: &str) -> Option<String> {
    if want == got {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split('\n').collect(), got.split('\n').collect());
    let at = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let from = at.saturating_sub(3);
    let show = |lines: &[&str]| {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .take(at + 4 - from)
            .map(|(i, l)| format!("{:5}{} {l:?}\n", i + 1, if i == at { ">" } else { " " }))
            .collect::<String>()
    };
    Some(format!(
        "first difference at line {} (objdump has {} lines, vmlab {})\n--- objdump\n{}+++ vmlab\n{}",
        at + 1,
        w.len(),
        g.len(),
        show(&w),
        show(&g)
    ))
}

/// Disassembles `elf` as `name` with `opts` and compares with the fixture `expected`.
fn check(elf: &Path, name: &str, opts: &ObjdumpOptions, expected: &Path) -> Result<(), String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let want =
        std::fs::read_to_string(expected).map_err(|e| format!("{}: {e}", expected.display()))?;
    let got = objdump(&bytes, name, opts).map_err(|e| format!("{name}: refused: {e}"))?;
    match first_difference(&want, &got) {
        None => Ok(()),
        Some(diff) => Err(format!(
            "{name} ({opts:?}) differs from {}:\n{diff}",
            expected.display()
        )),
    }
}

#[test]
fn matches_gnu_objdump_on_every_fixture() {
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(elf, name, opts, fixture)| {
            check(elf, name, opts, &fixtures().join(fixture)).err()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} disassemblies differ from objdump:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_fixture_is_checked() {
    // A fixture written by regen.sh but missing from `cases` would silently go unchecked.
    let known: Vec<String> = cases().into_iter().map(|c| c.3).collect();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".txt") {
            assert!(known.contains(&name), "{name} is not in cases()");
        }
    }
}

#[test]
fn file_names_are_printed_as_given() {
    let path = programs().join("exit.elf");
    let text = objdump_file(&path, &ObjdumpOptions::default()).unwrap();
    let header = format!(
        "\n{}:     file format elf64-littleriscv\n\n",
        path.display()
    );
    assert!(text.starts_with(&header), "{text}");
    let bytes = std::fs::read(&path).unwrap();
    let text = objdump(&bytes, "a\u{1}b.elf", &ObjdumpOptions::default()).unwrap();
    assert!(text.starts_with("\na^Ab.elf:     file format"), "{text}");
    let missing = objdump_file(Path::new("/nonexistent.elf"), &ObjdumpOptions::default());
    assert!(matches!(missing, Err(ElfError::Io { .. })), "{missing:?}");
}

#[test]
fn other_files_are_refused_with_a_reason() {
    let exit = std::fs::read(programs().join("exit.elf")).unwrap();
    let opts = ObjdumpOptions::default();
    let refuse = |bytes: &[u8]| objdump(bytes, "f", &opts).unwrap_err().to_string();
    assert!(refuse(b"#!/bin/sh\n").contains("not an ELF file"));
    assert!(refuse(b"").contains("not an ELF file"));
    let mut b = exit.clone();
    b[4] = 1;
    assert!(refuse(&b).contains("ELF class 1 (32-bit)"));
    let mut b = exit.clone();
    b[5] = 2;
    assert!(refuse(&b).contains("big-endian"));
    let mut b = exit.clone();
    b[18..20].copy_from_slice(&62u16.to_le_bytes());
    assert!(refuse(&b).contains("x86-64"));
    assert!(refuse(&exit[..40]).contains("truncated"));
    // A file without section headers has nothing to disassemble.
    let mut b = exit.clone();
    b[0x28..0x30].fill(0);
    assert_eq!(
        objdump(&b, "f", &opts).unwrap(),
        "\nf:     file format elf64-littleriscv\n\n"
    );
}

/// Runs the disassembler on `bytes`; returns whether it succeeded. Panics propagate.
fn survive(bytes: &[u8]) -> bool {
    let a = objdump(bytes, "x", &ObjdumpOptions::default()).is_ok();
    let opts = ObjdumpOptions {
        no_aliases: true,
        disassemble_zeroes: true,
    };
    let b = objdump(bytes, "x", &opts).is_ok();
    assert_eq!(a, b);
    a
}

#[test]
fn truncated_files_are_refused_without_panicking() {
    for (elf, name, _) in elfs() {
        let bytes = std::fs::read(&elf).unwrap();
        // The section headers sit at the end of the file: every proper prefix lacks them.
        for len in 0..bytes.len() {
            assert!(
                !survive(&bytes[..len]),
                "{name} cut to {len} bytes was accepted"
            );
        }
        assert!(survive(&bytes));
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_and_corrupted_bytes_never_panic() {
    let mut rng = Rng(0x5eed_0b1d);
    for len in [0, 1, 4, 16, 63, 64, 65, 200, 4096] {
        for _ in 0..20 {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            survive(&bytes);
            // The same with a valid RISC-V ELF64 identification and header start.
            if len >= 20 {
                bytes[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
                bytes[18..20].copy_from_slice(&243u16.to_le_bytes());
                survive(&bytes);
            }
        }
    }
    for (elf, _, _) in elfs() {
        let good = std::fs::read(&elf).unwrap();
        for _ in 0..300 {
            let mut bytes = good.clone();
            for _ in 0..1 + rng.next() % 4 {
                // Mostly the headers, section headers and symbols, sometimes anywhere.
                let at = match rng.next() % 3 {
                    0 => rng.next() as usize % 64.min(bytes.len()),
                    1 => bytes.len() - 1 - rng.next() as usize % 1024.min(bytes.len()),
                    _ => rng.next() as usize % bytes.len(),
                };
                bytes[at] = rng.next() as u8;
            }
            survive(&bytes);
        }
    }
}

/// For development where the cross binutils are installed: compares with the installed
/// `riscv64-unknown-elf-objdump` on every file named in `VMLAB_OBJDUMP_LIVE` (files or
/// folders, separated by `:`), with default options, `-M no-aliases` and `-z`. Files vmlab
/// refuses (ELF32, other machines) are skipped. Run with
/// `VMLAB_OBJDUMP_LIVE=dir cargo test -p vmlab-cpu --test objdump -- --ignored`.
/// `VMLAB_OBJDUMP` names another objdump (e.g. `riscv64-linux-gnu-objdump`).
#[test]
#[ignore = "needs riscv64-unknown-elf-objdump and VMLAB_OBJDUMP_LIVE"]
fn matches_live_objdump() {
    let Ok(list) = std::env::var("VMLAB_OBJDUMP_LIVE") else {
        return;
    };
    let mut files = Vec::new();
    for item in list.split(':').filter(|s| !s.is_empty()) {
        let path = PathBuf::from(item);
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path);
        }
    }
    let (mut compared, mut failures) = (0, Vec::new());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        for (opts, extra) in [
            (ObjdumpOptions::default(), None),
            (
                ObjdumpOptions {
                    no_aliases: true,
                    ..ObjdumpOptions::default()
                },
                Some("-Mno-aliases"),
            ),
            (
                ObjdumpOptions {
                    disassemble_zeroes: true,
                    ..ObjdumpOptions::default()
                },
                Some("-z"),
            ),
        ] {
            let Ok(got) = objdump(&bytes, name, &opts) else {
                continue;
            };
            let tool = std::env::var("VMLAB_OBJDUMP")
                .unwrap_or_else(|_| "riscv64-unknown-elf-objdump".into());
            let mut cmd = std::process::Command::new(tool);
            cmd.current_dir(file.parent().unwrap()).arg("-d");
            cmd.args(extra).arg(name);
            let want = String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned();
            compared += 1;
            if let Some(diff) = first_difference(&want, &got) {
                failures.push(format!("{} ({opts:?}):\n{diff}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{compared} disassemblies match objdump");
}
