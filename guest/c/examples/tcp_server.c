/* TCP echo server: serves N connections one after the other, then exits.
 *
 *   tcp_server [ADDRESS=127.0.0.1] [PORT=12345] [CONNECTIONS=1]
 *
 * PORT 0 picks a free port; the "listening on" line shows the real one. */

#include "common.h"

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    const char *port = argc > 2 ? argv[2] : "12345";
    int connections = argc > 3 ? atoi(argv[3]) : 1;
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr(address, port, &ss);
    int listener = socket(ss.ss_family, SOCK_STREAM, 0);
    if (listener < 0)
        die("socket");
    int on = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
        die("setsockopt(SO_REUSEADDR)");
    if (bind(listener, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    if (listen(listener, 8) != 0)
        die("listen");
    printf("listening on %s\n", local_text(listener, text, sizeof(text)));

    for (int i = 1; i <= connections; i++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        int conn = accept(listener, (struct sockaddr *)&peer, &peer_len);
        if (conn < 0)
            die("accept");
        printf("connection %d from %s\n", i,
               addr_text((struct sockaddr *)&peer, peer_len, text, sizeof(text)));
        size_t total = 0;
        char buf[4096];
        for (;;) {
            ssize_t n = recv(conn, buf, sizeof(buf), 0);
            if (n < 0)
                die("recv");
            if (n == 0)
                break;
            send_all(conn, buf, (size_t)n);
            total += (size_t)n;
        }
        printf("connection %d closed after echoing %zu bytes\n", i, total);
        close(conn);
    }
    close(listener);
    printf("served %d connections\n", connections);
    return 0;
}
