//! Which socket ABI a module was built for, read from its imports.
//!
//! wasock runs WAMR's socket extension, WasmEdge's and WASIX's. WAMR's and WasmEdge's share
//! module `wasi_snapshot_preview1` and several names (`sock_open`, `sock_bind`, ...) with
//! different types, so one module gets one of them: the one its imports name. Names or
//! types that only one ABI has decide; the names every ABI shares with WASI preview 1
//! (`sock_accept` with three parameters, `sock_recv`, `sock_send`, `sock_shutdown`,
//! `sock_listen`) decide nothing. A module that names two ABIs is refused: no runtime
//! provides both, so it was not built for any.

use std::fmt;

/// A socket ABI wasock provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketAbi {
    /// No socket extension, or only the socket functions of WASI preview 1. Gets WAMR's
    /// functions too, which cost nothing when not imported.
    Wasi,
    /// WAMR's extension (docs/wamr-socket-abi.md).
    Wamr,
    /// WasmEdge's (docs/wasmedge-socket-abi.md).
    WasmEdge,
    /// WASIX's, module `wasix_32v1` (docs/wasix-socket-abi.md).
    Wasix,
}

impl SocketAbi {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            SocketAbi::Wasi => "WASI preview 1",
            SocketAbi::Wamr => "WAMR",
            SocketAbi::WasmEdge => "WasmEdge",
            SocketAbi::Wasix => "WASIX",
        }
    }
}

impl fmt::Display for SocketAbi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One function import, as much of it as the choice needs.
#[derive(Clone, Copy, Debug)]
pub struct ImportSig<'a> {
    /// The import's module name.
    pub module: &'a str,
    /// Its field name.
    pub name: &'a str,
    /// How many parameters its type has.
    pub params: usize,
}

/// The ABI chosen for a module, and the import that chose it (`None` for [`SocketAbi::Wasi`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    /// The ABI.
    pub abi: SocketAbi,
    /// `module::name` of the first import that only this ABI has.
    pub because: Option<String>,
}

/// A module whose imports name two socket ABIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixedAbis {
    /// The first ABI seen and the import that named it.
    pub first: (SocketAbi, String),
    /// The other.
    pub second: (SocketAbi, String),
}

impl fmt::Display for MixedAbis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ((a, a_import), (b, b_import)) = (&self.first, &self.second);
        write!(
            f,
            "the module imports {a_import}, which is {a}'s socket ABI, and {b_import}, which is {b}'s; \
             wasock runs one socket ABI per module (rebuild it against one of them)"
        )
    }
}

impl std::error::Error for MixedAbis {}

const WASI: &str = "wasi_snapshot_preview1";
const WASI_UNSTABLE: &str = "wasi_unstable";
/// WASIX's module for wasm32 (`wasix_64v1`, memory64, is not provided).
pub const WASIX_MODULE: &str = "wasix_32v1";

/// The ABI one import belongs to, if only one ABI has it.
fn abi_of(import: &ImportSig<'_>) -> Option<SocketAbi> {
    if import.module == WASIX_MODULE {
        return Some(SocketAbi::Wasix);
    }
    if import.module != WASI && import.module != WASI_UNSTABLE {
        return None;
    }
    let wasmedge_only = import.module == WASI;
    let (wamr, wasmedge) = (Some(SocketAbi::Wamr), wasmedge_only.then_some(SocketAbi::WasmEdge));
    match (import.name, import.params) {
        ("sock_addr_local" | "sock_addr_remote" | "sock_addr_resolve" | "sock_close", _) => wamr,
        (name, _) if name.starts_with("sock_get_") || name.starts_with("sock_set_") => wamr,
        ("sock_open", 4) | ("sock_bind" | "sock_connect", 2) | ("sock_recv_from" | "sock_send_to", 6) => wamr,
        (
            "sock_getlocaladdr" | "sock_getpeeraddr" | "sock_getsockopt" | "sock_setsockopt"
            | "sock_getaddrinfo" | "epoll_oneoff",
            _,
        ) => wasmedge,
        ("sock_open", 3)
        | ("sock_bind" | "sock_connect", 3)
        | ("sock_recv_from", 7 | 8)
        | ("sock_send_to", 7) => wasmedge,
        ("sock_accept", 2) => wasmedge,
        (name, _) if name.starts_with("sock_") && name.ends_with("_v2") => wasmedge,
        _ => None,
    }
}

