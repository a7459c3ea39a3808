// File I/O under the preopen argv[1]: write, read, seek/tell, pread/pwrite, fstat sizes,
// ftruncate, O_APPEND, and reading a file the host created. Prints what it observes; the test
// compares the whole output and the files left on the host.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *what) {
    printf("FAIL %s: errno %d\n", what, errno);
    exit(1);
}

static long long size_of(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fail("fstat");
    }
    return (long long)st.st_size;
}

static long long tell(int fd) {
    return (long long)lseek(fd, 0, SEEK_CUR);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: p1_file_io DIR\n");
        return 100;
    }
    char path[512];
    char buf[64];

    snprintf(path, sizeof(path), "%s/data.bin", argv[1]);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fail("open data.bin for writing");
    }
    ssize_t wrote = write(fd, "hello, world\n", 13);
    printf("write=%zd size=%lld tell=%lld\n", wrote, size_of(fd), tell(fd));
    close(fd);

    fd = open(path, O_RDWR);
    if (fd < 0) {
        fail("open data.bin read-write");
    }
    printf("seek_set=%lld\n", (long long)lseek(fd, 7, SEEK_SET));
    memset(buf, 0, sizeof(buf));
    ssize_t got = read(fd, buf, 5);
    printf("read=%zd [%s] tell=%lld\n", got, buf, tell(fd));
    printf("seek_cur=%lld\n", (long long)lseek(fd, -3, SEEK_CUR));
    printf("seek_end=%lld\n", (long long)lseek(fd, -6, SEEK_END));
    errno = 0;
    long long bad = (long long)lseek(fd, -100, SEEK_CUR);
    printf("seek_negative=%lld errno=%d\n", bad, errno);
    printf("seek_past_end=%lld\n", (long long)lseek(fd, 100, SEEK_SET));
    wrote = write(fd, "X", 1);
    printf("write_past_end=%zd size=%lld tell=%lld\n", wrote, size_of(fd), tell(fd));
    wrote = pwrite(fd, "HELLO", 5, 0);
    memset(buf, 0, sizeof(buf));
    got = pread(fd, buf, 13, 0);
    printf("pwrite=%zd pread=%zd [%.13s] tell=%lld\n", wrote, got, buf, tell(fd));
    memset(buf, 0, sizeof(buf));
    got = pread(fd, buf, 10, 98);
    printf("pread_tail=%zd bytes=%d,%d,%c\n", got, buf[0], buf[1], buf[2]);
    if (ftruncate(fd, 5) != 0) {
        fail("ftruncate");
    }
    printf("truncated size=%lld\n", size_of(fd));
    close(fd);

    fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0) {
        fail("open data.bin for appending");
    }
    lseek(fd, 0, SEEK_SET);
    wrote = write(fd, "!!", 2);
    printf("append=%zd size=%lld\n", wrote, size_of(fd));
    close(fd);

    snprintf(path, sizeof(path), "%s/host.txt", argv[1]);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        fail("open host.txt");
    }
    memset(buf, 0, sizeof(buf));
    got = read(fd, buf, sizeof(buf) - 1);
    printf("host.txt size=%lld read=%zd [%s]\n", size_of(fd), got, buf);
    got = read(fd, buf, sizeof(buf) - 1);
    printf("read_at_eof=%zd\n", got);
    errno = 0;
    wrote = write(fd, "no", 2);
    printf("write_to_read_only=%zd errno=%d\n", wrote, errno);
    close(fd);

    snprintf(path, sizeof(path), "%s/missing.txt", argv[1]);
    errno = 0;
    fd = open(path, O_RDONLY);
    printf("open_missing=%d errno=%d\n", fd, errno);
    return 0;
}
