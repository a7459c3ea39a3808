//! nonblocking_connect IP PORT: connects the way wasix-libc's `socket(..., SOCK_STREAM |
//! SOCK_NONBLOCK, 0)` and Rust std's timed connect do: a non-blocking socket (the raw
//! `sock_open` with type 0x4001), `sock_connect` (EINPROGRESS), `poll_oneoff` until the
//! socket is writable, then `sock_status`. Prints `open_errno=N`, `connect_errno=N`,
//! `writable=0|1`, `status=N`; when connected, sends `ping` and waits for the echo with
//! DONT_WAIT receives between polls: `echo=TEXT`.

use std::net::{IpAddr, SocketAddr};

use wasock_wasix_programs::{addr_port, args, errno, wasix};

/// Waits up to 10 s for `fd` to be readable (`read`) or writable: whether it is.
fn wait(fd: wasix::Fd, read: bool) -> bool {
    let ty = if read { wasix::EVENTTYPE_FD_READ } else { wasix::EVENTTYPE_FD_WRITE };
    let fd_sub = wasix::wasi::SubscriptionFdReadwrite { file_descriptor: fd };
    let subs = [
        wasix::wasi::Subscription {
            userdata: 1,
            u: wasix::wasi::SubscriptionU {
                tag: ty.raw(),
                u: if read {
                    wasix::wasi::SubscriptionUU { fd_read: fd_sub }
                } else {
                    wasix::wasi::SubscriptionUU { fd_write: fd_sub }
                },
            },
        },
        wasix::wasi::Subscription {
            userdata: 2,
            u: wasix::wasi::SubscriptionU {
                tag: wasix::EVENTTYPE_CLOCK.raw(),
                u: wasix::wasi::SubscriptionUU {
                    clock: wasix::wasi::SubscriptionClock {
                        id: wasix::wasi::CLOCKID_MONOTONIC,
                        timeout: 10_000_000_000,
                        precision: 0,
                        flags: 0,
                    },
                },
            },
        },
    ];
    // SAFETY: all zeros is a valid Event (plain integers).
    let mut events: [wasix::wasi::Event; 2] = unsafe { std::mem::zeroed() };
    // SAFETY: both arrays live through the call and have the lengths given.
    let n = unsafe { wasix::wasi::poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2) }.expect("poll_oneoff");
    events[..n].iter().any(|e| e.userdata == 1)
}

fn main() {
    let args = args();
    let ip: IpAddr = args[0].parse().expect("IP");
    let port: u16 = args[1].parse().expect("PORT");
    let af = if ip.is_ipv6() { 2 } else { 1 };
    let mut fd: wasix::Fd = 0;
    // SAFETY: `fd` outlives the call. STREAM (1) with wasix-libc's SOCK_NONBLOCK (0x4000).
    let ret = unsafe { wasix::wasix_32v1::sock_open(af, 1 | 0x4000, 0, &mut fd as *mut _ as i32) };
    println!("open_errno={ret}");
    let to = addr_port(SocketAddr::new(ip, port));
    // SAFETY: `to` outlives the call.
    match unsafe { wasix::sock_connect(fd, &to) } {
        Ok(()) => println!("connect_errno=0"),
        Err(e) => println!("connect_errno={}", errno(e)),
    }
    println!("writable={}", wait(fd, false) as u8);
    let status = unsafe { wasix::sock_status(fd) }.expect("sock_status");
    println!("status={}", status.raw());
    if status.raw() != 1 {
        return;
    }
    let data = b"ping";
    let iov = [wasix::Ciovec { buf: data.as_ptr(), buf_len: data.len() }];
    // SAFETY: the iovec describes `data`.
    unsafe { wasix::sock_send(fd, &iov, 0) }.expect("sock_send");
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    for _ in 0..100 {
        if got.len() >= data.len() || !wait(fd, true) {
            break;
        }
        match wasock_wasix_programs::recv(fd, &mut buf, wasix::RIFLAGS_RECV_DONT_WAIT) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e == wasix::ERRNO_AGAIN => {}
            Err(e) => {
                println!("recv_errno={}", errno(e));
                break;
            }
        }
    }
    println!("echo={}", String::from_utf8_lossy(&got));
}
