//! Pipes: `pipe2`, and `read`, `write`, `fcntl`, `ioctl`, `fstat` and `close` on a pipe's
//! ends, over the pure pipe of [`crate::pipe`].
//!
//! A call that cannot go on waits on the kernel's wait queues: a `read` of an empty pipe
//! on [`WaitOn::PipeReadable`] until bytes come or the last writer goes, a `write` to a
//! full one on [`WaitOn::PipeWritable`] until room comes or the last reader goes. The
//! process blocks and its `ecall` runs again when it is woken; a write of more than
//! `PIPE_BUF` bytes that had to wait carries the bytes it moved over to its next run (as a
//! file's `read` does), so it returns them all at the end. With `O_NONBLOCK` the call
//! fails with `EAGAIN` instead (or returns what it moved). A write that no process can
//! read gets `SIGPIPE` (its default action ends the process: status 141) and `EPIPE`.
//!
//! When no process can run, none sleeps and the disk has nothing to do, a process blocked
//! on a pipe waits for ever: the run ends as stuck, with each such process and its pipe
//! named ([`Kernel::pipe_deadlock`]).

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux::{self, mode, Stat};
use crate::pipe::{EndId, ReadError, Released, WriteError};
use crate::process::{Access, OpenFile, Pid, State};
use crate::wait::WaitOn;

/// `pipe2`'s flags vmlab serves: `O_NONBLOCK` and `O_CLOEXEC` (`O_DIRECT`, packet mode,
/// is not served: `EINVAL`).
const PIPE2_FLAGS: u64 = crate::pipe::O_NONBLOCK | super::files::o::CLOEXEC;

/// `ioctl(FIONREAD)`: the bytes ready to read.
pub(super) const FIONREAD: u64 = 0x541b;

/// Pipes' inode numbers start here (apart from the console's).
const INO_BASE: u64 = 0x10000;

