//! The hosted machine: programs from `programs/os/` run as U-mode processes under the
//! modelled kernel (`vmlab-os`), through the library (`vmlab::hosted::Hosted`) and through
//! the `vmlab run` binary. Every exact number is derived by hand in a comment next to it.
//!
//! The default machine: 128 MiB of RAM from 0x8000_0000, 64 KiB of it kept by the kernel,
//! so 32752 user frames (the page cache takes its frames from them when files are read or
//! written, up to 64); 4 KiB pages under
//! Sv39; programs assembled with `.text` at 0x1000;
//! the stack's top at 0x4000_0000 with 16 KiB to start with (4 pages) and 1 MiB to grow to;
//! Svade (a clear A, or D on a store, faults), so a page first touched by a store is mapped
//! dirty and a page first touched by a load or fetch is mapped clean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vmlab::hosted::{End, Hosted};
use vmlab::machine::{apply_set_all, MachineConfig};
use vmlab::run_cmd::{load_program_laid_out, Target};
use vmlab_cpu::elf::Elf;
use vmlab_os::image::Layout;
use vmlab_os::process::{Access, Kill, Pid, State};
use vmlab_os::replace::Policy;
use vmlab_os::services::Event;
use vmlab_os::{Finish, SchemeKind};

const PAGE: u64 = 4096;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `programs/os/NAME.s` (or any path under the root) loaded for the hosted machine, linked
/// for `layout`, with the name reports give it (its file name).
fn program(path: &str, layout: Layout) -> (String, Elf) {
    let p: PathBuf = root().join(path);
    let ram = (0x8000_0000, 128 << 20);
    let (elf, target) = load_program_laid_out(&p, Some(Target::Hosted), ram, layout)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(target, Target::Hosted);
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    (name, elf)
}

/// `programs/os/NAME.s`, linked for the paging schemes.
fn os(name: &str) -> (String, Elf) {
    os_for(name, Layout::Flat)
}

/// `programs/os/NAME.s`, linked for `layout`.
fn os_for(name: &str, layout: Layout) -> (String, Elf) {
    program(&format!("programs/os/{name}.s"), layout)
}

/// The default machine with `sets` (`key=value`, as `--set` takes them) applied, and a
/// generous cycle limit, so that a kernel that never finishes fails a test instead of
/// hanging it.
fn config(sets: &[&str]) -> MachineConfig {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.insert(0, "run.max_cycles=20000000000".into());
    apply_set_all("", "(test)", &sets).unwrap_or_else(|e| panic!("{sets:?}: {e}"))
}

/// A finished run: the machine and kernel, and everything the processes wrote.
struct Run {
    h: Hosted,
    out: String,
}

impl Run {
    /// The statistic `name`; a name the run does not report is a test error.
    fn stat(&self, name: &str) -> u64 {
        self.h
            .stat_list()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no statistic {name}"))
    }

    /// Page faults of every kind the kernel served: minor (zero fill, A/D updates, stack
    /// growth) and major (a disk read).
    fn faults(&self) -> u64 {
        self.stat("os.faults.minor") + self.stat("os.faults.major")
    }

    fn status(&self) -> u8 {
        self.h.end().expect("ended").exit_code()
    }

    fn state(&self, pid: Pid) -> &State {
        &self
            .h
            .kernel
            .processes()
            .iter()
            .find(|p| p.pid == pid)
            .unwrap_or_else(|| panic!("no process {pid}"))
            .state
    }

    fn kill(&self, pid: Pid) -> &Kill {
        match self.state(pid) {
            State::Killed(k) => k,
            other => panic!("process {pid} was not killed: {other:?}"),
        }
    }
}

/// Builds the hosted machine for `programs` on the default machine with `sets` (OPT's two
/// passes when `os.policy = opt`), and runs it to the end. `trace` turns the kernel's event
/// trace on from boot.
fn build(sets: &[&str], programs: &[(String, Elf)], trace: bool) -> Result<Hosted, String> {
    let cfg = config(sets);
    if cfg.os.policy == Policy::Opt {
        Hosted::new_opt_with_trace(cfg, programs, trace)
    } else {
        Hosted::with_trace(cfg, programs, trace)
    }
}

fn run_programs(sets: &[&str], programs: &[(String, Elf)]) -> Run {
    let mut h = build(sets, programs, false).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
    let mut out = Vec::new();
    while !h.run_for(1 << 16) {
        out.extend(h.machine.take_output());
    }
    out.extend(h.machine.take_output());
    assert!(
        matches!(h.end(), Some(End::Kernel(Finish::AllEnded { .. }))),
        "{sets:?}: the run did not end with every process ended: {:?}",
        h.end()
    );
    Run {
        h,
        out: String::from_utf8(out).expect("UTF-8 output"),
    }
}

/// Runs `programs/os/NAME.s` for each name, linked as the scheme of `sets` needs.
fn run(sets: &[&str], names: &[&str]) -> Run {
    let layout = Layout::for_scheme(config(sets).os.scheme);
    let programs: Vec<(String, Elf)> = names.iter().map(|n| os_for(n, layout)).collect();
    run_programs(sets, &programs)
}

/// What a killed process's report must say.
struct Killed {
    pid: Pid,
    cause: &'static str,
    access: Option<Access>,
    addr: u64,
    pc: u64,
}

/// One run and what it must do: its exit status, its exact output, the processes killed
/// (every other one exited 0), and statistics with their exact values.
struct Case<'a> {
    programs: &'a [&'a str],
    sets: &'a [&'a str],
    status: u8,
    stdout: &'a str,
    killed: &'a [Killed],
    stats: &'a [(&'a str, u64)],
}

