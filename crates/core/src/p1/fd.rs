//! The `fd_*` functions: reading, writing, seeking and inspecting open descriptors.
//!
//! Regular files, terminals and pipes are `Kind::File`, directories `Kind::Dir` and sockets
//! `Kind::Socket`. Reads and writes on anything but a regular file never block in the kernel
//! ([`crate::stream`]): they wait in [`Interrupt::wait`](crate::interrupt::Interrupt::wait),
//! so that a guest blocked on stdin or a full pipe can still be stopped by `--timeout`.
//! Closing never blocks in the kernel either, and waits (for a lingering socket) only after
//! the fd-table lock is released.

use std::io;
use std::num::NonZeroU64;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirEntryExt;
use std::sync::Arc;

use rustix::fs::{OFlags, SeekFrom};

use crate::abi::{Dirent, Fdstat, Filestat, Filetype, fdflags, rights, whence};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{self, GuestMemory};
use crate::p1::fs_util::{filestat_from_stat, filetype_of, fs_errno, host_fd, time_specs};
use crate::sock;
use crate::stream::{self, IoMode};
use crate::table::{Descriptor, Dir, Kind};

/// Every `$fdflags` bit.
const ALL_FDFLAGS: u16 =
    fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC;

/// The host open flags behind the synchronisation fdflags. rustix's OFlags::DSYNC is O_SYNC
/// on linux_raw, so the libc values are used instead.
const HOST_SYNC_MASK: u32 = (libc::O_SYNC | libc::O_DSYNC | libc::O_RSYNC) as u32;

/// The host `O_*` bits for the WASI fdflags `flags` (path_open, fd_fdstat_set_flags).
pub(crate) fn host_oflags(flags: u16) -> u32 {
    let mut host = 0;
    for (wasi, bits) in [
        (fdflags::APPEND, libc::O_APPEND),
        (fdflags::DSYNC, libc::O_DSYNC),
        (fdflags::NONBLOCK, libc::O_NONBLOCK),
        (fdflags::RSYNC, libc::O_RSYNC),
        (fdflags::SYNC, libc::O_SYNC),
    ] {
        if flags & wasi != 0 {
            host |= bits as u32;
        }
    }
    host
}

/// The WASI fdflags of host `O_*` bits. Linux defines O_RSYNC as O_SYNC, and O_SYNC includes
/// the O_DSYNC bit, so a SYNC file reports DSYNC|RSYNC|SYNC.
fn wasi_fdflags(host: u32) -> u16 {
    let has = |bits: i32| host & bits as u32 == bits as u32;
    let mut flags = 0;
    for (bits, wasi) in [
        (libc::O_APPEND, fdflags::APPEND),
        (libc::O_DSYNC, fdflags::DSYNC),
        (libc::O_NONBLOCK, fdflags::NONBLOCK),
        (libc::O_RSYNC, fdflags::RSYNC),
        (libc::O_SYNC, fdflags::SYNC),
    ] {
        if has(bits) {
            flags |= wasi;
        }
    }
    flags
}

/// Writes a byte count as the guest's u32 (see [`sock::count`]).
fn write_size(mem: &mut GuestMemory<'_>, ptr: u32, n: usize) -> Result<()> {
    mem.write(ptr, sock::count(n))?;
    Ok(())
}

/// Retries an operation that a signal interrupted.
fn retry_eintr<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// The descriptor for a positional call (seek, tell, pread, pwrite) holding `need`. Sockets,
/// streams that lack the rights, and streams that could block (which pread and pwrite would
/// do in the kernel) are not seekable: ESPIPE, as POSIX says.
fn seekable(cx: &Ctx, fd: u32, need: u64) -> Result<Arc<Descriptor>> {
    let d = cx.get(fd, 0)?;
    match &d.kind {
        Kind::Socket(_) => return Err(Errno::Spipe.into()),
        Kind::File(f) if f.mode != IoMode::Direct => return Err(Errno::Spipe.into()),
        Kind::File(f) if f.filetype != Filetype::RegularFile && d.require(need).is_err() => {
            return Err(Errno::Spipe.into());
        }
        _ => d.require(need)?,
    }
    Ok(d)
}

/// Syncs a directory. Directory capabilities may be `O_PATH` fds, which cannot be synced, so
/// the directory is opened again (read-only, through cap-std) for the call.
fn sync_dir(dir: &Dir) -> Result<()> {
    let again = dir.dir.open(".").map_err(fs_errno)?;
    again.sync_all()?;
    Ok(())
}

/// `fd_advise`: passes the advice to `posix_fadvise`.
pub fn fd_advise(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> Result<()> {
    use rustix::fs::Advice;
    let d = cx.get(fd, rights::FD_ADVISE)?;
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return Err(Errno::Inval.into()),
    };
    match &d.kind {
        Kind::File(f) => Ok(rustix::fs::fadvise(&f.file, offset, NonZeroU64::new(len), advice)?),
        // Advice about a directory's data means nothing; Linux accepts and ignores it too.
        Kind::Dir(_) => Ok(()),
        Kind::Socket(_) => Err(Errno::Spipe.into()),
    }
}

/// `fd_allocate`: `posix_fallocate` semantics (the file grows to `offset + len` if shorter).
pub fn fd_allocate(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, offset: u64, len: u64) -> Result<()> {
    let d = cx.get(fd, rights::FD_ALLOCATE)?;
    let f = d.as_file()?;
    rustix::fs::fallocate(&f.file, rustix::fs::FallocateFlags::empty(), offset, len)?;
    Ok(())
}

/// `fd_close`. Closing a preopen is allowed (the guest loses that directory).
pub fn fd_close(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
    let closed = cx.table().remove(fd)?;
    close(cx, closed)
}

/// Closes what the guest took out of the table (fd_close, the target of fd_renumber), after
/// the table lock is released. A call still using it keeps it open until that call returns.
/// If this was the last reference to a lingering socket, waits as its close(2) would, but
/// interruptibly ([`Socket::linger_before_close`](crate::net::Socket::linger_before_close)).
fn close(cx: &Ctx, closed: Arc<Descriptor>) -> Result<()> {
    if let Ok(last) = Arc::try_unwrap(closed)
        && let Kind::Socket(s) = &last.kind
    {
        s.linger_before_close(cx)?;
    }
    Ok(())
}

/// `fd_datasync`.
pub fn fd_datasync(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
    let d = cx.get(fd, rights::FD_DATASYNC)?;
    match &d.kind {
        Kind::File(f) => f.file.sync_data()?,
        Kind::Dir(dir) => sync_dir(dir)?,
        Kind::Socket(_) => return Err(Errno::Inval.into()),
    }
    Ok(())
}

/// `fd_fdstat_get`: file type, fdflags and rights.
pub fn fd_fdstat_get(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    let d = cx.get(fd, 0)?;
    let flags = match &d.kind {
        // The host's NONBLOCK is wasock's choice (crate::stream); the guest sees its own.
        Kind::File(f) => {
            let host = wasi_fdflags(rustix::fs::fcntl_getfl(&f.file)?.bits()) & !fdflags::NONBLOCK;
            if f.is_nonblocking() { host | fdflags::NONBLOCK } else { host }
        }
        Kind::Dir(_) => 0,
        Kind::Socket(s) if s.is_nonblocking() => fdflags::NONBLOCK,
        Kind::Socket(_) => 0,
    };
    let (rights_base, rights_inheriting) = d.rights();
    Fdstat { filetype: d.filetype(), flags, rights_base, rights_inheriting }.write(mem, out)?;
    Ok(())
}

