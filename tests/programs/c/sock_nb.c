// Non-blocking mode, readiness, timeouts, WASI fd calls on sockets, MSG_PEEK, half-close,
// resets and blocked calls, through the raw imports, against a native peer in the test.
// Usage:
//   sock_nb accept ADDR        (the native peer connects to port=N, then follows the script
//                               in the test: "peek-me", reads "via-fd-write", sends
//                               "via-fd-read", waits for EOF, sends "after-shutdown")
//   sock_nb connect ADDR PORT  non-blocking connect, then poll for FD_WRITE
//   sock_nb timeout ADDR PORT MS   SO_RCVTIMEO on TCP (connected to PORT) and UDP
//   sock_nb reset ADDR PORT    sends until the peer's reset shows up as an errno
//   sock_nb block_accept ADDR  prints port=N and blocks in sock_accept
//   sock_nb block_recv ADDR PORT   connects, prints connected=1, blocks in sock_recv
#include "sock_imports.h"

#define EV_CLOCK 0
#define EV_FD_READ 1
#define EV_FD_WRITE 2

static uint8_t buf[65536];

// poll_oneoff on one fd for `type` (FD_READ/FD_WRITE) with a relative clock of 10 s beside
// it; prints PREFIX=errno and the first event (PREFIX_userdata/_error/_type/_nbytes).
static void poll_one(const char *prefix, u32 fd, uint8_t type) {
    uint8_t subs[2][48] __attribute__((aligned(8)));
    uint8_t events[2][32] __attribute__((aligned(8)));
    memset(subs, 0, sizeof(subs));
    memset(events, 0xEE, sizeof(events));
    subs[0][0] = 0x11; // userdata
    subs[0][8] = type;
    memcpy(&subs[0][16], &fd, 4);
    subs[1][0] = 0x22;
    subs[1][8] = EV_CLOCK;
    u32 clock_id = 1; // monotonic
    u64 timeout = 10000000000ull;
    memcpy(&subs[1][16], &clock_id, 4);
    memcpy(&subs[1][24], &timeout, 8);
    u32 n = 0;
    int32_t err = raw_poll_oneoff(P(subs), P(events), 2, P(&n));
    printf("%s=%d\n", prefix, err);
    printf("%s_nevents=%u\n", prefix, n);
    u64 nbytes;
    memcpy(&nbytes, &events[0][16], 8);
    printf("%s_userdata=%x\n", prefix, events[0][0]);
    printf("%s_error=%u\n", prefix, get16(&events[0][8]));
    printf("%s_type=%u\n", prefix, events[0][10]);
    printf("%s_nbytes=%llu\n", prefix, (unsigned long long)nbytes);
}

static void fdstat(const char *prefix, u32 fd) {
    uint8_t stat[24];
    memset(stat, 0xEE, sizeof(stat));
    int32_t err = raw_fd_fdstat_get(fd, P(stat));
    printf("%s=%d\n", prefix, err);
    if (err == 0) {
        printf("%s_filetype=%u\n", prefix, stat[0]);
        printf("%s_fdflags=%u\n", prefix, get16(stat + 2));
    }
}

// One sock_recv; prints PREFIX=text, or PREFIX=errN on failure.
static void recv_print(const char *prefix, u32 fd, u32 flags) {
    u32 iov[2] = {P(buf), 100};
    u32 got = 0;
    uint16_t roflags = 0;
    int32_t err = raw_sock_recv(fd, P(iov), 1, flags, P(&got), P(&roflags));
    if (err != 0) {
        printf("%s=err%d\n", prefix, err);
    } else {
        buf[got] = 0;
        printf("%s=%s\n", prefix, (char *)buf);
    }
}

