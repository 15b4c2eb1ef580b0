//! The records of `--trace` that the machine, not the kernel, writes (format v1,
//! `docs/trace.md`): the `machine` header, one `tlb` record per TLB at the end, and the
//! `end` record. [`crate::hosted::Hosted::trace_lines`] puts them around the kernel's
//! records.

use crate::hosted::End;
use crate::machine::{Machine, MachineConfig};
use serde::Serialize;
use vmlab_mmu::trace::TlbId;
use vmlab_os::kernel::TraceInfo;
use vmlab_os::services::hex;

/// The trace format's version.
pub const VERSION: u32 = 1;

/// One fixed partition of the `machine` record.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionRecord {
    /// Its first byte.
    #[serde(serialize_with = "hex::u64")]
    pub base: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// The `machine` record: the first of every trace.
#[derive(Clone, Debug, Serialize)]
pub struct MachineRecord {
    /// When (0).
    pub cycle: u64,
    /// `machine`.
    pub event: &'static str,
    /// The format's version ([`VERSION`]).
    pub version: u32,
    /// The programs, in process order.
    pub programs: Vec<String>,
    /// The scheme.
    pub scheme: &'static str,
    /// The replacement policy (the placement policy under the partition schemes).
    pub policy: &'static str,
    /// `global` or `local` (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<&'static str>,
    /// The page size (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// The page-table format (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The bytes of one page table (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_bytes: Option<u64>,
    /// The number of page-table levels (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<u8>,
    /// The first byte of user memory.
    #[serde(serialize_with = "hex::u64")]
    pub user_base: u64,
    /// The bytes of user memory.
    pub user_bytes: u64,
    /// The user frames (paging schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// Each process's frames under local allocation (`os.frames_per_process`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames_per_process: Option<u64>,
    /// The fixed partitions (fixed-partitions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<Vec<PartitionRecord>>,
    /// The clock's rate.
    pub clock_hz: u64,
    /// `os.timeline_interval`.
    pub timeline_interval: u64,
    /// The machine in one line.
    pub summary: String,
}

/// One valid entry of a `tlb` record.
#[derive(Clone, Debug, Serialize)]
pub struct TlbEntryRecord {
    /// Its set.
    pub set: u32,
    /// Its way.
    pub way: u32,
    /// The page's virtual base address.
    #[serde(serialize_with = "hex::u64")]
    pub va: u64,
    /// The page's physical base address.
    #[serde(serialize_with = "hex::u64")]
    pub pa: u64,
    /// The page's size.
    pub size: u64,
    /// Its ASID.
    pub asid: u16,
    /// Whether it matches every ASID.
    pub global: bool,
    /// `rwxu` with `-` for each clear bit.
    pub perms: String,
    /// Its segment (under the segmentation schemes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seg: Option<u8>,
}

/// A `tlb` record: the valid entries of one TLB at the end.
#[derive(Clone, Debug, Serialize)]
pub struct TlbRecord {
    /// When.
    pub cycle: u64,
    /// `tlb`.
    pub event: &'static str,
    /// `itlb`, `dtlb` or `l2tlb`.
    pub name: &'static str,
    /// Its sets.
    pub sets: u32,
    /// Its ways.
    pub ways: u32,
    /// Its valid entries.
    pub entries: Vec<TlbEntryRecord>,
}

/// The `end` record: the last of every trace.
#[derive(Clone, Debug, Serialize)]
pub struct EndRecord {
    /// When.
    pub cycle: u64,
    /// `end`.
    pub event: &'static str,
    /// The run's exit status.
    pub status: u8,
    /// Instructions retired.
    pub instret: u64,
    /// How the run ended, in words.
    pub reason: String,
}

/// The machine in one line: the hart, the TLBs, the caches, DRAM and the disk.
pub fn summary(cfg: &MachineConfig) -> String {
    let mut parts = vec![format!("{} hart", cfg.cpu.isa.to_uppercase())];
    let m = &cfg.mmu;
    parts.push(format!("itlb {}x{}", m.itlb.sets, m.itlb.ways));
    parts.push(format!("dtlb {}x{}", m.dtlb.sets, m.dtlb.ways));
    if let Some(l2) = &m.l2tlb {
        parts.push(format!("l2tlb {}x{}", l2.sets, l2.ways));
    }
    let mem = &cfg.memory;
    for (name, c) in [("L1I", &mem.l1i), ("L1D", &mem.l1d), ("L2", &mem.l2)] {
        if c.enabled {
            parts.push(format!("{name} {}", bytes(c.size)));
        }
    }
    parts.push(match mem.dram.model {
        vmlab_devices::dram::DramModel::Fixed => format!("DRAM {} cycles", mem.dram.latency),
        vmlab_devices::dram::DramModel::OpenRow => format!(
            "DRAM open-row {}/{}/{} cycles",
            mem.dram.row_hit, mem.dram.row_miss, mem.dram.row_conflict
        ),
    });
    if mem.diskctl.enabled {
        let d = &mem.diskctl.disk;
        parts.push(match (&d.hdd, &d.ssd) {
            (Some(h), _) => match h.rpm {
                Some(r) => format!("hdd {r} rpm"),
                None => "hdd".into(),
            },
            (None, Some(_)) => "ssd".into(),
            (None, None) => "disk".into(),
        });
    }
    parts.join(", ")
}

