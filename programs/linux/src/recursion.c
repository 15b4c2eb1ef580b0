/* recursion: non-tail recursion 100000 deep (32 bytes a frame with gcc 12 -O2:
   about 3.2 MB of stack, under 4 MB); Ackermann(2, n) and a recursive fib for a different shape. */
#include <stdio.h>
__attribute__((noinline)) static long depth(long n, volatile long *sink) {
    volatile long local = n * 3;
    if (n == 0) return 0;
    long r = depth(n - 1, sink);
    *sink += local;
    return r + (local & 7) + 1;
}
__attribute__((noinline)) static long ack(long m, long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}
__attribute__((noinline)) static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) {
    volatile long sink = 0;
    long r = depth(100000, &sink);
    printf("depth(100000)=%ld sink=%ld\n", r, (long)sink);
    printf("ack(2,500)=%ld\n", ack(2, 500));
    printf("fib(25)=%ld\n", fib(25));
    return 0;
}
