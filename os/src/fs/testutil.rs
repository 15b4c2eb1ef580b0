//! Helpers for the file system's tests: a small configuration and a temporary host folder.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::VfsConfig;

/// Pages of 4096 bytes in blocks of 512, `pages` of them from block 100.
pub fn config(pages: u64) -> VfsConfig {
    VfsConfig {
        page_size: 4096,
        block_size: 512,
        first_block: 100,
        blocks: pages * 8,
    }
}

/// A folder under the system's temporary folder, unique to this process and call, removed
/// when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("vmlab-fs-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to `rel`, making its folders.
    pub fn file(&self, rel: &str, content: &[u8]) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn dir(&self, rel: &str) {
        std::fs::create_dir_all(self.0.join(rel)).unwrap();
    }

    pub fn link(&self, rel: &str, target: &str) {
        std::os::unix::fs::symlink(target, self.0.join(rel)).unwrap();
    }

    /// Every entry below the folder as `path kind [content]`, sorted: `d` a folder, `l` a
    /// link with its target, `f` a file with its content.
    pub fn listing(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.0, "", &mut out);
        out.sort();
        out
    }
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let t = std::fs::read_link(&path).unwrap();
            out.push(format!("{rel} l {}", t.display()));
        } else if meta.is_dir() {
            out.push(format!("{rel} d"));
            walk(&path, &rel, out);
        } else {
            let c = std::fs::read(&path).unwrap();
            out.push(format!("{rel} f {}", String::from_utf8_lossy(&c)));
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A read-only folder in a test must be made writable again to be removed.
        let _ = std::process::Command::new("chmod")
            .arg("-R")
            .arg("u+rwx")
            .arg(&self.0)
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

use super::{CreateHow, Errno, Ino, Kind, Vfs};

/// What a resolution should give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Dir,
    File,
    Link,
    Dev,
    /// This very inode.
    Ino(Ino),
}

