//! Processes: their registers, state, address-space areas and statistics, and the report a
//! killed process leaves.

use crate::image::{Image, Perm};
use serde::Serialize;
use std::fmt;

/// A process id (1, 2, ... in the order the programs were given).
pub type Pid = u32;

/// What an area of the address space holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AreaKind {
    /// Program text (and read-only data).
    Text,
    /// Initialised data and `.bss`.
    Data,
    /// The heap, grown by `brk`.
    Heap,
    /// The stack, grown by faults just below it.
    Stack,
    /// An anonymous `mmap`.
    Anon,
    /// An `mmap` of a file of the guest file system (`--mount`, `/tmp`, `--sysroot`): its
    /// pages come through the page cache. A shared mapping maps the cached pages
    /// themselves; a private one gets its own copy of each page it touches.
    Mapped {
        /// The file's inode.
        ino: u64,
        /// The file offset of the area's first byte.
        offset: u64,
        /// `MAP_SHARED`: stores reach the file (through the cache).
        shared: bool,
    },
}

impl AreaKind {
    /// Whether the area is an `mmap` (anonymous or of a file), which `munmap` and
    /// `MAP_FIXED` may remove.
    pub fn is_mapping(&self) -> bool {
        matches!(self, AreaKind::Anon | AreaKind::Mapped { .. })
    }

    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            AreaKind::Text => "text",
            AreaKind::Data => "data",
            AreaKind::Heap => "heap",
            AreaKind::Stack => "stack",
            AreaKind::Anon => "mmap",
            AreaKind::Mapped { .. } => "file mmap",
        }
    }
}

/// A contiguous range of virtual addresses with one kind and one permission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Area {
    /// The first address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Its permissions.
    pub perm: Perm,
    /// What it holds.
    pub kind: AreaKind,
}

impl Area {
    /// Whether `va` lies in it.
    pub fn contains(&self, va: u64) -> bool {
        (self.start..self.end).contains(&va)
    }

    /// The part of the area in `[start, end)` (clipped to the area), as an area of its own:
    /// a file mapping's piece keeps pointing at the same file bytes, so its offset moves by
    /// as much as its start did.
    pub fn piece(&self, start: u64, end: u64) -> Area {
        let start = start.clamp(self.start, self.end);
        let end = end.clamp(start, self.end);
        let kind = match self.kind {
            AreaKind::Mapped {
                ino,
                offset,
                shared,
            } => AreaKind::Mapped {
                ino,
                offset: offset + (start - self.start),
                shared,
            },
            ref k => k.clone(),
        };
        Area {
            start,
            end,
            perm: self.perm,
            kind,
        }
    }
}

/// Where a process is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Waiting for memory to be free (a partition, a hole).
    WaitingForMemory,
    /// Its image is being read from the disk.
    Loading,
    /// Ready to run.
    Ready,
    /// On the CPU.
    Running,
    /// Waiting for events on the kernel's wait queues (a page-in, a write-back before one,
    /// a segment, `msync`'s writes): it runs again when the last one has happened.
    Blocked,
    /// Exited with a code.
    Exited(u64),
    /// Killed by the kernel.
    Killed(Kill),
}

impl State {
    /// Whether the process has ended.
    pub fn ended(&self) -> bool {
        matches!(self, State::Exited(_) | State::Killed(_))
    }
}

/// What kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// An instruction fetch.
    Fetch,
    /// A load.
    Load,
    /// A store or AMO.
    Store,
}

impl Access {
    /// Whether `perm` allows this access.
    pub fn allowed_by(self, perm: crate::image::Perm) -> bool {
        match self {
            Access::Fetch => perm.exec,
            Access::Load => perm.read,
            Access::Store => perm.write,
        }
    }

    /// The verb a permission report uses: `execute`, `read`, `write`.
    pub fn verb(self) -> &'static str {
        match self {
            Access::Fetch => "execute",
            Access::Load => "read",
            Access::Store => "write",
        }
    }

    /// The word reports use.
    pub fn name(self) -> &'static str {
        match self {
            Access::Fetch => "fetch",
            Access::Load => "load",
            Access::Store => "store",
        }
    }
}

/// The causes of kills by a signal a process sent: the signal's name, by number (1 to 31).
const SIGNAL_CAUSES: [&str; 32] = crate::linux::sig::NAMES;

