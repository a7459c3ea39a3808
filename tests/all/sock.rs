//! WAMR's socket extension through C guests that call the raw `sock_*` imports (no guest
//! library), against native peers in this test process (std::net), over loopback only.
//!
//! The guests (tests/programs/c/sock_*.c, sharing sock_imports.h) print `key=value` lines;
//! raw memory is printed as hex after pre-filling it with 0xEE, so that the tests see exactly
//! which bytes the host wrote. Every native socket has a timeout and every port is chosen by
//! the OS.
//!
//! Imports covered (all 52), by test:
//! - sock_open, sock_bind, sock_listen, sock_accept, sock_addr_local, sock_addr_remote,
//!   sock_recv, sock_recv_from, sock_send, sock_shutdown, sock_connect: the TCP transfers.
//! - sock_send_to, sock_recv_from, sock_connect/sock_send/sock_recv on UDP: the UDP tests.
//! - sock_close, the fallbacks of sock_open, bad kinds and bad fds: `abi_details_...`.
//! - the 36 option getters/setters and the two membership calls: `options_...`.
//! - sock_addr_resolve: `resolve_...`.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, Running, c};

/// WASI errno values.
pub(crate) const EACCES: i32 = 2;
const EAGAIN: i32 = 6;
const EBADF: i32 = 8;
const ECONNRESET: i32 = 15;
const EINPROGRESS: i32 = 26;
const EPIPE: i32 = 64;

/// The limit on every native socket operation.
const IO_LIMIT: Duration = Duration::from_secs(20);
/// How long a guest may take to print a line a test waits for.
const LINE_LIMIT: Duration = Duration::from_secs(15);
/// The size of the bulk transfers.
const BULK: u64 = 16 << 20;

const LOCALHOST_V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// A loopback address outside a pool of 127.0.0.1/32 (Linux answers on all of 127/8).
const OTHER_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn loopbacks() -> [IpAddr; 2] {
    [LOCALHOST_V4, LOCALHOST_V6]
}

/// `--addr-pool` granting exactly `ip`.
pub(crate) fn pool(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => format!("--addr-pool={ip}/32"),
        IpAddr::V6(_) => format!("--addr-pool={ip}/128"),
    }
}

/// The byte at offset `i` of the test stream (the guests' `pattern`).
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 10)) as u8
}

/// FNV-1a 64, as the guests compute it.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf29ce484222325)
    }

    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }

    fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// `len` bytes of the pattern starting at `offset`.
fn pattern_chunk(offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64).map(pattern).collect()
}

fn pattern_fnv(len: u64) -> String {
    let mut sum = Fnv::new();
    let mut offset = 0;
    while offset < len {
        let chunk = (len - offset).min(1 << 16);
        sum.update(&pattern_chunk(offset, chunk as usize));
        offset += chunk;
    }
    sum.hex()
}

