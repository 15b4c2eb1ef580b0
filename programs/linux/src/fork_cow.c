/* fork_cow: fork isolation and copy-on-write, and the ways to wait for a child.
   - A parent fills 1 MiB on the heap, 64 KiB of globals and 16 KiB of stack, forks; the
     child changes parts of each, checks its own view and exits 42; the parent waits
     (waitpid), checks WIFEXITED/WEXITSTATUS and that its data is unchanged (checksums).
   - Children in sequence, then 4 at once (each writes its own pages of the copy), a
     grandchild (its status comes back through the child's).
   - getpid/getppid facts (printed as yes/no, never a pid): fork's return value is the
     child's getpid(), the child's getppid() is the parent's getpid().
   - waitpid of a chosen pid out of order; WNOHANG on a child blocked on a pipe (0), then
     the blocking wait; children killed by raise(SIGKILL) and by a store to NULL
     (WIFSIGNALED, WTERMSIG 9 and 11); waitid(P_PID, WEXITED) with si_code CLD_EXITED /
     CLD_KILLED and si_status; ECHILD with no children and for a pid that is no child.
   - Zombie reaping order: 3 children become zombies in reverse order (waitid WNOWAIT
     waits for each without reaping); wait() then reaps them oldest first, as Linux does
     (the parent's children list is in fork order).
   - Reparenting: an orphaned grandchild's getppid() changes once its parent is dead.
   Only the parent prints (children report through exit statuses and pipes), so the
   output is the same on any kernel. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAP_SIZE (1 << 20)
#define PAGE 4096

static unsigned char global_buf[64 * 1024];
static int global_val = 1234;
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

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7 + seed + (i >> 12));
}

/* Waits for pid; returns its raw status (or -1 with a message). */
static int wait_for(pid_t pid) {
    int st;
    pid_t r = waitpid(pid, &st, 0);
    if (r != pid) {
        printf("waitpid: %s\n", strerror(errno));
        failures++;
        return -1;
    }
    return st;
}

static void cow(void) {
    unsigned char *heap = malloc(HEAP_SIZE);
    unsigned char stack_buf[16 * 1024];
    fill(heap, HEAP_SIZE, 1);
    fill(global_buf, sizeof global_buf, 2);
    fill(stack_buf, sizeof stack_buf, 3);
    uint32_t h0 = fnv(heap, HEAP_SIZE), g0 = fnv(global_buf, sizeof global_buf);
    uint32_t s0 = fnv(stack_buf, sizeof stack_buf);
    printf("before fork: heap %08x globals %08x stack %08x value %d\n", h0, g0, s0, global_val);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        int bad = 0;
        /* The child sees the parent's data ... */
        if (fnv(heap, HEAP_SIZE) != h0 || fnv(global_buf, sizeof global_buf) != g0 ||
            fnv(stack_buf, sizeof stack_buf) != s0 || global_val != 1234)
            bad |= 1;
        /* ... changes every other page of the heap's first half, the globals, the stack ... */
        for (size_t i = 0; i < HEAP_SIZE / 2; i += 2 * PAGE) memset(heap + i, 0xAB, PAGE);
        memset(global_buf + 100, 0xCD, 5000);
        global_val = 99;
        memset(stack_buf, 0xEF, 100);
        /* ... and sees its own changes, with the rest as it was. */
        for (size_t i = 0; i < HEAP_SIZE / 2; i++) {
            unsigned char want = (i / PAGE) % 2 == 0 ? 0xAB : (unsigned char)(i * 7 + 1 + (i >> 12));
            if (heap[i] != want) bad |= 2;
        }
        for (size_t i = HEAP_SIZE / 2; i < HEAP_SIZE; i++)
            if (heap[i] != (unsigned char)(i * 7 + 1 + (i >> 12))) bad |= 4;
        if (global_buf[100] != 0xCD || global_buf[5099] != 0xCD || global_val != 99 ||
            stack_buf[0] != 0xEF || stack_buf[99] != 0xEF)
            bad |= 8;
        _exit(bad ? 100 + bad : 42);
    }
    int st = wait_for(pid);
    check(WIFEXITED(st), "child exited normally (WIFEXITED)");
    printf("child status (WEXITSTATUS): %d\n", WEXITSTATUS(st));
    uint32_t h1 = fnv(heap, HEAP_SIZE), g1 = fnv(global_buf, sizeof global_buf);
    uint32_t s1 = fnv(stack_buf, sizeof stack_buf);
    printf("after child:  heap %08x globals %08x stack %08x value %d\n", h1, g1, s1, global_val);
    check(h1 == h0 && g1 == g0 && s1 == s0 && global_val == 1234, "parent's data unchanged");
    /* The parent's own writes after the fork are its own too. */
    heap[0] = 0x11;
    check(heap[0] == 0x11 && heap[1] == (unsigned char)(1 * 7 + 1), "parent writes its copy");
    free(heap);
}

