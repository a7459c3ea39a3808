//! WASI preview 1 (`wasi_snapshot_preview1`), one file per function family.

pub mod args_env;
pub mod clock;
pub mod fd;
pub(crate) mod fs_util;
pub mod path;
pub mod poll;
pub mod proc;
pub mod random;
pub mod sock;
pub mod unstable;
