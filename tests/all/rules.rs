//! Network policy rules (`--allow-net`, `--deny-net`, `--allow-peer`, `--net-log`) through
//! WAMR's raw imports (tests/programs/c/sock_policy.c), on loopback only: 127.0.0.2 is the
//! address outside the rules.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use crate::sock::{EACCES, errno};
use crate::util::{Output, TestDir, c};

const ECONNREFUSED: i32 = 14;
const LINE_LIMIT: Duration = Duration::from_secs(15);

/// A listener on 127.0.0.1 and its port.
fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a listener on 127.0.0.1");
    listener.set_nonblocking(true).expect("set_nonblocking");
    let port = listener.local_addr().expect("local_addr").port().to_string();
    (listener, port)
}

/// Asserts that no connection is waiting on `listener`.
#[track_caller]
fn assert_not_reached(listener: &TcpListener, out: &Output) {
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("a denied connect reached the listener (from {from})\n{out}"),
        Err(e) => panic!("accept: {e}"),
    }
}

/// Asserts that a connection is waiting on `listener` and takes it.
#[track_caller]
fn assert_reached(listener: &TcpListener, out: &Output) {
    // The guest's connect completed before it exited, so the connection is queued.
    listener.accept().unwrap_or_else(|e| panic!("the allowed connect did not arrive: {e}\n{out}"));
}

/// Runs `sock_policy one CALL PROTO ADDR PORT` with `opts` and returns the errno of the call.
fn one(opts: &[&str], call: &str, proto: &str, addr: &str, port: &str) -> (i32, Output) {
    let mut cmd = c("sock_policy").cmd().opt("--trace");
    for o in opts {
        cmd = cmd.opt(o);
    }
    let out = cmd.args(["one", call, proto, addr, port]).run();
    out.assert_success();
    let key = if call == "sendto" { "send_to" } else { call };
    (errno(&out, key), out)
}

#[test]
fn a_port_rule_allows_that_port_and_nothing_reaches_another() {
    let (allowed, p) = listener();
    let (other, q) = listener();
    let rule = format!("--allow-net=tcp:connect:127.0.0.1:{p}");
    let (err, out) = one(&[&rule], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, 0, "{out}");
    assert_reached(&allowed, &out);

    let (err, out) = one(&[&rule], "connect", "tcp", "127.0.0.1", &q);
    assert_eq!(err, EACCES, "port {q} is outside the rule\n{out}");
    assert_not_reached(&other, &out);
    out.assert_stderr_contains(&format!(
        "[wasock] denied: sock_connect tcp to 127.0.0.1:{q}: no rule allows it \
         (allow it with --allow-net=tcp:connect:127.0.0.1:{q})\n"
    ));
    // The rule names TCP: a datagram to the same port is refused.
    let (err, out) = one(&[&rule], "sendto", "udp", "127.0.0.1", &p);
    assert_eq!(err, EACCES, "{out}");
}

#[test]
fn direction_rules_allow_bind_or_connect_but_not_the_other() {
    let (target, p) = listener();
    let (err, out) = one(&["--allow-net=bind:127.0.0.1"], "bind", "tcp", "127.0.0.1", "0");
    assert_eq!(err, 0, "{out}");
    let (err, out) = one(&["--allow-net=bind:127.0.0.1"], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, EACCES, "{out}");
    assert_not_reached(&target, &out);

    let (err, out) = one(&["--allow-net=connect:127.0.0.1"], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, 0, "{out}");
    assert_reached(&target, &out);
    let (err, out) = one(&["--allow-net=connect:127.0.0.1"], "bind", "udp", "127.0.0.1", "0");
    assert_eq!(err, EACCES, "{out}");
    out.assert_stderr_contains(
        "denied: sock_bind udp on 127.0.0.1:0: no rule allows it (allow it with --allow-net=udp:bind:127.0.0.1:0)",
    );
}