static void sequence_and_parallel(void) {
    /* Three children one after another. */
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) _exit(10 + i);
        int st = wait_for(pid);
        printf("sequential child %d: status %d\n", i, WEXITSTATUS(st));
    }
    /* Four at once, each writing its own quarter of a shared-before-fork array and
       returning a checksum of its view; the parent's array stays as it was. */
    enum { N = 4, SIZE = 256 * 1024 };
    unsigned char *a = malloc(SIZE);
    fill(a, SIZE, 5);
    uint32_t before = fnv(a, SIZE);
    pid_t pids[N];
    fflush(stdout);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            unsigned char *q = a + i * (SIZE / N);
            for (int j = 0; j < SIZE / N; j += PAGE) q[j] = (unsigned char)(i + 1);
            uint32_t h = fnv(a, SIZE);
            _exit((int)(h % 200) + 1);
        }
    }
    /* What each child's checksum must be: computed here on a scratch copy. */
    unsigned char *scratch = malloc(SIZE);
    for (int i = N - 1; i >= 0; i--) {
        int st = wait_for(pids[i]);
        memcpy(scratch, a, SIZE);
        for (int j = 0; j < SIZE / N; j += PAGE) scratch[i * (SIZE / N) + j] = (unsigned char)(i + 1);
        int want = (int)(fnv(scratch, SIZE) % 200) + 1;
        printf("parallel child %d: status %d, its view's checksum %s\n", i, WEXITSTATUS(st),
               WEXITSTATUS(st) == want ? "right" : "WRONG");
        if (WEXITSTATUS(st) != want) failures++;
    }
    check(fnv(a, SIZE) == before, "parent's array unchanged by 4 children");
    free(scratch);
    free(a);

    /* A grandchild: the child waits for it and passes its status on, plus one. */
    pid_t me = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pid_t child = getpid();
        pid_t g = fork();
        if (g == 0) _exit(getppid() == child ? 7 : 70);
        int st;
        if (waitpid(g, &st, 0) != g) _exit(90);
        int ok = getppid() == me;
        _exit(WEXITSTATUS(st) + 1 + (ok ? 0 : 100));
    }
    int st = wait_for(pid);
    printf("grandchild's status through the child (7 + 1): %d\n", WEXITSTATUS(st));
}

static void ids(void) {
    pid_t me = getpid();
    int p[2];
    if (pipe(p)) { perror("pipe"); exit(1); }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        pid_t facts[2] = {getpid(), getppid()};
        write(p[1], facts, sizeof facts);
        _exit(0);
    }
    close(p[1]);
    pid_t facts[2] = {0, 0};
    ssize_t n = read(p[0], facts, sizeof facts);
    close(p[0]);
    wait_for(pid);
    check(n == sizeof facts, "child reported its ids");
    check(pid > 0, "fork returns a positive pid to the parent");
    check(facts[0] == pid, "fork's return value is the child's getpid()");
    check(facts[0] != me, "the child's pid differs from the parent's");
    check(facts[1] == me, "the child's getppid() is the parent's getpid()");
}

static void waits(void) {
    /* Two children; wait for the second one first, by pid. */
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) _exit(21);
    pid_t b = fork();
    if (b == 0) _exit(22);
    int st;
    pid_t r = waitpid(b, &st, 0);
    check(r == b && WEXITSTATUS(st) == 22, "waitpid(second child) returns it first");
    r = waitpid(a, &st, 0);
    check(r == a && WEXITSTATUS(st) == 21, "waitpid(first child) then");

    /* WNOHANG on a child blocked reading a pipe: 0; then close the pipe and wait. */
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        char ch;
        ssize_t n = read(p[0], &ch, 1); /* EOF once the parent closes its end */
        _exit(n == 0 ? 3 : 33);
    }
    close(p[0]);
    r = waitpid(c, &st, WNOHANG);
    printf("waitpid WNOHANG on a blocked child: %d\n", (int)r);
    if (r != 0) failures++;
    close(p[1]);
    r = waitpid(c, &st, 0);
    check(r == c, "waitpid after the pipe closed returns the child");
    printf("its status (EOF seen = 3): %d\n", WEXITSTATUS(st));

    /* Killed by a signal. */
    fflush(stdout);
    c = fork();
    if (c == 0) { raise(SIGKILL); _exit(1); }
    st = wait_for(c);
    check(WIFSIGNALED(st) && !WIFEXITED(st), "raise(SIGKILL): WIFSIGNALED");
    printf("WTERMSIG: %d\n", WTERMSIG(st));
    fflush(stdout);
    c = fork();
    if (c == 0) { *(volatile int *)0 = 1; _exit(1); }
    st = wait_for(c);
    check(WIFSIGNALED(st), "store to NULL: WIFSIGNALED");
    printf("WTERMSIG: %d\n", WTERMSIG(st));

    /* waitid. */
    fflush(stdout);
    c = fork();
    if (c == 0) _exit(5);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = waitid(P_PID, c, &si, WEXITED);
    check(w == 0, "waitid(P_PID, WEXITED) returns 0");
    check(si.si_pid == c, "si_pid is the child");
    check(si.si_signo == SIGCHLD, "si_signo is SIGCHLD");
    printf("si_code %s, si_status %d\n", si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);
    fflush(stdout);
    c = fork();
    if (c == 0) { raise(SIGKILL); _exit(1); }
    memset(&si, 0, sizeof si);
    w = waitid(P_PID, c, &si, WEXITED);
    printf("killed child: si_code %s, si_status %d\n",
           si.si_code == CLD_KILLED ? "CLD_KILLED" : si.si_code == CLD_DUMPED ? "CLD_DUMPED" : "other",
           si.si_status);
    /* The waitid reaped it: no child is left. */
    errno = 0;
    r = wait(&st);
    printf("wait with no children: %d, %s\n", (int)r, errno == ECHILD ? "ECHILD" : strerror(errno));
    errno = 0;
    r = waitpid(getpid(), &st, 0);
    printf("waitpid of a pid that is no child: %d, %s\n", (int)r, errno == ECHILD ? "ECHILD" : strerror(errno));
    errno = 0;
    r = waitpid(-1, &st, WNOHANG);
    printf("waitpid(-1, WNOHANG) with no children: %d, %s\n", (int)r, errno == ECHILD ? "ECHILD" : strerror(errno));
}

static void zombies(void) {
    /* Three children, each exits when its pipe is closed; they are made to exit in
       reverse order (waitid WNOWAIT waits for each to be a zombie without reaping). */
    enum { N = 3 };
    pid_t pids[N];
    int go[N][2];
    for (int i = 0; i < N; i++) pipe(go[i]);
    fflush(stdout);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            for (int j = 0; j < N; j++) {
                close(go[j][1]);
                if (j != i) close(go[j][0]);
            }
            char ch;
            read(go[i][0], &ch, 1);
            _exit(60 + i);
        }
    }
    for (int i = 0; i < N; i++) close(go[i][0]);
    for (int i = N - 1; i >= 0; i--) {
        close(go[i][1]);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, pids[i], &si, WEXITED | WNOWAIT) != 0 || si.si_pid != pids[i]) {
            printf("waitid WNOWAIT failed\n");
            failures++;
        }
    }
    /* WNOWAIT left them all: a second look at child 0 sees it still there. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, pids[0], &si, WEXITED | WNOWAIT | WNOHANG);
    check(si.si_pid == pids[0] && si.si_status == 60, "WNOWAIT leaves the zombie to be waited for");
    printf("zombies (exited in order 2 1 0) reaped by wait() in order:");
    for (int k = 0; k < N; k++) {
        int st;
        pid_t r = wait(&st);
        int idx = -1;
        for (int i = 0; i < N; i++)
            if (pids[i] == r) idx = i;
        printf(" %d(status %d)", idx, WEXITSTATUS(st));
    }
    printf("\n");
}

static void orphan(void) {
    /* The child forks a grandchild and exits. The grandchild waits until its parent
       has died (EOF on a pipe only the child holds open), then until its getppid()
       changes (it is reparented: to init, or a subreaper, which may be this process),
       and reports through a pipe to this process. */
    int dead[2], report[2];
    pipe(dead);
    pipe(report);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(report[0]);
        pid_t child = getpid();
        pid_t g = fork();
        if (g == 0) {
            close(dead[1]);
            char ch;
            ssize_t n = read(dead[0], &ch, 1);
            long spins = 0;
            while (getppid() == child && spins < 100000000) {
                sched_yield();
                spins++;
            }
            ch = n == 0 && getppid() != child ? 'y' : 'n';
            write(report[1], &ch, 1);
            _exit(0);
        }
        close(dead[0]);
        close(report[1]);
        _exit(0);
    }
    close(dead[0]);
    close(dead[1]);
    close(report[1]);
    int st = wait_for(c);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the orphan's parent exited");
    char ch = 0;
    ssize_t n = read(report[0], &ch, 1);
    close(report[0]);
    check(n == 1 && ch == 'y', "the orphan's getppid() changed after its parent died");
}

int main(void) {
    cow();
    sequence_and_parallel();
    ids();
    waits();
    zombies();
    orphan();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all fork checks passed\n");
    return 0;
}
