//! Thread groups: the tasks `clone(CLONE_THREAD)` makes share their process's pid
//! (`getpid()` is the group's id, `gettid()` the task's own), its address space, file
//! table and signal actions. A task's `exit` ends the task alone; `exit_group` — what
//! `exit()` and a return from `main` call — and a fatal signal end every task of the group.
//! The process ends, for its parent, when its last task has: until then a group leader
//! that has exited is a zombie nobody can collect yet, and the group's status is the
//! leader's. A thread that ends is never waited for.
//!
//! A task that ends while others still run in its address space clears the word
//! `set_tid_address` or `CLONE_CHILD_CLEARTID` named and wakes one futex sleeper there:
//! that is how `pthread_join` learns a thread has gone.

use super::syscalls::SysResult;
use super::{CopyFault, Kernel};
use crate::hw::Hw;
use crate::process::{Pid, State};
use crate::services::Event;

impl Kernel {
    /// The live tasks (not ended) of thread group `tgid`, in pid order.
    pub(super) fn group_tasks(&self, tgid: Pid) -> Vec<Pid> {
        self.procs
            .iter()
            .filter(|q| q.tgid == tgid && !q.state.ended())
            .map(|q| q.pid)
            .collect()
    }

    /// The task of group `tgid` a signal to the process goes to: the leader while it
    /// runs, else the first live thread.
    pub(super) fn group_target(&self, tgid: Pid) -> Option<Pid> {
        let leader = self
            .index(tgid)
            .filter(|&i| self.procs[i].tgid == tgid && !self.procs[i].state.ended());
        leader
            .map(|_| tgid)
            .or_else(|| self.group_tasks(tgid).first().copied())
    }

    /// The thread group `pid` belongs to (its own pid for a task apart).
    pub(super) fn tgid_of(&self, pid: Pid) -> Pid {
        self.index(pid).map_or(pid, |i| self.procs[i].tgid)
    }

    /// Whether another live task than `pid` runs in `pid`'s address space.
    pub(super) fn space_shared(&self, pid: Pid) -> bool {
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let space = self.procs[pi].space;
        self.procs
            .iter()
            .any(|q| q.pid != pid && q.space == space && !q.state.ended())
    }

    /// Whether another live task than `pid` uses `pid`'s file table.
    pub(super) fn files_shared(&self, pid: Pid) -> bool {
        let Some(pi) = self.index(pid) else {
            return false;
        };
        let files = self.procs[pi].files;
        self.procs
            .iter()
            .any(|q| q.pid != pid && q.files == files && !q.state.ended())
    }

    /// `exit(code)`: the calling task ends; its process ends with its last task.
    pub(super) fn sys_exit(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if let Some(r) = self.clear_child_tid(hw, pid) {
            return r;
        }
        let code = a[0] & 0xff;
        let tgid = self.tgid_of(pid);
        if self.group_tasks(tgid) == [pid] {
            self.sv.stats.exited += 1;
        }
        self.sv.event(hw, Event::Exit { pid, code });
        self.end(hw, pid, State::Exited(code));
        SysResult::NoReturn
    }

    /// `exit_group(code)`: every task of the caller's process ends, with the code.
    pub(super) fn sys_exit_group(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let code = a[0] & 0xff;
        self.sv.stats.exited += 1;
        self.end_other_tasks(hw, pid, State::Exited(code));
        self.sv.event(hw, Event::Exit { pid, code });
        self.end(hw, pid, State::Exited(code));
        SysResult::NoReturn
    }

    /// Ends every task of `pid`'s group but `pid`, in `state` (an `exit_group`, a fatal
    /// signal, an `execve`). The group's status is `state` even when its leader had
    /// already left (`pthread_exit` in `main`): the leader's record, which `wait4`
    /// reports, says so.
    pub(super) fn end_other_tasks(&mut self, hw: &mut dyn Hw, pid: Pid, state: State) {
        let tgid = self.tgid_of(pid);
        for t in self.group_tasks(tgid) {
            if t != pid {
                self.end(hw, t, state.clone());
            }
        }
        if let Some(li) = self.index(tgid) {
            if tgid != pid && self.procs[li].state.ended() {
                self.procs[li].state = state;
            }
        }
    }

    /// The end of the task `pid` as its group sees it: a thread is never waited for; the
    /// process ends for its parent when its last task has.
    pub(super) fn task_ended(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(pi) = self.index(pid) else { return };
        let tgid = self.procs[pi].tgid;
        if pid != tgid {
            self.procs[pi].reaped = true;
        }
        if !self.group_tasks(tgid).is_empty() {
            return;
        }
        self.notify_end(hw, tgid);
    }

    /// A task that ends while others run in its address space: 0 at its clear-child-tid
    /// address and one futex sleeper woken there. `Some(Restart)` when the word's page
    /// must first come in (the `exit` runs again); a bad address is ignored, as Linux
    /// ignores it.
    fn clear_child_tid(&mut self, hw: &mut dyn Hw, pid: Pid) -> Option<SysResult> {
        let pi = self.index(pid)?;
        let at = self.procs[pi].task.clear_child_tid;
        if at == 0 || !self.space_shared(pid) {
            return None;
        }
        match self.copy_to_user(hw, pid, at, &0u32.to_le_bytes()) {
            Ok(()) => {}
            Err(CopyFault::Restart) => return Some(SysResult::Restart),
            Err(CopyFault::Fault) => {
                self.procs[pi].task.clear_child_tid = 0;
                return None;
            }
        }
        let pi = self.index(pid)?;
        self.procs[pi].task.clear_child_tid = 0;
        if let Ok(key) = self.futex_key(pid, at, false) {
            self.futex_wake(hw, key, 1, u32::MAX);
        }
        None
    }
}
