# hello.s: the smallest process. It writes a line with its pid and exits 0.
#   vmlab run programs/os/hello.s
#   vmlab run programs/os/hello.s programs/os/hello.s      (two processes)
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a7, SYS_getpid
    ecall
    la t0, digit
    addi a0, a0, '0'            # pids below 10 print as one digit
    sb a0, 0(t0)
    li a0, STDOUT
    la a1, msg
    la a2, msg_end
    sub a2, a2, a1              # the length
    li a7, SYS_write
    ecall
    li a0, 0
    li a7, SYS_exit
    ecall

    .data
msg:
    .ascii "hello from process "
digit:
    .ascii "?\n"
msg_end:
