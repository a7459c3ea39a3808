//! TODO(skeleton): being written.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `fd_seek`.
pub fn fd_seek(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _offset: u64,
    _whence: u32,
    _newoffset: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_filestat_get`.
pub fn fd_filestat_get(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _out: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_filestat_get`.
pub fn path_filestat_get(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _flags: u32,
    _path: u32,
    _path_len: u32,
    _out: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

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