/// Why the kernel killed a process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kill {
    /// The faulting address (or the pc for an illegal instruction).
    #[serde(serialize_with = "crate::services::hex::u64")]
    pub addr: u64,
    /// The pc of the instruction.
    #[serde(serialize_with = "crate::services::hex::u64")]
    pub pc: u64,
    /// The access that faulted, if it was a memory access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// The cause in one word: `no-mapping`, `bounds`, `segment-limit`, `permission`,
    /// `illegal-instruction`, `misaligned`, `breakpoint`, `stack-limit`, `out-of-memory`,
    /// `infinite-loop`, `io-error` (the disk failed a read of its memory), `beyond-eof` (a
    /// file mapping's page past the file's end), `signal-frame` (a signal handler's frame
    /// could not be written, or `rt_sigreturn` could not read it back: SIGSEGV).
    pub cause: &'static str,
    /// The scheme in force (`vm-paging`, ...).
    pub scheme: &'static str,
    /// The details in words.
    pub detail: String,
}

impl Kill {
    /// The signal number a shell would report (SIGSEGV 11, SIGILL 4, SIGBUS 7 for a
    /// misaligned access, an I/O error on a page-in, or a page of a file mapping wholly past
    /// the file's end, SIGTRAP 5, SIGKILL 9 for out of
    /// memory).
    pub fn signal(&self) -> u8 {
        if let Some(n) = SIGNAL_CAUSES.iter().position(|&c| c == self.cause) {
            return n as u8;
        }
        match self.cause {
            "illegal-instruction" => 4,
            "misaligned" | "io-error" | "beyond-eof" => 7,
            "breakpoint" => 5,
            "out-of-memory" | "infinite-loop" => 9,
            _ => 11,
        }
    }

    /// The cause of a kill by signal `n` sent by a process (`kill`, `tgkill`, `abort()`):
    /// the signal's name, which [`Kill::signal`] reads back.
    pub fn signal_cause(n: u64) -> &'static str {
        SIGNAL_CAUSES
            .get(n as usize)
            .copied()
            .filter(|c| !c.is_empty())
            .unwrap_or("SIGRT")
    }

    /// The signal's name.
    pub fn signal_name(&self) -> &'static str {
        if SIGNAL_CAUSES.contains(&self.cause) {
            return match self.signal() {
                6 => "aborted",
                9 => "killed",
                15 => "terminated",
                31 => "bad system call",
                _ => "killed by a signal",
            };
        }
        match self.signal() {
            4 => "illegal instruction",
            7 => "bus error",
            5 => "trace/breakpoint trap",
            9 => "killed",
            _ => "segmentation fault",
        }
    }
}

/// A kill as a report names it, to follow "process 1 (prog) killed by ": the signal by
/// name and what it means, the pc, the access and the cause, e.g. `SIGSEGV (segmentation
/// fault) at pc 0x1008: store at 0x1000: permission: write in text [0x1000, 0x1016), which
/// is r-x [vm-paging]`.
impl fmt::Display for Kill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::linux::sig::name(u64::from(self.signal())))?;
        let meaning = if self.cause == "out-of-memory" {
            "out of memory"
        } else {
            self.signal_name()
        };
        // "killed by SIGKILL (killed)" says nothing twice.
        if !meaning.starts_with("killed") {
            write!(f, " ({meaning})")?;
        }
        if self.cause == "out-of-memory" && self.access.is_none() {
            // Refused before it ran: there is no pc worth naming.
            return write!(f, ": {} [{}]", self.detail, self.scheme);
        }
        write!(f, " at pc {:#x}: ", self.pc)?;
        match self.access {
            Some(a) if self.cause == "out-of-memory" => write!(
                f,
                "{} of {:#x}: {} [{}]",
                a.name(),
                self.addr,
                self.detail,
                self.scheme
            ),
            Some(a) => write!(
                f,
                "{} at {:#x}: {}: {} [{}]",
                a.name(),
                self.addr,
                self.cause,
                self.detail,
                self.scheme
            ),
            None => write!(f, "{} [{}]", self.detail, self.scheme),
        }
    }
}