fn check(c: &Case) -> Run {
    let r = run(c.sets, c.programs);
    let what = format!("{:?} {:?}", c.programs, c.sets);
    assert_eq!(r.status(), c.status, "{what}: exit status");
    assert_eq!(r.out, c.stdout, "{what}: output");
    for p in r.h.kernel.processes() {
        match c.killed.iter().find(|k| k.pid == p.pid) {
            Some(want) => {
                let k = r.kill(p.pid);
                assert_eq!(
                    (k.cause, k.access, k.addr, k.pc),
                    (want.cause, want.access, want.addr, want.pc),
                    "{what}: process {} killed as {k}",
                    p.pid
                );
            }
            None => assert_eq!(
                p.state,
                State::Exited(0),
                "{what}: process {} ({})",
                p.pid,
                p.image.name
            ),
        }
    }
    for (name, value) in c.stats {
        assert_eq!(r.stat(name), *value, "{what}: {name}");
    }
    r
}

/// The address of `symbol` in `programs/os/NAME.s` as linked for the hosted machine.
fn symbol(name: &str, symbol: &str) -> u64 {
    os(name)
        .1
        .symbol(symbol)
        .unwrap_or_else(|| panic!("{name}.s has no symbol {symbol}"))
}

#[test]
fn hello_one_and_two() {
    // One process: pid 1, two system calls before exit (getpid, write) and exit itself.
    check(&Case {
        programs: &["hello"],
        sets: &[],
        status: 0,
        stdout: "hello from process 1\n",
        killed: &[],
        stats: &[
            ("os.processes.spawned", 1),
            ("os.processes.exited", 1),
            ("os.syscalls", 3),
        ],
    });
    // Two copies: pids in the order given, each writes its own line. The first runs to its
    // text page's fault (a disk read, it blocks), the second then faults too; the disk
    // serves them in order, so process 1 prints first.
    check(&Case {
        programs: &["hello", "hello"],
        sets: &[],
        status: 0,
        stdout: "hello from process 1\nhello from process 2\n",
        killed: &[],
        stats: &[
            ("os.processes.spawned", 2),
            ("os.processes.exited", 2),
            ("os.syscalls", 6),
        ],
    });
}

#[test]
fn a_bad_process_dies_alone() {
    // segv-text.s: `la t0, _start` (auipc + addi, 8 bytes) then `sw zero, 0(t0)`: a store
    // to _start (0x1000) at pc 0x1008, into r-x text. segv-null.s: `li t0, 0` (c.li, 2
    // bytes) then `ld t1, 8(t0)`: a load of 0x8 at pc 0x1002; page 0 is never mapped.
    // exec-data.s: `jr` to code_in_data, in .data on the page after the text (0x2000): the
    // fetch faults at that address with the pc there.
    let data = symbol("exec-data", "code_in_data");
    assert_eq!(
        data, 0x2000,
        "exec-data.s: .data starts on the page after .text"
    );
    let table: [(&str, Killed); 3] = [
        (
            "segv-text",
            Killed {
                pid: 1,
                cause: "permission",
                access: Some(Access::Store),
                addr: symbol("segv-text", "_start"),
                pc: 0x1008,
            },
        ),
        (
            "segv-null",
            Killed {
                pid: 1,
                cause: "no-mapping",
                access: Some(Access::Load),
                addr: 8,
                pc: 0x1002,
            },
        ),
        (
            "exec-data",
            Killed {
                pid: 1,
                cause: "permission",
                access: Some(Access::Fetch),
                addr: data,
                pc: data,
            },
        ),
    ];
    for (bad, killed) in table {
        // The bad program is process 1, hello process 2: 128 + SIGSEGV (11) = 139.
        let r = check(&Case {
            programs: &[bad, "hello"],
            sets: &[],
            status: 139,
            stdout: "hello from process 2\n",
            killed: std::slice::from_ref(&killed),
            stats: &[("os.processes.killed", 1), ("os.processes.exited", 1)],
        });
        assert_eq!(r.kill(1).signal(), 11, "{bad}: SIGSEGV");
        assert_eq!(r.kill(1).scheme, "vm-paging", "{bad}");
        // The same order the other way round: hello first is pid 1.
        let r = run(&[], &["hello", bad]);
        assert_eq!(r.status(), 139, "hello + {bad}");
        assert_eq!(r.out, "hello from process 1\n", "hello + {bad}");
        assert_eq!(r.kill(2).cause, killed.cause, "hello + {bad}");
    }
}

#[test]
fn belady_anomaly_under_fifo() {
    // belady.s's reference string is T 2 T 4 T 1 T 3 T 2 T 4 T 5 T 2 T 4 T 1 T 3 T 5 T 2
    // (T its text page, which also holds the table it reads; it never touches its stack).
    // FIFO by hand (a star marks a fault: a reference to a page not in the frames; when
    // the frames are full the page loaded longest ago leaves):
    //   3: T* 2* T 4* T 1* T* 3* T 2* T 4* T* 5* T 2* T 4* T* 1* T 3* T 5* T* 2*  = 18
    //   4: T* 2* T 4* T 1* T 3* T* 2* T 4* T 5* T 2 T 4 T 1* T* 3* T 5 T 2*       = 13
    //   5: T* 2* T 4* T 1* T 3* T 2 T 4 T 5* T* 2* T 4* T 1* T 3* T 5* T* 2*      = 14
    //   6: T* 2* T 4* T 1* T 3* T 2 T 4 T 5* T 2 T 4 T 1 T 3 T 5 T 2             =  6
    // 4 frames take 13 and 5 take 14: more frames, more faults (the anomaly).
    // Of the faults, 5 are minor (the first store to each of the five .bss pages fills it
    // with zeros) and the rest major (T from the image, a data page back from its swap
    // slot: every data page is stored to, so it is dirty whenever it is evicted). No A/D
    // fault happens: each data page is mapped dirty by its store fault, and T is only
    // fetched and loaded.
    for (frames, faults) in [(3, 18), (4, 13), (5, 14), (6, 6)] {
        let n = format!("os.frames_per_process={frames}");
        let r = run(&[&n], &["belady"]);
        assert_eq!(r.status(), 0, "{frames} frames");
        assert_eq!(r.faults(), faults, "{frames} frames: page faults");
        assert_eq!(r.stat("os.faults.minor"), 5, "{frames} frames: minor");
        assert_eq!(r.stat("os.faults.major"), faults - 5, "{frames} frames");
        // The MMU saw the same faults: every one on an invalid PTE.
        assert_eq!(r.stat("mmu.faults.page.invalid"), faults, "{frames} frames");
        // Every fault beyond the first `frames` evicted a page (6 frames: none).
        assert_eq!(
            r.stat("os.paging.evictions"),
            faults.saturating_sub(frames),
            "{frames} frames: evictions"
        );
    }
}

