# t-filesplit.s: split a shared file mapping and check that every piece still shows its own
# bytes of the file. Run it with a four-page file named "pages" whose page i is filled with
# the letter 'A' + i (tests/kernel_defects.rs makes one):
#   vmlab run programs/os/t-filesplit.s --file pages=FILE
# It maps the file's four pages shared, unmaps the first page (the rest is now a piece that
# starts one page into the file), makes the third page read-only (splitting that piece in
# three), then checks that page 1 reads 'B', page 2 'C' and page 3 'D', stores 'b' into
# page 1 and 'd' into page 3, and exits 0: the mapping's pages are the page cache's, so the
# stores are the file's, at their own offsets. Exit code 1: a system call failed; 2, 3, 4:
# page 1, 2 or 3 showed another page of the file.
.include "vmlab.s"

    .text
    .globl _start
_start:
    li s1, 1
    li a0, AT_FDCWD             # openat(AT_FDCWD, "pages", O_RDWR)
    la a1, name
    li a2, O_RDWR
    li a3, 0
    li a7, SYS_openat
    ecall
    bltz a0, fail
    mv s2, a0
    li a0, 0                    # mmap(0, 4 pages, rw, shared, fd, 0)
    li a1, 4 * PAGE_SIZE
    li a2, PROT_READ | PROT_WRITE
    li a3, MAP_SHARED
    mv a4, s2
    li a5, 0
    li a7, SYS_mmap
    ecall
    bltz a0, fail
    mv s0, a0
    mv a0, s0                   # munmap(page 0)
    li a1, PAGE_SIZE
    li a7, SYS_munmap
    ecall
    bnez a0, fail
    li t0, 2 * PAGE_SIZE        # mprotect(page 2, 1 page, PROT_READ)
    add a0, s0, t0
    li a1, PAGE_SIZE
    li a2, PROT_READ
    li a7, SYS_mprotect
    ecall
    bnez a0, fail
    li t0, PAGE_SIZE
    add t1, s0, t0              # page 1: 'B'
    lbu t2, 0(t1)
    li s1, 2
    li t3, 'B'
    bne t2, t3, fail
    li t3, 'b'
    sb t3, 0(t1)
    add t1, t1, t0              # page 2: 'C'
    lbu t2, 0(t1)
    li s1, 3
    li t3, 'C'
    bne t2, t3, fail
    add t1, t1, t0              # page 3: 'D'
    lbu t2, 0(t1)
    li s1, 4
    li t3, 'D'
    bne t2, t3, fail
    li t3, 'd'
    sb t3, 0(t1)
    li s1, 0
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall

    .section .rodata
name:
    .asciz "pages"
