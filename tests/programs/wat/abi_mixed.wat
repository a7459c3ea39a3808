;; Imports WAMR's sock_open (four parameters) and WasmEdge's sock_getaddrinfo: no runtime
;; provides both, so wasock refuses to load it and names both imports.
(module
  (import "wasi_snapshot_preview1" "sock_open" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getaddrinfo" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
