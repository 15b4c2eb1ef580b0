# long.s: a larger process that lives long: 40 KiB of data swept 400 times, then read
# back and checked (exit code 1 if any word was lost, 0 if all came back).
# See short.s for the partition-scheme demonstration it is part of.
.include "vmlab.s"

.equ WORDS, 5120
.equ SWEEPS, 400

    .text
    .globl _start
_start:
    li s0, SWEEPS
2:  la t0, buf
    li t1, WORDS
1:  sd t1, 0(t0)
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, 1b
    addi s0, s0, -1
    bnez s0, 2b
    # Read everything back: word i holds WORDS - i. Exit 1 if any word was lost (say, by a
    # swap that did not bring the data back intact).
    la t0, buf
    li t1, WORDS
3:  ld t2, 0(t0)
    bne t2, t1, lost
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, 3b
    li a0, 0
    li a7, SYS_exit
    ecall
lost:
    li a0, 1
    li a7, SYS_exit
    ecall

    .bss
buf:
    .space WORDS * 8
