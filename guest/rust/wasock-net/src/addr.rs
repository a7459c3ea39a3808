//! The address structs of WAMR's socket extension (spec §2) and their conversion to and from
//! `std::net`. Every field is a number in HOST byte order, which on wasm means little-endian;
//! nothing here is in network byte order (spec §2.3). The encoders are plain byte functions,
//! so the unit tests run on any target.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// `__wasi_addr_type_t`.
const KIND_IPV4: u32 = 0;
const KIND_IPV6: u32 = 1;

/// `__wasi_address_family_t`, used in resolve hints and by `sock_open`.
pub(crate) const FAMILY_INET4: i32 = 0;
pub(crate) const FAMILY_INET6: i32 = 1;
pub(crate) const FAMILY_UNSPEC: i32 = 2;

/// `__wasi_sock_type_t`.
pub(crate) const SOCK_DGRAM: i32 = 0;
pub(crate) const SOCK_STREAM: i32 = 1;

/// `__wasi_addr_t`: u32 kind @0, then IPv4 octets @4..8 + port @8, or eight IPv6 groups
/// @4..20 + port @20; 24 bytes, 4-aligned.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WasiAddr(pub(crate) [u8; 24]);

/// `__wasi_addr_ip_t` (a multicast group): u32 kind @0, the address @4; 20 bytes.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WasiAddrIp(pub(crate) [u8; 20]);

/// `__wasi_addr_info_t`: a `__wasi_addr_t` @0 and an i32 socket type @24; 28 bytes.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WasiAddrInfo(pub(crate) [u8; 28]);

/// `__wasi_addr_info_hints_t`: i32 type @0, i32 family @4, u8 hints_enabled @8; 12 bytes.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WasiHints(pub(crate) [u8; 12]);

impl WasiAddr {
    /// An all-zero buffer for the host to fill. The host writes only the kind and the member of
    /// its family, so zeroing keeps the unused bytes deterministic.
    pub(crate) fn zeroed() -> Self {
        WasiAddr([0; 24])
    }

    pub(crate) fn encode(addr: &SocketAddr) -> Self {
        let mut bytes = [0u8; 24];
        match addr {
            SocketAddr::V4(v4) => {
                bytes[0..4].copy_from_slice(&KIND_IPV4.to_le_bytes());
                bytes[4..8].copy_from_slice(&v4.ip().octets());
                bytes[8..10].copy_from_slice(&v4.port().to_le_bytes());
            }
            SocketAddr::V6(v6) => {
                bytes[0..4].copy_from_slice(&KIND_IPV6.to_le_bytes());
                write_ipv6_groups(&mut bytes[4..20], v6.ip());
                bytes[20..22].copy_from_slice(&v6.port().to_le_bytes());
                // wasock keeps a link-local address's interface in the tail padding; WAMR
                // ignores those bytes (and loses scope ids).
                if needs_scope(v6.ip()) {
                    let scope = u16::try_from(v6.scope_id()).unwrap_or(0);
                    bytes[22..24].copy_from_slice(&scope.to_le_bytes());
                }
            }
        }
        WasiAddr(bytes)
    }

    /// Fails with `InvalidData` when the runtime wrote an unknown kind.
    pub(crate) fn decode(&self) -> io::Result<SocketAddr> {
        let bytes = &self.0;
        match u32_at(bytes, 0) {
            KIND_IPV4 => {
                let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16_at(bytes, 8))))
            }
            KIND_IPV6 => {
                let ip = read_ipv6_groups(&bytes[4..20]);
                // No flow info; the scope id of a link-local address rides in the tail padding
                // (wasock writes it; WAMR writes nothing there, spec §11.10).
                let scope = if needs_scope(&ip) { u32::from(u16_at(bytes, 22)) } else { 0 };
                Ok(SocketAddr::V6(SocketAddrV6::new(ip, u16_at(bytes, 20), 0, scope)))
            }
            kind => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the runtime returned a socket address of unknown kind {kind} (expected 0 or 1)"),
            )),
        }
    }
}

