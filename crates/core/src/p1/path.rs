//! The `path_*` functions.
//!
//! Every path is resolved by cap-std relative to a directory descriptor, and cap-std refuses to
//! leave that directory: `..` past its root, an absolute path, or a symlink pointing outside
//! fails with ENOTCAPABLE (see [`fs_errno`]). Nothing here joins paths or resolves them itself.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::{FileTypeExt, OpenOptionsExt};

use crate::abi::{Filestat, Filetype, fdflags, lookupflags, oflags, rights};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;
use crate::p1::fd::host_oflags;
use crate::p1::fs_util::{filestat_from_metadata, filetype_of, fs_errno, time_specs};
use crate::stream::IoMode;
use crate::table::{Descriptor, Dir, File, Kind};

/// The longest path accepted, in bytes: Linux's PATH_MAX less the NUL. Also bounds the host
/// copy of a guest path.
const MAX_PATH_LEN: u32 = 4095;

/// A path argument: UTF-8 (EILSEQ), not empty (ENOENT, as POSIX), without NUL (EINVAL), at
/// most [`MAX_PATH_LEN`] bytes (ENAMETOOLONG).
fn read_path(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<String> {
    // Bounds first, so that a wild pointer traps whatever its length.
    mem.check(ptr, len)?;
    if len > MAX_PATH_LEN {
        return Err(Errno::NameTooLong.into());
    }
    let path = mem.read_str(ptr, len)?;
    if path.is_empty() {
        return Err(Errno::NoEnt.into());
    }
    if path.contains('\0') {
        return Err(Errno::Inval.into());
    }
    Ok(path)
}

/// The directory capability of a descriptor (ENOTDIR for anything else).
fn cap_dir(d: &Descriptor) -> Result<&cap_std::fs::Dir> {
    Ok(&d.as_dir()?.dir)
}

/// Whether `flags` (a `$lookupflags`) asks to follow a final symlink; unknown bits are EINVAL.
fn follows(flags: u32) -> Result<bool> {
    if flags & !lookupflags::SYMLINK_FOLLOW != 0 {
        return Err(Errno::Inval.into());
    }
    Ok(flags & lookupflags::SYMLINK_FOLLOW != 0)
}

/// `path_create_directory`.
pub fn path_create_directory(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_CREATE_DIRECTORY)?;
    let path = read_path(mem, path, path_len)?;
    cap_dir(&d)?.create_dir(&path).map_err(fs_errno)?;
    Ok(())
}

/// The filestat of a path (also used by the `wasi_unstable` layout).
pub(crate) fn path_filestat(
    cx: &Ctx,
    mem: &GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
) -> Result<Filestat> {
    let d = cx.get(fd, rights::PATH_FILESTAT_GET)?;
    let dir = cap_dir(&d)?;
    let follow = follows(flags)?;
    let path = read_path(mem, path, path_len)?;
    let meta = if follow { dir.metadata(&path) } else { dir.symlink_metadata(&path) }.map_err(fs_errno)?;
    Ok(filestat_from_metadata(&meta))
}

/// `path_filestat_get`.
pub fn path_filestat_get(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    out: u32,
) -> Result<()> {
    path_filestat(cx, mem, fd, flags, path, path_len)?.write(mem, out)?;
    Ok(())
}

/// `path_filestat_set_times`.
#[allow(clippy::too_many_arguments)] // the witx signature
pub fn path_filestat_set_times(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_FILESTAT_SET_TIMES)?;
    let dir = cap_dir(&d)?;
    let follow = follows(flags)?;
    let (atime, mtime) = time_specs(atim, mtim, fst_flags)?;
    let path = read_path(mem, path, path_len)?;
    // cap-std's set_times opens the file to call futimens on it, and opening a FIFO waits in
    // open(2) for a peer. So a final symlink is resolved first (by cap-std, inside the
    // sandbox, as path_link does) and the times are set on what the path then names, which
    // utimensat does without opening it.
    let target = match follow {
        true => dir.canonicalize(&path).map_err(fs_errno)?,
        false => PathBuf::from(path),
    };
    let target = if target.as_os_str().is_empty() { PathBuf::from(".") } else { target };
    cap_fs_ext::DirExt::set_symlink_times(dir, &target, atime.to_cap(), mtime.to_cap()).map_err(fs_errno)?;
    Ok(())
}

