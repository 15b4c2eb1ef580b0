//! The hosted machine: the modelled kernel ([`vmlab_os::Kernel`]) runs programs as
//! processes on the [`Machine`].
//!
//! The hart runs each process in U-mode. Every trap goes to M-mode, where the kernel is: the
//! hart takes the trap as hardware does (the pipeline charges its entry), then the loop
//! hands it to [`Kernel::trap`], which does its work through [`vmlab_os::Hw`] and returns the
//! hart to U-mode in some process. The run ends when every process has ended, or at a limit.

use crate::machine::{EcallExit, Machine, MachineConfig, Stop, EXIT_FAULT};
use std::collections::BTreeMap;
use std::sync::Arc;
use vmlab_cpu::elf::Elf;
use vmlab_cpu::hart::StepResult;
use vmlab_mmu::{Format, Privilege};
use vmlab_os::kernel::Finish;
use vmlab_os::process::{Pid, State};
use vmlab_os::replace::Policy;
use vmlab_os::services::Record;
use vmlab_os::{Image, Kernel};

/// How a hosted run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The kernel finished: every process ended, or those left can never run.
    Kernel(Finish),
    /// The machine reached a limit (`run.max_insns`, `run.max_cycles`).
    Limit(Stop),
    /// The user interrupted the run (Ctrl-C): [`Hosted::interrupt`].
    Interrupted,
}

impl End {
    /// vmlab's exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            End::Kernel(Finish::AllEnded { status }) => *status,
            End::Kernel(Finish::Stuck(_)) => EXIT_FAULT,
            End::Limit(s) => s.exit_code(),
            End::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// vmlab's exit status when the user interrupted the run (Ctrl-C): 128 + SIGINT, as a
/// shell reports a program SIGINT ended.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How the processes start: their arguments and environment, and the guest's standard
/// streams (as `vmlab run PROG -- ARG... --env K=V` gives them).
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// `argv[0]` of each program, in order (default: its name).
    pub argv0: Vec<String>,
    /// The arguments after `argv[0]`, the same for every program.
    pub args: Vec<String>,
    /// The environment, `NAME=value` strings (default: empty, so runs are the same
    /// everywhere).
    pub env: Vec<String>,
    /// Standard input: vmlab's own (`true`), or these bytes.
    pub stdin: StdinSource,
    /// Whether standard input, output and error are terminals.
    pub terminal: [bool; 3],
    /// Host folders exposed to the guest: host path, guest path, writable.
    pub mounts: Vec<(std::path::PathBuf, String, bool)>,
    /// The processes' working directory (default `/`).
    pub cwd: Option<String>,
    /// `--sysroot DIR`: the folder the guest sees, read-only, at `/` (under `/dev`, `/tmp`
    /// and the mounts), where a dynamically linked program's interpreter and libraries come
    /// from.
    pub sysroot: Option<std::path::PathBuf>,
}

/// Where a hosted guest's standard input comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StdinSource {
    /// Nothing: the end of input at once.
    #[default]
    Empty,
    /// vmlab's own standard input.
    Host,
    /// These bytes.
    Bytes(Vec<u8>),
}

/// The machine and the kernel that runs on it.
pub struct Hosted {
    /// The machine.
    pub machine: Machine,
    /// The kernel.
    pub kernel: Kernel,
    refs: bool,
    /// `run.stop_on_spin`: the kernel kills a process spinning where nothing can reach it.
    spin_check: bool,
    end: Option<End>,
    /// `--memcheck`: each retired instruction goes to the checker, with the registers
    /// from before it (`pre`).
    memcheck: bool,
    pre: [u64; 32],
    /// Where [`Hosted::trace_lines`] is: the header written, the end written.
    trace_state: (bool, bool),
}

/// The page-table format `name` names: a built-in one or a `[[formats]]` entry.
fn format_named(cfg: &MachineConfig, name: &str) -> Result<Arc<Format>, String> {
    if let Some(f) = Format::builtin(name) {
        return Ok(Arc::new(f));
    }
    let custom = cfg.custom_formats().map_err(|e| e.to_string())?;
    custom
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            format!("os.format = {name:?} names no format; use sv39, sv48, sv57, or the name of a [[formats]] entry")
        })
}

impl Hosted {
    /// Builds the machine, boots the kernel with one process per program, and starts the
    /// first. `programs` pairs each program's name (for reports) with its ELF.
    pub fn new(cfg: MachineConfig, programs: &[(String, Elf)]) -> Result<Hosted, String> {
        Hosted::with_trace(cfg, programs, false)
    }

