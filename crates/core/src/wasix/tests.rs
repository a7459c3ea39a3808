//! WASIX's functions called as the engine binding calls them, on a `Vec<u8>` guest memory
//! (some also as a shared memory), with loopback traffic only (127.0.0.1 and ::1; denials aim
//! at 127.0.0.2). Raw bytes are checked where the layout is the point: tags, the port's byte
//! order, IPv6 bytes, the option timestamp.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use super::abi::{self, address_family, option_tag, riflags, sock_option as opt, sock_status, sock_type};
use super::{io, opt as options, resolve, socket, start};
use crate::ctx::{Ctx, CtxBuilder};
use crate::errno::{Errno, Error, Result};
use crate::memory::GuestMemory;
use crate::p1::sock as p1;
use crate::policy::Policy;

const MEM_SIZE: usize = 1 << 20;
/// Scratch for small results.
const OUT: u32 = 0;
const OUT2: u32 = 16;
/// An `__wasi_addr_port_t` (110 bytes).
const ADDR: u32 = 64;
/// A second one.
const ADDR2: u32 = 256;
/// An iovec array.
const IOV: u32 = 512;
/// An option timestamp.
const TIME: u32 = 576;
/// Strings for resolve.
const STR: u32 = 640;
/// Resolve results.
const RESULTS: u32 = 2048;
/// Data buffers.
const BUF: u32 = 8192;

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
    p.allow_resolve.insert("localhost".parse().unwrap());
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
    shared: bool,
}

impl Guest {
    fn new() -> Guest {
        Guest::with_policy(loopback_policy())
    }

    fn with_policy(policy: Policy) -> Guest {
        let cx = CtxBuilder::new().policy(policy).trace(true).build().unwrap();
        Guest { cx, mem: vec![0; MEM_SIZE], shared: false }
    }

