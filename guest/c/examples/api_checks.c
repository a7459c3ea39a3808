/* Edge cases of the socket API that the other examples do not reach: error codes of socket(),
 * SOCK_NONBLOCK, non-blocking connect with SO_ERROR, accept4, address truncation, zero-length
 * sends, MSG_WAITALL, MSG_PEEK, shutdown, sendto without an address, the address pool.
 * One "ok"/"FAIL" line per check; the exit status is the number of failures.
 *
 *   api_checks [DENIED_ADDRESS=127.0.0.2]
 *
 * Run it with --addr-pool=127.0.0.1/32: it binds and connects on 127.0.0.1 only, and expects
 * connect() to DENIED_ADDRESS to fail with EACCES (the runtime's pool refuses it). */

#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>

#include "common.h"

static int failures;

static void check(int ok, const char *what, const char *detail)
{
    printf("%-4s %s%s%s\n", ok ? "ok" : "FAIL", what, detail[0] ? ": " : "", detail);
    if (!ok)
        failures++;
}

/* rc must be -1 with errno `expected`. */
static void check_errno(const char *what, long rc, int expected)
{
    char detail[128];
    int err = errno;
    snprintf(detail, sizeof(detail), "rc %ld, errno %d (%s), expected %d (%s)", rc,
             rc == -1 ? err : 0, rc == -1 ? strerror(err) : "none", expected, strerror(expected));
    check(rc == -1 && err == expected, what, detail);
}

static int is_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags != -1 && (flags & O_NONBLOCK);
}

/* A TCP listener on 127.0.0.1 with a kernel-chosen port. */
static int listener_on_loopback(struct sockaddr_in *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof(*addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)addr, &len) != 0)
        die("listener");
    return fd;
}

static int wait_writable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    return poll(&p, 1, 5000) == 1;
}

