# segv-null.s: a process that loads through a null pointer; page 0 is never mapped.
#   vmlab run programs/os/segv-null.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    li t0, 0
    ld t1, 8(t0)                # no area holds address 8: killed here
    li a0, 0
    li a7, SYS_exit
    ecall
