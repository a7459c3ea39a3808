//! The structs of WAMR's socket extension, encoded field by field (spec §2, wasm32).
//!
//! Every field holds a number in host order, and wasm is little-endian, so everything is
//! little-endian in memory: IPv4 octets in reading order, the eight IPv6 groups as LE u16s,
//! the port as an LE u16. Nothing here is in network byte order (spec §2.3).
//!
//! IPv6 scope ids: WAMR drops them both ways (spec §11.10), so link-local addresses are
//! unusable under WAMR. wasock keeps the scope id of an address that needs one (link-local
//! unicast `fe80::/10`, interface- and link-local multicast `ff01::/16`, `ff02::/16`) in the
//! struct's two bytes of tail padding (22..24), as a little-endian u16 interface index: no
//! binary built for WAMR can depend on link-local addresses, and the padding of any other
//! address is neither read nor written. Our guest libraries fill and read it. Flow labels are
//! dropped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::errno::{Errno, Result, Trap};
use crate::memory::GuestMemory;

/// `__wasi_addr_type_t` (the `kind` field).
pub mod addr_type {
    /// IPv4.
    pub const IPV4: u32 = 0;
    /// IPv6.
    pub const IPV6: u32 = 1;
}

/// `__wasi_address_family_t` (sock_open's `af`, the resolve hints' `family`).
pub mod address_family {
    /// IPv4.
    pub const INET4: i32 = 0;
    /// IPv6.
    pub const INET6: i32 = 1;
    /// Either.
    pub const INET_UNSPEC: i32 = 2;
}

/// `__wasi_sock_type_t`.
pub mod sock_type {
    /// Any type (resolve hints only).
    pub const SOCKET_ANY: i32 = -1;
    /// SOCK_DGRAM.
    pub const SOCKET_DGRAM: i32 = 0;
    /// SOCK_STREAM.
    pub const SOCKET_STREAM: i32 = 1;
}

/// `sizeof(__wasi_addr_t)`: u32 kind, then a union of ip4+port (6 bytes) or ip6+port (18).
pub const ADDR_SIZE: u32 = 24;
/// `sizeof(__wasi_addr_ip_t)`: u32 kind, then a union of 4 or 16 address bytes.
pub const ADDR_IP_SIZE: u32 = 20;
/// `sizeof(__wasi_addr_info_t)`: an `__wasi_addr_t`, then the i32 socket type.
pub const ADDR_INFO_SIZE: u32 = 28;
/// `sizeof(__wasi_addr_info_hints_t)`: i32 type, i32 family, u8 hints_enabled, 3 padding.
pub const ADDR_INFO_HINTS_SIZE: u32 = 12;

/// Offset of the union in `__wasi_addr_t` and `__wasi_addr_ip_t`.
const UNION: usize = 4;
/// Offset of the IPv4 port in `__wasi_addr_t`.
const IP4_PORT: usize = 8;
/// Offset of the IPv6 port in `__wasi_addr_t`.
const IP6_PORT: usize = 20;
/// Offset of the IPv6 scope id (wasock's use of the tail padding; see the module docs).
const IP6_SCOPE: usize = 22;

/// Whether an IPv6 address is only meaningful with an interface (scope id).
pub fn needs_scope(ip: &Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    first & 0xffc0 == 0xfe80 || first & 0xff0f == 0xff01 || first & 0xff0f == 0xff02
}

/// Decodes an `__wasi_addr_t`. A kind other than IPv4/IPv6 is EPROTONOSUPPORT, as in WAMR.
pub fn decode_addr(raw: &[u8; ADDR_SIZE as usize]) -> Result<SocketAddr, Errno> {
    let kind = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    match kind {
        addr_type::IPV4 => {
            let ip = Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]);
            let port = u16::from_le_bytes([raw[IP4_PORT], raw[IP4_PORT + 1]]);
            Ok(SocketAddrV4::new(ip, port).into())
        }
        addr_type::IPV6 => {
            let ip = decode_ip6(&raw[UNION..UNION + 16]);
            let port = u16::from_le_bytes([raw[IP6_PORT], raw[IP6_PORT + 1]]);
            let scope =
                if needs_scope(&ip) { u16::from_le_bytes([raw[IP6_SCOPE], raw[IP6_SCOPE + 1]]) } else { 0 };
            Ok(SocketAddrV6::new(ip, port, 0, u32::from(scope)).into())
        }
        _ => Err(Errno::ProtoNoSupport),
    }
}

