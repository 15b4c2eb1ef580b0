//! The kernel's configuration: the `[os]` section of a machine file.
//!
//! Every modelled cost of the kernel's own work is a field of [`Costs`] with a default; the
//! kernel charges them to the clock when it does that work (`docs/os.md` lists when).

use crate::replace::Policy;
use serde::{Deserialize, Serialize};

/// Which of the six memory-management schemes the kernel uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SchemeKind {
    /// Memory divided at boot into partitions; base and bounds relocate a process in one.
    FixedPartitions,
    /// Partitions carved on demand to the process size; holes, compaction.
    DynamicPartitions,
    /// Every page loaded at start into frames; a page table per process; no page faults.
    SimplePaging,
    /// Each section a segment, loaded whole at start; segment registers.
    SimpleSegmentation,
    /// Demand paging from the disk with a replacement policy.
    #[default]
    VmPaging,
    /// Segments brought in whole on a segment-not-present fault, swapped out whole.
    VmSegmentation,
}

impl SchemeKind {
    /// Every scheme, in the order of `docs/schemes/`.
    pub const ALL: [SchemeKind; 6] = [
        SchemeKind::FixedPartitions,
        SchemeKind::DynamicPartitions,
        SchemeKind::SimplePaging,
        SchemeKind::SimpleSegmentation,
        SchemeKind::VmPaging,
        SchemeKind::VmSegmentation,
    ];

    /// The name used in configuration files and reports.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::FixedPartitions => "fixed-partitions",
            SchemeKind::DynamicPartitions => "dynamic-partitions",
            SchemeKind::SimplePaging => "simple-paging",
            SchemeKind::SimpleSegmentation => "simple-segmentation",
            SchemeKind::VmPaging => "vm-paging",
            SchemeKind::VmSegmentation => "vm-segmentation",
        }
    }

    /// Whether the scheme translates through page tables.
    pub fn paged(self) -> bool {
        matches!(self, SchemeKind::SimplePaging | SchemeKind::VmPaging)
    }
}

/// What the kernel's own work costs, in cycles. The kernel adds these to the clock when it
/// does the work; the trap entry itself is the pipeline's `trap_penalty` and is counted there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Costs {
    /// Every entry into the kernel (saving and restoring registers, dispatch, the `mret`
    /// back): default 60.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub handler: u64,
    /// A system call, on top of `handler`: default 20.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub syscall: u64,
    /// A page fault or segment fault, on top of `handler` (finding the area, choosing what
    /// to do): default 150.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fault: u64,
    /// Each page-table entry the kernel writes or clears: default 8.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub pte_write: u64,
    /// An `sfence.vma` the kernel issues: default 10.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub tlb_flush: u64,
    /// Switching to another process (scheduler, translation registers): default 120.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub context_switch: u64,
    /// Filling a frame with zeros, per page: default 128.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub zero_page: u64,
    /// Copying a page from one frame to another (a private file mapping's page taken from
    /// the page cache), per page: default 256.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub copy_page: u64,
    /// Choosing a replacement victim (one policy decision): default 40.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub replace: u64,
    /// Each page the victim search looks at (a Clock hand step): default 4.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub replace_step: u64,
    /// Starting a disk request (programming the controller is also charged as the MMIO
    /// accesses it makes): default 50.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub disk_request: u64,
    /// Each byte a `write` system call copies to the console: default 1.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub write_byte: u64,
    /// Creating a process (reading its program header, building its tables): default 2000.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub spawn: u64,
    /// `fork`: copying the task (registers, descriptors, signal state), on top of what the
    /// scheme charges for the memory (PTE writes, copies): default 1500.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fork: u64,
    /// Each byte compaction copies, on top of the memory accesses it makes: default 0.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub copy_byte: u64,
    /// Emulating one misaligned load or store (reading the instruction, decoding it, moving
    /// the bytes one at a time, as Linux's handler does), on top of `handler`: default 200.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub misaligned: u64,
    /// Saving a process's 32 floating-point registers and `fcsr` at a switch (only when it
    /// changed them): default 40.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_save: u64,
    /// Loading a process's floating-point registers at a switch: default 40.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fp_restore: u64,
    /// A call of the program's `malloc`, `free`, ... that `os.malloc` serves (the trap, the
    /// dispatch and the return), on top of `handler`: default 30.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub malloc_call: u64,
    /// Each element the allocator's search looks at (a free-list block, a size class, a
    /// buddy order): default 4.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub malloc_step: u64,
    /// Each word of the allocator's metadata it reads or writes in the heap, the
    /// instruction's own cost (the access's TLB and cache cycles are charged on top, as
    /// the machine times it): default 1.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub malloc_word: u64,
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            handler: 60,
            syscall: 20,
            fault: 150,
            pte_write: 8,
            tlb_flush: 10,
            context_switch: 120,
            zero_page: 128,
            copy_page: 256,
            replace: 40,
            replace_step: 4,
            disk_request: 50,
            write_byte: 1,
            spawn: 2000,
            fork: 1500,
            copy_byte: 0,
            misaligned: 200,
            fp_save: 40,
            fp_restore: 40,
            malloc_call: 30,
            malloc_step: 4,
            malloc_word: 1,
        }
    }
}

