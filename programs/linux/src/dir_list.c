/* dir_list: getcwd, opendir/readdir on a directory given as argv[1] (the harness
   mounts programs/linux/data at /data, runs in cwd /data, passes "."), entries sorted
   so the order is deterministic, stat for the size and type of each, plus fstat and
   lstat of known files. Prints the cwd's last component only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) { perror("getcwd"); return 1; }
    const char *base = strrchr(cwd, '/');
    printf("cwd ends in: %s\n", base ? base + 1 : cwd);
    DIR *d = opendir(dir);
    if (!d) { perror("opendir"); return 1; }
    char *names[256]; int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%d entries\n", n);
    for (int i = 0; i < n; i++) {
        char path[4200]; struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st)) { printf("  %s: stat failed\n", names[i]); continue; }
        if (S_ISDIR(st.st_mode)) printf("  %s/ (dir)\n", names[i]);
        else printf("  %s %lld bytes%s\n", names[i], (long long)st.st_size, S_ISREG(st.st_mode) ? "" : " (not regular)");
        free(names[i]);
    }
    char path[4200]; snprintf(path, sizeof path, "%s/words.txt", dir);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) { perror("open/fstat"); return 1; }
    printf("fstat words.txt: %lld bytes, regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode) != 0);
    char first[16] = {0};
    ssize_t got = read(fd, first, 15);
    printf("read %zd bytes: [%.*s]\n", got, (int)strcspn(first, "\n"), first);
    close(fd);
    snprintf(path, sizeof path, "%s/nope", dir);
    printf("stat missing: %d\n", stat(path, &st));
    return 0;
}
