//! WasmEdge's imports called as the engine binding calls them, on a `Vec<u8>` guest memory,
//! with loopback traffic only (127.0.0.1 and ::1; denials aim at 127.0.0.2). Raw memory is
//! pre-filled with 0xEE where a test checks exactly which bytes the host wrote.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::abi::{self, family, sock_type, sockopt};
use super::{io, opt, poll, resolve, socket};
use crate::ctx::{Ctx, CtxBuilder};
use crate::errno::{Errno, Error, Result};
use crate::memory::GuestMemory;
use crate::policy::Policy;
use crate::sys::AddrInfoError;

const MEM_SIZE: usize = 1 << 20;
/// Scratch for u32 results.
const OUT: u32 = 0;
const OUT2: u32 = 8;
const OUT3: u32 = 16;
/// A `WasiAddress` pair, and the buffer it points at.
const PAIR: u32 = 64;
const ADDR_BUF: u32 = 128;
/// An iovec array.
const IOV: u32 = 320;
/// Option values; resolver strings and hints.
const VALUE: u32 = 384;
const NODE: u32 = 512;
const SERVICE: u32 = 640;
const HINTS: u32 = 768;
/// The resolver's result chain.
const CHAIN: u32 = 8192;
/// Data buffers.
const BUF: u32 = 65536;
/// An offset outside memory.
const OUTSIDE: u32 = MEM_SIZE as u32;

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
const DENIED: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

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

struct Guest {
    cx: Ctx,
    mem: Vec<u8>,
}

impl Guest {
    fn new() -> Guest {
        Guest::with_policy(loopback_policy())
    }

    fn with_policy(policy: Policy) -> Guest {
        let cx = CtxBuilder::new().policy(policy).trace(true).build().unwrap();
        Guest { cx, mem: vec![0; MEM_SIZE] }
    }

