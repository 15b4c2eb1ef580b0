/* cow_stress SEED [--memset-discard]: a randomized walk of stores, forks, waits and mapping changes over
   pages of every kind a process has, each process checking that its pages hold exactly
   what it (and, before its fork, its ancestors) wrote: fork with copy-on-write must keep
   processes isolated and lose no write.
   - The pages: a static array in .data, one in .bss, a heap buffer (brk), a private
     anonymous mapping in chunks of CHUNK pages, and an array on the stack of main (the
     frame every process of the walk runs in). Each page is SLOTS slots of 64 words; a
     store writes one slot with a tag naming (process, step, page, slot), word j holding
     tag ^ j * GOLDEN, so a slot shows who wrote it and whether it is whole.
   - Every process keeps a model (in its own copy-on-write memory) of each slot's tag.
     The walk, driven by a splitmix64 generator seeded from argv[1]: store a slot; check
     a page; fork (the child takes a new logical id parent * 8 + k, a derived seed, part
     of its parent's budget of processes, and runs CHILD_STEPS more steps; at most
     MAX_DEPTH deep, MAX_KIDS children each); wait for a random child (waitpid of its
     pid); munmap a chunk and map it again (zeros); move a chunk away and back with
     mremap(MREMAP_FIXED), checking and storing it at the other place; shrink a chunk
     with mremap and grow it back in place (a zero tail); discard a chunk with
     madvise(MADV_DONTNEED) (zeros; with --memset-discard, memset to zeros instead); make a chunk read-only or inaccessible with mprotect
     and back; grow and shrink the heap with a malloc/free of up to 96 KiB.
   - A slot that differs from the model is classified: a tag of a process that is
     neither this one nor an ancestor, or of an ancestor after the fork of this line,
     is a leak (isolation broken, status 241); an older tag of this process or of an
     ancestor is a lost write (242); a slot whose words disagree is torn (243); zeros
     where a tag was due, a lost page (244). A child that failed or was killed makes its
     parent fail with 245, a system call that failed where Linux succeeds 246, a wrong
     start (data, bss or mapping not as loaded) 247. Details go to standard error.
   - A process that ends well exits with a checksum of everything it observed (slots
     checked, children's statuses) modulo 200; each one also writes a record of its
     counters to a pipe the first process made. Only the first process prints: after
     it has waited for all its children (and they for theirs) it reads the records and
     prints the totals and checksums, sums over the processes, so the output does not
     depend on the order they ran in. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SLOTS 8
#define SLOT_WORDS (PAGE / SLOTS / 8)
#define NP_DATA 6
#define NP_BSS 6
#define NP_HEAP 8
#define CHUNK 3
#define NCHUNK 4
#define NP_MAP (CHUNK * NCHUNK)
#define NP_STACK 6
#define P_DATA 0
#define P_BSS (P_DATA + NP_DATA)
#define P_HEAP (P_BSS + NP_BSS)
#define P_MAP (P_HEAP + NP_HEAP)
#define P_STACK (P_MAP + NP_MAP)
#define NPAGES (P_STACK + NP_STACK)
#define BUDGET 20       /* processes beyond the first */
#define MAX_DEPTH 4
#define MAX_KIDS 6      /* children one process makes */
#define TOP_STEPS 160
#define CHILD_STEPS 90
#define GOLDEN 0x9E3779B97F4A7C15ull

enum { ST_LEAK = 241, ST_LOST, ST_TORN, ST_ZERO, ST_CHILD, ST_SYSCALL, ST_START };

/* The .data array (its first word 1 keeps it out of .bss) and the .bss array. */
static uint64_t data_pages[NP_DATA][PAGE / 8] __attribute__((aligned(PAGE))) = {{1}};
static uint64_t bss_pages[NP_BSS][PAGE / 8] __attribute__((aligned(PAGE)));

struct counters {
    uint64_t procs, checks, mismatches, stores, forks, waits, unmaps, moves, shrinks,
        discards, protects, churns, sum;
};

