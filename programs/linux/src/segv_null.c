/* segv_null: writes through a null pointer. No handler: the process is killed by
   SIGSEGV (exit status 139 from a shell). Output written before the crash with
   write(2) and with a flushed printf must appear; the buffered line must not. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    const char msg[] = "before crash (write)\n";
    write(1, msg, sizeof msg - 1);
    printf("before crash (printf, flushed)\n");
    fflush(stdout);
    printf("buffered, never flushed\n");
    volatile int *p = NULL;
    *p = 42;
    printf("after crash?!\n");
    return 0;
}
