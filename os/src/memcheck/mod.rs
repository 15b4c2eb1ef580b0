//! `--memcheck`: a memory checker for the processes the kernel runs, after Valgrind's
//! memcheck, host-side only (it never charges a cycle).
//!
//! - **Shadow memory** ([`shadow`]): per guest byte, addressable and defined bits.
//! - **Definedness** ([`vbits`]): every retired instruction moves undefined bits through the
//!   registers and memory; only an undefined value that *decides* something is an error: a
//!   conditional branch, an address, an indirect jump's target, a system call's argument or
//!   the memory a system call reads.
//! - **Heap blocks**: every `malloc`-family call is observed (under `os.malloc = libc` by its
//!   entry and return, found by symbol; under the kernel's allocators where the kernel serves
//!   it). A block's bytes are addressable (undefined, or defined for `calloc`); everything
//!   else in the allocator's memory (headers, free space, the slack past the requested size)
//!   is not, so the bytes around a block are its redzones. Freed blocks stay unaddressable
//!   until the allocator gives the memory out again.
//! - **The stack**: bytes below the stack pointer are not addressable.
//! - **A shadow call stack** from `jal`/`jalr` (the ABI's `ra`/`t0` link convention) gives
//!   every report its call stack, named from the ELF's symbols and, with `-g`, DWARF's
//!   file:line ([`vmlab_cpu::debuginfo`]).
//! - **String functions** of the C library (`strlen`, `memcpy`, ...) read whole words past a
//!   string's end; inside them nothing is reported, and their arguments are checked at entry
//!   as the function's definition reads and writes them.
//! - **Leaks** at exit: blocks no root (registers, stack, data, bss, non-heap mappings)
//!   reaches, directly or through reachable blocks, are definitely lost (or indirectly, when
//!   a lost block points to them).
//!
//! Each error is reported once per context (its kind and the innermost four frames of its
//! call stack); later occurrences are counted.

pub mod redzone;
pub mod shadow;
pub mod vbits;

use crate::heap::alloc::Call;
use crate::process::Pid;
use shadow::{mask_of, ByteState, Shadow};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use vbits::{Effect, VRegs};
use vmlab_cpu::debuginfo::DebugInfo;
use vmlab_cpu::isa::{Insn, Op};

/// How many frames a stored call stack keeps.
pub const DEPTH: usize = 12;
/// How many freed blocks are remembered to describe a use after free.
const FREED_MEMORY: usize = 4096;

const UNDEFINED: ByteState = ByteState {
    addressable: true,
    defined: false,
};
const NOACCESS: ByteState = ByteState {
    addressable: false,
    defined: false,
};
const DEFINED: ByteState = ByteState {
    addressable: true,
    defined: true,
};

/// A C-library string or memory function whose arguments memcheck checks as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrFn {
    /// `strlen(s)`.
    Strlen,
    /// `strnlen(s, n)`.
    Strnlen,
    /// `strcpy(d, s)`, `stpcpy(d, s)`.
    Strcpy,
    /// `strncpy(d, s, n)`, `stpncpy`.
    Strncpy,
    /// `strcat(d, s)`.
    Strcat,
    /// `strncat(d, s, n)`.
    Strncat,
    /// `strcmp(a, b)`.
    Strcmp,
    /// `strncmp(a, b, n)`.
    Strncmp,
    /// `strchr(s, c)`, `strchrnul`.
    Strchr,
    /// `strrchr(s, c)`.
    Strrchr,
    /// `rawmemchr(s, c)`.
    Rawmemchr,
    /// `memchr(s, c, n)`.
    Memchr,
    /// `memrchr(s, c, n)`.
    Memrchr,
    /// `memcmp(a, b, n)`, `bcmp`.
    Memcmp,
    /// `memcpy(d, s, n)`, `memmove`, `mempcpy`.
    Memcpy,
    /// `memset(d, c, n)`.
    Memset,
    /// `strspn(s, set)`, `strcspn`, `strpbrk`: both strings are read to their ends.
    Strspn,
}

/// The string functions by symbol.
pub const STR_FNS: &[(StrFn, &str)] = &[
    (StrFn::Strlen, "strlen"),
    (StrFn::Strnlen, "strnlen"),
    (StrFn::Strcpy, "strcpy"),
    (StrFn::Strcpy, "stpcpy"),
    (StrFn::Strncpy, "strncpy"),
    (StrFn::Strncpy, "stpncpy"),
    (StrFn::Strcat, "strcat"),
    (StrFn::Strncat, "strncat"),
    (StrFn::Strcmp, "strcmp"),
    (StrFn::Strncmp, "strncmp"),
    (StrFn::Strchr, "strchr"),
    (StrFn::Strchr, "index"),
    (StrFn::Strchr, "strchrnul"),
    (StrFn::Strrchr, "strrchr"),
    (StrFn::Strrchr, "rindex"),
    (StrFn::Rawmemchr, "rawmemchr"),
    (StrFn::Memchr, "memchr"),
    (StrFn::Memrchr, "memrchr"),
    (StrFn::Memcmp, "memcmp"),
    (StrFn::Memcmp, "bcmp"),
    (StrFn::Memcmp, "__memcmpeq"),
    (StrFn::Memcpy, "memcpy"),
    (StrFn::Memcpy, "memmove"),
    (StrFn::Memcpy, "mempcpy"),
    (StrFn::Memset, "memset"),
    (StrFn::Strspn, "strspn"),
    (StrFn::Strspn, "strcspn"),
    (StrFn::Strspn, "strpbrk"),
];

/// A function memcheck watches for, by its entry address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    /// An allocation function (observed under `os.malloc = libc`).
    Alloc(Call),
    /// A string function.
    Str(StrFn),
}

/// Reads a process's memory without side effects (no fault, no cycle): false if some byte
/// is not in memory.
pub trait Peek {
    /// Fill `buf` from `va`.
    fn peek(&mut self, va: u64, buf: &mut [u8]) -> bool;
    /// Store `bytes` at `va` (the checker correcting a pointer the C library's
    /// `posix_memalign` stored, past the redzone it added); false if it cannot.
    fn poke(&mut self, _va: u64, _bytes: &[u8]) -> bool {
        false
    }
}

/// What the hart must do after an instruction, when memcheck changes a call to the
/// allocator (`free` of a bad pointer, or of a block the quarantine takes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// The call returns to its caller at once, with `a0` set if given: it never reaches
    /// the allocator.
    Return {
        /// The value `a0` returns with (None: left alone).
        a0: Option<u64>,
    },
    /// The call goes on with these `a0..a2`: `free` releases the quarantine's oldest
    /// block instead of the one it was given (which takes its place in the quarantine),
    /// or an allocation asks for its redzones too.
    Args([u64; 3]),
    /// A call returns this in `a0` (its pointer moved past the front redzone).
    SetA0(u64),
}

/// What happens to a `free` the kernel's allocator is about to serve (see
/// [`Memcheck::heap_free`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeVerdict {
    /// It goes ahead.
    Proceed,
    /// It returns at once (a bad pointer, reported; or a block the quarantine keeps).
    Return,
    /// It frees this block instead (the quarantine's oldest).
    Instead(u64),
}

/// How a process starts, for [`Memcheck::add_process`].
pub struct ProcessInfo {
    /// The image's name.
    pub name: String,
    /// Its symbols and line tables.
    pub debug: Option<Rc<DebugInfo>>,
    /// The watched functions by entry address.
    pub funcs: HashMap<u64, Func>,
    /// Whether allocation calls are observed at their entry (`os.malloc = libc`).
    pub libc: bool,
    /// The initial stack pointer.
    pub sp: u64,
    /// The lowest address the stack may reach.
    pub stack_floor: u64,
    /// Ranges never scanned for pointers to blocks (the C library's allocator state).
    pub not_roots: Vec<(u64, u64)>,
}

type Stack = Vec<u64>;

#[derive(Clone, Debug)]
struct Block {
    size: u64,
    alloc: Stack,
    /// The redzone before it that the checker added (0 without `os.memcheck_redzone`).
    front: u64,
}

#[derive(Clone, Debug)]
struct Freed {
    size: u64,
    alloc: Stack,
    free: Stack,
    front: u64,
}

#[derive(Clone, Debug)]
enum Action {
    /// An allocation call under way (libc): its arguments and where it was called.
    Alloc {
        call: Call,
        args: [u64; 3],
        stack: Stack,
        /// `realloc`'s old block: start and size.
        old: Option<(u64, u64)>,
        /// The front redzone the checker added to the new block.
        front: u64,
    },
    /// A string function under way: whether its result is defined.
    Str { defined: bool },
}

