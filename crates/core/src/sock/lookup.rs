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

/// Resolves `host` (and `service`, a port number or service name) if the policy allows the
/// name (`--allow-resolve`, or an `--allow-net` name rule): EACCES and a trace line otherwise, EINVAL for a name that is not UTF-8,
/// too long or contains a NUL. At most `max` results. The inner result is getaddrinfo's own
/// failure, which each ABI reports in its own numbers.
pub(crate) fn lookup(
    cx: &Ctx,
    import: &str,
    host: &[u8],
    service: Option<&[u8]>,
    hints: LookupHints,
    max: usize,
) -> Result<std::result::Result<Vec<Resolved>, AddrInfoError>> {
    if host.len() > MAX_NAME_LEN || service.is_some_and(|s| s.len() > MAX_NAME_LEN) {
        return Err(Errno::Inval.into());
    }
    let host = std::str::from_utf8(host).map_err(|_| Errno::Inval)?;
    check_resolve(cx, import, host)?;
    let name = policy::lookup_name(host).ok_or(Errno::Inval)?;
    let host = CString::new(name.as_str()).map_err(|_| Errno::Inval)?;
    let service = match service {
        None | Some(b"") => None,
        Some(s) => {
            Some(CString::new(std::str::from_utf8(s).map_err(|_| Errno::Inval)?).map_err(|_| Errno::Inval)?)
        }
    };
    let found = resolve_interruptibly(cx, host, service, hints, max)?;
    if let Ok(results) = &found {
        cx.policy.learn(&name, results.iter().map(|r| r.addr.ip()));
    }
    Ok(found)
}

/// EACCES, and a trace line naming the flag, unless the policy allows resolving `host`
/// ([`policy::Policy::allows_resolving`]). The decision is reported under `import`.
pub(crate) fn check_resolve(cx: &Ctx, import: &str, host: &str) -> Result<(), Errno> {
    let shown = escape::guest_text(host);
    if cx.policy.allows_resolving(host) {
        cx.report_lookup(import, host, Some(resolve_rule(cx, host)), None);
        return Ok(());
    }
    if cx.policy.denies_resolving(host) {
        cx.report_lookup(import, host, None, None);
        cx.trace(format_args!("denied: resolving \"{shown}\": a --deny-net name rule refuses it"));
    } else {
        let flag = format!("--allow-resolve={shown}");
        cx.trace(format_args!("denied: resolving \"{shown}\" (allow it with {flag})"));
        cx.report_lookup(import, host, None, Some(flag));
    }
    Err(Errno::Acces)
}

/// The flag that allows resolving `host` (for the decision log).
fn resolve_rule(cx: &Ctx, host: &str) -> String {
    if cx.policy.allow_resolve.allows(host) {
        return "--allow-resolve".to_string();
    }
    let rule =
        cx.policy.allow_net.iter().find(|r| matches!(&r.host, policy::Host::Name(p) if p.matches(host)));
    rule.map_or_else(|| policy::ALLOW_NET.to_string(), |r| format!("{}={r}", policy::ALLOW_NET))
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
