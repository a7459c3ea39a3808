//! [`Socket`]: an owned socket fd with one method per WAMR import, in the manner of socket2.
//! `TcpStream`, `TcpListener` and `UdpSocket` are thin wrappers around it.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::addr::{self, WasiAddr, WasiAddrIp};
use crate::sys::{self, cvt};

/// The address family of a socket (`__wasi_address_family_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain(i32);

impl Domain {
    /// IPv4 (`INET4`).
    pub const IPV4: Domain = Domain(addr::FAMILY_INET4);
    /// IPv6 (`INET6`).
    pub const IPV6: Domain = Domain(addr::FAMILY_INET6);

    /// The domain a socket needs to bind or connect to `addr`.
    pub fn for_address(addr: &SocketAddr) -> Domain {
        Domain(addr::family_of(addr))
    }
}

/// The type of a socket (`__wasi_sock_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Type(i32);

impl Type {
    /// A TCP socket.
    pub const STREAM: Type = Type(addr::SOCK_STREAM);
    /// A UDP socket.
    pub const DGRAM: Type = Type(addr::SOCK_DGRAM);
}

/// An owned socket. Dropping it closes the fd (`fd_close`).
///
/// Every method is one call of the import it names; errors are the WASI errno as
/// `io::Error::from_raw_os_error`.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// Opens a socket: `sock_open(-1, domain, type)`.
    pub fn new(domain: Domain, ty: Type) -> io::Result<Socket> {
        let mut fd = 0u32;
        // SAFETY: `fd` is a valid out-pointer for the call's duration.
        cvt(unsafe { sys::sock_open(-1, domain.0, ty.0, &mut fd) })?;
        Ok(Socket::from_new_fd(fd))
    }

    fn from_new_fd(fd: u32) -> Socket {
        // SAFETY: the runtime just created `fd` for us, so nothing else owns it.
        Socket { fd: unsafe { OwnedFd::from_raw_fd(fd as RawFd) } }
    }

    fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// `sock_bind`. Needs the address inside the runtime's `--addr-pool` (EACCES otherwise).
    pub fn bind(&self, addr: &SocketAddr) -> io::Result<()> {
        let addr = WasiAddr::encode(addr);
        // SAFETY: `addr` is a 24-byte `__wasi_addr_t` that outlives the call.
        cvt(unsafe { sys::sock_bind(self.raw(), &addr) })
    }

    /// `sock_connect`. On a non-blocking socket this fails with EINPROGRESS
    /// (`io::ErrorKind::InProgress` is unstable, so check `raw_os_error() == Some(26)`).
    pub fn connect(&self, addr: &SocketAddr) -> io::Result<()> {
        let addr = WasiAddr::encode(addr);
        // SAFETY: as in `bind`.
        cvt(unsafe { sys::sock_connect(self.raw(), &addr) })
    }

    /// Connects, giving up after `timeout` (ETIMEDOUT). WASI p1 has no `SO_ERROR`, so this
    /// connects without blocking, waits with `poll_oneoff` until the socket is writable, and
    /// then asks `sock_connect` again, which reports the outcome (0 or EISCONN on success, the
    /// connect error otherwise). The socket's blocking mode is restored afterwards.
    pub fn connect_timeout(&self, addr: &SocketAddr, timeout: Duration) -> io::Result<()> {
        if timeout.is_zero() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot connect with a zero timeout"));
        }
        let was_nonblocking = self.nonblocking()?;
        self.set_nonblocking(true)?;
        let result = self.connect_nonblocking_with_deadline(addr, Instant::now() + timeout);
        self.set_nonblocking(was_nonblocking)?;
        result
    }

    fn connect_nonblocking_with_deadline(&self, addr: &SocketAddr, deadline: Instant) -> io::Result<()> {
        let wasi_addr = WasiAddr::encode(addr);
        // SAFETY: as in `bind`.
        match unsafe { sys::sock_connect(self.raw(), &wasi_addr) } {
            sys::ERRNO_SUCCESS => return Ok(()),
            sys::ERRNO_INPROGRESS | sys::ERRNO_AGAIN | sys::ERRNO_ALREADY => {}
            errno => return Err(sys::error(errno)),
        }
        // Bounded: each pass waits until the deadline at the latest; spurious wakeups are rare.
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {addr} timed out"),
                ));
            }
            if !self.poll_writable(deadline - now)? {
                continue;
            }
            // SAFETY: as in `bind`.
            match unsafe { sys::sock_connect(self.raw(), &wasi_addr) } {
                sys::ERRNO_SUCCESS | sys::ERRNO_ISCONN => return Ok(()),
                sys::ERRNO_INPROGRESS | sys::ERRNO_ALREADY | sys::ERRNO_AGAIN => continue,
                errno => return Err(sys::error(errno)),
            }
        }
    }

    /// Waits up to `timeout` for the socket to become writable (or to fail). True when the
    /// fd event fired, false when the clock did.
    fn poll_writable(&self, timeout: Duration) -> io::Result<bool> {
        const FD_USERDATA: u64 = 1;
        const EVENTTYPE_CLOCK: u8 = 0;
        const EVENTTYPE_FD_WRITE: u8 = 2;
        const CLOCKID_MONOTONIC: u32 = 1;

        let mut clock = [0u8; 48];
        clock[8] = EVENTTYPE_CLOCK;
        clock[16..20].copy_from_slice(&CLOCKID_MONOTONIC.to_le_bytes());
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        clock[24..32].copy_from_slice(&nanos.to_le_bytes());
        let mut write = [0u8; 48];
        write[0..8].copy_from_slice(&FD_USERDATA.to_le_bytes());
        write[8] = EVENTTYPE_FD_WRITE;
        write[16..20].copy_from_slice(&(self.raw() as u32).to_le_bytes());
        let subscriptions = [sys::Subscription(clock), sys::Subscription(write)];
        let mut events = [sys::Event([0; 32]), sys::Event([0; 32])];
        let mut count = 0u32;
        // SAFETY: two subscriptions in, room for two events out, `count` is a valid out-pointer.
        cvt(unsafe { sys::poll_oneoff(subscriptions.as_ptr(), events.as_mut_ptr(), 2, &mut count) })?;
        let mut fired = events.iter().take(count.min(2) as usize);
        Ok(fired.any(|event| event.0[0..8] == FD_USERDATA.to_le_bytes()))
    }

    /// `sock_listen`.
    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_listen(self.raw(), backlog) })
    }

    /// `sock_accept` followed by `sock_addr_remote` on the new socket. If the peer address
    /// cannot be read (the peer already reset the connection) the new socket is closed and
    /// that error returned.
    pub fn accept(&self) -> io::Result<(Socket, SocketAddr)> {
        let socket = self.accept_raw()?;
        let peer = socket.peer_addr()?;
        Ok((socket, peer))
    }

    /// `sock_accept` alone. The new socket is blocking, whatever the listener's mode.
    pub fn accept_raw(&self) -> io::Result<Socket> {
        let mut fd = 0u32;
        // SAFETY: `fd` is a valid out-pointer. The flags are 0: WAMR ignores them anyway.
        cvt(unsafe { sys::sock_accept(self.raw(), 0, &mut fd) })?;
        Ok(Socket::from_new_fd(fd))
    }

    /// `sock_addr_local`. An unbound socket reports `0.0.0.0:0` or `[::]:0`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut addr = WasiAddr::zeroed();
        // SAFETY: `addr` is a writable 24-byte `__wasi_addr_t`.
        cvt(unsafe { sys::sock_addr_local(self.raw(), &mut addr) })?;
        addr.decode()
    }

    /// `sock_addr_remote`: ENOTCONN when not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let mut addr = WasiAddr::zeroed();
        // SAFETY: as in `local_addr`.
        cvt(unsafe { sys::sock_addr_remote(self.raw(), &mut addr) })?;
        addr.decode()
    }

    /// `sock_recv` into `buf`. Empty buffers go to the runtime as they are (WAMR rejects them
    /// with EINVAL); `TcpStream`'s `Read` returns 0 for them without a call.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_iovecs(&[sys::Iovec { buf: buf.as_mut_ptr(), len: buf.len() }], 0)
    }

    /// `sock_recv` with `RECV_PEEK`: the data stays queued. (WAMR's own runtime ignores the
    /// flag and consumes the data, spec §11.5; wasock honours it.)
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_iovecs(&[sys::Iovec { buf: buf.as_mut_ptr(), len: buf.len() }], sys::RIFLAGS_RECV_PEEK)
    }

    /// `sock_recv` scattering into several buffers.
    pub fn recv_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.recv_iovecs(&iovecs(bufs), 0)
    }

    /// The iovecs must point into buffers borrowed mutably by the caller for the call.
    fn recv_iovecs(&self, iovs: &[sys::Iovec], riflags: i32) -> io::Result<usize> {
        let (mut nread, mut roflags) = (0u32, 0u16);
        // SAFETY: each iovec points into a live `&mut [u8]` borrowed for the call; the
        // out-pointers are valid.
        cvt(unsafe {
            sys::sock_recv(self.raw(), iovs.as_ptr(), iovs.len() as u32, riflags, &mut nread, &mut roflags)
        })?;
        Ok(nread as usize)
    }

    /// `sock_recv_from`. A datagram longer than `buf` is truncated silently.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.recv_from_with_flags(buf, 0)
    }

    /// `sock_recv_from` with `RECV_PEEK` (see [`Socket::peek`]).
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.recv_from_with_flags(buf, sys::RIFLAGS_RECV_PEEK)
    }

    fn recv_from_with_flags(&self, buf: &mut [u8], riflags: i32) -> io::Result<(usize, SocketAddr)> {
        let iov = [sys::Iovec { buf: buf.as_mut_ptr(), len: buf.len() }];
        let mut src = WasiAddr::zeroed();
        let mut nread = 0u32;
        // SAFETY: the iovec points into `buf`, borrowed for the call; out-pointers are valid.
        cvt(unsafe { sys::sock_recv_from(self.raw(), iov.as_ptr(), 1, riflags, &mut src, &mut nread) })?;
        Ok((nread as usize, src.decode()?))
    }

    /// `sock_send`. May send fewer bytes than given. An empty `buf` goes to the runtime (an
    /// empty datagram on UDP; WAMR rejects it with EINVAL).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_ciovecs(&[sys::Ciovec { buf: buf.as_ptr(), len: buf.len() }])
    }

    /// `sock_send` gathering several buffers.
    pub fn send_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.send_ciovecs(&ciovecs(bufs))
    }

    fn send_ciovecs(&self, iovs: &[sys::Ciovec]) -> io::Result<usize> {
        let mut nwritten = 0u32;
        // SAFETY: each ciovec points into a live `&[u8]`; `nwritten` is a valid out-pointer.
        cvt(unsafe { sys::sock_send(self.raw(), iovs.as_ptr(), iovs.len() as u32, 0, &mut nwritten) })?;
        Ok(nwritten as usize)
    }

    /// `sock_send_to`. Needs `addr` inside the runtime's `--addr-pool` (EACCES otherwise).
    pub fn send_to(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        let iov = [sys::Ciovec { buf: buf.as_ptr(), len: buf.len() }];
        let dest = WasiAddr::encode(addr);
        let mut nwritten = 0u32;
        // SAFETY: the ciovec points into `buf`; `dest` and `nwritten` outlive the call.
        cvt(unsafe { sys::sock_send_to(self.raw(), iov.as_ptr(), 1, 0, &dest, &mut nwritten) })?;
        Ok(nwritten as usize)
    }

    /// `sock_shutdown`. (WAMR's runtime always shuts down both directions, spec §11.2;
    /// wasock honours `how`.)
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let sdflags = match how {
            Shutdown::Read => sys::SDFLAGS_RD,
            Shutdown::Write => sys::SDFLAGS_WR,
            Shutdown::Both => sys::SDFLAGS_RD | sys::SDFLAGS_WR,
        };
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_shutdown(self.raw(), sdflags) })
    }

    fn fdstat(&self) -> io::Result<sys::Fdstat> {
        let mut stat = sys::Fdstat::default();
        // SAFETY: `stat` is a writable 24-byte `__wasi_fdstat_t`.
        cvt(unsafe { sys::fd_fdstat_get(self.raw(), &mut stat) })?;
        Ok(stat)
    }

    /// Whether the fd has the NONBLOCK flag (`fd_fdstat_get`).
    pub fn nonblocking(&self) -> io::Result<bool> {
        Ok(self.fdstat()?.flags & sys::FDFLAGS_NONBLOCK != 0)
    }

    /// Sets or clears NONBLOCK with `fd_fdstat_set_flags`, keeping the other flags (the
    /// runtime replaces all of them). Non-blocking calls that would wait fail with
    /// `io::ErrorKind::WouldBlock`.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        let flags = self.fdstat()?.flags;
        let flags = if nonblocking { flags | sys::FDFLAGS_NONBLOCK } else { flags & !sys::FDFLAGS_NONBLOCK };
        // SAFETY: no pointers.
        cvt(unsafe { sys::fd_fdstat_set_flags(self.raw(), i32::from(flags)) })
    }

    /// The socket's type, from the fd's filetype (`fd_fdstat_get`).
    pub fn r#type(&self) -> io::Result<Type> {
        match self.fdstat()?.filetype {
            sys::FILETYPE_SOCKET_STREAM => Ok(Type::STREAM),
            sys::FILETYPE_SOCKET_DGRAM => Ok(Type::DGRAM),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("fd {} is not a socket (WASI filetype {other})", self.raw()),
            )),
        }
    }

    /// `sock_set_recv_timeout`. `None` blocks forever; `Some(ZERO)` is an error, as in std.
    /// An expired timeout makes reads fail with `WouldBlock` (EAGAIN).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_recv_timeout(self.raw(), timeout_to_us(timeout)?) })
    }

    /// `sock_get_recv_timeout`.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        let mut us = 0u64;
        // SAFETY: `us` is a writable u64.
        cvt(unsafe { sys::sock_get_recv_timeout(self.raw(), &mut us) })?;
        Ok(us_to_timeout(us))
    }

    /// `sock_set_send_timeout` (see [`Socket::set_read_timeout`]).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_send_timeout(self.raw(), timeout_to_us(timeout)?) })
    }

    /// `sock_get_send_timeout`.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        let mut us = 0u64;
        // SAFETY: `us` is a writable u64.
        cvt(unsafe { sys::sock_get_send_timeout(self.raw(), &mut us) })?;
        Ok(us_to_timeout(us))
    }

    /// `sock_set_recv_buf_size` (SO_RCVBUF; Linux doubles the value).
    pub fn set_recv_buffer_size(&self, size: usize) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_recv_buf_size(self.raw(), buffer_size(size)?) })
    }

    /// `sock_get_recv_buf_size`.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        get_buffer_size(self.raw(), sys::sock_get_recv_buf_size)
    }

    /// `sock_set_send_buf_size` (SO_SNDBUF; Linux doubles the value).
    pub fn set_send_buffer_size(&self, size: usize) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_send_buf_size(self.raw(), buffer_size(size)?) })
    }

    /// `sock_get_send_buf_size`.
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        get_buffer_size(self.raw(), sys::sock_get_send_buf_size)
    }

    /// `sock_set_keep_alive` (SO_KEEPALIVE).
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_keep_alive, on)
    }

    /// `sock_get_keep_alive`.
    pub fn keepalive(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_keep_alive)
    }

    /// `sock_set_tcp_keep_idle` (TCP_KEEPIDLE), in whole seconds.
    pub fn set_keepalive_time(&self, idle: Duration) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_tcp_keep_idle(self.raw(), whole_seconds(idle)?) })
    }

    /// `sock_get_tcp_keep_idle`.
    pub fn keepalive_time(&self) -> io::Result<Duration> {
        let mut seconds = 0u32;
        // SAFETY: `seconds` is a writable u32.
        cvt(unsafe { sys::sock_get_tcp_keep_idle(self.raw(), &mut seconds) })?;
        Ok(Duration::from_secs(seconds.into()))
    }

    /// `sock_set_tcp_keep_intvl` (TCP_KEEPINTVL), in whole seconds.
    pub fn set_keepalive_interval(&self, interval: Duration) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_tcp_keep_intvl(self.raw(), whole_seconds(interval)?) })
    }

    /// `sock_get_tcp_keep_intvl`.
    pub fn keepalive_interval(&self) -> io::Result<Duration> {
        let mut seconds = 0u32;
        // SAFETY: `seconds` is a writable u32.
        cvt(unsafe { sys::sock_get_tcp_keep_intvl(self.raw(), &mut seconds) })?;
        Ok(Duration::from_secs(seconds.into()))
    }

    /// `sock_set_reuse_addr` (SO_REUSEADDR); set it before `bind`.
    pub fn set_reuse_address(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_reuse_addr, on)
    }

    /// `sock_get_reuse_addr`.
    pub fn reuse_address(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_reuse_addr)
    }

    /// `sock_set_reuse_port` (SO_REUSEPORT).
    pub fn set_reuse_port(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_reuse_port, on)
    }

    /// `sock_get_reuse_port`.
    pub fn reuse_port(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_reuse_port)
    }

    /// `sock_set_broadcast` (SO_BROADCAST).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_broadcast, on)
    }

    /// `sock_get_broadcast`.
    pub fn broadcast(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_broadcast)
    }

    /// `sock_set_tcp_no_delay` (TCP_NODELAY).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_tcp_no_delay, on)
    }

    /// `sock_get_tcp_no_delay`.
    pub fn nodelay(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_tcp_no_delay)
    }

    /// `sock_set_ipv6_only` (IPV6_V6ONLY); set it before `bind`.
    pub fn set_only_v6(&self, on: bool) -> io::Result<()> {
        set_bool(self.raw(), sys::sock_set_ipv6_only, on)
    }

    /// `sock_get_ipv6_only`.
    pub fn only_v6(&self) -> io::Result<bool> {
        get_bool(self.raw(), sys::sock_get_ipv6_only)
    }

    /// `sock_set_linger` (SO_LINGER): `None` turns lingering off; `Some(d)` lingers for
    /// `d` in whole seconds (`Some(ZERO)` resets the connection on close).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        let (on, seconds) = match linger {
            None => (0, 0),
            Some(duration) => (1, i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)),
        };
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_linger(self.raw(), on, seconds) })
    }

    /// `sock_get_linger`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        let (mut on, mut seconds) = (0u8, 0i32);
        // SAFETY: a writable byte (the host writes one) and a writable i32.
        cvt(unsafe { sys::sock_get_linger(self.raw(), &mut on, &mut seconds) })?;
        Ok((on != 0).then(|| Duration::from_secs(seconds.max(0) as u64)))
    }

    /// `sock_set_ip_ttl` (IP_TTL, 1..=255).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        let ttl = ttl_byte(ttl)?;
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_ip_ttl(self.raw(), ttl) })
    }

    /// `sock_get_ip_ttl`.
    pub fn ttl(&self) -> io::Result<u32> {
        get_byte(self.raw(), sys::sock_get_ip_ttl).map(u32::from)
    }

    /// `sock_set_ip_multicast_ttl` (IP_MULTICAST_TTL, 0..=255).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        let ttl = ttl_byte(ttl)?;
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_ip_multicast_ttl(self.raw(), ttl) })
    }

    /// `sock_get_ip_multicast_ttl`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        get_byte(self.raw(), sys::sock_get_ip_multicast_ttl).map(u32::from)
    }

    /// `sock_set_ip_multicast_loop(fd, ipv6 = false, on)` (IP_MULTICAST_LOOP).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.set_multicast_loop(false, on)
    }

    /// `sock_get_ip_multicast_loop(fd, ipv6 = false)`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.multicast_loop(false)
    }

    /// `sock_set_ip_multicast_loop(fd, ipv6 = true, on)` (IPV6_MULTICAST_LOOP).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.set_multicast_loop(true, on)
    }

    /// `sock_get_ip_multicast_loop(fd, ipv6 = true)`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.multicast_loop(true)
    }

    fn set_multicast_loop(&self, ipv6: bool, on: bool) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { sys::sock_set_ip_multicast_loop(self.raw(), ipv6.into(), on.into()) })
    }

    fn multicast_loop(&self, ipv6: bool) -> io::Result<bool> {
        let mut on = 0u8;
        // SAFETY: a writable byte; the host writes one.
        cvt(unsafe { sys::sock_get_ip_multicast_loop(self.raw(), ipv6.into(), &mut on) })?;
        Ok(on != 0)
    }

    /// `sock_set_ip_add_membership` with an IPv4 group. `interface` is the local address of
    /// the interface (`0.0.0.0` for any); it is passed as the raw `in_addr` bytes WAMR expects.
    pub fn join_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        let group = WasiAddrIp::encode(&(*group).into());
        // SAFETY: `group` is a 20-byte `__wasi_addr_ip_t` that outlives the call.
        cvt(unsafe { sys::sock_set_ip_add_membership(self.raw(), &group, v4_interface(interface)) })
    }

    /// `sock_set_ip_drop_membership` with an IPv4 group.
    pub fn leave_multicast_v4(&self, group: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        let group = WasiAddrIp::encode(&(*group).into());
        // SAFETY: as in `join_multicast_v4`.
        cvt(unsafe { sys::sock_set_ip_drop_membership(self.raw(), &group, v4_interface(interface)) })
    }

    /// `sock_set_ip_add_membership` with an IPv6 group; `interface` is an interface index
    /// (0 for any).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        let group = WasiAddrIp::encode(&(*group).into());
        // SAFETY: as in `join_multicast_v4`.
        cvt(unsafe { sys::sock_set_ip_add_membership(self.raw(), &group, interface) })
    }

    /// `sock_set_ip_drop_membership` with an IPv6 group.
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        let group = WasiAddrIp::encode(&(*group).into());
        // SAFETY: as in `join_multicast_v4`.
        cvt(unsafe { sys::sock_set_ip_drop_membership(self.raw(), &group, interface) })
    }
}

fn iovecs(bufs: &mut [IoSliceMut<'_>]) -> Vec<sys::Iovec> {
    bufs.iter_mut().map(|buf| sys::Iovec { buf: buf.as_mut_ptr(), len: buf.len() }).collect()
}

fn ciovecs(bufs: &[IoSlice<'_>]) -> Vec<sys::Ciovec> {
    bufs.iter().map(|buf| sys::Ciovec { buf: buf.as_ptr(), len: buf.len() }).collect()
}

/// WAMR reads the interface as `in_addr.s_addr`: the network-order bytes as a host u32.
fn v4_interface(interface: &Ipv4Addr) -> u32 {
    u32::from_le_bytes(interface.octets())
}

type BoolSetter = unsafe extern "C" fn(i32, i32) -> i32;
type ByteGetter = unsafe extern "C" fn(i32, *mut u8) -> i32;

fn set_bool(fd: i32, setter: BoolSetter, on: bool) -> io::Result<()> {
    // SAFETY: the setters take no pointers.
    cvt(unsafe { setter(fd, on.into()) })
}

fn get_bool(fd: i32, getter: ByteGetter) -> io::Result<bool> {
    get_byte(fd, getter).map(|byte| byte != 0)
}

/// Boolean and TTL getters write exactly one byte (spec §3.2).
fn get_byte(fd: i32, getter: ByteGetter) -> io::Result<u8> {
    let mut byte = 0u8;
    // SAFETY: `byte` is a writable byte for the call's duration.
    cvt(unsafe { getter(fd, &mut byte) })?;
    Ok(byte)
}

/// WAMR's buffer-size getters store a host `size_t`, 8 bytes on 64-bit hosts (spec §11.1),
/// so give them 8 bytes and keep the low 4 (the value is a u32).
fn get_buffer_size(fd: i32, getter: unsafe extern "C" fn(i32, *mut u64) -> i32) -> io::Result<usize> {
    let mut size = 0u64;
    // SAFETY: `size` is 8 writable bytes.
    cvt(unsafe { getter(fd, &mut size) })?;
    Ok((size & 0xffff_ffff) as usize)
}

fn buffer_size(size: usize) -> io::Result<u32> {
    u32::try_from(size).ok().filter(|&size| size <= i32::MAX as u32).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("buffer size {size} is above {}", i32::MAX))
    })
}

fn ttl_byte(ttl: u32) -> io::Result<i32> {
    if ttl > 255 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("TTL {ttl} is above 255")));
    }
    Ok(ttl as i32)
}

fn whole_seconds(duration: Duration) -> io::Result<u32> {
    u32::try_from(duration.as_secs()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{duration:?} is too long for a keepalive setting"),
        )
    })
}

/// The runtime's u64 microseconds, 0 meaning "no timeout". Like std, a zero duration is an
/// error (it would silently mean "forever") and sub-microsecond durations round up to 1 µs.
pub(crate) fn timeout_to_us(timeout: Option<Duration>) -> io::Result<u64> {
    match timeout {
        None => Ok(0),
        Some(duration) if duration.is_zero() => {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot set a 0 duration timeout"))
        }
        Some(duration) => Ok(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).max(1)),
    }
}

pub(crate) fn us_to_timeout(us: u64) -> Option<Duration> {
    (us != 0).then(|| Duration::from_micros(us))
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl FromRawFd for Socket {
    /// # Safety
    /// `fd` must be an open socket fd that nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> Socket {
        // SAFETY: the caller guarantees ownership of `fd`.
        Socket { fd: unsafe { OwnedFd::from_raw_fd(fd) } }
    }
}

impl IntoRawFd for Socket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for Socket {
    fn from(fd: OwnedFd) -> Socket {
        Socket { fd }
    }
}