    /// [`Hosted::new`], recording the kernel's events from boot on when `trace` is set
    /// (drain them with [`Hosted::take_trace`]).
    pub fn with_trace(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        trace: bool,
    ) -> Result<Hosted, String> {
        Hosted::with_files(cfg, programs, Vec::new(), trace)
    }

    /// [`Hosted::with_trace`] with the files of `--file NAME=PATH`: each `(name, bytes)` is
    /// the file `/NAME` of the guest file system.
    pub fn with_files(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        files: Vec<(String, Vec<u8>)>,
        trace: bool,
    ) -> Result<Hosted, String> {
        Hosted::with_setup(cfg, programs, files, trace, &Setup::default())
    }

    /// [`Hosted::with_files`] with the processes' arguments, environment and standard
    /// streams.
    pub fn with_setup(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        files: Vec<(String, Vec<u8>)>,
        trace: bool,
        setup: &Setup,
    ) -> Result<Hosted, String> {
        let mut cfg = cfg;
        // The kernel handles every trap; the bare machine's exit conventions do not apply,
        // and the kernel decides about processes that spin (Kernel::spin).
        cfg.run.ecall_exit = EcallExit::Never;
        cfg.run.stop_on_double_fault = false;
        let kernel_spin_check = cfg.run.stop_on_spin;
        cfg.run.stop_on_spin = false;
        let format = format_named(&cfg, &cfg.os.format)?;
        let segmented = vmlab_os::image::Layout::for_scheme(cfg.os.scheme)
            == vmlab_os::image::Layout::Segmented;
        let user_top = if segmented {
            // Four segments of 1 GiB: 32-bit addresses.
            1u64 << 32
        } else if format.va_bits() >= 64 {
            u64::MAX
        } else {
            // The lower half of a sign-extended address space.
            1u64 << (format.va_bits() - 1)
        };
        if !segmented && cfg.os.stack_top > user_top {
            return Err(format!(
                "os.stack_top = {:#x} is above the {}-bit user address space of {} (at most {user_top:#x})",
                cfg.os.stack_top,
                format.va_bits() - 1,
                format.name()
            ));
        }
        if let Some(dir) = &setup.sysroot {
            crate::sysroot::check_dir(dir)?;
        }
        let root_mount = setup.sysroot.is_some()
            || setup
                .mounts
                .iter()
                .any(|m| m.1.trim_end_matches('/').is_empty());
        if let (Some((name, _)), true) = (files.first(), root_mount) {
            return Err(format!(
                "--file {name}: the file would be /{name}, in the root directory that a mount on / (--sysroot or --mount HOST:/) replaces; put the file in a mounted folder instead (--mount HOST:GUEST)"
            ));
        }
        // Where position-independent programs and interpreters go (vmlab_os::image).
        let paged = matches!(
            cfg.os.scheme,
            vmlab_os::config::SchemeKind::SimplePaging | vmlab_os::config::SchemeKind::VmPaging
        );
        let place = if paged {
            let floor = cfg.os.stack_top.saturating_sub(cfg.os.stack_limit);
            let page = 1u64 << format.page_offset_bits();
            vmlab_os::image::Placement::paged(cfg.os.stack_top, floor, page)
        } else if segmented {
            vmlab_os::image::Placement::contiguous(user_top)
        } else {
            vmlab_os::image::Placement::contiguous(cfg.os.stack_top)
        };
        let images = programs
            .iter()
            .enumerate()
            .map(|(i, (name, elf))| {
                let interp = match (&elf.interp, &setup.sysroot) {
                    (Some(guest), Some(dir)) => {
                        let host = crate::sysroot::resolve(dir, guest, name)?;
                        let parsed = Elf::open(&host).map_err(|e| {
                            format!("{name}: its interpreter {guest} (in --sysroot): {e}")
                        })?;
                        Some(parsed)
                    }
                    _ => None,
                };
                let mut image = Image::load(elf, interp.as_ref(), name, &place)?;
                let argv0 = setup.argv0.get(i).unwrap_or(name);
                image.argv = std::iter::once(argv0)
                    .chain(&setup.args)
                    .map(|a| a.as_bytes().to_vec())
                    .collect();
                image.envp = setup.env.iter().map(|e| e.as_bytes().to_vec()).collect();
                Ok::<Image, String>(image)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let os = cfg.os.clone();
        let mut machine = Machine::new(cfg).map_err(|e| e.to_string())?;
        machine.guest_io.terminal = setup.terminal;
        machine.guest_io.input = match &setup.stdin {
            StdinSource::Empty => crate::machine::Input::Empty,
            StdinSource::Host => crate::machine::Input::Stdin,
            StdinSource::Bytes(b) => crate::machine::Input::Bytes {
                data: b.clone(),
                pos: 0,
            },
        };
        let mut kernel = Kernel::boot_with_files(os, &mut machine, images, format, files)?;
        // The sysroot first, at /: /dev, /tmp and the mounts stay on top of it.
        if let Some(dir) = &setup.sysroot {
            kernel
                .mount(dir, "/", false)
                .map_err(|e| format!("--sysroot {}: {e}", dir.display()))?;
        }
        for (host, guest, rw) in &setup.mounts {
            kernel
                .mount(host, guest, *rw)
                .map_err(|e| format!("--mount {}:{guest}: {e}", host.display()))?;
        }
        if let Some(cwd) = &setup.cwd {
            kernel.set_cwd(cwd)?;
        }
        kernel.set_trace(trace);
        kernel.start(&mut machine);
        let refs = kernel.wants_references();
        machine.set_access_log(refs);
        let memcheck = kernel.memcheck_on();
        let mut h = Hosted {
            machine,
            kernel,
            refs,
            spin_check: kernel_spin_check,
            end: None,
            memcheck,
            pre: [0; 32],
            trace_state: (false, false),
        };
        h.check_end();
        Ok(h)
    }

    /// Runs OPT the way it must be run: a first pass under FIFO records each process's
    /// reference string, and the second pass (the one returned) replaces with that future.
    pub fn new_opt(cfg: MachineConfig, programs: &[(String, Elf)]) -> Result<Hosted, String> {
        Hosted::new_opt_with_trace(cfg, programs, false)
    }

    /// [`Hosted::new_opt`] with the trace of [`Hosted::with_trace`] (of the second pass).
    pub fn new_opt_with_trace(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        trace: bool,
    ) -> Result<Hosted, String> {
        Hosted::new_opt_with_files(cfg, programs, Vec::new(), trace)
    }

    /// [`Hosted::new_opt_with_trace`] with the files of `--file` (both passes see the same
    /// files).
    pub fn new_opt_with_files(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        files: Vec<(String, Vec<u8>)>,
        trace: bool,
    ) -> Result<Hosted, String> {
        Hosted::new_opt_with_setup(cfg, programs, files, trace, &Setup::default())
    }

    /// [`Hosted::new_opt_with_files`] with a [`Setup`]; both passes read the same standard
    /// input (vmlab's is read to its end first).
    pub fn new_opt_with_setup(
        cfg: MachineConfig,
        programs: &[(String, Elf)],
        files: Vec<(String, Vec<u8>)>,
        trace: bool,
        setup: &Setup,
    ) -> Result<Hosted, String> {
        let mut setup = setup.clone();
        if setup.stdin == StdinSource::Host {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut all)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            setup.stdin = StdinSource::Bytes(all);
        }
        let mut first = cfg.clone();
        first.os.policy = Policy::Fifo;
        // (Under --memcheck the first pass is checked too, so that redzones and the
        // quarantine lay the heap out as in the second; only the second's reports are
        // shown.)
        let mut pass = Hosted::with_setup(first, programs, files.clone(), false, &setup)?;
        pass.kernel.set_recording(true);
        // Recording needs every reference reported, whatever else wants them.
        pass.refs = pass.kernel.wants_references();
        pass.machine.set_access_log(pass.refs);
        pass.run();
        let strings: BTreeMap<Pid, Vec<u64>> = pass.kernel.take_recording();
        // The future is known before the second pass's first reference.
        let mut h = Hosted::with_setup(cfg, programs, files, trace, &setup)?;
        h.kernel.set_future(&strings);
        h.check_end();
        Ok(h)
    }

    fn check_end(&mut self) {
        if self.end.is_some() {
            return;
        }
        if let Some(f) = self.kernel.finished() {
            self.end = Some(End::Kernel(f.clone()));
        } else if let Some(s) = self.machine.stop_reason().cloned() {
            self.kernel.settle(&mut self.machine);
            self.end = Some(End::Limit(s));
        }
    }

    /// One step of the machine, and the kernel's work if it trapped. False once ended.
    pub fn step(&mut self) -> bool {
        if self.end.is_some() {
            return false;
        }
        self.advance();
        self.end.is_none()
    }

    /// One step; the end is looked for only where it can begin (the kernel's work, a
    /// spinning process, the machine stopping), not after every instruction.
    #[inline(always)]
    fn advance(&mut self) {
        if self.memcheck {
            self.pre = self.machine.hart.x;
        }
        match self.machine.advance() {
            Some((
                StepResult::Trapped {
                    trap,
                    epc,
                    privilege: Privilege::Machine,
                    ..
                },
                _,
                _,
                _,
            )) => {
                self.kernel.trap(&mut self.machine, trap, epc);
                self.check_end();
            }
            Some((StepResult::Retired, pc, _, _)) => {
                if self.memcheck {
                    self.check(pc);
                }
                if self.refs {
                    self.kernel.reference(pc);
                    for a in self.machine.last_accesses() {
                        self.kernel.reference(a.addr);
                    }
                }
                if self.spin_check && self.machine.hart.pc == pc {
                    // A jump to itself: the kernel decides whether it can ever end.
                    self.kernel.spin(&mut self.machine, pc);
                    self.check_end();
                }
            }
            Some(_) => {
                if self.machine.stop_reason().is_some() {
                    self.check_end();
                }
            }
            None => self.check_end(),
        }
    }

    /// The checker's view of the instruction that retired at `pc`.
    fn check(&mut self, pc: u64) {
        let insn = self.machine.hart.last_insn();
        let hart = &self.machine.hart;
        let (post, next) = (hart.x, hart.pc);
        let pre = self.pre;
        if let Some(r) =
            self.kernel
                .memcheck_retire(&mut self.machine, pc, &insn, &pre, &post, next)
        {
            let hart = &mut self.machine.hart;
            match r {
                // A bad free, or one the quarantine keeps: it returns to its caller
                // without reaching the allocator.
                vmlab_os::memcheck::Redirect::Return { a0 } => {
                    hart.pc = hart.x[1];
                    if let Some(v) = a0 {
                        hart.x[10] = v;
                    }
                }
                // The quarantine's oldest block is freed instead.
                // The call goes on with other arguments (the quarantine's oldest block,
                // sizes with redzones).
                vmlab_os::memcheck::Redirect::Args(a) => hart.x[10..13].copy_from_slice(&a),
                // A pointer past the front redzone.
                vmlab_os::memcheck::Redirect::SetA0(v) => hart.x[10] = v,
            }
        }
    }

    /// The checker's reports written since the last call (lines for standard error).
    pub fn take_memcheck(&mut self) -> Vec<String> {
        self.kernel
            .memcheck()
            .map(|m| m.take_output())
            .unwrap_or_default()
    }

    /// Runs at most `n` steps; returns whether the run has ended.
    pub fn run_for(&mut self, n: u64) -> bool {
        for _ in 0..n {
            if self.end.is_some() {
                break;
            }
            self.advance();
        }
        self.end.is_some()
    }

    /// Runs to the end.
    pub fn run(&mut self) -> &End {
        while self.step() {}
        self.end.as_ref().expect("ended")
    }

    /// Ends the run where it is, as the user asked (Ctrl-C): the processes that have not
    /// finished are reported as such, and the statistics are those so far. Nothing happens
    /// when the run has already ended.
    pub fn interrupt(&mut self) {
        if self.end.is_none() {
            self.end = Some(End::Interrupted);
        }
    }

    /// How the run ended, once it has.
    pub fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    /// The bytes of guest file `path` (from `/`) as a process reading it now would see
    /// them (the page cache's pages, else the disk's), or `None` if it is no regular file.
    pub fn file_contents(&mut self, path: &str) -> Option<Vec<u8>> {
        self.kernel.file_bytes(&mut self.machine, path, true)
    }

    /// The bytes of guest file `path` as they are on the modelled disk now: what the
    /// write-backs (`fsync`, `msync`, evictions, shutdown) reached.
    pub fn file_on_disk(&mut self, path: &str) -> Option<Vec<u8>> {
        self.kernel.file_bytes(&mut self.machine, path, false)
    }

    /// Applies the writable mounts' changes to the host (call once, when the run has
    /// ended): what changed, one line each.
    pub fn sync_files(&mut self) -> Result<Vec<String>, String> {
        self.kernel.sync_files(&mut self.machine)
    }

    /// Kernel trace records since the last call.
    pub fn take_trace(&mut self) -> Vec<Record> {
        self.kernel.take_trace()
    }

    /// The trace's lines (JSON, format v1: `docs/trace.md`) since the last call: the
    /// `machine` record on the first call, then the kernel's records, and once the run has
    /// ended (however it ended) the `tlb` records and `end`, once. Nothing when the trace
    /// is off.
    pub fn trace_lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.kernel.trace_on() || self.trace_state.1 {
            return out;
        }
        if !self.trace_state.0 {
            self.trace_state.0 = true;
            let programs = self
                .kernel
                .processes()
                .iter()
                .map(|p| p.image.name.clone())
                .collect();
            let info = self.kernel.trace_info();
            out.push(json_line(&crate::trace::machine_record(
                &self.machine,
                &info,
                programs,
            )));
        }
        let ended = self.end.clone();
        if ended.is_some() {
            self.kernel.trace_flush(&self.machine);
        }
        for r in self.kernel.take_trace() {
            out.push(json_line(&r));
        }
        if let Some(end) = ended {
            self.trace_state.1 = true;
            let segments = matches!(
                self.kernel.trace_info().scheme,
                "simple-segmentation" | "vm-segmentation"
            );
            for t in crate::trace::tlb_records(&self.machine, segments) {
                out.push(json_line(&t));
            }
            out.push(json_line(&crate::trace::end_record(&self.machine, &end)));
        }
        out
    }

