//! Moving data (doc 6.6–6.10): `sock_recv`, `sock_recv_from` (V1 and V2), `sock_send`,
//! `sock_send_to` (V1 and V2). The receive and send loops are [`crate::sock`]'s: blocking
//! waits are interruptible and honour the guest's NONBLOCK flag and SO_RCVTIMEO/SO_SNDTIMEO.

use std::net::SocketAddr;

use super::abi::{self, STORAGE_SIZE, WasiAddress, in_memory};
use crate::abi::{rights, sockflags};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{GuestMemory, Iovec};
use crate::sock::{self, RecvOpts, with_socket};

/// `riflags` as WasmEdge checks them: RECV_PEEK and RECV_WAITALL, other bits EINVAL. The
/// crate declares the argument `u16`, so only the low 16 bits are the guest's.
fn recv_opts(riflags: u32) -> Result<RecvOpts> {
    let riflags = riflags & 0xffff;
    if riflags & !abi::RIFLAGS_DEFINED != 0 {
        return Err(Errno::Inval.into());
    }
    Ok(RecvOpts::from_riflags(riflags))
}

/// `siflags`: none are defined, so anything but 0 is EINVAL (the crate declares a `u16`).
fn check_siflags(siflags: u32) -> Result<()> {
    if siflags & 0xffff != 0 {
        return Err(Errno::Inval.into());
    }
    Ok(())
}

/// What one receive produced, with its sender.
struct Got {
    bytes: u32,
    truncated: bool,
    from: Option<SocketAddr>,
}

/// Receives into `iovs` on the socket at `fd`. With `want_from`, the sender: the datagram's,
/// or on a connected stream, where the kernel reports none, the peer (WasmEdge reports
/// nothing there, and its V2 storage then gets an uninitialised family).
fn receive(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: &[Iovec],
    opts: RecvOpts,
    want_from: bool,
) -> Result<Got> {
    with_socket(cx, fd, rights::FD_READ, |sock| {
        let got = sock::receive(cx, sock, mem, iovs, opts, want_from)?;
        let from = match (want_from, got.from) {
            (false, _) => None,
            (true, Some(from)) => Some(from),
            (true, None) if sock.stream => sock.socket.peer_addr().ok().and_then(|a| a.as_socket()),
            (true, None) => None,
        };
        Ok(Got { bytes: sock::count(got.bytes), truncated: got.truncated, from })
    })
}

/// Writes the byte count (`u32`) and roflags (`u16`: RECV_DATA_TRUNCATED or 0).
fn write_counts(mem: &mut GuestMemory<'_>, got: &Got, nread: u32, roflags: u32) -> Result<()> {
    mem.write(nread, got.bytes).map_err(abi::fault)?;
    let flags = if got.truncated { sockflags::RECV_DATA_TRUNCATED } else { 0 };
    mem.write(roflags, flags).map_err(abi::fault)?;
    Ok(())
}

/// `sock_recv(fd, *iovs, iovs_len, riflags, *nread, *roflags)` (V1 and V2): PEEK and WAITALL
/// are honoured; `*roflags` (2 bytes) is RECV_DATA_TRUNCATED when a datagram did not fit.
#[allow(clippy::too_many_arguments)]
pub fn sock_recv(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ri_data: u32,
    ri_data_len: u32,
    ri_flags: u32,
    ro_datalen: u32,
    ro_flags: u32,
) -> Result<()> {
    let opts = recv_opts(ri_flags)?;
    in_memory(mem, ro_datalen, 4)?;
    in_memory(mem, ro_flags, 2)?;
    let iovs = abi::iovecs(mem, ri_data, ri_data_len)?;
    let got = receive(cx, mem, fd, &iovs, opts, false)?;
    write_counts(mem, &got, ro_datalen, ro_flags)
}

/// `sock_recv_from(fd, *iovs, iovs_len, *addr, riflags, *nread, *roflags)` (V1, 7
/// parameters): the sender's raw address bytes go into the `WasiAddress` buffer if they fit
/// (4 for IPv4, 16 for IPv6; a buffer of any length is accepted), and nothing else: V1
/// reports neither the family nor the port.
#[allow(clippy::too_many_arguments)]
pub fn sock_recv_from(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ri_data: u32,
    ri_data_len: u32,
    addr: u32,
    ri_flags: u32,
    ro_datalen: u32,
    ro_flags: u32,
) -> Result<()> {
    let buf = WasiAddress::read(mem, addr)?;
    let opts = recv_opts(ri_flags)?;
    in_memory(mem, ro_datalen, 4)?;
    in_memory(mem, ro_flags, 2)?;
    let iovs = abi::iovecs(mem, ri_data, ri_data_len)?;
    let got = receive(cx, mem, fd, &iovs, opts, true)?;
    if let Some(from) = got.from {
        let bytes = abi::ip_bytes(from.ip());
        if bytes.len() <= buf.len as usize {
            mem.write_bytes(buf.buf, &bytes).map_err(abi::fault)?;
        }
    }
    write_counts(mem, &got, ro_datalen, ro_flags)
}

