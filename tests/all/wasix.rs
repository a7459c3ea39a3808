//! WASIX's socket subset (module `wasix_32v1`) through guests built from crates.io's `wasix`
//! crate 0.13 on stable wasm32-wasip1 (tests/programs/wasix), against native peers in this
//! test process over loopback only. Every run has `--timeout`, every native socket a time
//! limit, and every port is chosen by the OS.
//!
//! - `tcp_echo_server_...`: sock_open, sock_bind, sock_set_opt_flag, sock_listen,
//!   sock_status, sock_addr_local, sock_accept_v2, sock_addr_peer, sock_recv, sock_send,
//!   sock_shutdown, against a native client; ports and IPv6 bytes as the guest reads them.
//! - `tcp_client_...`: sock_get_opt_time, sock_connect, DONT_WAIT on sock_recv, against a
//!   native echo server; and the denial of a connect outside the pool.
//! - `udp_echo_...`: sock_recv_from, sock_send_to, DONT_WAIT on sock_recv_from.
//! - `port_probe_...`: wasix-libc's port byte-order probe under a pool that denies 0.0.0.0
//!   and one that grants it.
//! - `start_up_functions_...`: proc_signals_sizes_get, proc_signals_get, callback_signal,
//!   thread_parallelism, thread_sleep, proc_exit2, and ENOSYS for unprovided functions.
//! - `a_guest_blocked_in_accept_...`: --timeout ends a blocked sock_accept_v2.
//! - `resolve_...`: resolve under --allow-resolve (localhost only; other names are refused
//!   before any lookup).
//! - `a_nonblocking_connect_...`: SOCK_NONBLOCK in sock_open's type, EINPROGRESS,
//!   poll_oneoff, sock_status OPENED or FAILED.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use crate::sock::{echo_client, finish, native_echo_server, pool, retry};
use crate::util::{Guest, Output, Wasock, rust_in};

/// WASI errno values (WASIX keeps WASI's numbering).
const EACCES: &str = "2";
const EAGAIN: &str = "6";

/// The limit on every native socket operation.
const IO_LIMIT: Duration = Duration::from_secs(20);
/// How long a guest may take to print a line a test waits for.
const LINE_LIMIT: Duration = Duration::from_secs(15);
/// `--timeout` for every run: far more than a run takes, far less than the harness's limit.
const TIMEOUT: &str = "--timeout=25000";

const LOCALHOST_V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// A loopback address outside a pool of 127.0.0.1/32 (Linux answers on all of 127/8).
const OTHER_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The CLI running `guest` with `--trace` and `--timeout`.
fn traced(guest: Guest) -> Wasock {
    guest.cmd().opt("--trace").opt(TIMEOUT)
}

/// The byte at offset `i` of the test stream (the guests' `pattern`).
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 10)) as u8
}

fn pattern_bytes(len: u64) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

/// A socket address the guest printed as `key=ADDR`.
#[track_caller]
fn printed_addr(text: &str, what: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| panic!("{what}={text} is not a socket address"))
}

