//! Host calls that could block in the kernel: a huge write to a pipe nobody reads, closing a
//! lingering socket, opening a FIFO. `--timeout` must stop each of them (issue 10, item 10),
//! and without it each still behaves as on Linux.
//!
//! The guest is tests/programs/c/block_calls.c (raw imports only). Peers are played here on
//! 127.0.0.1 with an OS-chosen port, or through FIFOs made in the granted directory.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, TestDir, c};

/// A guest stopped by --timeout=1000 must be gone within this (the issue: 5 s, 8 s, forever).
const STOPPED_WITHIN: Duration = Duration::from_secs(3);
/// The harness kills wasock after this, so that a test of a hang fails instead of hanging.
const KILL_AFTER: Duration = Duration::from_secs(10);
/// Native socket and FIFO operations give up after this.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// Runs `wasock OPTIONS block_calls ARGS` with the given stdout (stderr is read; stdin is
/// /dev/null), killing it after KILL_AFTER.
fn run(options: &[&str], args: &[&str], stdout: Stdio) -> Output {
    let mut argv: Vec<std::ffi::OsString> = options.iter().map(|o| o.into()).collect();
    argv.push(c("block_calls").path().into());
    argv.extend(args.iter().map(|a| a.into()));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasock"))
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the wasock binary");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut data = Vec::new();
            let _ = pipe.read_to_end(&mut data);
            String::from_utf8_lossy(&data).into_owned()
        })
    };
    let stdout = child.stdout.take().map(|p| read_all(Box::new(p)));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped stderr")));
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for wasock") {
            break status;
        }
        if start.elapsed() >= KILL_AFTER {
            let _ = child.kill();
            timed_out = true;
            break child.wait().expect("wait for the killed wasock");
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        argv,
        status,
        timed_out,
        elapsed: start.elapsed(),
        stdout: stdout.map(|h| h.join().unwrap_or_default()).unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The guest was stopped by --timeout=1000, promptly, without a host crash.
#[track_caller]
fn assert_stopped_by_timeout(out: &Output) {
    assert!(!out.timed_out, "wasock stayed blocked after its --timeout (killed after {KILL_AFTER:?})\n{out}");
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(1), "a timeout exits with status 1\n{out}");
    out.assert_stderr_contains("--timeout of 1000 ms");
    assert!(out.elapsed < STOPPED_WITHIN, "--timeout=1000 took {:?} to stop the guest\n{out}", out.elapsed);
    assert!(
        !out.stdout.contains("FAILED") && !out.stderr.contains("FAILED"),
        "a blocked call returned\n{out}"
    );
}

/// The number after `key=` on the stdout line starting with `line`.
#[track_caller]
fn number(out: &Output, line: &str, key: &str) -> u64 {
    let found =
        out.stdout.lines().find(|l| l.starts_with(line)).unwrap_or_else(|| panic!("no {line:?} line\n{out}"));
    let value = found
        .split(' ')
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {found:?}\n{out}"));
    value.parse().unwrap_or_else(|_| panic!("{key}={value} is not a number\n{out}"))
}

#[test]
fn a_huge_write_to_a_pipe_nobody_reads_is_stopped_by_the_timeout() {
    let (unread, stdout) = std::io::pipe().expect("a pipe for stdout");
    let out = run(&["--timeout=1000"], &["bigwrite"], Stdio::from(stdout));
    drop(unread);
    assert!(out.stderr.contains("writing"), "the guest got as far as writing\n{out}");
    assert_stopped_by_timeout(&out);
}

/// A native peer that accepts one connection and reads nothing until the guest has ended,
/// then reads everything to the end of the stream: returns the byte count.
fn silent_peer() -> (u16, mpsc::Sender<()>, thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a native listener on 127.0.0.1");
    let port = listener.local_addr().expect("listener address").port();
    let (guest_done, wait) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        listener.set_nonblocking(true).expect("non-blocking listener");
        let deadline = Instant::now() + IO_LIMIT;
        let mut conn: TcpStream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("no connection from the guest: {e}"),
            }
        };
        let _ = wait.recv_timeout(Duration::from_secs(25));
        conn.set_nonblocking(false).expect("blocking stream");
        conn.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
        let mut total = 0;
        let mut buf = vec![0u8; 65536];
        // Bounded by the read timeout and the count (the guest queued at most a few MiB).
        for _ in 0..100_000 {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        total
    });
    (port, guest_done, peer)
}

#[test]
fn closing_a_lingering_socket_is_stopped_by_the_timeout() {
    for mode in ["close", "renumber"] {
        let (port, guest_done, peer) = silent_peer();
        let out = run(
            &["--timeout=1000", "--addr-pool=127.0.0.1/32"],
            &[mode, &port.to_string(), "5"],
            Stdio::piped(),
        );
        drop(guest_done);
        let _ = peer.join();
        assert!(out.stdout.contains("closing"), "{mode}: the guest got as far as closing\n{out}");
        assert!(
            !out.stdout.contains("closed errno"),
            "{mode}: the close waited less than its linger time\n{out}"
        );
        assert_stopped_by_timeout(&out);
    }
}

