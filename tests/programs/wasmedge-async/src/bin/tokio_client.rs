//! An async TCP client on tokio_wasi: connects to ADDR, sends MESSAGE, half-closes, and reads
//! the reply until the server closes.
//!
//! Usage: tokio_client ADDR MESSAGE
//!
//! Prints `connected to ADDR from LOCAL` and `received N bytes: TEXT`, exits 0. A failed
//! connect prints `connect ADDR failed: errno N (KIND)` and exits 1.

use std::net::SocketAddr;
use std::process::exit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wasock_wasmedge_async_guests::describe;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: tokio_client ADDR MESSAGE");
        exit(2);
    }
    let addr: SocketAddr = args[1].parse().unwrap_or_else(|e| {
        eprintln!("bad address {:?}: {e}", args[1]);
        exit(2)
    });
    let mut stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => {
            println!("connect {addr} failed: {}", describe(&e));
            exit(1);
        }
    };
    let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_else(|e| describe(&e));
    println!("connected to {addr} from {local}");
    let steps = async {
        stream.write_all(args[2].as_bytes()).await?;
        stream.shutdown().await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    match steps.await {
        Ok(reply) => {
            println!("received {} bytes: {}", reply.len(), String::from_utf8_lossy(&reply));
        }
        Err(e) => {
            println!("exchange failed: {}", describe(&e));
            exit(1);
        }
    }
}
