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

# ---------------------------------------------------------------- F and D
# Each case: (mnemonic, rm or None for dyn, frm for dyn, operands, result, fflags).
# Operands and results are raw bits (single values are NaN-boxed when put into f
# registers, and f results are compared boxed); mnemonics whose result is an integer
# register compare it sign-extended as the hart writes it. The expected values are
# IEEE 754 and RISC-V facts (docs/fp.md), checked on Spike.
NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1
S1, S2, S3, SH = 0x3f800000, 0x40000000, 0x40400000, 0x3f000000
SNZ, SINF, SNINF, SQNAN, SSNAN = 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001
SMAX, SMINN, SBELOW1 = 0x7f7fffff, 0x00800000, 0x3f7fffff
D1, DQNAN, DSNAN, DMINN, DBELOW1 = 0x3ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001, 0x0010000000000000, 0x3fefffffffffffff
DMAX = 0x7fefffffffffffff
M64 = (1 << 64) - 1
FP_CASES = [
    ('fadd.s', 'rne', 0, [S1, S2], S3, 0),
    ('fadd.s', 'rne', 0, [S1, 0x33800000], S1, NX),
    ('fadd.s', 'rup', 0, [S1, 0x33800000], 0x3f800001, NX),
    ('fadd.s', 'rmm', 0, [S1, 0x33800000], 0x3f800001, NX),
    ('fadd.s', 'rtz', 0, [S1, 0x33800000], S1, NX),
    ('fadd.s', None, 3, [S1, 0x33800000], 0x3f800001, NX),  # dyn = rup
    ('fadd.s', None, 1, [S1, 0x33800000], S1, NX),          # dyn = rtz
    ('fadd.s', 'rne', 0, [SMAX, SMAX], SINF, OF | NX),
    ('fadd.s', 'rtz', 0, [SMAX, SMAX], SMAX, OF | NX),
    ('fadd.s', 'rdn', 0, [SMAX, SMAX], SMAX, OF | NX),
    ('fadd.s', 'rtz', 0, [SMAX, 0x73000000], SMAX, NX),
    ('fmul.s', 'rdn', 0, [SMAX | SNZ, S2], SNINF, OF | NX),
    ('fsub.s', 'rne', 0, [SINF, SINF], SQNAN, NV),
    ('fmul.s', 'rne', 0, [SINF, 0], SQNAN, NV),
    ('fdiv.s', 'rne', 0, [0, 0], SQNAN, NV),
    ('fadd.s', 'rne', 0, [SSNAN, S1], SQNAN, NV),
    ('fadd.s', 'rne', 0, [S1, 0xffc01234], SQNAN, 0),
    ('fdiv.s', 'rne', 0, [S1, 0], SINF, DZ),
    ('fdiv.s', 'rne', 0, [S1, SNZ], SNINF, DZ),
    ('fsub.s', 'rne', 0, [S1, S1], 0, 0),
    ('fsub.s', 'rdn', 0, [S1, S1], SNZ, 0),
    ('fmul.s', 'rne', 0, [SMINN, SBELOW1], SMINN, UF | NX),
    ('fmul.s', 'rup', 0, [SMINN, SBELOW1], SMINN, UF | NX),
    ('fmul.s', 'rtz', 0, [SMINN, SBELOW1], 0x007fffff, UF | NX),
    ('fmul.s', 'rne', 0, [SMINN, 0x3f7ffffe], 0x007fffff, 0),
    ('fmul.s', 'rne', 0, [0x00800001, SBELOW1], SMINN, NX),
    ('fmul.s', 'rne', 0, [1, SH], 0, UF | NX),
    ('fmul.s', 'rup', 0, [1, SH], 1, UF | NX),
    ('fadd.d', 'rne', 0, [D1, D1], 0x4000000000000000, 0),
    ('fmul.d', 'rne', 0, [DMINN, DBELOW1], DMINN, UF | NX),
    ('fmul.d', 'rtz', 0, [DMINN, DBELOW1], 0x000fffffffffffff, UF | NX),
    ('fadd.d', 'rne', 0, [DSNAN, D1], DQNAN, NV),
    ('fdiv.d', 'rne', 0, [D1, 0], 0x7ff0000000000000, DZ),
    ('fadd.d', 'rtz', 0, [DMAX, DMAX], DMAX, OF | NX),
    ('fmadd.s', 'rne', 0, [0x3f800001, 0x3f800001, 0xbf800002], 0x28800000, 0),
    ('fmsub.s', 'rne', 0, [0x3f800001, 0x3f800001, 0x3f800002], 0x28800000, 0),
    ('fnmadd.s', 'rne', 0, [0x3f800001, 0x3f800001, 0xbf800002], 0xa8800000, 0),
    ('fnmsub.s', 'rne', 0, [0x3f800001, 0x3f800001, 0x3f800002], 0xa8800000, 0),
    ('fmadd.s', 'rne', 0, [0, SINF, SQNAN], SQNAN, NV),
    ('fmadd.s', 'rne', 0, [S1, S1, SSNAN], SQNAN, NV),
    ('fmadd.s', 'rne', 0, [S1, S1, SQNAN], SQNAN, 0),
    ('fmadd.s', 'rdn', 0, [S1, S1, S1 | SNZ], SNZ, 0),
    ('fnmadd.s', 'rne', 0, [0, S1, 0], SNZ, 0),
    ('fmadd.s', 'rne', 0, [SMAX, S2, 0], SINF, OF | NX),
    ('fmadd.d', 'rne', 0, [0, 0x7ff0000000000000, DQNAN], DQNAN, NV),
    ('fsqrt.s', 'rne', 0, [0x40800000], S2, 0),
    ('fsqrt.s', 'rne', 0, [S2], 0x3fb504f3, NX),
    ('fsqrt.s', 'rup', 0, [S2], 0x3fb504f4, NX),
    ('fsqrt.s', 'rne', 0, [S1 | SNZ], SQNAN, NV),
    ('fsqrt.s', 'rne', 0, [SNZ], SNZ, 0),
    ('fsqrt.s', 'rne', 0, [SSNAN], SQNAN, NV),
    ('fsqrt.s', 'rne', 0, [1], 0x1a3504f3, NX),
    ('fsqrt.d', 'rne', 0, [0x4000000000000000], 0x3ff6a09e667f3bcd, NX),
    ('fsqrt.d', 'rtz', 0, [0x4000000000000000], 0x3ff6a09e667f3bcc, NX),
    ('fsqrt.d', 'rne', 0, [1], 0x1e60000000000000, 0),
    ('fcvt.w.s', 'rne', 0, [0x40200000], 2, NX),
    ('fcvt.w.s', 'rmm', 0, [0x40200000], 3, NX),
    ('fcvt.w.s', 'rdn', 0, [0xc0200000], -3, NX),
    ('fcvt.w.s', 'rtz', 0, [0xc0200000], -2, NX),
    ('fcvt.w.s', 'rne', 0, [SQNAN], 0x7fffffff, NV),
    ('fcvt.w.s', 'rne', 0, [SNINF], -(1 << 31), NV),
    ('fcvt.w.s', 'rne', 0, [0x4f32d05e], 0x7fffffff, NV),
    ('fcvt.wu.s', 'rne', 0, [0xbf800000], 0, NV),
    ('fcvt.wu.s', 'rtz', 0, [0xbf000000], 0, NX),
    ('fcvt.wu.s', 'rne', 0, [0x4f6e6b28], 0xffffffffee6b2800, 0),
    ('fcvt.wu.s', 'rne', 0, [SQNAN], M64, NV),
    ('fcvt.l.s', 'rne', 0, [SSNAN], (1 << 63) - 1, NV),
    ('fcvt.lu.s', 'rne', 0, [0x5f800000], M64, NV),
    ('fcvt.l.d', 'rne', 0, [0x43e0000000000000], (1 << 63) - 1, NV),
    ('fcvt.l.d', 'rne', 0, [0xc3e0000000000000], 1 << 63, 0),
    ('fcvt.w.d', 'rtz', 0, [0xc1e0000000100000], -(1 << 31), NX),
    ('fcvt.w.d', 'rdn', 0, [0xc1e0000000100000], -(1 << 31), NV),
    ('fcvt.wu.d', 'rne', 0, [0x41efffffffe00000], M64, 0),
    ('fcvt.lu.d', 'rne', 0, [0xfff0000000000000], 0, NV),
    ('fcvt.l.d', 'rmm', 0, [0x3fe0000000000000], 1, NX),
    ('fcvt.l.d', None, 0, [0x3fe0000000000000], 0, NX),
    ('fcvt.s.w', 'rne', 0, [16777217], 0x4b800000, NX),
    ('fcvt.s.w', 'rup', 0, [16777217], 0x4b800001, NX),
    ('fcvt.s.lu', 'rne', 0, [M64], 0x5f800000, NX),
    ('fcvt.s.l', 'rne', 0, [M64], 0xbf800000, 0),
    ('fcvt.s.wu', 'rne', 0, [M64], 0x4f800000, NX),
    ('fcvt.d.l', 'rne', 0, [M64], 0xbff0000000000000, 0),
    ('fcvt.d.w', None, 0, [0x80000000], 0xc1e0000000000000, 0),
    ('fcvt.d.lu', 'rtz', 0, [M64], 0x43efffffffffffff, NX),
    ('fcvt.s.d', 'rne', 0, [0x4a511b0ec57e649a], SINF, OF | NX),
    ('fcvt.s.d', 'rtz', 0, [0x4a511b0ec57e649a], SMAX, OF | NX),
    ('fcvt.s.d', 'rne', 0, [DSNAN], SQNAN, NV),
    ('fcvt.s.d', 'rup', 0, [0x3ff0000010000000], 0x3f800001, NX),
    ('fcvt.s.d', 'rne', 0, [0x380fffffe0000000], SMINN, UF | NX),
    ('fcvt.s.d', 'rne', 0, [0x380ffffff0000000], SMINN, NX),
    ('fcvt.s.d', 'rne', 0, [0x3690000000000000], 0, UF | NX),
    ('fcvt.d.s', None, 0, [SSNAN], DQNAN, NV),
    ('fcvt.d.s', None, 0, [1], 0x36a0000000000000, 0),
    ('fmin.s', None, 0, [SNZ, 0], SNZ, 0),
    ('fmin.s', None, 0, [0, SNZ], SNZ, 0),
    ('fmax.s', None, 0, [SNZ, 0], 0, 0),
    ('fmin.s', None, 0, [SQNAN, S1], S1, 0),
    ('fmin.s', None, 0, [SSNAN, S1], S1, NV),
    ('fmax.s', None, 0, [SQNAN, SSNAN], SQNAN, NV),
    ('fmin.s', None, 0, [0xffc00001, 0x7fc00003], SQNAN, 0),
    ('fmax.d', None, 0, [DSNAN, D1], D1, NV),
    ('feq.s', None, 0, [SQNAN, S1], 0, 0),
    ('feq.s', None, 0, [SSNAN, S1], 0, NV),
    ('flt.s', None, 0, [SQNAN, S1], 0, NV),
    ('fle.s', None, 0, [S1, SQNAN], 0, NV),
    ('feq.s', None, 0, [SNZ, 0], 1, 0),
    ('flt.s', None, 0, [SNZ, 0], 0, 0),
    ('fle.d', None, 0, [D1 | (1 << 63), D1], 1, 0),
    ('fclass.s', None, 0, [SNINF], 1 << 0, 0),
    ('fclass.s', None, 0, [0x80000001], 1 << 2, 0),
    ('fclass.s', None, 0, [SNZ], 1 << 3, 0),
    ('fclass.s', None, 0, [S1], 1 << 6, 0),
    ('fclass.s', None, 0, [SSNAN], 1 << 8, 0),
    ('fclass.s', None, 0, [SQNAN], 1 << 9, 0),
    ('fclass.d', None, 0, [0x8000000000000001], 1 << 2, 0),
    ('fsgnjn.s', None, 0, [S1, S1], S1 | SNZ, 0),
    ('fsgnjx.s', None, 0, [S1 | SNZ, SNZ], S1, 0),
    ('fsgnj.d', None, 0, [D1, 1 << 63], D1 | (1 << 63), 0),
    ('fmv.x.w', None, 0, [0x80000001], 0xffffffff80000001, 0),
    ('fmv.w.x', None, 0, [0x123456783f800000], S1, 0),
]