#[derive(Clone, Debug)]
struct CallFrame {
    call_pc: u64,
    ret: u64,
    action: Option<Action>,
}

struct ProcCheck {
    name: String,
    shadow: Shadow,
    v: VRegs,
    frames: Vec<CallFrame>,
    /// Frames with an action (inside a watched function: nothing is reported).
    quiet: u32,
    /// Allocation frames (libc): loads are defined and stores change no shadow.
    in_alloc: u32,
    funcs: HashMap<u64, Func>,
    debug: Option<Rc<DebugInfo>>,
    libc: bool,
    blocks: BTreeMap<u64, Block>,
    freed: BTreeMap<u64, Freed>,
    freed_order: VecDeque<u64>,
    stack_floor: u64,
    stack_top: u64,
    /// The stack pointer after the last instruction that moved it.
    sp: u64,
    /// The allocator's own memory (libc: what brk and mmap gave it).
    arenas: Vec<(u64, u64)>,
    /// The end of the kernel's allocator's heap as the checker last saw it.
    heap_hi: u64,
    /// Freed blocks held back from the allocator, oldest first, and their bytes.
    held: VecDeque<(u64, u64, u64)>,
    held_bytes: u64,
    /// The block that last left the quarantine (its front redzone is still needed).
    releasing: Option<(u64, u64, u64)>,
    not_roots: Vec<(u64, u64)>,
    allocs: u64,
    frees: u64,
    allocated_bytes: u64,
    /// The system call under way: its name and arguments.
    syscall: Option<(&'static str, u64, [u64; 6])>,
}

/// The checker: every process's shadow state and the reports so far.
pub struct Memcheck {
    procs: HashMap<Pid, ProcCheck>,
    /// Reports by context: how many times each was seen.
    contexts: HashMap<(u8, [u64; 4]), u64>,
    errors: u64,
    lost_bytes: u64,
    lost_blocks: u64,
    out: Vec<String>,
    /// Bytes of freed blocks held back from the allocator (0: none).
    quarantine: u64,
    /// Bytes of redzone around each block (0: none).
    redzone: u64,
}

/// Kinds of error (for contexts).
mod kind {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
    pub const COND: u8 = 3;
    pub const ADDR: u8 = 4;
    pub const JUMP: u8 = 5;
    pub const SYSCALL: u8 = 6;
    pub const FREE: u8 = 7;
    pub const STR: u8 = 8;
    pub const LEAK: u8 = 9;
}

/// The names of the register arguments of the system calls memcheck checks.
fn syscall_params(nr: u64) -> &'static [&'static str] {
    match nr {
        63 => &["fd", "buf", "count"],
        64 => &["fd", "buf", "count"],
        56 => &["dfd", "filename", "flags", "mode"],
        57 => &["fd"],
        62 => &["fd", "offset", "whence"],
        65 | 66 => &["fd", "vec", "vlen"],
        67 | 68 => &["fd", "buf", "count", "pos"],
        80 => &["fd", "statbuf"],
        93 | 94 => &["status"],
        214 => &["brk"],
        215 => &["addr", "len"],
        222 => &["addr", "len", "prot", "flags", "fd", "off"],
        226 => &["addr", "len", "prot"],
        _ => &[],
    }
}

impl Default for Memcheck {
    fn default() -> Self {
        Memcheck::new()
    }
}

impl Memcheck {
    /// A checker with no process.
    pub fn new() -> Memcheck {
        Memcheck {
            procs: HashMap::new(),
            contexts: HashMap::new(),
            errors: 0,
            lost_bytes: 0,
            lost_blocks: 0,
            out: Vec::new(),
            quarantine: 0,
            redzone: 0,
        }
    }

    /// Starts checking process `pid`.
    pub fn add_process(&mut self, pid: Pid, info: ProcessInfo) {
        let mut shadow = Shadow::default();
        shadow.set_default_noaccess(info.stack_floor, info.sp);
        self.procs.insert(
            pid,
            ProcCheck {
                name: info.name,
                shadow,
                v: VRegs::default(),
                frames: Vec::new(),
                quiet: 0,
                in_alloc: 0,
                funcs: info.funcs,
                debug: info.debug,
                libc: info.libc,
                blocks: BTreeMap::new(),
                freed: BTreeMap::new(),
                freed_order: VecDeque::new(),
                stack_floor: info.stack_floor,
                stack_top: info.sp,
                sp: info.sp,
                arenas: Vec::new(),
                heap_hi: 0,
                held: VecDeque::new(),
                held_bytes: 0,
                releasing: None,
                not_roots: info.not_roots,
                allocs: 0,
                frees: 0,
                allocated_bytes: 0,
                syscall: None,
            },
        );
    }

    /// Whether `pid` is checked.
    pub fn checks(&self, pid: Pid) -> bool {
        self.procs.contains_key(&pid)
    }

    /// The report lines written since the last call.
    pub fn take_output(&mut self) -> Vec<String> {
        std::mem::take(&mut self.out)
    }

    /// Errors found (every occurrence).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Distinct contexts of the errors found.
    pub fn contexts(&self) -> u64 {
        self.contexts.len() as u64
    }

    /// Bytes and blocks leaked (definitely and indirectly lost) by processes that ended.
    pub fn leaked(&self) -> (u64, u64) {
        (self.lost_bytes, self.lost_blocks)
    }

    /// The line that ends a run.
    pub fn summary(&self) -> String {
        format!(
            "memcheck: ERROR SUMMARY: {} errors from {} contexts; leaked {} bytes in {} blocks",
            self.errors,
            self.contexts.len(),
            self.lost_bytes,
            self.lost_blocks
        )
    }

    /// One retired instruction of `pid`: `pc` and the instruction, the x registers before
    /// (`pre`) and after (`post`) it, and the pc it goes to.
    #[allow(clippy::too_many_arguments)]
    pub fn retire(
        &mut self,
        pid: Pid,
        pc: u64,
        insn: &Insn,
        pre: &[u64; 32],
        post: &[u64; 32],
        next_pc: u64,
        mem: &mut dyn Peek,
    ) -> Option<Redirect> {
        let p = self.procs.get_mut(&pid)?;
        let (effect, uses) = vbits::step(&mut p.v, insn, pre);
        let mut errs: Vec<Err> = Vec::new();
        if p.quiet == 0 {
            if uses.branch {
                errs.push(Err::Cond);
            }
            if uses.address {
                errs.push(Err::Addr);
            }
            if uses.jump {
                errs.push(Err::Jump);
            }
        }
        if uses.address {
            // Reported once; the address is taken as defined from here.
            p.v.x[usize::from(insn.rs1)] = 0;
        }
        match effect {
            Effect::None => {}
            Effect::Load {
                addr,
                size,
                signed,
                rd,
                float,
            } => {
                let v = if p.in_alloc > 0 {
                    0
                } else {
                    let (mut v, bad) = p.shadow.load(addr, size);
                    if bad != 0 && insn.rs1 == 2 && addr < pre[2] {
                        // The compiler's own prologue and epilogue save and restore
                        // registers just below sp around a large frame's allocation.
                        v = 0;
                    } else if bad != 0 {
                        let all = (1u16 << size).wrapping_sub(1) as u8;
                        // Valgrind's partial loads: an aligned word of which some bytes
                        // are addressable is fine; the others read as undefined.
                        let partial_ok = size >= 4 && addr % u64::from(size) == 0 && bad != all;
                        if p.quiet == 0 && !partial_ok {
                            errs.push(Err::Read { addr, size });
                            // Reported: the value counts as defined from here.
                            v = 0;
                        }
                    }
                    v
                };
                let mut v = v & mask_of(size);
                if signed && size < 8 && v >> (8 * size - 1) & 1 == 1 {
                    v |= !mask_of(size);
                }
                if float {
                    p.v.f[usize::from(rd)] = v;
                } else if rd != 0 {
                    p.v.x[usize::from(rd)] = v;
                }
            }
            Effect::Store { addr, size, v } => {
                if p.in_alloc == 0 {
                    let bad = p.shadow.store(addr, size, v & mask_of(size));
                    let below_sp = insn.rs1 == 2 && addr < pre[2];
                    if bad != 0 && p.quiet == 0 && !below_sp {
                        errs.push(Err::Write { addr, size });
                    }
                }
            }
            Effect::Atomic {
                addr,
                size,
                rd,
                src_v,
                swap,
                store,
                sc,
            } => {
                if p.in_alloc > 0 {
                    if rd != 0 {
                        p.v.x[usize::from(rd)] = 0;
                    }
                } else {
                    let (old, bad) = if sc {
                        (0, 0)
                    } else {
                        p.shadow.load(addr, size)
                    };
                    if bad != 0 && p.quiet == 0 {
                        errs.push(if store {
                            Err::Write { addr, size }
                        } else {
                            Err::Read { addr, size }
                        });
                    }
                    if store {
                        let new = if swap {
                            src_v
                        } else {
                            vbits::pcast((old | src_v) & mask_of(size))
                        };
                        let bad = p.shadow.store(addr, size, new & mask_of(size));
                        if sc && bad != 0 && p.quiet == 0 {
                            errs.push(Err::Write { addr, size });
                        }
                    }
                    if rd != 0 {
                        let mut v = if sc { 0 } else { old & mask_of(size) };
                        if size == 4 && v >> 31 & 1 == 1 {
                            v |= !mask_of(4);
                        }
                        p.v.x[usize::from(rd)] = v;
                    }
                }
            }
        }
        p.v.x[0] = 0;
        // The stack pointer moved: what it uncovered is undefined, what it left is gone.
        if insn.rd == 2 && pre[2] != post[2] && !matches!(effect, Effect::Atomic { .. }) {
            let (old, new) = (pre[2], post[2]);
            p.sp = new;
            let in_stack = |a: u64| a >= p.stack_floor && a <= p.stack_top;
            if in_stack(old) && in_stack(new) {
                if new < old {
                    p.shadow.set_range(new, old, UNDEFINED);
                } else {
                    p.shadow.set_range(old, new, NOACCESS);
                }
            }
        }
        let mut redirect = None;
        if matches!(insn.op, Op::Jal | Op::Jalr) {
            redirect = self.jump(pid, pc, insn, post, next_pc, mem, &mut errs);
        }
        for e in errs {
            self.report_err(pid, pc, e);
        }
        redirect
    }

