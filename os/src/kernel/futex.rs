//! Futexes: `futex(2)`'s waits and wakes, the kernel half of every glibc lock, condition
//! variable, barrier and `pthread_join`.
//!
//! A futex is a 32-bit word of user memory. `FUTEX_WAIT` compares the word with the value
//! the caller expects and, while they are equal, puts the caller to sleep on a queue named
//! by the word's *key*; `FUTEX_WAKE` wakes sleepers of a key. The key is what makes two
//! addresses the same futex, as Linux's `get_futex_key` makes it:
//!
//! - a **private** futex (`FUTEX_PRIVATE_FLAG`, or a word in private memory) is the address
//!   in its address space: the threads of one process share it;
//! - a futex in a **shared mapping** of a file (`MAP_SHARED`, a System V or POSIX shared
//!   segment, a shared anonymous mapping: all files under vmlab) is the file and the byte
//!   offset, so that processes that map the same page at different addresses meet.
//!
//! Waits block on the kernel's wait queues ([`WaitOn::Futex`]); a wait with a timeout also
//! sleeps on the kernel's timer, and whichever comes first ends it (`0` woken, `ETIMEDOUT`,
//! or `EINTR` when a signal with a handler arrives). The commands served: `FUTEX_WAIT`,
//! `FUTEX_WAKE`, `FUTEX_REQUEUE`, `FUTEX_CMP_REQUEUE`, `FUTEX_WAKE_OP`,
//! `FUTEX_WAIT_BITSET`, `FUTEX_WAKE_BITSET`; the priority-inheritance ones get `ENOSYS`.

use super::syscalls::SysResult;
use super::time::clock;
use super::{errno, CopyFault, Kernel};
use crate::hw::Hw;
use crate::linux;
use crate::process::{AreaKind, Pid, SpaceId, State};
use crate::wait::WaitOn;
use std::collections::BTreeMap;

/// `futex` operations (`linux/futex.h`).
mod op {
    pub const WAIT: u64 = 0;
    pub const WAKE: u64 = 1;
    pub const REQUEUE: u64 = 3;
    pub const CMP_REQUEUE: u64 = 4;
    pub const WAKE_OP: u64 = 5;
    pub const WAIT_BITSET: u64 = 9;
    pub const WAKE_BITSET: u64 = 10;
    pub const WAIT_REQUEUE_PI: u64 = 11;
    pub const LOCK_PI2: u64 = 13;
    /// The word is private to the process (its threads).
    pub const PRIVATE: u64 = 128;
    /// The timeout is on `CLOCK_REALTIME`, not `CLOCK_MONOTONIC`.
    pub const CLOCK_REALTIME: u64 = 256;
    /// The command bits.
    pub const CMD_MASK: u64 = !(PRIVATE | CLOCK_REALTIME);
}

/// The bitset that matches every waiter (`FUTEX_BITSET_MATCH_ANY`).
const MATCH_ANY: u32 = u32::MAX;

/// The highest user address (Sv57's lower half): a futex above it is `EFAULT`.
const USER_TOP: u64 = 1 << 56;

/// What names a futex (Linux's `union futex_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FutexKey {
    /// A word of an address space: private to the tasks that run in it.
    Private {
        /// The address space.
        space: SpaceId,
        /// The word's address.
        addr: u64,
    },
    /// A word of a file mapped shared: every process that maps it.
    Shared {
        /// The file's inode.
        ino: u64,
        /// The word's offset in the file.
        offset: u64,
    },
}

/// The futexes that have sleepers: each key's queue, in the order they began to wait,
/// with each sleeper's bitset; and the key each sleeper waits on.
#[derive(Clone, Debug, Default)]
pub struct Futexes {
    queues: BTreeMap<FutexKey, Vec<(Pid, u32)>>,
    waiting: BTreeMap<Pid, FutexKey>,
}

impl Futexes {
    /// Adds `pid` at the end of `key`'s queue.
    fn add(&mut self, key: FutexKey, pid: Pid, bitset: u32) {
        self.queues.entry(key).or_default().push((pid, bitset));
        self.waiting.insert(pid, key);
    }

