// TCP through the raw imports, against a native peer in the test.
// Usage:
//   sock_tcp serve ADDR
//     Binds ADDR port 0, listens, prints the raw sock_addr_local bytes and port=N, accepts one
//     connection, prints the peer (sock_addr_remote bytes) and the source that
//     sock_recv_from reports, receives until the peer shuts down its side, prints
//     received=N and fnv=X (FNV-1a 64 of the bytes), replies "ok" and closes.
//   sock_tcp client ADDR PORT NBYTES
//     Connects, prints the raw sock_addr_remote bytes and local=ADDR, sends NBYTES of the
//     test pattern (gathered from two iovecs per call), prints sent=N and fnv=X, shuts down
//     its sending side (SHUT_WR), then receives the peer's reply until EOF and prints it.
#include "sock_imports.h"

static uint8_t head[3000];
static uint8_t body[61536];

static void serve(const char *ip) {
    uint8_t addr[ADDR_SIZE + 4];
    u32 af = make_addr(ip, 0, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    int32_t err = raw_sock_bind(fd, P(addr));
    if (err != 0) {
        die("sock_bind", err);
    }
    if ((err = raw_sock_listen(fd, 4)) != 0) {
        die("sock_listen", err);
    }
    memset(addr, 0xEE, sizeof(addr));
    if ((err = raw_sock_addr_local(fd, P(addr))) != 0) {
        die("sock_addr_local", err);
    }
    printf("local_bytes=%s\n", hex(addr, sizeof(addr)));
    printf("port=%u\n", addr_port(addr));

    u32 conn = 0;
    if ((err = raw_sock_accept(fd, 0, P(&conn))) != 0) {
        die("sock_accept", err);
    }
    memset(addr, 0xEE, sizeof(addr));
    if ((err = raw_sock_addr_remote(conn, P(addr))) != 0) {
        die("sock_addr_remote", err);
    }
    printf("remote_bytes=%s\n", hex(addr, sizeof(addr)));
    printf("remote=%s\n", addr_text(addr));
    memset(addr, 0xEE, sizeof(addr));
    raw_sock_addr_local(conn, P(addr));
    printf("accepted_local=%s\n", addr_text(addr));

    // The first read through sock_recv_from, the rest through sock_recv scattering into two
    // buffers, so that both paths carry part of the stream.
    u64 total = 0, sum = FNV_START;
    uint8_t src[ADDR_SIZE + 4];
    memset(src, 0xEE, sizeof(src));
    u32 iov[4] = {P(head), sizeof(head), P(body), sizeof(body)};
    u32 got = 0;
    if ((err = raw_sock_recv_from(conn, P(iov), 1, 0, P(src), P(&got))) != 0) {
        die("sock_recv_from", err);
    }
    printf("recv_from_src=%s\n", addr_text(src));
    sum = fnv(sum, head, got);
    total += got;
    for (int calls = 0; got > 0; calls++) {
        if (calls > 4000000 || total > (1ull << 30)) {
            die("too much data", 0);
        }
        uint16_t roflags = 0xEEEE;
        if ((err = raw_sock_recv(conn, P(iov), 2, 0, P(&got), P(&roflags))) != 0) {
            die("sock_recv", err);
        }
        u32 in_head = got < sizeof(head) ? got : sizeof(head);
        sum = fnv(sum, head, in_head);
        sum = fnv(sum, body, got - in_head);
        total += got;
    }
    printf("received=%llu\n", (unsigned long long)total);
    printf("fnv=%016llx\n", (unsigned long long)sum);
    send_all(conn, "ok", 2);
    printf("close=%d\n", raw_fd_close(conn));
    raw_fd_close(fd);
}

static void client(const char *ip, uint16_t port, u64 n) {
    uint8_t addr[ADDR_SIZE + 4];
    u32 af = make_addr(ip, port, addr);
    u32 fd = open_socket(af, SOCK_STREAM_);
    int32_t err = raw_sock_connect(fd, P(addr));
    if (err != 0) {
        die("sock_connect", err);
    }
    memset(addr, 0xEE, sizeof(addr));
    if ((err = raw_sock_addr_remote(fd, P(addr))) != 0) {
        die("sock_addr_remote", err);
    }
    printf("remote_bytes=%s\n", hex(addr, sizeof(addr)));
    memset(addr, 0xEE, sizeof(addr));
    raw_sock_addr_local(fd, P(addr));
    printf("local=%s\n", addr_text(addr));

    u64 offset = 0, sum = FNV_START;
    for (int calls = 0; offset < n; calls++) {
        if (calls > 4000000) {
            die("too many sends", 0);
        }
        u64 left = n - offset;
        u32 chunk = left < sizeof(head) + sizeof(body) ? (u32)left : (u32)(sizeof(head) + sizeof(body));
        for (u32 i = 0; i < chunk; i++) {
            uint8_t b = pattern(offset + i);
            if (i < sizeof(head)) {
                head[i] = b;
            } else {
                body[i - sizeof(head)] = b;
            }
        }
        u32 in_head = chunk < sizeof(head) ? chunk : sizeof(head);
        sum = fnv(sum, head, in_head);
        sum = fnv(sum, body, chunk - in_head);
        u32 iov[4] = {P(head), in_head, P(body), chunk - in_head};
        u32 sent = 0;
        if ((err = raw_sock_send(fd, P(iov), chunk > in_head ? 2 : 1, 0, P(&sent))) != 0) {
            die("sock_send", err);
        }
        // A partial send: push the rest of this chunk out before making the next one.
        if (sent < in_head) {
            send_all(fd, head + sent, in_head - sent);
            send_all(fd, body, chunk - in_head);
        } else if (sent < chunk) {
            send_all(fd, body + (sent - in_head), chunk - sent);
        }
        offset += chunk;
    }
    printf("sent=%llu\n", (unsigned long long)offset);
    printf("fnv=%016llx\n", (unsigned long long)sum);
    printf("shutdown=%d\n", raw_sock_shutdown(fd, SHUT_WR_));

    // Our sending side is closed; the receiving side must still work.
    char reply[200];
    u32 len = 0;
    for (int calls = 0; calls < 1000 && len < sizeof(reply) - 1; calls++) {
        u32 got = recv_some(fd, reply + len, sizeof(reply) - 1 - len, 0);
        if (got == 0) {
            break;
        }
        len += got;
    }
    reply[len] = 0;
    printf("reply=%s\n", reply);
    printf("close=%d\n", raw_fd_close(fd));
}

int main(int argc, char **argv) {
    unbuffered();
    if (argc == 3 && strcmp(argv[1], "serve") == 0) {
        serve(argv[2]);
    } else if (argc == 5 && strcmp(argv[1], "client") == 0) {
        client(argv[2], (uint16_t)atoi(argv[3]), strtoull(argv[4], NULL, 10));
    } else {
        fprintf(stderr, "usage: sock_tcp serve ADDR | client ADDR PORT NBYTES\n");
        return 100;
    }
    printf("done=1\n");
    return 0;
}
