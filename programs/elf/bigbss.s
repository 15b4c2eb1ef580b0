# A program whose data segment is mostly .bss: 1 MiB of zeros that the file does not hold.
        .text
        .globl _start
_start:
        la      t0, buffer
        li      t1, 1
        sd      t1, 0(t0)
        li      a0, 1
        la      t0, tohost
        sd      a0, 0(t0)
1:      j       1b

        .data
        .globl seed
seed:   .dword  0x1234567890abcdef

        .bss
        .align  12
        .globl buffer
buffer: .zero   1 << 20

        .section .tohost, "aw", @progbits
        .align  3
        .globl tohost
tohost: .dword  0
        .globl fromhost
fromhost:
        .dword  0
