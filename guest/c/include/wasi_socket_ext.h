/*
 * wasi_socket_ext.h: Berkeley sockets for wasm32-wasi (WASI preview 1) programs that run on
 * wasock or on WAMR's iwasm, through WAMR's socket extension (extra `sock_*` imports in the
 * `wasi_snapshot_preview1` module).
 *
 * Use it like this; it includes <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h> and
 * <arpa/inet.h> itself:
 *
 *     #ifdef __wasi__
 *     #include <wasi_socket_ext.h>
 *     #endif
 *
 * It adds what wasi-libc's preview-1 headers lack (socket(), bind(), getaddrinfo(), the SO_*
 * option names, ...) and leaves alone what a given wasi-libc already has, so it works with
 * Debian's 2022 wasi-libc as well as with newer wasi-sdk sysroots:
 *   - every constant is guarded with #ifndef;
 *   - struct ip_mreq is defined only when <netinet/in.h> did not (it does so only under
 *     _GNU_SOURCE/_BSD_SOURCE, together with MCAST_JOIN_GROUP);
 *   - the <netdb.h> part (struct addrinfo, AI_*, EAI_*, NI_*) is skipped when a wasi-libc
 *     <netdb.h> exists (only preview-2 sysroots ship one) or was included already;
 *   - function prototypes repeat exactly those of musl's headers, so a second declaration
 *     by a newer libc is harmless.
 *
 * Values: the address families, socket types, SOL_SOCKET, SO_TYPE, MSG_PEEK/WAITALL and
 * SHUT_* come from wasi-libc (AF_INET 1, AF_INET6 2, SOCK_DGRAM 5, SOCK_STREAM 6, ...).
 * The option names use Linux's numbers, as WAMR's lib-socket does, so binaries agree with it.
 *
 * This file is part of wasock. It is an independent implementation of the ABI described in
 * wasock's docs/wamr-socket-abi.md, not a copy of WAMR's header.
 */

#ifndef _WASI_SOCKET_EXT_H_
#define _WASI_SOCKET_EXT_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <wasi/api.h>

/* A real wasi-libc <netdb.h> (preview 2 sysroots) defines the getaddrinfo family itself.
 * <wasi/version.h> exists only in those newer sysroots, which tells their netdb.h apart from
 * the host's glibc one that a bare `clang --target=wasm32-wasi` would otherwise find. */
#if defined(__has_include)
#if __has_include(<wasi/version.h>) && __has_include(<netdb.h>)
#include <netdb.h>
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Constants missing from wasi-libc's preview-1 headers
 * ---------------------------------------------------------------------------------------- */

/* SOL_SOCKET options (Linux numbers; WAMR's lib-socket uses the same). */
#ifndef SO_REUSEADDR
#define SO_REUSEADDR 2
#endif
#ifndef SO_ERROR
#define SO_ERROR 4
#endif
#ifndef SO_BROADCAST
#define SO_BROADCAST 6
#endif
#ifndef SO_SNDBUF
#define SO_SNDBUF 7
#endif
#ifndef SO_RCVBUF
#define SO_RCVBUF 8
#endif
#ifndef SO_KEEPALIVE
#define SO_KEEPALIVE 9
#endif
#ifndef SO_LINGER
#define SO_LINGER 13
#endif
#ifndef SO_REUSEPORT
#define SO_REUSEPORT 15
#endif
#ifndef SO_RCVTIMEO
#define SO_RCVTIMEO 20
#endif
#ifndef SO_SNDTIMEO
#define SO_SNDTIMEO 21
#endif

#ifndef SOMAXCONN
#define SOMAXCONN 128
#endif

/* IPPROTO_TCP options (normally from <netinet/tcp.h>). */
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif
#ifndef TCP_KEEPIDLE
#define TCP_KEEPIDLE 4
#endif
#ifndef TCP_KEEPINTVL
#define TCP_KEEPINTVL 5
#endif
#ifndef TCP_QUICKACK
#define TCP_QUICKACK 12
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

