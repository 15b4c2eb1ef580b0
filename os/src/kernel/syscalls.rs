//! System calls: one table row per call (number, name, handler), the results a handler may
//! give, and the copies to and from user memory every handler uses.
//!
//! A handler returns a [`SysResult`]: a value for `a0`, an error number (`a0` gets its
//! negation), `Block` (the process waits; what `a0` will hold was set by the handler),
//! `Restart` (a page of its buffer had to be brought in first: the `ecall` runs again when
//! the process next runs, and counts once), or `NoReturn` (the process ended). The copies
//! ([`Kernel::copy_from_user`], [`Kernel::copy_to_user`],
//! [`Kernel::copy_string_from_user`]) work the same under every scheme: they ask the scheme
//! where each user address is ([`crate::scheme::Scheme::user_addr`]), fault in what is not
//! in memory as the process's own access would, and report an address the process may not
//! touch as `EFAULT`.

use super::mapped::MapTarget;
use super::{errno, sys, Kernel, MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED};
use crate::hw::Hw;
use crate::image::Perm;
use crate::paging::Outcome;
use crate::process::{Access, Area, AreaKind, Pid, State};
use crate::scheme::UserAddr;
use crate::services::Event;
use std::collections::BTreeMap;

/// What a system call's handler decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysResult {
    /// It returns this value in `a0`.
    Ret(u64),
    /// It fails with this error number (`a0` = its negation).
    Err(u64),
    /// The process waits (or gave up the CPU); `a0` already holds what the call returns.
    Block,
    /// Part of its user memory had to be brought in: the call runs again.
    Restart,
    /// The process ended.
    NoReturn,
}

/// Why a copy to or from user memory stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyFault {
    /// The process may not access the address: `EFAULT`.
    Fault,
    /// A page was not in memory; it is being brought in and the call must run again.
    Restart,
}

impl From<CopyFault> for SysResult {
    fn from(f: CopyFault) -> SysResult {
        match f {
            CopyFault::Fault => SysResult::Err(errno::EFAULT),
            CopyFault::Restart => SysResult::Restart,
        }
    }
}

/// A system call's handler: the kernel, the machine, the calling process and `a0`..`a5`.
pub type Handler = fn(&mut Kernel, &mut dyn Hw, Pid, [u64; 6]) -> SysResult;

/// One row of the system-call table.
#[derive(Clone, Copy)]
pub struct Syscall {
    /// The Linux RISC-V number.
    pub nr: u64,
    /// Its name.
    pub name: &'static str,
    /// What serves it.
    pub handler: Handler,
}

/// One row: the call's number (named in [`crate::linux::NAMES`]), its handler.
macro_rules! row {
    ($nr:expr, $name:literal, $h:ident) => {
        Syscall {
            nr: $nr,
            name: $name,
            handler: Kernel::$h,
        }
    };
}

