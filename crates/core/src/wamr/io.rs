//! Moving data (spec §3.1): `sock_recv_from` and `sock_send_to`, and the receive and send
//! loops shared with WASI preview 1's `sock_recv`/`sock_send`.
//!
//! Data goes straight between guest memory and the kernel (`recvmsg`/`sendmsg` on the
//! guest's iovecs, lent by [`GuestMemory::scatter`] and [`GuestMemory::gather`]), so nothing
//! is allocated per byte and a datagram scattered over several iovecs arrives whole. (A
//! shared memory lends bounce buffers instead; see [`crate::memory`].) The host socket is
//! non-blocking; a blocking guest waits in
//! [`Interrupt::wait`](crate::interrupt::Interrupt::wait), which honours SO_RCVTIMEO and
//! SO_SNDTIMEO (EAGAIN when they expire, as on Linux) and wakes when the instance stops.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use socket2::SockAddr;

use super::abi;
use super::{check_destination, with_socket};
use crate::abi::{rights, sockflags};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{GuestMemory, Iovec, Unsent};
use crate::net::{Direction, Socket};
use crate::sys;

/// Every send passes MSG_NOSIGNAL: a peer that reset gives EPIPE instead of killing the
/// host with SIGPIPE (WAMR's iwasm dies with status 141, spec §11.8).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Without MSG_NOSIGNAL we rely on Rust ignoring SIGPIPE in the host process.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd")))]
const SEND_FLAGS: libc::c_int = 0;

/// `[::]:0`: what WAMR reports as the source when the kernel gives none.
const NO_ADDRESS: SocketAddr = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0));

/// When the guest's SO_RCVTIMEO (Read) or SO_SNDTIMEO (Write) would expire if the wait
/// started now; `None` without a timeout.
pub(crate) fn deadline(sock: &Socket, dir: Direction) -> Option<Instant> {
    match sock.timeout_us(dir) {
        0 => None,
        us => Instant::now().checked_add(Duration::from_micros(us)),
    }
}

/// Waits until `sock` is readable (Read) or writable (Write), or has an error or hang-up:
/// true; false when `deadline` passes first. A stopped instance is returned as its error.
pub(crate) fn wait_ready(cx: &Ctx, sock: &Socket, dir: Direction, deadline: Option<Instant>) -> Result<bool> {
    let events = match dir {
        Direction::Read => sys::POLLIN,
        Direction::Write => sys::POLLOUT,
    };
    let mut set = [sys::pollfd(sock.socket.as_fd(), events)];
    Ok(cx.interrupt.wait(&mut set, deadline)? > 0)
}

/// What one receive call produced.
pub(crate) struct Received {
    /// Bytes written into the guest's buffers.
    pub bytes: usize,
    /// A datagram was longer than the buffers (the rest is lost, as with recv(2)).
    pub truncated: bool,
    /// The sender, when asked for and the kernel reported one (not on TCP).
    pub from: Option<SocketAddr>,
}

