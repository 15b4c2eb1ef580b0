/* mc_use_after_free.c (memory checker): a freed block is read and then written.
   Nothing is allocated between the free and the uses, so the freed bytes are still the
   block's. The uses touch ints 5 and 6 (bytes 20..27): glibc's free keeps its tcache
   link and key in the first 16 bytes of the freed block and leaves the rest alone, so
   the value read is the one written before the free (55), under qemu and vmlab alike,
   and the stray write harms no allocator data.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid read of size 4   (the read line: 20 bytes inside a block of size 32 free'd)
     Invalid write of size 4  (the write line: 24 bytes inside a block of size 32 free'd)
     no leaks. Exit status 0. */
#include <stdio.h>
#include <stdlib.h>

#pragma GCC diagnostic ignored "-Wuse-after-free" /* deliberate */

int main(void) {
    printf("use after free\n"); /* stdout's buffer is allocated here, before the block */
    int *p = malloc(8 * sizeof(int));
    if (!p) return 1;
    for (int i = 0; i < 8; i++) p[i] = i * 11;
    printf("p[5] before free = %d\n", p[5]);
    free(p);
    int v = p[5]; /* ERROR: invalid read of size 4 (freed block) */
    p[6] = 99;    /* ERROR: invalid write of size 4 (freed block) */
    printf("p[5] after free = %d\n", v);
    return 0;
}
