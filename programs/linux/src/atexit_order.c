/* atexit_order: three atexit handlers run in reverse order of registration after
   main returns; the exit status comes from main (7). stdout is flushed at exit. */
#include <stdio.h>
#include <stdlib.h>
static void first(void) { printf("handler first (registered 1st, runs last)\n"); }
static void second(void) { printf("handler second\n"); }
static void third(void) { printf("handler third (registered 3rd, runs first)\n"); }
int main(void) {
    atexit(first); atexit(second); atexit(third);
    printf("main returns 7\n");
    return 7;
}
