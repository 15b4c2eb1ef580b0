/* printf_int: integer formatting through printf (widths, flags, bases, limits). */
#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>
#include <limits.h>
int main(void) {
    printf("[%d] [%i] [%u]\n", 0, -1, 4000000000u);
    printf("[%5d] [%-5d] [%05d] [%+d] [% d]\n", 42, 42, 42, 42, 42);
    printf("[%x] [%X] [%#x] [%o] [%#o]\n", 48879, 48879, 255, 8, 8);
    printf("[%ld] [%ld]\n", LONG_MAX, LONG_MIN);
    printf("[%lu] [%llx]\n", ULONG_MAX, 0x0123456789abcdefULL);
    printf("[%hd] [%hhu]\n", (short)-12345, (unsigned char)250);
    printf("[%" PRId64 "] [%" PRIu32 "]\n", INT64_C(-9000000000000000000), UINT32_C(123456789));
    printf("[%c%c%c] [%s] [%.3s] [%8s] [%-8s]\n", 'a', 'b', 'c', "str", "abcdef", "right", "left");
    printf("[%p]\n", (void *)0x1000);
    printf("[%%] [%*d] [%-*d]\n", 6, 7, 6, 7);
    long sum = 0;
    for (int i = -1000; i <= 2000; i++) sum += (long)i * i;
    printf("sum of squares -1000..2000 = %ld\n", sum);
    int n = printf("count me\n");
    printf("printf returned %d\n", n);
    return 0;
}