/// The policies, OPT included, on one process with a fixed allocation: the faults that
/// needed a frame (references to a page not resident: the MMU's faults on an invalid PTE)
/// and how the process ended.
fn policy_faults(prog: &str, frames: u64) -> Vec<(Policy, u64, State)> {
    let n = format!("os.frames_per_process={frames}");
    Policy::ALL
        .iter()
        .map(|&p| {
            let pol = format!("os.policy={}", p.name());
            let r = run(&[&n, &pol], &[prog]);
            let state = r.state(1).clone();
            (p, r.stat("mmu.faults.page.invalid"), state)
        })
        .collect()
}

#[test]
fn opt_never_faults_more_than_another_policy() {
    // One process replaces among its own frames, so OPT (Belady's) is exact on its
    // reference string, which does not depend on the policy: no policy can take fewer
    // faults that need a frame. A/D faults (Svade, Clock's cleared A bits) are not counted:
    // they bring nothing in.
    for prog in ["touch", "t-pattern"] {
        for frames in [8, 16] {
            let all = policy_faults(prog, frames);
            let (_, opt, opt_state) = all.iter().find(|(p, ..)| *p == Policy::Opt).unwrap();
            assert_eq!(*opt_state, State::Exited(0), "{prog} {frames} frames: OPT");
            for (p, faults, state) in &all {
                // (A run that died early — see the test of lost data below — took fewer
                // faults by not finishing; it proves nothing here.)
                if *state == State::Exited(0) {
                    assert!(
                        opt <= faults,
                        "{prog} {frames} frames: OPT took {opt} faults, {p} {faults}: {all:?}"
                    );
                }
            }
            // touch.s sweeps 64 pages in order with fewer frames than pages: FIFO faults on
            // every store (the test below); OPT keeps most of the frames across sweeps.
            if prog == "touch" {
                let fifo = all[0].1;
                assert!(*opt < fifo, "{prog} {frames}: OPT {opt} vs FIFO {fifo}");
            }
        }
    }
}

#[test]
fn touch_faults_by_hand() {
    // touch.s: brk grows the heap by 64 pages, then 4 sweeps store to each page in order:
    // the string T H0 T H1 ... T H63 T H0 ... (T the text page), 256 heap references. With
    // n frames (8 or 16, fewer than 64 + 1 pages) every heap reference faults under FIFO and
    // LRU: the page a store needs is the one used longest ago, which both have evicted.
    // LRU never evicts T (it is used between every two stores): 256 + T's first fault =
    // 257. FIFO evicts T when it is the oldest: T loaded, the next n - 1 heap faults queue
    // behind it, the nth evicts T and T faults again at the next fetch: 1 + 256 / n T
    // faults (33 for 8 frames, 17 for 16). Only the first sweep's 64 faults are minor (zero
    // fill); the rest are major (a dirty heap page back from its swap slot, or T from the
    // image).
    for (policy, frames, faults) in [
        ("lru", 8, 257),
        ("lru", 16, 257),
        ("fifo", 8, 256 + 33),
        ("fifo", 16, 256 + 17),
    ] {
        let sets = [
            format!("os.policy={policy}"),
            format!("os.frames_per_process={frames}"),
        ];
        let r = run(&[&sets[0], &sets[1]], &["touch"]);
        let what = format!("{policy} {frames}");
        assert_eq!(r.status(), 0, "{what}");
        assert_eq!(r.stat("mmu.faults.page.invalid"), faults, "{what}");
        assert_eq!(r.stat("os.faults.minor"), 64, "{what}");
        assert_eq!(r.stat("os.faults.major"), faults - 64, "{what}");
        // Every fault but the first `frames` (into free frames) evicted a page.
        assert_eq!(r.stat("os.paging.evictions"), faults - frames, "{what}");
        if policy == "lru" {
            // Each victim a heap page, dirty: every eviction writes back.
            assert_eq!(r.stat("os.paging.writebacks"), faults - frames, "{what}");
        }
    }
}

