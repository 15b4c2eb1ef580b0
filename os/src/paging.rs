//! The paging schemes: simple paging (every page loaded at start) and virtual-memory paging
//! (demand paging from the disk, with a replacement policy and a swap area).
//!
//! Page tables live in simulated RAM in the configured format, in frames the buddy
//! allocator hands out, and the hardware walker reads them; the kernel writes every PTE it
//! changes there (each write costs `os.cost.pte_write`) and issues `sfence.vma` after
//! clearing or downgrading one. The kernel's own record of each page — its frame, its swap
//! slot, its place in the program image on the disk — is host data, as a real kernel's
//! `struct page` and VMAs are kernel data.
//!
//! A page fault on a page the process may access goes through these steps (`docs/os.md`
//! draws them): find a frame (a free one, or a victim the policy picks; a dirty victim is
//! written to its swap slot first), then fill it — from the swap slot if the page was
//! written out before, from the program image if the page has file bytes, else with zeros
//! (a minor fault) — and map it. Disk transfers block the process; another runs meanwhile.

use crate::buddy::Buddy;
use crate::config::{OsConfig, SchemeKind};
use crate::frames::{FrameTable, Use};
use crate::hw::Hw;
use crate::image::{Image, Perm};
use crate::process::{Access, AddressSpace, AreaKind, Kill, Pid, SpaceId as Sid};
use crate::replace::{Future, PageBits, PageKey, Policy, Replacer};
use crate::scheme::{Cx, Forked, Layout, Scheme, UserAddr};
use crate::services::{DiskDriver, DiskError, DiskOp, Done, Event, Request, Services};
use crate::wait::WaitOn;
use std::collections::BTreeMap;
use std::sync::Arc;
use vmlab_cpu::csr::addr as csr;
use vmlab_mmu::format::PteFlags;
use vmlab_mmu::{Flush, Format};

/// What a finished disk transfer was for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// A page read into `frame` for page `vpn` of address space `space`.
    PageIn {
        /// The address space.
        space: Sid,
        /// The page.
        vpn: u64,
        /// The frame it goes to.
        frame: u64,
        /// The fault was a store (the page is mapped dirty).
        store: bool,
    },
    /// A page of address space `space` written out of `frame` as it was evicted; what the
    /// frame serves next waits in the frame table until the write completes.
    PageOut {
        /// The address space of the page written out (every space that mapped the frame
        /// now has the page in the same swap slot).
        space: Sid,
        /// The page written out.
        vpn: u64,
        /// The frame it left.
        frame: u64,
        /// The swap slot it goes to (none: a shared file page goes back to its file).
        slot: Option<u64>,
        /// The other pages that mapped the frame (copy-on-write sharers): they hold the
        /// same slot and wait for the same write.
        others: Vec<(Sid, u64)>,
    },
    /// A segmentation scheme's transfer.
    Seg(crate::seg::SegTag),
    /// A page of the page cache read from or written to its file's blocks.
    Cache {
        /// The file's inode.
        ino: u64,
        /// The page's index in the file.
        index: u64,
        /// The cache frame.
        frame: u64,
        /// A write-back (else a read).
        write: bool,
    },
    /// One page of a process's image read at start (simple paging).
    Load {
        /// The process.
        pid: Pid,
        /// The page.
        vpn: u64,
        /// The frame it goes to.
        frame: u64,
    },
}

/// A page waiting for a frame that is being written out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The faulting process.
    pub pid: Pid,
    /// The address space it runs in.
    pub space: Sid,
    /// Its page.
    pub vpn: u64,
    /// The access that faulted was a store (the page is mapped dirty).
    pub store: bool,
    /// The access that faulted.
    pub access: Access,
    /// A copy-on-write fault: the page is resident in this (shared) frame, and the frame
    /// it waits for gets a copy of it instead of being filled.
    pub copy_of: Option<u64>,
}

/// What a frame under write-back does once the write completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterWrite {
    /// It goes back to the allocator (its page was unmapped, or its owner ended).
    Free,
    /// It goes to a page that waits for it (its page was evicted to make room).
    Give(Pending),
}

/// The kernel's record of one page of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Page {
    /// The frame holding it, when resident (or reserved for it while it is read in).
    frame: Option<u64>,
    /// Its swap slot, once it has been written out.
    swap: Option<u64>,
    /// A transfer of it (in or out) is under way, or it waits for a frame being written out.
    busy: bool,
    /// It is being written to its swap slot.
    writing: bool,
    /// It was stored to while its PTE could not show it (its PTE was cleared by
    /// `mprotect(PROT_NONE)`): it must be written back when evicted.
    dirty: bool,
    /// `frame` is a page-cache frame a shared file mapping maps ([`Paging::map_cached`]):
    /// the cache owns it, so it is never freed, evicted or swapped here.
    cached: bool,
    /// Copy-on-write: the page's frame or swap slot may be shared with other address
    /// spaces (after a fork), so it is mapped without W whatever its area allows; a store
    /// faults, and the fault copies the page (or takes it over when no other space holds
    /// it any more).
    cow: bool,
    /// The page was unmapped (munmap, madvise, a shrinking heap) while a transfer of it
    /// was under way: the record stays until the transfer ends, so that an access meanwhile
    /// waits for it and a new mapping never gets the old page; then the record goes, and
    /// with it its swap slot and frame ([`Paging::settle`]).
    gone: bool,
    /// A page of a `MAP_SHARED | MAP_ANONYMOUS` mapping under simple paging
    /// ([`Paging::share_anon`]): `fork` maps its frame writable in both spaces instead of
    /// copy-on-write, and the frame is freed with its last mapping.
    shared: bool,
}

/// One address space's translation (the processes that run in it share it).
#[derive(Clone, Debug, Default)]
struct Space {
    /// The process that made it (the pid reports and trace events name).
    owner: Pid,
    /// The root table's physical address.
    root: u64,
    /// Every page-table frame (the root first).
    tables: Vec<u64>,
    /// The pages the kernel knows of.
    pages: BTreeMap<u64, Page>,
    /// Pages of the program image on the disk: vpn to first block.
    image: BTreeMap<u64, u64>,
    /// Resident pages.
    resident: u64,
    /// Its own replacement state (fixed allocation).
    repl: Option<Replacer>,
    /// Image pages still to load (simple paging).
    loading: u64,
    /// Its ASID.
    asid: u16,
}

/// What a fault handler decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The process may run on (the access will be retried).
    Resume,
    /// The process waits for the disk.
    Block,
    /// The process must die.
    Kill(Kill),
}

/// What a finished disk request means for the processes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finished {
    /// Processes that may run again.
    pub woken: Vec<Pid>,
    /// Processes that must die, and why.
    pub killed: Vec<(Pid, Kill)>,
}

/// What admitting a process did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    /// It may run.
    Ready,
    /// Its image is being read.
    Loading,
    /// Not enough memory is free now.
    Wait,
    /// It can never fit.
    Refuse(String),
}

/// The paging schemes' counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PagingStats {
    /// Frames given to user pages and page tables at boot.
    pub frames: u64,
    /// Frames holding page tables now.
    pub table_frames: u64,
    /// The most frames in use at once.
    pub peak_frames: u64,
    /// Victims chosen.
    pub evictions: u64,
    /// Dirty victims written out.
    pub writebacks: u64,
    /// Swap slots in use now.
    pub swap_used: u64,
    /// The most swap slots in use at once.
    pub swap_peak: u64,
    /// Bytes of the last page of each segment, heap and stack left unused (simple paging's
    /// internal fragmentation, summed over the processes now in memory).
    pub internal_fragmentation: u64,
    /// The most `internal_fragmentation` has been.
    pub internal_fragmentation_peak: u64,
    /// A bits the policy cleared.
    pub a_cleared: u64,
    /// Faults and forks that waited for a frame to come free for a page table (no frame
    /// could be taken for it now, and another process will free some).
    pub table_waits: u64,
    /// Copy-on-write faults that copied the page into a frame of its own.
    pub cow_copies: u64,
    /// Copy-on-write faults that found no other space mapping the frame and took it over
    /// without a copy.
    pub cow_reused: u64,
    /// Pages that forks shared copy-on-write (each page of the parent counted once per
    /// fork).
    pub cow_shared: u64,
    /// Programs `execve` placed on the disk (each distinct one once).
    pub exec_images: u64,
}

/// Frames of data pages kept for each process that has page tables (beyond its root): an
/// instruction needs its fetch page and its data page at once, so a page table that would
/// leave less than this per process waits for a frame rather than let the processes evict
/// each other's pages for ever.
const DATA_RESERVE: u64 = 2;

/// Why no frame could be had for a page table.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NoTable {
    /// Another process holds frames it will free when it ends: wait for a frame.
    Wait,
    /// No process could ever free one: the detail says why.
    Never(String),
}

/// The swap area: page-sized slots on the disk after the images.
#[derive(Clone, Debug, Default)]
struct Swap {
    first_block: u64,
    slots: u64,
    next: u64,
    free: Vec<u64>,
    /// Slots more than one page holds (copy-on-write pages evicted while shared): the
    /// number of holders beyond the first.
    shared: BTreeMap<u64, u32>,
}

impl Swap {
    /// Another page holds `slot`.
    fn share(&mut self, slot: u64) {
        *self.shared.entry(slot).or_default() += 1;
    }

    /// A page lets go of `slot`: true if that was the last holder (the slot is free).
    fn put(&mut self, slot: u64) -> bool {
        match self.shared.get_mut(&slot) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                self.shared.remove(&slot);
                false
            }
            None => {
                self.free.push(slot);
                true
            }
        }
    }

    fn alloc(&mut self) -> Option<u64> {
        if let Some(s) = self.free.pop() {
            return Some(s);
        }
        if self.next < self.slots {
            self.next += 1;
            return Some(self.next - 1);
        }
        None
    }
}

/// Future knowledge for OPT: each process's reference string from the first pass, and how
/// far the second pass has come.
#[derive(Clone, Debug, Default)]
pub struct OptFuture {
    /// Per process: page to the positions it is referenced at, ascending.
    uses: BTreeMap<Pid, BTreeMap<u64, Vec<u64>>>,
    /// Per process: how many references the second pass has seen.
    pos: BTreeMap<Pid, u64>,
}

impl OptFuture {
    /// From each process's recorded reference string (pages in order, repeats collapsed).
    pub fn new(strings: &BTreeMap<Pid, Vec<u64>>) -> OptFuture {
        let mut uses = BTreeMap::new();
        for (&pid, s) in strings {
            let mut m: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
            for (i, &vpn) in s.iter().enumerate() {
                m.entry(vpn).or_default().push(i as u64);
            }
            uses.insert(pid, m);
        }
        OptFuture {
            uses,
            pos: BTreeMap::new(),
        }
    }

    fn advance(&mut self, pid: Pid) {
        *self.pos.entry(pid).or_default() += 1;
    }
}

impl OptFuture {
    /// How many of its owner's references from now page `vpn` of `pid` is next used in.
    fn next_use_of(&self, pid: Pid, vpn: u64) -> Option<u64> {
        let now = self.pos.get(&pid).copied().unwrap_or(0);
        let v = self.uses.get(&pid)?.get(&vpn)?;
        // The distance to the next use, in the owner's own references: distances of
        // different processes compare (docs/os.md on global OPT); positions would not.
        let i = v.partition_point(|&p| p < now);
        v.get(i).map(|&p| p - now)
    }
}

/// The wait-queue event of page `vpn` of address space `space`.
fn page_wait(space: Sid, vpn: u64) -> WaitOn {
    WaitOn::Page { space, vpn }
}

/// OPT's future as the replacer sees it: a resident frame's next use is that of the page
/// that maps it.
struct FrameFuture<'a> {
    future: &'a OptFuture,
    table: &'a FrameTable<AfterWrite>,
    spaces: &'a BTreeMap<Sid, Space>,
}

impl Future for FrameFuture<'_> {
    fn next_use(&self, frame: PageKey) -> Option<u64> {
        // A frame several spaces share is next used when the first of them uses it.
        let f = self.table.get(frame)?;
        f.rmap
            .iter()
            .filter_map(|&(sid, vpn)| {
                let owner = self.spaces.get(&sid).map_or(sid as Pid, |s| s.owner);
                self.future.next_use_of(owner, vpn)
            })
            .min()
    }
}

/// The paging schemes' state.
pub struct Paging {
    simple: bool,
    format: Arc<Format>,
    satp_mode: u64,
    page_bits: u32,
    page: u64,
    frames: Buddy,
    spaces: BTreeMap<Sid, Space>,
    /// The address space each process runs in (set when it is admitted or forked).
    sid_of: BTreeMap<Pid, Sid>,
    /// One record per user frame: what it holds, who maps it, its write-backs.
    table: FrameTable<AfterWrite>,
    global: Option<Replacer>,
    policy: Policy,
    seed: u64,
    quota: u64,
    swap: Swap,
    blocks_per_page: u64,
    /// The next free disk block for images (before the swap area is laid out).
    next_block: u64,
    /// Where the blocks the file system took from the end of the disk begin (the swap
    /// area stops there).
    disk_end: Option<u64>,
    stats: PagingStats,
    /// OPT's future, in the second pass.
    future: Option<OptFuture>,
    /// Why the last page-table frame could not be had (set when `leaf_build` fails for it).
    no_table: Option<NoTable>,
    /// The images of programs `execve` started, by a hash of their pages: page to disk
    /// block (slots of the swap area, kept for good).
    exec_images: BTreeMap<u64, BTreeMap<u64, u64>>,
}

/// The A and D bits of resident frames, read from (and A cleared in) the PTE that maps
/// each, in the page tables in RAM.
struct Bits<'a> {
    hw: &'a mut dyn Hw,
    sv: &'a mut Services,
    format: &'a Format,
    spaces: &'a BTreeMap<Sid, Space>,
    table: &'a FrameTable<AfterWrite>,
    stats: &'a mut PagingStats,
}

impl Bits<'_> {
    /// The leaf PTE (its address and value) of each mapping of `frame` (one, unless
    /// address spaces share it after a fork), with the space and page; each read costs a
    /// replacement step.
    fn ptes(&mut self, frame: PageKey) -> Vec<(u64, u64, Sid, u64)> {
        let Some(f) = self.table.get(frame) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(f.rmap.len());
        for &(sid, vpn) in &f.rmap {
            let Some(s) = self.spaces.get(&sid) else {
                continue;
            };
            let va = vpn << self.format.page_offset_bits();
            let Some(pa) = leaf_addr(self.hw, self.format, s.root, va) else {
                continue;
            };
            let Some(pte) = read_pte(self.hw, self.format, pa) else {
                continue;
            };
            let step = self.sv.cost().replace_step;
            self.sv.charge(self.hw, step);
            out.push((pa, pte, sid, vpn));
        }
        out
    }
}

