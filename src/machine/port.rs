//! The hart's view of memory on the machine: every fetch, load and store goes through the
//! MMU (TLBs, walker) and then the memory system (caches, DRAM, devices), and the cycles
//! both report are added up for the timing model.

use super::epoch::Epoch;
use vmlab_cpu::csr::{addr as csr_addr, Csrs};
use vmlab_cpu::hart::HartMemory;
use vmlab_cpu::isa::{decode, Insn, Op};
use vmlab_cpu::timing::{MemCycles, TimingInfo};
use vmlab_cpu::trap::{exception_from_fault, Exception};
use vmlab_cpu::vmcsr::{translation_mode, Formats};
use vmlab_devices::bus::Target;
use vmlab_devices::{Clint, Cycle, MemorySystem};
use vmlab_mmu::{AccessKind, Context, Faulted, Flush, Mmu, Mode, Request, Translation};

/// The fetch buffer: the last fetch block (one L1I line) the front end read, with its
/// translation. Part of the modelled machine: a parcel in the buffered block costs no
/// access. It holds its block only while the translation epoch is the one it was translated
/// in (a translation CSR load, `sfence.vma` or a privilege change ends it: see
/// [`super::epoch`]), and any pipeline flush (a trap, a serialising instruction, `fence.i`)
/// empties it through [`FetchBuffer::flush`].
///
/// Host speed: the buffer also keeps a copy of the block's bytes, exact as long as RAM's
/// write generation is the one recorded (a store elsewhere advances the record, since it
/// cannot have changed the block).
#[derive(Clone, Debug)]
pub(crate) struct FetchBuffer {
    /// The translation epoch the block was translated in ([`Epoch::NONE`]: empty).
    epoch: Epoch,
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
            epoch: Epoch::NONE,
            vblock: 0,
            pblock: 0,
            generation: u64::MAX,
            bytes: [0; HOST_COPY],
        }
    }
}

impl FetchBuffer {
    /// Whether the buffer holds the block at virtual address `vblock` with a translation
    /// made in `epoch` (the current one).
    #[inline(always)]
    pub fn holds(&self, vblock: u64, epoch: Epoch) -> bool {
        self.vblock == vblock && self.epoch == epoch
    }

    /// Buffers the block at virtual `vblock`, physical `pblock`, translated in `epoch`
    /// ([`Epoch::NONE`] records the block without holding it: a device block is never
    /// buffered).
    #[inline]
    pub fn fill(&mut self, vblock: u64, pblock: u64, epoch: Epoch) {
        self.epoch = epoch;
        self.vblock = vblock;
        self.pblock = pblock;
        self.generation = u64::MAX;
    }

    /// Empties the buffer, so that the next fetch is an access: a pipeline flush (a trap, a
    /// serialising instruction, `fence.i`, the kernel returning to a process or writing
    /// RAM), or a fetch that found nothing to buffer. The one way to empty it other than a
    /// new translation epoch.
    #[inline]
    pub fn flush(&mut self) {
        self.epoch = Epoch::NONE;
    }
}

/// One decoded instruction with what the machine derives from it for timing: exactly
/// `decode(raw)`, `TimingInfo::of` it, and whether it writes `mcycle`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoded {
    pub insn: Insn,
    pub info: TimingInfo,
    /// A Zicsr instruction that writes `mcycle` (so the step does not also count it).
    pub writes_mcycle: bool,
}

impl Decoded {
    pub fn of(raw: u32) -> Decoded {
        let insn = decode(raw);
        Decoded {
            info: TimingInfo::of(&insn),
            writes_mcycle: insn.csr == csr_addr::MCYCLE && writes_csr(&insn),
            insn,
        }
    }
}

/// Whether a retired Zicsr instruction wrote its CSR (`csrrs`/`csrrc` with `rs1 = x0`, and
/// their immediate forms with 0, only read).
pub(crate) fn writes_csr(i: &Insn) -> bool {
    match i.op {
        Op::Csrrw | Op::Csrrwi => true,
        Op::Csrrs | Op::Csrrc => i.rs1 != 0,
        Op::Csrrsi | Op::Csrrci => i.imm != 0,
        _ => false,
    }
}

/// A direct-mapped cache of decoded instructions, indexed by pc and checked against the
/// fetched bits, so it is always exactly [`Decoded::of`]`(raw)`. Host speed only. When
/// disabled it keeps one entry, decoded afresh every time. It caches nothing that depends on
/// translation (an entry is used only for the very bits it was decoded from, wherever they
/// were fetched), so it needs no translation epoch.
#[derive(Clone, Debug)]
pub(crate) struct DecodeCache {
    entries: Vec<(u32, Decoded)>,
    enabled: bool,
    /// The entry the last [`DecodeCache::decode`] answered from.
    last: usize,
}

const DECODE_CACHE_BITS: u32 = 12;

impl DecodeCache {
    pub fn new(enabled: bool) -> DecodeCache {
        // Entry 0 of a fresh cache holds (0, decode(0)), which is correct for raw 0.
        let n = if enabled { 1 << DECODE_CACHE_BITS } else { 1 };
        DecodeCache {
            entries: vec![(0, Decoded::of(0)); n],
            enabled,
            last: 0,
        }
    }

    #[inline]
    pub fn decode(&mut self, pc: u64, raw: u32) -> Insn {
        let slot = if self.enabled {
            ((pc >> 1) as usize) & ((1 << DECODE_CACHE_BITS) - 1)
        } else {
            0
        };
        let e = &mut self.entries[slot];
        if e.0 != raw || !self.enabled {
            *e = (raw, Decoded::of(raw));
        }
        self.last = slot;
        e.1.insn
    }

