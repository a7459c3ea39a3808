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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CtxBuilder;
    use crate::errno::Error;

    #[test]
    fn fills_every_byte_of_the_buffer_and_no_other() {
        let cx = CtxBuilder::new().build().unwrap();
        for shared in [false, true] {
            // Three chunks' worth, the last one partial, between two untouched bytes.
            let len = 2 * CHUNK + 100;
            let mut bytes = vec![0u8; len + 2];
            let mut mem = match shared {
                false => GuestMemory::new(&mut bytes),
                true => GuestMemory::shared_view(&mut bytes),
            };
            random_get(&cx, &mut mem, 1, len as u32).unwrap();
            assert!(matches!(random_get(&cx, &mut mem, 2, len as u32 + 1), Err(Error::Trap(_))));
            assert!(matches!(random_get(&cx, &mut mem, u32::MAX, 2), Err(Error::Trap(_))));
            random_get(&cx, &mut mem, len as u32 + 2, 0).unwrap();
            assert_eq!((bytes[0], bytes[len + 1]), (0, 0), "shared {shared}");
            // Each 64-byte block of random bytes being all zero has odds of 2^-512.
            for block in bytes[1..=len].chunks(64) {
                assert!(block.iter().any(|&b| b != 0), "shared {shared}: a block was not filled");
            }
        }
    }
}
