//! WASI preview 2: components built from Rust std for wasm32-wasip2 (tests/programs/p2), run
//! by the same `wasock` command line as core modules, against native peers in this test
//! process over loopback only (127.0.0.0/8 and ::1; the only name resolved is `localhost`).
//! Every run has `--timeout`, every native socket a time limit, and every port is chosen by
//! the OS.
//!
//! - `tcp_echo_server_...`: a component serving several native clients, every byte checked,
//!   over IPv4 and IPv6.
//! - `tcp_client_...`: a component client against a native echo server.
//! - `udp_echo_...`: datagrams from a native peer returned whole by a component.
//! - `resolve_localhost_...`: `to_socket_addrs` under `--allow-resolve=localhost`, and its
//!   denial without it.
//! - `denials_...`, `the_denial_lines_...`: bind, connect and send_to outside the pool are
//!   EACCES (PermissionDenied) for the component, reach nothing, and `--trace` prints exactly
//!   the line a preview 1 module gets for the same denial.
//! - `without_an_addr_pool_...`: no TCP or UDP socket can be created at all.
//! - `a_component_blocked_in_accept_...`: `--timeout` ends a blocked accept.
//! - `a_component_spinning_...`: `--timeout` ends a loop in wasm that never calls the host.
//! - `args_env_dir_...`, `return_map_dir_and_panic_...`: arguments, environment, `--dir`,
//!   `--map-dir` and the exit status.
//! - `max_memory_...`, `max_fds_...`: the instance's limits hold for a component.
//! - `a_component_is_run_through_wasi_cli_run_only`: `-f` and a component without a `run`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::ExitStatusExt;
use std::thread;
use std::time::{Duration, Instant};

use crate::sock::{
    accept_within, assert_nothing_arrived, assert_values, echo_client, finish, native_echo_server, pool,
    retry, tcp_and_udp_on_one_port,
};
use crate::util::{Guest, Output, TestDir, Wasock, c, rust_p2};

/// The limit on every native socket operation.
const IO_LIMIT: Duration = Duration::from_secs(20);
/// How long a guest may take to print a line a test waits for (the first run of a component
/// includes compiling it).
const LINE_LIMIT: Duration = Duration::from_secs(20);
/// `--timeout` for every run: far more than a run takes, less than the harness's limit.
const TIMEOUT: &str = "--timeout=25000";

const LOCALHOST_V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
/// A loopback address outside a pool of 127.0.0.1/32 (Linux answers on all of 127/8).
const OTHER_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const POOL_V4: &str = "--addr-pool=127.0.0.1/32";

/// The CLI running `guest` with `--trace` and `--timeout`.
fn traced(guest: Guest) -> Wasock {
    guest.cmd().opt("--trace").opt(TIMEOUT)
}

/// The byte at offset `i` of the test stream (the guests' `pattern`).
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 10)) as u8
}

/// `len` bytes of the test stream from offset `start`.
fn pattern_bytes(start: u64, len: u64) -> Vec<u8> {
    (start..start + len).map(pattern).collect()
}

/// A socket address the guest printed as `key=ADDR`.
#[track_caller]
fn printed_addr(text: &str, what: &str) -> SocketAddr {
    text.parse().unwrap_or_else(|_| panic!("{what}={text} is not a socket address"))
}

/// The stderr line that starts with `[wasock] denied: {what}` (exactly one), whole.
#[track_caller]
fn denial_line<'a>(out: &'a Output, what: &str) -> &'a str {
    let prefix = format!("[wasock] denied: {what}");
    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with(&prefix)).collect();
    match lines[..] {
        [line] => line,
        _ => panic!(
            "expected one stderr line starting with {prefix:?}, found {}: {lines:?}\n{out}",
            lines.len()
        ),
    }
}

/// The exact line `--trace` prints for a bind, connect or send_to of `target` outside a pool
/// that grants nothing of `target`'s network (crates/core/src/policy/pool.rs, `denial_hint`).
fn pool_denial(call: &str, target: SocketAddr) -> String {
    let (preposition, width) = match (call, target.ip()) {
        ("sock_bind", IpAddr::V4(_)) => ("on", 32),
        ("sock_bind", IpAddr::V6(_)) => ("on", 128),
        (_, IpAddr::V4(_)) => ("to", 32),
        (_, IpAddr::V6(_)) => ("to", 128),
    };
    format!(
        "[wasock] denied: {call} {preposition} {target} is outside the address pool (allow it with --addr-pool={}/{width})",
        target.ip()
    )
}

