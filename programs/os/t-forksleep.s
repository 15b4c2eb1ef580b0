# t-forksleep.s: fork.s after a nap (nanosleep, 30 ms), so that the other processes of a
# run change memory before the fork: a test program of tests/fork_schemes.rs, where under
# dynamic partitioning the holes left by then make the fork compact memory and move the
# running parent. Same checks and exit statuses as fork.s.
#   vmlab run programs/os/short.s programs/os/t-forksleep.s programs/os/t-forksleep.s \
#       --set os.scheme=dynamic-partitions --set os.user_frames=33 --stats
.include "vmlab.s"

.equ SYS_nanosleep, 101
.equ NAP_NS, 30000000
.equ DATA_VALUE,  0x0da7a0da7a
.equ HEAP_VALUE,  0x0beef0beef
.equ STACK_VALUE, 0x05ac05ac05
.equ CHILD_VALUE, 0x0c41d0c41d
.equ CHILD_STATUS, 42

    .text
    .globl _start
_start:
    li a0, 0                    # brk(0): where the heap starts
    li a7, SYS_brk
    ecall
    mv s0, a0                   # s0: the heap's first word
    li t0, PAGE_SIZE
    add s1, s0, t0
    mv a0, s1                   # brk(start + 1 page)
    li a7, SYS_brk
    ecall
    li s11, 2
    bne a0, s1, done
    la s1, value                # s1: the data word
    li t0, DATA_VALUE
    sd t0, 0(s1)
    li t0, HEAP_VALUE
    sd t0, 0(s0)
    addi sp, sp, -16            # 0(sp): the stack word; 8(sp): the wait status
    li t0, STACK_VALUE
    sd t0, 0(sp)

    la a0, nap                  # nanosleep(&nap, NULL)
    li a1, 0
    li a7, SYS_nanosleep
    ecall
    li a0, SIGCHLD              # clone(SIGCHLD, 0, 0, 0, 0): fork
    li a1, 0
    li a2, 0
    li a3, 0
    li a4, 0
    li a7, SYS_clone
    rdcycle s4
    ecall
    rdcycle s5
    bltz a0, fork_failed
    beqz a0, child

parent:
    mv s2, a0                   # the child's pid
    li a0, -1                   # wait4(-1, &status, 0, NULL)
    addi a1, sp, 8
    li a2, 0
    li a3, 0
    li a7, SYS_wait4
    ecall
    li s11, 3
    bne a0, s2, done
    lw s3, 8(sp)
    srli s3, s3, 8
    andi s3, s3, 0xff           # the child's exit status
    li a0, STDERR               # what the fork call cost, on stderr (it differs by scheme)
    la a1, m_cycles
    la a2, m_cycles_end
    call print
    li a0, STDERR
    sub a1, s5, s4
    call print_dec
    li a0, STDOUT
    la a1, m_status
    la a2, m_status_end
    call print
    li a0, STDOUT
    mv a1, s3
    call print_dec
    li s11, 4
    li t0, CHILD_STATUS
    bne s3, t0, done
    li s11, 5                   # the parent's values, as it left them
    ld t1, 0(s1)
    li t0, DATA_VALUE
    bne t0, t1, done
    ld t1, 0(s0)
    li t0, HEAP_VALUE
    bne t0, t1, done
    ld t1, 0(sp)
    li t0, STACK_VALUE
    bne t0, t1, done
    la t2, marker               # the child's marker is not the parent's
    ld t1, 0(t2)
    bnez t1, done
    li a0, STDOUT
    la a1, m_same
    la a2, m_same_end
    call print
    li s11, 0
done:
    mv a0, s11
    li a7, SYS_exit
    ecall

child:
    li a0, 11                   # it sees the parent's values
    ld t1, 0(s1)
    li t0, DATA_VALUE
    bne t0, t1, child_exit
    li a0, 12
    ld t1, 0(s0)
    li t0, HEAP_VALUE
    bne t0, t1, child_exit
    li a0, 13
    ld t1, 0(sp)
    li t0, STACK_VALUE
    bne t0, t1, child_exit
    li t0, CHILD_VALUE          # and overwrites them, and writes its marker
    sd t0, 0(s1)
    sd t0, 0(s0)
    sd t0, 0(sp)
    la t2, marker
    sd t0, 0(t2)
    li a0, STDOUT
    la a1, m_child
    la a2, m_child_end
    call print
    li a0, CHILD_STATUS
child_exit:
    li a7, SYS_exit
    ecall

fork_failed:
    neg s3, a0                  # the errno
    li a0, STDOUT
    la a1, m_failed
    la a2, m_failed_end
    call print
    li a0, STDOUT
    mv a1, s3
    call print_dec
    li s11, 1
    j done

# print(a0 = fd, a1 = text, a2 = its end): write it.
print:
    sub a2, a2, a1
    li a7, SYS_write
    ecall
    ret

# print_dec(a0 = fd, a1 = value): the value in decimal, then a newline.
print_dec:
    mv t3, a0
    mv a0, a1
    la t0, digits_end
    li t1, '\n'
    addi t0, t0, -1
    sb t1, 0(t0)
    li t2, 10
1:
    remu t1, a0, t2
    divu a0, a0, t2
    addi t1, t1, '0'
    addi t0, t0, -1
    sb t1, 0(t0)
    bnez a0, 1b
    mv a1, t0
    la a2, digits_end
    sub a2, a2, a1
    mv a0, t3
    li a7, SYS_write
    ecall
    ret

    .data
nap:
    .dword 0, NAP_NS
value:
    .dword 0
marker:
    .dword 0
m_child:
    .ascii "child: sees the parent's data, heap and stack; overwrites them\n"
m_child_end:
m_status:
    .ascii "parent: the child exited with status "
m_status_end:
m_same:
    .ascii "parent: its data, heap and stack are unchanged\n"
m_same_end:
m_cycles:
    .ascii "fork.s: the fork call took (cycles) "
m_cycles_end:
m_failed:
    .ascii "parent: fork failed, errno "
m_failed_end:
digits:
    .ascii "00000000000000000000"
digits_end:
