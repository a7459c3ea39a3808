//! [`UdpSocket`], shaped like `std::net::UdpSocket`.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::resolve::{ToSocketAddrs, each_addr};
use crate::socket::{Domain, Socket, Type};
use crate::tcp::fd_conversions;

/// A UDP socket.
///
/// ```no_run
/// let socket = wasock_net::UdpSocket::bind("127.0.0.1:0")?;
/// socket.send_to(b"ping", "127.0.0.1:9000")?;
/// let mut buf = [0; 1500];
/// let (n, from) = socket.recv_from(&mut buf)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpSocket(Socket);

impl UdpSocket {
    /// Binds to the first address of `addr` that works.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(&addr, |addr| {
            let socket = Socket::new(Domain::for_address(addr), Type::DGRAM)?;
            socket.bind(addr)?;
            Ok(UdpSocket(socket))
        })
    }

    /// Receives one datagram (`sock_recv_from`); a longer datagram is truncated to `buf`.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.0.recv_from(buf)
    }

    /// Like `recv_from`, leaving the datagram queued (RECV_PEEK; WAMR's runtime ignores it,
    /// wasock honours it).
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.0.peek_from(buf)
    }

    /// Sends one datagram to the first address of `addr` (`sock_send_to`), as std does.
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        match addr.to_socket_addrs()?.next() {
            Some(addr) => self.0.send_to(buf, &addr),
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")),
        }
    }

    /// Sets the default peer for `send`/`recv` and filters incoming datagrams to it.
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(&addr, |addr| self.0.connect(addr))
    }

    /// Sends to the connected peer (`sock_send`).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.send(buf)
    }

    /// Receives from the connected peer (`sock_recv`).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.recv(buf)
    }

    /// Like `recv`, leaving the datagram queued.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.peek(buf)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    /// The connected peer (`NotConnected` if none).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// SO_BROADCAST.
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.0.set_broadcast(broadcast)
    }

    /// SO_BROADCAST.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.0.broadcast()
    }

    /// IP_MULTICAST_LOOP.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.0.set_multicast_loop_v4(on)
    }

    /// IP_MULTICAST_LOOP.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.0.multicast_loop_v4()
    }

    /// IPV6_MULTICAST_LOOP.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.0.set_multicast_loop_v6(on)
    }

    /// IPV6_MULTICAST_LOOP.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.0.multicast_loop_v6()
    }

    /// IP_MULTICAST_TTL (0..=255).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.0.set_multicast_ttl_v4(ttl)
    }

    /// IP_MULTICAST_TTL.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.0.multicast_ttl_v4()
    }

    /// Joins an IPv4 multicast group on the interface with address `interface`
    /// (`Ipv4Addr::UNSPECIFIED` for any).
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.0.join_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.0.leave_multicast_v4(multiaddr, interface)
    }

    /// Joins an IPv6 multicast group on interface index `interface` (0 for any).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.0.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.0.leave_multicast_v6(multiaddr, interface)
    }

    /// IP_TTL.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.0.set_ttl(ttl)
    }

    /// IP_TTL.
    pub fn ttl(&self) -> io::Result<u32> {
        self.0.ttl()
    }

    /// SO_RCVTIMEO: receives fail with `WouldBlock` after `timeout`; `Some(ZERO)` is an error.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.0.set_read_timeout(timeout)
    }

    /// SO_SNDTIMEO.
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

    /// Non-blocking mode: calls that would wait fail with `WouldBlock`.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.0.set_nonblocking(nonblocking)
    }

    /// The underlying [`Socket`], for the options std does not offer.
    pub fn socket(&self) -> &Socket {
        &self.0
    }
}

fd_conversions!(UdpSocket);
