#!/usr/bin/env python3
"""Computes the expected results (WANT) of the benchmarks independently of the C code,
for both sizes. Run: python3 expected.py (prints the values written into the .c files)."""
import zlib

M64 = (1 << 64) - 1


def xorshift(s):
    s ^= (s << 13) & M64
    s ^= s >> 7
    s ^= (s << 17) & M64
    return s


def matmul(n):
    A = [[(i * 7 + j * 3) % 17 - 8 for j in range(n)] for i in range(n)]
    B = [[(i * 5 + j * 11) % 13 - 6 for j in range(n)] for i in range(n)]
    Bt = list(zip(*B))
    h = 0
    for i in range(n):
        for j in range(n):
            t = sum(a * b for a, b in zip(A[i], Bt[j]))
            h = (h * 31 + (t & 0xffffffff)) & M64
    return h


def crc(length, passes):
    s = 0x243f6a8885a308d3
    buf = bytearray(length)
    for i in range(length):
        s = xorshift(s)
        buf[i] = s >> 56
    c = 0
    for _ in range(passes):
        c = zlib.crc32(buf, c)
    return c


def ptrchase(n, steps):
    s = 0x13198a2e03707344
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        s = xorshift(s)
        j = s % i
        perm[i], perm[j] = perm[j], perm[i]
    p = 0
    total = 0
    for _ in range(steps):
        p = perm[p]
        total = ((total ^ p) * 1099511628211) & M64
    return total & M64


def sieve(n):
    f = bytearray([1]) * n
    f[0] = f[1] = 0
    i = 2
    while i * i < n:
        if f[i]:
            f[i * i::i] = bytes(len(range(i * i, n, i)))
        i += 1
    count = 0
    total = 0
    for i in range(n):
        if f[i]:
            count += 1
            total += i
    return ((count << 48) ^ total) & M64


if __name__ == '__main__':
    print('matmul   small %#018x  full %#018x' % (matmul(30), matmul(200)))
    print('crc      small %#018x  full %#018x' % (crc(8192, 1), crc(1 << 20, 6)))
    print('ptrchase small %#018x  full %#018x' % (ptrchase(4096, 8192), ptrchase(1 << 19, 1 << 22)))
    print('sieve    small %#018x  full %#018x' % (sieve(20000), sieve(4000000)))
