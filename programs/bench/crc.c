/* crc.c: compute-bound benchmark. Table-driven CRC-32 (IEEE, as zlib.crc32) over a
   pseudo-random buffer, PASSES times (the CRC runs on across passes). 1 MiB x 6 (about
   80 M instructions), 8 KiB x 1 with -DSMALL. */
#include "bench.h"

#ifdef SMALL
#define LEN 8192
#define PASSES 1
#define WANT 0x000000003e428a6bULL
#else
#define LEN (1 << 20)
#define PASSES 6
#define WANT 0x0000000008d279d5ULL
#endif

static uint8_t buf[LEN];
static uint32_t table[256];

int main(void)
{
    uint64_t i0 = rdinstret(), c0 = rdcycle();
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & -(c & 1));
        table[i] = c;
    }
    uint64_t s = 0x243f6a8885a308d3ULL;
    for (int i = 0; i < LEN; i++)
        buf[i] = (uint8_t)(xorshift64(&s) >> 56);
    uint32_t crc = 0xffffffffu;
    for (int p = 0; p < PASSES; p++)
        for (int i = 0; i < LEN; i++)
            crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return bench_report("crc", ~crc, WANT, i0, c0);
}
