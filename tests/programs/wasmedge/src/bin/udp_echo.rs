//! A UDP echo server on wasmedge_wasi_socket: `udp_echo ADDR DATAGRAMS`.
//!
//! Binds ADDR, prints `listening=ADDR:PORT`, then for each of DATAGRAMS datagrams prints
//! `from=ADDR:PORT` exactly as `UdpSocket::recv_from` reports the sender, and sends the
//! datagram back with `send_to`.
//!
//! The port the crate reports is byte-swapped: WasmEdge writes `sock_recv_from_v2`'s port
//! in network byte order and the crate reads it as a little-endian number (so a sender on
//! port 3000 shows up as 47115). A program that replies to the reported address therefore
//! misses its peer on WasmEdge. This one undoes the swap before replying, as a program
//! written for WasmEdge must, and prints the port it replied to as `reply_port=PORT`.
use std::net::SocketAddr;
use std::process::exit;

use wasmedge_wasi_socket::UdpSocket;

fn fail(what: &str, e: std::io::Error) -> ! {
    println!("error={} during={what} ({e})", e.raw_os_error().unwrap_or(-1));
    exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (addr, datagrams) = match &args[..] {
        [_, addr, n] => (addr.clone(), n.parse::<u32>().expect("DATAGRAMS is a number")),
        _ => {
            eprintln!("usage: udp_echo ADDR DATAGRAMS");
            exit(2);
        }
    };
    let socket = UdpSocket::bind(addr.as_str()).unwrap_or_else(|e| fail("bind", e));
    let local = socket.as_ref().get_local().unwrap_or_else(|e| fail("local_addr", e));
    println!("listening={local}");
    let mut buf = vec![0u8; 65536];
    for _ in 0..datagrams {
        let (n, from) = socket.recv_from(&mut buf).unwrap_or_else(|e| fail("recv_from", e));
        println!("from={from}");
        // The reported port holds the network-order bytes read as little-endian.
        let port = u16::from_be_bytes(from.port().to_le_bytes());
        let to = SocketAddr::new(from.ip(), port);
        println!("reply_port={port}");
        let sent = socket.send_to(&buf[..n], to).unwrap_or_else(|e| fail("send_to", e));
        println!("sent={sent}");
    }
}
