//! WASI preview 1 types and their layouts in guest memory (`typenames.witx`, wasm32).
//!
//! Each struct is encoded field by field at the witx offsets; the tests pin sizes and offsets.

use crate::errno::Trap;
use crate::memory::GuestMemory;

/// `$filetype`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Filetype {
    Unknown = 0,
    BlockDevice = 1,
    CharacterDevice = 2,
    Directory = 3,
    RegularFile = 4,
    SocketDgram = 5,
    SocketStream = 6,
    SymbolicLink = 7,
}

impl Filetype {
    /// The WASI file type of host metadata.
    pub fn from_std(ft: std::fs::FileType) -> Filetype {
        use std::os::unix::fs::FileTypeExt;
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
}

/// `$fdflags` bits.
pub mod fdflags {
    #![allow(missing_docs)]
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// `$oflags` bits.
pub mod oflags {
    #![allow(missing_docs)]
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
}

/// `$lookupflags` bits.
pub mod lookupflags {
    #![allow(missing_docs)]
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// `$fstflags` bits (fd/path_filestat_set_times).
pub mod fstflags {
    #![allow(missing_docs)]
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// `$whence`.
pub mod whence {
    #![allow(missing_docs)]
    pub const SET: u8 = 0;
    pub const CUR: u8 = 1;
    pub const END: u8 = 2;
}

/// `$clockid`.
pub mod clockid {
    #![allow(missing_docs)]
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `$eventtype` and `$subclockflags`, `$eventrwflags` for poll_oneoff.
pub mod event {
    #![allow(missing_docs)]
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
    pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;
    pub const FD_READWRITE_HANGUP: u16 = 1 << 0;
}

/// `$riflags`, `$roflags`, `$siflags`, `$sdflags`.
pub mod sockflags {
    #![allow(missing_docs)]
    pub const RECV_PEEK: u16 = 1 << 0;
    pub const RECV_WAITALL: u16 = 1 << 1;
    pub const RECV_DATA_TRUNCATED: u16 = 1 << 0;
    pub const SHUT_RD: u8 = 1 << 0;
    pub const SHUT_WR: u8 = 1 << 1;
}

/// `$rights` bits. Bits 28.. are WAMR's socket rights (spec §6.2), not witx's.
pub mod rights {
    #![allow(missing_docs)]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_CONNECT: u64 = 1 << 28;
    pub const SOCK_LISTEN: u64 = 1 << 29;
    pub const SOCK_BIND: u64 = 1 << 30;
    pub const SOCK_ACCEPT: u64 = 1 << 31;
    pub const SOCK_RECV: u64 = 1 << 32;
    pub const SOCK_SEND: u64 = 1 << 33;
    pub const SOCK_ADDR_LOCAL: u64 = 1 << 34;
    pub const SOCK_ADDR_REMOTE: u64 = 1 << 35;
    pub const SOCK_RECV_FROM: u64 = 1 << 36;
    pub const SOCK_SEND_TO: u64 = 1 << 37;
    /// Every right WAMR knows (38 bits).
    pub const ALL: u64 = (1 << 38) - 1;

    /// What a regular file may do.
    pub const REGULAR_FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// What a directory may do.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// What a terminal, pipe or other stream may do.
    pub const STREAM: u64 = FD_READ | FD_FDSTAT_SET_FLAGS | FD_WRITE | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// A socket's base rights as WAMR reports them: `0x3ff820004a` (spec §6.2).
    pub const SOCKET: u64 = STREAM | (0x3ff << 28);
}

/// `$filestat`: 64 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    /// Size in guest memory.
    pub const SIZE: u32 = 64;

    /// The filestat of host metadata.
    pub fn from_metadata(m: &std::fs::Metadata) -> Filestat {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| (s as u64).wrapping_mul(1_000_000_000).wrapping_add(n as u64);
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: Filetype::from_std(m.file_type()) as u8,
            nlink: m.nlink(),
            size: m.size(),
            atim: ns(m.atime(), m.atime_nsec()),
            mtim: ns(m.mtime(), m.mtime_nsec()),
            ctim: ns(m.ctime(), m.ctime_nsec()),
        }
    }

    /// Writes it at `ptr`.
    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> Result<(), Trap> {
        let mut b = [0u8; Self::SIZE as usize];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        mem.write_bytes(ptr, &b)
    }
}

/// `$fdstat`: 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Fdstat {
    pub filetype: Filetype,
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// Size in guest memory.
    pub const SIZE: u32 = 24;