/* IPPROTO_IP / IPPROTO_IPV6 options (normally from <netinet/in.h>). IP_MULTICAST_IF and
 * IPV6_MULTICAST_IF exist as names, but setsockopt() rejects them: the extension has no
 * import to choose a multicast interface. */
#ifndef IP_TTL
#define IP_TTL 2
#endif
#ifndef IP_MULTICAST_IF
#define IP_MULTICAST_IF 32
#endif
#ifndef IP_MULTICAST_TTL
#define IP_MULTICAST_TTL 33
#endif
#ifndef IP_MULTICAST_LOOP
#define IP_MULTICAST_LOOP 34
#endif
#ifndef IP_ADD_MEMBERSHIP
#define IP_ADD_MEMBERSHIP 35
#endif
#ifndef IP_DROP_MEMBERSHIP
#define IP_DROP_MEMBERSHIP 36
#endif
#ifndef IPV6_MULTICAST_LOOP
#define IPV6_MULTICAST_LOOP 19
#endif
#ifndef IPV6_JOIN_GROUP
#define IPV6_JOIN_GROUP 20
#endif
#ifndef IPV6_LEAVE_GROUP
#define IPV6_LEAVE_GROUP 21
#endif
#ifndef IPV6_ADD_MEMBERSHIP
#define IPV6_ADD_MEMBERSHIP IPV6_JOIN_GROUP
#endif
#ifndef IPV6_DROP_MEMBERSHIP
#define IPV6_DROP_MEMBERSHIP IPV6_LEAVE_GROUP
#endif
#ifndef IPV6_V6ONLY
#define IPV6_V6ONLY 26
#endif
#ifndef IPPROTO_UDP
#define IPPROTO_UDP 17
#endif

#ifndef INADDR_ANY
#define INADDR_ANY ((in_addr_t)0x00000000)
#endif
#ifndef INADDR_LOOPBACK
#define INADDR_LOOPBACK ((in_addr_t)0x7f000001)
#endif
#ifndef INADDR_BROADCAST
#define INADDR_BROADCAST ((in_addr_t)0xffffffff)
#endif
#ifndef INADDR_NONE
#define INADDR_NONE ((in_addr_t)0xffffffff)
#endif

/* Message flags. wasi-libc gives MSG_PEEK 1 and MSG_WAITALL 2 (the WASI riflags). Debian's
 * 2022 wasi-libc defines MSG_TRUNC as __WASI_RIFLAGS_RECV_DATA_TRUNCATED, a name its own
 * <wasi/api.h> never defines; provide it so MSG_TRUNC (an output flag, 1, in msg_flags)
 * compiles. MSG_DONTWAIT and MSG_NOSIGNAL take Linux's values, which do not collide. */
#ifndef __WASI_RIFLAGS_RECV_DATA_TRUNCATED
#define __WASI_RIFLAGS_RECV_DATA_TRUNCATED __WASI_ROFLAGS_RECV_DATA_TRUNCATED
#endif
#ifndef MSG_TRUNC
#define MSG_TRUNC __WASI_ROFLAGS_RECV_DATA_TRUNCATED
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0x0040
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0x4000
#endif

/* struct ip_mreq: musl declares it only under _GNU_SOURCE/_BSD_SOURCE, in the same block as
 * MCAST_JOIN_GROUP. struct ipv6_mreq and struct linger are always there. */
#if !defined(MCAST_JOIN_GROUP) && !defined(__wasilibc___struct_ip_mreq_h)
struct ip_mreq {
    struct in_addr imr_multiaddr;
    struct in_addr imr_interface;
};
#endif

/* ------------------------------------------------------------------------------------------
 * <netdb.h> subset (musl's definitions and values)
 * ---------------------------------------------------------------------------------------- */

#ifndef EAI_NONAME
struct addrinfo {
    int ai_flags;
    int ai_family;
    int ai_socktype;
    int ai_protocol;
    socklen_t ai_addrlen;
    struct sockaddr *ai_addr;
    char *ai_canonname;
    struct addrinfo *ai_next;
};