def fp_kind(op):
    """(sources: 'f' or 'x', destination, single precision?)"""
    single = op.endswith('.s') or op.split('.')[1:2] == ['s'] or op in ('fmv.x.w', 'fmv.w.x')
    if op.startswith(('feq', 'flt', 'fle', 'fclass', 'fmv.x')) or (
            op.startswith('fcvt') and op.split('.')[1] in ('w', 'wu', 'l', 'lu')):
        return 'f', 'x', single
    if op.startswith('fmv.w') or (op.startswith('fcvt') and op.split('.')[2] in ('w', 'wu', 'l', 'lu')):
        return 'x', 'f', op.split('.')[1] == 's' or op == 'fmv.w.x'
    if op in ('fcvt.s.d',):
        return 'f', 'f', False
    if op in ('fcvt.d.s',):
        return 'f', 'f', True
    return 'f', 'f', single


def gen_fp(fname):
    out = ['# fp_arith.s (generated by gen_tests.py): F and D arithmetic, result bits and fflags\n'
           '# for every rounding mode (static and dynamic): rounding ties, overflow to infinity or\n'
           '# the largest finite value, tininess after rounding, invalid operations and the\n'
           '# canonical NaN, signalling NaNs, division by zero, fused multiply-add rounded once\n'
           '# (0 x inf + qNaN is invalid), square root, every conversion edge (saturation, NaN,\n'
           '# sign-extended 32-bit results), fmin/fmax (-0 < +0, one NaN), feq/flt/fle NaN rules,\n'
           '# fclass, sign injection, fmv. Single results are checked NaN-boxed.',
           HEAD, 'main:',
           '        li      t0, 0x2000            # mstatus.FS = Initial',
           '        csrs    mstatus, t0']
    assert len(FP_CASES) < 127
    for n, (op, rm, frm, srcs, want, fl) in enumerate(FP_CASES, 1):
        src, dst, single = fp_kind(op)
        out.append(f'        li      gp, {n}')
        regs = []
        for k, v in enumerate(srcs):
            if src == 'f':
                box = (0xffffffff00000000 | v) if (single and op != 'fmv.x.w') else v
                if op == 'fcvt.s.d':
                    box = v
                out.append(f'        li      t0, {box:#x}')
                out.append(f'        fmv.d.x ft{k + 1}, t0')
                regs.append(f'ft{k + 1}')
            else:
                out.append(f'        li      a{k + 1}, {v & M64:#x}')
                regs.append(f'a{k + 1}')
        out.append('        fsflags zero')
        out.append(f'        fsrmi   {frm}')
        d = 'fa4' if dst == 'f' else 'a3'
        args = ', '.join([d] + regs + ([rm] if rm else []))
        out.append(f'        {op:<8} {args}')
        w = want & M64
        if dst == 'f':
            dst_single = (single and op != 'fcvt.d.s') or op == 'fcvt.s.d'
            if dst_single:
                w |= 0xffffffff00000000
            out.append('        fmv.x.d a3, fa4')
        out.append(f'        li      t0, {w:#x}')
        out.append('        bne     a3, t0, fail')
        out.append('        frflags a4')
        out.append(f'        li      t0, {fl}')
        out.append('        bne     a4, t0, fail')
    out.append('        j       pass')
    out.append(TAIL)
    with open(fname, 'w') as f:
        f.write('\n'.join(out))
    print(fname, len(FP_CASES), 'checks')


if __name__ == '__main__':
    import os
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    HEAD = open('common/head.s.in').read()
    TAIL = open('common/tail.s.in').read()
    gen_amo('rv64a.s', open('src/rv64a.lrsc').read())
    gen_fp('fp_arith.s')
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
