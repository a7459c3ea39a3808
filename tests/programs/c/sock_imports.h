// The raw imports of WAMR's socket extension (all 52 sock_* names, spec §3) and the few
// WASI preview 1 calls the socket tests need, declared directly so that no guest library sits
// between the test and the host. Plus small helpers shared by the sock_*.c programs: building
// and printing __wasi_addr_t, hex dumps, a deterministic byte pattern and its checksum.
//
// Note: the test harness rebuilds a program when its .c file is newer than its .wasm; after
// editing this header, touch the sock_*.c files.
#ifndef SOCK_IMPORTS_H
#define SOCK_IMPORTS_H

#include <arpa/inet.h> // inet_pton: text parsing only, no socket calls
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h> // AF_INET/AF_INET6 for inet_pton

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

typedef uint32_t u32;
typedef uint64_t u64;

// --- Core operations (spec §3.1), including the four shared with WASI preview 1 ---
IMPORT(sock_open) int32_t raw_sock_open(u32 poolfd, u32 af, u32 socktype, u32 fd_out);
IMPORT(sock_bind) int32_t raw_sock_bind(u32 fd, u32 addr);
IMPORT(sock_connect) int32_t raw_sock_connect(u32 fd, u32 addr);
IMPORT(sock_listen) int32_t raw_sock_listen(u32 fd, u32 backlog);
IMPORT(sock_accept) int32_t raw_sock_accept(u32 fd, u32 fdflags, u32 fd_out);
IMPORT(sock_addr_local) int32_t raw_sock_addr_local(u32 fd, u32 addr);
IMPORT(sock_addr_remote) int32_t raw_sock_addr_remote(u32 fd, u32 addr);
IMPORT(sock_close) int32_t raw_sock_close(u32 fd);
IMPORT(sock_addr_resolve)
int32_t raw_sock_addr_resolve(u32 host, u32 service, u32 hints, u32 info, u32 capacity, u32 total);
IMPORT(sock_recv_from)
int32_t raw_sock_recv_from(u32 fd, u32 iovs, u32 iovs_len, u32 riflags, u32 src_addr, u32 nread);
IMPORT(sock_send_to)
int32_t raw_sock_send_to(u32 fd, u32 iovs, u32 iovs_len, u32 siflags, u32 dest_addr, u32 nsent);
IMPORT(sock_recv) int32_t raw_sock_recv(u32 fd, u32 iovs, u32 iovs_len, u32 riflags, u32 nread, u32 roflags);
IMPORT(sock_send) int32_t raw_sock_send(u32 fd, u32 iovs, u32 iovs_len, u32 siflags, u32 nsent);
IMPORT(sock_shutdown) int32_t raw_sock_shutdown(u32 fd, u32 how);

