# t-enosys.s: a system call the kernel does not know. Number 999 must come back as -ENOSYS
# (-38) in a0, with the process still alive; a write to a file descriptor that is not open
# must come back as -EBADF (-9). Exit code 0 when both did, 1 or 2 for the one that did not.
#   vmlab run programs/os/t-enosys.s --stats      (os.syscalls.unknown is 1)
.include "vmlab.s"

.equ ENOSYS, 38
.equ EBADF, 9

    .text
    .globl _start
_start:
    li a7, 999                  # no such system call
    ecall
    li t0, -ENOSYS
    li s1, 1
    bne a0, t0, fail
    li a0, 5                    # write(5, ...): not open
    la a1, _start
    li a2, 1
    li a7, SYS_write
    ecall
    li t0, -EBADF
    li s1, 2
    bne a0, t0, fail
    li s1, 0
fail:
    mv a0, s1
    li a7, SYS_exit
    ecall
