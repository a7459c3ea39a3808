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

/// The longest pause between two looks at a lingering socket's send queue.
const MAX_LINGER_PAUSE: Duration = Duration::from_millis(50);

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

    /// Waits as close(2) of this socket would before it is closed: with SO_LINGER on and a
    /// non-zero time, a connected TCP socket sends its FIN and waits until the peer has
    /// acknowledged everything, or the time has passed (then the kernel keeps sending in the
    /// background). The kernel's own wait cannot be interrupted, so it is done here, polling
    /// SIOCOUTQ, and the host close that follows never waits (see [`Drop`]). As in Linux,
    /// unread input makes the close a reset without waiting, and the guest's NONBLOCK flag does
    /// not matter. Call it only on a socket no other call uses: it shuts down the sending side.
    pub fn linger_before_close(&self, cx: &Ctx) -> Result<()> {
        let fd = self.socket.as_fd();
        if !self.stream {
            return Ok(());
        }
        let Ok((true, seconds)) = sys::linger(fd) else { return Ok(()) };
        if seconds == 0 || self.socket.peer_addr().is_err() || sys::bytes_readable(fd).unwrap_or(0) > 0 {
            return Ok(());
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
        // A negative time is the kernel's "forever" (it saturates).
        let deadline = u64::try_from(seconds).ok().and_then(|s| Instant::now().checked_add(Duration::from_secs(s)));
        // Nothing can be polled for "acknowledged": check with a growing pause.
        let mut pause = Duration::from_millis(1);
        loop {
            if !matches!(sys::bytes_unacknowledged(fd), Ok(n) if n > 0) {
                return Ok(());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
            let wake = deadline.map_or(now + pause, |d| d.min(now + pause));
            cx.interrupt.wait(&mut [], Some(wake))?;
            pause = (pause * 2).min(MAX_LINGER_PAUSE);
        }
    }

    /// Runs `op` until it stops saying EAGAIN, waiting for readiness in between, unless the
    /// guest chose non-blocking mode. A guest timeout that expires gives EAGAIN, as on Linux.
    pub fn blocking<T>(&self, cx: &Ctx, dir: Direction, mut op: impl FnMut() -> io::Result<T>) -> Result<T> {
        let deadline = match self.timeout_us(dir) {
            0 => None,
            us => Some(Instant::now() + Duration::from_micros(us)),
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

impl Drop for Socket {
    /// close(2) of a TCP socket with SO_LINGER {on, t > 0} waits up to t seconds in the
    /// kernel, even on a non-blocking socket, and nothing can interrupt it. The guest's wait
    /// happens before, in [`Socket::linger_before_close`]; the last reference may also go away
    /// at the end of another call, a thread or the instance, where nobody waits. So lingering
    /// is switched off here: the close returns at once and the kernel still delivers what is
    /// queued. {on, 0} (close with a reset) never waits and is kept.
    fn drop(&mut self) {
        let fd = self.socket.as_fd();
        if self.stream && matches!(sys::linger(fd), Ok((true, seconds)) if seconds != 0) {
            let _ = sys::set_linger(fd, false, 0);
        }
    }
}