impl PageBits for Bits<'_> {
    fn accessed(&mut self, page: PageKey) -> bool {
        let a = self.format.a_mask();
        self.ptes(page).iter().any(|&(_, p, _, _)| p & a != 0)
    }

    fn clear_accessed(&mut self, frame: PageKey) {
        for (pa, pte, sid, vpn) in self.ptes(frame) {
            let value = pte & !self.format.a_mask();
            write_pte(self.hw, self.format, pa, value);
            self.stats.a_cleared += 1;
            self.sv.stats.pte_writes += 1;
            let va = vpn << self.format.page_offset_bits();
            let (owner, asid) = self
                .spaces
                .get(&sid)
                .map_or((sid as Pid, 0), |s| (s.owner, s.asid));
            trace_pte(self.sv, self.hw, self.format, owner, (0, va, pa, value));
            let c = self.sv.cost().pte_write + self.sv.cost().tlb_flush;
            self.sv.charge(self.hw, c);
            // The TLB may hold the entry with A set; without a flush the hardware would
            // never set A again.
            self.hw.sfence(Flush::AddrAsid { va, asid });
            self.sv.stats.tlb_flushes += 1;
        }
    }

    fn dirty(&mut self, page: PageKey) -> bool {
        let d = self.format.d_mask();
        let in_pte = self.ptes(page).iter().any(|&(_, p, _, _)| p & d != 0);
        // A copy-on-write page remembers being dirty (its PTE was rewritten clean when it
        // was shared).
        in_pte
            || self.table.get(page).is_some_and(|f| {
                f.rmap.iter().any(|(sid, vpn)| {
                    self.spaces
                        .get(sid)
                        .and_then(|s| s.pages.get(vpn))
                        .is_some_and(|p| p.dirty && p.cow)
                })
            })
    }
}

/// Records the `pte` event of the kernel writing `value` at `at`: the entry for `va` of
/// `pid`'s table at `level` (counted from the leaf, as the format counts; the event counts
/// from the root).
fn trace_pte(sv: &mut Services, hw: &dyn Hw, f: &Format, pid: Pid, pte: (u8, u64, u64, u64)) {
    if sv.trace.is_none() {
        return;
    }
    let (level, va, at, value) = pte;
    let shift = u32::from(f.page_bits(level));
    let span = 1u64.checked_shl(shift).unwrap_or(0);
    let va = va & !span.wrapping_sub(1);
    let fl = f.flags(value);
    let (kind, target, flags) = if !fl.v {
        ("invalid", None, None)
    } else if f.is_leaf(value, level) {
        let b = |on: bool, c: char| if on { c } else { '-' };
        let text: String = [
            b(fl.r, 'r'),
            b(fl.w, 'w'),
            b(fl.x, 'x'),
            b(fl.u, 'u'),
            b(fl.g, 'g'),
            b(fl.a, 'a'),
            b(fl.d, 'd'),
        ]
        .into_iter()
        .collect();
        ("leaf", Some(f.pfn_address(value)), Some(text))
    } else {
        ("table", Some(f.pfn_address(value)), None)
    };
    sv.event(
        hw,
        Event::Pte {
            pid,
            level: f.levels().saturating_sub(1).saturating_sub(level),
            va,
            span,
            at,
            value,
            kind,
            target,
            flags,
        },
    );
}

fn read_pte(hw: &dyn Hw, f: &Format, pa: u64) -> Option<u64> {
    let n = f.pte_bytes() as usize;
    let mut b = [0u8; 8];
    hw.read_phys(pa, &mut b[..n]).then(|| u64::from_le_bytes(b))
}

fn write_pte(hw: &mut dyn Hw, f: &Format, pa: u64, pte: u64) {
    let n = f.pte_bytes() as usize;
    let ok = hw.write_phys(pa, &pte.to_le_bytes()[..n]);
    debug_assert!(ok, "page tables live in RAM");
}

/// The address of the level-0 PTE for `va`, if every table on the way exists.
fn leaf_addr(hw: &dyn Hw, f: &Format, root: u64, va: u64) -> Option<u64> {
    let mut table = root;
    for level in (0..f.levels()).rev() {
        let pa = table + f.index(va, level) * u64::from(f.pte_bytes());
        if level == 0 {
            return Some(pa);
        }
        let pte = read_pte(hw, f, pa)?;
        if !f.flags(pte).v || f.is_leaf(pte, level) {
            return None;
        }
        table = f.pfn_address(pte);
    }
    None
}

impl Paging {
    /// The paging scheme for `cfg` over the frames from `first` (a physical address) for
    /// `count` frames, with swap on the disk from block `first_block`.
    pub fn new(
        cfg: &OsConfig,
        format: Arc<Format>,
        first: u64,
        count: u64,
    ) -> Result<Paging, String> {
        let satp_mode = match format.name() {
            "sv39" => 8,
            "sv48" => 9,
            "sv57" => 10,
            other => {
                return Err(format!(
                    "os.format = {other:?}: the paging schemes run on sv39, sv48 or sv57 (the formats satp selects)"
                ))
            }
        };
        let page_bits = u32::from(format.page_offset_bits());
        let page = 1u64 << page_bits;
        // A binary buddy allocator over the user frames, in blocks of up to 2^10 frames;
        // pages and page tables take single frames from it.
        let frames = Buddy::new(first >> page_bits, count, 10)
            .map_err(|e| format!("the user frames: {e}"))?;
        let simple = cfg.scheme == SchemeKind::SimplePaging;
        let global =
            (!simple && cfg.frames_per_process == 0).then(|| Replacer::new(cfg.policy, cfg.seed));
        Ok(Paging {
            simple,
            format,
            satp_mode,
            page_bits,
            page,
            frames,
            spaces: BTreeMap::new(),
            sid_of: BTreeMap::new(),
            table: FrameTable::new(first >> page_bits, count, page_bits),
            global,
            policy: cfg.policy,
            seed: cfg.seed,
            quota: cfg.frames_per_process,
            swap: Swap::default(),
            blocks_per_page: 0,
            next_block: 0,
            disk_end: None,
            stats: PagingStats {
                frames: count,
                ..PagingStats::default()
            },
            future: None,
            no_table: None,
            exec_images: BTreeMap::new(),
        })
    }

    /// The page size.
    pub fn page_size(&self) -> u64 {
        self.page
    }

    /// Gives OPT its future (the second pass).
    pub fn set_future(&mut self, f: OptFuture) {
        self.future = Some(f);
    }

    /// The pages of `image` with their bytes (pages no segment byte reaches are left out;
    /// a page two segments share holds both).
    fn image_pages(&self, image: &Image) -> BTreeMap<u64, Vec<u8>> {
        let mut pages: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for seg in &image.segments {
            for (i, &b) in seg.data.iter().enumerate() {
                let va = seg.vaddr + i as u64;
                let vpn = va >> self.page_bits;
                let page = pages
                    .entry(vpn)
                    .or_insert_with(|| vec![0; self.page as usize]);
                page[(va & (self.page - 1)) as usize] = b;
            }
        }
        pages
    }

    /// Places the image of a program an `execve` starts ([`Scheme::place_exec`]) in slots
    /// of the swap area, which it then keeps for good: a program placed once (the same
    /// bytes at the same addresses) is found again by its pages' hash.
    pub fn place_exec(&mut self, hw: &mut dyn Hw, sid: Sid, image: &Image) -> Result<(), String> {
        let pages = self.image_pages(image);
        // FNV-1a over the page numbers and bytes: the same program at the same place.
        let mut h = crate::scheme::FNV_OFFSET;
        for (vpn, bytes) in &pages {
            h = crate::scheme::fnv1a_from(h, &vpn.to_le_bytes());
            h = crate::scheme::fnv1a_from(h, bytes);
        }
        let placed = match self.exec_images.get(&h) {
            Some(p) => p.clone(),
            None => {
                if self.blocks_per_page == 0 {
                    return Err("the disk holds no program images".into());
                }
                let mut placed = BTreeMap::new();
                for (vpn, bytes) in pages {
                    let Some(slot) = self.swap.alloc() else {
                        for &b in placed.values() {
                            let slot = (b - self.swap.first_block) / self.blocks_per_page;
                            self.swap.free.push(slot);
                        }
                        return Err("the swap area has no room for the program's image".into());
                    };
                    let block = self.swap.first_block + slot * self.blocks_per_page;
                    hw.disk_preload(block, &bytes)?;
                    placed.insert(vpn, block);
                }
                self.stats.exec_images += 1;
                self.exec_images.insert(h, placed.clone());
                placed
            }
        };
        self.spaces.entry(sid).or_default().image = placed;
        Ok(())
    }

    /// Writes `image`'s pages onto the disk (at boot) and remembers where they are.
    pub fn place_image(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        if disk.block_size == 0 || !self.page.is_multiple_of(disk.block_size) {
            return Err(format!(
                "the page size ({} bytes) is not a multiple of the disk's block size ({}); page-ins move whole pages",
                self.page, disk.block_size
            ));
        }
        self.blocks_per_page = self.page / disk.block_size;
        let pages = self.image_pages(image);
        // (A process started at boot runs in the space whose id is its pid.)
        let space = self.spaces.entry(Sid::from(pid)).or_default();
        space.owner = pid;
        for (vpn, bytes) in pages {
            let block = self.next_block;
            if block + self.blocks_per_page > disk.blocks {
                return Err(format!(
                    "the disk ({} blocks of {} bytes) is too small for the programs' images; enlarge memory.diskctl.disk",
                    disk.blocks, disk.block_size
                ));
            }
            hw.disk_preload(block, &bytes)?;
            space.image.insert(vpn, block);
            self.next_block += self.blocks_per_page;
        }
        Ok(())
    }

    /// The resident pages of space `sid` in `[start, end)` with no transfer under way:
    /// page numbers and frames, in address order.
    fn resident_in(&self, sid: Sid, start: u64, end: u64) -> Vec<(u64, u64)> {
        let first = start >> self.page_bits;
        let last = end.div_ceil(self.page);
        self.spaces.get(&sid).map_or_else(Vec::new, |s| {
            s.pages
                .range(first..last)
                .filter(|(_, p)| !p.busy)
                .filter_map(|(&v, p)| p.frame.map(|f| (v, f)))
                .collect()
        })
    }

    /// Lays out the swap area on the rest of the disk (after every image is placed).
    pub fn layout_swap(&mut self, disk: &DiskDriver<Tag>) {
        let bpp = self.blocks_per_page.max(1);
        self.swap = Swap {
            first_block: self.next_block,
            slots: self
                .disk_end
                .unwrap_or(disk.blocks)
                .saturating_sub(self.next_block)
                / bpp,
            next: 0,
            free: Vec::new(),
            shared: BTreeMap::new(),
        };
    }

    /// Swap slots on the disk.
    pub fn swap_slots(&self) -> u64 {
        self.swap.slots
    }

    fn frame_alloc(&mut self, holds: Use) -> Option<u64> {
        let f = self.frames.alloc(0)? << self.page_bits;
        let used = self.stats.frames - self.frames.free_frames();
        self.stats.peak_frames = self.stats.peak_frames.max(used);
        self.table.claim(f, holds);
        Some(f)
    }

    /// A frame the page cache gives back for `holds` (its own free frame, or a clean page's
    /// that no process maps), if it shares memory with the processes and has one to give.
    fn reclaim_cache(&mut self, cx: &mut Cx, holds: Use) -> Option<u64> {
        let frame = cx.cache.as_mut()?.reclaim()?;
        self.table.claim(frame, holds);
        Some(frame)
    }

    /// A free frame lent to the page cache ([`Scheme::lend_frame`]).
    pub fn lend_frame(&mut self, cx: &mut Cx, must: bool) -> Option<u64> {
        if let Some(f) = self.frame_alloc(Use::Cache) {
            return Some(f);
        }
        if !must {
            return None;
        }
        // The cache holds nothing and no frame is free: a clean process page makes room.
        let f = self.evict_any(cx)?;
        self.table.claim(f, Use::Cache);
        Some(f)
    }

    /// Gives a frame back to the allocator, or, while a disk write still reads it, once
    /// that write completes.
    fn frame_free(&mut self, pa: u64) {
        if self.table.under_writeback(pa) {
            self.table.defer(pa, AfterWrite::Free);
            return;
        }
        self.table.release(pa);
        let _ = self.frames.free(pa >> self.page_bits, 0);
    }

    fn zero(&self, sv: &mut Services, hw: &mut dyn Hw, pa: u64) {
        let ok = hw.write_phys(pa, &vec![0; self.page as usize]);
        debug_assert!(ok);
        let c = sv.cost().zero_page;
        sv.charge(hw, c);
    }

    /// A table frame (zeroed), evicting a clean user page if none is free (page tables
    /// themselves are never evicted: they go when their process ends). Under demand paging
    /// a table that would leave fewer than [`DATA_RESERVE`] frames of pages per process
    /// with tables, or that finds no frame at all, waits for one while another process
    /// holds frames it will free; `None` records why in `no_table`. The process of space
    /// `waiter` is the one that would wait (a fault's own; the parent, for a fork's child).
    fn table_frame(&mut self, cx: &mut Cx, sid: Sid, waiter: Sid) -> Option<u64> {
        self.no_table = None;
        let holders = self.holders(cx, [sid, waiter]);
        let room = self.simple || holders == 0 || self.room_for_table(sid);
        let owner = self.owner(sid);
        let got = if room {
            match self
                .frame_alloc(Use::Table { pid: owner })
                .or_else(|| self.reclaim_cache(cx, Use::Table { pid: owner }))
            {
                Some(f) => Some(f),
                // (Simple paging evicts nothing.)
                None if self.simple => None,
                None => self.evict_any(cx).inspect(|&f| {
                    self.table.claim(f, Use::Table { pid: owner });
                }),
            }
        } else {
            None
        };
        let Some(f) = got else {
            self.no_table = Some(if holders > 0 {
                NoTable::Wait
            } else {
                let own = self.spaces.get(&sid).map_or(0, |s| s.tables.len());
                NoTable::Never(format!(
                    "process {owner} needs one more frame for a page table than the {own} its tables \
                     hold, and page tables hold {} of the {} user frames: no frame is free, no clean \
                     page can be evicted, and no other process holds frames it could free (raise \
                     os.user_frames)",
                    self.stats.table_frames, self.stats.frames
                ))
            });
            return None;
        };
        self.zero(cx.sv, cx.hw, f);
        self.stats.table_frames += 1;
        Some(f)
    }

    /// The processes that will free frames when they end: those with an address space
    /// other than the spaces `not` that do not themselves wait for a frame.
    fn holders(&self, cx: &Cx, not: [Sid; 2]) -> usize {
        cx.procs
            .iter()
            .filter(|q| !q.state.ended())
            .filter(|q| {
                self.sid_of
                    .get(&q.pid)
                    .is_some_and(|s| !not.contains(s) && self.spaces.contains_key(s))
            })
            .filter(|q| !cx.waits.waiting_on(q.pid).contains(&WaitOn::Frame))
            .count()
    }