    /// A `jal` or `jalr`: calls push a frame, returns pop to theirs, and a jump into a
    /// watched function starts its check.
    #[allow(clippy::too_many_arguments)]
    fn jump(
        &mut self,
        pid: Pid,
        pc: u64,
        insn: &Insn,
        post: &[u64; 32],
        target: u64,
        mem: &mut dyn Peek,
        errs: &mut Vec<Err>,
    ) -> Option<Redirect> {
        let p = self.procs.get_mut(&pid)?;
        let link = insn.rd == 1 || insn.rd == 5;
        let is_ret = insn.op == Op::Jalr && insn.rd == 0 && (insn.rs1 == 1 || insn.rs1 == 5);
        if is_ret {
            if let Some(at) = p.frames.iter().rposition(|f| f.ret == target) {
                let popped: Vec<CallFrame> = p.frames.drain(at..).collect();
                let mut done = None;
                for (k, f) in popped.into_iter().enumerate() {
                    if let Some(action) = f.action {
                        p.quiet -= 1;
                        if matches!(action, Action::Alloc { .. }) {
                            p.in_alloc -= 1;
                        }
                        if k == 0 {
                            done = Some(action);
                        }
                    }
                }
                if let Some(action) = done {
                    return self.finish(pid, action, post, mem);
                }
            }
            return None;
        }
        if link {
            p.frames.push(CallFrame {
                call_pc: pc,
                ret: post[usize::from(insn.rd)],
                action: None,
            });
        }
        let func = *p.funcs.get(&target)?;
        if p.quiet > 0 || p.frames.is_empty() {
            return None;
        }
        let a = [post[10], post[11], post[12], post[13]];
        let stack = self.stack_at(pid, target);
        let p = self.procs.get_mut(&pid)?;
        match func {
            Func::Str(f) => {
                let defined = self.string_check(pid, f, a, &stack, mem, errs);
                let p = self.procs.get_mut(&pid)?;
                if let Some(top) = p.frames.last_mut() {
                    top.action = Some(Action::Str { defined });
                    p.quiet += 1;
                }
                None
            }
            Func::Alloc(call) => {
                if !p.libc {
                    return None;
                }
                let mut old = None;
                let ptr = match call {
                    Call::Free | Call::Realloc | Call::Reallocarray => Some(a[0]),
                    _ => None,
                };
                if let Some(ptr) = ptr.filter(|&q| q != 0) {
                    match self.check_free(pid, ptr, call, &stack) {
                        Some(size) => old = Some((ptr, size)),
                        None => {
                            // A bad pointer: the call never reaches the allocator.
                            let p = self.procs.get_mut(&pid)?;
                            if p.frames.last().is_some_and(|f| f.ret == post[1]) {
                                p.frames.pop();
                            }
                            return Some(Redirect::Return {
                                a0: (call != Call::Free).then_some(0),
                            });
                        }
                    }
                }
                let (limit, rz) = (self.quarantine, self.redzone);
                let p = self.procs.get_mut(&pid)?;
                let mut args = [a[0], a[1], a[2]];
                if call == Call::Free {
                    if let Some((ptr, size)) = old {
                        p.release(ptr, stack.clone());
                        if limit > 0 {
                            match p.quarantine(ptr, size, limit) {
                                Some(oldest) => args[0] = oldest,
                                None => {
                                    // Held: the allocator does not see this free yet.
                                    if p.frames.last().is_some_and(|f| f.ret == post[1]) {
                                        p.frames.pop();
                                    }
                                    return Some(Redirect::Return { a0: None });
                                }
                            }
                        }
                    }
                }
                // Redzones: the allocator is asked for them too.
                let mut front = 0;
                let mut inner = args;
                if rz > 0 {
                    let old_front = p.front(args[0]);
                    if let Some((i, f)) = redzone::args(call, args, rz, old_front, 4096) {
                        (inner, front) = (i, f);
                    }
                }
                if let Some(top) = p.frames.last_mut() {
                    top.action = Some(Action::Alloc {
                        call,
                        args: [a[0], a[1], a[2]],
                        stack,
                        old,
                        front,
                    });
                    p.quiet += 1;
                    p.in_alloc += 1;
                }
                (inner != [a[0], a[1], a[2]]).then_some(Redirect::Args(inner))
            }
        }
    }

    /// A watched function returned.
    fn finish(
        &mut self,
        pid: Pid,
        action: Action,
        post: &[u64; 32],
        mem: &mut dyn Peek,
    ) -> Option<Redirect> {
        let p = self.procs.get_mut(&pid)?;
        match action {
            Action::Str { defined } => {
                p.v.x[10] = if defined { 0 } else { u64::MAX };
            }
            Action::Alloc {
                call,
                args,
                stack,
                old,
                front,
            } => {
                p.v.x[10] = 0;
                // The program's pointer is past the front redzone.
                let inner = post[10];
                let r = if inner != 0 && redzone::returns_pointer(call) {
                    inner + front
                } else {
                    inner
                };
                let mut result = (r != inner).then_some(Redirect::SetA0(r));
                let total = |n: u64, m: u64| n.checked_mul(m);
                match call {
                    Call::Malloc | Call::Valloc | Call::Pvalloc if r != 0 => {
                        p.allocate(r, args[0], false, stack, front)
                    }
                    Call::Calloc if r != 0 => {
                        let n = total(args[0], args[1]).unwrap_or(0);
                        p.allocate(r, n, true, stack, front)
                    }
                    Call::Memalign | Call::AlignedAlloc if r != 0 => {
                        p.allocate(r, args[1], false, stack, front)
                    }
                    Call::PosixMemalign if r == 0 => {
                        let mut b = [0u8; 8];
                        if mem.peek(args[0], &mut b) {
                            let q = u64::from_le_bytes(b) + front;
                            if front > 0 {
                                mem.poke(args[0], &q.to_le_bytes());
                            }
                            p.allocate(q, args[2], false, stack, front);
                        }
                        p.shadow.set_range(args[0], args[0] + 8, DEFINED);
                    }
                    Call::Realloc | Call::Reallocarray => {
                        let n = if call == Call::Realloc {
                            Some(args[1])
                        } else {
                            total(args[1], args[2])
                        };
                        let n = n.unwrap_or(u64::MAX);
                        match old {
                            None if r != 0 => p.allocate(r, n, false, stack, front),
                            Some((q, size)) if r != 0 => {
                                // The old block's definedness moves with its bytes.
                                let bits = p.shadow.defined_bits(q, size.min(n));
                                p.release(q, stack.clone());
                                p.allocate(r, n, false, stack, front);
                                p.shadow.put_defined_bits(r, &bits);
                            }
                            Some((q, _)) if n == 0 => p.release(q, stack),
                            _ => {}
                        }
                    }
                    // With redzones the usable size is the size asked for.
                    Call::UsableSize if front > 0 || self.redzone > 0 => {
                        if let Some(b) = p.blocks.get(&args[0]) {
                            result = Some(Redirect::SetA0(b.size));
                        }
                    }
                    _ => {}
                }
                return result;
            }
        }
        None
    }

