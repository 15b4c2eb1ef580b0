//! The disk's data: the in-memory image, image files, and the atomic flush.

use std::path::PathBuf;
use vmlab_devices::disk::{Disk, DiskConfig, DiskError, SsdConfig};

fn cfg(image: Option<PathBuf>) -> DiskConfig {
    DiskConfig {
        block_size: 512,
        ssd: Some(SsdConfig {
            blocks: 16,
            ..SsdConfig::default()
        }),
        image,
        ..DiskConfig::default()
    }
}

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("disk-storage")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn memory_image_starts_zeroed_and_keeps_writes() {
    let mut d = Disk::new(cfg(None)).unwrap();
    let mut buf = vec![0xffu8; 1024];
    d.read_blocks(3, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    let data: Vec<u8> = (0..1024).map(|i| (i % 251) as u8).collect();
    d.write_blocks(14, &data).unwrap();
    let mut back = vec![0u8; 1024];
    d.read_blocks(14, &mut back).unwrap();
    assert_eq!(back, data);
    // Reading across written and unwritten blocks.
    let mut mixed = vec![1u8; 1024];
    d.read_blocks(13, &mut mixed).unwrap();
    assert!(mixed[..512].iter().all(|&b| b == 0));
    assert_eq!(&mixed[512..], &data[..512]);
    // Nothing to flush without a file.
    assert_eq!(d.dirty_blocks(), 0);
    d.flush().unwrap();
}

#[test]
fn bad_buffers_and_ranges() {
    let mut d = Disk::new(cfg(None)).unwrap();
    let mut odd = vec![0u8; 100];
    assert_eq!(
        d.read_blocks(0, &mut odd),
        Err(DiskError::Buffer {
            len: 100,
            block_size: 512
        })
    );
    assert!(d.write_blocks(0, &[]).is_err());
    let two = vec![0u8; 1024];
    let e = d.write_blocks(15, &two).unwrap_err();
    assert_eq!(
        e.to_string(),
        "blocks 15..16 are beyond the last block 15 (the disk has 16 blocks, 0..15)"
    );
    let mut big = vec![0u8; 512];
    assert!(d.read_blocks(u64::MAX, &mut big).is_err());
}

#[test]
fn image_file_changes_only_on_flush() {
    let d = dir("flush");
    let path = d.join("disk.img");
    // A 3-block image (shorter than the 16-block disk: the rest reads as zeros).
    let original: Vec<u8> = (0..1536).map(|i| (i / 512 + 1) as u8).collect();
    std::fs::write(&path, &original).unwrap();
    let mut disk = Disk::new(cfg(Some(path.clone()))).unwrap();
    assert_eq!(disk.image(), Some(path.as_path()));
    let mut b = vec![0u8; 512];
    disk.read_blocks(1, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 2));
    disk.read_blocks(9, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 0));

    disk.write_blocks(0, &[7u8; 512]).unwrap();
    disk.write_blocks(5, &[9u8; 512]).unwrap();
    assert_eq!(disk.dirty_blocks(), 2);
    // The model sees the writes; the file does not yet.
    disk.read_blocks(0, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 7));
    assert_eq!(std::fs::read(&path).unwrap(), original);

    disk.flush().unwrap();
    assert_eq!(disk.dirty_blocks(), 0);
    let now = std::fs::read(&path).unwrap();
    assert_eq!(now.len(), 6 * 512);
    assert!(now[..512].iter().all(|&x| x == 7));
    assert_eq!(&now[512..1536], &original[512..]);
    assert!(now[1536..2560].iter().all(|&x| x == 0));
    assert!(now[2560..].iter().all(|&x| x == 9));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["disk.img".to_string()]);

    // A disk opened afterwards sees the flushed data.
    let mut again = Disk::new(cfg(Some(path.clone()))).unwrap();
    again.read_blocks(5, &mut b).unwrap();
    assert!(b.iter().all(|&x| x == 9));
}

#[test]
fn dropping_without_flush_leaves_the_image_alone() {
    let d = dir("drop");
    let path = d.join("disk.img");
    std::fs::write(&path, [1u8; 512]).unwrap();
    {
        let mut disk = Disk::new(cfg(Some(path.clone()))).unwrap();
        disk.write_blocks(0, &[2u8; 512]).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), vec![1u8; 512]);
}

#[test]
fn image_errors() {
    let d = dir("errors");
    let e = Disk::new(cfg(Some(d.join("missing.img")))).unwrap_err();
    assert!(
        matches!(&e, DiskError::Image { message, .. } if message.starts_with("cannot open")),
        "{e}"
    );
    let big = d.join("big.img");
    std::fs::write(&big, vec![0u8; 17 * 512]).unwrap();
    let e = Disk::new(cfg(Some(big))).unwrap_err().to_string();
    assert!(
        e.contains(
            "the image is 8704 bytes, larger than the disk (16 blocks of 512 bytes = 8192 bytes)"
        ),
        "{e}"
    );
}