/// Whether this host has IPv6 loopback.
fn ipv6_loopback_works() -> bool {
    TcpListener::bind((LOCALHOST_V6, 0)).is_ok()
}

/// The component echo server on `ip` against three native clients connecting at once (the
/// component serves them one after the other; the others wait in its backlog): every byte
/// comes back to the client that sent it, and the component names each client and its count.
fn tcp_echo_server(ip: IpAddr) {
    let sizes: [u64; 3] = [1, 65_537, 400_000];
    let mut server = traced(rust_p2("tcp_echo_server"))
        .opt(pool(ip))
        .args([ip.to_string(), sizes.len().to_string()])
        .spawn();
    let listening = printed_addr(&server.wait_for_line("listening=", LINE_LIMIT), "listening");
    assert_eq!(listening.ip(), ip, "the address the component listens on");
    assert_ne!(listening.port(), 0);
    let clients: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let data = pattern_bytes(1000 * i as u64, len);
            thread::spawn(move || echo_client(listening, &data).map(|(local, back)| (local, data, back)))
        })
        .collect();
    let results: Result<Vec<_>, String> = clients
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| Err("a client thread panicked".to_string())))
        .collect();
    let (out, results) = finish(server, results);
    out.assert_success();
    assert_values(&out, &[("port", &listening.port().to_string()), ("served", &sizes.len().to_string())]);
    let mut expected: Vec<String> = Vec::new();
    for (local, data, back) in &results {
        assert!(
            back == data,
            "client {local}: the echo differs from what was sent ({} of {} bytes back)\n{out}",
            back.len(),
            data.len()
        );
        expected.push(format!("client={local} bytes={}", data.len()));
    }
    let mut reported: Vec<String> =
        out.stdout.lines().filter(|l| l.starts_with("client=")).map(str::to_string).collect();
    expected.sort();
    reported.sort();
    assert_eq!(reported, expected, "the clients the component reports\n{out}");
}

#[test]
fn tcp_echo_server_component_over_ipv4_serves_several_native_clients_every_byte_checked() {
    tcp_echo_server(LOCALHOST_V4);
}

#[test]
fn tcp_echo_server_component_over_ipv6_serves_several_native_clients_every_byte_checked() {
    if !ipv6_loopback_works() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    tcp_echo_server(LOCALHOST_V6);
}

#[test]
fn tcp_client_component_is_echoed_by_a_native_server_every_byte_checked() {
    let listener = TcpListener::bind((LOCALHOST_V4, 0)).expect("bind a native listener");
    let addr = listener.local_addr().unwrap();
    let server = native_echo_server(listener);
    let len = 300_001u64;
    let out = traced(rust_p2("tcp_client"))
        .opt(POOL_V4)
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
            ("local", &client.to_string()),
            ("peer", &addr.to_string()),
            ("received", &len.to_string()),
            ("echo_ok", "1"),
        ],
    );
}

#[test]
fn udp_echo_component_returns_each_datagram_whole_to_a_native_peer() {
    let count = 5u64;
    let mut echo =
        traced(rust_p2("udp_echo")).opt(POOL_V4).args([LOCALHOST_V4.to_string(), count.to_string()]).spawn();
    let listening = printed_addr(&echo.wait_for_line("listening=", LINE_LIMIT), "listening");
    assert_eq!(listening.ip(), LOCALHOST_V4);
    let native = UdpSocket::bind((LOCALHOST_V4, 0)).expect("bind a native UDP socket");
    native.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let me = native.local_addr().unwrap();
    let sizes: Vec<u64> = (0..count).map(|i| 1 + i * 3000).collect();
    let run = || -> Result<(), String> {
        let mut buf = vec![0u8; 65536];
        for (i, &len) in sizes.iter().enumerate() {
            let datagram = pattern_bytes(i as u64 * 77, len);
            native.send_to(&datagram, listening).map_err(|e| format!("send_to #{i}: {e}"))?;
            let (n, from) =
                retry(|| native.recv_from(&mut buf)).map_err(|e| format!("recv_from #{i}: {e}"))?;
            if from != listening || buf[..n] != datagram[..] {
                return Err(format!("datagram #{i}: got {n} bytes from {from}, sent {len} to {listening}"));
            }
        }
        Ok(())
    };
    let (out, ()) = finish(echo, run());
    out.assert_success();
    assert_values(&out, &[("echoed", &count.to_string())]);
    let froms: Vec<&str> = out.stdout.lines().filter_map(|l| l.strip_prefix("from=")).collect();
    let expected: Vec<String> = sizes.iter().map(|len| format!("{me} bytes={len}")).collect();
    assert_eq!(froms, expected, "the datagrams the component saw\n{out}");
}

