//! Processes that make processes: `clone` as `fork` and `vfork`, the end of a process as
//! its parent sees it (zombies, `SIGCHLD`, reparenting to process 1), and `wait4` and
//! `waitid`.
//!
//! A fork copies the task (registers, with `a0` = 0 in the child, signal actions and
//! mask, limits, working directory), shares the open file descriptions (each gains a
//! reference), gives the child an address space that is a copy of the parent's areas under
//! a new id, and asks the scheme for the memory ([`crate::scheme::Scheme::fork`]): the
//! paging schemes share every page copy-on-write, the others copy what they must. The
//! child is ready at once (the parent runs on, as Linux's default is), unless the scheme is
//! still copying it from the disk.
//!
//! A process that ends stays a zombie — no memory, but its pid and exit status — until its
//! parent collects it with `wait4` or `waitid`; its own children go to process 1 (or, when
//! there is none, are collected by nobody and so at once). vmlab is the parent of the
//! processes it starts: they are collected when they end.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux::sig;
use crate::process::{space_id, Pid, ProcStats, Process, State};
use crate::scheme::Forked;
use crate::services::Event;
use crate::wait::WaitOn;
use vmlab_cpu::csr::addr as csr;

/// `clone` flags (`linux/sched.h`).
pub mod clone {
    /// The signal sent to the parent when the child ends (the low byte).
    pub const CSIGNAL: u64 = 0xff;
    /// Share the address space (threads, `vfork`).
    pub const VM: u64 = 0x100;
    /// Share the working directory and umask.
    pub const FS: u64 = 0x200;
    /// Share the descriptor table.
    pub const FILES: u64 = 0x400;
    /// Share the signal actions.
    pub const SIGHAND: u64 = 0x800;
    /// Return a pidfd.
    pub const PIDFD: u64 = 0x1000;
    /// The parent sleeps until the child execs or ends.
    pub const VFORK: u64 = 0x4000;
    /// The child's parent is the caller's parent.
    pub const PARENT: u64 = 0x8000;
    /// Same thread group.
    pub const THREAD: u64 = 0x1_0000;
    /// The namespaces (`CLONE_NEWNS` ... `CLONE_NEWNET`) and `CLONE_NEWTIME`.
    pub const NAMESPACES: u64 = 0x0002_0000
        | 0x0200_0000
        | 0x0400_0000
        | 0x0800_0000
        | 0x1000_0000
        | 0x2000_0000
        | 0x4000_0000
        | 0x80;
    /// Set the child's thread pointer (`tp`).
    pub const SETTLS: u64 = 0x8_0000;
    /// Write the child's tid at `parent_tid` in the parent.
    pub const PARENT_SETTID: u64 = 0x10_0000;
    /// Clear the child's tid at `child_tid` (and wake a futex there) when it ends.
    pub const CHILD_CLEARTID: u64 = 0x20_0000;
    /// Write the child's tid at `child_tid` in the child.
    pub const CHILD_SETTID: u64 = 0x100_0000;
}

/// `wait4`/`waitid` options.
mod wopt {
    pub const WNOHANG: u64 = 1;
    pub const WUNTRACED: u64 = 2;
    pub const WSTOPPED: u64 = 2;
    pub const WEXITED: u64 = 4;
    pub const WCONTINUED: u64 = 8;
    pub const WNOWAIT: u64 = 0x0100_0000;
    pub const WNOTHREAD: u64 = 0x2000_0000;
    pub const WALL: u64 = 0x4000_0000;
    pub const WCLONE: u64 = 0x8000_0000;
}

/// `waitid` id types.
const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;

/// `siginfo.si_code` for `SIGCHLD`: the child exited, was killed, or dumped core.
const CLD_EXITED: u32 = 1;
const CLD_KILLED: u32 = 2;

/// `sa_flags` bit: the children of a process with it do not become zombies.
const SA_NOCLDWAIT: u64 = 2;

/// Which children a wait is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Any,
    Pid(Pid),
}

