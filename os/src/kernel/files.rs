//! Files: the system calls on paths and on descriptors of files, directories and devices,
//! served by the guest's file system ([`crate::fs::Vfs`]) through the page cache
//! ([`crate::pagecache::PageCache`]).
//!
//! Every `read` and `write` of a regular file goes through the cache: a page not in memory
//! is read from the file's blocks on the disk while the process blocks (the call runs
//! again when it is in), a write changes the cached page and marks it dirty, and dirty
//! pages go back to the disk when the policy evicts them, at `fsync`, and when the run
//! ends. At the end the writable mounts' changes reach the host ([`Kernel::sync_files`]).

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::fs::{CreateHow, Device, Errno, Ino, Kind, Vfs};
use crate::hw::Hw;
use crate::linux::{self, Stat};
use crate::pagecache::{Key, PageCache, PageState, Room};
use crate::paging::Tag;
use crate::process::{OpenFile, Pid};
use crate::services::{DiskOp, Done, Request};
use crate::wait::WaitOn;
use std::path::Path;

/// `openat` flags (the generic values RISC-V uses).
pub(super) mod o {
    pub const ACCMODE: u64 = 3;
    pub const WRONLY: u64 = 1;
    pub const RDWR: u64 = 2;
    pub const CREAT: u64 = 0o100;
    pub const EXCL: u64 = 0o200;
    pub const TRUNC: u64 = 0o1000;
    pub const APPEND: u64 = 0o2000;
    pub const DIRECTORY: u64 = 0o200_000;
    pub const NOFOLLOW: u64 = 0o400_000;
    pub const CLOEXEC: u64 = 0o2_000_000;
    pub const PATH: u64 = 0o10_000_000;
    pub const TMPFILE: u64 = 0o20_000_000;
}

/// `*at` calls: the directory is the working directory.
const AT_FDCWD: u64 = (-100i64) as u64;
/// `*at` flags.
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_REMOVEDIR: u64 = 0x200;
const AT_EMPTY_PATH: u64 = 0x1000;

/// The guest's file system and the page cache in front of it.
pub struct FileSys {
    /// The namespace and where each file's pages are on the disk.
    pub vfs: Vfs,
    /// The cached pages.
    pub cache: PageCache,
    /// Disk blocks per page.
    blocks_per_page: u64,
}

/// An open file description (`struct file`): what was opened, the offset, the flags.
/// Descriptors that `dup` made share one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desc {
    /// The inode.
    pub ino: Ino,
    /// The offset of the next read or write (a directory: of the next entry).
    pub offset: u64,
    /// The `openat` flags (access mode, `O_APPEND`, ...).
    pub flags: u64,
    /// Descriptors that refer to it.
    pub refs: u32,
}

/// What a file operation that needs a page must do before it can go on.
pub(super) enum Need {
    /// The process waits (it is blocked already): the call runs again.
    Wait,
    /// The call fails.
    Fail(u64),
}

impl From<Need> for SysResult {
    fn from(n: Need) -> SysResult {
        match n {
            Need::Wait => SysResult::Restart,
            Need::Fail(e) => SysResult::Err(e),
        }
    }
}

impl From<Errno> for SysResult {
    fn from(e: Errno) -> SysResult {
        SysResult::Err(e.get())
    }
}

impl FileSys {
    /// Drops the cached pages of `ino` if the file is gone (its last name and last holder
    /// went: its blocks are free, so are its pages, dirty or not).
    /// (A mapped file is held open by its mappings, so no process maps a page dropped
    /// here.)
    pub(super) fn forget_if_gone(&mut self, ino: Option<Ino>) {
        if let Some(ino) = ino {
            if !self.vfs.exists(ino) {
                let mappers = self.cache.drop_from(ino, 0);
                debug_assert!(mappers.is_empty(), "a mapped file went: {mappers:?}");
            }
        }
    }

    /// A file system of `vfs_cfg`'s disk region with a cache of `frames` frames at `base`
    /// (`shared`: a cache of up to `frames` frames taken from the processes' memory).
    pub fn new(
        vfs_cfg: crate::fs::VfsConfig,
        base: u64,
        frames: u64,
        shared: bool,
        policy: crate::replace::Policy,
        seed: u64,
    ) -> Result<FileSys, String> {
        let vfs = Vfs::new(vfs_cfg)?;
        let page = vfs_cfg.page_size;
        Ok(FileSys {
            cache: if shared {
                PageCache::shared(frames, page, policy, seed)
            } else {
                PageCache::new(base, frames, page, policy, seed)
            },
            blocks_per_page: vfs_cfg.page_size / vfs_cfg.block_size.max(1),
            vfs,
        })
    }
}

impl Kernel {
    /// Exposes the host folder `host` at `guest` (read-only unless `writable`).
    pub fn mount(&mut self, host: &Path, guest: &str, writable: bool) -> Result<(), String> {
        match self.fs.as_mut() {
            Some(fs) => fs.vfs.mount(host, guest, writable),
            None => Err("--mount needs the disk (memory.diskctl), where file data lives".into()),
        }
    }

    /// Sets every process's working directory to `path` (a directory of the guest).
    pub fn set_cwd(&mut self, path: &str) -> Result<(), String> {
        let Some(fs) = self.fs.as_mut() else {
            return Err("--cwd needs the guest's file system (memory.diskctl)".into());
        };
        let root = fs.vfs.root();
        let ino = fs
            .vfs
            .resolve(root, path.as_bytes(), true)
            .map_err(|e| format!("--cwd {path}: {}", e.name().unwrap_or("error")))?;
        if fs.vfs.kind(ino) != Ok(Kind::Dir) {
            return Err(format!("--cwd {path}: not a directory of the guest"));
        }
        for p in &mut self.procs {
            p.task.cwd = ino;
        }
        Ok(())
    }

    /// The notes the file system left while mounting (entries it skipped).
    pub fn fs_notes(&self) -> Vec<String> {
        self.fs
            .as_ref()
            .map(|f| f.vfs.notes().to_vec())
            .unwrap_or_default()
    }

    /// Applies the writable mounts' changes to their host folders (at the end of the run,
    /// after every dirty page went back to the disk); what changed, one line each.
    pub fn sync_files(&mut self, hw: &mut dyn Hw) -> Result<Vec<String>, String> {
        let Some(fs) = self.fs.as_mut() else {
            return Ok(Vec::new());
        };
        // Pages still dirty (their write-back failed, or the run stopped at a limit) are
        // written now, without time: the host must see what the programs wrote.
        for ((ino, index), frame) in fs.cache.dirty_pages(None) {
            let mut buf = vec![0u8; fs.cache.page_size() as usize];
            if hw.read_phys(frame, &mut buf) {
                if let Ok(Some(b)) = fs.vfs.page_block(ino, index, true) {
                    let _ = hw.disk_preload(b, &buf);
                }
            }
        }
        let mut read = |block: u64, buf: &mut [u8]| hw.disk_peek(block, buf);
        fs.vfs.sync_to_host(&mut read)
    }