/// Link-local unicast and interface-/link-local multicast: addresses that need an interface.
fn needs_scope(ip: &Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    first & 0xffc0 == 0xfe80 || first & 0xff0f == 0xff01 || first & 0xff0f == 0xff02
}

impl WasiAddrIp {
    pub(crate) fn encode(ip: &IpAddr) -> Self {
        let mut bytes = [0u8; 20];
        match ip {
            IpAddr::V4(v4) => {
                bytes[0..4].copy_from_slice(&KIND_IPV4.to_le_bytes());
                bytes[4..8].copy_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                bytes[0..4].copy_from_slice(&KIND_IPV6.to_le_bytes());
                write_ipv6_groups(&mut bytes[4..20], v6);
            }
        }
        WasiAddrIp(bytes)
    }
}

impl WasiAddrInfo {
    pub(crate) fn zeroed() -> Self {
        WasiAddrInfo([0; 28])
    }

    /// The address and the `__wasi_sock_type_t` of one resolve result.
    pub(crate) fn decode(&self) -> io::Result<(SocketAddr, i32)> {
        let mut addr = [0u8; 24];
        addr.copy_from_slice(&self.0[0..24]);
        let socktype = i32::from_le_bytes([self.0[24], self.0[25], self.0[26], self.0[27]]);
        Ok((WasiAddr(addr).decode()?, socktype))
    }
}

impl WasiHints {
    /// Hints that the runtime applies (`hints_enabled` = 1).
    pub(crate) fn new(socktype: i32, family: i32) -> Self {
        let mut bytes = [0u8; 12];
        bytes[0..4].copy_from_slice(&socktype.to_le_bytes());
        bytes[4..8].copy_from_slice(&family.to_le_bytes());
        bytes[8] = 1;
        WasiHints(bytes)
    }
}

/// The eight groups in reading order, each a little-endian u16 holding the group's value.
fn write_ipv6_groups(out: &mut [u8], ip: &Ipv6Addr) {
    for (chunk, group) in out.chunks_exact_mut(2).zip(ip.segments()) {
        chunk.copy_from_slice(&group.to_le_bytes());
    }
}

