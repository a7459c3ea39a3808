// What the address pool and the resolve allow-list let a guest do, through the raw imports.
// Usage:
//   sock_policy try ADDR PORT
//     On fresh sockets of ADDR's family: sock_bind to ADDR port 0, sock_connect (TCP) to
//     ADDR:PORT, sock_send_to (UDP) of "x" to ADDR:PORT; prints bind=, connect=, send_to=
//     with each errno. A 3 s send timeout bounds the connect.
//   sock_policy resolve HOST SERVICE FAMILY CAPACITY
//     sock_addr_resolve with hints {STREAM, FAMILY} (FAMILY 4, 6 or "any"; "none" disables
//     the hints) into CAPACITY entries of a buffer one entry larger, pre-filled with 0xEE.
//     Prints resolve=ERRNO, total=, and for each written entry entryI=HEX (28 bytes),
//     entryI_addr= and entryI_type=; then spare=HEX, the entry just past CAPACITY.
//   sock_policy one CALL PROTO ADDR PORT
//     One call on a fresh socket (PROTO tcp or udp): CALL bind (prints bind=ERRNO), connect
//     (connect=ERRNO; a 3 s send timeout bounds it) or sendto ("x", send_to=ERRNO).
//   sock_policy resolve_connect HOST PORT [OTHER]
//     sock_addr_resolve HOST (any family, TCP), then a TCP connect to each address on PORT:
//     resolve=ERRNO, then connectI=ADDR errno=ERRNO for each; then to OTHER:PORT, if given,
//     other=ERRNO.
//   sock_policy serve PROTO ADDR COUNT
//     Binds ADDR port 0, prints port=P; TCP: listens and accepts COUNT connections, printing
//     accepted=PEER for each and sending "ok"; UDP: receives COUNT datagrams, printing
//     from=PEER data=TEXT for each.
#include "sock_imports.h"

static void try_addr(const char *ip, uint16_t port) {
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, 0, addr);
    u32 tcp = open_socket(af, SOCK_STREAM_);
    printf("bind=%d\n", raw_sock_bind(tcp, P(addr)));

    make_addr(ip, port, addr);
    u32 tcp2 = open_socket(af, SOCK_STREAM_);
    raw_sock_set_send_timeout(tcp2, 3000000ull);
    printf("connect=%d\n", raw_sock_connect(tcp2, P(addr)));

    u32 udp = open_socket(af, SOCK_DGRAM_);
    u32 iov[2] = {P("x"), 1};
    u32 sent = 0xEEEEEEEE;
    printf("send_to=%d\n", raw_sock_send_to(udp, P(iov), 1, 0, P(addr), P(&sent)));
    printf("send_to_sent=%x\n", sent);
}

#define MAX_ENTRIES 16
static uint8_t info[(MAX_ENTRIES + 1) * 28];

static void resolve(const char *host, const char *service, const char *family, u32 capacity) {
    if (capacity > MAX_ENTRIES) {
        capacity = MAX_ENTRIES;
    }
    // __wasi_addr_info_hints_t: i32 type, i32 family, u8 hints_enabled, 3 padding bytes.
    uint8_t hints[12];
    memset(hints, 0, sizeof(hints));
    hints[0] = SOCK_STREAM_;
    hints[4] = strcmp(family, "4") == 0 ? 0 : strcmp(family, "6") == 0 ? 1 : 2;
    hints[8] = strcmp(family, "none") == 0 ? 0 : 1;
    memset(info, 0xEE, sizeof(info));
    u32 total = 0xEEEEEEEE;
    int32_t err = raw_sock_addr_resolve(P(host), P(service), P(hints), P(info), capacity, P(&total));
    printf("resolve=%d\n", err);
    printf("total=%u\n", total);
    if (err == 0) {
        for (u32 i = 0; i < total && i < capacity; i++) {
            uint8_t *entry = info + 28 * i;
            printf("entry%u=%s\n", i, hex(entry, 28));
            printf("entry%u_addr=%s\n", i, addr_text(entry));
            printf("entry%u_type=%u\n", i, get32(entry + 24));
        }
    }
    printf("spare=%s\n", hex(info + 28 * capacity, 28));
}

static void one_call(const char *call, const char *proto, const char *ip, uint16_t port) {
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, port, addr);
    u32 fd = open_socket(af, strcmp(proto, "udp") == 0 ? SOCK_DGRAM_ : SOCK_STREAM_);
    if (strcmp(call, "bind") == 0) {
        printf("bind=%d\n", raw_sock_bind(fd, P(addr)));
    } else if (strcmp(call, "connect") == 0) {
        raw_sock_set_send_timeout(fd, 3000000ull);
        printf("connect=%d\n", raw_sock_connect(fd, P(addr)));
    } else {
        u32 iov[2] = {P("x"), 1};
        u32 sent = 0;
        printf("send_to=%d\n", raw_sock_send_to(fd, P(iov), 1, 0, P(addr), P(&sent)));
    }
}