    /// The bytes of guest file `path` (from the root; symbolic links followed): with
    /// `cached`, as a process reading it would see them (its pages in the page cache, else
    /// on the disk); without, as they are on the modelled disk (what write-backs reached).
    /// `None` if there is no such regular file, or its content is still only on the host.
    pub fn file_bytes(&mut self, hw: &mut dyn Hw, path: &str, cached: bool) -> Option<Vec<u8>> {
        let fs = self.fs.as_mut()?;
        let ino = fs.vfs.resolve(fs.vfs.root(), path.as_bytes(), true).ok()?;
        if fs.vfs.kind(ino).ok()? != Kind::File || fs.vfs.needs_content(ino) {
            return None;
        }
        self.ino_bytes(hw, ino, cached).ok()
    }

    /// The bytes of regular file `ino` (its content already on the disk: not
    /// [`crate::fs::Vfs::needs_content`]): with `cached`, its pages in the page cache where
    /// they are (written or not; a page still being read comes from the disk), else the
    /// disk's. `Err` is the error number.
    pub(super) fn ino_bytes(
        &mut self,
        hw: &mut dyn Hw,
        ino: Ino,
        cached: bool,
    ) -> Result<Vec<u8>, u64> {
        let fs = self.fs.as_mut().ok_or(errno::ENOENT)?;
        let size = fs.vfs.size(ino).map_err(|e| e.get())?;
        let page = fs.cache.page_size();
        let mut out = vec![0u8; size.next_multiple_of(page) as usize];
        for (index, chunk) in out.chunks_mut(page as usize).enumerate() {
            let index = index as u64;
            let in_cache = fs
                .cache
                .get((ino, index))
                .filter(|p| cached && p.state != crate::pagecache::PageState::Reading);
            match in_cache {
                Some(p) => {
                    hw.read_phys(p.frame, chunk);
                }
                None => {
                    if let Ok(Some(b)) = fs.vfs.page_block(ino, index, false) {
                        hw.disk_peek(b, chunk).map_err(|_| errno::EIO)?;
                    }
                }
            }
        }
        out.truncate(size as usize);
        Ok(out)
    }

    /// The file system, for a call that needs one.
    fn fs_or(&mut self) -> Result<&mut FileSys, SysResult> {
        self.fs.as_mut().ok_or(SysResult::Err(errno::ENOENT))
    }

    /// The time stamps of file changes: modelled time since the epoch of
    /// [`linux::EPOCH_AT_BOOT`].
    pub(super) fn now_ns(&self, hw: &dyn Hw) -> u64 {
        linux::EPOCH_AT_BOOT * 1_000_000_000 + self.ns_at(hw.now())
    }

