//! The fd table: one per instance, shared by all of its threads.
//!
//! Entries are `Arc<Descriptor>`s: a host call clones the `Arc` under the table lock and
//! releases the lock before any system call, so a blocking `recv` never holds the table, and a
//! concurrent `fd_close` only drops the table's reference (the socket closes when the last
//! call using it returns). New fds get the lowest free number, as POSIX does; WAMR's are
//! random (spec §6.1), which no binary can depend on.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::abi::{Filetype, rights};
use crate::errno::Errno;
use crate::net::Socket;
use crate::stream::IoMode;

/// The default cap on open fds per instance.
pub const DEFAULT_MAX_FDS: u32 = 1024;

/// What an fd refers to.
pub enum Kind {
    /// A file, a terminal, a pipe: anything read and written through a host file descriptor.
    File(File),
    /// A directory, opened through a preopen (never outside one).
    Dir(Dir),
    /// A socket.
    Socket(Socket),
}

/// A host file and the WASI type it reports.
pub struct File {
    /// The host file.
    pub file: std::fs::File,
    /// Reported by fd_fdstat_get and fd_filestat_get.
    pub filetype: Filetype,
    /// How reads and writes avoid blocking in the kernel.
    pub(crate) mode: IoMode,
    /// A FIFO that path_open opened for reading without waiting for a writer: until a writer
    /// has come, reading nothing means "wait", not end of file.
    pub(crate) awaits_writer: bool,
    /// The guest's NONBLOCK flag (the host flag is wasock's business, see [`IoMode`]).
    nonblocking: AtomicBool,
}

impl File {
    /// A host file of the given type, in blocking mode for the guest. Regular files,
    /// directories and block devices are read and written directly; anything else is treated
    /// as a stream whose open file description may be shared, and is never made non-blocking
    /// on the host ([`IoMode::SharedBlocking`]). Stdio goes through [`File::stdio`] instead.
    pub fn new(file: std::fs::File, filetype: Filetype) -> File {
        let mode = match filetype {
            Filetype::RegularFile | Filetype::Directory | Filetype::BlockDevice => IoMode::Direct,
            _ => IoMode::SharedBlocking,
        };
        File::with_mode(file, filetype, mode, false)
    }

    pub(crate) fn with_mode(
        file: std::fs::File,
        filetype: Filetype,
        mode: IoMode,
        nonblocking: bool,
    ) -> File {
        File { file, filetype, mode, awaits_writer: false, nonblocking: AtomicBool::new(nonblocking) }
    }

    /// Whether the guest asked for non-blocking mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Sets the guest's non-blocking mode; the host fd's own flag is left alone.
    pub fn set_nonblocking(&self, on: bool) {
        self.nonblocking.store(on, Ordering::Relaxed);
    }
}

/// A directory capability.
pub struct Dir {
    /// Every path below it is resolved by cap-std, which refuses to leave it.
    pub dir: cap_std::fs::Dir,
    /// The guest-visible name if this is a preopen (fd_prestat_*).
    pub preopen: Option<String>,
}

/// One fd table entry: the object and the rights the guest holds on it.
pub struct Descriptor {
    /// The object.
    pub kind: Kind,
    rights_base: AtomicU64,
    rights_inheriting: AtomicU64,
}

impl Descriptor {
    /// An entry with the rights that suit its kind.
    pub fn new(kind: Kind) -> Descriptor {
        let (base, inheriting) = match &kind {
            Kind::File(f) if f.filetype == Filetype::RegularFile => (rights::REGULAR_FILE, 0),
            Kind::File(_) => (rights::STREAM, 0),
            Kind::Dir(_) => (rights::DIRECTORY, rights::DIRECTORY | rights::REGULAR_FILE),
            Kind::Socket(_) => (rights::SOCKET, rights::ALL),
        };
        Descriptor::with_rights(kind, base, inheriting)
    }

    /// An entry with the given rights.
    pub fn with_rights(kind: Kind, base: u64, inheriting: u64) -> Descriptor {
        Descriptor { kind, rights_base: AtomicU64::new(base), rights_inheriting: AtomicU64::new(inheriting) }
    }

    /// (base, inheriting) rights.
    pub fn rights(&self) -> (u64, u64) {
        (self.rights_base.load(Ordering::Relaxed), self.rights_inheriting.load(Ordering::Relaxed))
    }

