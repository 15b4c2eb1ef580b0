/* mc_clean.c (memory checker): a correct allocation-heavy program, the checker's
   control: it must report no error and no leak. 6000 operations chosen by a
   fixed-seed LCG on up to 128 live strings and a growing log: malloc, calloc, realloc
   (strings and the log grow), free, posix_memalign and aligned_alloc, strdup, and the
   string functions strlen strcpy strcat strcmp strncmp strchr strrchr strstr memcpy
   memmove (overlapping) memset memcmp snprintf qsort. Everything is freed before main
   returns; it prints counts and checksums, never addresses.
   Built -g -O2. Expected report (Valgrind 3.19 memcheck, this source built natively,
   --leak-check=full): ERROR SUMMARY: 0 errors; All heap blocks were freed -- no leaks
   are possible. Exit status 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS 6000
#define SLOTS 128

static uint32_t lcg_state = 12345;
static uint32_t rnd(uint32_t n) {
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) % n;
}

static uint64_t sum = 14695981039346656037ull; /* FNV-1a over what the program sees */
static void mix(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) sum = (sum ^ b[i]) * 1099511628211ull;
}
static void mixn(uint64_t v) { mix(&v, sizeof v); }

static char *slot[SLOTS];
static char *logbuf;
static size_t log_len, log_cap;
static unsigned long count[10];

static void die(const char *what) {
    printf("FAILED: %s\n", what);
    exit(1);
}

static void log_append(const char *s) {
    size_t n = strlen(s);
    if (log_len + n + 1 > log_cap) {
        size_t cap = log_cap ? log_cap : 64;
        while (cap < log_len + n + 1) cap *= 2;
        char *nb = realloc(logbuf, cap);
        if (!nb) die("realloc log");
        logbuf = nb;
        log_cap = cap;
    }
    memcpy(logbuf + log_len, s, n + 1);
    log_len += n;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}
static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
                              "golf", "hotel", "india", "juliet", "kilo", "lima"};
#define NWORDS (sizeof words / sizeof words[0])

/* 0: a new string, built by snprintf in a temporary and kept by strdup or strcpy. */
static void op_new(void) {
    int i = rnd(SLOTS);
    char *tmp = malloc(64);
    if (!tmp) die("malloc");
    /* One draw per statement: the order in which arguments are evaluated is unspecified. */
    const char *w1 = words[rnd(NWORDS)];
    uint32_t num = rnd(100000);
    const char *w2 = words[rnd(NWORDS)];
    int n = snprintf(tmp, 64, "%s-%u-%s", w1, num, w2);
    mixn((uint64_t)n);
    free(slot[i]);
    if (num & 1) {
        slot[i] = strdup(tmp);
        if (!slot[i]) die("strdup");
    } else {
        slot[i] = malloc(strlen(tmp) + 1);
        if (!slot[i]) die("malloc");
        strcpy(slot[i], tmp);
    }
    free(tmp);
}

/* 1: a string grows by realloc and strcat; sometimes rebuilt with strcpy. */
static void op_grow(void) {
    int i = rnd(SLOTS);
    if (!slot[i]) return;
    const char *w = words[rnd(NWORDS)];
    size_t n = strlen(slot[i]), m = strlen(w);
    if (n > 200) { /* keep strings short: restart it from its first word */
        char *dash = strchr(slot[i], '-');
        size_t k = dash ? (size_t)(dash - slot[i]) : n;
        char *fresh = malloc(k + 1);
        if (!fresh) die("malloc");
        memcpy(fresh, slot[i], k);
        fresh[k] = '\0';
        free(slot[i]);
        slot[i] = fresh;
        n = k;
    }
    char *g = realloc(slot[i], n + m + 2);
    if (!g) die("realloc");
    strcat(g, "+");
    strcat(g, w);
    slot[i] = g;
    mixn(strlen(g));
}

/* 2: compare two strings, whole and by prefix. */
static void op_compare(void) {
    char *a = slot[rnd(SLOTS)];
    char *b = slot[rnd(SLOTS)];
    if (!a || !b) return;
    int c = strcmp(a, b), d = strncmp(a, b, 3);
    mixn((uint64_t)((c > 0) - (c < 0) + 1) * 3 + (uint64_t)((d > 0) - (d < 0) + 1));
}