    /// The report of system calls the processes made that the kernel does not serve: one
    /// line naming each, with its number and count (empty when every call was served).
    pub fn unserved_report(&self) -> Option<String> {
        let u = self.kernel.unserved_syscalls();
        if u.is_empty() {
            return None;
        }
        let list: Vec<String> = u
            .iter()
            .map(|(&nr, &n)| {
                let name = vmlab_os::linux::syscall_name(nr).unwrap_or("unknown");
                format!("{name} ({nr}) x{n}")
            })
            .collect();
        Some(format!(
            "system calls not served (each returned -ENOSYS): {}",
            list.join(", ")
        ))
    }

    /// Every statistic: the machine's, then the kernel's.
    pub fn stat_list(&self) -> Vec<(String, u64)> {
        let mut v = self.machine.stat_list();
        self.kernel
            .for_each_stat(&mut |n, x| v.push((n.to_string(), x)));
        v
    }

    /// Whether a kill suggests a program written for the bare machine that ran under the
    /// kernel: it touched a physical RAM address or ran a privileged instruction, and the
    /// program itself was made for the bare machine (it defines `tohost`, its entry point
    /// or a segment lies in RAM, or its code holds M- or S-mode instructions: `mret`,
    /// `sret`, `wfi`, `sfence.vma`, a CSR access above the user CSRs). An ordinary Linux
    /// program's wild pointer that happens to fall in RAM's range gets no such hint.
    fn looks_bare(&self, image: &vmlab_os::image::Image, k: &vmlab_os::process::Kill) -> bool {
        let ram = &self.machine.config().memory.ram;
        let in_ram = |a: u64| a >= ram.base && a - ram.base < ram.size;
        let physical = k.access.is_some() && in_ram(k.addr);
        let privileged = k.detail.contains("privileged instruction");
        if !physical && !privileged {
            return false;
        }
        in_ram(image.entry)
            || image.segments.iter().any(|s| in_ram(s.vaddr))
            || vmlab_cpu::elf::Elf::parse(&image.file.0, &image.name)
                .is_ok_and(|e| e.tohost.is_some())
            || match code_sections(&image.file.0) {
                Some(code) => code.into_iter().any(has_privileged_code),
                // No section headers: the executable segments (data in them may count).
                None => image
                    .segments
                    .iter()
                    .filter(|s| s.perm.exec)
                    .any(|s| has_privileged_code(&s.data)),
            }
    }

