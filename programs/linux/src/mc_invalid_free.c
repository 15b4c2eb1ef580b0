/* mc_invalid_free.c (memory checker): three frees of pointers that malloc never gave:
   one into the middle of a heap block (p + 4), the address of a global array, and
   the address of a local (stack) variable.
   glibc catches the first ("free(): invalid pointer": p + 4 is not 16-aligned) and
   aborts: status 134 under qemu, after the flushed lines.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively;
   Valgrind does not abort, so it reports all three):
     Invalid free() / delete / delete[] / realloc()  (p + 4: 4 bytes inside a block of
                               size 32 alloc'd)
     Invalid free() / delete / delete[] / realloc()  (the global: inside data symbol
                               "global_arr")
     Invalid free() / delete / delete[] / realloc()  (the local: on thread 1's stack)
   and natively under it the program goes on, frees p and exits 0 with no leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char global_arr[32] = "a global array";

/* Through a volatile pointer, so that the compiler neither warns about nor drops the
   frees of things that are not heap blocks. */
static void (*volatile release)(void *) = free;

int main(void) {
    char local[16] = "a local";
    char *p = malloc(32);
    if (!p) return 1;
    strcpy(p, "heap block");
    printf("%s, %s, %s\n", p, global_arr, local);
    fflush(stdout);
    release(p + 4);      /* ERROR: invalid free (pointer into the middle of a block) */
    printf("freed p + 4?!\n");
    fflush(stdout);
    release(global_arr); /* ERROR: invalid free (address of a global) */
    printf("freed a global?!\n");
    fflush(stdout);
    release(local);      /* ERROR: invalid free (address of a stack variable) */
    printf("freed a local?!\n");
    free(p);
    return 0;
}
