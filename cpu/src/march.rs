//! ISA strings (`rv64imafdc`, `rv64gc`, `rv64imac_zicsr_zifencei`): which extensions a hart
//! has, as the `cpu.isa` configuration key gives them.
//!
//! vmlab's hart always implements RV64I with M, A and C, Zicsr, Zifencei, Zicntr and the
//! privileged architecture; F and D may be left out. [`parse_isa`] checks a string against
//! that and returns the `misa` value of the hart it describes, or an error naming what is
//! wrong and what would be right.

use crate::csr::{misa_bit, MISA};

/// The ISA string of the default hart.
pub const DEFAULT_ISA: &str = "rv64imafdc";

/// The multi-letter extensions a string may name (all always present).
const Z_EXTENSIONS: &[&str] = &["zicsr", "zifencei", "zicntr", "zihpm"];

/// Parses an ISA string (case-insensitive; single-letter extensions in the canonical order
/// `i m a f d c`, `g` standing for `imafd_zicsr_zifencei`, then `_`-separated
/// multi-letter ones) into the `misa` of the hart it describes.
pub fn parse_isa(s: &str) -> Result<u64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let hint = "expected for example \"rv64imafdc\" (the default, also \"rv64gc\") or \"rv64imac\"";
    let Some(rest) = lower.strip_prefix("rv64") else {
        return Err(if lower.starts_with("rv32") || lower.starts_with("rv128") {
            format!("ISA \"{s}\": vmlab's hart is 64-bit; {hint}")
        } else {
            format!("ISA \"{s}\" does not start with \"rv64\"; {hint}")
        });
    };
    let mut parts = rest.split('_');
    let letters = parts.next().unwrap_or("");
    let expanded = match letters.strip_prefix('g') {
        Some(tail) => format!("imafd{tail}"),
        None => letters.to_string(),
    };
    if !expanded.starts_with('i') {
        return Err(format!(
            "ISA \"{s}\": the base must be \"i\" (or \"g\") right after \"rv64\"; {hint}"
        ));
    }
    const ORDER: &str = "imafdc";
    let mut last = 0;
    let mut have = 0u64;
    for c in expanded.chars() {
        let Some(pos) = ORDER.find(c) else {
            return Err(format!(
                "ISA \"{s}\": vmlab's hart has no \"{c}\" extension (it can have i, m, a, f, d and c); {hint}"
            ));
        };
        if pos < last || (pos == last && have != 0) {
            return Err(format!(
                "ISA \"{s}\": \"{c}\" is out of order or repeated (write the letters in the order i m a f d c); {hint}"
            ));
        }
        last = pos;
        have |= misa_bit(c.to_ascii_uppercase());
    }
    for needed in ['m', 'a', 'c'] {
        if have & misa_bit(needed.to_ascii_uppercase()) == 0 {
            return Err(format!(
                "ISA \"{s}\" leaves out \"{needed}\", which vmlab's hart always implements (only f and d can be left out); {hint}"
            ));
        }
    }
    if have & misa_bit('D') != 0 && have & misa_bit('F') == 0 {
        return Err(format!(
            "ISA \"{s}\" has \"d\" without \"f\" (D needs F); expected \"rv64imafdc\", \"rv64imafc\" or \"rv64imac\""
        ));
    }
    for z in parts {
        if !Z_EXTENSIONS.contains(&z) {
            return Err(format!(
                "ISA \"{s}\": unknown or unsupported extension \"{z}\" (vmlab knows {}); {hint}",
                Z_EXTENSIONS.join(", ")
            ));
        }
    }
    let fd = misa_bit('F') | misa_bit('D');
    Ok(MISA & !fd | (have & fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str, want: Result<u64, &str>) {
        match (parse_isa(s), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w, "{s}"),
            (Err(e), Err(w)) => assert!(e.contains(w), "{s}: {e}"),
            (got, w) => panic!("{s}: got {got:?}, want {w:?}"),
        }
    }

    #[test]
    fn isa_strings() {
        let fd = misa_bit('F') | misa_bit('D');
        for (s, want) in [
            ("rv64imafdc", Ok(MISA)),
            ("RV64IMAFDC", Ok(MISA)),
            ("rv64gc", Ok(MISA)),
            ("rv64gc_zicsr_zifencei", Ok(MISA)),
            ("rv64imafdc_zicsr_zifencei_zicntr", Ok(MISA)),
            ("rv64imac", Ok(MISA & !fd)),
            ("rv64imac_zicsr", Ok(MISA & !fd)),
            ("rv64imafc", Ok(MISA & !misa_bit('D'))),
            ("rv32imac", Err("vmlab's hart is 64-bit")),
            ("x86", Err("does not start with \"rv64\"")),
            ("rv64e", Err("the base must be \"i\"")),
            ("rv64imadc", Err("\"d\" without \"f\"")),
            ("rv64imfac", Err("out of order")),
            ("rv64iimac", Err("out of order or repeated")),
            ("rv64imafdcv", Err("no \"v\" extension")),
            ("rv64iafdc", Err("leaves out \"m\"")),
            ("rv64imafd", Err("leaves out \"c\"")),
            ("rv64imac_zba", Err("unsupported extension \"zba\"")),
        ] {
            check(s, want);
        }
    }
}
