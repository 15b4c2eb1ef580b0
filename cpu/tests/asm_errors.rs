//! Error messages of the assembler, pinned in full: `file:line:col: error: message`, the
//! source line, and a caret under the column. Every case is one malformed input.

use vmlab_cpu::asm::{assemble, AsmOptions};

/// Assembles `src` as `prog.s` and checks the whole error text.
fn check(src: &str, expected: &str) {
    match assemble(src, "prog.s", &AsmOptions::default()) {
        Ok(_) => panic!("{src:?} assembled; expected:\n{expected}"),
        Err(e) => assert_eq!(e.to_string(), expected, "for {src:?}"),
    }
}

#[test]
fn errors_name_the_place_show_the_line_and_say_what_was_expected() {
    check(
        "addi a0, a0, 5000",
        "prog.s:1:14: error: immediate 5000 out of range for addi: expected -2048..=2047\naddi a0, a0, 5000\n             ^",
    );
    check(
        "        addi a0, a1",
        "prog.s:1:20: error: wrong number of operands for addi: expected `addi rd, rs1, imm`\n        addi a0, a1\n                   ^",
    );
    check(
        "add a0, a1, x32",
        "prog.s:1:13: error: `x32` is not a register: expected x0..x31\nadd a0, a1, x32\n            ^",
    );
    check(
        "foo a0, a1",
        "prog.s:1:1: error: unknown instruction `foo`\nfoo a0, a1\n^",
    );
    check(
        "lw a0, 4096(sp)",
        "prog.s:1:8: error: offset 4096 out of range for lw: expected -2048..=2047\nlw a0, 4096(sp)\n       ^",
    );
    check(
        "slli a0, a0, 64",
        "prog.s:1:14: error: shift amount 64 out of range for slli: expected 0..=63\nslli a0, a0, 64\n             ^",
    );
    check(
        "lui a0, -1",
        "prog.s:1:9: error: immediate -1 out of range for lui: expected 0..=1048575 (0xfffff)\nlui a0, -1\n        ^",
    );
    check(
        "csrr a0, nosuchcsr",
        "prog.s:1:10: error: unknown CSR `nosuchcsr`: expected a CSR name or a number 0..=4095\ncsrr a0, nosuchcsr\n         ^",
    );
    check(
        "csrwi mstatus, 32",
        "prog.s:1:16: error: immediate 32 out of range for csrwi: expected 0..=31\ncsrwi mstatus, 32\n               ^",
    );
    check(
        "fence rw",
        "prog.s:1:9: error: wrong number of operands for fence: expected `fence [pred, succ]`\nfence rw\n        ^",
    );
    check(
        "fence x, rw",
        "prog.s:1:7: error: expected a fence set: some of i, o, r, w in that order (e.g. `rw`)\nfence x, rw\n      ^",
    );
    check(
        "j nowhere",
        "prog.s:1:3: error: undefined symbol `nowhere`\nj nowhere\n  ^",
    );
    check(
        "beqz a0, 1f",
        "prog.s:1:10: error: undefined local label `1f`\nbeqz a0, 1f\n         ^",
    );
    check(
        "bnez a0, 1b",
        "prog.s:1:10: error: `1b` refers to no earlier local label `1:`\nbnez a0, 1b\n         ^",
    );
    check(
        "l: nop\nl: nop",
        "prog.s:2:1: error: symbol `l` is already defined\nl: nop\n^",
    );
    check(
        ".byte 256",
        "prog.s:1:7: error: value 256 does not fit in 1 byte: expected -128..=255\n.byte 256\n      ^",
    );
    check(
        ".space 1<<60",
        "prog.s:1:8: error: 1152921504606846976 more bytes would make the output larger than the 256 MiB limit\n.space 1<<60\n       ^",
    );
    check(
        ".p2align 20",
        "prog.s:1:10: error: alignment 2^20 out of range: expected a power 0..=16\n.p2align 20\n         ^",
    );
    check(
        ".ascii abc",
        "prog.s:1:8: error: .ascii expects a string in double quotes\n.ascii abc\n       ^",
    );
    check(
        "li a0, 1 +",
        "prog.s:1:11: error: expected an expression\nli a0, 1 +\n          ^",
    );
    check(
        "li a0, (1 + 2",
        "prog.s:1:14: error: expected `)`\nli a0, (1 + 2\n             ^",
    );
    check(
        "li a0, 1/0",
        "prog.s:1:9: error: division by zero\nli a0, 1/0\n        ^",
    );
    check(
        ".equ x, x + 1",
        "prog.s:1:6: error: symbol `x` is defined in terms of itself\n.equ x, x + 1\n     ^",
    );
    check(
        "\"unterminated",
        "prog.s:1:1: error: unterminated string: expected a closing `\"`\n\"unterminated\n^",
    );
    check(
        "addi a0, a0, %hi(x)",
        "prog.s:1:14: error: `%hi` is not allowed here: expected %lo or %pcrel_lo\naddi a0, a0, %hi(x)\n             ^",
    );
    check(
        "c.addi a0, 32",
        "prog.s:1:8: error: c.addi: cannot encode `addi` with these operands: immediate 32 is out of range -32..=31\nc.addi a0, 32\n       ^",
    );
    check(
        "c.lw a6, 0(a1)",
        "prog.s:1:6: error: c.lw: cannot encode `lw` with these operands: rd must be one of x8..x15 (s0, s1, a0..a5)\nc.lw a6, 0(a1)\n     ^",
    );
    check(
        "c.beqz a6, .",
        "prog.s:1:8: error: c.beqz needs one of x8..x15 (s0, s1, a0..a5), found `a6`\nc.beqz a6, .\n       ^",
    );
    check(
        ".section .bss\n.byte 1",
        "prog.s:2:7: error: non-zero data in `.bss`, which has no contents: expected .zero or .space\n.byte 1\n      ^",
    );
    check(
        "beq a0, a1, .+1",
        "prog.s:1:14: error: branch target 0x80000001 is not 2-byte aligned (offset 1 is odd)\nbeq a0, a1, .+1\n             ^",
    );
    check(
        "lr.w a0, 4(a1)",
        "prog.s:1:10: error: lr.w takes no offset: expected `(register)` or `0(register)`\nlr.w a0, 4(a1)\n         ^",
    );
    check(
        "amoadd.w a0, a1, a2",
        "prog.s:1:18: error: expected `(register)` for amoadd.w\namoadd.w a0, a1, a2\n                 ^",
    );
    check(
        "add.aq a0, a1, a2",
        "prog.s:1:1: error: unknown instruction `add.aq`\nadd.aq a0, a1, a2\n^",
    );
    check(
        ".option bogus",
        "prog.s:1:9: error: unknown .option `bogus`: expected rvc, norvc, push, pop, relax, norelax, pic, nopic or arch\n.option bogus\n        ^",
    );
    check(
        ".frobnicate 1",
        "prog.s:1:1: error: unknown or unsupported directive `.frobnicate` (docs/asm.md lists the accepted ones)\n.frobnicate 1\n^",
    );
    check(
        "1: ret\n\tj\t2b",
        "prog.s:2:4: error: `2b` refers to no earlier local label `2:`\n\tj\t2b\n\t \t^",
    );
    check(
        "x: addi a0, a0, %pcrel_lo(x)",
        "prog.s:1:27: error: %pcrel_lo needs the label of an `auipc` with %pcrel_hi, but there is none at 0x80000000\nx: addi a0, a0, %pcrel_lo(x)\n                          ^",
    );
    check(
        "jal ra, .+0x200000",
        "prog.s:1:10: error: jump target 0x80200000 out of range: offset 2097152 is not within -1048576..=1048574\njal ra, .+0x200000\n         ^",
    );
    check(
        ".word 1, , 2",
        "prog.s:1:10: error: expected a value\n.word 1, , 2\n         ^",
    );
    check(
        "sw a0, sym",
        "prog.s:1:11: error: sw to a symbol needs a temporary register: expected `sw rs2, symbol, rt`\nsw a0, sym\n          ^",
    );
    check(
        "\tli\ta0, 0x1ffffffffffffffff",
        "prog.s:1:9: error: number `0x1ffffffffffffffff` does not fit in 64 bits\n\tli\ta0, 0x1ffffffffffffffff\n\t  \t    ^",
    );
    check(
        "ld a0, 8(q0)",
        "prog.s:1:10: error: expected a base register in parentheses, found `q0`\nld a0, 8(q0)\n         ^",
    );
    check(
        ".balign 3",
        "prog.s:1:9: error: alignment 3 out of range: expected a power of 2 up to 65536\n.balign 3\n        ^",
    );
    check(
        ".fill 2, 9, 1",
        "prog.s:1:10: error: size 9 out of range for .fill: expected 0..=8\n.fill 2, 9, 1\n         ^",
    );
    check(
        "mret a0",
        "prog.s:1:6: error: wrong number of operands for mret: expected `mret`\nmret a0\n     ^",
    );
    check(
        ".option pop",
        "prog.s:1:9: error: .option pop without a matching .option push\n.option pop\n        ^",
    );
    check(
        "la a0, table\n.data\ntable: .dword 1\n.text\nlui a1, %hi(table)",
        "prog.s:5:9: error: %hi value 0x80001000 out of range: expected a 32-bit signed value (-0x80000000..=0x7fffffff)\nlui a1, %hi(table)\n        ^",
    );
    check(
        "li a0, later\n.equ later, 5",
        "prog.s:1:8: error: expected a constant value for li (symbols must be defined with .equ before this line)\nli a0, later\n       ^",
    );
    check(
        "addi a0, a0, 1 # ok\nsub a0, a0\nxor a0, a0, 1, 2\n.byte 1000",
        "prog.s:2:11: error: wrong number of operands for sub: expected `sub rd, rs1, rs2`\nsub a0, a0\n          ^\nprog.s:3:16: error: wrong number of operands for xor: expected `xor rd, rs1, rs2`\nxor a0, a0, 1, 2\n               ^\nprog.s:4:7: error: value 1000 does not fit in 1 byte: expected -128..=255\n.byte 1000\n      ^",
    );
}

