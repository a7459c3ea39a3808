//! Checked access to a guest's linear memory.
//!
//! Host functions never index linear memory by hand: every pointer and length the guest passes
//! goes through [`GuestMemory`], which checks bounds (a pointer is a u32 offset, and offset 0
//! is a real address) and converts little-endian values. An access outside memory is a
//! [`Trap`], as in WAMR (spec §1.5). Alignment is not checked: WAMR reads structs in place and
//! binaries built for it may pass unaligned pointers.

use crate::errno::{Errno, Error, Result, Trap};

/// The most iovecs one call may pass, as Linux's `IOV_MAX`.
pub const MAX_IOVECS: u32 = 1024;

/// A guest's linear memory, borrowed for the duration of one host call.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

/// A value with a fixed little-endian encoding in guest memory.
pub trait GuestType: Sized + Copy {
    /// Its size in bytes.
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
                <$t>::from_le_bytes(bytes.try_into().expect("caller passes SIZE bytes"))
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

impl<'a> GuestMemory<'a> {
    /// Wraps a memory's bytes.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { bytes }
    }

    /// Wraps the bytes of a shared linear memory (wasi-threads).
    ///
    /// # Safety
    ///
    /// `cells` must be the whole current extent of a live shared memory. Other guest threads
    /// may read and write these bytes while the host call runs, exactly as racing
    /// non-atomic wasm accesses may: the host only touches bytes inside `cells`, and a guest
    /// that races with its own host call can only corrupt its own data. The host never
    /// relies on guest bytes staying unchanged between two reads.
    #[allow(unsafe_code)]
    pub unsafe fn from_shared(cells: &'a [std::cell::UnsafeCell<u8>]) -> Self {
        // SAFETY: UnsafeCell<u8> has the layout of u8, and UnsafeCell makes writes through a
        // shared reference legal; the caller vouches for the extent (see above).
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(std::cell::UnsafeCell::raw_get(cells.as_ptr()), cells.len())
        };
        GuestMemory { bytes }
    }

    /// The memory's size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the memory has no pages.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, Trap> {
        let start = ptr as usize;
        match start.checked_add(len as usize) {
            Some(end) if end <= self.bytes.len() => Ok(start..end),
            _ => Err(out_of_bounds(ptr, len, self.bytes.len())),
        }
    }

    /// The `len` bytes at `ptr`.
    pub fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Trap> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The `len` bytes at `ptr`, writable.
    pub fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Trap> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    /// Reads a `T` at `ptr`.
    pub fn read<T: GuestType>(&self, ptr: u32) -> Result<T, Trap> {
        Ok(T::decode(self.slice(ptr, T::SIZE)?))
    }

    /// Writes a `T` at `ptr`.
    pub fn write<T: GuestType>(&mut self, ptr: u32, value: T) -> Result<(), Trap> {
        value.encode(self.slice_mut(ptr, T::SIZE)?);
        Ok(())
    }

    /// Copies `data` to `ptr`.
    pub fn write_bytes(&mut self, ptr: u32, data: &[u8]) -> Result<(), Trap> {
        let len = u32::try_from(data.len()).map_err(|_| out_of_bounds(ptr, u32::MAX, self.len()))?;
        self.slice_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// A UTF-8 string of `len` bytes at `ptr` (a WASI `string` argument). Invalid UTF-8 is
    /// EILSEQ, as in wasmtime.
    pub fn read_str(&self, ptr: u32, len: u32) -> Result<&str> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Error::Errno(Errno::Ilseq))
    }

    /// The NUL-terminated string at `ptr`, without its NUL. Traps if memory ends first.
    pub fn read_cstr(&self, ptr: u32) -> Result<&[u8], Trap> {
        let start = ptr as usize;
        let tail = self.bytes.get(start..).ok_or_else(|| out_of_bounds(ptr, 1, self.len()))?;
        let end = tail.iter().position(|&b| b == 0).ok_or_else(|| {
            Trap(format!(
                "out of bounds memory access: string at {ptr:#x} has no NUL before the end of memory"
            ))
        })?;
        Ok(&tail[..end])
    }

    /// Decodes an array of `count` iovecs at `ptr`. More than [`MAX_IOVECS`] is EINVAL.
    pub fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<Iovec>> {
        if count > MAX_IOVECS {
            return Err(Errno::Inval.into());
        }
        let raw = self.slice(ptr, count * 8)?;
        let iovs: Vec<Iovec> = raw
            .chunks_exact(8)
            .map(|c| Iovec { buf: u32::decode(&c[..4]), len: u32::decode(&c[4..]) })
            .collect();
        for iov in &iovs {
            self.range(iov.buf, iov.len)?;
        }
        Ok(iovs)
    }

    /// The buffers of `iovs` for reading from guest memory (a gather list).
    pub fn io_slices(&self, iovs: &[Iovec]) -> Result<Vec<std::io::IoSlice<'_>>, Trap> {
        iovs.iter().map(|iov| Ok(std::io::IoSlice::new(self.slice(iov.buf, iov.len)?))).collect()
    }

    /// The buffers of `iovs` for writing into guest memory (a scatter list), in order.
    ///
    /// Overlapping buffers cannot be lent out at once; then only the first non-empty one is
    /// returned, which turns the operation into a legal short read.
    pub fn io_slices_mut(&mut self, iovs: &[Iovec]) -> Result<Vec<std::io::IoSliceMut<'_>>, Trap> {
        for iov in iovs {
            self.range(iov.buf, iov.len)?;
        }
        let mut order: Vec<usize> = (0..iovs.len()).filter(|&i| iovs[i].len > 0).collect();
        order.sort_by_key(|&i| iovs[i].buf);
        let overlaps =
            order.windows(2).any(|w| iovs[w[0]].buf as u64 + iovs[w[0]].len as u64 > iovs[w[1]].buf as u64);
        if overlaps {
            let first = order.iter().copied().min().expect("overlap needs two buffers");
            let iov = iovs[first];
            return Ok(vec![std::io::IoSliceMut::new(self.slice_mut(iov.buf, iov.len)?)]);
        }
        // Carve the sorted, disjoint ranges out of memory front to back.
        let mut carved: Vec<(usize, &mut [u8])> = Vec::with_capacity(order.len());
        let mut rest: &mut [u8] = self.bytes;
        let mut consumed = 0usize;
        for &i in &order {
            let start = iovs[i].buf as usize - consumed;
            let (_, tail) = rest.split_at_mut(start);
            let (buf, tail) = tail.split_at_mut(iovs[i].len as usize);
            carved.push((i, buf));
            consumed += start + iovs[i].len as usize;
            rest = tail;
        }
        carved.sort_by_key(|(i, _)| *i);
        Ok(carved.into_iter().map(|(_, b)| std::io::IoSliceMut::new(b)).collect())
    }
}

