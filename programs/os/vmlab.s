# vmlab.s: system call numbers and flags for programs run by vmlab's kernel.
# Include it with `.include "vmlab.s"` (read relative to the including file).
# The calling convention is Linux's on RISC-V: the number in a7, arguments in a0..a5,
# `ecall`, the result in a0 (a negative errno on failure).

.equ SYS_openat,      56
.equ SYS_close,       57
.equ SYS_read,        63
.equ SYS_write,       64
.equ SYS_exit,        93
.equ SYS_exit_group,  94
.equ SYS_sched_yield, 124
.equ SYS_getpid,      172
.equ SYS_brk,         214
.equ SYS_munmap,      215
.equ SYS_clone,       220
.equ SYS_mmap,        222
.equ SYS_mprotect,    226
.equ SYS_msync,       227
.equ SYS_wait4,       260

.equ AT_FDCWD, -100
.equ O_RDONLY, 0
.equ O_RDWR,   2
.equ MS_SYNC,  4

.equ PROT_NONE,  0
.equ PROT_READ,  1
.equ PROT_WRITE, 2
.equ PROT_EXEC,  4

.equ MAP_SHARED,    0x01
.equ MAP_PRIVATE,   0x02
.equ MAP_FIXED,     0x10
.equ MAP_ANONYMOUS, 0x20

.equ SIGCHLD, 17

.equ STDOUT, 1
.equ STDERR, 2

.equ PAGE_SIZE, 4096
