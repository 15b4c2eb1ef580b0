/* sig_bus: SIGBUS for a page of a shared file mapping wholly past the file's end, caught
   by an SA_SIGINFO handler and recovered with siglongjmp: si_code BUS_ADRERR, si_addr
   the exact address. The file (100 bytes, in /tmp) is mapped for two pages: bytes of the
   first page past the end read as zeros, the second page faults. Then the file grows
   (ftruncate) and the same address reads as zero without a fault. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jump;
static volatile int got_signo, got_code, faults;
static volatile void *got_addr;

static void on_bus(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    got_signo = si->si_signo;
    got_code = si->si_code;
    got_addr = si->si_addr;
    faults++;
    siglongjmp(jump, 1);
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    const char *path = "/tmp/sig_bus.dat";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    char buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (char)('a' + i % 26);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
        perror("write");
        return 1;
    }
    char *m = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    printf("byte 50 '%c', byte 200 %d (past the end, same page)\n", m[50], m[200]);
    volatile char *past = m + page + 10;
    if (sigsetjmp(jump, 1) == 0) {
        char c = *past;
        printf("no fault?! %d\n", c);
    } else {
        printf("SIGBUS caught: signo %d code %d (BUS_ADRERR %d) addr %s\n", got_signo, got_code,
               BUS_ADRERR, got_addr == (void *)past ? "exact" : "wrong");
    }
    if (ftruncate(fd, 2 * page) != 0) {
        perror("ftruncate");
        return 1;
    }
    printf("after ftruncate: %d, faults %d\n", *past, faults);
    munmap(m, 2 * page);
    close(fd);
    unlink(path);
    return 0;
}
