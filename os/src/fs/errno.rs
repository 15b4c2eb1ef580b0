//! Linux error numbers, as a newtype the file system returns and the kernel can share.
//!
//! The values are Linux's generic ones (`include/uapi/asm-generic/errno-base.h` and
//! `errno.h`), which RISC-V uses. A system call that fails returns the negated number in
//! `a0`: [`Errno::to_return`] gives that register value.

use std::fmt;

/// A Linux error number, such as [`Errno::ENOENT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(pub u64);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// An input or output error (the disk failed, or a file was used before its content
    /// was read from the host).
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor (also: a file closed more times than it was opened).
    pub const EBADF: Errno = Errno(9);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Permission denied.
    pub const EACCES: Errno = Errno(13);
    /// Bad address.
    pub const EFAULT: Errno = Errno(14);
    /// Device or resource busy (a mount point).
    pub const EBUSY: Errno = Errno(16);
    /// The file exists.
    pub const EEXIST: Errno = Errno(17);
    /// A link or rename across file systems.
    pub const EXDEV: Errno = Errno(18);
    /// No such device.
    pub const ENODEV: Errno = Errno(19);
    /// Not a directory.
    pub const ENOTDIR: Errno = Errno(20);
    /// Is a directory.
    pub const EISDIR: Errno = Errno(21);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// File too large.
    pub const EFBIG: Errno = Errno(27);
    /// No space left on the device.
    pub const ENOSPC: Errno = Errno(28);
    /// Read-only file system.
    pub const EROFS: Errno = Errno(30);
    /// Too many links (a directory with too many subdirectories).
    pub const EMLINK: Errno = Errno(31);
    /// A file name longer than 255 bytes, or a path longer than 4095.
    pub const ENAMETOOLONG: Errno = Errno(36);
    /// Function not implemented.
    pub const ENOSYS: Errno = Errno(38);
    /// A directory that is not empty.
    pub const ENOTEMPTY: Errno = Errno(39);
    /// Too many symbolic links in a path.
    pub const ELOOP: Errno = Errno(40);

    /// Every named error, in order of number (for names and tests).
    pub const ALL: [Errno; 22] = [
        Errno::EPERM,
        Errno::ENOENT,
        Errno::EIO,
        Errno::EBADF,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EFAULT,
        Errno::EBUSY,
        Errno::EEXIST,
        Errno::EXDEV,
        Errno::ENODEV,
        Errno::ENOTDIR,
        Errno::EISDIR,
        Errno::EINVAL,
        Errno::EFBIG,
        Errno::ENOSPC,
        Errno::EROFS,
        Errno::EMLINK,
        Errno::ENAMETOOLONG,
        Errno::ENOSYS,
        Errno::ENOTEMPTY,
        Errno::ELOOP,
    ];

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The value a failing system call leaves in `a0`: the number negated, in two's
    /// complement.
    pub fn to_return(self) -> u64 {
        self.0.wrapping_neg()
    }

    /// The symbolic name (`"ENOENT"`), or `None` for a number this module does not name.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 22] = [
            "EPERM",
            "ENOENT",
            "EIO",
            "EBADF",
            "ENOMEM",
            "EACCES",
            "EFAULT",
            "EBUSY",
            "EEXIST",
            "EXDEV",
            "ENODEV",
            "ENOTDIR",
            "EISDIR",
            "EINVAL",
            "EFBIG",
            "ENOSPC",
            "EROFS",
            "EMLINK",
            "ENAMETOOLONG",
            "ENOSYS",
            "ENOTEMPTY",
            "ELOOP",
        ];
        Errno::ALL.iter().position(|&e| e == self).map(|i| NAMES[i])
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_returns() {
        let cases = [
            (Errno::ENOENT, 2, "ENOENT"),
            (Errno::EIO, 5, "EIO"),
            (Errno::EBADF, 9, "EBADF"),
            (Errno::EACCES, 13, "EACCES"),
            (Errno::EEXIST, 17, "EEXIST"),
            (Errno::EXDEV, 18, "EXDEV"),
            (Errno::ENOTDIR, 20, "ENOTDIR"),
            (Errno::EISDIR, 21, "EISDIR"),
            (Errno::EINVAL, 22, "EINVAL"),
            (Errno::ENOSPC, 28, "ENOSPC"),
            (Errno::EROFS, 30, "EROFS"),
            (Errno::EMLINK, 31, "EMLINK"),
            (Errno::ENAMETOOLONG, 36, "ENAMETOOLONG"),
            (Errno::ENOTEMPTY, 39, "ENOTEMPTY"),
            (Errno::ELOOP, 40, "ELOOP"),
        ];
        for (e, n, name) in cases {
            assert_eq!(e.get(), n);
            assert_eq!(e.name(), Some(name));
            assert_eq!(e.to_return(), (-(n as i64)) as u64);
        }
        assert!(Errno::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Errno(4095).name(), None);
        assert_eq!(Errno::ENOENT.to_string(), "ENOENT (2)");
        assert_eq!(Errno(4095).to_string(), "errno 4095");
    }
}