/// Every system call the kernel serves, in number order.
pub const TABLE: &[Syscall] = &[
    row!(8, "getxattr", sys_getxattr),
    row!(9, "lgetxattr", sys_lgetxattr),
    row!(10, "fgetxattr", sys_fgetxattr),
    row!(11, "listxattr", sys_listxattr),
    row!(12, "llistxattr", sys_llistxattr),
    row!(13, "flistxattr", sys_flistxattr),
    row!(17, "getcwd", sys_getcwd),
    row!(23, "dup", sys_dup),
    row!(24, "dup3", sys_dup3),
    row!(25, "fcntl", sys_fcntl),
    row!(29, "ioctl", sys_ioctl),
    row!(34, "mkdirat", sys_mkdirat),
    row!(35, "unlinkat", sys_unlinkat),
    row!(36, "symlinkat", sys_symlinkat),
    row!(43, "statfs", sys_statfs),
    row!(44, "fstatfs", sys_fstatfs),
    row!(45, "truncate", sys_truncate),
    row!(46, "ftruncate", sys_ftruncate),
    row!(48, "faccessat", sys_faccessat),
    row!(49, "chdir", sys_chdir),
    row!(50, "fchdir", sys_fchdir),
    row!(52, "fchmod", sys_fchmod),
    row!(53, "fchmodat", sys_fchmodat),
    row!(sys::OPENAT, "openat", sys_openat),
    row!(sys::CLOSE, "close", sys_close),
    row!(59, "pipe2", sys_pipe2),
    row!(61, "getdents64", sys_getdents64),
    row!(62, "lseek", sys_lseek),
    row!(sys::READ, "read", sys_read),
    row!(sys::WRITE, "write", sys_write),
    row!(65, "readv", sys_readv),
    row!(66, "writev", sys_writev),
    row!(67, "pread64", sys_pread64),
    row!(68, "pwrite64", sys_pwrite64),
    row!(78, "readlinkat", sys_readlinkat),
    row!(79, "newfstatat", sys_newfstatat),
    row!(80, "fstat", sys_fstat),
    row!(82, "fsync", sys_fsync),
    row!(83, "fdatasync", sys_fsync),
    row!(sys::EXIT, "exit", sys_exit),
    row!(sys::EXIT_GROUP, "exit_group", sys_exit_group),
    row!(95, "waitid", sys_waitid),
    row!(96, "set_tid_address", sys_set_tid_address),
    row!(98, "futex", sys_futex),
    row!(99, "set_robust_list", sys_set_robust_list),
    row!(101, "nanosleep", sys_nanosleep),
    row!(113, "clock_gettime", sys_clock_gettime),
    row!(114, "clock_getres", sys_clock_getres),
    row!(115, "clock_nanosleep", sys_clock_nanosleep),
    row!(123, "sched_getaffinity", sys_sched_getaffinity),
    row!(sys::SCHED_YIELD, "sched_yield", sys_sched_yield),
    row!(129, "kill", sys_kill),
    row!(130, "tkill", sys_tkill),
    row!(131, "tgkill", sys_tgkill),
    row!(132, "sigaltstack", sys_sigaltstack),
    row!(133, "rt_sigsuspend", sys_rt_sigsuspend),
    row!(134, "rt_sigaction", sys_rt_sigaction),
    row!(135, "rt_sigprocmask", sys_rt_sigprocmask),
    row!(136, "rt_sigpending", sys_rt_sigpending),
    row!(139, "rt_sigreturn", sys_rt_sigreturn),
    row!(143, "setregid", sys_setreid),
    row!(144, "setgid", sys_setid),
    row!(145, "setreuid", sys_setreid),
    row!(146, "setuid", sys_setid),
    row!(147, "setresuid", sys_setids),
    row!(148, "getresuid", sys_getresid),
    row!(149, "setresgid", sys_setids),
    row!(150, "getresgid", sys_getresid),
    row!(154, "setpgid", sys_setpgid),
    row!(155, "getpgid", sys_getpgid),
    row!(156, "getsid", sys_getpgid),
    row!(157, "setsid", sys_setsid),
    row!(158, "getgroups", sys_getgroups),
    row!(160, "uname", sys_uname),
    row!(163, "getrlimit", sys_getrlimit),
    row!(164, "setrlimit", sys_setrlimit),
    row!(166, "umask", sys_umask),
    row!(167, "prctl", sys_prctl),
    row!(169, "gettimeofday", sys_gettimeofday),
    row!(sys::GETPID, "getpid", sys_getpid),
    row!(173, "getppid", sys_getppid),
    row!(174, "getuid", sys_getid),
    row!(175, "geteuid", sys_getid),
    row!(176, "getgid", sys_getid),
    row!(177, "getegid", sys_getid),
    row!(178, "gettid", sys_gettid),
    row!(179, "sysinfo", sys_sysinfo),
    row!(194, "shmget", sys_shmget),
    row!(195, "shmctl", sys_shmctl),
    row!(196, "shmat", sys_shmat),
    row!(197, "shmdt", sys_shmdt),
    row!(sys::BRK, "brk", sys_brk),
    row!(sys::MUNMAP, "munmap", sys_munmap),
    row!(216, "mremap", sys_mremap),
    row!(sys::CLONE, "clone", sys_clone),
    row!(221, "execve", sys_execve),
    row!(sys::MMAP, "mmap", sys_mmap),
    row!(223, "fadvise64", sys_fadvise64),
    row!(sys::MPROTECT, "mprotect", sys_mprotect),
    row!(sys::MSYNC, "msync", sys_msync),
    row!(232, "mincore", sys_mincore),
    row!(233, "madvise", sys_madvise),
    row!(258, "riscv_hwprobe", sys_riscv_hwprobe),
    row!(260, "wait4", sys_wait4),
    row!(261, "prlimit64", sys_prlimit64),
    row!(276, "renameat2", sys_renameat2),
    row!(278, "getrandom", sys_getrandom),
    row!(291, "statx", sys_statx),
    row!(293, "rseq", sys_rseq),
    row!(435, "clone3", sys_clone3),
    row!(439, "faccessat2", sys_faccessat2),
];

/// The table's row for call `nr`.
pub fn lookup(nr: u64) -> Option<&'static Syscall> {
    TABLE
        .binary_search_by_key(&nr, |c| c.nr)
        .ok()
        .map(|i| &TABLE[i])
}

