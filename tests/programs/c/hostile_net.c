// What a hostile guest tries on the network (issue 10), through the raw imports.
// Usage:
//   hostile_net serve ADDR PORT [reuseport] [wait_ms]
//     A TCP socket of ADDR's family: with "reuseport", sock_set_reuse_port(1) first
//     (prints reuseport=ERRNO); ADDR "-4" or "-6" skips the bind (listen binds implicitly),
//     otherwise sock_bind to ADDR:PORT (bind=ERRNO). Then sock_listen (listen=ERRNO) and,
//     if listening, port=N, then non-blocking accepts for wait_ms (default 3000) ms:
//     accepted=COUNT at the end.
//   hostile_net fdlimit
//     A listener on 127.0.0.1:0; opens UDP sockets until EMFILE (opened=N), prints port=N,
//     waits up to 10 s for the listener to turn readable (a native client connected), tries
//     a non-blocking accept (accept1=ERRNO: EMFILE expected, the connection stays queued),
//     closes one socket, accepts again (accept2=ERRNO) and reads the 5 bytes the client
//     sent (got=TEXT).
#include "sock_imports.h"

// poll_oneoff on one relative monotonic clock: subscription = userdata u64, tag u8 at 8,
// clock id u32 at 16, timeout u64 at 24, precision u64 at 32, flags u16 at 40.
static void sleep_ms(u64 ms) {
    uint8_t sub[48], event[32];
    memset(sub, 0, sizeof(sub));
    *(u32 *)(sub + 16) = 1;
    *(u64 *)(sub + 24) = ms * 1000000ull;
    u32 n = 0;
    raw_poll_oneoff(P(sub), P(event), 1, P(&n));
}

static int32_t listen_on(const char *ip, uint16_t port, int reuseport, u32 *fd_out) {
    uint8_t addr[ADDR_SIZE];
    int implicit = strcmp(ip, "-4") == 0 || strcmp(ip, "-6") == 0;
    u32 af = implicit ? (ip[1] == '6' ? AF_INET6_ : AF_INET4) : make_addr(ip, port, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    if (reuseport) {
        printf("reuseport=%d\n", raw_sock_set_reuse_port(fd, 1));
    }
    if (!implicit) {
        int32_t err = raw_sock_bind(fd, P(addr));
        printf("bind=%d\n", err);
        if (err != 0) {
            return err;
        }
    }
    int32_t err = raw_sock_listen(fd, 64);
    printf("listen=%d\n", err);
    // sock_accept's flags are the new socket's: the listener itself must be non-blocking.
    raw_fd_fdstat_set_flags(fd, FDFLAG_NONBLOCK);
    *fd_out = fd;
    return err;
}

static void serve(const char *ip, uint16_t port, int reuseport, u64 wait_ms) {
    u32 fd = 0;
    if (listen_on(ip, port, reuseport, &fd) != 0) {
        return;
    }
    uint8_t local[ADDR_SIZE];
    if (raw_sock_addr_local(fd, P(local)) != 0) {
        die("sock_addr_local", -1);
    }
    printf("port=%u\n", addr_port(local));
    u32 accepted = 0;
    u64 end = now_ms() + wait_ms;
    while (now_ms() < end && accepted < 1000) {
        u32 conn = 0;
        if (raw_sock_accept(fd, FDFLAG_NONBLOCK, P(&conn)) == 0) {
            accepted++;
            raw_fd_close(conn);
        } else {
            sleep_ms(5);
        }
    }
    printf("accepted=%u\n", accepted);
}

static void fdlimit(void) {
    u32 listener = 0;
    if (listen_on("127.0.0.1", 0, 0, &listener) != 0) {
        die("listen", -1);
    }
    uint8_t local[ADDR_SIZE];
    raw_sock_addr_local(listener, P(local));
    u32 last = 0, opened = 0;
    for (int i = 0; i < 100000; i++) {
        u32 fd = 0;
        if (raw_sock_open((u32)-1, AF_INET4, SOCK_DGRAM_, P(&fd)) != 0) {
            break;
        }
        last = fd;
        opened++;
    }
    printf("opened=%u\n", opened);
    printf("port=%u\n", addr_port(local));
    // Two subscriptions: fd_read on the listener (tag 1, fd at 16), a 10 s clock (tag 0).
    uint8_t subs[96], events[64];
    memset(subs, 0, sizeof(subs));
    subs[8] = 1;
    *(u32 *)(subs + 16) = listener;
    *(u32 *)(subs + 48 + 16) = 1;
    *(u64 *)(subs + 48 + 24) = 10000000000ull;
    u32 n = 0;
    raw_poll_oneoff(P(subs), P(events), 2, P(&n));
    u32 conn = 0;
    printf("accept1=%d\n", raw_sock_accept(listener, 0, P(&conn)));
    raw_fd_close(last);
    int32_t err = raw_sock_accept(listener, 0, P(&conn));
    printf("accept2=%d\n", err);
    if (err == 0) {
        char buf[16] = {0};
        u32 got = recv_some(conn, buf, 5, RIFLAG_WAITALL);
        printf("got=%.*s\n", (int)got, buf);
    }
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc >= 4 && strcmp(argv[1], "serve") == 0) {
        int reuseport = argc >= 5 && strcmp(argv[4], "reuseport") == 0;
        u64 wait_ms = argc >= 6 ? (u64)atoi(argv[5]) : 3000;
        serve(argv[2], (uint16_t)atoi(argv[3]), reuseport, wait_ms);
    } else if (argc == 2 && strcmp(argv[1], "fdlimit") == 0) {
        fdlimit();
    } else {
        fprintf(stderr, "usage: hostile_net serve ADDR PORT [reuseport] [wait_ms] | fdlimit\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
