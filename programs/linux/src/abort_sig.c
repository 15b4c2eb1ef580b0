/* abort_sig: calls abort(): killed by SIGABRT, exit status 134 from a shell.
   The line before is flushed first. */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
