//! The page's header: what ran (facts), the headline figures (time, instructions, faults,
//! evictions, disk, CPU shares, processes) and notes on how the page was sampled.

use std::collections::BTreeMap;

use serde::Serialize;

use super::timefigs::percent;
use crate::pictures::html::Page;
use crate::pictures::svg::{bytes, thousands};
use crate::pictures::trace::{Event, Trace};
use crate::run_report::modelled_time;

/// The header's numbers: the data model, built from the trace before it is worded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The run's length in cycles (the `end` record's).
    pub cycles: u64,
    /// Instructions retired (the `end` record's, or the last sample's).
    pub instret: u64,
    /// Faults by kind.
    pub faults: BTreeMap<String, u64>,
    /// Pages (or segments) evicted.
    pub evictions: u64,
    /// Of those, dirty ones (written out).
    pub dirty_evictions: u64,
    /// Disk requests by operation.
    pub disk: BTreeMap<String, u64>,
    /// Kernel cycles (the last sample's).
    pub kernel: u64,
    /// Idle cycles (the last sample's, or the sum of `idle` records without samples).
    pub idle: u64,
    /// Whether `kernel` and `idle` come from samples.
    pub sampled_cpu: bool,
    /// The last sample's cycle (the span `kernel` and `idle` cover; the run's length
    /// without samples).
    pub sampled_cycles: u64,
    /// Samples in the trace.
    pub samples: u64,
    /// Each process: `(pid, program, how it ended)`.
    pub processes: Vec<(u32, String, String)>,
    /// Why the run ended.
    pub reason: String,
    /// The run's exit status.
    pub status: u64,
}

/// Gathers the header's numbers.
pub fn summary(trace: &Trace) -> Summary {
    let mut s = Summary {
        cycles: trace.end_cycle(),
        ..Summary::default()
    };
    let mut procs: BTreeMap<u32, (String, String)> = BTreeMap::new();
    let mut idle_records = 0u64;
    for r in &trace.records {
        match &r.event {
            Event::Fault { kind, .. } => *s.faults.entry(kind.clone()).or_default() += 1,
            Event::Evict { dirty, .. } => {
                s.evictions += 1;
                s.dirty_evictions += u64::from(*dirty);
            }
            Event::Disk { op, .. } => *s.disk.entry(op.clone()).or_default() += 1,
            Event::Sample {
                instret,
                kernel,
                idle,
                ..
            } => {
                s.samples += 1;
                s.instret = *instret;
                s.kernel = *kernel;
                s.idle = *idle;
                s.sampled_cpu = true;
                s.sampled_cycles = r.cycle;
            }
            Event::Idle { cycles } => idle_records = idle_records.saturating_add(*cycles),
            Event::Spawn { pid, name } => {
                procs.insert(*pid, (name.clone(), "did not finish".into()));
            }
            Event::Exit { pid, code } => {
                procs.entry(*pid).or_default().1 = format!("exited {code}");
            }
            Event::Kill { pid, cause, .. } => {
                let how = if cause.is_empty() {
                    "killed".to_string()
                } else {
                    format!("killed ({cause})")
                };
                procs.entry(*pid).or_default().1 = how;
            }
            Event::End {
                status,
                instret,
                reason,
            } => {
                s.status = *status;
                s.reason = reason.clone();
                if *instret > 0 {
                    s.instret = *instret;
                }
            }
            _ => {}
        }
    }
    if !s.sampled_cpu {
        s.idle = idle_records;
        s.sampled_cycles = s.cycles;
    }
    s.processes = procs
        .into_iter()
        .map(|(pid, (name, end))| (pid, name, end))
        .collect();
    s
}

/// The kinds of fault in the order the headline gives them (others follow by name).
const FAULT_ORDER: [&str; 6] = ["minor", "major", "stack", "cow", "ad", "busy"];

