//! Helpers shared by the `fd_*` and `path_*` functions: error mapping, filestat conversion and
//! timestamp arguments.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use cap_std::fs::{FileTypeExt, MetadataExt};

use crate::abi::{Filestat, Filetype, fstflags};
use crate::errno::Errno;
use crate::table::{Descriptor, Kind};

/// The errno of a failed filesystem call made through cap-std.
///
/// cap-std reports a path that would leave the directory (`..` past the root, an absolute
/// path, a symlink pointing outside) as `PermissionDenied` without an OS code; WASI calls that
/// ENOTCAPABLE. A real EACCES from the OS carries its code and stays EACCES.
pub(crate) fn fs_errno(err: io::Error) -> Errno {
    if err.raw_os_error().is_none() && err.kind() == io::ErrorKind::PermissionDenied {
        Errno::NotCapable
    } else {
        Errno::from(err)
    }
}

/// The host fd behind any descriptor.
pub(crate) fn host_fd(d: &Descriptor) -> BorrowedFd<'_> {
    match &d.kind {
        Kind::File(f) => f.file.as_fd(),
        Kind::Dir(d) => d.dir.as_fd(),
        Kind::Socket(s) => s.socket.as_fd(),
    }
}

fn nanos(secs: i64, nsecs: i64) -> u64 {
    // WASI timestamps are unsigned; a time before 1970 wraps as it does in abi::Filestat.
    (secs as u64).wrapping_mul(1_000_000_000).wrapping_add(nsecs as u64)
}

/// The filestat of an `fstat` result. The file type comes from the mode; callers that know
/// better (sockets) overwrite it.
// Field widths of `struct stat` differ between architectures, hence the casts.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn filestat_from_stat(st: &rustix::fs::Stat) -> Filestat {
    use rustix::fs::FileType as Ft;
    let filetype = match Ft::from_raw_mode(st.st_mode as rustix::fs::RawMode) {
        Ft::RegularFile => Filetype::RegularFile,
        Ft::Directory => Filetype::Directory,
        Ft::Symlink => Filetype::SymbolicLink,
        Ft::CharacterDevice => Filetype::CharacterDevice,
        Ft::BlockDevice => Filetype::BlockDevice,
        Ft::Socket => Filetype::SocketStream,
        _ => Filetype::Unknown,
    };
    Filestat {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        filetype: filetype as u8,
        nlink: st.st_nlink as u64,
        size: st.st_size as u64,
        atim: nanos(st.st_atime as i64, st.st_atime_nsec as i64),
        mtim: nanos(st.st_mtime as i64, st.st_mtime_nsec as i64),
        ctim: nanos(st.st_ctime as i64, st.st_ctime_nsec as i64),
    }
}

/// The WASI file type of a cap-std file type.
pub(crate) fn filetype_of(ft: cap_std::fs::FileType) -> Filetype {
    if ft.is_dir() {
        Filetype::Directory
    } else if ft.is_file() {
        Filetype::RegularFile
    } else if ft.is_symlink() {
        Filetype::SymbolicLink
    } else if ft.is_char_device() {
        Filetype::CharacterDevice
    } else if ft.is_block_device() {
        Filetype::BlockDevice
    } else if ft.is_socket() {
        Filetype::SocketStream
    } else {
        Filetype::Unknown
    }
}

/// The filestat of cap-std metadata (path_filestat_get).
pub(crate) fn filestat_from_metadata(m: &cap_std::fs::Metadata) -> Filestat {
    Filestat {
        dev: m.dev(),
        ino: m.ino(),
        filetype: filetype_of(m.file_type()) as u8,
        nlink: m.nlink(),
        size: m.size(),
        atim: nanos(m.atime(), m.atime_nsec()),
        mtim: nanos(m.mtime(), m.mtime_nsec()),
        ctim: nanos(m.ctime(), m.ctime_nsec()),
    }
}

/// One timestamp argument of `*_filestat_set_times`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeSpec {
    /// Leave it unchanged.
    Omit,
    /// The current time.
    Now,
    /// Nanoseconds since the epoch.
    At(u64),
}

/// Decodes `atim`, `mtim` and `fst_flags`. A time given both explicitly and as "now", or an
/// unknown flag bit, is EINVAL.
pub(crate) fn time_specs(atim: u64, mtim: u64, fst_flags: u32) -> Result<(TimeSpec, TimeSpec), Errno> {
    let all = fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW;
    let flags = u16::try_from(fst_flags).map_err(|_| Errno::Inval)?;
    if flags & !all != 0 {
        return Err(Errno::Inval);
    }
    let one = |value: u64, set: u16, now: u16| match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(TimeSpec::At(value)),
        (false, true) => Ok(TimeSpec::Now),
        (false, false) => Ok(TimeSpec::Omit),
    };
    Ok((one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?, one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?))
}

