# Linked with ld's default layout (near 0x10000, not at the start of RAM), so loading it
# into RAM at 0x80000000 must be refused. It has no tohost.
        .text
        .globl _start
_start:
        li      a0, 0
        li      a7, 93
        ecall
1:      j       1b
