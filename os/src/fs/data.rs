//! File content on the disk: the page map of each regular file, the region's free pages,
//! sizes, open counts, and reading a host file's content the first time it is needed.

use std::collections::BTreeMap;

use super::{Body, Errno, File, Ino, Vfs, FIXED_TIME_NS, ROOT_INO};

/// The largest file size (Linux's `MAX_LFS_FILESIZE` on 64-bit).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

impl Vfs {
    /// Records that the kernel holds `ino` (an open file description, a working
    /// directory): it is kept, with its disk pages, after its last name goes, until the
    /// matching [`Vfs::close`].
    pub fn open(&mut self, ino: Ino) -> Result<(), Errno> {
        let n = self.node_mut(ino)?;
        n.opens = n.opens.checked_add(1).ok_or(Errno::ENOMEM)?;
        Ok(())
    }

    /// Drops one hold taken by [`Vfs::open`] (`EBADF` if there is none). A file with no
    /// name and no hold left is freed with its disk pages.
    pub fn close(&mut self, ino: Ino) -> Result<(), Errno> {
        let n = self.node_mut(ino).map_err(|_| Errno::EBADF)?;
        if n.opens == 0 {
            return Err(Errno::EBADF);
        }
        n.opens -= 1;
        self.release_if_unused(ino);
        Ok(())
    }

    /// How many holds the kernel has on `ino` (0 for an inode that is gone).
    pub fn opens(&self, ino: Ino) -> u32 {
        self.node(ino).map_or(0, |n| n.opens)
    }

    /// Whether `ino` still exists (it has a name, or is held open).
    pub fn exists(&self, ino: Ino) -> bool {
        self.node(ino).is_ok()
    }

    /// Frees `ino` and its pages if it has no name and no hold.
    pub(super) fn release_if_unused(&mut self, ino: Ino) {
        let unused = self.node(ino).is_ok_and(|n| n.nlink == 0 && n.opens == 0);
        if !unused {
            return;
        }
        let Some(node) = usize::try_from(ino)
            .ok()
            .and_then(|i| self.nodes.get_mut(i))
            .and_then(Option::take)
        else {
            return;
        };
        if let Body::File(f) = node.body {
            for block in f.pages.into_values() {
                self.free_page(block);
            }
        }
    }

    /// Pages of the file-data region not in use.
    pub fn free_pages(&self) -> u64 {
        self.region.pages - self.region.fresh + self.region.free.len() as u64
    }

    /// Takes a free page of the region, lowest first; its first block.
    fn alloc_page(&mut self) -> Result<u64, Errno> {
        let r = &mut self.region;
        let page = match r.free.pop_first() {
            Some(p) => p,
            None if r.fresh < r.pages => {
                r.fresh += 1;
                r.fresh - 1
            }
            None => return Err(Errno::ENOSPC),
        };
        Ok(r.first_block + page * r.blocks_per_page)
    }

    /// Gives back the page that begins at `block`.
    fn free_page(&mut self, block: u64) {
        let r = &mut self.region;
        let page = (block - r.first_block) / r.blocks_per_page;
        r.free.insert(page);
    }

    /// Whether regular file `ino` still has its content on the host: the kernel calls
    /// [`Vfs::materialize`] before any other use of its content.
    pub fn needs_content(&self, ino: Ino) -> bool {
        matches!(&self.node(ino).map(|n| &n.body), Ok(Body::File(f)) if f.host.is_some())
    }

