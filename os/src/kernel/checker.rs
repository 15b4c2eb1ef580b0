//! The kernel's side of `--memcheck` ([`crate::memcheck`]): it tells the checker about each
//! process it starts, the system calls it serves (their arguments, the memory they read
//! and write, the break and the mappings they change), the allocation calls its own
//! allocators serve, and each process's end; and it lets the checker read a process's
//! memory without side effects.

use super::Kernel;
use crate::hw::Hw;
use crate::image::Image;
use crate::memcheck::{Func, Memcheck, Peek, ProcessInfo, Redirect};
use crate::process::{Access, AddressSpace, Pid};
use crate::scheme::{Scheme, UserAddr};
use std::collections::HashMap;
use std::rc::Rc;
use vmlab_cpu::debuginfo::DebugInfo;
use vmlab_cpu::isa::Insn;

/// A process's memory as it is now, read through its scheme (pages not in memory read as
/// missing: nothing is faulted in).
pub(super) struct KernelPeek<'a> {
    mem: &'a dyn Scheme,
    mm: Option<&'a AddressSpace>,
    hw: &'a mut dyn Hw,
    pid: Pid,
}

impl Peek for KernelPeek<'_> {
    fn peek(&mut self, va: u64, buf: &mut [u8]) -> bool {
        let mut done = 0usize;
        while done < buf.len() {
            let at = va.wrapping_add(done as u64);
            match self
                .mem
                .user_addr(self.hw, self.mm, self.pid, at, Access::Load)
            {
                UserAddr::Mapped { pa, len } => {
                    let n = (len as usize).min(buf.len() - done).max(1);
                    if !self.hw.read_phys(pa, &mut buf[done..done + n]) {
                        return false;
                    }
                    done += n;
                }
                _ => return false,
            }
        }
        true
    }

    fn poke(&mut self, va: u64, bytes: &[u8]) -> bool {
        let mut done = 0usize;
        while done < bytes.len() {
            let at = va.wrapping_add(done as u64);
            match self
                .mem
                .user_addr(self.hw, self.mm, self.pid, at, Access::Store)
            {
                UserAddr::Mapped { pa, len } => {
                    let n = (len as usize).min(bytes.len() - done).max(1);
                    if !self.hw.write_phys(pa, &bytes[done..done + n]) {
                        return false;
                    }
                    done += n;
                }
                _ => return false,
            }
        }
        true
    }
}

/// What the checker needs of an image before its process is laid out.
pub(super) struct Pending {
    name: String,
    debug: Option<Rc<DebugInfo>>,
    funcs: HashMap<u64, Func>,
    libc: bool,
    not_roots: Vec<(u64, u64)>,
}

impl Kernel {
    /// The checker's view of `image`; an error if it cannot check it (no `malloc` and
    /// `free` of its own to observe).
    pub(super) fn memcheck_image(&self, image: &Image) -> Result<Option<Pending>, String> {
        if self.memcheck.is_none() {
            return Ok(None);
        }
        if let Some(why) = image.missing_malloc() {
            return Err(format!(
                "{}: --memcheck watches the program's malloc and free, but {why}",
                image.name
            ));
        }
        let libc = self.cfg.malloc == crate::config::MallocKind::Libc;
        let mut funcs: HashMap<u64, Func> = image
            .str_fns
            .iter()
            .map(|&(a, f)| (a, Func::Str(f)))
            .collect();
        if libc {
            funcs.extend(image.alloc_calls.iter().map(|&(a, c)| (a, Func::Alloc(c))));
        }
        let debug = DebugInfo::parse(&image.file.0)
            .ok()
            .map(|d| Rc::new(d.with_bias(image.bias)));
        Ok(Some(Pending {
            name: image.name.clone(),
            debug,
            funcs,
            libc,
            not_roots: image.allocator_state.clone(),
        }))
    }

