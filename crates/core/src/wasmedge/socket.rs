//! Creating, naming and connecting sockets (doc 6.1–6.5, 6.11–6.13): `sock_open`,
//! `sock_bind`, `sock_connect`, `sock_listen`, `sock_accept` (V1 and V2),
//! `sock_getlocaladdr`/`sock_getpeeraddr` (V1 and V2) and `sock_shutdown`.
//!
//! Arguments are decoded first (EFAULT, EINVAL), then the address pool is asked, then the
//! fd is looked up: the work is [`crate::sock`]'s.

use std::net::{Shutdown, SocketAddr};

use super::abi::{self, STORAGE_SIZE, WasiAddress, family, in_memory, sock_type};
use crate::abi::{fdflags, rights};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::sock;

/// `sock_open(af, type, *fd)` (V1 and V2): a new socket at the lowest free fd (WasmEdge
/// picks a random free number; no binary can depend on which). Family 1 (IPv4) or 2 (IPv6)
/// and type 1 (datagram) or 2 (stream); AF_UNIX (3) is ENOSYS, as in WasmEdge without
/// `--allow-af-unix`; anything else is EINVAL.
pub fn sock_open(cx: &Ctx, mem: &mut GuestMemory<'_>, af: u32, socktype: u32, sockfd: u32) -> Result<()> {
    in_memory(mem, sockfd, 4)?;
    // The crate declares both as `u8`: only the low byte is the guest's.
    let ipv6 = match af & 0xff {
        family::INET4 => false,
        family::INET6 => true,
        family::UNIX => return Err(Errno::NoSys.into()),
        _ => return Err(Errno::Inval.into()),
    };
    let stream = match socktype & 0xff {
        sock_type::DGRAM => false,
        sock_type::STREAM => true,
        _ => return Err(Errno::Inval.into()),
    };
    let fd = sock::open(cx, ipv6, stream)?;
    mem.write(sockfd, fd).map_err(abi::fault)?;
    Ok(())
}

/// `sock_bind(fd, *addr, port)` (V1): a 4- or 16-byte address and a host-order port.
pub fn sock_bind(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32, port: u32) -> Result<()> {
    let addr = abi::read_socket_addr(mem, addr, port, false)?;
    sock::bind(cx, "sock_bind", fd, rights::SOCK_BIND, addr)
}

/// `sock_bind_v2(fd, *addr, port)`: V1, or a 128-byte storage.
pub fn sock_bind_v2(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32, port: u32) -> Result<()> {
    let addr = abi::read_socket_addr(mem, addr, port, true)?;
    sock::bind(cx, "sock_bind_v2", fd, rights::SOCK_BIND, addr)
}

/// `sock_connect(fd, *addr, port)` (V1): blocks until connected unless the guest chose
/// non-blocking mode (then EINPROGRESS, and the socket turns writable when done).
pub fn sock_connect(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32, port: u32) -> Result<()> {
    let addr = abi::read_socket_addr(mem, addr, port, false)?;
    sock::connect(cx, "sock_connect", fd, rights::SOCK_CONNECT, addr)
}

/// `sock_connect_v2(fd, *addr, port)`: V1, or a 128-byte storage.
pub fn sock_connect_v2(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32, port: u32) -> Result<()> {
    let addr = abi::read_socket_addr(mem, addr, port, true)?;
    sock::connect(cx, "sock_connect_v2", fd, rights::SOCK_CONNECT, addr)
}

/// `sock_listen(fd, backlog)` (V1 and V2). A socket never bound is judged as bound to the
/// wildcard (see [`sock::listen`]). On a datagram socket the kernel answers ENOTSUP.
pub fn sock_listen(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, backlog: u32) -> Result<()> {
    sock::listen(cx, "sock_listen", fd, rights::SOCK_LISTEN, backlog as i32)
}

/// `sock_listen_v2(fd, backlog)`: as [`sock_listen`].
pub fn sock_listen_v2(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, backlog: u32) -> Result<()> {
    sock::listen(cx, "sock_listen_v2", fd, rights::SOCK_LISTEN, backlog as i32)
}

/// `sock_accept(fd, *new_fd)` (V1): the new socket is blocking, at the lowest free fd.
pub fn sock_accept(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, new_fd: u32) -> Result<()> {
    accept(cx, mem, fd, false, new_fd)
}

/// `sock_accept_v2(fd, fdflags, *new_fd)`, which is also WASI preview 1's `sock_accept`:
/// NONBLOCK makes the new socket non-blocking (WasmEdge up to 0.17.1 made the listener
/// non-blocking instead, a bug since fixed); the other four fdflags are accepted and
/// ignored, and undefined bits are EINVAL.
pub fn sock_accept_v2(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, flags: u32, new_fd: u32) -> Result<()> {
    let flags = flags & 0xffff; // `$fdflags` is a u16
    if flags & !abi::FDFLAGS_DEFINED != 0 {
        return Err(Errno::Inval.into());
    }
    accept(cx, mem, fd, flags as u16 & fdflags::NONBLOCK != 0, new_fd)
}

