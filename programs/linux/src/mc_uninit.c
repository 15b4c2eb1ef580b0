/* mc_uninit.c (memory checker): values read from a fresh malloc'd block that nothing
   wrote, used three ways that memcheck reports, and copied once in a way it must not:
   (a) a conditional branch on an uninitialised int;
   (b) an uninitialised int used as an array index (an address formed from it);
   (c) write(2) of an 8-byte buffer whose last 4 bytes were never set (to /dev/null, so
       that stdout stays clean);
   (d) a copy of an uninitialised int that decides nothing: no report.
   A fresh brk heap is zeros in practice (nothing freed, so every block is new memory),
   so each value is 0 and the output is the same under qemu and vmlab.
   Built -g -O0; the reads are through a volatile pointer, so none is dropped.
   Expected report (Valgrind 3.19 memcheck, this source built natively):
     Conditional jump or move depends on uninitialised value(s)  (the branch line)
     Use of uninitialised value of size 8                        (the index line)
     Syscall param write(buf) points to uninitialised byte(s)    (the write line: 4 bytes
                               inside a block of size 8 alloc'd)
   and nothing for the copy; no leaks. Exit status 0. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized" /* deliberate */

int table[8] = {100, 101, 102, 103, 104, 105, 106, 107};
volatile int sink;

int main(void) {
    printf("uninitialised values\n"); /* stdout's buffer first: the blocks below are fresh */
    volatile int *b = malloc(4 * sizeof(int)); /* never written */
    char *buf = malloc(8);
    if (!b || !buf) return 1;

    const char *sign = "zero or negative";
    if (b[0] > 0) /* ERROR: conditional jump depends on an uninitialised value */
        sign = "positive";
    printf("(a) b[0] is %s\n", sign);

    int idx = b[1] & 7;
    int v = table[idx]; /* ERROR: use of an uninitialised value of size 8 (address) */
    printf("(b) table[b[1] & 7] = %d\n", v);

    memcpy(buf, "abcd", 4); /* bytes 4..7 stay uninitialised */
    int fd = open("/dev/null", O_WRONLY);
    ssize_t w = write(fd, buf, 8); /* ERROR: write(buf) points to uninitialised bytes */
    printf("(c) wrote %zd bytes to /dev/null\n", w);
    if (fd >= 0) close(fd);

    sink = b[2]; /* NOT an error: a copy of an uninitialised value, never used to decide anything */
    printf("(d) copied b[2]\n");

    free(buf);
    free((void *)b);
    return 0;
}
