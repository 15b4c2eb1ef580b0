/* hello_spie: a static position-independent executable (ET_DYN without PT_INTERP), as
 * `-static-pie` makes, without glibc (Debian's riscv64 glibc ships no rcrt1.o). The kernel
 * loads it at a load bias and starts it at its own entry with AT_BASE = 0. It relocates
 * itself (its R_RISCV_RELATIVE relocations, found through _DYNAMIC), then checks the
 * auxiliary vector against where it finds itself: AT_PHDR, AT_ENTRY, AT_BASE, AT_PHNUM,
 * and prints a table of strings reached through relocated pointers.
 * Build: riscv64-linux-gnu-gcc -static-pie -nostdlib -fPIE -O2 -fno-builtin (build.sh). */
#pragma GCC visibility push(hidden)
typedef unsigned long u64;

extern const char __ehdr_start[];
extern u64 _DYNAMIC[];

static long sys3(long n, long a, long b, long c) {
    register long a0 asm("a0") = a;
    register long a1 asm("a1") = b;
    register long a2 asm("a2") = c;
    register long a7 asm("a7") = n;
    asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static u64 len(const char *s) { u64 n = 0; while (s[n]) n++; return n; }
static void put(const char *s) { sys3(64, 1, (long)s, (long)len(s)); }
static void check(const char *what, int ok) {
    put(what);
    put(ok ? ": ok\n" : ": WRONG\n");
}

/* Pointers the linker cannot know: each needs an R_RISCV_RELATIVE relocation. */
static const char *const words[] = {"alpha", "beta", "gamma"};
static const char *const *const table = words;

void cmain(u64 *sp) {
    u64 base = (u64)__ehdr_start;
    /* Relocate: DT_RELA (7), DT_RELASZ (8); R_RISCV_RELATIVE (3). */
    u64 rela = 0, relasz = 0;
    for (u64 *d = _DYNAMIC; d[0] != 0; d += 2) {
        if (d[0] == 7) rela = d[1];
        if (d[0] == 8) relasz = d[1];
    }
    u64 *r = (u64 *)(base + rela);
    for (u64 i = 0; i < relasz / 24; i++, r += 3)
        if ((r[1] & 0xffffffff) == 3) *(u64 *)(base + r[0]) = base + r[2];

    u64 argc = sp[0];
    u64 *p = sp + 1 + argc + 1;
    while (*p) p++;
    p++;
    u64 phdr = 0, entry = 0, at_base = 1, phnum = 0;
    for (; p[0] != 0; p += 2) {
        if (p[0] == 3) phdr = p[1];
        if (p[0] == 5) phnum = p[1];
        if (p[0] == 7) at_base = p[1];
        if (p[0] == 9) entry = p[1];
    }
    const unsigned char *eh = (const unsigned char *)base;
    u64 e_entry = *(const u64 *)(eh + 24), e_phoff = *(const u64 *)(eh + 32);
    u64 e_phnum = *(const unsigned short *)(eh + 56);
    check("loaded above 0", base != 0);
    check("AT_PHDR is the loaded program headers", phdr == base + e_phoff);
    check("AT_ENTRY is the loaded entry", entry == base + e_entry);
    check("AT_PHNUM", phnum == e_phnum);
    check("AT_BASE is 0 (no interpreter)", at_base == 0);
    for (int i = 0; i < 3; i++) {
        put(table[i]);
        put("\n");
    }
    sys3(94, 0, 0, 0);
}

asm(".globl _start\n"
    "_start:\n"
    "  mv a0, sp\n"
    "  andi sp, sp, -16\n"
    "  call cmain\n"
    "1: j 1b\n");
