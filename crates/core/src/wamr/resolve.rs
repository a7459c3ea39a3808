//! `sock_addr_resolve`: name resolution through the host's getaddrinfo (spec §5.2), under
//! `--allow-resolve` (see [`crate::sock::lookup`]).

use super::abi::{self, address_family, sock_type};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result, Trap};
use crate::memory::{self, GuestMemory};
use crate::sock::{self, LookupHints, MAX_NAME_LEN};
use crate::sys;

/// The most results kept on the host per call; `*total` never exceeds it.
pub const MAX_RESULTS: usize = 256;

/// How many getaddrinfo entries we look at, including the ones we drop (SOCK_RAW, ...).
const MAX_WALKED: usize = 4 * MAX_RESULTS;

/// `sock_addr_resolve(host, service, *hints, *addr_info, capacity, *total)`.
///
/// `host` and `service` are NUL-terminated; an empty service means none. With
/// `hints_enabled`, family INET4 asks for IPv4, any other family except INET_UNSPEC for IPv6,
/// type STREAM for streams and any other type except SOCKET_ANY for datagrams (WAMR's
/// mapping). Results that are not IPv4/IPv6 or not stream/datagram (or whose protocol is not
/// TCP, UDP or 0) are dropped. Up to `capacity` results are written, and `*total` is the
/// number of usable results, which may be larger: the guest retries with a bigger buffer
/// (silent truncation, as in WAMR). Capacity 0 just reports `*total` (WAMR divides by zero).
///
/// Errors: EACCES when the name is not allowed; EINVAL for a string that is not UTF-8 and
/// for failed lookups (EAI_NONAME included), except EAI_AGAIN → EAGAIN, EAI_FAIL → EFAULT,
/// EAI_MEMORY → ENOMEM and EAI_SYSTEM → its errno.
#[allow(clippy::too_many_arguments)]
pub fn sock_addr_resolve(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    host: u32,
    service: u32,
    hints: u32,
    addr_info: u32,
    addr_info_size: u32,
    max_info_size: u32,
) -> Result<()> {
    let host = mem.read_cstr(host, MAX_NAME_LEN)?;
    let service = mem.read_cstr(service, MAX_NAME_LEN)?;
    // Longer names cannot resolve (NI_MAXHOST is 1025); they are refused without a copy.
    let (Some(host), Some(service)) = (host, service) else {
        return Err(Errno::Inval.into());
    };
    let hints = abi::read_hints(mem, hints)?;
    let out_len = addr_info_size.checked_mul(abi::ADDR_INFO_SIZE).ok_or_else(|| {
        Trap(format!(
            "out of bounds memory access: sock_addr_resolve capacity {addr_info_size} entries of {} bytes \
             is larger than linear memory",
            abi::ADDR_INFO_SIZE
        ))
    })?;
    mem.check(addr_info, out_len)?;
    mem.check(max_info_size, 4)?;

    let hints = match hints.enabled {
        false => LookupHints::default(),
        true => LookupHints {
            family: match hints.family {
                address_family::INET_UNSPEC => libc::AF_UNSPEC,
                address_family::INET4 => libc::AF_INET,
                _ => libc::AF_INET6,
            },
            socktype: match hints.socktype {
                sock_type::SOCKET_ANY => 0,
                sock_type::SOCKET_STREAM => libc::SOCK_STREAM,
                _ => libc::SOCK_DGRAM,
            },
        },
    };
    let found = sock::lookup(cx, "sock_addr_resolve", &host, Some(&service), hints, MAX_WALKED)?
        .map_err(lookup_errno)?;

    let usable: Vec<(std::net::SocketAddr, i32)> = found
        .into_iter()
        .filter_map(|ai| {
            let kind = match ai.socktype {
                libc::SOCK_STREAM => sock_type::SOCKET_STREAM,
                libc::SOCK_DGRAM => sock_type::SOCKET_DGRAM,
                _ => return None,
            };
            matches!(ai.protocol, 0 | libc::IPPROTO_TCP | libc::IPPROTO_UDP).then_some((ai.addr, kind))
        })
        .take(MAX_RESULTS)
        .collect();

    for (i, (addr, kind)) in usable.iter().take(addr_info_size as usize).enumerate() {
        abi::write_addr_info(mem, memory::element(addr_info, i, abi::ADDR_INFO_SIZE)?, *addr, *kind)?;
    }
    mem.write(max_info_size, usable.len() as u32)?;
    Ok(())
}

/// WAMR's mapping of getaddrinfo failures (spec §5.2).
fn lookup_errno(e: sys::AddrInfoError) -> Errno {
    match e {
        sys::AddrInfoError::System(io) => io.into(),
        sys::AddrInfoError::Gai(libc::EAI_AGAIN) => Errno::Again,
        sys::AddrInfoError::Gai(libc::EAI_FAIL) => Errno::Fault,
        sys::AddrInfoError::Gai(libc::EAI_MEMORY) => Errno::NoMem,
        sys::AddrInfoError::Gai(_) => Errno::Inval,
    }
}
