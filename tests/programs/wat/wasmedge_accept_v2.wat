;; A WasmEdge-ABI TCP server that imports `sock_accept` with three parameters (fd, fdflags,
;; *new_fd): WasmEdge's V2 type, which the runtime must pick by type for the plain name.
;; (wasmedge_wasi_socket 0.5 imports the two-parameter V1; tests/all/wasmedge.rs runs both.)
;;
;; Listens on 127.0.0.1 (a port the kernel picks) and prints, one per line:
;;   port=PORT            from sock_getlocaladdr (V1: the type must be 4)
;;   type=4
;;   accept=ERRNO         sock_accept(fd, NONBLOCK, ...): waits for a client (the listener
;;                        blocks), and the accepted socket is non-blocking, so that
;;   recv=ERRNO           sock_recv on it before the client sent anything is EAGAIN (6)
;;   sent=BYTES           "v2\n" sent on the accepted socket with sock_send
(module
  (import "wasi_snapshot_preview1" "sock_open" (func $sock_open (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_bind" (func $sock_bind (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_listen" (func $sock_listen (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_getlocaladdr"
    (func $sock_getlocaladdr (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv"
    (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; 0: the listener's fd; 4: the accepted fd; 8: a byte count.
  ;; 16: a WasiAddress {buf = 32, buf_len = 4}; 32: the address bytes 127.0.0.1.
  ;; 40: the address type out; 44: the port out.
  ;; 64: an iovec for fd_write / sock_send; 72: an iovec for sock_recv into 192..199;
  ;; 80: decimal digits; 120: roflags out; 128: text.
  (data (i32.const 16) "\20\00\00\00\04\00\00\00")
  (data (i32.const 32) "\7f\00\00\01")
  (data (i32.const 128) "port=")
  (data (i32.const 136) "type=")
  (data (i32.const 144) "accept=")
  (data (i32.const 160) "recv=")
  (data (i32.const 168) "sent=")
  (data (i32.const 176) "v2\n")

  ;; Writes `len` bytes at `ptr` to stdout.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 64) (local.get $ptr))
    (i32.store (i32.const 68) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 8))))

  ;; Prints the label of `len` bytes at `label`, `value` in decimal and a newline.
  (func $line (param $label i32) (param $len i32) (param $value i32)
    (local $at i32)
    (call $print (local.get $label) (local.get $len))
    ;; Digits right to left into 80..111, then a newline at 111.
    (i32.store8 (i32.const 111) (i32.const 10))
    (local.set $at (i32.const 111))
    (loop $digit
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $value) (i32.const 10))))
      (local.set $value (i32.div_u (local.get $value) (i32.const 10)))
      (br_if $digit (local.get $value)))
    (call $print (local.get $at) (i32.sub (i32.const 112) (local.get $at))))

  (func (export "_start")
    ;; IPv4 (1), stream (2).
    (if (call $sock_open (i32.const 1) (i32.const 2) (i32.const 0)) (then unreachable))
    (if (call $sock_bind (i32.load (i32.const 0)) (i32.const 16) (i32.const 0)) (then unreachable))
    (if (call $sock_listen (i32.load (i32.const 0)) (i32.const 4)) (then unreachable))
    (if (call $sock_getlocaladdr (i32.load (i32.const 0)) (i32.const 16) (i32.const 40) (i32.const 44))
      (then unreachable))
    (call $line (i32.const 128) (i32.const 5) (i32.load (i32.const 44)))
    (call $line (i32.const 136) (i32.const 5) (i32.load (i32.const 40)))
    ;; fdflags NONBLOCK (4), for the accepted socket.
    (call $line (i32.const 144) (i32.const 7)
      (call $sock_accept (i32.load (i32.const 0)) (i32.const 4) (i32.const 4)))
    (i32.store (i32.const 72) (i32.const 192))
    (i32.store (i32.const 76) (i32.const 8))
    (call $line (i32.const 160) (i32.const 5)
      (call $sock_recv (i32.load (i32.const 4)) (i32.const 72) (i32.const 1) (i32.const 0)
        (i32.const 8) (i32.const 120)))
    (i32.store (i32.const 64) (i32.const 176))
    (i32.store (i32.const 68) (i32.const 3))
    (if (call $sock_send (i32.load (i32.const 4)) (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 8))
      (then unreachable))
    (call $line (i32.const 168) (i32.const 5) (i32.load (i32.const 8)))))