/// `fd_fdstat_set_flags`. Files: APPEND via `F_SETFL`; Linux cannot change the
/// synchronisation flags after open, so asking for a different set is EINVAL. NONBLOCK, on
/// files and sockets, is the guest's own flag: the host fd keeps the mode wasock chose, and a
/// stdio fd shared with the parent's shell is never changed. Directories: no-op.
pub fn fd_fdstat_set_flags(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, flags: u32) -> Result<()> {
    let d = cx.get(fd, rights::FD_FDSTAT_SET_FLAGS)?;
    let flags = u16::try_from(flags).ok().filter(|f| f & !ALL_FDFLAGS == 0).ok_or(Errno::Inval)?;
    match &d.kind {
        Kind::File(f) => {
            let current = rustix::fs::fcntl_getfl(&f.file)?.bits();
            if host_oflags(flags) & HOST_SYNC_MASK != current & HOST_SYNC_MASK {
                return Err(Errno::Inval.into());
            }
            let append = libc::O_APPEND as u32;
            let wanted = (current & !append) | (host_oflags(flags) & append);
            if wanted != current {
                rustix::fs::fcntl_setfl(&f.file, OFlags::from_bits_retain(wanted))?;
            }
            f.set_nonblocking(flags & fdflags::NONBLOCK != 0);
        }
        Kind::Dir(_) => {}
        Kind::Socket(s) => s.set_nonblocking(flags & fdflags::NONBLOCK != 0),
    }
    Ok(())
}

/// `fd_fdstat_set_rights`: rights can only be dropped, never gained (ENOTCAPABLE).
pub fn fd_fdstat_set_rights(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> Result<()> {
    cx.get(fd, 0)?.narrow_rights(base, inheriting)?;
    Ok(())
}

/// The filestat of an open descriptor (also used by the `wasi_unstable` layout).
pub(crate) fn fd_filestat(cx: &Ctx, fd: u32) -> Result<Filestat> {
    let d = cx.get(fd, rights::FD_FILESTAT_GET)?;
    let mut st = filestat_from_stat(&rustix::fs::fstat(host_fd(&d))?);
    if let Kind::Socket(s) = &d.kind {
        // fstat cannot tell a datagram socket from a stream socket.
        st.filetype = s.filetype() as u8;
    }
    Ok(st)
}

/// `fd_filestat_get`.
pub fn fd_filestat_get(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    fd_filestat(cx, fd)?.write(mem, out)?;
    Ok(())
}

/// `fd_filestat_set_size`: truncates or extends (with zeros).
pub fn fd_filestat_set_size(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, size: u64) -> Result<()> {
    let d = cx.get(fd, rights::FD_FILESTAT_SET_SIZE)?;
    d.as_file()?.file.set_len(size)?;
    Ok(())
}

/// `fd_filestat_set_times`.
pub fn fd_filestat_set_times(
    cx: &Ctx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::FD_FILESTAT_SET_TIMES)?;
    let (atime, mtime) = time_specs(atim, mtim, fst_flags)?;
    match &d.kind {
        // Directory capabilities may be O_PATH fds, on which futimens fails; cap-std sets the
        // times of "." relative to it instead.
        Kind::Dir(dir) => {
            cap_fs_ext::DirExt::set_times(&dir.dir, ".", atime.to_cap(), mtime.to_cap()).map_err(fs_errno)?
        }
        _ => rustix::fs::futimens(
            host_fd(&d),
            &rustix::fs::Timestamps {
                last_access: atime.to_timespec(),
                last_modification: mtime.to_timespec(),
            },
        )?,
    }
    Ok(())
}

/// `fd_pread`: reads at `offset` without moving the file offset.
pub fn fd_pread(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nread: u32,
) -> Result<()> {
    let d = seekable(cx, fd, rights::FD_READ | rights::FD_SEEK)?;
    let f = d.as_file()?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    if offset > i64::MAX as u64 {
        return Err(Errno::Inval.into());
    }
    let n = mem.scatter(&iovs, |bufs| Ok(retry_eintr(|| Ok(rustix::io::preadv(&f.file, bufs, offset)?))?))?;
    write_size(mem, nread, n)
}

/// `fd_prestat_get`: `$prestat` is a tag byte (0 = dir) and the name length at offset 4.
pub fn fd_prestat_get(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    let d = cx.get(fd, 0)?;
    let Kind::Dir(Dir { preopen: Some(name), .. }) = &d.kind else {
        return Err(Errno::Badf.into());
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NameTooLong)?;
    let mut b = [0u8; 8];
    b[4..].copy_from_slice(&len.to_le_bytes());
    mem.write_bytes(out, &b)?;
    Ok(())
}

/// `fd_prestat_dir_name`: the preopen's name, not NUL-terminated. A buffer shorter than the
/// name is ENAMETOOLONG (as wasmtime), so the guest never sees a cut name.
pub fn fd_prestat_dir_name(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Result<()> {
    let d = cx.get(fd, 0)?;
    let Kind::Dir(Dir { preopen: Some(name), .. }) = &d.kind else {
        return Err(Errno::Badf.into());
    };
    if (path_len as usize) < name.len() {
        return Err(Errno::NameTooLong.into());
    }
    mem.write_bytes(path, name.as_bytes())?;
    Ok(())
}

/// `fd_pwrite`: writes at `offset` without moving the file offset. As on Linux, a file
/// opened with APPEND appends whatever the offset.
pub fn fd_pwrite(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nwritten: u32,
) -> Result<()> {
    let d = seekable(cx, fd, rights::FD_WRITE | rights::FD_SEEK)?;
    let f = d.as_file()?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    if offset > i64::MAX as u64 {
        return Err(Errno::Inval.into());
    }
    mem.check(nwritten, 4)?;
    // A shared memory's buffers may be written in several rounds, each after the last.
    let mut at = offset;
    let n = mem.gather(&iovs, |bufs| {
        let n = retry_eintr(|| Ok(rustix::io::pwritev(&f.file, bufs, at)?))?;
        at = at.saturating_add(n as u64);
        Ok(n)
    })?;
    write_size(mem, nwritten, n)
}

/// `fd_read`: files with readv, streams through [`stream::read`] (waiting for input
/// interruptibly), sockets with recvmsg.
pub fn fd_read(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nread: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::FD_READ)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    // Checked before reading: data taken from a pipe or socket could not be given back.
    mem.check(nread, 4)?;
    let n = match &d.kind {
        Kind::File(f) => mem.scatter(&iovs, |bufs| stream::read(cx, f, bufs))?,
        // read(2) on a socket is recv(2) without flags.
        Kind::Socket(s) => sock::receive(cx, s, mem, &iovs, sock::RecvOpts::default(), false)?.bytes,
        Kind::Dir(_) => return Err(Errno::IsDir.into()),
    };
    write_size(mem, nread, n)
}