/// A process's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProcStats {
    /// Cycles while it held the CPU (its instructions and the kernel's work for it).
    pub cycles: u64,
    /// Instructions it retired.
    pub instret: u64,
    /// Faults served without the disk (a zero page, a stack page, a page still in memory).
    pub minor_faults: u64,
    /// Faults that read the disk.
    pub major_faults: u64,
    /// Faults that only asked for a resident page's A or D bit (Svade: after Clock cleared
    /// A, or the first store to a page mapped clean), counted apart from the minor ones.
    pub ad_faults: u64,
    /// Copy-on-write faults (also counted as minor): its stores to pages it shared after
    /// a fork.
    pub cow_faults: u64,
    /// Pages read in for it.
    pub pages_in: u64,
    /// Its pages written out to make room.
    pub pages_out: u64,
    /// System calls it made.
    pub syscalls: u64,
    /// Times it was switched out.
    pub switches: u64,
    /// Programs it started with `execve`.
    pub execs: u64,
    /// Cycles it spent blocked on the disk.
    pub blocked_cycles: u64,
    /// Its page (or segment) faults, minor and major, by the kind of area they fell in, in
    /// the order of [`ProcStats::AREAS`].
    pub faults_by_area: [u64; 6],
}

impl ProcStats {
    /// The kinds of area faults are counted by (`faults.by_area.NAME`): program text,
    /// data and `.bss`, heap, stack, anonymous `mmap`, file `mmap` (shared libraries too).
    pub const AREAS: [&'static str; 6] = ["text", "data", "heap", "stack", "mmap", "file"];

    /// The slot of [`ProcStats::faults_by_area`] for an area of kind `k`.
    pub fn area_slot(k: &AreaKind) -> usize {
        match k {
            AreaKind::Text => 0,
            AreaKind::Data => 1,
            AreaKind::Heap => 2,
            AreaKind::Stack => 3,
            AreaKind::Anon => 4,
            AreaKind::Mapped { .. } => 5,
        }
    }

    /// Walks the counters under `prefix.NAME` in a stable order.
    pub fn for_each(&self, prefix: &str, f: &mut dyn FnMut(&str, u64)) {
        for (n, v) in [
            ("cycles", self.cycles),
            ("instret", self.instret),
            ("faults.minor", self.minor_faults),
            ("faults.major", self.major_faults),
            ("faults.ad", self.ad_faults),
            ("faults.cow", self.cow_faults),
            ("pages_in", self.pages_in),
            ("pages_out", self.pages_out),
            ("syscalls", self.syscalls),
            ("switches", self.switches),
            ("execs", self.execs),
            ("blocked_cycles", self.blocked_cycles),
        ] {
            f(&format!("{prefix}.{n}"), v);
        }
        for (n, v) in Self::AREAS.iter().zip(self.faults_by_area) {
            f(&format!("{prefix}.faults.by_area.{n}"), v);
        }
    }
}

/// An address space's id: its low 32 bits are the pid of the process that made it (a
/// process vmlab starts, or a fork's child), its high bits how many `execve` that process
/// had made before (so that a space an exec replaces and the new one never share an id).
pub type SpaceId = u64;

/// The id of the address space process `pid` gets from its `execs`-th `execve` (0: the
/// one it started with, or got from `fork`).
pub fn space_id(pid: Pid, execs: u32) -> SpaceId {
    u64::from(execs) << 32 | u64::from(pid)
}

/// An address space: the areas of virtual memory a process may use, and where its heap
/// and stack are. The scheme keeps the translation for it (page tables, segment or base
/// registers) under its id. Apart from the task that runs in it, so that fork can copy it,
/// exec replace it, and threads share it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSpace {
    /// Its id.
    pub id: SpaceId,
    /// Its areas, in address order.
    pub areas: Vec<Area>,
    /// The heap's start (page-aligned end of the image).
    pub heap_start: u64,
    /// The current program break.
    pub brk: u64,
    /// The most the break may reach.
    pub brk_limit: u64,
    /// The stack's top (one past its highest byte).
    pub stack_top: u64,
    /// The lowest address the stack may grow down to.
    pub stack_floor: u64,
    /// The initial stack (arguments, environment, auxiliary vector): memory of the stack
    /// that the scheme creates fills with these bytes instead of zeros, as if `execve` had
    /// written them there.
    pub start: Option<crate::exec::InitialStack>,
}

impl AddressSpace {
    /// The initial stack's bytes that fall in `[va, va + len)`: their offset from `va` and
    /// the bytes (nothing if none do).
    pub fn start_bytes(&self, va: u64, len: u64) -> Option<(u64, &[u8])> {
        let s = self.start.as_ref()?;
        let (lo, hi) = (s.base, s.base + s.bytes.len() as u64);
        let (from, to) = (va.max(lo), va.saturating_add(len).min(hi));
        (from < to).then(|| {
            (
                from - va,
                &s.bytes[(from - lo) as usize..(to - lo) as usize],
            )
        })
    }

