;; The guest of the `hello` example. It imports one host function, `host.log`, and exports
;; `run(n)`, which sums the squares 1² + 2² + ... + n², logs every partial sum through the host,
;; and returns the total.
(module $hello
  (import "host" "log" (func $log (param i32 i32)))
  (func $run (export "run") (param $n i32) (result i32)
    (local $i i32)
    (local $sum i32)
    (block $done
      (loop $next
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
        (local.set $sum
          (i32.add (local.get $sum) (i32.mul (local.get $i) (local.get $i))))
        (call $log (local.get $i) (local.get $sum))
        (br $next)))
    (local.get $sum)))
