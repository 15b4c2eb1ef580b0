/* malloc_ds: heap-heavy data structures: a linked list, a binary search tree and a
   chained hash table of thousands of nodes, a realloc-grown array; everything freed;
   checksums printed. Exit 0 if every check holds, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static uint32_t rng = 12345;
static uint32_t next(void) { rng = rng * 1103515245u + 12345u; return (rng >> 8) & 0xffffff; }

struct node { struct node *next; long value; };
struct tnode { struct tnode *l, *r; uint32_t key; int count; };
struct entry { struct entry *next; char *key; int value; };

static struct tnode *insert(struct tnode *t, uint32_t key) {
    struct tnode **p = &t;
    while (*p) {
        if (key == (*p)->key) { (*p)->count++; return t; }
        p = key < (*p)->key ? &(*p)->l : &(*p)->r;
    }
    *p = calloc(1, sizeof **p);
    (*p)->key = key; (*p)->count = 1;
    return t;
}
static long walk(struct tnode *t, uint32_t *prev, int *ordered, long *n) {
    if (!t) return 0;
    long s = walk(t->l, prev, ordered, n);
    if (*n && t->key <= *prev) *ordered = 0;
    *prev = t->key; (*n)++;
    s = s * 31 + t->key * (long)t->count;
    s %= 1000000007;
    return (s + walk(t->r, prev, ordered, n)) % 1000000007;
}
static void tfree(struct tnode *t) { if (t) { tfree(t->l); tfree(t->r); free(t); } }

static unsigned hash(const char *s) { unsigned h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h; }

int main(void) {
    int ok = 1;
    /* linked list of 10000 nodes */
    struct node *head = NULL;
    for (long i = 0; i < 10000; i++) {
        struct node *n = malloc(sizeof *n);
        n->value = i * 7 % 1000; n->next = head; head = n;
    }
    long lsum = 0, lcount = 0;
    for (struct node *n = head; n; n = n->next) { lsum += n->value; lcount++; }
    printf("list: %ld nodes, sum %ld\n", lcount, lsum);
    while (head) { struct node *n = head->next; free(head); head = n; }

    /* binary search tree of 20000 random keys */
    struct tnode *root = NULL;
    for (int i = 0; i < 20000; i++) root = insert(root, next() % 50000);
    uint32_t prev = 0; int ordered = 1; long tn = 0;
    long tsum = walk(root, &prev, &ordered, &tn);
    printf("tree: %ld distinct keys, in-order %s, checksum %ld\n", tn, ordered ? "sorted" : "UNSORTED", tsum);
    if (!ordered) ok = 0;
    tfree(root);

    /* hash table of 5000 string keys, 1024 buckets */
    enum { NB = 1024 };
    struct entry **tab = calloc(NB, sizeof *tab);
    for (int i = 0; i < 5000; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "key-%d", i * 13);
        struct entry *e = malloc(sizeof *e);
        e->key = strdup(buf); e->value = i;
        unsigned b = hash(buf) % NB;
        e->next = tab[b]; tab[b] = e;
    }
    int found = 0, longest = 0;
    for (int i = 0; i < 5000; i += 7) {
        char buf[32];
        snprintf(buf, sizeof buf, "key-%d", i * 13);
        for (struct entry *e = tab[hash(buf) % NB]; e; e = e->next)
            if (!strcmp(e->key, buf)) { if (e->value == i) found++; break; }
    }
    for (int b = 0; b < NB; b++) { int c = 0; for (struct entry *e = tab[b]; e; e = e->next) c++; if (c > longest) longest = c; }
    printf("hash: found %d of %d lookups, longest chain %d\n", found, (5000 + 6) / 7, longest);
    if (found != (5000 + 6) / 7) ok = 0;
    for (int b = 0; b < NB; b++) { struct entry *e = tab[b]; while (e) { struct entry *n = e->next; free(e->key); free(e); e = n; } }
    free(tab);

    /* realloc growth to 1,000,000 ints (4 MB: crosses the mmap threshold) */
    int *a = NULL; size_t cap = 0, len = 0; int reallocs = 0;
    for (int i = 0; i < 1000000; i++) {
        if (len == cap) { cap = cap ? cap * 2 : 16; a = realloc(a, cap * sizeof *a); reallocs++; if (!a) { puts("realloc failed"); return 1; } }
        a[len++] = i ^ (i >> 3);
    }
    unsigned long asum = 0;
    for (size_t i = 0; i < len; i++) asum = asum * 3 + a[i];
    printf("array: %zu ints, capacity %zu, %d reallocs, checksum %lu\n", len, cap, reallocs, asum);
    free(a);

    /* many small blocks of mixed sizes, freed in a scrambled order */
    enum { NS = 4000 };
    char **blocks = malloc(NS * sizeof *blocks);
    unsigned long bsum = 0;
    for (int i = 0; i < NS; i++) { size_t sz = 1 + next() % 600; blocks[i] = malloc(sz); memset(blocks[i], i & 0xff, sz); bsum += sz * (i & 0xff); }
    for (int i = 0; i < NS; i++) { int j = (i * 1777) % NS; free(blocks[j]); blocks[j] = NULL; }
    for (int i = 0; i < NS; i++) if (blocks[i]) { ok = 0; free(blocks[i]); }
    free(blocks);
    printf("blocks: %d freed, weighted size %lu\n", NS, bsum);
    printf("%s\n", ok ? "malloc_ds ok" : "malloc_ds FAILED");
    return ok ? 0 : 1;
}
