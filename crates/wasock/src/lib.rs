//! wasock: a WebAssembly runtime that gives wasm programs real Berkeley sockets.
//!
//! It runs two kinds of programs on wasmtime, told apart by the binary's header
//! ([`Program`]):
//! - core modules: WASI preview 1, with sockets through WAMR's, WasmEdge's or WASIX's
//!   socket ABI, whichever the module was built for ([`Runtime::socket_abi`]);
//! - components: WASI preview 2, `wasi:sockets` included, through wasmtime-wasi.
//!
//! Both get the same [`Ctx`]: arguments, environment, preopened directories, the fd limit
//! and the network policy ([`policy`]: `--addr-pool`, `--allow-resolve`, `--allow-net`,
//! `--deny-net`, `--allow-peer`, with the same `--trace` lines and decision log),
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
//! cx.allow_net("tcp:connect:example.com:443")?.deny_net("127.0.0.1:22")?;
//! // Every decision, allowed or denied (what --net-log writes as JSON lines).
//! cx.on_decision(std::sync::Arc::new(|event: &wasock::NetEvent<'_>| {
//!     if !event.allowed {
//!         eprintln!("denied: {} {:?} {:?}", event.call, event.addr, event.flag_to_allow);
//!     }
//! }));
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
pub use wasock_core::policy;
pub use wasock_core::policy::{
    AddrPool, Cidr, DecisionHook, NetEvent, Policy, PolicyError, ResolveAllowList, ResolvePattern, Rule,
};
pub use wasock_core::socket_abi::{Detected, MixedAbis, SocketAbi};
pub use wasock_core::{Ctx, CtxBuilder, Exit, Trap};