/// One operation of a check table, applied to the table's path.
#[derive(Clone, Copy, Debug)]
pub enum Op<'a> {
    /// Resolves, following a last symbolic link.
    Is(Want),
    /// Resolves without following a last symbolic link.
    LIs(Want),
    /// `open(O_CREAT)` with mode 0644.
    Create,
    /// `open(O_CREAT | O_EXCL)`.
    CreateExcl,
    /// `open(O_CREAT | O_NOFOLLOW)`.
    CreateNoFollow,
    Mkdir,
    /// `mkdir` with these permission bits.
    MkdirMode(u32),
    Unlink,
    Rmdir,
    /// `symlink(target, path)`.
    Symlink(&'a str),
    /// `renameat2(path, to, flags)`.
    Rename(&'a str, u32),
    /// `faccessat(path, mode)`, following links.
    Access(u32),
    /// `readlink(path)` gives this.
    Readlink(&'a str),
    /// `getcwd` of the directory at the path gives this.
    Cwd(&'a str),
}

/// The error a check reports for a resolution that found the wrong thing.
pub const WRONG: Errno = Errno(0);

/// Applies each `(operation, path, expected)` of `table` in turn, from directory `cwd`.
pub fn check(vfs: &mut Vfs, cwd: Ino, table: &[(Op, &str, Result<(), Errno>)]) {
    for (step, &(op, path, want)) in table.iter().enumerate() {
        let got = apply(vfs, cwd, op, path.as_bytes());
        assert_eq!(got, want, "step {step}: {op:?} on {path:?}");
    }
}

fn is(vfs: &Vfs, ino: Ino, want: Want) -> Result<(), Errno> {
    let kind = vfs.kind(ino)?;
    let ok = match want {
        Want::Dir => kind == Kind::Dir,
        Want::File => kind == Kind::File,
        Want::Link => kind == Kind::Symlink,
        Want::Dev => matches!(kind, Kind::Device(_)),
        Want::Ino(i) => ino == i,
    };
    if ok {
        Ok(())
    } else {
        Err(WRONG)
    }
}

fn apply(vfs: &mut Vfs, cwd: Ino, op: Op, path: &[u8]) -> Result<(), Errno> {
    const T: u64 = 7;
    let how = |exclusive, follow| CreateHow {
        mode: 0o644,
        exclusive,
        follow,
    };
    match op {
        Op::Is(w) => is(vfs, vfs.resolve(cwd, path, true)?, w),
        Op::LIs(w) => is(vfs, vfs.resolve(cwd, path, false)?, w),
        Op::Create => vfs.create(cwd, path, how(false, true), T).map(drop),
        Op::CreateExcl => vfs.create(cwd, path, how(true, true), T).map(drop),
        Op::CreateNoFollow => vfs.create(cwd, path, how(false, false), T).map(drop),
        Op::Mkdir => vfs.mkdir(cwd, path, 0o755, T).map(drop),
        Op::MkdirMode(m) => vfs.mkdir(cwd, path, m, T).map(drop),
        Op::Unlink => vfs.unlink(cwd, path, T),
        Op::Rmdir => vfs.rmdir(cwd, path, T),
        Op::Symlink(target) => vfs.symlink(target.as_bytes(), cwd, path, T).map(drop),
        Op::Rename(to, flags) => vfs.rename((cwd, path), (cwd, to.as_bytes()), flags, T),
        Op::Access(mask) => vfs.access(vfs.resolve(cwd, path, true)?, mask),
        Op::Readlink(want) => {
            let ino = vfs.resolve(cwd, path, false)?;
            if vfs.readlink(ino)? == want.as_bytes() {
                Ok(())
            } else {
                Err(WRONG)
            }
        }
        Op::Cwd(want) => {
            let ino = vfs.resolve(cwd, path, true)?;
            if vfs.path_of(ino)? == want.as_bytes() {
                Ok(())
            } else {
                Err(WRONG)
            }
        }
    }
}

impl Vfs {
    /// Checks the structure's invariants; the first one broken, if any.
    pub fn check_invariants(&self) -> Result<(), String> {
        use super::Body;
        let mut names = std::collections::BTreeMap::<Ino, u32>::new();
        let mut blocks = std::collections::BTreeSet::new();
        for (ino, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let ino = ino as Ino;
            if node.nlink == 0 && node.opens == 0 {
                return Err(format!("inode {ino} has no name and no hold but exists"));
            }
            match &node.body {
                Body::Dir(d) => {
                    let mut subdirs = 0;
                    for (name, &child) in &d.entries {
                        let c = self
                            .node(child)
                            .map_err(|_| format!("{ino}/{name:?} names a freed inode"))?;
                        if c.fs != node.fs {
                            return Err(format!("{ino}/{name:?} is in another file system"));
                        }
                        *names.entry(child).or_default() += 1;
                        if let Body::Dir(cd) = &c.body {
                            subdirs += 1;
                            if cd.parent != ino || &cd.name != name {
                                return Err(format!("{child}'s parent or name is wrong"));
                            }
                        }
                        if d.cookies.get(name).and_then(|&c| d.names.get(c as usize)) != Some(name)
                        {
                            return Err(format!("{ino}/{name:?} has no cookie"));
                        }
                    }
                    if subdirs != d.subdirs {
                        return Err(format!("{ino} counts {} subdirectories", d.subdirs));
                    }
                }
                Body::File(f) => {
                    for &b in f.pages.values() {
                        let r = &self.region;
                        let page = (b - r.first_block) / r.blocks_per_page;
                        if page >= r.fresh || r.free.contains(&page) || !blocks.insert(b) {
                            return Err(format!("{ino}'s block {b} is not its own"));
                        }
                    }
                }
                _ => {}
            }
        }
        for (ino, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let ino = ino as Ino;
            let is_root = self.mounts.iter().any(|m| m.root == ino);
            let linked = names.get(&ino).copied().unwrap_or(0);
            let want = if node.nlink == 0 { 0 } else { 1 };
            if !is_root && linked != want {
                return Err(format!("{ino} has nlink {} and {linked} names", node.nlink));
            }
        }
        if blocks.len() as u64 + self.free_pages() != self.region.pages {
            return Err("pages are lost or counted twice".into());
        }
        for (&point, &root) in &self.covered {
            self.dir(point)
                .map_err(|e| format!("mount point {point}: {e}"))?;
            if !self
                .mounts
                .iter()
                .any(|m| m.root == root && m.on == Some(point))
            {
                return Err(format!("{point} is covered by {root}, not a mounted root"));
            }
        }
        Ok(())
    }
}
