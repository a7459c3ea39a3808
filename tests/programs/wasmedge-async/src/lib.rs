//! What the guests share: how they print an error, and how a server ends once its last
//! connection has ended.

use std::io;
use std::process::exit;
use std::sync::Mutex;

/// `errno N (KIND)` for an error from the host, else the message and kind.
pub fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(errno) => format!("errno {errno} ({:?})", e.kind()),
        None => format!("{e} ({:?})", e.kind()),
    }
}

/// How one connection ended: the line to print for it (if any), the bytes it moved, and
/// whether it failed.
pub struct Outcome {
    pub line: Option<String>,
    pub bytes: u64,
    pub failed: bool,
}

/// Collects the outcome of each of a fixed number of connections. The connection task that
/// reports the last one prints every line in accept order, then the summary, and exits the
/// process (status 1 if any connection failed).
///
/// Why the last task exits instead of `main` awaiting the tasks' JoinHandles: with
/// tokio_wasi 1.25 and mio_wasi 0.8 a task cannot wake the `block_on` future. The wake sets
/// the runtime's "woken" flag and unparks the I/O driver through mio's `Waker`, which
/// mio_wasi implements as a no-op; the current-thread scheduler parks whenever its task queue
/// is empty, without looking at the flag, so `main` would sleep in `poll_oneoff` until some
/// unrelated socket or timer event (forever, once the clients are gone). Only I/O readiness
/// and timers reach `main`: an accept loop in `main`, as in WasmEdge's own examples, works.
pub struct Finish {
    outcomes: Mutex<Vec<Option<Outcome>>>,
    summary: fn(&[Outcome]) -> String,
}

impl Finish {
    pub fn new(connections: usize, summary: fn(&[Outcome]) -> String) -> Finish {
        Finish { outcomes: Mutex::new((0..connections).map(|_| None).collect()), summary }
    }

    /// Records how connection `index` (from 0) ended; exits if it was the last one.
    pub fn done(&self, index: usize, outcome: Outcome) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        outcomes[index] = Some(outcome);
        if outcomes.iter().any(Option::is_none) {
            return;
        }
        let outcomes: Vec<Outcome> = outcomes.drain(..).flatten().collect();
        for line in outcomes.iter().filter_map(|o| o.line.as_deref()) {
            println!("{line}");
        }
        println!("{}", (self.summary)(&outcomes));
        exit(if outcomes.iter().any(|o| o.failed) { 1 } else { 0 });
    }
}
