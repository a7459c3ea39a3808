//! WAMR's socket extension (docs/wamr-socket-abi.md §3, "spec" below): 52 `sock_*` imports
//! of module `wasi_snapshot_preview1`. Four of them (`sock_accept`, `sock_recv`, `sock_send`,
//! `sock_shutdown`) have the names and wasm types of standard WASI preview 1 and live in
//! [`crate::p1::sock`], serving both; the other 48 are listed by [`for_each_wamr_import!`].
//!
//! We follow WAMR where a binary can depend on it (struct layouts, errnos, EACCES for policy
//! denials, 1-byte boolean/TTL getters, u64 microsecond timeouts, resolve's `*total`,
//! traps on bad pointers) and fix the bugs spec §12 calls safe to fix:
//!
//! | WAMR (spec §11)                                   | wasock                                   |
//! |---------------------------------------------------|------------------------------------------|
//! | shutdown ignores `how`, always SHUT_RDWR          | honours RD/WR; `how` 0 or > 3 is EINVAL |
//! | accept ignores its flags                          | honours NONBLOCK                         |
//! | recv ignores PEEK/WAITALL, never writes roflags   | honours both; roflags = DATA_TRUNCATED or 0 |
//! | zero-length send/recv: EINVAL                     | success (a stream recv returns 0 at once) |
//! | bind forces SO_LINGER {1,0}                       | leaves SO_LINGER alone                   |
//! | send without MSG_NOSIGNAL (SIGPIPE kills iwasm)   | MSG_NOSIGNAL: EPIPE                      |
//! | buf-size getters write 8 bytes                    | write 4                                  |
//! | recv_from on TCP reports `::`:0                   | reports the peer (getpeername)           |
//! | resolve with capacity 0 divides by zero           | success with `*total` set                |
//! | sock_addr_remote checks the ADDR_LOCAL right      | checks SOCK_ADDR_REMOTE                  |
//! | random fd numbers                                 | lowest free fd                           |
//! | IPv6 scope ids lost both ways                     | link-local scope ids kept in the padding |
//! | pool: `::ffff:a.b.c.d` never matches IPv4 entries | judged as the IPv4 address it carries    |
//! | pool: mask wraps mod 256, all-zero base matches all | strict CIDR; bad masks are errors      |
//! | allow-resolve: case-sensitive string suffix       | exact or `*.suffix`, case-insensitive    |
//!
//! `sock_close` stays a stub returning ENOSYS, as in WAMR: lib-socket's `close()` uses
//! `fd_close`, and a program that probes `sock_close` expects ENOSYS, not a closed fd.
//!
//! The sockets themselves, the policy checks and every wait are [`crate::sock`]'s, shared
//! with the other socket ABIs.

pub mod abi;
pub mod io;
pub mod opt;
pub mod resolve;
pub mod socket;

#[cfg(test)]
mod tests;

