//! Whole-table properties of the instruction set: every encodable instruction round-trips,
//! every 16-bit parcel decodes without panicking and legal ones re-compress, and random
//! words never panic.

use vmlab_cpu::isa::{
    compress, compressed::CTABLE, decode, disassemble, disassemble_no_aliases, encode, expand, COp,
    Encoding, Format, Insn, Op, TABLE,
};

/// Boundary values (and a few patterns) of an immediate range with an alignment.
fn boundary_imms(min: i64, max: i64, align: i64) -> Vec<i64> {
    let mut v = vec![min, max, 0, align, -align, min + align, max - align];
    let mut k = align;
    while k <= max {
        v.extend([k, -k, k - align, -k + align, k + align]);
        k <<= 1;
    }
    v.extend([0x555 & max & !(align - 1), 0x2aa & max & !(align - 1)]);
    v.retain(|x| *x >= min && *x <= max && x % align == 0);
    v.sort();
    v.dedup();
    v
}

/// Every instruction the table can encode: each row over all registers (in each register
/// field in turn, the others varying too) and boundary immediates.
fn all_insns() -> Vec<Insn> {
    let mut out = vec![];
    for def in TABLE {
        let (has_rd, has_rs1, has_rs2, has_imm, has_csr, has_aqrl) = def.format.fields();
        let imms = match def.format.imm_range() {
            Some((min, max, align)) if has_imm => {
                if def.op == Op::FenceTso {
                    vec![0x833]
                } else if def.format == Format::Fence {
                    (0..=0xfff).collect()
                } else {
                    boundary_imms(min, max, align)
                }
            }
            _ => vec![0],
        };
        let csrs: Vec<u16> = if has_csr {
            (0..0x1000)
                .step_by(7)
                .chain([0xfff, 0x300, 0xc00])
                .collect()
        } else {
            vec![0]
        };
        let aqrls: &[(bool, bool)] = if has_aqrl {
            &[(false, false), (true, false), (false, true), (true, true)]
        } else {
            &[(false, false)]
        };
        for r in 0..32u8 {
            let rd = if has_rd { r } else { 0 };
            let rs1 = if has_rs1 { (r + 7) % 32 } else { 0 };
            let rs2 = if has_rs2 { (r * 3 + 1) % 32 } else { 0 };
            for (k, &imm) in imms.iter().enumerate() {
                // All immediates with the first register set, a slice of them for the rest.
                if r != 0 && k % 5 != r as usize % 5 && imms.len() > 8 {
                    continue;
                }
                for (j, &csr) in csrs.iter().enumerate() {
                    if r != 0 && j % 31 != r as usize {
                        continue;
                    }
                    for &(aq, rl) in aqrls {
                        let i = Insn {
                            op: def.op,
                            rd,
                            rs1,
                            rs2,
                            imm,
                            csr,
                            aq,
                            rl,
                            compressed: None,
                            rs3: if def.format.has_rs3() {
                                (r + 13) % 32
                            } else {
                                0
                            },
                            rm: if def.format.has_rm() {
                                [7, 0, 1, 2, 3, 4, 5, 6][r as usize % 8]
                            } else {
                                0
                            },
                        };
                        out.push(i);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_encodable_instruction_round_trips() {
    let insns = all_insns();
    let mut encoded = 0;
    for i in &insns {
        match encode(i) {
            Ok(Encoding::Base(w)) => {
                encoded += 1;
                assert_eq!(
                    decode(w),
                    *i,
                    "encode({i:?}) = {w:#010x} decodes differently"
                );
                assert_eq!(encode(&decode(w)), Ok(Encoding::Base(w)));
                assert!(!disassemble(i, 0x1000).is_empty());
            }
            Ok(e) => panic!("{i:?} encoded as {e:?}"),
            // The only refusals: `fence` whose field is `fence.tso`'s.
            Err(e) => assert!(i.op == Op::Fence && i.imm == 0x833, "{i:?} refused: {e}"),
        }
    }
    assert!(encoded > 20_000, "only {encoded} instructions");
    eprintln!("{encoded} instructions round-trip");
}

#[test]
fn every_table_row_is_reached_and_rows_do_not_overlap_ambiguously() {
    for (k, d) in TABLE.iter().enumerate() {
        assert_eq!(d.op as usize, k, "{} is out of Op order", d.name);
        assert_eq!(
            d.mat & !d.mask,
            0,
            "{}: match has bits outside the mask",
            d.name
        );
        assert_eq!(
            decode(d.mat).op,
            d.op,
            "{}: its own match bits decode elsewhere",
            d.name
        );
        for e in &TABLE[..k] {
            let common = d.mask & e.mask;
            if d.mat & common == e.mat & common {
                // Overlapping rows must differ in specificity so the choice is defined.
                assert_ne!(
                    d.mask.count_ones(),
                    e.mask.count_ones(),
                    "{} and {} overlap with equal masks",
                    d.name,
                    e.name
                );
            }
        }
    }
}

#[test]
fn every_16_bit_parcel_decodes_and_legal_ones_recompress() {
    let (mut legal, mut hints) = (0, 0);
    let mut seen = std::collections::HashSet::new();
    for p in 0..=0xffffu32 {
        if p & 3 == 3 {
            continue;
        }
        let i = decode(p);
        let text = disassemble(&i, 0x8000_0000);
        assert!(!text.is_empty());
        assert!(!disassemble_no_aliases(&i, 0x8000_0000).is_empty());
        assert_eq!(i.byte_len(), 2, "{p:#06x}");
        assert_eq!(
            encode(&i).map(Encoding::bits),
            Ok(p),
            "{p:#06x} ({i:?}) does not re-encode to itself"
        );
        if i.is_illegal() {
            assert_eq!(expand(p as u16), None);
            continue;
        }
        legal += 1;
        let cop = i
            .compressed
            .expect("a legal parcel keeps its compressed form");
        seen.insert(cop);
        // The expansion is a valid base instruction that decodes to itself.
        let base = i.base();
        let w = encode(&base).unwrap().bits();
        assert_eq!(decode(w), base, "{p:#06x}: expansion {w:#010x}");
        if cop.is_hint(&i) {
            hints += 1;
            // GNU as never emits a HINT; any form it picks must mean the same instruction.
            if let Some(q) = compress(&base) {
                let back = decode(q as u32).base();
                // The one equivalence compress applies to a HINT's meaning:
                // `addi rd, rd, 0` is written `c.mv rd, rd`.
                let mv = Insn::new(Op::Add, base.rd, 0, base.rs1, 0);
                assert!(
                    back == base || (base.op == Op::Addi && base.imm == 0 && back == mv),
                    "{p:#06x}: {base:?} compressed to {q:#06x}"
                );
            }
        } else if cop == COp::CAddi16sp && (-32..32).contains(&i.imm) {
            // `addi sp, sp, ±16/-32` has two forms; GNU as (and compress) pick `c.addi`.
            let q = compress(&base).expect("compressible");
            assert_eq!(decode(q as u32).compressed, Some(COp::CAddi), "{p:#06x}");
            assert_eq!(decode(q as u32).base(), base, "{p:#06x}");
        } else {
            assert_eq!(compress(&base), Some(p as u16), "{p:#06x}: {text}");
        }
    }
    assert_eq!(seen.len(), CTABLE.len(), "every RV64C instruction occurs");
    eprintln!("{legal} legal parcels ({hints} HINTs)");
}

/// splitmix64: a deterministic stream for the never-panic test.
fn splitmix64(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn random_words_never_panic_and_legal_ones_round_trip() {
    let mut s = 42;
    for _ in 0..1_000_000 {
        let w = splitmix64(&mut s) as u32;
        let i = decode(w);
        let _ = disassemble(&i, w as u64);
        let _ = disassemble_no_aliases(&i, w as u64);
        let e = encode(&i).expect("a decoded instruction always re-encodes");
        let bits = if w & 3 == 3 { w } else { w & 0xffff };
        assert_eq!(e.bits(), bits, "{w:#010x}: {i:?}");
        if !i.is_illegal() && i.compressed.is_none() {
            assert_eq!(
                compress(&i).map(|p| decode(p as u32).base()).unwrap_or(i),
                i
            );
        }
    }
}

#[test]
fn arbitrary_field_values_are_refused_not_panicked() {
    let mut s = 7;
    for _ in 0..200_000 {
        let r = splitmix64(&mut s);
        let op = TABLE[(r % TABLE.len() as u64) as usize].op;
        let i = Insn {
            op,
            rd: (r >> 8) as u8 % 40,
            rs1: (r >> 16) as u8 % 40,
            rs2: (r >> 24) as u8 % 40,
            imm: (splitmix64(&mut s) as i64) >> ((r >> 32) % 64),
            csr: (r >> 40) as u16 % 0x1100,
            aq: r & (1 << 50) != 0,
            rl: r & (1 << 51) != 0,
            compressed: if r & (1 << 52) != 0 {
                Some(CTABLE[((r >> 53) % CTABLE.len() as u64) as usize].cop)
            } else {
                None
            },
            rs3: (r >> 58) as u8 % 40,
            rm: (r >> 61) as u8 * 2 % 9,
        };
        if let Ok(e) = encode(&i) {
            assert_eq!(decode(e.bits()), i, "{i:?} encoded as {e:?}");
        }
        let _ = compress(&i);
    }
}

/// HINTs in the c.nop/c.addi space, as objdump 2.40 prints them with and without aliases.
#[test]
fn compressed_nop_hints_print_as_objdump() {
    for (parcel, aliases, canonical) in [
        (0x0011u32, "c.nop\t4", "c.addi\tzero,4"),
        (0x0001, "nop", "c.addi\tzero,0"),
        (0x1001, "c.nop\t-32", "c.addi\tzero,-32"),
        (0x0081, "add\tra,ra,0", "c.addi\tra,0"),
    ] {
        let i = vmlab_cpu::isa::decode(parcel);
        assert_eq!(vmlab_cpu::isa::disassemble(&i, 0), aliases, "{parcel:04x}");
        assert_eq!(
            vmlab_cpu::isa::disassemble_no_aliases(&i, 0),
            canonical,
            "{parcel:04x}"
        );
    }
}
