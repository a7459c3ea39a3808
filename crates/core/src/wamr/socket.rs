//! Creating, naming and connecting sockets (spec §3.1): `sock_open`, `sock_bind`,
//! `sock_connect`, `sock_listen`, `sock_addr_local`, `sock_addr_remote`, `sock_close`, and
//! the accept and shutdown shared with WASI preview 1's `sock_accept`/`sock_shutdown`.
//!
//! A socket's states are the kernel's; we keep none of our own beyond the guest's NONBLOCK
//! flag and timeouts in [`Socket`]. Address-pool checks come before the fd lookup and before
//! any system call, in WAMR's order: kind (EPROTONOSUPPORT), pool (EACCES), fd.

use std::net::{Shutdown, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Type};

use super::abi::{self, address_family, sock_type};
use super::io::{deadline, wait_ready};
use super::{check_bind, check_destination, with_socket};
use crate::abi::{fdflags, rights, sockflags};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::net::{Direction, Socket};
use crate::policy;
use crate::table::{Descriptor, Kind};

/// `sock_open(poolfd, af, socktype, *fd)`: a new socket at the lowest free fd. As in WAMR,
/// `poolfd` is ignored, any `af` other than INET6 gives IPv4 and any `socktype` other than
/// DGRAM gives TCP. No address-pool check: an unbound, unconnected socket reaches nothing.
pub fn sock_open(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    _poolfd: u32,
    af: u32,
    socktype: u32,
    sockfd: u32,
) -> Result<()> {
    mem.check(sockfd, 4)?;
    let domain = if af as i32 == address_family::INET6 { Domain::IPV6 } else { Domain::IPV4 };
    let stream = socktype as i32 != sock_type::SOCKET_DGRAM;
    let host = if stream {
        socket2::Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?
    } else {
        socket2::Socket::new(domain, Type::DGRAM, None)?
    };
    let fd = cx.push(Descriptor::new(Kind::Socket(Socket::new(host, stream)?)))?;
    mem.write(sockfd, fd)?;
    Ok(())
}

/// `sock_bind(fd, *addr)`. Unlike WAMR, SO_LINGER is left alone (WAMR forces {1, 0}, which
/// turns every close of a bound or accepted TCP socket into a reset).
pub fn sock_bind(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr(mem, addr)?;
    check_bind(cx, "sock_bind", addr)?;
    with_socket(cx, fd, rights::SOCK_BIND, |sock| bind(cx, sock, addr))
}

/// Binds a socket to an address the pool allows. An IPv6 socket bound to `::` would also
/// take IPv4 peers: without `0.0.0.0` in the pool it is made IPv6-only first (the guest
/// sees IPV6_V6ONLY set, and Linux refuses to change it once bound).
fn bind(cx: &Ctx, sock: &Socket, addr: SocketAddr) -> Result<()> {
    // On an IPv4 socket the option does not exist (the bind itself then fails).
    if addr.is_ipv6() && cx.policy.bind_needs_v6only(addr.ip()) && sock.socket.only_v6().is_ok_and(|on| !on) {
        cx.trace(format_args!(
            "sock_bind on {addr}: made IPv6-only, since 0.0.0.0 is outside the address pool \
             (allow IPv4 peers too with --addr-pool=0.0.0.0/32)"
        ));
        sock.socket.set_only_v6(true)?;
    }
    Ok(sock.socket.bind(&SockAddr::from(addr))?)
}

/// `sock_connect(fd, *addr)`: blocks until connected unless the guest chose non-blocking
/// mode (then EINPROGRESS, and the socket turns writable when done).
pub fn sock_connect(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr(mem, addr)?;
    check_destination(cx, "sock_connect", addr)?;
    with_socket(cx, fd, rights::SOCK_CONNECT, |sock| connect(cx, sock, addr))
}

