//! Name resolution through `sock_addr_resolve`, and [`ToSocketAddrs`], which resolves names
//! that way (std's `ToSocketAddrs` cannot resolve names on wasm32-wasip1).

use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::{option, vec};

use crate::addr::{FAMILY_UNSPEC, SOCK_STREAM, WasiAddrInfo, WasiHints};
use crate::sys::{self, cvt};

/// Results asked for on the first call; lib-socket starts with 16 too.
const FIRST_CAPACITY: usize = 16;
/// More results than any sane name has; bounds the retry's allocation.
const MAX_RESULTS: usize = 1024;

/// The addresses of `host` with `port`, in the runtime's order, without duplicates.
///
/// An IP literal (`127.0.0.1`, `::1`) is returned as is, without asking the runtime. A name
/// is resolved by the runtime (`sock_addr_resolve` with hints: stream sockets, any family),
/// which allows only the names given with `--allow-resolve` (`PermissionDenied` otherwise).
pub fn lookup_host(host: &str, port: u16) -> io::Result<LookupHost> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(LookupHost { addrs: vec![SocketAddr::new(ip, port)].into_iter() });
    }
    let addrs = resolve(host)?
        .into_iter()
        .map(|mut addr| {
            addr.set_port(port);
            addr
        })
        .collect::<Vec<_>>();
    let mut unique = Vec::with_capacity(addrs.len());
    for addr in addrs {
        if !unique.contains(&addr) {
            unique.push(addr);
        }
    }
    Ok(LookupHost { addrs: unique.into_iter() })
}

/// The raw results of `sock_addr_resolve` for `host` (ports 0), retrying with a bigger buffer
/// when the first one was too small (the runtime truncates silently and reports the total).
fn resolve(host: &str) -> io::Result<Vec<SocketAddr>> {
    let c_host = CString::new(host).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("host name {host:?} contains a NUL byte"))
    })?;
    let hints = WasiHints::new(SOCK_STREAM, FAMILY_UNSPEC);
    let mut capacity = FIRST_CAPACITY;
    loop {
        let mut infos = vec![WasiAddrInfo::zeroed(); capacity];
        let mut total = 0u32;
        // SAFETY: `c_host` and the empty service are NUL-terminated; `infos` has room for
        // `capacity` entries; `total` is a valid out-pointer.
        let errno = unsafe {
            sys::sock_addr_resolve(
                c_host.as_ptr().cast(),
                c"".as_ptr().cast(),
                &hints,
                infos.as_mut_ptr(),
                capacity as u32,
                &mut total,
            )
        };
        cvt(errno).map_err(|err| resolve_error(host, err))?;
        let total = total as usize;
        if total > capacity && capacity < MAX_RESULTS {
            capacity = total.min(MAX_RESULTS);
            continue;
        }
        if total == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("failed to resolve {host:?}: the runtime found no addresses"),
            ));
        }
        return infos[..total.min(capacity)].iter().map(|info| Ok(info.decode()?.0)).collect();
    }
}

fn resolve_error(host: &str, err: io::Error) -> io::Error {
    let hint = match err.kind() {
        io::ErrorKind::PermissionDenied => {
            format!(" (the runtime must allow it, e.g. `wasock --allow-resolve={host}`)")
        }
        // The runtime maps "no such name" (EAI_NONAME) to EINVAL.
        io::ErrorKind::InvalidInput => " (no such name?)".to_string(),
        _ => String::new(),
    };
    io::Error::new(err.kind(), format!("failed to resolve {host:?}: {err}{hint}"))
}

/// The iterator [`lookup_host`] returns.
#[derive(Debug, Clone)]
pub struct LookupHost {
    addrs: vec::IntoIter<SocketAddr>,
}

impl Iterator for LookupHost {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        self.addrs.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.addrs.size_hint()
    }
}

/// Values that name one or more socket addresses, like `std::net::ToSocketAddrs`, but names
/// are resolved with [`lookup_host`] (the runtime's `sock_addr_resolve`). Numeric addresses
/// are parsed locally and never reach the runtime.
///
/// Implemented for `SocketAddr`, `SocketAddrV4`, `SocketAddrV6`, `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`, `(String, u16)`, `str` and `String`
/// in `"host:port"` form (`"[::1]:80"` for IPv6), `[SocketAddr]`, and references to these.
pub trait ToSocketAddrs {
    /// The addresses, in the order to try them.
    type Iter: Iterator<Item = SocketAddr>;

