/* sbss.c: GCC's ordinary small-data layout. Built without vmlab's link script, the data
   segment starts in the middle of a page (just after text's page) and holds .sdata (file
   bytes) and then .sbss and .bss (zeros) on that same page: FileSiz < MemSiz. The kernel
   must read the page's file bytes and keep the zeros after them. Exits 0 when every
   variable holds what C says it must. */
#include "../vmlab.h"

int counter = 5;      /* .sdata */
int zero_var;         /* .sbss, on .sdata's page */
long big[600];        /* .bss, running onto the next pages */

int main(void) {
    if (counter != 5 || zero_var != 0)
        return 1;
    for (int i = 0; i < 600; i++)
        if (big[i] != 0)
            return 2;
    zero_var += counter;
    big[599] = zero_var;
    big[0] = 7;
    return (int)(big[599] + big[0] - 12);
}
