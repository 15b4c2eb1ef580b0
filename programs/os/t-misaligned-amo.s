# t-misaligned-amo.s: an atomic at a misaligned address. Atomics must be aligned whether
# the hart does misaligned loads and stores itself (cpu.misaligned = hardware) or traps
# them for the kernel to emulate: either way the process is killed with SIGBUS.
#   vmlab run programs/os/t-misaligned-amo.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    la s0, buf
    addi s0, s0, 1
    li t0, 1
    amoadd.w t1, t0, (s0)
    li a0, 0
    li a7, SYS_exit
    ecall

    .data
buf:
    .zero 16
