/* Helpers shared by the benchmark programs. Every program builds both natively (gcc -O2) and
 * to wasm32-wasi (clang -O2 + guest/c's socket library), from the same source. */

#ifndef BENCH_H
#define BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef __wasi__
#include <wasi_socket_ext.h>
#endif

static inline void die(const char *what)
{
    int err = errno;
    printf("error: %s: %s (errno %d)\n", what, strerror(err), err);
    fflush(stdout);
    exit(1);
}

static inline double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long parse_long(const char *text, long min, long max, const char *what)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < min || v > max) {
        printf("error: %s must be a number from %ld to %ld, not '%s'\n", what, min, max, text);
        exit(2);
    }
    return v;
}

static inline struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* A listening socket on 127.0.0.1:port (0: the kernel chooses); prints "listening on PORT"
 * so that the harness learns the port. */
static inline int listen_on(int port, int type_flags, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | type_flags, 0);
    if (fd < 0)
        die("socket");
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
        die("setsockopt(SO_REUSEADDR)");
    struct sockaddr_in sin = loopback(port);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("bind");
    if (listen(fd, backlog) != 0)
        die("listen");
    socklen_t len = sizeof(sin);
    if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        die("getsockname");
    printf("listening on %d\n", ntohs(sin.sin_port));
    fflush(stdout);
    return fd;
}

/* Sends all of buf on a blocking socket. */
static inline int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

#endif
