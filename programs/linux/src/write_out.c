/* write_out: writes a file into a folder the harness mounts writable, renames it, makes
 * a directory, and removes a file that was there: what reaches the host folder at the end
 * of the run is what the test checks.
 *   write_out DIR   (DIR holds old.txt at the start) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char a[256], b[256], d[256], old[256];
    snprintf(a, sizeof a, "%s/tmp.txt", argv[1]);
    snprintf(b, sizeof b, "%s/new.txt", argv[1]);
    snprintf(d, sizeof d, "%s/sub", argv[1]);
    snprintf(old, sizeof old, "%s/old.txt", argv[1]);
    FILE *f = fopen(a, "w");
    if (!f) { perror("fopen"); return 3; }
    for (int i = 0; i < 1000; i++) fprintf(f, "line %d of the file written in vmlab\n", i);
    if (fclose(f) != 0) { perror("fclose"); return 4; }
    if (rename(a, b) != 0) { perror("rename"); return 5; }
    if (mkdir(d, 0755) != 0) { perror("mkdir"); return 6; }
    if (unlink(old) != 0) { perror("unlink"); return 7; }
    struct stat st;
    if (stat(b, &st) != 0) { perror("stat"); return 8; }
    printf("wrote %lld bytes\n", (long long)st.st_size);
    return 0;
}
