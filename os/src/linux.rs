//! The Linux RISC-V process interface as data: system call numbers and names, error
//! numbers, signals and their default actions, and the layouts of the structures system
//! calls read and write (`timespec`, `stat`, `utsname`, ...).
//!
//! Everything here is what the Linux kernel's user API defines for 64-bit RISC-V (the
//! generic system call table of `asm-generic/unistd.h`, `asm-generic/errno*.h`,
//! `asm-generic/signal.h`, `asm-generic/stat.h`); the kernel model's handlers use these
//! names rather than numbers.

/// Every Linux RISC-V (64-bit) system call number with its name (`asm-generic/unistd.h`
/// and the RISC-V additions), in number order: reports name a call the kernel does not serve.
pub const NAMES: &[(u64, &str)] = &[
    (0, "io_setup"),
    (1, "io_destroy"),
    (2, "io_submit"),
    (3, "io_cancel"),
    (4, "io_getevents"),
    (5, "setxattr"),
    (6, "lsetxattr"),
    (7, "fsetxattr"),
    (8, "getxattr"),
    (9, "lgetxattr"),
    (10, "fgetxattr"),
    (11, "listxattr"),
    (12, "llistxattr"),
    (13, "flistxattr"),
    (14, "removexattr"),
    (15, "lremovexattr"),
    (16, "fremovexattr"),
    (17, "getcwd"),
    (18, "lookup_dcookie"),
    (19, "eventfd2"),
    (20, "epoll_create1"),
    (21, "epoll_ctl"),
    (22, "epoll_pwait"),
    (23, "dup"),
    (24, "dup3"),
    (25, "fcntl"),
    (26, "inotify_init1"),
    (27, "inotify_add_watch"),
    (28, "inotify_rm_watch"),
    (29, "ioctl"),
    (30, "ioprio_set"),
    (31, "ioprio_get"),
    (32, "flock"),
    (33, "mknodat"),
    (34, "mkdirat"),
    (35, "unlinkat"),
    (36, "symlinkat"),
    (37, "linkat"),
    (38, "renameat"),
    (39, "umount2"),
    (40, "mount"),
    (41, "pivot_root"),
    (42, "nfsservctl"),
    (43, "statfs"),
    (44, "fstatfs"),
    (45, "truncate"),
    (46, "ftruncate"),
    (47, "fallocate"),
    (48, "faccessat"),
    (49, "chdir"),
    (50, "fchdir"),
    (51, "chroot"),
    (52, "fchmod"),
    (53, "fchmodat"),
    (54, "fchownat"),
    (55, "fchown"),
    (56, "openat"),
    (57, "close"),
    (58, "vhangup"),
    (59, "pipe2"),
    (60, "quotactl"),
    (61, "getdents64"),
    (62, "lseek"),
    (63, "read"),
    (64, "write"),
    (65, "readv"),
    (66, "writev"),
    (67, "pread64"),
    (68, "pwrite64"),
    (69, "preadv"),
    (70, "pwritev"),
    (71, "sendfile"),
    (72, "pselect6"),
    (73, "ppoll"),
    (74, "signalfd4"),
    (75, "vmsplice"),
    (76, "splice"),
    (77, "tee"),
    (78, "readlinkat"),
    (79, "newfstatat"),
    (80, "fstat"),
    (81, "sync"),
    (82, "fsync"),
    (83, "fdatasync"),
    (84, "sync_file_range"),
    (85, "timerfd_create"),
    (86, "timerfd_settime"),
    (87, "timerfd_gettime"),
    (88, "utimensat"),
    (89, "acct"),
    (90, "capget"),
    (91, "capset"),
    (92, "personality"),
    (93, "exit"),
    (94, "exit_group"),
    (95, "waitid"),
    (96, "set_tid_address"),
    (97, "unshare"),
    (98, "futex"),
    (99, "set_robust_list"),
    (100, "get_robust_list"),
    (101, "nanosleep"),
    (102, "getitimer"),
    (103, "setitimer"),
    (104, "kexec_load"),
    (105, "init_module"),
    (106, "delete_module"),
    (107, "timer_create"),
    (108, "timer_gettime"),
    (109, "timer_getoverrun"),
    (110, "timer_settime"),
    (111, "timer_delete"),
    (112, "clock_settime"),
    (113, "clock_gettime"),
    (114, "clock_getres"),
    (115, "clock_nanosleep"),
    (116, "syslog"),
    (117, "ptrace"),
    (118, "sched_setparam"),
    (119, "sched_setscheduler"),
    (120, "sched_getscheduler"),
    (121, "sched_getparam"),
    (122, "sched_setaffinity"),
    (123, "sched_getaffinity"),
    (124, "sched_yield"),
    (125, "sched_get_priority_max"),
    (126, "sched_get_priority_min"),
    (127, "sched_rr_get_interval"),
    (128, "restart_syscall"),
    (129, "kill"),
    (130, "tkill"),
    (131, "tgkill"),
    (132, "sigaltstack"),
    (133, "rt_sigsuspend"),
    (134, "rt_sigaction"),
    (135, "rt_sigprocmask"),
    (136, "rt_sigpending"),
    (137, "rt_sigtimedwait"),
    (138, "rt_sigqueueinfo"),
    (139, "rt_sigreturn"),
    (140, "setpriority"),
    (141, "getpriority"),
    (142, "reboot"),
    (143, "setregid"),
    (144, "setgid"),
    (145, "setreuid"),
    (146, "setuid"),
    (147, "setresuid"),
    (148, "getresuid"),
    (149, "setresgid"),
    (150, "getresgid"),
    (151, "setfsuid"),
    (152, "setfsgid"),
    (153, "times"),
    (154, "setpgid"),
    (155, "getpgid"),
    (156, "getsid"),
    (157, "setsid"),
    (158, "getgroups"),
    (159, "setgroups"),
    (160, "uname"),
    (161, "sethostname"),
    (162, "setdomainname"),
    (163, "getrlimit"),
    (164, "setrlimit"),
    (165, "getrusage"),
    (166, "umask"),
    (167, "prctl"),
    (168, "getcpu"),
    (169, "gettimeofday"),
    (170, "settimeofday"),
    (171, "adjtimex"),
    (172, "getpid"),
    (173, "getppid"),
    (174, "getuid"),
    (175, "geteuid"),
    (176, "getgid"),
    (177, "getegid"),
    (178, "gettid"),
    (179, "sysinfo"),
    (180, "mq_open"),
    (181, "mq_unlink"),
    (182, "mq_timedsend"),
    (183, "mq_timedreceive"),
    (184, "mq_notify"),
    (185, "mq_getsetattr"),
    (186, "msgget"),
    (187, "msgctl"),
    (188, "msgrcv"),
    (189, "msgsnd"),
    (190, "semget"),
    (191, "semctl"),
    (192, "semtimedop"),
    (193, "semop"),
    (194, "shmget"),
    (195, "shmctl"),
    (196, "shmat"),
    (197, "shmdt"),
    (198, "socket"),
    (199, "socketpair"),
    (200, "bind"),
    (201, "listen"),
    (202, "accept"),
    (203, "connect"),
    (204, "getsockname"),
    (205, "getpeername"),
    (206, "sendto"),
    (207, "recvfrom"),
    (208, "setsockopt"),
    (209, "getsockopt"),
    (210, "shutdown"),
    (211, "sendmsg"),
    (212, "recvmsg"),
    (213, "readahead"),
    (214, "brk"),
    (215, "munmap"),
    (216, "mremap"),
    (217, "add_key"),
    (218, "request_key"),
    (219, "keyctl"),
    (220, "clone"),
    (221, "execve"),
    (222, "mmap"),
    (223, "fadvise64"),
    (224, "swapon"),
    (225, "swapoff"),
    (226, "mprotect"),
    (227, "msync"),
    (228, "mlock"),
    (229, "munlock"),
    (230, "mlockall"),
    (231, "munlockall"),
    (232, "mincore"),
    (233, "madvise"),
    (234, "remap_file_pages"),
    (235, "mbind"),
    (236, "get_mempolicy"),
    (237, "set_mempolicy"),
    (238, "migrate_pages"),
    (239, "move_pages"),
    (240, "rt_tgsigqueueinfo"),
    (241, "perf_event_open"),
    (242, "accept4"),
    (243, "recvmmsg"),
    (258, "riscv_hwprobe"),
    (259, "riscv_flush_icache"),
    (260, "wait4"),
    (261, "prlimit64"),
    (262, "fanotify_init"),
    (263, "fanotify_mark"),
    (264, "name_to_handle_at"),
    (265, "open_by_handle_at"),
    (266, "clock_adjtime"),
    (267, "syncfs"),
    (268, "setns"),
    (269, "sendmmsg"),
    (270, "process_vm_readv"),
    (271, "process_vm_writev"),
    (272, "kcmp"),
    (273, "finit_module"),
    (274, "sched_setattr"),
    (275, "sched_getattr"),
    (276, "renameat2"),
    (277, "seccomp"),
    (278, "getrandom"),
    (279, "memfd_create"),
    (280, "bpf"),
    (281, "execveat"),
    (282, "userfaultfd"),
    (283, "membarrier"),
    (284, "mlock2"),
    (285, "copy_file_range"),
    (286, "preadv2"),
    (287, "pwritev2"),
    (288, "pkey_mprotect"),
    (289, "pkey_alloc"),
    (290, "pkey_free"),
    (291, "statx"),
    (292, "io_pgetevents"),
    (293, "rseq"),
    (294, "kexec_file_load"),
    (424, "pidfd_send_signal"),
    (425, "io_uring_setup"),
    (426, "io_uring_enter"),
    (427, "io_uring_register"),
    (428, "open_tree"),
    (429, "move_mount"),
    (430, "fsopen"),
    (431, "fsconfig"),
    (432, "fsmount"),
    (433, "fspick"),
    (434, "pidfd_open"),
    (435, "clone3"),
    (436, "close_range"),
    (437, "openat2"),
    (438, "pidfd_getfd"),
    (439, "faccessat2"),
    (440, "process_madvise"),
    (441, "epoll_pwait2"),
    (442, "mount_setattr"),
    (443, "quotactl_fd"),
    (444, "landlock_create_ruleset"),
    (445, "landlock_add_rule"),
    (446, "landlock_restrict_self"),
    (447, "memfd_secret"),
    (448, "process_mrelease"),
    (449, "futex_waitv"),
    (450, "set_mempolicy_home_node"),
    (451, "cachestat"),
    (452, "fchmodat2"),
    (453, "map_shadow_stack"),
    (454, "futex_wake"),
    (455, "futex_wait"),
    (456, "futex_requeue"),
    (457, "statmount"),
    (458, "listmount"),
    (459, "lsm_get_self_attr"),
    (460, "lsm_set_self_attr"),
    (461, "lsm_list_modules"),
    (462, "mseal"),
];