    fn with_memory<T>(&mut self, call: impl FnOnce(&Ctx, &mut GuestMemory<'_>) -> T) -> T {
        match self.shared {
            false => call(&self.cx, &mut GuestMemory::new(&mut self.mem)),
            true => call(&self.cx, &mut GuestMemory::shared_view(&mut self.mem)),
        }
    }

    fn bytes(&self, ptr: u32, len: usize) -> &[u8] {
        &self.mem[ptr as usize..ptr as usize + len]
    }

    fn u32_at(&self, ptr: u32) -> u32 {
        u32::from_le_bytes(self.bytes(ptr, 4).try_into().unwrap())
    }

    fn u64_at(&self, ptr: u32) -> u64 {
        u64::from_le_bytes(self.bytes(ptr, 8).try_into().unwrap())
    }

    fn put_addr(&mut self, ptr: u32, addr: SocketAddr) {
        self.mem[ptr as usize..ptr as usize + 110].fill(0);
        abi::write_addr_port(&mut GuestMemory::new(&mut self.mem), ptr, addr).unwrap();
    }

    fn addr_at(&self, ptr: u32) -> SocketAddr {
        abi::decode_addr_port(self.bytes(ptr, 28).try_into().unwrap()).unwrap()
    }

    fn open(&mut self, ip: IpAddr, stream: bool) -> u32 {
        let af = if ip.is_ipv6() { address_family::INET6 } else { address_family::INET4 };
        let ty = if stream { sock_type::STREAM } else { sock_type::DGRAM };
        call!(self, socket::sock_open, u32::from(af), ty, 0, OUT).unwrap();
        let fd = self.u32_at(OUT);
        // A broken implementation fails a test instead of hanging it.
        for option in [opt::RECV_TIMEOUT, opt::SEND_TIMEOUT] {
            self.set_time(fd, option, Some(10_000_000_000)).unwrap();
        }
        fd
    }

    fn set_time(&mut self, fd: u32, option: u32, ns: Option<u64>) -> Result<()> {
        let raw = abi::encode_option_timestamp(ns);
        self.mem[TIME as usize..TIME as usize + 16].copy_from_slice(&raw);
        call!(self, options::sock_set_opt_time, fd, option, TIME)
    }

    fn get_time(&mut self, fd: u32, option: u32) -> Result<Option<u64>> {
        self.mem[TIME as usize..TIME as usize + 16].fill(0xEE);
        call!(self, options::sock_get_opt_time, fd, option, TIME)?;
        Ok(abi::decode_option_timestamp(self.bytes(TIME, 16).try_into().unwrap()).unwrap())
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
        self.mem[ADDR as usize..ADDR as usize + 110].fill(0xEE);
        call!(self, socket::sock_addr_local, fd, ADDR).unwrap();
        self.addr_at(ADDR)
    }

    fn status(&mut self, fd: u32) -> u8 {
        call!(self, socket::sock_status, fd, OUT).unwrap();
        self.mem[OUT as usize]
    }

    /// A guest TCP listener on `ip`, port 0.
    fn listener(&mut self, ip: IpAddr) -> (u32, SocketAddr) {
        let fd = self.open(ip, true);
        self.bind(fd, SocketAddr::new(ip, 0)).unwrap();
        call!(self, socket::sock_listen, fd, 16).unwrap();
        (fd, self.local(fd))
    }

    fn accept(&mut self, fd: u32, flags: u16) -> Result<(u32, SocketAddr)> {
        self.mem[ADDR2 as usize..ADDR2 as usize + 110].fill(0xEE);
        call!(self, socket::sock_accept_v2, fd, u32::from(flags), OUT, ADDR2)?;
        Ok((self.u32_at(OUT), self.addr_at(ADDR2)))
    }

    fn put_data(&mut self, data: &[u8]) {
        self.mem[BUF as usize..BUF as usize + data.len()].copy_from_slice(data);
        self.set_iov(BUF, data.len() as u32);
    }

    fn set_iov(&mut self, buf: u32, len: u32) {
        self.mem[IOV as usize..IOV as usize + 4].copy_from_slice(&buf.to_le_bytes());
        self.mem[IOV as usize + 4..IOV as usize + 8].copy_from_slice(&len.to_le_bytes());
    }

    fn send(&mut self, fd: u32, data: &[u8], siflags: u16) -> Result<u32> {
        self.put_data(data);
        call!(self, io::sock_send, fd, IOV, 1, u32::from(siflags), OUT)?;
        Ok(self.u32_at(OUT))
    }

    /// sock_recv into one buffer of `len` bytes: the bytes and `*roflags`.
    fn recv(&mut self, fd: u32, len: u32, flags: u16) -> Result<(Vec<u8>, u16)> {
        self.set_iov(BUF, len);
        self.mem[OUT2 as usize..OUT2 as usize + 2].copy_from_slice(&[0xEE, 0xEE]);
        call!(self, io::sock_recv, fd, IOV, 1, u32::from(flags), OUT, OUT2)?;
        let n = self.u32_at(OUT);
        let roflags = u16::from_le_bytes([self.mem[OUT2 as usize], self.mem[OUT2 as usize + 1]]);
        Ok((self.bytes(BUF, n as usize).to_vec(), roflags))
    }

    fn recv_from(&mut self, fd: u32, len: u32, flags: u16) -> Result<(Vec<u8>, u16, SocketAddr)> {
        self.set_iov(BUF, len);
        self.mem[ADDR2 as usize..ADDR2 as usize + 110].fill(0xEE);
        call!(self, io::sock_recv_from, fd, IOV, 1, u32::from(flags), OUT, OUT2, ADDR2)?;
        let n = self.u32_at(OUT);
        let roflags = u16::from_le_bytes([self.mem[OUT2 as usize], self.mem[OUT2 as usize + 1]]);
        Ok((self.bytes(BUF, n as usize).to_vec(), roflags, self.addr_at(ADDR2)))
    }

    fn send_to(&mut self, fd: u32, data: &[u8], to: SocketAddr, siflags: u16) -> Result<u32> {
        self.put_data(data);
        self.put_addr(ADDR, to);
        call!(self, io::sock_send_to, fd, IOV, 1, u32::from(siflags), ADDR, OUT)?;
        Ok(self.u32_at(OUT))
    }

    fn is_nonblocking(&self, fd: u32) -> bool {
        self.cx.get(fd, 0).unwrap().as_socket().unwrap().is_nonblocking()
    }

    fn open_fds(&self) -> usize {
        (0..64).filter(|fd| self.cx.get(*fd, 0).is_ok()).count()
    }
}

#[test]
fn import_table_has_the_binding_shape_and_the_socket_subset() {
    macro_rules! names {
        ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {{
            $(let _: fn(&Ctx, &mut GuestMemory<'_>, $($ty),*) -> Result<()> = $path;)*
            vec![$(stringify!($name)),*]
        }};
    }
    let wasix: Vec<&str> = crate::for_each_wasix_import!(names);
    for name in [
        "sock_open",
        "sock_bind",
        "sock_listen",
        "sock_accept_v2",
        "sock_accept",
        "sock_connect",
        "sock_recv",
        "sock_recv_from",
        "sock_send",
        "sock_send_to",
        "sock_status",
        "sock_addr_local",
        "sock_addr_peer",
        "sock_set_opt_flag",
        "sock_get_opt_flag",
        "sock_set_opt_time",
        "sock_get_opt_time",
        "sock_set_opt_size",
        "sock_get_opt_size",
        "sock_shutdown",
        "resolve",
        "sock_join_multicast_v4",
        "sock_leave_multicast_v6",
        "proc_signals_sizes_get",
        "proc_signals_get",
    ] {
        assert!(wasix.contains(&name), "{name} is missing");
    }
    let mut sorted = wasix.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), wasix.len(), "a name is listed twice");
    let overrides: Vec<&str> = crate::for_each_wasix_preview1_override!(names);
    assert_eq!(overrides, ["sock_recv", "sock_send"]);
}

#[test]
fn errnos_are_wasi_numbers() {
    // WASIX keeps WASI preview 1's numbering (doc §7.1); these are the ones WASIX guests see
    // from wasock's socket calls.
    for (e, n) in [
        (Errno::Acces, 2),
        (Errno::AddrInUse, 3),
        (Errno::AfNoSupport, 5),
        (Errno::Again, 6),
        (Errno::Badf, 8),
        (Errno::ConnRefused, 14),
        (Errno::InProgress, 26),
        (Errno::Inval, 28),
        (Errno::Io, 29),
        (Errno::NoSys, 52),
        (Errno::NotConn, 53),
        (Errno::NotSock, 57),
        (Errno::NotSup, 58),
        (Errno::ProtoNoSupport, 66),
        (Errno::TimedOut, 73),
    ] {
        assert_eq!(e.raw(), n, "{e:?}");
    }
}

#[test]
fn addr_port_layout_ipv4_tag_padding_little_endian_port_network_order_address() {
    let mut raw = [0xEEu8; 28];
    let len = abi::encode_addr_port("192.168.1.2:10275".parse().unwrap(), &mut raw);
    assert_eq!(len, 8);
    assert_eq!(raw[..8], [1, 0, 0x23, 0x28, 192, 168, 1, 2]);
    assert!(raw[8..].iter().all(|&b| b == 0xEE), "nothing past the IPv4 address is written");
    assert_eq!(abi::decode_addr_port(&raw).unwrap(), "192.168.1.2:10275".parse::<SocketAddr>().unwrap());
    // Port 80 is 0x50 0x00 (little-endian), not wasmer's 0x00 0x50.
    abi::encode_addr_port("10.0.0.1:80".parse().unwrap(), &mut raw);
    assert_eq!(raw[2..4], [0x50, 0x00]);
}

#[test]
fn addr_port_layout_ipv6_network_order_bytes_flow_info_and_scope_id_in_u16_halves() {
    let ip: Ipv6Addr = "fe80::1:2".parse().unwrap();
    let addr = SocketAddr::V6(SocketAddrV6::new(ip, 443, 0x0001_0002, 0x0003_0004));
    let mut raw = [0xEEu8; 28];
    assert_eq!(abi::encode_addr_port(addr, &mut raw), 28);
    assert_eq!(raw[..4], [2, 0, 0xbb, 0x01]);
    assert_eq!(raw[4..20], ip.octets(), "the 16 bytes of s6_addr");
    assert_eq!(raw[20..24], [1, 0, 2, 0], "flow info: high half, then low half");
    assert_eq!(raw[24..28], [3, 0, 4, 0], "scope id: high half, then low half");
    match abi::decode_addr_port(&raw).unwrap() {
        SocketAddr::V6(a) => {
            assert_eq!((*a.ip(), a.port(), a.scope_id()), (ip, 443, 0x0003_0004));
            assert_eq!(a.flowinfo(), 0, "flow info is not passed on");
        }
        other => panic!("{other}"),
    }
    // A global address ignores whatever is in the scope id field.
    let global: Ipv6Addr = "2001:db8::1".parse().unwrap();
    abi::encode_addr_port(SocketAddr::new(global.into(), 1), &mut raw);
    raw[24..28].copy_from_slice(&[9, 9, 9, 9]);
    match abi::decode_addr_port(&raw).unwrap() {
        SocketAddr::V6(a) => assert_eq!((*a.ip(), a.scope_id()), (global, 0)),
        other => panic!("{other}"),
    }
}

#[test]
fn addr_port_tags_other_than_inet_are_refused() {
    let mut raw = [0u8; 28];
    for (tag, want) in [(0, Errno::Inval), (3, Errno::AfNoSupport), (4, Errno::Inval), (255, Errno::Inval)] {
        raw[0] = tag;
        assert_eq!(abi::decode_addr_port(&raw).unwrap_err(), want, "tag {tag}");
    }
}

#[test]
fn addr_port_reads_only_what_its_family_uses() {
    // An IPv4 address in the last 8 bytes of memory is read; IPv6 needs 28.
    let mut mem = vec![0u8; 64];
    mem[56..64].copy_from_slice(&[1, 0, 0x50, 0, 127, 0, 0, 1]);
    let m = GuestMemory::new(&mut mem);
    assert_eq!(abi::read_addr_port(&m, 56).unwrap(), "127.0.0.1:80".parse::<SocketAddr>().unwrap());
    let mut mem = vec![0u8; 64];
    mem[44] = 2;
    let m = GuestMemory::new(&mut mem);
    assert!(is_trap(abi::read_addr_port(&m, 44)));
    let mut mem = vec![0u8; 64];
    mem[36] = 2;
    let m = GuestMemory::new(&mut mem);
    assert_eq!(abi::read_addr_port(&m, 36).unwrap(), "[::]:0".parse::<SocketAddr>().unwrap());
}

#[test]
fn option_timestamp_and_resolve_entry_and_multicast_v6_layouts() {
    let raw = abi::encode_option_timestamp(Some(1_500_000_000));
    assert_eq!(raw[0], option_tag::SOME);
    assert!(raw[1..8].iter().all(|&b| b == 0));
    assert_eq!(raw[8..], 1_500_000_000u64.to_le_bytes());
    assert_eq!(abi::decode_option_timestamp(&raw).unwrap(), Some(1_500_000_000));
    assert_eq!(abi::encode_option_timestamp(None), [0u8; 16]);
    let mut bad = raw;
    bad[0] = 2;
    assert_eq!(abi::decode_option_timestamp(&bad).unwrap_err(), Errno::Inval);

    let v4 = abi::encode_addr_ip("10.1.2.3".parse().unwrap());
    assert_eq!(v4, [1, 0, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let ip6: Ipv6Addr = "2001:db8::7".parse().unwrap();
    let v6 = abi::encode_addr_ip(ip6.into());
    assert_eq!(v6[..2], [2, 0]);
    assert_eq!(v6[2..], ip6.octets());

    // Multicast v6 groups are eight little-endian u16s (wasmer, the wasix crate's AddrIp6).
    let mut group = [0u8; 16];
    group[..2].copy_from_slice(&0xff02u16.to_le_bytes());
    group[14..].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(abi::decode_addr_ip6(&group), "ff02::1".parse::<Ipv6Addr>().unwrap());
}

#[test]
fn sock_open_checks_family_type_and_protocol() {
    let mut g = Guest::new();
    let open = |g: &mut Guest, af: u32, ty: u32, proto: u32| call!(g, socket::sock_open, af, ty, proto, OUT);
    assert_eq!(errno(open(&mut g, 3, 1, 0)), Errno::AfNoSupport, "UNIX");
    assert_eq!(errno(open(&mut g, 0, 1, 0)), Errno::AfNoSupport, "UNSPEC");
    assert_eq!(errno(open(&mut g, 1, 3, 0)), Errno::NotSup, "RAW");
    assert_eq!(errno(open(&mut g, 1, 4, 0)), Errno::NotSup, "SEQPACKET");
    assert_eq!(errno(open(&mut g, 1, 1, 17)), Errno::ProtoNoSupport, "UDP on a stream");
    assert_eq!(errno(open(&mut g, 1, 2, 6)), Errno::ProtoNoSupport, "TCP on a datagram socket");
    assert_eq!(errno(open(&mut g, 1, 1, 1)), Errno::ProtoNoSupport, "ICMP");
    assert_eq!(g.open_fds(), 3, "no socket was created");

    open(&mut g, 1, 1, 6).unwrap();
    let tcp = g.u32_at(OUT);
    assert_eq!(tcp, 3, "the lowest free fd");
    assert!(!g.is_nonblocking(tcp));
    // wasix-libc passes SOCK_NONBLOCK (0x4000) and SOCK_CLOEXEC (0x2000) in the type.
    open(&mut g, 2, 2 | 0x4000 | 0x2000, 0).unwrap();
    let udp = g.u32_at(OUT);
    assert!(g.is_nonblocking(udp));
    let sock = g.cx.get(udp, 0).unwrap();
    assert!(!sock.as_socket().unwrap().stream);

    // A bad output pointer traps before a socket is made.
    let before = g.open_fds();
    assert!(is_trap(call!(g, socket::sock_open, 1, 1, 0, MEM_SIZE as u32 - 2)));
    assert_eq!(g.open_fds(), before);
}

#[test]
fn bind_then_addr_local_reports_the_bound_port_little_endian() {
    for ip in [V4, V6] {
        let mut g = Guest::new();
        let fd = g.open(ip, false);
        assert_eq!(g.local(fd), SocketAddr::new(crate::policy::implicit_bind_address(ip.is_ipv6()), 0));
        g.bind(fd, SocketAddr::new(ip, 0)).unwrap();
        let bound = g.local(fd);
        assert_eq!(bound.ip(), ip);
        assert_ne!(bound.port(), 0);
        assert_eq!(g.bytes(ADDR, 4)[2..], bound.port().to_le_bytes());
        // Only the bytes of the family's address are written (8 or 28 of 110).
        let written = if ip.is_ipv4() { 8 } else { 28 };
        assert!(g.bytes(ADDR + written, 110 - written as usize).iter().all(|&b| b == 0xEE));
        // The host socket really is on that port.
        let taken = UdpSocket::bind(bound);
        assert!(taken.is_err(), "{bound} should be taken by the guest");
    }
}

#[test]
fn policy_denials_are_eacces_before_anything_happens() {
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    assert_eq!(errno(g.bind(fd, SocketAddr::new(DENIED_V4, 0))), Errno::Acces);
    assert_eq!(g.local(fd).port(), 0, "nothing was bound");
    let native = TcpListener::bind((DENIED_V4, 0)).unwrap();
    native.set_nonblocking(true).unwrap();
    assert_eq!(errno(g.connect(fd, native.local_addr().unwrap())), Errno::Acces);
    assert_eq!(native.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock, "nothing reached it");
    let udp = g.open(V4, false);
    assert_eq!(errno(g.send_to(udp, b"x", SocketAddr::new(DENIED_V4, 9), 0)), Errno::Acces);
    // A bad fd outside the pool is EACCES too: the pool comes first, as for every ABI.
    assert_eq!(errno(g.bind(99, SocketAddr::new(DENIED_V4, 0))), Errno::Acces);
    assert_eq!(errno(g.bind(99, SocketAddr::new(V4, 0))), Errno::Badf);
}

#[test]
fn port_probe_is_refused_without_a_bind_when_0_0_0_0_is_not_granted() {
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    let probe = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), abi::PROBE_PORT);
    assert_eq!(errno(g.bind(fd, probe)), Errno::Acces);
    assert_eq!(g.local(fd), SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0), "nothing was bound");