    /// The call stack at `pc`: `pc`, then each caller's call site, innermost first.
    fn stack_at(&self, pid: Pid, pc: u64) -> Stack {
        let Some(p) = self.procs.get(&pid) else {
            return vec![pc];
        };
        let mut s = Vec::with_capacity(DEPTH);
        s.push(pc);
        for f in p.frames.iter().rev() {
            if s.len() >= DEPTH {
                break;
            }
            s.push(f.call_pc);
        }
        s
    }

    /// Checks the pointer a `free` or `realloc` gives: the block's size if it is a live
    /// block's start; otherwise the error is reported and None returned.
    fn check_free(&mut self, pid: Pid, ptr: u64, call: Call, stack: &Stack) -> Option<u64> {
        let p = self.procs.get_mut(&pid)?;
        if let Some(b) = p.blocks.get(&ptr) {
            return Some(b.size);
        }
        let name = match call {
            Call::Free => "free()",
            _ => "realloc()",
        };
        let title = if p.freed.contains_key(&ptr) {
            format!("Invalid {name}: double free of {ptr:#x}")
        } else {
            format!("Invalid {name}: {ptr:#x} is not the start of a block malloc gave")
        };
        let detail = self.describe(pid, ptr);
        self.report(pid, kind::FREE, stack, title, detail);
        None
    }

    /// The kernel's allocator served a call (`os.malloc` other than `libc`) made at `pc`
    /// (the function's entry) with arguments `a`: the blocks it allocated (pointer and size
    /// asked) and freed. The call returns to `ra`.
    #[allow(clippy::too_many_arguments)]
    pub fn heap_call(
        &mut self,
        pid: Pid,
        pc: u64,
        call: Call,
        a: [u64; 3],
        allocated: &[(u64, u64)],
        freed: &[u64],
        front: u64,
        ra: u64,
    ) {
        let stack = self.stack_at(pid, pc);
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        // realloc's old bytes keep their definedness in the new block.
        let moved: Vec<bool> = match (call, allocated.first()) {
            (Call::Realloc | Call::Reallocarray, Some(&(_, n))) if a[0] != 0 => {
                let old = p.blocks.get(&a[0]).map_or(0, |b| b.size);
                p.shadow.defined_bits(a[0], old.min(n))
            }
            _ => Vec::new(),
        };
        for &q in freed {
            p.release(q, stack.clone());
        }
        for &(q, n) in allocated {
            p.allocate(q, n, call == Call::Calloc, stack.clone(), front);
        }
        if let Some(&(q, _)) = allocated.first() {
            p.shadow.put_defined_bits(q, &moved);
        }
        if call == Call::PosixMemalign {
            p.shadow.set_range(a[0], a[0] + 8, DEFINED);
        }
        p.returned(ra);
    }

    /// The kernel's allocator's heap now spans `base..end`: what is new of it is not
    /// addressable until blocks are given out there.
    pub fn heap_extent(&mut self, pid: Pid, base: u64, end: u64) {
        if let Some(p) = self.procs.get_mut(&pid) {
            let from = p.heap_hi.max(base);
            if end > from {
                p.shadow.set_range(from, end, NOACCESS);
                p.arenas.push((from, end));
                p.heap_hi = end;
            }
        }
    }

    /// A `free`/`realloc` pointer the kernel's allocator is about to take (`os.malloc`
    /// other than `libc`), in a call made at `pc` that returns to `ra`: a bad pointer is
    /// reported and the call returns at once; a block `free` gives may go to the
    /// quarantine instead.
    pub fn heap_free(&mut self, pid: Pid, pc: u64, ptr: u64, call: Call, ra: u64) -> FreeVerdict {
        if ptr == 0 || !self.procs.contains_key(&pid) {
            return FreeVerdict::Proceed;
        }
        let stack = self.stack_at(pid, pc);
        let limit = self.quarantine;
        let Some(size) = self.check_free(pid, ptr, call, &stack) else {
            if let Some(p) = self.procs.get_mut(&pid) {
                p.returned(ra);
            }
            return FreeVerdict::Return;
        };
        let Some(p) = self.procs.get_mut(&pid) else {
            return FreeVerdict::Proceed;
        };
        if call != Call::Free || limit == 0 {
            return FreeVerdict::Proceed;
        }
        p.release(ptr, stack);
        match p.quarantine(ptr, size, limit) {
            Some(oldest) => FreeVerdict::Instead(oldest),
            None => {
                p.returned(ra);
                FreeVerdict::Return
            }
        }
    }

    /// Redzones of `bytes` (rounded up to 16) around each block the kernel's allocators
    /// or the C library's give out (0: none; the default, which leaves the heap's layout
    /// and the cycles as without the checker).
    pub fn set_redzone(&mut self, bytes: u64) {
        self.redzone = bytes.next_multiple_of(16);
    }

    /// The redzone size.
    pub fn redzone(&self) -> u64 {
        self.redzone
    }

    /// The redzone before `pid`'s block at `ptr` (0 if none).
    pub fn front(&self, pid: Pid, ptr: u64) -> u64 {
        self.procs.get(&pid).map_or(0, |p| p.front(ptr))
    }

    /// The size the program asked for of `pid`'s block at `ptr`.
    pub fn block_size(&self, pid: Pid, ptr: u64) -> Option<u64> {
        self.procs.get(&pid)?.blocks.get(&ptr).map(|b| b.size)
    }

    /// Freed blocks are held back from the allocator until `bytes` of them wait (0: none
    /// is; the default, which leaves the heap's layout and the cycles as without the
    /// checker).
    pub fn set_quarantine(&mut self, bytes: u64) {
        self.quarantine = bytes;
    }

    /// The allocator's memory grew to cover `lo..hi`: none of it is addressable until
    /// blocks are given out there.
    pub fn arena(&mut self, pid: Pid, lo: u64, hi: u64) {
        if let Some(p) = self.procs.get_mut(&pid) {
            if lo < hi {
                p.shadow.set_range(lo, hi, NOACCESS);
                p.arenas.push((lo, hi));
            }
        }
    }