    /// Whether one more page-table frame for space `sid` still leaves [`DATA_RESERVE`]
    /// frames of pages for each space with page tables beyond its root (`sid` among them).
    fn room_for_table(&self, sid: Sid) -> bool {
        self.room_for_tables(sid, 1)
    }

    /// Whether `n` more page-table frames for space `sid` still leave [`DATA_RESERVE`]
    /// frames of pages for each space with page tables beyond its root (`sid` among them,
    /// made or not).
    fn room_for_tables(&self, sid: Sid, n: u64) -> bool {
        let others = self
            .spaces
            .iter()
            .filter(|&(&p, s)| p != sid && s.tables.len() > 1)
            .count() as u64;
        self.stats.table_frames + n + DATA_RESERVE * (others + 1) <= self.stats.frames
    }

    /// What a fault does when `leaf_build` found no frame for a page table: wait for one
    /// on the frame queue, or die when none can ever come.
    fn no_table(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access) -> Outcome {
        match self.no_table.take() {
            Some(NoTable::Wait) => {
                self.stats.table_waits += 1;
                cx.waits.wait(pid, WaitOn::Frame);
                cx.sv.event(
                    cx.hw,
                    Event::Fault {
                        pid,
                        va,
                        access,
                        kind: "frame-wait",
                    },
                );
                Outcome::Block
            }
            why => Outcome::Kill(Kill {
                addr: va,
                pc: cx.procs.iter().find(|p| p.pid == pid).map_or(0, |p| p.pc),
                access: Some(access),
                cause: "out-of-memory",
                scheme: self.scheme(),
                detail: match why {
                    Some(NoTable::Never(d)) => d,
                    _ => {
                        "no frame is free for a page table, and no clean page can be evicted".into()
                    }
                },
            }),
        }
    }

    /// The leaf PTE address for `va` in space `sid`'s tables, building missing tables.
    fn leaf_build(&mut self, cx: &mut Cx, sid: Sid, va: u64) -> Option<u64> {
        self.leaf_build_for(cx, sid, va, sid)
    }

    /// [`Paging::leaf_build`], where the process of space `waiter` would wait for a frame
    /// for a table ([`Paging::table_frame`]).
    fn leaf_build_for(&mut self, cx: &mut Cx, sid: Sid, va: u64, waiter: Sid) -> Option<u64> {
        let f = self.format.clone();
        let owner = self.owner(sid);
        let mut table = self.spaces.get(&sid)?.root;
        for level in (0..f.levels()).rev() {
            let pa = table + f.index(va, level) * u64::from(f.pte_bytes());
            if level == 0 {
                return Some(pa);
            }
            let pte = read_pte(cx.hw, &f, pa)?;
            if f.flags(pte).v {
                table = f.pfn_address(pte);
                continue;
            }
            let t = self.table_frame(cx, sid, waiter)?;
            let value = f.make_pointer(t)?;
            write_pte(cx.hw, &f, pa, value);
            cx.sv.stats.pte_writes += 1;
            trace_pte(cx.sv, cx.hw, &f, owner, (level, va, pa, value));
            let c = cx.sv.cost().pte_write;
            cx.sv.charge(cx.hw, c);
            if let Some(s) = self.spaces.get_mut(&sid) {
                s.tables.push(t);
            }
            table = t;
        }
        None
    }

    fn leaf_flags(perm: Perm, store: bool) -> PteFlags {
        PteFlags {
            v: true,
            r: perm.read,
            w: perm.write,
            x: perm.exec,
            u: true,
            g: false,
            a: true,
            // D means the page was stored to: only a store fault maps it dirty (a later
            // store to a clean page sets D, through the walker or an Svade fault).
            d: store,
        }
    }

    /// Maps `vpn` of `pid` to `frame` with `perm`.
    fn map(
        &mut self,
        cx: &mut Cx,
        sid: Sid,
        vpn: u64,
        frame: u64,
        perm: Perm,
        store: bool,
    ) -> bool {
        let va = vpn << self.page_bits;
        let Some(pa) = self.leaf_build(cx, sid, va) else {
            return false;
        };
        // A copy-on-write page is mapped read-only whatever its area allows.
        let mut perm = perm;
        if self.page(sid, vpn).is_some_and(|p| p.cow) {
            perm.write = false;
        }
        let Some(pte) = self
            .format
            .make_leaf(frame, 0, Self::leaf_flags(perm, store))
        else {
            return false;
        };
        write_pte(cx.hw, &self.format, pa, pte);
        cx.sv.stats.pte_writes += 1;
        trace_pte(
            cx.sv,
            cx.hw,
            &self.format,
            self.owner(sid),
            (0, va, pa, pte),
        );
        let c = cx.sv.cost().pte_write;
        cx.sv.charge(cx.hw, c);
        true
    }

    /// The address space `pid` runs in (a process started at boot: the one whose id is
    /// its pid, until it is admitted).
    fn sid(&self, pid: Pid) -> Sid {
        self.sid_of.get(&pid).copied().unwrap_or(Sid::from(pid))
    }

    /// The process reports and trace events name for space `sid`: the one that made it.
    fn owner(&self, sid: Sid) -> Pid {
        self.spaces.get(&sid).map_or(sid as Pid, |s| s.owner)
    }

    /// The kernel's record of page `vpn` of space `sid`.
    fn page(&self, sid: Sid, vpn: u64) -> Option<&Page> {
        self.spaces.get(&sid)?.pages.get(&vpn)
    }

    /// The kernel's record of page `vpn` of space `sid`, to change.
    fn page_mut(&mut self, sid: Sid, vpn: u64) -> Option<&mut Page> {
        self.spaces.get_mut(&sid)?.pages.get_mut(&vpn)
    }

    fn replacer(&mut self, sid: Sid) -> Option<&mut Replacer> {
        if self.global.is_some() {
            return self.global.as_mut();
        }
        self.spaces.get_mut(&sid)?.repl.as_mut()
    }