    fn with_memory<T>(&mut self, call: impl FnOnce(&Ctx, &mut GuestMemory<'_>) -> T) -> T {
        call(&self.cx, &mut GuestMemory::new(&mut self.mem))
    }

    fn u32_at(&self, ptr: u32) -> u32 {
        let p = ptr as usize;
        u32::from_le_bytes(self.mem[p..p + 4].try_into().unwrap())
    }

    fn bytes(&self, ptr: u32, len: usize) -> &[u8] {
        &self.mem[ptr as usize..ptr as usize + len]
    }

    fn put(&mut self, ptr: u32, data: &[u8]) {
        self.mem[ptr as usize..ptr as usize + data.len()].copy_from_slice(data);
    }

    fn put_u32(&mut self, ptr: u32, value: u32) {
        self.put(ptr, &value.to_le_bytes());
    }

    /// A `WasiAddress` at PAIR describing `len` bytes at ADDR_BUF, which hold `data`
    /// (the rest of the 128 bytes 0xEE).
    fn put_pair(&mut self, data: &[u8], len: u32) {
        self.mem[ADDR_BUF as usize..ADDR_BUF as usize + 128].fill(0xEE);
        self.put(ADDR_BUF, data);
        self.put_u32(PAIR, ADDR_BUF);
        self.put_u32(PAIR + 4, len);
    }

    /// The raw address bytes V1 takes: 4 or 16 bytes, in network order.
    fn put_ip(&mut self, ip: IpAddr) {
        let bytes = abi::ip_bytes(ip);
        self.put_pair(&bytes, bytes.len() as u32);
    }

    /// A 128-byte storage, as V2 takes it.
    fn put_storage(&mut self, ip: IpAddr) {
        let mut storage = vec![0u8; 128];
        storage[..2].copy_from_slice(&(abi::family_of(ip) as u16).to_le_bytes());
        let bytes = abi::ip_bytes(ip);
        storage[2..2 + bytes.len()].copy_from_slice(&bytes);
        self.put_pair(&storage, 128);
    }

    fn open(&mut self, ip: IpAddr, stream: bool) -> u32 {
        let af = if ip.is_ipv6() { family::INET6 } else { family::INET4 };
        let ty = if stream { sock_type::STREAM } else { sock_type::DGRAM };
        call!(self, socket::sock_open, af, ty, OUT).unwrap();
        let fd = self.u32_at(OUT);
        // A broken implementation fails a test instead of hanging it.
        self.set_timeout(fd, sockopt::SO_RCVTIMEO, 10, 0).unwrap();
        self.set_timeout(fd, sockopt::SO_SNDTIMEO, 10, 0).unwrap();
        fd
    }

    fn set_timeout(&mut self, fd: u32, name: u32, seconds: i64, micros: i64) -> Result<()> {
        let mut tv = seconds.to_le_bytes().to_vec();
        tv.extend_from_slice(&micros.to_le_bytes());
        self.put(VALUE, &tv);
        call!(self, opt::sock_setsockopt, fd, 0, name, VALUE, 16)
    }

    fn set_int(&mut self, fd: u32, name: u32, value: i32) -> Result<()> {
        self.put(VALUE, &value.to_le_bytes());
        call!(self, opt::sock_setsockopt, fd, 0, name, VALUE, 4)
    }

    /// sock_getsockopt with room for `room` bytes: what was written.
    fn get(&mut self, fd: u32, name: u32, room: u32) -> Result<Vec<u8>> {
        self.mem[VALUE as usize..VALUE as usize + 32].fill(0xEE);
        self.put_u32(OUT, room);
        call!(self, opt::sock_getsockopt, fd, 0, name, VALUE, OUT)?;
        let len = self.u32_at(OUT) as usize;
        assert!(
            self.mem[VALUE as usize + len..VALUE as usize + 32].iter().all(|&b| b == 0xEE),
            "wrote past *len"
        );
        Ok(self.bytes(VALUE, len).to_vec())
    }

    fn get_int(&mut self, fd: u32, name: u32) -> i32 {
        i32::from_le_bytes(self.get(fd, name, 4).unwrap().try_into().unwrap())
    }

    fn bind(&mut self, fd: u32, addr: SocketAddr) -> Result<()> {
        self.put_ip(addr.ip());
        call!(self, socket::sock_bind, fd, PAIR, u32::from(addr.port()))
    }

    fn connect(&mut self, fd: u32, addr: SocketAddr) -> Result<()> {
        self.put_ip(addr.ip());
        call!(self, socket::sock_connect, fd, PAIR, u32::from(addr.port()))
    }

    /// sock_getlocaladdr V1 with a 16-byte buffer.
    fn local(&mut self, fd: u32) -> SocketAddr {
        self.put_pair(&[], 16);
        call!(self, socket::sock_getlocaladdr, fd, PAIR, OUT2, OUT3).unwrap();
        self.v1_name()
    }

    /// Decodes what a V1 getter wrote: the type 4/6 picks 4 or 16 address bytes.
    fn v1_name(&self) -> SocketAddr {
        let port = self.u32_at(OUT3) as u16;
        match self.u32_at(OUT2) {
            4 => SocketAddr::new(IpAddr::from(<[u8; 4]>::try_from(self.bytes(ADDR_BUF, 4)).unwrap()), port),
            6 => SocketAddr::new(IpAddr::from(<[u8; 16]>::try_from(self.bytes(ADDR_BUF, 16)).unwrap()), port),
            other => panic!("address type {other}"),
        }
    }

    fn listener(&mut self, ip: IpAddr) -> (u32, SocketAddr) {
        let fd = self.open(ip, true);
        self.bind(fd, SocketAddr::new(ip, 0)).unwrap();
        call!(self, socket::sock_listen, fd, 16).unwrap();
        (fd, self.local(fd))
    }

    fn set_iov(&mut self, buf: u32, len: u32) {
        self.put_u32(IOV, buf);
        self.put_u32(IOV + 4, len);
    }

    fn send(&mut self, fd: u32, data: &[u8]) -> Result<u32> {
        self.put(BUF, data);
        self.set_iov(BUF, data.len() as u32);
        call!(self, io::sock_send, fd, IOV, 1, 0, OUT)?;
        Ok(self.u32_at(OUT))
    }

    /// sock_recv into one buffer of `len` bytes: the bytes and `*roflags`.
    fn recv(&mut self, fd: u32, len: u32, riflags: u32) -> Result<(Vec<u8>, u16)> {
        self.set_iov(BUF, len);
        self.put(OUT2, &[0xEE, 0xEE, 0xEE, 0xEE]);
        call!(self, io::sock_recv, fd, IOV, 1, riflags, OUT, OUT2)?;
        assert_eq!(self.bytes(OUT2 + 2, 2), [0xEE, 0xEE], "roflags is 2 bytes");
        let n = self.u32_at(OUT);
        let roflags = u16::from_le_bytes([self.mem[OUT2 as usize], self.mem[OUT2 as usize + 1]]);
        Ok((self.bytes(BUF, n as usize).to_vec(), roflags))
    }
}

/// A native peer connected to a guest listener: (guest's accepted fd, native stream).
fn accepted(g: &mut Guest, ip: IpAddr) -> (u32, TcpStream, u32) {
    let (listener, addr) = g.listener(ip);
    let native = TcpStream::connect(addr).unwrap();
    native.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    call!(g, socket::sock_accept, listener, OUT).unwrap();
    (g.u32_at(OUT), native, listener)
}

#[test]
fn import_table_has_every_wasmedge_name_with_the_binding_shape() {
    macro_rules! names {
        ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {{
            $(let _: fn(&Ctx, &mut GuestMemory<'_>, $($ty),*) -> Result<()> = $path;)*
            vec![$((stringify!($name), [$(stringify!($ty)),*].len())),*]
        }};
    }
    let table: Vec<(&str, usize)> = crate::for_each_wasmedge_import!(names);
    // The arities of docs/wasmedge-socket-abi.md section 3; V1 and V2 differ for four names.
    let expected = [
        ("sock_open", 3),
        ("sock_open_v2", 3),
        ("sock_bind", 3),
        ("sock_bind_v2", 3),
        ("sock_connect", 3),
        ("sock_connect_v2", 3),
        ("sock_listen", 2),
        ("sock_listen_v2", 2),
        ("sock_accept", 2),
        ("sock_accept_v2", 3),
        ("sock_recv", 6),
        ("sock_recv_v2", 6),
        ("sock_recv_from", 7),
        ("sock_recv_from_v2", 8),
        ("sock_send", 5),
        ("sock_send_v2", 5),
        ("sock_send_to", 7),
        ("sock_send_to_v2", 7),
        ("sock_shutdown", 2),
        ("sock_getlocaladdr", 4),
        ("sock_getlocaladdr_v2", 3),
        ("sock_getpeeraddr", 4),
        ("sock_getpeeraddr_v2", 3),
        ("sock_getsockopt", 5),
        ("sock_setsockopt", 5),
        ("sock_getaddrinfo", 8),
        ("epoll_oneoff", 4),
        ("poll_oneoff", 4),
    ];
    assert_eq!(table, expected);
}

#[test]
fn resolver_errnos_are_wasmedges_numbers() {
    let numbers: Vec<u16> = [
        Errno::AiAddrFamily,
        Errno::AiAgain,
        Errno::AiBadFlag,
        Errno::AiFail,
        Errno::AiFamily,
        Errno::AiMemory,
        Errno::AiNoData,
        Errno::AiNoName,
        Errno::AiService,
        Errno::AiSockType,
        Errno::AiSystem,
    ]
    .iter()
    .map(|e| e.raw())
    .collect();
    assert_eq!(numbers, (77..=87).collect::<Vec<u16>>());
    let gai = |code| resolve::lookup_errno(&AddrInfoError::Gai(code));
    assert_eq!(gai(libc::EAI_NONAME), Errno::AiNoName);
    assert_eq!(gai(libc::EAI_AGAIN), Errno::AiAgain);
    assert_eq!(gai(libc::EAI_SERVICE), Errno::AiService);
    assert_eq!(gai(libc::EAI_FAMILY), Errno::AiFamily);
    assert_eq!(gai(libc::EAI_SOCKTYPE), Errno::AiSockType);
    assert_eq!(gai(libc::EAI_MEMORY), Errno::AiMemory);
    assert_eq!(gai(libc::EAI_BADFLAGS), Errno::AiBadFlag);
    assert_eq!(gai(libc::EAI_FAIL), Errno::AiFail);
    assert_eq!(gai(-5), Errno::AiNoData, "glibc's EAI_NODATA");
    assert_eq!(gai(-9), Errno::AiAddrFamily, "glibc's EAI_ADDRFAMILY");
    assert_eq!(gai(-12345), Errno::AiFail, "an unknown code (WasmEdge asserts)");
    let system = AddrInfoError::System(std::io::Error::from_raw_os_error(libc::EIO));
    assert_eq!(resolve::lookup_errno(&system), Errno::AiSystem);
}

#[test]
fn layouts_of_addresses_storage_and_sa_data() {
    let mut g = Guest::new();
    let read = |g: &mut Guest, port: u32, storage: bool| {
        g.with_memory(|_, mem| abi::read_socket_addr(mem, PAIR, port, storage))
    };
    // 4 and 16 raw network-order bytes; the port is a host-order number, bits above 15 dropped.
    g.put_pair(&[127, 0, 0, 1], 4);
    assert_eq!(read(&mut g, 0x1_1f90, false).unwrap(), "127.0.0.1:8080".parse().unwrap());
    g.put_pair(&Ipv6Addr::LOCALHOST.octets(), 16);
    assert_eq!(read(&mut g, 443, false).unwrap(), "[::1]:443".parse().unwrap());
    // The storage: family u16 little-endian at 0, address at 2; V2 only.
    g.put_pair(&[1, 0, 10, 1, 2, 3], 128);
    assert_eq!(errno(read(&mut g, 80, false)), Errno::Inval);
    assert_eq!(read(&mut g, 80, true).unwrap(), "10.1.2.3:80".parse().unwrap());
    let mut v6 = vec![2, 0];
    v6.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
    g.put_pair(&v6, 128);
    assert_eq!(read(&mut g, 80, true).unwrap(), "[fe80::1]:80".parse().unwrap());
    // AF_UNIX is not ours; a family WasmEdge asserts on is EINVAL; other lengths EINVAL.
    g.put_pair(&[3, 0], 128);
    assert_eq!(errno(read(&mut g, 0, true)), Errno::AfNoSupport);
    g.put_pair(&[9, 0], 128);
    assert_eq!(errno(read(&mut g, 0, true)), Errno::Inval);
    for len in [0, 5, 8, 127, 129] {
        g.put_pair(&[127, 0, 0, 1], len);
        assert_eq!(errno(read(&mut g, 0, true)), Errno::Inval, "length {len}");
    }
    // Outside memory: EFAULT, for the pair and for the buffer it describes.
    assert_eq!(
        errno(g.with_memory(|_, mem| abi::read_socket_addr(mem, OUTSIDE - 4, 0, false))),
        Errno::Fault
    );
    g.put_u32(PAIR, OUTSIDE - 2);
    g.put_u32(PAIR + 4, 4);
    assert_eq!(errno(read(&mut g, 0, false)), Errno::Fault);

    // sa_data: port big-endian, then the address (IPv6: flow info first, scope id last).
    assert_eq!(
        abi::sa_data("127.0.0.1:8080".parse().unwrap()),
        [0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    let v6: SocketAddr = std::net::SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 0x01020304, 7).into();
    let data = abi::sa_data(v6);
    assert_eq!(data.len(), 26);
    assert_eq!(data[..6], [0, 80, 1, 2, 3, 4]);
    assert_eq!(data[6..22], Ipv6Addr::LOCALHOST.octets());
    assert_eq!(data[22..], [7, 0, 0, 0]);
}

#[test]
fn sock_open_checks_family_and_type_and_takes_the_lowest_fd() {
    let mut g = Guest::new();
    assert_eq!(errno(call!(g, socket::sock_open, family::UNSPEC, sock_type::STREAM, OUT)), Errno::Inval);
    assert_eq!(errno(call!(g, socket::sock_open, family::UNIX, sock_type::STREAM, OUT)), Errno::NoSys);
    assert_eq!(errno(call!(g, socket::sock_open, 4, sock_type::STREAM, OUT)), Errno::Inval);
    assert_eq!(errno(call!(g, socket::sock_open, family::INET4, sock_type::ANY, OUT)), Errno::Inval);
    assert_eq!(errno(call!(g, socket::sock_open, family::INET4, 3, OUT)), Errno::Inval);
    // The fd pointer outside memory is EFAULT, not a trap, and opens nothing.
    assert_eq!(
        errno(call!(g, socket::sock_open, family::INET4, sock_type::STREAM, OUTSIDE - 2)),
        Errno::Fault
    );
    let first = g.open(V4, true);
    assert_eq!(first, 3, "the lowest free fd after stdio");
    let second = g.open(V6, false);
    assert_eq!(second, 4);
    assert_eq!(g.get_int(first, sockopt::SO_TYPE), 2, "SO_TYPE of a stream is WasmEdge's 2");
    assert_eq!(g.get_int(second, sockopt::SO_TYPE), 1, "SO_TYPE of a datagram socket is WasmEdge's 1");
}

#[test]
fn tcp_through_v1_and_v2_names_on_both_families() {
    for ip in [V4, V6] {
        let mut g = Guest::new();
        let (listener, laddr) = g.listener(ip);
        assert_eq!(laddr.ip(), ip);
        assert_ne!(laddr.port(), 0);
        // V1: type 4 or 6, the port as a u32, the raw bytes and nothing after them.
        assert_eq!(g.u32_at(OUT2), if ip.is_ipv4() { 4 } else { 6 });
        let written = abi::ip_bytes(ip).len();
        assert!(g.bytes(ADDR_BUF + written as u32, 16 - written).iter().all(|&b| b == 0xEE));

        let mut native = TcpStream::connect(laddr).unwrap();
        native.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // V1 accept: a blocking socket at the lowest free fd.
        call!(g, socket::sock_accept, listener, OUT).unwrap();
        let conn = g.u32_at(OUT);
        assert_eq!(conn, listener + 1);

        // V1 peer name.
        g.put_pair(&[], 16);
        call!(g, socket::sock_getpeeraddr, conn, PAIR, OUT2, OUT3).unwrap();
        assert_eq!(g.v1_name(), native.local_addr().unwrap());
        // V2 names: family u16 at 0, address at 2, the rest untouched; port a u32.
        g.put_pair(&[], 128);
        call!(g, socket::sock_getlocaladdr_v2, conn, PAIR, OUT3).unwrap();
        let fam = if ip.is_ipv4() { 1u8 } else { 2 };
        assert_eq!(g.bytes(ADDR_BUF, 2), [fam, 0]);
        assert_eq!(g.bytes(ADDR_BUF + 2, written), &abi::ip_bytes(ip)[..]);
        assert_eq!(g.mem[ADDR_BUF as usize + 2 + written], 0xEE);
        assert_eq!(g.u32_at(OUT3), u32::from(laddr.port()));
        g.put_pair(&[], 128);
        call!(g, socket::sock_getpeeraddr_v2, conn, PAIR, OUT3).unwrap();
        assert_eq!(g.u32_at(OUT3), u32::from(native.local_addr().unwrap().port()));

        // Data both ways.
        native.write_all(b"from native").unwrap();
        let (data, roflags) = g.recv(conn, 64, 0).unwrap();
        assert_eq!((data.as_slice(), roflags), (&b"from native"[..], 0));
        assert_eq!(g.send(conn, b"from wasm").unwrap(), 9);
        let mut buf = [0u8; 9];
        native.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"from wasm");

        // recv_from_v2 on a stream: the peer, in the storage; its port in network order.
        native.write_all(b"x").unwrap();
        g.put_pair(&[], 128);
        g.set_iov(BUF, 16);
        g.put(OUT3, &[0xEE; 4]);
        call!(g, io::sock_recv_from_v2, conn, IOV, 1, PAIR, 0, OUT3, OUT, OUT2).unwrap();
        assert_eq!(g.u32_at(OUT), 1);
        assert_eq!(g.bytes(ADDR_BUF, 2), [fam, 0]);
        let peer_port = native.local_addr().unwrap().port();
        assert_eq!(g.bytes(OUT3, 4), [peer_port.to_be_bytes()[0], peer_port.to_be_bytes()[1], 0xEE, 0xEE]);

        // The connect side, V1 and V2 (the storage form).
        let client = g.open(ip, true);
        g.connect(client, laddr).unwrap();
        let client2 = g.open(ip, true);
        g.put_storage(ip);
        call!(g, socket::sock_connect_v2, client2, PAIR, u32::from(laddr.port())).unwrap();
        g.put_pair(&[], 16);
        call!(g, socket::sock_getpeeraddr, client2, PAIR, OUT2, OUT3).unwrap();
        assert_eq!(g.v1_name(), laddr);
    }
}

#[test]
fn v1_and_v2_getters_check_the_buffer_length() {
    let mut g = Guest::new();
    let fd = g.open(V6, true);
    g.bind(fd, SocketAddr::new(V6, 0)).unwrap();
    // An IPv6 name does not fit 4 bytes: ENOMEM, nothing written.
    g.put_pair(&[], 4);
    assert_eq!(errno(call!(g, socket::sock_getlocaladdr, fd, PAIR, OUT2, OUT3)), Errno::NoMem);
    assert!(g.bytes(ADDR_BUF, 16).iter().all(|&b| b == 0xEE));
    for len in [0, 8, 128] {
        g.put_pair(&[], len);
        assert_eq!(
            errno(call!(g, socket::sock_getlocaladdr, fd, PAIR, OUT2, OUT3)),
            Errno::Inval,
            "V1, {len}"
        );
    }
    for len in [4, 16, 127] {
        g.put_pair(&[], len);
        assert_eq!(errno(call!(g, socket::sock_getlocaladdr_v2, fd, PAIR, OUT3)), Errno::Inval, "V2, {len}");
    }
    // Not connected.
    g.put_pair(&[], 16);
    assert_eq!(errno(call!(g, socket::sock_getpeeraddr, fd, PAIR, OUT2, OUT3)), Errno::NotConn);
    // Out pointers outside memory: EFAULT, never a trap.
    g.put_pair(&[], 16);
    assert_eq!(errno(call!(g, socket::sock_getlocaladdr, fd, PAIR, OUTSIDE, OUT3)), Errno::Fault);
    assert_eq!(errno(call!(g, socket::sock_getlocaladdr, fd, PAIR, OUT2, OUTSIDE - 3)), Errno::Fault);
    // An unknown fd.
    assert_eq!(errno(call!(g, socket::sock_getlocaladdr, 99, PAIR, OUT2, OUT3)), Errno::Badf);
}

#[test]
fn udp_recv_from_v1_and_v2_report_the_sender_as_wasmedge_does() {
    let mut g = Guest::new();
    let fd = g.open(V4, false);
    g.bind(fd, SocketAddr::new(V4, 0)).unwrap();
    let addr = g.local(fd);
    let native = UdpSocket::bind((V4, 0)).unwrap();
    native.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let native_port = native.local_addr().unwrap().port();

    // V1: only the 4 raw address bytes, into a buffer of any length; no family, no port.
    native.send_to(b"one", addr).unwrap();
    g.put_pair(&[], 16);
    g.set_iov(BUF, 64);
    call!(g, io::sock_recv_from, fd, IOV, 1, PAIR, 0, OUT, OUT2).unwrap();
    assert_eq!(g.u32_at(OUT), 3);
    assert_eq!(
        g.bytes(ADDR_BUF, 16),
        [127, 0, 0, 1, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE]
    );
    native.send_to(b"two", addr).unwrap();
    g.put_pair(&[], 2);
    call!(g, io::sock_recv_from, fd, IOV, 1, PAIR, 0, OUT, OUT2).unwrap();
    assert_eq!(g.u32_at(OUT), 3, "a buffer too small for the address still receives");
    assert!(g.bytes(ADDR_BUF, 4).iter().all(|&b| b == 0xEE));

    // V2 with a storage: family, address, and the port in network byte order (2 bytes).
    native.send_to(b"three", addr).unwrap();
    g.put_pair(&[], 128);
    g.put(OUT3, &[0xEE; 4]);
    call!(g, io::sock_recv_from_v2, fd, IOV, 1, PAIR, 0, OUT3, OUT, OUT2).unwrap();
    assert_eq!(g.u32_at(OUT), 5);
    assert_eq!(g.bytes(ADDR_BUF, 7), [1, 0, 127, 0, 0, 1, 0xEE]);
    let be = native_port.to_be_bytes();
    assert_eq!(g.bytes(OUT3, 4), [be[0], be[1], 0xEE, 0xEE]);
    // Read as the crate reads it, the port is byte-swapped.
    assert_eq!(
        u16::from_le_bytes([g.mem[OUT3 as usize], g.mem[OUT3 as usize + 1]]),
        native_port.swap_bytes()
    );

    // V2 with 4 raw bytes, and a length V2 refuses.
    native.send_to(b"four", addr).unwrap();
    g.put_pair(&[], 4);
    call!(g, io::sock_recv_from_v2, fd, IOV, 1, PAIR, 0, OUT3, OUT, OUT2).unwrap();
    assert_eq!(g.bytes(ADDR_BUF, 5), [127, 0, 0, 1, 0xEE]);
    g.put_pair(&[], 8);
    assert_eq!(errno(call!(g, io::sock_recv_from_v2, fd, IOV, 1, PAIR, 0, OUT3, OUT, OUT2)), Errno::Inval);

    // A datagram longer than the buffers: RECV_DATA_TRUNCATED in the 2-byte roflags.
    native.send_to(&[7u8; 100], addr).unwrap();
    g.put_pair(&[], 128);
    g.set_iov(BUF, 10);
    g.put(OUT2, &[0xEE; 4]);
    call!(g, io::sock_recv_from_v2, fd, IOV, 1, PAIR, 0, OUT3, OUT, OUT2).unwrap();
    assert_eq!(g.u32_at(OUT), 10);
    assert_eq!(g.bytes(OUT2, 4), [1, 0, 0xEE, 0xEE]);

    // send_to V1 (raw bytes, host-order port) and V2 (storage) reach the native socket.
    let dest = native.local_addr().unwrap();
    g.put(BUF, b"v1");
    g.set_iov(BUF, 2);
    g.put_ip(V4);
    call!(g, io::sock_send_to, fd, IOV, 1, PAIR, u32::from(dest.port()), 0, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 2);
    g.put(BUF, b"v2");
    g.put_storage(V4);
    call!(g, io::sock_send_to_v2, fd, IOV, 1, PAIR, u32::from(dest.port()), 0, OUT).unwrap();
    g.put_storage(V4);
    assert_eq!(
        errno(call!(g, io::sock_send_to, fd, IOV, 1, PAIR, u32::from(dest.port()), 0, OUT)),
        Errno::Inval,
        "V1 takes no storage"
    );
    let mut buf = [0u8; 8];
    for expected in [b"v1", b"v2"] {
        let (n, from) = native.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], expected);
        assert_eq!(from, addr);
    }
}

#[test]
fn flags_are_checked_and_shutdown_zero_is_the_read_side() {
    let mut g = Guest::new();
    let (conn, mut native, listener) = accepted(&mut g, V4);
    // riflags beyond PEEK|WAITALL, any siflags, sdflags beyond RD|WR, fdflags beyond the five.
    assert_eq!(errno(g.recv(conn, 8, 4)), Errno::Inval);
    g.set_iov(BUF, 1);
    assert_eq!(errno(call!(g, io::sock_send, conn, IOV, 1, 1, OUT)), Errno::Inval);
    assert_eq!(errno(call!(g, socket::sock_shutdown, conn, 4)), Errno::Inval);
    assert_eq!(errno(call!(g, socket::sock_accept_v2, listener, 0x20, OUT)), Errno::Inval);
    // PEEK leaves the data; WAITALL fills the buffer.
    native.write_all(b"abcdef").unwrap();
    assert_eq!(g.recv(conn, 3, 1).unwrap().0, b"abc");
    assert_eq!(g.recv(conn, 6, 2).unwrap().0, b"abcdef");
    // sock_shutdown(fd, 0) shuts the read side (SHUT_RD): a receive then ends at once with
    // 0 bytes, and the write side still works.
    call!(g, socket::sock_shutdown, conn, 0).unwrap();
    assert_eq!(g.recv(conn, 8, 0).unwrap().0, b"");
    assert_eq!(g.send(conn, b"still").unwrap(), 5);
    let mut buf = [0u8; 5];
    native.read_exact(&mut buf).unwrap();
    // WR: the peer sees the end of the stream.
    call!(g, socket::sock_shutdown, conn, 2).unwrap();
    assert_eq!(native.read(&mut buf).unwrap(), 0);
}

#[test]
fn bad_pointers_are_efault_not_traps() {
    let mut g = Guest::new();
    let (conn, mut native, _) = accepted(&mut g, V4);
    native.write_all(b"kept").unwrap();
    // Count and roflags pointers, the iovec array, a buffer: EFAULT before any data moves.
    g.set_iov(BUF, 8);
    assert_eq!(errno(call!(g, io::sock_recv, conn, IOV, 1, 0, OUTSIDE, OUT2)), Errno::Fault);
    assert_eq!(errno(call!(g, io::sock_recv, conn, IOV, 1, 0, OUT, OUTSIDE - 1)), Errno::Fault);
    assert_eq!(errno(call!(g, io::sock_recv, conn, OUTSIDE - 4, 1, 0, OUT, OUT2)), Errno::Fault);
    g.set_iov(OUTSIDE - 4, 8);
    assert_eq!(errno(call!(g, io::sock_recv, conn, IOV, 1, 0, OUT, OUT2)), Errno::Fault);
    assert_eq!(
        errno(call!(g, io::sock_recv, conn, IOV, 1025, 0, OUT, OUT2)),
        Errno::Inval,
        "more than 1024 iovecs"
    );
    assert_eq!(errno(call!(g, io::sock_send, conn, IOV, 1, 0, OUT)), Errno::Fault);
    assert_eq!(g.recv(conn, 8, 0).unwrap().0, b"kept", "nothing was consumed");
    assert_eq!(errno(call!(g, socket::sock_accept, 3, OUTSIDE)), Errno::Fault);
    assert_eq!(
        errno(call!(g, opt::sock_getsockopt, conn, 0, sockopt::SO_TYPE, VALUE, OUTSIDE)),
        Errno::Fault
    );
    g.put_u32(OUT, 8);
    assert_eq!(
        errno(call!(g, opt::sock_getsockopt, conn, 0, sockopt::SO_TYPE, OUTSIDE - 4, OUT)),
        Errno::Fault
    );
    assert_eq!(
        errno(call!(g, opt::sock_setsockopt, conn, 0, sockopt::SO_KEEPALIVE, OUTSIDE - 2, 4)),
        Errno::Fault
    );
    // epoll_oneoff's arrays.
    assert_eq!(errno(call!(g, poll::epoll_oneoff, OUTSIDE - 8, BUF, 1, OUT)), Errno::Fault);
    assert_eq!(errno(call!(g, poll::epoll_oneoff, BUF, OUTSIDE - 8, 1, OUT)), Errno::Fault);
    assert_eq!(errno(call!(g, poll::epoll_oneoff, BUF, BUF + 64, u32::MAX, OUT)), Errno::Fault);
    assert_eq!(errno(call!(g, poll::poll_oneoff, BUF, BUF + 64, 1, OUTSIDE)), Errno::Fault);
}

#[test]
fn the_address_pool_applies_to_bind_connect_send_to_and_listen() {
    let mut g = Guest::new();
    let native = TcpListener::bind((DENIED, 0)).unwrap();
    let target = native.local_addr().unwrap();
    let fd = g.open(V4, true);
    assert_eq!(errno(g.connect(fd, target)), Errno::Acces);
    g.put_storage(DENIED);
    assert_eq!(errno(call!(g, socket::sock_connect_v2, fd, PAIR, u32::from(target.port()))), Errno::Acces);
    assert_eq!(errno(g.bind(fd, SocketAddr::new(DENIED, 0))), Errno::Acces);
    native.set_nonblocking(true).unwrap();
    assert!(native.accept().is_err(), "a denied connect reached the listener");
    // Listening unbound is a bind to 0.0.0.0, outside this pool.
    assert_eq!(errno(call!(g, socket::sock_listen, fd, 1)), Errno::Acces);
    let udp = g.open(V4, false);
    g.put(BUF, b"x");
    g.set_iov(BUF, 1);
    g.put_ip(DENIED);
    g.put_u32(OUT, 0xEEEE_EEEE);
    assert_eq!(errno(call!(g, io::sock_send_to, udp, IOV, 1, PAIR, 9, 0, OUT)), Errno::Acces);
    assert_eq!(g.u32_at(OUT), 0xEEEE_EEEE, "a denied send_to wrote its count");
}

#[test]
fn socket_options_are_translated_and_checked() {
    let mut g = Guest::new();
    let tcp = g.open(V4, true);
    let udp = g.open(V4, false);
    // Level and name.
    g.put(VALUE, &1i32.to_le_bytes());
    assert_eq!(errno(call!(g, opt::sock_setsockopt, tcp, 1, sockopt::SO_KEEPALIVE, VALUE, 4)), Errno::Inval);
    assert_eq!(errno(call!(g, opt::sock_setsockopt, tcp, 0, 15, VALUE, 4)), Errno::Inval);
    // An int option needs 4 bytes; more are fine, only 4 are used.
    assert_eq!(errno(call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_KEEPALIVE, VALUE, 2)), Errno::Inval);
    call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_KEEPALIVE, VALUE, 4096).unwrap();
    assert_eq!(g.get_int(tcp, sockopt::SO_KEEPALIVE), 1);
    g.set_int(tcp, sockopt::SO_KEEPALIVE, 0).unwrap();
    assert_eq!(g.get_int(tcp, sockopt::SO_KEEPALIVE), 0);
    g.set_int(tcp, sockopt::SO_RCVBUF, 65536).unwrap();
    assert!(g.get_int(tcp, sockopt::SO_RCVBUF) >= 65536, "Linux doubles it");
    assert_eq!(g.get_int(tcp, sockopt::SO_ACCEPTCONN), 0);
    // A short getter buffer gets the first bytes, and *len says how many.
    assert_eq!(g.get(tcp, sockopt::SO_TYPE, 2).unwrap(), [2, 0]);
    assert_eq!(g.get(tcp, sockopt::SO_TYPE, 64).unwrap(), [2, 0, 0, 0]);
    // Get-only options.
    assert_eq!(errno(g.set_int(tcp, sockopt::SO_TYPE, 1)), Errno::NoProtoOpt);
    assert_eq!(errno(g.set_int(tcp, sockopt::SO_ERROR, 0)), Errno::NoProtoOpt);
    // SO_LINGER: two ints.
    g.put(VALUE, &[1, 0, 0, 0, 5, 0, 0, 0]);
    call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_LINGER, VALUE, 8).unwrap();
    assert_eq!(g.get(tcp, sockopt::SO_LINGER, 8).unwrap(), [1, 0, 0, 0, 5, 0, 0, 0]);
    assert_eq!(errno(call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_LINGER, VALUE, 4)), Errno::Inval);
    // Timeouts: a 16-byte timeval, kept by wasock and read back exactly.
    g.set_timeout(tcp, sockopt::SO_SNDTIMEO, 2, 500_000).unwrap();
    let mut tv = 2i64.to_le_bytes().to_vec();
    tv.extend_from_slice(&500_000i64.to_le_bytes());
    assert_eq!(g.get(tcp, sockopt::SO_SNDTIMEO, 16).unwrap(), tv);
    let socket = g.cx.get(tcp, 0).unwrap();
    assert_eq!(socket.as_socket().unwrap().timeout_us(crate::net::Direction::Write), 2_500_000);
    assert_eq!(errno(g.set_timeout(tcp, sockopt::SO_RCVTIMEO, 1, 1_000_000)), Errno::Dom);
    g.put(VALUE, &[0; 8]);
    assert_eq!(errno(call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_RCVTIMEO, VALUE, 8)), Errno::Inval);
    // SO_REUSEADDR: free on TCP, port sharing on UDP.
    g.set_int(tcp, sockopt::SO_REUSEADDR, 1).unwrap();
    assert_eq!(g.get_int(tcp, sockopt::SO_REUSEADDR), 1);
    assert_eq!(errno(g.set_int(udp, sockopt::SO_REUSEADDR, 1)), Errno::Acces);
    assert_eq!(g.get_int(udp, sockopt::SO_REUSEADDR), 0);
    g.set_int(udp, sockopt::SO_REUSEADDR, 0).unwrap();
    let mut sharing = loopback_policy();
    sharing.allow_port_sharing = true;
    let mut g2 = Guest::with_policy(sharing);
    let udp2 = g2.open(V4, false);
    g2.set_int(udp2, sockopt::SO_REUSEADDR, 1).unwrap();
    assert_eq!(g2.get_int(udp2, sockopt::SO_REUSEADDR), 1);
    // SO_BINDTODEVICE: refused; unbinding is fine; no device is reported.
    g.put(VALUE, b"lo\0");
    assert_eq!(
        errno(call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_BINDTODEVICE, VALUE, 3)),
        Errno::Acces
    );
    call!(g, opt::sock_setsockopt, tcp, 0, sockopt::SO_BINDTODEVICE, VALUE, 0).unwrap();
    assert_eq!(g.get(tcp, sockopt::SO_BINDTODEVICE, 16).unwrap(), b"");
    // An unknown fd.
    assert_eq!(errno(g.set_int(99, sockopt::SO_KEEPALIVE, 1)), Errno::Badf);
}

#[test]
fn so_rcvtimeo_bounds_a_blocking_receive() {
    let mut g = Guest::new();
    let (conn, _native, _) = accepted(&mut g, V4);
    g.set_timeout(conn, sockopt::SO_RCVTIMEO, 0, 200_000).unwrap();
    let start = Instant::now();
    assert_eq!(errno(g.recv(conn, 8, 0)), Errno::Again);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(150) && waited < Duration::from_secs(5), "waited {waited:?}");
}

#[test]
fn so_error_is_a_wasi_errno() {
    let mut g = Guest::new();
    // A port nobody listens on: bind one, note it, close it.
    let closed = TcpListener::bind((V4, 0)).unwrap().local_addr().unwrap();
    let fd = g.open(V4, true);
    g.cx.get(fd, 0).unwrap().as_socket().unwrap().set_nonblocking(true);
    assert_eq!(errno(g.connect(fd, closed)), Errno::InProgress);
    let deadline = Instant::now() + Duration::from_secs(10);
    let error = loop {
        let e = g.get_int(fd, sockopt::SO_ERROR);
        if e != 0 || Instant::now() > deadline {
            break e;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(error, i32::from(Errno::ConnRefused.raw()), "ECONNREFUSED as WASI's 14, not Linux's 111");
    assert_eq!(g.get_int(fd, sockopt::SO_ERROR), 0, "reading SO_ERROR clears it");
}

#[test]
fn accept_v2_honours_nonblock_for_the_new_socket() {
    let mut g = Guest::new();
    let (listener, addr) = g.listener(V4);
    let _native = TcpStream::connect(addr).unwrap();
    call!(g, socket::sock_accept_v2, listener, u32::from(crate::abi::fdflags::NONBLOCK), OUT).unwrap();
    let conn = g.u32_at(OUT);
    let start = Instant::now();
    assert_eq!(errno(g.recv(conn, 8, 0)), Errno::Again);
    assert!(start.elapsed() < Duration::from_secs(1), "the accepted socket blocked");
    // V1 accepts a blocking socket; the listener itself stays blocking after V2.
    let _native2 = TcpStream::connect(addr).unwrap();
    call!(g, socket::sock_accept, listener, OUT).unwrap();
    let conn2 = g.u32_at(OUT);
    g.set_timeout(conn2, sockopt::SO_RCVTIMEO, 0, 100_000).unwrap();
    let start = Instant::now();
    assert_eq!(errno(g.recv(conn2, 8, 0)), Errno::Again);
    assert!(start.elapsed() >= Duration::from_millis(80), "the V1 accepted socket did not block");
}

/// Builds a result chain of `count` slots at CHAIN as wasmedge_wasi_socket does: 28-byte
/// `addrinfo`s linked by `ai_next`, each with a 12-byte `sockaddr` whose `sa_data` buffer
/// has 26 bytes (0xEE) but is declared as `declared` bytes. Returns the slots' addresses.
fn build_chain(g: &mut Guest, count: u32, declared: u32) -> Vec<u32> {
    let slot = |i: u32| CHAIN + i * 64;
    for i in 0..count {
        let (ai, sa, data) = (slot(i), slot(i) + 28, slot(i) + 40);
        g.mem[ai as usize..ai as usize + 64].fill(0);
        g.put_u32(ai + 12, sa);
        g.put_u32(ai + 16, data); // a canonical-name buffer of length 0
        g.put_u32(ai + 24, if i + 1 < count { slot(i + 1) } else { 0 });
        g.put_u32(sa + 4, declared);
        g.put_u32(sa + 8, data);
        g.mem[data as usize..data as usize + 24].fill(0xEE);
    }
    g.put_u32(OUT2, CHAIN);
    (0..count).map(slot).collect()
}

/// Hints as the crate's nslookup passes them unless changed: flags, family, type, protocol.
fn put_hints(g: &mut Guest, flags: u16, fam: u8, ty: u8, proto: u8) {
    g.mem[HINTS as usize..HINTS as usize + 28].fill(0);
    g.put(HINTS, &flags.to_le_bytes());
    g.put(HINTS + 2, &[fam, ty, proto]);
}

fn getaddrinfo(g: &mut Guest, node: &[u8], service: &[u8], capacity: u32) -> Result<u32> {
    g.put(NODE, node);
    g.put(SERVICE, service);
    g.put_u32(OUT3, 0xEEEE_EEEE);
    call!(
        g,
        resolve::sock_getaddrinfo,
        NODE,
        node.len() as u32,
        SERVICE,
        service.len() as u32,
        HINTS,
        OUT2,
        capacity,
        OUT3
    )?;
    Ok(g.u32_at(OUT3))
}

fn allow_localhost() -> Policy {
    let mut p = loopback_policy();
    p.allow_resolve.insert("localhost".parse().unwrap());
    p.allow_resolve.insert("::1".parse().unwrap());
    p
}

#[test]
fn getaddrinfo_fills_the_guests_chain() {
    let mut g = Guest::with_policy(allow_localhost());
    let slots = build_chain(&mut g, 10, 14);
    put_hints(&mut g, 0, 1, 2, 1);
    // NUL-terminated and counted, as the crate passes them.
    let n = getaddrinfo(&mut g, b"localhost\0", b"8080\0", 10).unwrap();
    assert!(n >= 1, "no result for localhost");
    let ai = slots[0];
    assert_eq!(g.bytes(ai, 8), [0, 0, 1, 2, 1, 0, 0, 0], "flags, family 1, type STREAM, protocol TCP");
    assert_eq!(g.u32_at(ai + 8), 16, "ai_addrlen: the host's sockaddr_in");
    assert_eq!(g.u32_at(ai + 12), ai + 28, "ai_addr is the guest's");
    assert_eq!(g.u32_at(ai + 20), 0, "no canonical name");
    let sa = ai + 28;
    assert_eq!(g.mem[sa as usize], 1);
    assert_eq!(g.u32_at(sa + 4), 14);
    assert_eq!(g.u32_at(sa + 8), ai + 40, "sa_data is the guest's");
    assert_eq!(g.bytes(ai + 40, 16), [0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE, 0xEE]);
    // Slots past the results are untouched.
    assert_eq!(g.bytes(slots[n as usize] + 40, 2), [0xEE, 0xEE]);

    // An IPv6 result is cut to the declared 14 bytes, and sa_data_len says 26.
    let slots = build_chain(&mut g, 2, 14);
    put_hints(&mut g, 0, 2, 2, 0);
    let n = getaddrinfo(&mut g, b"::1", b"80", 2).unwrap();
    assert_eq!(n, 1);
    let (ai, sa) = (slots[0], slots[0] + 28);
    assert_eq!(g.bytes(ai + 2, 3), [2, 2, 1]);
    assert_eq!(g.u32_at(ai + 8), 28);
    assert_eq!(g.u32_at(sa + 4), 26);
    assert_eq!(g.bytes(ai + 40, 16), [0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE, 0xEE]);
    // With 26 bytes declared, all of it.
    let slots = build_chain(&mut g, 1, 26);
    getaddrinfo(&mut g, b"::1", b"80", 1).unwrap();
    let mut expected = vec![0, 80, 0, 0, 0, 0];
    expected.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    expected.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(g.bytes(slots[0] + 40, 26), expected);

    // A chain that loops on itself and an absurd capacity cost nothing.
    build_chain(&mut g, 1, 14);
    g.put_u32(CHAIN + 24, CHAIN);
    put_hints(&mut g, 0, 1, 2, 1);
    assert_eq!(getaddrinfo(&mut g, b"localhost", b"80", u32::MAX).unwrap(), n.max(1));
}

#[test]
fn getaddrinfo_errors_are_wasmedges() {
    let mut g = Guest::with_policy(allow_localhost());
    build_chain(&mut g, 4, 14);
    put_hints(&mut g, 0, 1, 2, 1);
    // Not allowed: EACCES, *res_len untouched.
    assert_eq!(errno(getaddrinfo(&mut g, b"example.invalid", b"80", 4)), Errno::Acces);
    assert_eq!(g.u32_at(OUT3), 0xEEEE_EEEE);
    assert_eq!(
        errno(getaddrinfo(&mut g, b"127.0.0.1", b"80", 4)),
        Errno::Acces,
        "numeric names need the allow-list"
    );
    assert_eq!(errno(getaddrinfo(&mut g, b"\0", b"\0", 4)), Errno::AiNoName);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 0)), Errno::AiMemory);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"no-such-service-here", 4)), Errno::AiService);
    put_hints(&mut g, 0x80, 1, 2, 1);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::AiBadFlag);
    put_hints(&mut g, abi::aiflags::CANONNAME, 1, 2, 1);
    assert_eq!(errno(getaddrinfo(&mut g, b"", b"80", 4)), Errno::AiBadFlag, "CANONNAME without a node");
    put_hints(&mut g, 0, 3, 2, 1);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::AiFamily);
    put_hints(&mut g, 0, 1, 2, 3);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::NoSys);
    put_hints(&mut g, 0, 1, 3, 0);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::NoSys);
    put_hints(&mut g, abi::aiflags::NUMERICHOST, 1, 2, 1);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::AiNoName);
    put_hints(&mut g, abi::aiflags::NUMERICSERV, 1, 2, 1);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"http", 4)), Errno::AiNoName);
    // Pointers: the hints, *res, *res_len, a slot's sa_data outside memory.
    put_hints(&mut g, 0, 1, 2, 1);
    g.put(NODE, b"localhost");
    let outside = |g: &mut Guest, hints, res, res_len| {
        g.with_memory(|cx, mem| {
            resolve::sock_getaddrinfo(cx, mem, NODE, 9, SERVICE, 0, hints, res, 4, res_len)
        })
    };
    assert_eq!(errno(outside(&mut g, OUTSIDE - 10, OUT2, OUT3)), Errno::Fault);
    assert_eq!(errno(outside(&mut g, HINTS, OUTSIDE, OUT3)), Errno::Fault);
    assert_eq!(errno(outside(&mut g, HINTS, OUT2, OUTSIDE)), Errno::Fault);
    let slots = build_chain(&mut g, 4, 14);
    g.put_u32(slots[0] + 28 + 8, OUTSIDE - 4);
    assert_eq!(errno(getaddrinfo(&mut g, b"localhost", b"80", 4)), Errno::Fault);
    assert_eq!(g.u32_at(OUT3), 0xEEEE_EEEE);
}