    // Granted: a real bind, reported exactly (unless the port is busy on this host).
    let mut policy = loopback_policy();
    policy.addr_pool.insert("0.0.0.0/32".parse().unwrap());
    let mut g = Guest::with_policy(policy);
    let fd = g.open(V4, true);
    match g.bind(fd, probe) {
        Ok(()) => {
            assert_eq!(g.local(fd), probe);
            assert_eq!(g.bytes(ADDR, 4), [1, 0, 0x23, 0x28]);
        }
        Err(e) => assert_eq!(errno::<()>(Err(e)), Errno::AddrInUse),
    }
}

#[test]
fn tcp_accept_v2_reports_the_peer_and_honours_nonblock() {
    for ip in [V4, V6] {
        let mut g = Guest::new();
        let (listener, addr) = g.listener(ip);
        assert_eq!(g.status(listener), sock_status::OPENED);
        let client = g.open(ip, true);
        assert_eq!(g.status(client), sock_status::OPENING);
        g.connect(client, addr).unwrap();
        assert_eq!(g.status(client), sock_status::OPENED);
        let client_addr = g.local(client);
        let (server, peer) = g.accept(listener, crate::abi::fdflags::NONBLOCK).unwrap();
        assert_eq!(peer, client_addr);
        assert!(g.is_nonblocking(server));
        call!(g, socket::sock_addr_peer, client, ADDR).unwrap();
        assert_eq!(g.addr_at(ADDR), addr);

        // Non-blocking and nothing queued: EAGAIN. A listener never connected has no peer.
        g.cx.get(listener, 0).unwrap().as_socket().unwrap().set_nonblocking(true);
        assert_eq!(errno(g.accept(listener, 0)), Errno::Again);
        assert_eq!(errno(call!(g, socket::sock_addr_peer, listener, ADDR)), Errno::NotConn);

        // Both outputs are checked before a connection is taken.
        let second = g.open(ip, true);
        g.connect(second, addr).unwrap();
        assert!(is_trap(call!(g, socket::sock_accept_v2, listener, 0, OUT, MEM_SIZE as u32 - 10)));
        g.cx.get(listener, 0).unwrap().as_socket().unwrap().set_nonblocking(false);
        let (third, _) = g.accept(listener, 0).unwrap();
        assert!(!g.is_nonblocking(third), "only the flag asked for, not the listener's mode");
    }
}