    /// Every process, for the headline of `--stats`: its pid, name, and how it ended in a
    /// few words (`exited 0`, `killed by SIGSEGV (permission)`, `did not finish (ready)`).
    pub fn process_infos(&self) -> Vec<crate::run_report::ProcInfo> {
        self.kernel
            .processes()
            .iter()
            .map(|p| crate::run_report::ProcInfo {
                pid: u64::from(p.pid),
                name: p.image.name.clone(),
                thread_of: (p.tgid != p.pid).then_some(u64::from(p.tgid)),
                end: match &p.state {
                    State::Exited(c) => format!("exited {c}"),
                    State::Killed(k) => format!(
                        "killed by {} ({})",
                        vmlab_os::linux::sig::name(u64::from(k.signal())),
                        k.cause
                    ),
                    State::WaitingForMemory => "did not finish (waiting for memory)".into(),
                    State::Loading => "did not finish (loading)".into(),
                    State::Ready => "did not finish (ready)".into(),
                    State::Running => "did not finish (running)".into(),
                    State::Blocked => format!("did not finish ({})", self.blocked_words(p.pid)),
                },
            })
            .collect()
    }

    /// What the blocked process `pid` waits for, in a few words: `blocked: disk`,
    /// `blocked: pipe`, `blocked: futex`, `sleeping`, ...
    fn blocked_words(&self, pid: u32) -> String {
        match self.kernel.blocked_on(pid) {
            Some("sleeping") => "sleeping".into(),
            Some(on) => format!("blocked: {on}"),
            None => "blocked".into(),
        }
    }

