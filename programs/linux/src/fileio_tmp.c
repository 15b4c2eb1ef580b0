/* fileio_tmp: stdio on a scratch file in /tmp: fopen/fprintf/fclose, read back with
   fgets and fscanf, append, fseek/ftell, then remove it. Needs a writable /tmp. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    const char *path = "/tmp/vmlab-fileio-test.txt";
    FILE *f = fopen(path, "w");
    if (!f) { perror("fopen w"); return 1; }
    for (int i = 1; i <= 100; i++) fprintf(f, "line %d %d\n", i, i * i);
    if (fclose(f)) { perror("fclose"); return 1; }
    f = fopen(path, "r");
    if (!f) { perror("fopen r"); return 1; }
    char buf[64]; int lines = 0; size_t bytes = 0;
    while (fgets(buf, sizeof buf, f)) { lines++; bytes += strlen(buf); }
    printf("fgets: %d lines, %zu bytes\n", lines, bytes);
    rewind(f);
    int a, b; long sum = 0; int n = 0;
    while (fscanf(f, "line %d %d\n", &a, &b) == 2) { sum += b; n++; }
    printf("fscanf: %d records, sum of squares %ld\n", n, sum);
    fclose(f);
    f = fopen(path, "a");
    fputs("appended\n", f);
    fclose(f);
    f = fopen(path, "r");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, -9, SEEK_END);
    fgets(buf, sizeof buf, f);
    printf("size after append %ld, last line %s", size, buf);
    fclose(f);
    if (remove(path)) { perror("remove"); return 1; }
    printf("removed: %s\n", access(path, F_OK) ? "yes" : "no");
    return 0;
}