impl Kernel {
    /// Serves the `ecall` of `pid` (its pc already past the `ecall`).
    pub(super) fn syscall(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let c = self.sv.cost().syscall;
        self.sv.charge(hw, c);
        self.sv.stats.syscalls += 1;
        let Some(pi) = self.index(pid) else { return };
        self.procs[pi].stats.syscalls += 1;
        let r = self.procs[pi].regs;
        let (n, a) = (r[17], [r[10], r[11], r[12], r[13], r[14], r[15]]);
        let call = lookup(n);
        let brk_before = self.address_space(pid).map_or(0, |m| m.brk);
        if self.memcheck.is_some() {
            self.memcheck_syscall_enter(pid, n, a);
        }
        let result = match call {
            Some(call) => {
                let r = (call.handler)(self, hw, pid, a);
                // Cached pages the call gathered may be replaced again.
                self.unpin_cache();
                r
            }
            None => {
                self.sv.stats.unknown_syscalls += 1;
                *self.unserved.entry(n).or_default() += 1;
                if self.cfg.strict_syscalls {
                    let pc = self.procs[pi].pc.wrapping_sub(4);
                    let k = crate::process::Kill {
                        addr: pc,
                        pc,
                        access: None,
                        cause: "SIGSYS",
                        scheme: self.cfg.scheme.name(),
                        detail: format!(
                            "it made the system call {} ({n}), which vmlab does not serve (os.strict_syscalls / --strict-syscalls)",
                            crate::linux::syscall_name(n).unwrap_or("with no Linux name")
                        ),
                    };
                    self.kill(hw, pid, k);
                    SysResult::NoReturn
                } else {
                    SysResult::Err(errno::ENOSYS)
                }
            }
        };
        if self.sv.trace.is_some() {
            let ret = match result {
                SysResult::Ret(v) => Some(v as i64),
                SysResult::Err(e) => Some(-(e as i64)),
                _ => None,
            };
            let name = call.map_or("?", |c| c.name);
            self.sv.event(
                hw,
                Event::Syscall {
                    pid,
                    nr: n,
                    name,
                    args: a,
                    ret,
                },
            );
        }
        if self.memcheck.is_some() {
            let brk_after = self.address_space(pid).map_or(0, |m| m.brk);
            let ret = match result {
                SysResult::Ret(v) => Some(v),
                _ => None,
            };
            if let Some(mc) = self.memcheck.as_mut() {
                mc.syscall_exit(pid, n, a, ret, (brk_before, brk_after));
            }
        }
        let Some(pi) = self.index(pid) else { return };
        let p = &mut self.procs[pi];
        match result {
            SysResult::Ret(v) if !p.state.ended() => p.regs[10] = v,
            SysResult::Err(e) if !p.state.ended() => p.regs[10] = e.wrapping_neg(),
            SysResult::Restart => {
                // The ecall runs again (an ecall is always 4 bytes); it counts once, when it
                // completes.
                p.pc = p.pc.wrapping_sub(4);
                p.stats.syscalls = p.stats.syscalls.saturating_sub(1);
                self.sv.stats.syscalls = self.sv.stats.syscalls.saturating_sub(1);
            }
            _ => {}
        }
        // Signals sent to itself (raise, abort) act as the call returns.
        self.deliver_signals(hw, pid);
    }

    /// System calls the processes made that the kernel does not serve: each number with how
    /// many times it was made.
    pub fn unserved_syscalls(&self) -> &BTreeMap<u64, u64> {
        &self.unserved
    }

    /// Brings the page of `va` in for `pid`, as its own `access` would fault it in (the
    /// process may block on the disk, or die); the caller's system call then restarts.
    fn fault_in(&mut self, hw: &mut dyn Hw, pid: Pid, va: u64, access: Access) {
        let Some(pi) = self.index(pid) else { return };
        // Reports name the ecall's pc.
        let epc = self.procs[pi].pc.wrapping_sub(4);
        match self.serve_fault(hw, pid, va, access, epc) {
            Outcome::Resume => {}
            Outcome::Block => self.block(hw, pid),
            Outcome::Kill(k) => self.kill(hw, pid, k),
        }
    }

    /// The physical pieces of `[va, va + len)` of `pid` for `access`. With `partial`, stops
    /// short (keeping what it has) at the first byte it cannot reach once it has one.
    pub(super) fn user_pieces(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        len: u64,
        access: Access,
        partial: bool,
    ) -> Result<Vec<(u64, u64)>, CopyFault> {
        let mut pieces = Vec::new();
        let mut done = 0;
        while done < len {
            let at = va.wrapping_add(done);
            match self
                .mem
                .user_addr(hw, self.address_space(pid), pid, at, access)
            {
                UserAddr::Mapped { pa, len: n } => {
                    let n = n.min(len - done).max(1);
                    pieces.push((pa, n));
                    done += n;
                }
                _ if partial && done > 0 => break,
                UserAddr::Absent => {
                    self.fault_in(hw, pid, at, access);
                    return Err(CopyFault::Restart);
                }
                UserAddr::Invalid => return Err(CopyFault::Fault),
            }
        }
        Ok(pieces)
    }

