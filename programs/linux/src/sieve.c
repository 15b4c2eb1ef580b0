/* sieve: a long-running loop for speed measurements: sieve of Eratosthenes up to
   2,000,000 (byte array), then a checksum loop over the primes. Tens of millions
   of instructions. */
#include <stdio.h>
#include <string.h>
#define LIMIT 2000000
static unsigned char composite[LIMIT + 1];
int main(void) {
    for (long i = 2; i * i <= LIMIT; i++)
        if (!composite[i])
            for (long j = i * i; j <= LIMIT; j += i) composite[j] = 1;
    long count = 0, last = 0; unsigned long h = 0;
    for (long i = 2; i <= LIMIT; i++)
        if (!composite[i]) { count++; last = i; h = (h ^ (unsigned long)i) * 0x100000001b3UL; }
    printf("primes up to %d: %ld, largest %ld, hash %016lx\n", LIMIT, count, last, h);
    unsigned long x = 1;
    for (int r = 0; r < 4; r++)
        for (long i = 0; i <= LIMIT; i++) x = x * 6364136223846793005UL + composite[i] + (unsigned long)i;
    printf("mix %016lx\n", x);
    return count == 148933 ? 0 : 1;
}
