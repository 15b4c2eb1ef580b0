//! vmlab's modelled kernel.
//!
//! The kernel owns the machine's memory on behalf of the programs it runs. It is the
//! machine's M-mode trap handler, written in Rust, and works on the machine only through
//! [`hw::Hw`]: page tables in simulated RAM, translation registers through the CSRs, the
//! disk controller and the timer through their registers (`docs/os.md`).
//!
//! - [`kernel`]: boot, processes, the round-robin scheduler, traps and system calls.
//! - [`paging`]: simple paging and demand paging with swap.
//! - [`contig`]: fixed and dynamic partitioning with base-and-bounds relocation.
//! - [`seg`]: simple and virtual-memory segmentation with segment registers.
//! - [`asid`]: ASIDs for address spaces, with generations and rollover.
//! - [`frames`]: the frame table, one record per user frame (what it holds, who maps it,
//!   its write-backs).
//! - [`wait`]: wait queues, one per event a process can block on.
//! - [`linux`]: the Linux process interface as data: system call numbers, signals, structures.
//! - [`pagecache`]: file pages in memory between `read`/`write` and the disk.
//! - [`fs`]: the guest's file system: mounts, `/dev`, `/tmp`, paths, file pages on the disk.
//! - [`exec`]: the Linux process start (argc, argv, envp and the auxiliary vector).
//! - [`process`], [`image`], [`services`], [`config`], [`hw`]: processes and their areas,
//!   program images, the disk driver, counters and trace events, the `[os]` configuration,
//!   and the hardware interface.
//!
//! Its policies are plain, separately tested data structures:
//!
//! - [`replace`]: page-replacement policies (FIFO, LRU, Clock, enhanced Clock, random, OPT)
//!   over resident pages, and a reference-string simulator that drives the same code.
//! - [`workingset`]: the working-set size over a sliding window of references.
//! - [`placement`]: a hole list with first/next/best/worst-fit placement, coalescing,
//!   fragmentation figures and compaction plans (dynamic partitioning, segmentation).
//! - [`partition`]: fixed partitions (equal or unequal) with best-fitting placement and
//!   internal fragmentation.
//! - [`buddy`]: a binary buddy allocator over physical frames.
//! - [`heap`]: a free-list heap allocator (best/worst/first fit, five list orders,
//!   coalescing) in the model of OSTEP's `malloc.py`, and the paper exercise `vmlab malloc`.
#![warn(missing_docs)]

pub mod asid;
pub mod buddy;
pub mod config;
pub mod contig;
pub mod exec;
pub mod frames;
pub mod fs;
pub mod heap;
pub mod hw;
pub mod image;
pub mod kernel;
pub mod linux;
pub mod memcheck;
pub mod pagecache;
pub mod paging;
pub mod partition;
pub mod pipe;
pub mod placement;
pub mod process;
pub mod replace;
pub mod scheme;
pub mod seg;
pub mod services;
pub mod wait;
pub mod workingset;

pub use config::{OsConfig, SchemeKind};
pub use hw::{Devices, Hw};
pub use image::Image;
pub use kernel::{Finish, Kernel};
