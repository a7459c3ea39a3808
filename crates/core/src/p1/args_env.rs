//! args_get, args_sizes_get, environ_get, environ_sizes_get.

use crate::ctx::Ctx;
use crate::errno::{Errno, Result};
use crate::memory::GuestMemory;

/// Writes an array of pointers at `ptrs` and the NUL-terminated strings at `buf`.
fn write_strings(mem: &mut GuestMemory<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<()> {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        let slot = ptrs.checked_add(i as u32 * 4).ok_or(Errno::Overflow)?;
        mem.write(slot, at)?;
        mem.write_bytes(at, s)?;
        let end = at.checked_add(s.len() as u32).ok_or(Errno::Overflow)?;
        mem.write(end, 0u8)?;
        at = end + 1;
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
}
