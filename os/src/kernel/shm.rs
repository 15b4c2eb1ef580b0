//! System V shared memory: `shmget`, `shmat`, `shmdt`, `shmctl`, as Linux's `ipc/shm.c`.
//!
//! A segment is a file with no name: `shmget` makes a file of the segment's size in `/tmp`,
//! holds it open for the segment and removes its name at once (as Linux backs a segment
//! with a shmem file no path reaches). `shmat` maps that file as a shared file mapping
//! ([`AreaKind::Mapped`] with `shared`), so every attach, in any process, maps the page
//! cache's pages of it, and a forked child's copy of an attach is the same memory.
//!
//! `shm_nattch` counts areas, as Linux counts virtual memory areas: every attach, every
//! copy a `fork` makes, and both pieces of an attach a `munmap` or `mprotect` split; it is
//! counted from the live address spaces whenever asked, so an `munmap`, an `exit` or an
//! `execve` that drops an attach drops it from the count without bookkeeping of its own.
//! `IPC_RMID` of a segment still attached marks it (`SHM_DEST`, key now `IPC_PRIVATE`; it
//! can still be attached by id, as on Linux); the segment goes when its count reaches 0
//! (the kernel looks after every unmapping, [`Kernel::shm_reap`]). A segment goes with its
//! file, and the file's pages leave the page cache.
//!
//! Ids are Linux's: `seq * 32768 + index`, the index chosen cyclically (the lowest free one
//! after the last given, wrapping), `seq` moving on at each wrap. The limits are the
//! configuration's `os.shmmax`, `os.shmmin`, `os.shmmni` and `os.shmall`.
//!
//! The schemes: `vm-paging` serves everything. `simple-paging` cannot map files (it never
//! faults a page in), so `shmat` fails there with `ENODEV` as `mmap` of a file does; the
//! contiguous and segment schemes have no room for mappings, and `shmat` fails with
//! `ENOMEM` as `mmap` does. `shmget` and `shmctl` work under every scheme with a file
//! system.

use super::{errno, Kernel, SysResult};
use crate::fs::Errno;
use crate::hw::Hw;
use crate::image::Perm;
use crate::process::{Area, AreaKind, Pid, SpaceId};
use std::collections::{BTreeMap, BTreeSet};

/// The numbers of `<sys/ipc.h>` and `<sys/shm.h>`.
pub mod ipc {
    /// The key that always makes a new segment.
    pub const IPC_PRIVATE: i32 = 0;
    /// `shmget`: make the segment if the key has none.
    pub const IPC_CREAT: u32 = 0o1000;
    /// `shmget` with `IPC_CREAT`: fail if the key has one.
    pub const IPC_EXCL: u32 = 0o2000;
    /// `shmctl`: remove the segment (once no one has it attached).
    pub const IPC_RMID: i32 = 0;
    /// `shmctl`: set the owner and the permission bits.
    pub const IPC_SET: i32 = 1;
    /// `shmctl`: read the segment's `struct shmid_ds`.
    pub const IPC_STAT: i32 = 2;
    /// `shmctl`: read the limits (`struct shminfo`).
    pub const IPC_INFO: i32 = 3;
    /// `shmctl`: `IPC_STAT` by index, returning the id.
    pub const SHM_STAT: i32 = 13;
    /// `shmctl`: the use of the segments (`struct shm_info`).
    pub const SHM_INFO: i32 = 14;
    /// `shmctl`: `SHM_STAT` without the read-permission check.
    pub const SHM_STAT_ANY: i32 = 15;
    /// `shmat`: attach read-only.
    pub const SHM_RDONLY: u32 = 0o10000;
    /// `shmat`: round `shmaddr` down to `SHMLBA`.
    pub const SHM_RND: u32 = 0o20000;
    /// `shmat`: replace mappings at `shmaddr`.
    pub const SHM_REMAP: u32 = 0o40000;
    /// `shmat`: attach executable.
    pub const SHM_EXEC: u32 = 0o100000;
    /// The mode bit of a segment marked for removal.
    pub const SHM_DEST: u32 = 0o1000;
    /// The permission bits.
    pub const S_IRWXUGO: u32 = 0o777;
    /// How many indices an id holds (`IPCMNI`): `id = seq * IPCMNI + index`.
    pub const IPCMNI: u64 = 32_768;
    /// The largest `seq` (`INT_MAX >> 15`), after which it starts at 0 again.
    pub const SEQ_MAX: u64 = (i32::MAX as u64) >> 15;
    /// The size of riscv64's `struct shmid64_ds` (`asm-generic/shmbuf.h`).
    pub const SHMID_DS_SIZE: usize = 112;
}

