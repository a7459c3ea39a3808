//! The few OS calls that need `unsafe`. Everything else goes through std, cap-std, socket2
//! and rustix.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(not(unix))]
compile_error!("wasock runs on Unix hosts only (it relies on poll(2) and BSD sockets)");
