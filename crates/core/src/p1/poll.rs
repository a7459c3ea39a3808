//! poll_oneoff: waits until clocks expire or fds become readable or writable.
//!
//! Both `wasi_snapshot_preview1` and `wasi_unstable` decode their own subscription layout with
//! [`read_subscriptions`] and share [`poll_subscriptions`].
//!
//! Behaviour, per subscription:
//! - Clocks: REALTIME and MONOTONIC, relative or absolute (SUBSCRIPTION_CLOCK_ABSTIME). An
//!   absolute time becomes a deadline on the host's monotonic clock when the call starts, so
//!   a later jump of the realtime clock does not move it. The CPU-time clocks and unknown ids
//!   make the whole call EINVAL, as in wasmtime: CPU time does not pass while the caller
//!   sleeps, so it cannot be a deadline. The precision hint is ignored. Every clock that has
//!   expired when the call returns gets an event.
//! - fd_read / fd_write: the fd needs POLL_FD_READWRITE. A missing fd or right is reported as
//!   an event with EBADF or ENOTCAPABLE, not as a failed call. Regular files are always
//!   ready (a read reports the bytes left after the current position). Directories lack
//!   POLL_FD_READWRITE (ENOTCAPABLE); one granted it anyway is still not a stream: an EBADF
//!   event, as wasmtime and wasi-common refuse them. Sockets, pipes and
//!   terminals are polled on the host: POLLHUP (and POLLRDHUP, a peer's shutdown of a TCP
//!   stream) is success with the HANGUP flag, POLLERR is EIO (plain readiness for WasmEdge
//!   modules: [`PendingError`]) and POLLNVAL is EBADF, as in WAMR. POLLERR deliberately does
//!   not take the socket's SO_ERROR: guests cannot read SO_ERROR (WAMR lacks it), and
//!   wasi-libc turns any event error into POLLERR, so the pending error is worth more left
//!   in place for the guest's next send or recv.
//! - Events are written in subscription order. Once something is ready (an error event, a
//!   regular file, an expired clock) the call only takes a non-blocking look at the rest.
//!
//! The wait goes through [`Interrupt::wait`](crate::interrupt::Interrupt::wait), so an
//! instance that is stopped (`--timeout`, `proc_exit` in another thread) ends it with the
//! stop reason as the error.

use std::io::Seek;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::abi::{Event, Filetype, Subscription, SubscriptionKind, clockid, event, rights};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result, Trap};
use crate::memory::{self, GuestMemory};
use crate::p1::clock;
use crate::sys;
use crate::table::{Descriptor, FdTable, Kind};

/// The most subscriptions one call may pass (EINVAL beyond, as poll(2) past RLIMIT_NOFILE):
/// the host keeps a few dozen bytes per subscription, and a 4 GiB memory could hold 89
/// million of them.
pub const MAX_SUBSCRIPTIONS: u32 = 1 << 16;

/// `poll_oneoff`: waits for the `nsubscriptions` 48-byte subscriptions at `subs`, writes
/// the events that happened (32 bytes each) to `events` and their number to `nevents`.
pub fn poll_oneoff(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> Result<()> {
    poll_oneoff_with(cx, mem, subs, events, nsubscriptions, nevents, PendingError::AsEio)
}

/// How a socket's pending error (POLLERR) shows in its fd event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PendingError {
    /// An event with error EIO, as WAMR reports it.
    AsEio,
    /// Plain readiness, as WasmEdge reports it: the error comes back from the next recv or
    /// send. Guests built for WasmEdge (mio_wasi, tokio_wasi) take an event error for the
    /// failure of the whole poll, so one reset peer would end a server.
    AsReadiness,
}

/// [`poll_oneoff`] with the given treatment of pending socket errors.
pub(crate) fn poll_oneoff_with(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
    pending: PendingError,
) -> Result<()> {
    let subs = read_subscriptions(mem, subs, nsubscriptions, Subscription::SIZE, Subscription::read)?;
    poll_subscriptions(cx, mem, &subs, events, nevents, pending)
}