    /// Takes `pid` out of the queue it waits in; whether it waited.
    pub fn remove(&mut self, pid: Pid) -> bool {
        let Some(key) = self.waiting.remove(&pid) else {
            return false;
        };
        if let Some(q) = self.queues.get_mut(&key) {
            q.retain(|&(p, _)| p != pid);
            if q.is_empty() {
                self.queues.remove(&key);
            }
        }
        true
    }

    /// Takes up to `n` sleepers of `key` whose bitset meets `bitset` off its queue, first
    /// come first; returns them.
    fn take(&mut self, key: FutexKey, n: usize, bitset: u32) -> Vec<Pid> {
        let Some(q) = self.queues.get_mut(&key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        q.retain(|&(p, b)| {
            if out.len() < n && b & bitset != 0 {
                out.push(p);
                false
            } else {
                true
            }
        });
        if q.is_empty() {
            self.queues.remove(&key);
        }
        for p in &out {
            self.waiting.remove(p);
        }
        out
    }

    /// Moves up to `n` sleepers of `from` to the end of `to`'s queue; how many moved.
    fn requeue(&mut self, from: FutexKey, to: FutexKey, n: usize) -> usize {
        if from == to || n == 0 {
            return 0;
        }
        let Some(q) = self.queues.get_mut(&from) else {
            return 0;
        };
        let k = n.min(q.len());
        let moved: Vec<(Pid, u32)> = q.drain(..k).collect();
        if q.is_empty() {
            self.queues.remove(&from);
        }
        for &(p, _) in &moved {
            self.waiting.insert(p, to);
        }
        self.queues.entry(to).or_default().extend(moved);
        k
    }

    /// How many sleep on `key`.
    #[cfg(test)]
    pub fn sleepers(&self, key: FutexKey) -> usize {
        self.queues.get(&key).map_or(0, Vec::len)
    }
}

/// `FUTEX_WAKE_OP`'s operation on the second word: the new value from the old one, or
/// `None` for an unknown operation.
fn wake_op_value(op: u32, old: u32, arg: u32) -> Option<u32> {
    Some(match op {
        0 => arg,
        1 => old.wrapping_add(arg),
        2 => old | arg,
        3 => old & !arg,
        4 => old ^ arg,
        _ => return None,
    })
}

/// `FUTEX_WAKE_OP`'s comparison of the second word's old value; `None` for an unknown one.
fn wake_op_compare(cmp: u32, old: i32, arg: i32) -> Option<bool> {
    Some(match cmp {
        0 => old == arg,
        1 => old != arg,
        2 => old < arg,
        3 => old <= arg,
        4 => old > arg,
        5 => old >= arg,
        _ => return None,
    })
}

/// A 12-bit field of `FUTEX_WAKE_OP`'s encoded operation, sign-extended.
fn sign12(v: u32) -> i32 {
    ((v << 20) as i32) >> 20
}

impl Kernel {
    /// `futex(uaddr, op, val, timeout or val2, uaddr2, val3)`.
    pub(super) fn sys_futex(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (uaddr, fop, val, utime, uaddr2, val3) = (a[0], a[1], a[2] as u32, a[3], a[4], a[5]);
        let cmd = fop & op::CMD_MASK;
        let private = fop & op::PRIVATE != 0;
        let realtime = fop & op::CLOCK_REALTIME != 0;
        if realtime
            && !matches!(
                cmd,
                op::WAIT | op::WAIT_BITSET | op::WAIT_REQUEUE_PI | op::LOCK_PI2
            )
        {
            return SysResult::Err(errno::ENOSYS);
        }
        let key = match self.futex_key(pid, uaddr, private) {
            Ok(k) => k,
            Err(e) => return SysResult::Err(e),
        };
        match cmd {
            op::WAIT | op::WAIT_BITSET => {
                let bitset = if cmd == op::WAIT {
                    MATCH_ANY
                } else {
                    val3 as u32
                };
                if bitset == 0 {
                    return SysResult::Err(errno::EINVAL);
                }
                let clock = if realtime {
                    clock::REALTIME
                } else {
                    clock::MONOTONIC
                };
                // FUTEX_WAIT's timeout is relative, FUTEX_WAIT_BITSET's absolute.
                let absolute = cmd == op::WAIT_BITSET;
                self.futex_wait(hw, pid, uaddr, key, val, bitset, utime, clock, absolute)
            }
            op::WAKE | op::WAKE_BITSET => {
                let bitset = if cmd == op::WAKE {
                    MATCH_ANY
                } else {
                    val3 as u32
                };
                if bitset == 0 {
                    return SysResult::Err(errno::EINVAL);
                }
                let n = self.futex_wake(hw, key, val as i32, bitset);
                SysResult::Ret(n as u64)
            }
            op::REQUEUE | op::CMP_REQUEUE => {
                let (nr_wake, nr_requeue) = (val as i32, utime as u32 as i32);
                if nr_wake < 0 || nr_requeue < 0 {
                    return SysResult::Err(errno::EINVAL);
                }
                let key2 = match self.futex_key(pid, uaddr2, private) {
                    Ok(k) => k,
                    Err(e) => return SysResult::Err(e),
                };
                if cmd == op::CMP_REQUEUE {
                    match self.futex_word(hw, pid, uaddr) {
                        Ok(w) if w != val3 as u32 => return SysResult::Err(errno::EAGAIN),
                        Ok(_) => {}
                        Err(f) => return f.into(),
                    }
                }
                let woken = self.futex_wake(hw, key, nr_wake, MATCH_ANY);
                let moved = self.futexes.requeue(key, key2, nr_requeue as usize);
                SysResult::Ret((woken + moved) as u64)
            }
            op::WAKE_OP => {
                let key2 = match self.futex_key(pid, uaddr2, private) {
                    Ok(k) => k,
                    Err(e) => return SysResult::Err(e),
                };
                self.futex_wake_op(hw, pid, [key, key2], uaddr2, val, utime as u32, val3 as u32)
            }
            _ => SysResult::Err(errno::ENOSYS),
        }
    }

