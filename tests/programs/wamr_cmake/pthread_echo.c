/* A thread-per-client TCP echo server in the style of WAMR's socket-api tcp_server sample,
 * on WAMR's lib-pthread: the main thread accepts CLIENTS connections on 127.0.0.1 (a port
 * the kernel picks), starts a pthread for each, and joins them all. Each thread echoes
 * until its client closes and adds its byte count to totals behind a mutex.
 *
 *   pthread_echo CLIENTS
 *
 * Prints "listening on PORT", then "served N clients, B bytes, max M at once" and exits 0;
 * exits 1 with a message on any failure. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi_socket_ext.h>

#include <pthread.h>

#define MAX_CLIENTS 32

static pthread_mutex_t totals_lock;
static unsigned long total_bytes;
static int clients_done;
static int running;
static int most_running;

struct client {
    int fd;
    pthread_t thread;
};

static void fail(const char *what)
{
    printf("failed: %s\n", what);
    exit(1);
}

static void *serve(void *arg)
{
    struct client *c = arg;
    char buf[1024]; /* on this thread's own stack */
    unsigned long echoed = 0;

    pthread_mutex_lock(&totals_lock);
    if (++running > most_running)
        most_running = running;
    pthread_mutex_unlock(&totals_lock);

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0)
            fail("recv");
        if (n == 0)
            break;
        for (ssize_t sent = 0; sent < n;) {
            ssize_t w = send(c->fd, buf + sent, (size_t)(n - sent), 0);
            if (w <= 0)
                fail("send");
            sent += w;
        }
        echoed += (unsigned long)n;
    }
    close(c->fd);

    pthread_mutex_lock(&totals_lock);
    total_bytes += echoed;
    clients_done++;
    running--;
    pthread_mutex_unlock(&totals_lock);
    return (void *)echoed;
}

int main(int argc, char **argv)
{
    static struct client clients[MAX_CLIENTS];
    int count = argc > 1 ? atoi(argv[1]) : 1;
    if (count < 1 || count > MAX_CLIENTS)
        fail("CLIENTS must be 1 to 32");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pthread_mutex_init(&totals_lock, NULL) != 0)
        fail("pthread_mutex_init");

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        fail("socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        fail("bind");
    if (listen(listener, MAX_CLIENTS) != 0)
        fail("listen");
    socklen_t len = sizeof(addr);
    if (getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        fail("getsockname");
    printf("listening on %d\n", ntohs(addr.sin_port));

    for (int i = 0; i < count; i++) {
        clients[i].fd = accept(listener, NULL, NULL);
        if (clients[i].fd < 0)
            fail("accept");
        if (pthread_create(&clients[i].thread, NULL, serve, &clients[i]) != 0)
            fail("pthread_create");
    }
    unsigned long joined_bytes = 0;
    for (int i = 0; i < count; i++) {
        void *echoed;
        if (pthread_join(clients[i].thread, &echoed) != 0)
            fail("pthread_join");
        joined_bytes += (unsigned long)echoed;
    }
    close(listener);

    pthread_mutex_lock(&totals_lock);
    if (joined_bytes != total_bytes || clients_done != count)
        fail("the threads' counts disagree");
    printf("served %d clients, %lu bytes, max %d at once\n", clients_done, total_bytes, most_running);
    pthread_mutex_unlock(&totals_lock);
    pthread_mutex_destroy(&totals_lock);
    return 0;
}
