//! The machine's configuration: one TOML file (`--machine FILE.toml`) with a table per unit,
//! plus `--set key=value` overrides. Every key has a default; `docs/config.md` lists them.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use vmlab_cpu::timing::TimingConfig;
use vmlab_devices::MemoryConfig;
use vmlab_mmu::{Format, FormatSpec, MmuConfig};

/// What an `ecall` does on the bare machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EcallExit {
    /// An `ecall` with `a7 = 93` (the RISC-V Linux and newlib `exit` number) ends the run
    /// with exit code `a0` when the trap would go to a handler the program never installed
    /// (`mtvec`, or `stvec` for a delegated trap, still 0). Otherwise it traps as usual
    /// (the default).
    #[default]
    Unhandled,
    /// Every `ecall` with `a7 = 93` ends the run, handler or not.
    Always,
    /// `ecall` always traps, as on real hardware.
    Never,
}

/// `[run]`: when a run stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Stop after this many instructions have retired (default 0 = no limit). Any `u64`:
    /// a value above TOML's integers (2^63 - 1) is written as a string.
    #[serde(with = "crate::num::any_u64")]
    pub max_insns: u64,
    /// Stop when the modelled clock reaches this cycle (default 0 = no limit). Any `u64`,
    /// as `max_insns`.
    #[serde(with = "crate::num::any_u64")]
    pub max_cycles: u64,
    /// The `ecall` exit convention (default `unhandled`).
    pub ecall_exit: EcallExit,
    /// Stop on a double fault: an exception raised by the first instruction of the trap
    /// handler just entered, before it retired anything (default true). Without this, a
    /// program with no handler loops forever between address 0 and the fault.
    pub stop_on_double_fault: bool,
    /// Stop when an instruction jumps to itself while no enabled interrupt could ever
    /// arrive (default true): the program would spin there for ever.
    pub stop_on_spin: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            max_insns: 0,
            max_cycles: 0,
            ecall_exit: EcallExit::Unhandled,
            stop_on_double_fault: true,
            stop_on_spin: true,
        }
    }
}

/// `[host]`: host-speed shortcuts. None of them changes a modelled cycle or statistic; a
/// test runs programs with each off and compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Keep decoded instructions in a direct-mapped cache indexed by pc and checked against
    /// the fetched bits (default true).
    pub decode_cache: bool,
    /// Take the fast paths: the MMU's L1-TLB-hit path and the TLBs' lookup hints, and the
    /// memory system's L1-cache-hit path (default true). Off, every translation and every
    /// access takes the general path.
    pub fast_paths: bool,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            decode_cache: true,
            fast_paths: true,
        }
    }
}

/// `[cpu]`: the hart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuConfig {
    /// `mhartid` (default 0).
    #[serde(with = "crate::num::any_u64")]
    pub hartid: u64,
    /// Start here instead of at the program's entry point (default: the entry point).
    #[serde(default, with = "crate::num::any_u64_opt")]
    pub reset_pc: Option<u64>,
    /// The extensions the hart has, as an ISA string (default `rv64imafdc`; `rv64imac`
    /// leaves out F and D: `vmlab_cpu::march::parse_isa`).
    pub isa: String,
    /// Misaligned loads and stores: `trap` (default: an address-misaligned exception,
    /// which the modelled kernel emulates as Linux does, counted in
    /// `os.misaligned_emulated`) or `hardware` (the hart does them itself, one byte access
    /// at a time). Atomics must be aligned either way.
    pub misaligned: Misaligned,
}

/// How the hart treats a misaligned load or store (`cpu.misaligned`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Misaligned {
    /// An address-misaligned exception.
    #[default]
    Trap,
    /// Carried out by the hart, one byte access at a time.
    Hardware,
}

impl Default for CpuConfig {
    fn default() -> Self {
        CpuConfig {
            hartid: 0,
            reset_pc: None,
            isa: vmlab_cpu::march::DEFAULT_ISA.to_string(),
            misaligned: Misaligned::Trap,
        }
    }
}