#[test]
fn epoll_oneoff_is_poll_oneoff() {
    let mut g = Guest::new();
    let (conn, mut native, _) = accepted(&mut g, V4);
    native.write_all(b"ready").unwrap();
    // One FD_READ subscription (48 bytes: userdata, tag 1, fd).
    let sub = BUF;
    g.mem[sub as usize..sub as usize + 48].fill(0);
    g.put(sub, &42u64.to_le_bytes());
    g.mem[sub as usize + 8] = 1;
    g.put_u32(sub + 16, conn);
    let events = BUF + 64;
    call!(g, poll::epoll_oneoff, sub, events, 1, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 1);
    assert_eq!(g.bytes(events, 8), 42u64.to_le_bytes());
    assert_eq!(g.bytes(events + 8, 3), [0, 0, 1], "no error, FD_READ");
    assert_eq!(g.bytes(events + 16, 8), 5u64.to_le_bytes(), "the bytes readable");
}

/// Every import, called thousands of times with arguments drawn from edge values (offsets
/// at and past the end of memory, u32::MAX, small numbers, the planted structures below) on
/// plain and shared memories: each call must return, with success, an errno or a trap, and
/// never panic. Calls that could block are ended by a watchdog that stops the instance, as
/// `--timeout` does; a new instance then takes over. Traffic can only go to loopback (the
/// pool is 127.0.0.1 and ::1, ports are small numbers nothing listens on), and only
/// `localhost` resolves (from /etc/hosts, no DNS).
#[test]
fn random_calls_never_panic_or_hang() {
    use std::sync::Arc;
    use std::sync::mpsc;

    type Import = fn(&Ctx, &mut GuestMemory<'_>, &[u32]) -> Result<()>;
    macro_rules! table {
        ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {
            vec![$((stringify!($name), vec![$(stringify!($arg)),*], (|cx: &Ctx, mem: &mut GuestMemory<'_>, a: &[u32]| {
                let mut next = a.iter().copied();
                $path(cx, mem, $({ let _ = stringify!($arg); next.next().unwrap_or(0) }),*)
            }) as Import)),*]
        };
    }
    let imports: Vec<(&str, Vec<&str>, Import)> = crate::for_each_wasmedge_import!(table);

    const SIZE: u32 = 65536;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Planted: a WasiAddress for 127.0.0.1 at 256, one for a storage at 272, an iovec at 768,
    // crate-like hints at 1024, a one-slot result chain at 2048 (its pointer at 2040), names.
    let mut base = vec![0u8; SIZE as usize];
    for (i, b) in base.iter_mut().enumerate() {
        *b = (i as u64).wrapping_mul(0x9e37_79b9) as u8;
    }
    let put = |m: &mut Vec<u8>, at: usize, data: &[u8]| m[at..at + data.len()].copy_from_slice(data);
    put(&mut base, 256, &[0x40, 1, 0, 0, 4, 0, 0, 0]);
    put(&mut base, 0x140, &[127, 0, 0, 1]);
    put(&mut base, 272, &[0x80, 1, 0, 0, 128, 0, 0, 0]);
    put(&mut base, 0x180, &[1, 0, 127, 0, 0, 1]);
    put(&mut base, 768, &[0, 0x10, 0, 0, 64, 0, 0, 0]);
    put(&mut base, 1024, &[0, 0, 1, 2, 1, 0, 0, 0]);
    put(&mut base, 2040, &2048u32.to_le_bytes());
    put(&mut base, 2048 + 12, &(2048u32 + 28).to_le_bytes());
    put(&mut base, 2048 + 16, &0u32.to_le_bytes());
    put(&mut base, 2048 + 20, &0u32.to_le_bytes());
    put(&mut base, 2048 + 28 + 4, &14u32.to_le_bytes());
    put(&mut base, 2048 + 28 + 8, &(2048u32 + 40).to_le_bytes());
    put(&mut base, 3072, b"localhost\0");
    put(&mut base, 3088, b"80\0");
    // Two subscriptions at 4096: FD_READ on fd 3, and a 1 ms relative clock.
    put(&mut base, 4096, &[0; 96]);
    put(&mut base, 4096 + 8, &[1]);
    put(&mut base, 4096 + 16, &3u32.to_le_bytes());
    put(&mut base, 4096 + 48 + 8, &[0]);
    put(&mut base, 4096 + 48 + 24, &1_000_000u64.to_le_bytes());
    let picks = [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        26,
        28,
        128,
        256,
        272,
        768,
        1024,
        1025,
        2040,
        3072,
        3088,
        SIZE - 1,
        SIZE - 2,
        SIZE - 4,
        SIZE - 8,
        SIZE,
        SIZE + 4,
        u32::MAX,
        u32::MAX - 3,
        0x8000_0000,
    ];

    let mut calls = 0;
    let mut episodes = 0;
    // Imports that succeeded at least once: the arguments get past the checks.
    let mut succeeded = std::collections::BTreeSet::new();
    while calls < 6000 {
        episodes += 1;
        let mut policy = loopback_policy();
        policy.allow_resolve.insert("localhost".parse().unwrap());
        let cx = Arc::new(CtxBuilder::new().policy(policy).build().unwrap());
        let _peers = plant_sockets(&cx);
        let mut mem = base.clone();
        let shared = episodes % 3 == 0;
        let (done, stop) = mpsc::channel::<()>();
        let watched = cx.clone();
        let watchdog = std::thread::spawn(move || {
            if stop.recv_timeout(Duration::from_millis(300)).is_err() {
                watched.interrupt.trigger(Error::Trap(crate::errno::Trap("watchdog".into())));
            }
        });
        for _ in 0..40 {
            let (name, params, import) = &imports[(rand() % imports.len() as u64) as usize];
            let args: Vec<u32> = params
                .iter()
                .map(|param| {
                    let r = rand();
                    match r % 10 {
                        // A value that fits the parameter's role.
                        0..=6 => role(param, name, r >> 8),
                        7 => (r >> 8) as u32,
                        _ => picks[((r >> 8) % picks.len() as u64) as usize],
                    }
                })
                .collect();
            let mut guest = match shared {
                false => GuestMemory::new(&mut mem),
                true => GuestMemory::shared_view(&mut mem),
            };
            let start = Instant::now();
            let result = import(&cx, &mut guest, &args);
            let name = *name;
            assert!(start.elapsed() < Duration::from_secs(5), "{name}{args:?} took {:?}", start.elapsed());
            calls += 1;
            if result.is_ok() {
                succeeded.insert(name);
            }
            if matches!(result, Err(Error::Trap(_))) && cx.interrupt.check().is_err() {
                break; // stopped by the watchdog: a fresh instance continues
            }
        }
        let _ = done.send(());
        watchdog.join().unwrap();
    }
    assert!(episodes > 1);
    assert!(succeeded.len() >= 20, "only these imports ever succeeded: {succeeded:?}");
}