/// The allocator `os.malloc` puts behind a program's `malloc`, `free`, `calloc`, `realloc`,
/// ... (`os/src/heap/`, `docs/heap.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MallocKind {
    /// The program's own `malloc` runs, untouched.
    #[default]
    Libc,
    /// First fit on an address-ordered free list.
    FirstFit,
    /// Next fit: first fit from where the last search ended.
    NextFit,
    /// Best fit: the smallest block that fits.
    BestFit,
    /// Worst fit: the largest block.
    WorstFit,
    /// Segregated free lists, one per size class.
    Segregated,
    /// The binary buddy system.
    Buddy,
    /// Slab caches per size class.
    Slab,
    /// Fixed-size block pools per class.
    Pool,
}

impl MallocKind {
    /// The `os.malloc` name.
    pub fn name(self) -> &'static str {
        match self {
            MallocKind::Libc => "libc",
            MallocKind::FirstFit => "first-fit",
            MallocKind::NextFit => "next-fit",
            MallocKind::BestFit => "best-fit",
            MallocKind::WorstFit => "worst-fit",
            MallocKind::Segregated => "segregated",
            MallocKind::Buddy => "buddy",
            MallocKind::Slab => "slab",
            MallocKind::Pool => "pool",
        }
    }
}

/// `os.malloc_coalesce`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MallocCoalesce {
    /// A freed block merges with free neighbours at once.
    #[default]
    Immediate,
    /// Freed blocks merge when a search finds nothing, before the heap grows.
    Deferred,
}

