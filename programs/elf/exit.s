# A tiny bare-metal program: sums a word from .data into a .bss counter, then exits
# through HTIF by writing (code << 1) | 1 to `tohost` and waits for the host.
        .section .text.init
        .globl _start
_start:
        la      t0, value
        ld      t1, 0(t0)
        la      t2, counter
        sd      t1, 0(t2)
        li      a0, 0               # exit code 0
        slli    a0, a0, 1
        ori     a0, a0, 1
        la      t0, tohost
        sd      a0, 0(t0)
1:      j       1b

        .section .rodata
message:
        .asciz  "vmlab"

        .data
        .globl value
value:  .dword  42

        .bss
        .globl counter
counter:
        .zero   64

        .section .tohost, "aw", @progbits
        .align  6
        .globl tohost
tohost: .dword  0
        .align  6
        .globl fromhost
fromhost:
        .dword  0
