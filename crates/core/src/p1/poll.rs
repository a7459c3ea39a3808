//! TODO(skeleton): being written.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `poll_oneoff`.
pub fn poll_oneoff(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _subs: u32,
    _events: u32,
    _nsubscriptions: u32,
    _nevents: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}