/// The `[os]` section: the hosted machine's kernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OsConfig {
    /// The memory-management scheme (default `vm-paging`).
    pub scheme: SchemeKind,
    /// The page-table format of the paging schemes: a built-in name (`sv39`, `sv48`, `sv57`)
    /// or a `[[formats]]` entry of the machine file (default `sv39`).
    pub format: String,
    /// The replacement policy of `vm-paging` (default `fifo`).
    pub policy: Policy,
    /// The allocator behind the program's `malloc` (default `libc`: the program's own).
    pub malloc: MallocKind,
    /// When the free-list allocators merge free neighbours (default `immediate`).
    pub malloc_coalesce: MallocCoalesce,
    /// The seed of the random policy (default 1).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub seed: u64,
    /// Frames each process may hold under `vm-paging`: 0 (the default) replaces globally
    /// among all user frames; n gives every process a fixed allocation of n frames and
    /// replaces among its own.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub frames_per_process: u64,
    /// How many frames of RAM the kernel gives to user pages and page tables: 0 (the default)
    /// takes all RAM above the kernel's reservation; n limits it to n frames (small memories
    /// make replacement visible).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub user_frames: u64,
    /// Bytes at the bottom of RAM the kernel keeps for itself (default 64 KiB).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub kernel_reserve: u64,
    /// The round-robin time slice in cycles (default 20000).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub time_slice: u64,
    /// Tag each process's translations with its own ASID, so that a context switch need not
    /// flush the TLB (default true). Off, every switch flushes every TLB entry.
    pub asids: bool,
    /// The ASID bits the kernel hands out (default 16, all Sv39/Sv48/Sv57 `satp` has; fewer
    /// model a machine with a narrower ASID): with more live address spaces than
    /// `2^bits - 1` ASIDs, the allocator's generation rolls over and the TLB is flushed.
    pub asid_bits: u32,
    /// The most processes that may exist at once, running, waiting or ended but not yet
    /// waited for (zombies), as Linux's `RLIMIT_NPROC`: a `fork` beyond it fails with
    /// `EAGAIN` (default 128).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub max_processes: u64,
    /// The largest System V shared-memory segment, in bytes (Linux's `kernel.shmmax`,
    /// default as Linux's: `u64::MAX - 2^24`): `shmget` of a larger size fails with
    /// `EINVAL`.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub shmmax: u64,
    /// The smallest System V shared-memory segment, in bytes (Linux's `SHMMIN`, default 1):
    /// `shmget` of a smaller size fails with `EINVAL`.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub shmmin: u64,
    /// The most System V shared-memory segments that may exist at once (Linux's
    /// `kernel.shmmni`, default 4096, at most 32768): `shmget` of one more fails with
    /// `ENOSPC`.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub shmmni: u64,
    /// The most pages all System V shared-memory segments together may hold (Linux's
    /// `kernel.shmall`, default as Linux's: `u64::MAX - 2^24`): a `shmget` that would go
    /// beyond it fails with `ENOSPC`.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub shmall: u64,
    /// The stack a process starts with, in bytes (default 16 KiB).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub stack_size: u64,
    /// The largest the stack may grow to on faults just below it, in bytes (default 1 MiB).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub stack_limit: u64,
    /// The top of the user stack (one past its highest byte) in the paging schemes
    /// (default 0x4000_0000).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub stack_top: u64,
    /// The most a process's heap may grow by `brk`, in bytes (default 16 MiB); the contiguous
    /// schemes reserve `heap_reserve` instead.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub heap_limit: u64,
    /// Heap bytes a contiguous scheme (partitions, segmentation) reserves for a process
    /// beyond its program (default 16 KiB).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub heap_reserve: u64,
    /// Fixed partitioning: the partition sizes in bytes, laid out from the bottom of user
    /// memory (default: four equal partitions of the user memory).
    #[serde(with = "vmlab_common::num::any_u64_vec")]
    pub partitions: Vec<u64>,
    /// The placement policy of dynamic partitioning and segmentation (default `first`).
    pub fit: crate::placement::Fit,
    /// Dynamic partitioning: compact memory when a process cannot be placed (default true);
    /// false never compacts, and the process waits.
    pub compaction: bool,
    /// The working-set window in page references (default 10000); 0 turns the working-set
    /// statistics off, and with them the kernel's following of every page reference (a
    /// hosted run then simulates faster, unless the policy itself needs the references:
    /// LRU, OPT).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub working_set_window: u64,
    /// Sample the fault-rate timeline every this many retired instructions (default
    /// 100000; 0: no timeline).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub timeline_interval: u64,
    /// How many times the kernel retries a disk request that failed (a read or write error,
    /// a timeout) before it gives up on it (default 3): a page-in then kills its process
    /// with a report, a page-out keeps the page in memory.
    pub disk_retries: u32,
    /// A system call the kernel does not serve kills the process with `SIGSYS` and a report
    /// naming it (default false: it returns `-ENOSYS`, is counted, and is named at the end).
    pub strict_syscalls: bool,
    /// Check every process's memory use as it runs (`--memcheck`): invalid reads and
    /// writes, uses of uninitialised values, bad frees and leaks, reported on standard error
    /// (host-side only: the modelled cycles do not change). Default false.
    pub memcheck: bool,
    /// With `memcheck`: bytes of freed blocks held back from the allocator before it may
    /// give their memory out again, so a use after free is caught even after later
    /// allocations (default 0: none, which keeps the heap's layout and the cycles exactly
    /// as without the checker; a quarantine changes both, as Valgrind's does).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub memcheck_quarantine: u64,
    /// With `memcheck`: bytes of redzone the checker adds before and after each heap
    /// block (rounded up to 16; more before a block aligned more strictly), so an overflow
    /// past a block is caught even where the allocator would put the next block right
    /// after it (default 0: none; the allocator's own headers and slack are the redzones,
    /// and the heap's layout and the cycles stay exactly as without the checker).
    #[serde(with = "vmlab_common::num::any_u64")]
    pub memcheck_redzone: u64,
    /// Frames of RAM (at its top) the page cache holds file pages in (default 64); each is
    /// a page, or a disk block if that is larger.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub page_cache_frames: u64,
    /// Disk blocks for the file system's data (files of mounts once read, `/tmp`, new
    /// files), at the end of the disk (the swap area stays right after the programs'
    /// images and ends where these begin): 0 (the default) takes half of what the images
    /// leave.
    #[serde(with = "vmlab_common::num::any_u64")]
    pub fs_blocks: u64,
    /// The kernel's costs.
    pub cost: Costs,
}

