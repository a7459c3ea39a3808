/* getaddrinfo, freeaddrinfo, gai_strerror, getnameinfo.
 *
 * Only host names go to the host (sock_addr_resolve, subject to --allow-resolve). A NULL
 * node and numeric addresses are handled here without a lookup, as every libc does. Services
 * must be numeric: there is no services database and no import to consult one.
 *
 * Errors of the host lookup become EAI_* codes:
 *   EACCES (name not allowed by --allow-resolve) -> EAI_SYSTEM with errno EACCES, so that
 *       the reason survives (gai_strerror(EAI_SYSTEM) says to look at errno);
 *   EINVAL (WAMR's translation of EAI_NONAME and most other failures) -> EAI_NONAME;
 *   EAGAIN -> EAI_AGAIN; EFAULT (WAMR's translation of EAI_FAIL) -> EAI_FAIL;
 *   ENOMEM -> EAI_MEMORY; anything else -> EAI_SYSTEM with errno set. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define KNOWN_AI_FLAGS                                                                        \
    (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG |      \
     AI_NUMERICSERV)

/* First request size, and a cap so that a host answering a huge *total cannot make us
 * allocate without bound. */
#define RESOLVE_FIRST_CAPACITY 16
#define RESOLVE_MAX_CAPACITY 256
#define RESOLVE_ATTEMPTS 3

/* One allocation per result: the addrinfo and the address it points to. */
struct result {
    struct addrinfo ai;
    struct sockaddr_storage addr;
};

struct request {
    int flags;
    int family;   /* AF_UNSPEC, AF_INET or AF_INET6 */
    int socktype; /* 0, SOCK_STREAM or SOCK_DGRAM */
    uint16_t port;
};

static int parse_hints(const struct addrinfo *hints, struct request *req)
{
    memset(req, 0, sizeof(*req));
    if (hints == NULL)
        return 0;
    if (hints->ai_flags & ~KNOWN_AI_FLAGS)
        return EAI_BADFLAGS;
    req->flags = hints->ai_flags;
    if (hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
        hints->ai_family != AF_INET6)
        return EAI_FAMILY;
    req->family = hints->ai_family;
    if (hints->ai_socktype != 0 && hints->ai_socktype != SOCK_STREAM &&
        hints->ai_socktype != SOCK_DGRAM)
        return EAI_SOCKTYPE;
    req->socktype = hints->ai_socktype;
    switch (hints->ai_protocol) {
    case 0:
        break;
    case IPPROTO_TCP:
        if (req->socktype == SOCK_DGRAM)
            return EAI_SOCKTYPE;
        req->socktype = SOCK_STREAM;
        break;
    case IPPROTO_UDP:
        if (req->socktype == SOCK_STREAM)
            return EAI_SOCKTYPE;
        req->socktype = SOCK_DGRAM;
        break;
    default:
        return EAI_SOCKTYPE;
    }
    return 0;
}

static int parse_service(const char *service, int flags, uint16_t *port)
{
    *port = 0;
    if (service == NULL || service[0] == '\0')
        return 0;
    unsigned long value = 0;
    for (const char *p = service; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return (flags & AI_NUMERICSERV) ? EAI_NONAME : EAI_SERVICE;
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 65535)
            return EAI_SERVICE;
    }
    *port = (uint16_t)value;
    return 0;
}

static void make_ipv4(__wasi_addr_t *out, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(out, 0, sizeof(*out));
    out->kind = __WASI_ADDR_TYPE_IPV4;
    out->addr.ip4.addr.n0 = a;
    out->addr.ip4.addr.n1 = b;
    out->addr.ip4.addr.n2 = c;
    out->addr.ip4.addr.n3 = d;
}

