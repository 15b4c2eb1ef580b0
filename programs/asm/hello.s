# hello.s: print a line through the HTIF write system call, then exit with code 0.
#
#   vmlab run programs/asm/hello.s
#
# HTIF (docs/devices.md): writing to `tohost` the address of a 64-byte-aligned block
# [64 (write), fd, buffer, length] asks the host to write; it answers in `fromhost`.
# Writing (code << 1) | 1 to `tohost` exits with `code`.

    .section .rodata
msg:
    .ascii  "hello, world\n"
msg_end:
    .equ    MSG_LEN, msg_end - msg

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la      t0, block
    li      t1, 64              # SYS_write
    sd      t1, 0(t0)
    li      t1, 1               # fd 1: stdout
    sd      t1, 8(t0)
    la      t1, msg
    sd      t1, 16(t0)
    li      t1, MSG_LEN         # length
    sd      t1, 24(t0)
    la      t2, tohost
    sd      t0, 0(t2)           # hand the block to the host
1:  ld      t1, 8(t2)           # fromhost: the host's answer
    beqz    t1, 1b
    sd      zero, 8(t2)
    li      t1, 1               # exit code 0
    sd      t1, 0(t2)
2:  j       2b

    .data
    .balign 64
block:
    .dword  0, 0, 0, 0, 0, 0, 0, 0

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword  0
    .globl fromhost
fromhost:
    .dword  0
