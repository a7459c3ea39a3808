/* Creating, naming and connecting sockets: socket, bind, listen, connect, accept, accept4,
 * getsockname, getpeername. */

#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- non-blocking connects in progress (for getsockopt(SO_ERROR), see sockopt.c) ---- */

#define WASOCK_PENDING_CONNECTS 64

static struct {
    int fd; /* -1: free */
    __wasi_addr_t addr;
} pending_connects[WASOCK_PENDING_CONNECTS];
static int pending_connects_ready;

static void pending_connects_init(void)
{
    if (pending_connects_ready)
        return;
    for (int i = 0; i < WASOCK_PENDING_CONNECTS; i++)
        pending_connects[i].fd = -1;
    pending_connects_ready = 1;
}

void __wasock_pending_connect_set(int fd, const __wasi_addr_t *addr)
{
    pending_connects_init();
    int free_slot = -1;
    for (int i = 0; i < WASOCK_PENDING_CONNECTS; i++) {
        if (pending_connects[i].fd == fd) {
            pending_connects[i].addr = *addr;
            return;
        }
        if (pending_connects[i].fd == -1 && free_slot == -1)
            free_slot = i;
    }
    /* With more than 64 connects in flight, SO_ERROR of the extra ones reads 0: it cannot
     * learn their outcome, which is what a plain library without this table would do. */
    if (free_slot != -1) {
        pending_connects[free_slot].fd = fd;
        pending_connects[free_slot].addr = *addr;
    }
}

int __wasock_pending_connect_get(int fd, __wasi_addr_t *addr)
{
    pending_connects_init();
    for (int i = 0; i < WASOCK_PENDING_CONNECTS; i++) {
        if (pending_connects[i].fd == fd) {
            *addr = pending_connects[i].addr;
            return 1;
        }
    }
    return 0;
}

void __wasock_pending_connect_clear(int fd)
{
    pending_connects_init();
    for (int i = 0; i < WASOCK_PENDING_CONNECTS; i++) {
        if (pending_connects[i].fd == fd)
            pending_connects[i].fd = -1;
    }
}

/* ---- the POSIX functions ---- */

int socket(int domain, int type, int protocol)
{
    int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
    int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    __wasi_address_family_t af;
    __wasi_sock_type_t socktype;

    if (domain == AF_INET)
        af = __WASI_ADDRESS_FAMILY_INET4;
    else if (domain == AF_INET6)
        af = __WASI_ADDRESS_FAMILY_INET6;
    else
        return wasock_fail(EAFNOSUPPORT);

    if (kind == SOCK_STREAM) {
        if (protocol != 0 && protocol != IPPROTO_TCP)
            return wasock_fail(EPROTONOSUPPORT);
        socktype = __WASI_SOCK_TYPE_SOCKET_STREAM;
    } else if (kind == SOCK_DGRAM) {
        if (protocol != 0 && protocol != IPPROTO_UDP)
            return wasock_fail(EPROTONOSUPPORT);
        socktype = __WASI_SOCK_TYPE_SOCKET_DGRAM;
    } else {
        return wasock_fail(EPROTOTYPE);
    }

    /* The pool fd is ignored by every host; WAMR's lib-socket passes -1 too. */
    __wasi_fd_t fd = 0;
    __wasi_errno_t err = __wasi_sock_open((__wasi_fd_t)-1, af, socktype, &fd);
    if (err != 0)
        return wasock_fail(err);
    __wasock_pending_connect_clear((int)fd);

    /* SOCK_CLOEXEC needs nothing: WASI has no exec. */
    if (flags & SOCK_NONBLOCK) {
        err = __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK);
        if (err != 0) {
            close((int)fd);
            return wasock_fail(err);
        }
    }
    return (int)fd;
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    __wasi_addr_t addr;
    int err = __wasock_sockaddr_to_wasi(sa, len, &addr);
    if (err != 0)
        return wasock_fail(err);
    err = __wasi_sock_bind((__wasi_fd_t)fd, &addr);
    if (err != 0)
        return wasock_fail(err);
    return 0;
}

