# stack.s: recursion 2000 frames deep (64 bytes each, 125 KiB): the stack grows on faults
# just below it, page by page, beyond the 16 KiB it starts with. With
# --set os.stack_limit=65536 the growth stops at 64 KiB and the process is killed.
#   vmlab run programs/os/stack.s --stats
.include "vmlab.s"

    .text
    .globl _start
_start:
    li a0, 2000
    call down
    li a7, SYS_exit             # exit code 0 when the recursion came back intact
    ecall

# down(n): 0 after n nested calls.
down:
    addi sp, sp, -64
    sd ra, 0(sp)
    sd a0, 8(sp)
    beqz a0, 1f
    addi a0, a0, -1
    call down
    ld t0, 8(sp)
    addi t0, t0, -1             # a0 came back as 0 from below
    sub a0, a0, t0
    add a0, a0, t0
1:  ld ra, 0(sp)
    addi sp, sp, 64
    ret