/// The name of system call `nr`, if Linux has one by that number.
pub fn syscall_name(nr: u64) -> Option<&'static str> {
    NAMES
        .binary_search_by_key(&nr, |&(n, _)| n)
        .ok()
        .map(|i| NAMES[i].1)
}

/// Signals (`asm-generic/signal.h`).
pub mod sig {
    /// Hang-up.
    pub const SIGHUP: u64 = 1;
    /// Interrupt.
    pub const SIGINT: u64 = 2;
    /// Quit (core).
    pub const SIGQUIT: u64 = 3;
    /// Illegal instruction (core).
    pub const SIGILL: u64 = 4;
    /// Trace trap (core).
    pub const SIGTRAP: u64 = 5;
    /// Abort (core).
    pub const SIGABRT: u64 = 6;
    /// Bus error (core).
    pub const SIGBUS: u64 = 7;
    /// Floating-point exception (core).
    pub const SIGFPE: u64 = 8;
    /// Kill (cannot be caught or ignored).
    pub const SIGKILL: u64 = 9;
    /// User signal 1.
    pub const SIGUSR1: u64 = 10;
    /// Segmentation violation (core).
    pub const SIGSEGV: u64 = 11;
    /// User signal 2.
    pub const SIGUSR2: u64 = 12;
    /// Broken pipe.
    pub const SIGPIPE: u64 = 13;
    /// Alarm clock.
    pub const SIGALRM: u64 = 14;
    /// Termination.
    pub const SIGTERM: u64 = 15;
    /// A child stopped or ended (ignored by default).
    pub const SIGCHLD: u64 = 17;
    /// Continue (ignored by default when not stopped).
    pub const SIGCONT: u64 = 18;
    /// Stop (cannot be caught or ignored).
    pub const SIGSTOP: u64 = 19;
    /// Urgent socket data (ignored by default).
    pub const SIGURG: u64 = 23;
    /// Window size change (ignored by default).
    pub const SIGWINCH: u64 = 28;
    /// Bad system call (core).
    pub const SIGSYS: u64 = 31;
    /// The highest signal number.
    pub const MAX: u64 = 64;

