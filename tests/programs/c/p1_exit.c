// Ends in the way argv[1] names, after writing one line to stdout and one to stderr:
//   exit N    calls exit(N) (proc_exit through libc, which flushes stdio first)
//   return N  returns N from main
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: p1_exit exit|return CODE\n");
        return 100;
    }
    int code = atoi(argv[2]);
    printf("stdout: %s %d\n", argv[1], code);
    fprintf(stderr, "stderr: %s %d\n", argv[1], code);
    if (strcmp(argv[1], "exit") == 0) {
        exit(code);
    }
    if (strcmp(argv[1], "return") == 0) {
        return code;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 100;
}
