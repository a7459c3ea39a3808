//! Stopping an instance that may be blocked in a host call.
//!
//! Wasm code is stopped by the engine (epoch interruption); a thread blocked in `accept`,
//! `recv` or `poll_oneoff` is stopped here. Every blocking host call waits with [`Interrupt::wait`],
//! which polls the guest's fds together with an eventfd that [`Interrupt::trigger`] makes
//! readable, so `--timeout` and a `proc_exit` in another thread end the wait at once.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::errno::{Error, Result};
use crate::sys;

/// The interruption state of one instance, shared by its threads.
pub struct Interrupt {
    reason: OnceLock<Error>,
    wake: OwnedFd,
}

impl Interrupt {
    /// A fresh, untriggered state.
    pub fn new() -> std::io::Result<Interrupt> {
        Ok(Interrupt { reason: OnceLock::new(), wake: sys::eventfd()? })
    }

    /// Stops the instance: every blocked and future host call fails with `reason`
    /// (a [`Error::Trap`] or [`Error::Exit`]). The first reason wins.
    pub fn trigger(&self, reason: Error) {
        let _ = self.reason.set(reason);
        sys::signal(self.wake.as_fd());
    }

    /// The reason, if the instance has been stopped.
    pub fn check(&self) -> Result<()> {
        match self.reason.get() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Polls `fds` until one is ready, `deadline` passes (then returns 0) or the instance is
    /// stopped (then returns its reason). Signals that interrupt poll are retried.
    pub fn wait(&self, fds: &mut [sys::PollFd], deadline: Option<Instant>) -> Result<usize> {
        // The caller's fds and the wake fd; a blocking recv or send waits on one fd, and that
        // wait stays off the heap.
        let mut set: smallvec::SmallVec<[sys::PollFd; 8]> = smallvec::SmallVec::with_capacity(fds.len() + 1);
        loop {
            self.check()?;
            let timeout = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() && !fds.is_empty() {
                        // One last non-blocking look, so a zero timeout still reports readiness.
                        Some(Duration::ZERO)
                    } else {
                        Some(left)
                    }
                }
                None => None,
            };
            set.clear();
            set.extend_from_slice(fds);
            set.push(sys::pollfd(self.wake.as_fd(), sys::POLLIN));
            match sys::poll(&mut set, timeout) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
            self.check()?;
            for (dst, src) in fds.iter_mut().zip(&set) {
                dst.revents = src.revents;
            }
            let ready = fds.iter().filter(|p| p.revents != 0).count();
            if ready > 0 || timeout.is_some_and(|t| t.is_zero()) {
                return Ok(ready);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::Trap;
    use std::sync::Arc;

    #[test]
    fn deadline_expires_with_nothing_ready() {
        let i = Interrupt::new().unwrap();
        let start = Instant::now();
        assert_eq!(i.wait(&mut [], Some(start + Duration::from_millis(30))).unwrap(), 0);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn trigger_wakes_a_blocked_waiter() {
        let i = Arc::new(Interrupt::new().unwrap());
        let i2 = i.clone();
        let t = std::thread::spawn(move || i2.wait(&mut [], None));
        std::thread::sleep(Duration::from_millis(50));
        i.trigger(Error::Trap(Trap("stop".into())));
        let r = t.join().unwrap();
        assert_eq!(r, Err(Error::Trap(Trap("stop".into()))));
        // The first reason sticks.
        i.trigger(Error::Exit(crate::errno::Exit(3)));
        assert_eq!(i.check(), Err(Error::Trap(Trap("stop".into()))));
    }
}