    /// Makes a process's space (its root table); loads every page under simple paging.
    pub fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) else {
            return Admit::Refuse("no such process".into());
        };
        // The process runs in the kernel's address space of its own from now on.
        let sid = cx.procs[pi].space;
        self.sid_of.insert(pid, sid);
        if self.simple {
            // Every page of every area, plus the tables: fits now, later, or never.
            let need = cx.mm(pid).map_or(0, |m| self.pages_needed(m));
            if need > self.stats.frames {
                return Admit::Refuse(format!(
                    "it needs {need} frames (pages and page tables) and the machine has {}",
                    self.stats.frames
                ));
            }
            if need > self.frames.free_frames() {
                return Admit::Wait;
            }
        }
        let Some(root) = self.frame_alloc(Use::Table { pid }) else {
            return Admit::Wait;
        };
        self.zero(cx.sv, cx.hw, root);
        self.stats.table_frames += 1;
        // (Its ASID comes with its first activation.)
        let space = self.spaces.entry(sid).or_default();
        space.owner = pid;
        space.root = root;
        space.tables = vec![root];
        if !self.simple && self.quota > 0 {
            space.repl = Some(Replacer::new(self.policy, self.seed ^ u64::from(pid)));
        }
        if !self.simple {
            return Admit::Ready;
        }
        // Simple paging: map every page now; image pages are read from the disk.
        let areas = cx.mm(pid).map(|m| m.areas.clone()).unwrap_or_default();
        let mut loading = 0;
        for a in &areas {
            let mut va = a.start & !(self.page - 1);
            while va < a.end {
                let vpn = va >> self.page_bits;
                let have = self
                    .spaces
                    .get(&sid)
                    .is_some_and(|s| s.pages.contains_key(&vpn));
                // A page no access may touch gets its frame when mprotect makes it
                // accessible, or on its first access then (`populate`).
                let perm = cx
                    .mm(pid)
                    .map_or(Perm::RW, |m| page_perm(m, vpn, self.page_bits));
                if have || !(perm.read || perm.exec) {
                    // (A page that holds the end of the area before too has its frame, and
                    // its image bytes cover both areas.)
                    va += self.page;
                    continue;
                }
                let Some(frame) = self.frame_alloc(Use::Page) else {
                    return Admit::Refuse("out of frames while loading".into());
                };
                let block = self
                    .spaces
                    .get(&sid)
                    .and_then(|s| s.image.get(&vpn).copied());
                // Mapped accessed and (writable pages) dirty: nothing is ever written out,
                // so the hardware need not track either, and no access faults. A page that
                // two areas share gets the permissions of both.
                if !self.map(cx, sid, vpn, frame, perm, perm.write) {
                    return Admit::Refuse("out of frames for page tables".into());
                }
                self.table.map(frame, sid, vpn);
                if let Some(s) = self.spaces.get_mut(&sid) {
                    s.pages.insert(
                        vpn,
                        Page {
                            frame: Some(frame),
                            busy: block.is_some(),
                            ..Page::default()
                        },
                    );
                    s.resident += 1;
                }
                match block {
                    Some(b) => {
                        let tag = Tag::Load { pid, vpn, frame };
                        let req = Request {
                            op: DiskOp::Read,
                            block: b,
                            count: self.blocks_per_page,
                            pa: frame,
                            pid,
                        };
                        if let Err(e) = cx.disk.start(cx.sv, cx.hw, req, tag) {
                            return Admit::Refuse(format!(
                                "reading its image from the disk failed: {e}"
                            ));
                        }
                        // (The read fills the frame: it is the read's until it ends.)
                        self.table.set_busy(frame, true);
                        cx.sv.stats.pages_in += 1;
                        cx.procs[pi].stats.pages_in += 1;
                        loading += 1;
                    }
                    None => {
                        self.zero(cx.sv, cx.hw, frame);
                        cx.fill_start(pid, va, frame, self.page);
                    }
                }
                va += self.page;
            }
        }
        self.stats.internal_fragmentation += self.waste(&areas);
        self.stats.internal_fragmentation_peak = self
            .stats
            .internal_fragmentation_peak
            .max(self.stats.internal_fragmentation);
        if let Some(s) = self.spaces.get_mut(&sid) {
            s.loading = loading;
        }
        if loading > 0 {
            Admit::Loading
        } else {
            Admit::Ready
        }
    }

    /// `fork` ([`Scheme::fork`]): the child's space gets page tables of its own whose
    /// leaves point at the parent's frames, and every private page of both becomes
    /// copy-on-write (mapped without W: the first store copies it, `break_cow`); a
    /// swapped-out page shares its swap slot. Each PTE written costs `os.cost.pte_write`,
    /// each table frame `os.cost.zero_page`; the parent's TLB is flushed once.
    pub fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        let psid = self.sid(parent);
        let Some(csid) = cx.procs.iter().find(|p| p.pid == child).map(|p| p.space) else {
            return Forked::NoMemory("no such process".into());
        };
        let Some(pspace) = self.spaces.get(&psid) else {
            return Forked::NoMemory(format!("process {parent} has no address space"));
        };
        // A page in transfer (written out for another process's fault) must land first.
        if let Some((&vpn, _)) = pspace.pages.iter().find(|(_, p)| p.busy && !p.cached) {
            return Forked::Busy(page_wait(psid, vpn));
        }
        // The pages the child shares: resident or swapped out (a shared file mapping's
        // pages it maps from the page cache when it touches them).
        let vpns: Vec<u64> = pspace
            .pages
            .iter()
            .filter(|(_, p)| !p.cached && (p.frame.is_some() || p.swap.is_some()))
            .map(|(&v, _)| v)
            .collect();
        let image = pspace.image.clone();
        let parent_asid = pspace.asid;
        let need = self.tables_for(&vpns);
        // Tables that would leave fewer than DATA_RESERVE frames for the pages of each
        // process wait, as a fault's table waits, until a process that holds frames ends
        // (before anything is evicted for them); with no such process the fork cannot be
        // given the memory: ENOMEM.
        if !self.simple && !self.room_for_tables(csid, need) {
            if self.holders(cx, [psid, csid]) > 0 {
                self.stats.table_waits += 1;
                return Forked::Busy(WaitOn::Frame);
            }
            return Forked::NoMemory(format!(
                "the child's page tables need {need} frames, and with them page tables would \
                 leave fewer than {DATA_RESERVE} frames for the pages of each process (page \
                 tables hold {} of the {} user frames), and no other process holds frames it \
                 could free",
                self.stats.table_frames, self.stats.frames
            ));
        }
        if let Err(f) = self.make_room(cx, psid, need) {
            return f;
        }
        self.sid_of.insert(child, csid);
        self.spaces.insert(
            csid,
            Space {
                owner: child,
                image,
                repl: (!self.simple && self.quota > 0)
                    .then(|| Replacer::new(self.policy, self.seed ^ u64::from(child))),
                ..Space::default()
            },
        );
        let Some(root) = self.table_frame(cx, csid, psid) else {
            return self.fork_without_table(cx, child);
        };
        if let Some(s) = self.spaces.get_mut(&csid) {
            s.root = root;
            s.tables = vec![root];
        }
        let mut protected = false;
        for vpn in vpns {
            // The child's table first: a frame for it may cost an eviction, which may take
            // this very page out of memory (so the parent's record is read after it).
            if self
                .leaf_build_for(cx, csid, vpn << self.page_bits, psid)
                .is_none()
            {
                return self.fork_without_table(cx, child);
            }
            let Some(page) = self.page(psid, vpn).copied() else {
                continue;
            };
            if page.busy {
                // (A table frame is only ever taken from a clean, idle page: nothing
                // starts a transfer here. Should one be under way, the fork waits for it.)
                self.no_table = None;
                self.undo_fork(cx, child);
                return Forked::Busy(page_wait(psid, vpn));
            }
            if page.cached {
                // A shared file mapping's page: the child maps the page cache's frame
                // when it first touches it.
                continue;
            }
            let perm = cx
                .spaces
                .get(&csid)
                .map_or(Perm::RW, |m| page_perm(m, vpn, self.page_bits));
            match (page.frame, page.swap) {
                (Some(frame), _) if page.shared => {
                    // Shared memory: the same frame, writable in both (no copy).
                    let dirty = self.page_dirty(cx.hw, psid, vpn);
                    if let Some(s) = self.spaces.get_mut(&csid) {
                        s.pages.insert(
                            vpn,
                            Page {
                                frame: Some(frame),
                                shared: true,
                                dirty,
                                ..Page::default()
                            },
                        );
                        s.resident += 1;
                    }
                    self.table.map(frame, csid, vpn);
                    if !self.map(cx, csid, vpn, frame, perm, dirty) {
                        self.no_table = None;
                        self.undo_fork(cx, child);
                        return Forked::NoMemory("no frame for the child's page tables".into());
                    }
                    continue;
                }
                (Some(frame), _) => {
                    let dirty = self.page_dirty(cx.hw, psid, vpn);
                    if let Some(p) = self.page_mut(psid, vpn) {
                        p.cow = true;
                        p.dirty = dirty;
                    }
                    if perm.write {
                        // The parent's PTE loses W (D stays as it was).
                        let _ = self.map(cx, psid, vpn, frame, perm, dirty);
                        protected = true;
                    }
                    if let Some(slot) = page.swap {
                        self.swap.share(slot);
                    }
                    if let Some(s) = self.spaces.get_mut(&csid) {
                        s.pages.insert(
                            vpn,
                            Page {
                                frame: Some(frame),
                                swap: page.swap,
                                cow: true,
                                dirty,
                                ..Page::default()
                            },
                        );
                        s.resident += 1;
                    }
                    self.table.map(frame, csid, vpn);
                    // Under local replacement the frame counts against the child's quota
                    // too, so its policy may choose it (an eviction takes it from every
                    // policy that holds it).
                    if let Some(r) = self.spaces.get_mut(&csid).and_then(|s| s.repl.as_mut()) {
                        r.inserted(frame);
                    }
                    if !self.map(cx, csid, vpn, frame, perm, dirty) {
                        self.no_table = None;
                        self.undo_fork(cx, child);
                        return Forked::NoMemory("no frame for the child's page tables".into());
                    }
                }
                (None, Some(slot)) => {
                    if let Some(p) = self.page_mut(psid, vpn) {
                        p.cow = true;
                    }
                    self.swap.share(slot);
                    if let Some(s) = self.spaces.get_mut(&csid) {
                        s.pages.insert(
                            vpn,
                            Page {
                                swap: Some(slot),
                                cow: true,
                                ..Page::default()
                            },
                        );
                    }
                }
                (None, None) => continue,
            }
            self.stats.cow_shared += 1;
        }
        if protected {
            cx.hw.sfence(Flush::Asid { asid: parent_asid });
            cx.sv.stats.tlb_flushes += 1;
            let c = cx.sv.cost().tlb_flush;
            cx.sv.charge(cx.hw, c);
        }
        if self.simple {
            let waste = cx.spaces.get(&csid).map_or(0, |m| self.waste(&m.areas));
            self.stats.internal_fragmentation += waste;
            self.stats.internal_fragmentation_peak = self
                .stats
                .internal_fragmentation_peak
                .max(self.stats.internal_fragmentation);
        }
        Forked::Ready
    }

    /// A fork whose child's page table found no frame (`no_table` says why): undone; the
    /// parent waits for a frame while another process holds frames it will free (and
    /// forks again), else the fork fails.
    fn fork_without_table(&mut self, cx: &mut Cx, child: Pid) -> Forked {
        let why = self.no_table.take();
        self.undo_fork(cx, child);
        match why {
            Some(NoTable::Wait) => {
                self.stats.table_waits += 1;
                Forked::Busy(WaitOn::Frame)
            }
            Some(NoTable::Never(detail)) => Forked::NoMemory(detail),
            None => Forked::NoMemory("no frame for the child's page tables".into()),
        }
    }

    /// Takes back what a fork that failed gave `child` (its pages' shares, its tables).
    fn undo_fork(&mut self, cx: &mut Cx, child: Pid) {
        let mm = cx
            .procs
            .iter()
            .find(|p| p.pid == child)
            .and_then(|p| cx.spaces.get(&p.space));
        self.release(mm, child);
    }

    /// Frames simple paging needs for `p`: its pages and an upper bound on its tables.
    fn pages_needed(&self, mm: &AddressSpace) -> u64 {
        let pages = self.distinct_pages(&mm.areas);
        // One root, and at most one table per level below it per page (a loose bound that
        // is exact for small programs: a table per area and level).
        let levels = u64::from(self.format.levels());
        pages + 1 + (levels - 1) * mm.areas.len() as u64
    }

    /// The pages the areas touch, each counted once (a page holding the end of one area
    /// and the start of the next is one page). The areas are in address order and do not
    /// overlap.
    fn distinct_pages(&self, areas: &[crate::process::Area]) -> u64 {
        let mut pages = 0;
        let mut next = 0; // the first page not yet counted
        for a in areas.iter().filter(|a| a.end > a.start) {
            let first = (a.start >> self.page_bits).max(next);
            let end = a.end.div_ceil(self.page);
            pages += end.saturating_sub(first);
            next = next.max(end);
        }
        pages
    }

    /// Simple paging's internal fragmentation: the bytes of the pages the areas touch that
    /// no area holds.
    fn waste(&self, areas: &[crate::process::Area]) -> u64 {
        let held: u64 = areas.iter().map(|a| a.end.saturating_sub(a.start)).sum();
        (self.distinct_pages(areas) * self.page).saturating_sub(held)
    }

    /// Loads `pid`'s translation registers (a context switch).
    pub fn activate(&self, hw: &mut dyn Hw, pid: Pid) -> Result<(), String> {
        let sid = self.sid(pid);
        let Some(s) = self.spaces.get(&sid) else {
            return Err(format!("process {pid} has no address space"));
        };
        let satp = self.satp_mode << 60 | u64::from(s.asid) << 44 | s.root >> 12;
        hw.write_csr(csr::SATP, satp)
    }

    /// Handles a page fault of `pid` at `va`.
    pub fn fault(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome {
        let sid = self.sid(pid);
        let scheme = self.scheme();
        let kill = |cause: &'static str, detail: String| {
            Outcome::Kill(Kill {
                addr: va,
                pc,
                access: Some(access),
                cause,
                scheme,
                detail,
            })
        };
        let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) else {
            return Outcome::Resume;
        };
        let vpn = va >> self.page_bits;
        let store = access == Access::Store;
        // The area, growing the stack for an access just below it.
        let Some(p) = cx.mm(pid) else {
            return Outcome::Resume;
        };
        let area = match p.area_index(va) {
            Some(i) => i,
            None => {
                let stack = p.area_of(&AreaKind::Stack);
                let growable = !self.simple
                    && stack.is_some_and(|s| va < p.areas[s].start)
                    && va >= p.stack_floor
                    && !p.overlaps(va & !(self.page - 1), va + 1);
                match stack {
                    Some(s) if growable => {
                        if let Some(m) = cx.mm_mut(pid) {
                            m.areas[s].start = va & !(self.page - 1);
                        }
                        cx.sv.stats.stack_growths += 1;
                        cx.sv.event(
                            cx.hw,
                            Event::Fault {
                                pid,
                                va,
                                access,
                                kind: "stack",
                            },
                        );
                        s
                    }
                    Some(s) if va < p.areas[s].start && va >= p.stack_floor.saturating_sub(self.page) => {
                        return kill(
                            "stack-limit",
                            format!(
                                "the stack may grow down to {:#x} (os.stack_limit) and this is below it",
                                p.stack_floor
                            ),
                        )
                    }
                    _ => {
                        return kill("no-mapping", describe_gap(p, va));
                    }
                }
            }
        };
        let Some(a) = cx.mm(pid).map(|m| m.areas[area].clone()) else {
            return Outcome::Resume;
        };
        if !access.allowed_by(a.perm) {
            let what = access.verb();
            return kill(
                "permission",
                format!(
                    "{what} in {} [{:#x}, {:#x}), which is {}",
                    a.kind.name(),
                    a.start,
                    a.end,
                    a.perm.text()
                ),
            );
        }
        let page = self
            .spaces
            .get(&sid)
            .and_then(|s| s.pages.get(&vpn).copied())
            .unwrap_or_default();
        if page.busy {
            cx.waits.wait(pid, page_wait(sid, vpn));
            cx.sv.event(
                cx.hw,
                Event::Fault {
                    pid,
                    va,
                    access,
                    kind: "busy",
                },
            );
            return Outcome::Block;
        }
        if let (Some(frame), true, true) = (page.frame, page.cow, store) {
            return self.break_cow(cx, pid, vpn, frame, access, pc);
        }
        if let Some(frame) = page.frame {
            // Resident: the hardware wants A or D set (Svade: after Clock cleared A, or the
            // first store to a page mapped clean), or the PTE is stale. D stays if it was set.
            let ad = self.ad_only(cx.hw, sid, vpn, store);
            let dirty = store || self.page_dirty(cx.hw, sid, vpn);
            let perm = cx
                .mm(pid)
                .map_or(Perm::RW, |m| page_perm(m, vpn, self.page_bits));
            let _ = self.map(cx, sid, vpn, frame, perm, dirty);
            self.flush_page(cx.sv, cx.hw, sid, vpn);
            cx.fault(pi, pid, va, access, if ad { "ad" } else { "minor" });
            return Outcome::Resume;
        }
        // (Under simple paging a page of an area that has no frame is one madvise dropped,
        // or one that got none when its area became accessible: it comes back as
        // vm-paging's pages come, with no eviction to make room.)
        // The page-table path first: a table frame may cost an eviction, and must never take
        // the frame this page is about to get (tables stay until the process ends).
        if self.leaf_build(cx, sid, va).is_none() {
            return self.no_table(cx, pid, va, access);
        }
        // A frame: a free one within the allocation, else a victim.
        let pending = Pending {
            pid,
            space: sid,
            vpn,
            store,
            access,
            copy_of: None,
        };
        let frame = match self.frame_for(cx, &pending) {
            Ok(Some(f)) => f,
            Ok(None) => {
                // A dirty victim is being written out; the page follows it.
                self.reserve(sid, vpn);
                cx.waits.wait(pid, page_wait(sid, vpn));
                return Outcome::Block;
            }
            Err(detail) => return kill("out-of-memory", detail),
        };
        self.fill(cx, &pending, frame)
    }

    /// A store to a copy-on-write page resident in `frame`: if no other space maps the
    /// frame any more, the page takes it over (mapped writable, no copy); else it gets a
    /// frame of its own holding a copy (which may cost an eviction, or a wait for a
    /// write-back). Either way it no longer shares a swap slot.
    fn break_cow(
        &mut self,
        cx: &mut Cx,
        pid: Pid,
        vpn: u64,
        frame: u64,
        access: Access,
        pc: u64,
    ) -> Outcome {
        let sid = self.sid(pid);
        let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) else {
            return Outcome::Resume;
        };
        let va = vpn << self.page_bits;
        let perm = cx
            .mm(pid)
            .map_or(Perm::RW, |m| page_perm(m, vpn, self.page_bits));
        if self.table.maps(frame) > 1 {
            let pending = Pending {
                pid,
                space: sid,
                vpn,
                store: true,
                access,
                copy_of: Some(frame),
            };
            let new = match self.frame_for(cx, &pending) {
                Ok(Some(f)) => f,
                Ok(None) => {
                    // A dirty victim is being written out: the page waits for its frame,
                    // which then gets the copy (`written`).
                    self.reserve(sid, vpn);
                    cx.waits.wait(pid, page_wait(sid, vpn));
                    return Outcome::Block;
                }
                Err(detail) => {
                    return Outcome::Kill(Kill {
                        addr: va,
                        pc,
                        access: Some(access),
                        cause: "out-of-memory",
                        scheme: self.scheme(),
                        detail: format!("copying a copy-on-write page: {detail}"),
                    })
                }
            };
            self.cow_copy(cx, sid, vpn, frame, new);
            cx.fault(pi, pid, va, access, "cow");
            return Outcome::Resume;
        }
        // No other space maps the frame: the page takes it over. It is its own now, and
        // shares no swap slot either (its bytes will change).
        self.stats.cow_reused += 1;
        self.own_page(sid, vpn);
        let _ = self.map(cx, sid, vpn, frame, perm, true);
        self.flush_page(cx.sv, cx.hw, sid, vpn);
        cx.fault(pi, pid, va, access, "cow");
        Outcome::Resume
    }

    /// Gives page `vpn` of `sid`, resident in the shared frame `src` (or, when the policy
    /// chose `src` itself as the victim, no longer resident), a copy of its own in `new`,
    /// mapped writable and dirty.
    fn cow_copy(&mut self, cx: &mut Cx, sid: Sid, vpn: u64, src: u64, new: u64) {
        // Still in `src`: the page lets go of the shared frame and gets a copy. (Evicted:
        // its bytes are still in the frame, a clean victim, which is `new`.)
        if self.page(sid, vpn).and_then(|p| p.frame) == Some(src) {
            let mut bytes = vec![0u8; self.page as usize];
            cx.hw.read_phys(src, &mut bytes);
            cx.hw.write_phys(new, &bytes);
            self.drop_mapping(sid, vpn, src, true);
            if let Some(s) = self.spaces.get_mut(&sid) {
                s.resident = s.resident.saturating_sub(1);
                if let Some(p) = s.pages.get_mut(&vpn) {
                    p.frame = None;
                }
            }
        }
        let c = cx.sv.cost().copy_page;
        cx.sv.charge(cx.hw, c);
        self.stats.cow_copies += 1;
        self.own_page(sid, vpn);
        self.install(cx, sid, vpn, new, true);
        self.flush_page(cx.sv, cx.hw, sid, vpn);
    }

    /// Page `vpn` of `sid` is no longer copy-on-write: nothing of it is shared any more, so
    /// it lets go of its swap slot too (its bytes are about to change).
    fn own_page(&mut self, sid: Sid, vpn: u64) {
        let slot = self.page_mut(sid, vpn).and_then(|p| {
            p.cow = false;
            p.dirty = false;
            p.busy = false;
            p.swap.take()
        });
        if let Some(slot) = slot {
            self.slot_put(slot);
        }
    }

    /// Page `vpn` of space `sid` no longer maps `frame`. The last mapping frees the frame
    /// (with `free`; else a transfer under way frees it when it ends) and takes it out of
    /// its policy; a frame other spaces still map stays theirs, and under local
    /// replacement the policy of its next mapper takes it over.
    fn drop_mapping(&mut self, sid: Sid, vpn: u64, frame: u64, free: bool) {
        self.table.unmap(frame, sid, vpn);
        if self.table.maps(frame) == 0 {
            if free {
                self.frame_free(frame);
            }
            match self.global.as_mut() {
                Some(r) => r.removed(frame),
                None => {
                    // (Its policy is its first mapper's, which may be another space's.)
                    for s in self.spaces.values_mut() {
                        if let Some(r) = s.repl.as_mut().filter(|r| r.contains(frame)) {
                            r.removed(frame);
                        }
                    }
                }
            }
            return;
        }
        if self.global.is_some() {
            return;
        }
        let held = self
            .spaces
            .get(&sid)
            .and_then(|s| s.repl.as_ref())
            .is_some_and(|r| r.contains(frame));
        if held {
            if let Some(r) = self.spaces.get_mut(&sid).and_then(|s| s.repl.as_mut()) {
                r.removed(frame);
            }
            if let Some((next, _)) = self.table.owner(frame) {
                if let Some(r) = self
                    .spaces
                    .get_mut(&next)
                    .and_then(|s| s.repl.as_mut())
                    .filter(|r| !r.contains(frame))
                {
                    r.inserted(frame);
                }
            }
        }
    }

    /// A page lets go of swap slot `slot` (the slot is free once no page holds it).
    fn slot_put(&mut self, slot: u64) {
        if self.swap.put(slot) {
            self.stats.swap_used = self.stats.swap_used.saturating_sub(1);
        }
    }

    /// Unmaps page `vpn` of `sid` while a transfer of it is under way: its record is marked
    /// gone and stays until the transfer ends ([`Paging::settle`]). A copy-on-write page
    /// waiting for a frame for its copy lets go of the shared frame it maps at once; a
    /// frame being read in stays the read's.
    fn unmap_busy(&mut self, sv: &mut Services, hw: &mut dyn Hw, sid: Sid, vpn: u64, page: Page) {
        let mapped = page
            .frame
            .filter(|&f| !page.cached && !self.table.get(f).is_some_and(|t| t.busy));
        if let Some(frame) = mapped {
            self.clear_pte(sv, hw, sid, vpn);
            self.flush_page(sv, hw, sid, vpn);
            self.drop_mapping(sid, vpn, frame, true);
            if let Some(s) = self.spaces.get_mut(&sid) {
                s.resident = s.resident.saturating_sub(1);
                if let Some(p) = s.pages.get_mut(&vpn) {
                    p.frame = None;
                }
            }
        }
        if let Some(p) = self.page_mut(sid, vpn) {
            p.gone = true;
        }
    }

    /// A transfer of page `vpn` of `sid` ended: a page unmapped meanwhile (gone) that no
    /// transfer holds any more loses its record now, and lets go of its swap slot (a frame
    /// of it the caller frees).
    fn settle(&mut self, sid: Sid, vpn: u64) {
        if !self.page(sid, vpn).is_some_and(|p| p.gone && !p.busy) {
            return;
        }
        let Some(s) = self.spaces.get_mut(&sid) else {
            return;
        };
        let Some(p) = s.pages.remove(&vpn) else {
            return;
        };
        if p.frame.is_some() {
            s.resident = s.resident.saturating_sub(1);
        }
        if let Some(slot) = p.swap {
            self.slot_put(slot);
        }
    }

    fn reserve(&mut self, sid: Sid, vpn: u64) {
        if let Some(s) = self.spaces.get_mut(&sid) {
            s.pages.entry(vpn).or_default().busy = true;
        }
    }

    /// A frame for `pending`: `Ok(Some)` at once, `Ok(None)` when a dirty victim must be
    /// written first (the frame then goes to `pending`), `Err` when nothing can be evicted.
    fn frame_for(&mut self, cx: &mut Cx, pending: &Pending) -> Result<Option<u64>, String> {
        let sid = pending.space;
        let resident = self.spaces.get(&sid).map_or(0, |s| s.resident);
        let within = self.quota == 0 || resident < self.quota;
        if within {
            if let Some(f) = self.frame_alloc(Use::Page) {
                return Ok(Some(f));
            }
            // No frame is free: the page cache gives one back (a free frame of its own,
            // or a clean file page's) before any process page is evicted.
            if let Some(f) = self.reclaim_cache(cx, Use::Page) {
                return Ok(Some(f));
            }
        }
        let Some(victim) = self.choose_victim(cx, sid) else {
            return Err(format!(
                "no free frame and no page to evict ({} frames of user memory, os.frames_per_process = {})",
                self.stats.frames, self.quota
            ));
        };
        let Some((vsid, vvpn)) = self.table.owner(victim) else {
            return Err(format!(
                "the policy chose frame {victim:#x}, which holds no page"
            ));
        };
        self.evict(cx, vsid, vvpn, Some(pending.clone()))
            .map_err(|e| format!("evicting a page failed: {e}"))
    }

    /// The policy's victim for a page of space `sid` (global replacement: among every
    /// frame; local: among the space's own), taken out of the policy; `os.cost.replace`
    /// is charged.
    fn choose_victim(&mut self, cx: &mut Cx, sid: Sid) -> Option<u64> {
        let c = cx.sv.cost().replace;
        cx.sv.charge(cx.hw, c);
        // The policy chooses (its state is taken out while it reads the page tables).
        let mut repl = match self.global.take() {
            Some(r) => Some((r, true)),
            None => self
                .spaces
                .get_mut(&sid)
                .and_then(|s| s.repl.take())
                .map(|r| (r, false)),
        };
        let victim = match repl.as_mut() {
            Some((r, _)) => {
                let mut bits = Bits {
                    hw: &mut *cx.hw,
                    sv: &mut *cx.sv,
                    format: &self.format,
                    spaces: &self.spaces,
                    table: &self.table,
                    stats: &mut self.stats,
                };
                let fut = self.future.as_ref().map(|future| FrameFuture {
                    future,
                    table: &self.table,
                    spaces: &self.spaces,
                });
                r.victim(&mut bits, fut.as_ref().map(|f| f as &dyn Future))
            }
            None => None,
        };
        match repl {
            Some((r, true)) => self.global = Some(r),
            Some((r, false)) => {
                if let Some(s) = self.spaces.get_mut(&sid) {
                    s.repl = Some(r);
                }
            }
            None => {}
        }
        victim
    }

    /// Makes `need` frames free for a fork's page tables: the page cache's spare frames,
    /// clean pages (taken at once), and else the policy's victim, which is written out
    /// first: `Err(Busy)` then, and the fork runs again when the write is done. Simple
    /// paging takes nothing back (it cannot bring a page in again).
    fn make_room(&mut self, cx: &mut Cx, sid: Sid, need: u64) -> Result<(), Forked> {
        while self.frames.free_frames() < need {
            if self.simple {
                return Err(Forked::NoMemory(format!(
                    "the child's page tables need {need} frames and {} are free",
                    self.frames.free_frames()
                )));
            }
            if let Some(f) = self
                .reclaim_cache(cx, Use::Page)
                .or_else(|| self.evict_any(cx))
            {
                self.frame_free(f);
                continue;
            }
            let Some(victim) = self.choose_victim(cx, sid) else {
                return Err(Forked::NoMemory(
                    "no frame is free for the child's page tables and no page can be evicted"
                        .into(),
                ));
            };
            let Some((vsid, vvpn)) = self.table.owner(victim) else {
                return Err(Forked::NoMemory(format!(
                    "the policy chose frame {victim:#x}, which holds no page"
                )));
            };
            match self.evict(cx, vsid, vvpn, None) {
                Ok(Some(f)) => self.frame_free(f),
                Ok(None) => return Err(Forked::Busy(page_wait(vsid, vvpn))),
                Err(e) => return Err(Forked::NoMemory(e)),
            }
        }
        Ok(())
    }

    /// The page-table frames a space needs for the pages `vpns` (sorted): its root, and a
    /// table per level for each distinct range of pages one entry above covers.
    fn tables_for(&self, vpns: &[u64]) -> u64 {
        let levels = u32::from(self.format.levels());
        let per = u32::from(self.format.index_bits(0));
        let mut n = 1;
        for level in 1..levels {
            let shift = per * level;
            let mut last = None;
            for &v in vpns {
                let t = v >> shift;
                if last != Some(t) {
                    n += 1;
                    last = Some(t);
                }
            }
        }
        n
    }

    /// Evicts some user page for a page table, waiting for nothing: the first clean,
    /// resident, idle page in frame-address order (a dirty one would have to be written
    /// out first).
    fn evict_any(&mut self, cx: &mut Cx) -> Option<u64> {
        // Take the page in the lowest frame whose pages are clean and whose frame no disk
        // write still reads.
        let candidates: Vec<(u64, (Sid, u64))> = self.table.pages().collect();
        for (frame, (osid, ovpn)) in candidates {
            let maps = self
                .table
                .get(frame)
                .map(|f| f.rmap.clone())
                .unwrap_or_default();
            let busy = maps
                .iter()
                .any(|&(s, v)| self.page(s, v).is_none_or(|p| p.busy));
            if busy
                || self.table.under_writeback(frame)
                || maps.iter().any(|&(s, v)| self.page_dirty(cx.hw, s, v))
            {
                continue;
            }
            for &(s, _) in &maps {
                if let Some(r) = self.replacer(s) {
                    r.removed(frame);
                }
            }
            let got = self.evict(cx, osid, ovpn, None);
            if let Ok(Some(f)) = got {
                debug_assert_eq!(f, frame);
                return Some(f);
            }
        }
        None
    }

    /// Whether a fault on the resident page `vpn` only asked for its A or D bit (Svade):
    /// its leaf PTE is valid, and A is clear, or the access is a store and D is clear.
    fn ad_only(&self, hw: &dyn Hw, sid: Sid, vpn: u64, store: bool) -> bool {
        let Some(s) = self.spaces.get(&sid) else {
            return false;
        };
        let (a, d) = (self.format.a_mask(), self.format.d_mask());
        if a == 0 && d == 0 {
            return false;
        }
        let va = vpn << self.page_bits;
        let Some(pte) =
            leaf_addr(hw, &self.format, s.root, va).and_then(|pa| read_pte(hw, &self.format, pa))
        else {
            return false;
        };
        let valid = pte >> self.format.spec().valid & 1 == 1;
        valid && ((a != 0 && pte & a == 0) || (store && d != 0 && pte & d == 0))
    }

    fn page_dirty(&self, hw: &dyn Hw, sid: Sid, vpn: u64) -> bool {
        let Some(s) = self.spaces.get(&sid) else {
            return false;
        };
        if s.pages.get(&vpn).is_some_and(|p| p.dirty) {
            return true;
        }
        let va = vpn << self.page_bits;
        leaf_addr(hw, &self.format, s.root, va)
            .and_then(|pa| read_pte(hw, &self.format, pa))
            .is_some_and(|pte| pte & self.format.d_mask() != 0)
    }

    /// Clears the PTE of page `vpn` of `pid` (if its tables reach it), at the cost of a PTE
    /// write. The caller flushes the TLB entry.
    fn clear_pte(&self, sv: &mut Services, hw: &mut dyn Hw, sid: Sid, vpn: u64) {
        let Some(root) = self.spaces.get(&sid).map(|s| s.root) else {
            return;
        };
        let va = vpn << self.page_bits;
        if let Some(pa) = leaf_addr(hw, &self.format, root, va) {
            write_pte(hw, &self.format, pa, 0);
            sv.stats.pte_writes += 1;
            trace_pte(sv, hw, &self.format, self.owner(sid), (0, va, pa, 0));
            let c = sv.cost().pte_write;
            sv.charge(hw, c);
        }
    }

    fn flush_page(&self, sv: &mut Services, hw: &mut dyn Hw, sid: Sid, vpn: u64) {
        let asid = self.spaces.get(&sid).map_or(0, |s| s.asid);
        hw.sfence(Flush::AddrAsid {
            va: vpn << self.page_bits,
            asid,
        });
        sv.stats.tlb_flushes += 1;
        let c = sv.cost().tlb_flush;
        sv.charge(hw, c);
    }

    /// Takes the page `(vsid, vvpn)` out of memory, and with it every other page that maps
    /// its frame (address spaces share it after a fork): clears each PTE and flushes it; a
    /// dirty frame is written to the pages' swap slot (one slot, which every one of them
    /// then holds) and the frame goes to `then` when that finishes (`Ok(None)`); a clean
    /// frame is returned (`Ok(Some)`).
    fn evict(
        &mut self,
        cx: &mut Cx,
        vsid: Sid,
        vvpn: u64,
        then: Option<Pending>,
    ) -> Result<Option<u64>, String> {
        let owner = self.owner(vsid);
        let Some(space) = self.spaces.get(&vsid) else {
            return Err(format!("no address space of process {owner}"));
        };
        let Some(frame) = space.pages.get(&vvpn).and_then(|p| p.frame) else {
            return Err(format!("page {vvpn:#x} of process {owner} is not resident"));
        };
        // Every page mapping the frame, the chosen one first.
        let mut maps = vec![(vsid, vvpn)];
        if let Some(f) = self.table.get(frame) {
            maps.extend(f.rmap.iter().copied().filter(|&m| m != (vsid, vvpn)));
        }
        let va = vvpn << self.page_bits;
        let mut dirty = false;
        for &(s, v) in &maps {
            dirty |= self.page_dirty(cx.hw, s, v);
        }
        for &(s, v) in &maps {
            self.clear_pte(cx.sv, cx.hw, s, v);
            self.flush_page(cx.sv, cx.hw, s, v);
        }
        self.stats.evictions += 1;
        for &(s, v) in &maps {
            self.table.unmap(frame, s, v);
        }
        if self.global.is_none() && maps.len() > 1 {
            // A shared frame may be in the policy of each space that maps it.
            for sp in self.spaces.values_mut() {
                if let Some(r) = sp.repl.as_mut().filter(|r| r.contains(frame)) {
                    r.removed(frame);
                }
            }
        }
        let for_pid = then.as_ref().map_or(owner, |t| t.pid);
        cx.sv.event(
            cx.hw,
            Event::Evict {
                pid: owner,
                va,
                pa: frame,
                dirty,
                for_pid,
            },
        );
        // A dirty frame goes to the pages' swap slot (a new one if they have none).
        let existing = maps
            .iter()
            .find_map(|&(s, v)| self.page(s, v).and_then(|p| p.swap));
        let slot = if dirty {
            match existing.or_else(|| self.swap.alloc()) {
                Some(s) => Some(s),
                None => return Err("the swap area is full; enlarge the disk".into()),
            }
        } else {
            None
        };
        let mut holders = u32::from(existing.is_some());
        for &(s, v) in &maps {
            let Some(sp) = self.spaces.get_mut(&s) else {
                continue;
            };
            sp.resident = sp.resident.saturating_sub(1);
            let p = sp.pages.entry(v).or_default();
            p.frame = None;
            p.dirty = false;
            if let Some(slot) = slot {
                if p.swap != Some(slot) {
                    if p.swap.is_some() {
                        // (Pages mapping one frame hold one slot; a stray one goes.)
                        let old = p.swap.take();
                        if let Some(old) = old {
                            if self.swap.put(old) {
                                self.stats.swap_used = self.stats.swap_used.saturating_sub(1);
                            }
                        }
                    }
                    let p = sp.pages.entry(v).or_default();
                    p.swap = Some(slot);
                    if holders == 0 {
                        self.stats.swap_used += 1;
                        self.stats.swap_peak = self.stats.swap_peak.max(self.stats.swap_used);
                    } else {
                        self.swap.share(slot);
                    }
                    holders += 1;
                }
                let p = sp.pages.entry(v).or_default();
                p.busy = true;
                p.writing = true;
            }
        }
        let after = match then {
            Some(p) => AfterWrite::Give(p),
            None => AfterWrite::Free,
        };
        let block = match slot {
            Some(slot) => self.swap.first_block + slot * self.blocks_per_page,
            None if self.table.under_writeback(frame) => {
                // Clean, but a write still reads the frame: it serves the next page when
                // that write completes.
                self.table.defer(frame, after);
                return Ok(None);
            }
            None => return Ok(Some(frame)),
        };
        // Write it out; the frame serves `then` (or is free) when the write completes.
        let tag = Tag::PageOut {
            space: vsid,
            vpn: vvpn,
            frame,
            slot,
            others: maps[1..].to_vec(),
        };
        let req = Request {
            op: DiskOp::Write,
            block,
            count: self.blocks_per_page,
            pa: frame,
            pid: owner,
        };
        if let Err(e) = cx.disk.start(cx.sv, cx.hw, req, tag) {
            // The pages stay where they are.
            for &(s, v) in &maps {
                self.keep(cx, s, v, frame);
            }
            return Err(format!("writing a page out failed: {e}"));
        }
        self.table.writeback_begin(frame);
        self.table.defer(frame, after);
        self.stats.writebacks += 1;
        cx.sv.stats.pages_out += 1;
        if let Some(p) = cx.procs.iter_mut().find(|p| p.pid == owner) {
            p.stats.pages_out += 1;
        }
        Ok(None)
    }

    /// Fills `frame` for `pending`: from swap or the image (a major fault: the process
    /// blocks), or with zeros (minor: it resumes).
    fn fill(&mut self, cx: &mut Cx, pending: &Pending, frame: u64) -> Outcome {
        let (pid, sid, vpn) = (pending.pid, pending.space, pending.vpn);
        let Some(pi) = cx.procs.iter().position(|p| p.pid == pid) else {
            self.frame_free(frame);
            return Outcome::Resume;
        };
        let va = vpn << self.page_bits;
        let swap_slot = self.page(sid, vpn).and_then(|p| p.swap);
        if swap_slot.is_none()
            && cx
                .mm(pid)
                .and_then(|m| m.area(va))
                .is_some_and(|a| matches!(a.kind, AreaKind::Mapped { .. }))
        {
            // A page of a guest file's mapping comes through the page cache, which the
            // kernel reaches: the frame goes back and the access faults anew.
            if let Some(s) = self.spaces.get_mut(&sid) {
                if s.pages.get(&vpn).is_some_and(|p| p.frame.is_none()) {
                    s.pages.remove(&vpn);
                }
            }
            self.frame_free(frame);
            return Outcome::Resume;
        }
        let (swap, image) = match self.spaces.get(&sid) {
            Some(s) => (
                s.pages.get(&vpn).and_then(|p| p.swap),
                s.image.get(&vpn).copied(),
            ),
            None => (None, None),
        };
        // A page written out to swap comes back from there; a program page from the image;
        // anything else is zeros (a file mapping's pages come through the page cache).
        let from = swap
            .map(|slot| self.swap.first_block + slot * self.blocks_per_page)
            .or(image);
        let access = pending.access;
        match from {
            Some(block) => {
                if let Some(s) = self.spaces.get_mut(&sid) {
                    let p = s.pages.entry(vpn).or_default();
                    p.frame = Some(frame);
                    p.busy = true;
                    s.resident += 1;
                }
                self.table.map(frame, sid, vpn);
                self.table.set_busy(frame, true);
                let tag = Tag::PageIn {
                    space: sid,
                    vpn,
                    frame,
                    store: pending.store,
                };
                let req = Request {
                    op: DiskOp::Read,
                    block,
                    count: self.blocks_per_page,
                    pa: frame,
                    pid,
                };
                if let Err(e) = cx.disk.start(cx.sv, cx.hw, req, tag) {
                    // Nothing will fill the frame: it goes, and so does the process.
                    if let Some(s) = self.spaces.get_mut(&sid) {
                        if let Some(p) = s.pages.get_mut(&vpn) {
                            p.frame = None;
                            p.busy = false;
                        }
                        s.resident = s.resident.saturating_sub(1);
                    }
                    self.table.unmap(frame, sid, vpn);
                    self.frame_free(frame);
                    return Outcome::Kill(Kill {
                        addr: va,
                        pc: cx.procs[pi].pc,
                        access: Some(access),
                        cause: "io-error",
                        scheme: self.scheme(),
                        detail: format!("reading its page from disk block {block} failed: {e}"),
                    });
                }
                cx.sv.stats.pages_in += 1;
                cx.procs[pi].stats.pages_in += 1;
                cx.waits.wait(pid, page_wait(sid, vpn));
                cx.fault(pi, pid, va, access, "major");
                Outcome::Block
            }
            None => {
                self.zero(cx.sv, cx.hw, frame);
                // (The initial stack's page holds the arguments, and is dirty from the
                // start.)
                let start = cx.fill_start(pid, va, frame, self.page);
                self.install(cx, sid, vpn, frame, pending.store || start);
                cx.fault(pi, pid, va, access, "minor");
                Outcome::Resume
            }
        }
    }

    /// Maps a filled frame and tells the policy.
    fn install(&mut self, cx: &mut Cx, sid: Sid, vpn: u64, frame: u64, store: bool) {
        let perm = cx
            .spaces
            .get(&sid)
            .map_or(Perm::RW, |m| page_perm(m, vpn, self.page_bits));
        if let Some(s) = self.spaces.get_mut(&sid) {
            let p = s.pages.entry(vpn).or_default();
            if p.frame.is_none() {
                s.resident += 1;
            }
            p.frame = Some(frame);
            p.busy = false;
        }
        self.table.map(frame, sid, vpn);
        self.table.set_busy(frame, false);
        // (Simple paging maps writable pages dirty, as it does at admission: nothing is
        // ever written out, so no store need fault to set D.)
        let dirty = store || (self.simple && perm.write);
        let _ = self.map(cx, sid, vpn, frame, perm, dirty);
        if let Some(r) = self.replacer(sid) {
            r.inserted(frame);
        }
    }

    /// A disk request finished, for good (the driver retried a failed one first): what it
    /// means for the processes.
    pub fn disk_done(&mut self, cx: &mut Cx, done: Done<Tag>) -> Finished {
        match done.result {
            Ok(()) => self.completed(cx, done.tag),
            Err(e) => self.failed(cx, done.tag, done.request, e),
        }
    }

    /// A request that never moved its data, given up on: a read leaves its frame
    /// meaningless, so the process whose page it was dies (SIGBUS, as Linux does for an I/O
    /// error on a page-in); a page-out leaves the page where it is, resident and dirty (the
    /// page that waited for its frame faults again and finds another); a file write-back
    /// leaves the page dirty if it is still mapped, and is reported as lost if not.
    fn failed(&mut self, cx: &mut Cx, tag: Tag, req: Request, e: DiskError) -> Finished {
        let mut f = Finished::default();
        let scheme = self.scheme();
        match tag {
            Tag::Load { .. } | Tag::PageIn { .. } => {
                let (sid, vpn) = match tag {
                    Tag::Load { pid, vpn, .. } => (self.sid(pid), vpn),
                    Tag::PageIn { space, vpn, .. } => (space, vpn),
                    _ => return f,
                };
                let va = vpn << self.page_bits;
                let what = if matches!(tag, Tag::Load { .. }) {
                    "loading"
                } else {
                    "reading"
                };
                // Every process running in the address space dies.
                for p in cx
                    .procs
                    .iter()
                    .filter(|p| p.space == sid && !p.state.ended())
                {
                    f.killed.push((
                        p.pid,
                        Kill {
                            addr: va,
                            pc: p.pc,
                            access: None,
                            cause: "io-error",
                            scheme,
                            detail: format!(
                                "{what} its page at {va:#x} from disk block {} failed: {e}",
                                req.block
                            ),
                        },
                    ));
                }
                // The bookkeeping of a read that completed; the process's end frees the rest.
                if let Tag::PageIn { frame, .. } = tag {
                    self.table.unmap(frame, sid, vpn);
                    self.frame_free(frame);
                    if self.page(sid, vpn).is_some_and(|p| p.frame == Some(frame)) {
                        if let Some(p) = self.page_mut(sid, vpn) {
                            p.busy = false;
                            p.gone = true;
                        }
                        self.settle(sid, vpn);
                    }
                    f.woken.extend(cx.waits.wake_all(page_wait(sid, vpn)));
                } else if let Tag::Load { frame, .. } = tag {
                    self.table.set_busy(frame, false);
                    match self.page_mut(sid, vpn) {
                        Some(p) => p.busy = false,
                        // The process was killed meanwhile: its release left the frame
                        // to this request.
                        None => self.frame_free(frame),
                    }
                }
            }
            Tag::PageOut {
                space,
                vpn,
                frame,
                ref others,
                ..
            } => {
                let pages: Vec<(Sid, u64)> = std::iter::once((space, vpn))
                    .chain(others.iter().copied())
                    .filter(|&(s, v)| {
                        self.page(s, v)
                            .is_some_and(|p| p.frame.is_none() && !p.gone)
                    })
                    .collect();
                if pages.is_empty() {
                    // Its owners ended meanwhile: nothing is lost, the frame goes on as if
                    // the write had worked.
                    return self.completed(cx, tag);
                }
                let va = vpn << self.page_bits;
                cx.sv.message(
                    cx.hw,
                    format!(
                        "process {}: its page at {va:#x} could not be written out to disk block {} ({e}); it stays in memory",
                        self.owner(space),
                        req.block
                    ),
                );
                // What waited for the frame faults again.
                if let Some(AfterWrite::Give(pending)) = self.table.writeback_end(frame) {
                    f.woken.extend(self.unreserve(cx, &pending));
                }
                for (s, v) in pages {
                    self.keep(cx, s, v, frame);
                    f.woken.extend(cx.waits.wake_all(page_wait(s, v)));
                }
                // Pages unmapped while the write ran go now.
                for (s, v) in std::iter::once((space, vpn)).chain(others.iter().copied()) {
                    if let Some(p) = self.page_mut(s, v).filter(|p| p.gone && p.writing) {
                        p.busy = false;
                        p.writing = false;
                        self.settle(s, v);
                        f.woken.extend(cx.waits.wake_all(page_wait(s, v)));
                    }
                }
            }
            Tag::Seg(_) | Tag::Cache { .. } => {}
        }
        f
    }

    /// `pending` will not get the frame it waited for: its page is no longer reserved, and
    /// it runs again (its access faults anew). Returns it if it may run now.
    fn unreserve(&mut self, cx: &mut Cx, pending: &Pending) -> Vec<Pid> {
        if let Some(s) = self.spaces.get_mut(&pending.space) {
            let empty = s
                .pages
                .get(&pending.vpn)
                .is_some_and(|p| p.frame.is_none() && p.swap.is_none());
            if empty {
                s.pages.remove(&pending.vpn);
            } else if let Some(p) = s.pages.get_mut(&pending.vpn).filter(|p| !p.writing) {
                p.busy = false;
            }
        }
        self.settle(pending.space, pending.vpn);
        cx.waits.wake_all(page_wait(pending.space, pending.vpn))
    }

    /// Puts an evicted page whose write-out failed back where it was: resident in `frame`,
    /// mapped dirty (its data is only there), known to the policy again.
    fn keep(&mut self, cx: &mut Cx, sid: Sid, vpn: u64, frame: u64) {
        if let Some(p) = self.page_mut(sid, vpn) {
            p.writing = false;
            p.dirty = true;
        }
        self.table.claim(frame, Use::Page);
        self.install(cx, sid, vpn, frame, true);
    }

    fn scheme(&self) -> &'static str {
        if self.simple {
            "simple-paging"
        } else {
            "vm-paging"
        }
    }

    /// A disk request completed and moved its data; returns the processes it unblocks.
    fn completed(&mut self, cx: &mut Cx, tag: Tag) -> Finished {
        let mut woken = Vec::new();
        let mut killed = Vec::new();
        match tag {
            Tag::Load { pid, vpn, frame } => match self.spaces.get_mut(&self.sid(pid)) {
                Some(s) => {
                    self.table.set_busy(frame, false);
                    if let Some(p) = s.pages.get_mut(&vpn) {
                        p.busy = false;
                    }
                    s.loading = s.loading.saturating_sub(1);
                    if s.loading == 0 {
                        woken.push(pid);
                    }
                }
                // The process was killed meanwhile: its release left this frame to us.
                None => self.frame_free(frame),
            },
            Tag::PageIn {
                space: sid,
                vpn,
                frame,
                store,
            } => {
                // Still mapped if any area holds a byte of the page (an area need not start
                // on a page boundary: a data segment linked after text's page, .sbss after
                // .sdata).
                let va = vpn << self.page_bits;
                let still_mapped = cx
                    .spaces
                    .get(&sid)
                    .is_some_and(|m| m.overlaps(va, va + self.page));
                let live = self
                    .page(sid, vpn)
                    .is_some_and(|p| !p.gone && p.frame == Some(frame));
                if live && still_mapped {
                    self.install(cx, sid, vpn, frame, store);
                    woken.extend(cx.waits.wake_all(page_wait(sid, vpn)));
                } else {
                    // The process ended, or unmapped the page while it was read in: the
                    // frame, the record and its swap slot go (a retried access faults
                    // anew).
                    self.table.unmap(frame, sid, vpn);
                    self.frame_free(frame);
                    if self.page(sid, vpn).is_some_and(|p| p.frame == Some(frame)) {
                        if let Some(p) = self.page_mut(sid, vpn) {
                            p.busy = false;
                            p.gone = true;
                        }
                        self.settle(sid, vpn);
                    }
                    woken.extend(cx.waits.wake_all(page_wait(sid, vpn)));
                }
            }
            Tag::PageOut {
                space,
                vpn,
                frame,
                slot,
                others,
            } => {
                for (s, v) in std::iter::once((space, vpn)).chain(others) {
                    match self.page_mut(s, v) {
                        Some(p) if p.writing => {
                            p.busy = false;
                            p.writing = false;
                            // (Unmapped while it was written: it goes now.)
                            self.settle(s, v);
                        }
                        Some(_) => {}
                        // Its owner ended meanwhile: it lets go of the slot now.
                        None => {
                            if let Some(slot) = slot {
                                self.slot_put(slot);
                            }
                        }
                    }
                    woken.extend(cx.waits.wake_all(page_wait(s, v)));
                }
                let f = self.written(cx, frame);
                woken.extend(f.woken);
                killed.extend(f.killed);
            }
            Tag::Seg(_) | Tag::Cache { .. } => {}
        }
        woken.sort_unstable();
        woken.dedup();
        Finished { woken, killed }
    }

    /// A disk write from `frame` completed: once no write reads the frame any more, what
    /// waited for it happens (the frame goes to the allocator, or to the page that waits
    /// for it). Returns the processes that may run again.
    fn written(&mut self, cx: &mut Cx, frame: u64) -> Finished {
        let mut f = Finished::default();
        let woken = &mut f.woken;
        match self.table.writeback_end(frame) {
            None => {}
            Some(AfterWrite::Give(pending)) if self.spaces.contains_key(&pending.space) => {
                // (A page whose own write-out is under way stays busy until that ends.)
                if let Some(p) = self.page_mut(pending.space, pending.vpn) {
                    if !p.writing {
                        p.busy = false;
                    }
                }
                if self
                    .page(pending.space, pending.vpn)
                    .is_some_and(|p| p.gone)
                {
                    // The page was unmapped while it waited: the frame goes back.
                    self.settle(pending.space, pending.vpn);
                    self.frame_free(frame);
                    woken.extend(cx.waits.wake_all(page_wait(pending.space, pending.vpn)));
                    return f;
                }
                self.table.claim(frame, Use::Page);
                if let Some(src) = pending.copy_of {
                    // A copy-on-write fault waited for this frame: the copy goes in it, if
                    // the page still maps the shared frame (else the frame goes, and the
                    // process's store faults anew).
                    let still = self
                        .page(pending.space, pending.vpn)
                        .is_some_and(|p| p.frame == Some(src) && p.cow);
                    if still {
                        self.cow_copy(cx, pending.space, pending.vpn, src, frame);
                    } else {
                        self.frame_free(frame);
                    }
                    woken.extend(cx.waits.wake_all(page_wait(pending.space, pending.vpn)));
                    return f;
                }
                // The process still waits on its page: for the read now, if there is one.
                match self.fill(cx, &pending, frame) {
                    Outcome::Resume => {
                        woken.extend(cx.waits.wake_all(page_wait(pending.space, pending.vpn)))
                    }
                    Outcome::Block => {}
                    Outcome::Kill(k) => f.killed.push((pending.pid, k)),
                }
            }
            Some(_) => self.frame_free(frame),
        }
        f
    }

    /// Records a reference to `va` by `pid` (exact LRU, OPT's position).
    pub fn referenced(&mut self, pid: Pid, va: u64) {
        let sid = self.sid(pid);
        if let Some(f) = self.future.as_mut() {
            f.advance(pid);
        }
        // Only LRU orders by references (the others ignore them): find the frame then.
        if self.policy != Policy::Lru {
            return;
        }
        let frame = self.page(sid, va >> self.page_bits).and_then(|p| p.frame);
        if let (Some(frame), Some(r)) = (frame, self.replacer(sid)) {
            r.referenced(frame);
        }
    }

    /// Whether the policy needs every reference.
    pub fn wants_references(&self) -> bool {
        !self.simple && matches!(self.policy, Policy::Lru | Policy::Opt)
    }

    /// The page number of `va`.
    pub fn vpn(&self, va: u64) -> u64 {
        va >> self.page_bits
    }

    /// The physical address of `va` in `pid`'s space if its page is resident and mapped.
    pub fn resident_pa(&self, hw: &dyn Hw, sid: Sid, va: u64) -> Option<u64> {
        let s = self.spaces.get(&sid)?;
        let p = s.pages.get(&(va >> self.page_bits))?;
        if p.busy {
            return None;
        }
        Some(p.frame? | (va & (self.page - 1)))
            .filter(|_| leaf_addr(hw, &self.format, s.root, va).is_some())
    }

    /// Releases pages `[start, end)` of `pid` (munmap, a shrinking heap).
    pub fn unmap(&mut self, sv: &mut Services, hw: &mut dyn Hw, pid: Pid, start: u64, end: u64) {
        let sid = self.sid(pid);
        let first = start >> self.page_bits;
        let last = end.div_ceil(self.page);
        let vpns: Vec<u64> = match self.spaces.get(&sid) {
            Some(s) => s.pages.range(first..last).map(|(&v, _)| v).collect(),
            None => return,
        };
        for vpn in vpns {
            let Some(page) = self
                .spaces
                .get(&sid)
                .and_then(|s| s.pages.get(&vpn).copied())
            else {
                continue;
            };
            if page.busy {
                // A transfer is under way: the page goes when it ends.
                self.unmap_busy(sv, hw, sid, vpn, page);
                continue;
            }
            if let Some(frame) = page.frame {
                self.clear_pte(sv, hw, sid, vpn);
                self.flush_page(sv, hw, sid, vpn);
                if !page.cached {
                    self.drop_mapping(sid, vpn, frame, true);
                }
            }
            if let Some(slot) = page.swap {
                self.slot_put(slot);
            }
            if let Some(s) = self.spaces.get_mut(&sid) {
                if page.frame.is_some() && !page.cached {
                    s.resident = s.resident.saturating_sub(1);
                }
                s.pages.remove(&vpn);
            }
        }
    }

    /// Whether page `va` of `pid` must come from its file ([`Scheme::needs_file_page`]).
    pub fn needs_file_page(&self, pid: Pid, va: u64) -> bool {
        let sid = self.sid(pid);
        if self.simple {
            return false;
        }
        self.page(sid, va >> self.page_bits)
            .is_none_or(|p| p.frame.is_none() && p.swap.is_none() && !p.busy)
    }

    /// Maps the page-cache frame `frame` at `va` of `pid` ([`Scheme::map_cached`]).
    pub fn map_cached(
        &mut self,
        cx: &mut Cx,
        pid: Pid,
        va: u64,
        frame: u64,
        store: bool,
    ) -> Outcome {
        let sid = self.sid(pid);
        let access = if store { Access::Store } else { Access::Load };
        if self.leaf_build(cx, sid, va).is_none() {
            return self.no_table(cx, pid, va, access);
        }
        let vpn = va >> self.page_bits;
        let perm = cx
            .mm(pid)
            .map_or(Perm::R, |m| page_perm(m, vpn, self.page_bits));
        if let Some(s) = self.spaces.get_mut(&sid) {
            s.pages.insert(
                vpn,
                Page {
                    frame: Some(frame),
                    cached: true,
                    ..Page::default()
                },
            );
        }
        let _ = self.map(cx, sid, vpn, frame, perm, store);
        self.flush_page(cx.sv, cx.hw, sid, vpn);
        Outcome::Resume
    }

    /// A private copy of the page-cache frame `frame` for `va` of `pid`
    /// ([`Scheme::copy_cached`]).
    pub fn copy_cached(
        &mut self,
        cx: &mut Cx,
        pid: Pid,
        va: u64,
        src: u64,
        access: Access,
    ) -> Outcome {
        let sid = self.sid(pid);
        if self.leaf_build(cx, sid, va).is_none() {
            return self.no_table(cx, pid, va, access);
        }
        let vpn = va >> self.page_bits;
        let pending = Pending {
            pid,
            space: sid,
            vpn,
            store: access == Access::Store,
            access,
            copy_of: None,
        };
        match self.frame_for(cx, &pending) {
            Ok(Some(frame)) => {
                let mut bytes = vec![0u8; self.page as usize];
                cx.hw.read_phys(src, &mut bytes);
                cx.hw.write_phys(frame, &bytes);
                let c = cx.sv.cost().copy_page;
                cx.sv.charge(cx.hw, c);
                self.install(cx, sid, vpn, frame, pending.store);
                Outcome::Resume
            }
            Ok(None) => {
                // A dirty victim is being written out; the access faults again after it.
                self.reserve(sid, vpn);
                cx.waits.wait(pid, page_wait(sid, vpn));
                Outcome::Block
            }
            Err(detail) => Outcome::Kill(Kill {
                addr: va,
                pc: cx.procs.iter().find(|p| p.pid == pid).map_or(0, |p| p.pc),
                access: Some(access),
                cause: "out-of-memory",
                scheme: self.scheme(),
                detail,
            }),
        }
    }

    /// Unmaps the cached page at `vpn` of `pid` ([`Scheme::drop_cached`]).
    pub fn drop_cached(&mut self, cx: &mut Cx, pid: Pid, vpn: u64) -> Option<bool> {
        let sid = self.sid(pid);
        let p = *self.page(sid, vpn)?;
        if !p.cached {
            return None;
        }
        let dirty = self.page_dirty(cx.hw, sid, vpn);
        self.clear_pte(cx.sv, cx.hw, sid, vpn);
        self.flush_page(cx.sv, cx.hw, sid, vpn);
        if let Some(s) = self.spaces.get_mut(&sid) {
            s.pages.remove(&vpn);
        }
        Some(dirty)
    }

    /// Maps the cached page at `vpn` of `pid` clean ([`Scheme::clean_cached`]).
    pub fn clean_cached(&mut self, cx: &mut Cx, pid: Pid, vpn: u64) -> bool {
        let sid = self.sid(pid);
        let Some(p) = self.page(sid, vpn).copied() else {
            return false;
        };
        let (true, Some(frame)) = (p.cached, p.frame) else {
            return false;
        };
        let dirty = self.page_dirty(cx.hw, sid, vpn);
        if dirty {
            let perm = cx
                .mm(pid)
                .map_or(Perm::R, |m| page_perm(m, vpn, self.page_bits));
            if perm.read || perm.exec {
                let _ = self.map(cx, sid, vpn, frame, perm, false);
                self.flush_page(cx.sv, cx.hw, sid, vpn);
            }
            if let Some(p) = self.page_mut(sid, vpn) {
                p.dirty = false;
            }
        }
        dirty
    }

    /// Changes the permissions of resident pages in `[start, end)` to `perm`.
    pub fn protect(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64, perm: Perm) {
        let sid = self.sid(pid);
        let resident = self.resident_in(sid, start, end);
        for (vpn, frame) in resident {
            let dirty = self.page_dirty(cx.hw, sid, vpn);
            let perm = cx
                .mm(pid)
                .map_or(perm, |m| page_perm(m, vpn, self.page_bits));
            if !perm.read && !perm.exec {
                // No access at all (PROT_NONE): a leaf needs R or X, so the PTE goes; the page
                // stays resident, and remembers being dirty for its write-back.
                self.clear_pte(cx.sv, cx.hw, sid, vpn);
                if let Some(p) = self.page_mut(sid, vpn) {
                    p.dirty = dirty;
                }
            } else {
                let _ = self.map(cx, sid, vpn, frame, perm, dirty);
            }
            self.flush_page(cx.sv, cx.hw, sid, vpn);
        }
        // Simple paging: pages that had no frame (they were PROT_NONE) get theirs now; any
        // the frames do not reach come on their first access.
        if self.simple {
            let _ = self.populate(cx, pid, start, end, perm);
        }
    }

    /// Simple paging: the pages of `[start, end)` of `pid` (populated) are shared memory, a
    /// `MAP_SHARED | MAP_ANONYMOUS` mapping: a `fork` gives the child the same frames,
    /// writable (simple paging maps no files, so this is how it shares).
    pub fn share_anon(&mut self, pid: Pid, start: u64, end: u64) {
        let sid = self.sid(pid);
        let (first, last) = (start >> self.page_bits, end.div_ceil(self.page));
        if let Some(s) = self.spaces.get_mut(&sid) {
            for (_, p) in s.pages.range_mut(first..last) {
                p.shared = true;
            }
        }
    }

    /// Simple paging: gives `[start, end)` of `pid` frames now (a growing heap). False if
    /// the frames run out (the pages mapped so far stay). Pages no access may touch
    /// (`PROT_NONE`) get none: a leaf needs R or X, and nothing can use them until
    /// `mprotect` gives them frames ([`Paging::protect`]).
    pub fn populate(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64, perm: Perm) -> bool {
        let sid = self.sid(pid);
        if !self.simple || !(perm.read || perm.exec) {
            return true;
        }
        let mut va = start & !(self.page - 1);
        while va < end {
            let vpn = va >> self.page_bits;
            // (A page with bytes in the program's image comes from there on its first
            // access: only one admission left without a frame, being PROT_NONE, has them.)
            let have = self
                .spaces
                .get(&sid)
                .is_some_and(|s| s.pages.contains_key(&vpn) || s.image.contains_key(&vpn));
            if !have {
                let Some(frame) = self.frame_alloc(Use::Page) else {
                    return false;
                };
                self.zero(cx.sv, cx.hw, frame);
                if !self.map(cx, sid, vpn, frame, perm, perm.write) {
                    self.frame_free(frame);
                    return false;
                }
                self.table.map(frame, sid, vpn);
                if let Some(s) = self.spaces.get_mut(&sid) {
                    s.pages.insert(
                        vpn,
                        Page {
                            frame: Some(frame),
                            ..Page::default()
                        },
                    );
                    s.resident += 1;
                }
            }
            va += self.page;
        }
        true
    }

    /// Frees everything `pid` holds (it exited or was killed).
    pub fn release(&mut self, mm: Option<&AddressSpace>, pid: Pid) {
        let sid = self.sid(pid);
        self.sid_of.remove(&pid);
        if self.sid_of.values().any(|&s| s == sid) {
            // Other processes (threads) still run in the space.
            return;
        }
        // (The space stays in the map while its pages go, so that a frame another space
        // still maps can pass from its policy to that space's.)
        let Some(pages) = self
            .spaces
            .get_mut(&sid)
            .map(|s| std::mem::take(&mut s.pages))
        else {
            return;
        };
        if let Some(m) = mm {
            if self.simple {
                self.stats.internal_fragmentation = self
                    .stats
                    .internal_fragmentation
                    .saturating_sub(self.waste(&m.areas));
            }
        }
        for (vpn, page) in &pages {
            if page.cached {
                // The page cache's frame (the kernel told the cache first).
                continue;
            }
            if let Some(frame) = page.frame {
                // A frame with a read in flight is freed when the read completes (the
                // completion finds no space and frees nothing twice: see disk_done). A
                // frame other spaces still map (copy-on-write) stays theirs.
                let reading = self.table.get(frame).is_some_and(|f| f.busy);
                self.drop_mapping(sid, *vpn, frame, !reading);
            }
            if let Some(slot) = page.swap {
                // A slot being written is let go of when the write completes (disk_done).
                if !page.writing {
                    self.slot_put(slot);
                }
            }
        }
        let Some(space) = self.spaces.remove(&sid) else {
            return;
        };
        for t in &space.tables {
            self.frame_free(*t);
        }
        self.stats.table_frames = self
            .stats
            .table_frames
            .saturating_sub(space.tables.len() as u64);
    }

    /// Frames free now.
    pub fn free_frames(&self) -> u64 {
        self.frames.free_frames()
    }

    /// Walks the scheme's counters under `os.paging.NAME`.
    pub fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        let s = &self.stats;
        for (n, v) in [
            ("frames", s.frames),
            ("frames_free", self.frames.free_frames()),
            ("peak_frames", s.peak_frames),
            ("table_frames", s.table_frames),
            ("evictions", s.evictions),
            ("writebacks", s.writebacks),
            ("a_cleared", s.a_cleared),
            ("waits.page_table", s.table_waits),
            ("cow.shared", s.cow_shared),
            ("cow.copies", s.cow_copies),
            ("cow.reused", s.cow_reused),
            ("exec_images", s.exec_images),
            ("swap_slots", self.swap.slots),
            ("swap_used", s.swap_used),
            ("swap_peak", s.swap_peak),
            ("internal_fragmentation", s.internal_fragmentation),
            ("internal_fragmentation_peak", s.internal_fragmentation_peak),
            ("buddy.splits", self.frames.stats().splits),
            ("buddy.merges", self.frames.stats().merges),
        ] {
            f(&format!("os.paging.{n}"), v);
        }
    }
}

