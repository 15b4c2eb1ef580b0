//! The guest's file system: its namespace of inodes as a pure data structure.
//!
//! [`Vfs`] holds a tree of inodes — directories, regular files, symbolic links and
//! character devices — spread over several file systems, each mounted somewhere in one
//! namespace, as Linux's VFS does:
//!
//! - `/`, a read-only synthetic directory (device 1);
//! - `/dev` with `null`, `zero` and `urandom` (device 2, read-only but for the devices
//!   themselves);
//! - `/tmp`, writable and sticky (mode 1777), whose files live only in the run (device 3);
//! - `/dev/shm`, the same kind of file system as `/tmp` (device 4), where glibc's
//!   `shm_open` makes POSIX shared-memory objects;
//! - any number of host folders mounted with [`Vfs::mount`] (devices 5, 6, ... in mount
//!   order), read-only unless asked otherwise.
//!
//! It knows nothing of the kernel, the hardware or a clock. Paths are arbitrary guest bytes;
//! every operation returns a [`Result`] whose error is an [`Errno`], and none panics.
//! Resolution follows Linux (`path_resolution(7)`): see [`Vfs::resolve`].
//!
//! A regular file's content lives on the modelled disk, in pages: the `Vfs` keeps, per
//! file, a sparse map from page index to the first disk block of that page, and allocates
//! pages from a region of the disk it is given ([`VfsConfig`]). It never touches the disk:
//! the kernel's page cache reads and writes the blocks [`Vfs::page_block`] names. A file
//! of a host mount is read from the host once, the first time its content is needed
//! ([`Vfs::materialize`]), and a writable mount's final state goes back to its host folder
//! at the end of the run ([`Vfs::sync_to_host`]).
//!
//! The modules: [`errno`] (the error numbers), `namei` (path resolution), `ops` (the
//! namespace operations), `data` (the disk pages of files and open counts), `host`
//! (mounting host folders and writing them back). `docs/files.md` is the user's view.

mod data;
pub mod errno;
mod host;
mod namei;
mod ops;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use data::MAX_FILE_SIZE;
pub use errno::Errno;
pub use namei::{Last, Parent};

/// How [`Vfs::sync_to_host`] reads file content back from the disk: it fills the buffer
/// (one page) with the content of the page that begins at the given disk block.
pub type ReadPage<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), String> + 'a;

/// An inode number. Numbers are given in order of creation from 1 (the root) and never
/// reused in a run.
pub type Ino = u64;

/// The longest file name (one path component), in bytes.
pub const NAME_MAX: usize = 255;
/// The size of the longest path with its terminating NUL, in bytes: a path of `PATH_MAX`
/// bytes or more is `ENAMETOOLONG`.
pub const PATH_MAX: usize = 4096;
/// The most symbolic links one resolution follows before `ELOOP`.
pub const MAXSYMLINKS: u32 = 40;
/// The most subdirectories a directory may hold before `mkdir` gives `EMLINK`.
pub const MAX_SUBDIRS: u32 = 65_000;
/// The user id the guest runs as, and that owns every file.
pub const GUEST_UID: u32 = 1000;
/// The group id the guest runs as, and that owns every file.
pub const GUEST_GID: u32 = 1000;
/// The time every file shows until the kernel says otherwise: 2024-01-01 00:00:00 UTC,
/// in nanoseconds since the Unix epoch.
pub const FIXED_TIME_NS: u64 = 1_704_067_200_000_000_000;

/// The file-type bits of a mode.
pub const S_IFMT: u32 = 0o170_000;
/// A directory's type bits.
pub const S_IFDIR: u32 = 0o040_000;
/// A regular file's type bits.
pub const S_IFREG: u32 = 0o100_000;
/// A symbolic link's type bits.
pub const S_IFLNK: u32 = 0o120_000;
/// A character device's type bits.
pub const S_IFCHR: u32 = 0o020_000;

