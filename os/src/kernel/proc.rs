//! System calls about the process itself: ids, limits, `uname`, the addresses glibc's
//! start-up registers, random bytes, CPU affinity.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::exec::GUEST_UID;
use crate::hw::Hw;
use crate::linux::{self, rlimit};
use crate::process::Pid;

/// `rseq` flag: unregister.
const RSEQ_FLAG_UNREGISTER: u64 = 1;
/// The size of `struct rseq` glibc registers (the original 32 bytes).
const RSEQ_MIN_LEN: u64 = 32;
/// `getrandom` flags: `GRND_NONBLOCK`, `GRND_RANDOM`, `GRND_INSECURE`.
const GRND_ALL: u64 = 0x7;

impl Kernel {
    /// `getppid()`: the process that forked it (after that one ended: process 1, which
    /// adopts orphans as init does, or 0 when vmlab started it or no process 1 is left).
    pub(super) fn sys_getppid(&mut self, _hw: &mut dyn Hw, pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Ret(self.index(pid).map_or(0, |i| u64::from(self.procs[i].ppid)))
    }

    pub(super) fn sys_gettid(&mut self, _hw: &mut dyn Hw, pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Ret(u64::from(pid))
    }

    /// `getuid`, `geteuid`, `getgid`, `getegid`: the one guest user.
    pub(super) fn sys_getid(&mut self, _hw: &mut dyn Hw, _pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Ret(GUEST_UID)
    }

    /// `getresuid(ruid, euid, suid)` and `getresgid`: three 32-bit ids.
    pub(super) fn sys_getresid(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        for &at in &a[..3] {
            if let Err(f) = self.copy_to_user(hw, pid, at, &(GUEST_UID as u32).to_le_bytes()) {
                return f.into();
            }
        }
        SysResult::Ret(0)
    }

    /// `set_tid_address(tidptr)`: remembered; returns the thread id.
    pub(super) fn sys_set_tid_address(
        &mut self,
        _hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        self.procs[pi].task.clear_child_tid = a[0];
        SysResult::Ret(u64::from(pid))
    }

    /// `set_robust_list(head, len)`: `len` must be the size of `struct robust_list_head` (24).
    pub(super) fn sys_set_robust_list(
        &mut self,
        _hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        if a[1] != 24 {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        self.procs[pi].task.robust_list = (a[0], a[1]);
        SysResult::Ret(0)
    }

    /// `rseq(rseq, len, flags, sig)`: registers the area and writes the CPU number (0, the
    /// only CPU) into its `cpu_id_start` and `cpu_id` fields; unregisters with flag 1.
    pub(super) fn sys_rseq(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len, flags, sig) = (a[0], a[1], a[2], a[3] as u32);
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        if flags & !RSEQ_FLAG_UNREGISTER != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        if flags & RSEQ_FLAG_UNREGISTER != 0 {
            return match self.procs[pi].task.rseq {
                Some((at, l, s)) if at == addr && u64::from(l) == len => {
                    if s != sig {
                        return SysResult::Err(errno::EPERM);
                    }
                    self.procs[pi].task.rseq = None;
                    SysResult::Ret(0)
                }
                _ => SysResult::Err(errno::EINVAL),
            };
        }
        if let Some((at, l, s)) = self.procs[pi].task.rseq {
            return if at == addr && u64::from(l) == len && s == sig {
                SysResult::Err(errno::EBUSY)
            } else {
                SysResult::Err(errno::EINVAL)
            };
        }
        if len < RSEQ_MIN_LEN || !addr.is_multiple_of(RSEQ_MIN_LEN) || len > u64::from(u32::MAX) {
            return SysResult::Err(errno::EINVAL);
        }
        // cpu_id_start and cpu_id: CPU 0.
        if let Err(f) = self.copy_to_user(hw, pid, addr, &[0u8; 8]) {
            return f.into();
        }
        if let Some(pi) = self.index(pid) {
            self.procs[pi].task.rseq = Some((addr, len as u32, sig));
        }
        SysResult::Ret(0)
    }

    /// `prlimit64(pid, resource, new, old)` on the caller (pid 0 or its own).
    pub(super) fn sys_prlimit64(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if a[0] != 0 && a[0] != u64::from(pid) {
            return if self.index(a[0] as Pid).is_some() {
                SysResult::Err(errno::EPERM)
            } else {
                SysResult::Err(errno::ESRCH)
            };
        }
        self.rlimit(hw, pid, a[1], a[2], a[3])
    }

    /// `getrlimit(resource, old)`.
    pub(super) fn sys_getrlimit(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        self.rlimit(hw, pid, a[0], 0, a[1])
    }

    /// `setrlimit(resource, new)`.
    pub(super) fn sys_setrlimit(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        self.rlimit(hw, pid, a[0], a[1], 0)
    }

