//! random_get.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `random_get`: fills the buffer from the host's CSPRNG.
pub fn random_get(_cx: &Ctx, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> Result<()> {
    let out = mem.slice_mut(buf, len)?;
    getrandom::fill(out).map_err(|_| Errno::Io)?;
    Ok(())
}