    /// Parses or resolves `self`.
    fn to_socket_addrs(&self) -> io::Result<Self::Iter>;
}

impl ToSocketAddrs for SocketAddr {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        Ok(Some(*self).into_iter())
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        SocketAddr::V4(*self).to_socket_addrs()
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        SocketAddr::V6(*self).to_socket_addrs()
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        SocketAddr::new(self.0, self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        SocketAddr::new(self.0.into(), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {
    type Iter = option::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        SocketAddr::new(self.0.into(), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {
    type Iter = LookupHost;
    fn to_socket_addrs(&self) -> io::Result<LookupHost> {
        lookup_host(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {
    type Iter = LookupHost;
    fn to_socket_addrs(&self) -> io::Result<LookupHost> {
        lookup_host(&self.0, self.1)
    }
}

impl ToSocketAddrs for str {
    type Iter = LookupHost;
    fn to_socket_addrs(&self) -> io::Result<LookupHost> {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Ok(LookupHost { addrs: vec![addr].into_iter() });
        }
        let invalid = |what: &str| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{what} in {self:?} (expected HOST:PORT)"))
        };
        let (host, port) = self.rsplit_once(':').ok_or_else(|| invalid("no port"))?;
        let port = port.parse::<u16>().map_err(|_| invalid("invalid port"))?;
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        lookup_host(host, port)
    }
}

impl ToSocketAddrs for String {
    type Iter = LookupHost;
    fn to_socket_addrs(&self) -> io::Result<LookupHost> {
        self.as_str().to_socket_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {
    type Iter = vec::IntoIter<SocketAddr>;
    // An owned copy: the associated `Iter` cannot borrow from `&self`.
    #[allow(clippy::unnecessary_to_owned)]
    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        Ok(self.to_vec().into_iter())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    type Iter = T::Iter;
    fn to_socket_addrs(&self) -> io::Result<T::Iter> {
        (**self).to_socket_addrs()
    }
}

/// Runs `op` on each address of `addrs` until one succeeds; otherwise returns the last error,
/// as std does.
pub(crate) fn each_addr<A: ToSocketAddrs + ?Sized, T>(
    addrs: &A,
    mut op: impl FnMut(&SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_err = None;
    for addr in addrs.to_socket_addrs()? {
        match op(&addr) {
            Ok(value) => return Ok(value),
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any addresses")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs<A: ToSocketAddrs + ?Sized>(a: &A) -> Vec<SocketAddr> {
        a.to_socket_addrs().unwrap().collect()
    }

    // Off WASI every runtime call fails with `Unsupported`, so these succeeding proves that
    // numeric forms are parsed locally, without a lookup.
    #[test]
    fn numeric_forms_need_no_lookup() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:53".parse().unwrap();
        assert_eq!(addrs("127.0.0.1:8080"), [v4]);
        assert_eq!(addrs(&"[::1]:53".to_string()), [v6]);
        assert_eq!(addrs(&("127.0.0.1", 8080)), [v4]);
        assert_eq!(addrs(&("::1".to_string(), 53)), [v6]);
        assert_eq!(addrs(&(IpAddr::from([127, 0, 0, 1]), 8080)), [v4]);
        assert_eq!(addrs(&(Ipv6Addr::LOCALHOST, 53)), [v6]);
        assert_eq!(addrs(&v4), [v4]);
        assert_eq!(addrs(&[v4, v6][..]), [v4, v6]);
        assert_eq!(lookup_host("::1", 53).unwrap().collect::<Vec<_>>(), [v6]);
    }

    #[test]
    fn malformed_strings_are_invalid_input() {
        for bad in ["localhost", "localhost:http", ":80", "host:70000"] {
            let err = bad.to_socket_addrs().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}: {err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    #[cfg(not(target_os = "wasi"))]
    fn names_go_to_the_runtime() {
        let err = "localhost:80".to_socket_addrs().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}");
        assert!(err.to_string().contains("\"localhost\""), "{err}");
    }

    #[test]
    fn each_addr_returns_the_last_error_or_first_success() {
        let list: &[SocketAddr] = &["127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap()];
        let err = each_addr(&list, |a| Err::<(), _>(io::Error::other(a.port().to_string()))).unwrap_err();
        assert_eq!(err.to_string(), "2");
        assert_eq!(each_addr(&list, |a| Ok(a.port())).unwrap(), 1);
        let empty: &[SocketAddr] = &[];
        assert_eq!(each_addr(&empty, |_| Ok(())).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
}