/// `path_link`: a hard link. With SYMLINK_FOLLOW a final symlink in `old_path` is resolved
/// first (by cap-std, inside the sandbox) and its target is linked, as `linkat` does.
#[allow(clippy::too_many_arguments)] // the witx signature
pub fn path_link(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Result<()> {
    let old = cx.get(old_fd, rights::PATH_LINK_SOURCE)?;
    let new = cx.get(new_fd, rights::PATH_LINK_TARGET)?;
    let (old_dir, new_dir) = (cap_dir(&old)?, cap_dir(&new)?);
    let follow = follows(old_flags)?;
    let old_path = read_path(mem, old_path, old_path_len)?;
    let new_path = read_path(mem, new_path, new_path_len)?;
    let source =
        if follow { old_dir.canonicalize(&old_path).map_err(fs_errno)? } else { PathBuf::from(old_path) };
    old_dir.hard_link(&source, new_dir, &new_path).map_err(fs_errno)?;
    Ok(())
}

/// `path_open`.
///
/// The parent needs PATH_OPEN (plus PATH_CREATE_FILE for CREAT and PATH_FILESTAT_SET_SIZE for
/// TRUNC). The file is opened for reading if FD_READ or FD_READDIR is requested and for
/// writing if FD_WRITE, FD_ALLOCATE or FD_FILESTAT_SET_SIZE is (wasi-libc asks for exactly
/// these by access mode); FD_READ or FD_WRITE missing from the parent's inheriting rights is
/// ENOTCAPABLE. The new fd holds the requested rights that the parent may hand down and that
/// suit what was opened.
#[allow(clippy::too_many_arguments)] // the witx signature
pub fn path_open(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u32,
    rights_base: u64,
    rights_inheriting: u64,
    fdflags: u32,
    opened_fd: u32,
) -> Result<()> {
    let all_oflags = oflags::CREAT | oflags::DIRECTORY | oflags::EXCL | oflags::TRUNC;
    let oflags = u16::try_from(oflags).ok().filter(|o| o & !all_oflags == 0).ok_or(Errno::Inval)?;
    let all_fdflags = fdflags::APPEND | fdflags::DSYNC | fdflags::NONBLOCK | fdflags::RSYNC | fdflags::SYNC;
    let fdflags = u16::try_from(fdflags).ok().filter(|f| f & !all_fdflags == 0).ok_or(Errno::Inval)?;
    let follow = follows(dirflags)?;
    let has = |flag: u16| oflags & flag != 0;

    let mut need = rights::PATH_OPEN;
    if has(oflags::CREAT) {
        need |= rights::PATH_CREATE_FILE;
    }
    if has(oflags::TRUNC) {
        need |= rights::PATH_FILESTAT_SET_SIZE;
    }
    let parent = cx.get(fd, need)?;
    let dir = cap_dir(&parent)?;
    let (_, grantable) = parent.rights();
    if rights_base & (rights::FD_READ | rights::FD_WRITE) & !grantable != 0 {
        return Err(Errno::NotCapable.into());
    }
    let path = read_path(mem, path, path_len)?;
    // Checked before opening, so that a bad pointer cannot leave a created file behind.
    mem.check(opened_fd, 4)?;

    let read = rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = rights_base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0;
    let kind = if has(oflags::DIRECTORY) {
        if has(oflags::CREAT) || has(oflags::EXCL) || has(oflags::TRUNC) {
            return Err(Errno::Inval.into());
        }
        if write {
            return Err(Errno::IsDir.into());
        }
        let sub =
            if follow { dir.open_dir(&path) } else { cap_fs_ext::DirExt::open_dir_nofollow(dir, &path) }
                .map_err(fs_errno)?;
        Kind::Dir(Dir { dir: sub, preopen: None })
    } else {
        // cap-std (like std) wants write access to create or truncate.
        let write = write || has(oflags::CREAT) || has(oflags::TRUNC);
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.read(read || !write)
            .write(write)
            .create(has(oflags::CREAT) && !has(oflags::EXCL))
            .create_new(has(oflags::CREAT) && has(oflags::EXCL))
            .truncate(has(oflags::TRUNC))
            // APPEND goes in as a raw flag: cap-std's append() refuses APPEND with TRUNC,
            // which POSIX allows. NONBLOCK always: opening a FIFO or a device must not wait
            // in the kernel (see open_interruptibly).
            .custom_flags((host_oflags(fdflags) | libc::O_NONBLOCK as u32) as i32);
        opts.follow(if follow { FollowSymlinks::Yes } else { FollowSymlinks::No });
        opts.maybe_dir(true);
        let nonblocking = fdflags & fdflags::NONBLOCK != 0;
        let file = open_interruptibly(cx, dir, &path, &opts, follow, nonblocking)?;
        let file_type = file.metadata()?.file_type();
        let filetype = filetype_of(file_type);
        if filetype == Filetype::Directory {
            Kind::Dir(Dir { dir: cap_std::fs::Dir::from_std_file(file.into_std()), preopen: None })
        } else if file_type.is_fifo() || file_type.is_char_device() {
            // Ours alone, so it stays non-blocking on the host (crate::stream).
            let mut f = File::with_mode(file.into_std(), filetype, IoMode::Nonblocking, nonblocking);
            f.awaits_writer = file_type.is_fifo() && !write;
            Kind::File(f)
        } else {
            // Regular files ignore O_NONBLOCK; clear it anyway unless asked for, so that the
            // host flags say what the guest asked.
            if !nonblocking {
                rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::from_bits_retain(host_oflags(fdflags)))?;
            }
            Kind::File(File::with_mode(file.into_std(), filetype, IoMode::Direct, nonblocking))
        }
    };
    let suits = match &kind {
        Kind::Dir(_) => rights::DIRECTORY,
        Kind::File(f) if f.filetype == Filetype::RegularFile => rights::REGULAR_FILE,
        _ => rights::STREAM,
    };
    let d = Descriptor::with_rights(kind, rights_base & grantable & suits, rights_inheriting & grantable);
    let new_fd = cx.push(d)?;
    mem.write(opened_fd, new_fd)?;
    Ok(())
}

/// The longest pause between two attempts of a path_open that waits.
const MAX_OPEN_PAUSE: Duration = Duration::from_millis(50);

/// Opens `path` with `opts`, which include O_NONBLOCK, so open(2) never waits. What a blocking
/// open would have waited for, a guest that did not ask for NONBLOCK still waits for, but
/// interruptibly, trying again with a growing pause (neither can be polled for):
/// - a FIFO opened for writing with no reader yet is ENXIO: wait for a reader (POSIX gives a
///   NONBLOCK guest ENXIO);
/// - EWOULDBLOCK: another process holds a lease on the file and must first give it up.
///
/// A FIFO opened for reading succeeds at once; its first read waits for a writer instead
/// (`File::awaits_writer`).
fn open_interruptibly(
    cx: &Ctx,
    dir: &cap_std::fs::Dir,
    path: &str,
    opts: &cap_std::fs::OpenOptions,
    follow: bool,
    nonblocking: bool,
) -> Result<cap_std::fs::File> {
    let mut pause = Duration::from_millis(1);
    loop {
        let err = match dir.open_with(path, opts) {
            Ok(file) => return Ok(file),
            Err(err) => err,
        };
        let wait = !nonblocking
            && match err.raw_os_error() {
                // Also what opening a Unix socket gives, which no wait would change.
                Some(libc::ENXIO) => if follow { dir.metadata(path) } else { dir.symlink_metadata(path) }
                    .is_ok_and(|m| m.file_type().is_fifo()),
                Some(libc::EWOULDBLOCK) => true,
                _ => false,
            };
        if !wait {
            return Err(fs_errno(err).into());
        }
        cx.interrupt.wait(&mut [], Some(Instant::now() + pause))?;
        pause = (pause * 2).min(MAX_OPEN_PAUSE);
    }
}

