# exec-data.s: a process that jumps into its data. Data is rw-, so the fetch is refused.
#   vmlab run programs/os/exec-data.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    la t0, code_in_data
    jr t0                       # killed at the fetch

    .data
code_in_data:
    .word 0x00000013            # a nop, but in a page without execute permission
