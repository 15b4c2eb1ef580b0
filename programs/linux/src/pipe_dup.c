/* pipe_dup: descriptors of a pipe's ends: dup, dup2, dup3 (O_CLOEXEC), F_DUPFD (the lowest
   free at or above the argument: 100 here, as qemu-user holds some low descriptors of its
   own), F_DUPFD_CLOEXEC, F_GETFD/F_SETFD; pipe2(O_CLOEXEC). A
   duplicate shares the open file description (and so O_NONBLOCK), not the close-on-exec
   flag. The read end sees end of file only when every descriptor of the write end is
   closed. Bad calls: dup3 with oldfd == newfd or an unknown flag (EINVAL), of a closed
   descriptor (EBADF). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

int main(void) {
    int p[2];
    char buf[32];
    show("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC));
    show("F_GETFD read end", fcntl(p[0], F_GETFD));
    show("F_GETFD write end", fcntl(p[1], F_GETFD));
    show("F_SETFD 0", fcntl(p[1], F_SETFD, 0));
    show("F_GETFD write end", fcntl(p[1], F_GETFD));
    show("F_SETFD FD_CLOEXEC", fcntl(p[1], F_SETFD, FD_CLOEXEC));
    show("F_GETFD write end", fcntl(p[1], F_GETFD));
    show("F_GETFD stdout", fcntl(1, F_GETFD));

    int d = dup(p[1]);
    printf("dup is the lowest free: %d\n", d == p[1] + 1);
    show("F_GETFD of the dup", fcntl(d, F_GETFD));
    show("dup3 to 20 O_CLOEXEC", dup3(p[1], 20, O_CLOEXEC));
    show("F_GETFD 20", fcntl(20, F_GETFD));
    show("dup2 to 21", dup2(p[1], 21));
    show("F_GETFD 21", fcntl(21, F_GETFD));
    int f1 = fcntl(p[1], F_DUPFD, 100);
    show("F_DUPFD 100", f1);
    show("F_GETFD of it", fcntl(f1, F_GETFD));
    int f2 = fcntl(p[1], F_DUPFD_CLOEXEC, 100);
    show("F_DUPFD_CLOEXEC 100", f2);
    show("F_GETFD of it", fcntl(f2, F_GETFD));
    show("dup3 same fd", dup3(20, 20, 0));
    show("dup3 bad flag", dup3(20, 22, 1));
    show("dup3 of a closed fd", dup3(30, 22, 0));
    show("dup2 onto itself", dup2(20, 20));

    show("F_SETFL O_NONBLOCK on the dup", fcntl(d, F_SETFL, O_NONBLOCK));
    show("original write end has O_NONBLOCK", (fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);

    show("write via 20", write(20, "abc", 3));
    show("write via the F_DUPFD_CLOEXEC one", write(f2, "def", 3));
    memset(buf, 0, sizeof buf);
    show("read", read(p[0], buf, sizeof buf));
    printf("got '%s'\n", buf);
    int rd = dup(p[0]);
    show("write via the dup", write(d, "gh", 2));
    memset(buf, 0, sizeof buf);
    show("read via a dup of the read end", read(rd, buf, sizeof buf));
    printf("got '%s'\n", buf);

    int ends[] = {p[1], d, 20, 21, f1};
    for (unsigned i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        close(ends[i]);
        show("read with a write end still open", read(p[0], buf, 1));
    }
    close(f2);
    show("read with every write end closed", read(p[0], buf, 1));
    close(p[0]);
    show("read via the dup of the read end", read(rd, buf, 1));
    return 0;
}
