// Prints a line, then executes `unreachable`, which must end the run with a trap.
#include <stdio.h>

int main(void) {
    printf("before trap\n");
    fflush(stdout);
    __builtin_trap();
}
