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

int main(int argc, char **argv) {
    unbuffered();
    if (argc == 4 && strcmp(argv[1], "try") == 0) {
        try_addr(argv[2], (uint16_t)atoi(argv[3]));
    } else if (argc == 6 && strcmp(argv[1], "resolve") == 0) {
        resolve(argv[2], argv[3], argv[4], (u32)atoi(argv[5]));
    } else {
        fprintf(stderr, "usage: sock_policy try ADDR PORT | resolve HOST SERVICE FAMILY CAPACITY\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