// --- Socket options (spec §3.2) ---
IMPORT(sock_set_recv_timeout) int32_t raw_sock_set_recv_timeout(u32 fd, u64 us);
IMPORT(sock_get_recv_timeout) int32_t raw_sock_get_recv_timeout(u32 fd, u32 out);
IMPORT(sock_set_send_timeout) int32_t raw_sock_set_send_timeout(u32 fd, u64 us);
IMPORT(sock_get_send_timeout) int32_t raw_sock_get_send_timeout(u32 fd, u32 out);
IMPORT(sock_set_recv_buf_size) int32_t raw_sock_set_recv_buf_size(u32 fd, u32 size);
IMPORT(sock_get_recv_buf_size) int32_t raw_sock_get_recv_buf_size(u32 fd, u32 out);
IMPORT(sock_set_send_buf_size) int32_t raw_sock_set_send_buf_size(u32 fd, u32 size);
IMPORT(sock_get_send_buf_size) int32_t raw_sock_get_send_buf_size(u32 fd, u32 out);
IMPORT(sock_set_keep_alive) int32_t raw_sock_set_keep_alive(u32 fd, u32 on);
IMPORT(sock_get_keep_alive) int32_t raw_sock_get_keep_alive(u32 fd, u32 out);
IMPORT(sock_set_reuse_addr) int32_t raw_sock_set_reuse_addr(u32 fd, u32 on);
IMPORT(sock_get_reuse_addr) int32_t raw_sock_get_reuse_addr(u32 fd, u32 out);
IMPORT(sock_set_reuse_port) int32_t raw_sock_set_reuse_port(u32 fd, u32 on);
IMPORT(sock_get_reuse_port) int32_t raw_sock_get_reuse_port(u32 fd, u32 out);
IMPORT(sock_set_broadcast) int32_t raw_sock_set_broadcast(u32 fd, u32 on);
IMPORT(sock_get_broadcast) int32_t raw_sock_get_broadcast(u32 fd, u32 out);
IMPORT(sock_set_tcp_no_delay) int32_t raw_sock_set_tcp_no_delay(u32 fd, u32 on);
IMPORT(sock_get_tcp_no_delay) int32_t raw_sock_get_tcp_no_delay(u32 fd, u32 out);
IMPORT(sock_set_tcp_quick_ack) int32_t raw_sock_set_tcp_quick_ack(u32 fd, u32 on);
IMPORT(sock_get_tcp_quick_ack) int32_t raw_sock_get_tcp_quick_ack(u32 fd, u32 out);
IMPORT(sock_set_tcp_fastopen_connect) int32_t raw_sock_set_tcp_fastopen_connect(u32 fd, u32 on);
IMPORT(sock_get_tcp_fastopen_connect) int32_t raw_sock_get_tcp_fastopen_connect(u32 fd, u32 out);
IMPORT(sock_set_ipv6_only) int32_t raw_sock_set_ipv6_only(u32 fd, u32 on);
IMPORT(sock_get_ipv6_only) int32_t raw_sock_get_ipv6_only(u32 fd, u32 out);
IMPORT(sock_set_linger) int32_t raw_sock_set_linger(u32 fd, u32 on, u32 secs);
IMPORT(sock_get_linger) int32_t raw_sock_get_linger(u32 fd, u32 on_out, u32 secs_out);
IMPORT(sock_set_tcp_keep_idle) int32_t raw_sock_set_tcp_keep_idle(u32 fd, u32 secs);
IMPORT(sock_get_tcp_keep_idle) int32_t raw_sock_get_tcp_keep_idle(u32 fd, u32 out);
IMPORT(sock_set_tcp_keep_intvl) int32_t raw_sock_set_tcp_keep_intvl(u32 fd, u32 secs);
IMPORT(sock_get_tcp_keep_intvl) int32_t raw_sock_get_tcp_keep_intvl(u32 fd, u32 out);
IMPORT(sock_set_ip_ttl) int32_t raw_sock_set_ip_ttl(u32 fd, u32 ttl);
IMPORT(sock_get_ip_ttl) int32_t raw_sock_get_ip_ttl(u32 fd, u32 out);
IMPORT(sock_set_ip_multicast_ttl) int32_t raw_sock_set_ip_multicast_ttl(u32 fd, u32 ttl);
IMPORT(sock_get_ip_multicast_ttl) int32_t raw_sock_get_ip_multicast_ttl(u32 fd, u32 out);
IMPORT(sock_set_ip_multicast_loop) int32_t raw_sock_set_ip_multicast_loop(u32 fd, u32 ipv6, u32 on);
IMPORT(sock_get_ip_multicast_loop) int32_t raw_sock_get_ip_multicast_loop(u32 fd, u32 ipv6, u32 out);
IMPORT(sock_set_ip_add_membership) int32_t raw_sock_set_ip_add_membership(u32 fd, u32 group, u32 iface);
IMPORT(sock_set_ip_drop_membership) int32_t raw_sock_set_ip_drop_membership(u32 fd, u32 group, u32 iface);

// --- WASI preview 1 calls used on sockets ---
IMPORT(fd_fdstat_get) int32_t raw_fd_fdstat_get(u32 fd, u32 out);
IMPORT(fd_fdstat_set_flags) int32_t raw_fd_fdstat_set_flags(u32 fd, u32 flags);
IMPORT(fd_read) int32_t raw_fd_read(u32 fd, u32 iovs, u32 iovs_len, u32 nread);
IMPORT(fd_write) int32_t raw_fd_write(u32 fd, u32 iovs, u32 iovs_len, u32 nwritten);
IMPORT(fd_close) int32_t raw_fd_close(u32 fd);
IMPORT(fd_renumber) int32_t raw_fd_renumber(u32 fd, u32 to);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(u32 subs, u32 events, u32 nsubs, u32 nevents);
IMPORT(clock_time_get) int32_t raw_clock_time_get(u32 id, u64 precision, u32 out);

// Constants (spec §2.1, WASI preview 1).
#define AF_INET4 0u
#define AF_INET6_ 1u
#define SOCK_DGRAM_ 0u
#define SOCK_STREAM_ 1u
#define FDFLAG_NONBLOCK 4u
#define RIFLAG_PEEK 1u
#define RIFLAG_WAITALL 2u
#define SHUT_RD_ 1u
#define SHUT_WR_ 2u
#define SHUT_RDWR_ 3u
#define ADDR_SIZE 24