    /// A system call begins (registers `a0..a5`, made at `pc`): its register arguments must
    /// be defined.
    pub fn syscall_enter(&mut self, pid: Pid, pc: u64, nr: u64, a: [u64; 6]) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let name = crate::linux::syscall_name(nr).unwrap_or("syscall");
        p.syscall = Some((name, nr, a));
        if p.in_alloc > 0 {
            // The C library's allocator at work: its calls are its own business.
            return;
        }
        let bad: Vec<&str> = syscall_params(nr)
            .iter()
            .enumerate()
            .filter(|&(i, _)| p.v.x[10 + i] != 0)
            .map(|(_, n)| *n)
            .collect();
        if bad.is_empty() {
            return;
        }
        let stack = self.stack_at(pid, pc);
        for param in bad {
            self.report(
                pid,
                kind::SYSCALL,
                &stack,
                format!("Syscall param {name}({param}) contains uninitialised byte(s)"),
                Vec::new(),
            );
        }
    }

    /// The kernel reads `len` bytes at `va` for the system call under way.
    pub fn syscall_reads(&mut self, pid: Pid, pc: u64, va: u64, len: u64) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let Some((name, nr, a)) = p.syscall else {
            return;
        };
        if p.in_alloc > 0 {
            return;
        }
        let (unaddr, undef) = p.shadow.check(va, len);
        let param = syscall_params(nr)
            .iter()
            .zip(a)
            .find(|&(_, x)| x == va)
            .map_or("buf", |(n, _)| *n);
        let stack = self.stack_at(pid, pc);
        if let Some(at) = unaddr {
            let detail = self.describe(pid, at);
            self.report(
                pid,
                kind::SYSCALL,
                &stack,
                format!("Syscall param {name}({param}) points to unaddressable byte(s)"),
                detail,
            );
        } else if let Some(at) = undef {
            let mut detail = vec![format!(
                " Address {at:#x} is {} bytes inside the {len} bytes at {va:#x}",
                at - va
            )];
            detail.extend(self.describe_block(pid, at));
            self.report(
                pid,
                kind::SYSCALL,
                &stack,
                format!("Syscall param {name}({param}) points to uninitialised byte(s)"),
                detail,
            );
        }
    }

    /// The kernel wrote `len` bytes at `va` for the process: they are defined.
    pub fn kernel_wrote(&mut self, pid: Pid, va: u64, len: u64) {
        if let Some(p) = self.procs.get_mut(&pid) {
            for k in (0..len).step_by(1) {
                // Only addressable bytes become defined (the kernel may write a whole
                // structure into memory the program owns).
                if p.shadow.byte(va + k).addressable {
                    p.shadow.set_range(va + k, va + k + 1, DEFINED);
                }
            }
        }
    }

    /// The system call ended: `a0` is defined; memory the break or a mapping gave is
    /// defined (zeros), or the allocator's own when the allocator asked for it.
    pub fn syscall_exit(
        &mut self,
        pid: Pid,
        nr: u64,
        a: [u64; 6],
        ret: Option<u64>,
        brk: (u64, u64),
    ) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.syscall = None;
        p.v.x[10] = 0;
        let own = p.in_alloc > 0;
        match (nr, ret) {
            (214, _) if brk.1 > brk.0 && own => {
                p.shadow.set_range(brk.0, brk.1, NOACCESS);
                p.arenas.push((brk.0, brk.1));
            }
            (214, _) if brk.1 > brk.0 => p.shadow.set_range(brk.0, brk.1, DEFINED),
            (222, Some(r)) => {
                let len = a[1].next_multiple_of(4096);
                if own {
                    p.shadow.set_range(r, r + len, NOACCESS);
                    p.arenas.push((r, r + len));
                } else {
                    p.shadow.forget(r, r + len);
                    p.shadow.set_range(r, r + len, DEFINED);
                }
            }
            (216, Some(r)) => {
                // mremap: the old range goes, the new one is the allocator's or the program's.
                let old = a[1].next_multiple_of(4096);
                let len = a[2].next_multiple_of(4096);
                let moved = p.shadow.defined_bits(a[0], a[1].min(a[2]));
                p.shadow.forget(a[0], a[0] + old);
                p.arenas.retain(|&(lo, hi)| hi <= a[0] || lo >= a[0] + old);
                if own {
                    p.shadow.set_range(r, r + len, NOACCESS);
                    p.arenas.push((r, r + len));
                } else {
                    p.shadow.forget(r, r + len);
                    p.shadow.put_defined_bits(r, &moved);
                }
            }
            (215, Some(0)) => {
                let len = a[1].next_multiple_of(4096);
                p.shadow.forget(a[0], a[0] + len);
                p.arenas.retain(|&(lo, hi)| hi <= a[0] || lo >= a[0] + len);
            }
            _ => {}
        }
    }

    /// Process `pid` ended: the heap summary and the leak check. `regs` are its registers,
    /// `areas` its mapped ranges.
    pub fn process_exit(
        &mut self,
        pid: Pid,
        regs: &[u64; 32],
        areas: &[(u64, u64)],
        mem: &mut dyn Peek,
    ) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let starts: Vec<u64> = p.blocks.keys().copied().collect();
        let find = |blocks: &BTreeMap<u64, Block>, v: u64| -> Option<u64> {
            let (&s, b) = blocks.range(..=v).next_back()?;
            (v < s + b.size.max(1)).then_some(s)
        };
        // Roots: registers, and every addressable word outside blocks and the allocator.
        let mut direct: HashSet<u64> = HashSet::new();
        for &r in regs.iter() {
            if let Some(s) = find(&p.blocks, r) {
                direct.insert(s);
            }
        }
        let sp = regs[2];
        let mut page = vec![0u8; 4096];
        for &(lo, hi) in areas {
            let mut at = lo & !4095;
            while at < hi {
                let skip = p.arenas.iter().any(|&(a, b)| at >= a && at + 4096 <= b);
                if !skip && mem.peek(at, &mut page) {
                    for w in 0..512u64 {
                        let va = at + w * 8;
                        if va < lo || va >= hi || (va >= p.stack_floor && va < sp) {
                            continue;
                        }
                        if p.not_roots.iter().any(|&(a, b)| va >= a && va < b) {
                            continue;
                        }
                        if find(&p.blocks, va).is_some() || !p.shadow.byte(va).addressable {
                            continue;
                        }
                        let v = u64::from_le_bytes(
                            page[(w * 8) as usize..(w * 8 + 8) as usize]
                                .try_into()
                                .unwrap_or([0; 8]),
                        );
                        if let Some(s) = find(&p.blocks, v) {
                            direct.insert(s);
                        }
                    }
                }
                at += 4096;
            }
        }
        // What the reachable blocks reach.
        let scan = |p: &ProcCheck, s: u64, mem: &mut dyn Peek, out: &mut Vec<u64>| {
            let size = p.blocks.get(&s).map_or(0, |b| b.size);
            let mut buf = vec![0u8; size as usize];
            let base = s.next_multiple_of(8);
            let off = (base - s) as usize;
            if size > 0 && mem.peek(s, &mut buf) {
                for c in buf[off.min(buf.len())..].chunks_exact(8) {
                    let v = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
                    if let Some(t) = find(&p.blocks, v) {
                        out.push(t);
                    }
                }
            }
        };
        let mut reached: HashSet<u64> = HashSet::new();
        let mut todo: Vec<u64> = direct.iter().copied().collect();
        while let Some(s) = todo.pop() {
            if reached.insert(s) {
                scan(p, s, mem, &mut todo);
            }
        }
        // Lost blocks: those pointed to only by other lost blocks are indirectly lost.
        let lost: Vec<u64> = starts
            .iter()
            .copied()
            .filter(|s| !reached.contains(s))
            .collect();
        let mut from_lost: HashSet<u64> = HashSet::new();
        for &s in &lost {
            let mut out = Vec::new();
            scan(p, s, mem, &mut out);
            from_lost.extend(out.into_iter().filter(|t| *t != s));
        }
        let sum = |set: &mut dyn Iterator<Item = u64>, p: &ProcCheck| {
            set.fold((0u64, 0u64), |(b, n), s| {
                (b + p.blocks.get(&s).map_or(0, |x| x.size), n + 1)
            })
        };
        let definitely: Vec<u64> = lost
            .iter()
            .copied()
            .filter(|s| !from_lost.contains(s))
            .collect();
        let indirectly: Vec<u64> = lost
            .iter()
            .copied()
            .filter(|s| from_lost.contains(s))
            .collect();
        let (db, dn) = sum(&mut definitely.iter().copied(), p);
        let (ib, in_) = sum(&mut indirectly.iter().copied(), p);
        let (rb, rn) = sum(&mut reached.iter().copied(), p);
        let (ub, un) = sum(&mut starts.iter().copied(), p);
        let pre = format!("=={pid}==");
        let mut lines = vec![
            format!("{pre} HEAP SUMMARY for process {pid} ({}):", p.name),
            format!("{pre}     in use at exit: {ub} bytes in {un} blocks"),
            format!(
                "{pre}   total heap usage: {} allocs, {} frees, {} bytes allocated",
                p.allocs, p.frees, p.allocated_bytes
            ),
        ];
        // Loss records: lost blocks grouped by allocation stack, smallest total first.
        let mut records: BTreeMap<(bool, Stack), (u64, u64)> = BTreeMap::new();
        for (set, definite) in [(&definitely, true), (&indirectly, false)] {
            for s in set.iter() {
                if let Some(b) = p.blocks.get(s) {
                    let e = records.entry((definite, b.alloc.clone())).or_default();
                    e.0 += b.size;
                    e.1 += 1;
                }
            }
        }
        let mut records: Vec<((bool, Stack), (u64, u64))> = records.into_iter().collect();
        records.sort_by_key(|((d, s), (b, n))| (*b, *n, !*d, s.clone()));
        let total = records.len();
        let debug = p.debug.clone();
        // Each loss record is an error of its own, as Valgrind's full leak check counts.
        for ((definite, stack), _) in &records {
            let mut key = [0u64; 4];
            for (i, pc) in stack.iter().take(4).enumerate() {
                key[i] = *pc;
            }
            let k = if *definite {
                kind::LEAK
            } else {
                kind::LEAK + 1
            };
            *self.contexts.entry((k, key)).or_default() += 1;
            self.errors += 1;
        }
        for (i, ((definite, stack), (bytes, n))) in records.into_iter().enumerate() {
            lines.push(pre.clone());
            lines.push(format!(
                "{pre} {bytes} bytes in {n} blocks are {} lost in loss record {} of {total}",
                if definite { "definitely" } else { "indirectly" },
                i + 1
            ));
            lines.extend(format_stack(&pre, debug.as_deref(), &stack));
        }
        lines.push(pre.clone());
        lines.push(format!("{pre} LEAK SUMMARY:"));
        lines.push(format!(
            "{pre}    definitely lost: {db} bytes in {dn} blocks"
        ));
        lines.push(format!(
            "{pre}    indirectly lost: {ib} bytes in {in_} blocks"
        ));
        lines.push(format!(
            "{pre}    still reachable: {rb} bytes in {rn} blocks"
        ));
        self.out.extend(lines);
        self.lost_bytes += db + ib;
        self.lost_blocks += dn + in_;
    }

    /// Checks what a string function will read and write, as its definition says; returns
    /// whether its result is defined.
    fn string_check(
        &mut self,
        pid: Pid,
        f: StrFn,
        a: [u64; 4],
        stack: &Stack,
        mem: &mut dyn Peek,
        errs: &mut Vec<Err>,
    ) -> bool {
        let _ = errs;
        let Some(p) = self.procs.get_mut(&pid) else {
            return true;
        };
        // The length of the string at `s` (to its NUL, at most `max` bytes), reading
        // memory as the function would.
        let strlen = |mem: &mut dyn Peek, s: u64, max: u64| -> u64 {
            let mut n = 0u64;
            let mut b = [0u8; 1];
            while n < max {
                if !mem.peek(s + n, &mut b) || b[0] == 0 {
                    return n;
                }
                n += 1;
            }
            n
        };
        let first_diff = |mem: &mut dyn Peek, x: u64, y: u64, max: u64, string: bool| -> u64 {
            let (mut b1, mut b2) = ([0u8; 1], [0u8; 1]);
            let mut n = 0u64;
            while n < max {
                if !mem.peek(x + n, &mut b1) || !mem.peek(y + n, &mut b2) {
                    return n + 1;
                }
                n += 1;
                if b1 != b2 || (string && b1[0] == 0) {
                    return n;
                }
            }
            n
        };
        let find = |mem: &mut dyn Peek, s: u64, c: u8, max: u64, stop_nul: bool| -> u64 {
            let mut b = [0u8; 1];
            let mut n = 0u64;
            while n < max {
                if !mem.peek(s + n, &mut b) {
                    return n + 1;
                }
                n += 1;
                if b[0] == c || (stop_nul && b[0] == 0) {
                    return n;
                }
            }
            n
        };
        const BIG: u64 = 1 << 30;
        // (range read, must be defined), (range written)
        let mut reads: Vec<(u64, u64, bool)> = Vec::new();
        let mut writes: Vec<(u64, u64)> = Vec::new();
        let c = a[1] as u8;
        match f {
            StrFn::Strlen => reads.push((a[0], strlen(mem, a[0], BIG) + 1, true)),
            StrFn::Strnlen => reads.push((a[0], (strlen(mem, a[0], a[1]) + 1).min(a[1]), true)),
            StrFn::Strcpy => {
                let n = strlen(mem, a[1], BIG) + 1;
                reads.push((a[1], n, false));
                writes.push((a[0], n));
            }
            StrFn::Strncpy => {
                let n = (strlen(mem, a[1], a[2]) + 1).min(a[2]);
                reads.push((a[1], n, false));
                writes.push((a[0], a[2]));
            }
            StrFn::Strcat | StrFn::Strncat => {
                let d = strlen(mem, a[0], BIG);
                let s = if f == StrFn::Strcat {
                    strlen(mem, a[1], BIG) + 1
                } else {
                    strlen(mem, a[1], a[2]).min(a[2]) + 1
                };
                reads.push((a[0], d + 1, true));
                reads.push((
                    a[1],
                    s.min(if f == StrFn::Strcat { BIG } else { a[2] }),
                    false,
                ));
                writes.push((a[0] + d, s));
            }
            StrFn::Strcmp | StrFn::Strncmp => {
                let max = if f == StrFn::Strcmp { BIG } else { a[2] };
                let n = first_diff(mem, a[0], a[1], max, true);
                reads.push((a[0], n, true));
                reads.push((a[1], n, true));
            }
            StrFn::Strchr | StrFn::Strrchr => {
                let n = if f == StrFn::Strchr {
                    find(mem, a[0], c, BIG, true)
                } else {
                    strlen(mem, a[0], BIG) + 1
                };
                reads.push((a[0], n, true));
            }
            StrFn::Rawmemchr => reads.push((a[0], find(mem, a[0], c, BIG, false), true)),
            StrFn::Memchr => reads.push((a[0], find(mem, a[0], c, a[2], false), true)),
            StrFn::Memrchr => reads.push((a[0], a[2], true)),
            StrFn::Memcmp => {
                let n = first_diff(mem, a[0], a[1], a[2], false);
                reads.push((a[0], n, true));
                reads.push((a[1], n, true));
            }
            StrFn::Memcpy => {
                reads.push((a[1], a[2], false));
                writes.push((a[0], a[2]));
            }
            StrFn::Memset => writes.push((a[0], a[2])),
            StrFn::Strspn => {
                reads.push((a[0], strlen(mem, a[0], BIG) + 1, true));
                reads.push((a[1], strlen(mem, a[1], BIG) + 1, true));
            }
        }
        let mut defined = true;
        let mut found: Vec<(u8, u64, String)> = Vec::new();
        for &(lo, len, must) in &reads {
            let (unaddr, undef) = p.shadow.check(lo, len.min(BIG));
            if let Some(at) = unaddr {
                found.push((kind::READ, at, "read".into()));
            }
            if undef.is_some() && must {
                defined = false;
            }
        }
        for &(lo, len) in &writes {
            if let (Some(at), _) = p.shadow.check(lo, len.min(BIG)) {
                found.push((kind::WRITE, at, "write".into()));
            }
        }
        let name = STR_FNS
            .iter()
            .find(|(g, _)| *g == f)
            .map_or("?", |(_, n)| *n);
        let fname = p
            .debug
            .as_ref()
            .and_then(|d| d.function(stack[0]).map(|(n, _, _)| n.to_string()))
            .unwrap_or_else(|| name.to_string());
        for (k, at, what) in found {
            let detail = self.describe(pid, at);
            self.report(
                pid,
                k,
                stack,
                format!("Invalid {what} of size 1 (by {fname})"),
                detail,
            );
        }
        if !defined {
            // The result depends on uninitialised bytes; it is reported when it decides
            // something.
            let _ = kind::STR;
        }
        defined
    }

    fn report_err(&mut self, pid: Pid, pc: u64, e: Err) {
        let stack = self.stack_at(pid, pc);
        let (k, title, detail) = match e {
            Err::Cond => (
                kind::COND,
                "Conditional jump or move depends on uninitialised value(s)".to_string(),
                Vec::new(),
            ),
            Err::Addr => (
                kind::ADDR,
                "Use of uninitialised value of size 8 (as an address)".to_string(),
                Vec::new(),
            ),
            Err::Jump => (
                kind::JUMP,
                "Jump to an address computed from uninitialised value(s)".to_string(),
                Vec::new(),
            ),
            Err::Read { addr, size } => (
                kind::READ,
                format!("Invalid read of size {size}"),
                self.describe(pid, addr),
            ),
            Err::Write { addr, size } => (
                kind::WRITE,
                format!("Invalid write of size {size}"),
                self.describe(pid, addr),
            ),
        };
        self.report(pid, k, &stack, title, detail);
    }

    /// Counts an error and writes its report the first time its context is seen.
    fn report(&mut self, pid: Pid, k: u8, stack: &Stack, title: String, detail: Vec<String>) {
        self.errors += 1;
        let mut key = [0u64; 4];
        for (i, pc) in stack.iter().take(4).enumerate() {
            key[i] = *pc;
        }
        let n = self.contexts.entry((k, key)).or_default();
        *n += 1;
        if *n > 1 {
            return;
        }
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        let pre = format!("=={pid}==");
        self.out.push(format!("{pre} {title}"));
        self.out
            .extend(format_stack(&pre, p.debug.as_deref(), stack));
        for d in detail {
            self.out.push(format!("{pre} {d}"));
        }
        self.out.push(pre);
    }

    /// Where `addr` is, for a report: in or near a block (with its stacks), on the stack.
    fn describe(&self, pid: Pid, addr: u64) -> Vec<String> {
        let Some(p) = self.procs.get(&pid) else {
            return Vec::new();
        };
        let v = self.describe_block(pid, addr);
        if !v.is_empty() {
            return v;
        }
        if addr >= p.stack_floor && addr < p.sp {
            return vec![format!(
                " Address {addr:#x} is on the stack, {} bytes below the stack pointer",
                p.sp - addr
            )];
        }
        if addr >= p.sp && addr < p.stack_top.max(p.sp) {
            return vec![format!(
                " Address {addr:#x} is on the stack, {} bytes above the stack pointer",
                addr - p.sp
            )];
        }
        if let Some((name, start, size)) = p.debug.as_deref().and_then(|d| d.function(addr)) {
            if addr < start + size {
                return vec![format!(
                    " Address {addr:#x} is {} bytes inside symbol \"{name}\"",
                    addr - start
                )];
            }
        }
        vec![format!(
            " Address {addr:#x} is not stack'd, malloc'd or (recently) free'd"
        )]
    }

    fn describe_block(&self, pid: Pid, addr: u64) -> Vec<String> {
        let Some(p) = self.procs.get(&pid) else {
            return Vec::new();
        };
        let pre = format!("=={pid}==");
        let dbg = p.debug.as_deref();
        let strip = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|l| {
                    l.strip_prefix(&pre)
                        .map(|s| s.trim_start_matches(' ').to_string())
                        .map(|s| format!("   {s}"))
                        .unwrap_or(l)
                })
                .collect()
        };
        let at = |s: u64, size: u64| -> String {
            if addr < s {
                format!("{} bytes before", s - addr)
            } else if addr >= s + size {
                format!("{} bytes after", addr - (s + size))
            } else {
                format!("{} bytes inside", addr - s)
            }
        };
        // Inside or just around a live block (the nearest one within 64 bytes).
        let before = p.blocks.range(..=addr).next_back();
        let after = p.blocks.range(addr.saturating_add(1)..).next();
        let mut best: Option<(u64, &Block, u64)> = None;
        if let Some((&s, b)) = before {
            let d = addr.saturating_sub(s + b.size.max(1) - 1);
            best = Some((s, b, if addr < s + b.size { 0 } else { d }));
        }
        if let Some((&s, b)) = after {
            let d = s - addr;
            if best.is_none_or(|(_, _, bd)| d < bd) {
                best = Some((s, b, d));
            }
        }
        // A freed block that holds it.
        if let Some((&s, f)) = p.freed.range(..=addr).next_back() {
            if addr < s + f.size.max(1) && best.is_none_or(|(_, _, d)| d > 0) {
                let mut v = vec![format!(
                    " Address {addr:#x} is {} a block of size {} free'd",
                    at(s, f.size),
                    f.size
                )];
                v.extend(strip(format_stack(&pre, dbg, &f.free)));
                v.push(" Block was alloc'd at".to_string());
                v.extend(strip(format_stack(&pre, dbg, &f.alloc)));
                return v;
            }
        }
        match best {
            Some((s, b, d)) if d <= 64 => {
                let mut v = vec![format!(
                    " Address {addr:#x} is {} a block of size {} alloc'd",
                    at(s, b.size),
                    b.size
                )];
                v.extend(strip(format_stack(&pre, dbg, &b.alloc)));
                v
            }
            _ => Vec::new(),
        }
    }
}

