;; Exports for `wasock -f NAME file.wat ARGS...`: i32 arithmetic on the arguments.
(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "answer") (result i32)
    (i32.const 42))
  (func (export "negate") (param i32) (result i32)
    (i32.sub (i32.const 0) (local.get 0))))