    /// Writes the initial stack's bytes that fall in the page (or piece) of memory at `va`,
    /// `len` bytes long, which starts at physical address `pa`; true if any did (the memory
    /// is then dirty: it must not be dropped as if it were still zeros).
    pub fn fill_start(&self, hw: &mut dyn crate::hw::Hw, va: u64, pa: u64, len: u64) -> bool {
        match self.start_bytes(va, len) {
            Some((off, bytes)) => hw.write_phys(pa + off, bytes),
            None => false,
        }
    }

    /// The area holding `va`.
    pub fn area(&self, va: u64) -> Option<&Area> {
        self.areas.iter().find(|a| a.contains(va))
    }

    /// The index of the area holding `va`.
    pub fn area_index(&self, va: u64) -> Option<usize> {
        self.areas.iter().position(|a| a.contains(va))
    }

    /// Inserts an area keeping address order.
    pub fn add_area(&mut self, a: Area) {
        let i = self.areas.partition_point(|x| x.start < a.start);
        self.areas.insert(i, a);
    }

    /// Whether `[start, end)` overlaps any area.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.areas.iter().any(|a| a.start < end && start < a.end)
    }

    /// The area of a kind (the first), if any.
    pub fn area_of(&self, kind: &AreaKind) -> Option<usize> {
        self.areas.iter().position(|a| &a.kind == kind)
    }
}

/// Every address space, by id (the kernel's; a scheme reaches them through its `Cx`).
pub type Spaces = std::collections::BTreeMap<SpaceId, AddressSpace>;

/// A file table's id.
pub type FilesId = u64;

/// Every file table, by id (the kernel's).
pub type FileTables = std::collections::BTreeMap<FilesId, FileTable>;

/// What an open file descriptor refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFile {
    /// The machine's console: standard input (0), output (1) or error (2).
    Console(u8),
    /// An open file description of the guest's file system (a file, directory or
    /// device), by the kernel's id for it; `dup` shares it.
    Desc(u64),
    /// An open end of a pipe (an open file description of its own), by the kernel's id
    /// for it ([`crate::pipe::EndId`]); `dup` shares it.
    Pipe(u64),
}

/// One open descriptor: what it refers to, and its own flag (not the description's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fd {
    file: OpenFile,
    /// `FD_CLOEXEC`: `execve` closes it.
    cloexec: bool,
}

/// A process's open files: descriptor to what it refers to, with each descriptor's
/// close-on-exec flag. Apart from the task, so that fork can copy it (a copy refers to the
/// same open file descriptions: the kernel counts one more reference to each,
/// `Kernel::dup_table_refs`) and threads share it. A new table has the console on 0, 1
/// and 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTable {
    fds: std::collections::BTreeMap<u64, Fd>,
}

impl Default for FileTable {
    fn default() -> FileTable {
        FileTable {
            fds: (0..3)
                .map(|fd| {
                    let file = OpenFile::Console(fd as u8);
                    (
                        fd,
                        Fd {
                            file,
                            cloexec: false,
                        },
                    )
                })
                .collect(),
        }
    }
}

impl FileTable {
    /// Opens `file` on the lowest free descriptor (close-on-exec clear); returns it.
    pub fn open(&mut self, file: OpenFile) -> u64 {
        self.open_from(0, file)
    }

    /// Opens `file` on the lowest free descriptor at or above `min` (close-on-exec clear);
    /// returns it.
    pub fn open_from(&mut self, min: u64, file: OpenFile) -> u64 {
        let fd = (min..).find(|f| !self.fds.contains_key(f)).unwrap_or(min);
        self.put(fd, file);
        fd
    }

    /// Puts `file` on descriptor `fd` (close-on-exec clear), closing what was there.
    pub fn put(&mut self, fd: u64, file: OpenFile) {
        self.fds.insert(
            fd,
            Fd {
                file,
                cloexec: false,
            },
        );
    }

    /// What `fd` refers to, if it is open.
    pub fn get(&self, fd: u64) -> Option<OpenFile> {
        self.fds.get(&fd).map(|f| f.file)
    }

    /// Closes `fd`; what it referred to, if it was open.
    pub fn close(&mut self, fd: u64) -> Option<OpenFile> {
        self.fds.remove(&fd).map(|f| f.file)
    }

    /// Closes every descriptor; what they referred to.
    pub fn close_all(&mut self) -> Vec<OpenFile> {
        std::mem::take(&mut self.fds)
            .into_values()
            .map(|f| f.file)
            .collect()
    }

