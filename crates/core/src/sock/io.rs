//! Moving data: receive and send loops for every ABI.
//!
//! Data goes straight between guest memory and the kernel (`recvmsg`/`sendmsg` on the
//! guest's iovecs, lent by [`GuestMemory::scatter`] and [`GuestMemory::gather`]), so nothing
//! is allocated per byte and a datagram scattered over several iovecs arrives whole. (A
//! shared memory lends bounce buffers instead; see [`crate::memory`].) The host socket is
//! non-blocking; a blocking guest waits in
//! [`Interrupt::wait`](crate::interrupt::Interrupt::wait), which honours SO_RCVTIMEO and
//! SO_SNDTIMEO (EAGAIN when they expire, as on Linux) and wakes when the instance stops.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use socket2::SockAddr;

use super::{with_allowed_socket, with_socket};
use crate::abi::sockflags;
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{GuestMemory, Iovec, Unsent};
use crate::net::{Direction, Socket};
use crate::policy::{Call, Proto};
use crate::sys;

/// Every send passes MSG_NOSIGNAL: a peer that reset gives EPIPE instead of killing the
/// host with SIGPIPE (WAMR's iwasm dies with status 141, spec §11.8).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
/// Without MSG_NOSIGNAL we rely on Rust ignoring SIGPIPE in the host process.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd")))]
const SEND_FLAGS: libc::c_int = 0;

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

/// How one receive behaves (WASI's `$riflags`, plus WASIX's don't-wait flag).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RecvOpts {
    /// Leave the data queued (MSG_PEEK).
    pub peek: bool,
    /// On a blocking stream socket, keep receiving until the buffers are full.
    pub waitall: bool,
    /// Do not wait, whatever the socket's mode (MSG_DONTWAIT): EAGAIN when nothing is there.
    pub dontwait: bool,
}

impl RecvOpts {
    /// WASI preview 1's `$riflags`: RECV_PEEK (1) and RECV_WAITALL (2); other bits ignored.
    pub(crate) fn from_riflags(riflags: u32) -> RecvOpts {
        let riflags = riflags as u16;
        RecvOpts {
            peek: riflags & sockflags::RECV_PEEK != 0,
            waitall: riflags & sockflags::RECV_WAITALL != 0,
            dontwait: false,
        }
    }
}

