//! The table of every host function, for engine bindings to iterate.
//!
//! `for_each_import!(m)` calls the macro `m` with one line per import of module
//! `wasi_snapshot_preview1`: `name(arg: type, ...) = path;`. Every function has the shape
//! `fn(&Ctx, &mut GuestMemory, args...) -> Result<()>`; a u32 argument is a wasm i32, a u64
//! argument a wasm i64, and the wasm result is the errno (0 on success). `proc_exit`, which
//! returns nothing, is not in the table. `for_each_wamr_import!` lists WAMR's socket extension
//! (same module, same shape), and `for_each_unstable_override!` the functions whose
//! `wasi_unstable` (snapshot 0) version differs; the others are shared by both modules.

/// Calls `$m!` with every `wasi_snapshot_preview1` import. See the module docs.
#[macro_export]
macro_rules! for_each_import {
    ($m:ident) => {
        $m! {
            args_get(argv: u32, argv_buf: u32) = $crate::p1::args_env::args_get;
            args_sizes_get(argc: u32, argv_buf_size: u32) = $crate::p1::args_env::args_sizes_get;
            environ_get(environ: u32, environ_buf: u32) = $crate::p1::args_env::environ_get;
            environ_sizes_get(count: u32, buf_size: u32) = $crate::p1::args_env::environ_sizes_get;
            clock_res_get(id: u32, out: u32) = $crate::p1::clock::clock_res_get;
            clock_time_get(id: u32, precision: u64, out: u32) = $crate::p1::clock::clock_time_get;
            fd_advise(fd: u32, offset: u64, len: u64, advice: u32) = $crate::p1::fd::fd_advise;
            fd_allocate(fd: u32, offset: u64, len: u64) = $crate::p1::fd::fd_allocate;
            fd_close(fd: u32) = $crate::p1::fd::fd_close;
            fd_datasync(fd: u32) = $crate::p1::fd::fd_datasync;
            fd_fdstat_get(fd: u32, out: u32) = $crate::p1::fd::fd_fdstat_get;
            fd_fdstat_set_flags(fd: u32, flags: u32) = $crate::p1::fd::fd_fdstat_set_flags;
            fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) = $crate::p1::fd::fd_fdstat_set_rights;
            fd_filestat_get(fd: u32, out: u32) = $crate::p1::fd::fd_filestat_get;
            fd_filestat_set_size(fd: u32, size: u64) = $crate::p1::fd::fd_filestat_set_size;
            fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32) = $crate::p1::fd::fd_filestat_set_times;
            fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32) = $crate::p1::fd::fd_pread;
            fd_prestat_get(fd: u32, out: u32) = $crate::p1::fd::fd_prestat_get;
            fd_prestat_dir_name(fd: u32, path: u32, path_len: u32) = $crate::p1::fd::fd_prestat_dir_name;
            fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32) = $crate::p1::fd::fd_pwrite;
            fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32) = $crate::p1::fd::fd_read;
            fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32) = $crate::p1::fd::fd_readdir;
            fd_renumber(fd: u32, to: u32) = $crate::p1::fd::fd_renumber;
            fd_seek(fd: u32, offset: u64, whence: u32, newoffset: u32) = $crate::p1::fd::fd_seek;
            fd_sync(fd: u32) = $crate::p1::fd::fd_sync;
            fd_tell(fd: u32, out: u32) = $crate::p1::fd::fd_tell;
            fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32) = $crate::p1::fd::fd_write;
            path_create_directory(fd: u32, path: u32, path_len: u32) = $crate::p1::path::path_create_directory;
            path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, out: u32) = $crate::p1::path::path_filestat_get;
            path_filestat_set_times(fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst_flags: u32) = $crate::p1::path::path_filestat_set_times;
            path_link(old_fd: u32, old_flags: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32, new_path_len: u32) = $crate::p1::path::path_link;
            path_open(fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32, rights_base: u64, rights_inheriting: u64, fdflags: u32, opened_fd: u32) = $crate::p1::path::path_open;
            path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32) = $crate::p1::path::path_readlink;
            path_remove_directory(fd: u32, path: u32, path_len: u32) = $crate::p1::path::path_remove_directory;
            path_rename(fd: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32, new_path_len: u32) = $crate::p1::path::path_rename;
            path_symlink(old_path: u32, old_path_len: u32, fd: u32, new_path: u32, new_path_len: u32) = $crate::p1::path::path_symlink;
            path_unlink_file(fd: u32, path: u32, path_len: u32) = $crate::p1::path::path_unlink_file;
            poll_oneoff(subs: u32, events: u32, nsubscriptions: u32, nevents: u32) = $crate::p1::poll::poll_oneoff;
            proc_raise(sig: u32) = $crate::p1::proc::proc_raise;
            sched_yield() = $crate::p1::proc::sched_yield;
            random_get(buf: u32, buf_len: u32) = $crate::p1::random::random_get;
            sock_accept(fd: u32, flags: u32, new_fd: u32) = $crate::p1::sock::sock_accept;
            sock_recv(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32) = $crate::p1::sock::sock_recv;
            sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32) = $crate::p1::sock::sock_send;
            sock_shutdown(fd: u32, how: u32) = $crate::p1::sock::sock_shutdown;
        }
    };
}

/// Calls `$m!` with the `wasi_unstable` functions whose layout differs from preview 1
/// (snapshot 0 orders `whence` differently, has a 56-byte filestat and 56-byte subscriptions).
#[macro_export]
macro_rules! for_each_unstable_override {
    ($m:ident) => {
        $m! {
            fd_seek(fd: u32, offset: u64, whence: u32, newoffset: u32) = $crate::p1::unstable::fd_seek;
            fd_filestat_get(fd: u32, out: u32) = $crate::p1::unstable::fd_filestat_get;
            path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, out: u32) = $crate::p1::unstable::path_filestat_get;
            poll_oneoff(subs: u32, events: u32, nsubscriptions: u32, nevents: u32) = $crate::p1::unstable::poll_oneoff;
        }
    };
}
