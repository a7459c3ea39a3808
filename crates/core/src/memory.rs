//! Checked access to a guest's linear memory.
//!
//! Host functions never index linear memory by hand: every pointer and length the guest passes
//! goes through [`GuestMemory`], which checks bounds (a pointer is a u32 offset, and offset 0
//! is a real address) and converts little-endian values. An access outside memory is a
//! [`Trap`], as in WAMR (spec §1.5). Alignment is not checked: WAMR reads structs in place and
//! binaries built for it may pass unaligned pointers.
//!
//! # Plain and shared memory
//!
//! Host functions see one API whichever kind of memory the guest has:
//!
//! - copying accessors: [`read`](GuestMemory::read), [`write`](GuestMemory::write),
//!   [`read_array`](GuestMemory::read_array), [`read_bytes`](GuestMemory::read_bytes),
//!   [`write_bytes`](GuestMemory::write_bytes), [`read_str`](GuestMemory::read_str),
//!   [`read_cstr`](GuestMemory::read_cstr), [`iovecs`](GuestMemory::iovecs);
//! - lending accessors, which hand guest buffers to an I/O operation (readv, recvmsg, writev,
//!   sendmsg): [`gather`](GuestMemory::gather) and [`scatter`](GuestMemory::scatter).
//!
//! A **plain** memory belongs to one store, and a host call borrows it exclusively
//! (`&mut [u8]`) for its whole duration: nothing else touches it meanwhile. Lending slices of
//! it is therefore sound, and I/O goes straight between guest memory and the kernel.
//!
//! A **shared** memory (wasi-threads) is read and written by other guest threads while a host
//! call runs. A Rust reference to those bytes would tell the compiler that they do not change
//! (`&[u8]`) or that nothing else can see them (`&mut [u8]`), both false: undefined behaviour,
//! whether or not the host looks at racy bytes. So a shared memory is never referenced. It is
//! reached only through a raw pointer with raw copies (`ptr::copy_nonoverlapping`), as
//! wasmtime's own shared-memory accessors do, and no reference makes the compiler assume
//! anything about its contents. (A copy racing with a guest thread's store is still a data
//! race by the letter of Rust's memory model; the guest's side is wasm code, outside it, and
//! wasmtime makes the same accommodation.) A guest thread racing with its own host call sees
//! some interleaving of its writes and the host's, exactly as with racing non-atomic wasm
//! accesses, and can only corrupt its own data: the host never reads a guest byte twice
//! expecting the same value (it copies once and checks and uses the copy).
//! Lent buffers are host bounce buffers, copied in before the operation; after a scatter
//! (a receive), only the bytes the operation produced are copied back, so guest writes to
//! the rest of the buffer during the call are not clobbered. Bounce buffers are bounded
//! ([`MAX_BOUNCE_LEN`], [`MAX_SHARED_GATHER_LEN`]), so a shared memory may see shorter reads
//! and writes than a plain one, which POSIX allows.

use std::cell::UnsafeCell;
use std::io::{IoSlice, IoSliceMut};
use std::marker::PhantomData;
use std::ops::Range;

use crate::errno::{Errno, Error, Result, Trap};

/// The most iovecs one call may pass, as Linux's `IOV_MAX`.
pub const MAX_IOVECS: u32 = 1024;

/// The most bytes lent in one call, so that every count an operation returns fits the
/// guest's u32 result (a list of iovecs can add up to more).
pub const MAX_LENT: usize = u32::MAX as usize;

/// The largest bounce buffer lent for a shared memory. It exceeds the largest datagram the
/// kernel accepts (65,527 bytes of UDP payload), so cutting a list of buffers at this size
/// never changes a datagram: it is received or sent whole, or refused (EMSGSIZE) either way.
pub const MAX_BOUNCE_LEN: usize = 64 * 1024;

/// The most one [`GuestMemory::gather`] on a shared memory passes on in one call, in
/// [`MAX_BOUNCE_LEN`] rounds; past it the write is short. Bounds the host's copying per call.
pub const MAX_SHARED_GATHER_LEN: usize = 16 * 1024 * 1024;

/// A guest's linear memory, borrowed for the duration of one host call.
///
/// It holds a raw pointer, not a slice, so that a shared memory is never referenced (see the
/// module docs). `'a` is the borrow of the memory it was made from.
pub struct GuestMemory<'a> {
    base: *mut u8,
    len: usize,
    shared: bool,
    _borrow: PhantomData<&'a mut [u8]>,
}

/// A value with a fixed little-endian encoding in guest memory.
pub trait GuestType: Sized + Copy {
    /// Its size in bytes (at most 8).
    const SIZE: u32;
    /// Decodes it from exactly `SIZE` bytes.
    fn decode(bytes: &[u8]) -> Self;
    /// Encodes it into exactly `SIZE` bytes.
    fn encode(self, bytes: &mut [u8]);
}