/// Words for an address no area holds: which areas lie around it.
fn describe_gap(mm: &AddressSpace, va: u64) -> String {
    let below = mm.areas.iter().rev().find(|a| a.end <= va);
    let above = mm.areas.iter().find(|a| a.start > va);
    let side = |a: Option<&crate::process::Area>| match a {
        Some(a) => format!("{} [{:#x}, {:#x})", a.kind.name(), a.start, a.end),
        None => "nothing".into(),
    };
    format!(
        "no area of the address space holds it (below: {}; above: {})",
        side(below),
        side(above)
    )
}

/// The permissions a page's PTE gets: the union of those of every area that overlaps the
/// page (a page shared by text and data, as a linker may lay them out, is mapped `rwx`: the
/// hardware cannot protect part of a page).
fn page_perm(mm: &AddressSpace, vpn: u64, page_bits: u32) -> Perm {
    let start = vpn << page_bits;
    let end = start + (1u64 << page_bits);
    let mut perm = Perm::default();
    for a in mm.areas.iter().filter(|a| a.start < end && start < a.end) {
        perm.read |= a.perm.read;
        perm.write |= a.perm.write;
        perm.exec |= a.perm.exec;
    }
    perm
}

impl Paging {
    /// Runs `f`, then records the frame table's changes it made (while tracing) as
    /// `frame` events, stamped with the clock when it returns.
    fn traced<R>(&mut self, cx: &mut Cx, f: impl FnOnce(&mut Paging, &mut Cx) -> R) -> R {
        let r = f(self, cx);
        if cx.sv.trace.is_some() {
            for e in self.take_frame_events() {
                cx.sv.event(cx.hw, e);
            }
        }
        r
    }
}

