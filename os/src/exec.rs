//! The Linux process start: the initial stack a program finds at its entry point.
//!
//! Linux's ELF loader (`create_elf_tables` in `fs/binfmt_elf.c`) leaves, from the top of the
//! stack down: an 8-byte zero word, the program's path (`AT_EXECFN` points at it), the
//! environment strings, the argument strings, then (16-byte aligned) the platform string
//! and the 16 bytes `AT_RANDOM` points at, and below those, with `sp` 16-byte aligned at
//! `argc`:
//!
//! ```text
//! sp ->  argc
//!        argv[0] ... argv[argc-1], 0
//!        envp[0] ... envp[n-1], 0
//!        auxv: (type, value) pairs, ending with (AT_NULL, 0)
//! ```
//!
//! [`build`] lays out exactly that for a given stack top, as bytes the kernel copies into
//! the new process's stack before it first runs.

/// The auxiliary vector's entry types (`<linux/auxvec.h>`).
pub mod at {
    /// The end of the vector.
    pub const NULL: u64 = 0;
    /// The program headers' address.
    pub const PHDR: u64 = 3;
    /// The size of one program header.
    pub const PHENT: u64 = 4;
    /// How many program headers there are.
    pub const PHNUM: u64 = 5;
    /// The page size.
    pub const PAGESZ: u64 = 6;
    /// The interpreter's load address (0 for a static program).
    pub const BASE: u64 = 7;
    /// Flags (0).
    pub const FLAGS: u64 = 8;
    /// The program's entry point.
    pub const ENTRY: u64 = 9;
    /// The real user id.
    pub const UID: u64 = 11;
    /// The effective user id.
    pub const EUID: u64 = 12;
    /// The real group id.
    pub const GID: u64 = 13;
    /// The effective group id.
    pub const EGID: u64 = 14;
    /// The platform string's address.
    pub const PLATFORM: u64 = 15;
    /// The hardware capabilities: on RISC-V one bit per single-letter extension.
    pub const HWCAP: u64 = 16;
    /// The clock ticks per second `times` counts in.
    pub const CLKTCK: u64 = 17;
    /// Whether the program runs with raised privileges (0).
    pub const SECURE: u64 = 23;
    /// The address of 16 random bytes.
    pub const RANDOM: u64 = 25;
    /// The address of the program's path.
    pub const EXECFN: u64 = 31;
}

/// The size of one ELF64 program header (`AT_PHENT`).
pub const PHENT_SIZE: u64 = 56;

/// The platform string `AT_PLATFORM` points at.
pub const PLATFORM: &str = "riscv64";

/// The user and group the guest runs as (`AT_UID` and the rest; `getuid` and the rest).
pub const GUEST_UID: u64 = crate::fs::GUEST_UID as u64;

/// Clock ticks per second (`AT_CLKTCK`, Linux's `USER_HZ`).
pub const CLK_TCK: u64 = 100;

/// What the initial stack says about the program and its run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartInfo {
    /// The arguments, `argv[0]` first.
    pub argv: Vec<Vec<u8>>,
    /// The environment, `NAME=value` strings.
    pub envp: Vec<Vec<u8>>,
    /// The path the program was started by (`AT_EXECFN`).
    pub execfn: Vec<u8>,
    /// The program headers' address (`AT_PHDR`; 0 when unknown).
    pub phdr: u64,
    /// How many program headers (`AT_PHNUM`).
    pub phnum: u64,
    /// The entry point (`AT_ENTRY`).
    pub entry: u64,
    /// The interpreter's load address (`AT_BASE`; 0 for a static program).
    pub base: u64,
    /// The page size (`AT_PAGESZ`).
    pub page_size: u64,
    /// The single-letter extensions of the hart (`AT_HWCAP`).
    pub hwcap: u64,
    /// The 16 bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
}

/// The initial stack: its bytes, which end at the stack top, and the `sp` the program
/// starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    /// The lowest address the bytes cover (equal to `sp`).
    pub base: u64,
    /// The bytes from `base` up to the stack top.
    pub bytes: Vec<u8>,
}

impl InitialStack {
    /// The stack pointer at the entry point (`argc` lies there).
    pub fn sp(&self) -> u64 {
        self.base
    }
}