    /// What a signal does when its action is the default.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Default {
        /// The process ends (`Core`: with a core dump, which vmlab does not write).
        Terminate,
        /// The process ends, dumping core.
        Core,
        /// Nothing happens.
        Ignore,
        /// The process stops (vmlab has no job control: treated as ignored).
        Stop,
    }

    /// The default action of signal `n` (1 to 64).
    pub fn default_action(n: u64) -> Default {
        match n {
            SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGSYS => {
                Default::Core
            }
            SIGCHLD | SIGCONT | SIGURG | SIGWINCH => Default::Ignore,
            SIGSTOP | 20..=22 => Default::Stop,
            _ => Default::Terminate,
        }
    }

    /// The names of signals 1 to 31, by number (index 0 is empty).
    pub const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];

    /// The signal's name (`SIGABRT`), or `SIGRTMIN+n` / `signal n`.
    pub fn name(n: u64) -> String {
        match n {
            1..=31 => NAMES[n as usize].to_string(),
            32..=64 => format!("SIGRTMIN+{}", n - 32),
            _ => format!("signal {n}"),
        }
    }

    /// `sa_flags` bits (`asm-generic/signal.h`, `asm-generic/signal-defs.h`).
    pub mod flags {
        /// The handler takes three arguments (`siginfo_t *`, `ucontext_t *`).
        pub const SA_SIGINFO: u64 = 0x0000_0004;
        /// The handler runs on the alternate signal stack (`sigaltstack`).
        pub const SA_ONSTACK: u64 = 0x0800_0000;
        /// A slow system call the signal interrupts runs again instead of failing with
        /// `EINTR`.
        pub const SA_RESTART: u64 = 0x1000_0000;
        /// The signal is not blocked while its handler runs.
        pub const SA_NODEFER: u64 = 0x4000_0000;
        /// The action goes back to `SIG_DFL` when the handler is entered.
        pub const SA_RESETHAND: u64 = 0x8000_0000;
    }

    /// `si_code` values (`asm-generic/siginfo.h`).
    pub mod code {
        /// Sent by `kill`.
        pub const SI_USER: i32 = 0;
        /// Sent by `tkill` or `tgkill` (so by `raise` and `abort`).
        pub const SI_TKILL: i32 = -6;
        /// `SIGSEGV`: no mapping at the address.
        pub const SEGV_MAPERR: i32 = 1;
        /// `SIGSEGV`: a mapping the access is not allowed in.
        pub const SEGV_ACCERR: i32 = 2;
        /// `SIGBUS`: a misaligned address.
        pub const BUS_ADRALN: i32 = 1;
        /// `SIGBUS`: an address with no backing (past a file's end, a failed page-in).
        pub const BUS_ADRERR: i32 = 2;
        /// `SIGBUS`: an object-specific hardware error.
        pub const BUS_OBJERR: i32 = 3;
        /// `SIGILL`: an illegal opcode.
        pub const ILL_ILLOPC: i32 = 1;
        /// `SIGTRAP`: a breakpoint.
        pub const TRAP_BRKPT: i32 = 1;
    }

    /// What a delivered signal tells its handler: the fields of `siginfo_t` vmlab fills.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Info {
        /// `si_signo`.
        pub signo: u64,
        /// `si_code`.
        pub code: i32,
        /// The union's first word: `si_addr` of a fault, or `si_pid | si_uid << 32` of a
        /// signal a process sent.
        pub word: u64,
    }

    impl Info {
        /// The information of a fault at `addr`.
        pub fn fault(signo: u64, code: i32, addr: u64) -> Info {
            Info {
                signo,
                code,
                word: addr,
            }
        }

        /// The information of a signal process `pid` of user `uid` sent.
        pub fn sent(signo: u64, code: i32, pid: u32, uid: u32) -> Info {
            Info {
                signo,
                code,
                word: u64::from(pid) | u64::from(uid) << 32,
            }
        }

        /// The 128-byte `siginfo_t`: `si_signo`, `si_errno` (0), `si_code` (ints), then
        /// the union from byte 16 (`si_addr`, or `si_pid` and `si_uid`), zeros after.
        pub fn to_bytes(&self) -> [u8; frame::SIGINFO_SIZE] {
            let mut b = [0u8; frame::SIGINFO_SIZE];
            b[0..4].copy_from_slice(&(self.signo as i32).to_le_bytes());
            b[8..12].copy_from_slice(&self.code.to_le_bytes());
            b[16..24].copy_from_slice(&self.word.to_le_bytes());
            b
        }
    }

    /// Where, in the address space, a handler returns to: `ra` on entry to every handler.
    /// Linux points `ra` at the vDSO's `__vdso_rt_sigreturn` (`li a7, 139; ecall`); vmlab
    /// has no vDSO, so it reserves an address no scheme can ever map instead — the last
    /// page of the 64-bit address space, which no `mmap` can cover (its end would be
    /// 2^64), outside every scheme's user range (above Sv39/48/57's user half, past a
    /// base-and-bounds bound, wider than segmentation's 32 bits). A handler's `ret` fetches
    /// there, the fetch faults, and the kernel takes a fetch fault at exactly this address
    /// as the `rt_sigreturn` system call.
    pub const TRAMPOLINE: u64 = 0xffff_ffff_ffff_f000;

    /// The signal frame Linux RISC-V builds on the stack (`struct rt_sigframe` of
    /// `arch/riscv/kernel/signal.c`: a `siginfo_t` then a `struct ucontext`), with the
    /// offsets of its fields from the frame's start. The `ucontext` is `uc_flags`,
    /// `uc_link`, `uc_stack` (a `stack_t`), `uc_sigmask` (8 bytes, padded to 128 for a
    /// larger `sigset_t`), then `uc_mcontext` aligned to 16: the `struct sigcontext` of
    /// 32 integer words (the pc in place of `x0`) and the FP state, the union
    /// `__riscv_fp_state` whose largest member (`q`: 64 doubles aligned to 16, `fcsr` and
    /// three reserved words) makes it 528 bytes; the D state uses its first 32 doubles and
    /// `fcsr` after them.
    pub mod frame {
        /// `sizeof(siginfo_t)`.
        pub const SIGINFO_SIZE: usize = 128;
        /// The `struct ucontext`.
        pub const UC: usize = SIGINFO_SIZE;
        /// `uc.uc_flags`.
        pub const UC_FLAGS: usize = UC;
        /// `uc.uc_link`.
        pub const UC_LINK: usize = UC + 8;
        /// `uc.uc_stack` (`ss_sp`, `ss_flags` padded to 8, `ss_size`).
        pub const UC_STACK: usize = UC + 16;
        /// `uc.uc_sigmask`.
        pub const UC_SIGMASK: usize = UC + 40;
        /// `uc.uc_mcontext` (its offset in the `ucontext` is 176).
        pub const UC_MCONTEXT: usize = UC + 176;
        /// `sc_regs`: `pc`, then `x1`..`x31`.
        pub const SC_REGS: usize = UC_MCONTEXT;
        /// `sc_fpregs`: `f0`..`f31` as 64-bit values (the D layout).
        pub const SC_FPREGS: usize = UC_MCONTEXT + 256;
        /// `sc_fpregs.d.fcsr`.
        pub const SC_FCSR: usize = SC_FPREGS + 256;
        /// `sc_fpregs.q.reserved[0..3]`: zero in every frame; a frame with any of them set
        /// is refused by `rt_sigreturn` (Linux reads the first as the extension header).
        pub const SC_RESERVED: usize = SC_FPREGS + 516;
        /// The size of the FP state union.
        pub const FP_STATE_SIZE: usize = 528;
        /// `sizeof(struct rt_sigframe)`: also the space the kernel takes below the stack
        /// pointer (rounded to 16, which it already is).
        pub const SIZE: usize = SC_FPREGS + FP_STATE_SIZE;
    }

    /// The state a signal frame saves: what the interrupted code goes back to.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Saved {
        /// The pc it resumes at.
        pub pc: u64,
        /// `x0`..`x31` (`x0` is not saved: it reads 0).
        pub regs: [u64; 32],
        /// `f0`..`f31`.
        pub f: [u64; 32],
        /// `fcsr`.
        pub fcsr: u32,
        /// The signal mask.
        pub mask: u64,
        /// `uc_stack`: `ss_sp`, `ss_flags`, `ss_size`.
        pub stack: [u64; 3],
    }

    impl Saved {
        /// The frame for a handler of `info`'s signal (`uc_flags` and `uc_link` zero).
        pub fn to_frame(&self, info: &Info) -> Vec<u8> {
            let mut b = vec![0u8; frame::SIZE];
            let mut put = |at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
            for (i, &w) in self.stack.iter().enumerate() {
                put(frame::UC_STACK + 8 * i, w);
            }
            put(frame::UC_SIGMASK, self.mask);
            put(frame::SC_REGS, self.pc);
            for i in 1..32 {
                put(frame::SC_REGS + 8 * i, self.regs[i]);
            }
            for i in 0..32 {
                put(frame::SC_FPREGS + 8 * i, self.f[i]);
            }
            b[frame::SC_FCSR..frame::SC_FCSR + 4].copy_from_slice(&self.fcsr.to_le_bytes());
            b[..frame::SIGINFO_SIZE].copy_from_slice(&info.to_bytes());
            b
        }

        /// The state a frame holds, as `rt_sigreturn` reads it back; `None` for a frame
        /// Linux refuses (a reserved word of the FP state not zero, or too short).
        pub fn from_frame(b: &[u8]) -> Option<Saved> {
            if b.len() < frame::SIZE {
                return None;
            }
            let get = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default());
            let reserved = &b[frame::SC_RESERVED..frame::SC_RESERVED + 12];
            if reserved.iter().any(|&x| x != 0) {
                return None;
            }
            let mut regs = [0u64; 32];
            for (i, r) in regs.iter_mut().enumerate().skip(1) {
                *r = get(frame::SC_REGS + 8 * i);
            }
            let mut f = [0u64; 32];
            for (i, r) in f.iter_mut().enumerate() {
                *r = get(frame::SC_FPREGS + 8 * i);
            }
            Some(Saved {
                pc: get(frame::SC_REGS),
                regs,
                f,
                fcsr: get(frame::SC_FCSR) as u32,
                mask: get(frame::UC_SIGMASK),
                stack: [
                    get(frame::UC_STACK),
                    get(frame::UC_STACK + 8),
                    get(frame::UC_STACK + 16),
                ],
            })
        }
    }
}

