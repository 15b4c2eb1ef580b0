# crt0.s: start-up code of the bare-metal C programs (M-mode, no paging). Sets sp and gp,
# clears .bss, installs a trap handler that exits with code 255, calls main() and exits
# through HTIF with main's return value.
        .option norelax
        .section .text.init,"ax",@progbits
        .globl  _start
_start:
        la      gp, __global_pointer$
        la      sp, __stack_top
        la      t0, trap
        csrw    mtvec, t0
        la      t0, __bss_start
        la      t1, __bss_end
1:      bgeu    t0, t1, 2f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       1b
2:      call    main
        call    htif_exit
3:      j       3b

        .balign 4
trap:   li      a0, 255               # any trap is a failure
        call    htif_exit
4:      j       4b

        .section .tohost,"aw",@progbits
        .balign 64
        .globl  tohost
tohost: .dword  0
        .balign 64
        .globl  fromhost
fromhost:
        .dword  0
