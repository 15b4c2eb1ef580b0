/* mmap_file: mmap of files. A file in /tmp mapped private (stores stay private) and
   shared (stores reach read(), write() reaches the mapping, two mappings see each
   other), msync, a mapping that outlives its descriptor and its name, a read-only
   mounted file mapped, /dev/zero mapped, and the errors mmap gives for a write-only
   descriptor, a shared writable mapping of a read-only one, and a directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long sum(const unsigned char *p, size_t n) {
    unsigned long s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
    return s;
}

int main(int argc, char **argv) {
    long pg = sysconf(_SC_PAGESIZE);
    size_t len = 3 * pg + 100;
    static unsigned char buf[5 * 4096];
    for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)(i * 7 + i / 13);
    int fd = open("/tmp/m.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    if (write(fd, buf, len) != (ssize_t)len) { perror("write"); return 1; }
    printf("file of %zu bytes, checksum %lu\n", len, sum(buf, len));

    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap private"); return 1; }
    printf("private mapping checksum %lu\n", sum(p, len));
    printf("tail of the last page is zero: %s\n", p[len] == 0 && p[4 * pg - 1] == 0 ? "yes" : "no");
    p[10] = 0xEE;
    unsigned char c;
    pread(fd, &c, 1, 10);
    printf("private store: mapping %#x, file %#x\n", p[10], c);

    unsigned char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) { perror("mmap shared"); return 1; }
    s[pg + 5] = 0x5A;
    pread(fd, &c, 1, pg + 5);
    printf("shared store seen by read: %#x\n", c);
    unsigned char w = 0xA5;
    pwrite(fd, &w, 1, 2 * pg + 9);
    printf("write seen by the shared mapping: %#x\n", s[2 * pg + 9]);
    unsigned char *s2 = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
    s2[6] = 0x66;
    printf("second shared mapping sees the first: %#x, the first sees it: %#x\n", s2[5], s[pg + 6]);
    printf("msync: %d\n", msync(s, len, MS_SYNC));
    printf("munmap: %d %d %d\n", munmap(s2, pg), munmap(s, len), munmap(p, len));
    close(fd);

    fd = open("/tmp/m.bin", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, len);
    printf("reopened: %#x %#x %#x, private store absent: %s\n", buf[pg + 5], buf[pg + 6],
           buf[2 * pg + 9], buf[10] != 0xEE ? "yes" : "no");
    errno = 0;
    void *bad = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("shared writable of a read-only descriptor: %s\n", bad == MAP_FAILED && errno == EACCES ? "EACCES" : "??");
    unsigned char *k = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    unlink("/tmp/m.bin");
    printf("after close and unlink the mapping still reads: %#x %#x\n", k[pg + 5], k[2 * pg + 9]);
    munmap(k, len);

    int wfd = open("/tmp/w.bin", O_WRONLY | O_CREAT, 0644);
    write(wfd, buf, 10);
    errno = 0;
    bad = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wfd, 0);
    printf("write-only descriptor: %s\n", bad == MAP_FAILED && errno == EACCES ? "EACCES" : "??");
    close(wfd);
    int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    errno = 0;
    bad = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, dfd, 0);
    printf("directory: %s\n", bad == MAP_FAILED && errno == ENODEV ? "ENODEV" : "??");
    close(dfd);

    int zfd = open("/dev/zero", O_RDWR);
    unsigned char *z = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
    int zero = z != MAP_FAILED && z[0] == 0 && z[2 * pg - 1] == 0;
    z[3] = 1;
    printf("/dev/zero mapping zeroed and writable: %s\n", zero && z[3] == 1 ? "yes" : "no");
    close(zfd);

    if (argc > 1) {
        int mfd = open(argv[1], O_RDONLY);
        struct stat;
        off_t size = lseek(mfd, 0, SEEK_END);
        const char *t = mmap(NULL, size, PROT_READ, MAP_PRIVATE, mfd, 0);
        if (t == MAP_FAILED) { perror("mmap mounted"); return 1; }
        long lines = 0;
        for (off_t i = 0; i < size; i++) lines += t[i] == '\n';
        printf("%s mapped: %ld bytes, %ld lines, checksum %lu\n", argv[1], (long)size, lines,
               sum((const unsigned char *)t, size));
    }
    return 0;
}
