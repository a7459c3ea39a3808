//! wasi-threads guests (Rust built for wasm32-wasip1-threads): a thread-per-connection
//! server under 32 concurrent clients, proc_exit and traps in one thread ending threads
//! blocked in host calls, `--max-threads`, `--timeout`, and the fd table all threads share.
//!
//! C thread guests (WAMR's lib-pthread, and wasi-threads in a module that defines its own
//! memory) are in `wamr_cmake.rs`: Debian's wasi-libc has no wasm32-wasi-threads variant, so
//! they bring their own thread start.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, Running, TestDir, rust, rust_threads};

const LOOPBACK_POOL: &str = "--addr-pool=127.0.0.1/32";
/// The most a guest may take to print a line we wait for (the first run compiles the module).
const LINE_LIMIT: Duration = Duration::from_secs(20);
/// Every socket operation of a native client gives up after this.
const IO_LIMIT: Duration = Duration::from_secs(10);
/// How soon after a thread calls exit (or traps) the whole process must have ended.
const EXIT_LATENCY_LIMIT: Duration = Duration::from_secs(1);

fn connect(port: u16) -> TcpStream {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, IO_LIMIT)
        .unwrap_or_else(|e| panic!("cannot connect to the guest at {addr}: {e}"));
    stream.set_read_timeout(Some(IO_LIMIT)).expect("set a read timeout");
    stream.set_write_timeout(Some(IO_LIMIT)).expect("set a write timeout");
    stream
}

fn port_of(server: &mut Running) -> u16 {
    let port = server.wait_for_line("port=", LINE_LIMIT);
    port.parse().unwrap_or_else(|_| panic!("the guest printed port={port:?}, not a port number"))
}

// ---- a thread-per-connection echo server --------------------------------------------------

const CLIENTS: usize = 32;

/// Client `client`'s bytes: deterministic, different for every client and not periodic at 256.
fn pattern(client: usize) -> Vec<u8> {
    let len = 64 * 1024 + client * 6 * 1024;
    (0..len)
        .map(|j| (j.wrapping_mul(31) ^ (j >> 8).wrapping_mul(13) ^ client.wrapping_mul(97)) as u8)
        .collect()
}

/// The same FNV-1a the guest prints.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Connects and waits for the greeting of the thread serving it, waits at `all_greeted` until
/// every client has been greeted (so all handler threads run at once), then sends its pattern
/// while reading the echo, half-closes, and checks the echo byte for byte.
fn echo_client(client: usize, port: u16, all_greeted: &Barrier) -> Result<(), String> {
    let greeted = (|| -> Result<TcpStream, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, IO_LIMIT).map_err(|e| format!("connect: {e}"))?;
        stream.set_read_timeout(Some(IO_LIMIT)).map_err(|e| e.to_string())?;
        stream.set_write_timeout(Some(IO_LIMIT)).map_err(|e| e.to_string())?;
        let mut greeting = [0u8; 6];
        (&stream).read_exact(&mut greeting).map_err(|e| format!("reading the greeting: {e}"))?;
        if &greeting != b"ready\n" {
            return Err(format!(
                "the greeting was {:?}, not \"ready\\n\"",
                String::from_utf8_lossy(&greeting)
            ));
        }
        Ok(stream)
    })();
    // Every client reaches the barrier exactly once, failed or not, so that none waits forever.
    all_greeted.wait();
    let stream = greeted.map_err(|e| format!("client {client}: {e}"))?;

    let sent = pattern(client);
    let mut writer_stream = stream.try_clone().map_err(|e| format!("client {client}: try_clone: {e}"))?;
    let to_send = sent.clone();
    // Writing and reading at once: a client that wrote everything before reading could fill
    // both directions' buffers and deadlock with the echo.
    let writer = thread::spawn(move || -> Result<(), String> {
        for chunk in to_send.chunks(8 * 1024) {
            writer_stream.write_all(chunk).map_err(|e| format!("send: {e}"))?;
        }
        writer_stream.shutdown(Shutdown::Write).map_err(|e| format!("shutdown: {e}"))
    });
    let mut echoed = Vec::with_capacity(sent.len());
    let mut buf = vec![0u8; 16 * 1024];
    let read_result = loop {
        // Bounded: at most one read past the expected length.
        match (&stream).read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                echoed.extend_from_slice(&buf[..n]);
                if echoed.len() > sent.len() {
                    break Err(format!("more than the {} bytes sent came back", sent.len()));
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("recv after {} bytes: {e}", echoed.len())),
        }
    };
    let write_result = writer.join().unwrap_or_else(|_| Err("the writer thread panicked".to_string()));
    write_result.and(read_result).map_err(|e| format!("client {client}: {e}"))?;
    if echoed != sent {
        let first_difference = echoed.iter().zip(&sent).position(|(a, b)| a != b);
        return Err(format!(
            "client {client}: the echo differs: {} bytes back for {} sent, first difference at {first_difference:?}",
            echoed.len(),
            sent.len()
        ));
    }
    Ok(())
}

