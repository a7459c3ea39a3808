/* UDP client: sends one datagram and waits (at most 5 s) for the echo.
 *
 *   udp_client [ADDRESS=127.0.0.1] [PORT=12346] [MESSAGE="hello over udp"] */

#include <sys/time.h>

#include "common.h"

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    const char *port = argc > 2 ? argv[2] : "12346";
    const char *message = argc > 3 ? argv[3] : "hello over udp";
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr(address, port, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    struct timeval timeout = { .tv_sec = 5, .tv_usec = 0 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0)
        die("setsockopt(SO_RCVTIMEO)");

    size_t size = strlen(message);
    ssize_t sent = sendto(fd, message, size, 0, (struct sockaddr *)&ss, len);
    if (sent < 0)
        die("sendto");
    printf("sent %zd bytes to %s\n", sent, addr_text((struct sockaddr *)&ss, len, text, sizeof(text)));

    char buf[2048];
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof(peer);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &peer_len);
    if (n < 0)
        die("recvfrom");
    printf("received %zd bytes from %s: %.*s\n", n,
           addr_text((struct sockaddr *)&peer, peer_len, text, sizeof(text)), (int)n, buf);
    close(fd);
    if ((size_t)n != size || memcmp(buf, message, size) != 0) {
        printf("echo MISMATCH\n");
        return 1;
    }
    printf("echo ok\n");
    return 0;
}
