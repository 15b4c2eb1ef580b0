/* fork_bomb [LIMIT]: forks until fork fails, and what the failure says.
   - The parent forks children that all stay alive (each blocks reading a pipe whose
     write end only the parent keeps) until fork fails; it prints how many it made and
     the errno (EAGAIN: the limit on processes, Linux's RLIMIT_NPROC, vmlab's
     os.max_processes, counts the parent too).
   - It closes the pipe: every child exits with its number as status. Once all are
     zombies (waitid WEXITED|WNOWAIT on each, which reaps nothing) a fork still fails:
     a zombie holds its place until it is reaped. Reaping one frees a place (a fork then
     succeeds; that child is reaped at once), and the rest are reaped in fork order,
     each status checked.
   - LIMIT, when given and not 0, is the number of processes the program allows itself:
     it refuses a fork with EAGAIN itself, as the kernel would with that limit, before
     asking the kernel. qemu-user's host allows thousands of processes (and none is
     enforced for root), so the expected output is recorded under qemu with LIMIT 16,
     and vmlab runs the program without LIMIT under os.max_processes=16, where the
     kernel itself must refuse: the output is the same. Without LIMIT the program stops
     at 1000 children (a safety cap) and says so.
   Only the parent prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP 1000

static long limit;      /* the processes the program allows itself, or 0 */
static long unreaped;   /* children not yet reaped */
static pid_t kids[CAP];

/* fork, or EAGAIN when the program's own limit is reached (it and its unreaped
   children count, as RLIMIT_NPROC counts a user's processes). */
static pid_t limited_fork(void) {
    if (limit && 1 + unreaped >= limit) {
        errno = EAGAIN;
        return -1;
    }
    pid_t pid = fork();
    if (pid > 0) unreaped++;
    return pid;
}

static const char *errname(int e) {
    return e == EAGAIN ? "EAGAIN" : e == ENOMEM ? "ENOMEM" : e == ENOSYS ? "ENOSYS" : "another errno";
}

/* A fork whose child exits 0 at once, reaped: "ok", or the errno's name. */
static const char *try_fork(void) {
    pid_t pid = limited_fork();
    if (pid < 0) return errname(errno);
    if (pid == 0) _exit(0);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return "wrong wait";
    unreaped--;
    return "ok";
}

int main(int argc, char **argv) {
    limit = argc > 1 ? strtol(argv[1], 0, 10) : 0;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    long n = 0;
    int err = 0;
    while (n < CAP) {
        pid_t pid = limited_fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            char c;
            close(fds[1]);
            ssize_t r = read(fds[0], &c, 1);
            _exit(r == 0 ? (int)(n + 1) : 200);
        }
        kids[n++] = pid;
    }
    if (n == CAP) printf("made %d children and no fork failed (no limit)\n", CAP);
    else printf("made %ld children; fork %ld failed: %s\n", n, n + 1, errname(err));
    close(fds[1]);
    /* Every child a zombie, none reaped. */
    int zombies = 0;
    for (long i = 0; i < n; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOWAIT) == 0 && si.si_pid == kids[i] &&
            si.si_code == CLD_EXITED && si.si_status == (int)(i + 1))
            zombies++;
    }
    printf("%d zombies; a fork now: %s\n", zombies, try_fork());
    int st, good = 0;
    if (n > 0 && waitpid(kids[0], &st, 0) == kids[0] && WIFEXITED(st) && WEXITSTATUS(st) == 1) {
        good++;
        unreaped--;
    }
    printf("one reaped; a fork now: %s\n", try_fork());
    for (long i = 1; i < n; i++)
        if (waitpid(kids[i], &st, 0) == kids[i]) {
            unreaped--;
            if (WIFEXITED(st) && WEXITSTATUS(st) == (int)(i + 1)) good++;
        }
    printf("reaped %d of %ld with the right status; wait then: %s\n", good, n,
           wait(&st) < 0 && errno == ECHILD ? "ECHILD" : "a child left");
    printf("a fork after reaping all: %s\n", try_fork());
    return good == n ? 0 : 1;
}
