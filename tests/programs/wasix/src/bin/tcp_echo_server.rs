//! tcp_echo_server IP: a TCP echo server for one connection, through the raw `wasix`
//! functions, in the order Rust std for WASIX makes its calls (open, bind, REUSE_ADDR on the
//! bound socket, listen 128). Prints `listening=ADDR`, `status=N` (sock_status of the
//! listener), then `peer=ADDR` (from sock_accept_v2), `peer_again=ADDR` (sock_addr_peer)
//! and `echoed=BYTES` once the client has closed its side.

use std::net::{IpAddr, SocketAddr};

use wasock_wasix_programs::{addr_port, args, fail, recv, send_all, shown, wasix};

fn main() {
    let ip: IpAddr = args()[0].parse().expect("IP");
    let fd = wasock_wasix_programs::open(ip, true).unwrap_or_else(|e| fail("sock_open", e));
    let bind = addr_port(SocketAddr::new(ip, 0));
    // SAFETY: `bind` outlives the call.
    unsafe { wasix::sock_bind(fd, &bind) }.unwrap_or_else(|e| fail("sock_bind", e));
    unsafe { wasix::sock_set_opt_flag(fd, wasix::SOCK_OPTION_REUSE_ADDR, wasix::BOOL_TRUE) }
        .unwrap_or_else(|e| fail("sock_set_opt_flag", e));
    unsafe { wasix::sock_listen(fd, 128) }.unwrap_or_else(|e| fail("sock_listen", e));
    let status = unsafe { wasix::sock_status(fd) }.unwrap_or_else(|e| fail("sock_status", e));
    let local = unsafe { wasix::sock_addr_local(fd) }.unwrap_or_else(|e| fail("sock_addr_local", e));
    println!("status={}", status.raw());
    println!("listening={}", shown(&local));

    let (conn, peer) = unsafe { wasix::sock_accept_v2(fd, 0) }.unwrap_or_else(|e| fail("sock_accept_v2", e));
    println!("peer={}", shown(&peer));
    let again = unsafe { wasix::sock_addr_peer(conn) }.unwrap_or_else(|e| fail("sock_addr_peer", e));
    println!("peer_again={}", shown(&again));

    let mut buf = vec![0u8; 65536];
    let mut echoed = 0u64;
    // Bounded: at most 1 GiB of 64 KiB reads would be 16384 rounds; the test sends far less.
    for _ in 0..1_000_000 {
        let n = recv(conn, &mut buf, 0).unwrap_or_else(|e| fail("sock_recv", e));
        if n == 0 {
            break;
        }
        send_all(conn, &buf[..n]).unwrap_or_else(|e| fail("sock_send", e));
        echoed += n as u64;
    }
    unsafe { wasix::sock_shutdown(conn, wasix::SDFLAGS_WR) }
        .unwrap_or_else(|e| fail("sock_shutdown", e.into()));
    println!("echoed={echoed}");
}
