//! What programs ask about files beyond their bytes: `statfs` and `fstatfs`, the extended
//! attribute calls (the guest file system keeps none), and `fadvise64`.
//!
//! `ls`, `cp` and friends ask these of every file they touch; coreutils and glibc take
//! "no attributes" (`ENODATA`, an empty list) and a plain file system as Linux gives them.

use super::syscalls::SysResult;
use super::{errno, Kernel};
use crate::hw::Hw;
use crate::process::{OpenFile, Pid};

/// `statfs`'s `f_type` for the guest file system (`TMPFS_MAGIC`: the files live in the
/// kernel's own region of the disk, as tmpfs keeps them in memory).
pub const TMPFS_MAGIC: u64 = 0x0102_1994;
/// `f_type` of the console when it is a pipe or file (`PIPEFS_MAGIC`).
pub const PIPEFS_MAGIC: u64 = 0x5049_5045;
/// `f_type` of the console when it is a terminal (`DEVPTS_SUPER_MAGIC`).
pub const DEVPTS_MAGIC: u64 = 0x1cd1;
/// `f_flags`: mounted read-only.
const ST_RDONLY: u64 = 1;
/// The longest name (`f_namelen`).
const NAME_MAX: u64 = 255;
/// `ENODATA`: no such attribute.
const ENODATA: u64 = 61;
/// `POSIX_FADV_NOREUSE`, the largest advice.
const FADV_MAX: u64 = 5;

/// `struct statfs` as 64-bit RISC-V Linux lays it out (120 bytes): type, block size,
/// blocks, free, available, files, free files, fsid, name length, fragment size, flags,
/// four spare words.
pub fn statfs_bytes(f_type: u64, page: u64, blocks: u64, free: u64, read_only: bool) -> Vec<u8> {
    let words: [u64; 15] = [
        f_type,
        page,
        blocks,
        free,
        free,
        blocks,
        free,
        0, // f_fsid: two ints, zero
        NAME_MAX,
        page,
        if read_only { ST_RDONLY } else { 0 },
        0,
        0,
        0,
        0,
    ];
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl Kernel {
    /// The `statfs` bytes for the file system of inode `ino`.
    fn statfs_of_ino(&self, ino: u64) -> Result<Vec<u8>, SysResult> {
        let fs = self.fs.as_ref().ok_or(SysResult::Err(errno::ENOENT))?;
        let (ro, pages, free) = fs.vfs.fs_info(ino).map_err(SysResult::from)?;
        Ok(statfs_bytes(
            TMPFS_MAGIC,
            fs.cache.page_size(),
            pages,
            free,
            ro,
        ))
    }

    /// `statfs(path, buf)`.
    pub(super) fn sys_statfs(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let ino = match self.resolve_path(hw, pid, a[0], true) {
            Ok(i) => i,
            Err(r) => return r,
        };
        match self.statfs_of_ino(ino) {
            Ok(b) => self.put_user(hw, pid, a[1], &b),
            Err(r) => r,
        }
    }

    /// `fstatfs(fd, buf)`.
    pub(super) fn sys_fstatfs(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let bytes = match file {
            OpenFile::Desc(id) => match self.descs.get(&id).map(|d| d.ino) {
                Some(ino) => match self.statfs_of_ino(ino) {
                    Ok(b) => b,
                    Err(r) => return r,
                },
                None => return SysResult::Err(errno::EBADF),
            },
            OpenFile::Pipe(_) => statfs_bytes(PIPEFS_MAGIC, 4096, 0, 0, false),
            OpenFile::Console(c) => {
                let t = if hw.is_terminal(u64::from(c)) {
                    DEVPTS_MAGIC
                } else {
                    PIPEFS_MAGIC
                };
                statfs_bytes(t, 4096, 0, 0, false)
            }
        };
        self.put_user(hw, pid, a[1], &bytes)
    }

    /// `getxattr(path, name, value, size)` and `lgetxattr` (which does not follow a last
    /// symbolic link): the file must exist; it has no attributes.
    pub(super) fn sys_getxattr(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.resolve_path(hw, pid, a[0], true) {
            Ok(_) => SysResult::Err(ENODATA),
            Err(r) => r,
        }
    }

    /// `lgetxattr(path, name, value, size)`.
    pub(super) fn sys_lgetxattr(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.resolve_path(hw, pid, a[0], false) {
            Ok(_) => SysResult::Err(ENODATA),
            Err(r) => r,
        }
    }

    /// `fgetxattr(fd, name, value, size)`.
    pub(super) fn sys_fgetxattr(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.fd(pid, a[0]) {
            Ok(_) => SysResult::Err(ENODATA),
            Err(r) => r,
        }
    }

    /// `listxattr(path, list, size)`: an empty list.
    pub(super) fn sys_listxattr(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.resolve_path(hw, pid, a[0], true) {
            Ok(_) => SysResult::Ret(0),
            Err(r) => r,
        }
    }

    /// `llistxattr(path, list, size)`: an empty list.
    pub(super) fn sys_llistxattr(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.resolve_path(hw, pid, a[0], false) {
            Ok(_) => SysResult::Ret(0),
            Err(r) => r,
        }
    }

    /// `flistxattr(fd, list, size)`: an empty list.
    pub(super) fn sys_flistxattr(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        match self.fd(pid, a[0]) {
            Ok(_) => SysResult::Ret(0),
            Err(r) => r,
        }
    }

    /// `fadvise64(fd, offset, len, advice)`: advice is accepted and changes nothing (the
    /// cache reads page by page on demand); `ESPIPE` for the console, `EINVAL` for unknown
    /// advice.
    pub(super) fn sys_fadvise64(&mut self, _hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let file = match self.fd(pid, a[0]) {
            Ok(f) => f,
            Err(r) => return r,
        };
        if a[3] > FADV_MAX || (a[2] as i64) < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        match file {
            OpenFile::Console(_) | OpenFile::Pipe(_) => SysResult::Err(errno::ESPIPE),
            _ => SysResult::Ret(0),
        }
    }

    /// Copies `bytes` to `buf` of `pid`: 0, or the copy's failure.
    fn put_user(&mut self, hw: &mut dyn Hw, pid: Pid, buf: u64, bytes: &[u8]) -> SysResult {
        match self.copy_to_user(hw, pid, buf, bytes) {
            Ok(()) => SysResult::Ret(0),
            Err(f) => f.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statfs_is_laid_out_as_riscv64_linux_has_it() {
        let b = statfs_bytes(TMPFS_MAGIC, 4096, 100, 40, true);
        assert_eq!(b.len(), 120);
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        // f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid,
        // f_namelen, f_frsize, f_flags.
        assert_eq!(
            (0..11).map(word).collect::<Vec<_>>(),
            [0x0102_1994, 4096, 100, 40, 40, 100, 40, 0, 255, 4096, 1]
        );
    }
}
