//! The machine as the modelled kernel sees it: [`vmlab_os::Hw`] for [`Machine`].
//!
//! Everything here does what M-mode trap-handling code on this machine would do, with the
//! same effects: CSR writes go through the CSR file (a translation CSR loads the MMU's mode
//! exactly as a guest `csrw` does), device registers are reached with timed accesses
//! through the memory system, and the kernel's own work advances the clock as a charge.

use super::Machine;
use vmlab_cpu::csr::{changes_translation, mstatus};
use vmlab_cpu::trap::mret;
use vmlab_cpu::vmcsr::translation_mode;
use vmlab_devices::disk::DiskFault;
use vmlab_devices::diskctl::DiskController;
use vmlab_devices::memory::AccessKind;
use vmlab_devices::Cycle;
use vmlab_mmu::{Flush, Privilege};
use vmlab_os::{Devices, Hw};

impl Machine {
    /// Advances the clock by `cycles` outside any instruction (kernel work or waiting):
    /// `mcycle` counts them, and devices whose events fall due are ticked.
    pub(crate) fn pass(&mut self, cycles: u64) {
        self.hart.csrs.tick(cycles, 0);
        self.now = self.now.saturating_add(cycles);
        self.sync_devices();
    }

    /// Ticks the devices if an event is due, and re-reads their interrupt lines.
    fn sync_devices(&mut self) {
        self.next_event = self.mem.next_event().map(|c| c.0);
        if self.next_event.is_some_and(|e| e <= self.now) {
            self.mem.tick(Cycle(self.now));
            self.next_event = self.mem.next_event().map(|c| c.0);
        }
        self.lines = self.mem.interrupts();
        self.hart.csrs.mip_lines = self.lines;
        self.collect_output();
    }

    /// A timed physical access on the kernel's behalf; its cycles are charged.
    fn kernel_access(&mut self, kind: AccessKind, pa: u64, value: u64) -> u64 {
        self.mem.set_now(Cycle(self.now));
        let (v, c) = self.mem.access(kind, pa, 8, value).unwrap_or((0, Cycle(0)));
        self.pass(c.0);
        v
    }
}

impl Hw for Machine {
    fn now(&self) -> u64 {
        self.now
    }

    fn retired(&self) -> u64 {
        self.pipeline.stats().retired
    }

    fn charge(&mut self, cycles: u64) {
        self.pass(cycles);
    }

    fn idle(&mut self) -> Option<u64> {
        let wake = self.mem.next_event()?.0;
        let d = wake.saturating_sub(self.now);
        if d > 0 {
            self.pipeline.wait(d);
        }
        self.pass(d);
        Some(d)
    }

    fn regs(&self) -> [u64; 32] {
        self.hart.x
    }

    fn fp_regs(&self) -> ([u64; 32], u64) {
        let s = self.hart.fp_state();
        (s.f, s.fcsr)
    }

    fn set_fp_regs(&mut self, f: &[u64; 32], fcsr: u64) {
        self.hart
            .set_fp_state(&vmlab_cpu::hart::FpState { f: *f, fcsr });
    }

    fn illegal_reason(&self, insn: u32) -> Option<String> {
        self.hart.illegal_reason(insn)
    }

    fn set_regs(&mut self, x: &[u64; 32]) {
        self.hart.x = *x;
        self.hart.x[0] = 0;
    }

    fn enter_user(&mut self, pc: u64) {
        let c = &mut self.hart.csrs;
        c.mepc = pc;
        c.mstatus &= !mstatus::MPP;
        let (to, pc) = mret(c, Privilege::Machine).unwrap_or((Privilege::User, pc));
        if to != self.hart.privilege {
            self.front.epoch.advance();
        }
        self.hart.privilege = to;
        self.hart.pc = pc;
        self.hart.reservation = None;
        self.hart.waiting = false;
        // The kernel's `mret`: a serialising instruction.
        self.front.fetch_buf.flush();
        self.entering = None;
    }

    fn read_csr(&self, addr: u16) -> u64 {
        self.hart.csrs.raw_read(addr)
    }

    fn write_csr(&mut self, addr: u16, value: u64) -> Result<(), String> {
        self.hart
            .csrs
            .write(addr, Privilege::Machine, value)
            .map_err(|e| format!("CSR {addr:#x}: {e:?}"))?;
        if changes_translation(addr) {
            let c = &self.hart.csrs;
            let mode = translation_mode(c.satp_mode(), c.satp_root(), &c.vm, &self.front.formats);
            self.apply_mode(mode);
            if self.hart.csrs.vm.status & 1 != 0 {
                return Err(format!(
                    "the MMU refused the mode (vmstatus {:#x})",
                    self.hart.csrs.vm.status
                ));
            }
        }
        Ok(())
    }

