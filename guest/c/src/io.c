/* Data transfer: send, recv, sendto, recvfrom, sendmsg, recvmsg.
 *
 * Host facts this code works around (docs/wamr-socket-abi.md sections 3.1 and 11):
 *   - sock_send/sock_recv* reject a total length of 0 with EINVAL;
 *   - WAMR ignores riflags (PEEK, WAITALL) and never writes roflags;
 *   - sock_recv_from reports `::` port 0 when the OS gives no peer address (TCP);
 *   - only sock_recv has roflags, so MSG_TRUNC can only be reported without an address. */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Hidden by <limits.h> in strict ISO C modes. */
#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* wasi-libc does the same cast in readv/writev: the layouts are identical on wasm32. */
_Static_assert(sizeof(struct iovec) == sizeof(__wasi_iovec_t), "iovec layout");
_Static_assert(offsetof(struct iovec, iov_base) == offsetof(__wasi_iovec_t, buf), "iovec layout");
_Static_assert(offsetof(struct iovec, iov_len) == offsetof(__wasi_iovec_t, buf_len), "iovec layout");

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)
#define RECV_FLAGS (MSG_PEEK | MSG_WAITALL | MSG_DONTWAIT)

int __wasock_dontwait_begin(int fd, int flags, wasock_dontwait *state)
{
    state->active = 0;
    if (!(flags & MSG_DONTWAIT))
        return 0;
    __wasi_fdstat_t stat;
    __wasi_errno_t err = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &stat);
    if (err != 0)
        return err;
    if (stat.fs_flags & __WASI_FDFLAGS_NONBLOCK)
        return 0;
    err = __wasi_fd_fdstat_set_flags((__wasi_fd_t)fd, stat.fs_flags | __WASI_FDFLAGS_NONBLOCK);
    if (err != 0)
        return err;
    state->active = 1;
    state->saved = stat.fs_flags;
    return 0;
}

void __wasock_dontwait_end(int fd, wasock_dontwait *state)
{
    if (state->active)
        (void)__wasi_fd_fdstat_set_flags((__wasi_fd_t)fd, state->saved);
}

/* 1 for a stream socket, 0 for anything else, an errno (negated) on failure. */
static int is_stream(int fd)
{
    __wasi_fdstat_t stat;
    __wasi_errno_t err = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &stat);
    if (err != 0)
        return -(int)err;
    return stat.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM;
}

/* Sums iovec lengths; EINVAL when the sum does not fit a ssize_t (POSIX). */
static int iov_total(const struct iovec *iov, int count, size_t *total)
{
    size_t sum = 0;
    for (int i = 0; i < count; i++) {
        if (iov[i].iov_len > (size_t)SSIZE_MAX - sum)
            return EINVAL;
        sum += iov[i].iov_len;
    }
    *total = sum;
    return 0;
}

static int check_msghdr(const struct msghdr *msg)
{
    if (msg == NULL)
        return EFAULT;
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > IOV_MAX)
        return EMSGSIZE;
    if (msg->msg_iovlen > 0 && msg->msg_iov == NULL)
        return EFAULT;
    return 0;
}

static ssize_t send_iov(int fd, const struct iovec *iov, int count, size_t total, int flags,
                        const __wasi_addr_t *dest)
{
    if (flags & ~SEND_FLAGS)
        return wasock_fail(EOPNOTSUPP);
    if (total == 0) {
        /* Sending nothing on a stream is a successful no-op; the host would say EINVAL.
         * Empty datagrams are left to the host (WAMR cannot send them). */
        int stream = is_stream(fd);
        if (stream < 0)
            return wasock_fail(-stream);
        if (stream)
            return 0;
    }

    /* MSG_NOSIGNAL needs nothing: wasock never raises SIGPIPE (a send to a reset peer gives
     * EPIPE). WAMR's iwasm has no such protection and dies of SIGPIPE. */
    wasock_dontwait dontwait;
    __wasi_errno_t err = __wasock_dontwait_begin(fd, flags, &dontwait);
    if (err != 0)
        return wasock_fail(err);
    __wasi_size_t sent = 0;
    const __wasi_ciovec_t *ciov = (const __wasi_ciovec_t *)iov;
    if (dest != NULL)
        err = __wasi_sock_send_to((__wasi_fd_t)fd, ciov, (__wasi_size_t)count, 0, dest, &sent);
    else
        err = __wasi_sock_send((__wasi_fd_t)fd, ciov, (size_t)count, 0, &sent);
    __wasock_dontwait_end(fd, &dontwait);
    if (err != 0)
        return wasock_fail(err);
    return (ssize_t)sent;
}

