/* setsockopt and getsockopt over the extension's per-option imports (spec section 4).
 *
 * Differences from WAMR's lib-socket, on purpose:
 *   - lengths are checked and answered with EINVAL, never assert()ed;
 *   - boolean and TTL values are read as a full int and written back as a full int (the host
 *     getters store one byte into a local here), and getsockopt sets *optlen;
 *   - unknown levels and options give ENOPROTOOPT, as POSIX and Linux do (WAMR: ENOTSUP);
 *   - SO_ERROR is supported (see so_error below). */

#include <limits.h>
#include <string.h>

#include "internal.h"

/* ---- reading option values ---- */

static int read_int(const void *optval, socklen_t optlen, int *value)
{
    if (optval == NULL)
        return EFAULT;
    if (optlen < sizeof(int))
        return EINVAL;
    memcpy(value, optval, sizeof(int));
    return 0;
}

/* IPPROTO_IP options also take a single unsigned char, as on Linux and the BSDs. */
static int read_int_or_byte(const void *optval, socklen_t optlen, int *value)
{
    if (optval == NULL)
        return EFAULT;
    if (optlen >= sizeof(int)) {
        memcpy(value, optval, sizeof(int));
        return 0;
    }
    if (optlen >= 1) {
        *value = *(const unsigned char *)optval;
        return 0;
    }
    return EINVAL;
}

/* ---- writing option values ---- */

static int write_int(void *optval, socklen_t *optlen, int value)
{
    if (*optlen < sizeof(int))
        return EINVAL;
    memcpy(optval, &value, sizeof(int));
    *optlen = sizeof(int);
    return 0;
}

static int write_int_or_byte(void *optval, socklen_t *optlen, int value)
{
    if (*optlen >= sizeof(int))
        return write_int(optval, optlen, value);
    if (*optlen >= 1) {
        *(unsigned char *)optval = (unsigned char)value;
        *optlen = 1;
        return 0;
    }
    return EINVAL;
}

/* ---- SO_ERROR ----
 *
 * The extension has no import for SO_ERROR. What a program needs it for is the outcome of a
 * non-blocking connect() once poll() reports the socket writable. connect() remembers the
 * destination when it returns EINPROGRESS; here:
 *   - if the socket has a peer (sock_addr_remote succeeds), the connect worked: 0;
 *   - otherwise, if a connect is pending, connect() is called again, the classic portable
 *     substitute for SO_ERROR (Stevens, UNP 16.4): EALREADY/EINPROGRESS mean "still going"
 *     (0), EISCONN or success mean connected (0), and any other errno is the connect's
 *     error (ECONNREFUSED, ETIMEDOUT, ...), reported once, as SO_ERROR is cleared by reading;
 *   - otherwise 0: there is no pending error the host could tell us about (asynchronous
 *     errors of connected sockets show up on the next send/recv instead). */
static int so_error(int fd, int *value)
{
    __wasi_addr_t peer;
    __wasi_errno_t err = __wasi_sock_addr_remote((__wasi_fd_t)fd, &peer);
    if (err == 0) {
        __wasock_pending_connect_clear(fd);
        *value = 0;
        return 0;
    }
    if (err != ENOTCONN)
        return err; /* EBADF, ENOTSOCK, ...: getsockopt itself fails */

    __wasi_addr_t dest;
    if (!__wasock_pending_connect_get(fd, &dest)) {
        *value = 0;
        return 0;
    }
    err = __wasi_sock_connect((__wasi_fd_t)fd, &dest);
    if (err == EALREADY || err == EINPROGRESS) {
        *value = 0;
        return 0;
    }
    __wasock_pending_connect_clear(fd);
    *value = (err == 0 || err == EISCONN) ? 0 : err;
    return 0;
}

/* ---- setsockopt ---- */

