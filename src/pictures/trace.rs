//! Reading a trace: the JSON lines `vmlab run --trace` writes (format v1, `docs/trace.md`),
//! parsed into typed records for the report.
//!
//! The reader is lenient where the format allows it (unknown events and fields are skipped,
//! so a newer trace still draws) and strict where a picture would be wrong: a line that is
//! not a record, a record cut short, a trace without its `machine` header or its `end`.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::Path;

/// The trace format this reader understands.
pub const VERSION: u64 = 1;

/// One record: when, and what.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Record {
    /// The modelled clock.
    pub cycle: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// An address: a hex string in the trace (`"0x1f000"`); a plain number is accepted too.
fn addr<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum A {
        N(u64),
        S(String),
    }
    match A::deserialize(d)? {
        A::N(n) => Ok(n),
        A::S(s) => parse_addr(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an address: expected a hex string such as \"0x8000\""
            ))
        }),
    }
}

fn addr_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    addr(d).map(Some)
}

fn addr_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "addr")] u64);
    Ok(Vec::<W>::deserialize(d)?.into_iter().map(|w| w.0).collect())
}

/// Parses `0x...` (or decimal) into a number.
pub fn parse_addr(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A fixed partition (the `machine` record of a `fixed-partitions` run).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Partition {
    /// Its first byte.
    #[serde(deserialize_with = "addr")]
    pub base: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// The `machine` record: what ran, on what.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Machine {
    /// The trace format's version.
    pub version: u64,
    /// The programs, as given.
    pub programs: Vec<String>,
    /// The memory-management scheme.
    pub scheme: String,
    /// The replacement (or placement) policy.
    pub policy: String,
    /// `global` or `local` frame allocation (paging).
    pub allocation: Option<String>,
    /// The page size (paging).
    pub page_size: Option<u64>,
    /// The page-table format (paging).
    pub format: Option<String>,
    /// The size of one page table (paging).
    pub table_bytes: Option<u64>,
    /// Page-table levels (paging).
    pub levels: Option<u64>,
    /// The first byte of user memory.
    #[serde(deserialize_with = "addr")]
    pub user_base: u64,
    /// Bytes of user memory.
    pub user_bytes: u64,
    /// Frames of user memory (paging).
    pub frames: Option<u64>,
    /// Each process's frames under local allocation (paging with `os.frames_per_process`).
    pub frames_per_process: Option<u64>,
    /// The fixed partitions.
    pub partitions: Vec<Partition>,
    /// Cycles per second of modelled time.
    pub clock_hz: u64,
    /// Instructions between timeline samples.
    pub timeline_interval: u64,
    /// The machine in one line.
    pub summary: String,
}

/// One area of a process's address space (a `layout` record).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Area {
    /// `text`, `data`, `heap`, `stack`, `anon`, `file`, `shared-file`.
    pub kind: String,
    /// Its first address.
    #[serde(deserialize_with = "addr")]
    pub start: u64,
    /// One past its last address.
    #[serde(deserialize_with = "addr")]
    pub end: u64,
    /// `rwx` with `-` for a missing permission.
    #[serde(default)]
    pub perms: String,
}

/// A block compaction moved.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Move {
    /// Its owner.
    pub pid: u32,
    /// What it is (`block`, a segment's name).
    #[serde(default)]
    pub what: String,
    /// Where it was.
    #[serde(deserialize_with = "addr")]
    pub from: u64,
    /// Where it went.
    #[serde(deserialize_with = "addr")]
    pub to: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// A valid TLB entry at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TlbEntry {
    /// Its set.
    pub set: u64,
    /// Its way.
    pub way: u64,
    /// The page's virtual base.
    #[serde(deserialize_with = "addr")]
    pub va: u64,
    /// The frame's (or superpage's) physical base.
    #[serde(deserialize_with = "addr")]
    pub pa: u64,
    /// The bytes it covers.
    pub size: u64,
    /// Its ASID.
    #[serde(default)]
    pub asid: u64,
    /// A global entry.
    #[serde(default)]
    pub global: bool,
    /// `rwxu` with `-` for a missing permission.
    #[serde(default)]
    pub perms: String,
    /// The segment (paged segments).
    #[serde(default)]
    pub seg: Option<u64>,
}

