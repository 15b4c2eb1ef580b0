/* stackalloc.c: stack allocation for the heap lab (docs/heap.md). alloca and
   variable-length arrays take their memory from the stack, not the heap: the stack grows
   page by page as they touch it (under demand paging each new page is a fault just below
   the stack, os.proc.N.stack_bytes shows the high-water mark), and it is given back, all
   at once, when the function returns. The heap is never touched. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A VLA of n bytes in each of depth frames. */
static uint64_t vla(int depth, size_t n) {
    unsigned char buf[n];
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(i * 13 + depth);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i += 64) s += buf[i];
    if (depth > 0) s += vla(depth - 1, n);
    return s + buf[n - 1];
}

/* alloca of growing blocks in one frame: all freed together at the return. */
static uint64_t growing(int steps) {
    uint64_t s = 0;
    for (int k = 1; k <= steps; k++) {
        size_t n = (size_t)k * 4096;
        unsigned char *p = alloca(n);
        memset(p, k, n);
        s += p[0] + p[n - 1];
    }
    return s;
}

int main(void) {
    printf("vla: 16 frames of 32 KiB: %llu\n", (unsigned long long)vla(15, 32 * 1024));
    printf("alloca: 40 growing blocks in one frame (820 pages): %llu\n",
           (unsigned long long)growing(40));
    /* The same again: the stack is already that deep, so no new pages are needed. */
    printf("again: %llu\n", (unsigned long long)growing(40));
    return 0;
}