#[test]
fn simple_paging_takes_no_faults() {
    // Simple paging loads every page of every area at start (and brk maps the new heap
    // pages at once), each mapped accessed, and dirty when writable: no access ever faults.
    let r = run(&["os.scheme=simple-paging"], &["touch", "hello"]);
    assert_eq!(r.status(), 0);
    assert_eq!(r.out, "hello from process 2\n");
    assert_eq!(r.faults(), 0);
    assert_eq!(r.stat("mmu.faults.page.invalid"), 0);
    assert_eq!(r.stat("mmu.faults.page.accessed_clear"), 0);
    assert_eq!(r.stat("mmu.faults.page.dirty_clear"), 0);
    // Internal fragmentation: the unused tail of the last page of each segment (the heap
    // and stack areas are whole pages), summed over both processes, which are in memory
    // together from the start.
    let waste: u64 = ["touch", "hello"]
        .iter()
        .flat_map(|n| os(n).1.segments)
        .map(|s| (PAGE - (s.vaddr + s.mem_size) % PAGE) % PAGE)
        .sum();
    assert!(waste > 0);
    assert_eq!(r.stat("os.paging.internal_fragmentation_peak"), waste);
    // Every image page was read at start: touch's text, hello's text and data.
    assert_eq!(r.stat("os.pages_in"), 3);
}

#[test]
fn the_stack_grows_to_its_limit() {
    // stack.s: 2001 nested calls to `down` (n = 2000 .. 0), each taking 64 bytes, from
    // sp = 0x4000_0000 - 16: the deepest store is at 0x4000_0000 - 16 - 2001 * 64 =
    // 0x4000_0000 - 128080, in the 32nd page below the top (31 * 4096 = 126976 < 128080 <=
    // 131072). The stack starts with 4 pages, so it grows 28 times, a page at a time; each
    // of the 32 stack pages is a zero fill (minor), the text page a disk read (major).
    check(&Case {
        programs: &["stack"],
        sets: &[],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[
            ("os.stack_growths", 28),
            ("os.faults.minor", 32),
            ("os.faults.major", 1),
        ],
    });
    // With os.stack_limit = 65536 the stack may reach down to 0x4000_0000 - 0x10000 =
    // 0x3fff_0000. The process starts with sp = 0x4000_0000 - 384 (the initial stack:
    // argc, argv, envp, 18 auxiliary-vector pairs, the strings and AT_RANDOM's bytes; see
    // os/src/exec.rs). The first store below the limit: sp = 0x4000_0000 - 384 - 64k <
    // 0x3fff_0000 for the first k = 1019, sp = 0x4000_0000 - 65600 = 0x3ffe_ffc0, at
    // `sd ra, 0(sp)`, the second instruction of `down`. It grew from 4 pages to 16: 12
    // growths.
    let down = symbol("stack", "down");
    check(&Case {
        programs: &["stack"],
        sets: &["os.stack_limit=65536"],
        status: 139,
        stdout: "",
        killed: &[Killed {
            pid: 1,
            cause: "stack-limit",
            access: Some(Access::Store),
            addr: 0x3ffe_ffc0,
            // `addi sp, sp, -64` is compressed (c.addi16sp): 2 bytes.
            pc: down + 2,
        }],
        stats: &[("os.stack_growths", 12)],
    });
}

#[test]
fn mmap_brk_and_unknown_system_calls() {
    // mmap.s checks its own results: exit 0. Its four anonymous pages are each a zero
    // fill.
    check(&Case {
        programs: &["mmap"],
        sets: &[],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[],
    });
    // t-brk.s: every check passes, then the store just beyond the shrunk break — at the
    // heap's start, the page after the text (the program is a few dozen instructions at
    // 0x1000 and has no data) — is killed: no area holds it.
    let r = check(&Case {
        programs: &["t-brk"],
        sets: &[],
        status: 139,
        stdout: "",
        killed: &[Killed {
            pid: 1,
            cause: "no-mapping",
            access: Some(Access::Store),
            addr: 0x2000,
            pc: symbol("t-brk", "fail") - 4,
        }],
        // brk(0), grow, below the heap, shrink: 4 calls. One zero fill: the heap's last
        // page, stored to.
        stats: &[("os.syscalls", 4), ("os.faults.minor", 1)],
    });
    assert_eq!(
        r.h.kernel.address_space(1).expect("process 1").heap_start,
        0x2000
    );
    // t-enosys.s: system call 999 answers -ENOSYS (the process checks it), a write to fd 5
    // -EBADF; then exit: three calls, one unknown.
    check(&Case {
        programs: &["t-enosys"],
        sets: &[],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[("os.syscalls", 3), ("os.syscalls.unknown", 1)],
    });
    // t-loop.s spins on a jump to itself: hello still runs (the timer shares the CPU), and
    // once nothing else could ever run the kernel kills the spinner (SIGKILL: 128 + 9).
    let r = run(&[], &["t-loop", "hello"]);
    assert_eq!(r.out, "hello from process 2\n");
    match r.state(1) {
        State::Killed(k) => assert_eq!(k.cause, "infinite-loop", "{k}"),
        other => panic!("t-loop.s: {other:?}"),
    }
    assert_eq!(r.state(2), &State::Exited(0));
    assert_eq!(r.h.end().map(|e| e.exit_code()), Some(137));
    // t-write.s: write() from a data page never touched: the kernel faults it in (a major
    // fault from the image) and runs the call again, which counts once: write and exit.
    check(&Case {
        programs: &["t-write"],
        sets: &[],
        status: 0,
        stdout: "untouched\n",
        killed: &[],
        stats: &[
            ("os.syscalls", 2),
            ("os.proc.1.syscalls", 2),
            ("os.faults.major", 2),
        ],
    });
}

