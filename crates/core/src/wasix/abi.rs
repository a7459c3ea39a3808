//! WASIX's socket types and structs, encoded field by field (docs/wasix-socket-abi.md §3-4,
//! "doc" below; wasm32 only).
//!
//! `__wasi_addr_port_t` is a u8 family tag, a padding byte, then a union: for IP addresses
//! the port at offset 2 and the address bytes from offset 4. The guest's type is 110 bytes
//! (the union holds a 108-byte UNIX path); IP addresses use the first 20 (IPv4: 8), and
//! IPv6 also the flow info and scope id that follow (20..28). What wasock reads and writes:
//!
//! - **The port is a little-endian u16 both ways.** Guests store it so (wasix-libc stores
//!   `ntohs(sin_port)`, Rust code `SocketAddr::port()`), and wasock writes it back the same
//!   way. Wasmer writes it big-endian and wasix-libc guesses which with its port probe
//!   (doc §4, and [`super::socket::sock_bind`]); a little-endian host is right for both
//!   libraries whatever the probe concludes, and never needs the probe to succeed.
//! - **IP address bytes are in network order** (`a.b.c.d` is a, b, c, d; IPv6 is the 16
//!   bytes of `s6_addr`): what wasix-libc writes and reads, and what wasmer-wasix 0.705
//!   reads and writes (some older wasmer versions read eight native u16 groups instead). A
//!   Rust guest filling the `wasix` crate's `AddrIp6` u16 fields must put the bytes in that
//!   order: `n0 = u16::from_le_bytes([o[0], o[1]])`.
//! - IPv6 flow info and scope id: two u32s stored as u16 halves, high half first (wasix-libc's
//!   split). The scope id is read only for an address that needs one (link-local), so a guest
//!   that leaves garbage there for a global address is not hurt; both are written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::errno::{Errno, Result, Trap};
use crate::memory::GuestMemory;

/// `__wasi_address_family_t` (a u8; `sock_open`'s `af` and the tag of every address).
pub mod address_family {
    /// No family (not a socket address).
    pub const UNSPEC: u8 = 0;
    /// IPv4.
    pub const INET4: u8 = 1;
    /// IPv6.
    pub const INET6: u8 = 2;
    /// UNIX domain (not provided: EAFNOSUPPORT).
    pub const UNIX: u8 = 3;
}

/// `__wasi_sock_type_t` (a u8), as passed to `sock_open`.
pub mod sock_type {
    /// SOCK_STREAM.
    pub const STREAM: u32 = 1;
    /// SOCK_DGRAM.
    pub const DGRAM: u32 = 2;
    /// wasix-libc's `SOCK_NONBLOCK`, which its `socket()` passes on in the type argument.
    pub const NONBLOCK_BIT: u32 = 0x4000;
    /// wasix-libc's `SOCK_CLOEXEC`, likewise (there is no exec: ignored).
    pub const CLOEXEC_BIT: u32 = 0x2000;
}

/// `__wasi_sock_proto_t` (IANA protocol numbers) that `sock_open` takes.
pub mod sock_proto {
    /// The default protocol of the socket type.
    pub const IP: u32 = 0;
    /// TCP.
    pub const TCP: u32 = 6;
    /// UDP.
    pub const UDP: u32 = 17;
}

/// `__wasi_sock_status_t` (a u8), written by `sock_status`.
pub mod sock_status {
    /// Not yet listening or connected (fresh, bound, or connecting).
    pub const OPENING: u8 = 0;
    /// Listening, connected, or a bound datagram socket.
    pub const OPENED: u8 = 1;
    /// Closed.
    pub const CLOSED: u8 = 2;
    /// A connection attempt failed.
    pub const FAILED: u8 = 3;
}

/// WASIX's `$riflags` (u16): preview 1's two, plus two of WASIX's.
pub mod riflags {
    /// MSG_PEEK.
    pub const PEEK: u16 = 1;
    /// MSG_WAITALL.
    pub const WAITALL: u16 = 2;
    /// MSG_TRUNC asked for (ignored: the result says whether data was cut).
    pub const DATA_TRUNCATED: u16 = 4;
    /// MSG_DONTWAIT: this call never waits.
    pub const DONT_WAIT: u16 = 8;
}

