/* fileio_data: reads a text file named by argv[1] (the harness mounts
   programs/linux/data at /data and passes /data/words.txt): counts lines, words,
   the longest word, and a checksum of the bytes; reads it twice (fread, then fgetc). */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fileio_data FILE\n"); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror("fopen"); return 1; }
    char line[256], longest[256] = ""; int lines = 0, words = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (char *w = strtok(line, " \t\n"); w; w = strtok(NULL, " \t\n")) {
            words++;
            if (strlen(w) > strlen(longest)) strcpy(longest, w);
        }
    }
    printf("lines=%d words=%d longest=%s\n", lines, words, longest);
    rewind(f);
    unsigned long sum = 0, n = 0; char chunk[100]; size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) for (size_t i = 0; i < got; i++) { sum = sum * 131 + (unsigned char)chunk[i]; n++; }
    printf("fread: %lu bytes, checksum %lu\n", n, sum);
    rewind(f);
    int c, vowels = 0, upper = 0;
    while ((c = fgetc(f)) != EOF) { if (strchr("aeiou", c)) vowels++; if (isupper(c)) upper++; }
    printf("fgetc: vowels=%d upper=%d\n", vowels, upper);
    fclose(f);
    FILE *g = fopen("/data/does-not-exist", "r");
    printf("missing file: %s\n", g ? "opened?!" : "fopen failed as expected");
    return 0;
}
