#!/usr/bin/env python3
"""Generates the test programs programs/tests/*.s.

* src/NAME.s.in (a test body: header comment, then code at `main:`) becomes NAME.s
  = header comment + common/head.s.in + body + common/tail.s.in, so every program is one
  self-contained file (no .include) that shares the same start code, trap handlers and
  HTIF exit.
* rv64i_alu.s and rv64m.s are generated entirely here: register-register and
  register-immediate arithmetic of RV64I and every RV64M instruction, with the expected
  values computed in Python; rv64a.s likewise for every AMO (src/rv64a.head gives its
  header comment, src/rv64a.lrsc its hand-written lr/sc part).

Run from anywhere: python3 gen_tests.py (then ./build.sh)."""

M = (1 << 64) - 1


def s64(x):
    x &= M
    return x - (1 << 64) if x >> 63 else x


def u64(x):
    return x & M


def sx32(x):
    x &= 0xffffffff
    return u64(x - (1 << 32) if x >> 31 else x)


def s32(x):
    x &= 0xffffffff
    return x - (1 << 32) if x >> 31 else x


def tdiv(a, b):  # truncating division
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def div(a, b):
    a, b = s64(a), s64(b)
    if b == 0:
        return M
    if a == -(1 << 63) and b == -1:
        return u64(a)
    return u64(tdiv(a, b))


def rem(a, b):
    a, b = s64(a), s64(b)
    if b == 0:
        return u64(a)
    if a == -(1 << 63) and b == -1:
        return 0
    return u64(a - b * tdiv(a, b))