/// Encodes `addr` into an `__wasi_addr_t`: `kind` and the union member of its family only;
/// the other bytes keep their contents (WAMR writes the same bytes, spec §2.2), except the
/// scope id of an address that needs one (see the module docs). Flow labels are dropped.
pub fn encode_addr(addr: SocketAddr, raw: &mut [u8; ADDR_SIZE as usize]) {
    match addr {
        SocketAddr::V4(a) => {
            raw[..4].copy_from_slice(&addr_type::IPV4.to_le_bytes());
            raw[UNION..UNION + 4].copy_from_slice(&a.ip().octets());
            raw[IP4_PORT..IP4_PORT + 2].copy_from_slice(&a.port().to_le_bytes());
        }
        SocketAddr::V6(a) => {
            raw[..4].copy_from_slice(&addr_type::IPV6.to_le_bytes());
            encode_ip6(a.ip(), &mut raw[UNION..UNION + 16]);
            raw[IP6_PORT..IP6_PORT + 2].copy_from_slice(&a.port().to_le_bytes());
            if needs_scope(a.ip()) {
                // Interface indexes beyond u16 cannot be expressed; 0 means "no interface".
                let scope = u16::try_from(a.scope_id()).unwrap_or(0);
                raw[IP6_SCOPE..IP6_SCOPE + 2].copy_from_slice(&scope.to_le_bytes());
            }
        }
    }
}

fn decode_ip6(raw: &[u8]) -> Ipv6Addr {
    let mut groups = [0u16; 8];
    for (g, pair) in groups.iter_mut().zip(raw.chunks_exact(2)) {
        *g = u16::from_le_bytes([pair[0], pair[1]]);
    }
    Ipv6Addr::from(groups)
}

fn encode_ip6(ip: &Ipv6Addr, raw: &mut [u8]) {
    for (pair, g) in raw.chunks_exact_mut(2).zip(ip.segments()) {
        pair.copy_from_slice(&g.to_le_bytes());
    }
}

/// Reads the `__wasi_addr_t` at `ptr`: traps unless all 24 bytes are in memory (WAMR checks
/// the whole struct), then EPROTONOSUPPORT for an unknown kind.
pub fn read_addr(mem: &GuestMemory<'_>, ptr: u32) -> Result<SocketAddr> {
    let raw: [u8; ADDR_SIZE as usize] = mem.read_array(ptr)?;
    Ok(decode_addr(&raw)?)
}

/// Writes `addr` as an `__wasi_addr_t` at `ptr` (see [`encode_addr`]); traps unless all 24
/// bytes are in memory.
pub fn write_addr(mem: &mut GuestMemory<'_>, ptr: u32, addr: SocketAddr) -> Result<(), Trap> {
    mem.check(ptr, ADDR_SIZE)?;
    let mut raw = [0u8; ADDR_SIZE as usize];
    encode_addr(addr, &mut raw);
    // Only the bytes the encoding sets: the rest (padding) is the guest's, which in a shared
    // memory another thread may be writing.
    mem.write_bytes(ptr, &raw[..encoded_len(addr)])
}

/// How many leading bytes of an `__wasi_addr_t` [`encode_addr`] sets for `addr`; it leaves
/// the rest alone.
pub fn encoded_len(addr: SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => IP4_PORT + 2,
        SocketAddr::V6(a) if needs_scope(a.ip()) => IP6_SCOPE + 2,
        SocketAddr::V6(_) => IP6_PORT + 2,
    }
}

/// Writes an `__wasi_addr_info_t` at `ptr` (see [`encode_addr_info`]), setting the same bytes;
/// traps unless all 28 bytes are in memory.
pub fn write_addr_info(
    mem: &mut GuestMemory<'_>,
    ptr: u32,
    addr: SocketAddr,
    socktype: i32,
) -> Result<(), Trap> {
    mem.check(ptr, ADDR_INFO_SIZE)?;
    write_addr(mem, ptr, addr)?;
    mem.write(crate::memory::offset(ptr, ADDR_SIZE as usize)?, socktype)
}

/// Decodes an `__wasi_addr_ip_t` (a multicast group). As in WAMR, kind IPv6 is IPv6 and
/// every other kind is IPv4.
pub fn decode_addr_ip(raw: &[u8; ADDR_IP_SIZE as usize]) -> IpAddr {
    let kind = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    if kind == addr_type::IPV6 {
        IpAddr::V6(decode_ip6(&raw[UNION..UNION + 16]))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]))
    }
}

/// Reads the `__wasi_addr_ip_t` at `ptr`; traps unless all 20 bytes are in memory.
pub fn read_addr_ip(mem: &GuestMemory<'_>, ptr: u32) -> Result<IpAddr, Trap> {
    let raw: [u8; ADDR_IP_SIZE as usize] = mem.read_array(ptr)?;
    Ok(decode_addr_ip(&raw))
}

