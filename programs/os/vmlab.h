/* vmlab.h: system calls for C programs run by vmlab's kernel (Linux's RISC-V numbers and
   calling convention: the number in a7, arguments in a0..a5, the result in a0, negative
   errno on failure). Freestanding: no libc needed; programs/os/crt0.s calls main and exits
   with its result. */
#ifndef VMLAB_H
#define VMLAB_H

typedef unsigned long size_t;
typedef long ssize_t;

enum {
    SYS_openat = 56,
    SYS_close = 57,
    SYS_read = 63,
    SYS_write = 64,
    SYS_exit = 93,
    SYS_exit_group = 94,
    SYS_sched_yield = 124,
    SYS_getpid = 172,
    SYS_brk = 214,
    SYS_munmap = 215,
    SYS_clone = 220,
    SYS_mmap = 222,
    SYS_mprotect = 226,
    SYS_msync = 227,
    SYS_wait4 = 260,
};

enum { SIGCHLD = 17 };

enum { AT_FDCWD = -100, O_RDONLY = 0, O_RDWR = 2, MS_SYNC = 4 };

enum { PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 };
enum { MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20 };
#define MAP_FAILED ((void *)-1)
#define PAGE_SIZE 4096

static inline long vmlab_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall"
                     : "+r"(a0)
                     : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
                     : "memory");
    return a0;
}

static inline ssize_t write(int fd, const void *buf, size_t n)
{
    return vmlab_syscall6(SYS_write, fd, (long)buf, (long)n, 0, 0, 0);
}

static inline ssize_t read(int fd, void *buf, size_t n)
{
    return vmlab_syscall6(SYS_read, fd, (long)buf, (long)n, 0, 0, 0);
}

static inline __attribute__((noreturn)) void exit(int code)
{
    vmlab_syscall6(SYS_exit, code, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

static inline int getpid(void) { return (int)vmlab_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0); }
static inline int sched_yield(void) { return (int)vmlab_syscall6(SYS_sched_yield, 0, 0, 0, 0, 0, 0); }

/* brk(0) returns the current break; brk(p) moves it and returns the new break (the old one
   when it cannot move). */
static inline void *vmlab_brk(void *p) { return (void *)vmlab_syscall6(SYS_brk, (long)p, 0, 0, 0, 0, 0); }

static inline void *sbrk(long inc)
{
    char *old = vmlab_brk(0);
    char *want = old + inc;
    return vmlab_brk(want) == want ? old : (void *)-1;
}

static inline void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    long r = vmlab_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
    return r < 0 && r > -4096 ? MAP_FAILED : (void *)r;
}

/* A file of the run's file set (vmlab run --file NAME=PATH), by NAME. */
static inline int open(const char *name, int flags) { return (int)vmlab_syscall6(SYS_openat, AT_FDCWD, (long)name, flags, 0, 0, 0); }
static inline int close(int fd) { return (int)vmlab_syscall6(SYS_close, fd, 0, 0, 0, 0, 0); }
static inline int msync(void *addr, size_t len, int flags) { return (int)vmlab_syscall6(SYS_msync, (long)addr, (long)len, flags, 0, 0, 0); }

static inline int munmap(void *addr, size_t len) { return (int)vmlab_syscall6(SYS_munmap, (long)addr, (long)len, 0, 0, 0, 0); }
static inline int mprotect(void *addr, size_t len, int prot) { return (int)vmlab_syscall6(SYS_mprotect, (long)addr, (long)len, prot, 0, 0, 0); }

/* Small helpers for printing without a libc. */
static inline size_t vmlab_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static inline void puts_(const char *s) { write(1, s, vmlab_strlen(s)); }
static inline void put_u64(unsigned long v)
{
    char b[21];
    int i = 20;
    b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    write(1, b + i, (size_t)(20 - i));
}

#endif
