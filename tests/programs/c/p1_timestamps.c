// File timestamps under the preopen argv[1]: futimens and utimensat round trips with
// nanoseconds, an omitted atime with mtime set to now, and mtime moving forward after a write. Leaves
// "stamped.txt" with atime 1300000000.5 and mtime 1400000000.25 for the host to check.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static void fail(const char *what) {
    printf("FAIL %s: errno %d\n", what, errno);
    exit(1);
}

static void print_times(const char *label, const struct stat *st) {
    printf("%s atime=%lld.%09ld mtime=%lld.%09ld\n", label, (long long)st->st_atim.tv_sec,
           st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

// Whether a timestamp is within 10 seconds of the guest's realtime clock.
static int is_recent(struct timespec t) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long diff = (long long)now.tv_sec - (long long)t.tv_sec;
    return diff >= -10 && diff <= 10;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: p1_timestamps DIR\n");
        return 100;
    }
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/touched.txt", argv[1]);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0) {
        fail("create touched.txt");
    }
    struct timespec fd_times[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
    if (futimens(fd, fd_times) != 0) {
        fail("futimens");
    }
    if (fstat(fd, &st) != 0) {
        fail("fstat");
    }
    print_times("futimens", &st);

    // Debian's 2022 wasi-libc rejects UTIME_OMIT/UTIME_NOW in futimens with EINVAL before
    // calling the host, so this step calls fd_filestat_set_times directly: atime omitted,
    // mtime set to the host's "now".
    __wasi_errno_t err = __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW);
    if (err != 0) {
        errno = err;
        fail("fd_filestat_set_times omit/now");
    }
    if (fstat(fd, &st) != 0) {
        fail("fstat");
    }
    printf("omit/now atime=%lld.%09ld mtime_recent=%d\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           is_recent(st.st_mtim));

    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    if (futimens(fd, old) != 0) {
        fail("futimens old");
    }
    if (write(fd, "x", 1) != 1) {
        fail("write");
    }
    if (fstat(fd, &st) != 0) {
        fail("fstat");
    }
    printf("after write mtime_changed=%d mtime_recent=%d size=%lld\n", st.st_mtim.tv_sec > 1000000000,
           is_recent(st.st_mtim), (long long)st.st_size);
    close(fd);

    snprintf(path, sizeof(path), "%s/stamped.txt", argv[1]);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fail("create stamped.txt");
    }
    close(fd);
    struct timespec path_times[2] = {{1300000000, 500000000}, {1400000000, 250000000}};
    if (utimensat(AT_FDCWD, path, path_times, 0) != 0) {
        fail("utimensat");
    }
    if (stat(path, &st) != 0) {
        fail("stat");
    }
    print_times("utimensat", &st);

    snprintf(path, sizeof(path), "%s/missing.txt", argv[1]);
    errno = 0;
    int result = utimensat(AT_FDCWD, path, path_times, 0);
    printf("utimensat missing=%d errno=%d\n", result, errno);
    return 0;
}
