// A small WASI program: prints its arguments and an environment variable, lists the
// directory granted as /data, and shows that the sandbox keeps it inside that directory.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("%s says %s\n", argv[0], getenv("GREETING") ? getenv("GREETING") : "(no GREETING)");
    for (int i = 1; i < argc; i++) printf("  arg %d: %s\n", i, argv[i]);
    DIR *d = opendir("/data");
    if (!d) {
        printf("cannot open /data: %s\n", strerror(errno));
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') printf("  /data contains %s\n", e->d_name);
    closedir(d);
    FILE *f = fopen("/data/../../etc/passwd", "r");
    printf("opening /data/../../etc/passwd: %s\n", f ? "opened (sandbox broken!)" : strerror(errno));
    return f ? 1 : 0;
}