/// Chooses the socket ABI of a module from its function imports.
pub fn detect<'a>(imports: impl IntoIterator<Item = ImportSig<'a>>) -> Result<Detected, MixedAbis> {
    let mut chosen: Option<(SocketAbi, String)> = None;
    for import in imports {
        let Some(abi) = abi_of(&import) else { continue };
        let named = format!(
            "{}::{}",
            crate::escape::guest_text(import.module),
            crate::escape::guest_text(import.name)
        );
        match &chosen {
            None => chosen = Some((abi, named)),
            Some((first, _)) if *first == abi => {}
            Some(first) => return Err(MixedAbis { first: first.clone(), second: (abi, named) }),
        }
    }
    Ok(match chosen {
        Some((abi, because)) => Detected { abi, because: Some(because) },
        None => Detected { abi: SocketAbi::Wasi, because: None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(module: &'static str, name: &'static str, params: usize) -> ImportSig<'static> {
        ImportSig { module, name, params }
    }

    fn abi(imports: &[ImportSig<'static>]) -> SocketAbi {
        detect(imports.iter().copied()).unwrap().abi
    }

    #[test]
    fn shared_wasi_functions_choose_nothing() {
        let shared = [
            sig(WASI, "fd_write", 4),
            sig(WASI, "sock_accept", 3),
            sig(WASI, "sock_recv", 6),
            sig(WASI, "sock_send", 5),
            sig(WASI, "sock_shutdown", 2),
            sig(WASI, "sock_listen", 2),
        ];
        assert_eq!(detect(shared).unwrap(), Detected { abi: SocketAbi::Wasi, because: None });
    }

    #[test]
    fn names_and_types_choose_the_abi() {
        assert_eq!(abi(&[sig(WASI, "sock_open", 4)]), SocketAbi::Wamr);
        assert_eq!(abi(&[sig(WASI, "sock_open", 3)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASI, "sock_bind", 2)]), SocketAbi::Wamr);
        assert_eq!(abi(&[sig(WASI, "sock_bind", 3)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASI, "sock_recv_from", 6)]), SocketAbi::Wamr);
        assert_eq!(abi(&[sig(WASI, "sock_recv_from", 8)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASI, "sock_accept", 2)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASI, "sock_accept_v2", 3)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASI, "sock_set_reuse_addr", 2)]), SocketAbi::Wamr);
        assert_eq!(abi(&[sig(WASI, "epoll_oneoff", 4)]), SocketAbi::WasmEdge);
        assert_eq!(abi(&[sig(WASIX_MODULE, "sock_open", 4)]), SocketAbi::Wasix);
        assert_eq!(abi(&[sig(WASI_UNSTABLE, "sock_addr_resolve", 6)]), SocketAbi::Wamr);
        // WasmEdge registers nothing under wasi_unstable.
        assert_eq!(abi(&[sig(WASI_UNSTABLE, "sock_getaddrinfo", 8)]), SocketAbi::Wasi);
        assert_eq!(abi(&[sig("env", "sock_open", 3)]), SocketAbi::Wasi);
    }

    #[test]
    fn a_module_naming_two_abis_is_refused_with_both_imports() {
        let err =
            detect([sig(WASI, "sock_open", 4), sig(WASI, "fd_write", 4), sig(WASI, "sock_getaddrinfo", 8)])
                .unwrap_err();
        assert_eq!(err.first, (SocketAbi::Wamr, "wasi_snapshot_preview1::sock_open".to_string()));
        assert_eq!(err.second, (SocketAbi::WasmEdge, "wasi_snapshot_preview1::sock_getaddrinfo".to_string()));
        let text = err.to_string();
        assert!(
            text.contains("sock_open")
                && text.contains("sock_getaddrinfo")
                && text.contains("one socket ABI")
        );
        assert!(detect([sig(WASIX_MODULE, "sock_open", 4), sig(WASI, "sock_close", 1)]).is_err());
    }
}
