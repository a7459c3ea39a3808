/* The start-up benchmark's guest: as little as a C program does. */
#include <stdio.h>

int main(void)
{
    printf("hello\n");
    return 0;
}
