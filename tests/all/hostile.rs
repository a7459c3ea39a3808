//! A hostile guest against the network policy and the limits (issue 10): implicit binds,
//! the unspecified address, dual-stack listeners, SO_REUSEPORT, `localhost.`, forged trace
//! lines, WAMR-style pool entries, table and memory growth, accept at the fd limit.
//!
//! Every connection stays on loopback; the one test that could make the resolver send a
//! query runs wasock in a private network namespace.

use std::io::{ErrorKind, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::Command;
use std::time::Duration;

use crate::sock::{
    EACCES, accept_within, assert_nothing_arrived, assert_values, errno, tcp_and_udp_on_one_port,
};
use crate::util::{Output, Wasock, c, wat};

const EADDRINUSE: i32 = 3;
const EMFILE: i32 = 33;
/// How long a guest may take to print the line a test waits for.
const LINE_LIMIT: Duration = Duration::from_secs(15);

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
}

/// Item 1: `listen` on a never-bound socket binds the wildcard; without it in the pool
/// that bind is refused, and with it the guest really listens there.
#[test]
fn listen_without_bind_is_judged_as_a_wildcard_bind() {
    for family in ["-4", "-6"] {
        let out = c("hostile_net").cmd().args(["serve", family, "0", "no", "100"]).run();
        out.assert_success();
        assert_eq!(errno(&out, "listen"), EACCES, "listen without bind and without a pool\n{out}");
        assert!(!out.stdout.contains("port="), "the guest listened\n{out}");
    }
    let out = c("hostile_net").cmd().opt("--trace").args(["serve", "-4", "0", "no", "100"]).run();
    let line = out.stderr.lines().find(|l| l.contains("denied: sock_listen"));
    let line = line.unwrap_or_else(|| panic!("no trace line for the implicit bind\n{out}"));
    assert!(line.contains("0.0.0.0") && line.contains("--addr-pool=0.0.0.0/32"), "{line}");

    // The control: with the wildcard granted, the same guest serves a native client.
    let mut server =
        c("hostile_net").cmd().opt("--addr-pool=0.0.0.0/32").args(["serve", "-4", "0", "no", "3000"]).spawn();
    let port: u16 = server.wait_for_line("port=", LINE_LIMIT).parse().expect("port");
    connect((Ipv4Addr::LOCALHOST, port).into()).expect("connect to the guest's implicit listener");
    let out = server.finish();
    out.assert_success();
    assert_values(&out, &[("listen", "0"), ("accepted", "1")]);
}

/// Item 2: connecting or sending to 0.0.0.0 reaches 127.0.0.1 (and `::` reaches `::1`), so
/// a pool that grants only the unspecified address does not grant them.
#[test]
fn the_unspecified_address_is_judged_as_loopback() {
    for (unspecified, loopback, pool) in [
        ("0.0.0.0", IpAddr::V4(Ipv4Addr::LOCALHOST), "--addr-pool=0.0.0.0/32"),
        ("::", IpAddr::V6(Ipv6Addr::LOCALHOST), "--addr-pool=::/128"),
    ] {
        let (listener, udp) = tcp_and_udp_on_one_port(loopback);
        let port = listener.local_addr().expect("local_addr").port().to_string();
        let out = c("sock_policy").cmd().opt(pool).opt("--trace").args(["try", unspecified, &port]).run();
        out.assert_success();
        assert_eq!(errno(&out, "bind"), 0, "binding the granted wildcard\n{out}");
        assert_eq!(errno(&out, "connect"), EACCES, "connect to {unspecified}\n{out}");
        assert_eq!(errno(&out, "send_to"), EACCES, "send_to {unspecified}\n{out}");
        assert_nothing_arrived(&listener, &udp, &out);
        let line = out.stderr.lines().find(|l| l.contains("denied: sock_connect"));
        let line = line.unwrap_or_else(|| panic!("no trace line for the connect\n{out}"));
        assert!(line.contains(&format!("reaches {loopback}")), "{line}");
    }
    // The control: with loopback granted too, the same connect reaches the native listener.
    let (listener, _udp) = tcp_and_udp_on_one_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let port = listener.local_addr().expect("local_addr").port().to_string();
    let out = c("sock_policy")
        .cmd()
        .opt("--addr-pool=0.0.0.0/32,127.0.0.1/32")
        .args(["try", "0.0.0.0", &port])
        .run();
    assert_values(&out, &[("connect", "0")]);
    accept_within(&listener, Duration::from_secs(5)).unwrap_or_else(|e| panic!("control: {e}\n{out}"));
}

