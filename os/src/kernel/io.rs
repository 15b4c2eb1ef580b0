//! System calls on file descriptors of the console (standard input, output and error) and
//! the generic ones of the descriptor table: `read`, `write`, `readv`, `writev`, `ioctl`,
//! `fstat` and the `stat` family on a descriptor, `lseek`, `fcntl`, `dup`, `dup3`,
//! `getcwd`, `readlinkat` of `/proc/self/exe`, and `sysinfo`. A pipe's ends go to
//! [`super::pipes`].
//!
//! The console's three descriptors are a terminal when vmlab's own are (then `ioctl`
//! answers `TCGETS` and `TIOCGWINSZ`), else a pipe.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::linux::{self, mode, Stat};
use crate::process::{OpenFile, Pid};

/// A `stat` with every field 0 (the console's fill in theirs).
const EMPTY: Stat = Stat {
    dev: 0,
    ino: 0,
    mode: 0,
    nlink: 0,
    uid: 0,
    gid: 0,
    rdev: 0,
    size: 0,
    blksize: 0,
    blocks: 0,
    atime_ns: 0,
    mtime_ns: 0,
    ctime_ns: 0,
};

/// The most bytes one `read` or `write` moves (Linux's `MAX_RW_COUNT`, rounded).
pub(super) const MAX_RW: u64 = 1 << 20;
/// The most entries of an `iovec` array (`UIO_MAXIOV`).
const IOV_MAX: u64 = 1024;

/// `ioctl` requests vmlab answers for a terminal.
mod req {
    pub const TCGETS: u64 = 0x5401;
    pub const TIOCGPGRP: u64 = 0x540f;
    pub const TIOCGWINSZ: u64 = 0x5413;
}

/// `fcntl` commands.
mod fcntl {
    pub const F_DUPFD: u64 = 0;
    pub const F_GETFD: u64 = 1;
    pub const F_SETFD: u64 = 2;
    pub const F_GETFL: u64 = 3;
    pub const F_SETFL: u64 = 4;
    pub const F_DUPFD_CLOEXEC: u64 = 1030;
    pub const F_SETPIPE_SZ: u64 = 1031;
    pub const F_GETPIPE_SZ: u64 = 1032;
    /// The descriptor flag `F_GETFD` and `F_SETFD` know.
    pub const FD_CLOEXEC: u64 = 1;
}

impl Kernel {
    /// What `fd` of `pid` refers to; `Err(NoReturn)` if the process is gone, `Err(EBADF)` if
    /// the descriptor is not open.
    pub(super) fn fd(&mut self, pid: Pid, fd: u64) -> Result<OpenFile, SysResult> {
        let Some(t) = self.files_mut(pid) else {
            return Err(SysResult::NoReturn);
        };
        t.get(fd).ok_or(SysResult::Err(errno::EBADF))
    }

