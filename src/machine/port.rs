//! The hart's view of memory on the machine: every fetch, load and store goes through the
//! MMU (TLBs, walker) and then the memory system (caches, DRAM, devices), and the cycles
//! both report are added up for the timing model.

use vmlab_cpu::csr::Csrs;
use vmlab_cpu::hart::HartMemory;
use vmlab_cpu::isa::{decode, Insn};
use vmlab_cpu::timing::MemCycles;
use vmlab_cpu::trap::{exception_from_fault, Exception};
use vmlab_cpu::vmcsr::{translation_mode, Formats};
use vmlab_devices::bus::Target;
use vmlab_devices::{Clint, Cycle, MemorySystem};
use vmlab_mmu::{AccessKind, Context, Faulted, Flush, Mmu, Mode, Request, Translation};

/// The fetch buffer: the last fetch block (one L1I line) the front end read, with its
/// translation. Part of the modelled machine: a parcel in the buffered block costs no
/// access. Any pipeline flush (a trap, a serialising instruction) empties it.
///
/// Host speed: the buffer also keeps a copy of the block's bytes, exact as long as RAM's
/// write generation is the one recorded (a store elsewhere advances the record, since it
/// cannot have changed the block).
#[derive(Clone, Debug)]
pub(crate) struct FetchBuffer {
    /// Whether the buffer holds a block.
    pub valid: bool,
    /// The virtual address of the block.
    pub vblock: u64,
    /// The physical address of the block.
    pub pblock: u64,
    /// RAM's write generation when `bytes` was copied (`u64::MAX`: no copy).
    pub generation: u64,
    /// The block's bytes (when the block is at most `HOST_COPY` bytes).
    pub bytes: [u8; HOST_COPY],
}

/// The largest block the fetch buffer keeps a host copy of.
const HOST_COPY: usize = 256;

impl Default for FetchBuffer {
    fn default() -> Self {
        FetchBuffer {
            valid: false,
            vblock: 0,
            pblock: 0,
            generation: u64::MAX,
            bytes: [0; HOST_COPY],
        }
    }
}

/// A direct-mapped cache of decoded instructions, indexed by pc and checked against the
/// fetched bits, so it is always exactly `decode(raw)`. Host speed only.
#[derive(Clone, Debug)]
pub(crate) struct DecodeCache {
    entries: Vec<(u32, Insn)>,
}

const DECODE_CACHE_BITS: u32 = 12;

impl DecodeCache {
    pub fn new(enabled: bool) -> DecodeCache {
        // Entry 0 of a fresh cache holds (0, decode(0)), which is correct for raw 0.
        let n = if enabled { 1 << DECODE_CACHE_BITS } else { 0 };
        DecodeCache {
            entries: vec![(0, decode(0)); n],
        }
    }

    #[inline]
    pub fn decode(&mut self, pc: u64, raw: u32) -> Insn {
        if self.entries.is_empty() {
            return decode(raw);
        }
        let slot = ((pc >> 1) as usize) & ((1 << DECODE_CACHE_BITS) - 1);
        let e = &mut self.entries[slot];
        if e.0 != raw {
            *e = (raw, decode(raw));
        }
        e.1
    }
}

/// What the machine learns from a step beyond its result.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepNotes {
    /// The memory cycles of the step.
    pub mem: MemCycles,
    /// A device register or HTIF word was accessed.
    pub mmio: bool,
    /// The translation CSRs changed; the new mode (None when the registers were refused,
    /// with the `vmstatus` reason code).
    pub mode: Option<Result<Mode, u64>>,
    /// An `sfence.vma` flush.
    pub flush: Option<Flush>,
}

/// One memory access the step made, for the commit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAccess {
    /// The virtual address.
    pub addr: u64,
    /// The size in bytes.
    pub size: u8,
    /// The value loaded or stored.
    pub value: u64,
    /// A store.
    pub write: bool,
}