#[test]
fn recv_flags_dont_wait_peek_waitall_and_send_dont_wait() {
    let mut g = Guest::new();
    let (listener, addr) = g.listener(V4);
    let client = g.open(V4, true);
    g.connect(client, addr).unwrap();
    let (server, _) = g.accept(listener, 0).unwrap();

    // DONT_WAIT on a blocking socket with nothing queued: EAGAIN at once.
    let start = Instant::now();
    assert_eq!(errno(g.recv(server, 16, riflags::DONT_WAIT)), Errno::Again);
    assert!(start.elapsed() < Duration::from_secs(2));

    assert_eq!(g.send(client, b"hello", 0).unwrap(), 5);
    let (peeked, roflags) = g.recv(server, 16, riflags::PEEK).unwrap();
    assert_eq!((peeked.as_slice(), roflags), (&b"hello"[..], 0));
    let (got, _) = g.recv(server, 16, riflags::DONT_WAIT).unwrap();
    assert_eq!(got, b"hello", "PEEK left the data queued");

    // WAITALL waits for the whole buffer.
    let writer = std::thread::spawn({
        let fd = g.cx.get(client, 0).unwrap();
        move || {
            let sock = fd.as_socket().unwrap();
            for part in [&b"abc"[..], b"def"] {
                std::thread::sleep(Duration::from_millis(30));
                (&sock.socket).write_all(part).unwrap();
            }
        }
    });
    let (all, _) = g.recv(server, 6, riflags::WAITALL).unwrap();
    writer.join().unwrap();
    assert_eq!(all, b"abcdef");

    // siflags DONT_WAIT on a full send buffer: EAGAIN (or a short count), never a wait.
    g.cx.get(server, 0).unwrap().as_socket().unwrap().socket.set_send_buffer_size(4096).unwrap();
    let chunk = vec![7u8; 65536];
    let start = Instant::now();
    let mut stopped = None;
    for _ in 0..1000 {
        match g.send(server, &chunk, abi::siflags::DONT_WAIT) {
            Ok(n) if n as usize == chunk.len() => {}
            other => {
                stopped = Some(other);
                break;
            }
        }
    }
    match stopped {
        Some(Err(Error::Errno(Errno::Again))) | Some(Ok(_)) => {}
        other => panic!("expected EAGAIN or a short send, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn udp_recv_from_names_the_sender_and_reports_truncation() {
    for ip in [V4, V6] {
        let mut g = Guest::new();
        let fd = g.open(ip, false);
        assert_eq!(g.status(fd), sock_status::OPENING);
        g.bind(fd, SocketAddr::new(ip, 0)).unwrap();
        assert_eq!(g.status(fd), sock_status::OPENED);
        let local = g.local(fd);
        assert_eq!(errno(g.recv_from(fd, 64, riflags::DONT_WAIT)), Errno::Again);

        let native = UdpSocket::bind((ip, 0)).unwrap();
        native.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        native.send_to(b"0123456789", local).unwrap();
        let (data, roflags, from) = g.recv_from(fd, 4, 0).unwrap();
        assert_eq!(
            (data.as_slice(), roflags, from),
            (&b"0123"[..], abi::roflags::DATA_TRUNCATED, native.local_addr().unwrap())
        );
        // The port bytes the guest reads: little-endian at offset 2.
        assert_eq!(g.bytes(ADDR2, 4)[2..], native.local_addr().unwrap().port().to_le_bytes());

        assert_eq!(g.send_to(fd, b"pong", native.local_addr().unwrap(), 0).unwrap(), 4);
        let mut buf = [0u8; 16];
        let (n, sender) = native.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], sender), (&b"pong"[..], local));
    }
}