    /// Narrows the rights; asking for a right not held is ENOTCAPABLE (fd_fdstat_set_rights).
    pub fn narrow_rights(&self, base: u64, inheriting: u64) -> Result<(), Errno> {
        let (b, i) = self.rights();
        if base & !b != 0 || inheriting & !i != 0 {
            return Err(Errno::NotCapable);
        }
        self.rights_base.store(base, Ordering::Relaxed);
        self.rights_inheriting.store(inheriting, Ordering::Relaxed);
        Ok(())
    }

    /// ENOTCAPABLE unless every right in `need` is held.
    pub fn require(&self, need: u64) -> Result<(), Errno> {
        if self.rights_base.load(Ordering::Relaxed) & need == need { Ok(()) } else { Err(Errno::NotCapable) }
    }

    /// The WASI file type.
    pub fn filetype(&self) -> Filetype {
        match &self.kind {
            Kind::File(f) => f.filetype,
            Kind::Dir(_) => Filetype::Directory,
            Kind::Socket(s) => s.filetype(),
        }
    }

    /// The file, or EBADF (EISDIR for a directory).
    pub fn as_file(&self) -> Result<&File, Errno> {
        match &self.kind {
            Kind::File(f) => Ok(f),
            Kind::Dir(_) => Err(Errno::IsDir),
            Kind::Socket(_) => Err(Errno::Badf),
        }
    }

    /// The directory, or ENOTDIR.
    pub fn as_dir(&self) -> Result<&Dir, Errno> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::NotDir),
        }
    }

    /// The socket, or ENOTSOCK.
    pub fn as_socket(&self) -> Result<&Socket, Errno> {
        match &self.kind {
            Kind::Socket(s) => Ok(s),
            _ => Err(Errno::NotSock),
        }
    }
}

/// Maps guest fd numbers to descriptors. Guest fds are dense (the lowest free number is
/// always taken), so the table is a vector indexed by fd: a lookup, which every host call on
/// an fd makes and `poll_oneoff` makes per subscription, is one bounds check.
pub struct FdTable {
    /// The entry of fd `i` at index `i`; every open fd is below `slots.len()`, and the last
    /// slot is always occupied.
    slots: Vec<Option<Arc<Descriptor>>>,
    /// The free numbers below `slots.len()`.
    free: BTreeSet<u32>,
    open: usize,
    max: u32,
}

impl FdTable {
    /// An empty table that holds at most `max` fds.
    pub fn new(max: u32) -> FdTable {
        FdTable { slots: Vec::new(), free: BTreeSet::new(), open: 0, max }
    }

    /// The entry at `fd`, or EBADF.
    pub fn get(&self, fd: u32) -> Result<Arc<Descriptor>, Errno> {
        self.slot(fd).cloned().ok_or(Errno::Badf)
    }

    fn slot(&self, fd: u32) -> Option<&Arc<Descriptor>> {
        self.slots.get(usize::try_from(fd).ok()?)?.as_ref()
    }

    /// Inserts at the lowest free number. EMFILE when the table is full.
    pub fn push(&mut self, d: Descriptor) -> Result<u32, Errno> {
        if self.is_full() {
            return Err(Errno::Mfile);
        }
        let d = Some(Arc::new(d));
        let fd = match self.free.pop_first() {
            Some(fd) => {
                self.slots[fd as usize] = d;
                fd
            }
            None => {
                let fd = u32::try_from(self.slots.len()).map_err(|_| Errno::Mfile)?;
                self.slots.push(d);
                fd
            }
        };
        self.open += 1;
        Ok(fd)
    }

    /// Removes and returns the entry at `fd`, or EBADF.
    pub fn remove(&mut self, fd: u32) -> Result<Arc<Descriptor>, Errno> {
        let d = self.slots.get_mut(fd as usize).and_then(Option::take).ok_or(Errno::Badf)?;
        self.open -= 1;
        self.free.insert(fd);
        // Keep the last slot occupied: trailing free numbers leave the free set.
        while let Some(None) = self.slots.last() {
            self.slots.pop();
            self.free.remove(&(self.slots.len() as u32));
        }
        Ok(d)
    }

