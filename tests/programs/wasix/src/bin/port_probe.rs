//! port_probe: what wasix-libc's `is_wasi_port_ok()` does once per libc object that converts
//! host addresses: open a TCP socket, bind it to 0.0.0.0 with the raw port 10275 (its
//! `sin_port = 9000` without htons), read the address back and close the socket. Prints
//! `bind_errno=N` and, when the bind succeeded, `port=N` and `port_bytes=HEX` (the field read as a
//! little-endian u16, and its two bytes as the host wrote them), then `libc_assumes=little`
//! or `big`, as the libc would conclude.

use std::net::SocketAddr;

use wasock_wasix_programs::{addr_port, errno, fail, port_bytes, socket_addr, wasix};

fn main() {
    let fd = wasock_wasix_programs::open("0.0.0.0".parse().unwrap(), true)
        .unwrap_or_else(|e| fail("sock_open", e));
    let probe = addr_port(SocketAddr::from(([0, 0, 0, 0], 10275)));
    // SAFETY: `probe` outlives the call.
    let little = match unsafe { wasix::sock_bind(fd, &probe) } {
        Err(e) => {
            println!("bind_errno={}", errno(e));
            true
        }
        Ok(()) => {
            println!("bind_errno=0");
            match unsafe { wasix::sock_addr_local(fd) } {
                Err(e) => {
                    println!("addr_local_errno={}", errno(e));
                    true
                }
                Ok(local) => {
                    let port = socket_addr(&local).map(|a| a.port()).unwrap_or(0);
                    println!("port={port}");
                    println!("port_bytes={}", port_bytes(&local));
                    port == 10275
                }
            }
        }
    };
    unsafe { wasix::fd_close(fd) }.unwrap_or_else(|e| fail("fd_close", e.into()));
    println!("libc_assumes={}", if little { "little" } else { "big" });
}
