//! TODO(skeleton): being written.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `path_create_directory`.
pub fn path_create_directory(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _path: u32,
    _path_len: u32,
) -> Result<()> {
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

/// `path_filestat_set_times`.
pub fn path_filestat_set_times(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _flags: u32,
    _path: u32,
    _path_len: u32,
    _atim: u64,
    _mtim: u64,
    _fst_flags: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_link`.
pub fn path_link(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _old_fd: u32,
    _old_flags: u32,
    _old_path: u32,
    _old_path_len: u32,
    _new_fd: u32,
    _new_path: u32,
    _new_path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_open`.
pub fn path_open(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _dirflags: u32,
    _path: u32,
    _path_len: u32,
    _oflags: u32,
    _rights_base: u64,
    _rights_inheriting: u64,
    _fdflags: u32,
    _opened_fd: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_readlink`.
pub fn path_readlink(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _path: u32,
    _path_len: u32,
    _buf: u32,
    _buf_len: u32,
    _bufused: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_remove_directory`.
pub fn path_remove_directory(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _path: u32,
    _path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_rename`.
pub fn path_rename(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _old_path: u32,
    _old_path_len: u32,
    _new_fd: u32,
    _new_path: u32,
    _new_path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_symlink`.
pub fn path_symlink(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _old_path: u32,
    _old_path_len: u32,
    _fd: u32,
    _new_path: u32,
    _new_path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `path_unlink_file`.
pub fn path_unlink_file(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _path: u32,
    _path_len: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}
