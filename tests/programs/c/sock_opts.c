// Socket options and the small ABI facts of WAMR's socket extension, through the raw imports.
// Usage: sock_opts options | misc | oob_addr_local | oob_get_timeout
//
// options: every option setter and getter (36 imports) plus multicast membership (2). Each
//   getter writes into 12 bytes pre-filled with 0xEE and the line shows them all, as
//   NAME=ERRNO:HEX, so the test sees exactly how many bytes the host wrote.
// misc: sock_close, sock_open's fallbacks, bad kinds, errors on wrong fds.
// oob_*: a getter whose out-pointer runs past linear memory (must trap, not crash).
#include "sock_imports.h"

static uint8_t out[12];
static uint8_t out2[12];

static void fill(void) {
    memset(out, 0xEE, sizeof(out));
    memset(out2, 0xEE, sizeof(out2));
}

// Prints NAME=ERRNO:HEX(out) for a getter call made after fill().
#define GET(name, call)                                                                                       \
    do {                                                                                                      \
        fill();                                                                                               \
        int32_t err_ = (call);                                                                                \
        printf("%s=%d:%s\n", name, err_, hex(out, sizeof(out)));                                              \
    } while (0)

#define SET(name, call) printf("%s=%d\n", name, (int)(call))

// A boolean option: the default, then set 1 / get, then set 0 / get.
#define BOOL_OPT(label, fd, setter, getter)                                                                    \
    do {                                                                                                      \
        GET(label ".default", getter(fd, P(out)));                                                            \
        SET("set_" label ".on", setter(fd, 1));                                                               \
        GET(label ".on", getter(fd, P(out)));                                                                 \
        SET("set_" label ".off", setter(fd, 0));                                                              \
        GET(label ".off", getter(fd, P(out)));                                                                \
    } while (0)

