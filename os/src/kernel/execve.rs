//! `execve`: a process replaces its program.
//!
//! Everything that can fail is done before the old program goes: the path is resolved in
//! the guest file system (`ENOENT`, `ENOTDIR`, `EACCES` for a directory or a file without
//! execute permission), the file read and parsed as a RISC-V ELF (`ENOEXEC` for anything
//! else), its dynamic linker found when it names one, its arguments and environment copied
//! (`E2BIG` past Linux's limits), and its image placed on the disk
//! ([`crate::scheme::Scheme::place_exec`]: `ENOMEM` when the disk has no room, `ENOEXEC`
//! when the scheme cannot run the program). Then the old address space goes (its frames,
//! swap slots, partition or segments, file mappings, ASID), a new one is made under a new
//! id as at start — arguments, environment and auxiliary vector on the stack — and the
//! scheme admits it, as it admits a program at boot: under demand paging nothing is read
//! until the program touches it; under simple paging and the partition schemes the image
//! is read in (the process waits for it). Descriptors marked close-on-exec close, caught
//! signals return to their default action, the floating-point registers are cleared, and a
//! `vfork` parent runs again.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::image::{Image, Placement};
use crate::paging::Admit;
use crate::process::{space_id, Kill, Pid, State};
use crate::wait::WaitOn;
use vmlab_cpu::csr::addr as csr;
use vmlab_cpu::elf::Elf;

/// The longest argument or environment string (`MAX_ARG_STRLEN`: 32 pages).
const MAX_ARG_STRLEN: u64 = 32 * 4096;
/// The most argument and environment strings (`MAX_ARG_STRINGS`).
const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// The longest path (`PATH_MAX`).
const PATH_MAX: u64 = 4096;

/// `sa_handler` values a new program keeps (`SIG_IGN`); every other handler goes back to
/// `SIG_DFL`.
const SIG_IGN: u64 = 1;

impl Kernel {
    /// Reads a `NULL`-ended array of string pointers at `va` (argv, envp) from `pid`'s
    /// memory.
    fn copy_strings(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        total: &mut u64,
    ) -> Result<Vec<Vec<u8>>, SysResult> {
        let mut out = Vec::new();
        if va == 0 {
            return Ok(out);
        }
        loop {
            let at = va.wrapping_add(8 * out.len() as u64);
            let ptr = match self.copy_from_user(hw, pid, at, 8) {
                Ok(b) => u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
                Err(e) => return Err(e.into()),
            };
            if ptr == 0 {
                return Ok(out);
            }
            if out.len() >= MAX_ARG_STRINGS {
                return Err(SysResult::Err(errno::E2BIG));
            }
            let s = match self.copy_string_from_user(hw, pid, ptr, MAX_ARG_STRLEN) {
                Ok(Some(s)) => s,
                Ok(None) => return Err(SysResult::Err(errno::E2BIG)),
                Err(e) => return Err(e.into()),
            };
            // The strings and their pointers, as Linux counts them against the stack limit.
            *total += s.len() as u64 + 1 + 8;
            out.push(s);
        }
    }

    /// The bytes of the guest file at `ino`, as they are now (a host file's content is put
    /// on the disk first, as a first read of it would).
    fn exec_bytes(&mut self, hw: &mut dyn Hw, ino: u64) -> Result<Vec<u8>, u64> {
        let fs = self.fs.as_mut().ok_or(errno::ENOENT)?;
        if fs.vfs.needs_content(ino) {
            let pages = fs.vfs.materialize(ino).map_err(|e| {
                self.sv.messages.push(e);
                errno::EIO
            })?;
            for (block, bytes) in pages {
                hw.disk_preload(block, &bytes).map_err(|_| errno::EIO)?;
            }
        }
        self.ino_bytes(hw, ino, true)
    }

    /// Resolves `path` for `pid` to an executable regular file and parses it.
    fn exec_file(&mut self, hw: &mut dyn Hw, pid: Pid, path: &[u8]) -> Result<Elf, u64> {
        let pi = self.index(pid).ok_or(errno::ESRCH)?;
        let cwd = self.procs[pi].task.cwd;
        let fs = self.fs.as_ref().ok_or(errno::ENOENT)?;
        let ino = fs.vfs.resolve(cwd, path, true).map_err(|e| e.get())?;
        match fs.vfs.kind(ino).map_err(|e| e.get())? {
            crate::fs::Kind::File => {}
            _ => return Err(errno::EACCES),
        }
        fs.vfs.access(ino, crate::fs::X_OK).map_err(|e| e.get())?;
        let bytes = self.exec_bytes(hw, ino)?;
        let shown = String::from_utf8_lossy(path).into_owned();
        Elf::parse(&bytes, &shown).map_err(|_| errno::ENOEXEC)
    }