/// `path_readlink`: the link's target, cut to `buf_len`; `bufused` is the length written.
/// An absolute target (which only the host can have made) is ENOTCAPABLE.
#[allow(clippy::too_many_arguments)] // the witx signature
pub fn path_readlink(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
    buf: u32,
    buf_len: u32,
    bufused: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_READLINK)?;
    let dir = cap_dir(&d)?;
    let path = read_path(mem, path, path_len)?;
    mem.check(buf, buf_len)?;
    mem.check(bufused, 4)?;
    let target = dir.read_link(&path).map_err(fs_errno)?;
    let bytes = target.as_os_str().as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write_bytes(buf, &bytes[..n])?;
    mem.write(bufused, n as u32)?;
    Ok(())
}

/// `path_remove_directory`: the directory must be empty.
pub fn path_remove_directory(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_REMOVE_DIRECTORY)?;
    let path = read_path(mem, path, path_len)?;
    cap_dir(&d)?.remove_dir(&path).map_err(fs_errno)?;
    Ok(())
}

/// `path_rename`: replaces the target if it exists, as `renameat`.
#[allow(clippy::too_many_arguments)] // the witx signature
pub fn path_rename(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Result<()> {
    let old = cx.get(fd, rights::PATH_RENAME_SOURCE)?;
    let new = cx.get(new_fd, rights::PATH_RENAME_TARGET)?;
    let (old_dir, new_dir) = (cap_dir(&old)?, cap_dir(&new)?);
    let old_path = read_path(mem, old_path, old_path_len)?;
    let new_path = read_path(mem, new_path, new_path_len)?;
    old_dir.rename(&old_path, new_dir, &new_path).map_err(fs_errno)?;
    Ok(())
}

/// `path_symlink`: creates `new_path` pointing at `old_path`, stored as given. cap-std refuses
/// absolute targets (ENOTCAPABLE); a relative target that climbs out is stored but can never
/// be followed out of the sandbox.
pub fn path_symlink(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    old_path: u32,
    old_path_len: u32,
    fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_SYMLINK)?;
    let dir = cap_dir(&d)?;
    let target = read_path(mem, old_path, old_path_len)?;
    let link = read_path(mem, new_path, new_path_len)?;
    dir.symlink(&target, &link).map_err(fs_errno)?;
    Ok(())
}

