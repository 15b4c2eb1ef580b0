/* pipe_sigpipe: writing to a pipe whose read end is closed. With SIGPIPE ignored the
   write fails with EPIPE; with the default action the process is killed by SIGPIPE
   (status 141) and its write never returns. A flushed line comes before. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    int p[2];
    if (pipe(p) != 0)
        return 1;
    printf("pipe: ok\n");
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    long r = write(p[1], "x", 1);
    printf("write with SIGPIPE ignored: %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
    r = write(p[1], "", 0);
    printf("write of 0 bytes: %ld\n", r);
    signal(SIGPIPE, SIG_DFL);
    printf("now with the default action\n");
    fflush(stdout);
    r = write(p[1], "x", 1);
    printf("not reached: %ld\n", r);
    return 0;
}
