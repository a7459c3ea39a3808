//! Name resolution for every ABI: the `--allow-resolve` check and the host's getaddrinfo.
//!
//! The name must match `--allow-resolve` before anything is looked up (numeric addresses
//! too, as in WAMR), and what is looked up is the name the allow-list judged: lower case,
//! without a trailing dot. The lookup runs on a worker thread that a stopped instance
//! abandons, so `--timeout` ends a guest waiting on a slow resolver.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::sync::{Arc, mpsc};

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::escape;
use crate::policy;
use crate::sys::{self, AddrInfoError};

/// One usable result: an address, its socket type and protocol.
pub(crate) type Resolved = sys::AddrInfo;

/// What to ask getaddrinfo for: `ai_family` (AF_UNSPEC, AF_INET, AF_INET6) and
/// `ai_socktype` (0 for any, SOCK_STREAM, SOCK_DGRAM).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LookupHints {
    pub family: libc::c_int,
    pub socktype: libc::c_int,
}

/// The longest host or service name accepted (EINVAL beyond, as a failed lookup would be;
/// NI_MAXHOST is 1025).
pub(crate) const MAX_NAME_LEN: usize = 1024;

/// Resolves `host` (and `service`, a port number or service name) if `--allow-resolve`
/// allows the name: EACCES and a trace line otherwise, EINVAL for a name that is not UTF-8,
/// too long or contains a NUL. At most `max` results. The inner result is getaddrinfo's own
/// failure, which each ABI reports in its own numbers.
pub(crate) fn lookup(
    cx: &Ctx,
    host: &[u8],
    service: Option<&[u8]>,
    hints: LookupHints,
    max: usize,
) -> Result<std::result::Result<Vec<Resolved>, AddrInfoError>> {
    if host.len() > MAX_NAME_LEN || service.is_some_and(|s| s.len() > MAX_NAME_LEN) {
        return Err(Errno::Inval.into());
    }
    let host = std::str::from_utf8(host).map_err(|_| Errno::Inval)?;
    check_resolve(cx, host)?;
    let host = policy::lookup_name(host).ok_or(Errno::Inval)?;
    let host = CString::new(host).map_err(|_| Errno::Inval)?;
    let service = match service {
        None | Some(b"") => None,
        Some(s) => {
            Some(CString::new(std::str::from_utf8(s).map_err(|_| Errno::Inval)?).map_err(|_| Errno::Inval)?)
        }
    };
    resolve_interruptibly(cx, host, service, hints, max)
}

/// EACCES, and a trace line naming the flag, unless `--allow-resolve` allows `host`.
pub(crate) fn check_resolve(cx: &Ctx, host: &str) -> Result<(), Errno> {
    if cx.policy.allow_resolve.allows(host) {
        return Ok(());
    }
    if cx.tracing() {
        let shown = escape::guest_text(host);
        cx.trace(format_args!("denied: resolving \"{shown}\" (allow it with --allow-resolve={shown})"));
    }
    Err(Errno::Acces)
}

/// getaddrinfo on a worker thread, waited for through the instance's interrupt: a lookup
/// cannot be woken, so a stopped instance abandons it instead of waiting for the resolver.
/// The abandoned thread ends when the resolver answers, and its result is dropped.
fn resolve_interruptibly(
    cx: &Ctx,
    host: CString,
    service: Option<CString>,
    hints: LookupHints,
    max: usize,
) -> Result<std::result::Result<Vec<Resolved>, AddrInfoError>> {
    cx.interrupt.check()?;
    let done = Arc::new(sys::eventfd()?);
    let (send, answer) = mpsc::channel();
    let signal = done.clone();
    std::thread::Builder::new().name("wasock-resolve".into()).spawn(move || {
        let _ = send.send(sys::getaddrinfo(&host, service.as_deref(), hints.family, hints.socktype, max));
        sys::signal(signal.as_fd());
    })?;
    loop {
        if let Ok(found) = answer.try_recv() {
            return Ok(found);
        }
        cx.interrupt.wait(&mut [sys::pollfd(done.as_fd(), sys::POLLIN)], None)?;
    }
}
