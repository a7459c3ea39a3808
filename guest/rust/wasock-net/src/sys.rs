//! The raw imports: WAMR's socket extension (spec §3) plus the few WASI preview 1 calls that
//! std does not expose (fdstat flags, poll_oneoff). Every function returns a WASI errno, 0 on
//! success. Pointers are guest addresses; the runtime traps on out-of-bounds ones.
//!
//! Off `target_os = "wasi"` the same functions exist but return ENOSYS without doing
//! anything, so the crate and its unit tests build on the developer's machine;
//! [`cvt`] turns that into an `Unsupported` error that says why.

use std::io;

use crate::addr::{WasiAddr, WasiAddrInfo, WasiAddrIp, WasiHints};

/// `__wasi_iovec_t`: a buffer the runtime writes into.
#[repr(C)]
pub(crate) struct Iovec {
    pub(crate) buf: *mut u8,
    pub(crate) len: usize,
}

/// `__wasi_ciovec_t`: a buffer the runtime reads from.
#[repr(C)]
pub(crate) struct Ciovec {
    pub(crate) buf: *const u8,
    pub(crate) len: usize,
}

/// `__wasi_fdstat_t` (24 bytes): only `flags` is used here.
#[repr(C)]
#[derive(Default)]
pub(crate) struct Fdstat {
    pub(crate) filetype: u8,
    pub(crate) flags: u16,
    pub(crate) rights_base: u64,
    pub(crate) rights_inheriting: u64,
}

/// `__wasi_subscription_t` (48 bytes, 8-aligned), encoded by [`crate::socket`].
#[repr(C, align(8))]
pub(crate) struct Subscription(pub(crate) [u8; 48]);

/// `__wasi_event_t` (32 bytes, 8-aligned).
#[repr(C, align(8))]
pub(crate) struct Event(pub(crate) [u8; 32]);

pub(crate) const FDFLAGS_NONBLOCK: u16 = 1 << 2;
pub(crate) const FILETYPE_SOCKET_DGRAM: u8 = 5;
pub(crate) const FILETYPE_SOCKET_STREAM: u8 = 6;
pub(crate) const RIFLAGS_RECV_PEEK: i32 = 1;
pub(crate) const SDFLAGS_RD: i32 = 1;
pub(crate) const SDFLAGS_WR: i32 = 2;
pub(crate) const ERRNO_SUCCESS: i32 = 0;
pub(crate) const ERRNO_AGAIN: i32 = 6;
pub(crate) const ERRNO_ALREADY: i32 = 7;
pub(crate) const ERRNO_INPROGRESS: i32 = 26;
pub(crate) const ERRNO_ISCONN: i32 = 30;
#[cfg_attr(target_os = "wasi", allow(dead_code))]
pub(crate) const ERRNO_NOSYS: i32 = 52;

/// Declares the imports of module `wasi_snapshot_preview1` on WASI, and same-named ENOSYS
/// functions elsewhere (see the module docs).
macro_rules! wasi_imports {
    ($( fn $name:ident($($arg:ident: $ty:ty),* $(,)?); )*) => {
        #[cfg(target_os = "wasi")]
        #[link(wasm_import_module = "wasi_snapshot_preview1")]
        unsafe extern "C" {
            $( pub(crate) fn $name($($arg: $ty),*) -> i32; )*
        }

        $(
            #[cfg(not(target_os = "wasi"))]
            #[allow(unused_variables, clippy::missing_safety_doc)]
            pub(crate) unsafe extern "C" fn $name($($arg: $ty),*) -> i32 {
                ERRNO_NOSYS
            }
        )*
    };
}

