/* Sets and reads back every socket option the library supports, and checks the error cases.
 * One line per check, "ok" or "FAIL"; the exit status is the number of failures. No network
 * access is needed (the sockets are never bound).
 *
 *   sockopts */

#include <netinet/tcp.h>
#include <sys/time.h>

#include "common.h"

static int failures;

static void report(int ok, const char *what, const char *detail)
{
    printf("%-4s %s: %s\n", ok ? "ok" : "FAIL", what, detail);
    if (!ok)
        failures++;
}

/* Reads an int option into a buffer pre-filled with 0x77 bytes, so that a library writing
 * only one byte of the int would show up as 0x777777xx. */
static int get_int(int fd, int level, int name, int *value)
{
    memset(value, 0x77, sizeof(*value));
    socklen_t len = sizeof(*value);
    if (getsockopt(fd, level, name, value, &len) != 0)
        return -1;
    if (len != sizeof(*value)) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

/* Sets an int option, reads it back and checks the value (or only "non-zero" when
 * expect_nonzero, for options the kernel adjusts). */
static void check_int(const char *what, int fd, int level, int name, int set, int expect,
                      int expect_at_least)
{
    char detail[128];
    int got;
    if (setsockopt(fd, level, name, &set, sizeof(set)) != 0) {
        snprintf(detail, sizeof(detail), "set %d failed: %s", set, strerror(errno));
        report(0, what, detail);
        return;
    }
    if (get_int(fd, level, name, &got) != 0) {
        snprintf(detail, sizeof(detail), "get failed: %s", strerror(errno));
        report(0, what, detail);
        return;
    }
    int ok = expect_at_least ? got >= expect : got == expect;
    snprintf(detail, sizeof(detail), "set %d, got %d", set, got);
    report(ok, what, detail);
}

static void check_bool(const char *what, int fd, int level, int name)
{
    check_int(what, fd, level, name, 1, 1, 0);
    check_int(what, fd, level, name, 0, 0, 0);
}

static void check_error(const char *what, int rc, int expected_errno)
{
    char detail[128];
    int err = errno;
    snprintf(detail, sizeof(detail), "rc %d, errno %d (%s), expected errno %d", rc,
             rc == 0 ? 0 : err, rc == 0 ? "none" : strerror(err), expected_errno);
    report(rc == -1 && err == expected_errno, what, detail);
}

static void check_timeout(const char *what, int fd, int name)
{
    char detail[128];
    struct timeval set = { .tv_sec = 1, .tv_usec = 500000 };
    struct timeval got;
    memset(&got, 0x77, sizeof(got));
    socklen_t len = sizeof(got);
    if (setsockopt(fd, SOL_SOCKET, name, &set, sizeof(set)) != 0 ||
        getsockopt(fd, SOL_SOCKET, name, &got, &len) != 0) {
        snprintf(detail, sizeof(detail), "failed: %s", strerror(errno));
        report(0, what, detail);
        return;
    }
    snprintf(detail, sizeof(detail), "set 1.500000 s, got %lld.%06lld s", (long long)got.tv_sec,
             (long long)got.tv_usec);
    report(len == sizeof(got) && got.tv_sec == 1 && got.tv_usec == 500000, what, detail);
}

int main(void)
{
    line_buffered_stdout();
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    int tcp6 = socket(AF_INET6, SOCK_STREAM, 0);
    int udp6 = socket(AF_INET6, SOCK_DGRAM, 0);
    if (tcp < 0 || udp < 0 || tcp6 < 0 || udp6 < 0)
        die("socket");

    /* SOL_SOCKET */
    check_bool("SO_REUSEADDR", tcp, SOL_SOCKET, SO_REUSEADDR);
    check_bool("SO_REUSEPORT", tcp, SOL_SOCKET, SO_REUSEPORT);
    check_bool("SO_KEEPALIVE", tcp, SOL_SOCKET, SO_KEEPALIVE);
    check_bool("SO_BROADCAST", udp, SOL_SOCKET, SO_BROADCAST);
    check_int("SO_SNDBUF", tcp, SOL_SOCKET, SO_SNDBUF, 65536, 65536, 1); /* Linux doubles it */
    check_int("SO_RCVBUF", tcp, SOL_SOCKET, SO_RCVBUF, 65536, 65536, 1);
    check_timeout("SO_RCVTIMEO", tcp, SO_RCVTIMEO);
    check_timeout("SO_SNDTIMEO", tcp, SO_SNDTIMEO);
    {
        char detail[128];
        struct linger set = { .l_onoff = 1, .l_linger = 5 }, got;
        memset(&got, 0x77, sizeof(got));
        socklen_t len = sizeof(got);
        int rc = setsockopt(tcp, SOL_SOCKET, SO_LINGER, &set, sizeof(set));
        if (rc == 0)
            rc = getsockopt(tcp, SOL_SOCKET, SO_LINGER, &got, &len);
        snprintf(detail, sizeof(detail), "set {1, 5}, got {%d, %d}", got.l_onoff, got.l_linger);
        report(rc == 0 && got.l_onoff == 1 && got.l_linger == 5, "SO_LINGER", detail);
    }
    {
        char detail[128];
        int stream = 0, dgram = 0;
        int rc = get_int(tcp, SOL_SOCKET, SO_TYPE, &stream) | get_int(udp, SOL_SOCKET, SO_TYPE, &dgram);
        snprintf(detail, sizeof(detail), "tcp %d (SOCK_STREAM %d), udp %d (SOCK_DGRAM %d)", stream,
                 SOCK_STREAM, dgram, SOCK_DGRAM);
        report(rc == 0 && stream == SOCK_STREAM && dgram == SOCK_DGRAM, "SO_TYPE", detail);
    }
    {
        char detail[64];
        int err = -1;
        int rc = get_int(tcp, SOL_SOCKET, SO_ERROR, &err);
        snprintf(detail, sizeof(detail), "unconnected socket: %d", err);
        report(rc == 0 && err == 0, "SO_ERROR", detail);
    }

    /* IPPROTO_TCP */
    check_bool("TCP_NODELAY", tcp, IPPROTO_TCP, TCP_NODELAY);
    check_int("TCP_QUICKACK", tcp, IPPROTO_TCP, TCP_QUICKACK, 1, 1, 0);
    check_bool("TCP_FASTOPEN_CONNECT", tcp, IPPROTO_TCP, TCP_FASTOPEN_CONNECT);
    check_int("TCP_KEEPIDLE", tcp, IPPROTO_TCP, TCP_KEEPIDLE, 30, 30, 0);
    check_int("TCP_KEEPINTVL", tcp, IPPROTO_TCP, TCP_KEEPINTVL, 7, 7, 0);

    /* IPPROTO_IP */
    check_int("IP_TTL", tcp, IPPROTO_IP, IP_TTL, 33, 33, 0);
    check_int("IP_MULTICAST_TTL", udp, IPPROTO_IP, IP_MULTICAST_TTL, 4, 4, 0);
    check_bool("IP_MULTICAST_LOOP", udp, IPPROTO_IP, IP_MULTICAST_LOOP);

    /* IPPROTO_IPV6 */
    check_bool("IPV6_V6ONLY", tcp6, IPPROTO_IPV6, IPV6_V6ONLY);
    check_bool("IPV6_MULTICAST_LOOP", udp6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP);

    /* Errors */
    int one = 1;
    socklen_t short_len = 2;
    check_error("SO_KEEPALIVE with optlen 2 (set)",
                setsockopt(tcp, SOL_SOCKET, SO_KEEPALIVE, &one, 2), EINVAL);
    check_error("SO_KEEPALIVE with optlen 2 (get)",
                getsockopt(tcp, SOL_SOCKET, SO_KEEPALIVE, &one, &short_len), EINVAL);
    check_error("SO_RCVTIMEO with optlen 8",
                setsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &one, 8), EINVAL);
    check_error("SO_TYPE (set)", setsockopt(tcp, SOL_SOCKET, SO_TYPE, &one, sizeof(one)),
                ENOPROTOOPT);
    check_error("unknown SOL_SOCKET option 9999",
                setsockopt(tcp, SOL_SOCKET, 9999, &one, sizeof(one)), ENOPROTOOPT);
    check_error("unknown level 9999", setsockopt(tcp, 9999, 1, &one, sizeof(one)), ENOPROTOOPT);
    struct in_addr any = { .s_addr = htonl(INADDR_ANY) };
    check_error("IP_MULTICAST_IF (unsupported)",
                setsockopt(udp, IPPROTO_IP, IP_MULTICAST_IF, &any, sizeof(any)), ENOPROTOOPT);
    check_error("getsockopt on a closed fd",
                getsockopt(99, SOL_SOCKET, SO_KEEPALIVE, &one, &(socklen_t){ sizeof(int) }), EBADF);

    close(tcp);
    close(udp);
    close(tcp6);
    close(udp6);
    printf("%d failures\n", failures);
    return failures;
}
