;; Call-overhead benchmark.
;; - `empty`: host-to-Wasm calls through a typed function (nothing inside).
;; - `add`: the same with two parameters and a result.
;; - `call_host n`: Wasm-to-host calls, `n` calls (n >= 1) of the empty host import `host.empty`.
(module
  (import "host" "empty" (func $host_empty))
  (func (export "empty"))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "call_host") (param $n i32)
    (loop $again
      (call $host_empty)
      (br_if $again
        (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