static int set_timeout(int fd, int optname, const void *optval, socklen_t optlen)
{
    struct timeval tv;
    if (optval == NULL)
        return EFAULT;
    if (optlen < sizeof(tv))
        return EINVAL;
    memcpy(&tv, optval, sizeof(tv));
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return EDOM;
    uint64_t us;
    if ((uint64_t)tv.tv_sec > (UINT64_MAX - (uint64_t)tv.tv_usec) / 1000000u)
        us = UINT64_MAX; /* effectively forever */
    else
        us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
    /* 0 means "no timeout", as for the timeval. */
    return optname == SO_RCVTIMEO ? __wasi_sock_set_recv_timeout((__wasi_fd_t)fd, us)
                                  : __wasi_sock_set_send_timeout((__wasi_fd_t)fd, us);
}

static int set_socket_level(int fd, int optname, const void *optval, socklen_t optlen)
{
    __wasi_fd_t wfd = (__wasi_fd_t)fd;
    int v = 0;
    int err;
    switch (optname) {
    case SO_RCVTIMEO:
    case SO_SNDTIMEO:
        return set_timeout(fd, optname, optval, optlen);
    case SO_SNDBUF:
    case SO_RCVBUF:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        if (v < 0)
            return EINVAL;
        return optname == SO_SNDBUF ? __wasi_sock_set_send_buf_size(wfd, (__wasi_size_t)v)
                                    : __wasi_sock_set_recv_buf_size(wfd, (__wasi_size_t)v);
    case SO_KEEPALIVE:
    case SO_REUSEADDR:
    case SO_REUSEPORT:
    case SO_BROADCAST:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        v = v != 0; /* the host reads a C bool: only 0 and 1 are safe */
        switch (optname) {
        case SO_KEEPALIVE:
            return __wasi_sock_set_keep_alive(wfd, v);
        case SO_REUSEADDR:
            return __wasi_sock_set_reuse_addr(wfd, v);
        case SO_REUSEPORT:
            return __wasi_sock_set_reuse_port(wfd, v);
        default:
            return __wasi_sock_set_broadcast(wfd, v);
        }
    case SO_LINGER: {
        struct linger l;
        if (optval == NULL)
            return EFAULT;
        if (optlen < sizeof(l))
            return EINVAL;
        memcpy(&l, optval, sizeof(l));
        return __wasi_sock_set_linger(wfd, l.l_onoff != 0, l.l_linger);
    }
    default:
        return ENOPROTOOPT; /* includes the read-only SO_TYPE and SO_ERROR */
    }
}

static int set_tcp_level(int fd, int optname, const void *optval, socklen_t optlen)
{
    __wasi_fd_t wfd = (__wasi_fd_t)fd;
    int v = 0;
    int err;
    switch (optname) {
    case TCP_NODELAY:
    case TCP_QUICKACK:
    case TCP_FASTOPEN_CONNECT:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        v = v != 0;
        if (optname == TCP_NODELAY)
            return __wasi_sock_set_tcp_no_delay(wfd, v);
        if (optname == TCP_QUICKACK)
            return __wasi_sock_set_tcp_quick_ack(wfd, v);
        return __wasi_sock_set_tcp_fastopen_connect(wfd, v);
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        if (v < 1)
            return EINVAL; /* Linux: 1 to 32767 seconds */
        return optname == TCP_KEEPIDLE ? __wasi_sock_set_tcp_keep_idle(wfd, (uint32_t)v)
                                       : __wasi_sock_set_tcp_keep_intvl(wfd, (uint32_t)v);
    default:
        return ENOPROTOOPT;
    }
}

static int set_membership(int fd, int optname, const void *optval, socklen_t optlen)
{
    struct ip_mreq mreq;
    if (optval == NULL)
        return EFAULT;
    if (optlen < sizeof(mreq)) /* a struct ip_mreqn starts the same way and is accepted */
        return EINVAL;
    memcpy(&mreq, optval, sizeof(mreq));
    __wasi_addr_ip_t group;
    memset(&group, 0, sizeof(group));
    const uint8_t *octets = (const uint8_t *)&mreq.imr_multiaddr.s_addr;
    group.kind = __WASI_ADDR_TYPE_IPV4;
    group.addr.ip4.n0 = octets[0];
    group.addr.ip4.n1 = octets[1];
    group.addr.ip4.n2 = octets[2];
    group.addr.ip4.n3 = octets[3];
    /* The host takes the interface as the raw s_addr (network-order bytes). */
    uint32_t interface = mreq.imr_interface.s_addr;
    return optname == IP_ADD_MEMBERSHIP
               ? __wasi_sock_set_ip_add_membership((__wasi_fd_t)fd, &group, interface)
               : __wasi_sock_set_ip_drop_membership((__wasi_fd_t)fd, &group, interface);
}

