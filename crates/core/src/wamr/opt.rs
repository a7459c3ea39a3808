//! Socket options (spec §3.2): one setter and one getter per option.
//!
//! As in WAMR, no rights are needed (the fd must exist: EBADF; a file is ENOTSOCK), values
//! are not checked beyond what the OS checks, and a getter stores exactly as many bytes as
//! WAMR does: **1** for booleans and TTLs (lib-socket passes the caller's `int*` straight
//! through, so writing 4 would clobber bytes 1..3), 4 for sizes and seconds, 8 for the
//! microsecond timeouts. WAMR's buf-size getters store 8 bytes (a `size_t`) into a 4-byte
//! slot; ours store 4. Boolean arguments are C `bool`s in WAMR: the low 8 bits count, any
//! non-zero value is true.
//!
//! Timeouts are kept by wasock (the host socket is non-blocking) and read back exactly as
//! set; Linux would round them to its clock tick.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;

use super::abi;
use crate::ctx::Ctx;
use crate::errno::Result;
use crate::memory::GuestMemory;
use crate::net::{Direction, Socket};
use crate::sock::with_socket;
use crate::sys;

/// TCP_KEEPIDLE is called TCP_KEEPALIVE on Apple systems.
#[cfg(any(target_os = "macos", target_os = "ios"))]
const TCP_KEEPIDLE: libc::c_int = libc::TCP_KEEPALIVE;
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
const TCP_KEEPIDLE: libc::c_int = libc::TCP_KEEPIDLE;

/// Runs an option call on the socket at `fd` (no rights needed).
fn opt<T>(cx: &Ctx, fd: u32, op: impl FnOnce(&Socket) -> io::Result<T>) -> Result<T> {
    with_socket(cx, fd, 0, |sock| Ok(op(sock)?))
}

/// A C `bool` argument: the low byte, non-zero is true.
fn flag(value: u32) -> bool {
    value as u8 != 0
}

/// Sets a boolean option.
fn set_bool(
    cx: &Ctx,
    fd: u32,
    value: u32,
    op: impl FnOnce(&socket2::Socket, bool) -> io::Result<()>,
) -> Result<()> {
    opt(cx, fd, |sock| op(&sock.socket, flag(value)))
}

/// Gets a boolean option into the 1 byte at `out` (0 or 1).
fn get_bool(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
    op: impl FnOnce(&socket2::Socket) -> io::Result<bool>,
) -> Result<()> {
    mem.check(out, 1)?;
    let on = opt(cx, fd, |sock| op(&sock.socket))?;
    mem.write(out, on as u8)?;
    Ok(())
}

/// Gets a u32 option into the 4 bytes at `out`.
fn get_u32(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
    op: impl FnOnce(&Socket) -> io::Result<u32>,
) -> Result<()> {
    mem.check(out, 4)?;
    let value = opt(cx, fd, op)?;
    mem.write(out, value)?;
    Ok(())
}

/// Gets a TTL into the 1 byte at `out`.
fn get_ttl(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
    op: impl FnOnce(&socket2::Socket) -> io::Result<u32>,
) -> Result<()> {
    mem.check(out, 1)?;
    let ttl = opt(cx, fd, |sock| op(&sock.socket))?;
    mem.write(out, ttl as u8)?;
    Ok(())
}

fn set_timeout(cx: &Ctx, fd: u32, dir: Direction, us: u64) -> Result<()> {
    with_socket(cx, fd, 0, |sock| {
        sock.set_timeout_us(dir, us);
        Ok(())
    })
}