/* One process's state (in .bss: a fork copies it, copy-on-write like the rest). */
static struct {
    uint64_t id;                 /* logical id: 1, then parent * 8 + k */
    int depth;
    uint64_t rng;
    int budget;                  /* processes it may still make (their descendants too) */
    int kids_made;
    int nkids;
    struct { pid_t pid; uint64_t id; } kids[MAX_KIDS];
    struct { uint64_t id, step; } anc[MAX_DEPTH]; /* ancestors, and the step each forked this line at */
    uint64_t model[NPAGES][SLOTS];
    unsigned char *page[NPAGES];
    int fail;                    /* the first failure's status, or 0 */
    int reports;                 /* details written to stderr */
    struct counters c;
    int out_fd;                  /* the pipe's write end */
} S;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += GOLDEN);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n) { return splitmix(&S.rng) % n; }

static uint64_t fold(uint64_t h, uint64_t v) {
    uint64_t x = h ^ v;
    return splitmix(&x);
}

static uint64_t make_tag(uint64_t step, int p, int s) {
    return S.id << 40 | step << 12 | (uint64_t)p << 3 | (uint64_t)s;
}

static const char *kind(int p) {
    return p < P_BSS ? "data" : p < P_HEAP ? "bss" : p < P_MAP ? "heap" : p < P_STACK ? "mmap" : "stack";
}

static void failed(int status) {
    if (!S.fail) S.fail = status;
}

static void syscall_failed(const char *what, uint64_t step) {
    if (S.reports++ < 8)
        fprintf(stderr, "cow_stress: process %llu step %llu: %s failed: %s\n",
                (unsigned long long)S.id, (unsigned long long)step, what, strerror(errno));
    failed(ST_SYSCALL);
}

static uint64_t *slot_at(unsigned char *page, int s) {
    return (uint64_t *)(page + s * SLOT_WORDS * 8);
}

static void write_slot(uint64_t *w, uint64_t tag) {
    for (int j = 0; j < SLOT_WORDS; j++) w[j] = tag ? tag ^ (uint64_t)j * GOLDEN : 0;
}

static void store(uint64_t step, int p, int s) {
    uint64_t tag = make_tag(step, p, s);
    write_slot(slot_at(S.page[p], s), tag);
    S.model[p][s] = tag;
    S.c.stores++;
}

/* Why slot (p, s) holds `found` (its first word) rather than `want`. */
static int classify(uint64_t want, uint64_t found, int whole) {
    if (!whole) return ST_TORN;
    if (found == 0) return ST_ZERO;
    uint64_t writer = found >> 40, step = found >> 12 & 0xfffffff;
    if (writer == S.id) return ST_LOST;
    for (int i = 0; i < S.depth; i++)
        if (S.anc[i].id == writer) return step > S.anc[i].step ? ST_LEAK : ST_LOST;
    (void)want;
    return ST_LEAK;
}

/* Checks slot s of page p, found at `page`, against the model. */
static void check_slot(unsigned char *page, int p, int s, uint64_t step) {
    const uint64_t *w = slot_at(page, s);
    uint64_t want = S.model[p][s], found = w[0];
    int whole = 1;
    for (int j = 1; j < SLOT_WORDS; j++)
        if (w[j] != (found ? found ^ (uint64_t)j * GOLDEN : 0)) whole = 0;
    S.c.checks++;
    S.c.sum = fold(S.c.sum, found);
    if (found == want && whole) return;
    S.c.mismatches++;
    int why = classify(want, found, whole);
    failed(why);
    if (S.reports++ < 8)
        fprintf(stderr,
                "cow_stress: process %llu (depth %d) step %llu: %s page %d slot %d: want tag "
                "%016llx, found %016llx (%s; written by process %llu at step %llu)\n",
                (unsigned long long)S.id, S.depth, (unsigned long long)step, kind(p), p, s,
                (unsigned long long)want, (unsigned long long)found,
                why == ST_LEAK ? "another process's write leaked in"
                : why == ST_LOST ? "a write was lost"
                : why == ST_TORN ? "the slot is torn"
                                 : "the page reads as zeros",
                (unsigned long long)(found >> 40), (unsigned long long)(found >> 12 & 0xfffffff));
}

static void check_page(int p, uint64_t step) {
    for (int s = 0; s < SLOTS; s++) check_slot(S.page[p], p, s, step);
}

