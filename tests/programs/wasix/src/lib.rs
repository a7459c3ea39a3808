//! What the WASIX guests share: building and reading `AddrPort`s, printing results as
//! `key=value` lines, and the test stream.
//!
//! The `wasix` crate has raw functions only (`wasix::sock_open`, ...). Addresses are written
//! as WASIX runtimes read them: the port as a native (little-endian) u16, IP address bytes in
//! network order, so the IPv6 u16 fields hold byte pairs read little-endian.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub use wasix;

/// An `AddrPort` for `addr`, every byte not set zero.
pub fn addr_port(addr: SocketAddr) -> wasix::AddrPort {
    // SAFETY: AddrPort is plain old data (integers and unions of integers): all zeros is valid.
    let mut raw: wasix::AddrPort = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let [n0, n1, h0, h1] = a.ip().octets();
            raw.tag = wasix::ADDRESS_FAMILY_INET4.raw();
            raw.u.inet4 = wasix::AddrIp4Port { port: a.port(), addr: wasix::AddrIp4 { n0, n1, h0, h1 } };
        }
        SocketAddr::V6(a) => {
            let o = a.ip().octets();
            let g = |i: usize| u16::from_le_bytes([o[2 * i], o[2 * i + 1]]);
            raw.tag = wasix::ADDRESS_FAMILY_INET6.raw();
            raw.u.inet6 = wasix::AddrIp6Port {
                port: a.port(),
                addr: wasix::AddrIp6 {
                    n0: g(0),
                    n1: g(1),
                    n2: g(2),
                    n3: g(3),
                    h0: g(4),
                    h1: g(5),
                    h2: g(6),
                    h3: g(7),
                    flow_info1: 0,
                    flow_info0: 0,
                    scope_id1: 0,
                    scope_id0: 0,
                },
            };
        }
    }
    raw
}

/// The socket address in an `AddrPort` the host wrote, or a description of what is there.
pub fn socket_addr(raw: &wasix::AddrPort) -> Result<SocketAddr, String> {
    // SAFETY: the union members are read according to the tag; all are plain integers.
    unsafe {
        match raw.tag {
            t if t == wasix::ADDRESS_FAMILY_INET4.raw() => {
                let a = raw.u.inet4;
                Ok(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(a.addr.n0, a.addr.n1, a.addr.h0, a.addr.h1)),
                    a.port,
                ))
            }
            t if t == wasix::ADDRESS_FAMILY_INET6.raw() => {
                let a = raw.u.inet6;
                let groups =
                    [a.addr.n0, a.addr.n1, a.addr.n2, a.addr.n3, a.addr.h0, a.addr.h1, a.addr.h2, a.addr.h3];
                let mut octets = [0u8; 16];
                for (pair, g) in octets.chunks_exact_mut(2).zip(groups) {
                    pair.copy_from_slice(&g.to_le_bytes());
                }
                Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(octets)), a.port))
            }
            t => Err(format!("tag{t}")),
        }
    }
}

/// The two port bytes of an `AddrPort` as the host wrote them, in hex (`2328` for 10275
/// written little-endian).
pub fn port_bytes(raw: &wasix::AddrPort) -> String {
    // SAFETY: AddrPort is 110 plain bytes.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(raw as *const _ as *const u8, 4) };
    format!("{:02x}{:02x}", bytes[2], bytes[3])
}

/// The socket address or the tag, for printing.
pub fn shown(raw: &wasix::AddrPort) -> String {
    match socket_addr(raw) {
        Ok(a) => a.to_string(),
        Err(e) => e,
    }
}

/// The errno of a failed call as a number.
pub fn errno(e: wasix::Errno) -> u16 {
    e.raw()
}

/// Ends the program with a message on stderr and status 1.
pub fn fail(what: &str, e: wasix::Errno) -> ! {
    eprintln!("{what} failed: errno {} ({})", e.raw(), e.name());
    std::process::exit(1)
}

/// The program's arguments after argv[0].
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// The byte at offset `i` of the test stream.
pub fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 10)) as u8
}

/// Opens a socket of `addr`'s family.
pub fn open(ip: IpAddr, stream: bool) -> Result<wasix::Fd, wasix::Errno> {
    let af = if ip.is_ipv6() { wasix::ADDRESS_FAMILY_INET6 } else { wasix::ADDRESS_FAMILY_INET4 };
    let (ty, proto) = if stream {
        (wasix::SOCK_TYPE_SOCKET_STREAM, wasix::SOCK_PROTO_TCP)
    } else {
        (wasix::SOCK_TYPE_SOCKET_DGRAM, wasix::SOCK_PROTO_UDP)
    };
    // SAFETY: no pointers are passed.
    unsafe { wasix::sock_open(af, ty, proto) }
}

/// Receives into `buf` with `flags`: the byte count.
pub fn recv(fd: wasix::Fd, buf: &mut [u8], flags: wasix::Riflags) -> Result<usize, wasix::Errno> {
    let iov = [wasix::Iovec { buf: buf.as_mut_ptr(), buf_len: buf.len() }];
    // SAFETY: the iovec describes `buf`, which outlives the call.
    unsafe { wasix::sock_recv(fd, &iov, flags) }.map(|(n, _)| n).map_err(wasix::Errno::from)
}

/// Sends all of `data` (bounded retries of short sends).
pub fn send_all(fd: wasix::Fd, mut data: &[u8]) -> Result<(), wasix::Errno> {
    for _ in 0..1_000_000 {
        if data.is_empty() {
            return Ok(());
        }
        let iov = [wasix::Ciovec { buf: data.as_ptr(), buf_len: data.len() }];
        // SAFETY: the iovec describes `data`, which outlives the call.
        let n = unsafe { wasix::sock_send(fd, &iov, 0) }.map_err(wasix::Errno::from)?;
        data = &data[n..];
    }
    Err(wasix::ERRNO_AGAIN)
}
