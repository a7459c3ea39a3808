//! The socket imports called as the engine binding calls them: on a `Vec<u8>` guest memory
//! (some tests also as a shared memory), with loopback traffic only (127.0.0.1 and ::1;
//! denials aim at 127.0.0.2).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::{abi, io, opt, resolve, socket};
use crate::abi::{fdflags, sockflags};
use crate::ctx::{Ctx, CtxBuilder};
use crate::errno::{Errno, Error, Result};
use crate::memory::GuestMemory;
use crate::p1::sock as p1;
use crate::policy::Policy;

const MEM_SIZE: usize = 1 << 20;
/// Scratch for u32/u64 results.
const OUT: u32 = 0;
const OUT2: u32 = 16;
/// An `__wasi_addr_t`.
const ADDR: u32 = 64;
/// An iovec array (up to 8 entries).
const IOV: u32 = 128;
/// Strings for resolve.
const STR: u32 = 256;
const STR2: u32 = 512;
const HINTS: u32 = 768;
/// Data buffers.
const BUF: u32 = 4096;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const DENIED_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Calls a host function with the guest's context and memory.
macro_rules! call {
    ($g:expr, $f:path $(, $a:expr)* $(,)?) => {
        $g.with_memory(|cx, mem| $f(cx, mem $(, $a)*))
    };
}

fn loopback_policy() -> Policy {
    let mut p = Policy::default();
    p.addr_pool.insert("127.0.0.1/32".parse().unwrap());
    p.addr_pool.insert("::1/128".parse().unwrap());
    p
}

fn errno<T: std::fmt::Debug>(r: Result<T>) -> Errno {
    match r {
        Err(Error::Errno(e)) => e,
        other => panic!("expected an errno, got {other:?}"),
    }
}

fn is_trap<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(Error::Trap(_)))
}

struct Guest {
    cx: Ctx,
    mem: Vec<u8>,
    /// Host calls see `mem` as a shared memory (bounce buffers) instead of a plain one.
    shared: bool,
}

impl Guest {
    fn new() -> Guest {
        Guest::with_policy(loopback_policy())
    }

    fn of_kind(shared: bool) -> Guest {
        Guest { shared, ..Guest::new() }
    }

    fn with_policy(policy: Policy) -> Guest {
        let cx = CtxBuilder::new().policy(policy).trace(true).build().unwrap();
        Guest { cx, mem: vec![0; MEM_SIZE], shared: false }
    }

    /// Runs a host call on the guest's memory, of the guest's kind.
    fn with_memory<T>(&mut self, call: impl FnOnce(&Ctx, &mut GuestMemory<'_>) -> T) -> T {
        match self.shared {
            false => call(&self.cx, &mut GuestMemory::new(&mut self.mem)),
            true => call(&self.cx, &mut GuestMemory::shared_view(&mut self.mem)),
        }
    }

    fn u32_at(&self, ptr: u32) -> u32 {
        let p = ptr as usize;
        u32::from_le_bytes(self.mem[p..p + 4].try_into().unwrap())
    }

    fn put_addr(&mut self, ptr: u32, addr: SocketAddr) {
        abi::write_addr(&mut GuestMemory::new(&mut self.mem), ptr, addr).unwrap();
    }

    fn addr_at(&self, ptr: u32) -> SocketAddr {
        let p = ptr as usize;
        abi::decode_addr(self.mem[p..p + 24].try_into().unwrap()).unwrap()
    }

    fn open(&mut self, ip: IpAddr, stream: bool) -> u32 {
        let af = if ip.is_ipv6() { abi::address_family::INET6 } else { abi::address_family::INET4 };
        let ty = if stream { abi::sock_type::SOCKET_STREAM } else { abi::sock_type::SOCKET_DGRAM };
        call!(self, socket::sock_open, u32::MAX, af as u32, ty as u32, OUT).unwrap();
        let fd = self.u32_at(OUT);
        // A broken implementation fails a test instead of hanging it.
        call!(self, opt::sock_set_recv_timeout, fd, 10_000_000).unwrap();
        call!(self, opt::sock_set_send_timeout, fd, 10_000_000).unwrap();
        fd
    }

    fn bind(&mut self, fd: u32, addr: SocketAddr) -> Result<()> {
        self.put_addr(ADDR, addr);
        call!(self, socket::sock_bind, fd, ADDR)
    }

    fn connect(&mut self, fd: u32, addr: SocketAddr) -> Result<()> {
        self.put_addr(ADDR, addr);
        call!(self, socket::sock_connect, fd, ADDR)
    }

    fn local(&mut self, fd: u32) -> SocketAddr {
        call!(self, socket::sock_addr_local, fd, ADDR).unwrap();
        self.addr_at(ADDR)
    }

    fn remote(&mut self, fd: u32) -> Result<SocketAddr> {
        call!(self, socket::sock_addr_remote, fd, ADDR)?;
        Ok(self.addr_at(ADDR))
    }

    fn accept(&mut self, fd: u32, flags: u16) -> Result<u32> {
        call!(self, p1::sock_accept, fd, flags as u32, OUT)?;
        Ok(self.u32_at(OUT))
    }

    /// A guest TCP listener on `ip`, port 0.
    fn listener(&mut self, ip: IpAddr) -> (u32, SocketAddr) {
        let fd = self.open(ip, true);
        self.bind(fd, SocketAddr::new(ip, 0)).unwrap();
        call!(self, socket::sock_listen, fd, 16).unwrap();
        (fd, self.local(fd))
    }

    fn set_iovs(&mut self, bufs: &[(u32, u32)]) {
        for (i, (buf, len)) in bufs.iter().enumerate() {
            let p = (IOV + i as u32 * 8) as usize;
            self.mem[p..p + 4].copy_from_slice(&buf.to_le_bytes());
            self.mem[p + 4..p + 8].copy_from_slice(&len.to_le_bytes());
        }
    }

    fn put_data(&mut self, data: &[u8]) {
        let p = BUF as usize;
        self.mem[p..p + data.len()].copy_from_slice(data);
        self.set_iovs(&[(BUF, data.len() as u32)]);
    }

    fn send(&mut self, fd: u32, data: &[u8]) -> Result<u32> {
        self.put_data(data);
        call!(self, p1::sock_send, fd, IOV, 1, 0, OUT)?;
        Ok(self.u32_at(OUT))
    }

    fn send_to(&mut self, fd: u32, data: &[u8], to: SocketAddr) -> Result<u32> {
        self.put_data(data);
        self.put_addr(ADDR, to);
        call!(self, io::sock_send_to, fd, IOV, 1, 0, ADDR, OUT)?;
        Ok(self.u32_at(OUT))
    }

    /// sock_recv into one buffer of `len` bytes: the bytes and `*roflags`.
    fn recv(&mut self, fd: u32, len: u32, riflags: u16) -> Result<(Vec<u8>, u16)> {
        self.mem[BUF as usize..(BUF + len) as usize].fill(0);
        self.set_iovs(&[(BUF, len)]);
        self.mem[OUT2 as usize..OUT2 as usize + 2].copy_from_slice(&[0xEE, 0xEE]);
        call!(self, p1::sock_recv, fd, IOV, 1, riflags as u32, OUT, OUT2)?;
        let n = self.u32_at(OUT);
        let roflags = u16::from_le_bytes([self.mem[OUT2 as usize], self.mem[OUT2 as usize + 1]]);
        Ok((self.mem[BUF as usize..(BUF + n) as usize].to_vec(), roflags))
    }

    fn recv_from(&mut self, fd: u32, len: u32, riflags: u16) -> Result<(Vec<u8>, SocketAddr)> {
        self.set_iovs(&[(BUF, len)]);
        call!(self, io::sock_recv_from, fd, IOV, 1, riflags as u32, ADDR, OUT)?;
        let n = self.u32_at(OUT);
        Ok((self.mem[BUF as usize..(BUF + n) as usize].to_vec(), self.addr_at(ADDR)))
    }

    fn set_nonblocking(&self, fd: u32) {
        self.cx.get(fd, 0).unwrap().as_socket().unwrap().set_nonblocking(true);
    }
}

/// A connected pair of guest sockets: (client, accepted).
fn guest_pair(g: &mut Guest, ip: IpAddr) -> (u32, u32) {
    let (listener, addr) = g.listener(ip);
    let client = g.open(ip, true);
    g.connect(client, addr).unwrap();
    let server = g.accept(listener, 0).unwrap();
    (client, server)
}

#[test]
fn import_table_lists_the_48_wamr_only_functions_with_their_shapes() {
    macro_rules! names {
        ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {{
            // Each path must have exactly the binding's shape for its argument types.
            $(let _: fn(&Ctx, &mut GuestMemory<'_>, $($ty),*) -> Result<()> = $path;)*
            vec![$(stringify!($name)),*]
        }};
    }
    let wamr: Vec<&str> = crate::for_each_wamr_import!(names);
    let p1: Vec<&str> = crate::for_each_import!(names);
    assert_eq!(wamr.len(), 48);
    assert!(wamr.iter().all(|n| n.starts_with("sock_")));
    let shared: Vec<&str> = p1.iter().copied().filter(|n| n.starts_with("sock_")).collect();
    assert_eq!(shared, ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"]);
    let mut all: Vec<&str> = wamr.iter().chain(&shared).copied().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 52, "WAMR registers 52 sock_* names (spec §3)");
    for name in
        ["sock_set_recv_timeout", "sock_get_ip_multicast_loop", "sock_set_ip_drop_membership", "sock_close"]
    {
        assert!(wamr.contains(&name), "{name}");
    }
}

#[test]
fn tcp_between_guest_sockets_on_both_families() {
    for (ip, shared) in [(V4, false), (V6, false), (V4, true), (V6, true)] {
        let mut g = Guest::of_kind(shared);
        let (listener, laddr) = g.listener(ip);
        assert_eq!(laddr.ip(), ip);
        assert_ne!(laddr.port(), 0);
        // The raw bytes: kind 0/1 first, port little-endian at 8 or 20.
        let raw = &g.mem[ADDR as usize..ADDR as usize + 24];
        let (kind, port_at) = if ip.is_ipv4() { (0, 8) } else { (1, 20) };
        assert_eq!(raw[0..4], [kind, 0, 0, 0]);
        assert_eq!(raw[port_at..port_at + 2], laddr.port().to_le_bytes());

        let client = g.open(ip, true);
        g.connect(client, laddr).unwrap();
        let server = g.accept(listener, 0).unwrap();
        assert!(server > client, "lowest free fd: listener, client, then the accepted socket");
        assert_eq!(g.remote(client).unwrap(), laddr);
        let client_addr = g.local(client);
        assert_eq!(g.remote(server).unwrap(), client_addr);

        assert_eq!(g.send(client, b"hello, wasock").unwrap(), 13);
        let (data, roflags) = g.recv(server, 64, 0).unwrap();
        assert_eq!(data, b"hello, wasock");
        assert_eq!(roflags, 0, "roflags written as 0");

        // recv_from on TCP names the peer (WAMR: [::]:0).
        g.send(server, b"back").unwrap();
        let (data, from) = g.recv_from(client, 64, 0).unwrap();
        assert_eq!(data, b"back");
        assert_eq!(from, laddr);

        // Zero-length send and recv succeed with 0 (WAMR: EINVAL).
        g.set_iovs(&[]);
        call!(g, p1::sock_send, client, IOV, 0, 0, OUT).unwrap();
        assert_eq!(g.u32_at(OUT), 0);
        g.set_iovs(&[(BUF, 0)]);
        call!(g, p1::sock_recv, server, IOV, 1, 0, OUT, OUT2).unwrap();
        assert_eq!(g.u32_at(OUT), 0);
    }
}

#[test]
fn peek_leaves_data_queued_and_scatter_fills_iovecs_in_order() {
    for shared in [false, true] {
        peek_and_scatter(Guest::of_kind(shared));
    }
}

fn peek_and_scatter(mut g: Guest) {
    let (client, server) = guest_pair(&mut g, V4);
    g.send(client, b"abcdef").unwrap();
    let (data, _) = g.recv(server, 3, sockflags::RECV_PEEK).unwrap();
    assert_eq!(data, b"abc");
    // Not consumed: a plain receive into two iovecs (second one lower in memory) gets it all.
    std::thread::sleep(Duration::from_millis(20));
    g.set_iovs(&[(BUF + 100, 2), (BUF, 10)]);
    call!(g, p1::sock_recv, server, IOV, 2, 0, OUT, OUT2).unwrap();
    assert_eq!(g.u32_at(OUT), 6);
    assert_eq!(&g.mem[BUF as usize + 100..BUF as usize + 102], b"ab");
    assert_eq!(&g.mem[BUF as usize..BUF as usize + 4], b"cdef");
}

#[test]
fn waitall_collects_a_full_buffer_across_writes() {
    for shared in [false, true] {
        waitall(Guest::of_kind(shared));
    }
}

fn waitall(mut g: Guest) {
    let peer = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = peer.local_addr().unwrap();
    let fd = g.open(V4, true);
    g.connect(fd, addr).unwrap();
    let (mut stream, _) = peer.accept().unwrap();
    let writer = std::thread::spawn(move || {
        stream.write_all(b"abc").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        stream.write_all(b"defgh").unwrap();
        stream
    });
    let (data, _) = g.recv(fd, 6, sockflags::RECV_WAITALL).unwrap();
    assert_eq!(data, b"abcdef");
    let stream = writer.join().unwrap();
    // Without WAITALL what is there comes back at once; with it, EOF ends the wait early.
    drop(stream);
    let (data, _) = g.recv(fd, 10, sockflags::RECV_WAITALL).unwrap();
    assert_eq!(data, b"gh");
}

#[test]
fn shutdown_write_sends_eof_but_keeps_reading() {
    let peer = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let mut g = Guest::new();
    let fd = g.open(V6, true);
    g.connect(fd, peer.local_addr().unwrap()).unwrap();
    let (mut stream, _) = peer.accept().unwrap();
    assert_eq!(errno(call!(g, p1::sock_shutdown, fd, 0)), Errno::Inval);
    call!(g, p1::sock_shutdown, fd, sockflags::SHUT_WR as u32).unwrap();
    let mut buf = [0u8; 8];
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(stream.read(&mut buf).unwrap(), 0, "peer sees EOF");
    stream.write_all(b"still open").unwrap();
    let (data, _) = g.recv(fd, 64, 0).unwrap();
    assert_eq!(data, b"still open");
    assert_eq!(errno(g.send(fd, b"x")), Errno::Pipe);
    // Now the read side too: recv returns 0 at once.
    call!(g, p1::sock_shutdown, fd, sockflags::SHUT_RD as u32).unwrap();
    assert_eq!(g.recv(fd, 64, 0).unwrap().0, b"");
}

#[test]
fn std_peers_talk_to_guest_sockets() {
    let mut g = Guest::new();
    let (listener, addr) = g.listener(V4);
    let mut client = TcpStream::connect(addr).unwrap();
    let fd = g.accept(listener, 0).unwrap();
    client.write_all(&[0, 1, 2, 255]).unwrap();
    assert_eq!(g.recv(fd, 4, sockflags::RECV_WAITALL).unwrap().0, [0, 1, 2, 255]);
    assert_eq!(g.send(fd, b"pong").unwrap(), 4);
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong");
}

#[test]
fn blocking_send_delivers_everything_past_the_socket_buffer() {
    // sock_send and fd_write (write(2) on a socket) alike; a shared memory sends it in
    // bounce-buffer rounds, and still everything.
    for (via_fd_write, shared) in [(false, false), (true, false), (false, true), (true, true)] {
        let peer = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut g = Guest::of_kind(shared);
        let fd = g.open(V4, true);
        call!(g, opt::sock_set_send_buf_size, fd, 4096).unwrap();
        g.connect(fd, peer.local_addr().unwrap()).unwrap();
        let (mut stream, _) = peer.accept().unwrap();
        let total = 600_000usize;
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        // A slow reader, so that the guest's send must wait for room several times.
        let reader = std::thread::spawn(move || {
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 8192];
            while got.len() < total {
                std::thread::sleep(Duration::from_millis(1));
                match stream.read(&mut buf).unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            got
        });
        let sent = if via_fd_write {
            g.put_data(&data);
            g.set_iovs(&[(BUF, total as u32)]);
            call!(g, crate::p1::fd::fd_write, fd, IOV, 1, OUT).unwrap();
            g.u32_at(OUT)
        } else {
            g.send(fd, &data).unwrap()
        };
        assert_eq!(sent as usize, total, "fd_write: {via_fd_write}, shared: {shared}");
        assert_eq!(reader.join().unwrap(), expected, "fd_write: {via_fd_write}, shared: {shared}");
    }
}

#[test]
fn udp_send_to_and_recv_from_report_sources_and_truncation() {
    for (ip, shared) in [(V4, false), (V6, false), (V4, true), (V6, true)] {
        let mut g = Guest::of_kind(shared);
        let a = g.open(ip, false);
        let b = g.open(ip, false);
        g.bind(a, SocketAddr::new(ip, 0)).unwrap();
        g.bind(b, SocketAddr::new(ip, 0)).unwrap();
        let (a_addr, b_addr) = (g.local(a), g.local(b));
        assert_eq!(g.send_to(a, b"datagram one", b_addr).unwrap(), 12);
        let (data, from) = g.recv_from(b, 64, 0).unwrap();
        assert_eq!(data, b"datagram one");
        assert_eq!(from, a_addr);

        // Truncated: 4 of 12 bytes, roflags says so; the rest is gone.
        g.send_to(a, b"datagram two", b_addr).unwrap();
        let (data, roflags) = g.recv(b, 4, 0).unwrap();
        assert_eq!(data, b"data");
        assert_eq!(roflags, sockflags::RECV_DATA_TRUNCATED);
        // A datagram scattered over two iovecs arrives whole, roflags 0.
        g.send_to(a, b"0123456789", b_addr).unwrap();
        g.set_iovs(&[(BUF, 3), (BUF + 50, 20)]);
        call!(g, p1::sock_recv, b, IOV, 2, 0, OUT, OUT2).unwrap();
        assert_eq!(g.u32_at(OUT), 10);
        assert_eq!(&g.mem[BUF as usize..BUF as usize + 3], b"012");
        assert_eq!(&g.mem[BUF as usize + 50..BUF as usize + 57], b"3456789");
        assert_eq!(g.mem[OUT2 as usize..OUT2 as usize + 2], [0, 0]);

        // An empty datagram is a datagram.
        assert_eq!(g.send_to(a, b"", b_addr).unwrap(), 0);
        assert_eq!(g.recv_from(b, 8, 0).unwrap(), (vec![], a_addr));
        // A zero-length receive on a datagram socket takes the next datagram, reported truncated.
        g.send_to(a, b"dropped", b_addr).unwrap();
        g.send_to(a, b"kept", b_addr).unwrap();
        assert_eq!(g.recv(b, 0, 0).unwrap(), (vec![], sockflags::RECV_DATA_TRUNCATED));
        assert_eq!(g.recv(b, 8, 0).unwrap(), (b"kept".to_vec(), 0));

        // UDP cannot listen or shut down.
        assert_eq!(errno(call!(g, socket::sock_listen, a, 1)), Errno::NotSup);
        assert_eq!(errno(call!(g, p1::sock_shutdown, a, 3)), Errno::NotConn);
    }
}

#[test]
fn nonblocking_accept_connect_and_recv() {
    let mut g = Guest::new();
    let (listener, addr) = g.listener(V4);
    g.set_nonblocking(listener);
    assert_eq!(errno(g.accept(listener, 0)), Errno::Again);

    let client = g.open(V4, true);
    g.set_nonblocking(client);
    assert_eq!(errno(g.connect(client, addr)), Errno::InProgress);
    let mut set = {
        let d = g.cx.get(client, 0).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&d.as_socket().unwrap().socket);
        [libc::pollfd { fd, events: libc::POLLOUT, revents: 0 }]
    };
    assert_eq!(crate::sys::poll(&mut set, Some(Duration::from_secs(5))).unwrap(), 1);
    assert_eq!(g.remote(client).unwrap(), addr);

    // The NONBLOCK accept flag is honoured (WAMR ignores it).
    let deadline = Instant::now() + Duration::from_secs(5);
    let server = loop {
        match g.accept(listener, fdflags::NONBLOCK) {
            Ok(fd) => break fd,
            Err(Error::Errno(Errno::Again)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("accept: {e:?}"),
        }
    };
    assert!(g.cx.get(server, 0).unwrap().as_socket().unwrap().is_nonblocking());
    assert_eq!(errno(g.recv(server, 8, 0)), Errno::Again);
    // A blocking accept gives a blocking socket.
    let c2 = g.open(V4, true);
    g.connect(c2, addr).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let s2 = loop {
        match g.accept(listener, 0) {
            Ok(fd) => break fd,
            Err(Error::Errno(Errno::Again)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("accept: {e:?}"),
        }
    };
    assert!(!g.cx.get(s2, 0).unwrap().as_socket().unwrap().is_nonblocking());
}

#[test]
fn blocking_connect_reports_refusal() {
    let closed = {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        l.local_addr().unwrap()
    };
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    assert_eq!(errno(g.connect(fd, closed)), Errno::ConnRefused);
}

#[test]
fn recv_timeout_expires_with_eagain() {
    let mut g = Guest::new();
    let (client, server) = guest_pair(&mut g, V4);
    call!(g, opt::sock_set_recv_timeout, server, 150_000).unwrap();
    g.mem[OUT as usize..OUT as usize + 12].fill(0xEE);
    call!(g, opt::sock_get_recv_timeout, server, OUT).unwrap();
    assert_eq!(
        g.mem[OUT as usize..OUT as usize + 12],
        [0xf0, 0x49, 0x02, 0, 0, 0, 0, 0, 0xEE, 0xEE, 0xEE, 0xEE]
    );
    let start = Instant::now();
    assert_eq!(errno(g.recv(server, 8, 0)), Errno::Again);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(140) && waited < Duration::from_secs(5), "{waited:?}");
    // WAITALL with a timeout returns what arrived before it expired.
    g.send(client, b"xy").unwrap();
    let start = Instant::now();
    assert_eq!(g.recv(server, 8, sockflags::RECV_WAITALL).unwrap().0, b"xy");
    assert!(start.elapsed() >= Duration::from_millis(140));
    // Timeouts are inherited by accepted sockets, as the kernel's are.
    let (listener, addr) = g.listener(V4);
    call!(g, opt::sock_set_send_timeout, listener, 7).unwrap();
    let c = g.open(V4, true);
    g.connect(c, addr).unwrap();
    let s = g.accept(listener, 0).unwrap();
    g.mem[OUT as usize..OUT as usize + 8].fill(0xEE);
    call!(g, opt::sock_get_send_timeout, s, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize..OUT as usize + 8], [7, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn a_blocked_accept_wakes_when_the_instance_stops() {
    let mut g = Guest::new();
    let (listener, _) = g.listener(V4);
    let stop = crate::errno::Trap("stopped by test".into());
    std::thread::scope(|s| {
        let cx = &g.cx;
        let waiter = s.spawn(move || {
            let mut mem = vec![0u8; 64];
            p1::sock_accept(cx, &mut GuestMemory::new(&mut mem), listener, 0, 0)
        });
        std::thread::sleep(Duration::from_millis(50));
        cx.interrupt.trigger(Error::Trap(stop.clone()));
        assert_eq!(waiter.join().unwrap(), Err(Error::Trap(stop.clone())));
    });
}

#[test]
fn send_to_a_reset_peer_is_an_error_not_a_signal() {
    let peer = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    g.connect(fd, peer.local_addr().unwrap()).unwrap();
    let (stream, _) = peer.accept().unwrap();
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream); // RST
    let mut last = None;
    for _ in 0..100 {
        match g.send(fd, b"are you there?") {
            Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    let e = errno(last.map_or(Ok(()), Err));
    assert!(matches!(e, Errno::Pipe | Errno::ConnReset), "{e:?}");
}

#[test]
fn option_getters_write_exactly_wamrs_byte_counts() {
    let mut g = Guest::with_policy(Policy { allow_port_sharing: true, ..loopback_policy() });
    let tcp = g.open(V4, true);
    let udp = g.open(V4, false);
    let tcp6 = g.open(V6, true);
    type Set = fn(&Ctx, &mut GuestMemory<'_>, u32, u32) -> Result<()>;
    let booleans: [(u32, Set, Set); 8] = [
        (tcp, opt::sock_set_keep_alive, opt::sock_get_keep_alive),
        (tcp, opt::sock_set_reuse_addr, opt::sock_get_reuse_addr),
        (tcp, opt::sock_set_reuse_port, opt::sock_get_reuse_port),
        (udp, opt::sock_set_broadcast, opt::sock_get_broadcast),
        (tcp, opt::sock_set_tcp_no_delay, opt::sock_get_tcp_no_delay),
        (tcp, opt::sock_set_tcp_quick_ack, opt::sock_get_tcp_quick_ack),
        (tcp, opt::sock_set_tcp_fastopen_connect, opt::sock_get_tcp_fastopen_connect),
        (tcp6, opt::sock_set_ipv6_only, opt::sock_get_ipv6_only),
    ];
    for (i, (fd, set, get)) in booleans.into_iter().enumerate() {
        // 0x100 has a zero low byte: false, as a C bool parameter would be.
        for (value, want) in [(1u32, 1u8), (0x100, 0), (0x7f, 1), (0, 0)] {
            set(&g.cx, &mut GuestMemory::new(&mut g.mem), fd, value)
                .unwrap_or_else(|e| panic!("#{i}: {e:?}"));
            g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
            get(&g.cx, &mut GuestMemory::new(&mut g.mem), fd, OUT).unwrap();
            assert_eq!(
                g.mem[OUT as usize..OUT as usize + 4],
                [want, 0xEE, 0xEE, 0xEE],
                "#{i} set {value:#x}"
            );
        }
    }

    // TTLs: the low 8 bits in, 1 byte out.
    call!(g, opt::sock_set_ip_ttl, udp, 0x1_40).unwrap();
    g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
    call!(g, opt::sock_get_ip_ttl, udp, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize..OUT as usize + 4], [0x40, 0xEE, 0xEE, 0xEE]);
    call!(g, opt::sock_set_ip_multicast_ttl, udp, 9).unwrap();
    g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
    call!(g, opt::sock_get_ip_multicast_ttl, udp, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize..OUT as usize + 4], [9, 0xEE, 0xEE, 0xEE]);

    // Multicast loop, per family.
    let udp6 = g.open(V6, false);
    for (fd, v6) in [(udp, 0), (udp6, 1)] {
        for on in [0u32, 1] {
            call!(g, opt::sock_set_ip_multicast_loop, fd, v6, on).unwrap();
            g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
            call!(g, opt::sock_get_ip_multicast_loop, fd, v6, OUT).unwrap();
            assert_eq!(g.mem[OUT as usize..OUT as usize + 4], [on as u8, 0xEE, 0xEE, 0xEE]);
        }
    }

    // Buffer sizes: 4 bytes (WAMR writes 8). Linux doubles the value set.
    call!(g, opt::sock_set_recv_buf_size, tcp, 8192).unwrap();
    call!(g, opt::sock_set_send_buf_size, tcp, 16384).unwrap();
    g.mem[OUT as usize..OUT as usize + 8].fill(0xEE);
    call!(g, opt::sock_get_recv_buf_size, tcp, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 16384);
    assert_eq!(g.mem[OUT as usize + 4..OUT as usize + 8], [0xEE; 4]);
    call!(g, opt::sock_get_send_buf_size, tcp, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 32768);

    // Keepalive timing: 4 bytes each, without turning SO_KEEPALIVE on.
    call!(g, opt::sock_set_tcp_keep_idle, tcp, 77).unwrap();
    call!(g, opt::sock_set_tcp_keep_intvl, tcp, 13).unwrap();
    g.mem[OUT as usize..OUT as usize + 8].fill(0xEE);
    call!(g, opt::sock_get_tcp_keep_idle, tcp, OUT).unwrap();
    call!(g, opt::sock_get_tcp_keep_intvl, tcp, OUT + 4).unwrap();
    assert_eq!((g.u32_at(OUT), g.u32_at(OUT + 4)), (77, 13));
    call!(g, opt::sock_get_keep_alive, tcp, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize], 0);

    // Linger: 1 byte + 4 bytes, raw values.
    call!(g, opt::sock_set_linger, tcp, 1, 5).unwrap();
    g.mem[OUT as usize..OUT as usize + 16].fill(0xEE);
    call!(g, opt::sock_get_linger, tcp, OUT, OUT + 8).unwrap();
    assert_eq!(g.mem[OUT as usize..OUT as usize + 2], [1, 0xEE]);
    assert_eq!(g.u32_at(OUT + 8), 5);
    // Bind does not force SO_LINGER {1, 0} (WAMR does).
    call!(g, opt::sock_set_linger, tcp, 0, 0).unwrap();
    g.bind(tcp, SocketAddr::new(V4, 0)).unwrap();
    call!(g, opt::sock_get_linger, tcp, OUT, OUT + 8).unwrap();
    assert_eq!(g.mem[OUT as usize], 0);

    // Timeouts: u64 microseconds, 8 bytes, read back as set.
    call!(g, opt::sock_set_send_timeout, tcp, 0x1_0000_0001).unwrap();
    call!(g, opt::sock_get_send_timeout, tcp, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize..OUT as usize + 8], [1, 0, 0, 0, 1, 0, 0, 0]);

    // An option that does not fit the socket is the OS's error, not ours.
    assert_eq!(errno(call!(g, opt::sock_set_tcp_no_delay, udp, 1)), Errno::NoProtoOpt);
}

#[test]
fn multicast_membership_uses_raw_interface_addresses() {
    let mut g = Guest::new();
    let udp = g.open(V4, false);
    // 224.0.0.251 on the interface 127.0.0.1, passed as s_addr bytes read little-endian.
    let raw = &mut g.mem[ADDR as usize..ADDR as usize + 20];
    raw.fill(0);
    raw[4..8].copy_from_slice(&[224, 0, 0, 251]);
    let lo = u32::from_le_bytes([127, 0, 0, 1]);
    call!(g, opt::sock_set_ip_add_membership, udp, ADDR, lo).unwrap();
    call!(g, opt::sock_set_ip_drop_membership, udp, ADDR, lo).unwrap();
    // Dropping again proves the first drop matched the group joined on that interface.
    assert_eq!(errno(call!(g, opt::sock_set_ip_drop_membership, udp, ADDR, lo)), Errno::AddrNotAvail);
    assert!(is_trap(call!(g, opt::sock_set_ip_add_membership, udp, MEM_SIZE as u32 - 19, 0)));
}

#[test]
fn policy_denials_come_before_the_fd_and_any_system_call() {
    let target = UdpSocket::bind((DENIED_V4, 0)).unwrap();
    target.set_nonblocking(true).unwrap();
    let denied = target.local_addr().unwrap();

    // The empty policy denies everything, even loopback.
    let mut g = Guest::with_policy(Policy::default());
    let tcp = g.open(V4, true);
    let udp = g.open(V4, false);
    assert_eq!(errno(g.bind(tcp, SocketAddr::new(V4, 0))), Errno::Acces);
    assert_eq!(errno(g.connect(tcp, SocketAddr::new(V4, 9))), Errno::Acces);
    assert_eq!(errno(g.send_to(udp, b"nope", denied)), Errno::Acces);
    assert_eq!(errno(g.send_to(udp, b"nope", SocketAddr::new(V4, 9))), Errno::Acces);
    assert_eq!(g.local(udp).port(), 0, "send_to did not even bind the socket");

    // 127.0.0.1/32 allows neither 127.0.0.2 nor its IPv4-mapped IPv6 form.
    let mut g = Guest::new();
    let udp = g.open(V4, false);
    let udp6 = g.open(V6, false);
    let mapped = SocketAddr::new(IpAddr::V6(Ipv4Addr::new(127, 0, 0, 2).to_ipv6_mapped()), denied.port());
    assert_eq!(errno(g.send_to(udp, b"nope", denied)), Errno::Acces);
    assert_eq!(errno(g.send_to(udp6, b"nope", mapped)), Errno::Acces);
    assert_eq!(errno(g.connect(udp6, mapped)), Errno::Acces);
    assert_eq!(errno(g.bind(udp, SocketAddr::new(DENIED_V4, 0))), Errno::Acces);
    assert_eq!(errno(g.bind(udp, "0.0.0.0:0".parse().unwrap())), Errno::Acces);
    std::thread::sleep(Duration::from_millis(50));
    let mut buf = [0u8; 16];
    assert!(target.recv_from(&mut buf).is_err(), "nothing reached 127.0.0.2");

    // Order: kind (EPROTONOSUPPORT), then pool (EACCES), then the fd (EBADF).
    assert_eq!(errno(g.connect(999, SocketAddr::new(DENIED_V4, 1))), Errno::Acces);
    assert_eq!(errno(g.connect(999, SocketAddr::new(V4, 1))), Errno::Badf);
    g.put_addr(ADDR, SocketAddr::new(DENIED_V4, 1));
    g.mem[ADDR as usize] = 2;
    assert_eq!(errno(call!(g, socket::sock_connect, 999, ADDR)), Errno::ProtoNoSupport);
    assert_eq!(errno(call!(g, socket::sock_bind, 999, ADDR)), Errno::ProtoNoSupport);
    g.put_data(b"x");
    assert_eq!(errno(call!(g, io::sock_send_to, 999, IOV, 1, 0, ADDR, OUT)), Errno::ProtoNoSupport);
}

#[test]
fn rights_and_descriptor_kinds() {
    let mut g = Guest::new();
    // Stdio lacks the socket rights; option calls need none but want a socket.
    assert_eq!(errno(call!(g, socket::sock_listen, 1, 1)), Errno::NotCapable);
    assert_eq!(errno(g.accept(1, 0)), Errno::NotCapable);
    assert_eq!(errno(g.bind(1, SocketAddr::new(V4, 0))), Errno::NotCapable);
    assert_eq!(errno(call!(g, socket::sock_addr_local, 1, ADDR)), Errno::NotCapable);
    assert_eq!(errno(g.send(1, b"x")), Errno::NotSock);
    assert_eq!(errno(call!(g, opt::sock_set_keep_alive, 1, 1)), Errno::NotSock);
    assert_eq!(errno(call!(g, opt::sock_get_ip_ttl, 2, OUT)), Errno::NotSock);
    assert_eq!(errno(call!(g, p1::sock_shutdown, 0, 3)), Errno::NotSock);
    assert_eq!(errno(call!(g, socket::sock_listen, 77, 1)), Errno::Badf);
    assert_eq!(errno(call!(g, opt::sock_set_keep_alive, 77, 1)), Errno::Badf);

    // Narrowed rights are enforced per call (spec §6.2).
    let fd = g.open(V4, true);
    let d = g.cx.get(fd, 0).unwrap();
    let (base, inheriting) = d.rights();
    assert_eq!(base, 0x3ff820004a);
    d.narrow_rights(base & !crate::abi::rights::SOCK_BIND, inheriting).unwrap();
    assert_eq!(errno(g.bind(fd, SocketAddr::new(V4, 0))), Errno::NotCapable);
    d.narrow_rights(base & !(crate::abi::rights::SOCK_BIND | crate::abi::rights::FD_READ), inheriting)
        .unwrap();
    assert_eq!(errno(g.recv(fd, 4, 0)), Errno::NotCapable);

    // sock_close is WAMR's stub: ENOSYS, and the socket stays open.
    let fd = g.open(V4, false);
    assert_eq!(errno(call!(g, socket::sock_close, fd)), Errno::NoSys);
    assert!(g.cx.get(fd, 0).is_ok());
}

#[test]
fn open_falls_back_like_wamr_and_fills_the_table() {
    let mut g = Guest::new();
    // Any af other than INET6 is IPv4; any socktype other than DGRAM is a stream.
    call!(g, socket::sock_open, 0, 7, 42, OUT).unwrap();
    let fd = g.u32_at(OUT);
    assert_eq!(g.local(fd), "0.0.0.0:0".parse().unwrap());
    assert_eq!(g.cx.get(fd, 0).unwrap().filetype(), crate::abi::Filetype::SocketStream);
    call!(g, socket::sock_open, 0, 1, 0, OUT).unwrap();
    let fd = g.u32_at(OUT);
    assert_eq!(g.local(fd), "[::]:0".parse().unwrap());
    assert_eq!(g.cx.get(fd, 0).unwrap().filetype(), crate::abi::Filetype::SocketDgram);
    assert_eq!(errno(g.remote(fd)), Errno::NotConn);

    let mut small =
        Guest { cx: CtxBuilder::new().max_fds(5).build().unwrap(), mem: vec![0; 64], shared: false };
    call!(small, socket::sock_open, 0, 0, 1, OUT).unwrap();
    call!(small, socket::sock_open, 0, 0, 1, OUT).unwrap();
    assert_eq!(small.u32_at(OUT), 4);
    assert_eq!(errno(call!(small, socket::sock_open, 0, 0, 1, OUT)), Errno::Mfile);
}

fn resolve_call(
    g: &mut Guest,
    host: &[u8],
    service: &[u8],
    hints: Option<(i32, i32)>,
    cap: u32,
) -> Result<u32> {
    for (at, s) in [(STR, host), (STR2, service)] {
        g.mem[at as usize..at as usize + s.len()].copy_from_slice(s);
        g.mem[at as usize + s.len()] = 0;
    }
    let h = &mut g.mem[HINTS as usize..HINTS as usize + 12];
    h.fill(0);
    if let Some((socktype, family)) = hints {
        h[0..4].copy_from_slice(&socktype.to_le_bytes());
        h[4..8].copy_from_slice(&family.to_le_bytes());
        h[8] = 1;
    }
    call!(g, resolve::sock_addr_resolve, STR, STR2, HINTS, BUF, cap, OUT)?;
    Ok(g.u32_at(OUT))
}

fn resolved(g: &Guest, n: u32) -> Vec<(SocketAddr, i32)> {
    (0..n)
        .map(|i| {
            let at = (BUF + i * 28) as usize;
            let addr = abi::decode_addr(g.mem[at..at + 24].try_into().unwrap()).unwrap();
            (addr, i32::from_le_bytes(g.mem[at + 24..at + 28].try_into().unwrap()))
        })
        .collect()
}

#[test]
fn resolve_is_denied_without_an_allow_list_entry() {
    let mut g = Guest::new();
    g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
    assert_eq!(errno(resolve_call(&mut g, b"localhost", b"", None, 4)), Errno::Acces);
    assert_eq!(errno(resolve_call(&mut g, b"127.0.0.1", b"", None, 4)), Errno::Acces);
    assert_eq!(g.mem[OUT as usize..OUT as usize + 4], [0xEE; 4], "*total untouched on denial");
}

#[test]
fn resolve_localhost_and_numeric_names() {
    let mut policy = loopback_policy();
    policy.allow_resolve.insert("localhost".parse().unwrap());
    policy.allow_resolve.insert("127.0.0.1".parse().unwrap());
    let mut g = Guest::with_policy(policy);

    let total = resolve_call(&mut g, b"localhost", b"", None, 16).unwrap();
    assert!((1..=16).contains(&total), "{total}");
    let results = resolved(&g, total);
    assert!(results.iter().any(|(a, _)| a.ip() == V4 || a.ip() == V6), "{results:?}");
    assert_eq!(results[0].1, abi::sock_type::SOCKET_STREAM, "STREAM first: {results:?}");
    assert!(results.iter().all(|(_, t)| [0, 1].contains(t)));

    // Capacity 0: only *total, nothing written (WAMR divides by zero).
    g.mem[BUF as usize..BUF as usize + 28].fill(0xEE);
    assert_eq!(resolve_call(&mut g, b"localhost", b"", None, 0).unwrap(), total);
    assert_eq!(g.mem[BUF as usize..BUF as usize + 28], [0xEE; 28]);
    // Capacity 1: one entry, silently truncated, *total still counts them all.
    g.mem[BUF as usize..BUF as usize + 56].fill(0xEE);
    assert_eq!(resolve_call(&mut g, b"localhost", b"", None, 1).unwrap(), total);
    assert_ne!(g.mem[BUF as usize..BUF as usize + 4], [0xEE; 4]);
    assert_eq!(g.mem[BUF as usize + 28..BUF as usize + 56], [0xEE; 28]);

    // Numeric with a service: the port comes through; hints narrow to IPv4 streams.
    let n = resolve_call(&mut g, b"127.0.0.1", b"8080", None, 16).unwrap();
    let all = resolved(&g, n);
    assert_eq!(n, 2, "{all:?}");
    assert_eq!(all, [("127.0.0.1:8080".parse().unwrap(), 1), ("127.0.0.1:8080".parse().unwrap(), 0)]);
    let stream_v4 = Some((abi::sock_type::SOCKET_STREAM, abi::address_family::INET4));
    assert_eq!(resolve_call(&mut g, b"127.0.0.1", b"80", stream_v4, 16).unwrap(), 1);
    assert_eq!(resolved(&g, 1), [("127.0.0.1:80".parse().unwrap(), 1)]);
    let dgram_v4 = Some((abi::sock_type::SOCKET_DGRAM, abi::address_family::INET4));
    assert_eq!(resolve_call(&mut g, b"localhost", b"", dgram_v4, 16).unwrap(), 1);
    assert_eq!(resolved(&g, 1), [("127.0.0.1:0".parse().unwrap(), 0)]);

    // Failures: an unknown service is EINVAL (EAI_SERVICE/EAI_NONAME), bad UTF-8 too.
    assert_eq!(errno(resolve_call(&mut g, b"127.0.0.1", b"no-such-service-wasock", None, 4)), Errno::Inval);
    assert_eq!(errno(resolve_call(&mut g, b"local\xffhost", b"", None, 4)), Errno::Inval);
}

#[test]
fn out_of_bounds_pointers_trap() {
    let mut g = Guest::new();
    let end = MEM_SIZE as u32;
    let (client, server) = guest_pair(&mut g, V4);
    let udp = g.open(V4, false);
    assert!(is_trap(call!(g, socket::sock_open, 0, 0, 1, end - 3)));
    assert!(is_trap(call!(g, socket::sock_bind, udp, end - 23)));
    assert!(is_trap(call!(g, socket::sock_connect, client, end - 10)));
    assert!(is_trap(call!(g, socket::sock_addr_local, client, end - 23)));
    assert!(is_trap(call!(g, socket::sock_addr_remote, client, u32::MAX)));
    assert!(is_trap(call!(g, p1::sock_accept, server, 0, end)));
    // I/O: the iovec array, a buffer, the out-pointers.
    g.set_iovs(&[(end - 4, 8)]);
    assert!(is_trap(call!(g, p1::sock_recv, server, IOV, 1, 0, OUT, OUT2)));
    assert!(is_trap(call!(g, p1::sock_send, client, IOV, 1, 0, OUT)));
    assert!(is_trap(call!(g, p1::sock_recv, server, end - 4, 1, 0, OUT, OUT2)));
    g.set_iovs(&[(BUF, 8)]);
    assert!(is_trap(call!(g, p1::sock_recv, server, IOV, 1, 0, OUT, end - 1)));
    assert!(is_trap(call!(g, io::sock_recv_from, server, IOV, 1, 0, end - 20, OUT)));
    assert!(is_trap(call!(g, io::sock_send_to, udp, IOV, 1, 0, end - 20, OUT)));
    assert!(is_trap(call!(g, p1::sock_send, client, IOV, 1, 0, end - 2)));
    // Options.
    assert!(is_trap(call!(g, opt::sock_get_keep_alive, client, end)));
    assert!(is_trap(call!(g, opt::sock_get_recv_buf_size, client, end - 3)));
    assert!(is_trap(call!(g, opt::sock_get_recv_timeout, client, end - 7)));
    assert!(is_trap(call!(g, opt::sock_get_linger, client, OUT, end - 3)));
    // Resolve: strings without a NUL, hints, the result array, *total.
    g.mem[MEM_SIZE - 4..].copy_from_slice(b"abcd");
    assert!(is_trap(call!(g, resolve::sock_addr_resolve, end - 4, STR2, HINTS, BUF, 1, OUT)));
    assert!(is_trap(call!(g, resolve::sock_addr_resolve, STR, STR2, end - 11, BUF, 1, OUT)));
    assert!(is_trap(call!(g, resolve::sock_addr_resolve, STR, STR2, HINTS, end - 28, 2, OUT)));
    assert!(is_trap(call!(g, resolve::sock_addr_resolve, STR, STR2, HINTS, BUF, u32::MAX, OUT)));
    assert!(is_trap(call!(g, resolve::sock_addr_resolve, STR, STR2, HINTS, BUF, 1, end - 2)));
    // Nothing was lost to the traps: the connection still works.
    assert_eq!(g.send(client, b"ok").unwrap(), 2);
    assert_eq!(g.recv(server, 8, 0).unwrap().0, b"ok");
}

#[test]
fn port_sharing_needs_the_policy() {
    let mut g = Guest::new();
    let tcp = g.open(V4, true);
    let udp = g.open(V4, false);
    assert_eq!(errno(call!(g, opt::sock_set_reuse_port, tcp, 1)), Errno::Acces);
    assert_eq!(errno(call!(g, opt::sock_set_reuse_port, udp, 1)), Errno::Acces);
    assert_eq!(errno(call!(g, opt::sock_set_reuse_addr, udp, 1)), Errno::Acces);
    call!(g, opt::sock_set_reuse_addr, tcp, 1).expect("SO_REUSEADDR on TCP only skips TIME_WAIT");
    call!(g, opt::sock_set_reuse_port, tcp, 0).expect("turning it off is always allowed");
    call!(g, opt::sock_set_reuse_addr, udp, 0).expect("turning it off is always allowed");
    call!(g, opt::sock_get_reuse_port, tcp, OUT).unwrap();
    assert_eq!(g.mem[OUT as usize], 0, "the refused option was not set");

    let mut g = Guest::with_policy(Policy { allow_port_sharing: true, ..loopback_policy() });
    let udp = g.open(V4, false);
    call!(g, opt::sock_set_reuse_port, udp, 1).unwrap();
    call!(g, opt::sock_set_reuse_addr, udp, 1).unwrap();
}

fn pool_policy(list: &str) -> Policy {
    let mut p = Policy::default();
    for c in crate::policy::AddrPool::parse_list(list).unwrap() {
        p.addr_pool.insert(c);
    }
    p
}

#[test]
fn listen_without_bind_is_a_bind_to_the_wildcard() {
    // No pool: the implicit bind is refused and the socket stays unbound.
    let mut g = Guest::with_policy(Policy::default());
    for family in [V4, V6] {
        let fd = g.open(family, true);
        assert_eq!(errno(call!(g, socket::sock_listen, fd, 5)), Errno::Acces);
        call!(g, socket::sock_addr_local, fd, ADDR).unwrap();
        assert_eq!(abi::read_addr(&GuestMemory::new(&mut g.mem), ADDR).unwrap().port(), 0);
    }
    // The wildcard granted: it listens on the wildcard and a free port.
    let mut g = Guest::with_policy(pool_policy("0.0.0.0/32"));
    let fd = g.open(V4, true);
    call!(g, socket::sock_listen, fd, 5).unwrap();
    call!(g, socket::sock_addr_local, fd, ADDR).unwrap();
    let local = abi::read_addr(&GuestMemory::new(&mut g.mem), ADDR).unwrap();
    assert!(local.ip().is_unspecified() && local.port() != 0, "{local}");
    // Bound first to a granted address: no wildcard needed.
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    g.put_addr(ADDR, "127.0.0.1:0".parse().unwrap());
    call!(g, socket::sock_bind, fd, ADDR).unwrap();
    call!(g, socket::sock_listen, fd, 5).unwrap();
}

#[test]
fn a_v6_wildcard_is_v6_only_without_the_v4_wildcard() {
    for (list, v6only) in [("::/128", 1u8), ("::/128,0.0.0.0/32", 0)] {
        let mut g = Guest::with_policy(pool_policy(list));
        let fd = g.open(V6, true);
        call!(g, opt::sock_set_ipv6_only, fd, 0).unwrap();
        g.put_addr(ADDR, "[::]:0".parse().unwrap());
        call!(g, socket::sock_bind, fd, ADDR).unwrap();
        call!(g, opt::sock_get_ipv6_only, fd, OUT).unwrap();
        assert_eq!(g.mem[OUT as usize], v6only, "{list}");
        // Listening without a bind goes through the same rule.
        let fd = g.open(V6, true);
        call!(g, opt::sock_set_ipv6_only, fd, 0).unwrap();
        call!(g, socket::sock_listen, fd, 5).unwrap();
        call!(g, opt::sock_get_ipv6_only, fd, OUT).unwrap();
        assert_eq!(g.mem[OUT as usize], v6only, "{list}, implicit bind");
    }
}

#[test]
fn the_unspecified_destination_is_judged_as_loopback() {
    let mut g = Guest::with_policy(pool_policy("0.0.0.0/32,::/128"));
    let tcp = g.open(V4, true);
    let udp = g.open(V4, false);
    let tcp6 = g.open(V6, true);
    g.put_addr(ADDR, "0.0.0.0:9".parse().unwrap());
    assert_eq!(errno(call!(g, socket::sock_connect, tcp, ADDR)), Errno::Acces);
    g.put_addr(STR, "[::]:9".parse().unwrap());
    assert_eq!(errno(call!(g, socket::sock_connect, tcp6, STR)), Errno::Acces);
    g.put_addr(STR2, "[::ffff:0.0.0.0]:9".parse().unwrap());
    assert_eq!(errno(call!(g, socket::sock_connect, tcp6, STR2)), Errno::Acces);
    // send_to: one iovec of 1 byte.
    g.mem[BUF as usize] = b'x';
    GuestMemory::new(&mut g.mem).write(IOV, BUF).unwrap();
    GuestMemory::new(&mut g.mem).write(IOV + 4, 1u32).unwrap();
    assert_eq!(errno(call!(g, io::sock_send_to, udp, IOV, 1, 0, ADDR, OUT)), Errno::Acces);
}
