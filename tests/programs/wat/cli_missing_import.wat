;; Imports a function no runtime provides. `_start` never calls it and prints a line;
;; the export `call_missing` calls it, which must trap with a message naming the import.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasock_test" "not_provided_anywhere" (func $missing (param i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: { buf = 16, len = 23 }, text at 16.
  (data (i32.const 0) "\10\00\00\00\17\00\00\00")
  (data (i32.const 16) "ran without calling it\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "call_missing") (result i32)
    (call $missing (i32.const 1))))