#[test]
fn shared_memory_guests_get_the_same_results() {
    let mut g = Guest::new();
    g.shared = true;
    let fd = g.open(V4, false);
    g.bind(fd, SocketAddr::new(V4, 0)).unwrap();
    let local = g.local(fd);
    let native = UdpSocket::bind((V4, 0)).unwrap();
    native.send_to(b"shared", local).unwrap();
    let (data, _, from) = g.recv_from(fd, 64, 0).unwrap();
    assert_eq!((data.as_slice(), from), (&b"shared"[..], native.local_addr().unwrap()));
}

#[test]
fn flag_options_roundtrip_and_check_their_value_and_port_sharing() {
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    let get = |g: &mut Guest, option: u32| -> Result<u8> {
        g.mem[OUT as usize] = 0xEE;
        call!(g, options::sock_get_opt_flag, fd, option, OUT)?;
        Ok(g.mem[OUT as usize])
    };
    for option in
        [opt::REUSE_ADDR, opt::NO_DELAY, opt::KEEP_ALIVE, opt::OOB_INLINE, opt::DONT_ROUTE, opt::BROADCAST]
    {
        for value in [1, 0] {
            call!(g, options::sock_set_opt_flag, fd, option, value).unwrap();
            assert_eq!(get(&mut g, option).unwrap(), value as u8, "option {option}");
        }
    }
    assert_eq!(errno(call!(g, options::sock_set_opt_flag, fd, opt::NO_DELAY, 2)), Errno::Inval);
    assert_eq!(
        errno(call!(g, options::sock_set_opt_flag, fd, opt::LINGER, 1)),
        Errno::Inval,
        "a time option"
    );
    assert_eq!(errno(call!(g, options::sock_set_opt_flag, fd, opt::LISTENING, 1)), Errno::Inval, "read-only");
    assert_eq!(get(&mut g, opt::LISTENING).unwrap(), 0);
    assert_eq!(errno(get(&mut g, opt::RECV_BUF_SIZE)), Errno::Inval, "a size option");
    // Port sharing needs --allow-port-sharing; turning it off never does.
    assert_eq!(errno(call!(g, options::sock_set_opt_flag, fd, opt::REUSE_PORT, 1)), Errno::Acces);
    call!(g, options::sock_set_opt_flag, fd, opt::REUSE_PORT, 0).unwrap();
    let udp = g.open(V4, false);
    assert_eq!(errno(call!(g, options::sock_set_opt_flag, udp, opt::REUSE_ADDR, 1)), Errno::Acces);
    // Rust std's order: REUSE_ADDR on the bound socket, then listen.
    g.bind(fd, SocketAddr::new(V4, 0)).unwrap();
    call!(g, options::sock_set_opt_flag, fd, opt::REUSE_ADDR, 1).unwrap();
    call!(g, socket::sock_listen, fd, 128).unwrap();
    assert_eq!(get(&mut g, opt::LISTENING).unwrap(), 1);
    assert_eq!(errno(call!(g, options::sock_get_opt_flag, 99, opt::NO_DELAY, OUT)), Errno::Badf);
}

