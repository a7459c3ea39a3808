//! resolve NAME PORT: `(NAME, PORT).to_socket_addrs()` (getaddrinfo, wasi:sockets
//! ip-name-lookup underneath). Prints `count=N` and `addrs=A,B,...` (socket addresses, in
//! the resolver's order), or `resolve_error=KIND`, `resolve_os_error=N` and
//! `resolve_message=...` and exits 3.

use std::net::ToSocketAddrs;

use wasock_p2_programs::{arg, fail, say};

fn main() {
    let name = arg(0, "NAME");
    let port: u16 = arg(1, "PORT").parse().expect("PORT");
    let addrs: Vec<String> = (name.as_str(), port)
        .to_socket_addrs()
        .unwrap_or_else(|e| fail("resolve", e))
        .take(64)
        .map(|a| a.to_string())
        .collect();
    say("count", addrs.len());
    say("addrs", addrs.join(","));
}
