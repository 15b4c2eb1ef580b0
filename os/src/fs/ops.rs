//! The namespace operations: create, mkdir, unlink, rmdir, rename, symlink, readlink,
//! readdir. Each checks its errors in the order Linux's VFS does, so that a path with
//! several faults gives the error Linux would give.

use std::ops::Bound;

use super::namei::Last;
use super::{
    Body, CreateHow, Created, Dir, DirEntry, Errno, File, Ino, Kind, Vfs, DT_DIR, MAXSYMLINKS,
    MAX_SUBDIRS, NAME_MAX, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, W_OK, X_OK,
};

/// The readdir offset of the first name (0 is `.`, 1 is `..`).
const FIRST_NAME_OFFSET: u64 = 2;

impl Vfs {
    /// Opens or creates a regular file, as `open` with `O_CREAT` does (the kernel then
    /// checks the access mode with [`Vfs::access`] when the file was not created).
    ///
    /// An existing name is returned as it is unless `how.exclusive` (`EEXIST`); a symbolic
    /// link there is followed (a dangling one creates its target), or is `ELOOP` without
    /// `how.follow`; a directory is `EISDIR`, as are `.`, `..` and `/`, and any path with
    /// a trailing slash. A new file needs a writable mount (`EROFS`), a live directory
    /// (`ENOENT`) and write and search permission on it (`EACCES`).
    pub fn create(
        &mut self,
        cwd: Ino,
        path: &[u8],
        how: CreateHow,
        now_ns: u64,
    ) -> Result<Created, Errno> {
        let mut path = path.to_vec();
        let mut at = cwd;
        let mut links = 0;
        loop {
            let p = self.resolve_parent(at, &path)?;
            let (dir, slash) = (p.dir, p.slash);
            let name = match p.last {
                Last::Name(n) => n.to_vec(),
                _ if how.exclusive => return Err(Errno::EEXIST),
                _ => return Err(Errno::EISDIR),
            };
            if slash {
                return Err(Errno::EISDIR);
            }
            if self.dead(dir) {
                return Err(Errno::ENOENT);
            }
            let Some(child) = self.search(dir, &name)? else {
                self.may_create(dir)?;
                let ino = self.new_child(dir, &name, how.mode, Body::File(File::default()), now_ns);
                return Ok(Created { ino, new: true });
            };
            if how.exclusive {
                return Err(Errno::EEXIST);
            }
            let child = self.top(child);
            match &self.node(child)?.body {
                Body::Symlink(target) => {
                    if !how.follow {
                        return Err(Errno::ELOOP);
                    }
                    links += 1;
                    if links > MAXSYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    if target.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    path = target.clone();
                    at = dir;
                }
                Body::Dir(_) => return Err(Errno::EISDIR),
                _ => {
                    return Ok(Created {
                        ino: child,
                        new: false,
                    })
                }
            }
        }
    }

