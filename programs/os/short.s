# short.s: a small process that lives briefly: 8 KiB of data swept 300 times, then exit.
# With long.s it shows placement, holes and compaction under the partition schemes:
#   vmlab run programs/os/long.s programs/os/short.s programs/os/long.s programs/os/short.s \
#       programs/os/long.s --set os.scheme=dynamic-partitions --set os.user_frames=40 --stats
.include "vmlab.s"

.equ WORDS, 1024
.equ SWEEPS, 300

    .text
    .globl _start
_start:
    li s0, SWEEPS
2:  la t0, buf
    li t1, WORDS
1:  sd t1, 0(t0)
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, 1b
    addi s0, s0, -1
    bnez s0, 2b
    li a0, 0
    li a7, SYS_exit
    ecall

    .bss
buf:
    .space WORDS * 8