/// `fd_readdir`: fills `buf` with dirents from the `cookie`-th entry on.
///
/// The directory is read afresh on each call and `cookie` entries are skipped (as wasmtime
/// does), so a cookie is simply an index: 0 is ".", 1 is "..", then the host's order. The last
/// entry may be cut at the end of the buffer; `bufused == buf_len` tells the guest to call
/// again. ".." carries the directory's own inode: its real parent may lie outside the sandbox.
pub fn fd_readdir(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    bufused: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::FD_READDIR)?;
    let dir = d.as_dir()?;
    mem.check(bufused, 4)?;
    mem.check(buf, buf_len)?;
    let capacity = buf_len as usize;
    let self_ino = rustix::fs::fstat(&dir.dir)?.st_ino as u64;
    let dots =
        [(b".".to_vec(), self_ino, Filetype::Directory), (b"..".to_vec(), self_ino, Filetype::Directory)]
            .into_iter()
            .map(Ok);
    let entries = dir.dir.entries().map_err(fs_errno)?.map(|entry| {
        let entry = entry.map_err(fs_errno)?;
        let filetype = filetype_of(entry.file_type().map_err(fs_errno)?);
        Ok::<_, Errno>((entry.file_name().as_bytes().to_vec(), entry.ino(), filetype))
    });
    let skip = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut used = 0usize;
    for (index, entry) in dots.chain(entries).enumerate().skip(skip) {
        if used == capacity {
            break;
        }
        let (name, ino, filetype) = entry?;
        let header = Dirent {
            next: index as u64 + 1,
            ino,
            namlen: u32::try_from(name.len()).map_err(|_| Errno::NameTooLong)?,
            filetype: filetype as u8,
        }
        .to_bytes();
        for part in [&header[..], &name[..]] {
            let take = part.len().min(capacity - used);
            if take > 0 {
                // In bounds: used + take <= buf_len, and the whole buffer was checked.
                mem.write_bytes(memory::offset(buf, used)?, &part[..take])?;
            }
            used += take;
        }
    }
    write_size(mem, bufused, used)
}

/// `fd_renumber`: moves `fd` onto `to`, closing what was there. Both must be open.
pub fn fd_renumber(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32, to: u32) -> Result<()> {
    let displaced = cx.table().renumber(fd, to)?;
    match displaced {
        Some(d) => close(cx, d),
        None => Ok(()),
    }
}

/// Moves the file offset; `whence` is a preview 1 `$whence`. Returns the new offset. Also
/// used by the `wasi_unstable` fd_seek after mapping its whence values.
pub(crate) fn seek(cx: &Ctx, fd: u32, offset: i64, whence: u32) -> Result<u64> {
    let need = if offset == 0 && whence == whence::CUR as u32 { rights::FD_TELL } else { rights::FD_SEEK };
    let d = seekable(cx, fd, need)?;
    let f = d.as_file()?;
    let pos = match u8::try_from(whence) {
        Ok(whence::SET) => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        Ok(whence::CUR) => SeekFrom::Current(offset),
        Ok(whence::END) => SeekFrom::End(offset),
        _ => return Err(Errno::Inval.into()),
    };
    Ok(rustix::fs::seek(&f.file, pos)?)
}

/// `fd_seek`. A resulting negative offset is EINVAL (from the host).
pub fn fd_seek(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    whence: u32,
    newoffset: u32,
) -> Result<()> {
    mem.check(newoffset, 8)?;
    let pos = seek(cx, fd, offset as i64, whence)?;
    mem.write(newoffset, pos)?;
    Ok(())
}

/// `fd_sync`.
pub fn fd_sync(cx: &Ctx, _mem: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
    let d = cx.get(fd, rights::FD_SYNC)?;
    match &d.kind {
        Kind::File(f) => f.file.sync_all()?,
        Kind::Dir(dir) => sync_dir(dir)?,
        Kind::Socket(_) => return Err(Errno::Inval.into()),
    }
    Ok(())
}

/// `fd_tell`.
pub fn fd_tell(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    mem.check(out, 8)?;
    let pos = seek(cx, fd, 0, whence::CUR as u32)?;
    mem.write(out, pos)?;
    Ok(())
}