#[test]
fn resolve_localhost_is_answered_with_loopback_addresses_under_allow_resolve() {
    let out = traced(rust_p2("resolve")).opt("--allow-resolve=localhost").args(["localhost", "8080"]).run();
    out.assert_success();
    let count: usize = out.value("count").parse().expect("count");
    let addrs: Vec<SocketAddr> =
        out.value("addrs").split(',').filter(|a| !a.is_empty()).map(|a| printed_addr(a, "addrs")).collect();
    assert_eq!(count, addrs.len(), "{out}");
    assert!(!addrs.is_empty(), "no address for localhost\n{out}");
    for addr in &addrs {
        assert!(addr.ip().is_loopback(), "{addr} is not loopback\n{out}");
        assert_eq!(addr.port(), 8080, "the port is kept\n{out}");
    }
    assert!(
        addrs.iter().any(|a| a.ip() == LOCALHOST_V4 || a.ip() == LOCALHOST_V6),
        "neither 127.0.0.1 nor ::1 among {addrs:?}\n{out}"
    );
    assert!(!out.stderr.contains("[wasock] denied:"), "{out}");
}

#[test]
fn resolve_localhost_without_allow_resolve_is_permission_denied_and_traced_as_for_preview_1() {
    let expected = "[wasock] denied: resolving \"localhost\" (allow it with --allow-resolve=localhost)";
    for allow in [None, Some("--allow-resolve=other.example")] {
        let mut cmd = traced(rust_p2("resolve"));
        if let Some(allow) = allow {
            cmd = cmd.opt(allow);
        }
        let out = cmd.args(["localhost", "8080"]).run();
        out.assert_no_host_crash();
        assert_eq!(out.code(), Some(1), "the guest reports the failed lookup and exits 3 (status 1)\n{out}");
        assert_values(&out, &[("resolve_error", "PermissionDenied")]);
        assert!(!out.stdout.contains("addrs="), "addresses despite the denial\n{out}");
        assert_eq!(denial_line(&out, "resolving"), expected, "{out}");
    }
    // The same denial for a preview 1 module (WAMR's sock_addr_resolve) gives the same line.
    let p1 = c("sock_policy").cmd().opt("--trace").args(["resolve", "localhost", "", "4", "4"]).run();
    p1.assert_success();
    assert_eq!(denial_line(&p1, "resolving"), expected, "{p1}");
}

/// Runs deny_probe (bind IP:0, connect IP:PORT, send_to IP:PORT from a UDP socket on LOCAL)
/// with `options`.
fn deny_probe(options: &[&str], ip: IpAddr, port: u16, local: IpAddr) -> Output {
    let mut cmd = traced(rust_p2("deny_probe"));
    for option in options {
        cmd = cmd.opt(option);
    }
    cmd.args([ip.to_string(), port.to_string(), local.to_string()]).run()
}

