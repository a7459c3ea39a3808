//! Name lookup through wasmedge_wasi_socket: `nslookup NAME SERVICE`.
//!
//! Prints one `addr=ADDR:PORT` line per result of `nslookup(NAME, SERVICE)` (the crate asks
//! sock_getaddrinfo for IPv4 TCP results), then `count=N`; a failure prints `error=ERRNO`
//! (the raw WASI errno: 2 for a refused name, WasmEdge's 77..87 for resolver failures) and
//! exits with 1.
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, name, service] = &args[..] else {
        eprintln!("usage: nslookup NAME SERVICE");
        exit(2);
    };
    match wasmedge_wasi_socket::nslookup(name, service) {
        Ok(addrs) => {
            for addr in &addrs {
                println!("addr={addr}");
            }
            println!("count={}", addrs.len());
        }
        Err(e) => {
            println!("error={} ({e})", e.raw_os_error().unwrap_or(-1));
            exit(1);
        }
    }
}