#[test]
fn several_errors_are_collected_in_line_order() {
    let e = assemble(
        "sub a0, a0\nnop\nxor a0, a0, 1, 2\n.byte 1000\n",
        "p.s",
        &AsmOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.0.len(), 3, "{e}");
    assert_eq!(
        e.0.iter().map(|x| (x.line, x.column)).collect::<Vec<_>>(),
        [(1, 11), (3, 16), (4, 7)]
    );
}

#[test]
fn columns_count_characters_and_keep_tabs() {
    let e = assemble(
        "\tli\ta0, 5 # é\n\taddi\ta0, a0, 'é' + 4000\n",
        "u.s",
        &AsmOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.0[0].line, 2);
    assert_eq!(e.0[0].column, 15);
    assert!(e.to_string().ends_with("\n\t    \t        ^"), "{e}");
}

#[test]
fn hints_for_other_extensions_and_misplaced_code() {
    check(
        "c.jal .+2",
        "prog.s:1:1: error: unknown instruction `c.jal` (it exists only on RV32)\nc.jal .+2\n^",
    );
    check(
        "c.flw fa0, 0(a1)",
        "prog.s:1:1: error: unknown instruction `c.flw` (it exists only on RV32)\nc.flw fa0, 0(a1)\n^",
    );
    check(
        "fadd.s fa0, fa1, fa2, rxx",
        "prog.s:1:23: error: expected a rounding mode (rne, rtz, rdn, rup, rmm or dyn), found `rxx`\nfadd.s fa0, fa1, fa2, rxx\n                      ^",
    );
    check(
        "fadd.s a0, fa1, fa2",
        "prog.s:1:8: error: expected a floating-point register, found `a0`\nfadd.s a0, fa1, fa2\n       ^",
    );
    check(
        "c.lui sp, 1",
        "prog.s:1:7: error: c.lui cannot write sp (that encoding is c.addi16sp): expected another register\nc.lui sp, 1\n      ^",
    );
    check(
        ".option norvc\nc.addi a0, 1",
        "prog.s:2:1: error: c.addi is a compressed instruction, but compression is off: expected `.option rvc` before it\nc.addi a0, 1\n^",
    );
    check(
        "c.addi16sp sp, 8",
        "prog.s:1:12: error: c.addi16sp: cannot encode `addi` with these operands: immediate 8 is not a multiple of 16\nc.addi16sp sp, 8\n           ^",
    );
    check(
        "call",
        "prog.s:1:5: error: wrong number of operands for call: expected `call [rd,] symbol`\ncall\n    ^",
    );
    check(
        "jalr a0, 1, 2, 3",
        "prog.s:1:6: error: wrong number of operands for jalr: expected `jalr [rd,] rs | [rd,] offset(rs) | rd, rs, offset`\njalr a0, 1, 2, 3\n     ^",
    );
    check(
        ".bss\nnop",
        "prog.s:2:1: error: instruction in `.bss`, which has no contents\nnop\n^",
    );
    check(
        ".type f, @banana",
        "prog.s:1:10: error: unknown symbol type `banana`: expected @function, @object or @notype\n.type f, @banana\n         ^",
    );
    check(
        "li a0, 1 2",
        "prog.s:1:10: error: unexpected `2` after the expression\nli a0, 1 2\n         ^",
    );
}