impl Default for OsConfig {
    fn default() -> Self {
        OsConfig {
            scheme: SchemeKind::default(),
            format: "sv39".into(),
            policy: Policy::Fifo,
            malloc: MallocKind::Libc,
            malloc_coalesce: MallocCoalesce::Immediate,
            seed: 1,
            frames_per_process: 0,
            user_frames: 0,
            kernel_reserve: 64 << 10,
            time_slice: 20_000,
            asids: true,
            asid_bits: 16,
            max_processes: 128,
            shmmax: u64::MAX - (1 << 24),
            shmmin: 1,
            shmmni: 4096,
            shmall: u64::MAX - (1 << 24),
            stack_size: 16 << 10,
            stack_limit: 1 << 20,
            stack_top: 0x4000_0000,
            heap_limit: 16 << 20,
            heap_reserve: 16 << 10,
            partitions: Vec::new(),
            fit: crate::placement::Fit::First,
            compaction: true,
            working_set_window: 10_000,
            timeline_interval: 100_000,
            disk_retries: 3,
            strict_syscalls: false,
            memcheck: false,
            memcheck_quarantine: 0,
            memcheck_redzone: 0,
            page_cache_frames: 64,
            fs_blocks: 0,
            cost: Costs::default(),
        }
    }
}

impl OsConfig {
    /// Checks the values that need no machine to judge; the message says what would do.
    pub fn validate(&self) -> Result<(), String> {
        if self.time_slice == 0 {
            return Err("os.time_slice = 0; give the time slice in cycles, e.g. 20000".into());
        }
        if self.max_processes == 0 {
            return Err(
                "os.max_processes = 0; at least the programs given must run, e.g. 128".into(),
            );
        }
        if self.shmmni > 32_768 {
            return Err(format!(
                "os.shmmni = {}; System V segment ids hold at most 32768 indices, e.g. 4096",
                self.shmmni
            ));
        }
        if self.shmmin == 0 {
            return Err("os.shmmin = 0; a segment has at least one byte, e.g. 1".into());
        }
        if self.stack_size == 0 {
            return Err("os.stack_size = 0; a process needs a stack, e.g. 16384".into());
        }
        if self.stack_limit < self.stack_size {
            return Err(format!(
                "os.stack_limit = {} is below os.stack_size = {}; the limit is the most the stack may grow to",
                self.stack_limit, self.stack_size
            ));
        }
        if self.partitions.contains(&0) {
            return Err(
                "os.partitions lists a partition of 0 bytes; every partition needs a size".into(),
            );
        }
        if self.asid_bits > crate::asid::MAX_ASID_BITS {
            return Err(format!(
                "os.asid_bits = {}; satp holds at most {} ASID bits (0 to {} would do)",
                self.asid_bits,
                crate::asid::MAX_ASID_BITS,
                crate::asid::MAX_ASID_BITS
            ));
        }
        // Every field, so that a new cost cannot be left out.
        let Costs {
            handler,
            syscall,
            fault,
            pte_write,
            tlb_flush,
            context_switch,
            zero_page,
            copy_page,
            replace,
            replace_step,
            disk_request,
            write_byte,
            spawn,
            fork,
            copy_byte,
            misaligned,
            fp_save,
            fp_restore,
            malloc_call,
            malloc_step,
            malloc_word,
        } = self.cost;
        for (name, v) in [
            ("handler", handler),
            ("syscall", syscall),
            ("fault", fault),
            ("pte_write", pte_write),
            ("tlb_flush", tlb_flush),
            ("context_switch", context_switch),
            ("zero_page", zero_page),
            ("copy_page", copy_page),
            ("replace", replace),
            ("replace_step", replace_step),
            ("disk_request", disk_request),
            ("write_byte", write_byte),
            ("spawn", spawn),
            ("fork", fork),
            ("copy_byte", copy_byte),
            ("misaligned", misaligned),
            ("fp_save", fp_save),
            ("fp_restore", fp_restore),
            ("malloc_call", malloc_call),
            ("malloc_step", malloc_step),
            ("malloc_word", malloc_word),
        ] {
            if v > MAX_COST {
                return Err(format!(
                    "`os.cost.{name}` = {v} is too large: a cost is at most {MAX_COST} cycles (2^32)"
                ));
            }
        }
        if self.memcheck_redzone > MAX_REDZONE {
            return Err(format!(
                "os.memcheck_redzone = {}; a redzone of at most {MAX_REDZONE} bytes (1 MiB) on each side of a block, e.g. 16 or 64",
                self.memcheck_redzone
            ));
        }
        if !self.memcheck && (self.memcheck_redzone != 0 || self.memcheck_quarantine != 0) {
            return Err(format!(
                "os.memcheck_{} is set but the memory checker is off; add --memcheck (os.memcheck = true)",
                if self.memcheck_redzone != 0 { "redzone" } else { "quarantine" }
            ));
        }
        Ok(())
    }
}