/// Checks `key=value` lines (the first word of each value) and reports every mismatch.
#[track_caller]
fn assert_values(out: &Output, expected: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (key, want) in expected {
        let prefix = format!("{key}=");
        let got = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(|v| v.split(' ').next().unwrap_or("")));
        if got != Some(*want) {
            wrong.push(format!("{key}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "unexpected values:\n{}\n{out}", wrong.join("\n"));
}

/// The guest echo server on `ip` against a native client sending 1 MiB: every byte comes
/// back, and the guest sees the client's address exactly (port byte order, IPv6 byte order)
/// through both sock_accept_v2 and sock_addr_peer.
fn tcp_echo_server(ip: IpAddr) {
    let mut server = traced(rust_in("wasix", "tcp_echo_server")).opt(pool(ip)).arg(ip.to_string()).spawn();
    let listening = printed_addr(&server.wait_for_line("listening=", LINE_LIMIT), "listening");
    assert_eq!(listening.ip(), ip);
    assert_ne!(listening.port(), 0);
    let data = pattern_bytes(1 << 20);
    let (out, (client, back)) = finish(server, echo_client(listening, &data));
    out.assert_success();
    assert!(
        back == data,
        "the echo differs from what was sent ({} of {} bytes back)\n{out}",
        back.len(),
        data.len()
    );
    let client = client.to_string();
    assert_values(
        &out,
        &[("status", "1"), ("peer", &client), ("peer_again", &client), ("echoed", &data.len().to_string())],
    );
    // --trace shows the calls, with the WASIX names.
    out.assert_stderr_contains("sock_accept_v2(");
}

#[test]
fn tcp_echo_server_over_ipv4_echoes_every_byte_and_reports_the_peer() {
    tcp_echo_server(LOCALHOST_V4);
}

#[test]
fn tcp_echo_server_over_ipv6_echoes_every_byte_and_reports_the_peer() {
    tcp_echo_server(LOCALHOST_V6);
}

#[test]
fn tcp_client_is_echoed_by_a_native_server_and_dont_wait_does_not_block() {
    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind a native listener");
    let addr = listener.local_addr().unwrap();
    let server = native_echo_server(listener);
    let len = 300_000u64;
    let out = traced(rust_in("wasix", "tcp_client"))
        .opt(pool(LOCALHOST_V4))
        .args([addr.ip().to_string(), addr.port().to_string(), len.to_string()])
        .run();
    let (client, echoed) = match server.join() {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("native server: {e}\n{out}"),
        Err(_) => panic!("native server panicked\n{out}"),
    };
    out.assert_success();
    assert_eq!(echoed, len, "bytes the native server echoed\n{out}");
    assert_values(
        &out,
        &[
            // Rust std reads CONNECT_TIMEOUT before connecting: NONE.
            ("connect_timeout_tag", "0"),
            ("connect_errno", "0"),
            ("local", &client.to_string()),
            ("peer", &addr.to_string()),
            ("status", "1"),
            // Nothing was sent yet: a receive with DONT_WAIT returns EAGAIN instead of waiting.
            ("dontwait_errno", EAGAIN),
            ("received", &len.to_string()),
        ],
    );
    assert!(out.stdout.contains("echo_ok=1"), "the echo differs from what was sent\n{out}");
}

#[test]
fn tcp_client_connect_outside_the_pool_is_eacces_and_reaches_nothing() {
    let listener = TcpListener::bind((OTHER_V4, 0)).expect("bind a native listener on 127.0.0.2");
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = traced(rust_in("wasix", "tcp_client"))
        .opt("--addr-pool=127.0.0.1/32")
        .args([OTHER_V4.to_string(), port.to_string(), "10".to_string()])
        .run();
    out.assert_success();
    assert_values(&out, &[("connect_errno", EACCES)]);
    out.assert_stderr_contains(&format!(
        "denied: sock_connect to 127.0.0.2:{port} is outside the address pool (allow it with --addr-pool=127.0.0.2/32)"
    ));
    match retry(|| listener.accept()) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("a connection from {peer} reached the native listener\n{out}"),
        Err(e) => panic!("accept on the native listener: {e}"),
    }
}

#[test]
fn udp_echo_returns_each_datagram_whole_to_its_sender() {
    let count = 5usize;
    let mut echo = traced(rust_in("wasix", "udp_echo"))
        .opt(pool(LOCALHOST_V4))
        .args([LOCALHOST_V4.to_string(), count.to_string()])
        .spawn();
    let listening = printed_addr(&echo.wait_for_line("listening=", LINE_LIMIT), "listening");
    let native = UdpSocket::bind((LOCALHOST_V4, 0)).expect("bind a native UDP socket");
    native.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let me = native.local_addr().unwrap();
    let run = || -> Result<(), String> {
        let mut buf = vec![0u8; 4096];
        for i in 0..count {
            let datagram: Vec<u8> = (0..(1 + i * 300) as u64).map(|j| pattern(j + i as u64)).collect();
            native.send_to(&datagram, listening).map_err(|e| format!("send_to: {e}"))?;
            let (n, from) =
                retry(|| native.recv_from(&mut buf)).map_err(|e| format!("recv_from #{i}: {e}"))?;
            if from != listening || buf[..n] != datagram[..] {
                return Err(format!(
                    "datagram #{i}: got {n} bytes from {from}, sent {} to {listening}",
                    datagram.len()
                ));
            }
        }
        Ok(())
    };
    let (out, ()) = finish(echo, run());
    out.assert_success();
    // A receive with DONT_WAIT before anything was sent: EAGAIN.
    assert_values(&out, &[("dontwait_errno", EAGAIN), ("echoed", &count.to_string())]);
    let froms: Vec<&str> = out.stdout.lines().filter_map(|l| l.strip_prefix("from=")).collect();
    assert_eq!(froms.len(), count, "{out}");
    for (i, line) in froms.iter().enumerate() {
        assert_eq!(*line, format!("{me} bytes={} truncated=0", 1 + i * 300), "datagram #{i}\n{out}");
    }
}

#[test]
fn port_probe_under_a_pool_without_0_0_0_0_is_refused_without_a_bind_and_ends_little_endian() {
    let out = traced(rust_in("wasix", "port_probe")).opt("--addr-pool=127.0.0.1/32").run();
    out.assert_success();
    assert_values(&out, &[("bind_errno", EACCES), ("libc_assumes", "little")]);
    // The trace says what it is, and does not suggest granting 0.0.0.0.
    out.assert_stderr_contains(
        "denied: sock_bind on 0.0.0.0:10275 is outside the address pool; this is most likely wasix-libc's port byte-order probe",
    );
    assert!(!out.stderr.contains("sock_bind on 0.0.0.0:10275 is outside the address pool (allow"), "{out}");
}

#[test]
fn port_probe_under_a_pool_with_0_0_0_0_binds_and_reads_back_10275_little_endian() {
    let out = traced(rust_in("wasix", "port_probe")).opt("--addr-pool=0.0.0.0/32").run();
    out.assert_success();
    if out.value("bind_errno") == "3" {
        // EADDRINUSE: only acceptable if something on this host really holds the port.
        let free = std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, 10275)).is_ok();
        assert!(!free, "the guest got EADDRINUSE for 0.0.0.0:10275, which is free\n{out}");
        assert_values(&out, &[("libc_assumes", "little")]);
        return;
    }
    assert_values(
        &out,
        &[("bind_errno", "0"), ("port", "10275"), ("port_bytes", "2328"), ("libc_assumes", "little")],
    );
}