/// Resource limits (`getrlimit`, `prlimit64`).
pub mod rlimit {
    /// `RLIMIT_STACK`: the stack's size.
    pub const STACK: usize = 3;
    /// `RLIMIT_NOFILE`: one more than the highest file descriptor.
    pub const NOFILE: usize = 7;
    /// How many limits there are (`RLIM_NLIMITS`).
    pub const COUNT: usize = 16;
    /// No limit.
    pub const INFINITY: u64 = u64::MAX;
}

/// The fixed answers of `uname` (documented in `docs/linux.md`).
pub mod uts {
    /// `sysname`.
    pub const SYSNAME: &str = "Linux";
    /// `nodename`.
    pub const NODENAME: &str = "vmlab";
    /// `release`.
    pub const RELEASE: &str = "6.6.0-vmlab";
    /// `version`.
    pub const VERSION: &str = "#1 SMP vmlab";
    /// `machine`.
    pub const MACHINE: &str = "riscv64";
    /// `domainname`.
    pub const DOMAINNAME: &str = "(none)";
}

/// The wall-clock time at which a run starts, in seconds since the Unix epoch
/// (2025-01-01T00:00:00Z): `CLOCK_REALTIME` is this plus the modelled time.
pub const EPOCH_AT_BOOT: u64 = 1_735_689_600;

