//! Reading and writing pipes, FIFOs, terminals and other streams without ever blocking in
//! the kernel, so that `--timeout` and `proc_exit` can stop a guest blocked on one.
//!
//! A blocking guest waits in [`Interrupt::wait`](crate::interrupt::Interrupt::wait); the
//! system call itself must return at once. How that is ensured depends on who else uses the
//! host's open file description (see [`IoMode`]): wasock's own descriptions are switched to
//! O_NONBLOCK, while those shared with the parent process (stdio) keep their flags, since
//! changing them would change them for the parent's shell as well.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use rustix::fs::{FileType, OFlags};

use crate::abi::Filetype;
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::Unsent;
use crate::sys;
use crate::table::File;

/// How reads and writes on a host file avoid blocking the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoMode {
    /// Regular files, directories and block devices: they never wait for a peer, so reads
    /// and writes go straight to the kernel.
    Direct,
    /// The host fd is O_NONBLOCK by wasock's choice, on an open file description that no
    /// other process shares (a FIFO or device opened by path_open, a stdio pipe or terminal
    /// reopened through /proc/self/fd): EAGAIN means "wait, then try again".
    Nonblocking,
    /// A socket inherited as stdio: send and recv with MSG_DONTWAIT leave the shared flags
    /// alone.
    SharedSocket,
    /// A pipe, terminal or device shared with another process that could not be reopened:
    /// its flags stay as they are, so wasock polls first and then writes at most PIPE_BUF
    /// bytes, which a pipe that polls writable takes at once. (A terminal or another writer
    /// of the same pipe can still make such a write wait; reopening avoids that.)
    SharedBlocking,
}

/// Every send passes MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd"))]
const NO_SIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd")))]
const NO_SIGNAL: libc::c_int = 0;

impl File {
    /// Wraps a file given to the guest as stdin, stdout or stderr. Its open file description
    /// is shared with whoever started wasock, so its flags are never changed: a pipe, FIFO or
    /// terminal is reopened through /proc/self/fd as a private non-blocking description when
    /// the host allows it, else it is read and written as [`IoMode::SharedBlocking`]. The
    /// guest starts with the NONBLOCK flag the host description has.
    pub fn stdio(file: std::fs::File) -> File {
        let flags = rustix::fs::fcntl_getfl(&file).unwrap_or(OFlags::empty());
        let nonblocking = flags.contains(OFlags::NONBLOCK);
        let Ok(stat) = rustix::fs::fstat(&file) else {
            return File::with_mode(file, Filetype::Unknown, IoMode::SharedBlocking, nonblocking);
        };
        let (filetype, mode) = match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => (Filetype::RegularFile, IoMode::Direct),
            FileType::Directory => (Filetype::Directory, IoMode::Direct),
            FileType::BlockDevice => (Filetype::BlockDevice, IoMode::Direct),
            FileType::Socket => (Filetype::SocketStream, IoMode::SharedSocket),
            FileType::CharacterDevice => (Filetype::CharacterDevice, IoMode::Nonblocking),
            FileType::Fifo => (Filetype::Unknown, IoMode::Nonblocking),
            _ => (Filetype::Unknown, IoMode::SharedBlocking),
        };
        if mode == IoMode::Nonblocking {
            return match reopen_nonblocking(&file, flags, &stat) {
                Ok(own) => File::with_mode(own, filetype, IoMode::Nonblocking, nonblocking),
                Err(_) => File::with_mode(file, filetype, IoMode::SharedBlocking, nonblocking),
            };
        }
        File::with_mode(file, filetype, mode, nonblocking)
    }
}