/// An error found by one instruction.
#[derive(Clone, Copy, Debug)]
enum Err {
    Cond,
    Addr,
    Jump,
    Read { addr: u64, size: u8 },
    Write { addr: u64, size: u8 },
}

impl ProcCheck {
    /// The block `q` (`size` bytes, freed) joins the quarantine; once more than `limit`
    /// bytes wait, the oldest leaves it, to be freed for real.
    fn quarantine(&mut self, q: u64, size: u64, limit: u64) -> Option<u64> {
        let front = self.freed.get(&q).map_or(0, |f| f.front);
        self.held.push_back((q, size, front));
        self.held_bytes += size.max(1);
        if self.held_bytes <= limit {
            return None;
        }
        let (oldest, n, _) = self.held.front().copied()?;
        self.held_bytes -= n.max(1);
        // Its front is still wanted, to give the allocator its own pointer back.
        self.releasing = self.held.pop_front();
        Some(oldest)
    }

    /// The redzone the checker put before the block at `q` (live, freed, or leaving the
    /// quarantine); 0 if it knows none.
    fn front(&self, q: u64) -> u64 {
        if let Some(b) = self.blocks.get(&q) {
            return b.front;
        }
        if let Some((_, _, f)) = self.releasing.filter(|r| r.0 == q) {
            return f;
        }
        if let Some(f) = self.freed.get(&q) {
            return f.front;
        }
        self.held.iter().find(|h| h.0 == q).map_or(0, |h| h.2)
    }

