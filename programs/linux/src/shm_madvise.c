/* shm_madvise: madvise(MADV_DONTNEED) on shared and private anonymous memory. A private
   page it drops reads as zeros afterwards; a MAP_SHARED one keeps its contents (the shared
   memory object still holds them), also for a forked child that shares it. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int *shared = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *private = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED || private == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    shared[0] = 42;
    shared[page / sizeof(int)] = 43;
    private[0] = 44;
    madvise(shared, 2 * page, MADV_DONTNEED);
    madvise(private, 2 * page, MADV_DONTNEED);
    printf("after MADV_DONTNEED: shared %d %d, private %d\n", shared[0], shared[page / sizeof(int)],
           private[0]);
    pid_t c = fork();
    if (c == 0) {
        shared[0] = 7;
        madvise(shared, page, MADV_DONTNEED);
        _exit(shared[0] == 7 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    printf("the child's store survives its own MADV_DONTNEED: %s; the parent reads %d\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no", shared[0]);
    return 0;
}
