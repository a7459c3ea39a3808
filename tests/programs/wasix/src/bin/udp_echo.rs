//! udp_echo IP COUNT: a UDP echo server for COUNT datagrams, through `sock_recv_from` and
//! `sock_send_to`. Prints `dontwait_errno=N` (a DONT_WAIT receive before any datagram was
//! sent), `listening=ADDR`, then per datagram `from=ADDR bytes=N truncated=0|1`, and
//! `echoed=COUNT`.

use std::net::{IpAddr, SocketAddr};

use wasock_wasix_programs::{addr_port, args, errno, fail, shown, wasix};

fn main() {
    let args = args();
    let ip: IpAddr = args[0].parse().expect("IP");
    let count: u32 = args[1].parse().expect("COUNT");
    let fd = wasock_wasix_programs::open(ip, false).unwrap_or_else(|e| fail("sock_open", e));
    let bind = addr_port(SocketAddr::new(ip, 0));
    // SAFETY: `bind` outlives the call.
    unsafe { wasix::sock_bind(fd, &bind) }.unwrap_or_else(|e| fail("sock_bind", e));

    let mut buf = vec![0u8; 2048];
    let iov = [wasix::Iovec { buf: buf.as_mut_ptr(), buf_len: buf.len() }];
    // SAFETY: the iovec describes `buf`, which outlives every call below.
    match unsafe { wasix::sock_recv_from(fd, &iov, wasix::RIFLAGS_RECV_DONT_WAIT) } {
        Ok((n, _, _)) => println!("dontwait_errno=0 bytes={n}"),
        Err(e) => println!("dontwait_errno={}", errno(e)),
    }
    let local = unsafe { wasix::sock_addr_local(fd) }.unwrap_or_else(|e| fail("sock_addr_local", e));
    println!("listening={}", shown(&local));

    for _ in 0..count {
        let (n, roflags, from) =
            unsafe { wasix::sock_recv_from(fd, &iov, 0) }.unwrap_or_else(|e| fail("sock_recv_from", e));
        println!(
            "from={} bytes={n} truncated={}",
            shown(&from),
            roflags & wasix::ROFLAGS_RECV_DATA_TRUNCATED
        );
        let out = [wasix::Ciovec { buf: buf.as_ptr(), buf_len: n }];
        let sent =
            unsafe { wasix::sock_send_to(fd, &out, 0, &from) }.unwrap_or_else(|e| fail("sock_send_to", e));
        assert_eq!(sent, n, "a datagram goes whole");
    }
    println!("echoed={count}");
}