/// Decodes an array of `count` subscriptions of `size` bytes each at `ptr` with `decode`.
///
/// No subscriptions is EINVAL (the call could only block forever), and so are more than
/// [`MAX_SUBSCRIPTIONS`] and an unknown tag; an array that does not fit in memory traps
/// before anything is allocated.
pub(crate) fn read_subscriptions(
    mem: &GuestMemory<'_>,
    ptr: u32,
    count: u32,
    size: u32,
    decode: impl Fn(&GuestMemory<'_>, u32) -> Result<Option<Subscription>, Trap>,
) -> Result<Vec<Subscription>> {
    if count == 0 {
        return Err(Errno::Inval.into());
    }
    check_array(mem, ptr, count, size, "subscriptions")?;
    if count > MAX_SUBSCRIPTIONS {
        return Err(Errno::Inval.into());
    }
    let mut subs = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        match decode(mem, memory::element(ptr, i, size)?)? {
            Some(sub) => subs.push(sub),
            None => return Err(Errno::Inval.into()),
        }
    }
    Ok(subs)
}

/// Traps unless `count` items of `size` bytes at `ptr` lie inside memory.
fn check_array(mem: &GuestMemory<'_>, ptr: u32, count: u32, size: u32, what: &str) -> Result<(), Trap> {
    let len = u64::from(count) * u64::from(size);
    match u32::try_from(len) {
        Ok(len) => mem.check(ptr, len),
        Err(_) => Err(Trap(format!(
            "out of bounds memory access: {count} {what} of {size} bytes at {ptr:#x} \
             (linear memory is {} bytes)",
            mem.len()
        ))),
    }
}

/// How one subscription is waited for.
enum Watch {
    /// Settled before waiting: an error, a regular file.
    Ready(Event),
    /// A clock that expires at the deadline; `None` is too far away to represent (never).
    Clock(Option<Instant>),
    /// Host readiness, in `pollfds[index]`. The descriptor is held so that its host fd stays
    /// open even if another thread closes the guest fd meanwhile.
    Host { desc: Arc<Descriptor>, index: usize },
}

/// The shared core of both `poll_oneoff`s: waits for `subs`, then writes their events to
/// `events_ptr` (room for one per subscription is required, checked before waiting) and the
/// number of events to `nevents_ptr`.
pub(crate) fn poll_subscriptions(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: &[Subscription],
    events_ptr: u32,
    nevents_ptr: u32,
    pending: PendingError,
) -> Result<()> {
    // A guest that could not receive the events traps now, not after a long wait.
    let count = u32::try_from(subs.len()).map_err(|_| Errno::Inval)?;
    check_array(mem, events_ptr, count, Event::SIZE, "events")?;
    mem.check(nevents_ptr, 4)?;

    let start = Instant::now();
    let mut pollfds: Vec<sys::PollFd> = Vec::new();
    let mut watches = Vec::with_capacity(subs.len());
    {
        // One lock for the whole set (a server polls hundreds of fds per call); released
        // before waiting.
        let table = cx.table();
        for sub in subs {
            watches.push(match sub.kind {
                SubscriptionKind::Clock { id, timeout, flags, .. } => {
                    Watch::Clock(clock_deadline(id, timeout, flags, start)?)
                }
                SubscriptionKind::FdRead { fd } => {
                    watch_fd(&table, sub.userdata, fd, event::FD_READ, &mut pollfds)
                }
                SubscriptionKind::FdWrite { fd } => {
                    watch_fd(&table, sub.userdata, fd, event::FD_WRITE, &mut pollfds)
                }
            });
        }
    }

    let settled = watches.iter().any(|w| matches!(w, Watch::Ready(_)));
    let earliest_clock = watches.iter().filter_map(|w| if let Watch::Clock(d) = w { *d } else { None }).min();
    // Something to report already: only look at the host fds without blocking.
    let deadline = if settled { Some(start) } else { earliest_clock };

    let out = loop {
        cx.interrupt.wait(&mut pollfds, deadline)?;
        let now = Instant::now();
        let out: Vec<Event> = subs
            .iter()
            .zip(&watches)
            .filter_map(|(sub, watch)| event_of(sub, watch, &pollfds, now, pending))
            .collect();
        // `wait` returns with no fd ready only once the deadline has passed, and then the
        // earliest clock has expired; so this repeats only if the host reported nothing at
        // all, and never past the deadline.
        if !out.is_empty() {
            break out;
        }
    };

    for (i, ev) in out.iter().enumerate() {
        // In bounds: room for every subscription was checked, and there are at most as many
        // events as subscriptions.
        ev.write(mem, memory::element(events_ptr, i, Event::SIZE)?)?;
    }
    mem.write(nevents_ptr, out.len() as u32)?;
    Ok(())
}