static void options(void) {
    u32 tcp = open_socket(AF_INET4, SOCK_STREAM_);
    u32 udp = open_socket(AF_INET4, SOCK_DGRAM_);
    u32 udp6 = open_socket(AF_INET6_, SOCK_DGRAM_);

    BOOL_OPT("keep_alive", tcp, raw_sock_set_keep_alive, raw_sock_get_keep_alive);
    BOOL_OPT("reuse_addr", tcp, raw_sock_set_reuse_addr, raw_sock_get_reuse_addr);
    BOOL_OPT("reuse_port", tcp, raw_sock_set_reuse_port, raw_sock_get_reuse_port);
    BOOL_OPT("tcp_no_delay", tcp, raw_sock_set_tcp_no_delay, raw_sock_get_tcp_no_delay);
    BOOL_OPT("tcp_quick_ack", tcp, raw_sock_set_tcp_quick_ack, raw_sock_get_tcp_quick_ack);
    BOOL_OPT("tcp_fastopen_connect", tcp, raw_sock_set_tcp_fastopen_connect, raw_sock_get_tcp_fastopen_connect);
    BOOL_OPT("broadcast", udp, raw_sock_set_broadcast, raw_sock_get_broadcast);
    BOOL_OPT("ipv6_only", udp6, raw_sock_set_ipv6_only, raw_sock_get_ipv6_only);

    // Multicast loop: the ipv6 argument picks IP_MULTICAST_LOOP or IPV6_MULTICAST_LOOP.
    GET("mcast_loop4.default", raw_sock_get_ip_multicast_loop(udp, 0, P(out)));
    SET("set_mcast_loop4.off", raw_sock_set_ip_multicast_loop(udp, 0, 0));
    GET("mcast_loop4.off", raw_sock_get_ip_multicast_loop(udp, 0, P(out)));
    SET("set_mcast_loop4.on", raw_sock_set_ip_multicast_loop(udp, 0, 1));
    GET("mcast_loop4.on", raw_sock_get_ip_multicast_loop(udp, 0, P(out)));
    SET("set_mcast_loop6.off", raw_sock_set_ip_multicast_loop(udp6, 1, 0));
    GET("mcast_loop6.off", raw_sock_get_ip_multicast_loop(udp6, 1, P(out)));
    SET("set_mcast_loop6.on", raw_sock_set_ip_multicast_loop(udp6, 1, 1));
    GET("mcast_loop6.on", raw_sock_get_ip_multicast_loop(udp6, 1, P(out)));

    // TTLs: the getters write one byte.
    SET("set_ip_ttl", raw_sock_set_ip_ttl(tcp, 77));
    GET("ip_ttl", raw_sock_get_ip_ttl(tcp, P(out)));
    SET("set_ip_multicast_ttl", raw_sock_set_ip_multicast_ttl(udp, 5));
    GET("ip_multicast_ttl", raw_sock_get_ip_multicast_ttl(udp, P(out)));

    // Buffer sizes: 4 bytes (Linux reports twice the value set).
    SET("set_recv_buf_size", raw_sock_set_recv_buf_size(tcp, 32768));
    GET("recv_buf_size", raw_sock_get_recv_buf_size(tcp, P(out)));
    SET("set_send_buf_size", raw_sock_set_send_buf_size(tcp, 49152));
    GET("send_buf_size", raw_sock_get_send_buf_size(tcp, P(out)));

    // Timeouts: u64 microseconds, 8 bytes.
    GET("recv_timeout.default", raw_sock_get_recv_timeout(tcp, P(out)));
    SET("set_recv_timeout", raw_sock_set_recv_timeout(tcp, 1500000ull));
    GET("recv_timeout", raw_sock_get_recv_timeout(tcp, P(out)));
    SET("set_send_timeout", raw_sock_set_send_timeout(tcp, 0x123456789ull));
    GET("send_timeout", raw_sock_get_send_timeout(tcp, P(out)));
    SET("set_recv_timeout.zero", raw_sock_set_recv_timeout(tcp, 0));
    GET("recv_timeout.zero", raw_sock_get_recv_timeout(tcp, P(out)));

    // Keep-alive timing: u32 seconds, 4 bytes.
    SET("set_tcp_keep_idle", raw_sock_set_tcp_keep_idle(tcp, 123));
    GET("tcp_keep_idle", raw_sock_get_tcp_keep_idle(tcp, P(out)));
    SET("set_tcp_keep_intvl", raw_sock_set_tcp_keep_intvl(tcp, 45));
    GET("tcp_keep_intvl", raw_sock_get_tcp_keep_intvl(tcp, P(out)));

    // Linger: a 1-byte bool and a 4-byte count, at two pointers.
    fill();
    int32_t err = raw_sock_get_linger(tcp, P(out), P(out2));
    printf("linger.default=%d:%s", err, hex(out, sizeof(out)));
    printf(":%s\n", hex(out2, sizeof(out2)));
    SET("set_linger.on", raw_sock_set_linger(tcp, 1, 7));
    fill();
    err = raw_sock_get_linger(tcp, P(out), P(out2));
    printf("linger.on=%d:%s", err, hex(out, sizeof(out)));
    printf(":%s\n", hex(out2, sizeof(out2)));
    SET("set_linger.off", raw_sock_set_linger(tcp, 0, 0));
    fill();
    err = raw_sock_get_linger(tcp, P(out), P(out2));
    printf("linger.off=%d:%s", err, hex(out, sizeof(out)));
    printf(":%s\n", hex(out2, sizeof(out2)));

    // Multicast membership, on loopback. Joining twice is EADDRINUSE and leaving a group
    // not joined is EADDRNOTAVAIL, which shows the group address reached the kernel intact.
    uint8_t group4[20];
    memset(group4, 0, sizeof(group4));
    group4[4] = 239, group4[5] = 1, group4[6] = 2, group4[7] = 3;
    // The IPv4 interface is in_addr.s_addr: 127.0.0.1's network-order bytes read as LE u32.
    u32 lo4 = 0x0100007fu;
    SET("add_membership4", raw_sock_set_ip_add_membership(udp, P(group4), lo4));
    SET("add_membership4.again", raw_sock_set_ip_add_membership(udp, P(group4), lo4));
    SET("drop_membership4", raw_sock_set_ip_drop_membership(udp, P(group4), lo4));
    SET("drop_membership4.again", raw_sock_set_ip_drop_membership(udp, P(group4), lo4));
    uint8_t group6[20];
    memset(group6, 0, sizeof(group6));
    group6[0] = 1;
    put16(group6 + 4, 0xff02);
    put16(group6 + 16, 0x0001);
    put16(group6 + 18, 0x0003); // ff02::1:3
    u32 lo_index = 1;
    SET("add_membership6", raw_sock_set_ip_add_membership(udp6, P(group6), lo_index));
    SET("add_membership6.again", raw_sock_set_ip_add_membership(udp6, P(group6), lo_index));
    SET("drop_membership6", raw_sock_set_ip_drop_membership(udp6, P(group6), lo_index));
    SET("drop_membership6.again", raw_sock_set_ip_drop_membership(udp6, P(group6), lo_index));

    // Options on things that are not sockets: a missing fd (EBADF), stdout (ENOTSOCK). The
    // getter must not write anything then.
    SET("set_keep_alive.badfd", raw_sock_set_keep_alive(999, 1));
    GET("keep_alive.badfd", raw_sock_get_keep_alive(999, P(out)));
    GET("keep_alive.stdout", raw_sock_get_keep_alive(1, P(out)));
    GET("recv_timeout.badfd", raw_sock_get_recv_timeout(999, P(out)));
}

