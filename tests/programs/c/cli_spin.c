// Loops forever without calling the host, for --timeout. Prints one line first so the test can
// tell that the guest started. The volatile counter keeps the optimiser from removing the loop.
#include <stdio.h>

int main(void) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long counter = 0;
    for (;;) {
        counter++;
    }
}