    /// The first disk block of page `index` of regular file `ino`, or `None` for a page
    /// that is a hole or past the end (it reads as zeros).
    ///
    /// With `allocate` (the kernel is about to write the page; ask so for every write, also
    /// to a page already there) a missing page is given blocks from the region (`ENOSPC`
    /// when it is full; the new page's content is the kernel's to write, zeros at least)
    /// and the file is marked as changed. Errors: `EISDIR` for a directory, `EINVAL` for
    /// another non-file, `EROFS` to allocate on a read-only mount, `EFBIG` for a page past
    /// [`MAX_FILE_SIZE`], `EIO` if the content has not been read from the host yet
    /// ([`Vfs::needs_content`]).
    pub fn page_block(
        &mut self,
        ino: Ino,
        index: u64,
        allocate: bool,
    ) -> Result<Option<u64>, Errno> {
        let page = self.page_size;
        if index > MAX_FILE_SIZE / page {
            return Err(Errno::EFBIG);
        }
        let read_only = self.read_only(ino);
        let n = self.node(ino)?;
        let f = match &n.body {
            Body::File(f) => f,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        if f.host.is_some() {
            return Err(Errno::EIO);
        }
        let existing = f.pages.get(&index).copied();
        if !allocate {
            return Ok(existing);
        }
        if read_only {
            return Err(Errno::EROFS);
        }
        let block = match existing {
            Some(b) => b,
            None => self.alloc_page()?,
        };
        if let Ok(Body::File(f)) = self.node_mut(ino).map(|n| &mut n.body) {
            f.pages.insert(index, block);
            f.dirty = true;
        }
        Ok(Some(block))
    }

    /// The pages of regular file `ino` that have disk blocks: `(index, first block)`, in
    /// order.
    pub fn pages(&self, ino: Ino) -> Result<Vec<(u64, u64)>, Errno> {
        match &self.node(ino)?.body {
            Body::File(f) => Ok(f.pages.iter().map(|(&i, &b)| (i, b)).collect()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The size of `ino` in bytes (as [`Vfs::stat`] gives it).
    pub fn size(&self, ino: Ino) -> Result<u64, Errno> {
        Ok(self.stat(ino)?.size)
    }

    /// Sets the size of regular file `ino` (`truncate`, `ftruncate`, and a write past the
    /// end), at `now_ns`. Pages wholly past the new end are freed; the kernel drops them
    /// from its cache and zeroes the rest of the last page past the end, so that the file
    /// reads as zeros there if it grows again. Errors: `EISDIR`, `EINVAL` (not a regular
    /// file), `EFBIG` (over [`MAX_FILE_SIZE`]), `EROFS`, `EIO` for a host file whose
    /// content has not been read yet, unless the new size is 0.
    pub fn set_size(&mut self, ino: Ino, size: u64, now_ns: u64) -> Result<(), Errno> {
        let page = self.page_size;
        let read_only = self.read_only(ino);
        match &self.node(ino)?.body {
            Body::File(_) => {}
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if size > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if read_only {
            return Err(Errno::EROFS);
        }
        if size != 0 && self.needs_content(ino) {
            return Err(Errno::EIO);
        }
        let keep = size.div_ceil(page);
        let mut freed = Vec::new();
        if let Ok(n) = self.node_mut(ino) {
            n.mtime = now_ns;
            n.ctime = now_ns;
            if let Body::File(f) = &mut n.body {
                f.host = None;
                freed = f.pages.split_off(&keep).into_values().collect();
                f.size = size;
                f.dirty = true;
            }
        }
        for block in freed {
            self.free_page(block);
        }
        Ok(())
    }

    /// Puts regular file `/name` with `data` as its content, as the kernel does at boot for
    /// `vmlab run --file NAME=PATH`. The root directory stays read-only (no name can be
    /// made, removed or renamed there), but the file's content is writable, as a file
    /// bind-mounted into a read-only root would be. Its pages get blocks of the region; returns the pages the kernel must
    /// put on the disk, as `(first block, one page of bytes)` (pages of zeros become
    /// holes). An error (the namespace is then unchanged) says why: not a plain name, a
    /// name that exists, no room in the region.
    pub fn add_file(&mut self, name: &str, data: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, String> {
        let page = self.page_size as usize;
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains('/')
            || name.contains('\0')
        {
            return Err(format!(
                "cannot make the file /{name}: not a plain file name"
            ));
        }
        if self
            .dir(ROOT_INO)
            .is_ok_and(|d| d.entries.contains_key(name.as_bytes()))
        {
            return Err(format!("cannot make the file /{name}: the name exists"));
        }
        let fs = self.node(ROOT_INO).map_or(0, |n| n.fs);
        let ino = self.add_node(fs, 0o644, Body::File(File::default()), FIXED_TIME_NS);
        if let Ok(n) = self.node_mut(ino) {
            n.writable = true;
        }
        let mut out = Vec::new();
        for (index, chunk) in data.chunks(page).enumerate() {
            if chunk.iter().all(|&b| b == 0) {
                continue;
            }
            match self.page_block(ino, index as u64, true) {
                Ok(Some(block)) => {
                    let mut bytes = chunk.to_vec();
                    bytes.resize(page, 0);
                    out.push((block, bytes));
                }
                _ => {
                    for (_, block) in self.pages(ino).unwrap_or_default() {
                        self.free_page(block);
                    }
                    self.nodes[ino as usize] = None;
                    return Err(format!(
                        "no room for /{name} ({} bytes) in the disk region for file data ({} pages): raise os.fs_blocks",
                        data.len(),
                        self.region.pages
                    ));
                }
            }
        }
        if let Ok(Body::File(f)) = self.node_mut(ino).map(|n| &mut n.body) {
            f.size = data.len() as u64;
        }
        self.attach(ROOT_INO, name.as_bytes(), ino);
        Ok(out)
    }

    /// Reads regular file `ino`'s content from its host file, the first time it is needed,
    /// and gives its pages blocks of the region: the pages the kernel must put on the disk,
    /// as `(first block, one page of bytes)`. Pages of zeros become holes and are not
    /// returned. After this, the host file is never read again; a second call, or a call
    /// for a file not from the host, returns nothing. An error says which file could not be
    /// read, changed size since it was mounted, or did not fit in the region (the file is
    /// then left as it was).
    pub fn materialize(&mut self, ino: Ino) -> Result<Vec<(u64, Vec<u8>)>, String> {
        let page = self.page_size as usize;
        let (path, size) = match self.node(ino).map(|n| &n.body) {
            Ok(Body::File(f)) => match &f.host {
                Some(p) => (p.clone(), f.size),
                None => return Ok(Vec::new()),
            },
            Ok(_) => return Err(format!("inode {ino} is not a regular file")),
            Err(_) => return Err(format!("there is no inode {ino}")),
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("cannot read host file {}: {e}", path.display()))?;
        if bytes.len() as u64 != size {
            return Err(format!(
                "host file {} changed size since it was mounted ({size} bytes then, {} now)",
                path.display(),
                bytes.len()
            ));
        }
        let mut out = Vec::new();
        let mut pages = BTreeMap::new();
        for (index, chunk) in bytes.chunks(page).enumerate() {
            if chunk.iter().all(|&b| b == 0) {
                continue;
            }
            let Ok(block) = self.alloc_page() else {
                for block in pages.into_values() {
                    self.free_page(block);
                }
                return Err(format!(
                    "no room for {} ({size} bytes) in the disk region for file data ({} pages)",
                    path.display(),
                    self.region.pages
                ));
            };
            let mut data = chunk.to_vec();
            data.resize(page, 0);
            out.push((block, data));
            pages.insert(index as u64, block);
        }
        if let Ok(Body::File(f)) = self.node_mut(ino).map(|n| &mut n.body) {
            f.pages = pages;
            f.host = None;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::config;
    use super::super::{CreateHow, Vfs, ROOT_INO};
    use super::*;

    const HOW: CreateHow = CreateHow {
        mode: 0o644,
        exclusive: true,
        follow: true,
    };

    /// A Vfs with a region of `pages` pages (4096 bytes, blocks of 512 from block 100) and
    /// a new file at `/tmp/f`.
    fn with_file(pages: u64) -> (Vfs, Ino) {
        let mut v = Vfs::new(config(pages)).unwrap();
        let f = v.create(ROOT_INO, b"/tmp/f", HOW, 0).unwrap().ino;
        (v, f)
    }

    #[test]
    fn pages_are_allocated_lowest_first_and_run_out() {
        let (mut v, f) = with_file(3);
        assert_eq!(v.free_pages(), 3);
        assert_eq!(v.page_block(f, 0, false), Ok(None));
        assert_eq!(v.page_block(f, 5, true), Ok(Some(100)));
        assert_eq!(v.page_block(f, 5, true), Ok(Some(100)), "already there");
        assert_eq!(v.page_block(f, 5, false), Ok(Some(100)));
        assert_eq!(v.page_block(f, 0, true), Ok(Some(108)));
        assert_eq!(v.page_block(f, 1, true), Ok(Some(116)));
        assert_eq!(v.page_block(f, 2, true), Err(Errno::ENOSPC));
        assert_eq!(v.page_block(f, 2, false), Ok(None));
        assert_eq!(v.free_pages(), 0);
        assert_eq!(v.pages(f), Ok(vec![(0, 108), (1, 116), (5, 100)]));
        // Blocks count what is allocated, the size what was set.
        v.set_size(f, 5 * 4096 + 1, 3).unwrap();
        let s = v.stat(f).unwrap();
        assert_eq!(
            (s.size, s.blocks, s.blksize, s.mtime_ns),
            (20481, 24, 4096, 3)
        );
        // Errors.
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        assert_eq!(v.page_block(tmp, 0, false), Err(Errno::EISDIR));
        assert_eq!(v.page_block(4, 0, false), Err(Errno::EINVAL));
        assert_eq!(v.page_block(999, 0, false), Err(Errno::ENOENT));
        assert_eq!(v.page_block(f, u64::MAX, false), Err(Errno::EFBIG));
        assert_eq!(v.page_block(f, MAX_FILE_SIZE / 4096, false), Ok(None));
    }

    #[test]
    fn set_size_frees_pages_past_the_end() {
        let (mut v, f) = with_file(8);
        for i in 0..4 {
            v.page_block(f, i, true).unwrap();
        }
        v.set_size(f, 4 * 4096, 0).unwrap();
        v.set_size(f, 4096 + 1, 0).unwrap();
        assert_eq!(v.pages(f), Ok(vec![(0, 100), (1, 108)]));
        assert_eq!(v.free_pages(), 6);
        // The freed pages are reused lowest first.
        let g = v.create(ROOT_INO, b"/tmp/g", HOW, 0).unwrap().ino;
        assert_eq!(v.page_block(g, 9, true), Ok(Some(116)));
        v.set_size(f, 4096, 0).unwrap();
        assert_eq!(v.pages(f), Ok(vec![(0, 100)]));
        v.set_size(f, 0, 0).unwrap();
        assert_eq!(v.pages(f), Ok(vec![]));
        assert_eq!(v.size(f), Ok(0));
        v.set_size(f, 1 << 40, 0).unwrap();
        assert_eq!((v.size(f), v.stat(f).unwrap().blocks), (Ok(1 << 40), 0));
        assert_eq!(v.set_size(f, MAX_FILE_SIZE + 1, 0), Err(Errno::EFBIG));
        let tmp = v.resolve(ROOT_INO, b"/tmp", true).unwrap();
        assert_eq!(v.set_size(tmp, 0, 0), Err(Errno::EISDIR));
        assert_eq!(v.set_size(4, 0, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn an_open_file_keeps_its_pages_after_unlink() {
        let (mut v, f) = with_file(4);
        v.page_block(f, 0, true).unwrap();
        v.page_block(f, 1, true).unwrap();
        v.open(f).unwrap();
        v.open(f).unwrap();
        v.unlink(ROOT_INO, b"/tmp/f", 0).unwrap();
        assert!(v.exists(f));
        assert_eq!(v.stat(f).unwrap().nlink, 0);
        assert_eq!(v.page_block(f, 2, true), Ok(Some(116)), "still writable");
        assert_eq!(v.free_pages(), 1);
        v.close(f).unwrap();
        assert_eq!((v.opens(f), v.free_pages()), (1, 1));
        v.close(f).unwrap();
        assert!(!v.exists(f));
        assert_eq!(v.free_pages(), 4);
        assert_eq!(v.close(f), Err(Errno::EBADF));
        assert_eq!(v.page_block(f, 0, false), Err(Errno::ENOENT));
        // A file replaced by rename goes the same way; one not open goes at once.
        let a = v.create(ROOT_INO, b"/tmp/a", HOW, 0).unwrap().ino;
        let b = v.create(ROOT_INO, b"/tmp/b", HOW, 0).unwrap().ino;
        v.page_block(b, 0, true).unwrap();
        v.open(b).unwrap();
        v.rename((ROOT_INO, b"/tmp/a"), (ROOT_INO, b"/tmp/b"), 0, 0)
            .unwrap();
        assert!(v.exists(b) && v.exists(a));
        assert_eq!(v.free_pages(), 3);
        v.close(b).unwrap();
        assert_eq!(v.free_pages(), 4);
        assert_eq!(v.close(a), Err(Errno::EBADF));
        v.page_block(a, 0, true).unwrap();
        v.unlink(ROOT_INO, b"/tmp/b", 0).unwrap();
        assert!(!v.exists(a));
        assert_eq!(v.free_pages(), 4);
    }

    #[test]
    fn devices_and_directories_have_no_pages() {
        let (mut v, _) = with_file(2);
        assert_eq!(v.pages(4), Err(Errno::EINVAL));
        assert!(!v.needs_content(4));
        assert_eq!(
            v.materialize(4),
            Err("inode 4 is not a regular file".into())
        );
        assert_eq!(v.materialize(999), Err("there is no inode 999".into()));
        assert_eq!(v.open(999), Err(Errno::ENOENT));
        assert_eq!(v.close(999), Err(Errno::EBADF));
    }

    #[test]
    fn a_file_added_at_boot_has_its_pages_and_holes() {
        let mut v = Vfs::new(config(4)).unwrap();
        let mut data = vec![b'a'; 4096];
        data.extend(vec![0u8; 4096]);
        data.extend(b"tail");
        let pages = v.add_file("data", &data).unwrap();
        // Page 1 is zeros: a hole, not on the disk.
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].0, 100);
        assert_eq!(pages[0].1, vec![b'a'; 4096]);
        assert_eq!(pages[1].0, 108);
        assert!(pages[1].1.starts_with(b"tail") && pages[1].1.len() == 4096);
        let f = v.resolve(ROOT_INO, b"data", true).unwrap();
        assert_eq!(v.size(f), Ok(8196));
        assert_eq!(v.pages(f), Ok(vec![(0, 100), (2, 108)]));
        // A name that exists, and a file too large for the region, are refused, and the
        // namespace stays as it was.
        assert!(v.add_file("data", b"x").unwrap_err().contains("exists"));
        assert!(v.add_file("a/b", b"x").unwrap_err().contains("plain"));
        assert!(v.add_file("tmp", b"x").unwrap_err().contains("exists"));
        let e = v.add_file("big", &vec![1u8; 4 * 4096]).unwrap_err();
        assert!(e.contains("no room"), "{e}");
        assert_eq!(v.resolve(ROOT_INO, b"big", true), Err(Errno::ENOENT));
        assert_eq!(v.free_pages(), 2);
        // The file's content is writable; the root directory is not.
        assert_eq!(v.page_block(f, 5, true), Ok(Some(116)));
        assert_eq!(v.unlink(ROOT_INO, b"/data", 0), Err(Errno::EROFS));
        let how = CreateHow {
            mode: 0o644,
            exclusive: true,
            follow: true,
        };
        assert_eq!(
            v.create(ROOT_INO, b"/new", how, 0).map(|c| c.ino),
            Err(Errno::EROFS)
        );
        v.check_invariants().unwrap();
    }
}
