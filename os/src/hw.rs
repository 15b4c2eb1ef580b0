//! What the kernel may do to the machine: the interface between the modelled kernel and the
//! hardware it runs on.
//!
//! The kernel is the machine's M-mode trap handler, written in Rust. It never reaches into
//! the units' internals: it reads and writes the hart's registers and CSRs as trap-handling
//! code would (translation registers through `satp` and vmlab's custom CSRs, so the MMU
//! loads them exactly as it does for a guest's `csrw`), writes page tables into physical
//! memory where the walker reads them, issues `sfence.vma`, and drives the disk controller
//! and the timer through their memory-mapped registers. The root crate's hosted machine
//! implements this trait.

use vmlab_devices::disk::DiskFault;
use vmlab_mmu::Flush;

/// Where the devices the kernel drives sit, and how fast the timer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Devices {
    /// The CLINT's base address, if the machine has one.
    pub clint: Option<u64>,
    /// Cycles per `mtime` tick.
    pub timer_divider: u64,
    /// The disk controller's base address, if the machine has one.
    pub disk: Option<u64>,
    /// The disk's block size in bytes (0 without a disk).
    pub block_size: u64,
    /// The disk's size in blocks (0 without a disk).
    pub blocks: u64,
    /// The clock's rate in cycles per second (the modelled time `clock_gettime` reads is
    /// cycles divided by it).
    pub clock_hz: u64,
}

/// The machine as the kernel sees it.
pub trait Hw {
    /// The modelled clock.
    fn now(&self) -> u64;
    /// Instructions retired so far.
    fn retired(&self) -> u64;
    /// Spends `cycles` of kernel work: the clock and the counters advance, and devices whose
    /// events fall due are ticked.
    fn charge(&mut self, cycles: u64);
    /// Nothing can run: the hart waits for the next device event. Returns the cycles it
    /// waited, or `None` when no device has anything scheduled (nothing can ever wake it).
    fn idle(&mut self) -> Option<u64>;

    /// The integer registers.
    fn regs(&self) -> [u64; 32];
    /// The floating-point registers `f0..f31` (raw 64-bit values) and `fcsr`.
    fn fp_regs(&self) -> ([u64; 32], u64);
    /// Sets the floating-point registers and `fcsr` (on a hart without F, nothing).
    fn set_fp_regs(&mut self, f: &[u64; 32], fcsr: u64);
    /// Why the hart finds instruction `insn` illegal, when it can say more than that it is
    /// not an instruction: its extension is not enabled, the FP unit is off
    /// (`mstatus.FS`), a reserved rounding mode.
    fn illegal_reason(&self, insn: u32) -> Option<String>;
    /// Sets the integer registers (x0 stays 0).
    fn set_regs(&mut self, x: &[u64; 32]);
    /// Returns from the trap to U-mode at `pc`, as `mret` with `mstatus.MPP = U` does.
    fn enter_user(&mut self, pc: u64);
    /// Reads a CSR as M-mode code would.
    fn read_csr(&self, addr: u16) -> u64;
    /// Writes a CSR as M-mode code would, with its side effects (a translation CSR loads the
    /// MMU's new mode). Returns an error message if the MMU refused the mode.
    fn write_csr(&mut self, addr: u16, value: u64) -> Result<(), String>;
    /// `sfence.vma` with the given scope.
    fn sfence(&mut self, flush: Flush);

    /// The RAM's base address and size.
    fn ram(&self) -> (u64, u64);
    /// Reads physical memory (RAM only) without timing; false if any byte is outside RAM.
    fn read_phys(&self, pa: u64, buf: &mut [u8]) -> bool;
    /// Writes physical memory (RAM only) without timing; false if any byte is outside RAM.
    fn write_phys(&mut self, pa: u64, data: &[u8]) -> bool;
    /// Copies `len` bytes of RAM from `from` to `to` (as `memmove`) with timed loads and
    /// stores of 8 bytes through the caches, and charges the cycles they take; returns them.
    fn copy_phys_timed(&mut self, from: u64, to: u64, len: u64) -> u64;

    /// The timing of an 8-byte load (or store, `write`) the running process makes at `va`,
    /// for work the kernel does in the process's place (the allocators of `os.malloc`
    /// reading and writing their metadata in the process's heap): through the TLB (a miss
    /// walks the page table) and the caches, with the cycles charged and returned. No data
    /// moves (the kernel reads and writes the bytes untimed); a translation that faults
    /// charges what the walk took and nothing more. The default charges nothing.
    fn user_access_timed(&mut self, _va: u64, _write: bool) -> u64 {
        0
    }

    /// A timed 8-byte load from a device register; the access's cycles are charged.
    fn mmio_read(&mut self, pa: u64) -> u64;
    /// A timed 8-byte store to a device register; the access's cycles are charged.
    fn mmio_write(&mut self, pa: u64, value: u64);

    /// The devices the kernel drives.
    fn devices(&self) -> Devices;
    /// The disk requests that completed, in completion order, starting with the `from`-th
    /// completion since reset (the controller's completion queue): each id with its outcome
    /// (a read or write error, a timeout, a DMA error).
    fn disk_completed(&self, from: usize) -> Vec<(u64, Result<(), DiskFault>)>;
    /// Writes blocks onto the disk at boot, before the clock starts (the files a program
    /// image or a mapped file come from were on the disk already).
    fn disk_preload(&mut self, block: u64, data: &[u8]) -> Result<(), String>;
    /// Reads blocks of the disk without timing (for reports and tests).
    fn disk_peek(&mut self, block: u64, buf: &mut [u8]) -> Result<(), String>;

    /// Bytes a process wrote to its standard output (`fd` 1) or standard error (`fd` 2).
    fn output(&mut self, fd: u64, bytes: &[u8]);
    /// Reads the guest's standard input into `buf`: the bytes read, 0 at its end.
    fn input(&mut self, buf: &mut [u8]) -> usize;
    /// Whether standard input (0), output (1) or error (2) is a terminal.
    fn is_terminal(&self, fd: u64) -> bool;
}