static inline u32 P(const void *p) {
    return (u32)(uintptr_t)p;
}

// Output goes straight out, so that a test waiting for "port=" sees it at once.
static inline void unbuffered(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
}

static inline void die(const char *what, int32_t err) {
    printf("error: %s errno=%d\n", what, err);
    exit(1);
}

static inline void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline uint16_t get16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline u32 get32(const uint8_t *p) {
    return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24);
}

// Fills a __wasi_addr_t (24 bytes, spec §2.2/§2.3) from a numeric address and a port; returns
// the address family (AF_INET4 or AF_INET6_). Bytes the union does not use stay as they are.
static inline u32 make_addr(const char *ip, uint16_t port, uint8_t out[ADDR_SIZE]) {
    uint8_t raw[16];
    if (inet_pton(AF_INET6, ip, raw) == 1) {
        memset(out, 0, 4);
        out[0] = 1;
        for (int g = 0; g < 8; g++) {
            put16(out + 4 + 2 * g, (uint16_t)((raw[2 * g] << 8) | raw[2 * g + 1]));
        }
        put16(out + 20, port);
        return AF_INET6_;
    }
    if (inet_pton(AF_INET, ip, raw) == 1) {
        memset(out, 0, 4);
        memcpy(out + 4, raw, 4);
        put16(out + 8, port);
        return AF_INET4;
    }
    printf("error: bad address %s\n", ip);
    exit(100);
}

// "a.b.c.d:port" or "[g:g:g:g:g:g:g:g]:port" (uncompressed groups), which Rust's SocketAddr
// parses.
static inline const char *addr_text(const uint8_t a[ADDR_SIZE]) {
    static char text[80];
    u32 kind = get32(a);
    if (kind == 0) {
        snprintf(text, sizeof(text), "%u.%u.%u.%u:%u", a[4], a[5], a[6], a[7], get16(a + 8));
    } else if (kind == 1) {
        snprintf(text, sizeof(text), "[%x:%x:%x:%x:%x:%x:%x:%x]:%u", get16(a + 4), get16(a + 6), get16(a + 8),
                 get16(a + 10), get16(a + 12), get16(a + 14), get16(a + 16), get16(a + 18), get16(a + 20));
    } else {
        snprintf(text, sizeof(text), "kind%u", kind);
    }
    return text;
}

static inline uint16_t addr_port(const uint8_t a[ADDR_SIZE]) {
    return get32(a) == 1 ? get16(a + 20) : get16(a + 8);
}

// Lower-case hex without separators, so that a key=value line keeps it as one value.
static inline const char *hex(const uint8_t *p, size_t n) {
    static char text[2 * 64 + 1];
    if (n > 64) {
        n = 64;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(text + 2 * i, 3, "%02x", p[i]);
    }
    text[2 * n] = 0;
    return text;
}

// The byte at offset i of the test stream; the Rust side computes the same.
static inline uint8_t pattern(u64 i) {
    return (uint8_t)((i * 7) ^ (i >> 10));
}

// FNV-1a 64.
#define FNV_START 0xcbf29ce484222325ull
static inline u64 fnv(u64 h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static inline u64 now_ms(void) {
    u64 ns = 0;
    raw_clock_time_get(1 /* monotonic */, 1, P(&ns));
    return ns / 1000000;
}

static inline u32 open_socket(u32 af, u32 type) {
    u32 fd = 0;
    int32_t err = raw_sock_open((u32)-1, af, type, P(&fd));
    if (err != 0) {
        die("sock_open", err);
    }
    return fd;
}

// Sends all n bytes of buf with sock_send (bounded number of calls).
static inline void send_all(u32 fd, const void *buf, u32 n) {
    const uint8_t *p = buf;
    for (int calls = 0; n > 0; calls++) {
        if (calls > 1000000) {
            die("send_all: too many calls", 0);
        }
        u32 iov[2] = {P(p), n};
        u32 sent = 0;
        int32_t err = raw_sock_send(fd, P(iov), 1, 0, P(&sent));
        if (err != 0) {
            die("sock_send", err);
        }
        p += sent;
        n -= sent;
    }
}

// One sock_recv into buf; returns the byte count (0 at end of stream).
static inline u32 recv_some(u32 fd, void *buf, u32 n, u32 flags) {
    u32 iov[2] = {P(buf), n};
    u32 got = 0;
    uint16_t roflags = 0;
    int32_t err = raw_sock_recv(fd, P(iov), 1, flags, P(&got), P(&roflags));
    if (err != 0) {
        die("sock_recv", err);
    }
    return got;
}

#endif
