# t-mapfixed.s: MAP_FIXED over part of the heap. It grows the heap by two pages, stores to
# both, then maps the second page anew, read-only (MAP_FIXED replaces what was there), reads
# it (a fresh anonymous page: 0) and stores to it: the kernel must kill it at that store
# (permission). Exit code 4 means the store went through; 1 the mmap did not return the
# address asked for, 2 the new page did not read as zeros.
#   vmlab run programs/os/t-mapfixed.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0), then two pages more
    li a7, SYS_brk
    ecall
    mv s0, a0
    li t0, 2 * PAGE_SIZE
    add a0, s0, t0
    li a7, SYS_brk
    ecall
    li t0, 42
    li t1, PAGE_SIZE
    add s2, s0, t1              # the second heap page
    sd t0, 0(s0)
    sd t0, 0(s2)
    mv a0, s2                   # mmap(second page, 1 page, r--, fixed private anonymous)
    li a1, PAGE_SIZE
    li a2, PROT_READ
    li a3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
    li a4, -1
    li a5, 0
    li a7, SYS_mmap
    ecall
    li s1, 1
    bne a0, s2, fail
    ld t1, 0(s2)                # a new page: zeros
    li s1, 2
    bnez t1, fail
    li s1, 4
    sd t0, 0(s2)                # read-only now: killed here
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall
