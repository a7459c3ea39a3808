//! WasmEdge's numbering and memory layouts (docs/wasmedge-socket-abi.md doc 5, "doc" below),
//! and the checked reads and writes of them.
//!
//! WasmEdge answers a pointer outside memory with EFAULT, never a trap (doc 1.4), so every
//! guest pointer here is checked with [`in_memory`] (or read with [`fault`] mapping the
//! bounds error) before anything is done. Memory only grows during a call, so a range
//! checked once stays valid for the rest of it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::errno::{Errno, Result, Trap};
use crate::memory::{GuestMemory, Iovec, MAX_IOVECS};

/// Address families (doc 5.1): an `i32` argument, a byte in `addrinfo`/`sockaddr`, a `u16`
/// in the 128-byte storage.
pub mod family {
    #![allow(missing_docs)]
    pub const UNSPEC: u32 = 0;
    pub const INET4: u32 = 1;
    pub const INET6: u32 = 2;
    pub const UNIX: u32 = 3;
}

/// Socket types (doc 5.1). ANY only appears in resolver hints and results.
pub mod sock_type {
    #![allow(missing_docs)]
    pub const ANY: u32 = 0;
    pub const DGRAM: u32 = 1;
    pub const STREAM: u32 = 2;
}

/// Protocols in `addrinfo` (doc 5.1): not the IANA numbers.
pub mod protocol {
    #![allow(missing_docs)]
    pub const IP: u8 = 0;
    pub const TCP: u8 = 1;
    pub const UDP: u8 = 2;
}

/// `aiflags` bits of `addrinfo` (doc 5.1).
pub mod aiflags {
    #![allow(missing_docs)]
    pub const PASSIVE: u16 = 0x1;
    pub const CANONNAME: u16 = 0x2;
    pub const NUMERICHOST: u16 = 0x4;
    pub const NUMERICSERV: u16 = 0x8;
    pub const V4MAPPED: u16 = 0x10;
    pub const ALL: u16 = 0x20;
    pub const ADDRCONFIG: u16 = 0x40;
    /// Every defined bit.
    pub const DEFINED: u16 = 0x7f;
}

/// `riflags` bits WasmEdge accepts (RECV_PEEK, RECV_WAITALL); others are EINVAL.
pub const RIFLAGS_DEFINED: u32 = 0x3;

/// `sdflags` bits (RD, WR); others are EINVAL.
pub const SDFLAGS_DEFINED: u32 = 0x3;

/// The five `fdflags` bits `sock_accept_v2` accepts; others are EINVAL.
pub const FDFLAGS_DEFINED: u32 = 0x1f;

/// Socket option names at level 0 (SOL_SOCKET, the only level), doc 5.1.
pub mod sockopt {
    #![allow(missing_docs)]
    pub const SOL_SOCKET: u32 = 0;
    pub const SO_REUSEADDR: u32 = 0;
    pub const SO_TYPE: u32 = 1;
    pub const SO_ERROR: u32 = 2;
    pub const SO_DONTROUTE: u32 = 3;
    pub const SO_BROADCAST: u32 = 4;
    pub const SO_SNDBUF: u32 = 5;
    pub const SO_RCVBUF: u32 = 6;
    pub const SO_KEEPALIVE: u32 = 7;
    pub const SO_OOBINLINE: u32 = 8;
    pub const SO_LINGER: u32 = 9;
    pub const SO_RCVLOWAT: u32 = 10;
    pub const SO_RCVTIMEO: u32 = 11;
    pub const SO_SNDTIMEO: u32 = 12;
    pub const SO_ACCEPTCONN: u32 = 13;
    pub const SO_BINDTODEVICE: u32 = 14;
}

/// A `WasiAddress` (doc 5.2): `{u32 buf, u32 buf_len}`, 8 bytes.
pub const WASI_ADDRESS_SIZE: u32 = 8;

/// The V2 address storage (doc 5.3): a little-endian `u16` family, then the address.
pub const STORAGE_SIZE: u32 = 128;

/// Where the address starts inside the storage.
pub const STORAGE_ADDR_OFFSET: u32 = 2;

/// `addrinfo` (doc 5.5), 28 bytes.
pub const ADDRINFO_SIZE: u32 = 28;

/// `sockaddr` (doc 5.5), 12 bytes: family byte, `u32 sa_data_len` at 4, `u32 sa_data` at 8.
pub const SOCKADDR_SIZE: u32 = 12;

/// `sa_data` of an IPv4 result: the tail of Linux's `sockaddr_in` from the port on.
pub const SA_DATA_V4_LEN: u32 = 14;

/// `sa_data` of an IPv6 result: the tail of Linux's `sockaddr_in6` from the port on.
pub const SA_DATA_V6_LEN: u32 = 26;

/// A bounds error as WasmEdge reports it: EFAULT. Only for errors of memory accessors,
/// whose one kind of trap is "outside memory".
pub fn fault(_: Trap) -> Errno {
    Errno::Fault
}

/// EFAULT unless the `len` bytes at `ptr` lie inside memory.
pub fn in_memory(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<(), Errno> {
    mem.check(ptr, len).map_err(fault)
}

/// EFAULT unless `count` elements of `size` bytes at `ptr` lie inside memory.
pub fn array_in_memory(mem: &GuestMemory<'_>, ptr: u32, count: u32, size: u32) -> Result<(), Errno> {
    let len = u32::try_from(u64::from(count) * u64::from(size)).map_err(|_| Errno::Fault)?;
    in_memory(mem, ptr, len)
}

/// Reads a `u32` (EFAULT outside memory).
pub fn read_u32(mem: &GuestMemory<'_>, ptr: u32) -> Result<u32, Errno> {
    mem.read::<u32>(ptr).map_err(fault)
}

/// The iovec array at `ptr` (doc 5.4): more than 1024 entries is EINVAL, the array or any
/// buffer outside memory EFAULT.
pub fn iovecs(mem: &GuestMemory<'_>, ptr: u32, count: u32) -> Result<Vec<Iovec>> {
    if count > MAX_IOVECS {
        return Err(Errno::Inval.into());
    }
    // No overflow: count is at most MAX_IOVECS.
    let raw = mem.read_bytes(ptr, count * 8).map_err(fault)?;
    let iovs: Vec<Iovec> = raw
        .chunks_exact(8)
        .map(|c| Iovec {
            buf: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            len: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    for iov in &iovs {
        in_memory(mem, iov.buf, iov.len)?;
    }
    Ok(iovs)
}

/// A decoded `WasiAddress`: the guest buffer that holds (or receives) an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WasiAddress {
    /// Offset of the buffer.
    pub buf: u32,
    /// Its length, which says what the buffer holds: 4 (IPv4), 16 (IPv6), 128 (storage).
    pub len: u32,
}

impl WasiAddress {
    /// Reads the pair at `ptr`; EFAULT if it or the buffer it describes is outside memory.
    pub fn read(mem: &GuestMemory<'_>, ptr: u32) -> Result<WasiAddress, Errno> {
        let raw: [u8; 8] = mem.read_array(ptr).map_err(fault)?;
        let buf = u32::from_le_bytes(raw[..4].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(raw[4..].try_into().unwrap_or_default());
        in_memory(mem, buf, len)?;
        Ok(WasiAddress { buf, len })
    }
}

/// An IP address from the raw bytes WasmEdge passes (network order, doc 1.6).
fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        16 => <[u8; 16]>::try_from(bytes).ok().map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

/// The socket address an address argument of `sock_bind`, `sock_connect` or `sock_send_to`
/// names: the `WasiAddress` at `ptr` and the host-order `port` argument (bits above 15
/// ignored, as WasmEdge's `htons` does). The buffer's length says the family: 4 bytes IPv4,
/// 16 IPv6, and, when `storage` (the `_v2` functions), 128 a storage with the family
/// inside. Other lengths are EINVAL.
///
/// A storage family of AF_UNIX (3) is EAFNOSUPPORT (wasock's sockets are IPv4 or IPv6 only);
/// any other unknown family is EINVAL, where WasmEdge reaches an "unreachable" assertion.
pub fn read_socket_addr(mem: &GuestMemory<'_>, ptr: u32, port: u32, storage: bool) -> Result<SocketAddr> {
    let addr = WasiAddress::read(mem, ptr)?;
    let port = port as u16;
    let ip = match addr.len {
        4 | 16 => ip_from(&mem.read_bytes(addr.buf, addr.len).map_err(fault)?),
        STORAGE_SIZE if storage => {
            let raw: [u8; 18] = mem.read_array(addr.buf).map_err(fault)?;
            let family = u32::from(u16::from_le_bytes([raw[0], raw[1]]));
            match family {
                family::INET4 => ip_from(&raw[2..6]),
                family::INET6 => ip_from(&raw[2..18]),
                family::UNIX => return Err(Errno::AfNoSupport.into()),
                _ => return Err(Errno::Inval.into()),
            }
        }
        _ => return Err(Errno::Inval.into()),
    };
    let ip = ip.ok_or(Errno::Inval)?;
    Ok(SocketAddr::new(ip, port))
}

/// The raw network-order bytes of an IP address.
pub fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// The family number of an IP address (1 or 2).
pub fn family_of(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { family::INET4 } else { family::INET6 }
}

/// Writes `ip` into a 128-byte storage at `buf`: the family `u16` at 0 and the address at 2;
/// the other bytes keep their contents, as in WasmEdge. The caller checked the 128 bytes.
pub fn write_storage(mem: &mut GuestMemory<'_>, buf: u32, ip: IpAddr) -> Result<(), Errno> {
    mem.write_bytes(buf + STORAGE_ADDR_OFFSET, &ip_bytes(ip)).map_err(fault)?;
    mem.write(buf, family_of(ip) as u16).map_err(fault)
}

/// The `sa_data` bytes WasmEdge writes for a resolved address (doc 5.5): the tail of
/// Linux's `sockaddr_in`/`sockaddr_in6` from the port on, port big-endian, IPv6 flow info in
/// network order and the scope id in host (little-endian) order.
pub fn sa_data(addr: SocketAddr) -> Vec<u8> {
    let mut out = addr.port().to_be_bytes().to_vec();
    match addr {
        SocketAddr::V4(v4) => {
            out.extend_from_slice(&v4.ip().octets());
            out.resize(SA_DATA_V4_LEN as usize, 0);
        }
        SocketAddr::V6(v6) => {
            out.extend_from_slice(&v6.flowinfo().to_be_bytes());
            out.extend_from_slice(&v6.ip().octets());
            out.extend_from_slice(&v6.scope_id().to_le_bytes());
        }
    }
    out
}

/// The `ai_addrlen` WasmEdge reports for a result: the host's sockaddr length (Linux: 16 or
/// 28).
pub fn host_addrlen(addr: SocketAddr) -> u32 {
    match addr {
        SocketAddr::V4(_) => 16,
        SocketAddr::V6(_) => 28,
    }
}

/// The fields of a hints `addrinfo` that WasmEdge reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// `ai_flags`.
    pub flags: u16,
    /// `ai_family` (0, 1, 2).
    pub family: u8,
    /// `ai_socktype` (0, 1, 2).
    pub socktype: u8,
    /// `ai_protocol` (0, 1, 2).
    pub protocol: u8,
}

impl Hints {
    /// Reads the hints `addrinfo` at `ptr` (all 28 bytes must be in memory: EFAULT).
    pub fn read(mem: &GuestMemory<'_>, ptr: u32) -> Result<Hints, Errno> {
        let raw: [u8; ADDRINFO_SIZE as usize] = mem.read_array(ptr).map_err(fault)?;
        Ok(Hints {
            flags: u16::from_le_bytes([raw[0], raw[1]]),
            family: raw[2],
            socktype: raw[3],
            protocol: raw[4],
        })
    }
}

/// One result slot the guest provided (doc 8.2): where its `addrinfo`, its `sockaddr` and
/// the `sa_data` buffer are, and how long the guest declared that buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultSlot {
    /// The `addrinfo`.
    pub addrinfo: u32,
    /// Its `ai_addr`: the `sockaddr`.
    pub sockaddr: u32,
    /// The `sockaddr`'s `sa_data` buffer.
    pub sa_data: u32,
    /// The `sockaddr`'s `sa_data_len` as the guest set it.
    pub sa_data_len: u32,
    /// `ai_next`.
    pub next: u32,
}

impl ResultSlot {
    /// Reads the slot whose `addrinfo` is at `ptr`; EFAULT unless the `addrinfo`, its
    /// `sockaddr`, the `sa_data` buffer and the canonical-name buffer (with the lengths the
    /// guest declared) are in memory, as WasmEdge checks.
    pub fn read(mem: &GuestMemory<'_>, ptr: u32) -> Result<ResultSlot, Errno> {
        let ai: [u8; ADDRINFO_SIZE as usize] = mem.read_array(ptr).map_err(fault)?;
        let field = |at: usize| u32::from_le_bytes([ai[at], ai[at + 1], ai[at + 2], ai[at + 3]]);
        let (sockaddr, canonname, canonname_len, next) = (field(12), field(16), field(20), field(24));
        in_memory(mem, canonname, canonname_len)?;
        let sa: [u8; SOCKADDR_SIZE as usize] = mem.read_array(sockaddr).map_err(fault)?;
        let sa_data_len = u32::from_le_bytes([sa[4], sa[5], sa[6], sa[7]]);
        let sa_data = u32::from_le_bytes([sa[8], sa[9], sa[10], sa[11]]);
        in_memory(mem, sa_data, sa_data_len)?;
        Ok(ResultSlot { addrinfo: ptr, sockaddr, sa_data, sa_data_len, next })
    }
}

/// One resolved address, as written into a result slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultEntry {
    /// `ai_flags` (WasmEdge copies the host result's, which are the hints' flags).
    pub flags: u16,
    /// The address and port.
    pub addr: SocketAddr,
    /// `ai_socktype` (1 DGRAM, 2 STREAM).
    pub socktype: u8,
    /// `ai_protocol` (0, 1 TCP, 2 UDP).
    pub protocol: u8,
}