    /// One line per process that did not exit normally, as a shell reports it.
    pub fn process_reports(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in self.kernel.processes() {
            if p.tgid != p.pid && p.state.ended() {
                // A thread's end is its process's (reported with its leader).
                continue;
            }
            match &p.state {
                State::Killed(k) => {
                    let hint = if self.looks_bare(&p.image, k) {
                        " (a program written for M-mode on the bare machine? run it with --bare)"
                    } else {
                        ""
                    };
                    out.push(format!(
                        "process {} ({}) killed by {k}{hint}",
                        p.pid, p.image.name
                    ))
                }
                State::Exited(c) if *c != 0 => out.push(format!(
                    "process {} ({}) exited with code {c}",
                    p.pid, p.image.name
                )),
                State::Exited(_) => {}
                other if self.end.is_some() => out.push(format!(
                    "process {} ({}) did not finish ({})",
                    p.pid,
                    p.image.name,
                    match other {
                        State::WaitingForMemory => "waiting for memory".into(),
                        State::Loading => "loading".into(),
                        State::Ready => "ready".into(),
                        State::Running => "running".into(),
                        State::Blocked => self.blocked_words(p.pid),
                        _ => String::new(),
                    }
                )),
                _ => {}
            }
        }
        out
    }
}

/// Whether `code` holds an instruction only M or S mode may run: `mret`, `sret`, `wfi`,
/// `sfence.vma`, or a CSR access to a CSR whose number says M or S mode (bits 9:8 not 0).
/// Compressed parcels are skipped: none of these has a 16-bit form.
fn has_privileged_code(code: &[u8]) -> bool {
    use vmlab_cpu::isa::Op;
    let mut i = 0;
    while i + 2 <= code.len() {
        let lo = u16::from_le_bytes([code[i], code[i + 1]]);
        if lo & 3 != 3 {
            i += 2;
            continue;
        }
        let Some(hi) = code.get(i + 2..i + 4) else {
            break;
        };
        let word = u32::from(lo) | u32::from(u16::from_le_bytes([hi[0], hi[1]])) << 16;
        let insn = vmlab_cpu::isa::decode(word);
        match insn.op {
            Op::Mret | Op::Sret | Op::Wfi | Op::SfenceVma => return true,
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
                if insn.csr & 0x300 != 0 =>
            {
                return true
            }
            _ => {}
        }
        i += 4;
    }
    false
}

/// The contents of the code sections (`SHF_EXECINSTR`, with contents) of the ELF file
/// `elf`, or `None` when it has no section headers to say which they are (read-only data
/// that shares the text segment is not code, and must not be decoded as if it were).
fn code_sections(elf: &[u8]) -> Option<Vec<&[u8]>> {
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u64_at = |o: usize| {
        elf.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    if shoff == 0 || shnum == 0 || shentsize < 0x40 {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..shnum {
        let h = shoff.checked_add(i.checked_mul(shentsize)?)?;
        let kind = elf.get(h + 4..h + 8)?;
        let flags = u64_at(h + 8)?;
        const SHT_NOBITS: u32 = 8;
        const SHF_EXECINSTR: u64 = 4;
        if flags & SHF_EXECINSTR == 0
            || u32::from_le_bytes([kind[0], kind[1], kind[2], kind[3]]) == SHT_NOBITS
        {
            continue;
        }
        let off = usize::try_from(u64_at(h + 0x18)?).ok()?;
        let size = usize::try_from(u64_at(h + 0x20)?).ok()?;
        out.push(elf.get(off..off.checked_add(size)?)?);
    }
    Some(out)
}

/// A trace record as one line of JSON.
fn json_line<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
