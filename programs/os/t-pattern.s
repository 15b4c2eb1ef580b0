# t-pattern.s: an irregular page-reference string over 24 heap pages, for comparing the
# replacement policies. It grows the heap by 24 pages and writes a check value into each,
# then makes 400 touches: a seeded linear congruential generator picks the page (the lesser
# of two draws, so low pages are touched more often, as a program with some locality would)
# and whether to store the value again or load it and check it. Exit code 0 when every
# load read back what was stored, 1 otherwise (a page's contents were lost on the way to
# the disk and back).
#   vmlab run programs/os/t-pattern.s --set os.frames_per_process=8 --stats
#   vmlab run programs/os/t-pattern.s --set os.frames_per_process=8 --set os.policy=opt --stats
.include "vmlab.s"

.equ PAGES, 24
.equ TOUCHES, 400
.equ MAGIC, 0x5a17

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0): where the heap starts
    li a7, SYS_brk
    ecall
    mv s0, a0
    li t0, PAGES * PAGE_SIZE
    add a0, s0, t0              # brk(start + PAGES pages)
    li a7, SYS_brk
    ecall
    li s3, PAGE_SIZE
    li s4, MAGIC
    li s5, PAGES
    # Phase 1: page i holds (i + 1) * MAGIC in its first doubleword.
    li t0, 0
1:  addi t1, t0, 1
    mul t1, t1, s4
    mul t2, t0, s3
    add t2, t2, s0
    sd t1, 0(t2)
    addi t0, t0, 1
    blt t0, s5, 1b
    # Phase 2: TOUCHES touches chosen by the generator x = x * 6364136223846793005 + 1442695040888963407.
    li s6, 6364136223846793005
    li s7, 1442695040888963407
    li s8, 12345                # the seed
    li s9, TOUCHES
2:  mul s8, s8, s6
    add s8, s8, s7
    srli t0, s8, 33             # the first draw
    remu t0, t0, s5
    mul s8, s8, s6
    add s8, s8, s7
    srli t1, s8, 33             # the second draw
    remu t1, t1, s5
    bltu t0, t1, 3f
    mv t0, t1                   # the page: the lesser draw
3:  addi t1, t0, 1
    mul t1, t1, s4              # its value
    mul t2, t0, s3
    add t2, t2, s0              # its address
    srli t3, s8, 20
    andi t3, t3, 3
    beqz t3, 4f                 # one touch in four stores
    ld t4, 0(t2)                # the others load and check
    bne t4, t1, fail
    j 5f
4:  sd t1, 0(t2)
5:  addi s9, s9, -1
    bnez s9, 2b
    li a0, 0
    li a7, SYS_exit
    ecall
fail:
    li a0, 1
    li a7, SYS_exit
    ecall
