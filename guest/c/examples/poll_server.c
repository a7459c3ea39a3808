/* A poll()-based TCP echo server that serves several clients at once: a non-blocking
 * listener, non-blocking accept4, one pollfd per client. Exits after CLIENTS clients have
 * come and gone, or after 10 s without any event.
 *
 *   poll_server [ADDRESS=127.0.0.1] [PORT=12347] [CLIENTS=3] */

#include <poll.h>

#include "common.h"

#define MAX_CLIENTS 16

struct client {
    int number;
    size_t echoed;
};

/* Echoes everything; the socket is non-blocking, so wait for POLLOUT when it is full. */
static void echo_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, 0);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (poll(&p, 1, 5000) != 1)
                die("poll(POLLOUT)");
            continue;
        }
        if (n < 0)
            die("send");
        buf += n;
        len -= (size_t)n;
    }
}

int main(int argc, char **argv)
{
    const char *address = argc > 1 ? argv[1] : "127.0.0.1";
    const char *port = argc > 2 ? argv[2] : "12347";
    int wanted = argc > 3 ? atoi(argv[3]) : 3;
    char text[64];
    line_buffered_stdout();

    struct sockaddr_storage ss;
    socklen_t len = make_addr(address, port, &ss);
    int listener = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0)
        die("socket");
    int on = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
        die("setsockopt(SO_REUSEADDR)");
    if (bind(listener, (struct sockaddr *)&ss, len) != 0 || listen(listener, MAX_CLIENTS) != 0)
        die("bind/listen");
    printf("listening on %s\n", local_text(listener, text, sizeof(text)));

    struct pollfd fds[1 + MAX_CLIENTS];
    struct client clients[1 + MAX_CLIENTS];
    int nfds = 1, accepted = 0, finished = 0, most_at_once = 0;
    fds[0] = (struct pollfd){ .fd = listener, .events = POLLIN };

    while (finished < wanted) {
        int ready = poll(fds, (nfds_t)nfds, 10000);
        if (ready < 0)
            die("poll");
        if (ready == 0) {
            printf("no activity for 10 s, giving up after %d clients\n", finished);
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            /* Take every pending connection; EAGAIN means there are no more. */
            for (;;) {
                struct sockaddr_storage peer;
                socklen_t peer_len = sizeof(peer);
                int fd = accept4(listener, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK);
                if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (fd < 0)
                    die("accept4");
                if (nfds == 1 + MAX_CLIENTS || accepted == wanted) {
                    close(fd); /* over capacity or beyond the ones we serve */
                    continue;
                }
                accepted++;
                fds[nfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
                clients[nfds] = (struct client){ .number = accepted, .echoed = 0 };
                nfds++;
                if (nfds - 1 > most_at_once)
                    most_at_once = nfds - 1;
                printf("client %d connected from %s\n", accepted,
                       addr_text((struct sockaddr *)&peer, peer_len, text, sizeof(text)));
            }
        }
        for (int i = 1; i < nfds; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = recv(fds[i].fd, buf, sizeof(buf), 0);
            if (n < 0 && errno == EAGAIN)
                continue;
            if (n > 0) {
                echo_all(fds[i].fd, buf, (size_t)n);
                clients[i].echoed += (size_t)n;
                continue;
            }
            if (n < 0)
                printf("client %d failed: %s\n", clients[i].number, strerror(errno));
            printf("client %d closed after echoing %zu bytes\n", clients[i].number,
                   clients[i].echoed);
            close(fds[i].fd);
            finished++;
            /* Move the last entry here and look at this slot again. */
            nfds--;
            fds[i] = fds[nfds];
            clients[i] = clients[nfds];
            i--;
        }
    }
    close(listener);
    printf("served %d clients, at most %d at once\n", finished, most_at_once);
    return 0;
}
