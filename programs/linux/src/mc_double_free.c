/* mc_double_free.c (memory checker): the same block is freed twice.
   glibc notices ("free(): double free detected in tcache 2") and aborts: status 134
   (SIGABRT) under qemu. stdout is flushed before the second free, so the lines
   printed so far are in the output whoever ends the process.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid free() / delete / delete[] / realloc()  (the second free line: 0 bytes
                               inside a block of size 24 free'd by the first)
   Valgrind's own allocator does not abort: natively under it the program goes on and
   exits 0 with no leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wuse-after-free" /* deliberate */

int main(void) {
    char *p = malloc(24);
    if (!p) return 1;
    strcpy(p, "twice");
    printf("block holds \"%s\"\n", p);
    free(p);
    printf("freed once\n");
    fflush(stdout);
    free(p); /* ERROR: invalid free (double free of the same block) */
    printf("freed twice?!\n");
    return 0;
}
