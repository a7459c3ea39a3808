//! `sock_setsockopt` and `sock_getsockopt` (doc 6.14, 6.15, 7): level 0 (SOL_SOCKET) and
//! WasmEdge's option numbers 0..14.
//!
//! WasmEdge hands the guest's bytes and length to the host kernel unchanged. We translate
//! each option explicitly instead: the value is decoded from the layout binaries were built
//! against (64-bit Linux: `int`, `struct linger`, a 16-byte `struct timeval`), a value
//! shorter than that is EINVAL (as Linux says), and only the real option size ever reaches
//! the kernel. Getters write at most the guest's length and report how much they wrote, as
//! Linux does with a short buffer.
//!
//! - SO_RCVTIMEO/SO_SNDTIMEO are kept by wasock (the host socket is non-blocking): they
//!   bound the interruptible waits of [`crate::sock`] and are read back exactly as set.
//! - SO_REUSEADDR on a datagram socket lets it share a port with a host service and take
//!   its datagrams: EACCES unless the policy allows port sharing (as WAMR's setter).
//!   WasmEdge has no SO_REUSEPORT number.
//! - SO_BINDTODEVICE is refused (EACCES, with a trace line): the address pool judges
//!   addresses, and choosing the interface would let a guest send to an allowed address
//!   through an interface the host's routing would not use (around a VPN, onto another
//!   network). Unbinding (an empty name) succeeds, and the getter reports no device.
//! - SO_TYPE is 1 (datagram) or 2 (stream), SO_ERROR a WASI errno, as WasmEdge converts them.
//! - The get-only options (SO_TYPE, SO_ERROR, SO_ACCEPTCONN) cannot be set: ENOPROTOOPT, as
//!   the kernel answers.

use std::os::fd::AsFd;

use super::abi::{self, in_memory, sockopt};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::net::{Direction, Socket};
use crate::sock::with_socket;
use crate::sys;

/// Linux's `struct timeval` on 64-bit hosts and in wasm32-wasip1's libc: `i64` seconds,
/// `i64` microseconds.
const TIMEVAL_SIZE: usize = 16;

/// `struct linger`: `int l_onoff`, `int l_linger`.
const LINGER_SIZE: usize = 8;

/// The `int` options and their host numbers.
fn host_int_option(name: u32) -> Option<libc::c_int> {
    Some(match name {
        sockopt::SO_REUSEADDR => libc::SO_REUSEADDR,
        sockopt::SO_DONTROUTE => libc::SO_DONTROUTE,
        sockopt::SO_BROADCAST => libc::SO_BROADCAST,
        sockopt::SO_SNDBUF => libc::SO_SNDBUF,
        sockopt::SO_RCVBUF => libc::SO_RCVBUF,
        sockopt::SO_KEEPALIVE => libc::SO_KEEPALIVE,
        sockopt::SO_OOBINLINE => libc::SO_OOBINLINE,
        sockopt::SO_RCVLOWAT => libc::SO_RCVLOWAT,
        sockopt::SO_ACCEPTCONN => libc::SO_ACCEPTCONN,
        _ => return None,
    })
}

/// EINVAL unless `level` is 0 (SOL_SOCKET) and `name` one of WasmEdge's 15 options.
fn check_option(level: u32, name: u32) -> Result<()> {
    if level != sockopt::SOL_SOCKET || name > sockopt::SO_BINDTODEVICE {
        return Err(Errno::Inval.into());
    }
    Ok(())
}

fn timeout_direction(name: u32) -> Direction {
    if name == sockopt::SO_RCVTIMEO { Direction::Read } else { Direction::Write }
}

/// `sock_setsockopt(fd, level, name, *value, len)`: `len` is a number, not a pointer.
pub fn sock_setsockopt(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    level: u32,
    name: u32,
    value: u32,
    len: u32,
) -> Result<()> {
    check_option(level, name)?;
    in_memory(mem, value, len)?;
    // Never more than the largest value we decode: a guest length is not a copy size.
    let bytes = mem.read_bytes(value, len.min(TIMEVAL_SIZE as u32)).map_err(abi::fault)?;
    let int = || -> Result<libc::c_int> {
        let raw: [u8; 4] = bytes.get(..4).and_then(|b| b.try_into().ok()).ok_or(Errno::Inval)?;
        Ok(libc::c_int::from_le_bytes(raw))
    };
    with_socket(cx, fd, 0, |sock| match name {
        sockopt::SO_TYPE | sockopt::SO_ERROR | sockopt::SO_ACCEPTCONN => Err(Errno::NoProtoOpt.into()),
        sockopt::SO_REUSEADDR => {
            let on = int()?;
            if on != 0 && !sock.stream {
                crate::sock::check_port_sharing(cx, "sock_setsockopt", "SO_REUSEADDR on a UDP socket")?;
            }
            set_int(sock, libc::SO_REUSEADDR, on)
        }
        sockopt::SO_LINGER => {
            if bytes.len() < LINGER_SIZE {
                return Err(Errno::Inval.into());
            }
            let on = i32::from_le_bytes(bytes[..4].try_into().unwrap_or_default());
            let seconds = i32::from_le_bytes(bytes[4..8].try_into().unwrap_or_default());
            Ok(sys::set_linger(sock.socket.as_fd(), on != 0, seconds)?)
        }
        sockopt::SO_RCVTIMEO | sockopt::SO_SNDTIMEO => {
            let us = timeval_to_us(&bytes)?;
            sock.set_timeout_us(timeout_direction(name), us);
            Ok(())
        }
        sockopt::SO_BINDTODEVICE => {
            if bytes.first().is_none_or(|&b| b == 0) {
                return Ok(()); // unbinding: the socket is bound to no device
            }
            cx.trace(format_args!(
                "denied: sock_setsockopt SO_BINDTODEVICE on fd {fd}: choosing the network \
                 interface is not allowed (the address pool judges addresses, and no flag \
                 allows this)"
            ));
            Err(Errno::Acces.into())
        }
        _ => {
            let host = host_int_option(name).ok_or(Errno::Inval)?;
            set_int(sock, host, int()?)
        }
    })
}

fn set_int(sock: &Socket, name: libc::c_int, value: libc::c_int) -> Result<()> {
    Ok(sys::setsockopt_int(sock.socket.as_fd(), libc::SOL_SOCKET, name, value)?)
}

/// A 16-byte `timeval` as microseconds (0: no timeout). As Linux: shorter is EINVAL, and
/// microseconds outside 0..1,000,000 EDOM. A negative time makes Linux time out at once;
/// that is 1 µs here (0 would mean never).
fn timeval_to_us(bytes: &[u8]) -> Result<u64> {
    if bytes.len() < TIMEVAL_SIZE {
        return Err(Errno::Inval.into());
    }
    let seconds = i64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
    let micros = i64::from_le_bytes(bytes[8..16].try_into().unwrap_or_default());
    if !(0..1_000_000).contains(&micros) {
        return Err(Errno::Dom.into());
    }
    if seconds < 0 {
        return Ok(1);
    }
    Ok((seconds as u64).saturating_mul(1_000_000).saturating_add(micros as u64))
}

/// Microseconds as a 16-byte `timeval`.
fn us_to_timeval(us: u64) -> Vec<u8> {
    let mut out = ((us / 1_000_000) as i64).to_le_bytes().to_vec();
    out.extend_from_slice(&((us % 1_000_000) as i64).to_le_bytes());
    out
}

/// `sock_getsockopt(fd, level, name, *value, *len)`: `*len` is the room at `value` on the
/// way in and the bytes written on the way out.
pub fn sock_getsockopt(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    level: u32,
    name: u32,
    value: u32,
    len: u32,
) -> Result<()> {
    check_option(level, name)?;
    let room = abi::read_u32(mem, len)?;
    in_memory(mem, value, room)?;
    let bytes: Vec<u8> = with_socket(cx, fd, 0, |sock| {
        let fd = sock.socket.as_fd();
        Ok(match name {
            sockopt::SO_TYPE => {
                let kind = if sock.stream { abi::sock_type::STREAM } else { abi::sock_type::DGRAM };
                (kind as i32).to_le_bytes().to_vec()
            }
            sockopt::SO_ERROR => {
                let errno = sock.socket.take_error()?.map_or(0, |e| Errno::from(e).raw());
                i32::from(errno).to_le_bytes().to_vec()
            }
            sockopt::SO_LINGER => {
                let (on, seconds) = sys::linger(fd)?;
                let mut out = i32::from(on).to_le_bytes().to_vec();
                out.extend_from_slice(&seconds.to_le_bytes());
                out
            }
            sockopt::SO_RCVTIMEO | sockopt::SO_SNDTIMEO => {
                us_to_timeval(sock.timeout_us(timeout_direction(name)))
            }
            sockopt::SO_BINDTODEVICE => Vec::new(),
            _ => {
                let host = host_int_option(name).ok_or(Errno::Inval)?;
                sys::getsockopt_int(fd, libc::SOL_SOCKET, host)?.to_le_bytes().to_vec()
            }
        })
    })?;
    let written = bytes.len().min(room as usize);
    mem.write_bytes(value, &bytes[..written]).map_err(abi::fault)?;
    mem.write(len, written as u32).map_err(abi::fault)?;
    Ok(())
}