impl Scheme for Paging {
    fn resident_bytes(&self, pid: Pid) -> u64 {
        let sid = self.sid(pid);
        self.spaces
            .get(&sid)
            .map_or(0, |s| s.resident.saturating_mul(self.page))
    }

    fn memory_use(&self, pid: Pid) -> crate::scheme::MemUse {
        // Each page of the space mapped to a frame it is in the reverse map of counts once,
        // shared with every mapping the frame table lists (copy-on-write sharers). Cached
        // pages are the page cache's (its reverse map counts their mappers): the kernel
        // adds them. A frame reserved for a page still being read in is not mapped yet.
        let sid = self.sid(pid);
        let mut m = crate::scheme::MemUse::default();
        for (&vpn, p) in self
            .spaces
            .get(&sid)
            .map(|s| &s.pages)
            .into_iter()
            .flatten()
        {
            let Some(frame) = p.frame.filter(|_| !p.cached) else {
                continue;
            };
            if let Some(f) = self
                .table
                .get(frame)
                .filter(|f| f.rmap.contains(&(sid, vpn)))
            {
                m.add(self.page, f.rmap.len() as u64);
            }
        }
        m
    }

    fn root(&self, pid: Pid) -> Option<u64> {
        let sid = self.sid(pid);
        self.spaces.get(&sid).map(|s| s.root)
    }

