# touch.s: a process that sweeps over 64 pages of its heap four times, storing to each.
# With fewer frames than pages every sweep faults on every page (LRU and FIFO evict just
# what the next touch needs); run several at once on a small memory to see the disk busy
# and the CPU idle:
#   vmlab run programs/os/touch.s --set os.user_frames=32 --stats
#   vmlab run programs/os/touch.s programs/os/touch.s programs/os/touch.s --set os.user_frames=48 --stats
.include "vmlab.s"

.equ PAGES, 64
.equ SWEEPS, 4

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
    li s2, SWEEPS
sweep:
    mv t1, s0
    li t2, PAGES
    li t3, PAGE_SIZE
1:  sd t2, 0(t1)
    add t1, t1, t3
    addi t2, t2, -1
    bnez t2, 1b
    addi s2, s2, -1
    bnez s2, sweep
    li a0, 0
    li a7, SYS_exit
    ecall
