//! A program image as the kernel loads it: the loadable segments of an ELF executable, with
//! their permissions, and where the program's memory ends.

use vmlab_cpu::elf::Elf;

/// Where vmlab's assembler links programs for the hosted machine (`.text` at this address;
/// page 0 stays unmapped so that a null pointer faults).
pub const HOSTED_TEXT_BASE: u64 = 0x1000;

/// How a hosted program is linked: for one flat address space, or for the segmentation
/// schemes' four segments (`crate::seg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Text at [`HOSTED_TEXT_BASE`], data on the next page.
    Flat,
    /// Text at 0 in segment 0, data at the start of segment 1.
    Segmented,
}

impl Layout {
    /// The layout the scheme's programs need.
    pub fn for_scheme(s: crate::config::SchemeKind) -> Layout {
        use crate::config::SchemeKind::*;
        match s {
            SimpleSegmentation | VmSegmentation => Layout::Segmented,
            _ => Layout::Flat,
        }
    }

    /// Where `.text` goes.
    pub fn text_base(self) -> u64 {
        match self {
            Layout::Flat => HOSTED_TEXT_BASE,
            Layout::Segmented => 0,
        }
    }

    /// Where the writable sections go (`None`: the page after the read-only ones).
    pub fn data_base(self) -> Option<u64> {
        match self {
            Layout::Flat => None,
            Layout::Segmented => Some(crate::seg::SEGMENT_SIZE),
        }
    }
}

/// Access permissions of a piece of memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Perm {
    /// Loads allowed.
    pub read: bool,
    /// Stores allowed.
    pub write: bool,
    /// Fetches allowed.
    pub exec: bool,
}

impl Perm {
    /// Read and execute (text).
    pub const RX: Perm = Perm {
        read: true,
        write: false,
        exec: true,
    };
    /// Read and write (data, heap, stack).
    pub const RW: Perm = Perm {
        read: true,
        write: true,
        exec: false,
    };
    /// Read only.
    pub const R: Perm = Perm {
        read: true,
        write: false,
        exec: false,
    };

    /// From `mmap`/`mprotect` PROT_ bits (1 read, 2 write, 4 exec). Write implies read, as
    /// Linux on RISC-V maps it: the hardware reserves a writable, unreadable PTE.
    pub fn from_prot(prot: u64) -> Perm {
        Perm {
            read: prot & 3 != 0,
            write: prot & 2 != 0,
            exec: prot & 4 != 0,
        }
    }

    /// `rwx` with dashes, as `ls` and `/proc/PID/maps` print it.
    pub fn text(self) -> String {
        format!(
            "{}{}{}",
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.exec { 'x' } else { '-' }
        )
    }
}

/// One loadable segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSegment {
    /// Its virtual address.
    pub vaddr: u64,
    /// The bytes the file gives (the rest of `mem_size` is zero: `.bss`).
    pub data: Vec<u8>,
    /// Its size in memory.
    pub mem_size: u64,
    /// Its permissions.
    pub perm: Perm,
}

impl ImageSegment {
    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.vaddr + self.mem_size
    }
}

/// A program the kernel can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// The name reports use (the file name).
    pub name: String,
    /// The entry point.
    pub entry: u64,
    /// The loadable segments in address order.
    pub segments: Vec<ImageSegment>,
    /// The program headers' address once loaded (`AT_PHDR`), if known.
    pub phdr: Option<u64>,
    /// How many program headers the ELF has (`AT_PHNUM`).
    pub phnum: u64,
    /// The arguments the process starts with, `argv[0]` first (default: the name).
    pub argv: Vec<Vec<u8>>,
    /// The environment it starts with, `NAME=value` strings (default: empty).
    pub envp: Vec<Vec<u8>>,
}

impl Image {
    /// The image of a parsed ELF executable, checked for what a user process needs: at least
    /// one segment, segments that do not overlap, an entry point inside an executable
    /// segment, and nothing at or above `limit` (the top of the user address space).
    pub fn from_elf(elf: &Elf, name: &str, limit: u64) -> Result<Image, String> {
        elf.require_static().map_err(|e| e.to_string())?;
        let mut segments: Vec<ImageSegment> = elf
            .segments
            .iter()
            .filter(|s| s.mem_size > 0)
            .map(|s| ImageSegment {
                vaddr: s.vaddr,
                data: s.data.clone(),
                mem_size: s.mem_size,
                perm: Perm {
                    read: s.flags.read,
                    write: s.flags.write,
                    exec: s.flags.execute,
                },
            })
            .collect();
        segments.sort_by_key(|s| s.vaddr);
        if segments.is_empty() {
            return Err(format!("{name}: the program has no loadable segment"));
        }
        for w in segments.windows(2) {
            if w[0].end() > w[1].vaddr {
                return Err(format!(
                    "{name}: segments at {:#x} and {:#x} overlap",
                    w[0].vaddr, w[1].vaddr
                ));
            }
        }
        let Some(last) = segments.last() else {
            return Err(format!("{name}: the program has no loadable segment"));
        };
        if last
            .vaddr
            .checked_add(last.mem_size)
            .is_none_or(|e| e > limit)
        {
            return Err(format!(
                "{name}: the segment at {:#x} ({} bytes) ends above the user address space, which ends at {limit:#x}; link the program lower (vmlab's assembler puts .text at {HOSTED_TEXT_BASE:#x} for the hosted machine)",
                last.vaddr, last.mem_size
            ));
        }
        let entry_ok = segments
            .iter()
            .any(|s| s.perm.exec && (s.vaddr..s.end()).contains(&elf.entry));
        if !entry_ok {
            return Err(format!(
                "{name}: the entry point {:#x} is not in an executable segment",
                elf.entry
            ));
        }
        Ok(Image {
            name: name.to_string(),
            entry: elf.entry,
            segments,
            phdr: elf.phdr,
            phnum: elf.phnum,
            argv: vec![name.as_bytes().to_vec()],
            envp: Vec::new(),
        })
    }

    /// One past the highest byte of any segment (where the heap starts, page-aligned).
    pub fn end(&self) -> u64 {
        self.segments
            .iter()
            .map(ImageSegment::end)
            .max()
            .unwrap_or(0)
    }

    /// The lowest virtual address of any segment.
    pub fn start(&self) -> u64 {
        self.segments.iter().map(|s| s.vaddr).min().unwrap_or(0)
    }
}