    /// Reads the old limit into `old` (if not null), then sets `new` (if not null): the soft
    /// limit at most the hard one, and the hard one never raised (the guest user is not
    /// privileged).
    fn rlimit(&mut self, hw: &mut dyn Hw, pid: Pid, res: u64, new: u64, old: u64) -> SysResult {
        let Ok(res) = usize::try_from(res) else {
            return SysResult::Err(errno::EINVAL);
        };
        if res >= rlimit::COUNT {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let cur = self.procs[pi].task.rlimits[res];
        let wanted = if new != 0 {
            let b = match self.copy_from_user(hw, pid, new, 16) {
                Ok(b) => b,
                Err(f) => return f.into(),
            };
            let soft = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            let hard = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
            if soft > hard {
                return SysResult::Err(errno::EINVAL);
            }
            if hard > cur.1 {
                return SysResult::Err(errno::EPERM);
            }
            Some((soft, hard))
        } else {
            None
        };
        if old != 0 {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&cur.0.to_le_bytes());
            b[8..].copy_from_slice(&cur.1.to_le_bytes());
            if let Err(f) = self.copy_to_user(hw, pid, old, &b) {
                return f.into();
            }
        }
        if let (Some(w), Some(pi)) = (wanted, self.index(pid)) {
            self.procs[pi].task.rlimits[res] = w;
        }
        SysResult::Ret(0)
    }

    /// `uname(buf)`: the fixed answers of [`linux::uts`].
    pub(super) fn sys_uname(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.copy_to_user(hw, pid, a[0], &linux::utsname()) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `getrandom(buf, len, flags)`: bytes from the run's seeded generator (`os.seed`), so
    /// that a run is the same every time.
    pub(super) fn sys_getrandom(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (buf, len, flags) = (a[0], a[1], a[2]);
        if flags & !GRND_ALL != 0 || flags & 0x6 == 0x6 {
            return SysResult::Err(errno::EINVAL);
        }
        // Linux returns at most 32 MiB - 1 bytes per call.
        let len = len.min((1 << 25) - 1);
        // The generator moves on only when the bytes reached the process: a restarted call
        // gives the same ones.
        let (bytes, state) = self.random(len);
        match self.copy_to_user(hw, pid, buf, &bytes) {
            Ok(()) => {
                self.rng = state;
                SysResult::Ret(len)
            }
            Err(f) => f.into(),
        }
    }

    /// `n` bytes from the run's seeded generator (`getrandom`, `/dev/urandom`), and the
    /// generator's state after them (the caller keeps it once the bytes are delivered).
    pub(super) fn random(&self, n: u64) -> (Vec<u8>, u64) {
        let mut state = self.rng;
        let mut bytes = Vec::with_capacity(n as usize);
        while (bytes.len() as u64) < n {
            let w = crate::exec::splitmix64(&mut state).to_le_bytes();
            let k = (n as usize - bytes.len()).min(8);
            bytes.extend_from_slice(&w[..k]);
        }
        (bytes, state)
    }

    /// `sched_getaffinity(pid, size, mask)`: the one CPU; returns the mask's size (8).
    pub(super) fn sys_sched_getaffinity(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        if a[0] != 0 && self.index(a[0] as Pid).is_none() {
            return SysResult::Err(errno::ESRCH);
        }
        if a[1] < 8 || !a[1].is_multiple_of(8) {
            return SysResult::Err(errno::EINVAL);
        }
        match self.copy_to_user(hw, pid, a[2], &1u64.to_le_bytes()) {
            Ok(()) => SysResult::Ret(8),
            Err(f) => f.into(),
        }
    }
}

/// `prctl` options served.
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_GET_DUMPABLE: u64 = 3;

/// `riscv_hwprobe` keys (`asm/hwprobe.h`).
mod hwprobe {
    pub const MVENDORID: i64 = 0;
    pub const MARCHID: i64 = 1;
    pub const MIMPID: i64 = 2;
    pub const BASE_BEHAVIOR: i64 = 3;
    pub const IMA_EXT_0: i64 = 4;
    pub const CPUPERF_0: i64 = 5;
    /// `BASE_BEHAVIOR`: the IMA base as ratified.
    pub const BASE_BEHAVIOR_IMA: u64 = 1;
    /// `IMA_EXT_0` bits: F and D, C.
    pub const IMA_FD: u64 = 1 << 0;
    pub const IMA_C: u64 = 1 << 1;
    /// `CPUPERF_0`: misaligned accesses are emulated (by the kernel).
    pub const MISALIGNED_EMULATED: u64 = 1;
}

impl Kernel {
    /// `setuid(id)`, `setgid(id)`: the guest user may set its ids only to its own (an
    /// unprivileged user cannot become another).
    pub(super) fn sys_setid(&mut self, _hw: &mut dyn Hw, _pid: Pid, a: [u64; 6]) -> SysResult {
        let ok = |v: u64| v as u32 == GUEST_UID as u32 || v as u32 == u32::MAX;
        if ok(a[0]) {
            SysResult::Ret(0)
        } else {
            SysResult::Err(errno::EPERM)
        }
    }

