/* TCP echo over IPv6 loopback inside one process: a listener on [::1], a client that connects
 * to it (the kernel completes the handshake before accept), one message there and back.
 *
 *   ipv6 [PORT=0] */

#include "common.h"

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "0";
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr("::1", port, &ss);
    int listener = socket(AF_INET6, SOCK_STREAM, 0);
    if (listener < 0)
        die("socket(AF_INET6)");
    int on = 1;
    if (setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
        die("setsockopt(IPV6_V6ONLY)");
    if (bind(listener, (struct sockaddr *)&ss, len) != 0)
        die("bind");
    if (listen(listener, 1) != 0)
        die("listen");
    len = sizeof(ss);
    if (getsockname(listener, (struct sockaddr *)&ss, &len) != 0)
        die("getsockname");
    printf("listening on %s\n", addr_text((struct sockaddr *)&ss, len, text, sizeof(text)));

    int client = socket(AF_INET6, SOCK_STREAM, 0);
    if (client < 0)
        die("socket");
    if (connect(client, (struct sockaddr *)&ss, len) != 0)
        die("connect");
    printf("client %s connected\n", local_text(client, text, sizeof(text)));

    struct sockaddr_in6 peer;
    socklen_t peer_len = sizeof(peer);
    int server = accept(listener, (struct sockaddr *)&peer, &peer_len);
    if (server < 0)
        die("accept");
    printf("server accepted %s (address length %u)\n",
           addr_text((struct sockaddr *)&peer, peer_len, text, sizeof(text)), (unsigned)peer_len);

    const char message[] = "hello over ipv6";
    char buf[64];
    send_all(client, message, sizeof(message) - 1);
    ssize_t n = recv(server, buf, sizeof(buf), 0);
    if (n < 0)
        die("recv (server)");
    send_all(server, buf, (size_t)n);
    n = recv(client, buf, sizeof(buf), 0);
    if (n < 0)
        die("recv (client)");
    printf("echoed: %.*s\n", (int)n, buf);
    close(server);
    close(client);
    close(listener);
    if ((size_t)n != sizeof(message) - 1 || memcmp(buf, message, (size_t)n) != 0) {
        printf("echo MISMATCH\n");
        return 1;
    }
    printf("echo ok\n");
    return 0;
}
