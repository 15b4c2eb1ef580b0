//! Path resolution, as Linux's `namei` does it (`path_resolution(7)`).

use super::{Body, Errno, Ino, Vfs, MAXSYMLINKS, NAME_MAX, PATH_MAX, X_OK};

/// The last component of a path whose parent was resolved ([`Vfs::resolve_parent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Last<'a> {
    /// An ordinary name.
    Name(&'a [u8]),
    /// `.`.
    Dot,
    /// `..`.
    DotDot,
    /// The path was `/` (or only slashes): there is no last component.
    Root,
}

/// A resolved parent directory and the last component of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parent<'a> {
    /// The directory the last component is to be looked up in.
    pub dir: Ino,
    /// The last component.
    pub last: Last<'a>,
    /// Whether the path ended with a slash (the last component must be a directory).
    pub slash: bool,
}

/// The path up to its first NUL, checked for length: `ENOENT` if empty, `ENAMETOOLONG`
/// if it is `PATH_MAX` bytes or more.
pub(super) fn check_path(path: &[u8]) -> Result<&[u8], Errno> {
    let path = match path.iter().position(|&b| b == 0) {
        Some(end) => &path[..end],
        None => path,
    };
    if path.is_empty() {
        Err(Errno::ENOENT)
    } else if path.len() >= PATH_MAX {
        Err(Errno::ENAMETOOLONG)
    } else {
        Ok(path)
    }
}

/// Pushes the components of `path` onto `stack` so that they pop in order; a trailing
/// slash becomes a final `.`, which requires a directory.
fn push_components<'a>(stack: &mut Vec<&'a [u8]>, path: &'a [u8]) {
    if path.last() == Some(&b'/') {
        stack.push(b".");
    }
    stack.extend(path.split(|&b| b == b'/').filter(|c| !c.is_empty()).rev());
}

impl Vfs {
    /// Resolves `path` to an inode: from the root if it begins with `/`, else from the
    /// directory `cwd`.
    ///
    /// As Linux: repeated slashes count as one; `.` is the directory itself; `..` its
    /// parent, the root's being the root, and at the root of a mount the parent of the
    /// directory it is mounted on; a directory with a file system mounted on it stands for
    /// that file system's root; symbolic links are followed (at most [`MAXSYMLINKS`] in one
    /// resolution, then `ELOOP`; an absolute target restarts at the root), the last
    /// component's only when `follow` is true or the path ends with a slash; a trailing
    /// slash requires a directory. Errors: `ENOENT` (an empty path, a missing component, a
    /// dangling link, an empty link target, a name in a removed directory), `ENOTDIR` (a
    /// non-directory before a later component or a trailing slash), `EACCES` (a directory
    /// without search permission), `ENAMETOOLONG` (a component over [`NAME_MAX`] bytes, a
    /// path of [`PATH_MAX`] bytes or more), `ELOOP`. A NUL byte ends the path, as in a C
    /// string.
    pub fn resolve(&self, cwd: Ino, path: &[u8], follow: bool) -> Result<Ino, Errno> {
        let path = check_path(path)?;
        let start = self.start(cwd, path)?;
        let mut stack = Vec::new();
        push_components(&mut stack, path);
        let mut links = 0;
        self.walk(start, &mut stack, follow, &mut links)
    }

