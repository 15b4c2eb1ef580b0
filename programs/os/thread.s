# thread.s: a thread by hand. clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|
# CLONE_THREAD|CLONE_CHILD_CLEARTID, stack) makes a task that runs in this process's
# address space on a stack of its own. The thread stores 42 into a word of the data,
# checks that getpid() is the process's, and exits (exit, not exit_group: only the
# thread ends). The kernel then clears the word CLONE_CHILD_CLEARTID named (it held the
# thread's tid) and wakes a futex there, which the main thread waits on as pthread_join
# does. The main thread then exits with the word the thread stored.
#
# Exit status: 42 when the thread ran in the same memory; the errno when clone failed
# (a scheme that keeps one address space per process cannot run two tasks in one:
# ENOSYS, 38); 1 the thread saw another pid; 2 the futex wait failed.
#   vmlab run programs/os/thread.s --stats
.include "vmlab.s"

.equ CLONE_THREAD_FLAGS, 0x00210f00     # VM|FS|FILES|SIGHAND|THREAD|CHILD_CLEARTID
.equ SYS_futex, 98
.equ FUTEX_WAIT, 0

    .text
    .globl _start
_start:
    li a7, SYS_getpid
    ecall
    mv s0, a0                   # s0: the process's pid
    la s1, tid                  # s1: where the kernel clears the thread's tid
    la s2, shared               # s2: the word the thread stores to
    li t0, 1
    sw t0, 0(s1)                # nonzero until the thread has gone
    li a0, CLONE_THREAD_FLAGS
    la a1, stack_top            # the thread's stack
    li a2, 0
    li a3, 0
    mv a4, s1                   # child_tid: cleared (and woken) when the thread ends
    li a7, SYS_clone
    ecall
    bltz a0, clone_failed
    beqz a0, thread

    sw a0, 0(s1)                # the thread's tid (as glibc keeps it)
wait:                           # futex(tid, FUTEX_WAIT, value) until the word is 0
    lw a2, 0(s1)
    beqz a2, joined
    mv a0, s1
    li a1, FUTEX_WAIT
    li a3, 0
    li a7, SYS_futex
    ecall
    li t0, -11                  # EAGAIN: the word changed first; look again
    beq a0, t0, wait
    beqz a0, wait
    li a0, 2
    j exit
joined:
    lw a0, 0(s2)
exit:
    li a7, SYS_exit_group
    ecall

clone_failed:
    neg a0, a0
    j exit

thread:
    li a7, SYS_getpid
    ecall
    li t0, 1
    bne a0, s0, thread_bad
    li t0, 42
    sw t0, 0(s2)
    li a0, 0
    li a7, SYS_exit
    ecall
thread_bad:
    sw t0, 0(s2)
    li a0, 0
    li a7, SYS_exit
    ecall

    .data
tid:    .word 0
shared: .word 0
    .balign 16
stack:  .space 4096
stack_top:
