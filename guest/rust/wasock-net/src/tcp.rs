//! [`TcpListener`] and [`TcpStream`], shaped like `std::net`'s.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::resolve::{ToSocketAddrs, each_addr};
use crate::socket::{Domain, Socket, Type};

/// The listen backlog std uses.
const BACKLOG: i32 = 128;

/// A TCP socket server, listening for connections.
///
/// ```no_run
/// use std::io::{Read, Write};
/// let listener = wasock_net::TcpListener::bind("127.0.0.1:8080")?;
/// for stream in listener.incoming() {
///     let mut stream = stream?;
///     let mut buf = [0; 1024];
///     let n = stream.read(&mut buf)?;
///     stream.write_all(&buf[..n])?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpListener(Socket);

impl TcpListener {
    /// Binds to the first address of `addr` that works (SO_REUSEADDR set, as std does) and
    /// listens. Port 0 picks a free port; [`TcpListener::local_addr`] tells which.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(&addr, |addr| {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM)?;
            socket.set_reuse_address(true)?;
            socket.bind(addr)?;
            socket.listen(BACKLOG)?;
            Ok(TcpListener(socket))
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// WAMR's `sock_bind` forces `SO_LINGER {on, 0 s}`, which accepted sockets inherit, so a
    /// dropped stream would reset the connection and could lose data it had queued. The new
    /// stream gets lingering turned off again, so closing it ends the connection gracefully as
    /// with std (best effort: a runtime that rejects the option still returns the stream).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (socket, peer) = self.0.accept()?;
        let _ = socket.set_linger(None);
        Ok((TcpStream(socket), peer))
    }

    /// An endless iterator over [`TcpListener::accept`]'s streams.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The bound address (`sock_addr_local`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Non-blocking mode: `accept` then fails with `WouldBlock` when no connection is pending.
    /// Accepted streams always start out blocking.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.0.set_nonblocking(nonblocking)
    }

    /// IP_TTL for accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.0.set_ttl(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.0.ttl()
    }

    /// The underlying [`Socket`], for the options std does not offer.
    pub fn socket(&self) -> &Socket {
        &self.0
    }
}

/// The iterator of [`TcpListener::incoming`]; it never returns `None`.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(stream, _)| stream))
    }
}

/// A TCP connection. Reading and writing use `sock_recv`/`sock_send`.
#[derive(Debug)]
pub struct TcpStream(Socket);

impl TcpStream {
    /// Connects to the first address of `addr` that accepts, returning the last error if
    /// none does. Names are resolved with [`crate::lookup_host`].
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(&addr, |addr| {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM)?;
            socket.connect(addr)?;
            Ok(TcpStream(socket))
        })
    }

    /// Connects to `addr`, failing with `TimedOut` after `timeout` (a zero timeout is an
    /// error, as in std). See [`Socket::connect_timeout`] for how.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM)?;
        socket.connect_timeout(addr, timeout)?;
        Ok(TcpStream(socket))
    }

    /// The remote address (`sock_addr_remote`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address (`sock_addr_local`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// Shuts down reading, writing or both (`sock_shutdown`). Note that WAMR's own runtime
    /// always shuts down both directions; wasock honours `how`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.0.shutdown(how)
    }

    /// Reads without consuming (`sock_recv` with RECV_PEEK; WAMR's runtime ignores the flag
    /// and consumes the data, wasock honours it).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0.peek(buf)
    }

    /// TCP_NODELAY.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.0.set_nodelay(nodelay)
    }

    /// TCP_NODELAY.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.0.nodelay()
    }

    /// SO_RCVTIMEO: reads fail with `WouldBlock` after `timeout`. `None` waits forever;
    /// `Some(Duration::ZERO)` is an `InvalidInput` error, as in std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_read_timeout(timeout)
    }

    /// SO_SNDTIMEO, like [`TcpStream::set_read_timeout`].
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_write_timeout(timeout)
    }

    /// SO_RCVTIMEO.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.read_timeout()
    }

    /// SO_SNDTIMEO.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.write_timeout()
    }

    /// Non-blocking mode: reads and writes that would wait fail with `WouldBlock`.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.0.set_nonblocking(nonblocking)
    }

    /// IP_TTL.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.0.set_ttl(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.0.ttl()
    }

    /// SO_LINGER in whole seconds (`None` = off).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.0.set_linger(linger)
    }

    /// SO_LINGER.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.0.linger()
    }

    /// The underlying [`Socket`], for the options std does not offer (keepalive, buffer sizes).
    pub fn socket(&self) -> &Socket {
        &self.0
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_vectored(&mut [IoSliceMut::new(buf)])
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        // Reading nothing is not an error in `Read`; WAMR would say EINVAL.
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Ok(0);
        }
        self.0.recv_vectored(bufs)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_vectored(&mut [IoSliceMut::new(buf)])
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        // Reading nothing is not an error in `Read`; WAMR would say EINVAL.
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Ok(0);
        }
        self.0.recv_vectored(bufs)
    }
}

impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // Writing nothing is not an error in `Write`; WAMR would say EINVAL.
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Ok(0);
        }
        self.0.send_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // Writing nothing is not an error in `Write`; WAMR would say EINVAL.
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Ok(0);
        }
        self.0.send_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `AsRawFd`, `AsFd`, `FromRawFd`, `IntoRawFd`, and conversions from and to `Socket` and
/// `OwnedFd`, for each wrapper type.
macro_rules! fd_conversions {
    ($($ty:ident),*) => {$(
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.0.as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.as_fd()
            }
        }

        impl FromRawFd for $ty {
            /// # Safety
            /// `fd` must be an open socket of the right type that nothing else owns.
            unsafe fn from_raw_fd(fd: RawFd) -> $ty {
                // SAFETY: the caller's guarantee, passed on.
                $ty(unsafe { Socket::from_raw_fd(fd) })
            }
        }

        impl IntoRawFd for $ty {
            fn into_raw_fd(self) -> RawFd {
                self.0.into_raw_fd()
            }
        }

        impl From<Socket> for $ty {
            fn from(socket: Socket) -> $ty {
                $ty(socket)
            }
        }

        impl From<$ty> for Socket {
            fn from(value: $ty) -> Socket {
                value.0
            }
        }

        impl From<OwnedFd> for $ty {
            fn from(fd: OwnedFd) -> $ty {
                $ty(Socket::from(fd))
            }
        }

        impl From<$ty> for OwnedFd {
            fn from(value: $ty) -> OwnedFd {
                value.0.into()
            }
        }
    )*};
}

pub(crate) use fd_conversions;

fd_conversions!(TcpListener, TcpStream);