    fn set_frame_log(&mut self, on: bool) {
        self.table.set_log(on);
    }

    fn take_frame_events(&mut self) -> Vec<Event> {
        let bits = self.page_bits;
        self.table
            .take_log()
            .into_iter()
            .map(|c| {
                let page = c.holds == Use::Page;
                Event::Frame {
                    pa: c.pa,
                    holds: c.holds.name(),
                    pid: match c.holds {
                        Use::Table { pid } => Some(pid),
                        _ if page => c.first.map(|m| self.owner(m.0)),
                        _ => None,
                    },
                    va: c.first.filter(|_| page).map(|m| m.1 << bits),
                    maps: (c.maps > 1).then_some(c.maps),
                }
            })
            .collect()
    }

    fn frame_census(&self) -> Option<[u64; 5]> {
        Some(self.table.census())
    }

    fn kind(&self) -> SchemeKind {
        if self.simple {
            SchemeKind::SimplePaging
        } else {
            SchemeKind::VmPaging
        }
    }

    /// The heap from the page after the image, the stack below `os.stack_top`, growing
    /// down to `os.stack_top - os.stack_limit`.
    fn layout(&self, cfg: &OsConfig, image: &Image) -> Result<Layout, String> {
        let heap_start = image.end().next_multiple_of(self.page);
        let stack_top = cfg.stack_top;
        let stack_floor = stack_top.saturating_sub(cfg.stack_limit);
        if heap_start >= stack_floor {
            return Err(format!(
                "{}: the program ends at {:#x}, above the lowest the stack may reach ({stack_floor:#x}: os.stack_top - os.stack_limit)",
                image.name,
                image.end()
            ));
        }
        Ok(Layout {
            heap_start,
            brk_limit: heap_start.saturating_add(cfg.heap_limit).min(stack_floor),
            stack_top,
            stack_start: stack_top - cfg.stack_size.next_multiple_of(self.page),
            stack_floor,
        })
    }