/// `path_unlink_file`: removes a file or symlink; a directory is EISDIR (Linux).
pub fn path_unlink_file(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Result<()> {
    let d = cx.get(fd, rights::PATH_UNLINK_FILE)?;
    let path = read_path(mem, path, path_len)?;
    cap_dir(&d)?.remove_file(&path).map_err(fs_errno)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::fstflags;
    use crate::errno::Error;
    use crate::p1::fd;
    use crate::p1::fs_util::testing::*;
    use std::os::unix::fs::symlink as host_symlink;

    const FOLLOW: u32 = lookupflags::SYMLINK_FOLLOW;

    fn mkdir(cx: &Ctx, mem: &mut GuestMemory<'_>, p: &str) -> Result<()> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        path_create_directory(cx, mem, ROOT, ptr, len)
    }

    fn rmdir(cx: &Ctx, mem: &mut GuestMemory<'_>, p: &str) -> Result<()> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        path_remove_directory(cx, mem, ROOT, ptr, len)
    }

    fn unlink(cx: &Ctx, mem: &mut GuestMemory<'_>, p: &str) -> Result<()> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        path_unlink_file(cx, mem, ROOT, ptr, len)
    }

    /// (filetype, nlink, size, atim, mtim) of a path.
    fn stat(cx: &Ctx, mem: &mut GuestMemory<'_>, p: &str, flags: u32) -> Result<(u8, u64, u64, u64, u64)> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        path_filestat_get(cx, mem, ROOT, flags, ptr, len, OUT2)?;
        let at = |o| mem.read::<u64>(OUT2 + o).unwrap();
        Ok((mem.read::<u8>(OUT2 + 16).unwrap(), at(24), at(32), at(40), at(48)))
    }

    fn rename(cx: &Ctx, mem: &mut GuestMemory<'_>, from: (u32, &str), to: (u32, &str)) -> Result<()> {
        let (op, ol) = put(mem, PATH, from.1.as_bytes());
        let (np, nl) = put(mem, PATH2, to.1.as_bytes());
        path_rename(cx, mem, from.0, op, ol, to.0, np, nl)
    }

    fn symlink(cx: &Ctx, mem: &mut GuestMemory<'_>, target: &str, link: &str) -> Result<()> {
        let (tp, tl) = put(mem, PATH, target.as_bytes());
        let (lp, ll) = put(mem, PATH2, link.as_bytes());
        path_symlink(cx, mem, tp, tl, ROOT, lp, ll)
    }

    fn link(cx: &Ctx, mem: &mut GuestMemory<'_>, flags: u32, old: &str, new: &str) -> Result<()> {
        let (op, ol) = put(mem, PATH, old.as_bytes());
        let (np, nl) = put(mem, PATH2, new.as_bytes());
        path_link(cx, mem, ROOT, flags, op, ol, ROOT, np, nl)
    }

    fn readlink(cx: &Ctx, mem: &mut GuestMemory<'_>, p: &str, buf_len: u32) -> Result<Vec<u8>> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        path_readlink(cx, mem, ROOT, ptr, len, BUF, buf_len, OUT2)?;
        let used = mem.read::<u32>(OUT2).unwrap();
        Ok(mem.read_bytes(BUF, used).unwrap())
    }

    const FILE: u8 = Filetype::RegularFile as u8;
    const DIR: u8 = Filetype::Directory as u8;
    const LINK: u8 = Filetype::SymbolicLink as u8;

    #[test]
    fn directories_are_made_inspected_and_removed() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        mkdir(&cx, mem, "d").unwrap();
        assert!(tmp.path().join("d").is_dir());
        assert_eq!(errno(mkdir(&cx, mem, "d")), Errno::Exist);
        mkdir(&cx, mem, "d/e/").unwrap();
        assert!(tmp.path().join("d/e").is_dir(), "a trailing slash names a directory, as POSIX");
        assert_eq!(stat(&cx, mem, "d", 0).unwrap().0, DIR);
        assert_eq!(errno(rmdir(&cx, mem, "d")), Errno::NotEmpty);
        assert_eq!(errno(unlink(&cx, mem, "d")), Errno::IsDir);
        rmdir(&cx, mem, "d/e").unwrap();
        rmdir(&cx, mem, "d").unwrap();
        assert_eq!(errno(stat(&cx, mem, "d", 0)), Errno::NoEnt);
        std::fs::write(tmp.path().join("f"), b"x").unwrap();
        assert_eq!(errno(rmdir(&cx, mem, "f")), Errno::NotDir);
        assert_eq!(errno(mkdir(&cx, mem, "f/g")), Errno::NotDir);
        assert_eq!(errno(unlink(&cx, mem, "f/")), Errno::NotDir);
        unlink(&cx, mem, "f").unwrap();
        assert!(!tmp.path().join("f").exists());
        assert_eq!(errno(unlink(&cx, mem, "f")), Errno::NoEnt);
        // The rights are checked.
        fd::fd_fdstat_set_rights(&cx, mem, ROOT, rights::PATH_OPEN, rights::DIRECTORY).unwrap();
        assert_eq!(errno(mkdir(&cx, mem, "x")), Errno::NotCapable);
        assert_eq!(errno(rmdir(&cx, mem, "x")), Errno::NotCapable);
        assert_eq!(errno(unlink(&cx, mem, "x")), Errno::NotCapable);
        assert_eq!(errno(stat(&cx, mem, "x", 0)), Errno::NotCapable);
    }

    #[test]
    fn open_create_write_read_and_flags() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        let fd = open(&cx, mem, "new.txt", oflags::CREAT, RW, 0).unwrap();
        assert_eq!(write(&cx, mem, fd, b"hello").unwrap(), 5);
        assert_eq!(std::fs::read(tmp.path().join("new.txt")).unwrap(), b"hello");
        assert_eq!(stat(&cx, mem, "new.txt", 0).unwrap().2, 5);
        assert_eq!(errno(open(&cx, mem, "new.txt", oflags::CREAT | oflags::EXCL, RW, 0)), Errno::Exist);
        assert_eq!(errno(open(&cx, mem, "missing", 0, RW, 0)), Errno::NoEnt);
        let again = open(&cx, mem, "new.txt", 0, rights::FD_READ | rights::FD_SEEK, 0).unwrap();
        assert_eq!(read(&cx, mem, again, 10).unwrap(), b"hello");
        assert_eq!(errno(write(&cx, mem, again, b"no")), Errno::NotCapable);
        // The new fd holds what was asked for, within what a regular file may do.
        fd::fd_fdstat_get(&cx, mem, again, OUT2).unwrap();
        assert_eq!(mem.read::<u64>(OUT2 + 8).unwrap(), rights::FD_READ | rights::FD_SEEK);
        fd::fd_fdstat_get(&cx, mem, fd, OUT2).unwrap();
        assert_eq!(mem.read::<u64>(OUT2 + 8).unwrap(), rights::REGULAR_FILE);
        let trunc = open(&cx, mem, "new.txt", oflags::TRUNC, RW, 0).unwrap();
        assert_eq!(stat(&cx, mem, "new.txt", 0).unwrap().2, 0);
        // APPEND together with TRUNC, which POSIX allows.
        let append = open(&cx, mem, "new.txt", oflags::TRUNC, RW, fdflags::APPEND).unwrap();
        write(&cx, mem, trunc, b"abc").unwrap();
        write(&cx, mem, append, b"Z").unwrap();
        assert_eq!(std::fs::read(tmp.path().join("new.txt")).unwrap(), b"abcZ");
        let nb = open(&cx, mem, "new.txt", 0, RW, fdflags::NONBLOCK).unwrap();
        fd::fd_fdstat_get(&cx, mem, nb, OUT2).unwrap();
        assert_eq!(mem.read::<u16>(OUT2 + 2).unwrap(), fdflags::NONBLOCK);
        // Bad flag bits.
        assert_eq!(errno(open(&cx, mem, "new.txt", 1 << 4, RW, 0)), Errno::Inval);
        assert_eq!(errno(open(&cx, mem, "new.txt", 0, RW, 1 << 5)), Errno::Inval);
        let (ptr, len) = put(mem, PATH, b"new.txt");
        assert_eq!(errno(path_open(&cx, mem, ROOT, 2, ptr, len, 0, RW, RW, 0, OUT)), Errno::Inval);
        assert_eq!(errno(path_open(&cx, mem, ROOT, 0, ptr, len, 1 << 16, RW, RW, 0, OUT)), Errno::Inval);
        // A path through a file, and a trailing slash on a file.
        assert_eq!(errno(open(&cx, mem, "new.txt/x", 0, RW, 0)), Errno::NotDir);
        assert_eq!(errno(open(&cx, mem, "new.txt/", 0, rights::FD_READ, 0)), Errno::NotDir);
        // Opening a file from a file descriptor.
        assert_eq!(errno(open_at(&cx, mem, fd, "x", 0, RW, 0)), Errno::NotCapable);
        assert_eq!(errno(open_at(&cx, mem, 99, "x", 0, RW, 0)), Errno::Badf);
    }

    #[test]
    fn directories_open_as_directories() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::fs::write(tmp.path().join("sub/inner"), b"in").unwrap();
        std::fs::write(tmp.path().join("file"), b"").unwrap();
        let ro = rights::DIRECTORY | rights::FD_READ;
        let sub = open(&cx, mem, "sub", oflags::DIRECTORY, ro, 0).unwrap();
        fd::fd_fdstat_get(&cx, mem, sub, OUT2).unwrap();
        assert_eq!(mem.read::<u8>(OUT2).unwrap(), DIR);
        assert_eq!(mem.read::<u64>(OUT2 + 8).unwrap(), rights::DIRECTORY);
        assert_eq!(mem.read::<u64>(OUT2 + 16).unwrap(), RW);
        // Paths resolve relative to the new directory fd, and it can be listed.
        let inner = open_at(&cx, mem, sub, "inner", 0, rights::FD_READ, 0).unwrap();
        assert_eq!(read(&cx, mem, inner, 10).unwrap(), b"in");
        fd::fd_readdir(&cx, mem, sub, BUF, 4096, 0, OUT2).unwrap();
        assert_eq!(mem.read::<u32>(OUT2).unwrap(), 24 * 3 + 1 + 2 + 5);
        // Without DIRECTORY, a directory still opens as one (read-only).
        let plain = open(&cx, mem, "sub", 0, ro, 0).unwrap();
        fd::fd_fdstat_get(&cx, mem, plain, OUT2).unwrap();
        assert_eq!(mem.read::<u8>(OUT2).unwrap(), DIR);
        fd::fd_readdir(&cx, mem, plain, BUF, 4096, 0, OUT2).unwrap();
        assert_eq!(errno(open(&cx, mem, "sub", 0, RW, 0)), Errno::IsDir);
        assert_eq!(errno(open(&cx, mem, "sub", oflags::DIRECTORY, RW, 0)), Errno::IsDir);
        assert_eq!(errno(open(&cx, mem, "file", oflags::DIRECTORY, ro, 0)), Errno::NotDir);
        let bad = oflags::DIRECTORY | oflags::CREAT;
        assert_eq!(errno(open(&cx, mem, "newdir", bad, ro, 0)), Errno::Inval);
        assert!(!tmp.path().join("newdir").exists());
        // The preopen itself, as ".".
        let dot = open(&cx, mem, ".", oflags::DIRECTORY, ro, 0).unwrap();
        assert_eq!(errno(fd::fd_prestat_get(&cx, mem, dot, OUT2)), Errno::Badf, "not a preopen");
    }

    #[test]
    fn rights_are_inherited_not_gained() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("f"), b"data").unwrap();
        // A directory whose children may only be read.
        let inherit = rights::DIRECTORY | rights::FD_READ | rights::FD_SEEK;
        fd::fd_fdstat_set_rights(&cx, mem, ROOT, rights::DIRECTORY, inherit).unwrap();
        assert_eq!(errno(open(&cx, mem, "f", 0, RW, 0)), Errno::NotCapable);
        let fd = open(&cx, mem, "f", 0, rights::FD_READ | rights::FD_SEEK | rights::FD_TELL, 0).unwrap();
        fd::fd_fdstat_get(&cx, mem, fd, OUT2).unwrap();
        assert_eq!(mem.read::<u64>(OUT2 + 8).unwrap(), rights::FD_READ | rights::FD_SEEK);
        assert_eq!(mem.read::<u64>(OUT2 + 16).unwrap(), inherit, "asked for RW, capped by the parent");
        // No PATH_CREATE_FILE: no CREAT; no PATH_FILESTAT_SET_SIZE: no TRUNC; no PATH_OPEN: nothing.
        fd::fd_fdstat_set_rights(&cx, mem, ROOT, rights::PATH_OPEN, inherit).unwrap();
        assert_eq!(errno(open(&cx, mem, "g", oflags::CREAT, rights::FD_READ, 0)), Errno::NotCapable);
        assert_eq!(errno(open(&cx, mem, "f", oflags::TRUNC, rights::FD_READ, 0)), Errno::NotCapable);
        assert!(!tmp.path().join("g").exists());
        assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"data");
        fd::fd_fdstat_set_rights(&cx, mem, ROOT, 0, inherit).unwrap();
        assert_eq!(errno(open(&cx, mem, "f", 0, rights::FD_READ, 0)), Errno::NotCapable);
    }

    #[test]
    fn escapes_never_succeed() {
        let outside = tempfile::tempdir().unwrap();
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let parent = tmp.path().parent().unwrap();
        host_symlink(parent, tmp.path().join("up")).unwrap();
        host_symlink("/etc", tmp.path().join("etc")).unwrap();
        host_symlink("../../../../../../../../etc/passwd", tmp.path().join("rel")).unwrap();
        host_symlink(outside.path(), tmp.path().join("out")).unwrap();
        let name = tmp.path().file_name().unwrap().to_str().unwrap().to_owned();
        let escaping = [
            "../x".to_owned(),
            "..".to_owned(),
            "/etc/passwd".to_owned(),
            "/".to_owned(),
            "sub/../../x".to_owned(),
            format!("../{name}/sub"),
            "up/x".to_owned(),
            "etc/passwd".to_owned(),
            "rel".to_owned(),
            "out/new".to_owned(),
        ];
        for p in &escaping {
            let e = errno(open(&cx, mem, p, 0, rights::FD_READ, 0));
            assert_eq!(e, Errno::NotCapable, "open {p}: {e:?}");
            let e = errno(open(&cx, mem, p, oflags::CREAT, RW, 0));
            assert_eq!(e, Errno::NotCapable, "create {p}: {e:?}");
            let e = errno(stat(&cx, mem, p, FOLLOW));
            assert_eq!(e, Errno::NotCapable, "stat {p}: {e:?}");
            assert!(mkdir(&cx, mem, p).is_err(), "mkdir {p}");
            assert!(rename(&cx, mem, (ROOT, "sub"), (ROOT, p)).is_err(), "rename to {p}");
        }
        assert!(tmp.path().join("sub").is_dir());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing was created outside");
        for p in ["../x", "/etc/passwd", "up/x", "etc/hostname"] {
            assert_eq!(errno(unlink(&cx, mem, p)), Errno::NotCapable, "unlink {p}");
            assert_eq!(errno(rmdir(&cx, mem, p)), Errno::NotCapable, "rmdir {p}");
            assert_eq!(errno(link(&cx, mem, 0, "sub", p)), Errno::NotCapable, "link {p}");
            assert_eq!(errno(symlink(&cx, mem, "sub", p)), Errno::NotCapable, "symlink {p}");
            let times = fstflags::MTIM_NOW as u32;
            let (ptr, len) = put(mem, PATH, p.as_bytes());
            let e = errno(path_filestat_set_times(&cx, mem, ROOT, FOLLOW, ptr, len, 0, 0, times));
            assert_eq!(e, Errno::NotCapable, "set_times {p}");
        }
        // The symlinks themselves may be looked at, but an absolute target is not revealed.
        assert_eq!(stat(&cx, mem, "etc", 0).unwrap().0, LINK);
        assert_eq!(errno(readlink(&cx, mem, "etc", 100)), Errno::NotCapable);
        assert_eq!(readlink(&cx, mem, "rel", 100).unwrap(), b"../../../../../../../../etc/passwd");
        // Following a hard link source out of the sandbox fails too.
        assert_eq!(errno(link(&cx, mem, FOLLOW, "rel", "hard")), Errno::NotCapable);
        assert!(!tmp.path().join("hard").exists());
    }

    #[test]
    fn bad_path_arguments() {
        let (_tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        assert_eq!(errno(open(&cx, mem, "", 0, RW, 0)), Errno::NoEnt);
        assert_eq!(errno(mkdir(&cx, mem, "")), Errno::NoEnt);
        assert_eq!(errno(open(&cx, mem, "a\0b", oflags::CREAT, RW, 0)), Errno::Inval);
        let (ptr, _) = put(mem, PATH, &[b'a', 0xff, 0xfe]);
        assert_eq!(errno(path_create_directory(&cx, mem, ROOT, ptr, 3)), Errno::Ilseq);
        let long = "a/".repeat(2100);
        assert_eq!(errno(open(&cx, mem, &long, 0, RW, 0)), Errno::NameTooLong);
        // Wild pointers and lengths trap in every path function.
        type PathCall<'a> = Box<dyn Fn(&mut GuestMemory<'_>, u32, u32) -> Result<()> + 'a>;
        let calls: Vec<(&str, PathCall<'_>)> = vec![
            ("create_directory", Box::new(|m, p, l| path_create_directory(&cx, m, ROOT, p, l))),
            ("filestat_get", Box::new(|m, p, l| path_filestat_get(&cx, m, ROOT, 0, p, l, OUT))),
            ("set_times", Box::new(|m, p, l| path_filestat_set_times(&cx, m, ROOT, 0, p, l, 0, 0, 0))),
            ("link old", Box::new(|m, p, l| path_link(&cx, m, ROOT, 0, p, l, ROOT, PATH2, 1))),
            ("link new", Box::new(|m, p, l| path_link(&cx, m, ROOT, 0, PATH2, 1, ROOT, p, l))),
            ("open", Box::new(|m, p, l| path_open(&cx, m, ROOT, 0, p, l, 0, RW, RW, 0, OUT))),
            ("readlink", Box::new(|m, p, l| path_readlink(&cx, m, ROOT, p, l, BUF, 10, OUT))),
            ("remove_directory", Box::new(|m, p, l| path_remove_directory(&cx, m, ROOT, p, l))),
            ("rename old", Box::new(|m, p, l| path_rename(&cx, m, ROOT, p, l, ROOT, PATH2, 1))),
            ("rename new", Box::new(|m, p, l| path_rename(&cx, m, ROOT, PATH2, 1, ROOT, p, l))),
            ("symlink old", Box::new(|m, p, l| path_symlink(&cx, m, p, l, ROOT, PATH2, 1))),
            ("symlink new", Box::new(|m, p, l| path_symlink(&cx, m, PATH2, 1, ROOT, p, l))),
            ("unlink_file", Box::new(|m, p, l| path_unlink_file(&cx, m, ROOT, p, l))),
        ];
        put(mem, PATH2, b"z");
        for (name, call) in &calls {
            assert!(trapped(call(mem, WILD, 10)), "{name}: pointer past the end");
            assert!(trapped(call(mem, PATH, u32::MAX)), "{name}: huge length");
            assert!(trapped(call(mem, u32::MAX, 1)), "{name}: pointer at 4 GiB");
        }
        // Result pointers past the end.
        std::fs::write(_tmp.path().join("f"), b"").unwrap();
        let (ptr, len) = put(mem, PATH, b"f");
        assert!(trapped(path_filestat_get(&cx, mem, ROOT, 0, ptr, len, WILD)));
        assert!(trapped(path_readlink(&cx, mem, ROOT, ptr, len, WILD, 10, OUT)));
        assert!(trapped(path_readlink(&cx, mem, ROOT, ptr, len, BUF, 10, WILD)));
        let (ptr, len) = put(mem, PATH, b"created");
        assert!(trapped(path_open(&cx, mem, ROOT, 0, ptr, len, oflags::CREAT as u32, RW, RW, 0, WILD)));
        assert!(!_tmp.path().join("created").exists(), "a trapped open creates nothing");
        assert_eq!(cx.table().len(), 4, "and leaks no fd");
    }

    #[test]
    fn rename_and_hard_links() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("a"), b"A").unwrap();
        std::fs::write(tmp.path().join("b"), b"B").unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        rename(&cx, mem, (ROOT, "a"), (ROOT, "c")).unwrap();
        assert!(!tmp.path().join("a").exists());
        rename(&cx, mem, (ROOT, "c"), (ROOT, "b")).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("b")).unwrap(), b"A", "rename replaces the target");
        let sub = open(&cx, mem, "sub", oflags::DIRECTORY, rights::DIRECTORY, 0).unwrap();
        rename(&cx, mem, (ROOT, "b"), (sub, "moved")).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("sub/moved")).unwrap(), b"A");
        assert_eq!(errno(rename(&cx, mem, (ROOT, "nope"), (ROOT, "x"))), Errno::NoEnt);
        std::fs::create_dir(tmp.path().join("sub/full")).unwrap();
        std::fs::write(tmp.path().join("sub/full/x"), b"").unwrap();
        std::fs::create_dir(tmp.path().join("empty")).unwrap();
        assert_eq!(errno(rename(&cx, mem, (ROOT, "empty"), (sub, "full"))), Errno::NotEmpty);
        assert_eq!(errno(rename(&cx, mem, (sub, "moved"), (ROOT, "empty"))), Errno::IsDir);
        let file = open(&cx, mem, "sub/moved", 0, RW, 0).unwrap();
        assert_eq!(errno(rename(&cx, mem, (file, "x"), (ROOT, "y"))), Errno::NotCapable);

        link(&cx, mem, 0, "sub/moved", "hard").unwrap();
        assert_eq!(stat(&cx, mem, "hard", 0).unwrap().1, 2);
        assert_eq!(errno(link(&cx, mem, 0, "sub/moved", "hard")), Errno::Exist);
        // Linking a symlink without FOLLOW links the symlink; with FOLLOW, its target.
        symlink(&cx, mem, "sub/moved", "sym").unwrap();
        link(&cx, mem, 0, "sym", "sym2").unwrap();
        assert_eq!(stat(&cx, mem, "sym2", 0).unwrap().0, LINK);
        link(&cx, mem, FOLLOW, "sym", "hard2").unwrap();
        assert_eq!(stat(&cx, mem, "hard2", 0).unwrap().0, FILE);
        assert_eq!(stat(&cx, mem, "hard2", 0).unwrap().1, 3);
        assert_eq!(errno(link(&cx, mem, 2, "sym", "x")), Errno::Inval);
    }

    #[test]
    fn symlinks_and_readlink() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("target"), b"12345").unwrap();
        symlink(&cx, mem, "target", "ln").unwrap();
        assert_eq!(std::fs::read_link(tmp.path().join("ln")).unwrap().to_str(), Some("target"));
        assert_eq!(readlink(&cx, mem, "ln", 100).unwrap(), b"target");
        assert_eq!(readlink(&cx, mem, "ln", 3).unwrap(), b"tar", "cut to the buffer");
        assert_eq!(readlink(&cx, mem, "ln", 0).unwrap(), b"");
        assert_eq!(errno(readlink(&cx, mem, "target", 100)), Errno::Inval);
        assert_eq!(errno(symlink(&cx, mem, "target", "ln")), Errno::Exist);
        assert_eq!(errno(symlink(&cx, mem, "/etc/passwd", "abs")), Errno::NotCapable);
        assert!(!tmp.path().join("abs").exists());
        // A dangling link and one pointing back into the sandbox via "..": stored as given.
        symlink(&cx, mem, "sub/../target", "dotdot").unwrap();
        assert_eq!(stat(&cx, mem, "ln", 0).unwrap().0, LINK);
        let (ft, _, size, _, _) = stat(&cx, mem, "ln", FOLLOW).unwrap();
        assert_eq!((ft, size), (FILE, 5));
        // Following: open follows with SYMLINK_FOLLOW and refuses (ELOOP) without.
        let fd = open(&cx, mem, "ln", 0, rights::FD_READ, 0).unwrap();
        assert_eq!(read(&cx, mem, fd, 10).unwrap(), b"12345");
        let (ptr, len) = put(mem, PATH, b"ln");
        assert_eq!(errno(path_open(&cx, mem, ROOT, 0, ptr, len, 0, rights::FD_READ, 0, 0, OUT)), Errno::Loop);
        unlink(&cx, mem, "ln").unwrap();
        assert!(tmp.path().join("target").exists(), "unlink removes the link, not its target");
    }

    #[test]
    fn path_times_round_trip() {
        let (tmp, cx) = sandbox();
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        std::fs::write(tmp.path().join("f"), b"").unwrap();
        host_symlink("f", tmp.path().join("ln")).unwrap();
        let both = (fstflags::ATIM | fstflags::MTIM) as u32;
        let (atim, mtim) = (1_500_000_000_000_000_001u64, 1_600_000_000_000_000_002u64);
        let (ptr, len) = put(mem, PATH, b"ln");
        path_filestat_set_times(&cx, mem, ROOT, FOLLOW, ptr, len, atim, mtim, both).unwrap();
        let (_, _, _, a, m) = stat(&cx, mem, "f", 0).unwrap();
        assert_eq!((a, m), (atim, mtim), "FOLLOW sets the target's times");
        let (ptr, len) = put(mem, PATH, b"ln");
        path_filestat_set_times(&cx, mem, ROOT, 0, ptr, len, 7, 8, both).unwrap();
        assert_eq!(stat(&cx, mem, "ln", 0).unwrap().3, 7);
        assert_eq!(stat(&cx, mem, "ln", 0).unwrap().4, 8);
        assert_eq!(stat(&cx, mem, "f", 0).unwrap().4, mtim, "without FOLLOW the link's own times");
        let (ptr, len) = put(mem, PATH, b"f");
        path_filestat_set_times(&cx, mem, ROOT, 0, ptr, len, 0, 9, fstflags::MTIM as u32).unwrap();
        let (_, _, _, a, m) = stat(&cx, mem, "f", 0).unwrap();
        assert_eq!((a, m), (atim, 9), "an omitted time is left alone");
        let bad = (fstflags::MTIM | fstflags::MTIM_NOW) as u32;
        assert_eq!(errno(path_filestat_set_times(&cx, mem, ROOT, 0, ptr, len, 0, 0, bad)), Errno::Inval);
        assert_eq!(errno(path_filestat_set_times(&cx, mem, ROOT, 4, ptr, len, 0, 0, 0)), Errno::Inval);
        assert!(matches!(stat(&cx, mem, "f", 2), Err(Error::Errno(Errno::Inval))));
    }

    /// A fresh sandbox holding a FIFO "p" (its host path is returned too).
    fn fifo_sandbox() -> (tempfile::TempDir, std::sync::Arc<Ctx>, PathBuf) {
        let (tmp, cx) = sandbox();
        let fifo = tmp.path().join("p");
        let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, mode, 0).unwrap();
        (tmp, std::sync::Arc::new(cx), fifo)
    }

    /// Runs `op` on another thread; None if it takes longer than `limit`.
    fn within<T: Send + 'static>(limit: Duration, op: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(op());
        });
        rx.recv_timeout(limit).ok()
    }

    #[test]
    fn opening_a_fifo_never_waits_in_open_and_data_flows_both_ways() {
        let (_tmp, cx, fifo) = fifo_sandbox();
        // Reading: the open returns at once; the first read waits for a writer, gets its
        // data, and the next one the end of the stream.
        let guest = {
            let cx = cx.clone();
            std::thread::spawn(move || {
                let mut bytes = memory();
                let mem = &mut GuestMemory::new(&mut bytes);
                let start = Instant::now();
                let fd = open(&cx, mem, "p", 0, rights::FD_READ, 0)?;
                let opened = start.elapsed();
                let data = read(&cx, mem, fd, 100)?;
                let read_at = start.elapsed();
                let end = read(&cx, mem, fd, 100)?;
                fd::fd_close(&cx, mem, fd)?;
                Ok::<_, Error>((opened, data, read_at, end))
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let native = within(Duration::from_secs(2), {
            let fifo = fifo.clone();
            move || std::fs::write(fifo, b"to the guest")
        });
        assert!(native.is_some_and(|r| r.is_ok()), "the guest's reader was not open");
        let (opened, data, read_at, end) = guest.join().unwrap().unwrap();
        assert!(opened < Duration::from_millis(200), "path_open waited {opened:?} for a writer");
        assert_eq!(data, b"to the guest");
        assert!(read_at >= Duration::from_millis(250), "the read did not wait for the writer");
        assert_eq!(end, b"", "after the writer left");

        // Writing: with NONBLOCK and no reader, ENXIO, as POSIX says.
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        assert_eq!(errno(open(&cx, mem, "p", 0, rights::FD_WRITE, fdflags::NONBLOCK)), Errno::Nxio);
        // Without, the open waits for a reader, then the data goes through.
        let guest = {
            let cx = cx.clone();
            std::thread::spawn(move || {
                let mut bytes = memory();
                let mem = &mut GuestMemory::new(&mut bytes);
                let start = Instant::now();
                let fd = open(&cx, mem, "p", 0, rights::FD_WRITE, 0)?;
                let opened = start.elapsed();
                write(&cx, mem, fd, b"from the guest")?;
                fd::fd_close(&cx, mem, fd)?;
                Ok::<_, Error>(opened)
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let got = within(Duration::from_secs(2), move || std::fs::read(fifo));
        let opened = guest.join().unwrap().unwrap();
        assert_eq!(got.expect("the native reader got nothing").unwrap(), b"from the guest");
        assert!(opened >= Duration::from_millis(250), "the open did not wait for a reader: {opened:?}");
    }

    #[test]
    fn waiting_on_a_fifo_ends_with_the_instance() {
        for write_side in [false, true] {
            let (_tmp, cx, fifo) = fifo_sandbox();
            let guest = {
                let cx = cx.clone();
                std::thread::spawn(move || {
                    let mut bytes = memory();
                    let mem = &mut GuestMemory::new(&mut bytes);
                    if write_side {
                        open(&cx, mem, "p", 0, rights::FD_WRITE, 0).map(|_| ())
                    } else {
                        let fd = open(&cx, mem, "p", 0, rights::FD_READ, 0)?;
                        read(&cx, mem, fd, 10).map(|_| ())
                    }
                })
            };
            std::thread::sleep(Duration::from_millis(200));
            cx.interrupt.trigger(Error::Trap(crate::errno::Trap("stop".into())));
            let ended = within(Duration::from_secs(2), move || guest.join().unwrap());
            if ended.is_none() {
                // Stuck in open(2) (the bug): a native reader-and-writer sets it free.
                let _unblock = std::fs::OpenOptions::new().read(true).write(true).open(&fifo);
                panic!("write_side={write_side}: the guest stayed blocked after the instance stopped");
            }
            assert_eq!(
                ended.unwrap(),
                Err(Error::Trap(crate::errno::Trap("stop".into()))),
                "write_side={write_side}"
            );
        }
    }

    #[test]
    fn setting_the_times_of_a_fifo_does_not_open_it() {
        let (tmp, cx, fifo) = fifo_sandbox();
        host_symlink("p", tmp.path().join("link")).unwrap();
        let at = 1_000_000_000_123_456_789u64;
        let both = (fstflags::ATIM | fstflags::MTIM) as u32;
        let set = within(Duration::from_secs(2), {
            let cx = cx.clone();
            move || {
                let mut bytes = memory();
                let mem = &mut GuestMemory::new(&mut bytes);
                let mut results = Vec::new();
                for name in ["p", "link", "."] {
                    let (ptr, len) = put(mem, PATH, name.as_bytes());
                    results.push(path_filestat_set_times(&cx, mem, ROOT, FOLLOW, ptr, len, at, at, both));
                }
                results
            }
        });
        let Some(results) = set else {
            // Stuck in open(2) (the bug): a native reader-and-writer sets it free.
            let _unblock = std::fs::OpenOptions::new().read(true).write(true).open(&fifo);
            panic!("path_filestat_set_times waited for a FIFO peer");
        };
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        let mut bytes = memory();
        let mem = &mut GuestMemory::new(&mut bytes);
        for name in ["p", "."] {
            let st = stat(&cx, mem, name, FOLLOW).unwrap();
            assert_eq!((st.3, st.4), (at, at), "{name}");
        }
        // The link itself was left alone.
        let link = stat(&cx, mem, "link", 0).unwrap();
        assert_ne!(link.4, at);
    }
}
