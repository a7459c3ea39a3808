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

/// Linux's TCP states (`include/net/tcp_states.h`) that a lingering close waits in.
pub const TCP_FIN_WAIT1: u8 = 4;
/// See [`TCP_FIN_WAIT1`].
pub const TCP_LAST_ACK: u8 = 9;
/// See [`TCP_FIN_WAIT1`].
pub const TCP_CLOSING: u8 = 11;

/// The state of a TCP socket: the first byte of `TCP_INFO`
/// ([tcp(7)](https://man7.org/linux/man-pages/man7/tcp.7.html)), which the kernel copies into
/// however short a buffer it is given. Unsupported on hosts other than Linux.
pub fn tcp_state(fd: BorrowedFd<'_>) -> io::Result<u8> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Ok(getsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_INFO)?.to_ne_bytes()[0])
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = fd;
        Err(io::ErrorKind::Unsupported.into())
    }
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

/// [`recvmsg(2)`](https://man7.org/linux/man-pages/man2/recvmsg.2.html) straight into
/// initialised buffers (guest memory), with `flags` (MSG_PEEK, ...). Returns the byte count
/// and the message flags (`is_truncated()` for a datagram longer than the buffers).
pub fn recv_vectored(
    socket: &socket2::Socket,
    bufs: &mut [io::IoSliceMut<'_>],
    flags: libc::c_int,
) -> io::Result<(usize, socket2::RecvFlags)> {
    socket.recv_vectored_with_flags(as_uninit_slices(bufs), flags)
}

/// Like [`recv_vectored`], also returning the sender's address (an unnamed address, of
/// family AF_UNSPEC, when the kernel reports none, as on a TCP socket).
pub fn recv_from_vectored(
    socket: &socket2::Socket,
    bufs: &mut [io::IoSliceMut<'_>],
    flags: libc::c_int,
) -> io::Result<(usize, socket2::RecvFlags, socket2::SockAddr)> {
    socket.recv_from_vectored_with_flags(as_uninit_slices(bufs), flags)
}

/// Views initialised buffers as socket2's possibly-uninitialised ones. Private: handing the
/// result to safe code could let it write uninitialised bytes into them, while `recvmsg`
/// only ever writes received (initialised) bytes.
fn as_uninit_slices<'a, 'b>(bufs: &'a mut [io::IoSliceMut<'b>]) -> &'a mut [socket2::MaybeUninitSlice<'b>] {
    // SAFETY: on Unix both `IoSliceMut` and `socket2::MaybeUninitSlice` are
    // `#[repr(transparent)]` wrappers of `libc::iovec` (std documents IoSliceMut as ABI
    // compatible with iovec; socket2 performs this very cast in its `Read` impl), so the
    // slices have the same layout and lifetime. The kernel writes only initialised bytes, and
    // the callers above pass the view to recvmsg only.
    unsafe { &mut *(bufs as *mut [io::IoSliceMut<'b>] as *mut [socket2::MaybeUninitSlice<'b>]) }
}

/// [`setsockopt(2)`](https://man7.org/linux/man-pages/man2/setsockopt.2.html) with an int
/// value, for options socket2 has no setter for (or whose setter does more, e.g.
/// `set_tcp_keepalive` also turns SO_KEEPALIVE on).
pub fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value points at a live int and its length is that of an int.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// [`getsockopt(2)`](https://man7.org/linux/man-pages/man2/getsockopt.2.html) of an int option.
pub fn getsockopt_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are live locals; the kernel writes at most `len` bytes to value.
    let r = unsafe {
        libc::getsockopt(fd.as_raw_fd(), level, name, (&mut value as *mut libc::c_int).cast(), &mut len)
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(value) }
}

/// SO_LINGER with the raw `{l_onoff, l_linger}` pair. socket2's `set_linger` takes an
/// `Option<Duration>`, which cannot carry a negative or an "off but 5 s" value.
pub fn set_linger(fd: BorrowedFd<'_>, on: bool, seconds: i32) -> io::Result<()> {
    let value = libc::linger { l_onoff: on as libc::c_int, l_linger: seconds };
    // SAFETY: the option value points at a live `linger` and its length is that of a linger.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&value as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// SO_LINGER as the raw `(l_onoff != 0, l_linger)` pair.
pub fn linger(fd: BorrowedFd<'_>) -> io::Result<(bool, i32)> {
    let mut value = libc::linger { l_onoff: 0, l_linger: 0 };
    let mut len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: value and len are live locals; the kernel writes at most `len` bytes to value.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&mut value as *mut libc::linger).cast(),
            &mut len,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok((value.l_onoff != 0, value.l_linger)) }
}

