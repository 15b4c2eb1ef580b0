/* shm_anon: MAP_SHARED|MAP_ANONYMOUS memory is shared with children across fork;
   MAP_PRIVATE|MAP_ANONYMOUS memory is copied (copy-on-write).
   - 8 children each write their own 4 KiB page and their own counter slot of a
     64 KiB shared mapping; the parent waits for all, then reads every page (checksums).
   - Both ways: the parent writes the shared page after the fork and the child, told
     through a pipe, reads the new value (it exits with it).
   - A grandchild writes the shared mapping too (it is inherited twice).
   - The same writes to a MAP_PRIVATE anonymous mapping are not seen by the parent.
   - A child's munmap of the shared mapping leaves the parent's mapping alone.
   - A shared mapping made after the fork is not shared (each process has its own).
   Only the parent prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (64 * 1024)
#define PAGE 4096
#define KIDS 8

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "yes" : "no");
    if (!ok) failures++;
}

static uint32_t fnv(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static int wait_status(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

int main(void) {
    unsigned char *shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    unsigned char *private = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED || private == MAP_FAILED) { perror("mmap"); return 1; }
    check(shared[0] == 0 && shared[SIZE - 1] == 0, "a fresh shared mapping reads zero");
    /* Counters: 8 longs in the last page. */
    long *counter = (long *)(shared + SIZE - PAGE);
    memset(private, 0x55, SIZE);

    pid_t pids[KIDS];
    fflush(stdout);
    for (int i = 0; i < KIDS; i++) {
        pids[i] = fork();
        if (pids[i] < 0) { perror("fork"); return 1; }
        if (pids[i] == 0) {
            unsigned char *mine = shared + i * PAGE;
            for (int j = 0; j < PAGE; j++) mine[j] = (unsigned char)(i * 31 + j);
            for (int k = 0; k < 1000 * (i + 1); k++) counter[i]++;
            memset(private + i * PAGE, 0xEE, PAGE); /* the parent must not see this */
            _exit(0);
        }
    }
    int ok = 1;
    for (int i = 0; i < KIDS; i++) ok &= wait_status(pids[i]) == 0;
    check(ok, "8 children exited 0");
    int pages_right = 0;
    for (int i = 0; i < KIDS; i++) {
        int right = 1;
        for (int j = 0; j < PAGE; j++) right &= shared[i * PAGE + j] == (unsigned char)(i * 31 + j);
        pages_right += right;
    }
    printf("pages written by the children, seen by the parent: %d of %d\n", pages_right, KIDS);
    printf("counters:");
    long total = 0;
    for (int i = 0; i < KIDS; i++) {
        printf(" %ld", counter[i]);
        total += counter[i];
    }
    printf(" (total %ld)\n", total);
    printf("shared checksum %08x\n", fnv(shared, SIZE));
    int private_same = 1;
    for (int i = 0; i < SIZE; i++) private_same &= private[i] == 0x55;
    check(private_same, "the children's writes to MAP_PRIVATE are not seen by the parent");

    /* The parent writes after the fork; the child reads once told. */
    int go[2];
    pipe(go);
    shared[0] = 1;
    private[0] = 1;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(go[1]);
        char ch;
        read(go[0], &ch, 1);
        /* Shared: the parent's new value. Private: the value at the fork. */
        _exit(shared[0] * 10 + private[0]);
    }
    close(go[0]);
    shared[0] = 7;
    private[0] = 9;
    write(go[1], "g", 1);
    close(go[1]);
    int seen = wait_status(c);
    printf("child saw shared %d (parent wrote 7 after the fork), private %d (1 at the fork)\n",
           seen / 10, seen % 10);
    if (seen != 71) failures++;

    /* A grandchild writes through the mapping its parent inherited. */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            strcpy((char *)shared + 100, "written by the grandchild");
            _exit(0);
        }
        _exit(wait_status(g));
    }
    wait_status(c);
    printf("shared page says: %s\n", (char *)shared + 100);

    /* A child's munmap unmaps only its own view. */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        shared[200] = 'k';
        _exit(munmap(shared, SIZE) == 0 ? 0 : 1);
    }
    int st = wait_status(c);
    check(st == 0 && shared[200] == 'k', "after the child's munmap the parent still reads the mapping");

    /* A shared mapping made after the fork belongs to the child alone. */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        unsigned char *late = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        late[0] = 3;
        _exit(late[0]);
    }
    unsigned char *late = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    st = wait_status(c);
    check(st == 3 && late[0] == 0, "a shared mapping made after the fork is not shared");
    munmap(late, PAGE);
    munmap(shared, SIZE);
    munmap(private, SIZE);
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all shared-anonymous checks passed\n");
    return 0;
}