/// Receives into the guest buffers `iovs`:
/// - `peek` leaves the data queued (MSG_PEEK);
/// - `waitall`, on a blocking stream socket, keeps receiving until the buffers are full,
///   the peer closes, an error, the timeout (one deadline for the whole call) or the instance
///   stops; what arrived before an error or the timeout is returned, as recv(2) does. With
///   `peek` it is a single peek, since peeking again returns the same bytes;
/// - `dontwait` never waits: EAGAIN (or what arrived so far) instead.
///
/// A zero-length receive on a stream returns 0 at once (WAMR: EINVAL); on a datagram socket it
/// goes to the kernel, which consumes the next datagram and reports it truncated.
pub(crate) fn receive(
    cx: &Ctx,
    sock: &Socket,
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    opts: RecvOpts,
    want_from: bool,
) -> Result<Received> {
    if !sock.stream && !cx.policy.allow_peer.is_empty() {
        return receive_from_allowed_peers(cx, sock, mem, iovs, opts);
    }
    let RecvOpts { peek, dontwait, .. } = opts;
    let waitall = opts.waitall && sock.stream && !peek && !dontwait;
    let nonblocking = dontwait || sock.is_nonblocking();
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
                    if nonblocking || !wait_ready(cx, sock, Direction::Read, deadline)? {
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

/// A datagram is at most this long (IPv6 jumbograms aside).
const MAX_DATAGRAM: usize = 65_535;

/// [`receive`] on a datagram socket under `--allow-peer`: each datagram lands in a host
/// buffer first, and one from a peer no rule allows is dropped (traced and logged), so its
/// bytes never reach guest memory; the call then waits for the next one as it would have.
/// Two guest threads receiving on one socket may see a peeked datagram taken by the other
/// before it is consumed here: then the other's datagram is the one dropped.
fn receive_from_allowed_peers(
    cx: &Ctx,
    sock: &Socket,
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    opts: RecvOpts,
) -> Result<Received> {
    let nonblocking = opts.dontwait || sock.is_nonblocking();
    let flags = if opts.peek { libc::MSG_PEEK } else { 0 };
    let (mut truncated, mut from) = (false, None);
    let bytes = mem.scatter(iovs, |bufs| {
        let room: usize = bufs.iter().map(|b| b.len()).sum();
        let mut datagram = vec![0u8; room.min(MAX_DATAGRAM)];
        let deadline = deadline(sock, Direction::Read);
        loop {
            cx.interrupt.check()?;
            match sys::recv_from_vectored(&sock.socket, &mut [IoSliceMut::new(&mut datagram)], flags) {
                Ok((n, cut, sender)) => {
                    let sender = sender.as_socket();
                    let peer =
                        sender.map(|a| cx.policy.decide_peer(Call::Receive, Proto::Udp, a.ip(), a.port()));
                    if let Some(denied) = peer.as_ref().filter(|d| !d.allowed()) {
                        cx.report("sock_recv_from", denied);
                        if opts.peek {
                            // Take the peeked datagram off the queue.
                            let _ = sys::recv_vectored(&sock.socket, &mut [], 0);
                        }
                        continue;
                    }
                    truncated = cut.is_truncated();
                    from = sender;
                    let mut copied = 0;
                    for buf in bufs.iter_mut() {
                        let take = buf.len().min(n - copied);
                        buf[..take].copy_from_slice(&datagram[copied..copied + take]);
                        copied += take;
                    }
                    return Ok(copied);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if nonblocking || !wait_ready(cx, sock, Direction::Read, deadline)? {
                        return Err(Errno::Again.into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    })?;
    Ok(Received { bytes, truncated, from })
}

/// Sends the guest buffers `data` to the connected peer; see [`send_inner`].
pub(crate) fn send(cx: &Ctx, sock: &Socket, data: &[IoSlice<'_>], dontwait: bool) -> Result<usize> {
    send_inner(cx, sock, data, None, dontwait)
}

/// Sends the guest buffers `data` (to `to`, or to the connected peer), always with
/// MSG_NOSIGNAL. A blocking stream socket sends everything, as a blocking send(2) does,
/// unless an error, the timeout or a stop comes first; then the count sent so far is the
/// result if it is not 0. A datagram is one sendmsg. Zero bytes are passed to the kernel (an
/// empty datagram is a real datagram; WAMR: EINVAL). With `dontwait` the call never waits,
/// whatever the socket's mode.
fn send_inner(
    cx: &Ctx,
    sock: &Socket,
    data: &[IoSlice<'_>],
    to: Option<&SockAddr>,
    dontwait: bool,
) -> Result<usize> {
    let nonblocking = dontwait || sock.is_nonblocking();
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
                if !sock.stream || n == 0 || sent >= want || nonblocking {
                    break;
                }
                IoSlice::advance_slices(&mut bufs, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if nonblocking || !wait_ready(cx, sock, Direction::Write, deadline)? {
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

/// Sends the guest buffers `iovs` on the socket at `fd` (which must hold `rights`) to its
/// connected peer; see [`send`].
pub(crate) fn send_to_peer(
    cx: &Ctx,
    fd: u32,
    rights: u64,
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    dontwait: bool,
) -> Result<usize> {
    with_socket(cx, fd, rights, |sock| mem.gather(iovs, |bufs| send(cx, sock, bufs, dontwait)))
}

/// Sends the guest buffers `iovs` from the socket at `fd` (which must hold `rights`) to
/// `dest`, if the policy allows every address that reaches (asked before the fd lookup). On
/// a connected TCP socket the kernel ignores the address, but the policy still applies.
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_to(
    cx: &Ctx,
    call: &str,
    fd: u32,
    rights: u64,
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    dest: SocketAddr,
    dontwait: bool,
) -> Result<usize> {
    let to = SockAddr::from(dest);
    with_allowed_socket(cx, call, Call::SendTo, fd, rights, dest, |sock| {
        mem.gather(iovs, |bufs| send_inner(cx, sock, bufs, Some(&to), dontwait))
    })
}