/* A child ended: fold its status in. */
static void reaped(uint64_t id, int st, uint64_t step) {
    S.c.waits++;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    S.c.sum = fold(S.c.sum, id << 16 | (uint64_t)code);
    if (code >= 200) {
        if (S.reports++ < 8)
            fprintf(stderr, "cow_stress: process %llu step %llu: child %llu %s %d\n",
                    (unsigned long long)S.id, (unsigned long long)step, (unsigned long long)id,
                    code >= 1000 ? "was killed by signal" : "failed with status",
                    code >= 1000 ? code - 1000 : code);
        failed(ST_CHILD);
    }
}

static void wait_kid(int k, uint64_t step) {
    int st;
    pid_t pid = S.kids[k].pid;
    uint64_t id = S.kids[k].id;
    S.kids[k] = S.kids[--S.nkids];
    if (waitpid(pid, &st, 0) != pid) {
        syscall_failed("waitpid", step);
        return;
    }
    reaped(id, st, step);
}

static unsigned char *chunk_addr(int c) { return S.page[P_MAP + c * CHUNK]; }

static void zero_model(int p0, int n) {
    for (int p = p0; p < p0 + n; p++)
        for (int s = 0; s < SLOTS; s++) S.model[p][s] = 0;
}

static void op_fork(uint64_t step, int *steps_left) {
    if (S.budget == 0 || S.depth >= MAX_DEPTH || S.kids_made >= MAX_KIDS) {
        store(step, (int)rnd(NPAGES), (int)rnd(SLOTS));
        return;
    }
    int share = (int)rnd((uint64_t)S.budget);
    uint64_t child_id = S.id * 8 + (uint64_t)S.kids_made + 1;
    uint64_t child_seed = splitmix(&S.rng) ^ child_id;
    pid_t pid = fork();
    if (pid < 0) {
        syscall_failed("fork", step);
        return;
    }
    if (pid == 0) {
        S.anc[S.depth].id = S.id;
        S.anc[S.depth].step = step;
        S.depth++;
        S.id = child_id;
        S.rng = child_seed;
        S.budget = share;
        S.kids_made = 0;
        S.nkids = 0;
        memset(&S.c, 0, sizeof S.c);
        S.reports = 0;
        *steps_left = CHILD_STEPS;
        return;
    }
    S.kids[S.nkids].pid = pid;
    S.kids[S.nkids].id = child_id;
    S.nkids++;
    S.kids_made++;
    S.budget -= share + 1;
    S.c.forks++;
}

/* munmap a chunk and map it again: zeros. */
static void op_unmap(uint64_t step) {
    int c = (int)rnd(NCHUNK);
    unsigned char *a = chunk_addr(c);
    if (munmap(a, CHUNK * PAGE) != 0) syscall_failed("munmap", step);
    if (mmap(a, CHUNK * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0) != a)
        syscall_failed("mmap MAP_FIXED", step);
    zero_model(P_MAP + c * CHUNK, CHUNK);
    S.c.unmaps++;
}

/* Moves a chunk to the scratch area and back with mremap: its contents go along. */
static void op_move(uint64_t step, unsigned char *scratch) {
    int c = (int)rnd(NCHUNK), p0 = P_MAP + c * CHUNK;
    unsigned char *a = chunk_addr(c);
    void *r = mremap(a, CHUNK * PAGE, CHUNK * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, scratch);
    if (r != scratch) {
        syscall_failed("mremap to the scratch area", step);
        return;
    }
    int p = (int)rnd(CHUNK);
    for (int s = 0; s < SLOTS; s++) check_slot(scratch + p * PAGE, p0 + p, s, step);
    int q = (int)rnd(CHUNK), s = (int)rnd(SLOTS);
    uint64_t tag = make_tag(step, p0 + q, s);
    write_slot(slot_at(scratch + q * PAGE, s), tag);
    S.model[p0 + q][s] = tag;
    S.c.stores++;
    r = mremap(scratch, CHUNK * PAGE, CHUNK * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a);
    if (r != a) syscall_failed("mremap back", step);
    S.c.moves++;
}