    /// A call the kernel served returned to `ra` without a `ret`: its frame goes.
    fn returned(&mut self, ra: u64) {
        if self.frames.last().is_some_and(|f| f.ret == ra) {
            self.frames.pop();
        }
        self.v.x[10] = 0;
    }

    fn allocate(&mut self, q: u64, n: u64, zeroed: bool, stack: Stack, front: u64) {
        self.allocs += 1;
        self.allocated_bytes += n;
        let end = q.saturating_add(n);
        // Any freed block it reuses is forgotten (freed blocks never overlap: the older of
        // two was forgotten when the memory was given out again).
        let mut stale: Vec<u64> = self.freed.range(q..end).map(|(&s, _)| s).collect();
        if let Some((&s, f)) = self.freed.range(..q).next_back() {
            if s + f.size.max(1) > q {
                stale.push(s);
            }
        }
        for s in stale {
            self.freed.remove(&s);
        }
        self.shadow
            .set_range(q, end, if zeroed { DEFINED } else { UNDEFINED });
        self.blocks.insert(
            q,
            Block {
                size: n,
                alloc: stack,
                front,
            },
        );
    }

    fn release(&mut self, q: u64, stack: Stack) {
        let Some(b) = self.blocks.remove(&q) else {
            return;
        };
        self.frees += 1;
        self.shadow.set_range(q, q + b.size, NOACCESS);
        self.freed.insert(
            q,
            Freed {
                size: b.size,
                alloc: b.alloc,
                free: stack,
                front: b.front,
            },
        );
        self.freed_order.push_back(q);
        while self.freed_order.len() > FREED_MEMORY {
            if let Some(old) = self.freed_order.pop_front() {
                self.freed.remove(&old);
            }
        }
    }
}

