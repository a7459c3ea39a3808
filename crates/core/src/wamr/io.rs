//! Moving data (spec §3.1): `sock_recv_from` and `sock_send_to`. The receive and send loops,
//! shared with WASI preview 1's `sock_recv`/`sock_send`, are in [`crate::sock`].

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use super::abi;
use crate::abi::rights;
use crate::ctx::Ctx;
use crate::errno::Result;
use crate::memory::GuestMemory;
use crate::sock::{self, RecvOpts, count, receive, with_socket};

/// `[::]:0`: what WAMR reports as the source when the kernel gives none.
const NO_ADDRESS: SocketAddr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0));

/// `sock_recv_from(fd, *iovs, iovs_len, riflags, *src_addr, *bytes)`. Flags as in
/// [`receive`] (RECV_PEEK, RECV_WAITALL). The source is the sender of a datagram; on a stream socket, where the kernel
/// reports none, it is the peer (WAMR writes `[::]:0`), or `[::]:0` if there is no peer.
/// No address-pool check, as in WAMR: whoever may reach a bound socket may be heard.
#[allow(clippy::too_many_arguments)]
pub fn sock_recv_from(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ri_data: u32,
    ri_data_len: u32,
    ri_flags: u32,
    src_addr: u32,
    ro_data_len: u32,
) -> Result<()> {
    mem.check(src_addr, abi::ADDR_SIZE)?;
    mem.check(ro_data_len, 4)?;
    let iovs = mem.iovecs(ri_data, ri_data_len)?;
    let (bytes, from) = with_socket(cx, fd, rights::FD_READ, |sock| {
        let got = receive(cx, sock, mem, &iovs, RecvOpts::from_riflags(ri_flags), true)?;
        let from = got.from.or_else(|| match sock.stream {
            true => sock.socket.peer_addr().ok().and_then(|a| a.as_socket()),
            false => None,
        });
        Ok((got.bytes, from.unwrap_or(NO_ADDRESS)))
    })?;
    abi::write_addr(mem, src_addr, from)?;
    mem.write(ro_data_len, count(bytes))?;
    Ok(())
}

/// `sock_send_to(fd, *iovs, iovs_len, siflags, *dest_addr, *bytes)`: the destination must
/// be in the address pool (checked before the fd lookup, as in WAMR). On a connected TCP
/// socket the kernel ignores the address, but the pool check still applies.
#[allow(clippy::too_many_arguments)]
pub fn sock_send_to(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    si_data: u32,
    si_data_len: u32,
    _si_flags: u32,
    dest_addr: u32,
    so_data_len: u32,
) -> Result<()> {
    mem.check(so_data_len, 4)?;
    let iovs = mem.iovecs(si_data, si_data_len)?;
    let dest = abi::read_addr(mem, dest_addr)?;
    let sent = sock::send_to(cx, "sock_send_to", fd, rights::FD_WRITE, mem, &iovs, dest, false)?;
    mem.write(so_data_len, count(sent))?;
    Ok(())
}
