# muldiv.s: multiply, divide, read mcycle around them, and exit through an ecall.
# Exit code: the cycles one mul and one div took between the two mcycle reads (computed
# by the program itself), so the exit status shows the latencies docs/timing.md states.
# A bare-machine program without tohost: vmlab run --bare programs/asm/muldiv.s

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      a1, 1000
    li      a2, 7
    csrr    s0, mcycle          # serialising: drains the pipeline first
    mul     a3, a1, a2          # 3 cycles in EX
    div     a4, a3, a2          # 20 cycles in EX
    csrr    s1, mcycle
    sub     a0, s1, s0          # cycles from the first csrr to the second
    li      a7, 93              # exit(a0) by the ecall convention: mtvec is 0, so no
    ecall                       # handler is installed and the machine ends the run
