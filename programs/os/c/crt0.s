# crt0.s: the start of a C program under vmlab's kernel. The kernel starts the process at
# _start with sp at the top of its stack; main's result becomes the exit code.
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    call main
    li a7, 93                   # exit(main())
    ecall
