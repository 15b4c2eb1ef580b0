/* sig_segv_mprotect: a user-level write barrier, as a generational garbage collector,
   a checkpointer or a distributed shared memory builds it. Eight anonymous pages are
   write-protected; a SIGSEGV handler (SA_SIGINFO) checks each fault (si_signo SIGSEGV,
   si_code SEGV_ACCERR, si_addr inside the region), records the page as dirty and makes
   it writable again, then returns: the faulting store runs again and completes. Each
   round stores to a different set of pages, several times each, so only the first store
   to a page faults. A PROT_NONE page faults on a load too (the handler grants read and
   write). Prints each round's faults (page and offset of each), the dirty pages, and a
   checksum of the region. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 8

static char *region;
static long page;
static volatile int faults;
static volatile int dirty[PAGES];
static volatile long where[64];

static void say(const char *s) { write(1, s, strlen(s)); }

static void on_segv(int sig, siginfo_t *si, void *uc) {
    char *a = si->si_addr;
    (void)uc;
    if (sig != SIGSEGV || si->si_signo != SIGSEGV || si->si_errno != 0 ||
        si->si_code != SEGV_ACCERR || a < region || a >= region + PAGES * page) {
        say("unexpected fault\n");
        _exit(3);
    }
    long i = (a - region) / page;
    if (faults < 64)
        where[faults] = a - region;
    faults++;
    dirty[i] = 1;
    if (mprotect(region + i * page, page, PROT_READ | PROT_WRITE) != 0)
        _exit(4);
}

static unsigned long checksum(void) {
    unsigned long h = 1469598103934665603ul;
    for (long i = 0; i < PAGES * page; i++)
        h = (h ^ (unsigned char)region[i]) * 1099511628211ul;
    return h;
}

static void round_report(const char *what) {
    printf("%s: %d faults:", what, faults);
    for (int i = 0; i < faults && i < 64; i++)
        printf(" page %ld+%ld", where[i] / page, where[i] % page);
    printf("\n  dirty:");
    for (int i = 0; i < PAGES; i++)
        if (dirty[i])
            printf(" %d", i);
    printf("\n");
}

static void barrier(void) {
    faults = 0;
    for (int i = 0; i < PAGES; i++)
        dirty[i] = 0;
    if (mprotect(region, PAGES * page, PROT_READ) != 0) {
        perror("mprotect");
        exit(1);
    }
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    region = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < PAGES * page; i++)
        region[i] = (char)(i * 7);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        perror("sigaction");
        return 1;
    }

    /* Round 1: pages 1, 3, 4, 6, each stored to in three places. */
    barrier();
    int r1[] = {1, 3, 4, 6};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++)
            region[r1[k] * page + 100 * j + 8 * k] = (char)(0x40 + k + j);
    round_report("round 1");

    /* Round 2: every page, one 8-byte store each (the last page at its last word). */
    barrier();
    for (int i = 0; i < PAGES; i++) {
        long off = (i == PAGES - 1) ? page - 8 : 16 * i;
        *(volatile uint64_t *)(region + i * page + off) = 0x0102030405060708ull * (i + 1);
    }
    round_report("round 2");

    /* Round 3: page 5 made inaccessible; a load from it faults, then pages 0 and 7. */
    barrier();
    if (mprotect(region + 5 * page, page, PROT_NONE) != 0)
        return 1;
    volatile char c = region[5 * page + 33];
    region[0] = c;
    region[7 * page + 1] = (char)(c + 1);
    round_report("round 3");

    /* Round 4: a memset across pages 2..4 (the library's stores fault too). */
    barrier();
    memset(region + 2 * page + page / 2, 0x5a, 2 * page);
    round_report("round 4");

    printf("checksum %016lx\n", checksum());
    return 0;
}
