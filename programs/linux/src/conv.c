/* conv: strtod, strtol, strtoul, atoi, snprintf (truncation), sscanf; endptr and errno. */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
int main(void) {
    const char *d[] = {"3.25", "-1e-3xyz", "  6.02e23", "0x1p-2", "inf", "nan", "1e400", "abc"};
    for (int i = 0; i < 8; i++) {
        char *end; errno = 0;
        double v = strtod(d[i], &end);
        printf("strtod(\"%s\")=%g consumed=%ld erange=%d\n", d[i], v, (long)(end - d[i]), errno == ERANGE);
    }
    const char *l[] = {"12345", "-42abc", "0x1F", "0777", "  +9", "99999999999999999999", "zz"};
    int bases[] = {10, 10, 16, 0, 10, 10, 36};
    for (int i = 0; i < 7; i++) {
        char *end; errno = 0;
        long v = strtol(l[i], &end, bases[i]);
        printf("strtol(\"%s\",%d)=%ld consumed=%ld erange=%d\n", l[i], bases[i], v, (long)(end - l[i]), errno == ERANGE);
    }
    printf("strtoul(\"ffffffffffffffff\",16)=%lu\n", strtoul("ffffffffffffffff", NULL, 16));
    printf("strtoll(\"-9223372036854775808\")=%lld\n", strtoll("-9223372036854775808", NULL, 10));
    printf("atoi(\"  -17x\")=%d atol(\"123456789012\")=%ld\n", atoi("  -17x"), atol("123456789012"));
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%s-%d-%.2f", "truncate-me", 12345, 6.789);
    printf("snprintf returned %d, buffer [%s] (%zu)\n", n, buf, strlen(buf));
    n = snprintf(NULL, 0, "%d", -1234567);
    printf("snprintf(NULL,0) returned %d\n", n);
    int a; unsigned x; double f; char word[16]; char c;
    n = sscanf("  42 ff 2.5e1 hello Z", "%d %x %lf %15s %c", &a, &x, &f, word, &c);
    printf("sscanf: %d fields: %d %u %.1f %s %c\n", n, a, x, f, word, c);
    int hh, mm, ss;
    n = sscanf("12:34:56", "%d:%d:%d", &hh, &mm, &ss);
    printf("sscanf time: %d fields, %d seconds\n", n, hh * 3600 + mm * 60 + ss);
    n = sscanf("abc", "%d", &a);
    printf("sscanf mismatch: %d\n", n);
    n = sscanf("", "%d", &a);
    printf("sscanf empty: %d\n", n);
    return 0;
}
