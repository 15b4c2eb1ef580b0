/* crcsieve.c: computations with known answers. CRC-32 (IEEE, reflected, table-driven
   and bitwise) of "123456789" is 0xCBF43926; the bitwise and table versions agree on 4 KiB
   of data; the sieve of Eratosthenes finds 1229 primes below 10000 and 9592 below 100000;
   a 24x24 integer matrix product satisfies (A*B)*v == A*(B*v); 64-bit division and
   remainder agree with multiplication. Exit code 0 = pass, 1..8 = the failing check. */
#include "htif.h"

static uint32_t table[256];
static unsigned char sieve[100000];
static unsigned char data[4096];

static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static uint32_t crc_table(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--)
        c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static int count_primes(int n)
{
    memset(sieve, 1, n);
    sieve[0] = sieve[1] = 0;
    for (int i = 2; (long)i * i < n; i++)
        if (sieve[i])
            for (int j = i * i; j < n; j += i)
                sieve[j] = 0;
    int count = 0;
    for (int i = 0; i < n; i++)
        count += sieve[i];
    return count;
}

#define M 24
static int64_t A[M][M], B[M][M], AB[M][M];

int main(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & -(c & 1));
        table[i] = c;
    }
    const char *s = "123456789";
    if (crc_bitwise((const unsigned char *)s, 9) != 0xcbf43926u)
        return 1;
    if (crc_table((const unsigned char *)s, 9) != 0xcbf43926u)
        return 2;
    for (int i = 0; i < 4096; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 5));
    uint32_t c1 = crc_bitwise(data, sizeof data), c2 = crc_table(data, sizeof data);
    if (c1 != c2)
        return 3;
    int p1 = count_primes(10000), p2 = count_primes(100000);
    if (p1 != 1229)
        return 4;
    if (p2 != 9592)
        return 5;

    int64_t v[M], Bv[M], ABv1[M], ABv2[M];
    for (int i = 0; i < M; i++) {
        v[i] = i - 7;
        for (int j = 0; j < M; j++) {
            A[i][j] = (i * 31 + j * 17) % 23 - 11;
            B[i][j] = (i * 13 + j * 29) % 19 - 9;
        }
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int64_t t = 0;
            for (int k = 0; k < M; k++)
                t += A[i][k] * B[k][j];
            AB[i][j] = t;
        }
    for (int i = 0; i < M; i++) {
        Bv[i] = 0;
        for (int k = 0; k < M; k++)
            Bv[i] += B[i][k] * v[k];
    }
    for (int i = 0; i < M; i++) {
        ABv1[i] = ABv2[i] = 0;
        for (int k = 0; k < M; k++) {
            ABv1[i] += AB[i][k] * v[k];
            ABv2[i] += A[i][k] * Bv[k];
        }
        if (ABv1[i] != ABv2[i])
            return 6;
    }
    volatile int64_t num = -1234567890123LL, den = 9876;
    int64_t q = num / den, r = num % den;
    if (q * den + r != num)
        return 7;
    volatile uint64_t un = 0xfedcba9876543210ULL, ud = 0x12345;
    if ((un / ud) * ud + un % ud != un)
        return 8;
    printf("crcsieve: crc(4 KiB) = 0x%08x, primes < 1e4: %d, < 1e5: %d, AB*v[0] = %ld: ok\n",
           c1, p1, p2, ABv1[0]);
    return 0;
}
