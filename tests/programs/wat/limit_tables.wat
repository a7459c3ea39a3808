;; `wasock -f grow limit_tables.wat STEP LIMIT`: grows two funcref tables by STEP elements
;; in turn until a table.grow fails or LIMIT elements were added; returns the elements added.
(module
  (table $a 0 funcref)
  (table $b 0 funcref)
  (func (export "grow") (param $step i32) (param $limit i32) (result i32)
    (local $total i32)
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $total) (local.get $limit)))
        (br_if $done (i32.eq (table.grow $a (ref.null func) (local.get $step)) (i32.const -1)))
        (local.set $total (i32.add (local.get $total) (local.get $step)))
        (br_if $done (i32.ge_u (local.get $total) (local.get $limit)))
        (br_if $done (i32.eq (table.grow $b (ref.null func) (local.get $step)) (i32.const -1)))
        (local.set $total (i32.add (local.get $total) (local.get $step)))
        (br $again)))
    (local.get $total)))
