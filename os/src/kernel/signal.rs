//! Signals: actions, the mask, the alternate stack, signals a process sends (`kill`,
//! `tkill`, `tgkill`, and so `raise` and `abort`), the faults that become signals, and
//! handlers, run on a signal frame as Linux RISC-V builds it.
//!
//! A signal sent is pending until the process's mask lets it through; then its action is
//! taken when the process next returns to user mode (as a system call returns, or when it
//! is switched in): the default action of most signals ends the process (`abort()` ends
//! with `SIGABRT`, status 134), some are ignored, as is any signal whose action is
//! `SIG_IGN`. A handler runs as Linux's `setup_rt_frame` (`arch/riscv/kernel/signal.c`)
//! starts it: a `struct rt_sigframe` (the `siginfo_t`, then a `ucontext` with the
//! interrupted registers, FP state and mask: [`crate::linux::sig::frame`]) goes below the
//! stack pointer (or at the top of the alternate stack, with `SA_ONSTACK`), aligned to
//! 16; the handler starts with `a0` = the signal, `a1` = the `siginfo_t`, `a2` = the
//! `ucontext`, `sp` = the frame, and `ra` = [`crate::linux::sig::TRAMPOLINE`], an address
//! nothing is ever mapped at: Linux points `ra` at its vDSO's `rt_sigreturn` trampoline,
//! and vmlab, which has no vDSO, takes the fetch fault of a handler's return to exactly
//! that address as the `rt_sigreturn` system call. `rt_sigreturn` (139, also callable with
//! `ecall`) restores every register, the pc, the FP registers and `fcsr`, the mask and
//! the alternate stack from the frame at `sp`; a frame it cannot read, or whose reserved
//! FP words are not zero, ends the process with `SIGSEGV`, as Linux's `badframe` does.
//! While the handler runs, its `sa_mask` and (unless `SA_NODEFER`) the signal itself are
//! blocked; `SA_RESETHAND` resets the action to `SIG_DFL` as the handler is entered.
//!
//! A fault that would kill the process ([`Kernel::fault_signal`]: no mapping, a
//! permission, the stack limit, a bound or segment limit → `SIGSEGV`; a misaligned access
//! that cannot be emulated, a failed page-in or a page past a mapped file's end →
//! `SIGBUS`; an illegal instruction → `SIGILL`; `ebreak` → `SIGTRAP`) goes to the
//! process's handler for that signal, with `si_code` and `si_addr` as Linux gives them;
//! when the signal is blocked or ignored the default action ends the process, as Linux's
//! `force_sig_fault` does. A handler that returns runs the faulting instruction again.
//!
//! Only the running process takes a handler: a signal sent to another one stays pending
//! until that process is switched in. A sleep (`nanosleep`, `clock_nanosleep`) that a
//! handled signal reaches ends at once with `EINTR` and the time left in `rem`, as on
//! Linux (with or without `SA_RESTART`); other blocking (a disk read, a page-in) is not
//! cut short: the handler runs when the process runs again, and a call that restarts
//! after a page-in runs again after the handler, as with `SA_RESTART`.
//! `rt_sigsuspend` waits with a temporary mask until a signal runs a handler (whose frame
//! saves the mask from before the call) or ends the process.

use super::syscalls::{CopyFault, SysResult};
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux::sig::{self, code, flags, frame, Info, Saved, TRAMPOLINE};
use crate::process::{Access, Kill, Pid, State};
use crate::services::Event;
use vmlab_cpu::csr::addr as csr;

/// `sa_handler` values.
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// `rt_sigprocmask` operations.
const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;
/// `sigaltstack` flags.
const SS_ONSTACK: u64 = 1;
const SS_DISABLE: u64 = 2;
const SS_AUTODISARM: u64 = 1 << 31;
/// The `rt_sigreturn` system call.
const RT_SIGRETURN: u64 = 139;
use super::errno::EINTR;
/// The `nanosleep` system call (the other sleep is `clock_nanosleep`).
const NANOSLEEP: u64 = 101;
/// `clock_nanosleep` flag: the time is absolute.
const TIMER_ABSTIME: u64 = 1;

/// What `rt_sigreturn` could not do with a frame.
const READ_BACK: &str =
    "read back by rt_sigreturn (it must be readable, with the reserved words of its FP state zero)";
/// The cause of a kill by a signal frame that could not be written or read back.
const BAD_FRAME: &str = "signal-frame";
/// The smallest alternate stack (`MINSIGSTKSZ` on RISC-V).
const MINSIGSTKSZ: u64 = 2048;

/// The bit of signal `n` in a mask.
fn bit(n: u64) -> u64 {
    1 << (n - 1)
}

/// Signals that can be neither blocked nor caught.
const UNBLOCKABLE: u64 = (1 << (sig::SIGKILL - 1)) | (1 << (sig::SIGSTOP - 1));

impl Kernel {
    /// `rt_sigaction(sig, act, oact, sigsetsize)`: a `struct sigaction` is `sa_handler`,
    /// `sa_flags`, `sa_mask` (24 bytes on RISC-V, which has no `sa_restorer`).
    pub(super) fn sys_rt_sigaction(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (n, act, oact, size) = (a[0], a[1], a[2], a[3]);
        if size != 8 || n == 0 || n > sig::MAX {
            return SysResult::Err(errno::EINVAL);
        }
        let new = if act != 0 {
            if n == sig::SIGKILL || n == sig::SIGSTOP {
                return SysResult::Err(errno::EINVAL);
            }
            match self.copy_from_user(hw, pid, act, 24) {
                Ok(b) => {
                    let w = |i: usize| {
                        u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default())
                    };
                    Some([w(0), w(1), w(2) & !UNBLOCKABLE])
                }
                Err(f) => return f.into(),
            }
        } else {
            None
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let old = self.procs[pi].task.actions[n as usize];
        if oact != 0 {
            let bytes: Vec<u8> = old.iter().flat_map(|w| w.to_le_bytes()).collect();
            if let Err(f) = self.copy_to_user(hw, pid, oact, &bytes) {
                return f.into();
            }
        }
        if let (Some(new), Some(pi)) = (new, self.index(pid)) {
            // Every task that shares the actions (CLONE_SIGHAND: the threads of a
            // process) sees the change.
            let sighand = self.procs[pi].sighand;
            let sharers: Vec<usize> = (0..self.procs.len())
                .filter(|&i| self.procs[i].sighand == sighand && !self.procs[i].state.ended())
                .collect();
            for qi in sharers {
                self.procs[qi].task.actions[n as usize] = new;
                // Setting a pending signal's action to ignore discards it.
                if self.ignored(qi, n) {
                    self.procs[qi].task.pending &= !bit(n);
                    self.procs[qi].task.pending_info.remove(&n);
                }
            }
        }
        SysResult::Ret(0)
    }

    /// Whether signal `n` is ignored by the process at `pi` (`SIG_IGN`, or a default action
    /// of ignoring it).
    fn ignored(&self, pi: usize, n: u64) -> bool {
        match self.procs[pi].task.actions[n as usize][0] {
            SIG_IGN => true,
            SIG_DFL => matches!(
                sig::default_action(n),
                sig::Default::Ignore | sig::Default::Stop
            ),
            _ => false,
        }
    }

