;; A lib-pthread module (WAMR's env.pthread_* imports, its own shared memory). Its export
;; start_at(index) calls pthread_create with function table index `index` as the start
;; routine: index 1 is a function of the wrong type, 2 is past the table's end, 3 is right.
;; A bad one must trap the new thread with a message (ending the program), never the host.
(module
  (import "env" "pthread_create" (func $create (param i32 i32 i32 i32) (result i32)))
  (import "env" "pthread_join" (func $join (param i32 i32) (result i32)))
  (memory (export "memory") 2 4 shared)
  (global $sp (mut i32) (i32.const 65536))
  (table 4 funcref)
  (elem (i32.const 1) $wrong_type)
  (elem (i32.const 3) $returns_arg_plus_one)
  (func $wrong_type (param i64))
  (func $returns_arg_plus_one (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "start_at") (param $index i32) (result i32)
    (drop (call $create (i32.const 16) (i32.const 0) (local.get $index) (i32.const 41)))
    (drop (call $join (i32.load (i32.const 16)) (i32.const 20)))
    (i32.load (i32.const 20))))
