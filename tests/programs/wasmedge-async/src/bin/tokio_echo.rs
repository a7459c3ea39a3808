//! An async TCP echo server on tokio_wasi (mio_wasi underneath), in the style of tokio_wasi's
//! README: an accept loop that spawns one task per connection, each echoing what it reads.
//!
//! Usage: tokio_echo ADDR CONNECTIONS
//!
//! Binds ADDR (e.g. 127.0.0.1:0), prints `listening on ADDR` with the address it got, serves
//! CONNECTIONS connections concurrently, then prints one line per connection (in accept order)
//! and a total, and exits 0. A failed bind prints `bind ADDR failed: errno N (KIND)` and exits 1.

use std::net::SocketAddr;
use std::process::exit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Echoes until the peer closes its side; returns the number of bytes echoed.
async fn echo(mut stream: TcpStream) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => format!("errno {errno} ({:?})", e.kind()),
        None => format!("{e} ({:?})", e.kind()),
    }
}

// WasmEdge's own examples use the current-thread runtime: wasm32-wasip1 has no threads.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: tokio_echo ADDR CONNECTIONS");
        exit(2);
    }
    let addr: SocketAddr = args[1].parse().unwrap_or_else(|e| {
        eprintln!("bad address {:?}: {e}", args[1]);
        exit(2)
    });
    let connections: usize = args[2].parse().unwrap_or_else(|e| {
        eprintln!("bad connection count {:?}: {e}", args[2]);
        exit(2)
    });

    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            println!("bind {addr} failed: {}", describe(&e));
            exit(1);
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}"),
        Err(e) => {
            println!("local_addr failed: {}", describe(&e));
            exit(1);
        }
    }

    let mut tasks = Vec::with_capacity(connections);
    for index in 1..=connections {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                println!("accept {index} failed: {}", describe(&e));
                exit(1);
            }
        };
        println!("connection {index} from {peer}");
        tasks.push(tokio::spawn(echo(stream)));
    }

    let mut total = 0u64;
    let mut failed = false;
    for (index, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(Ok(bytes)) => {
                println!("connection {}: echoed {bytes} bytes", index + 1);
                total += bytes;
            }
            Ok(Err(e)) => {
                println!("connection {}: failed: {}", index + 1, describe(&e));
                failed = true;
            }
            Err(e) => {
                println!("connection {}: task failed: {e}", index + 1);
                failed = true;
            }
        }
    }
    println!("served {connections} connections, {total} bytes");
    exit(if failed { 1 } else { 0 });
}