/* One host receive. `from` non-NULL selects sock_recv_from. */
static __wasi_errno_t recv_once(int fd, const __wasi_iovec_t *iov, int count,
                                __wasi_riflags_t riflags, __wasi_addr_t *from, size_t *got,
                                __wasi_roflags_t *roflags)
{
    __wasi_size_t n = 0;
    __wasi_errno_t err;
    *roflags = 0; /* WAMR never writes it */
    if (from != NULL)
        err = __wasi_sock_recv_from((__wasi_fd_t)fd, iov, (__wasi_size_t)count, riflags, from, &n);
    else
        err = __wasi_sock_recv((__wasi_fd_t)fd, iov, (size_t)count, riflags, &n, roflags);
    *got = err != 0 ? 0 : n;
    return err;
}

/* Receives into iov. `from` (optional) gets the source address, or "no address" (`::` port
 * 0) when there is none; `out_flags` (optional) gets MSG_TRUNC. */
static ssize_t recv_iov(int fd, const struct iovec *iov, int count, size_t total, int flags,
                        __wasi_addr_t *from, int *out_flags)
{
    if (out_flags != NULL)
        *out_flags = 0;
    if (from != NULL) {
        memset(from, 0, sizeof(*from));
        from->kind = __WASI_ADDR_TYPE_IPV6;
    }
    if (flags & ~RECV_FLAGS)
        return wasock_fail(EOPNOTSUPP);
    if (total == 0)
        return 0; /* POSIX: nothing asked, nothing read; the host would say EINVAL */

    __wasi_riflags_t riflags = 0;
    if (flags & MSG_PEEK)
        riflags |= __WASI_RIFLAGS_RECV_PEEK;
    if (flags & MSG_WAITALL)
        riflags |= __WASI_RIFLAGS_RECV_WAITALL;

    /* WAMR ignores WAITALL, so loop here; only on streams (a datagram is one message) and
     * not with PEEK (peeking twice would return the same bytes). */
    int wait_all = 0;
    if ((flags & MSG_WAITALL) && !(flags & MSG_PEEK)) {
        int stream = is_stream(fd);
        if (stream < 0)
            return wasock_fail(-stream);
        wait_all = stream;
    }

    wasock_dontwait dontwait;
    __wasi_errno_t err = __wasock_dontwait_begin(fd, flags, &dontwait);
    if (err != 0)
        return wasock_fail(err);

    size_t got = 0;
    __wasi_roflags_t roflags = 0;
    err = recv_once(fd, (const __wasi_iovec_t *)iov, count, riflags, from, &got, &roflags);

    if (err == 0 && wait_all && got > 0 && got < total) {
        /* Continue into the rest of the buffers with a private copy of the iovec array. */
        struct iovec *rest = malloc(sizeof(struct iovec) * (size_t)count);
        if (rest == NULL) {
            err = ENOMEM;
        } else {
            size_t done = got;
            while (done < total) {
                /* Skip the buffers (and the part of one) that are already full. */
                memcpy(rest, iov, sizeof(struct iovec) * (size_t)count);
                size_t skip = done;
                int first = 0;
                while (skip >= rest[first].iov_len) {
                    skip -= rest[first].iov_len;
                    first++;
                }
                rest[first].iov_base = (char *)rest[first].iov_base + skip;
                rest[first].iov_len -= skip;
                size_t more = 0;
                __wasi_roflags_t more_flags = 0;
                __wasi_errno_t more_err =
                    recv_once(fd, (const __wasi_iovec_t *)&rest[first], count - first, riflags,
                              NULL, &more, &more_flags);
                if (more_err != 0 || more == 0)
                    break; /* error or end of stream: return what arrived (POSIX) */
                done += more;
            }
            got = done;
            free(rest);
        }
    }
    __wasock_dontwait_end(fd, &dontwait);

    if (err != 0 && got == 0)
        return wasock_fail(err);
    if (out_flags != NULL && (roflags & __WASI_ROFLAGS_RECV_DATA_TRUNCATED))
        *out_flags |= MSG_TRUNC;
    return (ssize_t)got;
}