    /// [`Decoded::of`]`(raw)`: the entry the last decode answered from when it holds `raw`
    /// (it always does right after the hart decoded `raw`), else decoded afresh.
    #[inline]
    pub fn last_for(&mut self, raw: u32) -> &Decoded {
        if self.entries[self.last].0 != raw {
            self.entries[self.last] = (raw, Decoded::of(raw));
        }
        &self.entries[self.last].1
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

/// The machine's front-end and host-side state that every step's [`Port`] works on, kept
/// together so that a port is four words.
#[derive(Debug)]
pub(crate) struct Front {
    pub fetch_buf: FetchBuffer,
    /// The translation epoch (see [`super::epoch`]): the fetch buffer's translation holds
    /// only while it is the one the buffer was filled in.
    pub epoch: Epoch,
    pub fetch_block: u64,
    pub decode_cache: DecodeCache,
    pub formats: Formats,
    /// What the current step learned (reset at the start of each step).
    pub notes: StepNotes,
    /// Data accesses, recorded when the commit log is on.
    pub log: Option<Vec<MemAccess>>,
    /// When set, every access is also answered by `Mmu::probe` first, and any disagreement
    /// with the timed translation is described here (the CPU fuzz oracle).
    pub probe_check: Option<Vec<String>>,
}

/// The borrowed pieces of the machine a step needs.
pub(crate) struct Port<'a> {
    pub mmu: &'a mut Mmu,
    pub mem: &'a mut MemorySystem,
    pub front: &'a mut Front,
    /// The modelled clock at the start of the step.
    pub now: u64,
}

impl Port<'_> {
    /// Translates `req`, comparing with a functional probe when the probe check is on.
    #[inline]
    fn translate(&mut self, req: Request) -> Result<Translation, Faulted> {
        if self.front.probe_check.is_none() {
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
            if let Some(v) = self.front.probe_check.as_mut() {
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
                self.front.notes.mem.data += t.cycles.0;
                t.pa
            }
            Err(f) => {
                self.front.notes.mem.data += f.cycles.0;
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
                    && self.front.fetch_buf.generation == gen_before
                    && (pa ^ self.front.fetch_buf.pblock) >= self.front.fetch_block
                    && (pa + u64::from(size) - 1) & !(self.front.fetch_block - 1)
                        != self.front.fetch_buf.pblock
                {
                    self.front.fetch_buf.generation = self.mem.ram().generation();
                }
                self.front.notes.mem.data += c.0;
                self.front.notes.mem.data_accesses += 1;
                if self.mem.stats().mmio != mmio_before {
                    self.front.notes.mmio = true;
                }
                if let Some(log) = self.front.log.as_mut() {
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
        let block = va & !(self.front.fetch_block - 1);
        if self.front.fetch_buf.holds(block, self.front.epoch) {
            let pa = self.front.fetch_buf.pblock | (va & (self.front.fetch_block - 1));
            if let Ok(v) = self.mem.ram().peek(pa, 2) {
                return Ok(v as u16);
            }
        }
        let req = Request::new(va, AccessKind::Fetch, 2, ctx);
        let pa = match self.translate(req) {
            Ok(t) => {
                self.front.notes.mem.fetch += t.cycles.0;
                t.pa
            }
            Err(f) => {
                self.front.notes.mem.fetch += f.cycles.0;
                self.front.fetch_buf.flush();
                return Err(exception_from_fault(&f.fault, AccessKind::Fetch, va));
            }
        };
        match self.mem.fetch(pa, 2) {
            Ok((v, c)) => {
                self.front.notes.mem.fetch += c.0;
                self.front.notes.mem.fetch_accesses += 1;
                let pblock = pa & !(self.front.fetch_block - 1);
                // Only RAM blocks are buffered: a device answers every fetch itself.
                let ram = self.mem.bus().target(pblock, self.front.fetch_block) == Target::Ram;
                let epoch = if ram { self.front.epoch } else { Epoch::NONE };
                self.front.fetch_buf.fill(block, pblock, epoch);
                Ok(v as u16)
            }
            Err(_) => {
                self.front.fetch_buf.flush();
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
        self.front.epoch.advance();
        self.front.notes.flush = Some(flush);
    }

    fn fence_i(&mut self) {
        self.front.fetch_buf.flush();
    }

    fn translation_changed(&mut self, csrs: &Csrs) {
        self.front.notes.mode = Some(translation_mode(
            csrs.satp_mode(),
            csrs.satp_root(),
            &csrs.vm,
            &self.front.formats,
        ));
    }

    #[inline]
    fn decode(&mut self, pc: u64, raw: u32) -> Insn {
        self.front.decode_cache.decode(pc, raw)
    }

    fn time(&mut self) -> Option<u64> {
        self.mem
            .bus()
            .device::<Clint>()
            .map(|c| c.mtime(Cycle(self.now)))
    }

    #[inline]
    fn fetch_insn(&mut self, pc: u64, ctx: Context) -> Result<u32, Exception> {
        let off = pc & (self.front.fetch_block - 1);
        if self.front.fetch_buf.holds(pc - off, self.front.epoch)
            && off + 4 <= self.front.fetch_block
        {
            // Both parcels are in the buffered block: read them from the host copy.
            let ram = self.mem.ram();
            let block = self.front.fetch_block as usize;
            if block <= HOST_COPY {
                let fb = &mut self.front.fetch_buf;
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
            if let Ok(v) = ram.peek(self.front.fetch_buf.pblock | off, 4) {
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
