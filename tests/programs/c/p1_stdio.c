// stdio in both directions, mode in argv[1]:
//   echo  reads stdin to the end, then prints "stdin bytes=N" and "stdin=[...]"
//   big   writes N (argv[2]) bytes of a known pattern to stdout and "done" to stderr
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int echo_stdin(void) {
    static char data[1 << 20];
    size_t used = 0;
    for (;;) {
        ssize_t got = read(0, data + used, sizeof(data) - used);
        if (got < 0) {
            fprintf(stderr, "read(stdin) failed: errno %d\n", errno);
            return 1;
        }
        if (got == 0) {
            break;
        }
        used += (size_t)got;
        if (used == sizeof(data)) {
            break;
        }
    }
    printf("stdin bytes=%zu\n", used);
    printf("stdin=[%.*s]\n", (int)used, data);
    return 0;
}

static int write_big(size_t len) {
    static const char pattern[] = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    for (size_t i = 0; i < len; i++) {
        putchar(pattern[i % (sizeof(pattern) - 1)]);
    }
    fflush(stdout);
    fprintf(stderr, "done\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "echo") == 0) {
        return echo_stdin();
    }
    if (argc >= 3 && strcmp(argv[1], "big") == 0) {
        return write_big((size_t)strtoul(argv[2], NULL, 10));
    }
    fprintf(stderr, "usage: p1_stdio echo | big N\n");
    return 100;
}