    /// `setresuid(r, e, s)`, `setresgid`: every id given is the guest's own, or -1 (left
    /// as it is).
    pub(super) fn sys_setids(&mut self, _hw: &mut dyn Hw, _pid: Pid, a: [u64; 6]) -> SysResult {
        let ok = |v: u64| v as u32 == GUEST_UID as u32 || v as u32 == u32::MAX;
        if ok(a[0]) && ok(a[1]) && ok(a[2]) {
            SysResult::Ret(0)
        } else {
            SysResult::Err(errno::EPERM)
        }
    }

    /// `setreuid`/`setregid`: two ids.
    pub(super) fn sys_setreid(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        self.sys_setids(hw, pid, [a[0], a[1], u64::MAX, 0, 0, 0])
    }

    /// `getpgid(pid)`, `getsid(pid)`: each process leads its own group and session.
    pub(super) fn sys_getpgid(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match a[0] {
            0 => SysResult::Ret(u64::from(pid)),
            p if self.index(p as Pid).is_some() => SysResult::Ret(p),
            _ => SysResult::Err(errno::ESRCH),
        }
    }

    /// `setpgid(pid, pgid)`: only to its own group (it leads it already).
    pub(super) fn sys_setpgid(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let target = if a[0] == 0 { u64::from(pid) } else { a[0] };
        let group = if a[1] == 0 { target } else { a[1] };
        if target != u64::from(pid) {
            return SysResult::Err(errno::ESRCH);
        }
        if group != target {
            return SysResult::Err(errno::EPERM);
        }
        SysResult::Ret(0)
    }

    /// `setsid()`: it leads a group already, so Linux refuses (`EPERM`).
    pub(super) fn sys_setsid(&mut self, _hw: &mut dyn Hw, _pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Err(errno::EPERM)
    }

    /// `getgroups(size, list)`: no supplementary groups.
    pub(super) fn sys_getgroups(&mut self, _hw: &mut dyn Hw, _pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Ret(0)
    }

    /// `prctl(option, ...)`: the thread's name (`PR_SET_NAME`, `PR_GET_NAME`, 16 bytes with
    /// the NUL) and `PR_GET_DUMPABLE`; other options are `EINVAL`.
    pub(super) fn sys_prctl(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        match a[0] {
            PR_GET_NAME => {
                let mut name = [0u8; 16];
                let comm = &self.procs[pi].task.comm;
                let n = comm.len().min(15);
                name[..n].copy_from_slice(&comm[..n]);
                match self.copy_to_user(hw, pid, a[1], &name) {
                    Ok(()) => SysResult::Ret(0),
                    Err(f) => f.into(),
                }
            }
            PR_SET_NAME => match self.copy_string_from_user(hw, pid, a[1], 16) {
                Ok(n) => {
                    let mut n = n.unwrap_or_default();
                    n.truncate(15);
                    if let Some(pi) = self.index(pid) {
                        self.procs[pi].task.comm = n;
                    }
                    SysResult::Ret(0)
                }
                Err(f) => f.into(),
            },
            PR_GET_DUMPABLE => SysResult::Ret(1),
            _ => SysResult::Err(errno::EINVAL),
        }
    }

    /// `riscv_hwprobe(pairs, count, cpusetsize, cpus, flags)`: each `(key, value)` pair
    /// gets the hart's value; an unknown key becomes -1.
    pub(super) fn sys_riscv_hwprobe(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        a: [u64; 6],
    ) -> SysResult {
        let (pairs, count, flags) = (a[0], a[1], a[4]);
        if flags != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        if count == 0 {
            return SysResult::Ret(0);
        }
        let Some(len) = count.checked_mul(16).filter(|&l| l <= 1 << 20) else {
            return SysResult::Err(errno::EINVAL);
        };
        let mut b = match self.copy_from_user(hw, pid, pairs, len) {
            Ok(b) => b,
            Err(f) => return f.into(),
        };
        let letters = self.hwcap;
        let has = |c: u8| letters & (1 << (c - b'a')) != 0;
        for p in b.chunks_mut(16) {
            let key = i64::from_le_bytes(p[..8].try_into().unwrap_or_default());
            let value = match key {
                hwprobe::MVENDORID | hwprobe::MARCHID | hwprobe::MIMPID => Some(0),
                hwprobe::BASE_BEHAVIOR => Some(hwprobe::BASE_BEHAVIOR_IMA),
                hwprobe::IMA_EXT_0 => Some(
                    if has(b'f') && has(b'd') {
                        hwprobe::IMA_FD
                    } else {
                        0
                    } | if has(b'c') { hwprobe::IMA_C } else { 0 },
                ),
                hwprobe::CPUPERF_0 => Some(hwprobe::MISALIGNED_EMULATED),
                _ => None,
            };
            match value {
                Some(v) => p[8..].copy_from_slice(&v.to_le_bytes()),
                None => {
                    p[..8].copy_from_slice(&(-1i64).to_le_bytes());
                    p[8..].copy_from_slice(&0u64.to_le_bytes());
                }
            }
        }
        match self.copy_to_user(hw, pid, pairs, &b) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }
}
