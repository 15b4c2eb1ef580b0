//! The command line: `vmlab translate SCENARIO.toml [--json]` and
//! `vmlab disk REQUESTS.toml [--json] [--scheduler NAME] [--compare]`, `vmlab malloc`,
//! and the machine's commands (`run`, `bench`, `config`, `asm`, `disasm`).

use crate::report;
use crate::scenario::Scenario;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit code of a usage or input error (a bad flag, a missing file, a wrong scenario).
pub const EXIT_INPUT: u8 = 2;
/// The exit code when an access's answer differs from its `expect`.
pub const EXIT_EXPECT: u8 = 1;

/// vmlab: a cycle-level RISC-V machine for studying memory management.
#[derive(Debug, Parser)]
#[command(
    name = "vmlab",
    version,
    about,
    long_about = "vmlab: a cycle-level RISC-V machine for studying memory management.\n\n\
`vmlab run` runs RISC-V programs: ordinary static or dynamic Linux programs as processes \
under a modelled kernel that pages, swaps and schedules them, or bare-metal programs on the \
machine alone, with an exact cycle count and every statistic (--stats). \
`vmlab bench` measures simulation speed; `vmlab config` prints the machine configuration a \
run would use; `vmlab asm` assembles GNU as syntax into an ELF and `vmlab disasm` prints \
what objdump -d prints. `vmlab translate` shows how the MMU translates a scenario's \
addresses, step by step, in any translation mode (bare, base and bounds, segments, paged \
segments, Sv32/Sv39/Sv48/Sv57, the OSTEP formats or your own); `vmlab disk` shows where a \
modelled disk's time goes for a list of requests (queueing, seek, rotation, transfer) under \
each scheduler; `vmlab malloc` is the free-list exercise of OSTEP's malloc.py; and \
`vmlab policy` is the page-replacement exercise of OSTEP's paging-policy.py: each access's hit or miss, victim and memory under FIFO, LRU, MRU, OPT, UNOPT, Clock or Random. \
`vmlab COMMAND --help` says more about each.",
    after_help = "Examples:\n  vmlab run programs/os/touch.s programs/os/hello.s --set os.user_frames=32 --stats\n  \
vmlab run programs/linux/bin/printf_float\n  \
vmlab run --bare programs/asm/sv39.s --stats\n  \
vmlab translate programs/translate/sv39.toml\n  \
vmlab -v translate programs/translate/segments.toml\n  \
vmlab disk programs/disk/schedulers.toml --compare\n  \
vmlab malloc -n 5 --answers\n  \
vmlab policy --policy fifo --frames 3 --refs 1,2,3,4,1,2,5,1,2,3,4,5"
)]
pub struct Cli {
    /// Log the unit's debug events (TLB misses, walk steps, faults) to stderr; -vv for trace
    /// events. RUST_LOG, when set, chooses the filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
// (Parsed once per run: the size of the largest variant does not matter.)
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Translate the virtual addresses of a scenario file and show every step.
    #[command(
        long_about = "Translate the virtual addresses of a scenario file and show every step.\n\n\
A scenario (TOML) gives the translation mode and its registers, the contents of physical \
memory (byte writes, or a page dump as OSTEP's paging-multilevel-translate.py prints one) \
and a list of accesses. For each access vmlab prints the address split, each TLB probe, \
each PTE read with its address, raw value and flags, each check, and then the physical \
address (and the byte there) or the fault and why, with the cycles it cost. The statistics \
of the unit follow.\n\n\
The file format is described in docs/translate.md; examples for every mode are in \
programs/translate/.",
        after_help = "Examples:\n  vmlab translate programs/translate/sv39.toml\n  \
vmlab translate programs/translate/sv39.toml --report sv39.html --svg sv39-svg\n\n\
Exit status: 0 when the scenario ran (faults are results, not errors); \
1 when an access's answer differs from the `expect` the scenario gives it; \
2 for a usage error, a bad scenario (the message names the file, line and column) or a \
report or SVG folder that cannot be written."
    )]
    Translate {
        /// The scenario file, e.g. programs/translate/sv39.toml.
        scenario: PathBuf,
        /// Print one JSON document (configuration, every step, results, all counters) instead of text.
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML report with pictures to FILE: each access's address split into its fields, its path (TLB probes, page-table reads, checks) and its physical address or fault, and the TLBs' final contents.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Also write each figure of the report as an SVG file into DIR (made if needed).
        #[arg(long, value_name = "DIR")]
        svg: Option<PathBuf>,
    },
    /// Run a list of disk requests and show where each one's time goes.
    #[command(
        long_about = "Run a list of disk requests and show where each one's time goes.\n\n\
A requests file (TOML) gives the disk (a spinning disk's geometry, rotation speed, seek \
curve, head switch time and skew, or an SSD's latencies, bandwidth and channels), the \
scheduler, and the requests (arrival time, read or write, block, count). vmlab simulates \
them and prints, for each request in the order the disk served it, when it arrived, started \
and finished, and how its time splits into queueing, controller overhead, seek, rotation and \
transfer, in time units and in cycles; then the totals and the disk's counters. With \
fault_rate set, some requests fail on purpose (read errors, write errors, timeouts, chosen by \
fault_seed) and the report says which and how.\n\n\
The file format and the model are described in docs/disk.md; examples are in programs/disk/.",
        after_help = "Examples:\n  vmlab disk programs/disk/schedulers.toml --compare\n  \
vmlab disk programs/disk/schedulers.toml --compare --report disk.html --svg disk-svg\n\n\
Exit status: 0 when the requests ran; 1 when an answer differs from the `expect` the file \
gives it; 2 for a usage error, a bad requests file (the message names the file, line and \
column) or a report or SVG folder that cannot be written."
    )]
    Disk {
        /// The requests file, e.g. programs/disk/ostep.toml.
        requests: PathBuf,
        /// Print one JSON document (configuration, every request, totals, all counters) instead of text.
        #[arg(long)]
        json: bool,
        /// Use this scheduler instead of the file's: fcfs, sstf, scan, look, c-scan, c-look or sptf.
        #[arg(long, value_name = "NAME")]
        scheduler: Option<String>,
        /// Run the requests under every scheduler and print a table comparing them.
        #[arg(long, conflicts_with = "scheduler")]
        compare: bool,
        /// Also write a self-contained HTML report with pictures to FILE: the head's path across the cylinders over time (one panel per scheduler with --compare) and where each request's time goes.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Also write each figure of the report as an SVG file into DIR (made if needed).
        #[arg(long, value_name = "DIR")]
        svg: Option<PathBuf>,
    },
    /// The free-list exercise: allocations and frees on a heap, with or without the answers.
    #[command(
        long_about = "The free-list exercise of OSTEP's malloc.py: a heap of --size bytes at \
--base, each allocation taking its size rounded up to --align plus --header-size bytes, a \
search policy (best, worst or first fit), a free-list order (by address, by size ascending \
or descending, insert at the front or the back) and optional coalescing. The operations are \
given with --ops (+SIZE allocates, -N frees the N-th allocation) or generated from --seed \
(--num-ops, --range, --percent-alloc). For each one vmlab prints what it returned (a \
pointer or -1, and how many free-list elements the search looked at) and the free list \
after it; without --answers it prints `?` instead, so the transcript is a question to hand \
out. For an explicit --ops list the transcript is exactly malloc.py -A's with the same \
parameters; malloc.py's short flags (-S -b -H -a -p -l -C -A -n -r -P -s -c) work too.\n\n\
docs/heap.md describes every rule and option, with a worked example.",
        after_help = "Exit status: 0 when the operations ran (failed allocations and refused \
frees are answers, not errors); 2 for impossible parameters or an operation list that does \
not parse.\n\nExamples:\n  vmlab malloc -n 5 -H 4 -a 4\n  \
vmlab malloc --ops +10,+20,-0,+5 --policy first --list-order insert-front --answers\n  \
vmlab malloc --seed 3 --coalesce --answers --json"
    )]
    Malloc(crate::malloc_cmd::MallocArgs),
    /// The page-replacement exercise: hits, misses, victims and memory for a reference string.
    #[command(
        long_about = "The page-replacement exercise of OSTEP's paging-policy.py, run by the \
kernel's own replacement code: a reference string (--refs, or drawn from --seed with \
--numaddrs and --maxpage exactly as paging-policy.py draws it), --frames page frames and a \
policy: fifo, lru, mru, opt, unopt (evict the page used soonest), clock (a hand over use \
bits, or use counters up to --clockbits), random (seeded by --policy-seed or --seed) or \
enhanced-clock. For each access vmlab prints hit or miss, the victim and memory after it, \
then the hits, misses and hit rate, in paging-policy.py -c's format; for fifo, lru, mru, \
opt and unopt the answers are paging-policy.py's with the same parameters. Its short flags \
(-p -C -a -s -n -m -b -N -c) work too.\n\n\
docs/policy.md describes every policy, the output and the correspondence.",
        after_help = "Exit status: 0 when the references ran; 2 for an unknown policy, \
impossible parameters or a reference string that does not parse.\n\nExamples:\n  \
vmlab policy --policy fifo --frames 3 --refs 1,2,3,4,1,2,5,1,2,3,4,5\n  \
vmlab policy --policy opt --frames 3 --refs 0,1,2,0,1,3,0,3,1,2,1 --json\n  \
vmlab policy --policy clock --clockbits 2 --seed 5 --numaddrs 20 --maxpage 6"
    )]
    Policy(crate::policy_cmd::PolicyArgs),
    /// Problem generators with worked answers: translation, TLBs, replacement, disks, malloc.
    #[command(
        subcommand_value_name = "KIND",
        subcommand_help_heading = "Kinds",
        long_about = "Problem generators with worked answers, after OSTEP's homework \
simulators: `vmlab quiz KIND` draws a problem from --seed and prints it as a student sees \
it; --answers (-c) adds the worked answer step by step; --scenario FILE writes the problem \
with its answers as a file that `vmlab translate` (or `vmlab disk`) runs and grades; --json \
prints both as one JSON document. The same seed gives the same problem everywhere. \
KIND is relocation, segmentation, paging (a linear table), multilevel (OSTEP's two-level \
format or Sv39), tlb, replacement, disk or malloc; `vmlab quiz KIND --help` lists its knobs. \
docs/quiz.md describes every kind.",
        after_help = "Exit status: 0 when the problem was made; 2 for impossible \
parameters.\n\nExamples:\n  vmlab quiz relocation --seed 1\n  \
vmlab quiz paging --seed 2 --answers\n  \
vmlab quiz multilevel --seed 3 --scenario quiz.toml\n  vmlab translate quiz.toml"
    )]
    Quiz(crate::quiz::QuizArgs),
    /// Run RISC-V programs: as processes under the modelled kernel, or one on the bare machine.
    #[command(
        long_about = "Run RISC-V programs on one RV64IMAC hart with M, S and U modes, the MMU, \
caches, DRAM and devices, with the cycle-level pipeline model keeping time.\n\n\
Each PROGRAM is an ELF64 RISC-V executable or an assembly file (.s), which is assembled \
first.\n\n\
Hosted (the default for a program that is not linked for the bare machine): the modelled \
kernel loads each program as a process in U-mode with its own address space under the \
memory-management scheme os.scheme (vm-paging by default), schedules them round robin, \
serves their Linux system calls (write, brk, mmap, exit, ...), pages from the disk and kills \
a process that touches memory it may not, with a report. docs/os.md has the details.\n\n\
Bare (--bare, or a program that defines `tohost` or whose entry point is in RAM): the \
program starts in M-mode at its entry point and handles its own traps, as on Spike. It ends \
by writing `tohost` (exit code = value >> 1), by an `ecall` with a7 = 93 when no handler is \
installed (exit code a0), by --max-insns or --max-cycles, or by a double fault. \
Console and HTIF output goes to stdout; the final report to stderr. docs/run.md has the \
details and docs/config.md every machine key.",
        after_help = "Exit status: hosted, 0 when every process exited 0, else the first \
failing process's exit code (128 + the signal when it was killed); bare, the guest's exit \
code; 124 when a limit stopped the run; 130 when Ctrl-C interrupted it (the report and \
statistics so far are still given); 125 for a double fault, a wfi nothing can wake, or \
processes that can never run; 2 for a usage error, a bad machine file or a program that \
cannot be loaded.\n\nExamples:\n  vmlab run programs/os/hello.s\n  \
vmlab run programs/os/touch.s programs/os/touch.s --set os.user_frames=32 --stats\n  \
vmlab run programs/os/belady.s --set os.frames_per_process=4 --report /tmp/belady.html\n  \
vmlab run programs/linux/bin/args_env --env A=1 --env B=hello -- one two three\n  \
vmlab run --bare programs/asm/sv39.s --stats\n  \
vmlab run programs/c/sort.elf --set memory.l1d.size=4096 --stats json"
    )]
    Run {
        /// The program (an ELF file, or an assembly file (.s) assembled on the fly); several
        /// run as processes under the kernel.
        #[arg(required = true, num_args = 1.., value_name = "PROGRAM")]
        programs: Vec<PathBuf>,
        /// Run on the bare machine: one program, in M-mode, handling its own traps.
        #[arg(long, conflicts_with = "hosted")]
        bare: bool,
        /// Run under the kernel even a program linked for the bare machine.
        #[arg(long)]
        hosted: bool,
        /// Write every kernel event (faults, evictions, disk requests, switches, placements)
        /// to FILE as JSON lines with the cycle each happened at (hosted runs).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Draw the run's pictures into FILE.html: one self-contained page (memory over time,
        /// address spaces, page tables, TLBs, timelines, the fault curve; docs/pictures.md).
        /// Hosted runs; the cycles do not change.
        #[arg(long, value_name = "FILE.html")]
        report: Option<PathBuf>,
        /// Also write each of the report's figures as its own SVG file into DIR.
        #[arg(long, value_name = "DIR")]
        svg: Option<PathBuf>,
        /// The most moments the report's slider offers (points where memory changed; a
        /// longer run's are evenly sampled).
        #[arg(long, value_name = "N", default_value_t = 120)]
        moments: usize,
        /// Copy the host file PATH into the guest file system as /NAME (a writable file on
        /// the modelled disk, read and mapped through the page cache; repeatable; the host
        /// file itself is never changed).
        #[arg(long = "file", value_name = "NAME=PATH")]
        files: Vec<String>,
        /// A machine configuration file (TOML; docs/config.md lists every key).
        #[arg(long, value_name = "FILE.toml")]
        machine: Option<PathBuf>,
        /// Set one configuration key, e.g. --set memory.l1d.size=65536 (repeatable; applied
        /// after --machine).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Stop after this many instructions (exit status 124).
        #[arg(long, value_name = "N")]
        max_insns: Option<u64>,
        /// Stop when the clock reaches this cycle (exit status 124).
        #[arg(long, value_name = "N")]
        max_cycles: Option<u64>,
        /// Print the statistics at the end (to stderr): a short summary (`text`), the summary
        /// and every counter under its dotted name (`full`), or one JSON object keyed by the
        /// same names (`json`).
        #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "text")]
        stats: Option<crate::run_cmd::StatsFormat>,
        /// Also write every statistic to FILE, for scripts: one JSON object (as --stats
        /// json) when FILE ends in .json, the full table (as --stats full) otherwise.
        #[arg(long, value_name = "FILE")]
        stats_file: Option<PathBuf>,
        /// Write a commit log in Spike's --log-commits format to FILE.
        #[arg(long, value_name = "FILE")]
        log_commits: Option<PathBuf>,
        /// Set a variable of the hosted programs' environment, which is otherwise empty
        /// (repeatable).
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Expose the host folder HOST at the absolute guest path GUEST, read-only unless
        /// `:rw` (repeatable); a writable mount's changes reach the host when the run ends.
        #[arg(long = "mount", value_name = "HOST:GUEST[:rw]")]
        mounts: Vec<String>,
        /// The hosted programs' working directory (a guest path; default /).
        #[arg(long, value_name = "GUEST")]
        cwd: Option<String>,
        /// Run dynamically linked programs: the host folder DIR holds the interpreter they
        /// ask for and the libraries (e.g. /usr/riscv64-linux-gnu), and the guest sees it,
        /// read-only, at / (with /dev, /tmp and the --mounts on top).
        #[arg(long, value_name = "DIR")]
        sysroot: Option<PathBuf>,
        /// A system call the kernel does not serve kills the process (SIGSYS) with a report
        /// naming it, instead of returning -ENOSYS.
        #[arg(long)]
        strict_syscalls: bool,
        /// Check the hosted programs' memory use as they run, like Valgrind's memcheck:
        /// invalid reads and writes, uses of uninitialised values, bad frees, leaks at exit
        /// (reports on standard error; the cycles do not change). Sets os.memcheck.
        #[arg(long)]
        memcheck: bool,
        /// With --memcheck: the exit status when it found errors (default: the program's).
        #[arg(long, value_name = "N", requires = "memcheck")]
        memcheck_exit: Option<u8>,
        /// The arguments the hosted programs get after argv[0] (which is the program's path
        /// as given), as `qemu-riscv64 PROG ARG...` passes them.
        #[arg(last = true, value_name = "ARG")]
        args: Vec<String>,
    },
    /// Draw a run's pictures from its trace: the same HTML report `vmlab run --report` writes.
    #[command(
        long_about = "Draw the pictures of a hosted run from the trace `vmlab run --trace \
FILE` wrote: one self-contained HTML file (inline SVG and a little plain JavaScript, nothing \
fetched from the network) with physical memory over time, each process's address space, its \
page table (or segment table, or base and bounds), the TLBs at the end, timelines of the \
processes, the CPU and the disk, the fault rate, and the fault curve of the run's reference \
string under FIFO, LRU, Clock and OPT. `vmlab run ... --report FILE.html` makes the same page \
without the trace file. docs/pictures.md describes every figure; docs/trace.md the trace.",
        after_help = "Exit status: 0 when the report was written; 2 for a trace that cannot be \
read (the file, the line and what is wrong) or a report that cannot be written.\n\n\
Examples:\n  vmlab run programs/os/touch.s --trace /tmp/touch.jsonl\n  \
vmlab report /tmp/touch.jsonl -o /tmp/touch.html\n  \
vmlab report /tmp/touch.jsonl -o /tmp/touch.html --svg /tmp/touch-figures"
    )]
    Report {
        /// The trace (`vmlab run --trace FILE`).
        #[arg(value_name = "TRACE.jsonl")]
        trace: PathBuf,
        /// The HTML file to write.
        #[arg(short, long, value_name = "FILE.html")]
        output: Option<PathBuf>,
        /// Also write each figure as its own SVG file into DIR (made if missing).
        #[arg(long, value_name = "DIR")]
        svg: Option<PathBuf>,
        /// The most moments the page's slider offers (points of the run where memory
        /// changed; a longer run's are evenly sampled).
        #[arg(long, value_name = "N", default_value_t = 120)]
        moments: usize,
    },
    /// Measure simulation speed: simulated instructions per host second.
    #[command(
        long_about = "Measure simulation speed: run each program to completion on the full \
timing model and report simulated instructions per host second (the fastest of --repeat \
runs). Without PROGRAMs it runs the benchmark programs in programs/bench/ (Sv39 paging on, \
compute- and memory-bound). With --check-host each program also runs with the host-speed \
shortcuts off, and the two runs must agree on every cycle and statistic.",
        after_help = "Examples:\n  vmlab bench\n  vmlab bench --check-host --repeat 3\n  \
vmlab bench --hosted --repeat 3\n  vmlab bench --memcheck"
    )]
    Bench {
        /// Programs to run (default: programs/bench/*.elf).
        programs: Vec<PathBuf>,
        /// Set one configuration key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Runs per program; the fastest counts.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Also run with the host-speed shortcuts off and compare every statistic.
        #[arg(long)]
        check_host: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Compare each benchmark on the bare machine with the same source built as a static
        /// Linux program (programs/bench/linux/) run under the kernel.
        #[arg(long, conflicts_with = "programs")]
        hosted: bool,
        /// The memory checker's cost: the allocation-heavy Linux programs
        /// (programs/linux/bin/mc_clean, malloc_ds) run under the kernel with and without
        /// --memcheck.
        #[arg(long, conflicts_with_all = ["programs", "hosted"])]
        memcheck: bool,
    },
    /// Print the machine configuration a run would use, as a complete machine file.
    #[command(
        long_about = "Print the machine configuration a run would use (the defaults, then \
--machine, then each --set) as a complete machine file; docs/config.md explains every key.",
        after_help = "Examples:\n  vmlab config > my-machine.toml\n  \
vmlab config --machine programs/machines/small-tlb.toml --set timing.predictor=btfn"
    )]
    Config {
        /// A machine configuration file (TOML).
        #[arg(long, value_name = "FILE.toml")]
        machine: Option<PathBuf>,
        /// Set one configuration key (repeatable; applied after --machine).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Assemble a RISC-V assembly file (GNU as syntax) into a linked ELF executable.
    #[command(
        long_about = "Assemble a RISC-V assembly file written in GNU as syntax (labels, \
numeric local labels, sections, data directives, %hi/%lo/%pcrel_hi/%pcrel_lo, the standard \
pseudo-instructions, compressed instructions, .include) into a linked ELF64 executable: \
.text at 0x80000000 (the bare machine's RAM; with --hosted at 0x1000, for a process under \
the kernel), then .rodata, then .tohost, .data and .bss on the next page. docs/asm.md \
describes the syntax.",
        after_help = "Exit status: 0 on success; 2 for errors (each names the file, line and \
column, shows the line and says what was expected).\n\nExamples:\n  \
vmlab asm programs/asm/hello.s -o hello.elf\n  vmlab run hello.elf"
    )]
    Asm {
        /// The assembly file.
        file: PathBuf,
        /// The ELF file to write (default: FILE with the extension .elf).
        #[arg(short, long, value_name = "FILE.elf")]
        output: Option<PathBuf>,
        /// Link for the hosted machine: .text at 0x1000 instead of 0x80000000.
        #[arg(long)]
        hosted: bool,
    },
    /// Disassemble the code sections of an ELF file, as objdump -d prints them.
    #[command(
        long_about = "Disassemble the code sections of a RISC-V ELF file exactly as \
`riscv64-unknown-elf-objdump -d` prints them (docs/disasm.md), so the two can be compared \
with diff.",
        after_help = "Exit status: 0 on success; 2 when the file cannot be read or is not a \
RISC-V ELF64 file.\n\nExamples:\n  vmlab disasm programs/elf/exit.elf\n  \
vmlab disasm --no-aliases programs/asm/sum.elf"
    )]
    Disasm {
        /// The ELF file.
        file: PathBuf,
        /// Canonical instruction names and every operand (objdump -M no-aliases).
        #[arg(long)]
        no_aliases: bool,
        /// Disassemble runs of zero bytes instead of printing `...` (objdump -z).
        #[arg(short = 'z', long)]
        disassemble_zeroes: bool,
    },
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::new(v),
        _ => match verbose {
            0 => return,
            1 => EnvFilter::new("debug"),
            _ => EnvFilter::new("trace"),
        },
    };
    // Colours only on a terminal, and not when NO_COLOR is set (no-color.org).
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .without_time()
        .try_init();
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { 0 });
        }
    };
    init_tracing(cli.verbose);
    match cli.command {
        Command::Translate {
            scenario,
            json,
            report,
            svg,
        } => translate(&scenario, json, report.as_deref(), svg.as_deref()),
        Command::Disk {
            requests,
            json,
            scheduler,
            compare,
            report,
            svg,
        } => crate::disk_cmd::main(
            &requests,
            json,
            scheduler.as_deref(),
            compare,
            report.as_deref(),
            svg.as_deref(),
        ),
        Command::Malloc(args) => crate::malloc_cmd::main(&args),
        Command::Policy(args) => crate::policy_cmd::main(&args),
        Command::Quiz(args) => crate::quiz::main(&args),
        Command::Bench {
            programs,
            sets,
            repeat,
            check_host,
            json,
            hosted,
            memcheck,
        } => {
            if memcheck {
                crate::bench_cmd::main_memcheck(&sets, repeat, json)
            } else if hosted {
                crate::bench_cmd::main_hosted(&sets, repeat, json)
            } else {
                crate::bench_cmd::main(&programs, &sets, repeat, check_host, json)
            }
        }
        Command::Config { machine, sets } => {
            let opts = crate::run_cmd::RunOptions {
                machine,
                sets,
                ..Default::default()
            };
            match crate::run_cmd::machine_config(&opts)
                .and_then(|c| toml::to_string(&c).map_err(|e| e.to_string()))
            {
                Ok(text) => write_out(&text),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_INPUT)
                }
            }
        }
        Command::Asm {
            file,
            output,
            hosted,
        } => asm(&file, output, hosted),
        Command::Disasm {
            file,
            no_aliases,
            disassemble_zeroes,
        } => disasm(&file, no_aliases, disassemble_zeroes),
        Command::Report {
            trace,
            output,
            svg,
            moments,
        } => crate::report_cmd::main(&trace, output.as_deref(), svg.as_deref(), moments),
        Command::Run {
            programs,
            bare,
            hosted,
            trace,
            report,
            svg,
            moments,
            files,
            machine,
            sets,
            max_insns,
            max_cycles,
            stats,
            stats_file,
            log_commits,
            env,
            strict_syscalls,
            memcheck,
            memcheck_exit,
            args,
            mounts,
            cwd,
            sysroot,
        } => crate::run_cmd::main(
            &programs,
            &crate::run_cmd::RunOptions {
                machine,
                sets,
                max_insns,
                max_cycles,
                stats,
                stats_file,
                log_commits,
                bare,
                hosted,
                trace,
                report,
                svg,
                moments,
                files,
                args,
                env,
                strict_syscalls,
                memcheck,
                memcheck_exit,
                mounts,
                cwd,
                sysroot,
            },
        ),
    }
}