/// The whole machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MachineConfig {
    /// The hart.
    pub cpu: CpuConfig,
    /// The pipeline timing model (`docs/timing.md`).
    pub timing: TimingConfig,
    /// The translation unit (`docs/mmu.md`).
    pub mmu: MmuConfig,
    /// The physical side: RAM, caches, DRAM, devices (`docs/devices.md`).
    pub memory: MemoryConfig,
    /// Custom page-table formats, selected with `vmformat = 16 + index` (`docs/csr.md`).
    pub formats: Vec<FormatSpec>,
    /// When a run stops.
    pub run: RunConfig,
    /// Host-speed shortcuts.
    pub host: HostConfig,
    /// The kernel of the hosted machine (`docs/os.md`).
    pub os: vmlab_os::OsConfig,
}

/// The largest duration of the machine's disk, in cycles (2^40: about 18 minutes at 1 GHz).
pub const MAX_DISK_CYCLES: u64 = 1 << 40;

/// A configuration problem: which key, what is wrong, what would be right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl MachineConfig {
    /// Parses a machine file's text; `path` names it in messages (with line and column).
    pub fn parse(text: &str, path: &str) -> Result<MachineConfig, ConfigError> {
        toml::from_str::<MachineConfig>(text).map_err(|e| ConfigError(located(path, text, &e)))
    }

    /// Builds a configuration from a TOML table (a parsed machine file with `--set`
    /// overrides applied).
    pub fn from_table(table: toml::Table, path: &str) -> Result<MachineConfig, ConfigError> {
        toml::Value::Table(table)
            .try_into::<MachineConfig>()
            .map_err(|e| ConfigError(format!("{path}: {}", e.message().trim_end())))
    }

    /// Checks the ranges that span units: each duration of the machine's disk
    /// (`memory.diskctl.disk.*`), in the machine's cycles, is at most [`MAX_DISK_CYCLES`],
    /// so a request's completion time cannot reach the end of the clock (the request would
    /// never finish). The units check their own keys when they are built.
    pub fn check_ranges(&self) -> Result<(), ConfigError> {
        use vmlab_devices::disk::{SeekCurve, Time};
        let disk = &self.memory.diskctl.disk;
        let mut times: Vec<(&str, Time)> = vec![("overhead", disk.overhead)];
        if disk.faults_enabled() {
            times.push(("timeout", disk.timeout));
        }
        if let Some(s) = &disk.ssd {
            times.push(("ssd.read_latency", s.read_latency));
            times.push(("ssd.write_latency", s.write_latency));
        }
        if let Some(h) = &disk.hdd {
            if let Some(r) = h.rotation {
                times.push(("hdd.rotation", r));
            }
            times.push(("hdd.head_switch", h.head_switch));
            match &h.seek {
                SeekCurve::Constant { time } => times.push(("hdd.seek.time", *time)),
                SeekCurve::Linear {
                    settle,
                    per_cylinder,
                } => {
                    times.push(("hdd.seek.settle", *settle));
                    times.push(("hdd.seek.per_cylinder", *per_cylinder));
                }
                SeekCurve::SqrtLinear {
                    settle,
                    sqrt,
                    long_settle,
                    per_cylinder,
                    ..
                } => {
                    times.push(("hdd.seek.settle", *settle));
                    times.push(("hdd.seek.sqrt", *sqrt));
                    times.push(("hdd.seek.long_settle", *long_settle));
                    times.push(("hdd.seek.per_cylinder", *per_cylinder));
                }
                SeekCurve::ThreePoint {
                    single,
                    average,
                    full,
                } => {
                    times.push(("hdd.seek.single", *single));
                    times.push(("hdd.seek.average", *average));
                    times.push(("hdd.seek.full", *full));
                }
            }
        }
        for (key, t) in times {
            let c = t.cycles(disk.clock_hz);
            if c > MAX_DISK_CYCLES {
                let at = match t {
                    Time::Cycles(_) => String::new(),
                    Time::Picos(_) => format!(
                        " ({c} cycles at `memory.diskctl.disk.clock_hz` = {})",
                        disk.clock_hz
                    ),
                };
                return Err(ConfigError(format!(
                    "`memory.diskctl.disk.{key}` = {t}{at} is too large: \
                     a disk duration is at most {MAX_DISK_CYCLES} cycles (2^40)"
                )));
            }
        }
        Ok(())
    }

    /// The custom formats, built (each checked).
    pub fn custom_formats(&self) -> Result<Vec<Arc<Format>>, ConfigError> {
        self.formats
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Format::new(spec.clone())
                    .map(Arc::new)
                    .map_err(|e| ConfigError(format!("formats[{i}]: {e}")))
            })
            .collect()
    }
}

