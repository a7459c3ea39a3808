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
use crate::policy::Proto;
use crate::sys;

/// The longest pause between two looks at a lingering socket's state.
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

    /// The protocol the policy judges the socket's calls as.
    pub fn proto(&self) -> Proto {
        if self.stream { Proto::Tcp } else { Proto::Udp }
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
    /// acknowledged everything, FIN included, or the time has passed (then the kernel keeps
    /// sending in the background). The kernel's own wait cannot be interrupted, so it is done
    /// here and the host close that follows never waits (see [`Drop`]). As in Linux, unread
    /// input makes the close a reset without waiting, and the guest's NONBLOCK flag does not
    /// matter. Call it only on a socket no other call uses: it shuts down the sending side.
    pub fn linger_before_close(&self, cx: &Ctx) -> Result<()> {
        let fd = self.socket.as_fd();
        if !self.stream {
            return Ok(());
        }
        let Ok((true, seconds)) = sys::linger(fd) else { return Ok(()) };
        if seconds == 0 || sys::bytes_readable(fd).unwrap_or(0) > 0 {
            return Ok(());
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
        // A negative time is the kernel's "forever" (it saturates).
        let deadline =
            u64::try_from(seconds).ok().and_then(|s| Instant::now().checked_add(Duration::from_secs(s)));
        // The states Linux's lingering close waits in; nothing can be polled for leaving
        // them, so look again after a growing pause.
        let mut pause = Duration::from_millis(1);
        while sys::tcp_state(fd)
            .is_ok_and(|s| matches!(s, sys::TCP_FIN_WAIT1 | sys::TCP_CLOSING | sys::TCP_LAST_ACK))
        {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            let wake = deadline.map_or(now + pause, |d| d.min(now + pause));
            cx.interrupt.wait(&mut [], Some(wake))?;
            pause = (pause * 2).min(MAX_LINGER_PAUSE);
        }
        Ok(())
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

/// Sockets for tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    /// A connected TCP pair on 127.0.0.1: the first socket (non-blocking) has SO_LINGER
    /// {on, `seconds`} and a send queue the peer never acknowledges, because the peer reads
    /// nothing and both buffers are full.
    pub(crate) fn lingering_pair(seconds: i32) -> (socket2::Socket, TcpStream) {
        let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        // Small buffers fill after a few writes; the accepted socket inherits the receive size.
        listener.set_recv_buffer_size(4096).unwrap();
        listener.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
        listener.listen(1).unwrap();
        let listener = TcpListener::from(listener);
        let ours = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        ours.set_send_buffer_size(4096).unwrap();
        ours.connect(&listener.local_addr().unwrap().into()).unwrap();
        let (peer, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let chunk = [0x5au8; 4096];
        let mut stuck = 0usize;
        // Full means EAGAIN for 100 ms in a row (the peer's kernel may still take in what is
        // in flight before). Bounded in count.
        let mut idle = 0;
        for _ in 0..10_000 {
            match ours.send(&chunk) {
                Ok(n) => {
                    stuck += n;
                    idle = 0;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    idle += 1;
                    if idle == 10 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("filling the send queue: {e}"),
            }
        }
        assert!(stuck > 0);
        crate::sys::set_linger(std::os::fd::AsFd::as_fd(&ours), true, seconds).unwrap();
        (ours, peer)
    }

    /// Reads what `peer` receives until the end of the stream (within 10 s), as the byte count.
    pub(crate) fn drain(mut peer: TcpStream) -> usize {
        peer.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let start = Instant::now();
        let mut total = 0;
        let mut buf = [0u8; 65536];
        while start.elapsed() < Duration::from_secs(10) {
            match peer.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) => panic!("the peer could not read to the end: {e} after {total} bytes"),
            }
        }
        panic!("no end of stream within 10 s");
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::ctx::CtxBuilder;
    use crate::table::{Descriptor, Kind};

    #[test]
    fn the_last_reference_to_a_lingering_socket_closes_at_once_and_still_delivers() {
        let (ours, peer) = lingering_pair(3);
        let cx = CtxBuilder::new().build().unwrap();
        cx.push(Descriptor::new(Kind::Socket(Socket::new(ours, true).unwrap()))).unwrap();
        // The instance ends without the guest closing it: nobody may wait for the peer.
        let start = Instant::now();
        drop(cx);
        assert!(start.elapsed() < Duration::from_millis(500), "took {:?}", start.elapsed());
        // Switching lingering off made the close graceful: the peer gets everything, then EOF.
        assert!(drain(peer) > 0);
    }

    #[test]
    fn an_abortive_linger_is_kept() {
        let (ours, peer) = lingering_pair(0);
        let sock = Socket::new(ours, true).unwrap();
        drop(sock);
        let mut peer = peer;
        peer.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // {on, 0} resets: the peer's read fails (after whatever arrived before) instead of EOF.
        let mut buf = [0u8; 65536];
        let reset = (0..10_000).find_map(|_| match std::io::Read::read(&mut peer, &mut buf) {
            Ok(0) => Some(false),
            Ok(_) => None,
            Err(e) => Some(e.kind() == io::ErrorKind::ConnectionReset),
        });
        assert_eq!(reset, Some(true), "SO_LINGER {{1, 0}} must still reset the connection");
    }
}
