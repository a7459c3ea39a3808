//! Creating, naming and connecting sockets (spec §3.1): `sock_open`, `sock_bind`,
//! `sock_connect`, `sock_listen`, `sock_addr_local`, `sock_addr_remote`, `sock_close`, and
//! the accept and shutdown shared with WASI preview 1's `sock_accept`/`sock_shutdown`.
//!
//! The work is done by [`crate::sock`]; address-pool checks come before the fd lookup and
//! before any system call, in WAMR's order: kind (EPROTONOSUPPORT), pool (EACCES), fd.

use std::net::Shutdown;

use super::abi::{self, address_family, sock_type};
use crate::abi::{fdflags, rights, sockflags};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::sock;

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
    let fd = sock::open(cx, af as i32 == address_family::INET6, socktype as i32 != sock_type::SOCKET_DGRAM)?;
    mem.write(sockfd, fd)?;
    Ok(())
}

/// `sock_bind(fd, *addr)`. Unlike WAMR, SO_LINGER is left alone (WAMR forces {1, 0}, which
/// turns every close of a bound or accepted TCP socket into a reset).
pub fn sock_bind(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr(mem, addr)?;
    sock::bind(cx, "sock_bind", fd, rights::SOCK_BIND, addr)
}

/// `sock_connect(fd, *addr)`: blocks until connected unless the guest chose non-blocking
/// mode (then EINPROGRESS, and the socket turns writable when done).
pub fn sock_connect(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    let addr = abi::read_addr(mem, addr)?;
    sock::connect(cx, "sock_connect", fd, rights::SOCK_CONNECT, addr)
}

/// `sock_listen(fd, backlog)`; the backlog goes to the OS as an int, as in WAMR. A socket
/// never bound is judged as bound to the wildcard (see [`sock::listen`]).
pub fn sock_listen(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, backlog: u32) -> Result<()> {
    sock::listen(cx, "sock_listen", fd, rights::SOCK_LISTEN, backlog as i32)
}

/// `sock_accept(fd, flags, *new_fd)` for both WASI preview 1 and WAMR. Unlike WAMR, the
/// NONBLOCK flag is honoured; other flag bits are ignored, as WAMR ignores them all.
pub(crate) fn accept(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, flags: u32, new_fd: u32) -> Result<()> {
    mem.check(new_fd, 4)?;
    let fd = sock::accept(cx, fd, rights::SOCK_ACCEPT, flags as u16 & fdflags::NONBLOCK != 0)?;
    mem.write(new_fd, fd)?;
    Ok(())
}

/// `sock_addr_local(fd, *addr)`: the bound address (0.0.0.0:0 or [::]:0 before bind).
pub fn sock_addr_local(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_SIZE)?;
    let local = sock::local_addr(cx, fd, rights::SOCK_ADDR_LOCAL)?;
    abi::write_addr(mem, addr, local)?;
    Ok(())
}

/// `sock_addr_remote(fd, *addr)`: the peer, or ENOTCONN. WAMR checks the ADDR_LOCAL right
/// here by mistake; we check ADDR_REMOTE (sockets hold both).
pub fn sock_addr_remote(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32) -> Result<()> {
    mem.check(addr, abi::ADDR_SIZE)?;
    let peer = sock::peer_addr(cx, fd, rights::SOCK_ADDR_REMOTE)?;
    abi::write_addr(mem, addr, peer)?;
    Ok(())
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
    sock::shutdown(cx, fd, how)
}
