/* hello: the smallest libc program: one line through stdio, exit 0. */
#include <stdio.h>
int main(void) {
    printf("hello from vmlab corpus\n");
    return 0;
}
