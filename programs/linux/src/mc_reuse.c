/* mc_reuse.c (memory checker): a use after free that happens after the memory was given
   out again. A block is freed, a block of the same size is allocated (glibc's tcache, and
   most allocators, hand back the very same memory), and the old pointer is written
   through: it scribbles on the new block. Without a quarantine no checker can tell this
   write from a write to the new block; with one (Valgrind's default, vmlab's
   os.memcheck_quarantine) the freed block is held back, the new block is elsewhere, and
   the write is reported as a use after free.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid write of size 4  (the write line: 8 bytes inside a block of size 24 free'd)
     no leaks. Exit status 0. */
#include <stdio.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wuse-after-free" /* deliberate */

int main(void) {
    printf("use after reuse\n"); /* stdout's buffer is allocated here, before the blocks */
    int *old = malloc(6 * sizeof(int));
    if (!old) return 1;
    for (int i = 0; i < 6; i++) old[i] = i;
    free(old);
    int *fresh = malloc(6 * sizeof(int));
    if (!fresh) return 1;
    for (int i = 0; i < 6; i++) fresh[i] = 100 + i;
    old[2] = -1; /* ERROR: invalid write of size 4 (freed block, perhaps reused) */
    printf("same memory: %s\n", old == fresh ? "yes" : "no");
    printf("fresh[2] = %d\n", fresh[2]);
    free(fresh);
    return 0;
}
