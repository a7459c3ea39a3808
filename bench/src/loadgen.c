/* The load generator: always native, so that only the server differs between the native and
 * the wasm runs. Every mode is bounded in time (alarm) and prints one line of results.
 *
 *   loadgen bulk PORT BYTES WRITE_SIZE
 *       writes BYTES in WRITE_SIZE writes, shuts down its side and waits for the sink's byte
 *       count; "seconds=S bytes=B"
 *   loadgen rr PORT COUNT SIZE
 *       COUNT request/response round trips of SIZE bytes over one connection (after 100 for
 *       warm-up); checks every echo; "seconds=S count=N"
 *   loadgen conns PORT CONNECTIONS ROUNDS SIZE
 *       opens CONNECTIONS connections at once; each sends SIZE bytes, waits for their echo and
 *       repeats ROUNDS times, all of them concurrently, then closes; "seconds=S errors=E"
 *       (S from the first connect to the last close). Uses epoll, so that the client's cost
 *       per event stays flat and the time is the server's. */

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "bench.h"

/* Every run must end: the harness's own timeout is the second line of defence. */
#define TIME_LIMIT_SECONDS 120

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = loopback(port);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return fd;
}

static int recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int bulk(int port, long long bytes, long write_size)
{
    char *buf = malloc((size_t)write_size);
    if (buf == NULL)
        die("malloc");
    for (long i = 0; i < write_size; i++)
        buf[i] = (char)(i * 7);
    double start = now_seconds();
    int fd = connect_to(port);
    if (fd < 0)
        die("connect");
    for (long long left = bytes; left > 0;) {
        size_t n = left < write_size ? (size_t)left : (size_t)write_size;
        if (send_all(fd, buf, n) != 0)
            die("send");
        left -= (long long)n;
    }
    if (shutdown(fd, SHUT_WR) != 0)
        die("shutdown");
    unsigned char count[8];
    if (recv_all(fd, count, sizeof(count)) != 0)
        die("recv(count)");
    double seconds = now_seconds() - start;
    unsigned long long got = 0;
    for (int i = 0; i < 8; i++)
        got = got << 8 | count[i];
    close(fd);
    if (got != (unsigned long long)bytes) {
        printf("error: the sink counted %llu bytes, %lld were sent\n", got, bytes);
        return 1;
    }
    printf("seconds=%.6f bytes=%lld\n", seconds, bytes);
    return 0;
}

static int round_trips(int port, long count, long size)
{
    char out[4096], in[4096];
    if (size > (long)sizeof(out))
        size = sizeof(out);
    int fd = connect_to(port);
    if (fd < 0)
        die("connect");
    double start = 0;
    for (long i = -100; i < count; i++) {
        if (i == 0)
            start = now_seconds();
        memset(out, (int)(i & 0xff), (size_t)size);
        memcpy(out, &i, sizeof(i));
        if (send_all(fd, out, (size_t)size) != 0)
            die("send");
        if (recv_all(fd, in, (size_t)size) != 0)
            die("recv");
        if (memcmp(in, out, (size_t)size) != 0) {
            printf("error: round trip %ld came back different\n", i);
            return 1;
        }
    }
    double seconds = now_seconds() - start;
    close(fd);
    printf("seconds=%.6f count=%ld\n", seconds, count);
    return 0;
}

struct conn {
    int fd;
    long rounds_left;
    size_t received;
    unsigned char expect;
};

static int fill_and_send(struct conn *c, int index, long size, char *buf)
{
    c->expect = (unsigned char)(index * 31 + c->rounds_left);
    memset(buf, c->expect, (size_t)size);
    c->received = 0;
    return send_all(c->fd, buf, (size_t)size);
}

/* The client side is epoll-based, so that its own cost per event does not grow with the
 * number of connections: the time measured is the server's. */
static int many_connections(int port, long connections, long rounds, long size)
{
    static struct conn conns[8192];
    static struct epoll_event events[1024];
    char out[4096], in[4096];
    if (connections > 8192 || size > (long)sizeof(out)) {
        printf("error: at most 8192 connections of 4096 bytes\n");
        return 2;
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)connections + 64) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    long errors = 0, done = 0;
    double start = now_seconds();
    for (long i = 0; i < connections; i++) {
        conns[i].fd = connect_to(port);
        conns[i].rounds_left = rounds;
        if (conns[i].fd < 0) {
            if (errors == 0)
                printf("first error: connect %ld: %s\n", i, strerror(errno));
            errors++;
            done++;
            continue;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    /* Blocking sends of one small message each (they fit in the socket buffer), then
     * non-blocking reads as the echoes come. */
    for (long i = 0; i < connections; i++) {
        if (conns[i].fd < 0)
            continue;
        if (fill_and_send(&conns[i], (int)i, size, out) != 0) {
            errors++;
            done++;
            close(conns[i].fd);
            conns[i].fd = -1;
        }
    }
    while (done < connections) {
        int ready = epoll_wait(ep, events, 1024, 10000);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            printf("first error: no echo for 10 s on %ld connections\n", connections - done);
            errors += connections - done;
            break;
        }
        for (int k = 0; k < ready; k++) {
            int i = (int)events[k].data.u64;
            struct conn *c = &conns[i];
            if (c->fd < 0)
                continue;
            ssize_t got = recv(c->fd, in, (size_t)size - c->received, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            int failed = got <= 0;
            for (ssize_t b = 0; !failed && b < got; b++)
                failed = (unsigned char)in[b] != c->expect;
            if (!failed) {
                c->received += (size_t)got;
                if (c->received < (size_t)size)
                    continue;
                if (--c->rounds_left > 0) {
                    if (fill_and_send(c, i, size, out) == 0)
                        continue;
                    failed = 1;
                }
            }
            if (failed) {
                if (errors == 0)
                    printf("first error: connection %d: %s\n", i,
                           got < 0 ? strerror(errno) : got == 0 ? "closed early" : "wrong echo");
                errors++;
            }
            close(c->fd); /* also leaves the epoll set */
            c->fd = -1;
            done++;
        }
    }
    for (long i = 0; i < connections; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    close(ep);
    double seconds = now_seconds() - start;
    printf("seconds=%.6f errors=%ld\n", seconds, errors);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    alarm(TIME_LIMIT_SECONDS);
    if (argc == 5 && strcmp(argv[1], "bulk") == 0)
        return bulk((int)parse_long(argv[2], 1, 65535, "PORT"), atoll(argv[3]),
                    parse_long(argv[4], 1, 16 << 20, "WRITE_SIZE"));
    if (argc == 5 && strcmp(argv[1], "rr") == 0)
        return round_trips((int)parse_long(argv[2], 1, 65535, "PORT"),
                           parse_long(argv[3], 1, 100000000, "COUNT"), parse_long(argv[4], 1, 4096, "SIZE"));
    if (argc == 6 && strcmp(argv[1], "conns") == 0)
        return many_connections((int)parse_long(argv[2], 1, 65535, "PORT"),
                                parse_long(argv[3], 1, 8192, "CONNECTIONS"),
                                parse_long(argv[4], 1, 1000000, "ROUNDS"), parse_long(argv[5], 1, 4096, "SIZE"));
    printf("usage: loadgen bulk PORT BYTES WRITE_SIZE | rr PORT COUNT SIZE |"
           " conns PORT CONNECTIONS ROUNDS SIZE\n");
    return 2;
}
