/* The cost of one call out of the program, timed inside it:
 *
 *   hostcall null N   N of the cheapest calls there are: on wasm a host call that does no
 *                     system call (args_sizes_get: two u32 written to guest memory), natively
 *                     the cheapest system call (getppid)
 *   hostcall recv N   N rounds of send(64 bytes) then recv(64 bytes) over a connected
 *                     loopback TCP pair inside the process: each recv finds its data ready
 *
 * Prints "seconds=S result=R" (S for all N, R the same for the native and the wasm build). */

#include "bench.h"

#ifdef __wasi__
#include <wasi/api.h>
#endif

/* One call that leaves the program; 1 when it answered as expected. */
static long null_call(void)
{
#ifdef __wasi__
    __wasi_size_t argc = 0, argv_size = 0;
    if (__wasi_args_sizes_get(&argc, &argv_size) != 0)
        die("args_sizes_get");
    return (long)(argc > 0);
#else
    return (long)(getppid() > 0);
#endif
}

/* A connected TCP pair on 127.0.0.1: *client and *server. */
static void tcp_pair(int *client, int *server)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        die("socket");
    struct sockaddr_in sin = loopback(0);
    if (bind(listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(listener, 1) != 0)
        die("bind/listen");
    socklen_t len = sizeof(sin);
    if (getsockname(listener, (struct sockaddr *)&sin, &len) != 0)
        die("getsockname");
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("connect");
    *server = accept(listener, NULL, NULL);
    if (*server < 0)
        die("accept");
    int on = 1;
    if (setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
        die("setsockopt(TCP_NODELAY)");
    close(listener);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        printf("usage: hostcall null|recv N\n");
        return 2;
    }
    long n = parse_long(argv[2], 1, 1000000000L, "N");
    long result = 0;
    double start, seconds;
    if (strcmp(argv[1], "null") == 0) {
        start = now_seconds();
        for (long i = 0; i < n; i++)
            result += null_call();
        seconds = now_seconds() - start;
    } else if (strcmp(argv[1], "recv") == 0) {
        int client, server;
        tcp_pair(&client, &server);
        char out[64], in[64];
        memset(out, 'x', sizeof(out));
        start = now_seconds();
        for (long i = 0; i < n; i++) {
            out[0] = (char)i;
            if (send_all(client, out, sizeof(out)) != 0)
                die("send");
            size_t got = 0;
            while (got < sizeof(in)) {
                ssize_t r = recv(server, in + got, sizeof(in) - got, 0);
                if (r <= 0)
                    die("recv");
                got += (size_t)r;
            }
            result += in[0] == (char)i;
        }
        seconds = now_seconds() - start;
        close(client);
        close(server);
    } else {
        printf("usage: hostcall null|recv N\n");
        return 2;
    }
    printf("seconds=%.6f result=%ld\n", seconds, result);
    return 0;
}
