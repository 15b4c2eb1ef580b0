# t-mprotect.s: mprotect(PROT_NONE) on a page that is resident. It maps one anonymous page,
# stores to it (the page is now in memory and in the TLB), takes every permission away,
# and loads from it: the kernel must kill it there (permission). Exit code 3 means the load
# went through; 1 or 2 that mmap or mprotect failed.
#   vmlab run programs/os/t-mprotect.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, 0                    # mmap(0, 1 page, rw-, private anonymous)
    li a1, PAGE_SIZE
    li a2, PROT_READ | PROT_WRITE
    li a3, MAP_PRIVATE | MAP_ANONYMOUS
    li a4, -1
    li a5, 0
    li a7, SYS_mmap
    ecall
    li s1, 1
    bltz a0, fail
    mv s0, a0
    li t0, 7
    sd t0, 0(s0)                # resident, dirty
    mv a0, s0                   # mprotect(page, 1 page, PROT_NONE)
    li a1, PAGE_SIZE
    li a2, PROT_NONE
    li a7, SYS_mprotect
    ecall
    li s1, 2
    bnez a0, fail
    li s1, 3
    ld t1, 0(s0)                # no permission: killed here
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall
