/* sig_eintr: a signal with a handler interrupts a process blocked in a slow call. Each case
   runs in a forked child that blocks; the parent signals it (SIGUSR1) after a nap and
   reports the child's exit status, which encodes what the call returned.
   - read of an empty pipe, handler without SA_RESTART: -1, EINTR.
   - the same with SA_RESTART: the read goes on, and returns the byte the parent writes
     later.
   - waitpid for a grandchild that naps, without SA_RESTART: -1, EINTR.
   - write of 100000 bytes into an empty pipe no one reads: it moves 65536 and blocks; the
     signal makes it return 65536.
   In every case the handler ran once.
   - The parent itself, with a SIGCHLD handler without SA_RESTART, blocks in waitpid for
     a child that naps and exits 5: waitpid returns the child (Linux looks at the
     children before the signals), and the handler runs.
   Only the parent prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled, chld;
static void on_chld(int s) { chld++; }
static void on_usr1(int s) { handled++; }

static void nap(long ms) {
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static void catch_usr1(int restart) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
}

static int p[2];
static char big[100000];

static int child(int which) {
    switch (which) {
    case 0: {
        catch_usr1(0);
        char c;
        ssize_t n = read(p[0], &c, 1);
        return n == -1 && errno == EINTR && handled == 1 ? 10 : 11;
    }
    case 1: {
        catch_usr1(1);
        char c = 0;
        ssize_t n = read(p[0], &c, 1);
        return n == 1 && c == 'x' && handled == 1 ? 20 : 21;
    }
    case 2: {
        catch_usr1(0);
        pid_t g = fork();
        if (g == 0) {
            nap(200);
            _exit(0);
        }
        int st;
        pid_t r = waitpid(g, &st, 0);
        int ok = r == -1 && errno == EINTR && handled == 1;
        waitpid(g, &st, 0);
        return ok ? 30 : 31;
    }
    default: {
        catch_usr1(1);
        ssize_t n = write(p[1], big, sizeof big);
        return n == 65536 && handled == 1 ? 40 : 41;
    }
    }
}

int main(void) {
    const char *what[] = {
        "read of an empty pipe, no SA_RESTART (10: EINTR)",
        "read of an empty pipe, SA_RESTART (20: restarted, read the byte)",
        "waitpid, no SA_RESTART (30: EINTR)",
        "write into a full pipe after 65536 bytes (40: returned 65536)",
    };
    for (int i = 0; i < 4; i++) {
        if (pipe(p) != 0) return 1;
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) _exit(child(i));
        nap(20);
        kill(c, SIGUSR1);
        if (i == 1) {
            nap(20);
            (void)!write(p[1], "x", 1);
        }
        int st;
        waitpid(c, &st, 0);
        printf("%s: %d\n", what[i], WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
        close(p[0]);
        close(p[1]);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        nap(20);
        _exit(5);
    }
    int st = 0;
    pid_t r = waitpid(c, &st, 0);
    printf("waitpid with a SIGCHLD handler, no SA_RESTART: returned the child %s, status %d, "
           "SIGCHLD handled %d time(s)\n", r == c ? "yes" : "no", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
           (int)chld);
    return 0;
}