/// Receives into the guest buffers `iovs` with `$riflags`:
/// - RECV_PEEK leaves the data queued (MSG_PEEK);
/// - RECV_WAITALL, on a blocking stream socket, keeps receiving until the buffers are full,
///   the peer closes, an error, the timeout (one deadline for the whole call) or the instance
///   stops; what arrived before an error or the timeout is returned, as recv(2) does. With
///   PEEK it is a single peek, since peeking again returns the same bytes.
///
/// A zero-length receive on a stream returns 0 at once (WAMR: EINVAL); on a datagram socket it
/// goes to the kernel, which consumes the next datagram and reports it truncated.
pub(crate) fn receive(
    cx: &Ctx,
    sock: &Socket,
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    riflags: u32,
    want_from: bool,
) -> Result<Received> {
    let riflags = riflags as u16;
    let peek = riflags & sockflags::RECV_PEEK != 0;
    let waitall = riflags & sockflags::RECV_WAITALL != 0 && sock.stream && !peek;
    let flags = if peek { libc::MSG_PEEK } else { 0 };
    let (mut truncated, mut from) = (false, None);
    let bytes = mem.scatter(iovs, |mut bufs| {
        let mut bytes = 0usize;
        if sock.stream && bufs.iter().all(|s| s.is_empty()) {
            return Ok(bytes);
        }
        let deadline = deadline(sock, Direction::Read);
        loop {
            cx.interrupt.check()?;
            let result = match &mut *bufs {
                _ if want_from => sys::recv_from_vectored(&sock.socket, bufs, flags)
                    .map(|(n, f, a)| (n, f.is_truncated(), a.as_socket())),
                // One buffer on a stream: recv(2) straight into it, which spares the kernel
                // recvmsg's message header and iovec copy-in (nothing can be truncated).
                [buf] if sock.stream => rustix::net::recv(
                    &sock.socket,
                    &mut **buf,
                    rustix::net::RecvFlags::from_bits_retain(flags as u32),
                )
                .map(|(n, _)| (n, false, None))
                .map_err(io::Error::from),
                _ => sys::recv_vectored(&sock.socket, bufs, flags).map(|(n, f)| (n, f.is_truncated(), None)),
            };
            match result {
                Ok((n, cut, sender)) => {
                    bytes += n;
                    truncated |= cut;
                    from = from.or(sender);
                    if !waitall || n == 0 {
                        break;
                    }
                    IoSliceMut::advance_slices(&mut bufs, n);
                    if bufs.iter().all(|b| b.is_empty()) {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if sock.is_nonblocking() || !wait_ready(cx, sock, Direction::Read, deadline)? {
                        return if bytes > 0 { Ok(bytes) } else { Err(Errno::Again.into()) };
                    }
                }
                Err(e) => return if bytes > 0 { Ok(bytes) } else { Err(e.into()) },
            }
        }
        Ok(bytes)
    })?;
    Ok(Received { bytes, truncated, from })
}

/// Sends the guest buffers `data` (to `to`, or to the connected peer), always with
/// MSG_NOSIGNAL. A blocking stream socket sends everything, as a blocking send(2) does,
/// unless an error, the timeout or a stop comes first; then the count sent so far is the
/// result if it is not 0. A datagram is one sendmsg. Zero bytes are passed to the kernel (an
/// empty datagram is a real datagram; WAMR: EINVAL).
pub(crate) fn send(cx: &Ctx, sock: &Socket, data: &[IoSlice<'_>], to: Option<&SockAddr>) -> Result<usize> {
    let want: usize = data.iter().map(|s| s.len()).sum();
    let deadline = deadline(sock, Direction::Write);
    let mut unsent = Unsent::new(data);
    let mut bufs = unsent.slices();
    let mut sent = 0usize;
    loop {
        cx.interrupt.check()?;
        let result = match (to, &*bufs) {
            (Some(addr), _) => sock.socket.send_to_vectored_with_flags(bufs, addr, SEND_FLAGS),
            // One buffer to the peer (what send() and write() pass): send(2), which spares
            // the kernel sendmsg's message header and iovec copy-in.
            (None, [buf]) => rustix::net::send(
                &sock.socket,
                buf,
                rustix::net::SendFlags::from_bits_retain(SEND_FLAGS as u32),
            )
            .map_err(io::Error::from),
            (None, _) => sock.socket.send_vectored_with_flags(bufs, SEND_FLAGS),
        };
        match result {
            Ok(n) => {
                sent += n;
                if !sock.stream || n == 0 || sent >= want || sock.is_nonblocking() {
                    break;
                }
                IoSlice::advance_slices(&mut bufs, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if sock.is_nonblocking() || !wait_ready(cx, sock, Direction::Write, deadline)? {
                    return if sent > 0 { Ok(sent) } else { Err(Errno::Again.into()) };
                }
            }
            Err(e) => return if sent > 0 { Ok(sent) } else { Err(e.into()) },
        }
    }
    Ok(sent)
}

/// A byte count as the guest's u32. Lent buffers never total more than u32::MAX bytes
/// ([`crate::memory::MAX_LENT`]), so it fits; it saturates rather than wrap if not.
pub(crate) fn count(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// `sock_recv_from(fd, *iovs, iovs_len, riflags, *src_addr, *bytes)`. Flags as in
/// [`receive`]. The source is the sender of a datagram; on a stream socket, where the kernel
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
        let got = receive(cx, sock, mem, &iovs, ri_flags, true)?;
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
    check_destination(cx, "sock_send_to", dest)?;
    let dest = SockAddr::from(dest);
    let sent = with_socket(cx, fd, rights::FD_WRITE, |sock| {
        mem.gather(&iovs, |bufs| send(cx, sock, bufs, Some(&dest)))
    })?;
    mem.write(so_data_len, count(sent))?;
    Ok(())
}
