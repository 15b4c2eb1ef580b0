# t-write.s: write() from a data page the process never touched: the kernel faults the
# page in, runs the call again, and counts it once. Prints "untouched\n", exits 0.
#   vmlab run programs/os/t-write.s --stats
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, STDOUT
    la a1, msg
    la a2, msg_end
    sub a2, a2, a1
    li a7, SYS_write
    ecall
    li a0, 0
    li a7, SYS_exit
    ecall

    .data
msg:
    .ascii "untouched\n"
msg_end:
