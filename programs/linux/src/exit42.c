/* exit42: main returns 42; the exit status must be 42. */
#include <stdio.h>
int main(void) {
    puts("returning 42");
    return 42;
}