    /// `read(fd, buf, count)`: standard input reads vmlab's.
    pub(super) fn sys_read(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fd, buf, len) = (a[0], a[1], a[2].min(MAX_RW));
        match self.fd(pid, fd) {
            Ok(OpenFile::Console(0)) => {}
            Ok(f @ OpenFile::Desc(_)) => return self.read_file(hw, pid, f, buf, len, None),
            Ok(OpenFile::Pipe(id)) => return self.read_pipe(hw, pid, id, buf, len),
            Ok(_) => return SysResult::Err(errno::EBADF),
            Err(r) => return r,
        }
        if len == 0 {
            return SysResult::Ret(0);
        }
        // The buffer must be writable before anything is consumed from the input.
        if let Err(f) = self.user_pieces(hw, pid, buf, len, crate::process::Access::Store, false) {
            return f.into();
        }
        let mut data = vec![0u8; len as usize];
        let n = hw.input(&mut data);
        match self.copy_to_user(hw, pid, buf, &data[..n]) {
            Ok(()) => SysResult::Ret(n as u64),
            Err(f) => f.into(),
        }
    }

    /// `write(fd, buf, count)` to standard output or error: the bytes the process may read
    /// from `buf`, up to the first it may not (a short write), at most 1 MiB.
    pub(super) fn sys_write(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fd, buf, len) = (a[0], a[1], a[2]);
        let file = match self.fd(pid, fd) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let len = len.min(MAX_RW);
        if let OpenFile::Pipe(id) = file {
            return match self.copy_from_user(hw, pid, buf, len) {
                Ok(data) => self.write_pipe(hw, pid, id, &data),
                Err(f) => f.into(),
            };
        }
        if len == 0 {
            return SysResult::Ret(0);
        }
        let out_fd = match file {
            OpenFile::Console(c @ (1 | 2)) => u64::from(c),
            OpenFile::Desc(_) => {
                return match self.copy_from_user(hw, pid, buf, len) {
                    Ok(data) => self.write_file(hw, pid, file, &data, None),
                    Err(f) => f.into(),
                }
            }
            _ => return SysResult::Err(errno::EBADF),
        };
        let out = match self.copy_from_user_partial(hw, pid, buf, len) {
            Ok(out) => out,
            Err(f) => return f.into(),
        };
        let c = self.sv.cost().write_byte.saturating_mul(out.len() as u64);
        self.sv.charge(hw, c);
        hw.output(out_fd, &out);
        SysResult::Ret(out.len() as u64)
    }

    /// The `iovec` array at `iov` (`count` pairs of base and length).
    fn iovecs(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        iov: u64,
        count: u64,
    ) -> Result<Vec<(u64, u64)>, SysResult> {
        if count > IOV_MAX {
            return Err(SysResult::Err(errno::EINVAL));
        }
        let b = self
            .copy_from_user(hw, pid, iov, count * 16)
            .map_err(SysResult::from)?;
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        let v: Vec<(u64, u64)> = (0..count as usize)
            .map(|i| (w(2 * i), w(2 * i + 1)))
            .collect();
        if v.iter().any(|&(_, l)| l > i64::MAX as u64) {
            return Err(SysResult::Err(errno::EINVAL));
        }
        Ok(v)
    }

    /// `pread64(fd, buf, count, offset)`: at `offset`, the file offset unchanged.
    pub(super) fn sys_pread64(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if (a[3] as i64) < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        match self.fd(pid, a[0]) {
            Ok(f @ OpenFile::Desc(_)) => {
                self.read_file(hw, pid, f, a[1], a[2].min(MAX_RW), Some(a[3]))
            }
            Ok(OpenFile::Console(_) | OpenFile::Pipe(_)) => SysResult::Err(errno::ESPIPE),
            Err(r) => r,
        }
    }

    /// `pwrite64(fd, buf, count, offset)`.
    pub(super) fn sys_pwrite64(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if (a[3] as i64) < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let file = match self.fd(pid, a[0]) {
            Ok(f @ OpenFile::Desc(_)) => f,
            Ok(OpenFile::Console(_) | OpenFile::Pipe(_)) => return SysResult::Err(errno::ESPIPE),
            Err(r) => return r,
        };
        match self.copy_from_user(hw, pid, a[1], a[2].min(MAX_RW)) {
            Ok(data) => self.write_file(hw, pid, file, &data, Some(a[3])),
            Err(f) => f.into(),
        }
    }

    /// `writev(fd, iov, iovcnt)`: the buffers in order, as one write.
    pub(super) fn sys_writev(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let iov = match self.iovecs(hw, pid, a[1], a[2]) {
            Ok(v) => v,
            Err(r) => return r,
        };
        if let Err(r) = self.fd(pid, a[0]) {
            return r;
        }
        // Gather first (a page fault restarts the whole call before anything is written).
        let mut data = Vec::new();
        for (base, len) in iov {
            if len == 0 {
                continue;
            }
            match self.copy_from_user(hw, pid, base, len.min(MAX_RW)) {
                Ok(b) => data.extend_from_slice(&b),
                Err(f) => return f.into(),
            }
        }
        self.write_bytes(hw, pid, a[0], &data)
    }

    /// Writes `data` (already copied in) to `fd`.
    fn write_bytes(&mut self, hw: &mut dyn Hw, pid: Pid, fd: u64, data: &[u8]) -> SysResult {
        match self.fd(pid, fd) {
            Ok(OpenFile::Console(c @ (1 | 2))) => {
                let c2 = self.sv.cost().write_byte.saturating_mul(data.len() as u64);
                self.sv.charge(hw, c2);
                hw.output(u64::from(c), data);
                SysResult::Ret(data.len() as u64)
            }
            Ok(f @ OpenFile::Desc(_)) => self.write_file(hw, pid, f, data, None),
            Ok(OpenFile::Pipe(id)) => self.write_pipe(hw, pid, id, data),
            Ok(_) => SysResult::Err(errno::EBADF),
            Err(r) => r,
        }
    }

    /// `readv(fd, iov, iovcnt)`: reads into the buffers in order.
    pub(super) fn sys_readv(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let iov = match self.iovecs(hw, pid, a[1], a[2]) {
            Ok(v) => v,
            Err(r) => return r,
        };
        if let Ok(OpenFile::Pipe(id)) = self.fd(pid, a[0]) {
            return self.readv_pipe(hw, pid, id, &iov);
        }
        let mut total = 0;
        for (base, len) in iov {
            if len == 0 {
                continue;
            }
            match self.sys_read(hw, pid, [a[0], base, len, 0, 0, 0]) {
                SysResult::Ret(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                r if total == 0 => return r,
                _ => {
                    // A later buffer had to wait: the call returns what the earlier ones
                    // got (once the wait is over), and carries nothing into the next.
                    self.io_carry.remove(&pid);
                    break;
                }
            }
        }
        SysResult::Ret(total)
    }

    /// What `stat` says about what `fd` refers to.
    pub(super) fn stat_of(&self, hw: &dyn Hw, file: OpenFile) -> Result<Stat, crate::fs::Errno> {
        let t = linux::EPOCH_AT_BOOT * 1_000_000_000;
        Ok(match file {
            OpenFile::Desc(_) => match self.stat_desc(file) {
                Some(r) => r?,
                None => return Err(crate::fs::Errno::EBADF),
            },
            OpenFile::Pipe(id) => self.stat_pipe(id).ok_or(crate::fs::Errno::EBADF)?,
            OpenFile::Console(c) if hw.is_terminal(u64::from(c)) => Stat {
                dev: linux::makedev(0, 25),
                ino: 3,
                mode: mode::S_IFCHR | 0o620,
                nlink: 1,
                uid: crate::exec::GUEST_UID as u32,
                gid: 5,
                rdev: linux::makedev(136, 0),
                blksize: 1024,
                atime_ns: t,
                mtime_ns: t,
                ctime_ns: t,
                ..EMPTY
            },
            OpenFile::Console(c) => Stat {
                dev: linux::makedev(0, 13),
                ino: 1000 + u64::from(c),
                mode: mode::S_IFIFO | 0o600,
                nlink: 1,
                uid: crate::exec::GUEST_UID as u32,
                gid: crate::exec::GUEST_UID as u32,
                blksize: 4096,
                atime_ns: t,
                mtime_ns: t,
                ctime_ns: t,
                ..EMPTY
            },
        })
    }

    /// `fstat(fd, statbuf)`.
    pub(super) fn sys_fstat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let st = match self.stat_of(hw, file) {
            Ok(s) => s.to_stat(),
            Err(e) => return e.into(),
        };
        match self.copy_to_user(hw, pid, a[1], &st) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `ioctl(fd, request, arg)`: `TCGETS`, `TIOCGWINSZ` and `TIOCGPGRP` on a terminal,
    /// `FIONREAD` on a pipe; anything else is `ENOTTY`.
    pub(super) fn sys_ioctl(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fd, request, arg) = (a[0], a[1] & 0xffff_ffff, a[2]);
        let file = match self.fd(pid, fd) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if let (OpenFile::Pipe(id), super::pipes::FIONREAD) = (file, request) {
            let n = self.pipe_ready(id).unwrap_or(0) as u32;
            return match self.copy_to_user(hw, pid, arg, &n.to_le_bytes()) {
                Ok(()) => SysResult::Ret(0),
                Err(f) => f.into(),
            };
        }
        let OpenFile::Console(c) = file else {
            return SysResult::Err(errno::ENOTTY);
        };
        if !hw.is_terminal(u64::from(c)) {
            return SysResult::Err(errno::ENOTTY);
        }
        let bytes: Vec<u8> = match request {
            req::TCGETS => {
                // A terminal in its usual cooked mode: ICRNL|IXON, OPOST|ONLCR,
                // B38400|CS8|CREAD, ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN.
                let mut t = Vec::with_capacity(36);
                for w in [0x0500u32, 0x0005, 0x00bf, 0x8a3b] {
                    t.extend_from_slice(&w.to_le_bytes());
                }
                t.push(0); // c_line
                t.extend_from_slice(&[
                    3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0,
                ]);
                t
            }
            req::TIOCGWINSZ => [24u16, 80, 0, 0]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect(),
            req::TIOCGPGRP => pid.to_le_bytes().to_vec(),
            _ => return SysResult::Err(errno::ENOTTY),
        };
        match self.copy_to_user(hw, pid, arg, &bytes) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `lseek(fd, offset, whence)`: the console cannot seek.
    pub(super) fn sys_lseek(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.fd(pid, a[0]) {
            Ok(OpenFile::Console(_) | OpenFile::Pipe(_)) => SysResult::Err(errno::ESPIPE),
            Ok(f @ OpenFile::Desc(_)) => self.seek_desc(f, a[1], a[2]),
            Err(r) => r,
        }
    }

    /// `fcntl(fd, cmd, arg)`: duplicating (`F_DUPFD`, `F_DUPFD_CLOEXEC`), the descriptor's
    /// close-on-exec flag (`F_GETFD`, `F_SETFD`), the description's status flags
    /// (`F_GETFL`, `F_SETFL`: `O_APPEND` and `O_NONBLOCK` may change), a pipe's size
    /// (`F_GETPIPE_SZ`, `F_SETPIPE_SZ`).
    pub(super) fn sys_fcntl(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fd, cmd, arg) = (a[0], a[1] & 0xffff_ffff, a[2]);
        let file = match self.fd(pid, fd) {
            Ok(f) => f,
            Err(r) => return r,
        };
        match cmd {
            fcntl::F_DUPFD | fcntl::F_DUPFD_CLOEXEC => {
                let limit = self.nofile(pid);
                if arg >= limit {
                    return SysResult::Err(errno::EINVAL);
                }
                self.hold_desc(file);
                let Some(t) = self.files_mut(pid) else {
                    return SysResult::NoReturn;
                };
                let new = t.open_from(arg, file);
                if new >= limit {
                    t.close(new);
                    self.release_desc(hw, file);
                    return SysResult::Err(errno::EMFILE);
                }
                t.set_cloexec(new, cmd == fcntl::F_DUPFD_CLOEXEC);
                SysResult::Ret(new)
            }
            fcntl::F_GETFD => match self.files_mut(pid).and_then(|t| t.cloexec(fd)) {
                Some(c) => SysResult::Ret(if c { fcntl::FD_CLOEXEC } else { 0 }),
                None => SysResult::Err(errno::EBADF),
            },
            fcntl::F_SETFD => match self.files_mut(pid) {
                Some(t) => {
                    t.set_cloexec(fd, arg & fcntl::FD_CLOEXEC != 0);
                    SysResult::Ret(0)
                }
                None => SysResult::NoReturn,
            },
            fcntl::F_SETFL => {
                match file {
                    OpenFile::Pipe(id) => self.pipes.set_flags(id, arg),
                    _ => self.set_desc_flags(file, arg),
                }
                SysResult::Ret(0)
            }
            fcntl::F_GETFL => SysResult::Ret(match file {
                OpenFile::Console(c) if hw.is_terminal(u64::from(c)) => 2,
                OpenFile::Console(0) => 0,
                OpenFile::Console(_) => 1,
                OpenFile::Desc(_) => self.desc_flags(file).unwrap_or(0),
                OpenFile::Pipe(id) => self.pipes.end(id).map_or(0, |e| e.flags),
            }),
            // The console poses as a pipe when it is not a terminal: it has the size of a
            // new pipe's, and a new size changes nothing.
            fcntl::F_GETPIPE_SZ | fcntl::F_SETPIPE_SZ if matches!(file, OpenFile::Console(c) if !hw.is_terminal(u64::from(c))) =>
            {
                let mut p = crate::pipe::Pipe::new();
                match cmd {
                    fcntl::F_GETPIPE_SZ => SysResult::Ret(p.size()),
                    _ => p
                        .set_size(arg & 0xffff_ffff)
                        .map_or_else(SysResult::Err, SysResult::Ret),
                }
            }
            fcntl::F_GETPIPE_SZ => self.pipe_size(file, None),
            fcntl::F_SETPIPE_SZ => self.pipe_size(file, Some(arg)),
            _ => SysResult::Err(errno::EINVAL),
        }
    }

    /// The process's `RLIMIT_NOFILE` soft limit.
    pub(super) fn nofile(&self, pid: Pid) -> u64 {
        self.index(pid)
            .map_or(0, |i| self.procs[i].task.rlimits[linux::rlimit::NOFILE].0)
    }

    /// `dup(fd)`: the lowest free descriptor.
    pub(super) fn sys_dup(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let limit = self.nofile(pid);
        self.hold_desc(file);
        match self.files_mut(pid) {
            Some(t) => {
                let fd = t.open(file);
                if fd >= limit {
                    t.close(fd);
                    self.release_desc(hw, file);
                    return SysResult::Err(errno::EMFILE);
                }
                SysResult::Ret(fd)
            }
            None => SysResult::NoReturn,
        }
    }

    /// `dup3(oldfd, newfd, flags)`: `newfd` closed first if open; with `O_CLOEXEC` the new
    /// descriptor's close-on-exec flag is set.
    pub(super) fn sys_dup3(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (old, new, flags) = (a[0], a[1], a[2]);
        if flags & !super::files::o::CLOEXEC != 0 || old == new {
            return SysResult::Err(errno::EINVAL);
        }
        let file = match self.fd(pid, old) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if new >= self.nofile(pid) {
            return SysResult::Err(errno::EBADF);
        }
        self.hold_desc(file);
        let Some(t) = self.files_mut(pid) else {
            return SysResult::NoReturn;
        };
        let old_file = t.close(new);
        t.put(new, file);
        t.set_cloexec(new, flags & super::files::o::CLOEXEC != 0);
        if let Some(f) = old_file {
            self.release_desc(hw, f);
        }
        SysResult::Ret(new)
    }

    /// `sysinfo(info)`: uptime in modelled seconds, the user memory and what is free of it,
    /// one process per program still alive.
    pub(super) fn sys_sysinfo(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let mut b = [0u8; 112];
        let uptime = hw.now() / self.clock_hz.max(1);
        b[..8].copy_from_slice(&uptime.to_le_bytes());
        let total = self.user_bytes;
        let free = self.mem.free_bytes().unwrap_or(total);
        b[32..40].copy_from_slice(&total.to_le_bytes());
        b[40..48].copy_from_slice(&free.to_le_bytes());
        let procs = self.procs.iter().filter(|p| !p.state.ended()).count() as u16;
        b[80..82].copy_from_slice(&procs.to_le_bytes());
        b[104..108].copy_from_slice(&1u32.to_le_bytes());
        match self.copy_to_user(hw, pid, a[0], &b) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }
}
