/* sort: qsort and bsearch on ints and on strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int cmpint(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(void) {
    enum { N = 5000 };
    static int a[N];
    unsigned r = 1;
    for (int i = 0; i < N; i++) { r = r * 1664525u + 1013904223u; a[i] = (int)(r >> 12) - 500000; }
    qsort(a, N, sizeof a[0], cmpint);
    int sorted = 1;
    for (int i = 1; i < N; i++) if (a[i - 1] > a[i]) sorted = 0;
    printf("ints: sorted=%s min=%d max=%d median=%d\n", sorted ? "yes" : "no", a[0], a[N - 1], a[N / 2]);
    int hits = 0;
    for (int i = 0; i < N; i += 10) if (bsearch(&a[i], a, N, sizeof a[0], cmpint)) hits++;
    int missing = 2000000;
    printf("bsearch: %d hits of %d, missing=%s\n", hits, N / 10, bsearch(&missing, a, N, sizeof a[0], cmpint) ? "found" : "null");
    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date", "kiwi", "grape",
                           "lemon", "mango", "apricot", "lime", "plum", "quince", "orange", "melon"};
    int nw = sizeof words / sizeof words[0];
    qsort(words, nw, sizeof words[0], cmpstr);
    for (int i = 0; i < nw; i++) printf("%s%s", words[i], i + 1 < nw ? " " : "\n");
    const char *key = "lime";
    const char **f = bsearch(&key, words, nw, sizeof words[0], cmpstr);
    printf("lime at %ld\n", f ? (long)(f - words) : -1L);
    key = "zucchini";
    printf("zucchini %s\n", bsearch(&key, words, nw, sizeof words[0], cmpstr) ? "found" : "not found");
    return sorted && hits == N / 10 ? 0 : 1;
}
