//! WAMR's socket extension (spec/wamr-socket-abi.md §3). TODO(skeleton): being written.

/// Calls `$m!` with every WAMR `sock_*` import, in the shape of [`for_each_import!`].
#[macro_export]
macro_rules! for_each_wamr_import {
    ($m:ident) => {
        $m! {}
    };
}
