/* The measured side of the TCP benchmarks: a blocking server that serves CONNECTIONS
 * connections one after the other on 127.0.0.1:PORT, then exits.
 *
 *   server sink PORT CONNECTIONS   reads until end of stream, then replies with the byte
 *                                  count (8 bytes, big-endian) and closes
 *   server echo PORT CONNECTIONS   sends back everything it reads until end of stream
 *
 * Prints "listening on PORT" first, and "served N connections, B bytes" at the end. */

#include "bench.h"

/* Static: wasm32's default stack is only 64 KiB. */
static char buf[64 * 1024];

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "sink") != 0 && strcmp(argv[1], "echo") != 0)) {
        printf("usage: server sink|echo PORT CONNECTIONS\n");
        return 2;
    }
    int echo = strcmp(argv[1], "echo") == 0;
    int port = (int)parse_long(argv[2], 0, 65535, "PORT");
    long connections = parse_long(argv[3], 1, 1000000, "CONNECTIONS");
    int listener = listen_on(port, 0, 16);
    uint64_t all = 0;
    for (long c = 0; c < connections; c++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            die("accept");
        int on = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
            die("setsockopt(TCP_NODELAY)");
        uint64_t total = 0;
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                die("recv");
            if (n == 0)
                break;
            total += (uint64_t)n;
            if (echo && send_all(fd, buf, (size_t)n) != 0)
                die("send");
        }
        if (!echo) {
            unsigned char count[8];
            for (int i = 0; i < 8; i++)
                count[i] = (unsigned char)(total >> (56 - 8 * i));
            if (send_all(fd, count, sizeof(count)) != 0)
                die("send(count)");
        }
        close(fd);
        all += total;
    }
    printf("served %ld connections, %llu bytes\n", connections, (unsigned long long)all);
    return 0;
}
