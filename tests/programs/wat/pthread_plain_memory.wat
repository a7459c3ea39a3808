;; A lib-pthread module whose memory is not shared (linked without --shared-memory): its
;; mutexes work in the one thread it has (locks: init, lock, lock again -> EDEADLK, 16),
;; but no thread can share a plain memory, so pthread_create (creates) traps with a message.
(module
  (import "env" "pthread_create" (func $create (param i32 i32 i32 i32) (result i32)))
  (import "env" "pthread_mutex_init" (func $init (param i32 i32) (result i32)))
  (import "env" "pthread_mutex_lock" (func $lock (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 65536))
  (table 2 funcref)
  (func (export "locks") (result i32)
    (drop (call $init (i32.const 16) (i32.const 0)))
    (drop (call $lock (i32.const 16)))
    (call $lock (i32.const 16)))
  (func (export "creates") (result i32)
    (call $create (i32.const 16) (i32.const 0) (i32.const 1) (i32.const 0))))