#[test]
fn thread_per_connection_server_serves_32_concurrent_clients() {
    let mut server =
        rust_threads("threads_echo_server").cmd().opt(LOOPBACK_POOL).arg(CLIENTS.to_string()).spawn();
    let port = port_of(&mut server);
    let start = Instant::now();
    let all_greeted = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let all_greeted = all_greeted.clone();
            thread::spawn(move || echo_client(client, port, &all_greeted))
        })
        .collect();
    let failures: Vec<String> = clients
        .into_iter()
        .filter_map(|c| c.join().unwrap_or_else(|_| Err("a client thread panicked".to_string())).err())
        .collect();
    let clients_done = Instant::now();
    if !failures.is_empty() {
        let output = server.kill();
        panic!("{} of {CLIENTS} clients failed:\n{}\n{output}", failures.len(), failures.join("\n"));
    }
    let output = server.finish();
    let exit_after_clients = clients_done.elapsed();
    eprintln!(
        "32 clients served in {:?}; the server exited {:?} after the last client",
        clients_done - start,
        exit_after_clients
    );
    output.assert_success();
    assert!(
        exit_after_clients < Duration::from_secs(3),
        "the server took {exit_after_clients:?} to exit after its last client\n{output}"
    );
    // Every handler thread was alive at once: each greeted its client before the barrier let
    // any client send, and none ends before its client half-closes.
    assert_eq!(output.value("served"), CLIENTS.to_string(), "{output}");
    assert!(output.stdout.contains(&format!("served={CLIENTS} peak={CLIENTS}\n")), "{output}");
    // What each thread received, checked on the guest's side too.
    let mut expected: Vec<String> = (0..CLIENTS)
        .map(|client| {
            let data = pattern(client);
            format!("conn bytes={} fnv={:016x}", data.len(), fnv1a(&data))
        })
        .collect();
    let mut reported: Vec<String> =
        output.stdout.lines().filter(|line| line.starts_with("conn ")).map(str::to_string).collect();
    expected.sort();
    reported.sort();
    assert_eq!(reported, expected, "the server's per-connection byte counts and hashes\n{output}");
}

// ---- ending a program whose threads are blocked --------------------------------------------

/// How a run of threads_blocked ended.
struct Ended {
    output: Output,
    /// From reading the guest's last line (`exiting with N` or `trapping`) to the process end.
    latency: Duration,
}

/// Runs threads_blocked with `args` (and CLI `options`), plays its silent peer, waits for
/// `last_line`, and then for the process to end: first through the peer connection, which
/// the OS closes when the process ends, within `limit` (so that a hang fails the test in
/// bounded time), then for the exit status.
fn run_blocked(options: &[&str], args: &[&str], last_line: &str, limit: Duration) -> Ended {
    let mut cmd = rust_threads("threads_blocked").cmd().opt(LOOPBACK_POOL);
    for option in options {
        cmd = cmd.opt(option);
    }
    let mut guest = cmd.args(args).spawn();
    let port = port_of(&mut guest);
    // The guest's reader thread blocks in recv on this connection: we never send.
    let peer = connect(port);
    guest.wait_for_line(last_line, LINE_LIMIT);
    let announced = Instant::now();
    if !wait_for_close(&peer, limit) {
        let output = guest.kill();
        panic!(
            "wasock did not end within {limit:?} after the guest printed {last_line:?} \
             (killed by the test)\n{output}"
        );
    }
    let output = guest.finish();
    Ended { latency: announced.elapsed(), output }
}

