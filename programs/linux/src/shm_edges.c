/* shm_edges: System V shared memory at its edges (shm_sysv covers the common path).
   - nattch through fork and exit: the parent's attach, the child's inherited copy and
     its own second attach count 3; the child exits without shmdt: 1 again, and the
     last pid is the child's.
   - nattch counts areas as Linux counts VMAs: munmap of the middle page of a
     three-page attach leaves two pieces (nattch 2); shmdt of the attach's address
     removes both; shmdt of an address inside an attach, of an unaligned address, and
     of an address that is no attach fail with EINVAL.
   - shmat at a given address: unaligned fails (EINVAL) unless SHM_RND rounds it down;
     over an existing attach fails (EINVAL). (SHM_REMAP without an address is EINVAL on
     Linux, but qemu-user's own shmat lets it through: not checked here.)
   - Permissions: a 0400 segment cannot be attached for writing (EACCES) but can with
     SHM_RDONLY; shmget of its key asking for write fails (EACCES); IPC_SET to 0600
     makes both work; a 0000 segment's IPC_STAT fails (EACCES).
   - IPC_RMID while attached: the segment can still be attached by id (nattch 2); it
     goes with the last shmdt.
   - shmctl: a removed id, a negative id, an unknown command: EINVAL; IPC_INFO's
     SHMMIN and SHMMNI; SHM_INFO counts the segments, their pages and those in memory.
   - Sizes: shmget of 1 MiB and of 64 pages (configurable limits: tests/processes.rs
     runs it with small os.shmmax and os.shmall too); segments until the limit on
     their number: ENOSPC.
   Run as root (as qemu is when its output is recorded) it becomes uid 1000 first, as
   vmlab's guest is, so that permission bits count. Only the parent prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "yes" : "no");
    if (!ok) failures++;
}

static const char *err(int e) {
    switch (e) {
    case 0: return "no error";
    case EINVAL: return "EINVAL";
    case EIDRM: return "EIDRM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    case EPERM: return "EPERM";
    default: return strerror(e);
    }
}

static struct shmid_ds stat_of(int id) {
    struct shmid_ds ds;
    memset(&ds, 0, sizeof ds);
    if (shmctl(id, IPC_STAT, &ds) != 0) ds.shm_nattch = 999;
    return ds;
}

static unsigned long nattch(int id) { return (unsigned long)stat_of(id).shm_nattch; }

int main(void) {
    if (getuid() == 0 && (setgid(1000) != 0 || setuid(1000) != 0)) {
        perror("setuid");
        return 1;
    }
    /* nattch through fork and exit. */
    int id = shmget(IPC_PRIVATE, 3 * PAGE, IPC_CREAT | 0600);
    if (id < 0) { perror("shmget"); return 1; }
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) { perror("shmat"); return 1; }
    check(stat_of(id).shm_cpid == getpid(), "shm_cpid is the creator's pid");
    check(stat_of(id).shm_lpid == getpid(), "shm_lpid is the last shmat's pid");
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent)) { perror("pipe"); return 1; }
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 1; }
    if (c == 0) {
        char b = 0;
        close(to_child[1]);
        close(to_parent[0]);
        if (shmat(id, NULL, 0) == (void *)-1) _exit(2);
        if (write(to_parent[1], &b, 1) != 1) _exit(3);
        if (read(to_child[0], &b, 1) != 0) _exit(4);
        _exit(0); /* both attaches go with the process */
    }
    close(to_child[0]);
    close(to_parent[1]);
    char b;
    if (read(to_parent[0], &b, 1) != 1) { printf("the child failed\n"); return 1; }
    printf("nattch with the child's two attaches: %lu\n", nattch(id));
    close(to_child[1]);
    int st;
    waitpid(c, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("nattch after the child exited without shmdt: %lu\n", nattch(id));
    check(stat_of(id).shm_lpid == c, "shm_lpid is the exited child's");
    check(stat_of(id).shm_dtime != 0, "shm_dtime is set");

    /* Pieces of an attach. */
    check(munmap(p + PAGE, PAGE) == 0, "munmap of the attach's middle page");
    printf("nattch with the attach in two pieces: %lu\n", nattch(id));
    errno = 0;
    int rc = shmdt(p + 2 * PAGE);
    printf("shmdt inside the attach: %d, %s\n", rc, err(errno));
    errno = 0;
    rc = shmdt(p + 5);
    printf("shmdt of an unaligned address: %d, %s\n", rc, err(errno));
    check(shmdt(p) == 0, "shmdt of the attach's address");
    printf("nattch after it: %lu\n", nattch(id));
    errno = 0;
    rc = shmdt(p);
    printf("shmdt of it again: %d, %s\n", rc, err(errno));

    /* shmat at an address. */
    errno = 0;
    void *a = shmat(id, p + 100, 0);
    printf("shmat at an unaligned address: %s, %s\n", a == (void *)-1 ? "fails" : "succeeds", err(errno));
    a = shmat(id, p + 100, SHM_RND);
    check(a == p, "with SHM_RND it is rounded down");
    errno = 0;
    void *a2 = shmat(id, p, 0);
    printf("shmat over that attach: %s, %s\n", a2 == (void *)-1 ? "fails" : "succeeds", err(errno));
    shmdt(a);

    /* Permissions. */
    key_t key = (key_t)(0x766e0000 ^ (getpid() & 0xffff) << 1);
    int ro = shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0400);
    check(ro >= 0, "a 0400 segment is made");
    errno = 0;
    a = shmat(ro, NULL, 0);
    printf("shmat of it for writing: %s, %s\n", a == (void *)-1 ? "fails" : "succeeds", err(errno));
    a = shmat(ro, NULL, SHM_RDONLY);
    check(a != (void *)-1 && ((char *)a)[0] == 0, "SHM_RDONLY attaches and reads");
    shmdt(a);
    errno = 0;
    rc = shmget(key, PAGE, 0600);
    printf("shmget of its key asking for write: %d, %s\n", rc, err(errno));
    check(shmget(key, PAGE, 0400) == ro, "asking for read finds it");
    struct shmid_ds ds = stat_of(ro);
    ds.shm_perm.mode = 0600;
    check(shmctl(ro, IPC_SET, &ds) == 0, "IPC_SET to 0600");
    printf("mode now %03o\n", stat_of(ro).shm_perm.mode & 0777);
    a = shmat(ro, NULL, 0);
    check(a != (void *)-1, "shmat for writing works now");
    ((char *)a)[0] = 1;
    shmdt(a);
    shmctl(ro, IPC_RMID, NULL);
    int none = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0000);
    errno = 0;
    rc = shmctl(none, IPC_STAT, &ds);
    printf("IPC_STAT of a 0000 segment: %d, %s\n", rc, err(errno));
    check(shmctl(none, IPC_RMID, NULL) == 0, "its owner may still remove it");

    /* IPC_RMID while attached; attach by id after it. */
    p = shmat(id, NULL, 0);
    check(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID while attached");
    char *q = shmat(id, NULL, 0);
    check(q != (void *)-1, "the marked segment can still be attached by id");
    printf("nattch: %lu\n", nattch(id));
    strcpy(q, "same bytes");
    check(strcmp(p, "same bytes") == 0, "both attaches show the same bytes");
    shmdt(q);
    printf("nattch after one shmdt: %lu\n", nattch(id));
    check(stat_of(id).shm_perm.mode & SHM_DEST, "still marked SHM_DEST");
    shmdt(p);
    errno = 0;
    rc = shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT after the last shmdt: %d, %s\n", rc, err(errno));
    errno = 0;
    rc = shmctl(id, IPC_RMID, NULL);
    printf("IPC_RMID of the removed id: %d, %s\n", rc, err(errno));
    errno = 0;
    rc = shmctl(-1, IPC_STAT, &ds);
    printf("IPC_STAT of id -1: %d, %s\n", rc, err(errno));
    int k = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    int k3 = shmget(IPC_PRIVATE, 3 * PAGE, IPC_CREAT | 0600);
    errno = 0;
    rc = shmctl(k, 99, &ds);
    printf("shmctl command 99: %d, %s\n", rc, err(errno));
    struct shminfo info;
    rc = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    printf("IPC_INFO: %s, shmmin %lu, shmmni %lu\n", rc >= 0 ? "ok" : err(errno),
           (unsigned long)info.shmmin, (unsigned long)info.shmmni);
    /* SHM_INFO: this 3-page segment, 2 pages of it touched, is counted. */
    char *t = shmat(k3, NULL, 0);
    t[0] = 1;
    t[2 * PAGE] = 1;
    struct shm_info use;
    rc = shmctl(0, SHM_INFO, (struct shmid_ds *)&use);
    printf("SHM_INFO: %s, used_ids >= 2 %s, shm_tot >= 4 %s, shm_rss >= 2 %s\n",
           rc >= 0 ? "ok" : err(errno), use.used_ids >= 2 ? "yes" : "no",
           use.shm_tot >= 4 ? "yes" : "no", use.shm_rss >= 2 ? "yes" : "no");
    shmdt(t);
    shmctl(k3, IPC_RMID, NULL);
    shmctl(k, IPC_RMID, NULL);

    /* Sizes and limits. */
    errno = 0;
    k = shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600);
    printf("shmget of 1 MiB: %s\n", err(k < 0 ? errno : 0));
    if (k >= 0) shmctl(k, IPC_RMID, NULL);
    errno = 0;
    k = shmget(IPC_PRIVATE, 64 * PAGE, IPC_CREAT | 0600);
    printf("shmget of 64 pages: %s\n", err(k < 0 ? errno : 0));
    if (k >= 0) shmctl(k, IPC_RMID, NULL);
    static int ids[40000];
    int n = 0, e = 0;
    while (n < 40000) {
        int i = shmget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
        if (i < 0) { e = errno; break; }
        ids[n++] = i;
    }
    printf("segments until the limit: at least 8 %s, then %s\n", n >= 8 ? "yes" : "no", err(e));
    for (int i = 0; i < n; i++) shmctl(ids[i], IPC_RMID, NULL);
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all edge checks passed\n");
    return 0;
}
