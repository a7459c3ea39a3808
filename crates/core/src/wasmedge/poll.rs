//! `epoll_oneoff` (doc 9): WASI preview 1's `poll_oneoff` under another name; and
//! `poll_oneoff` itself as WasmEdge has it, with EFAULT for arrays outside memory.
//!
//! WasmEdge registers the fds edge-triggered, but re-arms every one on each call, so an fd
//! that is still ready is reported again, as with `poll_oneoff`; the guests built for it
//! (mio and tokio for WasmEdge, wasmedge_wasi_socket's `epoll` feature) drain an fd until
//! EAGAIN after each event. So this is [`crate::p1::poll::poll_oneoff`], whose waits are
//! interruptible, with WasmEdge's EFAULT for arrays outside memory instead of a trap, and
//! WasmEdge's report of a socket's pending error: plain readiness, never an event error
//! (mio_wasi and tokio_wasi fail the whole poll on one). Read events carry the real byte
//! count where WasmEdge always says 1.

use super::abi::{array_in_memory, in_memory};
use crate::abi::{Event, Subscription};
use crate::ctx::Ctx;
use crate::errno::Result;
use crate::memory::GuestMemory;
use crate::p1::poll;

/// `epoll_oneoff(*subscriptions, *events, nsubscriptions, *nevents)`.
pub fn epoll_oneoff(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> Result<()> {
    array_in_memory(mem, subs, nsubscriptions, Subscription::SIZE)?;
    array_in_memory(mem, events, nsubscriptions, Event::SIZE)?;
    in_memory(mem, nevents, 4)?;
    poll::poll_oneoff_with(cx, mem, subs, events, nsubscriptions, nevents, poll::PendingError::AsReadiness)
}

/// `poll_oneoff(...)` in a WasmEdge module: WasmEdge's `poll_oneoff` and `epoll_oneoff` are
/// one function, and both answer arrays outside memory with EFAULT (WASI preview 1's traps).
pub fn poll_oneoff(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> Result<()> {
    epoll_oneoff(cx, mem, subs, events, nsubscriptions, nevents)
}