#[test]
fn time_slices_and_asids() {
    // Three t-spin.s, 200,035 instructions each, on a 5000-cycle time slice: the timer
    // preempts them many times and each still finishes its sum. On an SSD (25 µs page
    // reads) they run side by side; on the default disk each would finish (0.3 M cycles)
    // before the next one's first page arrived (8.8 M), and a lone process's tick is not a
    // switch.
    let spin = ["t-spin", "t-spin", "t-spin"];
    let slice = "os.time_slice=5000";
    let ssd = "memory.diskctl.disk.ssd.read_latency=\"25us\"";
    let on = check(&Case {
        programs: &spin,
        sets: &[slice, ssd],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[
            ("os.proc.1.instret", 200_035),
            ("os.proc.2.instret", 200_035),
            ("os.proc.3.instret", 200_035),
        ],
    });
    let off = check(&Case {
        programs: &spin,
        sets: &[slice, ssd, "os.asids=false"],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[],
    });
    // 600,105 instructions take well over 100 slices of 5000 cycles, and the three
    // processes take turns.
    assert!(on.stat("os.interrupts.timer") > 100);
    assert!(off.stat("os.interrupts.timer") > 100);
    assert!(on.stat("os.switches") > 100, "{}", on.stat("os.switches"));
    for tlb in ["itlb", "dtlb"] {
        let all = format!("mmu.{tlb}.flushes.all");
        // Without ASIDs every switch to another address space flushes the whole TLB (here
        // every switch is to another process).
        assert!(
            off.stat(&all) >= off.stat("os.switches"),
            "{tlb}: {} flushes, {} switches",
            off.stat(&all),
            off.stat("os.switches")
        );
        assert!(on.stat(&all) < off.stat(&all), "{all}");
        // With ASIDs a switch flushes nothing, and an exit neither: the allocator would
        // flush an ASID only when it hands it out again, and three processes never need to.
        assert_eq!(on.stat(&format!("mmu.{tlb}.flushes.asid")), 0, "{tlb}");
    }
    assert_eq!(on.stat("os.asid.allocations"), 3);
    assert_eq!(on.stat("os.asid.rollovers"), 0);
    // One ASID bit: a single ASID for three spaces, so every switch but the first (which
    // finds the ASID clean) starts a new generation and flushes everything, or hands the
    // ASID of a process that just exited to another and flushes that ASID.
    let one = check(&Case {
        programs: &spin,
        sets: &[slice, ssd, "os.asid_bits=1"],
        status: 0,
        stdout: "",
        killed: &[],
        stats: &[],
    });
    assert_eq!(
        one.stat("os.asid.rollovers") + one.stat("os.asid.flushes_asid") + 1,
        one.stat("os.switches")
    );
    assert!(one.stat("mmu.itlb.flushes.all") >= one.stat("os.asid.rollovers"));
    assert!(one.stat("os.asid.rollovers") > 100);
    let misses = |r: &Run| {
        r.stat("mmu.dtlb.misses.load")
            + r.stat("mmu.dtlb.misses.store")
            + r.stat("mmu.itlb.misses.fetch")
    };
    // Each process's translations survive the switches with ASIDs: its text page, its 4
    // counter pages and no others, a few misses each (the first, and the refill after each
    // fault). Without ASIDs they are refilled after every switch.
    assert!(misses(&on) < 100, "{}", misses(&on));
    assert!(
        misses(&off) > 2 * off.stat("os.switches"),
        "{} misses, {} switches",
        misses(&off),
        off.stat("os.switches")
    );
    // Only warm-up faults: per process the text page (major), then its 4 counter pages,
    // each faulting first on the load (zero fill, mapped clean: minor) and then on the
    // store (only the D bit: counted apart, os.faults.ad).
    assert_eq!(on.stat("os.faults.major"), 3);
    assert_eq!(on.stat("os.faults.minor"), 3 * 4);
    assert_eq!(on.stat("os.faults.ad"), 3 * 4);
}

#[test]
fn runs_are_deterministic() {
    // Global replacement among three processes on a small memory, with the seeded random
    // policy and a short slice: blocking, waking and preemption interleave them.
    let sets = [
        "os.user_frames=40",
        "os.policy=random",
        "os.time_slice=3000",
    ];
    let progs = ["touch", "t-pattern", "hello"];
    let a = run(&sets, &progs);
    let b = run(&sets, &progs);
    assert_eq!(a.status(), 0);
    assert_eq!(a.out, "hello from process 3\n");
    assert_eq!(a.h.stat_list(), b.h.stat_list());
    assert_eq!(a.out, b.out);
}

/// The error `Hosted::new` gives for `programs` with `sets`.
fn refused(sets: &[&str], programs: &[(String, Elf)]) -> String {
    match Hosted::new(config(sets), programs) {
        Ok(_) => panic!("{sets:?}: accepted"),
        Err(e) => e,
    }
}

#[test]
fn every_scheme_runs_hello() {
    // Each of the six schemes either runs hello (one process: pid 1, exit 0) or refuses,
    // with a message that names it, as not built yet; never a panic.
    for scheme in SchemeKind::ALL {
        let sets = [format!("os.scheme={}", scheme.name())];
        let sets: Vec<&str> = sets.iter().map(|s| s.as_str()).collect();
        let hello = os_for("hello", Layout::for_scheme(scheme));
        match build(&sets, &[hello], false) {
            Ok(_) => {
                let r = run(&sets, &["hello", "hello"]);
                assert_eq!(r.status(), 0, "{}", scheme.name());
                assert_eq!(
                    r.out,
                    "hello from process 1\nhello from process 2\n",
                    "{}",
                    scheme.name()
                );
            }
            Err(e) => assert!(
                e.contains(scheme.name()) && e.contains("not built"),
                "{}: {e}",
                scheme.name()
            ),
        }
    }
}