static int set_ip_level(int fd, int optname, const void *optval, socklen_t optlen)
{
    __wasi_fd_t wfd = (__wasi_fd_t)fd;
    int v = 0;
    int err;
    switch (optname) {
    case IP_TTL:
        if ((err = read_int_or_byte(optval, optlen, &v)) != 0)
            return err;
        /* Linux also takes -1 ("system default"); the import cannot express it. */
        if (v < 1 || v > 255)
            return EINVAL;
        return __wasi_sock_set_ip_ttl(wfd, v);
    case IP_MULTICAST_TTL:
        if ((err = read_int_or_byte(optval, optlen, &v)) != 0)
            return err;
        if (v == -1)
            v = 1; /* Linux: -1 selects the default multicast TTL, 1 */
        if (v < 0 || v > 255)
            return EINVAL;
        return __wasi_sock_set_ip_multicast_ttl(wfd, v);
    case IP_MULTICAST_LOOP:
        if ((err = read_int_or_byte(optval, optlen, &v)) != 0)
            return err;
        return __wasi_sock_set_ip_multicast_loop(wfd, 0, v != 0);
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP:
        return set_membership(fd, optname, optval, optlen);
    default:
        return ENOPROTOOPT; /* includes IP_MULTICAST_IF: no import chooses the interface */
    }
}

static int set_ipv6_membership(int fd, int optname, const void *optval, socklen_t optlen)
{
    struct ipv6_mreq mreq;
    if (optval == NULL)
        return EFAULT;
    if (optlen < sizeof(mreq))
        return EINVAL;
    memcpy(&mreq, optval, sizeof(mreq));
    const uint8_t *b = mreq.ipv6mr_multiaddr.s6_addr;
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint16_t)((b[2 * i] << 8) | b[2 * i + 1]);
    __wasi_addr_ip_t group;
    memset(&group, 0, sizeof(group));
    group.kind = __WASI_ADDR_TYPE_IPV6;
    group.addr.ip6.n0 = g[0];
    group.addr.ip6.n1 = g[1];
    group.addr.ip6.n2 = g[2];
    group.addr.ip6.n3 = g[3];
    group.addr.ip6.h0 = g[4];
    group.addr.ip6.h1 = g[5];
    group.addr.ip6.h2 = g[6];
    group.addr.ip6.h3 = g[7];
    return optname == IPV6_JOIN_GROUP
               ? __wasi_sock_set_ip_add_membership((__wasi_fd_t)fd, &group,
                                                   mreq.ipv6mr_interface)
               : __wasi_sock_set_ip_drop_membership((__wasi_fd_t)fd, &group,
                                                    mreq.ipv6mr_interface);
}

static int set_ipv6_level(int fd, int optname, const void *optval, socklen_t optlen)
{
    __wasi_fd_t wfd = (__wasi_fd_t)fd;
    int v = 0;
    int err;
    switch (optname) {
    case IPV6_V6ONLY:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        return __wasi_sock_set_ipv6_only(wfd, v != 0);
    case IPV6_MULTICAST_LOOP:
        if ((err = read_int(optval, optlen, &v)) != 0)
            return err;
        if (v != 0 && v != 1)
            return EINVAL; /* as Linux */
        return __wasi_sock_set_ip_multicast_loop(wfd, 1, v);
    case IPV6_JOIN_GROUP:
    case IPV6_LEAVE_GROUP:
        return set_ipv6_membership(fd, optname, optval, optlen);
    default:
        return ENOPROTOOPT;
    }
}