    fn sfence(&mut self, flush: Flush) {
        self.mmu.flush(flush);
        self.front.epoch.advance();
    }

    fn ram(&self) -> (u64, u64) {
        (self.mem.ram().base(), self.mem.ram().size())
    }

    fn read_phys(&self, pa: u64, buf: &mut [u8]) -> bool {
        self.mem.ram().peek_bytes(pa, buf).is_ok()
    }

    fn write_phys(&mut self, pa: u64, data: &[u8]) -> bool {
        // RAM changes under the hart (a page read in, an image loaded): not a translation
        // change, but the refetch the kernel's `fence.i` would force.
        self.front.fetch_buf.flush();
        self.mem.ram_mut().write_bytes(pa, data).is_ok()
    }

    fn copy_phys_timed(&mut self, from: u64, to: u64, len: u64) -> u64 {
        let start = self.now;
        let mut buf = vec![0u8; len as usize];
        if self.mem.ram().peek_bytes(from, &mut buf).is_err() {
            return 0;
        }
        // The copy's memory traffic: a load and a store per 8 bytes through the caches.
        let mut off = 0;
        while off < len {
            self.kernel_access(AccessKind::Load, from + off, 0);
            self.kernel_access(AccessKind::Store, to + off, 0);
            off += 8;
        }
        let _ = self.mem.ram_mut().write_bytes(to, &buf);
        self.front.fetch_buf.flush();
        self.now - start
    }

    fn user_access_timed(&mut self, va: u64, write: bool) -> u64 {
        let start = self.now;
        let kind = if write {
            vmlab_mmu::AccessKind::Store
        } else {
            vmlab_mmu::AccessKind::Load
        };
        let mut ctx = self.hart.csrs.mmu_context(Privilege::User, kind);
        ctx.privilege = Privilege::User;
        self.mem.set_now(Cycle(self.now));
        let req = vmlab_mmu::Request::new(va & !7, kind, 8, ctx);
        match self.mmu.translate(req, &mut self.mem) {
            Ok(t) => {
                self.pass(t.cycles.0);
                if write {
                    // A store of the bytes already there: the line is brought in and
                    // dirtied as the real store would, and the data stays the kernel's.
                    let mut old = [0u8; 8];
                    if self.mem.ram().peek_bytes(t.pa, &mut old).is_ok() {
                        self.kernel_access(AccessKind::Store, t.pa, u64::from_le_bytes(old));
                    }
                } else {
                    self.kernel_access(AccessKind::Load, t.pa, 0);
                }
            }
            Err(f) => self.pass(f.cycles.0),
        }
        self.now - start
    }

    fn mmio_read(&mut self, pa: u64) -> u64 {
        self.kernel_access(AccessKind::Load, pa, 0)
    }

    fn mmio_write(&mut self, pa: u64, value: u64) {
        self.kernel_access(AccessKind::Store, pa, value);
    }

    fn devices(&self) -> Devices {
        let m = &self.cfg.memory;
        let disk = self.mem.bus().device::<DiskController>();
        Devices {
            clint: m.clint.enabled.then_some(m.clint.base),
            timer_divider: m.clint.divider,
            disk: disk.map(|d| d.base()),
            block_size: disk.map_or(0, |d| d.disk().block_size()),
            blocks: disk.map_or(0, |d| d.disk().blocks()),
            clock_hz: m.diskctl.disk.clock_hz,
        }
    }

    fn disk_completed(&self, from: usize) -> Vec<(u64, Result<(), DiskFault>)> {
        self.mem
            .bus()
            .device::<DiskController>()
            .map(|d| {
                d.completions()
                    .iter()
                    .skip(from)
                    .map(|c| (c.id, c.result()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn disk_preload(&mut self, block: u64, data: &[u8]) -> Result<(), String> {
        match self.mem.bus_mut().device_mut::<DiskController>() {
            Some(d) => d
                .disk_mut()
                .write_blocks(block, data)
                .map_err(|e| e.to_string()),
            None => Err("the machine has no disk".into()),
        }
    }

    fn disk_peek(&mut self, block: u64, buf: &mut [u8]) -> Result<(), String> {
        match self.mem.bus_mut().device_mut::<DiskController>() {
            Some(d) => d
                .disk_mut()
                .read_blocks(block, buf)
                .map_err(|e| e.to_string()),
            None => Err("the machine has no disk".into()),
        }
    }

    fn output(&mut self, fd: u64, bytes: &[u8]) {
        if fd == 2 {
            self.guest_io.errors.extend_from_slice(bytes);
        } else {
            self.output.extend_from_slice(bytes);
        }
    }

    fn input(&mut self, buf: &mut [u8]) -> usize {
        self.guest_io.read(buf)
    }

    fn is_terminal(&self, fd: u64) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.guest_io.terminal.get(i))
            .copied()
            .unwrap_or(false)
    }
}
