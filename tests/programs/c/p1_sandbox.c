// Sandbox escape attempts from inside the preopen argv[1]. Every attempt prints one line
// "name errno=N content=[...]": errno 0 and the content when the attempt succeeded (which
// the test treats as an escape), the errno otherwise. The host has put "outside.txt" (a
// secret) next to the preopen and the symlinks link_parent -> .., link_abs -> the absolute
// path of outside.txt, and link_etc -> /etc/passwd inside it.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static const char *at(const char *name) {
    static char paths[2][512];
    static int next;
    char *path = paths[next++ % 2];
    snprintf(path, 512, "%s/%s", dir, name);
    return path;
}

static void report_fd(const char *name, int fd) {
    if (fd < 0) {
        printf("%s errno=%d content=[]\n", name, errno);
        return;
    }
    char buf[128] = {0};
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t i = 0; i < got; i++) {
        if (buf[i] == '\n') {
            buf[i] = ' ';
        }
    }
    printf("%s errno=0 content=[%.*s]\n", name, (int)(got < 0 ? 0 : got), buf);
}

static void report_result(const char *name, int result) {
    printf("%s errno=%d content=[]\n", name, result == 0 ? 0 : errno);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: p1_sandbox DIR\n");
        return 100;
    }
    dir = argv[1];
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0) {
        printf("FAIL open preopen %s: errno %d\n", dir, errno);
        return 1;
    }

    errno = 0;
    report_fd("open_dotdot", open(at("../outside.txt"), O_RDONLY));
    errno = 0;
    report_fd("openat_dotdot", openat(dirfd, "../outside.txt", O_RDONLY));
    errno = 0;
    report_fd("openat_inner_dotdot", openat(dirfd, "sub/../../outside.txt", O_RDONLY));
    errno = 0;
    report_fd("openat_absolute", openat(dirfd, "/etc/passwd", O_RDONLY));
    errno = 0;
    report_fd("open_etc_passwd", open("/etc/passwd", O_RDONLY));
    errno = 0;
    report_fd("open_link_parent", open(at("link_parent/outside.txt"), O_RDONLY));
    errno = 0;
    report_fd("open_link_abs", open(at("link_abs"), O_RDONLY));
    errno = 0;
    report_fd("open_link_etc", open(at("link_etc"), O_RDONLY));
    errno = 0;
    report_fd("opendir_parent", openat(dirfd, "..", O_RDONLY | O_DIRECTORY));
    errno = 0;
    report_fd("opendir_link_parent", openat(dirfd, "link_parent", O_RDONLY | O_DIRECTORY));

    struct stat st;
    errno = 0;
    report_result("stat_dotdot", fstatat(dirfd, "../outside.txt", &st, 0));
    errno = 0;
    report_result("stat_link_parent", fstatat(dirfd, "link_parent/outside.txt", &st, 0));
    errno = 0;
    report_result("mkdir_dotdot", mkdirat(dirfd, "../made_outside", 0755));
    errno = 0;
    report_result("rename_out", renameat(dirfd, "inside.txt", dirfd, "../moved_outside.txt"));
    errno = 0;
    report_result("unlink_dotdot", unlinkat(dirfd, "../outside.txt", 0));
    errno = 0;
    report_fd("create_dotdot", openat(dirfd, "../created_outside.txt", O_CREAT | O_WRONLY, 0644));
    errno = 0;
    report_fd("create_through_link", openat(dirfd, "link_parent/created_outside.txt", O_CREAT | O_WRONLY, 0644));

    // Creating a symlink that points outside may or may not be allowed; following it must not be.
    errno = 0;
    int made = symlinkat("../outside.txt", dirfd, "guest_link");
    printf("symlink_create result=%d\n", made);
    errno = 0;
    report_fd("open_guest_link", openat(dirfd, "guest_link", O_RDONLY));
    return 0;
}
