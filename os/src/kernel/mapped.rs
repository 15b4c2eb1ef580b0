//! Mappings of the guest's files (`mmap` of a descriptor of the guest file system): their
//! pages come through the page cache.
//!
//! A fault on such a page that the scheme cannot serve itself (the page has no frame, no
//! swap slot and no transfer under way) comes here: the file page is brought into the page
//! cache (the process blocks while it is read; its access then faults again and finds it
//! cached), and then
//!
//! - a **shared** mapping maps the cached page itself ([`Scheme::map_cached`]): every
//!   process that maps the file, and every `read` and `write` of it, sees the same bytes.
//!   The cache keeps the reverse map; a store marks the cached page dirty (the page is
//!   mapped clean until the first store faults, as after every write-back), and the page
//!   goes back to the file through the cache's write-back (`msync`, `fsync`, eviction, the
//!   end of the run);
//! - a **private** mapping gets a frame of its own holding a copy of the cached page
//!   ([`Scheme::copy_cached`]), which is an ordinary process page from then on (swapped
//!   when dirty and evicted, copied again from the cache when clean and evicted). Linux
//!   maps the cached page read-only until the first store; vmlab copies at the first
//!   touch, which costs a frame per page a process touches (`os.cost.copy_page` each).
//!
//! The fault counts as minor when the page was cached and major when the process waited
//! for the disk, in the `file` area of `faults.by_area`. A mapped file stays alive while any
//! address space maps it, even after its last descriptor is closed and its name removed.

use super::files::{o, Need};
use super::{errno, Kernel, SysResult};
use crate::fs::{Device, Kind};
use crate::hw::Hw;
use crate::paging::Outcome;
use crate::process::{Access, AreaKind, Kill, OpenFile, Pid};
use crate::wait::WaitOn;

/// What an `mmap` of a descriptor maps.
pub(super) enum MapTarget {
    /// Zeros (`/dev/zero`): an anonymous mapping.
    Anonymous,
    /// A file of the guest file system, by inode.
    Guest(u64),
}

impl Kernel {
    /// What `mmap` of `file` with `prot` maps, or the errno: `EACCES` for a descriptor not
    /// open for reading (or, for a shared writable mapping, not for writing too), `ENODEV`
    /// for what cannot be mapped (a directory, `/dev/null`, the console), `EBADF` for an
    /// `O_PATH` descriptor.
    pub(super) fn map_target(
        &self,
        file: OpenFile,
        prot: u64,
        shared: bool,
    ) -> Result<MapTarget, u64> {
        let id = match file {
            OpenFile::Console(_) | OpenFile::Pipe(_) => return Err(errno::ENODEV),
            OpenFile::Desc(id) => id,
        };
        let d = self.descs.get(&id).ok_or(errno::EBADF)?;
        if d.flags & o::PATH != 0 {
            return Err(errno::EBADF);
        }
        let acc = d.flags & o::ACCMODE;
        if acc == o::WRONLY || (shared && prot & 2 != 0 && acc != o::RDWR) {
            return Err(errno::EACCES);
        }
        let fs = self.fs.as_ref().ok_or(errno::EBADF)?;
        match fs.vfs.kind(d.ino) {
            Ok(Kind::File) => Ok(MapTarget::Guest(d.ino)),
            Ok(Kind::Device(Device::Zero)) => Ok(MapTarget::Anonymous),
            _ => Err(errno::ENODEV),
        }
    }