/// Guest sockets for [`random_calls_never_panic_or_hang`], at fds 3..=6: a bound UDP socket
/// with a datagram queued, a TCP listener with a connection pending, and a connected TCP
/// pair with bytes queued both ways. Returns the native ends, to keep them open.
fn plant_sockets(cx: &Ctx) -> (UdpSocket, TcpStream, TcpListener) {
    use crate::net::Socket;
    use crate::table::{Descriptor, Kind};
    let push = |socket: socket2::Socket, stream: bool| {
        cx.push(Descriptor::new(Kind::Socket(Socket::new(socket, stream).unwrap()))).unwrap()
    };
    let udp = UdpSocket::bind((V4, 0)).unwrap();
    let native_udp = UdpSocket::bind((V4, 0)).unwrap();
    native_udp.send_to(b"queued", udp.local_addr().unwrap()).unwrap();
    assert_eq!(push(udp.into(), false), 3);
    let listener = TcpListener::bind((V4, 0)).unwrap();
    let pending = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let other = TcpListener::bind((V4, 0)).unwrap();
    let mut client = TcpStream::connect(other.local_addr().unwrap()).unwrap();
    let (mut server, _) = other.accept().unwrap();
    client.write_all(b"to the server").unwrap();
    server.write_all(b"to the client").unwrap();
    assert_eq!(push(listener.into(), true), 4);
    assert_eq!(push(client.into(), true), 5);
    assert_eq!(push(server.into(), true), 6);
    (native_udp, pending, other)
}

