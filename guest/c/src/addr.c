/* Conversions between POSIX socket addresses and the extension's __wasi_addr_t.
 *
 * sockaddr fields are in network byte order; every __wasi_addr_t field is a number in host
 * order (docs/wamr-socket-abi.md section 2.3): the IPv4 octets in reading order, the IPv6
 * groups as 16-bit values, the port as a plain number. */

#include <string.h>

#include "internal.h"

/* wasock keeps the scope id (interface index) of an IPv6 address that needs one in the two
 * bytes of tail padding of __wasi_addr_t, as a little-endian u16; WAMR ignores those bytes
 * (and loses scope ids, so link-local addresses do not work there). */
#define SCOPE_OFFSET 22

/* Link-local unicast (fe80::/10) and interface-/link-local multicast (ff01::/16, ff02::/16):
 * the addresses that mean nothing without an interface. */
static int needs_scope(const uint16_t first_group)
{
    return (first_group & 0xffc0) == 0xfe80 || (first_group & 0xff0f) == 0xff01 ||
           (first_group & 0xff0f) == 0xff02;
}

int __wasock_sockaddr_to_wasi(const struct sockaddr *sa, socklen_t len, __wasi_addr_t *out)
{
    if (sa == NULL)
        return EFAULT;
    if (len < sizeof(sa_family_t))
        return EINVAL;
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        if (len < sizeof(struct sockaddr_in))
            return EINVAL;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        const uint8_t *octets = (const uint8_t *)&sin->sin_addr.s_addr;
        out->kind = __WASI_ADDR_TYPE_IPV4;
        out->addr.ip4.addr.n0 = octets[0];
        out->addr.ip4.addr.n1 = octets[1];
        out->addr.ip4.addr.n2 = octets[2];
        out->addr.ip4.addr.n3 = octets[3];
        out->addr.ip4.port = ntohs(sin->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        /* Linux accepts the 24-byte RFC 2133 form without sin6_scope_id; so do we. Flow info
         * cannot be expressed in __wasi_addr_t and is dropped; the scope id goes into the
         * padding (see SCOPE_OFFSET). */
        if (len < offsetof(struct sockaddr_in6, sin6_addr) + sizeof(struct in6_addr))
            return EINVAL;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = sin6->sin6_addr.s6_addr;
        uint16_t g[8];
        for (int i = 0; i < 8; i++)
            g[i] = (uint16_t)((b[2 * i] << 8) | b[2 * i + 1]);
        out->kind = __WASI_ADDR_TYPE_IPV6;
        out->addr.ip6.addr.n0 = g[0];
        out->addr.ip6.addr.n1 = g[1];
        out->addr.ip6.addr.n2 = g[2];
        out->addr.ip6.addr.n3 = g[3];
        out->addr.ip6.addr.h0 = g[4];
        out->addr.ip6.addr.h1 = g[5];
        out->addr.ip6.addr.h2 = g[6];
        out->addr.ip6.addr.h3 = g[7];
        out->addr.ip6.port = ntohs(sin6->sin6_port);
        if (needs_scope(g[0]) && len >= sizeof(struct sockaddr_in6) && sin6->sin6_scope_id <= 0xffff) {
            uint8_t *pad = (uint8_t *)out + SCOPE_OFFSET;
            pad[0] = (uint8_t)sin6->sin6_scope_id;
            pad[1] = (uint8_t)(sin6->sin6_scope_id >> 8);
        }
        return 0;
    }
    return EAFNOSUPPORT;
}

socklen_t __wasock_wasi_to_sockaddr(const __wasi_addr_t *in, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (in->kind == __WASI_ADDR_TYPE_IPV4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        uint8_t *octets = (uint8_t *)&sin->sin_addr.s_addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(in->addr.ip4.port);
        octets[0] = in->addr.ip4.addr.n0;
        octets[1] = in->addr.ip4.addr.n1;
        octets[2] = in->addr.ip4.addr.n2;
        octets[3] = in->addr.ip4.addr.n3;
        return sizeof(struct sockaddr_in);
    }
    if (in->kind == __WASI_ADDR_TYPE_IPV6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        const __wasi_addr_ip6_t *a = &in->addr.ip6.addr;
        const uint16_t g[8] = { a->n0, a->n1, a->n2, a->n3, a->h0, a->h1, a->h2, a->h3 };
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(in->addr.ip6.port);
        for (int i = 0; i < 8; i++) {
            sin6->sin6_addr.s6_addr[2 * i] = (uint8_t)(g[i] >> 8);
            sin6->sin6_addr.s6_addr[2 * i + 1] = (uint8_t)g[i];
        }
        if (needs_scope(g[0])) {
            const uint8_t *pad = (const uint8_t *)in + SCOPE_OFFSET;
            sin6->sin6_scope_id = (uint32_t)pad[0] | ((uint32_t)pad[1] << 8);
        }
        return sizeof(struct sockaddr_in6);
    }
    return 0;
}

int __wasock_copy_sockaddr_out(const __wasi_addr_t *in, struct sockaddr *sa, socklen_t *len)
{
    if (sa == NULL || len == NULL)
        return EFAULT;
    struct sockaddr_storage full;
    socklen_t full_len = __wasock_wasi_to_sockaddr(in, &full);
    if (full_len == 0)
        return EAFNOSUPPORT;
    memcpy(sa, &full, *len < full_len ? *len : full_len);
    *len = full_len;
    return 0;
}

int __wasock_is_no_address(const __wasi_addr_t *addr)
{
    if (addr->kind != __WASI_ADDR_TYPE_IPV6 || addr->addr.ip6.port != 0)
        return 0;
    const __wasi_addr_ip6_t *a = &addr->addr.ip6.addr;
    return (a->n0 | a->n1 | a->n2 | a->n3 | a->h0 | a->h1 | a->h2 | a->h3) == 0;
}
