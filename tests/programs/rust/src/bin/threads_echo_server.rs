//! Thread-per-connection TCP echo server: `threads_echo_server CONNECTIONS`.
//!
//! Listens on 127.0.0.1:0 and prints `port=N`. Accepts CONNECTIONS connections on the main
//! thread and serves each on a thread of its own: the thread writes `ready\n` (so that the
//! client knows a thread runs for it), echoes everything until the client half-closes, then
//! half-closes too. Once every thread is joined the server prints one line
//! `conn bytes=N fnv=HEX` per connection (what it received), then `served=N peak=P`, P being
//! the most handler threads that ran at the same time, and exits 0, or 1 if any failed.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasock_net::{TcpListener, TcpStream};

fn main() -> ExitCode {
    let connections: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: threads_echo_server CONNECTIONS");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:0: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("port={}", addr.port()),
        Err(err) => {
            eprintln!("local_addr failed: {err}");
            return ExitCode::FAILURE;
        }
    }

    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut handlers = Vec::new();
    let mut failed = false;
    for i in 0..connections {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(err) => {
                eprintln!("accept {i} failed: {err}");
                failed = true;
                break;
            }
        };
        let (active, peak) = (active.clone(), peak.clone());
        let spawned = std::thread::Builder::new().name(format!("conn-{i}")).spawn(move || {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = serve(&stream);
            active.fetch_sub(1, Ordering::SeqCst);
            result
        });
        match spawned {
            Ok(handle) => handlers.push(handle),
            Err(err) => {
                eprintln!("cannot spawn a thread for connection {i}: {err}");
                failed = true;
                break;
            }
        }
    }

    let served = handlers.len();
    for handle in handlers {
        match handle.join() {
            Ok(Ok((bytes, fnv))) => println!("conn bytes={bytes} fnv={fnv:016x}"),
            Ok(Err(err)) => {
                println!("conn error: {err}");
                failed = true;
            }
            Err(_) => {
                println!("conn error: the thread panicked");
                failed = true;
            }
        }
    }
    println!("served={served} peak={}", peak.load(Ordering::SeqCst));
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Greets, echoes until the peer half-closes, half-closes; returns the bytes received and
/// their FNV-1a hash.
fn serve(mut stream: &TcpStream) -> io::Result<(u64, u64)> {
    stream.write_all(b"ready\n")?;
    let mut buf = vec![0u8; 16 * 1024];
    let (mut total, mut fnv) = (0u64, FNV_OFFSET);
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        fnv = fnv1a(fnv, &buf[..n]);
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
    stream.shutdown(Shutdown::Write)?;
    Ok((total, fnv))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
