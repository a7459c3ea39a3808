/* UDP echo server: answers COUNT datagrams, each back to its sender, then exits.
 *
 *   udp_server [ADDRESS=127.0.0.1] [PORT=12346] [COUNT=1] */

#include "common.h"

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    const char *port = argc > 2 ? argv[2] : "12346";
    int count = argc > 3 ? atoi(argv[3]) : 1;
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr(address, port, &ss);
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        die("socket");
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    printf("listening on %s\n", local_text(fd, text, sizeof(text)));

    for (int i = 1; i <= count; i++) {
        char buf[2048];
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &peer_len);
        if (n < 0)
            die("recvfrom");
        printf("datagram %d from %s: %zd bytes: %.*s\n", i,
               addr_text((struct sockaddr *)&peer, peer_len, text, sizeof(text)), n, (int)n, buf);
        if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peer_len) != n)
            die("sendto");
    }
    close(fd);
    printf("served %d datagrams\n", count);
    return 0;
}
