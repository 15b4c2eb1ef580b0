/* stdin_wc: reads stdin to EOF line by line (getline); prints lines, words, bytes
   and the longest line length, like wc. Harness feeds input/wc.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
int main(void) {
    char *line = NULL; size_t cap = 0; ssize_t len;
    long lines = 0, words = 0, bytes = 0, longest = 0;
    while ((len = getline(&line, &cap, stdin)) != -1) {
        bytes += len;
        if (len > 0 && line[len - 1] == '\n') lines++;
        int in = 0;
        for (ssize_t i = 0; i < len; i++) {
            if (isspace((unsigned char)line[i])) in = 0;
            else if (!in) { in = 1; words++; }
        }
        long l = len && line[len - 1] == '\n' ? len - 1 : len;
        if (l > longest) longest = l;
    }
    free(line);
    printf("lines=%ld words=%ld bytes=%ld longest=%ld\n", lines, words, bytes, longest);
    return 0;
}
