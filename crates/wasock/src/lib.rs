//! wasock: a WebAssembly runtime that gives wasm programs real Berkeley sockets.
//!
//! It runs two kinds of programs on wasmtime, told apart by the binary's header
//! ([`Program`]):
//! - core modules: WASI preview 1, with sockets through WAMR's, WasmEdge's or WASIX's
//!   socket ABI, whichever the module was built for ([`Runtime::socket_abi`]);
//! - components: WASI preview 2, `wasi:sockets` included, through wasmtime-wasi.
//!
//! Both get the same [`Ctx`]: arguments, environment, preopened directories, the fd limit
//! and the network policy (`--addr-pool`, `--allow-resolve`, with the same `--trace` lines),
//! and the same [`RuntimeConfig`] (timeout, memory cap, compiled-code cache). The host logic
//! lives in [`wasock_core`]; this crate binds it to wasmtime and offers a small embedding API.
//!
//! ```no_run
//! use wasock::{CtxBuilder, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(&RuntimeConfig::default())?;
//! let program = runtime.load_file("app.wasm".as_ref())?; // a module or a component
//! let mut cx = CtxBuilder::new();
//! cx.arg("app.wasm").env("GREETING", "hello").preopen_dir("/tmp/data", "/data")?;
//! cx.addr_pool("127.0.0.1/32")?.allow_resolve("localhost")?;
//! let status = runtime.run(&program, cx.build()?)?;
//! println!("guest exited with {status}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bind;
mod cache;
mod component;
mod limits;
mod option;
mod prepare;
mod pthread;
mod run;
mod threads;

pub use bind::{MODULES, Unlinked};
pub use limits::DEFAULT_MAX_TABLE_ELEMENTS;
pub use option::parse_number;
pub use run::{DEFAULT_MAX_THREADS, Error, Program, Runtime, RuntimeConfig, format_val};
pub use wasmtime::component::Component;
pub use wasmtime::{Module, Val};
pub use wasock_core::policy::{AddrPool, Cidr, Policy, PolicyError, ResolveAllowList, ResolvePattern};
pub use wasock_core::socket_abi::{Detected, MixedAbis, SocketAbi};
pub use wasock_core::{Ctx, CtxBuilder, Exit, Trap};