    /// Writes it at `ptr`.
    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> Result<(), Trap> {
        let mut b = [0u8; Self::SIZE as usize];
        b[0] = self.filetype as u8;
        b[2..4].copy_from_slice(&self.flags.to_le_bytes());
        b[8..16].copy_from_slice(&self.rights_base.to_le_bytes());
        b[16..24].copy_from_slice(&self.rights_inheriting.to_le_bytes());
        mem.write_bytes(ptr, &b)
    }
}

/// `$dirent` header: 24 bytes, followed by the name (not NUL-terminated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Dirent {
    pub next: u64,
    pub ino: u64,
    pub namlen: u32,
    pub filetype: u8,
}

impl Dirent {
    /// Size of the header in guest memory.
    pub const SIZE: usize = 24;

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0..8].copy_from_slice(&self.next.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..20].copy_from_slice(&self.namlen.to_le_bytes());
        b[20] = self.filetype;
        b
    }
}

/// One `$subscription` (48 bytes) as poll_oneoff reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Subscription {
    pub userdata: u64,
    pub kind: SubscriptionKind,
}

/// The union inside a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SubscriptionKind {
    Clock { id: u32, timeout: u64, precision: u64, flags: u16 },
    FdRead { fd: u32 },
    FdWrite { fd: u32 },
}

impl Subscription {
    /// Size in guest memory.
    pub const SIZE: u32 = 48;

    /// Reads one at `ptr`. An unknown tag is `None` (the caller answers EINVAL).
    pub fn read(mem: &GuestMemory<'_>, ptr: u32) -> Result<Option<Subscription>, Trap> {
        let b: [u8; Self::SIZE as usize] = mem.read_array(ptr)?;
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let kind = match b[8] {
            event::CLOCK => SubscriptionKind::Clock {
                id: u32_at(16),
                timeout: u64_at(24),
                precision: u64_at(32),
                flags: u16::from_le_bytes([b[40], b[41]]),
            },
            event::FD_READ => SubscriptionKind::FdRead { fd: u32_at(16) },
            event::FD_WRITE => SubscriptionKind::FdWrite { fd: u32_at(16) },
            _ => return Ok(None),
        };
        Ok(Some(Subscription { userdata: u64_at(0), kind }))
    }
}

/// One `$event` (32 bytes) as poll_oneoff writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Event {
    pub userdata: u64,
    pub error: u16,
    pub kind: u8,
    pub nbytes: u64,
    pub flags: u16,
}

impl Event {
    /// Size in guest memory.
    pub const SIZE: u32 = 32;

    /// Writes it at `ptr`.
    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> Result<(), Trap> {
        let mut b = [0u8; Self::SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        mem.write_bytes(ptr, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_rights_are_wamrs() {
        assert_eq!(rights::SOCKET, 0x3f_f820_004a);
        assert_eq!(rights::ALL, 0x3f_ffff_ffff);
    }

    #[test]
    fn layouts_match_witx_offsets() {
        let mut bytes = vec![0xEEu8; 128];
        let mut mem = GuestMemory::new(&mut bytes);
        let st = Fdstat { filetype: Filetype::SocketStream, flags: 4, rights_base: 1, rights_inheriting: 2 };
        st.write(&mut mem, 8).unwrap();
        let b = mem.read_bytes(8, 24).unwrap();
        assert_eq!(b[0], 6);
        assert_eq!(&b[2..4], &[4, 0]);
        assert_eq!(b[8], 1);
        assert_eq!(b[16], 2);
        let ev = Event { userdata: 7, error: 28, kind: event::FD_WRITE, nbytes: 9, flags: 1 };
        ev.write(&mut mem, 64).unwrap();
        let b = mem.read_bytes(64, 32).unwrap();
        assert_eq!((b[0], b[8], b[10], b[16], b[24]), (7, 28, 2, 9, 1));
        assert!(Filestat::default().write(&mut mem, 65).is_err());
    }

    #[test]
    fn subscriptions_decode() {
        let mut bytes = vec![0u8; 48];
        bytes[0] = 42;
        bytes[8] = event::CLOCK;
        bytes[16] = clockid::MONOTONIC as u8;
        bytes[24..32].copy_from_slice(&1_000_000u64.to_le_bytes());
        bytes[40] = 1;
        let mem = GuestMemory::new(&mut bytes);
        let sub = Subscription::read(&mem, 0).unwrap().unwrap();
        assert_eq!(sub.userdata, 42);
        assert_eq!(sub.kind, SubscriptionKind::Clock { id: 1, timeout: 1_000_000, precision: 0, flags: 1 });
    }
}