/// `d_type` of a character device.
pub const DT_CHR: u8 = 2;
/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;
/// `d_type` of a regular file.
pub const DT_REG: u8 = 8;
/// `d_type` of a symbolic link.
pub const DT_LNK: u8 = 10;

/// `access` mode: the file exists.
pub const F_OK: u32 = 0;
/// `access` mode: execute (search, for a directory).
pub const X_OK: u32 = 1;
/// `access` mode: write.
pub const W_OK: u32 = 2;
/// `access` mode: read.
pub const R_OK: u32 = 4;

/// `renameat2` flag: fail with `EEXIST` rather than replace the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// `renameat2` flag: swap the two names atomically.
pub const RENAME_EXCHANGE: u32 = 2;
/// `renameat2` flag: leave a whiteout (overlay file systems); it needs a capability the
/// guest does not have (`EPERM`).
pub const RENAME_WHITEOUT: u32 = 4;

/// The root directory's inode number.
pub const ROOT_INO: Ino = 1;
/// The device number of the synthetic root file system.
pub const ROOT_DEV: u64 = 1;
/// The device number of `/dev`.
pub const DEV_DEV: u64 = 2;
/// The device number of `/tmp`.
pub const TMP_DEV: u64 = 3;
/// The device number of `/dev/shm`.
pub const SHM_DEV: u64 = 4;
/// The device number of the first host mount; the n-th (from 0) has `FIRST_HOST_DEV + n`.
pub const FIRST_HOST_DEV: u64 = 5;

/// Linux's `makedev`: a device number from its major and minor numbers.
pub const fn makedev(major: u64, minor: u64) -> u64 {
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// A character device the kernel serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/null`: reads give end of file, writes are discarded.
    Null,
    /// `/dev/zero`: reads give zeros, writes are discarded.
    Zero,
    /// `/dev/urandom`: reads give bytes from the kernel's seeded generator.
    Urandom,
}

impl Device {
    /// Its device number, as Linux gives it (`null` 1:3, `zero` 1:5, `urandom` 1:9).
    pub fn rdev(self) -> u64 {
        match self {
            Device::Null => makedev(1, 3),
            Device::Zero => makedev(1, 5),
            Device::Urandom => makedev(1, 9),
        }
    }

    /// Its name under `/dev`.
    pub fn name(self) -> &'static str {
        match self {
            Device::Null => "null",
            Device::Zero => "zero",
            Device::Urandom => "urandom",
        }
    }
}

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link.
    Symlink,
    /// A character device.
    Device(Device),
}

impl Kind {
    /// The file-type bits of its mode (`S_IFDIR`, ...).
    pub fn mode_bits(self) -> u32 {
        match self {
            Kind::Dir => S_IFDIR,
            Kind::File => S_IFREG,
            Kind::Symlink => S_IFLNK,
            Kind::Device(_) => S_IFCHR,
        }
    }

    /// Its `d_type` for `getdents64` (`DT_DIR`, ...).
    pub fn d_type(self) -> u8 {
        match self {
            Kind::Dir => DT_DIR,
            Kind::File => DT_REG,
            Kind::Symlink => DT_LNK,
            Kind::Device(_) => DT_CHR,
        }
    }
}

/// An inode as `stat` shows it. Times are nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The device number of its file system.
    pub dev: u64,
    /// Its inode number.
    pub ino: Ino,
    /// Its type and permission bits.
    pub mode: u32,
    /// Its number of links (names; for a directory, 2 plus its subdirectories).
    pub nlink: u32,
    /// Its owner (always [`GUEST_UID`]).
    pub uid: u32,
    /// Its group (always [`GUEST_GID`]).
    pub gid: u32,
    /// The device number it stands for, for a device; else 0.
    pub rdev: u64,
    /// Its size in bytes (a symbolic link: its target's length; a directory: one page).
    pub size: u64,
    /// The preferred I/O size: the page size.
    pub blksize: u32,
    /// The disk space it takes, in 512-byte units.
    pub blocks: u64,
    /// Last access.
    pub atime_ns: u64,
    /// Last change of content.
    pub mtime_ns: u64,
    /// Last change of the inode.
    pub ctime_ns: u64,
}