static void make_ipv6(__wasi_addr_t *out, const uint8_t bytes[16])
{
    memset(out, 0, sizeof(*out));
    out->kind = __WASI_ADDR_TYPE_IPV6;
    uint16_t groups[8];
    for (int i = 0; i < 8; i++)
        groups[i] = (uint16_t)((bytes[2 * i] << 8) | bytes[2 * i + 1]);
    out->addr.ip6.addr.n0 = groups[0];
    out->addr.ip6.addr.n1 = groups[1];
    out->addr.ip6.addr.n2 = groups[2];
    out->addr.ip6.addr.n3 = groups[3];
    out->addr.ip6.addr.h0 = groups[4];
    out->addr.ip6.addr.h1 = groups[5];
    out->addr.ip6.addr.h2 = groups[6];
    out->addr.ip6.addr.h3 = groups[7];
}

static int family_of(const __wasi_addr_t *addr)
{
    return addr->kind == __WASI_ADDR_TYPE_IPV4 ? AF_INET : AF_INET6;
}

/* Appends one result per wanted socket type for `addr`. */
static int append(struct addrinfo ***tail, const __wasi_addr_t *addr, const struct request *req)
{
    static const int both[] = { SOCK_STREAM, SOCK_DGRAM };
    const int *types = both;
    int count = 2;
    if (req->socktype != 0) {
        types = &req->socktype;
        count = 1;
    }
    for (int i = 0; i < count; i++) {
        struct result *r = calloc(1, sizeof(*r));
        if (r == NULL)
            return EAI_MEMORY;
        __wasi_addr_t with_port = *addr;
        if (with_port.kind == __WASI_ADDR_TYPE_IPV4)
            with_port.addr.ip4.port = req->port;
        else
            with_port.addr.ip6.port = req->port;
        r->ai.ai_addrlen = __wasock_wasi_to_sockaddr(&with_port, &r->addr);
        r->ai.ai_addr = (struct sockaddr *)&r->addr;
        r->ai.ai_family = family_of(addr);
        r->ai.ai_socktype = types[i];
        r->ai.ai_protocol = types[i] == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        **tail = &r->ai;
        *tail = &r->ai.ai_next;
    }
    return 0;
}

/* NULL node: the wildcard for AI_PASSIVE (to bind), loopback otherwise (to connect). IPv4
 * first, as musl does. */
static int null_node(struct addrinfo ***tail, const struct request *req)
{
    static const uint8_t any6[16] = { 0 };
    static const uint8_t loopback6[16] = { [15] = 1 };
    int passive = (req->flags & AI_PASSIVE) != 0;
    __wasi_addr_t addr;
    int err;
    if (req->family != AF_INET6) {
        if (passive)
            make_ipv4(&addr, 0, 0, 0, 0);
        else
            make_ipv4(&addr, 127, 0, 0, 1);
        if ((err = append(tail, &addr, req)) != 0)
            return err;
    }
    if (req->family != AF_INET) {
        make_ipv6(&addr, passive ? any6 : loopback6);
        if ((err = append(tail, &addr, req)) != 0)
            return err;
    }
    return 0;
}

/* 1 if node is an address literal (and the result is added), 0 if it is a name, or an
 * EAI_* code. IPv4 takes inet_aton's forms ("127.1" too), as glibc and musl do. */
static int numeric_node(struct addrinfo ***tail, const char *node, const struct request *req)
{
    struct in_addr v4;
    struct in6_addr v6;
    __wasi_addr_t addr;
    if (inet_aton(node, &v4)) {
        const uint8_t *o = (const uint8_t *)&v4.s_addr;
        if (req->family == AF_INET6) {
            if (!(req->flags & AI_V4MAPPED))
                return EAI_NONAME;
            uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };
            memcpy(&mapped[12], o, 4);
            make_ipv6(&addr, mapped);
        } else {
            make_ipv4(&addr, o[0], o[1], o[2], o[3]);
        }
    } else if (inet_pton(AF_INET6, node, &v6) == 1) {
        if (req->family == AF_INET)
            return EAI_NONAME;
        make_ipv6(&addr, v6.s6_addr);
    } else {
        return 0;
    }
    int err = append(tail, &addr, req);
    return err != 0 ? err : 1;
}