#define AI_PASSIVE 0x01
#define AI_CANONNAME 0x02
#define AI_NUMERICHOST 0x04
#define AI_V4MAPPED 0x08
#define AI_ALL 0x10
#define AI_ADDRCONFIG 0x20
#define AI_NUMERICSERV 0x400

#define EAI_BADFLAGS -1
#define EAI_NONAME -2
#define EAI_AGAIN -3
#define EAI_FAIL -4
#define EAI_FAMILY -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE -8
#define EAI_MEMORY -10
#define EAI_SYSTEM -11
#define EAI_OVERFLOW -12

int getaddrinfo(const char *__restrict, const char *__restrict, const struct addrinfo *__restrict,
                struct addrinfo **__restrict);
void freeaddrinfo(struct addrinfo *);
int getnameinfo(const struct sockaddr *__restrict, socklen_t, char *__restrict, socklen_t,
                char *__restrict, socklen_t, int);
const char *gai_strerror(int);
#endif /* EAI_NONAME */

#ifndef NI_NUMERICHOST
#define NI_NUMERICHOST 0x01
#define NI_NUMERICSERV 0x02
#define NI_NOFQDN 0x04
#define NI_NAMEREQD 0x08
#define NI_DGRAM 0x10
#define NI_NUMERICSCOPE 0x100
#endif
#ifndef NI_MAXHOST
#define NI_MAXHOST 255
#endif
#ifndef NI_MAXSERV
#define NI_MAXSERV 32
#endif

/* ------------------------------------------------------------------------------------------
 * Socket functions. wasi-libc already declares accept, accept4, send, recv, shutdown and
 * getsockopt; this library still defines its own accept/accept4/send/recv/getsockopt (weak
 * symbols) because wasi-libc's versions do not fill the peer address, do not know
 * MSG_DONTWAIT or support only SO_TYPE.
 * ---------------------------------------------------------------------------------------- */