/// The borrowed pieces of the machine a step needs.
pub(crate) struct Port<'a> {
    pub mmu: &'a mut Mmu,
    pub mem: &'a mut MemorySystem,
    pub fetch_buf: &'a mut FetchBuffer,
    pub fetch_block: u64,
    pub decode_cache: &'a mut DecodeCache,
    pub formats: &'a Formats,
    /// The modelled clock at the start of the step.
    pub now: u64,
    pub notes: StepNotes,
    /// Data accesses, recorded when the commit log is on.
    pub log: Option<&'a mut Vec<MemAccess>>,
    /// When set, every access is also answered by `Mmu::probe` first, and any disagreement
    /// with the timed translation is described here (the CPU fuzz oracle).
    pub probe_check: Option<&'a mut Vec<String>>,
}

impl Port<'_> {
    /// Translates `req`, comparing with a functional probe when the probe check is on.
    #[inline]
    fn translate(&mut self, req: Request) -> Result<Translation, Faulted> {
        if self.probe_check.is_none() {
            return self.mmu.translate(req, self.mem);
        }
        let probed = self.mmu.probe(req, self.mem);
        let timed = self.mmu.translate(req, self.mem);
        let same = match (&probed, &timed) {
            (Ok(p), Ok(t)) => p.pa == t.pa,
            (Err(p), Err(t)) => *p == t.fault,
            _ => false,
        };
        if !same {
            if let Some(v) = self.probe_check.as_deref_mut() {
                v.push(format!(
                    "{req:?}: probe says {probed:?}, translate says {timed:?}"
                ));
            }
        }
        timed
    }
}

impl Port<'_> {
    #[inline]
    fn data(
        &mut self,
        va: u64,
        size: u8,
        kind: AccessKind,
        value: u64,
        ctx: Context,
    ) -> Result<u64, Exception> {
        let req = Request::new(va, kind, size, ctx);
        let pa = match self.translate(req) {
            Ok(t) => {
                self.notes.mem.data += t.cycles.0;
                t.pa
            }
            Err(f) => {
                self.notes.mem.data += f.cycles.0;
                return Err(exception_from_fault(&f.fault, kind, va));
            }
        };
        let mkind = match kind {
            AccessKind::Store => vmlab_devices::AccessKind::Store,
            _ => vmlab_devices::AccessKind::Load,
        };
        let mmio_before = self.mem.stats().mmio;
        let gen_before = self.mem.ram().generation();
        match self.mem.access(mkind, pa, size, value) {
            Ok((v, c)) => {
                if kind == AccessKind::Store
                    && self.fetch_buf.generation == gen_before
                    && (pa ^ self.fetch_buf.pblock) >= self.fetch_block
                    && (pa + u64::from(size) - 1) & !(self.fetch_block - 1) != self.fetch_buf.pblock
                {
                    self.fetch_buf.generation = self.mem.ram().generation();
                }
                self.notes.mem.data += c.0;
                self.notes.mem.data_accesses += 1;
                if self.mem.stats().mmio != mmio_before {
                    self.notes.mmio = true;
                }
                if let Some(log) = self.log.as_deref_mut() {
                    log.push(MemAccess {
                        addr: va,
                        size,
                        value: v,
                        write: kind == AccessKind::Store,
                    });
                }
                Ok(v)
            }
            Err(_) => Err(match kind {
                AccessKind::Store => Exception::StoreAccessFault { addr: va },
                _ => Exception::LoadAccessFault { addr: va },
            }),
        }
    }
}