#[test]
fn denials_outside_the_pool_are_permission_denied_exactly_traced_and_reach_nothing() {
    let (listener, udp) = tcp_and_udp_on_one_port(OTHER_V4);
    let port = listener.local_addr().expect("local_addr").port();
    let target = SocketAddr::new(OTHER_V4, port);
    let out = deny_probe(&[POOL_V4], OTHER_V4, port, LOCALHOST_V4);
    out.assert_success();
    assert_values(
        &out,
        &[
            ("bind_error", "PermissionDenied"),
            ("connect_error", "PermissionDenied"),
            ("udp_bind", "ok"),
            ("send_to_error", "PermissionDenied"),
        ],
    );
    assert_eq!(
        denial_line(&out, "sock_bind"),
        pool_denial("sock_bind", SocketAddr::new(OTHER_V4, 0)),
        "{out}"
    );
    assert_eq!(denial_line(&out, "sock_connect"), pool_denial("sock_connect", target), "{out}");
    assert_eq!(denial_line(&out, "sock_send_to"), pool_denial("sock_send_to", target), "{out}");
    assert_nothing_arrived(&listener, &udp, &out);

    // The control: with 127.0.0.2 granted, the same component reaches the same sockets.
    let out = deny_probe(&[POOL_V4, &pool(OTHER_V4)], OTHER_V4, port, LOCALHOST_V4);
    out.assert_success();
    for step in ["bind=ok local=Some(127.0.0.2:", "connect=ok local=Some(127.0.0.1:"] {
        assert!(out.stdout.lines().any(|l| l.starts_with(step)), "no stdout line starting {step:?}\n{out}");
    }
    assert_values(&out, &[("udp_bind", "ok"), ("send_to", "ok sent=1")]);
    assert!(!out.stderr.contains("[wasock] denied:"), "{out}");
    accept_within(&listener, Duration::from_secs(5)).unwrap_or_else(|e| panic!("control: {e}\n{out}"));
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    match retry(|| udp.recv_from(&mut buf)) {
        Ok((1, from)) if buf[0] == b'x' && from.ip() == LOCALHOST_V4 => {}
        other => panic!("control: the datagram \"x\" from 127.0.0.1 did not arrive: {other:?}\n{out}"),
    }
}

#[test]
fn the_denial_lines_of_a_component_and_of_a_preview_1_module_are_identical() {
    let (listener, udp) = tcp_and_udp_on_one_port(OTHER_V4);
    let port = listener.local_addr().expect("local_addr").port();
    let component = deny_probe(&[POOL_V4], OTHER_V4, port, LOCALHOST_V4);
    component.assert_success();
    // tests/programs/c/sock_policy.c `try`: the same bind, connect and send_to through WAMR's
    // raw imports.
    let module = c("sock_policy")
        .cmd()
        .opt(POOL_V4)
        .opt("--trace")
        .opt(TIMEOUT)
        .args(["try", &OTHER_V4.to_string(), &port.to_string()])
        .run();
    module.assert_success();
    for call in ["sock_bind", "sock_connect", "sock_send_to"] {
        let from_module = denial_line(&module, call);
        assert_eq!(denial_line(&component, call), from_module, "{call}\n{component}\n{module}");
    }
    assert_nothing_arrived(&listener, &udp, &component);
}

#[test]
fn without_an_addr_pool_a_component_cannot_create_a_socket_and_reaches_nothing() {
    let creation_denied = |proto: &str| {
        format!(
            "[wasock] denied: creating a {proto} socket: the policy grants no address (allow addresses with \
             --addr-pool=CIDR or --allow-net=RULE)"
        )
    };
    let out = traced(rust_p2("tcp_echo_server")).args([LOCALHOST_V4.to_string(), "1".to_string()]).run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "the server reports the failed bind and exits 3 (status 1)\n{out}");
    assert_values(&out, &[("bind_error", "PermissionDenied")]);
    assert!(!out.stdout.contains("port="), "the component listened\n{out}");
    assert_eq!(denial_line(&out, "creating a TCP socket"), creation_denied("TCP"), "{out}");

    let (listener, udp) = tcp_and_udp_on_one_port(LOCALHOST_V4);
    let port = listener.local_addr().expect("local_addr").port();
    let out = deny_probe(&[], LOCALHOST_V4, port, LOCALHOST_V4);
    out.assert_success();
    assert_values(
        &out,
        &[
            ("bind_error", "PermissionDenied"),
            ("connect_error", "PermissionDenied"),
            ("udp_bind_error", "PermissionDenied"),
        ],
    );
    // The listener's socket and the client's: each creation is refused and traced.
    let denials: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("[wasock] denied:")).collect();
    assert_eq!(denials, [creation_denied("TCP"), creation_denied("TCP"), creation_denied("UDP")], "{out}");
    assert_nothing_arrived(&listener, &udp, &out);
}

#[test]
fn a_component_blocked_in_accept_is_stopped_by_timeout() {
    let start = Instant::now();
    let out = rust_p2("tcp_echo_server")
        .cmd()
        .opt("--timeout=1000")
        .opt(POOL_V4)
        .args([LOCALHOST_V4.to_string(), "1".to_string()])
        .run();
    let elapsed = start.elapsed();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "a run stopped by --timeout exits 1\n{out}");
    assert!(out.stdout.contains("port="), "the component never listened\n{out}");
    assert!(!out.stdout.contains("served="), "{out}");
    out.assert_stderr_contains("the guest was stopped after the --timeout of 1000 ms");
    assert!(elapsed >= Duration::from_millis(900), "stopped after only {elapsed:?}\n{out}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}\n{out}");
}

