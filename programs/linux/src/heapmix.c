/* heapmix.c: an allocation-heavy program for the heap lab (docs/heap.md). It runs the
   same workload under any allocator (os.malloc) and prints only what every correct
   allocator must give: checksums of the data, never addresses.

   Phase 1: 20000 operations (or argv[1]) on up to 600 live blocks of random sizes (mostly small, some
   large), freeing at random, which fragments the heap; every block is filled with a
   pattern and checked before it is freed.
   Phase 2: realloc growing and shrinking blocks (the bytes must survive), calloc (zeros),
   posix_memalign, aligned_alloc and memalign (alignments up to 4096), malloc_usable_size.
   Phase 3: a request no heap can hold returns NULL with errno ENOMEM, and free(NULL) is
   nothing. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed % n;
}

struct blk {
    unsigned char *p;
    size_t n;
    unsigned char tag;
};

#define SLOTS 600
static struct blk live[SLOTS];

static void fill(struct blk *b) {
    for (size_t i = 0; i < b->n; i++) b->p[i] = (unsigned char)(b->tag + i * 7);
}

static int check(const struct blk *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b->p[i] != (unsigned char)(b->tag + i * 7)) return 0;
    return 1;
}

static size_t pick_size(void) {
    switch (rnd(10)) {
    case 0: return 1 + rnd(8);
    case 1: case 2: case 3: case 4: return 8 + rnd(120);
    case 5: case 6: return 128 + rnd(900);
    case 7: case 8: return 1024 + rnd(6000);
    default: return 8192 + rnd(40000);
    }
}

int main(int argc, char **argv) {
    int ops = argc > 1 ? atoi(argv[1]) : 20000;
    uint64_t sum = 0;
    unsigned long bad = 0, allocs = 0, frees = 0;
    for (int op = 0; op < ops; op++) {
        struct blk *b = &live[rnd(SLOTS)];
        if (b->p) {
            if (!check(b, b->n)) bad++;
            sum += b->n * 31 + b->p[b->n / 2];
            free(b->p);
            b->p = NULL;
            frees++;
        } else {
            b->n = pick_size();
            b->p = malloc(b->n);
            if (!b->p) { printf("malloc(%zu) failed\n", b->n); return 1; }
            b->tag = (unsigned char)rnd(256);
            fill(b);
            allocs++;
        }
    }
    printf("phase 1: %lu allocations, %lu frees, %lu corrupted, checksum %llu\n", allocs, frees,
           bad, (unsigned long long)sum);

    /* Phase 2. */
    unsigned long ok = 0, checks = 0;
    for (int i = 0; i < SLOTS; i += 3) {
        struct blk *b = &live[i];
        if (!b->p) continue;
        size_t keep = b->n;
        size_t to = rnd(2) ? b->n * 3 + rnd(100) : b->n / 2 + 1;
        unsigned char *q = realloc(b->p, to);
        if (!q) { printf("realloc failed\n"); return 1; }
        b->p = q;
        checks++;
        ok += check(b, keep < to ? keep : to);
        b->n = to;
        fill(b);
    }
    for (int i = 0; i < 200; i++) {
        size_t n = 1 + rnd(50), sz = 1 + rnd(300);
        unsigned char *z = calloc(n, sz);
        if (!z) { printf("calloc failed\n"); return 1; }
        size_t nz = 0;
        for (size_t k = 0; k < n * sz; k++) nz += z[k] != 0;
        checks++;
        ok += nz == 0;
        memset(z, 0xa5, n * sz);
        free(z);
    }
    for (int i = 0; i < 300; i++) {
        size_t align = (size_t)16 << rnd(9), n = 1 + rnd(3000);
        void *p = NULL;
        int r = 0;
        switch (i % 3) {
        case 0: r = posix_memalign(&p, align, n); break;
        case 1: p = aligned_alloc(align, (n + align - 1) / align * align); break;
        default: p = memalign(align, n); break;
        }
        if (r != 0 || !p) { printf("aligned allocation failed\n"); return 1; }
        checks++;
        ok += ((uintptr_t)p % align) == 0 && malloc_usable_size(p) >= n;
        memset(p, 0x5a, n);
        free(p);
    }
    for (int i = 0; i < SLOTS; i++) {
        struct blk *b = &live[i];
        if (!b->p) continue;
        checks++;
        ok += check(b, b->n) && malloc_usable_size(b->p) >= b->n;
        free(b->p);
        b->p = NULL;
    }
    printf("phase 2: %lu of %lu checks passed\n", ok, checks);

    /* Phase 3. */
    errno = 0;
    void *huge = malloc((size_t)1 << 40);
    printf("phase 3: malloc(1 TiB) %s, errno %s\n", huge ? "succeeded" : "returned NULL",
           errno == ENOMEM ? "ENOMEM" : "not ENOMEM");
    free(NULL);
    free(huge);
    printf("heapmix ok\n");
    return 0;
}