/// The configuration of a machine file's `text` (named `path` in messages) with `sets`
/// (`key=value`) applied in order.
pub fn apply_set_all(
    text: &str,
    path: &str,
    sets: &[String],
) -> Result<MachineConfig, ConfigError> {
    if sets.is_empty() {
        return MachineConfig::parse(text, path);
    }
    // Check the file alone first, so its errors keep their line and column.
    MachineConfig::parse(text, path)?;
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| ConfigError(located(path, text, &e)))?;
    for s in sets {
        apply_set(&mut table, s)?;
    }
    MachineConfig::from_table(
        table,
        &format!("{path} with --set {}", sets.join(" --set ")),
    )
    .map_err(|e| out_of_range(e, sets))
}

/// `value` with each bare decimal integer too large for TOML (above 2^63 - 1) quoted, so
/// `[18446744073709551615, 4096]` reads as an array for a key of `u64`s.
fn quote_big_integers(value: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = value.char_indices().peekable();
    let mut prev = ' ';
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            in_str = !in_str;
        }
        let starts = !in_str && c.is_ascii_digit() && !(prev.is_alphanumeric() || prev == '_');
        if !starts {
            out.push(c);
            prev = c;
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !(d.is_ascii_digit() || d == '_') {
                break;
            }
            end = j + 1;
            chars.next();
        }
        let run = &value[i..end];
        let big = run
            .replace('_', "")
            .parse::<u64>()
            .map_or(true, |v| v > i64::MAX as u64);
        if big {
            out.push('"');
            out.push_str(run);
            out.push('"');
        } else {
            out.push_str(run);
        }
        prev = '0';
    }
    out
}

/// serde's words for a `--set` number too large for a key narrower than `u64` ("invalid
/// type: string \"18446744073709551615\", expected u32": a number past TOML's integers is
/// kept as a string), as a range message naming the key.
fn out_of_range(e: ConfigError, sets: &[String]) -> ConfigError {
    let msg = &e.0;
    let number = |rest: &str, close: char| -> Option<(String, String)> {
        let (n, rest) = rest.split_once(close)?;
        let ty = rest.strip_prefix(", expected ")?;
        let ty: String = ty
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        (n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty()).then(|| (n.to_string(), ty))
    };
    let found = msg
        .split_once("invalid type: string \"")
        .and_then(|(_, r)| number(r, '"'))
        .or_else(|| {
            msg.split_once("invalid value: integer `")
                .and_then(|(_, r)| number(r, '`'))
        });
    let Some((n, ty)) = found else {
        return e;
    };
    let max = match ty.as_str() {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        "i64" => i64::MAX as u64,
        _ => return e,
    };
    let key = sets.iter().rev().find_map(|s| {
        let (k, v) = s.split_once('=')?;
        (v.trim().trim_matches('"') == n).then(|| k.trim().to_string())
    });
    match key {
        Some(k) => ConfigError(format!(
            "--set {k}={n}: {k} = {n} is out of range: it is at most {max}"
        )),
        None => e,
    }
}

/// A TOML parse error with the file name, line and column.
pub(crate) fn located(path: &str, text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let loc = crate::scenario::locate(text, span);
            format!(
                "{path}:{}:{}: {}\n  |\n  | {}",
                loc.line,
                loc.col,
                e.message(),
                loc.text
            )
        }
        None => format!("{path}: {}", e.message()),
    }
}

