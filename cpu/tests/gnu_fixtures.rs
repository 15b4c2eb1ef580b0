//! Decodes every case of the GNU corpus (`tests/fixtures/gnu/*.tsv`, written by
//! `generate.py` from GNU as and objdump 2.40), compares the disassembly with objdump's
//! text and re-encodes each instruction to the same bits.
//!
//! `VMLAB_GNU_FIXTURES=DIR` reads the `.tsv` files from another directory.

use std::path::PathBuf;
use vmlab_cpu::isa::{decode, encode, Disassembler};

/// Cases whose disassembly is known to differ from objdump's, by objdump text, with the
/// reason. Everything else must match exactly.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn fixture_dir() -> PathBuf {
    match std::env::var_os("VMLAB_GNU_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gnu"),
    }
}

/// objdump's text as `generate.py` cleans it: `<symbol>` removed, tabs to single spaces.
fn clean(t: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Outcome {
    cases: usize,
    insns: usize,
    text_mismatches: Vec<String>,
    encode_mismatches: Vec<String>,
}

fn run_file(path: &std::path::Path) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap();
    let mut o = Outcome {
        cases: 0,
        insns: 0,
        text_mismatches: vec![],
        encode_mismatches: vec![],
    };
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "{}: bad line {line:?}", path.display());
        let (source, words, expected) = (cols[0], cols[1], cols[2]);
        o.cases += 1;
        // generate.py makes each case independent of the previous ones (it makes objdump
        // forget the registers a case names), so each case starts a fresh disassembler.
        let mut dis = Disassembler::new();
        let mut raw = Disassembler::no_aliases();
        let mut pc = 0u64;
        let mut texts = vec![];
        let mut raw_texts = vec![];
        for w in words.split_whitespace() {
            let bits = u32::from_str_radix(w, 16).unwrap();
            let insn = decode(bits);
            o.insns += 1;
            assert_eq!(
                insn.byte_len() as usize * 2,
                w.len(),
                "{source}: {w} length"
            );
            match encode(&insn) {
                Ok(e) if e.bits() == bits && e.byte_len() * 2 == w.len() => {}
                other => o
                    .encode_mismatches
                    .push(format!("{source}\t{w}\t{insn:?}\t{other:?}")),
            }
            texts.push(clean(&dis.disassemble(&insn, pc)));
            raw_texts.push(clean(&raw.disassemble(&insn, pc)));
            pc += insn.byte_len();
        }
        if let Some(expected_raw) = cols.get(3) {
            let got = raw_texts.join(" ; ");
            if got != *expected_raw {
                o.text_mismatches.push(format!(
                    "{source}\t{words}\tobjdump -M no-aliases: {expected_raw}\tvmlab: {got}"
                ));
            }
        }
        let got = texts.join(" ; ");
        if got != expected && !KNOWN_DIFFERENCES.iter().any(|(t, _)| *t == expected) {
            o.text_mismatches.push(format!(
                "{source}\t{words}\tobjdump: {expected}\tvmlab: {got}"
            ));
        }
    }
    o
}

#[test]
fn gnu_corpus_disassembles_and_reencodes_like_gnu() {
    let dir = fixture_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "tsv")
            && p.file_name().is_some_and(|n| n != "rejected.tsv")
    });
    files.sort();
    // The fixtures are committed (regenerate them with generate.py); their absence is a
    // broken checkout, not a reason to pass.
    assert!(
        files.len() >= 3,
        "expected norvc.tsv, rvc.tsv and compressed.tsv in {}",
        dir.display()
    );
    let mut report = String::new();
    let mut failed = false;
    for f in &files {
        let o = run_file(f);
        let name = f.file_name().unwrap().to_string_lossy();
        eprintln!(
            "{name}: {} cases, {} instructions, {} disassembly mismatches, {} encoding mismatches",
            o.cases,
            o.insns,
            o.text_mismatches.len(),
            o.encode_mismatches.len()
        );
        for m in o.text_mismatches.iter().chain(&o.encode_mismatches) {
            report.push_str(&format!("{name}\t{m}\n"));
        }
        failed |= !o.text_mismatches.is_empty() || !o.encode_mismatches.is_empty();
    }
    if failed {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gnu_mismatches.txt");
        std::fs::write(&out, &report).unwrap();
        let head: String = report.lines().take(40).collect::<Vec<_>>().join("\n");
        panic!("mismatches (all in {}):\n{head}", out.display());
    }
}

/// Source spellings GNU as does not compress although a 16-bit form exists: it compresses
/// by matching its own operand syntax, not by meaning. The assembler must not call
/// [`compress`] for these spellings.
fn gnu_keeps_32_bits(source: &str) -> bool {
    let s = source.trim();
    let mnemonic = s.split_whitespace().next().unwrap_or("");
    // Explicit `jal zero, off` (only `j off` is compressed), `jalr rd, off(rs)` and
    // `jalr rd, rs, off` forms, `jr off(rs)`.
    (mnemonic == "jal" && s.contains("zero"))
        || (mnemonic == "jalr" && (s.contains('(') || s.matches(',').count() == 2))
        || (mnemonic == "jr" && s.contains('('))
        // `li zero, 0` and `mv rd, zero` (c.nop / c.li would need another spelling).
        || s == "li zero, 0"
        || (mnemonic == "mv" && s.ends_with(", zero"))
}

#[test]
fn compress_picks_the_form_gnu_as_picks() {
    let dir = fixture_dir();
    let (Ok(norvc), Ok(rvc)) = (
        std::fs::read_to_string(dir.join("norvc.tsv")),
        std::fs::read_to_string(dir.join("rvc.tsv")),
    ) else {
        panic!("norvc.tsv and rvc.tsv are committed in {}", dir.display());
    };
    let rows = |t: &str| -> Vec<(String, String)> {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                (c[0].to_string(), c[1].to_string())
            })
            .collect()
    };
    let (a, b) = (rows(&norvc), rows(&rvc));
    assert_eq!(
        a.len(),
        b.len(),
        "norvc.tsv and rvc.tsv list the same cases"
    );
    let (mut compared, mut skipped, mut bad) = (0, 0, vec![]);
    for ((src, w32), (src2, wc)) in a.iter().zip(&b) {
        assert_eq!(src, src2);
        // Single instructions only: multi-instruction expansions are the assembler's.
        if w32.contains(' ') || wc.contains(' ') {
            continue;
        }
        if gnu_keeps_32_bits(src) {
            skipped += 1;
            continue;
        }
        let word = u32::from_str_radix(w32, 16).unwrap();
        let want = (wc.len() == 4).then(|| u16::from_str_radix(wc, 16).unwrap());
        let got = vmlab_cpu::isa::compress(&decode(word));
        compared += 1;
        // `unimp` is the 32-bit `csrrw zero, cycle, zero` and c.unimp the all-zero parcel,
        // which is not an instruction compress could return.
        if got != want && src != "unimp" {
            bad.push(format!("{src}\t{w32}\tGNU {wc}\tvmlab {got:04x?}"));
        }
    }
    eprintln!("compress: {compared} compared, {skipped} GNU-syntax exceptions");
    assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
}