/// A live process's counters at a sample.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ProcSample {
    /// The process.
    pub pid: u32,
    /// Its cycles on the CPU so far.
    pub cycles: u64,
    /// Its instructions so far.
    pub instret: u64,
    /// Bytes of memory it holds.
    pub resident: u64,
    /// Its resident set size in bytes (0 in traces from before it was recorded).
    pub rss: u64,
    /// Its proportional set size in bytes: each frame it maps divided among its mappers.
    pub pss: u64,
    /// Its unique set size in bytes: the frames only it maps.
    pub uss: u64,
    /// Kernel cycles charged to it so far.
    pub kernel: u64,
}

/// The heaps at a sample (`os.malloc`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HeapSample {
    /// Bytes the live blocks asked for.
    pub live: u64,
    /// Heap bytes the live blocks take.
    pub granted: u64,
    /// Bytes in free blocks.
    pub free: u64,
    /// The largest free block.
    pub largest_free: u64,
    /// The heaps' sizes.
    pub size: u64,
}

/// A kernel event (format v1; `docs/trace.md` describes each).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The header.
    Machine(Machine),
    /// The last record.
    End {
        /// The run's exit status.
        #[serde(default)]
        status: u64,
        /// Instructions retired.
        #[serde(default)]
        instret: u64,
        /// Why it ended.
        #[serde(default)]
        reason: String,
    },
    /// A TLB's valid entries at the end.
    Tlb {
        /// `itlb`, `dtlb`, `l2tlb`.
        name: String,
        /// Its sets.
        sets: u64,
        /// Its ways.
        ways: u64,
        /// The valid entries.
        #[serde(default)]
        entries: Vec<TlbEntry>,
    },
    /// A process was created.
    Spawn {
        /// Its id.
        pid: u32,
        /// Its program.
        name: String,
    },
    /// A process exited.
    Exit {
        /// Its id.
        pid: u32,
        /// Its code.
        code: u64,
    },
    /// The kernel killed a process.
    Kill {
        /// Its id.
        pid: u32,
        /// The address.
        #[serde(default, deserialize_with = "addr")]
        addr: u64,
        /// The cause in one word.
        #[serde(default)]
        cause: String,
        /// The details.
        #[serde(default)]
        detail: String,
    },
    /// A process's state changed.
    State {
        /// The process.
        pid: u32,
        /// Its new state.
        state: String,
        /// What it waits for (blocked).
        #[serde(default)]
        on: Option<String>,
    },
    /// The CPU went to another process.
    Switch {
        /// The previous process.
        #[serde(default)]
        from: Option<u32>,
        /// The new one.
        to: u32,
    },
    /// The CPU idled.
    Idle {
        /// How long.
        cycles: u64,
    },
    /// A process's areas.
    Layout {
        /// The process.
        pid: u32,
        /// Every area.
        areas: Vec<Area>,
    },
    /// A process's address space identity.
    Space {
        /// The process.
        pid: u32,
        /// Its ASID.
        #[serde(default)]
        asid: Option<u64>,
        /// Its root page table.
        #[serde(default, deserialize_with = "addr_opt")]
        root: Option<u64>,
    },
    /// A frame changed hands.
    Frame {
        /// The frame.
        #[serde(deserialize_with = "addr")]
        pa: u64,
        /// What it holds now.
        holds: String,
        /// Its owner.
        #[serde(default)]
        pid: Option<u32>,
        /// The page it holds.
        #[serde(default, deserialize_with = "addr_opt")]
        va: Option<u64>,
        /// Mappings (when shared).
        #[serde(default)]
        maps: Option<u64>,
    },
    /// The kernel wrote a page-table entry.
    Pte {
        /// The process.
        pid: u32,
        /// The level, 0 = the root.
        level: u64,
        /// The first address the entry covers.
        #[serde(deserialize_with = "addr")]
        va: u64,
        /// The bytes it covers.
        span: u64,
        /// The entry's address.
        #[serde(deserialize_with = "addr")]
        at: u64,
        /// The raw entry.
        #[serde(deserialize_with = "addr")]
        value: u64,
        /// `invalid`, `table`, `leaf`.
        kind: String,
        /// The next table or the frame.
        #[serde(default, deserialize_with = "addr_opt")]
        target: Option<u64>,
        /// `rwxugad` with `-` for clear bits (leaves).
        #[serde(default)]
        flags: Option<String>,
    },
    /// Memory given to a process.
    Place {
        /// The process.
        pid: u32,
        /// What.
        what: String,
        /// Its base.
        #[serde(deserialize_with = "addr")]
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Memory given back.
    Release {
        /// The process.
        pid: u32,
        /// What.
        what: String,
        /// Its base.
        #[serde(deserialize_with = "addr")]
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Compaction.
    Compact {
        /// Blocks moved.
        moves: u64,
        /// Bytes copied.
        bytes: u64,
        /// Each move.
        #[serde(default)]
        blocks: Vec<Move>,
    },
    /// A fault.
    Fault {
        /// The process.
        pid: u32,
        /// The address.
        #[serde(deserialize_with = "addr")]
        va: u64,
        /// `fetch`, `load`, `store`.
        access: String,
        /// `minor`, `major`, `ad`, `stack`, `busy`, `cow`.
        kind: String,
    },
    /// A page or segment left memory.
    Evict {
        /// Its owner.
        pid: u32,
        /// Its address.
        #[serde(deserialize_with = "addr")]
        va: u64,
        /// The frame or base it leaves.
        #[serde(default, deserialize_with = "addr_opt")]
        pa: Option<u64>,
        /// Written out first.
        #[serde(default)]
        dirty: bool,
        /// Whose fault needed the room.
        #[serde(default)]
        for_pid: Option<u32>,
    },
    /// Page references, repeats collapsed.
    Refs {
        /// The process.
        pid: u32,
        /// Virtual page numbers.
        vpns: Vec<u64>,
    },
    /// A disk request started.
    Disk {
        /// Its id.
        id: u64,
        /// `read` or `write`.
        op: String,
        /// The first block.
        block: u64,
        /// Blocks.
        count: u64,
        /// For whom.
        pid: u32,
    },
    /// A disk request finished.
    DiskDone {
        /// Its id.
        id: u64,
        /// How it failed.
        #[serde(default)]
        error: Option<String>,
    },
    /// A timeline sample.
    Sample {
        /// Instructions so far.
        #[serde(default)]
        instret: u64,
        /// Faults so far.
        #[serde(default)]
        faults: u64,
        /// Major faults so far.
        #[serde(default)]
        major: u64,
        /// Idle cycles so far.
        #[serde(default)]
        idle: u64,
        /// Kernel cycles so far.
        #[serde(default)]
        kernel: u64,
        /// Working-set pages of the live processes.
        #[serde(default)]
        working_set: u64,
        /// Processes ready or running.
        #[serde(default)]
        runnable: u64,
        /// Processes blocked.
        #[serde(default)]
        blocked: u64,
        /// The heaps.
        #[serde(default)]
        heap: Option<HeapSample>,
        /// The live processes.
        #[serde(default)]
        procs: Vec<ProcSample>,
    },
    /// A system call.
    Syscall {
        /// The process.
        pid: u32,
        /// Its name.
        name: String,
        /// What it returned.
        #[serde(default)]
        ret: Option<i64>,
        /// Its arguments.
        #[serde(default, deserialize_with = "addr_vec")]
        args: Vec<u64>,
    },
    /// An allocation.
    Alloc {
        /// The process.
        pid: u32,
        /// The call.
        call: String,
        /// Bytes asked for.
        size: u64,
        /// The block.
        #[serde(deserialize_with = "addr")]
        ptr: u64,
        /// Bytes it takes.
        granted: u64,
    },
    /// A free.
    Free {
        /// The process.
        pid: u32,
        /// The block.
        #[serde(deserialize_with = "addr")]
        ptr: u64,
        /// Bytes it took.
        granted: u64,
    },
    /// An event this reader does not draw (a newer format's, or one it has no use for).
    #[serde(other)]
    Other,
}

/// Why a trace could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// The file (or `<trace>`).
    pub file: String,
    /// The line, from 1 (0: the trace as a whole).
    pub line: usize,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for TraceError {}

/// The most page references a [`Trace`] keeps (the first ones of the run): the reference
/// string of a long run can hold billions, and the report's memory must stay bounded.
pub const MAX_REFS: usize = 1 << 22;

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The header.
    pub machine: Machine,
    /// Every record after the header, `end` included, in order (`refs` records only up to
    /// [`MAX_REFS`] references).
    pub records: Vec<Record>,
    /// Page references of `refs` records left out after the first [`MAX_REFS`].
    pub refs_left_out: u64,
}