int socket(int, int, int);
int bind(int, const struct sockaddr *, socklen_t);
int connect(int, const struct sockaddr *, socklen_t);
int listen(int, int);
int accept(int, struct sockaddr *__restrict, socklen_t *__restrict);
int accept4(int, struct sockaddr *__restrict, socklen_t *__restrict, int);
int getsockname(int, struct sockaddr *__restrict, socklen_t *__restrict);
int getpeername(int, struct sockaddr *__restrict, socklen_t *__restrict);
ssize_t send(int, const void *, size_t, int);
ssize_t recv(int, void *, size_t, int);
ssize_t sendto(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
ssize_t recvfrom(int, void *__restrict, size_t, int, struct sockaddr *__restrict,
                 socklen_t *__restrict);
ssize_t sendmsg(int, const struct msghdr *, int);
ssize_t recvmsg(int, struct msghdr *, int);
int getsockopt(int, int, int, void *__restrict, socklen_t *__restrict);
int setsockopt(int, int, int, const void *, socklen_t);
int shutdown(int, int);

in_addr_t inet_addr(const char *);
char *inet_ntoa(struct in_addr);

/* ------------------------------------------------------------------------------------------
 * WAMR socket extension ABI (docs/wamr-socket-abi.md sections 2 and 3)
 *
 * Every field of these structs is a number in host order (little-endian in wasm memory):
 * nothing here is in network byte order. The enums are 32-bit integers.
 * ---------------------------------------------------------------------------------------- */

typedef uint32_t __wasi_addr_type_t;
#define __WASI_ADDR_TYPE_IPV4 ((__wasi_addr_type_t)0)
#define __WASI_ADDR_TYPE_IPV6 ((__wasi_addr_type_t)1)

typedef int32_t __wasi_address_family_t;
#define __WASI_ADDRESS_FAMILY_INET4 ((__wasi_address_family_t)0)
#define __WASI_ADDRESS_FAMILY_INET6 ((__wasi_address_family_t)1)
#define __WASI_ADDRESS_FAMILY_INET_UNSPEC ((__wasi_address_family_t)2)

typedef int32_t __wasi_sock_type_t;
#define __WASI_SOCK_TYPE_SOCKET_ANY ((__wasi_sock_type_t)-1) /* resolve hints only */
#define __WASI_SOCK_TYPE_SOCKET_DGRAM ((__wasi_sock_type_t)0)
#define __WASI_SOCK_TYPE_SOCKET_STREAM ((__wasi_sock_type_t)1)

typedef uint16_t __wasi_ip_port_t;

/* 127.0.0.1 is {n0 = 127, n1 = 0, n2 = 0, n3 = 1}. */
typedef struct __wasi_addr_ip4_t {
    uint8_t n0;
    uint8_t n1;
    uint8_t n2;
    uint8_t n3;
} __wasi_addr_ip4_t;

typedef struct __wasi_addr_ip4_port_t {
    __wasi_addr_ip4_t addr;
    __wasi_ip_port_t port;
} __wasi_addr_ip4_port_t;

/* The eight 16-bit groups in reading order: fe80::1 has n0 = 0xfe80 and h3 = 1. */
typedef struct __wasi_addr_ip6_t {
    uint16_t n0;
    uint16_t n1;
    uint16_t n2;
    uint16_t n3;
    uint16_t h0;
    uint16_t h1;
    uint16_t h2;
    uint16_t h3;
} __wasi_addr_ip6_t;

typedef struct __wasi_addr_ip6_port_t {
    __wasi_addr_ip6_t addr;
    __wasi_ip_port_t port;
} __wasi_addr_ip6_port_t;

typedef struct __wasi_addr_t {
    __wasi_addr_type_t kind;
    union {
        __wasi_addr_ip4_port_t ip4;
        __wasi_addr_ip6_port_t ip6;
    } addr;
} __wasi_addr_t;

/* A multicast group (no port). */
typedef struct __wasi_addr_ip_t {
    __wasi_addr_type_t kind;
    union {
        __wasi_addr_ip4_t ip4;
        __wasi_addr_ip6_t ip6;
    } addr;
} __wasi_addr_ip_t;

typedef struct __wasi_addr_info_t {
    __wasi_addr_t addr;
    __wasi_sock_type_t type;
} __wasi_addr_info_t;

typedef struct __wasi_addr_info_hints_t {
    __wasi_sock_type_t type;
    __wasi_address_family_t family;
    uint8_t hints_enabled; /* 0: ignore type and family */
} __wasi_addr_info_hints_t;

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(__wasi_addr_t) == 24, "__wasi_addr_t is 24 bytes on the wire");
_Static_assert(sizeof(__wasi_addr_ip_t) == 20, "__wasi_addr_ip_t is 20 bytes on the wire");
_Static_assert(sizeof(__wasi_addr_info_t) == 28, "__wasi_addr_info_t is 28 bytes on the wire");
_Static_assert(sizeof(__wasi_addr_info_hints_t) == 12, "hints are 12 bytes on the wire");
_Static_assert(sizeof(struct addrinfo) == 32, "struct addrinfo must match musl's layout");
#endif

/* The extension's imports. sock_accept, sock_recv, sock_send and sock_shutdown are standard
 * WASI preview 1 and are declared by <wasi/api.h> as __wasi_sock_accept() etc. Booleans are
 * passed as 0/1 in an i32; the getters of booleans and TTLs write ONE byte. */
#define __WASOCK_IMPORT(name)                                                                 \
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__(name),        \
                   __warn_unused_result__))

__wasi_errno_t __wasi_sock_open(__wasi_fd_t poolfd, __wasi_address_family_t af,
                                __wasi_sock_type_t socktype, __wasi_fd_t *sockfd)
    __WASOCK_IMPORT("sock_open");
__wasi_errno_t __wasi_sock_bind(__wasi_fd_t fd, const __wasi_addr_t *addr)
    __WASOCK_IMPORT("sock_bind");
__wasi_errno_t __wasi_sock_connect(__wasi_fd_t fd, const __wasi_addr_t *addr)
    __WASOCK_IMPORT("sock_connect");
__wasi_errno_t __wasi_sock_listen(__wasi_fd_t fd, __wasi_size_t backlog)
    __WASOCK_IMPORT("sock_listen");