/// One entry of a directory listing ([`Vfs::readdir`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name.
    pub name: Vec<u8>,
    /// The inode number the name refers to (for a mount point, the covered directory's,
    /// as Linux reports it).
    pub ino: Ino,
    /// Its type as `getdents64` gives it (`DT_DIR`, ...).
    pub d_type: u8,
    /// The offset to resume the listing after this entry (`d_off`).
    pub next: u64,
}

/// Where file content may live on the modelled disk, and in what units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VfsConfig {
    /// The size of a page of file content in bytes: a power of two, a multiple of the block
    /// size.
    pub page_size: u64,
    /// The disk's block size in bytes: a power of two.
    pub block_size: u64,
    /// The first disk block of the region for file data.
    pub first_block: u64,
    /// The number of blocks in the region (a partial page at its end is not used).
    pub blocks: u64,
}

/// How [`Vfs::create`] treats an existing name (`open` with `O_CREAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateHow {
    /// The permission bits of a new file (the kernel has applied the umask).
    pub mode: u32,
    /// `O_EXCL`: an existing name (even a dangling symbolic link) is `EEXIST`.
    pub exclusive: bool,
    /// Whether a symbolic link in the last component is followed (false for `O_NOFOLLOW`,
    /// which makes it `ELOOP`).
    pub follow: bool,
}

/// What [`Vfs::create`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Created {
    /// The file.
    pub ino: Ino,
    /// Whether it was created (false: it existed).
    pub new: bool,
}

/// A directory's contents.
#[derive(Clone, Debug, Default)]
struct Dir {
    /// Names to inodes.
    entries: BTreeMap<Vec<u8>, Ino>,
    /// The directory it is in (itself for a file system's root).
    parent: Ino,
    /// Its name in its parent (empty for a root).
    name: Vec<u8>,
    /// How many of its entries are directories.
    subdirs: u32,
    /// The readdir cookie of every name it has ever held (an index into `names`).
    cookies: BTreeMap<Vec<u8>, u64>,
    /// The names by cookie.
    names: Vec<Vec<u8>>,
}

/// A regular file's content.
#[derive(Clone, Debug, Default)]
struct File {
    /// Its size in bytes.
    size: u64,
    /// Page index to the first disk block of the page.
    pages: BTreeMap<u64, u64>,
    /// The host file its content has yet to be read from, if any.
    host: Option<PathBuf>,
    /// Whether its content changed in the run (it goes back to a writable host mount).
    dirty: bool,
}

/// What an inode holds.
#[derive(Clone, Debug)]
enum Body {
    Dir(Dir),
    File(File),
    Symlink(Vec<u8>),
    Device(Device),
}

/// One inode.
#[derive(Clone, Debug)]
struct Node {
    /// The index of its file system in `Vfs::mounts`.
    fs: usize,
    /// Its permission bits (the low 12 bits of the mode).
    perm: u32,
    /// Its names (directories: 1 while linked, 0 once removed; `stat` adds the rest).
    nlink: u32,
    /// How many times the kernel holds it open.
    opens: u32,
    atime: u64,
    mtime: u64,
    ctime: u64,
    /// For a node scanned from a host folder: its path relative to the folder.
    origin: Option<Vec<u8>>,
    /// A directory made only to mount something on: read-only, never written back.
    synthetic: bool,
    /// A file whose content may change on a read-only mount (a `--file` file in the root
    /// directory, [`Vfs::add_file`]): its names still may not.
    writable: bool,
    body: Body,
}

/// What a file system is.
#[derive(Clone, Debug)]
enum FsKind {
    Root,
    Dev,
    Tmp,
    Host {
        /// The folder, canonical.
        dir: PathBuf,
        /// The relative paths of everything scanned (kept for a writable mount only).
        original: BTreeMap<Vec<u8>, Kind>,
    },
}