/// Lays out the initial stack below `top` (one past the stack's highest byte, 16-byte
/// aligned). Errors if it would need more than `limit` bytes (as Linux's `E2BIG` for
/// arguments and environment too large).
pub fn build(top: u64, info: &StartInfo, limit: u64) -> Result<InitialStack, String> {
    // The strings and pointers are computed on addresses; the bytes are written into a
    // buffer indexed from the final base afterwards.
    let mut writes: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut p = top;
    let mut push = |p: &mut u64, bytes: &[u8], nul: bool| -> u64 {
        let len = bytes.len() as u64 + u64::from(nul);
        *p = p.wrapping_sub(len);
        let mut b = bytes.to_vec();
        if nul {
            b.push(0);
        }
        writes.push((*p, b));
        *p
    };
    // The zero word at the very top, then the path, the environment and the arguments
    // (copied last to first, so that argv[0]'s string is lowest).
    push(&mut p, &[0; 8], false);
    let execfn = push(&mut p, &info.execfn, true);
    let mut env_at = vec![0; info.envp.len()];
    for (i, e) in info.envp.iter().enumerate().rev() {
        env_at[i] = push(&mut p, e, true);
    }
    let mut arg_at = vec![0; info.argv.len()];
    for (i, a) in info.argv.iter().enumerate().rev() {
        arg_at[i] = push(&mut p, a, true);
    }
    p &= !15;
    let platform = push(&mut p, PLATFORM.as_bytes(), true);
    let random = push(&mut p, &info.random, false);
    let aux: Vec<(u64, u64)> = vec![
        (at::HWCAP, info.hwcap),
        (at::PAGESZ, info.page_size),
        (at::CLKTCK, CLK_TCK),
        (at::PHDR, info.phdr),
        (at::PHENT, PHENT_SIZE),
        (at::PHNUM, info.phnum),
        (at::BASE, info.base),
        (at::FLAGS, 0),
        (at::ENTRY, info.entry),
        (at::UID, GUEST_UID),
        (at::EUID, GUEST_UID),
        (at::GID, GUEST_UID),
        (at::EGID, GUEST_UID),
        (at::SECURE, 0),
        (at::RANDOM, random),
        (at::EXECFN, execfn),
        (at::PLATFORM, platform),
        (at::NULL, 0),
    ];
    let words = 1 + arg_at.len() + 1 + env_at.len() + 1 + 2 * aux.len();
    let sp = p.wrapping_sub(8 * words as u64) & !15;
    let mut table = Vec::with_capacity(words);
    table.push(info.argv.len() as u64);
    table.extend(&arg_at);
    table.push(0);
    table.extend(&env_at);
    table.push(0);
    for (k, v) in aux {
        table.push(k);
        table.push(v);
    }
    let size = top.wrapping_sub(sp);
    if sp > top || size > limit {
        return Err(format!(
            "the arguments and environment need {size} bytes of stack, more than the {limit} the process starts with (os.stack_size)"
        ));
    }
    let mut bytes = vec![0u8; size as usize];
    let mut put = |at: u64, b: &[u8]| {
        let i = (at - sp) as usize;
        bytes[i..i + b.len()].copy_from_slice(b);
    };
    for (at, b) in &writes {
        put(*at, b);
    }
    for (i, w) in table.iter().enumerate() {
        put(sp + 8 * i as u64, &w.to_le_bytes());
    }
    Ok(InitialStack { base: sp, bytes })
}

/// 16 bytes derived from `seed` and `pid` (splitmix64), for `AT_RANDOM`: the same run
/// gives the same bytes.
pub fn random_bytes(seed: u64, pid: u64) -> [u8; 16] {
    let mut s = seed ^ pid.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut s).to_le_bytes());
    }
    out
}

