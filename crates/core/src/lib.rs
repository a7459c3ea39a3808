//! The engine-agnostic host side of wasock: WASI preview 1 and the socket ABIs of WAMR
//! ([`wamr`]), WasmEdge ([`wasmedge`]) and WASIX ([`wasix`]), all over one socket layer and
//! one policy.
//!
//! Nothing here knows about a wasm engine. Each host function takes the instance's [`Ctx`],
//! its linear memory as a [`GuestMemory`] and the wasm arguments, and returns
//! `Result<()>`: success, an [`Errno`] for the guest, a [`Trap`], or an [`Exit`]. An engine
//! binding asks [`socket_abi::detect`] which ABI a module uses and iterates
//! [`for_each_import!`] and that ABI's table ([`for_each_wamr_import!`],
//! [`for_each_wasmedge_import!`], [`for_each_wasix_import!`]) to register them.
//!
//! ```
//! use wasock_core::{CtxBuilder, GuestMemory};
//! let cx = CtxBuilder::new().arg("app.wasm").arg("hello").build().unwrap();
//! let mut bytes = vec![0u8; 64];
//! let mut mem = GuestMemory::new(&mut bytes);
//! wasock_core::p1::args_env::args_sizes_get(&cx, &mut mem, 0, 4).unwrap();
//! assert_eq!(mem.read::<u32>(0).unwrap(), 2);
//! assert_eq!(mem.read::<u32>(4).unwrap(), 15); // "app.wasm\0hello\0"
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod abi;
pub mod ctx;
pub mod errno;
pub mod escape;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod imports;
pub mod interrupt;
pub mod memory;
pub mod net;
pub mod p1;
pub mod policy;
pub mod pthread;
pub(crate) mod sock;
pub mod socket_abi;
pub mod stream;
pub mod sys;
pub mod table;
pub mod wamr;
pub mod wasix;
pub mod wasmedge;

pub use ctx::{Ctx, CtxBuilder};
pub use errno::{Errno, Error, Exit, Result, Trap};
pub use memory::GuestMemory;
