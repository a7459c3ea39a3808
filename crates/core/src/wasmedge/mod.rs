//! WasmEdge's socket extension (docs/wasmedge-socket-abi.md, "doc" below): the `sock_*`
//! imports, their `_v2` variants and `epoll_oneoff`, in module `wasi_snapshot_preview1`,
//! listed by [`for_each_wasmedge_import!`].
//!
//! V1 bodies are registered under the plain names and V2 bodies under the `_v2` names; the
//! engine binding links a plain-name import whose wasm type matches only the `_v2` body to
//! it, as WasmEdge does (doc 2). In a WasmEdge module this table is registered after WASI
//! preview 1's and shadows its `sock_accept` (V1 here has 2 parameters), `sock_recv`,
//! `sock_send`, `sock_shutdown` and `poll_oneoff`, whose behaviour differs in WasmEdge.
//!
//! We follow WasmEdge where a binary can depend on it, and fix what no binary can depend on
//! (WasmEdge's behaviour, then ours):
//!
//! - bad pointers: EFAULT, never a trap (doc 1.4) → the same.
//! - misaligned pointers: EADDRNOTAVAIL (doc 1.5) → accepted: wasm has no alignment faults,
//!   and compilers never misalign these structs.
//! - random fd numbers (doc 1.7) → the lowest free fd.
//! - no address or name policy (doc 12) → `--addr-pool` and `--allow-resolve`, EACCES.
//! - blocking calls straight to the OS (doc 1.10) → interruptible waits (`--timeout`).
//! - a host errno without a WASI name reaches an assertion (doc 1.11) → ENOSYS.
//! - a storage family other than 1..3 reaches an assertion (doc 12.11) → EINVAL (AF_UNIX:
//!   EAFNOSUPPORT).
//! - `sock_recv_from_v2` on a stream writes an uninitialised family (doc 6.8) → the peer's
//!   family, address and port.
//! - `sock_getaddrinfo` writes 14 or 26 bytes of `sa_data`, and the canonical name, whatever
//!   lengths the guest declared (doc 8.3) → `sa_data` cut to its declared length; no
//!   canonical name.
//! - `sock_getaddrinfo` walks the whole capacity before resolving (doc 8.2) → only the slots
//!   it fills, after the lookup; EAI codes it does not map reach an assertion → AIFAIL (80).
//! - option values go raw to the kernel (doc 6.14) → decoded per option, and only the real
//!   size reaches the kernel; SO_RCVTIMEO/SO_SNDTIMEO are kept by wasock and bound its own
//!   waits; SO_REUSEADDR on UDP needs `--allow-port-sharing`; SO_BINDTODEVICE is EACCES.
//! - `epoll_oneoff` read events say `nbytes` 1 (doc 9) → the bytes readable.
//!
//! Kept as WasmEdge has them: the layouts, network-order IP bytes, the network-order `u16`
//! port of `sock_recv_from_v2` (which wasmedge_wasi_socket reads byte-swapped, doc 11.1),
//! the address type 4/6 of the V1 getters, ENOMEM for a 4-byte buffer holding an IPv6
//! name, `sock_shutdown(fd, 0)` = shut the read side, the errnos 77..87 of
//! `sock_getaddrinfo`, SO_TYPE 1/2 and SO_ERROR as a WASI errno, ENOSYS for AF_UNIX.
//!
//! The sockets themselves, the policy checks and every wait are [`crate::sock`]'s, shared
//! with the other socket ABIs.

pub mod abi;
pub mod io;
pub mod opt;
pub mod poll;
pub mod resolve;
pub mod socket;

#[cfg(test)]
mod tests;

/// Calls `$m!` with every WasmEdge import, in the shape of
/// [`for_each_import!`](crate::for_each_import): `name(arg: u32|u64, ...) = path;`. V1
/// bodies have the plain names, V2 bodies the `_v2` names (doc 2).
#[macro_export]
macro_rules! for_each_wasmedge_import {
    ($m:ident) => {
        $m! {
            sock_open(af: u32, socktype: u32, sockfd: u32) = $crate::wasmedge::socket::sock_open;
            sock_open_v2(af: u32, socktype: u32, sockfd: u32) = $crate::wasmedge::socket::sock_open;
            sock_bind(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_bind;
            sock_bind_v2(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_bind_v2;
            sock_connect(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_connect;
            sock_connect_v2(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_connect_v2;
            sock_listen(fd: u32, backlog: u32) = $crate::wasmedge::socket::sock_listen;
            sock_listen_v2(fd: u32, backlog: u32) = $crate::wasmedge::socket::sock_listen_v2;
            sock_accept(fd: u32, new_fd: u32) = $crate::wasmedge::socket::sock_accept;
            sock_accept_v2(fd: u32, flags: u32, new_fd: u32) = $crate::wasmedge::socket::sock_accept_v2;
            sock_recv(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasmedge::io::sock_recv;
            sock_recv_v2(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasmedge::io::sock_recv;
            sock_recv_from(fd: u32, ri_data: u32, ri_data_len: u32, addr: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasmedge::io::sock_recv_from;
            sock_recv_from_v2(fd: u32, ri_data: u32, ri_data_len: u32, addr: u32, ri_flags: u32, port: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasmedge::io::sock_recv_from_v2;
            sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) = $crate::wasmedge::io::sock_send;
            sock_send_v2(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) = $crate::wasmedge::io::sock_send;
            sock_send_to(fd: u32, si_data: u32, si_data_len: u32, addr: u32, port: u32, si_flags: u32, so_datalen: u32) = $crate::wasmedge::io::sock_send_to;
            sock_send_to_v2(fd: u32, si_data: u32, si_data_len: u32, addr: u32, port: u32, si_flags: u32, so_datalen: u32) = $crate::wasmedge::io::sock_send_to_v2;
            sock_shutdown(fd: u32, how: u32) = $crate::wasmedge::socket::sock_shutdown;
            sock_getlocaladdr(fd: u32, addr: u32, addr_type: u32, port: u32) = $crate::wasmedge::socket::sock_getlocaladdr;
            sock_getlocaladdr_v2(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_getlocaladdr_v2;
            sock_getpeeraddr(fd: u32, addr: u32, addr_type: u32, port: u32) = $crate::wasmedge::socket::sock_getpeeraddr;
            sock_getpeeraddr_v2(fd: u32, addr: u32, port: u32) = $crate::wasmedge::socket::sock_getpeeraddr_v2;
            sock_getsockopt(fd: u32, level: u32, name: u32, value: u32, len: u32) = $crate::wasmedge::opt::sock_getsockopt;
            sock_setsockopt(fd: u32, level: u32, name: u32, value: u32, len: u32) = $crate::wasmedge::opt::sock_setsockopt;
            sock_getaddrinfo(node: u32, node_len: u32, service: u32, service_len: u32, hints: u32, res: u32, max_res_len: u32, res_len: u32) = $crate::wasmedge::resolve::sock_getaddrinfo;
            epoll_oneoff(subs: u32, events: u32, nsubscriptions: u32, nevents: u32) = $crate::wasmedge::poll::epoll_oneoff;
            poll_oneoff(subs: u32, events: u32, nsubscriptions: u32, nevents: u32) = $crate::wasmedge::poll::poll_oneoff;
        }
    };
}
