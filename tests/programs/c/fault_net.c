// Network faults seen from a guest, through raw imports only (no guest library in between).
// The test (tests/all/faults.rs) plays the native peer on 127.0.0.1:PORT.
//
//   fault_net reset PORT      read "hello", send "ack", then the peer resets: recv and send fail
//   fault_net halfclose PORT  the peer shuts down its write side: EOF, yet we can still send
//   fault_net refused PORT    connect to a closed port: ECONNREFUSED
//   fault_net rcvtimeo PORT   SO_RCVTIMEO 200 ms and a silent peer: EAGAIN
//   fault_net sndtimeo PORT   SO_SNDTIMEO 200 ms and a peer that never reads: EAGAIN
//   fault_net sendblock PORT  a blocking send to a peer that never reads (stopped by --timeout)
//   fault_net recv PORT       a blocking recv from a silent peer (stopped by --timeout)
//   fault_net accept          a blocking accept with nobody connecting (stopped by --timeout)
//   fault_net poll PORT       poll_oneoff on a silent socket, no clock (stopped by --timeout)
//
// Every result is printed as "name errno=N" or "name n=N"; the exit code is 0 unless the
// program itself went wrong (100).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

IMPORT(sock_open) int32_t raw_sock_open(uint32_t poolfd, uint32_t af, uint32_t socktype, uint32_t fd_out);
IMPORT(sock_connect) int32_t raw_sock_connect(uint32_t fd, uint32_t addr);
IMPORT(sock_bind) int32_t raw_sock_bind(uint32_t fd, uint32_t addr);
IMPORT(sock_listen) int32_t raw_sock_listen(uint32_t fd, uint32_t backlog);
IMPORT(sock_accept) int32_t raw_sock_accept(uint32_t fd, uint32_t flags, uint32_t fd_out);
IMPORT(sock_addr_local) int32_t raw_sock_addr_local(uint32_t fd, uint32_t addr);
IMPORT(sock_recv)
int32_t raw_sock_recv(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t flags, uint32_t nread, uint32_t oflags);
IMPORT(sock_send) int32_t raw_sock_send(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t flags, uint32_t nsent);
IMPORT(sock_set_recv_timeout) int32_t raw_sock_set_recv_timeout(uint32_t fd, uint64_t us);
IMPORT(sock_set_send_timeout) int32_t raw_sock_set_send_timeout(uint32_t fd, uint64_t us);
IMPORT(sock_set_send_buf_size) int32_t raw_sock_set_send_buf_size(uint32_t fd, uint32_t size);
IMPORT(fd_write) int32_t raw_fd_write(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t nwritten);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(uint32_t in, uint32_t out, uint32_t nsubs, uint32_t nevents);

#define ptr(p) ((uint32_t)(uintptr_t)(p))

// __wasi_addr_t: u32 kind (0 = IPv4), 4 address bytes in reading order, u16 port (LE).
static uint8_t addr[24];

static void set_addr(unsigned port) {
    memset(addr, 0, sizeof(addr));
    addr[4] = 127, addr[7] = 1;
    addr[8] = port & 0xff, addr[9] = port >> 8;
}

struct iovec32 {
    uint32_t buf, len;
};

static int32_t recv_into(uint32_t fd, char *buf, uint32_t len, uint32_t *n) {
    static struct iovec32 iov;
    static uint16_t oflags;
    iov = (struct iovec32){ ptr(buf), len };
    return raw_sock_recv(fd, ptr(&iov), 1, 0, ptr(n), ptr(&oflags));
}

static int32_t send_from(uint32_t fd, const void *buf, uint32_t len, uint32_t *n) {
    static struct iovec32 iov;
    iov = (struct iovec32){ ptr(buf), len };
    return raw_sock_send(fd, ptr(&iov), 1, 0, ptr(n));
}

static void fail(const char *what, int32_t err) {
    printf("FAILED %s errno=%d\n", what, err);
    exit(100);
}

static uint32_t tcp_socket(void) {
    uint32_t fd;
    int32_t err = raw_sock_open(-1, 0 /* INET4 */, 1 /* STREAM */, ptr(&fd));
    if (err)
        fail("sock_open", err);
    return fd;
}

