// UDP through the raw imports, against a native peer in the test.
// Usage:
//   sock_udp echo ADDR COUNT
//     Binds ADDR port 0, prints the raw sock_addr_local bytes and port=N, then receives COUNT
//     datagrams with sock_recv_from (scattered over two iovecs) and sends each back to its
//     source with sock_send_to (gathered from the same two iovecs). Prints the first
//     source (from=, from_bytes=), then count=, bytes= and fnv= over everything received.
//     A 10 s receive timeout bounds every wait.
//   sock_udp send ADDR PORT COUNT
//     From an unbound socket, sends COUNT datagrams "dgram-I" to ADDR:PORT with sock_send_to,
//     prints its port (local_port=), receives one reply with sock_recv_from and prints its
//     source (reply_from=) and text; then connects the socket to ADDR:PORT, sends "connected"
//     with sock_send, and receives one more reply with sock_recv.
#include "sock_imports.h"

static uint8_t small[100];
static uint8_t large[65536];

static void echo(const char *ip, int count) {
    uint8_t addr[ADDR_SIZE + 4];
    u32 af = make_addr(ip, 0, addr);
    u32 fd = open_socket(af, SOCK_DGRAM_);
    int32_t err = raw_sock_bind(fd, P(addr));
    if (err != 0) {
        die("sock_bind", err);
    }
    raw_sock_set_recv_timeout(fd, 10000000ull);
    memset(addr, 0xEE, sizeof(addr));
    raw_sock_addr_local(fd, P(addr));
    printf("local_bytes=%s\n", hex(addr, sizeof(addr)));
    printf("port=%u\n", addr_port(addr));

    u64 total = 0, sum = FNV_START;
    for (int i = 0; i < count; i++) {
        uint8_t src[ADDR_SIZE + 4];
        memset(src, 0xEE, sizeof(src));
        u32 iov[4] = {P(small), sizeof(small), P(large), sizeof(large)};
        u32 got = 0;
        if ((err = raw_sock_recv_from(fd, P(iov), 2, 0, P(src), P(&got))) != 0) {
            die("sock_recv_from", err);
        }
        if (i == 0) {
            printf("from=%s\n", addr_text(src));
            printf("from_bytes=%s\n", hex(src, sizeof(src)));
        }
        u32 in_small = got < sizeof(small) ? got : sizeof(small);
        sum = fnv(sum, small, in_small);
        sum = fnv(sum, large, got - in_small);
        total += got;
        iov[1] = in_small;
        iov[3] = got - in_small;
        u32 sent = 0;
        if ((err = raw_sock_send_to(fd, P(iov), got > in_small ? 2 : 1, 0, P(src), P(&sent))) != 0) {
            die("sock_send_to", err);
        }
        if (sent != got) {
            printf("error: datagram %d: sent %u of %u bytes\n", i, sent, got);
            exit(1);
        }
    }
    printf("count=%d\n", count);
    printf("bytes=%llu\n", (unsigned long long)total);
    printf("fnv=%016llx\n", (unsigned long long)sum);
}

static void send_datagrams(const char *ip, uint16_t port, int count) {
    uint8_t dest[ADDR_SIZE];
    u32 af = make_addr(ip, port, dest);
    u32 fd = open_socket(af, SOCK_DGRAM_);
    raw_sock_set_recv_timeout(fd, 10000000ull);
    int32_t err;
    for (int i = 0; i < count; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof(msg), "dgram-%d", i);
        u32 iov[2] = {P(msg), (u32)len};
        u32 sent = 0;
        if ((err = raw_sock_send_to(fd, P(iov), 1, 0, P(dest), P(&sent))) != 0) {
            die("sock_send_to", err);
        }
    }
    uint8_t addr[ADDR_SIZE + 4];
    memset(addr, 0xEE, sizeof(addr));
    raw_sock_addr_local(fd, P(addr));
    printf("local_port=%u\n", addr_port(addr));

    char reply[100];
    memset(addr, 0xEE, sizeof(addr));
    u32 iov[2] = {P(reply), sizeof(reply) - 1};
    u32 got = 0;
    if ((err = raw_sock_recv_from(fd, P(iov), 1, 0, P(addr), P(&got))) != 0) {
        die("sock_recv_from", err);
    }
    reply[got] = 0;
    printf("reply_from=%s\n", addr_text(addr));
    printf("reply=%s\n", reply);

    if ((err = raw_sock_connect(fd, P(dest))) != 0) {
        die("sock_connect (UDP)", err);
    }
    memset(addr, 0xEE, sizeof(addr));
    raw_sock_addr_remote(fd, P(addr));
    printf("connected_to=%s\n", addr_text(addr));
    send_all(fd, "connected", 9);
    got = recv_some(fd, reply, sizeof(reply) - 1, 0);
    reply[got] = 0;
    printf("reply2=%s\n", reply);
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc == 4 && strcmp(argv[1], "echo") == 0) {
        echo(argv[2], atoi(argv[3]));
    } else if (argc == 5 && strcmp(argv[1], "send") == 0) {
        send_datagrams(argv[2], (uint16_t)atoi(argv[3]), atoi(argv[4]));
    } else {
        fprintf(stderr, "usage: sock_udp echo ADDR COUNT | send ADDR PORT COUNT\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
