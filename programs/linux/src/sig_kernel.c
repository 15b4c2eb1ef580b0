/* sig_kernel MODE: what the kernel does with signals where qemu-riscv64 cannot say (so
   not in tests.toml; tests/signals.rs holds each mode's expected output and status, from
   Linux's behaviour):
   mask      a handler runs with its sa_mask blocked as well as its own signal (Linux's
             handle_signal; qemu-riscv64 7.2 ignores sa_mask), and the mask before it
             comes back after it. The x86-64 build of this mode prints the same lines.
   blocked   SIGSEGV has a handler but is blocked: a fault ends the process with SIGSEGV
             (force_sig_fault unblocks it and takes the default action): status 139.
   ignored   SIGSEGV is ignored: a fault ends the process all the same: status 139.
   badframe  the handler sets a reserved word of the frame's FP state: rt_sigreturn
             refuses the frame and the process gets SIGSEGV: status 139.
   nostack   a signal arrives while sp points at unmapped memory: the frame cannot be
             written, and the process gets SIGSEGV: status 139.
   ucontext  the handler changes a saved register (a0) and the pc in the ucontext:
             rt_sigreturn restores them, and the interrupted code sees the change.
   resethand SA_RESETHAND: the first SIGUSR1 runs the handler, the second the default
             action, which ends the process: status 138.
   sleep     run as two processes, pids 1 and 2: process 1 sleeps 2 s in nanosleep with a
             SIGUSR1 handler (SA_RESTART); process 2 sleeps 1 ms and sends it SIGUSR1:
             the sleep ends early with EINTR (SA_RESTART does not restart sleeps), rem
             holds the time left, and the handler ran.
   suspend   run as two processes, pids 1 and 2: process 1 blocks SIGUSR1, raises it (it
             stays pending), and sigsuspend with an empty mask takes it at once; then it
             waits in sigsuspend until process 2 (after 2 s) sends it SIGUSR1. Each time
             sigsuspend fails with EINTR after the handler, which ran with SIGUSR1
             blocked, and the mask from before (SIGUSR1 blocked) is back. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int usr1, usr2, term, calls;

static void on_usr1(int sig) {
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr1 = sigismember(&cur, SIGUSR1);
    usr2 = sigismember(&cur, SIGUSR2);
    term = sigismember(&cur, SIGTERM);
    calls++;
}

static void on_segv(int sig) {
    printf("handler ran?!\n");
    _exit(1);
}

static void on_badframe(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    calls++;
    uc->uc_mcontext.__fpregs.__q.__glibc_reserved[0] = 1;
}

static void on_edit(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    calls++;
    uc->uc_mcontext.__gregs[REG_A0] = 4242;
    uc->uc_mcontext.__gregs[REG_PC] += 4; /* skip the instruction after the ecall */
}

static void install(int sig, void *h, int flags, int masked) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (masked)
        sigaddset(&sa.sa_mask, masked);
    sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "mask";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "mask")) {
        install(SIGUSR1, on_usr1, 0, SIGUSR2);
        raise(SIGUSR1);
        sigset_t now;
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("inside: SIGUSR1 %d SIGUSR2 %d SIGTERM %d\n", usr1, usr2, term);
        printf("after: SIGUSR1 %d SIGUSR2 %d\n", sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
    } else if (!strcmp(mode, "blocked") || !strcmp(mode, "ignored")) {
        if (mode[0] == 'b') {
            install(SIGSEGV, on_segv, 0, 0);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGSEGV);
            sigprocmask(SIG_BLOCK, &s, NULL);
        } else {
            signal(SIGSEGV, SIG_IGN);
        }
        printf("faulting\n");
        volatile int *volatile p = (volatile int *)16;
        *p = 1;
        printf("survived?!\n");
    } else if (!strcmp(mode, "badframe")) {
        install(SIGUSR1, on_badframe, SA_SIGINFO, 0);
        printf("raising\n");
        raise(SIGUSR1);
        printf("returned?! calls %d\n", calls);
    } else if (!strcmp(mode, "nostack")) {
        install(SIGUSR1, on_usr1, 0, 0);
        printf("raising on a bad stack\n");
        register long a0 asm("a0") = getpid();
        register long a1 asm("a1") = SIGUSR1;
        register long a7 asm("a7") = 129;
        asm volatile("mv s1, sp\n li sp, 64\n ecall\n mv sp, s1\n"
                     : "+r"(a0) : "r"(a1), "r"(a7) : "s1", "memory");
        printf("survived?! calls %d\n", calls);
    } else if (!strcmp(mode, "ucontext")) {
        install(SIGUSR1, on_edit, SA_SIGINFO, 0);
        register long a0 asm("a0") = getpid();
        register long a1 asm("a1") = SIGUSR1;
        register long a7 asm("a7") = 129;
        /* (norvc: the li is 4 bytes, the size the handler skips.) */
        asm volatile(".option push\n .option norvc\n ecall\n li a0, 7\n .option pop\n"
                     : "+r"(a0) : "r"(a1), "r"(a7) : "memory");
        printf("calls %d, a0 after the call %ld\n", calls, (long)a0);
    } else if (!strcmp(mode, "sleep") && getpid() == 1) {
        install(SIGUSR1, on_usr1, SA_RESTART, 0);
        struct timespec req = {2, 0}, rem = {0, 0};
        int r = nanosleep(&req, &rem);
        int e = errno;
        printf("sleeper: nanosleep %d (%s), rem %s, handler calls %d\n", r, e == EINTR ? "EINTR" : "?",
               rem.tv_sec == 1 && rem.tv_nsec > 0 ? "1.x s" : "wrong", calls);
    } else if (!strcmp(mode, "suspend") && getpid() == 1) {
        install(SIGUSR1, on_usr1, 0, 0);
        sigset_t block, none, now;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigemptyset(&none);
        sigprocmask(SIG_BLOCK, &block, NULL);
        raise(SIGUSR1);
        for (int round = 1; round <= 2; round++) {
            usr1 = 0;
            int r = sigsuspend(&none);
            int e = errno;
            sigprocmask(SIG_BLOCK, NULL, &now);
            printf("suspend %d: sigsuspend %d (%s), handler calls %d, SIGUSR1 blocked inside %d, after %d\n",
                   round, r, e == EINTR ? "EINTR" : "?", calls, usr1, sigismember(&now, SIGUSR1));
        }
    } else if (!strcmp(mode, "suspend")) {
        struct timespec req = {2, 0};
        nanosleep(&req, NULL);
        printf("sender: kill %d\n", kill(1, SIGUSR1));
    } else if (!strcmp(mode, "sleep")) {
        struct timespec req = {0, 1000000};
        nanosleep(&req, NULL);
        printf("sender: kill %d\n", kill(1, SIGUSR1));
    } else if (!strcmp(mode, "resethand")) {
        install(SIGUSR1, on_usr1, SA_RESETHAND, 0);
        raise(SIGUSR1);
        printf("first: calls %d\n", calls);
        raise(SIGUSR1);
        printf("second survived?!\n");
    }
    return 0;
}
