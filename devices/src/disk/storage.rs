//! The disk's data: an in-memory image of zeros by default, or an image file.
//!
//! Blocks that were written live in memory (a sparse map, so a large disk costs nothing until
//! it is used). With an image file, blocks never written are read from the file, and writes
//! reach the file only on [`Storage::flush`], which copies the image to a temporary file
//! beside it, applies the writes there, syncs it, and renames it over the original: a crash
//! at any moment leaves either the old image or the new one, never a mixture.

use super::DiskError;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug)]
struct Image {
    path: PathBuf,
    file: File,
    len: u64,
}

/// The bytes of the disk.
#[derive(Debug)]
pub(crate) struct Storage {
    block_size: u64,
    blocks: u64,
    written: BTreeMap<u64, Box<[u8]>>,
    dirty: BTreeSet<u64>,
    image: Option<Image>,
}

fn image_err(path: &Path, message: impl Into<String>) -> DiskError {
    DiskError::Image {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl Storage {
    pub(crate) fn memory(block_size: u64, blocks: u64) -> Storage {
        Storage {
            block_size,
            blocks,
            written: BTreeMap::new(),
            dirty: BTreeSet::new(),
            image: None,
        }
    }

    pub(crate) fn open(path: &Path, block_size: u64, blocks: u64) -> Result<Storage, DiskError> {
        let file = File::open(path).map_err(|e| image_err(path, format!("cannot open: {e}")))?;
        let len = file
            .metadata()
            .map_err(|e| image_err(path, format!("cannot read its size: {e}")))?
            .len();
        let cap = block_size.saturating_mul(blocks);
        if len > cap {
            return Err(image_err(
                path,
                format!(
                    "the image is {len} bytes, larger than the disk ({blocks} blocks of {block_size} bytes = {cap} bytes)"
                ),
            ));
        }
        Ok(Storage {
            image: Some(Image {
                path: path.to_path_buf(),
                file,
                len,
            }),
            ..Storage::memory(block_size, blocks)
        })
    }

    pub(crate) fn image_path(&self) -> Option<&Path> {
        self.image.as_ref().map(|i| i.path.as_path())
    }

    pub(crate) fn dirty_blocks(&self) -> usize {
        self.dirty.len()
    }

    fn check(&self, block: u64, len: usize) -> Result<u64, DiskError> {
        let bs = self.block_size;
        if !(len as u64).is_multiple_of(bs) || len == 0 {
            return Err(DiskError::Buffer {
                len: len as u64,
                block_size: bs,
            });
        }
        let count = len as u64 / bs;
        if block.checked_add(count).is_none_or(|end| end > self.blocks) {
            return Err(DiskError::OutOfRange {
                id: None,
                block,
                count,
                blocks: self.blocks,
            });
        }
        Ok(count)
    }

    pub(crate) fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.check(block, buf.len())?;
        let bs = self.block_size as usize;
        for (i, chunk) in buf.chunks_mut(bs).enumerate() {
            let b = block + i as u64;
            if let Some(data) = self.written.get(&b) {
                chunk.copy_from_slice(data);
                continue;
            }
            chunk.fill(0);
            if let Some(img) = &mut self.image {
                let off = b * self.block_size;
                if off < img.len {
                    let n = (img.len - off).min(self.block_size) as usize;
                    img.file
                        .seek(SeekFrom::Start(off))
                        .and_then(|_| img.file.read_exact(&mut chunk[..n]))
                        .map_err(|e| image_err(&img.path, format!("cannot read block {b}: {e}")))?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), DiskError> {
        self.check(block, buf.len())?;
        let bs = self.block_size as usize;
        for (i, chunk) in buf.chunks(bs).enumerate() {
            let b = block + i as u64;
            self.written.insert(b, chunk.into());
            if self.image.is_some() {
                self.dirty.insert(b);
            }
        }
        Ok(())
    }

    /// Writes the dirty blocks to the image file, atomically (temporary file, sync, rename).
    pub(crate) fn flush(&mut self) -> Result<(), DiskError> {
        let Some(img) = &mut self.image else {
            return Ok(());
        };
        if self.dirty.is_empty() {
            return Ok(());
        }
        let name = img
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "disk".into());
        let tmp = img
            .path
            .with_file_name(format!(".{name}.vmlab-{}.tmp", std::process::id()));
        let result = (|| -> std::io::Result<(File, u64)> {
            std::fs::copy(&img.path, &tmp)?;
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&tmp)?;
            for b in &self.dirty {
                let data = &self.written[b];
                f.seek(SeekFrom::Start(b * self.block_size))?;
                f.write_all(data)?;
            }
            f.sync_all()?;
            let len = f.metadata()?.len();
            std::fs::rename(&tmp, &img.path)?;
            Ok((f, len))
        })();
        match result {
            Ok((f, len)) => {
                img.file = f;
                img.len = len;
                self.dirty.clear();
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(image_err(
                    &img.path,
                    format!("cannot write the image (it is unchanged): {e}"),
                ))
            }
        }
    }
}