    /// Makes a directory, as `mkdir`: `EEXIST` for an existing name (even on a read-only
    /// mount) and for `.`, `..`, `/`; `EROFS`, `ENOENT` (a removed parent), `EACCES`,
    /// `EMLINK` (over [`MAX_SUBDIRS`]). Its inode number.
    pub fn mkdir(&mut self, cwd: Ino, path: &[u8], mode: u32, now_ns: u64) -> Result<Ino, Errno> {
        let p = self.resolve_parent(cwd, path)?;
        let Last::Name(name) = p.last else {
            return Err(Errno::EEXIST);
        };
        if self.search(p.dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.may_create(p.dir)?;
        if self.dir(p.dir)?.subdirs >= MAX_SUBDIRS {
            return Err(Errno::EMLINK);
        }
        let body = Body::Dir(Dir {
            parent: p.dir,
            ..Dir::default()
        });
        Ok(self.new_child(p.dir, name, mode, body, now_ns))
    }

    /// Makes a symbolic link at `path` to `target` (stored as given, up to a NUL), as
    /// `symlink`: `ENOENT` for an empty target or a trailing slash, `ENAMETOOLONG` for a
    /// target of [`PATH_MAX`](super::PATH_MAX) bytes or more, `EEXIST` for an existing name or `.`, `..`,
    /// `/`, then as [`Vfs::mkdir`]. Its inode number.
    pub fn symlink(
        &mut self,
        target: &[u8],
        cwd: Ino,
        path: &[u8],
        now_ns: u64,
    ) -> Result<Ino, Errno> {
        let target = super::namei::check_path(target)?;
        let p = self.resolve_parent(cwd, path)?;
        let Last::Name(name) = p.last else {
            return Err(Errno::EEXIST);
        };
        if self.search(p.dir, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if p.slash {
            return Err(Errno::ENOENT);
        }
        self.may_create(p.dir)?;
        let body = Body::Symlink(target.to_vec());
        Ok(self.new_child(p.dir, name, 0o777, body, now_ns))
    }

    /// The target of symbolic link `ino` (`EINVAL` if it is not one).
    pub fn readlink(&self, ino: Ino) -> Result<&[u8], Errno> {
        match &self.node(ino)?.body {
            Body::Symlink(t) => Ok(t),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Removes a name that is not a directory, as `unlink`: `EISDIR` for a directory (and
    /// `.`, `..`, `/`), `EROFS`, `EACCES`, `ENOENT`, `ENOTDIR` (a trailing slash on a
    /// non-directory). The inode goes when its last name and last open do
    /// ([`Vfs::close`]).
    pub fn unlink(&mut self, cwd: Ino, path: &[u8], now_ns: u64) -> Result<(), Errno> {
        let p = self.resolve_parent(cwd, path)?;
        let Last::Name(name) = p.last else {
            return Err(Errno::EISDIR);
        };
        if self.read_only(p.dir) {
            return Err(Errno::EROFS);
        }
        let child = self.search(p.dir, name)?.ok_or(Errno::ENOENT)?;
        let is_dir = self.kind(child)? == Kind::Dir;
        if p.slash {
            return Err(if is_dir {
                Errno::EISDIR
            } else {
                Errno::ENOTDIR
            });
        }
        self.access(p.dir, W_OK | X_OK)?;
        if is_dir {
            return Err(Errno::EISDIR);
        }
        self.detach(p.dir, name);
        self.unlinked(child, now_ns);
        self.changed(p.dir, now_ns);
        Ok(())
    }

    /// Removes an empty directory, as `rmdir`: `EINVAL` for `.`, `ENOTEMPTY` for `..` and
    /// a directory with entries, `EBUSY` for `/` and a mount point, `EROFS`, `EACCES`,
    /// `ENOENT`, `ENOTDIR`.
    pub fn rmdir(&mut self, cwd: Ino, path: &[u8], now_ns: u64) -> Result<(), Errno> {
        let p = self.resolve_parent(cwd, path)?;
        let name = match p.last {
            Last::Name(n) => n,
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Root => return Err(Errno::EBUSY),
        };
        if self.read_only(p.dir) {
            return Err(Errno::EROFS);
        }
        let child = self.search(p.dir, name)?.ok_or(Errno::ENOENT)?;
        self.access(p.dir, W_OK | X_OK)?;
        let empty = self.dir(child)?.entries.is_empty();
        if self.covered.contains_key(&child) {
            return Err(Errno::EBUSY);
        }
        if !empty {
            return Err(Errno::ENOTEMPTY);
        }
        self.detach(p.dir, name);
        self.unlinked(child, now_ns);
        self.changed(p.dir, now_ns);
        Ok(())
    }

    /// Renames `from` (a directory and a path in it) to `to`, as `renameat2` with `flags`
    /// ([`RENAME_NOREPLACE`], [`RENAME_EXCHANGE`]; unknown flags and exchange with
    /// another are `EINVAL`; [`RENAME_WHITEOUT`] is `EPERM`, as for a user without
    /// `CAP_MKNOD`).
    ///
    /// Errors, in Linux's order: `EXDEV` across file systems, `EBUSY` for `.`, `..`, `/`
    /// and mount points, `EROFS`, `ENOENT`, `EEXIST` (no-replace onto an existing name),
    /// `ENOTDIR` (a trailing slash on a non-directory, a directory onto a non-directory),
    /// `EINVAL` (a directory into itself), `ENOTEMPTY` (onto a non-empty directory, or onto
    /// an ancestor of the source), `EISDIR` (a non-directory onto a directory), `EACCES`,
    /// `EMLINK`. Renaming a name onto another name of the same inode does nothing.
    pub fn rename(
        &mut self,
        from: (Ino, &[u8]),
        to: (Ino, &[u8]),
        flags: u32,
        now_ns: u64,
    ) -> Result<(), Errno> {
        let exchange = flags & RENAME_EXCHANGE != 0;
        let noreplace = flags & RENAME_NOREPLACE != 0;
        let whiteout = flags & RENAME_WHITEOUT != 0;
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
            || (exchange && (noreplace || whiteout))
        {
            return Err(Errno::EINVAL);
        }
        if whiteout {
            // It needs CAP_MKNOD, which the guest's user does not have.
            return Err(Errno::EPERM);
        }
        let po = self.resolve_parent(from.0, from.1)?;
        let pn = self.resolve_parent(to.0, to.1)?;
        if self.node(po.dir)?.fs != self.node(pn.dir)?.fs {
            return Err(Errno::EXDEV);
        }
        let Last::Name(old) = po.last else {
            return Err(Errno::EBUSY);
        };
        let Last::Name(new) = pn.last else {
            return Err(if noreplace {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        };
        if self.read_only(po.dir) || self.read_only(pn.dir) {
            return Err(Errno::EROFS);
        }
        let src = self.search(po.dir, old)?.ok_or(Errno::ENOENT)?;
        let dst = self.search(pn.dir, new)?;
        if noreplace && dst.is_some() {
            return Err(Errno::EEXIST);
        }
        let src_dir = self.kind(src)? == Kind::Dir;
        let dst_dir = match dst {
            Some(d) => self.kind(d)? == Kind::Dir,
            None => false,
        };
        if exchange {
            if dst.is_none() {
                return Err(Errno::ENOENT);
            }
            if !dst_dir && pn.slash {
                return Err(Errno::ENOTDIR);
            }
        }
        if !src_dir && (po.slash || (!exchange && pn.slash)) {
            return Err(Errno::ENOTDIR);
        }
        if po.dir != pn.dir {
            if src_dir && self.is_ancestor(src, pn.dir) {
                return Err(Errno::EINVAL);
            }
            if let Some(d) = dst {
                if dst_dir && self.is_ancestor(d, po.dir) {
                    return Err(if exchange {
                        Errno::EINVAL
                    } else {
                        Errno::ENOTEMPTY
                    });
                }
            }
        }
        if dst == Some(src) {
            return Ok(());
        }
        self.access(po.dir, W_OK | X_OK)?;
        match dst {
            None => {
                if self.dead(pn.dir) {
                    return Err(Errno::ENOENT);
                }
                self.access(pn.dir, W_OK | X_OK)?;
            }
            Some(_) => {
                self.access(pn.dir, W_OK | X_OK)?;
                if !exchange {
                    if src_dir && !dst_dir {
                        return Err(Errno::ENOTDIR);
                    }
                    if !src_dir && dst_dir {
                        return Err(Errno::EISDIR);
                    }
                }
            }
        }
        if self.covered.contains_key(&src) || dst.is_some_and(|d| self.covered.contains_key(&d)) {
            return Err(Errno::EBUSY);
        }
        if po.dir != pn.dir {
            let grows = |moving_dir: bool, replaced_dir: bool| moving_dir && !replaced_dir;
            if (grows(src_dir, dst_dir) && self.dir(pn.dir)?.subdirs >= MAX_SUBDIRS)
                || (exchange && grows(dst_dir, src_dir) && self.dir(po.dir)?.subdirs >= MAX_SUBDIRS)
            {
                return Err(Errno::EMLINK);
            }
        }
        if let (Some(d), false, true) = (dst, exchange, dst_dir) {
            if !self.dir(d)?.entries.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
        }
        // Every check passed: change the tree.
        self.detach(po.dir, old);
        if let Some(d) = dst {
            self.detach(pn.dir, new);
            if exchange {
                self.attach(po.dir, old, d);
                self.changed_inode(d, now_ns);
            } else {
                self.unlinked(d, now_ns);
            }
        }
        self.attach(pn.dir, new, src);
        self.changed_inode(src, now_ns);
        self.changed(po.dir, now_ns);
        self.changed(pn.dir, now_ns);
        Ok(())
    }

    /// Lists directory `ino` from `offset` (0 to start; else a [`DirEntry::next`] from an
    /// earlier call), at most `max` entries: `.` and `..` first, then the names in byte
    /// order. An offset stays valid while the directory changes: a listing resumed from it
    /// goes on after the same name, whether or not that name is still there (entries
    /// added or removed meanwhile may or may not appear, as POSIX allows). `ENOTDIR`;
    /// `ENOENT` for a removed directory.
    pub fn readdir(&self, ino: Ino, offset: u64, max: usize) -> Result<Vec<DirEntry>, Errno> {
        let dir = self.dir(ino)?;
        if self.dead(ino) {
            return Err(Errno::ENOENT);
        }
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let dots: [(&[u8], Ino); 2] = [(b".", ino), (b"..", dir.parent)];
        for (i, (name, dot_ino)) in dots.into_iter().enumerate() {
            if offset <= i as u64 && out.len() < max {
                out.push(DirEntry {
                    name: name.to_vec(),
                    ino: dot_ino,
                    d_type: DT_DIR,
                    next: i as u64 + 1,
                });
            }
        }
        let after = match offset.checked_sub(FIRST_NAME_OFFSET + 1) {
            None => Bound::Unbounded,
            Some(cookie) => match usize::try_from(cookie).ok().and_then(|c| dir.names.get(c)) {
                Some(name) => Bound::Excluded(name.as_slice()),
                None => return Ok(out),
            },
        };
        for (name, &child) in dir.entries.range::<[u8], _>((after, Bound::Unbounded)) {
            if out.len() >= max {
                break;
            }
            let cookie = dir.cookies.get(name).copied().unwrap_or(0);
            out.push(DirEntry {
                name: name.clone(),
                ino: child,
                d_type: self.kind(child)?.d_type(),
                next: cookie + FIRST_NAME_OFFSET + 1,
            });
        }
        Ok(out)
    }

    /// Looks `name` up in directory `dir` as the last step of a path: search permission
    /// (`EACCES`), its length (`ENAMETOOLONG`), then the entry itself (not crossing a
    /// mount, not following a link).
    fn search(&self, dir: Ino, name: &[u8]) -> Result<Option<Ino>, Errno> {
        self.access(dir, X_OK)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(self.dir(dir)?.entries.get(name).copied())
    }

    /// Whether directory `a` is `b` or one of its ancestors (within one file system).
    fn is_ancestor(&self, a: Ino, mut b: Ino) -> bool {
        for _ in 0..self.nodes.len() {
            if a == b {
                return true;
            }
            match self.dir(b) {
                Ok(d) if d.parent != b => b = d.parent,
                _ => return false,
            }
        }
        false
    }

    /// The checks before a new name goes in `dir`: a writable mount, a live directory,
    /// write and search permission.
    fn may_create(&self, dir: Ino) -> Result<(), Errno> {
        if self.read_only(dir) {
            return Err(Errno::EROFS);
        }
        if self.dead(dir) {
            return Err(Errno::ENOENT);
        }
        self.access(dir, W_OK | X_OK)
    }

    /// Makes an inode of `body` in `dir`'s file system and links it as `name`.
    pub(super) fn new_child(
        &mut self,
        dir: Ino,
        name: &[u8],
        mode: u32,
        body: Body,
        now: u64,
    ) -> Ino {
        let fs = self.node(dir).map_or(0, |n| n.fs);
        let ino = self.add_node(fs, mode, body, now);
        if let Ok(Body::File(f)) = self.node_mut(ino).map(|n| &mut n.body) {
            f.dirty = true;
        }
        self.attach(dir, name, ino);
        self.changed(dir, now);
        ino
    }

    /// A name of `ino` went: one link fewer (none for a directory), freed if nothing holds
    /// it.
    fn unlinked(&mut self, ino: Ino, now: u64) {
        if let Ok(n) = self.node_mut(ino) {
            n.nlink = match n.body {
                Body::Dir(_) => 0,
                _ => n.nlink.saturating_sub(1),
            };
            n.ctime = now;
        }
        self.release_if_unused(ino);
    }

    /// Directory `dir`'s entries changed at `now`.
    fn changed(&mut self, dir: Ino, now: u64) {
        if let Ok(n) = self.node_mut(dir) {
            n.mtime = now;
            n.ctime = now;
        }
    }

    /// Inode `ino` itself changed at `now`.
    fn changed_inode(&mut self, ino: Ino, now: u64) {
        if let Ok(n) = self.node_mut(ino) {
            n.ctime = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, config, Op::*, Want};
    use super::super::{
        Errno, Stat, Vfs, F_OK, RENAME_WHITEOUT, ROOT_INO, R_OK, S_IFREG, W_OK, X_OK,
    };
    use super::*;

    const E: fn(Errno) -> Result<(), Errno> = Err;
    const OK: Result<(), Errno> = Ok(());
    const NR: u32 = RENAME_NOREPLACE;
    const EX: u32 = RENAME_EXCHANGE;

    fn vfs() -> Vfs {
        Vfs::new(config(16)).unwrap()
    }

    fn stat(v: &Vfs, path: &str) -> Stat {
        v.stat(v.resolve(ROOT_INO, path.as_bytes(), false).unwrap())
            .unwrap()
    }

    #[test]
    fn create_and_mkdir() {
        let mut v = vfs();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Create, "/tmp/f", OK),
                (Create, "/tmp/f", OK),
                (CreateExcl, "/tmp/f", E(Errno::EEXIST)),
                (Create, "/tmp/f/", E(Errno::EISDIR)),
                (CreateExcl, "/tmp/f/", E(Errno::EISDIR)),
                (Create, "/tmp/new/", E(Errno::EISDIR)),
                (Create, "/tmp", E(Errno::EISDIR)),
                (Create, "/tmp/.", E(Errno::EISDIR)),
                (CreateExcl, "/tmp/..", E(Errno::EEXIST)),
                (Create, "/", E(Errno::EISDIR)),
                (Create, "/f", E(Errno::EROFS)),
                (Create, "/dev/f", E(Errno::EROFS)),
                (Create, "/dev/null", OK),
                (Create, "/tmp/nodir/f", E(Errno::ENOENT)),
                (Create, "/tmp/f/g", E(Errno::ENOTDIR)),
                // Through links: a dangling one creates its target, unless O_EXCL or
                // O_NOFOLLOW.
                (Symlink("made"), "/tmp/dl", OK),
                (CreateExcl, "/tmp/dl", E(Errno::EEXIST)),
                (CreateNoFollow, "/tmp/dl", E(Errno::ELOOP)),
                (Create, "/tmp/dl", OK),
                (Is(Want::File), "/tmp/made", OK),
                (Symlink("loop"), "/tmp/loop", OK),
                (Create, "/tmp/loop", E(Errno::ELOOP)),
                (Mkdir, "/tmp/d", OK),
                (Mkdir, "/tmp/d", E(Errno::EEXIST)),
                (Mkdir, "/tmp/d/", E(Errno::EEXIST)),
                (Mkdir, "/tmp/e/", OK),
                (Mkdir, "/tmp/f", E(Errno::EEXIST)),
                (Mkdir, "/tmp/.", E(Errno::EEXIST)),
                (Mkdir, "/tmp/..", E(Errno::EEXIST)),
                (Mkdir, "/", E(Errno::EEXIST)),
                (Mkdir, "/dev", E(Errno::EEXIST)),
                (Mkdir, "/x", E(Errno::EROFS)),
                (Mkdir, "/tmp/d/e/f", E(Errno::ENOENT)),
                (Symlink("x"), "/tmp/d", E(Errno::EEXIST)),
                (Symlink("x"), "/tmp/s/", E(Errno::ENOENT)),
                (Symlink("x"), "/s", E(Errno::EROFS)),
                (Symlink("x"), "/tmp/..", E(Errno::EEXIST)),
                (MkdirMode(0o500), "/tmp/ro", OK),
                (Create, "/tmp/ro/f", E(Errno::EACCES)),
                (Mkdir, "/tmp/ro/d", E(Errno::EACCES)),
                (Is(Want::Dir), "/tmp/d", OK),
            ],
        );
        let f = stat(&v, "/tmp/f");
        assert_eq!(
            (f.mode, f.nlink, f.size, f.blocks),
            (S_IFREG | 0o644, 1, 0, 0)
        );
        assert_eq!((f.mtime_ns, f.dev), (7, super::super::TMP_DEV));
        assert_eq!(stat(&v, "/tmp/d").nlink, 2);
        assert_eq!(stat(&v, "/tmp").nlink, 5, "d, e, ro and 2");
        assert_eq!(stat(&v, "/tmp").mtime_ns, 7);
        assert_eq!(stat(&v, "/tmp/dl").size, 4);
    }

    #[test]
    fn long_names() {
        let mut v = vfs();
        let name = "y".repeat(256);
        let (tmp, dev) = (format!("/tmp/{name}"), format!("/dev/{name}"));
        let ok = format!("/tmp/{}", "y".repeat(255));
        check(
            &mut v,
            ROOT_INO,
            &[
                (Create, &tmp, E(Errno::ENAMETOOLONG)),
                (Mkdir, &tmp, E(Errno::ENAMETOOLONG)),
                (Symlink("x"), &tmp, E(Errno::ENAMETOOLONG)),
                (Unlink, &tmp, E(Errno::ENAMETOOLONG)),
                (Rmdir, &tmp, E(Errno::ENAMETOOLONG)),
                (Rename("/tmp/x", 0), &tmp, E(Errno::ENAMETOOLONG)),
                (Mkdir, "/tmp/x", OK),
                (Rename(&tmp, 0), "/tmp/x", E(Errno::ENAMETOOLONG)),
                // A read-only mount says so first.
                (Unlink, &dev, E(Errno::EROFS)),
                (Rmdir, &dev, E(Errno::EROFS)),
                (Mkdir, &dev, E(Errno::ENAMETOOLONG)),
                (Mkdir, &ok, OK),
            ],
        );
    }

    #[test]
    fn access_checks() {
        let mut v = vfs();
        let rwx = R_OK | W_OK | X_OK;
        check(
            &mut v,
            ROOT_INO,
            &[
                (Access(F_OK), "/", OK),
                (Access(R_OK | X_OK), "/", OK),
                (Access(W_OK), "/", E(Errno::EROFS)),
                (Access(W_OK), "/dev", E(Errno::EROFS)),
                (Access(R_OK | W_OK), "/dev/null", OK),
                (Access(X_OK), "/dev/null", E(Errno::EACCES)),
                (Access(rwx), "/tmp", OK),
                (Create, "/tmp/f", OK),
                (Access(R_OK | W_OK), "/tmp/f", OK),
                (Access(X_OK), "/tmp/f", E(Errno::EACCES)),
                (Access(8), "/tmp/f", E(Errno::EINVAL)),
                (Access(F_OK), "/tmp/none", E(Errno::ENOENT)),
            ],
        );
    }

    #[test]
    fn unlink_and_rmdir() {
        let mut v = vfs();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Mkdir, "/tmp/d", OK),
                (Create, "/tmp/d/f", OK),
                (Symlink("d"), "/tmp/l", OK),
                (Unlink, "/tmp/d", E(Errno::EISDIR)),
                (Unlink, "/tmp/d/", E(Errno::EISDIR)),
                (Unlink, "/tmp/d/f/", E(Errno::ENOTDIR)),
                (Unlink, "/tmp/.", E(Errno::EISDIR)),
                (Unlink, "/tmp/..", E(Errno::EISDIR)),
                (Unlink, "/", E(Errno::EISDIR)),
                (Unlink, "/tmp/none", E(Errno::ENOENT)),
                (Unlink, "/dev/null", E(Errno::EROFS)),
                (Unlink, "/dev/none", E(Errno::EROFS)),
                (Rmdir, "/tmp/d", E(Errno::ENOTEMPTY)),
                (Rmdir, "/tmp/d/f", E(Errno::ENOTDIR)),
                (Rmdir, "/tmp/l", E(Errno::ENOTDIR)),
                (Rmdir, "/tmp/l/", E(Errno::ENOTDIR)),
                (Rmdir, "/tmp/d/.", E(Errno::EINVAL)),
                (Rmdir, "/tmp/d/..", E(Errno::ENOTEMPTY)),
                (Rmdir, "/", E(Errno::EBUSY)),
                (Rmdir, "/tmp", E(Errno::EROFS)),
                (Rmdir, "/tmp/none", E(Errno::ENOENT)),
                (Unlink, "/tmp/l", OK),
                (Unlink, "/tmp/d/f", OK),
                (Is(Want::File), "/tmp/d/f", E(Errno::ENOENT)),
                (Rmdir, "/tmp/d/", OK),
                (Is(Want::Dir), "/tmp/d", E(Errno::ENOENT)),
                (MkdirMode(0o500), "/tmp/ro", OK),
                (Rmdir, "/tmp/ro", OK),
            ],
        );
    }

    #[test]
    fn a_removed_cwd() {
        let mut v = vfs();
        let d = v.mkdir(ROOT_INO, b"/tmp/d", 0o755, 0).unwrap();
        v.mkdir(ROOT_INO, b"/tmp/d/e", 0o755, 0).unwrap();
        let e = v.resolve(ROOT_INO, b"/tmp/d/e", true).unwrap();
        v.open(e).unwrap();
        assert_eq!(v.path_of(e), Ok(b"/tmp/d/e".to_vec()));
        v.rmdir(ROOT_INO, b"/tmp/d/e", 0).unwrap();
        // getcwd fails, names in it do not exist, nothing can be made in it; `..` works.
        check(
            &mut v,
            e,
            &[
                (Cwd(""), ".", E(Errno::ENOENT)),
                (Is(Want::Ino(e)), ".", OK),
                (Is(Want::Ino(d)), "..", OK),
                (Create, "f", E(Errno::ENOENT)),
                (Mkdir, "g", E(Errno::ENOENT)),
                (Symlink("x"), "s", E(Errno::ENOENT)),
                (Is(Want::File), "f", E(Errno::ENOENT)),
            ],
        );
        assert_eq!(v.readdir(e, 0, 10), Err(Errno::ENOENT));
        assert_eq!(v.stat(e).unwrap().nlink, 0);
        v.close(e).unwrap();
        assert_eq!(v.stat(e), Err(Errno::ENOENT));
        assert_eq!(v.close(e), Err(Errno::EBADF));
    }

    /// The rename matrix: kinds of source and target, flags, and where they are.
    #[test]
    fn rename() {
        let mut v = vfs();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Mkdir, "/tmp/a", OK),
                (Mkdir, "/tmp/a/b", OK),
                (Create, "/tmp/a/b/f", OK),
                (Mkdir, "/tmp/empty", OK),
                (Mkdir, "/tmp/full", OK),
                (Create, "/tmp/full/x", OK),
                (Create, "/tmp/f", OK),
                (Create, "/tmp/g", OK),
                (Symlink("f"), "/tmp/l", OK),
                // Flags.
                (Rename("/tmp/g", NR | EX), "/tmp/f", E(Errno::EINVAL)),
                (Rename("/tmp/g", RENAME_WHITEOUT), "/tmp/f", E(Errno::EPERM)),
                (
                    Rename("/tmp/g", RENAME_WHITEOUT | EX),
                    "/tmp/f",
                    E(Errno::EINVAL),
                ),
                (Rename("/tmp/g", 8), "/tmp/f", E(Errno::EINVAL)),
                // Across file systems, and read-only ones.
                (Rename("/tmp/null", 0), "/dev/null", E(Errno::EXDEV)),
                (Rename("/dev/f", 0), "/tmp/f", E(Errno::EXDEV)),
                (Rename("/dev/zero2", 0), "/dev/zero", E(Errno::EROFS)),
                // Dots and roots.
                (Rename("/tmp/x", 0), "/tmp/a/.", E(Errno::EBUSY)),
                (Rename("/tmp/a/b/..", 0), "/tmp/f", E(Errno::EBUSY)),
                (Rename("/tmp/a/b/..", NR), "/tmp/f", E(Errno::EEXIST)),
                (Rename("/x", 0), "/", E(Errno::EBUSY)),
                (Rename("/tmp/x", 0), "/tmp", E(Errno::EXDEV)),
                // Missing source; no-replace; exchange with nothing.
                (Rename("/tmp/y", 0), "/tmp/none", E(Errno::ENOENT)),
                (Rename("/tmp/g", NR), "/tmp/f", E(Errno::EEXIST)),
                (Rename("/tmp/none", EX), "/tmp/f", E(Errno::ENOENT)),
                // Trailing slashes.
                (Rename("/tmp/h", 0), "/tmp/f/", E(Errno::ENOTDIR)),
                (Rename("/tmp/h/", 0), "/tmp/f", E(Errno::ENOTDIR)),
                (Rename("/tmp/empty2/", 0), "/tmp/empty/", OK),
                (Rename("/tmp/empty", 0), "/tmp/empty2", OK),
                // Kinds.
                (Rename("/tmp/empty", 0), "/tmp/f", E(Errno::EISDIR)),
                (Rename("/tmp/f", 0), "/tmp/empty", E(Errno::ENOTDIR)),
                (Rename("/tmp/full", 0), "/tmp/a/b", E(Errno::ENOTEMPTY)),
                (Rename("/tmp/empty", 0), "/tmp/a/b", OK),
                (Is(Want::File), "/tmp/empty/f", OK),
                (Is(Want::Dir), "/tmp/a/b", E(Errno::ENOENT)),
                // Into itself, onto an ancestor.
                (Rename("/tmp/a/x/y", 0), "/tmp/a", E(Errno::ENOENT)),
                (Mkdir, "/tmp/a/b", OK),
                (Rename("/tmp/a/b/c", 0), "/tmp/a", E(Errno::EINVAL)),
                (Rename("/tmp/a/b", 0), "/tmp/a", E(Errno::EINVAL)),
                (Rename("/tmp/a", 0), "/tmp/a/b", E(Errno::ENOTEMPTY)),
                (Rename("/tmp/a", EX), "/tmp/a/b", E(Errno::EINVAL)),
                // Same inode: nothing happens.
                (Rename("/tmp/f", 0), "/tmp/f", OK),
                (Rename("/tmp/a/../f", NR), "/tmp/f", E(Errno::EEXIST)),
                // A file onto a file replaces it; a link moves as a link.
                (Rename("/tmp/g", 0), "/tmp/f", OK),
                (Is(Want::File), "/tmp/f", E(Errno::ENOENT)),
                (Is(Want::File), "/tmp/l", E(Errno::ENOENT)),
                (Rename("/tmp/a/l2", 0), "/tmp/l", OK),
                (Readlink("f"), "/tmp/a/l2", OK),
                (Is(Want::Dir), "/tmp/a/l2", E(Errno::ENOENT)),
                // Exchange: a directory and a file swap, each keeping its inode.
                (Rename("/tmp/g", EX), "/tmp/full", OK),
                (Is(Want::File), "/tmp/full", OK),
                (Is(Want::File), "/tmp/g/x", OK),
                (Rename("/tmp/full/", EX), "/tmp/g", E(Errno::ENOTDIR)),
                (Rename("/tmp/full", EX), "/tmp/g/", OK),
                (Is(Want::File), "/tmp/full/x", OK),
            ],
        );
        assert_eq!(stat(&v, "/tmp").nlink, 2 + 3, "a, empty, full");
        // A directory moved to another parent: `..` and the link counts follow.
        let b = v.resolve(ROOT_INO, b"/tmp/a/b", true).unwrap();
        v.rename((ROOT_INO, b"/tmp/a/b"), (ROOT_INO, b"/tmp/full/b"), 0, 9)
            .unwrap();
        assert_eq!(v.path_of(b), Ok(b"/tmp/full/b".to_vec()));
        assert!(v.resolve(b, b"../x", true).is_ok());
        assert_eq!(stat(&v, "/tmp/a").nlink, 2);
        assert_eq!(stat(&v, "/tmp/full").nlink, 3);
        assert_eq!(stat(&v, "/tmp/full/b").ctime_ns, 9);
    }

    #[test]
    fn too_many_subdirectories() {
        let mut v = vfs();
        v.mkdir(ROOT_INO, b"/tmp/p", 0o755, 0).unwrap();
        let p = v.resolve(ROOT_INO, b"/tmp/p", true).unwrap();
        for i in 0..MAX_SUBDIRS {
            v.mkdir(p, format!("{i}").as_bytes(), 0o755, 0).unwrap();
        }
        assert_eq!(v.stat(p).unwrap().nlink, 2 + MAX_SUBDIRS);
        v.mkdir(ROOT_INO, b"/tmp/q", 0o755, 0).unwrap();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Mkdir, "/tmp/p/x", E(Errno::EMLINK)),
                (Create, "/tmp/p/f", OK),
                (Rename("/tmp/p/q", 0), "/tmp/q", E(Errno::EMLINK)),
                // Replacing a directory adds none.
                (Rename("/tmp/p/0", 0), "/tmp/q", OK),
                (Mkdir, "/tmp/q", OK),
                (Rename("/tmp/p/q", 0), "/tmp/q", E(Errno::EMLINK)),
                (Rmdir, "/tmp/p/1", OK),
                (Rename("/tmp/p/q", 0), "/tmp/q", OK),
            ],
        );
    }

    #[test]
    fn times_follow_the_kernels_clock() {
        let mut v = vfs();
        let how = CreateHow {
            mode: 0o644,
            exclusive: true,
            follow: true,
        };
        let f = v.create(ROOT_INO, b"/tmp/f", how, 10).unwrap().ino;
        let times = |v: &Vfs, ino| {
            let s = v.stat(ino).unwrap();
            (s.atime_ns, s.mtime_ns, s.ctime_ns)
        };
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        assert_eq!(times(&v, f), (10, 10, 10));
        assert_eq!(times(&v, tmp).1, 10);
        v.touch(f, 20).unwrap();
        v.set_atime(f, 30).unwrap();
        assert_eq!(times(&v, f), (30, 20, 20));
        v.rename((ROOT_INO, b"/tmp/f"), (ROOT_INO, b"/tmp/g"), 0, 40)
            .unwrap();
        assert_eq!(times(&v, f), (30, 20, 40));
        v.set_size(f, 1, 50).unwrap();
        assert_eq!(times(&v, f), (30, 50, 50));
        let fixed = super::super::FIXED_TIME_NS;
        assert_eq!(times(&v, 4), (fixed, fixed, fixed), "/dev/null");
        assert_eq!(v.touch(999, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn readdir_order_and_resumption() {
        let mut v = vfs();
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        for name in [&b"c"[..], b"a", b"b\xff", b"B"] {
            v.create(
                tmp,
                name,
                CreateHow {
                    mode: 0o600,
                    exclusive: true,
                    follow: true,
                },
                0,
            )
            .unwrap();
        }
        v.mkdir(tmp, b"d", 0o755, 0).unwrap();
        let names = |es: &[DirEntry]| -> Vec<String> {
            es.iter()
                .map(|e| String::from_utf8_lossy(&e.name).into_owned())
                .collect()
        };
        let all = v.readdir(tmp, 0, 100).unwrap();
        assert_eq!(names(&all), [".", "..", "B", "a", "b\u{fffd}", "c", "d"]);
        assert_eq!(all[0].ino, tmp);
        assert_eq!(all[1].ino, tmp, "the root of a file system is its own `..`");
        assert_eq!(all[6].d_type, DT_DIR);
        assert_eq!(all[2].d_type, super::super::DT_REG);
        // Two at a time, resuming from each last `next`.
        let mut got = Vec::new();
        let mut at = 0;
        loop {
            let part = v.readdir(tmp, at, 2).unwrap();
            let Some(last) = part.last() else { break };
            at = last.next;
            got.extend(part);
        }
        assert_eq!(got, all);
        // Changes between calls: a removed name still resumes after itself; a name added
        // after the position appears; one added before does not.
        let part = v.readdir(tmp, 0, 4).unwrap();
        assert_eq!(names(&part), [".", "..", "B", "a"]);
        v.unlink(tmp, b"a", 0).unwrap();
        v.create(
            tmp,
            b"A",
            CreateHow {
                mode: 0o600,
                exclusive: true,
                follow: true,
            },
            0,
        )
        .unwrap();
        v.create(
            tmp,
            b"bb",
            CreateHow {
                mode: 0o600,
                exclusive: true,
                follow: true,
            },
            0,
        )
        .unwrap();
        let rest = v.readdir(tmp, part[3].next, 100).unwrap();
        assert_eq!(names(&rest), ["bb", "b\u{fffd}", "c", "d"]);
        // Offsets past the end, zero entries, non-directories.
        assert_eq!(v.readdir(tmp, 1 << 40, 10), Ok(vec![]));
        assert_eq!(v.readdir(tmp, u64::MAX, 10), Ok(vec![]));
        assert_eq!(v.readdir(tmp, 0, 0), Ok(vec![]));
        assert_eq!(v.readdir(4, 0, 10), Err(Errno::ENOTDIR));
        let root = v.readdir(ROOT_INO, 0, 10).unwrap();
        assert_eq!(names(&root), [".", "..", "dev", "tmp"]);
        assert_eq!(
            root[3].ino, 7,
            "a mount point shows the covered directory's number"
        );
    }
}

/// Random sequences of operations: no panic, and the invariants hold after every step.
#[cfg(test)]
mod random {
    use super::super::testutil::config;
    use super::super::{CreateHow, Vfs, ROOT_INO};

    #[test]
    fn operations_keep_the_invariants() {
        let mut v = Vfs::new(config(12)).unwrap();
        let names = [
            "/tmp/a",
            "/tmp/b",
            "/tmp/a/c",
            "/tmp/b/d",
            "/tmp/a/c/e",
            "/tmp/l/x",
            "/tmp/l",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut held = Vec::new();
        for step in 0..20_000 {
            let r = next();
            let p = names[(r >> 8) as usize % names.len()].as_bytes();
            let q = names[(r >> 16) as usize % names.len()].as_bytes();
            let how = CreateHow {
                mode: 0o644,
                exclusive: r & 1 == 0,
                follow: true,
            };
            let _ = match r % 11 {
                0 => v.create(ROOT_INO, p, how, step).map(drop),
                1 => v.mkdir(ROOT_INO, p, 0o755, step).map(drop),
                2 => v.unlink(ROOT_INO, p, step),
                3 => v.rmdir(ROOT_INO, p, step),
                4 => v.rename((ROOT_INO, p), (ROOT_INO, q), (r >> 24) as u32 % 3, step),
                5 => v.symlink(q, ROOT_INO, p, step).map(drop),
                6 => v
                    .resolve(ROOT_INO, p, true)
                    .and_then(|i| v.page_block(i, (r >> 32) % 4, true).map(drop)),
                7 => v
                    .resolve(ROOT_INO, p, true)
                    .and_then(|i| v.set_size(i, (r >> 32) % 20_000, step)),
                8 => v.resolve(ROOT_INO, p, true).and_then(|i| {
                    held.push(i);
                    v.open(i)
                }),
                9 if !held.is_empty() => {
                    let i = held.swap_remove((r >> 32) as usize % held.len());
                    v.close(i)
                }
                _ => v.readdir(v.root(), r >> 40, 3).map(drop),
            };
            if let Err(e) = v.check_invariants() {
                panic!("step {step}: {e}");
            }
        }
        for i in held {
            v.close(i).unwrap();
        }
        v.check_invariants().unwrap();
    }
}
