# t-spin.s: a compute loop for time slicing. It adds into a counter on each of 4 data pages,
# 25,000 rounds (8 instructions each: about 200,000), so after its first few page faults it only
# computes and reuses the same few TLB entries. Exit code 0 when the counters add up.
# Run several at once to see the timer preempt them, with and without ASIDs:
#   vmlab run programs/os/t-spin.s programs/os/t-spin.s programs/os/t-spin.s --set os.time_slice=5000 --stats
#   vmlab run programs/os/t-spin.s programs/os/t-spin.s programs/os/t-spin.s --set os.time_slice=5000 --set os.asids=false --stats
.include "vmlab.s"

.equ ROUNDS, 25000

    .text
    .globl _start
_start:
    la s0, counters
    li s1, PAGE_SIZE
    li s2, ROUNDS
    li t0, 0                    # the round
1:  andi t1, t0, 3              # the page: round mod 4
    mul t1, t1, s1
    add t1, t1, s0
    ld t2, 0(t1)
    addi t2, t2, 1
    sd t2, 0(t1)
    addi t0, t0, 1
    blt t0, s2, 1b
    li t0, 0                    # the four counters sum to ROUNDS
    li t3, 0
    li t4, 4
2:  mul t1, t0, s1
    add t1, t1, s0
    ld t2, 0(t1)
    add t3, t3, t2
    addi t0, t0, 1
    blt t0, t4, 2b
    sub a0, t3, s2              # 0 when they do
    li a7, SYS_exit
    ecall

    .bss
    .p2align 12
counters:
    .space 4 * PAGE_SIZE