/* Shrinks a chunk with mremap, grows it back in place: the tail reads as zeros. */
static void op_shrink(uint64_t step) {
    int c = (int)rnd(NCHUNK), keep = 1 + (int)rnd(CHUNK - 1);
    unsigned char *a = chunk_addr(c);
    if (mremap(a, CHUNK * PAGE, (size_t)keep * PAGE, 0) != a) syscall_failed("mremap shrink", step);
    if (mremap(a, (size_t)keep * PAGE, CHUNK * PAGE, 0) != a) syscall_failed("mremap grow", step);
    zero_model(P_MAP + c * CHUNK + keep, CHUNK - keep);
    S.c.shrinks++;
}

/* With --memset-discard, op_discard zeros the pages with stores instead of madvise (the
   same contents, so the same output): vmlab's simple paging cannot bring back a page
   that MADV_DONTNEED dropped. */
static int memset_discard;

/* madvise(MADV_DONTNEED) on part of a chunk: private anonymous pages read as zeros. */
static void op_discard(uint64_t step) {
    int c = (int)rnd(NCHUNK), first = (int)rnd(CHUNK), n = 1 + (int)rnd((uint64_t)(CHUNK - first));
    unsigned char *a = chunk_addr(c) + first * PAGE;
    if (memset_discard) memset(a, 0, (size_t)n * PAGE);
    else if (madvise(a, (size_t)n * PAGE, MADV_DONTNEED) != 0) syscall_failed("madvise", step);
    zero_model(P_MAP + c * CHUNK + first, n);
    S.c.discards++;
}

/* mprotect a chunk read-only (checked then) or inaccessible, and back. */
static void op_protect(uint64_t step) {
    int c = (int)rnd(NCHUNK), none = (int)rnd(2);
    unsigned char *a = chunk_addr(c);
    if (mprotect(a, CHUNK * PAGE, none ? PROT_NONE : PROT_READ) != 0) syscall_failed("mprotect", step);
    if (!none)
        for (int p = 0; p < CHUNK; p++) check_page(P_MAP + c * CHUNK + p, step);
    if (mprotect(a, CHUNK * PAGE, PROT_READ | PROT_WRITE) != 0) syscall_failed("mprotect back", step);
    S.c.protects++;
}

/* The heap grows and (glibc trimming its top) shrinks: a block written and checked. */
static void op_churn(uint64_t step) {
    size_t words = (size_t)(1 + rnd(24)) * PAGE / 8;
    uint64_t *q = malloc(words * 8);
    if (!q) {
        syscall_failed("malloc", step);
        return;
    }
    uint64_t tag = make_tag(step, 511, 7);
    for (size_t j = 0; j < words; j++) q[j] = tag ^ j * GOLDEN;
    for (size_t j = 0; j < words; j++)
        if (q[j] != (tag ^ j * GOLDEN)) {
            S.c.mismatches++;
            failed(ST_TORN);
            break;
        }
    free(q);
    S.c.churns++;
}

/* The first process: sums the records of every other process from the pipe. */
static void summary(int rd, uint64_t seed, uint64_t pages_sum) {
    struct counters t = S.c, r;
    uint64_t procs = 1, sums = 0;
    ssize_t n;
    while ((n = read(rd, &r, sizeof r)) == (ssize_t)sizeof r) {
        procs++;
        t.checks += r.checks;
        t.mismatches += r.mismatches;
        t.stores += r.stores;
        t.forks += r.forks;
        t.waits += r.waits;
        t.unmaps += r.unmaps;
        t.moves += r.moves;
        t.shrinks += r.shrinks;
        t.discards += r.discards;
        t.protects += r.protects;
        t.churns += r.churns;
        sums += r.sum;
    }
    if (n != 0) syscall_failed("read of the records", 0);
    printf("cow_stress seed %llu: %llu processes, %llu forks, %llu waits\n",
           (unsigned long long)seed, (unsigned long long)procs, (unsigned long long)t.forks,
           (unsigned long long)t.waits);
    printf("operations: %llu stores, %llu checks, %llu mismatches\n",
           (unsigned long long)t.stores, (unsigned long long)t.checks,
           (unsigned long long)t.mismatches);
    printf("mappings: %llu unmaps, %llu moves, %llu shrinks, %llu discards, %llu protects, "
           "%llu heap churns\n",
           (unsigned long long)t.unmaps, (unsigned long long)t.moves,
           (unsigned long long)t.shrinks, (unsigned long long)t.discards,
           (unsigned long long)t.protects, (unsigned long long)t.churns);
    printf("checksums: own pages %016llx, own observations %016llx, the others' %016llx\n",
           (unsigned long long)pages_sum, (unsigned long long)S.c.sum, (unsigned long long)sums);
    printf("%s\n", S.fail ? "FAILED" : "isolation held");
}