static void resolve_connect(const char *host, uint16_t port, const char *other) {
    uint8_t hints[12];
    memset(hints, 0, sizeof(hints));
    hints[0] = SOCK_STREAM_;
    hints[4] = 2; // any family
    hints[8] = 1;
    memset(info, 0, sizeof(info));
    u32 total = 0;
    int32_t err = raw_sock_addr_resolve(P(host), P(""), P(hints), P(info), MAX_ENTRIES, P(&total));
    printf("resolve=%d\n", err);
    for (u32 i = 0; err == 0 && i < total && i < MAX_ENTRIES; i++) {
        // __wasi_addr_info_t: the 24-byte address, then the socket type.
        uint8_t addr[ADDR_SIZE];
        memcpy(addr, info + 28 * i, ADDR_SIZE);
        put16(addr + (get32(addr) == 1 ? 20 : 8), port);
        u32 fd = open_socket(get32(addr) == 1 ? AF_INET6_ : AF_INET4, SOCK_STREAM_);
        raw_sock_set_send_timeout(fd, 3000000ull);
        int32_t connected = raw_sock_connect(fd, P(addr));
        printf("connect%u=%s errno=%d\n", i, addr_text(addr), connected);
        raw_sock_close(fd);
    }
    if (other != NULL) {
        uint8_t addr[ADDR_SIZE];
        u32 fd = open_socket(make_addr(other, port, addr), SOCK_STREAM_);
        raw_sock_set_send_timeout(fd, 3000000ull);
        printf("other=%d\n", raw_sock_connect(fd, P(addr)));
    }
}

static void serve(const char *proto, const char *ip, u32 count) {
    int udp = strcmp(proto, "udp") == 0;
    uint8_t addr[ADDR_SIZE];
    u32 af = make_addr(ip, 0, addr);
    u32 fd = open_socket(af, udp ? SOCK_DGRAM_ : SOCK_STREAM_);
    int32_t err = raw_sock_bind(fd, P(addr));
    if (err != 0) {
        die("sock_bind", err);
    }
    if (!udp && (err = raw_sock_listen(fd, 16)) != 0) {
        die("sock_listen", err);
    }
    raw_sock_addr_local(fd, P(addr));
    printf("port=%u\n", addr_port(addr));
    for (u32 i = 0; i < count; i++) {
        uint8_t peer[ADDR_SIZE];
        if (udp) {
            char data[64];
            u32 iov[2] = {P(data), sizeof(data) - 1};
            u32 got = 0;
            if ((err = raw_sock_recv_from(fd, P(iov), 1, 0, P(peer), P(&got))) != 0) {
                die("sock_recv_from", err);
            }
            data[got] = 0;
            printf("from=%s data=%s\n", addr_text(peer), data);
        } else {
            u32 conn = 0;
            if ((err = raw_sock_accept(fd, 0, P(&conn))) != 0) {
                die("sock_accept", err);
            }
            raw_sock_addr_remote(conn, P(peer));
            printf("accepted=%s\n", addr_text(peer));
            send_all(conn, "ok", 2);
            raw_sock_close(conn);
        }
    }
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc == 4 && strcmp(argv[1], "try") == 0) {
        try_addr(argv[2], (uint16_t)atoi(argv[3]));
    } else if (argc == 6 && strcmp(argv[1], "resolve") == 0) {
        resolve(argv[2], argv[3], argv[4], (u32)atoi(argv[5]));
    } else if (argc == 6 && strcmp(argv[1], "one") == 0) {
        one_call(argv[2], argv[3], argv[4], (uint16_t)atoi(argv[5]));
    } else if ((argc == 4 || argc == 5) && strcmp(argv[1], "resolve_connect") == 0) {
        resolve_connect(argv[2], (uint16_t)atoi(argv[3]), argc == 5 ? argv[4] : NULL);
    } else if (argc == 5 && strcmp(argv[1], "serve") == 0) {
        serve(argv[2], argv[3], (u32)atoi(argv[4]));
    } else {
        fprintf(stderr, "usage: sock_policy try ADDR PORT | resolve HOST SERVICE FAMILY CAPACITY | one CALL PROTO "
                        "ADDR PORT | resolve_connect HOST PORT [OTHER] | serve PROTO ADDR COUNT\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
