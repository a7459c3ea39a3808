//! random_get.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{self, GuestMemory};

/// The host buffer random bytes are made in before they are copied to the guest.
const CHUNK: usize = 64 * 1024;

/// `random_get`: fills the buffer from the host's CSPRNG, through a bounded host buffer, so
/// that plain and shared memories are filled alike.
pub fn random_get(_cx: &Ctx, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> Result<()> {
    mem.check(buf, len)?;
    let len = len as usize;
    let mut chunk = vec![0u8; len.min(CHUNK)];
    let mut done = 0;
    while done < len {
        let n = chunk.len().min(len - done);
        getrandom::fill(&mut chunk[..n]).map_err(|_| Errno::Io)?;
        mem.write_bytes(memory::offset(buf, done)?, &chunk[..n])?;
        done += n;
    }
    Ok(())
}