/// Item 3: a `[::]` listener granted by `::/128` alone is IPv6-only: IPv4 peers are refused
/// by the kernel. With `0.0.0.0` granted too it is dual-stack again.
#[test]
fn a_v6_wildcard_listener_takes_v4_peers_only_when_v4_is_granted() {
    for (pool, v4_reaches) in [("--addr-pool=::/128", false), ("--addr-pool=::/128,0.0.0.0/32", true)] {
        let mut server = c("hostile_net").cmd().opt(pool).args(["serve", "::", "0", "no", "2000"]).spawn();
        let port: u16 = server.wait_for_line("port=", LINE_LIMIT).parse().expect("port");
        connect((Ipv6Addr::LOCALHOST, port).into()).expect("an IPv6 peer reaches the [::] listener");
        let v4 = connect((Ipv4Addr::LOCALHOST, port).into());
        let out = server.finish();
        out.assert_success();
        match (v4_reaches, &v4) {
            (false, Err(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{pool}: {e}\n{out}"),
            (true, Ok(_)) => {}
            _ => panic!("{pool}: IPv4 connect gave {v4:?}, expected reachable={v4_reaches}\n{out}"),
        }
        let want = if v4_reaches { "2" } else { "1" };
        assert_values(&out, &[("listen", "0"), ("accepted", want)]);
    }
}

/// A native listener on 127.0.0.1 with SO_REUSEPORT set, as a host service might have.
fn host_service_with_reuseport() -> TcpListener {
    use rustix::net::{AddressFamily, SocketType, bind, listen, socket, sockopt};
    let fd: OwnedFd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("socket");
    sockopt::set_socket_reuseport(&fd, true).expect("SO_REUSEPORT");
    bind(&fd, &SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    listen(&fd, 128).expect("listen");
    TcpListener::from(fd)
}

/// Item 4: SO_REUSEPORT would let the guest take connections meant for a host service on
/// the same port: refused unless `--allow-port-sharing`, and every connection reaches the
/// host service.
#[test]
fn so_reuseport_cannot_take_a_host_services_connections() {
    let host = host_service_with_reuseport();
    let port = host.local_addr().expect("local_addr").port();
    let mut guest = c("hostile_net")
        .cmd()
        .opt("--addr-pool=127.0.0.1/32")
        .opt("--trace")
        .args(["serve", "127.0.0.1", &port.to_string(), "reuseport", "1000"])
        .spawn();
    let line = guest.wait_for_line("bind=", LINE_LIMIT);
    let clients: Vec<TcpStream> =
        (0..40).map(|_| connect((Ipv4Addr::LOCALHOST, port).into()).expect("connect")).collect();
    host.set_nonblocking(true).expect("set_nonblocking");
    let mut served = 0;
    for _ in 0..400 {
        match host.accept() {
            Ok(_) => served += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock && served < 40 => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => break,
        }
    }
    let out = guest.finish();
    assert_eq!(errno(&out, "reuseport"), EACCES, "{out}");
    assert_eq!(line.parse::<i32>().ok(), Some(EADDRINUSE), "the guest bound the host's port\n{out}");
    assert_eq!(served, 40, "the host service got {served} of 40 connections\n{out}");
    assert!(out.stderr.contains("--allow-port-sharing"), "the denial names the flag\n{out}");
    drop(clients);

    // With the switch, the guest may share the port.
    let out = c("hostile_net")
        .cmd()
        .opt("--addr-pool=127.0.0.1/32")
        .opt("--allow-port-sharing")
        .args(["serve", "127.0.0.1", &port.to_string(), "reuseport", "10"])
        .run();
    assert_values(&out, &[("reuseport", "0"), ("bind", "0"), ("listen", "0")]);
}

/// Whether this process may make a network namespace (root, or unprivileged user
/// namespaces).
fn namespace_command() -> Option<&'static [&'static str]> {
    let as_root: &'static [&'static str] = &["unshare", "-n"];
    let as_user: &'static [&'static str] = &["unshare", "-rn"];
    [as_root, as_user]
        .into_iter()
        .find(|cmd| Command::new(cmd[0]).args(&cmd[1..]).arg("true").status().is_ok_and(|s| s.success()))
}

/// Item 5: `localhost.` (allowed by `--allow-resolve=localhost`) is looked up as `localhost`,
/// from /etc/hosts. With the dot, glibc would skip /etc/hosts and ask DNS. Run in a network
/// namespace that has no DNS server, where only the /etc/hosts answer can succeed (and where
/// the query of the old behaviour reaches nothing).
#[test]
fn localhost_with_a_dot_is_looked_up_without_it() {
    let Some(unshare) = namespace_command() else {
        eprintln!(
            "SKIPPED localhost_with_a_dot_is_looked_up_without_it: cannot make a network namespace here"
        );
        return;
    };
    for name in ["localhost", "localhost.", "LocalHost."] {
        let out = c("sock_policy")
            .cmd()
            .wrapped_in(unshare)
            .opt("--allow-resolve=localhost")
            .args(["resolve", name, "", "4", "4"])
            .run();
        out.assert_success();
        assert_values(&out, &[("resolve", "0"), ("entry0_addr", "127.0.0.1:0")]);
    }
}

/// Item 6: a refused name with a newline cannot forge a trace line.
#[test]
fn guest_names_cannot_forge_trace_lines() {
    let forged = "[wasock] denied: nothing at all";
    let name = format!("x\n{forged}\r\x1b[2K");
    let out = c("sock_policy").cmd().opt("--trace").args(["resolve", &name, "", "4", "1"]).run();
    out.assert_success();
    assert_eq!(errno(&out, "resolve"), EACCES, "{out}");
    assert!(!out.stderr.lines().any(|l| l.starts_with(forged)), "a forged line appeared\n{out}");
    assert!(!out.stderr.contains('\x1b'), "an escape sequence reached the terminal\n{out}");
    assert!(out.stderr.contains(r"x\n[wasock] denied: nothing at all\r\x1b[2K"), "{out}");
}

/// Item 6, module names: an import named with a newline is shown escaped by `-v` and in the
/// trap message.
#[test]
fn import_names_are_escaped() {
    let out = wat("hostile_names").cmd().opt("-v").run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "calling the missing import traps\n{out}");
    assert!(!out.stderr.lines().any(|l| l.starts_with("[wasock] forged")), "a forged line appeared\n{out}");
    let shown = out.stderr.matches(r"evil\n[wasock] forged line").count();
    assert!(shown >= 2, "the name escaped in the -v listing and the trap: {shown}\n{out}");
}

/// Item 7: WAMR reads `0.0.0.0/15` as "every address"; wasock keeps the strict reading but
/// says so at start-up and in the denial.
#[test]
fn wamr_style_all_zero_pools_are_explained() {
    let (listener, udp) = tcp_and_udp_on_one_port(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let port = listener.local_addr().expect("local_addr").port().to_string();
    let out = c("sock_policy")
        .cmd()
        .opt("--addr-pool=0.0.0.0/15")
        .opt("--trace")
        .args(["try", "127.0.0.1", &port])
        .run();
    out.assert_success();
    assert_eq!(errno(&out, "connect"), EACCES, "{out}");
    assert_nothing_arrived(&listener, &udp, &out);
    let warning = out.stderr.lines().find(|l| l.starts_with("wasock: warning:"));
    let warning = warning.unwrap_or_else(|| panic!("no start-up warning\n{out}"));
    assert!(warning.contains("0.0.0.0/15") && warning.contains("0.0.0.0/0"), "{warning}");
    let denial = out.stderr.lines().find(|l| l.contains("denied: sock_connect"));
    let denial = denial.unwrap_or_else(|| panic!("no denial line\n{out}"));
    assert!(denial.contains("--addr-pool=127.0.0.1/32") && denial.contains("0.0.0.0/0"), "{denial}");
    // The usual spellings get no warning.
    let out = c("sock_policy")
        .cmd()
        .opt("--addr-pool=0.0.0.0/32,127.0.0.1/32")
        .args(["try", "127.0.0.1", "9"])
        .run();
    assert!(!out.stderr.contains("warning"), "{out}");
}

/// The i32 result `-f` printed (`0x2a:i32`).
fn i32_result(out: &Output) -> u32 {
    let text = out.stdout.trim();
    let hex = text.strip_suffix(":i32").and_then(|t| t.strip_prefix("0x"));
    u32::from_str_radix(hex.unwrap_or_else(|| panic!("no i32 result\n{out}")), 16).expect("hex")
}

/// Item 8: table.grow is bounded: by --max-table-elements, summed over the tables, and by
/// a default.
#[test]
fn tables_are_bounded() {
    let module = wat("limit_tables");
    let out =
        module.cmd().opt("--max-table-elements=5000").opt("-f").opt("grow").args(["1000", "10000000"]).run();
    out.assert_success();
    assert_eq!(i32_result(&out), 5000, "two tables together stop at the cap\n{out}");
    let out = module.cmd().opt("-f").opt("grow").args(["100000", "10000000"]).run();
    out.assert_success();
    assert_eq!(i32_result(&out), wasock::DEFAULT_MAX_TABLE_ELEMENTS as u32, "the default cap\n{out}");
    let help = Wasock::new().opt("--help").run();
    assert!(help.stdout.contains("--max-table-elements"), "--help documents the limit\n{help}");
}

/// Item 9: --max-memory is the instance's total over all its memories.
#[test]
fn max_memory_is_the_instances_total() {
    let module = wat("limit_memories");
    for (max, grown) in [(64u32 << 20, 1), (128 << 20, 2)] {
        let out = module.cmd().opt(format!("--max-memory={max}")).opt("-f").opt("grow").arg("1024").run();
        out.assert_success();
        assert_eq!(i32_result(&out), grown, "64 MiB memories that fit in --max-memory={max}\n{out}");
    }
}

/// Item 13: at the fd limit, accept says EMFILE and leaves the connection queued: after a
/// close, the next accept gets it, data intact.
#[test]
fn accept_at_the_fd_limit_keeps_the_connection() {
    let mut guest =
        c("hostile_net").cmd().opt("--max-fds=16").opt("--addr-pool=127.0.0.1/32").arg("fdlimit").spawn();
    let port: u16 = guest.wait_for_line("port=", LINE_LIMIT).parse().expect("port");
    let mut client = connect((Ipv4Addr::LOCALHOST, port).into()).expect("connect");
    client.write_all(b"hello").expect("send");
    let out = guest.finish();
    out.assert_success();
    assert_values(&out, &[("opened", "12"), ("accept2", "0"), ("got", "hello")]);
    assert_eq!(errno(&out, "accept1"), EMFILE, "{out}");
}