/// The lines of stdout, for checks of whole lines (values with spaces).
fn has_line(out: &Output, line: &str) -> bool {
    out.stdout.lines().any(|l| l == line)
}

#[test]
fn args_env_dir_and_exit_status_reach_a_component() {
    let dir = TestDir::new();
    let sandbox = dir.sandbox();
    std::fs::write(sandbox.join("in.txt"), "hello from the host\n").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "the secret\n").unwrap();
    let guest = rust_p2("basics");
    let module = guest.path();
    let sandbox_arg = sandbox.to_str().expect("a UTF-8 temp path").to_string();
    let out = Wasock::new()
        .opt("--env=GREETING=hello p2")
        .dir(&sandbox)
        .opt(TIMEOUT)
        .module(&module)
        .args([sandbox_arg.as_str(), "exit:0", "two words", "é"])
        .run();
    out.assert_success();
    let expected_lines = [
        "argc=5".to_string(),
        format!("arg0={}", module.display()),
        format!("arg1={sandbox_arg}"),
        "arg2=exit:0".to_string(),
        "arg3=two words".to_string(),
        "arg4=é".to_string(),
        "env_GREETING=hello p2".to_string(),
        "read=hello from the host".to_string(),
        "write=ok".to_string(),
        "exiting=0".to_string(),
    ];
    for line in &expected_lines {
        assert!(has_line(&out, line), "no stdout line {line:?}\n{out}");
    }
    assert_eq!(
        std::fs::read_to_string(sandbox.join("out.txt")).ok().as_deref(),
        Some("written by a component\n"),
        "the file the component wrote\n{out}"
    );
    // `..` out of the granted directory fails.
    assert!(out.stdout.contains("escape_error="), "the component read outside its directory\n{out}");
    assert!(!out.stdout.contains("the secret"), "{out}");

    // std::process::exit(7): Rust std for wasm32-wasip2 exits through wasi:cli/exit@0.2.0
    // `exit(result)`, which carries only ok or err (the status is not `exit-with-code`,
    // which is unstable in WASI 0.2 and not imported): err is status 1, as in wasmtime.
    // Every nonzero exit of these guests (`fail`'s 3 too) is status 1.
    let out = guest.cmd().dir(&sandbox).opt(TIMEOUT).args([sandbox_arg.as_str(), "exit:7"]).run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "exit(7) through wasi:cli/exit@0.2.0 `exit(err)`\n{out}");
    assert!(has_line(&out, "exiting=7"), "{out}");
}

#[test]
fn return_map_dir_and_panic_give_a_component_status_0_the_guest_name_and_status_1() {
    let dir = TestDir::new();
    let sandbox = dir.sandbox();
    std::fs::write(sandbox.join("in.txt"), "mapped\n").unwrap();
    let mut map = std::ffi::OsString::from("--map-dir=/data::");
    map.push(&sandbox);
    // The host's environment is not the guest's.
    let out = rust_p2("basics")
        .cmd()
        .opt(&map)
        .opt(TIMEOUT)
        .host_env("GREETING", "from the host")
        .args(["/data", "return"])
        .run();
    out.assert_success();
    for line in ["argc=3", "arg1=/data", "env_GREETING=unset", "read=mapped", "write=ok", "returning=0"] {
        assert!(has_line(&out, line), "no stdout line {line:?}\n{out}");
    }
    assert_eq!(
        std::fs::read_to_string(sandbox.join("out.txt")).ok().as_deref(),
        Some("written by a component\n")
    );

    // A panic is a trap: status 1, the guest's own message on stderr, no host crash.
    let out = rust_p2("basics").cmd().opt(&map).opt(TIMEOUT).args(["/data", "panic"]).run();
    assert!(!out.timed_out, "{out}");
    assert!(out.status.signal().is_none(), "wasock died of a signal\n{out}");
    assert_eq!(out.code(), Some(1), "a panicking component exits 1\n{out}");
    assert!(has_line(&out, "read=mapped"), "{out}");
    out.assert_stderr_contains("the guest panics on purpose");
}

