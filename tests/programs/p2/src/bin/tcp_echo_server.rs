//! tcp_echo_server IP CLIENTS: binds IP port 0 (`TcpListener::bind`), prints `port=P` and
//! `listening=ADDR`, then serves CLIENTS connections one after the other: echoes each until
//! the client closes its side, closes, and prints `client=PEER bytes=N`. Ends with
//! `served=CLIENTS`. A failed bind prints `bind_error=KIND` (and the OS error) and exits 3.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener};

use wasock_p2_programs::{arg, fail, say};

fn main() {
    let ip: IpAddr = arg(0, "IP").parse().expect("IP");
    let clients: u32 = arg(1, "CLIENTS").parse().expect("CLIENTS");
    let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| fail("bind", e));
    let local = listener.local_addr().unwrap_or_else(|e| fail("local_addr", e));
    say("port", local.port());
    say("listening", local);
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..clients {
        let (mut stream, peer) = listener.accept().unwrap_or_else(|e| fail("accept", e));
        let mut bytes = 0u64;
        // Bounded: 1,000,000 reads of at most 64 KiB; the tests send far less.
        for _ in 0..1_000_000 {
            let n = stream.read(&mut buf).unwrap_or_else(|e| fail("read", e));
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap_or_else(|e| fail("write", e));
            bytes += n as u64;
        }
        stream.shutdown(Shutdown::Write).unwrap_or_else(|e| fail("shutdown", e));
        println!("client={peer} bytes={bytes}");
    }
    say("served", clients);
}