/// Waits up to `limit` for the guest to close `peer`, which the OS does at the latest when
/// the process ends; false if it did not.
fn wait_for_close(peer: &TcpStream, limit: Duration) -> bool {
    peer.set_read_timeout(Some(limit)).expect("set a read timeout");
    let mut buf = [0u8; 16];
    match (&*peer).read(&mut buf) {
        Ok(0) => true,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        Ok(n) => panic!("the guest sent {n} bytes on a connection it only reads"),
        Err(_) => false,
    }
}

/// Every thread got into its blocking call and none of them returned.
#[track_caller]
fn assert_all_were_blocked(output: &Output, main_waits: &str) {
    for line in ["reader 0: blocked in recv", "reader 1: blocked in recv"] {
        assert!(output.stdout.contains(line), "missing {line:?}\n{output}");
    }
    let waiting = match main_waits {
        "accept" => "main: blocked in accept",
        _ => "acceptor: blocked in accept",
    };
    assert!(output.stdout.contains(waiting), "missing {waiting:?}\n{output}");
    assert!(!output.stdout.contains("unexpected"), "a blocked call returned\n{output}");
}

fn exit_ends_blocked_threads(main_waits: &str) {
    let Ended { output, latency } =
        run_blocked(&[], &[main_waits, "exit:23"], "exiting with 23", Duration::from_secs(3));
    eprintln!("exit(23) with the main thread in {main_waits}: the process ended {latency:?} later");
    output.assert_no_host_crash();
    assert_eq!(output.code(), Some(23), "expected the exit code the thread gave\n{output}");
    assert_all_were_blocked(&output, main_waits);
    assert!(latency < EXIT_LATENCY_LIMIT, "the process took {latency:?} to end after exit(23)\n{output}");
    assert!(output.elapsed < Duration::from_secs(15), "the whole run took {:?}\n{output}", output.elapsed);
}

/// The main thread is blocked in accept, two threads in recv; a fourth calls exit(23).
#[test]
fn exit_in_a_thread_ends_threads_blocked_in_accept_and_recv() {
    exit_ends_blocked_threads("accept");
}

/// As above, but the main thread waits in `pthread_join` (`memory.atomic.wait32`), as a
/// server's main thread joining its workers does, and a thread blocks in accept.
#[test]
fn exit_in_a_thread_ends_a_main_thread_waiting_in_join() {
    exit_ends_blocked_threads("join");
}

fn trap_ends_blocked_threads(main_waits: &str) {
    let Ended { output, latency } =
        run_blocked(&[], &[main_waits, "trap"], "trapping", Duration::from_secs(3));
    eprintln!("a trap with the main thread in {main_waits}: the process ended {latency:?} later");
    output.assert_failure();
    assert_all_were_blocked(&output, main_waits);
    // Which thread trapped, and how.
    output.assert_stderr_contains("trapped").assert_stderr_contains("thread");
    output.assert_stderr_contains("unreachable");
    assert!(latency < EXIT_LATENCY_LIMIT, "the process took {latency:?} to end after the trap\n{output}");
}

#[test]
fn trap_in_a_thread_ends_the_program_with_a_message() {
    trap_ends_blocked_threads("accept");
}

#[test]
fn trap_in_a_thread_ends_a_main_thread_waiting_in_join() {
    trap_ends_blocked_threads("join");
}

fn timeout_stops_blocked_threads(main_waits: &str) {
    const TIMEOUT: Duration = Duration::from_millis(2000);
    let mut guest = rust_threads("threads_blocked")
        .cmd()
        .opt(LOOPBACK_POOL)
        .opt(format!("--timeout={}", TIMEOUT.as_millis()))
        .arg(main_waits)
        .spawn();
    let port = port_of(&mut guest);
    let peer = connect(port);
    // The timeout counts from the start of the run, so this waits past it by 3 s.
    if !wait_for_close(&peer, TIMEOUT + Duration::from_secs(3)) {
        let output = guest.kill();
        panic!("--timeout={} did not stop the guest (killed by the test)\n{output}", TIMEOUT.as_millis());
    }
    let output = guest.finish();
    eprintln!(
        "--timeout={} with the main thread in {main_waits}: ended after {:?}",
        TIMEOUT.as_millis(),
        output.elapsed
    );
    output.assert_failure().assert_stderr_contains("--timeout");
    assert_all_were_blocked(&output, main_waits);
    assert!(output.elapsed >= TIMEOUT, "stopped after {:?}, before the timeout\n{output}", output.elapsed);
}

#[test]
fn timeout_stops_threads_blocked_in_accept_and_recv() {
    timeout_stops_blocked_threads("accept");
}

#[test]
fn timeout_stops_a_main_thread_waiting_in_join() {
    timeout_stops_blocked_threads("join");
}

// ---- limits and sharing ---------------------------------------------------------------------

#[test]
fn max_threads_refuses_one_spawn_too_many() {
    let limited = rust_threads("threads_limit").cmd().opt("--max-threads=2").arg("3").run();
    limited.assert_success();
    let lines: Vec<&str> = limited.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "expected 5 lines\n{limited}");
    assert_eq!(&lines[..2], ["spawn 1: ok", "spawn 2: ok"], "{limited}");
    // std::thread::Builder::spawn returned an error (EAGAIN from pthread_create).
    assert!(lines[2].starts_with("spawn 3: failed: "), "the third spawn should fail\n{limited}");
    assert!(lines[2].contains("os error 6"), "expected EAGAIN (WASI errno 6)\n{limited}");
    // Ended threads no longer count.
    assert_eq!(&lines[3..], ["started=2 failed=1", "respawn: ok (42)"], "{limited}");

    // The same program without the option: the failure above was the limit's doing.
    rust_threads("threads_limit")
        .cmd()
        .arg("3")
        .run()
        .assert_success()
        .assert_stdout("spawn 1: ok\nspawn 2: ok\nspawn 3: ok\nstarted=3 failed=0\nrespawn: ok (42)\n");
}

#[test]
fn threads_share_one_fd_table() {
    let dir = TestDir::new();
    let sandbox = dir.sandbox();
    let output = rust_threads("threads_shared_fd").cmd().opt(LOOPBACK_POOL).dir(&sandbox).arg(&sandbox).run();
    output.assert_success();
    for line in [
        "main read: hello from B",
        "thread C read: reply from main",
        "thread E after close: Bad file descriptor (os error 8)",
        "ok",
    ] {
        assert!(output.stdout.lines().any(|l| l == line), "missing the line {line:?}\n{output}");
    }
    assert!(
        output.stdout.lines().any(|l| l.starts_with("main read file fd ") && l.ends_with(": written by D")),
        "the main thread did not read thread D's file through its fd\n{output}"
    );
    let on_disk = std::fs::read_to_string(sandbox.join("shared.txt")).expect("read shared.txt");
    assert_eq!(on_disk, "written by D");
}

/// A module built for wasm32-wasip1-threads (it imports a shared memory) that never spawns a
/// thread behaves as its wasm32-wasip1 build does.
#[test]
fn threads_build_of_a_single_threaded_program_runs_as_before() {
    for guest in [rust("p1_exit"), rust_threads("p1_exit")] {
        let output = guest.cmd().args(["exit", "7"]).run();
        output
            .assert_no_host_crash()
            .assert_stdout("stdout: exit 7\n")
            .assert_stderr_contains("stderr: exit 7");
        assert_eq!(output.code(), Some(7), "{guest}\n{output}");
    }
}