    /// Moves `from` onto `to` (fd_renumber). Both must be open. Returns what was at `to`, for
    /// the caller to close once the table lock is released: closing may wait (a lingering
    /// socket), and no lock may be held meanwhile.
    #[must_use = "the displaced entry must be closed after the table lock is released"]
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<Option<Arc<Descriptor>>, Errno> {
        if self.slot(to).is_none() {
            return Err(Errno::Badf);
        }
        let d = self.get(from)?;
        if from == to {
            return Ok(None);
        }
        self.remove(from)?;
        // `to` is open, so its slot survived the removal's trimming.
        Ok(self.slots[to as usize].replace(d))
    }

    /// The most fds the table holds.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The preopened directories, lowest fd first: the guest's name for each and the directory.
    pub fn preopens(&self) -> impl Iterator<Item = (&str, &cap_std::fs::Dir)> {
        self.slots.iter().flatten().filter_map(|d| match &d.kind {
            Kind::Dir(Dir { dir, preopen: Some(name) }) => Some((name.as_str(), dir)),
            _ => None,
        })
    }

    /// Whether the table holds its maximum: the next push is EMFILE.
    pub fn is_full(&self) -> bool {
        self.open >= self.max as usize
    }

    /// Number of open fds.
    pub fn len(&self) -> usize {
        self.open
    }

    /// Whether no fd is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Descriptor {
        let f = tempfile::tempfile().unwrap();
        Descriptor::new(Kind::File(File::new(f, Filetype::RegularFile)))
    }

    #[test]
    fn lowest_free_fd_is_reused() {
        let mut t = FdTable::new(10);
        assert_eq!(t.push(file()).unwrap(), 0);
        assert_eq!(t.push(file()).unwrap(), 1);
        assert_eq!(t.push(file()).unwrap(), 2);
        t.remove(1).unwrap();
        assert_eq!(t.push(file()).unwrap(), 1);
        t.remove(2).unwrap();
        t.remove(1).unwrap();
        assert_eq!(t.push(file()).unwrap(), 1);
        assert_eq!(t.remove(7).err(), Some(Errno::Badf));
    }

    #[test]
    fn table_is_capped() {
        let mut t = FdTable::new(2);
        t.push(file()).unwrap();
        t.push(file()).unwrap();
        assert_eq!(t.push(file()).err(), Some(Errno::Mfile));
    }

    #[test]
    fn renumber_replaces_the_target() {
        let mut t = FdTable::new(10);
        t.push(file()).unwrap();
        t.push(file()).unwrap();
        let moved = t.get(0).unwrap();
        let target = t.get(1).unwrap();
        let displaced = t.renumber(0, 1).unwrap().expect("the entry at 1 is handed back");
        assert!(Arc::ptr_eq(&displaced, &target), "the caller closes it, outside the lock");
        assert!(Arc::ptr_eq(&t.get(1).unwrap(), &moved));
        assert!(t.renumber(1, 1).unwrap().is_none(), "renumbering onto itself displaces nothing");
        assert_eq!(t.get(0).err(), Some(Errno::Badf));
        assert_eq!(t.renumber(1, 5).err(), Some(Errno::Badf));
        assert_eq!(t.push(file()).unwrap(), 0);
    }

    #[test]
    fn freed_numbers_at_the_top_are_forgotten_and_counts_stay_right() {
        let mut t = FdTable::new(10);
        for fd in 0..5 {
            assert_eq!(t.push(file()).unwrap(), fd);
        }
        t.remove(1).unwrap();
        t.remove(3).unwrap();
        // Moving the top fd down frees 4, and with it 3: the next numbers are 1, 3, 4.
        let displaced = t.renumber(4, 0).unwrap();
        assert!(displaced.is_some());
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(4).err(), Some(Errno::Badf));
        assert_eq!(t.get(u32::MAX).err(), Some(Errno::Badf));
        assert_eq!(t.remove(u32::MAX).err(), Some(Errno::Badf));
        for fd in [1, 3, 4] {
            assert_eq!(t.push(file()).unwrap(), fd);
        }
        assert_eq!(t.len(), 5);
        for fd in (0..5).rev() {
            t.remove(fd).unwrap();
        }
        assert!(t.is_empty());
        assert_eq!(t.push(file()).unwrap(), 0);
    }

    #[test]
    fn rights_only_narrow() {
        let d = file();
        d.require(rights::FD_READ).unwrap();
        d.narrow_rights(rights::FD_WRITE, 0).unwrap();
        assert_eq!(d.require(rights::FD_READ).err(), Some(Errno::NotCapable));
        assert_eq!(d.narrow_rights(rights::FD_READ, 0).err(), Some(Errno::NotCapable));
    }
}
