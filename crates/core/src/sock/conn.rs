//! Creating, naming and connecting sockets. The policy is asked before any system call
//! ([`with_allowed_socket`]); bind and connect happen only here.

use std::net::{Shutdown, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Type};

use super::io::{deadline, wait_ready};
use super::{check, inet, with_allowed_socket, with_socket};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::net::{Direction, Socket};
use crate::policy::{self, Call};
use crate::table::{Descriptor, Kind};

/// A new TCP (`stream`) or UDP socket at the lowest free fd. No address-pool check: an
/// unbound, unconnected socket reaches nothing.
pub(crate) fn open(cx: &Ctx, ipv6: bool, stream: bool) -> Result<u32> {
    let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let host = if stream {
        socket2::Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?
    } else {
        socket2::Socket::new(domain, Type::DGRAM, None)?
    };
    Ok(cx.push(Descriptor::new(Kind::Socket(Socket::new(host, stream)?)))?)
}

/// Binds the socket at `fd` (which must hold `rights`) to `addr`, if the policy allows it.
pub(crate) fn bind(cx: &Ctx, call: &str, fd: u32, rights: u64, addr: SocketAddr) -> Result<()> {
    with_allowed_socket(cx, call, Call::Bind, fd, rights, addr, |sock| bind_checked(cx, call, sock, addr))
}

/// Binds a socket to an address the policy allows. An IPv6 socket bound to `::` would also
/// take IPv4 peers: unless the policy allows binding `0.0.0.0` too it is made IPv6-only
/// first (the guest sees IPV6_V6ONLY set, and Linux refuses to change it once bound).
fn bind_checked(cx: &Ctx, call: &str, sock: &Socket, addr: SocketAddr) -> Result<()> {
    // On an IPv4 socket the option does not exist (the bind itself then fails).
    if addr.is_ipv6()
        && cx.policy.bind_needs_v6only(sock.proto(), addr.ip(), addr.port())
        && sock.socket.only_v6().is_ok_and(|on| !on)
    {
        let allow = if cx.policy.has_rules() {
            format!("--allow-net={}:bind:0.0.0.0:{}", sock.proto(), addr.port())
        } else {
            "--addr-pool=0.0.0.0/32".to_string()
        };
        cx.trace(format_args!(
            "{call} on {addr}: made IPv6-only, since the policy does not allow binding 0.0.0.0 \
             (allow IPv4 peers too with {allow})"
        ));
        sock.socket.set_only_v6(true)?;
    }
    Ok(sock.socket.bind(&SockAddr::from(addr))?)
}

/// Connects the socket at `fd` to `addr`, if the policy allows every address that reaches.
/// A blocking guest waits for the outcome; a non-blocking one gets EINPROGRESS, and the
/// socket turns writable when done. As on Linux, an expired SO_SNDTIMEO leaves the
/// connection in progress (EINPROGRESS).
pub(crate) fn connect(cx: &Ctx, call: &str, fd: u32, rights: u64, addr: SocketAddr) -> Result<()> {
    with_allowed_socket(cx, call, Call::Connect, fd, rights, addr, |sock| {
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
    })
}

/// `listen(backlog)` on the socket at `fd`.
///
/// Listening on a stream socket that was never bound makes the kernel bind it to the
/// wildcard address of its family and a free port, which anyone can then reach: that
/// implicit bind is judged as a listen on the wildcard, port 0 (EACCES unless the policy
/// allows binding `0.0.0.0` or `::`) and made explicitly, through the same path as an
/// explicit bind.
pub(crate) fn listen(cx: &Ctx, call: &str, fd: u32, rights: u64, backlog: i32) -> Result<()> {
    with_socket(cx, fd, rights, |sock| {
        if sock.stream {
            let local = inet(sock.socket.local_addr()?)?;
            if local.port() == 0 {
                let wildcard = SocketAddr::new(policy::implicit_bind_address(local.is_ipv6()), 0);
                let call = format!("{call} (implicit bind)");
                check(cx, &call, Call::Listen, sock.proto(), wildcard)?;
                bind_checked(cx, &call, sock, wildcard)?;
            }
        }
        Ok(sock.socket.listen(backlog)?)
    })
}

/// Accepts a connection on the listener at `fd` into the lowest free fd; the new socket is
/// non-blocking for the guest when `nonblock` is set, and inherits the listener's timeouts
/// (as the kernel's own SO_RCVTIMEO/SO_SNDTIMEO are inherited).
pub(crate) fn accept(cx: &Ctx, fd: u32, rights: u64, nonblock: bool) -> Result<u32> {
    let socket = with_socket(cx, fd, rights, |listener| {
        // At the fd limit, leave the connection queued (as accept(2) does at EMFILE) rather
        // than take it off the queue and close it. Another guest thread may still take the
        // last slot between this check and the push below; then the connection is lost.
        if cx.table().is_full() {
            return Err(Errno::Mfile.into());
        }
        let host_flags = rustix::net::SocketFlags::NONBLOCK | rustix::net::SocketFlags::CLOEXEC;
        let host = listener.blocking(cx, Direction::Read, || {
            let host =
                rustix::net::accept_with(&listener.socket, host_flags).map_err(std::io::Error::from)?;
            let host = socket2::Socket::from(host);
            if !cx.policy.allow_peer.is_empty() && !peer_allowed(cx, &host, listener.proto()) {
                // Dropped: wait for the next connection as if this one never came.
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            Ok(host)
        })?;
        let socket = Socket::from_nonblocking(host, listener.stream);
        socket.set_nonblocking(nonblock);
        for dir in [Direction::Read, Direction::Write] {
            socket.set_timeout_us(dir, listener.timeout_us(dir));
        }
        Ok(socket)
    })?;
    Ok(cx.push(Descriptor::new(Kind::Socket(socket)))?)
}

/// Whether `--allow-peer` lets the peer of the just-accepted `host` in, reported either way
/// (a refused connection is closed when `host` is dropped). A peer the kernel no longer knows (it
/// reset already) is refused.
fn peer_allowed(cx: &Ctx, host: &socket2::Socket, proto: policy::Proto) -> bool {
    let Some(peer) = host.peer_addr().ok().and_then(|a| a.as_socket()) else { return false };
    let decision = cx.policy.decide_peer(Call::Accept, proto, peer.ip(), peer.port());
    cx.report("sock_accept", &decision);
    decision.allowed()
}

/// Shuts the socket at `fd` down one or both ways. No rights are needed, as in WAMR.
pub(crate) fn shutdown(cx: &Ctx, fd: u32, how: Shutdown) -> Result<()> {
    with_socket(cx, fd, 0, |sock| Ok(sock.socket.shutdown(how)?))
}

/// The bound address (0.0.0.0:0 or [::]:0 before bind).
pub(crate) fn local_addr(cx: &Ctx, fd: u32, rights: u64) -> Result<SocketAddr> {
    with_socket(cx, fd, rights, |sock| inet(sock.socket.local_addr()?))
}

/// The peer, or ENOTCONN.
pub(crate) fn peer_addr(cx: &Ctx, fd: u32, rights: u64) -> Result<SocketAddr> {
    with_socket(cx, fd, rights, |sock| inet(sock.socket.peer_addr()?))
}
