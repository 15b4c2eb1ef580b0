/* exec_child: the program fork_exec runs with execve (not a test of its own).
   argv[1] is the descriptor to report on, argv[2] the exit status to return, argv[3]
   the parent's pid, argv[4] the pid the child had before execve, argv[5] a comma list
   of descriptors to probe; the rest are printed. The report (written to the report
   descriptor, never a pid): the basename of argv[0], argc and each further argument,
   the environment sorted (qemu-user hands it over reversed), whether getppid() is the
   parent and getpid() the pid from before the exec, each probed descriptor open or
   closed (fcntl F_GETFD: EBADF) and its FD_CLOEXEC bit, and the dispositions of
   SIGUSR1 (ignored before the exec: stays ignored) and SIGUSR2 (caught before the
   exec: back to the default). It also prints a line on stdout (inherited). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *disposition(int sig) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0) return "?";
    if (sa.sa_handler == SIG_IGN) return "SIG_IGN";
    if (sa.sa_handler == SIG_DFL) return "SIG_DFL";
    return "a handler";
}

int main(int argc, char **argv) {
    if (argc < 6) {
        printf("exec_child: usage: REPORT-FD STATUS PARENT-PID OLD-PID FD,FD,... [ARGS]\n");
        return 2;
    }
    int rfd = atoi(argv[1]);
    FILE *r = fdopen(rfd, "w");
    if (!r) return 3;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    fprintf(r, "exec_child: argv[0] basename %s, argc %d\n", base, argc);
    for (int i = 6; i < argc; i++) fprintf(r, "exec_child: argv[%d] \"%s\"\n", i, argv[i]);
    int n = 0;
    while (environ[n]) n++;
    char **env = malloc((n + 1) * sizeof *env);
    memcpy(env, environ, (n + 1) * sizeof *env);
    qsort(env, n, sizeof *env, cmp);
    fprintf(r, "exec_child: %d environment strings\n", n);
    for (int i = 0; i < n; i++) fprintf(r, "exec_child: env \"%s\"\n", env[i]);
    fprintf(r, "exec_child: getppid() is the parent: %s\n", getppid() == atoi(argv[3]) ? "yes" : "no");
    fprintf(r, "exec_child: getpid() kept across execve: %s\n", getpid() == atoi(argv[4]) ? "yes" : "no");
    char *list = strdup(argv[5]);
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        int fd = atoi(t);
        errno = 0;
        int f = fcntl(fd, F_GETFD);
        if (f < 0)
            fprintf(r, "exec_child: fd %d closed (%s)\n", fd, errno == EBADF ? "EBADF" : strerror(errno));
        else
            fprintf(r, "exec_child: fd %d open, FD_CLOEXEC %s\n", fd, f & FD_CLOEXEC ? "set" : "clear");
    }
    fprintf(r, "exec_child: SIGUSR1 %s, SIGUSR2 %s\n", disposition(SIGUSR1), disposition(SIGUSR2));
    printf("exec_child: this line is on the inherited stdout\n");
    fclose(r);
    return atoi(argv[2]);
}
