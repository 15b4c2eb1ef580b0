/* thread_life: how a process with threads lives and ends, as its parent sees it.
   Each case runs in a forked child; the parent reports what wait() says.
   - exit() in a thread (exit_group): the whole process ends with that status, while
     main still sleeps in pthread_join.
   - main returns through pthread_exit while a thread still runs: the process ends only
     when the thread does (it writes to a pipe first, after main has gone), status 0.
   - a thread that dereferences NULL: the whole process is killed by SIGSEGV.
   - main has left (pthread_exit) and then a thread calls exit(3), or faults: the
     process's status is the thread's doing (3, SIGSEGV), not main's.
   - a signal sent to the process (kill) with a handler installed by main: taken by one
     of its threads while main blocks in pthread_join (sigaction is process-wide).
   - pthread_kill (tgkill) reaches the thread it names: the handler sees that thread's
     gettid().
   - fork from a thread: the child's getppid() is the process's pid, and a wait in the
     thread collects it.
   - a thread's stack and TLS come back: 200 threads made and joined one after another.
   Only the parent prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static void report(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d (%s)\n", what, WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        printf("%s: status %#x\n", what, st);
}

static int run(void (*body)(void)) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        body();
        _exit(99);
    }
    int st = 0;
    waitpid(c, &st, 0);
    return st;
}

/* exit() from a thread */
static void *exiter(void *arg) {
    nap(5);
    exit(7);
}
static void case_exit_in_thread(void) {
    pthread_t t;
    pthread_create(&t, NULL, exiter, NULL);
    pthread_join(t, NULL);
    _exit(1); /* not reached: the thread's exit ends the process */
}

/* main leaves first */
static int pipefd[2];
static void *outliver(void *arg) {
    nap(20);
    (void)!write(pipefd[1], "late", 4);
    return NULL;
}
static void case_main_leaves_first(void) {
    pthread_t t;
    pthread_create(&t, NULL, outliver, NULL);
    pthread_exit(NULL);
}

/* main leaves first, then the thread ends the process */
static void *late_exit(void *arg) {
    nap(10);
    exit(3);
}
static void *late_fault(void *arg) {
    nap(10);
    *(volatile int *)arg = 1;
    return NULL;
}
static void case_main_leaves_then_exit(void) {
    pthread_t t;
    pthread_create(&t, NULL, late_exit, NULL);
    pthread_exit(NULL);
}
static void case_main_leaves_then_fault(void) {
    pthread_t t;
    pthread_create(&t, NULL, late_fault, NULL);
    pthread_exit(NULL);
}

/* a fault in a thread */
static void *faulter(void *arg) {
    nap(5);
    *(volatile int *)arg = 1;
    return NULL;
}
static void case_fault_in_thread(void) {
    pthread_t t;
    pthread_create(&t, NULL, faulter, NULL);
    pthread_join(t, NULL);
    _exit(2);
}

/* a process-directed signal */
static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { got_usr1++; }
static volatile int ready_for_signal;
static void *waiter_for_signal(void *arg) {
    ready_for_signal = 1;
    while (!got_usr1) nap(1);
    return NULL;
}
static void case_signal_to_process(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, waiter_for_signal, NULL);
    while (!ready_for_signal) nap(1);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    _exit(got_usr1 == 1 ? 30 : 31);
}

/* pthread_kill names one thread */
static volatile pid_t handler_tid, target_tid;
static volatile int target_ready;
static void on_usr2(int s) { handler_tid = (pid_t)syscall(SYS_gettid); }
static void *target(void *arg) {
    target_tid = (pid_t)syscall(SYS_gettid);
    target_ready = 1;
    while (!handler_tid) nap(1);
    return NULL;
}
static void case_pthread_kill(void) {
    signal(SIGUSR2, on_usr2);
    pthread_t t;
    pthread_create(&t, NULL, target, NULL);
    while (!target_ready) nap(1);
    pthread_kill(t, SIGUSR2);
    pthread_join(t, NULL);
    _exit(handler_tid == target_tid && target_tid != getpid() ? 40 : 41);
}

/* fork from a thread */
static pid_t process_pid;
static void *forker(void *arg) {
    pid_t c = fork();
    if (c == 0) _exit(getppid() == process_pid ? 5 : 6);
    int st = 0;
    pid_t got = waitpid(c, &st, 0);
    return (void *)(long)(got == c && WIFEXITED(st) ? WEXITSTATUS(st) : 9);
}
static void case_fork_from_thread(void) {
    process_pid = getpid();
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, forker, NULL);
    pthread_join(t, &r);
    _exit(50 + (int)(long)r);
}

/* many threads, one after another */
static __thread char tls_block[4096];
static void *short_lived(void *arg) {
    tls_block[0] = (char)(long)arg;
    return (void *)(long)tls_block[0];
}
static void case_many_threads(void) {
    for (long i = 0; i < 200; i++) {
        pthread_t t;
        void *r;
        if (pthread_create(&t, NULL, short_lived, (void *)(i & 63)) != 0) _exit(60);
        if (pthread_join(t, &r) != 0 || (long)r != (i & 63)) _exit(61);
    }
    _exit(62);
}

int main(void) {
    report("exit(7) in a thread while main joins", run(case_exit_in_thread));
    if (pipe(pipefd) != 0) return 1;
    int st = run(case_main_leaves_first);
    close(pipefd[1]);
    char buf[8] = {0};
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    report("main calls pthread_exit, a thread lives on", st);
    printf("  the thread wrote \"%s\" (%zd bytes) before the process ended\n", buf, n);
    report("NULL store in a thread", run(case_fault_in_thread));
    report("main calls pthread_exit, then a thread calls exit(3)", run(case_main_leaves_then_exit));
    report("main calls pthread_exit, then a thread stores to NULL", run(case_main_leaves_then_fault));
    report("kill(getpid(), SIGUSR1) with a handler, main in pthread_join (30: taken once)",
           run(case_signal_to_process));
    report("pthread_kill(t, SIGUSR2) (40: the handler ran in t)", run(case_pthread_kill));
    report("fork in a thread (55: the child saw the process as parent, the thread reaped it)",
           run(case_fork_from_thread));
    report("200 threads made and joined (62: all fine)", run(case_many_threads));
    return 0;
}