impl Kernel {
    /// `clone(flags, stack, parent_tid, tls, child_tid)` (RISC-V's argument order): a new
    /// process (`fork`, `vfork`) or a task that shares the caller's address space
    /// (`CLONE_VM`: a thread with `CLONE_THREAD`, as `pthread_create` makes), its file
    /// table (`CLONE_FILES`) and its signal actions (`CLONE_SIGHAND`).
    pub(super) fn sys_clone(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (flags, stack, parent_tid, tls, child_tid) = (a[0], a[1], a[2], a[3], a[4]);
        // Linux's checks (copy_process), in its order.
        if flags & clone::NAMESPACES != 0 {
            // Unprivileged namespaces are not modelled.
            return SysResult::Err(errno::EPERM);
        }
        if flags & clone::SIGHAND != 0 && flags & clone::VM == 0 {
            return SysResult::Err(errno::EINVAL);
        }
        if flags & clone::THREAD != 0 && flags & clone::SIGHAND == 0 {
            return SysResult::Err(errno::EINVAL);
        }
        if flags & clone::FS != 0 && flags & clone::VM == 0 {
            // (Linux allows CLONE_FS alone; vmlab keeps cwd per task and cannot share it.)
            return SysResult::Err(errno::EINVAL);
        }
        if flags & clone::PIDFD != 0 {
            // (pidfds are not modelled.)
            return SysResult::Err(errno::EINVAL);
        }
        // A thread's end signals nobody (Linux ignores the low byte with CLONE_THREAD).
        let exit_signal = if flags & clone::THREAD != 0 {
            0
        } else {
            flags & clone::CSIGNAL
        };
        if exit_signal > sig::MAX {
            return SysResult::Err(errno::EINVAL);
        }
        self.fork(
            hw,
            pid,
            ForkArgs {
                flags,
                stack,
                parent_tid,
                tls,
                child_tid,
                exit_signal,
            },
        )
    }

    /// `clone3(args, size)`: not served (glibc then uses `clone`).
    pub(super) fn sys_clone3(&mut self, _hw: &mut dyn Hw, _pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Err(errno::ENOSYS)
    }

    /// The processes that count against `os.max_processes`: every one not yet collected.
    fn live_processes(&self) -> u64 {
        self.procs.iter().filter(|p| !p.reaped).count() as u64
    }

