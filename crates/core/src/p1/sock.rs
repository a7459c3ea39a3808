//! The socket functions of WASI preview 1: `sock_accept`, `sock_recv`, `sock_send`,
//! `sock_shutdown`. WAMR's extension registers the same four names with the same wasm types,
//! so these serve both; the work is done in [`crate::sock`], and the differences from WAMR
//! are listed in [`crate::wamr`].

use crate::abi::{rights, sockflags};
use crate::ctx::Ctx;
use crate::errno::Result;
use crate::memory::GuestMemory;
use crate::sock::{self, RecvOpts, with_socket};
use crate::wamr::socket;

/// `sock_accept(fd, flags, *new_fd)`: accepts a connection into the lowest free fd. The
/// NONBLOCK flag makes the new socket non-blocking (WAMR ignores it).
pub fn sock_accept(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, flags: u32, new_fd: u32) -> Result<()> {
    socket::accept(cx, mem, fd, flags, new_fd)
}

/// `sock_recv(fd, *iovs, iovs_len, riflags, *bytes, *roflags)`: RECV_PEEK and RECV_WAITALL
/// are honoured, and `*roflags` is RECV_DATA_TRUNCATED when a datagram did not fit, else 0
/// (WAMR ignores the flags and never writes `*roflags`).
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
    let got = with_socket(cx, fd, rights::FD_READ, |s| {
        sock::receive(cx, s, mem, &iovs, RecvOpts::from_riflags(ri_flags), false)
    })?;
    mem.write(ro_datalen, sock::count(got.bytes))?;
    mem.write(ro_flags, if got.truncated { sockflags::RECV_DATA_TRUNCATED } else { 0 })?;
    Ok(())
}

/// `sock_send(fd, *iovs, iovs_len, siflags, *bytes)`: sends to the connected peer with
/// MSG_NOSIGNAL; a blocking stream socket sends everything unless an error or its timeout
/// comes first. `siflags` has no flags defined and is ignored.
pub fn sock_send(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    _si_flags: u32,
    so_datalen: u32,
) -> Result<()> {
    mem.check(so_datalen, 4)?;
    let iovs = mem.iovecs(si_data, si_data_len)?;
    let sent = sock::send_to_peer(cx, fd, rights::FD_WRITE, mem, &iovs, false)?;
    mem.write(so_datalen, sock::count(sent))?;
    Ok(())
}

/// `sock_shutdown(fd, how)`: `how` is RD (1), WR (2) or both (3); anything else is EINVAL.
pub fn sock_shutdown(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, how: u32) -> Result<()> {
    socket::shutdown(cx, fd, how)
}
