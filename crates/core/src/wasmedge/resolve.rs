//! `sock_getaddrinfo` (doc 8): name resolution through the host's getaddrinfo, under
//! `--allow-resolve` (see [`crate::sock::lookup`]; numeric names must be allowed too).
//!
//! The guest allocates everything: a chain of `addrinfo` entries, each with a `sockaddr` and
//! buffers, which the host fills. We follow WasmEdge's layouts, its `sa_data` bytes and its
//! errnos (77..87 for resolver failures), and differ where WasmEdge is unsafe or unbounded:
//!
//! - `sa_data` is written only as far as the guest's `sa_data_len` says (WasmEdge writes 14
//!   or 26 bytes regardless); `sa_data_len` still reports the full 14 or 26.
//! - No canonical name is reported (`ai_canonname_len` 0): the host lookup does not ask for
//!   one, and WasmEdge writes it without looking at the buffer's length.
//! - The chain is walked only as far as there are results to write (at most
//!   [`MAX_RESULTS`]), after the lookup, not for the whole capacity before it: a capacity of
//!   4 billion with a chain that loops on itself costs nothing.
//! - An empty node with a service is looked up as the numeric address getaddrinfo would use
//!   (`0.0.0.0`/`::` with AI_PASSIVE, else `127.0.0.1`/`::1`), which `--allow-resolve` must
//!   allow like any numeric name.
//! - The protocol hint filters the results; results that are not stream or datagram are
//!   dropped; AI_V4MAPPED, AI_ALL and AI_ADDRCONFIG are accepted and have no effect.

use std::net::IpAddr;

use super::abi::{self, Hints, ResultEntry, ResultSlot, aiflags, in_memory, protocol, sock_type};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::sock::{self, LookupHints, MAX_NAME_LEN};
use crate::sys::AddrInfoError;

/// The most results written per call.
pub const MAX_RESULTS: usize = 256;

/// How many getaddrinfo entries we look at, including the ones we drop (SOCK_RAW, ...).
const MAX_WALKED: usize = 4 * MAX_RESULTS;

/// glibc's EAI_NODATA and EAI_ADDRFAMILY (GNU extensions the libc crate lacks on Linux).
const EAI_NODATA: libc::c_int = -5;
const EAI_ADDRFAMILY: libc::c_int = -9;

/// The name in a (pointer, length) range: the bytes up to the first NUL, or all of them
/// (doc 8.1). EFAULT if the range is outside memory. At most [`MAX_NAME_LEN`] + 1 bytes
/// are copied; a longer name is refused by the lookup.
fn name(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<Vec<u8>> {
    in_memory(mem, ptr, len)?;
    let mut bytes = mem.read_bytes(ptr, len.min(MAX_NAME_LEN as u32 + 1)).map_err(abi::fault)?;
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(nul);
    }
    Ok(bytes)
}

/// WasmEdge's errno for a failed host getaddrinfo (doc 8.4). Codes WasmEdge does not map
/// (it asserts) are AIFAIL.
pub fn lookup_errno(e: &AddrInfoError) -> Errno {
    match e {
        AddrInfoError::System(_) => Errno::AiSystem,
        AddrInfoError::Gai(code) => match *code {
            EAI_ADDRFAMILY => Errno::AiAddrFamily,
            libc::EAI_AGAIN => Errno::AiAgain,
            libc::EAI_BADFLAGS => Errno::AiBadFlag,
            libc::EAI_FAIL => Errno::AiFail,
            libc::EAI_FAMILY => Errno::AiFamily,
            libc::EAI_MEMORY => Errno::AiMemory,
            EAI_NODATA => Errno::AiNoData,
            libc::EAI_NONAME => Errno::AiNoName,
            libc::EAI_SERVICE => Errno::AiService,
            libc::EAI_SOCKTYPE => Errno::AiSockType,
            _ => Errno::AiFail,
        },
    }
}

/// Checks the hints as WasmEdge does, in its order (doc 8.1), and converts them.
fn check_hints(hints: &Hints, node_empty: bool) -> Result<LookupHints> {
    if hints.flags & !aiflags::DEFINED != 0 || (hints.flags & aiflags::CANONNAME != 0 && node_empty) {
        return Err(Errno::AiBadFlag.into());
    }
    let family = match u32::from(hints.family) {
        abi::family::UNSPEC => libc::AF_UNSPEC,
        abi::family::INET4 => libc::AF_INET,
        abi::family::INET6 => libc::AF_INET6,
        _ => return Err(Errno::AiFamily.into()),
    };
    if hints.protocol > protocol::UDP {
        return Err(Errno::NoSys.into());
    }
    let socktype = match u32::from(hints.socktype) {
        sock_type::ANY => 0,
        sock_type::DGRAM => libc::SOCK_DGRAM,
        sock_type::STREAM => libc::SOCK_STREAM,
        _ => return Err(Errno::NoSys.into()),
    };
    Ok(LookupHints { family, socktype })
}

/// The numeric address getaddrinfo uses for an empty node: the wildcard with AI_PASSIVE,
/// else loopback; IPv6 only when the hints ask for IPv6.
fn implicit_node(hints: &Hints) -> &'static [u8] {
    let v6 = u32::from(hints.family) == abi::family::INET6;
    match (hints.flags & aiflags::PASSIVE != 0, v6) {
        (true, false) => b"0.0.0.0",
        (true, true) => b"::",
        (false, false) => b"127.0.0.1",
        (false, true) => b"::1",
    }
}

/// `sock_getaddrinfo(node, node_len, service, service_len, *hints, *res, max_res_len,
/// *res_len)`: `*res` holds the address of the first of the guest's `max_res_len` result
/// entries; up to that many results are written, and their number to `*res_len`.
///
/// Errors: EACCES when `--allow-resolve` does not allow the name; AINONAME (84) for two
/// empty names, AIMEMORY (82) for capacity 0, AIBADFLAG/AIFAMILY/ENOSYS for bad hints
/// (doc 8.1), the AI errnos 77..87 for resolver failures, EFAULT for any range outside
/// memory.
#[allow(clippy::too_many_arguments)]
pub fn sock_getaddrinfo(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    node: u32,
    node_len: u32,
    service: u32,
    service_len: u32,
    hints: u32,
    res: u32,
    max_res_len: u32,
    res_len: u32,
) -> Result<()> {
    let node = name(mem, node, node_len)?;
    let service = name(mem, service, service_len)?;
    if node.is_empty() && service.is_empty() {
        return Err(Errno::AiNoName.into());
    }
    let hints = Hints::read(mem, hints)?;
    let lookup_hints = check_hints(&hints, node.is_empty())?;
    let first = abi::read_u32(mem, res)?;
    if max_res_len == 0 {
        return Err(Errno::AiMemory.into());
    }
    in_memory(mem, res_len, 4)?;

    let host = if node.is_empty() { implicit_node(&hints).to_vec() } else { node };
    if hints.flags & aiflags::NUMERICHOST != 0
        && std::str::from_utf8(&host).ok().and_then(|h| h.parse::<IpAddr>().ok()).is_none()
    {
        return Err(Errno::AiNoName.into());
    }
    if hints.flags & aiflags::NUMERICSERV != 0
        && !service.is_empty()
        && !service.iter().all(u8::is_ascii_digit)
    {
        return Err(Errno::AiNoName.into());
    }
    let service = (!service.is_empty()).then_some(&service[..]);
    let found = sock::lookup(cx, "sock_getaddrinfo", &host, service, lookup_hints, MAX_WALKED)?
        .map_err(|e| lookup_errno(&e))?;

    let entries: Vec<ResultEntry> = found
        .into_iter()
        .filter_map(|ai| {
            let socktype = match ai.socktype {
                libc::SOCK_STREAM => sock_type::STREAM as u8,
                libc::SOCK_DGRAM => sock_type::DGRAM as u8,
                _ => return None,
            };
            let proto = match ai.protocol {
                0 => protocol::IP,
                libc::IPPROTO_TCP => protocol::TCP,
                libc::IPPROTO_UDP => protocol::UDP,
                _ => return None,
            };
            if hints.protocol != protocol::IP && proto != hints.protocol {
                return None;
            }
            Some(ResultEntry { flags: hints.flags, addr: ai.addr, socktype, protocol: proto })
        })
        .take(MAX_RESULTS.min(max_res_len as usize))
        .collect();

    // Every slot is checked before the first is written.
    let mut slots = Vec::with_capacity(entries.len());
    let mut at = first;
    for _ in 0..entries.len() {
        let slot = ResultSlot::read(mem, at)?;
        at = slot.next;
        slots.push(slot);
    }
    for (slot, entry) in slots.iter().zip(&entries) {
        abi::write_result(mem, slot, entry)?;
    }
    mem.write(res_len, entries.len() as u32).map_err(abi::fault)?;
    Ok(())
}