/// A `struct timespec` (16 bytes: seconds, nanoseconds).
pub fn timespec(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    b
}

/// Reads a `struct timespec` as nanoseconds; `None` if it is invalid (negative seconds, or
/// nanoseconds outside 0..1e9), as `EINVAL` reports.
pub fn read_timespec(b: &[u8]) -> Option<u64> {
    let sec = i64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let nsec = i64::from_le_bytes(b.get(8..16)?.try_into().ok()?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return None;
    }
    Some(
        (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(nsec as u64),
    )
}

/// A `struct utsname`: six fields of 65 bytes.
pub fn utsname() -> Vec<u8> {
    let mut b = vec![0u8; 6 * 65];
    let fields = [
        uts::SYSNAME,
        uts::NODENAME,
        uts::RELEASE,
        uts::VERSION,
        uts::MACHINE,
        uts::DOMAINNAME,
    ];
    for (i, f) in fields.iter().enumerate() {
        b[i * 65..i * 65 + f.len()].copy_from_slice(f.as_bytes());
    }
    b
}

/// File type bits of `st_mode`.
pub mod mode {
    pub use crate::fs::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG};
    /// A FIFO (pipe): the console's descriptors when they are not a terminal.
    pub const S_IFIFO: u32 = 0o010000;
}

/// What `stat` tells about a file: the file system's [`crate::fs::Stat`], which this
/// module lays out as `struct stat` and `struct statx`.
pub use crate::fs::Stat;

