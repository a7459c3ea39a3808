//! An async TCP echo server on tokio_wasi (mio_wasi underneath), in the style of tokio_wasi's
//! README: an accept loop that spawns one task per connection, each echoing what it reads.
//!
//! Usage: tokio_echo ADDR CONNECTIONS
//!
//! Binds ADDR (e.g. 127.0.0.1:0), prints `listening on ADDR` with the address it got and
//! `connection N from PEER` for each connection it accepts, serves CONNECTIONS connections
//! concurrently, and when the last has ended prints one line per connection (in accept order)
//! and a total, and exits 0 (see `Finish` for why the last connection's task exits). A failed
//! bind prints `bind ADDR failed: errno N (KIND)` and exits 1.

use std::net::SocketAddr;
use std::process::exit;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wasock_wasmedge_async_guests::{describe, Finish, Outcome};

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

    let finish = Arc::new(Finish::new(connections, |outcomes| {
        let total: u64 = outcomes.iter().map(|o| o.bytes).sum();
        format!("served {} connections, {total} bytes", outcomes.len())
    }));
    for index in 0..connections {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                println!("accept {} failed: {}", index + 1, describe(&e));
                exit(1);
            }
        };
        println!("connection {} from {peer}", index + 1);
        let finish = finish.clone();
        tokio::spawn(async move {
            let outcome = match echo(stream).await {
                Ok(bytes) => Outcome {
                    line: Some(format!("connection {}: echoed {bytes} bytes", index + 1)),
                    bytes,
                    failed: false,
                },
                Err(e) => Outcome {
                    line: Some(format!("connection {}: failed: {}", index + 1, describe(&e))),
                    bytes: 0,
                    failed: true,
                },
            };
            finish.done(index, outcome);
        });
    }
    // The last connection's task ends the process.
    std::future::pending::<()>().await;
}
