//! The `wasi_unstable` (snapshot 0) functions whose layout differs from preview 1.
//!
//! Snapshot 0 orders `$whence` CUR=0, END=1, SET=2; its `$filestat` is 56 bytes with a u32
//! `nlink`; its `$subscription` is 56 bytes, with an extra `identifier` in the clock variant.
//! Everything else is shared with preview 1, so these translate and reuse the preview 1 code
//! (`fd::fd_seek`, `fd::fd_filestat`, `path::path_filestat`, `poll::poll_subscriptions`).

use crate::abi::{Filestat, Subscription, SubscriptionKind, event, whence};
use crate::ctx::Ctx;
use crate::errno::{Errno, Result, Trap};
use crate::memory::GuestMemory;
use crate::p1::poll;

/// `fd_seek` with snapshot 0's `whence` numbering.
pub fn fd_seek(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    whence: u32,
    newoffset: u32,
) -> Result<()> {
    let whence = whence_to_preview1(whence)?;
    crate::p1::fd::fd_seek(cx, mem, fd, offset, u32::from(whence), newoffset)
}

/// Snapshot 0's `$whence` (CUR=0, END=1, SET=2) as preview 1's (SET=0, CUR=1, END=2).
pub fn whence_to_preview1(snapshot0: u32) -> Result<u8, Errno> {
    match snapshot0 {
        0 => Ok(whence::CUR),
        1 => Ok(whence::END),
        2 => Ok(whence::SET),
        _ => Err(Errno::Inval),
    }
}