int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
    int err;
    switch (level) {
    case SOL_SOCKET:
        err = set_socket_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_TCP:
        err = set_tcp_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_IP:
        err = set_ip_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_IPV6:
        err = set_ipv6_level(fd, optname, optval, optlen);
        break;
    default:
        err = ENOPROTOOPT;
        break;
    }
    if (err != 0)
        return wasock_fail(err);
    return 0;
}

/* ---- getsockopt ---- */

/* Getters of booleans and TTLs store one byte. */
typedef __wasi_errno_t (*byte_getter)(__wasi_fd_t, uint8_t *);

static int get_byte_as_int(int fd, byte_getter get, int as_bool, void *optval,
                           socklen_t *optlen, int allow_byte)
{
    if (*optlen < (allow_byte ? 1u : sizeof(int)))
        return EINVAL;
    uint8_t b = 0;
    __wasi_errno_t err = get((__wasi_fd_t)fd, &b);
    if (err != 0)
        return err;
    int v = as_bool ? (b != 0) : b;
    return allow_byte ? write_int_or_byte(optval, optlen, v) : write_int(optval, optlen, v);
}

/* WAMR stores a size_t (8 bytes on a 64-bit host) through the 4-byte pointer of the buffer
 * size getters: give it 8 bytes so the extra write stays inside our own variable. */
typedef union {
    __wasi_size_t value;
    uint64_t room;
} buf_size_slot;

static int get_socket_level(int fd, int optname, void *optval, socklen_t *optlen)
{
    __wasi_fd_t wfd = (__wasi_fd_t)fd;
    __wasi_errno_t err;
    switch (optname) {
    case SO_RCVTIMEO:
    case SO_SNDTIMEO: {
        if (*optlen < sizeof(struct timeval))
            return EINVAL;
        uint64_t us = 0;
        err = optname == SO_RCVTIMEO ? __wasi_sock_get_recv_timeout(wfd, &us)
                                     : __wasi_sock_get_send_timeout(wfd, &us);
        if (err != 0)
            return err;
        struct timeval tv;
        memset(&tv, 0, sizeof(tv));
        tv.tv_sec = (time_t)(us / 1000000u);
        tv.tv_usec = (suseconds_t)(us % 1000000u);
        memcpy(optval, &tv, sizeof(tv));
        *optlen = sizeof(tv);
        return 0;
    }
    case SO_SNDBUF:
    case SO_RCVBUF: {
        if (*optlen < sizeof(int))
            return EINVAL;
        buf_size_slot slot;
        slot.room = 0;
        err = optname == SO_SNDBUF ? __wasi_sock_get_send_buf_size(wfd, &slot.value)
                                   : __wasi_sock_get_recv_buf_size(wfd, &slot.value);
        if (err != 0)
            return err;
        return write_int(optval, optlen, slot.value > INT_MAX ? INT_MAX : (int)slot.value);
    }
    case SO_KEEPALIVE:
        return get_byte_as_int(fd, __wasi_sock_get_keep_alive, 1, optval, optlen, 0);
    case SO_REUSEADDR:
        return get_byte_as_int(fd, __wasi_sock_get_reuse_addr, 1, optval, optlen, 0);
    case SO_REUSEPORT:
        return get_byte_as_int(fd, __wasi_sock_get_reuse_port, 1, optval, optlen, 0);
    case SO_BROADCAST:
        return get_byte_as_int(fd, __wasi_sock_get_broadcast, 1, optval, optlen, 0);
    case SO_LINGER: {
        if (*optlen < sizeof(struct linger))
            return EINVAL;
        uint8_t on = 0;
        int32_t seconds = 0;
        err = __wasi_sock_get_linger(wfd, &on, &seconds);
        if (err != 0)
            return err;
        struct linger l = { .l_onoff = on != 0, .l_linger = seconds };
        memcpy(optval, &l, sizeof(l));
        *optlen = sizeof(l);
        return 0;
    }
    case SO_TYPE: {
        if (*optlen < sizeof(int))
            return EINVAL;
        __wasi_fdstat_t stat;
        err = __wasi_fd_fdstat_get(wfd, &stat);
        if (err != 0)
            return err;
        if (stat.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
            return write_int(optval, optlen, SOCK_STREAM);
        if (stat.fs_filetype == __WASI_FILETYPE_SOCKET_DGRAM)
            return write_int(optval, optlen, SOCK_DGRAM);
        return ENOTSOCK;
    }
    case SO_ERROR: {
        if (*optlen < sizeof(int))
            return EINVAL;
        int v = 0;
        int e = so_error(fd, &v);
        if (e != 0)
            return e;
        return write_int(optval, optlen, v);
    }
    default:
        return ENOPROTOOPT;
    }
}

static int get_u32_as_int(int fd, __wasi_errno_t (*get)(__wasi_fd_t, uint32_t *), void *optval,
                          socklen_t *optlen)
{
    if (*optlen < sizeof(int))
        return EINVAL;
    uint32_t v = 0;
    __wasi_errno_t err = get((__wasi_fd_t)fd, &v);
    if (err != 0)
        return err;
    return write_int(optval, optlen, v > INT_MAX ? INT_MAX : (int)v);
}

static int get_tcp_level(int fd, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case TCP_NODELAY:
        return get_byte_as_int(fd, __wasi_sock_get_tcp_no_delay, 1, optval, optlen, 0);
    case TCP_QUICKACK:
        return get_byte_as_int(fd, __wasi_sock_get_tcp_quick_ack, 1, optval, optlen, 0);
    case TCP_FASTOPEN_CONNECT:
        return get_byte_as_int(fd, __wasi_sock_get_tcp_fastopen_connect, 1, optval, optlen, 0);
    case TCP_KEEPIDLE:
        return get_u32_as_int(fd, __wasi_sock_get_tcp_keep_idle, optval, optlen);
    case TCP_KEEPINTVL:
        return get_u32_as_int(fd, __wasi_sock_get_tcp_keep_intvl, optval, optlen);
    default:
        return ENOPROTOOPT;
    }
}

