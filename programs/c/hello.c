/* hello.c: prints through HTIF (printf -> the write syscall block, puts -> the console
   device) and checks its own formatting with snprintf. Exit code: 0 = pass, n = the
   first formatting check that failed. */
#include "htif.h"

static int check(int n, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        printf("check %d: got \"%s\", want \"%s\"\n", n, got, want);
        return n;
    }
    return 0;
}

int main(void)
{
    char b[96];
    int bad = 0;

    puts("Hello from vmlab (console device)");
    printf("Hello from vmlab (write syscall): %d %u 0x%x %s %c\n", -42, 42u, 0xbeefu, "ok", '!');

    snprintf(b, sizeof b, "%d|%i|%u", 0, -2147483647 - 1, 4294967295u);
    bad = bad ? bad : check(1, b, "0|-2147483648|4294967295");
    snprintf(b, sizeof b, "%ld|%lu|%lx", -9223372036854775807L - 1, 18446744073709551615UL,
             0xfedcba9876543210UL);
    bad = bad ? bad : check(2, b, "-9223372036854775808|18446744073709551615|fedcba9876543210");
    snprintf(b, sizeof b, "[%5d][%-5d][%05d][%x][%X][%08lx]", 42, 42, -42, 255u, 255u, 0xabcUL);
    bad = bad ? bad : check(3, b, "[   42][42   ][-0042][ff][FF][00000abc]");
    snprintf(b, sizeof b, "[%s][%6s][%-6s][%c%c][%%]", "abc", "abc", "abc", 'x', 'y');
    bad = bad ? bad : check(4, b, "[abc][   abc][abc   ][xy][%]");
    int n = snprintf(b, 8, "%s", "truncated output");
    bad = bad ? bad : check(5, b, "truncat");
    if (!bad && n != 16)
        bad = 6;
    long r = htif_write("write() returns its length\n", 27);
    if (!bad && r != 27)
        bad = 7;

    printf("%s\n", bad ? "hello: FAIL" : "hello: all checks passed");
    return bad;
}
