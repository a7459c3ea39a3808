// A poll_oneoff-based TCP echo server over raw imports, for the soak and leak tests
// (tests/all/soak.rs, tests/all/faults.rs). Non-blocking listener and connections, one
// subscription per connection (FD_READ when nothing is pending, FD_WRITE otherwise), up to
// MAX_CONN at once, a fixed buffer per connection (memory stays flat whatever the traffic).
//
//   soak_echo CONNECTIONS   prints "listening PORT", serves CONNECTIONS connections to their
//                           end, prints "served N errors=E bytes=B" and exits 0 (1 on errors).
//                           Gives up after 20 s without any event.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

IMPORT(sock_open) int32_t raw_sock_open(uint32_t poolfd, uint32_t af, uint32_t socktype, uint32_t fd_out);
IMPORT(sock_bind) int32_t raw_sock_bind(uint32_t fd, uint32_t addr);
IMPORT(sock_listen) int32_t raw_sock_listen(uint32_t fd, uint32_t backlog);
IMPORT(sock_addr_local) int32_t raw_sock_addr_local(uint32_t fd, uint32_t addr);

#define ptr(p) ((uint32_t)(uintptr_t)(p))
#define MAX_CONN 256
#define BUF 16384
#define IDLE_NS (20ull * 1000 * 1000 * 1000)
#define LISTENER UINT64_C(0xffff)
#define CLOCK UINT64_C(0xfffe)

struct conn {
    int open;
    __wasi_fd_t fd;
    uint32_t len, off; // buf[off..len) still to be echoed
    char buf[BUF];
};

static struct conn conns[MAX_CONN];
static __wasi_subscription_t subs[MAX_CONN + 2];
static __wasi_event_t events[MAX_CONN + 2];
static int open_count, served, errors;
static unsigned long long bytes;

static void fail(const char *what, int err) {
    printf("FAILED %s errno=%d\n", what, err);
    exit(100);
}

static void finish(struct conn *c, int error) {
    if (__wasi_fd_close(c->fd) != 0)
        error = 1;
    c->open = 0;
    open_count--;
    served++;
    errors += error;
}

// Sends what is pending; stops at EAGAIN (the subscription then waits for FD_WRITE).
static void flush(struct conn *c) {
    while (c->off < c->len) {
        __wasi_ciovec_t iov = { (const uint8_t *)c->buf + c->off, c->len - c->off };
        __wasi_size_t n = 0;
        __wasi_errno_t err = __wasi_sock_send(c->fd, &iov, 1, 0, &n);
        if (err == __WASI_ERRNO_AGAIN)
            return;
        if (err) {
            printf("send errno=%d\n", err);
            finish(c, 1);
            return;
        }
        c->off += n;
        bytes += n;
    }
    c->off = c->len = 0;
}

static void readable(struct conn *c) {
    __wasi_iovec_t iov = { (uint8_t *)c->buf, BUF };
    __wasi_size_t n = 0;
    __wasi_roflags_t oflags;
    __wasi_errno_t err = __wasi_sock_recv(c->fd, &iov, 1, 0, &n, &oflags);
    if (err == __WASI_ERRNO_AGAIN)
        return;
    if (err) {
        printf("recv errno=%d\n", err);
        finish(c, 1);
        return;
    }
    if (n == 0) {
        finish(c, 0); // the client is done
        return;
    }
    c->len = n;
    c->off = 0;
    flush(c);
}

static void accept_all(__wasi_fd_t listener) {
    // Bounded by the free slots.
    while (open_count < MAX_CONN) {
        __wasi_fd_t fd;
        __wasi_errno_t err = __wasi_sock_accept(listener, __WASI_FDFLAGS_NONBLOCK, &fd);
        if (err == __WASI_ERRNO_AGAIN)
            return;
        if (err)
            fail("sock_accept", err);
        for (int i = 0; i < MAX_CONN; i++) {
            if (!conns[i].open) {
                conns[i].open = 1;
                conns[i].fd = fd;
                conns[i].len = conns[i].off = 0;
                open_count++;
                break;
            }
        }
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int wanted = argc > 1 ? atoi(argv[1]) : 1;
    static uint8_t addr[24] = { 0, 0, 0, 0, 127, 0, 0, 1 }; // 127.0.0.1:0
    uint32_t listener;
    int32_t err;
    if ((err = raw_sock_open(-1, 0, 1, ptr(&listener))))
        fail("sock_open", err);
    if ((err = raw_sock_bind(listener, ptr(addr))))
        fail("sock_bind", err);
    if ((err = raw_sock_listen(listener, MAX_CONN)))
        fail("sock_listen", err);
    if ((err = __wasi_fd_fdstat_set_flags(listener, __WASI_FDFLAGS_NONBLOCK)))
        fail("fd_fdstat_set_flags", err);
    if ((err = raw_sock_addr_local(listener, ptr(addr))))
        fail("sock_addr_local", err);
    printf("listening %u\n", addr[8] | addr[9] << 8);

    // Bounded in time by the idle clock, in count by this cap.
    for (long round = 0; served < wanted && round < 100000000L; round++) {
        size_t n = 0;
        subs[n++] = (__wasi_subscription_t){
            .userdata = CLOCK,
            .u = { .tag = __WASI_EVENTTYPE_CLOCK,
                   .u.clock = { .id = __WASI_CLOCKID_MONOTONIC, .timeout = IDLE_NS } },
        };
        if (open_count < MAX_CONN)
            subs[n++] = (__wasi_subscription_t){
                .userdata = LISTENER,
                .u = { .tag = __WASI_EVENTTYPE_FD_READ, .u.fd_read = { listener } },
            };
        for (int i = 0; i < MAX_CONN; i++) {
            if (!conns[i].open)
                continue;
            int pending = conns[i].off < conns[i].len;
            subs[n++] = (__wasi_subscription_t){
                .userdata = (uint64_t)i,
                .u = { .tag = pending ? __WASI_EVENTTYPE_FD_WRITE : __WASI_EVENTTYPE_FD_READ,
                       .u.fd_read = { conns[i].fd } },
            };
        }
        __wasi_size_t ready = 0;
        if ((err = __wasi_poll_oneoff(subs, events, n, &ready)))
            fail("poll_oneoff", err);
        for (__wasi_size_t e = 0; e < ready; e++) {
            __wasi_event_t *ev = &events[e];
            if (ev->userdata == CLOCK) {
                printf("idle for 20 s: served %d of %d, %d open\n", served, wanted, open_count);
                return 1;
            }
            if (ev->userdata == LISTENER) {
                accept_all(listener);
                continue;
            }
            struct conn *c = &conns[ev->userdata];
            if (!c->open)
                continue;
            if (ev->error) {
                printf("event errno=%d\n", ev->error);
                finish(c, 1);
            } else if (ev->type == __WASI_EVENTTYPE_FD_WRITE) {
                flush(c);
            } else {
                readable(c);
            }
        }
    }
    printf("served %d errors=%d bytes=%llu\n", served, errors, bytes);
    return errors ? 1 : 0;
}
