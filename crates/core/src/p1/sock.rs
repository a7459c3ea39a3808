//! TODO(skeleton): being written.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// `sock_accept`.
pub fn sock_accept(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _flags: u32, _new_fd: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `sock_recv`.
pub fn sock_recv(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _ri_data: u32,
    _ri_data_len: u32,
    _ri_flags: u32,
    _ro_datalen: u32,
    _ro_flags: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `sock_send`.
pub fn sock_send(
    _cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    _fd: u32,
    _si_data: u32,
    _si_data_len: u32,
    _si_flags: u32,
    _so_datalen: u32,
) -> Result<()> {
    Err(Errno::NoSys.into())
}

/// `sock_shutdown`.
pub fn sock_shutdown(_cx: &Ctx, _mem: &mut GuestMemory<'_>, _fd: u32, _how: u32) -> Result<()> {
    Err(Errno::NoSys.into())
}