int main(int argc, char **argv)
{
    const char *denied = argc > 1 ? argv[1] : "127.0.0.2";
    char detail[160];
    line_buffered_stdout();

    /* socket() errors */
    check_errno("socket(AF_UNIX)", socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
    check_errno("socket(AF_INET, type 99)", socket(AF_INET, 99, 0), EPROTOTYPE);
    check_errno("socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)",
                socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);

    /* SOCK_NONBLOCK | SOCK_CLOEXEC */
    int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    check(nb >= 0 && is_nonblocking(nb), "socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)",
          nb >= 0 ? "O_NONBLOCK set" : strerror(errno));
    int blocking = socket(AF_INET, SOCK_DGRAM, 0);
    check(blocking >= 0 && !is_nonblocking(blocking), "socket(SOCK_DGRAM) is blocking", "");
    close(blocking);

    /* Non-blocking connect to a listener: EINPROGRESS (or at once), then SO_ERROR 0. */
    struct sockaddr_in addr;
    int listener = listener_on_loopback(&addr);
    int rc = connect(nb, (struct sockaddr *)&addr, sizeof(addr));
    int connect_errno = errno;
    int ok = rc == 0 || connect_errno == EINPROGRESS;
    snprintf(detail, sizeof(detail), "rc %d, %s", rc, rc == 0 ? "connected at once" : strerror(connect_errno));
    check(ok, "non-blocking connect to a listener", detail);
    int so_error = -1;
    socklen_t len = sizeof(so_error);
    ok = wait_writable(nb) && getsockopt(nb, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 &&
         so_error == 0;
    snprintf(detail, sizeof(detail), "SO_ERROR %d", so_error);
    check(ok, "SO_ERROR after a successful non-blocking connect", detail);

    /* accept4(SOCK_NONBLOCK) with a NULL address */
    int accepted = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    check(accepted >= 0 && is_nonblocking(accepted), "accept4(fd, NULL, NULL, SOCK_NONBLOCK)",
          accepted >= 0 ? "O_NONBLOCK set" : strerror(errno));
    int listener_flags = fcntl(listener, F_GETFL);
    fcntl(listener, F_SETFL, listener_flags | O_NONBLOCK);
    check_errno("accept on a non-blocking listener with nothing pending",
                accept(listener, NULL, NULL), EAGAIN);
    fcntl(listener, F_SETFL, listener_flags);
    check_errno("accept4 with unknown flags", accept4(listener, NULL, NULL, 0x1), EINVAL);

    /* Non-blocking connect to a closed port: SO_ERROR reports ECONNREFUSED once. */
    struct sockaddr_in closed;
    int gone = listener_on_loopback(&closed);
    close(gone);
    int refused = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    rc = connect(refused, (struct sockaddr *)&closed, sizeof(closed));
    connect_errno = errno;
    if (rc == -1 && connect_errno == EINPROGRESS) {
        so_error = -1;
        len = sizeof(so_error);
        ok = wait_writable(refused) &&
             getsockopt(refused, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 &&
             so_error == ECONNREFUSED;
        snprintf(detail, sizeof(detail), "SO_ERROR %d (%s)", so_error, strerror(so_error));
        check(ok, "SO_ERROR after a refused non-blocking connect", detail);
        so_error = -1;
        ok = getsockopt(refused, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0;
        snprintf(detail, sizeof(detail), "SO_ERROR %d", so_error);
        check(ok, "SO_ERROR is cleared by reading it", detail);
    } else {
        snprintf(detail, sizeof(detail), "rc %d, errno %d (%s) at once", rc, connect_errno,
                 strerror(connect_errno));
        check(rc == -1 && connect_errno == ECONNREFUSED, "non-blocking connect to a closed port",
              detail);
    }
    close(refused);

    /* A blocking pair for the data checks. */
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        die("connect");
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof(peer);
    int server = accept(listener, (struct sockaddr *)&peer, &peer_len);
    if (server < 0)
        die("accept");
    struct timeval timeout = { .tv_sec = 5, .tv_usec = 0 };
    setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

    /* getsockname into a 4-byte buffer */
    unsigned char small[sizeof(struct sockaddr_in)];
    memset(small, 0xAA, sizeof(small));
    len = 4;
    rc = getsockname(client, (struct sockaddr *)small, &len);
    snprintf(detail, sizeof(detail), "length 4 -> %u, byte 4 0x%02x", (unsigned)len, small[4]);
    check(rc == 0 && len == sizeof(struct sockaddr_in) && small[4] == 0xAA,
          "getsockname truncates to *addrlen and returns the full length", detail);

    /* zero-length send on a stream */
    ssize_t n = send(client, "", 0, 0);
    snprintf(detail, sizeof(detail), "rc %zd", n);
    check(n == 0, "send of 0 bytes on TCP", detail);

    /* MSG_WAITALL across two sends */
    send_all(client, "hello", 5);
    send_all(client, "world", 5);
    char buf[32];
    n = recv(server, buf, 10, MSG_WAITALL);
    snprintf(detail, sizeof(detail), "rc %zd", n);
    check(n == 10 && memcmp(buf, "helloworld", 10) == 0, "recv MSG_WAITALL of 10 bytes", detail);

    /* recvfrom on TCP: the data, and either no address (Linux, WAMR) or the peer's (wasock);
     * POSIX leaves it unspecified for connection-mode sockets. */
    send_all(client, "tcp", 3);
    struct sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    n = recvfrom(server, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
    snprintf(detail, sizeof(detail), "rc %zd, address length %u", n, (unsigned)from_len);
    check(n == 3 && (from_len == 0 ||
                     (from_len == sizeof(peer) &&
                      ((struct sockaddr_in *)&from)->sin_port == peer.sin_port)),
          "recvfrom on TCP gives no address or the peer's", detail);

    /* MSG_PEEK leaves the data in place (WAMR's iwasm consumes it: informational there) */
    send_all(client, "peek", 4);
    n = recv(server, buf, sizeof(buf), MSG_PEEK);
    ssize_t again = recv(server, buf + 8, sizeof(buf) - 8, MSG_DONTWAIT);
    snprintf(detail, sizeof(detail), "peek %zd, then read %zd", n, again);
    check(n == 4 && again == 4 && memcmp(buf + 8, "peek", 4) == 0, "recv MSG_PEEK", detail);

    /* unsupported flags */
    check_errno("send with MSG_OOB-like flag 0x1", send(client, "x", 1, 0x1), EOPNOTSUPP);

    /* shutdown(SHUT_WR): the peer sees end of stream, the other direction still works */
    rc = shutdown(client, SHUT_WR);
    n = recv(server, buf, sizeof(buf), 0);
    ssize_t back = send(server, "still", 5, 0);
    ssize_t got_back = recv(client, buf, sizeof(buf), 0);
    snprintf(detail, sizeof(detail), "shutdown %d, peer read %zd, reply %zd, received %zd", rc, n,
             back, got_back);
    check(rc == 0 && n == 0 && back == 5 && got_back == 5, "shutdown(SHUT_WR) is half-close",
          detail);
    close(server);
    close(client);
    close(accepted);
    close(nb);

    /* UDP: connect, then sendto with no address */
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in u1_addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    len = sizeof(u1_addr);
    if (bind(u1, (struct sockaddr *)&u1_addr, sizeof(u1_addr)) != 0 ||
        getsockname(u1, (struct sockaddr *)&u1_addr, &len) != 0 ||
        connect(u2, (struct sockaddr *)&u1_addr, sizeof(u1_addr)) != 0)
        die("udp setup");
    setsockopt(u1, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    n = sendto(u2, "to", 2, 0, NULL, 0);
    ssize_t r = recv(u1, buf, sizeof(buf), 0);
    snprintf(detail, sizeof(detail), "sent %zd, received %zd", n, r);
    check(n == 2 && r == 2, "sendto(NULL address) on a connected UDP socket", detail);

    /* address errors */
    struct sockaddr_in dup = u1_addr;
    int u3 = socket(AF_INET, SOCK_DGRAM, 0);
    check_errno("bind to a port in use", bind(u3, (struct sockaddr *)&dup, sizeof(dup)), EADDRINUSE);
    check_errno("bind with a short address length", bind(u3, (struct sockaddr *)&dup, 8), EINVAL);
    struct sockaddr_storage denied_addr;
    socklen_t denied_len = make_addr(denied, "9", &denied_addr);
    check_errno("connect outside the address pool",
                connect(u3, (struct sockaddr *)&denied_addr, denied_len), EACCES);
    check_errno("sendto outside the address pool",
                sendto(u3, "x", 1, 0, (struct sockaddr *)&denied_addr, denied_len), EACCES);
    close(u1);
    close(u2);
    close(u3);
    close(listener);

    /* SO_RCVTIMEO with tv_usec out of range */
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval bad = { .tv_sec = 0, .tv_usec = 1000000 };
    check_errno("SO_RCVTIMEO with tv_usec 1000000",
                setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
    close(t);

    /* inet_addr / inet_ntoa */
    struct in_addr ia = { .s_addr = inet_addr("127.0.0.1") };
    snprintf(detail, sizeof(detail), "inet_addr 0x%08x, inet_ntoa %s", (unsigned)ntohl(ia.s_addr),
             inet_ntoa(ia));
    check(ntohl(ia.s_addr) == 0x7f000001 && strcmp(inet_ntoa(ia), "127.0.0.1") == 0 &&
              inet_addr("not an address") == INADDR_NONE,
          "inet_addr/inet_ntoa", detail);

    printf("%d failures\n", failures);
    return failures;
}