#[test]
fn bad_configurations_and_programs_are_errors() {
    let hello = [os("hello")];
    // Sv39's user half ends at 2^38: a stack top there is the highest possible, above it
    // is refused.
    let r = run(&["os.stack_top=0x4000000000"], &["hello"]);
    assert_eq!(r.status(), 0);
    let e = refused(&["os.stack_top=0x4000001000"], &hello);
    assert!(
        e.contains("os.stack_top") && e.contains("0x4000000000"),
        "{e}"
    );
    // 128 MiB of RAM less the 64 KiB the kernel keeps: 32768 - 16 = 32752 frames (the page
    // cache shares them under paging).
    let r = run(&["os.user_frames=32752"], &["hello"]);
    assert_eq!(r.stat("os.paging.frames"), 32752);
    let e = refused(&["os.user_frames=32753"], &hello);
    assert!(e.contains("os.user_frames") && e.contains("32752"), "{e}");
    // Under a partition scheme the cache keeps its own 64 frames at the top of RAM.
    let e = refused(
        &["os.scheme=fixed-partitions", "os.user_frames=32689"],
        &hello,
    );
    assert!(e.contains("os.user_frames") && e.contains("32688"), "{e}");
    // A program linked for the bare machine (at 0x8000_0000) lies above a stack top of
    // 0x1000_0000: the error names the program.
    let c_hello = (
        "hello.elf".to_string(),
        Elf::open(&root().join("programs/c/hello.elf")).expect("programs/c/hello.elf"),
    );
    let e = refused(&["os.stack_top=0x10000000"], &[c_hello]);
    assert!(e.contains("hello.elf") && e.contains("0x10000000"), "{e}");
    // vm-paging pages from the disk: without the disk controller it cannot run.
    let e = refused(&["memory.diskctl.enabled=false"], &hello);
    assert!(e.contains("memory.diskctl"), "{e}");
    // Values the kernel checks before it boots.
    for (set, words) in [
        ("os.time_slice=0", "os.time_slice"),
        ("os.stack_limit=4096", "os.stack_limit"),
        ("os.format=sv32", "sv32"),
    ] {
        let e = refused(&[set], &hello);
        assert!(e.contains(words), "{set}: {e}");
    }
    // An unknown scheme or policy is a configuration error that lists the names.
    for set in ["os.scheme=paged-segmentation", "os.policy=mru"] {
        let sets = vec![set.to_string()];
        let e = apply_set_all("", "(test)", &sets)
            .expect_err(set)
            .to_string();
        assert!(e.contains("vm-paging") || e.contains("fifo"), "{set}: {e}");
    }
    // No program at all.
    let e = match Hosted::new(config(&[]), &[]) {
        Ok(_) => panic!("no programs accepted"),
        Err(e) => e,
    };
    assert!(e.contains("no program"), "{e}");
}

#[test]
fn a_process_dies_while_another_waits_for_the_disk() {
    // segv-null.s first: it faults on its text page and blocks; touch.s faults on its own
    // and blocks behind it. The disk serves segv-null first, which runs and dies while
    // touch's read is still in flight. touch then pages through a small memory (16 frames
    // for 65 pages) and finishes.
    let progs = [os("segv-null"), os("touch")];
    let mut h = build(&["os.user_frames=16"], &progs, true).expect("boots");
    h.run();
    let trace = h.take_trace();
    let r = Run {
        h,
        out: String::new(),
    };
    assert_eq!(r.status(), 139);
    assert_eq!(r.state(2), &State::Exited(0));
    assert_eq!(r.kill(1).cause, "no-mapping");
    assert!(r.stat("os.paging.writebacks") > 0, "touch paged");
    // At the kill, a read for touch (pid 2) was started and not yet done.
    let mut outstanding = std::collections::BTreeSet::new();
    let mut at_kill = None;
    for rec in &trace {
        match &rec.event {
            Event::Disk { id, pid: 2, .. } => {
                outstanding.insert(*id);
            }
            Event::DiskDone { id, .. } => {
                outstanding.remove(id);
            }
            Event::Kill { pid: 1, .. } => at_kill = Some(outstanding.len()),
            _ => {}
        }
    }
    assert_eq!(
        at_kill,
        Some(1),
        "touch's text read was in flight at the kill"
    );
    // Everything the killed process held came back: at the end only nothing is held.
    assert_eq!(r.stat("os.paging.frames_free"), 16);
    assert_eq!(r.stat("os.paging.swap_used"), 0);
}

#[test]
fn stored_data_survives_replacement() {
    // t-pattern.s stores a check value into each of its 24 heap pages and then, 400 times,
    // stores it again or loads it and compares: exit 1 if a page came back without it.
    // Under every policy and allocation the data must survive eviction and refault.
    //
    // Today this fails under enhanced-clock with 16 and 20 frames, clock with 20 (and 13
    // to 22), and enhanced-clock beside touch.s on 40 frames (clock on 44, not run here):
    // Clock clears the A bit of a
    // resident page that is dirty; the next access, a load, faults (Svade) and the kernel's
    // "resident page: set A" path rewrites the PTE with D = (the access is a store) = 0,
    // forgetting that the page was dirty; the page is later evicted as clean, nothing is
    // written to swap, and the next touch fills it with zeros.
    let mut failed = Vec::new();
    for frames in [8, 16, 20] {
        for (p, _, state) in policy_faults("t-pattern", frames) {
            if state != State::Exited(0) {
                failed.push(format!("{p} with {frames} frames: {state:?}"));
            }
        }
    }
    for frames in [20, 30, 40] {
        // Global replacement with touch.s beside it (OPT has a test of its own below).
        for p in Policy::ALL.into_iter().filter(|p| *p != Policy::Opt) {
            let n = format!("os.user_frames={frames}");
            let pol = format!("os.policy={}", p.name());
            let r = run(&[&n, &pol], &["touch", "t-pattern"]);
            if r.status() != 0 {
                failed.push(format!(
                    "{p} with touch on {frames} frames: status {}",
                    r.status()
                ));
            }
        }
    }
    assert!(failed.is_empty(), "lost data:\n{}", failed.join("\n"));
}