fn accept(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, nonblock: bool, new_fd: u32) -> Result<()> {
    in_memory(mem, new_fd, 4)?;
    let accepted = sock::accept(cx, fd, rights::SOCK_ACCEPT, nonblock)?;
    mem.write(new_fd, accepted).map_err(abi::fault)?;
    Ok(())
}

/// `sock_getlocaladdr(fd, *addr, *type, *port)` (V1): the bound address (0.0.0.0:0 or [::]:0
/// before bind).
pub fn sock_getlocaladdr(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    addr: u32,
    addr_type: u32,
    port: u32,
) -> Result<()> {
    name_v1(mem, addr, addr_type, port, || sock::local_addr(cx, fd, rights::SOCK_ADDR_LOCAL))
}

/// `sock_getpeeraddr(fd, *addr, *type, *port)` (V1): the peer, or ENOTCONN.
pub fn sock_getpeeraddr(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    addr: u32,
    addr_type: u32,
    port: u32,
) -> Result<()> {
    name_v1(mem, addr, addr_type, port, || sock::peer_addr(cx, fd, rights::SOCK_ADDR_REMOTE))
}

/// The V1 getters (doc 6.11): the buffer must be 4 or 16 bytes (EINVAL), and big enough
/// for the address (ENOMEM: an IPv6 address in 4 bytes). The raw address bytes go to the
/// buffer, the type as a `u32` **4 or 6** (not the family number) and the port as a
/// host-order `u32`.
fn name_v1(
    mem: &mut GuestMemory<'_>,
    addr: u32,
    addr_type: u32,
    port: u32,
    get: impl FnOnce() -> Result<SocketAddr>,
) -> Result<()> {
    let buf = WasiAddress::read(mem, addr)?;
    if buf.len != 4 && buf.len != 16 {
        return Err(Errno::Inval.into());
    }
    in_memory(mem, addr_type, 4)?;
    in_memory(mem, port, 4)?;
    let name = get()?;
    let bytes = abi::ip_bytes(name.ip());
    if bytes.len() > buf.len as usize {
        return Err(Errno::NoMem.into());
    }
    mem.write_bytes(buf.buf, &bytes).map_err(abi::fault)?;
    mem.write(addr_type, if name.is_ipv4() { 4u32 } else { 6u32 }).map_err(abi::fault)?;
    mem.write(port, u32::from(name.port())).map_err(abi::fault)?;
    Ok(())
}

/// `sock_getlocaladdr_v2(fd, *addr, *port)`: the bound address into a 128-byte storage.
pub fn sock_getlocaladdr_v2(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    addr: u32,
    port: u32,
) -> Result<()> {
    name_v2(mem, addr, port, || sock::local_addr(cx, fd, rights::SOCK_ADDR_LOCAL))
}

/// `sock_getpeeraddr_v2(fd, *addr, *port)`: the peer into a 128-byte storage, or ENOTCONN.
pub fn sock_getpeeraddr_v2(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, addr: u32, port: u32) -> Result<()> {
    name_v2(mem, addr, port, || sock::peer_addr(cx, fd, rights::SOCK_ADDR_REMOTE))
}

/// The V2 getters (doc 6.12): the buffer must be exactly 128 bytes (EINVAL); the family
/// `u16` goes to offset 0, the address to offset 2 and the port, a host-order `u32`, to
/// `*port`.
fn name_v2(
    mem: &mut GuestMemory<'_>,
    addr: u32,
    port: u32,
    get: impl FnOnce() -> Result<SocketAddr>,
) -> Result<()> {
    let buf = WasiAddress::read(mem, addr)?;
    in_memory(mem, port, 4)?;
    if buf.len != STORAGE_SIZE {
        return Err(Errno::Inval.into());
    }
    let name = get()?;
    abi::write_storage(mem, buf.buf, name.ip())?;
    mem.write(port, u32::from(name.port())).map_err(abi::fault)?;
    Ok(())
}

/// `sock_shutdown(fd, sdflags)`: RD (1) and WR (2) bits; undefined bits are EINVAL. As in
/// WasmEdge on Linux, 0 shuts the read side (WasmEdge passes 0 on to shutdown(2), where it
/// is SHUT_RD); WASI preview 1 and WAMR's version (the one in [`crate::p1::sock`]) call 0
/// EINVAL.
pub fn sock_shutdown(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, how: u32) -> Result<()> {
    let how = how & 0xff; // `$sdflags` is a u8, and the crate declares it so
    if how & !abi::SDFLAGS_DEFINED != 0 {
        return Err(Errno::Inval.into());
    }
    let how = match how {
        0 | 1 => Shutdown::Read,
        2 => Shutdown::Write,
        _ => Shutdown::Both,
    };
    sock::shutdown(cx, fd, how)
}
