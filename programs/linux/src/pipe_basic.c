/* pipe_basic: a pipe within one process, as pipe(7) describes it. pipe2 gives the read
   end on the lowest free descriptor and the write end on the next; bytes come out in the
   order they went in, a read returns what is there (a partial read), FIONREAD counts the
   bytes waiting, writev/readv move several buffers as one; fstat says S_IFIFO; lseek and
   pread are ESPIPE; reading the write end or writing the read end is EBADF; F_GETFL gives
   each end's access mode; once the write end is closed the read end reads the rest, then 0
   (end of file). pipe2 with an unknown flag is EINVAL, with a bad array EFAULT. (That no
   descriptor is then left open is checked in tests/pipes.rs: qemu-user leaks the two.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

int main(void) {
    int p[2];
    show("pipe2", pipe2(p, 0));
    printf("write end follows read end: %d\n", p[1] == p[0] + 1);
    show("write hello", write(p[1], "hello, pipe", 11));
    int n = -1;
    show("ioctl FIONREAD", ioctl(p[0], FIONREAD, &n));
    printf("bytes waiting: %d\n", n);
    char buf[64] = {0};
    show("read 5", read(p[0], buf, 5));
    printf("got '%s'\n", buf);
    memset(buf, 0, sizeof buf);
    show("read 64 (partial)", read(p[0], buf, sizeof buf));
    printf("got '%s'\n", buf);

    struct iovec out[3] = {{"one ", 4}, {"two ", 4}, {"three", 5}};
    show("writev", writev(p[1], out, 3));
    char a[3] = {0}, b[6] = {0}, c[8] = {0};
    struct iovec in[3] = {{a, 2}, {b, 5}, {c, 7}};
    show("readv", readv(p[0], in, 3));
    printf("readv pieces '%.2s' '%.5s' '%s'\n", a, b, c);

    struct stat st;
    show("fstat read end", fstat(p[0], &st));
    printf("S_ISFIFO %d, mode %o, size %ld, nlink %ld\n", S_ISFIFO(st.st_mode),
           st.st_mode & 0777, (long)st.st_size, (long)st.st_nlink);
    struct stat st2;
    fstat(p[1], &st2);
    printf("both ends one inode: %d\n", st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);

    show("lseek", lseek(p[0], 0, SEEK_SET));
    show("pread", pread(p[0], buf, 1, 0));
    show("pwrite", pwrite(p[1], "x", 1, 0));
    show("read of the write end", read(p[1], buf, 1));
    show("write to the read end", write(p[0], "x", 1));
    show("F_GETFL read end", fcntl(p[0], F_GETFL));
    show("F_GETFL write end", fcntl(p[1], F_GETFL));

    show("write tail", write(p[1], "tail", 4));
    show("close write end", close(p[1]));
    memset(buf, 0, sizeof buf);
    show("read after close", read(p[0], buf, sizeof buf));
    printf("got '%s'\n", buf);
    show("read at end of file", read(p[0], buf, sizeof buf));
    show("read again", read(p[0], buf, sizeof buf));
    show("close read end", close(p[0]));
    show("close again", close(p[0]));

    int q[2] = {-1, -1};
    show("pipe2 flag 1", pipe2(q, 1));
    int *volatile bad = (int *)(1UL << 62); /* no scheme maps it */
    show("pipe2 bad pointer", pipe2(bad, 0));
    show("pipe2 after", pipe2(q, 0));
    return 0;
}
