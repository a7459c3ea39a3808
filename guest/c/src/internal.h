/* Shared helpers of the wasock C guest library (not installed). */

#ifndef WASOCK_GUEST_INTERNAL_H
#define WASOCK_GUEST_INTERNAL_H

#include <errno.h>
#include <wasi_socket_ext.h>

/* Functions that some wasi-libc versions define too (accept, accept4, recv, send,
 * getsockopt, inet_addr, inet_ntoa). Ours are pulled from our archive first; being weak,
 * they cannot cause a duplicate-symbol error if libc's object is linked in as well. */
#define WASOCK_WEAK __attribute__((__weak__))

/* Sets errno and returns -1: the POSIX failure convention. wasi-libc's E* constants are the
 * WASI errno numbers, so a host errno can be stored as is. */
static inline int wasock_fail(int err)
{
    errno = err;
    return -1;
}

/* Converts a sockaddr_in/sockaddr_in6 of `len` bytes into the extension's host-order address.
 * Returns 0 or an errno (EFAULT, EINVAL, EAFNOSUPPORT). */
int __wasock_sockaddr_to_wasi(const struct sockaddr *sa, socklen_t len, __wasi_addr_t *out);

/* Builds the sockaddr for `in` into `out` and returns its length (16 or 32), or 0 when `in`
 * holds an unknown address kind. */
socklen_t __wasock_wasi_to_sockaddr(const __wasi_addr_t *in, struct sockaddr_storage *out);

/* POSIX output convention for a peer/local address: copy at most *len bytes of the full
 * sockaddr into sa and set *len to the full length. Returns 0 or an errno. */
int __wasock_copy_sockaddr_out(const __wasi_addr_t *in, struct sockaddr *sa, socklen_t *len);

/* True for the `::` port 0 that sock_recv_from reports when the OS gave no peer address
 * (stream sockets). No real datagram can come from there. */
int __wasock_is_no_address(const __wasi_addr_t *addr);

/* MSG_DONTWAIT support: switch a blocking socket to non-blocking for one call. */
typedef struct wasock_dontwait {
    int active;            /* flags must be restored */
    __wasi_fdflags_t saved; /* the fd's flags before the call */
} wasock_dontwait;
int __wasock_dontwait_begin(int fd, int flags, wasock_dontwait *state);
void __wasock_dontwait_end(int fd, wasock_dontwait *state);

/* Non-blocking connects in progress, remembered so that getsockopt(SO_ERROR) can learn their
 * outcome (see sockopt.c). */
void __wasock_pending_connect_set(int fd, const __wasi_addr_t *addr);
int __wasock_pending_connect_get(int fd, __wasi_addr_t *addr);
void __wasock_pending_connect_clear(int fd);

#endif