/// WASIX's `$siflags` (u16).
pub mod siflags {
    /// MSG_DONTWAIT: this call never waits.
    pub const DONT_WAIT: u16 = 1;
}

/// `$roflags` (u16), written by `sock_recv` and `sock_recv_from`.
pub mod roflags {
    /// The datagram was longer than the buffers; the rest is lost.
    pub const DATA_TRUNCATED: u16 = 1;
}

/// `__wasi_sock_option_t` (a u8): which option a `sock_*_opt_*` call is about (doc §3.2).
#[allow(missing_docs)]
pub mod sock_option {
    pub const NOOP: u32 = 0;
    pub const REUSE_PORT: u32 = 1;
    pub const REUSE_ADDR: u32 = 2;
    pub const NO_DELAY: u32 = 3;
    pub const DONT_ROUTE: u32 = 4;
    pub const ONLY_V6: u32 = 5;
    pub const BROADCAST: u32 = 6;
    pub const MULTICAST_LOOP_V4: u32 = 7;
    pub const MULTICAST_LOOP_V6: u32 = 8;
    pub const PROMISCUOUS: u32 = 9;
    pub const LISTENING: u32 = 10;
    pub const LAST_ERROR: u32 = 11;
    pub const KEEP_ALIVE: u32 = 12;
    pub const LINGER: u32 = 13;
    pub const OOB_INLINE: u32 = 14;
    pub const RECV_BUF_SIZE: u32 = 15;
    pub const SEND_BUF_SIZE: u32 = 16;
    pub const RECV_LOWAT: u32 = 17;
    pub const SEND_LOWAT: u32 = 18;
    pub const RECV_TIMEOUT: u32 = 19;
    pub const SEND_TIMEOUT: u32 = 20;
    pub const CONNECT_TIMEOUT: u32 = 21;
    pub const ACCEPT_TIMEOUT: u32 = 22;
    pub const TTL: u32 = 23;
    pub const MULTICAST_TTL_V4: u32 = 24;
    pub const TYPE: u32 = 25;
    pub const PROTO: u32 = 26;
}

/// `__wasi_option_tag_t` (a u8).
pub mod option_tag {
    /// No value.
    pub const NONE: u8 = 0;
    /// A value follows.
    pub const SOME: u8 = 1;
}

/// `sizeof(__wasi_addr_port_t)` as guests declare it (the union holds a UNIX path).
pub const ADDR_PORT_SIZE: u32 = 110;
/// The bytes of an `__wasi_addr_port_t` that hold an IPv4 address: tag, padding, port, address.
pub const ADDR_PORT_V4_LEN: usize = 8;
/// The bytes that hold an IPv6 address and its port (what wasmer's struct covers).
pub const ADDR_PORT_V6_LEN: usize = 20;
/// The bytes of an IPv6 address with its flow info and scope id: the most wasock writes, so
/// the bounds check made before an action that cannot be undone (an accept, a receive).
pub const ADDR_PORT_WRITTEN_MAX: u32 = 28;
/// `sizeof(__wasi_addr_t)` / `__wasi_addr_ip_t`: one `resolve` result (tag, padding, 16 bytes).
pub const ADDR_IP_SIZE: u32 = 18;
/// `sizeof(__wasi_option_timestamp_t)`: u8 tag, 7 padding, u64 nanoseconds.
pub const OPTION_TIMESTAMP_SIZE: u32 = 16;
/// `sizeof(__wasi_addr_ip4_t)`: the multicast v4 arguments.
pub const ADDR_IP4_SIZE: u32 = 4;
/// The bytes of an `__wasi_addr_ip6_t` that hold the address (eight u16 groups).
pub const ADDR_IP6_LEN: u32 = 16;

/// The port of wasix-libc's byte-order probe: its `bind()` of `sin_port = 9000` without
/// `htons` reaches the host as 0x2823 (doc §4.3).
pub const PROBE_PORT: u16 = 10275;

