/* pipe_stuck: a process that waits on a pipe no one else can serve: with argument
   "write", a 100 KB write into a pipe that only it could read (blocks for ever once
   65536 bytes are in); with "read", a read of an empty pipe whose write end it holds.
   Linux (and qemu) would hang; vmlab's kernel must end the run as stuck, naming the pipe.
   Not in tests.toml (no recorded output): tests/pipes.rs runs it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char big[100 * 1024];

int main(int argc, char **argv) {
    int p[2];
    if (pipe(p) != 0)
        return 1;
    printf("pipe made\n");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "read") == 0) {
        char c;
        read(p[0], &c, 1);
    } else {
        write(p[1], big, sizeof big);
    }
    printf("not reached\n");
    return 0;
}