#[cold]
fn out_of_bounds(ptr: u32, len: u32, size: usize) -> Trap {
    Trap(format!("out of bounds memory access: {len} bytes at {ptr:#x} (linear memory is {size} bytes)"))
}

/// Total length of `iovs`, saturating (lengths are each bounded by memory already).
pub fn total_len(iovs: &[Iovec]) -> usize {
    iovs.iter().map(|i| i.len as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked_at_the_edges() {
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write(12u32, 0xdead_beef_u32).unwrap();
        assert_eq!(mem.read::<u32>(12).unwrap(), 0xdead_beef);
        assert_eq!(mem.slice(12, 4).unwrap(), &[0xef, 0xbe, 0xad, 0xde]);
        assert!(mem.read::<u32>(13).is_err());
        assert!(mem.read::<u64>(u32::MAX).is_err());
        assert!(mem.slice(16, 0).is_ok());
        assert!(mem.slice(17, 0).is_err());
        assert!(mem.slice(0, u32::MAX).is_err());
    }

    #[test]
    fn cstr_needs_a_nul_inside_memory() {
        let mut bytes = b"abc\0de".to_vec();
        let mem = GuestMemory::new(&mut bytes);
        assert_eq!(mem.read_cstr(0).unwrap(), b"abc");
        assert_eq!(mem.read_cstr(3).unwrap(), b"");
        assert!(mem.read_cstr(4).is_err());
        assert!(mem.read_cstr(100).is_err());
    }

    #[test]
    fn iovecs_are_checked_and_scattered_in_order() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        // Two iovecs: [40..44) then [32..36), deliberately out of address order.
        for (i, (buf, len)) in [(40u32, 4u32), (32, 4)].into_iter().enumerate() {
            mem.write(i as u32 * 8, buf).unwrap();
            mem.write(i as u32 * 8 + 4, len).unwrap();
        }
        let iovs = mem.iovecs(0, 2).unwrap();
        {
            let mut slices = mem.io_slices_mut(&iovs).unwrap();
            slices[0].copy_from_slice(b"AAAA");
            slices[1].copy_from_slice(b"BBBB");
        }
        assert_eq!(mem.slice(40, 4).unwrap(), b"AAAA");
        assert_eq!(mem.slice(32, 4).unwrap(), b"BBBB");
        mem.write(4u32, 1000u32).unwrap();
        assert!(mem.iovecs(0, 2).is_err(), "buffer past the end of memory traps");
        assert!(matches!(mem.iovecs(0, MAX_IOVECS + 1), Err(Error::Errno(Errno::Inval))));
    }

    #[test]
    fn overlapping_scatter_buffers_degrade_to_the_first() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        let iovs = [Iovec { buf: 10, len: 8 }, Iovec { buf: 12, len: 8 }];
        let slices = mem.io_slices_mut(&iovs).unwrap();
        assert_eq!(slices.len(), 1);
        assert_eq!(slices[0].len(), 8);
    }
}