/// Opens the pipe, FIFO or device behind `file` again, as a new open file description that is
/// O_NONBLOCK, with the same access mode. Opening /proc/self/fd/N of a pipe reaches the same
/// pipe (a new reader or writer of it), so the original can be closed afterwards.
fn reopen_nonblocking(
    file: &std::fs::File,
    flags: OFlags,
    stat: &rustix::fs::Stat,
) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let access = flags & OFlags::RWMODE;
    let reopened = std::fs::OpenOptions::new()
        .read(access != OFlags::WRONLY)
        .write(access != OFlags::RDONLY)
        // NOCTTY: opening a terminal must not make it wasock's controlling terminal.
        .custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32)
        .open(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    // Guard against a /proc that is not procfs: it must be the very same object.
    let again = rustix::fs::fstat(&reopened)?;
    if (again.st_dev, again.st_ino, again.st_rdev) != (stat.st_dev, stat.st_ino, stat.st_rdev) {
        return Err(io::ErrorKind::NotFound.into());
    }
    // A FIFO reader opened non-blocking while no writer is left never reports a hang-up until
    // a new writer comes (Linux), so a guest polling it would never see the end of its input.
    // The original knows the writers have gone; keep it then.
    let hung_up = |f: BorrowedFd<'_>| poll_now(f, sys::POLLIN).is_ok_and(|r| r & sys::POLLHUP != 0);
    if access != OFlags::WRONLY && hung_up(file.as_fd()) && !hung_up(reopened.as_fd()) {
        return Err(io::ErrorKind::BrokenPipe.into());
    }
    Ok(reopened)
}

/// Retries an operation that a signal interrupted.
fn retry_eintr<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Waits interruptibly until `fd` is ready for `events` (or has an error or hang-up).
fn wait(cx: &Ctx, fd: BorrowedFd<'_>, events: i16) -> Result<()> {
    loop {
        let mut set = [sys::pollfd(fd, events)];
        if cx.interrupt.wait(&mut set, None)? > 0 {
            return Ok(());
        }
    }
}

/// The events `fd` has right now, without waiting.
fn poll_now(fd: BorrowedFd<'_>, events: i16) -> io::Result<i16> {
    let mut set = [sys::pollfd(fd, events)];
    retry_eintr(|| sys::poll(&mut set, Some(Duration::ZERO)))?;
    Ok(set[0].revents)
}

/// For a file whose system calls would block when not ready: true once it is ready for
/// `events`, waiting if the guest blocks; false if a non-blocking guest would have to wait.
fn ready(cx: &Ctx, f: &File, events: i16) -> Result<bool> {
    if f.is_nonblocking() {
        return Ok(poll_now(f.file.as_fd(), events)? != 0);
    }
    wait(cx, f.file.as_fd(), events)?;
    Ok(true)
}