__wasi_errno_t __wasi_sock_addr_local(__wasi_fd_t fd, __wasi_addr_t *addr)
    __WASOCK_IMPORT("sock_addr_local");
__wasi_errno_t __wasi_sock_addr_remote(__wasi_fd_t fd, __wasi_addr_t *addr)
    __WASOCK_IMPORT("sock_addr_remote");
__wasi_errno_t __wasi_sock_addr_resolve(const char *host, const char *service,
                                        const __wasi_addr_info_hints_t *hints,
                                        __wasi_addr_info_t *addr_info, __wasi_size_t capacity,
                                        __wasi_size_t *total)
    __WASOCK_IMPORT("sock_addr_resolve");
__wasi_errno_t __wasi_sock_recv_from(__wasi_fd_t fd, const __wasi_iovec_t *ri_data,
                                     __wasi_size_t ri_data_len, __wasi_riflags_t ri_flags,
                                     __wasi_addr_t *src_addr, __wasi_size_t *ro_data_len)
    __WASOCK_IMPORT("sock_recv_from");
__wasi_errno_t __wasi_sock_send_to(__wasi_fd_t fd, const __wasi_ciovec_t *si_data,
                                   __wasi_size_t si_data_len, __wasi_siflags_t si_flags,
                                   const __wasi_addr_t *dest_addr, __wasi_size_t *so_data_len)
    __WASOCK_IMPORT("sock_send_to");
/* Always ENOSYS in WAMR: close sockets with close(). */
__wasi_errno_t __wasi_sock_close(__wasi_fd_t fd) __WASOCK_IMPORT("sock_close");

__wasi_errno_t __wasi_sock_set_recv_timeout(__wasi_fd_t fd, uint64_t timeout_us)
    __WASOCK_IMPORT("sock_set_recv_timeout");
__wasi_errno_t __wasi_sock_get_recv_timeout(__wasi_fd_t fd, uint64_t *timeout_us)
    __WASOCK_IMPORT("sock_get_recv_timeout");
__wasi_errno_t __wasi_sock_set_send_timeout(__wasi_fd_t fd, uint64_t timeout_us)
    __WASOCK_IMPORT("sock_set_send_timeout");
__wasi_errno_t __wasi_sock_get_send_timeout(__wasi_fd_t fd, uint64_t *timeout_us)
    __WASOCK_IMPORT("sock_get_send_timeout");

__wasi_errno_t __wasi_sock_set_recv_buf_size(__wasi_fd_t fd, __wasi_size_t size)
    __WASOCK_IMPORT("sock_set_recv_buf_size");
/* WAMR on a 64-bit host stores 8 bytes here: give it 8 bytes of room. */
__wasi_errno_t __wasi_sock_get_recv_buf_size(__wasi_fd_t fd, __wasi_size_t *size)
    __WASOCK_IMPORT("sock_get_recv_buf_size");
__wasi_errno_t __wasi_sock_set_send_buf_size(__wasi_fd_t fd, __wasi_size_t size)
    __WASOCK_IMPORT("sock_set_send_buf_size");
__wasi_errno_t __wasi_sock_get_send_buf_size(__wasi_fd_t fd, __wasi_size_t *size)
    __WASOCK_IMPORT("sock_get_send_buf_size");

