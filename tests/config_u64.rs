//! Issue 12: every integer key of the machine configuration takes 2^64 - 1 from `--set`.
//! A `u64` key accepts it, `vmlab config` writes it (as a string: TOML's integers stop at
//! 2^63 - 1) and the file reads back; a narrower key refuses it with a range message naming
//! the key. Never serde's "expected u64" or "invalid type: integer ... expected i64".

use std::process::Command;
use vmlab::machine::{apply_set_all, MachineConfig};

const MAX: &str = "18446744073709551615";

/// Every key whose value is an integer in `text` (a machine file), as `table.key`.
fn integer_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut table = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.to_string();
            continue;
        }
        let Some((k, v)) = line.split_once(" = ") else {
            continue;
        };
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            keys.push(if table.is_empty() {
                k.to_string()
            } else {
                format!("{table}.{k}")
            });
        }
    }
    keys
}

/// What `--set KEY=VALUE` gives: the configuration written out, or the error.
fn set(key: &str, value: &str) -> Result<String, String> {
    let c = apply_set_all("", "(defaults)", &[format!("{key}={value}")]).map_err(|e| e.0)?;
    toml::to_string(&c).map_err(|e| format!("writing: {e}"))
}

#[test]
fn every_integer_key_takes_the_largest_u64_or_says_its_range() {
    let defaults = toml::to_string(&MachineConfig::default()).unwrap();
    let mut keys = integer_keys(&defaults);
    // Keys of optional tables and of the disks, absent from the defaults.
    for k in [
        "cpu.reset_pc",
        "mmu.l2tlb.sets",
        "mmu.l2tlb.hit_latency",
        "mmu.l2tlb.seed",
        "memory.diskctl.disk.fault_seed",
        "memory.diskctl.disk.hdd.cylinders",
        "memory.diskctl.disk.hdd.heads",
        "memory.diskctl.disk.hdd.sectors_per_track",
        "memory.diskctl.disk.hdd.sector_size",
        "memory.diskctl.disk.hdd.rpm",
        "memory.diskctl.disk.hdd.track_skew",
        "memory.diskctl.disk.hdd.cylinder_skew",
        "memory.diskctl.disk.hdd.start_cylinder",
        "memory.diskctl.disk.hdd.start_head",
    ] {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    }
    assert!(keys.len() > 90, "{keys:?}");
    let mut accepted = 0;
    for key in &keys {
        match set(key, MAX) {
            Ok(text) => {
                let leaf = key.rsplit('.').next().unwrap();
                assert!(
                    text.contains(&format!("{leaf} = \"{MAX}\"")),
                    "{key}: not written as a string:\n{text}"
                );
                let back = MachineConfig::parse(&text, "m.toml")
                    .unwrap_or_else(|e| panic!("{key}: does not read back: {e}"));
                assert_eq!(toml::to_string(&back).unwrap(), text, "{key}");
                accepted += 1;
            }
            Err(e) => {
                assert!(
                    e.contains(key.as_str()) && e.contains("out of range"),
                    "{key}: {e}"
                );
                for bad in ["expected u64", "expected i64", "invalid type"] {
                    assert!(!e.contains(bad), "{key}: {e}");
                }
            }
        }
    }
    assert!(accepted > 80, "only {accepted} keys took 2^64 - 1");
}

#[test]
fn arrays_of_u64_take_the_largest_too() {
    let text = set("os.partitions", &format!("[{MAX}, 4096]")).unwrap();
    assert!(
        text.contains(&format!("partitions = [\"{MAX}\", 4096]")),
        "{text}"
    );
    let back = MachineConfig::parse(&text, "m.toml").unwrap();
    assert_eq!(back.os.partitions, vec![u64::MAX, 4096]);
    // Small values are still written as integers.
    let text = set("os.seed", "7").unwrap();
    assert!(text.contains("seed = 7\n"), "{text}");
}

/// The command line round trip the issue asks for.
#[test]
fn vmlab_config_output_reads_back() {
    let exe = env!("CARGO_BIN_EXE_vmlab");
    let dir = std::env::temp_dir().join(format!("vmlab-config-u64-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.toml");
    let out = Command::new(exe)
        .args(["config", "--set", &format!("mmu.dtlb.seed={MAX}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&file, &out.stdout).unwrap();
    let again = Command::new(exe)
        .args(["config", "--machine", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.stdout, out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
