//! WASIX's socket subset, module `wasix_32v1` (docs/wasix-socket-abi.md).

/// Calls `$m!` with every import of module `wasix_32v1` wasock provides, in the shape of
/// [`for_each_import!`](crate::for_each_import). Other `wasix_32v1` functions are ENOSYS.
#[macro_export]
macro_rules! for_each_wasix_import {
    ($m:ident) => {
        $m! {}
    };
}
