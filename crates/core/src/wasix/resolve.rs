//! `resolve`: name resolution through the host's getaddrinfo (doc §6.2), under
//! `--allow-resolve` (see [`crate::sock::lookup`]: denied names are EACCES with the shared
//! trace line, and `--timeout` ends a slow lookup).

use std::net::IpAddr;

use super::abi;
use crate::ctx::Ctx;
use crate::errno::{Errno, Result, Trap};
use crate::memory::{self, GuestMemory};
use crate::sock::{self, LookupHints, MAX_NAME_LEN};
use crate::sys::AddrInfoError;

/// The most getaddrinfo results looked at per call.
pub const MAX_RESULTS: usize = 256;

/// `resolve(*host, host_len, port, *addrs, capacity, *count)`: the addresses of `host` (a
/// string of `host_len` bytes, no NUL), each once, in the resolver's order, as 18-byte
/// `__wasi_addr_t` entries (see [`abi::encode_addr_ip`]). At most `capacity` are written,
/// and `*count` is the number written, never more (unlike WAMR's `*total`). The port hint
/// changes nothing: addresses carry no port, and the guest adds its own.
///
/// Errors: EACCES when `--allow-resolve` does not allow the name; EINVAL for a name longer
/// than 1024 bytes, not UTF-8, or containing a NUL; a lookup that fails is EAGAIN for a
/// temporary failure (EAI_AGAIN), ENOMEM, the errno of EAI_SYSTEM, and EIO for everything
/// else, the name not being found included (wasmer's mapping of its resolver's failures).
/// Both guest libraries report any failure as "not found" anyway.
#[allow(clippy::too_many_arguments)]
pub fn resolve(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    host: u32,
    host_len: u32,
    _port: u32,
    addrs: u32,
    capacity: u32,
    count: u32,
) -> Result<()> {
    if host_len as usize > MAX_NAME_LEN {
        return Err(Errno::Inval.into());
    }
    let host = mem.read_bytes(host, host_len)?;
    let out_len = capacity.checked_mul(abi::ADDR_IP_SIZE).ok_or_else(|| {
        Trap(format!(
            "out of bounds memory access: resolve capacity {capacity} entries of {} bytes is larger than \
             linear memory",
            abi::ADDR_IP_SIZE
        ))
    })?;
    mem.check(addrs, out_len)?;
    mem.check(count, 4)?;

    // One entry per address: ask for streams only, since any socket type gives the same ones.
    let hints = LookupHints { family: libc::AF_UNSPEC, socktype: libc::SOCK_STREAM };
    let found = sock::lookup(cx, "resolve", &host, None, hints, MAX_RESULTS)?.map_err(lookup_errno)?;
    let mut unique: Vec<IpAddr> = Vec::new();
    for ai in found {
        if !unique.contains(&ai.addr.ip()) {
            unique.push(ai.addr.ip());
        }
    }
    let written = unique.len().min(capacity as usize);
    for (i, ip) in unique.iter().take(written).enumerate() {
        mem.write_bytes(memory::element(addrs, i, abi::ADDR_IP_SIZE)?, &abi::encode_addr_ip(*ip))?;
    }
    mem.write(count, written as u32)?;
    Ok(())
}

/// A failed getaddrinfo as the errno `resolve` returns (see [`resolve`]).
pub fn lookup_errno(e: AddrInfoError) -> Errno {
    match e {
        AddrInfoError::System(io) => io.into(),
        AddrInfoError::Gai(libc::EAI_AGAIN) => Errno::Again,
        AddrInfoError::Gai(libc::EAI_MEMORY) => Errno::NoMem,
        AddrInfoError::Gai(_) => Errno::Io,
    }
}