impl From<Socket> for OwnedFd {
    fn from(socket: Socket) -> OwnedFd {
        socket.fd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_std() {
        assert_eq!(timeout_to_us(None).unwrap(), 0);
        assert_eq!(timeout_to_us(Some(Duration::ZERO)).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(timeout_to_us(Some(Duration::from_nanos(1))).unwrap(), 1);
        assert_eq!(timeout_to_us(Some(Duration::from_millis(1500))).unwrap(), 1_500_000);
        assert_eq!(timeout_to_us(Some(Duration::MAX)).unwrap(), u64::MAX);
        assert_eq!(us_to_timeout(0), None);
        assert_eq!(us_to_timeout(250), Some(Duration::from_micros(250)));
    }

    #[test]
    fn ipv4_interface_is_raw_in_addr_bytes() {
        assert_eq!(v4_interface(&Ipv4Addr::UNSPECIFIED), 0);
        // 10.0.0.1 in network order is bytes 0a 00 00 01, read as a little-endian u32.
        assert_eq!(v4_interface(&Ipv4Addr::new(10, 0, 0, 1)), 0x0100_000a);
    }

    #[test]
    fn option_values_are_range_checked() {
        assert_eq!(ttl_byte(255).unwrap(), 255);
        assert_eq!(ttl_byte(256).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(buffer_size(1 << 31).is_err());
        assert_eq!(buffer_size(65536).unwrap(), 65536);
    }

    #[test]
    #[cfg(not(target_os = "wasi"))]
    fn off_wasi_every_call_says_unsupported() {
        let err = Socket::new(Domain::IPV4, Type::STREAM).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("wasm32-wasip1"), "{err}");
    }
}