/// `sock_recv_from_v2(fd, *iovs, iovs_len, *addr, riflags, *port, *nread, *roflags)` (8
/// parameters). The `WasiAddress` buffer is 4 or 16 bytes (the raw address, written if it
/// fits) or a 128-byte storage (family at 0, address at 2); other lengths are EINVAL.
///
/// The port is written as WasmEdge writes it: **2 bytes in network order** (port 3000 is
/// `0b b8`), which wasmedge_wasi_socket reads as a little-endian number (doc 11.1). Binaries
/// have that reading compiled in, so we keep the byte order. With no sender (a stream
/// without a peer) a storage gets family 0 (UNSPEC) and no address or port.
#[allow(clippy::too_many_arguments)]
pub fn sock_recv_from_v2(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ri_data: u32,
    ri_data_len: u32,
    addr: u32,
    ri_flags: u32,
    port: u32,
    ro_datalen: u32,
    ro_flags: u32,
) -> Result<()> {
    let buf = WasiAddress::read(mem, addr)?;
    if !matches!(buf.len, 4 | 16 | STORAGE_SIZE) {
        return Err(Errno::Inval.into());
    }
    let opts = recv_opts(ri_flags)?;
    in_memory(mem, port, 2)?;
    in_memory(mem, ro_datalen, 4)?;
    in_memory(mem, ro_flags, 2)?;
    let iovs = abi::iovecs(mem, ri_data, ri_data_len)?;
    let got = receive(cx, mem, fd, &iovs, opts, true)?;
    match got.from {
        Some(from) if buf.len == STORAGE_SIZE => abi::write_storage(mem, buf.buf, from.ip())?,
        Some(from) => {
            let bytes = abi::ip_bytes(from.ip());
            if bytes.len() <= buf.len as usize {
                mem.write_bytes(buf.buf, &bytes).map_err(abi::fault)?;
            }
        }
        None if buf.len == STORAGE_SIZE => {
            mem.write(buf.buf, abi::family::UNSPEC as u16).map_err(abi::fault)?
        }
        None => {}
    }
    if let Some(from) = got.from {
        mem.write_bytes(port, &from.port().to_be_bytes()).map_err(abi::fault)?;
    }
    write_counts(mem, &got, ro_datalen, ro_flags)
}

/// `sock_send(fd, *iovs, iovs_len, siflags, *nsent)` (V1 and V2): to the connected peer,
/// with MSG_NOSIGNAL (a reset peer is EPIPE). siflags must be 0.
pub fn sock_send(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    si_flags: u32,
    so_datalen: u32,
) -> Result<()> {
    check_siflags(si_flags)?;
    in_memory(mem, so_datalen, 4)?;
    let iovs = abi::iovecs(mem, si_data, si_data_len)?;
    let sent = sock::send_to_peer(cx, fd, rights::FD_WRITE, mem, &iovs, false)?;
    mem.write(so_datalen, sock::count(sent)).map_err(abi::fault)?;
    Ok(())
}

/// `sock_send_to(fd, *iovs, iovs_len, *addr, port, siflags, *nsent)` (V1): to a 4- or
/// 16-byte address and a host-order port, if the address pool allows it.
#[allow(clippy::too_many_arguments)]
pub fn sock_send_to(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    addr: u32,
    port: u32,
    si_flags: u32,
    so_datalen: u32,
) -> Result<()> {
    send_to(cx, mem, "sock_send_to", fd, si_data, si_data_len, addr, port, si_flags, so_datalen, false)
}

/// `sock_send_to_v2(...)`: V1, or a 128-byte storage as the address.
#[allow(clippy::too_many_arguments)]
pub fn sock_send_to_v2(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    addr: u32,
    port: u32,
    si_flags: u32,
    so_datalen: u32,
) -> Result<()> {
    send_to(cx, mem, "sock_send_to_v2", fd, si_data, si_data_len, addr, port, si_flags, so_datalen, true)
}

#[allow(clippy::too_many_arguments)]
fn send_to(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    call: &str,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    addr: u32,
    port: u32,
    si_flags: u32,
    so_datalen: u32,
    storage: bool,
) -> Result<()> {
    let dest = abi::read_socket_addr(mem, addr, port, storage)?;
    check_siflags(si_flags)?;
    in_memory(mem, so_datalen, 4)?;
    let iovs = abi::iovecs(mem, si_data, si_data_len)?;
    let sent = sock::send_to(cx, call, fd, rights::FD_WRITE, mem, &iovs, dest, false)?;
    mem.write(so_datalen, sock::count(sent)).map_err(abi::fault)?;
    Ok(())
}