static uint32_t connect_to(unsigned port) {
    uint32_t fd = tcp_socket();
    set_addr(port);
    int32_t err = raw_sock_connect(fd, ptr(addr));
    if (err)
        fail("sock_connect", err);
    printf("connected\n");
    return fd;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char buf[65536];

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        fail("usage: fault_net MODE [PORT]", 0);
    const char *mode = argv[1];
    unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    uint32_t n = 0;
    int32_t err;

    if (strcmp(mode, "reset") == 0) {
        uint32_t fd = connect_to(port);
        err = recv_into(fd, buf, sizeof(buf), &n);
        printf("recv1 errno=%d n=%u data=%.*s\n", err, n, (int)n, buf);
        err = send_from(fd, "ack", 3, &n);
        printf("send1 errno=%d n=%u\n", err, n);
        // The peer now resets the connection.
        err = recv_into(fd, buf, sizeof(buf), &n);
        printf("recv2 errno=%d\n", err);
        err = send_from(fd, "more", 4, &n);
        printf("send2 errno=%d\n", err);
        // fd_write on the socket: the same as send, and no SIGPIPE either.
        struct iovec32 iov = { ptr("again"), 5 };
        err = raw_fd_write(fd, ptr(&iov), 1, ptr(&n));
        printf("fd_write errno=%d\n", err);
        return 0;
    }
    if (strcmp(mode, "halfclose") == 0) {
        uint32_t fd = connect_to(port);
        uint32_t total = 0;
        // Read until EOF (bounded: the peer sends 3 bytes).
        for (int i = 0; i < 100; i++) {
            err = recv_into(fd, buf + total, sizeof(buf) - total, &n);
            if (err)
                fail("recv", err);
            if (n == 0)
                break;
            total += n;
        }
        printf("received n=%u data=%.*s\n", total, (int)total, buf);
        err = recv_into(fd, buf, sizeof(buf), &n);
        printf("after eof errno=%d n=%u\n", err, n);
        err = send_from(fd, "still here", 10, &n);
        printf("send errno=%d n=%u\n", err, n);
        return 0;
    }
    if (strcmp(mode, "refused") == 0) {
        uint32_t fd = tcp_socket();
        set_addr(port);
        err = raw_sock_connect(fd, ptr(addr));
        printf("connect errno=%d\n", err);
        return 0;
    }
    if (strcmp(mode, "rcvtimeo") == 0) {
        uint32_t fd = connect_to(port);
        err = raw_sock_set_recv_timeout(fd, 200 * 1000);
        if (err)
            fail("sock_set_recv_timeout", err);
        long long start = now_ms();
        err = recv_into(fd, buf, sizeof(buf), &n);
        printf("recv errno=%d after_ms=%lld\n", err, now_ms() - start);
        return 0;
    }
    if (strcmp(mode, "sndtimeo") == 0 || strcmp(mode, "sendblock") == 0) {
        uint32_t fd = connect_to(port);
        if ((err = raw_sock_set_send_buf_size(fd, 4096)))
            fail("sock_set_send_buf_size", err);
        if (strcmp(mode, "sndtimeo") == 0 && (err = raw_sock_set_send_timeout(fd, 200 * 1000)))
            fail("sock_set_send_timeout", err);
        // Bounded: 4096 sends of 64 KiB (256 MiB) is far more than any socket buffer holds.
        unsigned long long sent = 0;
        long long start = now_ms();
        printf("sending\n");
        for (int i = 0; i < 4096; i++) {
            long long before = now_ms();
            err = send_from(fd, buf, sizeof(buf), &n);
            if (err) {
                printf("send errno=%d after_bytes=%llu blocked_ms=%lld\n", err, sent, now_ms() - before);
                return 0;
            }
            sent += n;
        }
        printf("FAILED: sent %llu bytes in %lld ms without blocking\n", sent, now_ms() - start);
        return 100;
    }
    if (strcmp(mode, "recv") == 0) {
        uint32_t fd = connect_to(port);
        printf("blocking\n");
        err = recv_into(fd, buf, sizeof(buf), &n);
        printf("FAILED: recv returned errno=%d n=%u\n", err, n);
        return 100;
    }
    if (strcmp(mode, "accept") == 0) {
        uint32_t fd = tcp_socket(), conn;
        set_addr(0);
        if ((err = raw_sock_bind(fd, ptr(addr))))
            fail("sock_bind", err);
        if ((err = raw_sock_listen(fd, 4)))
            fail("sock_listen", err);
        printf("blocking\n");
        err = raw_sock_accept(fd, 0, ptr(&conn));
        printf("FAILED: accept returned errno=%d\n", err);
        return 100;
    }
    if (strcmp(mode, "poll") == 0) {
        uint32_t fd = connect_to(port);
        // One subscription: FD_READ on the socket (tag 1 at offset 8, fd at offset 16).
        static uint8_t sub[48], event[32];
        uint32_t nevents = 0;
        memset(sub, 0, sizeof(sub));
        sub[8] = 1;
        memcpy(sub + 16, &fd, 4);
        printf("blocking\n");
        err = raw_poll_oneoff(ptr(sub), ptr(event), 1, ptr(&nevents));
        printf("FAILED: poll_oneoff returned errno=%d nevents=%u\n", err, nevents);
        return 100;
    }
    fail("unknown mode", 0);
}
