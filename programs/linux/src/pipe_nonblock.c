/* pipe_nonblock: O_NONBLOCK pipes. A read of an empty pipe is EAGAIN; writes of 4096
   bytes fill a pipe of 16 pages (65536 bytes) and the next is EAGAIN; reading one byte
   frees no page, so a 1-byte write still fails, reading the rest of the page frees one;
   writes of 1000 bytes share pages four to a page (64000 bytes); a write of up to PIPE_BUF
   is all or nothing, a larger one is partial; F_SETFL clears and sets O_NONBLOCK;
   F_GETPIPE_SZ and F_SETPIPE_SZ (rounded up to a power of two of pages; EBUSY when the
   bytes in the pipe would not fit). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char big[200000];

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* Writes chunks of `size` until one fails; the bytes written. */
static long fill(int fd, int size) {
    long total = 0;
    for (;;) {
        long r = write(fd, big, size);
        if (r < 0) {
            printf("fill by %d: %ld bytes, then %s\n", size, total, strerrorname_np(errno));
            return total;
        }
        total += r;
    }
}

int main(void) {
    for (int i = 0; i < (int)sizeof big; i++)
        big[i] = (char)(i * 7);
    int p[2];
    char buf[8192];
    show("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK));
    show("F_GETFL read end has O_NONBLOCK", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    show("read empty", read(p[0], buf, 10));
    show("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
    fill(p[1], 4096);
    show("write 1 to a full pipe", write(p[1], "x", 1));
    show("read 1", read(p[0], buf, 1));
    show("write 1 (no page free)", write(p[1], "x", 1));
    show("read 4095", read(p[0], buf, 4095));
    show("write 1 (a page free)", write(p[1], "x", 1));
    show("write 4095 (fits the same page)", write(p[1], big, 4095));
    show("write 1 (full again)", write(p[1], "x", 1));
    long got = 0, r;
    while ((r = read(p[0], buf, sizeof buf)) > 0)
        got += r;
    printf("drained %ld bytes, then %s\n", got, strerrorname_np(errno));

    fill(p[1], 1000);
    show("write 96 (fits the last page)", write(p[1], big, 96));
    show("write 97", write(p[1], big, 97));
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    show("write 4096 to an empty pipe", write(p[1], big, 4096));
    show("write 200000 (partial)", write(p[1], big, 200000));
    show("F_SETPIPE_SZ 4096 while full", fcntl(p[1], F_SETPIPE_SZ, 4096));
    got = 0;
    int ok = 1;
    long at = 0;
    while ((r = read(p[0], buf, 3000)) > 0) {
        /* the first 4096 bytes, then the first 61440 of the big write */
        for (long i = 0; i < r; i++, at++) {
            long src = at < 4096 ? at : at - 4096;
            if (buf[i] != big[src])
                ok = 0;
        }
        got += r;
    }
    printf("read back %ld bytes, in order: %d\n", got, ok);

    show("F_SETPIPE_SZ 1", fcntl(p[1], F_SETPIPE_SZ, 1));
    show("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ));
    show("F_SETPIPE_SZ 5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
    fill(p[1], 4096);
    show("F_SETPIPE_SZ 4096 with two pages in use", fcntl(p[1], F_SETPIPE_SZ, 4096));
    show("F_SETPIPE_SZ 0", fcntl(p[1], F_SETPIPE_SZ, 0));
    show("F_SETPIPE_SZ 65536", fcntl(p[1], F_SETPIPE_SZ, 65536));
    show("F_GETPIPE_SZ of stdout", fcntl(1, F_GETPIPE_SZ) > 0 ? 1 : 0);

    show("F_SETFL 0", fcntl(p[0], F_SETFL, 0));
    show("F_GETFL read end", fcntl(p[0], F_GETFL));
    show("F_GETFL write end", fcntl(p[1], F_GETFL));
    show("F_SETFL O_NONBLOCK", fcntl(p[0], F_SETFL, O_NONBLOCK));
    show("F_GETFL read end", fcntl(p[0], F_GETFL));
    while (read(p[0], buf, sizeof buf) > 0)
        ;
    show("read empty again", read(p[0], buf, 1));
    close(p[1]);
    show("read empty, no writer", read(p[0], buf, 1));
    return 0;
}
