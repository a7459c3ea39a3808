//! WASIX's socket subset, module `wasix_32v1` (docs/wasix-socket-abi.md, "doc" below).
//!
//! Guests built with wasix-libc or the `wasix` crate get Berkeley sockets through these
//! functions. They decode WASIX's layouts ([`abi`]) and call [`crate::sock`], the layer every
//! socket ABI shares, so the address pool, `--allow-resolve`, the interruptible waits and the
//! trace lines are the same as for WAMR and WasmEdge guests; a policy refusal is EACCES (2:
//! WASIX keeps WASI's errno numbers).
//!
//! Where wasock differs from wasmer (doc §5), on purpose:
//!
//! | wasmer                                              | wasock                                   |
//! |-----------------------------------------------------|------------------------------------------|
//! | writes ports big-endian (reads them little-endian)  | little-endian both ways (see [`abi`])     |
//! | defers a TCP bind to `listen`/`connect`             | binds at once; `sock_addr_local` is exact |
//! | `sock_recv` ignores DONT_WAIT and PEEK              | honours PEEK, WAITALL, DONT_WAIT         |
//! | roflags always 0                                    | DATA_TRUNCATED when a datagram was cut    |
//! | options refused by socket state (EINVAL)            | applied in every state; the kernel judges |
//! | accepted socket inherits the listener's NONBLOCK    | only the flag asked for (POSIX `accept4`) |
//! | `sock_addr_peer` of an unconnected socket: `0.0.0.0:0` | ENOTCONN                              |
//! | unsupported family: ENOTSUP                         | EAFNOSUPPORT                             |
//! | `sock_get_opt_size(PROTO)`: EINVAL                  | the protocol (6 or 17)                   |
//!
//! wasix-libc's port byte-order probe (a bind of `0.0.0.0:10275`) needs no special
//! permission: see [`socket::sock_bind`].
//!
//! `for_each_wasix_import!` lists the functions that return an errno. Two of wasix-libc's
//! start-up functions return nothing and are bound by hand: [`start::callback_signal`] and
//! [`start::proc_exit2`]. For a WASIX module, preview 1's `sock_recv` and `sock_send` (which
//! the `wasix` crate imports from `wasi_snapshot_preview1`) are this module's versions,
//! which honour WASIX's don't-wait flags: [`for_each_wasix_preview1_override!`].

pub mod abi;
pub mod io;
pub mod opt;
pub mod resolve;
pub mod socket;
pub mod start;

#[cfg(test)]
mod tests;

/// Calls `$m!` with every import of module `wasix_32v1` wasock provides, in the shape of
/// [`for_each_import!`](crate::for_each_import). Other `wasix_32v1` functions are ENOSYS.
#[macro_export]
macro_rules! for_each_wasix_import {
    ($m:ident) => {
        $m! {
            sock_open(af: u32, socktype: u32, protocol: u32, fd: u32) = $crate::wasix::socket::sock_open;
            sock_bind(fd: u32, addr: u32) = $crate::wasix::socket::sock_bind;
            sock_listen(fd: u32, backlog: u32) = $crate::wasix::socket::sock_listen;
            sock_accept_v2(fd: u32, flags: u32, new_fd: u32, addr: u32) = $crate::wasix::socket::sock_accept_v2;
            sock_accept(fd: u32, flags: u32, new_fd: u32, addr: u32) = $crate::wasix::socket::sock_accept_v2;
            sock_connect(fd: u32, addr: u32) = $crate::wasix::socket::sock_connect;
            sock_status(fd: u32, status: u32) = $crate::wasix::socket::sock_status;
            sock_addr_local(fd: u32, addr: u32) = $crate::wasix::socket::sock_addr_local;
            sock_addr_peer(fd: u32, addr: u32) = $crate::wasix::socket::sock_addr_peer;
            sock_shutdown(fd: u32, how: u32) = $crate::p1::sock::sock_shutdown;
            sock_recv(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasix::io::sock_recv;
            sock_recv_from(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32, ro_addr: u32) = $crate::wasix::io::sock_recv_from;
            sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) = $crate::wasix::io::sock_send;
            sock_send_to(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, addr: u32, so_datalen: u32) = $crate::wasix::io::sock_send_to;
            sock_set_opt_flag(fd: u32, option: u32, flag: u32) = $crate::wasix::opt::sock_set_opt_flag;
            sock_get_opt_flag(fd: u32, option: u32, flag: u32) = $crate::wasix::opt::sock_get_opt_flag;
            sock_set_opt_time(fd: u32, option: u32, time: u32) = $crate::wasix::opt::sock_set_opt_time;
            sock_get_opt_time(fd: u32, option: u32, time: u32) = $crate::wasix::opt::sock_get_opt_time;
            sock_set_opt_size(fd: u32, option: u32, size: u64) = $crate::wasix::opt::sock_set_opt_size;
            sock_get_opt_size(fd: u32, option: u32, size: u32) = $crate::wasix::opt::sock_get_opt_size;
            sock_join_multicast_v4(fd: u32, group: u32, interface: u32) = $crate::wasix::opt::sock_join_multicast_v4;
            sock_leave_multicast_v4(fd: u32, group: u32, interface: u32) = $crate::wasix::opt::sock_leave_multicast_v4;
            sock_join_multicast_v6(fd: u32, group: u32, interface: u32) = $crate::wasix::opt::sock_join_multicast_v6;
            sock_leave_multicast_v6(fd: u32, group: u32, interface: u32) = $crate::wasix::opt::sock_leave_multicast_v6;
            resolve(host: u32, host_len: u32, port: u32, addrs: u32, capacity: u32, count: u32) = $crate::wasix::resolve::resolve;
            proc_signals_sizes_get(count: u32) = $crate::wasix::start::proc_signals_sizes_get;
            proc_signals_get(buf: u32) = $crate::wasix::start::proc_signals_get;
            thread_sleep(ns: u64) = $crate::wasix::start::thread_sleep;
            thread_parallelism(size: u32) = $crate::wasix::start::thread_parallelism;
        }
    };
}

/// Calls `$m!` with the `wasi_snapshot_preview1` functions a WASIX module gets in place of
/// preview 1's own (same names and wasm types, plus WASIX's don't-wait flags), in the shape of
/// [`for_each_import!`](crate::for_each_import).
#[macro_export]
macro_rules! for_each_wasix_preview1_override {
    ($m:ident) => {
        $m! {
            sock_recv(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::wasix::io::sock_recv;
            sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) = $crate::wasix::io::sock_send;
        }
    };
}
