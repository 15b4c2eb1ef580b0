/* sieve.c: memory-bound benchmark. Sieve of Eratosthenes over a byte array of N flags
   (strided walks: stride i for each prime i), then the count and the sum of the primes.
   N = 4,000,000 (4 MiB, about 58 M instructions); N = 20,000 with -DSMALL. The result is
   count << 48 ^ sum. */
#include "bench.h"

#ifdef SMALL
#define N 20000
#define WANT 0x08d6000001430bf7ULL
#else
#define N 4000000
#define WANT 0x520a007ec6d3bbe5ULL
#endif

static uint8_t flag[N];

int main(void)
{
    uint64_t i0 = rdinstret(), c0 = rdcycle();
    for (long i = 0; i < N; i++)
        flag[i] = 1;
    flag[0] = flag[1] = 0;
    for (long i = 2; i * i < N; i++)
        if (flag[i])
            for (long j = i * i; j < N; j += i)
                flag[j] = 0;
    uint64_t count = 0, sum = 0;
    for (long i = 0; i < N; i++)
        if (flag[i]) {
            count++;
            sum += (uint64_t)i;
        }
    return bench_report("sieve", (count << 48) ^ sum, WANT, i0, c0);
}
