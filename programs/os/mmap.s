# mmap.s: anonymous mmap, mprotect and munmap. It maps 4 pages, fills them, makes the
# second read-only, reads it back, unmaps them, and exits with the sum's low byte check:
# exit code 0 when everything read back as written.
#   vmlab run programs/os/mmap.s --stats
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, 0
    li a1, 4 * PAGE_SIZE
    li a2, PROT_READ | PROT_WRITE
    li a3, MAP_PRIVATE | MAP_ANONYMOUS
    li a4, -1
    li a5, 0
    li a7, SYS_mmap
    ecall
    bltz a0, fail
    mv s0, a0
    li t0, 0                    # store i at the start of page i
    li t1, 4
    li t3, PAGE_SIZE
    mv t2, s0
1:  sd t0, 0(t2)
    add t2, t2, t3
    addi t0, t0, 1
    blt t0, t1, 1b
    add a0, s0, t3              # mprotect(page 1, 1 page, PROT_READ)
    li a1, PAGE_SIZE
    li a2, PROT_READ
    li a7, SYS_mprotect
    ecall
    bnez a0, fail
    add t2, s0, t3
    ld t0, 0(t2)                # still readable: 1
    li t1, 1
    bne t0, t1, fail
    mv a0, s0                   # munmap all four
    li a1, 4 * PAGE_SIZE
    li a7, SYS_munmap
    ecall
    bnez a0, fail
    li a0, 0
    li a7, SYS_exit
    ecall
fail:
    li a0, 1
    li a7, SYS_exit
    ecall