/* 3: search in a string: strchr, strrchr, strstr; found words go to the log. */
static void op_search(void) {
    char *s = slot[rnd(SLOTS)];
    if (!s) return;
    const char *w = words[rnd(NWORDS)];
    char *f = strstr(s, w), *first = strchr(s, '-'), *last = strrchr(s, '+');
    mixn((uint64_t)(f ? f - s + 1 : 0));
    mixn((uint64_t)(first ? first - s : -1));
    mixn((uint64_t)(last ? last - s : -1));
    if (f) {
        log_append(w);
        log_append(";");
    }
}

/* 4: free a string. */
static void op_free(void) {
    int i = rnd(SLOTS);
    free(slot[i]);
    slot[i] = NULL;
}

/* 5: calloc an int array, fill part of it, qsort a copy, check with memcmp. */
static void op_sort(void) {
    size_t n = 4 + rnd(28);
    int *a = calloc(n, sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b) die("calloc");
    for (size_t i = 0; i < n; i += 2) a[i] = (int)rnd(1000) - 500; /* odd ones stay 0 */
    memcpy(b, a, n * sizeof *a);
    qsort(b, n, sizeof *b, cmp_int);
    for (size_t i = 1; i < n; i++)
        if (b[i - 1] > b[i]) die("qsort order");
    mixn((uint64_t)b[0]);
    mixn((uint64_t)b[n - 1]);
    mixn(memcmp(a, b, n * sizeof *a) == 0);
    free(b);
    free(a);
}

/* 6: aligned blocks: posix_memalign and aligned_alloc, memset, memmove both ways. */
static void op_aligned(void) {
    size_t align = (size_t)16 << rnd(5); /* 16 .. 256 */
    size_t n = align * (1 + rnd(2));
    void *p = NULL;
    if (posix_memalign(&p, align, n) != 0) die("posix_memalign");
    unsigned char *q = aligned_alloc(align, n);
    if (!q) die("aligned_alloc");
    if (((uintptr_t)p | (uintptr_t)q) % align) die("alignment");
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(i * 7 + align);
    memset(q, 0x5a, n);
    memmove(c + 1, c, n - 1); /* overlap, forwards */
    memmove(q, c + 2, n - 2); /* no overlap */
    memmove(c, c + 3, n - 3); /* overlap, backwards */
    mix(q, n - 2);
    mix(c, n - 3);
    free(q);
    free(p);
}

int main(void) {
    for (int op = 0; op < OPS; op++) {
        uint32_t k = rnd(20);
        int kind = k < 5 ? 0 : k < 9 ? 1 : k < 12 ? 2 : k < 15 ? 3 : k < 17 ? 4 : k < 19 ? 5 : 6;
        count[kind]++;
        switch (kind) {
        case 0: op_new(); break;
        case 1: op_grow(); break;
        case 2: op_compare(); break;
        case 3: op_search(); break;
        case 4: op_free(); break;
        case 5: op_sort(); break;
        default: op_aligned(); break;
        }
    }
    /* The live strings, gathered, sorted and checked. */
    char **live = malloc(SLOTS * sizeof *live);
    if (!live) die("malloc");
    size_t nlive = 0, bytes = 0;
    for (int i = 0; i < SLOTS; i++)
        if (slot[i]) {
            live[nlive++] = slot[i];
            bytes += strlen(slot[i]);
        }
    qsort(live, nlive, sizeof *live, cmp_str);
    for (size_t i = 0; i < nlive; i++) {
        if (i && strcmp(live[i - 1], live[i]) > 0) die("string order");
        mix(live[i], strlen(live[i]));
    }
    mix(logbuf ? logbuf : "", log_len);
    printf("operations: %d (new %lu, grow %lu, compare %lu, search %lu, free %lu, sort %lu, aligned %lu)\n",
           OPS, count[0], count[1], count[2], count[3], count[4], count[5], count[6]);
    printf("live strings: %zu, %zu bytes; first \"%.20s\", last \"%.20s\"\n", nlive, bytes,
           nlive ? live[0] : "", nlive ? live[nlive - 1] : "");
    printf("log: %zu bytes\n", log_len);
    printf("checksum: %016llx\n", (unsigned long long)sum);
    for (int i = 0; i < SLOTS; i++) free(slot[i]);
    free(live);
    free(logbuf);
    return 0;
}
