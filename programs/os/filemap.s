# filemap.s: map a file shared, check it, change it, write it back. Run it with a copy of
# programs/os/data.txt as the guest file /data:
#   vmlab run programs/os/filemap.s --file data=programs/os/data.txt --stats
# It opens "data", maps two pages of it (MAP_SHARED: stores reach the file), checks that
# the first byte is 'v' (exit 1 if not), overwrites the first four bytes with "VMLA",
# msyncs (the page goes back to the file on the disk, and the call waits for the write),
# unmaps, and exits 0. The page comes in on demand through the page cache (a major fault:
# the cache reads it from the file's blocks); the host file itself is never changed.
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, AT_FDCWD             # openat(AT_FDCWD, "data", O_RDWR)
    la a1, name
    li a2, O_RDWR
    li a3, 0
    li a7, SYS_openat
    ecall
    bltz a0, fail
    mv s1, a0                   # the descriptor
    li a0, 0                    # mmap(0, 2 pages, rw, shared, fd, 0)
    li a1, 2 * PAGE_SIZE
    li a2, PROT_READ | PROT_WRITE
    li a3, MAP_SHARED
    mv a4, s1
    li a5, 0
    li a7, SYS_mmap
    ecall
    bltz a0, fail
    mv s0, a0
    lbu t0, 0(s0)               # the file's first byte: 'v'
    li t1, 'v'
    bne t0, t1, fail
    li t0, 0x414c4d56           # "VMLA", little-endian
    sw t0, 0(s0)
    mv a0, s0                   # msync(p, 1 page, MS_SYNC)
    li a1, PAGE_SIZE
    li a2, MS_SYNC
    li a7, SYS_msync
    ecall
    bnez a0, fail
    mv a0, s0                   # munmap(p, 2 pages)
    li a1, 2 * PAGE_SIZE
    li a7, SYS_munmap
    ecall
    mv a0, s1                   # close(fd)
    li a7, SYS_close
    ecall
    li a0, 0
    li a7, SYS_exit
    ecall
fail:
    li a0, 1
    li a7, SYS_exit
    ecall

    .section .rodata
name:
    .asciz "data"