    /// `rt_sigprocmask(how, set, oset, sigsetsize)`.
    pub(super) fn sys_rt_sigprocmask(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        let (how, set, oset, size) = (a[0], a[1], a[2], a[3]);
        if size != 8 {
            return SysResult::Err(errno::EINVAL);
        }
        let new = if set != 0 {
            if how > SIG_SETMASK {
                return SysResult::Err(errno::EINVAL);
            }
            match self.copy_from_user(hw, pid, set, 8) {
                Ok(b) => Some(u64::from_le_bytes(b[..8].try_into().unwrap_or_default())),
                Err(f) => return f.into(),
            }
        } else {
            None
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let old = self.procs[pi].task.mask;
        if oset != 0 {
            if let Err(f) = self.copy_to_user(hw, pid, oset, &old.to_le_bytes()) {
                return f.into();
            }
        }
        if let (Some(set), Some(pi)) = (new, self.index(pid)) {
            let mask = match how {
                SIG_BLOCK => old | set,
                SIG_UNBLOCK => old & !set,
                _ => set,
            };
            self.procs[pi].task.mask = mask & !UNBLOCKABLE;
        }
        SysResult::Ret(0)
    }

    /// `rt_sigpending(set, sigsetsize)`: the pending signals the mask blocks.
    pub(super) fn sys_rt_sigpending(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        let (set, size) = (a[0], a[1]);
        if size > 8 {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let t = &self.procs[pi].task;
        let bytes = (t.pending & t.mask).to_le_bytes();
        match self.copy_to_user(hw, pid, set, &bytes[..size as usize]) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` in place of the process's mask
    /// until a signal arrives that runs a handler (the call then fails with `EINTR`, and
    /// the handler's frame saves the mask from before the call, which `rt_sigreturn`
    /// restores) or ends the process. A signal already pending that the new mask lets
    /// through acts at once.
    pub(super) fn sys_rt_sigsuspend(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        if a[1] != 8 {
            return SysResult::Err(errno::EINVAL);
        }
        let mask = match self.copy_from_user(hw, pid, a[0], 8) {
            Ok(b) => u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
            Err(f) => return f.into(),
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let t = &mut self.procs[pi].task;
        let old = t.mask;
        t.saved_mask.get_or_insert(old);
        t.mask = mask & !UNBLOCKABLE;
        if self.takes_a_signal(pi) {
            return SysResult::Err(EINTR);
        }
        // (What the call returns when a signal wakes it.)
        self.procs[pi].regs[10] = EINTR.wrapping_neg();
        self.block(hw, pid);
        SysResult::Block
    }

    /// Whether the process at `pi` has a pending signal its mask lets through that is not
    /// ignored: one that runs a handler or ends it.
    fn takes_a_signal(&self, pi: usize) -> bool {
        let t = &self.procs[pi].task;
        let ready = t.pending & !(t.mask & !UNBLOCKABLE);
        (1..=sig::MAX).any(|n| ready & bit(n) != 0 && (n == sig::SIGKILL || !self.ignored(pi, n)))
    }

    /// `sigaltstack(ss, old_ss)`: a `stack_t` is `ss_sp`, `ss_flags` (int, padded), `ss_size`.
    /// The old one reports `SS_ONSTACK` while a handler runs on it, which may then not
    /// change it (`EPERM`), as Linux's `do_sigaltstack`.
    pub(super) fn sys_sigaltstack(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (ss, old) = (a[0], a[1]);
        let new = if ss != 0 {
            match self.copy_from_user(hw, pid, ss, 24) {
                Ok(b) => {
                    let w = |i: usize| {
                        u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default())
                    };
                    match altstack_of([w(0), w(1), w(2)]) {
                        Ok(n) => Some(n),
                        Err(e) => return SysResult::Err(e),
                    }
                }
                Err(f) => return f.into(),
            }
        } else {
            None
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let sp = self.procs[pi].regs[2];
        let cur = self.procs[pi].task.altstack;
        if old != 0 {
            let bytes: Vec<u8> = reported_altstack(cur, sp)
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            if let Err(f) = self.copy_to_user(hw, pid, old, &bytes) {
                return f.into();
            }
        }
        if let (Some(n), Some(pi)) = (new, self.index(pid)) {
            if on_altstack(cur, sp) {
                return SysResult::Err(errno::EPERM);
            }
            self.procs[pi].task.altstack = n;
        }
        SysResult::Ret(0)
    }

    /// `kill(pid, sig)`: to a process (0 and -1 mean every process of the run, as they are
    /// one group of one user); of its tasks, the leader takes it while it runs.
    pub(super) fn sys_kill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, n) = (a[0] as i64, a[1]);
        if n > sig::MAX {
            return SysResult::Err(errno::EINVAL);
        }
        let groups: Vec<Pid> = match target {
            0 | -1 => {
                let mut g: Vec<Pid> = self
                    .procs
                    .iter()
                    .filter(|p| !p.state.ended())
                    .map(|p| p.tgid)
                    .collect();
                g.sort_unstable();
                g.dedup();
                g
            }
            t if t > 0 && t <= i64::from(u32::MAX) => vec![self.tgid_of(t as Pid)],
            t if t < -1 && -t <= i64::from(u32::MAX) => vec![self.tgid_of((-t) as Pid)],
            _ => return SysResult::Err(errno::ESRCH),
        };
        // Of a process's tasks, the signal goes to one that does not block it (the leader
        // first), as Linux's complete_signal chooses; if every task blocks it, to the
        // leader, where it stays pending.
        let targets: Vec<Pid> = groups
            .into_iter()
            .filter_map(|g| {
                let tasks = self.group_tasks(g);
                let open = |t: &Pid| {
                    self.index(*t)
                        .is_some_and(|i| n == 0 || self.procs[i].task.mask & bit(n) == 0)
                };
                let leader = tasks.iter().find(|&&t| t == g).filter(|t| open(t));
                leader
                    .or_else(|| tasks.iter().find(|t| open(t)))
                    .copied()
                    .or_else(|| self.group_target(g))
            })
            .collect();
        self.send_to(hw, pid, &targets, n, code::SI_USER)
    }

    /// `kill`, `tkill` and `tgkill`'s work: signal `n` from `pid` to the tasks `targets`,
    /// with `si_code` `how`; `ESRCH` when there is none.
    fn send_to(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        targets: &[Pid],
        n: u64,
        how: i32,
    ) -> SysResult {
        if n > sig::MAX {
            return SysResult::Err(errno::EINVAL);
        }
        let mut any = false;
        for &t in targets {
            if self.index(t).is_some_and(|i| !self.procs[i].state.ended()) {
                any = true;
                if n != 0 {
                    let uid = crate::exec::GUEST_UID as u32;
                    // (si_pid is the sender's process id.)
                    let info = Info::sent(n, how, self.tgid_of(pid), uid);
                    self.send_signal(hw, pid, t, info);
                }
            }
        }
        if any {
            SysResult::Ret(0)
        } else {
            SysResult::Err(errno::ESRCH)
        }
    }

    /// `tkill(tid, sig)`: to one task.
    pub(super) fn sys_tkill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let tid = a[0] as i64;
        if tid <= 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let target = u32::try_from(tid).unwrap_or(0);
        self.send_to(hw, pid, &[target], a[1], code::SI_TKILL)
    }

    /// `tgkill(tgid, tid, sig)`: to task `tid` if it is of process `tgid`.
    pub(super) fn sys_tgkill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (tgid, tid) = (a[0] as i64, a[1] as i64);
        if tgid <= 0 || tid <= 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let (tgid, tid) = (
            u32::try_from(tgid).unwrap_or(0),
            u32::try_from(tid).unwrap_or(0),
        );
        let of_group = self.index(tid).is_some_and(|i| self.procs[i].tgid == tgid);
        if !of_group {
            return SysResult::Err(errno::ESRCH);
        }
        self.send_to(hw, pid, &[tid], a[2], code::SI_TKILL)
    }

    /// Makes the signal pending for `to` (unless it is ignored and not blocked: a blocked
    /// signal stays, as its action may change before it is unblocked); a process other
    /// than the sender takes a default action at once (it is not running), a handler when
    /// it next runs.
    pub(super) fn send_signal(&mut self, hw: &mut dyn Hw, from: Pid, to: Pid, info: Info) {
        let n = info.signo;
        let Some(pi) = self.index(to) else { return };
        let blocked = self.procs[pi].task.mask & bit(n) != 0;
        if n != sig::SIGKILL && !blocked && self.ignored(pi, n) {
            return;
        }
        let t = &mut self.procs[pi].task;
        if t.pending & bit(n) == 0 {
            t.pending |= bit(n);
            t.pending_info.insert(n, info);
        }
        if to != from {
            if self.handled_signal_ready(to) {
                self.interrupt_futex(hw, to);
                self.interrupt_wait(hw, to);
            }
            self.interrupt_sleep(hw, to);
            // A process waiting in rt_sigsuspend for a signal it now takes runs again.
            if let Some(pi) = self.index(to) {
                let p = &self.procs[pi];
                if p.state == State::Blocked
                    && p.task.saved_mask.is_some()
                    && self.takes_a_signal(pi)
                    && !self.waits.waits(to)
                    && !self.sleepers.iter().any(|&(_, q)| q == to)
                {
                    self.wake(hw, to);
                }
            }
            self.deliver_signals(hw, to);
        }
    }

    /// A handled signal reached `pid`, blocked in an interruptible wait — a pipe `read` or
    /// `write`, `wait4`/`waitid` — whose call runs again when woken: it wakes now. With
    /// `SA_RESTART` the call runs again after the handler (Linux's restart), else it fails
    /// with `EINTR`; a `write` that moved bytes before it waited returns their count.
    fn interrupt_wait(&mut self, hw: &mut dyn Hw, pid: Pid) {
        use crate::wait::WaitOn;
        let Some(pi) = self.index(pid) else { return };
        if self.procs[pi].state != State::Blocked {
            return;
        }
        let on = self.waits.waiting_on(pid);
        let interruptible = |w: &WaitOn| {
            matches!(
                w,
                WaitOn::PipeReadable { .. } | WaitOn::PipeWritable { .. } | WaitOn::Child { .. }
            )
        };
        if on.is_empty() || !on.iter().all(interruptible) {
            return;
        }
        let p = &self.procs[pi];
        let ready = p.task.pending & !(p.task.mask & !UNBLOCKABLE);
        let n = u64::from(ready.trailing_zeros()) + 1;
        // A wait4 whose child has just ended (its SIGCHLD is the signal) returns the child,
        // as Linux's do_wait looks at the children before at the signals: it runs again.
        let child_ended =
            on.iter().any(|w| matches!(w, WaitOn::Child { .. })) && self.has_ended_child(pid);
        let restart = child_ended || p.task.actions[n as usize][1] & flags::SA_RESTART != 0;
        let moved = self.io_carry.remove(&pid).filter(|&c| c > 0);
        self.waits.cancel(pid);
        if moved.is_some() || !restart {
            // The call ends here (its pc was put back on the ecall to run it again).
            let p = &mut self.procs[pi];
            p.regs[10] = moved.unwrap_or(EINTR.wrapping_neg());
            p.pc = p.pc.wrapping_add(4);
            p.stats.syscalls += 1;
            self.sv.stats.syscalls += 1;
        }
        self.wake(hw, pid);
    }

    /// Whether the first signal `pid` would take now (pending, not blocked) is one it has
    /// a handler for.
    fn handled_signal_ready(&self, pid: Pid) -> bool {
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let p = &self.procs[pi];
        let ready = p.task.pending & !(p.task.mask & !UNBLOCKABLE);
        if ready == 0 {
            return false;
        }
        let n = u64::from(ready.trailing_zeros()) + 1;
        n != sig::SIGKILL && !matches!(p.task.actions[n as usize][0], SIG_DFL | SIG_IGN)
    }

    /// A sleeping `pid` (`nanosleep`, `clock_nanosleep`) with a signal to take for which
    /// it has a handler wakes at once: the call fails with `EINTR` (whatever `SA_RESTART`
    /// says, as Linux's sleeps do), and a relative sleep's `rem` gets the time left (when
    /// its page is in memory: the kernel does not fault in a page for a process that is
    /// not running). The handler runs when the process is switched in.
    fn interrupt_sleep(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(pi) = self.index(pid) else { return };
        if self.procs[pi].state != State::Blocked || !self.handled_signal_ready(pid) {
            return;
        }
        let Some(&(deadline, _)) = self.sleepers.iter().find(|&&(_, q)| q == pid) else {
            return;
        };
        self.sleepers.remove(&(deadline, pid));
        self.waits.wake_all(crate::wait::WaitOn::Timer { pid });
        let r = self.procs[pi].regs;
        // `nanosleep(req, rem)`, `clock_nanosleep(id, flags, req, rem)`.
        let (rem, absolute) = match r[17] {
            NANOSLEEP => (r[11], false),
            _ => (r[13], r[11] & TIMER_ABSTIME != 0),
        };
        if rem != 0 && !absolute {
            let left = self.ns_at(deadline) - self.ns_at(hw.now().min(deadline));
            let mm = self.address_space(pid);
            if let crate::scheme::UserAddr::Mapped { pa, len } =
                self.mem.user_addr(hw, mm, pid, rem, Access::Store)
            {
                if len >= 16 {
                    hw.write_phys(pa, &crate::linux::timespec(left));
                }
            }
        }
        self.procs[pi].regs[10] = EINTR.wrapping_neg();
        self.wake(hw, pid);
    }

    /// Takes the action of each pending signal `pid`'s mask lets through, lowest number
    /// first: the process ends, the signal is discarded, or — for the running process — a
    /// handler's frame is set up (each further one on top of the last, so the last set up
    /// runs first, as Linux and qemu-user nest them).
    pub(super) fn deliver_signals(&mut self, hw: &mut dyn Hw, pid: Pid) {
        loop {
            let Some(pi) = self.index(pid) else { return };
            if self.procs[pi].state.ended() {
                return;
            }
            let t = &self.procs[pi].task;
            let ready = t.pending & !(t.mask & !UNBLOCKABLE);
            if ready == 0 {
                return;
            }
            let n = u64::from(ready.trailing_zeros()) + 1;
            let handler = t.actions[n as usize][0];
            if n != sig::SIGKILL && self.ignored(pi, n) {
                let t = &mut self.procs[pi].task;
                t.pending &= !bit(n);
                t.pending_info.remove(&n);
                continue;
            }
            if handler == SIG_DFL || n == sig::SIGKILL {
                let t = &mut self.procs[pi].task;
                t.pending &= !bit(n);
                t.pending_info.remove(&n);
                let k = Kill {
                    addr: 0,
                    pc: self.procs[pi].pc,
                    access: None,
                    cause: Kill::signal_cause(n),
                    scheme: self.cfg.scheme.name(),
                    detail: format!(
                        "{} ({n}) was sent to it, and its default action ends the process",
                        sig::name(n)
                    ),
                };
                self.kill(hw, pid, k);
                return;
            }
            // A handler runs on the process's registers: only the running process's.
            if self.current != Some(pid) || self.procs[pi].state != State::Running {
                return;
            }
            let uid = crate::exec::GUEST_UID as u32;
            let t = &mut self.procs[pi].task;
            t.pending &= !bit(n);
            let info = t
                .pending_info
                .remove(&n)
                .unwrap_or(Info::sent(n, code::SI_USER, pid, uid));
            match self.run_handler(hw, pid, info) {
                Setup::Delivered => {}
                Setup::Waits => {
                    // The stack's page is being read in: the signal waits with it.
                    if let Some(pi) = self.index(pid) {
                        let t = &mut self.procs[pi].task;
                        t.pending |= bit(n);
                        t.pending_info.insert(n, info);
                    }
                    return;
                }
                Setup::Failed => return,
            }
        }
    }

    /// Called as `pid` is switched in: takes the actions of its pending signals (a handler
    /// sent while it was not running, or whose frame waited for a page). False if it can
    /// no longer run (it ended, or waits for its stack's page).
    pub(super) fn signals_on_entry(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let t = &self.procs[pi].task;
        if t.pending & !(t.mask & !UNBLOCKABLE) != 0 {
            self.deliver_signals(hw, pid);
        }
        self.current == Some(pid)
    }

    /// The kill of `pid` by a fault of its current instruction goes to its handler for the
    /// fault's signal, if it has one that is neither blocked nor ignored: a `SIGSEGV`,
    /// `SIGBUS`, `SIGILL` or `SIGTRAP` with `si_code` and `si_addr` as Linux gives them
    /// ([`fault_info`]). True if the kill is taken care of (the handler runs; or its frame
    /// waits for a stack page, and the instruction faults again when the process runs
    /// again; or the frame could not be written, and the process ended with `SIGSEGV`).
    /// False for anything else: a kill that is not an instruction's fault (a system call's
    /// copy, out of memory, a signal's default action), or a signal blocked, ignored or
    /// left at `SIG_DFL`, whose default action then ends the process.
    pub(super) fn fault_signal(&mut self, hw: &mut dyn Hw, pid: Pid, kill: &Kill) -> bool {
        let Some((n, how)) = fault_info(kill.cause) else {
            return false;
        };
        if self.current != Some(pid) {
            return false;
        }
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let p = &self.procs[pi];
        // The saved pc is the faulting instruction's (a system call's copy faults with its
        // pc past the ecall).
        if p.state.ended() || p.pc != kill.pc {
            return false;
        }
        let handler = p.task.actions[n as usize][0];
        if handler == SIG_DFL || handler == SIG_IGN || p.task.mask & bit(n) != 0 {
            return false;
        }
        let addr = match n {
            // (Linux reports the pc of an instruction it could not emulate.)
            sig::SIGBUS if how == code::BUS_ADRALN => kill.pc,
            sig::SIGILL | sig::SIGTRAP => kill.pc,
            _ => kill.addr,
        };
        self.run_handler(hw, pid, Info::fault(n, how, addr));
        true
    }

    /// The fetch fault of `pid` at `va` is a handler's return to [`TRAMPOLINE`]: it is the
    /// `rt_sigreturn` system call (counted and traced as one). False for any other fault.
    pub(super) fn sigreturn_fetch(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        access: Access,
        epc: u64,
    ) -> bool {
        if access != Access::Fetch || va != TRAMPOLINE || epc != TRAMPOLINE {
            return false;
        }
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let c = self.sv.cost().syscall;
        self.sv.charge(hw, c);
        let args = self.procs[pi].regs;
        match self.sigreturn(hw, pid) {
            // (A page of the frame had to come in: the return fetches here again.)
            Err(CopyFault::Restart) => return true,
            Err(CopyFault::Fault) => self.bad_frame(hw, pid, args[2], READ_BACK),
            Ok(()) => {}
        }
        self.sv.stats.syscalls += 1;
        if let Some(pi) = self.index(pid) {
            self.procs[pi].stats.syscalls += 1;
        }
        if self.sv.trace.is_some() {
            self.sv.event(
                hw,
                Event::Syscall {
                    pid,
                    nr: RT_SIGRETURN,
                    name: "rt_sigreturn",
                    args: [args[10], args[11], args[12], args[13], args[14], args[15]],
                    ret: None,
                },
            );
        }
        // Signals the restored mask lets through act now.
        self.deliver_signals(hw, pid);
        true
    }

    /// `rt_sigreturn()`: the state of the signal frame at `sp` comes back — every
    /// register (so `a0` is the frame's, not a return value), the pc, the FP registers,
    /// the mask and the alternate stack.
    pub(super) fn sys_rt_sigreturn(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        _a: [u64; 6],
    ) -> SysResult {
        let sp = self.index(pid).map_or(0, |pi| self.procs[pi].regs[2]);
        match self.sigreturn(hw, pid) {
            // (`Block`: the registers already hold what the process resumes with.)
            Ok(()) => SysResult::Block,
            Err(CopyFault::Restart) => SysResult::Restart,
            Err(CopyFault::Fault) => {
                self.bad_frame(hw, pid, sp, READ_BACK);
                SysResult::NoReturn
            }
        }
    }

    /// Restores `pid`'s state from the signal frame at its `sp`.
    fn sigreturn(&mut self, hw: &mut dyn Hw, pid: Pid) -> Result<(), CopyFault> {
        let Some(pi) = self.index(pid) else {
            return Ok(());
        };
        let sp = self.procs[pi].regs[2];
        let bytes = self.copy_from_user(hw, pid, sp, frame::SIZE as u64)?;
        let s = Saved::from_frame(&bytes).ok_or(CopyFault::Fault)?;
        let Some(pi) = self.index(pid) else {
            return Ok(());
        };
        let p = &mut self.procs[pi];
        p.regs = s.regs;
        p.regs[0] = 0;
        p.pc = s.pc;
        p.task.mask = s.mask & !UNBLOCKABLE;
        // The alternate stack as the frame has it (errors ignored, as Linux's
        // `restore_altstack`), unless the process is on it now.
        if let Ok(alt) = altstack_of(s.stack) {
            if !on_altstack(p.task.altstack, s.regs[2]) {
                p.task.altstack = alt;
            }
        }
        if self.current == Some(pid) {
            hw.set_fp_regs(&s.f, u64::from(s.fcsr));
            // Dirty, so that a switch saves them (a hart without F keeps FS at 0).
            let mstatus = hw.read_csr(csr::MSTATUS);
            if (mstatus >> 13) & 3 != 0 {
                let _ = hw.write_csr(csr::MSTATUS, mstatus | 3 << 13);
            }
        } else {
            p.fp = (s.f, u64::from(s.fcsr));
            p.fp_used = true;
        }
        Ok(())
    }

    /// Sets up the handler of `info`'s signal for the running `pid`: writes the frame and
    /// points the registers at the handler, applies the handler's mask, `SA_RESETHAND`
    /// and `SS_AUTODISARM`.
    fn run_handler(&mut self, hw: &mut dyn Hw, pid: Pid, info: Info) -> Setup {
        let n = info.signo;
        // Each try that faults brings in a page of the frame; a frame of 1088 bytes spans
        // at most that many pages.
        for _ in 0..=frame::SIZE {
            let Some(pi) = self.index(pid) else {
                return Setup::Failed;
            };
            let p = &self.procs[pi];
            let [handler, fl, samask] = p.task.actions[n as usize];
            let sp = p.regs[2];
            let alt = p.task.altstack;
            let (f, fcsr) = if self.current == Some(pid) {
                hw.fp_regs()
            } else {
                p.fp
            };
            let saved = Saved {
                pc: p.pc,
                regs: p.regs,
                f,
                fcsr: fcsr as u32,
                // After rt_sigsuspend, the mask from before it.
                mask: p.task.saved_mask.unwrap_or(p.task.mask),
                stack: reported_altstack(alt, sp),
            };
            let Some(at) = frame_address(sp, fl, alt) else {
                self.bad_frame(hw, pid, sp, "written (no room left on the alternate stack)");
                return Setup::Failed;
            };
            match self.copy_to_user(hw, pid, at, &saved.to_frame(&info)) {
                Ok(()) => {}
                Err(CopyFault::Restart) => {
                    let running = self.current == Some(pid)
                        && self
                            .index(pid)
                            .is_some_and(|i| self.procs[i].state == State::Running);
                    if running {
                        continue;
                    }
                    let alive = self
                        .index(pid)
                        .is_some_and(|i| !self.procs[i].state.ended());
                    return if alive { Setup::Waits } else { Setup::Failed };
                }
                Err(CopyFault::Fault) => {
                    self.bad_frame(hw, pid, at, "written");
                    return Setup::Failed;
                }
            }
            let Some(pi) = self.index(pid) else {
                return Setup::Failed;
            };
            let p = &mut self.procs[pi];
            p.regs[1] = TRAMPOLINE;
            p.regs[2] = at;
            p.regs[10] = n;
            p.regs[11] = at;
            p.regs[12] = at.wrapping_add(frame::UC as u64);
            p.pc = handler;
            let t = &mut p.task;
            t.saved_mask = None;
            t.mask |= samask;
            if fl & flags::SA_NODEFER == 0 {
                t.mask |= bit(n);
            }
            t.mask &= !UNBLOCKABLE;
            if fl & flags::SA_RESETHAND != 0 {
                t.actions[n as usize][0] = SIG_DFL;
            }
            if t.altstack[1] & SS_AUTODISARM != 0 {
                t.altstack = [0, SS_DISABLE, 0];
            }
            return Setup::Delivered;
        }
        self.bad_frame(hw, pid, 0, "written (its pages would not stay in memory)");
        Setup::Failed
    }

    /// Ends `pid` with `SIGSEGV`: its signal frame at `at` could not be written (a stack
    /// it may not write, an alternate stack too small) or read back (`rt_sigreturn`), as
    /// Linux's `force_sigsegv` and `badframe` do.
    fn bad_frame(&mut self, hw: &mut dyn Hw, pid: Pid, at: u64, what: &str) {
        let Some(pi) = self.index(pid) else { return };
        if self.procs[pi].state.ended() {
            return;
        }
        let k = Kill {
            addr: at,
            pc: self.procs[pi].pc,
            access: None,
            cause: BAD_FRAME,
            scheme: self.cfg.scheme.name(),
            detail: format!("its signal frame at {at:#x} could not be {what}"),
        };
        self.kill(hw, pid, k);
    }
}

/// How setting up a handler went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    /// The handler runs when the process next runs.
    Delivered,
    /// A page of the frame is being read in; the process waits.
    Waits,
    /// The process ended (the frame could not be written).
    Failed,
}

/// The signal and `si_code` of a kill's fault cause, as Linux's fault handlers give them:
/// `SEGV_MAPERR` where nothing is mapped (a stack access past its limit too: no area is
/// there), `SEGV_ACCERR` where the area does not allow the access, `BUS_ADRERR` for a page
/// with no backing (a failed page-in, a page past the end of a mapped file), `BUS_ADRALN`
/// for a misaligned access Linux could not emulate. `None` for a kill that is no fault.
pub(crate) fn fault_info(cause: &str) -> Option<(u64, i32)> {
    Some(match cause {
        "no-mapping" | "stack-limit" | "bounds" | "segment-limit" => {
            (sig::SIGSEGV, code::SEGV_MAPERR)
        }
        "permission" => (sig::SIGSEGV, code::SEGV_ACCERR),
        "misaligned" => (sig::SIGBUS, code::BUS_ADRALN),
        "io-error" | "beyond-eof" => (sig::SIGBUS, code::BUS_ADRERR),
        "illegal-instruction" => (sig::SIGILL, code::ILL_ILLOPC),
        "breakpoint" => (sig::SIGTRAP, code::TRAP_BRKPT),
        _ => return None,
    })
}

/// Whether `sp` is on the alternate stack `alt` (`on_sig_stack`: an `SS_AUTODISARM` stack
/// never counts).
fn on_altstack(alt: [u64; 3], sp: u64) -> bool {
    let [base, fl, size] = alt;
    fl & SS_AUTODISARM == 0 && size != 0 && sp > base && sp - base <= size
}

/// The alternate stack as `sigaltstack` and `uc_stack` report it: `ss_flags` is
/// `SS_DISABLE` without one, `SS_ONSTACK` while `sp` is on it, with `SS_AUTODISARM` kept.
fn reported_altstack(alt: [u64; 3], sp: u64) -> [u64; 3] {
    let [base, fl, size] = alt;
    let mode = if size == 0 {
        SS_DISABLE
    } else if on_altstack(alt, sp) {
        SS_ONSTACK
    } else {
        0
    };
    [base, mode | (fl & SS_AUTODISARM), size]
}

/// The alternate stack a `stack_t` sets (`ss_sp`, `ss_flags`, `ss_size`): disabled (size
/// 0) with `SS_DISABLE`; else at least `MINSIGSTKSZ` bytes. An error number for flags
/// other than 0, `SS_ONSTACK`, `SS_DISABLE` (each with `SS_AUTODISARM`) or a stack too small.
fn altstack_of(ss: [u64; 3]) -> Result<[u64; 3], u64> {
    let fl = ss[1] & 0xffff_ffff;
    let mode = fl & !SS_AUTODISARM;
    if mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE {
        return Err(errno::EINVAL);
    }
    if mode == SS_DISABLE {
        return Ok([0, SS_DISABLE, 0]);
    }
    if ss[2] < MINSIGSTKSZ {
        return Err(errno::ENOMEM);
    }
    Ok([ss[0], fl & SS_AUTODISARM, ss[2]])
}

/// Where the frame of a handler with flags `fl` goes for a process at `sp` with the
/// alternate stack `alt` (Linux's `get_sigframe`): below `sp`, or below the top of the
/// alternate stack with `SA_ONSTACK` when the process is not on it already; aligned down
/// to 16. `None` when the process is on its alternate stack and the frame would not fit
/// there (Linux gives an address that always faults: the process gets `SIGSEGV`).
fn frame_address(sp: u64, fl: u64, alt: [u64; 3]) -> Option<u64> {
    let size = frame::SIZE as u64;
    if on_altstack(alt, sp) && !on_altstack(alt, sp.wrapping_sub(size)) {
        return None;
    }
    let top = if fl & flags::SA_ONSTACK != 0 && reported_altstack(alt, sp)[1] & 3 == 0 {
        alt[0].wrapping_add(alt[2])
    } else {
        sp
    };
    Some(top.wrapping_sub(size) & !0xf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_get_the_signal_and_code_linux_gives_them() {
        for (cause, want) in [
            ("no-mapping", Some((sig::SIGSEGV, code::SEGV_MAPERR))),
            ("stack-limit", Some((sig::SIGSEGV, code::SEGV_MAPERR))),
            ("bounds", Some((sig::SIGSEGV, code::SEGV_MAPERR))),
            ("segment-limit", Some((sig::SIGSEGV, code::SEGV_MAPERR))),
            ("permission", Some((sig::SIGSEGV, code::SEGV_ACCERR))),
            ("misaligned", Some((sig::SIGBUS, code::BUS_ADRALN))),
            ("io-error", Some((sig::SIGBUS, code::BUS_ADRERR))),
            ("beyond-eof", Some((sig::SIGBUS, code::BUS_ADRERR))),
            ("illegal-instruction", Some((sig::SIGILL, code::ILL_ILLOPC))),
            ("breakpoint", Some((sig::SIGTRAP, code::TRAP_BRKPT))),
            ("out-of-memory", None),
            ("infinite-loop", None),
            ("SIGABRT", None),
            (BAD_FRAME, None),
        ] {
            assert_eq!(fault_info(cause), want, "{cause}");
            // The signal agrees with the one a kill by the fault reports.
            if let Some((n, _)) = want {
                let k = Kill {
                    addr: 0,
                    pc: 0,
                    access: None,
                    cause,
                    scheme: "",
                    detail: String::new(),
                };
                assert_eq!(u64::from(k.signal()), n, "{cause}");
            }
        }
    }

    #[test]
    fn frames_go_below_sp_or_on_the_alternate_stack_aligned_to_16() {
        let size = frame::SIZE as u64;
        let none = [0, SS_DISABLE, 0];
        let alt = [0x10_0000, 0, 0x4000];
        let on = flags::SA_ONSTACK;
        // (sp, sa_flags, altstack) -> frame address
        for (sp, fl, a, want) in [
            (0x8000, 0, none, Some(0x8000 - size)),
            (0x8008, 0, none, Some((0x8008 - size) & !0xf)),
            // SA_ONSTACK without an alternate stack: the ordinary stack.
            (0x8000, on, none, Some(0x8000 - size)),
            // An alternate stack without SA_ONSTACK: the ordinary stack.
            (0x8000, 0, alt, Some(0x8000 - size)),
            // SA_ONSTACK: the top of the alternate stack.
            (0x8000, on, alt, Some(0x10_4000 - size)),
            // Already on it (a nested handler): below sp there.
            (0x10_2000, on, alt, Some(0x10_2000 - size)),
            (0x10_2000, 0, alt, Some(0x10_2000 - size)),
            // On it with no room left: a frame that cannot be.
            (0x10_0100, on, alt, None),
            // SS_AUTODISARM: never "on" it, so the top again.
            (
                0x10_2000,
                on,
                [0x10_0000, SS_AUTODISARM, 0x4000],
                Some(0x10_4000 - size),
            ),
        ] {
            assert_eq!(
                frame_address(sp, fl, a),
                want,
                "sp {sp:#x} flags {fl:#x} alt {a:x?}"
            );
        }
    }

    #[test]
    fn the_alternate_stack_is_set_and_reported_as_sigaltstack_does() {
        assert_eq!(altstack_of([0x1000, 0, 8192]), Ok([0x1000, 0, 8192]));
        // SS_ONSTACK as a flag is accepted (historic) and not kept.
        assert_eq!(
            altstack_of([0x1000, SS_ONSTACK, 8192]),
            Ok([0x1000, 0, 8192])
        );
        assert_eq!(
            altstack_of([0x1000, SS_AUTODISARM, 8192]),
            Ok([0x1000, SS_AUTODISARM, 8192])
        );
        assert_eq!(
            altstack_of([0x1000, SS_DISABLE, 8192]),
            Ok([0, SS_DISABLE, 0])
        );
        assert_eq!(altstack_of([0x1000, 4, 8192]), Err(errno::EINVAL));
        assert_eq!(altstack_of([0x1000, 0, 100]), Err(errno::ENOMEM));
        let alt = [0x1000, 0, 0x2000];
        assert_eq!(reported_altstack(alt, 0x8000), [0x1000, 0, 0x2000]);
        assert_eq!(reported_altstack(alt, 0x2000), [0x1000, SS_ONSTACK, 0x2000]);
        // The top itself is on it (sp - base <= size), the base is not.
        assert!(on_altstack(alt, 0x3000));
        assert!(!on_altstack(alt, 0x1000));
        assert_eq!(
            reported_altstack([0, SS_DISABLE, 0], 0x2000),
            [0, SS_DISABLE, 0]
        );
    }
}
