//! Host folders: mounting one (its metadata scanned eagerly, its files read lazily) and
//! writing a writable mount's final state back at the end of the run.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{ErrorKind, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{
    Body, Dir, Errno, File, FsKind, Ino, Kind, ReadPage, Vfs, DEV_DEV, FIRST_HOST_DEV,
    FIXED_TIME_NS, NAME_MAX, PATH_MAX, TMP_DEV,
};

/// One entry of a host folder as scanned.
enum Scanned {
    Dir {
        perm: u32,
        entries: Vec<(Vec<u8>, Scanned)>,
    },
    File {
        perm: u32,
        size: u64,
        path: PathBuf,
    },
    Symlink(Vec<u8>),
}

/// Scans the folder `path`: its entries in byte order of their names, recursively.
/// Symbolic links are kept as links, not followed. Sockets, FIFOs and device files are
/// skipped with a note; anything that cannot be read is an error.
fn scan_dir(path: &Path, notes: &mut Vec<String>) -> Result<Vec<(Vec<u8>, Scanned)>, String> {
    let read = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read host folder {}: {e}", path.display()))?;
    let mut names = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| format!("cannot read host folder {}: {e}", path.display()))?;
        names.push(entry.file_name());
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let child = path.join(&name);
        let meta = std::fs::symlink_metadata(&child)
            .map_err(|e| format!("cannot read host entry {}: {e}", child.display()))?;
        let perm = meta.permissions().mode() & 0o7777;
        let ft = meta.file_type();
        let scanned = if ft.is_symlink() {
            let target = std::fs::read_link(&child)
                .map_err(|e| format!("cannot read host link {}: {e}", child.display()))?;
            Scanned::Symlink(target.as_os_str().as_bytes().to_vec())
        } else if ft.is_dir() {
            Scanned::Dir {
                perm,
                entries: scan_dir(&child, notes)?,
            }
        } else if ft.is_file() {
            Scanned::File {
                perm,
                size: meta.len(),
                path: child,
            }
        } else {
            notes.push(format!(
                "skipped {}: not a file, folder or symbolic link",
                child.display()
            ));
            continue;
        };
        out.push((name.as_bytes().to_vec(), scanned));
    }
    Ok(out)
}

/// The components of a mount's guest path, which must be absolute and plain (no `.` or
/// `..`, no component over [`NAME_MAX`] bytes).
fn guest_components(guest: &str) -> Result<Vec<&[u8]>, String> {
    if !guest.starts_with('/') {
        return Err(format!(
            "the guest path {guest:?} of a mount is not absolute"
        ));
    }
    if guest.len() >= PATH_MAX || guest.contains('\0') {
        return Err(format!(
            "the guest path {guest:?} of a mount is not a valid path"
        ));
    }
    let comps: Vec<&[u8]> = guest
        .as_bytes()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for c in &comps {
        if *c == b"." || *c == b".." {
            return Err(format!(
                "the guest path {guest:?} of a mount has a \".\" or \"..\" component"
            ));
        }
        if c.len() > NAME_MAX {
            return Err(format!(
                "the guest path {guest:?} of a mount has a name over 255 bytes"
            ));
        }
    }
    Ok(comps)
}

/// `rel` (a path relative to a mount's folder, `/`-separated) under `dir`, built from
/// plain names only, so that it cannot leave `dir`.
fn host_path(dir: &Path, rel: &[u8]) -> Result<PathBuf, String> {
    let mut path = dir.to_path_buf();
    for comp in rel.split(|&b| b == b'/') {
        if comp.is_empty() || comp == b"." || comp == b".." || comp.contains(&0) {
            return Err(format!(
                "refusing the path {:?} under {}",
                String::from_utf8_lossy(rel),
                dir.display()
            ));
        }
        path.push(OsStr::from_bytes(comp));
    }
    Ok(path)
}

/// `rel` below the guest path `guest`, for messages.
fn guest_path(guest: &str, rel: &[u8]) -> String {
    let rel = String::from_utf8_lossy(rel);
    if guest.ends_with('/') {
        format!("{guest}{rel}")
    } else {
        format!("{guest}/{rel}")
    }
}