    /// Makes the child of a `clone`: a copy of the caller's address space (a fork, or a
    /// `vfork`), or with `CLONE_VM` the same one (a thread).
    fn fork(&mut self, hw: &mut dyn Hw, pid: Pid, f: ForkArgs) -> SysResult {
        // A vfork child borrows the parent's memory where the scheme lets two tasks share
        // a space (the parent sleeps until the child execs or ends); elsewhere it gets a
        // copy, which a correct vfork child (it only execs or `_exit`s) cannot tell.
        let vfork = f.flags & clone::VFORK != 0;
        let share_vm = f.flags & clone::VM != 0 && (!vfork || self.mem.shares_spaces());
        let thread = f.flags & clone::THREAD != 0;
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        if self.live_processes() >= self.cfg.max_processes {
            self.sv.stats.forks_failed += 1;
            return SysResult::Err(errno::EAGAIN);
        }
        let child = self.next_pid;
        // The parent's copy of the child's tid first: a page it must fault in makes the
        // call run again before anything is made.
        if f.flags & clone::PARENT_SETTID != 0 {
            if let Err(e) = self.copy_to_user(hw, pid, f.parent_tid, &child.to_le_bytes()) {
                return e.into();
            }
        }
        let c = self.sv.cost().fork;
        self.sv.charge(hw, c);
        let parent = &self.procs[pi];
        let space = if share_vm {
            parent.space
        } else {
            space_id(child, 0)
        };
        let Some(mm) = self.spaces.get(&parent.space).cloned() else {
            return SysResult::Err(errno::ENOMEM);
        };
        let mut regs = parent.regs;
        regs[10] = 0;
        if f.stack != 0 {
            regs[2] = f.stack;
        }
        if f.flags & clone::SETTLS != 0 {
            regs[4] = f.tls;
        }
        // The FP registers as they are now (the parent holds the hart's).
        let (fregs, fcsr) = hw.fp_regs();
        let fs_dirty = (hw.read_csr(csr::MSTATUS) >> 13) & 3 == 3;
        let mut image = parent.image.clone();
        for s in &mut image.segments {
            // (The bytes were placed on the disk at boot; the child needs none.)
            s.data = Vec::new();
        }
        let mut task = parent.task.clone();
        task.pending = 0;
        task.clear_child_tid = if f.flags & clone::CHILD_CLEARTID != 0 {
            f.child_tid
        } else {
            0
        };
        task.robust_list = (0, 0);
        // The parent is a thread group: the caller's, or with CLONE_PARENT or
        // CLONE_THREAD the caller's parent.
        let ppid = if f.flags & (clone::PARENT | clone::THREAD) != 0 {
            parent.ppid
        } else {
            parent.tgid
        };
        let share_files = f.flags & clone::FILES != 0;
        let files = if share_files {
            parent.files
        } else {
            crate::process::FilesId::from(child)
        };
        let table = self
            .file_tables
            .get(&parent.files)
            .cloned()
            .unwrap_or_default();
        let p = Process {
            pid: child,
            image,
            state: State::Loading,
            regs,
            pc: parent.pc,
            space,
            asid: 0,
            since: 0,
            insns_since: 0,
            blocked_at: 0,
            files,
            stats: ProcStats::default(),
            task,
            fp: if fs_dirty || self.fp_owner == Some(pid) {
                (fregs, fcsr)
            } else {
                parent.fp
            },
            fp_used: parent.fp_used || fs_dirty,
            ppid,
            reaped: false,
            exit_signal: f.exit_signal,
            set_child_tid: if f.flags & clone::CHILD_SETTID != 0 {
                f.child_tid
            } else {
                0
            },
            vfork_parent: (f.flags & clone::VFORK != 0).then_some(pid),
            execs: 0,
            tgid: if thread { parent.tgid } else { child },
            sighand: if f.flags & clone::SIGHAND != 0 {
                parent.sighand
            } else {
                child
            },
        };
        if !share_vm {
            let mut mm = mm;
            mm.id = space;
            self.spaces.insert(space, mm);
        }
        self.procs.push(p);
        let (mem, mut cx) = self.split(hw);
        let forked = if share_vm {
            match mem.share_space(&mut cx, pid, child) {
                Ok(()) => Forked::Ready,
                Err(why) => Forked::Unsupported(why),
            }
        } else {
            mem.fork(&mut cx, pid, child)
        };
        let failed = match forked {
            Forked::Ready | Forked::Loading => None,
            Forked::Busy(on) => Some(Err(on)),
            Forked::NoMemory(_) => Some(Ok(errno::ENOMEM)),
            Forked::Unsupported(_) => Some(Ok(errno::ENOSYS)),
        };
        if let Some(why) = failed {
            // Nothing of the child stays.
            self.procs.pop();
            if !share_vm {
                self.spaces.remove(&space);
            }
            return match why {
                Ok(e) => {
                    self.sv.stats.forks_failed += 1;
                    SysResult::Err(e)
                }
                Err(on) => {
                    // The parent waits for the page in transfer, then forks again.
                    self.waits.wait(pid, on);
                    self.block(hw, pid);
                    SysResult::Restart
                }
            };
        }
        // From here the child exists.
        self.next_pid += 1;
        self.shm_forked(hw, pid, child);
        if !share_files {
            // The child's descriptors refer to the same open file descriptions and pipe
            // ends.
            self.dup_table_refs(&table);
            self.file_tables.insert(files, table);
        }
        if !share_vm {
            if let Some(h) = self.heaps.get(&pid).cloned() {
                self.heaps.insert(child, h);
            }
        }
        self.sv.stats.spawned += 1;
        if share_vm && !vfork {
            self.sv.stats.threads += 1;
        } else {
            self.sv.stats.forks += 1;
        }
        let name = self.procs[pi].image.name.clone();
        self.sv.event(hw, Event::Spawn { pid: child, name });
        let ci = self.procs.len() - 1;
        if self.tracing() {
            self.trace_state(hw, ci);
        }
        match forked {
            Forked::Loading => {}
            _ => {
                self.set_state(hw, ci, State::Ready);
                self.ready.push_back(child);
            }
        }
        if f.flags & clone::VFORK != 0 {
            // The parent sleeps until the child execs or ends; then `clone` returns the
            // child's pid.
            self.procs[pi].regs[10] = u64::from(child);
            self.waits.wait(pid, WaitOn::Vfork { child });
            self.block(hw, pid);
            return SysResult::Block;
        }
        SysResult::Ret(u64::from(child))
    }

