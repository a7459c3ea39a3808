// Directory operations under the preopen argv[1]: mkdir, rename (files across directories and
// directories), unlink, rmdir (empty and not empty), stat of removed entries. The test checks
// the printed errnos and the tree left on the host.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static const char *at(const char *name) {
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 512, "%s/%s", dir, name);
    return path;
}

// Prints "label=0" on success or "label=-1 errno=N".
static void report(const char *label, int result) {
    if (result == 0) {
        printf("%s=0\n", label);
    } else {
        printf("%s=%d errno=%d\n", label, result, errno);
    }
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        return -1;
    }
    ssize_t len = (ssize_t)strlen(text);
    int result = write(fd, text, (size_t)len) == len ? 0 : -1;
    close(fd);
    return result;
}

static void print_file(const char *label, const char *path) {
    char buf[128] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s=open failed errno=%d\n", label, errno);
        return;
    }
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    printf("%s=[%.*s]\n", label, (int)(got < 0 ? 0 : got), buf);
}

static void report_stat(const char *label, const char *path) {
    struct stat st;
    errno = 0;
    int result = stat(path, &st);
    if (result == 0) {
        printf("%s=exists %s\n", label, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
    } else {
        printf("%s=-1 errno=%d\n", label, errno);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: p1_fs_ops DIR\n");
        return 100;
    }
    dir = argv[1];
    errno = 0;

    report("mkdir sub", mkdir(at("sub"), 0755));
    report("mkdir sub again", mkdir(at("sub"), 0755));
    report_stat("stat sub", at("sub"));
    report("write sub/a.txt", write_file(at("sub/a.txt"), "aaa"));
    report("rename sub/a.txt b.txt", rename(at("sub/a.txt"), at("b.txt")));
    report_stat("stat sub/a.txt", at("sub/a.txt"));
    print_file("b.txt", at("b.txt"));
    report("write c.txt", write_file(at("c.txt"), "ccc"));
    report("rename b.txt over c.txt", rename(at("b.txt"), at("c.txt")));
    print_file("c.txt", at("c.txt"));
    report("rename sub sub2", rename(at("sub"), at("sub2")));
    report_stat("stat sub", at("sub"));
    report("write sub2/inner.txt", write_file(at("sub2/inner.txt"), "inner"));
    report("rmdir sub2 (not empty)", rmdir(at("sub2")));
    report("unlink sub2/inner.txt", unlink(at("sub2/inner.txt")));
    report("rmdir sub2", rmdir(at("sub2")));
    report_stat("stat sub2", at("sub2"));
    report("rmdir missing", rmdir(at("missing")));
    report("unlink missing", unlink(at("missing")));
    report("unlink host_remove_me.txt", unlink(at("host_remove_me.txt")));
    report("mkdir made_by_guest", mkdir(at("made_by_guest"), 0755));
    report("write made_by_guest/f.txt", write_file(at("made_by_guest/f.txt"), "guest wrote this"));
    return 0;
}