impl HartMemory for Port<'_> {
    #[inline]
    fn fetch(&mut self, va: u64, ctx: Context) -> Result<u16, Exception> {
        let block = va & !(self.fetch_block - 1);
        if self.fetch_buf.valid && self.fetch_buf.vblock == block {
            let pa = self.fetch_buf.pblock | (va & (self.fetch_block - 1));
            if let Ok(v) = self.mem.ram().peek(pa, 2) {
                return Ok(v as u16);
            }
        }
        let req = Request::new(va, AccessKind::Fetch, 2, ctx);
        let pa = match self.translate(req) {
            Ok(t) => {
                self.notes.mem.fetch += t.cycles.0;
                t.pa
            }
            Err(f) => {
                self.notes.mem.fetch += f.cycles.0;
                self.fetch_buf.valid = false;
                return Err(exception_from_fault(&f.fault, AccessKind::Fetch, va));
            }
        };
        match self.mem.fetch(pa, 2) {
            Ok((v, c)) => {
                self.notes.mem.fetch += c.0;
                self.notes.mem.fetch_accesses += 1;
                let pblock = pa & !(self.fetch_block - 1);
                // Only RAM blocks are buffered: a device answers every fetch itself.
                let ram = self.mem.bus().target(pblock, self.fetch_block) == Target::Ram;
                self.fetch_buf.valid = ram;
                self.fetch_buf.vblock = block;
                self.fetch_buf.pblock = pblock;
                self.fetch_buf.generation = u64::MAX;
                Ok(v as u16)
            }
            Err(_) => {
                self.fetch_buf.valid = false;
                Err(Exception::InstructionAccessFault { addr: va })
            }
        }
    }

    #[inline]
    fn load(&mut self, va: u64, size: u8, ctx: Context) -> Result<u64, Exception> {
        self.data(va, size, AccessKind::Load, 0, ctx)
    }

    #[inline]
    fn store(&mut self, va: u64, size: u8, value: u64, ctx: Context) -> Result<(), Exception> {
        self.data(va, size, AccessKind::Store, value, ctx)
            .map(|_| ())
    }

    fn sfence(&mut self, flush: Flush) {
        self.mmu.flush(flush);
        self.notes.flush = Some(flush);
    }

    fn fence_i(&mut self) {
        self.fetch_buf.valid = false;
    }

    fn translation_changed(&mut self, csrs: &Csrs) {
        self.notes.mode = Some(translation_mode(
            csrs.satp_mode(),
            csrs.satp_root(),
            &csrs.vm,
            self.formats,
        ));
    }

    #[inline]
    fn decode(&mut self, pc: u64, raw: u32) -> Insn {
        self.decode_cache.decode(pc, raw)
    }

    fn time(&mut self) -> Option<u64> {
        self.mem
            .bus()
            .device::<Clint>()
            .map(|c| c.mtime(Cycle(self.now)))
    }

    #[inline]
    fn fetch_insn(&mut self, pc: u64, ctx: Context) -> Result<u32, Exception> {
        let off = pc & (self.fetch_block - 1);
        if self.fetch_buf.valid && self.fetch_buf.vblock == pc - off && off + 4 <= self.fetch_block
        {
            // Both parcels are in the buffered block: read them from the host copy.
            let ram = self.mem.ram();
            let block = self.fetch_block as usize;
            if block <= HOST_COPY {
                let fb = &mut *self.fetch_buf;
                if fb.generation != ram.generation()
                    && ram.peek_bytes(fb.pblock, &mut fb.bytes[..block]).is_ok()
                {
                    fb.generation = ram.generation();
                }
                if fb.generation == ram.generation() {
                    let o = off as usize;
                    let b = &fb.bytes[o..o + 4];
                    let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    return Ok(if v & 3 == 3 { v } else { v & 0xffff });
                }
            }
            if let Ok(v) = ram.peek(self.fetch_buf.pblock | off, 4) {
                let v = v as u32;
                return Ok(if v & 3 == 3 { v } else { v & 0xffff });
            }
        }
        let lo = self.fetch(pc, ctx)?;
        Ok(if lo & 3 == 3 {
            let hi = self.fetch(pc.wrapping_add(2), ctx)?;
            u32::from(lo) | u32::from(hi) << 16
        } else {
            u32::from(lo)
        })
    }
}