    fn read_pieces(hw: &dyn Hw, pieces: &[(u64, u64)]) -> Result<Vec<u8>, CopyFault> {
        let mut out = Vec::new();
        for &(pa, n) in pieces {
            let at = out.len();
            out.resize(at + n as usize, 0);
            if !hw.read_phys(pa, &mut out[at..]) {
                return Err(CopyFault::Fault);
            }
        }
        Ok(out)
    }

    /// The `len` bytes at `va` in `pid`'s memory, all of them or none.
    pub fn copy_from_user(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        len: u64,
    ) -> Result<Vec<u8>, CopyFault> {
        let pieces = self.user_pieces(hw, pid, va, len, Access::Load, false)?;
        self.memcheck_reads(pid, va, len);
        Kernel::read_pieces(hw, &pieces)
    }

    /// The bytes at `va` in `pid`'s memory up to `len`, fewer if the buffer runs into
    /// memory the process cannot read (after at least one byte), as `write` copies.
    pub(super) fn copy_from_user_partial(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        len: u64,
    ) -> Result<Vec<u8>, CopyFault> {
        let pieces = self.user_pieces(hw, pid, va, len, Access::Load, true)?;
        let got: u64 = pieces.iter().map(|&(_, n)| n).sum();
        self.memcheck_reads(pid, va, got);
        Kernel::read_pieces(hw, &pieces)
    }

    /// Writes `data` to `va` in `pid`'s memory, all of it or none.
    pub fn copy_to_user(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        data: &[u8],
    ) -> Result<(), CopyFault> {
        let pieces = self.user_pieces(hw, pid, va, data.len() as u64, Access::Store, false)?;
        let mut at = 0usize;
        for (pa, n) in pieces {
            if !hw.write_phys(pa, &data[at..at + n as usize]) {
                return Err(CopyFault::Fault);
            }
            at += n as usize;
        }
        self.mem.stored(pid, va, data.len() as u64);
        self.memcheck_wrote(pid, va, data.len() as u64);
        Ok(())
    }

    /// The NUL-terminated string at `va` in `pid`'s memory (without the NUL), read a piece
    /// at a time; `Ok(None)` if no NUL comes within `max` bytes.
    pub fn copy_string_from_user(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        max: u64,
    ) -> Result<Option<Vec<u8>>, CopyFault> {
        let mut out = Vec::new();
        while (out.len() as u64) < max {
            let at = va.wrapping_add(out.len() as u64);
            let mm = self.address_space(pid);
            let piece = match self.mem.user_addr(hw, mm, pid, at, Access::Load) {
                UserAddr::Mapped { pa, len } => (pa, len.min(max - out.len() as u64).max(1)),
                UserAddr::Absent => {
                    self.fault_in(hw, pid, at, Access::Load);
                    return Err(CopyFault::Restart);
                }
                UserAddr::Invalid => return Err(CopyFault::Fault),
            };
            let bytes = Kernel::read_pieces(hw, &[piece])?;
            match bytes.iter().position(|&b| b == 0) {
                Some(end) => {
                    out.extend_from_slice(&bytes[..end]);
                    self.memcheck_reads(pid, va, out.len() as u64 + 1);
                    return Ok(Some(out));
                }
                None => out.extend_from_slice(&bytes),
            }
        }
        Ok(None)
    }

    /// `getpid()`: the process's id, which is its thread group's.
    fn sys_getpid(&mut self, _hw: &mut dyn Hw, pid: Pid, _a: [u64; 6]) -> SysResult {
        SysResult::Ret(u64::from(self.tgid_of(pid)))
    }

    fn sys_sched_yield(&mut self, hw: &mut dyn Hw, pid: Pid, _a: [u64; 6]) -> SysResult {
        if let Some(pi) = self.index(pid) {
            self.procs[pi].regs[10] = 0;
        }
        self.switch_out(hw, pid, State::Ready);
        self.ready.push_back(pid);
        SysResult::Block
    }

