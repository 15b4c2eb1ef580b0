# belady.s: Belady's anomaly on a real process. It touches five data pages in the order
# 2 4 1 3 2 4 5 2 4 1 3 5 2. Each touch is fetched from the text page, so the process's
# reference string is T 2 T 4 T 1 ... (T = its one text page, which also holds the table).
# Under FIFO with a fixed allocation of 4 frames that string takes 13 page faults; with 5
# frames it takes 14 (docs/schemes/vm-paging.md works it through):
#   vmlab run programs/os/belady.s --set os.frames_per_process=4 --stats
#   vmlab run programs/os/belady.s --set os.frames_per_process=5 --stats
.include "vmlab.s"

    .text
    .globl _start
_start:
    la s0, order                # the page numbers, in .rodata (on the text page)
    la s1, order_end
    sub s1, s1, s0              # how many
    la s2, pages                # page 1 starts here (the table counts from 1)
    li s3, PAGE_SIZE
1:  lbu t0, 0(s0)
    addi t0, t0, -1
    mul t0, t0, s3
    add t0, t0, s2
    sw s1, 0(t0)                # touch the page
    addi s0, s0, 1
    addi s1, s1, -1
    bnez s1, 1b
    li a0, 0
    li a7, SYS_exit
    ecall

    .section .rodata
order:
    .byte 2, 4, 1, 3, 2, 4, 5, 2, 4, 1, 3, 5, 2
order_end:

    .bss
    .p2align 12
pages:
    .space 5 * PAGE_SIZE