impl TimeSpec {
    /// As a `utimensat` timespec.
    pub(crate) fn to_timespec(self) -> rustix::fs::Timespec {
        match self {
            TimeSpec::Omit => rustix::fs::Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_OMIT },
            TimeSpec::Now => rustix::fs::Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_NOW },
            TimeSpec::At(ns) => rustix::fs::Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as _,
            },
        }
    }

    /// As a cap-fs-ext time (`None` leaves the time unchanged).
    pub(crate) fn to_cap(self) -> Option<cap_fs_ext::SystemTimeSpec> {
        match self {
            TimeSpec::Omit => None,
            TimeSpec::Now => Some(cap_fs_ext::SystemTimeSpec::SymbolicNow),
            TimeSpec::At(ns) => Some(cap_fs_ext::SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(std::time::UNIX_EPOCH + Duration::from_nanos(ns)),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_notcapable_but_os_eacces_stays() {
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "a path led outside of the filesystem");
        assert_eq!(fs_errno(escape), Errno::NotCapable);
        assert_eq!(fs_errno(io::Error::from_raw_os_error(libc::EACCES)), Errno::Acces);
        assert_eq!(fs_errno(io::Error::from_raw_os_error(libc::ENOENT)), Errno::NoEnt);
    }

    #[test]
    fn time_flags_are_validated() {
        assert_eq!(time_specs(5, 6, 0), Ok((TimeSpec::Omit, TimeSpec::Omit)));
        assert_eq!(
            time_specs(5, 6, (fstflags::ATIM | fstflags::MTIM_NOW) as u32),
            Ok((TimeSpec::At(5), TimeSpec::Now))
        );
        assert_eq!(time_specs(5, 6, (fstflags::ATIM | fstflags::ATIM_NOW) as u32), Err(Errno::Inval));
        assert_eq!(time_specs(5, 6, (fstflags::MTIM | fstflags::MTIM_NOW) as u32), Err(Errno::Inval));
        assert_eq!(time_specs(5, 6, 1 << 4), Err(Errno::Inval));
        assert_eq!(time_specs(5, 6, 1 << 16), Err(Errno::Inval));
        let ts = TimeSpec::At(3_000_000_007).to_timespec();
        assert_eq!((ts.tv_sec, ts.tv_nsec), (3, 7));
    }
}

/// Shared helpers for the fd and path tests: a sandbox preopened at fd 3 and fixed offsets in a
/// 64 KiB guest memory.
#[cfg(test)]
pub(crate) mod testing {
    use crate::abi::{lookupflags, rights};
    use crate::ctx::{Ctx, CtxBuilder};
    use crate::errno::{Errno, Error, Result};
    use crate::memory::GuestMemory;
    use crate::p1::{fd, path};

    pub const MEM_SIZE: usize = 64 * 1024;
    /// The preopened sandbox directory.
    pub const ROOT: u32 = 3;
    pub const PATH: u32 = 0x100;
    pub const PATH2: u32 = 0x800;
    pub const IOV: u32 = 0x1000;
    pub const OUT: u32 = 0x2000;
    pub const OUT2: u32 = 0x2100;
    pub const BUF: u32 = 0x4000;
    /// A pointer whose 4- or 8-byte target runs past the end of memory.
    pub const WILD: u32 = MEM_SIZE as u32 - 2;
    /// What wasi-libc asks for when opening read-write.
    pub const RW: u64 = rights::REGULAR_FILE | rights::DIRECTORY;

    /// A temporary directory preopened as "/sandbox" (fd 3), and its context.
    pub fn sandbox() -> (tempfile::TempDir, Ctx) {
        let tmp = tempfile::tempdir().unwrap();
        let cx = CtxBuilder::new().preopen_dir(tmp.path(), "/sandbox").unwrap().build().unwrap();
        (tmp, cx)
    }

    pub fn memory() -> Vec<u8> {
        vec![0u8; MEM_SIZE]
    }

    /// Writes `s` at `ptr` and returns (ptr, len) for a path argument.
    pub fn put(mem: &mut GuestMemory<'_>, ptr: u32, s: &[u8]) -> (u32, u32) {
        mem.write_bytes(ptr, s).unwrap();
        (ptr, s.len() as u32)
    }

    /// The errno of a failed call; panics on success or a trap.
    #[track_caller]
    pub fn errno<T: std::fmt::Debug>(r: Result<T>) -> Errno {
        match r {
            Err(Error::Errno(e)) => e,
            other => panic!("expected an errno, got {other:?}"),
        }
    }

    /// Whether a call trapped.
    pub fn trapped<T>(r: Result<T>) -> bool {
        matches!(r, Err(Error::Trap(_)))
    }

    /// path_open under the sandbox root, following symlinks; returns the new fd.
    pub fn open(
        cx: &Ctx,
        mem: &mut GuestMemory<'_>,
        p: &str,
        oflags: u16,
        base: u64,
        fdflags: u16,
    ) -> Result<u32> {
        open_at(cx, mem, ROOT, p, oflags, base, fdflags)
    }

    pub fn open_at(
        cx: &Ctx,
        mem: &mut GuestMemory<'_>,
        dir: u32,
        p: &str,
        oflags: u16,
        base: u64,
        fdflags: u16,
    ) -> Result<u32> {
        let (ptr, len) = put(mem, PATH, p.as_bytes());
        let follow = lookupflags::SYMLINK_FOLLOW;
        path::path_open(cx, mem, dir, follow, ptr, len, oflags as u32, base, RW, fdflags as u32, OUT)?;
        Ok(mem.read::<u32>(OUT).unwrap())
    }

    /// fd_write of `data` as one iovec; returns the count written.
    pub fn write(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, data: &[u8]) -> Result<u32> {
        mem.write_bytes(BUF, data).unwrap();
        mem.write(IOV, BUF).unwrap();
        mem.write(IOV + 4, data.len() as u32).unwrap();
        fd::fd_write(cx, mem, fd, IOV, 1, OUT)?;
        Ok(mem.read::<u32>(OUT).unwrap())
    }

    /// fd_read of up to `n` bytes as one iovec.
    pub fn read(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, n: u32) -> Result<Vec<u8>> {
        mem.write(IOV, BUF).unwrap();
        mem.write(IOV + 4, n).unwrap();
        fd::fd_read(cx, mem, fd, IOV, 1, OUT)?;
        let got = mem.read::<u32>(OUT).unwrap();
        Ok(mem.read_bytes(BUF, got).unwrap())
    }
}