fn read_ipv6_groups(bytes: &[u8]) -> Ipv6Addr {
    let mut groups = [0u16; 8];
    for (group, chunk) in groups.iter_mut().zip(bytes.chunks_exact(2)) {
        *group = u16::from_le_bytes([chunk[0], chunk[1]]);
    }
    Ipv6Addr::from(groups)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The `__wasi_address_family_t` that `sock_open` needs for `addr`.
pub(crate) fn family_of(addr: &SocketAddr) -> i32 {
    match addr {
        SocketAddr::V4(_) => FAMILY_INET4,
        SocketAddr::V6(_) => FAMILY_INET6,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn link_local_scope_ids_ride_in_the_padding() {
        let a: SocketAddr = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 0, 3));
        let raw = WasiAddr::encode(&a);
        assert_eq!(raw.0[22..24], [3, 0]);
        assert_eq!(raw.decode().unwrap(), a);
        let global: SocketAddr = "[::1]:80".parse().unwrap();
        let mut raw = WasiAddr::encode(&global);
        assert_eq!(raw.0[22..24], [0, 0]);
        raw.0[22] = 9; // garbage in the padding of a global address is ignored
        assert_eq!(raw.decode().unwrap(), global);
    }

    use super::*;
    use std::mem::{align_of, size_of};

    #[test]
    fn struct_sizes_match_wamr() {
        assert_eq!((size_of::<WasiAddr>(), align_of::<WasiAddr>()), (24, 4));
        assert_eq!((size_of::<WasiAddrIp>(), align_of::<WasiAddrIp>()), (20, 4));
        assert_eq!((size_of::<WasiAddrInfo>(), align_of::<WasiAddrInfo>()), (28, 4));
        assert_eq!((size_of::<WasiHints>(), align_of::<WasiHints>()), (12, 4));
    }

    #[test]
    fn ipv4_bytes_are_octets_in_order_and_port_little_endian() {
        // The bytes WAMR's sock_addr_local returned for 127.0.0.1:44967 (spec §2.3).
        let addr: SocketAddr = "127.0.0.1:44967".parse().unwrap();
        let encoded = WasiAddr::encode(&addr);
        let mut expected = [0u8; 24];
        expected[4..10].copy_from_slice(&[0x7f, 0, 0, 1, 0xa7, 0xaf]);
        assert_eq!(encoded.0, expected);
        assert_eq!(encoded.decode().unwrap(), addr);
    }

    #[test]
    fn ipv6_groups_and_port_are_little_endian_u16s() {
        // [::1]:54823 as WAMR returned it (spec §2.3).
        let addr: SocketAddr = "[::1]:54823".parse().unwrap();
        let encoded = WasiAddr::encode(&addr);
        let mut expected = [0u8; 24];
        expected[0] = 1;
        expected[18] = 1;
        expected[20..22].copy_from_slice(&[0x27, 0xd6]);
        assert_eq!(encoded.0, expected);
        assert_eq!(encoded.decode().unwrap(), addr);

        // fe80::1 has n0 = 0xfe80, stored as `80 fe`.
        let link_local: SocketAddr = "[fe80::1:2]:1234".parse().unwrap();
        let bytes = WasiAddr::encode(&link_local).0;
        assert_eq!(&bytes[4..6], &[0x80, 0xfe]);
        assert_eq!(&bytes[16..20], &[0x01, 0x00, 0x02, 0x00]);
        assert_eq!(&bytes[20..22], &[0xd2, 0x04]);
    }

    #[test]
    fn decode_ignores_bytes_the_host_leaves_alone() {
        // The host writes only kind + its family's member; the rest keeps the caller's fill.
        let mut bytes = [0xee_u8; 24];
        bytes[0..4].copy_from_slice(&0u32.to_le_bytes());
        bytes[4..10].copy_from_slice(&[10, 1, 2, 3, 0x50, 0x00]);
        assert_eq!(WasiAddr(bytes).decode().unwrap(), "10.1.2.3:80".parse::<SocketAddr>().unwrap());
    }

    #[test]
    fn decode_rejects_unknown_kind() {
        let mut bytes = [0u8; 24];
        bytes[0] = 2;
        let err = WasiAddr(bytes).decode().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("unknown kind 2"), "{err}");
    }

    #[test]
    fn multicast_group_layout() {
        let v4 = WasiAddrIp::encode(&"239.1.2.3".parse().unwrap()).0;
        assert_eq!(&v4[0..8], &[0, 0, 0, 0, 239, 1, 2, 3]);
        let v6 = WasiAddrIp::encode(&"ff02::1234".parse().unwrap()).0;
        assert_eq!(&v6[0..6], &[1, 0, 0, 0, 0x02, 0xff]);
        assert_eq!(&v6[18..20], &[0x34, 0x12]);
    }

    #[test]
    fn addr_info_decodes_address_and_type() {
        let mut bytes = [0u8; 28];
        bytes[..24].copy_from_slice(&WasiAddr::encode(&"[::1]:8080".parse().unwrap()).0);
        bytes[24..28].copy_from_slice(&SOCK_STREAM.to_le_bytes());
        let (addr, socktype) = WasiAddrInfo(bytes).decode().unwrap();
        assert_eq!(addr, "[::1]:8080".parse::<SocketAddr>().unwrap());
        assert_eq!(socktype, SOCK_STREAM);
    }

    #[test]
    fn hints_layout() {
        let hints = WasiHints::new(SOCK_STREAM, FAMILY_UNSPEC).0;
        assert_eq!(hints, [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]);
        let any_dgram = WasiHints::new(-1, FAMILY_INET6).0;
        assert_eq!(&any_dgram[0..9], &[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1]);
    }
}
