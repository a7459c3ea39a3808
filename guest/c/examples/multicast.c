/* IPv4 multicast on this host only: joins GROUP, sends one datagram to it with
 * IP_MULTICAST_LOOP on and IP_MULTICAST_TTL 0 (so it never leaves the machine), and receives
 * its own datagram.
 *
 *   multicast [GROUP=239.255.0.1] [PORT=0]
 *
 * The socket is bound to the group address itself, so an address pool covering the group
 * (e.g. --addr-pool=239.255.0.0/16) is all it needs. The membership and the datagram use the
 * host's default multicast route (IP_MULTICAST_IF is not available): on a machine without
 * one, the program says so and exits with status 77 ("skipped"). */

#include <sys/time.h>

#include "common.h"

#define EXIT_UNAVAILABLE 77

static void unavailable(const char *what)
{
    int err = errno;
    printf("multicast unavailable here: %s: %s (errno %d)\n", what, strerror(err), err);
    exit(EXIT_UNAVAILABLE);
}

int main(int argc, char **argv)
{
    const char *group_text = argc > 1 ? argv[1] : "239.255.0.1";
    const char *port = argc > 2 ? argv[2] : "0";
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr(group_text, port, &ss);
    if (ss.ss_family != AF_INET) {
        printf("error: %s is not an IPv4 address\n", group_text);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    // SO_REUSEADDR lets other receivers on this host share the port. wasock refuses it on
    // UDP (EACCES) unless run with --allow-port-sharing; one receiver does not need it.
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
        if (errno != EACCES)
            die("setsockopt(SO_REUSEADDR)");
        printf("note: SO_REUSEADDR refused (%s); receiving alone on the port\n", strerror(errno));
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        die("getsockname");
    printf("bound to %s\n", addr_text((struct sockaddr *)&ss, len, text, sizeof(text)));

    struct ip_mreq mreq;
    mreq.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr;
    mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0)
        unavailable("IP_ADD_MEMBERSHIP");
    printf("joined %s\n", group_text);

    unsigned char ttl = 0; /* the one-byte form: loop back locally, never hit the wire */
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) != 0)
        die("setsockopt(IP_MULTICAST_TTL)");
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &on, sizeof(on)) != 0)
        die("setsockopt(IP_MULTICAST_LOOP)");
    struct timeval timeout = { .tv_sec = 2, .tv_usec = 0 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0)
        die("setsockopt(SO_RCVTIMEO)");

    const char message[] = "hello, group";
    if (sendto(fd, message, sizeof(message) - 1, 0, (struct sockaddr *)&ss, len) < 0) {
        if (errno == ENETUNREACH || errno == ENODEV || errno == EADDRNOTAVAIL)
            unavailable("sendto");
        die("sendto");
    }
    printf("sent %zu bytes to %s\n", sizeof(message) - 1,
           addr_text((struct sockaddr *)&ss, len, text, sizeof(text)));

    char buf[64];
    struct sockaddr_storage from;
    socklen_t from_len = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
        if (errno == EAGAIN)
            unavailable("no looped-back datagram within 2 s");
        die("recvfrom");
    }
    printf("received %zd bytes from %s: %.*s\n", n,
           addr_text((struct sockaddr *)&from, from_len, text, sizeof(text)), (int)n, buf);
    if (setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mreq, sizeof(mreq)) != 0)
        die("setsockopt(IP_DROP_MEMBERSHIP)");
    printf("left %s\n", group_text);
    close(fd);
    if ((size_t)n != sizeof(message) - 1 || memcmp(buf, message, (size_t)n) != 0) {
        printf("multicast MISMATCH\n");
        return 1;
    }
    printf("multicast ok\n");
    return 0;
}
