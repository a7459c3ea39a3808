//! TODO(skeleton): being written.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `fd_advise`.
pub fn fd_advise(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _offset: u64,
    _len: u64,
    _advice: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_allocate`.
pub fn fd_allocate(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _offset: u64, _len: u64) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_close`.
pub fn fd_close(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_datasync`.
pub fn fd_datasync(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_fdstat_get`.
pub fn fd_fdstat_get(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _out: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_fdstat_set_flags`.
pub fn fd_fdstat_set_flags(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _flags: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_fdstat_set_rights`.
pub fn fd_fdstat_set_rights(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _base: u64,
    _inheriting: u64,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_filestat_get`.
pub fn fd_filestat_get(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _out: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_filestat_set_size`.
pub fn fd_filestat_set_size(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _size: u64) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_filestat_set_times`.
pub fn fd_filestat_set_times(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _atim: u64,
    _mtim: u64,
    _fst_flags: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_pread`.
pub fn fd_pread(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _offset: u64,
    _nread: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_prestat_get`.
pub fn fd_prestat_get(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _out: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_prestat_dir_name`.
pub fn fd_prestat_dir_name(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _path: u32,
    _path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_pwrite`.
pub fn fd_pwrite(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _offset: u64,
    _nwritten: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_read`.
pub fn fd_read(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _nread: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_readdir`.
pub fn fd_readdir(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _buf: u32,
    _buf_len: u32,
    _cookie: u64,
    _bufused: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_renumber`.
pub fn fd_renumber(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _to: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

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

/// `fd_sync`.
pub fn fd_sync(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_tell`.
pub fn fd_tell(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _out: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `fd_write`.
pub fn fd_write(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _nwritten: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}