    /// The path at `ptr` in `pid`'s memory.
    fn path_arg(&mut self, hw: &mut dyn Hw, pid: Pid, ptr: u64) -> Result<Vec<u8>, SysResult> {
        match self.copy_string_from_user(hw, pid, ptr, 4096) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(SysResult::Err(errno::ENAMETOOLONG)),
            Err(f) => Err(f.into()),
        }
    }

    /// The directory a `*at` call's `dirfd` names for a relative `path`.
    fn at_dir(&mut self, pid: Pid, dirfd: u64, path: &[u8]) -> Result<Ino, SysResult> {
        let Some(pi) = self.index(pid) else {
            return Err(SysResult::NoReturn);
        };
        let cwd = self.procs[pi].task.cwd;
        if path.first() == Some(&b'/') || dirfd == AT_FDCWD || (dirfd as i32) == -100 {
            return Ok(cwd);
        }
        match self.fd(pid, dirfd)? {
            OpenFile::Desc(d) => {
                let ino = self.descs.get(&d).map(|d| d.ino).unwrap_or(0);
                match self.fs.as_ref().map(|f| f.vfs.kind(ino)) {
                    Some(Ok(Kind::Dir)) => Ok(ino),
                    _ => Err(SysResult::Err(errno::ENOTDIR)),
                }
            }
            _ => Err(SysResult::Err(errno::ENOTDIR)),
        }
    }

    /// `openat(dirfd, path, flags, mode)`.
    pub(super) fn sys_openat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (dirfd, flags, mode) = (a[0], a[2], a[3]);
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        if flags & o::TMPFILE == o::TMPFILE {
            return SysResult::Err(errno::EOPNOTSUPP);
        }
        let dir = match self.at_dir(pid, dirfd, &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let umask = self.index(pid).map_or(0o022, |i| self.procs[i].task.umask);
        let now = self.now_ns(hw);
        let follow = flags & o::NOFOLLOW == 0;
        let acc = flags & o::ACCMODE;
        let writes = acc == o::WRONLY || acc == o::RDWR;
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let ino = if flags & o::CREAT != 0 {
            let how = CreateHow {
                mode: (mode as u32) & 0o7777 & !umask,
                exclusive: flags & o::EXCL != 0,
                follow,
            };
            match fs.vfs.create(dir, &path, how, now) {
                Ok(c) => c.ino,
                Err(e) => return e.into(),
            }
        } else {
            match fs.vfs.resolve(dir, &path, follow) {
                Ok(i) => i,
                Err(e) => return e.into(),
            }
        };
        let kind = match fs.vfs.kind(ino) {
            Ok(k) => k,
            Err(e) => return e.into(),
        };
        if flags & o::PATH == 0 {
            if kind == Kind::Symlink {
                return SysResult::Err(errno::ELOOP);
            }
            if flags & o::DIRECTORY != 0 && kind != Kind::Dir {
                return SysResult::Err(errno::ENOTDIR);
            }
            if kind == Kind::Dir && (writes || flags & o::CREAT != 0) {
                return SysResult::Err(errno::EISDIR);
            }
            let want = match acc {
                0 => crate::fs::R_OK,
                o::WRONLY => crate::fs::W_OK,
                _ => crate::fs::R_OK | crate::fs::W_OK,
            };
            if let Err(e) = fs.vfs.access(ino, want) {
                return e.into();
            }
            if flags & o::TRUNC != 0 && writes && kind == Kind::File {
                if let Err(e) = fs.vfs.set_size(ino, 0, now) {
                    return e.into();
                }
                let mappers = fs.cache.drop_from(ino, 0);
                self.drop_mappers(hw, mappers);
            }
        }
        let Some(fs) = self.fs.as_mut() else {
            return SysResult::Err(errno::EBADF);
        };
        if let Err(e) = fs.vfs.open(ino) {
            return e.into();
        }
        let id = self.next_desc;
        self.next_desc += 1;
        self.descs.insert(
            id,
            Desc {
                ino,
                offset: 0,
                flags,
                refs: 1,
            },
        );
        let limit = self.nofile(pid);
        match self.files_mut(pid) {
            Some(t) => {
                let fd = t.open(OpenFile::Desc(id));
                if fd >= limit {
                    t.close(fd);
                    self.release_desc(hw, OpenFile::Desc(id));
                    return SysResult::Err(errno::EMFILE);
                }
                t.set_cloexec(fd, flags & o::CLOEXEC != 0);
                SysResult::Ret(fd)
            }
            None => SysResult::NoReturn,
        }
    }

    /// One more descriptor refers to `file` (`dup`).
    pub(super) fn hold_desc(&mut self, file: OpenFile) {
        match file {
            OpenFile::Desc(d) => {
                if let Some(d) = self.descs.get_mut(&d) {
                    d.refs += 1;
                }
            }
            OpenFile::Pipe(id) => self.pipes.hold(id),
            OpenFile::Console(_) => {}
        }
    }

    /// `fork`: the new process's copy `t` of a file table refers to the same open file
    /// descriptions as the original, so each counts one more reference for each of its
    /// descriptors.
    pub fn dup_table_refs(&mut self, t: &crate::process::FileTable) {
        for f in t.files() {
            self.hold_desc(f);
        }
    }

    /// A descriptor that referred to `file` was closed: the description goes with its
    /// last reference (a file is closed; the last end of a pipe's side wakes the other
    /// side's waiters).
    pub(super) fn release_desc(&mut self, hw: &mut dyn Hw, file: OpenFile) {
        if let OpenFile::Pipe(id) = file {
            return self.release_pipe_end(hw, id);
        }
        let OpenFile::Desc(id) = file else { return };
        let Some(d) = self.descs.get_mut(&id) else {
            return;
        };
        d.refs = d.refs.saturating_sub(1);
        if d.refs > 0 {
            return;
        }
        let ino = d.ino;
        self.descs.remove(&id);
        if let Some(fs) = self.fs.as_mut() {
            let _ = fs.vfs.close(ino);
            fs.forget_if_gone(Some(ino));
        }
    }

    /// `close(fd)`.
    pub(super) fn sys_close(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let Some(t) = self.files_mut(pid) else {
            return SysResult::NoReturn;
        };
        match t.close(a[0]) {
            Some(f) => {
                self.release_desc(hw, f);
                SysResult::Ret(0)
            }
            None => SysResult::Err(errno::EBADF),
        }
    }

    /// The description `file` refers to, if it is one.
    fn desc(&self, file: OpenFile) -> Option<&Desc> {
        match file {
            OpenFile::Desc(d) => self.descs.get(&d),
            _ => None,
        }
    }

    /// Reads up to `len` bytes of the file `file` refers to at its offset (or at `at`, for
    /// `pread64`) into `buf`.
    pub(super) fn read_file(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        file: OpenFile,
        buf: u64,
        len: u64,
        at: Option<u64>,
    ) -> SysResult {
        // Chunk by chunk (each chunk's pages in memory at once); a chunk that must wait
        // for the disk restarts the call, which goes on from where it was (the bytes done
        // are carried over), so a regular file is never read short.
        self.in_chunks(hw, pid, len, &mut |k, hw, done| {
            k.read_pages(hw, pid, file, buf + done, len - done, at.map(|p| p + done))
        })
    }

    /// Runs `step(done)` (which moves up to one chunk from byte `done` of `total` and says
    /// how many bytes it moved) until all `total` bytes are moved, the end is reached (0),
    /// or a step fails. A step that must wait restarts the call, and the bytes done so far
    /// carry over to the call's next run; a failure after some bytes moved returns them.
    fn in_chunks(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        total: u64,
        step: &mut dyn FnMut(&mut Kernel, &mut dyn Hw, u64) -> SysResult,
    ) -> SysResult {
        let mut done = self.io_carry.remove(&pid).unwrap_or(0).min(total);
        loop {
            let r = step(self, hw, done);
            self.unpin_cache();
            match r {
                SysResult::Ret(n) => {
                    done += n;
                    if n == 0 || done >= total {
                        return SysResult::Ret(done);
                    }
                }
                SysResult::Restart => {
                    if done > 0 {
                        self.io_carry.insert(pid, done);
                    }
                    return SysResult::Restart;
                }
                other if done == 0 => return other,
                _ => return SysResult::Ret(done),
            }
        }
    }

    /// The pages a call (or a chunk of a `read` or `write`, or a fault) gathered may be
    /// replaced again.
    pub(super) fn unpin_cache(&mut self) {
        if let Some(fs) = self.fs.as_mut() {
            fs.cache.unpin_all();
        }
    }

    /// The most bytes one `read` or `write` moves: half the frames the cache has or can
    /// take now (every page of the call is in memory at once, and pinned), at least one
    /// page.
    fn max_io(&self) -> u64 {
        let Some(fs) = self.fs.as_ref() else {
            return 4096;
        };
        let c = &fs.cache;
        let room = if c.is_shared() {
            let free = self.mem.free_bytes().unwrap_or(0) / c.page_size().max(1);
            (c.held() + free).min(c.frames())
        } else {
            c.frames()
        };
        (room / 2).max(1) * c.page_size()
    }

    /// [`Kernel::read_file`] with the pages it gathers pinned.
    fn read_pages(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        file: OpenFile,
        buf: u64,
        len: u64,
        at: Option<u64>,
    ) -> SysResult {
        let OpenFile::Desc(id) = file else {
            return SysResult::Err(errno::EBADF);
        };
        let Some(d) = self.descs.get(&id).cloned() else {
            return SysResult::Err(errno::EBADF);
        };
        if d.flags & o::ACCMODE == o::WRONLY || d.flags & o::PATH != 0 {
            return SysResult::Err(errno::EBADF);
        }
        let Some(fs) = self.fs.as_ref() else {
            return SysResult::Err(errno::EBADF);
        };
        let kind = fs.vfs.kind(d.ino).unwrap_or(Kind::File);
        match kind {
            Kind::Dir => return SysResult::Err(errno::EISDIR),
            Kind::Device(dev) => {
                let data = match dev {
                    Device::Null => Vec::new(),
                    Device::Zero => vec![0u8; len.min(1 << 20) as usize],
                    Device::Urandom => {
                        let (v, state) = self.random(len.min(1 << 20));
                        self.rng = state;
                        v
                    }
                };
                return match self.copy_to_user(hw, pid, buf, &data) {
                    Ok(()) => SysResult::Ret(data.len() as u64),
                    Err(f) => f.into(),
                };
            }
            _ => {}
        }
        let pos = at.unwrap_or(d.offset);
        let size = fs.vfs.size(d.ino).unwrap_or(0);
        if pos >= size || len == 0 {
            return SysResult::Ret(0);
        }
        let n = len.min(size - pos).min(self.max_io());
        let page = fs.cache.page_size();
        // Every page in memory first (the call runs again while any is being read).
        let (first, last) = (pos / page, (pos + n - 1) / page);
        let mut frames = Vec::new();
        for index in first..=last {
            match self.cache_page(hw, pid, d.ino, index, true) {
                Ok(f) => frames.push(f),
                Err(need) => return need.into(),
            }
        }
        let mut data = Vec::with_capacity(n as usize);
        for (i, frame) in frames.iter().enumerate() {
            let index = first + i as u64;
            let from = if index == first { pos % page } else { 0 };
            let to = (pos + n - index * page).min(page);
            let mut b = vec![0u8; (to - from) as usize];
            hw.read_phys(frame + from, &mut b);
            data.extend_from_slice(&b);
        }
        if let Err(f) = self.copy_to_user(hw, pid, buf, &data) {
            return f.into();
        }
        let now = self.now_ns(hw);
        if let Some(fs) = self.fs.as_mut() {
            let _ = fs.vfs.set_atime(d.ino, now);
        }
        if at.is_none() {
            if let Some(d) = self.descs.get_mut(&id) {
                d.offset = pos + n;
            }
        }
        SysResult::Ret(n)
    }

    /// Writes `data` (copied from the process already) to the file `file` refers to at its
    /// offset (the end with `O_APPEND`; or at `at`, for `pwrite64`).
    pub(super) fn write_file(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        file: OpenFile,
        data: &[u8],
        at: Option<u64>,
    ) -> SysResult {
        // Chunk by chunk, as `read_file`: never short for a regular file.
        self.in_chunks(hw, pid, data.len() as u64, &mut |k, hw, done| {
            k.write_pages(hw, pid, file, &data[done as usize..], at.map(|p| p + done))
        })
    }

    /// [`Kernel::write_file`] with the pages it gathers pinned.
    fn write_pages(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        file: OpenFile,
        data: &[u8],
        at: Option<u64>,
    ) -> SysResult {
        let OpenFile::Desc(id) = file else {
            return SysResult::Err(errno::EBADF);
        };
        let Some(d) = self.descs.get(&id).cloned() else {
            return SysResult::Err(errno::EBADF);
        };
        if d.flags & o::ACCMODE == 0 || d.flags & o::PATH != 0 {
            return SysResult::Err(errno::EBADF);
        }
        let Some(fs) = self.fs.as_ref() else {
            return SysResult::Err(errno::EBADF);
        };
        match fs.vfs.kind(d.ino).unwrap_or(Kind::File) {
            Kind::Dir => return SysResult::Err(errno::EISDIR),
            Kind::Device(_) => return SysResult::Ret(data.len() as u64),
            _ => {}
        }
        if data.is_empty() {
            return SysResult::Ret(0);
        }
        let size = fs.vfs.size(d.ino).unwrap_or(0);
        let pos = match at {
            Some(p) => p,
            None if d.flags & o::APPEND != 0 => size,
            None => d.offset,
        };
        let n = (data.len() as u64).min(self.max_io());
        let Some(end) = pos.checked_add(n) else {
            return SysResult::Err(errno::EFBIG);
        };
        let page = fs.cache.page_size();
        let (first, last) = (pos / page, (end - 1) / page);
        let mut frames = Vec::new();
        for index in first..=last {
            // A page the write covers whole, or one past the old end, needs no read.
            let whole = pos <= index * page && end >= (index + 1) * page;
            let beyond = index * page >= size;
            match self.cache_page(hw, pid, d.ino, index, !(whole || beyond)) {
                Ok(f) => frames.push(f),
                Err(need) => return need.into(),
            }
        }
        let now = self.now_ns(hw);
        let Some(fs) = self.fs.as_mut() else {
            return SysResult::Err(errno::EBADF);
        };
        for (i, &frame) in frames.iter().enumerate() {
            let index = first + i as u64;
            // The page's blocks (the file system marks the file changed).
            if let Err(e) = fs.vfs.page_block(d.ino, index, true) {
                return if i == 0 {
                    e.into()
                } else {
                    SysResult::Ret(index * page - pos)
                };
            }
            let from = if index == first { pos % page } else { 0 };
            let to = (end - index * page).min(page);
            let src = (index * page + from - pos) as usize;
            hw.write_phys(frame + from, &data[src..src + (to - from) as usize]);
            fs.cache.set_dirty((d.ino, index));
        }
        if end > size {
            let _ = fs.vfs.set_size(d.ino, end, now);
        }
        let _ = fs.vfs.touch(d.ino, now);
        if at.is_none() {
            if let Some(d) = self.descs.get_mut(&id) {
                d.offset = end;
            }
        }
        SysResult::Ret(n)
    }

    /// Page `index` of file `ino` in the cache: its frame, pinned until the kernel entry
    /// (or the chunk of a `read` or `write`) ends, so that no frame the same work needs is
    /// taken from it; or (the process blocked while it is read, or while a frame is
    /// written back to make room) `Need::Wait`. With `need_old`
    /// false the page's old content does not matter (a whole-page write, or past the end):
    /// a new page is zeros.
    pub(super) fn cache_page(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        ino: Ino,
        index: u64,
        need_old: bool,
    ) -> Result<u64, Need> {
        let Some(fs) = self.fs.as_mut() else {
            return Err(Need::Fail(errno::EBADF));
        };
        let key: Key = (ino, index);
        if let Some(p) = fs.cache.get(key) {
            if p.state == PageState::Reading {
                self.waits.wait(pid, WaitOn::CachePage { ino, index });
                self.block(hw, pid);
                return Err(Need::Wait);
            }
            fs.cache.stats.hits += 1;
            fs.cache.touch(key);
            fs.cache.pin(p.frame);
            return Ok(p.frame);
        }
        // A host file's content goes onto the disk the first time it is needed.
        if fs.vfs.needs_content(ino) {
            match fs.vfs.materialize(ino) {
                Ok(pages) => {
                    for (block, bytes) in pages {
                        if let Err(e) = hw.disk_preload(block, &bytes) {
                            self.sv
                                .messages
                                .push(format!("file data could not be put on the disk: {e}"));
                            return Err(Need::Fail(errno::EIO));
                        }
                    }
                }
                Err(e) => {
                    self.sv.messages.push(e);
                    return Err(Need::Fail(errno::EIO));
                }
            }
        }
        let block = match fs.vfs.page_block(ino, index, false) {
            Ok(b) => b,
            Err(e) => return Err(Need::Fail(e.get())),
        };
        let frame = self.cache_frame(hw, pid)?;
        let Some(fs) = self.fs.as_mut() else {
            return Err(Need::Fail(errno::EBADF));
        };
        fs.cache.stats.misses += 1;
        match block {
            Some(b) if need_old => {
                fs.cache.insert(key, frame, PageState::Reading, false);
                let req = Request {
                    op: DiskOp::Read,
                    block: b,
                    count: fs.blocks_per_page,
                    pa: frame,
                    pid,
                };
                let tag = Tag::Cache {
                    ino,
                    index,
                    frame,
                    write: false,
                };
                if let Err(e) = self.disk.start(&mut self.sv, hw, req, tag) {
                    if let Some(fs) = self.fs.as_mut() {
                        fs.cache.read_done(key, false);
                        fs.cache.read_abandoned(frame);
                    }
                    self.sv.messages.push(format!(
                        "reading a file page from disk block {b} failed: {e}"
                    ));
                    return Err(Need::Fail(errno::EIO));
                }
                self.waits.wait(pid, WaitOn::CachePage { ino, index });
                self.block(hw, pid);
                Err(Need::Wait)
            }
            _ => {
                // A hole, past the end, or about to be overwritten whole: zeros.
                let page = fs.cache.page_size();
                hw.write_phys(frame, &vec![0u8; page as usize]);
                let c = self.sv.cost().zero_page;
                self.sv.charge(hw, c);
                if let Some(fs) = self.fs.as_mut() {
                    fs.cache.insert(key, frame, PageState::Ready, false);
                    fs.cache.pin(frame);
                }
                Ok(frame)
            }
        }
    }

    /// A frame for a new cached page: a free one, or a victim's (unmapped from the
    /// processes that map it first); `Need::Wait` (the process blocked) while a dirty
    /// victim is written back or every frame is in transfer.
    fn cache_frame(&mut self, hw: &mut dyn Hw, pid: Pid) -> Result<u64, Need> {
        let Some(fs) = self.fs.as_mut() else {
            return Err(Need::Fail(errno::EBADF));
        };
        let mut room = fs.cache.frame_for();
        if room == Room::Grow {
            // A cache that shares memory with processes takes a free frame if there is one
            // (an empty cache makes room by evicting a clean process page).
            let must = fs.cache.held() == 0;
            let lent = {
                let (mem, mut cx) = self.split(hw);
                mem.lend_frame(&mut cx, must)
            };
            let Some(fs) = self.fs.as_mut() else {
                return Err(Need::Fail(errno::EBADF));
            };
            match lent {
                Some(f) => {
                    fs.cache.adopt();
                    fs.cache.pin(f);
                    return Ok(f);
                }
                // Nothing at all to read a file page into: the call fails as Linux's
                // does when it cannot allocate a page.
                None if must => return Err(Need::Fail(errno::ENOMEM)),
                None => room = fs.cache.victim_room(),
            }
        }
        let Some(fs) = self.fs.as_mut() else {
            return Err(Need::Fail(errno::EBADF));
        };
        if let Room::Unmap(key) = room {
            let mappers = fs.cache.take_mappers(key);
            if self.drop_mappers(hw, mappers) {
                if let Some(fs) = self.fs.as_mut() {
                    fs.cache.set_dirty(key);
                }
            }
            let Some(fs) = self.fs.as_mut() else {
                return Err(Need::Fail(errno::EBADF));
            };
            room = fs.cache.unmapped_victim(key);
        }
        match room {
            Room::Frame(f) => Ok(f),
            Room::WriteBack(victim) => {
                self.write_back(hw, pid, victim);
                self.waits.wait(pid, WaitOn::CacheRoom);
                self.block(hw, pid);
                Err(Need::Wait)
            }
            Room::Wait | Room::Unmap(_) | Room::Grow => {
                self.waits.wait(pid, WaitOn::CacheRoom);
                self.block(hw, pid);
                Err(Need::Wait)
            }
        }
    }

    /// Starts writing cached page `key` back to its blocks. The processes that map it map
    /// it clean from here, so that their next store faults and marks it dirty again.
    fn write_back(&mut self, hw: &mut dyn Hw, pid: Pid, key: Key) {
        let Some(fs) = self.fs.as_mut() else { return };
        let Some(p) = fs.cache.get(key) else { return };
        let Ok(Some(block)) = fs.vfs.page_block(key.0, key.1, true) else {
            // No blocks (the disk region is full): the page stays dirty in memory.
            return;
        };
        let mappers = fs.cache.mappers(key).to_vec();
        if !mappers.is_empty() {
            let (mem, mut cx) = self.split(hw);
            for (mpid, vpn) in mappers {
                mem.clean_cached(&mut cx, mpid, vpn);
            }
        }
        let Some(fs) = self.fs.as_mut() else { return };
        fs.cache.write_started(key);
        let req = Request {
            op: DiskOp::Write,
            block,
            count: fs.blocks_per_page,
            pa: p.frame,
            pid,
        };
        let tag = Tag::Cache {
            ino: key.0,
            index: key.1,
            frame: p.frame,
            write: true,
        };
        if self.disk.start(&mut self.sv, hw, req, tag).is_err() {
            if let Some(fs) = self.fs.as_mut() {
                fs.cache.write_done(p.frame, false);
            }
        }
    }

    /// Starts writing back every dirty cached page of `ino` (every file's: `None`); how
    /// many writes started.
    pub(super) fn flush_cache(&mut self, hw: &mut dyn Hw, pid: Pid, ino: Option<Ino>) -> usize {
        let dirty = self
            .fs
            .as_ref()
            .map(|f| f.cache.dirty_pages(ino))
            .unwrap_or_default();
        for &(key, _) in &dirty {
            self.write_back(hw, pid, key);
        }
        dirty.len()
    }

    /// A page-cache transfer finished: the page is in (or gone, if the read failed), or
    /// written; whoever waited runs again.
    pub(super) fn cache_done(&mut self, hw: &mut dyn Hw, done: Done<Tag>) {
        let Tag::Cache {
            ino,
            index,
            frame,
            write,
        } = done.tag
        else {
            return;
        };
        let ok = done.result.is_ok();
        if let Some(fs) = self.fs.as_mut() {
            if write {
                fs.cache.write_done(frame, ok);
                if !ok {
                    let path = fs.vfs.some_path(ino).map_or_else(
                        || format!("inode {ino} (no name left)"),
                        |p| String::from_utf8_lossy(&p).into_owned(),
                    );
                    self.sv.stats.lost_writes += 1;
                    self.sv.messages.push(format!(
                        "page {index} of file {path} could not be written back (a write error on every try): the page is clean in memory, its changes are lost when it leaves, and the next fsync or msync of the file fails with EIO"
                    ));
                }
            } else if fs.cache.get((ino, index)).is_some_and(|p| p.frame == frame) {
                fs.cache.read_done((ino, index), ok);
            } else {
                fs.cache.read_abandoned(frame);
            }
        }
        let mut woken = self.waits.wake_all(WaitOn::CachePage { ino, index });
        woken.extend(self.waits.wake_all(WaitOn::CacheRoom));
        woken.extend(self.waits.wake_all(WaitOn::FileSync { ino }));
        for pid in woken {
            self.wake(hw, pid);
        }
    }

    /// `fsync(fd)` and `fdatasync(fd)`: writes the file's dirty pages back and waits for
    /// them.
    pub(super) fn sys_fsync(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(ino) = self.desc(file).map(|d| d.ino) else {
            return SysResult::Err(errno::EINVAL);
        };
        // A write-back of the file that failed since the last report (this call's own,
        // when it runs again after its wait) is reported once.
        if self.fs.as_mut().is_some_and(|f| f.cache.take_error(ino)) {
            return SysResult::Err(errno::EIO);
        }
        self.flush_cache(hw, pid, Some(ino));
        let writing = self.fs.as_ref().is_some_and(|f| f.cache.writing(ino));
        if !writing {
            return SysResult::Ret(0);
        }
        // It waits for the writes; when they are done it runs the call again, which finds
        // nothing left to write, or the error.
        self.waits.wait(pid, WaitOn::FileSync { ino });
        self.block(hw, pid);
        SysResult::Restart
    }

    /// What `stat` says about inode `ino`.
    fn stat_ino(&self, ino: Ino) -> Result<Stat, Errno> {
        self.fs.as_ref().ok_or(Errno::ENOENT)?.vfs.stat(ino)
    }

    /// What `stat` says about what `file` refers to, for a description.
    pub(super) fn stat_desc(&self, file: OpenFile) -> Option<Result<Stat, Errno>> {
        self.desc(file).map(|d| self.stat_ino(d.ino))
    }

    /// The `stat` of a path (`newfstatat`, `statx`): `Ok(None)` for an empty path with
    /// `AT_EMPTY_PATH` (the caller stats the descriptor).
    fn stat_path(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        dirfd: u64,
        ptr: u64,
        flags: u64,
    ) -> Result<Option<Stat>, SysResult> {
        let path = self.path_arg(hw, pid, ptr)?;
        if path.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return Err(SysResult::Err(errno::ENOENT));
            }
            return Ok(None);
        }
        let dir = self.at_dir(pid, dirfd, &path)?;
        let fs = self.fs_or()?;
        let ino = fs
            .vfs
            .resolve(dir, &path, flags & AT_SYMLINK_NOFOLLOW == 0)
            .map_err(SysResult::from)?;
        self.stat_ino(ino).map(Some).map_err(SysResult::from)
    }

    /// The inode the path at `ptr` of `pid` names, from the working directory (`follow`:
    /// a last symbolic link is followed).
    pub(super) fn resolve_path(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        ptr: u64,
        follow: bool,
    ) -> Result<Ino, SysResult> {
        let path = self.path_arg(hw, pid, ptr)?;
        if path.is_empty() {
            return Err(SysResult::Err(errno::ENOENT));
        }
        let dir = self.at_dir(pid, AT_FDCWD, &path)?;
        let fs = self.fs_or()?;
        fs.vfs.resolve(dir, &path, follow).map_err(SysResult::from)
    }

    /// `newfstatat(dirfd, path, statbuf, flags)`.
    pub(super) fn sys_newfstatat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let st = match self.stat_path(hw, pid, a[0], a[1], a[3]) {
            Ok(Some(s)) => s,
            Ok(None) => return self.sys_fstat(hw, pid, [a[0], a[2], 0, 0, 0, 0]),
            Err(r) => return r,
        };
        match self.copy_to_user(hw, pid, a[2], &st.to_stat()) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `statx(dirfd, path, flags, mask, statxbuf)`.
    pub(super) fn sys_statx(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let st = match self.stat_path(hw, pid, a[0], a[1], a[2]) {
            Ok(Some(s)) => s,
            Ok(None) => {
                let file = match self.fd(pid, a[0]) {
                    Ok(f) => f,
                    Err(r) => return r,
                };
                match self.stat_of(hw, file) {
                    Ok(s) => s,
                    Err(e) => return e.into(),
                }
            }
            Err(r) => return r,
        };
        match self.copy_to_user(hw, pid, a[4], &st.to_statx()) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }

    /// `faccessat(dirfd, path, mode)` (and `faccessat2` with flags).
    pub(super) fn sys_faccessat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (dirfd, mode, flags) = (a[0], a[2], a[3]);
        if mode & !7 != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, dirfd, &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let ino = match fs.vfs.resolve(dir, &path, flags & AT_SYMLINK_NOFOLLOW == 0) {
            Ok(i) => i,
            Err(e) => return e.into(),
        };
        match fs.vfs.access(ino, mode as u32) {
            Ok(()) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// `faccessat2(dirfd, path, mode, flags)`.
    pub(super) fn sys_faccessat2(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if a[3] & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x200) != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        self.sys_faccessat(hw, pid, a)
    }

    /// `readlinkat(dirfd, path, buf, size)`: `/proc/self/exe` names the program.
    pub(super) fn sys_readlinkat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (dirfd, buf, size) = (a[0], a[2], a[3]);
        if (size as i64) <= 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let target = if path == b"/proc/self/exe" {
            let Some(pi) = self.index(pid) else {
                return SysResult::NoReturn;
            };
            self.procs[pi].exe_path()
        } else {
            let dir = match self.at_dir(pid, dirfd, &path) {
                Ok(d) => d,
                Err(r) => return r,
            };
            let fs = match self.fs_or() {
                Ok(f) => f,
                Err(r) => return r,
            };
            let ino = match fs.vfs.resolve(dir, &path, false) {
                Ok(i) => i,
                Err(e) => return e.into(),
            };
            match fs.vfs.readlink(ino) {
                Ok(t) => t.to_vec(),
                Err(e) => return e.into(),
            }
        };
        let n = target.len().min(size as usize);
        match self.copy_to_user(hw, pid, buf, &target[..n]) {
            Ok(()) => SysResult::Ret(n as u64),
            Err(f) => f.into(),
        }
    }

    /// `getcwd(buf, size)`: the working directory's path; its length with the NUL.
    pub(super) fn sys_getcwd(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let cwd = self.procs[pi].task.cwd;
        let mut path = match self.fs.as_ref() {
            Some(fs) => match fs.vfs.path_of(cwd) {
                Ok(p) => p,
                Err(e) => return e.into(),
            },
            None => b"/".to_vec(),
        };
        path.push(0);
        if a[1] < path.len() as u64 {
            return SysResult::Err(errno::ERANGE);
        }
        match self.copy_to_user(hw, pid, a[0], &path) {
            Ok(()) => SysResult::Ret(path.len() as u64),
            Err(f) => f.into(),
        }
    }

    /// Makes `ino` the working directory of `pid` (it must be a directory it may search).
    fn change_dir(&mut self, pid: Pid, ino: Ino) -> SysResult {
        let Some(fs) = self.fs.as_mut() else {
            return SysResult::Err(errno::ENOENT);
        };
        match fs.vfs.kind(ino) {
            Ok(Kind::Dir) => {}
            Ok(_) => return SysResult::Err(errno::ENOTDIR),
            Err(e) => return e.into(),
        }
        if let Err(e) = fs.vfs.access(ino, crate::fs::X_OK) {
            return e.into();
        }
        let _ = fs.vfs.open(ino);
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let old = std::mem::replace(&mut self.procs[pi].task.cwd, ino);
        if let Some(fs) = self.fs.as_mut() {
            let _ = fs.vfs.close(old);
        }
        SysResult::Ret(0)
    }

    /// `chdir(path)`.
    pub(super) fn sys_chdir(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let path = match self.path_arg(hw, pid, a[0]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, AT_FDCWD, &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let ino = match self
            .fs_or()
            .and_then(|fs| fs.vfs.resolve(dir, &path, true).map_err(SysResult::from))
        {
            Ok(i) => i,
            Err(r) => return r,
        };
        self.change_dir(pid, ino)
    }

    /// A file with no name of `len` bytes of zeros to back a `MAP_SHARED | MAP_ANONYMOUS`
    /// mapping, as Linux backs one with a shmem file (`/dev/zero (deleted)`): held by the
    /// mapping ([`Kernel::unnamed_file`]), so that it lives while an address space maps
    /// it (a forked child too) and its pages are the page cache's, shared by every
    /// mapping. Its inode, or the error number.
    pub(super) fn shmem_file(&mut self, hw: &mut dyn Hw, len: u64) -> Result<u64, u64> {
        let ino = self.unnamed_file(hw, len)?;
        // (The hold is the mappings' one.)
        self.mapped_inos.insert(ino);
        Ok(ino)
    }

    /// A file with no name of `len` bytes of zeros: made in `/tmp`, held open once (the
    /// caller owns that hold) and unlinked at once. Its inode, or the error number.
    pub(super) fn unnamed_file(&mut self, hw: &mut dyn Hw, len: u64) -> Result<u64, u64> {
        let now = self.now_ns(hw);
        self.next_shmem += 1;
        let name = format!("/tmp/.vmlab-shmem-{}", self.next_shmem).into_bytes();
        let fs = self.fs.as_mut().ok_or(errno::ENODEV)?;
        let root = fs.vfs.root();
        let how = crate::fs::CreateHow {
            mode: 0o600,
            exclusive: true,
            follow: false,
        };
        let ino = fs
            .vfs
            .create(root, &name, how, now)
            .map_err(|e| e.get())?
            .ino;
        if let Err(e) = fs.vfs.set_size(ino, len, now) {
            let _ = fs.vfs.unlink(root, &name, now);
            return Err(e.get());
        }
        let _ = fs.vfs.open(ino);
        let _ = fs.vfs.unlink(root, &name, now);
        Ok(ino)
    }

    /// `fchmodat(dirfd, path, mode)` (and so `chmod`).
    pub(super) fn sys_fchmodat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, a[0], &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        match fs.vfs.resolve(dir, &path, true) {
            Ok(ino) => self.chmod_ino(hw, ino, a[2]),
            Err(e) => e.into(),
        }
    }

    /// Sets `ino`'s permission bits (`chmod`, `fchmod`).
    fn chmod_ino(&mut self, hw: &mut dyn Hw, ino: Ino, mode: u64) -> SysResult {
        let now = self.now_ns(hw);
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        match fs.vfs.chmod(ino, mode as u32, now) {
            Ok(()) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// `fchmod(fd, mode)`.
    pub(super) fn sys_fchmod(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        match self.desc(file).map(|d| d.ino) {
            Some(ino) => self.chmod_ino(hw, ino, a[1]),
            // A pipe or the console: Linux changes the inode's mode; nothing to keep here.
            None => SysResult::Ret(0),
        }
    }

    /// `fchdir(fd)`.
    pub(super) fn sys_fchdir(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        match self.desc(file).map(|d| d.ino) {
            Some(ino) => self.change_dir(pid, ino),
            None => SysResult::Err(errno::ENOTDIR),
        }
    }

    /// `mkdirat(dirfd, path, mode)`.
    pub(super) fn sys_mkdirat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, a[0], &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let umask = self.index(pid).map_or(0o022, |i| self.procs[i].task.umask);
        let now = self.now_ns(hw);
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        match fs
            .vfs
            .mkdir(dir, &path, (a[2] as u32) & 0o7777 & !umask, now)
        {
            Ok(_) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// `unlinkat(dirfd, path, flags)`: with `AT_REMOVEDIR`, `rmdir`.
    pub(super) fn sys_unlinkat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        if a[2] & !AT_REMOVEDIR != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let path = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, a[0], &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let now = self.now_ns(hw);
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let target = fs.vfs.resolve(dir, &path, false).ok();
        let r = if a[2] & AT_REMOVEDIR != 0 {
            fs.vfs.rmdir(dir, &path, now)
        } else {
            fs.vfs.unlink(dir, &path, now)
        };
        fs.forget_if_gone(target);
        match r {
            Ok(()) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// `renameat2(olddirfd, old, newdirfd, new, flags)`.
    pub(super) fn sys_renameat2(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let old = match self.path_arg(hw, pid, a[1]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let new = match self.path_arg(hw, pid, a[3]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let (from, to) = match (self.at_dir(pid, a[0], &old), self.at_dir(pid, a[2], &new)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let now = self.now_ns(hw);
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let replaced = fs.vfs.resolve(to, &new, false).ok();
        let r = fs.vfs.rename((from, &old), (to, &new), a[4] as u32, now);
        fs.forget_if_gone(replaced);
        match r {
            Ok(()) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// `symlinkat(target, newdirfd, linkpath)`.
    pub(super) fn sys_symlinkat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let target = match self.path_arg(hw, pid, a[0]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let path = match self.path_arg(hw, pid, a[2]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, a[1], &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let now = self.now_ns(hw);
        let fs = match self.fs_or() {
            Ok(f) => f,
            Err(r) => return r,
        };
        match fs.vfs.symlink(&target, dir, &path, now) {
            Ok(_) => SysResult::Ret(0),
            Err(e) => e.into(),
        }
    }

    /// Sets the size of file `ino` (`truncate`, `ftruncate`): the cache drops the pages past
    /// the end and zeroes the rest of the last one.
    fn truncate_ino(&mut self, hw: &mut dyn Hw, pid: Pid, ino: Ino, len: u64) -> SysResult {
        if (len as i64) < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let now = self.now_ns(hw);
        let Some(fs) = self.fs.as_mut() else {
            return SysResult::Err(errno::EBADF);
        };
        match fs.vfs.kind(ino) {
            Ok(Kind::File) => {}
            Ok(Kind::Dir) => return SysResult::Err(errno::EISDIR),
            Ok(_) => return SysResult::Err(errno::EINVAL),
            Err(e) => return e.into(),
        }
        let page = fs.cache.page_size();
        let old = fs.vfs.size(ino).unwrap_or(0);
        if len < old && !len.is_multiple_of(page) {
            // The last page's tail must read as zeros: bring it in and clear it.
            let index = len / page;
            let frame = match self.cache_page(hw, pid, ino, index, true) {
                Ok(f) => f,
                Err(n) => return n.into(),
            };
            let from = len % page;
            hw.write_phys(frame + from, &vec![0u8; (page - from) as usize]);
            if let Some(fs) = self.fs.as_mut() {
                if fs.vfs.page_block(ino, index, true).is_ok() {
                    fs.cache.set_dirty((ino, index));
                }
            }
        }
        let Some(fs) = self.fs.as_mut() else {
            return SysResult::Err(errno::EBADF);
        };
        if let Err(e) = fs.vfs.set_size(ino, len, now) {
            return e.into();
        }
        let mappers = fs.cache.drop_from(ino, len.div_ceil(page));
        self.drop_mappers(hw, mappers);
        SysResult::Ret(0)
    }

    /// `ftruncate(fd, length)`.
    pub(super) fn sys_ftruncate(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(d) = self.desc(file).cloned() else {
            return SysResult::Err(errno::EINVAL);
        };
        if d.flags & o::ACCMODE == 0 {
            return SysResult::Err(errno::EINVAL);
        }
        self.truncate_ino(hw, pid, d.ino, a[1])
    }

    /// `truncate(path, length)`.
    pub(super) fn sys_truncate(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let path = match self.path_arg(hw, pid, a[0]) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let dir = match self.at_dir(pid, AT_FDCWD, &path) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let ino = match self.fs_or().and_then(|fs| {
            let ino = fs.vfs.resolve(dir, &path, true).map_err(SysResult::from)?;
            fs.vfs
                .access(ino, crate::fs::W_OK)
                .map_err(SysResult::from)?;
            Ok(ino)
        }) {
            Ok(i) => i,
            Err(r) => return r,
        };
        self.truncate_ino(hw, pid, ino, a[1])
    }

    /// `getdents64(fd, dirp, count)`: `struct linux_dirent64` records (inode, next offset,
    /// record length, type, name), 8-byte aligned, as many as fit.
    pub(super) fn sys_getdents64(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (fd, dirp, count) = (a[0], a[1], a[2]);
        let file = match self.fd(pid, fd) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let OpenFile::Desc(id) = file else {
            return SysResult::Err(errno::ENOTDIR);
        };
        let Some(d) = self.descs.get(&id).cloned() else {
            return SysResult::Err(errno::EBADF);
        };
        let Some(fs) = self.fs.as_ref() else {
            return SysResult::Err(errno::EBADF);
        };
        let entries = match fs.vfs.readdir(d.ino, d.offset, 4096) {
            Ok(e) => e,
            Err(e) => return e.into(),
        };
        let mut out = Vec::new();
        let mut offset = d.offset;
        for e in entries {
            let len = (19 + e.name.len() + 1).next_multiple_of(8);
            if (out.len() + len) as u64 > count {
                if out.is_empty() {
                    return SysResult::Err(errno::EINVAL);
                }
                break;
            }
            let mut rec = vec![0u8; len];
            rec[..8].copy_from_slice(&e.ino.to_le_bytes());
            rec[8..16].copy_from_slice(&e.next.to_le_bytes());
            rec[16..18].copy_from_slice(&(len as u16).to_le_bytes());
            rec[18] = e.d_type;
            rec[19..19 + e.name.len()].copy_from_slice(&e.name);
            out.extend_from_slice(&rec);
            offset = e.next;
        }
        if let Err(f) = self.copy_to_user(hw, pid, dirp, &out) {
            return f.into();
        }
        if let Some(d) = self.descs.get_mut(&id) {
            d.offset = offset;
        }
        SysResult::Ret(out.len() as u64)
    }

    /// `lseek` on a description: `SEEK_SET`, `SEEK_CUR`, `SEEK_END` (a directory: only to
    /// an offset `getdents64` gave, or 0).
    pub(super) fn seek_desc(&mut self, file: OpenFile, off: u64, whence: u64) -> SysResult {
        let OpenFile::Desc(id) = file else {
            return SysResult::Err(errno::ESPIPE);
        };
        let Some(d) = self.descs.get(&id).cloned() else {
            return SysResult::Err(errno::EBADF);
        };
        let size = self
            .fs
            .as_ref()
            .and_then(|f| f.vfs.size(d.ino).ok())
            .unwrap_or(0);
        let base = match whence {
            0 => 0,
            1 => d.offset,
            2 => size,
            _ => return SysResult::Err(errno::EINVAL),
        };
        let new = (base as i64).checked_add(off as i64);
        match new {
            Some(n) if n >= 0 => {
                if let Some(d) = self.descs.get_mut(&id) {
                    d.offset = n as u64;
                }
                SysResult::Ret(n as u64)
            }
            _ => SysResult::Err(errno::EINVAL),
        }
    }

    /// `umask(mask)`: the old mask.
    pub(super) fn sys_umask(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let Some(pi) = self.index(pid) else {
            return SysResult::NoReturn;
        };
        let old = std::mem::replace(&mut self.procs[pi].task.umask, (a[0] as u32) & 0o777);
        SysResult::Ret(u64::from(old))
    }

    /// The open flags of a description (`fcntl(F_GETFL)`).
    pub(super) fn desc_flags(&self, file: OpenFile) -> Option<u64> {
        self.desc(file)
            .map(|d| d.flags & !(o::CLOEXEC | o::CREAT | o::EXCL | o::TRUNC | o::NOFOLLOW))
    }

    /// Sets a description's `O_APPEND` and `O_NONBLOCK` (`fcntl(F_SETFL)`).
    pub(super) fn set_desc_flags(&mut self, file: OpenFile, flags: u64) {
        if let OpenFile::Desc(id) = file {
            if let Some(d) = self.descs.get_mut(&id) {
                let settable = o::APPEND | 0o4000;
                d.flags = (d.flags & !settable) | (flags & settable);
            }
        }
    }
}