const PORT: usize = 2;
const ADDR: usize = 4;
const FLOW_INFO: usize = 20;
const SCOPE_ID: usize = 24;

/// Whether an IPv6 address is only meaningful with an interface (link-local unicast
/// `fe80::/10`, interface- and link-local multicast).
fn needs_scope(ip: &Ipv6Addr) -> bool {
    crate::wamr::abi::needs_scope(ip)
}

/// A u32 stored as two little-endian u16 halves, high half first (wasix-libc's flow info
/// and scope id).
fn split_u32(value: u32) -> [u8; 4] {
    let [h0, h1] = ((value >> 16) as u16).to_le_bytes();
    let [l0, l1] = (value as u16).to_le_bytes();
    [h0, h1, l0, l1]
}

fn join_u32(raw: &[u8]) -> u32 {
    (u32::from(u16::from_le_bytes([raw[0], raw[1]])) << 16) | u32::from(u16::from_le_bytes([raw[2], raw[3]]))
}

/// Decodes an `__wasi_addr_port_t` from its first 28 bytes. A UNIX address is EAFNOSUPPORT;
/// any other tag but INET4 and INET6 is EINVAL.
pub fn decode_addr_port(raw: &[u8; ADDR_PORT_WRITTEN_MAX as usize]) -> Result<SocketAddr, Errno> {
    let port = u16::from_le_bytes([raw[PORT], raw[PORT + 1]]);
    match raw[0] {
        address_family::INET4 => {
            let ip = Ipv4Addr::new(raw[ADDR], raw[ADDR + 1], raw[ADDR + 2], raw[ADDR + 3]);
            Ok(SocketAddrV4::new(ip, port).into())
        }
        address_family::INET6 => {
            let octets: [u8; 16] = raw[ADDR..ADDR + 16].try_into().expect("16 bytes");
            let ip = Ipv6Addr::from(octets);
            let scope = if needs_scope(&ip) { join_u32(&raw[SCOPE_ID..SCOPE_ID + 4]) } else { 0 };
            Ok(SocketAddrV6::new(ip, port, 0, scope).into())
        }
        address_family::UNIX => Err(Errno::AfNoSupport),
        _ => Err(Errno::Inval),
    }
}

/// Encodes `addr` as an `__wasi_addr_port_t`; returns how many leading bytes of `raw` it
/// set (8 for IPv4, 28 for IPv6). The padding byte is 0; the rest of the guest's struct is
/// left alone.
pub fn encode_addr_port(addr: SocketAddr, raw: &mut [u8; ADDR_PORT_WRITTEN_MAX as usize]) -> usize {
    raw[1] = 0;
    raw[PORT..PORT + 2].copy_from_slice(&addr.port().to_le_bytes());
    match addr {
        SocketAddr::V4(a) => {
            raw[0] = address_family::INET4;
            raw[ADDR..ADDR + 4].copy_from_slice(&a.ip().octets());
            ADDR_PORT_V4_LEN
        }
        SocketAddr::V6(a) => {
            raw[0] = address_family::INET6;
            raw[ADDR..ADDR + 16].copy_from_slice(&a.ip().octets());
            raw[FLOW_INFO..FLOW_INFO + 4].copy_from_slice(&split_u32(a.flowinfo()));
            raw[SCOPE_ID..SCOPE_ID + 4].copy_from_slice(&split_u32(a.scope_id()));
            ADDR_PORT_WRITTEN_MAX as usize
        }
    }
}

/// Reads the `__wasi_addr_port_t` at `ptr`. Traps unless the bytes its family uses are in
/// memory (the tag first, then 8 bytes for IPv4 or 28 for IPv6).
pub fn read_addr_port(mem: &GuestMemory<'_>, ptr: u32) -> Result<SocketAddr> {
    let tag: u8 = mem.read(ptr)?;
    let len = match tag {
        address_family::INET4 => ADDR_PORT_V4_LEN,
        address_family::INET6 => ADDR_PORT_WRITTEN_MAX as usize,
        _ => 1,
    };
    let mut raw = [0u8; ADDR_PORT_WRITTEN_MAX as usize];
    raw[..len].copy_from_slice(&mem.read_bytes(ptr, len as u32)?);
    // The tag that chose the length decides (another guest thread may be writing it).
    raw[0] = tag;
    Ok(decode_addr_port(&raw)?)
}