/// Connects on the non-blocking host socket and, for a blocking guest, waits for the
/// outcome. As on Linux, an expired SO_SNDTIMEO leaves the connection in progress
/// (EINPROGRESS).
fn connect(cx: &Ctx, sock: &Socket, addr: SocketAddr) -> Result<()> {
    match sock.socket.connect(&SockAddr::from(addr)) {
        Ok(()) => return Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINPROGRESS) | Some(libc::EINTR)) => {}
        Err(e) => return Err(e.into()),
    }
    if sock.is_nonblocking() {
        return Err(Errno::InProgress.into());
    }
    if !wait_ready(cx, sock, Direction::Write, deadline(sock, Direction::Write))? {
        return Err(Errno::InProgress.into());
    }
    match sock.socket.take_error()? {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `sock_listen(fd, backlog)`; the backlog goes to the OS as an int, as in WAMR.
///
/// Listening on a stream socket that was never bound makes the kernel bind it to the
/// wildcard address of its family and a free port, which anyone can then reach: that
/// implicit bind is judged as a bind to the wildcard (EACCES unless the pool grants
/// `0.0.0.0` or `::`) and made explicitly, through the same path as `sock_bind`.
pub fn sock_listen(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, backlog: u32) -> Result<()> {
    with_socket(cx, fd, rights::SOCK_LISTEN, |sock| {
        if sock.stream {
            let local = inet(sock.socket.local_addr()?)?;
            if local.port() == 0 {
                let wildcard = SocketAddr::new(policy::implicit_bind_address(local.is_ipv6()), 0);
                check_bind(cx, "sock_listen (implicit bind)", wildcard)?;
                bind(cx, sock, wildcard)?;
            }
        }
        Ok(sock.socket.listen(backlog as i32)?)
    })
}

/// `sock_accept(fd, flags, *new_fd)` for both WASI preview 1 and WAMR. Unlike WAMR, the
/// NONBLOCK flag is honoured; other flag bits are ignored, as WAMR ignores them all. The new
/// socket inherits the listener's timeouts, as the kernel's own SO_RCVTIMEO/SO_SNDTIMEO are
/// inherited under WAMR.
pub(crate) fn accept(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, flags: u32, new_fd: u32) -> Result<()> {
    mem.check(new_fd, 4)?;
    let socket = with_socket(cx, fd, rights::SOCK_ACCEPT, |listener| {
        // At the fd limit, leave the connection queued (as accept(2) does at EMFILE) rather
        // than take it off the queue and close it. Another guest thread may still take the
        // last slot between this check and the push below; then the connection is lost.
        if cx.table().is_full() {
            return Err(Errno::Mfile.into());
        }
        let host_flags = rustix::net::SocketFlags::NONBLOCK | rustix::net::SocketFlags::CLOEXEC;
        let host = listener.blocking(cx, Direction::Read, || {
            rustix::net::accept_with(&listener.socket, host_flags).map_err(std::io::Error::from)
        })?;
        let socket = Socket::from_nonblocking(socket2::Socket::from(host), listener.stream);
        socket.set_nonblocking(flags as u16 & fdflags::NONBLOCK != 0);
        for dir in [Direction::Read, Direction::Write] {
            socket.set_timeout_us(dir, listener.timeout_us(dir));
        }
        Ok(socket)
    })?;
    let fd = cx.push(Descriptor::new(Kind::Socket(socket)))?;
    mem.write(new_fd, fd)?;
    Ok(())
}

/// `sock_addr_local(fd, *addr)`: the bound address (0.0.0.0:0 or [::]:0 before bind).
pub fn sock_addr_local(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_SIZE)?;
    let local = with_socket(cx, fd, rights::SOCK_ADDR_LOCAL, |sock| inet(sock.socket.local_addr()?))?;
    abi::write_addr(mem, addr, local)?;
    Ok(())
}

/// `sock_addr_remote(fd, *addr)`: the peer, or ENOTCONN. WAMR checks the ADDR_LOCAL right
/// here by mistake; we check ADDR_REMOTE (sockets hold both).
pub fn sock_addr_remote(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_SIZE)?;
    let peer = with_socket(cx, fd, rights::SOCK_ADDR_REMOTE, |sock| inet(sock.socket.peer_addr()?))?;
    abi::write_addr(mem, addr, peer)?;
    Ok(())
}

/// An IPv4 or IPv6 address, or EAFNOSUPPORT.
fn inet(addr: SockAddr) -> Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| Errno::AfNoSupport.into())
}

/// `sock_close(fd)`: ENOSYS and nothing else, exactly as WAMR (sockets close with
/// `fd_close`; a guest that probes `sock_close` must not lose the fd).
pub fn sock_close(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `sock_shutdown(fd, how)` for both WASI preview 1 and WAMR. `how` is `$sdflags`: RD (1),
/// WR (2) or both (3), which are also lib-socket's SHUT_RD/SHUT_WR/SHUT_RDWR. WAMR ignores it
/// and always shuts both ways; we honour it, and 0 or other bits are EINVAL. No rights are
/// needed, as in WAMR.
pub(crate) fn shutdown(cx: &Ctx, fd: u32, how: u32) -> Result<()> {
    const RD: u32 = sockflags::SHUT_RD as u32;
    const WR: u32 = sockflags::SHUT_WR as u32;
    let how = match how & 0xff {
        RD => Shutdown::Read,
        WR => Shutdown::Write,
        both if both == RD | WR => Shutdown::Both,
        _ => return Err(Errno::Inval.into()),
    };
    with_socket(cx, fd, 0, |sock| Ok(sock.socket.shutdown(how)?))
}