    /// Resolves all but the last component of `path` (following every symbolic link on the
    /// way), for operations that create, remove or rename a name. The parent must be a
    /// directory (`ENOTDIR`); the last component is not looked up, nor its length checked
    /// (an operation does both when it looks the name up, as Linux does, so that
    /// `EROFS` or `EACCES` come first). Errors as [`Vfs::resolve`].
    pub fn resolve_parent<'a>(&self, cwd: Ino, path: &'a [u8]) -> Result<Parent<'a>, Errno> {
        let path = check_path(path)?;
        let start = self.start(cwd, path)?;
        let slash = path.last() == Some(&b'/');
        let trimmed = match path.iter().rposition(|&b| b != b'/') {
            Some(end) => &path[..=end],
            None => {
                return Ok(Parent {
                    dir: start,
                    last: Last::Root,
                    slash,
                })
            }
        };
        let (dir_part, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(cut) => (&trimmed[..cut], &trimmed[cut + 1..]),
            None => (&trimmed[..0], trimmed),
        };
        let mut stack = Vec::new();
        push_components(&mut stack, dir_part);
        let mut links = 0;
        let dir = self.walk(start, &mut stack, true, &mut links)?;
        self.dir(dir)?;
        let last = match name {
            b"." => Last::Dot,
            b".." => Last::DotDot,
            n => Last::Name(n),
        };
        Ok(Parent { dir, last, slash })
    }

    /// Where resolution of `path` starts: the root for an absolute path, else `cwd`, which
    /// must be a directory.
    fn start(&self, cwd: Ino, path: &[u8]) -> Result<Ino, Errno> {
        if path.first() == Some(&b'/') {
            Ok(self.root())
        } else {
            self.dir(cwd)?;
            Ok(cwd)
        }
    }

    /// Walks the components on `stack` (popped in order) from `cur`.
    fn walk<'a>(
        &'a self,
        mut cur: Ino,
        stack: &mut Vec<&'a [u8]>,
        follow_last: bool,
        links: &mut u32,
    ) -> Result<Ino, Errno> {
        while let Some(comp) = stack.pop() {
            let dir = self.dir(cur)?;
            self.access(cur, X_OK)?;
            match comp {
                b"." => continue,
                b".." => {
                    cur = self.dotdot(cur)?;
                    continue;
                }
                _ => {}
            }
            if comp.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            let child = *dir.entries.get(comp).ok_or(Errno::ENOENT)?;
            let child = self.top(child);
            if let Body::Symlink(target) = &self.node(child)?.body {
                if !stack.is_empty() || follow_last {
                    *links += 1;
                    if *links > MAXSYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    if target.is_empty() {
                        return Err(Errno::ENOENT);
                    }
                    if target[0] == b'/' {
                        cur = self.root();
                    }
                    push_components(stack, target);
                    continue;
                }
            }
            cur = child;
        }
        Ok(cur)
    }

    /// The parent of directory `cur` as `..` sees it.
    pub(super) fn dotdot(&self, cur: Ino) -> Result<Ino, Errno> {
        let root = self.root();
        let mut c = cur;
        for _ in 0..=self.mounts.len() {
            if c == root {
                return Ok(root);
            }
            match self.mounted_on(c) {
                Some(on) => c = on,
                None => break,
            }
        }
        let parent = self.dir(c)?.parent;
        self.node(parent)?;
        Ok(self.top(parent))
    }

    /// A path of any inode for messages: a directory's [`Vfs::path_of`]; for anything
    /// else, the first name found for it in a directory with a path (`None` if it has no
    /// name left, as an unlinked file held open). Scans every directory: for reports only.
    pub fn some_path(&self, ino: Ino) -> Option<Vec<u8>> {
        if self.dir(ino).is_ok() {
            return self.path_of(ino).ok();
        }
        for (d, n) in self.nodes.iter().enumerate() {
            let Some(Body::Dir(dir)) = n.as_ref().map(|n| &n.body) else {
                continue;
            };
            if let Some((name, _)) = dir.entries.iter().find(|(_, &i)| i == ino) {
                let mut path = self.path_of(d as Ino).ok()?;
                if path != b"/" {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                return Some(path);
            }
        }
        None
    }

    /// The path of directory `ino` from the root, for `getcwd`: `ENOENT` if it (or a
    /// directory above it) has been removed or the root cannot be reached from it (it is in
    /// the file system a mount on `/` shadows), `ENOTDIR` if it is not a directory. As
    /// Linux's, the path of a directory that a later mount covers is still its path.
    pub fn path_of(&self, ino: Ino) -> Result<Vec<u8>, Errno> {
        self.dir(ino)?;
        let root = self.root();
        let mut names: Vec<&[u8]> = Vec::new();
        let mut c = ino;
        // Each step goes up a directory or down a mount stack: bounded by the inodes.
        for _ in 0..self.nodes.len() + self.mounts.len() + 1 {
            if c == root {
                let mut path = Vec::new();
                for name in names.iter().rev() {
                    path.push(b'/');
                    path.extend_from_slice(name);
                }
                if path.is_empty() {
                    path.push(b'/');
                }
                return Ok(path);
            }
            if self.dead(c) {
                return Err(Errno::ENOENT);
            }
            if let Some(on) = self.mounted_on(c) {
                c = on;
                continue;
            }
            let d = self.dir(c)?;
            if d.parent == c {
                // The root of a file system that is not mounted, or the shadowed root.
                return Err(Errno::ENOENT);
            }
            // As Linux's `d_path`, a directory under a covered one still has its path.
            if self.dir(d.parent)?.entries.get(&d.name) != Some(&c) {
                return Err(Errno::ENOENT);
            }
            names.push(&d.name);
            c = d.parent;
        }
        Err(Errno::ENOENT)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, config, Op::*, Want};
    use super::super::{Errno, Vfs, ROOT_INO, X_OK};
    use super::*;

    const E: fn(Errno) -> Result<(), Errno> = Err;
    const OK: Result<(), Errno> = Ok(());

    fn vfs() -> Vfs {
        Vfs::new(config(16)).unwrap()
    }

    #[test]
    fn plain_paths() {
        let mut v = vfs();
        let long = "n".repeat(256);
        let max = "n".repeat(255);
        let path_4095 = format!("/{}", "./".repeat(2047));
        let path_4096 = format!("{path_4095}.");
        check(
            &mut v,
            ROOT_INO,
            &[
                (Is(Want::Ino(1)), "/", OK),
                (Is(Want::Ino(1)), "///", OK),
                (Is(Want::Ino(1)), "/..", OK),
                (Is(Want::Ino(1)), "/../../.", OK),
                (Is(Want::Ino(3)), "/dev", OK),
                (Is(Want::Ino(3)), "dev", OK),
                (Is(Want::Ino(4)), "/dev/null", OK),
                (Is(Want::Ino(4)), "//dev///null", OK),
                (Is(Want::Ino(4)), "/dev/./null", OK),
                (Is(Want::Ino(4)), "/dev/../dev/null", OK),
                (Is(Want::Ino(4)), "/tmp/../dev/null", OK),
                (Is(Want::Ino(4)), "/dev/null\0/junk", OK),
                (Is(Want::Dev), "/dev/zero", OK),
                (Is(Want::Dir), "/tmp/", OK),
                (Is(Want::Dir), "/tmp/.", OK),
                (Is(Want::Dir), "", E(Errno::ENOENT)),
                (Is(Want::Dir), "\0/tmp", E(Errno::ENOENT)),
                (Is(Want::Dir), "/nowhere", E(Errno::ENOENT)),
                (Is(Want::Dir), "/nowhere/x", E(Errno::ENOENT)),
                (Is(Want::Dir), "/dev/null/", E(Errno::ENOTDIR)),
                (Is(Want::Dir), "/dev/null/.", E(Errno::ENOTDIR)),
                (Is(Want::Dir), "/dev/null/..", E(Errno::ENOTDIR)),
                (Is(Want::Dir), "/dev/null/x", E(Errno::ENOTDIR)),
                (Is(Want::Dir), &format!("/{long}"), E(Errno::ENAMETOOLONG)),
                (Is(Want::Dir), &format!("/{max}"), E(Errno::ENOENT)),
                (Is(Want::Dir), &format!("/{long}/x"), E(Errno::ENAMETOOLONG)),
                (Is(Want::Ino(1)), &path_4095, OK),
                (Is(Want::Ino(1)), &path_4096, E(Errno::ENAMETOOLONG)),
                (Cwd("/"), "/", OK),
                (Cwd("/dev"), "/dev/", OK),
                (Cwd("/tmp"), "/dev/../tmp", OK),
                (Cwd("/"), "/dev/null", E(Errno::ENOTDIR)),
            ],
        );
    }

    #[test]
    fn relative_to_a_cwd() {
        let v = vfs();
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        assert_eq!(v.resolve(tmp, b"..", true), Ok(ROOT_INO));
        assert_eq!(v.resolve(tmp, b"../dev/null", true), Ok(4));
        assert_eq!(v.resolve(tmp, b"/dev", true), Ok(3));
        // The cwd must be a live directory; an absolute path does not use it.
        assert_eq!(v.resolve(4, b"x", true), Err(Errno::ENOTDIR));
        assert_eq!(v.resolve(999, b"x", true), Err(Errno::ENOENT));
        assert_eq!(v.resolve(999, b"/dev", true), Ok(3));
    }

    #[test]
    fn symbolic_links() {
        let mut v = vfs();
        let mut table = vec![
            (Mkdir, "/tmp/a", OK),
            (Create, "/tmp/a/f", OK),
            (Symlink("a"), "/tmp/rel", OK),
            (Symlink("/dev"), "/tmp/abs", OK),
            (Symlink("a/f"), "/tmp/tofile", OK),
            (Symlink("nowhere"), "/tmp/dangling", OK),
            (Symlink("me"), "/tmp/me", OK),
            (Symlink("../tmp/a/"), "/tmp/slash", OK),
            (Symlink("f/"), "/tmp/a/fslash", OK),
            (Symlink(""), "/tmp/empty", E(Errno::ENOENT)),
            (Is(Want::File), "/tmp/rel/f", OK),
            (Is(Want::Dir), "/tmp/rel", OK),
            (LIs(Want::Link), "/tmp/rel", OK),
            (LIs(Want::Dir), "/tmp/rel/", OK),
            (LIs(Want::Dir), "/tmp/rel/.", OK),
            (Is(Want::Ino(4)), "/tmp/abs/null", OK),
            (Is(Want::Ino(1)), "/tmp/abs/..", OK),
            (Is(Want::File), "/tmp/tofile", OK),
            (Is(Want::File), "/tmp/tofile/", E(Errno::ENOTDIR)),
            (Is(Want::File), "/tmp/a/fslash", E(Errno::ENOTDIR)),
            (LIs(Want::Link), "/tmp/a/fslash", OK),
            (Is(Want::Dir), "/tmp/slash", OK),
            (Is(Want::File), "/tmp/slash/f", OK),
            (Is(Want::File), "/tmp/dangling", E(Errno::ENOENT)),
            (LIs(Want::Link), "/tmp/dangling", OK),
            (Is(Want::Link), "/tmp/me", E(Errno::ELOOP)),
            (LIs(Want::Link), "/tmp/me", OK),
            (Is(Want::Link), "/tmp/me/x", E(Errno::ELOOP)),
            (Readlink("a"), "/tmp/rel", OK),
            (Readlink("nowhere"), "/tmp/dangling", OK),
            (Readlink(""), "/tmp/a", E(Errno::EINVAL)),
        ];
        // A chain of 40 links resolves; 41 is too many.
        let names: Vec<String> = (0..=41).map(|i| format!("/tmp/c{i}")).collect();
        for i in 1..=41 {
            table.push((Symlink(&names[i - 1]), &names[i], OK));
        }
        table.push((Create, "/tmp/c0", OK));
        table.push((Is(Want::File), &names[40], OK));
        table.push((Is(Want::File), &names[41], E(Errno::ELOOP)));
        check(&mut v, ROOT_INO, &table);
    }

    #[test]
    fn search_permission() {
        let mut v = vfs();
        check(
            &mut v,
            ROOT_INO,
            &[
                (MkdirMode(0o600), "/tmp/rw", OK),
                (MkdirMode(0o100), "/tmp/x", OK),
                (Access(X_OK), "/tmp/rw", E(Errno::EACCES)),
                (Is(Want::Dir), "/tmp/rw", OK),
                (Is(Want::Dir), "/tmp/rw/.", E(Errno::EACCES)),
                (Is(Want::Dir), "/tmp/rw/anything", E(Errno::EACCES)),
                (Is(Want::Dir), "/tmp/x/.", OK),
                (Mkdir, "/tmp/x/sub", E(Errno::EACCES)),
                (Is(Want::Dir), "/tmp/x/nothing", E(Errno::ENOENT)),
            ],
        );
    }

    #[test]
    fn resolve_parent_splits_the_last_component() {
        let v = vfs();
        let p = |path: &'static [u8]| v.resolve_parent(ROOT_INO, path);
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        let parent = |dir, last, slash| Ok(Parent { dir, last, slash });
        assert_eq!(p(b"/tmp/x"), parent(tmp, Last::Name(b"x"), false));
        assert_eq!(p(b"/tmp/x//"), parent(tmp, Last::Name(b"x"), true));
        assert_eq!(p(b"tmp"), parent(ROOT_INO, Last::Name(b"tmp"), false));
        assert_eq!(p(b"/tmp/."), parent(tmp, Last::Dot, false));
        assert_eq!(p(b"/tmp/.."), parent(tmp, Last::DotDot, false));
        assert_eq!(p(b"//"), parent(ROOT_INO, Last::Root, true));
        assert_eq!(p(b"/dev/null/x"), Err(Errno::ENOTDIR));
        assert_eq!(p(b"/nowhere/x"), Err(Errno::ENOENT));
        assert_eq!(p(b""), Err(Errno::ENOENT));
        let long = format!("/tmp/{}", "y".repeat(256));
        let parent = v.resolve_parent(ROOT_INO, long.as_bytes()).unwrap();
        assert_eq!(parent.last, Last::Name(&long.as_bytes()[5..]));
    }

    /// Arbitrary bytes never panic, and give an inode or an errno.
    #[test]
    fn arbitrary_paths_do_not_panic() {
        let mut v = vfs();
        v.mkdir(ROOT_INO, b"/tmp/d", 0o755, 0).unwrap();
        v.symlink(b"../d/../d", ROOT_INO, b"/tmp/d/l", 0).unwrap();
        let alphabet: &[&[u8]] = &[
            b"/", b".", b"..", b"tmp", b"d", b"l", b"dev", b"\0", b"\xff",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut path = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut s = seed;
            for _ in 0..(s % 9) {
                path.extend_from_slice(alphabet[(s % alphabet.len() as u64) as usize]);
                s /= alphabet.len() as u64;
            }
            let _ = v.resolve(ROOT_INO, &path, seed & 1 == 0);
            let _ = v.resolve_parent(5, &path);
        }
    }
}