#[test]
fn a_deny_rule_wins_over_the_pool_and_allow_rules() {
    let (open, p) = listener();
    let (closed, q) = listener();
    let deny = format!("--deny-net=tcp:127.0.0.1:{q}");
    let opts = ["--addr-pool=127.0.0.1/32", "--allow-net=127.0.0.1", deny.as_str()];
    let (err, out) = one(&opts, "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, 0, "{out}");
    assert_reached(&open, &out);
    let (err, out) = one(&opts, "connect", "tcp", "127.0.0.1", &q);
    assert_eq!(err, EACCES, "{out}");
    assert_not_reached(&closed, &out);
    out.assert_stderr_contains(&format!(
        "denied: sock_connect tcp to 127.0.0.1:{q}: denied by --deny-net=tcp:127.0.0.1:{q}, which wins over every allow\n"
    ));
    // Only TCP is denied there.
    let (err, out) = one(&opts, "sendto", "udp", "127.0.0.1", &q);
    assert_eq!(err, 0, "{out}");
}

#[test]
fn a_name_rule_allows_only_the_addresses_the_name_resolved_to() {
    let (target, p) = listener();
    let rule = format!("--allow-net=tcp:connect:localhost:{p}");
    let out = c("sock_policy")
        .cmd()
        .opt(&rule)
        .opt("--trace")
        .args(["resolve_connect", "localhost", &p, "127.0.0.2"])
        .run();
    out.assert_success();
    assert_eq!(errno(&out, "resolve"), 0, "the rule allows resolving localhost\n{out}");
    let mut reached_v4 = false;
    for line in out.stdout.lines().filter(|l| l.starts_with("connect")) {
        let (addr, err) = line.split_once(" errno=").expect("connectI=ADDR errno=E");
        let err: i32 = err.parse().expect("an errno");
        // Allowed: a listener answers on 127.0.0.1; ::1 (if localhost has it) has none.
        assert!(err == 0 || err == ECONNREFUSED, "{line}: a resolved address was refused\n{out}");
        reached_v4 |= addr.ends_with(&format!("=127.0.0.1:{p}")) && err == 0;
    }
    assert!(reached_v4, "localhost resolved to 127.0.0.1 and the connect to it went through\n{out}");
    assert_reached(&target, &out);
    assert_eq!(errno(&out, "other"), EACCES, "127.0.0.2 is not an address of localhost\n{out}");

    // Another instance has not resolved the name: the address alone is refused, and so is
    // another port of the resolved address.
    let (err, out) = one(&[&rule], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, EACCES, "{out}");
    let out = c("sock_policy").cmd().opt(&rule).args(["resolve_connect", "localhost", "1"]).run();
    for line in out.stdout.lines().filter(|l| l.starts_with("connect")) {
        assert!(line.ends_with(&format!(" errno={EACCES}")), "port 1 is outside the rule: {line}\n{out}");
    }
}

#[test]
fn peers_outside_allow_peer_are_dropped_before_the_guest_sees_them() {
    // TCP: a connection from 127.0.0.2 is closed unseen; the one from 127.0.0.1 is served.
    let mut guest = c("sock_policy")
        .cmd()
        .opt("--addr-pool=127.0.0.1/32")
        .opt("--allow-peer=127.0.0.1")
        .opt("--trace")
        .args(["serve", "tcp", "127.0.0.1", "1"])
        .spawn();
    let port: u16 = guest.wait_for_line("port=", LINE_LIMIT).parse().expect("a port");
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    let mut outsider = connect_from("127.0.0.2", server);
    let mut reply = Vec::new();
    let ended = outsider.read_to_end(&mut reply);
    assert!(reply.is_empty(), "the dropped peer got {reply:?}");
    assert!(
        ended.is_ok() || ended.as_ref().is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
        "{ended:?}"
    );
    let mut insider = connect_from("127.0.0.1", server);
    let mut reply = Vec::new();
    insider.read_to_end(&mut reply).expect("read the reply");
    assert_eq!(reply, b"ok");
    let out = guest.finish();
    out.assert_success();
    let accepted: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("accepted=")).collect();
    assert_eq!(accepted.len(), 1, "{out}");
    assert!(accepted[0].starts_with("accepted=127.0.0.1:"), "{out}");
    let outsider_port = outsider.local_addr().expect("local_addr").port();
    out.assert_stderr_contains(&format!(
        "denied: sock_accept tcp from 127.0.0.2:{outsider_port}: the peer is outside --allow-peer, so it was \
         dropped (allow it with --allow-peer=tcp:127.0.0.2)\n"
    ));

    // UDP: the datagram from 127.0.0.2 never reaches the guest; the next one does.
    let mut guest = c("sock_policy")
        .cmd()
        .opt("--addr-pool=127.0.0.1/32")
        .opt("--allow-peer=udp:127.0.0.1")
        .opt("--trace")
        .args(["serve", "udp", "127.0.0.1", "1"])
        .spawn();
    let port: u16 = guest.wait_for_line("port=", LINE_LIMIT).parse().expect("a port");
    let outsider = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    outsider.send_to(b"outsider", ("127.0.0.1", port)).expect("send_to");
    let insider = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    insider.send_to(b"insider", ("127.0.0.1", port)).expect("send_to");
    let out = guest.finish();
    out.assert_success();
    let insider_port = insider.local_addr().expect("local_addr").port();
    assert!(out.stdout.contains(&format!("from=127.0.0.1:{insider_port} data=insider\n")), "{out}");
    assert!(!out.stdout.contains("outsider"), "{out}");
    out.assert_stderr_contains("denied: sock_recv_from udp from 127.0.0.2:");
}

/// A TCP connection to `server` from `local` (any port).
fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let local: SocketAddr = format!("{local}:0").parse().expect("an address");
    socket.bind(&local.into()).expect("bind the client");
    socket.connect_timeout(&server.into(), LINE_LIMIT).expect("connect");
    let stream = TcpStream::from(socket);
    stream.set_read_timeout(Some(LINE_LIMIT)).expect("set_read_timeout");
    stream
}

#[test]
fn the_net_log_has_one_json_line_per_decision() {
    let (allowed, p) = listener();
    let (_other, q) = listener();
    let dir = TestDir::new();
    let log = dir.path().join("net.jsonl");
    let opts = [format!("--allow-net=tcp:connect:127.0.0.1:{p}"), format!("--net-log={}", log.display())];
    let (err, out) = one(&[&opts[0], &opts[1]], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, 0, "{out}");
    assert_reached(&allowed, &out);
    let (err, out) = one(&[&opts[0], &opts[1]], "connect", "tcp", "127.0.0.1", &q);
    assert_eq!(err, EACCES, "{out}");
    let out = c("sock_policy")
        .cmd()
        .opt("--allow-resolve=localhost")
        .opt(&opts[1])
        .args(["resolve", "localhost", "", "4", "1"])
        .run();
    out.assert_success();

    let text = std::fs::read_to_string(&log).expect("read the log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "one line per decision:\n{text}");
    let field = |i: usize, key: &str| lines[i][key].clone();
    let port = |s: &String| serde_json::Value::from(s.parse::<u16>().unwrap());
    for (i, (decision, port_, rule, flag)) in [
        ("allow", &p, format!("--allow-net=tcp:connect:127.0.0.1:{p}").into(), serde_json::Value::Null),
        ("deny", &q, serde_json::Value::Null, format!("--allow-net=tcp:connect:127.0.0.1:{q}").into()),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(field(i, "time").as_u64().is_some_and(|t| t > 1_600_000_000_000), "{text}");
        assert_eq!(field(i, "abi"), "WAMR", "{text}");
        assert_eq!(field(i, "call"), "sock_connect", "{text}");
        assert_eq!(field(i, "kind"), "connect", "{text}");
        assert_eq!(field(i, "proto"), "tcp", "{text}");
        assert_eq!(field(i, "addr"), "127.0.0.1", "{text}");
        assert_eq!(field(i, "port"), port(port_), "{text}");
        assert_eq!(field(i, "name"), serde_json::Value::Null, "{text}");
        assert_eq!(field(i, "decision"), decision, "{text}");
        assert_eq!(field(i, "rule"), rule, "{text}");
        assert_eq!(field(i, "flag_to_allow"), flag, "{text}");
    }
    assert_eq!(field(2, "call"), "sock_addr_resolve", "{text}");
    assert_eq!(field(2, "kind"), "resolve", "{text}");
    assert_eq!(field(2, "name"), "localhost", "{text}");
    assert_eq!(field(2, "decision"), "allow", "{text}");
    assert_eq!(field(2, "rule"), "--allow-resolve", "{text}");
    assert_eq!(field(2, "addr"), serde_json::Value::Null, "{text}");
}

#[test]
fn a_malformed_rule_is_refused_at_start_with_the_rule_quoted() {
    for (flag, problem) in [
        ("--allow-net=127.0.0.1:99999", "--allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)"),
        ("--deny-net=tcp:tcp:127.0.0.1", "--deny-net=tcp:tcp:127.0.0.1: the protocol is given twice"),
        ("--allow-peer=connect:127.0.0.1", "--allow-peer=connect:127.0.0.1: a peer rule has no direction"),
    ] {
        let out = c("sock_policy").cmd().opt(flag).args(["one", "bind", "tcp", "127.0.0.1", "0"]).run();
        assert_eq!(out.code(), Some(1), "{out}");
        out.assert_stderr_contains(problem);
        assert!(out.stdout.is_empty(), "the guest did not run\n{out}");
    }
}

#[test]
fn a_policy_file_adds_its_rules_and_a_bad_one_stops_wasock_at_start() {
    let (allowed, p) = listener();
    let (denied, q) = listener();
    let dir = TestDir::new();
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        format!("# a policy\naddr-pool = [\"127.0.0.1/32\"]\ndeny-net = [\"tcp:connect:127.0.0.1:{q}\"]\n"),
    )
    .expect("write the policy");
    let policy = format!("--policy={}", file.display());
    let (err, out) = one(&[&policy], "connect", "tcp", "127.0.0.1", &p);
    assert_eq!(err, 0, "{out}");
    assert_reached(&allowed, &out);
    let (err, out) = one(&[&policy], "connect", "tcp", "127.0.0.1", &q);
    assert_eq!(err, EACCES, "{out}");
    assert_not_reached(&denied, &out);
    out.assert_stderr_contains(&format!("denied by --deny-net=tcp:connect:127.0.0.1:{q}"));

    std::fs::write(&file, "addr-pool = [\"127.0.0.1/32\"]\n\nallow-net = [\"127.0.0.1:99999\"]\n").unwrap();
    let out = c("sock_policy").cmd().opt(&policy).args(["one", "bind", "tcp", "127.0.0.1", "0"]).run();
    assert_eq!(out.code(), Some(1), "{out}");
    out.assert_stderr_contains(&format!(
        "--policy: {}:3: allow-net: --allow-net=127.0.0.1:99999: port 99999 is out of range (0-65535)",
        file.display()
    ));
    assert!(out.stdout.is_empty(), "the guest did not run\n{out}");
}