/// Reads into `bufs` as read(2) would for the guest (its NONBLOCK flag gives EAGAIN), waiting
/// for input interruptibly instead of in the kernel.
pub(crate) fn read(cx: &Ctx, f: &File, bufs: &mut [IoSliceMut<'_>]) -> Result<usize> {
    if f.mode == IoMode::Direct || bufs.iter().all(|b| b.is_empty()) {
        return Ok(retry_eintr(|| (&f.file).read_vectored(bufs))?);
    }
    let fd = f.file.as_fd();
    loop {
        cx.interrupt.check()?;
        if f.mode == IoMode::SharedBlocking && !ready(cx, f, sys::POLLIN)? {
            return Err(Errno::Again.into());
        }
        let result = match f.mode {
            IoMode::SharedSocket => {
                sys::recv_vectored(&socket2::SockRef::from(&f.file), bufs, libc::MSG_DONTWAIT).map(|(n, _)| n)
            }
            _ => (&f.file).read_vectored(bufs),
        };
        match result {
            Ok(0) if f.awaits_writer && !f.is_nonblocking() => {
                // A FIFO without writers reads 0. That is the end only if a writer has come
                // and gone, which poll reports as a hang-up; before that, a blocking open
                // would still be waiting for the first writer, and so do we.
                let revents = poll_now(fd, sys::POLLIN)?;
                if revents & sys::POLLIN != 0 {
                    continue;
                }
                if revents == 0 {
                    wait(cx, fd, sys::POLLIN)?;
                    continue;
                }
                return Ok(0);
            }
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if f.is_nonblocking() {
                    return Err(Errno::Again.into());
                }
                wait(cx, fd, sys::POLLIN)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The first `max` bytes of `bufs`.
fn prefix<'b>(bufs: &'b [IoSlice<'_>], max: usize) -> Vec<IoSlice<'b>> {
    let mut left = max;
    let mut out = Vec::new();
    for b in bufs {
        if left == 0 {
            break;
        }
        let take = b.len().min(left);
        out.push(IoSlice::new(&b[..take]));
        left -= take;
    }
    out
}

/// Writes `data` as write(2) would for the guest: a blocking guest's write writes everything
/// (as a blocking pipe write does) unless an error comes first, then the count so far is the
/// result if it is not 0; a non-blocking guest gets one attempt (a short count or EAGAIN).
/// Waiting for room is interruptible.
pub(crate) fn write(cx: &Ctx, f: &File, data: &[IoSlice<'_>]) -> Result<usize> {
    let want: usize = data.iter().map(|b| b.len()).sum();
    if f.mode == IoMode::Direct || want == 0 {
        return Ok(retry_eintr(|| (&f.file).write_vectored(data))?);
    }
    let fd = f.file.as_fd();
    let mut unsent = Unsent::new(data);
    let mut bufs = unsent.slices();
    let mut written = 0usize;
    loop {
        cx.interrupt.check()?;
        let result = match f.mode {
            IoMode::SharedBlocking => {
                if !ready(cx, f, sys::POLLOUT)? {
                    return if written > 0 { Ok(written) } else { Err(Errno::Again.into()) };
                }
                // Linux reports a pipe writable when one of its buffers is free, and a free
                // buffer holds PIPE_BUF bytes: a write of at most that never waits.
                (&f.file).write_vectored(&prefix(bufs, libc::PIPE_BUF))
            }
            IoMode::SharedSocket => {
                socket2::SockRef::from(&f.file).send_vectored_with_flags(bufs, libc::MSG_DONTWAIT | NO_SIGNAL)
            }
            _ => (&f.file).write_vectored(bufs),
        };
        match result {
            Ok(n) => {
                written += n;
                if written >= want || n == 0 || f.is_nonblocking() {
                    return Ok(written);
                }
                IoSlice::advance_slices(&mut bufs, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if f.is_nonblocking() {
                    return if written > 0 { Ok(written) } else { Err(Errno::Again.into()) };
                }
                wait(cx, fd, sys::POLLOUT)?;
            }
            Err(e) => return if written > 0 { Ok(written) } else { Err(e.into()) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::CtxBuilder;
    use crate::memory::GuestMemory;
    use crate::p1::fs_util::testing::{memory, read};

    #[test]
    fn stdio_pipes_are_reopened_privately_and_a_fifo_whose_writer_left_still_hangs_up() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let cx = CtxBuilder::new().stdio(0, r.into()).stdio(1, w.into()).build().unwrap();
        for fd in [0, 1] {
            let d = cx.get(fd, 0).unwrap();
            let f = d.as_file().unwrap();
            assert_eq!(f.mode, IoMode::Nonblocking, "fd {fd}");
            assert!(rustix::fs::fcntl_getfl(&f.file).unwrap().contains(OFlags::NONBLOCK));
            assert!(!f.is_nonblocking(), "the guest still sees a blocking fd {fd}");
        }

        // A shell's `< fifo`: its open waited for the writer, which wrote and left before
        // wasock started.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p");
        let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, FileType::Fifo, mode, 0).unwrap();
        let reader = std::thread::spawn({
            let fifo = fifo.clone();
            move || std::fs::File::open(fifo).unwrap()
        });
        std::fs::write(&fifo, b"hi").unwrap();
        let stdin = reader.join().unwrap();
        let cx = CtxBuilder::new().stdio(0, stdin).build().unwrap();
        let d = cx.get(0, 0).unwrap();
        let revents = poll_now(d.as_file().unwrap().file.as_fd(), sys::POLLIN).unwrap();
        assert!(revents & sys::POLLHUP != 0, "a guest polling stdin must see the writer has gone");
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        assert_eq!(read(&cx, mem, 0, 10).unwrap(), b"hi");
        assert_eq!(read(&cx, mem, 0, 10).unwrap(), b"");
    }
}