/// Applies `key=value` to `table`: `key` is a dotted path (`memory.l1d.size`), `value` a
/// TOML value (`4096`, `true`, `"lru"`, `[1, 2]`); a bare word that is not valid TOML is
/// taken as a string (`timing.predictor=bimodal`).
pub fn apply_set(table: &mut toml::Table, assignment: &str) -> Result<(), ConfigError> {
    let (key, value) = assignment.split_once('=').ok_or_else(|| {
        ConfigError(format!(
            "--set {assignment}: expected KEY=VALUE, e.g. --set memory.l1d.size=65536"
        ))
    })?;
    let key = key.trim();
    let value = value.trim();
    // (Integers past TOML's, in an array too, are quoted: the keys read them as strings.)
    let parsed: toml::Value = match format!("v = {value}")
        .parse::<toml::Table>()
        .or_else(|_| format!("v = {}", quote_big_integers(value)).parse::<toml::Table>())
    {
        Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(value.into())),
        Err(_) => toml::Value::String(value.into()),
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError(format!(
            "--set {assignment}: `{key}` is not a key path; expected names joined by dots, e.g. mmu.dtlb.ways"
        )));
    }
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(t) => t,
            _ => {
                return Err(ConfigError(format!(
                    "--set {assignment}: `{p}` is a value, not a table"
                )))
            }
        };
    }
    t.insert(parts[parts.len() - 1].to_string(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file: &str, sets: &[&str], want: Result<(), &str>) -> Option<MachineConfig> {
        let mut t: toml::Table = file.parse().unwrap();
        let mut r = Ok(());
        for s in sets {
            if let Err(e) = apply_set(&mut t, s) {
                r = Err(e);
                break;
            }
        }
        let c = r.and_then(|()| MachineConfig::from_table(t, "m.toml"));
        match (&c, want) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(w)) => assert!(e.0.contains(w), "{e} lacks {w}"),
            (got, want) => panic!("{got:?} vs {want:?}"),
        }
        c.ok()
    }

    #[test]
    fn sets_and_errors() {
        let c = check(
            "[timing]\nmul_latency = 5\n",
            &[
                "memory.l1d.size=65536",
                "timing.predictor=bimodal",
                "run.max_insns=10",
            ],
            Ok(()),
        )
        .unwrap();
        assert_eq!(c.timing.mul_latency, 5);
        assert_eq!(c.memory.l1d.size, 65536);
        assert_eq!(c.timing.predictor, vmlab_cpu::timing::Predictor::Bimodal);
        assert_eq!(c.run.max_insns, 10);
        check("", &["timing.nope=1"], Err("unknown field `nope`"));
        check("", &["timing"], Err("expected KEY=VALUE"));
        check("", &["timing..x=1"], Err("not a key path"));
        check(
            "",
            &["run.max_insns=1", "run.max_insns.x=2"],
            Err("is a value"),
        );
        check("", &["timing.mul_latency=\"x\""], Err("is not a number"));
    }

    /// The run limits take any u64, beyond TOML's signed integers too, and what
    /// `vmlab config` writes for them reads back.
    #[test]
    fn limits_take_any_u64() {
        let c = check(
            "",
            &[
                "run.max_insns=18446744073709551615",
                "run.max_cycles=9223372036854775808",
            ],
            Ok(()),
        )
        .unwrap();
        assert_eq!(c.run.max_insns, u64::MAX);
        assert_eq!(c.run.max_cycles, 1 << 63);
        let text = toml::to_string(&c).unwrap();
        assert!(
            text.contains("max_insns = \"18446744073709551615\""),
            "{text}"
        );
        let back = MachineConfig::parse(&text, "config").unwrap();
        assert_eq!(back, c);
        let c = check("[run]\nmax_insns = 5\n", &[], Ok(())).unwrap();
        assert_eq!(c.run.max_insns, 5);
        assert!(toml::to_string(&c).unwrap().contains("max_insns = 5\n"));
        check("", &["run.max_insns=-1"], Err("negative"));
    }

    /// The disk's durations, in the machine's cycles, have a maximum.
    #[test]
    fn disk_durations_have_a_maximum() {
        let c = check("", &["memory.diskctl.disk.overhead=1099511627776"], Ok(())).unwrap();
        assert!(c.check_ranges().is_ok());
        let c = check(
            "",
            &["memory.diskctl.disk.overhead=18446744073709551615"],
            Ok(()),
        )
        .unwrap();
        assert_eq!(
            c.check_ranges().unwrap_err().0,
            "`memory.diskctl.disk.overhead` = 18446744073709551615cyc is too large: \
             a disk duration is at most 1099511627776 cycles (2^40)"
        );
        let c = check(
            "",
            &["memory.diskctl.disk.ssd.read_latency=\"1000000s\""],
            Ok(()),
        )
        .unwrap();
        let e = c.check_ranges().unwrap_err().0;
        assert!(
            e.contains("`memory.diskctl.disk.ssd.read_latency` = 1000000s (1000000000000000 cycles at `memory.diskctl.disk.clock_hz` = 1000000000) is too large"),
            "{e}"
        );
        assert!(MachineConfig::default().check_ranges().is_ok());
    }
}