/// Calls `$m!` with every WAMR `sock_*` import except the four shared with WASI preview 1
/// (those are in [`for_each_import!`](crate::for_each_import)), in the shape of
/// `for_each_import!`: `name(arg: u32|u64, ...) = path;`.
#[macro_export]
macro_rules! for_each_wamr_import {
    ($m:ident) => {
        $m! {
            sock_open(poolfd: u32, af: u32, socktype: u32, sockfd: u32) = $crate::wamr::socket::sock_open;
            sock_bind(fd: u32, addr: u32) = $crate::wamr::socket::sock_bind;
            sock_connect(fd: u32, addr: u32) = $crate::wamr::socket::sock_connect;
            sock_listen(fd: u32, backlog: u32) = $crate::wamr::socket::sock_listen;
            sock_addr_local(fd: u32, addr: u32) = $crate::wamr::socket::sock_addr_local;
            sock_addr_remote(fd: u32, addr: u32) = $crate::wamr::socket::sock_addr_remote;
            sock_close(fd: u32) = $crate::wamr::socket::sock_close;
            sock_addr_resolve(host: u32, service: u32, hints: u32, addr_info: u32, addr_info_size: u32, max_info_size: u32) = $crate::wamr::resolve::sock_addr_resolve;
            sock_recv_from(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, src_addr: u32, ro_data_len: u32) = $crate::wamr::io::sock_recv_from;
            sock_send_to(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, dest_addr: u32, so_data_len: u32) = $crate::wamr::io::sock_send_to;
            sock_get_broadcast(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_broadcast;
            sock_get_keep_alive(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_keep_alive;
            sock_get_linger(fd: u32, is_enabled: u32, linger_s: u32) = $crate::wamr::opt::sock_get_linger;
            sock_get_recv_buf_size(fd: u32, size: u32) = $crate::wamr::opt::sock_get_recv_buf_size;
            sock_get_recv_timeout(fd: u32, timeout_us: u32) = $crate::wamr::opt::sock_get_recv_timeout;
            sock_get_reuse_addr(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_reuse_addr;
            sock_get_reuse_port(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_reuse_port;
            sock_get_send_buf_size(fd: u32, size: u32) = $crate::wamr::opt::sock_get_send_buf_size;
            sock_get_send_timeout(fd: u32, timeout_us: u32) = $crate::wamr::opt::sock_get_send_timeout;
            sock_get_tcp_fastopen_connect(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_tcp_fastopen_connect;
            sock_get_tcp_keep_idle(fd: u32, time_s: u32) = $crate::wamr::opt::sock_get_tcp_keep_idle;
            sock_get_tcp_keep_intvl(fd: u32, time_s: u32) = $crate::wamr::opt::sock_get_tcp_keep_intvl;
            sock_get_tcp_no_delay(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_tcp_no_delay;
            sock_get_tcp_quick_ack(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_tcp_quick_ack;
            sock_get_ip_multicast_loop(fd: u32, ipv6: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_ip_multicast_loop;
            sock_get_ip_multicast_ttl(fd: u32, ttl_s: u32) = $crate::wamr::opt::sock_get_ip_multicast_ttl;
            sock_get_ip_ttl(fd: u32, ttl_s: u32) = $crate::wamr::opt::sock_get_ip_ttl;
            sock_get_ipv6_only(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_get_ipv6_only;
            sock_set_broadcast(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_broadcast;
            sock_set_keep_alive(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_keep_alive;
            sock_set_linger(fd: u32, is_enabled: u32, linger_s: u32) = $crate::wamr::opt::sock_set_linger;
            sock_set_recv_buf_size(fd: u32, size: u32) = $crate::wamr::opt::sock_set_recv_buf_size;
            sock_set_recv_timeout(fd: u32, timeout_us: u64) = $crate::wamr::opt::sock_set_recv_timeout;
            sock_set_reuse_addr(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_reuse_addr;
            sock_set_reuse_port(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_reuse_port;
            sock_set_send_buf_size(fd: u32, size: u32) = $crate::wamr::opt::sock_set_send_buf_size;
            sock_set_send_timeout(fd: u32, timeout_us: u64) = $crate::wamr::opt::sock_set_send_timeout;
            sock_set_tcp_fastopen_connect(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_tcp_fastopen_connect;
            sock_set_tcp_keep_idle(fd: u32, time_s: u32) = $crate::wamr::opt::sock_set_tcp_keep_idle;
            sock_set_tcp_keep_intvl(fd: u32, time_s: u32) = $crate::wamr::opt::sock_set_tcp_keep_intvl;
            sock_set_tcp_no_delay(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_tcp_no_delay;
            sock_set_tcp_quick_ack(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_tcp_quick_ack;
            sock_set_ip_multicast_loop(fd: u32, ipv6: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_ip_multicast_loop;
            sock_set_ip_multicast_ttl(fd: u32, ttl_s: u32) = $crate::wamr::opt::sock_set_ip_multicast_ttl;
            sock_set_ip_add_membership(fd: u32, imr_multiaddr: u32, imr_interface: u32) = $crate::wamr::opt::sock_set_ip_add_membership;
            sock_set_ip_drop_membership(fd: u32, imr_multiaddr: u32, imr_interface: u32) = $crate::wamr::opt::sock_set_ip_drop_membership;
            sock_set_ip_ttl(fd: u32, ttl_s: u32) = $crate::wamr::opt::sock_set_ip_ttl;
            sock_set_ipv6_only(fd: u32, is_enabled: u32) = $crate::wamr::opt::sock_set_ipv6_only;
        }
    };
}
