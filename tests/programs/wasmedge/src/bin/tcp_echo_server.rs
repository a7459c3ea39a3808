//! A TCP echo server on wasmedge_wasi_socket: `tcp_echo_server ADDR CONNECTIONS`.
//!
//! Binds ADDR (port 0 for any), prints `listening=ADDR:PORT` as the crate reports it
//! (sock_getlocaladdr), then serves CONNECTIONS connections one after the other: for each it
//! prints `peer=ADDR:PORT` (sock_getpeeraddr), echoes every byte until the client shuts its
//! side down, and prints `echoed=BYTES`. Socket options on the way: the accepted socket's
//! type, a receive timeout (read back) so a stuck client ends the run instead of hanging it.
use std::io::{Read, Write};
use std::process::exit;
use std::time::Duration;

use wasmedge_wasi_socket::socket::SocketType;
use wasmedge_wasi_socket::TcpListener;

fn fail(what: &str, e: std::io::Error) -> ! {
    println!("error={} during={what} ({e})", e.raw_os_error().unwrap_or(-1));
    exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (addr, connections) = match &args[..] {
        [_, addr, n] => (addr.clone(), n.parse::<u32>().expect("CONNECTIONS is a number")),
        _ => {
            eprintln!("usage: tcp_echo_server ADDR CONNECTIONS");
            exit(2);
        }
    };
    let listener = TcpListener::bind(addr.as_str(), false).unwrap_or_else(|e| fail("bind", e));
    let local = listener.local_addr().unwrap_or_else(|e| fail("local_addr", e));
    println!("listening={local}");
    for _ in 0..connections {
        let (mut stream, peer) = listener.accept(false).unwrap_or_else(|e| fail("accept", e));
        println!("peer={peer}");
        let socket = stream.as_ref();
        let kind = match socket.r#type() {
            Ok(SocketType::Stream) => "stream",
            Ok(SocketType::Datagram) => "datagram",
            Ok(SocketType::Any) => "any",
            Err(e) => fail("SO_TYPE", e),
        };
        println!("type={kind}");
        socket
            .set_recv_timeout(Some(Duration::from_millis(20_500)))
            .unwrap_or_else(|e| fail("SO_RCVTIMEO", e));
        let timeout = socket.get_recv_timeout().unwrap_or_else(|e| fail("get SO_RCVTIMEO", e));
        println!("rcvtimeo_ms={}", timeout.map_or(0, |t| t.as_millis()));
        let mut buf = vec![0u8; 64 * 1024];
        let mut echoed = 0usize;
        loop {
            let n = stream.read(&mut buf).unwrap_or_else(|e| fail("recv", e));
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).unwrap_or_else(|e| fail("send", e));
            echoed += n;
        }
        println!("echoed={echoed}");
    }
}
