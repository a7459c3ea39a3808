#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// One entry of a [`poll`] set.
pub type PollFd = libc::pollfd;

/// Readable, writable, error, hang-up, invalid: the `poll(2)` event bits.
pub use libc::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDHUP};

/// A `pollfd` asking for `events` on `fd`.
pub fn pollfd(fd: BorrowedFd<'_>, events: i16) -> PollFd {
    libc::pollfd { fd: fd.as_raw_fd(), events, revents: 0 }
}

/// [`poll(2)`](https://man7.org/linux/man-pages/man2/poll.2.html): waits up to `timeout`
/// (forever if `None`) and returns how many entries have events. EINTR is returned as is.
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<usize> {
    let ms = match timeout {
        None => -1,
        // Round up so that a 0.5 ms wait does not become a busy loop.
        Some(t) => t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32,
    };
    // SAFETY: `fds` is a valid, exclusively borrowed array of `pollfd` of the given length;
    // poll only writes the `revents` fields.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

/// A non-blocking eventfd: readable once [`signal`] has been called.
pub fn eventfd() -> io::Result<OwnedFd> {
    rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK)
        .map_err(io::Error::from)
}

/// Makes an eventfd readable (and keeps it so: nothing reads it back).
pub fn signal(efd: BorrowedFd<'_>) {
    // A full counter (EAGAIN) still leaves it readable, which is all that matters.
    let _ = rustix::io::write(efd, &1u64.to_ne_bytes());
}

/// Bytes waiting to be read on a socket or pipe (`FIONREAD`).
pub fn bytes_readable(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points at a live local.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(n.max(0) as u64) }
}

/// `clock_getres(2)` / `clock_gettime(2)` for one of the host clock ids, in nanoseconds.
pub fn clock(id: libc::clockid_t, resolution: bool) -> io::Result<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a live local that the call fills in.
    let r = unsafe {
        if resolution { libc::clock_getres(id, &mut ts) } else { libc::clock_gettime(id, &mut ts) }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64))
}
