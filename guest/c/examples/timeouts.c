/* Receive timeouts and MSG_DONTWAIT: each blocking call must give up with EAGAIN after its
 * timeout (or at once for MSG_DONTWAIT). One "ok"/"FAIL" line per check; the exit status is
 * the number of failures.
 *
 *   timeouts [ADDRESS=127.0.0.1] */

#include <fcntl.h>
#include <sys/time.h>
#include <time.h>

#include "common.h"

static int failures;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_rcvtimeo(int fd, long usec)
{
    struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
        die("setsockopt(SO_RCVTIMEO)");
}

/* rc/errno of the call that just returned, and how long it took. */
static void expect_eagain(const char *what, ssize_t rc, long long elapsed, long long min_ms,
                          long long max_ms)
{
    int err = errno;
    int ok = rc == -1 && (err == EAGAIN || err == EWOULDBLOCK) && elapsed >= min_ms &&
             elapsed <= max_ms;
    printf("%-4s %s: rc %zd, %s, after %s%lld ms (expected EAGAIN within %lld..%lld ms)\n",
           ok ? "ok" : "FAIL", what, rc, rc == -1 ? strerror(err) : "no error",
           elapsed < min_ms ? "only " : "", elapsed, min_ms, max_ms);
    if (!ok)
        failures++;
}

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    char buf[16];
    line_buffered_stdout();
    struct sockaddr_storage ss;
    socklen_t len;

    /* 1. UDP recv with SO_RCVTIMEO = 300 ms */
    len = make_addr(address, "0", &ss);
    int udp = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (udp < 0 || bind(udp, (struct sockaddr *)&ss, len) != 0)
        die("udp socket/bind");
    set_rcvtimeo(udp, 300000);
    long long start = now_ms();
    ssize_t rc = recv(udp, buf, sizeof(buf), 0);
    expect_eagain("udp recv with SO_RCVTIMEO 300 ms", rc, now_ms() - start, 250, 5000);

    /* 2. TCP: accept, then recv, each with a timeout */
    len = make_addr(address, "0", &ss);
    int listener = socket(ss.ss_family, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&ss, len) != 0 || listen(listener, 4) != 0)
        die("tcp listener");
    set_rcvtimeo(listener, 200000);
    start = now_ms();
    rc = accept(listener, NULL, NULL);
    expect_eagain("accept with SO_RCVTIMEO 200 ms", rc, now_ms() - start, 150, 5000);

    len = sizeof(ss);
    if (getsockname(listener, (struct sockaddr *)&ss, &len) != 0)
        die("getsockname");
    int client = socket(ss.ss_family, SOCK_STREAM, 0);
    if (client < 0 || connect(client, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    int server = accept(listener, NULL, NULL); /* accept(fd, NULL, NULL) must work */
    if (server < 0)
        die("accept");
    set_rcvtimeo(client, 200000);
    start = now_ms();
    rc = recv(client, buf, sizeof(buf), 0);
    expect_eagain("tcp recv with SO_RCVTIMEO 200 ms", rc, now_ms() - start, 150, 5000);

    /* 3. MSG_DONTWAIT on a blocking socket without a timeout: EAGAIN at once, and the socket
     * is still blocking afterwards. */
    set_rcvtimeo(server, 0);
    start = now_ms();
    rc = recv(server, buf, sizeof(buf), MSG_DONTWAIT);
    expect_eagain("tcp recv with MSG_DONTWAIT", rc, now_ms() - start, 0, 150);
    int flags = fcntl(server, F_GETFL);
    int still_blocking = flags != -1 && !(flags & O_NONBLOCK);
    printf("%-4s socket still blocking after MSG_DONTWAIT (F_GETFL 0x%x)\n",
           still_blocking ? "ok" : "FAIL", (unsigned)flags);
    if (!still_blocking)
        failures++;

    /* 4. Data that is there arrives despite the timeout. */
    send_all(server, "ping", 4);
    rc = recv(client, buf, sizeof(buf), 0);
    int ok = rc == 4 && memcmp(buf, "ping", 4) == 0;
    printf("%-4s tcp recv of waiting data: rc %zd\n", ok ? "ok" : "FAIL", rc);
    if (!ok)
        failures++;

    close(server);
    close(client);
    close(listener);
    close(udp);
    printf("%d failures\n", failures);
    return failures;
}