#[test]
fn global_opt_starves_no_process() {
    // Global OPT over touch.s and t-pattern.s: both must finish, as under every other
    // policy (the test above). With the livelock guard per process, t-pattern.s was killed
    // here ("faulted 64 times without completing an instruction"): OptFuture::next_use
    // answers the absolute position of a page's next use in its owner's string, and the
    // victim search compares those across processes. t-pattern.s's positions are all beyond
    // touch.s's, so its pages always look farthest and its own faults evict its own pages:
    // the text page and the data page of one load evicted each other. The guard now counts
    // faults with no instruction retired anywhere, so touch.s's progress keeps t-pattern.s
    // alive, but the comparison is unchanged (see the report: global OPT takes more faults
    // than LRU here, 351 against 307). A distance (next use - the owner's position) would
    // compare like with like.
    for frames in [20, 40] {
        let n = format!("os.user_frames={frames}");
        let r = run(&[&n, "os.policy=opt"], &["touch", "t-pattern"]);
        assert_eq!(
            r.status(),
            0,
            "{frames} frames: {:?}",
            r.h.process_reports()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The binary.

/// Runs `vmlab ARGS` in the crate root.
fn vmlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the vmlab binary runs")
}

/// Checks the exit status, that stderr contains every one of `stderr` and that stdout is
/// exactly `stdout`.
fn cli(args: &[&str], status: i32, stderr: &[&str], stdout: &str) -> Output {
    let out = vmlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(status),
        "vmlab {args:?}: exit status\nstderr: {err}\nstdout: {text}"
    );
    for s in stderr {
        assert!(
            err.contains(s),
            "vmlab {args:?}: stderr lacks {s:?}:\n{err}"
        );
    }
    assert_eq!(text, stdout, "vmlab {args:?}: stdout");
    out
}

const BARE_HINT: &str = "run it with --bare";

/// The `--bare` hint is for programs written for the bare machine, not for every fault.
#[test]
fn bare_hint_only_for_bare_programs() {
    // A Linux program's null store: no hint.
    let out = cli(
        &["run", "programs/linux/bin/segv_null"],
        139,
        &["vmlab: process 1 (segv_null) killed by SIGSEGV (segmentation fault) at pc 0x"],
        "before crash (write)\nbefore crash (printf, flushed)\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains(BARE_HINT), "{err}");
    // A hosted program with no privileged code whose wild pointer lands in RAM's range:
    // no hint either.
    let wild = std::env::temp_dir().join(format!("vmlab-hosted-{}-wild.s", std::process::id()));
    std::fs::write(
        &wild,
        "    .text\n    .globl _start\n_start:\n    li t0, 0x80000000\n    ld t1, 0(t0)\n",
    )
    .unwrap();
    let out = cli(
        &["run", wild.to_str().unwrap()],
        139,
        &["killed by SIGSEGV (segmentation fault) at pc 0x1006: load at 0x80000000: no-mapping"],
        "",
    );
    let _ = std::fs::remove_file(&wild);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains(BARE_HINT), "{err}");
    // A bare-machine program (it builds page tables in physical memory and runs mret) run
    // under the kernel by mistake: the hint.
    cli(
        &["run", "programs/asm/sv39.s"],
        139,
        &[
            "killed by SIGSEGV (segmentation fault) at pc 0x100e: store at 0x80010000",
            "(a program written for M-mode on the bare machine? run it with --bare)",
        ],
        "",
    );
    // A process the kernel kills with SIGKILL says so once, not "killed: killed".
    let out = cli(
        &["run", "--hosted", "programs/asm/sum.s"],
        137,
        &["vmlab: process 1 (sum.s) killed by SIGKILL at pc 0x102a: infinite loop"],
        "",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains(BARE_HINT), "{err}");
}

#[test]
fn cli_reports_killed_processes() {
    let table: [(&str, &str); 3] = [
        (
            "segv-text",
            "vmlab: process 1 (segv-text.s) killed by SIGSEGV (segmentation fault) at pc 0x1008: store at 0x1000: permission: write in text [0x1000, ",
        ),
        (
            "segv-null",
            "vmlab: process 1 (segv-null.s) killed by SIGSEGV (segmentation fault) at pc 0x1002: load at 0x8: no-mapping: no area of the address space holds it",
        ),
        (
            "exec-data",
            "vmlab: process 1 (exec-data.s) killed by SIGSEGV (segmentation fault) at pc 0x2000: fetch at 0x2000: permission: execute in data [0x2000, ",
        ),
    ];
    for (bad, line) in table {
        let path = format!("programs/os/{bad}.s");
        let out = cli(
            &["run", &path, "programs/os/hello.s"],
            139,
            &[line, "[vm-paging]"],
            "hello from process 2\n",
        );
        // One report line, for the killed process only.
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    cli(
        &[
            "run",
            "programs/os/stack.s",
            "--set",
            "os.stack_limit=65536",
        ],
        139,
        &[
            "vmlab: process 1 (stack.s) killed by SIGSEGV (segmentation fault) at pc ",
            ": store at 0x3ffefff0: stack-limit",
        ],
        "",
    );
    // A process that exits non-zero is reported, and its code is vmlab's.
    let code = std::env::temp_dir().join(format!("vmlab-hosted-{}-exit3.s", std::process::id()));
    std::fs::write(
        &code,
        "    .text\n    .globl _start\n_start:\n    li a0, 3\n    li a7, 93\n    ecall\n",
    )
    .expect("a temporary file");
    let path = code.to_str().expect("UTF-8").to_string();
    cli(&["run", "--hosted", &path], 3, &["exited with code 3"], "");
    let _ = std::fs::remove_file(&code);
}

#[test]
fn cli_bad_usage() {
    cli(
        &[
            "run",
            "--bare",
            "programs/os/hello.s",
            "programs/os/hello.s",
        ],
        2,
        &["--bare runs one program, and 2 were given"],
        "",
    );
    cli(
        &[
            "run",
            "programs/os/hello.s",
            "--set",
            "os.user_frames=1000000",
        ],
        2,
        &["error: ", "os.user_frames = 1000000"],
        "",
    );
    cli(
        &["run", "programs/os/hello.s", "--log-commits", "/dev/null"],
        2,
        &["--log-commits is for the bare machine"],
        "",
    );
}

#[test]
fn cli_trace_is_json_lines() {
    let path =
        std::env::temp_dir().join(format!("vmlab-hosted-{}-trace.jsonl", std::process::id()));
    let p = path.to_str().expect("UTF-8").to_string();
    cli(
        &[
            "run",
            "programs/os/hello.s",
            "programs/os/segv-null.s",
            "--trace",
            &p,
        ],
        139,
        &[],
        "hello from process 1\n",
    );
    let text = std::fs::read_to_string(&path).expect("the trace file");
    let _ = std::fs::remove_file(&path);
    let mut events = Vec::new();
    let mut last = 0;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let cycle = v["cycle"]
            .as_u64()
            .unwrap_or_else(|| panic!("no cycle: {line}"));
        let event = v["event"]
            .as_str()
            .unwrap_or_else(|| panic!("no event: {line}"));
        assert!(cycle >= last, "cycles go forward: {line}");
        last = cycle;
        events.push((event.to_string(), v));
    }
    let kinds: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    // Both spawned (from boot on), one exit, one kill naming the cause and the address.
    assert_eq!(
        kinds.iter().filter(|k| **k == "spawn").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "exit").count(),
        1,
        "{kinds:?}"
    );
    let kill = events
        .iter()
        .find(|(e, _)| e == "kill")
        .map(|(_, v)| v)
        .expect("a kill event");
    assert_eq!(kill["pid"], 2);
    assert_eq!(kill["cause"], "no-mapping");
    assert_eq!(kill["addr"], "0x8");
    assert_eq!(kill["access"], "load");
    assert!(kinds.contains(&"fault") && kinds.contains(&"disk") && kinds.contains(&"switch"));
}

