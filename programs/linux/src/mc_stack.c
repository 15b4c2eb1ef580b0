/* mc_stack.c (memory checker): a function returns the address of its own local
   variable; the caller reads through it after the frame is gone. The read is below the
   stack pointer, in stack memory that no live frame owns. The caller calls nothing in
   between, so the dead frame's bytes are intact and the value read (4242) is the same
   under qemu and vmlab. The local is an array of 64 ints, so that the dead frame lies
   more than 128 bytes below the caller's stack pointer: on x86-64 Valgrind treats the
   128 bytes below it (the ABI's red zone) as addressable and would say nothing.
   gcc replaces a returned address of a local with NULL (and warns); the address goes
   out through a volatile global instead, which it must keep.
   Built -g -O0. Expected report (Valgrind 3.19 memcheck, this source built natively):
     Invalid read of size 4  (the read line: on thread 1's stack, below the stack
                              pointer)
     no leaks. Exit status 0. */
#include <stdio.h>

int *volatile escaped;

__attribute__((noinline)) static int *dangling(int seed) {
    int local[64]; /* big enough to reach beyond x86-64's 128-byte red zone natively */
    for (int i = 0; i < 64; i++) local[i] = seed * 2 + i;
    escaped = &local[0];
    return escaped; /* the frame ends here: the pointer dangles */
}

int main(void) {
    printf("stack pointer escape\n");
    int *p = dangling(2121);
    int v = *p; /* ERROR: invalid read of size 4 (below the stack pointer: a dead frame) */
    printf("read %d through a dangling stack pointer\n", v);
    return 0;
}
