//! Sockets for every socket ABI: WASI preview 1, WAMR's extension, WasmEdge's and WASIX's.
//!
//! Each ABI decodes its own layouts and errnos and then calls into this layer, which is the
//! one place that creates, names, connects and moves data on sockets. That is what keeps the
//! policy the same whichever way a guest reaches the network: the address pool is asked here
//! about every address the kernel would use (explicit and implicit binds, destinations), a
//! denial is EACCES with the same `--trace` line for every ABI, and every wait is
//! interruptible (the guest's NONBLOCK flag, its SO_RCVTIMEO/SO_SNDTIMEO and a stopped
//! instance all apply).
//!
//! `call` arguments name the guest's import in trace lines (`sock_connect`, `connect`, ...).

mod conn;
mod io;
mod lookup;

pub(crate) use conn::{accept, bind, connect, listen, local_addr, open, peer_addr, shutdown};
pub(crate) use io::{RecvOpts, count, receive, send, send_to, send_to_peer};
pub(crate) use lookup::{LookupHints, MAX_NAME_LEN, check_resolve, lookup};

use std::net::SocketAddr;

use socket2::SockAddr;

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::net::Socket;

/// Runs `op` on the socket at `fd`, which must hold the rights in `need`: EBADF, ENOTCAPABLE,
/// or ENOTSOCK for a file. The table lock is released before `op` runs.
pub(crate) fn with_socket<T>(
    cx: &Ctx,
    fd: u32,
    need: u64,
    op: impl FnOnce(&Socket) -> Result<T>,
) -> Result<T> {
    let descriptor = cx.get(fd, need)?;
    op(descriptor.as_socket()?)
}

/// EACCES unless the address pool allows binding `addr`'s IP (the port is never checked,
/// as in WAMR).
pub(crate) fn check_bind(cx: &Ctx, call: &str, addr: SocketAddr) -> Result<(), Errno> {
    if cx.policy.addr_pool.allows(addr.ip()) {
        return Ok(());
    }
    if cx.tracing() {
        let hint = cx.policy.addr_pool.denial_hint(addr.ip());
        cx.trace(format_args!("denied: {call} on {addr} is outside the address pool ({hint})"));
    }
    Err(Errno::Acces)
}

/// EACCES unless the address pool allows every address a connect or send to `addr` reaches
/// (the unspecified address reaches loopback: see [`crate::policy::reached_by_outgoing`]).
pub(crate) fn check_destination(cx: &Ctx, call: &str, addr: SocketAddr) -> Result<(), Errno> {
    let Some(refused) = cx.policy.refused_destination(addr.ip()) else { return Ok(()) };
    if cx.tracing() {
        let hint = cx.policy.addr_pool.denial_hint(refused);
        let reaches = if refused == addr.ip().to_canonical() {
            String::new()
        } else {
            format!(", which reaches {refused},")
        };
        cx.trace(format_args!("denied: {call} to {addr}{reaches} is outside the address pool ({hint})"));
    }
    Err(Errno::Acces)
}

/// EACCES, and a trace line naming the flag, unless the policy allows sharing a port with
/// the host's sockets (SO_REUSEPORT; SO_REUSEADDR on a datagram socket). `what` names the
/// option for the trace line.
pub(crate) fn check_port_sharing(cx: &Ctx, call: &str, what: &str) -> Result<(), Errno> {
    if cx.policy.allow_port_sharing {
        return Ok(());
    }
    cx.trace(format_args!(
        "denied: {call}: {what} would let the guest share a port with the host's own sockets \
         and take their traffic (allow it with --allow-port-sharing)"
    ));
    Err(Errno::Acces)
}

/// An IPv4 or IPv6 address, or EAFNOSUPPORT.
pub(crate) fn inet(addr: SockAddr) -> Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| Errno::AfNoSupport.into())
}
