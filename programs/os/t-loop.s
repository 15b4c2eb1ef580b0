# t-loop.s: a process that spins on a jump to itself. While another process can run, the
# timer shares the CPU; once nothing else can ever run, the kernel kills it (infinite loop)
# instead of running it for ever.
#   vmlab run programs/os/t-loop.s programs/os/hello.s
    .text
    .globl _start
_start:
    j _start