/// `fd_filestat_get` writing snapshot 0's 56-byte filestat.
pub fn fd_filestat_get(cx: &Ctx, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> Result<()> {
    mem.check(out, Filestat0::SIZE)?;
    Filestat0(crate::p1::fd::fd_filestat(cx, fd)?).write(mem, out)?;
    Ok(())
}

/// `path_filestat_get` writing snapshot 0's 56-byte filestat.
pub fn path_filestat_get(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    out: u32,
) -> Result<()> {
    mem.check(out, Filestat0::SIZE)?;
    let st = crate::p1::path::path_filestat(cx, mem, fd, flags, path, path_len)?;
    Filestat0(st).write(mem, out)?;
    Ok(())
}

/// `poll_oneoff` reading snapshot 0's 56-byte subscriptions; events are as in preview 1.
pub fn poll_oneoff(
    cx: &Ctx,
    mem: &mut GuestMemory<'_>,
    subs: u32,
    events: u32,
    nsubscriptions: u32,
    nevents: u32,
) -> Result<()> {
    let subs = poll::read_subscriptions(mem, subs, nsubscriptions, SUBSCRIPTION0_SIZE, read_subscription0)?;
    poll::poll_subscriptions(cx, mem, &subs, events, nevents, poll::PendingError::AsEio)
}

/// Size of a snapshot 0 `$subscription`.
pub const SUBSCRIPTION0_SIZE: u32 = 56;

/// Reads one snapshot 0 subscription at `ptr`: userdata u64 @0, tag u8 @8, then either a
/// clock (identifier u64 @16, which nothing needs; clock id u32 @24, timeout u64 @32,
/// precision u64 @40, flags u16 @48) or an fd (u32 @16). An unknown tag is `None`.
pub fn read_subscription0(mem: &GuestMemory<'_>, ptr: u32) -> Result<Option<Subscription>, Trap> {
    let b: [u8; SUBSCRIPTION0_SIZE as usize] = mem.read_array(ptr)?;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
    let kind = match b[8] {
        event::CLOCK => SubscriptionKind::Clock {
            id: u32_at(24),
            timeout: u64_at(32),
            precision: u64_at(40),
            flags: u16::from_le_bytes([b[48], b[49]]),
        },
        event::FD_READ => SubscriptionKind::FdRead { fd: u32_at(16) },
        event::FD_WRITE => SubscriptionKind::FdWrite { fd: u32_at(16) },
        _ => return Ok(None),
    };
    Ok(Some(Subscription { userdata: u64_at(0), kind }))
}

/// A filestat in snapshot 0's 56-byte layout: dev u64 @0, ino u64 @8, filetype u8 @16,
/// nlink u32 @20, size u64 @24, atim u64 @32, mtim u64 @40, ctim u64 @48.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filestat0(pub Filestat);

impl Filestat0 {
    /// Size in guest memory.
    pub const SIZE: u32 = 56;

    /// Writes it at `ptr`. A link count past u32 saturates.
    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> Result<(), Trap> {
        let st = &self.0;
        let mut b = [0u8; Self::SIZE as usize];
        b[0..8].copy_from_slice(&st.dev.to_le_bytes());
        b[8..16].copy_from_slice(&st.ino.to_le_bytes());
        b[16] = st.filetype;
        b[20..24].copy_from_slice(&u32::try_from(st.nlink).unwrap_or(u32::MAX).to_le_bytes());
        b[24..32].copy_from_slice(&st.size.to_le_bytes());
        b[32..40].copy_from_slice(&st.atim.to_le_bytes());
        b[40..48].copy_from_slice(&st.mtim.to_le_bytes());
        b[48..56].copy_from_slice(&st.ctim.to_le_bytes());
        mem.write_bytes(ptr, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CtxBuilder;
    use crate::abi::{Event, Filetype, clockid, lookupflags, rights};
    use crate::errno::Error;
    use crate::p1::poll::tests::{events_at, tcp_pair};
    use crate::table::{Descriptor, Dir, File, Kind};
    use std::io::Write;
    use std::time::{Duration, Instant};

    fn ctx() -> Ctx {
        CtxBuilder::new().build().unwrap()
    }

    #[test]
    fn whence_is_renumbered() {
        assert_eq!(whence_to_preview1(0), Ok(whence::CUR));
        assert_eq!(whence_to_preview1(1), Ok(whence::END));
        assert_eq!(whence_to_preview1(2), Ok(whence::SET));
        assert_eq!(whence_to_preview1(3), Err(Errno::Inval));
        assert_eq!(whence_to_preview1(u32::MAX), Err(Errno::Inval));
    }

    #[test]
    fn fd_seek_rejects_a_bad_whence_itself() {
        // Rejected here, before preview 1's fd_seek sees the fd (stdin, which cannot seek).
        let cx = ctx();
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        assert_eq!(fd_seek(&cx, &mut mem, 0, 0, 3, 0), Err(Errno::Inval.into()));
        assert_eq!(fd_seek(&cx, &mut mem, 0, 0, 256, 0), Err(Errno::Inval.into()));
    }

    #[test]
    fn fd_seek_on_a_regular_file_uses_snapshot0_numbers() {
        let cx = ctx();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let fd = cx.push(Descriptor::new(Kind::File(File::new(file, Filetype::RegularFile)))).unwrap();
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        // Each step gives a different answer under preview 1's numbering.
        fd_seek(&cx, &mut mem, fd, 3, 2, 8).unwrap(); // SET 3
        assert_eq!(mem.read::<u64>(8).unwrap(), 3);
        fd_seek(&cx, &mut mem, fd, 2, 0, 8).unwrap(); // CUR +2
        assert_eq!(mem.read::<u64>(8).unwrap(), 5);
        fd_seek(&cx, &mut mem, fd, -1i64 as u64, 1, 8).unwrap(); // END -1
        assert_eq!(mem.read::<u64>(8).unwrap(), 9);
    }

    #[test]
    fn subscription0_decodes_at_its_offsets() {
        let mut bytes = vec![0xAAu8; 200];
        let mut mem = GuestMemory::new(&mut bytes);
        // A clock at 0.
        mem.write(0u32, 0x1122_3344_5566_7788u64).unwrap();
        mem.write(8u32, event::CLOCK).unwrap();
        mem.write(16u32, 0xFFFF_FFFF_FFFF_FFFFu64).unwrap(); // identifier: ignored
        mem.write(24u32, clockid::MONOTONIC).unwrap();
        mem.write(32u32, 123_456_789u64).unwrap();
        mem.write(40u32, 1000u64).unwrap();
        mem.write(48u32, 1u16).unwrap();
        // An fd_write at 56.
        mem.write(56u32, 9u64).unwrap();
        mem.write(64u32, event::FD_WRITE).unwrap();
        mem.write(72u32, 5u32).unwrap();
        // An unknown tag at 112.
        mem.write(120u32, 7u8).unwrap();
        assert_eq!(
            read_subscription0(&mem, 0).unwrap(),
            Some(Subscription {
                userdata: 0x1122_3344_5566_7788,
                kind: SubscriptionKind::Clock { id: 1, timeout: 123_456_789, precision: 1000, flags: 1 },
            })
        );
        assert_eq!(
            read_subscription0(&mem, 56).unwrap(),
            Some(Subscription { userdata: 9, kind: SubscriptionKind::FdWrite { fd: 5 } })
        );
        assert_eq!(read_subscription0(&mem, 112).unwrap(), None);
        assert!(read_subscription0(&mem, 200 - 55).is_err(), "56 bytes must fit");
    }

    #[test]
    fn poll_oneoff_snapshot0_waits_on_a_clock() {
        let cx = ctx();
        let mut bytes = vec![0u8; 1024];
        let mut mem = GuestMemory::new(&mut bytes);
        // Two 56-byte subscriptions: a 10 s clock, and a 20 ms clock that must win.
        for (i, (userdata, timeout)) in [(1u64, 10_000_000_000u64), (2, 20_000_000)].into_iter().enumerate() {
            let at = i as u32 * 56;
            mem.write(at, userdata).unwrap();
            mem.write(at + 8, event::CLOCK).unwrap();
            mem.write(at + 16, 0xABCDu64).unwrap();
            mem.write(at + 24, clockid::MONOTONIC).unwrap();
            mem.write(at + 32, timeout).unwrap();
        }
        let start = Instant::now();
        poll_oneoff(&cx, &mut mem, 0, 512, 2, 1000).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(mem.read::<u32>(1000).unwrap(), 1);
        assert_eq!(
            events_at(&mem, 512, 1),
            vec![Event { userdata: 2, error: 0, kind: event::CLOCK, nbytes: 0, flags: 0 }]
        );
    }

    #[test]
    fn poll_oneoff_snapshot0_reads_the_fd_at_16() {
        let cx = ctx();
        let (fd, mut peer) = tcp_pair(&cx);
        peer.write_all(b"abc").unwrap();
        let mut bytes = vec![0u8; 1024];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write(0u32, 44u64).unwrap();
        mem.write(8u32, event::FD_READ).unwrap();
        mem.write(16u32, fd).unwrap();
        // A 5 s safety clock in the second slot.
        mem.write(56u32, 45u64).unwrap();
        mem.write(64u32, event::CLOCK).unwrap();
        mem.write(80u32, clockid::MONOTONIC).unwrap();
        mem.write(88u32, 5_000_000_000u64).unwrap();
        poll_oneoff(&cx, &mut mem, 0, 512, 2, 1000).unwrap();
        assert_eq!(mem.read::<u32>(1000).unwrap(), 1);
        assert_eq!(
            events_at(&mem, 512, 1),
            vec![Event { userdata: 44, error: 0, kind: event::FD_READ, nbytes: 3, flags: 0 }]
        );
    }

    #[test]
    fn poll_oneoff_snapshot0_checks_its_arguments() {
        let cx = ctx();
        let mut bytes = vec![0u8; 1024];
        let mut mem = GuestMemory::new(&mut bytes);
        assert_eq!(poll_oneoff(&cx, &mut mem, 0, 512, 0, 1000), Err(Errno::Inval.into()));
        mem.write(8u32, 9u8).unwrap();
        assert_eq!(poll_oneoff(&cx, &mut mem, 0, 512, 1, 1000), Err(Errno::Inval.into()));
        mem.write(8u32, event::CLOCK).unwrap();
        // 19 subscriptions of 56 bytes overrun 1024 bytes; 19 of 48 would not.
        assert!(matches!(poll_oneoff(&cx, &mut mem, 0, 0, 19, 1000), Err(Error::Trap(_))));
        assert!(matches!(poll_oneoff(&cx, &mut mem, 0, 1024 - 31, 1, 1000), Err(Error::Trap(_))));
        assert!(matches!(poll_oneoff(&cx, &mut mem, 0, 0, u32::MAX, 1000), Err(Error::Trap(_))));
    }

    #[test]
    fn filestat0_layout() {
        let mut bytes = vec![0xEEu8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        let st = Filestat {
            dev: 0x0101,
            ino: 0x0202,
            filetype: Filetype::RegularFile as u8,
            nlink: 3,
            size: 0x0404,
            atim: 0x0505,
            mtim: 0x0606,
            ctim: 0x0707,
        };
        Filestat0(st).write(&mut mem, 0).unwrap();
        let b = mem.read_bytes(0, 64).unwrap();
        assert_eq!(&b[0..8], &0x0101u64.to_le_bytes());
        assert_eq!(&b[8..16], &0x0202u64.to_le_bytes());
        assert_eq!(&b[16..20], &[4, 0, 0, 0]);
        assert_eq!(&b[20..24], &3u32.to_le_bytes());
        assert_eq!(&b[24..32], &0x0404u64.to_le_bytes());
        assert_eq!(&b[32..40], &0x0505u64.to_le_bytes());
        assert_eq!(&b[40..48], &0x0606u64.to_le_bytes());
        assert_eq!(&b[48..56], &0x0707u64.to_le_bytes());
        assert_eq!(&b[56..64], &[0xEE; 8], "nothing past 56 bytes is written");
        let many_links = Filestat { nlink: u64::MAX, ..st };
        Filestat0(many_links).write(&mut mem, 0).unwrap();
        assert_eq!(mem.read::<u32>(20).unwrap(), u32::MAX);
        assert!(Filestat0(st).write(&mut mem, 9).is_err());
    }

    #[test]
    fn fd_filestat_get_of_a_file_a_dir_and_a_socket() {
        let cx = ctx();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"twelve bytes").unwrap();
        let ino = {
            use std::os::unix::fs::MetadataExt;
            file.metadata().unwrap().ino()
        };
        let fd = cx.push(Descriptor::new(Kind::File(File::new(file, Filetype::RegularFile)))).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = cap_std::fs::Dir::open_ambient_dir(tmp.path(), cap_std::ambient_authority()).unwrap();
        let dfd = cx.push(Descriptor::new(Kind::Dir(Dir { dir, preopen: None }))).unwrap();
        let (sfd, _peer) = tcp_pair(&cx);

        let mut bytes = vec![0u8; 256];
        let mut mem = GuestMemory::new(&mut bytes);
        fd_filestat_get(&cx, &mut mem, fd, 0).unwrap();
        assert_eq!(mem.read::<u64>(8).unwrap(), ino);
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::RegularFile as u8);
        assert_eq!(mem.read::<u32>(20).unwrap(), 0, "a tempfile is unlinked");
        assert_eq!(mem.read::<u64>(24).unwrap(), 12);
        let mtim = mem.read::<u64>(40).unwrap();
        assert!(mtim > 1_600_000_000 * 1_000_000_000, "mtim {mtim} is ns since the epoch");
        fd_filestat_get(&cx, &mut mem, dfd, 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::Directory as u8);
        assert!(mem.read::<u32>(20).unwrap() >= 2);
        fd_filestat_get(&cx, &mut mem, sfd, 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::SocketStream as u8);

        assert_eq!(fd_filestat_get(&cx, &mut mem, 99, 0), Err(Errno::Badf.into()));
        assert!(matches!(fd_filestat_get(&cx, &mut mem, fd, 256 - 55), Err(Error::Trap(_))));
        let (base, _) = cx.get(fd, 0).unwrap().rights();
        cx.get(fd, 0).unwrap().narrow_rights(base & !rights::FD_FILESTAT_GET, 0).unwrap();
        assert_eq!(fd_filestat_get(&cx, &mut mem, fd, 0), Err(Errno::NotCapable.into()));
    }

    #[test]
    fn path_filestat_get_follows_links_only_when_asked_and_stays_inside() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("data"), b"0123456789abcdef").unwrap();
        std::os::unix::fs::symlink("data", tmp.path().join("link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("outside")).unwrap();
        let mut builder = CtxBuilder::new();
        builder.preopen_dir(tmp.path(), "/sandbox").unwrap();
        let cx = builder.build().unwrap();
        let dfd = 3;

        let mut bytes = vec![0u8; 256];
        let mut mem = GuestMemory::new(&mut bytes);
        let stat = |mem: &mut GuestMemory<'_>, path: &str, flags: u32| {
            mem.write_bytes(128, path.as_bytes()).unwrap();
            path_filestat_get(&cx, mem, dfd, flags, 128, path.len() as u32, 0)
        };
        stat(&mut mem, "data", 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::RegularFile as u8);
        assert_eq!(mem.read::<u32>(20).unwrap(), 1);
        assert_eq!(mem.read::<u64>(24).unwrap(), 16);
        stat(&mut mem, "link", 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::SymbolicLink as u8);
        assert_eq!(mem.read::<u64>(24).unwrap(), 4, "a symlink's size is its target's length");
        stat(&mut mem, "link", lookupflags::SYMLINK_FOLLOW).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::RegularFile as u8);
        assert_eq!(mem.read::<u64>(24).unwrap(), 16);
        stat(&mut mem, ".", 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::Directory as u8);

        assert_eq!(stat(&mut mem, "missing", 0), Err(Errno::NoEnt.into()));
        assert_eq!(stat(&mut mem, "../x", 0), Err(Errno::NotCapable.into()));
        assert_eq!(stat(&mut mem, "/etc/passwd", 0), Err(Errno::NotCapable.into()));
        assert_eq!(stat(&mut mem, "outside", lookupflags::SYMLINK_FOLLOW), Err(Errno::NotCapable.into()));
        stat(&mut mem, "outside", 0).unwrap();
        assert_eq!(mem.read::<u8>(16).unwrap(), Filetype::SymbolicLink as u8);

        // stdout lacks the right, a bad fd, bad pointers.
        assert_eq!(path_filestat_get(&cx, &mut mem, 1, 0, 128, 4, 0), Err(Errno::NotCapable.into()));
        assert_eq!(path_filestat_get(&cx, &mut mem, 77, 0, 128, 4, 0), Err(Errno::Badf.into()));
        assert!(matches!(path_filestat_get(&cx, &mut mem, dfd, 0, 250, 10, 0), Err(Error::Trap(_))));
        assert!(matches!(path_filestat_get(&cx, &mut mem, dfd, 0, 128, 4, 201), Err(Error::Trap(_))));
    }
}