    /// `execve(path, argv, envp)`.
    pub(super) fn sys_execve(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let path = match self.copy_string_from_user(hw, pid, a[0], PATH_MAX) {
            Ok(Some(p)) => p,
            Ok(None) => return SysResult::Err(errno::ENAMETOOLONG),
            Err(e) => return e.into(),
        };
        if path.is_empty() {
            return SysResult::Err(errno::ENOENT);
        }
        let mut total = 0;
        let argv = match self.copy_strings(hw, pid, a[1], &mut total) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let envp = match self.copy_strings(hw, pid, a[2], &mut total) {
            Ok(v) => v,
            Err(r) => return r,
        };
        // Linux allows a quarter of the stack limit for them (and at least 128 KiB).
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let stack_limit = self.procs[pi].task.rlimits[3].0;
        if total > (stack_limit / 4).max(32 * 4096) || total > self.cfg.stack_size.max(1) * 64 {
            return SysResult::Err(errno::E2BIG);
        }
        let elf = match self.exec_file(hw, pid, &path) {
            Ok(e) => e,
            Err(e) => return SysResult::Err(e),
        };
        let interp = match &elf.interp {
            Some(ip) if elf.needs_interp() => match self.exec_file(hw, pid, ip.as_bytes()) {
                Ok(e) => Some(e),
                // The interpreter missing is ENOENT, as Linux reports it; not an ELF: ELIBBAD.
                Err(e) if e == errno::ENOEXEC => return SysResult::Err(errno::ELIBBAD),
                Err(e) => return SysResult::Err(e),
            },
            _ => None,
        };
        let name = path
            .rsplit(|&b| b == b'/')
            .next()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let place = self.exec_placement();
        let mut image = match Image::load(&elf, interp.as_ref(), &name, &place) {
            Ok(i) => i,
            Err(_) => return SysResult::Err(errno::ENOEXEC),
        };
        if image.interp.is_some() && !self.mem.demand_paged() {
            return SysResult::Err(errno::ENOEXEC);
        }
        image.argv = argv;
        image.envp = envp;
        let layout = match self.mem.layout(&self.cfg, &image) {
            Ok(l) => l,
            Err(_) => return SysResult::Err(errno::ENOMEM),
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let execs = self.procs[pi].execs + 1;
        let space = space_id(pid, execs);
        let (mm, sp) = match self.new_space(space, &image, layout) {
            Ok(x) => x,
            Err(_) => return SysResult::Err(errno::E2BIG),
        };
        let heap = match self.hook_allocator(&mut image) {
            Ok(h) => h,
            Err(_) => return SysResult::Err(errno::ENOEXEC),
        };
        if let Err(why) = self.mem.place_exec(hw, &self.disk, pid, space, &image) {
            self.sv
                .message(hw, format!("process {pid}: execve of {name}: {why}"));
            return SysResult::Err(if self.mem.page_size().is_some() {
                errno::ENOMEM
            } else {
                errno::ENOEXEC
            });
        }
        let checking = match self.memcheck_image(&image) {
            Ok(c) => c,
            Err(_) => return SysResult::Err(errno::ENOEXEC),
        };
        let c = self.sv.cost().spawn;
        self.sv.charge(hw, c);
        // The point of no return: the old program goes.
        self.exec_teardown(hw, pid);
        for s in &mut image.segments {
            s.data = Vec::new();
        }
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        match heap {
            Some(h) => {
                self.heaps.insert(pid, h);
            }
            None => {
                self.heaps.remove(&pid);
            }
        }
        let p = &mut self.procs[pi];
        p.execs = execs;
        p.stats.execs += 1;
        p.regs = [0; 32];
        p.regs[2] = sp;
        p.pc = image.start_pc();
        p.task.comm = name.bytes().take(15).collect();
        p.image = image;
        p.space = space;
        self.spaces.insert(space, mm);
        if let (Some(c), Some(pi)) = (checking, self.index(pid)) {
            let p = self.procs[pi].clone();
            self.memcheck_start(&p, c);
        }
        // A context switch into the new program: its ASID and translation are new.
        self.switch_out(hw, pid, State::Loading);
        let (mem, mut cx) = self.split(hw);
        match mem.admit(&mut cx, pid) {
            Admit::Ready => {
                if let Some(pi) = self.index(pid) {
                    self.set_state(hw, pi, State::Ready);
                }
                // It runs next, as it would have run on.
                self.ready.push_front(pid);
            }
            Admit::Loading => {}
            Admit::Wait => {
                if let Some(pi) = self.index(pid) {
                    self.set_state(hw, pi, State::WaitingForMemory);
                }
            }
            Admit::Refuse(why) => {
                let k = Kill {
                    addr: 0,
                    pc: self.index(pid).map_or(0, |i| self.procs[i].pc),
                    access: None,
                    cause: "out-of-memory",
                    scheme: self.cfg.scheme.name(),
                    detail: format!("the program execve started cannot be loaded: {why}"),
                };
                self.kill(hw, pid, k);
            }
        }
        SysResult::Block
    }

    /// Every other task of `pid`'s process ends, as Linux's `de_thread` ends them: the
    /// new program starts with one task. (Linux gives a thread that execs its leader's
    /// pid; vmlab keeps pids, so the thread becomes the process, with its own pid, and
    /// takes over the leader's parent and children.)
    fn de_thread(&mut self, hw: &mut dyn Hw, pid: Pid) {
        self.end_other_tasks(hw, pid, State::Exited(0));
        let Some(pi) = self.index(pid) else { return };
        let leader = self.procs[pi].tgid;
        if leader != pid {
            let ppid = self.index(leader).map_or(0, |li| {
                self.procs[li].reaped = true;
                self.procs[li].ppid
            });
            for q in self.procs.iter_mut().filter(|q| q.ppid == leader) {
                q.ppid = pid;
            }
            let p = &mut self.procs[pi];
            p.tgid = pid;
            p.ppid = ppid;
            p.exit_signal = crate::linux::sig::SIGCHLD;
        }
        self.procs[pi].sighand = pid;
    }

    /// Where a program `execve` starts is placed (as the hosted machine places programs at
    /// boot).
    fn exec_placement(&self) -> Placement {
        if self.mem.demand_paged() || self.mem.page_size().is_some() {
            let floor = self.cfg.stack_top.saturating_sub(self.cfg.stack_limit);
            Placement::paged(
                self.cfg.stack_top,
                floor,
                self.mem.page_size().unwrap_or(4096),
            )
        } else {
            Placement::contiguous(self.cfg.stack_top)
        }
    }

    /// Everything of `pid`'s old program goes: its memory, its file mappings, its ASID,
    /// its close-on-exec descriptors, its caught signals, its floating-point state; a
    /// `vfork` parent runs again.
    fn exec_teardown(&mut self, hw: &mut dyn Hw, pid: Pid) {
        self.de_thread(hw, pid);
        self.memcheck_exit(hw, pid);
        if let Some(pi) = self.index(pid) {
            if let Some(parent) = self.procs[pi].vfork_parent.take() {
                self.vfork_done(hw, parent, pid);
            }
        }
        self.file_waits.retain(|&(p, _)| p != pid);
        self.drop_space(hw, pid);
        let closing = self
            .files_mut(pid)
            .map(|t| t.close_on_exec())
            .unwrap_or_default();
        for f in closing {
            self.release_desc(hw, f);
        }
        let Some(pi) = self.index(pid) else { return };
        let t = &mut self.procs[pi].task;
        for act in t.actions.iter_mut() {
            if act[0] != SIG_IGN {
                *act = [0; 3];
            }
        }
        t.altstack = [0, 2, 0];
        t.clear_child_tid = 0;
        t.robust_list = (0, 0);
        t.rseq = None;
        // The new program starts with its floating-point registers zero.
        let p = &mut self.procs[pi];
        p.fp = ([0; 32], 0);
        p.fp_used = false;
        if self.fp_owner == Some(pid) || self.current == Some(pid) {
            hw.set_fp_regs(&[0; 32], 0);
            self.fp_owner = None;
            let mstatus = hw.read_csr(csr::MSTATUS);
            let _ = hw.write_csr(csr::MSTATUS, (mstatus & !(3 << 13)) | 1 << 13);
        }
        // Memory came free: processes waiting for it may fit now.
        for w in self.waits.wake_all(WaitOn::Frame) {
            self.wake(hw, w);
        }
    }
}
