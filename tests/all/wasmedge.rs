//! WasmEdge's socket ABI through guests built from crates.io's wasmedge_wasi_socket 0.5
//! (tests/programs/wasmedge, built in release mode as its users build them) and one WAT
//! fixture, against native peers in this test process, over loopback only.
//!
//! Imports covered: sock_open, sock_bind, sock_listen, sock_accept (V1, 2 parameters),
//! sock_getlocaladdr and sock_getpeeraddr (V1), sock_getsockopt/sock_setsockopt
//! (SO_REUSEADDR, SO_TYPE, SO_RCVTIMEO), sock_recv, sock_send, sock_shutdown: the TCP echo
//! server. sock_connect and sock_getaddrinfo: the TCP client. sock_recv_from (V2, 8
//! parameters) and sock_send_to: the UDP echo. sock_getaddrinfo alone: nslookup. The
//! 3-parameter `sock_accept` (V2) with NONBLOCK: `wasmedge_accept_v2.wat`. Every import's
//! layouts and errnos are unit-tested in crates/core/src/wasmedge/tests.rs.
//!
//! What the crate prints for an address needs care. Its `local_addr`, `peer_addr` and
//! `recv_from` hand the host a buffer declared immutable (`let addr_buf = [0u8; 16]`) and
//! read it back after the call; an optimised build may assume it still holds zeros, and
//! the release builds here do print `0.0.0.0` whatever the host wrote (a debug build prints
//! the real address). The ports come back through mutable variables and are right, so the
//! tests check ports, and the addresses only where they come from the native side.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, rust_in, wat};

/// WASI's EACCES: a policy denial.
const EACCES: &str = "2";
/// WASI's EAGAIN.
const EAGAIN: &str = "6";

/// The limit on every native socket operation.
const IO_LIMIT: Duration = Duration::from_secs(20);
/// How long a guest may take to print a line a test waits for (the first use builds it).
const LINE_LIMIT: Duration = Duration::from_secs(15);

const POOL: &str = "--addr-pool=127.0.0.1/32";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// A loopback address outside a pool of 127.0.0.1/32 (Linux answers on all of 127/8).
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The port at the end of `ADDR:PORT` as the crate prints it.
fn port_of(printed: &str) -> u16 {
    let port = printed.rsplit(':').next().unwrap_or_default();
    port.parse().unwrap_or_else(|_| panic!("no port in {printed:?}"))
}

/// `len` bytes that differ from one offset to the next, so that a lost, repeated or
/// reordered chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| (i.wrapping_mul(7) ^ (i >> 10)) as u8).collect()
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect_timeout(&SocketAddr::new(LOCALHOST, port), IO_LIMIT)
        .unwrap_or_else(|e| panic!("connect to the guest on port {port}: {e}"));
    stream.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    stream.set_write_timeout(Some(IO_LIMIT)).expect("set_write_timeout");
    stream
}

/// Sends `data` to the guest while reading its echo; returns what came back before the
/// guest closed.
fn echo_through(stream: TcpStream, data: &[u8]) -> Vec<u8> {
    let mut writer = stream.try_clone().expect("clone the stream");
    let outgoing = data.to_vec();
    let sender = thread::spawn(move || {
        writer.write_all(&outgoing).expect("send to the guest");
        writer.shutdown(Shutdown::Write).expect("shut down the sending side");
    });
    let mut back = Vec::new();
    let mut reader = stream;
    reader.read_to_end(&mut back).expect("read the echo");
    sender.join().expect("the sending thread");
    back
}