#[test]
fn a_component_spinning_in_wasm_is_stopped_by_timeout() {
    let start = Instant::now();
    let out = rust_p2("basics").cmd().opt("--timeout=1000").args(["/none", "spin"]).run();
    let elapsed = start.elapsed();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "a run stopped by --timeout exits 1\n{out}");
    assert!(has_line(&out, "spinning=1"), "the component never reached its loop\n{out}");
    out.assert_stderr_contains("the guest was stopped after the --timeout of 1000 ms");
    assert!(elapsed >= Duration::from_millis(900), "stopped after only {elapsed:?}\n{out}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}\n{out}");
}

#[test]
fn max_memory_caps_what_a_component_may_allocate() {
    let run = |max: &str| rust_p2("basics").cmd().opt(TIMEOUT).opt(max).args(["/none", "alloc:64"]).run();
    let out = run("--max-memory=33554432");
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "64 MiB does not fit in --max-memory of 32 MiB: the guest aborts\n{out}");
    assert!(!out.stdout.contains("allocated="), "{out}");
    // The control: the same allocation under a cap it fits.
    let out = run("--max-memory=268435456");
    out.assert_success();
    assert_values(&out, &[("allocated", "64")]);
}

#[test]
fn max_fds_bounds_the_sockets_a_component_may_hold_open() {
    let run = |max: &str| {
        rust_p2("basics").cmd().opt(TIMEOUT).opt(POOL_V4).opt(max).args(["/none", "sockets:100"]).run()
    };
    // wasmtime-wasi traps when the component's resource table is full (4 entries per fd).
    let out = run("--max-fds=10");
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "100 sockets do not fit in --max-fds=10\n{out}");
    assert!(!out.stdout.contains("opened=100"), "{out}");
    out.assert_stderr_contains(
        "the guest trapped: the component holds more sockets, streams and files than --max-fds=10 allows",
    );
    let out = run("--max-fds=200");
    out.assert_success();
    assert_values(&out, &[("opened", "100")]);
}

#[test]
fn a_component_is_run_through_wasi_cli_run_only() {
    // `-f` calls functions of core modules; a component has one way in.
    let out = rust_p2("basics").cmd().opt("-f").opt("main").args(["/none", "return"]).run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "-f on a component is a usage error\n{out}");
    out.assert_stderr_contains("-f main: a component is run through wasi:cli/run");
    assert!(!out.stdout.contains("argc="), "the component ran\n{out}");

    // A component that is no command cannot start, and the message says what is missing.
    let dir = TestDir::new();
    let library = dir.path().join("library.wat");
    std::fs::write(&library, "(component)\n").unwrap();
    let out = Wasock::new().opt(TIMEOUT).module(&library).run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(255), "{out}");
    out.assert_stderr_contains(
        "cannot start the program: the component exports no wasi:cli/run@0.2 interface",
    );
}

#[test]
fn net_rules_judge_a_component_as_they_judge_a_module() {
    let (listener, udp) = tcp_and_udp_on_one_port(LOCALHOST_V4);
    let port = listener.local_addr().expect("local_addr").port();
    // Bind anything on 127.0.0.1 and send datagrams to the one port; no TCP connect.
    let rules = format!("--allow-net=bind:127.0.0.1,udp:connect:127.0.0.1:{port}");
    let component = deny_probe(&[&rules], LOCALHOST_V4, port, LOCALHOST_V4);
    component.assert_success();
    assert_values(
        &component,
        &[("connect_error", "PermissionDenied"), ("udp_bind", "ok"), ("send_to", "ok sent=1")],
    );
    assert!(component.stdout.lines().any(|l| l.starts_with("bind=ok local=Some(127.0.0.1:")), "{component}");
    let expected = format!(
        "[wasock] denied: sock_connect tcp to 127.0.0.1:{port}: no rule allows it \
         (allow it with --allow-net=tcp:connect:127.0.0.1:{port})"
    );
    assert_eq!(denial_line(&component, "sock_connect"), expected, "{component}");
    let module = c("sock_policy")
        .cmd()
        .opt(&rules)
        .opt("--trace")
        .args(["one", "connect", "tcp", "127.0.0.1", &port.to_string()])
        .run();
    assert_eq!(denial_line(&module, "sock_connect"), expected, "{module}");
    // The datagram arrived; the connect did not.
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    match retry(|| udp.recv_from(&mut buf)) {
        Ok((1, _)) if buf[0] == b'x' => {}
        other => panic!("the allowed datagram did not arrive: {other:?}\n{component}"),
    }
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock), "{component}");
}