    /// Starts checking `pid`, laid out now.
    pub(super) fn memcheck_start(&mut self, proc_: &crate::process::Process, p: Pending) {
        let (pid, sp) = (proc_.pid, proc_.regs[2]);
        // The stack may grow to its floor, or as far as its limit allows.
        let limit = self.cfg.stack_limit;
        let floor = self
            .spaces
            .get(&proc_.space)
            .map_or(0, |m| m.stack_floor.max(m.stack_top.saturating_sub(limit)));
        if let Some(mc) = self.memcheck.as_mut() {
            mc.add_process(
                pid,
                ProcessInfo {
                    name: p.name,
                    debug: p.debug,
                    funcs: p.funcs,
                    libc: p.libc,
                    sp,
                    stack_floor: floor,
                    not_roots: p.not_roots,
                },
            );
        }
    }

    /// Whether `--memcheck` is on.
    pub fn memcheck_on(&self) -> bool {
        self.memcheck.is_some()
    }

    /// The checker, to read its reports and counts.
    pub fn memcheck(&mut self) -> Option<&mut Memcheck> {
        self.memcheck.as_deref_mut()
    }

    /// One instruction the running process retired (see [`Memcheck::retire`]).
    #[allow(clippy::too_many_arguments)]
    pub fn memcheck_retire(
        &mut self,
        hw: &mut dyn Hw,
        pc: u64,
        insn: &Insn,
        pre: &[u64; 32],
        post: &[u64; 32],
        next_pc: u64,
    ) -> Option<Redirect> {
        let pid = self.current?;
        let mut mc = self.memcheck.take()?;
        let mm = self.address_space(pid);
        let mut peek = KernelPeek {
            mem: self.mem.as_ref(),
            mm,
            hw,
            pid,
        };
        let r = mc.retire(pid, pc, insn, pre, post, next_pc, &mut peek);
        self.memcheck = Some(mc);
        r
    }

    /// A system call of `pid` begins.
    pub(super) fn memcheck_syscall_enter(&mut self, pid: Pid, nr: u64, a: [u64; 6]) {
        let pc = self
            .index(pid)
            .map_or(0, |i| self.procs[i].pc.wrapping_sub(4));
        if let Some(mc) = self.memcheck.as_mut() {
            mc.syscall_enter(pid, pc, nr, a);
        }
    }

    /// The kernel reads `len` bytes at `va` of `pid` for a system call.
    pub(super) fn memcheck_reads(&mut self, pid: Pid, va: u64, len: u64) {
        if self.memcheck.is_none() {
            return;
        }
        let pc = self
            .index(pid)
            .map_or(0, |i| self.procs[i].pc.wrapping_sub(4));
        if let Some(mc) = self.memcheck.as_mut() {
            mc.syscall_reads(pid, pc, va, len);
        }
    }

    /// The kernel wrote `len` bytes at `va` of `pid`.
    pub(super) fn memcheck_wrote(&mut self, pid: Pid, va: u64, len: u64) {
        if let Some(mc) = self.memcheck.as_mut() {
            mc.kernel_wrote(pid, va, len);
        }
    }

    /// The end of `pid`: the checker's heap summary and leak check.
    pub(super) fn memcheck_exit(&mut self, hw: &mut dyn Hw, pid: Pid) {
        let Some(mut mc) = self.memcheck.take() else {
            return;
        };
        if mc.checks(pid) {
            let regs = self.index(pid).map_or([0; 32], |i| self.procs[i].regs);
            let mm = self.address_space(pid);
            let areas: Vec<(u64, u64)> = mm
                .map(|m| m.areas.iter().map(|a| (a.start, a.end)).collect())
                .unwrap_or_default();
            let mut peek = KernelPeek {
                mem: self.mem.as_ref(),
                mm,
                hw,
                pid,
            };
            mc.process_exit(pid, &regs, &areas, &mut peek);
        }
        self.memcheck = Some(mc);
    }
}