/// The 28 bytes a guest prints after the host wrote `addr` as an `__wasi_addr_t` into memory
/// pre-filled with 0xEE: u32 kind, then IPv4 octets + LE port, or eight LE u16 groups + LE
/// port; everything after that is untouched (spec §2.2, §2.3).
fn wasi_addr_hex(addr: SocketAddr) -> String {
    let mut bytes = Vec::new();
    match addr {
        SocketAddr::V4(a) => {
            bytes.extend(0u32.to_le_bytes());
            bytes.extend(a.ip().octets());
        }
        SocketAddr::V6(a) => {
            bytes.extend(1u32.to_le_bytes());
            for group in a.ip().segments() {
                bytes.extend(group.to_le_bytes());
            }
        }
    }
    bytes.extend(addr.port().to_le_bytes());
    bytes.resize(28, 0xee);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The errno a guest printed as `key=N`.
#[track_caller]
pub(crate) fn errno(out: &Output, key: &str) -> i32 {
    let value = out.value(key);
    value.parse().unwrap_or_else(|_| panic!("{key}={value} is not an errno\n{out}"))
}

/// A socket address a guest printed as `key=ADDR:PORT`.
#[track_caller]
fn guest_addr(out: &Output, key: &str) -> SocketAddr {
    let value = out.value(key);
    value.parse().unwrap_or_else(|_| panic!("{key}={value} is not a socket address\n{out}"))
}

/// Checks many `key=value` lines at once and reports every mismatch.
#[track_caller]
pub(crate) fn assert_values(out: &Output, expected: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (key, want) in expected {
        let prefix = format!("{key}=");
        let got = out.stdout.lines().find_map(|l| l.strip_prefix(&prefix));
        if got != Some(*want) {
            wrong.push(format!("{key}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "unexpected values:\n{}\n{out}", wrong.join("\n"));
}

/// The port a guest server printed as `port=N`.
#[track_caller]
fn wait_for_port(guest: &mut Running) -> u16 {
    let text = guest.wait_for_line("port=", LINE_LIMIT);
    text.parse().unwrap_or_else(|_| panic!("port={text} is not a port"))
}

/// Finishes a guest after its native peer ran: if the peer failed, kills the guest and
/// panics with both stories.
#[track_caller]
pub(crate) fn finish<T>(guest: Running, native: Result<T, String>) -> (Output, T) {
    match native {
        Ok(value) => (guest.finish(), value),
        Err(e) => panic!("native peer: {e}\n{}", guest.kill()),
    }
}

/// Joins a native peer thread.
#[track_caller]
fn join<T>(peer: thread::JoinHandle<Result<T, String>>, out: &Output) -> T {
    match peer.join() {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => panic!("native peer: {e}\n{out}"),
        Err(_) => panic!("native peer thread panicked\n{out}"),
    }
}

/// Runs a socket call again when a signal interrupted it (the harness's child processes
/// end while we wait), at most 100 times.
pub(crate) fn retry<T>(mut op: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    for _ in 0..100 {
        match op() {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            other => return other,
        }
    }
    op()
}

/// `recv_from`, retried after EINTR.
fn recv_from(sock: &UdpSocket, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    retry(|| sock.recv_from(buf))
}

fn with_timeouts(stream: TcpStream) -> Result<TcpStream, String> {
    stream.set_read_timeout(Some(IO_LIMIT)).map_err(|e| format!("set_read_timeout: {e}"))?;
    stream.set_write_timeout(Some(IO_LIMIT)).map_err(|e| format!("set_write_timeout: {e}"))?;
    Ok(stream)
}

/// Accepts one connection within `limit`.
pub(crate) fn accept_within(listener: &TcpListener, limit: Duration) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| format!("set_nonblocking: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        match retry(|| listener.accept()) {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| format!("set_nonblocking: {e}"))?;
                return with_timeouts(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(format!("no connection accepted within {limit:?}: {e}")),
        }
    }
}

/// A native echo client: connects to `addr`, sends `data` 64 KiB at a time, reading each
/// piece's echo before sending the next (so that neither side's buffers fill up),
/// half-closes, and waits for the guest's close. Returns its own address and what came back.
pub(crate) fn echo_client(addr: SocketAddr, data: &[u8]) -> Result<(SocketAddr, Vec<u8>), String> {
    let mut stream = connect(addr)?;
    let local = stream.local_addr().map_err(|e| e.to_string())?;
    let mut back = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 1 << 16];
    for chunk in data.chunks(1 << 16) {
        retry(|| stream.write_all(chunk)).map_err(|e| format!("{local}: write: {e}"))?;
        let want = back.len() + chunk.len();
        while back.len() < want {
            match retry(|| stream.read(&mut buf)) {
                Ok(0) => return Err(format!("{local}: the guest closed after echoing {} bytes", back.len())),
                Ok(n) => back.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("{local}: read after {} bytes: {e}", back.len())),
            }
        }
    }
    stream.shutdown(Shutdown::Write).map_err(|e| format!("{local}: shutdown: {e}"))?;
    match retry(|| stream.read(&mut buf)) {
        Ok(0) => Ok((local, back)),
        Ok(n) => Err(format!("{local}: {n} bytes more than were sent")),
        Err(e) => Err(format!("{local}: waiting for the guest's close: {e}")),
    }
}

/// A native echo server for one connection on `listener`: echoes until EOF, then closes.
/// Returns the client's address and the byte count.
pub(crate) fn native_echo_server(
    listener: TcpListener,
) -> thread::JoinHandle<Result<(SocketAddr, u64), String>> {
    thread::spawn(move || {
        let mut stream = accept_within(&listener, IO_LIMIT)?;
        let peer = stream.peer_addr().map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        // Bounded: every read returns data, EOF or an error (after IO_LIMIT at most).
        loop {
            match retry(|| stream.read(&mut buf)) {
                Ok(0) => return Ok((peer, total)),
                Ok(n) => {
                    retry(|| stream.write_all(&buf[..n])).map_err(|e| format!("write: {e}"))?;
                    total += n as u64;
                }
                Err(e) => return Err(format!("read after {total} bytes: {e}")),
            }
        }
    })
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    with_timeouts(TcpStream::connect_timeout(&addr, IO_LIMIT).map_err(|e| format!("connect to {addr}: {e}"))?)
}

fn udp_socket(ip: IpAddr) -> UdpSocket {
    let sock = UdpSocket::bind((ip, 0)).unwrap_or_else(|e| panic!("bind a UDP socket on {ip}: {e}"));
    sock.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    sock.set_write_timeout(Some(IO_LIMIT)).expect("set_write_timeout");
    sock
}

/// Reads until EOF (at most 64 MiB): the byte count and the checksum.
fn read_to_eof(stream: &mut TcpStream) -> Result<(u64, Fnv), String> {
    let mut buf = vec![0u8; 1 << 16];
    let (mut total, mut sum) = (0u64, Fnv::new());
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok((total, sum)),
            Ok(n) => {
                sum.update(&buf[..n]);
                total += n as u64;
                if total > 64 << 20 {
                    return Err(format!("more than 64 MiB arrived ({total} bytes)"));
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read after {total} bytes: {e}")),
        }
    }
}

fn read_exact(stream: &mut TcpStream, n: usize) -> Result<String, String> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).map_err(|e| format!("reading {n} bytes: {e}"))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

// ---------------------------------------------------------------------------------------
// Coverage

/// The 52 import names: the 48 of `for_each_wamr_import!` and the four shared with WASI
/// preview 1. Each must be declared in sock_imports.h and called by some sock_*.c program, so
/// that a new import cannot slip in untested.
#[test]
fn every_sock_import_is_called_by_a_guest() {
    let root = crate::util::repo_root();
    let wamr = std::fs::read_to_string(root.join("crates/core/src/wamr/mod.rs")).expect("read wamr/mod.rs");
    let list =
        wamr.split("macro_rules! for_each_wamr_import").nth(1).expect("for_each_wamr_import! in wamr/mod.rs");
    let mut names: Vec<String> = list
        .lines()
        .filter_map(|l| l.trim_start().split_once('(').map(|(name, _)| name))
        .filter(|name| {
            name.starts_with("sock_") && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .map(str::to_string)
        .collect();
    assert_eq!(names.len(), 48, "for_each_wamr_import! lists 48 imports: {names:?}");
    names.extend(["sock_accept", "sock_recv", "sock_send", "sock_shutdown"].map(String::from));

    let dir = crate::util::programs_dir().join("c");
    let header = std::fs::read_to_string(dir.join("sock_imports.h")).expect("read sock_imports.h");
    let mut programs = String::new();
    for entry in std::fs::read_dir(&dir).expect("list tests/programs/c") {
        let path = entry.expect("entry").path();
        let file = path.file_name().expect("name").to_string_lossy().into_owned();
        if file.starts_with("sock_") && file.ends_with(".c") {
            programs.push_str(&std::fs::read_to_string(&path).expect("read a program"));
        }
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| {
            !header.contains(&format!("IMPORT({n})")) || !mentions_word(&programs, &format!("raw_{n}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "imports not declared in sock_imports.h or not called by a sock_*.c: {missing:?}"
    );
}

/// Whether `text` has `word` not followed by another identifier character (so that
/// `raw_sock_recv` is not found inside `raw_sock_recv_from`).
fn mentions_word(text: &str, word: &str) -> bool {
    text.match_indices(word)
        .any(|(at, _)| !text[at + word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

// ---------------------------------------------------------------------------------------
// TCP end to end

#[test]
fn tcp_guest_client_sends_16_mib_to_a_native_server_and_half_closes() {
    let expected = pattern_fnv(BULK);
    for ip in loopbacks() {
        let listener = TcpListener::bind((ip, 0)).expect("bind the native server");
        let server_addr = listener.local_addr().expect("local_addr");
        // Reads until the guest's SHUT_WR, then answers on the same connection: the reply only
        // arrives if the guest's shutdown closed just its sending side.
        let server = thread::spawn(move || -> Result<(SocketAddr, u64, String), String> {
            let mut conn = accept_within(&listener, IO_LIMIT)?;
            let peer = conn.peer_addr().map_err(|e| e.to_string())?;
            let (n, sum) = read_to_eof(&mut conn)?;
            conn.write_all(format!("count={n},fnv={}", sum.hex()).as_bytes()).map_err(|e| e.to_string())?;
            Ok((peer, n, sum.hex()))
        });
        let out = c("sock_tcp")
            .cmd()
            .opt(pool(ip))
            .args(["client", &ip.to_string(), &server_addr.port().to_string(), &BULK.to_string()])
            .run();
        let (guest_local, received, sum) = join(server, &out);
        out.assert_success();
        assert_eq!((received, sum.as_str()), (BULK, expected.as_str()), "what the native server got\n{out}");
        assert_values(
            &out,
            &[
                ("sent", &BULK.to_string()),
                ("fnv", &expected),
                ("shutdown", "0"),
                ("reply", &format!("count={BULK},fnv={expected}")),
                ("remote_bytes", &wasi_addr_hex(server_addr)),
                ("close", "0"),
            ],
        );
        assert_eq!(guest_addr(&out, "local"), guest_local, "sock_addr_local of the client\n{out}");
    }
}

#[test]
fn tcp_native_client_sends_16_mib_to_a_guest_server() {
    let expected = pattern_fnv(BULK);
    for ip in loopbacks() {
        let mut guest = c("sock_tcp").cmd().opt(pool(ip)).args(["serve", &ip.to_string()]).spawn();
        let guest_server = SocketAddr::new(ip, wait_for_port(&mut guest));
        let native = (|| -> Result<(SocketAddr, String), String> {
            let mut conn = connect(guest_server)?;
            let local = conn.local_addr().map_err(|e| e.to_string())?;
            let mut offset = 0u64;
            while offset < BULK {
                let chunk = pattern_chunk(offset, (BULK - offset).min(100_000) as usize);
                conn.write_all(&chunk).map_err(|e| format!("write at offset {offset}: {e}"))?;
                offset += chunk.len() as u64;
            }
            conn.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
            let mut reply = String::new();
            conn.read_to_string(&mut reply).map_err(|e| format!("read the reply: {e}"))?;
            Ok((local, reply))
        })();
        let (out, (native_local, reply)) = finish(guest, native);
        out.assert_success();
        assert_eq!(reply, "ok", "the guest's reply\n{out}");
        assert_values(
            &out,
            &[
                // sock_addr_local of the listener: 00000000 7f000001 <port LE>, the rest untouched.
                ("local_bytes", &wasi_addr_hex(guest_server)),
                ("remote_bytes", &wasi_addr_hex(native_local)),
                ("received", &BULK.to_string()),
                ("fnv", &expected),
                ("close", "0"),
            ],
        );
        assert_eq!(guest_addr(&out, "remote"), native_local, "{out}");
        assert_eq!(guest_addr(&out, "accepted_local"), guest_server, "{out}");
        // wasock reports the peer as sock_recv_from's source on TCP (WAMR reports [::]:0).
        assert_eq!(guest_addr(&out, "recv_from_src"), native_local, "{out}");
    }
}

// ---------------------------------------------------------------------------------------
// UDP end to end

#[test]
fn udp_16_mib_echoed_by_a_guest_with_right_source_addresses() {
    const DATAGRAM: u64 = 60_000;
    let expected = pattern_fnv(BULK);
    let count = BULK.div_ceil(DATAGRAM);
    for ip in loopbacks() {
        let mut guest =
            c("sock_udp").cmd().opt(pool(ip)).args(["echo", &ip.to_string(), &count.to_string()]).spawn();
        let guest_sock = SocketAddr::new(ip, wait_for_port(&mut guest));
        // One datagram at a time, so that nothing overflows a socket buffer.
        let native = (|| -> Result<SocketAddr, String> {
            let sock = udp_socket(ip);
            let mut buf = vec![0u8; 65536];
            let mut offset = 0u64;
            for k in 0..count {
                let data = pattern_chunk(offset, (BULK - offset).min(DATAGRAM) as usize);
                sock.send_to(&data, guest_sock).map_err(|e| format!("send datagram {k}: {e}"))?;
                let (n, from) =
                    recv_from(&sock, &mut buf).map_err(|e| format!("echo of datagram {k}: {e}"))?;
                if from != guest_sock {
                    return Err(format!("echo of datagram {k} came from {from}, not {guest_sock}"));
                }
                if buf[..n] != data[..] {
                    return Err(format!("echo of datagram {k} differs ({n} bytes, sent {})", data.len()));
                }
                offset += data.len() as u64;
            }
            sock.local_addr().map_err(|e| e.to_string())
        })();
        let (out, native_addr) = finish(guest, native);
        out.assert_success();
        assert_values(
            &out,
            &[
                ("local_bytes", &wasi_addr_hex(guest_sock)),
                ("from_bytes", &wasi_addr_hex(native_addr)),
                ("count", &count.to_string()),
                ("bytes", &BULK.to_string()),
                ("fnv", &expected),
            ],
        );
        assert_eq!(guest_addr(&out, "from"), native_addr, "{out}");
    }
}

#[test]
fn udp_guest_datagrams_carry_its_port_and_replies_show_the_native_source() {
    for ip in loopbacks() {
        let native = udp_socket(ip);
        let native_addr = native.local_addr().expect("local_addr");
        let guest = c("sock_udp")
            .cmd()
            .opt(pool(ip))
            .args(["send", &ip.to_string(), &native_addr.port().to_string(), "5"])
            .spawn();
        let script = (|| -> Result<SocketAddr, String> {
            let mut buf = [0u8; 100];
            let mut source = None;
            for i in 0..5 {
                let (n, from) = recv_from(&native, &mut buf).map_err(|e| format!("datagram {i}: {e}"))?;
                let text = String::from_utf8_lossy(&buf[..n]);
                if text != format!("dgram-{i}") {
                    return Err(format!("datagram {i} is {text:?}"));
                }
                if from.ip() != ip || source.is_some_and(|s| s != from) {
                    return Err(format!("datagram {i} came from {from} (earlier: {source:?})"));
                }
                source = Some(from);
            }
            let source = source.expect("five datagrams");
            native.send_to(b"reply", source).map_err(|e| e.to_string())?;
            // The guest connects its socket to us and uses sock_send/sock_recv.
            let (n, from) = recv_from(&native, &mut buf).map_err(|e| format!("connected datagram: {e}"))?;
            if &buf[..n] != b"connected" || from != source {
                return Err(format!(
                    "connected datagram {:?} from {from}",
                    String::from_utf8_lossy(&buf[..n])
                ));
            }
            native.send_to(b"reply2", source).map_err(|e| e.to_string())?;
            Ok(source)
        })();
        let (out, source) = finish(guest, script);
        out.assert_success();
        assert_eq!(out.value("local_port"), source.port().to_string(), "the guest's port\n{out}");
        assert_eq!(guest_addr(&out, "reply_from"), native_addr, "{out}");
        assert_eq!(guest_addr(&out, "connected_to"), native_addr, "{out}");
        assert_values(&out, &[("reply", "reply"), ("reply2", "reply2")]);
    }
}

// ---------------------------------------------------------------------------------------
// Options and ABI details

#[test]
fn options_round_trip_and_getters_write_exact_widths() {
    // SO_REUSEPORT needs --allow-port-sharing (tests/all/hostile.rs shows the refusal).
    let out = c("sock_opts").cmd().opt("--allow-port-sharing").arg("options").run();
    out.assert_success();
    // Each getter wrote into 12 bytes of 0xEE: booleans and TTLs 1 byte, sizes and seconds 4,
    // timeouts 8 (u64 microseconds).
    let on = "0:01eeeeeeeeeeeeeeeeeeeeee";
    let off = "0:00eeeeeeeeeeeeeeeeeeeeee";
    let mut expected: Vec<(String, &str)> = Vec::new();
    for name in [
        "keep_alive",
        "reuse_addr",
        "reuse_port",
        "tcp_no_delay",
        "tcp_quick_ack",
        "tcp_fastopen_connect",
        "broadcast",
        "ipv6_only",
    ] {
        expected.push((format!("set_{name}.on"), "0"));
        expected.push((format!("{name}.on"), on));
        expected.push((format!("set_{name}.off"), "0"));
        expected.push((format!("{name}.off"), off));
    }
    for name in ["keep_alive", "reuse_addr", "tcp_no_delay", "broadcast"] {
        expected.push((format!("{name}.default"), off));
    }
    for family in ["4", "6"] {
        expected.push((format!("set_mcast_loop{family}.off"), "0"));
        expected.push((format!("mcast_loop{family}.off"), off));
        expected.push((format!("set_mcast_loop{family}.on"), "0"));
        expected.push((format!("mcast_loop{family}.on"), on));
    }
    let fixed: &[(&str, &str)] = &[
        ("mcast_loop4.default", on),
        ("set_ip_ttl", "0"),
        ("ip_ttl", "0:4deeeeeeeeeeeeeeeeeeeeee"), // 77
        ("set_ip_multicast_ttl", "0"),
        ("ip_multicast_ttl", "0:05eeeeeeeeeeeeeeeeeeeeee"),
        // Linux reports twice the size set: 32768 -> 65536, 49152 -> 98304.
        ("set_recv_buf_size", "0"),
        ("recv_buf_size", "0:00000100eeeeeeeeeeeeeeee"),
        ("set_send_buf_size", "0"),
        ("send_buf_size", "0:00800100eeeeeeeeeeeeeeee"),
        ("recv_timeout.default", "0:0000000000000000eeeeeeee"),
        ("set_recv_timeout", "0"),
        ("recv_timeout", "0:60e3160000000000eeeeeeee"), // 1_500_000 us
        ("set_send_timeout", "0"),
        ("send_timeout", "0:8967452301000000eeeeeeee"), // 0x1_2345_6789 us: all 64 bits kept
        ("set_recv_timeout.zero", "0"),
        ("recv_timeout.zero", "0:0000000000000000eeeeeeee"),
        ("set_tcp_keep_idle", "0"),
        ("tcp_keep_idle", "0:7b000000eeeeeeeeeeeeeeee"), // 123 s
        ("set_tcp_keep_intvl", "0"),
        ("tcp_keep_intvl", "0:2d000000eeeeeeeeeeeeeeee"), // 45 s
        ("linger.default", "0:00eeeeeeeeeeeeeeeeeeeeee:00000000eeeeeeeeeeeeeeee"),
        ("set_linger.on", "0"),
        ("linger.on", "0:01eeeeeeeeeeeeeeeeeeeeee:07000000eeeeeeeeeeeeeeee"),
        ("set_linger.off", "0"),
        // Multicast groups on loopback: joining twice is EADDRINUSE (3), leaving a group that
        // is not joined EADDRNOTAVAIL (4), so the group and interface reached the kernel.
        ("add_membership4", "0"),
        ("add_membership4.again", "3"),
        ("drop_membership4", "0"),
        ("drop_membership4.again", "4"),
        ("add_membership6", "0"),
        ("add_membership6.again", "3"),
        ("drop_membership6", "0"),
        ("drop_membership6.again", "4"),
        // Not a socket: nothing is written.
        ("set_keep_alive.badfd", "8"),
        ("keep_alive.badfd", "8:eeeeeeeeeeeeeeeeeeeeeeee"),
        ("keep_alive.stdout", "57:eeeeeeeeeeeeeeeeeeeeeeee"),
        ("recv_timeout.badfd", "8:eeeeeeeeeeeeeeeeeeeeeeee"),
        ("done", "1"),
    ];
    let mut all: Vec<(&str, &str)> = expected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    all.extend_from_slice(fixed);
    assert_values(&out, &all);
    // Linger off: the flag byte is 0 and the seconds are 4 bytes (Linux keeps the old count).
    let linger_off = out.value("linger.off");
    assert!(
        linger_off.starts_with("0:00eeeeeeeeeeeeeeeeeeeeee:") && linger_off.ends_with("eeeeeeeeeeeeeeee"),
        "linger.off={linger_off}\n{out}"
    );
}

#[test]
fn abi_details_sock_close_open_fallbacks_bad_kinds_and_bad_fds() {
    // No --addr-pool: the kind check comes before the pool, so bad kinds are EPROTONOSUPPORT.
    let out = c("sock_opts").cmd().arg("misc").run();
    out.assert_success();
    assert_values(
        &out,
        &[
            ("sock_close", "52"), // ENOSYS, and the socket stays open:
            ("fdstat_after_sock_close", "0"),
            ("filetype.tcp", "6"),
            ("filetype.udp", "5"),
            // Any af but INET6 is IPv4, any type but DGRAM is TCP.
            ("open_odd", "0"),
            ("filetype.odd", "6"),
            ("addr_local.odd", "0:00000000000000000000eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
            ("addr_local.unbound6", "0:01000000000000000000000000000000000000000000eeeeeeeeeeee"),
            ("bind.badkind", "66"),
            ("connect.badkind", "66"),
            ("send_to.badkind", "66"),
            ("listen.badfd", "8"),
            ("listen.stdout", "76"),
            ("listen.udp", "58"),
            ("accept.badfd", "8"),
            ("addr_remote.unconnected", "53:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
            ("addr_local.badfd", "8"),
            ("shutdown.unconnected_udp", "53"),
            ("shutdown.badhow", "28"),
            ("shutdown.stdout", "57"),
            ("done", "1"),
        ],
    );
}

#[test]
fn out_of_bounds_out_pointers_trap_without_crashing_the_host() {
    for case in ["oob_addr_local", "oob_get_timeout"] {
        let out = c("sock_opts").cmd().arg(case).run();
        out.assert_failure();
        assert_eq!(out.code(), Some(1), "{case}: a trap exits with 1\n{out}");
        assert!(out.stdout.contains("calling\n"), "{case}\n{out}");
        assert!(!out.stdout.contains("returned="), "{case}: the call returned instead of trapping\n{out}");
        out.assert_stderr_contains("out of bounds");
    }
}

// ---------------------------------------------------------------------------------------
// Policy: --addr-pool and --allow-resolve

/// A native TCP listener and UDP socket on `ip`, on the same port.
pub(crate) fn tcp_and_udp_on_one_port(ip: IpAddr) -> (TcpListener, UdpSocket) {
    for _ in 0..50 {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind a listener on {ip}: {e}"));
        let port = listener.local_addr().expect("local_addr").port();
        if let Ok(udp) = UdpSocket::bind((ip, port)) {
            return (listener, udp);
        }
    }
    panic!("no port on {ip} was free for both TCP and UDP in 50 tries");
}

/// Neither a connection nor a datagram reached the native sockets.
#[track_caller]
pub(crate) fn assert_nothing_arrived(listener: &TcpListener, udp: &UdpSocket, out: &Output) {
    listener.set_nonblocking(true).expect("set_nonblocking");
    match retry(|| listener.accept()) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("a denied guest connected (from {from})\n{out}"),
        Err(e) => panic!("accept: {e}"),
    }
    udp.set_read_timeout(Some(Duration::from_millis(300))).expect("set_read_timeout");
    let mut buf = [0u8; 16];
    match recv_from(udp, &mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Ok((n, from)) => panic!("a denied guest's datagram arrived ({n} bytes from {from})\n{out}"),
        Err(e) => panic!("recv_from: {e}"),
    }
}

#[test]
fn without_an_addr_pool_bind_connect_and_send_to_are_eacces_and_send_nothing() {
    for ip in loopbacks() {
        let (listener, udp) = tcp_and_udp_on_one_port(ip);
        let port = listener.local_addr().expect("local_addr").port();
        let out = c("sock_policy").cmd().args(["try", &ip.to_string(), &port.to_string()]).run();
        out.assert_success();
        for key in ["bind", "connect", "send_to"] {
            assert_eq!(errno(&out, key), EACCES, "{key} to {ip} without --addr-pool\n{out}");
        }
        assert_eq!(out.value("send_to_sent"), "eeeeeeee", "a denied send_to wrote its count\n{out}");
        assert_nothing_arrived(&listener, &udp, &out);
    }
}

#[test]
fn loopback_outside_the_pool_is_eacces_sends_nothing_and_is_traced() {
    let (listener, udp) = tcp_and_udp_on_one_port(OTHER_V4);
    let port = listener.local_addr().expect("local_addr").port().to_string();
    for target in ["127.0.0.2", "::ffff:127.0.0.2"] {
        let out = c("sock_policy")
            .cmd()
            .opt("--addr-pool=127.0.0.1/32")
            .opt("--trace")
            .args(["try", target, &port])
            .run();
        out.assert_success();
        for key in ["bind", "connect", "send_to"] {
            assert_eq!(errno(&out, key), EACCES, "{key} to {target} with a pool of 127.0.0.1/32\n{out}");
        }
        assert_nothing_arrived(&listener, &udp, &out);
        // Each denial is traced with what was denied and the flag that would allow it.
        for call in ["sock_bind", "sock_connect", "sock_send_to"] {
            let line = out.stderr.lines().find(|l| l.contains(call) && l.contains("--addr-pool="));
            let line =
                line.unwrap_or_else(|| panic!("no trace line for the denied {call} to {target}\n{out}"));
            assert!(line.contains("127.0.0.2"), "the trace line does not name the address: {line}\n{out}");
            assert!(line.contains("denied"), "the trace line does not say denied: {line}\n{out}");
        }
    }
    // The control: granting 127.0.0.2 lets the same guest reach the same native sockets, so
    // the checks above would have seen traffic.
    let out = c("sock_policy").cmd().opt("--addr-pool=127.0.0.2/32").args(["try", "127.0.0.2", &port]).run();
    out.assert_success();
    assert_values(&out, &[("bind", "0"), ("connect", "0"), ("send_to", "0"), ("send_to_sent", "1")]);
    accept_within(&listener, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("control connection: {e}\n{out}"));
    udp.set_read_timeout(Some(Duration::from_secs(5))).expect("set_read_timeout");
    let mut buf = [0u8; 16];
    let (n, _) = recv_from(&udp, &mut buf).unwrap_or_else(|e| panic!("control datagram: {e}\n{out}"));
    assert_eq!(&buf[..n], b"x");
}

#[test]
fn resolve_needs_allow_resolve_and_writes_addr_info() {
    // Not allowed: EACCES before any lookup, *total untouched, and a trace line naming the flag.
    let out = c("sock_policy").cmd().opt("--trace").args(["resolve", "localhost", "", "4", "4"]).run();
    out.assert_success();
    assert_values(&out, &[("resolve", "2"), ("total", &0xeeee_eeeeu32.to_string())]);
    let line = out.stderr.lines().find(|l| l.contains("--allow-resolve=localhost"));
    let line = line.unwrap_or_else(|| panic!("no trace line for the denied lookup\n{out}"));
    assert!(line.contains("denied") && line.contains("localhost"), "{line}\n{out}");

    // Numeric names need the allow-list too.
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=localhost")
        .args(["resolve", "127.0.0.1", "", "4", "4"])
        .run();
    out.assert_success();
    assert_eq!(errno(&out, "resolve"), EACCES, "{out}");

    // Allowed, IPv4 stream hints, service 8080: one entry 127.0.0.1:8080 of type STREAM (1).
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=localhost")
        .args(["resolve", "localhost", "8080", "4", "4"])
        .run();
    out.assert_success();
    assert_values(
        &out,
        &[("resolve", "0"), ("total", "1"), ("entry0_addr", "127.0.0.1:8080"), ("entry0_type", "1")],
    );
    let entry = out.value("entry0");
    assert!(
        entry.starts_with("000000007f000001901f") && entry.ends_with("01000000"),
        "entry0={entry}: kind 0, 127.0.0.1, port 8080 LE, ..., type 1\n{out}"
    );
    assert_eq!(out.value("spare"), "ee".repeat(28), "an entry past the results was written\n{out}");

    // Capacity 0: success with *total, nothing written. Without hints: a stream and a datagram
    // entry, and capacity 1 keeps only the first (silent truncation).
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=localhost")
        .args(["resolve", "localhost", "", "4", "0"])
        .run();
    out.assert_success();
    assert_values(&out, &[("resolve", "0"), ("total", "1"), ("spare", &"ee".repeat(28))]);
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=localhost")
        .args(["resolve", "localhost", "", "none", "1"])
        .run();
    out.assert_success();
    assert_values(&out, &[("resolve", "0"), ("entry0_addr", "127.0.0.1:0"), ("spare", &"ee".repeat(28))]);
    let total: u32 = out.value("total").parse().expect("total");
    assert!(total >= 2, "localhost without hints gives a stream and a datagram entry: total={total}\n{out}");
}

/// The error message quotes the bad entry itself (not just the whole flag).
#[track_caller]
fn assert_quoted(out: &Output, entry: &str) {
    assert!(
        out.stderr.contains(&format!("'{entry}'")) || out.stderr.contains(&format!("\"{entry}\"")),
        "stderr does not quote the entry {entry:?}\n{out}"
    );
}

#[test]
fn malformed_addr_pool_entries_stop_before_the_guest_starts() {
    for (flag, entry) in [
        ("--addr-pool=127.0.0.1", "127.0.0.1"),
        ("--addr-pool=127.0.0.1/33", "127.0.0.1/33"),
        ("--addr-pool=localhost/8", "localhost/8"),
        ("--addr-pool=::1/129", "::1/129"),
        ("--addr-pool=127.0.0.1/x", "127.0.0.1/x"),
        ("--addr-pool=127.0.0.1/32,localhost/8", "localhost/8"),
    ] {
        let out = c("sock_policy").cmd().opt(flag).args(["try", "127.0.0.1", "9"]).run();
        out.assert_no_host_crash();
        assert_eq!(out.code(), Some(1), "{flag}: a malformed entry is a usage error\n{out}");
        assert_eq!(out.stdout, "", "{flag}: the guest ran\n{out}");
        assert_quoted(&out, entry);
    }
    // The same entries written correctly are accepted.
    let out =
        c("sock_policy").cmd().opt("--addr-pool=127.0.0.1/32,::1/128").args(["try", "127.0.0.1", "9"]).run();
    out.assert_success();
}

#[test]
fn bad_allow_resolve_patterns_stop_before_the_guest_starts() {
    for pattern in ["*example.com", "a*b", "a,b", "local host"] {
        let flag = format!("--allow-resolve={pattern}");
        let out = c("sock_policy").cmd().opt(&flag).args(["resolve", "localhost", "", "4", "1"]).run();
        out.assert_no_host_crash();
        assert_eq!(out.code(), Some(1), "{flag}: a malformed entry is a usage error\n{out}");
        assert_eq!(out.stdout, "", "{flag}: the guest ran\n{out}");
        assert_quoted(&out, pattern);
    }
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=*.localhost")
        .args(["resolve", "localhost", "", "4", "1"])
        .run();
    out.assert_success();
    assert_eq!(errno(&out, "resolve"), EACCES, "*.localhost does not allow localhost itself\n{out}");
}

// ---------------------------------------------------------------------------------------
// Non-blocking mode, readiness, timeouts, fd calls, half-close, resets, --timeout

#[test]
fn nonblocking_accept_recv_peek_fd_calls_renumber_and_half_close() {
    let mut guest = c("sock_nb").cmd().opt(pool(LOCALHOST_V4)).args(["accept", "127.0.0.1"]).spawn();
    let guest_server = SocketAddr::new(LOCALHOST_V4, wait_for_port(&mut guest));
    let native = (|| -> Result<String, String> {
        let mut conn = connect(guest_server)?;
        // The guest has tried a non-blocking recv on the accepted socket first.
        guest.wait_for_line("waiting_for_data=", LINE_LIMIT);
        conn.write_all(b"peek-me").map_err(|e| e.to_string())?;
        let got = read_exact(&mut conn, 12)?;
        if got != "via-fd-write" {
            return Err(format!("fd_write sent {got:?}"));
        }
        conn.write_all(b"via-fd-read").map_err(|e| e.to_string())?;
        // The guest's SHUT_WR: we see EOF while it still receives.
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).map_err(|e| format!("waiting for EOF after SHUT_WR: {e}"))?;
        conn.write_all(b"after-shutdown").map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&rest).into_owned())
    })();
    let (out, after_eof) = finish(guest, native);
    out.assert_success();
    assert_eq!(after_eof, "", "bytes after the guest's shutdown\n{out}");
    assert_values(
        &out,
        &[
            ("set_nonblock", "0"),
            ("listener_filetype", "6"),
            ("listener_fdflags", "4"),
            ("accept_empty", &EAGAIN.to_string()),
            ("poll_accept", "0"),
            ("poll_accept_nevents", "1"),
            ("poll_accept_userdata", "11"),
            ("poll_accept_error", "0"),
            ("poll_accept_type", "1"),
            ("accept", "0"),
            ("accepted_filetype", "6"),
            ("accepted_fdflags", "0"),
            ("recv_empty", &format!("err{EAGAIN}")),
            ("poll_read", "0"),
            ("poll_read_nevents", "1"),
            ("poll_read_userdata", "11"),
            ("poll_read_type", "1"),
            ("poll_read_nbytes", "7"),
            // MSG_PEEK leaves the data for the next recv.
            ("peek", "peek-me"),
            ("recv", "peek-me"),
            ("recv_again", &format!("err{EAGAIN}")),
            ("set_blocking", "0"),
            ("fd_write", "0"),
            ("fd_write_n", "12"),
            ("fd_read", "via-fd-read"),
            ("udp_filetype", "5"),
            ("renumber", "0"),
            ("renumbered_filetype", "6"),
            ("old", &EBADF.to_string()),
            ("shutdown_wr", "0"),
            ("after_shutdown", "after-shutdown"),
            ("send_after_shutdown", &EPIPE.to_string()),
            ("eof", ""),
            ("close", "0"),
            ("close_again", &EBADF.to_string()),
            ("close_listener", "0"),
            ("done", "1"),
        ],
    );
}

#[test]
fn nonblocking_connect_is_in_progress_then_poll_reports_writable() {
    for ip in loopbacks() {
        let listener = TcpListener::bind((ip, 0)).expect("bind");
        let server = listener.local_addr().expect("local_addr");
        let peer = thread::spawn(move || -> Result<String, String> {
            let mut conn = accept_within(&listener, IO_LIMIT)?;
            let mut got = String::new();
            conn.read_to_string(&mut got).map_err(|e| e.to_string())?;
            Ok(got)
        });
        let out = c("sock_nb")
            .cmd()
            .opt(pool(ip))
            .args(["connect", &ip.to_string(), &server.port().to_string()])
            .run();
        let got = join(peer, &out);
        out.assert_success();
        assert_values(
            &out,
            &[
                ("set_nonblock", "0"),
                ("connect", &EINPROGRESS.to_string()),
                ("poll_write", "0"),
                ("poll_write_nevents", "1"),
                ("poll_write_userdata", "11"),
                ("poll_write_error", "0"),
                ("poll_write_type", "2"),
                ("addr_remote", "0"),
                ("send", "0"),
                ("sent", "5"),
                ("close", "0"),
            ],
        );
        assert_eq!(guest_addr(&out, "remote"), server, "{out}");
        assert_eq!(got, "hello", "{out}");
    }
}

#[test]
fn receive_timeout_gives_eagain_after_about_the_timeout() {
    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    // Holds the connection open without sending until the guest is done.
    let peer = thread::spawn(move || -> Result<(), String> {
        let mut conn = accept_within(&listener, IO_LIMIT)?;
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).map_err(|e| e.to_string())?;
        Ok(())
    });
    let out = c("sock_nb")
        .cmd()
        .opt(pool(LOCALHOST_V4))
        .args(["timeout", "127.0.0.1", &port.to_string(), "400"])
        .run();
    join(peer, &out);
    out.assert_success();
    assert_values(&out, &[("set_recv_timeout", "0"), ("recv", &format!("err{EAGAIN}")), ("udp_recv", "6")]);
    for key in ["elapsed_ms", "udp_elapsed_ms"] {
        let ms: u64 = out.value(key).parse().expect("milliseconds");
        assert!((350..5000).contains(&ms), "{key}={ms} for a 400 ms receive timeout\n{out}");
    }
}

#[test]
fn peer_reset_during_send_is_an_errno_and_the_host_survives() {
    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    // Reads a little, then closes with unread data queued, which makes the kernel send a reset.
    let peer = thread::spawn(move || -> Result<(), String> {
        let mut conn = accept_within(&listener, IO_LIMIT)?;
        let mut buf = vec![0u8; 1 << 16];
        conn.read_exact(&mut buf).map_err(|e| e.to_string())?;
        thread::sleep(Duration::from_millis(100));
        Ok(())
    });
    let out =
        c("sock_nb").cmd().opt(pool(LOCALHOST_V4)).args(["reset", "127.0.0.1", &port.to_string()]).run();
    join(peer, &out);
    out.assert_no_host_crash();
    out.assert_success();
    let err = errno(&out, "send_error");
    assert!(
        err == EPIPE || err == ECONNRESET,
        "send to a reset peer: errno {err}, expected EPIPE or ECONNRESET\n{out}"
    );
    let again = errno(&out, "send_again");
    assert!(again == EPIPE || again == ECONNRESET, "a second send: errno {again}\n{out}");
    assert_eq!(out.value("close"), "0", "{out}");
}

#[test]
fn timeout_stops_guests_blocked_in_accept_and_in_recv() {
    let mut guest = c("sock_nb")
        .cmd()
        .opt(pool(LOCALHOST_V4))
        .opt("--timeout=1500")
        .args(["block_accept", "127.0.0.1"])
        .spawn();
    wait_for_port(&mut guest);
    let out = guest.finish();
    out.assert_failure();
    assert!(
        out.elapsed < Duration::from_secs(8),
        "--timeout=1500 took {:?} in sock_accept\n{out}",
        out.elapsed
    );
    assert!(!out.stdout.contains("accept_returned"), "{out}");
    out.assert_stderr_contains("--timeout");

    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    let peer = thread::spawn(move || -> Result<(), String> {
        let mut conn = accept_within(&listener, IO_LIMIT)?;
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).map_err(|e| e.to_string())?;
        Ok(())
    });
    let mut guest = c("sock_nb")
        .cmd()
        .opt(pool(LOCALHOST_V4))
        .opt("--timeout=1500")
        .args(["block_recv", "127.0.0.1", &port.to_string()])
        .spawn();
    guest.wait_for_line("connected=", LINE_LIMIT);
    let out = guest.finish();
    join(peer, &out);
    out.assert_failure();
    assert!(
        out.elapsed < Duration::from_secs(8),
        "--timeout=1500 took {:?} in sock_recv\n{out}",
        out.elapsed
    );
    assert!(!out.stdout.contains("recv_returned"), "{out}");
    out.assert_stderr_contains("--timeout");
}
