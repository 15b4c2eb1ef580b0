/* vfork_exit: vfork, then _exit in the child; the parent goes on after the child has
   exited and gets its status through waitpid. The child touches nothing of the
   parent's (under vfork it runs in the parent's memory, under qemu-user it is a
   fork): it only calls _exit. Two children in turn (statuses 7 and 0), then a child
   whose _exit status is above 255 (only the low 8 bits come back). */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Static, not locals: a vfork child shares the parent's stack frame. */
static int failures, i;
static const int codes[] = {7, 0, 256 + 9};

int main(void) {
    for (i = 0; i < 3; i++) {
        fflush(stdout);
        pid_t c = vfork();
        if (c == 0) _exit(codes[i]);
        if (c < 0) { perror("vfork"); return 1; }
        int st;
        pid_t r = waitpid(c, &st, 0);
        printf("vfork child %d: waitpid returned it %s, %s, status %d\n", i, r == c ? "yes" : "no",
               WIFEXITED(st) ? "exited" : "not exited", WEXITSTATUS(st));
        if (r != c || !WIFEXITED(st) || WEXITSTATUS(st) != (codes[i] & 0xff)) failures++;
    }
    printf("the parent goes on after its vfork children\n");
    return failures ? 1 : 0;
}
