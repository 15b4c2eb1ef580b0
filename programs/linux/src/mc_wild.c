/* mc_wild.c (memory checker): a write through a pointer that was never given memory.
   q is computed 4096 bytes past a 16-byte block: inside the heap, but in no block.
   Why it is inside the heap under glibc: the block is the last one allocated (stdout's
   buffer is allocated first, by the first printf), so what follows it is the top chunk,
   the unallocated rest of the brk area; glibc grows that area at least 128 KiB
   (M_TOP_PAD) at a time, so after a 16-byte block and a 4 KiB buffer more than 100 KiB
   of it is left, and q lies well inside it: mapped, writable, and no block's.
   The write harms nothing (glibc keeps only the top chunk's size, at its start) and
   is not read back. Exit status 0.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid write of size 1  (the write line: "inside an unallocated block" of
                               Valgrind's own client arena: its blocks are laid out
                               differently, but there too no block covers it)
     no leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    printf("wild pointer\n"); /* stdout's buffer is allocated here, before p */
    char *p = malloc(16);
    if (!p) return 1;
    strcpy(p, "small block");
    char *q = p + 4096; /* no block covers this address */
    *q = 'W'; /* ERROR: invalid write of size 1 (heap address in no block) */
    printf("p holds \"%s\"; wrote one byte 4096 bytes past it\n", p);
    free(p);
    return 0;
}
