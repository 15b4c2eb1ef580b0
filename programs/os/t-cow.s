# t-cow.s: fork and copy-on-write, for the RSS/PSS/USS test (tests/pss.rs).
# The parent stores to 8 heap pages, then forks (clone with SIGCHLD) and waits for the
# child (wait4, no status stored). The child yields 100 times without storing anything
# (every page it maps is then shared with its parent: each one's PSS is half its RSS),
# stores to the first 4 heap pages (4 copies: its own, and the parent's originals are
# then the parent's alone), yields 100 times more and exits.
#   vmlab run programs/os/t-cow.s --set os.scheme=vm-paging --stats
.include "vmlab.s"

.equ SYS_clone, 220
.equ SYS_wait4, 260
.equ SIGCHLD, 17
.equ PAGES, 8
.equ WRITTEN, 4
.equ YIELDS, 100

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0): where the heap starts
    li a7, SYS_brk
    ecall
    mv s0, a0
    li t0, PAGES * PAGE_SIZE
    add a0, s0, t0
    li a7, SYS_brk
    ecall
    mv t1, s0                   # store to each heap page
    li t2, PAGES
    li t3, PAGE_SIZE
1:  sd t2, 0(t1)
    add t1, t1, t3
    addi t2, t2, -1
    bnez t2, 1b
    li a0, SIGCHLD              # fork
    li a1, 0
    li a2, 0
    li a3, 0
    li a4, 0
    li a7, SYS_clone
    ecall
    beqz a0, child
    li a1, 0                    # wait4(child, NULL, 0, NULL)
    li a2, 0
    li a3, 0
    li a7, SYS_wait4
    ecall
    li a0, 0
    li a7, SYS_exit
    ecall
child:
    li s2, YIELDS
2:  li a7, SYS_sched_yield
    ecall
    addi s2, s2, -1
    bnez s2, 2b
    mv t1, s0                   # store to the first WRITTEN pages: copies
    li t2, WRITTEN
3:  sd t2, 8(t1)
    add t1, t1, t3
    addi t2, t2, -1
    bnez t2, 3b
    li s2, YIELDS
4:  li a7, SYS_sched_yield
    ecall
    addi s2, s2, -1
    bnez s2, 4b
    li a0, 0
    li a7, SYS_exit
    ecall