/// The deadline of a clock subscription, measured from `start` for a relative timeout.
fn clock_deadline(id: u32, timeout: u64, flags: u16, start: Instant) -> Result<Option<Instant>, Errno> {
    match id {
        clockid::REALTIME | clockid::MONOTONIC => {}
        // CPU time does not advance while the caller sleeps, so it cannot bound a wait.
        _ => return Err(Errno::Inval),
    }
    if flags & event::SUBSCRIPTION_CLOCK_ABSTIME == 0 {
        return Ok(start.checked_add(Duration::from_nanos(timeout)));
    }
    // Read the guest's clock first and the host instant after it, so the deadline can only
    // land late (by nanoseconds), never early.
    let left = timeout.saturating_sub(clock::now(id)?);
    Ok(Instant::now().checked_add(Duration::from_nanos(left)))
}

/// Decides how to watch an fd subscription, adding a host poll entry if it needs one.
fn watch_fd(table: &FdTable, userdata: u64, fd: u32, kind: u8, pollfds: &mut Vec<sys::PollFd>) -> Watch {
    let settled = |result: Result<u64, Errno>| {
        let (nbytes, error) = match result {
            Ok(n) => (n, 0),
            Err(e) => (0, e.raw()),
        };
        Watch::Ready(Event { userdata, error, kind, nbytes, flags: 0 })
    };
    let desc = match table.get(fd).and_then(|d| d.require(rights::POLL_FD_READWRITE).map(|()| d)) {
        Ok(d) => d,
        Err(e) => return settled(Err(e)),
    };
    let host_fd = match &desc.kind {
        Kind::Dir(_) => return settled(Err(Errno::Badf)),
        Kind::File(f) if f.filetype == Filetype::RegularFile => {
            return settled(if kind == event::FD_READ { bytes_left(&f.file) } else { Ok(0) });
        }
        Kind::File(f) => f.file.as_fd(),
        Kind::Socket(s) => s.socket.as_fd(),
    };
    // POLLRDHUP: a TCP peer's FIN shows up as a hang-up, not only as readable.
    let events = if kind == event::FD_READ { sys::POLLIN | sys::POLLRDHUP } else { sys::POLLOUT };
    pollfds.push(sys::pollfd(host_fd, events));
    Watch::Host { desc, index: pollfds.len() - 1 }
}

/// Bytes between a regular file's position and its end (0 past the end).
fn bytes_left(file: &std::fs::File) -> Result<u64, Errno> {
    let size = file.metadata()?.len();
    let mut cursor = file;
    let position = cursor.stream_position()?;
    Ok(size.saturating_sub(position))
}

/// The host fd behind a descriptor that is polled on the host.
fn host_fd(desc: &Descriptor) -> Option<BorrowedFd<'_>> {
    match &desc.kind {
        Kind::File(f) => Some(f.file.as_fd()),
        Kind::Socket(s) => Some(s.socket.as_fd()),
        Kind::Dir(_) => None,
    }
}

