//! A TCP client on wasmedge_wasi_socket: `tcp_client HOST:PORT MESSAGE`.
//!
//! Connects (a name such as `localhost` is looked up through sock_getaddrinfo), prints
//! `local=` and `peer=` as the crate reports them, sends MESSAGE, shuts its sending side
//! down and prints everything the server sent back as `reply=TEXT`. A failure prints
//! `error=ERRNO during=STEP` (the raw WASI errno) and exits with 1.
use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::exit;

use wasmedge_wasi_socket::TcpStream;

fn fail(what: &str, e: std::io::Error) -> ! {
    println!("error={} during={what} ({e})", e.raw_os_error().unwrap_or(-1));
    exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, message] = &args[..] else {
        eprintln!("usage: tcp_client HOST:PORT MESSAGE");
        exit(2);
    };
    let mut stream = TcpStream::connect(addr.as_str()).unwrap_or_else(|e| fail("connect", e));
    println!("local={}", stream.local_addr().unwrap_or_else(|e| fail("local_addr", e)));
    println!("peer={}", stream.peer_addr().unwrap_or_else(|e| fail("peer_addr", e)));
    stream.write_all(message.as_bytes()).unwrap_or_else(|e| fail("send", e));
    stream.shutdown(Shutdown::Write).unwrap_or_else(|e| fail("shutdown", e));
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap_or_else(|e| fail("recv", e));
    println!("reply={}", String::from_utf8_lossy(&reply));
}
