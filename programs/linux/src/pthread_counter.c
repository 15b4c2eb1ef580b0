/* pthread_counter: static-glibc threads (clone, futex, set_tid_address, TLS via tp).
   - 4 threads add 1 to a shared counter 100000 times each under a mutex: 400000 after
     the joins; pthread_create and pthread_join return 0; each thread's return value
     comes back through pthread_join.
   - Thread-local storage: an initialised __thread variable (.tdata) starts at its
     initial value in every thread even after main changed its own copy; a zeroed one
     (.tbss) starts at 0; each thread's writes stay its own.
   - getpid() is the same in every thread, gettid() differs from it and between
     threads, pthread_self() differs between threads.
   - A condition variable ping-pong: two threads hand a token back and forth 1000
     times (each waits for its turn with pthread_cond_wait).
   - A barrier of 4 threads: each records, after the barrier, how many had arrived.
   - A thread blocked on a mutex main holds goes on once main releases it (its join
     waits for that).
   Only main prints, after the joins. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 100000

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "yes" : "no");
    if (!ok) failures++;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_init = 5;
static __thread long tls_zero;
static __thread char tls_name[16] = "main";

struct result {
    int index;
    int tls_init_at_start;
    long tls_zero_at_start;
    char name_at_start[16];
    int tls_init_at_end;
    pid_t pid, tid;
    pthread_t self;
};

static struct result results[THREADS];

static void *adder(void *arg) {
    int i = (int)(long)arg;
    struct result *r = &results[i];
    r->index = i;
    r->tls_init_at_start = tls_init;
    r->tls_zero_at_start = tls_zero;
    memcpy(r->name_at_start, tls_name, sizeof tls_name);
    tls_init = 100 * (i + 1);
    snprintf(tls_name, sizeof tls_name, "thread %d", i);
    for (int k = 0; k < ROUNDS; k++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        tls_zero++;
    }
    r->tls_init_at_end = tls_init + (int)(tls_zero == ROUNDS);
    r->pid = getpid();
    r->tid = (pid_t)syscall(SYS_gettid);
    r->self = pthread_self();
    return (void *)(long)(1000 + i);
}

/* Ping-pong: turn 0 is the first player's, 1 the second's. */
static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int turn, passes[2];
#define PASSES 1000

static void *player(void *arg) {
    int me = (int)(long)arg;
    for (int k = 0; k < PASSES; k++) {
        pthread_mutex_lock(&pp_lock);
        while (turn != me) pthread_cond_wait(&pp_cond, &pp_lock);
        passes[me]++;
        turn = 1 - me;
        pthread_cond_broadcast(&pp_cond);
        pthread_mutex_unlock(&pp_lock);
    }
    return NULL;
}

static pthread_barrier_t barrier;
static pthread_mutex_t arrive_lock = PTHREAD_MUTEX_INITIALIZER;
static int arrived, seen_after[THREADS], serial_count;

static void *at_barrier(void *arg) {
    int i = (int)(long)arg;
    pthread_mutex_lock(&arrive_lock);
    arrived++;
    pthread_mutex_unlock(&arrive_lock);
    int rc = pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&arrive_lock);
    seen_after[i] = arrived;
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD) serial_count++;
    pthread_mutex_unlock(&arrive_lock);
    return NULL;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static int gate_passed;

static void *through_gate(void *arg) {
    pthread_mutex_lock(&gate);
    gate_passed = 1;
    pthread_mutex_unlock(&gate);
    return NULL;
}

int main(void) {
    tls_init = 7; /* main's own copy: the threads must still start at 5 */
    tls_zero = -1;
    pthread_t t[THREADS];
    int create_ok = 1, join_ok = 1, values_ok = 1;
    for (int i = 0; i < THREADS; i++) create_ok &= pthread_create(&t[i], NULL, adder, (void *)(long)i) == 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret = NULL;
        join_ok &= pthread_join(t[i], &ret) == 0;
        values_ok &= (long)ret == 1000 + i;
    }
    check(create_ok, "pthread_create returned 0 four times");
    check(join_ok, "pthread_join returned 0 four times");
    check(values_ok, "each thread's return value came back through pthread_join");
    printf("counter after 4 x %d locked increments: %ld\n", ROUNDS, counter);
    if (counter != THREADS * ROUNDS) failures++;
    for (int i = 0; i < THREADS; i++) {
        struct result *r = &results[i];
        printf("thread %d: tls_init at start %d, tls_zero at start %ld, tls_name at start \"%s\", "
               "at end %d\n", r->index, r->tls_init_at_start, r->tls_zero_at_start, r->name_at_start,
               r->tls_init_at_end);
    }
    printf("main's TLS after the threads: tls_init %d, tls_zero %ld, tls_name \"%s\"\n", tls_init, tls_zero,
           tls_name);
    int same_pid = 1, tids_differ = 1, selfs_differ = 1;
    pid_t me = getpid();
    for (int i = 0; i < THREADS; i++) {
        same_pid &= results[i].pid == me;
        tids_differ &= results[i].tid != me;
        for (int j = 0; j < i; j++) {
            tids_differ &= results[i].tid != results[j].tid;
            selfs_differ &= !pthread_equal(results[i].self, results[j].self);
        }
        selfs_differ &= !pthread_equal(results[i].self, pthread_self());
    }
    check(same_pid, "getpid() is the same in every thread");
    check(tids_differ, "gettid() differs from getpid() and between threads");
    check(selfs_differ, "pthread_self() differs between threads");
    check((pid_t)syscall(SYS_gettid) == me, "main's gettid() is getpid()");

    pthread_t a, b;
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("ping-pong: %d and %d passes, turn %d at the end\n", passes[0], passes[1], turn);

    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, at_barrier, (void *)(long)i);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    printf("barrier: arrivals seen after it:");
    for (int i = 0; i < THREADS; i++) printf(" %d", seen_after[i]);
    printf("; PTHREAD_BARRIER_SERIAL_THREAD returned %d time(s)\n", serial_count);

    pthread_mutex_lock(&gate);
    pthread_t g;
    pthread_create(&g, NULL, through_gate, NULL);
    int before = gate_passed;
    pthread_mutex_unlock(&gate);
    pthread_join(g, NULL);
    check(before == 0 && gate_passed == 1, "a thread waiting on a held mutex passes once it is released");
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all thread checks passed\n");
    return 0;
}
