//! deny_probe IP PORT LOCAL: what `sock_policy try` does in tests/programs/c, with std:
//! binds a TCP listener on IP port 0, connects to IP:PORT over TCP, and sends "x" to IP:PORT
//! from a UDP socket bound on LOCAL port 0. Each step is independent and prints `STEP=ok`
//! (with what it got) or `STEP_error=KIND`, `STEP_os_error=N`, `STEP_message=...`; the
//! steps are `bind`, `connect`, `udp_bind` and `send_to`. Exits 0.

use std::net::{IpAddr, TcpListener, TcpStream, UdpSocket};

use wasock_p2_programs::{arg, report, say};

fn main() {
    let ip: IpAddr = arg(0, "IP").parse().expect("IP");
    let port: u16 = arg(1, "PORT").parse().expect("PORT");
    let local: IpAddr = arg(2, "LOCAL").parse().expect("LOCAL");

    match TcpListener::bind((ip, 0)) {
        Ok(listener) => say("bind", format!("ok local={:?}", listener.local_addr().ok())),
        Err(e) => report("bind", &e),
    }
    match TcpStream::connect((ip, port)) {
        Ok(stream) => say("connect", format!("ok local={:?}", stream.local_addr().ok())),
        Err(e) => report("connect", &e),
    }
    match UdpSocket::bind((local, 0)) {
        Ok(udp) => {
            say("udp_bind", "ok");
            match udp.send_to(b"x", (ip, port)) {
                Ok(n) => say("send_to", format!("ok sent={n}")),
                Err(e) => report("send_to", &e),
            }
        }
        Err(e) => report("udp_bind", &e),
    }
}
