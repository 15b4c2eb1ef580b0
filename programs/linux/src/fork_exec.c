/* fork_exec: fork + execve. argv[1] is the path of exec_child (the harness puts the
   corpus's bin/exec_child in the guest's file system).
   - The child sets SIGUSR1 to SIG_IGN and a handler for SIGUSR2, arranges its
     descriptors and execs exec_child with its own argv and envp: fd 20 a dup2 of the
     report pipe (FD_CLOEXEC clear: stays open), fd 21 a dup3(O_CLOEXEC) of it and fd
     22 a dup with FD_CLOEXEC set by fcntl (both closed by the exec), the two ends of
     a pipe2(O_CLOEXEC) (closed), fd 23 a dup2 of one of those (open). exec_child
     writes its report to fd 20: argv, envp, getppid()/getpid() facts, each
     descriptor, the two signal dispositions; the parent reads the pipe to EOF,
     waits, prints it, and prints the exit status (23) that came back.
   - A child whose execve fails exits 127; the parent sees it.
   - execve errors in this process (it goes on after each): a missing file (ENOENT),
     an empty path (ENOENT), a directory (EACCES), a text file without execute
     permission (EACCES), the same with it (ENOEXEC: no ELF, no #!), a path through a
     regular file (ENOTDIR). A scratch file in /tmp (its name has the pid, never
     printed), removed at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static const char *err(int e) {
    switch (e) {
    case 0: return "no error";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case ENOTDIR: return "ENOTDIR";
    case EFAULT: return "EFAULT";
    default: return strerror(e);
    }
}

static void on_usr2(int sig) { (void)sig; }

static void run_child(const char *path) {
    int rep[2], cx[2];
    if (pipe(rep) || pipe2(cx, O_CLOEXEC)) { perror("pipe"); exit(1); }
    pid_t parent = getpid();
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); exit(1); }
    if (c == 0) {
        signal(SIGUSR1, SIG_IGN);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr2;
        sigaction(SIGUSR2, &sa, NULL);
        dup2(rep[1], 20);
        dup3(rep[1], 21, O_CLOEXEC);
        dup2(rep[1], 22);
        fcntl(22, F_SETFD, FD_CLOEXEC);
        dup2(cx[0], 23);
        close(rep[0]);
        close(rep[1]);
        char ppid[32], pid[32], fds[64];
        snprintf(ppid, sizeof ppid, "%d", (int)parent);
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        snprintf(fds, sizeof fds, "0,1,2,20,21,22,23,%d,%d", cx[0], cx[1]);
        char *argv[] = {(char *)path, "20", "23", ppid, pid, fds, "one", "two words", "", NULL};
        char *envp[] = {"VMLAB_B=2", "VMLAB_A=one", "EMPTY=", "WITH_EQ=a=b", NULL};
        execve(path, argv, envp);
        dprintf(20, "execve failed: %s\n", err(errno));
        _exit(127);
    }
    close(rep[1]);
    close(cx[0]);
    close(cx[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(rep[0], buf + len, sizeof buf - 1 - len)) > 0) len += n;
    buf[len] = 0;
    close(rep[0]);
    int st;
    pid_t r = waitpid(c, &st, 0);
    printf("report from the exec'd program (%zu bytes):\n%s", len, buf);
    printf("waitpid returned the child: %s\n", r == c ? "yes" : "no");
    printf("exit status through waitpid: %s %d\n", WIFEXITED(st) ? "exited" : "killed",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    if (r != c || !WIFEXITED(st) || WEXITSTATUS(st) != 23) failures++;
}

static void failing_child(void) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *argv[] = {"missing", NULL};
        char *envp[] = {NULL};
        execve("/tmp/vmlab_fork_exec_missing", argv, envp);
        _exit(errno == ENOENT ? 127 : 126);
    }
    int st;
    waitpid(c, &st, 0);
    printf("a child whose execve failed: status %d\n", WEXITSTATUS(st));
}

static void try_exec(const char *what, const char *path) {
    char *argv[] = {(char *)path, NULL};
    char *envp[] = {NULL};
    errno = 0;
    int rc = execve(path, argv, envp);
    printf("execve %s: %d, %s\n", what, rc, err(errno));
}

static void errors(void) {
    char text[64], through[80];
    snprintf(text, sizeof text, "/tmp/vmlab_fork_exec_%d.txt", (int)getpid());
    snprintf(through, sizeof through, "%s/x", text);
    int fd = open(text, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, "just text, no ELF header and no #!\n", 35);
    close(fd);
    chmod(text, 0644);
    try_exec("of a missing file", "/tmp/vmlab_fork_exec_missing");
    try_exec("of an empty path", "");
    try_exec("of a directory", "/tmp");
    try_exec("of a text file without execute permission", text);
    chmod(text, 0755);
    try_exec("of an executable text file", text);
    try_exec("of a path through a regular file", through);
    unlink(text);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("usage: fork_exec PATH-OF-exec_child\n");
        return 2;
    }
    run_child(argv[1]);
    failing_child();
    errors();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all fork/exec checks passed\n");
    return 0;
}