static int get_multicast_loop(int fd, int ipv6, void *optval, socklen_t *optlen)
{
    if (*optlen < (ipv6 ? sizeof(int) : 1u))
        return EINVAL;
    uint8_t on = 0;
    __wasi_errno_t err = __wasi_sock_get_ip_multicast_loop((__wasi_fd_t)fd, ipv6, &on);
    if (err != 0)
        return err;
    return ipv6 ? write_int(optval, optlen, on != 0) : write_int_or_byte(optval, optlen, on != 0);
}

static int get_ip_level(int fd, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case IP_TTL:
        return get_byte_as_int(fd, __wasi_sock_get_ip_ttl, 0, optval, optlen, 1);
    case IP_MULTICAST_TTL:
        return get_byte_as_int(fd, __wasi_sock_get_ip_multicast_ttl, 0, optval, optlen, 1);
    case IP_MULTICAST_LOOP:
        return get_multicast_loop(fd, 0, optval, optlen);
    default:
        return ENOPROTOOPT; /* memberships are set-only; IP_MULTICAST_IF is unsupported */
    }
}

static int get_ipv6_level(int fd, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case IPV6_V6ONLY:
        return get_byte_as_int(fd, __wasi_sock_get_ipv6_only, 1, optval, optlen, 0);
    case IPV6_MULTICAST_LOOP:
        return get_multicast_loop(fd, 1, optval, optlen);
    default:
        return ENOPROTOOPT;
    }
}

WASOCK_WEAK int getsockopt(int fd, int level, int optname, void *__restrict optval,
                           socklen_t *__restrict optlen)
{
    if (optval == NULL || optlen == NULL)
        return wasock_fail(EFAULT);
    int err;
    switch (level) {
    case SOL_SOCKET:
        err = get_socket_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_TCP:
        err = get_tcp_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_IP:
        err = get_ip_level(fd, optname, optval, optlen);
        break;
    case IPPROTO_IPV6:
        err = get_ipv6_level(fd, optname, optval, optlen);
        break;
    default:
        err = ENOPROTOOPT;
        break;
    }
    if (err != 0)
        return wasock_fail(err);
    return 0;
}
