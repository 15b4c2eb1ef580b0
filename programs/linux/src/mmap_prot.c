/* mmap_prot: anonymous mmap of 16 pages, write a pattern, mprotect to read-only,
   read it back, mprotect a middle part PROT_NONE and back, munmap part then all;
   a private file-less MAP_FIXED remap. No fault is taken and no handler installed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", pg);
    size_t len = 16 * pg;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    int zero = 1;
    for (size_t i = 0; i < len; i++) if (p[i]) zero = 0;
    printf("fresh mapping zeroed: %s\n", zero ? "yes" : "no");
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(i * 31 + i / pg);
    if (mprotect(p, len, PROT_READ)) { perror("mprotect"); return 1; }
    unsigned long sum = 0;
    for (size_t i = 0; i < len; i++) sum += p[i] * (i % 7 + 1);
    printf("read-only checksum %lu\n", sum);
    printf("mprotect none: %d\n", mprotect(p + 4 * pg, 2 * pg, PROT_NONE));
    printf("mprotect rw again: %d\n", mprotect(p, len, PROT_READ | PROT_WRITE));
    p[5 * pg] = 0xAB;
    printf("rewritten byte %#x\n", p[5 * pg]);
    printf("munmap middle: %d\n", munmap(p + 8 * pg, 4 * pg));
    void *q = mmap(p + 8 * pg, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the hole: %s, zeroed: %s\n", q == p + 8 * pg ? "same address" : "other address",
           ((unsigned char *)q)[0] == 0 && ((unsigned char *)q)[2 * pg - 1] == 0 ? "yes" : "no");
    printf("munmap all: %d\n", munmap(p, len));
    unsigned char *big = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED) { perror("mmap big"); return 1; }
    for (size_t i = 0; i < (16u << 20); i += 1 << 20) big[i] = 1;  /* touch one page per MB */
    int touched = 0;
    for (size_t i = 0; i < (16u << 20); i += 1 << 20) touched += big[i];
    printf("16 MB mapping, %d pages touched\n", touched);
    munmap(big, 16 << 20);
    return 0;
}
