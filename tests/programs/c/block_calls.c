// Host calls that would block in the kernel, through raw imports only. The test
// (tests/all/blocking.rs) plays the peers; --timeout must stop every one of these.
//
//   block_calls bigwrite                one 16 MiB fd_write to stdout (a pipe nobody reads)
//   block_calls close PORT SECS         connect to 127.0.0.1:PORT, SO_LINGER {1, SECS}, fill the
//                                       buffers of a peer that never reads, then fd_close
//   block_calls renumber PORT SECS      the same, then fd_renumber another socket onto it
//   block_calls fifo_read               path_open "p" (in the first preopen) for reading, read
//   block_calls fifo_write [nonblock]   path_open "p" for writing (with NONBLOCK), write, close
//   block_calls fifo_echo               copy FIFO "to_guest" into FIFO "from_guest" until EOF
//
// Progress goes to stdout as "name errno=N ..." lines (stderr for bigwrite, whose stdout is
// the stuck pipe); a line starting with FAILED means a call returned that should have been
// stopped. The exit code is 0 unless the program itself went wrong (100).
#include "sock_imports.h"

#include <unistd.h>

IMPORT(path_open)
int32_t raw_path_open(u32 fd, u32 dirflags, u32 path, u32 path_len, u32 oflags, u64 base, u64 inheriting,
                      u32 fdflags, u32 fd_out);

#define PREOPEN 3u
#define RIGHT_FD_READ (1ull << 1)
#define RIGHT_FD_WRITE (1ull << 6)
#define BIG (16u << 20)

static uint8_t big[BIG];
static uint8_t chunk[65536];

static void fail(const char *what, int32_t err) {
    printf("FAILED %s errno=%d\n", what, err);
    exit(100);
}

static int32_t write_some(u32 fd, const void *p, u32 n, u32 *written) {
    u32 iov[2] = { P(p), n };
    return raw_fd_write(fd, P(iov), 1, P(written));
}

static int32_t read_some(u32 fd, void *p, u32 n, u32 *got) {
    u32 iov[2] = { P(p), n };
    return raw_fd_read(fd, P(iov), 1, P(got));
}

static int32_t open_path(const char *name, u64 rights, u32 fdflags, u32 *fd) {
    return raw_path_open(PREOPEN, 0, P(name), (u32)strlen(name), 0, rights, 0, fdflags, P(fd));
}

// A connected socket with SO_LINGER {1, secs} whose send queue the peer will never drain.
static u32 lingering_socket(unsigned port, unsigned secs) {
    u32 fd = open_socket(AF_INET4, SOCK_STREAM_);
    uint8_t addr[ADDR_SIZE];
    make_addr("127.0.0.1", (uint16_t)port, addr);
    int32_t err = raw_sock_connect(fd, P(addr));
    if (err)
        fail("sock_connect", err);
    if ((err = raw_sock_set_send_buf_size(fd, 4096)))
        fail("sock_set_send_buf_size", err);
    if ((err = raw_fd_fdstat_set_flags(fd, FDFLAG_NONBLOCK)))
        fail("fd_fdstat_set_flags", err);
    // Full means EAGAIN for 200 ms in a row: until then the peer's kernel may still be taking
    // in what is in flight. Bounded: 4096 sends of 64 KiB (256 MiB) is far more than the
    // buffers hold.
    unsigned long long filled = 0;
    for (int i = 0, idle = 0; i < 4096 && idle < 10; i++) {
        u32 iov[2] = { P(chunk), sizeof(chunk) }, n = 0;
        err = raw_sock_send(fd, P(iov), 1, 0, P(&n));
        if (err == 6 /* EAGAIN */) {
            idle++;
            usleep(20 * 1000);
            continue;
        }
        if (err)
            fail("sock_send", err);
        filled += n;
        idle = 0;
    }
    if ((err = raw_fd_fdstat_set_flags(fd, 0)))
        fail("fd_fdstat_set_flags", err);
    if ((err = raw_sock_set_linger(fd, 1, secs)))
        fail("sock_set_linger", err);
    printf("filled n=%llu\n", filled);
    return fd;
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc < 2)
        fail("usage: block_calls MODE ...", 0);
    const char *mode = argv[1];
    int32_t err;
    u32 n = 0;

    if (strcmp(mode, "bigwrite") == 0) {
        memset(big, 'x', sizeof(big));
        fprintf(stderr, "writing\n");
        err = write_some(1, big, BIG, &n);
        fprintf(stderr, "FAILED: fd_write returned errno=%d n=%u\n", err, n);
        return 0;
    }
    if ((strcmp(mode, "close") == 0 || strcmp(mode, "renumber") == 0) && argc > 3) {
        u32 fd = lingering_socket((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
        u32 other = open_socket(AF_INET4, SOCK_STREAM_);
        printf("closing\n");
        u64 start = now_ms();
        err = mode[0] == 'c' ? raw_fd_close(fd) : raw_fd_renumber(other, fd);
        printf("closed errno=%d after_ms=%llu\n", err, now_ms() - start);
        return 0;
    }
    if (strcmp(mode, "fifo_read") == 0) {
        u32 fd = 0;
        err = open_path("p", RIGHT_FD_READ, 0, &fd);
        printf("opened errno=%d\n", err);
        if (err)
            return 0;
        err = read_some(fd, chunk, sizeof(chunk), &n);
        printf("FAILED: fd_read returned errno=%d n=%u\n", err, n);
        return 0;
    }
    if (strcmp(mode, "fifo_write") == 0) {
        u32 fd = 0, flags = argc > 2 && strcmp(argv[2], "nonblock") == 0 ? FDFLAG_NONBLOCK : 0;
        printf("opening\n");
        err = open_path("p", RIGHT_FD_WRITE, flags, &fd);
        printf("opened errno=%d\n", err);
        if (err)
            return 0;
        err = write_some(fd, "hello", 5, &n);
        printf("write errno=%d n=%u\n", err, n);
        return 0;
    }
    if (strcmp(mode, "fifo_echo") == 0) {
        u32 in = 0, out = 0;
        if ((err = open_path("to_guest", RIGHT_FD_READ, 0, &in)))
            fail("path_open to_guest", err);
        printf("opened to_guest\n");
        if ((err = open_path("from_guest", RIGHT_FD_WRITE, 0, &out)))
            fail("path_open from_guest", err);
        printf("opened from_guest\n");
        unsigned long long copied = 0;
        // Bounded: the test sends far less than 4096 chunks.
        for (int i = 0; i < 4096; i++) {
            if ((err = read_some(in, chunk, sizeof(chunk), &n)))
                fail("fd_read", err);
            if (n == 0)
                break;
            u32 written = 0;
            if ((err = write_some(out, chunk, n, &written)) || written != n)
                fail("fd_write", err);
            copied += n;
        }
        if ((err = raw_fd_close(out)))
            fail("fd_close", err);
        printf("copied n=%llu\n", copied);
        return 0;
    }
    fail("unknown mode", 0);
}
