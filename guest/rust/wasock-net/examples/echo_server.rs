//! TCP echo server: `echo_server ADDR:PORT [MAX_CONNECTIONS]`.
//!
//! Serves one connection at a time, echoing everything until the client closes its side, and
//! exits after MAX_CONNECTIONS connections (default: serve forever). Port 0 picks a free
//! port; the first line printed, `listening on ADDR:PORT`, tells which.
//!
//! ```sh
//! wasock --addr-pool=127.0.0.1/32 echo_server.wasm 127.0.0.1:0 1
//! ```

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::process::ExitCode;

use wasock_net::{TcpListener, TcpStream};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (addr, max_connections) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("echo_server: {message}\nusage: echo_server ADDR:PORT [MAX_CONNECTIONS]");
            return ExitCode::from(2);
        }
    };
    match serve(addr, max_connections) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("echo_server: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[String]) -> Result<(&str, Option<u64>), String> {
    match args {
        [_, addr] => Ok((addr, None)),
        [_, addr, max] => match max.parse::<u64>() {
            Ok(max) => Ok((addr, Some(max))),
            Err(_) => Err(format!("MAX_CONNECTIONS must be a number, got {max:?}")),
        },
        _ => Err("expected 1 or 2 arguments".to_string()),
    }
}

fn serve(addr: &str, max_connections: Option<u64>) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .map_err(|err| io::Error::new(err.kind(), format!("cannot listen on {addr}: {err}")))?;
    println!("listening on {}", listener.local_addr()?);
    // Whoever started us waits for that line before connecting.
    io::stdout().flush()?;

    let mut served = 0;
    while max_connections.is_none_or(|max| served < max) {
        served += 1;
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // A client that gave up before we accepted it is no reason to stop serving.
            Err(err) if is_peer_gone(&err) => {
                println!("connection {served}: the client left before it was accepted: {err}");
                continue;
            }
            Err(err) => return Err(io::Error::new(err.kind(), format!("accept failed: {err}"))),
        };
        println!("connection {served} from {peer}");
        match echo(&stream) {
            Ok(bytes) => println!("connection {served}: echoed {bytes} bytes"),
            Err(err) => println!("connection {served}: failed after an error: {err}"),
        }
        io::stdout().flush()?;
    }
    Ok(())
}

fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected
    )
}

/// Echoes until the peer shuts down its side; returns the byte count.
fn echo(mut stream: &TcpStream) -> io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
    stream.shutdown(Shutdown::Write)?;
    Ok(total)
}