#[test]
fn a_lingering_close_without_timeout_still_waits_then_delivers_everything() {
    for mode in ["close", "renumber"] {
        let (port, guest_done, peer) = silent_peer();
        let out = run(&["--addr-pool=127.0.0.1/32"], &[mode, &port.to_string(), "1"], Stdio::piped());
        drop(guest_done);
        let received = peer.join().expect("native peer");
        out.assert_success();
        assert_eq!(number(&out, "closed", "errno"), 0, "{mode}\n{out}");
        let waited = number(&out, "closed", "after_ms");
        assert!((900..3000).contains(&waited), "{mode}: SO_LINGER of 1 s waited {waited} ms\n{out}");
        let filled = number(&out, "filled", "n") as usize;
        assert!(filled > 0, "{mode}\n{out}");
        assert_eq!(
            received, filled,
            "{mode}: the peer must still get every byte, then the end of the stream\n{out}"
        );
    }
}

/// Makes the FIFO `dir/name`.
fn mkfifo(dir: &Path, name: &str) {
    let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
    rustix::fs::mknodat(rustix::fs::CWD, dir.join(name), rustix::fs::FileType::Fifo, mode, 0)
        .expect("mkfifo in the granted directory");
}

/// Opens the FIFO `path` natively, reading or writing, unless it takes longer than IO_LIMIT.
fn open_fifo(path: &Path, write: bool) -> std::fs::File {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    thread::spawn(move || {
        let _ = tx.send(std::fs::OpenOptions::new().read(!write).write(write).open(path));
    });
    rx.recv_timeout(IO_LIMIT).expect("the guest never opened its end of the FIFO").expect("open the FIFO")
}

#[test]
fn opening_a_fifo_with_no_peer_is_stopped_by_the_timeout() {
    for args in [&["fifo_read"][..], &["fifo_write"][..]] {
        let test = TestDir::new();
        let dir = test.sandbox();
        mkfifo(&dir, "p");
        let out = run(&["--timeout=1000", &format!("--dir={}", dir.display())], args, Stdio::piped());
        if args[0] == "fifo_read" {
            // Reading: the open itself returns at once, the read waits for a writer.
            assert!(out.stdout.contains("opened errno=0"), "path_open of a FIFO for reading waited\n{out}");
        }
        assert_stopped_by_timeout(&out);
    }
}

#[test]
fn a_nonblocking_write_open_of_a_fifo_without_reader_is_enxio() {
    let test = TestDir::new();
    let dir = test.sandbox();
    mkfifo(&dir, "p");
    let out = run(&[&format!("--dir={}", dir.display())], &["fifo_write", "nonblock"], Stdio::piped());
    out.assert_success();
    assert_eq!(number(&out, "opened", "errno"), 60, "ENXIO, as POSIX says\n{out}");
}

#[test]
fn fifos_with_peers_carry_data_both_ways() {
    let test = TestDir::new();
    let dir = test.sandbox();
    mkfifo(&dir, "to_guest");
    mkfifo(&dir, "from_guest");
    // The timeout only bounds the test: our reads end when the guest does.
    let mut guest = c("block_calls").cmd().opt("--timeout=20000").dir(&dir).arg("fifo_echo").spawn();
    // A blocking open of a FIFO for reading would wait for a writer; ours returns at once.
    guest.wait_for_line("opened to_guest", Duration::from_secs(5));
    let mut writer = open_fifo(&dir.join("to_guest"), true);
    let reader = open_fifo(&dir.join("from_guest"), false);
    guest.wait_for_line("opened from_guest", Duration::from_secs(5));
    let message: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let sender = {
        let message = message.clone();
        thread::spawn(move || std::io::Write::write_all(&mut writer, &message))
    };
    let mut echoed = Vec::new();
    let mut reader = BufReader::new(reader);
    // The guest closes its end after copying everything: then the read ends.
    loop {
        let buf = reader.fill_buf().expect("read the guest's FIFO");
        if buf.is_empty() {
            break;
        }
        echoed.extend_from_slice(buf);
        let n = buf.len();
        reader.consume(n);
        assert!(echoed.len() <= message.len(), "the guest sent more than it was given");
    }
    sender.join().expect("native writer").expect("write to the guest's FIFO");
    let out = guest.finish();
    out.assert_success();
    assert!(
        echoed == message,
        "the guest echoed {} bytes, not the same {}\n{out}",
        echoed.len(),
        message.len()
    );
    assert_eq!(number(&out, "copied", "n"), message.len() as u64, "{out}");
}
