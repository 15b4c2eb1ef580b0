# i386.s: translation through a page-table format RISC-V does not have. The machine file
# programs/machines/i386.toml defines 32-bit x86 two-level paging as custom format 16; this
# program builds i386 tables, selects them with vmlab's custom CSRs (docs/csr.md), drops to
# S-mode, and stores and loads through a 4 KiB page while running from a 4 MiB page.
#
#   vmlab run --bare programs/asm/i386.s --machine programs/machines/i386.toml --stats
#
#   directory at 0x80010000: [0]     -> page table at 0x80011000 (P, R/W)
#                            [0x200] -> 4 MiB page at 0x80000000 (PS, P, R/W): the code
#   page table at 0x80011000: [1]    -> page 0x80013000 (P, R/W): VA 0x1000
# The walker sets A and D (Svadu, as x86 does). Exit code 0 when the value comes back.

    .equ    VMMODE, 0x5c0
    .equ    VMFORMAT, 0x5c9
    .equ    VMROOT, 0x5ca

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    li      t0, 0x80010000      # the page directory
    li      t1, 0x80011003      # PDE[0]: page table at 0x80011000, P R/W
    sw      t1, 0(t0)
    li      t2, 0x80010800      # &PDE[0x200]
    li      t1, 0x80000083      # 4 MiB page at 0x80000000: PS P R/W
    sw      t1, 0(t2)
    li      t0, 0x80011000      # the page table
    li      t1, 0x80013003      # PTE[1]: page 0x80013000, P R/W
    sw      t1, 4(t0)
    li      t0, 16              # the machine's first custom format
    csrw    VMFORMAT, t0
    li      t0, 0x80010000
    csrw    VMROOT, t0
    csrwi   VMMODE, 3           # paging in the vmformat format, from vmroot
    la      t0, supervisor
    csrw    mepc, t0
    li      t0, 0x800           # mstatus.MPP = S
    csrs    mstatus, t0
    mret

supervisor:
    li      t0, 0x1000
    li      t1, 42
    sw      t1, 0(t0)           # dTLB miss: a two-level i386 walk; the walker sets A and D
    lw      a0, 0(t0)
    addi    a0, a0, -42
    li      a7, 93
    ecall                       # exit(a0) by the ecall convention
