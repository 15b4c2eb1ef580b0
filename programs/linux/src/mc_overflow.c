/* mc_overflow.c (memory checker): a heap block overrun, twice.
   1. "Allocate too little": malloc(strlen(src)) leaves no room for the NUL, so
      strcpy writes it one byte past the end of the 13-byte block.
   2. An off-by-one loop (i <= n) reads one int past the end of a 9-int array.
   Neither breaks glibc: both stray bytes land in the slack of their chunk (13 bytes
   are rounded up to 24 usable, 36 to 40), which a fresh brk heap holds as zeros, so
   the extra int read is 0 and the output is the same under qemu and vmlab.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid write of size 1  (in strcpy, from the strcpy line: 0 bytes after a block
                               of size 13 alloc'd)
     Invalid read of size 4   (the sum line: 0 bytes after a block of size 36 alloc'd)
     no leaks: both blocks are freed. Exit status 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not const, so that the compiler cannot fold strlen and strcpy. */
char src[] = "hello, memory";

int main(void) {
    size_t len = strlen(src);
    char *d = malloc(len);
    if (!d) return 1;
    strcpy(d, src); /* ERROR: invalid write of size 1 (the NUL, just past the 13-byte block) */
    printf("copied %zu bytes: %.*s\n", len, (int)len, d);

    int n = 9, i, sum = 0;
    int *a = malloc(n * sizeof(int));
    if (!a) return 1;
    for (i = 0; i < n; i++) a[i] = (i + 1) * 10;
    for (i = 0; i <= n; i++)
        sum += a[i]; /* ERROR: invalid read of size 4 (a[9], just past the 36-byte block) */
    printf("sum of a[0..%d] = %d\n", n, sum);

    free(a);
    free(d);
    printf("done\n");
    return 0;
}
