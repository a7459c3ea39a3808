//! Helpers shared by the guest programs in `src/bin`: raw WASI imports (for what std does not
//! expose) and errno formatting that matches the C programs' output.

use std::io;

/// Raw `wasi_snapshot_preview1` imports that std has no safe wrapper for.
pub mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn clock_res_get(id: u32, out: *mut u64) -> i32;
        pub fn random_get(buf: *mut u8, len: usize) -> i32;
        pub fn fd_pread(fd: u32, iovs: *const Iovec, iovs_len: usize, offset: u64, nread: *mut usize) -> i32;
        pub fn fd_pwrite(
            fd: u32,
            iovs: *const Iovec,
            iovs_len: usize,
            offset: u64,
            nwritten: *mut usize,
        ) -> i32;
        pub fn fd_prestat_get(fd: u32, out: *mut [u32; 2]) -> i32;
        pub fn fd_prestat_dir_name(fd: u32, path: *mut u8, path_len: usize) -> i32;
        pub fn path_filestat_set_times(
            fd: u32,
            flags: u32,
            path: *const u8,
            path_len: usize,
            atim: u64,
            mtim: u64,
            fst_flags: u32,
        ) -> i32;
    }

    /// A WASI iovec / ciovec.
    #[repr(C)]
    pub struct Iovec {
        pub buf: *const u8,
        pub len: usize,
    }

    pub const FSTFLAGS_ATIM: u32 = 1;
    pub const FSTFLAGS_MTIM: u32 = 4;
}

/// The WASI errno of an I/O error (on wasm32-wasip1 `raw_os_error` is the WASI number).
pub fn errno(err: &io::Error) -> i32 {
    err.raw_os_error().unwrap_or(-1)
}

/// `pread` through the raw import: bytes read or the errno.
pub fn pread(fd: u32, buf: &mut [u8], offset: u64) -> Result<usize, i32> {
    let iov = raw::Iovec { buf: buf.as_mut_ptr(), len: buf.len() };
    let mut done = 0usize;
    // SAFETY: the iovec describes `buf`, which lives across the call; `done` is a valid out pointer.
    let err = unsafe { raw::fd_pread(fd, &iov, 1, offset, &mut done) };
    if err == 0 { Ok(done) } else { Err(err) }
}

/// `pwrite` through the raw import: bytes written or the errno.
pub fn pwrite(fd: u32, buf: &[u8], offset: u64) -> Result<usize, i32> {
    let iov = raw::Iovec { buf: buf.as_ptr(), len: buf.len() };
    let mut done = 0usize;
    // SAFETY: the iovec describes `buf`, which lives across the call; `done` is a valid out pointer.
    let err = unsafe { raw::fd_pwrite(fd, &iov, 1, offset, &mut done) };
    if err == 0 { Ok(done) } else { Err(err) }
}

/// The preopened directory fd whose guest name is `name`.
pub fn preopen_fd(name: &str) -> Option<u32> {
    for fd in 3..64u32 {
        let mut prestat = [0u32; 2];
        // SAFETY: `prestat` is 8 writable bytes, the size of a prestat.
        if unsafe { raw::fd_prestat_get(fd, &mut prestat) } != 0 {
            continue;
        }
        let mut buf = vec![0u8; prestat[1] as usize];
        // SAFETY: `buf` has exactly the length passed.
        if unsafe { raw::fd_prestat_dir_name(fd, buf.as_mut_ptr(), buf.len()) } == 0 && buf == name.as_bytes()
        {
            return Some(fd);
        }
    }
    None
}

/// Prints "label=0" or "label=-1 errno=N", like the C programs' `report`.
pub fn report<T>(label: &str, result: io::Result<T>) {
    match result {
        Ok(_) => println!("{label}=0"),
        Err(err) => println!("{label}=-1 errno={}", errno(&err)),
    }
}