#[test]
fn wasmedge_tcp_echo_server_echoes_every_byte_to_native_clients() {
    let mut server =
        rust_in("wasmedge", "tcp_echo_server").cmd().opt(POOL).args(["127.0.0.1:0", "2"]).spawn();
    let port = port_of(&server.wait_for_line("listening=", LINE_LIMIT));
    for len in [1usize << 20, 1] {
        let data = pattern(len);
        let stream = connect(port);
        let local_port = stream.local_addr().expect("local_addr").port();
        // The crate's peer_addr (sock_getpeeraddr V1) names this client's port.
        let peer = server.wait_for_line("peer=", LINE_LIMIT);
        assert_eq!(port_of(&peer), local_port, "the guest's peer_addr");
        assert_eq!(server.wait_for_line("type=", LINE_LIMIT), "stream", "SO_TYPE through sock_getsockopt");
        // SO_RCVTIMEO set as a 16-byte timeval and read back.
        assert_eq!(server.wait_for_line("rcvtimeo_ms=", LINE_LIMIT), "20500");
        let back = echo_through(stream, &data);
        assert_eq!(back.len(), data.len(), "echoed byte count");
        assert!(back == data, "the echo differs from what was sent ({len} bytes)");
        assert_eq!(server.wait_for_line("echoed=", LINE_LIMIT), len.to_string());
    }
    server.finish().assert_success();
}

#[test]
fn wasmedge_tcp_echo_server_on_ipv6() {
    let mut server = rust_in("wasmedge", "tcp_echo_server")
        .cmd()
        .opt("--addr-pool=::1/128")
        .args(["[::1]:0", "1"])
        .spawn();
    let port = port_of(&server.wait_for_line("listening=", LINE_LIMIT));
    let stream = TcpStream::connect_timeout(&SocketAddr::new(LOCALHOST_V6, port), IO_LIMIT)
        .unwrap_or_else(|e| panic!("connect to the guest on [::1]:{port}: {e}"));
    stream.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    let local_port = stream.local_addr().expect("local_addr").port();
    assert_eq!(port_of(&server.wait_for_line("peer=", LINE_LIMIT)), local_port, "the guest's peer_addr");
    let data = pattern(100_000);
    assert!(echo_through(stream, &data) == data, "the echo over IPv6 differs from what was sent");
    assert_eq!(server.wait_for_line("echoed=", LINE_LIMIT), data.len().to_string());
    server.finish().assert_success();
}

#[test]
fn wasmedge_blocked_accept_is_stopped_by_timeout() {
    let out = rust_in("wasmedge", "tcp_echo_server")
        .cmd()
        .opt(POOL)
        .opt("--timeout=1000")
        .args(["127.0.0.1:0", "1"])
        .run();
    out.assert_failure().assert_stderr_contains("--timeout");
    assert!(out.stdout.contains("listening="), "{out}");
    assert!(out.elapsed < Duration::from_secs(10), "the timeout took {:?}\n{out}", out.elapsed);
}

/// A native server for the client tests: accepts one connection, reads to the end, replies
/// `echo:` and what it read, and closes. Returns the client's address and what it sent.
fn reply_once(listener: TcpListener) -> thread::JoinHandle<(SocketAddr, Vec<u8>)> {
    thread::spawn(move || {
        let (mut stream, from) = accept_within(&listener, IO_LIMIT).expect("accept the guest");
        stream.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read from the guest");
        let mut reply = b"echo:".to_vec();
        reply.extend_from_slice(&got);
        stream.write_all(&reply).expect("reply to the guest");
        (from, got)
    })
}

