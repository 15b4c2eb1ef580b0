/* ptrchase.c: memory-bound benchmark. A random single-cycle permutation (Sattolo's
   algorithm) of N cells of one pointer each is followed STEPS times; every step is a
   dependent load to a random page. N = 512 Ki cells (4 MiB, 1024 pages) and 4 Mi steps
   (about 44 M instructions); N = 4 Ki, 8 Ki steps with -DSMALL. */
#include "bench.h"

#ifdef SMALL
#define N 4096
#define STEPS 8192
#define WANT 0x398d7c8a5c81b500ULL
#else
#define N (1 << 19)
#define STEPS (1 << 22)
#define WANT 0x52085cbe5d6891a0ULL
#endif

static void *cell[N];
static uint32_t perm[N];

int main(void)
{
    uint64_t i0 = rdinstret(), c0 = rdcycle();
    uint64_t s = 0x13198a2e03707344ULL;
    for (uint32_t i = 0; i < N; i++)
        perm[i] = i;
    for (uint32_t i = N - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(xorshift64(&s) % i);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (uint32_t i = 0; i < N; i++)
        cell[i] = &cell[perm[i]];
    void **p = &cell[0];
    uint64_t h = 0; /* FNV-style hash of the visiting order */
    for (long k = 0; k < STEPS; k++) {
        p = (void **)*p;
        h = (h ^ (uint64_t)(p - (void **)cell)) * 1099511628211ULL;
    }
    return bench_report("ptrchase", h, WANT, i0, c0);
}