/// Writes `entry` into `slot` (doc 8.3): the `addrinfo` fields, no canonical name
/// (`ai_canonname_len` 0), the `sockaddr`'s family and `sa_data_len` (the full 14 or 26,
/// as WasmEdge reports), and as much of `sa_data` as the guest declared room for. WasmEdge
/// writes all 14 or 26 bytes whatever the declared length (doc 8.3), which overruns a C
/// guest's `char sa_data[14]` with an IPv6 result; we never write past the declaration.
/// Pointer fields are left alone.
pub fn write_result(mem: &mut GuestMemory<'_>, slot: &ResultSlot, entry: &ResultEntry) -> Result<(), Errno> {
    let ai = slot.addrinfo;
    let family = family_of(entry.addr.ip()) as u8;
    mem.write(ai, entry.flags).map_err(fault)?;
    mem.write_bytes(ai + 2, &[family, entry.socktype, entry.protocol]).map_err(fault)?;
    mem.write(ai + 8, host_addrlen(entry.addr)).map_err(fault)?;
    mem.write(ai + 20, 0u32).map_err(fault)?;
    let data = sa_data(entry.addr);
    mem.write(slot.sockaddr, family).map_err(fault)?;
    mem.write(slot.sockaddr + 4, data.len() as u32).map_err(fault)?;
    let room = (slot.sa_data_len as usize).min(data.len());
    mem.write_bytes(slot.sa_data, &data[..room]).map_err(fault)
}