fn get_timeout(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, dir: Direction, out: u32) -> Result<()> {
    mem.check(out, 8)?;
    let us = with_socket(cx, fd, 0, |sock| Ok(sock.timeout_us(dir)))?;
    mem.write(out, us)?;
    Ok(())
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `sock_set_recv_timeout(fd, u64 µs)`: SO_RCVTIMEO; 0 means none.
pub fn sock_set_recv_timeout(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, timeout_us: u64) -> Result<()> {
    set_timeout(cx, fd, Direction::Read, timeout_us)
}

/// `sock_get_recv_timeout(fd, *u64)`: SO_RCVTIMEO in µs (8 bytes).
pub fn sock_get_recv_timeout(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, timeout_us: u32) -> Result<()> {
    get_timeout(cx, mem, fd, Direction::Read, timeout_us)
}

/// `sock_set_send_timeout(fd, u64 µs)`: SO_SNDTIMEO (also bounds a blocking connect).
pub fn sock_set_send_timeout(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, timeout_us: u64) -> Result<()> {
    set_timeout(cx, fd, Direction::Write, timeout_us)
}

/// `sock_get_send_timeout(fd, *u64)`: SO_SNDTIMEO in µs (8 bytes).
pub fn sock_get_send_timeout(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, timeout_us: u32) -> Result<()> {
    get_timeout(cx, mem, fd, Direction::Write, timeout_us)
}

/// `sock_set_recv_buf_size(fd, size)`: SO_RCVBUF (Linux doubles it).
pub fn sock_set_recv_buf_size(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, size: u32) -> Result<()> {
    opt(cx, fd, |sock| sock.socket.set_recv_buffer_size(size as usize))
}

/// `sock_get_recv_buf_size(fd, *u32)`: SO_RCVBUF (4 bytes; WAMR writes 8).
pub fn sock_get_recv_buf_size(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, size: u32) -> Result<()> {
    get_u32(cx, mem, fd, size, |sock| sock.socket.recv_buffer_size().map(saturating_u32))
}

/// `sock_set_send_buf_size(fd, size)`: SO_SNDBUF (Linux doubles it).
pub fn sock_set_send_buf_size(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, size: u32) -> Result<()> {
    opt(cx, fd, |sock| sock.socket.set_send_buffer_size(size as usize))
}

/// `sock_get_send_buf_size(fd, *u32)`: SO_SNDBUF (4 bytes; WAMR writes 8).
pub fn sock_get_send_buf_size(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, size: u32) -> Result<()> {
    get_u32(cx, mem, fd, size, |sock| sock.socket.send_buffer_size().map(saturating_u32))
}

/// `sock_set_keep_alive(fd, bool)`: SO_KEEPALIVE.
pub fn sock_set_keep_alive(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    set_bool(cx, fd, is_enabled, |s, on| s.set_keepalive(on))
}

/// `sock_get_keep_alive(fd, *bool)`: 1 byte.
pub fn sock_get_keep_alive(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.keepalive())
}

/// `sock_set_reuse_addr(fd, bool)`: SO_REUSEADDR. On a stream socket it is always allowed:
/// Linux never lets it bind over a listening or connected socket, it only skips TIME_WAIT.
/// On a datagram socket it lets two sockets share a port, and unicast datagrams then go to
/// one of them: EACCES unless the policy allows port sharing.
pub fn sock_set_reuse_addr(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    with_socket(cx, fd, 0, |sock| {
        if flag(is_enabled) && !sock.stream {
            crate::sock::check_port_sharing(cx, "sock_set_reuse_addr", "SO_REUSEADDR on a UDP socket")?;
        }
        Ok(sock.socket.set_reuse_address(flag(is_enabled))?)
    })
}

/// `sock_get_reuse_addr(fd, *bool)`: 1 byte.
pub fn sock_get_reuse_addr(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.reuse_address())
}

/// `sock_set_reuse_port(fd, bool)`: SO_REUSEPORT. The kernel spreads the connections and
/// datagrams of a port over every socket of the same user bound to it with SO_REUSEPORT,
/// a host service's included: EACCES unless the policy allows port sharing. Turning it off
/// is always allowed.
pub fn sock_set_reuse_port(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    with_socket(cx, fd, 0, |sock| {
        if flag(is_enabled) {
            crate::sock::check_port_sharing(cx, "sock_set_reuse_port", "SO_REUSEPORT")?;
        }
        Ok(sock.socket.set_reuse_port(flag(is_enabled))?)
    })
}

/// `sock_get_reuse_port(fd, *bool)`: 1 byte.
pub fn sock_get_reuse_port(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.reuse_port())
}

/// `sock_set_broadcast(fd, bool)`: SO_BROADCAST. Sending to a broadcast address still needs
/// it in the address pool.
pub fn sock_set_broadcast(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    set_bool(cx, fd, is_enabled, |s, on| s.set_broadcast(on))
}

/// `sock_get_broadcast(fd, *bool)`: 1 byte.
pub fn sock_get_broadcast(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.broadcast())
}

/// `sock_set_tcp_no_delay(fd, bool)`: TCP_NODELAY.
pub fn sock_set_tcp_no_delay(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    set_bool(cx, fd, is_enabled, |s, on| s.set_tcp_nodelay(on))
}

/// `sock_get_tcp_no_delay(fd, *bool)`: 1 byte.
pub fn sock_get_tcp_no_delay(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.tcp_nodelay())
}

