/* The measured side of the many-connections benchmark: a poll()-based echo server. A
 * non-blocking listener and one pollfd per client, all in one poll() call; each readable
 * client gets one recv() and its bytes echoed. Exits once CLIENTS clients have come and gone,
 * or after 30 s without any event.
 *
 *   poll_server PORT CLIENTS
 *
 * Prints "listening on PORT" first and "served N clients, at most K at once, E errors" last. */

/* accept4 in glibc's <sys/socket.h>. */
#define _GNU_SOURCE
#include <poll.h>

#include "bench.h"

#define MAX_CLIENTS 4096

/* Static: wasi-libc's poll() also puts two arrays sized by nfds on the stack, hence the
 * larger stack the wasm build links with. */
static struct pollfd fds[1 + MAX_CLIENTS];
static char buf[16 * 1024];

/* Echoes all of buf on a non-blocking socket, waiting for room when it is full. */
static int echo_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd one = { .fd = fd, .events = POLLOUT };
            if (poll(&one, 1, 5000) != 1)
                return -1;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: poll_server PORT CLIENTS\n");
        return 2;
    }
    int port = (int)parse_long(argv[1], 0, 65535, "PORT");
    long wanted = parse_long(argv[2], 1, 1000000, "CLIENTS");
    int listener = listen_on(port, SOCK_NONBLOCK, 4096);
    int nfds = 1, most = 0;
    long accepted = 0, finished = 0, errors = 0;
    fds[0] = (struct pollfd){ .fd = listener, .events = POLLIN };

    while (finished < wanted) {
        int ready = poll(fds, (nfds_t)nfds, 30000);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            die("poll");
        if (ready == 0) {
            printf("error: no activity for 30 s after %ld of %ld clients\n", finished, wanted);
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            for (;;) {
                int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
                if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (fd < 0 && errno == EINTR)
                    continue;
                if (fd < 0) {
                    printf("error: accept4: %s\n", strerror(errno));
                    errors++;
                    break;
                }
                if (nfds == 1 + MAX_CLIENTS) {
                    close(fd);
                    errors++;
                    continue;
                }
                accepted++;
                fds[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
                if (nfds - 1 > most)
                    most = nfds - 1;
            }
        }
        for (int i = 1; i < nfds; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = recv(fds[i].fd, buf, sizeof(buf), 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (n > 0 && echo_all(fds[i].fd, buf, (size_t)n) == 0)
                continue;
            if (n != 0)
                errors++;
            close(fds[i].fd);
            finished++;
            /* Move the last entry here and look at this slot again. */
            fds[i] = fds[--nfds];
            i--;
        }
    }
    close(listener);
    printf("served %ld clients, at most %d at once, %ld errors\n", finished, most, errors);
    return errors == 0 ? 0 : 1;
}