    /// Serves a fault of `pid` at `va` in a mapping of a guest file, if it is one the
    /// scheme cannot serve alone; `None` leaves it to the scheme.
    pub(super) fn file_fault(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        va: u64,
        access: Access,
        epc: u64,
    ) -> Option<Outcome> {
        let area = self.address_space(pid)?.area(va)?.clone();
        let AreaKind::Mapped {
            ino,
            offset,
            shared,
        } = area.kind
        else {
            return None;
        };
        if !access.allowed_by(area.perm) {
            // The scheme reports the permission fault.
            return None;
        }
        let page = self.mem.page_size()?;
        let vpn = va / page;
        let index = (va - area.start + offset) / page;
        let key = (ino, index);
        let store = access == Access::Store;
        if !self.mem.needs_file_page(pid, va) {
            // Resident (the scheme maps it again with A or D set), or in transfer. A
            // store to a shared page is a store to the cached page.
            if shared && store {
                if let Some(fs) = self.fs.as_mut() {
                    fs.cache.set_dirty(key);
                }
            }
            return None;
        }
        let size = self
            .fs
            .as_ref()
            .and_then(|f| f.vfs.size(ino).ok())
            .unwrap_or(0);
        if index.saturating_mul(page) >= size {
            self.file_waits.remove(&(pid, vpn));
            return Some(Outcome::Kill(Kill {
                addr: va,
                pc: epc,
                access: Some(access),
                cause: "beyond-eof",
                scheme: self.cfg.scheme.name(),
                detail: format!(
                    "the page is page {index} of a file mapping, and the file has {size} bytes (a mapping's pages past the file's end are not there: SIGBUS)"
                ),
            }));
        }
        let frame = match self.cache_page(hw, pid, ino, index, true) {
            Ok(f) => f,
            Err(Need::Wait) => {
                // Blocked already; the access faults again once the page is cached (and
                // no other fault reclaims it meanwhile).
                self.file_waits.insert((pid, vpn));
                if let Some(fs) = self.fs.as_mut() {
                    fs.cache.want(key, pid);
                }
                return Some(Outcome::Block);
            }
            Err(Need::Fail(e)) => {
                self.file_waits.remove(&(pid, vpn));
                return Some(Outcome::Kill(Kill {
                    addr: va,
                    pc: epc,
                    access: Some(access),
                    cause: "io-error",
                    scheme: self.cfg.scheme.name(),
                    detail: format!(
                        "page {index} of the mapped file could not be read (errno {e})"
                    ),
                }));
            }
        };
        // (cache_page pinned it: a frame the scheme needs while it maps or copies the page,
        // a page table or the private copy, may come from the cache, but not this page's.)
        let (mem, mut cx) = self.split(hw);
        let out = if shared {
            mem.map_cached(&mut cx, pid, va, frame, store)
        } else {
            mem.copy_cached(&mut cx, pid, va, frame, access)
        };
        self.unpin_cache();
        if let Some(fs) = self.fs.as_mut() {
            if out == Outcome::Resume {
                fs.cache.got(Some(key), pid);
            }
        }
        if out == Outcome::Resume {
            let major = self.file_waits.remove(&(pid, vpn));
            let (_, mut cx) = self.split(hw);
            if let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) {
                cx.fault(pi, pid, va, access, if major { "major" } else { "minor" });
            }
            if shared {
                if let Some(fs) = self.fs.as_mut() {
                    fs.cache.map(key, pid, vpn);
                    if store {
                        fs.cache.set_dirty(key);
                    }
                }
            }
        }
        Some(out)
    }

    /// Unmaps cached pages from the process pages `mappers` (the cache forgot them
    /// already); true if any had been stored to.
    pub(super) fn drop_mappers(&mut self, hw: &mut dyn Hw, mappers: Vec<(Pid, u64)>) -> bool {
        let mut dirty = false;
        let (mem, mut cx) = self.split(hw);
        for (pid, vpn) in mappers {
            dirty |= mem.drop_cached(&mut cx, pid, vpn).unwrap_or(false);
        }
        dirty
    }

    /// Unmaps the cached pages `pid` maps in `[start, end)` (before `munmap`, `madvise`,
    /// `mremap` or the end of the process let the scheme free the range): stores to them
    /// stay in the cache as dirty pages.
    pub(super) fn unmap_cached(&mut self, hw: &mut dyn Hw, pid: Pid, start: u64, end: u64) {
        let Some(page) = self.mem.page_size() else {
            return;
        };
        let Some(fs) = self.fs.as_mut() else { return };
        let pages = fs.cache.mapped_by(pid, start / page, end.div_ceil(page));
        for (key, vpn) in pages {
            let dirty = {
                let (mem, mut cx) = self.split(hw);
                mem.drop_cached(&mut cx, pid, vpn).unwrap_or(false)
            };
            if let Some(fs) = self.fs.as_mut() {
                fs.cache.unmap(key, pid, vpn);
                if dirty {
                    fs.cache.set_dirty(key);
                }
            }
        }
    }

    /// A new mapping of file `ino`: the file stays alive while it is mapped.
    pub(super) fn hold_mapped(&mut self, ino: u64) {
        if self.mapped_inos.insert(ino) {
            if let Some(fs) = self.fs.as_mut() {
                let _ = fs.vfs.open(ino);
            }
        }
    }

    /// After mappings went (`munmap`, a process's end): a file no address space maps any
    /// more is let go (and forgotten, with its cached pages, if it has no name and no
    /// descriptor left).
    pub(super) fn release_unmapped(&mut self) {
        let live: std::collections::BTreeSet<_> = self
            .procs
            .iter()
            .filter(|p| !p.state.ended())
            .map(|p| p.space)
            .collect();
        let still: std::collections::BTreeSet<u64> = self
            .spaces
            .iter()
            .filter(|(id, _)| live.contains(id))
            .flat_map(|(_, m)| m.areas.iter())
            .filter_map(|a| match a.kind {
                AreaKind::Mapped { ino, .. } => Some(ino),
                _ => None,
            })
            .collect();
        // (A System V segment marked for removal goes with its last attach.)
        self.shm_reap(None);
        let gone: Vec<u64> = self.mapped_inos.difference(&still).copied().collect();
        for ino in gone {
            self.mapped_inos.remove(&ino);
            if let Some(fs) = self.fs.as_mut() {
                let _ = fs.vfs.close(ino);
                fs.forget_if_gone(Some(ino));
            }
        }
    }

    /// `msync` of `[start, end)` of `pid`: the dirty cached pages its shared mappings of
    /// guest files map there go back to their files. `Some(Restart)` if the process must
    /// wait (it is blocked on the first file still being written), `Some(-EIO)` if a
    /// write-back of one of the files failed since the last report, `None` when done.
    pub(super) fn sync_mapped(
        &mut self,
        hw: &mut dyn Hw,
        pid: Pid,
        start: u64,
        end: u64,
    ) -> Option<SysResult> {
        let inos: Vec<u64> = self
            .address_space(pid)
            .map(|m| m.areas.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|a| a.start < end && start < a.end)
            .filter_map(|a| match a.kind {
                AreaKind::Mapped {
                    ino, shared: true, ..
                } => Some(ino),
                _ => None,
            })
            .collect();
        // A write-back that failed since the last report (this call's own, when it runs
        // again after its wait) is reported once per file.
        let mut failed = false;
        if let Some(fs) = self.fs.as_mut() {
            for &ino in &inos {
                failed |= fs.cache.take_error(ino);
            }
        }
        if failed {
            return Some(SysResult::Err(errno::EIO));
        }
        for &ino in &inos {
            self.flush_cache(hw, pid, Some(ino));
        }
        let writing = inos
            .iter()
            .find(|&&ino| self.fs.as_ref().is_some_and(|f| f.cache.writing(ino)));
        match writing {
            Some(&ino) => {
                self.waits.wait(pid, WaitOn::FileSync { ino });
                self.block(hw, pid);
                Some(SysResult::Restart)
            }
            None => None,
        }
    }
}