    fn place_image(
        &mut self,
        hw: &mut dyn Hw,
        disk: &DiskDriver<Tag>,
        pid: Pid,
        image: &Image,
    ) -> Result<(), String> {
        Paging::place_image(self, hw, disk, pid, image)
    }

    fn layout_swap(&mut self, disk: &DiskDriver<Tag>) {
        Paging::layout_swap(self, disk)
    }

    fn place_exec(
        &mut self,
        hw: &mut dyn Hw,
        _disk: &DiskDriver<Tag>,
        _pid: Pid,
        space: Sid,
        image: &Image,
    ) -> Result<(), String> {
        Paging::place_exec(self, hw, space, image)
    }

    fn reserve_disk(&mut self, disk: &DiskDriver<Tag>, blocks: u64) -> Option<(u64, u64)> {
        // From the end of the disk: the swap area keeps its place right after the images.
        crate::scheme::reserve_from_end(self.next_block, &mut self.disk_end, disk.blocks, blocks)
    }

    fn admit(&mut self, cx: &mut Cx, pid: Pid) -> Admit {
        self.traced(cx, |s, cx| Paging::admit(s, cx, pid))
    }

    fn stored(&mut self, pid: Pid, va: u64, len: u64) {
        let sid = self.sid(pid);
        let (first, end) = (
            va >> self.page_bits,
            va.saturating_add(len).div_ceil(self.page),
        );
        if let Some(s) = self.spaces.get_mut(&sid) {
            for (_, p) in s.pages.range_mut(first..end) {
                if p.frame.is_some() && !p.cached {
                    p.dirty = true;
                }
            }
        }
    }

    fn fork(&mut self, cx: &mut Cx, parent: Pid, child: Pid) -> Forked {
        self.traced(cx, |s, cx| Paging::fork(s, cx, parent, child))
    }

    fn activate(&mut self, hw: &mut dyn Hw, pid: Pid, asid: u16) -> Result<(), String> {
        let sid = self.sid(pid);
        if let Some(s) = self.spaces.get_mut(&sid) {
            s.asid = asid;
        }
        Paging::activate(self, hw, pid)
    }

    fn fault(&mut self, cx: &mut Cx, pid: Pid, va: u64, access: Access, pc: u64) -> Outcome {
        self.traced(cx, |s, cx| Paging::fault(s, cx, pid, va, access, pc))
    }

    fn disk_done(&mut self, cx: &mut Cx, done: Done<Tag>) -> Finished {
        self.traced(cx, |s, cx| Paging::disk_done(s, cx, done))
    }

    fn shares_spaces(&self) -> bool {
        true
    }

    fn share_space(&mut self, _cx: &mut Cx, parent: Pid, child: Pid) -> Result<(), String> {
        let sid = self.sid(parent);
        if !self.spaces.contains_key(&sid) {
            return Err(format!("process {parent} has no address space"));
        }
        self.sid_of.insert(child, sid);
        Ok(())
    }

    fn release(&mut self, cx: &mut Cx, pid: Pid) {
        self.traced(cx, |s, cx| Paging::release(s, cx.mm(pid), pid))
    }

    fn user_addr(
        &self,
        hw: &dyn Hw,
        mm: Option<&AddressSpace>,
        pid: Pid,
        va: u64,
        access: Access,
    ) -> UserAddr {
        let allowed = mm
            .and_then(|m| m.area(va))
            .is_some_and(|a| access.allowed_by(a.perm));
        if !allowed {
            return UserAddr::Invalid;
        }
        let sid = mm.map_or(self.sid(pid), |m| m.id);
        if access == Access::Store && self.page(sid, va >> self.page_bits).is_some_and(|p| p.cow) {
            // The kernel's store breaks the sharing first, as the process's own would.
            return UserAddr::Absent;
        }
        match self.resident_pa(hw, sid, va) {
            Some(pa) => UserAddr::Mapped {
                pa,
                len: self.page - (va & (self.page - 1)),
            },
            None => UserAddr::Absent,
        }
    }

    fn set_brk(&mut self, cx: &mut Cx, pid: Pid, old: u64, new: u64) -> Option<u64> {
        let old_end = old.next_multiple_of(self.page);
        let new_end = new.next_multiple_of(self.page);
        self.traced(cx, |s, cx| {
            if new_end > old_end {
                if !Paging::populate(s, cx, pid, old_end, new_end, Perm::RW) {
                    return None;
                }
            } else if new_end < old_end {
                Paging::unmap(s, cx.sv, cx.hw, pid, new_end, old_end);
            }
            Some(new_end)
        })
    }

    fn heap_end(&self, brk: u64) -> u64 {
        brk.next_multiple_of(self.page)
    }

    fn for_each_stat(&self, f: &mut dyn FnMut(&str, u64)) {
        Paging::for_each_stat(self, f)
    }

    fn free_bytes(&self) -> Option<u64> {
        Some(self.free_frames() * self.page)
    }

    fn page_size(&self) -> Option<u64> {
        Some(self.page)
    }

    fn demand_paged(&self) -> bool {
        !self.simple
    }

    fn populate(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64, perm: Perm) -> bool {
        self.traced(cx, |s, cx| Paging::populate(s, cx, pid, start, end, perm))
    }

    fn share_anon(&mut self, pid: Pid, start: u64, end: u64) {
        Paging::share_anon(self, pid, start, end)
    }

    fn unmap(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64) {
        self.traced(cx, |s, cx| Paging::unmap(s, cx.sv, cx.hw, pid, start, end))
    }

    fn discard(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64) {
        // Simple paging's shared anonymous pages have no file to come back from: they
        // stay (Linux's shmem pages keep their contents through MADV_DONTNEED).
        let sid = self.sid(pid);
        let (first, last) = (start >> self.page_bits, end.div_ceil(self.page));
        let kept: Vec<u64> = self
            .spaces
            .get(&sid)
            .map(|s| {
                s.pages
                    .range(first..last)
                    .filter(|(_, p)| p.shared)
                    .map(|(&v, _)| v)
                    .collect()
            })
            .unwrap_or_default();
        let mut from = first;
        for v in kept.into_iter().chain(std::iter::once(last)) {
            if from < v {
                let (a, b) = (from << self.page_bits, v << self.page_bits);
                self.traced(cx, |s, cx| Paging::unmap(s, cx.sv, cx.hw, pid, a, b));
            }
            from = v + 1;
        }
    }

    fn protect(&mut self, cx: &mut Cx, pid: Pid, start: u64, end: u64, perm: Perm) {
        self.traced(cx, |s, cx| Paging::protect(s, cx, pid, start, end, perm))
    }

    fn wants_references(&self) -> bool {
        Paging::wants_references(self)
    }

    fn needs_file_page(&self, pid: Pid, va: u64) -> bool {
        Paging::needs_file_page(self, pid, va)
    }

    fn lend_frame(&mut self, cx: &mut Cx, must: bool) -> Option<u64> {
        self.traced(cx, |s, cx| Paging::lend_frame(s, cx, must))
    }

    fn map_cached(&mut self, cx: &mut Cx, pid: Pid, va: u64, frame: u64, store: bool) -> Outcome {
        self.traced(cx, |s, cx| Paging::map_cached(s, cx, pid, va, frame, store))
    }

    fn copy_cached(
        &mut self,
        cx: &mut Cx,
        pid: Pid,
        va: u64,
        frame: u64,
        access: Access,
    ) -> Outcome {
        self.traced(cx, |s, cx| {
            Paging::copy_cached(s, cx, pid, va, frame, access)
        })
    }

    fn drop_cached(&mut self, cx: &mut Cx, pid: Pid, vpn: u64) -> Option<bool> {
        self.traced(cx, |s, cx| Paging::drop_cached(s, cx, pid, vpn))
    }

    fn clean_cached(&mut self, cx: &mut Cx, pid: Pid, vpn: u64) -> bool {
        self.traced(cx, |s, cx| Paging::clean_cached(s, cx, pid, vpn))
    }

    fn referenced(&mut self, pid: Pid, va: u64) {
        Paging::referenced(self, pid, va)
    }

    fn set_future(&mut self, future: OptFuture) {
        Paging::set_future(self, future)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page table is built only while the frames that are not page tables still give
    /// each process with tables [`DATA_RESERVE`] frames of pages.
    #[test]
    fn a_page_table_leaves_room_for_pages() {
        let cfg = OsConfig::default();
        let mut p = Paging::new(&cfg, Arc::new(Format::sv39()), 0x8000_0000, 32).unwrap();
        // Eight processes admitted (a root each); six built their two tables below it.
        for pid in 1..=8 {
            let tables = if pid <= 6 { vec![0; 3] } else { vec![0] };
            p.spaces.insert(
                pid,
                Space {
                    tables,
                    ..Space::default()
                },
            );
        }
        p.stats.table_frames = 8 + 6 * 2;
        // 20 table frames + 1 + 2 x 7 processes = 35 > 32: the seventh waits.
        assert!(!p.room_for_table(7));
        // Nor one of the six: 20 + 1 + 2 x 6 = 33 > 32.
        assert!(!p.room_for_table(1));
        // With the sixth gone (its three frames free) the seventh fits: 17 + 1 + 2 x 6 = 30.
        p.spaces.remove(&6);
        p.stats.table_frames -= 3;
        assert!(p.room_for_table(7));
    }
}