fn asm(path: &std::path::Path, output: Option<PathBuf>, hosted: bool) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("{msg}");
        ExitCode::from(EXIT_INPUT)
    };
    let src = match crate::scenario::read_text(path, "assembly file", "programs/asm/hello.s") {
        Ok((_, t)) => t,
        Err(e) => return fail(format!("error: {e}")),
    };
    let shown = path.display().to_string();
    let mut opts = vmlab_cpu::asm::AsmOptions::default();
    if hosted {
        opts.text_base = vmlab_os::image::HOSTED_TEXT_BASE;
    }
    let obj = match crate::run_cmd::assemble_file(&src, &shown, &opts) {
        Ok(o) => o,
        Err(e) => return fail(e.to_string()),
    };
    let out = output.unwrap_or_else(|| path.with_extension("elf"));
    if out == path {
        return fail(format!(
            "error: the output {} would overwrite the source; give another name with -o",
            out.display()
        ));
    }
    match std::fs::write(&out, obj.to_elf()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("error: cannot write {}: {e}", out.display())),
    }
}

fn disasm(path: &std::path::Path, no_aliases: bool, disassemble_zeroes: bool) -> ExitCode {
    let opts = vmlab_cpu::objdump::ObjdumpOptions {
        no_aliases,
        disassemble_zeroes,
    };
    match vmlab_cpu::objdump::objdump_file(path, &opts) {
        Ok(text) => write_out(&text),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// Writes `text` to stdout; a closed pipe is not an error.
pub(crate) fn write_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn translate(
    path: &std::path::Path,
    json: bool,
    report_to: Option<&std::path::Path>,
    svg: Option<&std::path::Path>,
) -> ExitCode {
    let mut s = match Scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let run = report::run(&mut s);
    let text = if json {
        report::json(&s, &run)
    } else {
        report::human(&s, &run)
    };
    let written = write_out(&text);
    if written != ExitCode::SUCCESS {
        return written;
    }
    if report_to.is_some() || svg.is_some() {
        let page = crate::pictures::translate::page(&s, &run, &path.display().to_string());
        if let Err(e) = crate::pictures::html::write_outputs(&page, report_to, svg) {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    }
    let (wrong, all) = run.expectations();
    if wrong > 0 {
        eprintln!("vmlab: {wrong} of {all} accesses did not give the answer their `expect` names");
        return ExitCode::from(EXIT_EXPECT);
    }
    ExitCode::SUCCESS
}
