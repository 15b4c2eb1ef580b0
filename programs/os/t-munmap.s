# t-munmap.s: munmap of a range that holds no mmap area. It grows the heap by a page, stores
# 42 there, and calls munmap on that page. munmap removes only anonymous mappings
# (docs/os.md), so the heap page must keep its 42: exit code 0. Exit code 10 means the page
# came back as zeros (its contents were thrown away while the heap area stayed), 1 that
# munmap failed.
#   vmlab run programs/os/t-munmap.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0), then one page more
    li a7, SYS_brk
    ecall
    mv s0, a0
    li t0, PAGE_SIZE
    add a0, s0, t0
    li a7, SYS_brk
    ecall
    li t0, 42
    sd t0, 0(s0)
    mv a0, s0                   # munmap(heap page, 1 page)
    li a1, PAGE_SIZE
    li a7, SYS_munmap
    ecall
    li s1, 1
    bnez a0, fail
    ld t1, 0(s0)                # the heap page, still there?
    li s1, 10
    li t0, 42
    bne t1, t0, fail
    li s1, 0
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall
