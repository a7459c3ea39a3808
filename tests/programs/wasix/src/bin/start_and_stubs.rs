//! start_and_stubs: the non-network `wasix_32v1` functions a wasix-libc program calls at
//! start-up and exit, and two that wasock does not provide. Prints `signals=N`,
//! `signals_get_errno=N`, `parallelism_ok=0|1`, `slept_ms=N`, `sock_pair_errno=N`,
//! `fd_dup_errno=N` and `unix_errno=N`, then ends through `proc_exit2(3)`; a line
//! `after_exit` would mean that `proc_exit2` returned.

use std::time::Instant;

use wasock_wasix_programs::{errno, wasix};

fn main() {
    // SAFETY (every call below): the pointers passed point into live locals.
    unsafe {
        match wasix::proc_signals_sizes_get() {
            Ok(n) => println!("signals={n}"),
            Err(e) => println!("signals_errno={}", errno(e)),
        }
        let mut buf = [0u8; 64];
        match wasix::proc_signals_get(buf.as_mut_ptr()) {
            Ok(()) => println!("signals_get_errno=0"),
            Err(e) => println!("signals_get_errno={}", errno(e)),
        }
        wasix::callback_signal("__wasm_signal");
        let parallelism = wasix::thread_parallelism().unwrap_or(0);
        println!("parallelism_ok={}", (parallelism >= 1) as u8);
        let start = Instant::now();
        wasix::thread_sleep(30_000_000).expect("thread_sleep");
        println!("slept_ms={}", start.elapsed().as_millis().min(999));
        match wasix::sock_pair(
            wasix::ADDRESS_FAMILY_INET4,
            wasix::SOCK_TYPE_SOCKET_STREAM,
            wasix::SOCK_PROTO_TCP,
        ) {
            Ok(_) => println!("sock_pair_errno=0"),
            Err(e) => println!("sock_pair_errno={}", errno(e)),
        }
        match wasix::fd_dup(1) {
            Ok(_) => println!("fd_dup_errno=0"),
            Err(e) => println!("fd_dup_errno={}", errno(e)),
        }
        match wasix::sock_open(
            wasix::ADDRESS_FAMILY_UNIX,
            wasix::SOCK_TYPE_SOCKET_STREAM,
            wasix::SOCK_PROTO_IP,
        ) {
            Ok(_) => println!("unix_errno=0"),
            Err(e) => println!("unix_errno={}", errno(e)),
        }
        wasix::proc_exit2(3);
    }
    println!("after_exit");
}