/// The limits `shmget` keeps, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest segment in bytes (`SHMMAX`).
    pub max: u64,
    /// The smallest segment in bytes (`SHMMIN`).
    pub min: u64,
    /// The most segments at once (`SHMMNI`).
    pub mni: u64,
    /// The most pages of all segments together (`SHMALL`).
    pub all: u64,
    /// The page size segments are counted in.
    pub page: u64,
}

/// One segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its key (`IPC_PRIVATE` once marked for removal).
    pub key: i32,
    /// The sequence number in its id.
    pub seq: u64,
    /// Its mode: the permission bits and `SHM_DEST`.
    pub mode: u32,
    /// The owner's user and group (`IPC_SET` may change them).
    pub uid: u32,
    /// The owner's group.
    pub gid: u32,
    /// Its size in bytes, as asked.
    pub size: u64,
    /// The file with no name that holds its bytes.
    pub ino: u64,
    /// The pid of its creator (its thread group id, as `getpid` gives).
    pub cpid: u32,
    /// The pid (thread group id) of the last `shmat` or `shmdt`.
    pub lpid: u32,
    /// The time of the last `shmat`, in seconds since the epoch (0: never).
    pub atime: u64,
    /// The time of the last `shmdt` (0: never).
    pub dtime: u64,
    /// The time of creation or the last `IPC_SET`.
    pub ctime: u64,
}

impl Segment {
    /// The segment's size in pages.
    fn pages(&self, page: u64) -> u64 {
        self.size.div_ceil(page)
    }
}

/// What `shmget` found for a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Got {
    /// An existing segment, by id.
    Existing(u64),
    /// A new segment must be made (and fits the limits).
    New,
}

/// The kernel's System V shared-memory segments.
#[derive(Clone, Debug, Default)]
pub struct ShmTable {
    /// Segments by index.
    segs: BTreeMap<u64, Segment>,
    /// The index given last (`None`: none yet).
    last_idx: Option<u64>,
    /// The sequence number new segments get.
    seq: u64,
}

/// Whether the owner's permission bits of `mode` deny any of the access bits `flag` asks
/// (Linux's `ipcperms` for the segment's creator, who the guest always is).
fn denied(mode: u32, flag: u32) -> bool {
    let requested = (flag >> 6) | (flag >> 3) | flag;
    let granted = mode >> 6;
    requested & !granted & 7 != 0
}

