//! UDP echo server: `udp_echo ADDR:PORT [MAX_DATAGRAMS]`.
//!
//! Sends every datagram back to its sender and exits after MAX_DATAGRAMS datagrams (default:
//! forever). Port 0 picks a free port; the first line printed, `listening on ADDR:PORT`,
//! tells which. Replies go to the sender's address, so it must be in the address pool.
//!
//! ```sh
//! wasock --addr-pool=127.0.0.1/32 udp_echo.wasm 127.0.0.1:0 3
//! ```

use std::io::{self, Write};
use std::process::ExitCode;

use wasock_net::UdpSocket;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (addr, max) = match args.as_slice() {
        [_, addr] => (addr.as_str(), None),
        [_, addr, max] => match max.parse::<u64>() {
            Ok(max) => (addr.as_str(), Some(max)),
            Err(_) => return usage(&format!("MAX_DATAGRAMS must be a number, got {max:?}")),
        },
        _ => return usage("expected 1 or 2 arguments"),
    };
    match serve(addr, max) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("udp_echo: {err}");
            ExitCode::FAILURE
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("udp_echo: {message}\nusage: udp_echo ADDR:PORT [MAX_DATAGRAMS]");
    ExitCode::from(2)
}

fn serve(addr: &str, max: Option<u64>) -> io::Result<()> {
    let socket = UdpSocket::bind(addr)
        .map_err(|err| io::Error::new(err.kind(), format!("cannot bind {addr}: {err}")))?;
    println!("listening on {}", socket.local_addr()?);
    io::stdout().flush()?;
    let mut buf = [0u8; 65536];
    let mut echoed = 0;
    while max.is_none_or(|max| echoed < max) {
        let (n, from) = socket.recv_from(&mut buf)?;
        socket.send_to(&buf[..n], from)?;
        echoed += 1;
        println!("datagram {echoed}: {n} bytes from {from}");
        io::stdout().flush()?;
    }
    Ok(())
}