static void misc(void) {
    // sock_close is a stub: ENOSYS, and the socket stays open.
    u32 tcp = open_socket(AF_INET4, SOCK_STREAM_);
    printf("sock_close=%d\n", raw_sock_close(tcp));
    uint8_t stat[24];
    printf("fdstat_after_sock_close=%d\n", raw_fd_fdstat_get(tcp, P(stat)));
    printf("filetype.tcp=%u\n", stat[0]);
    u32 udp = open_socket(AF_INET4, SOCK_DGRAM_);
    raw_fd_fdstat_get(udp, P(stat));
    printf("filetype.udp=%u\n", stat[0]);

    // sock_open: any af other than INET6 is IPv4, any type other than DGRAM is TCP.
    u32 odd = 0;
    printf("open_odd=%d\n", raw_sock_open((u32)-1, 7, 9, P(&odd)));
    raw_fd_fdstat_get(odd, P(stat));
    printf("filetype.odd=%u\n", stat[0]);
    uint8_t local[ADDR_SIZE + 4];
    memset(local, 0xEE, sizeof(local));
    printf("addr_local.odd=%d:%s\n", raw_sock_addr_local(odd, P(local)), hex(local, sizeof(local)));
    u32 tcp6 = open_socket(AF_INET6_, SOCK_STREAM_);
    memset(local, 0xEE, sizeof(local));
    printf("addr_local.unbound6=%d:%s\n", raw_sock_addr_local(tcp6, P(local)), hex(local, sizeof(local)));

    // An address kind other than 0/1 is EPROTONOSUPPORT, before the pool or the fd count.
    uint8_t bad[ADDR_SIZE];
    make_addr("127.0.0.1", 80, bad);
    bad[0] = 2;
    printf("bind.badkind=%d\n", raw_sock_bind(tcp, P(bad)));
    printf("connect.badkind=%d\n", raw_sock_connect(tcp, P(bad)));
    u32 iov[2] = {P("x"), 1};
    u32 sent = 0;
    printf("send_to.badkind=%d\n", raw_sock_send_to(udp, P(iov), 1, 0, P(bad), P(&sent)));

    // Wrong fds: missing (EBADF), stdout (no socket rights: ENOTCAPABLE), a UDP socket for
    // listen (ENOTSUP), an unconnected socket's peer (ENOTCONN).
    printf("listen.badfd=%d\n", raw_sock_listen(999, 1));
    printf("listen.stdout=%d\n", raw_sock_listen(1, 1));
    printf("listen.udp=%d\n", raw_sock_listen(udp, 1));
    u32 newfd = 0;
    printf("accept.badfd=%d\n", raw_sock_accept(999, 0, P(&newfd)));
    memset(local, 0xEE, sizeof(local));
    printf("addr_remote.unconnected=%d:%s\n", raw_sock_addr_remote(tcp, P(local)), hex(local, sizeof(local)));
    printf("addr_local.badfd=%d\n", raw_sock_addr_local(999, P(local)));
    printf("shutdown.unconnected_udp=%d\n", raw_sock_shutdown(udp, SHUT_RDWR_));
    printf("shutdown.badhow=%d\n", raw_sock_shutdown(tcp, 0));
    printf("shutdown.stdout=%d\n", raw_sock_shutdown(1, SHUT_RDWR_));
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc < 2) {
        fprintf(stderr, "usage: sock_opts options | misc | oob_addr_local | oob_get_timeout\n");
        return 100;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "options") == 0) {
        options();
    } else if (strcmp(cmd, "misc") == 0) {
        misc();
    } else if (strcmp(cmd, "oob_addr_local") == 0 || strcmp(cmd, "oob_get_timeout") == 0) {
        u32 tcp = open_socket(AF_INET4, SOCK_STREAM_);
        u32 end = (u32)(__builtin_wasm_memory_size(0) * 65536u);
        printf("calling\n");
        int32_t err = cmd[4] == 'a' ? raw_sock_addr_local(tcp, end - 8) : raw_sock_get_recv_timeout(tcp, end - 4);
        printf("returned=%d\n", err);
    } else {
        fprintf(stderr, "unknown command %s\n", cmd);
        return 100;
    }
    printf("done=1\n");
    return 0;
}
