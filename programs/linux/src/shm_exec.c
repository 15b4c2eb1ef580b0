/* shm_exec: execve drops the attaches of System V segments, as exit does.
   argv[1] is the guest path of this program (it execs itself). The parent makes a
   segment and attaches it; a child attaches it twice more (nattch 3), then execs
   this program with "after-exec" and two descriptors: the new program (no attaches)
   writes a byte when it runs and waits for the parent to close the other pipe. While
   it runs, the segment's nattch is 1 (the parent's attach) and shm_lpid is the
   child's pid; a segment marked with IPC_RMID that only the child had attached is gone
   once the child has exec'd. Only the parent prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long nattch(int id, pid_t *lpid) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0) return 999;
    if (lpid) *lpid = ds.shm_lpid;
    return (unsigned long)ds.shm_nattch;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "after-exec") == 0) {
        int ready = atoi(argv[2]), done = atoi(argv[3]);
        char b = 1;
        if (write(ready, &b, 1) != 1) return 2;
        return read(done, &b, 1) == 0 ? 0 : 3;
    }
    if (argc != 2) { fprintf(stderr, "usage: shm_exec PATH-OF-ITSELF\n"); return 1; }
    int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    int only = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0 || only < 0) { perror("shmget"); return 1; }
    if (shmat(id, NULL, 0) == (void *)-1) { perror("shmat"); return 1; }
    int ready[2], done[2];
    if (pipe(ready) || pipe(done)) { perror("pipe"); return 1; }
    int attached[2];
    if (pipe(attached)) { perror("pipe"); return 1; }
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 1; }
    if (c == 0) {
        close(ready[0]);
        close(done[1]);
        close(attached[0]);
        if (shmat(id, NULL, 0) == (void *)-1 || shmat(only, NULL, 0) == (void *)-1) _exit(4);
        char b = 1;
        if (write(attached[1], &b, 1) != 1) _exit(5);
        /* Wait until the parent has looked, then exec. */
        if (read(done[0], &b, 1) != 1) _exit(6);
        char r[16], d[16];
        snprintf(r, sizeof r, "%d", ready[1]);
        snprintf(d, sizeof d, "%d", done[0]);
        execl(argv[1], "shm_exec", "after-exec", r, d, (char *)NULL);
        _exit(7);
    }
    close(ready[1]);
    close(done[0]);
    close(attached[1]);
    char b;
    if (read(attached[0], &b, 1) != 1) { printf("the child failed\n"); return 1; }
    printf("nattch before the child's exec: %lu (the marked one: %lu)\n", nattch(id, NULL),
           nattch(only, NULL));
    /* Marked: it goes when its only attacher execs. */
    shmctl(only, IPC_RMID, NULL);
    if (write(done[1], &b, 1) != 1) return 1;
    if (read(ready[0], &b, 1) != 1) { printf("the exec'd program did not run\n"); return 1; }
    pid_t lpid = 0;
    printf("nattch while the exec'd program runs: %lu\n", nattch(id, &lpid));
    printf("shm_lpid is the child's: %s\n", lpid == c ? "yes" : "no");
    struct shmid_ds ds;
    errno = 0;
    int rc = shmctl(only, IPC_STAT, &ds);
    printf("IPC_STAT of the marked segment after the exec: %d, %s\n", rc,
           errno == EINVAL ? "EINVAL" : errno ? strerror(errno) : "no error");
    close(done[1]);
    int st;
    waitpid(c, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("nattch at the end: %lu\n", nattch(id, NULL));
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
