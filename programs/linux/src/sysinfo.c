/* sysinfo: getrandom, uname, clock_gettime, gettimeofday, getpid: prints only
   facts that do not change from run to run. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <sys/time.h>
int main(void) {
    unsigned char buf[16];
    ssize_t r = getrandom(buf, sizeof buf, 0);
    printf("getrandom returned %zd\n", r);
    struct utsname u;
    if (uname(&u)) { perror("uname"); return 1; }
    printf("sysname=%s\nmachine=%s\n", u.sysname, u.machine);
    printf("release non-empty: %s\n", u.release[0] ? "yes" : "no");
    struct timespec a, b, c;
    clock_gettime(CLOCK_MONOTONIC, &a);
    volatile long x = 0; for (int i = 0; i < 100000; i++) x += i;
    clock_gettime(CLOCK_MONOTONIC, &b);
    int nd = b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
    printf("clock monotonic non-decreasing: %s\n", nd ? "yes" : "no");
    printf("nsec in range: %s\n", a.tv_nsec >= 0 && a.tv_nsec < 1000000000 ? "yes" : "no");
    clock_gettime(CLOCK_REALTIME, &c);
    printf("realtime after 2001: %s\n", c.tv_sec > 1000000000 ? "yes" : "no");
    struct timeval tv; gettimeofday(&tv, NULL);
    printf("gettimeofday usec in range: %s\n", tv.tv_usec >= 0 && tv.tv_usec < 1000000 ? "yes" : "no");
    printf("getpid positive: %s\n", getpid() > 0 ? "yes" : "no");
    printf("time() agrees with realtime: %s\n", time(NULL) >= c.tv_sec ? "yes" : "no");
    return 0;
}