fn join(rel: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = rel.to_vec();
    if !out.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

impl Vfs {
    /// Mounts the host folder `host_dir` at the absolute guest path `guest_path`,
    /// read-only unless `writable`. Its tree's metadata (names, kinds, sizes, permission
    /// bits, symbolic-link targets) is read now, in byte order of names (which fixes the
    /// inode numbers); file content is read when first needed ([`Vfs::materialize`]).
    /// Host symbolic links stay symbolic links in the guest (a link out of the folder
    /// resolves in the guest's namespace, never on the host).
    ///
    /// Missing directories on the guest path are made as synthetic read-only directories;
    /// symbolic links on it are followed. A mount on a directory that already shows a
    /// mount shadows it. A mount on `/` moves `/dev` and `/tmp` onto the new tree (onto its
    /// own `dev` and `tmp` directories if it has them), as a system mounts them after its
    /// root; one that an earlier host mount hides stays hidden. Other earlier mounts are
    /// hidden by a mount on `/`, as on Linux: mount `/` first.
    ///
    /// Errors (the namespace is then unchanged): a missing host folder, a host path that is
    /// not a folder, an entry that cannot be read (sockets, FIFOs and devices are skipped
    /// with a note in [`Vfs::notes`] instead), a guest path that is not absolute or passes
    /// through a file.
    pub fn mount(
        &mut self,
        host_dir: &Path,
        guest_path: &str,
        writable: bool,
    ) -> Result<(), String> {
        let comps = guest_components(guest_path)?;
        let meta = std::fs::metadata(host_dir).map_err(|e| match e.kind() {
            ErrorKind::NotFound => format!("the host folder {} does not exist", host_dir.display()),
            _ => format!("cannot read the host folder {}: {e}", host_dir.display()),
        })?;
        if !meta.is_dir() {
            return Err(format!(
                "the host path {} is not a folder",
                host_dir.display()
            ));
        }
        let dir = std::fs::canonicalize(host_dir)
            .map_err(|e| format!("cannot read the host folder {}: {e}", host_dir.display()))?;
        let mut notes = Vec::new();
        let entries = scan_dir(&dir, &mut notes)?;
        let point = self.mount_point(&comps, guest_path)?;
        let fs = self.mounts.len();
        // Host mounts are numbered in their own sequence, whatever special file systems
        // there are.
        let hosts = self
            .mounts
            .iter()
            .filter(|m| matches!(m.kind, FsKind::Host { .. }))
            .count();
        let dev = FIRST_HOST_DEV + hosts as u64;
        let kind = FsKind::Host {
            dir: dir.clone(),
            original: BTreeMap::new(),
        };
        let root = self.new_root(kind, dev, guest_path, !writable, meta.permissions().mode());
        if let Ok(n) = self.node_mut(root) {
            n.origin = Some(Vec::new());
        }
        let mut original = BTreeMap::new();
        self.populate(fs, root, &[], entries, &mut original);
        if let FsKind::Host { original: o, .. } = &mut self.mounts[fs].kind {
            if writable {
                *o = original;
            }
        }
        self.mounts[fs].on = Some(point);
        self.covered.insert(point, root);
        if comps.is_empty() {
            self.move_special_mounts();
        }
        self.notes.extend(notes);
        Ok(())
    }

    /// The directory to mount on at `comps`, making missing ones as synthetic directories.
    fn mount_point(&mut self, comps: &[&[u8]], guest: &str) -> Result<Ino, String> {
        let mut cur = self.root();
        for (i, comp) in comps.iter().enumerate() {
            let shown = || String::from_utf8_lossy(&comps[..=i].join(&b'/')).into_owned();
            match self.resolve(cur, comp, true) {
                Ok(ino) if self.dir(ino).is_ok() => cur = ino,
                Ok(_) => {
                    return Err(format!(
                        "cannot mount on {guest}: /{} is not a directory",
                        shown()
                    ))
                }
                Err(Errno::ENOENT)
                    if !self.dir(cur).is_ok_and(|d| d.entries.contains_key(*comp)) =>
                {
                    let body = Body::Dir(Dir {
                        parent: cur,
                        ..Dir::default()
                    });
                    let made = self.new_child(cur, comp, 0o755, body, FIXED_TIME_NS);
                    if let Ok(n) = self.node_mut(made) {
                        n.synthetic = true;
                    }
                    cur = made;
                }
                Err(e) => return Err(format!("cannot mount on {guest}: /{}: {e}", shown())),
            }
        }
        Ok(cur)
    }

    /// Adds the scanned `entries` under directory `dir` (at `rel` in file system `fs`).
    fn populate(
        &mut self,
        fs: usize,
        dir: Ino,
        rel: &[u8],
        entries: Vec<(Vec<u8>, Scanned)>,
        original: &mut BTreeMap<Vec<u8>, Kind>,
    ) {
        for (name, scanned) in entries {
            let child_rel = join(rel, &name);
            let (ino, sub) = match scanned {
                Scanned::Dir { perm, entries } => {
                    let body = Body::Dir(Dir {
                        parent: dir,
                        ..Dir::default()
                    });
                    (self.add_node(fs, perm, body, FIXED_TIME_NS), Some(entries))
                }
                Scanned::File { perm, size, path } => {
                    let body = Body::File(File {
                        size,
                        host: Some(path),
                        ..File::default()
                    });
                    (self.add_node(fs, perm, body, FIXED_TIME_NS), None)
                }
                Scanned::Symlink(target) => (
                    self.add_node(fs, 0o777, Body::Symlink(target), FIXED_TIME_NS),
                    None,
                ),
            };
            if let Ok(n) = self.node_mut(ino) {
                n.origin = Some(child_rel.clone());
            }
            if let Ok(kind) = self.kind(ino) {
                original.insert(child_rel.clone(), kind);
            }
            self.attach(dir, &name, ino);
            if let Some(entries) = sub {
                self.populate(fs, ino, &child_rel, entries, original);
            }
        }
    }

    /// After a mount on `/`: puts `/dev` and `/tmp` back on top of the new tree (unless a
    /// host folder was mounted over one of them).
    fn move_special_mounts(&mut self) {
        for (dev, name) in [(DEV_DEV, "dev"), (TMP_DEV, "tmp")] {
            let Some(fs) = self.mounts.iter().position(|m| m.dev == dev) else {
                continue;
            };
            let root = self.mounts[fs].root;
            let old = self.mounts[fs].on;
            // One that a mount of the user's already hides stays hidden.
            if old.is_some_and(|o| self.top(o) != root) {
                continue;
            }
            if let Some(old) = old {
                self.covered.remove(&old);
            }
            match self.mount_point(&[name.as_bytes()], &format!("/{name}")) {
                Ok(point) => {
                    self.mounts[fs].on = Some(point);
                    self.covered.insert(point, root);
                }
                Err(e) => {
                    if let Some(old) = old {
                        self.covered.insert(old, root);
                    }
                    self.notes
                        .push(format!("/{name} is hidden by the mount on /: {e}"));
                }
            }
        }
    }

    /// Writes the final state of every writable host mount back to its host folder, at the
    /// end of the run: removed and renamed entries are deleted from the host (a rename is a
    /// delete and a create), new directories and symbolic links are made, and new or
    /// changed files are written with their permission bits, their content read from the
    /// disk through `read_page(first block, one page of bytes)` (holes are zeros). A file
    /// whose content never changed is not touched; read-only mounts, `/tmp` and synthetic
    /// directories are never written, and every host path is built from names checked to
    /// stay inside the mount's folder. The lines returned say what changed, for the report.
    ///
    /// It stops at the first host error with a message (what was done before it stays
    /// done); a folder the guest removed must be empty on the host too (a skipped socket
    /// in it is an error). After success the namespace records the host as matching, so a
    /// second call writes nothing.
    pub fn sync_to_host(&mut self, read_page: &mut ReadPage<'_>) -> Result<Vec<String>, String> {
        let mut report = Vec::new();
        for fs in 0..self.mounts.len() {
            let m = &self.mounts[fs];
            if m.read_only {
                continue;
            }
            if let FsKind::Host { dir, original } = &m.kind {
                let (dir, original, guest) = (dir.clone(), original.clone(), m.guest.clone());
                self.sync_mount(fs, &dir, &guest, &original, read_page, &mut report)?;
            }
        }
        Ok(report)
    }

    fn sync_mount(
        &mut self,
        fs: usize,
        dir: &Path,
        guest: &str,
        original: &BTreeMap<Vec<u8>, Kind>,
        read_page: &mut ReadPage<'_>,
        report: &mut Vec<String>,
    ) -> Result<(), String> {
        let fail = |what: &str, path: &Path, e: std::io::Error| {
            format!("cannot {what} {} on the host: {e}", path.display())
        };
        // The final tree, by path relative to the folder.
        let mut fin: BTreeMap<Vec<u8>, Ino> = BTreeMap::new();
        let mut stack = vec![(self.mounts[fs].root, Vec::new())];
        while let Some((d, rel)) = stack.pop() {
            let Ok(dir_node) = self.dir(d) else { continue };
            for (name, &child) in &dir_node.entries {
                let Ok(n) = self.node(child) else { continue };
                if n.synthetic || n.fs != fs {
                    continue;
                }
                let child_rel = join(&rel, name);
                if matches!(n.body, Body::Dir(_)) {
                    stack.push((child, child_rel.clone()));
                }
                fin.insert(child_rel, child);
            }
        }
        let unchanged = |vfs: &Vfs, rel: &[u8], ino: Ino| match vfs.node(ino) {
            // A file whose content is still the host's has not changed, even if touched.
            Ok(n) if n.origin.as_deref() == Some(rel) => {
                !matches!(&n.body, Body::File(f) if f.dirty && f.host.is_none())
            }
            _ => false,
        };
        // The content of moved files never read from the host, before anything is deleted.
        let mut moved: BTreeMap<Ino, Vec<u8>> = BTreeMap::new();
        for (rel, &ino) in &fin {
            if let Ok(HostFile {
                origin,
                host: Some(p),
            }) = self.host_file(ino)
            {
                if origin.as_deref() != Some(rel.as_slice()) {
                    let bytes = std::fs::read(&p).map_err(|e| fail("read", &p, e))?;
                    let size = self.size(ino).unwrap_or(0);
                    if bytes.len() as u64 != size {
                        return Err(format!(
                            "host file {} changed size since it was mounted ({size} bytes then, {} now)",
                            p.display(),
                            bytes.len()
                        ));
                    }
                    moved.insert(ino, bytes);
                }
            }
        }
        // Deletions, deepest first.
        let mut verified: BTreeSet<Vec<u8>> = BTreeSet::new();
        for rel in original.keys().rev() {
            let kept = fin.get(rel).is_some_and(|&ino| {
                self.node(ino)
                    .is_ok_and(|n| n.origin.as_deref() == Some(rel.as_slice()))
            });
            if kept {
                continue;
            }
            let path = host_path(dir, rel)?;
            self.check_parents(dir, rel, &mut verified)?;
            match std::fs::symlink_metadata(&path) {
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(fail("inspect", &path, e)),
                Ok(m) if m.is_dir() => {
                    std::fs::remove_dir(&path).map_err(|e| fail("remove the folder", &path, e))?
                }
                Ok(_) => std::fs::remove_file(&path).map_err(|e| fail("remove", &path, e))?,
            }
            report.push(format!("removed {}", guest_path(guest, rel)));
        }
        // Creations, parents first; directories get their permission bits last.
        verified.clear();
        let mut dir_modes = Vec::new();
        for (rel, &ino) in &fin {
            if unchanged(self, rel, ino) {
                continue;
            }
            let path = host_path(dir, rel)?;
            self.check_parents(dir, rel, &mut verified)?;
            let n = self.node(ino).map_err(|e| format!("inode {ino}: {e}"))?;
            let perm = n.perm;
            match &n.body {
                Body::Dir(_) => {
                    std::fs::create_dir(&path).map_err(|e| fail("make the folder", &path, e))?;
                    dir_modes.push((path, perm));
                    report.push(format!("made folder {}", guest_path(guest, rel)));
                }
                Body::Symlink(target) => {
                    std::os::unix::fs::symlink(OsStr::from_bytes(target), &path)
                        .map_err(|e| fail("make the link", &path, e))?;
                    report.push(format!(
                        "made link {} -> {}",
                        guest_path(guest, rel),
                        String::from_utf8_lossy(target)
                    ));
                }
                Body::File(f) => {
                    let size = f.size;
                    if std::fs::symlink_metadata(&path).is_ok() {
                        std::fs::remove_file(&path).map_err(|e| fail("replace", &path, e))?;
                    }
                    let mut out = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .map_err(|e| fail("create", &path, e))?;
                    if let Some(bytes) = moved.get(&ino) {
                        out.write_all(bytes).map_err(|e| fail("write", &path, e))?;
                    } else {
                        self.write_content(f, &mut out, read_page)
                            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    }
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm))
                        .map_err(|e| fail("set the mode of", &path, e))?;
                    report.push(format!("wrote {} ({size} bytes)", guest_path(guest, rel)));
                }
                Body::Device(_) => {}
            }
        }
        for (path, perm) in dir_modes.into_iter().rev() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm))
                .map_err(|e| fail("set the mode of", &path, e))?;
        }
        // The host now matches.
        let mut now_original = BTreeMap::new();
        for (rel, &ino) in &fin {
            let host = host_path(dir, rel)?;
            if let Ok(n) = self.node_mut(ino) {
                n.origin = Some(rel.clone());
                if let Body::File(f) = &mut n.body {
                    f.dirty = false;
                    if f.host.is_some() {
                        f.host = Some(host);
                    }
                }
            }
            if let Ok(kind) = self.kind(ino) {
                now_original.insert(rel.clone(), kind);
            }
        }
        if let FsKind::Host { original, .. } = &mut self.mounts[fs].kind {
            *original = now_original;
        }
        Ok(())
    }

    /// For a regular file whose content is still on the host: its origin and host path.
    fn host_file(&self, ino: Ino) -> Result<HostFile, Errno> {
        let n = self.node(ino)?;
        match &n.body {
            Body::File(f) => Ok(HostFile {
                origin: n.origin.clone(),
                host: f.host.clone(),
            }),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Checks that every folder above `rel` under `dir` is a real folder on the host (not
    /// a symbolic link that would lead out of it).
    fn check_parents(
        &self,
        dir: &Path,
        rel: &[u8],
        verified: &mut BTreeSet<Vec<u8>>,
    ) -> Result<(), String> {
        let mut end = 0;
        while let Some(slash) = rel[end..].iter().position(|&b| b == b'/') {
            end += slash;
            let parent = &rel[..end];
            if !verified.contains(parent) {
                let path = host_path(dir, parent)?;
                let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                if !is_dir {
                    return Err(format!("{} is not a folder on the host", path.display()));
                }
                verified.insert(parent.to_vec());
            }
            end += 1;
        }
        Ok(())
    }

    /// Writes file `f`'s content to `out`: its size, with the pages that have blocks
    /// (holes stay holes where the host's file system allows).
    fn write_content(
        &self,
        f: &File,
        out: &mut std::fs::File,
        read_page: &mut ReadPage<'_>,
    ) -> Result<(), String> {
        use std::os::unix::fs::FileExt;
        let page = self.page_size;
        out.set_len(f.size).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; page as usize];
        for (&index, &block) in &f.pages {
            let at = index.saturating_mul(page);
            if at >= f.size {
                break;
            }
            buf.fill(0);
            read_page(block, &mut buf)?;
            let n = (f.size - at).min(page) as usize;
            out.write_all_at(&buf[..n], at).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// What sync needs of a file whose content may still be on the host.
struct HostFile {
    origin: Option<Vec<u8>>,
    host: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, config, Op::*, TempDir, Want};
    use super::super::{
        CreateHow, Device, Vfs, RENAME_EXCHANGE, ROOT_DEV, ROOT_INO, S_IFREG, W_OK, X_OK,
    };
    use super::*;

    const E: fn(Errno) -> Result<(), Errno> = Err;
    const OK: Result<(), Errno> = Ok(());

    /// A host folder: `abs -> /dev/null`, `bin/hello`, `etc/passwd`, `lib -> usr/lib`,
    /// `up -> ../..`, `usr/lib/libc.so` (three pages, the middle one zeros), `usr/lib/x/`.
    fn host() -> TempDir {
        let h = TempDir::new("host");
        h.file("bin/hello", b"hello\n");
        std::fs::set_permissions(
            h.path().join("bin/hello"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        h.file("etc/passwd", b"root\n");
        h.dir("usr/lib/x");
        h.file("usr/lib/libc.so", &libc());
        h.link("lib", "usr/lib");
        h.link("up", "../..");
        h.link("abs", "/dev/null");
        h
    }

    fn libc() -> Vec<u8> {
        let mut c = vec![0u8; 2 * 4096 + 3];
        c[..4].copy_from_slice(b"\x7fELF");
        c[8192..].copy_from_slice(b"end");
        c
    }

    fn at(v: &Vfs, path: &str) -> Ino {
        v.resolve(ROOT_INO, path.as_bytes(), false)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn mount_errors_leave_the_namespace_as_it_was() {
        let h = host();
        let mut v = Vfs::new(config(8)).unwrap();
        let before = v.nodes.len();
        let missing = h.path().join("nothing");
        let file = h.path().join("etc/passwd");
        let cases: [(&Path, &str, &str); 6] = [
            (&missing, "/mnt", "does not exist"),
            (&file, "/mnt", "is not a folder"),
            (h.path(), "mnt", "is not absolute"),
            (h.path(), "/mnt/../x", "\"..\""),
            (h.path(), "/dev/null", "/dev/null is not a directory"),
            (h.path(), "/dev/null/x", "/dev/null is not a directory"),
        ];
        for (host, guest, want) in cases {
            let e = v.mount(host, guest, false).unwrap_err();
            assert!(e.contains(want), "{guest}: {e}");
        }
        assert_eq!(v.nodes.len(), before);
        // A symbolic link to a folder is followed on the host.
        let link = TempDir::new("link");
        link.link("to", h.path().to_str().unwrap());
        v.mount(&link.path().join("to"), "/mnt", false).unwrap();
        assert_eq!(v.kind(at(&v, "/mnt/bin/hello")), Ok(Kind::File));
    }

    #[test]
    fn a_scanned_tree() {
        let h = host();
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(h.path(), "/mnt", false).unwrap();
        // Inode numbers: the mount point 9, the root 10, then names in byte order, depth
        // first.
        let order = [
            "/mnt",
            "/mnt/abs",
            "/mnt/bin",
            "/mnt/bin/hello",
            "/mnt/etc",
            "/mnt/etc/passwd",
            "/mnt/lib",
            "/mnt/up",
            "/mnt/usr",
            "/mnt/usr/lib",
            "/mnt/usr/lib/libc.so",
            "/mnt/usr/lib/x",
        ];
        for (i, path) in order.iter().enumerate() {
            // (After the initial tree's 11 inodes.)
            assert_eq!(at(&v, path), 12 + i as u64, "{path}");
        }
        let hello = v.stat(at(&v, "/mnt/bin/hello")).unwrap();
        assert_eq!(
            (hello.mode, hello.size, hello.dev),
            (S_IFREG | 0o755, 6, FIRST_HOST_DEV)
        );
        assert_eq!(
            (hello.uid, hello.mtime_ns, hello.blocks),
            (1000, FIXED_TIME_NS, 8)
        );
        assert_eq!(v.stat(at(&v, "/mnt/lib")).unwrap().size, 7);
        check(
            &mut v,
            ROOT_INO,
            &[
                (Readlink("usr/lib"), "/mnt/lib", OK),
                (Is(Want::File), "/mnt/lib/libc.so", OK),
                (Is(Want::Ino(4)), "/mnt/abs", OK),
                (Is(Want::Ino(ROOT_INO)), "/mnt/up", OK),
                (Is(Want::Ino(ROOT_INO)), "/mnt/..", OK),
                (Is(Want::Ino(4)), "/mnt/bin/../../dev/null", OK),
                (Cwd("/mnt/usr/lib"), "/mnt/lib", OK),
                // Read-only.
                (Create, "/mnt/new", E(Errno::EROFS)),
                (Create, "/mnt/bin/hello", OK),
                (CreateExcl, "/mnt/bin/hello", E(Errno::EEXIST)),
                (Mkdir, "/mnt/etc", E(Errno::EEXIST)),
                (Mkdir, "/mnt/new", E(Errno::EROFS)),
                (Unlink, "/mnt/etc/passwd", E(Errno::EROFS)),
                (Rmdir, "/mnt/usr/lib/x", E(Errno::EROFS)),
                (Symlink("x"), "/mnt/s", E(Errno::EROFS)),
                (Rename("/mnt/etc/p", 0), "/mnt/etc/passwd", E(Errno::EROFS)),
                (Rename("/tmp/p", 0), "/mnt/etc/passwd", E(Errno::EXDEV)),
                (Access(W_OK), "/mnt/etc/passwd", E(Errno::EROFS)),
                (Access(X_OK), "/mnt/bin/hello", OK),
                (Access(X_OK), "/mnt/etc/passwd", E(Errno::EACCES)),
                (Rmdir, "/mnt", E(Errno::EROFS)),
            ],
        );
        let names: Vec<Vec<u8>> = v
            .readdir(at(&v, "/mnt"), 0, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(
            names,
            [
                &b"."[..],
                b"..",
                b"abs",
                b"bin",
                b"etc",
                b"lib",
                b"up",
                b"usr"
            ]
        );
    }

    #[test]
    fn mounts_shadow_and_dotdot_crosses_them() {
        let (h1, h2) = (host(), TempDir::new("second"));
        h2.file("only-in-2", b"2");
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(h1.path(), "/mnt", true).unwrap();
        v.mount(h2.path(), "/mnt/usr", false).unwrap();
        v.mount(h2.path(), "/a/b/c", false).unwrap();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Is(Want::File), "/mnt/usr/only-in-2", OK),
                (Is(Want::Dir), "/mnt/usr/lib", E(Errno::ENOENT)),
                (Is(Want::Dir), "/mnt/lib/", E(Errno::ENOENT)),
                (Cwd("/mnt"), "/mnt/usr/..", OK),
                (Cwd("/a/b"), "/a/b/c/..", OK),
                (Rmdir, "/mnt/usr", E(Errno::EBUSY)),
                (Rename("/mnt/usr2", 0), "/mnt/usr", E(Errno::EBUSY)),
                (Rename("/mnt/usr", 0), "/mnt/etc", E(Errno::EBUSY)),
                (Unlink, "/mnt/usr", E(Errno::EISDIR)),
                (Rename("/mnt/usr/x", 0), "/mnt/etc/passwd", E(Errno::EXDEV)),
                // Synthetic directories are read-only.
                (Mkdir, "/a/x", E(Errno::EROFS)),
                (Create, "/a/b/f", E(Errno::EROFS)),
            ],
        );
        let dev = |p: &str| v.stat(at(&v, p)).unwrap().dev;
        let first = FIRST_HOST_DEV;
        assert_eq!(
            (dev("/mnt"), dev("/mnt/usr"), dev("/a/b/c")),
            (first, first + 1, first + 2)
        );
        assert_eq!(dev("/a/b"), ROOT_DEV);
        // A later mount on the same place shadows the earlier; `..` still leads out.
        v.mount(h2.path(), "/mnt", false).unwrap();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Is(Want::File), "/mnt/only-in-2", OK),
                (Is(Want::Dir), "/mnt/etc", E(Errno::ENOENT)),
                (Is(Want::Ino(ROOT_INO)), "/mnt/..", OK),
                (Cwd("/mnt"), "/mnt", OK),
            ],
        );
        // A mount inside /tmp makes synthetic directories there.
        v.mount(h2.path(), "/tmp/m/n", false).unwrap();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Is(Want::File), "/tmp/m/n/only-in-2", OK),
                (Create, "/tmp/m/f", E(Errno::EROFS)),
                (Rmdir, "/tmp/m", E(Errno::ENOTEMPTY)),
                (Create, "/tmp/f", OK),
            ],
        );
    }

    #[test]
    fn a_mount_on_the_root_keeps_dev_and_tmp() {
        let h = host();
        h.dir("tmp");
        h.file("tmp/on-host", b"x");
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(h.path(), "/", false).unwrap();
        let root = v.root();
        check(
            &mut v,
            ROOT_INO,
            &[
                (Is(Want::File), "/bin/hello", OK),
                (Is(Want::Dev), "/dev/null", OK),
                (Is(Want::Dev), "/abs", OK),
                (Is(Want::Ino(root)), "/..", OK),
                (Is(Want::Ino(root)), "/up", OK),
                (Is(Want::File), "/tmp/on-host", E(Errno::ENOENT)),
                (Create, "/tmp/f", OK),
                (Create, "/dev/shm/obj", OK),
                (Create, "/f", E(Errno::EROFS)),
                (Cwd("/dev"), "/dev", OK),
                (Cwd("/tmp"), "/tmp", OK),
                (Cwd("/dev/shm"), "/dev/shm/", OK),
                (Cwd("/usr/lib"), "/lib/", OK),
            ],
        );
        assert_eq!(v.stat(at(&v, "/tmp")).unwrap().dev, TMP_DEV);
        assert_eq!(
            v.stat(at(&v, "/dev/shm")).unwrap().dev,
            super::super::SHM_DEV
        );
        assert_eq!(v.device(at(&v, "/dev/urandom")), Some(Device::Urandom));
        assert!(v.notes().is_empty());
        // A root with a file called `dev`: /dev stays hidden, with a note.
        let odd = TempDir::new("odd");
        odd.file("dev", b"not a folder");
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(odd.path(), "/", false).unwrap();
        assert_eq!(v.kind(at(&v, "/dev")), Ok(Kind::File));
        assert_eq!(v.kind(at(&v, "/tmp")), Ok(Kind::Dir));
        assert_eq!(v.notes().len(), 1, "{:?}", v.notes());
        assert!(v.notes()[0].contains("/dev is hidden"));
        // A host folder mounted on /tmp hides the run's /tmp, and a later mount on / hides
        // both, as on Linux: mount / first.
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(odd.path(), "/tmp", false).unwrap();
        v.mount(h.path(), "/", false).unwrap();
        assert_eq!(v.kind(at(&v, "/tmp/on-host")), Ok(Kind::File));
        assert_eq!(v.kind(at(&v, "/dev/null")), Ok(Kind::Device(Device::Null)));
    }

    #[test]
    fn materialize_reads_a_host_file_once() {
        let h = host();
        let mut v = Vfs::new(config(8)).unwrap();
        v.mount(h.path(), "/mnt", true).unwrap();
        let f = at(&v, "/mnt/lib/libc.so");
        assert!(v.needs_content(f));
        assert_eq!(v.page_block(f, 0, false), Err(Errno::EIO));
        assert_eq!(v.set_size(f, 5, 0), Err(Errno::EIO));
        let pages = v.materialize(f).unwrap();
        let content = libc();
        let mut page2 = content[8192..].to_vec();
        page2.resize(4096, 0);
        assert_eq!(pages, vec![(100, content[..4096].to_vec()), (108, page2)]);
        assert_eq!(v.pages(f), Ok(vec![(0, 100), (2, 108)]));
        assert!(!v.needs_content(f));
        assert_eq!(v.page_block(f, 1, false), Ok(None));
        assert_eq!(v.materialize(f), Ok(vec![]), "only once");
        assert_eq!(v.stat(f).unwrap().blocks, 16);
        // A host file that changed or went.
        let hello = at(&v, "/mnt/bin/hello");
        h.file("bin/hello", b"longer now\n");
        let e = v.materialize(hello).unwrap_err();
        assert!(e.contains("changed size"), "{e}");
        std::fs::remove_file(h.path().join("etc/passwd")).unwrap();
        let e = v.materialize(at(&v, "/mnt/etc/passwd")).unwrap_err();
        assert!(e.contains("cannot read host file"), "{e}");
        // Truncating to zero needs no content.
        let passwd = at(&v, "/mnt/etc/passwd");
        v.set_size(passwd, 0, 0).unwrap();
        assert!(!v.needs_content(passwd));
        // No room: the file stays as it was.
        let mut v = Vfs::new(config(1)).unwrap();
        v.mount(h.path(), "/mnt", false).unwrap();
        let f = at(&v, "/mnt/usr/lib/libc.so");
        let e = v.materialize(f).unwrap_err();
        assert!(e.contains("no room"), "{e}");
        assert!(v.needs_content(f));
        assert_eq!(v.free_pages(), 1);
        // A read-only mount's file can be read, not written.
        let ro = at(&v, "/mnt/bin/hello");
        assert_eq!(v.materialize(ro).unwrap().len(), 1);
        assert_eq!(v.page_block(ro, 0, false), Ok(Some(100)));
        assert_eq!(v.page_block(ro, 0, true), Err(Errno::EROFS));
        assert_eq!(v.set_size(ro, 0, 0), Err(Errno::EROFS));
    }

    /// A disk for the tests: page contents by first block.
    struct Disk(BTreeMap<u64, Vec<u8>>);

    impl Disk {
        fn write(&mut self, v: &mut Vfs, ino: Ino, content: &[u8]) {
            for (i, chunk) in content.chunks(4096).enumerate() {
                let block = v.page_block(ino, i as u64, true).unwrap().unwrap();
                let mut page = chunk.to_vec();
                page.resize(4096, 0);
                self.0.insert(block, page);
            }
            v.set_size(ino, content.len() as u64, 0).unwrap();
        }

        fn sync(&self, v: &mut Vfs) -> Result<Vec<String>, String> {
            v.sync_to_host(&mut |block, buf: &mut [u8]| {
                let page = self.0.get(&block).ok_or(format!("no block {block}"))?;
                buf.copy_from_slice(page);
                Ok(())
            })
        }
    }

    #[test]
    fn sync_writes_back_a_writable_mount_only() {
        let (w, r) = (TempDir::new("w"), TempDir::new("r"));
        for (rel, content) in [
            ("a", "A"),
            ("d/b", "B"),
            ("keep", "K"),
            ("moved", "M"),
            ("x", "X"),
            ("y", "Y"),
        ] {
            w.file(rel, content.as_bytes());
            r.file(rel, content.as_bytes());
        }
        w.dir("d/e");
        w.link("l", "a");
        let r_before = r.listing();
        let mut v = Vfs::new(config(16)).unwrap();
        v.mount(w.path(), "/w", true).unwrap();
        v.mount(r.path(), "/r", false).unwrap();
        let mut disk = Disk(BTreeMap::new());
        let how = CreateHow {
            mode: 0o640,
            exclusive: true,
            follow: true,
        };
        // New, changed and removed files; moves and an exchange of files never read;
        // a new folder with a link in it; a link replaced by a folder.
        let new = v.create(ROOT_INO, b"/w/new", how, 0).unwrap().ino;
        disk.write(&mut v, new, b"new content");
        let a = at(&v, "/w/a");
        for (block, page) in v.materialize(a).unwrap() {
            disk.0.insert(block, page);
        }
        disk.write(&mut v, a, b"A2");
        check(
            &mut v,
            ROOT_INO,
            &[
                (Unlink, "/w/d/b", OK),
                (Rmdir, "/w/d/e", OK),
                (Rename("/w/d/moved2", 0), "/w/moved", OK),
                (Rename("/w/y", RENAME_EXCHANGE), "/w/x", OK),
                (MkdirMode(0o700), "/w/newdir", OK),
                (Symlink("../a"), "/w/newdir/ln", OK),
                (Unlink, "/w/l", OK),
                (Mkdir, "/w/l", OK),
                (Create, "/tmp/scratch", OK),
            ],
        );
        // The read-only mount refuses every change.
        check(
            &mut v,
            ROOT_INO,
            &[
                (Unlink, "/r/a", E(Errno::EROFS)),
                (Create, "/r/z", E(Errno::EROFS)),
                (Rename("/r/b", 0), "/r/a", E(Errno::EROFS)),
            ],
        );
        let report = disk.sync(&mut v).unwrap();
        assert_eq!(
            w.listing(),
            [
                "a f A2",
                "d d",
                "d/moved2 f M",
                "keep f K",
                "l d",
                "new f new content",
                "newdir d",
                "newdir/ln l ../a",
                "x f Y",
                "y f X",
            ]
        );
        assert_eq!(r.listing(), r_before);
        let mode = |rel: &str| {
            std::fs::metadata(w.path().join(rel))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!((mode("new"), mode("newdir")), (0o640, 0o700));
        assert!(
            report.contains(&"wrote /w/new (11 bytes)".to_string()),
            "{report:?}"
        );
        assert!(report.contains(&"removed /w/d/e".to_string()), "{report:?}");
        assert!(report.contains(&"made link /w/newdir/ln -> ../a".to_string()));
        assert!(!report.iter().any(|l| l.contains("keep")), "{report:?}");
        // A touched file whose content was never read keeps it.
        v.touch(at(&v, "/w/keep"), 5).unwrap();
        assert_eq!(disk.sync(&mut v), Ok(vec![]));
        assert!(w.listing().contains(&"keep f K".to_string()));
        // Nothing more to do; then a folder moved with a file never read in it.
        assert_eq!(disk.sync(&mut v), Ok(vec![]));
        v.rename((ROOT_INO, b"/w/d"), (ROOT_INO, b"/w/dd"), 0, 0)
            .unwrap();
        disk.sync(&mut v).unwrap();
        assert!(w.listing().contains(&"dd/moved2 f M".to_string()));
        assert!(!w.listing().iter().any(|l| l.starts_with("d/")));
        // Sparse content: holes are zeros on the host.
        let sparse = v.create(ROOT_INO, b"/w/sparse", how, 0).unwrap().ino;
        let block = v.page_block(sparse, 1, true).unwrap().unwrap();
        disk.0.insert(block, vec![b's'; 4096]);
        v.set_size(sparse, 4096 + 2, 0).unwrap();
        disk.sync(&mut v).unwrap();
        let mut want = vec![0u8; 4096];
        want.extend_from_slice(b"ss");
        assert_eq!(std::fs::read(w.path().join("sparse")).unwrap(), want);
    }

    #[test]
    fn sync_stops_at_a_host_error() {
        let w = TempDir::new("werr");
        w.file("d/keep", b"k");
        let mut v = Vfs::new(config(4)).unwrap();
        v.mount(w.path(), "/w", true).unwrap();
        v.unlink(ROOT_INO, b"/w/d/keep", 0).unwrap();
        v.rmdir(ROOT_INO, b"/w/d", 0).unwrap();
        // Something appeared on the host meanwhile: the folder cannot go.
        w.file("d/other", b"o");
        let e = Disk(BTreeMap::new()).sync(&mut v).unwrap_err();
        assert!(e.contains("cannot remove the folder"), "{e}");
        // A page the disk cannot give back.
        let mut v = Vfs::new(config(4)).unwrap();
        v.mount(w.path(), "/w", true).unwrap();
        let f = v
            .create(
                ROOT_INO,
                b"/w/f",
                CreateHow {
                    mode: 0o644,
                    exclusive: true,
                    follow: true,
                },
                0,
            )
            .unwrap()
            .ino;
        v.page_block(f, 0, true).unwrap();
        v.set_size(f, 10, 0).unwrap();
        let e = Disk(BTreeMap::new()).sync(&mut v).unwrap_err();
        assert!(e.contains("no block 100"), "{e}");
    }

    #[test]
    fn sync_never_follows_a_host_link() {
        let (w, outside) = (TempDir::new("wlink"), TempDir::new("outside"));
        w.file("d/f", b"f");
        outside.file("f", b"precious");
        let mut v = Vfs::new(config(4)).unwrap();
        v.mount(w.path(), "/w", true).unwrap();
        v.unlink(ROOT_INO, b"/w/d/f", 0).unwrap();
        let how = CreateHow {
            mode: 0o644,
            exclusive: true,
            follow: true,
        };
        v.create(ROOT_INO, b"/w/d/g", how, 0).unwrap();
        // On the host, the folder became a link out of the mount meanwhile.
        std::fs::remove_dir_all(w.path().join("d")).unwrap();
        w.link("d", outside.path().to_str().unwrap());
        let e = Disk(BTreeMap::new()).sync(&mut v).unwrap_err();
        assert!(e.contains("is not a folder on the host"), "{e}");
        assert_eq!(outside.listing(), ["f f precious"]);
    }

    /// Everything below `path` as the guest sees it, one line per entry: its path, kind,
    /// permission bits, and a link's target or a file's content (read from the host or
    /// from `disk`).
    fn guest_tree(v: &mut Vfs, disk: &mut Disk, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(at(v, path), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            for e in v.readdir(dir, 2, usize::MAX).unwrap() {
                let name = String::from_utf8_lossy(&e.name).into_owned();
                let rel = format!("{rel}/{name}");
                let ino = v.resolve(dir, &e.name, false).unwrap();
                let perm = v.stat(ino).unwrap().mode & 0o7777;
                let what = match v.kind(ino).unwrap() {
                    Kind::Dir => {
                        stack.push((ino, rel.clone()));
                        "d".to_string()
                    }
                    Kind::Symlink => {
                        format!("l {}", String::from_utf8_lossy(v.readlink(ino).unwrap()))
                    }
                    _ => {
                        for (block, page) in v.materialize(ino).unwrap() {
                            disk.0.insert(block, page);
                        }
                        let size = v.size(ino).unwrap() as usize;
                        let mut content = vec![0u8; size.div_ceil(4096) * 4096];
                        for (i, block) in v.pages(ino).unwrap() {
                            let at = i as usize * 4096;
                            content[at..at + 4096].copy_from_slice(&disk.0[&block]);
                        }
                        content.truncate(size);
                        format!("f {}", String::from_utf8_lossy(&content))
                    }
                };
                out.push(format!("{rel} {perm:o} {what}"));
            }
        }
        out.sort();
        out
    }

    /// Random changes to a writable mount, written back now and then: each time, the host
    /// folder mounted afresh shows what the guest saw.
    #[test]
    fn write_back_matches_the_guest_view() {
        let w = TempDir::new("wrandom");
        w.file("a/f", b"one");
        w.file("b", b"two");
        w.link("l", "a");
        let mut v = Vfs::new(config(64)).unwrap();
        v.mount(w.path(), "/w", true).unwrap();
        let mut disk = Disk(BTreeMap::new());
        let names = ["/w/a", "/w/b", "/w/a/f", "/w/a/g", "/w/c", "/w/c/d", "/w/l"];
        let mut seed = 0x0123_4567_89ab_cdefu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..3000u64 {
            let r = next();
            let p = names[(r >> 8) as usize % names.len()].as_bytes();
            let q = names[(r >> 16) as usize % names.len()].as_bytes();
            let how = CreateHow {
                mode: 0o600 | (r >> 24) as u32 & 0o77,
                exclusive: false,
                follow: true,
            };
            let _ = match r % 11 {
                0 => v.create(ROOT_INO, p, how, step).map(drop),
                1 => v.mkdir(ROOT_INO, p, 0o755, step).map(drop),
                2 => v.unlink(ROOT_INO, p, step),
                3 => v.rmdir(ROOT_INO, p, step),
                4 => v.rename((ROOT_INO, p), (ROOT_INO, q), (r >> 32) as u32 % 3, step),
                5 => v.symlink(&q[3..], ROOT_INO, p, step).map(drop),
                6 | 7 => match v.resolve(ROOT_INO, p, true) {
                    Ok(ino) if v.kind(ino) == Ok(Kind::File) => {
                        for (block, page) in v.materialize(ino).unwrap() {
                            disk.0.insert(block, page);
                        }
                        let text = format!("step {step} ").repeat((r >> 40) as usize % 700);
                        disk.write(&mut v, ino, text.as_bytes());
                        Ok(())
                    }
                    _ => Ok(()),
                },
                8 => v
                    .resolve(ROOT_INO, p, false)
                    .and_then(|ino| v.touch(ino, step)),
                9 => match v.resolve(ROOT_INO, p, true) {
                    Ok(ino) if v.kind(ino) == Ok(Kind::File) => {
                        let size = (r >> 40) % 3 * 2000;
                        if size != 0 {
                            for (block, page) in v.materialize(ino).unwrap() {
                                disk.0.insert(block, page);
                            }
                        }
                        v.set_size(ino, size, step)
                    }
                    _ => Ok(()),
                },
                _ => {
                    disk.sync(&mut v).unwrap();
                    let mut fresh = Vfs::new(config(64)).unwrap();
                    fresh.mount(w.path(), "/w", false).unwrap();
                    let mut scratch = Disk(BTreeMap::new());
                    assert_eq!(
                        guest_tree(&mut fresh, &mut scratch, "/w"),
                        guest_tree(&mut v, &mut disk, "/w"),
                        "step {step}"
                    );
                    Ok(())
                }
            };
            v.check_invariants().unwrap();
        }
    }

    #[test]
    fn host_paths_stay_inside_the_folder() {
        let dir = Path::new("/some/folder");
        assert_eq!(
            host_path(dir, b"a/b"),
            Ok(PathBuf::from("/some/folder/a/b"))
        );
        for bad in [
            &b"../x"[..],
            b"a/../../x",
            b"./a",
            b"",
            b"a//b",
            b"/abs",
            b"a\0b",
        ] {
            assert!(host_path(dir, bad).is_err(), "{bad:?}");
        }
    }

    /// A tree of a thousand files, numbered depth first.
    #[test]
    fn a_large_tree() {
        let h = TempDir::new("large");
        for d in 0..20 {
            for f in 0..50 {
                h.file(&format!("d{d:02}/f{f:03}"), b"");
            }
        }
        let mut v = Vfs::new(config(4)).unwrap();
        v.mount(h.path(), "/usr", false).unwrap();
        assert_eq!(v.readdir(at(&v, "/usr/d19"), 0, 1000).unwrap().len(), 52);
        assert_eq!(at(&v, "/usr/d19/f049"), 12 + 20 * 51);
    }
}