/// `n` bytes in KiB or MiB when it divides evenly.
fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// The `machine` record of a hosted run of `programs` on `machine` under a kernel that
/// says `info`.
pub fn machine_record(machine: &Machine, info: &TraceInfo, programs: Vec<String>) -> MachineRecord {
    let cfg = machine.config();
    let format = info.page_size.and_then(|_| {
        vmlab_mmu::Format::builtin(&cfg.os.format)
            .map(std::sync::Arc::new)
            .or_else(|| {
                cfg.custom_formats()
                    .ok()?
                    .into_iter()
                    .find(|f| f.name() == cfg.os.format)
            })
    });
    let levels = format.as_ref().map(|f| f.levels());
    let table_bytes = format.as_ref().map(|f| {
        let top = f.levels().saturating_sub(1);
        (1u64 << f.index_bits(top)) * u64::from(f.pte_bytes())
    });
    MachineRecord {
        cycle: 0,
        event: "machine",
        version: VERSION,
        programs,
        scheme: info.scheme,
        policy: info.policy,
        allocation: info.allocation,
        page_size: info.page_size,
        format: format.as_ref().map(|f| f.name().to_string()),
        table_bytes,
        levels,
        user_base: info.user_base,
        user_bytes: info.user_bytes,
        frames: info
            .page_size
            .filter(|&p| p > 0)
            .map(|p| info.user_bytes / p),
        frames_per_process: info
            .page_size
            .and(Some(machine.config().os.frames_per_process))
            .filter(|&n| n > 0),
        partitions: (!info.partitions.is_empty()).then(|| {
            info.partitions
                .iter()
                .map(|&(base, size)| PartitionRecord { base, size })
                .collect()
        }),
        clock_hz: info.clock_hz,
        timeline_interval: info.timeline_interval,
        summary: summary(cfg),
    }
}

/// One `tlb` record per TLB of `machine` (itlb, dtlb, l2tlb when there is one), with its
/// valid entries; `segments` adds each entry's segment.
pub fn tlb_records(machine: &Machine, segments: bool) -> Vec<TlbRecord> {
    let now = machine.now();
    let mut out = Vec::new();
    for (id, name) in [
        (TlbId::Itlb, "itlb"),
        (TlbId::Dtlb, "dtlb"),
        (TlbId::L2tlb, "l2tlb"),
    ] {
        let Some(t) = machine.mmu.tlb(id) else {
            continue;
        };
        let cfg = t.config();
        let ways = cfg.ways.max(1);
        let entries = t
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.valid)
            .map(|(i, e)| {
                let bits = u32::from(e.page_bits).min(63);
                let fl = e.flags;
                let b = |on: bool, c: char| if on { c } else { '-' };
                TlbEntryRecord {
                    set: (i / ways as usize) as u32,
                    way: (i % ways as usize) as u32,
                    va: e.vpn.checked_shl(bits).unwrap_or(0),
                    pa: e.pa_page,
                    size: 1u64 << bits,
                    asid: e.asid,
                    global: e.global,
                    perms: [b(fl.r, 'r'), b(fl.w, 'w'), b(fl.x, 'x'), b(fl.u, 'u')]
                        .into_iter()
                        .collect(),
                    seg: segments.then_some(e.seg),
                }
            })
            .collect();
        out.push(TlbRecord {
            cycle: now,
            event: "tlb",
            name,
            sets: cfg.sets,
            ways: cfg.ways,
            entries,
        });
    }
    out
}

/// The `end` record of a run that ended as `end` says.
pub fn end_record(machine: &Machine, end: &End) -> EndRecord {
    let reason = match end {
        End::Kernel(vmlab_os::Finish::AllEnded { .. }) => "all processes ended".to_string(),
        End::Kernel(vmlab_os::Finish::Stuck(why)) => why.clone(),
        End::Limit(s) => s.to_string(),
        End::Interrupted => "interrupted".to_string(),
    };
    EndRecord {
        cycle: machine.now(),
        event: "end",
        status: end.exit_code(),
        instret: machine.retired(),
        reason,
    }
}