impl Trace {
    /// The `end` record's cycle (the run's length).
    pub fn end_cycle(&self) -> u64 {
        self.records.last().map_or(0, |r| r.cycle)
    }
}

/// Parses one line.
pub fn parse_line(line: &str) -> Result<Record, String> {
    serde_json::from_str(line).map_err(|e| {
        if e.is_eof() {
            "the record is cut short (the trace was truncated?)".to_string()
        } else {
            format!("not a trace record: {e}")
        }
    })
}

/// Builds a [`Trace`] line by line, checking the format's rules as it goes (the report of a
/// run is built this way from the lines the run writes, so it reads exactly what a trace file
/// holds).
#[derive(Debug)]
pub struct Builder {
    file: String,
    line: usize,
    machine: Option<Machine>,
    records: Vec<Record>,
    last: u64,
    ended: bool,
    refs_kept: usize,
    refs_left_out: u64,
    max_refs: usize,
}

impl Builder {
    /// Keeps at most `n` page references instead of [`MAX_REFS`].
    pub fn max_refs(mut self, n: usize) -> Builder {
        self.max_refs = n;
        self
    }

    /// A builder for the trace named `file` (in errors).
    pub fn new(file: &str) -> Builder {
        Builder {
            file: file.to_string(),
            line: 0,
            machine: None,
            records: Vec::new(),
            last: 0,
            ended: false,
            refs_kept: 0,
            refs_left_out: 0,
            max_refs: MAX_REFS,
        }
    }

