//! `sock_addr_resolve`: name resolution through the host's getaddrinfo (spec §5.2).
//!
//! The name must match `--allow-resolve` before anything is looked up (numeric addresses
//! too, as in WAMR), and what is looked up is the name the allow-list judged: lower case,
//! without a trailing dot. The lookup runs on a worker thread that a stopped instance
//! abandons, so `--timeout` ends a guest waiting on a slow resolver.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::sync::{Arc, mpsc};

use super::abi::{self, address_family, sock_type};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result, Trap};
use crate::escape;
use crate::memory::{self, GuestMemory};
use crate::policy;
use crate::sys;

/// The most results kept on the host per call; `*total` never exceeds it.
pub const MAX_RESULTS: usize = 256;

/// The longest host or service name accepted (EINVAL beyond, as a failed lookup would be).
const MAX_NAME_LEN: usize = 1024;

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

    let host = String::from_utf8(host).map_err(|_| Errno::Inval)?;
    let service = String::from_utf8(service).map_err(|_| Errno::Inval)?;
    if !cx.policy.allow_resolve.allows(&host) {
        if cx.tracing() {
            let shown = escape::guest_text(&host);
            cx.trace(format_args!("denied: resolving \"{shown}\" (allow it with --allow-resolve={shown})"));
        }
        return Err(Errno::Acces.into());
    }
    let host = policy::lookup_name(&host).ok_or(Errno::Inval)?;

    let (family, socktype) = match hints.enabled {
        false => (0, 0),
        true => (
            match hints.family {
                address_family::INET_UNSPEC => libc::AF_UNSPEC,
                address_family::INET4 => libc::AF_INET,
                _ => libc::AF_INET6,
            },
            match hints.socktype {
                sock_type::SOCKET_ANY => 0,
                sock_type::SOCKET_STREAM => libc::SOCK_STREAM,
                _ => libc::SOCK_DGRAM,
            },
        ),
    };
    // read_cstr stops at the first NUL, so neither string contains one.
    let c_host = CString::new(host).map_err(|_| Errno::Inval)?;
    let c_service = match service.is_empty() {
        true => None,
        false => Some(CString::new(service).map_err(|_| Errno::Inval)?),
    };

    let found = lookup(cx, c_host, c_service, family, socktype)?.map_err(lookup_errno)?;

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

/// getaddrinfo on a worker thread, waited for through the instance's interrupt: a lookup
/// cannot be woken, so a stopped instance abandons it instead of waiting for the resolver.
/// The abandoned thread ends when the resolver answers, and its result is dropped.
fn lookup(
    cx: &Ctx,
    host: CString,
    service: Option<CString>,
    family: libc::c_int,
    socktype: libc::c_int,
) -> Result<std::result::Result<Vec<sys::AddrInfo>, sys::AddrInfoError>> {
    cx.interrupt.check()?;
    let done = Arc::new(sys::eventfd()?);
    let (send, answer) = mpsc::channel();
    let signal = done.clone();
    std::thread::Builder::new().name("wasock-resolve".into()).spawn(move || {
        let _ = send.send(sys::getaddrinfo(&host, service.as_deref(), family, socktype, MAX_WALKED));
        sys::signal(signal.as_fd());
    })?;
    loop {
        if let Ok(found) = answer.try_recv() {
            return Ok(found);
        }
        cx.interrupt.wait(&mut [sys::pollfd(done.as_fd(), sys::POLLIN)], None)?;
    }
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
