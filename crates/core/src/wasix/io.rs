//! Moving data: `sock_recv`, `sock_recv_from`, `sock_send`, `sock_send_to`, with WASIX's
//! don't-wait flags (doc §3.1). The receive and send loops are [`crate::sock`]'s.
//!
//! `sock_recv` and `sock_send` have preview 1's names and types; a WASIX module imports them
//! from `wasi_snapshot_preview1` (the `wasix` crate re-exports the `wasi` crate's) or from
//! `wasix_32v1` (wasmer registers both), and gets these versions under both names, which
//! honour the WASIX flags (preview 1 defines neither).

use std::net::SocketAddr;

use super::abi::{self, riflags, roflags, siflags};
use crate::abi::rights;
use crate::ctx::Ctx;
use crate::errno::Result;
use crate::memory::GuestMemory;
use crate::sock::{self, RecvOpts, count, receive, with_socket};

/// WASIX's `$riflags`: PEEK (1), WAITALL (2) and DONT_WAIT (8). DATA_TRUNCATED (4) asks for
/// nothing: the outcome is reported in `$roflags` anyway. Other bits are ignored.
pub(crate) fn recv_opts(flags: u32) -> RecvOpts {
    let flags = flags as u16;
    RecvOpts {
        peek: flags & riflags::PEEK != 0,
        waitall: flags & riflags::WAITALL != 0,
        dontwait: flags & riflags::DONT_WAIT != 0,
    }
}

/// WASIX's `$siflags`: whether DONT_WAIT (1) is set. Other bits are ignored.
pub fn send_dontwait(flags: u32) -> bool {
    flags as u16 & siflags::DONT_WAIT != 0
}

/// `sock_recv(fd, *iovs, iovs_len, riflags, *bytes, *roflags)`: receives into the buffers
/// in order (a datagram whole, one per call). With DONT_WAIT the call never waits: EAGAIN
/// when nothing is there. `*roflags` is DATA_TRUNCATED when a datagram did not fit, else 0.
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
    mem.check(ro_datalen, 4)?;
    mem.check(ro_flags, 2)?;
    let iovs = mem.iovecs(ri_data, ri_data_len)?;
    let got =
        with_socket(cx, fd, rights::FD_READ, |s| receive(cx, s, mem, &iovs, recv_opts(ri_flags), false))?;
    mem.write(ro_datalen, count(got.bytes))?;
    mem.write(ro_flags, if got.truncated { roflags::DATA_TRUNCATED } else { 0 })?;
    Ok(())
}

/// `sock_recv_from(fd, *iovs, iovs_len, riflags, *bytes, *roflags, *addr_port)`: as
/// [`sock_recv`], and the sender. On a stream, where the kernel names none, the sender is
/// the peer (or the unspecified address if there is none). No address-pool check, as for
/// every ABI: whoever may reach a bound socket may be heard.
#[allow(clippy::too_many_arguments)]
pub fn sock_recv_from(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ri_data: u32,
    ri_data_len: u32,
    ri_flags: u32,
    ro_datalen: u32,
    ro_flags: u32,
    ro_addr: u32,
) -> Result<()> {
    mem.check(ro_datalen, 4)?;
    mem.check(ro_flags, 2)?;
    mem.check(ro_addr, abi::ADDR_PORT_WRITTEN_MAX)?;
    let iovs = mem.iovecs(ri_data, ri_data_len)?;
    let (got, from) = with_socket(cx, fd, rights::FD_READ, |s| {
        let got = receive(cx, s, mem, &iovs, recv_opts(ri_flags), true)?;
        let from = got.from.or_else(|| s.socket.peer_addr().ok().and_then(|a| a.as_socket()));
        let unspecified = || {
            let local = s.socket.local_addr().ok().and_then(|a| a.as_socket());
            let ipv6 = local.is_some_and(|a| a.is_ipv6());
            SocketAddr::new(crate::policy::implicit_bind_address(ipv6), 0)
        };
        Ok((got, from.unwrap_or_else(unspecified)))
    })?;
    mem.write(ro_datalen, count(got.bytes))?;
    mem.write(ro_flags, if got.truncated { roflags::DATA_TRUNCATED } else { 0 })?;
    abi::write_addr_port(mem, ro_addr, from)?;
    Ok(())
}

/// `sock_send(fd, *ciovs, ciovs_len, siflags, *bytes)`: sends to the connected peer. A
/// blocking stream sends everything unless an error or its timeout comes first; with
/// DONT_WAIT the call never waits (EAGAIN, or what the kernel took).
pub fn sock_send(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    si_flags: u32,
    so_datalen: u32,
) -> Result<()> {
    mem.check(so_datalen, 4)?;
    let iovs = mem.iovecs(si_data, si_data_len)?;
    let dontwait = send_dontwait(si_flags);
    let sent = sock::send_to_peer(cx, fd, rights::FD_WRITE, mem, &iovs, dontwait)?;
    mem.write(so_datalen, count(sent))?;
    Ok(())
}

/// `sock_send_to(fd, *ciovs, ciovs_len, siflags, *addr_port, *bytes)` (the address comes
/// before the count): the destination must be in the address pool, checked before the fd
/// lookup. DONT_WAIT as in [`sock_send`].
#[allow(clippy::too_many_arguments)]
pub fn sock_send_to(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    si_flags: u32,
    addr: u32,
    so_datalen: u32,
) -> Result<()> {
    mem.check(so_datalen, 4)?;
    let iovs = mem.iovecs(si_data, si_data_len)?;
    let dest = abi::read_addr_port(mem, addr)?;
    let sent =
        sock::send_to(cx, "sock_send_to", fd, rights::FD_WRITE, mem, &iovs, dest, send_dontwait(si_flags))?;
    mem.write(so_datalen, count(sent))?;
    Ok(())
}