/// `sock_set_tcp_quick_ack(fd, bool)`: TCP_QUICKACK; ENOSYS where the OS lacks it, as WAMR.
pub fn sock_set_tcp_quick_ack(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return set_bool(cx, fd, is_enabled, |s, on| s.set_tcp_quickack(on));
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return opt(cx, fd, |_| Err(io::Error::from_raw_os_error(libc::ENOSYS)));
}

/// `sock_get_tcp_quick_ack(fd, *bool)`: 1 byte.
pub fn sock_get_tcp_quick_ack(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return get_bool(cx, mem, fd, is_enabled, |s| s.tcp_quickack());
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return get_bool(cx, mem, fd, is_enabled, |_| Err(io::Error::from_raw_os_error(libc::ENOSYS)));
}

/// `sock_set_tcp_fastopen_connect(fd, bool)`: TCP_FASTOPEN_CONNECT; ENOSYS where the OS lacks
/// it, as WAMR.
pub fn sock_set_tcp_fastopen_connect(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    is_enabled: u32,
) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return set_bool(cx, fd, is_enabled, |s, on| {
        sys::setsockopt_int(s.as_fd(), libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT, on as libc::c_int)
    });
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return opt(cx, fd, |_| Err(io::Error::from_raw_os_error(libc::ENOSYS)));
}

/// `sock_get_tcp_fastopen_connect(fd, *bool)`: 1 byte.
pub fn sock_get_tcp_fastopen_connect(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    is_enabled: u32,
) -> Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return get_bool(cx, mem, fd, is_enabled, |s| {
        Ok(sys::getsockopt_int(s.as_fd(), libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT)? != 0)
    });
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return get_bool(cx, mem, fd, is_enabled, |_| Err(io::Error::from_raw_os_error(libc::ENOSYS)));
}

/// `sock_set_ipv6_only(fd, bool)`: IPV6_V6ONLY.
pub fn sock_set_ipv6_only(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    set_bool(cx, fd, is_enabled, |s, on| s.set_only_v6(on))
}

/// `sock_get_ipv6_only(fd, *bool)`: 1 byte.
pub fn sock_get_ipv6_only(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, is_enabled: u32) -> Result<()> {
    get_bool(cx, mem, fd, is_enabled, |s| s.only_v6())
}

/// `sock_set_linger(fd, bool on, i32 seconds)`: SO_LINGER with exactly these two values.
pub fn sock_set_linger(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    is_enabled: u32,
    linger_s: u32,
) -> Result<()> {
    opt(cx, fd, |sock| sys::set_linger(sock.socket.as_fd(), flag(is_enabled), linger_s as i32))
}

/// `sock_get_linger(fd, *bool, *i32)`: 1 byte for on/off, 4 for the seconds.
pub fn sock_get_linger(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    is_enabled: u32,
    linger_s: u32,
) -> Result<()> {
    mem.check(is_enabled, 1)?;
    mem.check(linger_s, 4)?;
    let (on, secs) = opt(cx, fd, |sock| sys::linger(sock.socket.as_fd()))?;
    mem.write(is_enabled, on as u8)?;
    mem.write(linger_s, secs)?;
    Ok(())
}

/// `sock_set_tcp_keep_idle(fd, seconds)`: TCP_KEEPIDLE. Unlike socket2's keepalive setter it
/// does not also turn SO_KEEPALIVE on, as in WAMR.
pub fn sock_set_tcp_keep_idle(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, time_s: u32) -> Result<()> {
    opt(cx, fd, |sock| {
        sys::setsockopt_int(sock.socket.as_fd(), libc::IPPROTO_TCP, TCP_KEEPIDLE, time_s as i32)
    })
}

/// `sock_get_tcp_keep_idle(fd, *u32)`: 4 bytes.
pub fn sock_get_tcp_keep_idle(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, time_s: u32) -> Result<()> {
    get_u32(cx, mem, fd, time_s, |sock| {
        Ok(sys::getsockopt_int(sock.socket.as_fd(), libc::IPPROTO_TCP, TCP_KEEPIDLE)? as u32)
    })
}

/// `sock_set_tcp_keep_intvl(fd, seconds)`: TCP_KEEPINTVL.
pub fn sock_set_tcp_keep_intvl(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, time_s: u32) -> Result<()> {
    opt(cx, fd, |sock| {
        sys::setsockopt_int(sock.socket.as_fd(), libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, time_s as i32)
    })
}

