# t-brk.s: the program break. It asks for the break (brk(0)), grows the heap by 3 pages,
# stores to the heap's last byte and reads it back, checks that a break below the heap's
# start is refused (the break stays), shrinks the heap back to nothing, and then stores
# just beyond the break: the kernel kills it there (no-mapping). An exit code names the
# check that failed: 1 brk(0) is not page-aligned, 2 growing returned another break,
# 3 the last byte did not read back, 4 a break below the heap moved it, 5 shrinking
# returned another break, 6 the store beyond the break was not killed.
#   vmlab run programs/os/t-brk.s --stats
.include "vmlab.s"

.equ GROW, 3 * PAGE_SIZE

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0): the break, where the heap starts
    li a7, SYS_brk
    ecall
    mv s0, a0
    li s1, 1
    slli t0, s0, 52             # the low 12 bits
    bnez t0, fail
    li t0, GROW                 # brk(start + 3 pages)
    add s2, s0, t0
    mv a0, s2
    li a7, SYS_brk
    ecall
    li s1, 2
    bne a0, s2, fail
    li t1, 0xa5                 # the heap's last byte
    sb t1, -1(s2)
    lbu t2, -1(s2)
    li s1, 3
    bne t1, t2, fail
    li a0, 4096                 # below the heap: refused, the break stays
    li a7, SYS_brk
    ecall
    li s1, 4
    bne a0, s2, fail
    mv a0, s0                   # brk(start): the heap is empty again
    li a7, SYS_brk
    ecall
    li s1, 5
    bne a0, s0, fail
    li s1, 6
    sb t1, 0(s0)                # beyond the break: killed here
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall
