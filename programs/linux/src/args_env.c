/* args_env: prints argc, each argv (not argv[0]) and each environment variable,
   sorted: qemu-user hands the guest its environment in reverse order, Linux in the
   order given, so the program sorts to print the same under both.
   Harness: args one two "three four", environment exactly A=1 B=hello. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(int argc, char **argv, char **envp) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
    int n = 0;
    while (envp[n]) n++;
    char **sorted = malloc((n + 1) * sizeof *sorted);
    memcpy(sorted, envp, (n + 1) * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp);
    for (int i = 0; i < n; i++) printf("env[%d]=[%s]\n", i, sorted[i]);
    printf("envc=%d\n", n);
    const char *b = getenv("B");
    printf("getenv(B)=%s getenv(NOPE)=%s\n", b ? b : "(null)", getenv("NOPE") ? "set" : "(null)");
    return argc == 4 ? 0 : 1;
}