/// Accepts on a non-blocking poll of `listener` until `limit`.
fn accept_within(listener: &TcpListener, limit: Duration) -> std::io::Result<(TcpStream, SocketAddr)> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, from)) => {
                stream.set_nonblocking(false)?;
                return Ok((stream, from));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn wasmedge_tcp_client_talks_to_a_native_listener_by_address_and_by_name() {
    // The crate looks names up with the service "http" (and then sets the port itself), so
    // the host's getaddrinfo needs /etc/services (Debian's netbase).
    let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
    assert!(
        services.lines().any(|l| l.split_whitespace().next() == Some("http")),
        "/etc/services does not name the service http, which wasmedge_wasi_socket's name lookup \
         asks for: install it (apt-get install netbase)"
    );
    for (host, extra) in [("127.0.0.1", None), ("localhost", Some("--allow-resolve=localhost"))] {
        let listener = TcpListener::bind((LOCALHOST, 0)).expect("bind a native listener");
        let port = listener.local_addr().expect("local_addr").port();
        let server = reply_once(listener);
        let mut cmd = rust_in("wasmedge", "tcp_client").cmd().opt(POOL);
        if let Some(option) = extra {
            cmd = cmd.opt(option);
        }
        let out = cmd.args([format!("{host}:{port}"), "hello from wasm".to_string()]).run();
        out.assert_success();
        let (from, got) = server.join().expect("the native server");
        assert_eq!(got, b"hello from wasm", "what the guest sent\n{out}");
        assert_eq!(out.value("reply"), "echo:hello", "{out}");
        assert!(out.stdout.contains("reply=echo:hello from wasm\n"), "{out}");
        // sock_getlocaladdr/sock_getpeeraddr (V1) name both ends of the connection.
        assert_eq!(port_of(&out.value("local")), from.port(), "the guest's local port\n{out}");
        assert_eq!(port_of(&out.value("peer")), port, "the guest's peer port\n{out}");
    }
}

#[test]
fn wasmedge_connect_outside_the_pool_is_eacces_reaches_nothing_and_is_traced() {
    let listener = TcpListener::bind((OTHER, 0)).expect("bind a native listener on 127.0.0.2");
    let port = listener.local_addr().expect("local_addr").port();
    let target = format!("127.0.0.2:{port}");
    let out = rust_in("wasmedge", "tcp_client").cmd().opt(POOL).opt("--trace").args([&target, "x"]).run();
    out.assert_failure();
    assert!(out.stdout.starts_with("error=2 during=connect "), "expected EACCES from connect\n{out}");
    let line = out.stderr.lines().find(|l| l.contains("denied: sock_connect to 127.0.0.2"));
    let line = line.unwrap_or_else(|| panic!("no trace line for the denied connect\n{out}"));
    assert!(line.contains("--addr-pool=127.0.0.2/32"), "the trace line names no flag: {line}\n{out}");
    match accept_within(&listener, Duration::from_millis(300)) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("a denied guest connected (from {from})\n{out}"),
        Err(e) => panic!("accept: {e}"),
    }
    // The control: with 127.0.0.2 granted, the same guest reaches the same listener.
    let server = reply_once(listener);
    let out =
        rust_in("wasmedge", "tcp_client").cmd().opt("--addr-pool=127.0.0.2/32").args([&target, "x"]).run();
    out.assert_success();
    assert_eq!(server.join().expect("the native server").1, b"x", "{out}");
}

#[test]
fn wasmedge_udp_echo_reports_the_port_byte_swapped_as_wasmedge_does_and_echoes() {
    let mut server = rust_in("wasmedge", "udp_echo").cmd().opt(POOL).args(["127.0.0.1:0", "2"]).spawn();
    let port = port_of(&server.wait_for_line("listening=", LINE_LIMIT));
    let client = UdpSocket::bind((LOCALHOST, 0)).expect("bind a native UDP socket");
    client.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    let client_port = client.local_addr().expect("local_addr").port();
    for datagram in [pattern(1200), b"ping".to_vec()] {
        client.send_to(&datagram, (LOCALHOST, port)).expect("send to the guest");
        // WasmEdge writes sock_recv_from_v2's port in network byte order and the crate reads
        // it as little-endian: the guest sees the client's port with its bytes swapped.
        let from = server.wait_for_line("from=", LINE_LIMIT);
        assert_eq!(
            port_of(&from),
            client_port.swap_bytes(),
            "the port the crate reports (client port {client_port})"
        );
        // The guest undoes the swap; its reply reaches the client only if the host sent
        // to the port the guest named, in host order.
        assert_eq!(server.wait_for_line("reply_port=", LINE_LIMIT), client_port.to_string());
        let mut buf = vec![0u8; 65536];
        let (n, sender) = client.recv_from(&mut buf).expect("the echo");
        assert_eq!(sender.port(), port, "the echo's source port");
        assert!(buf[..n] == datagram[..], "the echo differs ({n} bytes back, {} sent)", datagram.len());
        assert_eq!(server.wait_for_line("sent=", LINE_LIMIT), datagram.len().to_string());
    }
    server.finish().assert_success();
}

