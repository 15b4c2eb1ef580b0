/* bench.h: counters and the result report shared by the benchmarks (S-mode, Sv39). */
#ifndef BENCH_H
#define BENCH_H
#include "htif.h"

static inline uint64_t rdinstret(void)
{
    uint64_t x;
    __asm__ volatile("csrr %0, instret" : "=r"(x));
    return x;
}

static inline uint64_t rdcycle(void)
{
    uint64_t x;
    __asm__ volatile("csrr %0, cycle" : "=r"(x));
    return x;
}

/* Prints one line and returns the exit code: 0 if got == want, 1 otherwise. */
static inline int bench_report(const char *name, uint64_t got, uint64_t want, uint64_t i0,
                               uint64_t c0)
{
    uint64_t i1 = rdinstret(), c1 = rdcycle();
    printf("%s: result 0x%lx (%s), instret %lu, cycles %lu\n", name, got,
           got == want ? "ok" : "WRONG", i1 - i0, c1 - c0);
    return got == want ? 0 : 1;
}

static inline uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}
#endif