#[test]
fn start_up_functions_work_unprovided_ones_are_enosys_in_the_trace_and_proc_exit2_ends_the_run() {
    let out = traced(rust_in("wasix", "start_and_stubs")).run();
    assert_eq!(out.code(), Some(3), "proc_exit2(3) is the exit status\n{out}");
    assert_values(
        &out,
        &[
            ("signals", "0"),
            ("signals_get_errno", "0"),
            ("parallelism_ok", "1"),
            // Not provided: ENOSYS (52), and --trace says so.
            ("sock_pair_errno", "52"),
            ("fd_dup_errno", "52"),
            // UNIX-domain sockets are not provided.
            ("unix_errno", "5"),
        ],
    );
    let slept: u64 = out.value("slept_ms").parse().unwrap();
    assert!((30..1000).contains(&slept), "thread_sleep(30 ms) took {slept} ms\n{out}");
    assert!(!out.stdout.contains("after_exit"), "proc_exit2 returned\n{out}");
    out.assert_stderr_contains("wasix_32v1::sock_pair returns ENOSYS");
    out.assert_stderr_contains("wasix_32v1::fd_dup returns ENOSYS");
    out.assert_stderr_contains("callback_signal(");
    out.assert_stderr_contains("proc_exit2(3)");
}

#[test]
fn a_guest_blocked_in_accept_is_stopped_by_timeout() {
    let start = Instant::now();
    let out = rust_in("wasix", "tcp_echo_server")
        .cmd()
        .opt("--timeout=1000")
        .opt(pool(LOCALHOST_V4))
        .arg(LOCALHOST_V4.to_string())
        .run();
    assert_eq!(out.code(), Some(1), "a run stopped by --timeout exits 1\n{out}");
    assert!(out.stdout.contains("listening="), "{out}");
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}\n{out}", start.elapsed());
}