// Receives exactly n bytes (blocking) into buf, with fd_read or sock_recv.
static void recv_exact(u32 fd, u32 n, int use_fd_read) {
    u32 have = 0;
    for (int calls = 0; have < n; calls++) {
        if (calls > 1000) {
            die("recv_exact: too many calls", 0);
        }
        u32 iov[2] = {P(buf + have), n - have};
        u32 got = 0;
        uint16_t roflags = 0;
        int32_t err = use_fd_read ? raw_fd_read(fd, P(iov), 1, P(&got))
                                  : raw_sock_recv(fd, P(iov), 1, 0, P(&got), P(&roflags));
        if (err != 0) {
            die(use_fd_read ? "fd_read" : "sock_recv", err);
        }
        if (got == 0) {
            die("unexpected end of stream", 0);
        }
        have += got;
    }
    buf[have] = 0;
}

static u32 listen_on(const char *ip) {
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, 0, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    int32_t err = raw_sock_bind(fd, P(addr));
    if (err != 0) {
        die("sock_bind", err);
    }
    if ((err = raw_sock_listen(fd, 4)) != 0) {
        die("sock_listen", err);
    }
    return fd;
}

static void print_port(u32 fd) {
    uint8_t addr[ADDR_SIZE];
    raw_sock_addr_local(fd, P(addr));
    printf("port=%u\n", addr_port(addr));
}

static u32 connect_to(const char *ip, uint16_t port) {
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, port, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    int32_t err = raw_sock_connect(fd, P(addr));
    if (err != 0) {
        die("sock_connect", err);
    }
    return fd;
}

static void accept_script(const char *ip) {
    u32 listener = listen_on(ip);
    printf("set_nonblock=%d\n", raw_fd_fdstat_set_flags(listener, FDFLAG_NONBLOCK));
    fdstat("listener", listener);
    u32 conn = 0xEEEEEEEE;
    printf("accept_empty=%d\n", raw_sock_accept(listener, 0, P(&conn)));
    print_port(listener);

    poll_one("poll_accept", listener, EV_FD_READ);
    printf("accept=%d\n", raw_sock_accept(listener, 0, P(&conn)));
    fdstat("accepted", conn);
    raw_sock_set_recv_timeout(conn, 10000000ull);

    printf("set_nonblock_conn=%d\n", raw_fd_fdstat_set_flags(conn, FDFLAG_NONBLOCK));
    recv_print("recv_empty", conn, 0);
    printf("waiting_for_data=1\n");
    poll_one("poll_read", conn, EV_FD_READ);
    recv_print("peek", conn, RIFLAG_PEEK);
    recv_print("recv", conn, 0);
    recv_print("recv_again", conn, 0);

    printf("set_blocking=%d\n", raw_fd_fdstat_set_flags(conn, 0));
    const char *msg = "via-fd-write";
    u32 iov[2] = {P(msg), (u32)strlen(msg)};
    u32 wrote = 0;
    printf("fd_write=%d\n", raw_fd_write(conn, P(iov), 1, P(&wrote)));
    printf("fd_write_n=%u\n", wrote);
    recv_exact(conn, 11, 1);
    printf("fd_read=%s\n", (char *)buf);

    // fd_renumber moves the TCP socket onto a UDP socket's number.
    u32 udp = open_socket(AF_INET4, SOCK_DGRAM_);
    fdstat("udp", udp);
    printf("renumber=%d\n", raw_fd_renumber(conn, udp));
    fdstat("renumbered", udp);
    fdstat("old", conn);
    conn = udp;

    // Half-close: the peer sees EOF, we can still receive.
    printf("shutdown_wr=%d\n", raw_sock_shutdown(conn, SHUT_WR_));
    recv_exact(conn, 14, 0);
    printf("after_shutdown=%s\n", (char *)buf);
    u32 sent = 0;
    u32 iov2[2] = {P("late"), 4};
    printf("send_after_shutdown=%d\n", raw_sock_send(conn, P(iov2), 1, 0, P(&sent)));
    recv_print("eof", conn, 0);
    printf("close=%d\n", raw_fd_close(conn));
    printf("close_again=%d\n", raw_fd_close(conn));
    printf("close_listener=%d\n", raw_fd_close(listener));
}

