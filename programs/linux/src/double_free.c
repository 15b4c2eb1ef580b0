/* double_free.c: frees one block twice. glibc's malloc notices ("free(): double free
   detected in tcache 2") and aborts: status 134 (SIGABRT). Under os.malloc every vmlab
   allocator notices too, from the block's header, and the kernel ends the process with
   SIGABRT the same way (docs/heap.md). */
#include <stdio.h>
#include <stdlib.h>

/* Through a volatile pointer, so that the compiler keeps every call (GCC drops a malloc
   and free whose block is never used). */
static void (*volatile release)(void *) = free;

int main(void) {
    char *p = malloc(40);
    char *q = malloc(40);
    if (!p || !q) return 1;
    p[0] = 'p';
    q[0] = 'q';
    printf("allocated two blocks: %c %c\n", p[0], q[0]);
    fflush(stdout);
    release(p);
    release(q);
    release(p);
    printf("not reached\n");
    return 0;
}