/// One result of [`getaddrinfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrInfo {
    /// The address and port.
    pub addr: std::net::SocketAddr,
    /// `ai_socktype` (SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, ...).
    pub socktype: libc::c_int,
    /// `ai_protocol` (IPPROTO_TCP, IPPROTO_UDP, 0, ...).
    pub protocol: libc::c_int,
}

/// Why [`getaddrinfo`] failed.
#[derive(Debug)]
pub enum AddrInfoError {
    /// An `EAI_*` code other than EAI_SYSTEM.
    Gai(libc::c_int),
    /// EAI_SYSTEM, with the errno it left.
    System(io::Error),
}

/// [`getaddrinfo(3)`](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html) with
/// `ai_family`/`ai_socktype` hints (0 for any) and no flags. Results that are neither IPv4
/// nor IPv6 are skipped; at most `max` results are returned. Blocks for as long as the
/// resolver takes.
pub fn getaddrinfo(
    host: &std::ffi::CStr,
    service: Option<&std::ffi::CStr>,
    family: libc::c_int,
    socktype: libc::c_int,
    max: usize,
) -> Result<Vec<AddrInfo>, AddrInfoError> {
    // SAFETY: an all-zero addrinfo is a valid "no hints" value (null pointers, zero ints).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: host and service are NUL-terminated strings that outlive the call (or null for
    // no service), hints is a live local, and list receives a pointer we free below.
    let r = unsafe {
        libc::getaddrinfo(host.as_ptr(), service.map_or(std::ptr::null(), |s| s.as_ptr()), &hints, &mut list)
    };
    if r != 0 {
        return Err(if r == libc::EAI_SYSTEM {
            AddrInfoError::System(io::Error::last_os_error())
        } else {
            AddrInfoError::Gai(r)
        });
    }
    let mut out = Vec::new();
    let mut node = list;
    while !node.is_null() && out.len() < max {
        // SAFETY: `node` is a non-null element of the list getaddrinfo returned, which stays
        // valid until freeaddrinfo below.
        let ai = unsafe { &*node };
        if let Some(addr) = sockaddr_to_std(ai.ai_addr, ai.ai_addrlen) {
            out.push(AddrInfo { addr, socktype: ai.ai_socktype, protocol: ai.ai_protocol });
        }
        node = ai.ai_next;
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed exactly once; no
    // reference into it outlives this point (results were copied out).
    unsafe { libc::freeaddrinfo(list) };
    Ok(out)
}

/// Copies an IPv4 or IPv6 `sockaddr` of `len` bytes out of C memory; `None` for other
/// families or a short length.
fn sockaddr_to_std(sa: *const libc::sockaddr, len: libc::socklen_t) -> Option<std::net::SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    if sa.is_null() || (len as usize) < std::mem::size_of::<libc::sa_family_t>() {
        return None;
    }
    // SAFETY: sa points at `len` readable bytes (from getaddrinfo), which cover the family
    // field; the struct reads below are guarded by the length check of their own size and
    // are unaligned-safe.
    unsafe {
        match (*sa).sa_family as libc::c_int {
            libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
                let sin = std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in>());
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
            }
            libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
                let sin6 = std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in6>());
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(
                    SocketAddrV6::new(
                        ip,
                        u16::from_be(sin6.sin6_port),
                        sin6.sin6_flowinfo,
                        sin6.sin6_scope_id,
                    )
                    .into(),
                )
            }
            _ => None,
        }
    }
}

/// Limits the files this process writes to `bytes` (the soft RLIMIT_FSIZE), for the fuzz
/// harness. SIGXFSZ is ignored, so that a write past the limit fails with EFBIG (or is
/// short) instead of killing the process.
#[cfg(feature = "fuzzing")]
pub fn limit_file_size(bytes: u64) -> io::Result<()> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    // SAFETY: SIG_IGN installs no handler code; it only changes what SIGXFSZ does.
    if unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    let maximum = getrlimit(Resource::Fsize).maximum;
    let current = Some(maximum.map_or(bytes, |max| max.min(bytes)));
    Ok(setrlimit(Resource::Fsize, Rlimit { current, maximum })?)
}

