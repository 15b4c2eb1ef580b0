/* shm_sysv: System V shared memory across fork.
   - shmget(IPC_PRIVATE, 64 KiB, IPC_CREAT|0600), shmat in the parent, fork: the child
     uses the inherited attachment and a second shmat of its own (both see the same
     bytes), writes, shmdt's both; the parent reads what the child wrote.
   - shmctl(IPC_STAT) at stable points: shm_segsz, the mode, shm_nattch (1 after the
     parent's shmat, 2 in the child after fork, 3 after its own shmat, 1 again once
     the child is gone); the child records its counts in the segment.
   - shmctl(IPC_RMID) while attached: the memory stays usable, IPC_STAT shows SHM_DEST
     and the key becomes IPC_PRIVATE; after the last shmdt the id is gone: shmat and
     IPC_STAT fail with EINVAL.
   - Errors: size 0 and a size beyond SHMMAX (EINVAL), a missing key without
     IPC_CREAT (ENOENT), IPC_CREAT|IPC_EXCL of an existing key (EEXIST), shmdt of an
     address that is no attachment (EINVAL).
   - A keyed segment: shmget(key) again finds the same id.
   Keys are made from the pid (never printed), so runs in parallel do not collide.
   Only the parent prints. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (64 * 1024)

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
    default: return strerror(e);
    }
}

static void stat_line(int id, const char *when) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0) {
        printf("IPC_STAT %s: %s\n", when, err(errno));
        failures++;
        return;
    }
    printf("IPC_STAT %s: segsz %zu, mode %03o%s, nattch %lu\n", when, (size_t)ds.shm_segsz,
           ds.shm_perm.mode & 0777, ds.shm_perm.mode & SHM_DEST ? " SHM_DEST" : "",
           (unsigned long)ds.shm_nattch);
}

static unsigned long nattch(int id) {
    struct shmid_ds ds;
    return shmctl(id, IPC_STAT, &ds) == 0 ? (unsigned long)ds.shm_nattch : 999;
}

struct report {
    unsigned long nattch_after_fork, nattch_after_own_attach, nattch_after_detach;
    int same_bytes, saw_parent;
};

int main(void) {
    int id = shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0600);
    if (id < 0) { perror("shmget"); return 1; }
    stat_line(id, "after shmget");
    unsigned char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) { perror("shmat"); return 1; }
    check(p[0] == 0 && p[SIZE - 1] == 0, "a new segment reads zero");
    stat_line(id, "after the parent's shmat");
    strcpy((char *)p, "from the parent");
    struct report *r = (struct report *)(p + SIZE - 4096);

    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 1; }
    if (c == 0) {
        r->nattch_after_fork = nattch(id);
        r->saw_parent = strcmp((char *)p, "from the parent") == 0;
        unsigned char *q = shmat(id, NULL, 0);
        if (q == (void *)-1) _exit(2);
        r->nattch_after_own_attach = nattch(id);
        /* Write through one attachment, read through the other. */
        for (int i = 4096; i < 8192; i++) q[i] = (unsigned char)(i * 13);
        int same = 1;
        for (int i = 4096; i < 8192; i++) same &= p[i] == (unsigned char)(i * 13);
        r->same_bytes = same;
        strcpy((char *)p + 100, "from the child");
        if (shmdt(q) != 0) _exit(3);
        r->nattch_after_detach = nattch(id);
        _exit(shmdt(p) == 0 ? 0 : 4);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    check(r->saw_parent, "the child read the parent's string");
    printf("child: nattch after fork %lu, after its own shmat %lu, after shmdt of that %lu\n",
           r->nattch_after_fork, r->nattch_after_own_attach, r->nattch_after_detach);
    check(r->same_bytes, "the child's two attachments show the same bytes");
    printf("parent reads: %s\n", (char *)p + 100);
    int right = 1;
    for (int i = 4096; i < 8192; i++) right &= p[i] == (unsigned char)(i * 13);
    check(right, "the parent sees the child's 4 KiB");
    stat_line(id, "after the child exited");

    /* IPC_RMID while attached: marked, still usable. */
    check(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID while attached succeeds");
    stat_line(id, "after IPC_RMID");
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    check(ds.shm_perm.__key == IPC_PRIVATE, "its key is IPC_PRIVATE");
    strcpy((char *)p + 200, "still usable");
    check(strcmp((char *)p + 200, "still usable") == 0, "the attachment still works after IPC_RMID");
    check(shmdt(p) == 0, "the last shmdt succeeds");
    errno = 0;
    void *a = shmat(id, NULL, 0);
    printf("shmat after IPC_RMID and the last shmdt: %s, %s\n", a == (void *)-1 ? "fails" : "succeeds", err(errno));
    errno = 0;
    int rc = shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT of the removed id: %d, %s\n", rc, err(errno));

    /* Errors. */
    errno = 0;
    rc = shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600);
    printf("shmget size 0: %d, %s\n", rc, err(errno));
    errno = 0;
    rc = shmget(IPC_PRIVATE, (size_t)-1, IPC_CREAT | 0600);
    printf("shmget size beyond SHMMAX: %d, %s\n", rc, err(errno));
    key_t key = (key_t)(0x766d0000 ^ (getpid() & 0xffff) << 1);
    errno = 0;
    rc = shmget(key + 1, 4096, 0600);
    printf("shmget of a missing key without IPC_CREAT: %d, %s\n", rc, err(errno));
    int k1 = shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0600);
    check(k1 >= 0, "shmget(key, IPC_CREAT|IPC_EXCL) creates");
    errno = 0;
    rc = shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0600);
    printf("again with IPC_EXCL: %d, %s\n", rc, err(errno));
    check(shmget(key, 8192, 0600) == k1, "shmget(key) without IPC_CREAT finds the same id");
    check(shmget(key, 4096, 0600) == k1, "a smaller size finds it too");
    errno = 0;
    rc = shmget(key, 16384, 0600);
    printf("a larger size than the segment's: %d, %s\n", rc, err(errno));
    shmctl(k1, IPC_STAT, &ds);
    check(ds.shm_perm.__key == key, "IPC_STAT shows the key");
    printf("keyed segment: segsz %zu, nattch %lu\n", (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch);
    check(shmctl(k1, IPC_RMID, NULL) == 0, "IPC_RMID of an unattached segment succeeds");
    errno = 0;
    rc = shmget(key, 8192, 0600);
    printf("shmget of the removed key: %d, %s\n", rc, err(errno));
    errno = 0;
    int dummy;
    rc = shmdt(&dummy);
    printf("shmdt of an address that is no attachment: %d, %s\n", rc, err(errno));
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all System V shm checks passed\n");
    return 0;
}