#[test]
fn resolve_answers_allowed_names_within_the_capacity_and_refuses_others() {
    let out = traced(rust_in("wasix", "resolve_names"))
        .opt("--allow-resolve=localhost")
        .args(["8", "localhost", "LOCALHOST.", "127.0.0.1", "denied.example"])
        .run();
    out.assert_success();
    let line = |name: &str| -> String {
        let prefix = format!("{name} ");
        let found = out.stdout.lines().find_map(|l| l.strip_prefix(&prefix).map(str::to_string));
        found.unwrap_or_else(|| panic!("no line for {name}\n{out}"))
    };
    // localhost: loopback addresses only, each once, the count matching the entries.
    for name in ["localhost", "LOCALHOST."] {
        let answer = line(name);
        let (count, addrs) = answer
            .strip_prefix("count=")
            .and_then(|r| r.split_once(" addrs="))
            .unwrap_or_else(|| panic!("{name}: {answer}\n{out}"));
        let addrs: Vec<IpAddr> = addrs.split(',').map(|a| a.parse().expect("an address")).collect();
        assert_eq!(count.parse::<usize>().unwrap(), addrs.len(), "{out}");
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.is_loopback()), "{name}: {addrs:?}\n{out}");
        let mut unique = addrs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), addrs.len(), "an address twice: {addrs:?}");
    }
    // Numeric addresses must be allowed too, as for WAMR; other names are refused before
    // any lookup.
    assert_eq!(line("127.0.0.1"), "errno=2", "{out}");
    assert_eq!(line("denied.example"), "errno=2", "{out}");
    out.assert_stderr_contains(
        "denied: resolving \"denied.example\" (allow it with --allow-resolve=denied.example)",
    );

    // Capacity 1: never more than one entry, and a count that says so.
    let out = traced(rust_in("wasix", "resolve_names"))
        .opt("--allow-resolve=localhost")
        .args(["1", "localhost"])
        .run();
    out.assert_success();
    assert!(out.stdout.starts_with("localhost count=1 addrs="), "{out}");
}

#[test]
fn a_nonblocking_connect_is_in_progress_then_polled_to_opened_or_failed() {
    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind a native listener");
    let addr = listener.local_addr().unwrap();
    let server = native_echo_server(listener);
    let out = traced(rust_in("wasix", "nonblocking_connect"))
        .opt(pool(LOCALHOST_V4))
        .args([addr.ip().to_string(), addr.port().to_string()])
        .run();
    let joined = server.join();
    out.assert_success();
    // SOCK_NONBLOCK in the type made the socket non-blocking: the connect does not wait.
    assert_values(
        &out,
        &[("open_errno", "0"), ("connect_errno", "26"), ("writable", "1"), ("status", "1"), ("echo", "ping")],
    );
    match joined {
        Ok(Ok((_, echoed))) => assert_eq!(echoed, 4, "{out}"),
        other => panic!("native server: {other:?}\n{out}"),
    }

    // A port nobody listens on: the refusal shows as FAILED once polled (or, if the kernel
    // refused within the connect itself, as that errno, and the socket is back to OPENING).
    let closed = TcpListener::bind((LOCALHOST_V4, 0)).unwrap().local_addr().unwrap();
    let out = traced(rust_in("wasix", "nonblocking_connect"))
        .opt(pool(LOCALHOST_V4))
        .args([closed.ip().to_string(), closed.port().to_string()])
        .run();
    out.assert_success();
    match out.value("connect_errno").as_str() {
        "26" => assert_values(&out, &[("writable", "1"), ("status", "3")]),
        "14" => assert_values(&out, &[("status", "0")]),
        other => panic!("connect_errno={other}\n{out}"),
    }
}
