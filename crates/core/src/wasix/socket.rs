//! Creating, naming and connecting sockets: `sock_open`, `sock_bind`, `sock_listen`,
//! `sock_accept_v2`, `sock_connect`, `sock_status`, `sock_addr_local`, `sock_addr_peer`.
//!
//! The work is done by [`crate::sock`], which checks the address pool before the fd lookup
//! and before any system call; a denial is EACCES (2, WASI's numbering, which WASIX keeps)
//! with the same `--trace` line as for every other ABI.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsFd;
use std::time::Duration;

use super::abi::{self, address_family, sock_proto, sock_status, sock_type};
use crate::abi::{fdflags, rights};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::policy::{Call, Proto};
use crate::sock::{self, with_socket};
use crate::sys;

/// `sock_open(af, socktype, protocol, *fd)`: a TCP or UDP socket at the lowest free fd.
///
/// - `af`: INET4 or INET6; UNIX and anything else is EAFNOSUPPORT.
/// - `socktype`: STREAM or DGRAM, possibly with wasix-libc's `SOCK_NONBLOCK` (0x4000, which
///   its `socket()` passes on unmasked: the socket starts non-blocking) and `SOCK_CLOEXEC`
///   (0x2000, ignored: there is no exec). RAW, SEQPACKET and other types are ENOTSUP, as in
///   wasmer.
/// - `protocol`: 0, or the one the type implies (TCP 6 for STREAM, UDP 17 for DGRAM); any
///   other is EPROTONOSUPPORT.
///
/// No address-pool check: an unbound, unconnected socket reaches nothing.
pub fn sock_open(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    af: u32,
    socktype: u32,
    protocol: u32,
    fd: u32,
) -> Result<()> {
    mem.check(fd, 4)?;
    let ipv6 = match u8::try_from(af) {
        Ok(address_family::INET4) => false,
        Ok(address_family::INET6) => true,
        _ => return Err(Errno::AfNoSupport.into()),
    };
    let nonblock = socktype & sock_type::NONBLOCK_BIT != 0;
    let stream = match socktype & !(sock_type::NONBLOCK_BIT | sock_type::CLOEXEC_BIT) {
        sock_type::STREAM => true,
        sock_type::DGRAM => false,
        _ => return Err(Errno::NotSup.into()),
    };
    match (protocol, stream) {
        (sock_proto::IP, _) | (sock_proto::TCP, true) | (sock_proto::UDP, false) => {}
        _ => return Err(Errno::ProtoNoSupport.into()),
    }
    let new = sock::open(cx, ipv6, stream)?;
    if nonblock {
        with_socket(cx, new, 0, |s| {
            s.set_nonblocking(true);
            Ok(())
        })?;
    }
    mem.write(fd, new)?;
    Ok(())
}

/// Whether a bind is wasix-libc's port byte-order probe: TCP `0.0.0.0:10275` (doc §4.3). A
/// program of its own may bind that too; it is then refused or granted as any bind is, only
/// the trace line differs.
fn is_port_probe(addr: SocketAddr) -> bool {
    addr == SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), abi::PROBE_PORT)
}

/// `sock_bind(fd, *addr_port)`: binds on the host now (unlike wasmer, which defers a TCP
/// bind to `listen`/`connect`), so `sock_addr_local` reports the bound address and port
/// exactly, and EADDRINUSE comes from `bind` where POSIX puts it.
///
/// **The port probe.** wasix-libc's `accept`, `getsockname`, `getpeername`, `recvfrom` and
/// `recvmsg` each once open a TCP socket, bind it to `0.0.0.0:10275`, read it back with
/// `sock_addr_local` and close it, to learn whether the host writes ports big- or
/// little-endian. Any failure along the way makes it assume little-endian, which is how
/// wasock writes them. So under a pool that does not grant `0.0.0.0`, the least-privilege
/// answer is the ordinary refusal: EACCES before any system call, nothing bound, nothing
/// pretended. The only difference is the trace line, which says that nothing needs
/// allowing, instead of suggesting `--addr-pool=0.0.0.0/32`, which would grant every
/// wildcard bind for nothing. (Answering "bound" without binding would need a fake state
/// on the socket that `listen` and `sock_addr_local` honour, for no gain in correctness.)
/// Under a pool that grants `0.0.0.0` the guest may bind there anyway, and the probe's bind
/// is real: it reports 10275, and the probe concludes little-endian as well; a busy port is
/// EADDRINUSE, which also leads it to little-endian.
pub fn sock_bind(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr_port(mem, addr)?;
    let probe = is_port_probe(addr).then(|| cx.policy.decide(Call::Bind, Proto::Tcp, addr.ip(), addr.port()));
    if let Some(decision) = probe.filter(|d| !d.allowed()) {
        cx.log_decision("sock_bind", &decision);
        cx.trace(format_args!(
            "denied: sock_bind on {addr} is outside the address pool; this is most likely wasix-libc's \
             port byte-order probe, which then takes ports as little-endian, as wasock writes them, so \
             nothing needs allowing (if the program itself binds this address, allow it with \
             --allow-net=tcp:bind:0.0.0.0:10275)"
        ));
        return Err(Errno::Acces.into());
    }
    sock::bind(cx, "sock_bind", fd, rights::SOCK_BIND, addr)
}