    fn err(&self, line: usize, message: String) -> TraceError {
        TraceError {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// Takes the next line.
    pub fn push_line(&mut self, line: &str) -> Result<(), TraceError> {
        self.line += 1;
        let n = self.line;
        if line.trim().is_empty() {
            return Ok(());
        }
        if self.ended {
            return Err(self.err(
                n,
                "a record after `end`: `end` must be the last record".into(),
            ));
        }
        let r = parse_line(line).map_err(|m| self.err(n, m))?;
        if r.cycle < self.last {
            return Err(self.err(
                n,
                format!(
                    "cycle {} comes after cycle {}: records must be in cycle order",
                    r.cycle, self.last
                ),
            ));
        }
        self.last = r.cycle;
        match r.event {
            Event::Machine(m) => {
                if self.machine.is_some() {
                    return Err(self.err(
                        n,
                        "a second `machine` record: a trace has one, first".into(),
                    ));
                }
                if m.version != VERSION {
                    return Err(self.err(
                        n,
                        format!(
                            "trace format version {} — this vmlab reads version {VERSION}; write the trace again with this vmlab",
                            m.version
                        ),
                    ));
                }
                self.machine = Some(m);
            }
            ev => {
                if self.machine.is_none() {
                    return Err(self.err(
                        n,
                        "the first record must be `machine` (the header): is this a vmlab trace (`vmlab run --trace FILE`)?"
                            .into(),
                    ));
                }
                self.ended = matches!(ev, Event::End { .. });
                let ev = match ev {
                    Event::Refs { pid, mut vpns } => {
                        let room = self.max_refs.saturating_sub(self.refs_kept);
                        if vpns.len() > room {
                            self.refs_left_out += (vpns.len() - room) as u64;
                            vpns.truncate(room);
                        }
                        if vpns.is_empty() {
                            return Ok(());
                        }
                        self.refs_kept += vpns.len();
                        Event::Refs { pid, vpns }
                    }
                    ev => ev,
                };
                self.records.push(Record {
                    cycle: r.cycle,
                    event: ev,
                });
            }
        }
        Ok(())
    }

    /// The whole trace, once its `end` has been read.
    pub fn finish(self) -> Result<Trace, TraceError> {
        let Some(machine) = self.machine.clone() else {
            return Err(self.err(
                0,
                "the trace is empty: expected the `machine` record first".into(),
            ));
        };
        if !self.ended {
            return Err(self.err(
                0,
                "the trace has no `end` record: it was cut short (or its run is still writing it)"
                    .into(),
            ));
        }
        Ok(Trace {
            machine,
            records: self.records,
            refs_left_out: self.refs_left_out,
        })
    }
}

/// Reads a trace from its text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
    let mut b = Builder::new(file);
    for line in text.lines() {
        b.push_line(line)?;
    }
    b.finish()
}

/// Reads a trace file, line by line.
pub fn read(path: &Path) -> Result<Trace, TraceError> {
    use std::io::BufRead;
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| TraceError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read it: {e}"),
    })?;
    let mut b = Builder::new(&file);
    let mut buf = Vec::new();
    let mut r = std::io::BufReader::with_capacity(1 << 16, f);
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| TraceError {
            file: file.clone(),
            line: b.line + 1,
            message: format!("cannot read it: {e}"),
        })?;
        if n == 0 {
            break;
        }
        let text = std::str::from_utf8(&buf).map_err(|_| TraceError {
            file: file.clone(),
            line: b.line + 1,
            message: "not a trace: this line is not UTF-8 text".into(),
        })?;
        b.push_line(text.trim_end_matches(['\n', '\r']))?;
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"{"cycle":0,"event":"machine","version":1,"programs":["a.s"],"scheme":"vm-paging","policy":"lru","page_size":4096,"user_base":"0x80400000","user_bytes":131072,"frames":32,"clock_hz":1000000000,"timeline_interval":100000,"summary":"x"}"#;

    fn check(body: &str, expected: Result<usize, &str>) {
        let text = format!("{HEAD}\n{body}");
        match (parse("t.jsonl", &text), expected) {
            (Ok(t), Ok(n)) => assert_eq!(t.records.len(), n, "{body}"),
            (Err(e), Err(m)) => assert!(e.to_string().contains(m), "{e} lacks {m:?}"),
            (got, want) => panic!("{body}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn records() {
        check(
            r#"{"cycle":5,"event":"end","status":0,"instret":3,"reason":"done"}"#,
            Ok(1),
        );
        check(
            r#"{"cycle":1,"event":"fault","pid":1,"va":"0x1000","access":"load","kind":"major"}
{"cycle":2,"event":"something-new","x":1}
{"cycle":5,"event":"end","status":0}"#,
            Ok(3),
        );
        check(
            r#"{"cycle":1,"event":"fault","pid":1,"va":"0x1000""#,
            Err("t.jsonl:2: the record is cut short"),
        );
        check(
            r#"{"cycle":1,"event":"fault","pid":1,"va":"zz","access":"load","kind":"major"}"#,
            Err("is not an address"),
        );
        check(
            r#"{"cycle":1,"event":"spawn","pid":1,"name":"a"}"#,
            Err("no `end` record"),
        );
        check(
            "{\"cycle\":9,\"event\":\"idle\",\"cycles\":1}\n{\"cycle\":3,\"event\":\"end\"}",
            Err("records must be in cycle order"),
        );
        check(
            "{\"cycle\":3,\"event\":\"end\"}\n{\"cycle\":3,\"event\":\"end\"}",
            Err("after `end`"),
        );
        assert!(parse("t", "").unwrap_err().to_string().contains("empty"));
        assert!(parse("t", "{\"cycle\":3,\"event\":\"end\"}")
            .unwrap_err()
            .to_string()
            .contains("first record must be `machine`"));
        let mut b = Builder::new("t").max_refs(3);
        for l in [
            HEAD,
            r#"{"cycle":1,"event":"refs","pid":1,"vpns":[1,2]}"#,
            r#"{"cycle":1,"event":"refs","pid":2,"vpns":[3,4,5]}"#,
            r#"{"cycle":1,"event":"refs","pid":1,"vpns":[6]}"#,
            r#"{"cycle":2,"event":"end"}"#,
        ] {
            b.push_line(l).unwrap();
        }
        let t = b.finish().unwrap();
        assert_eq!(t.refs_left_out, 3);
        assert_eq!(t.records.len(), 3);
        assert_eq!(
            t.records[1].event,
            Event::Refs {
                pid: 2,
                vpns: vec![3]
            }
        );
        let f = parse("t", &format!("{HEAD}\n{{\"cycle\":1,\"event\":\"end\"}}")).unwrap();
        assert_eq!(f.machine.user_base, 0x8040_0000);
        assert_eq!(f.machine.frames, Some(32));
    }
}
