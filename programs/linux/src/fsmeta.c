/* fsmeta: what ls, df and cp ask besides the bytes. statfs/fstatfs of /tmp, extended
   attributes of a plain file (none), posix_fadvise, and mincore of an anonymous mapping
   before and after its pages are touched. Prints only what any Linux gives. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

int main(void) {
    struct statfs a, b;
    int fd = open("/tmp/meta.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "hello\n", 6);
    printf("statfs: %d, fstatfs: %d\n", statfs("/tmp", &a), fstatfs(fd, &b));
    printf("same file system: %s, block size set: %s, name length %ld\n",
           a.f_type == b.f_type ? "yes" : "no", a.f_bsize > 0 ? "yes" : "no", (long)a.f_namelen);
    printf("free <= total: %s\n", a.f_bfree <= a.f_blocks && a.f_bavail <= a.f_blocks ? "yes" : "no");
    errno = 0;
    printf("statfs of a missing path: %d %s\n", statfs("/tmp/nope/x", &a), errno == ENOENT ? "ENOENT" : "??");
    char buf[64];
    errno = 0;
    ssize_t g = getxattr("/tmp/meta.txt", "user.none", buf, sizeof buf);
    printf("getxattr: %zd %s\n", g, errno == ENODATA ? "ENODATA" : "??");
    errno = 0;
    g = fgetxattr(fd, "user.none", buf, sizeof buf);
    printf("fgetxattr: %zd %s\n", g, errno == ENODATA ? "ENODATA" : "??");
    printf("listxattr: %zd, flistxattr: %zd\n", listxattr("/tmp/meta.txt", buf, sizeof buf),
           flistxattr(fd, buf, sizeof buf));
    errno = 0;
    g = lgetxattr("/tmp/nope", "user.none", buf, sizeof buf);
    printf("lgetxattr of a missing file: %zd %s\n", g, errno == ENOENT ? "ENOENT" : "??");
    printf("posix_fadvise: %d, bad advice: %d\n", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL),
           posix_fadvise(fd, 0, 0, 99));
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char vec[8];
    mincore(m, 8 * pg, vec);
    int before = 0, after = 0;
    for (int i = 0; i < 8; i++) before += vec[i] & 1;
    m[0] = 1;
    m[3 * pg] = 1;
    m[7 * pg + 5] = 1;
    mincore(m, 8 * pg, vec);
    for (int i = 0; i < 8; i++) after += vec[i] & 1;
    printf("mincore: %d resident before touching, %d after (pages 0 3 7: %d %d %d)\n", before, after,
           vec[0] & 1, vec[3] & 1, vec[7] & 1);
    errno = 0;
    printf("mincore unaligned: %d %s\n", mincore(m + 1, pg, vec), errno == EINVAL ? "EINVAL" : "??");
    munmap(m, 8 * pg);
    errno = 0;
    printf("mincore unmapped: %d %s\n", mincore(m, pg, vec), errno == ENOMEM ? "ENOMEM" : "??");
    close(fd);
    unlink("/tmp/meta.txt");
    return 0;
}