#[test]
fn time_and_size_options() {
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    g.set_time(fd, opt::RECV_TIMEOUT, Some(2_500_000_001)).unwrap();
    assert_eq!(g.get_time(fd, opt::RECV_TIMEOUT).unwrap(), Some(2_500_001_000), "kept in µs, rounded up");
    g.set_time(fd, opt::SEND_TIMEOUT, None).unwrap();
    assert_eq!(g.get_time(fd, opt::SEND_TIMEOUT).unwrap(), None);
    // Rust std reads CONNECT_TIMEOUT before connecting: NONE, written whole.
    assert_eq!(g.get_time(fd, opt::CONNECT_TIMEOUT).unwrap(), None);
    assert_eq!(g.bytes(TIME, 16), [0u8; 16]);
    assert_eq!(errno(g.set_time(fd, opt::CONNECT_TIMEOUT, Some(1))), Errno::NotSup);
    assert_eq!(errno(g.set_time(fd, opt::ACCEPT_TIMEOUT, Some(1))), Errno::NotSup);
    g.set_time(fd, opt::LINGER, Some(3_000_000_000)).unwrap();
    assert_eq!(g.get_time(fd, opt::LINGER).unwrap(), Some(3_000_000_000));
    g.set_time(fd, opt::LINGER, None).unwrap();
    assert_eq!(g.get_time(fd, opt::LINGER).unwrap(), None);
    assert_eq!(errno(g.set_time(fd, opt::NO_DELAY, Some(1))), Errno::Inval);
    g.mem[TIME as usize] = 7;
    assert_eq!(
        errno(call!(g, options::sock_set_opt_time, fd, opt::RECV_TIMEOUT, TIME)),
        Errno::Inval,
        "bad tag"
    );

    // The receive timeout bounds a blocking receive.
    let (listener, addr) = g.listener(V4);
    let client = g.open(V4, true);
    g.connect(client, addr).unwrap();
    let (server, _) = g.accept(listener, 0).unwrap();
    g.set_time(server, opt::RECV_TIMEOUT, Some(100_000_000)).unwrap();
    let start = Instant::now();
    assert_eq!(errno(g.recv(server, 8, 0)), Errno::Again);
    assert!(start.elapsed() >= Duration::from_millis(90) && start.elapsed() < Duration::from_secs(5));

    let size = |g: &mut Guest, fd: u32, option: u32| -> Result<u64> {
        call!(g, options::sock_get_opt_size, fd, option, OUT)?;
        Ok(g.u64_at(OUT))
    };
    call!(g, options::sock_set_opt_size, fd, opt::RECV_BUF_SIZE, 65536).unwrap();
    assert!(size(&mut g, fd, opt::RECV_BUF_SIZE).unwrap() >= 65536);
    call!(g, options::sock_set_opt_size, fd, opt::TTL, 17).unwrap();
    assert_eq!(size(&mut g, fd, opt::TTL).unwrap(), 17);
    assert_eq!(errno(call!(g, options::sock_set_opt_size, fd, opt::TTL, 1 << 40)), Errno::Inval);
    assert_eq!(size(&mut g, fd, opt::TYPE).unwrap(), 1);
    assert_eq!(size(&mut g, fd, opt::PROTO).unwrap(), 6);
    let udp = g.open(V6, false);
    assert_eq!(size(&mut g, udp, opt::TYPE).unwrap(), 2);
    assert_eq!(size(&mut g, udp, opt::PROTO).unwrap(), 17);
    call!(g, options::sock_set_opt_size, udp, opt::TTL, 9).unwrap();
    assert_eq!(size(&mut g, udp, opt::TTL).unwrap(), 9, "IPV6_UNICAST_HOPS");
    assert_eq!(errno(size(&mut g, fd, opt::NO_DELAY)), Errno::Inval);
}