    /// `msync(addr, len, flags)`: writes the dirty pages of shared file mappings in the
    /// range back to their file and waits for the writes (`-EIO` if one fails).
    fn sys_msync(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len) = (a[0], a[1]);
        let Some(page) = self.mem.page_size() else {
            return SysResult::Err(errno::EINVAL);
        };
        if !addr.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        let end = addr.saturating_add(len);
        // It waits for the files' write-backs, then runs the call again; or one failed.
        self.sync_mapped(hw, pid, addr, end)
            .unwrap_or(SysResult::Ret(0))
    }

    /// `brk(addr)`: moves the break within the heap's limits if the heap would not run
    /// into another area and the scheme can give it the memory; returns the break.
    pub(super) fn sys_brk(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let addr = a[0];
        let Some(p) = self.address_space(pid) else {
            return SysResult::NoReturn;
        };
        let old = p.brk;
        if addr == 0 || addr < p.heap_start || addr > p.brk_limit {
            return SysResult::Ret(old);
        }
        let heap = p.area_of(&AreaKind::Heap);
        let new_end = self.mem.heap_end(addr);
        // The heap may not run into another area.
        let collides = p
            .areas
            .iter()
            .enumerate()
            .any(|(i, a)| Some(i) != heap && a.start < new_end && a.end > p.heap_start);
        if collides {
            return SysResult::Ret(old);
        }
        let (mem, mut cx) = self.split(hw);
        let Some(area_end) = mem.set_brk(&mut cx, pid, old, addr) else {
            return SysResult::Ret(old);
        };
        let Some(p) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        if let Some(h) = heap {
            p.areas[h].end = area_end;
        }
        p.brk = addr;
        SysResult::Ret(addr)
    }

    /// Where a new mapping of `len` bytes goes: top down from below the stack's lowest
    /// reach, in the first gap that holds it, above the heap's limit.
    pub(super) fn free_range(&self, pid: Pid, len: u64, page: u64) -> Result<u64, SysResult> {
        let Some(p) = self.address_space(pid) else {
            return Err(SysResult::NoReturn);
        };
        let mut top = p.stack_floor & !(page - 1);
        loop {
            let Some(start) = top.checked_sub(len) else {
                return Err(SysResult::Err(errno::ENOMEM));
            };
            if start < p.brk_limit {
                return Err(SysResult::Err(errno::ENOMEM));
            }
            // An area's page is taken even where the area starts or ends inside it.
            match p
                .areas
                .iter()
                .filter(|a| (a.start & !(page - 1)) < top && start < a.end)
                .map(|a| a.start)
                .min()
            {
                None => return Ok(start),
                Some(s) => top = s & !(page - 1),
            }
        }
    }

    /// Makes room at `[addr, end)` for a mapping that replaces what is there (`MAP_FIXED`,
    /// `SHM_REMAP`): earlier mappings there go; the program's own areas (text, data, heap,
    /// stack) may not (`EINVAL`).
    pub(super) fn replace_mappings(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        addr: u64,
        end: u64,
    ) -> Result<(), SysResult> {
        let Some(p) = self.address_space(pid) else {
            return Err(SysResult::NoReturn);
        };
        if p.areas
            .iter()
            .any(|a| !a.kind.is_mapping() && a.start < end && addr < a.end)
        {
            return Err(SysResult::Err(errno::EINVAL));
        }
        if p.overlaps(addr, end) {
            self.sys_munmap(hw, pid, [addr, end - addr, 0, 0, 0, 0]);
        }
        Ok(())
    }

    /// `mmap(addr, len, prot, flags, fd, offset)`: an anonymous mapping, or one of an open
    /// file; at `addr` with `MAP_FIXED` (replacing earlier mappings there), else top down
    /// from below the stack's lowest reach.
    fn sys_mmap(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len, prot, flags, fd, offset) = (a[0], a[1], a[2], a[3], a[4], a[5]);
        if len == 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let shared = flags & MAP_SHARED != 0;
        let target = if flags & MAP_ANONYMOUS != 0 {
            MapTarget::Anonymous
        } else {
            let Some(file) = self.files_mut(pid).and_then(|t| t.get(fd)) else {
                return SysResult::Err(errno::EBADF);
            };
            match self.map_target(file, prot, shared) {
                Ok(t) => t,
                Err(e) => return SysResult::Err(e),
            }
        };
        // A file mapping's pages come in on demand, so a scheme that loads everything at
        // once (simple paging) cannot map files.
        let anonymous = matches!(target, MapTarget::Anonymous);
        if !anonymous && self.mem.page_size().is_some() && !self.mem.demand_paged() {
            return SysResult::Err(errno::ENODEV);
        }
        if self.index(pid).is_none() {
            return SysResult::NoReturn;
        }
        // A contiguous address space has no room outside its program, heap and stack.
        let Some(page) = self.mem.page_size() else {
            return SysResult::Err(errno::ENOMEM);
        };
        let Some(len) = len.checked_next_multiple_of(page) else {
            return SysResult::Err(errno::ENOMEM);
        };
        let start = if flags & MAP_FIXED != 0 {
            if !addr.is_multiple_of(page) {
                return SysResult::Err(errno::EINVAL);
            }
            let Some(end) = addr.checked_add(len) else {
                return SysResult::Err(errno::EINVAL);
            };
            if let Err(r) = self.replace_mappings(hw, pid, addr, end) {
                return r;
            }
            addr
        } else {
            match self.free_range(pid, len, page) {
                Ok(start) => start,
                Err(r) => return r,
            }
        };
        if !anonymous && !offset.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        // A shared anonymous mapping is a mapping of a file of zeros with no name, so that
        // a forked child's pages are the same pages (the paging schemes that map files).
        let target = match target {
            MapTarget::Anonymous if shared && self.mem.demand_paged() => {
                match self.shmem_file(hw, len) {
                    Ok(ino) => MapTarget::Guest(ino),
                    Err(e) => return SysResult::Err(e),
                }
            }
            t => t,
        };
        let kind = match target {
            MapTarget::Guest(ino) => {
                self.hold_mapped(ino);
                AreaKind::Mapped {
                    ino,
                    // (An anonymous mapping's offset means nothing: its file starts at 0.)
                    offset: if anonymous { 0 } else { offset },
                    shared,
                }
            }
            MapTarget::Anonymous => AreaKind::Anon,
        };
        let perm = Perm::from_prot(prot);
        let kind_anon = kind == AreaKind::Anon;
        let Some(mm) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        mm.add_area(Area {
            start,
            end: start + len,
            perm,
            kind,
        });
        let (mem, mut cx) = self.split(hw);
        if !mem.populate(&mut cx, pid, start, start + len, perm) {
            // Out of frames (simple paging): undo the mapping, pages and area alike.
            mem.unmap(&mut cx, pid, start, start + len);
            if let Some(mm) = self.mm_mut(pid) {
                mm.areas.retain(|a| a.start != start);
            }
            self.release_unmapped();
            return SysResult::Err(errno::ENOMEM);
        }
        if shared && kind_anon {
            // (Simple paging: shared memory that a fork shares rather than copies.)
            mem.share_anon(pid, start, start + len);
        }
        SysResult::Ret(start)
    }

    /// `munmap(addr, len)`: cuts the range out of the process's mappings (the program's own
    /// areas keep their pages); dirty pages of shared file mappings go back to their file.
    pub(super) fn sys_munmap(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len) = (a[0], a[1]);
        let Some(page) = self.mem.page_size() else {
            return SysResult::Err(errno::EINVAL);
        };
        if !addr.is_multiple_of(page) || len == 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(end) = addr.checked_add(len.next_multiple_of(page)) else {
            return SysResult::Err(errno::EINVAL);
        };
        if self.index(pid).is_none() {
            return SysResult::NoReturn;
        }
        // Only mmap areas are unmapped; the range is cut out of them.
        let Some(p) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        let mut kept = Vec::new();
        // The ranges actually cut: only their pages are freed.
        let mut cut = Vec::new();
        // The files whose mappings lost pages (a System V segment's detach time).
        let mut files = Vec::new();
        for a in p.areas.drain(..) {
            if !a.kind.is_mapping() || a.end <= addr || a.start >= end {
                kept.push(a);
                continue;
            }
            cut.push((a.start.max(addr), a.end.min(end)));
            if let AreaKind::Mapped { ino, .. } = a.kind {
                files.push(ino);
            }
            if a.start < addr {
                kept.push(a.piece(a.start, addr));
            }
            if a.end > end {
                kept.push(a.piece(end, a.end));
            }
        }
        p.areas = kept;
        p.areas.sort_by_key(|a| a.start);
        for &(from, to) in &cut {
            self.unmap_cached(hw, pid, from, to);
        }
        let (mem, mut cx) = self.split(hw);
        for (from, to) in cut {
            mem.unmap(&mut cx, pid, from, to);
        }
        self.shm_unmapped(hw, pid, &files);
        self.release_unmapped();
        SysResult::Ret(0)
    }

    /// `mprotect(addr, len, prot)`: every page of the range must be mapped; the areas split
    /// where the range starts and ends, and the resident pages' PTEs change.
    fn sys_mprotect(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len, prot) = (a[0], a[1], a[2]);
        // Base and bounds and segments have no per-page permissions: the areas record the
        // new ones (reports show them), and the hardware cannot enforce them. Counted.
        let page = match self.mem.page_size() {
            Some(p) => p,
            None => {
                self.sv.stats.mprotect_unenforced += 1;
                4096
            }
        };
        if !addr.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(end) = addr.checked_add(len.next_multiple_of(page)) else {
            return SysResult::Err(errno::EINVAL);
        };
        let perm = Perm::from_prot(prot);
        let Some(p) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        // Every page of the range must hold some area (the program's segments need not
        // start or end on a page boundary).
        let mut va = addr;
        while va < end {
            let next = va.saturating_add(page);
            if !p.areas.iter().any(|a| a.start < next && va < a.end) {
                return SysResult::Err(errno::ENOMEM);
            }
            va = next;
        }
        let mut out = Vec::new();
        for a in p.areas.drain(..) {
            if a.end <= addr || a.start >= end {
                out.push(a);
                continue;
            }
            if a.start < addr {
                out.push(a.piece(a.start, addr));
            }
            out.push(Area {
                perm,
                ..a.piece(addr, end)
            });
            if a.end > end {
                out.push(a.piece(end, a.end));
            }
        }
        p.areas = out;
        let (mem, mut cx) = self.split(hw);
        mem.protect(&mut cx, pid, addr, end, perm);
        SysResult::Ret(0)
    }
}