/// One mounted file system.
#[derive(Clone, Debug)]
struct Mount {
    kind: FsKind,
    dev: u64,
    /// Where it is mounted, as given.
    guest: String,
    root: Ino,
    /// The directory it covers (none for the root file system).
    on: Option<Ino>,
    read_only: bool,
}

/// The disk region for file data, in pages.
#[derive(Clone, Debug)]
struct Region {
    first_block: u64,
    blocks_per_page: u64,
    pages: u64,
    /// Pages never handed out yet start here.
    fresh: u64,
    /// Pages freed, handed out again lowest first.
    free: std::collections::BTreeSet<u64>,
}

/// The guest's file system namespace: inodes, mounts, and where file content lives on the
/// disk. See the module documentation.
#[derive(Clone, Debug)]
pub struct Vfs {
    /// Inodes by number (index 0 is never used); `None` once freed.
    nodes: Vec<Option<Node>>,
    mounts: Vec<Mount>,
    /// A covered directory to the root of the file system mounted on it.
    covered: BTreeMap<Ino, Ino>,
    page_size: u64,
    region: Region,
    notes: Vec<String>,
}

impl Vfs {
    /// Builds the initial tree (`/`, `/dev` with its devices, `/tmp`, `/dev/shm`), with file content to
    /// go in the given disk region. An error says what is wrong with the configuration.
    pub fn new(config: VfsConfig) -> Result<Vfs, String> {
        let VfsConfig {
            page_size,
            block_size,
            first_block,
            blocks,
        } = config;
        if !block_size.is_power_of_two() {
            return Err(format!("the block size {block_size} is not a power of two"));
        }
        if !page_size.is_power_of_two() || page_size < block_size {
            return Err(format!(
                "the page size {page_size} is not a power of two at least the block size {block_size}"
            ));
        }
        if page_size > 1 << 30 {
            return Err(format!("the page size {page_size} is over 1 GiB"));
        }
        if first_block.checked_add(blocks).is_none() {
            return Err(format!(
                "the file-data region ({blocks} blocks from block {first_block}) overflows"
            ));
        }
        let blocks_per_page = page_size / block_size;
        let mut vfs = Vfs {
            nodes: vec![None],
            mounts: Vec::new(),
            covered: BTreeMap::new(),
            page_size,
            region: Region {
                first_block,
                blocks_per_page,
                pages: blocks / blocks_per_page,
                fresh: 0,
                free: Default::default(),
            },
            notes: Vec::new(),
        };
        let root = vfs.new_root(FsKind::Root, ROOT_DEV, "/", true, 0o755);
        debug_assert_eq!(root, ROOT_INO);
        let dev = vfs.special_mount(FsKind::Dev, DEV_DEV, ROOT_INO, "dev", 0o755);
        for device in [Device::Null, Device::Zero, Device::Urandom] {
            let ino = vfs.add_node(1, 0o666, Body::Device(device), FIXED_TIME_NS);
            vfs.attach(dev, device.name().as_bytes(), ino);
        }
        vfs.special_mount(FsKind::Tmp, TMP_DEV, ROOT_INO, "tmp", 0o1777);
        // (On the device file system, so that it moves with /dev.)
        vfs.special_mount(FsKind::Tmp, SHM_DEV, dev, "shm", 0o1777);
        Ok(vfs)
    }

    /// The page size file content is kept in.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// Notes from mounting (entries skipped, mounts moved), for the run's report.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The root directory as paths see it (the root of the last mount on `/`).
    pub fn root(&self) -> Ino {
        self.top(ROOT_INO)
    }