/// Fills `page`'s title, facts, headline and notes.
pub fn fill(trace: &Trace, page: &mut Page) {
    let m = &trace.machine;
    let s = summary(trace);
    let names: Vec<&str> = m
        .programs
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect();
    page.title = if names.is_empty() {
        "vmlab run".into()
    } else {
        format!("vmlab run: {}", names.join(", "))
    };
    let mut fact = |k: &str, v: String| page.facts.push((k.to_string(), v));
    if !m.programs.is_empty() {
        fact("Programs", m.programs.join(", "));
    }
    if !m.scheme.is_empty() {
        fact("Scheme", m.scheme.clone());
    }
    if !m.policy.is_empty() {
        fact("Policy", m.policy.clone());
    }
    if let Some(a) = &m.allocation {
        fact("Frame allocation", a.clone());
    }
    if let Some(f) = m.frames {
        fact("Frames", thousands(f));
    }
    if let Some(p) = m.page_size {
        fact("Page size", bytes(p));
    }
    if let Some(f) = &m.format {
        let mut v = f.clone();
        if let Some(l) = m.levels {
            v.push_str(&format!(", {l} levels"));
        }
        if let Some(t) = m.table_bytes {
            v.push_str(&format!(", {} per table", bytes(t)));
        }
        fact("Page tables", v);
    }
    if !m.partitions.is_empty() {
        fact("Partitions", thousands(m.partitions.len() as u64));
    }
    fact(
        "User memory",
        format!("{} at {:#x}", bytes(m.user_bytes), m.user_base),
    );
    if !m.summary.is_empty() {
        fact("Machine", m.summary.clone());
    }

    let mut head = |k: &str, v: String| page.headline.push((k.to_string(), v));
    head("cycles", thousands(s.cycles));
    if m.clock_hz > 0 {
        head(
            &format!("modelled time at {} MHz", m.clock_hz as f64 / 1e6),
            modelled_time(s.cycles, m.clock_hz),
        );
    }
    head("instructions", thousands(s.instret));
    if s.cycles > 0 {
        head("IPC", format!("{:.3}", s.instret as f64 / s.cycles as f64));
    }
    let total: u64 = s.faults.values().sum();
    head("faults", thousands(total));
    let mut kinds: Vec<(&String, &u64)> = s.faults.iter().collect();
    kinds.sort_by_key(|(k, _)| {
        FAULT_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(FAULT_ORDER.len())
    });
    for (k, v) in kinds {
        head(&format!("{k} faults"), thousands(*v));
    }
    head(
        "evictions",
        if s.dirty_evictions > 0 {
            format!(
                "{} ({} dirty)",
                thousands(s.evictions),
                thousands(s.dirty_evictions)
            )
        } else {
            thousands(s.evictions)
        },
    );
    let disk_total: u64 = s.disk.values().sum();
    let ops: Vec<String> = s
        .disk
        .iter()
        .map(|(op, n)| format!("{} {op}{}", thousands(*n), if *n == 1 { "" } else { "s" }))
        .collect();
    head(
        "disk requests",
        if ops.is_empty() {
            "0".into()
        } else {
            format!("{} ({})", thousands(disk_total), ops.join(", "))
        },
    );
    let span = s.sampled_cycles;
    if span > 0 && (s.sampled_cpu || s.idle > 0) {
        let idle = s.idle.min(span);
        let kernel = s.kernel.min(span - idle);
        head("CPU busy", percent(span - idle, span));
        head("CPU in the kernel", percent(kernel, span));
        head("CPU in user mode", percent(span - idle - kernel, span));
        head("CPU idle", percent(idle, span));
    }
    let mut ends: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, _, end) in &s.processes {
        *ends.entry(end.as_str()).or_default() += 1;
    }
    let ends: Vec<String> = ends.iter().map(|(e, n)| format!("{n} {e}")).collect();
    head(
        "processes",
        if ends.is_empty() {
            "0".into()
        } else {
            format!("{} ({})", s.processes.len(), ends.join(", "))
        },
    );
    for (pid, name, end) in s.processes.iter().take(16) {
        page.facts
            .push((format!("Process {pid}"), format!("{name}: {end}")));
    }
    if s.processes.len() > 16 {
        page.facts.push((
            "Other processes".into(),
            format!("{} more", s.processes.len() - 16),
        ));
    }
    if !s.reason.is_empty() {
        page.facts.push((
            "The end".into(),
            format!("{} (status {})", s.reason, s.status),
        ));
    }

    if s.samples > 0 {
        page.notes.push(format!(
            "Counters were sampled {} time{}, every {} instructions: the CPU shares and the \
             over-time figures come from those samples{}.",
            thousands(s.samples),
            if s.samples == 1 { "" } else { "s" },
            thousands(m.timeline_interval),
            if s.sampled_cpu {
                 " (the CPU shares are up to the last sample, which may fall a little before the end)"
            } else {
                ""
            }
        ));
    } else {
        page.notes.push(
            "The trace has no counter samples: the CPU shares come from the idle records, and \
             the over-time figures show no CPU, rate or resident-memory series."
                .into(),
        );
    }
    let refs = super::curve::reference_string(trace);
    if !refs.is_empty() {
        let (_, distinct) = super::curve::dense(&refs);
        page.notes
            .push(super::curve::note(distinct, refs.len(), m.frames));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::trace::parse;

    #[test]
    fn header_of_a_small_run() {
        let text = r#"{"cycle":0,"event":"machine","version":1,"programs":["programs/os/touch.s","hello.s"],"scheme":"vm-paging","policy":"lru","allocation":"global","page_size":4096,"format":"sv39","table_bytes":4096,"levels":3,"user_base":"0x80400000","user_bytes":131072,"frames":32,"clock_hz":1000000000,"timeline_interval":1000,"summary":"RV64 hart"}
{"cycle":1,"event":"spawn","pid":1,"name":"touch"}
{"cycle":1,"event":"spawn","pid":2,"name":"hello"}
{"cycle":5,"event":"fault","pid":1,"va":"0x1000","access":"load","kind":"major"}
{"cycle":6,"event":"fault","pid":1,"va":"0x2000","access":"store","kind":"minor"}
{"cycle":6,"event":"fault","pid":2,"va":"0x2000","access":"store","kind":"cow"}
{"cycle":7,"event":"disk","id":1,"op":"read","block":8,"count":8,"pid":1}
{"cycle":9,"event":"evict","pid":1,"va":"0x1000","pa":"0x80400000","dirty":true,"for_pid":2}
{"cycle":10,"event":"refs","pid":1,"vpns":[1,2,1]}
{"cycle":500,"event":"sample","instret":400,"faults":3,"major":1,"idle":100,"kernel":50,"working_set":2,"runnable":1,"blocked":1,"procs":[]}
{"cycle":900,"event":"exit","pid":1,"code":0}
{"cycle":950,"event":"kill","pid":2,"addr":"0x0","cause":"segfault","detail":"x"}
{"cycle":1000,"event":"end","status":0,"instret":800,"reason":"all processes ended"}"#;
        let t = parse("t", text).unwrap();
        insta::assert_json_snapshot!("header_summary", summary(&t));
        let mut p = Page::default();
        fill(&t, &mut p);
        assert_eq!(p.title, "vmlab run: touch.s, hello.s");
        insta::assert_json_snapshot!("header_page", (&p.facts, &p.headline, &p.notes));
    }

    #[test]
    fn header_of_an_odd_trace() {
        let t = parse(
            "t",
            "{\"cycle\":0,\"event\":\"machine\",\"version\":1}\n{\"cycle\":0,\"event\":\"end\"}",
        )
        .unwrap();
        let mut p = Page::default();
        fill(&t, &mut p);
        assert_eq!(p.title, "vmlab run");
        assert!(p.headline.iter().any(|(k, v)| k == "cycles" && v == "0"));
    }
}