#[test]
fn segments_sharing_a_page() {
    // Text (r-x) and data (rw-) linked into one page: .data at 0x1800, in .text's page
    // 0x1000. The kernel must either refuse the image, naming the program, or run it (the
    // page needs the union of the permissions); the program counts to 100 in .data and
    // exits 0 when the count is right.
    let src = "    .text\n    .globl _start\n_start:\n    la t0, counter\n    li t1, 100\n1:  ld t2, 0(t0)\n    addi t2, t2, 1\n    sd t2, 0(t0)\n    addi t1, t1, -1\n    bnez t1, 1b\n    ld a0, 0(t0)\n    addi a0, a0, -100\n    li a7, 93\n    ecall\n    .data\ncounter:\n    .dword 0\n";
    let opts = vmlab_cpu::asm::AsmOptions {
        text_base: 0x1000,
        data_base: Some(0x1800),
        ..vmlab_cpu::asm::AsmOptions::default()
    };
    let obj = vmlab::run_cmd::assemble_file(src, "shared.s", &opts).expect("assembles");
    let elf = Elf::parse(&obj.to_elf(), "shared.s").expect("an ELF");
    assert_eq!(elf.symbol("counter"), Some(0x1800));
    let programs = [("shared.s".to_string(), elf)];
    match build(&[], &programs, false) {
        Err(e) => assert!(e.contains("shared.s"), "{e}"),
        Ok(mut h) => {
            h.run();
            let r = Run {
                h,
                out: String::new(),
            };
            assert_eq!(r.state(1), &State::Exited(0), "{:?}", r.h.process_reports());
        }
    }
}

#[test]
fn memory_system_calls_do_what_docs_os_md_says() {
    let mut failed = Vec::new();
    // mprotect: "changes the permissions of mapped pages (their PTEs are rewritten and
    // flushed)". Today PROT_NONE leaves a resident page's PTE as it was: the kernel
    // rewrites it with R = W = X = 0, which Format::make_leaf refuses (in Sv39 that is a
    // pointer, not a leaf), `map` returns false, the result is ignored, and the load
    // succeeds (exit 3).
    let r = run(&[], &["t-mprotect"]);
    match r.state(1) {
        State::Killed(k) if k.cause == "permission" && k.access == Some(Access::Load) => {}
        other => failed.push(format!("t-mprotect.s: {other:?}")),
    }
    // munmap: "removes the part of anonymous mappings in the range and frees their pages".
    // Today it cuts only mmap areas out of the area list but frees the frames of every page
    // in the range: a heap page stays an area and comes back as zeros (exit 10).
    let r = run(&[], &["t-munmap"]);
    if r.state(1) != &State::Exited(0) {
        failed.push(format!("t-munmap.s: {:?}", r.state(1)));
    }
    // mmap MAP_FIXED "replaces earlier anonymous mappings in its range and refuses
    // (-EINVAL) a range that overlaps the program's text, data, heap or stack": over the
    // heap the call fails, so the program reports exit 1 (the mmap did not return the
    // address asked for) and never stores to a page with two meanings (exit 4 before).
    let r = run(&[], &["t-mapfixed"]);
    if r.state(1) != &State::Exited(1) {
        failed.push(format!("t-mapfixed.s: {:?}", r.state(1)));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
