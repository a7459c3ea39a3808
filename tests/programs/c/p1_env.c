// Prints the whole environment in order, then getenv() of every name given as an argument.
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    for (char **entry = environ; *entry != NULL; entry++) {
        printf("env=[%s]\n", *entry);
    }
    for (int i = 1; i < argc; i++) {
        const char *value = getenv(argv[i]);
        printf("getenv(%s)=%s%s%s\n", argv[i], value ? "[" : "", value ? value : "(unset)", value ? "]" : "");
    }
    return 0;
}