/// `mremap` flags.
const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;
/// `madvise` advice that discards the pages' contents.
const MADV_DONTNEED: u64 = 4;

impl Kernel {
    /// `mremap(old, old_size, new_size, flags, new_addr)`: shrinks a mapping in place, grows
    /// it in place when the pages after it are free, else (with `MREMAP_MAYMOVE`) moves it,
    /// copying its contents, to a free range (or to `new_addr` with `MREMAP_FIXED`).
    pub(super) fn sys_mremap(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (old, old_size, new_size, flags, new_addr) = (a[0], a[1], a[2], a[3], a[4]);
        let Some(page) = self.mem.page_size() else {
            return SysResult::Err(errno::EINVAL);
        };
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0
            || flags & MREMAP_DONTUNMAP != 0
            || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
            || !old.is_multiple_of(page)
            || new_size == 0
        {
            return SysResult::Err(errno::EINVAL);
        }
        let (Some(old_len), Some(new_len)) = (
            old_size.checked_next_multiple_of(page),
            new_size.checked_next_multiple_of(page),
        ) else {
            return SysResult::Err(errno::EINVAL);
        };
        let Some(mm) = self.address_space(pid) else {
            return SysResult::NoReturn;
        };
        // The whole old range must be one mapping.
        let Some(area) = mm.area(old).cloned() else {
            return SysResult::Err(errno::EFAULT);
        };
        if !area.kind.is_mapping() || old.saturating_add(old_len) > area.end || old_len == 0 {
            return SysResult::Err(errno::EFAULT);
        }
        if new_len <= old_len && flags & MREMAP_FIXED == 0 {
            if new_len < old_len {
                let r = self.sys_munmap(hw, pid, [old + new_len, old_len - new_len, 0, 0, 0, 0]);
                if r != SysResult::Ret(0) {
                    return r;
                }
            }
            return SysResult::Ret(old);
        }
        let grow_end = old.saturating_add(new_len);
        let room = grow_end <= mm.stack_floor
            && !mm
                .areas
                .iter()
                .any(|x| x.start < grow_end && old + old_len < x.end && x.start != area.start);
        if flags & MREMAP_FIXED == 0 && room && area.end == old + old_len {
            let Some(mm) = self.mm_mut(pid) else {
                return SysResult::NoReturn;
            };
            if let Some(x) = mm.areas.iter_mut().find(|x| x.start == area.start) {
                x.end = grow_end;
            }
            let (mem, mut cx) = self.split(hw);
            if !mem.populate(&mut cx, pid, old + old_len, grow_end, area.perm) {
                mem.unmap(&mut cx, pid, old + old_len, grow_end);
                if let Some(mm) = self.mm_mut(pid) {
                    if let Some(x) = mm.areas.iter_mut().find(|x| x.start == area.start) {
                        x.end = old + old_len;
                    }
                }
                return SysResult::Err(errno::ENOMEM);
            }
            return SysResult::Ret(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return SysResult::Err(errno::ENOMEM);
        }
        // Move: the old contents first (faulting them in restarts the call), then a new
        // mapping of the same kind, the bytes, and the old one goes.
        let keep = old_len.min(new_len);
        let bytes = match self.copy_from_user(hw, pid, old, keep) {
            Ok(b) => b,
            Err(f) => return f.into(),
        };
        let fixed = flags & MREMAP_FIXED != 0;
        if fixed && (!new_addr.is_multiple_of(page) || new_addr.checked_add(new_len).is_none()) {
            return SysResult::Err(errno::EINVAL);
        }
        let (offset, fd_kind) = match area.kind {
            AreaKind::Mapped { offset, .. } => (offset + (old - area.start), true),
            _ => (0, false),
        };
        let prot = u64::from(area.perm.read)
            | u64::from(area.perm.write) << 1
            | u64::from(area.perm.exec) << 2;
        let new = if fixed {
            new_addr
        } else {
            match self.free_range(pid, new_len, page) {
                Ok(s) => s,
                Err(r) => return r,
            }
        };
        if fixed {
            self.sys_munmap(hw, pid, [new, new_len, 0, 0, 0, 0]);
        }
        let kind = match area.kind {
            AreaKind::Mapped { ino, shared, .. } if fd_kind => AreaKind::Mapped {
                ino,
                offset,
                shared,
            },
            ref k => k.clone(),
        };
        let Some(mm) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        mm.add_area(Area {
            start: new,
            end: new + new_len,
            perm: area.perm,
            kind,
        });
        let (mem, mut cx) = self.split(hw);
        if !mem.populate(&mut cx, pid, new, new + new_len, area.perm) {
            mem.unmap(&mut cx, pid, new, new + new_len);
            if let Some(mm) = self.mm_mut(pid) {
                mm.areas.retain(|x| x.start != new);
            }
            return SysResult::Err(errno::ENOMEM);
        }
        let _ = prot;
        // The copy into the new pages: written by the kernel, so a page fault here is the
        // kernel's own, served at once or after a wait.
        let mut done = 0usize;
        while done < bytes.len() {
            let chunk = (bytes.len() - done).min(page as usize);
            match self.copy_to_user(hw, pid, new + done as u64, &bytes[done..done + chunk]) {
                Ok(()) => done += chunk,
                Err(CopyFault::Restart) => {
                    if self
                        .index(pid)
                        .is_none_or(|i| self.procs[i].state != State::Running)
                    {
                        // It waits for a page: the call runs again from the start, the new
                        // mapping undone.
                        if let Some(mm) = self.mm_mut(pid) {
                            mm.areas.retain(|x| x.start != new);
                        }
                        let (mem, mut cx) = self.split(hw);
                        mem.unmap(&mut cx, pid, new, new + new_len);
                        return SysResult::Restart;
                    }
                }
                Err(CopyFault::Fault) => return SysResult::Err(errno::EFAULT),
            }
        }
        self.sys_munmap(hw, pid, [old, old_len, 0, 0, 0, 0]);
        SysResult::Ret(new)
    }

    /// `mincore(addr, len, vec)`: one byte per page of the range, 1 if the page is in
    /// memory now (bit 0; the other bits are 0), as the scheme knows it. The range must be
    /// page-aligned (`EINVAL`) and mapped (`ENOMEM`). A scheme that keeps a process's whole
    /// memory resident answers 1 for every page.
    pub(super) fn sys_mincore(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len, vec) = (a[0], a[1], a[2]);
        let page = self.mem.page_size().unwrap_or(4096);
        if !addr.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(end) = addr.checked_add(len.next_multiple_of(page)) else {
            return SysResult::Err(errno::ENOMEM);
        };
        let Some(mm) = self.address_space(pid) else {
            return SysResult::NoReturn;
        };
        let mut out = Vec::new();
        let mut va = addr;
        while va < end {
            if !mm.overlaps(va, va + page) {
                return SysResult::Err(errno::ENOMEM);
            }
            let resident = matches!(
                self.mem.user_addr(hw, Some(mm), pid, va, Access::Load),
                UserAddr::Mapped { .. }
            );
            out.push(u8::from(resident));
            va += page;
        }
        match self.copy_to_user(hw, pid, vec, &out) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `madvise(addr, len, advice)`: `MADV_DONTNEED` drops the range's pages (an anonymous
    /// page reads as zeros again, a file page as the file has it); other advice is
    /// accepted and changes nothing.
    pub(super) fn sys_madvise(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (addr, len, advice) = (a[0], a[1], a[2]);
        let page = self.mem.page_size().unwrap_or(4096);
        if !addr.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(end) = addr.checked_add(len.next_multiple_of(page)) else {
            return SysResult::Err(errno::EINVAL);
        };
        if advice != MADV_DONTNEED || self.mem.page_size().is_none() || len == 0 {
            return SysResult::Ret(0);
        }
        let Some(mm) = self.address_space(pid) else {
            return SysResult::NoReturn;
        };
        let ranges: Vec<(u64, u64)> = mm
            .areas
            .iter()
            .filter(|x| x.start < end && addr < x.end)
            .map(|x| (x.start.max(addr), x.end.min(end)))
            .collect();
        if ranges.is_empty() {
            return SysResult::Err(errno::ENOMEM);
        }
        for &(from, to) in &ranges {
            let (from, to) = (from.next_multiple_of(page), to & !(page - 1));
            if from < to {
                self.unmap_cached(hw, pid, from, to);
            }
        }
        let (mem, mut cx) = self.split(hw);
        for (from, to) in ranges {
            // Whole pages only: a page the range shares with another area stays.
            let (from, to) = (from.next_multiple_of(page), to & !(page - 1));
            if from >= to {
                continue;
            }
            mem.discard(&mut cx, pid, from, to);
        }
        SysResult::Ret(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_number_in_order_with_linux_names() {
        assert!(TABLE.windows(2).all(|w| w[0].nr < w[1].nr));
        for c in TABLE {
            assert_eq!(crate::linux::syscall_name(c.nr), Some(c.name), "{}", c.nr);
        }
        assert_eq!(lookup(sys::WRITE).map(|c| c.name), Some("write"));
        assert_eq!(lookup(sys::EXIT_GROUP).map(|c| c.name), Some("exit_group"));
        assert!(lookup(9999).is_none());
    }
}
