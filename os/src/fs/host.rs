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
    /// root.
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
        let dev = FIRST_HOST_DEV + (fs as u64 - 3);
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

    /// After a mount on `/`: puts `/dev` and `/tmp` back on top of the new tree.
    fn move_special_mounts(&mut self) {
        for (dev, name) in [(DEV_DEV, "dev"), (TMP_DEV, "tmp")] {
            let Some(fs) = self.mounts.iter().position(|m| m.dev == dev) else {
                continue;
            };
            let root = self.mounts[fs].root;
            let old = self.mounts[fs].on;
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
            Ok(n) if n.origin.as_deref() == Some(rel) => {
                !matches!(&n.body, Body::File(f) if f.dirty)
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
                    moved.insert(ino, bytes);
                }
            }
        }
        // Deletions, deepest first.
        for rel in original.keys().rev() {
            let kept = fin.get(rel).is_some_and(|&ino| {
                self.node(ino)
                    .is_ok_and(|n| n.origin.as_deref() == Some(rel.as_slice()))
            });
            if kept {
                continue;
            }
            let path = host_path(dir, rel)?;
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
        let mut verified: BTreeSet<Vec<u8>> = BTreeSet::new();
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