/// `fd_write`: files with writev, streams through [`stream::write`] (everything, for a
/// blocking guest), sockets as `sock_send` does (MSG_NOSIGNAL: a reset peer is EPIPE, never
/// SIGPIPE).
pub fn fd_write(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nwritten: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::FD_WRITE)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nwritten, 4)?;
    let n = match &d.kind {
        Kind::File(f) => mem.gather(&iovs, |bufs| stream::write(cx, f, bufs))?,
        // write(2) on a socket is send(2): everything, on a blocking stream socket.
        Kind::Socket(s) => mem.gather(&iovs, |bufs| sock::send(cx, s, bufs, false))?,
        Kind::Dir(_) => return Err(Errno::Badf.into()),
    };
    write_size(mem, nwritten, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{fstflags, oflags};
    use crate::ctx::CtxBuilder;
    use crate::errno::Error;
    use crate::memory::MAX_IOVECS;
    use crate::p1::fs_util::testing::*;
    use std::io::{Read, Write};
    use std::time::Duration;

    const CREATE: u16 = oflags::CREAT;

    fn new_file(cx: &Ctx, mem: &mut GuestMemory<'_>, name: &str, content: &[u8]) -> u32 {
        let fd = open(cx, mem, name, CREATE | oflags::TRUNC, RW, 0).unwrap();
        assert_eq!(write(cx, mem, fd, content).unwrap() as usize, content.len());
        fd
    }

    fn seek_to(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, offset: i64, whence: u8) -> Result<u64> {
        fd_seek(cx, mem, fd, offset as u64, whence as u32, OUT2)?;
        Ok(mem.read::<u64>(OUT2).unwrap())
    }

    fn tell(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32) -> u64 {
        fd_tell(cx, mem, fd, OUT2).unwrap();
        mem.read::<u64>(OUT2).unwrap()
    }

    fn fdflags_of(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32) -> u16 {
        fd_fdstat_get(cx, mem, fd, OUT2).unwrap();
        mem.read::<u16>(OUT2 + 2).unwrap()
    }

    /// (filetype, size, atim, mtim) from fd_filestat_get.
    fn stat(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32) -> (u8, u64, u64, u64) {
        fd_filestat_get(cx, mem, fd, OUT2).unwrap();
        let at = |o| mem.read::<u64>(OUT2 + o).unwrap();
        (mem.read::<u8>(OUT2 + 16).unwrap(), at(32), at(40), at(48))
    }

    /// A context whose stdin is the read end of a fresh pipe; returns the write end too.
    fn with_stdin_pipe() -> (Ctx, std::fs::File) {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let cx = CtxBuilder::new().stdio(0, std::fs::File::from(r)).build().unwrap();
        (cx, std::fs::File::from(w))
    }

    fn push_socket(cx: &Ctx, s: socket2::Socket) -> u32 {
        cx.push(Descriptor::new(Kind::Socket(crate::net::Socket::new(s, true).unwrap()))).unwrap()
    }

    #[test]
    fn write_seek_tell_read() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "f.txt", b"hello world");
        assert_eq!(tell(&cx, mem, fd), 11);
        assert_eq!(seek_to(&cx, mem, fd, 0, whence::SET).unwrap(), 0);
        assert_eq!(read(&cx, mem, fd, 5).unwrap(), b"hello");
        assert_eq!(seek_to(&cx, mem, fd, 1, whence::CUR).unwrap(), 6);
        assert_eq!(read(&cx, mem, fd, 100).unwrap(), b"world");
        assert_eq!(read(&cx, mem, fd, 100).unwrap(), b"", "end of file reads 0 bytes");
        assert_eq!(seek_to(&cx, mem, fd, -5, whence::END).unwrap(), 6);
        assert_eq!(errno(seek_to(&cx, mem, fd, -1, whence::SET)), Errno::Inval);
        assert_eq!(errno(seek_to(&cx, mem, fd, -100, whence::CUR)), Errno::Inval);
        assert_eq!(errno(seek_to(&cx, mem, fd, 0, 3)), Errno::Inval);
        assert_eq!(tell(&cx, mem, fd), 6, "failed seeks leave the offset alone");
        assert!(trapped(fd_seek(&cx, mem, fd, 0, 0, WILD)));
        assert!(trapped(fd_tell(&cx, mem, fd, WILD)));
        assert_eq!(errno(fd_tell(&cx, mem, 77, OUT)), Errno::Badf);
    }

    #[test]
    fn vectored_io_scatters_and_gathers_in_order() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = open(&cx, mem, "v", CREATE, RW, 0).unwrap();
        mem.write_bytes(BUF, b"abc").unwrap();
        mem.write_bytes(BUF + 100, b"defg").unwrap();
        for (i, (buf, len)) in [(BUF, 3u32), (BUF + 100, 4)].into_iter().enumerate() {
            mem.write(IOV + 8 * i as u32, buf).unwrap();
            mem.write(IOV + 8 * i as u32 + 4, len).unwrap();
        }
        fd_write(&cx, mem, fd, IOV, 2, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 7);
        seek_to(&cx, mem, fd, 0, whence::SET).unwrap();
        for (i, (buf, len)) in [(BUF + 200, 2u32), (BUF + 300, 10)].into_iter().enumerate() {
            mem.write(IOV + 8 * i as u32, buf).unwrap();
            mem.write(IOV + 8 * i as u32 + 4, len).unwrap();
        }
        fd_read(&cx, mem, fd, IOV, 2, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 7);
        assert_eq!(mem.read_bytes(BUF + 200, 2).unwrap(), b"ab");
        assert_eq!(mem.read_bytes(BUF + 300, 5).unwrap(), b"cdefg");
    }

    #[test]
    fn buffers_ending_on_the_last_byte_of_4_gib_work_for_both_kinds() {
        // Guest addresses computed near the top of a 4 GiB memory must neither wrap nor trap
        // while they stay below 4 GiB.
        const FOUR_GIB: usize = 1 << 32;
        let top = |len: u32| (FOUR_GIB - len as usize) as u32;
        let (_tmp, cx) = sandbox();
        let mut region = crate::sys::LazyRegion::new(FOUR_GIB).unwrap();
        for shared in [false, true] {
            region.reset().unwrap();
            let mem = &mut region.memory(FOUR_GIB, shared);
            let fd = new_file(&cx, mem, "top", b"0123456789");
            let put_iovecs = |mem: &mut GuestMemory<'_>, at: u32, bufs: [(u32, u32); 2]| {
                for (i, (buf, len)) in bufs.into_iter().enumerate() {
                    mem.write(at + 8 * i as u32, buf).unwrap();
                    mem.write(at + 8 * i as u32 + 4, len).unwrap();
                }
            };
            // The second buffer ends on the last byte.
            put_iovecs(mem, IOV, [(top(100), 4), (top(6), 6)]);
            fd_pread(&cx, mem, fd, IOV, 2, 0, OUT).unwrap();
            assert_eq!(mem.read::<u32>(OUT).unwrap(), 10);
            assert_eq!(mem.read_bytes(top(100), 4).unwrap(), b"0123");
            assert_eq!(mem.read_bytes(top(6), 6).unwrap(), b"456789");
            fd_pwrite(&cx, mem, fd, IOV, 2, 10, OUT).unwrap();
            // The iovec array, then nwritten, end on the last byte.
            put_iovecs(mem, top(16), [(BUF, 3), (BUF + 10, 2)]);
            mem.write_bytes(BUF, b"abc").unwrap();
            mem.write_bytes(BUF + 10, b"de").unwrap();
            fd_pwrite(&cx, mem, fd, top(16), 2, 20, top(4)).unwrap();
            assert_eq!(mem.read::<u32>(top(4)).unwrap(), 5);
            seek_to(&cx, mem, fd, 0, whence::SET).unwrap();
            assert_eq!(read(&cx, mem, fd, 100).unwrap(), b"01234567890123456789abcde");
            assert!(trapped(fd_read(&cx, mem, fd, top(15), 2, OUT)), "an iovec array past 4 GiB");
            put_iovecs(mem, IOV, [(BUF, 1), (top(5), 6)]);
            assert!(trapped(fd_read(&cx, mem, fd, IOV, 2, OUT)), "a buffer past 4 GiB");

            // readdir into the last 40 bytes: the same bytes as into a buffer lower down.
            fd_readdir(&cx, mem, ROOT, BUF, 40, 0, OUT).unwrap();
            fd_readdir(&cx, mem, ROOT, top(40), 40, 0, top(44)).unwrap();
            assert_eq!(mem.read::<u32>(top(44)).unwrap(), 40);
            assert_eq!(mem.read_bytes(top(40), 40).unwrap(), mem.read_bytes(BUF, 40).unwrap());
            assert!(trapped(fd_readdir(&cx, mem, ROOT, top(40), 41, 0, OUT)));
            fd_close(&cx, mem, fd).unwrap();
        }
    }

    #[test]
    fn bad_iovecs_and_out_pointers() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "f", b"data");
        let many = MAX_IOVECS + 1;
        assert_eq!(errno(fd_read(&cx, mem, fd, IOV, many, OUT)), Errno::Inval);
        assert_eq!(errno(fd_write(&cx, mem, fd, IOV, many, OUT)), Errno::Inval);
        assert_eq!(errno(fd_pread(&cx, mem, fd, IOV, many, 0, OUT)), Errno::Inval);
        assert_eq!(errno(fd_pwrite(&cx, mem, fd, IOV, many, 0, OUT)), Errno::Inval);
        // An iovec array past the end, and a buffer past the end.
        assert!(trapped(fd_read(&cx, mem, fd, WILD, 1, OUT)));
        assert!(trapped(fd_write(&cx, mem, fd, u32::MAX, 1000, OUT)));
        mem.write(IOV, BUF).unwrap();
        mem.write(IOV + 4, u32::MAX).unwrap();
        assert!(trapped(fd_read(&cx, mem, fd, IOV, 1, OUT)));
        assert!(trapped(fd_write(&cx, mem, fd, IOV, 1, OUT)));
        assert!(trapped(fd_pread(&cx, mem, fd, IOV, 1, 0, OUT)));
        assert!(trapped(fd_pwrite(&cx, mem, fd, IOV, 1, 0, OUT)));
        // Result pointers past the end.
        mem.write(IOV + 4, 4u32).unwrap();
        assert!(trapped(fd_read(&cx, mem, fd, IOV, 1, WILD)));
        assert!(trapped(fd_write(&cx, mem, fd, IOV, 1, WILD)));
        assert!(trapped(fd_pread(&cx, mem, fd, IOV, 1, 0, WILD)));
        assert!(trapped(fd_pwrite(&cx, mem, fd, IOV, 1, 0, WILD)));
        assert!(trapped(fd_fdstat_get(&cx, mem, fd, WILD)));
        assert!(trapped(fd_filestat_get(&cx, mem, fd, WILD)));
        assert!(trapped(fd_prestat_get(&cx, mem, ROOT, WILD)));
        assert!(trapped(fd_prestat_dir_name(&cx, mem, ROOT, WILD, 100)));
        assert!(trapped(fd_readdir(&cx, mem, ROOT, BUF, 100, 0, WILD)));
        assert!(trapped(fd_readdir(&cx, mem, ROOT, WILD, 100, 0, OUT)));
        assert!(trapped(fd_readdir(&cx, mem, ROOT, BUF, u32::MAX, 0, OUT)));
        // A huge offset is refused rather than wrapped into a negative one.
        assert_eq!(errno(fd_pread(&cx, mem, fd, IOV, 1, u64::MAX, OUT)), Errno::Inval);
        // The file is intact after all this.
        seek_to(&cx, mem, fd, 0, whence::SET).unwrap();
        assert_eq!(read(&cx, mem, fd, 100).unwrap(), b"data");
    }

    #[test]
    fn pread_and_pwrite_leave_the_offset_alone() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "p", b"abcdef");
        seek_to(&cx, mem, fd, 2, whence::SET).unwrap();
        mem.write_bytes(BUF, b"XY").unwrap();
        mem.write(IOV, BUF).unwrap();
        mem.write(IOV + 4, 2u32).unwrap();
        fd_pwrite(&cx, mem, fd, IOV, 1, 0, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 2);
        mem.write(IOV, BUF + 16).unwrap();
        mem.write(IOV + 4, 3u32).unwrap();
        fd_pread(&cx, mem, fd, IOV, 1, 3, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 3);
        assert_eq!(mem.read_bytes(BUF + 16, 3).unwrap(), b"def");
        assert_eq!(tell(&cx, mem, fd), 2);
        assert_eq!(read(&cx, mem, fd, 10).unwrap(), b"cdef");
        seek_to(&cx, mem, fd, 0, whence::SET).unwrap();
        assert_eq!(read(&cx, mem, fd, 10).unwrap(), b"XYcdef");
    }

    #[test]
    fn pwrite_on_an_append_file_appends_as_linux_does() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("log"), b"123").unwrap();
        let fd = open(&cx, mem, "log", 0, RW, fdflags::APPEND).unwrap();
        mem.write_bytes(BUF, b"ab").unwrap();
        mem.write(IOV, BUF).unwrap();
        mem.write(IOV + 4, 2u32).unwrap();
        fd_pwrite(&cx, mem, fd, IOV, 1, 0, OUT).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("log")).unwrap(), b"123ab");
        write(&cx, mem, fd, b"!").unwrap();
        assert_eq!(std::fs::read(tmp.path().join("log")).unwrap(), b"123ab!");
    }

    #[test]
    fn fdstat_reports_and_sets_flags() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = open(&cx, mem, "a", CREATE, RW, fdflags::APPEND).unwrap();
        fd_fdstat_get(&cx, mem, fd, OUT).unwrap();
        assert_eq!(mem.read::<u8>(OUT).unwrap(), Filetype::RegularFile as u8);
        assert_eq!(mem.read::<u16>(OUT + 2).unwrap(), fdflags::APPEND);
        fd_fdstat_set_flags(&cx, mem, fd, fdflags::NONBLOCK as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, fd), fdflags::NONBLOCK);
        fd_fdstat_set_flags(&cx, mem, fd, (fdflags::APPEND | fdflags::NONBLOCK) as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, fd), fdflags::APPEND | fdflags::NONBLOCK);
        assert_eq!(errno(fd_fdstat_set_flags(&cx, mem, fd, fdflags::SYNC as u32)), Errno::Inval);
        assert_eq!(errno(fd_fdstat_set_flags(&cx, mem, fd, 1 << 5)), Errno::Inval);
        assert_eq!(errno(fd_fdstat_set_flags(&cx, mem, fd, 1 << 16)), Errno::Inval);
        assert_eq!(fdflags_of(&cx, mem, fd), fdflags::APPEND | fdflags::NONBLOCK);

        let dsync = open(&cx, mem, "d", CREATE, RW, fdflags::DSYNC).unwrap();
        assert_eq!(fdflags_of(&cx, mem, dsync), fdflags::DSYNC);
        // Passing back the flags it has is fine; asking for SYNC is not possible after open.
        fd_fdstat_set_flags(&cx, mem, dsync, (fdflags::DSYNC | fdflags::APPEND) as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, dsync), fdflags::DSYNC | fdflags::APPEND);
        assert_eq!(errno(fd_fdstat_set_flags(&cx, mem, dsync, fdflags::SYNC as u32)), Errno::Inval);
        let sync = open(&cx, mem, "s", CREATE, RW, fdflags::SYNC).unwrap();
        let reported = fdflags_of(&cx, mem, sync);
        assert_eq!(reported & fdflags::SYNC, fdflags::SYNC);
        fd_fdstat_set_flags(&cx, mem, sync, reported as u32).unwrap();

        // A directory accepts and ignores flags.
        fd_fdstat_set_flags(&cx, mem, ROOT, fdflags::NONBLOCK as u32).unwrap();
        fd_fdstat_get(&cx, mem, ROOT, OUT).unwrap();
        assert_eq!(mem.read::<u8>(OUT).unwrap(), Filetype::Directory as u8);
        assert_eq!(mem.read::<u64>(OUT + 8).unwrap(), rights::DIRECTORY);
        assert_eq!(errno(fd_fdstat_get(&cx, mem, 99, OUT)), Errno::Badf);
    }

    #[test]
    fn rights_only_narrow_and_are_enforced() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "r", b"x");
        let base = rights::FD_READ | rights::FD_SEEK | rights::FD_TELL;
        fd_fdstat_set_rights(&cx, mem, fd, base, 0).unwrap();
        fd_fdstat_get(&cx, mem, fd, OUT).unwrap();
        assert_eq!(mem.read::<u64>(OUT + 8).unwrap(), base);
        assert_eq!(mem.read::<u64>(OUT + 16).unwrap(), 0);
        assert_eq!(errno(write(&cx, mem, fd, b"y")), Errno::NotCapable);
        assert_eq!(errno(fd_filestat_set_size(&cx, mem, fd, 0)), Errno::NotCapable);
        assert_eq!(errno(fd_fdstat_set_rights(&cx, mem, fd, base | rights::FD_WRITE, 0)), Errno::NotCapable);
        assert_eq!(errno(fd_fdstat_set_rights(&cx, mem, fd, base, 1)), Errno::NotCapable);
        seek_to(&cx, mem, fd, 0, whence::SET).unwrap();
        assert_eq!(read(&cx, mem, fd, 4).unwrap(), b"x");
        // fd_tell needs only FD_TELL, any other seek FD_SEEK.
        fd_fdstat_set_rights(&cx, mem, fd, rights::FD_TELL, 0).unwrap();
        assert_eq!(tell(&cx, mem, fd), 1);
        assert_eq!(errno(seek_to(&cx, mem, fd, 0, whence::SET)), Errno::NotCapable);
    }

    #[test]
    fn filestat_sizes_and_times() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "t", b"12345");
        let (ft, size, _, _) = stat(&cx, mem, fd);
        assert_eq!((ft, size), (Filetype::RegularFile as u8, 5));
        fd_filestat_set_size(&cx, mem, fd, 2).unwrap();
        assert_eq!(stat(&cx, mem, fd).1, 2);
        fd_filestat_set_size(&cx, mem, fd, 10).unwrap();
        assert_eq!(stat(&cx, mem, fd).1, 10);

        let (atim, mtim) = (1_000_000_000_123_456_789u64, 1_100_000_000_987_654_321u64);
        let both = (fstflags::ATIM | fstflags::MTIM) as u32;
        fd_filestat_set_times(&cx, mem, fd, atim, mtim, both).unwrap();
        let (_, _, a, m) = stat(&cx, mem, fd);
        assert_eq!((a, m), (atim, mtim));
        // Only the mtime, to "now": the atime stays.
        fd_filestat_set_times(&cx, mem, fd, 0, 0, fstflags::MTIM_NOW as u32).unwrap();
        let (_, _, a, m) = stat(&cx, mem, fd);
        assert_eq!(a, atim);
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert!(m.abs_diff(now) < 60_000_000_000, "mtime {m} should be close to now {now}");
        let bad = (fstflags::ATIM | fstflags::ATIM_NOW) as u32;
        assert_eq!(errno(fd_filestat_set_times(&cx, mem, fd, 1, 1, bad)), Errno::Inval);
        assert_eq!(errno(fd_filestat_set_times(&cx, mem, fd, 1, 1, 1 << 4)), Errno::Inval);

        // Directories, including an O_PATH preopen.
        assert_eq!(stat(&cx, mem, ROOT).0, Filetype::Directory as u8);
        fd_filestat_set_times(&cx, mem, ROOT, atim, mtim, both).unwrap();
        let (_, _, a, m) = stat(&cx, mem, ROOT);
        assert_eq!((a, m), (atim, mtim));
        assert_eq!(errno(fd_filestat_set_size(&cx, mem, ROOT, 0)), Errno::NotCapable);
    }

    #[test]
    fn prestat_describes_preopens_only() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        mem.write_bytes(OUT, &[0xee; 8]).unwrap();
        fd_prestat_get(&cx, mem, ROOT, OUT).unwrap();
        assert_eq!(mem.read_bytes(OUT, 8).unwrap(), &[0, 0, 0, 0, 8, 0, 0, 0]);
        assert_eq!(errno(fd_prestat_dir_name(&cx, mem, ROOT, BUF, 7)), Errno::NameTooLong);
        mem.write_bytes(BUF, b"#########").unwrap();
        fd_prestat_dir_name(&cx, mem, ROOT, BUF, 8).unwrap();
        assert_eq!(mem.read_bytes(BUF, 9).unwrap(), b"/sandbox#");
        fd_prestat_dir_name(&cx, mem, ROOT, BUF, 100).unwrap();
        for fd in [0, 1, 2, 4, 1000] {
            assert_eq!(errno(fd_prestat_get(&cx, mem, fd, OUT)), Errno::Badf, "fd {fd}");
            assert_eq!(errno(fd_prestat_dir_name(&cx, mem, fd, BUF, 100)), Errno::Badf);
        }
        // A directory opened below the preopen is not a preopen.
        let sub = open(&cx, mem, ".", oflags::DIRECTORY, rights::DIRECTORY, 0).unwrap();
        assert_eq!(errno(fd_prestat_get(&cx, mem, sub, OUT)), Errno::Badf);
    }

    #[test]
    fn close_and_renumber() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let a = new_file(&cx, mem, "a", b"A");
        let b = new_file(&cx, mem, "b", b"B");
        fd_renumber(&cx, mem, a, b).unwrap();
        assert_eq!(errno(fd_tell(&cx, mem, a, OUT)), Errno::Badf);
        seek_to(&cx, mem, b, 0, whence::SET).unwrap();
        assert_eq!(read(&cx, mem, b, 4).unwrap(), b"A", "b now refers to file a");
        assert_eq!(errno(fd_renumber(&cx, mem, b, 50)), Errno::Badf);
        assert_eq!(errno(fd_renumber(&cx, mem, 50, b)), Errno::Badf);
        fd_close(&cx, mem, b).unwrap();
        assert_eq!(errno(fd_close(&cx, mem, b)), Errno::Badf);
        // Closing the preopen takes the sandbox away.
        fd_close(&cx, mem, ROOT).unwrap();
        assert_eq!(errno(open(&cx, mem, "a", 0, RW, 0)), Errno::Badf);
    }

    fn readdir_all(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, buf_len: u32) -> Vec<(u64, u8, String)> {
        // Reads with a buffer of buf_len and restarts from the last whole entry, as wasi-libc does.
        let mut cookie = 0u64;
        let mut seen = Vec::new();
        for _ in 0..1000 {
            fd_readdir(cx, mem, fd, BUF, buf_len, cookie, OUT).unwrap();
            let used = mem.read::<u32>(OUT).unwrap();
            let mut at = 0u32;
            while at + Dirent::SIZE as u32 <= used {
                let next = mem.read::<u64>(BUF + at).unwrap();
                let namlen = mem.read::<u32>(BUF + at + 16).unwrap();
                let ft = mem.read::<u8>(BUF + at + 20).unwrap();
                let name_at = at + Dirent::SIZE as u32;
                if name_at + namlen > used {
                    break;
                }
                let name = String::from_utf8(mem.read_bytes(BUF + name_at, namlen).unwrap()).unwrap();
                seen.push((next, ft, name));
                cookie = next;
                at = name_at + namlen;
            }
            if used < buf_len {
                return seen;
            }
        }
        panic!("readdir did not finish");
    }

    #[test]
    fn readdir_lists_everything_with_cookies() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("a"), b"").unwrap();
        std::fs::write(tmp.path().join("a-much-longer-file-name"), b"").unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("a", tmp.path().join("link")).unwrap();
        let big = readdir_all(&cx, mem, ROOT, 4096);
        let mut names: Vec<_> = big.iter().map(|(_, ft, n)| (n.as_str(), *ft)).collect();
        names.sort();
        let dir = Filetype::Directory as u8;
        let expected = [
            (".", dir),
            ("..", dir),
            ("a", Filetype::RegularFile as u8),
            ("a-much-longer-file-name", Filetype::RegularFile as u8),
            ("link", Filetype::SymbolicLink as u8),
            ("sub", dir),
        ];
        assert_eq!(names, expected);
        assert_eq!(big.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=6).collect::<Vec<u64>>());
        assert_eq!(&big[0].2, ".");
        // A buffer that holds one long entry (24-byte header + 23-byte name) at a time, and
        // mostly cuts entries, still gets through them all.
        assert_eq!(readdir_all(&cx, mem, ROOT, 48), big);
        // The cut-off: a 30-byte buffer is filled completely, meaning "more".
        fd_readdir(&cx, mem, ROOT, BUF, 30, 0, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 30);
        // Past the end: nothing.
        fd_readdir(&cx, mem, ROOT, BUF, 4096, 6, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 0);
        fd_readdir(&cx, mem, ROOT, BUF, 4096, u64::MAX, OUT).unwrap();
        assert_eq!(mem.read::<u32>(OUT).unwrap(), 0);
        // d_ino matches the file's inode.
        let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(tmp.path().join("sub")).unwrap());
        fd_readdir(&cx, mem, ROOT, BUF, 4096, 0, OUT).unwrap();
        let used = mem.read::<u32>(OUT).unwrap();
        let mut at = 0;
        let mut found = false;
        while at < used {
            let namlen = mem.read::<u32>(BUF + at + 16).unwrap();
            if mem.read_bytes(BUF + at + 24, namlen).unwrap() == b"sub" {
                assert_eq!(mem.read::<u64>(BUF + at + 8).unwrap(), ino);
                found = true;
            }
            at += 24 + namlen;
        }
        assert!(found);
        let file = open(&cx, mem, "a", 0, RW, 0).unwrap();
        assert_eq!(errno(fd_readdir(&cx, mem, file, BUF, 100, 0, OUT)), Errno::NotCapable);
        fd_fdstat_set_rights(&cx, mem, file, rights::FD_READ, 0).unwrap();
        let sub = open(&cx, mem, "sub", oflags::DIRECTORY, rights::DIRECTORY, 0).unwrap();
        assert_eq!(readdir_all(&cx, mem, sub, 4096).len(), 2, "an empty directory has . and ..");
    }

    #[test]
    fn sync_advise_allocate() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = new_file(&cx, mem, "s", b"abc");
        fd_sync(&cx, mem, fd).unwrap();
        fd_datasync(&cx, mem, fd).unwrap();
        fd_sync(&cx, mem, ROOT).unwrap();
        assert_eq!(errno(fd_datasync(&cx, mem, ROOT)), Errno::NotCapable);
        fd_advise(&cx, mem, fd, 0, 0, 2).unwrap();
        fd_advise(&cx, mem, fd, 1, 100, 4).unwrap();
        assert_eq!(errno(fd_advise(&cx, mem, fd, 0, 0, 6)), Errno::Inval);
        assert_eq!(errno(fd_advise(&cx, mem, 99, 0, 0, 0)), Errno::Badf);
        fd_allocate(&cx, mem, fd, 0, 100).unwrap();
        assert_eq!(stat(&cx, mem, fd).1, 100);
        fd_allocate(&cx, mem, fd, 0, 10).unwrap();
        assert_eq!(stat(&cx, mem, fd).1, 100, "allocate never shrinks");
        assert_eq!(errno(fd_allocate(&cx, mem, fd, 0, 0)), Errno::Inval);
        assert_eq!(errno(fd_allocate(&cx, mem, ROOT, 0, 10)), Errno::NotCapable);
    }

    #[test]
    fn pipes_are_not_seekable_and_reads_wait_interruptibly() {
        let (cx, mut w) = with_stdin_pipe();
        let cx = Arc::new(cx);
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        assert_eq!(errno(seek_to(&cx, mem, 0, 0, whence::SET)), Errno::Spipe);
        assert_eq!(errno(fd_tell(&cx, mem, 0, OUT)), Errno::Spipe);
        assert_eq!(errno(fd_pread(&cx, mem, 0, IOV, 0, 0, OUT)), Errno::Spipe);
        w.write_all(b"in").unwrap();
        assert_eq!(read(&cx, mem, 0, 10).unwrap(), b"in");
        let stopper = {
            let cx = cx.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                cx.interrupt.trigger(Error::Trap(crate::errno::Trap("timeout".into())));
            })
        };
        let r = read(&cx, mem, 0, 10);
        stopper.join().unwrap();
        assert_eq!(r, Err(Error::Trap(crate::errno::Trap("timeout".into()))));
        drop(w);
    }

    #[test]
    fn a_closed_pipe_reads_end_of_file_and_a_nonblocking_one_says_again() {
        let (cx, w) = with_stdin_pipe();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        fd_fdstat_set_flags(&cx, mem, 0, fdflags::NONBLOCK as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, 0), fdflags::NONBLOCK);
        assert_eq!(errno(read(&cx, mem, 0, 10)), Errno::Again);
        fd_fdstat_set_flags(&cx, mem, 0, 0).unwrap();
        drop(w);
        assert_eq!(read(&cx, mem, 0, 10).unwrap(), b"");
    }

    #[test]
    fn writing_to_a_closed_pipe_is_epipe() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let cx = CtxBuilder::new().stdio(1, std::fs::File::from(w)).build().unwrap();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        assert_eq!(write(&cx, mem, 1, b"ok").unwrap(), 2);
        drop(r);
        assert_eq!(errno(write(&cx, mem, 1, b"lost")), Errno::Pipe);
    }

    #[test]
    fn sockets_read_write_and_honour_nonblock() {
        let (cx, _w) = with_stdin_pipe();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let (a, b) = socket2::Socket::pair(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        let fd = push_socket(&cx, a);
        let mut peer = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(b));
        assert_eq!(write(&cx, mem, fd, b"ping").unwrap(), 4);
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        peer.write_all(b"pong").unwrap();
        assert_eq!(read(&cx, mem, fd, 10).unwrap(), b"pong");
        assert_eq!(fdflags_of(&cx, mem, fd), 0);
        fd_fdstat_set_flags(&cx, mem, fd, fdflags::NONBLOCK as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, fd), fdflags::NONBLOCK);
        assert_eq!(errno(read(&cx, mem, fd, 10)), Errno::Again);
        assert_eq!(errno(seek_to(&cx, mem, fd, 0, whence::SET)), Errno::Spipe);
        assert_eq!(errno(fd_tell(&cx, mem, fd, OUT)), Errno::Spipe);
        assert_eq!(stat(&cx, mem, fd).0, Filetype::SocketStream as u8);
        drop(peer);
        assert_eq!(read(&cx, mem, fd, 10).unwrap(), b"", "orderly close reads 0");
        assert_eq!(errno(write(&cx, mem, fd, b"x")), Errno::Pipe);
    }

    #[test]
    fn a_reset_tcp_peer_is_econnreset() {
        let (cx, _w) = with_stdin_pipe();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let fd = push_socket(&cx, socket2::Socket::from(client));
        let server = socket2::Socket::from(server);
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(errno(read(&cx, mem, fd, 10)), Errno::ConnReset);
    }

    #[test]
    fn directories_are_not_files() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let sub = open(&cx, mem, ".", oflags::DIRECTORY, rights::DIRECTORY | rights::FD_READ, 0).unwrap();
        fd_fdstat_get(&cx, mem, sub, OUT).unwrap();
        assert_eq!(mem.read::<u64>(OUT + 8).unwrap() & rights::FD_READ, 0, "a directory gets no FD_READ");
        let d = Descriptor::with_rights(
            Kind::Dir(Dir {
                dir: cap_std::fs::Dir::open_ambient_dir(".", cap_std::ambient_authority()).unwrap(),
                preopen: None,
            }),
            rights::ALL,
            0,
        );
        let all = cx.push(d).unwrap();
        assert_eq!(errno(read(&cx, mem, all, 4)), Errno::IsDir);
        assert_eq!(errno(write(&cx, mem, all, b"x")), Errno::Badf);
        assert_eq!(errno(seek_to(&cx, mem, all, 0, whence::SET)), Errno::IsDir);
    }

    /// Runs `op` on another thread and returns its result, or None if it takes longer than
    /// `limit` (the thread is then left to finish by itself).
    fn within<T: Send + 'static>(limit: Duration, op: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(op());
        });
        rx.recv_timeout(limit).ok()
    }

    fn stop(cx: &Ctx) {
        cx.interrupt.trigger(Error::Trap(crate::errno::Trap("stop".into())));
    }

    /// fd_close (`renumber` false) or fd_renumber onto it of a socket that lingers 5 s with a
    /// peer that reads nothing: other threads can use the table meanwhile, and the wait ends
    /// as soon as the instance is stopped.
    fn lingering_close_is_interruptible_and_holds_no_lock(renumber: bool) {
        let (ours, _peer) = crate::net::testing::lingering_pair(5);
        let cx = Arc::new(CtxBuilder::new().build().unwrap());
        let sock = push_socket(&cx, ours);
        let closer = {
            let cx = cx.clone();
            std::thread::spawn(move || {
                let mut bytes = memory();
                let mem = &mut GuestMemory::new(&mut bytes);
                let start = std::time::Instant::now();
                let r = if renumber { fd_renumber(&cx, mem, 0, sock) } else { fd_close(&cx, mem, sock) };
                (r, start.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        let table_user = {
            let cx = cx.clone();
            within(Duration::from_secs(1), move || {
                let mut bytes = memory();
                let mem = &mut GuestMemory::new(&mut bytes);
                fd_fdstat_get(&cx, mem, 1, OUT)
            })
        };
        assert!(!closer.is_finished(), "the close must still be lingering (the peer reads nothing)");
        stop(&cx);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(closer.join().unwrap());
        });
        let closed = rx.recv_timeout(Duration::from_secs(2));
        assert!(table_user.is_some_and(|r| r.is_ok()), "another thread's call waited for the table lock");
        let (r, took) = closed.expect("the lingering close did not stop with the instance");
        assert_eq!(r, Err(Error::Trap(crate::errno::Trap("stop".into()))));
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn fd_close_of_a_lingering_socket_is_interruptible() {
        lingering_close_is_interruptible_and_holds_no_lock(false);
    }

    #[test]
    fn fd_renumber_onto_a_lingering_socket_is_interruptible_and_releases_the_table() {
        lingering_close_is_interruptible_and_holds_no_lock(true);
    }

    #[test]
    fn a_lingering_close_still_waits_for_the_peer() {
        // A peer that never reads: the close waits for the whole linger time, then returns.
        let (ours, peer) = crate::net::testing::lingering_pair(1);
        let cx = CtxBuilder::new().build().unwrap();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let sock = push_socket(&cx, ours);
        let start = std::time::Instant::now();
        fd_close(&cx, mem, sock).unwrap();
        let took = start.elapsed();
        assert!((Duration::from_millis(900)..Duration::from_secs(3)).contains(&took), "took {took:?}");
        // The data was not thrown away: the peer still gets all of it, then EOF.
        assert!(crate::net::testing::drain(peer) > 0);

        // A peer that reads after 300 ms: the close returns once everything is acknowledged.
        let (ours, peer) = crate::net::testing::lingering_pair(5);
        let sock = push_socket(&cx, ours);
        let reader = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            crate::net::testing::drain(peer)
        });
        let start = std::time::Instant::now();
        fd_close(&cx, mem, sock).unwrap();
        let took = start.elapsed();
        assert!((Duration::from_millis(250)..Duration::from_secs(3)).contains(&took), "took {took:?}");
        assert!(reader.join().unwrap() > 0);

        // A peer that resets the connection (it closes with unread data): nothing is left to
        // wait for, as in Linux.
        let (ours, peer) = crate::net::testing::lingering_pair(5);
        let sock = push_socket(&cx, ours);
        drop(peer);
        std::thread::sleep(Duration::from_millis(50));
        let start = std::time::Instant::now();
        fd_close(&cx, mem, sock).unwrap();
        assert!(start.elapsed() < Duration::from_millis(500), "took {:?}", start.elapsed());
    }

    /// A guest memory of 2 MiB + 4 KiB holding one iovec at 0 for `len` bytes at 4096.
    fn big_write(len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; 4096 + len];
        for (i, b) in bytes[4096..].iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        bytes[0..4].copy_from_slice(&4096u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        bytes
    }

    /// A context whose stdout (fd 1) is the write end of a fresh pipe, either given as stdio
    /// (then reopened privately) or pushed as a shared, blocking stream; and the read end.
    fn stdout_pipe(shared: bool) -> (Arc<Ctx>, u32, std::fs::File) {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let w = std::fs::File::from(w);
        if shared {
            let cx = CtxBuilder::new().build().unwrap();
            let fd =
                cx.push(Descriptor::new(Kind::File(crate::table::File::new(w, Filetype::Unknown)))).unwrap();
            (Arc::new(cx), fd, std::fs::File::from(r))
        } else {
            (Arc::new(CtxBuilder::new().stdio(1, w).build().unwrap()), 1, std::fs::File::from(r))
        }
    }

    #[test]
    fn a_blocking_write_to_a_pipe_nobody_reads_is_interruptible() {
        for shared in [false, true] {
            let (cx, fd, reader) = stdout_pipe(shared);
            let writer = {
                let cx = cx.clone();
                std::thread::spawn(move || {
                    let mut bytes = big_write(1 << 20);
                    fd_write(&cx, &mut GuestMemory::new(&mut bytes), fd, 0, 1, 8)
                })
            };
            std::thread::sleep(Duration::from_millis(200));
            stop(&cx);
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(writer.join().unwrap());
            });
            let r = rx.recv_timeout(Duration::from_secs(2));
            // Unblocks a writer stuck in the kernel (the bug) before failing.
            drop(reader);
            let r = r.unwrap_or_else(|_| panic!("shared={shared}: the write did not stop with the instance"));
            assert_eq!(r, Err(Error::Trap(crate::errno::Trap("stop".into()))), "shared={shared}");
        }
    }

    #[test]
    fn blocking_writes_to_pipes_deliver_everything_and_nonblocking_ones_say_again() {
        const LEN: usize = 3 << 20;
        for shared in [false, true] {
            let (cx, fd, mut reader) = stdout_pipe(shared);
            let collector = std::thread::spawn(move || {
                let mut got = Vec::new();
                reader.read_to_end(&mut got).unwrap();
                got
            });
            let mut bytes = big_write(LEN);
            let mem = &mut GuestMemory::new(&mut bytes);
            fd_write(&cx, mem, fd, 0, 1, 8).unwrap();
            assert_eq!(mem.read::<u32>(8).unwrap() as usize, LEN, "shared={shared}");
            let expected = mem.read_bytes(4096, LEN as u32).unwrap();
            drop(cx);
            assert!(collector.join().unwrap() == expected, "shared={shared}: the bytes differ");

            // Nobody reads: a non-blocking guest's write fills the pipe, then gets EAGAIN.
            let (cx, fd, _reader) = stdout_pipe(shared);
            fd_fdstat_set_flags(&cx, mem, fd, fdflags::NONBLOCK as u32).unwrap();
            let mut total = 0;
            let mut again = false;
            for _ in 0..100_000 {
                match fd_write(&cx, mem, fd, 0, 1, 8) {
                    Ok(()) => total += mem.read::<u32>(8).unwrap() as usize,
                    Err(e) => {
                        assert_eq!(e, Error::Errno(Errno::Again), "shared={shared}");
                        again = true;
                        break;
                    }
                }
            }
            assert!(again && (4096..LEN).contains(&total), "shared={shared}: {total} bytes, then EAGAIN");
        }
    }

    #[test]
    fn the_guest_nonblock_flag_leaves_a_shared_stdio_description_alone() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        // The parent's view of stdin: the same open file description.
        let parent = rustix::io::dup(&r).unwrap();
        let cx = CtxBuilder::new().stdio(0, std::fs::File::from(r)).build().unwrap();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        fd_fdstat_set_flags(&cx, mem, 0, fdflags::NONBLOCK as u32).unwrap();
        assert_eq!(fdflags_of(&cx, mem, 0), fdflags::NONBLOCK);
        assert_eq!(errno(read(&cx, mem, 0, 10)), Errno::Again);
        assert!(
            !rustix::fs::fcntl_getfl(&parent).unwrap().contains(OFlags::NONBLOCK),
            "the shell's stdin changed"
        );
        fd_fdstat_set_flags(&cx, mem, 0, 0).unwrap();
        assert_eq!(fdflags_of(&cx, mem, 0), 0);
        rustix::io::write(&w, b"x").unwrap();
        assert_eq!(read(&cx, mem, 0, 10).unwrap(), b"x");
    }

    #[test]
    fn regular_files_report_the_nonblock_flag_the_guest_asked_for() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let plain = open(&cx, mem, "f", CREATE, RW, 0).unwrap();
        assert_eq!(fdflags_of(&cx, mem, plain), 0);
        let host = &cx.get(plain, 0).unwrap();
        assert!(!rustix::fs::fcntl_getfl(&host.as_file().unwrap().file).unwrap().contains(OFlags::NONBLOCK));
        let nb = open(&cx, mem, "f", 0, RW, fdflags::NONBLOCK).unwrap();
        assert_eq!(fdflags_of(&cx, mem, nb), fdflags::NONBLOCK);
        assert_eq!(write(&cx, mem, nb, b"abc").unwrap(), 3);
        assert_eq!(read(&cx, mem, plain, 10).unwrap(), b"abc");
    }
}
