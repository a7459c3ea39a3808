//! One fd table for all threads: `threads_shared_fd DIR` (DIR a preopened directory).
//!
//! Descriptors are opened in one thread and used in others, passed as raw fd numbers:
//! - thread A binds a listener on 127.0.0.1:0; thread B connects to it and sends a greeting;
//!   the main thread accepts on A's listener, reads the greeting and replies; thread C reads
//!   the reply on B's stream.
//! - thread D creates DIR/shared.txt and writes to it; the main thread reads it back through
//!   D's fd, then closes it; thread E then finds that fd closed (EBADF).
//! Prints what each step saw and `ok`, exit 0; any failure panics (exit non-zero).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::thread;

use wasock_net::{TcpListener, TcpStream};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: threads_shared_fd DIR");

    let (listener_fd, addr) = thread::spawn(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("thread A: bind");
        let addr = listener.local_addr().expect("thread A: local_addr");
        (listener.into_raw_fd(), addr)
    })
    .join()
    .expect("join thread A");
    println!("thread A opened listener fd {listener_fd}");

    let stream_fd = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("thread B: connect");
        stream.write_all(b"hello from B\n").expect("thread B: send");
        stream.into_raw_fd()
    })
    .join()
    .expect("join thread B");
    println!("thread B opened stream fd {stream_fd}");

    // SAFETY of the fd passing: each raw fd has exactly one owner at a time.
    let listener = unsafe { TcpListener::from_raw_fd(listener_fd) };
    let (mut accepted, _) = listener.accept().expect("main: accept on thread A's listener");
    println!("main read: {}", read_line(&mut accepted).trim_end());
    accepted.write_all(b"reply from main\n").expect("main: reply");

    let reply = thread::spawn(move || {
        let mut stream = unsafe { TcpStream::from_raw_fd(stream_fd) };
        read_line(&mut stream)
    })
    .join()
    .expect("join thread C");
    println!("thread C read: {}", reply.trim_end());

    let path = format!("{dir}/shared.txt");
    let file_fd = thread::spawn(move || {
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .expect("thread D: create the file");
        file.write_all(b"written by D").expect("thread D: write");
        file.into_raw_fd()
    })
    .join()
    .expect("join thread D");
    let mut file = unsafe { File::from_raw_fd(file_fd) };
    file.seek(SeekFrom::Start(0)).expect("main: seek");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("main: read the file");
    println!("main read file fd {file_fd}: {text}");
    drop(file);

    let after_close = thread::spawn(move || closed_fd_error(file_fd)).join().expect("join thread E");
    println!("thread E after close: {after_close}");
    println!("ok");
}

/// What using `fd` gives once another thread closed it.
fn closed_fd_error(fd: RawFd) -> String {
    // Not dropped: the fd is not ours (it is closed).
    let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    match file.metadata() {
        Ok(_) => "still open".to_string(),
        Err(err) => format!("{err}"),
    }
}

/// Reads up to a newline (bounded: at most 200 bytes).
fn read_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 200 && !line.ends_with(b"\n") {
        match stream.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => line.push(byte[0]),
            Err(err) => panic!("recv failed: {err}"),
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}