int main(int argc, char **argv) {
    uint64_t seed = argc > 1 ? strtoull(argv[1], 0, 0) : 1;
    memset_discard = argc > 2 && strcmp(argv[2], "--memset-discard") == 0;
    uint64_t stack_pages[NP_STACK][PAGE / 8] __attribute__((aligned(PAGE)));
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return ST_SYSCALL;
    }
    S.out_fd = fds[1];
    S.id = 1;
    S.rng = seed;
    S.budget = BUDGET;
    unsigned char *heap = malloc((NP_HEAP + 1) * PAGE);
    unsigned char *map = mmap(0, NP_MAP * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* (PROT_READ, not PROT_NONE: vmlab's simple paging refuses a PROT_NONE mmap.) */
    unsigned char *scratch = mmap(0, CHUNK * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!heap || map == MAP_FAILED || scratch == MAP_FAILED) {
        perror("memory");
        return ST_SYSCALL;
    }
    heap = (unsigned char *)(((uintptr_t)heap + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
    /* As loaded: .data holds its 1 and zeros, .bss and the mapping zeros. */
    int bad = data_pages[0][0] != 1;
    for (int p = 0; p < NP_DATA; p++)
        for (int j = p ? 0 : 1; j < PAGE / 8; j++) bad |= data_pages[p][j] != 0;
    for (int p = 0; p < NP_BSS; p++)
        for (int j = 0; j < PAGE / 8; j++) bad |= bss_pages[p][j] != 0;
    for (int j = 0; j < NP_MAP * PAGE / 8; j++) bad |= ((uint64_t *)map)[j] != 0;
    if (bad) failed(ST_START);
    for (int p = 0; p < NPAGES; p++)
        S.page[p] = p < P_BSS    ? (unsigned char *)data_pages[p - P_DATA]
                    : p < P_HEAP  ? (unsigned char *)bss_pages[p - P_BSS]
                    : p < P_MAP   ? heap + (p - P_HEAP) * PAGE
                    : p < P_STACK ? map + (p - P_MAP) * PAGE
                                  : (unsigned char *)stack_pages[p - P_STACK];
    for (int p = 0; p < NPAGES; p++)
        for (int s = 0; s < SLOTS; s++) store(0, p, s);
    int steps_left = TOP_STEPS;
    uint64_t step = 0;
    while (steps_left-- > 0) {
        step++;
        uint64_t r = rnd(100);
        if (r < 42) store(step, (int)rnd(NPAGES), (int)rnd(SLOTS));
        else if (r < 56) check_page((int)rnd(NPAGES), step);
        else if (r < 66) op_fork(step, &steps_left);
        else if (r < 74) {
            if (S.nkids) wait_kid((int)rnd((uint64_t)S.nkids), step);
            else check_page((int)rnd(NPAGES), step);
        } else if (r < 79) op_unmap(step);
        else if (r < 84) op_move(step, scratch);
        else if (r < 87) op_shrink(step);
        else if (r < 91) op_discard(step);
        else if (r < 95) op_protect(step);
        else op_churn(step);
    }
    while (S.nkids) wait_kid(0, step);
    for (int p = 0; p < NPAGES; p++) check_page(p, step + 1);
    uint64_t pages_sum = 0;
    for (int p = 0; p < NPAGES; p++)
        for (int s = 0; s < SLOTS; s++) pages_sum = fold(pages_sum, S.model[p][s]);
    if (S.id != 1) {
        S.c.procs = 1;
        S.c.sum = fold(S.c.sum, pages_sum);
        if (write(S.out_fd, &S.c, sizeof S.c) != (ssize_t)sizeof S.c) failed(ST_SYSCALL);
        _exit(S.fail ? S.fail : (int)(S.c.sum % 200));
    }
    close(fds[1]);
    summary(fds[0], seed, pages_sum);
    return S.fail;
}
