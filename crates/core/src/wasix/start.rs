//! The non-network `wasix_32v1` functions a socket program calls whatever it does (doc §8):
//! wasix-libc's start-up code (`_start` reads the preset signal dispositions and registers
//! its signal handler, `exit()` ends through `proc_exit2`) and two small thread helpers.
//! Each does what WASIX says, for a runtime without signals or WASIX threads; every other
//! `wasix_32v1` function returning an errno is ENOSYS, listed by `--trace`.

use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::errno::{Error, Result};
use crate::memory::GuestMemory;

/// `proc_signals_sizes_get(*count)`: how many signal dispositions the process starts with,
/// which wasix-libc's `_start` then reads with [`proc_signals_get`]: none (wasock delivers
/// no signals, so every one keeps its default). An error here would make `_start` exit 71.
pub fn proc_signals_sizes_get(_cx: &Ctx, mem: &mut GuestMemory<'_>, count: u32) -> Result<()> {
    mem.write(count, 0u32)?;
    Ok(())
}

/// `proc_signals_get(*dispositions)`: writes the [`proc_signals_sizes_get`] entries, so
/// nothing.
pub fn proc_signals_get(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _buf: u32) -> Result<()> {
    Ok(())
}

/// `callback_signal(*name, name_len)`, no result: names the guest's exported signal handler
/// (`__wasm_signal`). wasock never delivers a signal, so the name is not needed; a bad
/// pointer still traps, as for any other call.
pub fn callback_signal(_cx: &Ctx, mem: &mut GuestMemory<'_>, name: u32, name_len: u32) -> Result<()> {
    mem.check(name, name_len)?;
    Ok(())
}

/// `proc_exit2(code)`, no result: ends the whole instance with `code`, as preview 1's
/// `proc_exit` does (wasix-libc's `exit()` and `_Exit()` call it). Returns the exit for the
/// binding to stop the guest with.
pub fn proc_exit2(cx: &Ctx, code: u32) -> Error {
    crate::p1::proc::proc_exit(cx, code)
}

/// `thread_sleep(ns)`: sleeps `ns` nanoseconds (u64::MAX: until stopped), interruptibly, so
/// `--timeout` ends a sleeping guest.
pub fn thread_sleep(cx: &Ctx, _mem: &mut GuestMemory<'_>, ns: u64) -> Result<()> {
    let deadline = Instant::now().checked_add(Duration::from_nanos(ns));
    loop {
        cx.interrupt.wait(&mut [], deadline)?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
    }
}

/// `thread_parallelism(*size)`: how many threads can run at once on the host (at least 1).
pub fn thread_parallelism(_cx: &Ctx, mem: &mut GuestMemory<'_>, size: u32) -> Result<()> {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    mem.write(size, u32::try_from(n).unwrap_or(u32::MAX))?;
    Ok(())
}