    /// The key of the futex at `uaddr` of `pid` (`EINVAL` misaligned, `EFAULT` outside
    /// user memory or, for a shared futex, outside every area).
    pub(super) fn futex_key(&self, pid: Pid, uaddr: u64, private: bool) -> Result<FutexKey, u64> {
        if !uaddr.is_multiple_of(4) {
            return Err(errno::EINVAL);
        }
        if uaddr >= USER_TOP {
            return Err(errno::EFAULT);
        }
        let Some(pi) = self.index(pid) else {
            return Err(errno::ESRCH);
        };
        let space = self.procs[pi].space;
        let private_key = FutexKey::Private { space, addr: uaddr };
        if private {
            return Ok(private_key);
        }
        let Some(mm) = self.address_space(pid) else {
            return Err(errno::EFAULT);
        };
        let Some(i) = mm.area_index(uaddr) else {
            return Err(errno::EFAULT);
        };
        let area = &mm.areas[i];
        Ok(match area.kind {
            AreaKind::Mapped {
                ino,
                offset,
                shared: true,
            } => FutexKey::Shared {
                ino,
                offset: offset + (uaddr - area.start),
            },
            _ => private_key,
        })
    }

    /// The futex word at `uaddr` of `pid`.
    fn futex_word(&mut self, hw: &mut dyn Hw, pid: Pid, uaddr: u64) -> Result<u32, CopyFault> {
        let b = self.copy_from_user(hw, pid, uaddr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `FUTEX_WAIT`, `FUTEX_WAIT_BITSET`: sleeps on `key` while the word at `uaddr` is
    /// `val`, until woken (0), the time at `utime` (if not 0) has come (`ETIMEDOUT`), or a
    /// signal with a handler arrives (`EINTR`).
    #[allow(clippy::too_many_arguments)]
    fn futex_wait(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        uaddr: u64,
        key: FutexKey,
        val: u32,
        bitset: u32,
        utime: u64,
        clock: u64,
        absolute: bool,
    ) -> SysResult {
        // The timeout first (Linux reads it before it looks at the word).
        let deadline = if utime != 0 {
            let b = match self.copy_from_user(hw, pid, utime, 16) {
                Ok(b) => b,
                Err(f) => return f.into(),
            };
            let Some(t) = linux::read_timespec(&b) else {
                return SysResult::Err(errno::EINVAL);
            };
            let ns = if absolute {
                let Some(now) = self.clock_now(hw, pid, clock) else {
                    return SysResult::Err(errno::EINVAL);
                };
                t.saturating_sub(now)
            } else {
                t
            };
            Some(hw.now().saturating_add(self.cycles_for(ns)))
        } else {
            None
        };
        match self.futex_word(hw, pid, uaddr) {
            Ok(w) if w != val => return SysResult::Err(errno::EAGAIN),
            Ok(_) => {}
            Err(f) => return f.into(),
        }
        if deadline.is_some_and(|d| d <= hw.now()) {
            return SysResult::Err(errno::ETIMEDOUT);
        }
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        // Woken by FUTEX_WAKE: the call returns 0.
        self.procs[pi].regs[10] = 0;
        self.futexes.add(key, pid, bitset);
        if let Some(d) = deadline {
            self.sleepers.insert((d, pid));
        }
        self.waits.wait(pid, WaitOn::Futex { pid });
        self.block(hw, pid);
        SysResult::Block
    }

    /// Wakes up to `n` sleepers of `key` whose bitset meets `bitset` (none for `n` ≤ 0);
    /// how many it woke.
    pub(super) fn futex_wake(
        &mut self,
        hw: &mut dyn Hw,
        key: FutexKey,
        n: i32,
        bitset: u32,
    ) -> usize {
        let n = usize::try_from(n).unwrap_or(0);
        let woken = self.futexes.take(key, n, bitset);
        for &p in &woken {
            self.end_futex_wait(hw, p, 0);
        }
        woken.len()
    }

    /// Ends `pid`'s futex wait (it is off its queue): the call returns `-err` (0 for a
    /// wake), its timer goes, and it runs again.
    fn end_futex_wait(&mut self, hw: &mut dyn Hw, pid: Pid, err: u64) {
        self.sleepers.retain(|&(_, p)| p != pid);
        if let Some(pi) = self.index(pid) {
            self.procs[pi].regs[10] = err.wrapping_neg();
        }
        self.waits.wake_all(WaitOn::Futex { pid });
        self.wake(hw, pid);
    }

    /// `FUTEX_WAKE_OP`: changes the word at `uaddr2` by the operation `enc` encodes, wakes
    /// up to `nr_wake` sleepers of the first key and, if the second word's old value meets
    /// the encoded comparison, up to `nr_wake2` of the second.
    #[allow(clippy::too_many_arguments)]
    fn futex_wake_op(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        keys: [FutexKey; 2],
        uaddr2: u64,
        nr_wake: u32,
        nr_wake2: u32,
        enc: u32,
    ) -> SysResult {
        let op = (enc >> 28) & 7;
        let shift = (enc >> 28) & 8 != 0;
        let cmp = (enc >> 24) & 15;
        let mut arg = sign12((enc >> 12) & 0xfff) as u32;
        let cmparg = sign12(enc & 0xfff);
        if shift {
            arg = 1u32 << (arg & 31);
        }
        let old = match self.futex_word(hw, pid, uaddr2) {
            Ok(w) => w,
            Err(f) => return f.into(),
        };
        let (Some(new), Some(meets)) = (
            wake_op_value(op, old, arg),
            wake_op_compare(cmp, old as i32, cmparg),
        ) else {
            return SysResult::Err(errno::ENOSYS);
        };
        if let Err(f) = self.copy_to_user(hw, pid, uaddr2, &new.to_le_bytes()) {
            return f.into();
        }
        let mut woken = self.futex_wake(hw, keys[0], nr_wake as i32, MATCH_ANY);
        if meets {
            woken += self.futex_wake(hw, keys[1], nr_wake2 as i32, MATCH_ANY);
        }
        SysResult::Ret(woken as u64)
    }

    /// When nothing can wake anyone (no disk transfer, no timer): the tasks asleep on
    /// futexes, in words, for the run's end as stuck; `None` if none is.
    pub(super) fn futex_deadlock(&self) -> Option<String> {
        let lines: Vec<String> = self
            .futexes
            .waiting
            .iter()
            .filter_map(|(&pid, key)| {
                let p = &self.procs[self.index(pid)?];
                let word = match *key {
                    FutexKey::Private { addr, .. } => format!("the futex at {addr:#x}"),
                    FutexKey::Shared { ino, offset } => {
                        format!("the shared futex at offset {offset:#x} of file {ino}")
                    }
                };
                Some(format!(
                    "task {pid} of process {} ({}) waits on {word}",
                    p.tgid, p.image.name
                ))
            })
            .collect();
        if lines.is_empty() {
            return None;
        }
        Some(format!(
            "a deadlock: {}, and no task that could wake it can run",
            lines.join("; ")
        ))
    }

    /// A sleeper whose time has come: if it waited on a futex, the wait ends with
    /// `ETIMEDOUT` (true); false if it was not in a futex wait.
    pub(super) fn futex_timed_out(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        if !self.futexes.remove(pid) {
            return false;
        }
        self.end_futex_wait(hw, pid, errno::ETIMEDOUT);
        true
    }

    /// A signal with a handler reached `pid`: a futex wait it is in ends with `EINTR`
    /// (glibc's callers wait again). False if it was in none.
    pub(super) fn interrupt_futex(&mut self, hw: &mut dyn Hw, pid: Pid) -> bool {
        let blocked = self
            .index(pid)
            .is_some_and(|i| self.procs[i].state == State::Blocked);
        if !blocked || !self.futexes.remove(pid) {
            return false;
        }
        self.end_futex_wait(hw, pid, errno::EINTR);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(addr: u64) -> FutexKey {
        FutexKey::Private { space: 1, addr }
    }

    #[test]
    fn wakes_come_in_order_and_respect_bitsets() {
        let mut f = Futexes::default();
        f.add(key(8), 2, MATCH_ANY);
        f.add(key(8), 3, 0b01);
        f.add(key(8), 4, 0b10);
        f.add(key(16), 5, MATCH_ANY);
        assert_eq!(f.take(key(8), 1, 0b10), vec![2], "first come first");
        assert_eq!(f.take(key(8), 5, 0b10), vec![4], "3's bitset misses");
        assert_eq!(f.sleepers(key(8)), 1);
        assert_eq!(
            f.take(key(8), 0, MATCH_ANY),
            Vec::<Pid>::new(),
            "n = 0 wakes none"
        );
        assert!(f.remove(3));
        assert!(!f.remove(3), "gone");
        assert_eq!(f.sleepers(key(8)), 0);
        assert_eq!(f.sleepers(key(16)), 1);
    }

    #[test]
    fn requeue_moves_the_oldest_sleepers() {
        let mut f = Futexes::default();
        for p in 2..6 {
            f.add(key(8), p, MATCH_ANY);
        }
        assert_eq!(f.take(key(8), 1, MATCH_ANY), vec![2]);
        assert_eq!(f.requeue(key(8), key(32), 2), 2);
        assert_eq!(f.requeue(key(8), key(8), 2), 0, "to itself: nothing moves");
        assert_eq!((f.sleepers(key(8)), f.sleepers(key(32))), (1, 2));
        // A moved sleeper is found (and removed) under its new key.
        assert!(f.remove(3));
        assert_eq!(f.take(key(32), 9, MATCH_ANY), vec![4]);
        assert_eq!(f.take(key(8), 9, MATCH_ANY), vec![5]);
    }

    #[test]
    fn wake_op_encodings_decode_as_linux() {
        // op, old, arg -> new
        let ops = [
            (0, 5, 9, Some(9)),
            (1, 5, 9, Some(14)),
            (2, 5, 8, Some(13)),
            (3, 7, 2, Some(5)),
            (4, 6, 3, Some(5)),
            (5, 1, 1, None),
        ];
        for (op, old, arg, want) in ops {
            assert_eq!(wake_op_value(op, old, arg), want, "op {op}");
        }
        let cmps = [
            (0, 1, 1, Some(true)),
            (1, 1, 1, Some(false)),
            (2, -1, 0, Some(true)),
            (3, 0, 0, Some(true)),
            (4, 0, -1, Some(true)),
            (5, -2, -1, Some(false)),
            (6, 0, 0, None),
        ];
        for (cmp, old, arg, want) in cmps {
            assert_eq!(wake_op_compare(cmp, old, arg), want, "cmp {cmp}");
        }
        assert_eq!(sign12(0xfff), -1);
        assert_eq!(sign12(0x7ff), 2047);
    }
}
