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
use crate::policy::{Call, Decision, Direction as PolicyDirection, Proto};

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

/// The gate every bind, listen, connect and send_to passes: asks the policy about `call`
/// over `proto` on or to `addr`, reports the decision ([`Ctx::report`]), and is EACCES on a
/// denial. `import` names the guest's import in the trace line and the decision log.
pub(crate) fn check(cx: &Ctx, import: &str, call: Call, proto: Proto, addr: SocketAddr) -> Result<(), Errno> {
    let decision = cx.policy.decide(call, proto, addr.ip(), addr.port());
    cx.report(import, &decision);
    if decision.allowed() { Ok(()) } else { Err(Errno::Acces) }
}

/// Runs `op` on the socket at `fd` (which must hold `rights`) once the policy allows `call`
/// to `addr` for the socket's protocol. The policy comes first, as in WAMR: an address no
/// protocol may use is EACCES even for a bad fd, and nothing is looked up or called.
pub(crate) fn with_allowed_socket<T>(
    cx: &Ctx,
    import: &str,
    call: Call,
    fd: u32,
    rights: u64,
    addr: SocketAddr,
    op: impl FnOnce(&Socket) -> Result<T>,
) -> Result<T> {
    let descriptor = cx.get(fd, rights);
    match descriptor.as_ref().ok().and_then(|d| d.as_socket().ok()) {
        Some(sock) => check(cx, import, call, sock.proto(), addr)?,
        None => {
            let (ip, port) = (addr.ip(), addr.port());
            let allows = |proto| cx.policy.decide(call, proto, ip, port).allowed();
            if !allows(Proto::Tcp) && !allows(Proto::Udp) {
                check(cx, import, call, Proto::Tcp, addr)?;
            }
        }
    }
    op(descriptor?.as_socket()?)
}

/// The trace line of a denial. Without `--allow-net`/`--deny-net` rules it keeps the address
/// pool's wording, which names `--addr-pool`.
pub(crate) fn denial_line(cx: &Ctx, import: &str, decision: &Decision<'_>) -> String {
    let addr = SocketAddr::new(decision.addr, decision.port);
    let (proto, call) = (decision.proto, decision.call);
    let preposition = match call.direction() {
        _ if call.is_inbound() => "from",
        PolicyDirection::Bind => "on",
        PolicyDirection::Connect => "to",
    };
    if cx.policy.has_rules() || call.is_inbound() {
        return format!("denied: {import} {proto} {preposition} {addr}: {decision}");
    }
    let hint = cx.policy.addr_pool.denial_hint(decision.judged);
    let reaches = if decision.judged == decision.addr.to_canonical() {
        String::new()
    } else {
        format!(", which reaches {},", decision.judged)
    };
    format!("denied: {import} {preposition} {addr}{reaches} is outside the address pool ({hint})")
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
