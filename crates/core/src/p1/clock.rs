//! clock_res_get, clock_time_get.

use crate::abi::clockid;
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::sys;

/// The host clock behind a WASI clock id, or EINVAL.
pub fn host_clock(id: u32) -> Result<libc::clockid_t, Errno> {
    Ok(match id {
        clockid::REALTIME => libc::CLOCK_REALTIME,
        clockid::MONOTONIC => libc::CLOCK_MONOTONIC,
        clockid::PROCESS_CPUTIME_ID => libc::CLOCK_PROCESS_CPUTIME_ID,
        clockid::THREAD_CPUTIME_ID => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::Inval),
    })
}

/// The current time of a WASI clock in nanoseconds.
pub fn now(id: u32) -> Result<u64, Errno> {
    sys::clock(host_clock(id)?, false).map_err(Errno::from)
}

/// `clock_res_get`: the clock's resolution in nanoseconds.
pub fn clock_res_get(_cx: &Ctx, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> Result<()> {
    let res = sys::clock(host_clock(id)?, true).map_err(Errno::from)?;
    mem.write(out, res.max(1))?;
    Ok(())
}

/// `clock_time_get`: the clock's time in nanoseconds. The precision hint is not needed.
pub fn clock_time_get(
    _cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    _precision: u64,
    out: u32,
) -> Result<()> {
    mem.write(out, now(id)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CtxBuilder;

    #[test]
    fn every_clock_ticks_and_bad_ids_are_einval() {
        let cx = CtxBuilder::new().build().unwrap();
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        for id in 0..4 {
            clock_res_get(&cx, &mut mem, id, 0).unwrap();
            assert!(mem.read::<u64>(0).unwrap() >= 1);
            clock_time_get(&cx, &mut mem, id, 0, 8).unwrap();
            assert!(mem.read::<u64>(8).unwrap() > 0, "clock {id}");
        }
        let realtime = now(clockid::REALTIME).unwrap();
        assert!(realtime > 1_600_000_000 * 1_000_000_000, "realtime is since the epoch");
        assert_eq!(clock_time_get(&cx, &mut mem, 4, 0, 0), Err(Errno::Inval.into()));
        assert!(clock_time_get(&cx, &mut mem, 1, 0, 9).is_err(), "8 bytes at 9 overrun 16");
    }
}
