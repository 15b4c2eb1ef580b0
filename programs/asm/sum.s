# sum.s: add up eight doublewords in a loop and exit with the low byte of the sum (36).
# The cycle count of this program is worked out by hand in docs/timing.md.

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la      a1, data            # auipc + addi
    li      a2, 8               # count
    li      a0, 0               # sum
loop:
    ld      t0, 0(a1)
    add     a0, a0, t0          # uses the load's result: one load-use stall
    addi    a1, a1, 8
    addi    a2, a2, -1
    bnez    a2, loop            # taken 7 times: the not-taken predictor pays 2 each
    slli    a0, a0, 1
    ori     a0, a0, 1
    la      t1, tohost
    sd      a0, 0(t1)           # exit (36 << 1) | 1: exit code 36
1:  j       1b

    .data
data:
    .dword  1, 2, 3, 4, 5, 6, 7, 8

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword  0
    .globl fromhost
fromhost:
    .dword  0
