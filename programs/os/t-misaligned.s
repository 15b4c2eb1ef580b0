# t-misaligned.s: misaligned loads and stores, integer and floating-point, which the hart
# traps and the kernel emulates as Linux does. Each result is checked; the exit code is the
# number of the first wrong one (0: all right). Prints "misaligned ok\n".
#   vmlab run programs/os/t-misaligned.s --stats     (os.misaligned_emulated 13)
.include "vmlab.s"

    .text
    .globl _start
_start:
    la s0, buf
    # 1: ld from buf+1 reads bytes 1..8.
    ld t0, 1(s0)
    li t1, 0x0908070605040302
    li a0, 1
    bne t0, t1, fail
    # 2: lw (sign-extending) from buf+3: bytes 3..6 = 0x07060504 (positive).
    lw t0, 3(s0)
    li t1, 0x07060504
    li a0, 2
    bne t0, t1, fail
    # 3: lhu from buf+7: 0x0908; lh of the 0xff80 at buf+17 sign-extends.
    lhu t0, 7(s0)
    li t1, 0x0908
    li a0, 3
    bne t0, t1, fail
    lh t0, 17(s0)
    li t1, -128
    bne t0, t1, fail
    # 4: sd to buf+33 then ld back from there; the neighbours are untouched.
    li t1, 0x1122334455667788
    sd t1, 33(s0)
    ld t0, 33(s0)
    li a0, 4
    bne t0, t1, fail
    lbu t0, 32(s0)
    bnez t0, fail
    lbu t0, 41(s0)
    bnez t0, fail
    # 5: sw to buf+49, read back as bytes.
    li t1, 0xdeadbeef
    sw t1, 49(s0)
    lbu t0, 49(s0)
    li t2, 0xef
    li a0, 5
    bne t0, t2, fail
    lbu t0, 52(s0)
    li t2, 0xde
    bne t0, t2, fail
    # 6: fld/fsd of a double at an odd address: 1.5 goes through f1 and back.
    li t1, 0x3ff8000000000000
    sd t1, 57(s0)
    fld f1, 57(s0)
    fsd f1, 67(s0)
    ld t0, 67(s0)
    li a0, 6
    bne t0, t1, fail
    # 7: flw of a single at buf+77 is NaN-boxed: fmv.x.d shows the upper ones.
    li t1, 0x3fc00000
    sw t1, 77(s0)
    flw f2, 77(s0)
    fmv.x.d t0, f2
    li t2, 0xffffffff3fc00000
    li a0, 7
    bne t0, t2, fail
    li a0, STDOUT
    la a1, msg
    li a2, 14
    li a7, SYS_write
    ecall
    li a0, 0
fail:
    li a7, SYS_exit
    ecall

    .data
    .balign 8
buf:
    .byte 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x7f, 0x80, 0xff, 0
    .zero 108
msg:
    .ascii "misaligned ok\n"
