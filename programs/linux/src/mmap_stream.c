/* mmap_stream: a shared mapping of a file far larger than a small page cache. The file
   is sized with ftruncate, every page written through the mapping, the mapping dropped,
   and the file read back with read() (short reads allowed) and through a private
   mapping: the checksums agree. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long pg = sysconf(_SC_PAGESIZE);
    long pages = argc > 1 ? atol(argv[1]) : 64;
    size_t len = pages * pg;
    int fd = open("/tmp/stream.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, len)) { perror("file"); return 1; }
    unsigned char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) { perror("mmap"); return 1; }
    unsigned long want = 0;
    for (long round = 0; round < 2; round++)
        for (size_t i = 0; i < len; i += 61) s[i] += (unsigned char)(i / pg + round * 3 + i);
    for (size_t i = 0; i < len; i++) want = want * 33 + s[i];
    printf("%ld pages written through a shared mapping, checksum %lu\n", pages, want);
    if (munmap(s, len)) { perror("munmap"); return 1; }
    unsigned long got = 0;
    static unsigned char buf[8192];
    lseek(fd, 0, SEEK_SET);
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) got = got * 33 + buf[i];
        total += n;
    }
    printf("read back %zu bytes: %s\n", total, got == want ? "same" : "DIFFERENT");
    const unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    unsigned long priv = 0;
    for (size_t i = 0; i < len; i++) priv = priv * 33 + p[i];
    printf("private mapping: %s\n", priv == want ? "same" : "DIFFERENT");
    close(fd);
    return 0;
}
