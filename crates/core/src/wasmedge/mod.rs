//! WasmEdge's socket ABI (docs/wasmedge-socket-abi.md).

/// Calls `$m!` with every WasmEdge import of module `wasi_snapshot_preview1`, in the shape of
/// [`for_each_import!`](crate::for_each_import). V1 bodies have the plain names and V2 bodies
/// the `_v2` names; the binding links a plain-name import whose type only the `_v2` body has
/// to that body, as WasmEdge does. Registered after (shadowing) the preview 1 functions.
#[macro_export]
macro_rules! for_each_wasmedge_import {
    ($m:ident) => {
        $m! {}
    };
}