    /// The close-on-exec flag (`FD_CLOEXEC`) of `fd`, if it is open.
    pub fn cloexec(&self, fd: u64) -> Option<bool> {
        self.fds.get(&fd).map(|f| f.cloexec)
    }

    /// Sets or clears the close-on-exec flag of `fd`; false if it is not open.
    pub fn set_cloexec(&mut self, fd: u64, on: bool) -> bool {
        match self.fds.get_mut(&fd) {
            Some(f) => {
                f.cloexec = on;
                true
            }
            None => false,
        }
    }

    /// `execve`: closes every descriptor whose close-on-exec flag is set; what they
    /// referred to, in descriptor order (the caller releases each).
    pub fn close_on_exec(&mut self) -> Vec<OpenFile> {
        let gone: Vec<u64> = self
            .fds
            .iter()
            .filter(|(_, f)| f.cloexec)
            .map(|(&fd, _)| fd)
            .collect();
        gone.into_iter().filter_map(|fd| self.close(fd)).collect()
    }

    /// What every open descriptor refers to, in descriptor order (a description that
    /// several refer to comes once for each).
    pub fn files(&self) -> Vec<OpenFile> {
        self.fds.values().map(|f| f.file).collect()
    }
}

impl Process {
    /// The program's path as `/proc/self/exe` gives it: `argv[0]` if it is absolute, else
    /// the program's name under `/`.
    pub fn exe_path(&self) -> Vec<u8> {
        match self.image.argv.first() {
            Some(a) if a.starts_with(b"/") => a.clone(),
            _ => format!("/{}", self.image.name).into_bytes(),
        }
    }
}

/// What a process's Linux system calls registered with the kernel: its signal actions,
/// mask and pending set, its alternate signal stack, its resource limits, and the
/// addresses glibc's start-up hands over (`set_tid_address`, `set_robust_list`, `rseq`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// `set_tid_address`: where the kernel writes 0 when the thread ends.
    pub clear_child_tid: u64,
    /// `set_robust_list`: the robust futex list's head and length.
    pub robust_list: (u64, u64),
    /// `rseq`: the registered area's address, length and signature.
    pub rseq: Option<(u64, u32, u32)>,
    /// Each signal's action (`sa_handler`, `sa_flags`, `sa_mask`), index 1 to 64.
    pub actions: Vec<[u64; 3]>,
    /// The blocked signals (bit `n - 1` for signal `n`).
    pub mask: u64,
    /// The signals sent and not yet delivered.
    pub pending: u64,
    /// What each pending signal's handler will be told (who sent it, how): the first
    /// sending's, as Linux keeps one instance of a pending standard signal.
    pub pending_info: std::collections::BTreeMap<u64, crate::linux::sig::Info>,
    /// The mask to restore after `rt_sigsuspend`'s temporary one (Linux's
    /// `saved_sigmask`): the next handler's frame saves it, so `rt_sigreturn` restores it.
    pub saved_mask: Option<u64>,
    /// `sigaltstack`: `ss_sp`, `ss_flags`, `ss_size`.
    pub altstack: [u64; 3],
    /// Resource limits: (soft, hard) per `RLIMIT_*`.
    pub rlimits: [(u64, u64); 16],
    /// The working directory's inode.
    pub cwd: u64,
    /// The file-mode creation mask.
    pub umask: u32,
    /// The thread's name (`prctl(PR_SET_NAME)`; the program's file name to start with).
    pub comm: Vec<u8>,
}

