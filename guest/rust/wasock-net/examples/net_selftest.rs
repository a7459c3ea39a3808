//! Exercises the whole crate against the runtime on loopback, in one process, and prints one
//! line per check: `ok NAME` or `FAIL NAME: why`. Exit status 0 when every check passed,
//! 1 otherwise.
//!
//! ```sh
//! wasock --addr-pool=127.0.0.1/32,::1/128 --allow-resolve=localhost net_selftest.wasm
//! ```
//!
//! It needs exactly that policy: one check expects 127.0.0.2 to be outside the pool
//! (PermissionDenied) and one expects `localhost` to resolve while `denied.invalid` is refused.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wasock_net::{Socket, TcpListener, TcpStream, UdpSocket, lookup_host};

type Check = Result<(), String>;
type CheckFn = fn() -> Check;

fn main() -> ExitCode {
    let checks: &[(&str, CheckFn)] = &[
        ("tcp_echo_v4", tcp_echo_v4),
        ("tcp_addresses", tcp_addresses),
        ("tcp_peek", tcp_peek),
        ("tcp_half_close", tcp_half_close),
        ("tcp_vectored", tcp_vectored),
        ("tcp_read_timeout", tcp_read_timeout),
        ("tcp_nonblocking", tcp_nonblocking),
        ("tcp_connect_refused", tcp_connect_refused),
        ("tcp_connect_timeout", tcp_connect_timeout),
        ("tcp_options", tcp_options),
        ("tcp_echo_v6", tcp_echo_v6),
        ("udp_roundtrip", udp_roundtrip),
        ("udp_connected", udp_connected),
        ("udp_empty_datagram", udp_empty_datagram),
        ("udp_options", udp_options),
        ("addr_pool_denies", addr_pool_denies),
        ("lookup_localhost", lookup_localhost),
        ("lookup_denied", lookup_denied),
        ("connect_by_name", connect_by_name),
    ];
    let mut failures = 0;
    for (name, check) in checks {
        match check() {
            Ok(()) => println!("ok {name}"),
            Err(why) => {
                failures += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    println!("{} passed, {failures} failed", checks.len() - failures);
    if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Turns an io::Error into a message naming the step that failed.
fn at<T>(step: &str, result: io::Result<T>) -> Result<T, String> {
    result.map_err(|err| format!("{step}: {err} ({:?}, os error {:?})", err.kind(), err.raw_os_error()))
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Check {
    if got == want { Ok(()) } else { Err(format!("{what}: got {got:?}, want {want:?}")) }
}

fn expect_err<T: std::fmt::Debug>(what: &str, result: io::Result<T>, want: ErrorKind) -> Check {
    match result {
        Err(err) if err.kind() == want => Ok(()),
        Err(err) => Err(format!("{what}: got error {err} ({:?}), want {want:?}", err.kind())),
        Ok(value) => Err(format!("{what}: got Ok({value:?}), want {want:?}")),
    }
}

/// A connected pair on loopback: (client, server side, listener).
fn pair(bind: &str) -> Result<(TcpStream, TcpStream, TcpListener), String> {
    let listener = at("bind", TcpListener::bind(bind))?;
    let addr = at("local_addr", listener.local_addr())?;
    let client = at("connect", TcpStream::connect(addr))?;
    let (server, _) = at("accept", listener.accept())?;
    Ok((client, server, listener))
}

fn read_exact(mut stream: &TcpStream, len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0; len];
    at("read_exact", stream.read_exact(&mut buf))?;
    Ok(buf)
}

fn tcp_echo_v4() -> Check {
    let (mut client, mut server, _listener) = pair("127.0.0.1:0")?;
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    // 100 kB fits the loopback buffers, so writing it all before reading cannot deadlock.
    at("client write_all", client.write_all(&message))?;
    let got = read_exact(&server, message.len())?;
    expect_eq("bytes at the server", got == message, true)?;
    at("server write_all", server.write_all(b"pong"))?;
    expect_eq("reply", read_exact(&client, 4)?, b"pong".to_vec())
}

fn tcp_addresses() -> Check {
    let listener = at("bind", TcpListener::bind("127.0.0.1:0"))?;
    let listen_addr = at("listener local_addr", listener.local_addr())?;
    expect_eq("listener ip", listen_addr.ip(), Ipv4Addr::LOCALHOST.into())?;
    if listen_addr.port() == 0 {
        return Err("the listener reports port 0".into());
    }
    let client = at("connect", TcpStream::connect(listen_addr))?;
    let (server, peer) = at("accept", listener.accept())?;
    expect_eq("client peer_addr", at("peer_addr", client.peer_addr())?, listen_addr)?;
    let client_local = at("client local_addr", client.local_addr())?;
    expect_eq("accept's peer", peer, client_local)?;
    expect_eq("server peer_addr", at("server peer_addr", server.peer_addr())?, client_local)?;
    expect_err("listener peer_addr", listener.socket().peer_addr(), ErrorKind::NotConnected)
}

fn tcp_peek() -> Check {
    let (mut client, server, _listener) = pair("127.0.0.1:0")?;
    at("write", client.write_all(b"hello"))?;
    let mut buf = [0; 5];
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut peeked = 0;
    // A peek may see only part of the data; wait (bounded) until all five bytes are queued.
    while peeked < 5 && Instant::now() < deadline {
        peeked = at("peek", server.peek(&mut buf))?;
    }
    expect_eq("peeked", &buf[..peeked], &b"hello"[..])?;
    expect_eq("read after peek", read_exact(&server, 5)?, b"hello".to_vec())
}

fn tcp_half_close() -> Check {
    let (mut client, mut server, _listener) = pair("127.0.0.1:0")?;
    at("write", client.write_all(b"last words"))?;
    at("shutdown(Write)", client.shutdown(Shutdown::Write))?;
    let mut got = Vec::new();
    at("read to EOF", server.read_to_end(&mut got))?;
    expect_eq("data before EOF", got, b"last words".to_vec())?;
    // Shutting down only the write side keeps the other direction open.
    at("server write after client's shutdown(Write)", server.write_all(b"still open"))?;
    expect_eq("client read", read_exact(&client, 10)?, b"still open".to_vec())
}

fn tcp_vectored() -> Check {
    let (mut client, mut server, _listener) = pair("127.0.0.1:0")?;
    let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b""), io::IoSlice::new(b"cde")];
    expect_eq("empty write", at("write(&[])", client.write(&[]))?, 0)?;
    expect_eq("empty read", at("read(&mut [])", server.read(&mut []))?, 0)?;
    let sent = at("write_vectored", client.write_vectored(&bufs))?;
    expect_eq("bytes sent", sent, 5)?;
    let (mut first, mut second) = ([0u8; 3], [0u8; 2]);
    let mut received = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while received == 0 && Instant::now() < deadline {
        let mut slices = [io::IoSliceMut::new(&mut first), io::IoSliceMut::new(&mut second)];
        received = at("read_vectored", server.read_vectored(&mut slices))?;
    }
    let mut got = [&first[..], &second[..]].concat();
    got.truncate(received);
    let rest = read_exact(&server, 5 - received)?;
    got.extend(rest);
    expect_eq("scattered bytes", got, b"abcde".to_vec())
}

fn tcp_read_timeout() -> Check {
    let (_client, mut server, _listener) = pair("127.0.0.1:0")?;
    expect_err("zero timeout", server.set_read_timeout(Some(Duration::ZERO)), ErrorKind::InvalidInput)?;
    expect_eq("default timeout", at("read_timeout", server.read_timeout())?, None)?;
    at("set_read_timeout", server.set_read_timeout(Some(Duration::from_millis(200))))?;
    expect_eq("timeout", at("read_timeout", server.read_timeout())?, Some(Duration::from_millis(200)))?;
    let start = Instant::now();
    expect_err("read with nothing to read", server.read(&mut [0; 8]), ErrorKind::WouldBlock)?;
    let waited = start.elapsed();
    if waited < Duration::from_millis(150) || waited > Duration::from_secs(5) {
        return Err(format!("the 200 ms read timeout fired after {waited:?}"));
    }
    at("set_write_timeout", server.set_write_timeout(Some(Duration::from_secs(3))))?;
    expect_eq("write timeout", at("write_timeout", server.write_timeout())?, Some(Duration::from_secs(3)))?;
    at("clear read timeout", server.set_read_timeout(None))?;
    expect_eq("cleared", at("read_timeout", server.read_timeout())?, None)
}

fn tcp_nonblocking() -> Check {
    let listener = at("bind", TcpListener::bind("127.0.0.1:0"))?;
    at("set_nonblocking", listener.set_nonblocking(true))?;
    expect_eq("nonblocking()", at("nonblocking", listener.socket().nonblocking())?, true)?;
    expect_err("accept with nothing pending", listener.accept(), ErrorKind::WouldBlock)?;
    let addr = at("local_addr", listener.local_addr())?;
    let mut client = at("connect", TcpStream::connect(addr))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut server = loop {
        match listener.accept() {
            Ok((server, _)) => break server,
            Err(err) if err.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(format!("non-blocking accept: {err}")),
        }
    };
    at("stream set_nonblocking", server.set_nonblocking(true))?;
    expect_err("read with nothing to read", server.read(&mut [0; 8]), ErrorKind::WouldBlock)?;
    at("write", client.write_all(b"x"))?;
    let mut buf = [0; 1];
    loop {
        match server.read(&mut buf) {
            Ok(1) => break,
            Ok(n) => return Err(format!("non-blocking read returned {n}")),
            Err(err) if err.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(format!("non-blocking read: {err}")),
        }
    }
    at("back to blocking", server.set_nonblocking(false))?;
    expect_eq("nonblocking() after clearing", at("nonblocking", server.socket().nonblocking())?, false)
}

/// A loopback port with no listener: bind one, note its port, close it.
fn closed_port() -> Result<SocketAddr, String> {
    let listener = at("bind", TcpListener::bind("127.0.0.1:0"))?;
    at("local_addr", listener.local_addr())
}

fn tcp_connect_refused() -> Check {
    let addr = closed_port()?;
    expect_err("connect to a closed port", TcpStream::connect(addr), ErrorKind::ConnectionRefused)?;
    let list = [addr, addr];
    expect_err("connect to each of a list", TcpStream::connect(&list[..]), ErrorKind::ConnectionRefused)
}

fn tcp_connect_timeout() -> Check {
    let listener = at("bind", TcpListener::bind("127.0.0.1:0"))?;
    let addr = at("local_addr", listener.local_addr())?;
    expect_err("zero timeout", TcpStream::connect_timeout(&addr, Duration::ZERO), ErrorKind::InvalidInput)?;
    let client = at("connect_timeout", TcpStream::connect_timeout(&addr, Duration::from_secs(5)))?;
    expect_eq("still blocking", at("nonblocking", client.socket().nonblocking())?, false)?;
    expect_eq("peer", at("peer_addr", client.peer_addr())?, addr)?;
    let refused = closed_port()?;
    expect_err(
        "connect_timeout to a closed port",
        TcpStream::connect_timeout(&refused, Duration::from_secs(5)),
        ErrorKind::ConnectionRefused,
    )
}

fn tcp_options() -> Check {
    let (client, _server, listener) = pair("127.0.0.1:0")?;
    at("set_nodelay", client.set_nodelay(true))?;
    expect_eq("nodelay", at("nodelay", client.nodelay())?, true)?;
    at("set_nodelay(false)", client.set_nodelay(false))?;
    expect_eq("nodelay", at("nodelay", client.nodelay())?, false)?;
    at("set_ttl", client.set_ttl(17))?;
    expect_eq("ttl", at("ttl", client.ttl())?, 17)?;
    expect_err("ttl 256", client.set_ttl(256), ErrorKind::InvalidInput)?;
    expect_eq("listener reuse_address", at("reuse_address", listener.socket().reuse_address())?, true)?;
    let socket = client.socket();
    at("set_keepalive", socket.set_keepalive(true))?;
    expect_eq("keepalive", at("keepalive", socket.keepalive())?, true)?;
    at("set_keepalive_time", socket.set_keepalive_time(Duration::from_secs(42)))?;
    expect_eq("keepalive_time", at("keepalive_time", socket.keepalive_time())?, Duration::from_secs(42))?;
    at("set_keepalive_interval", socket.set_keepalive_interval(Duration::from_secs(7)))?;
    expect_eq("interval", at("keepalive_interval", socket.keepalive_interval())?, Duration::from_secs(7))?;
    at("set_linger", client.set_linger(Some(Duration::from_secs(3))))?;
    expect_eq("linger", at("linger", client.linger())?, Some(Duration::from_secs(3)))?;
    at("set_linger(None)", client.set_linger(None))?;
    expect_eq("linger off", at("linger", client.linger())?, None)?;
    at("set_recv_buffer_size", socket.set_recv_buffer_size(64 * 1024))?;
    let size = at("recv_buffer_size", socket.recv_buffer_size())?;
    // Linux doubles what was set.
    if size < 64 * 1024 {
        return Err(format!("recv_buffer_size {size} after setting 65536"));
    }
    at("set_send_buffer_size", socket.set_send_buffer_size(64 * 1024))?;
    let size = at("send_buffer_size", socket.send_buffer_size())?;
    if size < 64 * 1024 {
        return Err(format!("send_buffer_size {size} after setting 65536"));
    }
    expect_eq("type", at("type", socket.r#type())?, wasock_net::Type::STREAM)
}

fn tcp_echo_v6() -> Check {
    let (mut client, server, _listener) = pair("[::1]:0")?;
    expect_eq("v6 peer", at("peer_addr", client.peer_addr())?.is_ipv6(), true)?;
    at("write", client.write_all(b"over v6"))?;
    expect_eq("v6 data", read_exact(&server, 7)?, b"over v6".to_vec())?;
    let socket = at("socket v6", Socket::new(wasock_net::Domain::IPV6, wasock_net::Type::STREAM))?;
    at("set_only_v6", socket.set_only_v6(true))?;
    expect_eq("only_v6", at("only_v6", socket.only_v6())?, true)
}

fn udp_pair() -> Result<(UdpSocket, UdpSocket), String> {
    let a = at("bind a", UdpSocket::bind("127.0.0.1:0"))?;
    let b = at("bind b", UdpSocket::bind("127.0.0.1:0"))?;
    for socket in [&a, &b] {
        at("set_read_timeout", socket.set_read_timeout(Some(Duration::from_secs(5))))?;
    }
    Ok((a, b))
}

fn udp_roundtrip() -> Check {
    let (a, b) = udp_pair()?;
    let b_addr = at("local_addr", b.local_addr())?;
    expect_eq("sent", at("send_to", a.send_to(b"datagram one", b_addr))?, 12)?;
    let mut buf = [0; 64];
    let (n, from) = at("peek_from", b.peek_from(&mut buf))?;
    expect_eq("peeked", &buf[..n], &b"datagram one"[..])?;
    let (n, from_again) = at("recv_from", b.recv_from(&mut buf))?;
    expect_eq("received", &buf[..n], &b"datagram one"[..])?;
    expect_eq("sender", from, at("a local_addr", a.local_addr())?)?;
    expect_eq("sender again", from_again, from)?;
    // Datagram boundaries are kept: two sends are two receives.
    at("send_to 2", a.send_to(b"two", b_addr))?;
    at("send_to 3", a.send_to(b"three", b_addr))?;
    let (n, _) = at("recv 2", b.recv_from(&mut buf))?;
    expect_eq("second", &buf[..n], &b"two"[..])?;
    let (n, _) = at("recv 3", b.recv_from(&mut buf))?;
    expect_eq("third", &buf[..n], &b"three"[..])
}

fn udp_connected() -> Check {
    let (a, b) = udp_pair()?;
    expect_err("peer_addr before connect", a.peer_addr(), ErrorKind::NotConnected)?;
    let b_addr = at("b local_addr", b.local_addr())?;
    at("connect", a.connect(b_addr))?;
    expect_eq("peer_addr", at("peer_addr", a.peer_addr())?, b_addr)?;
    at("send", a.send(b"connected"))?;
    let mut buf = [0; 64];
    let (n, from) = at("recv_from", b.recv_from(&mut buf))?;
    expect_eq("data", &buf[..n], &b"connected"[..])?;
    at("reply", b.send_to(b"reply", from))?;
    let n = at("recv", a.recv(&mut buf))?;
    expect_eq("reply", &buf[..n], &b"reply"[..])
}

fn udp_empty_datagram() -> Check {
    let (a, b) = udp_pair()?;
    let b_addr = at("local_addr", b.local_addr())?;
    expect_eq("sent", at("send_to(empty)", a.send_to(&[], b_addr))?, 0)?;
    at("send_to after", a.send_to(b"after", b_addr))?;
    let mut buf = [0; 16];
    let (n, from) = at("recv_from(empty datagram)", b.recv_from(&mut buf))?;
    expect_eq("empty datagram length", n, 0)?;
    expect_eq("sender", from, at("a local_addr", a.local_addr())?)?;
    let (n, _) = at("recv_from", b.recv_from(&mut buf))?;
    expect_eq("next datagram", &buf[..n], &b"after"[..])
}

fn udp_options() -> Check {
    let socket = at("bind", UdpSocket::bind("127.0.0.1:0"))?;
    at("set_broadcast", socket.set_broadcast(true))?;
    expect_eq("broadcast", at("broadcast", socket.broadcast())?, true)?;
    at("set_multicast_ttl_v4", socket.set_multicast_ttl_v4(9))?;
    expect_eq("multicast_ttl_v4", at("multicast_ttl_v4", socket.multicast_ttl_v4())?, 9)?;
    at("set_multicast_loop_v4", socket.set_multicast_loop_v4(false))?;
    expect_eq("multicast_loop_v4", at("multicast_loop_v4", socket.multicast_loop_v4())?, false)?;
    at("set_ttl", socket.set_ttl(33))?;
    expect_eq("ttl", at("ttl", socket.ttl())?, 33)?;
    expect_eq("type", at("type", socket.socket().r#type())?, wasock_net::Type::DGRAM)
}

fn addr_pool_denies() -> Check {
    expect_err("bind 127.0.0.2", TcpListener::bind("127.0.0.2:0"), ErrorKind::PermissionDenied)?;
    expect_err("connect 127.0.0.2", TcpStream::connect("127.0.0.2:9"), ErrorKind::PermissionDenied)?;
    let socket = at("bind", UdpSocket::bind("127.0.0.1:0"))?;
    expect_err("send_to 127.0.0.2", socket.send_to(b"x", "127.0.0.2:9"), ErrorKind::PermissionDenied)
}

fn lookup_localhost() -> Check {
    let addrs: Vec<SocketAddr> = at("lookup_host(localhost)", lookup_host("localhost", 8080))?.collect();
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080) {
        return Err(format!("localhost resolved to {addrs:?}"));
    }
    let mut unique = addrs.clone();
    unique.dedup();
    expect_eq("no duplicates", unique.len(), addrs.len())
}

fn lookup_denied() -> Check {
    let result = lookup_host("denied.invalid", 80).map(|addrs| addrs.collect::<Vec<_>>());
    expect_err("lookup outside the allow-list", result, ErrorKind::PermissionDenied)
}

fn connect_by_name() -> Check {
    let listener = at("bind", TcpListener::bind("127.0.0.1:0"))?;
    let port = at("local_addr", listener.local_addr())?.port();
    // localhost may resolve to ::1 first; with no listener there, the next address is tried.
    let client = at("connect(localhost)", TcpStream::connect(("localhost", port)))?;
    let (_server, peer) = at("accept", listener.accept())?;
    expect_eq("peer", peer, at("local_addr", client.local_addr())?)
}