/// Encodes an `__wasi_addr_info_t`: the address as [`encode_addr`] does, then the socket
/// type ([`sock_type`]) at offset 24.
pub fn encode_addr_info(addr: SocketAddr, socktype: i32, raw: &mut [u8; ADDR_INFO_SIZE as usize]) {
    let (head, tail) = raw.split_at_mut(ADDR_SIZE as usize);
    encode_addr(addr, head.try_into().expect("split at ADDR_SIZE"));
    tail.copy_from_slice(&socktype.to_le_bytes());
}

/// `__wasi_addr_info_hints_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrInfoHints {
    /// [`sock_type`] wanted.
    pub socktype: i32,
    /// [`address_family`] wanted.
    pub family: i32,
    /// Whether the two fields above apply (byte 8, non-zero = yes).
    pub enabled: bool,
}

/// Decodes an `__wasi_addr_info_hints_t`; the padding bytes 9..12 are ignored.
pub fn decode_hints(raw: &[u8; ADDR_INFO_HINTS_SIZE as usize]) -> AddrInfoHints {
    AddrInfoHints {
        socktype: i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
        family: i32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]),
        enabled: raw[8] != 0,
    }
}

/// Reads the hints at `ptr`; traps unless all 12 bytes are in memory.
pub fn read_hints(mem: &GuestMemory<'_>, ptr: u32) -> Result<AddrInfoHints, Trap> {
    let raw: [u8; ADDR_INFO_HINTS_SIZE as usize] = mem.read_array(ptr)?;
    Ok(decode_hints(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILL: u8 = 0xEE;

    fn encoded(addr: &str) -> [u8; 24] {
        let mut raw = [FILL; 24];
        encode_addr(addr.parse().unwrap(), &mut raw);
        raw
    }

    #[test]
    fn ipv4_bytes_match_wamr() {
        // Spec §2.3: 127.0.0.1:44967 → 00 00 00 00 | 7f 00 00 01 | a7 af; bytes 10..24 untouched.
        let raw = encoded("127.0.0.1:44967");
        assert_eq!(raw[..10], [0, 0, 0, 0, 0x7f, 0, 0, 1, 0xa7, 0xaf]);
        assert!(raw[10..].iter().all(|&b| b == FILL), "{raw:02x?}");
        assert_eq!(decode_addr(&raw).unwrap(), "127.0.0.1:44967".parse().unwrap());
        // Port 1234 is d2 04, and octets stay in reading order.
        let raw = encoded("10.20.30.40:1234");
        assert_eq!(raw[4..10], [10, 20, 30, 40, 0xd2, 0x04]);
    }

    #[test]
    fn ipv6_bytes_match_wamr() {
        // Spec §2.3: [::1]:54823 → 01 00 00 00 | 00 ×14 | 01 00 | 27 d6; bytes 22..24 untouched.
        let raw = encoded("[::1]:54823");
        let mut want = vec![1, 0, 0, 0];
        want.extend([0u8; 14]);
        want.extend([0x01, 0x00, 0x27, 0xd6]);
        assert_eq!(raw[..22], want[..]);
        assert_eq!(raw[22..], [FILL, FILL]);
        assert_eq!(decode_addr(&raw).unwrap(), "[::1]:54823".parse().unwrap());
        // Each group is a little-endian u16: fe80::1 starts with 80 fe.
        let raw = encoded("[fe80::1:2]:80");
        assert_eq!(raw[4..6], [0x80, 0xfe]);
        assert_eq!(raw[16..20], [0x01, 0x00, 0x02, 0x00]);
        assert_eq!(raw[20..22], [80, 0]);
    }

    #[test]
    fn link_local_scope_ids_survive_in_the_padding() {
        let with_scope = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 7, 3, 9));
        let mut raw = [0xEEu8; 24];
        encode_addr(with_scope, &mut raw);
        assert_eq!(raw[22..24], [9, 0], "scope id as a LE u16 in the tail padding");
        let back = decode_addr(&raw).unwrap();
        assert_eq!(back, SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 7, 0, 9)));
        for group in ["ff02::1", "ff01::1"] {
            let a = SocketAddr::V6(SocketAddrV6::new(group.parse().unwrap(), 7, 0, 2));
            encode_addr(a, &mut raw);
            assert_eq!(decode_addr(&raw).unwrap(), a, "{group}");
        }
        // Any other address: the padding is neither written nor read (WAMR binaries may
        // leave garbage there).
        let global = SocketAddr::V6(SocketAddrV6::new("::1".parse().unwrap(), 7, 0, 9));
        let mut raw = [0xEEu8; 24];
        encode_addr(global, &mut raw);
        assert_eq!(raw[22..24], [0xEE, 0xEE]);
        assert_eq!(
            decode_addr(&raw).unwrap(),
            SocketAddr::V6(SocketAddrV6::new("::1".parse().unwrap(), 7, 0, 0))
        );
        // An interface index beyond u16 cannot be expressed: none rather than a wrong one.
        let big = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 7, 0, 70_000));
        encode_addr(big, &mut raw);
        assert_eq!(raw[22..24], [0, 0]);
    }

    #[test]
    fn encoded_len_covers_exactly_the_bytes_encode_sets() {
        let scoped = |ip: &str| SocketAddr::V6(SocketAddrV6::new(ip.parse().unwrap(), 80, 0, 3));
        let addrs = [
            "127.0.0.1:80".parse().unwrap(),
            "[::1]:80".parse().unwrap(),
            scoped("fe80::1"),
            scoped("ff02::1"),
        ];
        for addr in addrs {
            let a = addr.to_string();
            for fill in [0x00, 0xEE] {
                let mut raw = [fill; 24];
                encode_addr(addr, &mut raw);
                let n = encoded_len(addr);
                assert!(raw[n..].iter().all(|&b| b == fill), "{a}: a byte past {n} was set");
                let mut other = [!fill; 24];
                encode_addr(addr, &mut other);
                assert_eq!(raw[..n], other[..n], "{a}: a byte before {n} kept its old value");
            }
        }
    }

    #[test]
    fn unknown_kind_is_eprotonosupport() {
        let mut raw = encoded("127.0.0.1:1");
        raw[0] = 2;
        assert_eq!(decode_addr(&raw), Err(Errno::ProtoNoSupport));
        raw[0] = 0;
        raw[3] = 1; // kind 0x01000000
        assert_eq!(decode_addr(&raw), Err(Errno::ProtoNoSupport));
    }

    #[test]
    fn guest_memory_accessors_check_the_whole_struct() {
        let mut bytes = vec![FILL; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        write_addr(&mut mem, 40, "127.0.0.1:80".parse().unwrap()).unwrap();
        assert_eq!(read_addr(&mem, 40).unwrap(), "127.0.0.1:80".parse().unwrap());
        assert!(write_addr(&mut mem, 41, "127.0.0.1:80".parse().unwrap()).is_err(), "24 bytes at 41 > 64");
        assert!(matches!(read_addr(&mem, 41), Err(crate::Error::Trap(_))));
        assert!(read_addr_ip(&mem, 45).is_err());
        assert!(read_hints(&mem, 53).is_err());
        assert!(read_hints(&mem, 52).is_ok());
        // Writing sets the encoded bytes only, and an addr_info its socket type after them.
        write_addr_info(&mut mem, 0, "[::1]:53".parse().unwrap(), sock_type::SOCKET_DGRAM).unwrap();
        assert_eq!(mem.read_bytes(20, 8).unwrap(), [53, 0, FILL, FILL, 0, 0, 0, 0]);
        let before = mem.read_bytes(37, 27).unwrap();
        assert!(
            write_addr_info(&mut mem, 37, "[::1]:53".parse().unwrap(), 0).is_err(),
            "28 bytes at 37 > 64"
        );
        assert_eq!(mem.read_bytes(37, 27).unwrap(), before, "nothing written");
    }

    #[test]
    fn addr_ip_layout() {
        let mut raw = [0u8; 20];
        raw[4..8].copy_from_slice(&[224, 0, 0, 251]);
        assert_eq!(decode_addr_ip(&raw), "224.0.0.251".parse::<IpAddr>().unwrap());
        raw[0] = 7; // Not IPv6: WAMR treats it as IPv4.
        assert_eq!(decode_addr_ip(&raw), "224.0.0.251".parse::<IpAddr>().unwrap());
        raw[0] = 1;
        raw[4..20].copy_from_slice(&[0x02, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb, 0]);
        assert_eq!(decode_addr_ip(&raw), "ff02::fb".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn addr_info_and_hints_layout() {
        let mut raw = [FILL; 28];
        encode_addr_info("127.0.0.1:8080".parse().unwrap(), sock_type::SOCKET_STREAM, &mut raw);
        assert_eq!(raw[..10], [0, 0, 0, 0, 127, 0, 0, 1, 0x90, 0x1f]);
        assert!(raw[10..24].iter().all(|&b| b == FILL));
        assert_eq!(raw[24..], [1, 0, 0, 0]);
        encode_addr_info("[::1]:53".parse().unwrap(), sock_type::SOCKET_DGRAM, &mut raw);
        assert_eq!(raw[..4], [1, 0, 0, 0]);
        assert_eq!(raw[20..], [53, 0, FILL, FILL, 0, 0, 0, 0]);

        let raw = [0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc];
        assert_eq!(
            decode_hints(&raw),
            AddrInfoHints {
                socktype: sock_type::SOCKET_ANY,
                family: address_family::INET_UNSPEC,
                enabled: true
            }
        );
        let raw = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
        assert!(!decode_hints(&raw).enabled, "only byte 8 enables the hints");
    }
}
