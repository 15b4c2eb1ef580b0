/* pipeline: a chain of processes joined by pipes, as a shell builds one.
   - generator | upcase | number | the parent: three children, each with the pipe ends
     dup2'd onto its stdin/stdout and every other end closed; 200 KB flow through
     (more than a pipe's 64 KiB, so writers block until the reader drains); each stage
     transforms deterministically; the parent prints the line count, byte count and a
     checksum of what reached it, and each stage's exit status.
   - EOF: a reader sees read() == 0 once every write end is closed (a child writes
     10 bytes and exits; the parent closed its own write end).
   - A pipe's capacity: O_NONBLOCK writes to a pipe nobody reads fill it, then EAGAIN
     (the count is printed: 65536 on Linux).
   - SIGPIPE/EPIPE: with SIGPIPE ignored, write() to a pipe whose reader is gone fails
     with EPIPE (in-process, and after a reading child exited); with the default
     action a child writing to such a pipe is killed by SIGPIPE (13).
   Only the parent prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "yes" : "no");
    if (!ok) failures++;
}

/* Stage 1: 4000 lines of about 50 bytes (200 KB), written with stdio to stdout. */
static int generator(void) {
    uint32_t x = 12345;
    for (int i = 0; i < 4000; i++) {
        x = x * 1103515245u + 12345u;
        printf("line %04d of the generator: value %010u abc\n", i, x);
    }
    return fclose(stdout) == 0 ? 0 : 2;
}

/* Stage 2: letters to upper case, read() and write() in odd-sized chunks. */
static int upcase(void) {
    char buf[777];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 32;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, n - off);
            if (w <= 0) return 3;
            off += w;
        }
    }
    return n == 0 ? 0 : 4;
}

/* Stage 3: each line prefixed with its number and the sum of its digits, via stdio. */
static int number(void) {
    char line[256];
    int k = 0;
    while (fgets(line, sizeof line, stdin)) {
        int sum = 0;
        for (char *p = line; *p; p++)
            if (*p >= '0' && *p <= '9') sum += *p - '0';
        printf("%d:%d:%s", ++k, sum, line);
    }
    return fclose(stdout) == 0 ? 5 : 6; /* 5: a status the parent can tell apart */
}

static void chain(void) {
    enum { STAGES = 3 };
    int (*stage[STAGES])(void) = {generator, upcase, number};
    int p[STAGES][2];
    for (int i = 0; i < STAGES; i++)
        if (pipe(p[i])) { perror("pipe"); exit(1); }
    pid_t pids[STAGES];
    fflush(stdout);
    for (int i = 0; i < STAGES; i++) {
        pids[i] = fork();
        if (pids[i] < 0) { perror("fork"); exit(1); }
        if (pids[i] == 0) {
            /* Stage i reads pipe i-1 (stage 0: nothing) and writes pipe i. */
            if (i > 0) dup2(p[i - 1][0], 0);
            dup2(p[i][1], 1);
            for (int j = 0; j < STAGES; j++) {
                close(p[j][0]);
                close(p[j][1]);
            }
            _exit(stage[i]());
        }
    }
    /* The parent reads the last pipe; it closes every other end, or no EOF would come. */
    for (int j = 0; j < STAGES; j++) {
        close(p[j][1]);
        if (j != STAGES - 1) close(p[j][0]);
    }
    int fd = p[STAGES - 1][0];
    char buf[1000];
    ssize_t n;
    long bytes = 0, lines = 0;
    uint32_t h = 2166136261u;
    char last[200];
    int lastlen = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            h = (h ^ (unsigned char)buf[i]) * 16777619u;
            if (lastlen < (int)sizeof last - 1) last[lastlen++] = buf[i];
            if (buf[i] == '\n') {
                lines++;
                if (lines < 4000) lastlen = 0;
            }
        }
        bytes += n;
    }
    last[lastlen] = 0;
    close(fd);
    printf("pipeline: %ld lines, %ld bytes, checksum %08x\n", lines, bytes, h);
    printf("pipeline: last line %s", last);
    for (int i = 0; i < STAGES; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        printf("stage %d: %s %d\n", i, WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
}

static void eof(void) {
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        write(p[1], "0123456789", 10);
        _exit(0);
    }
    close(p[1]);
    char buf[64];
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) total += n;
    printf("eof: %ld bytes then read() = %d\n", total, (int)n);
    n = read(p[0], buf, sizeof buf);
    printf("eof: read() again = %d\n", (int)n);
    close(p[0]);
    waitpid(c, NULL, 0);
}

static void capacity(void) {
    int p[2];
    pipe2(p, O_NONBLOCK);
    char block[4096];
    memset(block, 'x', sizeof block);
    long total = 0;
    ssize_t n;
    while ((n = write(p[1], block, sizeof block)) > 0) total += n;
    printf("capacity: %ld bytes written, then %s\n", total, errno == EAGAIN ? "EAGAIN" : strerror(errno));
    /* One byte still fits? No: a full pipe takes nothing. */
    n = write(p[1], block, 1);
    printf("capacity: a 1-byte write to the full pipe: %d %s\n", (int)n, n < 0 && errno == EAGAIN ? "EAGAIN" : "?");
    /* Reading one page makes room for a page. */
    read(p[0], block, sizeof block);
    n = write(p[1], block, sizeof block);
    printf("capacity: after reading 4096, a 4096-byte write: %d\n", (int)n);
    close(p[0]);
    close(p[1]);
}

static void sigpipe(void) {
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    pipe(p);
    close(p[0]);
    errno = 0;
    ssize_t n = write(p[1], "x", 1);
    printf("SIGPIPE ignored, no reader: write() = %d, %s\n", (int)n, errno == EPIPE ? "EPIPE" : strerror(errno));
    close(p[1]);

    /* The reader is a child that reads 5 bytes and exits. */
    pipe(p);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        char buf[5];
        ssize_t got = 0;
        while (got < 5) {
            ssize_t r = read(p[0], buf + got, 5 - got);
            if (r <= 0) break;
            got += r;
        }
        _exit(got == 5 ? 0 : 1);
    }
    close(p[0]);
    n = write(p[1], "hello", 5);
    int st;
    waitpid(c, &st, 0);
    printf("reader child read 5 bytes and exited: %d, status %d\n", (int)n, WEXITSTATUS(st));
    errno = 0;
    n = write(p[1], "more", 4);
    printf("write after the reader exited: %d, %s\n", (int)n, errno == EPIPE ? "EPIPE" : strerror(errno));
    close(p[1]);

    /* Default action: the writer is killed by SIGPIPE. */
    pipe(p);
    close(p[0]);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(p[1], "x", 1);
        _exit(0);
    }
    close(p[1]);
    waitpid(c, &st, 0);
    check(WIFSIGNALED(st), "a writer with SIGPIPE's default action is killed");
    printf("its signal: %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

int main(void) {
    chain();
    eof();
    capacity();
    sigpipe();
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all pipeline checks passed\n");
    return 0;
}