__wasi_errno_t __wasi_sock_set_keep_alive(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_keep_alive");
__wasi_errno_t __wasi_sock_get_keep_alive(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_keep_alive");
__wasi_errno_t __wasi_sock_set_reuse_addr(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_reuse_addr");
__wasi_errno_t __wasi_sock_get_reuse_addr(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_reuse_addr");
__wasi_errno_t __wasi_sock_set_reuse_port(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_reuse_port");
__wasi_errno_t __wasi_sock_get_reuse_port(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_reuse_port");
__wasi_errno_t __wasi_sock_set_broadcast(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_broadcast");
__wasi_errno_t __wasi_sock_get_broadcast(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_broadcast");
__wasi_errno_t __wasi_sock_set_linger(__wasi_fd_t fd, int32_t on, int32_t seconds)
    __WASOCK_IMPORT("sock_set_linger");
__wasi_errno_t __wasi_sock_get_linger(__wasi_fd_t fd, uint8_t *on, int32_t *seconds)
    __WASOCK_IMPORT("sock_get_linger");

__wasi_errno_t __wasi_sock_set_tcp_no_delay(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_tcp_no_delay");
__wasi_errno_t __wasi_sock_get_tcp_no_delay(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_tcp_no_delay");
__wasi_errno_t __wasi_sock_set_tcp_quick_ack(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_tcp_quick_ack");
__wasi_errno_t __wasi_sock_get_tcp_quick_ack(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_tcp_quick_ack");
__wasi_errno_t __wasi_sock_set_tcp_fastopen_connect(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_tcp_fastopen_connect");
__wasi_errno_t __wasi_sock_get_tcp_fastopen_connect(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_tcp_fastopen_connect");
__wasi_errno_t __wasi_sock_set_tcp_keep_idle(__wasi_fd_t fd, uint32_t seconds)
    __WASOCK_IMPORT("sock_set_tcp_keep_idle");
__wasi_errno_t __wasi_sock_get_tcp_keep_idle(__wasi_fd_t fd, uint32_t *seconds)
    __WASOCK_IMPORT("sock_get_tcp_keep_idle");
__wasi_errno_t __wasi_sock_set_tcp_keep_intvl(__wasi_fd_t fd, uint32_t seconds)
    __WASOCK_IMPORT("sock_set_tcp_keep_intvl");
__wasi_errno_t __wasi_sock_get_tcp_keep_intvl(__wasi_fd_t fd, uint32_t *seconds)
    __WASOCK_IMPORT("sock_get_tcp_keep_intvl");

__wasi_errno_t __wasi_sock_set_ip_ttl(__wasi_fd_t fd, int32_t ttl)
    __WASOCK_IMPORT("sock_set_ip_ttl");
__wasi_errno_t __wasi_sock_get_ip_ttl(__wasi_fd_t fd, uint8_t *ttl)
    __WASOCK_IMPORT("sock_get_ip_ttl");
__wasi_errno_t __wasi_sock_set_ip_multicast_ttl(__wasi_fd_t fd, int32_t ttl)
    __WASOCK_IMPORT("sock_set_ip_multicast_ttl");
__wasi_errno_t __wasi_sock_get_ip_multicast_ttl(__wasi_fd_t fd, uint8_t *ttl)
    __WASOCK_IMPORT("sock_get_ip_multicast_ttl");
__wasi_errno_t __wasi_sock_set_ip_multicast_loop(__wasi_fd_t fd, int32_t ipv6, int32_t on)
    __WASOCK_IMPORT("sock_set_ip_multicast_loop");
__wasi_errno_t __wasi_sock_get_ip_multicast_loop(__wasi_fd_t fd, int32_t ipv6, uint8_t *on)
    __WASOCK_IMPORT("sock_get_ip_multicast_loop");
/* interface: for IPv4 the raw in_addr.s_addr (network-order bytes), for IPv6 an index. */
__wasi_errno_t __wasi_sock_set_ip_add_membership(__wasi_fd_t fd,
                                                 const __wasi_addr_ip_t *group,
                                                 uint32_t interface)
    __WASOCK_IMPORT("sock_set_ip_add_membership");
__wasi_errno_t __wasi_sock_set_ip_drop_membership(__wasi_fd_t fd,
                                                  const __wasi_addr_ip_t *group,
                                                  uint32_t interface)
    __WASOCK_IMPORT("sock_set_ip_drop_membership");
__wasi_errno_t __wasi_sock_set_ipv6_only(__wasi_fd_t fd, int32_t on)
    __WASOCK_IMPORT("sock_set_ipv6_only");
__wasi_errno_t __wasi_sock_get_ipv6_only(__wasi_fd_t fd, uint8_t *on)
    __WASOCK_IMPORT("sock_get_ipv6_only");

#undef __WASOCK_IMPORT

#ifdef __cplusplus
}
#endif

#endif /* _WASI_SOCKET_EXT_H_ */
