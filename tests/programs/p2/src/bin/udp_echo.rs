//! udp_echo IP COUNT: binds a UDP socket on IP port 0 (`UdpSocket::bind`), prints `port=P`
//! and `listening=ADDR`, then returns COUNT datagrams to their senders (`recv_from`,
//! `send_to`), printing `from=ADDR bytes=N` for each, and `echoed=COUNT` at the end.

use std::net::{IpAddr, UdpSocket};

use wasock_p2_programs::{arg, fail, say};

fn main() {
    let ip: IpAddr = arg(0, "IP").parse().expect("IP");
    let count: u32 = arg(1, "COUNT").parse().expect("COUNT");
    let socket = UdpSocket::bind((ip, 0)).unwrap_or_else(|e| fail("bind", e));
    let local = socket.local_addr().unwrap_or_else(|e| fail("local_addr", e));
    say("port", local.port());
    say("listening", local);
    let mut buf = vec![0u8; 65536];
    for _ in 0..count {
        let (n, from) = socket.recv_from(&mut buf).unwrap_or_else(|e| fail("recv_from", e));
        let sent = socket.send_to(&buf[..n], from).unwrap_or_else(|e| fail("send_to", e));
        if sent != n {
            say("short_send", format!("{sent} of {n}"));
            std::process::exit(4);
        }
        println!("from={from} bytes={n}");
    }
    say("echoed", count);
}