/// `sock_get_tcp_keep_intvl(fd, *u32)`: 4 bytes.
pub fn sock_get_tcp_keep_intvl(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, time_s: u32) -> Result<()> {
    get_u32(cx, mem, fd, time_s, |sock| {
        Ok(sys::getsockopt_int(sock.socket.as_fd(), libc::IPPROTO_TCP, libc::TCP_KEEPINTVL)? as u32)
    })
}

/// `sock_set_ip_ttl(fd, ttl)`: IP_TTL from the low 8 bits, as WAMR.
pub fn sock_set_ip_ttl(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, ttl_s: u32) -> Result<()> {
    opt(cx, fd, |sock| sock.socket.set_ttl_v4(ttl_s & 0xff))
}

/// `sock_get_ip_ttl(fd, *u8)`: 1 byte.
pub fn sock_get_ip_ttl(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, ttl_s: u32) -> Result<()> {
    get_ttl(cx, mem, fd, ttl_s, |s| s.ttl_v4())
}

/// `sock_set_ip_multicast_ttl(fd, ttl)`: IP_MULTICAST_TTL from the low 8 bits.
pub fn sock_set_ip_multicast_ttl(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, ttl_s: u32) -> Result<()> {
    opt(cx, fd, |sock| sock.socket.set_multicast_ttl_v4(ttl_s & 0xff))
}

/// `sock_get_ip_multicast_ttl(fd, *u8)`: 1 byte.
pub fn sock_get_ip_multicast_ttl(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, ttl_s: u32) -> Result<()> {
    get_ttl(cx, mem, fd, ttl_s, |s| s.multicast_ttl_v4())
}

/// `sock_set_ip_multicast_loop(fd, bool ipv6, bool on)`: IPV6_MULTICAST_LOOP or
/// IP_MULTICAST_LOOP.
pub fn sock_set_ip_multicast_loop(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    ipv6: u32,
    is_enabled: u32,
) -> Result<()> {
    set_bool(cx, fd, is_enabled, |s, on| {
        if flag(ipv6) { s.set_multicast_loop_v6(on) } else { s.set_multicast_loop_v4(on) }
    })
}

/// `sock_get_ip_multicast_loop(fd, bool ipv6, *bool)`: 1 byte.
pub fn sock_get_ip_multicast_loop(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ipv6: u32,
    is_enabled: u32,
) -> Result<()> {
    get_bool(
        cx,
        mem,
        fd,
        is_enabled,
        |s| if flag(ipv6) { s.multicast_loop_v6() } else { s.multicast_loop_v4() },
    )
}

/// Joins or leaves the multicast group at `group` (an `__wasi_addr_ip_t`). For IPv6,
/// `interface` is an interface index; for IPv4 it is `in_addr.s_addr`, the address's
/// network-order bytes read as a little-endian u32 (spec §3.2), so 0 is INADDR_ANY.
fn membership(
    cx: &Ctx,
    mem: &GuestMemory<'_>,
    fd: u32,
    group: u32,
    interface: u32,
    join: bool,
) -> Result<()> {
    let group = abi::read_addr_ip(mem, group)?;
    opt(cx, fd, |sock| match group {
        IpAddr::V6(g) if join => sock.socket.join_multicast_v6(&g, interface),
        IpAddr::V6(g) => sock.socket.leave_multicast_v6(&g, interface),
        IpAddr::V4(g) => {
            let interface = Ipv4Addr::from(interface.to_le_bytes());
            if join {
                sock.socket.join_multicast_v4(&g, &interface)
            } else {
                sock.socket.leave_multicast_v4(&g, &interface)
            }
        }
    })
}

/// `sock_set_ip_add_membership(fd, *group, interface)`: IP_ADD_MEMBERSHIP or
/// IPV6_JOIN_GROUP. Not subject to the address pool, as in WAMR (joining sends nothing to
/// a chosen destination).
pub fn sock_set_ip_add_membership(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    imr_multiaddr: u32,
    imr_interface: u32,
) -> Result<()> {
    membership(cx, mem, fd, imr_multiaddr, imr_interface, true)
}

/// `sock_set_ip_drop_membership(fd, *group, interface)`: IP_DROP_MEMBERSHIP or
/// IPV6_LEAVE_GROUP.
pub fn sock_set_ip_drop_membership(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    imr_multiaddr: u32,
    imr_interface: u32,
) -> Result<()> {
    membership(cx, mem, fd, imr_multiaddr, imr_interface, false)
}
