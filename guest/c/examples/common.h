/* Small helpers shared by the examples. They build natively too (cc -o x x.c) for comparison
 * with Linux. */

#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __wasi__
#include <wasi_socket_ext.h>
#else
#include <netdb.h>
#endif

/* Line-buffered stdout so a test reading a pipe sees each line when it is printed. */
static inline void line_buffered_stdout(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline void die(const char *what)
{
    int err = errno;
    printf("error: %s: %s (errno %d)\n", what, strerror(err), err);
    exit(1);
}

/* "127.0.0.1" or "::1" plus a port into a sockaddr; exits on a malformed address. */
static inline socklen_t make_addr(const char *text, const char *port_text, struct sockaddr_storage *ss)
{
    long port = strtol(port_text, NULL, 10);
    if (port < 0 || port > 65535) {
        printf("error: bad port %s\n", port_text);
        exit(2);
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return sizeof(*sin);
    }
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        return sizeof(*sin6);
    }
    printf("error: %s is not a numeric IPv4 or IPv6 address\n", text);
    exit(2);
}

/* "127.0.0.1:80" or "[::1]:80", through getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV). */
static inline const char *addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];
    char serv[8];
    int rc = getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                         NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0)
        snprintf(buf, size, "<%s>", gai_strerror(rc));
    else if (sa->sa_family == AF_INET6)
        snprintf(buf, size, "[%s]:%s", host, serv);
    else
        snprintf(buf, size, "%s:%s", host, serv);
    return buf;
}

static inline const char *local_text(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        die("getsockname");
    return addr_text((struct sockaddr *)&ss, len, buf, size);
}

/* Writes all of buf (send may be partial). */
static inline void send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0)
            die("send");
        p += n;
        len -= (size_t)n;
    }
}

/* FNV-1a, to print a checksum of the bytes that came back. */
static inline uint32_t fnv1a(uint32_t hash, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 16777619u;
    }
    return hash;
}
#define FNV1A_INIT 2166136261u

#endif