/* Writes the address of a received message: length 0 when there is none (stream sockets). */
static int store_source(const __wasi_addr_t *from, struct sockaddr *sa, socklen_t *len)
{
    if (__wasock_is_no_address(from)) {
        *len = 0;
        return 0;
    }
    return __wasock_copy_sockaddr_out(from, sa, len);
}

WASOCK_WEAK ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    return send_iov(fd, &iov, 1, len, flags, NULL);
}

WASOCK_WEAK ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    return recv_iov(fd, &iov, 1, len, flags, NULL, NULL);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
               socklen_t salen)
{
    if (sa == NULL)
        return send(fd, buf, len, flags);
    __wasi_addr_t dest;
    int err = __wasock_sockaddr_to_wasi(sa, salen, &dest);
    if (err != 0)
        return wasock_fail(err);
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    return send_iov(fd, &iov, 1, len, flags, &dest);
}

ssize_t recvfrom(int fd, void *__restrict buf, size_t len, int flags,
                 struct sockaddr *__restrict sa, socklen_t *__restrict salen)
{
    if (sa == NULL)
        return recv(fd, buf, len, flags);
    if (salen == NULL)
        return wasock_fail(EFAULT);
    __wasi_addr_t from;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    ssize_t n = recv_iov(fd, &iov, 1, len, flags, &from, NULL);
    if (n < 0)
        return n;
    int err = store_source(&from, sa, salen);
    if (err != 0)
        return wasock_fail(err);
    return n;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    int err = check_msghdr(msg);
    if (err != 0)
        return wasock_fail(err);
    /* Ancillary data cannot be passed to the host: refuse rather than drop it. */
    if (msg->msg_control != NULL && msg->msg_controllen > 0)
        return wasock_fail(EOPNOTSUPP);
    size_t total;
    err = iov_total(msg->msg_iov, msg->msg_iovlen, &total);
    if (err != 0)
        return wasock_fail(err);

    if (msg->msg_name != NULL && msg->msg_namelen > 0) {
        __wasi_addr_t dest;
        err = __wasock_sockaddr_to_wasi(msg->msg_name, msg->msg_namelen, &dest);
        if (err != 0)
            return wasock_fail(err);
        return send_iov(fd, msg->msg_iov, msg->msg_iovlen, total, flags, &dest);
    }
    return send_iov(fd, msg->msg_iov, msg->msg_iovlen, total, flags, NULL);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    int err = check_msghdr(msg);
    if (err != 0)
        return wasock_fail(err);
    size_t total;
    err = iov_total(msg->msg_iov, msg->msg_iovlen, &total);
    if (err != 0)
        return wasock_fail(err);

    int out_flags = 0;
    ssize_t n;
    if (msg->msg_name != NULL) {
        __wasi_addr_t from;
        n = recv_iov(fd, msg->msg_iov, msg->msg_iovlen, total, flags, &from, &out_flags);
        if (n < 0)
            return n;
        err = store_source(&from, msg->msg_name, &msg->msg_namelen);
        if (err != 0)
            return wasock_fail(err);
    } else {
        n = recv_iov(fd, msg->msg_iov, msg->msg_iovlen, total, flags, NULL, &out_flags);
        if (n < 0)
            return n;
        msg->msg_namelen = 0;
    }
    msg->msg_controllen = 0; /* the host delivers no ancillary data */
    msg->msg_flags = out_flags;
    return n;
}