/// The event a subscription produced, if it fired.
fn event_of(
    sub: &Subscription,
    watch: &Watch,
    pollfds: &[sys::PollFd],
    now: Instant,
    pending: PendingError,
) -> Option<Event> {
    let ready = |kind| Event { userdata: sub.userdata, error: 0, kind, nbytes: 0, flags: 0 };
    match watch {
        Watch::Ready(ev) => Some(*ev),
        Watch::Clock(Some(deadline)) if *deadline <= now => Some(ready(event::CLOCK)),
        Watch::Clock(_) => None,
        Watch::Host { desc, index } => {
            let revents = pollfds.get(*index).map_or(0, |p| p.revents);
            if revents == 0 {
                return None;
            }
            let kind = if matches!(sub.kind, SubscriptionKind::FdRead { .. }) {
                event::FD_READ
            } else {
                event::FD_WRITE
            };
            let mut ev = ready(kind);
            if revents & sys::POLLNVAL != 0 {
                ev.error = Errno::Badf.raw();
            } else if revents & sys::POLLERR != 0 && pending == PendingError::AsEio {
                ev.error = Errno::Io.raw();
            } else {
                if revents & (sys::POLLHUP | sys::POLLRDHUP) != 0 {
                    ev.flags = event::FD_READWRITE_HANGUP;
                }
                if kind == event::FD_READ {
                    // FIONREAD fails on a listening socket; its readiness carries no count.
                    ev.nbytes = host_fd(desc).and_then(|fd| sys::bytes_readable(fd).ok()).unwrap_or(0);
                }
            }
            Some(ev)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::CtxBuilder;
    use crate::errno::Error;
    use crate::net;
    use crate::table::{Dir, File};
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    const SUBS: u32 = 0;
    const EVENTS: u32 = 2048;
    const NEVENTS: u32 = 4000;

    /// A subscription in the preview 1 layout, for `put`.
    #[derive(Clone, Copy)]
    pub(crate) enum Sub {
        Clock { userdata: u64, id: u32, timeout: u64, flags: u16 },
        Read { userdata: u64, fd: u32 },
        Write { userdata: u64, fd: u32 },
    }

    /// Encodes subscriptions at SUBS by the witx layout (48 bytes each).
    fn put(mem: &mut GuestMemory<'_>, subs: &[Sub]) {
        for (i, sub) in subs.iter().enumerate() {
            let at = SUBS + i as u32 * 48;
            mem.write_bytes(at, &[0; 48]).unwrap();
            match *sub {
                Sub::Clock { userdata, id, timeout, flags } => {
                    mem.write(at, userdata).unwrap();
                    mem.write(at + 8, event::CLOCK).unwrap();
                    mem.write(at + 16, id).unwrap();
                    mem.write(at + 24, timeout).unwrap();
                    mem.write(at + 40, flags).unwrap();
                }
                Sub::Read { userdata, fd } | Sub::Write { userdata, fd } => {
                    let tag = if matches!(sub, Sub::Read { .. }) { event::FD_READ } else { event::FD_WRITE };
                    mem.write(at, userdata).unwrap();
                    mem.write(at + 8, tag).unwrap();
                    mem.write(at + 16, fd).unwrap();
                }
            }
        }
    }

    /// Decodes `n` events at EVENTS.
    pub(crate) fn events_at(mem: &GuestMemory<'_>, ptr: u32, n: u32) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let at = ptr + i * 32;
                Event {
                    userdata: mem.read(at).unwrap(),
                    error: mem.read(at + 8).unwrap(),
                    kind: mem.read(at + 10).unwrap(),
                    nbytes: mem.read(at + 16).unwrap(),
                    flags: mem.read(at + 24).unwrap(),
                }
            })
            .collect()
    }

    /// Runs poll_oneoff on `subs` and returns the events.
    fn poll(cx: &Ctx, subs: &[Sub]) -> Result<Vec<Event>> {
        let mut bytes = vec![0u8; 4096];
        let mut mem = GuestMemory::new(&mut bytes);
        put(&mut mem, subs);
        mem.write(NEVENTS, 0xdead_u32).unwrap();
        poll_oneoff(cx, &mut mem, SUBS, EVENTS, subs.len() as u32, NEVENTS)?;
        let n = mem.read::<u32>(NEVENTS).unwrap();
        Ok(events_at(&mem, EVENTS, n))
    }

    fn ms(n: u64) -> u64 {
        n * 1_000_000
    }

    fn rel(userdata: u64, id: u32, timeout: u64) -> Sub {
        Sub::Clock { userdata, id, timeout, flags: 0 }
    }

    fn ctx() -> Ctx {
        CtxBuilder::new().build().unwrap()
    }

    /// A connected loopback TCP pair: the first end is pushed into `cx` as a guest socket.
    pub(crate) fn tcp_pair(cx: &Ctx) -> (u32, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let sock = net::Socket::new(socket2::Socket::from(client), true).unwrap();
        let fd = cx.push(Descriptor::new(Kind::Socket(sock))).unwrap();
        (fd, server)
    }

    #[test]
    fn relative_monotonic_timeout_waits_and_reports_its_userdata() {
        let cx = ctx();
        let start = Instant::now();
        let evs = poll(&cx, &[rel(77, clockid::MONOTONIC, ms(20))]).unwrap();
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(20), "returned after {took:?}");
        assert!(took < Duration::from_secs(2), "returned after {took:?}");
        assert_eq!(evs, vec![Event { userdata: 77, error: 0, kind: event::CLOCK, nbytes: 0, flags: 0 }]);
    }

    #[test]
    fn the_earlier_of_two_clocks_fires_alone() {
        let cx = ctx();
        let start = Instant::now();
        let evs =
            poll(&cx, &[rel(1, clockid::MONOTONIC, ms(5_000)), rel(2, clockid::REALTIME, ms(30))]).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].userdata, 2);
    }

    #[test]
    fn every_expired_clock_gets_an_event_in_order() {
        let cx = ctx();
        let evs = poll(&cx, &[rel(5, clockid::MONOTONIC, 0), rel(6, clockid::REALTIME, 0)]).unwrap();
        assert_eq!(evs.iter().map(|e| e.userdata).collect::<Vec<_>>(), vec![5, 6]);
        assert!(evs.iter().all(|e| e.kind == event::CLOCK && e.error == 0));
    }

    #[test]
    fn absolute_realtime_deadline_is_honoured() {
        let cx = ctx();
        let target = clock::now(clockid::REALTIME).unwrap() + ms(40);
        let abs = Sub::Clock { userdata: 9, id: clockid::REALTIME, timeout: target, flags: 1 };
        let start = Instant::now();
        let evs = poll(&cx, &[abs]).unwrap();
        assert!(clock::now(clockid::REALTIME).unwrap() >= target, "woke before the realtime deadline");
        assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].userdata, 9);
    }

    #[test]
    fn absolute_monotonic_deadline_in_the_past_fires_at_once() {
        let cx = ctx();
        let past = Sub::Clock { userdata: 3, id: clockid::MONOTONIC, timeout: 1, flags: 1 };
        let start = Instant::now();
        let evs = poll(&cx, &[past]).unwrap();
        assert!(start.elapsed() < Duration::from_millis(500));
        assert_eq!(evs.len(), 1);
        let future = clock::now(clockid::MONOTONIC).unwrap() + ms(25);
        let evs = poll(&cx, &[Sub::Clock { userdata: 4, id: clockid::MONOTONIC, timeout: future, flags: 1 }])
            .unwrap();
        assert!(clock::now(clockid::MONOTONIC).unwrap() >= future);
        assert_eq!(evs[0].userdata, 4);
    }

    #[test]
    fn bad_arguments_are_einval() {
        let cx = ctx();
        let mut bytes = vec![0u8; 4096];
        let mut mem = GuestMemory::new(&mut bytes);
        assert_eq!(poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 0, NEVENTS), Err(Errno::Inval.into()));
        for id in [clockid::PROCESS_CPUTIME_ID, clockid::THREAD_CPUTIME_ID, 4, u32::MAX] {
            put(&mut mem, &[rel(1, id, 0)]);
            assert_eq!(
                poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 1, NEVENTS),
                Err(Errno::Inval.into()),
                "{id}"
            );
        }
        put(&mut mem, &[rel(1, clockid::MONOTONIC, 0)]);
        mem.write(SUBS + 8, 3u8).unwrap();
        assert_eq!(poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 1, NEVENTS), Err(Errno::Inval.into()));
    }

    #[test]
    fn arrays_ending_on_the_last_byte_of_4_gib_work_for_both_kinds() {
        const FOUR_GIB: usize = 1 << 32;
        let top = |len: u32| (FOUR_GIB - len as usize) as u32;
        let cx = ctx();
        let mut region = crate::sys::LazyRegion::new(FOUR_GIB).unwrap();
        for shared in [false, true] {
            region.reset().unwrap();
            let mut mem = region.memory(FOUR_GIB, shared);
            put(&mut mem, &[rel(1, clockid::MONOTONIC, 0), rel(2, clockid::MONOTONIC, 0)]);
            let subs = mem.read_bytes(SUBS, 96).unwrap();
            mem.write_bytes(top(96), &subs).unwrap();
            let userdata = |mem: &GuestMemory<'_>, at| -> Vec<u64> {
                events_at(mem, at, 2).iter().map(|e| e.userdata).collect()
            };
            // The subscriptions, the events or the count ending on the last byte, in turn.
            poll_oneoff(&cx, &mut mem, top(96), EVENTS, 2, NEVENTS).unwrap();
            assert_eq!(userdata(&mem, EVENTS), [1, 2]);
            poll_oneoff(&cx, &mut mem, SUBS, top(64), 2, NEVENTS).unwrap();
            assert_eq!(userdata(&mem, top(64)), [1, 2]);
            poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 2, top(4)).unwrap();
            assert_eq!(mem.read::<u32>(top(4)).unwrap(), 2);
            let trap = |r: Result<()>| matches!(r, Err(Error::Trap(_)));
            assert!(trap(poll_oneoff(&cx, &mut mem, top(95), EVENTS, 2, NEVENTS)));
            assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, top(63), 2, NEVENTS)));
            assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 2, top(3))));
        }
    }

    #[test]
    fn out_of_bounds_pointers_trap_before_waiting() {
        let cx = ctx();
        let mut bytes = vec![0u8; 4096];
        let mut mem = GuestMemory::new(&mut bytes);
        put(&mut mem, &[rel(1, clockid::MONOTONIC, ms(10_000))]);
        let start = Instant::now();
        let trap = |r: Result<()>| matches!(r, Err(Error::Trap(_)));
        assert!(trap(poll_oneoff(&cx, &mut mem, 4096 - 47, EVENTS, 1, NEVENTS)));
        assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, EVENTS, u32::MAX, NEVENTS)));
        assert!(trap(poll_oneoff(&cx, &mut mem, u32::MAX, EVENTS, 2, NEVENTS)));
        assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, 4096 - 31, 1, NEVENTS)));
        assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, u32::MAX - 10, 1, NEVENTS)));
        assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, EVENTS, 1, 4093)));
        // An array that fits in memory but is too long to keep on the host is EINVAL.
        let mut big = vec![0u8; 48 * (MAX_SUBSCRIPTIONS as usize + 1)];
        let mut big = GuestMemory::new(&mut big);
        let err = poll_oneoff(&cx, &mut big, 0, 0, MAX_SUBSCRIPTIONS + 1, 0);
        assert_eq!(err, Err(Errno::Inval.into()));
        // Two subscriptions need room for two events even if one would do.
        put(&mut mem, &[rel(1, clockid::MONOTONIC, 0), rel(2, clockid::MONOTONIC, ms(10_000))]);
        assert!(trap(poll_oneoff(&cx, &mut mem, SUBS, 4096 - 63, 2, NEVENTS)));
        assert!(start.elapsed() < Duration::from_secs(2), "a trap must not wait for the clock");
    }

    #[test]
    fn interrupt_ends_a_long_wait_with_the_stop_reason() {
        let cx = Arc::new(ctx());
        let stopper = {
            let cx = cx.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                cx.interrupt.trigger(Error::Trap(Trap("x".into())));
            })
        };
        let start = Instant::now();
        let r = poll(&cx, &[rel(1, clockid::MONOTONIC, ms(10_000))]);
        stopper.join().unwrap();
        assert_eq!(r, Err(Error::Trap(Trap("x".into()))));
        assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    }

    #[test]
    fn socket_is_readable_only_after_the_peer_writes() {
        let cx = ctx();
        let (fd, mut peer) = tcp_pair(&cx);
        let evs = poll(&cx, &[Sub::Read { userdata: 10, fd }, rel(11, clockid::MONOTONIC, ms(30))]).unwrap();
        assert_eq!(evs.iter().map(|e| (e.userdata, e.kind)).collect::<Vec<_>>(), vec![(11, event::CLOCK)]);
        peer.write_all(b"hello").unwrap();
        let evs =
            poll(&cx, &[Sub::Read { userdata: 10, fd }, rel(11, clockid::MONOTONIC, ms(5_000))]).unwrap();
        assert_eq!(evs, vec![Event { userdata: 10, error: 0, kind: event::FD_READ, nbytes: 5, flags: 0 }]);
    }

    #[test]
    fn socket_is_writable_at_once() {
        let cx = ctx();
        let (fd, _peer) = tcp_pair(&cx);
        let start = Instant::now();
        let evs =
            poll(&cx, &[rel(1, clockid::MONOTONIC, ms(5_000)), Sub::Write { userdata: 2, fd }]).unwrap();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(evs, vec![Event { userdata: 2, error: 0, kind: event::FD_WRITE, nbytes: 0, flags: 0 }]);
    }

    #[test]
    fn peer_close_is_a_hangup() {
        let cx = ctx();
        let (fd, mut peer) = tcp_pair(&cx);
        peer.write_all(b"bye").unwrap();
        drop(peer);
        let evs = poll(&cx, &[Sub::Read { userdata: 4, fd }, rel(5, clockid::MONOTONIC, ms(5_000))]).unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!((evs[0].userdata, evs[0].error), (4, 0));
        assert_eq!(evs[0].flags, event::FD_READWRITE_HANGUP);
        assert_eq!(evs[0].nbytes, 3, "unread data is still counted");
    }

    /// A peer's reset leaves an error pending on the socket: an EIO event for WAMR's rule,
    /// plain readiness for WasmEdge's, and in both cases the error itself stays for the next
    /// receive.
    #[test]
    fn a_pending_socket_error_is_eio_or_readiness_by_the_abis_rule() {
        for pending in [PendingError::AsEio, PendingError::AsReadiness] {
            let cx = ctx();
            let (fd, peer) = tcp_pair(&cx);
            socket2::SockRef::from(&peer).set_linger(Some(Duration::ZERO)).unwrap();
            drop(peer); // a reset
            let mut bytes = vec![0u8; 4096];
            let mut mem = GuestMemory::new(&mut bytes);
            put(&mut mem, &[Sub::Read { userdata: 9, fd }, rel(5, clockid::MONOTONIC, ms(5_000))]);
            poll_oneoff_with(&cx, &mut mem, SUBS, EVENTS, 2, NEVENTS, pending).unwrap();
            let evs = events_at(&mem, EVENTS, mem.read::<u32>(NEVENTS).unwrap());
            assert_eq!(evs.len(), 1, "{pending:?}: {evs:?}");
            assert_eq!((evs[0].userdata, evs[0].kind), (9, event::FD_READ));
            let want = if pending == PendingError::AsEio { Errno::Io.raw() } else { 0 };
            assert_eq!(evs[0].error, want, "{pending:?}");
            let desc = cx.get(fd, 0).unwrap();
            let err = desc.as_socket().unwrap().socket.take_error().unwrap();
            assert_eq!(err.and_then(|e| e.raw_os_error()), Some(libc::ECONNRESET), "{pending:?}");
        }
    }

    #[test]
    fn listening_socket_with_a_pending_connection_is_readable() {
        let cx = ctx();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sock = net::Socket::new(socket2::Socket::from(listener), true).unwrap();
        let fd = cx.push(Descriptor::new(Kind::Socket(sock))).unwrap();
        let evs = poll(&cx, &[Sub::Read { userdata: 1, fd }, rel(2, clockid::MONOTONIC, ms(20))]).unwrap();
        assert_eq!(evs[0].userdata, 2, "nothing pending yet");
        let _client = TcpStream::connect(addr).unwrap();
        let evs = poll(&cx, &[Sub::Read { userdata: 1, fd }, rel(2, clockid::MONOTONIC, ms(5_000))]).unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!((evs[0].userdata, evs[0].error, evs[0].kind), (1, 0, event::FD_READ));
    }

    #[test]
    fn connecting_socket_becomes_writable() {
        let cx = ctx();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_nonblocking(true).unwrap();
        match sock.connect(&listener.local_addr().unwrap().into()) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS)),
        }
        let fd = cx.push(Descriptor::new(Kind::Socket(net::Socket::new(sock, true).unwrap()))).unwrap();
        let evs =
            poll(&cx, &[Sub::Write { userdata: 8, fd }, rel(9, clockid::MONOTONIC, ms(5_000))]).unwrap();
        assert_eq!(evs, vec![Event { userdata: 8, error: 0, kind: event::FD_WRITE, nbytes: 0, flags: 0 }]);
        let guest = cx.get(fd, 0).unwrap();
        assert!(guest.as_socket().unwrap().socket.peer_addr().is_ok(), "connected");
    }

    #[test]
    fn bad_and_unauthorised_fds_are_error_events_not_failures() {
        let cx = ctx();
        let (fd, _peer) = tcp_pair(&cx);
        let sock = cx.get(fd, 0).unwrap();
        let dup = sock.as_socket().unwrap().socket.try_clone().unwrap();
        let no_poll = rights::SOCKET & !rights::POLL_FD_READWRITE;
        let weak = cx
            .push(Descriptor::with_rights(Kind::Socket(net::Socket::new(dup, true).unwrap()), no_poll, 0))
            .unwrap();
        let start = Instant::now();
        let evs = poll(
            &cx,
            &[
                rel(1, clockid::MONOTONIC, ms(10_000)),
                Sub::Read { userdata: 2, fd: 999 },
                Sub::Write { userdata: 3, fd: weak },
            ],
        )
        .unwrap();
        assert!(start.elapsed() < Duration::from_secs(2), "an error event must not wait");
        assert_eq!(
            evs,
            vec![
                Event { userdata: 2, error: Errno::Badf.raw(), kind: event::FD_READ, nbytes: 0, flags: 0 },
                Event {
                    userdata: 3,
                    error: Errno::NotCapable.raw(),
                    kind: event::FD_WRITE,
                    nbytes: 0,
                    flags: 0
                },
            ]
        );
    }

    #[test]
    fn ready_fds_are_reported_without_unexpired_clocks() {
        let cx = ctx();
        let (fd, mut peer) = tcp_pair(&cx);
        peer.write_all(b"x").unwrap();
        let evs = poll(
            &cx,
            &[
                rel(1, clockid::MONOTONIC, ms(5_000)),
                Sub::Write { userdata: 2, fd },
                Sub::Read { userdata: 3, fd },
            ],
        )
        .unwrap();
        // Write is ready at once; the read may need the byte to arrive first, so poll again.
        assert!(evs.iter().all(|e| e.userdata != 1));
        assert_eq!(evs[0].userdata, 2);
        let evs = poll(&cx, &[rel(1, clockid::MONOTONIC, ms(5_000)), Sub::Read { userdata: 3, fd }]).unwrap();
        assert_eq!(evs, vec![Event { userdata: 3, error: 0, kind: event::FD_READ, nbytes: 1, flags: 0 }]);
    }

    #[test]
    fn regular_files_are_ready_and_directories_are_not_streams() {
        let cx = ctx();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        file.seek(std::io::SeekFrom::Start(3)).unwrap();
        let fd = cx.push(Descriptor::new(Kind::File(File::new(file, Filetype::RegularFile)))).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = cap_std::fs::Dir::open_ambient_dir(tmp.path(), cap_std::ambient_authority()).unwrap();
        let pollable = dir.try_clone().unwrap();
        let dfd = cx.push(Descriptor::new(Kind::Dir(Dir { dir, preopen: None }))).unwrap();
        let all = Descriptor::with_rights(Kind::Dir(Dir { dir: pollable, preopen: None }), rights::ALL, 0);
        let all_fd = cx.push(all).unwrap();
        let evs = poll(
            &cx,
            &[
                Sub::Read { userdata: 1, fd },
                Sub::Write { userdata: 2, fd },
                rel(3, clockid::MONOTONIC, ms(10_000)),
                Sub::Read { userdata: 4, fd: dfd },
                Sub::Write { userdata: 5, fd: all_fd },
            ],
        )
        .unwrap();
        assert_eq!(
            evs,
            vec![
                Event { userdata: 1, error: 0, kind: event::FD_READ, nbytes: 7, flags: 0 },
                Event { userdata: 2, error: 0, kind: event::FD_WRITE, nbytes: 0, flags: 0 },
                Event {
                    userdata: 4,
                    error: Errno::NotCapable.raw(),
                    kind: event::FD_READ,
                    nbytes: 0,
                    flags: 0
                },
                Event { userdata: 5, error: Errno::Badf.raw(), kind: event::FD_WRITE, nbytes: 0, flags: 0 },
            ]
        );
    }

    #[test]
    fn pipe_hangup_and_readiness_come_from_the_host() {
        let cx = ctx();
        let (reader, writer) = rustix::pipe::pipe().unwrap();
        let fd = cx.push(Descriptor::new(Kind::File(File::new(reader.into(), Filetype::Unknown)))).unwrap();
        let evs = poll(&cx, &[Sub::Read { userdata: 1, fd }, rel(2, clockid::MONOTONIC, ms(20))]).unwrap();
        assert_eq!(evs[0].userdata, 2, "an empty pipe is not readable");
        rustix::io::write(&writer, b"abcd").unwrap();
        let evs = poll(&cx, &[Sub::Read { userdata: 1, fd }]).unwrap();
        assert_eq!(evs, vec![Event { userdata: 1, error: 0, kind: event::FD_READ, nbytes: 4, flags: 0 }]);
        drop(writer);
        let evs = poll(&cx, &[Sub::Read { userdata: 1, fd }]).unwrap();
        assert_eq!(evs[0].flags, event::FD_READWRITE_HANGUP);
    }
}
