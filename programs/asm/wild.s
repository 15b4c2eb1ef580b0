# wild.s: a program that runs wild: it jumps into unmapped memory without a trap handler.
# The fetch raises an instruction access fault; mtvec is 0, so the "handler" at address 0
# faults again, and vmlab stops the run with a double-fault report (exit status 125).
# A bare-machine program without tohost: vmlab run --bare programs/asm/wild.s

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      t0, 0x40000000      # nothing is mapped there
    jr      t0
