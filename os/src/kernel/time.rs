//! System calls about time. The clocks read the modelled clock (cycles at the machine's
//! `clock_hz`), never the host's: `CLOCK_REALTIME` starts at [`linux::EPOCH_AT_BOOT`] and
//! the others at 0 when the run starts. A sleeping process blocks while modelled time
//! passes; the kernel arms the timer for the earliest sleeper.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux;
use crate::process::{Pid, State};
use crate::wait::WaitOn;

/// Clock ids (`<linux/time.h>`).
pub(super) mod clock {
    pub const REALTIME: u64 = 0;
    pub const MONOTONIC: u64 = 1;
    pub const PROCESS_CPUTIME_ID: u64 = 2;
    pub const THREAD_CPUTIME_ID: u64 = 3;
    pub const MONOTONIC_RAW: u64 = 4;
    pub const REALTIME_COARSE: u64 = 5;
    pub const MONOTONIC_COARSE: u64 = 6;
    pub const BOOTTIME: u64 = 7;
}

/// `clock_nanosleep` flag: the time is absolute.
const TIMER_ABSTIME: u64 = 1;

impl Kernel {
    /// Nanoseconds of modelled time at cycle `cycles`.
    pub(super) fn ns_at(&self, cycles: u64) -> u64 {
        (u128::from(cycles) * 1_000_000_000 / u128::from(self.clock_hz.max(1))) as u64
    }

    /// Cycles that `ns` nanoseconds take (rounded up).
    pub(super) fn cycles_for(&self, ns: u64) -> u64 {
        let c = (u128::from(ns) * u128::from(self.clock_hz)).div_ceil(1_000_000_000);
        u64::try_from(c).unwrap_or(u64::MAX)
    }

    /// The time of clock `id` now, in nanoseconds; `None` for an unknown clock.
    pub(super) fn clock_now(&self, hw: &dyn Hw, pid: Pid, id: u64) -> Option<u64> {
        let now = self.ns_at(hw.now());
        match id {
            clock::REALTIME | clock::REALTIME_COARSE => {
                Some(now + linux::EPOCH_AT_BOOT * 1_000_000_000)
            }
            clock::MONOTONIC | clock::MONOTONIC_RAW | clock::MONOTONIC_COARSE | clock::BOOTTIME => {
                Some(now)
            }
            clock::PROCESS_CPUTIME_ID | clock::THREAD_CPUTIME_ID => {
                let p = &self.procs[self.index(pid)?];
                let mut cycles = p.stats.cycles;
                if self.current == Some(pid) {
                    cycles += hw.now().saturating_sub(p.since);
                }
                Some(self.ns_at(cycles))
            }
            _ => None,
        }
    }

    /// `clock_gettime(id, ts)`.
    pub(super) fn sys_clock_gettime(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        let Some(ns) = self.clock_now(hw, pid, a[0]) else {
            return SysResult::Err(errno::EINVAL);
        };
        match self.copy_to_user(hw, pid, a[1], &linux::timespec(ns)) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `clock_getres(id, res)`: one cycle, rounded up to whole nanoseconds.
    pub(super) fn sys_clock_getres(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if self.clock_now(hw, pid, a[0]).is_none() {
            return SysResult::Err(errno::EINVAL);
        }
        if a[1] == 0 {
            return SysResult::Ret(0);
        }
        let res = 1_000_000_000u64.div_ceil(self.clock_hz.max(1)).max(1);
        match self.copy_to_user(hw, pid, a[1], &linux::timespec(res)) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `gettimeofday(tv, tz)`: `CLOCK_REALTIME` in microseconds; the time zone is UTC.
    pub(super) fn sys_gettimeofday(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let ns = self.clock_now(hw, pid, clock::REALTIME).unwrap_or(0);
        if a[0] != 0 {
            let mut tv = [0u8; 16];
            tv[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
            tv[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
            if let Err(f) = self.copy_to_user(hw, pid, a[0], &tv) {
                return f.into();
            }
        }
        if a[1] != 0 {
            if let Err(f) = self.copy_to_user(hw, pid, a[1], &[0u8; 8]) {
                return f.into();
            }
        }
        SysResult::Ret(0)
    }

    /// `nanosleep(req, rem)`: sleeps on `CLOCK_MONOTONIC`.
    pub(super) fn sys_nanosleep(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        self.sleep(hw, pid, clock::MONOTONIC, 0, a[0], a[1])
    }

    /// `clock_nanosleep(id, flags, req, rem)`: relative, or absolute with `TIMER_ABSTIME`;
    /// returns the error number itself rather than -1 and `errno`, as Linux does.
    pub(super) fn sys_clock_nanosleep(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        if a[0] == clock::THREAD_CPUTIME_ID {
            return SysResult::Err(errno::EINVAL);
        }
        self.sleep(hw, pid, a[0], a[1], a[2], a[3])
    }

    fn sleep(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        id: u64,
        flags: u64,
        req: u64,
        _rem: u64,
    ) -> SysResult {
        let Some(now) = self.clock_now(hw, pid, id) else {
            return SysResult::Err(errno::EINVAL);
        };
        let b = match self.copy_from_user(hw, pid, req, 16) {
            Ok(b) => b,
            Err(f) => return f.into(),
        };
        let Some(t) = linux::read_timespec(&b) else {
            return SysResult::Err(errno::EINVAL);
        };
        let ns = if flags & TIMER_ABSTIME != 0 {
            t.saturating_sub(now)
        } else {
            t
        };
        if ns == 0 {
            return SysResult::Ret(0);
        }
        let deadline = hw.now().saturating_add(self.cycles_for(ns));
        // (Nothing interrupts a sleep: `rem` is left alone, as Linux leaves it unless a
        // signal handler cut the sleep short.)
        if let Some(pi) = self.index(pid) {
            self.procs[pi].regs[10] = 0;
        }
        self.sleepers.insert((deadline, pid));
        self.waits.wait(pid, WaitOn::Timer { pid });
        self.block(hw, pid);
        SysResult::Block
    }

    /// Wakes the sleepers whose time has come.
    pub(super) fn wake_sleepers(&mut self, hw: &mut dyn Hw) {
        let now = hw.now();
        while let Some(&(deadline, pid)) = self.sleepers.first() {
            if deadline > now {
                break;
            }
            self.sleepers.pop_first();
            if self.futex_timed_out(hw, pid) {
                continue;
            }
            self.waits.wake_all(WaitOn::Timer { pid });
            if self
                .index(pid)
                .is_some_and(|i| self.procs[i].state == State::Blocked)
            {
                self.wake(hw, pid);
            }
        }
    }

    /// The `mtime` tick at which the earliest sleeper wakes, if any sleeps.
    pub(super) fn next_wake_tick(&self) -> Option<u64> {
        self.sleepers
            .first()
            .map(|&(deadline, _)| deadline.div_ceil(self.divider))
    }
}
