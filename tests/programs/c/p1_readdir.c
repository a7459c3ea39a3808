// Lists the directory argv[1] (with opendir/readdir, which use fd_readdir and its cookies),
// sorted by name, one "type name" line per entry (d = directory, f = regular file,
// l = symlink, ? = other), then lists it again after rewinddir and prints whether both
// listings had the same number of entries.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 4096

static char *names[MAX_ENTRIES];
static char types[MAX_ENTRIES];

static int by_name(const void *a, const void *b) {
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    return strcmp(names[ia], names[ib]);
}

static char type_char(unsigned char type) {
    switch (type) {
    case DT_DIR: return 'd';
    case DT_REG: return 'f';
    case DT_LNK: return 'l';
    default: return '?';
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: p1_readdir DIR\n");
        return 100;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        printf("FAIL opendir: errno %d\n", errno);
        return 1;
    }
    size_t count = 0;
    struct dirent *entry;
    errno = 0;
    while ((entry = readdir(d)) != NULL) {
        if (count == MAX_ENTRIES) {
            printf("FAIL more than %d entries\n", MAX_ENTRIES);
            return 1;
        }
        names[count] = strdup(entry->d_name);
        types[count] = type_char(entry->d_type);
        count++;
    }
    if (errno != 0) {
        printf("FAIL readdir: errno %d\n", errno);
        return 1;
    }
    rewinddir(d);
    size_t second = 0;
    while (readdir(d) != NULL && second <= MAX_ENTRIES) {
        second++;
    }
    closedir(d);

    size_t order[MAX_ENTRIES];
    for (size_t i = 0; i < count; i++) {
        order[i] = i;
    }
    qsort(order, count, sizeof(order[0]), by_name);
    printf("count=%zu\n", count);
    for (size_t i = 0; i < count; i++) {
        printf("%c %s\n", types[order[i]], names[order[i]]);
    }
    printf("after rewinddir count=%zu\n", second);
    return 0;
}
