/* futex_calls: futex(2) directly, its errors and its keys.
   - FUTEX_WAIT on an address no mapping covers: EFAULT (private and shared); a
     misaligned one: EINVAL; a word that is not the expected value: EAGAIN; a timeout
     that passes: ETIMEDOUT (relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET);
     bitset 0: EINVAL; an unknown command: ENOSYS; FUTEX_CLOCK_REALTIME with FUTEX_WAKE:
     ENOSYS.
   - FUTEX_WAKE with nobody waiting: 0; a private wake of an unmapped word: 0 (Linux
     does not look at the memory); a shared one: EFAULT.
   - A thread sleeps on a word; main wakes it (1 woken) after it has had time to sleep.
   - FUTEX_CMP_REQUEUE: three sleepers; wake 1, move 2 to another word, then wake those.
   - FUTEX_WAKE_OP: sets the second word and wakes on both words.
   - Between processes: a MAP_SHARED word mapped at two different addresses in a forked
     child (a second mmap of the same file) is one futex for a shared wait, so the
     parent's wake reaches the child (a file in /tmp, unlinked once open).
   Only main prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long fx(void *uaddr, int op, uint32_t val, const void *timeout, void *uaddr2, uint32_t val3) {
    long r = syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
    return r < 0 ? -errno : r;
}

static const char *name(long r) {
    static char buf[32];
    switch (r) {
    case -EFAULT: return "EFAULT";
    case -EINVAL: return "EINVAL";
    case -EAGAIN: return "EAGAIN";
    case -ETIMEDOUT: return "ETIMEDOUT";
    case -ENOSYS: return "ENOSYS";
    case -EINTR: return "EINTR";
    default: snprintf(buf, sizeof buf, "%ld", r); return buf;
    }
}

static uint32_t word = 1;
static volatile int slept, woke_with = 99;

static void *sleeper(void *arg) {
    slept = 1;
    long r = fx(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    woke_with = (int)r;
    return NULL;
}

static uint32_t q1 = 7, q2 = 9;
static int results[3];
static void *queued(void *arg) {
    int i = (int)(long)arg;
    results[i] = (int)fx(&q1, FUTEX_WAIT_PRIVATE, 7, NULL, NULL, 0);
    return NULL;
}

static uint32_t op1 = 1, op2 = 5;
static int op_results[2];
static void *op_waiter(void *arg) {
    int i = (int)(long)arg;
    op_results[i] = (int)fx(i ? &op2 : &op1, FUTEX_WAIT_PRIVATE, i ? 5 : 1, NULL, NULL, 0);
    return NULL;
}

static void settle(void) {
    /* Long enough, in wall or modelled time, for other threads to reach their wait. */
    struct timespec t = {0, 20 * 1000 * 1000};
    nanosleep(&t, NULL);
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, page);
    printf("wait on an unmapped word (private): %s\n", name(fx(gone, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0)));
    printf("wait on an unmapped word (shared): %s\n", name(fx(gone, FUTEX_WAIT, 0, NULL, NULL, 0)));
    printf("wait on a misaligned word: %s\n", name(fx((char *)&word + 1, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0)));
    printf("wait for a value the word does not hold: %s\n", name(fx(&word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0)));
    struct timespec rel = {0, 1000 * 1000};
    printf("wait with a 1 ms timeout: %s\n", name(fx(&word, FUTEX_WAIT_PRIVATE, 1, &rel, NULL, 0)));
    struct timespec bad = {0, 2000000000L};
    printf("wait with tv_nsec 2e9: %s\n", name(fx(&word, FUTEX_WAIT_PRIVATE, 1, &bad, NULL, 0)));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 1000 * 1000;
    if (now.tv_nsec >= 1000000000L) { now.tv_sec++; now.tv_nsec -= 1000000000L; }
    printf("wait_bitset until 1 ms from now: %s\n",
           name(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &now, NULL, FUTEX_BITSET_MATCH_ANY)));
    struct timespec past = {0, 0};
    printf("wait_bitset until a time gone by: %s\n",
           name(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY)));
    printf("wait_bitset with bitset 0: %s\n", name(fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0)));
    printf("command 42: %s\n", name(fx(&word, 42 | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0)));
    printf("wake with CLOCK_REALTIME: %s\n", name(fx(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0)));
    printf("wake with nobody waiting: %s\n", name(fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)));
    printf("private wake of an unmapped word: %s\n", name(fx(gone, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)));
    printf("shared wake of an unmapped word: %s\n", name(fx(gone, FUTEX_WAKE, 1, NULL, NULL, 0)));

    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    while (!slept) sched_yield();
    settle();
    long n = fx(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(t, NULL);
    printf("a sleeping thread: woken %ld, its wait returned %d\n", n, woke_with);

    pthread_t qt[3];
    for (int i = 0; i < 3; i++) pthread_create(&qt[i], NULL, queued, (void *)(long)i);
    settle();
    printf("cmp_requeue with a stale value: %s\n", name(fx(&q1, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2L, &q2, 8)));
    long moved = fx(&q1, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2L, &q2, 7);
    settle();
    long left_on_q1 = fx(&q1, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
    long on_q2 = fx(&q2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
    for (int i = 0; i < 3; i++) pthread_join(qt[i], NULL);
    printf("cmp_requeue: %ld woken or moved; then %ld on the first word, %ld on the second; waits returned %d %d %d\n",
           moved, left_on_q1, on_q2, results[0], results[1], results[2]);

    pthread_t ot[2];
    for (int i = 0; i < 2; i++) pthread_create(&ot[i], NULL, op_waiter, (void *)(long)i);
    settle();
    /* op2 = op2 + 1 (was 5); wake 1 on op1; wake 1 on op2 if old op2 == 5. */
    uint32_t enc = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 5);
    long woken = fx(&op1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &op2, enc);
    for (int i = 0; i < 2; i++) pthread_join(ot[i], NULL);
    printf("wake_op: %ld woken, second word now %u, waits returned %d %d\n", woken, op2, op_results[0],
           op_results[1]);

    char path[64];
    snprintf(path, sizeof path, "/tmp/futex_calls.%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    unlink(path);
    if (fd < 0 || ftruncate(fd, page) != 0) {
        printf("no file in /tmp\n");
        return 1;
    }
    uint32_t *a = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    *a = 0;
    pid_t c = fork();
    if (c == 0) {
        uint32_t *b = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        b[1] = 1; /* "I am about to wait" */
        long r = 0;
        while (__atomic_load_n(&b[0], __ATOMIC_SEQ_CST) == 0) {
            r = fx(&b[0], FUTEX_WAIT, 0, NULL, NULL, 0);
            if (r < 0 && r != -EAGAIN && r != -EINTR) _exit(100);
        }
        _exit(b != a && b[0] == 42 ? 0 : 1);
    }
    while (__atomic_load_n(&a[1], __ATOMIC_SEQ_CST) == 0) sched_yield();
    settle();
    __atomic_store_n(&a[0], 42, __ATOMIC_SEQ_CST);
    long w = fx(&a[0], FUTEX_WAKE, 1, NULL, NULL, 0);
    int st;
    waitpid(c, &st, 0);
    printf("shared futex across fork at another address: woken %ld, child status %d\n", w,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
