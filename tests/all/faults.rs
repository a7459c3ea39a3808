//! Faults and limits: the guest sees the right errno, the host never dies, and nothing leaks.
//!
//! The guests (tests/programs/c/fault_*.c, soak_echo.c) use raw imports only. The native
//! peer is played here on 127.0.0.1 with an OS-chosen port; every native socket operation
//! has a timeout. Tests that look at the wasock process itself (its open fds) start it with
//! [`Process`], which keeps its pid.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Guest, Output, c};

/// Native socket operations give up after this.
const IO_LIMIT: Duration = Duration::from_secs(10);
/// How long an interrupted guest may take to stop after its --timeout.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// WASI errnos.
const EAGAIN: u32 = 6;
const ECONNREFUSED: u32 = 14;
const ECONNRESET: u32 = 15;
const EMFILE: u32 = 33;
const EPIPE: u32 = 64;

/// A native listener on 127.0.0.1 with an OS-chosen port.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a native listener on 127.0.0.1");
    let port = l.local_addr().expect("listener address").port();
    (l, port)
}

/// Accepts one connection within IO_LIMIT, with read and write timeouts set.
fn accept(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).expect("non-blocking listener");
    let deadline = Instant::now() + IO_LIMIT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).expect("blocking stream");
                s.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
                s.set_write_timeout(Some(IO_LIMIT)).expect("write timeout");
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("no connection from the guest within {IO_LIMIT:?}: {e}"),
        }
    }
}

/// Runs `fault_net MODE PORT` while `peer` plays the other side on the listener. The
/// receiver `peer` gets disconnects when the guest has exited.
fn with_peer(mode: &str, peer: impl FnOnce(TcpListener, mpsc::Receiver<()>) + Send + 'static) -> Output {
    let (l, port) = listener();
    let (guest_running, guest_done) = mpsc::channel();
    let native = thread::spawn(move || peer(l, guest_done));
    let out = c("fault_net").cmd().opt("--addr-pool=127.0.0.1/32").args([mode, &port.to_string()]).run();
    drop(guest_running);
    if let Err(panic) = native.join() {
        panic!("the native peer failed: {panic:?}\n{out}");
    }
    out
}

/// The number after `key=` on the stdout line starting with `line`.
#[track_caller]
fn number(out: &Output, line: &str, key: &str) -> u64 {
    let text =
        out.stdout.lines().find(|l| l.starts_with(line)).unwrap_or_else(|| panic!("no line {line:?}\n{out}"));
    let prefix = format!("{key}=");
    text.split(' ')
        .find_map(|w| w.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key}= in {text:?}\n{out}"))
}

#[test]
fn peer_reset_mid_transfer_gives_econnreset_then_epipe() {
    let out = with_peer("reset", |l, _| {
        let mut s = accept(&l);
        s.write_all(b"hello").expect("send hello");
        let mut ack = [0u8; 3];
        s.read_exact(&mut ack).expect("read the guest's ack");
        assert_eq!(&ack, b"ack");
        // Linger 0: close sends RST instead of FIN.
        rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO)).expect("SO_LINGER 0");
        drop(s);
    });
    out.assert_success();
    assert!(out.stdout.contains("recv1 errno=0 n=5 data=hello"), "{out}");
    assert!(out.stdout.contains("send1 errno=0 n=3"), "{out}");
    assert_eq!(number(&out, "recv2", "errno"), ECONNRESET as u64, "recv after the reset\n{out}");
    let send = number(&out, "send2", "errno") as u32;
    assert!([EPIPE, ECONNRESET].contains(&send), "send after the reset: EPIPE or ECONNRESET\n{out}");
    let write = number(&out, "fd_write", "errno") as u32;
    assert!([EPIPE, ECONNRESET].contains(&write), "fd_write after the reset\n{out}");
}

#[test]
fn half_closed_connection_reads_eof_and_can_still_send() {
    let (got_tx, got_rx) = mpsc::channel();
    let out = with_peer("halfclose", move |l, _| {
        let mut s = accept(&l);
        s.write_all(b"bye").expect("send bye");
        s.shutdown(Shutdown::Write).expect("shut down the write side");
        let mut rest = Vec::new();
        // The guest sends "still here" and exits, which closes its side: read to EOF.
        s.read_to_end(&mut rest).expect("read what the guest sends after our shutdown");
        got_tx.send(rest).expect("report");
    });
    out.assert_success();
    assert!(out.stdout.contains("received n=3 data=bye"), "{out}");
    assert!(out.stdout.contains("after eof errno=0 n=0"), "EOF again after EOF\n{out}");
    assert!(out.stdout.contains("send errno=0 n=10"), "{out}");
    assert_eq!(got_rx.recv_timeout(IO_LIMIT).expect("peer result"), b"still here");
}

#[test]
fn connection_to_a_closed_port_is_refused() {
    // A port that was just free; nothing listens on it any more.
    let (l, port) = listener();
    drop(l);
    let out = c("fault_net").cmd().opt("--addr-pool=127.0.0.1/32").args(["refused", &port.to_string()]).run();
    out.assert_success();
    assert_eq!(number(&out, "connect", "errno"), ECONNREFUSED as u64, "{out}");
}

#[test]
fn receive_timeout_gives_eagain() {
    let out = with_peer("rcvtimeo", |l, guest_done| {
        let _s = accept(&l);
        // Silent until the guest is done.
        let _ = guest_done.recv_timeout(IO_LIMIT);
    });
    out.assert_success();
    assert_eq!(number(&out, "recv", "errno"), EAGAIN as u64, "{out}");
    let waited = number(&out, "recv", "after_ms");
    assert!((150..5000).contains(&waited), "SO_RCVTIMEO of 200 ms waited {waited} ms\n{out}");
}

/// A peer that accepts and then never reads, with a small receive buffer so that the
/// connection fills quickly. It holds the connection until `release` says so.
fn stalled_peer(l: TcpListener, release: mpsc::Receiver<()>) {
    rustix::net::sockopt::set_socket_recv_buffer_size(&l, 4096).expect("SO_RCVBUF");
    let _s = accept(&l);
    let _ = release.recv_timeout(Duration::from_secs(25));
}

#[test]
fn send_timeout_against_a_peer_that_stops_reading_gives_eagain() {
    let out = with_peer("sndtimeo", stalled_peer);
    out.assert_success();
    assert_eq!(number(&out, "send errno", "errno"), EAGAIN as u64, "{out}");
    assert!(number(&out, "send errno", "after_bytes") > 0, "some data fits before the buffers fill\n{out}");
    let blocked = number(&out, "send errno", "blocked_ms");
    assert!((150..5000).contains(&blocked), "SO_SNDTIMEO of 200 ms blocked {blocked} ms\n{out}");
}

#[test]
fn blocking_send_to_a_stalled_peer_is_stopped_by_the_timeout() {
    let (l, port) = listener();
    let (release, held) = mpsc::channel();
    let native = thread::spawn(move || stalled_peer(l, held));
    let out = c("fault_net")
        .cmd()
        .opt("--addr-pool=127.0.0.1/32")
        .opt("--timeout=1000")
        .args(["sendblock", &port.to_string()])
        .run();
    drop(release);
    native.join().expect("native peer");
    out.assert_failure();
    assert!(out.stdout.contains("sending"), "the guest got as far as sending\n{out}");
    assert!(!out.stdout.contains("send errno="), "a blocking send without timeout must block\n{out}");
    assert!(out.elapsed < Duration::from_millis(1000) + STOP_GRACE, "took {:?}\n{out}", out.elapsed);
    out.assert_stderr_contains("--timeout");
}

#[test]
fn timeout_interrupts_blocked_accept_recv_and_poll() {
    for mode in ["accept", "recv", "poll"] {
        let (l, port) = listener();
        let (release, held) = mpsc::channel::<()>();
        let native = thread::spawn(move || {
            if mode != "accept" {
                let _s = accept(&l);
                let _ = held.recv_timeout(Duration::from_secs(25));
            }
        });
        let out = c("fault_net")
            .cmd()
            .opt("--addr-pool=127.0.0.1/32")
            .opt("--timeout=500")
            .args([mode, &port.to_string()])
            .run();
        drop(release);
        native.join().expect("native peer");
        out.assert_failure();
        assert!(out.stdout.contains("blocking"), "{mode}: the guest reached the blocking call\n{out}");
        assert!(!out.stdout.contains("FAILED"), "{mode}: the blocking call returned\n{out}");
        assert!(
            out.elapsed < Duration::from_millis(500) + STOP_GRACE,
            "{mode}: took {:?}\n{out}",
            out.elapsed
        );
        out.assert_stderr_contains("--timeout");
    }
}

#[test]
fn fd_cap_gives_emfile_and_the_guest_recovers() {
    let out = c("fault_limits").cmd().opt("--max-fds=64").arg("fds").run();
    out.assert_success();
    // 64 fds in all, 3 of them stdio.
    assert!(out.stdout.contains(&format!("opened 61 errno={EMFILE}")), "{out}");
    assert!(out.stdout.contains("reopen errno=0"), "a closed slot can be reused\n{out}");
    assert!(out.stdout.contains(&format!("one more errno={EMFILE}")), "{out}");
    assert!(out.stdout.contains("after closing all errno=0 fd=3"), "{out}");
}

#[test]
fn default_fd_cap_is_1024_and_the_host_can_hold_them() {
    // Needs the host's soft RLIMIT_NOFILE raised above 1024 (the CLI does): otherwise the
    // host itself would run out first and the guest would stop short of 1021.
    let out = c("fault_limits").cmd().arg("fds").run();
    out.assert_success();
    assert!(out.stdout.contains(&format!("opened 1021 errno={EMFILE}")), "{out}");
    assert!(out.stdout.contains("after closing all errno=0 fd=3"), "{out}");
}

#[test]
fn memory_limit_makes_allocation_fail_not_the_host() {
    const LIMIT: u64 = 8 << 20;
    let out = c("fault_limits").cmd().opt(format!("--max-memory={LIMIT}")).arg("memory").run();
    out.assert_success();
    let pages = number(&out, "malloc_kib", "pages");
    let kib = number(&out, "malloc_kib", "malloc_kib");
    assert!(pages * 65536 <= LIMIT, "memory grew to {pages} pages, past --max-memory\n{out}");
    assert!(pages * 65536 > LIMIT - (1 << 20), "memory stopped growing early ({pages} pages)\n{out}");
    assert!(kib > 4096, "malloc gave only {kib} KiB of 8 MiB\n{out}");
    assert!(out.stdout.contains("grow=-1"), "memory.grow past the limit returns -1\n{out}");
}

/// A wasock process whose pid we keep, with stdin and stdout piped.
pub(crate) struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Process {
    pub(crate) fn start(guest: Guest, options: &[&str], args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wasock"))
            // Only the guest's own fds: no compiled-code cache files in the counts the leak
            // checks compare.
            .arg("--no-cache")
            .args(options)
            .arg(guest.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start wasock");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        });
        let stdin = child.stdin.take();
        Process { child, stdin, lines, seen: Vec::new(), stderr: Some(stderr) }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stdout line starting with `prefix` and returns the rest of it.
    #[track_caller]
    pub(crate) fn line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
                    panic!(
                        "no stdout line starting with {prefix:?} within {limit:?}\nstdout:\n{}\nstderr:\n{stderr}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    pub(crate) fn send_line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{text}").expect("write to the guest's stdin");
    }

    /// How many fds the wasock process has open now.
    pub(crate) fn open_fds(&self) -> usize {
        let dir = format!("/proc/{}/fd", self.pid());
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {dir}: {e}")).count()
    }

    /// Waits up to `limit` for the process to end; kills it after that. Returns the status
    /// (None if it had to be killed), the stdout lines seen and stderr.
    pub(crate) fn finish(mut self, limit: Duration) -> (Option<ExitStatus>, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + limit;
        let status = loop {
            match self.child.try_wait().expect("wait for wasock") {
                Some(status) => break Some(status),
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
                None => thread::sleep(Duration::from_millis(10)),
            }
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        (status, self.seen.join("\n"), stderr)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `count` until it returns `target` or `limit` passes; returns the last value.
fn settle(limit: Duration, target: usize, count: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let n = count();
        if n == target || Instant::now() >= deadline {
            return n;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ten_thousand_socket_cycles_leak_no_host_fd() {
    // Each cycle opens and closes a TCP and a UDP socket (some bound, some listening):
    // 5,000 cycles are 10,000 sockets between two checkpoints.
    let mut p = Process::start(c("fault_limits"), &["--addr-pool=127.0.0.1/32"], &["cycle", "5000"]);
    let mut counts = Vec::new();
    for checkpoint in 0..3 {
        p.line(&format!("checkpoint {checkpoint}"), Duration::from_secs(20));
        // The guest waits for our line, holding no sockets: count now.
        counts.push(p.open_fds());
        p.send_line("go");
    }
    let (status, stdout, stderr) = p.finish(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{stdout}\n{stderr}");
    assert!(stdout.contains("cycled 10000"), "{stdout}\n{stderr}");
    assert_eq!(counts[1], counts[0], "fds after 10,000 sockets vs before: {counts:?}");
    assert_eq!(counts[2], counts[0], "fds after 20,000 sockets vs before: {counts:?}");
}

/// One short echo exchange with the server, then close.
fn echo_once(port: u16, n: usize) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, IO_LIMIT).expect("connect to the wasm echo server");
    s.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
    s.set_write_timeout(Some(IO_LIMIT)).expect("write timeout");
    let msg = format!("message {n}");
    s.write_all(msg.as_bytes()).expect("send");
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).expect("read the echo");
    assert_eq!(back, msg.as_bytes(), "connection {n}");
}

#[test]
fn five_hundred_echo_connections_leak_no_host_fd() {
    let mut p = Process::start(c("soak_echo"), &["--addr-pool=127.0.0.1/32"], &["1000000"]);
    let port: u16 = p.line("listening ", Duration::from_secs(20)).trim().parse().expect("port");
    let idle = p.open_fds();
    for n in 0..50 {
        echo_once(port, n);
    }
    // The server closes its side when it sees our EOF; give it a moment.
    let after_50 = settle(Duration::from_secs(5), idle, || p.open_fds());
    for n in 50..500 {
        echo_once(port, n);
    }
    let after_500 = settle(Duration::from_secs(5), idle, || p.open_fds());
    assert_eq!(after_50, idle, "fds: idle {idle}, after 50 connections {after_50}");
    assert_eq!(after_500, idle, "fds: idle {idle}, after 500 connections {after_500}");
    let (status, stdout, stderr) = p.finish(Duration::ZERO);
    assert!(status.is_none(), "the server was still serving: {status:?}\n{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