macro_rules! guest_int {
    ($($t:ty),*) => {$(
        impl GuestType for $t {
            const SIZE: u32 = std::mem::size_of::<$t>() as u32;
            fn decode(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
            fn encode(self, bytes: &mut [u8]) {
                bytes.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
guest_int!(u8, u16, u32, u64, i8, i16, i32, i64);

/// One `__wasi_iovec_t` / `__wasi_ciovec_t`: a buffer in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iovec {
    /// Offset of the buffer.
    pub buf: u32,
    /// Its length in bytes.
    pub len: u32,
}

/// A decoded iovec array: guests pass one or two buffers almost always, so up to four stay
/// off the heap (a recv or send per host call must not cost an allocation).
pub type Iovecs = smallvec::SmallVec<[Iovec; 4]>;

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a plain (unshared) memory.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { base: bytes.as_mut_ptr(), len: bytes.len(), shared: false, _borrow: PhantomData }
    }

    /// Wraps a shared linear memory (wasi-threads), e.g. wasmtime's `SharedMemory::data()`.
    ///
    /// Safe: a `&[UnsafeCell<u8>]` promises nothing about its bytes staying unchanged (and is
    /// not `Sync`, so no other Rust thread holds it without `unsafe` of its own), and this
    /// type only ever reaches them through raw copies (see the module docs). Guest threads
    /// may write them meanwhile; the host only touches bytes inside `cells`.
    pub fn from_shared(cells: &'a [UnsafeCell<u8>]) -> Self {
        GuestMemory {
            base: UnsafeCell::raw_get(cells.as_ptr()),
            len: cells.len(),
            shared: true,
            _borrow: PhantomData,
        }
    }

    /// Wraps bytes the caller owns, accessed as a shared memory is (raw copies, bounce
    /// buffers): tests and the fuzz harness exercise that path with it, without a second
    /// thread or a copy.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn shared_view(bytes: &'a mut [u8]) -> Self {
        GuestMemory { base: bytes.as_mut_ptr(), len: bytes.len(), shared: true, _borrow: PhantomData }
    }

    /// The memory's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the memory has no pages.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it is a shared memory (lent buffers are bounce buffers).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    fn range(&self, ptr: u32, len: u32) -> Result<Range<usize>, Trap> {
        let start = ptr as usize;
        match start.checked_add(len as usize) {
            Some(end) if end <= self.len => Ok(start..end),
            _ => Err(out_of_bounds(ptr, len, self.len)),
        }
    }

    /// Traps unless the `len` bytes at `ptr` lie inside memory. For checking an output
    /// pointer before doing something that cannot be undone.
    pub fn check(&self, ptr: u32, len: u32) -> Result<(), Trap> {
        self.range(ptr, len).map(|_| ())
    }

    /// The whole of a plain memory as a slice; `None` for a shared one, which is never
    /// referenced.
    #[allow(unsafe_code)]
    fn plain(&self) -> Option<&[u8]> {
        // SAFETY: a plain memory's pointer and length come from the `&'a mut [u8]` given to
        // `new`, which `self` holds for 'a; the slice borrows `self`, so no `&mut` made by
        // `plain_mut` can exist at the same time.
        (!self.shared).then(|| unsafe { std::slice::from_raw_parts(self.base, self.len) })
    }

    /// The whole of a plain memory as a mutable slice; `None` for a shared one.
    #[allow(unsafe_code)]
    fn plain_mut(&mut self) -> Option<&mut [u8]> {
        // SAFETY: as in `plain`; the slice borrows `self` mutably, so it is the only
        // reference to the bytes while it lives.
        (!self.shared).then(|| unsafe { std::slice::from_raw_parts_mut(self.base, self.len) })
    }

    /// Copies the guest bytes at `ptr` into `out` (all of it).
    fn copy_out(&self, ptr: u32, out: &mut [u8]) -> Result<(), Trap> {
        let len = u32::try_from(out.len()).map_err(|_| out_of_bounds(ptr, u32::MAX, self.len))?;
        let range = self.range(ptr, len)?;
        #[allow(unsafe_code)]
        // SAFETY: `range` lies inside the memory, which lives for 'a. `out` is a host buffer
        // and cannot overlap it: a plain memory is borrowed exclusively by `self`, and no
        // reference into a shared memory is ever formed. A raw copy forms none either, so
        // concurrent writes by guest threads to a shared memory are not assumed away.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.add(range.start), out.as_mut_ptr(), out.len())
        };
        Ok(())
    }

    /// Replaces `bounce` with copies of the guest buffers `pieces`, one after the other.
    fn copy_pieces_out(&self, pieces: &[(u32, u32)], bounce: &mut Vec<u8>) -> Result<(), Trap> {
        bounce.clear();
        for &(ptr, len) in pieces {
            let start = bounce.len();
            bounce.resize(start + len as usize, 0);
            self.copy_out(ptr, &mut bounce[start..])?;
        }
        Ok(())
    }

    /// Reads a `T` at `ptr`.
    pub fn read<T: GuestType>(&self, ptr: u32) -> Result<T, Trap> {
        const { assert!(T::SIZE <= 8, "GuestType values are at most 8 bytes") };
        let mut raw = [0u8; 8];
        let raw = &mut raw[..T::SIZE as usize];
        self.copy_out(ptr, raw)?;
        Ok(T::decode(raw))
    }

    /// Writes a `T` at `ptr`.
    pub fn write<T: GuestType>(&mut self, ptr: u32, value: T) -> Result<(), Trap> {
        const { assert!(T::SIZE <= 8, "GuestType values are at most 8 bytes") };
        let mut raw = [0u8; 8];
        let raw = &mut raw[..T::SIZE as usize];
        value.encode(raw);
        self.write_bytes(ptr, raw)
    }

    /// A copy of the `N` bytes at `ptr` (a struct to decode).
    pub fn read_array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Trap> {
        let mut out = [0u8; N];
        self.copy_out(ptr, &mut out)?;
        Ok(out)
    }

    /// A copy of the `len` bytes at `ptr`. The copy is `len` bytes long: callers bound `len`.
    pub fn read_bytes(&self, ptr: u32, len: u32) -> Result<Vec<u8>, Trap> {
        self.check(ptr, len)?;
        let mut out = vec![0u8; len as usize];
        self.copy_out(ptr, &mut out)?;
        Ok(out)
    }

    /// Copies `data` to `ptr`.
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), Trap> {
        let len = u32::try_from(data.len()).map_err(|_| out_of_bounds(ptr, u32::MAX, self.len))?;
        let range = self.range(ptr, len)?;
        #[allow(unsafe_code)]
        // SAFETY: as in `copy_out`, with the roles swapped; `&mut self` means no slice of a
        // plain memory is lent out meanwhile.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(range.start), data.len())
        };
        Ok(())
    }

    /// A UTF-8 string of `len` bytes at `ptr` (a WASI `string` argument), copied. Invalid
    /// UTF-8 is EILSEQ, as in wasmtime. Callers bound `len`.
    pub fn read_str(&self, ptr: u32, len: u32) -> Result<String> {
        String::from_utf8(self.read_bytes(ptr, len)?).map_err(|_| Error::Errno(Errno::Ilseq))
    }

    /// The NUL-terminated string at `ptr`, without its NUL, copied; `None` when it is longer
    /// than `max_len` bytes (then nothing is copied). Traps if memory ends before the NUL.
    /// The copy never contains a NUL, even if a guest thread writes the string meanwhile.
    pub fn read_cstr(&self, ptr: u32, max_len: usize) -> Result<Option<Vec<u8>>, Trap> {
        let no_nul = || {
            Trap(format!(
                "out of bounds memory access: string at {ptr:#x} has no NUL before the end of memory"
            ))
        };
        let start = ptr as usize;
        if start >= self.len {
            return Err(out_of_bounds(ptr, 1, self.len));
        }
        if let Some(bytes) = self.plain() {
            let tail = &bytes[start..];
            let len = tail.iter().position(|&b| b == 0).ok_or_else(no_nul)?;
            return Ok((len <= max_len).then(|| tail[..len].to_vec()));
        }
        // Shared: each byte is read once, straight into the copy, so that what is returned is
        // what the NUL search saw.
        let mut copy = Vec::new();
        for at in start..self.len {
            #[allow(unsafe_code)]
            // SAFETY: `at` is below the memory's length; a raw read forms no reference (see
            // `copy_out`).
            let byte = unsafe { self.base.add(at).read() };
            if byte == 0 {
                return Ok((copy.len() <= max_len).then_some(copy));
            }
            if copy.len() <= max_len {
                copy.push(byte);
            }
        }
        Err(no_nul())
    }

    /// Decodes an array of `count` iovecs at `ptr` and checks that each buffer lies inside
    /// memory. More than [`MAX_IOVECS`] is EINVAL.
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Iovecs> {
        if count > MAX_IOVECS {
            return Err(Errno::Inval.into());
        }
        // No overflow: count is at most MAX_IOVECS, and the array is checked whole first.
        self.check(ptr, count * 8)?;
        let mut iovs = Iovecs::with_capacity(count as usize);
        for at in (0..count).map(|i| ptr + i * 8) {
            let iov = Iovec { buf: self.read(at)?, len: self.read(at + 4)? };
            self.range(iov.buf, iov.len)?;
            iovs.push(iov);
        }
        Ok(iovs)
    }

    /// Lends the buffers of `iovs` (a gather list, in order) to `drain`, which passes them on
    /// (writev, sendmsg) and returns how many bytes it took; returns the total taken.
    ///
    /// A plain memory lends its own bytes (at most [`MAX_LENT`]), in one call. A shared
    /// memory lends copies in rounds of at most [`MAX_BOUNCE_LEN`] bytes, as long as each
    /// round is taken whole, up to [`MAX_SHARED_GATHER_LEN`] in all; an errno after a round
    /// that made progress ends the write short instead of failing it, as writev does. Traps,
    /// before `drain` runs, unless every buffer lies inside memory.
    pub fn gather(
        &self,
        iovs: &[Iovec],
        mut drain: impl FnMut(&[IoSlice<'_>]) -> Result<usize>,
    ) -> Result<usize> {
        for iov in iovs {
            self.range(iov.buf, iov.len)?;
        }
        if let Some(bytes) = self.plain() {
            let slice =
                |(ptr, len): (u32, u32)| IoSlice::new(&bytes[ptr as usize..ptr as usize + len as usize]);
            return match iovs {
                // One buffer (what send() and write() pass) needs no allocation.
                [iov] => drain(&[slice((iov.buf, iov.len))]),
                _ => drain(
                    &window(iovs, 0, total_len(iovs).min(MAX_LENT))?
                        .into_iter()
                        .map(slice)
                        .collect::<Vec<_>>(),
                ),
            };
        }
        let total = total_len(iovs).min(MAX_SHARED_GATHER_LEN);
        let mut bounce = Vec::new();
        let mut done = 0usize;
        loop {
            let pieces = window(iovs, done, (total - done).min(MAX_BOUNCE_LEN))?;
            self.copy_pieces_out(&pieces, &mut bounce)?;
            let mut slices = Vec::with_capacity(pieces.len());
            let mut rest = &bounce[..];
            for &(_, len) in &pieces {
                let (piece, tail) = rest.split_at(len as usize);
                slices.push(IoSlice::new(piece));
                rest = tail;
            }
            match drain(&slices) {
                Ok(n) => {
                    let n = n.min(bounce.len());
                    done += n;
                    if n < bounce.len() || done >= total {
                        return Ok(done);
                    }
                }
                Err(Error::Errno(_)) if done > 0 => return Ok(done),
                Err(e) => return Err(e),
            }
        }
    }

    /// Lends the buffers of `iovs` (a scatter list) to `fill`, which receives into them in
    /// order (readv, recvmsg) and returns how many bytes it produced; returns that count.
    ///
    /// A plain memory lends its own bytes (at most [`MAX_LENT`]). A shared memory lends
    /// copies of at most [`MAX_BOUNCE_LEN`] bytes in all (a short read), and copies back only
    /// the first bytes `fill` says it produced, so guest writes to the rest meanwhile
    /// survive; nothing is copied back when `fill` fails. Overlapping buffers cannot be lent
    /// out at once; then only the first non-empty one is, which turns the operation into a
    /// legal short read. Traps, before `fill` runs, unless every buffer lies inside memory.
    pub fn scatter(
        &mut self,
        iovs: &[Iovec],
        fill: impl FnOnce(&mut [IoSliceMut<'_>]) -> Result<usize>,
    ) -> Result<usize> {
        for iov in iovs {
            self.range(iov.buf, iov.len)?;
        }
        let iovs = without_overlaps(iovs);
        if let Some(bytes) = self.plain_mut() {
            let lent = total_len(iovs).min(MAX_LENT);
            let produced = match iovs {
                // One buffer (what recv() and read() pass) needs no allocation.
                [iov] => {
                    let range = iov.buf as usize..iov.buf as usize + iov.len as usize;
                    fill(&mut [IoSliceMut::new(&mut bytes[range])])?
                }
                _ => fill(&mut carve(bytes, &window(iovs, 0, lent)?))?,
            };
            return Ok(produced.min(lent));
        }
        let pieces = window(iovs, 0, total_len(iovs).min(MAX_BOUNCE_LEN))?;
        let mut bounce = Vec::new();
        self.copy_pieces_out(&pieces, &mut bounce)?;
        let produced = {
            let mut slices = Vec::with_capacity(pieces.len());
            let mut rest = &mut bounce[..];
            for &(_, len) in &pieces {
                let (piece, tail) = rest.split_at_mut(len as usize);
                slices.push(IoSliceMut::new(piece));
                rest = tail;
            }
            fill(&mut slices)?.min(bounce.len())
        };
        // Copy back the produced prefix, piece by piece in list order.
        let mut left = &bounce[..produced];
        for &(ptr, len) in &pieces {
            let (piece, tail) = left.split_at((len as usize).min(left.len()));
            self.write_bytes(ptr, piece)?;
            left = tail;
        }
        Ok(produced)
    }
}

/// The part of `iovs` that can be lent out at once: all of them if no two non-empty buffers
/// overlap, else only the first non-empty one.
fn without_overlaps(iovs: &[Iovec]) -> &[Iovec] {
    let mut order: Vec<usize> = (0..iovs.len()).filter(|&i| iovs[i].len > 0).collect();
    order.sort_by_key(|&i| iovs[i].buf);
    let overlaps = order
        .windows(2)
        .any(|w| u64::from(iovs[w[0]].buf) + u64::from(iovs[w[0]].len) > u64::from(iovs[w[1]].buf));
    match order.iter().min() {
        Some(&first) if overlaps => &iovs[first..=first],
        _ => iovs,
    }
}

/// Carves the buffers `(ptr, len)` (in bounds, disjoint) out of `bytes`, in list order.
fn carve<'m>(bytes: &'m mut [u8], pieces: &[(u32, u32)]) -> Vec<IoSliceMut<'m>> {
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&i| pieces[i].0);
    // Front to back through memory: each buffer starts at or after the end of the previous.
    let mut carved: Vec<(usize, &'m mut [u8])> = Vec::with_capacity(order.len());
    let mut rest = bytes;
    let mut consumed = 0usize;
    for &i in &order {
        let (ptr, len) = pieces[i];
        let start = ptr as usize - consumed;
        let (_, tail) = rest.split_at_mut(start);
        let (buf, tail) = tail.split_at_mut(len as usize);
        carved.push((i, buf));
        consumed += start + len as usize;
        rest = tail;
    }
    carved.sort_by_key(|(i, _)| *i);
    carved.into_iter().map(|(_, b)| IoSliceMut::new(b)).collect()
}

/// The non-empty pieces `(ptr, len)` of the `len` bytes that start `skip` bytes into the
/// concatenation of `iovs` (each a buffer inside memory).
fn window(iovs: &[Iovec], mut skip: usize, mut len: usize) -> Result<Vec<(u32, u32)>, Trap> {
    let mut pieces = Vec::new();
    for iov in iovs {
        if len == 0 {
            break;
        }
        let here = iov.len as usize;
        if skip >= here {
            skip -= here;
            continue;
        }
        // Fits in u32: take <= iov.len - skip.
        let take = (here - skip).min(len);
        pieces.push((offset(iov.buf, skip)?, take as u32));
        len -= take;
        skip = 0;
    }
    Ok(pieces)
}

/// The guest address `offset` bytes past `ptr`; an address past the 4 GiB of wasm32 traps,
/// as the access there would.
pub fn offset(ptr: u32, offset: usize) -> Result<u32, Trap> {
    u32::try_from(offset).ok().and_then(|o| ptr.checked_add(o)).ok_or_else(|| {
        Trap(format!("out of bounds memory access: {offset} bytes past {ptr:#x} is beyond 4 GiB"))
    })
}

/// The guest address of item `index` of an array of `size`-byte items at `ptr` (see
/// [`offset`]).
pub fn element(ptr: u32, index: usize, size: u32) -> Result<u32, Trap> {
    offset(ptr, index.saturating_mul(size as usize))
}

#[cold]
fn out_of_bounds(ptr: u32, len: u32, size: usize) -> Trap {
    Trap(format!("out of bounds memory access: {len} bytes at {ptr:#x} (linear memory is {size} bytes)"))
}

/// A copy of a gather list that partial writes and sends advance through
/// ([`IoSlice::advance_slices`]); the usual single buffer needs no allocation.
pub(crate) enum Unsent<'a> {
    /// One buffer, copied in place.
    One([IoSlice<'a>; 1]),
    /// Several, copied to the heap.
    Many(Vec<IoSlice<'a>>),
}

impl<'a> Unsent<'a> {
    /// A copy of `data`.
    pub(crate) fn new(data: &[IoSlice<'a>]) -> Unsent<'a> {
        match data {
            [single] => Unsent::One([*single]),
            _ => Unsent::Many(data.to_vec()),
        }
    }

    /// The buffers, to pass to `advance_slices` as `&mut` of this.
    pub(crate) fn slices(&mut self) -> &mut [IoSlice<'a>] {
        match self {
            Unsent::One(one) => one,
            Unsent::Many(many) => many,
        }
    }
}

/// Total length of `iovs`, saturating.
pub fn total_len(iovs: &[Iovec]) -> usize {
    iovs.iter().fold(0usize, |sum, i| sum.saturating_add(i.len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory of either kind over bytes the test owns.
    enum Backing {
        Plain(Vec<u8>),
        Shared(Vec<UnsafeCell<u8>>),
    }

    impl Backing {
        fn new(shared: bool, len: usize) -> Backing {
            match shared {
                false => Backing::Plain(vec![0; len]),
                true => Backing::Shared((0..len).map(|_| UnsafeCell::new(0)).collect()),
            }
        }

        fn mem(&mut self) -> GuestMemory<'_> {
            match self {
                Backing::Plain(bytes) => GuestMemory::new(bytes),
                Backing::Shared(cells) => GuestMemory::from_shared(cells),
            }
        }

        /// What the memory holds now, read around `GuestMemory`.
        fn snapshot(&mut self) -> Vec<u8> {
            match self {
                Backing::Plain(bytes) => bytes.clone(),
                Backing::Shared(cells) => cells.iter_mut().map(|c| *c.get_mut()).collect(),
            }
        }
    }

    /// Runs a test on a plain and on a shared memory of `len` bytes.
    fn both(len: usize, test: impl Fn(&mut Backing)) {
        for shared in [false, true] {
            let mut backing = Backing::new(shared, len);
            assert_eq!(backing.mem().is_shared(), shared);
            test(&mut backing);
        }
    }

    fn write_iovecs(mem: &mut GuestMemory<'_>, at: u32, iovs: &[(u32, u32)]) {
        for (i, &(buf, len)) in iovs.iter().enumerate() {
            mem.write(at + i as u32 * 8, buf).unwrap();
            mem.write(at + i as u32 * 8 + 4, len).unwrap();
        }
    }

    #[test]
    fn bounds_are_checked_at_the_edges() {
        both(16, |b| {
            let mut mem = b.mem();
            mem.write(12u32, 0xdead_beef_u32).unwrap();
            assert_eq!(mem.read::<u32>(12).unwrap(), 0xdead_beef);
            assert_eq!(mem.read_bytes(12, 4).unwrap(), [0xef, 0xbe, 0xad, 0xde]);
            assert_eq!(mem.read_array::<4>(12).unwrap(), [0xef, 0xbe, 0xad, 0xde]);
            assert!(mem.read::<u32>(13).is_err());
            assert!(mem.write(13u32, 0u32).is_err());
            assert!(mem.read::<u64>(u32::MAX).is_err());
            assert!(mem.read_array::<17>(0).is_err());
            assert!(mem.check(16, 0).is_ok());
            assert!(mem.check(17, 0).is_err());
            assert!(mem.check(0, u32::MAX).is_err());
            assert!(mem.write_bytes(15, b"ab").is_err());
            assert!(mem.write_bytes(u32::MAX, b"a").is_err());
            mem.write_bytes(14, b"ab").unwrap();
            // A failed write changed nothing.
            assert_eq!(mem.read_bytes(12, 4).unwrap(), [0xef, 0xbe, b'a', b'b']);
            assert_eq!(&b.snapshot()[12..], [0xef, 0xbe, b'a', b'b'], "the bytes really are in the backing");
        });
    }

    #[test]
    fn strings_are_copied_and_checked() {
        both(8, |b| {
            let mut mem = b.mem();
            mem.write_bytes(0, b"abc\0de\xff!").unwrap();
            assert_eq!(mem.read_cstr(0, 100).unwrap(), Some(b"abc".to_vec()));
            assert_eq!(mem.read_cstr(0, 3).unwrap(), Some(b"abc".to_vec()));
            assert_eq!(mem.read_cstr(0, 2).unwrap(), None, "longer than the limit");
            assert_eq!(mem.read_cstr(3, 0).unwrap(), Some(Vec::new()));
            assert!(mem.read_cstr(4, 100).is_err(), "no NUL before the end of memory");
            assert!(mem.read_cstr(4, 0).is_err(), "too long, but no NUL traps first");
            assert!(mem.read_cstr(8, 100).is_err());
            assert!(mem.read_cstr(u32::MAX, 100).is_err());
            assert_eq!(mem.read_str(4, 2).unwrap(), "de");
            assert!(matches!(mem.read_str(4, 4), Err(Error::Errno(Errno::Ilseq))));
            assert!(matches!(mem.read_str(4, 5), Err(Error::Trap(_))));
        });
    }

    #[test]
    fn iovecs_are_checked_and_scattered_in_order() {
        both(64, |b| {
            let mut mem = b.mem();
            // Two iovecs: [40..44) then [32..36), deliberately out of address order.
            write_iovecs(&mut mem, 0, &[(40, 4), (32, 4)]);
            let iovs = mem.iovecs(0, 2).unwrap();
            let n = mem
                .scatter(&iovs, |bufs| {
                    assert_eq!(bufs.len(), 2);
                    bufs[0].copy_from_slice(b"AAAA");
                    bufs[1].copy_from_slice(b"BBBB");
                    Ok(8)
                })
                .unwrap();
            assert_eq!(n, 8);
            assert_eq!(mem.read_bytes(40, 4).unwrap(), b"AAAA");
            assert_eq!(mem.read_bytes(32, 4).unwrap(), b"BBBB");
            mem.write(4u32, 1000u32).unwrap();
            assert!(mem.iovecs(0, 2).is_err(), "buffer past the end of memory traps");
            assert!(matches!(mem.iovecs(0, MAX_IOVECS + 1), Err(Error::Errno(Errno::Inval))));
            assert!(mem.iovecs(60, 1).is_err(), "the iovec array itself must be in memory");
        });
    }

    #[test]
    fn a_scatter_copies_back_only_what_was_produced() {
        // Two 4-byte buffers at 8 and 20 (the guest filled them with '-'); the operation writes
        // all 8 lent bytes but reports 5. Bytes past the fifth keep the guest's contents:
        // with a shared memory they are the guest's to change while the call runs.
        both(32, |b| {
            let mut mem = b.mem();
            mem.write_bytes(8, b"----").unwrap();
            mem.write_bytes(20, b"----").unwrap();
            let iovs = [Iovec { buf: 8, len: 4 }, Iovec { buf: 20, len: 4 }];
            let n = mem
                .scatter(&iovs, |bufs| {
                    // Lent buffers start as the guest's bytes.
                    assert_eq!(&*bufs[0], b"----");
                    bufs[0].copy_from_slice(b"abcd");
                    bufs[1].copy_from_slice(b"efgh");
                    Ok(5)
                })
                .unwrap();
            assert_eq!(n, 5);
            assert_eq!(mem.read_bytes(8, 4).unwrap(), b"abcd");
            let shared = mem.is_shared();
            let second = mem.read_bytes(20, 4).unwrap();
            if shared {
                assert_eq!(second, b"e---", "only the produced prefix is copied back");
            } else {
                // Plain memory is lent in place: the bytes are simply there.
                assert_eq!(second, b"efgh");
            }
        });
    }

    #[test]
    fn a_failed_scatter_copies_nothing_back_to_shared_memory() {
        both(16, |b| {
            let mut mem = b.mem();
            let shared = mem.is_shared();
            let r = mem.scatter(&[Iovec { buf: 0, len: 4 }], |bufs| {
                bufs[0].copy_from_slice(b"oops");
                Err(Errno::Again.into())
            });
            assert_eq!(r, Err(Errno::Again.into()));
            let expected: &[u8] = if shared { b"\0\0\0\0" } else { b"oops" };
            assert_eq!(mem.read_bytes(0, 4).unwrap(), expected);
            // A count larger than the buffers (a bug in the operation) is cut to them.
            assert_eq!(mem.scatter(&[Iovec { buf: 0, len: 4 }], |_| Ok(99)), Ok(4));
        });
    }

    #[test]
    fn a_scatter_checks_every_buffer_before_lending() {
        both(16, |b| {
            let mut mem = b.mem();
            for iovs in [
                vec![Iovec { buf: 0, len: 4 }, Iovec { buf: 14, len: 4 }],
                vec![Iovec { buf: 16, len: 1 }],
                vec![Iovec { buf: u32::MAX, len: 2 }],
            ] {
                let r = mem.scatter(&iovs, |_| panic!("lent out of bounds buffers"));
                assert!(matches!(r, Err(Error::Trap(_))), "{iovs:?}");
                let r = mem.gather(&iovs, |_| panic!("lent out of bounds buffers"));
                assert!(matches!(r, Err(Error::Trap(_))), "{iovs:?}");
            }
            // The last byte and an empty buffer at the very end are fine.
            let iovs = [Iovec { buf: 15, len: 1 }, Iovec { buf: 16, len: 0 }];
            assert_eq!(mem.scatter(&iovs, |bufs| Ok(bufs.iter().map(|b| b.len()).sum())), Ok(1));
            assert_eq!(mem.gather(&iovs, |bufs| Ok(bufs.iter().map(|b| b.len()).sum())), Ok(1));
        });
    }

    #[test]
    fn overlapping_scatter_buffers_degrade_to_the_first() {
        both(64, |b| {
            let mut mem = b.mem();
            let iovs = [Iovec { buf: 30, len: 0 }, Iovec { buf: 10, len: 8 }, Iovec { buf: 12, len: 8 }];
            let n = mem
                .scatter(&iovs, |bufs| {
                    assert_eq!(bufs.len(), 1);
                    assert_eq!(bufs[0].len(), 8);
                    bufs[0].copy_from_slice(b"12345678");
                    Ok(8)
                })
                .unwrap();
            assert_eq!(n, 8);
            assert_eq!(mem.read_bytes(10, 8).unwrap(), b"12345678");
        });
    }

    #[test]
    fn a_gather_lends_the_buffers_in_order() {
        both(64, |b| {
            let mut mem = b.mem();
            mem.write_bytes(40, b"world").unwrap();
            mem.write_bytes(8, b"hello ").unwrap();
            // Overlapping buffers are fine to read from.
            let iovs = [Iovec { buf: 8, len: 6 }, Iovec { buf: 40, len: 5 }, Iovec { buf: 8, len: 5 }];
            let mut seen = Vec::new();
            let n = mem
                .gather(&iovs, |bufs| {
                    for buf in bufs {
                        seen.extend_from_slice(buf);
                    }
                    Ok(16)
                })
                .unwrap();
            assert_eq!(n, 16);
            assert_eq!(seen, b"hello worldhello");
        });
    }

    #[test]
    fn a_shared_gather_goes_in_rounds_and_stops_when_one_is_short() {
        let len = 3 * MAX_BOUNCE_LEN;
        let mut backing = Backing::new(true, len);
        let mut mem = backing.mem();
        let pattern: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        mem.write_bytes(0, &pattern).unwrap();
        // Two buffers, 1.5 and 1.25 bounce buffers long: rounds cut across them.
        let (a, b) = (MAX_BOUNCE_LEN * 3 / 2, MAX_BOUNCE_LEN * 5 / 4);
        let iovs = [Iovec { buf: 0, len: a as u32 }, Iovec { buf: 16, len: b as u32 }];
        let mut expected = pattern[..a].to_vec();
        expected.extend_from_slice(&pattern[16..16 + b]);

        let mut seen = Vec::new();
        let n = mem
            .gather(&iovs, |bufs| {
                let round: usize = bufs.iter().map(|b| b.len()).sum();
                assert!(round <= MAX_BOUNCE_LEN);
                bufs.iter().for_each(|b| seen.extend_from_slice(b));
                Ok(round)
            })
            .unwrap();
        assert_eq!((n, seen == expected), (a + b, true));

        // A round taken in part ends the gather; an errno after progress is a short write.
        let mut rounds = 0;
        let n = mem
            .gather(&iovs, |_| {
                rounds += 1;
                Ok(if rounds == 1 { MAX_BOUNCE_LEN } else { 10 })
            })
            .unwrap();
        assert_eq!((n, rounds), (MAX_BOUNCE_LEN + 10, 2));
        let mut rounds = 0;
        let r = mem.gather(&iovs, |bufs| {
            rounds += 1;
            if rounds == 1 { Ok(bufs.iter().map(|b| b.len()).sum()) } else { Err(Errno::Pipe.into()) }
        });
        assert_eq!(r, Ok(MAX_BOUNCE_LEN));
        assert_eq!(mem.gather(&iovs, |_| Err(Errno::Pipe.into())), Err(Errno::Pipe.into()));
    }

    #[test]
    fn a_shared_scatter_lends_at_most_one_bounce_buffer() {
        let mut backing = Backing::new(true, 2 * MAX_BOUNCE_LEN + 8);
        let mut mem = backing.mem();
        let iovs = [Iovec { buf: 0, len: 8 }, Iovec { buf: 8, len: 2 * MAX_BOUNCE_LEN as u32 }];
        let n = mem
            .scatter(&iovs, |bufs| {
                let lent: Vec<usize> = bufs.iter().map(|b| b.len()).collect();
                assert_eq!(lent, [8, MAX_BOUNCE_LEN - 8]);
                bufs.iter_mut().for_each(|b| b.fill(7));
                Ok(MAX_BOUNCE_LEN)
            })
            .unwrap();
        assert_eq!(n, MAX_BOUNCE_LEN);
        assert_eq!(mem.read::<u8>(MAX_BOUNCE_LEN as u32 - 1).unwrap(), 7);
        assert_eq!(mem.read::<u8>(MAX_BOUNCE_LEN as u32).unwrap(), 0);
    }

    #[test]
    fn offsets_past_4_gib_trap() {
        assert_eq!(offset(1, 2).unwrap(), 3);
        assert_eq!(offset(u32::MAX - 1, 1).unwrap(), u32::MAX);
        assert!(offset(u32::MAX, 1).is_err());
        assert!(offset(0, 1 << 32).is_err());
        assert_eq!(element(8, 3, 4).unwrap(), 20);
        assert!(element(8, 1 << 30, 4).is_err());
        assert!(element(0, usize::MAX, 2).is_err());
        assert_eq!(total_len(&[Iovec { buf: 0, len: u32::MAX }; 3]), 3 * u32::MAX as usize);
    }
}