/// Splits a Linux device number into major and minor (`MAJOR`, `MINOR` of `kdev_t`).
fn major_minor(dev: u64) -> (u32, u32) {
    (
        (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32,
        (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32,
    )
}

/// A device number from major and minor (`makedev`).
pub fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (u64::from(major), u64::from(minor));
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

impl Stat {
    /// The 128-byte `struct stat` of 64-bit RISC-V (`asm-generic/stat.h`).
    pub fn to_stat(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(0, &self.dev.to_le_bytes());
        put(8, &self.ino.to_le_bytes());
        put(16, &self.mode.to_le_bytes());
        put(20, &self.nlink.to_le_bytes());
        put(24, &self.uid.to_le_bytes());
        put(28, &self.gid.to_le_bytes());
        put(32, &self.rdev.to_le_bytes());
        put(48, &self.size.to_le_bytes());
        put(56, &self.blksize.to_le_bytes());
        put(64, &self.blocks.to_le_bytes());
        for (at, t) in [
            (72, self.atime_ns),
            (88, self.mtime_ns),
            (104, self.ctime_ns),
        ] {
            put(at, &(t / 1_000_000_000).to_le_bytes());
            put(at + 8, &(t % 1_000_000_000).to_le_bytes());
        }
        b
    }

    /// The 256-byte `struct statx`, every basic field valid (`STATX_BASIC_STATS`).
    pub fn to_statx(&self) -> [u8; 256] {
        let mut b = [0u8; 256];
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(0, &0x7ffu32.to_le_bytes());
        put(4, &self.blksize.to_le_bytes());
        put(16, &self.nlink.to_le_bytes());
        put(20, &self.uid.to_le_bytes());
        put(24, &self.gid.to_le_bytes());
        put(28, &(self.mode as u16).to_le_bytes());
        put(32, &self.ino.to_le_bytes());
        put(40, &self.size.to_le_bytes());
        put(48, &self.blocks.to_le_bytes());
        // atime, btime (not kept: 0, and not in the mask), ctime, mtime.
        for (at, t) in [
            (64, self.atime_ns),
            (96, self.ctime_ns),
            (112, self.mtime_ns),
        ] {
            put(at, &(t / 1_000_000_000).to_le_bytes());
            put(at + 8, &((t % 1_000_000_000) as u32).to_le_bytes());
        }
        let (rmaj, rmin) = major_minor(self.rdev);
        let (dmaj, dmin) = major_minor(self.dev);
        put(128, &rmaj.to_le_bytes());
        put(132, &rmin.to_le_bytes());
        put(136, &dmaj.to_le_bytes());
        put(140, &dmin.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_in_number_order_and_found() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(syscall_name(64), Some("write"));
        assert_eq!(syscall_name(293), Some("rseq"));
        assert_eq!(syscall_name(258), Some("riscv_hwprobe"));
        assert_eq!(syscall_name(1000), None);
    }

    #[test]
    fn timespecs_round_trip_and_reject_bad_values() {
        let t = timespec(3_000_000_007);
        assert_eq!(read_timespec(&t), Some(3_000_000_007));
        let mut bad = t;
        bad[8..].copy_from_slice(&1_000_000_000u64.to_le_bytes());
        assert_eq!(read_timespec(&bad), None);
        let mut neg = t;
        neg[..8].copy_from_slice(&(-1i64).to_le_bytes());
        assert_eq!(read_timespec(&neg), None);
    }

    #[test]
    fn signals_have_their_default_actions() {
        assert_eq!(sig::default_action(sig::SIGABRT), sig::Default::Core);
        assert_eq!(sig::default_action(sig::SIGCHLD), sig::Default::Ignore);
        assert_eq!(sig::default_action(sig::SIGTERM), sig::Default::Terminate);
        assert_eq!(sig::name(6), "SIGABRT");
        assert_eq!(sig::name(34), "SIGRTMIN+2");
    }

    /// The layout of `struct rt_sigframe` as the C headers give it: each offset or size
    /// here was printed by a program built with `riscv64-linux-gnu-gcc` against glibc's
    /// `<sys/ucontext.h>` and `<signal.h>` (`offsetof`, `sizeof`), and Linux's
    /// `asm/ucontext.h` and `asm/sigcontext.h` lay it out the same.
    #[test]
    fn the_signal_frame_is_laid_out_as_the_c_headers_say() {
        use sig::frame::*;
        for (what, ours, c) in [
            ("sizeof(siginfo_t)", SIGINFO_SIZE, 128),
            ("offsetof(rt_sigframe, uc)", UC, 128),
            ("offsetof(ucontext_t, uc_flags)", UC_FLAGS - UC, 0),
            ("offsetof(ucontext_t, uc_link)", UC_LINK - UC, 8),
            ("offsetof(ucontext_t, uc_stack)", UC_STACK - UC, 16),
            ("offsetof(ucontext_t, uc_sigmask)", UC_SIGMASK - UC, 40),
            ("offsetof(ucontext_t, uc_mcontext)", UC_MCONTEXT - UC, 176),
            (
                "offsetof(mcontext_t, __fpregs)",
                SC_FPREGS - UC_MCONTEXT,
                256,
            ),
            (
                "offsetof(__riscv_mc_d_ext_state, __fcsr)",
                SC_FCSR - SC_FPREGS,
                256,
            ),
            (
                "offsetof(__riscv_mc_q_ext_state, __glibc_reserved)",
                SC_RESERVED - SC_FPREGS,
                516,
            ),
            ("sizeof(union __riscv_mc_fp_state)", FP_STATE_SIZE, 528),
            ("sizeof(ucontext_t)", SIZE - UC, 960),
            ("sizeof(struct rt_sigframe)", SIZE, 1088),
        ] {
            assert_eq!(ours, c, "{what}");
        }
        assert_eq!(SIZE % 16, 0, "the frame keeps sp 16-aligned");
    }

    #[test]
    fn siginfo_and_the_saved_state_round_trip_through_a_frame() {
        let info = sig::Info::fault(sig::SIGSEGV, sig::code::SEGV_ACCERR, 0x1234_5678);
        let b = info.to_bytes();
        // si_signo, si_errno, si_code, si_addr (glibc's offsets: 0, 4, 8, 16).
        assert_eq!(i32::from_le_bytes(b[0..4].try_into().unwrap()), 11);
        assert_eq!(i32::from_le_bytes(b[4..8].try_into().unwrap()), 0);
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), 2);
        assert_eq!(
            u64::from_le_bytes(b[16..24].try_into().unwrap()),
            0x1234_5678
        );
        let sent = sig::Info::sent(sig::SIGUSR1, sig::code::SI_TKILL, 7, 1000).to_bytes();
        // si_pid at 16, si_uid at 20.
        assert_eq!(u32::from_le_bytes(sent[16..20].try_into().unwrap()), 7);
        assert_eq!(u32::from_le_bytes(sent[20..24].try_into().unwrap()), 1000);
        assert_eq!(i32::from_le_bytes(sent[8..12].try_into().unwrap()), -6);
        let mut regs = [0u64; 32];
        let mut f = [0u64; 32];
        for i in 0..32 {
            regs[i] = 0x100 + i as u64;
            f[i] = 0x4000_0000_0000_0000 | i as u64;
        }
        regs[0] = 0;
        let s = sig::Saved {
            pc: 0x10_0000,
            regs,
            f,
            fcsr: 0x81,
            mask: 1 << 9,
            stack: [0x5000, 2, 0],
        };
        let frame = s.to_frame(&info);
        assert_eq!(frame.len(), sig::frame::SIZE);
        assert_eq!(&frame[..128], &b[..]);
        let word = |at: usize| u64::from_le_bytes(frame[at..at + 8].try_into().unwrap());
        // sc_regs: the pc first (REG_PC 0), then ra, sp, ... (REG_SP 2, REG_A0 10).
        assert_eq!(word(sig::frame::SC_REGS), 0x10_0000);
        assert_eq!(word(sig::frame::SC_REGS + 2 * 8), 0x102);
        assert_eq!(word(sig::frame::SC_REGS + 10 * 8), 0x10a);
        assert_eq!(word(sig::frame::SC_FPREGS + 31 * 8), f[31]);
        assert_eq!(word(sig::frame::UC_SIGMASK), 1 << 9);
        assert_eq!(sig::Saved::from_frame(&frame), Some(s));
        // A reserved word of the FP state set: Linux's rt_sigreturn refuses the frame.
        let mut bad = frame.clone();
        bad[sig::frame::SC_RESERVED + 4] = 1;
        assert_eq!(sig::Saved::from_frame(&bad), None);
        assert_eq!(sig::Saved::from_frame(&frame[..100]), None);
    }

    fn console() -> Stat {
        Stat {
            dev: 0,
            ino: 0,
            mode: 0,
            nlink: 1,
            uid: 0,
            gid: 0,
            rdev: 0,
            size: 0,
            blksize: 0,
            blocks: 0,
            atime_ns: 0,
            mtime_ns: 0,
            ctime_ns: 0,
        }
    }

    #[test]
    fn device_numbers_split_as_linux_does() {
        let d = makedev(136, 2);
        assert_eq!(major_minor(d), (136, 2));
        assert_eq!(makedev(1, 3), 0x103);
        let s = Stat {
            mode: mode::S_IFCHR | 0o620,
            rdev: makedev(136, 0),
            size: 7,
            ..console()
        };
        let b = s.to_stat();
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 0o20620);
        assert_eq!(u64::from_le_bytes(b[48..56].try_into().unwrap()), 7);
        let x = s.to_statx();
        assert_eq!(u16::from_le_bytes(x[28..30].try_into().unwrap()), 0o20620);
        assert_eq!(u32::from_le_bytes(x[128..132].try_into().unwrap()), 136);
    }

    #[test]
    fn utsname_fields_sit_65_bytes_apart() {
        let u = utsname();
        assert_eq!(&u[..5], b"Linux");
        assert_eq!(&u[4 * 65..4 * 65 + 7], b"riscv64");
    }
}
