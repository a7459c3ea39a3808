// Prints argc and every argv entry in brackets, so the test can see argv[0] and embedded spaces.
#include <stdio.h>

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=[%s]\n", i, argv[i]);
    }
    return 0;
}
