# start.s: start-up code of the benchmarks. In M-mode: sets sp/gp, grants S-mode all
# memory through PMP (Spike; skipped where PMP CSRs are absent), clears .bss, builds Sv39
# page tables that map [0x80000000, _end) - code, data, bss and stack - with identity
# 4 KiB pages (RWX, A and D set, so Svade never faults), lets S-mode read the counters
# (mcounteren = 7), switches satp to Sv39 and drops to S-mode to run main(). main's
# return value is the exit code; any trap exits with 200 + mcause (exceptions only).
# The tables take 2 + ceil(size / 2 MiB) pages from __pt_start (at most 16).
        .option norelax
        .section .text.init,"ax",@progbits
        .globl  _start
_start:
        la      gp, __global_pointer$
        la      sp, __stack_top
        la      t0, 1f
        csrw    mtvec, t0
        li      t0, -1
        csrw    pmpaddr0, t0
        li      t0, 0x1f
        csrw    pmpcfg0, t0
        .balign 4
1:      la      t0, mtrap
        csrw    mtvec, t0
        la      t0, __bss_start       # clear .bss
        la      t1, __bss_end
2:      bgeu    t0, t1, 3f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       2b
3:      la      t0, __pt_start        # clear the page-table area
        la      t1, __pt_end
4:      bgeu    t0, t1, 5f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       4b
5:      la      s0, __pt_start        # s0 = root, s1 = l1, s2 = first l0 table
        li      t0, 4096
        add     s1, s0, t0
        add     s2, s1, t0
        srli    t1, s1, 12            # root[2] -> l1 (VA 0x80000000..0xbfffffff)
        slli    t1, t1, 10
        ori     t1, t1, 1
        sd      t1, 16(s0)
        li      s3, 0x80000000        # s3 = PA = VA of the page being mapped
        la      s4, _end
        li      s5, 0                 # s5 = page index
6:      bgeu    s3, s4, 8f
        srli    t0, s5, 9             # l0 table number
        slli    t1, t0, 12
        add     t1, t1, s2            # its address
        andi    t2, s5, 511
        bnez    t2, 7f
        srli    t3, t1, 12            # first entry of a new l0 table: link it into l1
        slli    t3, t3, 10
        ori     t3, t3, 1
        slli    t4, t0, 3
        add     t4, t4, s1
        sd      t3, 0(t4)
7:      slli    t2, t2, 3
        add     t2, t2, t1
        srli    t3, s3, 12
        slli    t3, t3, 10
        ori     t3, t3, 0xcf          # V R W X A D
        sd      t3, 0(t2)
        li      t0, 4096
        add     s3, s3, t0
        addi    s5, s5, 1
        j       6b
8:      srli    t0, s0, 12
        li      t1, 8 << 60
        or      t0, t0, t1
        csrw    satp, t0
        sfence.vma
        li      t0, 7
        csrw    mcounteren, t0
        li      t0, 0x1800
        csrc    mstatus, t0
        li      t0, 0x800             # MPP = S
        csrs    mstatus, t0
        la      t0, s_entry
        csrw    mepc, t0
        mret

s_entry:
        call    main
        call    htif_exit
9:      j       9b

        .balign 4
mtrap:  csrr    a0, mcause
        andi    a0, a0, 0x3f
        addi    a0, a0, 200
        csrw    satp, zero
        call    htif_exit
10:     j       10b

        .section .tohost,"aw",@progbits
        .balign 64
        .globl  tohost
tohost: .dword  0
        .balign 64
        .globl  fromhost
fromhost:
        .dword  0
