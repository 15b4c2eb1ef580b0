# segv-text.s: a process that stores into its own text. The kernel kills it with a report
# that names the address, the access, the area and its permissions:
#   vmlab run programs/os/segv-text.s programs/os/hello.s
.include "vmlab.s"

    .text
    .globl _start
_start:
    la t0, _start
    sw zero, 0(t0)              # text is r-x: killed here
    li a0, 0
    li a7, SYS_exit
    ecall
