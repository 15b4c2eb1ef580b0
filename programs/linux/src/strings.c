/* strings: string.h: strlen strcmp strncmp strcpy strncpy strcat memcpy memmove
   (overlapping both ways) memset memcmp strstr strtok strchr strrchr strspn. */
#include <stdio.h>
#include <string.h>
int main(void) {
    int bad = 0;
#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s\n", __LINE__, #c); bad++; } } while (0)
    char buf[128];
    const char *s = "the quick brown fox jumps over the lazy dog";
    printf("strlen=%zu\n", strlen(s));
    CHECK(strlen(s) == 43);
    printf("strcmp: %d %d %d\n", strcmp("abc", "abc") == 0, strcmp("abc", "abd") < 0, strcmp("b", "abc") > 0);
    printf("strncmp(\"abcdef\",\"abcxyz\",3)=%d\n", strncmp("abcdef", "abcxyz", 3));
    strcpy(buf, "hello");
    strcat(buf, ", world");
    printf("strcpy+strcat: %s (%zu)\n", buf, strlen(buf));
    strncpy(buf, "XY", 2);
    printf("strncpy: %s\n", buf);
    memcpy(buf, "0123456789", 11);
    memmove(buf + 2, buf, 8); /* overlapping, forward */
    printf("memmove fwd: %s\n", buf);
    CHECK(!strcmp(buf, "0101234567"));
    memcpy(buf, "0123456789", 11);
    memmove(buf, buf + 3, 8); /* overlapping, backward (includes the NUL) */
    printf("memmove back: %s\n", buf);
    CHECK(!strcmp(buf, "3456789"));
    memset(buf, 'z', 5); buf[5] = 0;
    printf("memset: %s\n", buf);
    printf("memcmp: %d %d\n", memcmp("abc", "abd", 3) < 0, memcmp("abc", "abd", 2) == 0);
    const char *f = strstr(s, "fox");
    printf("strstr fox at %ld, missing=%s\n", (long)(f - s), strstr(s, "cat") ? "found" : "null");
    printf("strchr o at %ld, strrchr o at %ld, strchr NUL at %ld\n",
           (long)(strchr(s, 'o') - s), (long)(strrchr(s, 'o') - s), (long)(strchr(s, 0) - s));
    printf("strspn=%zu strcspn=%zu\n", strspn("aaabbc", "ab"), strcspn("hello world", " "));
    char line[] = "alpha,beta;;gamma , delta,";
    int n = 0;
    for (char *t = strtok(line, ",; "); t; t = strtok(NULL, ",; ")) printf("token %d: [%s]\n", ++n, t);
    CHECK(n == 4);
    /* big copies exercise the word loops */
    static char big1[70000], big2[70000];
    for (int i = 0; i < 70000; i++) big1[i] = (char)(i * 7 + 1);
    memcpy(big2, big1, sizeof big1);
    CHECK(memcmp(big1, big2, sizeof big1) == 0);
    memmove(big2 + 1, big2, sizeof big2 - 1);
    CHECK(memcmp(big1, big2 + 1, sizeof big1 - 1) == 0);
    unsigned sum = 0;
    for (int i = 0; i < 70000; i++) sum = sum * 31 + (unsigned char)big2[i];
    printf("big checksum %u\n", sum);
    printf("%s\n", bad ? "strings FAILED" : "strings ok");
    return bad ? 1 : 0;
}