/// One step of splitmix64: a well-mixed 64-bit value from a counter.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `AT_HWCAP` from `misa`: the bits of the single-letter extensions Linux reports (I, M,
/// A, F, D, C, V).
pub fn hwcap_from_misa(misa: u64) -> u64 {
    let mask = b"imafdcv".iter().fold(0u64, |m, &c| m | 1 << (c - b'a'));
    misa & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> StartInfo {
        StartInfo {
            argv: vec![b"prog".to_vec(), b"one".to_vec(), b"two words".to_vec()],
            envp: vec![b"A=1".to_vec(), b"B=hello".to_vec()],
            execfn: b"/bin/prog".to_vec(),
            phdr: 0x10040,
            phnum: 9,
            entry: 0x10500,
            base: 0,
            page_size: 4096,
            hwcap: hwcap_from_misa(0x8000_0000_0014_112d),
            random: random_bytes(1, 1),
        }
    }

    /// A reader of the laid-out stack, as a program sees it.
    struct View<'a>(&'a InitialStack);

    impl View<'_> {
        fn word(&self, at: u64) -> u64 {
            let i = (at - self.0.base) as usize;
            u64::from_le_bytes(self.0.bytes[i..i + 8].try_into().unwrap())
        }
        fn string(&self, at: u64) -> Vec<u8> {
            let i = (at - self.0.base) as usize;
            let end = self.0.bytes[i..].iter().position(|&b| b == 0).unwrap();
            self.0.bytes[i..i + end].to_vec()
        }
    }

    #[test]
    fn the_stack_reads_as_linux_lays_it_out() {
        let top = 0x4000_0000;
        let s = build(top, &info(), 16384).unwrap();
        let v = View(&s);
        assert_eq!(s.sp() % 16, 0);
        assert_eq!(s.base + s.bytes.len() as u64, top);
        let sp = s.sp();
        assert_eq!(v.word(sp), 3, "argc");
        let args: Vec<Vec<u8>> = (0..3).map(|i| v.string(v.word(sp + 8 + 8 * i))).collect();
        assert_eq!(args, info().argv);
        assert_eq!(v.word(sp + 32), 0, "argv ends with a null pointer");
        let env: Vec<Vec<u8>> = (0..2).map(|i| v.string(v.word(sp + 40 + 8 * i))).collect();
        assert_eq!(env, info().envp);
        assert_eq!(v.word(sp + 56), 0, "envp ends with a null pointer");
        let mut aux = std::collections::BTreeMap::new();
        let mut at = sp + 64;
        loop {
            let (k, val) = (v.word(at), v.word(at + 8));
            aux.insert(k, val);
            at += 16;
            if k == at::NULL {
                break;
            }
        }
        let check = |k: u64, want: u64| assert_eq!(aux.get(&k), Some(&want), "aux {k}");
        check(at::PHDR, 0x10040);
        check(at::PHENT, 56);
        check(at::PHNUM, 9);
        check(at::PAGESZ, 4096);
        check(at::ENTRY, 0x10500);
        check(at::BASE, 0);
        check(at::UID, GUEST_UID);
        check(at::SECURE, 0);
        // I, M, A, F, D, C: the letters of rv64imafdc (and not S or U from misa).
        check(at::HWCAP, 0x112d);
        assert_eq!(v.string(aux[&at::EXECFN]), b"/bin/prog");
        assert_eq!(v.string(aux[&at::PLATFORM]), b"riscv64");
        let r = aux[&at::RANDOM];
        assert_eq!(s.bytes[(r - s.base) as usize..][..16], info().random);
        // The top word is zero, and the path sits just below it.
        assert_eq!(v.word(top - 8), 0);
        assert_eq!(aux[&at::EXECFN], top - 8 - 10);
        // The strings lie in order: argv[0] lowest, then the environment, then the path.
        assert!(v.word(sp + 8) < v.word(sp + 40));
        assert!(v.word(sp + 48) < aux[&at::EXECFN]);
    }

    #[test]
    fn too_much_for_the_stack_is_an_error() {
        let mut i = info();
        i.envp.push(vec![b'x'; 20000]);
        let e = build(0x4000_0000, &i, 16384).unwrap_err();
        assert!(e.contains("os.stack_size"), "{e}");
    }

    #[test]
    fn random_bytes_depend_on_seed_and_process_only() {
        assert_eq!(random_bytes(1, 1), random_bytes(1, 1));
        assert_ne!(random_bytes(1, 1), random_bytes(2, 1));
        assert_ne!(random_bytes(1, 1), random_bytes(1, 2));
    }
}