static int eai_from_errno(__wasi_errno_t err)
{
    switch (err) {
    case EINVAL:
        return EAI_NONAME;
    case EAGAIN:
        return EAI_AGAIN;
    case EFAULT:
        return EAI_FAIL;
    case ENOMEM:
        return EAI_MEMORY;
    default:
        errno = err;
        return EAI_SYSTEM;
    }
}

static int host_lookup(struct addrinfo ***tail, const char *node, const struct request *req)
{
    /* One entry per address is enough (we add the socket types ourselves), so ask for
     * streams unless the caller wants datagrams only. Every WAMR version understands these
     * hints, unlike the newer SOCKET_ANY. */
    __wasi_addr_info_hints_t hints;
    memset(&hints, 0, sizeof(hints));
    hints.hints_enabled = 1;
    hints.type = req->socktype == SOCK_DGRAM ? __WASI_SOCK_TYPE_SOCKET_DGRAM
                                             : __WASI_SOCK_TYPE_SOCKET_STREAM;
    hints.family = req->family == AF_INET    ? __WASI_ADDRESS_FAMILY_INET4
                   : req->family == AF_INET6 ? __WASI_ADDRESS_FAMILY_INET6
                                             : __WASI_ADDRESS_FAMILY_INET_UNSPEC;

    __wasi_size_t capacity = RESOLVE_FIRST_CAPACITY;
    __wasi_size_t total = 0;
    __wasi_addr_info_t *entries = NULL;
    for (int attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
        __wasi_addr_info_t *bigger = realloc(entries, capacity * sizeof(*entries));
        if (bigger == NULL) {
            free(entries);
            return EAI_MEMORY;
        }
        entries = bigger;
        memset(entries, 0, capacity * sizeof(*entries));
        total = 0;
        __wasi_errno_t err = __wasi_sock_addr_resolve(node, "", &hints, entries, capacity, &total);
        if (err != 0) {
            free(entries);
            return eai_from_errno(err);
        }
        if (total <= capacity || capacity == RESOLVE_MAX_CAPACITY)
            break;
        /* The host truncated silently: ask again with room for everything. */
        capacity = total < RESOLVE_MAX_CAPACITY ? total : RESOLVE_MAX_CAPACITY;
    }
    __wasi_size_t usable = total < capacity ? total : capacity;

    int added = 0;
    int err = 0;
    for (__wasi_size_t i = 0; i < usable && err == 0; i++) {
        const __wasi_addr_t *addr = &entries[i].addr;
        if (addr->kind != __WASI_ADDR_TYPE_IPV4 && addr->kind != __WASI_ADDR_TYPE_IPV6)
            continue;
        if (req->family != AF_UNSPEC && family_of(addr) != req->family)
            continue;
        /* Hosts may list an address once per socket type: keep the first. */
        int duplicate = 0;
        for (__wasi_size_t j = 0; j < i && !duplicate; j++) {
            const __wasi_addr_t *prev = &entries[j].addr;
            if (prev->kind != addr->kind)
                continue;
            if (addr->kind == __WASI_ADDR_TYPE_IPV4)
                duplicate = !memcmp(&prev->addr.ip4.addr, &addr->addr.ip4.addr,
                                    sizeof(addr->addr.ip4.addr));
            else
                duplicate = !memcmp(&prev->addr.ip6.addr, &addr->addr.ip6.addr,
                                    sizeof(addr->addr.ip6.addr));
        }
        if (duplicate)
            continue;
        err = append(tail, addr, req);
        added++;
    }
    free(entries);
    if (err != 0)
        return err;
    return added > 0 ? 0 : EAI_NONAME;
}

void freeaddrinfo(struct addrinfo *res)
{
    while (res != NULL) {
        struct addrinfo *next = res->ai_next;
        free(res->ai_canonname);
        free(res); /* the addrinfo is the first member of its struct result */
        res = next;
    }
}

