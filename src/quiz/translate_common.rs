//! What the translation quizzes (`relocation`, `segmentation`, `paging`) share: the limits
//! of their knobs, the address list of `-A`, and the pieces of text and scenario they print.

use super::Rng;

/// The most addresses a problem may have (`-n`, or the length of `-A`).
pub const MAX_ADDRESSES: u64 = 1000;

/// The largest physical memory (`-p`) and address space (`-a`) a problem may have: 1 GiB,
/// as in OSTEP's paging-linear-translate.py (the numbers stay readable).
pub const MAX_SIZE: u64 = 1 << 30;

/// Checks `-n`.
pub fn check_num(num: u64) -> Result<(), String> {
    if num > MAX_ADDRESSES {
        return Err(format!(
            "-n {num}: at most {MAX_ADDRESSES} addresses per problem; use a smaller -n"
        ));
    }
    Ok(())
}

/// Checks the address space and physical memory sizes as OSTEP's scripts do: both non-zero,
/// at most [`MAX_SIZE`], and physical memory strictly larger than the address space.
pub fn check_sizes(asize: u64, psize: u64) -> Result<(), String> {
    if asize == 0 {
        return Err("-a 0: the address space must have at least one byte".into());
    }
    if psize <= 1 {
        return Err(format!(
            "-p {psize}: physical memory must have at least two bytes"
        ));
    }
    for (flag, v) in [("-a", asize), ("-p", psize)] {
        if v > MAX_SIZE {
            return Err(format!(
                "{flag} {v}: sizes are limited to 1G ({MAX_SIZE} bytes) in these problems"
            ));
        }
    }
    if psize <= asize {
        return Err(format!(
            "the address space (-a {asize}) must be smaller than physical memory (-p {psize}), \
             as in OSTEP's simulators; use e.g. -p {}",
            (asize * 4).next_power_of_two()
        ));
    }
    Ok(())
}

/// The addresses of a problem: `-A` (comma-separated numbers, `-1` for random, as OSTEP
/// takes them), each below `asize`; otherwise `num` random ones.
pub fn addresses(
    list: Option<&str>,
    num: u64,
    asize: u64,
    rng: &mut Rng,
) -> Result<Vec<u64>, String> {
    let list = list.map(str::trim).filter(|l| *l != "-1" && !l.is_empty());
    let Some(list) = list else {
        return Ok((0..num).map(|_| rng.below(asize)).collect());
    };
    let mut out = Vec::new();
    for part in list.split(',') {
        let va = crate::num::parse_num(part).map_err(|e| format!("-A: {e}"))?;
        if va >= asize {
            return Err(format!(
                "-A: virtual address {va} is outside the address space of {asize} bytes (0 to {})",
                asize - 1
            ));
        }
        out.push(va);
    }
    if out.len() as u64 > MAX_ADDRESSES {
        return Err(format!(
            "-A: {} addresses; at most {MAX_ADDRESSES} per problem",
            out.len()
        ));
    }
    Ok(out)
}

/// A size as the user wrote it and in bytes: `1k (1024)`, or just `1000`.
pub fn size(v: u64) -> String {
    for (unit, s) in [(1u64 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")] {
        if v >= unit && v & (unit - 1) == 0 {
            return format!("{}{s} ({v})", v / unit);
        }
    }
    v.to_string()
}

/// A TOML array of numbers, wrapped after every 8 (addresses are written in hex).
pub fn toml_list<T: AsRef<str>>(items: &[T]) -> String {
    if items.len() <= 8 {
        let v: Vec<&str> = items.iter().map(|s| s.as_ref()).collect();
        return format!("[{}]", v.join(", "));
    }
    let mut out = String::from("[\n");
    for chunk in items.chunks(8) {
        let v: Vec<&str> = chunk.iter().map(|s| s.as_ref()).collect();
        out.push_str("  ");
        out.push_str(&v.join(", "));
        out.push_str(",\n");
    }
    out.push(']');
    out
}

/// A virtual address as a quoted hex string for a scenario.
pub fn hex(v: u64) -> String {
    format!("\"{v:#x}\"")
}

/// Turns each line of `text` into a TOML comment line.
pub fn comment(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs() {
        assert!(check_num(1000).is_ok());
        assert!(check_num(1001).unwrap_err().contains("at most 1000"));
        assert!(check_sizes(1024, 1024)
            .unwrap_err()
            .contains("smaller than"));
        assert!(check_sizes(0, 1024).is_err());
        assert!(check_sizes(16, 1).is_err());
        assert!(check_sizes(1, 2 << 30).unwrap_err().contains("1G"));
        let mut r = Rng::new(1);
        assert_eq!(
            addresses(Some("1,0x10, 3"), 5, 100, &mut r),
            Ok(vec![1, 16, 3])
        );
        assert!(addresses(Some("100"), 5, 100, &mut r)
            .unwrap_err()
            .contains("outside the address space of 100 bytes"));
        assert!(addresses(Some("x"), 5, 100, &mut r).is_err());
        assert_eq!(addresses(Some("-1"), 3, 100, &mut r).unwrap().len(), 3);
        assert_eq!(size(1024), "1k (1024)");
        assert_eq!(size(1000), "1000");
        assert_eq!(size(3 << 20), "3m (3145728)");
    }
}