static void connect_script(const char *ip, uint16_t port) {
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, port, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    printf("set_nonblock=%d\n", raw_fd_fdstat_set_flags(fd, FDFLAG_NONBLOCK));
    printf("connect=%d\n", raw_sock_connect(fd, P(addr)));
    poll_one("poll_write", fd, EV_FD_WRITE);
    uint8_t remote[ADDR_SIZE];
    printf("addr_remote=%d\n", raw_sock_addr_remote(fd, P(remote)));
    printf("remote=%s\n", addr_text(remote));
    u32 iov[2] = {P("hello"), 5};
    u32 sent = 0;
    printf("send=%d\n", raw_sock_send(fd, P(iov), 1, 0, P(&sent)));
    printf("sent=%u\n", sent);
    printf("close=%d\n", raw_fd_close(fd));
}

static void timeout_script(const char *ip, uint16_t port, u32 ms) {
    u32 tcp = connect_to(ip, port);
    printf("set_recv_timeout=%d\n", raw_sock_set_recv_timeout(tcp, (u64)ms * 1000));
    u64 start = now_ms();
    recv_print("recv", tcp, 0);
    printf("elapsed_ms=%llu\n", (unsigned long long)(now_ms() - start));

    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, 0, addr);
    u32 udp = open_socket(af, SOCK_DGRAM_);
    int32_t err = raw_sock_bind(udp, P(addr));
    if (err != 0) {
        die("sock_bind", err);
    }
    raw_sock_set_recv_timeout(udp, (u64)ms * 1000);
    start = now_ms();
    u32 iov[2] = {P(buf), 100};
    u32 got = 0;
    printf("udp_recv=%d\n", raw_sock_recv_from(udp, P(iov), 1, 0, P(addr), P(&got)));
    printf("udp_elapsed_ms=%llu\n", (unsigned long long)(now_ms() - start));
}

static void reset_script(const char *ip, uint16_t port) {
    u32 fd = connect_to(ip, port);
    printf("connected=1\n");
    memset(buf, 'r', sizeof(buf));
    u64 total = 0, start = now_ms();
    int32_t err = 0;
    for (int i = 0; i < 100000 && now_ms() - start < 20000; i++) {
        u32 iov[2] = {P(buf), sizeof(buf)};
        u32 sent = 0;
        err = raw_sock_send(fd, P(iov), 1, 0, P(&sent));
        if (err != 0) {
            break;
        }
        total += sent;
    }
    printf("send_error=%d\n", err);
    printf("sent_before_error=%llu\n", (unsigned long long)total);
    u32 iov[2] = {P(buf), 100};
    u32 sent = 0;
    printf("send_again=%d\n", raw_sock_send(fd, P(iov), 1, 0, P(&sent)));
    printf("close=%d\n", raw_fd_close(fd));
}

int main(int argc, char **argv) {
    unbuffered();
    const char *cmd = argc > 1 ? argv[1] : "";
    if (argc == 3 && strcmp(cmd, "accept") == 0) {
        accept_script(argv[2]);
    } else if (argc == 4 && strcmp(cmd, "connect") == 0) {
        connect_script(argv[2], (uint16_t)atoi(argv[3]));
    } else if (argc == 5 && strcmp(cmd, "timeout") == 0) {
        timeout_script(argv[2], (uint16_t)atoi(argv[3]), (u32)atoi(argv[4]));
    } else if (argc == 4 && strcmp(cmd, "reset") == 0) {
        reset_script(argv[2], (uint16_t)atoi(argv[3]));
    } else if (argc == 3 && strcmp(cmd, "block_accept") == 0) {
        u32 listener = listen_on(argv[2]);
        print_port(listener);
        u32 conn = 0;
        printf("accept_returned=%d\n", raw_sock_accept(listener, 0, P(&conn)));
    } else if (argc == 4 && strcmp(cmd, "block_recv") == 0) {
        u32 fd = connect_to(argv[2], (uint16_t)atoi(argv[3]));
        printf("connected=1\n");
        recv_print("recv_returned", fd, 0);
    } else {
        fprintf(stderr, "usage: see the comment at the top of sock_nb.c\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
