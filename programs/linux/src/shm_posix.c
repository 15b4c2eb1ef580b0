/* shm_posix: POSIX shared memory across fork. glibc's shm_open("/vmlab_test_PID") opens
   /dev/shm/vmlab_test_PID (O_NOFOLLOW|O_CLOEXEC added), so the kernel needs a /dev/shm.
   (The pid, never printed, keeps runs in parallel on one host apart.)
   - shm_open(O_CREAT|O_EXCL|O_RDWR, 0600): a new object has size 0 (fstat);
     ftruncate to 64 KiB; mmap MAP_SHARED; fork: the child writes through the
     inherited mapping and through a second shm_open + mmap of its own, and checks they
     agree; the parent reads what it wrote (checksum), and read()/pread() through the
     descriptor see the same bytes as the mapping.
   - shm_open(O_CREAT|O_EXCL) of an existing name: EEXIST; shm_unlink; then shm_open
     without O_CREAT: ENOENT; the mapping still works after the unlink; shm_unlink
     again: ENOENT.
   Only the parent prints. Under qemu-user the host's /dev/shm is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char shm_name[64];
#define SIZE (64 * 1024)

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "yes" : "no");
    if (!ok) failures++;
}

static const char *err(int e) {
    switch (e) {
    case 0: return "no error";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    default: return strerror(e);
    }
}

static uint32_t fnv(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

int main(void) {
    snprintf(shm_name, sizeof shm_name, "/vmlab_test_%d", (int)getpid());
    int fd = shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) { perror("shm_open"); return 1; }
    struct stat st;
    fstat(fd, &st);
    printf("new object: size %lld, regular file %s, mode %03o\n", (long long)st.st_size,
           S_ISREG(st.st_mode) ? "yes" : "no", st.st_mode & 0777);
    check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "shm_open's descriptor is close-on-exec");
    check(ftruncate(fd, SIZE) == 0, "ftruncate to 64 KiB");
    fstat(fd, &st);
    printf("after ftruncate: size %lld\n", (long long)st.st_size);
    unsigned char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    check(p[0] == 0 && p[SIZE - 1] == 0, "the object reads zero");
    strcpy((char *)p, "parent was here");

    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { perror("fork"); return 1; }
    if (c == 0) {
        int bad = 0;
        if (strcmp((char *)p, "parent was here") != 0) bad |= 1;
        for (int i = 4096; i < SIZE; i++) p[i] = (unsigned char)(i * 7 + (i >> 9));
        /* A second mapping of the same object, by name. */
        int fd2 = shm_open(shm_name, O_RDWR, 0);
        if (fd2 < 0) _exit(50);
        unsigned char *q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        if (q == MAP_FAILED) _exit(51);
        for (int i = 4096; i < SIZE; i++)
            if (q[i] != p[i]) { bad |= 2; break; }
        strcpy((char *)q + 100, "child wrote this through its own mapping");
        if (strcmp((char *)p + 100, "child wrote this through its own mapping") != 0) bad |= 4;
        munmap(q, SIZE);
        close(fd2);
        _exit(bad);
    }
    int status;
    waitpid(c, &status, 0);
    printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("parent reads: %s\n", (char *)p + 100);
    printf("checksum of the object %08x\n", fnv(p, SIZE));
    int right = 1;
    for (int i = 4096; i < SIZE; i++) right &= p[i] == (unsigned char)(i * 7 + (i >> 9));
    check(right, "the parent sees the child's 60 KiB");
    /* The descriptor reads the same bytes as the mapping. */
    char buf[64];
    ssize_t n = pread(fd, buf, 16, 0);
    check(n == 16 && memcmp(buf, "parent was here", 16) == 0, "pread at 0 sees the mapping");
    lseek(fd, 100, SEEK_SET);
    n = read(fd, buf, 41);
    check(n == 41 && memcmp(buf, p + 100, 41) == 0, "read at 100 sees the child's string");
    /* And a write() through the descriptor shows in the mapping. */
    pwrite(fd, "via write", 9, 200);
    check(memcmp(p + 200, "via write", 9) == 0, "pwrite shows in the mapping");

    errno = 0;
    int fd3 = shm_open(shm_name, O_CREAT | O_EXCL | O_RDWR, 0600);
    printf("shm_open O_CREAT|O_EXCL of an existing name: %d, %s\n", fd3, err(errno));
    check(shm_unlink(shm_name) == 0, "shm_unlink");
    errno = 0;
    fd3 = shm_open(shm_name, O_RDWR, 0);
    printf("shm_open after the unlink: %d, %s\n", fd3, err(errno));
    strcpy((char *)p + 300, "still mapped");
    check(strcmp((char *)p + 300, "still mapped") == 0, "the mapping works after the unlink");
    errno = 0;
    int rc = shm_unlink(shm_name);
    printf("shm_unlink again: %d, %s\n", rc, err(errno));
    munmap(p, SIZE);
    close(fd);
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all POSIX shm checks passed\n");
    return 0;
}