/// `sock_listen(fd, backlog)`. A socket never bound is judged as a bind to the wildcard of
/// its family (see [`sock::listen`]); wasmer refuses it with EINVAL instead.
pub fn sock_listen(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, backlog: u32) -> Result<()> {
    // A backlog above i32::MAX is the kernel's maximum anyway.
    sock::listen(cx, "sock_listen", fd, rights::SOCK_LISTEN, i32::try_from(backlog).unwrap_or(i32::MAX))
}

/// The unspecified address of `addr`'s family, port 0.
fn unspecified_like(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// `sock_accept_v2(fd, fdflags, *new_fd, *peer_addr_port)`: accepts a connection into the
/// lowest free fd and reports its peer. The fd flag NONBLOCK (4) makes the new socket
/// non-blocking; other flags are ignored. Unlike wasmer, a non-blocking listener does not
/// make the new socket non-blocking (POSIX's `accept4`). Both outputs are bounds-checked
/// before the connection is taken. Also linked as `wasix_32v1.sock_accept`, which wasmer
/// binds to this function.
pub fn sock_accept_v2(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    new_fd: u32,
    addr: u32,
) -> Result<()> {
    mem.check(new_fd, 4)?;
    mem.check(addr, abi::ADDR_PORT_WRITTEN_MAX)?;
    let accepted = sock::accept(cx, fd, rights::SOCK_ACCEPT, flags as u16 & fdflags::NONBLOCK != 0)?;
    // A peer that has already reset leaves no address to ask for (accept(2) would still
    // know it): the unspecified address of the family then, rather than failing an accept
    // that happened.
    let peer = sock::peer_addr(cx, accepted, 0).unwrap_or_else(|_| {
        let local = sock::local_addr(cx, accepted, 0);
        local.map_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), unspecified_like)
    });
    mem.write(new_fd, accepted)?;
    abi::write_addr_port(mem, addr, peer)?;
    Ok(())
}

/// `sock_connect(fd, *addr_port)`: blocks until connected unless the socket is non-blocking
/// (then EINPROGRESS, and the socket turns writable when done; Rust std then waits in
/// `poll_oneoff`). On a datagram socket it sets the default peer.
pub fn sock_connect(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr_port(mem, addr)?;
    sock::connect(cx, "sock_connect", fd, rights::SOCK_CONNECT, addr)
}

/// `sock_addr_local(fd, *addr_port)`: the bound address (the unspecified address of the
/// socket's family, port 0, before a bind), ports little-endian (see [`super::abi`]).
pub fn sock_addr_local(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_PORT_WRITTEN_MAX)?;
    let local = sock::local_addr(cx, fd, rights::SOCK_ADDR_LOCAL)?;
    abi::write_addr_port(mem, addr, local)?;
    Ok(())
}

/// `sock_addr_peer(fd, *addr_port)`: the peer, or ENOTCONN (POSIX's `getpeername`; wasmer
/// reports the unspecified address for an unconnected socket).
pub fn sock_addr_peer(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_PORT_WRITTEN_MAX)?;
    let peer = sock::peer_addr(cx, fd, rights::SOCK_ADDR_REMOTE)?;
    abi::write_addr_port(mem, addr, peer)?;
    Ok(())
}

/// `sock_status(fd, *status)`, one byte:
/// - a listening or connected stream, or a bound datagram socket: OPENED;
/// - a stream whose connection attempt failed, with the error not yet collected (the kernel
///   reports POLLERR; a receive or send collects it): FAILED;
/// - anything else (fresh, bound, connecting, or a stream whose connection is over): OPENING.
///
/// CLOSED is never reported: a closed fd is EBADF, and the kernel keeps no trace of whether
/// an unconnected stream was connected once.
pub fn sock_status(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, status: u32) -> Result<()> {
    mem.check(status, 1)?;
    let now = with_socket(cx, fd, 0, |sock| {
        if !sock.stream {
            let bound = sock.socket.local_addr()?.as_socket().is_some_and(|a| a.port() != 0);
            return Ok(if bound { sock_status::OPENED } else { sock_status::OPENING });
        }
        let listening = sys::getsockopt_int(sock.socket.as_fd(), libc::SOL_SOCKET, libc::SO_ACCEPTCONN)? != 0;
        if listening || sock.socket.peer_addr().is_ok() {
            return Ok(sock_status::OPENED);
        }
        let mut set = [sys::pollfd(sock.socket.as_fd(), 0)];
        sys::poll(&mut set, Some(Duration::ZERO))?;
        let failed = set[0].revents & sys::POLLERR != 0;
        Ok(if failed { sock_status::FAILED } else { sock_status::OPENING })
    })?;
    mem.write(status, now)?;
    Ok(())
}