    /// Makes a mount point `name` in directory `parent` (the root, or `/dev`'s root) and
    /// mounts a new special file system there.
    fn special_mount(&mut self, kind: FsKind, dev: u64, parent: Ino, name: &str, perm: u32) -> Ino {
        let parent_fs = self.node(parent).map_or(0, |n| n.fs);
        let guest = match self.mounts.iter().find(|m| m.root == parent) {
            Some(m) if parent != ROOT_INO => format!("{}/{name}", m.guest),
            _ => format!("/{name}"),
        };
        let point = self.add_node(parent_fs, 0o755, Body::Dir(Dir::default()), FIXED_TIME_NS);
        self.node_mut(point).expect("just made").synthetic = true;
        self.attach(parent, name.as_bytes(), point);
        let read_only = !matches!(kind, FsKind::Tmp);
        let root = self.new_root(kind, dev, &guest, read_only, perm);
        let fs = self.mounts.len() - 1;
        self.mounts[fs].on = Some(point);
        self.covered.insert(point, root);
        root
    }

    /// Adds a file system with an empty root directory; its root.
    fn new_root(&mut self, kind: FsKind, dev: u64, guest: &str, read_only: bool, perm: u32) -> Ino {
        let fs = self.mounts.len();
        let ino = self.nodes.len() as Ino;
        let dir = Dir {
            parent: ino,
            ..Dir::default()
        };
        self.add_node(fs, perm, Body::Dir(dir), FIXED_TIME_NS);
        self.mounts.push(Mount {
            kind,
            dev,
            guest: guest.to_string(),
            root: ino,
            on: None,
            read_only,
        });
        ino
    }

    /// Adds an inode (not yet linked anywhere); its number.
    fn add_node(&mut self, fs: usize, perm: u32, body: Body, now: u64) -> Ino {
        let ino = self.nodes.len() as Ino;
        self.nodes.push(Some(Node {
            fs,
            perm: perm & 0o7777,
            nlink: 1,
            opens: 0,
            atime: now,
            mtime: now,
            ctime: now,
            origin: None,
            synthetic: false,
            writable: false,
            body,
        }));
        ino
    }

    fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        usize::try_from(ino)
            .ok()
            .and_then(|i| self.nodes.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, Errno> {
        usize::try_from(ino)
            .ok()
            .and_then(|i| self.nodes.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::ENOENT)
    }

    /// The directory `ino` (`ENOTDIR` if it is something else, `ENOENT` if it is gone).
    fn dir(&self, ino: Ino) -> Result<&Dir, Errno> {
        match &self.node(ino)?.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Result<&mut Dir, Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// What `ino` is.
    pub fn kind(&self, ino: Ino) -> Result<Kind, Errno> {
        Ok(kind_of(&self.node(ino)?.body))
    }

    /// The device `ino` stands for, if it is a device node.
    pub fn device(&self, ino: Ino) -> Option<Device> {
        match self.node(ino).ok()?.body {
            Body::Device(d) => Some(d),
            _ => None,
        }
    }

    /// Whether `ino` is a removed directory (or a file with no names left).
    fn dead(&self, ino: Ino) -> bool {
        self.node(ino).map(|n| n.nlink == 0).unwrap_or(true)
    }

    /// The top of the stack of mounts on `ino`: what a path reaching `ino` sees.
    fn top(&self, mut ino: Ino) -> Ino {
        for _ in 0..=self.mounts.len() {
            match self.covered.get(&ino) {
                Some(&root) => ino = root,
                None => break,
            }
        }
        ino
    }

    /// If `ino` is the root of a mounted file system: the directory it covers.
    fn mounted_on(&self, ino: Ino) -> Option<Ino> {
        let fs = self.node(ino).ok()?.fs;
        let mount = self.mounts.get(fs)?;
        if mount.root == ino {
            mount.on
        } else {
            None
        }
    }

    /// What `statfs` says of the file system `ino` lies on: whether it is read-only (a
    /// read-only mount, `/`, `/dev`), the data region's size and its free part, in pages
    /// (every file system of the tree keeps its data in the one region).
    pub fn fs_info(&self, ino: Ino) -> Result<(bool, u64, u64), Errno> {
        self.node(ino)?;
        Ok((self.read_only(ino), self.region.pages, self.free_pages()))
    }

    /// Whether the namespace under `ino` is read-only: a read-only mount, or a synthetic
    /// directory.
    fn read_only(&self, ino: Ino) -> bool {
        match self.node(ino) {
            Ok(n) => {
                n.synthetic || (!n.writable && self.mounts.get(n.fs).is_none_or(|m| m.read_only))
            }
            Err(_) => true,
        }
    }

    /// Links `child` into `dir` under `name`, with a readdir cookie for the name.
    fn attach(&mut self, dir: Ino, name: &[u8], child: Ino) {
        let is_dir = matches!(self.node(child).map(|n| &n.body), Ok(Body::Dir(_)));
        if is_dir {
            if let Ok(Body::Dir(d)) = self.node_mut(child).map(|n| &mut n.body) {
                d.parent = dir;
                d.name = name.to_vec();
            }
        }
        if let Ok(d) = self.dir_mut(dir) {
            d.entries.insert(name.to_vec(), child);
            if is_dir {
                d.subdirs += 1;
            }
            if !d.cookies.contains_key(name) {
                d.cookies.insert(name.to_vec(), d.names.len() as u64);
                d.names.push(name.to_vec());
            }
        }
    }

    /// Unlinks `name` from `dir`; the inode it named.
    fn detach(&mut self, dir: Ino, name: &[u8]) -> Option<Ino> {
        let child = self.dir_mut(dir).ok()?.entries.remove(name)?;
        if matches!(self.node(child).map(|n| &n.body), Ok(Body::Dir(_))) {
            if let Ok(d) = self.dir_mut(dir) {
                d.subdirs = d.subdirs.saturating_sub(1);
            }
        }
        Some(child)
    }

    /// The `stat` of `ino`.
    pub fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let n = self.node(ino)?;
        let kind = kind_of(&n.body);
        let dev = self.mounts.get(n.fs).map_or(0, |m| m.dev);
        let page = self.page_size;
        let (nlink, size, pages, rdev) = match &n.body {
            Body::Dir(d) => (if n.nlink == 0 { 0 } else { 2 + d.subdirs }, page, 1, 0),
            Body::File(f) => {
                let pages = if f.host.is_some() {
                    f.size.div_ceil(page)
                } else {
                    f.pages.len() as u64
                };
                (n.nlink, f.size, pages, 0)
            }
            Body::Symlink(t) => (n.nlink, t.len() as u64, 0, 0),
            Body::Device(d) => (n.nlink, 0, 0, d.rdev()),
        };
        Ok(Stat {
            dev,
            ino,
            mode: kind.mode_bits() | n.perm,
            nlink,
            uid: GUEST_UID,
            gid: GUEST_GID,
            rdev,
            size,
            blksize: page as u32,
            blocks: u64::try_from((u128::from(pages) * u128::from(page)).div_ceil(512))
                .unwrap_or(u64::MAX),
            atime_ns: n.atime,
            mtime_ns: n.mtime,
            ctime_ns: n.ctime,
        })
    }

    /// Checks that the guest may access `ino` as `mask` says (`R_OK | W_OK | X_OK`, or
    /// `F_OK`), as `faccessat` and `open` do: `EROFS` for a write to a regular file,
    /// directory or symbolic link on a read-only mount, `EACCES` when the owner's permission
    /// bits lack one asked for (the guest owns every file).
    pub fn access(&self, ino: Ino, mask: u32) -> Result<(), Errno> {
        let n = self.node(ino)?;
        if mask & !(R_OK | W_OK | X_OK) != 0 {
            return Err(Errno::EINVAL);
        }
        if mask & W_OK != 0 && !matches!(n.body, Body::Device(_)) && self.read_only(ino) {
            return Err(Errno::EROFS);
        }
        let owner = (n.perm >> 6) & 7;
        if mask & !owner != 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// Sets the permission bits of `ino` to `mode & 0o7777` at `now_ns` (`chmod`):
    /// `EROFS` on a read-only mount.
    pub fn chmod(&mut self, ino: Ino, mode: u32, now_ns: u64) -> Result<(), Errno> {
        if self.read_only(ino) {
            return Err(Errno::EROFS);
        }
        let n = self.node_mut(ino)?;
        n.perm = mode & 0o7777;
        n.ctime = now_ns;
        Ok(())
    }

    /// Sets the access time of `ino` (a read, if the kernel models access times).
    pub fn set_atime(&mut self, ino: Ino, now_ns: u64) -> Result<(), Errno> {
        self.node_mut(ino)?.atime = now_ns;
        Ok(())
    }

    /// Records a write to `ino` at `now_ns`: its modification and change times, and for a
    /// regular file that its content goes back to a writable host mount.
    pub fn touch(&mut self, ino: Ino, now_ns: u64) -> Result<(), Errno> {
        let n = self.node_mut(ino)?;
        n.mtime = now_ns;
        n.ctime = now_ns;
        if let Body::File(f) = &mut n.body {
            f.dirty = true;
        }
        Ok(())
    }
}

fn kind_of(body: &Body) -> Kind {
    match body {
        Body::Dir(_) => Kind::Dir,
        Body::File(_) => Kind::File,
        Body::Symlink(_) => Kind::Symlink,
        Body::Device(d) => Kind::Device(*d),
    }
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn config_is_checked() {
        let good = config(64);
        assert!(Vfs::new(good).is_ok());
        let bad = [
            VfsConfig {
                block_size: 500,
                ..good
            },
            VfsConfig {
                page_size: 3000,
                ..good
            },
            VfsConfig {
                page_size: 256,
                ..good
            },
            VfsConfig {
                first_block: u64::MAX,
                ..good
            },
        ];
        for c in bad {
            assert!(Vfs::new(c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn initial_tree_and_stat() {
        let vfs = Vfs::new(config(64)).unwrap();
        let at = |p: &str| vfs.resolve(ROOT_INO, p.as_bytes(), true).unwrap();
        let root = vfs.stat(at("/")).unwrap();
        assert_eq!(
            (root.ino, root.dev, root.mode),
            (1, ROOT_DEV, S_IFDIR | 0o755)
        );
        assert_eq!(root.nlink, 4);
        let dev = vfs.stat(at("/dev")).unwrap();
        // (`.`, its entry in /, and /dev/shm's `..`.)
        assert_eq!((dev.ino, dev.dev, dev.nlink), (3, DEV_DEV, 3));
        let tmp = vfs.stat(at("/tmp")).unwrap();
        assert_eq!((tmp.ino, tmp.dev, tmp.mode), (8, TMP_DEV, S_IFDIR | 0o1777));
        let shm = vfs.stat(at("/dev/shm")).unwrap();
        assert_eq!(
            (shm.dev, shm.mode, shm.nlink),
            (SHM_DEV, S_IFDIR | 0o1777, 2)
        );
        assert_eq!(vfs.resolve(ROOT_INO, b"/dev/shm/..", true), Ok(dev.ino));
        for (name, ino, rdev, dev) in [
            ("/dev/null", 4, 0x103, Device::Null),
            ("/dev/zero", 5, 0x105, Device::Zero),
            ("/dev/urandom", 6, 0x109, Device::Urandom),
        ] {
            let s = vfs.stat(at(name)).unwrap();
            assert_eq!(
                (s.ino, s.rdev, s.mode),
                (ino, rdev, S_IFCHR | 0o666),
                "{name}"
            );
            assert_eq!(
                (s.uid, s.gid, s.mtime_ns),
                (GUEST_UID, GUEST_GID, FIXED_TIME_NS)
            );
            assert_eq!(vfs.device(ino), Some(dev));
        }
        assert_eq!(vfs.device(at("/tmp")), None);
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(259, 70000), 0x1111_0370);
        assert_eq!(vfs.stat(999), Err(Errno::ENOENT));
        assert_eq!(vfs.stat(u64::MAX), Err(Errno::ENOENT));
    }
}