/// A call stack as report lines: `at` the innermost frame, `by` each caller.
fn format_stack(pre: &str, debug: Option<&DebugInfo>, stack: &[u64]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, &pc) in stack.iter().enumerate() {
        let frames = match debug {
            Some(d) => d.frame(pc).expand_inlined(),
            None => vec![vmlab_cpu::debuginfo::Frame::unknown(pc)],
        };
        for (j, f) in frames.iter().enumerate() {
            let word = if i == 0 && j == 0 { "at" } else { "by" };
            out.push(format!("{pre}    {word} {f}"));
        }
        // The stack ends at the program's entry.
        if frames
            .first()
            .and_then(|f| f.function.as_deref())
            .is_some_and(|n| n == "main")
        {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Guest memory for the tests: bytes by address (the others read as zeros).
    #[derive(Default)]
    struct Mem(BTreeMap<u64, u8>);

    impl Mem {
        fn put(&mut self, va: u64, bytes: &[u8]) {
            for (i, b) in bytes.iter().enumerate() {
                self.0.insert(va + i as u64, *b);
            }
        }
        fn word(&mut self, va: u64, v: u64) {
            self.put(va, &v.to_le_bytes());
        }
    }

    impl Peek for Mem {
        fn peek(&mut self, va: u64, buf: &mut [u8]) -> bool {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.0.get(&(va + i as u64)).copied().unwrap_or(0);
            }
            true
        }
    }

    const STRCPY: u64 = 0x5000;
    const SP: u64 = 0x8000_0000;

    /// A checker with process 1: stack from `SP` down, `strcpy` at `STRCPY`, no symbols.
    fn checker() -> Memcheck {
        let mut mc = Memcheck::new();
        let mut funcs = HashMap::new();
        funcs.insert(STRCPY, Func::Str(StrFn::Strcpy));
        mc.add_process(
            1,
            ProcessInfo {
                name: "t".into(),
                debug: None,
                funcs,
                libc: false,
                sp: SP,
                stack_floor: SP - 0x10_0000,
                not_roots: Vec::new(),
            },
        );
        mc
    }

    /// Retires `insn` at `pc` with registers `pre` (and `post` = `pre` with `rd` = `value`).
    fn step(mc: &mut Memcheck, mem: &mut Mem, pc: u64, insn: Insn, pre: [u64; 32], next: u64) {
        let mut post = pre;
        if insn.op == Op::Jal || insn.op == Op::Jalr {
            post[usize::from(insn.rd)] = pc + 4;
        }
        post[0] = 0;
        mc.retire(1, pc, &insn, &pre, &post, next, mem);
    }

    fn text(mc: &mut Memcheck) -> String {
        mc.take_output().join("\n")
    }

    #[test]
    fn an_undefined_load_is_reported_only_where_it_decides_a_branch() {
        let (mut mc, mut mem) = (checker(), Mem::default());
        mc.heap_call(
            1,
            0x100,
            Call::Malloc,
            [16, 0, 0],
            &[(0x9000, 16)],
            &[],
            0,
            0,
        );
        let mut regs = [0u64; 32];
        regs[10] = 0x9000;
        // ld a1, 0(a0): undefined, but only a copy
        step(
            &mut mc,
            &mut mem,
            0x200,
            Insn::new(Op::Ld, 11, 10, 0, 0),
            regs,
            0x204,
        );
        // sd a1, 8(a0): still only a copy
        step(
            &mut mc,
            &mut mem,
            0x204,
            Insn::new(Op::Sd, 0, 10, 11, 8),
            regs,
            0x208,
        );
        assert_eq!(mc.errors(), 0);
        // beq a1, x0: decides a branch, twice at the same place: one report, two errors
        for _ in 0..2 {
            step(
                &mut mc,
                &mut mem,
                0x208,
                Insn::new(Op::Beq, 0, 11, 0, 8),
                regs,
                0x20c,
            );
        }
        assert_eq!((mc.errors(), mc.contexts()), (2, 1));
        assert!(
            text(&mut mc).contains("Conditional jump or move depends on uninitialised value(s)")
        );
        // andi a1, a1, 0: a defined result, no more reports
        step(
            &mut mc,
            &mut mem,
            0x20c,
            Insn::new(Op::Andi, 11, 11, 0, 0),
            regs,
            0x210,
        );
        step(
            &mut mc,
            &mut mem,
            0x210,
            Insn::new(Op::Beq, 0, 11, 0, 8),
            regs,
            0x214,
        );
        assert_eq!(mc.errors(), 2);
    }

    #[test]
    fn accesses_outside_blocks_name_the_nearest_block() {
        let (mut mc, mut mem) = (checker(), Mem::default());
        mc.heap_extent(1, 0x9000, 0xa000);
        mc.heap_call(
            1,
            0x100,
            Call::Malloc,
            [13, 0, 0],
            &[(0x9010, 13)],
            &[],
            0,
            0,
        );
        let mut regs = [0u64; 32];
        regs[10] = 0x9010;
        // Each access at a pc of its own (reports are once per place).
        let mut pc = 0x300;
        let mut check =
            |mc: &mut Memcheck, mem: &mut Mem, regs: [u64; 32], insn: Insn, want: &[&str]| {
                pc += 4;
                step(mc, mem, pc, insn, regs, pc + 4);
                let t = text(mc);
                for w in want {
                    assert!(t.contains(w), "{w:?} in\n{t}");
                }
            };
        // sb at 13: one past the end
        check(
            &mut mc,
            &mut mem,
            regs,
            Insn::new(Op::Sb, 0, 10, 11, 13),
            &[
                "Invalid write of size 1",
                "0 bytes after a block of size 13 alloc'd",
            ],
        );
        // lw at -4: in the header before it
        check(
            &mut mc,
            &mut mem,
            regs,
            Insn::new(Op::Lw, 12, 10, 0, -4),
            &[
                "Invalid read of size 4",
                "4 bytes before a block of size 13",
            ],
        );
        // a free, then a read inside: use after free
        mc.heap_call(1, 0x110, Call::Free, [0x9010, 0, 0], &[], &[0x9010], 0, 0);
        check(
            &mut mc,
            &mut mem,
            regs,
            Insn::new(Op::Lbu, 12, 10, 0, 2),
            &[
                "Invalid read of size 1",
                "2 bytes inside a block of size 13 free'd",
            ],
        );
        // and a second free of it: refused
        assert_eq!(
            mc.heap_free(1, 0x110, 0x9010, Call::Free, 0),
            FreeVerdict::Return
        );
        assert!(text(&mut mc).contains("double free"));
        // below the stack pointer
        regs[10] = SP - 64;
        check(
            &mut mc,
            &mut mem,
            regs,
            Insn::new(Op::Ld, 12, 10, 0, 0),
            &["Invalid read of size 8", "64 bytes below the stack pointer"],
        );
    }

    #[test]
    fn string_functions_are_checked_as_defined_not_word_by_word() {
        let (mut mc, mut mem) = (checker(), Mem::default());
        mc.heap_extent(1, 0x9000, 0xa000);
        // a 5-byte block for "hello" (6 bytes with its NUL)
        mc.heap_call(1, 0x100, Call::Malloc, [5, 0, 0], &[(0x9010, 5)], &[], 0, 0);
        mem.put(0x7000, b"hello\0");
        let mut regs = [0u64; 32];
        (regs[1], regs[10], regs[11]) = (0x404, 0x9010, 0x7000);
        // jal ra, strcpy
        step(
            &mut mc,
            &mut mem,
            0x400,
            Insn::new(Op::Jal, 1, 0, 0, 0),
            regs,
            STRCPY,
        );
        let t = text(&mut mc);
        assert!(t.contains("Invalid write of size 1 (by strcpy)"), "{t}");
        assert!(t.contains("0 bytes after a block of size 5"), "{t}");
        // Inside it, a whole-word load past the end is not reported.
        step(
            &mut mc,
            &mut mem,
            STRCPY,
            Insn::new(Op::Ld, 5, 10, 0, 0),
            regs,
            STRCPY + 4,
        );
        assert_eq!(mc.errors(), 1);
        // ret: back in the caller, a0 is defined
        regs[1] = 0x404;
        step(
            &mut mc,
            &mut mem,
            STRCPY + 4,
            Insn::new(Op::Jalr, 0, 1, 0, 0),
            regs,
            0x404,
        );
        step(
            &mut mc,
            &mut mem,
            0x404,
            Insn::new(Op::Beq, 0, 10, 0, 8),
            regs,
            0x408,
        );
        assert_eq!(mc.errors(), 1);
    }

    #[test]
    fn leaks_are_definite_indirect_or_reachable() {
        let (mut mc, mut mem) = (checker(), Mem::default());
        mc.heap_extent(1, 0x9000, 0xa000);
        // A (0x9100) is pointed to by the data word at 0x6000, and points to B (0x9200).
        // C (0x9300) is pointed to by nothing, and points to D (0x9400).
        for (q, n) in [(0x9100, 40), (0x9200, 24), (0x9300, 40), (0x9400, 16)] {
            mc.heap_call(1, 0x100, Call::Malloc, [n, 0, 0], &[(q, n)], &[], 0, 0);
            mem.put(q, &vec![0u8; n as usize]);
        }
        mem.word(0x6000, 0x9100);
        mem.word(0x9108, 0x9200);
        mem.word(0x9300, 0x9400 + 4); // an interior pointer counts too
        let regs = [0u64; 32];
        mc.process_exit(1, &regs, &[(0x6000, 0x6008)], &mut mem);
        let t = text(&mut mc);
        for w in [
            "in use at exit: 120 bytes in 4 blocks",
            "16 bytes in 1 blocks are indirectly lost",
            "40 bytes in 1 blocks are definitely lost",
            "definitely lost: 40 bytes in 1 blocks",
            "indirectly lost: 16 bytes in 1 blocks",
            "still reachable: 64 bytes in 2 blocks",
        ] {
            assert!(t.contains(w), "{w:?} in\n{t}");
        }
        assert_eq!(mc.leaked(), (56, 2));
        assert_eq!(mc.errors(), 2, "each loss record is an error");
    }

    #[test]
    fn the_quarantine_holds_freed_blocks_back() {
        let mut mc = checker();
        mc.set_quarantine(64);
        for q in [0x9000u64, 0x9100, 0x9200] {
            mc.heap_call(1, 0x100, Call::Malloc, [40, 0, 0], &[(q, 40)], &[], 0, 0);
        }
        assert_eq!(
            mc.heap_free(1, 0x110, 0x9000, Call::Free, 0),
            FreeVerdict::Return
        );
        // 80 bytes wait, more than 64: the oldest goes to the allocator instead
        assert_eq!(
            mc.heap_free(1, 0x110, 0x9100, Call::Free, 0),
            FreeVerdict::Instead(0x9000)
        );
        assert_eq!(
            mc.heap_free(1, 0x110, 0x9200, Call::Free, 0),
            FreeVerdict::Instead(0x9100)
        );
        assert_eq!(mc.errors(), 0);
    }
}
