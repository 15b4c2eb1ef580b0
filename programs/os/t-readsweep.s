# t-readsweep.s: a process that sweeps over 64 pages of its heap four times, only loading
# from each. Each page comes in as a zero page mapped clean, so on a small memory every
# eviction is of a clean page, served without the disk: the sweep turns frames over as fast
# as the kernel can, which makes it a good neighbour for testing what must not be evicted
# (a page whose write-back is under way). It first yields the CPU until the cycle counter
# reaches START_CYCLE (0: it starts at once), so that a neighbour can get somewhere first.
# It exits 0 if every load saw zero, 1 otherwise.
#   vmlab run programs/os/filemap.s programs/os/t-readsweep.s --file data=programs/os/data.txt --set os.user_frames=20
.include "vmlab.s"

.equ PAGES, 64
.equ SWEEPS, 4
.equ START_CYCLE, 0

    .text
    .globl _start
_start:
    li s3, START_CYCLE
0:  rdcycle t0                  # yield until the clock reaches START_CYCLE
    bgeu t0, s3, 2f
    li a7, SYS_sched_yield
    ecall
    j 0b
2:  li a0, 0                    # brk(0): where the heap starts
    li a7, SYS_brk
    ecall
    mv s0, a0
    li t0, PAGES * PAGE_SIZE
    add a0, s0, t0              # brk(start + PAGES pages)
    li a7, SYS_brk
    ecall
    li s1, 0                    # the sum of everything loaded
    li s2, SWEEPS
sweep:
    mv t1, s0
    li t2, PAGES
    li t3, PAGE_SIZE
1:  ld t4, 0(t1)
    add s1, s1, t4
    add t1, t1, t3
    addi t2, t2, -1
    bnez t2, 1b
    addi s2, s2, -1
    bnez s2, sweep
    snez a0, s1
    li a7, SYS_exit
    ecall