    /// A process that waits for a frame inside `clone` (to fork again once one is free)
    /// when no frame will ever come: the call fails with `ENOMEM` instead, and the process
    /// runs on. False if `pid` is not waiting in `clone`.
    pub(super) fn fail_waiting_fork(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let p = &self.procs[pi];
        // (A restarted call waits with its pc back on the ecall.)
        if p.state != State::Blocked || p.regs[17] != super::sys::CLONE {
            return false;
        }
        self.waits.cancel(pid);
        let p = &mut self.procs[pi];
        p.regs[10] = errno::ENOMEM.wrapping_neg();
        p.pc = p.pc.wrapping_add(4);
        p.stats.syscalls += 1;
        self.sv.stats.syscalls += 1;
        self.sv.stats.forks_failed += 1;
        self.wake(hw, pid);
        true
    }

    /// Writes a new child's tid where `CLONE_CHILD_SETTID` asked, in its own memory, as it
    /// is about to run for the first time. False if it cannot run now (the page must be
    /// brought in or copied first and it waits for that, or it died).
    pub(super) fn child_settid(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        for _ in 0..4 {
            let Some(pi) = self.index(pid) else {
                return false;
            };
            let at = self.procs[pi].set_child_tid;
            if at == 0 {
                return true;
            }
            match self.copy_to_user(hw, pid, at, &pid.to_le_bytes()) {
                Ok(()) | Err(super::CopyFault::Fault) => {
                    // (A bad address is ignored, as Linux ignores it.)
                    self.procs[pi].set_child_tid = 0;
                    return true;
                }
                Err(super::CopyFault::Restart) => {
                    let runnable = self
                        .index(pid)
                        .is_some_and(|i| matches!(self.procs[i].state, State::Ready));
                    if !runnable {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The end of `pid` as its family sees it: its children go to process 1 (or to
    /// nobody); its parent gets its exit signal and is woken from `wait4`; a `vfork`
    /// parent runs again. With no parent to collect it, it is collected now.
    pub(super) fn notify_end(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(pi) = self.index(pid) else { return };
        // Orphans: to process 1 while it lives (init adopts them), else to nobody.
        let init_alive = pid != 1 && !self.group_tasks(1).is_empty();
        let mut adopted_zombie = false;
        for q in self.procs.iter_mut().filter(|q| q.ppid == pid && !q.reaped) {
            if init_alive {
                q.ppid = 1;
                adopted_zombie |= q.state.ended();
            } else {
                q.ppid = 0;
                if q.state.ended() {
                    q.reaped = true;
                }
            }
        }
        if adopted_zombie {
            for w in self.waits.wake_all(WaitOn::Child { parent: 1 }) {
                self.wake(hw, w);
            }
        }
        if let Some(parent) = self.procs[pi].vfork_parent.take() {
            self.vfork_done(hw, parent, pid);
        }
        // The parent is a process: any of its tasks still running hears of it.
        let ppid = self.procs[pi].ppid;
        let parent = (ppid != 0).then(|| self.group_target(ppid)).flatten();
        let Some(ppi) = parent.and_then(|p| self.index(p)) else {
            self.procs[pi].reaped = true;
            return;
        };
        // A parent that ignores SIGCHLD (or asked for SA_NOCLDWAIT) makes no zombies.
        let [handler, flags, _] = self.procs[ppi].task.actions[sig::SIGCHLD as usize];
        if handler == 1 || flags & SA_NOCLDWAIT != 0 {
            self.procs[pi].reaped = true;
        }
        let exit_signal = self.procs[pi].exit_signal;
        if exit_signal != 0 {
            let code = match self.procs[pi].state {
                State::Killed(_) => CLD_KILLED,
                _ => CLD_EXITED,
            };
            let uid = crate::exec::GUEST_UID as u32;
            let info = sig::Info::sent(exit_signal, code as i32, pid, uid);
            let to = self.procs[ppi].pid;
            self.send_signal(hw, pid, to, info);
        }
        for w in self.waits.wake_all(WaitOn::Child { parent: ppid }) {
            self.wake(hw, w);
        }
    }

    /// The `vfork` child `child` of `parent` execs or ends: the parent runs again.
    pub(super) fn vfork_done(&mut self, hw: &mut dyn Hw, parent: Pid, child: Pid) {
        for w in self.waits.wake_all(WaitOn::Vfork { child }) {
            if w == parent {
                self.wake(hw, w);
            }
        }
    }

    /// The children of `pid`'s process a wait for `which` is about, oldest first: whether
    /// there is any, and the first ended one's index (a process has ended when its last
    /// task has; its threads are never waited for).
    fn waitable(&self, pid: Pid, which: Which) -> (bool, Option<usize>) {
        let tgid = self.tgid_of(pid);
        let mut any = false;
        for (i, q) in self.procs.iter().enumerate() {
            if q.ppid != tgid || q.reaped || q.pid != q.tgid {
                continue;
            }
            if let Which::Pid(c) = which {
                if q.pid != c {
                    continue;
                }
            }
            any = true;
            if q.state.ended() && self.group_tasks(q.pid).is_empty() {
                return (true, Some(i));
            }
        }
        (any, None)
    }

    /// Whether `pid`'s process has an ended child not yet collected (a `wait4` for any
    /// child would return at once).
    pub(super) fn has_ended_child(&self, pid: Pid) -> bool {
        self.waitable(pid, Which::Any).1.is_some()
    }

    /// The wait status `wait4` reports for the ended process at `qi`: the exit code in
    /// bits 8 to 15, or the signal that killed it in bits 0 to 6 (no core: `RLIMIT_CORE`
    /// is 0).
    fn wait_status(&self, qi: usize) -> u32 {
        match &self.procs[qi].state {
            State::Exited(c) => ((*c as u32) & 0xff) << 8,
            State::Killed(k) => u32::from(k.signal()) & 0x7f,
            _ => 0,
        }
    }

    /// Collects the zombie at `qi`.
    fn reap(&mut self, qi: usize) {
        self.procs[qi].reaped = true;
        self.sv.stats.reaped += 1;
    }

    /// The `struct rusage` of the ended process at `qi` (144 bytes): its cycles as user
    /// time, the rest zero.
    fn rusage_bytes(&self, qi: usize) -> Vec<u8> {
        let mut b = vec![0u8; 144];
        let ns = self.procs[qi].stats.cycles.saturating_mul(1_000_000_000) / self.clock_hz;
        b[0..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        b[8..16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
        b
    }

    /// Blocks `pid` until one of its children ends; the call then runs again.
    fn wait_for_child(&mut self, hw: &mut dyn Hw, pid: Pid) -> SysResult {
        let parent = self.tgid_of(pid);
        self.waits.wait(pid, WaitOn::Child { parent });
        self.block(hw, pid);
        SysResult::Restart
    }

    /// `wait4(pid, wstatus, options, rusage)`.
    pub(super) fn sys_wait4(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, wstatus, options, rusage) = (a[0] as i32, a[1], a[2], a[3]);
        let valid = wopt::WNOHANG
            | wopt::WUNTRACED
            | wopt::WCONTINUED
            | wopt::WNOTHREAD
            | wopt::WALL
            | wopt::WCLONE;
        if options & !valid != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let which = match target {
            t if t > 0 => Which::Pid(t as Pid),
            // -1: any child; 0 and -pgid: the process group, and every process of a run
            // is in one group.
            i32::MIN => return SysResult::Err(errno::ESRCH),
            _ => Which::Any,
        };
        let (any, zombie) = self.waitable(pid, which);
        if !any {
            return SysResult::Err(errno::ECHILD);
        }
        let Some(qi) = zombie else {
            if options & wopt::WNOHANG != 0 {
                return SysResult::Ret(0);
            }
            return self.wait_for_child(hw, pid);
        };
        let status = self.wait_status(qi);
        let child = self.procs[qi].pid;
        let usage = self.rusage_bytes(qi);
        if wstatus != 0 {
            if let Err(e) = self.copy_to_user(hw, pid, wstatus, &status.to_le_bytes()) {
                return e.into();
            }
        }
        if rusage != 0 {
            if let Err(e) = self.copy_to_user(hw, pid, rusage, &usage) {
                return e.into();
            }
        }
        if let Some(qi) = self.index(child) {
            self.reap(qi);
        }
        SysResult::Ret(u64::from(child))
    }

    /// `waitid(idtype, id, infop, options, rusage)`.
    pub(super) fn sys_waitid(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (idtype, id, infop, options, rusage) = (a[0], a[1] as u32, a[2], a[3], a[4]);
        let valid = wopt::WNOHANG
            | wopt::WSTOPPED
            | wopt::WEXITED
            | wopt::WCONTINUED
            | wopt::WNOWAIT
            | wopt::WNOTHREAD
            | wopt::WALL
            | wopt::WCLONE;
        if options & !valid != 0
            || options & (wopt::WEXITED | wopt::WSTOPPED | wopt::WCONTINUED) == 0
        {
            return SysResult::Err(errno::EINVAL);
        }
        let which = match idtype {
            P_ALL => Which::Any,
            P_PID if id > 0 => Which::Pid(id),
            P_PGID => Which::Any,
            _ => return SysResult::Err(errno::EINVAL),
        };
        let (any, zombie) = self.waitable(pid, which);
        if !any {
            return SysResult::Err(errno::ECHILD);
        }
        // Only ends are reported (nothing in vmlab stops or continues).
        let zombie = zombie.filter(|_| options & wopt::WEXITED != 0);
        let mut info = [0u8; 128];
        let Some(qi) = zombie else {
            if options & wopt::WNOHANG != 0 {
                // No child in a waitable state: the fields Linux sets are zero.
                if infop != 0 {
                    if let Err(e) = self.copy_to_user(hw, pid, infop, &info[..32]) {
                        return e.into();
                    }
                }
                return SysResult::Ret(0);
            }
            return self.wait_for_child(hw, pid);
        };
        let (code, status) = match &self.procs[qi].state {
            State::Exited(c) => (CLD_EXITED, (*c as u32) & 0xff),
            State::Killed(k) => (CLD_KILLED, u32::from(k.signal())),
            _ => (CLD_EXITED, 0),
        };
        let child = self.procs[qi].pid;
        info[0..4].copy_from_slice(&(sig::SIGCHLD as u32).to_le_bytes());
        info[8..12].copy_from_slice(&code.to_le_bytes());
        info[16..20].copy_from_slice(&child.to_le_bytes());
        info[20..24].copy_from_slice(&(crate::exec::GUEST_UID as u32).to_le_bytes());
        info[24..28].copy_from_slice(&status.to_le_bytes());
        let usage = self.rusage_bytes(qi);
        info[32..40].copy_from_slice(&self.clock_ticks(self.procs[qi].stats.cycles));
        if infop != 0 {
            if let Err(e) = self.copy_to_user(hw, pid, infop, &info) {
                return e.into();
            }
        }
        if rusage != 0 {
            if let Err(e) = self.copy_to_user(hw, pid, rusage, &usage) {
                return e.into();
            }
        }
        if options & wopt::WNOWAIT == 0 {
            if let Some(qi) = self.index(child) {
                self.reap(qi);
            }
        }
        SysResult::Ret(0)
    }

    /// `cycles` as clock ticks (`si_utime` is in `USER_HZ`, 100 a second), as 8 bytes.
    fn clock_ticks(&self, cycles: u64) -> [u8; 8] {
        (cycles.saturating_mul(100) / self.clock_hz).to_le_bytes()
    }
}

/// What a `clone` asked for.
#[derive(Clone, Copy, Debug)]
struct ForkArgs {
    flags: u64,
    stack: u64,
    parent_tid: u64,
    tls: u64,
    child_tid: u64,
    exit_signal: u64,
}
