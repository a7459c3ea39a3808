//! tcp_client IP PORT LEN: connects to IP:PORT, sends LEN bytes of the test stream, closes
//! its sending side and reads the echo to the end, through the raw `wasix` functions (in
//! Rust std's order: CONNECT_TIMEOUT is read before connecting). Prints
//! `connect_timeout_tag=N`, then either `connect_errno=N` or `connect_errno=0`, `local=ADDR`,
//! `peer=ADDR`, `status=N`, `dontwait_errno=N` (a receive with DONT_WAIT before anything was
//! sent) and `received=BYTES echo_ok=0|1`.

use std::net::{IpAddr, SocketAddr};

use wasock_wasix_programs::{addr_port, args, errno, fail, pattern, recv, send_all, shown, wasix};

fn main() {
    let args = args();
    let ip: IpAddr = args[0].parse().expect("IP");
    let port: u16 = args[1].parse().expect("PORT");
    let len: u64 = args[2].parse().expect("LEN");
    let fd = wasock_wasix_programs::open(ip, true).unwrap_or_else(|e| fail("sock_open", e));
    let timeout = unsafe { wasix::sock_get_opt_time(fd, wasix::SOCK_OPTION_CONNECT_TIMEOUT) }
        .unwrap_or_else(|e| fail("sock_get_opt_time", e));
    println!("connect_timeout_tag={}", timeout.tag);
    let to = addr_port(SocketAddr::new(ip, port));
    // SAFETY: `to` outlives the call.
    if let Err(e) = unsafe { wasix::sock_connect(fd, &to) } {
        println!("connect_errno={}", errno(e));
        return;
    }
    println!("connect_errno=0");
    let local = unsafe { wasix::sock_addr_local(fd) }.unwrap_or_else(|e| fail("sock_addr_local", e));
    let peer = unsafe { wasix::sock_addr_peer(fd) }.unwrap_or_else(|e| fail("sock_addr_peer", e));
    let status = unsafe { wasix::sock_status(fd) }.unwrap_or_else(|e| fail("sock_status", e));
    println!("local={}", shown(&local));
    println!("peer={}", shown(&peer));
    println!("status={}", status.raw());

    // The native peer sends nothing before it has received: nothing to read yet.
    let mut buf = vec![0u8; 65536];
    match recv(fd, &mut buf, wasix::RIFLAGS_RECV_DONT_WAIT) {
        Ok(n) => println!("dontwait_errno=0 bytes={n}"),
        Err(e) => println!("dontwait_errno={}", errno(e)),
    }

    let data: Vec<u8> = (0..len).map(pattern).collect();
    // Send and receive in turns of 64 KiB so that neither side's buffers fill up.
    let mut received = Vec::with_capacity(len as usize);
    for chunk in data.chunks(65536) {
        send_all(fd, chunk).unwrap_or_else(|e| fail("sock_send", e));
        let want = received.len() + chunk.len();
        for _ in 0..100_000 {
            if received.len() >= want {
                break;
            }
            let n = recv(fd, &mut buf, 0).unwrap_or_else(|e| fail("sock_recv", e));
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
    }
    unsafe { wasix::sock_shutdown(fd, wasix::SDFLAGS_WR) }
        .unwrap_or_else(|e| fail("sock_shutdown", e.into()));
    for _ in 0..100_000 {
        let n = recv(fd, &mut buf, 0).unwrap_or_else(|e| fail("sock_recv", e));
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    println!("received={} echo_ok={}", received.len(), (received == data) as u8);
}