impl ShmTable {
    /// The segment with id `id`, if it exists.
    pub fn get(&self, id: u64) -> Option<&Segment> {
        let s = self.segs.get(&(id % ipc::IPCMNI))?;
        (s.seq == id / ipc::IPCMNI).then_some(s)
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut Segment> {
        let s = self.segs.get_mut(&(id % ipc::IPCMNI))?;
        (s.seq == id / ipc::IPCMNI).then_some(s)
    }

    /// The id of the segment at `idx`.
    fn id_at(&self, idx: u64) -> Option<u64> {
        self.segs.get(&idx).map(|s| s.seq * ipc::IPCMNI + idx)
    }

    /// The id of the segment whose file is `ino`.
    pub fn by_ino(&self, ino: u64) -> Option<u64> {
        self.segs
            .iter()
            .find(|(_, s)| s.ino == ino)
            .map(|(&i, s)| s.seq * ipc::IPCMNI + i)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// The pages all segments hold together.
    fn total_pages(&self, page: u64) -> u64 {
        self.segs
            .values()
            .fold(0u64, |t, s| t.saturating_add(s.pages(page)))
    }

    /// `shmget(key, size, flag)`'s decision, in Linux's order: an existing segment's id,
    /// or that a new one must be made, or the error number (`ENOENT` for a key with none
    /// without `IPC_CREAT`, `EEXIST` for one with `IPC_CREAT | IPC_EXCL`, `EACCES` when the
    /// mode denies what `flag` asks, `EINVAL` for an existing segment smaller than `size`
    /// or a size outside `[min, max]`, `ENOSPC` beyond `SHMALL` pages or `SHMMNI`
    /// segments).
    pub fn lookup(&self, key: i32, size: u64, flag: u32, lim: &Limits) -> Result<Got, u64> {
        if key != ipc::IPC_PRIVATE {
            if let Some((&idx, s)) = self.segs.iter().find(|(_, s)| s.key == key) {
                if flag & ipc::IPC_CREAT != 0 && flag & ipc::IPC_EXCL != 0 {
                    return Err(Errno::EEXIST.get());
                }
                if denied(s.mode, flag) {
                    return Err(errno::EACCES);
                }
                if s.size < size {
                    return Err(errno::EINVAL);
                }
                return Ok(Got::Existing(s.seq * ipc::IPCMNI + idx));
            }
            if flag & ipc::IPC_CREAT == 0 {
                return Err(errno::ENOENT);
            }
        }
        if size < lim.min || size > lim.max {
            return Err(errno::EINVAL);
        }
        let pages = size.div_ceil(lim.page);
        let Some(total) = self.total_pages(lim.page).checked_add(pages) else {
            return Err(Errno::ENOSPC.get());
        };
        if total > lim.all || self.segs.len() as u64 >= lim.mni.min(ipc::IPCMNI) {
            return Err(Errno::ENOSPC.get());
        }
        Ok(Got::New)
    }

    /// Adds a segment (whose `seq` is set here) under the next free index after the last
    /// one given (cyclically, below `mni`); its id, or `ENOSPC` if every index is taken.
    pub fn add(&mut self, mut seg: Segment, mni: u64) -> Result<u64, u64> {
        let mni = mni.clamp(1, ipc::IPCMNI);
        let from = self.last_idx.map_or(0, |l| l + 1);
        let idx = (from..mni)
            .chain(0..from.min(mni))
            .find(|i| !self.segs.contains_key(i))
            .ok_or(Errno::ENOSPC.get())?;
        if self.last_idx.is_some_and(|l| idx <= l) {
            self.seq = if self.seq >= ipc::SEQ_MAX {
                0
            } else {
                self.seq + 1
            };
        }
        self.last_idx = Some(idx);
        seg.seq = self.seq;
        let id = seg.seq * ipc::IPCMNI + idx;
        self.segs.insert(idx, seg);
        Ok(id)
    }

    /// Removes segment `id`; it, if it existed.
    pub fn remove(&mut self, id: u64) -> Option<Segment> {
        self.get(id)?;
        self.segs.remove(&(id % ipc::IPCMNI))
    }

    /// The highest index in use (`IPC_INFO`'s result), 0 if none.
    pub fn max_idx(&self) -> u64 {
        self.segs.keys().next_back().copied().unwrap_or(0)
    }

    /// Every segment's file.
    pub fn inos(&self) -> BTreeSet<u64> {
        self.segs.values().map(|s| s.ino).collect()
    }
}

/// riscv64's `struct shmid64_ds` for `seg` with `nattch` attaches (`asm-generic/shmbuf.h`
/// and `ipcbuf.h`: the `ipc64_perm` of 48 bytes, then `shm_segsz`, the three times, the
/// two pids as `int`, `shm_nattch`, two unused words).
pub fn shmid_ds(seg: &Segment, nattch: u64) -> [u8; ipc::SHMID_DS_SIZE] {
    let mut b = [0u8; ipc::SHMID_DS_SIZE];
    let uid = crate::fs::GUEST_UID;
    b[0..4].copy_from_slice(&seg.key.to_le_bytes());
    b[4..8].copy_from_slice(&seg.uid.to_le_bytes());
    b[8..12].copy_from_slice(&seg.gid.to_le_bytes());
    b[12..16].copy_from_slice(&uid.to_le_bytes());
    b[16..20].copy_from_slice(&uid.to_le_bytes());
    b[20..24].copy_from_slice(&seg.mode.to_le_bytes());
    b[24..26].copy_from_slice(&(seg.seq as u16).to_le_bytes());
    b[48..56].copy_from_slice(&seg.size.to_le_bytes());
    b[56..64].copy_from_slice(&seg.atime.to_le_bytes());
    b[64..72].copy_from_slice(&seg.dtime.to_le_bytes());
    b[72..80].copy_from_slice(&seg.ctime.to_le_bytes());
    b[80..84].copy_from_slice(&seg.cpid.to_le_bytes());
    b[84..88].copy_from_slice(&seg.lpid.to_le_bytes());
    b[88..96].copy_from_slice(&nattch.to_le_bytes());
    b
}

impl Kernel {
    /// The limits of `os.shm*`, counted in the scheme's pages (4 KiB without pages).
    fn shm_limits(&self) -> Limits {
        Limits {
            max: self.cfg.shmmax,
            min: self.cfg.shmmin,
            mni: self.cfg.shmmni,
            all: self.cfg.shmall,
            page: self.mem.page_size().unwrap_or(4096),
        }
    }

    /// The attaches of the file `ino`: the areas that map it in the address spaces of the
    /// live processes (each space once), but `except`.
    fn shm_nattch(&self, ino: u64, except: Option<SpaceId>) -> u64 {
        let spaces: BTreeSet<SpaceId> = self
            .procs
            .iter()
            .filter(|p| !p.state.ended())
            .map(|p| p.space)
            .filter(|&s| Some(s) != except)
            .collect();
        spaces
            .iter()
            .filter_map(|s| self.spaces.get(s))
            .flat_map(|m| m.areas.iter())
            .filter(|a| matches!(a.kind, AreaKind::Mapped { ino: i, .. } if i == ino))
            .count() as u64
    }

    /// The kernel clock in whole seconds since the epoch, for the segments' times.
    fn shm_now(&self, hw: &dyn Hw) -> u64 {
        self.now_ns(hw) / 1_000_000_000
    }

    /// `shmget(key, size, shmflg)`.
    pub(super) fn sys_shmget(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (key, size, flag) = (a[0] as u32 as i32, a[1], a[2] as u32);
        let lim = self.shm_limits();
        match self.shm.lookup(key, size, flag, &lim) {
            Ok(Got::Existing(id)) => return SysResult::Ret(id),
            Err(e) => return SysResult::Err(e),
            Ok(Got::New) => {}
        }
        let ino = match self.unnamed_file(hw, size) {
            Ok(ino) => ino,
            // (No file system to hold it, or a size no file can have: no memory for it.)
            Err(_) => return SysResult::Err(errno::ENOMEM),
        };
        let now = self.shm_now(hw);
        let seg = Segment {
            key,
            seq: 0,
            mode: flag & ipc::S_IRWXUGO,
            uid: crate::fs::GUEST_UID,
            gid: crate::fs::GUEST_GID,
            size,
            ino,
            cpid: self.tgid_of(pid),
            lpid: 0,
            atime: 0,
            dtime: 0,
            ctime: now,
        };
        match self.shm.add(seg, lim.mni) {
            Ok(id) => SysResult::Ret(id),
            Err(e) => {
                self.shm_let_go(ino);
                SysResult::Err(e)
            }
        }
    }

    /// The segment's hold on its file goes: the file, with no name, goes too once no
    /// address space maps it (its pages leave the page cache).
    fn shm_let_go(&mut self, ino: u64) {
        if let Some(fs) = self.fs.as_mut() {
            let _ = fs.vfs.close(ino);
            fs.forget_if_gone(Some(ino));
        }
    }

    /// `shmat(shmid, shmaddr, shmflg)`: maps the segment as a shared mapping of its file;
    /// its address.
    pub(super) fn sys_shmat(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (id, mut addr, flag) = (a[0] as u32 as i32, a[1], a[2] as u32);
        if id < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        // SHMLBA is the page size on RISC-V.
        let page = self.mem.page_size().unwrap_or(4096);
        if addr != 0 {
            if !addr.is_multiple_of(page) {
                if flag & ipc::SHM_RND == 0 {
                    return SysResult::Err(errno::EINVAL);
                }
                addr &= !(page - 1);
                if addr == 0 && flag & ipc::SHM_REMAP != 0 {
                    return SysResult::Err(errno::EINVAL);
                }
            }
        } else if flag & ipc::SHM_REMAP != 0 {
            return SysResult::Err(errno::EINVAL);
        }
        let (mut prot, mut acc) = if flag & ipc::SHM_RDONLY != 0 {
            (1, 0o444)
        } else {
            (3, 0o666)
        };
        if flag & ipc::SHM_EXEC != 0 {
            prot |= 4;
            acc |= 0o111;
        }
        let id = id as u64;
        let Some(seg) = self.shm.get(id) else {
            return SysResult::Err(errno::EINVAL);
        };
        if denied(seg.mode, acc) {
            return SysResult::Err(errno::EACCES);
        }
        let (ino, size) = (seg.ino, seg.size);
        // As `mmap` of a file: the contiguous and segment schemes have no room for a
        // mapping, and simple paging cannot map files (it never faults a page in).
        let Some(page) = self.mem.page_size() else {
            return SysResult::Err(errno::ENOMEM);
        };
        if !self.mem.demand_paged() {
            return SysResult::Err(errno::ENODEV);
        }
        let Some(len) = size.checked_next_multiple_of(page) else {
            return SysResult::Err(errno::ENOMEM);
        };
        let start = if addr != 0 {
            let Some(end) = addr.checked_add(len) else {
                return SysResult::Err(errno::EINVAL);
            };
            let Some(p) = self.address_space(pid) else {
                return SysResult::NoReturn;
            };
            if flag & ipc::SHM_REMAP == 0 {
                if p.overlaps(addr, end) {
                    return SysResult::Err(errno::EINVAL);
                }
            } else if let Err(r) = self.replace_mappings(hw, pid, addr, end) {
                return r;
            }
            addr
        } else {
            match self.free_range(pid, len, page) {
                Ok(s) => s,
                Err(r) => return r,
            }
        };
        self.hold_mapped(ino);
        let perm = Perm::from_prot(prot);
        let Some(mm) = self.mm_mut(pid) else {
            return SysResult::NoReturn;
        };
        mm.add_area(Area {
            start,
            end: start + len,
            perm,
            kind: AreaKind::Mapped {
                ino,
                offset: 0,
                shared: true,
            },
        });
        let (now, tgid) = (self.shm_now(hw), self.tgid_of(pid));
        if let Some(seg) = self.shm.get_mut(id) {
            seg.atime = now;
            seg.lpid = tgid;
        }
        SysResult::Ret(start)
    }

    /// `shmdt(shmaddr)`: unmaps the attach that begins at `shmaddr` (every piece of it that
    /// still maps the segment where the attach put it), as Linux does; `EINVAL` if no
    /// attach begins there.
    pub(super) fn sys_shmdt(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let addr = a[0];
        let page = self.mem.page_size().unwrap_or(4096);
        if !addr.is_multiple_of(page) {
            return SysResult::Err(errno::EINVAL);
        }
        let Some(mm) = self.address_space(pid) else {
            return SysResult::NoReturn;
        };
        let inos = self.shm.inos();
        // A piece of an attach made at `addr`: its offset in the file is its distance from
        // `addr`.
        let piece = |a: &Area| match a.kind {
            AreaKind::Mapped {
                ino,
                offset,
                shared: true,
            } if inos.contains(&ino) && a.start >= addr && a.start - addr == offset => Some(ino),
            _ => None,
        };
        let Some((first, end, ino)) = mm
            .areas
            .iter()
            .filter(|a| a.end > addr)
            .find_map(|a| piece(a).map(|i| (a.start, a.end, i)))
        else {
            return SysResult::Err(errno::EINVAL);
        };
        let Some(id) = self.shm.by_ino(ino) else {
            return SysResult::Err(errno::EINVAL);
        };
        let size = self
            .shm
            .get(id)
            .map_or(0, |s| s.size.next_multiple_of(page));
        // That piece, and the later pieces of the same attach up to the first area that
        // reaches beyond the segment's size from `addr`.
        let mut cut = vec![(first, end)];
        for a in mm.areas.iter().filter(|a| a.start > first) {
            if a.end - addr > size {
                break;
            }
            if piece(a) == Some(ino) {
                cut.push((a.start, a.end));
            }
        }
        // (munmap sets the detach time and pid, and removes a marked segment with its
        // last attach.)
        for (from, to) in cut {
            self.sys_munmap(hw, pid, [from, to - from, 0, 0, 0, 0]);
        }
        SysResult::Ret(0)
    }

    /// `shmctl(shmid, cmd, buf)`: `IPC_STAT`, `SHM_STAT`, `SHM_STAT_ANY`, `IPC_SET`,
    /// `IPC_RMID`, `IPC_INFO`, `SHM_INFO`; any other command is `EINVAL`, as Linux gives
    /// for one it does not know.
    pub(super) fn sys_shmctl(&mut self, hw: &mut dyn Hw, pid: Pid, a: [u64; 6]) -> SysResult {
        let (id, cmd, buf) = (a[0] as u32 as i32, a[1] as u32 as i32, a[2]);
        if cmd < 0 || id < 0 {
            return SysResult::Err(errno::EINVAL);
        }
        match cmd {
            ipc::IPC_INFO => {
                let lim = self.shm_limits();
                let mut b = [0u8; 72];
                let mni = lim.mni.min(ipc::IPCMNI);
                for (i, v) in [lim.max, lim.min, mni, 4096, lim.all].iter().enumerate() {
                    b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
                }
                if let Err(e) = self.copy_to_user(hw, pid, buf, &b) {
                    return e.into();
                }
                SysResult::Ret(self.shm.max_idx())
            }
            ipc::SHM_INFO => {
                // struct shm_info: used_ids (int, then 4 bytes of padding), shm_tot,
                // shm_rss, shm_swp, swap_attempts, swap_successes. A segment's pages are
                // its file's pages in the page cache; written back, they go to its file,
                // never to swap.
                let page = self.shm_limits().page;
                let tot = self.shm.total_pages(page);
                let rss: u64 = self
                    .fs
                    .as_ref()
                    .map(|f| self.shm.inos().iter().map(|&i| f.cache.pages_of(i)).sum())
                    .unwrap_or(0);
                let mut b = [0u8; 48];
                b[0..4].copy_from_slice(&(self.shm.segs.len() as u32).to_le_bytes());
                b[8..16].copy_from_slice(&tot.to_le_bytes());
                b[16..24].copy_from_slice(&rss.to_le_bytes());
                if let Err(e) = self.copy_to_user(hw, pid, buf, &b) {
                    return e.into();
                }
                SysResult::Ret(self.shm.max_idx())
            }
            ipc::IPC_STAT | ipc::SHM_STAT | ipc::SHM_STAT_ANY => {
                let (id, ret) = if cmd == ipc::IPC_STAT {
                    (id as u64, 0)
                } else {
                    let Some(full) = self.shm.id_at(id as u64) else {
                        return SysResult::Err(errno::EINVAL);
                    };
                    (full, full)
                };
                let Some(seg) = self.shm.get(id) else {
                    return SysResult::Err(errno::EINVAL);
                };
                if cmd != ipc::SHM_STAT_ANY && denied(seg.mode, 0o444) {
                    return SysResult::Err(errno::EACCES);
                }
                let b = shmid_ds(seg, self.shm_nattch(seg.ino, None));
                if let Err(e) = self.copy_to_user(hw, pid, buf, &b) {
                    return e.into();
                }
                SysResult::Ret(ret)
            }
            ipc::IPC_SET => {
                let id = id as u64;
                if self.shm.get(id).is_none() {
                    return SysResult::Err(errno::EINVAL);
                }
                let b = match self.copy_from_user(hw, pid, buf, 24) {
                    Ok(b) => b,
                    Err(e) => return e.into(),
                };
                let word = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                let (uid, gid, mode) = (word(4), word(8), word(20));
                if uid == u32::MAX || gid == u32::MAX {
                    return SysResult::Err(errno::EINVAL);
                }
                let now = self.shm_now(hw);
                if let Some(seg) = self.shm.get_mut(id) {
                    seg.uid = uid;
                    seg.gid = gid;
                    seg.mode = (seg.mode & !ipc::S_IRWXUGO) | (mode & ipc::S_IRWXUGO);
                    seg.ctime = now;
                }
                SysResult::Ret(0)
            }
            ipc::IPC_RMID => {
                let id = id as u64;
                let Some(seg) = self.shm.get_mut(id) else {
                    return SysResult::Err(errno::EINVAL);
                };
                // Marked: it goes once no attach is left (now, if none is).
                seg.mode |= ipc::SHM_DEST;
                seg.key = ipc::IPC_PRIVATE;
                self.shm_reap(None);
                SysResult::Ret(0)
            }
            _ => SysResult::Err(errno::EINVAL),
        }
    }

    /// Removes every segment marked for removal that has no attach left in the live
    /// address spaces but `except` (one being dropped), with its file. The kernel calls
    /// it after every unmapping ([`Kernel::release_unmapped`]).
    pub(super) fn shm_reap(&mut self, except: Option<SpaceId>) {
        if self.shm.is_empty() {
            return;
        }
        let gone: Vec<(u64, u64)> = self
            .shm
            .segs
            .iter()
            .filter(|(_, s)| s.mode & ipc::SHM_DEST != 0)
            .filter(|(_, s)| self.shm_nattch(s.ino, except) == 0)
            .map(|(&i, s)| (s.seq * ipc::IPCMNI + i, s.ino))
            .collect();
        for (id, ino) in gone {
            self.shm.remove(id);
            self.shm_let_go(ino);
        }
    }

    /// `pid` unmapped (a part of) mappings of the files `inos` (`munmap`, and what unmaps
    /// through it: `shmdt`, `MAP_FIXED`, a shrinking `mremap`): each segment among them
    /// shows the detach time and `pid`, as Linux's `shm_close` of a removed area does.
    pub(super) fn shm_unmapped(&mut self, hw: &mut dyn Hw, pid: Pid, inos: &[u64]) {
        if self.shm.is_empty() || inos.is_empty() {
            return;
        }
        let (now, tgid) = (self.shm_now(hw), self.tgid_of(pid));
        for seg in self.shm.segs.values_mut() {
            if inos.contains(&seg.ino) {
                seg.dtime = now;
                seg.lpid = tgid;
            }
        }
    }

    /// After `fork` copied `parent`'s areas to `child`: the child's copies of attaches are
    /// attaches too (counted from its areas); each segment it maps shows the attach time
    /// and the parent's pid (its thread group's), as Linux's `shm_open` in the parent's
    /// `fork` does. A thread, which shares the space, copies nothing.
    pub(super) fn shm_forked(&mut self, hw: &mut dyn Hw, parent: Pid, child: Pid) {
        let same = |k: &Kernel| {
            let space = |p| k.index(p).map(|i| k.procs[i].space);
            space(parent) == space(child)
        };
        // (A thread shares the space: no attach is copied.)
        if self.shm.is_empty() || same(self) {
            return;
        }
        let Some(mm) = self.address_space(child) else {
            return;
        };
        let mapped: BTreeSet<u64> = mm
            .areas
            .iter()
            .filter_map(|a| match a.kind {
                AreaKind::Mapped { ino, .. } => Some(ino),
                _ => None,
            })
            .collect();
        let (now, tgid) = (self.shm_now(hw), self.tgid_of(parent));
        for seg in self.shm.segs.values_mut() {
            if mapped.contains(&seg.ino) {
                seg.atime = now;
                seg.lpid = tgid;
            }
        }
    }

    /// `pid`'s address space goes (it ends, or execs): its attaches are detached (each
    /// segment it mapped shows the detach time and its pid), and segments marked for
    /// removal that no one else has attached go.
    pub(super) fn shm_space_gone(&mut self, hw: &mut dyn Hw, pid: Pid) {
        if self.shm.is_empty() {
            return;
        }
        let Some(i) = self.index(pid) else { return };
        let space = self.procs[i].space;
        let mapped: BTreeSet<u64> = self
            .spaces
            .get(&space)
            .map(|m| m.areas.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| match a.kind {
                AreaKind::Mapped { ino, .. } => Some(ino),
                _ => None,
            })
            .collect();
        let (now, tgid) = (self.shm_now(hw), self.tgid_of(pid));
        for seg in self.shm.segs.values_mut() {
            if mapped.contains(&seg.ino) {
                seg.dtime = now;
                seg.lpid = tgid;
            }
        }
        self.shm_reap(Some(space));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max: 1 << 20,
        min: 1,
        mni: 3,
        all: 64,
        page: 4096,
    };

    fn seg(key: i32, size: u64, mode: u32) -> Segment {
        Segment {
            key,
            seq: 0,
            mode,
            uid: 1000,
            gid: 1000,
            size,
            ino: 100 + size,
            cpid: 1,
            lpid: 0,
            atime: 0,
            dtime: 0,
            ctime: 0,
        }
    }

    /// A table holding a segment of key 7 (8 KiB, mode 0600) and one of key 9 (4 KiB,
    /// read-only for its owner).
    fn table() -> ShmTable {
        let mut t = ShmTable::default();
        t.add(seg(7, 8192, 0o600), LIM.mni).unwrap();
        t.add(seg(9, 4096, 0o400), LIM.mni).unwrap();
        t
    }

    fn check(t: &ShmTable, key: i32, size: u64, flag: u32, want: Result<Got, u64>) {
        assert_eq!(
            t.lookup(key, size, flag, &LIM),
            want,
            "shmget({key}, {size}, {flag:#o})"
        );
    }

    #[test]
    fn shmget_decides_as_linux_does() {
        use ipc::*;
        let t = table();
        let c = IPC_CREAT;
        let x = IPC_CREAT | IPC_EXCL;
        for (key, size, flag, want) in [
            (7, 8192, 0o600, Ok(Got::Existing(0))),
            (7, 100, 0, Ok(Got::Existing(0))),
            (7, 8193, 0o600, Err(errno::EINVAL)),
            (7, 8192, x | 0o600, Err(Errno::EEXIST.get())),
            // The key's segment is found even with IPC_CREAT.
            (7, 8192, c | 0o600, Ok(Got::Existing(0))),
            // Asking to write a segment its owner may only read.
            (9, 4096, 0o600, Err(errno::EACCES)),
            (9, 4096, 0o400, Ok(Got::Existing(1))),
            (5, 4096, 0o600, Err(errno::ENOENT)),
            (5, 4096, c | 0o600, Ok(Got::New)),
            (IPC_PRIVATE, 4096, 0, Ok(Got::New)),
            (IPC_PRIVATE, 0, c, Err(errno::EINVAL)),
            (IPC_PRIVATE, (1 << 20) + 1, c, Err(errno::EINVAL)),
            (IPC_PRIVATE, u64::MAX, c, Err(errno::EINVAL)),
            // 3 pages are held; 61 more fit SHMALL = 64, 62 do not.
            (IPC_PRIVATE, 61 * 4096, c, Ok(Got::New)),
            (IPC_PRIVATE, 61 * 4096 + 1, c, Err(Errno::ENOSPC.get())),
        ] {
            check(&t, key, size, flag, want);
        }
        // SHMMNI = 3: a third fits, a fourth does not.
        let mut t = table();
        t.add(seg(0, 4096, 0o600), LIM.mni).unwrap();
        check(&t, 0, 4096, IPC_CREAT, Err(Errno::ENOSPC.get()));
        check(&t, 7, 4096, 0, Ok(Got::Existing(0)));
    }

    #[test]
    fn ids_are_index_plus_seq_times_32768_given_cyclically() {
        let mut t = ShmTable::default();
        let ids: Vec<u64> = (0..3)
            .map(|_| t.add(seg(0, 4096, 0o600), 3).unwrap())
            .collect();
        assert_eq!(ids, [0, 1, 2]);
        assert_eq!(t.add(seg(0, 4096, 0o600), 3), Err(Errno::ENOSPC.get()));
        assert!(t.remove(1).is_some());
        // The removed id is gone; its index comes back with the next seq.
        assert_eq!(t.get(1), None);
        assert_eq!(t.add(seg(0, 4096, 0o600), 3), Ok(32_768 + 1));
        assert_eq!(t.get(1), None, "an old id does not find the new segment");
        assert!(t.get(32_769).is_some());
        assert!(t.remove(0).is_some());
        assert_eq!(t.add(seg(0, 4096, 0o600), 3), Ok(2 * 32_768));
        assert_eq!(t.max_idx(), 2);
    }

    #[test]
    fn shmid_ds_has_the_riscv64_layout() {
        let mut s = seg(0x1234, 65536, 0o600 | ipc::SHM_DEST);
        s.seq = 3;
        s.cpid = 5;
        s.lpid = 6;
        s.atime = 11;
        s.dtime = 12;
        s.ctime = 13;
        let b = shmid_ds(&s, 2);
        let word = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let half = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        for (what, got, want) in [
            ("key", u64::from(half(0)), 0x1234),
            ("uid", u64::from(half(4)), 1000),
            ("cgid", u64::from(half(16)), 1000),
            ("mode", u64::from(half(20)), 0o1600),
            ("seq", u64::from(half(24)), 3),
            ("segsz", word(48), 65536),
            ("atime", word(56), 11),
            ("dtime", word(64), 12),
            ("ctime", word(72), 13),
            ("cpid", u64::from(half(80)), 5),
            ("lpid", u64::from(half(84)), 6),
            ("nattch", word(88), 2),
            ("unused", word(96) | word(104), 0),
        ] {
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn owner_permission_bits_decide() {
        for (mode, flag, want) in [
            (0o600, 0o600, false),
            (0o600, 0o444, false),
            (0o400, 0o666, true),
            (0o400, 0o444, false),
            (0o000, 0o444, true),
            (0o066, 0o444, true),
            (0o600, 0, false),
            (0o600, 0o111, true),
        ] {
            assert_eq!(denied(mode, flag), want, "mode {mode:o} flag {flag:o}");
        }
    }
}
