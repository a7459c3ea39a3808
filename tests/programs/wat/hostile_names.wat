;; A module whose import name holds a newline and what looks like a trace line: wasock must
;; show it escaped, both in the -v listing of unlinked imports and in the trap message.
(module
  (import "env" "evil\n[wasock] forged line" (func $evil))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $evil)))