/// The largest value of an `os.cost.*` key, in cycles (2^32).
pub const MAX_COST: u64 = 1 << 32;

/// The largest `os.memcheck_redzone`.
pub const MAX_REDZONE: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    /// Each impossible setting is refused with a message naming the key.
    #[test]
    fn impossible_settings_are_refused() {
        let check = |change: &dyn Fn(&mut OsConfig), want: Option<&str>| {
            let mut c = OsConfig::default();
            change(&mut c);
            match (c.validate(), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{e:?} should name {w:?}"),
                (got, want) => panic!("got {got:?}, wanted an error naming {want:?}"),
            }
        };
        check(&|_| {}, None);
        check(&|c| c.time_slice = 0, Some("os.time_slice"));
        check(&|c| c.stack_limit = 1, Some("os.stack_limit"));
        check(&|c| c.memcheck_redzone = 16, Some("--memcheck"));
        check(
            &|c| c.memcheck_quarantine = 1,
            Some("os.memcheck_quarantine"),
        );
        check(
            &|c| {
                c.memcheck = true;
                c.memcheck_redzone = MAX_REDZONE + 1;
            },
            Some("os.memcheck_redzone"),
        );
        check(
            &|c| {
                c.memcheck = true;
                c.memcheck_redzone = 64;
                c.memcheck_quarantine = 1 << 20;
            },
            None,
        );
        check(&|c| c.cost.malloc_word = MAX_COST, None);
        check(&|c| c.cost.handler = u64::MAX, Some("`os.cost.handler` = 18446744073709551615 is too large: a cost is at most 4294967296 cycles"));
        check(
            &|c| c.cost.malloc_word = MAX_COST + 1,
            Some("`os.cost.malloc_word`"),
        );
    }
}
