;; The component call benchmark (issue 5): a string and a list of records cross the boundary in
;; both directions through the canonical ABI.
;;
;;   record point { x: f64, y: f64, label: string }
;;   echo-string: func(s: string) -> string
;;   echo-records: func(l: list<point>) -> list<point>
;;   sum-records: func(l: list<point>) -> f64      (the sum of x + y + byte length of label)
;;
;; The host lowers every argument into memory obtained from `cabi_realloc`, a bump allocator over
;; the heap that starts at 1024 (it never frees; each function's `post-return` resets it, once the
;; host has lifted the results). The echo functions return the argument itself: a (ptr, len) pair
;; written to the return area at 16, pointing at the bytes the host just wrote, which the host then
;; lifts (and checks) again. `sum-records` reads every record (24 bytes: x at 0, y at 8, label ptr
;; at 16 and len at 20) so that the guest touches the data.
(component $bench
  (type $point' (record (field "x" f64) (field "y" f64) (field "label" string)))
  (export $point "point" (type $point'))
  (type $points (list $point))

  (core module $main
    (memory (export "memory") 1)
    ;; The next free byte of the heap.
    (global $next (mut i32) (i32.const 1024))

    ;; realloc(old, old-size, align, size): a fresh block of `size` bytes aligned to `align` (a
    ;; power of two), holding the first min(old-size, size) bytes of `old` when `old` is not 0.
    ;; Grows memory as needed; traps when the block cannot fit in 4 GiB or memory cannot grow.
    (func $realloc (export "cabi_realloc") (param $old i32) (param $old-size i32)
        (param $align i32) (param $size i32) (result i32)
      (local $ptr i64)
      (local $end i64)
      (local $pages i64)
      (local.set $ptr
        (i64.and
          (i64.add (i64.extend_i32_u (global.get $next))
            (i64.extend_i32_u (i32.sub (local.get $align) (i32.const 1))))
          (i64.sub (i64.const 0) (i64.extend_i32_u (local.get $align)))))
      (local.set $end (i64.add (local.get $ptr) (i64.extend_i32_u (local.get $size))))
      (if (i64.gt_u (local.get $end) (i64.const 0xffff_ffff)) (then unreachable))
      (local.set $pages (i64.shr_u (i64.add (local.get $end) (i64.const 0xffff)) (i64.const 16)))
      (if (i64.gt_u (local.get $pages) (i64.extend_i32_u (memory.size)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.wrap_i64
                    (i64.sub (local.get $pages) (i64.extend_i32_u (memory.size)))))
                (i32.const -1))
            (then unreachable))))
      (if (local.get $old)
        (then
          (memory.copy (i32.wrap_i64 (local.get $ptr)) (local.get $old)
            (select (local.get $old-size) (local.get $size)
              (i32.lt_u (local.get $old-size) (local.get $size))))))
      (global.set $next (i32.wrap_i64 (local.get $end)))
      (i32.wrap_i64 (local.get $ptr)))

    ;; (ptr, len) -> the return area at 16 holding the same (ptr, len).
    (func $echo (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 16) (local.get $ptr))
      (i32.store offset=4 (i32.const 16) (local.get $len))
      (i32.const 16))
    (func (export "echo-string") (param i32 i32) (result i32)
      (call $echo (local.get 0) (local.get 1)))
    (func (export "echo-records") (param i32 i32) (result i32)
      (call $echo (local.get 0) (local.get 1)))

    ;; The sum over the list at (ptr, len) of x + y + label length.
    (func (export "sum-records") (param $ptr i32) (param $len i32) (result f64)
      (local $end i32)
      (local $sum f64)
      (local.set $end (i32.add (local.get $ptr) (i32.mul (local.get $len) (i32.const 24))))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
          (local.set $sum
            (f64.add (local.get $sum)
              (f64.add
                (f64.add (f64.load (local.get $ptr)) (f64.load offset=8 (local.get $ptr)))
                (f64.convert_i32_u (i32.load offset=20 (local.get $ptr))))))
          (local.set $ptr (i32.add (local.get $ptr) (i32.const 24)))
          (br $next)))
      (local.get $sum))

    ;; post-return: the host has lifted the results; everything allocated since is garbage.
    (func (export "reset") (param i32)
      (global.set $next (i32.const 1024)))
    (func (export "reset-f64") (param f64)
      (global.set $next (i32.const 1024))))

  (core instance $m (instantiate $main))

  (func (export "echo-string") (param "s" string) (result string)
    (canon lift (core func $m "echo-string")
      (memory (core memory $m "memory")) (realloc (core func $m "cabi_realloc"))
      string-encoding=utf8 (post-return (core func $m "reset"))))
  (func (export "echo-records") (param "l" $points) (result $points)
    (canon lift (core func $m "echo-records")
      (memory (core memory $m "memory")) (realloc (core func $m "cabi_realloc"))
      string-encoding=utf8 (post-return (core func $m "reset"))))
  (func (export "sum-records") (param "l" $points) (result f64)
    (canon lift (core func $m "sum-records")
      (memory (core memory $m "memory")) (realloc (core func $m "cabi_realloc"))
      string-encoding=utf8 (post-return (core func $m "reset-f64")))))
