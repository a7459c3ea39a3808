//! proc_exit, proc_raise, sched_yield.

use crate::ctx::Ctx;
use crate::errno::{Errno, Error, Exit, Result};
use crate::memory::GuestMemory;

/// `proc_exit`: ends the whole instance (every thread) with `code`.
pub fn proc_exit(cx: &Ctx, code: u32) -> Error {
    let exit = Error::Exit(Exit(code as i32));
    cx.interrupt.trigger(exit.clone());
    exit
}

/// `proc_raise`: signals are not part of the sandbox; always ENOTSUP, as in wasmtime.
pub fn proc_raise(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _sig: u32) -> Result<()> {
    Err(Errno::NotSup.into())
}

/// `sched_yield`.
pub fn sched_yield(_cx: &Ctx, _mem: &mut GuestMemory<'_>) -> Result<()> {
    std::thread::yield_now();
    Ok(())
}