impl Kernel {
    /// `pipe2(fds, flags)`: a new pipe; its read end on the lowest free descriptor, its
    /// write end on the next, both written to `fds` as two `int`s. Nothing stays open if
    /// they cannot be written (`EFAULT`).
    pub(super) fn sys_pipe2(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fds, flags) = (a[0], a[1]);
        if flags & !PIPE2_FLAGS != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        // The array must be writable before anything is opened.
        if let Err(f) = self.user_pieces(hw, pid, fds, 8, Access::Store, false) {
            return f.into();
        }
        let limit = self.nofile(pid);
        let (_, r, w) = self.pipes.create(flags);
        let cloexec = flags & super::files::o::CLOEXEC != 0;
        let Some(t) = self.files_mut(pid) else {
            return SysResult::NoReturn;
        };
        let rfd = t.open(OpenFile::Pipe(r));
        let wfd = t.open(OpenFile::Pipe(w));
        t.set_cloexec(rfd, cloexec);
        t.set_cloexec(wfd, cloexec);
        let mut bytes = (rfd as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&(wfd as u32).to_le_bytes());
        let r2 = if wfd >= limit {
            SysResult::Err(errno::EMFILE)
        } else {
            match self.copy_to_user(hw, pid, fds, &bytes) {
                Ok(()) => return SysResult::Ret(0),
                Err(f) => f.into(),
            }
        };
        // Undo: close both descriptors.
        for fd in [rfd, wfd] {
            if let Some(f) = self.files_mut(pid).and_then(|t| t.close(fd)) {
                self.release_desc(hw, f);
            }
        }
        r2
    }

    /// Closes a reference to pipe end `id`; when it was the last of its side, the other
    /// side's waiters run again (to see the end of the file, or to get `EPIPE`).
    pub(super) fn release_pipe_end(&mut self, hw: &mut dyn Hw, id: EndId) {
        if let Some(Released {
            pipe,
            write,
            last: true,
        }) = self.pipes.release(id)
        {
            let on = if write {
                WaitOn::PipeReadable { pipe }
            } else {
                WaitOn::PipeWritable { pipe }
            };
            self.wake_on(hw, on);
        }
    }

    /// Wakes every process waiting for `on`.
    fn wake_on(&mut self, hw: &mut dyn Hw, on: WaitOn) {
        for p in self.waits.wake_all(on) {
            self.wake(hw, p);
        }
    }

    /// `pid` waits for `on`: it blocks and its call runs again when woken.
    fn wait_pipe(&mut self, hw: &mut dyn Hw, pid: Pid, on: WaitOn) -> SysResult {
        self.waits.wait(pid, on);
        self.block(hw, pid);
        SysResult::Restart
    }

    /// Reads up to `len` bytes from pipe end `id` into `buf` of `pid`: what the pipe holds
    /// (never waiting for more once it holds some), 0 at the end of the file, else waits.
    pub(super) fn read_pipe(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        id: EndId,
        buf: u64,
        len: u64,
    ) -> SysResult {
        let Some(end) = self.pipes.end(id).filter(|e| !e.write) else {
            return SysResult::Err(errno::EBADF);
        };
        let Some(pipe) = self.pipes.pipe(end.pipe) else {
            return SysResult::Err(errno::EBADF);
        };
        if len == 0 {
            return SysResult::Ret(0);
        }
        // The bytes are taken only once the buffer can hold them (a page of it not in
        // memory is brought in first, and the call runs again).
        let n = (pipe.len() as u64).min(len);
        if n > 0 {
            if let Err(f) = self.user_pieces(hw, pid, buf, n, Access::Store, false) {
                return f.into();
            }
        }
        let Some(pipe) = self.pipes.pipe_mut(end.pipe) else {
            return SysResult::Err(errno::EBADF);
        };
        match pipe.read(n.max(1) as usize) {
            Ok(data) if data.is_empty() => SysResult::Ret(0),
            Ok(data) => {
                self.wake_on(hw, WaitOn::PipeWritable { pipe: end.pipe });
                match self.copy_to_user(hw, pid, buf, &data) {
                    Ok(()) => SysResult::Ret(data.len() as u64),
                    Err(f) => f.into(),
                }
            }
            Err(ReadError::Empty) if end.nonblocking() => SysResult::Err(errno::EAGAIN),
            Err(ReadError::Empty) => {
                self.wait_pipe(hw, pid, WaitOn::PipeReadable { pipe: end.pipe })
            }
        }
    }

    /// `readv` on pipe end `id`: one read of the buffers' total length, spread over them
    /// in order.
    pub(super) fn readv_pipe(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        id: EndId,
        iov: &[(u64, u64)],
    ) -> SysResult {
        let Some(end) = self.pipes.end(id).filter(|e| !e.write) else {
            return SysResult::Err(errno::EBADF);
        };
        let total: u64 = iov
            .iter()
            .map(|&(_, l)| l)
            .sum::<u64>()
            .min(super::io::MAX_RW);
        let Some(held) = self.pipes.pipe(end.pipe).map(|p| p.len() as u64) else {
            return SysResult::Err(errno::EBADF);
        };
        // Every buffer the bytes go to must be writable first.
        let mut left = held.min(total);
        for &(base, l) in iov {
            if left == 0 {
                break;
            }
            let k = l.min(left);
            if let Err(f) = self.user_pieces(hw, pid, base, k, Access::Store, false) {
                return f.into();
            }
            left -= k;
        }
        let Some(pipe) = self.pipes.pipe_mut(end.pipe) else {
            return SysResult::Err(errno::EBADF);
        };
        if total == 0 {
            return SysResult::Ret(0);
        }
        let data = match pipe.read(held.min(total).max(1) as usize) {
            Ok(d) => d,
            Err(ReadError::Empty) if end.nonblocking() => return SysResult::Err(errno::EAGAIN),
            Err(ReadError::Empty) => {
                return self.wait_pipe(hw, pid, WaitOn::PipeReadable { pipe: end.pipe })
            }
        };
        if !data.is_empty() {
            self.wake_on(hw, WaitOn::PipeWritable { pipe: end.pipe });
        }
        let mut at = 0usize;
        for &(base, l) in iov {
            if at >= data.len() {
                break;
            }
            let k = (l as usize).min(data.len() - at);
            if let Err(f) = self.copy_to_user(hw, pid, base, &data[at..at + k]) {
                return if at > 0 {
                    SysResult::Ret(at as u64)
                } else {
                    f.into()
                };
            }
            at += k;
        }
        SysResult::Ret(data.len() as u64)
    }

    /// Writes `data` (copied in already) to pipe end `id`: all of it, waiting for room as
    /// often as it must (a write of up to `PIPE_BUF` bytes goes in whole or not at all);
    /// with `O_NONBLOCK` what fits, or `EAGAIN`. No reader: `SIGPIPE` and `EPIPE`.
    pub(super) fn write_pipe(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        id: EndId,
        data: &[u8],
    ) -> SysResult {
        let Some(end) = self.pipes.end(id).filter(|e| e.write) else {
            return SysResult::Err(errno::EBADF);
        };
        if data.is_empty() {
            return SysResult::Ret(0);
        }
        // Bytes an earlier run of this call moved before it had to wait.
        let done = (self.io_carry.remove(&pid).unwrap_or(0) as usize).min(data.len());
        let Some(pipe) = self.pipes.pipe_mut(end.pipe) else {
            return SysResult::Err(errno::EBADF);
        };
        let moved = pipe.write(&data[done..], done == 0);
        let done = done + *moved.as_ref().unwrap_or(&0);
        if matches!(moved, Ok(n) if n > 0) {
            self.wake_on(hw, WaitOn::PipeReadable { pipe: end.pipe });
        }
        match moved {
            Ok(_) if done == data.len() => SysResult::Ret(done as u64),
            Err(WriteError::NoReader) => {
                self.send_signal(
                    hw,
                    pid,
                    pid,
                    linux::sig::Info::sent(
                        linux::sig::SIGPIPE,
                        0,
                        pid,
                        crate::exec::GUEST_UID as u32,
                    ),
                );
                if done > 0 {
                    SysResult::Ret(done as u64)
                } else {
                    SysResult::Err(errno::EPIPE)
                }
            }
            // Full: what fits went in.
            _ if end.nonblocking() => {
                if done > 0 {
                    SysResult::Ret(done as u64)
                } else {
                    SysResult::Err(errno::EAGAIN)
                }
            }
            _ => {
                if done > 0 {
                    self.io_carry.insert(pid, done as u64);
                }
                self.wait_pipe(hw, pid, WaitOn::PipeWritable { pipe: end.pipe })
            }
        }
    }

    /// What `fstat` says of pipe end `id`: a FIFO of pipefs, one inode per pipe.
    pub(super) fn stat_pipe(&self, id: EndId) -> Option<Stat> {
        let end = self.pipes.end(id)?;
        let t = linux::EPOCH_AT_BOOT * 1_000_000_000;
        Some(Stat {
            dev: linux::makedev(0, 13),
            ino: INO_BASE + end.pipe,
            mode: mode::S_IFIFO | 0o600,
            nlink: 1,
            uid: crate::exec::GUEST_UID as u32,
            gid: crate::exec::GUEST_UID as u32,
            rdev: 0,
            size: 0,
            blksize: 4096,
            blocks: 0,
            atime_ns: t,
            mtime_ns: t,
            ctime_ns: t,
        })
    }

    /// `F_GETPIPE_SZ` (`set` none) or `F_SETPIPE_SZ` on what `file` refers to: the size.
    pub(super) fn pipe_size(&mut self, file: OpenFile, set: Option<u64>) -> SysResult {
        let OpenFile::Pipe(id) = file else {
            return SysResult::Err(errno::EBADF);
        };
        let Some(pipe) = self.pipes.end(id).and_then(|e| self.pipes.pipe_mut(e.pipe)) else {
            return SysResult::Err(errno::EBADF);
        };
        match set {
            None => SysResult::Ret(pipe.size()),
            Some(size) => match pipe.set_size(size & 0xffff_ffff) {
                Ok(s) => SysResult::Ret(s),
                Err(e) => SysResult::Err(e),
            },
        }
    }

    /// How many pipes exist (an end of each is open somewhere): 0 once every process that
    /// made one has ended.
    pub fn open_pipes(&self) -> usize {
        self.pipes.count()
    }

    /// The bytes ready to read on pipe end `id` (`FIONREAD`).
    pub(super) fn pipe_ready(&self, id: EndId) -> Option<u64> {
        let e = self.pipes.end(id)?;
        self.pipes.pipe(e.pipe).map(|p| p.len() as u64)
    }

    /// Why the run cannot go on when a process blocked on a pipe is left and nothing can
    /// wake it (no process can run, none sleeps, the disk is idle): each such process and
    /// its pipe, in words. `None` if no process waits on a pipe.
    pub(super) fn pipe_deadlock(&self) -> Option<String> {
        let mut lines = Vec::new();
        for p in self.procs.iter().filter(|p| p.state == State::Blocked) {
            for on in self.waits.waiting_on(p.pid) {
                let (verb, pipe) = match on {
                    WaitOn::PipeReadable { pipe } => ("to read from", pipe),
                    WaitOn::PipeWritable { pipe } => ("to write to", pipe),
                    _ => continue,
                };
                let what = match self.pipes.pipe(pipe) {
                    Some(x) => format!(
                        "{} of its {} bytes full; {} read and {} write ends open",
                        x.len(),
                        x.size(),
                        x.readers,
                        x.writers
                    ),
                    None => "gone".into(),
                };
                lines.push(format!(
                    "process {} ({}) waits {verb} pipe {pipe} ({what})",
                    p.pid, p.image.name
                ));
            }
        }
        if lines.is_empty() {
            return None;
        }
        Some(format!(
            "a deadlock: {}, and no process that could serve it can run",
            lines.join("; ")
        ))
    }
}
