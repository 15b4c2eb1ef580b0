# t-futexstuck.s: a futex wait no one will wake. The process sleeps on a word of its data
# that holds the value it expects (FUTEX_WAIT_PRIVATE), and it has no other task: the run
# ends as stuck, and the kernel says which task waits on which futex.
.include "vmlab.s"

.equ SYS_futex, 98
.equ FUTEX_WAIT_PRIVATE, 128

    .text
    .globl _start
_start:
    la a0, word
    li a1, FUTEX_WAIT_PRIVATE
    li a2, 0                    # the value the word holds
    li a3, 0                    # no timeout
    li a7, SYS_futex
    ecall
    li a7, SYS_exit_group
    ecall

    .data
word: .word 0
