# sv39.s: turn on Sv39 paging, drop to S-mode, and touch one 4 KiB page twice, so that the
# first access misses the dTLB and walks three levels and the second hits. The code runs
# from a 1 GiB gigapage; the page tables are built by the program at fixed addresses:
#
#   root (level 2) at 0x80010000:  [0] -> level-1 table     [2] -> gigapage 0x80000000 (RWX)
#   level 1        at 0x80011000:  [0] -> level-0 table
#   level 0        at 0x80012000:  [1] -> page 0x80013000 (RW), so VA 0x1000 -> PA 0x80013000
#
# Every leaf has A and D set, so nothing faults. S-mode stores 42 at VA 0x1000, loads it
# back, and exits through the ecall convention (a7 = 93, no handler installed) with exit
# code 0 if it read 42 back.
# docs/timing.md counts its cycles by hand.
# A bare-machine program without tohost: vmlab run --bare programs/asm/sv39.s

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      t0, 0x80010000      # root table
    li      t1, 0x20004401      # [0]: pointer to 0x80011000 (PPN 0x80011 << 10 | V)
    sd      t1, 0(t0)
    li      t1, 0x200000cf      # [2]: gigapage PPN 0x80000, V R W X A D
    sd      t1, 16(t0)
    li      t0, 0x80011000      # level 1
    li      t1, 0x20004801      # [0]: pointer to 0x80012000
    sd      t1, 0(t0)
    li      t0, 0x80012000      # level 0
    li      t1, 0x20004cc7      # [1]: page PPN 0x80013, V R W A D
    sd      t1, 8(t0)
    li      t0, 0x8000000000080010  # satp: MODE 8 (Sv39), ASID 0, PPN 0x80010
    csrw    satp, t0
    la      t0, supervisor
    csrw    mepc, t0
    li      t0, 0x800           # mstatus.MPP = S
    csrs    mstatus, t0
    mret

supervisor:
    li      t0, 0x1000
    li      t1, 42
    sd      t1, 0(t0)           # dTLB miss: walk 3 levels
    ld      a0, 0(t0)           # dTLB hit
    addi    a0, a0, -42         # 0 if the value came back (a load-use stall)
    li      a7, 93
    ecall                       # to M-mode, where no handler is installed: exit(a0)
