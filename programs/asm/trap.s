# trap.s: install a trap handler, take an illegal instruction, a breakpoint and an ecall,
# check mcause/mepc/mtval for each, and exit 0 through tohost (or 1, 2, 3 on a wrong value).

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la      t0, handler
    csrw    mtvec, t0
    li      s1, 0               # traps seen
bad:
    .word   0xffffffff          # illegal instruction
    ebreak
    ecall
    li      t0, 3
    bne     s1, t0, fail
    li      a0, 0
    j       exit

# The handler checks the cause against the count of traps so far and skips the instruction.
# mtvec holds a 4-byte-aligned address (its low two bits are the mode), hence the .balign.
    .balign 4
handler:
    csrr    t0, mcause
    csrr    t1, mepc
    csrr    t2, mtval
    bnez    s1, 1f
    li      t3, 2               # 1st: illegal instruction, mtval = the instruction bits
    bne     t0, t3, fail
    la      t3, bad
    bne     t1, t3, fail
    li      t3, -1
    slli    t3, t3, 32
    srli    t3, t3, 32          # 0xffffffff
    bne     t2, t3, fail
    addi    t1, t1, 4
    j       2f
1:  li      t3, 1
    bne     s1, t3, 1f
    li      t3, 3               # 2nd: breakpoint, mtval = its address
    bne     t0, t3, fail
    bne     t2, t1, fail
    addi    t1, t1, 2           # ebreak assembles to c.ebreak (2 bytes)
    j       2f
1:  li      t3, 11              # 3rd: ecall from M
    bne     t0, t3, fail
    addi    t1, t1, 4
2:  csrw    mepc, t1
    addi    s1, s1, 1
    mret

fail:
    addi    a0, s1, 1
exit:
    slli    a0, a0, 1
    ori     a0, a0, 1
    la      t1, tohost
    sd      a0, 0(t1)
1:  j       1b

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost:
    .dword  0
    .globl fromhost
fromhost:
    .dword  0