wasi_imports! {
    // Core operations (spec §3.1).
    fn sock_open(poolfd: i32, af: i32, socktype: i32, fd_out: *mut u32);
    fn sock_bind(fd: i32, addr: *const WasiAddr);
    fn sock_connect(fd: i32, addr: *const WasiAddr);
    fn sock_listen(fd: i32, backlog: i32);
    fn sock_accept(fd: i32, fdflags: i32, fd_out: *mut u32);
    fn sock_addr_local(fd: i32, addr_out: *mut WasiAddr);
    fn sock_addr_remote(fd: i32, addr_out: *mut WasiAddr);
    fn sock_addr_resolve(
        host: *const u8,
        service: *const u8,
        hints: *const WasiHints,
        info_out: *mut WasiAddrInfo,
        capacity: u32,
        total_out: *mut u32,
    );
    fn sock_recv(fd: i32, iovs: *const Iovec, iovs_len: u32, riflags: i32, nread_out: *mut u32, roflags_out: *mut u16);
    fn sock_recv_from(fd: i32, iovs: *const Iovec, iovs_len: u32, riflags: i32, src_out: *mut WasiAddr, nread_out: *mut u32);
    fn sock_send(fd: i32, iovs: *const Ciovec, iovs_len: u32, siflags: i32, nwritten_out: *mut u32);
    fn sock_send_to(fd: i32, iovs: *const Ciovec, iovs_len: u32, siflags: i32, dest: *const WasiAddr, nwritten_out: *mut u32);
    fn sock_shutdown(fd: i32, sdflags: i32);

    // Socket options (spec §3.2). Boolean and TTL getters write ONE byte; timeouts are u64 µs.
    fn sock_set_recv_timeout(fd: i32, timeout_us: u64);
    fn sock_get_recv_timeout(fd: i32, timeout_us_out: *mut u64);
    fn sock_set_send_timeout(fd: i32, timeout_us: u64);
    fn sock_get_send_timeout(fd: i32, timeout_us_out: *mut u64);
    fn sock_set_recv_buf_size(fd: i32, size: u32);
    fn sock_get_recv_buf_size(fd: i32, size_out: *mut u64);
    fn sock_set_send_buf_size(fd: i32, size: u32);
    fn sock_get_send_buf_size(fd: i32, size_out: *mut u64);
    fn sock_set_keep_alive(fd: i32, on: i32);
    fn sock_get_keep_alive(fd: i32, on_out: *mut u8);
    fn sock_set_reuse_addr(fd: i32, on: i32);
    fn sock_get_reuse_addr(fd: i32, on_out: *mut u8);
    fn sock_set_reuse_port(fd: i32, on: i32);
    fn sock_get_reuse_port(fd: i32, on_out: *mut u8);
    fn sock_set_broadcast(fd: i32, on: i32);
    fn sock_get_broadcast(fd: i32, on_out: *mut u8);
    fn sock_set_tcp_no_delay(fd: i32, on: i32);
    fn sock_get_tcp_no_delay(fd: i32, on_out: *mut u8);
    fn sock_set_tcp_keep_idle(fd: i32, seconds: u32);
    fn sock_get_tcp_keep_idle(fd: i32, seconds_out: *mut u32);
    fn sock_set_tcp_keep_intvl(fd: i32, seconds: u32);
    fn sock_get_tcp_keep_intvl(fd: i32, seconds_out: *mut u32);
    fn sock_set_linger(fd: i32, on: i32, seconds: i32);
    fn sock_get_linger(fd: i32, on_out: *mut u8, seconds_out: *mut i32);
    fn sock_set_ip_ttl(fd: i32, ttl: i32);
    fn sock_get_ip_ttl(fd: i32, ttl_out: *mut u8);
    fn sock_set_ip_multicast_ttl(fd: i32, ttl: i32);
    fn sock_get_ip_multicast_ttl(fd: i32, ttl_out: *mut u8);
    fn sock_set_ip_multicast_loop(fd: i32, ipv6: i32, on: i32);
    fn sock_get_ip_multicast_loop(fd: i32, ipv6: i32, on_out: *mut u8);
    fn sock_set_ip_add_membership(fd: i32, group: *const WasiAddrIp, interface: u32);
    fn sock_set_ip_drop_membership(fd: i32, group: *const WasiAddrIp, interface: u32);
    fn sock_set_ipv6_only(fd: i32, on: i32);
    fn sock_get_ipv6_only(fd: i32, on_out: *mut u8);

    // WASI preview 1 calls std keeps to itself.
    fn fd_fdstat_get(fd: i32, stat_out: *mut Fdstat);
    fn fd_fdstat_set_flags(fd: i32, flags: i32);
    fn poll_oneoff(subscriptions: *const Subscription, events_out: *mut Event, count: u32, nevents_out: *mut u32);
}

/// A WASI errno as an `io::Result`. On wasm32-wasip1 std's raw OS error numbers ARE the WASI
/// errnos, so `kind()` and `Display` work as for std's own sockets.
pub(crate) fn cvt(errno: i32) -> io::Result<()> {
    if errno == ERRNO_SUCCESS { Ok(()) } else { Err(error(errno)) }
}

#[cfg(target_os = "wasi")]
pub(crate) fn error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

#[cfg(not(target_os = "wasi"))]
pub(crate) fn error(errno: i32) -> io::Error {
    if errno == ERRNO_NOSYS {
        io::Error::new(io::ErrorKind::Unsupported, "wasock-net sockets work only on wasm32-wasip1")
    } else {
        io::Error::other(format!("WASI errno {errno}"))
    }
}