#[test]
fn sock_status_reports_a_failed_connection() {
    let mut g = Guest::new();
    // A port nobody listens on: take one and free it.
    let closed = TcpListener::bind((V4, 0)).unwrap().local_addr().unwrap();
    let fd = g.open(V4, true);
    g.cx.get(fd, 0).unwrap().as_socket().unwrap().set_nonblocking(true);
    let in_progress = match g.connect(fd, closed) {
        Err(Error::Errno(Errno::InProgress)) => true,
        Err(Error::Errno(Errno::ConnRefused)) => false,
        other => panic!("{other:?}"),
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut status = g.status(fd);
    while in_progress && status != sock_status::FAILED && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        status = g.status(fd);
    }
    // A refusal the connect itself reported was collected there: nothing failed is left.
    let want = if in_progress { sock_status::FAILED } else { sock_status::OPENING };
    assert_eq!(status, want);
    // Collecting the error (a receive) leaves a plain unconnected socket.
    if in_progress {
        assert_eq!(errno(g.recv(fd, 8, 0)), Errno::ConnRefused);
        assert_eq!(g.status(fd), sock_status::OPENING);
    }
}

#[test]
fn resolve_writes_18_byte_entries_and_never_counts_past_the_capacity() {
    let mut g = Guest::new();
    let name = b"localhost";
    g.mem[STR as usize..STR as usize + name.len()].copy_from_slice(name);
    g.mem[RESULTS as usize..RESULTS as usize + 18 * 8].fill(0xEE);
    call!(g, resolve::resolve, STR, name.len() as u32, 0, RESULTS, 8, OUT).unwrap();
    let n = g.u32_at(OUT) as usize;
    assert!((1..=8).contains(&n), "localhost has an address: {n}");
    let mut seen = Vec::new();
    for i in 0..n {
        let entry = g.bytes(RESULTS + 18 * i as u32, 18);
        let ip = match entry[0] {
            1 => {
                assert!(entry[6..].iter().all(|&b| b == 0));
                IpAddr::from(<[u8; 4]>::try_from(&entry[2..6]).unwrap())
            }
            2 => IpAddr::from(<[u8; 16]>::try_from(&entry[2..18]).unwrap()),
            tag => panic!("tag {tag}"),
        };
        assert_eq!(entry[1], 0);
        assert!(ip.is_loopback(), "{ip}");
        assert!(!seen.contains(&ip), "{ip} twice");
        seen.push(ip);
    }
    assert!(g.bytes(RESULTS + 18 * n as u32, 18).iter().all(|&b| b == 0xEE), "nothing past the results");

    // Capacity 1: one entry, count 1. Capacity 0: count 0.
    call!(g, resolve::resolve, STR, name.len() as u32, 80, RESULTS, 1, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 1);
    call!(g, resolve::resolve, STR, name.len() as u32, 0, RESULTS, 0, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 0);

    // Not allowed: EACCES. Too long: EINVAL. Capacity beyond memory: a trap.
    let other = b"example.com";
    g.mem[STR as usize..STR as usize + other.len()].copy_from_slice(other);
    assert_eq!(errno(call!(g, resolve::resolve, STR, other.len() as u32, 0, RESULTS, 8, OUT)), Errno::Acces);
    assert_eq!(errno(call!(g, resolve::resolve, STR, 4096, 0, RESULTS, 8, OUT)), Errno::Inval);
    assert!(is_trap(call!(g, resolve::resolve, STR, name.len() as u32, 0, RESULTS, u32::MAX, OUT)));
    assert_eq!(resolve::lookup_errno(crate::sys::AddrInfoError::Gai(libc::EAI_AGAIN)), Errno::Again);
    assert_eq!(resolve::lookup_errno(crate::sys::AddrInfoError::Gai(libc::EAI_NONAME)), Errno::Io);
}