int getaddrinfo(const char *__restrict node, const char *__restrict service,
                const struct addrinfo *__restrict hints, struct addrinfo **__restrict res)
{
    if (res == NULL) {
        errno = EFAULT;
        return EAI_SYSTEM;
    }
    *res = NULL;

    struct request req;
    int err = parse_hints(hints, &req);
    if (err != 0)
        return err;
    if (node == NULL && service == NULL)
        return EAI_NONAME;
    if (node == NULL && (req.flags & AI_CANONNAME))
        return EAI_BADFLAGS;
    if ((err = parse_service(service, req.flags, &req.port)) != 0)
        return err;

    struct addrinfo *head = NULL;
    struct addrinfo **tail = &head;
    if (node == NULL) {
        err = null_node(&tail, &req);
    } else {
        err = numeric_node(&tail, node, &req);
        if (err == 1)
            err = 0;
        else if (err == 0)
            err = (req.flags & AI_NUMERICHOST) ? EAI_NONAME : host_lookup(&tail, node, &req);
    }
    if (err == 0 && head == NULL)
        err = EAI_NONAME;
    if (err == 0 && (req.flags & AI_CANONNAME)) {
        /* No import returns canonical names; POSIX then allows the node name itself. */
        head->ai_canonname = strdup(node);
        if (head->ai_canonname == NULL)
            err = EAI_MEMORY;
    }
    if (err != 0) {
        freeaddrinfo(head);
        return err;
    }
    *res = head;
    return 0;
}

const char *gai_strerror(int code)
{
    switch (code) {
    case 0:
        return "Success";
    case EAI_BADFLAGS:
        return "Invalid flags";
    case EAI_NONAME:
        return "Name does not resolve";
    case EAI_AGAIN:
        return "Try again";
    case EAI_FAIL:
        return "Non-recoverable error";
    case EAI_FAMILY:
        return "Unrecognized address family or invalid length";
    case EAI_SOCKTYPE:
        return "Unrecognized socket type";
    case EAI_SERVICE:
        return "Unrecognized service";
    case EAI_MEMORY:
        return "Out of memory";
    case EAI_SYSTEM:
        return "System error (see errno)";
    case EAI_OVERFLOW:
        return "Overflow";
    default:
        return "Unknown error";
    }
}

/* Numeric only: no import does reverse lookups, so a host name is always given as its
 * address (what NI_NUMERICHOST asks for), and NI_NAMEREQD fails with EAI_NONAME. */
int getnameinfo(const struct sockaddr *__restrict sa, socklen_t salen, char *__restrict host,
                socklen_t hostlen, char *__restrict serv, socklen_t servlen, int flags)
{
    const void *raw;
    uint16_t port;
    if (sa == NULL || salen < sizeof(sa_family_t))
        return EAI_FAMILY;
    if (sa->sa_family == AF_INET) {
        if (salen < sizeof(struct sockaddr_in))
            return EAI_FAMILY;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        raw = &sin->sin_addr;
        port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        if (salen < offsetof(struct sockaddr_in6, sin6_addr) + sizeof(struct in6_addr))
            return EAI_FAMILY;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        raw = &sin6->sin6_addr;
        port = ntohs(sin6->sin6_port);
    } else {
        return EAI_FAMILY;
    }

    int want_host = host != NULL && hostlen > 0;
    int want_serv = serv != NULL && servlen > 0;
    if (!want_host && !want_serv)
        return EAI_NONAME;
    if (want_host) {
        if (flags & NI_NAMEREQD)
            return EAI_NONAME;
        if (inet_ntop(sa->sa_family, raw, host, hostlen) == NULL)
            return EAI_OVERFLOW;
    }
    if (want_serv) {
        int n = snprintf(serv, servlen, "%u", (unsigned)port);
        if (n < 0 || (socklen_t)n >= servlen)
            return EAI_OVERFLOW;
    }
    return 0;
}
