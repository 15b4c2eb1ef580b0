/* vfork_share: a vfork child runs in its parent's memory (Linux's vfork, CLONE_VM |
   CLONE_VFORK), so what it stores before _exit is there for the parent; glibc's
   posix_spawn relies on that to report an exec failure (the child writes errno into the
   parent's memory, then exits 127). Not in tests.toml: qemu-user makes vfork a fork, so it
   cannot record what Linux prints; tests/threads.rs holds the expected lines, from
   Linux's behaviour.
   - a vfork child stores into a static and a heap word: the parent sees both.
   - posix_spawn of a file that does not exist returns ENOENT; posix_spawnp of a name no
     PATH folder holds returns ENOENT; of a directory, EACCES. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static volatile int seen;

static const char *err(int e) {
    return e == 0 ? "0" : e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : strerror(e);
}

int main(void) {
    volatile int *heap = malloc(sizeof *heap);
    *heap = 1;
    pid_t c = vfork();
    if (c == 0) {
        seen = 42;
        *heap = 43;
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("the vfork child's stores are the parent's: static %d, heap %d\n", seen, *heap);
    pid_t p;
    char *argv[] = {"x", NULL};
    printf("posix_spawn of a missing file: %s\n", err(posix_spawn(&p, "/no/such/program", NULL, NULL, argv, environ)));
    char *env[] = {"PATH=/tmp", NULL};
    printf("posix_spawnp of a name no PATH folder holds: %s\n",
           err(posix_spawnp(&p, "no-such-command", NULL, NULL, argv, env)));
    printf("posix_spawn of a directory: %s\n", err(posix_spawn(&p, "/tmp", NULL, NULL, argv, environ)));
    return 0;
}
