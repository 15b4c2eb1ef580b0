/* sort.c: sorts 2000 pseudo-random 64-bit keys with quicksort, heap sort and insertion
   sort (on a prefix), checks each result is ordered and a permutation of the input (same
   sum and xor), and that all three agree. Exit code 0 = pass, 1..7 = the failing check. */
#include "htif.h"

#define N 2000

static uint64_t a[N], b[N], c[N];
static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static void quicksort(uint64_t *v, long lo, long hi)
{
    while (lo < hi) {
        uint64_t p = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i <= j) {
                uint64_t t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

static void sift(uint64_t *v, long root, long n)
{
    for (;;) {
        long child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[root] >= v[child])
            return;
        uint64_t t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

static void heapsort(uint64_t *v, long n)
{
    for (long i = n / 2 - 1; i >= 0; i--)
        sift(v, i, n);
    for (long i = n - 1; i > 0; i--) {
        uint64_t t = v[0];
        v[0] = v[i];
        v[i] = t;
        sift(v, 0, i);
    }
}

static void insertion(uint64_t *v, long n)
{
    for (long i = 1; i < n; i++) {
        uint64_t x = v[i];
        long j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

int main(void)
{
    uint64_t sum = 0, x = 0;
    for (int i = 0; i < N; i++) {
        a[i] = next() % 1000000; /* duplicates are likely: exercises equal keys */
        if (i % 7 == 0)
            a[i] = a[i / 2];
        b[i] = c[i] = a[i];
        sum += a[i];
        x ^= a[i];
    }
    quicksort(a, 0, N - 1);
    heapsort(b, N);
    insertion(c, 300);

    uint64_t s2 = 0, x2 = 0;
    for (int i = 0; i < N; i++) {
        s2 += a[i];
        x2 ^= a[i];
        if (i && a[i - 1] > a[i])
            return 1;
        if (i && b[i - 1] > b[i])
            return 2;
        if (a[i] != b[i])
            return 3;
    }
    if (s2 != sum)
        return 4;
    if (x2 != x)
        return 5;
    for (int i = 1; i < 300; i++)
        if (c[i - 1] > c[i])
            return 6;
    if (a[0] > a[N / 2] || a[N / 2] > a[N - 1])
        return 7;
    printf("sort: %d keys, min %lu, median %lu, max %lu, sum %lu: ok\n", N, a[0], a[N / 2],
           a[N - 1], sum);
    return 0;
}