fn nslookup(options: &[&str], name: &str, service: &str) -> Output {
    let mut cmd = rust_in("wasmedge", "nslookup").cmd();
    for option in options {
        cmd = cmd.opt(option);
    }
    cmd.args([name, service]).run()
}

#[test]
fn wasmedge_nslookup_of_localhost_needs_allow_resolve() {
    // Allowed: the crate asks for IPv4 TCP results and reads the port from sa_data
    // (big-endian) and the address from its bytes 2..6.
    let out = nslookup(&["--allow-resolve=localhost"], "localhost", "8080");
    out.assert_success();
    assert!(out.stdout.contains("addr=127.0.0.1:8080\n"), "{out}");
    assert!(out.stdout.lines().filter(|l| l.starts_with("addr=")).all(|l| l.ends_with(":8080")), "{out}");

    // Not allowed: EACCES before any lookup, and a trace line naming the flag.
    let out = nslookup(&["--trace"], "localhost", "8080");
    out.assert_failure();
    assert_eq!(out.value("error"), EACCES, "{out}");
    assert!(
        out.stderr.contains("denied: resolving \"localhost\" (allow it with --allow-resolve=localhost)"),
        "{out}"
    );

    // A numeric name is judged too (the crate passes it to sock_getaddrinfo unparsed).
    let out = nslookup(&["--allow-resolve=localhost"], "127.0.0.1", "8080");
    out.assert_failure();
    assert_eq!(out.value("error"), EACCES, "{out}");
    let out = nslookup(&["--allow-resolve=127.0.0.1"], "127.0.0.1", "8080");
    out.assert_success();
    assert!(out.stdout.contains("addr=127.0.0.1:8080\n"), "{out}");
}

#[test]
fn wasmedge_nslookup_failures_are_wasmedge_resolver_errnos() {
    // A service getaddrinfo does not know: EAI_SERVICE, which WasmEdge returns as AISERVICE (85).
    let out = nslookup(&["--allow-resolve=localhost"], "localhost", "no-such-service-here");
    out.assert_failure();
    assert_eq!(out.value("error"), "85", "{out}");
}

#[test]
fn wasmedge_three_parameter_sock_accept_gets_the_v2_body() {
    let mut server = wat("wasmedge_accept_v2").cmd().opt(POOL).opt("--trace").spawn();
    let port: u16 = server.wait_for_line("port=", LINE_LIMIT).parse().expect("a port number");
    // The V1 getter's address type is 4 for IPv4, not the family number 1.
    assert_eq!(server.wait_for_line("type=", LINE_LIMIT), "4");
    let mut stream = connect(port);
    // The accepted socket is non-blocking (fdflags NONBLOCK): a receive before the client
    // sent anything is EAGAIN instead of a wait.
    assert_eq!(server.wait_for_line("accept=", LINE_LIMIT), "0");
    assert_eq!(server.wait_for_line("recv=", LINE_LIMIT), EAGAIN);
    let mut got = [0u8; 3];
    stream.read_exact(&mut got).expect("the guest's reply");
    assert_eq!(&got, b"v2\n");
    let out = server.finish();
    out.assert_success();
    assert!(out.stderr.contains("sock_accept_v2(3, 4, 4) -> ok"), "the V2 body was not called\n{out}");
}
