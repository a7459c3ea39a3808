//! `std::net`-shaped TCP/UDP sockets and name resolution for Rust programs compiled to
//! `wasm32-wasip1` and run on wasock or WAMR's `iwasm`.
//!
//! WASI preview 1 has no way to create a socket; WAMR adds one as extra `sock_*` imports of
//! module `wasi_snapshot_preview1` (the "socket extension"), which this crate calls directly.
//! The host decides what a program may reach: `--addr-pool=CIDR` for bind/connect/send_to
//! (EACCES, i.e. `PermissionDenied`, outside it) and `--allow-resolve=NAME` for lookups.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use wasock_net::TcpStream;
//!
//! // `localhost` is resolved by the runtime: run with --allow-resolve=localhost.
//! let mut stream = TcpStream::connect("localhost:8080")?;
//! stream.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! | Type | Like |
//! |---|---|
//! | [`TcpListener`], [`TcpStream`], [`UdpSocket`] | `std::net`'s types |
//! | [`ToSocketAddrs`] | `std::net::ToSocketAddrs`, resolving names with [`lookup_host`] |
//! | [`Socket`] | socket2's `Socket`: one method per import, every option |
//!
//! Errors are `io::Error::from_raw_os_error(errno)`: on wasm32-wasip1 std's OS error numbers
//! are the WASI errnos, so `kind()` works (`ConnectionRefused`, `WouldBlock`, ...).
//!
//! There is no `try_clone` (WASI preview 1 has no `dup`) and no `take_error` (WAMR has no
//! SO_ERROR).
//!
//! Only `wasm32-wasip1` (and `wasm32-wasip1-threads`) programs can use it. On other targets
//! the crate compiles, so that its unit tests run on the build machine, but every socket call
//! fails with `io::ErrorKind::Unsupported`.

#![warn(missing_docs)]

mod addr;
mod resolve;
mod socket;
mod sys;
mod tcp;
mod udp;

pub use resolve::{LookupHost, ToSocketAddrs, lookup_host};
pub use socket::{Domain, Socket, Type};
pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
