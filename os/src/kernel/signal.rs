//! Signals: actions, the mask, the alternate stack, and signals a process sends
//! (`kill`, `tkill`, `tgkill`, and so `raise` and `abort`).
//!
//! A signal sent is pending until the process's mask lets it through; then its action is
//! taken when the process next returns from a system call: the default action of most
//! signals ends the process (`abort()` ends with `SIGABRT`, status 134), some are ignored,
//! as is any signal whose action is `SIG_IGN`. vmlab does not yet run signal handlers: a
//! signal whose action is a handler ends the process with a report that says so.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux::sig;
use crate::process::{Kill, Pid};

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
            let t = &mut self.procs[pi].task;
            t.actions[n as usize] = new;
            // Setting a pending signal's action to ignore discards it.
            if self.ignored(pi, n) {
                self.procs[pi].task.pending &= !bit(n);
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

    /// `sigaltstack(ss, old_ss)`: a `stack_t` is `ss_sp`, `ss_flags` (int, padded), `ss_size`.
    pub(super) fn sys_sigaltstack(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (ss, old) = (a[0], a[1]);
        let new = if ss != 0 {
            match self.copy_from_user(hw, pid, ss, 24) {
                Ok(b) => {
                    let w = |i: usize| {
                        u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default())
                    };
                    let flags = w(1) & 0xffff_ffff;
                    if flags & !(SS_DISABLE | (1 << 31)) != 0 {
                        return SysResult::Err(errno::EINVAL);
                    }
                    if flags & SS_DISABLE == 0 && w(2) < MINSIGSTKSZ {
                        return SysResult::Err(errno::ENOMEM);
                    }
                    Some([w(0), flags, w(2)])
                }
                Err(f) => return f.into(),
            }
        } else {
            None
        };
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        if old != 0 {
            let cur = self.procs[pi].task.altstack;
            let bytes: Vec<u8> = cur.iter().flat_map(|w| w.to_le_bytes()).collect();
            if let Err(f) = self.copy_to_user(hw, pid, old, &bytes) {
                return f.into();
            }
        }
        if let (Some(n), Some(pi)) = (new, self.index(pid)) {
            // (No handler ever runs on it, so the process is never on it: SS_ONSTACK never
            // shows, and changing it is always allowed.)
            let _ = SS_ONSTACK;
            self.procs[pi].task.altstack = n;
        }
        SysResult::Ret(0)
    }

    /// `kill(pid, sig)`: to a process (0 and -1 mean every process of the run, as they are
    /// one group of one user).
    pub(super) fn sys_kill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (target, n) = (a[0] as i64, a[1]);
        if n > sig::MAX {
            return SysResult::Err(errno::EINVAL);
        }
        let targets: Vec<Pid> = match target {
            0 | -1 => self
                .procs
                .iter()
                .filter(|p| !p.state.ended())
                .map(|p| p.pid)
                .collect(),
            t if t > 0 && t <= i64::from(u32::MAX) => vec![t as Pid],
            t if t < -1 && -t <= i64::from(u32::MAX) => vec![(-t) as Pid],
            _ => return SysResult::Err(errno::ESRCH),
        };
        let mut any = false;
        for t in targets {
            if self.index(t).is_some_and(|i| !self.procs[i].state.ended()) {
                any = true;
                if n != 0 {
                    self.send_signal(hw, pid, t, n);
                }
            }
        }
        if any {
            SysResult::Ret(0)
        } else {
            SysResult::Err(errno::ESRCH)
        }
    }

    /// `tkill(tid, sig)`: every process has one thread, its tid its pid.
    pub(super) fn sys_tkill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if (a[0] as i64) <= 0 {
            return SysResult::Err(errno::EINVAL);
        }
        self.sys_kill(hw, pid, [a[0], a[1], 0, 0, 0, 0])
    }

    /// `tgkill(tgid, tid, sig)`.
    pub(super) fn sys_tgkill(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if (a[0] as i64) <= 0 || (a[1] as i64) <= 0 {
            return SysResult::Err(errno::EINVAL);
        }
        if a[0] != a[1] {
            return SysResult::Err(errno::ESRCH);
        }
        self.sys_kill(hw, pid, [a[1], a[2], 0, 0, 0, 0])
    }

    /// Makes signal `n` pending for `to` (unless ignored); a process other than the sender
    /// takes it at once (it is not running).
    pub(super) fn send_signal(&mut self, hw: &mut dyn Hw, from: Pid, to: Pid, n: u64) {
        let Some(pi) = self.index(to) else { return };
        if n != sig::SIGKILL && self.ignored(pi, n) {
            return;
        }
        self.procs[pi].task.pending |= bit(n);
        if to != from {
            self.deliver_signals(hw, to);
        }
    }

    /// Takes the action of each pending signal `pid`'s mask lets through: the process ends,
    /// or the signal is discarded.
    pub(super) fn deliver_signals(&mut self, hw: &mut dyn Hw, pid: Pid) {
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
        self.procs[pi].task.pending &= !bit(n);
        let handler = self.procs[pi].task.actions[n as usize][0];
        if n != sig::SIGKILL && self.ignored(pi, n) {
            return self.deliver_signals(hw, pid);
        }
        let detail = if handler == SIG_DFL || n == sig::SIGKILL {
            format!(
                "{} ({n}) was sent to it, and its default action ends the process",
                sig::name(n)
            )
        } else {
            format!(
                "{} ({n}) was sent to it, and its action is a handler at {handler:#x}, which vmlab does not run yet",
                sig::name(n)
            )
        };
        let k = Kill {
            addr: 0,
            pc: self.procs[pi].pc,
            access: None,
            cause: Kill::signal_cause(n),
            scheme: self.cfg.scheme.name(),
            detail,
        };
        self.kill(hw, pid, k);
    }
}