def divw(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return M
    if a == -(1 << 31) and b == -1:
        return sx32(a)
    return sx32(tdiv(a, b))


def remw(a, b):
    a, b = s32(a), s32(b)
    if b == 0:
        return sx32(a)
    if a == -(1 << 31) and b == -1:
        return 0
    return sx32(a - b * tdiv(a, b))


RR = {
    'add': lambda a, b: u64(a + b),
    'sub': lambda a, b: u64(a - b),
    'sll': lambda a, b: u64(a << (b & 63)),
    'slt': lambda a, b: int(s64(a) < s64(b)),
    'sltu': lambda a, b: int(u64(a) < u64(b)),
    'xor': lambda a, b: u64(a ^ b),
    'srl': lambda a, b: u64(a) >> (b & 63),
    'sra': lambda a, b: u64(s64(a) >> (b & 63)),
    'or': lambda a, b: u64(a | b),
    'and': lambda a, b: u64(a & b),
    'addw': lambda a, b: sx32(a + b),
    'subw': lambda a, b: sx32(a - b),
    'sllw': lambda a, b: sx32(a << (b & 31)),
    'srlw': lambda a, b: sx32((a & 0xffffffff) >> (b & 31)),
    'sraw': lambda a, b: sx32(s32(a) >> (b & 31)),
}
MUL = {
    'mul': lambda a, b: u64(a * b),
    'mulh': lambda a, b: u64((s64(a) * s64(b)) >> 64),
    'mulhsu': lambda a, b: u64((s64(a) * u64(b)) >> 64),
    'mulhu': lambda a, b: u64((u64(a) * u64(b)) >> 64),
    'div': div,
    'divu': lambda a, b: M if u64(b) == 0 else u64(a) // u64(b),
    'rem': rem,
    'remu': lambda a, b: u64(a) if u64(b) == 0 else u64(a) % u64(b),
    'mulw': lambda a, b: sx32(a * b),
    'divw': divw,
    'divuw': lambda a, b: M if b & 0xffffffff == 0 else sx32((a & 0xffffffff) // (b & 0xffffffff)),
    'remw': remw,
    'remuw': lambda a, b: sx32(a) if b & 0xffffffff == 0 else sx32((a & 0xffffffff) % (b & 0xffffffff)),
}
IMM = {
    'addi': lambda a, i: u64(a + i),
    'slti': lambda a, i: int(s64(a) < i),
    'sltiu': lambda a, i: int(u64(a) < u64(i)),
    'xori': lambda a, i: u64(a ^ i),
    'ori': lambda a, i: u64(a | i),
    'andi': lambda a, i: u64(a & i),
    'slli': lambda a, i: u64(a << i),
    'srli': lambda a, i: u64(a) >> i,
    'srai': lambda a, i: u64(s64(a) >> i),
    'addiw': lambda a, i: sx32(a + i),
    'slliw': lambda a, i: sx32(a << i),
    'srliw': lambda a, i: sx32((a & 0xffffffff) >> i),
    'sraiw': lambda a, i: sx32(s32(a) >> i),
}

A = 0x123456789abcdef0
MIN = 1 << 63
MAX = (1 << 63) - 1
RR_CASES = {
    'add': [(1, 2), (M, 1), (MAX, 1), (A, A)],
    'sub': [(3, 5), (0, 1), (MIN, 1), (A, 0x0fedcba987654321)],
    'sll': [(1, 63), (A, 4), (A, 64 + 8), (M, 0)],
    'slt': [(M, 0), (0, M), (MIN, MAX), (5, 5)],
    'sltu': [(M, 0), (0, M), (MIN, MAX), (4, 5)],
    'xor': [(A, M), (A, A), (0xff00, 0x0ff0), (0, MIN)],
    'srl': [(MIN, 63), (A, 4), (M, 64 + 60), (A, 0)],
    'sra': [(MIN, 63), (A, 4), (MIN | 0x1234, 8), (M, 0x7f)],
    'or': [(A, 0x0f0f), (0, 0), (MIN, 1), (A, M)],
    'and': [(A, 0xffff0000ffff), (M, M), (A, 0), (MIN | 5, MIN | 3)],
    'addw': [(0x7fffffff, 1), (0xffffffff, 1), (A, A), (0x100000000, 5)],
    'subw': [(0, 1), (0x80000000, 1), (A, 0x9abcdef0), (5, 7)],
    'sllw': [(1, 31), (A, 4), (0xffffffff, 32 + 4), (3, 0)],
    'srlw': [(0x80000000, 31), (M, 1), (A, 32 + 8), (0xffff0000ffffffff, 0)],
    'sraw': [(0x80000000, 31), (0x7fffffff, 4), (A, 32 + 8), (0x1234, 0)],
}
MUL_CASES = {
    'mul': [(3, 7), (M, M), (A, A), (MIN, M), (MAX, 2)],
    'mulh': [(M, M), (MIN, MIN), (A, A), (MIN, 1), (MAX, M)],
    'mulhsu': [(M, M), (MIN, MIN), (A, M), (1, M), (MAX, MAX)],
    'mulhu': [(M, M), (MIN, MIN), (A, A), (2, MIN), (3, 5)],
    'div': [(20, 6), (u64(-20), 6), (20, u64(-6)), (u64(-20), u64(-6)), (MIN, M), (5, 0), (0, 0), (MIN, 1)],
    'divu': [(20, 6), (M, 2), (5, 0), (MIN, M), (A, 0x1000)],
    'rem': [(20, 6), (u64(-20), 6), (20, u64(-6)), (u64(-20), u64(-6)), (MIN, M), (5, 0), (u64(-5), 0)],
    'remu': [(20, 6), (M, 10), (5, 0), (MIN, M), (A, 0x1000)],
    'mulw': [(3, 7), (0x7fffffff, 2), (A, A), (0xffffffff, 0xffffffff), (0x100000003, 0x200000005)],
    'divw': [(20, 6), (sx32(-20), 6), (0x80000000, 0xffffffff), (0xffffffff80000000, M), (5, 0), (0x100000000 + 7, 0x100000000 + 2), (7, 0x100000000)],
    'divuw': [(20, 6), (0xffffffff, 2), (5, 0), (0x80000000, 0xffffffff), (0x100000000 + 9, 0x500000003), (0xfffffffe, 1)],
    'remw': [(20, 6), (sx32(-20), 6), (0x80000000, 0xffffffff), (5, 0), (0x1fffffffb, 0), (7, 0x100000000)],
    'remuw': [(20, 6), (0xffffffff, 10), (5, 0), (0x80000005, 0), (0x100000000 + 9, 0x500000004)],
}
IMM_CASES = {
    'addi': [(1, 2047), (1, -2048), (M, 1), (MAX, 1)],
    'slti': [(M, 0), (0, -1), (5, 5), (u64(-100), -99)],
    'sltiu': [(M, -1), (0, 1), (5, -2048), (1, 0)],
    'xori': [(A, -1), (A, 0x7ff), (0, -2048), (A, 0)],
    'ori': [(A, 0x700), (0, -1), (MIN, 1), (0, 0)],
    'andi': [(A, -1), (A, 0xff), (M, -2048), (A, 0)],
    'slli': [(1, 63), (A, 4), (M, 0), (A, 32)],
    'srli': [(MIN, 63), (A, 4), (M, 0), (M, 33)],
    'srai': [(MIN, 63), (A, 4), (MIN, 0), (MIN | 0x1234, 32)],
    'addiw': [(0x7fffffff, 1), (0xffffffff, 1), (A, 0), (0x100000000, -1)],
    'slliw': [(1, 31), (A, 4), (0xffffffff, 0), (3, 30)],
    'srliw': [(0x80000000, 31), (M, 1), (A, 8), (0xffffffff, 0)],
    'sraiw': [(0x80000000, 31), (0x7fffffff, 4), (A, 8), (0x80001234, 0)],
}


def emit(fname, title, groups, extra=''):
    out = [title]
    out.append(HEAD)
    out.append('main:')
    n = 0
    for table, cases, kind in groups:
        for op, lst in cases.items():
            for a, b in lst:
                n += 1
                assert n < 128, 'too many checks'
                exp = table[op](a, b)
                out.append(f'        li      gp, {n}')
                out.append(f'        li      a1, {u64(a):#x}')
                if kind == 'rr':
                    out.append(f'        li      a2, {u64(b):#x}')
                    out.append(f'        {op:<7} a3, a1, a2')
                else:
                    out.append(f'        {op:<7} a3, a1, {b}')
                out.append(f'        li      t0, {exp:#x}')
                out.append('        bne     a3, t0, fail')
    out.append(extra.replace('@N', str(n + 1)))
    out.append('        j       pass')
    out.append(TAIL)
    with open(fname, 'w') as f:
        f.write('\n'.join(out))
    print(fname, n, 'checks')


HEAD = TAIL = ''

AMO = {
    'amoswap': lambda a, b, w: b,
    'amoadd': lambda a, b, w: a + b,
    'amoxor': lambda a, b, w: a ^ b,
    'amoand': lambda a, b, w: a & b,
    'amoor': lambda a, b, w: a | b,
    'amomin': lambda a, b, w: a if sgn(a, w) < sgn(b, w) else b,
    'amomax': lambda a, b, w: a if sgn(a, w) > sgn(b, w) else b,
    'amominu': lambda a, b, w: a if (a & mk(w)) < (b & mk(w)) else b,
    'amomaxu': lambda a, b, w: a if (a & mk(w)) > (b & mk(w)) else b,
}


def mk(w):
    return (1 << w) - 1


def sgn(x, w):
    x &= mk(w)
    return x - (1 << w) if x >> (w - 1) else x


def gen_amo(fname, lrsc):
    """rv64a.s: every AMO in .w and .d with each ordering suffix, then the lr/sc body."""
    out = [open('src/rv64a.head').read(), HEAD, 'main:', '        la      s0, amo_word']
    n = 0
    pairs = [(0xfffffffffffffff0, 0x0000000000000005), (0x0000000000000005, 0xfffffffffffffff0)]
    for width, sfx in ((32, 'w'), (64, 'd')):
        for op, f in AMO.items():
            for k, order in enumerate(('', '.aq', '.rl', '.aqrl')):
                n += 1
                mem, b = pairs[k // 2]
                sentinel = 0x5a5a5a5a00000000
                if width == 32:
                    init = sentinel | (mem & 0xffffffff)
                    b = (0x1234567800000000 | (b & 0xffffffff))  # upper half ignored
                    new = sentinel | (f(mem, b, 32) & 0xffffffff)
                    old = sx32(mem)
                else:
                    init = mem
                    new = u64(f(mem, b, 64))
                    old = mem
                out += [f'        li      gp, {n}',
                        f'        li      t0, {init:#x}',
                        '        sd      t0, 0(s0)',
                        f'        li      a2, {b:#x}',
                        f'        {op}.{sfx}{order} a3, a2, (s0)',
                        f'        li      t0, {old:#x}',
                        '        bne     a3, t0, fail',
                        '        ld      a4, 0(s0)',
                        f'        li      t0, {new:#x}',
                        '        bne     a4, t0, fail']
    out.append(lrsc.replace('@N', str(n)))
    out.append(TAIL)
    with open(fname, 'w') as fo:
        fo.write('\n'.join(out))
    print(fname, n, 'AMO checks')

if __name__ == '__main__':
    import os
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    HEAD = open('common/head.s.in').read()
    TAIL = open('common/tail.s.in').read()
    gen_amo('rv64a.s', open('src/rv64a.lrsc').read())
    for body in sorted(os.listdir('src')):
        if not body.endswith('.s.in'):
            continue
        text = open(os.path.join('src', body)).read().splitlines(keepends=True)
        body = body[:-3]
        k = 0
        while k < len(text) and text[k].startswith('#'):
            k += 1
        with open(body, 'w') as f:
            f.write(''.join(text[:k])
                    + f'# (generated by gen_tests.py from src/{body}.in: edit that file)\n'
                    + HEAD + ''.join(text[k:]) + TAIL)
        print(body)
    emit('rv64i_alu.s',
         '# rv64i_alu.s (generated by gen_tests.py): every RV64I register-register and\n'
         '# register-immediate ALU instruction, 32-bit encodings only (norvc), including the\n'
         '# W forms, shift amounts masked to 6/5 bits, and writes to x0 being discarded.\n'
         '        .option norvc',
         [(RR, RR_CASES, 'rr'), (IMM, IMM_CASES, 'imm')],
         extra='''        # writes to x0 are discarded
        li      gp, @N
        li      a1, 5
        add     x0, a1, a1
        addi    x0, a1, 1
        lui     x0, 1
        bnez    x0, fail''')
    emit('rv64m.s',
         '# rv64m.s (generated by gen_tests.py): every RV64M instruction (mul, mulh, mulhsu,\n'
         '# mulhu, div, divu, rem, remu, mulw, divw, divuw, remw, remuw), including division by\n'
         '# zero, signed overflow (MIN / -1) and W forms ignoring the upper 32 bits of operands.\n'
         '        .option norvc',
         [(MUL, MUL_CASES, 'rr')],
         extra='''        # rd = rs1 = rs2 and rd = x0
        li      gp, @N
        li      a1, 12
        mul     a1, a1, a1
        li      t0, 144
        bne     a1, t0, fail
        div     x0, a1, a1
        bnez    x0, fail''')
