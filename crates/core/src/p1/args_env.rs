//! args_get, args_sizes_get, environ_get, environ_sizes_get.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::{self, GuestMemory};

/// Writes an array of pointers at `ptrs` and the NUL-terminated strings at `buf`. A slot or
/// a string past the 4 GiB address space traps, as any access outside memory does; the last
/// NUL may be the very last byte of a 4 GiB memory.
fn write_strings(mem: &mut GuestMemory<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<()> {
    let mut used = 0usize;
    for (i, s) in strings.iter().enumerate() {
        let at = memory::offset(buf, used)?;
        mem.write(memory::element(ptrs, i, 4)?, at)?;
        mem.write_bytes(at, s)?;
        mem.write(memory::offset(at, s.len())?, 0u8)?;
        used += s.len() + 1;
    }
    Ok(())
}

/// Writes the count and the total size (with NULs) of `strings`.
fn write_sizes(mem: &mut GuestMemory<'_>, strings: &[Vec<u8>], count: u32, size: u32) -> Result<()> {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    mem.write(count, strings.len() as u32)?;
    mem.write(size, u32::try_from(total).map_err(|_| Errno::TooBig)?)?;
    Ok(())
}

/// `args_get`: the arguments, argv[0] first.
pub fn args_get(cx: &Ctx, mem: &mut GuestMemory<'_>, argv: u32, argv_buf: u32) -> Result<()> {
    write_strings(mem, &cx.args, argv, argv_buf)
}

/// `args_sizes_get`: argc and the size of the argument buffer.
pub fn args_sizes_get(cx: &Ctx, mem: &mut GuestMemory<'_>, argc: u32, buf_size: u32) -> Result<()> {
    write_sizes(mem, &cx.args, argc, buf_size)
}

/// `environ_get`: `KEY=VALUE` strings.
pub fn environ_get(cx: &Ctx, mem: &mut GuestMemory<'_>, environ: u32, environ_buf: u32) -> Result<()> {
    write_strings(mem, &cx.env, environ, environ_buf)
}

/// `environ_sizes_get`: the number of variables and the size of their buffer.
pub fn environ_sizes_get(cx: &Ctx, mem: &mut GuestMemory<'_>, count: u32, buf_size: u32) -> Result<()> {
    write_sizes(mem, &cx.env, count, buf_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CtxBuilder;
    use crate::errno::Error;
    use crate::sys::LazyRegion;

    #[test]
    fn args_and_env_round_trip() {
        let cx = CtxBuilder::new().arg("a.wasm").arg("x y").env("K", "V=1").build().unwrap();
        let mut bytes = vec![0u8; 128];
        let mut mem = GuestMemory::new(&mut bytes);
        args_sizes_get(&cx, &mut mem, 0, 4).unwrap();
        assert_eq!((mem.read::<u32>(0).unwrap(), mem.read::<u32>(4).unwrap()), (2, 11));
        args_get(&cx, &mut mem, 8, 64).unwrap();
        assert_eq!(mem.read::<u32>(8).unwrap(), 64);
        assert_eq!(mem.read::<u32>(12).unwrap(), 71);
        assert_eq!(mem.read_bytes(64, 11).unwrap(), b"a.wasm\0x y\0");
        environ_get(&cx, &mut mem, 16, 100).unwrap();
        assert_eq!(mem.read_cstr(100, 64).unwrap().unwrap(), b"K=V=1");
        // A buffer running off the end of memory traps, it does not panic.
        assert!(args_get(&cx, &mut mem, 8, 120).is_err());
        assert!(args_get(&cx, &mut mem, u32::MAX - 2, 64).is_err());
    }

    #[test]
    fn r10_strings_ending_on_the_last_byte_of_4_gib_trap_instead_of_wrapping() {
        // Issue 10, item 12: once "a.wasm\0" ended on the last byte of a 4 GiB memory, the
        // next string's address was computed as end + 1: a panic in debug builds, and in
        // release builds "x y\0" went to address 0.
        const FOUR_GIB: usize = 1 << 32;
        let cx = CtxBuilder::new().arg("a.wasm").arg("x y").env("K", "V").build().unwrap();
        let mut region = LazyRegion::new(FOUR_GIB).unwrap();
        for shared in [false, true] {
            region.reset().unwrap();
            let mut mem = region.memory(FOUR_GIB, shared);
            let buf = u32::MAX - 6;
            let r = args_get(&cx, &mut mem, 0x100, buf);
            assert!(matches!(r, Err(Error::Trap(_))), "shared {shared}: {r:?}");
            assert_eq!(mem.read_bytes(buf, 7).unwrap(), b"a.wasm\0");
            assert_eq!(mem.read::<u32>(0x100).unwrap(), buf);
            assert_eq!(mem.read_bytes(0, 8).unwrap(), [0; 8], "shared {shared}: nothing wrapped to 0");
            // A last string whose NUL is the last byte of memory is fine.
            environ_get(&cx, &mut mem, 0x200, u32::MAX - 3).unwrap();
            assert_eq!(mem.read::<u32>(0x200).unwrap(), u32::MAX - 3);
            assert_eq!(mem.read_cstr(u32::MAX - 3, 8).unwrap().unwrap(), b"K=V");
            // The pointer array may end on the last byte too, and no further.
            environ_get(&cx, &mut mem, u32::MAX - 3, 0x300).unwrap();
            assert_eq!(mem.read::<u32>(u32::MAX - 3).unwrap(), 0x300);
            assert!(matches!(args_get(&cx, &mut mem, u32::MAX - 3, 0x300), Err(Error::Trap(_))));
        }
        // One page less: the same call is simply out of bounds.
        let mut mem = region.memory(FOUR_GIB - 65536, false);
        assert!(matches!(args_get(&cx, &mut mem, 0x100, u32::MAX - 6 - 65536), Err(Error::Trap(_))));
    }
}