/// A value for the parameter `param` of `import` that often gets past the argument checks,
/// for [`random_calls_never_panic_or_hang`] (its planted structures).
fn role(param: &str, import: &str, r: u64) -> u32 {
    let small = |n: u64| (r % n) as u32;
    match param {
        "fd" => small(9),
        "af" | "socktype" => small(4),
        "flags" | "ri_flags" | "si_flags" | "how" | "level" => [0, 0, 0, 1, 2, 3, 4, 0x20][small(8) as usize],
        "name" => small(16),
        "ri_data" | "si_data" => 768,
        "ri_data_len" | "si_data_len" | "nsubscriptions" => small(3),
        "addr" => [256, 272][small(2) as usize],
        "port" => small(16),
        "backlog" => small(8),
        "value" => 0x1800 + small(16),
        "len" if import == "sock_setsockopt" => [0, 2, 4, 8, 16, 17, 4096][small(7) as usize],
        "node" => 3072,
        "node_len" => small(11),
        "service" => 3088,
        "service_len" => small(4),
        "hints" => 1024,
        "res" => 2040,
        "max_res_len" => small(3),
        "subs" => 4096,
        "events" => 4608,
        // Out pointers: scratch space, sometimes at the very end of memory.
        _ => [0x2000 + small(64), 65536 - 4, 65536 - 2][small(3) as usize % 3],
    }
}
