//! Socket state shared by the standard `sock_*` calls, the WAMR extension and `fd_*`.
//!
//! The host socket is always in non-blocking mode; blocking is done by waiting in
//! [`Interrupt::wait`](crate::interrupt::Interrupt::wait), so that a blocked call can be
//! interrupted and honours the guest's own NONBLOCK flag and SO_RCVTIMEO/SO_SNDTIMEO.

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::abi::Filetype;
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::sys;

/// A guest socket.
pub struct Socket {
    /// The host socket (always O_NONBLOCK on the host).
    pub socket: socket2::Socket,
    /// SOCK_STREAM (true) or SOCK_DGRAM.
    pub stream: bool,
    nonblocking: AtomicBool,
    recv_timeout_us: AtomicU64,
    send_timeout_us: AtomicU64,
}

/// Which way a blocking operation waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Waits for POLLIN (recv, accept) and honours SO_RCVTIMEO.
    Read,
    /// Waits for POLLOUT (send, connect) and honours SO_SNDTIMEO.
    Write,
}

impl Socket {
    /// Wraps a host socket, switching it to non-blocking mode on the host.
    pub fn new(socket: socket2::Socket, stream: bool) -> io::Result<Socket> {
        socket.set_nonblocking(true)?;
        socket.set_cloexec(true)?;
        Ok(Socket::from_nonblocking(socket, stream))
    }

    /// Wraps a host socket that is already non-blocking and close-on-exec (accept4 made it
    /// so), sparing the three fcntl calls of [`Socket::new`].
    pub fn from_nonblocking(socket: socket2::Socket, stream: bool) -> Socket {
        Socket {
            socket,
            stream,
            nonblocking: AtomicBool::new(false),
            recv_timeout_us: AtomicU64::new(0),
            send_timeout_us: AtomicU64::new(0),
        }
    }

    /// SOCKET_STREAM or SOCKET_DGRAM.
    pub fn filetype(&self) -> Filetype {
        if self.stream { Filetype::SocketStream } else { Filetype::SocketDgram }
    }

    /// Whether the guest asked for non-blocking mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Sets the guest's non-blocking mode (the host socket stays non-blocking).
    pub fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }

    /// The guest's SO_RCVTIMEO (Read) or SO_SNDTIMEO (Write) in microseconds; 0 is none.
    pub fn timeout_us(&self, dir: Direction) -> u64 {
        match dir {
            Direction::Read => self.recv_timeout_us.load(Ordering::Relaxed),
            Direction::Write => self.send_timeout_us.load(Ordering::Relaxed),
        }
    }

    /// Sets SO_RCVTIMEO (Read) or SO_SNDTIMEO (Write) in microseconds; 0 is none.
    pub fn set_timeout_us(&self, dir: Direction, us: u64) {
        match dir {
            Direction::Read => self.recv_timeout_us.store(us, Ordering::Relaxed),
            Direction::Write => self.send_timeout_us.store(us, Ordering::Relaxed),
        }
    }

    /// Runs `op` until it stops saying EAGAIN, waiting for readiness in between, unless the
    /// guest chose non-blocking mode. A guest timeout that expires gives EAGAIN, as on Linux.
    pub fn blocking<T>(&self, cx: &Ctx, dir: Direction, mut op: impl FnMut() -> io::Result<T>) -> Result<T> {
        let deadline = match self.timeout_us(dir) {
            0 => None,
            // Too far away to represent is never.
            us => Instant::now().checked_add(Duration::from_micros(us)),
        };
        loop {
            cx.interrupt.check()?;
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && !self.is_nonblocking() => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return Ok(r?),
            }
            let events = match dir {
                Direction::Read => sys::POLLIN,
                Direction::Write => sys::POLLOUT,
            };
            let mut set = [sys::pollfd(self.socket.as_fd(), events)];
            if cx.interrupt.wait(&mut set, deadline)? == 0 {
                return Err(Errno::Again.into());
            }
        }
    }
}