#[test]
fn start_up_functions() {
    let mut g = Guest::new();
    g.mem[OUT as usize..OUT as usize + 4].fill(0xEE);
    call!(g, start::proc_signals_sizes_get, OUT).unwrap();
    assert_eq!(g.u32_at(OUT), 0);
    call!(g, start::proc_signals_get, OUT).unwrap();
    call!(g, start::callback_signal, STR, 13).unwrap();
    assert!(is_trap(call!(g, start::callback_signal, MEM_SIZE as u32 - 4, 13)));
    call!(g, start::thread_parallelism, OUT).unwrap();
    assert!(g.u32_at(OUT) >= 1);
    let begin = Instant::now();
    call!(g, start::thread_sleep, 20_000_000).unwrap();
    assert!(begin.elapsed() >= Duration::from_millis(20));
    match start::proc_exit2(&g.cx, 7) {
        Error::Exit(e) => assert_eq!(e.0, 7),
        other => panic!("{other:?}"),
    }
    // The instance is stopped: a sleep ends at once with the exit.
    assert!(matches!(call!(g, start::thread_sleep, u64::MAX), Err(Error::Exit(_))));
}

#[test]
fn native_peer_sees_guest_stream_bytes() {
    // A guest client against a native server: what the guest sends arrives byte for byte.
    let native = TcpListener::bind((V4, 0)).unwrap();
    let mut g = Guest::new();
    let fd = g.open(V4, true);
    g.connect(fd, native.local_addr().unwrap()).unwrap();
    let (mut peer, from) = native.accept().unwrap();
    assert_eq!(from, g.local(fd));
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(g.send(fd, &data, 0).unwrap(), 3000);
    call!(g, p1::sock_shutdown, fd, 2).unwrap();
    let mut got = Vec::new();
    peer.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    peer.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
}
