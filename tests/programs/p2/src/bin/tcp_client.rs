//! tcp_client IP PORT LEN: connects to IP:PORT (`TcpStream::connect`), prints `local=ADDR`
//! and `peer=ADDR`, sends LEN bytes of the test stream in 16 KiB pieces, reading each piece's
//! echo before sending the next, half-closes, and reads to the end. Prints `received=N` and
//! `echo_ok=1` when every byte came back as sent (`echo_ok=0` and `first_difference=I`
//! otherwise). A failed connect prints `connect_error=KIND` (and the OS error) and exits 3.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, TcpStream};

use wasock_p2_programs::{arg, fail, pattern, say};

fn main() {
    let ip: IpAddr = arg(0, "IP").parse().expect("IP");
    let port: u16 = arg(1, "PORT").parse().expect("PORT");
    let len: u64 = arg(2, "LEN").parse().expect("LEN");
    let mut stream = TcpStream::connect((ip, port)).unwrap_or_else(|e| fail("connect", e));
    say("local", stream.local_addr().unwrap_or_else(|e| fail("local_addr", e)));
    say("peer", stream.peer_addr().unwrap_or_else(|e| fail("peer_addr", e)));
    let sent: Vec<u8> = (0..len).map(pattern).collect();
    let mut back = Vec::with_capacity(sent.len());
    let mut buf = vec![0u8; 16 * 1024];
    for piece in sent.chunks(16 * 1024) {
        stream.write_all(piece).unwrap_or_else(|e| fail("write", e));
        let want = back.len() + piece.len();
        // Bounded: each read returns at least one byte or ends the program.
        while back.len() < want {
            let n = stream.read(&mut buf).unwrap_or_else(|e| fail("read", e));
            if n == 0 {
                say("early_eof_after", back.len());
                std::process::exit(4);
            }
            back.extend_from_slice(&buf[..n]);
        }
    }
    stream.shutdown(Shutdown::Write).unwrap_or_else(|e| fail("shutdown", e));
    // The server closes after the echo: anything more is an error.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap_or_else(|e| fail("read_to_end", e));
    back.extend_from_slice(&rest);
    say("received", back.len());
    match sent.iter().zip(&back).position(|(a, b)| a != b) {
        None if back.len() == sent.len() => say("echo_ok", 1),
        None => {
            say("echo_ok", 0);
            say("first_difference", sent.len().min(back.len()));
        }
        Some(i) => {
            say("echo_ok", 0);
            say("first_difference", i);
        }
    }
}