/// Writes `addr` as an `__wasi_addr_port_t` at `ptr` (see [`encode_addr_port`]); traps
/// unless the bytes written are in memory.
pub fn write_addr_port(mem: &mut GuestMemory<'_>, ptr: u32, addr: SocketAddr) -> Result<(), Trap> {
    let mut raw = [0u8; ADDR_PORT_WRITTEN_MAX as usize];
    let len = encode_addr_port(addr, &mut raw);
    mem.write_bytes(ptr, &raw[..len])
}

/// Encodes one `resolve` result, an `__wasi_addr_t`: the family tag, a 0 padding byte, and
/// the address in network order (IPv4 in the first 4 of the 16 bytes, the rest 0).
pub fn encode_addr_ip(ip: IpAddr) -> [u8; ADDR_IP_SIZE as usize] {
    let mut raw = [0u8; ADDR_IP_SIZE as usize];
    match ip {
        IpAddr::V4(v4) => {
            raw[0] = address_family::INET4;
            raw[2..6].copy_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            raw[0] = address_family::INET6;
            raw[2..18].copy_from_slice(&v6.octets());
        }
    }
    raw
}

/// Decodes an `__wasi_option_timestamp_t`: `None`, or nanoseconds. A tag other than NONE or
/// SOME is EINVAL.
pub fn decode_option_timestamp(raw: &[u8; OPTION_TIMESTAMP_SIZE as usize]) -> Result<Option<u64>, Errno> {
    match raw[0] {
        option_tag::NONE => Ok(None),
        option_tag::SOME => Ok(Some(u64::from_le_bytes(raw[8..16].try_into().expect("8 bytes")))),
        _ => Err(Errno::Inval),
    }
}

/// Encodes an `__wasi_option_timestamp_t` (padding zeroed; a NONE's value is 0).
pub fn encode_option_timestamp(value: Option<u64>) -> [u8; OPTION_TIMESTAMP_SIZE as usize] {
    let mut raw = [0u8; OPTION_TIMESTAMP_SIZE as usize];
    if let Some(ns) = value {
        raw[0] = option_tag::SOME;
        raw[8..16].copy_from_slice(&ns.to_le_bytes());
    }
    raw
}

/// Reads the `__wasi_addr_ip4_t` at `ptr` (network order).
pub fn read_addr_ip4(mem: &GuestMemory<'_>, ptr: u32) -> Result<Ipv4Addr, Trap> {
    Ok(Ipv4Addr::from(mem.read_array::<{ ADDR_IP4_SIZE as usize }>(ptr)?))
}

/// Decodes the address of an `__wasi_addr_ip6_t` (a multicast group): eight u16 groups,
/// each little-endian, as wasmer reads them and as the `wasix` crate's `AddrIp6` fields hold
/// them (`ff02::1` is the bytes 02 ff 00 00 ... 01 00). wasix-libc never sends one (doc §3.3).
pub fn decode_addr_ip6(raw: &[u8; ADDR_IP6_LEN as usize]) -> Ipv6Addr {
    let mut groups = [0u16; 8];
    for (g, pair) in groups.iter_mut().zip(raw.chunks_exact(2)) {
        *g = u16::from_le_bytes([pair[0], pair[1]]);
    }
    Ipv6Addr::from(groups)
}

/// Reads the address of the `__wasi_addr_ip6_t` at `ptr` (see [`decode_addr_ip6`]).
pub fn read_addr_ip6(mem: &GuestMemory<'_>, ptr: u32) -> Result<Ipv6Addr, Trap> {
    Ok(decode_addr_ip6(&mem.read_array(ptr)?))
}