/// An anonymous private mapping whose pages cost memory only once touched: a linear memory of
/// up to 4 GiB for tests and the fuzz harness that makes only a few KiB resident. Its bytes
/// start as zeros; [`reset`](LazyRegion::reset) makes them zeros again and frees them.
pub struct LazyRegion {
    base: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the region is plain memory owned by this value; access goes through `&self` /
// `&mut self` like a `Box<[u8]>`.
unsafe impl Send for LazyRegion {}

impl LazyRegion {
    /// Maps `len` bytes ([`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html),
    /// read-write, private, anonymous, without reserving swap).
    pub fn new(len: usize) -> io::Result<LazyRegion> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let noreserve = libc::MAP_NORESERVE;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let noreserve = 0;
        // SAFETY: a fresh anonymous mapping at an address of the kernel's choice touches no
        // existing memory; the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | noreserve,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base =
            std::ptr::NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(LazyRegion { base, len })
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no bytes (never: mmap refuses a length of 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Zeroes every byte and returns the touched pages to the kernel
    /// ([`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html) MADV_DONTNEED,
    /// which refills a private anonymous mapping with zero pages on Linux).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn reset(&mut self) -> io::Result<()> {
        // SAFETY: the range is exactly this mapping, and `&mut self` means no slice of it is
        // alive, so nothing observes the bytes turning to zero.
        let r = unsafe { libc::madvise(self.base.as_ptr().cast(), self.len, libc::MADV_DONTNEED) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Zeroes every byte and returns the touched pages to the kernel, by mapping fresh zero
    /// pages over the region (elsewhere MADV_DONTNEED need not zero).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn reset(&mut self) -> io::Result<()> {
        // SAFETY: MAP_FIXED replaces exactly this mapping, which we own, and `&mut self`
        // means no slice of it is alive.
        let ptr = unsafe {
            libc::mmap(
                self.base.as_ptr().cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// All of its bytes.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` readable and writable bytes (zero-initialised by the
        // kernel) that live as long as `self`; the slice borrows `self` mutably.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len) }
    }

    /// All of its bytes as cells, to wrap as a shared memory
    /// ([`GuestMemory::from_shared`](crate::memory::GuestMemory::from_shared)).
    pub fn cells(&mut self) -> &[std::cell::UnsafeCell<u8>] {
        // SAFETY: as in `bytes_mut`; `UnsafeCell<u8>` has the layout of `u8`, and the borrow
        // of `self` is mutable, so no `&[u8]` of the region exists meanwhile.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().cast(), self.len) }
    }

    /// A guest memory over its first `len` bytes, plain or shared.
    ///
    /// # Panics
    ///
    /// If `len` is larger than the region.
    pub fn memory(&mut self, len: usize, shared: bool) -> crate::memory::GuestMemory<'_> {
        match shared {
            false => crate::memory::GuestMemory::new(&mut self.bytes_mut()[..len]),
            true => crate::memory::GuestMemory::from_shared(&self.cells()[..len]),
        }
    }
}

impl Drop for LazyRegion {
    fn drop(&mut self) {
        // SAFETY: the mapping came from mmap with this length and is unmapped once; no slice of
        // it outlives `self`. A failure could only leak address space.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_region_is_4_gib_of_zeros_that_reset_zeroes_again() {
        let mut region = LazyRegion::new(1 << 32).unwrap();
        assert_eq!(region.len(), 1 << 32);
        let bytes = region.bytes_mut();
        assert_eq!((bytes[0], bytes[(1 << 32) - 1]), (0, 0));
        bytes[0] = 1;
        bytes[(1 << 32) - 1] = 2;
        let mut mem = region.memory(1 << 32, true);
        assert_eq!(mem.read::<u8>(u32::MAX).unwrap(), 2);
        mem.write(1u32, 3u8).unwrap();
        assert_eq!(region.bytes_mut()[..2], [1, 3]);
        region.reset().unwrap();
        assert_eq!(
            (region.bytes_mut()[0], region.bytes_mut()[1], region.bytes_mut()[(1 << 32) - 1]),
            (0, 0, 0)
        );
        let mem = region.memory(100, false);
        assert_eq!(mem.len(), 100);
    }
}