int listen(int fd, int backlog)
{
    /* A negative backlog reaches the OS as the same int, which caps it at SOMAXCONN. */
    __wasi_errno_t err = __wasi_sock_listen((__wasi_fd_t)fd, (__wasi_size_t)backlog);
    if (err != 0)
        return wasock_fail(err);
    return 0;
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    __wasi_addr_t addr;
    int err = __wasock_sockaddr_to_wasi(sa, len, &addr);
    if (err != 0)
        return wasock_fail(err);
    __wasock_pending_connect_clear(fd);
    err = __wasi_sock_connect((__wasi_fd_t)fd, &addr);
    if (err == EINPROGRESS)
        __wasock_pending_connect_set(fd, &addr);
    if (err != 0)
        return wasock_fail(err);
    return 0;
}

WASOCK_WEAK int accept4(int fd, struct sockaddr *__restrict sa, socklen_t *__restrict len,
                        int flags)
{
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return wasock_fail(EINVAL);
    if (sa != NULL && len == NULL)
        return wasock_fail(EFAULT);

    __wasi_fd_t new_fd = 0;
    __wasi_fdflags_t fdflags = (flags & SOCK_NONBLOCK) ? __WASI_FDFLAGS_NONBLOCK : 0;
    __wasi_errno_t err = __wasi_sock_accept((__wasi_fd_t)fd, fdflags, &new_fd);
    if (err != 0)
        return wasock_fail(err);
    __wasock_pending_connect_clear((int)new_fd);

    if (flags & SOCK_NONBLOCK) {
        /* WAMR ignores sock_accept's flags (spec section 6.6): check and set it ourselves. */
        __wasi_fdstat_t stat;
        err = __wasi_fd_fdstat_get(new_fd, &stat);
        if (err == 0 && !(stat.fs_flags & __WASI_FDFLAGS_NONBLOCK))
            err = __wasi_fd_fdstat_set_flags(new_fd, stat.fs_flags | __WASI_FDFLAGS_NONBLOCK);
        if (err != 0) {
            close((int)new_fd);
            return wasock_fail(err);
        }
    }

    if (sa != NULL) {
        __wasi_addr_t peer;
        err = __wasi_sock_addr_remote(new_fd, &peer);
        if (err == 0)
            err = __wasock_copy_sockaddr_out(&peer, sa, len);
        if (err != 0) {
            /* The peer went away between accept and getpeername: report it as the aborted
             * connection it is, without leaking the descriptor. */
            close((int)new_fd);
            return wasock_fail(err == ENOTCONN ? ECONNABORTED : err);
        }
    }
    return (int)new_fd;
}

WASOCK_WEAK int accept(int fd, struct sockaddr *__restrict sa, socklen_t *__restrict len)
{
    return accept4(fd, sa, len, 0);
}

int getsockname(int fd, struct sockaddr *__restrict sa, socklen_t *__restrict len)
{
    if (sa == NULL || len == NULL)
        return wasock_fail(EFAULT);
    __wasi_addr_t addr = {0}; /* zeroed: the host may leave the padding alone */
    int err = __wasi_sock_addr_local((__wasi_fd_t)fd, &addr);
    if (err == 0)
        err = __wasock_copy_sockaddr_out(&addr, sa, len);
    if (err != 0)
        return wasock_fail(err);
    return 0;
}

int getpeername(int fd, struct sockaddr *__restrict sa, socklen_t *__restrict len)
{
    if (sa == NULL || len == NULL)
        return wasock_fail(EFAULT);
    __wasi_addr_t addr = {0}; /* zeroed: the host may leave the padding alone */
    int err = __wasi_sock_addr_remote((__wasi_fd_t)fd, &addr);
    if (err == 0)
        err = __wasock_copy_sockaddr_out(&addr, sa, len);
    if (err != 0)
        return wasock_fail(err);
    return 0;
}