impl Task {
    /// A task as a new process has it: default actions, nothing blocked, no alternate
    /// stack (`SS_DISABLE`), and Linux's default limits with the stack's from the kernel's
    /// configuration.
    pub fn new(stack_limit: u64) -> Task {
        let inf = u64::MAX;
        let mut rlimits = [(inf, inf); 16];
        rlimits[3] = (stack_limit, inf); // RLIMIT_STACK
        rlimits[4] = (0, inf); // RLIMIT_CORE
        rlimits[7] = (1024, 4096); // RLIMIT_NOFILE
        rlimits[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
        rlimits[12] = (819_200, 819_200); // RLIMIT_MSGQUEUE
        rlimits[13] = (0, 0); // RLIMIT_NICE
        rlimits[14] = (0, 0); // RLIMIT_RTPRIO
        Task {
            clear_child_tid: 0,
            robust_list: (0, 0),
            rseq: None,
            actions: vec![[0; 3]; 65],
            mask: 0,
            pending: 0,
            pending_info: std::collections::BTreeMap::new(),
            saved_mask: None,
            altstack: [0, 2, 0],
            rlimits,
            cwd: crate::fs::ROOT_INO,
            umask: 0o022,
            comm: Vec::new(),
        }
    }
}

/// One process: the task that runs (its registers, state, scheduling and counters), the id
/// of the address space it runs in, and the id of its file table.
#[derive(Clone, Debug)]
pub struct Process {
    /// Its id.
    pub pid: Pid,
    /// Its program.
    pub image: Image,
    /// Where it is in its life.
    pub state: State,
    /// Its saved integer registers.
    pub regs: [u64; 32],
    /// Where it resumes.
    pub pc: u64,
    /// The address space it runs in (the kernel's [`Spaces`] hold it: processes may share
    /// one).
    pub space: SpaceId,
    /// The ASID its address space last ran with.
    pub asid: u16,
    /// When it last went on the CPU (for its cycle count).
    pub since: u64,
    /// Instructions retired when it last went on the CPU.
    pub insns_since: u64,
    /// When it last blocked.
    pub blocked_at: u64,
    /// The file table it uses (the kernel's `FileTables` hold it: processes may share one).
    pub files: FilesId,
    /// Its counters.
    pub stats: ProcStats,
    /// Its Linux task state.
    pub task: Task,
    /// Its floating-point registers and `fcsr`, as saved when it was switched out with
    /// them dirty.
    pub fp: ([u64; 32], u64),
    /// It has changed its floating-point registers at some point (they are not all the
    /// initial zeros).
    pub fp_used: bool,
    /// Its parent: the process that forked it (0: vmlab started it, or its parent ended
    /// and no process 1 is left to adopt it).
    pub ppid: Pid,
    /// Its end was collected: its parent waited for it (`wait4`, `waitid`), or nobody
    /// will (vmlab's own processes, a parent that ignores `SIGCHLD`). Until then an ended
    /// process is a zombie: it holds no memory, but its pid and its exit status stay.
    pub reaped: bool,
    /// The signal its parent gets when it ends (`SIGCHLD` for a fork; 0 for none).
    pub exit_signal: u64,
    /// Where to write its thread id when it first runs (`CLONE_CHILD_SETTID`; 0: nowhere).
    pub set_child_tid: u64,
    /// The parent that waits in `vfork` until this process execs or ends.
    pub vfork_parent: Option<Pid>,
    /// How many times it has called `execve` successfully (the address spaces it gets are
    /// told apart by it).
    pub execs: u32,
    /// Its thread group (`getpid()`): its own pid, or for a thread made by
    /// `clone(CLONE_THREAD)` the group's, which is the pid of the process that began it.
    pub tgid: Pid,
    /// Whose signal actions it uses: its own pid, or (`CLONE_SIGHAND`) that of the process
    /// whose actions it shares; `rt_sigaction` changes them for every process that shares.
    pub sighand: Pid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_keep_their_own_close_on_exec_flag() {
        let mut t = FileTable::default();
        assert_eq!(t.files().len(), 3, "the console on 0, 1, 2");
        let a = t.open(OpenFile::Pipe(7));
        let b = t.open_from(10, OpenFile::Pipe(7));
        let c = t.open(OpenFile::Desc(4));
        assert_eq!((a, b, c), (3, 10, 4));
        assert!(t.set_cloexec(b, true));
        assert!(t.set_cloexec(c, true));
        assert!(!t.set_cloexec(5, true), "not open");
        assert_eq!(
            (t.cloexec(a), t.cloexec(b), t.cloexec(5)),
            (Some(false), Some(true), None)
        );
        // fork copies the table, flags and all.
        let copy = t.clone();
        assert_eq!(copy, t);
        // put (dup2, dup3) clears the flag of the new descriptor.
        t.put(c, OpenFile::Desc(4));
        assert_eq!(t.cloexec(c), Some(false));
        t.set_cloexec(c, true);
        assert_eq!(
            t.close_on_exec(),
            vec![OpenFile::Desc(4), OpenFile::Pipe(7)],
            "in descriptor order"
        );
        assert_eq!(
            (t.get(a), t.get(b), t.get(c)),
            (Some(OpenFile::Pipe(7)), None, None)
        );
        assert!(t.close_on_exec().is_empty());
        assert_eq!(copy.files().len(), 6, "the copy is apart");
        assert_eq!(t.close_all().len(), 4);
        assert!(t.files().is_empty());
    }
}
